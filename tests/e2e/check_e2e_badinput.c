/* SPDX-License-Identifier: MIT */
/*
 * check_e2e_badinput: the bad input catalogue.  Invalid JSON, non-objects,
 * deep nesting, huge strings, invalid UTF-8, NUL and newlines inside
 * names, wrong types for every childspec field, negative and huge
 * numbers, unknown ops and fields, names over the limit, 10k attrs on one
 * child, increment overflow, half-closed and reset connections and a
 * client that never reads.  Each gets a specific error (or a bounded
 * disconnect), and a bystander connection opened before the abuse is
 * still served after it, by the same gtd.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "harness.h"

/* One raw request line and what it must get. */
struct bad_line {
	const char	*line;
	const char	*error;		/* the error code */
	const char	*field;		/* NULL: no field expected */
};

/* Not JSON objects (protocol §1: bad_json, the connection stays open). */
static const struct bad_line not_json[] = {
	{ "{", "bad_json", NULL },
	{ "}", "bad_json", NULL },
	{ "{\"op\":\"ping\",}", "bad_json", NULL },
	{ "{'op':'ping'}", "bad_json", NULL },
	{ "{op:\"ping\"}", "bad_json", NULL },
	{ "{\"op\":\"ping\"}}", "bad_json", NULL },
	{ "{\"op\":\"ping\"} {\"op\":\"ping\"}", "bad_json", NULL },
	{ "[{\"op\":\"ping\"}]", "bad_json", NULL },
	{ "[]", "bad_json", NULL },
	{ "1", "bad_json", NULL },
	{ "-0.5e3", "bad_json", NULL },
	{ "\"ping\"", "bad_json", NULL },
	{ "true", "bad_json", NULL },
	{ "null", "bad_json", NULL },
	{ "{\"op\":NaN}", "bad_json", NULL },
	{ "{\"op\":Infinity}", "bad_json", NULL },
	{ "{\"op\":\"ping\",\"id\":01}", "bad_json", NULL },
	{ "{\"op\":\"ping\",\"id\":1.}", "bad_json", NULL },
	{ "{\"op\":\"ping\",\"id\":\"\\x41\"}", "bad_json", NULL },
	{ "{\"op\":\"ping\",\"id\":\"\t\"}", "bad_json", NULL },
	{ "\xef\xbb\xbf{\"op\":\"ping\"}", "bad_json", NULL },	/* BOM */
	/* Invalid UTF-8: raw bytes and escapes. */
	{ "{\"op\":\"ping\",\"id\":\"\xff\"}", "bad_json", NULL },
	{ "{\"op\":\"ping\",\"id\":\"\xc0\xaf\"}", "bad_json", NULL },
	{ "{\"op\":\"ping\",\"id\":\"\xed\xa0\x80\"}", "bad_json", NULL },
	{ "{\"op\":\"ping\",\"id\":\"\xf4\x90\x80\x80\"}", "bad_json", NULL },
	{ "{\"op\":\"ping\",\"id\":\"\xe2\x82\"}", "bad_json", NULL },
	{ "{\"op\":\"ping\",\"id\":\"\\ud800\"}", "bad_json", NULL },
	{ "{\"op\":\"ping\",\"id\":\"\\udc00x\"}", "bad_json", NULL },
	{ "{\"op\":\"find\",\"name\":\"a\xfe\"}", "bad_json", NULL },
	{ "{\"op\":\"setattr\",\"name\":\"a\",\"attrs\":{\"\x80\":1}}",
	    "bad_json", NULL },
	/* Integers jansson cannot hold. */
	{ "{\"op\":\"ping\",\"id\":9223372036854775808}", "bad_json", NULL },
	{ "{\"op\":\"ping\",\"id\":-9223372036854775809}", "bad_json", NULL },
	{ "{\"op\":\"getattr\",\"name\":\"a\",\"key\":\"k\",\"wait_ms\":"
	    "99999999999999999999999}", "bad_json", NULL },
	/* A duplicate key is ambiguous. */
	{ "{\"op\":\"find\",\"name\":\"a\",\"name\":\"b\"}", "bad_json",
	    NULL },
	{ NULL, NULL, NULL }
};

/* The envelope, unknown ops and unknown arguments. */
static const struct bad_line envelope[] = {
	{ "{}", "bad_request", "op" },
	{ "{\"id\":1}", "bad_request", "op" },
	{ "{\"op\":null}", "bad_request", "op" },
	{ "{\"op\":1}", "bad_request", "op" },
	{ "{\"op\":[\"ping\"]}", "bad_request", "op" },
	{ "{\"op\":{\"name\":\"ping\"}}", "bad_request", "op" },
	{ "{\"op\":\"\"}", "unknown_op", NULL },
	{ "{\"op\":\"PING\"}", "unknown_op", NULL },
	{ "{\"op\":\"ping \"}", "unknown_op", NULL },
	{ "{\"op\":\" ping\"}", "unknown_op", NULL },
	{ "{\"op\":\"pin\"}", "unknown_op", NULL },
	{ "{\"op\":\"ping\\u0000\"}", "bad_json", NULL },	/* jansson */
	{ "{\"op\":\"ping\\n\"}", "unknown_op", NULL },
	{ "{\"op\":\"find_or_open_\"}", "unknown_op", NULL },
	{ "{\"op\":\"../ping\"}", "unknown_op", NULL },
	{ "{\"op\":\"ping\",\"x\":1}", "bad_request", "x" },
	{ "{\"op\":\"ping\",\"\":1}", "bad_request", "" },
	{ "{\"op\":\"hello\",\"ID\":1}", "bad_request", "ID" },
	{ "{\"op\":\"find\",\"name\":\"a\",\"Name\":\"a\"}", "bad_request",
	    "Name" },
	{ "{\"op\":\"stats\",\"op2\":\"x\"}", "bad_request", "op2" },
	{ NULL, NULL, NULL }
};

/*
 * Names and keys: types, NUL, lengths.  A NUL inside a string (\u0000)
 * is refused by the JSON parser already (bad_json), before any op sees
 * it, so no name or key can carry one.
 */
static const struct bad_line names[] = {
	{ "{\"op\":\"find\"}", "bad_request", "name" },
	{ "{\"op\":\"find\",\"name\":\"\"}", "bad_request", "name" },
	{ "{\"op\":\"find\",\"name\":null}", "bad_request", "name" },
	{ "{\"op\":\"find\",\"name\":7}", "bad_request", "name" },
	{ "{\"op\":\"find\",\"name\":true}", "bad_request", "name" },
	{ "{\"op\":\"find\",\"name\":[\"a\"]}", "bad_request", "name" },
	{ "{\"op\":\"find\",\"name\":{\"a\":1}}", "bad_request", "name" },
	{ "{\"op\":\"find\",\"name\":\"a\\u0000b\"}", "bad_json", NULL },
	{ "{\"op\":\"find\",\"name\":\"\\u0000\"}", "bad_json", NULL },
	{ "{\"op\":\"info\",\"name\":\"a\\u0000\"}", "bad_json", NULL },
	{ "{\"op\":\"start_child\",\"name\":\"a\\u0000b\",\"cmd\":"
	    "[\"/bin/true\"]}", "bad_json", NULL },
	{ "{\"op\":\"check_childspec\",\"name\":\"\",\"cmd\":[\"/bin/true\"]}",
	    "bad_request", "name" },
	{ "{\"op\":\"getattr\",\"name\":\"a\",\"key\":\"\"}", "bad_request",
	    "key" },
	{ "{\"op\":\"getattr\",\"name\":\"a\",\"key\":\"k\\u0000\"}",
	    "bad_json", NULL },
	{ "{\"op\":\"delattr\",\"name\":\"a\",\"key\":5}", "bad_request",
	    "key" },
	{ "{\"op\":\"increment\",\"name\":\"a\",\"key\":[]}", "bad_request",
	    "key" },
	{ NULL, NULL, NULL }
};

/*
 * Every childspec field with a wrong type or value, through
 * check_childspec (validation only, nothing starts): bad_request and the
 * dotted path of the offending key.
 */
static const struct bad_line spec_fields[] = {
	{ "\"name\":1", "bad_request", "name" },
	{ "\"name\":[\"x\"]", "bad_request", "name" },
	{ "\"cmd\":\"/bin/true\"", "bad_request", "cmd" },
	{ "\"cmd\":[]", "bad_request", "cmd" },
	{ "\"cmd\":[1]", "bad_request", "cmd.0" },
	{ "\"cmd\":[\"/bin/true\",null]", "bad_request", "cmd.1" },
	{ "\"cmd\":[\"\"]", "bad_request", "cmd" },
	{ "\"cmd\":[\"a\\u0000b\"]", "bad_json", NULL },	/* jansson */
	{ "\"args\":\"x\"", "bad_request", "args" },
	{ "\"args\":[{}]", "bad_request", "args.0" },
	{ "\"env\":[]", "bad_request", "env" },
	{ "\"env\":\"A=1\"", "bad_request", "env" },
	{ "\"env\":{\"A\":1}", "bad_request", "env.A" },
	/* null removes a variable of the defaults or template: valid. */
	{ "\"env\":{\"A\":[]}", "bad_request", "env.A" },
	{ "\"clear_env\":\"yes\"", "bad_request", "clear_env" },
	{ "\"clear_env\":1", "bad_request", "clear_env" },
	{ "\"cwd\":1", "bad_request", "cwd" },
	{ "\"cwd\":[]", "bad_request", "cwd" },
	{ "\"type\":1", "bad_request", "type" },
	{ "\"type\":\"boss\"", "bad_request", "type" },
	{ "\"restart\":true", "bad_request", "restart" },
	{ "\"restart\":\"always\"", "bad_request", "restart" },
	{ "\"success_exit_codes\":0", "bad_request", "success_exit_codes" },
	{ "\"success_exit_codes\":[\"0\"]", "bad_request",
	    "success_exit_codes.0" },
	{ "\"success_exit_codes\":[0,256]", "bad_request",
	    "success_exit_codes.1" },
	{ "\"success_exit_codes\":[-1]", "bad_request",
	    "success_exit_codes.0" },
	{ "\"restart_delay_ms\":\"100\"", "bad_request", "restart_delay_ms" },
	{ "\"restart_delay_ms\":-1", "bad_request", "restart_delay_ms" },
	{ "\"restart_delay_ms\":1.5", "bad_request", "restart_delay_ms" },
	{ "\"restart_delay_ms\":9223372036854775807", "bad_request",
	    "restart_delay_ms" },
	{ "\"restart_delay_ms\":1e300", "bad_request", "restart_delay_ms" },
	{ "\"backoff\":2", "bad_request", "backoff" },
	{ "\"backoff\":{\"factor\":\"2\"}", "bad_request", "backoff.factor" },
	{ "\"backoff\":{\"factor\":-1}", "bad_request", "backoff.factor" },
	{ "\"backoff\":{\"max_ms\":-1}", "bad_request", "backoff.max_ms" },
	{ "\"backoff\":{\"jitter\":2}", "bad_request", "backoff.jitter" },
	{ "\"backoff\":{\"reset_after_ms\":null}", "bad_request",
	    "backoff.reset_after_ms" },
	{ "\"backoff\":{\"bogus\":1}", "bad_request", "backoff.bogus" },
	{ "\"max_restarts\":-1", "bad_request", "max_restarts" },
	{ "\"max_restarts\":\"3\"", "bad_request", "max_restarts" },
	{ "\"max_restarts\":4294967297", "bad_request", "max_restarts" },
	{ "\"max_period_ms\":-5", "bad_request", "max_period_ms" },
	{ "\"on_give_up\":\"explode\"", "bad_request", "on_give_up" },
	{ "\"on_give_up\":0", "bad_request", "on_give_up" },
	{ "\"on_exit\":{}", "bad_request", "on_exit" },
	{ "\"on_exit\":[1]", "bad_request", "on_exit.0" },
	{ "\"on_exit\":[{\"action\":\"dance\"}]", "bad_request",
	    "on_exit.0.action" },
	{ "\"on_exit\":[{\"action\":\"restart\",\"upto\":-1}]", "bad_request",
	    "on_exit.0.upto" },
	{ "\"on_exit\":[{\"action\":\"restart\",\"delay_ms\":\"1\"}]",
	    "bad_request", "on_exit.0.delay_ms" },
	{ "\"on_exit\":[{\"action\":\"restart\",\"bogus\":1}]", "bad_request",
	    "on_exit.0.bogus" },
	{ "\"shutdown\":5", "bad_request", "shutdown" },
	{ "\"shutdown\":\"gently\"", "bad_request", "shutdown" },
	{ "\"shutdown\":{\"signal\":\"BOGUS\"}", "bad_request",
	    "shutdown.signal" },
	{ "\"shutdown\":{\"signal\":0}", "bad_request", "shutdown.signal" },
	{ "\"shutdown\":{\"signal\":-9}", "bad_request", "shutdown.signal" },
	{ "\"shutdown\":{\"signal\":65}", "bad_request", "shutdown.signal" },
	{ "\"shutdown\":{\"signal\":4294967311}", "bad_request",
	    "shutdown.signal" },
	{ "\"shutdown\":{\"timeout_ms\":-1}", "bad_request",
	    "shutdown.timeout_ms" },
	{ "\"shutdown\":{\"timeout_ms\":\"5\"}", "bad_request",
	    "shutdown.timeout_ms" },
	{ "\"shutdown\":{\"bogus\":1}", "bad_request", "shutdown.bogus" },
	{ "\"kill_group\":\"true\"", "bad_request", "kill_group" },
	{ "\"kill_group\":0", "bad_request", "kill_group" },
	{ "\"ready\":\"now\"", "bad_request", "ready" },
	{ "\"ready\":3", "bad_request", "ready" },
	{ "\"ready\":{\"fd\":\"3\"}", "bad_request", "ready.fd" },
	{ "\"ready\":{\"fd\":-1}", "bad_request", "ready.fd" },
	{ "\"ready\":{\"fd\":1}", "bad_request", "ready.fd" },
	{ "\"ready\":{\"fd\":2147483648}", "bad_request", "ready.fd" },
	{ "\"ready\":{\"fd\":3,\"x\":1}", "bad_request", "ready.x" },
	{ "\"ready_timeout_ms\":\"1\"", "bad_request", "ready_timeout_ms" },
	{ "\"ready_timeout_ms\":-1", "bad_request", "ready_timeout_ms" },
	{ "\"stdout\":1", "bad_request", "stdout" },
	{ "\"stdout\":\"syslog\"", "bad_request", "stdout" },
	{ "\"stdout\":{\"file\":1}", "bad_request", "stdout.file" },
	{ "\"stdout\":{\"file\":\"/tmp/x\",\"max_bytes\":-1}", "bad_request",
	    "stdout.max_bytes" },
	{ "\"stdout\":{\"file\":\"/tmp/x\",\"keep\":\"2\"}", "bad_request",
	    "stdout.keep" },
	{ "\"stderr\":[]", "bad_request", "stderr" },
	{ "\"stderr\":{\"path\":\"/tmp/x\"}", "bad_request", "stderr.path" },
	{ "\"attrs\":[]", "bad_request", "attrs" },
	{ "\"attrs\":\"k=v\"", "bad_request", "attrs" },
	{ "\"after_terminate\":\"/bin/true\"", "bad_request",
	    "after_terminate" },
	{ "\"after_terminate\":[2]", "bad_request", "after_terminate.0" },
	{ "\"hook_timeout_ms\":-1", "bad_request", "hook_timeout_ms" },
	{ "\"hook_timeout_ms\":true", "bad_request", "hook_timeout_ms" },
	{ "\"watchdog_ms\":-1", "bad_request", "watchdog_ms" },
	{ "\"user\":[]", "bad_request", "user" },
	{ "\"user\":\"no-such-user-gtd\"", "bad_request", "user" },
	{ "\"group\":{}", "bad_request", "group" },
	{ "\"group\":\"no-such-group-gtd\"", "bad_request", "group" },
	{ "\"umask\":-1", "bad_request", "umask" },
	{ "\"umask\":[]", "bad_request", "umask" },
	{ "\"nice\":100", "bad_request", "nice" },
	{ "\"nice\":\"low\"", "bad_request", "nice" },
	{ "\"rlimits\":[]", "bad_request", "rlimits" },
	{ "\"rlimits\":{\"bogus\":1}", "bad_request", "rlimits.bogus" },
	{ "\"rlimits\":{\"nofile\":-2}", "bad_request", "rlimits.nofile" },
	{ "\"rlimits\":{\"nofile\":\"many\"}", "bad_request",
	    "rlimits.nofile" },
	{ "\"template\":1", "bad_request", "template" },
	{ "\"template\":\"no-such-template\"", "bad_request", "template" },
	{ "\"bogus\":1", "bad_request", "bogus" },
	{ NULL, NULL, NULL }
};

/* Numbers out of range in op arguments. */
static const struct bad_line numbers[] = {
	{ "{\"op\":\"terminate_child\",\"pid\":0}", "bad_request", "pid" },
	{ "{\"op\":\"terminate_child\",\"pid\":-1}", "bad_request", "pid" },
	{ "{\"op\":\"terminate_child\",\"pid\":2147483648}", "bad_request",
	    "pid" },
	{ "{\"op\":\"terminate_child\",\"pid\":1.5}", "bad_request", "pid" },
	{ "{\"op\":\"terminate_child\",\"name\":\"a\",\"timeout_ms\":-2}",
	    "bad_request", "timeout_ms" },
	{ "{\"op\":\"terminate_child\",\"name\":\"a\",\"timeout_ms\":"
	    "9223372036854775807}", "bad_request", "timeout_ms" },
	{ "{\"op\":\"add_existing_child\",\"name\":\"a\",\"pid\":-5}",
	    "bad_request", "pid" },
	{ "{\"op\":\"add_existing_child\",\"name\":\"a\",\"pid\":0}",
	    "bad_request", "pid" },
	{ "{\"op\":\"getattr\",\"name\":\"a\",\"key\":\"k\",\"wait_ms\":-1}",
	    "bad_request", "wait_ms" },
	{ "{\"op\":\"getattr\",\"name\":\"a\",\"key\":\"k\",\"wait_ms\":"
	    "9223372036854775807}", "bad_request", "wait_ms" },
	{ "{\"op\":\"increment\",\"name\":\"a\",\"key\":\"k\",\"by\":1e3}",
	    "bad_request", "by" },
	{ "{\"op\":\"shutdown\",\"timeout_ms\":-7}", "bad_request",
	    "timeout_ms" },
	{ "{\"op\":\"signal\",\"name\":\"a\",\"signal\":-1}", "bad_request",
	    "signal" },
	{ "{\"op\":\"signal\",\"name\":\"a\",\"signal\":0}", "bad_request",
	    "signal" },
	{ "{\"op\":\"signal\",\"name\":\"a\",\"signal\":65}", "bad_request",
	    "signal" },
	{ "{\"op\":\"signal\",\"name\":\"a\",\"signal\":4294967305}",
	    "bad_request", "signal" },
	{ "{\"op\":\"signal\",\"name\":\"a\",\"signal\":\"SIGBOGUS\"}",
	    "bad_request", "signal" },
	{ "{\"op\":\"logs\",\"name\":\"a\",\"lines\":-1}", "bad_request",
	    "lines" },
	{ "{\"op\":\"subscribe\",\"since\":-1}", "bad_request", "since" },
	{ "{\"op\":\"query\",\"sql\":\"select 1\",\"max_rows\":-1}",
	    "bad_request", "max_rows" },
	{ "{\"op\":\"find_or_open\",\"name\":\"n\",\"cmd\":[\"/bin/true\"],"
	    "\"timeout_ms\":-3}", "bad_request", "timeout_ms" },
	{ "{\"op\":\"which_children\",\"state\":\"dead\"}", "bad_request",
	    "state" },
	{ NULL, NULL, NULL }
};

/* The connection that watches: opened first, served last. */
static struct e2e_conn *
bystander(struct e2e *e)
{
	struct e2e_conn	*b = e2e_client(e);

	e2e_cok(b, "ping", NULL);
	return (b);
}

/* gtd is the same process and still answers everyone. */
static void
still_serving(struct e2e *e, struct e2e_conn *b, pid_t pid)
{
	json_t	*r;

	ck_assert_int_eq(e2e_pid(e), pid);
	r = e2e_cok(b, "hello", NULL);
	ck_assert_int_eq(e2e_int(r, "pid"), pid);
	e2e_ok(e, "ping", NULL);
}

/* Send line on c; the reply must be error code with field (or none). */
static void
expect_error(struct e2e *e, struct e2e_conn *c, const char *line,
    const char *code, const char *field)
{
	json_t		*r, *f;
	const char	*msg;

	e2e_send_line(c, line);
	r = e2e_recv(c, 5000);
	ck_assert_msg(json_is_false(json_object_get(r, "ok")),
	    "%.200s -> %s: want error %s", line, e2e_dump(e, r), code);
	ck_assert_msg(strcmp(e2e_str(r, "error"), code) == 0,
	    "%.200s -> %s: want error %s", line, e2e_dump(e, r), code);
	msg = e2e_str(r, "message");
	ck_assert_msg(*msg != '\0' && strlen(msg) < 1024,
	    "%.200s -> message of %zu bytes", line, strlen(msg));
	f = json_object_get(r, "field");
	if (field == NULL)
		return;
	ck_assert_msg(json_is_string(f) && strcmp(json_string_value(f),
	    field) == 0, "%.200s -> %s: want field \"%s\"", line,
	    e2e_dump(e, r), field);
}

static void
run_table(const struct bad_line *t)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*b = bystander(e), *c = e2e_main(e);
	pid_t		 pid = e2e_pid(e);
	int		 i;

	e2e_spawn(e, "a", NULL);
	for (i = 0; t[i].line != NULL; i++) {
		expect_error(e, c, t[i].line, t[i].error, t[i].field);
		e2e_ok(e, "ping", NULL);	/* the connection stayed open */
	}
	/* Nothing was started, renamed or changed by any of it. */
	ck_assert_int_eq(json_array_size(e2e_get(e2e_ok(e, "which_children",
	    NULL), "children")), 1);
	ck_assert_str_eq(e2e_str(e2e_row(e, "a"), "state"), "running");
	still_serving(e, b, pid);
	e2e_stop(e);
}

START_TEST(bad_not_json)
{
	run_table(not_json);
}
END_TEST

START_TEST(bad_envelope)
{
	run_table(envelope);
}
END_TEST

START_TEST(bad_names)
{
	run_table(names);
}
END_TEST

START_TEST(bad_numbers)
{
	run_table(numbers);
}
END_TEST

/* Raw NUL bytes and a CR inside a line. */
START_TEST(bad_raw_bytes)
{
	static const char	 nul[] =
	    "{\"op\":\"find\",\"name\":\"a\0b\"}\n";
	static const char	 nul2[] = "{\"op\":\"ping\"}\0\n";
	struct e2e		*e = e2e_start(NULL);
	struct e2e_conn		*b = bystander(e), *c = e2e_client(e);
	pid_t			 pid = e2e_pid(e);
	json_t			*r;

	ck_assert_uint_eq(e2e_send_raw(c, nul, sizeof nul - 1),
	    sizeof nul - 1);
	r = e2e_recv(c, 5000);
	ck_assert_str_eq(e2e_str(r, "error"), "bad_json");
	ck_assert_uint_eq(e2e_send_raw(c, nul2, sizeof nul2 - 1),
	    sizeof nul2 - 1);
	r = e2e_recv(c, 5000);
	ck_assert_str_eq(e2e_str(r, "error"), "bad_json");
	/* CRLF framing: the CR is whitespace to JSON. */
	ck_assert_uint_eq(e2e_send_raw(c, "{\"op\":\"ping\",\"id\":7}\r\n", 22),
	    22);
	r = e2e_recv(c, 5000);
	ck_assert(json_is_true(json_object_get(r, "ok")));
	ck_assert_int_eq(e2e_int(r, "id"), 7);
	/* A lone CR, form feeds, vertical tabs: not JSON whitespace. */
	expect_error(e, c, "\f{\"op\":\"ping\"}", "bad_json", NULL);
	expect_error(e, c, "\v{\"op\":\"ping\"}", "bad_json", NULL);
	e2e_cok(c, "ping", NULL);
	still_serving(e, b, pid);
	e2e_stop(e);
}
END_TEST

/* Every childspec field, wrong: check_childspec names the field. */
START_TEST(bad_spec_fields)
{
	static const char	 pre[] = "{\"op\":\"check_childspec\",";
	struct e2e		*e = e2e_start(NULL);
	struct e2e_conn		*b = bystander(e), *c = e2e_main(e);
	pid_t			 pid = e2e_pid(e);
	const char		*line;
	int			 i;

	for (i = 0; spec_fields[i].line != NULL; i++) {
		/* The wrong field last, so it overrides the valid ones. */
		if (strncmp(spec_fields[i].line, "\"name\"", 6) == 0 ||
		    strncmp(spec_fields[i].line, "\"cmd\"", 5) == 0)
			line = e2e_fmt(e, "{\"op\":\"check_childspec\",%s%s}",
			    spec_fields[i].line, strncmp(spec_fields[i].line,
			    "\"name\"", 6) == 0 ? ",\"cmd\":[\"/bin/true\"]" :
			    ",\"name\":\"s\"");
		else
			line = e2e_fmt(e, "{\"op\":\"check_childspec\","
			    "\"name\":\"s\",\"cmd\":[\"/bin/true\"],%s}",
			    spec_fields[i].line);
		expect_error(e, c, line, spec_fields[i].error,
		    spec_fields[i].field);
		/* start_child refuses it the same way and starts nothing. */
		line = e2e_fmt(e, "{\"op\":\"start_child\",%s",
		    line + sizeof pre - 1);
		expect_error(e, c, line, spec_fields[i].error,
		    spec_fields[i].field);
	}
	ck_assert_int_eq(json_array_size(e2e_get(e2e_ok(e, "which_children",
	    NULL), "children")), 0);
	still_serving(e, b, pid);
	e2e_stop(e);
}
END_TEST

/* Nesting: at most 64 levels, in any position, arrays or objects. */
START_TEST(bad_deep_nesting)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*b = bystander(e), *c = e2e_main(e);
	pid_t		 pid = e2e_pid(e);
	size_t		 n = 200000, i, len;
	char		*s;
	json_t		*r;

	e2e_spawn(e, "a", NULL);
	/* 200k '[' in the id: refused before the parser recurses. */
	s = malloc(n * 2 + 64);
	len = sprintf(s, "{\"op\":\"ping\",\"id\":");
	memset(s + len, '[', n);
	memset(s + len + n, ']', n);
	strcpy(s + len + 2 * n, "}");
	expect_error(e, c, s, "bad_json", NULL);
	/* Unbalanced: 200k '{' and no end. */
	len = sprintf(s, "{\"op\":\"ping\",\"id\":");
	for (i = 0; i < n / 5; i++)
		memcpy(s + len + i * 5, "{\"a\":", 5);
	s[len + n] = '\0';
	expect_error(e, c, s, "bad_json", NULL);
	/* Brackets inside strings do not count. */
	len = sprintf(s, "{\"op\":\"ping\",\"id\":\"");
	memset(s + len, '[', 1000);
	strcpy(s + len + 1000, "\"}");
	e2e_send_line(c, s);
	r = e2e_recv(c, 5000);
	ck_assert(json_is_true(json_object_get(r, "ok")));
	free(s);
	/* 64 levels of attrs are kept and read back; 65 are not JSON. */
	s = malloc(4096);
	len = sprintf(s, "{\"op\":\"setattr\",\"name\":\"a\","
	    "\"attrs\":{\"k\":");
	for (i = 0; i < 62; i++)
		len += sprintf(s + len, "{\"k\":");
	len += sprintf(s + len, "1");
	for (i = 0; i < 62; i++)
		s[len++] = '}';
	strcpy(s + len, "}}");
	e2e_send_line(c, s);
	r = e2e_recv(c, 5000);
	ck_assert_msg(json_is_true(json_object_get(r, "ok")), "%s",
	    e2e_dump(e, r));
	r = e2e_ok(e, "getattr", "{s:s, s:s}", "name", "a", "key", "k");
	ck_assert(json_is_object(e2e_get(r, "value")));
	len = sprintf(s, "{\"op\":\"setattr\",\"name\":\"a\","
	    "\"attrs\":{\"k\":");
	for (i = 0; i < 64; i++)
		len += sprintf(s + len, "[");
	for (i = 0; i < 64; i++)
		s[len++] = ']';
	strcpy(s + len, "}}");
	expect_error(e, c, s, "bad_json", NULL);
	free(s);
	still_serving(e, b, pid);
	e2e_stop(e);
}
END_TEST

/* Huge strings: a name of 900 KiB, an id of 900 KiB, a 1 MiB line. */
START_TEST(bad_huge_strings)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*b = bystander(e), *c = e2e_main(e), *d;
	pid_t		 pid = e2e_pid(e);
	size_t		 n = 900 * 1024, len;
	char		*s;
	json_t		*r;

	s = malloc(n + 128);
	len = sprintf(s, "{\"op\":\"find\",\"name\":\"");
	memset(s + len, 'n', n);
	strcpy(s + len + n, "\"}");
	expect_error(e, c, s, "bad_request", "name");
	len = sprintf(s, "{\"op\":\"start_child\",\"cmd\":[\"/bin/true\"],"
	    "\"name\":\"");
	memset(s + len, 'n', n);
	strcpy(s + len + n, "\"}");
	expect_error(e, c, s, "bad_request", "name");
	/* A huge id is echoed (the line fit), whole. */
	len = sprintf(s, "{\"op\":\"ping\",\"id\":\"");
	memset(s + len, 'i', n);
	strcpy(s + len + n, "\"}");
	e2e_send_line(c, s);
	r = e2e_recv(c, 5000);
	ck_assert(json_is_true(json_object_get(r, "ok")));
	ck_assert_uint_eq(strlen(e2e_str(r, "id")), n);
	/* A huge error: the message stays short (expect_error checks). */
	len = sprintf(s, "{\"op\":\"");
	memset(s + len, 'o', n);
	strcpy(s + len + n, "\"}");
	expect_error(e, c, s, "unknown_op", NULL);
	len = sprintf(s, "{\"op\":\"ping\",\"");
	memset(s + len, 'k', n);
	strcpy(s + len + n, "\":1}");
	expect_error(e, c, s, "bad_request", NULL);
	free(s);
	/* One byte over max_request_bytes (1 MiB): too_big, then EOF. */
	d = e2e_client(e);
	n = 1024 * 1024 + 1;
	s = malloc(n + 2);
	memset(s, ' ', n);
	s[0] = '{';
	s[n] = '\n';
	e2e_send_raw(d, s, n + 1);
	free(s);
	r = e2e_recv(d, 5000);
	ck_assert_str_eq(e2e_str(r, "error"), "too_big");
	ck_assert(e2e_closed(d, 5000));
	still_serving(e, b, pid);
	e2e_stop(e);
}
END_TEST

/*
 * Names and keys at and over their 1024-byte limits, and names with
 * newlines and control characters: the reply is still one line, and
 * the name is an exact key (no trimming, no folding).
 */
START_TEST(bad_name_limits)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*b = bystander(e);
	pid_t		 pid = e2e_pid(e);
	char		 n1024[1025], n1025[1026];
	json_t		*r;

	memset(n1024, 'x', 1024);
	n1024[1024] = '\0';
	memset(n1025, 'x', 1025);
	n1025[1025] = '\0';
	e2e_ok(e, "start_child", "{s:s, s:o}", "name", n1024, "cmd",
	    e2e_cmd(NULL));
	r = e2e_ok(e, "find", "{s:s}", "name", n1024);
	ck_assert_int_gt(e2e_int(r, "pid"), 0);
	r = e2e_err(e, "bad_request", "start_child", "{s:s, s:o}", "name",
	    n1025, "cmd", e2e_cmd(NULL));
	ck_assert_str_eq(e2e_str(r, "field"), "name");
	e2e_err(e, "bad_request", "find", "{s:s}", "name", n1025);
	e2e_err(e, "bad_request", "setattr", "{s:s, s:{s:i}}", "name", n1024,
	    "attrs", n1025, 1);
	e2e_ok(e, "setattr", "{s:s, s:{s:i}}", "name", n1024, "attrs", n1024,
	    1);
	r = e2e_ok(e, "getattr", "{s:s, s:s}", "name", n1024, "key", n1024);
	ck_assert_int_eq(e2e_int(r, "value"), 1);
	e2e_err(e, "bad_request", "getattr", "{s:s, s:s}", "name", n1024,
	    "key", n1025);
	e2e_err(e, "bad_request", "increment", "{s:s, s:s}", "name", n1024,
	    "key", n1025);
	/* Multi-byte: 1024 bytes is the limit, not 1024 characters. */
	memset(n1025, 0, sizeof n1025);
	memset(n1025, 'y', 1023);
	strcat(n1025, "\xc3\xa9");		/* 1025 bytes */
	e2e_err(e, "bad_request", "find", "{s:s}", "name", n1025);
	/*
	 * Control characters: refused as a name (bad_request, field name),
	 * or kept as exact data; either way the reply is one line.
	 */
	r = e2e_req(e, "start_child", "{s:s, s:o}", "name", "new\nline",
	    "cmd", e2e_cmd(NULL));
	if (json_is_false(json_object_get(r, "ok"))) {
		ck_assert_str_eq(e2e_str(r, "error"), "bad_request");
		ck_assert_str_eq(e2e_str(r, "field"), "name");
	} else {
		r = e2e_ok(e, "find", "{s:s}", "name", "new\nline");
		ck_assert_int_gt(e2e_int(r, "pid"), 0);
		e2e_err(e, "not_found", "find", "{s:s}", "name", "new");
		e2e_err(e, "not_found", "find", "{s:s}", "name",
		    "new\nline ");
		e2e_ok(e, "terminate_and_delete", "{s:s}", "name",
		    "new\nline");
	}
	r = e2e_req(e, "start_child", "{s:s, s:o}", "name",
	    "tab\tcr\r\x1b[2J", "cmd", e2e_cmd(NULL));
	if (json_is_true(json_object_get(r, "ok"))) {
		r = e2e_ok(e, "info", "{s:s}", "name", "tab\tcr\r\x1b[2J");
		ck_assert_str_eq(e2e_str(r, "name"), "tab\tcr\r\x1b[2J");
	} else
		ck_assert_str_eq(e2e_str(r, "field"), "name");
	still_serving(e, b, pid);
	e2e_stop(e);
}
END_TEST

/* 10k attrs on one child: refused as a whole, nothing half-applied. */
START_TEST(bad_10k_attrs)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*b = bystander(e);
	pid_t		 pid = e2e_pid(e);
	json_t		*attrs, *r;
	char		 k[32];
	int		 i;

	e2e_spawn(e, "a", NULL);
	attrs = json_object();
	for (i = 0; i < 10000; i++) {
		snprintf(k, sizeof k, "k%d", i);
		json_object_set_new(attrs, k, json_integer(i));
	}
	r = e2e_err(e, "limit", "setattr", "{s:s, s:O}", "name", "a",
	    "attrs", attrs);
	ck_assert_str_eq(e2e_str(r, "limit"), "max_attrs");
	r = e2e_ok(e, "list", NULL);
	r = json_array_get(e2e_get(r, "children"), 0);
	ck_assert_uint_eq(json_object_size(e2e_get(r, "attrs")), 0);
	/* Up to the cap (1000) one at a time, then limit. */
	json_object_clear(attrs);
	for (i = 0; i < 1000; i++) {
		snprintf(k, sizeof k, "k%d", i);
		json_object_set_new(attrs, k, json_integer(i));
	}
	e2e_ok(e, "setattr", "{s:s, s:O}", "name", "a", "attrs", attrs);
	r = e2e_err(e, "limit", "setattr", "{s:s, s:{s:i}}", "name", "a",
	    "attrs", "one-more", 1);
	ck_assert_str_eq(e2e_str(r, "limit"), "max_attrs");
	r = e2e_err(e, "limit", "increment", "{s:s, s:s, s:i}", "name", "a",
	    "key", "counter", "default", 0);
	/* Overwriting an existing key is not a new attr. */
	e2e_ok(e, "setattr", "{s:s, s:{s:s}}", "name", "a", "attrs", "k5",
	    "five");
	e2e_ok(e, "increment", "{s:s, s:s}", "name", "a", "key", "k6");
	/* A spec with 10k attrs is refused too (or capped): never a crash. */
	r = e2e_req(e, "check_childspec", "{s:s, s:o, s:O}", "name", "b",
	    "cmd", e2e_cmd(NULL), "attrs", attrs);
	ck_assert(json_is_boolean(json_object_get(r, "ok")));
	json_decref(attrs);
	r = e2e_ok(e, "which_children", NULL);
	still_serving(e, b, pid);
	e2e_stop(e);
}
END_TEST

/* increment: int64 limits, types, defaults. */
START_TEST(bad_increment)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*b = bystander(e), *c = e2e_main(e);
	pid_t		 pid = e2e_pid(e);
	json_t		*r;

	e2e_spawn(e, "a", NULL);
	e2e_ok(e, "setattr", "{s:s, s:{s:I, s:I, s:s, s:f, s:b, s:n}}",
	    "name", "a", "attrs", "max", (json_int_t)INT64_MAX, "min",
	    (json_int_t)INT64_MIN, "str", "12", "real", 1.0, "bool", 1,
	    "null");
	e2e_err(e, "overflow", "increment", "{s:s, s:s}", "name", "a", "key",
	    "max");
	r = e2e_ok(e, "getattr", "{s:s, s:s}", "name", "a", "key", "max");
	ck_assert(e2e_int(r, "value") == INT64_MAX);	/* unchanged */
	e2e_err(e, "overflow", "increment", "{s:s, s:s, s:I}", "name", "a",
	    "key", "min", "by", (json_int_t)-1);
	e2e_err(e, "overflow", "increment", "{s:s, s:s, s:I}", "name", "a",
	    "key", "min", "by", (json_int_t)INT64_MIN);
	r = e2e_ok(e, "increment", "{s:s, s:s, s:I}", "name", "a", "key",
	    "max", "by", (json_int_t)INT64_MIN);
	ck_assert_int_eq(e2e_int(r, "value"), -1);
	r = e2e_ok(e, "increment", "{s:s, s:s, s:I}", "name", "a", "key",
	    "min", "by", (json_int_t)INT64_MAX);
	ck_assert_int_eq(e2e_int(r, "value"), -1);
	/* A missing key: default + by, overflowing too. */
	e2e_err(e, "overflow", "increment", "{s:s, s:s, s:I, s:I}", "name",
	    "a", "key", "new", "default", (json_int_t)INT64_MAX, "by",
	    (json_int_t)1);
	e2e_err(e, "not_found", "increment", "{s:s, s:s}", "name", "a", "key",
	    "new");
	/* Not integers. */
	e2e_err(e, "not_integer", "increment", "{s:s, s:s}", "name", "a",
	    "key", "str");
	e2e_err(e, "not_integer", "increment", "{s:s, s:s}", "name", "a",
	    "key", "real");
	e2e_err(e, "not_integer", "increment", "{s:s, s:s}", "name", "a",
	    "key", "bool");
	e2e_err(e, "not_integer", "increment", "{s:s, s:s}", "name", "a",
	    "key", "null");
	/* by out of int64 does not even parse. */
	expect_error(e, c, "{\"op\":\"increment\",\"name\":\"a\",\"key\":"
	    "\"max\",\"by\":9223372036854775808}", "bad_json", NULL);
	expect_error(e, c, "{\"op\":\"increment\",\"name\":\"a\",\"key\":"
	    "\"max\",\"by\":\"1\"}", "bad_request", "by");
	expect_error(e, c, "{\"op\":\"increment\",\"name\":\"a\",\"key\":"
	    "\"max\",\"default\":true}", "bad_request", "default");
	still_serving(e, b, pid);
	e2e_stop(e);
}
END_TEST

/*
 * Half-closed: every request sent before the SHUT_WR is answered, then
 * EOF.  A half-closed subscriber keeps its events until it closes; a
 * closed one is let go at once (it used to hold its slot until an event
 * was written).
 */
START_TEST(bad_half_closed)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*b = bystander(e);
	pid_t		 pid = e2e_pid(e);
	json_int_t	 base;
	const char	*line;
	char		 buf[4096];
	ssize_t		 n;
	size_t		 got = 0;
	int		 fd, i, lines = 0;

	base = e2e_conns(e);
	fd = e2e_raw_connect(e, false);
	for (i = 0; i < 50; i++)
		ck_assert_int_eq(write(fd, "{\"op\":\"ping\"}\n", 14), 14);
	/* The last one without its newline. */
	ck_assert_int_eq(write(fd, "{\"op\":\"ping\"}", 13), 13);
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		for (i = 0; i < n; i++)
			lines += buf[i] == '\n';
		got += n;
	}
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(lines, 51);
	close(fd);
	/* A subscriber half-closes and still gets events. */
	fd = e2e_raw_connect(e, false);
	ck_assert_int_eq(write(fd, "{\"op\":\"subscribe\"}\n", 19), 19);
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	n = read(fd, buf, sizeof buf);
	ck_assert_msg(n > 0 && strstr(buf, "\"ok\":true") != NULL, "%zd", n);
	e2e_spawn(e, "ev", NULL);
	memset(buf, 0, sizeof buf);
	n = read(fd, buf, sizeof buf - 1);
	ck_assert_msg(n > 0 && strstr(buf, "\"event\"") != NULL, "%s", buf);
	/*
	 * Its close() now: EOF came with the SHUT_WR, yet gtd sees the
	 * hangup and lets it go without waiting for an event to fail.
	 */
	close(fd);
	ck_assert_msg(e2e_wait_conns(e, base, 3000), "%lld connections held, "
	    "want %lld", (long long)e2e_conns(e), (long long)base);
	e2e_spawn(e, "ev2", NULL);
	/* Subscribers that close: gone without waiting for an event. */
	for (i = 0; i < 20; i++) {
		fd = e2e_raw_connect(e, false);
		ck_assert_int_eq(write(fd, "{\"op\":\"subscribe\"}\n", 19), 19);
		ck_assert_int_gt(read(fd, buf, sizeof buf), 0);
		close(fd);
	}
	fd = e2e_raw_connect(e, false);
	line = "{\"op\":\"logs\",\"name\":\"ev\",\"follow\":true}\n";
	ck_assert_int_eq(write(fd, line, strlen(line)), (ssize_t)strlen(line));
	ck_assert_int_gt(read(fd, buf, sizeof buf), 0);
	close(fd);
	ck_assert_msg(e2e_wait_conns(e, base, 3000), "%lld connections held, "
	    "want %lld", (long long)e2e_conns(e), (long long)base);
	still_serving(e, b, pid);
	e2e_stop(e);
}
END_TEST

/*
 * Reset connections: a client pipelines requests and closes without
 * reading (gtd's writes fail with EPIPE/ECONNRESET), mid-line, or right
 * after connecting.  gtd drops each and keeps no descriptor.
 */
START_TEST(bad_reset_connections)
{
	static const char	 req[] = "{\"op\":\"which_children\"}\n"
	    "{\"op\":\"hello\"}\n{\"op\":\"stats\"}\n";
	struct e2e		*e = e2e_start(NULL);
	struct e2e_conn		*b = bystander(e);
	pid_t			 pid = e2e_pid(e);
	json_int_t		 base;
	struct linger		 lg = { .l_onoff = 1, .l_linger = 0 };
	int			 fd, i, k;

	e2e_spawn(e, "a", NULL);
	base = e2e_conns(e);
	for (i = 0; i < 300; i++) {
		fd = e2e_raw_connect(e, false);
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		switch (i % 3) {
		case 0:
			for (k = 0; k < 20; k++)
				ck_assert_int_eq(write(fd, req, sizeof req - 1),
				    (ssize_t)sizeof req - 1);
			break;
		case 1:
			ck_assert_int_eq(write(fd, "{\"op\":\"hel", 10), 10);
			break;
		default:
			break;
		}
		close(fd);
	}
	ck_assert_msg(e2e_wait_conns(e, base, 5000), "%lld connections held, "
	    "want %lld", (long long)e2e_conns(e), (long long)base);
	ck_assert_str_eq(e2e_str(e2e_row(e, "a"), "state"), "running");
	still_serving(e, b, pid);
	e2e_stop(e);
}
END_TEST

/*
 * A client that never reads: gtd queues at most max_output_bytes for it
 * and then disconnects it; meanwhile everyone else is served promptly.
 */
START_TEST(bad_never_reads)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*b = bystander(e);
	pid_t		 pid = e2e_pid(e);
	struct pollfd	 pfd;
	const char	*line = "{\"op\":\"hello\"}\n";
	size_t		 len = strlen(line), sent = 0;
	long		 deadline, t0, worst = 0;
	ssize_t		 n;
	int		 fd;
	bool		 cut = false;

	fd = e2e_raw_connect(e, false);
	ck_assert_int_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	deadline = e2e_now_ms() + e2e_slow(60000);
	while (!cut && e2e_now_ms() < deadline) {
		n = send(fd, line, len, MSG_NOSIGNAL);
		if (n > 0) {
			sent += n;
			if (sent % (len * 4096) == 0) {
				/* The others are served meanwhile. */
				t0 = e2e_now_ms();
				e2e_cok(b, "ping", NULL);
				if (e2e_now_ms() - t0 > worst)
					worst = e2e_now_ms() - t0;
			}
			continue;
		}
		if (n == -1 && (errno == EPIPE || errno == ECONNRESET)) {
			cut = true;
			break;
		}
		ck_assert_int_eq(errno, EAGAIN);
		/* Full both ways: gtd stopped reading or will cut us off. */
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, 100) == 1 && (pfd.revents & (POLLHUP |
		    POLLERR)))
			cut = true;
		t0 = e2e_now_ms();
		e2e_cok(b, "ping", NULL);
		if (e2e_now_ms() - t0 > worst)
			worst = e2e_now_ms() - t0;
	}
	ck_assert_msg(cut, "not disconnected after %zu bytes of requests",
	    sent);
	ck_assert_msg(worst < e2e_slow(2000), "others waited %ld ms", worst);
	close(fd);
	still_serving(e, b, pid);
	e2e_stop(e);
}
END_TEST

Suite *
e2e_badinput_suite(void)
{
	Suite	*s = suite_create("e2e_badinput");
	TCase	*tc;

	tc = tcase_create("badinput");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, bad_not_json);
	tcase_add_test(tc, bad_envelope);
	tcase_add_test(tc, bad_names);
	tcase_add_test(tc, bad_numbers);
	tcase_add_test(tc, bad_raw_bytes);
	tcase_add_test(tc, bad_spec_fields);
	tcase_add_test(tc, bad_deep_nesting);
	tcase_add_test(tc, bad_huge_strings);
	tcase_add_test(tc, bad_name_limits);
	tcase_add_test(tc, bad_10k_attrs);
	tcase_add_test(tc, bad_increment);
	tcase_add_test(tc, bad_half_closed);
	tcase_add_test(tc, bad_reset_connections);
	tcase_add_test(tc, bad_never_reads);
	suite_add_tcase(s, tc);
	return (s);
}
