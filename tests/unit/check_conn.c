/* SPDX-License-Identifier: MIT */
/*
 * check_conn: one connection over a socketpair, the daemon side driven
 * by EVRUN_NOWAIT iterations: framing, pipelining and reply order, the
 * request size bound, half-close, and a waiting request holding back the
 * ones behind it.  Children are fakes (no process is ever created).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "gt/child.h"
#include "gt/config.h"
#include "gt/cmd.h"
#include "gt/conn.h"
#include "gt/event.h"
#include "gt/gtd.h"
#include "gt/protocol.h"
#include "gt/spec.h"
#include "gt/xmalloc.h"

#include "check_unit.h"

static struct gtd		*g;
static struct test_client	 cl, cl2;

static void
setup(void)
{
	g = test_gtd_new();
	test_client_open(&cl, g);
	cl2.fd = -1;
}

static void
teardown(void)
{
	test_client_close(&cl);
	test_client_close(&cl2);
	gtd_free(g);
	g = NULL;
}

/* The next reply; fails the test if none comes. */
static json_t *
reply(struct test_client *c)
{
	json_t	*j = test_client_reply(c);

	ck_assert_msg(j != NULL, "no reply (eof %d, %zu bytes pending)",
	    c->eof, c->len);
	return (j);
}

static void
assert_ok(json_t *j, json_int_t id)
{
	char	*s = json_dumps(j, JSON_COMPACT);

	ck_assert_msg(json_is_true(json_object_get(j, "ok")), "not ok: %s", s);
	ck_assert_msg(json_integer_value(json_object_get(j, "id")) == id,
	    "id: %s, want %lld", s, (long long)id);
	free(s);
}

static void
assert_error(json_t *j, const char *code)
{
	char	*s = json_dumps(j, JSON_COMPACT);

	ck_assert_msg(json_is_false(json_object_get(j, "ok")), "ok: %s", s);
	ck_assert_msg(json_is_string(json_object_get(j, "error")) &&
	    strcmp(json_string_value(json_object_get(j, "error")), code) == 0,
	    "error: %s, want %s", s, code);
	ck_assert_msg(json_is_string(json_object_get(j, "message")),
	    "no message: %s", s);
	free(s);
}

/* Nothing arrives within a few loop iterations (after a condition). */
static void
assert_quiet(struct test_client *c)
{
	int	i;

	for (i = 0; i < 20; i++)
		test_client_pump(c, 1);
	ck_assert_msg(c->len == 0 && !c->eof, "unexpected %zu bytes: %.*s",
	    c->len, (int)c->len, c->buf);
}

START_TEST(test_conn_pipelined_in_order)
{
	json_t	*j;

	test_client_sendz(&cl, "{\"id\":1,\"op\":\"ping\"}\n"
	    "{\"id\":2,\"op\":\"hello\"}\n{\"id\":3,\"op\":\"nope\"}\n"
	    "{\"id\":4,\"op\":\"count_children\"}\n");
	j = reply(&cl);
	assert_ok(j, 1);
	json_decref(j);
	j = reply(&cl);
	assert_ok(j, 2);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "protocol")),
	    GT_PROTO_VERSION);
	json_decref(j);
	j = reply(&cl);
	assert_error(j, GT_E_UNKNOWN_OP);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "id")), 3);
	json_decref(j);
	j = reply(&cl);
	assert_ok(j, 4);
	json_decref(j);
	assert_quiet(&cl);
	ck_assert_int_eq(g->stats.requests, 4);
}
END_TEST

/* Any JSON value is a valid id and comes back verbatim. */
static const char *id_rows[] = {
	"0", "-7", "1.5", "\"abc\"", "\"\"", "true", "null", "[]",
	"[1,{\"a\":[null]}]", "{\"x\":\"y\"}", "\"multi\\nline\"",
	"9223372036854775807",
};

START_TEST(test_conn_ids_echoed)
{
	json_t	*j, *want;
	char	*line;

	xasprintf(&line, "{\"op\":\"ping\",\"id\":%s}\n", id_rows[_i]);
	test_client_sendz(&cl, line);
	free(line);
	j = reply(&cl);
	want = json_loads(id_rows[_i], JSON_DECODE_ANY, NULL);
	ck_assert_ptr_nonnull(json_object_get(j, "id"));
	ck_assert_msg(json_equal(json_object_get(j, "id"), want), "id %s",
	    id_rows[_i]);
	ck_assert(json_is_true(json_object_get(j, "ok")));
	json_decref(want);
	json_decref(j);
}
END_TEST

START_TEST(test_conn_no_id_no_id)
{
	json_t	*j;

	test_client_sendz(&cl, "{\"op\":\"ping\"}\n");
	j = reply(&cl);
	ck_assert(json_is_true(json_object_get(j, "ok")));
	ck_assert_ptr_null(json_object_get(j, "id"));
	json_decref(j);
}
END_TEST

START_TEST(test_conn_blank_lines)
{
	json_t	*j;

	test_client_sendz(&cl, "\n \n\t\r\n\r\n   \t  \n{\"id\":7,"
	    "\"op\":\"ping\"}\n\n");
	j = reply(&cl);
	assert_ok(j, 7);
	json_decref(j);
	assert_quiet(&cl);
	ck_assert_int_eq(g->stats.requests, 1);
	shutdown(cl.fd, SHUT_WR);
	ck_assert(test_client_wait_eof(&cl));
}
END_TEST

static const char *bad_json_rows[] = {
	"{nope",
	"[1,2]",
	"\"ping\"",
	"42",
	"{\"op\":\"ping\",\"op\":\"ping\"}",
	"{\"op\":\"\xff\"}",
	"{\"op\":\"ping\"} trailing",
};

/* bad_json is answered and the connection stays open (protocol §1). */
START_TEST(test_conn_bad_json_keeps_connection)
{
	json_t	*j;
	char	*line;

	xasprintf(&line, "%s\n{\"id\":2,\"op\":\"ping\"}\n", bad_json_rows[_i]);
	test_client_sendz(&cl, line);
	free(line);
	j = reply(&cl);
	assert_error(j, GT_E_BAD_JSON);
	ck_assert_ptr_null(json_object_get(j, "id"));
	json_decref(j);
	j = reply(&cl);
	assert_ok(j, 2);
	json_decref(j);
	ck_assert_int_eq(connset_count(g->conns), 1);
	ck_assert(!(cl.cn->flags & (CONN_DEAD | CONN_CLOSING)));
}
END_TEST

static const struct {
	const char	*line;
	const char	*error;
	const char	*field;		/* NULL: none expected */
} envelope_rows[] = {
	{ "{\"id\":1}", GT_E_BAD_REQUEST, "op" },
	{ "{\"id\":1,\"op\":7}", GT_E_BAD_REQUEST, "op" },
	{ "{\"id\":1,\"op\":null}", GT_E_BAD_REQUEST, "op" },
	{ "{\"id\":1,\"op\":[\"ping\"]}", GT_E_BAD_REQUEST, "op" },
	{ "{\"id\":1,\"op\":\"\"}", GT_E_UNKNOWN_OP, NULL },
	{ "{\"id\":1,\"op\":\"PING\"}", GT_E_UNKNOWN_OP, NULL },
	{ "{\"id\":1,\"op\":\"pin\"}", GT_E_UNKNOWN_OP, NULL },
	{ "{\"id\":1,\"op\":\"ping \"}", GT_E_UNKNOWN_OP, NULL },
	{ "{\"id\":1,\"op\":\"ping\",\"extra\":1}", GT_E_BAD_REQUEST, "extra" },
};

/* Envelope errors are answered with the id, and the connection stays. */
START_TEST(test_conn_envelope_errors)
{
	json_t		*j;
	const char	*field;
	char		*line;

	xasprintf(&line, "%s\n{\"id\":2,\"op\":\"ping\"}\n",
	    envelope_rows[_i].line);
	test_client_sendz(&cl, line);
	free(line);
	j = reply(&cl);
	assert_error(j, envelope_rows[_i].error);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "id")), 1);
	field = json_string_value(json_object_get(j, "field"));
	if (envelope_rows[_i].field != NULL)
		ck_assert_msg(field != NULL && strcmp(field,
		    envelope_rows[_i].field) == 0, "field %s, want %s", field,
		    envelope_rows[_i].field);
	json_decref(j);
	j = reply(&cl);
	assert_ok(j, 2);
	json_decref(j);
}
END_TEST

static bool
has_input(void *arg)
{
	return (cl.cn->inlen > 0);
}

START_TEST(test_conn_partial_line)
{
	json_t	*j;

	test_client_sendz(&cl, "{\"id\":1,\"op\":");
	ck_assert(test_client_until(&cl, has_input, NULL));
	assert_quiet(&cl);
	test_client_sendz(&cl, "\"pi");
	assert_quiet(&cl);
	test_client_sendz(&cl, "ng\"}\r\n{\"id\":2,");	/* CRLF is fine */
	j = reply(&cl);
	assert_ok(j, 1);
	json_decref(j);
	assert_quiet(&cl);
	test_client_sendz(&cl, "\"op\":\"ping\"}\n");
	j = reply(&cl);
	assert_ok(j, 2);
	json_decref(j);
}
END_TEST

START_TEST(test_conn_large_batch)
{
	json_t	*j;
	char	*buf;
	size_t	 len = 0;
	int	 i, n = 2000;

	buf = xmalloc(n * 48);
	for (i = 0; i < n; i++)
		len += snprintf(buf + len, 48, "{\"id\":%d,\"op\":\"ping\"}\n",
		    i);
	ck_assert_uint_gt(len, 16384 * 2);	/* several reads */
	test_client_send(&cl, buf, len);
	free(buf);
	for (i = 0; i < n; i++) {
		j = reply(&cl);
		assert_ok(j, i);
		json_decref(j);
	}
	assert_quiet(&cl);
}
END_TEST

/* Limits around the read chunk (16 KiB) and its doublings. */
static const size_t limit_rows[] = { 64, 100, 16383, 16384, 16385, 40000 };

/* A request line of n bytes ({"id":1,"op":"ping"} padded), plus "\n". */
static char *
padded_ping(size_t n)
{
	char	*line;

	line = xmalloc(n + 1);
	memset(line, ' ', n);
	memcpy(line, "{\"id\":1,\"op\":\"ping\"}", 20);
	line[n] = '\n';
	return (line);
}

/* A request of exactly max_request_bytes is served, and so is the next. */
START_TEST(test_conn_request_at_limit)
{
	size_t	 n = limit_rows[_i];
	json_t	*j;
	char	*line;

	g->lim.max_request_bytes = n;
	line = padded_ping(n);
	test_client_send(&cl, line, n + 1);
	free(line);
	test_client_sendz(&cl, "{\"id\":2,\"op\":\"ping\"}\n");
	j = reply(&cl);
	assert_ok(j, 1);
	json_decref(j);
	j = reply(&cl);
	assert_ok(j, 2);
	json_decref(j);
	ck_assert_int_eq(connset_count(g->conns), 1);
}
END_TEST

/* One byte over: too_big, then the connection closes (protocol §1). */
START_TEST(test_conn_too_big_then_eof)
{
	size_t	 n = limit_rows[_i];
	json_t	*j;
	char	*line;

	g->lim.max_request_bytes = n;
	line = padded_ping(n + 1);
	test_client_send(&cl, line, n + 2);
	free(line);
	/* A good request behind it is never answered. */
	test_client_sendz(&cl, "{\"id\":2,\"op\":\"ping\"}\n");
	j = reply(&cl);
	assert_error(j, GT_E_TOO_BIG);
	json_decref(j);
	ck_assert(test_client_wait_eof(&cl));
	ck_assert_int_eq(connset_count(g->conns), 0);
}
END_TEST

/* Far over the limit, and behind a good request. */
START_TEST(test_conn_too_big_after_good)
{
	json_t	*j;
	char	*line;

	g->lim.max_request_bytes = 64;
	test_client_sendz(&cl, "{\"id\":1,\"op\":\"ping\"}\n");
	line = padded_ping(100000);
	test_client_send(&cl, line, 100001);
	free(line);
	j = reply(&cl);
	assert_ok(j, 1);
	json_decref(j);
	j = reply(&cl);
	assert_error(j, GT_E_TOO_BIG);
	json_decref(j);
	ck_assert(test_client_wait_eof(&cl));
}
END_TEST

/* No newline at all: too_big as soon as the limit is passed. */
START_TEST(test_conn_too_big_no_newline)
{
	char	line[100];
	json_t	*j;

	g->lim.max_request_bytes = 64;
	memset(line, 'x', sizeof line);
	test_client_send(&cl, line, sizeof line);
	j = reply(&cl);
	assert_error(j, GT_E_TOO_BIG);
	json_decref(j);
	ck_assert(test_client_wait_eof(&cl));
}
END_TEST

/* SHUT_WR after pipelining: every reply, then EOF from the daemon. */
START_TEST(test_conn_half_close)
{
	json_t	*j;

	test_client_sendz(&cl, "{\"id\":1,\"op\":\"ping\"}\n{\"id\":2,"
	    "\"op\":\"hello\"}\n{\"id\":3,\"op\":\"ping\"}");	/* no \n */
	ck_assert_int_eq(shutdown(cl.fd, SHUT_WR), 0);
	j = reply(&cl);
	assert_ok(j, 1);
	json_decref(j);
	j = reply(&cl);
	assert_ok(j, 2);
	json_decref(j);
	j = reply(&cl);
	assert_ok(j, 3);
	json_decref(j);
	ck_assert(test_client_wait_eof(&cl));
	ck_assert_int_eq(connset_count(g->conns), 0);
}
END_TEST

static bool
no_conns(void *arg)
{
	return (connset_count(g->conns) == 0);
}

/* The peer goes away with a request in flight: closed, then reaped. */
START_TEST(test_conn_peer_close)
{
	test_client_sendz(&cl, "{\"id\":1,\"op\":\"ping\"}\n");
	test_client_close(&cl);			/* pumping now polls nothing */
	ck_assert(test_client_until(&cl, no_conns, NULL));
	ck_assert(connset_has_dead(g->conns));
	connset_reap(g->conns);
	ck_assert(!connset_has_dead(g->conns));
}
END_TEST

/*
 * A subscriber half-closes: its requests are answered and it stays for
 * its events.  When it then closes, the connection goes at once, with no
 * event written to find out.
 */
START_TEST(test_conn_subscriber_half_close_then_close)
{
	json_t	*j;
	int	 i;

	test_client_sendz(&cl, "{\"id\":1,\"op\":\"subscribe\"}\n"
	    "{\"id\":2,\"op\":\"ping\"}");	/* no \n: answered at EOF */
	ck_assert_int_eq(shutdown(cl.fd, SHUT_WR), 0);
	j = reply(&cl);
	assert_ok(j, 1);
	json_decref(j);
	j = reply(&cl);
	assert_ok(j, 2);
	json_decref(j);
	for (i = 0; i < 20; i++)
		test_client_pump(&cl, 1);
	ck_assert(!cl.eof);
	ck_assert_int_eq(connset_count(g->conns), 1);
	ck_assert(conn_kept_open(cl.cn));
	test_client_close(&cl);
	ck_assert(test_client_until(&cl, no_conns, NULL));
}
END_TEST

/* Replies nobody reads past max_output_bytes: the connection is closed. */
START_TEST(test_conn_output_cap)
{
	char	*buf;
	size_t	 len = 0;
	int	 i, n = 200;

	long long	 deadline;
	int		 small = 4096;

	g->lim.max_output_bytes = 4096;
	/*
	 * The client never reads and the socket holds little: replies pile
	 * up.
	 */
	ck_assert_int_eq(setsockopt(cl.cn->fd, SOL_SOCKET, SO_SNDBUF, &small,
	    sizeof small), 0);
	buf = xmalloc(n * 32);
	for (i = 0; i < n; i++)
		len += snprintf(buf + len, 32, "{\"op\":\"hello\"}\n");
	test_client_send(&cl, buf, len);
	free(buf);
	deadline = test_now_ms() + TEST_DEADLINE_MS;
	while (!no_conns(NULL) && test_now_ms() <= deadline) {
		ev_run(g->loop, EVRUN_NOWAIT);
		poll(NULL, 0, 1);
	}
	ck_assert(no_conns(NULL));
	test_client_open(&cl2, g);		/* the daemon carries on */
	test_client_sendz(&cl2, "{\"id\":1,\"op\":\"ping\"}\n");
	json_decref(reply(&cl2));
}
END_TEST

/* Make the next fake spawn start with an exec-status pipe we hold. */
static int
starting_child(void)
{
	int	p[2];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	fake_statusfd = p[0];			/* the child will own it */
	return (p[1]);
}

static bool
conn_busy(void *arg)
{
	return ((cl.cn->flags & CONN_PAUSED) != 0);
}

/*
 * A waiting request (find_or_open on a starting child) holds back the
 * requests behind it on its connection, not on others (protocol §1).
 */
START_TEST(test_conn_wait_holds_back)
{
	json_t		*j;
	struct child	*c;
	int		 wfd = starting_child();

	test_client_sendz(&cl, "{\"id\":1,\"op\":\"find_or_open\","
	    "\"name\":\"w\",\"cmd\":[\"/bin/true\"]}\n"
	    "{\"id\":2,\"op\":\"ping\"}\n");
	ck_assert(test_client_until(&cl, conn_busy, NULL));
	ck_assert_ptr_nonnull(c = child_find(g, "w"));
	ck_assert_int_eq(c->state, CHILD_STARTING);
	assert_quiet(&cl);			/* not even the ping */
	/* Another connection is served meanwhile. */
	test_client_open(&cl2, g);
	test_client_sendz(&cl2, "{\"id\":9,\"op\":\"ping\"}\n");
	j = reply(&cl2);
	assert_ok(j, 9);
	json_decref(j);
	assert_quiet(&cl);
	/* exec succeeded: the waiting reply, then the ping, in order. */
	close(wfd);
	j = reply(&cl);
	assert_ok(j, 1);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "pid")),
	    FAKE_PID_BASE + 1);
	ck_assert_str_eq(json_string_value(json_object_get(j, "state")),
	    "running");
	ck_assert(json_is_true(json_object_get(j, "created")));
	json_decref(j);
	j = reply(&cl);
	assert_ok(j, 2);
	json_decref(j);
	ck_assert(!(cl.cn->flags & CONN_PAUSED));
}
END_TEST

/* A half-closed client still gets the reply of its waiting request. */
START_TEST(test_conn_wait_then_eof)
{
	json_t	*j;
	int	 wfd = starting_child();

	test_client_sendz(&cl, "{\"id\":1,\"op\":\"find_or_open\","
	    "\"name\":\"w\",\"cmd\":[\"/bin/true\"]}\n"
	    "{\"id\":2,\"op\":\"ping\"}\n");
	ck_assert_int_eq(shutdown(cl.fd, SHUT_WR), 0);
	ck_assert(test_client_until(&cl, conn_busy, NULL));
	assert_quiet(&cl);
	close(wfd);
	j = reply(&cl);
	assert_ok(j, 1);
	json_decref(j);
	j = reply(&cl);
	assert_ok(j, 2);
	json_decref(j);
	ck_assert(test_client_wait_eof(&cl));
}
END_TEST

/* find_or_open's timeout_ms: a timeout error, without "created". */
START_TEST(test_conn_wait_timeout)
{
	json_t	*j;
	int	 wfd = starting_child();

	test_client_sendz(&cl, "{\"id\":1,\"op\":\"find_or_open\","
	    "\"name\":\"w\",\"cmd\":[\"/bin/true\"],\"timeout_ms\":0}\n"
	    "{\"id\":2,\"op\":\"ping\"}\n");
	j = reply(&cl);
	assert_error(j, GT_E_TIMEOUT);
	ck_assert_ptr_null(json_object_get(j, "created"));
	json_decref(j);
	j = reply(&cl);
	assert_ok(j, 2);
	json_decref(j);
	close(wfd);
}
END_TEST


/* A running (fake) child named name. */
static struct child *
running_child(const char *name)
{
	struct childspec	*s = test_spec(name, SPEC_PERMANENT);
	struct child		*c;

	ck_assert_ptr_nonnull(c = child_add(g, s, config_spec_text(s)));
	ck_assert_int_eq(child_start(c), 0);
	ck_assert_int_eq(c->state, CHILD_RUNNING);
	return (c);
}

/* An event line of about n bytes, for name. */
static void
emit_padded(const char *name, size_t n)
{
	char	*pad = xmalloc(n + 1);

	memset(pad, 'p', n);
	pad[n] = '\0';
	event_emit(g->events, EVENT_STOPPED, name, json_pack("{s:s}", "pad", pad));
	free(pad);
}

/*
 * Two subscribers; the first stops reading (a tiny socket buffer and
 * output cap) and is closed in the middle of an event's delivery.  The
 * subscription it had must outlive that delivery (it used to be freed
 * by conn_close and then read: a use after free), the second subscriber
 * gets every event, and the reaper frees the closed one.
 */
START_TEST(test_conn_subscriber_closed_during_delivery)
{
	struct conn	*slow;
	json_t		*j;
	int		 i, small = 4096, n = 64;

	test_client_open(&cl2, g);
	g->lim.max_output_bytes = 8192;
	slow = cl.cn;
	ck_assert_int_eq(setsockopt(slow->fd, SOL_SOCKET, SO_SNDBUF, &small,
	    sizeof small), 0);
	test_client_sendz(&cl, "{\"id\":1,\"op\":\"subscribe\"}\n");
	test_client_sendz(&cl2, "{\"id\":2,\"op\":\"subscribe\"}\n");
	assert_ok(j = reply(&cl), 1);
	json_decref(j);
	assert_ok(j = reply(&cl2), 2);
	json_decref(j);
	for (i = 0; i < n; i++) {
		emit_padded("x", 1000);
		j = reply(&cl2);
		ck_assert_str_eq(json_string_value(json_object_get(j,
		    "event")), "stopped");
		json_decref(j);
	}
	ck_assert_msg(slow->flags & CONN_DEAD, "the slow subscriber is open");
	ck_assert_int_eq(connset_count(g->conns), 1);
	/* Closed, inert, but not freed until the reaper runs. */
	ck_assert(conn_kept_open(slow));
	ck_assert(connset_has_dead(g->conns));
	ck_assert(!event_wanted(g->events, EVENT_STOPPED, "y") ||
	    conn_kept_open(cl2.cn));
	connset_reap(g->conns);
	ck_assert(!connset_has_dead(g->conns));
	emit_padded("x", 10);
	json_decref(reply(&cl2));
}
END_TEST

/* The same with log lines of a followed child (logs follow). */
START_TEST(test_conn_follower_closed_during_delivery)
{
	struct child	*c;
	struct conn	*slow;
	json_t		*j;
	char		 line[2048];
	int		 i, small = 4096;

	c = running_child("chatty");
	test_client_open(&cl2, g);
	g->lim.max_output_bytes = 8192;
	slow = cl.cn;
	ck_assert_int_eq(setsockopt(slow->fd, SOL_SOCKET, SO_SNDBUF, &small,
	    sizeof small), 0);
	test_client_sendz(&cl, "{\"id\":1,\"op\":\"logs\",\"name\":\"chatty\","
	    "\"follow\":true}\n");
	test_client_sendz(&cl2, "{\"id\":2,\"op\":\"logs\",\"name\":"
	    "\"chatty\",\"follow\":true}\n");
	assert_ok(j = reply(&cl), 1);
	json_decref(j);
	assert_ok(j = reply(&cl2), 2);
	json_decref(j);
	memset(line, 'l', sizeof line);
	for (i = 0; i < 64; i++) {
		event_child_log(g->events, c, "stdout", 0, line, sizeof line);
		j = reply(&cl2);
		ck_assert_str_eq(json_string_value(json_object_get(j,
		    "event")), "log");
		json_decref(j);
	}
	ck_assert(slow->flags & CONN_DEAD);
	connset_reap(g->conns);
	ck_assert(!connset_has_dead(g->conns));
}
END_TEST

/* One request; its reply, which must be an error with this limit. */
static void
assert_limit(struct test_client *c, const char *req, const char *limit)
{
	json_t	*j;

	test_client_sendz(c, req);
	j = reply(c);
	assert_error(j, GT_E_LIMIT);
	ck_assert_str_eq(json_string_value(json_object_get(j, "limit")),
	    limit);
	json_decref(j);
}

/* Following one name again and again adds nothing; names are bounded. */
START_TEST(test_conn_follow_bounded)
{
	json_t	*j;
	char	 req[128], name[16];
	int	 i;

	running_child("a");
	for (i = 0; i < 1000; i++) {
		test_client_sendz(&cl, "{\"id\":1,\"op\":\"logs\",\"name\":"
		    "\"a\",\"follow\":true,\"lines\":0}\n");
		assert_ok(j = reply(&cl), 1);
		json_decref(j);
	}
	ck_assert_int_eq(event_follow_ok(g->events, cl.cn, "a"), 0);
	for (i = 1; i < GT_FOLLOWS_MAX; i++) {
		snprintf(name, sizeof name, "c%d", i);
		running_child(name);
		snprintf(req, sizeof req, "{\"id\":2,\"op\":\"logs\",\"name\":"
		    "\"%s\",\"follow\":true}\n", name);
		test_client_sendz(&cl, req);
		assert_ok(j = reply(&cl), 2);
		json_decref(j);
	}
	running_child("one_more");
	assert_limit(&cl, "{\"op\":\"logs\",\"name\":\"one_more\","
	    "\"follow\":true}\n", "max_follows");
	/* Without follow, and a name already followed: fine. */
	test_client_sendz(&cl, "{\"id\":3,\"op\":\"logs\",\"name\":"
	    "\"one_more\"}\n{\"id\":4,\"op\":\"logs\",\"name\":\"c5\","
	    "\"follow\":true}\n");
	assert_ok(j = reply(&cl), 3);
	json_decref(j);
	assert_ok(j = reply(&cl), 4);
	json_decref(j);
}
END_TEST

/* subscribe names: bounded, duplicates fold, a new subscribe replaces. */
START_TEST(test_conn_subscribe_names_bounded)
{
	json_t	*j;
	char	*req;
	size_t	 len = 0, size = (GT_SUBSCRIBE_NAMES_MAX + 2) * 16;
	int	 i;

	req = xmalloc(size);
	len += snprintf(req + len, size - len, "{\"op\":\"subscribe\","
	    "\"names\":[");
	for (i = 0; i <= GT_SUBSCRIBE_NAMES_MAX; i++)
		len += snprintf(req + len, size - len, "%s\"n%d\"",
		    i > 0 ? "," : "", i);
	snprintf(req + len, size - len, "]}\n");
	assert_limit(&cl, req, "max_subscribe_names");
	free(req);
	ck_assert(!conn_kept_open(cl.cn));
	test_client_sendz(&cl, "{\"id\":1,\"op\":\"subscribe\",\"names\":"
	    "[\"b\",\"a\",\"b\",\"a\",\"c\"]}\n");
	assert_ok(j = reply(&cl), 1);
	json_decref(j);
	ck_assert(event_wanted(g->events, EVENT_STOPPED, "a"));
	ck_assert(event_wanted(g->events, EVENT_STOPPED, "b"));
	ck_assert(event_wanted(g->events, EVENT_STOPPED, "c"));
	ck_assert(!event_wanted(g->events, EVENT_STOPPED, "d"));
	test_client_sendz(&cl, "{\"id\":2,\"op\":\"subscribe\",\"names\":"
	    "[\"d\"]}\n");
	assert_ok(j = reply(&cl), 2);
	json_decref(j);
	ck_assert(!event_wanted(g->events, EVENT_STOPPED, "a"));
	ck_assert(event_wanted(g->events, EVENT_STOPPED, "d"));
	test_client_sendz(&cl, "{\"id\":3,\"op\":\"subscribe\"}\n");
	assert_ok(j = reply(&cl), 3);
	json_decref(j);
	ck_assert(event_wanted(g->events, EVENT_STOPPED, "anything"));
}
END_TEST

/* Send req, take its reply (caller decrefs). */
static json_t *
ask(struct test_client *c, const char *req)
{
	test_client_sendz(c, req);
	return (reply(c));
}

/* setattr name key to a string of n bytes; returns the reply. */
static json_t *
set_blob(const char *name, const char *key, size_t n)
{
	json_t	*req, *j;
	char	*s, *line;

	s = xmalloc(n + 1);
	memset(s, 'v', n);
	s[n] = '\0';
	req = json_pack("{s:s, s:s, s:{s:s}}", "op", "setattr", "name", name,
	    "attrs", key, s);
	line = json_dumps(req, JSON_COMPACT);
	test_client_sendz(&cl, line);
	test_client_sendz(&cl, "\n");
	j = reply(&cl);
	free(line);
	free(s);
	json_decref(req);
	return (j);
}

static void
assert_limit_reply(json_t *j, const char *limit)
{
	assert_error(j, GT_E_LIMIT);
	ck_assert_str_eq(json_string_value(json_object_get(j, "limit")),
	    limit);
	json_decref(j);
}

/*
 * A reply larger than max_output_bytes, even the first on its connection,
 * is a limit error instead; the connection stays and serves on.
 */
START_TEST(test_conn_first_reply_capped)
{
	json_t	*j;
	char	 name[16];
	int	 i;

	g->lim.max_output_bytes = 8192;
	running_child("a");
	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof name, "k%d", i);
		json_decref(set_blob("a", name, 3000));
	}
	assert_limit_reply(ask(&cl, "{\"id\":1,\"op\":\"list\"}\n"),
	    "max_output_bytes");
	assert_limit_reply(ask(&cl, "{\"id\":2,\"op\":\"info\",\"name\":"
	    "\"a\"}\n"), "max_output_bytes");
	/* What fits is served. */
	assert_ok(j = ask(&cl, "{\"id\":3,\"op\":\"list\",\"keys\":"
	    "[\"k0\"]}\n"), 3);
	json_decref(j);
	assert_ok(j = ask(&cl, "{\"id\":4,\"op\":\"getattr\",\"name\":\"a\","
	    "\"key\":\"k1\"}\n"), 4);
	json_decref(j);
	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof name, "c%d", i);
		running_child(name);
	}
	assert_limit_reply(ask(&cl, "{\"id\":5,\"op\":\"which_children\"}\n"),
	    "max_output_bytes");
	ck_assert_int_eq(connset_count(g->conns), 1);
	ck_assert_uint_le(g->cmd->rsize, 16384);	/* stopped early */
}
END_TEST

/* Past the daemon-wide cap of unsent replies: limit output_total. */
START_TEST(test_conn_output_total_capped)
{
	json_t	*j;
	long	 held = (long)(GT_OUTPUT_TOTAL_MAX - 64 -
	    connset_queued(g->conns));

	/* As if other connections held nearly all of it. */
	connset_test_charge(g->conns, held);
	assert_limit_reply(ask(&cl, "{\"id\":1,\"op\":\"hello\"}\n"),
	    "output_total");
	connset_test_charge(g->conns, -held);
	assert_ok(j = ask(&cl, "{\"id\":2,\"op\":\"hello\"}\n"), 2);
	json_decref(j);
}
END_TEST

/* attr values and a child's attr bytes are bounded. */
START_TEST(test_conn_attr_bytes_bounded)
{
	json_t	*j;
	char	 key[16];
	int	 i;

	g->lim.max_attr_value_bytes = 1000;
	g->lim.max_attr_bytes = 3500;
	running_child("a");
	assert_ok(j = set_blob("a", "k", 1000), 0);
	json_decref(j);
	j = set_blob("a", "k", 1001);
	ck_assert_str_eq(json_string_value(json_object_get(j, "field")),
	    "attrs.k");
	assert_limit_reply(j, "max_attr_value_bytes");
	/* Replacing a value counts only the new one. */
	for (i = 0; i < 10; i++) {
		assert_ok(j = set_blob("a", "k", 999), 0);
		json_decref(j);
	}
	for (i = 0; i < 2; i++) {
		snprintf(key, sizeof key, "k%d", i);
		assert_ok(j = set_blob("a", key, 990), 0);
		json_decref(j);
	}
	assert_limit_reply(set_blob("a", "k9", 990), "max_attr_bytes");
	/* Nothing of a refused setattr is written. */
	assert_error(j = ask(&cl, "{\"op\":\"getattr\",\"name\":\"a\","
	    "\"key\":\"k9\"}\n"), GT_E_NOT_FOUND);
	json_decref(j);
	/* A new key by increment counts its key. */
	assert_ok(j = ask(&cl, "{\"id\":7,\"op\":\"increment\",\"name\":"
	    "\"a\",\"key\":\"n\",\"default\":0}\n"), 7);
	json_decref(j);
	/* k 999+1, k0 and k1 990+2 each, n 1: 2985 bytes. */
	g->lim.max_attr_bytes = 2985;
	assert_limit_reply(ask(&cl, "{\"op\":\"increment\",\"name\":\"a\","
	    "\"key\":\"m\",\"default\":0}\n"), "max_attr_bytes");
	/* Deleting frees its bytes. */
	assert_ok(j = ask(&cl, "{\"id\":8,\"op\":\"delattr\",\"name\":\"a\","
	    "\"key\":\"k0\"}\n"), 8);
	json_decref(j);
	assert_ok(j = ask(&cl, "{\"id\":9,\"op\":\"increment\",\"name\":"
	    "\"a\",\"key\":\"m\",\"default\":0}\n"), 9);
	json_decref(j);
}
END_TEST

/* list keys: bounded by max_attrs; unsorted and repeated keys filter. */
START_TEST(test_conn_list_keys)
{
	json_t	*j, *attrs;
	char	*req;
	size_t	 len = 0, size = 16 * 64;
	int	 i;

	g->lim.max_attrs = 8;
	running_child("a");
	json_decref(ask(&cl, "{\"op\":\"setattr\",\"name\":\"a\",\"attrs\":"
	    "{\"x\":1,\"y\":\"two\",\"z\":[3],\"w\":4.5}}\n"));
	j = ask(&cl, "{\"id\":1,\"op\":\"list\",\"keys\":[\"z\",\"nope\","
	    "\"x\",\"z\",\"w\"]}\n");
	assert_ok(j, 1);
	attrs = json_object_get(json_array_get(json_object_get(j,
	    "children"), 0), "attrs");
	ck_assert_int_eq(json_object_size(attrs), 3);
	ck_assert_int_eq(json_integer_value(json_object_get(attrs, "x")), 1);
	ck_assert(json_is_array(json_object_get(attrs, "z")));
	ck_assert(json_real_value(json_object_get(attrs, "w")) == 4.5);
	json_decref(j);
	j = ask(&cl, "{\"id\":2,\"op\":\"list\",\"keys\":[]}\n");
	assert_ok(j, 2);
	ck_assert_int_eq(json_object_size(json_object_get(json_array_get(
	    json_object_get(j, "children"), 0), "attrs")), 0);
	json_decref(j);
	req = xmalloc(size);
	len += snprintf(req + len, size - len, "{\"op\":\"list\",\"keys\":[");
	for (i = 0; i < 9; i++)
		len += snprintf(req + len, size - len, "%s\"k%d\"",
		    i > 0 ? "," : "", i);
	snprintf(req + len, size - len, "]}\n");
	assert_limit_reply(ask(&cl, req), "max_attrs");
	free(req);
}
END_TEST

/*
 * gtd_free with a request still waiting (getattr wait_ms): the request
 * goes too, and with it its timer and its wait (they used to outlive
 * gtd: a leak, and a timer firing into freed memory on the next loop).
 */
START_TEST(test_conn_free_with_waiting_request)
{
	running_child("a");
	test_client_sendz(&cl, "{\"id\":1,\"op\":\"getattr\",\"name\":\"a\","
	    "\"key\":\"never\",\"wait_ms\":50}\n");
	ck_assert(test_client_until(&cl, conn_busy, NULL));
	gtd_free(g);
	g = NULL;
	/* No watcher of gtd's is left active, and none fires later. */
	ck_assert_int_eq(ev_run(EV_DEFAULT, EVRUN_NOWAIT), 0);
	poll(NULL, 0, 100);
	ck_assert_int_eq(ev_run(EV_DEFAULT, EVRUN_NOWAIT), 0);
}
END_TEST

Suite *
conn_suite(void)
{
	Suite	*s = suite_create("conn");
	TCase	*tc;

	tc = tcase_create("framing");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_conn_pipelined_in_order);
	tcase_add_loop_test(tc, test_conn_ids_echoed, 0, NROWS(id_rows));
	tcase_add_test(tc, test_conn_no_id_no_id);
	tcase_add_test(tc, test_conn_blank_lines);
	tcase_add_loop_test(tc, test_conn_bad_json_keeps_connection, 0,
	    NROWS(bad_json_rows));
	tcase_add_loop_test(tc, test_conn_envelope_errors, 0,
	    NROWS(envelope_rows));
	tcase_add_test(tc, test_conn_partial_line);
	tcase_add_test(tc, test_conn_large_batch);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_conn_request_at_limit, 0,
	    NROWS(limit_rows));
	tcase_add_loop_test(tc, test_conn_too_big_then_eof, 0,
	    NROWS(limit_rows));
	tcase_add_test(tc, test_conn_too_big_after_good);
	tcase_add_test(tc, test_conn_too_big_no_newline);
	tcase_add_test(tc, test_conn_output_cap);
	suite_add_tcase(s, tc);

	tc = tcase_create("close");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_conn_half_close);
	tcase_add_test(tc, test_conn_peer_close);
	tcase_add_test(tc, test_conn_subscriber_half_close_then_close);
	suite_add_tcase(s, tc);

	tc = tcase_create("wait");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_conn_wait_holds_back);
	tcase_add_test(tc, test_conn_wait_then_eof);
	tcase_add_test(tc, test_conn_wait_timeout);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_conn_subscriber_closed_during_delivery);
	tcase_add_test(tc, test_conn_follower_closed_during_delivery);
	tcase_add_test(tc, test_conn_follow_bounded);
	tcase_add_test(tc, test_conn_subscribe_names_bounded);
	tcase_add_test(tc, test_conn_first_reply_capped);
	tcase_add_test(tc, test_conn_output_total_capped);
	tcase_add_test(tc, test_conn_attr_bytes_bounded);
	tcase_add_test(tc, test_conn_list_keys);
	tcase_add_test(tc, test_conn_free_with_waiting_request);
	suite_add_tcase(s, tc);
	return (s);
}
