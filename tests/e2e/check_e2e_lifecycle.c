/* SPDX-License-Identifier: MIT */
/*
 * check_e2e_lifecycle: starting and stopping children (start_child,
 * terminate_child, restart_child, delete_child, terminate_and_delete),
 * invalid specs and spawn failures, shutdown settings and group kill, and
 * the restart policies with their delay and intensity.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "harness.h"

/* {spec fields as JSON (without name), field}: invalid childspecs. */
static const char *const bad_specs[][2] = {
	{ "{}", "cmd" },
	{ "{\"cmd\":\"/bin/true\"}", "cmd" },
	{ "{\"cmd\":[]}", "cmd" },
	{ "{\"cmd\":[\"/bin/true\",1]}", "cmd.1" },
	{ "{\"cmd\":[\"/bin/true\"],\"args\":[\"a\",2]}", "args.1" },
	{ "{\"cmd\":[\"/bin/true\"],\"restart\":\"sometimes\"}", "restart" },
	{ "{\"cmd\":[\"/bin/true\"],\"type\":\"boss\"}", "type" },
	{ "{\"cmd\":[\"/bin/true\"],\"shutdown\":{\"timeout_ms\":\"soon\"}}",
	    "shutdown.timeout_ms" },
	{ "{\"cmd\":[\"/bin/true\"],\"shutdown\":{\"signal\":\"NOPE\"}}",
	    "shutdown.signal" },
	{ "{\"cmd\":[\"/bin/true\"],\"shutdown\":{\"bogus\":1}}",
	    "shutdown.bogus" },
	{ "{\"cmd\":[\"/bin/true\"],\"shutdown\":\"gentle\"}", "shutdown" },
	{ "{\"cmd\":[\"/bin/true\"],\"env\":{\"FOO\":1}}", "env.FOO" },
	{ "{\"cmd\":[\"/bin/true\"],\"env\":[]}", "env" },
	{ "{\"cmd\":[\"/bin/true\"],\"clear_env\":\"yes\"}", "clear_env" },
	{ "{\"cmd\":[\"/bin/true\"],\"success_exit_codes\":[\"0\"]}",
	    "success_exit_codes.0" },
	{ "{\"cmd\":[\"/bin/true\"],\"restart_delay_ms\":-1}",
	    "restart_delay_ms" },
	{ "{\"cmd\":[\"/bin/true\"],\"max_restarts\":\"ten\"}",
	    "max_restarts" },
	{ "{\"cmd\":[\"/bin/true\"],\"max_period_ms\":-5}", "max_period_ms" },
	{ "{\"cmd\":[\"/bin/true\"],\"on_give_up\":\"panic\"}", "on_give_up" },
	{ "{\"cmd\":[\"/bin/true\"],\"kill_group\":\"yes\"}", "kill_group" },
	{ "{\"cmd\":[\"/bin/true\"],\"attrs\":[]}", "attrs" },
	{ "{\"cmd\":[\"/bin/true\"],\"cwd\":5}", "cwd" },
	{ "{\"cmd\":[\"/bin/true\"],\"bogus\":true}", "bogus" },
	{ NULL, NULL }
};

static void	copy_file(const char *, const char *);

/* cp from to, keeping the mode. */
static void
copy_file(const char *from, const char *to)
{
	char		 buf[65536];
	struct stat	 sb;
	ssize_t		 n;
	int		 in, out;

	ck_assert_int_ne(in = open(from, O_RDONLY), -1);
	ck_assert_int_eq(fstat(in, &sb), 0);
	ck_assert_int_ne(out = open(to, O_WRONLY|O_CREAT|O_TRUNC,
	    sb.st_mode & 0777), -1);
	while ((n = read(in, buf, sizeof buf)) > 0)
		ck_assert_int_eq(write(out, buf, n), n);
	ck_assert_int_eq(n, 0);
	close(in);
	ck_assert_int_eq(close(out), 0);
}

/* Bad names, with a valid cmd. */
static void
check_bad_names(struct e2e *e, const char *op)
{
	char	*longname;

	longname = malloc(1026);
	memset(longname, 'n', 1025);
	longname[1025] = '\0';
	e2e_err(e, "bad_request", op, "{s:o}", "cmd", e2e_cmd(NULL));
	e2e_err(e, "bad_request", op, "{s:s, s:o}", "name", "",
	    "cmd", e2e_cmd(NULL));
	e2e_err(e, "bad_request", op, "{s:i, s:o}", "name", 5,
	    "cmd", e2e_cmd(NULL));
	e2e_err(e, "bad_request", op, "{s:s, s:o}", "name", longname,
	    "cmd", e2e_cmd(NULL));
	longname[1024] = '\0';		/* 1024 bytes is fine */
	if (strcmp(op, "check_childspec") == 0)
		e2e_ok(e, op, "{s:s, s:o}", "name", longname,
		    "cmd", e2e_cmd(NULL));
	free(longname);
}

/*
 * Every bad spec gets bad_request with its field, and leaves no row.  All
 * mismatches are collected, so one run reports every one of them.
 */
static void
check_bad_specs(const char *op)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*c = e2e_main(e);
	json_t		*req, *r, *field;
	const char	*bad = "";
	char		*line;
	int		 i;

	for (i = 0; bad_specs[i][0] != NULL; i++) {
		req = json_loads(bad_specs[i][0], 0, NULL);
		ck_assert_ptr_nonnull(req);
		json_object_set_new(req, "op", json_string(op));
		json_object_set_new(req, "name", json_string("bad"));
		line = json_dumps(req, JSON_COMPACT);
		e2e_send_line(c, line);
		r = e2e_recv(c, 5000);
		field = json_object_get(r, "field");
		if (!json_is_false(json_object_get(r, "ok")) ||
		    strcmp(e2e_str(r, "error"), "bad_request") != 0 ||
		    !json_is_string(field) || strcmp(json_string_value(field),
		    bad_specs[i][1]) != 0)
			bad = e2e_fmt(e, "%s\n%s -> %s (want field %s)", bad,
			    line, e2e_dump(e, r), bad_specs[i][1]);
		free(line);
		json_decref(req);
	}
	ck_assert_msg(*bad == '\0', "%s", bad);
	check_bad_names(e, op);
	ck_assert_int_eq(e2e_int(e2e_ok(e, "count_children", NULL), "specs"),
	    0);
	e2e_stop(e);
}

START_TEST(e2e_start_child_basic)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*r, *row;
	pid_t		 pid;

	r = e2e_ok(e, "start_child", "{s:s, s:o, s:[s]}", "name", "a",
	    "cmd", e2e_cmd(NULL),
	    "args", e2e_fmt(e, "--pidfile=%s", e2e_path(e, "a.pid")));
	pid = (pid_t)e2e_int(r, "pid");
	ck_assert(e2e_pid_alive(pid));
	/* args were appended to cmd */
	ck_assert_int_eq(e2e_read_pid(e, e2e_path(e, "a.pid"), 5000), pid);
	r = e2e_ok(e, "find", "{s:s}", "name", "a");
	ck_assert_int_eq(e2e_int(r, "pid"), pid);
	ck_assert_str_eq(e2e_str(r, "state"), "running");
	row = e2e_row(e, "a");
	ck_assert_int_eq(e2e_int(row, "restart_count"), 0);
	ck_assert_str_eq(e2e_str(row, "restart"), "permanent");
	ck_assert_str_eq(e2e_str(row, "type"), "worker");
	ck_assert(json_is_integer(e2e_get(row, "started_at")));
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_start_child_already)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*r;
	pid_t		 pid;

	pid = e2e_spawn(e, "a", NULL);
	r = e2e_err(e, "already_started", "start_child", "{s:s, s:o}",
	    "name", "a", "cmd", e2e_cmd(NULL));
	ck_assert_int_eq(e2e_int(r, "pid"), pid);
	e2e_ok(e, "terminate_child", "{s:s}", "name", "a");
	r = e2e_err(e, "already_present", "start_child", "{s:s, s:o}",
	    "name", "a", "cmd", e2e_cmd(NULL));
	ck_assert_str_eq(e2e_str(r, "state"), "stopped");
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_start_child_bad_spec)
{
	check_bad_specs("start_child");
}
END_TEST

START_TEST(e2e_find_or_open_bad_spec)
{
	check_bad_specs("find_or_open");
}
END_TEST

START_TEST(e2e_check_childspec_bad_spec)
{
	check_bad_specs("check_childspec");
}
END_TEST

/* A failed first start leaves no row; errno is the symbolic name. */
START_TEST(e2e_spawn_failed)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*noexec = e2e_path(e, "noexec");
	json_t		*r;
	FILE		*f;

	r = e2e_err(e, "spawn_failed", "start_child", "{s:s, s:[s]}",
	    "name", "x", "cmd", "/nonexistent/prog");
	ck_assert_str_eq(e2e_str(r, "errno"), "ENOENT");
	ck_assert_ptr_null(e2e_row(e, "x"));
	e2e_err(e, "not_found", "find", "{s:s}", "name", "x");
	r = e2e_err(e, "spawn_failed", "find_or_open", "{s:s, s:[s]}",
	    "name", "x", "cmd", "/nonexistent/prog");
	ck_assert_str_eq(e2e_str(r, "errno"), "ENOENT");
	ck_assert_ptr_null(e2e_row(e, "x"));
	/* PATH search */
	r = e2e_err(e, "spawn_failed", "start_child", "{s:s, s:[s]}",
	    "name", "y", "cmd", "gtd-test-no-such-program");
	ck_assert_str_eq(e2e_str(r, "errno"), "ENOENT");
	/* not executable */
	ck_assert_ptr_nonnull(f = fopen(noexec, "w"));
	fputs("#!/bin/sh\n", f);
	fclose(f);
	chmod(noexec, 0644);
	r = e2e_err(e, "spawn_failed", "start_child", "{s:s, s:[s]}",
	    "name", "z", "cmd", noexec);
	ck_assert_str_eq(e2e_str(r, "errno"), "EACCES");
	/* a cwd that does not exist */
	r = e2e_err(e, "spawn_failed", "start_child", "{s:s, s:o, s:s}",
	    "name", "w", "cmd", e2e_cmd(NULL), "cwd", "/nonexistent/dir");
	ck_assert_str_eq(e2e_str(r, "errno"), "ENOENT");
	ck_assert_int_eq(e2e_int(e2e_ok(e, "count_children", NULL), "specs"),
	    0);
	/* A name that failed can be used again. */
	e2e_spawn(e, "x", NULL);
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_start_child_nowait)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*r, *row;
	pid_t		 pid;

	r = e2e_ok(e, "start_child", "{s:s, s:o, s:b}", "name", "nw",
	    "cmd", e2e_cmd(NULL), "wait", 0);
	pid = (pid_t)e2e_int(r, "pid");
	ck_assert_int_gt(pid, 0);
	row = e2e_row(e, "nw");
	ck_assert_msg(strcmp(e2e_str(row, "state"), "starting") == 0 ||
	    strcmp(e2e_str(row, "state"), "running") == 0, "%s",
	    e2e_dump(e, row));
	ck_assert(e2e_wait_state(e, "nw", "running", 5000));
	ck_assert_int_eq(e2e_int(e2e_row(e, "nw"), "pid"), pid);
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_terminate_reason_signal)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*r, *reason, *row;
	pid_t		 pid;

	pid = e2e_spawn(e, "t", NULL);
	r = e2e_ok(e, "terminate_child", "{s:s}", "name", "t");
	/* The reply comes after the reap: the pid is gone. */
	ck_assert_msg(!e2e_pid_alive(pid) && kill(pid, 0) == -1,
	    "pid %d still exists after terminate_child replied", (int)pid);
	reason = e2e_get(r, "reason");
	ck_assert_str_eq(e2e_str(reason, "signal"), "SIGTERM");
	ck_assert(json_is_true(e2e_get(reason, "requested")));
	ck_assert_ptr_null(json_object_get(reason, "exit_status"));
	row = e2e_row(e, "t");
	ck_assert_str_eq(e2e_str(row, "state"), "stopped");
	ck_assert(json_is_null(e2e_get(row, "pid")));
	r = e2e_err(e, "not_found", "find", "{s:s}", "name", "t");
	ck_assert_str_eq(e2e_str(r, "state"), "stopped");
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_terminate_reason_exit)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*reason;

	e2e_spawn(e, "t", "--term-exit-code=7", e2e_ready_arg(e, "t"), NULL);
	e2e_wait_ready(e, "t");
	reason = e2e_get(e2e_ok(e, "terminate_child", "{s:s}", "name", "t"),
	    "reason");
	ck_assert_int_eq(e2e_int(reason, "exit_status"), 7);
	ck_assert(json_is_true(e2e_get(reason, "requested")));
	ck_assert_ptr_null(json_object_get(reason, "signal"));
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_terminate_by_pid)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*r;
	pid_t		 pid;

	e2e_spawn(e, "other", NULL);
	pid = e2e_spawn(e, "t", NULL);
	r = e2e_ok(e, "terminate_child", "{s:i}", "pid", (int)pid);
	ck_assert_str_eq(e2e_str(e2e_get(r, "reason"), "signal"), "SIGTERM");
	ck_assert_str_eq(e2e_str(e2e_row(e, "t"), "state"), "stopped");
	ck_assert_str_eq(e2e_str(e2e_row(e, "other"), "state"), "running");
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_terminate_not_found)
{
	struct e2e	*e = e2e_start(NULL);

	e2e_err(e, "not_found", "terminate_child", "{s:s}", "name", "ghost");
	e2e_err(e, "not_found", "terminate_child", "{s:i}", "pid",
	    (int)getpid());
	e2e_err(e, "bad_request", "terminate_child", NULL);
	e2e_stop(e);
}
END_TEST

/* On a row without a process: at once, and it stays stopped. */
START_TEST(e2e_terminate_stopped_row)
{
	struct e2e	*e = e2e_start(NULL);
	long		 t0;

	e2e_ok(e, "start_child", "{s:s, s:o, s:{s:s, s:i}}", "name", "t",
	    "cmd", e2e_cmd("--ignore-term", e2e_ready_arg(e, "t"), NULL),
	    "shutdown", "signal", "TERM", "timeout_ms", 3000);
	e2e_wait_ready(e, "t");
	e2e_ok(e, "terminate_child", "{s:s, s:i}", "name", "t",
	    "timeout_ms", 100);
	t0 = e2e_now_ms();
	e2e_ok(e, "terminate_child", "{s:s}", "name", "t");
	ck_assert_msg(e2e_now_ms() - t0 < 1000, "terminate_child of a "
	    "stopped row waited");
	ck_assert_str_eq(e2e_str(e2e_row(e, "t"), "state"), "stopped");
	e2e_stop(e);
}
END_TEST

/* terminate_child on a restarting row cancels the restart. */
START_TEST(e2e_terminate_cancels_restart)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*spawns = e2e_path(e, "spawns");
	long		 t0;

	e2e_ok(e, "start_child", "{s:s, s:o, s:i}", "name", "r",
	    "cmd", e2e_cmd("--exit-after-ms=20",
	    "--exit-code=1",
	    e2e_fmt(e, "--append-pid=%s", spawns), NULL),
	    "restart_delay_ms", 700);
	ck_assert(e2e_wait_state(e, "r", "restarting", 3000));
	ck_assert(e2e_wait_lines(spawns, 1, 3000));
	t0 = e2e_now_ms();
	e2e_ok(e, "terminate_child", "{s:s}", "name", "r");
	ck_assert_msg(e2e_now_ms() - t0 < 500, "terminate_child of a "
	    "restarting row waited");
	ck_assert_str_eq(e2e_str(e2e_row(e, "r"), "state"), "stopped");
	/* Past the 700 ms delay, nothing was restarted. */
	ck_assert(!e2e_wait_state(e, "r", "running", 1200));
	ck_assert_int_eq(e2e_count_lines(spawns), 1);
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_terminate_temporary)
{
	struct e2e	*e = e2e_start(NULL);

	e2e_ok(e, "start_child", "{s:s, s:o, s:s}", "name", "tmp",
	    "cmd", e2e_cmd(NULL), "restart", "temporary");
	e2e_ok(e, "terminate_child", "{s:s}", "name", "tmp");
	ck_assert_ptr_null(e2e_row(e, "tmp"));
	e2e_err(e, "not_found", "info", "{s:s}", "name", "tmp");
	e2e_stop(e);
}
END_TEST

/* A child that ignores SIGTERM gets SIGKILL after shutdown.timeout_ms. */
START_TEST(e2e_ignore_term_gets_sigkill)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*reason;
	long		 t0, dt;

	e2e_ok(e, "start_child", "{s:s, s:o, s:{s:s, s:i}}", "name", "stub",
	    "cmd", e2e_cmd("--ignore-term", e2e_ready_arg(e, "stub"), NULL),
	    "shutdown", "signal", "TERM", "timeout_ms", 500);
	e2e_wait_ready(e, "stub");
	t0 = e2e_now_ms();
	reason = e2e_get(e2e_ok(e, "terminate_child", "{s:s}", "name",
	    "stub"), "reason");
	dt = e2e_now_ms() - t0;
	ck_assert_str_eq(e2e_str(reason, "signal"), "SIGKILL");
	ck_assert(json_is_true(e2e_get(reason, "requested")));
	ck_assert_msg(dt >= 450 && dt < 3000, "SIGKILL after %ld ms, want "
	    "500", dt);
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_terminate_timeout_override)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*reason;
	long		 t0, dt;

	e2e_ok(e, "start_child", "{s:s, s:o, s:{s:s, s:i}}", "name", "stub",
	    "cmd", e2e_cmd("--ignore-term", e2e_ready_arg(e, "stub"), NULL),
	    "shutdown", "signal", "TERM", "timeout_ms", 60000);
	e2e_wait_ready(e, "stub");
	t0 = e2e_now_ms();
	reason = e2e_get(e2e_ok(e, "terminate_child", "{s:s, s:i}",
	    "name", "stub", "timeout_ms", 300), "reason");
	dt = e2e_now_ms() - t0;
	ck_assert_str_eq(e2e_str(reason, "signal"), "SIGKILL");
	ck_assert_msg(dt >= 250 && dt < 3000, "SIGKILL after %ld ms, want "
	    "300", dt);
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_brutal_kill)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*reason;
	long		 t0, dt;

	e2e_ok(e, "start_child", "{s:s, s:o, s:s}", "name", "b",
	    "cmd", e2e_cmd("--ignore-term", e2e_ready_arg(e, "b"), NULL),
	    "shutdown", "brutal_kill");
	e2e_wait_ready(e, "b");
	t0 = e2e_now_ms();
	reason = e2e_get(e2e_ok(e, "terminate_child", "{s:s}", "name", "b"),
	    "reason");
	dt = e2e_now_ms() - t0;
	ck_assert_str_eq(e2e_str(reason, "signal"), "SIGKILL");
	ck_assert(json_is_true(e2e_get(reason, "requested")));
	ck_assert_msg(dt < 1000, "brutal_kill took %ld ms", dt);
	e2e_stop(e);
}
END_TEST

/* shutdown.signal: "HUP", "SIGUSR1" and 12 are all accepted. */
START_TEST(e2e_shutdown_signal_names)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*r;

	e2e_ok(e, "start_child", "{s:s, s:o, s:{s:s}}", "name", "h",
	    "cmd", e2e_cmd(NULL), "shutdown", "signal", "HUP");
	e2e_ok(e, "start_child", "{s:s, s:o, s:{s:s}}", "name", "u1",
	    "cmd", e2e_cmd(NULL), "shutdown", "signal", "SIGUSR1");
	e2e_ok(e, "start_child", "{s:s, s:o, s:{s:i}}", "name", "u2",
	    "cmd", e2e_cmd(NULL), "shutdown", "signal", SIGUSR2);
	r = e2e_ok(e, "terminate_child", "{s:s}", "name", "h");
	ck_assert_str_eq(e2e_str(e2e_get(r, "reason"), "signal"), "SIGHUP");
	r = e2e_ok(e, "terminate_child", "{s:s}", "name", "u1");
	ck_assert_str_eq(e2e_str(e2e_get(r, "reason"), "signal"), "SIGUSR1");
	r = e2e_ok(e, "terminate_child", "{s:s}", "name", "u2");
	ck_assert_str_eq(e2e_str(e2e_get(r, "reason"), "signal"), "SIGUSR2");
	e2e_stop(e);
}
END_TEST

/* "infinity" sends SIGTERM; the child's own exit is the reason. */
START_TEST(e2e_shutdown_infinity)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*r;

	e2e_ok(e, "start_child", "{s:s, s:o, s:s}", "name", "inf",
	    "cmd", e2e_cmd("--term-exit-code=3", e2e_ready_arg(e, "inf"), NULL),
	    "shutdown", "infinity");
	e2e_wait_ready(e, "inf");
	r = e2e_ok(e, "terminate_child", "{s:s}", "name", "inf");
	ck_assert_int_eq(e2e_int(e2e_get(r, "reason"), "exit_status"), 3);
	e2e_stop(e);
}
END_TEST

/* A grandchild in the child's group dies with it. */
START_TEST(e2e_group_kill)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*gcf = e2e_path(e, "gc");
	pid_t		 pid, gc;

	pid = e2e_spawn(e, "g", e2e_fmt(e, "--grandchild=%s", gcf), NULL);
	gc = e2e_read_pid(e, gcf, 5000);
	ck_assert(e2e_pid_alive(gc));
	ck_assert_int_eq(getpgid(gc), pid);
	e2e_ok(e, "terminate_child", "{s:s}", "name", "g");
	ck_assert_msg(e2e_wait_dead(gc, 3000), "grandchild %d survived the "
	    "group kill", (int)gc);
	e2e_stop(e);
}
END_TEST

/* The group kill also follows a child that exits by itself. */
START_TEST(e2e_group_kill_after_exit)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*gcf = e2e_path(e, "gc");
	pid_t		 gc;

	e2e_ok(e, "start_child", "{s:s, s:o, s:s}", "name", "g",
	    "cmd", e2e_cmd(e2e_fmt(e, "--grandchild=%s", gcf),
	    "--exit-after-ms=300", NULL), "restart", "temporary");
	gc = e2e_read_pid(e, gcf, 5000);
	ck_assert(e2e_wait_absent(e, "g", 5000));
	ck_assert_msg(e2e_wait_dead(gc, 3000), "grandchild %d survived its "
	    "parent's exit", (int)gc);
	e2e_stop(e);
}
END_TEST

/* kill_group false: only the child is signalled. */
START_TEST(e2e_no_group_kill)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*gcf = e2e_path(e, "gc");
	pid_t		 pid, gc;
	bool		 alive;

	pid = (pid_t)e2e_int(e2e_ok(e, "start_child", "{s:s, s:o, s:b}",
	    "name", "g", "cmd", e2e_cmd(e2e_fmt(e, "--grandchild=%s", gcf),
	    NULL), "kill_group", 0), "pid");
	gc = e2e_read_pid(e, gcf, 5000);
	e2e_ok(e, "terminate_child", "{s:s}", "name", "g");
	ck_assert(!e2e_pid_alive(pid));
	alive = e2e_pid_alive(gc);
	kill(gc, SIGKILL);			/* ours to clean up */
	ck_assert(e2e_wait_dead(gc, 3000));
	ck_assert_msg(alive, "kill_group false still killed the grandchild");
	e2e_stop(e);
}
END_TEST

/* gtd SIGKILLed: PR_SET_PDEATHSIG kills every child. */
START_TEST(e2e_gtd_killed_children_die)
{
	struct e2e	*e = e2e_start(NULL);
	pid_t		 p[3];
	int		 i;

	p[0] = e2e_spawn(e, "a", NULL);
	p[1] = e2e_spawn(e, "b", "--ignore-term", e2e_ready_arg(e, "b"), NULL);
	e2e_wait_ready(e, "b");
	p[2] = (pid_t)e2e_int(e2e_ok(e, "start_child", "{s:s, s:o, s:b}",
	    "name", "c", "cmd", e2e_cmd(NULL), "kill_group", 0), "pid");
	kill(e2e_pid(e), SIGKILL);
	ck_assert(e2e_wait_exit(e, 5000, NULL));
	for (i = 0; i < 3; i++)
		ck_assert_msg(e2e_wait_dead(p[i], 3000), "child %d survived "
		    "gtd's SIGKILL", (int)p[i]);
	e2e_expect_exit(e, -1);
	e2e_stop(e);
}
END_TEST

/* Restart policies. */

START_TEST(e2e_permanent_restarts)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*spawns = e2e_path(e, "spawns");
	json_t		*row;
	pid_t		 pid;
	long		 t0, deadline;

	/* Each incarnation lives 300 ms; restarts come 600 ms after exits. */
	t0 = e2e_now_ms();
	pid = (pid_t)e2e_int(e2e_ok(e, "start_child", "{s:s, s:o, s:i, "
	    "s:{s:f}}", "name", "p", "cmd", e2e_cmd("--exit-after-ms=300",
	    e2e_fmt(e, "--append-pid=%s", spawns), NULL),
	    "restart_delay_ms", 600, "backoff", "jitter", 0.0), "pid");
	ck_assert(e2e_wait_state(e, "p", "restarting", 3000));
	ck_assert(json_is_null(e2e_get(e2e_row(e, "p"), "pid")));
	deadline = e2e_now_ms() + 3000;
	do {
		row = e2e_row(e, "p");
	} while ((strcmp(e2e_str(row, "state"), "running") != 0 ||
	    e2e_int(row, "pid") == pid) && e2e_now_ms() < deadline &&
	    poll(NULL, 0, 5) == 0);
	ck_assert_msg(strcmp(e2e_str(row, "state"), "running") == 0 &&
	    e2e_int(row, "pid") != pid, "not restarted: %s", e2e_dump(e, row));
	/* observed no earlier than exit (300) + delay (600) after start */
	ck_assert_msg(e2e_now_ms() - t0 >= 850, "restarted %ld ms after the "
	    "start: exit at 300 + restart_delay_ms 600", e2e_now_ms() - t0);
	ck_assert_int_eq(e2e_int(row, "restart_count"), 1);
	ck_assert(e2e_wait_lines(spawns, 2, 3000));	/* written after exec */
	e2e_stop(e);
}
END_TEST

/* Exit 0 counts as a restart too for a permanent child. */
START_TEST(e2e_permanent_restarts_after_exit_0)
{
	struct e2e	*e = e2e_start(NULL);

	e2e_ok(e, "start_child", "{s:s, s:o, s:i}", "name", "p",
	    "cmd", e2e_cmd("--exit-after-ms=20",
	    "--exit-code=0", NULL), "restart_delay_ms", 5000);
	ck_assert(e2e_wait_state(e, "p", "restarting", 3000));
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_transient_policy)
{
	struct e2e	*e = e2e_start(NULL);

	/* normal exit: row removed */
	e2e_ok(e, "start_child", "{s:s, s:o, s:s}", "name", "ok",
	    "cmd", e2e_cmd("--exit-after-ms=20",
	    "--exit-code=0", NULL), "restart", "transient");
	ck_assert(e2e_wait_absent(e, "ok", 3000));
	/* abnormal exit: restarted */
	e2e_ok(e, "start_child", "{s:s, s:o, s:s, s:i}", "name", "bad",
	    "cmd", e2e_cmd("--exit-after-ms=100", "--exit-code=3", NULL),
	    "restart", "transient", "restart_delay_ms", 200);
	ck_assert(e2e_wait_state(e, "bad", "restarting", 3000));
	ck_assert(e2e_wait_state(e, "bad", "running", 3000));
	ck_assert_int_eq(e2e_int(e2e_row(e, "bad"), "restart_count"), 1);
	/* success_exit_codes: 3 is normal, 0 is not */
	e2e_ok(e, "start_child", "{s:s, s:o, s:s, s:[i]}", "name", "three",
	    "cmd", e2e_cmd("--exit-after-ms=20",
	    "--exit-code=3", NULL), "restart", "transient",
	    "success_exit_codes", 3);
	ck_assert(e2e_wait_absent(e, "three", 3000));
	e2e_ok(e, "start_child", "{s:s, s:o, s:s, s:[i], s:i}", "name", "zero",
	    "cmd", e2e_cmd("--exit-after-ms=20",
	    "--exit-code=0", NULL), "restart", "transient",
	    "success_exit_codes", 3, "restart_delay_ms", 5000);
	ck_assert(e2e_wait_state(e, "zero", "restarting", 3000));
	e2e_stop(e);
}
END_TEST

/* A signal gtd did not send is abnormal, even SIGTERM. */
START_TEST(e2e_transient_signal_restarts)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*le;

	e2e_ok(e, "start_child", "{s:s, s:o, s:s, s:i}", "name", "k",
	    "cmd", e2e_cmd("--exit-after-ms=20",
	    "--kill-self=KILL", NULL), "restart", "transient",
	    "restart_delay_ms", 5000);
	ck_assert(e2e_wait_state(e, "k", "restarting", 3000));
	le = e2e_get(e2e_ok(e, "info", "{s:s}", "name", "k"), "last_exit");
	ck_assert_str_eq(e2e_str(le, "signal"), "SIGKILL");
	ck_assert(!json_is_true(json_object_get(le, "requested")));
	e2e_ok(e, "start_child", "{s:s, s:o, s:s, s:i}", "name", "t",
	    "cmd", e2e_cmd("--exit-after-ms=20",
	    "--kill-self=TERM", NULL), "restart", "transient",
	    "restart_delay_ms", 5000);
	ck_assert(e2e_wait_state(e, "t", "restarting", 3000));
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_temporary_policy)
{
	struct e2e	*e = e2e_start(NULL);

	e2e_ok(e, "start_child", "{s:s, s:o, s:s}", "name", "t1",
	    "cmd", e2e_cmd("--exit-after-ms=20",
	    "--exit-code=3", NULL), "restart", "temporary");
	e2e_ok(e, "start_child", "{s:s, s:o, s:s}", "name", "t2",
	    "cmd", e2e_cmd("--exit-after-ms=20",
	    "--kill-self=KILL", NULL), "restart", "temporary");
	ck_assert(e2e_wait_absent(e, "t1", 3000));
	ck_assert(e2e_wait_absent(e, "t2", 3000));
	e2e_err(e, "not_found", "info", "{s:s}", "name", "t1");
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_last_exit)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*r, *le;

	e2e_ok(e, "start_child", "{s:s, s:o, s:i}", "name", "x",
	    "cmd", e2e_cmd("--exit-after-ms=20",
	    "--exit-code=5", NULL), "restart_delay_ms", 5000);
	ck_assert(e2e_wait_state(e, "x", "restarting", 3000));
	r = e2e_ok(e, "info", "{s:s}", "name", "x");
	le = e2e_get(r, "last_exit");
	ck_assert_int_eq(e2e_int(le, "exit_status"), 5);
	ck_assert_int_gt(e2e_int(le, "at"), 1600000000000LL);
	ck_assert(!json_is_true(json_object_get(le, "requested")));
	ck_assert(json_is_null(e2e_get(r, "pid")));
	e2e_stop(e);
}
END_TEST

/* Intensity: max_restarts restarts, then on_give_up. */
START_TEST(e2e_give_up_stop)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*row;

	e2e_start_give_up(e, "gs", "stop");
	ck_assert(e2e_wait_state(e, "gs", "stopped", 5000));
	row = e2e_row(e, "gs");
	ck_assert_int_eq(e2e_int(row, "restart_count"), 2);
	ck_assert_int_eq(e2e_count_lines(e2e_path(e, "gs")), 3);
	/* restart_child brings it back (and gives up again). */
	e2e_ok(e, "restart_child", "{s:s}", "name", "gs");
	ck_assert(e2e_wait_state(e, "gs", "stopped", 5000));
	ck_assert_int_ge(e2e_count_lines(e2e_path(e, "gs")), 4);
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_give_up_delete)
{
	struct e2e	*e = e2e_start(NULL);

	e2e_start_give_up(e, "gd", "delete");
	ck_assert(e2e_wait_absent(e, "gd", 5000));
	ck_assert_int_eq(e2e_count_lines(e2e_path(e, "gd")), 3);
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_give_up_exit_daemon)
{
	struct e2e	*e = e2e_start(NULL);
	pid_t		 other;
	int		 st;

	other = e2e_spawn(e, "bystander", NULL);
	e2e_start_give_up(e, "gx", "exit_daemon");
	ck_assert_msg(e2e_wait_exit(e, 8000, &st), "gtd did not exit");
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status 0x%x",
	    st);
	ck_assert(e2e_wait_dead(other, 3000));
	ck_assert_int_eq(e2e_count_lines(e2e_path(e, "gx")), 3);
	e2e_expect_exit(e, 1);
	e2e_stop(e);
}
END_TEST

/* restart_child */

START_TEST(e2e_restart_child)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*r;
	pid_t		 pid, pid2;

	pid = e2e_spawn(e, "rc", NULL);
	r = e2e_err(e, "running", "restart_child", "{s:s}", "name", "rc");
	ck_assert_int_eq(e2e_int(r, "pid"), pid);
	e2e_err(e, "not_found", "restart_child", "{s:s}", "name", "ghost");
	e2e_ok(e, "terminate_child", "{s:s}", "name", "rc");
	r = e2e_ok(e, "restart_child", "{s:s}", "name", "rc");
	pid2 = (pid_t)e2e_int(r, "pid");
	ck_assert_int_ne(pid2, pid);
	ck_assert(e2e_pid_alive(pid2));
	r = e2e_row(e, "rc");
	ck_assert_str_eq(e2e_str(r, "state"), "running");
	ck_assert_int_eq(e2e_int(r, "restart_count"), 0);
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_restart_child_restarting)
{
	struct e2e	*e = e2e_start(NULL);

	e2e_ok(e, "start_child", "{s:s, s:o, s:i}", "name", "r",
	    "cmd", e2e_cmd("--exit-after-ms=20",
	    "--exit-code=1", NULL), "restart_delay_ms", 5000);
	ck_assert(e2e_wait_state(e, "r", "restarting", 3000));
	e2e_err(e, "restarting", "restart_child", "{s:s}", "name", "r");
	e2e_err(e, "restarting", "delete_child", "{s:s}", "name", "r");
	e2e_stop(e);
}
END_TEST

/* A later start that fails keeps the row (only a first start removes it). */
START_TEST(e2e_restart_child_spawn_failed)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*copy = e2e_path(e, "tc-copy");
	json_t		*r;

	copy_file(e2e_testchild(e), copy);
	e2e_ok(e, "start_child", "{s:s, s:[s]}", "name", "fragile",
	    "cmd", copy);
	e2e_ok(e, "terminate_child", "{s:s}", "name", "fragile");
	ck_assert_int_eq(unlink(copy), 0);
	r = e2e_err(e, "spawn_failed", "restart_child", "{s:s}",
	    "name", "fragile");
	ck_assert_str_eq(e2e_str(r, "errno"), "ENOENT");
	/* The row stays (stopped, or restarting by its permanent policy). */
	ck_assert_ptr_nonnull(e2e_row(e, "fragile"));
	ck_assert_msg(strcmp(e2e_str(e2e_row(e, "fragile"), "state"),
	    "stopped") == 0 || strcmp(e2e_str(e2e_row(e, "fragile"), "state"),
	    "restarting") == 0, "%s", e2e_dump(e, e2e_row(e, "fragile")));
	e2e_stop(e);
}
END_TEST

/* delete_child and terminate_and_delete */

START_TEST(e2e_delete_child)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*r;
	pid_t		 pid;

	pid = e2e_spawn(e, "d", NULL);
	r = e2e_err(e, "running", "delete_child", "{s:s}", "name", "d");
	ck_assert_int_eq(e2e_int(r, "pid"), pid);
	e2e_err(e, "not_found", "delete_child", "{s:s}", "name", "ghost");
	e2e_ok(e, "terminate_child", "{s:s}", "name", "d");
	r = e2e_ok(e, "delete_child", "{s:s}", "name", "d");
	ck_assert_msg(json_object_size(r) == 2, "%s", e2e_dump(e, r));
	ck_assert_ptr_null(e2e_row(e, "d"));
	e2e_err(e, "not_found", "delete_child", "{s:s}", "name", "d");
	/* delete + start starts again from restart_count 0 */
	e2e_spawn(e, "d", NULL);
	ck_assert_int_eq(e2e_int(e2e_row(e, "d"), "restart_count"), 0);
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_terminate_and_delete)
{
	struct e2e	*e = e2e_start(NULL);
	pid_t		 pid;

	pid = e2e_spawn(e, "td", NULL);
	e2e_ok(e, "terminate_and_delete", "{s:s}", "name", "td");
	ck_assert(!e2e_pid_alive(pid));
	ck_assert_ptr_null(e2e_row(e, "td"));
	e2e_err(e, "not_found", "terminate_and_delete", "{s:s}", "name", "td");
	pid = e2e_spawn(e, "bypid", NULL);
	e2e_ok(e, "terminate_and_delete", "{s:i}", "pid", (int)pid);
	ck_assert_ptr_null(e2e_row(e, "bypid"));
	/* a stopped row */
	e2e_spawn(e, "st", NULL);
	e2e_ok(e, "terminate_child", "{s:s}", "name", "st");
	e2e_ok(e, "terminate_and_delete", "{s:s}", "name", "st");
	ck_assert_ptr_null(e2e_row(e, "st"));
	/* a restarting row */
	e2e_ok(e, "start_child", "{s:s, s:o, s:i}", "name", "rs",
	    "cmd", e2e_cmd("--exit-after-ms=20",
	    "--exit-code=1", NULL), "restart_delay_ms", 5000);
	ck_assert(e2e_wait_state(e, "rs", "restarting", 3000));
	e2e_ok(e, "terminate_and_delete", "{s:s}", "name", "rs");
	ck_assert_ptr_null(e2e_row(e, "rs"));
	e2e_stop(e);
}
END_TEST

/* Readiness (ready {"fd":3}): exited, timeout, and waiting callers. */

START_TEST(e2e_exited_before_ready)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*r;

	r = e2e_err(e, "exited", "start_child", "{s:s, s:o, s:{s:i}, s:s}",
	    "name", "x", "cmd", e2e_cmd("--exit-code=4", NULL),
	    "ready", "fd", 3, "restart", "temporary");
	ck_assert_int_eq(e2e_int(r, "exit_status"), 4);
	r = e2e_err(e, "exited", "find_or_open", "{s:s, s:o, s:{s:i}, s:s}",
	    "name", "y", "cmd", e2e_cmd("--kill-self=KILL", NULL),
	    "ready", "fd", 3, "restart", "temporary");
	ck_assert_str_eq(e2e_str(r, "signal"), "SIGKILL");
	ck_assert(e2e_wait_absent(e, "x", 3000));
	ck_assert(e2e_wait_absent(e, "y", 3000));
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_ready_timeout)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*pidf = e2e_path(e, "pid");
	long		 t0, dt;
	pid_t		 pid;

	t0 = e2e_now_ms();
	e2e_err(e, "timeout", "start_child", "{s:s, s:o, s:{s:i}, s:i, s:s}",
	    "name", "slow", "cmd", e2e_cmd(e2e_fmt(e, "--pidfile=%s", pidf),
	    NULL), "ready", "fd", 3, "ready_timeout_ms", 300,
	    "restart", "temporary");
	dt = e2e_now_ms() - t0;
	ck_assert_msg(dt >= 250 && dt < 3000, "timeout after %ld ms", dt);
	pid = e2e_read_pid(e, pidf, 1000);
	ck_assert_msg(e2e_wait_dead(pid, 3000), "unready child %d not killed",
	    (int)pid);
	e2e_stop(e);
}
END_TEST

/* find_or_open's timeout_ms bounds its wait; the child goes on starting. */
START_TEST(e2e_find_or_open_wait_timeout)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*gate = e2e_path(e, "go"), *pidf = e2e_path(e, "pid");
	json_t		*r;
	long		 t0;
	pid_t		 pid;
	FILE		*f;

	t0 = e2e_now_ms();
	e2e_err(e, "timeout", "find_or_open", "{s:s, s:o, s:{s:i}, s:i}",
	    "name", "s", "cmd", e2e_cmd(e2e_fmt(e, "--ready-after=%s", gate),
	    "--ready-fd=3", e2e_fmt(e, "--pidfile=%s", pidf), NULL),
	    "ready", "fd", 3, "timeout_ms", 300);
	ck_assert_int_ge(e2e_now_ms() - t0, 250);
	pid = e2e_read_pid(e, pidf, 3000);
	ck_assert_str_eq(e2e_str(e2e_row(e, "s"), "state"), "starting");
	r = e2e_err(e, "not_found", "find", "{s:s}", "name", "s");
	ck_assert_str_eq(e2e_str(r, "state"), "starting");
	ck_assert_int_eq(json_array_size(e2e_get(e2e_ok(e, "list", NULL),
	    "children")), 0);
	/* attrs may be written while starting, and they stay */
	e2e_ok(e, "setattr", "{s:s, s:{s:i}}", "name", "s", "attrs",
	    "early", 1);
	ck_assert_ptr_nonnull(f = fopen(gate, "w"));
	fclose(f);
	ck_assert(e2e_wait_state(e, "s", "running", 3000));
	ck_assert_int_eq(e2e_int(e2e_ok(e, "getattr", "{s:s, s:s}",
	    "name", "s", "key", "early"), "value"), 1);
	r = e2e_ok(e, "find_or_open", "{s:s, s:o}", "name", "s",
	    "cmd", e2e_cmd(NULL));
	ck_assert_int_eq(e2e_int(r, "pid"), pid);
	ck_assert(json_is_false(e2e_get(r, "created")));
	e2e_stop(e);
}
END_TEST

/* restart_child replies after readiness: timeout and exited. */
START_TEST(e2e_restart_child_not_ready)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*a = e2e_client(e);
	const char	*gate = e2e_path(e, "go"), *pidf = e2e_path(e, "pid");
	json_t		*r;
	pid_t		 pid;
	FILE		*f;

	ck_assert_ptr_nonnull(f = fopen(gate, "w"));
	fclose(f);
	e2e_ok(e, "start_child", "{s:s, s:o, s:{s:i}, s:i, s:i}", "name", "r",
	    "cmd", e2e_cmd(e2e_fmt(e, "--ready-after=%s", gate), "--ready-fd=3",
	    e2e_fmt(e, "--pidfile=%s", pidf), NULL), "ready", "fd", 3,
	    "ready_timeout_ms", 400, "restart_delay_ms", 10000);
	e2e_ok(e, "terminate_child", "{s:s}", "name", "r");
	ck_assert_int_eq(unlink(gate), 0);
	ck_assert_int_eq(unlink(pidf), 0);
	e2e_err(e, "timeout", "restart_child", "{s:s}", "name", "r");
	/* killed as unready: a failed manual restart leaves it stopped */
	ck_assert(e2e_wait_state(e, "r", "stopped", 3000));
	ck_assert(json_is_null(e2e_get(e2e_row(e, "r"), "restart_at")));
	e2e_ok(e, "terminate_child", "{s:s}", "name", "r");
	ck_assert_str_eq(e2e_str(e2e_row(e, "r"), "state"), "stopped");
	unlink(pidf);			/* ENOENT is fine */
	e2e_send_line(a, "{\"id\":1,\"op\":\"restart_child\",\"name\":\"r\"}");
	pid = e2e_read_pid(e, pidf, 3000);
	kill(pid, SIGKILL);
	r = e2e_recv(a, 5000);
	ck_assert_msg(json_is_false(json_object_get(r, "ok")) &&
	    strcmp(e2e_str(r, "error"), "exited") == 0, "%s", e2e_dump(e, r));
	ck_assert_str_eq(e2e_str(r, "signal"), "SIGKILL");
	e2e_stop(e);
}
END_TEST

/*
 * terminate_child while gtd is itself killing an unready child: either
 * way the start never became ready, so the row goes and is not
 * restarted.
 * gtd is stopped (SIGSTOP) until the ready deadline has passed, so the
 * ready timer and the request are handled in the same loop iteration.
 */
START_TEST(e2e_terminate_during_ready_kill)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*a = e2e_client(e);
	json_t		*r;
	long		 t0;
	pid_t		 gtd = e2e_pid(e);

	e2e_cok(a, "ping", NULL);
	t0 = e2e_now_ms();
	e2e_ok(e, "start_child", "{s:s, s:o, s:{s:i}, s:i, s:i, s:b}",
	    "name", "r", "cmd", e2e_cmd(NULL), "ready", "fd", 3,
	    "ready_timeout_ms", 300, "restart_delay_ms", 1000, "wait", 0);
	ck_assert_int_eq(kill(gtd, SIGSTOP), 0);
	e2e_send_line(a, "{\"id\":1,\"op\":\"terminate_child\","
	    "\"name\":\"r\"}");
	while (e2e_now_ms() < t0 + 450)		/* past the ready deadline */
		poll(NULL, 0, 10);
	ck_assert_int_eq(kill(gtd, SIGCONT), 0);
	r = e2e_recv(a, 5000);
	ck_assert_msg(json_is_true(json_object_get(r, "ok")), "%s",
	    e2e_dump(e, r));
	ck_assert_msg(e2e_wait_absent(e, "r", 3000), "terminate_child "
	    "replied, then the row is %s", e2e_dump(e, e2e_row(e, "r")));
	e2e_stop(e);
}
END_TEST

Suite *
e2e_lifecycle_suite(void)
{
	Suite	*s = suite_create("e2e_lifecycle");
	TCase	*tc;

	tc = tcase_create("start");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_start_child_basic);
	tcase_add_test(tc, e2e_start_child_already);
	tcase_add_test(tc, e2e_start_child_bad_spec);
	tcase_add_test(tc, e2e_find_or_open_bad_spec);
	tcase_add_test(tc, e2e_check_childspec_bad_spec);
	tcase_add_test(tc, e2e_spawn_failed);
	tcase_add_test(tc, e2e_start_child_nowait);
	suite_add_tcase(s, tc);

	tc = tcase_create("terminate");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_terminate_reason_signal);
	tcase_add_test(tc, e2e_terminate_reason_exit);
	tcase_add_test(tc, e2e_terminate_by_pid);
	tcase_add_test(tc, e2e_terminate_not_found);
	tcase_add_test(tc, e2e_terminate_stopped_row);
	tcase_add_test(tc, e2e_terminate_cancels_restart);
	tcase_add_test(tc, e2e_terminate_temporary);
	tcase_add_test(tc, e2e_ignore_term_gets_sigkill);
	tcase_add_test(tc, e2e_terminate_timeout_override);
	tcase_add_test(tc, e2e_brutal_kill);
	tcase_add_test(tc, e2e_shutdown_signal_names);
	tcase_add_test(tc, e2e_shutdown_infinity);
	suite_add_tcase(s, tc);

	tc = tcase_create("group");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_group_kill);
	tcase_add_test(tc, e2e_group_kill_after_exit);
	tcase_add_test(tc, e2e_no_group_kill);
	tcase_add_test(tc, e2e_gtd_killed_children_die);
	suite_add_tcase(s, tc);

	tc = tcase_create("policy");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_permanent_restarts);
	tcase_add_test(tc, e2e_permanent_restarts_after_exit_0);
	tcase_add_test(tc, e2e_transient_policy);
	tcase_add_test(tc, e2e_transient_signal_restarts);
	tcase_add_test(tc, e2e_temporary_policy);
	tcase_add_test(tc, e2e_last_exit);
	tcase_add_test(tc, e2e_give_up_stop);
	tcase_add_test(tc, e2e_give_up_delete);
	tcase_add_test(tc, e2e_give_up_exit_daemon);
	suite_add_tcase(s, tc);

	tc = tcase_create("restart_delete");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_restart_child);
	tcase_add_test(tc, e2e_restart_child_restarting);
	tcase_add_test(tc, e2e_restart_child_spawn_failed);
	tcase_add_test(tc, e2e_delete_child);
	tcase_add_test(tc, e2e_terminate_and_delete);
	suite_add_tcase(s, tc);

	tc = tcase_create("ready");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_exited_before_ready);
	tcase_add_test(tc, e2e_ready_timeout);
	tcase_add_test(tc, e2e_find_or_open_wait_timeout);
	tcase_add_test(tc, e2e_restart_child_not_ready);
	tcase_add_test(tc, e2e_terminate_during_ready_kill);
	suite_add_tcase(s, tc);
	return (s);
}
