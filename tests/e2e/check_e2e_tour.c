/* SPDX-License-Identifier: MIT */
/*
 * check_e2e_tour: the tour of README.md, run as written.  The commands
 * are read from README.md itself, between "<!-- tour -->" and
 * "<!-- /tour -->", and run one by one with /bin/sh against gtd with
 * contrib/demo.json, as `make run` starts it; each must exit as the
 * table below says and print its key part.  A tour line without a check
 * here, or a check for a line no longer in the tour, fails the test, so
 * the README cannot drift from the product unnoticed.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "gt/xmalloc.h"
#include "harness.h"

#define TOUR_MAX	64		/* lines in the tour */
#define TOUR_WAIT_MS	15000		/* for a line's precondition */
#define TOUR_DEMO_SOCK	"/tmp/gtd-demo/gtd.sock"

/* What one tour line must do. */
struct tour_check {
	const char	*cmd;		/* as in README.md, without comment */
	int		 status;	/* its exit status */
	const char	*out;		/* in its stdout (NULL: anything) */
	const char	*err;		/* in its stderr (NULL: anything) */
	int		 flags;
#define TOUR_ENV	0x01	/* the export line: the test sets it up */
#define TOUR_FOLLOW	0x02	/* prints until killed: out within the wait */
#define TOUR_PID	0x04	/* stdout is a pid */
#define TOUR_SAME	0x08	/* ... the one of the line before */
#define TOUR_NEW	0x10	/* ... another one */
#define TOUR_DIGITS	0x20	/* stdout is a number */
#define TOUR_ADOPT	0x40	/* its pid must be killed at the end */
	const char	*logs;		/* first: this child has written */
	const char	*running;	/* first: this child runs */
	const char	*out2;		/* also in its stdout */
};

#define TOUR(c, st, o)	.cmd = (c), .status = (st), .out = (o)
static const struct tour_check tour_checks[] = {
	{ TOUR("export GTD_SOCKET=" TOUR_DEMO_SOCK " PATH=$PWD/build:$PATH",
	  0, NULL), .flags = TOUR_ENV },
	{ TOUR("gtctl ls", 0, "ticker "), .running = "ticker",
	  .out2 = "running" },
	{ TOUR("gtctl list", 0, "counts seconds in its attrs") },
	{ TOUR("gtctl info ticker", 0, "state: running"),
	  .out2 = "attrs.ticks: " },
	{ TOUR("gtctl attr get ticker ticks", 0, NULL), .flags = TOUR_DIGITS },
	{ TOUR("gtctl logs flaky", 0, "flaky: up as pid"), .logs = "flaky" },
	{ TOUR("gtctl logs", 0, "hello from oneshot in zone demo"),
	  .logs = "oneshot", .out2 = "flaky: up as pid" },
	{ TOUR("gtctl logs -f flaky", 0, "flaky: up as pid"),
	  .flags = TOUR_FOLLOW },
	{ TOUR("gtctl events --since 0", 0, "started ticker"),
	  .flags = TOUR_FOLLOW },
	{ TOUR("gtctl query \"SELECT name, state, restart_count FROM "
	  "children\"", 0, "restart_count"), .out2 = "ticker " },
	{ TOUR("gtctl query 'SELECT name, value FROM attrs WHERE key = ?' "
	  "ticks", 0, "ticker ") },
	{ TOUR("gtctl open web -- sleep infinity", 0, NULL),
	  .flags = TOUR_PID },
	{ TOUR("gtctl open web -- sleep infinity", 0, NULL),
	  .flags = TOUR_PID | TOUR_SAME },
	{ TOUR("gtctl kill web USR1", 0, "") },
	{ TOUR("gtctl restart web", 0, NULL), .flags = TOUR_PID | TOUR_NEW },
	{ TOUR("gtctl stop web", 0, "stopped on request: SIGTERM\n"),
	  .running = "web" },
	{ TOUR("gtctl start web", 1, ""), .err = "gtctl restart web" },
	{ TOUR("gtctl stop 'web*' flaky", 0, "web: already stopped"),
	  .out2 = "flaky: " },
	{ TOUR("gtctl start all", 0, "web: started, pid "),
	  .out2 = "flaky: started, pid " },
	{ TOUR("sleep 300 & gtctl adopt napper pid=$!", 0, NULL),
	  .flags = TOUR_PID | TOUR_ADOPT },
	{ TOUR("gtctl release napper", 0, "") },
	{ TOUR("gtctl reload --dry-run", 0, "unchanged: "), .out2 = "ticker" },
	{ TOUR("gtctl reload", 0, "unchanged: "), .out2 = "ticker" },
	{ TOUR("gtctl help logs", 0, "usage: gtctl logs ") },
	{ TOUR("gtctl --help", 0, "usage: gtctl ") },
	{ TOUR("gtctl raw '{\"op\":\"find\",\"name\":\"ticker\"}'", 0,
	  "\"ok\":true") },
	{ TOUR("gtctl raw '{\"op\":\"which_children\"}'", 0,
	  "\"children\":[") },
};

/* The tour's lines of README.md, comments cut; returns how many. */
static int
tour_read(struct e2e *e, const char **lines, int max)
{
	const char	*readme, *p, *end, *stop;
	char		*line, *c;
	int		 n = 0;
	bool		 in = false;

	readme = e2e_read_file(e, getenv("GT_README") != NULL ?
	    getenv("GT_README") : "README.md", 1000);
	for (p = readme; *p != '\0'; p = *end == '\n' ? end + 1 : end) {
		end = strchrnul(p, '\n');
		if (strncmp(p, "<!-- tour -->", 13) == 0) {
			in = true;
			continue;
		}
		if (strncmp(p, "<!-- /tour -->", 14) == 0) {
			in = false;
			continue;
		}
		if (!in || end - p < 5 || strncmp(p, "    ", 4) != 0)
			continue;
		line = xstrndup(p + 4, end - p - 4);
		/* A comment starts with "#" after blanks; none is quoted. */
		for (c = line; (c = strchr(c, '#')) != NULL; c++)
			if (c > line && (c[-1] == ' ' || c[-1] == '\t')) {
				*c = '\0';
				break;
			}
		for (stop = line + strlen(line); stop > line &&
		    (stop[-1] == ' ' || stop[-1] == '\t'); stop--)
			;
		line[stop - line] = '\0';
		ck_assert_msg(n < max, "more than %d tour lines", max);
		lines[n++] = e2e_fmt(e, "%s", line);
		free(line);
	}
	ck_assert_msg(!in, "README.md: <!-- tour --> without <!-- /tour -->");
	return (n);
}

/* The check of cmd, by its place among equal lines (nth: 0, 1...). */
static const struct tour_check *
tour_find(const char *cmd, int nth)
{
	size_t	i;

	for (i = 0; i < sizeof tour_checks / sizeof tour_checks[0]; i++)
		if (strcmp(tour_checks[i].cmd, cmd) == 0 && nth-- == 0)
			return (&tour_checks[i]);
	return (NULL);
}

/* Wait until name has written a line that gtd kept. */
static void
tour_wait_logs(struct e2e *e, const char *name)
{
	long	deadline = e2e_now_ms() + e2e_slow(TOUR_WAIT_MS);
	json_t	*r;

	for (;;) {
		r = e2e_req(e, "logs", "{s:s}", "name", name);
		if (json_is_true(json_object_get(r, "ok")) &&
		    json_array_size(json_object_get(r, "lines")) > 0)
			return;
		ck_assert_msg(e2e_now_ms() < deadline, "%s wrote nothing",
		    name);
		poll(NULL, 0, 10);
	}
}

/* A follow line: run it in the background until out shows. */
static void
tour_follow(struct e2e *e, const struct tour_check *t)
{
	struct e2e_proc	*p;
	const char	*argv[8], *l;
	char		*copy, *w, *save = NULL;
	long		 deadline = e2e_now_ms() + e2e_slow(TOUR_WAIT_MS);
	int		 n = 0;

	copy = xstrdup(t->cmd);
	for (w = strtok_r(copy, " ", &save); w != NULL && n < 7;
	    w = strtok_r(NULL, " ", &save))
		argv[n++] = w;
	argv[n] = NULL;
	ck_assert_msg(n > 0 && strcmp(argv[0], "gtctl") == 0,
	    "a follow line runs gtctl: %s", t->cmd);
	p = e2e_gtctl_bg(e, argv[1], argv[2], argv[3], argv[4], argv[5],
	    argv[6], NULL);
	for (;;) {
		l = e2e_proc_line(p, (int)(deadline - e2e_now_ms()));
		if (l != NULL && strstr(l, t->out) != NULL)
			break;
		ck_assert_msg(l != NULL && e2e_now_ms() < deadline,
		    "%s: no line with \"%s\"", t->cmd, t->out);
	}
	e2e_proc_kill(p);
	free(copy);
}

/* Run one tour line with /bin/sh and check it; *pid: the last pid. */
static void
tour_run(struct e2e *e, const struct tour_check *t, pid_t *pid,
    pid_t *adopted)
{
	const char	*out, *err, *script;
	pid_t		 got;
	int		 st;

	if (t->logs != NULL)
		tour_wait_logs(e, t->logs);
	if (t->running != NULL)
		ck_assert_msg(e2e_wait_state(e, t->running, "running",
		    e2e_slow(TOUR_WAIT_MS)), "%s: %s is not running", t->cmd,
		    t->running);
	if (t->flags & TOUR_FOLLOW) {
		tour_follow(e, t);
		return;
	}
	/*
	 * Output to files, so a background job of the line (sleep 300 &)
	 * holds no pipe of ours open.
	 */
	script = e2e_fmt(e, "exec >%s 2>%s </dev/null; %s",
	    e2e_path(e, "tour.out"), e2e_path(e, "tour.err"), t->cmd);
	st = e2e_exec(e, true, NULL, NULL, "/bin/sh", "-c", script, NULL);
	out = e2e_read_file(e, e2e_path(e, "tour.out"), 1000);
	err = e2e_read_file(e, e2e_path(e, "tour.err"), 1000);
	ck_assert_msg(st == t->status, "%s: exit %d, want %d; stdout: %s; "
	    "stderr: %s", t->cmd, st, t->status, out, err);
	if (t->out != NULL && *t->out == '\0')
		ck_assert_msg(*out == '\0', "%s: printed %s", t->cmd, out);
	else if (t->out != NULL)
		ck_assert_msg(strstr(out, t->out) != NULL, "%s: no \"%s\" in: "
		    "%s", t->cmd, t->out, out);
	if (t->out2 != NULL)
		ck_assert_msg(strstr(out, t->out2) != NULL, "%s: no \"%s\" in:"
		    " %s", t->cmd, t->out2, out);
	if (t->err != NULL)
		ck_assert_msg(strstr(err, t->err) != NULL, "%s: no \"%s\" in "
		    "stderr: %s", t->cmd, t->err, err);
	if (t->flags & TOUR_DIGITS)
		ck_assert_msg(out[strspn(out, "0123456789")] == '\n' &&
		    out[0] != '\n', "%s: not a number: %s", t->cmd, out);
	if (!(t->flags & TOUR_PID))
		return;
	got = (pid_t)atoi(out);
	ck_assert_msg(got > 1 && out[strspn(out, "0123456789")] == '\n',
	    "%s: not a pid: %s", t->cmd, out);
	if (t->flags & TOUR_SAME)
		ck_assert_int_eq(got, *pid);
	if (t->flags & TOUR_NEW)
		ck_assert_int_ne(got, *pid);
	if (t->flags & TOUR_ADOPT)
		*adopted = got;
	*pid = got;
}

/* The whole file at path (xmalloc'd); fails the test if unreadable. */
static char *
tour_slurp(const char *path)
{
	FILE	*f;
	char	*buf;
	long	 n;

	ck_assert_msg((f = fopen(path, "re")) != NULL, "%s: %s", path,
	    strerror(errno));
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	ck_assert_int_ge(n = ftell(f), 0);
	rewind(f);
	buf = xmalloc(n + 1);
	ck_assert_int_eq(fread(buf, 1, n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return (buf);
}

/* PATH with the directory of $GTCTL first, as the export line says. */
static void
tour_path(void)
{
	char	 gtctl[PATH_MAX], *path;

	ck_assert_ptr_nonnull(realpath(getenv("GTCTL") != NULL ?
	    getenv("GTCTL") : "build/gtctl", gtctl));
	xasprintf(&path, "%s:%s", dirname(gtctl), getenv("PATH") != NULL ?
	    getenv("PATH") : "/usr/bin:/bin");
	setenv("PATH", path, 1);
	free(path);
}

START_TEST(e2e_tour_readme)
{
	const char		*lines[TOUR_MAX];
	char			*conf;
	const struct tour_check	*t;
	bool			 used[sizeof tour_checks /
				    sizeof tour_checks[0]] = { false };
	struct e2e		*e;
	pid_t			 pid = 0, adopted = 0;
	int			 n, i, j, nth;

	tour_path();
	conf = tour_slurp("contrib/demo.json");
	e = e2e_start(conf);
	free(conf);
	n = tour_read(e, lines, TOUR_MAX);
	ck_assert_msg(n > 10, "README.md: only %d tour lines", n);
	for (i = 0; i < n; i++) {
		for (j = nth = 0; j < i; j++)
			if (strcmp(lines[j], lines[i]) == 0)
				nth++;
		t = tour_find(lines[i], nth);
		ck_assert_msg(t != NULL, "README.md tour line without a check "
		    "in check_e2e_tour.c: %s", lines[i]);
		used[t - tour_checks] = true;
		if (!(t->flags & TOUR_ENV))
			tour_run(e, t, &pid, &adopted);
	}
	for (i = 0; i < (int)(sizeof tour_checks / sizeof tour_checks[0]); i++)
		ck_assert_msg(used[i], "check_e2e_tour.c checks a line that "
		    "is not in the README.md tour: %s", tour_checks[i].cmd);
	/* The released napper runs on, as the tour says: end it. */
	ck_assert(adopted > 0 && e2e_pid_alive(adopted));
	kill(adopted, SIGKILL);
	ck_assert(e2e_wait_dead(adopted, 3000));
	e2e_stop(e);
}
END_TEST

/* The export line names the socket that `make run` uses. */
START_TEST(e2e_tour_demo_socket)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*mk;

	mk = e2e_read_file(e, "Makefile", 1000);
	ck_assert_msg(strstr(mk, "RUN_DIR ?= /tmp/gtd-demo\n") != NULL &&
	    strstr(mk, "-s $(RUN_DIR)/gtd.sock") != NULL &&
	    strstr(mk, "-c contrib/demo.json") != NULL,
	    "make run no longer serves contrib/demo.json on "
	    TOUR_DEMO_SOCK);
	e2e_stop(e);
}
END_TEST

Suite *
e2e_tour_suite(void)
{
	Suite	*s = suite_create("e2e_tour");
	TCase	*tc = tcase_create("tour");

	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, e2e_tour_readme);
	tcase_add_test(tc, e2e_tour_demo_socket);
	suite_add_tcase(s, tc);
	return (s);
}
