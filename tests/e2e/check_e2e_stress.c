/* SPDX-License-Identifier: MIT */
/*
 * check_e2e_stress: many at once: 50 concurrent find_or_open callers of
 * one name (one spawn, one reply), 50 client processes, 1000 pipelined
 * requests, many children, the default 1 MiB line limit, the 16 MiB
 * output cap and connection churn without leaking descriptors.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "gt/client.h"
#include "harness.h"

#define NCLIENTS	50
#define FAST_EXIT_N	500

static char	state_of(pid_t);
static int	count_fds(pid_t);
static void	client_proc(const char *, const char *, const char *, int)
		    __attribute__((noreturn));

/* The state letter of /proc/PID/stat, or 0. */
static char
state_of(pid_t pid)
{
	char	 path[64], buf[512], *rp;
	FILE	*f;
	size_t	 n;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return (0);
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((rp = strrchr(buf, ')')) == NULL || rp[1] == '\0')
		return (0);
	return (rp[2]);
}

static int
count_fds(pid_t pid)
{
	char		 path[64];
	struct dirent	*de;
	DIR		*d;
	int		 n = 0;

	snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
	if ((d = opendir(path)) == NULL)
		return (-1);
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return (n);
}

/*
 * 50 callers whose requests are all in gtd's socket buffers before it
 * reads any of them (gtd is stopped with SIGSTOP meanwhile): exactly one
 * spawn, and every caller gets the very same reply.
 */
START_TEST(e2e_concurrent_find_or_open)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*c[NCLIENTS];
	const char	*spawns = e2e_path(e, "spawns");
	json_t		*req, *r, *first = NULL;
	char		*line;
	long		 deadline;
	int		 i;

	for (i = 0; i < NCLIENTS; i++) {
		c[i] = e2e_client(e);
		e2e_cok(c[i], "ping", NULL);	/* accepted and set up */
	}
	req = json_pack("{s:s, s:s, s:s, s:o}", "id", "same",
	    "op", "find_or_open", "name", "shared",
	    "cmd", e2e_cmd(e2e_fmt(e, "--append-pid=%s", spawns), NULL));
	line = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	ck_assert_int_eq(kill(e2e_pid(e), SIGSTOP), 0);
	deadline = e2e_now_ms() + 5000;
	while (state_of(e2e_pid(e)) != 'T' && e2e_now_ms() < deadline)
		poll(NULL, 0, 1);
	ck_assert_int_eq(state_of(e2e_pid(e)), 'T');
	for (i = 0; i < NCLIENTS; i++)
		e2e_send_line(c[i], line);
	ck_assert_int_eq(kill(e2e_pid(e), SIGCONT), 0);
	for (i = 0; i < NCLIENTS; i++) {
		r = e2e_recv(c[i], 10000);
		ck_assert_msg(json_is_true(json_object_get(r, "ok")),
		    "caller %d: %s", i, e2e_dump(e, r));
		if (first == NULL)
			first = r;
		ck_assert_msg(json_equal(r, first), "caller %d got %s, "
		    "caller 0 got %s", i, e2e_dump(e, r), e2e_dump(e, first));
	}
	ck_assert(json_is_true(e2e_get(first, "created")));
	ck_assert(e2e_wait_lines(spawns, 1, 5000));	/* after exec */
	ck_assert_int_eq(e2e_count_lines(spawns), 1);
	ck_assert_int_eq(e2e_int(e2e_ok(e, "find", "{s:s}", "name", "shared"),
	    "pid"), e2e_int(first, "pid"));
	ck_assert_int_eq(e2e_int(e2e_ok(e, "count_children", NULL), "specs"),
	    1);
	free(line);
	e2e_stop(e);
}
END_TEST

/* One client process: find_or_open, then report the pid on fd. */
static void
client_proc(const char *sock, const char *line, const char *name, int fd)
{
	struct client	*c;
	const char	*rep;
	json_t		*j;
	char		 buf[32];
	int		 n;

	if ((c = client_connect(sock, NULL)) == NULL ||
	    client_send(c, line, strlen(line)) == -1 ||
	    (rep = client_recv(c, 10000, NULL)) == NULL)
		_exit(2);
	if ((j = json_loads(rep, 0, NULL)) == NULL ||
	    !json_is_true(json_object_get(j, "ok")))
		_exit(3);
	n = snprintf(buf, sizeof buf, "%lld\n",
	    (long long)json_integer_value(json_object_get(j, "pid")));
	if (write(fd, buf, n) != n)
		_exit(4);
	_exit(0);
}

/* 50 processes race for one name: one spawn, one pid for all. */
START_TEST(e2e_concurrent_processes)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*spawns = e2e_path(e, "spawns");
	json_t		*req;
	pid_t		 pids[NCLIENTS], want;
	char		*line, buf[NCLIENTS * 32], *p;
	size_t		 len = 0;
	ssize_t		 n;
	int		 i, st, fds[2];

	req = json_pack("{s:s, s:s, s:o}", "op", "find_or_open",
	    "name", "raced", "cmd", e2e_cmd(e2e_fmt(e, "--append-pid=%s",
	    spawns), NULL));
	line = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	ck_assert_int_eq(pipe(fds), 0);
	fflush(NULL);
	for (i = 0; i < NCLIENTS; i++) {
		ck_assert_int_ne(pids[i] = fork(), -1);
		if (pids[i] == 0)
			client_proc(e2e_sock(e), line, "raced", fds[1]);
	}
	close(fds[1]);
	for (i = 0; i < NCLIENTS; i++) {
		ck_assert_int_eq(waitpid(pids[i], &st, 0), pids[i]);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		    "client %d: status 0x%x", i, st);
	}
	while ((n = read(fds[0], buf + len, sizeof buf - 1 - len)) > 0)
		len += n;
	buf[len] = '\0';
	close(fds[0]);
	want = (pid_t)e2e_int(e2e_ok(e, "find", "{s:s}", "name", "raced"),
	    "pid");
	for (i = 0, p = buf; i < NCLIENTS; i++, p = strchr(p, '\n') + 1)
		ck_assert_int_eq(atoi(p), want);
	ck_assert(e2e_wait_lines(spawns, 1, 5000));	/* after exec */
	ck_assert_int_eq(e2e_count_lines(spawns), 1);
	free(line);
	e2e_stop(e);
}
END_TEST

/*
 * Callers that arrive while the child is starting (it becomes ready only
 * when the test says so) all wait and all get the same reply.
 */
START_TEST(e2e_waiters_share_reply)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*c[10];
	const char	*gate = e2e_path(e, "go");
	const char	*spawns = e2e_path(e, "spawns");
	json_t		*req, *r, *first = NULL;
	char		*line;
	FILE		*f;
	int		 i;

	req = json_pack("{s:s, s:s, s:s, s:o, s:{s:i}}", "id", "w",
	    "op", "find_or_open", "name", "gated",
	    "cmd", e2e_cmd(e2e_fmt(e, "--ready-after=%s", gate), "--ready-fd=3",
	    e2e_fmt(e, "--append-pid=%s", spawns), NULL), "ready", "fd", 3);
	line = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	for (i = 0; i < 10; i++) {
		c[i] = e2e_client(e);
		e2e_send_line(c[i], line);
		if (i == 0)
			ck_assert(e2e_wait_state(e, "gated", "starting", 3000));
	}
	for (i = 0; i < 10; i++)
		e2e_cok(e2e_client(e), "ping", NULL);
	for (i = 0; i < 10; i++)
		ck_assert_ptr_null(e2e_recv_line(c[i], 0));
	ck_assert_ptr_nonnull(f = fopen(gate, "w"));
	fclose(f);
	for (i = 0; i < 10; i++) {
		r = e2e_recv(c[i], 5000);
		if (first == NULL)
			first = r;
		ck_assert_msg(json_equal(r, first), "caller %d got %s, "
		    "caller 0 got %s", i, e2e_dump(e, r), e2e_dump(e, first));
	}
	ck_assert(json_is_true(e2e_get(first, "ok")));
	ck_assert(json_is_true(e2e_get(first, "created")));
	ck_assert_str_eq(e2e_str(first, "state"), "running");
	ck_assert_int_eq(e2e_count_lines(spawns), 1);
	free(line);
	e2e_stop(e);
}
END_TEST

/*
 * With ready "exec" a child is ready once execve() succeeded, so a child
 * that exits right after it has still started: start_child must answer ok
 * with its pid, never "exited before it was ready", however gtd happens to
 * order the exec-status EOF and the SIGCHLD.  Many tries make a race show.
 */
START_TEST(e2e_fast_exit_is_started)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*r;
	int		 i, bad = 0;
	const char	*last = "";

	for (i = 0; i < FAST_EXIT_N; i++) {
		r = e2e_req(e, "start_child", "{s:s, s:s, s:o}",
		    "name", e2e_fmt(e, "q%d", i), "restart", "temporary",
		    "cmd", e2e_cmd("--exit-code=0", NULL));
		if (!json_is_true(json_object_get(r, "ok"))) {
			bad++;
			last = e2e_dump(e, r);
		}
	}
	ck_assert_msg(bad == 0, "%d of %d start_child of a child that exits "
	    "at once failed, e.g. %s", bad, FAST_EXIT_N, last);
	e2e_stop(e);
}
END_TEST

/* 1000 requests in one write: all applied, replies in order. */
START_TEST(e2e_pipeline_1000)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*c = e2e_main(e);
	char		*buf;
	size_t		 len = 0, cap = 1000 * 96;
	json_t		*r;
	int		 i;

	e2e_spawn(e, "n", NULL);
	e2e_ok(e, "setattr", "{s:s, s:{s:i}}", "name", "n", "attrs", "c", 0);
	buf = malloc(cap);
	for (i = 0; i < 1000; i++)
		len += snprintf(buf + len, cap - len, i % 2 == 0 ?
		    "{\"id\":%d,\"op\":\"increment\",\"name\":\"n\","
		    "\"key\":\"c\"}\n" : "{\"id\":%d,\"op\":\"getattr\","
		    "\"name\":\"n\",\"key\":\"c\"}\n", i);
	ck_assert_uint_eq(e2e_send_raw(c, buf, len), len);
	free(buf);
	for (i = 0; i < 1000; i++) {
		r = e2e_recv(c, 10000);
		ck_assert_int_eq(e2e_int(r, "id"), i);
		ck_assert_int_eq(e2e_int(r, "value"), i / 2 + 1);
	}
	e2e_stop(e);
}
END_TEST

/* Many children, then SIGTERM stops them all. */
START_TEST(e2e_many_children)
{
	struct e2e	*e = e2e_start(NULL);
	pid_t		 pids[40];
	int		 i;

	for (i = 0; i < 40; i++)
		pids[i] = e2e_spawn(e, e2e_fmt(e, "c%02d", i), NULL);
	ck_assert_int_eq(e2e_int(e2e_ok(e, "count_children", NULL),
	    "active"), 40);
	ck_assert_int_eq(json_array_size(e2e_get(e2e_ok(e, "list", NULL),
	    "children")), 40);
	kill(e2e_pid(e), SIGTERM);
	ck_assert(e2e_wait_exit(e, 8000, NULL));
	for (i = 0; i < 40; i++)
		ck_assert(e2e_wait_dead(pids[i], 2000));
	e2e_stop(e);
}
END_TEST

/*
 * The default limit is 1 MiB: just under it works, over it is too_big
 * (the attr limits are raised so that one value can fill the line).
 */
START_TEST(e2e_default_line_limit)
{
	struct e2e	*e = e2e_start("{\"max_attr_value_bytes\":2097152,"
	    "\"max_attr_bytes\":4194304}");
	struct e2e_conn	*c = e2e_client(e);
	json_t		*r;
	char		*big;
	size_t		 n, vlen = 1024 * 1024 - 200;
	int		 head;

	e2e_spawn(e, "b", NULL);
	big = malloc(1024 * 1024 + 256);
	head = snprintf(big, 128, "{\"id\":1,\"op\":\"setattr\",\"name\":\"b\","
	    "\"attrs\":{\"blob\":\"");
	memset(big + head, 'x', vlen);
	n = head + vlen;
	n += snprintf(big + n, 16, "\"}}\n");
	ck_assert_uint_eq(e2e_send_raw(c, big, n), n);
	r = e2e_recv(c, 10000);
	ck_assert_msg(json_is_true(json_object_get(r, "ok")), "%.200s",
	    e2e_dump(e, r));
	r = e2e_ok(e, "getattr", "{s:s, s:s}", "name", "b", "key", "blob");
	ck_assert_uint_eq(strlen(e2e_str(r, "value")), vlen);
	/* over the limit */
	memset(big, ' ', 1024 * 1024 + 100);
	big[0] = '{';
	big[1024 * 1024 + 99] = '\n';
	e2e_send_raw(c, big, 1024 * 1024 + 100);
	r = e2e_recv(c, 10000);
	ck_assert_str_eq(e2e_str(r, "error"), "too_big");
	ck_assert(e2e_closed(c, 5000));
	free(big);
	e2e_ok(e, "ping", NULL);
	e2e_stop(e);
}
END_TEST

/*
 * A client that never reads is cut off at 16 MiB of queued replies.  It
 * reads only once gtd has dropped it (stats): reading earlier would
 * drain the queue, and a gtd slower than the reader (under valgrind)
 * would never reach the cap.
 */
START_TEST(e2e_output_cap)
{
	struct e2e	*e = e2e_start("{\"max_attr_value_bytes\":1048576}");
	struct e2e_conn	*c = e2e_client(e);
	json_t		*blob;
	json_int_t	 conns;
	char		*val, reqs[40 * 64] = "";
	size_t		 vlen = 900 * 1024;
	int		 i, got = 0;

	e2e_cok(c, "ping", NULL);		/* c is accepted */
	conns = e2e_conns(e);
	e2e_spawn(e, "b", NULL);
	val = malloc(vlen + 1);
	memset(val, 'y', vlen);
	val[vlen] = '\0';
	blob = json_string(val);
	free(val);
	e2e_ok(e, "setattr", "{s:s, s:{s:o}}", "name", "b", "attrs", "blob",
	    blob);
	for (i = 0; i < 40; i++)
		strcat(reqs, "{\"op\":\"getattr\",\"name\":\"b\","
		    "\"key\":\"blob\"}\n");
	/* one write: gtd may close c before a later write could be made */
	ck_assert_uint_eq(e2e_send_raw(c, reqs, strlen(reqs)), strlen(reqs));
	e2e_ok(e, "ping", NULL);	/* gtd did not block on c */
	ck_assert_msg(e2e_wait_conns(e, conns - 1, 10000), "c not dropped: "
	    "%lld connections", (long long)e2e_conns(e));
	while (e2e_recv_line(c, 5000) != NULL)
		got++;
	ck_assert_msg(errno == ECONNRESET, "connection not closed: %s",
	    strerror(errno));
	ck_assert_msg(got < 40, "all %d replies arrived: no cap", got);
	e2e_ok(e, "ping", NULL);
	e2e_stop(e);
}
END_TEST

/* Connections come and go, some mid-request: no descriptor leaks. */
START_TEST(e2e_connection_churn)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*c;
	long		 deadline;
	int		 before, after, i;

	e2e_spawn(e, "x", NULL);
	e2e_ok(e, "ping", NULL);
	before = count_fds(e2e_pid(e));
	for (i = 0; i < 200; i++) {
		c = e2e_client(e);
		switch (i % 4) {
		case 0:
			break;
		case 1:
			e2e_cok(c, "find", "{s:s}", "name", "x");
			break;
		case 2:
			e2e_send_raw(c, "{\"op\":\"pi", 9);
			break;
		default:
			e2e_send_line(c, "{\"op\":\"which_children\"}");
			break;
		}
		e2e_conn_close(c);
	}
	deadline = e2e_now_ms() + e2e_slow(3000);
	while ((after = count_fds(e2e_pid(e))) > before &&
	    e2e_now_ms() < deadline) {
		e2e_ok(e, "ping", NULL);
		poll(NULL, 0, 5);
	}
	ck_assert_msg(after == before, "gtd had %d fds, now %d", before,
	    after);
	e2e_ok(e, "find", "{s:s}", "name", "x");
	e2e_stop(e);
}
END_TEST

Suite *
e2e_stress_suite(void)
{
	Suite	*s = suite_create("e2e_stress");
	TCase	*tc;

	tc = tcase_create("stress");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_concurrent_find_or_open);
	tcase_add_test(tc, e2e_concurrent_processes);
	tcase_add_test(tc, e2e_waiters_share_reply);
	tcase_add_test(tc, e2e_fast_exit_is_started);
	tcase_add_test(tc, e2e_pipeline_1000);
	tcase_add_test(tc, e2e_many_children);
	tcase_add_test(tc, e2e_default_line_limit);
	tcase_add_test(tc, e2e_output_cap);
	tcase_add_test(tc, e2e_connection_churn);
	suite_add_tcase(s, tc);
	return (s);
}
