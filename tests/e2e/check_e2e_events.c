/* SPDX-License-Identifier: MIT */
/*
 * check_e2e_events: the event stream.  subscribe gets started, ready,
 * exited, restarting, stopped, deleted, gave_up and hook_done with a seq
 * that grows by one; the events and names filters; since replays from
 * the ring, and a since older than the ring (4096 events, made by fast
 * restarting children) is a `limit` error; `gtctl events --json` prints
 * JSON lines as the events happen; a subscriber that closes, even after
 * a half-close, is let go at once.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "harness.h"

#define EV_WAIT_MS	5000		/* one event or condition */
#define EVENT_RING	4096		/* events kept for since (protocol) */

/* The next event on c; fails the test on a reply or nothing in time. */
static json_t *
next_event(struct e2e *e, struct e2e_conn *c)
{
	json_t	*ev = e2e_recv(c, EV_WAIT_MS);

	ck_assert_msg(json_is_string(json_object_get(ev, "event")),
	    "not an event: %s", e2e_dump(e, ev));
	return (ev);
}

/* What c received before a ping sent now is answered (the harness's). */
static const char *
drain(struct e2e *e, struct e2e_conn *c)
{
	return (e2e_drain_events(c, EV_WAIT_MS));
}

/*
 * A child's life as events: started, ready, exited (SIGKILL), restarting,
 * started, ready, exited (requested), stopped, deleted; seq grows by one,
 * and every event has at and name.
 */
START_TEST(e2e_events_lifecycle)
{
	static const char *const	 want[] = { "started", "ready",
	    "exited", "restarting", "started", "ready", "exited", "stopped",
	    "deleted" };
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*sub = e2e_client(e);
	json_t		*ev[9], *r;
	json_int_t	 seq;
	pid_t		 pid, again;
	size_t		 i;

	r = e2e_cok(sub, "subscribe", NULL);
	seq = e2e_int(r, "seq");
	ck_assert_int_eq(seq, 0);
	pid = (pid_t)e2e_int(e2e_ok(e, "start_child", "{s:s, s:o, s:i}",
	    "name", "a", "cmd", e2e_cmd(NULL), "restart_delay_ms", 50), "pid");
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	again = e2e_wait_restarted(e, "a", pid, EV_WAIT_MS);
	ck_assert_int_gt(again, 0);
	e2e_ok(e, "terminate_child", "{s:s}", "name", "a");
	e2e_ok(e, "delete_child", "{s:s}", "name", "a");
	for (i = 0; i < 9; i++) {
		ev[i] = next_event(e, sub);
		ck_assert_msg(strcmp(e2e_str(ev[i], "event"), want[i]) == 0,
		    "event %zu: %s, want %s", i, e2e_dump(e, ev[i]), want[i]);
		ck_assert_str_eq(e2e_str(ev[i], "name"), "a");
		ck_assert_int_eq(e2e_int(ev[i], "seq"), seq + 1);
		seq = e2e_int(ev[i], "seq");
		ck_assert_int_gt(e2e_int(ev[i], "at"), 1000000000000LL);
		ck_assert(json_object_get(ev[i], "ok") == NULL);
	}
	ck_assert_int_eq(e2e_int(ev[0], "pid"), pid);
	ck_assert_int_eq(e2e_int(ev[1], "pid"), pid);
	ck_assert_int_eq(e2e_int(ev[2], "pid"), pid);
	ck_assert_str_eq(e2e_str(e2e_get(ev[2], "reason"), "signal"),
	    "SIGKILL");
	ck_assert_int_eq(e2e_int(ev[3], "restart_count"), 1);
	ck_assert_int_eq(e2e_int(ev[4], "pid"), again);
	ck_assert(json_is_true(e2e_get(e2e_get(ev[6], "reason"),
	    "requested")));
	ck_assert_str_eq(drain(e, sub), "");
	e2e_stop(e);
}
END_TEST

/* gave_up (with action and restart_count) and hook_done (with reason). */
START_TEST(e2e_events_gave_up_hook_done)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*sub = e2e_client(e);
	json_t		*ev;
	bool		 gave_up = false, hook = false;
	int		 i;

	e2e_cok(sub, "subscribe", "{s:[s, s]}", "events", "gave_up",
	    "hook_done");
	e2e_ok(e, "start_child", "{s:s, s:o, s:i, s:i, s:[s, s, s]}", "name",
	    "g", "cmd", e2e_cmd("--exit-after-ms=10", "--exit-code=3", NULL),
	    "restart_delay_ms", 0, "max_restarts", 1, "after_terminate",
	    "/bin/sh", "-c", "exit 4");
	for (i = 0; i < 10 && !gave_up; i++) {
		ev = next_event(e, sub);
		ck_assert_str_eq(e2e_str(ev, "name"), "g");
		if (strcmp(e2e_str(ev, "event"), "hook_done") == 0) {
			hook = true;
			ck_assert_int_eq(e2e_int(e2e_get(ev, "reason"),
			    "exit_status"), 4);
		} else {
			ck_assert_str_eq(e2e_str(ev, "event"), "gave_up");
			ck_assert_str_eq(e2e_str(ev, "action"), "stop");
			ck_assert_int_eq(e2e_int(ev, "restart_count"), 1);
			gave_up = true;
		}
	}
	ck_assert(gave_up);
	ck_assert(hook);
	ck_assert(e2e_wait_state(e, "g", "stopped", EV_WAIT_MS));
	e2e_stop(e);
}
END_TEST

/* events and names select; bad filters are bad_request with field. */
START_TEST(e2e_events_filters)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*s1 = e2e_client(e), *s2 = e2e_client(e);
	struct e2e_conn	*s3 = e2e_client(e);
	json_t		*r;

	e2e_cok(s1, "subscribe", "{s:[s]}", "events", "exited");
	e2e_cok(s2, "subscribe", "{s:[s]}", "names", "b");
	e2e_cok(s3, "subscribe", "{s:[s, s], s:[s]}", "events", "stopped",
	    "deleted", "names", "a");
	e2e_spawn(e, "a", NULL);
	e2e_spawn(e, "b", NULL);
	e2e_ok(e, "terminate_child", "{s:s}", "name", "a");
	e2e_ok(e, "terminate_child", "{s:s}", "name", "b");
	e2e_ok(e, "delete_child", "{s:s}", "name", "a");
	e2e_ok(e, "delete_child", "{s:s}", "name", "b");
	ck_assert_str_eq(drain(e, s1), "exited:a exited:b");
	ck_assert_str_eq(drain(e, s2),
	    "started:b ready:b exited:b stopped:b deleted:b");
	ck_assert_str_eq(drain(e, s3), "stopped:a deleted:a");
	r = e2e_err(e, "bad_request", "subscribe", "{s:[s, s]}", "events",
	    "started", "nope");
	ck_assert_str_eq(e2e_str(r, "field"), "events.1");
	r = e2e_err(e, "bad_request", "subscribe", "{s:[i]}", "names", 5);
	ck_assert_str_eq(e2e_str(r, "field"), "names.0");
	e2e_err(e, "bad_request", "subscribe", "{s:s}", "events", "started");
	e2e_err(e, "bad_request", "subscribe", "{s:i}", "since", -1);
	e2e_stop(e);
}
END_TEST

/*
 * since replays the kept events after it, in order, before the live
 * ones; filters apply to the replay too.
 */
START_TEST(e2e_events_since)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*c1, *c2, *c3, *c4;
	json_t		*r, *ev;
	int		 i;

	e2e_spawn(e, "a", NULL);
	e2e_ok(e, "terminate_child", "{s:s}", "name", "a");
	/* After the fact, from the start. */
	c1 = e2e_client(e);
	r = e2e_cok(c1, "subscribe", "{s:i}", "since", 0);
	ck_assert_int_eq(e2e_int(r, "seq"), 4);
	for (i = 1; i <= 4; i++) {
		ev = next_event(e, c1);
		ck_assert_int_eq(e2e_int(ev, "seq"), i);
		ck_assert_str_eq(e2e_str(ev, "name"), "a");
	}
	/* Then the live ones. */
	e2e_spawn(e, "b", NULL);
	ev = next_event(e, c1);
	ck_assert_int_eq(e2e_int(ev, "seq"), 5);
	ck_assert_str_eq(e2e_str(ev, "event"), "started");
	ck_assert_str_eq(e2e_str(ev, "name"), "b");
	/* From the middle. */
	c2 = e2e_client(e);
	e2e_cok(c2, "subscribe", "{s:i}", "since", 2);
	ck_assert_str_eq(drain(e, c2), "exited:a stopped:a started:b ready:b");
	/* From now: nothing old. */
	c3 = e2e_client(e);
	e2e_cok(c3, "subscribe", "{s:i}", "since", 6);
	ck_assert_str_eq(drain(e, c3), "");
	/* Filters apply to the replay. */
	c4 = e2e_client(e);
	e2e_cok(c4, "subscribe", "{s:i, s:[s], s:[s, s]}", "since", 0,
	    "names", "a", "events", "started", "stopped");
	ck_assert_str_eq(drain(e, c4), "started:a stopped:a");
	e2e_stop(e);
}
END_TEST

/*
 * More than 4096 events: a since older than the ring is a `limit` error
 * ("event_ring"); the oldest since still kept works.  The events come
 * cheaply from adopting a process and releasing it again (ready and
 * deleted: no fork in gtd), pipelined in batches; skipped where gtd
 * cannot adopt (under valgrind).
 */
START_TEST(e2e_events_since_too_old)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*w = e2e_client(e), *c;
	json_t		*r;
	json_int_t	 seq;
	char		*buf;
	size_t		 len;
	pid_t		 pid;
	int		 i, k, st;

	fflush(NULL);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		execl(e2e_testchild(e), e2e_testchild(e), (char *)NULL);
		_exit(127);
	}
	if (e2e_adopt_unsupported(e, e2e_creq(w, "add_existing_child",
	    "{s:s, s:i}", "name", "adopted", "pid", (int)pid),
	    "e2e_events_since_too_old")) {
		kill(pid, SIGKILL);
		ck_assert_int_eq(waitpid(pid, &st, 0), pid);
		e2e_stop(e);
		return;
	}
	e2e_cok(w, "release", "{s:s}", "name", "adopted");
	ck_assert_ptr_nonnull(buf = malloc(100 * 200));
	for (k = 0; k < 22; k++) {	/* 22 * 100 * 2 = 4400 events */
		len = 0;
		for (i = 0; i < 100; i++)
			len += snprintf(buf + len, 200, "{\"op\":"
			    "\"add_existing_child\",\"name\":\"adopted\","
			    "\"pid\":%d}\n{\"op\":\"release\","
			    "\"name\":\"adopted\"}\n", (int)pid);
		ck_assert_uint_eq(e2e_send_raw(w, buf, len), len);
		for (i = 0; i < 200; i++) {
			r = e2e_recv(w, EV_WAIT_MS);
			ck_assert_msg(json_is_true(json_object_get(r, "ok")),
			    "%s", e2e_dump(e, r));
		}
	}
	free(buf);
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	/* The current seq; kept are the 4096 events up to it. */
	seq = e2e_int(e2e_cok(e2e_client(e), "subscribe", "{s:[s]}", "events",
	    "stopped"), "seq");
	ck_assert_int_ge(seq, 4400);
	c = e2e_client(e);
	r = e2e_cerr(c, "limit", "subscribe", "{s:i}", "since", 0);
	ck_assert_str_eq(e2e_str(r, "limit"), "event_ring");
	r = e2e_cerr(c, "limit", "subscribe", "{s:I}", "since",
	    seq - EVENT_RING - 1);
	ck_assert_str_eq(e2e_str(r, "limit"), "event_ring");
	/* The connection was not harmed; the oldest kept since works. */
	e2e_cok(c, "subscribe", "{s:I, s:[s]}", "since", seq - EVENT_RING,
	    "events", "deleted");
	r = e2e_recv(c, EV_WAIT_MS);
	ck_assert_str_eq(e2e_str(r, "event"), "deleted");
	ck_assert_int_gt(e2e_int(r, "seq"), seq - EVENT_RING);
	ck_assert_int_le(e2e_int(r, "seq"), seq - EVENT_RING + 2);
	e2e_stop(e);
}
END_TEST

/*
 * A subscriber that goes away is let go at once, not when the next event
 * fails to be written to it: one that closes; one that half-closes
 * (SHUT_WR: it keeps its events) and closes later; one that shuts down
 * both ways.  No event happens meanwhile, as a watcher shows.
 */
START_TEST(e2e_events_subscriber_hangup)
{
	static const char	 last[] = "{\"id\":\"last\",\"op\":\"ping\"}";
	struct e2e		*e = e2e_start(NULL);
	struct e2e_conn		*all = e2e_client(e), *c;
	json_int_t		 base;
	json_t			*r;

	e2e_cok(all, "subscribe", NULL);
	base = e2e_conns(e);
	/* Closes. */
	c = e2e_client(e);
	e2e_cok(c, "subscribe", NULL);
	ck_assert_int_eq(e2e_conns(e), base + 1);
	e2e_conn_close(c);
	ck_assert_msg(e2e_wait_conns(e, base, EV_WAIT_MS), "closed subscriber "
	    "held: %lld connections, want %lld", (long long)e2e_conns(e),
	    (long long)base);
	/*
	 * Half-closes.  The last request has no newline, so its reply
	 * shows that gtd has read the EOF; the subscriber stays.
	 */
	c = e2e_client(e);
	e2e_cok(c, "subscribe", NULL);
	ck_assert_uint_eq(e2e_send_raw(c, last, sizeof last - 1),
	    sizeof last - 1);
	ck_assert_int_eq(shutdown(e2e_conn_fd(c), SHUT_WR), 0);
	r = e2e_recv(c, EV_WAIT_MS);
	ck_assert_str_eq(e2e_str(r, "id"), "last");
	ck_assert_int_eq(e2e_conns(e), base + 1);
	e2e_conn_close(c);
	ck_assert_msg(e2e_wait_conns(e, base, EV_WAIT_MS), "half-closed "
	    "subscriber held after its close: %lld connections, want %lld",
	    (long long)e2e_conns(e), (long long)base);
	/* Shuts down both ways, without closing. */
	c = e2e_client(e);
	e2e_cok(c, "subscribe", NULL);
	ck_assert_int_eq(shutdown(e2e_conn_fd(c), SHUT_RDWR), 0);
	ck_assert_msg(e2e_wait_conns(e, base, EV_WAIT_MS), "shut down "
	    "subscriber held: %lld connections, want %lld",
	    (long long)e2e_conns(e), (long long)base);
	ck_assert_str_eq(drain(e, all), "");
	e2e_stop(e);
}
END_TEST

/*
 * attr events come only when asked for (events ["attr"]), for the names
 * asked for: setattr and increment with the new values, delattr with the
 * key; they are numbered but not kept for since.
 */
START_TEST(e2e_events_attr)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*all = e2e_client(e), *sub = e2e_client(e), *late;
	json_t		*ev;
	json_int_t	 seq;

	e2e_spawn(e, "a", NULL);
	e2e_spawn(e, "b", NULL);
	e2e_cok(all, "subscribe", NULL);
	seq = e2e_int(e2e_cok(sub, "subscribe", "{s:[s], s:[s]}", "events",
	    "attr", "names", "a"), "seq");
	e2e_ok(e, "setattr", "{s:s, s:{s:i, s:s}}", "name", "a", "attrs",
	    "k", 1, "s", "x");
	e2e_ok(e, "setattr", "{s:s, s:{s:i}}", "name", "b", "attrs", "k", 2);
	e2e_ok(e, "increment", "{s:s, s:s, s:i}", "name", "a", "key", "k",
	    "by", 4);
	e2e_ok(e, "delattr", "{s:s, s:s}", "name", "a", "key", "s");
	ev = next_event(e, sub);
	ck_assert_str_eq(e2e_str(ev, "event"), "attr");
	ck_assert_str_eq(e2e_str(ev, "name"), "a");
	ck_assert_int_gt(e2e_int(ev, "seq"), seq);
	seq = e2e_int(ev, "seq");
	ck_assert_int_eq(e2e_int(e2e_get(ev, "attrs"), "k"), 1);
	ck_assert_str_eq(e2e_str(e2e_get(ev, "attrs"), "s"), "x");
	ev = next_event(e, sub);
	ck_assert_str_eq(e2e_str(ev, "event"), "attr");
	ck_assert_int_gt(e2e_int(ev, "seq"), seq);
	ck_assert_int_eq(e2e_int(e2e_get(ev, "attrs"), "k"), 5);
	ev = next_event(e, sub);
	ck_assert_str_eq(e2e_str(ev, "event"), "attr");
	ck_assert_str_eq(e2e_str(ev, "deleted"), "s");
	ck_assert_str_eq(drain(e, sub), "");
	/* Not asked for: none. */
	ck_assert_str_eq(drain(e, all), "");
	/* Not kept: a replay from the start has only the four lifecycles. */
	late = e2e_client(e);
	e2e_cok(late, "subscribe", "{s:i, s:[s, s, s]}", "since", 0,
	    "events", "attr", "started", "ready");
	ck_assert_str_eq(drain(e, late), "started:a ready:a started:b ready:b");
	e2e_stop(e);
}
END_TEST

/*
 * Every attr write is an attr event, whoever writes: setattr, the spec's
 * attrs at a start, and a child's STATUS= (through its notify socket).
 */
START_TEST(e2e_events_attr_every_writer)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*sub = e2e_client(e);
	json_t		*ev;

	e2e_cok(sub, "subscribe", "{s:[s], s:[s]}", "events", "attr",
	    "names", "n");
	e2e_ok(e, "start_child", "{s:s, s:o, s:s, s:{s:s}}", "name", "n",
	    "cmd", e2e_cmd("--notify-status=booting",
	    "--notify-ready-after-ms=0", NULL), "ready", "notify",
	    "attrs", "role", "web");
	/* The spec's attrs, as the start wrote them. */
	ev = next_event(e, sub);
	ck_assert_str_eq(e2e_str(ev, "event"), "attr");
	ck_assert_str_eq(e2e_str(ev, "name"), "n");
	ck_assert_str_eq(e2e_str(e2e_get(ev, "attrs"), "role"), "web");
	/* STATUS=booting from the child itself. */
	ev = next_event(e, sub);
	ck_assert_str_eq(e2e_str(ev, "event"), "attr");
	ck_assert_str_eq(e2e_str(e2e_get(ev, "attrs"), "status"), "booting");
	e2e_ok(e, "setattr", "{s:s, s:{s:i}}", "name", "n", "attrs", "k", 7);
	ev = next_event(e, sub);
	ck_assert_str_eq(e2e_str(ev, "event"), "attr");
	ck_assert_int_eq(e2e_int(e2e_get(ev, "attrs"), "k"), 7);
	ck_assert_str_eq(drain(e, sub), "");
	e2e_stop(e);
}
END_TEST

/*
 * `gtctl events --json` prints the subscribe reply, then each event as
 * one JSON line, replayed (--since) and live.
 */
START_TEST(e2e_events_gtctl_json)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_proc	*p, *q;
	const char	*line, *want[] = { "started", "ready" };
	json_t		*j;
	int		 i;

	e2e_spawn(e, "a", NULL);
	p = e2e_gtctl_bg(e, "events", "--json", "--since", "0", NULL);
	line = e2e_proc_line(p, EV_WAIT_MS);
	ck_assert_msg(line != NULL, "gtctl events --json printed nothing");
	ck_assert_ptr_nonnull(j = json_loads(line, 0, NULL));
	ck_assert_msg(json_is_true(json_object_get(j, "ok")) &&
	    json_integer_value(json_object_get(j, "seq")) == 2, "%s", line);
	json_decref(j);
	for (i = 0; i < 4; i++) {
		if (i == 2)
			e2e_spawn(e, "b", NULL);
		line = e2e_proc_line(p, EV_WAIT_MS);
		ck_assert_msg(line != NULL, "event line %d missing", i);
		j = json_loads(line, 0, NULL);
		ck_assert_msg(j != NULL, "not JSON: %s", line);
		ck_assert_msg(json_integer_value(json_object_get(j, "seq")) ==
		    i + 1 && strcmp(json_string_value(json_object_get(j,
		    "event")), want[i % 2]) == 0 && strcmp(json_string_value(
		    json_object_get(j, "name")), i < 2 ? "a" : "b") == 0,
		    "line %d: %s", i, line);
		json_decref(j);
	}
	e2e_proc_kill(p);
	/* Without --json: one line of text per event, named. */
	q = e2e_gtctl_bg(e, "events", "c", NULL);
	line = NULL;
	for (i = 0; i < 50 && line == NULL; i++) {
		/* gtctl subscribes on its own: start c until it sees it. */
		e2e_ok(e, "start_child", "{s:s, s:o, s:s}", "name", "c",
		    "cmd", e2e_cmd(NULL), "restart", "temporary");
		e2e_ok(e, "terminate_child", "{s:s}", "name", "c");
		line = e2e_proc_line(q, 100);
	}
	ck_assert_msg(line != NULL && strstr(line, " c") != NULL,
	    "gtctl events c: %s", line != NULL ? line : "nothing");
	e2e_proc_kill(q);
	e2e_stop(e);
}
END_TEST

Suite *
e2e_events_suite(void)
{
	Suite	*s = suite_create("e2e_events");
	TCase	*tc;

	tc = tcase_create("stream");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_events_lifecycle);
	tcase_add_test(tc, e2e_events_gave_up_hook_done);
	tcase_add_test(tc, e2e_events_filters);
	tcase_add_test(tc, e2e_events_attr);
	tcase_add_test(tc, e2e_events_attr_every_writer);
	tcase_add_test(tc, e2e_events_subscriber_hangup);
	suite_add_tcase(s, tc);

	tc = tcase_create("since");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_events_since);
	tcase_add_test(tc, e2e_events_since_too_old);
	suite_add_tcase(s, tc);

	tc = tcase_create("gtctl");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_events_gtctl_json);
	suite_add_tcase(s, tc);
	return (s);
}
