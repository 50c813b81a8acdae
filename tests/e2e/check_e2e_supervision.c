/* SPDX-License-Identifier: MIT */
/*
 * check_e2e_supervision: the acceptance tests of supervision against the
 * real daemon.  Restart policy (transient success codes, backoff, restart
 * intensity and on_give_up, the on_exit ladder, restart_count, no
 * resurrection after terminate_child, the supervisor's default shutdown);
 * readiness (notify with credentials, STATUS and WATCHDOG, ready fd,
 * ready_timeout_ms, exits before ready, wait:false); after_terminate
 * hooks; add_existing_child, release, signal, getattr wait_ms and info;
 * and the shutdown of children in every state.
 *
 * Time-based behaviour is checked as conditions with tolerances: delays
 * are measured between the "at" stamps of subscribe events (gtd's own
 * clock), or around a reply on the test's monotonic clock.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "harness.h"

/* A hook that appends its stdin (one JSON line) to DIR/FILE. */
#define HOOK_APPEND	"cat >> \"$0/$1\""
/* A hook that writes stdin to DIR/TAG.json and env to DIR/TAG.env. */
#define HOOK_DUMP	"cat > \"$0/$1.tmp\" && env > \"$0/$1.etmp\" && " \
			"mv \"$0/$1.etmp\" \"$0/$1.env\" && " \
			"mv \"$0/$1.tmp\" \"$0/$1.json\""

static json_t	*held;		/* every JSON value parsed here */

static json_t		*hold(json_t *);
static void		 stop(struct e2e *);
static struct e2e_conn	*subscribe(struct e2e *, const char *);
static long		 at_of(json_t *);
static void		 send_req(struct e2e_conn *, int, const char *,
			    const char *, ...);
static void		 touch(const char *);
static json_t		*hook_sh(struct e2e *, const char *, const char *);
static json_t		*read_json(struct e2e *, const char *, int);
static json_t		*json_lines(struct e2e *, const char *);
static const char	*proc_env(struct e2e *, pid_t, const char *, int);
static void		 notify_send(const char *, const char *);
static pid_t		 fork_stray(struct e2e *);
static pid_t		 dead_pid(void);
static json_int_t	 row_int(struct e2e *, const char *, const char *);
static const char	*row_state(struct e2e *, const char *);

static json_t *
hold(json_t *j)
{
	if (held == NULL)
		held = json_array();
	json_array_append_new(held, j);
	return (j);
}

/* e2e_stop, then free what this file parsed (ASan checks leaks). */
static void
stop(struct e2e *e)
{
	e2e_stop(e);
	json_decref(held);
	held = NULL;
}

/* A new connection subscribed to the default events of name (NULL: all). */
static struct e2e_conn *
subscribe(struct e2e *e, const char *name)
{
	struct e2e_conn	*c = e2e_client(e);

	if (name != NULL)
		e2e_cok(c, "subscribe", "{s:[s]}", "names", name);
	else
		e2e_cok(c, "subscribe", NULL);
	return (c);
}

static long
at_of(json_t *ev)
{
	return ((long)e2e_int(ev, "at"));
}

/* Send {"id":id, "op":op, ...fmt} on c without waiting for the reply. */
static void
send_req(struct e2e_conn *c, int id, const char *op, const char *fmt, ...)
{
	json_error_t	 je;
	va_list		 ap;
	json_t		*req;
	char		*line;

	if (fmt != NULL) {
		va_start(ap, fmt);
		req = json_vpack_ex(&je, 0, fmt, ap);
		va_end(ap);
		ck_assert_msg(req != NULL, "json_pack %s: %s", fmt, je.text);
	} else
		req = json_object();
	json_object_set_new(req, "id", json_integer(id));
	json_object_set_new(req, "op", json_string(op));
	line = json_dumps(req, JSON_COMPACT);
	e2e_send_line(c, line);
	free(line);
	json_decref(req);
}

static void
touch(const char *path)
{
	int	fd;

	ck_assert_msg((fd = open(path, O_WRONLY|O_CREAT|O_CLOEXEC, 0644)) !=
	    -1, "%s: %s", path, strerror(errno));
	close(fd);
}

/* ["/bin/sh", "-c", script, DIR, arg]: a hook. */
static json_t *
hook_sh(struct e2e *e, const char *script, const char *arg)
{
	return (json_pack("[s, s, s, s, s]", "/bin/sh", "-c", script,
	    e2e_dir(e), arg));
}

/* Wait for path and parse it as one JSON object. */
static json_t *
read_json(struct e2e *e, const char *path, int ms)
{
	const char	*s = e2e_read_file(e, path, ms);
	json_t		*j;

	j = json_loads(s, 0, NULL);
	ck_assert_msg(json_is_object(j), "%s: not a JSON object: %s", path, s);
	return (hold(j));
}

/* Every line of path as JSON, in a (held) array; empty if no file. */
static json_t *
json_lines(struct e2e *e, const char *path)
{
	const char	*s, *nl;
	json_t		*a = hold(json_array()), *j;

	if (e2e_count_lines(path) <= 0)
		return (a);
	s = e2e_read_file(e, path, 0);
	for (; *s != '\0'; s = nl + 1) {
		if ((nl = strchr(s, '\n')) == NULL)
			break;
		j = json_loadb(s, nl - s, 0, NULL);
		ck_assert_msg(json_is_object(j), "%s: bad line %.*s", path,
		    (int)(nl - s), s);
		json_array_append_new(a, j);
	}
	return (a);
}

/* The value of key in /proc/pid/environ once it has one (after exec). */
static const char *
proc_env(struct e2e *e, pid_t pid, const char *key, int ms)
{
	char	 path[64], buf[65536];
	long	 deadline = e2e_now_ms() + ms;
	size_t	 kl = strlen(key), len;
	ssize_t	 n;
	char	*p;
	int	 fd;

	snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
	for (;;) {
		if ((fd = open(path, O_RDONLY|O_CLOEXEC)) != -1) {
			len = 0;
			while (len < sizeof buf - 1 && (n = read(fd, buf + len,
			    sizeof buf - 1 - len)) > 0)
				len += n;
			close(fd);
			buf[len] = '\0';
			for (p = buf; p < buf + len; p += strlen(p) + 1)
				if (strncmp(p, key, kl) == 0 && p[kl] == '=')
					return (e2e_fmt(e, "%s", p + kl + 1));
		}
		if (e2e_now_ms() >= deadline)
			return (NULL);
		poll(NULL, 0, 5);
	}
}

/* One datagram to an sd_notify socket ('@': abstract), from the test. */
static void
notify_send(const char *path, const char *msg)
{
	struct sockaddr_un	sun;
	socklen_t		len;
	size_t			n = strlen(path);
	int			fd;

	ck_assert_uint_lt(n, sizeof sun.sun_path);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, n);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	len = offsetof(struct sockaddr_un, sun_path) + n +
	    (path[0] == '@' ? 0 : 1);
	ck_assert_int_ne(fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0),
	    -1);
	ck_assert_msg(sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&sun,
	    len) == (ssize_t)strlen(msg), "sendto %s: %s", path,
	    strerror(errno));
	close(fd);
}

/*
 * A process of the test's own (not gtd's): gt-testchild waiting forever
 * in its own session, with GTD_SOCKET=DIR/sock so that the harness finds
 * and kills it should the test fail.  The test reaps it.
 */
static pid_t
fork_stray(struct e2e *e)
{
	const char	*tc = e2e_testchild(e);
	pid_t		 pid;

	fflush(NULL);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		setsid();
		setenv("GTD_SOCKET", e2e_sock(e), 1);
		execl(tc, tc, (char *)NULL);
		_exit(127);
	}
	return (pid);
}

/* SIGKILL and reap a process of fork_stray. */
static void
kill_stray(pid_t pid)
{
	int	st;

	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
}

/* The pid of a process that existed and is gone (reaped). */
static pid_t
dead_pid(void)
{
	pid_t	pid;
	int	st;

	fflush(NULL);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return (pid);
}

static json_int_t
row_int(struct e2e *e, const char *name, const char *key)
{
	json_t	*row = e2e_row(e, name);

	ck_assert_msg(row != NULL, "no row %s", name);
	return (e2e_int(row, key));
}

static const char *
row_state(struct e2e *e, const char *name)
{
	json_t	*row = e2e_row(e, name);

	return (row == NULL ? "(absent)" : e2e_str(row, "state"));
}

/* 1. Restart policy. */

/* transient: an exit in success_exit_codes removes the row; others restart. */
START_TEST(e2e_sup_transient_success_codes)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*ev = subscribe(e, NULL);
	json_t		*r;
	pid_t		 pid, pid2;
	int		 i, seen = 0;

	e2e_ok(e, "start_child", "{s:s, s:o, s:s, s:[i, i]}", "name", "seven",
	    "cmd", e2e_cmd("--exit-after-ms=50", "--exit-code=7", NULL),
	    "restart", "transient", "success_exit_codes", 0, 7);
	e2e_ok(e, "start_child", "{s:s, s:o, s:s, s:[i, i]}", "name", "zero",
	    "cmd", e2e_cmd("--exit-after-ms=50", "--exit-code=0", NULL),
	    "restart", "transient", "success_exit_codes", 0, 7);
	/* Both rows go, in whichever order their exits are reaped. */
	for (i = 0; i < 2; i++) {
		r = e2e_next_event(ev, NULL, "deleted", 3000);
		ck_assert_ptr_nonnull(r);
		seen |= strcmp(e2e_str(r, "name"), "seven") == 0 ? 1 : 2;
	}
	ck_assert_int_eq(seen, 3);
	ck_assert_ptr_null(e2e_row(e, "seven"));
	ck_assert_ptr_null(e2e_row(e, "zero"));
	/* 3 is not a success: restarted, restart_count 1 */
	pid = (pid_t)e2e_int(e2e_ok(e, "start_child", "{s:s, s:o, s:s, "
	    "s:[i, i], s:i}", "name", "three", "cmd",
	    e2e_cmd("--exit-after-ms=100", "--exit-code=3", NULL),
	    "restart", "transient", "success_exit_codes", 0, 7,
	    "restart_delay_ms", 100), "pid");
	r = e2e_next_event(ev, "three", "exited", 3000);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(e2e_int(e2e_get(r, "reason"), "exit_status"), 3);
	r = e2e_next_event(ev, "three", "started", 3000);
	ck_assert_ptr_nonnull(r);
	pid2 = (pid_t)e2e_int(r, "pid");
	ck_assert_int_ne(pid2, pid);
	ck_assert_int_ge(row_int(e, "three", "restart_count"), 1);
	stop(e);
}
END_TEST

/*
 * Backoff with jitter 0: delays 100, 200, 400, then capped at max_ms
 * 400; after an incarnation that ran reset_after_ms the delay is 100
 * again.  Each delay is the gap between the "exited" and the next
 * "started" event of gtd.
 */
START_TEST(e2e_sup_backoff)
{
	static const long	 want[] = { 100, 200, 400, 400, 100 };
	struct e2e		*e = e2e_start(NULL);
	struct e2e_conn		*ev = subscribe(e, "b");
	const char		*seen = "";
	json_t			*x, *st;
	long			 d[5];
	pid_t			 pid;
	int			 i;

	e2e_ok(e, "start_child", "{s:s, s:o, s:i, s:i, s:{s:i, s:i, s:i, "
	    "s:f}}", "name", "b", "cmd", e2e_cmd(NULL), "restart_delay_ms",
	    100, "max_restarts", 0, "backoff", "factor", 2, "max_ms", 400,
	    "reset_after_ms", 600, "jitter", 0.0);
	ck_assert_ptr_nonnull(st = e2e_next_event(ev, "b", "started", 3000));
	pid = (pid_t)e2e_int(st, "pid");
	for (i = 0; i < 5; i++) {
		if (i == 4)	/* this one runs past reset_after_ms */
			ck_assert_msg(e2e_next_event(ev, "b", "exited", 700) ==
			    NULL, "incarnation %d died by itself", (int)pid);
		ck_assert_int_eq(kill(pid, SIGKILL), 0);
		ck_assert_ptr_nonnull(x = e2e_next_event(ev, "b", "exited",
		    3000));
		ck_assert_str_eq(e2e_str(e2e_get(x, "reason"), "signal"),
		    "SIGKILL");
		ck_assert_ptr_nonnull(st = e2e_next_event(ev, "b", "started",
		    3000));
		d[i] = at_of(st) - at_of(x);
		seen = e2e_fmt(e, "%s %ld", seen, d[i]);
		pid = (pid_t)e2e_int(st, "pid");
	}
	for (i = 0; i < 5; i++)
		ck_assert_msg(d[i] >= want[i] - 2 && d[i] < want[i] +
		    want[i] * 3 / 4, "restart delays (ms):%s; want 100 200 "
		    "400 400 100 (delay %d)", seen, i + 1);
	ck_assert_int_eq(row_int(e, "b", "restart_count"), 5);
	stop(e);
}
END_TEST

/* Restarts spread wider than max_period_ms never give up. */
START_TEST(e2e_sup_intensity_window)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*ev = subscribe(e, "w");
	long		 deadline;

	/* restarts >= 200 ms apart; at most one within any 300 ms */
	e2e_ok(e, "start_child", "{s:s, s:o, s:i, s:i, s:i, s:{s:i, s:f}}",
	    "name", "w", "cmd", e2e_cmd("--exit-after-ms=10", "--exit-code=1",
	    NULL), "restart_delay_ms", 200, "max_restarts", 2,
	    "max_period_ms", 300, "backoff", "factor", 1, "jitter", 0.0);
	deadline = e2e_now_ms() + 5000;
	while (row_int(e, "w", "restart_count") < 4 &&
	    e2e_now_ms() < deadline)
		poll(NULL, 0, 10);
	ck_assert_msg(row_int(e, "w", "restart_count") >= 4, "%s",
	    e2e_dump(e, e2e_row(e, "w")));
	ck_assert_ptr_null(e2e_next_event(ev, "w", "gave_up", 0));
	ck_assert_str_ne(row_state(e, "w"), "stopped");
	stop(e);
}
END_TEST

START_TEST(e2e_sup_give_up_stop)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*ev = subscribe(e, "gs");
	json_t		*r;
	pid_t		 pid;

	e2e_start_give_up(e, "gs", "stop");
	ck_assert_ptr_nonnull(r = e2e_next_event(ev, "gs", "gave_up", 5000));
	ck_assert_str_eq(e2e_str(r, "action"), "stop");
	ck_assert_ptr_nonnull(e2e_next_event(ev, "gs", "stopped", 3000));
	ck_assert_str_eq(row_state(e, "gs"), "stopped");
	ck_assert_int_eq(row_int(e, "gs", "restart_count"), 2);
	ck_assert_int_eq(e2e_count_lines(e2e_path(e, "gs")), 3);
	/* It stays stopped: nothing is spawned any more. */
	ck_assert_ptr_null(e2e_next_event(ev, "gs", "started", 500));
	ck_assert_str_eq(row_state(e, "gs"), "stopped");
	ck_assert_int_eq(e2e_count_lines(e2e_path(e, "gs")), 3);
	r = e2e_err(e, "not_found", "find", "{s:s}", "name", "gs");
	ck_assert_str_eq(e2e_str(r, "state"), "stopped");
	/* until restart_child */
	pid = (pid_t)e2e_int(e2e_ok(e, "restart_child", "{s:s}", "name",
	    "gs"), "pid");
	ck_assert_int_gt(pid, 0);
	ck_assert(e2e_wait_lines(e2e_path(e, "gs"), 4, 3000));
	stop(e);
}
END_TEST

START_TEST(e2e_sup_give_up_delete)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*ev = subscribe(e, "gd");
	json_t		*r;

	e2e_start_give_up(e, "gd", "delete");
	ck_assert_ptr_nonnull(r = e2e_next_event(ev, "gd", "gave_up", 5000));
	ck_assert_str_eq(e2e_str(r, "action"), "delete");
	ck_assert_ptr_nonnull(e2e_next_event(ev, "gd", "deleted", 3000));
	ck_assert_ptr_null(e2e_row(e, "gd"));
	ck_assert_int_eq(e2e_count_lines(e2e_path(e, "gd")), 3);
	e2e_err(e, "not_found", "info", "{s:s}", "name", "gd");
	stop(e);
}
END_TEST

/* exit_daemon: every child is stopped and gtd exits non-zero. */
START_TEST(e2e_sup_give_up_exit_daemon)
{
	struct e2e	*e = e2e_start(NULL);
	pid_t		 by1, by2;
	long		 t0;
	int		 st;

	by1 = e2e_spawn(e, "by1", NULL);
	by2 = (pid_t)e2e_int(e2e_ok(e, "start_child", "{s:s, s:o, "
	    "s:{s:s, s:i}}", "name", "by2", "cmd", e2e_cmd("--ignore-term",
	    e2e_ready_arg(e, "by2"), NULL), "shutdown", "signal", "TERM",
	    "timeout_ms", 300), "pid");
	e2e_wait_ready(e, "by2");
	t0 = e2e_now_ms();
	e2e_start_give_up(e, "gx", "exit_daemon");
	ck_assert_msg(e2e_wait_exit(e, 5000, &st), "gtd did not exit");
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) != 0, "gtd exit "
	    "status 0x%x, want a non-zero exit", st);
	ck_assert_msg(e2e_now_ms() - t0 < 3000, "exit_daemon took %ld ms",
	    e2e_now_ms() - t0);
	ck_assert(e2e_wait_dead(by1, 3000));
	ck_assert(e2e_wait_dead(by2, 3000));
	ck_assert_int_eq(e2e_count_lines(e2e_path(e, "gx")), 3);
	e2e_expect_exit(e, -1);		/* checked above: non-zero */
	stop(e);
}
END_TEST

/*
 * on_exit ladder: exits 1 and 2 restart at once, exit 3 after 300 ms,
 * exit 4 stops the row.
 */
START_TEST(e2e_sup_on_exit_ladder)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*ev = subscribe(e, "l");
	const char	*spawns = e2e_path(e, "spawns");
	json_t		*x, *st;
	long		 gap[3];
	int		 i;

	e2e_ok(e, "start_child", "{s:s, s:o, s:[{s:i, s:s}, {s:i, s:s, s:i}, "
	    "{s:s}]}", "name", "l", "cmd", e2e_cmd("--exit-after-ms=50",
	    "--exit-code=1", e2e_fmt(e, "--append-pid=%s", spawns), NULL),
	    "on_exit", "upto", 2, "action", "restart", "upto", 3, "action",
	    "restart", "delay_ms", 300, "action", "stop");
	for (i = 0; i < 3; i++) {
		ck_assert_ptr_nonnull(x = e2e_next_event(ev, "l", "exited",
		    3000));
		ck_assert_ptr_nonnull(st = e2e_next_event(ev, "l", "started",
		    3000));
		gap[i] = at_of(st) - at_of(x);
	}
	ck_assert_msg(gap[0] < 150 && gap[1] < 150 && gap[2] >= 298 &&
	    gap[2] < 1000, "restart gaps %ld %ld %ld ms, want 0 0 300",
	    gap[0], gap[1], gap[2]);
	ck_assert_ptr_nonnull(e2e_next_event(ev, "l", "exited", 3000));
	ck_assert_ptr_nonnull(e2e_next_event(ev, "l", "stopped", 3000));
	ck_assert_str_eq(row_state(e, "l"), "stopped");
	ck_assert_int_eq(row_int(e, "l", "restart_count"), 3);
	ck_assert_ptr_null(e2e_next_event(ev, "l", "started", 400));
	ck_assert_int_eq(e2e_count_lines(spawns), 4);
	stop(e);
}
END_TEST

/*
 * restart_count: +1 per policy restart; a manual restart_child does not
 * count; delete_child + start_child starts again from 0.
 */
START_TEST(e2e_sup_restart_count)
{
	struct e2e	*e = e2e_start(NULL);
	pid_t		 pid;

	pid = (pid_t)e2e_int(e2e_ok(e, "start_child", "{s:s, s:o, s:i}",
	    "name", "rc", "cmd", e2e_cmd(NULL), "restart_delay_ms", 20),
	    "pid");
	ck_assert_int_eq(row_int(e, "rc", "restart_count"), 0);
	kill(pid, SIGKILL);
	ck_assert((pid = e2e_wait_restarted(e, "rc", pid, 3000)) > 0);
	ck_assert_int_eq(row_int(e, "rc", "restart_count"), 1);
	kill(pid, SIGKILL);
	ck_assert((pid = e2e_wait_restarted(e, "rc", pid, 3000)) > 0);
	ck_assert_int_eq(row_int(e, "rc", "restart_count"), 2);
	e2e_ok(e, "terminate_child", "{s:s}", "name", "rc");
	ck_assert_int_eq(row_int(e, "rc", "restart_count"), 2);
	pid = (pid_t)e2e_int(e2e_ok(e, "restart_child", "{s:s}", "name",
	    "rc"), "pid");
	ck_assert_int_eq(row_int(e, "rc", "restart_count"), 2);
	ck_assert_int_eq(e2e_int(e2e_ok(e, "info", "{s:s}", "name", "rc"),
	    "restart_count"), 2);
	kill(pid, SIGKILL);
	ck_assert((pid = e2e_wait_restarted(e, "rc", pid, 3000)) > 0);
	ck_assert_int_eq(row_int(e, "rc", "restart_count"), 3);
	e2e_ok(e, "terminate_child", "{s:s}", "name", "rc");
	e2e_ok(e, "delete_child", "{s:s}", "name", "rc");
	e2e_ok(e, "start_child", "{s:s, s:o, s:i}", "name", "rc",
	    "cmd", e2e_cmd(NULL), "restart_delay_ms", 20);
	ck_assert_int_eq(row_int(e, "rc", "restart_count"), 0);
	stop(e);
}
END_TEST

/*
 * terminate_child during a restart delay (backoff or ladder delay_ms):
 * the row stays stopped past the delay and nothing is spawned.
 */
START_TEST(e2e_sup_terminate_in_delay)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*ev;
	const char	*n[2] = { "d1", "d2" };
	json_t		*row;
	long		 t0;
	int		 i;

	e2e_ok(e, "start_child", "{s:s, s:o, s:i}", "name", "d1",
	    "cmd", e2e_cmd("--exit-after-ms=20", "--exit-code=1",
	    e2e_fmt(e, "--append-pid=%s", e2e_path(e, "d1.spawns")), NULL),
	    "restart_delay_ms", 500);
	e2e_ok(e, "start_child", "{s:s, s:o, s:[{s:s, s:i}]}", "name", "d2",
	    "cmd", e2e_cmd("--exit-after-ms=20", "--exit-code=1",
	    e2e_fmt(e, "--append-pid=%s", e2e_path(e, "d2.spawns")), NULL),
	    "on_exit", "action", "restart", "delay_ms", 500);
	for (i = 0; i < 2; i++)
		ck_assert_msg(e2e_wait_state(e, n[i], "restarting", 3000),
		    "%s is %s", n[i], row_state(e, n[i]));
	for (i = 0; i < 2; i++) {
		t0 = e2e_now_ms();
		e2e_ok(e, "terminate_child", "{s:s}", "name", n[i]);
		ck_assert_msg(e2e_now_ms() - t0 < 300, "terminate_child of a "
		    "restarting row took %ld ms", e2e_now_ms() - t0);
		ck_assert_str_eq(row_state(e, n[i]), "stopped");
	}
	ev = subscribe(e, NULL);
	/* Well past the 500 ms delays: no resurrection. */
	ck_assert_ptr_null(e2e_next_event(ev, NULL, "started", 900));
	for (i = 0; i < 2; i++) {
		row = e2e_row(e, n[i]);
		ck_assert_str_eq(e2e_str(row, "state"), "stopped");
		ck_assert(json_is_null(e2e_get(row, "pid")));
		ck_assert_int_eq(e2e_count_lines(e2e_path(e,
		    e2e_fmt(e, "%s.spawns", n[i]))), 1);
	}
	stop(e);
}
END_TEST

/* type supervisor only changes the default shutdown, to infinity. */
START_TEST(e2e_sup_supervisor_shutdown)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*sd, *to;

	e2e_ok(e, "start_child", "{s:s, s:o, s:s}", "name", "sv",
	    "cmd", e2e_cmd(NULL), "type", "supervisor");
	sd = e2e_get(e2e_get(e2e_ok(e, "get_childspec", "{s:s}", "name",
	    "sv"), "spec"), "shutdown");
	to = json_is_object(sd) ? json_object_get(sd, "timeout_ms") : NULL;
	ck_assert_msg((json_is_string(sd) && strcmp(json_string_value(sd),
	    "infinity") == 0) || (json_is_string(to) &&
	    strcmp(json_string_value(to), "infinity") == 0),
	    "supervisor shutdown %s, want infinity", e2e_dump(e, sd));
	ck_assert_str_eq(e2e_str(e2e_row(e, "sv"), "type"), "supervisor");
	/* a worker keeps TERM / 5000 */
	e2e_spawn(e, "wk", NULL);
	sd = e2e_get(e2e_get(e2e_ok(e, "get_childspec", "{s:s}", "name",
	    "wk"), "spec"), "shutdown");
	ck_assert_int_eq(e2e_int(sd, "timeout_ms"), 5000);
	ck_assert_str_eq(e2e_str(sd, "signal"), "SIGTERM");
	/* an explicit shutdown wins over the supervisor default */
	e2e_ok(e, "start_child", "{s:s, s:o, s:s, s:s}", "name", "sv2",
	    "cmd", e2e_cmd(NULL), "type", "supervisor", "shutdown",
	    "brutal_kill");
	sd = e2e_get(e2e_get(e2e_ok(e, "get_childspec", "{s:s}", "name",
	    "sv2"), "spec"), "shutdown");
	ck_assert_msg(json_is_string(sd) && strcmp(json_string_value(sd),
	    "brutal_kill") == 0, "%s", e2e_dump(e, sd));
	stop(e);
}
END_TEST

/* 2. Readiness. */

/*
 * ready "notify": find_or_open replies once READY=1 came (600 ms after
 * start), the row is starting meanwhile, and STATUS= is the attr status.
 */
START_TEST(e2e_sup_ready_notify)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*a = e2e_client(e);
	const char	*envf = e2e_path(e, "n.env"), *env;
	json_t		*r, *info;
	long		 t0, dt;

	t0 = e2e_now_ms();
	send_req(a, 1, "find_or_open", "{s:s, s:o, s:s}", "name", "n",
	    "cmd", e2e_cmd(e2e_fmt(e, "--env=%s", envf),
	    "--notify-status=booting", "--notify-ready-after-ms=600", NULL),
	    "ready", "notify");
	ck_assert(e2e_wait_state(e, "n", "starting", 3000));
	r = e2e_err(e, "not_found", "find", "{s:s}", "name", "n");
	ck_assert_str_eq(e2e_str(r, "state"), "starting");
	r = e2e_ok(e, "getattr", "{s:s, s:s, s:i}", "name", "n", "key",
	    "status", "wait_ms", 3000);
	ck_assert_str_eq(e2e_str(r, "value"), "booting");
	ck_assert_str_eq(row_state(e, "n"), "starting");
	r = e2e_recv(a, 5000);
	dt = e2e_now_ms() - t0;
	ck_assert_msg(json_is_true(json_object_get(r, "ok")), "%s",
	    e2e_dump(e, r));
	ck_assert_str_eq(e2e_str(r, "state"), "running");
	ck_assert(json_is_true(e2e_get(r, "created")));
	ck_assert_msg(dt >= 550, "find_or_open replied after %ld ms, before "
	    "READY=1 (600 ms)", dt);
	ck_assert_int_eq(e2e_int(e2e_ok(e, "find", "{s:s}", "name", "n"),
	    "pid"), e2e_int(r, "pid"));
	env = e2e_read_file(e, envf, 3000);
	ck_assert_msg(strstr(env, "\nNOTIFY_SOCKET=@") != NULL ||
	    strncmp(env, "NOTIFY_SOCKET=@", 15) == 0, "env: %s", env);
	info = e2e_ok(e, "info", "{s:s}", "name", "n");
	ck_assert_int_ge(e2e_int(info, "ready_at") - e2e_int(info,
	    "started_at"), 550);
	ck_assert_str_eq(e2e_str(e2e_get(info, "attrs"), "status"),
	    "booting");
	stop(e);
}
END_TEST

/*
 * The sender of READY=1 is identified by its credentials: the test (not
 * in the child's session) sending to the child's NOTIFY_SOCKET changes
 * nothing; the child's own READY=1 does.
 */
START_TEST(e2e_sup_ready_notify_foreign)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*gate = e2e_path(e, "go"), *sock;
	json_t		*r;
	pid_t		 pid;

	r = e2e_ok(e, "start_child", "{s:s, s:o, s:s, s:b}", "name", "f",
	    "cmd", e2e_cmd(e2e_fmt(e, "--ready-after=%s", gate),
	    "--notify-ready-after-ms=0", NULL), "ready", "notify", "wait", 0);
	pid = (pid_t)e2e_int(r, "pid");
	sock = proc_env(e, pid, "NOTIFY_SOCKET", 3000);
	ck_assert_msg(sock != NULL && sock[0] == '@', "NOTIFY_SOCKET %s",
	    sock != NULL ? sock : "(none)");
	notify_send(sock, "READY=1\nSTATUS=forged");
	notify_send(sock, "READY=1");
	ck_assert_msg(!e2e_wait_state(e, "f", "running", 400), "a READY=1 "
	    "from pid %d (not the child's) made %d ready", (int)getpid(),
	    (int)pid);
	ck_assert_str_eq(row_state(e, "f"), "starting");
	e2e_err(e, "not_found", "getattr", "{s:s, s:s}", "name", "f",
	    "key", "status");
	touch(gate);
	ck_assert(e2e_wait_state(e, "f", "running", 3000));
	ck_assert_int_eq(row_int(e, "f", "pid"), pid);
	stop(e);
}
END_TEST

/*
 * watchdog_ms 300: a child pinging every 100 ms lives on; once it stops
 * pinging it is killed (SIGKILL, not requested) and restarted.  A child
 * that never pings dies 300 ms after ready.
 */
START_TEST(e2e_sup_watchdog)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*ev = subscribe(e, NULL);
	json_t		*rd, *x, *reason;
	long		 dt;

	e2e_ok(e, "start_child", "{s:s, s:o, s:s, s:i, s:i}", "name", "w",
	    "cmd", e2e_cmd("--notify-ready-after-ms=0",
	    "--watchdog-every-ms=100", "--watchdog-count=8", NULL),
	    "ready", "notify", "watchdog_ms", 300, "restart_delay_ms", 100);
	ck_assert_ptr_nonnull(rd = e2e_next_event(ev, "w", "ready", 3000));
	ck_assert_ptr_nonnull(x = e2e_next_event(ev, "w", "exited", 3000));
	dt = at_of(x) - at_of(rd);
	reason = e2e_get(x, "reason");
	ck_assert_str_eq(e2e_str(reason, "signal"), "SIGKILL");
	ck_assert(!json_is_true(json_object_get(reason, "requested")));
	/* 8 pings over 800 ms, killed 300 ms after the last one */
	ck_assert_msg(dt >= 900 && dt < 2000, "killed %ld ms after ready, "
	    "want ~1100", dt);
	ck_assert_ptr_nonnull(e2e_next_event(ev, "w", "ready", 3000));
	ck_assert_int_eq(row_int(e, "w", "restart_count"), 1);
	ck_assert_str_eq(e2e_str(e2e_get(e2e_ok(e, "info", "{s:s}", "name",
	    "w"), "last_exit"), "signal"), "SIGKILL");

	/* never pings */
	e2e_ok(e, "start_child", "{s:s, s:o, s:s, s:i, s:s}", "name", "w0",
	    "cmd", e2e_cmd("--notify-ready-after-ms=0", NULL),
	    "ready", "notify", "watchdog_ms", 300, "restart", "temporary");
	ck_assert_ptr_nonnull(rd = e2e_next_event(ev, "w0", "ready", 3000));
	ck_assert_ptr_nonnull(x = e2e_next_event(ev, "w0", "exited", 3000));
	dt = at_of(x) - at_of(rd);
	ck_assert_msg(dt >= 290 && dt < 1000, "killed %ld ms after ready, "
	    "want 300", dt);
	stop(e);
}
END_TEST

/* ready {"fd":5}: a newline on fd 5 (after 500 ms) means ready. */
START_TEST(e2e_sup_ready_fd)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*a = e2e_client(e);
	json_t		*r, *info;
	long		 t0, dt;

	t0 = e2e_now_ms();
	send_req(a, 1, "start_child", "{s:s, s:o, s:{s:i}}", "name", "fd",
	    "cmd", e2e_cmd("--ready-fd=5", "--ready-fd-after-ms=500", NULL),
	    "ready", "fd", 5);
	ck_assert(e2e_wait_state(e, "fd", "starting", 3000));
	r = e2e_err(e, "not_found", "find", "{s:s}", "name", "fd");
	ck_assert_str_eq(e2e_str(r, "state"), "starting");
	r = e2e_recv(a, 5000);
	dt = e2e_now_ms() - t0;
	ck_assert_msg(json_is_true(json_object_get(r, "ok")), "%s",
	    e2e_dump(e, r));
	ck_assert_msg(dt >= 450, "start_child replied after %ld ms, before "
	    "the ready newline (500 ms)", dt);
	ck_assert_str_eq(row_state(e, "fd"), "running");
	info = e2e_ok(e, "info", "{s:s}", "name", "fd");
	ck_assert_int_ge(e2e_int(info, "ready_at") - e2e_int(info,
	    "started_at"), 450);
	stop(e);
}
END_TEST

/* ready_timeout_ms: the never-ready child is killed; all waiters: timeout. */
START_TEST(e2e_sup_ready_timeout_waiters)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*a = e2e_client(e), *b = e2e_client(e);
	const char	*pidf = e2e_path(e, "t.pid");
	json_t		*r;
	long		 t0, dt;
	pid_t		 pid;

	t0 = e2e_now_ms();
	send_req(a, 1, "find_or_open", "{s:s, s:o, s:s, s:i, s:s}",
	    "name", "t", "cmd", e2e_cmd(e2e_fmt(e, "--pidfile=%s", pidf),
	    NULL), "ready", "notify", "ready_timeout_ms", 400,
	    "restart", "temporary");
	ck_assert(e2e_wait_state(e, "t", "starting", 3000));
	send_req(b, 1, "find_or_open", "{s:s, s:o}", "name", "t",
	    "cmd", e2e_cmd(NULL));
	r = e2e_recv(a, 5000);
	ck_assert_msg(json_is_false(json_object_get(r, "ok")) &&
	    strcmp(e2e_str(r, "error"), "timeout") == 0, "%s",
	    e2e_dump(e, r));
	r = e2e_recv(b, 5000);
	dt = e2e_now_ms() - t0;
	ck_assert_msg(json_is_false(json_object_get(r, "ok")) &&
	    strcmp(e2e_str(r, "error"), "timeout") == 0, "%s",
	    e2e_dump(e, r));
	ck_assert_msg(dt >= 350 && dt < 3000, "timeout after %ld ms, want "
	    "400", dt);
	pid = e2e_read_pid(e, pidf, 1000);
	ck_assert_msg(e2e_wait_dead(pid, 3000), "unready %d not killed",
	    (int)pid);
	ck_assert(e2e_wait_absent(e, "t", 3000));
	/* permanent too: a start never ready leaves nothing behind */
	e2e_err(e, "timeout", "start_child", "{s:s, s:o, s:s, s:i, s:i}",
	    "name", "tp", "cmd", e2e_cmd(NULL), "ready", "notify",
	    "ready_timeout_ms", 300, "restart_delay_ms", 5000);
	ck_assert(e2e_wait_absent(e, "tp", 3000));
	stop(e);
}
END_TEST

/* A child that dies before it is ready: every waiter gets exited. */
START_TEST(e2e_sup_exited_before_ready)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*a = e2e_client(e), *b = e2e_client(e);
	json_t		*r;
	int		 i;

	send_req(a, 1, "find_or_open", "{s:s, s:o, s:s, s:s}", "name", "x",
	    "cmd", e2e_cmd("--exit-after-ms=300", "--exit-code=3", NULL),
	    "ready", "notify", "restart", "temporary");
	ck_assert(e2e_wait_state(e, "x", "starting", 3000));
	send_req(b, 1, "find_or_open", "{s:s, s:o}", "name", "x",
	    "cmd", e2e_cmd(NULL));
	for (i = 0; i < 2; i++) {
		r = e2e_recv(i == 0 ? a : b, 5000);
		ck_assert_msg(json_is_false(json_object_get(r, "ok")) &&
		    strcmp(e2e_str(r, "error"), "exited") == 0, "%s",
		    e2e_dump(e, r));
		ck_assert_int_eq(e2e_int(r, "exit_status"), 3);
	}
	ck_assert(e2e_wait_absent(e, "x", 3000));
	/* killed by a signal before ready */
	r = e2e_err(e, "exited", "start_child", "{s:s, s:o, s:{s:i}, s:s}",
	    "name", "y", "cmd", e2e_cmd("--exit-after-ms=100",
	    "--kill-self=USR1", NULL), "ready", "fd", 3,
	    "restart", "temporary");
	ck_assert_str_eq(e2e_str(r, "signal"), "SIGUSR1");
	stop(e);
}
END_TEST

/* wait:false returns at once with state starting. */
START_TEST(e2e_sup_nowait)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*a = e2e_client(e);
	json_t		*r;
	long		 t0, dt;
	pid_t		 p1, p2;

	t0 = e2e_now_ms();
	r = e2e_ok(e, "find_or_open", "{s:s, s:o, s:s, s:b}", "name", "nw1",
	    "cmd", e2e_cmd("--notify-ready-after-ms=1000", NULL),
	    "ready", "notify", "wait", 0);
	dt = e2e_now_ms() - t0;
	ck_assert_msg(dt < 300, "find_or_open wait:false took %ld ms", dt);
	ck_assert_str_eq(e2e_str(r, "state"), "starting");
	ck_assert(json_is_true(e2e_get(r, "created")));
	ck_assert_int_gt(p1 = (pid_t)e2e_int(r, "pid"), 0);
	t0 = e2e_now_ms();
	r = e2e_ok(e, "start_child", "{s:s, s:o, s:s, s:b}", "name", "nw2",
	    "cmd", e2e_cmd("--notify-ready-after-ms=1000", NULL),
	    "ready", "notify", "wait", 0);
	dt = e2e_now_ms() - t0;
	ck_assert_msg(dt < 300, "start_child wait:false took %ld ms", dt);
	ck_assert_int_gt(p2 = (pid_t)e2e_int(r, "pid"), 0);
	ck_assert_str_eq(e2e_str(r, "state"), "starting");
	ck_assert_str_eq(row_state(e, "nw1"), "starting");
	/* wait:false on the starting row: the same child, at once */
	t0 = e2e_now_ms();
	r = e2e_ok(e, "find_or_open", "{s:s, s:o, s:b}", "name", "nw1",
	    "cmd", e2e_cmd(NULL), "wait", 0);
	ck_assert_msg(e2e_now_ms() - t0 < 300, "find_or_open wait:false on a "
	    "starting row took %ld ms", e2e_now_ms() - t0);
	ck_assert_int_eq(e2e_int(r, "pid"), p1);
	ck_assert_str_eq(e2e_str(r, "state"), "starting");
	/* a waiting caller gets the same child once it is ready */
	r = e2e_cok(a, "find_or_open", "{s:s, s:o}", "name", "nw1",
	    "cmd", e2e_cmd(NULL));
	ck_assert_int_eq(e2e_int(r, "pid"), p1);
	ck_assert_str_eq(e2e_str(r, "state"), "running");
	ck_assert(e2e_wait_state(e, "nw2", "running", 3000));
	ck_assert_int_eq(row_int(e, "nw2", "pid"), p2);
	stop(e);
}
END_TEST

/* 4. after_terminate hooks. */

/* The payload on stdin and GTD_* in the environment. */
START_TEST(e2e_sup_hook_payload)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*env;
	json_t		*j, *reason, *attrs;
	pid_t		 pid, pid2;

	pid = (pid_t)e2e_int(e2e_ok(e, "start_child", "{s:s, s:o, s:{s:s}, "
	    "s:o, s:i}", "name", "hk", "cmd", e2e_cmd(NULL), "attrs", "color",
	    "red", "after_terminate", hook_sh(e, HOOK_DUMP, "hk"),
	    "restart_delay_ms", 50), "pid");
	e2e_ok(e, "setattr", "{s:s, s:{s:i}}", "name", "hk", "attrs", "n", 5);
	kill(pid, SIGKILL);
	j = read_json(e, e2e_path(e, "hk.json"), 3000);
	ck_assert_str_eq(e2e_str(j, "name"), "hk");
	ck_assert_int_eq(e2e_int(j, "pid"), pid);
	ck_assert_int_eq(e2e_int(j, "restart_count"), 0);
	reason = e2e_get(j, "reason");
	ck_assert_str_eq(e2e_str(reason, "signal"), "SIGKILL");
	ck_assert(!json_is_true(json_object_get(reason, "requested")));
	attrs = e2e_get(j, "attrs");
	ck_assert_str_eq(e2e_str(attrs, "color"), "red");
	ck_assert_int_eq(e2e_int(attrs, "n"), 5);
	env = e2e_read_file(e, e2e_path(e, "hk.env"), 1000);
	ck_assert_msg(e2e_has_line(env, "GTD_NAME=hk") &&
	    e2e_has_line(env, "GTD_ZONE=default") &&
	    e2e_has_line(env, e2e_fmt(e, "GTD_SOCKET=%s", e2e_sock(e))) &&
	    e2e_has_line(env, "GTD_EXIT_SIGNAL=SIGKILL") &&
	    strstr(env, "GTD_EXIT_STATUS=") == NULL, "hook env:\n%s", env);
	/* the next incarnation's hook sees restart_count 1 */
	ck_assert((pid2 = e2e_wait_restarted(e, "hk", pid, 3000)) > 0);
	unlink(e2e_path(e, "hk.json"));
	e2e_ok(e, "terminate_child", "{s:s}", "name", "hk");
	j = read_json(e, e2e_path(e, "hk.json"), 3000);
	ck_assert_int_eq(e2e_int(j, "pid"), pid2);
	ck_assert_int_eq(e2e_int(j, "restart_count"), 1);
	reason = e2e_get(j, "reason");
	ck_assert_str_eq(e2e_str(reason, "signal"), "SIGTERM");
	ck_assert(json_is_true(e2e_get(reason, "requested")));
	ck_assert_int_eq(json_object_size(e2e_get(j, "attrs")), 1);

	/* an exit status */
	e2e_ok(e, "start_child", "{s:s, s:o, s:o, s:s}", "name", "hs",
	    "cmd", e2e_cmd("--exit-after-ms=50", "--exit-code=3", NULL),
	    "after_terminate", hook_sh(e, HOOK_DUMP, "hs"),
	    "restart", "temporary");
	j = read_json(e, e2e_path(e, "hs.json"), 3000);
	ck_assert_int_eq(e2e_int(e2e_get(j, "reason"), "exit_status"), 3);
	env = e2e_read_file(e, e2e_path(e, "hs.env"), 1000);
	ck_assert_msg(e2e_has_line(env, "GTD_EXIT_STATUS=3") &&
	    e2e_has_line(env, "GTD_NAME=hs") &&
	    strstr(env, "GTD_EXIT_SIGNAL=") == NULL, "hook env:\n%s", env);
	stop(e);
}
END_TEST

/*
 * While the hook runs the row is terminating: find -> not_found, setattr
 * -> not_running, getattr works, find_or_open waits and then gets a
 * fresh child, never the dying pid.
 */
START_TEST(e2e_sup_hook_terminating)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*a = e2e_client(e);
	const char	*gate = e2e_path(e, "go");
	const char	*hpf = e2e_path(e, "hook.pid");
	json_t		*r;
	pid_t		 pid, hpid, pid2;
	long		 t0;

	pid = (pid_t)e2e_int(e2e_ok(e, "start_child", "{s:s, s:o, s:{s:s}, "
	    "s:o}", "name", "h", "cmd", e2e_cmd(NULL), "attrs", "color", "red",
	    "after_terminate", e2e_cmd(e2e_fmt(e, "--pidfile=%s", hpf),
	    e2e_fmt(e, "--ready-after=%s", gate), "--exit-code=0", NULL)),
	    "pid");
	e2e_ok(e, "setattr", "{s:s, s:{s:i}}", "name", "h", "attrs", "k", 1);
	e2e_ok(e, "terminate_child", "{s:s}", "name", "h");
	hpid = e2e_read_pid(e, hpf, 3000);
	ck_assert(e2e_pid_alive(hpid));
	ck_assert_str_eq(row_state(e, "h"), "terminating");
	r = e2e_err(e, "not_found", "find", "{s:s}", "name", "h");
	ck_assert_str_eq(e2e_str(r, "state"), "terminating");
	r = e2e_err(e, "not_running", "setattr", "{s:s, s:{s:i}}", "name",
	    "h", "attrs", "k", 2);
	ck_assert_str_eq(e2e_str(r, "state"), "terminating");
	ck_assert_int_eq(e2e_int(e2e_ok(e, "getattr", "{s:s, s:s}", "name",
	    "h", "key", "k"), "value"), 1);
	ck_assert_str_eq(e2e_str(e2e_ok(e, "getattr", "{s:s, s:s}", "name",
	    "h", "key", "color"), "value"), "red");
	/* find_or_open waits for the hook */
	send_req(a, 1, "find_or_open", "{s:s, s:o}", "name", "h",
	    "cmd", e2e_cmd(NULL));
	ck_assert_ptr_null(e2e_recv_line(a, 300));
	ck_assert_str_eq(row_state(e, "h"), "terminating");
	t0 = e2e_now_ms();
	touch(gate);
	r = e2e_recv(a, 5000);
	ck_assert_msg(json_is_true(json_object_get(r, "ok")), "%s",
	    e2e_dump(e, r));
	pid2 = (pid_t)e2e_int(r, "pid");
	ck_assert_int_ne(pid2, pid);
	ck_assert(e2e_pid_alive(pid2));
	ck_assert_str_eq(e2e_str(r, "state"), "running");
	ck_assert_msg(e2e_now_ms() - t0 < 2000, "find_or_open took %ld ms "
	    "after the hook", e2e_now_ms() - t0);
	ck_assert(e2e_wait_dead(hpid, 3000));
	/* a fresh incarnation: the spec's attrs only */
	e2e_err(e, "not_found", "getattr", "{s:s, s:s}", "name", "h",
	    "key", "k");
	/* its hook will wait for the gate: it exists already */
	stop(e);
}
END_TEST

/*
 * A crash (not a requested stop): while the hook runs, find_or_open waits;
 * the policy restarts the row after the hook and the caller gets the new
 * incarnation.
 */
START_TEST(e2e_sup_hook_terminating_restart)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*a = e2e_client(e);
	const char	*gate = e2e_path(e, "go");
	const char	*hpf = e2e_path(e, "hook.pid");
	json_t		*r;
	pid_t		 pid, pid2;

	pid = (pid_t)e2e_int(e2e_ok(e, "start_child", "{s:s, s:o, s:o, s:i}",
	    "name", "h", "cmd", e2e_cmd(NULL), "after_terminate",
	    e2e_cmd(e2e_fmt(e, "--pidfile=%s", hpf),
	    e2e_fmt(e, "--ready-after=%s", gate), "--exit-code=0", NULL),
	    "restart_delay_ms", 100), "pid");
	kill(pid, SIGKILL);
	e2e_read_pid(e, hpf, 3000);
	ck_assert_str_eq(row_state(e, "h"), "terminating");
	send_req(a, 1, "find_or_open", "{s:s, s:o}", "name", "h",
	    "cmd", e2e_cmd(NULL));
	ck_assert_ptr_null(e2e_recv_line(a, 300));
	touch(gate);
	r = e2e_recv(a, 5000);
	ck_assert_msg(json_is_true(json_object_get(r, "ok")), "%s",
	    e2e_dump(e, r));
	pid2 = (pid_t)e2e_int(r, "pid");
	ck_assert_int_ne(pid2, pid);
	ck_assert_str_eq(e2e_str(r, "state"), "running");
	ck_assert_int_eq(row_int(e, "h", "pid"), pid2);
	ck_assert_int_eq(row_int(e, "h", "restart_count"), 1);
	stop(e);
}
END_TEST

/*
 * A temporary child's row goes after its hook: a find_or_open that waited
 * then creates the child from its own spec.
 */
START_TEST(e2e_sup_hook_terminating_removed)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*a = e2e_client(e);
	const char	*gate = e2e_path(e, "go");
	const char	*hpf = e2e_path(e, "hook.pid");
	const char	*npf = e2e_path(e, "new.pid");
	json_t		*r;
	pid_t		 pid, pid2;

	pid = (pid_t)e2e_int(e2e_ok(e, "start_child", "{s:s, s:o, s:o, s:s}",
	    "name", "h", "cmd", e2e_cmd(NULL), "after_terminate",
	    e2e_cmd(e2e_fmt(e, "--pidfile=%s", hpf),
	    e2e_fmt(e, "--ready-after=%s", gate), "--exit-code=0", NULL),
	    "restart", "temporary"), "pid");
	kill(pid, SIGKILL);
	e2e_read_pid(e, hpf, 3000);
	ck_assert_str_eq(row_state(e, "h"), "terminating");
	send_req(a, 1, "find_or_open", "{s:s, s:o}", "name", "h",
	    "cmd", e2e_cmd(e2e_fmt(e, "--pidfile=%s", npf), NULL));
	ck_assert_ptr_null(e2e_recv_line(a, 300));
	touch(gate);
	r = e2e_recv(a, 5000);
	ck_assert_msg(json_is_true(json_object_get(r, "ok")), "%s",
	    e2e_dump(e, r));
	pid2 = (pid_t)e2e_int(r, "pid");
	ck_assert_int_ne(pid2, pid);
	ck_assert(json_is_true(e2e_get(r, "created")));
	/* the waiting caller's spec was used */
	ck_assert_int_eq(e2e_read_pid(e, npf, 3000), pid2);
	stop(e);
}
END_TEST

/*
 * terminate_child while the hook of a crashed child runs: the restart the
 * policy would have made is cancelled, the row ends stopped (protocol
 * section 5, terminate_child: "The row becomes stopped").
 */
START_TEST(e2e_sup_terminate_while_terminating)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*ev;
	const char	*gate = e2e_path(e, "go");
	const char	*hpf = e2e_path(e, "hook.pid");
	const char	*spawns = e2e_path(e, "spawns");
	json_t		*row, *st;
	pid_t		 pid;
	long		 t0;

	pid = (pid_t)e2e_int(e2e_ok(e, "start_child", "{s:s, s:o, s:o, s:i}",
	    "name", "h", "cmd", e2e_cmd(e2e_fmt(e, "--append-pid=%s", spawns),
	    NULL), "after_terminate", e2e_cmd(e2e_fmt(e, "--pidfile=%s", hpf),
	    e2e_fmt(e, "--ready-after=%s", gate), "--exit-code=0", NULL),
	    "restart_delay_ms", 100), "pid");
	ck_assert(e2e_wait_lines(spawns, 1, 3000));
	kill(pid, SIGKILL);
	e2e_read_pid(e, hpf, 3000);
	ck_assert_str_eq(row_state(e, "h"), "terminating");
	t0 = e2e_now_ms();
	e2e_ok(e, "terminate_child", "{s:s}", "name", "h");
	ck_assert_msg(e2e_now_ms() - t0 < 300, "terminate_child of a "
	    "terminating row took %ld ms", e2e_now_ms() - t0);
	ev = subscribe(e, "h");
	touch(gate);
	ck_assert_ptr_nonnull(e2e_next_event(ev, "h", "hook_done", 3000));
	st = e2e_next_event(ev, "h", "started", 600);
	row = e2e_row(e, "h");
	ck_assert_msg(st == NULL && row != NULL && strcmp(e2e_str(row,
	    "state"), "stopped") == 0 && e2e_count_lines(spawns) == 1,
	    "terminate_child replied ok during the hook, yet afterwards: "
	    "event %s, row %s, %d spawns", st != NULL ? e2e_dump(e, st) :
	    "(no started)", row != NULL ? e2e_dump(e, row) : "(none)",
	    e2e_count_lines(spawns));
	stop(e);
}
END_TEST

/* Exactly one hook per incarnation, with its restart_count. */
START_TEST(e2e_sup_hook_once)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*calls = e2e_path(e, "calls");
	json_t		*lines, *l;
	pid_t		 pids[3];
	size_t		 i;

	e2e_ok(e, "start_child", "{s:s, s:o, s:o, s:i, s:i, s:i}",
	    "name", "o", "cmd", e2e_cmd("--exit-after-ms=100",
	    "--exit-code=2", NULL), "after_terminate",
	    hook_sh(e, HOOK_APPEND, "calls"), "restart_delay_ms", 50,
	    "max_restarts", 2, "max_period_ms", 60000);
	ck_assert(e2e_wait_state(e, "o", "stopped", 5000));
	lines = json_lines(e, calls);
	ck_assert_msg(json_array_size(lines) == 3, "%s", e2e_dump(e, lines));
	json_array_foreach(lines, i, l) {
		ck_assert_int_eq(e2e_int(l, "restart_count"), (int)i);
		ck_assert_int_eq(e2e_int(e2e_get(l, "reason"), "exit_status"),
		    2);
		pids[i] = (pid_t)e2e_int(l, "pid");
		ck_assert(i == 0 || pids[i] != pids[i - 1]);
	}
	ck_assert(!e2e_wait_lines(calls, 4, 300));

	/* a terminate_child: one hook, requested */
	e2e_ok(e, "start_child", "{s:s, s:o, s:o}", "name", "t",
	    "cmd", e2e_cmd(NULL), "after_terminate",
	    hook_sh(e, HOOK_APPEND, "tcalls"));
	e2e_ok(e, "terminate_child", "{s:s}", "name", "t");
	ck_assert(e2e_wait_state(e, "t", "stopped", 3000));
	lines = json_lines(e, e2e_path(e, "tcalls"));
	ck_assert_msg(json_array_size(lines) == 1, "%s", e2e_dump(e, lines));
	ck_assert(json_is_true(e2e_get(e2e_get(json_array_get(lines, 0),
	    "reason"), "requested")));
	ck_assert(!e2e_wait_lines(e2e_path(e, "tcalls"), 2, 300));
	stop(e);
}
END_TEST

/*
 * At daemon shutdown: a hook-bearing child's hook runs (once), and a hook
 * that was already running is waited for and not run again.
 */
START_TEST(e2e_sup_hook_at_shutdown)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*gate = e2e_path(e, "go");
	const char	*pend = e2e_path(e, "pend.hooks");
	json_t		*lines, *reason;
	int		 st;

	e2e_ok(e, "start_child", "{s:s, s:o, s:o}", "name", "sd",
	    "cmd", e2e_cmd(NULL), "after_terminate",
	    hook_sh(e, HOOK_APPEND, "sd.calls"));
	e2e_ok(e, "start_child", "{s:s, s:o, s:o}", "name", "pend",
	    "cmd", e2e_cmd(NULL), "after_terminate",
	    e2e_cmd(e2e_fmt(e, "--append-pid=%s", pend),
	    e2e_fmt(e, "--ready-after=%s", gate), "--exit-code=0", NULL));
	e2e_ok(e, "terminate_child", "{s:s}", "name", "pend");
	ck_assert(e2e_wait_lines(pend, 1, 3000));	/* its hook runs */
	ck_assert_str_eq(row_state(e, "pend"), "terminating");
	kill(e2e_pid(e), SIGTERM);
	ck_assert(e2e_wait_lines(e2e_path(e, "sd.calls"), 1, 3000));
	/* gtd waits for the pending hook */
	ck_assert_msg(!e2e_wait_exit(e, 300, NULL), "gtd exited while a "
	    "hook was still running");
	touch(gate);
	ck_assert_msg(e2e_wait_exit(e, 5000, &st), "gtd did not exit");
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x",
	    st);
	lines = json_lines(e, e2e_path(e, "sd.calls"));
	ck_assert_msg(json_array_size(lines) == 1, "%s", e2e_dump(e, lines));
	reason = e2e_get(json_array_get(lines, 0), "reason");
	ck_assert_str_eq(e2e_str(reason, "signal"), "SIGTERM");
	ck_assert(json_is_true(e2e_get(reason, "requested")));
	ck_assert_int_eq(e2e_count_lines(pend), 1);
	stop(e);
}
END_TEST

/* A hook that hangs is killed after hook_timeout_ms; the row moves on. */
START_TEST(e2e_sup_hook_timeout)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*ev = subscribe(e, "ht");
	const char	*hpf = e2e_path(e, "hook.pid");
	json_t		*hd;
	long		 t0, dt;
	pid_t		 hpid;

	e2e_ok(e, "start_child", "{s:s, s:o, s:o, s:i}", "name", "ht",
	    "cmd", e2e_cmd(NULL), "after_terminate",
	    e2e_cmd(e2e_fmt(e, "--pidfile=%s", hpf), "--ignore-term", NULL),
	    "hook_timeout_ms", 400);
	t0 = e2e_now_ms();
	e2e_ok(e, "terminate_child", "{s:s}", "name", "ht");
	hpid = e2e_read_pid(e, hpf, 3000);
	ck_assert_str_eq(row_state(e, "ht"), "terminating");
	ck_assert(e2e_wait_state(e, "ht", "stopped", 3000));
	dt = e2e_now_ms() - t0;
	ck_assert_msg(dt >= 350 && dt < 2500, "row stopped %ld ms after the "
	    "exit, want hook_timeout_ms 400", dt);
	ck_assert_msg(e2e_wait_dead(hpid, 2000), "hung hook %d survived",
	    (int)hpid);
	ck_assert_ptr_nonnull(hd = e2e_next_event(ev, "ht", "hook_done", 2000));
	ck_assert_str_eq(e2e_str(e2e_get(hd, "reason"), "signal"), "SIGKILL");
	stop(e);
}
END_TEST

/* A hook that fails (exit 1) changes nothing else. */
START_TEST(e2e_sup_hook_failing)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*calls = e2e_path(e, "calls");
	pid_t		 pid, pid2;

	pid = (pid_t)e2e_int(e2e_ok(e, "start_child", "{s:s, s:o, s:{s:i}, "
	    "s:o, s:i}", "name", "hf", "cmd", e2e_cmd(NULL), "attrs", "a", 1,
	    "after_terminate", e2e_cmd(e2e_fmt(e, "--append-pid=%s", calls),
	    "--exit-code=1", NULL), "restart_delay_ms", 50), "pid");
	kill(pid, SIGKILL);
	ck_assert((pid2 = e2e_wait_restarted(e, "hf", pid, 3000)) > 0);
	ck_assert_int_eq(row_int(e, "hf", "restart_count"), 1);
	ck_assert_int_eq(e2e_int(e2e_ok(e, "getattr", "{s:s, s:s}", "name",
	    "hf", "key", "a"), "value"), 1);
	ck_assert_int_eq(e2e_count_lines(calls), 1);
	e2e_ok(e, "terminate_child", "{s:s}", "name", "hf");
	ck_assert(e2e_wait_state(e, "hf", "stopped", 3000));
	ck_assert_int_eq(e2e_count_lines(calls), 2);
	ck_assert_int_eq(row_int(e, "hf", "restart_count"), 1);
	e2e_ok(e, "restart_child", "{s:s}", "name", "hf");
	stop(e);
}
END_TEST

/* 5. add_existing_child, release, signal, getattr wait_ms, info. */

START_TEST(e2e_sup_adopt)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*r;
	pid_t		 p, q;
	int		 st;

	p = fork_stray(e);
	r = e2e_req(e, "add_existing_child", "{s:s, s:i, s:{s:s}, s:o}",
	    "name", "ad", "pid", (int)p, "attrs", "role", "db",
	    "after_terminate", hook_sh(e, HOOK_APPEND, "adopt.hook"));
	if (e2e_adopt_unsupported(e, r, "e2e_sup_adopt")) {
		kill_stray(p);
		stop(e);
		return;
	}
	ck_assert_int_eq(e2e_int(r, "pid"), p);
	r = e2e_ok(e, "find", "{s:s}", "name", "ad");
	ck_assert_int_eq(e2e_int(r, "pid"), p);
	ck_assert_str_eq(e2e_str(r, "state"), "running");
	ck_assert_str_eq(e2e_str(e2e_ok(e, "getattr", "{s:s, s:s}", "name",
	    "ad", "key", "role"), "value"), "db");
	/* the name is taken, and so is the pid */
	r = e2e_err(e, "already_started", "add_existing_child", "{s:s, s:i}",
	    "name", "ad", "pid", (int)getpid());
	ck_assert_int_eq(e2e_int(r, "pid"), p);
	r = e2e_err(e, "already_started", "add_existing_child", "{s:s, s:i}",
	    "name", "ad2", "pid", (int)p);
	ck_assert_int_eq(e2e_int(r, "pid"), p);
	/* a dead pid */
	q = dead_pid();
	e2e_err(e, "noproc", "add_existing_child", "{s:s, s:i}",
	    "name", "gone", "pid", (int)q);
	ck_assert_ptr_null(e2e_row(e, "gone"));
	/* signal reaches it (through its pidfd); it dies: the row and its
	 * attrs vanish, no hook runs */
	e2e_ok(e, "signal", "{s:s, s:s}", "name", "ad", "signal", "KILL");
	ck_assert_int_eq(waitpid(p, &st, 0), p);
	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	    "status 0x%x", st);
	ck_assert(e2e_wait_absent(e, "ad", 3000));
	e2e_err(e, "not_found", "getattr", "{s:s, s:s}", "name", "ad",
	    "key", "role");
	e2e_err(e, "not_found", "find", "{s:s}", "name", "ad");
	ck_assert_msg(!e2e_wait_file(e2e_path(e, "adopt.hook"), 300),
	    "a hook ran for an adopted process");
	stop(e);
}
END_TEST

/* With a cmd, an adopted process is restarted as gtd's own child. */
START_TEST(e2e_sup_adopt_with_cmd)
{
	struct e2e	*e = e2e_start(NULL);
	char		 path[64], buf[512], *rp;
	pid_t		 p, np;
	FILE		*f;
	size_t		 n;
	int		 st, ppid = 0;

	p = fork_stray(e);
	if (e2e_adopt_unsupported(e, e2e_req(e, "add_existing_child",
	    "{s:s, s:i, s:o, s:i}", "name", "ac", "pid", (int)p, "cmd",
	    e2e_cmd(NULL), "restart_delay_ms", 50), "e2e_sup_adopt_with_cmd")) {
		kill_stray(p);
		stop(e);
		return;
	}
	kill(p, SIGKILL);
	ck_assert_int_eq(waitpid(p, &st, 0), p);
	ck_assert_msg((np = e2e_wait_restarted(e, "ac", p, 3000)) > 0,
	    "not restarted: %s", e2e_dump(e, e2e_row(e, "ac")));
	ck_assert_int_eq(row_int(e, "ac", "restart_count"), 1);
	snprintf(path, sizeof path, "/proc/%d/stat", (int)np);
	ck_assert_ptr_nonnull(f = fopen(path, "re"));
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	ck_assert_ptr_nonnull(rp = strrchr(buf, ')'));
	ck_assert_int_eq(sscanf(rp + 2, "%*c %d", &ppid), 1);
	ck_assert_int_eq(ppid, e2e_pid(e));
	e2e_ok(e, "terminate_child", "{s:s}", "name", "ac");
	ck_assert_str_eq(row_state(e, "ac"), "stopped");
	stop(e);
}
END_TEST

/* release: the row goes, the process lives on. */
START_TEST(e2e_sup_release)
{
	struct e2e	*e = e2e_start(NULL);
	pid_t		 pid;
	int		 st;

	pid = e2e_spawn(e, "rl", NULL);
	e2e_ok(e, "setattr", "{s:s, s:{s:i}}", "name", "rl", "attrs", "k", 1);
	e2e_ok(e, "release", "{s:s}", "name", "rl");
	ck_assert_ptr_null(e2e_row(e, "rl"));
	e2e_err(e, "not_found", "find", "{s:s}", "name", "rl");
	e2e_err(e, "not_found", "getattr", "{s:s, s:s}", "name", "rl",
	    "key", "k");
	e2e_err(e, "not_found", "release", "{s:s}", "name", "rl");
	ck_assert_msg(!e2e_wait_dead(pid, 300), "released %d died",
	    (int)pid);
	ck_assert_int_eq(e2e_int(e2e_ok(e, "count_children", NULL), "specs"),
	    0);
	/* the name is free again */
	e2e_spawn(e, "rl", NULL);
	kill(pid, SIGKILL);
	ck_assert(e2e_wait_dead(pid, 3000));
	e2e_ok(e, "ping", NULL);
	ck_assert_str_eq(row_state(e, "rl"), "running");
	/* an adopted process: released, it lives on too */
	pid = fork_stray(e);
	if (e2e_adopt_unsupported(e, e2e_req(e, "add_existing_child",
	    "{s:s, s:i}", "name", "ra", "pid", (int)pid),
	    "e2e_sup_release (an adopted process)")) {
		kill_stray(pid);
		stop(e);
		return;
	}
	e2e_ok(e, "release", "{s:s}", "name", "ra");
	ck_assert_ptr_null(e2e_row(e, "ra"));
	ck_assert_msg(!e2e_wait_dead(pid, 300), "released %d died",
	    (int)pid);
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	e2e_ok(e, "ping", NULL);
	stop(e);
}
END_TEST

/* signal by name and number; not_running on a stopped row. */
START_TEST(e2e_sup_signal)
{
	static const struct {
		const char	*sig;	/* NULL: by number */
		int		 num;
		const char	*want;
	} t[] = {
		{ "HUP", 0, "SIGHUP" },
		{ NULL, SIGUSR1, "SIGUSR1" },
		{ "SIGUSR2", 0, "SIGUSR2" },
		{ NULL, SIGHUP, "SIGHUP" }
	};
	struct e2e	*e = e2e_start(NULL);
	json_t		*r, *le;
	pid_t		 pid;
	size_t		 i;

	pid = (pid_t)e2e_int(e2e_ok(e, "start_child", "{s:s, s:o, s:i}",
	    "name", "sg", "cmd", e2e_cmd(NULL), "restart_delay_ms", 20),
	    "pid");
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		if (t[i].sig != NULL)
			e2e_ok(e, "signal", "{s:s, s:s}", "name", "sg",
			    "signal", t[i].sig);
		else
			e2e_ok(e, "signal", "{s:s, s:i}", "name", "sg",
			    "signal", t[i].num);
		ck_assert_msg((pid = e2e_wait_restarted(e, "sg", pid, 3000)) >
		    0, "signal %s: not restarted", t[i].want);
		le = e2e_get(e2e_ok(e, "info", "{s:s}", "name", "sg"),
		    "last_exit");
		ck_assert_str_eq(e2e_str(le, "signal"), t[i].want);
		ck_assert(!json_is_true(json_object_get(le, "requested")));
	}
	e2e_ok(e, "terminate_child", "{s:s}", "name", "sg");
	r = e2e_err(e, "not_running", "signal", "{s:s, s:s}", "name", "sg",
	    "signal", "HUP");
	ck_assert_str_eq(e2e_str(r, "state"), "stopped");
	e2e_err(e, "not_found", "signal", "{s:s, s:s}", "name", "ghost",
	    "signal", "HUP");
	r = e2e_err(e, "bad_request", "signal", "{s:s, s:s}", "name", "sg",
	    "signal", "NOPE");
	ck_assert_str_eq(e2e_str(r, "field"), "signal");
	stop(e);
}
END_TEST

/*
 * getattr wait_ms answers as soon as another connection sets the key;
 * not_found after wait_ms; the daemon serves others meanwhile.
 */
START_TEST(e2e_sup_getattr_wait)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*a = e2e_client(e);
	json_t		*r;
	long		 t0, dt;

	e2e_spawn(e, "g", NULL);
	send_req(a, 1, "getattr", "{s:s, s:s, s:i}", "name", "g", "key", "k",
	    "wait_ms", 5000);
	t0 = e2e_now_ms();
	e2e_ok(e, "ping", NULL);
	e2e_ok(e, "find", "{s:s}", "name", "g");
	ck_assert_msg(e2e_now_ms() - t0 < 200, "ping+find took %ld ms while "
	    "a getattr waited", e2e_now_ms() - t0);
	ck_assert_ptr_null(e2e_recv_line(a, 100));
	t0 = e2e_now_ms();
	e2e_ok(e, "setattr", "{s:s, s:{s:i}}", "name", "g", "attrs", "k", 42);
	r = e2e_recv(a, 3000);
	dt = e2e_now_ms() - t0;
	ck_assert_msg(json_is_true(json_object_get(r, "ok")), "%s",
	    e2e_dump(e, r));
	ck_assert_int_eq(e2e_int(r, "value"), 42);
	ck_assert_msg(dt < 500, "getattr answered %ld ms after setattr", dt);
	/* nobody sets it */
	t0 = e2e_now_ms();
	send_req(a, 2, "getattr", "{s:s, s:s, s:i}", "name", "g", "key",
	    "never", "wait_ms", 400);
	e2e_ok(e, "ping", NULL);
	ck_assert_msg(e2e_now_ms() - t0 < 200, "ping blocked by getattr");
	r = e2e_recv(a, 3000);
	dt = e2e_now_ms() - t0;
	ck_assert_msg(json_is_false(json_object_get(r, "ok")) &&
	    strcmp(e2e_str(r, "error"), "not_found") == 0, "%s",
	    e2e_dump(e, r));
	ck_assert_msg(dt >= 350 && dt < 2000, "not_found after %ld ms, want "
	    "wait_ms 400", dt);
	stop(e);
}
END_TEST

START_TEST(e2e_sup_info)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*r, *le;
	long long	 ready_at;
	pid_t		 pid;

	pid = (pid_t)e2e_int(e2e_ok(e, "start_child", "{s:s, s:o, s:s, s:i}",
	    "name", "inf", "cmd", e2e_cmd("--notify-ready-after-ms=300", NULL),
	    "ready", "notify", "restart_delay_ms", 10000), "pid");
	r = e2e_ok(e, "info", "{s:s}", "name", "inf");
	ck_assert_int_eq(e2e_int(r, "pid"), pid);
	ck_assert_str_eq(e2e_str(r, "state"), "running");
	ck_assert_int_eq(e2e_int(r, "restart_count"), 0);
	ck_assert_int_gt(e2e_int(r, "started_at"), 1600000000000LL);
	ready_at = e2e_int(r, "ready_at");
	ck_assert_int_ge(ready_at - e2e_int(r, "started_at"), 250);
	ck_assert(json_is_null(e2e_get(r, "last_exit")));
	ck_assert_int_gt(e2e_int(r, "rss_bytes"), 0);
	ck_assert_int_ge(e2e_int(r, "cpu_ms"), 0);
	ck_assert_str_eq(e2e_str(e2e_get(r, "spec"), "name"), "inf");
	kill(pid, SIGKILL);
	ck_assert(e2e_wait_state(e, "inf", "restarting", 3000));
	r = e2e_ok(e, "info", "{s:s}", "name", "inf");
	le = e2e_get(r, "last_exit");
	ck_assert_str_eq(e2e_str(le, "signal"), "SIGKILL");
	ck_assert_int_ge(e2e_int(le, "at"), ready_at);
	ck_assert(json_is_null(e2e_get(r, "pid")));
	/* an exit status */
	e2e_ok(e, "start_child", "{s:s, s:o, s:i}", "name", "ie",
	    "cmd", e2e_cmd("--exit-after-ms=20", "--exit-code=5", NULL),
	    "restart_delay_ms", 10000);
	ck_assert(e2e_wait_state(e, "ie", "restarting", 3000));
	le = e2e_get(e2e_ok(e, "info", "{s:s}", "name", "ie"), "last_exit");
	ck_assert_int_eq(e2e_int(le, "exit_status"), 5);
	ck_assert_ptr_null(json_object_get(le, "signal"));
	ck_assert_int_gt(e2e_int(le, "at"), 1600000000000LL);
	stop(e);
}
END_TEST

/* 6. Shutdown. */

/*
 * SIGTERM stops every child concurrently: four running or starting
 * children that ignore SIGTERM (timeout_ms 500 each: 2 s one after the
 * other), a restarting one whose restart falls due meanwhile (cancelled:
 * never spawned again) and a hook-bearing one (its hook runs once).
 */
START_TEST(e2e_sup_shutdown_all_states)
{
	static const char *const	 ign[] = { "i1", "i2", "i3", "st" };
	struct e2e			*e = e2e_start(NULL);
	const char			*spawns = e2e_path(e, "rs.spawns");
	pid_t				 pids[6];
	json_t				*lines;
	long				 t0, dt;
	int				 i, st;

	for (i = 0; i < 4; i++) {
		pids[i] = (pid_t)e2e_int(e2e_ok(e, "start_child", "{s:s, s:o, "
		    "s:{s:s, s:i}, s:s, s:b}", "name", ign[i], "cmd",
		    e2e_cmd("--ignore-term", e2e_ready_arg(e, ign[i]), NULL),
		    "shutdown", "signal", "TERM", "timeout_ms", 500,
		    "ready", i == 3 ? "notify" : "exec", "wait", 0), "pid");
		e2e_wait_ready(e, ign[i]);
	}
	pids[4] = e2e_spawn(e, "plain", NULL);
	e2e_ok(e, "start_child", "{s:s, s:o, s:o}", "name", "hk",
	    "cmd", e2e_cmd(NULL), "after_terminate",
	    hook_sh(e, HOOK_APPEND, "hk.calls"));
	pids[5] = (pid_t)row_int(e, "hk", "pid");
	e2e_ok(e, "start_child", "{s:s, s:o, s:i}", "name", "rs",
	    "cmd", e2e_cmd("--exit-after-ms=10", "--exit-code=1",
	    e2e_fmt(e, "--append-pid=%s", spawns), NULL),
	    "restart_delay_ms", 300);
	ck_assert(e2e_wait_state(e, "rs", "restarting", 3000));
	ck_assert_str_eq(row_state(e, "st"), "starting");
	ck_assert_str_eq(row_state(e, "i1"), "running");
	t0 = e2e_now_ms();
	kill(e2e_pid(e), SIGTERM);
	ck_assert_msg(e2e_wait_exit(e, 5000, &st), "gtd did not exit");
	dt = e2e_now_ms() - t0;
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x",
	    st);
	ck_assert_msg(dt >= 450 && dt < 1500, "gtd exited %ld ms after "
	    "SIGTERM, want ~500 (children stopped concurrently)", dt);
	for (i = 0; i < 6; i++)
		ck_assert_msg(e2e_wait_dead(pids[i], 1000), "child %d "
		    "survived gtd", (int)pids[i]);
	ck_assert_int_eq(e2e_count_lines(spawns), 1);
	lines = json_lines(e, e2e_path(e, "hk.calls"));
	ck_assert_msg(json_array_size(lines) == 1, "%s", e2e_dump(e, lines));
	ck_assert(json_is_true(e2e_get(e2e_get(json_array_get(lines, 0),
	    "reason"), "requested")));
	stop(e);
}
END_TEST

Suite *
e2e_supervision_suite(void)
{
	Suite	*s = suite_create("e2e_supervision");
	TCase	*tc;

	tc = tcase_create("policy");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_sup_transient_success_codes);
	tcase_add_test(tc, e2e_sup_backoff);
	tcase_add_test(tc, e2e_sup_intensity_window);
	tcase_add_test(tc, e2e_sup_give_up_stop);
	tcase_add_test(tc, e2e_sup_give_up_delete);
	tcase_add_test(tc, e2e_sup_give_up_exit_daemon);
	tcase_add_test(tc, e2e_sup_on_exit_ladder);
	tcase_add_test(tc, e2e_sup_restart_count);
	tcase_add_test(tc, e2e_sup_terminate_in_delay);
	tcase_add_test(tc, e2e_sup_supervisor_shutdown);
	suite_add_tcase(s, tc);

	tc = tcase_create("readiness");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_sup_ready_notify);
	tcase_add_test(tc, e2e_sup_ready_notify_foreign);
	tcase_add_test(tc, e2e_sup_watchdog);
	tcase_add_test(tc, e2e_sup_ready_fd);
	tcase_add_test(tc, e2e_sup_ready_timeout_waiters);
	tcase_add_test(tc, e2e_sup_exited_before_ready);
	tcase_add_test(tc, e2e_sup_nowait);
	suite_add_tcase(s, tc);

	tc = tcase_create("hooks");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_sup_hook_payload);
	tcase_add_test(tc, e2e_sup_hook_terminating);
	tcase_add_test(tc, e2e_sup_hook_terminating_restart);
	tcase_add_test(tc, e2e_sup_hook_terminating_removed);
	tcase_add_test(tc, e2e_sup_terminate_while_terminating);
	tcase_add_test(tc, e2e_sup_hook_once);
	tcase_add_test(tc, e2e_sup_hook_at_shutdown);
	tcase_add_test(tc, e2e_sup_hook_timeout);
	tcase_add_test(tc, e2e_sup_hook_failing);
	suite_add_tcase(s, tc);

	tc = tcase_create("adopt_ops");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_sup_adopt);
	tcase_add_test(tc, e2e_sup_adopt_with_cmd);
	tcase_add_test(tc, e2e_sup_release);
	tcase_add_test(tc, e2e_sup_signal);
	tcase_add_test(tc, e2e_sup_getattr_wait);
	tcase_add_test(tc, e2e_sup_info);
	suite_add_tcase(s, tc);

	tc = tcase_create("shutdown");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_sup_shutdown_all_states);
	suite_add_tcase(s, tc);
	return (s);
}
