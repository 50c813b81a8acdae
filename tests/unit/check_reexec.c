/* SPDX-License-Identifier: MIT */
/*
 * check_reexec: the pieces of a re-exec's state, each out and back in
 * field by field: a row (child_save / child_restore, with its restart
 * window and a pending restart as a monotonic deadline), the event ring
 * and its seq (event_save / event_restore), a log ring.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gt/child.h"
#include "gt/childlog.h"
#include "gt/clock.h"
#include "gt/event.h"
#include "gt/gtd.h"
#include "gt/spec.h"
#include "gt/xmalloc.h"

#include "check_unit.h"

/* A restarting row with history comes back the same, its timer armed. */
START_TEST(test_reexec_child_round_trip)
{
	struct gtd		*a = test_gtd_new(), *b = test_gtd_new();
	struct child		*c, *d;
	struct child_saved	 sv, sv2;
	int64_t			 at[3] = { 100, 200, 300 };
	bool			 again;

	c = child_add(a, test_spec("r", SPEC_PERMANENT), xstrdup("{}"));
	ck_assert_ptr_nonnull(c);
	c->restart_count = 4;
	c->incarnation = 7;
	c->last_pid = 4242;
	c->has_exit = true;
	c->last_status = 3 << 8;
	c->ever_ready = true;
	c->restart_at = 1234567;
	c->hist.at = xcalloc(3, sizeof *c->hist.at);
	memcpy(c->hist.at, at, sizeof at);
	c->hist.size = 3;
	c->hist.n = 3;
	c->hist.head = 1;
	c->hist.consecutive = 2;
	c->state = CHILD_RESTARTING;
	child_save(c, &sv);
	sv.deadline = clock_mono_ms() + 60000;	/* as if a timer ran */
	ck_assert_ptr_null(child_save_busy(c));
	d = child_restore(b, test_spec("r", SPEC_PERMANENT), xstrdup("{}"),
	    &sv, &again);
	ck_assert_ptr_nonnull(d);
	ck_assert(!again);
	ck_assert_int_eq(d->state, CHILD_RESTARTING);
	ck_assert(ev_is_active(&d->timer));
	child_save(d, &sv2);
	ck_assert_int_eq(sv2.restart_count, 4);
	ck_assert_int_eq(sv2.incarnation, 7);
	ck_assert_int_eq(sv2.last_pid, 4242);
	ck_assert(sv2.has_exit && sv2.last_status == 3 << 8);
	ck_assert_int_eq(sv2.restart_at, 1234567);
	ck_assert_int_eq(sv2.hist_size, 3);
	ck_assert_int_eq(sv2.hist_head, 1);
	ck_assert_int_eq(sv2.hist_consecutive, 2);
	ck_assert_mem_eq(sv2.hist_at, at, sizeof at);
	/* The deadline is kept (to the ms, give or take the clock). */
	ck_assert_int_le(llabs(sv2.deadline - sv.deadline), 50);
	gtd_free(a);
	gtd_free(b);
}
END_TEST

/* A row with a hook running is not saved: busy says why. */
START_TEST(test_reexec_child_busy)
{
	struct gtd	*g = test_gtd_new();
	struct child	*c;

	c = child_add(g, test_spec("h", SPEC_PERMANENT), xstrdup("{}"));
	c->state = CHILD_TERMINATING;
	c->hook_pid = 99999;
	ck_assert_ptr_nonnull(strstr(child_save_busy(c), "after_terminate"));
	c->hook_pid = -1;
	c->state = CHILD_STOPPED;
	ck_assert_ptr_null(child_save_busy(c));
	gtd_free(g);
}
END_TEST

/* The event ring and its seq survive; bad lines are skipped. */
START_TEST(test_reexec_events_round_trip)
{
	struct events	*a = events_new(EV_DEFAULT);
	struct events	*b = events_new(EV_DEFAULT);
	json_t		*sa, *sb, *ring;
	int		 i;

	for (i = 0; i < 5; i++)
		event_emit(a, EVENT_STOPPED, "x", NULL);
	event_emit(a, EVENT_REEXEC, NULL, json_pack("{s:s}", "version", "v"));
	sa = event_save(a);
	ck_assert_int_eq(json_integer_value(json_object_get(sa, "seq")), 6);
	ring = json_object_get(sa, "ring");
	ck_assert_int_eq(json_array_size(ring), 6);
	json_array_append_new(ring, json_string("not json"));
	json_array_append_new(ring, json_string("{\"event\":\"nope\","
	    "\"seq\":3}"));
	ck_assert_int_eq(event_restore(b, sa), 0);
	ck_assert_int_eq(event_seq(b), 6);
	json_array_remove(ring, 7);
	json_array_remove(ring, 6);
	sb = event_save(b);
	ck_assert(json_equal(sa, sb));
	/* The next event goes on from the seq. */
	event_emit(b, EVENT_STOPPED, "x", NULL);
	ck_assert_int_eq(event_seq(b), 7);
	json_decref(sb);
	sb = json_pack("{s:s}", "seq", "x");
	ck_assert_int_eq(event_restore(b, sb), -1);
	json_decref(sa);
	json_decref(sb);
	events_free(a);
	events_free(b);
}
END_TEST

static void
rx_tail_cb(const struct childlog_line *ln, void *arg)
{
	json_array_append_new(arg, json_pack("[s, s]", ln->stream, ln->text));
}

/* Log lines put back keep their order, stream and the ring's bounds. */
START_TEST(test_reexec_log_lines)
{
	struct gtd	*g = test_gtd_new();
	struct child	*c;
	json_t		*got;
	char		 big[CHILDLOG_LINE_MAX + 2];

	c = child_add(g, test_spec("l", SPEC_PERMANENT), xstrdup("{}"));
	c->log = childlog_new(c, NULL);
	childlog_restore_line(c->log, 1, "stdout", "one");
	childlog_restore_line(c->log, 2, "stderr", "two");
	childlog_restore_line(c->log, 3, "bogus", "three");
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	childlog_restore_line(c->log, 4, "stdout", big);	/* too long */
	got = json_array();
	childlog_tail(c->log, 10, rx_tail_cb, got);
	ck_assert_int_eq(json_array_size(got), 3);
	ck_assert_str_eq(json_string_value(json_array_get(json_array_get(got,
	    0), 1)), "one");
	ck_assert_str_eq(json_string_value(json_array_get(json_array_get(got,
	    1), 0)), "stderr");
	ck_assert_str_eq(json_string_value(json_array_get(json_array_get(got,
	    2), 0)), "output");
	json_decref(got);
	gtd_free(g);
}
END_TEST

Suite *
reexec_suite(void)
{
	Suite	*s = suite_create("reexec");
	TCase	*tc = tcase_create("state");

	tcase_add_test(tc, test_reexec_child_round_trip);
	tcase_add_test(tc, test_reexec_child_busy);
	tcase_add_test(tc, test_reexec_events_round_trip);
	tcase_add_test(tc, test_reexec_log_lines);
	suite_add_tcase(s, tc);
	return (s);
}
