/* SPDX-License-Identifier: MIT */
/*
 * check_e2e_deps: depends_on against the real daemon (protocol §9.1):
 * a dependent waits, with pid null, until its dependency meets the
 * condition, and starts on that transition; unknown names, bad
 * conditions and cycles are refused naming the field (start_child, the
 * config, a reload); a stop on request stops dependents first; a policy
 * restart bounces only on_restart: restart dependents; a give-up puts
 * dependents back to waiting and they start again when it recovers.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "harness.h"

static void
touch(const char *path)
{
	FILE	*f;

	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fclose(f);
}

/* One integer column of one row of a registry query. */
static json_int_t
query_int(struct e2e *e, const char *sql)
{
	json_t	*rows;

	rows = e2e_get(e2e_ok(e, "query", "{s:s}", "sql", sql), "rows");
	ck_assert_msg(json_array_size(rows) == 1, "%s: %s", sql,
	    e2e_dump(e, rows));
	return (json_integer_value(json_array_get(json_array_get(rows, 0),
	    0)));
}

static pid_t
pid_of(struct e2e *e, const char *name)
{
	json_t	*r = e2e_row(e, name);

	ck_assert_ptr_nonnull(r);
	return ((pid_t)json_integer_value(json_object_get(r, "pid")));
}

/* A dependent waits (pid null, waiting_for, why) until db is ready. */
START_TEST(e2e_deps_waits_for_ready)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*gate = e2e_path(e, "go"), *out;
	json_t		*r, *w, *rows;

	e2e_ok(e, "start_child", "{s:s, s:o, s:{s:i}, s:b}", "name", "db",
	    "cmd", e2e_cmd(e2e_fmt(e, "--ready-after=%s", gate),
	    "--ready-fd=3", NULL), "ready", "fd", 3, "wait", 0);
	r = e2e_ok(e, "start_child", "{s:s, s:o, s:[s], s:b}", "name", "web",
	    "cmd", e2e_cmd(NULL), "depends_on", "db", "wait", 0);
	ck_assert_str_eq(e2e_str(r, "state"), "waiting");
	ck_assert(json_is_null(e2e_get(r, "pid")));
	r = e2e_row(e, "web");
	ck_assert_str_eq(e2e_str(r, "state"), "waiting");
	ck_assert(json_is_null(e2e_get(r, "pid")));
	w = e2e_get(r, "waiting_for");
	ck_assert_int_eq(json_array_size(w), 1);
	ck_assert_str_eq(json_string_value(json_array_get(w, 0)), "db");
	r = e2e_ok(e, "why", "{s:s}", "name", "web");
	w = json_array_get(e2e_get(r, "waiting_for"), 0);
	ck_assert_str_eq(e2e_str(w, "name"), "db");
	ck_assert_str_eq(e2e_str(w, "condition"), "ready");
	ck_assert_str_eq(e2e_str(w, "state"), "starting");
	ck_assert_int_eq(e2e_gtctl(e, &out, "why", "web", NULL), 0);
	ck_assert_msg(strstr(out, "web waits for db (ready): db is starting")
	    != NULL, "gtctl why: %s", out);
	/* The edge is in SQL. */
	rows = e2e_get(e2e_ok(e, "query", "{s:s}", "sql", "SELECT dependency, "
	    "condition, on_stop, on_restart FROM depends WHERE name = 'web'"),
	    "rows");
	ck_assert_str_eq(e2e_dump(e, rows),
	    "[[\"db\",\"ready\",\"stop\",\"ignore\"]]");
	/* Still waiting: nothing polls, nothing starts it early. */
	ck_assert_str_eq(e2e_str(e2e_row(e, "web"), "state"), "waiting");
	touch(gate);
	ck_assert(e2e_wait_state(e, "web", "running", 5000));
	ck_assert_int_ge(query_int(e, "SELECT started_at FROM children WHERE "
	    "name = 'web'"), query_int(e, "SELECT ready_at FROM children "
	    "WHERE name = 'db'"));
	r = e2e_ok(e, "why", "{s:s}", "name", "web");
	ck_assert_int_eq(json_array_size(e2e_get(r, "waiting_for")), 0);
	e2e_stop(e);
}
END_TEST

/* start_child with wait: true replies once the dependent is ready. */
START_TEST(e2e_deps_start_wait)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*a = e2e_client(e);
	const char	*gate = e2e_path(e, "go");
	json_t		*r;

	e2e_ok(e, "start_child", "{s:s, s:o, s:{s:i}, s:b}", "name", "db",
	    "cmd", e2e_cmd(e2e_fmt(e, "--ready-after=%s", gate),
	    "--ready-fd=3", NULL), "ready", "fd", 3, "wait", 0);
	e2e_send_line(a, "{\"id\":1,\"op\":\"start_child\",\"name\":\"web\","
	    "\"cmd\":[\"/bin/sleep\",\"1000\"],\"depends_on\":[\"db\"]}");
	ck_assert(e2e_wait_state(e, "web", "waiting", 3000));
	ck_assert_ptr_null(e2e_recv_line(a, 200));	/* no reply yet */
	touch(gate);
	r = e2e_recv(a, 5000);
	ck_assert_msg(json_is_true(json_object_get(r, "ok")), "%s",
	    e2e_dump(e, r));
	ck_assert_str_eq(e2e_str(r, "state"), "running");
	ck_assert_int_gt(e2e_int(r, "pid"), 0);
	json_decref(r);
	e2e_stop(e);
}
END_TEST

/* Unknown names, bad values and cycles are refused, naming the field. */
START_TEST(e2e_deps_refused)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*err, *cf = e2e_path(e, "cyc.json");
	json_t		*r;
	FILE		*f;
	int		 st;

	r = e2e_err(e, "bad_request", "start_child", "{s:s, s:o, s:[s]}",
	    "name", "web", "cmd", e2e_cmd(NULL), "depends_on", "nope");
	ck_assert_str_eq(e2e_str(r, "field"), "depends_on.0");
	r = e2e_err(e, "bad_request", "start_child", "{s:s, s:o, s:[{s:s, "
	    "s:s}]}", "name", "web", "cmd", e2e_cmd(NULL), "depends_on",
	    "name", "x", "condition", "bogus");
	ck_assert_str_eq(e2e_str(r, "field"), "depends_on.0.condition");
	r = e2e_err(e, "bad_request", "start_child", "{s:s, s:o, s:[s]}",
	    "name", "self", "cmd", e2e_cmd(NULL), "depends_on", "self");
	ck_assert_str_eq(e2e_str(r, "field"), "depends_on.0");
	ck_assert_ptr_null(e2e_row(e, "web"));
	ck_assert_ptr_null(e2e_row(e, "self"));
	/* A cycle in a config: gtd -n names the entry. */
	ck_assert_ptr_nonnull(f = fopen(cf, "w"));
	fprintf(f, "{\"children\":["
	    "{\"name\":\"a\",\"cmd\":[\"/bin/true\"],\"depends_on\":[\"b\"]},"
	    "{\"name\":\"b\",\"cmd\":[\"/bin/true\"],\"depends_on\":[\"c\"]},"
	    "{\"name\":\"c\",\"cmd\":[\"/bin/true\"],\"depends_on\":[\"a\"]}"
	    "]}");
	fclose(f);
	st = e2e_gtd_run(e, 5000, &err, "-n", "-s", e2e_path(e, "n.sock"),
	    "-c", cf, NULL);
	ck_assert_msg(st != 0, "gtd -n with a cycle exited 0");
	ck_assert_msg(strstr(err, "depends_on.0") != NULL &&
	    strstr(err, "cycle") != NULL, "cycle not named: %s", err);
	ck_assert_ptr_nonnull(f = fopen(cf, "w"));
	fprintf(f, "{\"children\":[{\"name\":\"a\",\"cmd\":[\"/bin/true\"],"
	    "\"depends_on\":[\"b\"]}]}");
	fclose(f);
	st = e2e_gtd_run(e, 5000, &err, "-n", "-s", e2e_path(e, "n.sock"),
	    "-c", cf, NULL);
	ck_assert_msg(st != 0, "gtd -n with an unknown name exited 0");
	ck_assert_msg(strstr(err, "children.0.depends_on.0") != NULL,
	    "unknown name not named: %s", err);
	e2e_stop(e);
}
END_TEST

/* completed_ok: starts after a job that exited 0, not after one that
 * failed; the completion is remembered once the job's row is gone. */
START_TEST(e2e_deps_completed_ok)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*g1 = e2e_path(e, "g1"), *g2 = e2e_path(e, "g2");
	json_t		*r;

	e2e_ok(e, "start_child", "{s:s, s:o, s:s}", "name", "job",
	    "cmd", e2e_cmd(e2e_fmt(e, "--ready-after=%s", g1), "--exit-code=0",
	    NULL), "restart", "temporary");
	e2e_ok(e, "start_child", "{s:s, s:o, s:s}", "name", "bad",
	    "cmd", e2e_cmd(e2e_fmt(e, "--ready-after=%s", g2), "--exit-code=3",
	    NULL), "restart", "temporary");
	e2e_ok(e, "start_child", "{s:s, s:o, s:[{s:s, s:s}], s:b}", "name",
	    "app", "cmd", e2e_cmd(NULL), "depends_on", "name", "job",
	    "condition", "completed_ok", "wait", 0);
	e2e_ok(e, "start_child", "{s:s, s:o, s:[{s:s, s:s}], s:b}", "name",
	    "app2", "cmd", e2e_cmd(NULL), "depends_on", "name", "bad",
	    "condition", "completed_ok", "wait", 0);
	ck_assert_str_eq(e2e_str(e2e_row(e, "app"), "state"), "waiting");
	touch(g2);
	ck_assert(e2e_wait_absent(e, "bad", 5000));
	touch(g1);
	ck_assert(e2e_wait_absent(e, "job", 5000));
	ck_assert(e2e_wait_state(e, "app", "running", 5000));
	ck_assert_str_eq(e2e_str(e2e_row(e, "app2"), "state"), "waiting");
	r = json_array_get(e2e_get(e2e_ok(e, "why", "{s:s}", "name", "app2"),
	    "waiting_for"), 0);
	ck_assert_str_eq(e2e_str(r, "state"), "completed");
	/* A dependent added after the job ended sees the completion. */
	r = e2e_ok(e, "start_child", "{s:s, s:o, s:[{s:s, s:s}]}", "name",
	    "late", "cmd", e2e_cmd(NULL), "depends_on", "name", "job",
	    "condition", "completed");
	ck_assert_str_eq(e2e_str(r, "state"), "running");
	/* A waiting row is deleted at once. */
	e2e_ok(e, "delete_child", "{s:s}", "name", "app2");
	ck_assert_ptr_null(e2e_row(e, "app2"));
	e2e_stop(e);
}
END_TEST

/* terminate_child of a dependency stops its dependents first. */
START_TEST(e2e_deps_stop_dependents_first)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*r;
	long		 t0;

	e2e_ok(e, "start_child", "{s:s, s:o}", "name", "db",
	    "cmd", e2e_cmd(NULL));
	e2e_ok(e, "start_child", "{s:s, s:o, s:[s], s:{s:s, s:i}}", "name",
	    "web", "cmd", e2e_cmd("--ignore-term", e2e_ready_arg(e, "web"),
	    NULL), "depends_on", "db", "shutdown", "signal", "SIGTERM",
	    "timeout_ms", 400);
	e2e_wait_ready(e, "web");
	e2e_ok(e, "start_child", "{s:s, s:o, s:[{s:s, s:s}]}", "name",
	    "side", "cmd", e2e_cmd(NULL), "depends_on", "name", "db",
	    "on_stop", "ignore");
	t0 = e2e_now_ms();
	r = e2e_ok(e, "terminate_child", "{s:s}", "name", "db");
	/* web took its 400 ms and SIGKILL; db went only after that. */
	ck_assert_int_ge(e2e_now_ms() - t0, 350);
	ck_assert(json_is_true(e2e_get(e2e_get(r, "reason"), "requested")));
	ck_assert_str_eq(e2e_str(e2e_row(e, "web"), "state"), "stopped");
	ck_assert_str_eq(e2e_str(e2e_row(e, "db"), "state"), "stopped");
	ck_assert_int_le(query_int(e, "SELECT exited_at FROM children WHERE "
	    "name = 'web'"), query_int(e, "SELECT exited_at FROM children "
	    "WHERE name = 'db'"));
	/* on_stop: ignore: left running. */
	ck_assert_str_eq(e2e_str(e2e_row(e, "side"), "state"), "running");
	e2e_stop(e);
}
END_TEST

/*
 * A restart of db by its policy leaves web alone and bounces api
 * (on_restart: restart), which waits for db's new incarnation.
 */
START_TEST(e2e_deps_policy_restart)
{
	struct e2e	*e = e2e_start(NULL);
	pid_t		 db, web, api;

	e2e_ok(e, "start_child", "{s:s, s:o, s:i}", "name", "db",
	    "cmd", e2e_cmd(NULL), "restart_delay_ms", 100);
	e2e_ok(e, "start_child", "{s:s, s:o, s:[s]}", "name", "web",
	    "cmd", e2e_cmd(NULL), "depends_on", "db");
	e2e_ok(e, "start_child", "{s:s, s:o, s:[{s:s, s:s}]}", "name", "api",
	    "cmd", e2e_cmd(NULL), "depends_on", "name", "db", "on_restart",
	    "restart");
	db = pid_of(e, "db");
	web = pid_of(e, "web");
	api = pid_of(e, "api");
	e2e_ok(e, "signal", "{s:s, s:s}", "name", "db", "signal", "KILL");
	ck_assert_int_gt(e2e_wait_restarted(e, "db", db, 5000), 0);
	ck_assert_int_gt(e2e_wait_restarted(e, "api", api, 5000), 0);
	ck_assert_int_ge(query_int(e, "SELECT started_at FROM children WHERE "
	    "name = 'api'"), query_int(e, "SELECT ready_at FROM children "
	    "WHERE name = 'db'"));
	ck_assert_int_eq(pid_of(e, "web"), web);
	ck_assert_str_eq(e2e_str(e2e_row(e, "web"), "state"), "running");
	/* restart_child force is a restart too: api again, web not. */
	api = pid_of(e, "api");
	db = pid_of(e, "db");
	e2e_ok(e, "restart_child", "{s:s, s:b}", "name", "db", "force", 1);
	ck_assert_int_ne(pid_of(e, "db"), db);
	ck_assert_int_gt(e2e_wait_restarted(e, "api", api, 5000), 0);
	ck_assert_int_eq(pid_of(e, "web"), web);
	e2e_stop(e);
}
END_TEST

/* find_or_open of a new row waits for its dependency, then replies. */
START_TEST(e2e_deps_find_or_open)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*a = e2e_client(e);
	const char	*gate = e2e_path(e, "go");
	json_t		*r;

	e2e_ok(e, "start_child", "{s:s, s:o, s:{s:i}, s:b}", "name", "db",
	    "cmd", e2e_cmd(e2e_fmt(e, "--ready-after=%s", gate),
	    "--ready-fd=3", NULL), "ready", "fd", 3, "wait", 0);
	e2e_send_line(a, "{\"id\":1,\"op\":\"find_or_open\",\"name\":\"web\","
	    "\"cmd\":[\"/bin/sleep\",\"1000\"],\"depends_on\":[\"db\"]}");
	ck_assert(e2e_wait_state(e, "web", "waiting", 3000));
	/* A second caller without wait: told it waits, pid null. */
	r = e2e_ok(e, "find_or_open", "{s:s, s:[s, s], s:b}", "name", "web",
	    "cmd", "/bin/sleep", "1000", "wait", 0);
	ck_assert_str_eq(e2e_str(r, "state"), "waiting");
	ck_assert(json_is_null(json_object_get(r, "pid")));
	ck_assert_ptr_null(e2e_recv_line(a, 200));
	touch(gate);
	r = e2e_recv(a, 5000);
	ck_assert_msg(json_is_true(json_object_get(r, "ok")), "%s",
	    e2e_dump(e, r));
	ck_assert_int_gt(e2e_int(r, "pid"), 0);
	json_decref(r);
	e2e_stop(e);
}
END_TEST

/*
 * The trap of systemd: db gives up, web goes back to waiting, and when
 * db runs again (restart_child), web starts again.
 */
START_TEST(e2e_deps_recovers_after_give_up)
{
	struct e2e	*e = e2e_start(NULL);
	pid_t		 db, web;

	e2e_ok(e, "start_child", "{s:s, s:o, s:i, s:i, s:i, s:s}", "name",
	    "db", "cmd", e2e_cmd(NULL), "restart_delay_ms", 50,
	    "max_restarts", 1, "max_period_ms", 60000, "on_give_up", "stop");
	e2e_ok(e, "start_child", "{s:s, s:o, s:[s]}", "name", "web",
	    "cmd", e2e_cmd(NULL), "depends_on", "db");
	db = pid_of(e, "db");
	web = pid_of(e, "web");
	e2e_ok(e, "signal", "{s:s, s:s}", "name", "db", "signal", "KILL");
	ck_assert_int_gt((db = e2e_wait_restarted(e, "db", db, 5000)), 0);
	e2e_ok(e, "signal", "{s:s, s:s}", "name", "db", "signal", "KILL");
	ck_assert(e2e_wait_state(e, "db", "stopped", 5000));
	ck_assert(e2e_wait_state(e, "web", "waiting", 5000));
	ck_assert(json_is_null(e2e_get(e2e_row(e, "web"), "pid")));
	e2e_ok(e, "restart_child", "{s:s}", "name", "db");
	ck_assert_int_gt(e2e_wait_restarted(e, "web", web, 5000), 0);
	e2e_stop(e);
}
END_TEST

/*
 * Boot: a child listed before its dependency waits for it; a reload
 * that would make a cycle is refused and changes nothing.
 */
START_TEST(e2e_deps_boot_and_reload)
{
	struct e2e	*e;
	json_t		*r;
	pid_t		 a, b;
	const char	*tc;

	e = e2e_start_json(json_pack("{s:[{s:s, s:o, s:[s]}, {s:s, s:o}]}",
	    "children", "name", "b", "cmd", e2e_cmd(NULL), "depends_on", "a",
	    "name", "a", "cmd", e2e_cmd(NULL)));
	ck_assert(e2e_wait_state(e, "b", "running", 5000));
	ck_assert_int_ge(query_int(e, "SELECT started_at FROM children WHERE "
	    "name = 'b'"), query_int(e, "SELECT ready_at FROM children "
	    "WHERE name = 'a'"));
	a = pid_of(e, "a");
	b = pid_of(e, "b");
	tc = e2e_testchild(e);
	e2e_write_conf(e, e2e_fmt(e, "{\"children\":["
	    "{\"name\":\"b\",\"cmd\":[\"%s\"],\"depends_on\":[\"a\"]},"
	    "{\"name\":\"a\",\"cmd\":[\"%s\"],\"depends_on\":[\"b\"]}]}",
	    tc, tc));
	r = e2e_err(e, "bad_config", "reload", NULL);
	ck_assert_msg(strstr(e2e_str(r, "field"), "depends_on.0") != NULL,
	    "%s", e2e_dump(e, r));
	ck_assert_msg(strstr(e2e_str(r, "message"), "cycle") != NULL, "%s",
	    e2e_dump(e, r));
	ck_assert_int_eq(pid_of(e, "a"), a);
	ck_assert_int_eq(pid_of(e, "b"), b);
	r = e2e_ok(e, "get_childspec", "{s:s}", "name", "a");
	ck_assert_ptr_null(json_object_get(e2e_get(r, "spec"), "depends_on"));
	e2e_stop(e);
}
END_TEST

/*
 * Shutdown stops every dependent before its dependency, whatever its
 * on_stop: web's after_terminate hook finds db still alive.
 */
START_TEST(e2e_deps_shutdown_order)
{
	struct e2e	*e = e2e_start(NULL);
	char		 ok[64];
	pid_t		 db;

	/* Outside e2e_dir: e2e_stop removes that. */
	snprintf(ok, sizeof ok, "/tmp/gtd-deps-order-%d", (int)getpid());
	(void)unlink(ok);		/* ENOENT: none left over */

	e2e_ok(e, "start_child", "{s:s, s:o}", "name", "db",
	    "cmd", e2e_cmd(NULL));
	db = pid_of(e, "db");
	e2e_ok(e, "start_child", "{s:s, s:o, s:[{s:s, s:s}], s:{s:s, s:i}, "
	    "s:[s, s, s]}", "name", "web", "cmd", e2e_cmd("--ignore-term",
	    e2e_ready_arg(e, "web"), NULL), "depends_on", "name", "db",
	    "on_stop", "ignore", "shutdown", "signal", "SIGTERM",
	    "timeout_ms", 300, "after_terminate", "/bin/sh", "-c",
	    e2e_fmt(e, "kill -0 %d && touch %s", (int)db, ok));
	e2e_wait_ready(e, "web");
	e2e_stop(e);
	ck_assert_msg(access(ok, F_OK) == 0, "db was gone before web");
	ck_assert_int_eq(unlink(ok), 0);
}
END_TEST

/* All 201 children of e2e_deps_many_waiting are running. */
static bool
dp_all_running(void *arg)
{
	struct e2e	*e = arg;

	return (json_array_size(e2e_get(e2e_ok(e, "which_children", "{s:s}",
	    "state", "running"), "children")) == 201);
}

/*
 * Many rows waiting on one dependency cost nothing while they wait
 * (ping stays quick) and all start on its one transition.
 */
START_TEST(e2e_deps_many_waiting)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*gate = e2e_path(e, "go");
	long		 t0, d, worst = 0;
	int		 k;

	e2e_ok(e, "start_child", "{s:s, s:o, s:{s:i}, s:b}", "name", "db",
	    "cmd", e2e_cmd(e2e_fmt(e, "--ready-after=%s", gate),
	    "--ready-fd=3", NULL), "ready", "fd", 3, "wait", 0);
	for (k = 0; k < 200; k++)
		e2e_ok(e, "start_child", "{s:s, s:[s, s], s:[s], s:b}",
		    "name", e2e_fmt(e, "w%d", k), "cmd", "/bin/sleep", "1000",
		    "depends_on", "db", "wait", 0);
	for (k = 0; k < 100; k++) {
		t0 = e2e_now_ms();
		e2e_ok(e, "ping", NULL);
		if ((d = e2e_now_ms() - t0) > worst)
			worst = d;
	}
	ck_assert_msg(worst < e2e_slow(100), "ping took %ld ms", worst);
	touch(gate);
	ck_assert_msg(e2e_wait_until(10000, dp_all_running, e),
	    "not all 201 children running in time");
	e2e_stop(e);
}
END_TEST

#define DP_WAVE		200

/*
 * A wave of dependents (all released by one readiness) is spread over
 * loop iterations: gtd answers its clients while the wave starts, so a
 * query sees some dependents with a process and others still without.
 * (gtd once started a whole wave in one iteration: no reply came
 * between none and all; 111 such spawns held it for half a second.)
 */
START_TEST(e2e_deps_wave_answers_meanwhile)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*gate = e2e_path(e, "go");
	json_int_t	 n = 0, between = -1;
	long		 t0;
	int		 k;

	e2e_ok(e, "start_child", "{s:s, s:o, s:{s:i}, s:b}", "name", "db",
	    "cmd", e2e_cmd(e2e_fmt(e, "--ready-after=%s", gate),
	    "--ready-fd=3", NULL), "ready", "fd", 3, "wait", 0);
	for (k = 0; k < DP_WAVE; k++)
		e2e_ok(e, "start_child", "{s:s, s:[s, s], s:[s], s:b}",
		    "name", e2e_fmt(e, "w%d", k), "cmd", "/bin/sleep", "1000",
		    "depends_on", "db", "wait", 0);
	touch(gate);
	t0 = e2e_now_ms();
	while (n < DP_WAVE && e2e_now_ms() - t0 < e2e_slow(10000)) {
		n = query_int(e, "SELECT count(*) FROM children WHERE "
		    "name LIKE 'w%' AND pid IS NOT NULL");
		if (n > 0 && n < DP_WAVE && between < 0)
			between = n;
	}
	ck_assert_msg(n == DP_WAVE, "%lld of %d dependents started",
	    (long long)n, DP_WAVE);
	ck_assert_msg(between > 0, "no reply came while the wave started");
	e2e_stop(e);
}
END_TEST

/*
 * The rows a transition releases go before the starts queued earlier:
 * with max_starting 1 and q0..q2 queued behind db, db's readiness
 * starts app (its dependent) first; the old queue, first in first out,
 * started app last.
 */
START_TEST(e2e_deps_release_goes_first)
{
	struct e2e	*e = e2e_start("{\"max_starting\":1}");
	struct e2e_conn	*sub = e2e_client(e);
	const char	*gate = e2e_path(e, "go");
	json_t		*ev, *r;
	int		 k;

	e2e_cok(sub, "subscribe", "{s:[s]}", "events", "started");
	e2e_ok(e, "start_child", "{s:s, s:o, s:{s:i}, s:b}", "name", "db",
	    "cmd", e2e_cmd(e2e_fmt(e, "--ready-after=%s", gate),
	    "--ready-fd=3", NULL), "ready", "fd", 3, "wait", 0);
	ck_assert_ptr_nonnull(e2e_next_event(sub, "db", "started", 5000));
	for (k = 0; k < 3; k++) {
		r = e2e_ok(e, "start_child", "{s:s, s:o, s:b}", "name",
		    e2e_fmt(e, "q%d", k), "cmd", e2e_cmd(NULL), "wait", 0);
		ck_assert(json_is_true(e2e_get(r, "queued")));
	}
	e2e_ok(e, "start_child", "{s:s, s:o, s:[s], s:b}", "name", "app",
	    "cmd", e2e_cmd(NULL), "depends_on", "db", "wait", 0);
	touch(gate);
	ev = e2e_next_event(sub, NULL, "started", e2e_slow(10000));
	ck_assert_ptr_nonnull(ev);
	ck_assert_str_eq(e2e_str(ev, "name"), "app");
	for (k = 0; k < 3; k++) {
		ev = e2e_next_event(sub, NULL, "started", e2e_slow(10000));
		ck_assert_ptr_nonnull(ev);
		ck_assert_str_eq(e2e_str(ev, "name"), e2e_fmt(e, "q%d", k));
	}
	e2e_stop(e);
}
END_TEST

Suite *
e2e_deps_suite(void)
{
	Suite	*s = suite_create("e2e_deps");
	TCase	*tc = tcase_create("deps");

	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_deps_waits_for_ready);
	tcase_add_test(tc, e2e_deps_start_wait);
	tcase_add_test(tc, e2e_deps_find_or_open);
	tcase_add_test(tc, e2e_deps_refused);
	tcase_add_test(tc, e2e_deps_completed_ok);
	tcase_add_test(tc, e2e_deps_stop_dependents_first);
	tcase_add_test(tc, e2e_deps_policy_restart);
	tcase_add_test(tc, e2e_deps_recovers_after_give_up);
	tcase_add_test(tc, e2e_deps_boot_and_reload);
	tcase_add_test(tc, e2e_deps_shutdown_order);
	tcase_add_test(tc, e2e_deps_many_waiting);
	tcase_add_test(tc, e2e_deps_wave_answers_meanwhile);
	tcase_add_test(tc, e2e_deps_release_goes_first);
	suite_add_tcase(s, tc);
	return (s);
}
