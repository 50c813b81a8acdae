/* SPDX-License-Identifier: MIT */
/*
 * check_e2e_roll: graceful reload and rolling restarts against the real
 * daemon (protocol §9.1).  reload_child sends the spec's reload_signal
 * and the child gets it; restart_children replaces instances so that
 * each new one is ready before the next old one is stopped (checked in
 * a log the children write themselves: an old one writes "term N" in its
 * TERM trap, a new one "ready N" before it tells gtd it is ready, so the
 * order of the lines is the order of the events); a failure stops the
 * roll; max_unavailable; a deletion during the roll; a second roll of
 * the same names is refused; a requester that leaves; gtctl ls --tree;
 * contrib/webapp.json is a valid config.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "harness.h"

/*
 * Every instance: its directory is the socket's; fail-N makes it exit 3
 * at once, hold-N keeps it starting until the file goes; ready {"fd":3}.
 */
#define ROLL_SCRIPT \
	"D=${GTD_SOCKET%/*}; N=$GTD_NAME; [ -e $D/fail-$N ] && exit 3; " \
	"trap 'echo term $N >> $D/log; exit 0' TERM; " \
	"trap 'echo hup $N >> $D/log' HUP; " \
	"trap 'echo usr1 $N >> $D/log' USR1; " \
	"while [ -e $D/hold-$N ]; do sleep 0.02; done; " \
	"echo ready $N >> $D/log; echo >&3; exec 3>&-; " \
	"while :; do sleep 1 & wait $!; done"

static void
touch(const char *path)
{
	FILE	*f;

	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fclose(f);
}

/* gtd with n instances of template "w" (a, b, ...), all ready. */
static struct e2e *
roll_start(int n)
{
	struct e2e	*e;
	json_t		*conf, *kids;
	char		 name[2] = "a";
	int		 i;

	kids = json_array();
	for (i = 0; i < n; i++) {
		name[0] = 'a' + i;
		json_array_append_new(kids, json_pack("{s:s, s:s}", "name",
		    name, "template", "w"));
	}
	conf = json_pack("{s:{s:{s:[s, s, s], s:{s:i}}}, s:o}", "templates",
	    "w", "cmd", "/bin/sh", "-c", ROLL_SCRIPT, "ready", "fd", 3,
	    "children", kids);
	e = e2e_start_json(conf);
	ck_assert(e2e_wait_lines(e2e_path(e, "log"), n, 10000));
	return (e);
}

/* The lines of the children's log after the first skip (owned). */
static json_t *
roll_log(struct e2e *e, int skip)
{
	const char	*text = e2e_read_file(e, e2e_path(e, "log"), 5000);
	json_t		*a = json_array();
	const char	*p, *nl;
	int		 k = 0;

	for (p = text; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		if (k++ >= skip)
			json_array_append_new(a, json_stringn(p, nl - p));
	return (a);
}

static const char *
line_at(json_t *lines, size_t i)
{
	return (json_string_value(json_array_get(lines, i)));
}

static pid_t
pid_of(struct e2e *e, const char *name)
{
	json_t	*r = e2e_row(e, name);

	ck_assert_ptr_nonnull(r);
	return ((pid_t)json_integer_value(json_object_get(r, "pid")));
}

static void
assert_names(struct e2e *e, json_t *reply, const char *key,
    const char *want)
{
	const char	*got = e2e_dump(e, e2e_get(reply, key));

	ck_assert_msg(strcmp(got, want) == 0, "%s: %s, want %s", key, got,
	    want);
}

/*
 * Send line (a restart_children) on cn with instance hold held: return
 * once the roll has reached it (its new process waits, starting).
 */
static void
roll_held(struct e2e *e, struct e2e_conn *cn, const char *hold,
    const char *line)
{
	touch(e2e_path(e, e2e_fmt(e, "hold-%s", hold)));
	e2e_send_line(cn, line);
	ck_assert(e2e_wait_state(e, hold, "starting", 5000));
}

/* reload_child: the spec's reload_signal reaches the child. */
START_TEST(e2e_roll_reload_child)
{
	struct e2e	*e = roll_start(1);
	const char	*log = e2e_path(e, "log"), *out;
	json_t		*r;

	r = e2e_ok(e, "reload_child", "{s:s}", "name", "a");
	ck_assert_str_eq(e2e_str(r, "signal"), "SIGHUP");
	ck_assert_int_eq(e2e_int(r, "pid"), pid_of(e, "a"));
	ck_assert(e2e_wait_text(log, "hup a\n", 5000));
	/* The process is the same one: a reload is no restart. */
	ck_assert_int_eq(e2e_int(r, "pid"), pid_of(e, "a"));

	e2e_ok(e, "start_child", "{s:s, s:s, s:s}", "name", "u",
	    "template", "w", "reload_signal", "USR1");
	ck_assert(e2e_wait_text(log, "ready u\n", 5000));
	r = e2e_ok(e, "get_childspec", "{s:s}", "name", "u");
	ck_assert_str_eq(e2e_str(e2e_get(r, "spec"), "reload_signal"),
	    "SIGUSR1");
	ck_assert_int_eq(e2e_gtctl(e, &out, "reload", "u", NULL), 0);
	ck_assert_str_eq(out, "");
	ck_assert(e2e_wait_text(log, "usr1 u\n", 5000));

	/* Refusals name the field or the state. */
	r = e2e_err(e, "bad_request", "start_child", "{s:s, s:[s], s:s}",
	    "name", "x", "cmd", "/bin/true", "reload_signal", "SIGNOPE");
	ck_assert_str_eq(e2e_str(r, "field"), "reload_signal");
	r = e2e_err(e, "bad_request", "start_child", "{s:s, s:[s], s:i}",
	    "name", "x", "cmd", "/bin/true", "reload_signal", 99);
	ck_assert_str_eq(e2e_str(r, "field"), "reload_signal");
	r = e2e_err(e, "bad_request", "check_childspec", "{s:s, s:[s], s:b}",
	    "name", "x", "cmd", "/bin/true", "reload_signal", 1);
	ck_assert_str_eq(e2e_str(r, "field"), "reload_signal");
	e2e_err(e, "not_found", "reload_child", "{s:s}", "name", "nosuch");
	e2e_ok(e, "terminate_child", "{s:s}", "name", "a");
	r = e2e_err(e, "not_running", "reload_child", "{s:s}", "name", "a");
	ck_assert_str_eq(e2e_str(r, "state"), "stopped");
	ck_assert_int_eq(e2e_gtctl(e, NULL, "reload", "a", NULL), 3);
	ck_assert_int_eq(e2e_gtctl(e, NULL, "reload", "nosuch", NULL), 3);
	ck_assert_int_eq(e2e_gtctl(e, NULL, "reload", "-n", "u", NULL), 64);
	e2e_stop(e);
}
END_TEST

/* Each new instance is ready before the next old one is stopped. */
START_TEST(e2e_roll_order)
{
	struct e2e	*e = roll_start(3);
	static const char *const want[] = { "term a", "ready a", "term b",
	    "ready b", "term c", "ready c" };
	pid_t		 old[3];
	json_t		*r, *lines;
	size_t		 i;

	for (i = 0; i < 3; i++)
		old[i] = pid_of(e, (const char []){ 'a' + i, '\0' });
	r = e2e_ok(e, "restart_children", "{s:s}", "template", "w");
	assert_names(e, r, "restarted", "[\"a\",\"b\",\"c\"]");
	ck_assert_ptr_null(json_object_get(r, "skipped"));
	lines = roll_log(e, 3);
	ck_assert_msg(json_array_size(lines) == 6, "%s", e2e_dump(e, lines));
	for (i = 0; i < 6; i++)
		ck_assert_msg(strcmp(line_at(lines, i), want[i]) == 0,
		    "line %zu: %s", i, e2e_dump(e, lines));
	json_decref(lines);
	for (i = 0; i < 3; i++)
		ck_assert_int_ne(pid_of(e, (const char []){ 'a' + i, '\0' }),
		    old[i]);
	/* Names, in the order given; gtctl prints a line per child. */
	r = e2e_ok(e, "restart_children", "{s:[s, s]}", "names", "c", "a");
	assert_names(e, r, "restarted", "[\"c\",\"a\"]");
	lines = roll_log(e, 9);
	ck_assert_str_eq(line_at(lines, 0), "term c");
	ck_assert_str_eq(line_at(lines, 2), "term a");
	json_decref(lines);
	e2e_stop(e);
}
END_TEST

/* A new incarnation that fails stops the roll; the rest are untouched. */
START_TEST(e2e_roll_failure_stops)
{
	struct e2e	*e = roll_start(3);
	const char	*out;
	pid_t		 c0 = pid_of(e, "c");
	json_t		*r, *lines;
	size_t		 i;

	touch(e2e_path(e, "fail-b"));
	r = e2e_err(e, "exited", "restart_children", "{s:s}", "template",
	    "w");
	ck_assert_str_eq(e2e_str(r, "name"), "b");
	ck_assert_int_eq(e2e_int(r, "exit_status"), 3);
	assert_names(e, r, "restarted", "[\"a\"]");
	ck_assert_int_eq(pid_of(e, "c"), c0);
	lines = roll_log(e, 3);
	for (i = 0; i < json_array_size(lines); i++)
		ck_assert_msg(strstr(line_at(lines, i), " c") == NULL,
		    "c was touched: %s", e2e_dump(e, lines));
	json_decref(lines);
	/* gtctl: b has no process now, so it is skipped. */
	ck_assert_int_eq(e2e_gtctl(e, &out, "restart", "--rolling", "w",
	    NULL), 0);
	ck_assert_str_eq(out, "a: restarted\nc: restarted\nb: skipped\n");
	/* A failure: the ones that came back, the error, exit status 1. */
	touch(e2e_path(e, "fail-c"));
	ck_assert_int_eq(e2e_gtctl(e, &out, "restart", "--rolling", "a", "c",
	    NULL), 1);
	ck_assert_str_eq(out, "a: restarted\n");
	ck_assert_ptr_nonnull(strstr(e2e_gtctl_stderr(e), "exited"));
	e2e_stop(e);
}
END_TEST

/* max_unavailable 2: two down at first, never more than two. */
START_TEST(e2e_roll_max_unavailable)
{
	struct e2e	*e = roll_start(4);
	json_t		*r, *lines;
	size_t		 i;
	int		 down = 0, terms = 0, readys = 0;

	r = e2e_ok(e, "restart_children", "{s:s, s:i}", "template", "w",
	    "max_unavailable", 2);
	ck_assert_int_eq(json_array_size(e2e_get(r, "restarted")), 4);
	lines = roll_log(e, 4);
	ck_assert_msg(json_array_size(lines) == 8, "%s", e2e_dump(e, lines));
	ck_assert(strncmp(line_at(lines, 0), "term ", 5) == 0 &&
	    strncmp(line_at(lines, 1), "term ", 5) == 0);
	for (i = 0; i < 8; i++) {
		if (strncmp(line_at(lines, i), "term ", 5) == 0) {
			terms++;
			down++;
		} else {
			readys++;
			down--;
		}
		ck_assert_msg(down <= 2 && down >= 0, "%s",
		    e2e_dump(e, lines));
	}
	json_decref(lines);
	ck_assert_int_eq(terms, 4);
	ck_assert_int_eq(readys, 4);
	/* Bounded and validated. */
	r = e2e_err(e, "bad_request", "restart_children", "{s:s, s:i}",
	    "template", "w", "max_unavailable", 0);
	ck_assert_str_eq(e2e_str(r, "field"), "max_unavailable");
	e2e_err(e, "bad_request", "restart_children", "{s:s, s:i}",
	    "template", "w", "max_unavailable", 1025);
	e2e_err(e, "bad_request", "restart_children", "{s:s, s:s}",
	    "template", "w", "max_unavailable", "2");
	e2e_stop(e);
}
END_TEST

/* Bad requests restart nothing. */
START_TEST(e2e_roll_refused)
{
	struct e2e	*e = roll_start(2);
	json_t		*r;

	r = e2e_err(e, "bad_request", "restart_children", NULL);
	ck_assert_str_eq(e2e_str(r, "field"), "names");
	e2e_err(e, "bad_request", "restart_children", "{s:[], s:s}",
	    "names", "template", "w");
	e2e_err(e, "bad_request", "restart_children", "{s:[]}", "names");
	e2e_err(e, "bad_request", "restart_children", "{s:s}", "names", "a");
	e2e_err(e, "bad_request", "restart_children", "{s:[i]}", "names", 1);
	r = e2e_err(e, "bad_request", "restart_children", "{s:[s, s]}",
	    "names", "a", "a");
	ck_assert_str_eq(e2e_str(r, "field"), "names");
	r = e2e_err(e, "bad_request", "restart_children", "{s:s, s:b}",
	    "template", "w", "bogus", 1);
	ck_assert_str_eq(e2e_str(r, "field"), "bogus");
	r = e2e_err(e, "not_found", "restart_children", "{s:[s, s]}",
	    "names", "a", "nosuch");
	ck_assert_str_eq(e2e_str(r, "name"), "nosuch");
	e2e_err(e, "not_found", "restart_children", "{s:s}", "template",
	    "nosuch");
	/* Nothing was restarted by any of them. */
	ck_assert_int_eq(e2e_count_lines(e2e_path(e, "log")), 2);
	e2e_stop(e);
}
END_TEST

/*
 * A row deleted before its turn is skipped; one deleted while it is in
 * flight fails the roll.
 */
START_TEST(e2e_roll_delete_mid_roll)
{
	struct e2e	*e = roll_start(3);
	struct e2e_conn	*cn = e2e_client(e);
	json_t		*r;
	pid_t		 c0;

	roll_held(e, cn, "a", "{\"id\":1,\"op\":\"restart_children\","
	    "\"template\":\"w\"}");
	e2e_ok(e, "terminate_and_delete", "{s:s}", "name", "c");
	unlink(e2e_path(e, "hold-a"));
	r = e2e_recv(cn, 10000);
	ck_assert_msg(json_is_true(json_object_get(r, "ok")), "%s",
	    e2e_dump(e, r));
	assert_names(e, r, "restarted", "[\"a\",\"b\"]");
	assert_names(e, r, "skipped", "[\"c\"]");

	/* In flight: b is held starting, then deleted. */
	e2e_ok(e, "start_child", "{s:s, s:s}", "name", "c", "template", "w");
	c0 = pid_of(e, "c");
	roll_held(e, cn, "b", "{\"id\":2,\"op\":\"restart_children\","
	    "\"names\":[\"a\",\"b\",\"c\"]}");
	e2e_ok(e, "terminate_and_delete", "{s:s}", "name", "b");
	r = e2e_recv(cn, 10000);
	ck_assert_msg(json_is_false(json_object_get(r, "ok")), "%s",
	    e2e_dump(e, r));
	/* Stopped on request before it was ready, then removed. */
	ck_assert_str_eq(e2e_str(r, "error"), "exited");
	ck_assert(json_is_true(e2e_get(r, "requested")));
	ck_assert_str_eq(e2e_str(r, "name"), "b");
	assert_names(e, r, "restarted", "[\"a\"]");
	ck_assert_int_eq(pid_of(e, "c"), c0);
	unlink(e2e_path(e, "hold-b"));
	e2e_stop(e);
}
END_TEST

/* Two rolls of one name: the second is refused; others may run. */
START_TEST(e2e_roll_concurrent_refused)
{
	struct e2e	*e = roll_start(3);
	struct e2e_conn	*cn = e2e_client(e);
	json_t		*r;

	roll_held(e, cn, "a", "{\"id\":1,\"op\":\"restart_children\","
	    "\"names\":[\"a\",\"b\"]}");
	r = e2e_err(e, "busy", "restart_children", "{s:[s, s]}", "names",
	    "c", "b");
	ck_assert_str_eq(e2e_str(r, "name"), "b");
	e2e_err(e, "busy", "restart_children", "{s:s}", "template", "w");
	r = e2e_ok(e, "restart_children", "{s:[s]}", "names", "c");
	assert_names(e, r, "restarted", "[\"c\"]");
	unlink(e2e_path(e, "hold-a"));
	r = e2e_recv(cn, 10000);
	assert_names(e, r, "restarted", "[\"a\",\"b\"]");
	/* Over: the names may roll again. */
	e2e_ok(e, "restart_children", "{s:[s, s]}", "names", "a", "b");
	e2e_stop(e);
}
END_TEST

/* The requester leaves: the roll goes on, and ends cleanly. */
START_TEST(e2e_roll_requester_leaves)
{
	struct e2e	*e = roll_start(3);
	struct e2e_conn	*cn = e2e_client(e);
	json_t		*lines;

	roll_held(e, cn, "a", "{\"id\":1,\"op\":\"restart_children\","
	    "\"template\":\"w\"}");
	e2e_conn_close(cn);
	e2e_ok(e, "ping", NULL);
	unlink(e2e_path(e, "hold-a"));
	ck_assert(e2e_wait_lines(e2e_path(e, "log"), 9, 10000));
	lines = roll_log(e, 3);
	ck_assert_str_eq(line_at(lines, 5), "ready c");
	json_decref(lines);
	/* c wrote its line just before it told gtd: the roll ends then. */
	ck_assert(e2e_wait_state(e, "c", "running", 5000));
	/* Not busy any more once it is over. */
	e2e_ok(e, "restart_children", "{s:s}", "template", "w");
	e2e_stop(e);
}
END_TEST

/*
 * gtctl ls --tree: roots first, dependents below with the condition they
 * need; a row with two dependencies under each, the second time marked.
 */
START_TEST(e2e_roll_ls_tree)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*out;

	e2e_ok(e, "start_child", "{s:s, s:[s, s]}", "name", "db", "cmd",
	    "/bin/sleep", "100");
	e2e_ok(e, "terminate_child", "{s:s}", "name", "db");
	e2e_ok(e, "start_child", "{s:s, s:[s, s]}", "name", "cache",
	    "cmd", "/bin/sleep", "100");
	e2e_ok(e, "terminate_child", "{s:s}", "name", "cache");
	e2e_ok(e, "start_child", "{s:s, s:[s, s], s:[s], s:b}", "name",
	    "web", "cmd", "/bin/sleep", "100", "depends_on", "db", "wait", 0);
	e2e_ok(e, "start_child", "{s:s, s:[s, s], s:[s, {s:s, s:s}], s:b}",
	    "name", "worker", "cmd", "/bin/sleep", "100", "depends_on", "web",
	    "name", "db", "condition", "started", "wait", 0);
	ck_assert(e2e_wait_state(e, "worker", "waiting", 5000));
	ck_assert_int_eq(e2e_gtctl(e, &out, "ls", "--tree", NULL), 0);
	ck_assert_str_eq(out,
	    "NAME                   STATE    PID  NEEDS\n"
	    "db                     stopped  -    -\n"
	    "|- web                 waiting  -    ready\n"
	    "|  `- worker           waiting  -    ready\n"
	    "`- worker (see above)  waiting  -    started\n"
	    "cache                  stopped  -    -\n");
	ck_assert_int_eq(e2e_gtctl(e, &out, "ls", "--tree", "--json", NULL),
	    0);
	ck_assert_ptr_nonnull(strstr(out, "\"depends\":[[\"web\",\"db\","
	    "\"ready\"],[\"worker\",\"db\",\"started\"],[\"worker\","
	    "\"web\",\"ready\"]]"));
	ck_assert_int_eq(e2e_gtctl(e, NULL, "ls", "--tree", "db", NULL), 64);
	e2e_stop(e);
}
END_TEST

/* timeout_ms: a late instance fails the roll and is left as it is. */
START_TEST(e2e_roll_timeout)
{
	struct e2e	*e = roll_start(3);
	json_t		*r;
	pid_t		 c0 = pid_of(e, "c");
	long		 t0;

	touch(e2e_path(e, "hold-b"));
	t0 = e2e_now_ms();
	r = e2e_err(e, "timeout", "restart_children", "{s:s, s:i}",
	    "template", "w", "timeout_ms", 300);
	ck_assert_int_ge(e2e_now_ms() - t0, 300);
	ck_assert_str_eq(e2e_str(r, "name"), "b");
	assert_names(e, r, "restarted", "[\"a\"]");
	ck_assert_str_eq(e2e_str(e2e_row(e, "b"), "state"), "starting");
	ck_assert_int_eq(pid_of(e, "c"), c0);
	unlink(e2e_path(e, "hold-b"));
	ck_assert(e2e_wait_state(e, "b", "running", 5000));
	/* gtctl --timeout-ms; usage errors without --rolling. */
	touch(e2e_path(e, "hold-a"));
	ck_assert_int_eq(e2e_gtctl(e, NULL, "restart", "--rolling",
	    "--timeout-ms", "200", "w", NULL), 1);
	ck_assert_ptr_nonnull(strstr(e2e_gtctl_stderr(e), "timeout"));
	unlink(e2e_path(e, "hold-a"));
	ck_assert(e2e_wait_state(e, "a", "running", 5000));
	ck_assert_int_eq(e2e_gtctl(e, NULL, "restart", "--timeout-ms", "200",
	    "w", NULL), 64);
	ck_assert_int_eq(e2e_gtctl(e, NULL, "restart", "--rolling",
	    "--timeout-ms", "x", "w", NULL), 64);
	r = e2e_err(e, "bad_request", "restart_children", "{s:s, s:i}",
	    "template", "w", "timeout_ms", 0);
	ck_assert_str_eq(e2e_str(r, "field"), "timeout_ms");
	/* Not busy: the timed-out roll is over. */
	e2e_ok(e, "restart_children", "{s:s, s:i}", "template", "w",
	    "timeout_ms", 10000);
	e2e_stop(e);
}
END_TEST

/* gtd stops during a roll: the roll replies shutting_down, gtd exits 0. */
START_TEST(e2e_roll_shutdown_mid_roll)
{
	struct e2e	*e = roll_start(2);
	struct e2e_conn	*cn = e2e_client(e);
	json_t		*r;
	int		 status;

	roll_held(e, cn, "a", "{\"id\":1,\"op\":\"restart_children\","
	    "\"template\":\"w\"}");
	e2e_ok(e, "shutdown", NULL);
	r = e2e_recv(cn, 10000);
	ck_assert_msg(json_is_false(json_object_get(r, "ok")), "%s",
	    e2e_dump(e, r));
	ck_assert_str_eq(e2e_str(r, "error"), "shutting_down");
	assert_names(e, r, "restarted", "[]");
	ck_assert(e2e_wait_exit(e, 10000, &status));
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	e2e_stop(e);
}
END_TEST

/* Replace the program of a childspec (or template) obj, if it has one. */
static void
contrib_program(json_t *obj, const char *prog)
{
	json_t	*cmd = json_object_get(obj, "cmd");

	if (cmd != NULL)
		json_array_set_new(cmd, 0, json_string(prog));
	json_object_del(obj, "user");	/* postgres may not exist here */
}

/*
 * contrib/webapp.json, with programs that exist on every host, passes
 * gtd -n: the example of gtd.conf(5) stays a valid config.
 */
START_TEST(e2e_roll_contrib_webapp)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*path = e2e_path(e, "webapp.json"), *err;
	json_error_t	 je;
	json_t		*conf, *kid;
	size_t		 i;

	conf = json_load_file("contrib/webapp.json", JSON_REJECT_DUPLICATES,
	    &je);
	ck_assert_msg(conf != NULL, "contrib/webapp.json: %s", je.text);
	json_array_foreach(json_object_get(conf, "children"), i, kid)
		contrib_program(kid, "/bin/true");
	contrib_program(json_object_get(json_object_get(conf, "templates"),
	    "web"), "/bin/true");
	ck_assert_int_eq(json_dump_file(conf, path, 0), 0);
	json_decref(conf);
	ck_assert_msg(e2e_gtd_run(e, 5000, &err, "-n", "-c", path, NULL) == 0,
	    "%s", err);
	e2e_stop(e);
}
END_TEST

Suite *
e2e_roll_suite(void)
{
	Suite	*s = suite_create("e2e_roll");
	TCase	*tc = tcase_create("roll");

	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_roll_reload_child);
	tcase_add_test(tc, e2e_roll_order);
	tcase_add_test(tc, e2e_roll_failure_stops);
	tcase_add_test(tc, e2e_roll_max_unavailable);
	tcase_add_test(tc, e2e_roll_refused);
	tcase_add_test(tc, e2e_roll_delete_mid_roll);
	tcase_add_test(tc, e2e_roll_concurrent_refused);
	tcase_add_test(tc, e2e_roll_requester_leaves);
	tcase_add_test(tc, e2e_roll_timeout);
	tcase_add_test(tc, e2e_roll_shutdown_mid_roll);
	tcase_add_test(tc, e2e_roll_ls_tree);
	tcase_add_test(tc, e2e_roll_contrib_webapp);
	suite_add_tcase(s, tc);
	return (s);
}
