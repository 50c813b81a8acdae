/* SPDX-License-Identifier: MIT */
/*
 * check_e2e_framing: the wire protocol (protocol §1): lines, pipelining
 * and reply order, id echo, bad_json, too_big, unknown_op, the envelope's
 * "op", strict arguments, blank lines, and connections that wait or go
 * away.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "harness.h"

#define PIPELINE_N	200

/*
 * One request line per op of the Foundation with valid arguments plus
 * "bogus": each must get bad_request with field "bogus" and do nothing.
 */
static const char *const strict_lines[] = {
	"{\"op\":\"hello\",\"bogus\":1}",
	"{\"op\":\"ping\",\"bogus\":1}",
	"{\"op\":\"find\",\"name\":\"c\",\"bogus\":1}",
	"{\"op\":\"find_or_open\",\"name\":\"n1\",\"cmd\":[\"/bin/true\"],"
	    "\"bogus\":1}",
	"{\"op\":\"start_child\",\"name\":\"n2\",\"cmd\":[\"/bin/true\"],"
	    "\"bogus\":1}",
	"{\"op\":\"terminate_child\",\"name\":\"c\",\"bogus\":1}",
	"{\"op\":\"restart_child\",\"name\":\"c\",\"bogus\":1}",
	"{\"op\":\"delete_child\",\"name\":\"c\",\"bogus\":1}",
	"{\"op\":\"terminate_and_delete\",\"name\":\"c\",\"bogus\":1}",
	"{\"op\":\"which_children\",\"bogus\":1}",
	"{\"op\":\"count_children\",\"bogus\":1}",
	"{\"op\":\"list\",\"bogus\":1}",
	"{\"op\":\"info\",\"name\":\"c\",\"bogus\":1}",
	"{\"op\":\"get_childspec\",\"name\":\"c\",\"bogus\":1}",
	"{\"op\":\"check_childspec\",\"name\":\"n3\",\"cmd\":[\"/bin/true\"],"
	    "\"bogus\":1}",
	"{\"op\":\"setattr\",\"name\":\"c\",\"attrs\":{\"k\":1},\"bogus\":1}",
	"{\"op\":\"getattr\",\"name\":\"c\",\"key\":\"k\",\"bogus\":1}",
	"{\"op\":\"delattr\",\"name\":\"c\",\"key\":\"k\",\"bogus\":1}",
	"{\"op\":\"increment\",\"name\":\"c\",\"key\":\"k\",\"bogus\":1}",
	"{\"op\":\"stats\",\"bogus\":1}",
	"{\"op\":\"shutdown\",\"bogus\":1}",
	NULL
};

/* {args, field}: a missing or mistyped argument names its field. */
static const char *const type_lines[][2] = {
	{ "{\"op\":\"find\"}", "name" },
	{ "{\"op\":\"find\",\"name\":5}", "name" },
	{ "{\"op\":\"info\",\"name\":null}", "name" },
	{ "{\"op\":\"setattr\",\"name\":\"c\",\"attrs\":\"x\"}", "attrs" },
	{ "{\"op\":\"setattr\",\"name\":\"c\"}", "attrs" },
	{ "{\"op\":\"getattr\",\"name\":\"c\",\"key\":1}", "key" },
	{ "{\"op\":\"increment\",\"name\":\"c\",\"key\":\"k\",\"by\":\"1\"}",
	    "by" },
	{ "{\"op\":\"increment\",\"name\":\"c\",\"key\":\"k\","
	    "\"default\":1.5}", "default" },
	{ "{\"op\":\"which_children\",\"state\":5}", "state" },
	{ "{\"op\":\"list\",\"keys\":\"k\"}", "keys" },
	{ "{\"op\":\"list\",\"keys\":[1]}", "keys.0" },
	{ "{\"op\":\"terminate_child\",\"name\":\"c\",\"timeout_ms\":\"x\"}",
	    "timeout_ms" },
	{ "{\"op\":\"start_child\",\"name\":\"n\",\"cmd\":[\"/bin/true\"],"
	    "\"wait\":\"yes\"}", "wait" },
	{ "{\"op\":\"find_or_open\",\"name\":\"n\",\"cmd\":[\"/bin/true\"],"
	    "\"timeout_ms\":\"soon\"}", "timeout_ms" },
	{ NULL, NULL }
};

START_TEST(e2e_pipelining)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*c = e2e_main(e);
	json_t		*ids[PIPELINE_N], *req, *r;
	static const char *const ops[] = { "ping", "hello", "find", "nope" };
	char		*buf = NULL, *line;
	size_t		 len = 0, n;
	int		 i;

	e2e_spawn(e, "p", NULL);
	for (i = 0; i < PIPELINE_N; i++) {
		switch (i % 4) {
		case 0:
			ids[i] = json_integer(i);
			break;
		case 1:
			ids[i] = json_sprintf("s%d", i);
			break;
		case 2:
			ids[i] = json_pack("{s:i, s:[b]}", "n", i, "a", 1);
			break;
		default:
			ids[i] = json_pack("[i, n]", i);
			break;
		}
		req = json_pack("{s:O, s:s}", "id", ids[i], "op", ops[i % 4]);
		if (i % 4 == 2)
			json_object_set_new(req, "name",
			    json_string(i % 8 == 2 ? "p" : "absent"));
		line = json_dumps(req, JSON_COMPACT);
		n = strlen(line);
		buf = realloc(buf, len + n + 1);
		memcpy(buf + len, line, n);
		buf[len + n] = '\n';
		len += n + 1;
		free(line);
		json_decref(req);
	}
	ck_assert_uint_eq(e2e_send_raw(c, buf, len), len);	/* one write */
	free(buf);
	for (i = 0; i < PIPELINE_N; i++) {
		r = e2e_recv(c, 5000);
		ck_assert_msg(json_equal(json_object_get(r, "id"), ids[i]),
		    "reply %d out of order: %s", i, e2e_dump(e, r));
		if (i % 4 == 3)
			ck_assert_str_eq(e2e_str(r, "error"), "unknown_op");
		else if (i % 8 == 6)
			ck_assert_str_eq(e2e_str(r, "error"), "not_found");
		else
			ck_assert_msg(json_is_true(json_object_get(r, "ok")),
			    "reply %d: %s", i, e2e_dump(e, r));
		json_decref(ids[i]);
	}
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_id_echo)
{
	static const char *const idtexts[] = { "\"x\"", "0", "-1", "1.5",
	    "true", "null", "{\"a\":[1,{\"b\":2}]}", "[1,2]", "\"\\u00e9\"",
	    "9007199254740993", NULL };
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*c = e2e_main(e);
	json_t		*want, *r;
	int		 i;

	for (i = 0; idtexts[i] != NULL; i++) {
		want = json_loads(idtexts[i], JSON_DECODE_ANY, NULL);
		ck_assert_ptr_nonnull(want);
		e2e_send_line(c, e2e_fmt(e, "{\"id\":%s,\"op\":\"ping\"}",
		    idtexts[i]));
		r = e2e_recv(c, 5000);
		ck_assert_msg(json_is_true(json_object_get(r, "ok")), "%s",
		    e2e_dump(e, r));
		ck_assert_msg(json_equal(json_object_get(r, "id"), want),
		    "id %s not echoed: %s", idtexts[i], e2e_dump(e, r));
		json_decref(want);
	}
	/* Errors echo the id too. */
	e2e_send_line(c, "{\"id\":\"e\",\"op\":\"nope\"}");
	r = e2e_recv(c, 5000);
	ck_assert_str_eq(e2e_str(r, "id"), "e");
	/* No id, no id in the reply. */
	e2e_send_line(c, "{\"op\":\"ping\"}");
	r = e2e_recv(c, 5000);
	ck_assert_msg(json_object_get(r, "id") == NULL, "id invented: %s",
	    e2e_dump(e, r));
	e2e_stop(e);
}
END_TEST

/* Each is not a JSON object: bad_json, and the connection stays open. */
START_TEST(e2e_bad_json_keeps_connection)
{
	static const char *const bad[] = { "{bad", "[1,2]", "42",
	    "\"op\"", "null", "{\"op\":\"ping\"", "{\"op\":\"ping\"} x",
	    "{\"op\":\"ping\",\"op\":\"ping\"}", "{\"op\":\"p\xff\"}", NULL };
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*c = e2e_main(e);
	json_t		*r;
	char		 deep[300];
	int		 i;

	for (i = 0; bad[i] != NULL; i++) {
		e2e_send_line(c, bad[i]);
		r = e2e_recv(c, 5000);
		ck_assert_msg(json_is_false(json_object_get(r, "ok")) &&
		    strcmp(e2e_str(r, "error"), "bad_json") == 0,
		    "%s -> %s", bad[i], e2e_dump(e, r));
		ck_assert(json_is_string(json_object_get(r, "message")));
		e2e_ok(e, "ping", NULL);
	}
	/* Nested deeper than 64 levels. */
	memset(deep, 0, sizeof deep);
	strcpy(deep, "{\"op\":\"ping\",\"id\":");
	for (i = 0; i < 100; i++)
		strcat(deep, "[");
	for (i = 0; i < 100; i++)
		strcat(deep, "]");
	strcat(deep, "}");
	e2e_send_line(c, deep);
	r = e2e_recv(c, 5000);
	ck_assert_msg(strcmp(e2e_str(r, "error"), "bad_json") == 0,
	    "100 levels: %s", e2e_dump(e, r));
	e2e_ok(e, "ping", NULL);
	e2e_stop(e);
}
END_TEST

/* A request before the long line is answered; then too_big, then EOF. */
START_TEST(e2e_too_big_closes)
{
	struct e2e	*e = e2e_start("{\"max_request_bytes\": 4096}");
	struct e2e_conn	*c = e2e_client(e);
	json_t		*r;
	char		*big;
	size_t		 n;

	n = 5000;
	big = malloc(n + 64);
	n = snprintf(big, n + 64, "{\"id\":1,\"op\":\"ping\"}\n{\"id\":2,"
	    "\"op\":\"ping\",\"pad\":\"");
	memset(big + n, 'x', 5000);
	n += 5000;
	n += snprintf(big + n, 64, "\"}\n");
	e2e_send_raw(c, big, n);
	free(big);
	r = e2e_recv(c, 5000);
	ck_assert_int_eq(e2e_int(r, "id"), 1);
	ck_assert(json_is_true(json_object_get(r, "ok")));
	r = e2e_recv(c, 5000);
	ck_assert_msg(strcmp(e2e_str(r, "error"), "too_big") == 0, "%s",
	    e2e_dump(e, r));
	ck_assert(e2e_closed(c, 5000));
	e2e_ok(e, "ping", NULL);		/* gtd itself is fine */
	e2e_stop(e);
}
END_TEST

/* Over the limit without any newline: gtd must not wait for one. */
START_TEST(e2e_too_big_without_newline)
{
	struct e2e	*e = e2e_start("{\"max_request_bytes\": 4096}");
	struct e2e_conn	*c = e2e_client(e);
	json_t		*r;
	char		 big[6000];

	memset(big, ' ', sizeof big);
	big[0] = '{';
	e2e_send_raw(c, big, sizeof big);
	r = e2e_recv(c, 5000);
	ck_assert_msg(strcmp(e2e_str(r, "error"), "too_big") == 0, "%s",
	    e2e_dump(e, r));
	ck_assert(e2e_closed(c, 5000));
	e2e_ok(e, "ping", NULL);
	e2e_stop(e);
}
END_TEST

/* A line of exactly max_request_bytes (newline not counted) is fine. */
START_TEST(e2e_max_line_accepted)
{
	struct e2e	*e = e2e_start("{\"max_request_bytes\": 4096}");
	struct e2e_conn	*c = e2e_main(e);
	char		 line[4097];
	json_t		*r;
	int		 len;

	for (len = 4095; len <= 4096; len++) {
		memset(line, ' ', sizeof line);
		memcpy(line, "{\"id\":9,\"op\":\"ping\"", 19);
		line[len - 1] = '}';
		line[len] = '\0';
		e2e_send_line(c, line);
		r = e2e_recv(c, 5000);
		ck_assert_msg(json_is_true(json_object_get(r, "ok")),
		    "line of %d bytes: %s", len, e2e_dump(e, r));
	}
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_unknown_op)
{
	struct e2e	*e = e2e_start(NULL);

	e2e_err(e, "unknown_op", "frobnicate", NULL);
	e2e_err(e, "unknown_op", "PING", NULL);		/* exact names */
	e2e_err(e, "unknown_op", "pin", NULL);		/* no prefixes */
	e2e_err(e, "unknown_op", "", NULL);
	e2e_ok(e, "ping", NULL);
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_missing_op)
{
	static const char *const lines[] = { "{\"id\":1}",
	    "{\"id\":1,\"op\":42}", "{\"id\":1,\"op\":null}",
	    "{\"id\":1,\"op\":[\"ping\"]}", "{}", NULL };
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*c = e2e_main(e);
	json_t		*r;
	int		 i;

	for (i = 0; lines[i] != NULL; i++) {
		e2e_send_line(c, lines[i]);
		r = e2e_recv(c, 5000);
		ck_assert_msg(json_is_false(json_object_get(r, "ok")) &&
		    strcmp(e2e_str(r, "error"), "bad_request") == 0 &&
		    json_is_string(json_object_get(r, "field")) &&
		    strcmp(e2e_str(r, "field"), "op") == 0,
		    "%s -> %s", lines[i], e2e_dump(e, r));
		if (i < 4)
			ck_assert_int_eq(e2e_int(r, "id"), 1);
	}
	e2e_ok(e, "ping", NULL);
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_strict_arguments)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*c = e2e_main(e);
	const char	*bad = "";
	json_t		*r, *field;
	pid_t		 pid;
	int		 i;

	pid = e2e_spawn(e, "c", NULL);
	e2e_ok(e, "setattr", "{s:s, s:{s:i}}", "name", "c", "attrs", "k", 1);
	for (i = 0; strict_lines[i] != NULL; i++) {
		e2e_send_line(c, strict_lines[i]);
		r = e2e_recv(c, 5000);
		field = json_object_get(r, "field");
		if (!json_is_false(json_object_get(r, "ok")) ||
		    strcmp(e2e_str(r, "error"), "bad_request") != 0 ||
		    !json_is_string(field) ||
		    strcmp(json_string_value(field), "bogus") != 0)
			bad = e2e_fmt(e, "%s\n%s -> %s", bad, strict_lines[i],
			    e2e_dump(e, r));
	}
	ck_assert_msg(*bad == '\0', "%s", bad);
	/* Nothing happened: no new rows, c untouched, gtd still up. */
	ck_assert_int_eq(e2e_int(e2e_ok(e, "find", "{s:s}", "name", "c"),
	    "pid"), pid);
	ck_assert_int_eq(e2e_int(e2e_ok(e, "getattr", "{s:s, s:s}",
	    "name", "c", "key", "k"), "value"), 1);
	ck_assert_int_eq(e2e_int(e2e_ok(e, "count_children", NULL),
	    "specs"), 1);
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_argument_types)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*c = e2e_main(e);
	const char	*bad = "";
	json_t		*r, *field;
	int		 i;

	e2e_spawn(e, "c", NULL);
	for (i = 0; type_lines[i][0] != NULL; i++) {
		e2e_send_line(c, type_lines[i][0]);
		r = e2e_recv(c, 5000);
		field = json_object_get(r, "field");
		if (!json_is_false(json_object_get(r, "ok")) ||
		    strcmp(e2e_str(r, "error"), "bad_request") != 0 ||
		    !json_is_string(field) ||
		    strcmp(json_string_value(field), type_lines[i][1]) != 0)
			bad = e2e_fmt(e, "%s\n%s -> %s (want field %s)", bad,
			    type_lines[i][0], e2e_dump(e, r), type_lines[i][1]);
	}
	ck_assert_msg(*bad == '\0', "%s", bad);
	ck_assert_int_eq(e2e_int(e2e_ok(e, "count_children", NULL),
	    "specs"), 1);
	e2e_stop(e);
}
END_TEST

/* Blank lines get no reply; \r\n is fine. */
START_TEST(e2e_blank_lines)
{
	static const char	 in[] = "\n   \n\t\n"
	    "{\"id\":7,\"op\":\"ping\"}\n"
	    "\n{\"id\":8,\"op\":\"ping\"}\r\n \r\n{\"id\":9,\"op\":\"ping\"}\n";
	struct e2e		*e = e2e_start(NULL);
	struct e2e_conn		*c = e2e_main(e);
	json_t			*r;
	int			 id;

	e2e_send_raw(c, in, sizeof in - 1);
	for (id = 7; id <= 9; id++) {
		r = e2e_recv(c, 5000);
		ck_assert_msg(json_is_integer(json_object_get(r, "id")) &&
		    e2e_int(r, "id") == id && json_is_true(json_object_get(r,
		    "ok")), "want ping %d: %s", id, e2e_dump(e, r));
	}
	e2e_send_line(c, "{\"id\":10,\"op\":\"ping\"}");
	ck_assert_int_eq(e2e_int(e2e_recv(c, 5000), "id"), 10);
	e2e_stop(e);
}
END_TEST

/* A request split over several writes. */
START_TEST(e2e_split_request)
{
	static const char	 rest[] = "ng\"}\n{\"id\":4,\"op\":\"ping\"}\n";
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*c = e2e_main(e);
	struct e2e_conn	*b = e2e_client(e);
	json_t		*r;

	e2e_send_raw(c, "{\"id\":", 6);
	e2e_cok(b, "ping", NULL);
	e2e_send_raw(c, "3,\"op\":\"pi", 10);
	e2e_cok(b, "ping", NULL);
	ck_assert_ptr_null(e2e_recv_line(c, 0));
	e2e_send_raw(c, rest, strlen(rest));
	r = e2e_recv(c, 5000);
	ck_assert_int_eq(e2e_int(r, "id"), 3);
	r = e2e_recv(c, 5000);
	ck_assert_int_eq(e2e_int(r, "id"), 4);
	e2e_stop(e);
}
END_TEST

/*
 * A waiting request delays the requests behind it on its connection only:
 * another connection is answered meanwhile, and the replies come in order.
 */
START_TEST(e2e_waiting_request_order)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*a = e2e_client(e);
	static const char in[] = "{\"id\":1,\"op\":\"terminate_child\","
	    "\"name\":\"slow\"}\n{\"id\":2,\"op\":\"find\",\"name\":\"slow\"}\n"
	    "{\"id\":3,\"op\":\"ping\"}\n";
	json_t		*r;
	long		 t0;

	e2e_ok(e, "start_child", "{s:s, s:o, s:{s:s, s:i}}", "name", "slow",
	    "cmd", e2e_cmd("--ignore-term", e2e_ready_arg(e, "slow"), NULL),
	    "shutdown", "signal", "TERM", "timeout_ms", 1000);
	e2e_wait_ready(e, "slow");
	t0 = e2e_now_ms();
	e2e_send_raw(a, in, sizeof in - 1);
	ck_assert(e2e_wait_state(e, "slow", "stopping", 900));
	e2e_ok(e, "ping", NULL);
	ck_assert_msg(e2e_now_ms() - t0 < 900, "main connection delayed");
	ck_assert_msg(e2e_recv_line(a, 0) == NULL,
	    "terminate_child replied before the reap");
	r = e2e_recv(a, 5000);
	ck_assert_int_eq(e2e_int(r, "id"), 1);
	ck_assert_str_eq(e2e_str(e2e_get(r, "reason"), "signal"), "SIGKILL");
	ck_assert_msg(e2e_now_ms() - t0 >= 900, "SIGKILL before timeout_ms");
	r = e2e_recv(a, 5000);
	ck_assert_int_eq(e2e_int(r, "id"), 2);
	ck_assert_str_eq(e2e_str(r, "error"), "not_found");
	ck_assert_str_eq(e2e_str(r, "state"), "stopped");
	r = e2e_recv(a, 5000);
	ck_assert_int_eq(e2e_int(r, "id"), 3);
	e2e_stop(e);
}
END_TEST

/* The client goes away while its request waits: gtd carries on. */
START_TEST(e2e_disconnect_while_waiting)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*a = e2e_client(e);
	pid_t		 pid;

	pid = (pid_t)e2e_int(e2e_ok(e, "start_child",
	    "{s:s, s:o, s:{s:s, s:i}}", "name", "slow",
	    "cmd", e2e_cmd("--ignore-term", e2e_ready_arg(e, "slow"), NULL),
	    "shutdown", "signal", "TERM", "timeout_ms", 300), "pid");
	e2e_wait_ready(e, "slow");
	e2e_send_line(a, "{\"op\":\"terminate_child\",\"name\":\"slow\"}");
	ck_assert(e2e_wait_state(e, "slow", "stopping", 2000));
	e2e_conn_close(a);
	ck_assert(e2e_wait_state(e, "slow", "stopped", 3000));
	ck_assert(e2e_wait_dead(pid, 1000));
	e2e_ok(e, "ping", NULL);
	e2e_stop(e);
}
END_TEST

/* A client that half-closes after its requests still gets every reply. */
START_TEST(e2e_half_close)
{
	static const char	 in[] = "{\"id\":1,\"op\":\"ping\"}\n"
	    "{\"id\":2,\"op\":\"hello\"}\n{\"id\":3,\"op\":\"ping\"}\n";
	struct e2e		*e = e2e_start(NULL);
	struct e2e_conn		*a = e2e_client(e);
	int			 id;

	e2e_send_raw(a, in, sizeof in - 1);
	ck_assert_int_eq(shutdown(e2e_conn_fd(a), SHUT_WR), 0);
	for (id = 1; id <= 3; id++)
		ck_assert_int_eq(e2e_int(e2e_recv(a, 5000), "id"), id);
	ck_assert(e2e_closed(a, 5000));
	e2e_ok(e, "ping", NULL);
	e2e_stop(e);
}
END_TEST

Suite *
e2e_framing_suite(void)
{
	Suite	*s = suite_create("e2e_framing");
	TCase	*tc;

	tc = tcase_create("lines");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_pipelining);
	tcase_add_test(tc, e2e_id_echo);
	tcase_add_test(tc, e2e_bad_json_keeps_connection);
	tcase_add_test(tc, e2e_too_big_closes);
	tcase_add_test(tc, e2e_too_big_without_newline);
	tcase_add_test(tc, e2e_max_line_accepted);
	tcase_add_test(tc, e2e_blank_lines);
	tcase_add_test(tc, e2e_split_request);
	tcase_add_test(tc, e2e_half_close);
	suite_add_tcase(s, tc);

	tc = tcase_create("envelope");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_unknown_op);
	tcase_add_test(tc, e2e_missing_op);
	tcase_add_test(tc, e2e_strict_arguments);
	tcase_add_test(tc, e2e_argument_types);
	suite_add_tcase(s, tc);

	tc = tcase_create("waiting");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_waiting_request_order);
	tcase_add_test(tc, e2e_disconnect_while_waiting);
	suite_add_tcase(s, tc);
	return (s);
}
