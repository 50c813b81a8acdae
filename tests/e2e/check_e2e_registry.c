/* SPDX-License-Identifier: MIT */
/*
 * check_e2e_registry: the read side and find_or_open: find, find_or_open
 * (created, existing spec kept, stopped/restarting/stopping rows),
 * which_children, count_children, list, info, get_childspec and
 * check_childspec.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "harness.h"

static json_t	*by_name(json_t *, const char *);

static json_t *
by_name(json_t *rows, const char *name)
{
	json_t	*row;
	size_t	 i;

	json_array_foreach(rows, i, row)
		if (strcmp(json_string_value(json_object_get(row, "name")),
		    name) == 0)
			return (row);
	return (NULL);
}

START_TEST(e2e_find)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*r;
	pid_t		 pid;

	pid = e2e_spawn(e, "f", NULL);
	r = e2e_ok(e, "find", "{s:s}", "name", "f");
	ck_assert_int_eq(e2e_int(r, "pid"), pid);
	ck_assert_str_eq(e2e_str(r, "state"), "running");
	r = e2e_err(e, "not_found", "find", "{s:s}", "name", "ghost");
	ck_assert_msg(json_object_get(r, "state") == NULL, "%s",
	    e2e_dump(e, r));
	e2e_ok(e, "terminate_child", "{s:s}", "name", "f");
	r = e2e_err(e, "not_found", "find", "{s:s}", "name", "f");
	ck_assert_str_eq(e2e_str(r, "state"), "stopped");
	e2e_ok(e, "start_child", "{s:s, s:o, s:i}", "name", "r",
	    "cmd", e2e_cmd("--exit-after-ms=20",
	    "--exit-code=1", NULL), "restart_delay_ms", 5000);
	ck_assert(e2e_wait_state(e, "r", "restarting", 3000));
	r = e2e_err(e, "not_found", "find", "{s:s}", "name", "r");
	ck_assert_str_eq(e2e_str(r, "state"), "restarting");
	e2e_stop(e);
}
END_TEST

/* A stopping child is not found: find never returns a dying process. */
START_TEST(e2e_find_stopping)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*a = e2e_client(e);
	json_t		*r;

	e2e_ok(e, "start_child", "{s:s, s:o, s:{s:s, s:i}}", "name", "s",
	    "cmd", e2e_cmd("--ignore-term", e2e_ready_arg(e, "s"), NULL),
	    "shutdown", "signal", "TERM", "timeout_ms", 800);
	e2e_wait_ready(e, "s");
	e2e_send_line(a, "{\"op\":\"terminate_child\",\"name\":\"s\"}");
	ck_assert(e2e_wait_state(e, "s", "stopping", 2000));
	r = e2e_err(e, "not_found", "find", "{s:s}", "name", "s");
	ck_assert_str_eq(e2e_str(r, "state"), "stopping");
	ck_assert_int_eq(json_array_size(e2e_get(e2e_ok(e, "list", NULL),
	    "children")), 0);
	r = e2e_recv(a, 5000);		/* json_is_* evaluate twice */
	ck_assert(json_is_true(json_object_get(r, "ok")));
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_find_or_open_created)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*r;
	pid_t		 pid;

	r = e2e_ok(e, "find_or_open", "{s:s, s:o}", "name", "fo",
	    "cmd", e2e_cmd(NULL));
	pid = (pid_t)e2e_int(r, "pid");
	ck_assert(json_is_true(e2e_get(r, "created")));
	ck_assert_str_eq(e2e_str(r, "state"), "running");
	ck_assert(e2e_pid_alive(pid));
	r = e2e_ok(e, "find_or_open", "{s:s, s:o}", "name", "fo",
	    "cmd", e2e_cmd(NULL));
	ck_assert_int_eq(e2e_int(r, "pid"), pid);
	ck_assert(json_is_false(e2e_get(r, "created")));
	ck_assert_str_eq(e2e_str(r, "state"), "running");
	ck_assert_int_eq(e2e_int(e2e_ok(e, "find", "{s:s}", "name", "fo"),
	    "pid"), pid);
	e2e_ok(e, "find_or_open", "{s:s, s:o, s:i}", "name", "fo",
	    "cmd", e2e_cmd(NULL), "timeout_ms", 5000);
	e2e_stop(e);
}
END_TEST

/* An existing row keeps its own spec; the given one is ignored. */
START_TEST(e2e_find_or_open_keeps_spec)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*spec;
	pid_t		 pid;

	pid = (pid_t)e2e_int(e2e_ok(e, "start_child", "{s:s, s:o, s:i}",
	    "name", "k", "cmd", e2e_cmd("--stdout=first", NULL),
	    "restart_delay_ms", 123), "pid");
	ck_assert_int_eq(e2e_int(e2e_ok(e, "find_or_open",
	    "{s:s, s:[s], s:s, s:i}", "name", "k", "cmd", "/bin/false",
	    "restart", "temporary", "restart_delay_ms", 999), "pid"), pid);
	spec = e2e_get(e2e_ok(e, "get_childspec", "{s:s}", "name", "k"),
	    "spec");
	ck_assert_int_eq(e2e_int(spec, "restart_delay_ms"), 123);
	ck_assert_str_eq(e2e_str(spec, "restart"), "permanent");
	ck_assert_str_eq(json_string_value(json_array_get(e2e_get(spec,
	    "cmd"), 1)), "--stdout=first");
	/* also when the row is stopped: restarted with its own spec */
	e2e_ok(e, "terminate_child", "{s:s}", "name", "k");
	pid = (pid_t)e2e_int(e2e_ok(e, "find_or_open", "{s:s, s:[s]}",
	    "name", "k", "cmd", "/bin/false"), "pid");
	ck_assert(e2e_pid_alive(pid));
	ck_assert_str_eq(e2e_str(e2e_row(e, "k"), "state"), "running");
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_find_or_open_stopped_row)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*r;
	pid_t		 pid, pid2;

	pid = e2e_spawn(e, "s", NULL);
	e2e_ok(e, "terminate_child", "{s:s}", "name", "s");
	r = e2e_ok(e, "find_or_open", "{s:s, s:o}", "name", "s",
	    "cmd", e2e_cmd(NULL));
	pid2 = (pid_t)e2e_int(r, "pid");
	ck_assert_int_ne(pid2, pid);
	ck_assert(json_is_true(e2e_get(r, "created")));
	ck_assert(e2e_pid_alive(pid2));
	e2e_stop(e);
}
END_TEST

/* A restarting row is waited for: the reply carries the new process. */
START_TEST(e2e_find_or_open_restarting_row)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*r;
	pid_t		 pid, pid2;
	long		 t0;

	pid = (pid_t)e2e_int(e2e_ok(e, "start_child", "{s:s, s:o, s:i}",
	    "name", "r", "cmd", e2e_cmd(NULL), "restart_delay_ms", 600),
	    "pid");
	kill(pid, SIGKILL);
	ck_assert(e2e_wait_state(e, "r", "restarting", 3000));
	t0 = e2e_now_ms();
	r = e2e_ok(e, "find_or_open", "{s:s, s:o}", "name", "r",
	    "cmd", e2e_cmd(NULL));
	pid2 = (pid_t)e2e_int(r, "pid");
	ck_assert_int_ne(pid2, pid);
	ck_assert(e2e_pid_alive(pid2));
	ck_assert_str_eq(e2e_str(r, "state"), "running");
	ck_assert(json_is_true(e2e_get(r, "created")));
	ck_assert_int_eq(e2e_int(e2e_ok(e, "find", "{s:s}", "name", "r"),
	    "pid"), pid2);
	ck_assert_int_le(e2e_now_ms() - t0, 3000);
	e2e_stop(e);
}
END_TEST

/* A stopping row: wait for the exit, then a fresh child, never the old. */
START_TEST(e2e_find_or_open_stopping_row)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*a = e2e_client(e);
	json_t		*r;
	pid_t		 pid, pid2;

	pid = (pid_t)e2e_int(e2e_ok(e, "start_child",
	    "{s:s, s:o, s:{s:s, s:i}}", "name", "s",
	    "cmd", e2e_cmd("--ignore-term", e2e_ready_arg(e, "s"), NULL),
	    "shutdown", "signal", "TERM", "timeout_ms", 600), "pid");
	e2e_wait_ready(e, "s");
	e2e_send_line(a, "{\"id\":1,\"op\":\"terminate_child\","
	    "\"name\":\"s\"}");
	ck_assert(e2e_wait_state(e, "s", "stopping", 2000));
	r = e2e_ok(e, "find_or_open", "{s:s, s:o}", "name", "s",
	    "cmd", e2e_cmd(NULL));
	pid2 = (pid_t)e2e_int(r, "pid");
	ck_assert_msg(pid2 != pid, "find_or_open returned the dying process");
	ck_assert(!e2e_pid_alive(pid));
	ck_assert(e2e_pid_alive(pid2));
	ck_assert(json_is_true(e2e_get(r, "created")));
	r = e2e_recv(a, 5000);
	ck_assert_str_eq(e2e_str(e2e_get(r, "reason"), "signal"), "SIGKILL");
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_find_or_open_nowait)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*r;

	r = e2e_ok(e, "find_or_open", "{s:s, s:o, s:b}", "name", "n",
	    "cmd", e2e_cmd(NULL), "wait", 0);
	ck_assert_int_gt(e2e_int(r, "pid"), 0);
	ck_assert(json_is_true(e2e_get(r, "created")));
	ck_assert_msg(strcmp(e2e_str(r, "state"), "starting") == 0 ||
	    strcmp(e2e_str(r, "state"), "running") == 0, "%s",
	    e2e_dump(e, r));
	ck_assert(e2e_wait_state(e, "n", "running", 5000));
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_which_children)
{
	static const char *const fields[] = { "name", "pid", "state", "type",
	    "restart", "restart_count", "started_at", NULL };
	struct e2e	*e = e2e_start(NULL);
	json_t		*rows, *row;
	size_t		 i;
	int		 j;

	e2e_spawn(e, "run", NULL);
	e2e_spawn(e, "stp", NULL);
	e2e_ok(e, "terminate_child", "{s:s}", "name", "stp");
	e2e_ok(e, "start_child", "{s:s, s:o, s:i, s:s}", "name", "rst",
	    "cmd", e2e_cmd("--exit-after-ms=20",
	    "--exit-code=1", NULL), "restart_delay_ms", 5000,
	    "restart", "transient");
	ck_assert(e2e_wait_state(e, "rst", "restarting", 3000));
	rows = e2e_get(e2e_ok(e, "which_children", NULL), "children");
	ck_assert_int_eq(json_array_size(rows), 3);
	json_array_foreach(rows, i, row)
		for (j = 0; fields[j] != NULL; j++)
			ck_assert_msg(json_object_get(row, fields[j]) != NULL,
			    "row without %s: %s", fields[j], e2e_dump(e, row));
	row = by_name(rows, "run");
	ck_assert(json_is_integer(e2e_get(row, "pid")));
	ck_assert(json_is_integer(e2e_get(row, "started_at")));
	row = by_name(rows, "stp");
	ck_assert(json_is_null(e2e_get(row, "pid")));
	ck_assert(json_is_null(e2e_get(row, "started_at")));
	ck_assert_str_eq(e2e_str(row, "state"), "stopped");
	row = by_name(rows, "rst");
	ck_assert_str_eq(e2e_str(row, "restart"), "transient");
	ck_assert(json_is_integer(e2e_get(row, "restart_count")));
	rows = e2e_get(e2e_ok(e, "which_children", "{s:s}", "state",
	    "stopped"), "children");
	ck_assert_int_eq(json_array_size(rows), 1);
	ck_assert_str_eq(e2e_str(json_array_get(rows, 0), "name"), "stp");
	rows = e2e_get(e2e_ok(e, "which_children", "{s:s}", "state",
	    "running"), "children");
	ck_assert_int_eq(json_array_size(rows), 1);
	ck_assert_str_eq(e2e_str(json_array_get(rows, 0), "name"), "run");
	rows = e2e_get(e2e_ok(e, "which_children", "{s:s}", "state",
	    "terminating"), "children");
	ck_assert_int_eq(json_array_size(rows), 0);
	e2e_err(e, "bad_request", "which_children", "{s:s}", "state", "bogus");
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_count_children)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*r;

	r = e2e_ok(e, "count_children", NULL);
	ck_assert_int_eq(e2e_int(r, "specs"), 0);
	ck_assert_int_eq(e2e_int(r, "active"), 0);
	e2e_spawn(e, "w1", NULL);
	e2e_spawn(e, "w2", NULL);
	e2e_ok(e, "start_child", "{s:s, s:o, s:s}", "name", "sup",
	    "cmd", e2e_cmd(NULL), "type", "supervisor");
	e2e_ok(e, "terminate_child", "{s:s}", "name", "w2");
	r = e2e_ok(e, "count_children", NULL);
	ck_assert_int_eq(e2e_int(r, "specs"), 3);
	ck_assert_int_eq(e2e_int(r, "active"), 2);
	ck_assert_int_eq(e2e_int(r, "workers"), 2);
	ck_assert_int_eq(e2e_int(r, "supervisors"), 1);
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_list)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*rows, *row;
	pid_t		 pid;

	pid = e2e_spawn(e, "a", NULL);
	e2e_spawn(e, "b", NULL);
	e2e_spawn(e, "gone", NULL);
	e2e_ok(e, "terminate_child", "{s:s}", "name", "gone");
	e2e_ok(e, "setattr", "{s:s, s:{s:i, s:s}}", "name", "a",
	    "attrs", "x", 1, "y", "why");
	rows = e2e_get(e2e_ok(e, "list", NULL), "children");
	ck_assert_int_eq(json_array_size(rows), 2);
	ck_assert_ptr_null(by_name(rows, "gone"));
	row = by_name(rows, "a");
	ck_assert_int_eq(e2e_int(row, "pid"), pid);
	ck_assert_int_eq(json_object_size(e2e_get(row, "attrs")), 2);
	ck_assert_int_eq(json_object_size(e2e_get(by_name(rows, "b"),
	    "attrs")), 0);
	rows = e2e_get(e2e_ok(e, "list", "{s:[s]}", "keys", "y"), "children");
	row = e2e_get(by_name(rows, "a"), "attrs");
	ck_assert_int_eq(json_object_size(row), 1);
	ck_assert_str_eq(e2e_str(row, "y"), "why");
	rows = e2e_get(e2e_ok(e, "list", "{s:[]}", "keys"), "children");
	ck_assert_int_eq(json_object_size(e2e_get(by_name(rows, "a"),
	    "attrs")), 0);
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_info)
{
	static const char *const fields[] = { "spec", "pid", "state",
	    "restart_count", "started_at", "ready_at", "last_exit", "attrs",
	    "rss_bytes", "cpu_ms", NULL };
	struct e2e	*e = e2e_start(NULL);
	json_t		*r, *le;
	pid_t		 pid;
	int		 i;

	pid = e2e_spawn(e, "i", e2e_ready_arg(e, "i"), NULL);
	e2e_wait_ready(e, "i");		/* rss is 0 right after execve */
	e2e_ok(e, "setattr", "{s:s, s:{s:i}}", "name", "i", "attrs", "k", 1);
	r = e2e_ok(e, "info", "{s:s}", "name", "i");
	for (i = 0; fields[i] != NULL; i++)
		ck_assert_msg(json_object_get(r, fields[i]) != NULL,
		    "info without %s: %s", fields[i], e2e_dump(e, r));
	ck_assert_int_eq(e2e_int(r, "pid"), pid);
	ck_assert_str_eq(e2e_str(r, "state"), "running");
	ck_assert_str_eq(e2e_str(e2e_get(r, "spec"), "name"), "i");
	ck_assert_int_ge(e2e_int(r, "ready_at"), e2e_int(r, "started_at"));
	ck_assert_int_gt(e2e_int(r, "started_at"), 1600000000000LL);
	ck_assert(json_is_null(e2e_get(r, "last_exit")));
	ck_assert_int_eq(e2e_int(e2e_get(r, "attrs"), "k"), 1);
	ck_assert_int_gt(e2e_int(r, "rss_bytes"), 0);
	ck_assert_int_ge(e2e_int(r, "cpu_ms"), 0);
	e2e_ok(e, "terminate_child", "{s:s}", "name", "i");
	r = e2e_ok(e, "info", "{s:s}", "name", "i");
	ck_assert(json_is_null(e2e_get(r, "pid")));
	ck_assert_str_eq(e2e_str(r, "state"), "stopped");
	le = e2e_get(r, "last_exit");
	ck_assert_str_eq(e2e_str(le, "signal"), "SIGTERM");
	ck_assert(json_is_true(e2e_get(le, "requested")));
	ck_assert(json_is_integer(e2e_get(le, "at")));
	ck_assert_int_eq(json_object_size(e2e_get(r, "attrs")), 0);
	e2e_err(e, "not_found", "info", "{s:s}", "name", "ghost");
	e2e_stop(e);
}
END_TEST

/* get_childspec fills in every default (protocol §4). */
START_TEST(e2e_get_childspec_defaults)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*spec, *want, *sh;
	const char	*k;
	json_t		*v;

	e2e_spawn(e, "d", NULL);
	spec = e2e_get(e2e_ok(e, "get_childspec", "{s:s}", "name", "d"),
	    "spec");
	want = json_pack("{s:s, s:o, s:[], s:{}, s:b, s:s, s:s, s:s, s:[i], "
	    "s:i, s:i, s:i, s:s, s:b, s:{}}", "name", "d", "cmd", e2e_cmd(NULL),
	    "args", "env", "clear_env", 0, "cwd", "/", "type", "worker",
	    "restart", "permanent", "success_exit_codes", 0,
	    "restart_delay_ms", 100, "max_restarts", 10, "max_period_ms", 60000,
	    "on_give_up", "stop", "kill_group", 1, "attrs");
	json_object_foreach(want, k, v)
		ck_assert_msg(json_equal(json_object_get(spec, k), v),
		    "default %s: got %s, want %s", k,
		    e2e_dump(e, json_object_get(spec, k)), e2e_dump(e, v));
	json_decref(want);
	sh = e2e_get(spec, "shutdown");
	ck_assert_str_eq(e2e_str(sh, "signal"), "SIGTERM");
	ck_assert_int_eq(e2e_int(sh, "timeout_ms"), 5000);
	/* a supervisor's default shutdown is infinity */
	e2e_ok(e, "start_child", "{s:s, s:o, s:s}", "name", "sup",
	    "cmd", e2e_cmd(NULL), "type", "supervisor");
	spec = e2e_get(e2e_ok(e, "get_childspec", "{s:s}", "name", "sup"),
	    "spec");
	sh = e2e_get(spec, "shutdown");
	ck_assert_msg((json_is_string(sh) && strcmp(json_string_value(sh),
	    "infinity") == 0) || (json_is_string(json_object_get(sh,
	    "timeout_ms")) && strcmp(e2e_str(sh, "timeout_ms"), "infinity")
	    == 0), "supervisor shutdown: %s", e2e_dump(e, sh));
	e2e_err(e, "not_found", "get_childspec", "{s:s}", "name", "ghost");
	e2e_stop(e);
}
END_TEST

/* check_childspec normalises without starting; the result round-trips. */
START_TEST(e2e_check_childspec)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*spec, *spec2, *req;
	char		*line;

	spec = e2e_get(e2e_ok(e, "check_childspec", "{s:s, s:o, s:[s], "
	    "s:{s:s, s:i}, s:s, s:{s:s}}", "name", "c", "cmd", e2e_cmd(NULL),
	    "args", "--exit-code=0", "shutdown", "signal", "HUP",
	    "timeout_ms", 700, "restart", "transient", "env", "A", "b"),
	    "spec");
	ck_assert_int_eq(e2e_int(e2e_ok(e, "count_children", NULL), "specs"),
	    0);
	ck_assert_str_eq(e2e_str(e2e_get(spec, "shutdown"), "signal"),
	    "SIGHUP");
	ck_assert_int_eq(e2e_int(e2e_get(spec, "shutdown"), "timeout_ms"),
	    700);
	ck_assert_str_eq(e2e_str(e2e_get(spec, "env"), "A"), "b");
	/* normalising a normalised spec changes nothing */
	req = json_deep_copy(spec);
	json_object_set_new(req, "op", json_string("check_childspec"));
	line = json_dumps(req, JSON_COMPACT);
	e2e_send_line(e2e_main(e), line);
	spec2 = e2e_get(e2e_recv(e2e_main(e), 5000), "spec");
	ck_assert_msg(json_equal(spec, spec2), "%s -> %s", e2e_dump(e, spec),
	    e2e_dump(e, spec2));
	free(line);
	json_decref(req);
	/* a running name may be checked too */
	e2e_spawn(e, "c", NULL);
	e2e_ok(e, "check_childspec", "{s:s, s:o}", "name", "c",
	    "cmd", e2e_cmd(NULL));
	e2e_stop(e);
}
END_TEST

/* A reply seen on one connection is visible on every other one. */
START_TEST(e2e_consistency)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*b = e2e_client(e);
	int		 i;

	e2e_spawn(e, "c", NULL);
	for (i = 0; i < 20; i++) {
		e2e_ok(e, "setattr", "{s:s, s:{s:i}}", "name", "c",
		    "attrs", "n", i);
		ck_assert_int_eq(e2e_int(e2e_cok(b, "getattr", "{s:s, s:s}",
		    "name", "c", "key", "n"), "value"), i);
	}
	e2e_ok(e, "terminate_child", "{s:s}", "name", "c");
	e2e_cerr(b, "not_found", "find", "{s:s}", "name", "c");
	e2e_stop(e);
}
END_TEST

Suite *
e2e_registry_suite(void)
{
	Suite	*s = suite_create("e2e_registry");
	TCase	*tc;

	tc = tcase_create("find");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_find);
	tcase_add_test(tc, e2e_find_stopping);
	tcase_add_test(tc, e2e_find_or_open_created);
	tcase_add_test(tc, e2e_find_or_open_keeps_spec);
	tcase_add_test(tc, e2e_find_or_open_stopped_row);
	tcase_add_test(tc, e2e_find_or_open_restarting_row);
	tcase_add_test(tc, e2e_find_or_open_stopping_row);
	tcase_add_test(tc, e2e_find_or_open_nowait);
	suite_add_tcase(s, tc);

	tc = tcase_create("rows");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_which_children);
	tcase_add_test(tc, e2e_count_children);
	tcase_add_test(tc, e2e_list);
	tcase_add_test(tc, e2e_info);
	tcase_add_test(tc, e2e_get_childspec_defaults);
	tcase_add_test(tc, e2e_check_childspec);
	tcase_add_test(tc, e2e_consistency);
	suite_add_tcase(s, tc);
	return (s);
}
