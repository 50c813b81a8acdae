/* SPDX-License-Identifier: MIT */
/*
 * check_e2e_attrs: setattr, getattr, delattr and increment; attrs that
 * belong to one incarnation; a child writing its own attrs through
 * $GTD_SOCKET; the max_attrs limit; getattr's wait_ms.
 */
#include "config.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "harness.h"

static json_t	*get(struct e2e *, const char *, const char *);

/* getattr's value (borrowed), asserting ok. */
static json_t *
get(struct e2e *e, const char *name, const char *key)
{
	return (e2e_get(e2e_ok(e, "getattr", "{s:s, s:s}", "name", name,
	    "key", key), "value"));
}

START_TEST(e2e_attrs_roundtrip)
{
	static const char *const vals[][2] = { { "i", "42" }, { "s", "\"x\"" },
	    { "o", "{\"n\":[1,2,{\"d\":null}]}" }, { "f", "1.5" },
	    { "b", "true" }, { "z", "null" }, { "a", "[]" },
	    { "big", "-9223372036854775808" }, { "u", "\"\\u00e9\\n\"" },
	    { NULL, NULL } };
	struct e2e	*e = e2e_start(NULL);
	json_t		*attrs, *r, *v;
	int		 i;

	e2e_spawn(e, "a", NULL);
	attrs = json_object();
	for (i = 0; vals[i][0] != NULL; i++)
		json_object_set_new(attrs, vals[i][0],
		    json_loads(vals[i][1], JSON_DECODE_ANY, NULL));
	r = e2e_ok(e, "setattr", "{s:s, s:O}", "name", "a", "attrs", attrs);
	ck_assert_msg(json_object_size(r) == 2, "%s", e2e_dump(e, r));
	for (i = 0; vals[i][0] != NULL; i++) {
		v = get(e, "a", vals[i][0]);
		ck_assert_msg(json_equal(v, json_object_get(attrs,
		    vals[i][0])), "%s: set %s, got %s", vals[i][0], vals[i][1],
		    e2e_dump(e, v));
	}
	r = e2e_ok(e, "info", "{s:s}", "name", "a");
	ck_assert_msg(json_equal(e2e_get(r, "attrs"), attrs), "info attrs %s",
	    e2e_dump(e, e2e_get(r, "attrs")));
	json_decref(attrs);
	e2e_ok(e, "setattr", "{s:s, s:{}}", "name", "a", "attrs");
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_attrs_merge)
{
	struct e2e	*e = e2e_start(NULL);

	e2e_spawn(e, "m", NULL);
	e2e_ok(e, "setattr", "{s:s, s:{s:i}}", "name", "m", "attrs", "a", 1);
	e2e_ok(e, "setattr", "{s:s, s:{s:i}}", "name", "m", "attrs", "b", 2);
	e2e_ok(e, "setattr", "{s:s, s:{s:s}}", "name", "m", "attrs", "a", "x");
	ck_assert_str_eq(json_string_value(get(e, "m", "a")), "x");
	ck_assert_int_eq(json_integer_value(get(e, "m", "b")), 2);
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_attrs_errors)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*r;

	e2e_spawn(e, "run", NULL);
	e2e_err(e, "not_found", "getattr", "{s:s, s:s}", "name", "ghost",
	    "key", "k");
	e2e_err(e, "not_found", "getattr", "{s:s, s:s}", "name", "run",
	    "key", "missing");
	e2e_err(e, "not_found", "setattr", "{s:s, s:{s:i}}", "name", "ghost",
	    "attrs", "k", 1);
	e2e_err(e, "not_found", "delattr", "{s:s, s:s}", "name", "ghost",
	    "key", "k");
	e2e_err(e, "not_found", "increment", "{s:s, s:s}", "name", "ghost",
	    "key", "k");
	/* a stopped row has no incarnation */
	e2e_spawn(e, "stp", NULL);
	e2e_ok(e, "terminate_child", "{s:s}", "name", "stp");
	r = e2e_err(e, "not_running", "setattr", "{s:s, s:{s:i}}",
	    "name", "stp", "attrs", "k", 1);
	ck_assert_str_eq(e2e_str(r, "state"), "stopped");
	r = e2e_err(e, "not_running", "getattr", "{s:s, s:s}", "name", "stp",
	    "key", "k");
	ck_assert_str_eq(e2e_str(r, "state"), "stopped");
	e2e_err(e, "not_running", "delattr", "{s:s, s:s}", "name", "stp",
	    "key", "k");
	e2e_err(e, "not_running", "increment", "{s:s, s:s, s:i}",
	    "name", "stp", "key", "k", "default", 0);
	/* nor does a restarting one */
	e2e_ok(e, "start_child", "{s:s, s:o, s:i}", "name", "rst",
	    "cmd", e2e_cmd("--exit-after-ms=20",
	    "--exit-code=1", NULL), "restart_delay_ms", 5000);
	ck_assert(e2e_wait_state(e, "rst", "restarting", 3000));
	r = e2e_err(e, "not_running", "setattr", "{s:s, s:{s:i}}",
	    "name", "rst", "attrs", "k", 1);
	ck_assert_str_eq(e2e_str(r, "state"), "restarting");
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_delattr)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*r;

	e2e_spawn(e, "d", NULL);
	e2e_ok(e, "setattr", "{s:s, s:{s:i, s:i}}", "name", "d",
	    "attrs", "a", 1, "b", 2);
	r = e2e_ok(e, "delattr", "{s:s, s:s}", "name", "d", "key", "a");
	ck_assert_msg(json_object_size(r) == 2, "%s", e2e_dump(e, r));
	e2e_err(e, "not_found", "getattr", "{s:s, s:s}", "name", "d",
	    "key", "a");
	ck_assert_int_eq(json_integer_value(get(e, "d", "b")), 2);
	e2e_err(e, "not_found", "delattr", "{s:s, s:s}", "name", "d",
	    "key", "a");
	e2e_err(e, "bad_request", "delattr", "{s:s}", "name", "d");
	e2e_stop(e);
}
END_TEST

/* attrs belong to one incarnation; a new one starts with the spec's. */
START_TEST(e2e_attrs_per_incarnation)
{
	struct e2e	*e = e2e_start(NULL);
	pid_t		 pid, pid2;
	json_t		*r;

	pid = (pid_t)e2e_int(e2e_ok(e, "start_child", "{s:s, s:o, s:i, "
	    "s:{s:s, s:i}}", "name", "inc", "cmd", e2e_cmd(NULL),
	    "restart_delay_ms", 50, "attrs", "role", "web", "port", 80),
	    "pid");
	ck_assert_str_eq(json_string_value(get(e, "inc", "role")), "web");
	e2e_ok(e, "setattr", "{s:s, s:{s:i, s:s}}", "name", "inc",
	    "attrs", "k", 1, "role", "changed");
	kill(pid, SIGKILL);
	ck_assert((pid2 = e2e_wait_restarted(e, "inc", pid, 3000)) > 0);
	r = e2e_ok(e, "find", "{s:s}", "name", "inc");
	ck_assert_int_eq(e2e_int(r, "pid"), pid2);
	e2e_err(e, "not_found", "getattr", "{s:s, s:s}", "name", "inc",
	    "key", "k");
	ck_assert_str_eq(json_string_value(get(e, "inc", "role")), "web");
	ck_assert_int_eq(json_integer_value(get(e, "inc", "port")), 80);
	r = e2e_ok(e, "info", "{s:s}", "name", "inc");
	ck_assert_int_eq(json_object_size(e2e_get(r, "attrs")), 2);
	/* restart_child makes a new incarnation too */
	e2e_ok(e, "setattr", "{s:s, s:{s:i}}", "name", "inc", "attrs", "k", 2);
	e2e_ok(e, "terminate_child", "{s:s}", "name", "inc");
	e2e_ok(e, "restart_child", "{s:s}", "name", "inc");
	e2e_err(e, "not_found", "getattr", "{s:s, s:s}", "name", "inc",
	    "key", "k");
	e2e_stop(e);
}
END_TEST

/* E8: attrs are gone once the child has exited. */
START_TEST(e2e_attrs_gone_after_exit)
{
	struct e2e	*e = e2e_start("empty.conf");	/* a fixture */

	e2e_ok(e, "find_or_open", "{s:s, s:o, s:s}", "name", "x",
	    "cmd", e2e_cmd("--exit-after-ms=300", NULL),
	    "restart", "temporary");
	e2e_ok(e, "setattr", "{s:s, s:{s:i}}", "name", "x", "attrs", "k", 1);
	ck_assert_int_eq(json_integer_value(get(e, "x", "k")), 1);
	ck_assert(e2e_wait_absent(e, "x", 3000));
	e2e_err(e, "not_found", "getattr", "{s:s, s:s}", "name", "x",
	    "key", "k");
	e2e_stop(e);
}
END_TEST

/* While stopping, the incarnation's attrs stay readable but not writable. */
START_TEST(e2e_attrs_while_stopping)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*a = e2e_client(e);
	json_t		*r;

	e2e_ok(e, "start_child", "{s:s, s:o, s:{s:s, s:i}}", "name", "s",
	    "cmd", e2e_cmd("--ignore-term", e2e_ready_arg(e, "s"), NULL),
	    "shutdown", "signal", "TERM", "timeout_ms", 1000);
	e2e_wait_ready(e, "s");
	e2e_ok(e, "setattr", "{s:s, s:{s:i}}", "name", "s", "attrs", "k", 1);
	e2e_send_line(a, "{\"op\":\"terminate_child\",\"name\":\"s\"}");
	ck_assert(e2e_wait_state(e, "s", "stopping", 3000));
	ck_assert_int_eq(json_integer_value(get(e, "s", "k")), 1);
	r = e2e_ok(e, "info", "{s:s}", "name", "s");
	ck_assert_int_eq(e2e_int(e2e_get(r, "attrs"), "k"), 1);
	r = e2e_err(e, "not_running", "setattr", "{s:s, s:{s:i}}",
	    "name", "s", "attrs", "k", 2);
	ck_assert_str_eq(e2e_str(r, "state"), "stopping");
	e2e_err(e, "not_running", "increment", "{s:s, s:s}", "name", "s",
	    "key", "k");
	e2e_err(e, "not_running", "delattr", "{s:s, s:s}", "name", "s",
	    "key", "k");
	r = e2e_recv(a, 5000);
	ck_assert(json_is_true(json_object_get(r, "ok")));
	e2e_stop(e);
}
END_TEST

/* A child writes its own attrs through GTD_SOCKET and GTD_NAME. */
START_TEST(e2e_attrs_set_by_child)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*pidf = e2e_path(e, "pid");
	json_t		*v;
	pid_t		 pid;

	pid = e2e_spawn(e, "self", "--setattr=port=8080",
	    "--setattr=meta={\"tags\":[\"a\",\"b\"]}", "--setattr=hits=0",
	    "--incr=hits", "--incr=hits", e2e_fmt(e, "--pidfile=%s", pidf),
	    NULL);
	ck_assert_int_eq(e2e_read_pid(e, pidf, 5000), pid);
	ck_assert_int_eq(json_integer_value(get(e, "self", "port")), 8080);
	v = json_object_get(get(e, "self", "meta"), "tags");
	ck_assert_str_eq(json_string_value(json_array_get(v, 1)), "b");
	ck_assert_int_eq(json_integer_value(get(e, "self", "hits")), 2);
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_increment)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*r;

	e2e_spawn(e, "n", NULL);
	e2e_ok(e, "setattr", "{s:s, s:{s:i}}", "name", "n", "attrs", "c", 5);
	r = e2e_ok(e, "increment", "{s:s, s:s}", "name", "n", "key", "c");
	ck_assert_int_eq(e2e_int(r, "value"), 6);
	r = e2e_ok(e, "increment", "{s:s, s:s, s:i}", "name", "n", "key", "c",
	    "by", 10);
	ck_assert_int_eq(e2e_int(r, "value"), 16);
	r = e2e_ok(e, "increment", "{s:s, s:s, s:i}", "name", "n", "key", "c",
	    "by", -20);
	ck_assert_int_eq(e2e_int(r, "value"), -4);
	ck_assert_int_eq(json_integer_value(get(e, "n", "c")), -4);
	/* missing key: not_found without default, default + by with it */
	e2e_err(e, "not_found", "increment", "{s:s, s:s}", "name", "n",
	    "key", "new");
	e2e_err(e, "not_found", "getattr", "{s:s, s:s}", "name", "n",
	    "key", "new");
	r = e2e_ok(e, "increment", "{s:s, s:s, s:i, s:i}", "name", "n",
	    "key", "new", "by", 5, "default", 10);
	ck_assert_int_eq(e2e_int(r, "value"), 15);
	/* default is ignored once the key exists */
	r = e2e_ok(e, "increment", "{s:s, s:s, s:i}", "name", "n",
	    "key", "new", "default", 100);
	ck_assert_int_eq(e2e_int(r, "value"), 16);
	r = e2e_ok(e, "increment", "{s:s, s:s, s:i}", "name", "n",
	    "key", "zero", "default", 0);
	ck_assert_int_eq(e2e_int(r, "value"), 1);
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_increment_not_integer)
{
	static const char *const vals[] = { "\"7\"", "1.5", "true", "null",
	    "[1]", "{}", NULL };
	struct e2e	*e = e2e_start(NULL);
	json_t		*v;
	int		 i;

	e2e_spawn(e, "n", NULL);
	for (i = 0; vals[i] != NULL; i++) {
		v = json_loads(vals[i], JSON_DECODE_ANY, NULL);
		e2e_ok(e, "setattr", "{s:s, s:{s:O}}", "name", "n",
		    "attrs", "k", v);
		e2e_err(e, "not_integer", "increment", "{s:s, s:s}",
		    "name", "n", "key", "k");
		ck_assert_msg(json_equal(get(e, "n", "k"), v),
		    "increment changed %s", vals[i]);
		json_decref(v);
	}
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_increment_overflow)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*r;

	e2e_spawn(e, "n", NULL);
	e2e_ok(e, "setattr", "{s:s, s:{s:I, s:I}}", "name", "n", "attrs",
	    "max", (json_int_t)INT64_MAX - 1, "min", (json_int_t)INT64_MIN);
	r = e2e_ok(e, "increment", "{s:s, s:s}", "name", "n", "key", "max");
	ck_assert(e2e_int(r, "value") == INT64_MAX);
	e2e_err(e, "overflow", "increment", "{s:s, s:s}", "name", "n",
	    "key", "max");
	ck_assert(json_integer_value(get(e, "n", "max")) == INT64_MAX);
	e2e_err(e, "overflow", "increment", "{s:s, s:s, s:i}", "name", "n",
	    "key", "min", "by", -1);
	ck_assert(json_integer_value(get(e, "n", "min")) == INT64_MIN);
	e2e_err(e, "overflow", "increment", "{s:s, s:s, s:I}", "name", "n",
	    "key", "min", "by", (json_int_t)INT64_MIN);
	r = e2e_ok(e, "increment", "{s:s, s:s, s:I}", "name", "n",
	    "key", "min", "by", (json_int_t)INT64_MAX);
	ck_assert_int_eq(e2e_int(r, "value"), -1);
	e2e_err(e, "overflow", "increment", "{s:s, s:s, s:I}", "name", "n",
	    "key", "fresh", "default", (json_int_t)INT64_MAX);
	e2e_err(e, "not_found", "getattr", "{s:s, s:s}", "name", "n",
	    "key", "fresh");
	e2e_stop(e);
}
END_TEST

/* max_attrs; a refused setattr changes nothing. */
START_TEST(e2e_attrs_limit)
{
	struct e2e	*e = e2e_start("{\"max_attrs\": 3}");
	json_t		*r;

	e2e_spawn(e, "l", NULL);
	e2e_ok(e, "setattr", "{s:s, s:{s:i, s:i}}", "name", "l",
	    "attrs", "a", 1, "b", 2);
	r = e2e_err(e, "limit", "setattr", "{s:s, s:{s:i, s:i}}", "name", "l",
	    "attrs", "c", 3, "d", 4);
	ck_assert_str_eq(e2e_str(r, "limit"), "max_attrs");
	e2e_err(e, "not_found", "getattr", "{s:s, s:s}", "name", "l",
	    "key", "c");
	e2e_ok(e, "setattr", "{s:s, s:{s:i}}", "name", "l", "attrs", "c", 3);
	e2e_ok(e, "setattr", "{s:s, s:{s:i}}", "name", "l", "attrs", "a", 9);
	r = e2e_err(e, "limit", "increment", "{s:s, s:s, s:i}", "name", "l",
	    "key", "d", "default", 0);
	ck_assert_str_eq(e2e_str(r, "limit"), "max_attrs");
	e2e_ok(e, "increment", "{s:s, s:s}", "name", "l", "key", "a");
	e2e_ok(e, "delattr", "{s:s, s:s}", "name", "l", "key", "b");
	e2e_ok(e, "setattr", "{s:s, s:{s:i}}", "name", "l", "attrs", "d", 4);
	e2e_stop(e);
}
END_TEST

/* getattr wait_ms waits for the key without blocking anyone else. */
START_TEST(e2e_getattr_wait)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*a = e2e_client(e);
	json_t		*r;
	long		 t0;

	e2e_spawn(e, "w", NULL);
	t0 = e2e_now_ms();
	e2e_send_line(a, "{\"id\":1,\"op\":\"getattr\",\"name\":\"w\","
	    "\"key\":\"late\",\"wait_ms\":5000}");
	e2e_ok(e, "ping", NULL);
	ck_assert_ptr_null(e2e_recv_line(a, 0));
	e2e_ok(e, "setattr", "{s:s, s:{s:s}}", "name", "w", "attrs",
	    "late", "here");
	r = e2e_recv(a, 5000);
	ck_assert_msg(json_is_true(json_object_get(r, "ok")), "%s",
	    e2e_dump(e, r));
	ck_assert_str_eq(e2e_str(r, "value"), "here");
	ck_assert_msg(e2e_now_ms() - t0 < 4000, "waited for the deadline");
	/* nobody sets it: not_found after wait_ms */
	t0 = e2e_now_ms();
	r = e2e_cerr(a, "not_found", "getattr", "{s:s, s:s, s:i}",
	    "name", "w", "key", "never", "wait_ms", 300);
	ck_assert_msg(e2e_now_ms() - t0 >= 250, "wait_ms not honoured");
	e2e_stop(e);
}
END_TEST

Suite *
e2e_attrs_suite(void)
{
	Suite	*s = suite_create("e2e_attrs");
	TCase	*tc;

	tc = tcase_create("attrs");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_attrs_roundtrip);
	tcase_add_test(tc, e2e_attrs_merge);
	tcase_add_test(tc, e2e_attrs_errors);
	tcase_add_test(tc, e2e_delattr);
	tcase_add_test(tc, e2e_attrs_per_incarnation);
	tcase_add_test(tc, e2e_attrs_gone_after_exit);
	tcase_add_test(tc, e2e_attrs_while_stopping);
	tcase_add_test(tc, e2e_attrs_set_by_child);
	tcase_add_test(tc, e2e_attrs_limit);
	tcase_add_test(tc, e2e_getattr_wait);
	suite_add_tcase(s, tc);

	tc = tcase_create("increment");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_increment);
	tcase_add_test(tc, e2e_increment_not_integer);
	tcase_add_test(tc, e2e_increment_overflow);
	suite_add_tcase(s, tc);
	return (s);
}
