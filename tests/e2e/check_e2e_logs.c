/* SPDX-License-Identifier: MIT */
/*
 * check_e2e_logs: children's output.  stdout/stderr "log" (the `logs`
 * op, with stream, at and line, and the relay into gtd's log as "child
 * NAME: line"), "inherit" (gtd's own stdout and stderr: DIR/gtd.out and
 * DIR/gtd.log), "null", and {"file"} with size rotation and `keep`; the
 * ring stays bounded under 100000 lines and so does gtd's memory; follow
 * (the op and `gtctl logs -f`) delivers further lines as they come; a
 * child flooding its output never starves requests.  Output comes from
 * gt-testchild (--stdout, --stderr, --flood).
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "gt/xmalloc.h"
#include "harness.h"

#define LG_WAIT_MS	5000		/* one condition */
#define LG_PING_MS	100		/* a ping reply while a child floods */
#define LG_STALL_MS	500		/* ...even on a loaded machine */

/*
 * Under AddressSanitizer freed memory waits in a quarantine (256 MiB by
 * default), and under valgrind (E2E_SLOW) gtd's RSS is valgrind's: there
 * the memory bounds are only a sanity check.  check-asan builds the tests
 * and gtd alike, so the test's own build tells.
 */
#if defined(__SANITIZE_ADDRESS__)
#define LG_ASAN		1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LG_ASAN		1
#endif
#endif
#ifndef LG_ASAN
#define LG_ASAN		0
#endif

/* How much gtd may grow (KiB): kib, unless RSS means little here. */
static long
rss_slack(long kib)
{
	return (LG_ASAN || getenv("E2E_SLOW") != NULL ? 1024 * 1024 : kib);
}

/* Wall clock in epoch ms, the unit of "at". */
static long long
wall_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (ts.tv_sec * 1000LL + ts.tv_nsec / 1000000);
}

/* The `logs` lines of name (lines = n). */
static json_t *
logs(struct e2e *e, const char *name, int n)
{
	json_t	*l;

	l = e2e_get(e2e_ok(e, "logs", "{s:s, s:i}", "name", name, "lines", n),
	    "lines");
	ck_assert_msg(json_is_array(l), "lines: %s", e2e_dump(e, l));
	return (l);
}

/* The entry of name's log whose line is text, or NULL. */
static json_t *
log_find(struct e2e *e, const char *name, const char *text)
{
	json_t		*l = logs(e, name, 1000), *ln;
	const char	*s;
	size_t		 i;

	json_array_foreach(l, i, ln) {
		s = json_string_value(json_object_get(ln, "line"));
		if (s != NULL && strcmp(s, text) == 0)
			return (ln);
	}
	return (NULL);
}

/* Wait until name's log has a line text; that entry, or NULL. */
static json_t *
log_wait(struct e2e *e, const char *name, const char *text, int ms)
{
	long	 deadline = e2e_now_ms() + ms;
	json_t	*ln;

	for (;;) {
		if ((ln = log_find(e, name, text)) != NULL)
			return (ln);
		if (e2e_now_ms() >= deadline)
			return (NULL);
		poll(NULL, 0, 5);
	}
}

/* The number N of a "flood N" line, or -1. */
static long
flood_no(const char *s)
{
	if (s == NULL || strncmp(s, "flood ", 6) != 0)
		return (-1);
	return (atol(s + 6));
}

static off_t
file_size(const char *path)
{
	struct stat	sb;

	return (stat(path, &sb) == 0 ? sb.st_size : -1);
}

/* How many times text occurs in the file at path. */
static int
count_text(const char *path, const char *text)
{
	char	*buf, *p;
	off_t	 size = file_size(path);
	ssize_t	 n;
	int	 fd, count = 0;

	if (size <= 0 || (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (0);
	ck_assert_ptr_nonnull(buf = malloc(size + 1));
	n = read(fd, buf, size);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	for (p = buf; (p = strstr(p, text)) != NULL; p += strlen(text))
		count++;
	free(buf);
	return (count);
}

/*
 * "log": the lines are in `logs` with stream, at and line, and in gtd's
 * log as "child NAME: line".  Both streams "log" share one pipe and are
 * labelled "output"; each alone is "stdout" or "stderr".
 */
START_TEST(e2e_logs_log_mode)
{
	struct e2e	*e = e2e_start(NULL);
	long long	 t0 = wall_ms();
	json_t		*ln, *l;

	e2e_ok(e, "start_child", "{s:s, s:o}", "name", "a", "cmd",
	    e2e_cmd("--stdout=out-a", "--stderr=err-a", NULL));
	ck_assert_ptr_nonnull(ln = log_wait(e, "a", "out-a", LG_WAIT_MS));
	ck_assert_str_eq(e2e_str(ln, "stream"), "output");
	ck_assert_int_ge(e2e_int(ln, "at"), t0 - 1000);
	ck_assert_int_le(e2e_int(ln, "at"), wall_ms() + 1000);
	ck_assert_ptr_nonnull(ln = log_wait(e, "a", "err-a", LG_WAIT_MS));
	ck_assert_str_eq(e2e_str(ln, "stream"), "output");
	ck_assert_msg(e2e_wait_text(e2e_path(e, "gtd.log"), "child a: out-a\n",
	    LG_WAIT_MS), "stdout line not relayed to gtd's log");
	ck_assert(e2e_wait_text(e2e_path(e, "gtd.log"), "child a: err-a\n",
	    LG_WAIT_MS));
	/* lines = 1: the newest only. */
	l = logs(e, "a", 1);
	ck_assert_int_eq(json_array_size(l), 1);
	ck_assert_str_eq(e2e_str(json_array_get(l, 0), "line"), "err-a");
	ck_assert_int_eq(json_array_size(logs(e, "a", 0)), 0);

	/* stdout alone. */
	e2e_ok(e, "start_child", "{s:s, s:o, s:s}", "name", "b", "cmd",
	    e2e_cmd("--stdout=out-b", "--stderr=err-b", NULL), "stderr",
	    "null");
	ck_assert_ptr_nonnull(ln = log_wait(e, "b", "out-b", LG_WAIT_MS));
	ck_assert_str_eq(e2e_str(ln, "stream"), "stdout");
	/* stderr alone. */
	e2e_ok(e, "start_child", "{s:s, s:o, s:s}", "name", "c", "cmd",
	    e2e_cmd("--stdout=out-c", "--stderr=err-c", NULL), "stdout",
	    "null");
	ck_assert_ptr_nonnull(ln = log_wait(e, "c", "err-c", LG_WAIT_MS));
	ck_assert_str_eq(e2e_str(ln, "stream"), "stderr");
	ck_assert(log_find(e, "b", "err-b") == NULL);
	ck_assert(log_find(e, "c", "out-c") == NULL);
	/* No such child. */
	e2e_err(e, "not_found", "logs", "{s:s}", "name", "nope");
	e2e_stop(e);
}
END_TEST

/* "inherit" is gtd's own stdout/stderr; "null" goes nowhere. */
START_TEST(e2e_logs_inherit_null)
{
	struct e2e	*e = e2e_start(NULL);

	e2e_ok(e, "start_child", "{s:s, s:o, s:s, s:s}", "name", "i", "cmd",
	    e2e_cmd("--stdout=inherited-out", "--stderr=inherited-err",
	    e2e_fmt(e, "--pidfile=%s", e2e_path(e, "i.pid")), NULL),
	    "stdout", "inherit", "stderr", "inherit");
	ck_assert_msg(e2e_wait_text(e2e_path(e, "gtd.out"), "inherited-out\n",
	    LG_WAIT_MS), "stdout inherit: not in gtd's stdout");
	ck_assert_msg(e2e_wait_text(e2e_path(e, "gtd.log"), "inherited-err\n",
	    LG_WAIT_MS), "stderr inherit: not in gtd's stderr");
	ck_assert_int_eq(count_text(e2e_path(e, "gtd.log"),
	    "child i: inherited"), 0);
	e2e_ok(e, "start_child", "{s:s, s:o, s:s, s:s}", "name", "n", "cmd",
	    e2e_cmd("--stdout=nulled-out", "--stderr=nulled-err",
	    e2e_fmt(e, "--pidfile=%s", e2e_path(e, "n.pid")), NULL),
	    "stdout", "null", "stderr", "null");
	/* The pidfile comes after the output: nothing more can come. */
	e2e_read_pid(e, e2e_path(e, "n.pid"), LG_WAIT_MS);
	e2e_read_pid(e, e2e_path(e, "i.pid"), LG_WAIT_MS);
	e2e_ok(e, "ping", NULL);
	ck_assert_int_eq(json_array_size(logs(e, "n", 1000)), 0);
	ck_assert_int_eq(json_array_size(logs(e, "i", 1000)), 0);
	ck_assert_int_eq(count_text(e2e_path(e, "gtd.out"), "nulled"), 0);
	ck_assert_int_eq(count_text(e2e_path(e, "gtd.log"), "nulled"), 0);
	e2e_stop(e);
}
END_TEST

/*
 * {"file", "max_bytes", "keep"}: the file is rotated by size to PATH.1
 * ... PATH.keep, never more; keep 0 keeps no old file.  The lines go
 * into the ring too, not into gtd's log.
 */
START_TEST(e2e_logs_file_rotation)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*path, *p0, *last = "flood 025000\n", *text;
	long		 deadline;
	int		 i, found;

	path = e2e_path(e, "out.log");
	p0 = e2e_path(e, "zero.log");
	/* 325 KB: at least five 64 KiB reads, so at least five rotations. */
	e2e_ok(e, "start_child", "{s:s, s:o, s:{s:s, s:i, s:i}}", "name", "r",
	    "cmd", e2e_cmd("--flood=25000", NULL),
	    "stdout", "file", path, "max_bytes", 1000, "keep", 2);
	e2e_ok(e, "start_child", "{s:s, s:o, s:{s:s, s:i, s:i}}", "name", "z",
	    "cmd", e2e_cmd("--flood=25000", NULL),
	    "stdout", "file", p0, "max_bytes", 1000, "keep", 0);
	/* Until the last line is written and the last rotation is done. */
	deadline = e2e_now_ms() + LG_WAIT_MS;
	for (;;) {
		found = count_text(path, last) + count_text(e2e_fmt(e, "%s.1",
		    path), last) + count_text(e2e_fmt(e, "%s.2", path), last);
		if ((found == 1 && file_size(e2e_fmt(e, "%s.1", path)) >=
		    900 && file_size(e2e_fmt(e, "%s.2", path)) >= 900) ||
		    e2e_now_ms() >= deadline)
			break;
		poll(NULL, 0, 5);
	}
	ck_assert_msg(found == 1, "the last line is in %d files", found);
	/* Rotated between lines (13 bytes each), never past max_bytes. */
	for (i = 1; i <= 2; i++) {
		ck_assert_msg(file_size(e2e_fmt(e, "%s.%d", path, i)) > 1000 -
		    13 && file_size(e2e_fmt(e, "%s.%d", path, i)) <= 1000,
		    "%s.%d: size %lld", path, i,
		    (long long)file_size(e2e_fmt(e, "%s.%d", path, i)));
		text = e2e_read_file(e, e2e_fmt(e, "%s.%d", path, i), 1000);
		ck_assert(text[0] == 'f' && text[strlen(text) - 1] == '\n');
	}
	ck_assert_msg(file_size(e2e_fmt(e, "%s.3", path)) == -1,
	    "keep 2, but %s.3 exists", path);
	ck_assert(log_wait(e, "r", "flood 025000", LG_WAIT_MS) != NULL);
	ck_assert_int_eq(count_text(e2e_path(e, "gtd.log"),
	    "child r: flood"), 0);
	/* keep 0: rotation leaves no old file. */
	ck_assert(log_wait(e, "z", "flood 025000", LG_WAIT_MS) != NULL);
	ck_assert_int_eq(file_size(e2e_fmt(e, "%s.1", p0)), -1);
	ck_assert_int_le(file_size(p0), 1000);
	e2e_stop(e);
}
END_TEST

/*
 * 100000 lines: `logs` returns at most 1000 (the newest, in order), gtd's
 * log gets at most 50 relayed lines per second, and gtd's memory stays
 * bounded (VmRSS, with generous slack).
 */
START_TEST(e2e_logs_ring_bounded)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*l, *ln;
	long		 rss0, rss1, prev = -1, no;
	size_t		 i;
	int		 relayed;

	e2e_spawn(e, "warmup", "--stdout=warm", NULL);
	ck_assert(log_wait(e, "warmup", "warm", LG_WAIT_MS) != NULL);
	rss0 = e2e_rss_kib(e2e_pid(e));
	e2e_spawn(e, "big", "--flood=100000", NULL);
	ck_assert_msg(log_wait(e, "big", "flood 100000", 10000) != NULL,
	    "the last of 100000 lines did not arrive");
	l = logs(e, "big", 1000);
	ck_assert_int_le(json_array_size(l), 1000);
	ck_assert_int_ge(json_array_size(l), 100);
	json_array_foreach(l, i, ln) {
		no = flood_no(json_string_value(json_object_get(ln, "line")));
		ck_assert_msg(prev == -1 || no == prev + 1,
		    "line %ld after %ld", no, prev);
		prev = no;
	}
	ck_assert_int_eq(prev, 100000);
	ck_assert_int_eq(json_array_size(logs(e, "big", 100)), 100);
	e2e_err(e, "bad_request", "logs", "{s:s, s:i}", "name", "big",
	    "lines", 1001);
	rss1 = e2e_rss_kib(e2e_pid(e));
	ck_assert_msg(rss1 - rss0 < rss_slack(16 * 1024), "gtd grew from %ld "
	    "to %ld KiB", rss0, rss1);
	relayed = count_text(e2e_path(e, "gtd.log"), "child big: flood");
	ck_assert_msg(relayed <= 50 * 12, "%d lines relayed to gtd's log",
	    relayed);
	e2e_stop(e);
}
END_TEST

/*
 * follow: after the reply, further lines come as `log` events (name,
 * stream, line, growing seq), across a restart; subscribe with events
 * ["log"] gets them too.
 */
START_TEST(e2e_logs_follow)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*c = e2e_client(e), *s = e2e_client(e);
	json_t		*ev;
	long		 no, prev = -1;
	json_int_t	 seq = -1;
	pid_t		 pid, again;
	int		 i;

	pid = e2e_spawn(e, "t", "--flood=0", "--flood-every-ms=10", NULL);
	e2e_spawn(e, "other", "--flood=0", "--flood-every-ms=10", NULL);
	ck_assert(log_wait(e, "t", "flood 000002", LG_WAIT_MS) != NULL);
	e2e_cok(c, "logs", "{s:s, s:i, s:b}", "name", "t", "lines", 0,
	    "follow", 1);
	e2e_cok(s, "subscribe", "{s:[s], s:[s]}", "events", "log", "names",
	    "t");
	for (i = 0; i < 5; i++) {
		ev = e2e_recv(c, LG_WAIT_MS);
		ck_assert_str_eq(e2e_str(ev, "event"), "log");
		ck_assert_str_eq(e2e_str(ev, "name"), "t");
		ck_assert_str_eq(e2e_str(ev, "stream"), "output");
		ck_assert(json_is_integer(e2e_get(ev, "at")));
		ck_assert_int_gt(e2e_int(ev, "seq"), seq);
		seq = e2e_int(ev, "seq");
		no = flood_no(e2e_str(ev, "line"));
		ck_assert_msg(no > prev, "line %ld after %ld", no, prev);
		prev = no;
		ev = e2e_recv(s, LG_WAIT_MS);
		ck_assert_str_eq(e2e_str(ev, "event"), "log");
		ck_assert_str_eq(e2e_str(ev, "name"), "t");
	}
	/* Across a restart: the new incarnation's lines follow too. */
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	again = e2e_wait_restarted(e, "t", pid, LG_WAIT_MS);
	ck_assert_int_gt(again, 0);
	for (i = 0; i < 1000; i++) {
		ev = e2e_recv(c, LG_WAIT_MS);
		ck_assert_str_eq(e2e_str(ev, "name"), "t");
		if (flood_no(e2e_str(ev, "line")) < prev)
			break;		/* numbering starts again */
		prev = flood_no(e2e_str(ev, "line"));
	}
	ck_assert_msg(i < 1000, "no line of the new incarnation");
	/* The follower still serves requests. */
	e2e_send_line(c, "{\"id\":\"p\",\"op\":\"ping\"}");
	for (i = 0; i < 1000; i++) {
		ev = e2e_recv(c, LG_WAIT_MS);
		if (json_object_get(ev, "event") == NULL)
			break;
	}
	ck_assert_str_eq(e2e_str(ev, "id"), "p");
	ck_assert(json_is_true(e2e_get(ev, "ok")));
	e2e_stop(e);
}
END_TEST

/* The number of a flood line as gtctl prints it: "TIME STREAM TEXT". */
static long
gtctl_flood_no(const char *line)
{
	const char	*p = line != NULL ? strstr(line, " flood ") : NULL;

	return (p != NULL ? flood_no(p + 1) : -1);
}

/* `gtctl logs -f NAME` prints the ring, then lines as they come. */
START_TEST(e2e_logs_gtctl_follow)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_proc	*p;
	const char	*line;
	json_t		*l;
	long		 newest, no = -1;

	e2e_spawn(e, "t", "--flood=0", "--flood-every-ms=20", NULL);
	ck_assert(log_wait(e, "t", "flood 000002", LG_WAIT_MS) != NULL);
	p = e2e_gtctl_bg(e, "logs", "-f", "t", NULL);
	line = e2e_proc_line(p, LG_WAIT_MS);
	ck_assert_msg(line != NULL, "gtctl logs -f printed nothing");
	ck_assert_msg(gtctl_flood_no(line) > 0, "gtctl printed %s", line);
	/* A line written after this point must show up. */
	l = logs(e, "t", 1);
	newest = flood_no(e2e_str(json_array_get(l, 0), "line"));
	while (no <= newest && (line = e2e_proc_line(p, LG_WAIT_MS)) != NULL)
		no = gtctl_flood_no(line);
	ck_assert_msg(no > newest, "gtctl logs -f: no line after %ld (%s)",
	    newest, line != NULL ? line : "timeout");
	e2e_proc_kill(p);
	e2e_stop(e);
}
END_TEST

/*
 * Children flooding their output (to the log and to a rotated file)
 * never starve requests: while they run, pings are answered within
 * 100 ms (99% of them: the floods and other tests share the CPUs, and
 * the scheduler may hold gtd back now and then; never more than 500 ms),
 * and gtd's memory stays bounded.
 */
START_TEST(e2e_logs_flood_no_starvation)
{
	struct e2e	*e = e2e_start(NULL);
	long		 t, worst = 0, end, rss0, rss1, deadline;
	int		 pings = 0, slow_pings = 0;

	e2e_spawn(e, "warmup", "--stdout=warm", NULL);
	ck_assert(log_wait(e, "warmup", "warm", LG_WAIT_MS) != NULL);
	rss0 = e2e_rss_kib(e2e_pid(e));
	e2e_spawn(e, "flood", "--flood=0", NULL);
	e2e_ok(e, "start_child", "{s:s, s:o, s:{s:s, s:i, s:i}}", "name",
	    "fflood", "cmd", e2e_cmd("--flood=0", NULL), "stdout", "file",
	    e2e_path(e, "flood.out"), "max_bytes", 1 << 20, "keep", 1);
	deadline = e2e_now_ms() + LG_WAIT_MS;
	while (json_array_size(logs(e, "flood", 1)) == 0 &&
	    e2e_now_ms() < deadline)
		poll(NULL, 0, 5);
	ck_assert_int_eq(json_array_size(logs(e, "flood", 1)), 1);
	end = e2e_now_ms() + 1500;
	while (e2e_now_ms() < end) {
		t = e2e_now_ms();
		e2e_ok(e, "ping", NULL);
		t = e2e_now_ms() - t;
		if (t > worst)
			worst = t;
		slow_pings += t > e2e_slow(LG_PING_MS);
		pings++;
		if (pings % 10 == 0)
			e2e_ok(e, "find", "{s:s}", "name", "flood");
	}
	ck_assert_msg(slow_pings * 100 <= pings, "%d of %d pings took over "
	    "%d ms while children flood", slow_pings, pings, LG_PING_MS);
	ck_assert_msg(worst <= e2e_slow(LG_STALL_MS), "a ping took %ld ms "
	    "(%d pings) while children flood", worst, pings);
	ck_assert_int_ge(pings, 10);
	/* The flood really ran: many lines, and the file rotated. */
	ck_assert_int_gt(flood_no(e2e_str(json_array_get(logs(e, "flood", 1),
	    0), "line")), 1000);
	ck_assert_msg(e2e_wait_text(e2e_path(e, "gtd.log"), "lines not shown",
	    3000), "the relay did not say it left lines out");
	rss1 = e2e_rss_kib(e2e_pid(e));
	ck_assert_msg(rss1 - rss0 < rss_slack(32 * 1024), "gtd grew from %ld "
	    "to %ld KiB", rss0, rss1);
	e2e_stop(e);
}
END_TEST

/*
 * Bytes that are not UTF-8 as JSON knows it (surrogates, overlong forms,
 * past U+10FFFF, stray continuation bytes, NUL) become U+FFFD: the line
 * is shown, never dropped.
 */
START_TEST(e2e_logs_bad_utf8)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*l;
#define U_FFFD	"\xef\xbf\xbd"
	const char	*want[] = { "ok1", U_FFFD U_FFFD U_FFFD " surrogate",
	    U_FFFD U_FFFD U_FFFD " overlong",
	    U_FFFD U_FFFD U_FFFD U_FFFD " big", U_FFFD " stray",
	    "n" U_FFFD "ul", "\xc3\xa9t\xc3\xa9", "ok2" };
#undef U_FFFD
	size_t		 i;

	e2e_ok(e, "start_child", "{s:s, s:[s,s,s]}", "name", "u", "cmd",
	    "/bin/sh", "-c", "printf 'ok1\\n\\355\\240\\200 surrogate\\n"
	    "\\340\\200\\257 overlong\\n\\364\\220\\200\\200 big\\n"
	    "\\200 stray\\nn\\000ul\\n\\303\\251t\\303\\251\\nok2\\n'; "
	    "exec sleep 600");
	ck_assert(log_wait(e, "u", "ok2", LG_WAIT_MS) != NULL);
	l = logs(e, "u", 100);
	ck_assert_uint_eq(json_array_size(l), 8);
	for (i = 0; i < 8; i++)
		ck_assert_str_eq(e2e_str(json_array_get(l, i), "line"),
		    want[i]);
	e2e_stop(e);
}
END_TEST

/*
 * The relay's "N lines not shown" comes at the end of the second even
 * when the child says nothing more.
 */
START_TEST(e2e_logs_dropped_reported)
{
	struct e2e	*e = e2e_start(NULL);

	e2e_ok(e, "start_child", "{s:s, s:o}", "name", "burst", "cmd",
	    e2e_cmd("--flood=300", NULL));
	ck_assert(log_wait(e, "burst", "flood 000300", LG_WAIT_MS) != NULL);
	ck_assert_msg(e2e_wait_text(e2e_path(e, "gtd.log"),
	    "child burst: ", 3000) && e2e_wait_text(e2e_path(e, "gtd.log"),
	    "lines not shown", 3000), "no count of the lines left out of "
	    "gtd's log after the child went quiet");
	e2e_stop(e);
}
END_TEST

/*
 * File paths expand %n and %z, so instances of a template get a file
 * each; two children rotating one file are refused (start_child with
 * the field, a config at load).
 */
START_TEST(e2e_logs_file_template)
{
	struct e2e	*e;
	char		 dir[] = "/tmp/gtd-lt-XXXXXX", *conf;
	const char	*err;
	json_t		*r;
	FILE		*f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	xasprintf(&conf, "{\"zone\":\"zz\",\"templates\":{\"w\":"
	    "{\"cmd\":[\"/bin/sh\",\"-c\",\"echo hello; exec sleep 600\"],"
	    "\"stdout\":{\"file\":\"%s/%%n-%%z.%%%%log\"}}}}", dir);
	e = e2e_start(conf);
	free(conf);
	e2e_ok(e, "start_child", "{s:s, s:s}", "name", "w1", "template", "w");
	e2e_ok(e, "start_child", "{s:s, s:s}", "name", "../w2", "template",
	    "w");
	xasprintf(&conf, "%s/w1-zz.%%log", dir);
	ck_assert(e2e_wait_text(conf, "hello", 5000));
	free(conf);
	xasprintf(&conf, "%s/_._w2-zz.%%log", dir);
	ck_assert(e2e_wait_text(conf, "hello", 5000));
	/* One rotated file for two children: refused, naming the field. */
	free(conf);
	xasprintf(&conf, "%s/w1-zz.%%%%log", dir);
	r = e2e_err(e, "bad_request", "start_child", "{s:s, s:[s], s:{s:s}}",
	    "name", "x1", "cmd", "/bin/true", "stdout", "file", conf);
	free(conf);
	ck_assert_str_eq(e2e_str(r, "field"), "stdout.file");
	ck_assert_msg(strstr(e2e_str(r, "message"), "w1") != NULL, "%s",
	    e2e_str(r, "message"));
	/* Without rotation (max_bytes 0) sharing an append-only file is ok. */
	e2e_ok(e, "start_child", "{s:s, s:[s,s], s:s, s:{s:s, s:i}}", "name",
	    "a1", "cmd", "/bin/echo", "a1", "restart", "temporary", "stderr",
	    "file", e2e_path(e, "shared.log"), "max_bytes", 0);
	e2e_ok(e, "start_child", "{s:s, s:[s,s], s:s, s:{s:s, s:i}}", "name",
	    "a2", "cmd", "/bin/echo", "a2", "restart", "temporary", "stderr",
	    "file", e2e_path(e, "shared.log"), "max_bytes", 0);
	ck_assert_ptr_nonnull(f = fopen(e2e_path(e, "bad.json"), "w"));
	fprintf(f, "{\"children\":[{\"name\":\"a\",\"cmd\":[\"/bin/true\"],"
	    "\"stdout\":{\"file\":\"/tmp/x-%%z.log\"}},{\"name\":\"b\","
	    "\"cmd\":[\"/bin/true\"],\"stderr\":{\"file\":\"/tmp/x-%%z.log\"}"
	    "}]}\n");
	fclose(f);
	ck_assert_int_ne(e2e_gtd_run(e, 5000, &err, "-n", "-c",
	    e2e_path(e, "bad.json"), NULL), 0);
	ck_assert_msg(strstr(err, "children.1.stderr.file") != NULL, "gtd -n: "
	    "%s", err);
	ck_assert_ptr_nonnull(f = fopen(e2e_path(e, "bad.json"), "w"));
	fprintf(f, "{\"children\":[{\"name\":\"a\",\"cmd\":[\"/bin/true\"],"
	    "\"stdout\":{\"file\":\"/tmp/%%x.log\"}}]}\n");
	fclose(f);
	ck_assert_int_ne(e2e_gtd_run(e, 5000, &err, "-n", "-c",
	    e2e_path(e, "bad.json"), NULL), 0);
	ck_assert_msg(strstr(err, "children.0.stdout.file") != NULL, "gtd -n: "
	    "%s", err);
	e2e_stop(e);
	xasprintf(&conf, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(conf), 0);
	free(conf);
}
END_TEST

/*
 * A line longer than max_bytes fills files of its own, max_bytes each:
 * no file ever grows past max_bytes.
 */
START_TEST(e2e_logs_file_long_line)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*path = e2e_path(e, "long.log");
	char		*line;
	int		 i;

	line = malloc(2501);
	ck_assert_ptr_nonnull(line);
	memset(line, 'x', 2500);
	line[2500] = '\0';
	e2e_ok(e, "start_child", "{s:s, s:[s,s,s], s:s, s:{s:s, s:i, s:i}}",
	    "name", "l", "cmd", "/usr/bin/printf", "a\\n%s\\nb\\n", line,
	    "restart", "temporary", "stdout", "file", path, "max_bytes",
	    1000, "keep", 5);
	free(line);
	ck_assert(e2e_wait_text(path, "b\n", 5000));
	/* "a" | 1000 x | 1000 x | 500 x and "b" */
	ck_assert_str_eq(e2e_read_file(e, e2e_fmt(e, "%s.3", path), 1000),
	    "a\n");
	for (i = 2; i >= 1; i--)
		ck_assert_int_eq(file_size(e2e_fmt(e, "%s.%d", path, i)),
		    1000);
	ck_assert_int_eq(file_size(path), 503);
	ck_assert_int_eq(file_size(e2e_fmt(e, "%s.4", path)), -1);
	ck_assert_str_eq(e2e_read_file(e, path, 1000) + 500, "\nb\n");
	e2e_stop(e);
}
END_TEST

Suite *
e2e_logs_suite(void)
{
	Suite	*s = suite_create("e2e_logs");
	TCase	*tc;

	tc = tcase_create("modes");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_logs_log_mode);
	tcase_add_test(tc, e2e_logs_inherit_null);
	tcase_add_test(tc, e2e_logs_file_rotation);
	suite_add_tcase(s, tc);

	tc = tcase_create("volume");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_logs_ring_bounded);
	tcase_add_test(tc, e2e_logs_flood_no_starvation);
	suite_add_tcase(s, tc);

	tc = tcase_create("follow");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_logs_follow);
	tcase_add_test(tc, e2e_logs_gtctl_follow);
	suite_add_tcase(s, tc);

	tc = tcase_create("hardening");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_logs_bad_utf8);
	tcase_add_test(tc, e2e_logs_dropped_reported);
	tcase_add_test(tc, e2e_logs_file_template);
	tcase_add_test(tc, e2e_logs_file_long_line);
	suite_add_tcase(s, tc);
	return (s);
}
