/* SPDX-License-Identifier: MIT */
/*
 * check_childlog: the ring and the partial line of a child's captured
 * output.  Both are allocated only when there is output and grow in
 * steps, and what is kept is what the caps say: the last
 * CHILDLOG_RING_LINES lines within CHILDLOG_RING_BYTES, oldest first,
 * lines longer than CHILDLOG_LINE_MAX in pieces.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gt/child.h"
#include "gt/childlog.h"
#include "gt/gtd.h"
#include "gt/spec.h"
#include "gt/xmalloc.h"

#include "check_unit.h"

static struct gtd	*g;
static struct child	*c;

static void
setup(void)
{
	g = test_gtd_new();
	c = child_add(g, test_spec("lg", SPEC_PERMANENT), xstrdup("{}"));
	ck_assert_ptr_nonnull(c);
}

static void
teardown(void)
{
	gtd_free(g);
	g = NULL;
}

/* The pipes are never closed here: no call expected. */
static void
test_closed(struct child *ch)
{
	ck_abort_msg("closed called for %s", ch->name);
}

struct tail {
	char	**text;
	size_t	  n;
};

static void
tail_cb(const struct childlog_line *ln, void *arg)
{
	struct tail	*t = arg;

	t->text[t->n++] = xstrdup(ln->text);
}

/* The last n lines, oldest first (caller frees with tail_free). */
static struct tail
tail_of(struct childlog *l, size_t n)
{
	struct tail	t = { .text = xcalloc(n + 1, sizeof (char *)) };

	childlog_tail(l, n, tail_cb, &t);
	return (t);
}

static void
tail_free(struct tail *t)
{
	size_t	i;

	for (i = 0; i < t->n; i++)
		free(t->text[i]);
	free(t->text);
}

static void
feed_str(struct childlog *l, const char *s)
{
	childlog_feed(l, 0, s, strlen(s));
}

/* No output, nothing allocated; the first line, a small ring. */
START_TEST(test_childlog_lazy)
{
	struct childlog	*l = childlog_new(c, test_closed);
	struct tail	 t;

	ck_assert_ptr_null(l->ring);
	ck_assert_ptr_null(l->in[0]);
	ck_assert_ptr_null(l->in[1]);
	feed_str(l, "one\n");
	ck_assert_ptr_null(l->in[0]->partial);	/* a whole line: no copy */
	ck_assert_uint_gt(l->rsize, 0);
	ck_assert_uint_lt(l->rsize, 64);
	feed_str(l, "tw");
	ck_assert_ptr_nonnull(l->in[0]->partial);
	ck_assert_uint_le(l->in[0]->psize, 256);
	feed_str(l, "o\nthree\n");
	t = tail_of(l, 10);
	ck_assert_uint_eq(t.n, 3);
	ck_assert_str_eq(t.text[0], "one");
	ck_assert_str_eq(t.text[1], "two");
	ck_assert_str_eq(t.text[2], "three");
	tail_free(&t);
	childlog_free(l);
}
END_TEST

/* Growth keeps order; the cap of lines holds, the newest kept. */
START_TEST(test_childlog_ring_grows)
{
	struct childlog	*l = childlog_new(c, test_closed);
	struct tail	 t;
	char		 buf[32];
	size_t		 i, total = CHILDLOG_RING_LINES + 250;

	for (i = 0; i < total; i++) {
		snprintf(buf, sizeof buf, "%zu\n", i);
		feed_str(l, buf);
		ck_assert_uint_eq(l->n, i + 1 < CHILDLOG_RING_LINES ? i + 1 :
		    CHILDLOG_RING_LINES);
	}
	ck_assert_uint_eq(l->rsize, CHILDLOG_RING_LINES);
	t = tail_of(l, CHILDLOG_RING_LINES + 5);
	ck_assert_uint_eq(t.n, CHILDLOG_RING_LINES);
	for (i = 0; i < t.n; i++) {
		snprintf(buf, sizeof buf, "%zu", total - CHILDLOG_RING_LINES +
		    i);
		ck_assert_str_eq(t.text[i], buf);
	}
	tail_free(&t);
	childlog_free(l);
}
END_TEST

/* The byte cap, and an over-long line in pieces of LINE_MAX. */
START_TEST(test_childlog_caps)
{
	struct childlog	*l = childlog_new(c, test_closed);
	struct tail	 t;
	char		*big;
	size_t		 i, n = 3 * CHILDLOG_LINE_MAX + 10, sum = 0;

	big = xmalloc(n + 2);
	memset(big, 'a', n);
	big[n] = '\n';
	big[n + 1] = '\0';
	childlog_feed(l, 0, big, 100);		/* starts as a partial */
	childlog_feed(l, 0, big + 100, n + 1 - 100);
	ck_assert_uint_le(l->in[0]->psize, CHILDLOG_LINE_MAX);
	t = tail_of(l, 10);
	ck_assert_uint_eq(t.n, 4);
	for (i = 0; i < 3; i++)
		ck_assert_uint_eq(strlen(t.text[i]), CHILDLOG_LINE_MAX);
	ck_assert_uint_eq(strlen(t.text[3]), 10);
	tail_free(&t);
	for (i = 0; i < 40; i++)
		childlog_feed(l, 0, big + n + 1 - CHILDLOG_LINE_MAX,
		    CHILDLOG_LINE_MAX);	/* 4095 bytes and a newline */
	t = tail_of(l, CHILDLOG_RING_LINES);
	for (i = 0; i < t.n; i++)
		sum += strlen(t.text[i]);
	ck_assert_uint_le(sum, CHILDLOG_RING_BYTES);
	ck_assert_uint_ge(sum, CHILDLOG_RING_BYTES - CHILDLOG_LINE_MAX);
	tail_free(&t);
	free(big);
	childlog_free(l);
}
END_TEST

/*
 * A pipe attached in log mode costs the struct only: no relay count, no
 * file, no ring until the first line; then the relay count comes too.
 */
START_TEST(test_childlog_lazy_relay)
{
	struct childlog	*l = childlog_new(c, test_closed);
	int		 p[2];

	ck_assert_uint_le(sizeof *l, 64);
	ck_assert_int_eq(pipe(p), 0);
	childlog_attach(l, 0, p[0], "output", NULL, 0, 0, true);
	ck_assert_ptr_null(l->relay);
	ck_assert_ptr_null(l->in[0]->file);
	ck_assert_ptr_null(l->in[1]);		/* one pipe, one input */
	ck_assert_ptr_null(l->ring);
	feed_str(l, "hello\n");
	ck_assert_ptr_nonnull(l->relay);
	ck_assert_int_eq(l->relay->count, 1);
	ck_assert_uint_eq(l->n, 1);
	close(p[1]);
	childlog_free(l);
}
END_TEST

/* A re-exec's lines go into the ring as the read ones do, with the caps. */
START_TEST(test_childlog_restore_line)
{
	struct childlog	*l = childlog_new(c, test_closed);
	struct tail	 t;
	char		*big = xmalloc(CHILDLOG_LINE_MAX + 2);
	size_t		 i;

	memset(big, 'b', CHILDLOG_LINE_MAX + 1);
	big[CHILDLOG_LINE_MAX + 1] = '\0';
	childlog_restore_line(l, 5, "stderr", "e");
	childlog_restore_line(l, 6, "whatever", "o");
	childlog_restore_line(l, 7, "stdout", big);	/* not one of ours */
	for (i = 0; i < CHILDLOG_RING_LINES + 3; i++)
		childlog_restore_line(l, 8, "stdout", "x");
	ck_assert_uint_eq(l->n, CHILDLOG_RING_LINES);
	t = tail_of(l, 1);
	ck_assert_str_eq(t.text[0], "x");
	tail_free(&t);
	childlog_free(l);
	l = childlog_new(c, test_closed);
	childlog_restore_line(l, 5, "stderr", "e");
	childlog_restore_line(l, 6, "whatever", "o");
	ck_assert_uint_eq(l->n, 2);
	ck_assert_str_eq(l->ring[0].stream, "stderr");
	ck_assert_str_eq(l->ring[1].stream, "output");
	ck_assert_uint_eq(l->bytes, 2);
	childlog_free(l);
	free(big);
}
END_TEST

Suite *
childlog_suite(void)
{
	Suite	*s = suite_create("childlog");
	TCase	*tc = tcase_create("ring");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_childlog_lazy);
	tcase_add_test(tc, test_childlog_ring_grows);
	tcase_add_test(tc, test_childlog_caps);
	tcase_add_test(tc, test_childlog_lazy_relay);
	tcase_add_test(tc, test_childlog_restore_line);
	suite_add_tcase(s, tc);
	return (s);
}
