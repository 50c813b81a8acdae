/* SPDX-License-Identifier: MIT */
/*
 * check_cmd: the command table (sorted, unique, complete, documented in
 * gtctl(1)), exact lookup, and what the dispatcher enforces for every
 * entry: the CMD_MUTATES flag while shutting down and strict arguments.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "gt/child.h"
#include "gt/cmd.h"
#include "gt/conn.h"
#include "gt/gtd.h"
#include "gt/protocol.h"
#include "gt/registry.h"
#include "gt/xmalloc.h"

#include "check_unit.h"

static struct gtd		*g;
static struct test_client	 cl;

static void
setup(void)
{
	g = test_gtd_new();
	test_client_open(&cl, g);
}

static void
teardown(void)
{
	test_client_close(&cl);
	gtd_free(g);
	g = NULL;
}

static int
cmd_count(void)
{
	int	n;

	for (n = 0; cmd_table[n] != NULL; n++)
		;
	return (n);
}

START_TEST(test_cmd_table_sorted_unique)
{
	int	i, n = cmd_count();

	ck_assert_int_gt(n, 0);
	for (i = 1; i < n; i++)
		ck_assert_msg(strcmp(cmd_table[i - 1]->name,
		    cmd_table[i]->name) < 0, "%s before %s: not sorted or "
		    "duplicate", cmd_table[i - 1]->name, cmd_table[i]->name);
}
END_TEST

START_TEST(test_cmd_table_entry)
{
	const struct cmd_entry	*e = cmd_table[_i];
	const char		*p, *const *k;

	ck_assert_ptr_nonnull(e->name);
	ck_assert_msg(*e->name != '\0', "entry %d has an empty name", _i);
	for (p = e->name; *p != '\0'; p++)
		ck_assert_msg(islower((unsigned char)*p) || *p == '_',
		    "%s: wire names are lower case with underscores", e->name);
	ck_assert_msg(e->usage != NULL, "%s has no usage", e->name);
	ck_assert_msg(e->exec != NULL, "%s has no exec", e->name);
	ck_assert_msg((e->flags & ~(CMD_MUTATES | CMD_FLAT | CMD_SPEC)) == 0,
	    "%s: unknown flags %#x", e->name, e->flags);
	ck_assert_msg(e->keys != NULL, "%s declares no arguments", e->name);
	for (k = e->keys; *k != NULL; k++)	/* the usage shows each */
		ck_assert_msg(**k != '\0' && strstr(e->usage, *k) != NULL,
		    "%s: argument \"%s\" not in its usage \"%s\"", e->name,
		    *k, e->usage);
	if (e->flags & CMD_SPEC)
		ck_assert_msg(strstr(e->usage, "childspec") != NULL,
		    "%s takes a childspec: its usage says so", e->name);
}
END_TEST

START_TEST(test_cmd_find_each)
{
	const struct cmd_entry	*e = cmd_table[_i], *f;
	char			 buf[128];
	size_t			 len = strlen(e->name);

	ck_assert_ptr_eq(cmd_find(e->name), e);
	/* Exact names only: no prefixes, suffixes or case folding. */
	snprintf(buf, sizeof buf, "%.*s", (int)len - 1, e->name);
	f = cmd_find(buf);
	ck_assert_msg(f == NULL || strcmp(f->name, buf) == 0, "%s found %s",
	    buf, f == NULL ? "" : f->name);
	snprintf(buf, sizeof buf, "%sx", e->name);
	ck_assert_ptr_null(cmd_find(buf));
	snprintf(buf, sizeof buf, "%s ", e->name);
	ck_assert_ptr_null(cmd_find(buf));
	snprintf(buf, sizeof buf, " %s", e->name);
	ck_assert_ptr_null(cmd_find(buf));
	snprintf(buf, sizeof buf, "%s", e->name);
	buf[0] = toupper((unsigned char)buf[0]);
	ck_assert_ptr_null(cmd_find(buf));
}
END_TEST

static const char *unknown_rows[] = {
	"", "a", "zzzz", "aaaa", "find_", "FIND", "Ping", "ping\n", "pin",
	"find-or-open", "find or open", "terminate", "start", "ls",
};

START_TEST(test_cmd_find_unknown)
{
	ck_assert_msg(cmd_find(unknown_rows[_i]) == NULL, "\"%s\" found",
	    unknown_rows[_i]);
}
END_TEST

/* The file's text, or NULL when it does not exist (yet). */
static char *
slurp(const char *rel)
{
	const char	*dir = getenv("GT_SRCDIR");
	char		*path, *buf;
	FILE		*f;
	long		 n;

	xasprintf(&path, "%s/%s", dir != NULL ? dir : ".", rel);
	f = fopen(path, "r");
	free(path);
	if (f == NULL)
		return (NULL);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = xmalloc(n + 1);
	ck_assert_int_eq(fread(buf, 1, n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return (buf);
}

/* Is name in text as a whole word (not part of a longer name)? */
static bool
has_word(const char *text, const char *name)
{
	const char	*p;
	size_t		 len = strlen(name);

#define WORDCH(c)	(isalnum((unsigned char)(c)) || (c) == '_')
	for (p = text; (p = strstr(p, name)) != NULL; p++)
		if ((p == text || !WORDCH(p[-1])) && !WORDCH(p[len]))
			return (true);
#undef WORDCH
	return (false);
}

/* Every op is documented: style 3.7 step 5. */
static void
check_manual(const char *rel)
{
	char	*text;
	int	 i, missing = 0;

	if ((text = slurp(rel)) == NULL) {
		fprintf(stderr, "check_cmd: %s not found (set GT_SRCDIR to the "
		    "source tree); skipping the manual check\n", rel);
		return;
	}
	for (i = 0; cmd_table[i] != NULL; i++)
		if (!has_word(text, cmd_table[i]->name)) {
			fprintf(stderr, "%s does not mention %s\n", rel,
			    cmd_table[i]->name);
			missing++;
		}
	free(text);
	ck_assert_msg(missing == 0, "%d ops missing from %s", missing, rel);
}

START_TEST(test_cmd_in_gtctl_manual)
{
	check_manual("man/gtctl.1");
}
END_TEST

START_TEST(test_cmd_in_protocol_manual)
{
	check_manual("man/gtd-protocol.7");
}
END_TEST

static json_t *
request(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Send one request line and return its reply (fails without one). */
static json_t *
request(const char *fmt, ...)
{
	va_list	 ap;
	json_t	*j;
	char	*line;

	va_start(ap, fmt);
	ck_assert_int_ne(vasprintf(&line, fmt, ap), -1);
	va_end(ap);
	test_client_sendz(&cl, line);
	test_client_sendz(&cl, "\n");
	j = test_client_reply(&cl);
	ck_assert_msg(j != NULL, "no reply to %s", line);
	free(line);
	return (j);
}

static const char *
error_of(json_t *j)
{
	return (json_string_value(json_object_get(j, "error")));
}

/* While shutting down, exactly the CMD_MUTATES ops are refused. */
START_TEST(test_cmd_shutting_down_refuses_mutations)
{
	const struct cmd_entry	*e = cmd_table[_i];
	const char		*err;
	json_t			*j;

	g->shut->active = true;
	j = request("{\"id\":%d,\"op\":\"%s\"}", _i, e->name);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "id")), _i);
	err = error_of(j);
	if (e->flags & CMD_MUTATES)
		ck_assert_msg(err != NULL && strcmp(err,
		    GT_E_SHUTTING_DOWN) == 0, "%s: %s", e->name, err);
	else
		ck_assert_msg(err == NULL || strcmp(err,
		    GT_E_SHUTTING_DOWN) != 0, "%s refused", e->name);
	json_decref(j);
}
END_TEST

/*
 * An unknown argument is a bad_request for every op (§1), with a field.
 * (Most ops name the unknown key; one that first misses a required
 * argument may name that instead.)
 */
START_TEST(test_cmd_unknown_argument)
{
	const struct cmd_entry	*e = cmd_table[_i];
	const char		*field;
	json_t			*j;

	j = request("{\"id\":1,\"op\":\"%s\",\"zz_bogus\":1}", e->name);
	ck_assert_msg(error_of(j) != NULL && strcmp(error_of(j),
	    GT_E_BAD_REQUEST) == 0, "%s: error %s", e->name, error_of(j));
	field = json_string_value(json_object_get(j, "field"));
	ck_assert_msg(field != NULL, "%s: bad_request without a field",
	    e->name);
	json_decref(j);
	ck_assert_int_eq(g->tab->nchildren, 0);	/* nothing happened */
	ck_assert(!g->shut->active);
}
END_TEST

START_TEST(test_cmd_hello_lists_ops)
{
	json_t	*j, *ops;
	size_t	 i;

	j = request("{\"op\":\"hello\"}");
	ck_assert(json_is_true(json_object_get(j, "ok")));
	ck_assert_int_eq(json_integer_value(json_object_get(j, "protocol")),
	    GT_PROTO_VERSION);
	ck_assert_str_eq(json_string_value(json_object_get(j, "version")),
	    GT_VERSION);
	ck_assert_str_eq(json_string_value(json_object_get(j, "zone")),
	    "default");
	ops = json_object_get(j, "ops");
	ck_assert_uint_eq(json_array_size(ops), (size_t)cmd_count());
	for (i = 0; i < json_array_size(ops); i++)
		ck_assert_str_eq(json_string_value(json_array_get(ops, i)),
		    cmd_table[i]->name);
	json_decref(j);
}
END_TEST

static bool
shutting_down(void *arg)
{
	return (g->shut->active);
}

static void
break_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	ev_break(loop, EVBREAK_ONE);
}

/*
 * Two shutdown requests handled in one loop iteration (pipelined here;
 * two connections would do the same): both are answered, and the loop
 * must then go idle, not spin.
 */
START_TEST(test_cmd_double_shutdown)
{
	ev_timer	 t;
	unsigned int	 before;
	json_t		*j;

	test_client_sendz(&cl, "{\"id\":1,\"op\":\"shutdown\"}\n"
	    "{\"id\":2,\"op\":\"shutdown\"}\n");
	j = test_client_reply(&cl);
	ck_assert_ptr_nonnull(j);
	ck_assert(json_is_true(json_object_get(j, "ok")));
	json_decref(j);
	j = test_client_reply(&cl);
	ck_assert_ptr_nonnull(j);
	json_decref(j);
	ck_assert(test_client_until(&cl, shutting_down, NULL));
	/* 50 ms of an otherwise idle loop: a handful of iterations. */
	ev_timer_init(&t, break_cb, 0.05, 0.);
	ev_timer_start(g->loop, &t);
	before = ev_iteration(g->loop);
	ev_run(g->loop, 0);
	ev_timer_stop(g->loop, &t);
	ck_assert_msg(ev_iteration(g->loop) - before < 10,
	    "the loop spun %u times in 50 ms",
	    ev_iteration(g->loop) - before);
}
END_TEST

/* The reply's error code, or "" when it succeeded. */
static const char *
code(json_t *j)
{
	const char	*e = error_of(j);

	if (e == NULL) {
		ck_assert(json_is_true(json_object_get(j, "ok")));
		return ("");
	}
	ck_assert(json_is_false(json_object_get(j, "ok")));
	return (e);
}

/* One request whose reply must have this code ("" = ok); freed. */
static void
expect(const char *want, const char *line)
{
	json_t	*j = request("%s", line);
	char	*s = json_dumps(j, JSON_COMPACT);

	ck_assert_msg(strcmp(code(j), want) == 0, "%s -> %s", line, s);
	free(s);
	json_decref(j);
}

static json_int_t
int_of(json_t *j, const char *key)
{
	ck_assert_msg(json_is_integer(json_object_get(j, key)), "no %s", key);
	return (json_integer_value(json_object_get(j, key)));
}

static bool
conn_busy(void *arg)
{
	return ((cl.cn->flags & CONN_PAUSED) != 0);
}

static bool
other_busy(void *arg)
{
	return ((((struct test_client *)arg)->cn->flags & CONN_PAUSED) != 0);
}

/* Nothing arrives while the loop turns a few times. */
static void
assert_quiet(void)
{
	int	i;

	for (i = 0; i < 20; i++)
		test_client_pump(&cl, 1);
	ck_assert_msg(cl.len == 0, "unexpected: %.*s", (int)cl.len, cl.buf);
}

#define A_SPEC	"\"name\":\"a\",\"cmd\":[\"/bin/true\"]"

/* terminate_child replies after the reap, with the reason (§5). */
START_TEST(test_cmd_start_terminate)
{
	struct child	*c;
	json_t		*j, *row, *want;

	j = request("{\"id\":1,\"op\":\"start_child\"," A_SPEC "}");
	ck_assert_str_eq(code(j), "");
	ck_assert_int_eq(int_of(j, "pid"), FAKE_PID_BASE + 1);
	json_decref(j);
	ck_assert_ptr_nonnull(c = child_find(g, "a"));
	ck_assert_int_eq(c->state, CHILD_RUNNING);
	expect(GT_E_ALREADY_STARTED, "{\"op\":\"start_child\"," A_SPEC "}");
	test_client_sendz(&cl, "{\"id\":2,\"op\":\"terminate_child\","
	    "\"name\":\"a\"}\n");
	ck_assert(test_client_until(&cl, conn_busy, NULL));
	assert_quiet();				/* not before the reap */
	ck_assert_int_eq(fake_kills[0].pid, -(FAKE_PID_BASE + 1));
	ck_assert_int_eq(fake_kills[0].sig, SIGTERM);
	child_handle_exit(c, W_EXITCODE(0, SIGTERM));
	j = test_client_reply(&cl);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(code(j), "");
	ck_assert_int_eq(int_of(j, "id"), 2);
	want = json_pack("{s:s, s:b, s:s}", "signal", "SIGTERM", "requested",
	    1, "stop_signal", "SIGTERM");
	ck_assert(json_equal(json_object_get(j, "reason"), want));
	json_decref(want);
	json_decref(j);
	j = request("{\"op\":\"which_children\"}");
	ck_assert_uint_eq(json_array_size(json_object_get(j, "children")), 1);
	row = json_array_get(json_object_get(j, "children"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(row, "state")),
	    "stopped");
	ck_assert(json_is_null(json_object_get(row, "pid")));
	ck_assert_int_eq(int_of(row, "restart_count"), 0);
	json_decref(j);
	expect(GT_E_ALREADY_PRESENT, "{\"op\":\"start_child\"," A_SPEC "}");
	expect(GT_E_NOT_FOUND, "{\"op\":\"find\",\"name\":\"a\"}");
}
END_TEST

START_TEST(test_cmd_terminate_and_delete)
{
	json_t	*j;

	expect("", "{\"op\":\"start_child\"," A_SPEC "}");
	test_client_sendz(&cl, "{\"id\":2,\"op\":\"terminate_and_delete\","
	    "\"pid\":100001,\"timeout_ms\":250}\n");
	ck_assert(test_client_until(&cl, conn_busy, NULL));
	ck_assert(ev_is_active(&child_find(g, "a")->timer));
	child_handle_exit(child_find(g, "a"), W_EXITCODE(0, 0));
	j = test_client_reply(&cl);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(code(j), "");
	ck_assert_ptr_null(json_object_get(j, "reason"));
	json_decref(j);
	ck_assert_ptr_null(child_find(g, "a"));
	expect(GT_E_NOT_FOUND, "{\"op\":\"terminate_child\",\"name\":\"a\"}");
	expect(GT_E_NOT_FOUND, "{\"op\":\"terminate_child\",\"pid\":100001}");
	expect(GT_E_BAD_REQUEST, "{\"op\":\"terminate_child\"}");
	expect(GT_E_BAD_REQUEST, "{\"op\":\"terminate_child\",\"name\":\"a\","
	    "\"pid\":100001}");
}
END_TEST

/* On a row with no process, terminate cancels the restart at once. */
START_TEST(test_cmd_terminate_restarting)
{
	struct child	*c;

	expect("", "{\"op\":\"start_child\"," A_SPEC "}");
	c = child_find(g, "a");
	child_handle_exit(c, W_EXITCODE(1, 0));
	ck_assert_int_eq(c->state, CHILD_RESTARTING);
	expect(GT_E_NOT_FOUND, "{\"op\":\"find\",\"name\":\"a\"}");
	expect("", "{\"op\":\"terminate_child\",\"name\":\"a\"}");
	ck_assert_int_eq(c->state, CHILD_STOPPED);
	ck_assert(!ev_is_active(&c->timer));
	ev_invoke(g->loop, &c->timer, EV_TIMER);	/* a stale fire */
	ck_assert_int_eq(fake_nspawn, 1);
}
END_TEST

/* find_or_open of a restarting row waits for the new incarnation. */
START_TEST(test_cmd_find_or_open_waits_for_restart)
{
	struct child	*c;
	json_t		*j;

	j = request("{\"op\":\"find_or_open\"," A_SPEC ","
	    "\"restart_delay_ms\":10000}");
	ck_assert_str_eq(code(j), "");
	ck_assert(json_is_true(json_object_get(j, "created")));
	json_decref(j);
	/* Running: the same pid, created false, the new spec ignored. */
	j = request("{\"op\":\"find_or_open\",\"name\":\"a\","
	    "\"cmd\":[\"/bin/false\"]}");
	ck_assert(json_is_false(json_object_get(j, "created")));
	ck_assert_int_eq(int_of(j, "pid"), FAKE_PID_BASE + 1);
	json_decref(j);
	ck_assert_str_eq(child_find(g, "a")->spec->cmd[0], "/bin/true");
	/* A typo still fails, although the row exists. */
	expect(GT_E_BAD_REQUEST, "{\"op\":\"find_or_open\",\"name\":\"a\","
	    "\"cmd\":[\"/bin/true\"],\"restrat\":\"temporary\"}");
	c = child_find(g, "a");
	child_handle_exit(c, W_EXITCODE(1, 0));
	test_client_sendz(&cl, "{\"id\":5,\"op\":\"find_or_open\"," A_SPEC
	    "}\n");
	ck_assert(test_client_until(&cl, conn_busy, NULL));
	assert_quiet();
	ev_invoke(g->loop, &c->timer, EV_TIMER);	/* the restart */
	j = test_client_reply(&cl);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(code(j), "");
	ck_assert_int_eq(int_of(j, "id"), 5);
	ck_assert_int_eq(int_of(j, "pid"), FAKE_PID_BASE + 2);
	ck_assert(json_is_true(json_object_get(j, "created")));
	json_decref(j);
	ck_assert_int_eq(fake_nspawn, 2);
}
END_TEST

START_TEST(test_cmd_attrs)
{
	struct child	*c;
	json_t		*j;

	expect("", "{\"op\":\"find_or_open\"," A_SPEC ","
	    "\"attrs\":{\"role\":\"web\"}}");
	j = request("{\"op\":\"getattr\",\"name\":\"a\",\"key\":\"role\"}");
	ck_assert_str_eq(json_string_value(json_object_get(j, "value")),
	    "web");
	json_decref(j);
	expect("", "{\"op\":\"setattr\",\"name\":\"a\",\"attrs\":{\"n\":1,"
	    "\"l\":[1,{\"x\":null}]}}");
	j = request("{\"op\":\"increment\",\"name\":\"a\",\"key\":\"n\","
	    "\"by\":2}");
	ck_assert_int_eq(int_of(j, "value"), 3);
	json_decref(j);
	j = request("{\"op\":\"increment\",\"name\":\"a\",\"key\":\"new\","
	    "\"default\":5}");
	ck_assert_int_eq(int_of(j, "value"), 6);
	json_decref(j);
	expect(GT_E_NOT_FOUND, "{\"op\":\"increment\",\"name\":\"a\","
	    "\"key\":\"missing\"}");
	expect(GT_E_NOT_INTEGER, "{\"op\":\"increment\",\"name\":\"a\","
	    "\"key\":\"role\"}");
	expect(GT_E_NOT_INTEGER, "{\"op\":\"increment\",\"name\":\"a\","
	    "\"key\":\"l\"}");
	expect(GT_E_OVERFLOW, "{\"op\":\"increment\",\"name\":\"a\","
	    "\"key\":\"n\",\"by\":9223372036854775807}");
	j = request("{\"op\":\"getattr\",\"name\":\"a\",\"key\":\"n\"}");
	ck_assert_int_eq(int_of(j, "value"), 3);	/* unchanged */
	json_decref(j);
	j = request("{\"op\":\"getattr\",\"name\":\"a\",\"key\":\"l\"}");
	ck_assert_uint_eq(json_array_size(json_object_get(j, "value")), 2);
	json_decref(j);
	expect("", "{\"op\":\"delattr\",\"name\":\"a\",\"key\":\"n\"}");
	expect(GT_E_NOT_FOUND, "{\"op\":\"getattr\",\"name\":\"a\","
	    "\"key\":\"n\"}");
	expect(GT_E_NOT_FOUND, "{\"op\":\"getattr\",\"name\":\"b\","
	    "\"key\":\"n\"}");
	expect(GT_E_BAD_REQUEST, "{\"op\":\"setattr\",\"name\":\"a\","
	    "\"attrs\":[]}");
	expect(GT_E_BAD_REQUEST, "{\"op\":\"setattr\",\"name\":\"a\","
	    "\"attrs\":{\"\":1}}");
	/* The incarnation ends: its attrs go, and writes are refused. */
	c = child_find(g, "a");
	c->spec->restart_delay_ms = 10000;
	child_handle_exit(c, W_EXITCODE(1, 0));
	expect(GT_E_NOT_RUNNING, "{\"op\":\"getattr\",\"name\":\"a\","
	    "\"key\":\"role\"}");
	expect(GT_E_NOT_RUNNING, "{\"op\":\"setattr\",\"name\":\"a\","
	    "\"attrs\":{\"k\":1}}");
	expect(GT_E_NOT_RUNNING, "{\"op\":\"increment\",\"name\":\"a\","
	    "\"key\":\"k\",\"default\":0}");
	/* The next incarnation starts with the spec's attrs only. */
	ev_invoke(g->loop, &c->timer, EV_TIMER);
	j = request("{\"op\":\"getattr\",\"name\":\"a\",\"key\":\"role\"}");
	ck_assert_str_eq(json_string_value(json_object_get(j, "value")),
	    "web");
	json_decref(j);
	expect(GT_E_NOT_FOUND, "{\"op\":\"getattr\",\"name\":\"a\","
	    "\"key\":\"new\"}");
}
END_TEST

/*
 * The flat path and the JSON path give the same reply.  "\u0061" is "a"
 * to JSON, but its escape sends the line down the JSON path.  '@' in a
 * row stands for the name.
 */
static const char *const flat_rows[] = {
	"{\"op\":\"find\",\"name\":\"@\"}",
	"{\"op\":\"find\",\"name\":\"@\",\"id\":7}",
	"{\"id\":\"q\",\"op\":\"find\",\"name\":\"@\",\"x\":1}",
	"{\"op\":\"find\",\"name\":\"@\",\"id\":null}",
	"{\"op\":\"find\",\"name\":1,\"k\":\"@\"}",
	"{\"op\":\"find\",\"k\":\"@\"}",
	"{\"op\":\"getattr\",\"name\":\"@\",\"key\":\"role\"}",
	"{\"op\":\"getattr\",\"name\":\"@\",\"key\":\"n\"}",
	"{\"op\":\"getattr\",\"name\":\"@\",\"key\":\"nope\"}",
	"{\"op\":\"getattr\",\"name\":\"@\",\"key\":\"n\","
	    "\"wait_ms\":true}",
	"{\"op\":\"increment\",\"name\":\"@\",\"key\":\"n\"}",
	"{\"op\":\"increment\",\"name\":\"@\",\"key\":\"n\","
	    "\"by\":-3}",
	"{\"op\":\"increment\",\"name\":\"@\",\"key\":\"role\"}",
	"{\"op\":\"increment\",\"name\":\"@\",\"key\":\"n\","
	    "\"by\":\"1\"}",
	"{\"op\":\"info\",\"name\":\"@\",\"key\":1}",
	"{\"op\":\"which_children\",\"state\":\"@\"}",
	"{\"op\":\"ping\",\"x\":\"@\"}",
	"{\"op\":\"count_children\",\"x\":\"@\"}",
};

/* The row with its '@' replaced by name. */
static json_t *
flat_request(const char *row, const char *name)
{
	const char	*at = strchr(row, '@');

	ck_assert_ptr_nonnull(at);
	return (request("%.*s%s%s", (int)(at - row), row, name, at + 1));
}

START_TEST(test_cmd_flat_same_reply)
{
	json_t	*flat, *slow;
	char	*a, *b;

	expect("", "{\"op\":\"find_or_open\"," A_SPEC ","
	    "\"attrs\":{\"role\":\"web\",\"n\":1}}");
	/* Two increments in a row: each path sees the other's result. */
	flat = flat_request(flat_rows[_i], "a");
	slow = flat_request(flat_rows[_i], "\\u0061");
	a = json_dumps(flat, JSON_COMPACT | JSON_SORT_KEYS);
	b = json_dumps(slow, JSON_COMPACT | JSON_SORT_KEYS);
	if (strstr(flat_rows[_i], "increment") != NULL &&
	    json_is_true(json_object_get(flat, "ok")))
		ck_assert_int_eq(int_of(slow, "value") - int_of(flat, "value"),
		    strstr(flat_rows[_i], "-3") != NULL ? -3 : 1);
	else
		ck_assert_msg(strcmp(a, b) == 0, "%s: flat %s, JSON %s",
		    flat_rows[_i], a, b);
	free(a);
	free(b);
	json_decref(flat);
	json_decref(slow);
}
END_TEST

/* Integers are written without printf: the extremes and zero. */
START_TEST(test_cmd_int_replies)
{
	json_t	*j;

	expect("", "{\"op\":\"find_or_open\"," A_SPEC ","
	    "\"attrs\":{\"lo\":-9223372036854775807,"
	    "\"hi\":9223372036854775806,\"z\":1}}");
	j = request("{\"op\":\"increment\",\"name\":\"a\",\"key\":\"lo\","
	    "\"by\":-1}");
	ck_assert(int_of(j, "value") == INT64_MIN);
	json_decref(j);
	j = request("{\"op\":\"getattr\",\"name\":\"a\",\"key\":\"lo\"}");
	ck_assert(int_of(j, "value") == INT64_MIN);
	json_decref(j);
	j = request("{\"op\":\"increment\",\"name\":\"a\",\"key\":\"hi\"}");
	ck_assert(int_of(j, "value") == INT64_MAX);
	json_decref(j);
	j = request("{\"op\":\"increment\",\"name\":\"a\",\"key\":\"z\","
	    "\"by\":-1}");
	ck_assert(int_of(j, "value") == 0);
	json_decref(j);
	j = request("{\"op\":\"increment\",\"name\":\"a\",\"key\":\"z\","
	    "\"by\":-10}");
	ck_assert(int_of(j, "value") == -10);
	json_decref(j);
}
END_TEST

/*
 * A text attr that is not valid UTF-8 (a child's STATUS= can be anything)
 * still gives a valid reply: the bad bytes read as U+FFFD.
 */
START_TEST(test_cmd_text_not_utf8)
{
	struct value	 v = { .type = VALUE_TEXT };
	json_t		*j;

	expect("", "{\"op\":\"find_or_open\"," A_SPEC "}");
	v.s = (char *)"a\xff\"\x01\xc3\xa9\xe2\x82z";
	ck_assert_int_eq(registry_attr_set(g->reg, "a", "t", &v), 0);
	j = request("{\"op\":\"getattr\",\"name\":\"a\",\"key\":\"t\"}");
	ck_assert_str_eq(json_string_value(json_object_get(j, "value")),
	    "a\xef\xbf\xbd\"\x01\xc3\xa9\xef\xbf\xbd\xef\xbf\xbdz");
	json_decref(j);
}
END_TEST

/* Two terminates of one child: one signal, both answered after the reap. */
START_TEST(test_cmd_terminate_twice)
{
	struct test_client	 other;
	json_t			*j;

	expect("", "{\"op\":\"start_child\"," A_SPEC "}");
	test_client_open(&other, g);
	test_client_sendz(&cl, "{\"id\":1,\"op\":\"terminate_child\","
	    "\"name\":\"a\"}\n");
	test_client_sendz(&other, "{\"id\":2,\"op\":\"terminate_child\","
	    "\"name\":\"a\"}\n");
	ck_assert(test_client_until(&cl, conn_busy, NULL));
	ck_assert(test_client_until(&other, other_busy, &other));
	ck_assert_int_eq(fake_nkills, 1);
	child_handle_exit(child_find(g, "a"), W_EXITCODE(0, SIGTERM));
	j = test_client_reply(&cl);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(code(j), "");
	json_decref(j);
	j = test_client_reply(&other);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(code(j), "");
	ck_assert_int_eq(int_of(j, "id"), 2);
	ck_assert_ptr_nonnull(json_object_get(j, "reason"));
	json_decref(j);
	test_client_close(&other);
}
END_TEST

/* restart_child: only a stopped row; a manual restart is not counted. */
START_TEST(test_cmd_restart_child)
{
	struct child	*c;
	json_t		*j;

	expect(GT_E_NOT_FOUND, "{\"op\":\"restart_child\",\"name\":\"a\"}");
	expect("", "{\"op\":\"start_child\"," A_SPEC "}");
	c = child_find(g, "a");
	j = request("{\"op\":\"restart_child\",\"name\":\"a\"}");
	ck_assert_str_eq(code(j), GT_E_RUNNING);
	ck_assert_int_eq(int_of(j, "pid"), FAKE_PID_BASE + 1);
	json_decref(j);
	child_handle_exit(c, W_EXITCODE(1, 0));		/* restarting */
	expect(GT_E_RESTARTING, "{\"op\":\"restart_child\",\"name\":\"a\"}");
	expect(GT_E_RESTARTING, "{\"op\":\"delete_child\",\"name\":\"a\"}");
	expect("", "{\"op\":\"terminate_child\",\"name\":\"a\"}");
	ck_assert_int_eq(c->state, CHILD_STOPPED);
	ck_assert_int_eq(c->restart_count, 1);
	j = request("{\"op\":\"restart_child\",\"name\":\"a\"}");
	ck_assert_str_eq(code(j), "");
	ck_assert_int_eq(int_of(j, "pid"), FAKE_PID_BASE + 2);
	json_decref(j);
	ck_assert_int_eq(c->restart_count, 1);
	expect(GT_E_RUNNING, "{\"op\":\"delete_child\",\"name\":\"a\"}");
}
END_TEST

/* getattr wait_ms: answered when another connection sets the key. */
START_TEST(test_cmd_getattr_wait)
{
	struct test_client	 other;
	json_t			*j;

	expect("", "{\"op\":\"find_or_open\"," A_SPEC "}");
	test_client_sendz(&cl, "{\"id\":1,\"op\":\"getattr\",\"name\":\"a\","
	    "\"key\":\"port\",\"wait_ms\":5000}\n");
	ck_assert(test_client_until(&cl, conn_busy, NULL));
	assert_quiet();
	test_client_open(&other, g);
	test_client_sendz(&other, "{\"op\":\"setattr\",\"name\":\"a\","
	    "\"attrs\":{\"other\":1}}\n");
	json_decref(test_client_reply(&other));
	assert_quiet();				/* not that key */
	test_client_sendz(&other, "{\"op\":\"setattr\",\"name\":\"a\","
	    "\"attrs\":{\"port\":8080}}\n");
	json_decref(test_client_reply(&other));
	j = test_client_reply(&cl);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(code(j), "");
	ck_assert_int_eq(int_of(j, "value"), 8080);
	json_decref(j);
	/* A short wait runs out: not_found. */
	j = request("{\"op\":\"getattr\",\"name\":\"a\",\"key\":\"none\","
	    "\"wait_ms\":20}");
	ck_assert_str_eq(code(j), GT_E_NOT_FOUND);
	json_decref(j);
	test_client_close(&other);
}
END_TEST

/* max_attrs: setattr is all or nothing; increment cannot add past it. */
START_TEST(test_cmd_max_attrs)
{
	json_t	*j;

	g->lim.max_attrs = 2;
	expect("", "{\"op\":\"find_or_open\"," A_SPEC "}");
	j = request("{\"op\":\"setattr\",\"name\":\"a\",\"attrs\":{\"x\":1,"
	    "\"y\":2,\"z\":3}}");
	ck_assert_str_eq(code(j), GT_E_LIMIT);
	ck_assert_str_eq(json_string_value(json_object_get(j, "limit")),
	    "max_attrs");
	json_decref(j);
	expect(GT_E_NOT_FOUND, "{\"op\":\"getattr\",\"name\":\"a\","
	    "\"key\":\"x\"}");			/* nothing was written */
	expect("", "{\"op\":\"setattr\",\"name\":\"a\",\"attrs\":{\"x\":1,"
	    "\"y\":2}}");
	expect("", "{\"op\":\"setattr\",\"name\":\"a\",\"attrs\":{\"x\":5}}");
	expect(GT_E_LIMIT, "{\"op\":\"setattr\",\"name\":\"a\","
	    "\"attrs\":{\"z\":1}}");
	expect(GT_E_LIMIT, "{\"op\":\"increment\",\"name\":\"a\","
	    "\"key\":\"z\",\"default\":0}");
	expect("", "{\"op\":\"increment\",\"name\":\"a\",\"key\":\"x\"}");
}
END_TEST

/*
 * add_existing_child when pidfd_open fails.  A missing call (ENOSYS: a
 * kernel before 5.3, valgrind) or another failure that is not the pid's
 * is spawn_failed with the errno, never noproc; ESRCH is noproc.  No row
 * is left behind, and with pidfd_open working the same pid is adopted.
 */
START_TEST(test_cmd_adopt_pidfd_fails)
{
	static const struct {
		int		 err;
		const char	*code;
		const char	*errname;	/* NULL: no errno field */
	} t[] = {
		{ ENOSYS, GT_E_SPAWN_FAILED, "ENOSYS" },
		{ EMFILE, GT_E_SPAWN_FAILED, "EMFILE" },
		{ ESRCH, GT_E_NOPROC, NULL },
	};
	const char	*msg;
	json_t		*j;
	size_t		 i;
	pid_t		 pid;

	/* A process of our own that is neither gtd (us) nor its parent. */
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		fake_pidfd_errno = t[i].err;
		j = request("{\"op\":\"add_existing_child\",\"name\":\"a\","
		    "\"pid\":%d}", (int)pid);
		ck_assert_str_eq(code(j), t[i].code);
		msg = json_string_value(json_object_get(j, "message"));
		ck_assert_ptr_nonnull(msg);
		if (t[i].errname != NULL) {
			ck_assert_str_eq(json_string_value(json_object_get(j,
			    "errno")), t[i].errname);
			ck_assert_msg(strstr(msg, "pidfd_open") != NULL,
			    "message: %s", msg);
		} else
			ck_assert_ptr_null(json_object_get(j, "errno"));
		json_decref(j);
		ck_assert_ptr_null(child_find(g, "a"));
	}
	fake_pidfd_errno = 0;
	j = request("{\"op\":\"add_existing_child\",\"name\":\"a\","
	    "\"pid\":%d}", (int)pid);
	ck_assert_str_eq(code(j), "");
	ck_assert_int_eq(int_of(j, "pid"), pid);
	json_decref(j);
	j = request("{\"op\":\"find\",\"name\":\"a\"}");
	ck_assert_str_eq(json_string_value(json_object_get(j, "state")),
	    "running");
	json_decref(j);
	kill(pid, SIGKILL);
	(void)waitpid(pid, NULL, 0);	/* the test's own child */
}
END_TEST

Suite *
cmd_suite(void)
{
	Suite	*s = suite_create("cmd");
	TCase	*tc;
	int	 n = cmd_count();

	tc = tcase_create("table");
	tcase_add_test(tc, test_cmd_table_sorted_unique);
	tcase_add_loop_test(tc, test_cmd_table_entry, 0, n);
	tcase_add_loop_test(tc, test_cmd_find_each, 0, n);
	tcase_add_loop_test(tc, test_cmd_find_unknown, 0, NROWS(unknown_rows));
	tcase_add_test(tc, test_cmd_in_gtctl_manual);
	tcase_add_test(tc, test_cmd_in_protocol_manual);
	suite_add_tcase(s, tc);

	tc = tcase_create("dispatch");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_cmd_shutting_down_refuses_mutations, 0, n);
	tcase_add_loop_test(tc, test_cmd_unknown_argument, 0, n);
	tcase_add_test(tc, test_cmd_hello_lists_ops);
	tcase_add_test(tc, test_cmd_double_shutdown);
	suite_add_tcase(s, tc);

	tc = tcase_create("ops");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_cmd_start_terminate);
	tcase_add_test(tc, test_cmd_terminate_and_delete);
	tcase_add_test(tc, test_cmd_terminate_restarting);
	tcase_add_test(tc, test_cmd_find_or_open_waits_for_restart);
	tcase_add_test(tc, test_cmd_attrs);
	tcase_add_loop_test(tc, test_cmd_flat_same_reply, 0, NROWS(flat_rows));
	tcase_add_test(tc, test_cmd_int_replies);
	tcase_add_test(tc, test_cmd_text_not_utf8);
	tcase_add_test(tc, test_cmd_terminate_twice);
	tcase_add_test(tc, test_cmd_restart_child);
	tcase_add_test(tc, test_cmd_getattr_wait);
	tcase_add_test(tc, test_cmd_max_attrs);
	tcase_add_test(tc, test_cmd_adopt_pidfd_fails);
	suite_add_tcase(s, tc);
	return (s);
}
