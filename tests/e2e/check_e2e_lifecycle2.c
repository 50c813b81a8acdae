/* SPDX-License-Identifier: MIT */
/*
 * check_e2e_lifecycle2: the child lifecycle where it meets timing and
 * requests.  A reload (op or SIGHUP) during the boot is queued until the
 * boot ends.  A start that never became ready leaves no row and no
 * restart behind, on every path that creates a row; a failed manual
 * restart leaves the row stopped; `exited` always carries the exit.
 * spawn_failed names the step and the path.  A released child keeps
 * writing; hooks never get gtd's descriptors and never hold a shutdown.
 * restart_child force restarts a running child in one step; gave_up,
 * restart_at and the terminate reason say what happened.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "harness.h"

#define LC_WAIT_MS	5000		/* one condition */

static void	touch(const char *);
static void	assert_exit(struct e2e *, json_t *, int, const char *);
static long long epoch_ms(void);
static json_t	*sql_row(struct e2e *, const char *);

/* Create path (empty), as a cue for gt-testchild --ready-after. */
static void
touch(const char *path)
{
	int	fd;

	ck_assert_msg((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC,
	    0644)) != -1, "%s: %s", path, strerror(errno));
	close(fd);
}

/*
 * A reload (the op, and SIGHUP) while a boot child is still starting is
 * queued: the reply says so, and the boot goes on with the config it
 * began with.  Once the boot ends the file is read again and applied:
 * the booting child, gone from the new file, stops and goes; a new one
 * starts.  gtd neither crashes (the boot walked a freed config) nor
 * exits 1 (the boot child it waited on was stopped by the reload).  A
 * file that does not validate is still refused at once.
 */
START_TEST(e2e_lc_reload_during_boot)
{
	static const char	*conf1 = "{\"children\":["
	    "{\"name\":\"a\",\"cmd\":[\"@TESTCHILD@\",\"--ready-fd=3\","
	    "\"--ready-after=@DIR@/go\"],\"ready\":{\"fd\":3}},"
	    "{\"name\":\"b\",\"cmd\":[\"@TESTCHILD@\"]}]}";
	struct e2e	*e;
	json_t		*r;

	e = e2e_start_booting(conf1);
	ck_assert(e2e_wait_state(e, "a", "starting", LC_WAIT_MS));
	/* The new file: "a" is gone, "c" is new. */
	e2e_write_conf(e, e2e_fmt(e, "{\"children\":["
	    "{\"name\":\"b\",\"cmd\":[\"%s\"]},"
	    "{\"name\":\"c\",\"cmd\":[\"%s\"]}]}", e2e_testchild(e),
	    e2e_testchild(e)));
	r = e2e_ok(e, "reload", NULL);
	ck_assert_msg(json_is_true(json_object_get(r, "queued")),
	    "reload during the boot: %s", e2e_dump(e, r));
	ck_assert_int_eq(kill(e2e_pid(e), SIGHUP), 0);
	e2e_ok(e, "ping", NULL);
	/* Nothing applied yet: the boot goes on with what it began with. */
	ck_assert_str_eq(e2e_str(e2e_row(e, "a"), "state"), "starting");
	ck_assert_ptr_null(e2e_row(e, "c"));
	/* A file that does not validate is refused now, as ever. */
	e2e_write_conf(e, "{\"children\":[{\"name\":\"x\"}]}");
	e2e_err(e, "bad_config", "reload", NULL);
	e2e_write_conf(e, e2e_fmt(e, "{\"children\":["
	    "{\"name\":\"b\",\"cmd\":[\"%s\"]},"
	    "{\"name\":\"c\",\"cmd\":[\"%s\"]}]}", e2e_testchild(e),
	    e2e_testchild(e)));
	touch(e2e_path(e, "go"));
	ck_assert_int_eq(e2e_wait_booted(e, LC_WAIT_MS), 1);
	/* Then the queued reload: "a" stops and goes, "c" starts. */
	ck_assert_msg(e2e_wait_absent(e, "a", LC_WAIT_MS), "a: %s",
	    e2e_dump(e, e2e_row(e, "a")));
	ck_assert(e2e_wait_state(e, "b", "running", LC_WAIT_MS));
	ck_assert(e2e_wait_state(e, "c", "running", LC_WAIT_MS));
	r = e2e_ok(e, "reload", NULL);
	ck_assert_ptr_null(json_object_get(r, "queued"));
	e2e_stop(e);
}
END_TEST

/* The exit fields of reply r: exit_status n (or signal sig if n < 0). */
static void
assert_exit(struct e2e *e, json_t *r, int n, const char *sig)
{
	if (n >= 0) {
		ck_assert_msg(e2e_int(r, "exit_status") == n, "%s",
		    e2e_dump(e, r));
		ck_assert_ptr_null(json_object_get(r, "signal"));
	} else {
		ck_assert_str_eq(e2e_str(r, "signal"), sig);
		ck_assert_ptr_null(json_object_get(r, "exit_status"));
	}
}

/*
 * A start that never became ready leaves no row and no restart behind
 * (protocol §4), whichever request made the row: start_child,
 * find_or_open, a reload that adds a child; and whether it exited
 * (exited, with the exit_status), missed its ready_timeout_ms (timeout)
 * or could not be spawned (spawn_failed).  restart_delay_ms is short: a
 * row that was kept would be restarting by the time we look.
 */
START_TEST(e2e_lc_never_ready_no_row)
{
	struct e2e	*e = e2e_start("{}");
	json_t		*r;

	r = e2e_err(e, "exited", "start_child", "{s:s, s:o, s:{s:i}, s:i}",
	    "name", "s", "cmd", e2e_cmd("--exit-code=3", NULL), "ready",
	    "fd", 3, "restart_delay_ms", 10);
	assert_exit(e, r, 3, NULL);
	ck_assert_ptr_null(json_object_get(r, "requested"));
	ck_assert_ptr_null(e2e_row(e, "s"));
	r = e2e_err(e, "exited", "find_or_open", "{s:s, s:o, s:{s:i}, s:i}",
	    "name", "f", "cmd", e2e_cmd("--kill-self=9", NULL), "ready",
	    "fd", 3, "restart_delay_ms", 10);
	assert_exit(e, r, -1, "SIGKILL");
	ck_assert_ptr_null(e2e_row(e, "f"));
	e2e_err(e, "timeout", "start_child", "{s:s, s:o, s:{s:i}, s:i, s:i}",
	    "name", "t", "cmd", e2e_cmd(NULL), "ready", "fd", 3,
	    "ready_timeout_ms", 200, "restart_delay_ms", 10);
	ck_assert(e2e_wait_absent(e, "t", LC_WAIT_MS));
	r = e2e_err(e, "spawn_failed", "find_or_open", "{s:s, s:o, s:s, s:i}",
	    "name", "c", "cmd", e2e_cmd(NULL), "cwd", "/nonexistent",
	    "restart_delay_ms", 10);
	ck_assert_ptr_null(e2e_row(e, "c"));
	/* A reload that adds a child: no caller, the same rule. */
	e2e_write_conf(e, e2e_fmt(e, "{\"children\":[{\"name\":\"rl\",\"cmd\":"
	    "[\"%s\",\"--exit-code=4\"],\"ready\":{\"fd\":3},"
	    "\"restart_delay_ms\":10}]}", e2e_testchild(e)));
	e2e_ok(e, "reload", NULL);
	ck_assert(e2e_wait_absent(e, "rl", LC_WAIT_MS));
	ck_assert(e2e_wait_text(e2e_path(e, "gtd.log"),
	    "child rl: exited with status 4", LC_WAIT_MS));
	r = e2e_ok(e, "stats", NULL);
	ck_assert_int_eq(e2e_int(r, "restarts"), 0);
	e2e_stop(e);
}
END_TEST

/*
 * A row that was ready once: a manual restart (restart_child, and
 * find_or_open of the stopped row) that exits before it is ready
 * returns exited and leaves the row stopped, with no restart due.
 */
START_TEST(e2e_lc_manual_restart_fails_stopped)
{
	struct e2e	*e = e2e_start("{}");
	const char	*gate = e2e_path(e, "gate");
	json_t		*r;

	touch(gate);
	/* Ready (a newline on fd 3) while the gate exists, else exit 5. */
	e2e_ok(e, "start_child", "{s:s, s:[s,s,s,s], s:{s:i}, s:i}", "name",
	    "m", "cmd", "/bin/sh", "-c", "if [ -e \"$0\" ]; then echo >&3; "
	    "exec sleep 600; fi; exit 5", gate, "ready", "fd", 3,
	    "restart_delay_ms", 10);
	e2e_ok(e, "terminate_child", "{s:s}", "name", "m");
	ck_assert_int_eq(unlink(gate), 0);
	r = e2e_err(e, "exited", "restart_child", "{s:s}", "name", "m");
	assert_exit(e, r, 5, NULL);
	ck_assert(e2e_wait_state(e, "m", "stopped", LC_WAIT_MS));
	r = e2e_row(e, "m");
	ck_assert(json_is_null(e2e_get(r, "restart_at")));
	ck_assert_int_eq(e2e_int(r, "restart_count"), 0);
	r = e2e_err(e, "exited", "find_or_open", "{s:s, s:o}", "name", "m",
	    "cmd", e2e_cmd(NULL));
	assert_exit(e, r, 5, NULL);
	ck_assert(e2e_wait_state(e, "m", "stopped", LC_WAIT_MS));
	r = e2e_ok(e, "stats", NULL);
	ck_assert_int_eq(e2e_int(r, "restarts"), 0);
	e2e_stop(e);
}
END_TEST

/*
 * terminate_child of a starting child: every start waiter gets exited
 * with the signal and requested: true, once the process is reaped; the
 * terminate reply says who asked and what was sent; the row goes.
 */
START_TEST(e2e_lc_exited_requested)
{
	struct e2e	*e = e2e_start("{}");
	struct e2e_conn	*b = e2e_client(e);
	json_t		*r;

	e2e_ok(e, "start_child", "{s:s, s:o, s:{s:i}, s:b}", "name", "w",
	    "cmd", e2e_cmd(NULL), "ready", "fd", 3, "wait", 0);
	e2e_send_line(b, "{\"id\":7,\"op\":\"find_or_open\",\"name\":\"w\","
	    "\"cmd\":[\"/bin/true\"]}");
	e2e_cok(e2e_client(e), "ping", NULL);
	ck_assert(!e2e_closed(b, 0));
	r = e2e_ok(e, "terminate_child", "{s:s}", "name", "w");
	r = e2e_get(r, "reason");
	ck_assert(json_is_true(e2e_get(r, "requested")));
	ck_assert_str_eq(e2e_str(r, "stop_signal"), "SIGTERM");
	ck_assert_ptr_null(json_object_get(r, "escalated"));
	r = e2e_recv(b, LC_WAIT_MS);
	ck_assert_msg(json_is_false(json_object_get(r, "ok")) &&
	    strcmp(e2e_str(r, "error"), "exited") == 0, "%s",
	    e2e_dump(e, r));
	assert_exit(e, r, -1, "SIGTERM");
	ck_assert(json_is_true(e2e_get(r, "requested")));
	ck_assert(e2e_wait_absent(e, "w", LC_WAIT_MS));
	e2e_stop(e);
}
END_TEST

/*
 * spawn_failed names the step that failed and its path, in the reply
 * (errno, step, path, message) and in gtd's log; info's last_exit keeps
 * it for a restart that failed so.
 */
START_TEST(e2e_lc_spawn_failed_step)
{
	struct e2e	*e = e2e_start("{}");
	const char	*priv = e2e_path(e, "private");
	const char	*wd = e2e_path(e, "wd");
	json_t		*r, *last;

	r = e2e_err(e, "spawn_failed", "start_child", "{s:s, s:[s,s], s:s}",
	    "name", "a", "cmd", "sleep", "9", "cwd", "/nonexistent");
	ck_assert_str_eq(e2e_str(r, "errno"), "ENOENT");
	ck_assert_str_eq(e2e_str(r, "step"), "chdir");
	ck_assert_str_eq(e2e_str(r, "path"), "/nonexistent");
	ck_assert_str_eq(e2e_str(r, "message"),
	    "chdir /nonexistent: No such file or directory");
	ck_assert(e2e_wait_text(e2e_path(e, "gtd.log"),
	    "child a: chdir /nonexistent: No such file or directory",
	    LC_WAIT_MS));
	/* A directory nobody may enter: the chdir, not the program. */
	ck_assert_int_eq(mkdir(priv, 0700), 0);
	r = e2e_err(e, "spawn_failed", "start_child", "{s:s, s:[s,s], s:s, "
	    "s:s}", "name", "b", "cmd", "sleep", "9", "user", "nobody", "cwd",
	    priv);
	ck_assert_str_eq(e2e_str(r, "errno"), "EACCES");
	ck_assert_str_eq(e2e_str(r, "step"), "chdir");
	ck_assert_str_eq(e2e_str(r, "path"), priv);
	r = e2e_err(e, "spawn_failed", "start_child", "{s:s, s:[s]}", "name",
	    "c", "cmd", "/nonexistent/prog");
	ck_assert_str_eq(e2e_str(r, "step"), "exec");
	ck_assert_str_eq(e2e_str(r, "path"), "/nonexistent/prog");
	/* A restart whose cwd went away: the policy's, kept in last_exit. */
	ck_assert_int_eq(mkdir(wd, 0755), 0);
	e2e_ok(e, "start_child", "{s:s, s:o, s:s, s:i}", "name", "d", "cmd",
	    e2e_cmd(NULL), "cwd", wd, "restart_delay_ms", 100);
	ck_assert_int_eq(rmdir(wd), 0);
	e2e_ok(e, "signal", "{s:s, s:s}", "name", "d", "signal", "KILL");
	ck_assert(e2e_wait_text(e2e_path(e, "gtd.log"), e2e_fmt(e,
	    "child d: chdir %s: No such file or directory", wd), LC_WAIT_MS));
	ck_assert(e2e_wait_state(e, "d", "restarting", LC_WAIT_MS));
	last = e2e_get(e2e_ok(e, "info", "{s:s}", "name", "d"), "last_exit");
	ck_assert_str_eq(e2e_str(last, "step"), "chdir");
	ck_assert_str_eq(e2e_str(last, "errno"), "ENOENT");
	ck_assert_str_eq(e2e_str(last, "path"), wd);
	e2e_ok(e, "terminate_child", "{s:s}", "name", "d");
	e2e_stop(e);
}
END_TEST

/* At boot, gtd's log names the step too (and gtd exits unready). */
START_TEST(e2e_lc_spawn_failed_boot_log)
{
	struct e2e	*e;
	int		 st;

	e = e2e_start_booting("{\"children\":[{\"name\":\"bad\","
	    "\"cmd\":[\"sleep\",\"9\"],\"cwd\":\"/nonexistent\"}]}");
	ck_assert_int_eq(e2e_wait_booted(e, LC_WAIT_MS), 0);
	ck_assert(e2e_wait_exit(e, LC_WAIT_MS, &st));
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	ck_assert(e2e_wait_text(e2e_path(e, "gtd.log"),
	    "child bad: chdir /nonexistent: No such file or directory", 0));
	e2e_expect_exit(e, 1);
	e2e_stop(e);
}
END_TEST

/*
 * A released child goes on writing: gtd reads its output pipe (and logs
 * it) until the process closes it, instead of closing it under the
 * process (SIGPIPE at its next write).  gt-testchild writes its pidfile
 * only after the last flood line.
 */
START_TEST(e2e_lc_release_keeps_writing)
{
	struct e2e	*e = e2e_start("{}");
	const char	*pidf = e2e_path(e, "x.pid");
	pid_t		 pid;
	json_t		*r;

	r = e2e_ok(e, "start_child", "{s:s, s:o}", "name", "x", "cmd",
	    e2e_cmd("--flood=20", "--flood-every-ms=25",
	    e2e_fmt(e, "--pidfile=%s", pidf), NULL));
	pid = e2e_int(r, "pid");
	e2e_ok(e, "release", "{s:s}", "name", "x");
	ck_assert_ptr_null(e2e_row(e, "x"));
	ck_assert_msg(e2e_read_pid(e, pidf, LC_WAIT_MS) == pid,
	    "the released child did not finish writing");
	ck_assert(e2e_pid_alive(pid));
	ck_assert(e2e_wait_text(e2e_path(e, "gtd.log"),
	    "child x: flood 000020", LC_WAIT_MS));
	/* The name is free for a new row meanwhile. */
	e2e_ok(e, "start_child", "{s:s, s:o}", "name", "x", "cmd",
	    e2e_cmd(NULL));
	e2e_ok(e, "terminate_child", "{s:s}", "name", "x");
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	ck_assert(e2e_wait_dead(pid, LC_WAIT_MS));
	e2e_stop(e);
}
END_TEST

/*
 * A hook's stdout and stderr go to the child's log (stream "hook"), not
 * to gtd's own descriptors: the raw lines never appear in gtd's log.
 */
START_TEST(e2e_lc_hook_output_to_log)
{
	struct e2e	*e = e2e_start("{}");
	json_t		*r, *lines, *l;
	size_t		 i;
	int		 seen = 0;

	e2e_ok(e, "start_child", "{s:s, s:o, s:[s,s,s], s:i, s:s}", "name",
	    "h", "cmd", e2e_cmd("--exit-after-ms=100", NULL),
	    "after_terminate", "/bin/sh", "-c",
	    "echo HOOK-OUT; echo HOOK-ERR >&2",
	    "restart_delay_ms", 60000, "user", "nobody");
	/* restarting: the hook has finished. */
	ck_assert(e2e_wait_state(e, "h", "restarting", LC_WAIT_MS));
	r = e2e_ok(e, "logs", "{s:s}", "name", "h");
	lines = e2e_get(r, "lines");
	json_array_foreach(lines, i, l)
		if (strcmp(e2e_str(l, "stream"), "hook") == 0 &&
		    (strcmp(e2e_str(l, "line"), "HOOK-OUT") == 0 ||
		    strcmp(e2e_str(l, "line"), "HOOK-ERR") == 0))
			seen++;
	ck_assert_msg(seen == 2, "hook lines in logs: %s", e2e_dump(e, r));
	r = NULL;
	ck_assert(!e2e_has_line(e2e_read_file(e, e2e_path(e, "gtd.log"), 0),
	    "HOOK-ERR"));
	ck_assert(!e2e_has_line(e2e_read_file(e, e2e_path(e, "gtd.out"), 0),
	    "HOOK-OUT"));
	e2e_ok(e, "terminate_child", "{s:s}", "name", "h");
	e2e_stop(e);
}
END_TEST

/*
 * A hook holds the shutdown at most hook_timeout_ms; a second SIGTERM
 * ends it at once: the hook is killed with everything else.
 */
START_TEST(e2e_lc_hook_second_signal)
{
	struct e2e	*e = e2e_start("{}");
	const char	*hpid = e2e_path(e, "hook.pid");
	pid_t		 hook;
	long		 t0;
	int		 st;

	e2e_ok(e, "start_child", "{s:s, s:o, s:[s,s,s,s], s:i}", "name", "k",
	    "cmd", e2e_cmd(NULL), "after_terminate", "/bin/sh", "-c",
	    "echo $$ > \"$0.tmp\" && mv \"$0.tmp\" \"$0\" && exec sleep 60",
	    hpid, "hook_timeout_ms", 60000);
	ck_assert_int_eq(kill(e2e_pid(e), SIGTERM), 0);
	hook = e2e_read_pid(e, hpid, LC_WAIT_MS);
	ck_assert(e2e_pid_alive(hook));
	t0 = e2e_now_ms();
	ck_assert_int_eq(kill(e2e_pid(e), SIGTERM), 0);
	ck_assert_msg(e2e_wait_exit(e, 3000, &st), "gtd still waits for "
	    "its hook after a second SIGTERM");
	ck_assert(e2e_now_ms() - t0 < e2e_slow(3000));
	ck_assert(e2e_wait_dead(hook, LC_WAIT_MS));
	e2e_expect_exit(e, 0);
	e2e_stop(e);
}
END_TEST

/* Epoch milliseconds, to compare with gtd's *_at fields. */
static long long
epoch_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/*
 * restart_child force of a running child is one step for every other
 * client: the old process is stopped as on request (here it ignores
 * SIGTERM, so that takes its 400 ms timeout and a SIGKILL), and a
 * find_or_open meanwhile waits and gets the new pid, never the old one
 * or not_found.  No policy restart is counted.
 */
START_TEST(e2e_lc_restart_force)
{
	struct e2e	*e = e2e_start("{}");
	struct e2e_conn	*b = e2e_client(e);
	json_t		*r;
	pid_t		 old, pid;

	e2e_ok(e, "start_child", "{s:s, s:o, s:{s:i}}", "name", "f", "cmd",
	    e2e_cmd("--ignore-term", e2e_ready_arg(e, "f"), NULL),
	    "shutdown", "timeout_ms", 400);
	old = e2e_wait_ready(e, "f");
	/* Without force: running, and it says how. */
	r = e2e_err(e, "running", "restart_child", "{s:s}", "name", "f");
	ck_assert_int_eq(e2e_int(r, "pid"), old);
	e2e_send_line(b, "{\"id\":1,\"op\":\"restart_child\",\"name\":\"f\","
	    "\"force\":true}");
	ck_assert(e2e_wait_state(e, "f", "stopping", LC_WAIT_MS));
	r = e2e_ok(e, "find_or_open", "{s:s, s:o}", "name", "f", "cmd",
	    e2e_cmd(NULL));
	pid = e2e_int(r, "pid");
	ck_assert_int_ne(pid, old);
	ck_assert(e2e_wait_dead(old, LC_WAIT_MS));
	r = e2e_recv(b, LC_WAIT_MS);
	ck_assert_msg(json_is_true(json_object_get(r, "ok")), "%s",
	    e2e_dump(e, r));
	ck_assert_int_eq(e2e_int(r, "pid"), pid);
	ck_assert_str_eq(e2e_str(r, "state"), "running");
	r = e2e_row(e, "f");
	ck_assert_int_eq(e2e_int(r, "restart_count"), 0);
	r = e2e_get(e2e_ok(e, "info", "{s:s}", "name", "f"), "last_exit");
	ck_assert(json_is_true(e2e_get(r, "requested")));
	ck_assert(json_is_true(e2e_get(r, "escalated")));
	/* A restarting row: force starts it now. */
	e2e_ok(e, "terminate_child", "{s:s, s:i}", "name", "f",
	    "timeout_ms", 0);
	r = e2e_ok(e, "restart_child", "{s:s, s:b}", "name", "f", "force", 1);
	ck_assert_int_gt(e2e_int(r, "pid"), 0);
	e2e_ok(e, "terminate_child", "{s:s, s:i}", "name", "f",
	    "timeout_ms", 0);
	e2e_stop(e);
}
END_TEST

/*
 * The terminate reply says who asked and how it went: requested, the
 * signal sent first, and that SIGKILL followed after timeout_ms.
 */
START_TEST(e2e_lc_terminate_reason)
{
	struct e2e	*e = e2e_start("{}");
	json_t		*r;

	e2e_ok(e, "start_child", "{s:s, s:o}", "name", "g", "cmd",
	    e2e_cmd("--ignore-term", e2e_ready_arg(e, "g"), NULL));
	(void)e2e_wait_ready(e, "g");
	r = e2e_get(e2e_ok(e, "terminate_child", "{s:s, s:i}", "name", "g",
	    "timeout_ms", 300), "reason");
	ck_assert_str_eq(e2e_str(r, "signal"), "SIGKILL");
	ck_assert(json_is_true(e2e_get(r, "requested")));
	ck_assert_str_eq(e2e_str(r, "stop_signal"), "SIGTERM");
	ck_assert(json_is_true(e2e_get(r, "escalated")));
	ck_assert_int_eq(e2e_int(r, "timeout_ms"), 300);
	/* Stopped in time: no escalation. */
	e2e_spawn(e, "h", NULL);
	r = e2e_get(e2e_ok(e, "terminate_child", "{s:s}", "name", "h"),
	    "reason");
	ck_assert(json_is_true(e2e_get(r, "requested")));
	ck_assert_str_eq(e2e_str(r, "stop_signal"), "SIGTERM");
	ck_assert_ptr_null(json_object_get(r, "escalated"));
	e2e_stop(e);
}
END_TEST

/* The SQL children row of name: [restart_at, gave_up]. */
static json_t *
sql_row(struct e2e *e, const char *name)
{
	json_t	*r;

	r = e2e_ok(e, "query", "{s:s, s:[s]}", "sql", "SELECT restart_at, "
	    "gave_up FROM children WHERE name = ?1", "params", name);
	return (json_array_get(e2e_get(r, "rows"), 0));
}

/*
 * A restarting row says when its next try is (restart_at, epoch ms, in
 * which_children, info and SQL); a row the policy gave up on says so
 * (gave_up); restart_child then starts afresh: a new intensity window,
 * so the next exit is restarted again instead of giving up at once.
 */
START_TEST(e2e_lc_gave_up_restart_at)
{
	struct e2e	*e = e2e_start("{}");
	json_t		*r;
	long long	 t0;
	json_int_t	 at;

	t0 = epoch_ms();
	e2e_ok(e, "start_child", "{s:s, s:o, s:i, s:{s:f}, s:i, s:i}",
	    "name", "g", "cmd", e2e_cmd("--exit-after-ms=50",
	    "--exit-code=1", NULL), "restart_delay_ms", 1500, "backoff",
	    "jitter", 0.0, "max_restarts", 1, "max_period_ms", 60000);
	ck_assert(e2e_wait_state(e, "g", "restarting", LC_WAIT_MS));
	r = e2e_row(e, "g");
	at = e2e_int(r, "restart_at");
	ck_assert_msg(at >= t0 + 1500 && at <= epoch_ms() + 1500, "restart_at "
	    "%lld, started at %lld", (long long)at, t0);
	ck_assert(json_is_false(e2e_get(r, "gave_up")));
	r = e2e_ok(e, "info", "{s:s}", "name", "g");
	ck_assert_int_eq(e2e_int(r, "restart_at"), at);
	ck_assert(json_is_false(e2e_get(r, "gave_up")));
	ck_assert_int_eq(json_integer_value(json_array_get(sql_row(e, "g"),
	    0)), at);
	/* The restart exits too: past max_restarts, it gives up. */
	ck_assert(e2e_wait_state(e, "g", "stopped", LC_WAIT_MS));
	r = e2e_row(e, "g");
	ck_assert(json_is_true(e2e_get(r, "gave_up")));
	ck_assert(json_is_null(e2e_get(r, "restart_at")));
	ck_assert_int_eq(e2e_int(r, "restart_count"), 1);
	ck_assert(json_is_true(e2e_get(e2e_ok(e, "info", "{s:s}", "name",
	    "g"), "gave_up")));
	r = sql_row(e, "g");
	ck_assert(json_is_null(json_array_get(r, 0)));
	ck_assert_int_eq(json_integer_value(json_array_get(r, 1)), 1);
	/* restart_child: a fresh window, so this exit restarts again. */
	e2e_ok(e, "restart_child", "{s:s}", "name", "g");
	ck_assert(e2e_wait_state(e, "g", "restarting", LC_WAIT_MS));
	r = e2e_row(e, "g");
	ck_assert(json_is_false(e2e_get(r, "gave_up")));
	ck_assert_int_eq(e2e_int(r, "restart_count"), 2);
	e2e_ok(e, "terminate_child", "{s:s}", "name", "g");
	e2e_stop(e);
}
END_TEST

/*
 * wait:false behind max_starting: the start is queued, the reply is ok
 * with pid null, state starting and queued: true.
 */
START_TEST(e2e_lc_nowait_queued)
{
	struct e2e	*e = e2e_start("{\"max_starting\":1}");
	json_t		*r;

	r = e2e_ok(e, "start_child", "{s:s, s:o, s:{s:i}, s:b}", "name", "a",
	    "cmd", e2e_cmd(NULL), "ready", "fd", 3, "wait", 0);
	ck_assert_int_gt(e2e_int(r, "pid"), 0);
	ck_assert_ptr_null(json_object_get(r, "queued"));
	r = e2e_ok(e, "start_child", "{s:s, s:o, s:b}", "name", "b",
	    "cmd", e2e_cmd(NULL), "wait", 0);
	ck_assert(json_is_null(e2e_get(r, "pid")));
	ck_assert_str_eq(e2e_str(r, "state"), "starting");
	ck_assert(json_is_true(e2e_get(r, "queued")));
	r = e2e_ok(e, "find_or_open", "{s:s, s:o, s:b}", "name", "c",
	    "cmd", e2e_cmd(NULL), "wait", 0);
	ck_assert(json_is_null(e2e_get(r, "pid")));
	ck_assert(json_is_true(e2e_get(r, "queued")));
	/* A slot frees: they start. */
	e2e_ok(e, "terminate_child", "{s:s}", "name", "a");
	ck_assert(e2e_wait_state(e, "b", "running", LC_WAIT_MS));
	ck_assert(e2e_wait_state(e, "c", "running", LC_WAIT_MS));
	e2e_stop(e);
}
END_TEST

/*
 * add_existing_child with a cmd: the adopted process counts as ready,
 * so when it dies the row is restarted by its policy (as a child of
 * gtd's own), unlike a start that never became ready.
 */
START_TEST(e2e_lc_adopted_restarts)
{
	struct e2e	*e = e2e_start("{}");
	json_t		*r;
	pid_t		 pid, again;
	int		 st;

	fflush(NULL);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		setenv("GTD_SOCKET", e2e_sock(e), 1);	/* the survivor scan */
		execl(e2e_testchild(e), e2e_testchild(e), (char *)NULL);
		_exit(127);
	}
	r = e2e_req(e, "add_existing_child", "{s:s, s:i, s:o, s:i}", "name",
	    "ad", "pid", (int)pid, "cmd", e2e_cmd(NULL), "restart_delay_ms",
	    10);
	if (e2e_adopt_unsupported(e, r, "e2e_lc_adopted_restarts")) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		e2e_stop(e);
		return;
	}
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	again = e2e_wait_restarted(e, "ad", pid, LC_WAIT_MS);
	ck_assert_int_gt(again, 0);
	ck_assert_int_eq(e2e_int(e2e_row(e, "ad"), "restart_count"), 1);
	e2e_ok(e, "terminate_child", "{s:s}", "name", "ad");
	/* Adopted without a cmd: restart force has nothing to start. */
	fflush(NULL);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		setenv("GTD_SOCKET", e2e_sock(e), 1);
		execl(e2e_testchild(e), e2e_testchild(e), (char *)NULL);
		_exit(127);
	}
	e2e_ok(e, "add_existing_child", "{s:s, s:i}", "name", "nc", "pid",
	    (int)pid);
	r = e2e_err(e, "bad_request", "restart_child", "{s:s, s:b}", "name",
	    "nc", "force", 1);
	ck_assert_str_eq(e2e_str(r, "field"), "force");
	ck_assert_int_eq(e2e_int(e2e_row(e, "nc"), "pid"), pid);
	e2e_ok(e, "release", "{s:s}", "name", "nc");
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	e2e_stop(e);
}
END_TEST

/* At shutdown a hook holds gtd for at most its hook_timeout_ms. */
START_TEST(e2e_lc_hook_bounded_at_shutdown)
{
	struct e2e	*e = e2e_start("{}");
	const char	*hpid = e2e_path(e, "hook.pid");
	pid_t		 hook;
	long		 t0;
	int		 st;

	e2e_ok(e, "start_child", "{s:s, s:o, s:[s,s,s,s], s:i}", "name", "k",
	    "cmd", e2e_cmd(NULL), "after_terminate", "/bin/sh", "-c",
	    "echo $$ > \"$0.tmp\" && mv \"$0.tmp\" \"$0\" && exec sleep 60",
	    hpid, "hook_timeout_ms", 400);
	t0 = e2e_now_ms();
	ck_assert_int_eq(kill(e2e_pid(e), SIGTERM), 0);
	hook = e2e_read_pid(e, hpid, LC_WAIT_MS);
	ck_assert(e2e_wait_exit(e, LC_WAIT_MS, &st));
	ck_assert_msg(e2e_now_ms() - t0 >= 350, "gtd did not wait for its "
	    "hook");
	ck_assert(e2e_wait_dead(hook, LC_WAIT_MS));
	e2e_expect_exit(e, 0);
	e2e_stop(e);
}
END_TEST

Suite *
e2e_lifecycle2_suite(void)
{
	Suite	*s = suite_create("e2e_lifecycle2");
	TCase	*tc;

	tc = tcase_create("boot");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_lc_reload_during_boot);
	tcase_add_test(tc, e2e_lc_spawn_failed_boot_log);
	suite_add_tcase(s, tc);

	tc = tcase_create("start");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_lc_never_ready_no_row);
	tcase_add_test(tc, e2e_lc_manual_restart_fails_stopped);
	tcase_add_test(tc, e2e_lc_exited_requested);
	tcase_add_test(tc, e2e_lc_spawn_failed_step);
	tcase_add_test(tc, e2e_lc_adopted_restarts);
	suite_add_tcase(s, tc);

	tc = tcase_create("release_hooks");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_lc_release_keeps_writing);
	tcase_add_test(tc, e2e_lc_hook_output_to_log);
	tcase_add_test(tc, e2e_lc_hook_second_signal);
	tcase_add_test(tc, e2e_lc_hook_bounded_at_shutdown);
	suite_add_tcase(s, tc);

	tc = tcase_create("restart");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_lc_restart_force);
	tcase_add_test(tc, e2e_lc_terminate_reason);
	tcase_add_test(tc, e2e_lc_gave_up_restart_at);
	tcase_add_test(tc, e2e_lc_nowait_queued);
	suite_add_tcase(s, tc);
	return (s);
}
