/* SPDX-License-Identifier: MIT */
/*
 * check_e2e_health: health probes against the real daemon (protocol
 * §9.1): exec, tcp and http probes; ready "healthy"; the attr and the
 * events; failure_threshold failures of a running child restart it with
 * reason unhealthy; a probe that hangs is killed at its timeout and
 * never delays ping; bad values are refused naming the field.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <arpa/inet.h>
#include <signal.h>
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

/* A listening socket on 127.0.0.1, its port in *port. */
static int
listener(int *port)
{
	struct sockaddr_in	sin;
	socklen_t		sl = sizeof sin;
	int			fd;

	ck_assert_int_ne(fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0),
	    -1);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	ck_assert_int_eq(listen(fd, 64), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	*port = ntohs(sin.sin_port);
	return (fd);
}

/*
 * A tiny HTTP server in a process of its own: each request is answered
 * with the status code in the file codef ("200" when it is missing).
 */
static pid_t
http_server(int fd, const char *codef)
{
	char	buf[512], reply[128];
	FILE	*f;
	pid_t	pid;
	int	c, code;

	ck_assert_int_ne(pid = fork(), -1);
	if (pid > 0)
		return (pid);
	for (;;) {
		if ((c = accept(fd, NULL, NULL)) == -1)
			continue;
		(void)read(c, buf, sizeof buf);		/* the request */
		code = 200;
		if ((f = fopen(codef, "r")) != NULL) {
			if (fscanf(f, "%d", &code) != 1)
				code = 200;
			fclose(f);
		}
		snprintf(reply, sizeof reply, "HTTP/1.0 %d X\r\n"
		    "Content-Length: 0\r\n\r\n", code);
		(void)write(c, reply, strlen(reply));
		close(c);
	}
}

static const char *
attr_health(struct e2e *e, const char *name)
{
	return (e2e_str(e2e_ok(e, "getattr", "{s:s, s:s}", "name", name,
	    "key", "health"), "value"));
}

/* What wait_health and new_incarnation wait for. */
struct hl_want {
	struct e2e	*e;
	const char	*name;
	const char	*health;	/* the attr's value, or */
	pid_t		 old;		/* a pid other than this one */
};

static bool
hl_health_is(void *arg)
{
	struct hl_want	*w = arg;
	json_t		*r, *v;

	r = e2e_req(w->e, "getattr", "{s:s, s:s}", "name", w->name, "key",
	    "health");
	v = json_object_get(r, "value");
	return (json_is_true(json_object_get(r, "ok")) && json_is_string(v) &&
	    strcmp(json_string_value(v), w->health) == 0);
}

static bool
wait_health(struct e2e *e, const char *name, const char *want, int ms)
{
	struct hl_want	w = { e, name, want, 0 };

	return (e2e_wait_until(ms, hl_health_is, &w));
}

static bool
hl_pid_other(void *arg)
{
	struct hl_want	*w = arg;
	json_t		*r = e2e_row(w->e, w->name);
	json_int_t	 pid;

	pid = r != NULL ? json_integer_value(json_object_get(r, "pid")) : 0;
	return (pid > 0 && pid != w->old);
}

/* A process of name other than old (any state), before ms. */
static bool
new_incarnation(struct e2e *e, const char *name, pid_t old, int ms)
{
	struct hl_want	w = { e, name, NULL, old };

	return (e2e_wait_until(ms, hl_pid_other, &w));
}

/* exec probe, ready "healthy": starting until the first success. */
START_TEST(e2e_health_exec_ready)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*sub = e2e_client(e);
	const char	*gate = e2e_path(e, "go");
	json_t		*r, *ev;

	e2e_cok(sub, "subscribe", "{s:[s]}", "events", "health");
	r = e2e_ok(e, "start_child", "{s:s, s:o, s:s, s:{s:[s, s, s], s:i}, "
	    "s:b}", "name", "h", "cmd", e2e_cmd(NULL), "ready", "healthy",
	    "health", "exec", "/bin/sh", "-c", e2e_fmt(e, "test -e %s", gate),
	    "interval_ms", 50, "wait", 0);
	ck_assert_str_eq(e2e_str(r, "state"), "starting");
	ck_assert_str_eq(attr_health(e, "h"), "unknown");
	ev = e2e_recv(sub, 5000);
	ck_assert_str_eq(e2e_str(ev, "event"), "health");
	ck_assert_str_eq(e2e_str(ev, "health"), "unknown");
	/* Failures while starting: still starting, still unknown... */
	ck_assert_str_eq(e2e_str(e2e_row(e, "h"), "state"), "starting");
	touch(gate);
	ck_assert(e2e_wait_state(e, "h", "running", 5000));
	ck_assert_str_eq(attr_health(e, "h"), "healthy");
	ev = e2e_recv(sub, 5000);
	ck_assert_str_eq(e2e_str(ev, "event"), "health");
	ck_assert_str_eq(e2e_str(ev, "name"), "h");
	r = e2e_ok(e, "get_childspec", "{s:s}", "name", "h");
	ck_assert_str_eq(e2e_str(e2e_get(r, "spec"), "ready"), "healthy");
	ck_assert_int_eq(e2e_int(e2e_get(e2e_get(r, "spec"), "health"),
	    "failure_threshold"), 3);
	e2e_stop(e);
}
END_TEST

/*
 * Liveness: a running child whose probe fails failure_threshold times
 * is killed and restarted by its policy, reason unhealthy.
 */
START_TEST(e2e_health_liveness)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*ok = e2e_path(e, "ok");
	json_t		*r;
	pid_t		 pid, npid;

	touch(ok);
	r = e2e_ok(e, "start_child", "{s:s, s:o, s:i, s:{s:[s, s, s], s:i, "
	    "s:i}}", "name", "l", "cmd", e2e_cmd(NULL), "restart_delay_ms", 50,
	    "health", "exec", "/bin/sh", "-c", e2e_fmt(e, "test -e %s", ok),
	    "interval_ms", 50, "failure_threshold", 2);
	pid = (pid_t)e2e_int(r, "pid");
	ck_assert(wait_health(e, "l", "healthy", 5000));
	ck_assert_int_eq(unlink(ok), 0);
	ck_assert_int_gt(npid = e2e_wait_restarted(e, "l", pid, 5000), 0);
	r = e2e_ok(e, "info", "{s:s}", "name", "l");
	ck_assert_msg(json_is_true(json_object_get(e2e_get(r, "last_exit"),
	    "unhealthy")), "%s", e2e_dump(e, r));
	ck_assert_int_eq(e2e_int(r, "restart_count"), 1);
	e2e_stop(e);
}
END_TEST

/* tcp: connected is healthy; a closed port fails. */
START_TEST(e2e_health_tcp)
{
	struct e2e	*e = e2e_start(NULL);
	int		 fd, port;
	pid_t		 pid;
	json_t		*r;

	fd = listener(&port);
	r = e2e_ok(e, "start_child", "{s:s, s:o, s:s, s:i, s:{s:s, s:i, s:i}}",
	    "name", "t", "cmd", e2e_cmd(NULL), "ready", "healthy",
	    "restart_delay_ms", 50, "health", "tcp",
	    e2e_fmt(e, "localhost:%d", port), "interval_ms", 50,
	    "failure_threshold", 2);
	ck_assert_str_eq(e2e_str(r, "state"), "running");
	pid = (pid_t)e2e_int(r, "pid");
	close(fd);			/* refused from now on */
	/* Killed, restarted, and the new one is never healthy. */
	ck_assert(new_incarnation(e, "t", pid, 5000));
	ck_assert_str_eq(e2e_str(e2e_row(e, "t"), "state"), "starting");
	r = e2e_ok(e, "info", "{s:s}", "name", "t");
	ck_assert_msg(json_is_true(json_object_get(e2e_get(r, "last_exit"),
	    "unhealthy")), "%s", e2e_dump(e, r));
	e2e_stop(e);
}
END_TEST

/* http: 2xx and 3xx are healthy, the rest is not. */
START_TEST(e2e_health_http)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*codef = e2e_path(e, "code");
	int		 fd, port, st;
	pid_t		 srv, pid;
	json_t		*r;
	FILE		*f;

	fd = listener(&port);
	srv = http_server(fd, codef);
	close(fd);
	r = e2e_ok(e, "start_child", "{s:s, s:o, s:s, s:i, s:{s:s, s:i, "
	    "s:i}}", "name", "w", "cmd", e2e_cmd(NULL), "ready", "healthy",
	    "restart_delay_ms", 50, "health", "http",
	    e2e_fmt(e, "http://127.0.0.1:%d/healthz", port), "interval_ms", 50,
	    "failure_threshold", 2);
	ck_assert_str_eq(e2e_str(r, "state"), "running");
	ck_assert_str_eq(attr_health(e, "w"), "healthy");
	pid = (pid_t)e2e_int(r, "pid");
	ck_assert_ptr_nonnull(f = fopen(codef, "w"));
	fprintf(f, "503\n");
	fclose(f);
	ck_assert(new_incarnation(e, "w", pid, 5000));
	r = e2e_ok(e, "info", "{s:s}", "name", "w");
	ck_assert_msg(json_is_true(json_object_get(e2e_get(r, "last_exit"),
	    "unhealthy")), "%s", e2e_dump(e, r));
	/* 302 is healthy again: the waiting incarnation becomes ready. */
	ck_assert_ptr_nonnull(f = fopen(codef, "w"));
	fprintf(f, "302\n");
	fclose(f);
	ck_assert(e2e_wait_state(e, "w", "running", 5000));
	kill(srv, SIGKILL);
	ck_assert_int_eq(waitpid(srv, &st, 0), srv);
	e2e_stop(e);
}
END_TEST

/*
 * A probe that hangs is killed at its timeout: never healthy, ping stays
 * quick, and no probe process is left behind (e2e_stop checks).
 */
START_TEST(e2e_health_timeout)
{
	struct e2e	*e = e2e_start(NULL);
	long		 t0, worst = 0, d;
	int		 i;

	e2e_ok(e, "start_child", "{s:s, s:o, s:s, s:i, s:{s:[s, s], s:i, "
	    "s:i}, s:b}", "name", "s", "cmd", e2e_cmd(NULL), "ready", "healthy",
	    "ready_timeout_ms", 60000, "health", "exec", "/bin/sleep", "100",
	    "interval_ms", 10, "timeout_ms", 50, "wait", 0);
	for (i = 0; i < 50; i++) {
		t0 = e2e_now_ms();
		e2e_ok(e, "ping", NULL);
		if ((d = e2e_now_ms() - t0) > worst)
			worst = d;
	}
	ck_assert_msg(worst < e2e_slow(200), "ping took %ld ms", worst);
	ck_assert_str_eq(e2e_str(e2e_row(e, "s"), "state"), "starting");
	ck_assert_str_eq(attr_health(e, "s"), "unknown");
	e2e_stop(e);
}
END_TEST

/* depends_on condition "healthy": a running dependency is not enough. */
START_TEST(e2e_health_dependency)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*gate = e2e_path(e, "go");
	json_t		*r;

	e2e_ok(e, "start_child", "{s:s, s:o, s:{s:[s, s, s], s:i}}", "name",
	    "db", "cmd", e2e_cmd(NULL), "health", "exec", "/bin/sh", "-c",
	    e2e_fmt(e, "test -e %s", gate), "interval_ms", 50);
	r = e2e_ok(e, "start_child", "{s:s, s:o, s:[{s:s, s:s}], s:b}",
	    "name", "web", "cmd", e2e_cmd(NULL), "depends_on", "name", "db",
	    "condition", "healthy", "wait", 0);
	ck_assert_str_eq(e2e_str(r, "state"), "waiting");
	ck_assert_str_eq(e2e_str(e2e_row(e, "db"), "state"), "running");
	ck_assert_str_eq(e2e_str(e2e_row(e, "web"), "state"), "waiting");
	touch(gate);
	ck_assert(e2e_wait_state(e, "web", "running", 5000));
	ck_assert_str_eq(attr_health(e, "db"), "healthy");
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_health_refused)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*r;

	r = e2e_err(e, "bad_request", "start_child", "{s:s, s:o, s:s}",
	    "name", "x", "cmd", e2e_cmd(NULL), "ready", "healthy");
	ck_assert_str_eq(e2e_str(r, "field"), "ready");
	r = e2e_err(e, "bad_request", "start_child", "{s:s, s:o, s:{s:i}}",
	    "name", "x", "cmd", e2e_cmd(NULL), "health", "interval_ms", 100);
	ck_assert_str_eq(e2e_str(r, "field"), "health");
	r = e2e_err(e, "bad_request", "start_child", "{s:s, s:o, s:{s:s}}",
	    "name", "x", "cmd", e2e_cmd(NULL), "health", "http",
	    "http://example.com:80/");
	ck_assert_str_eq(e2e_str(r, "field"), "health.http");
	r = e2e_err(e, "bad_request", "start_child", "{s:s, s:o, s:{s:s, "
	    "s:i}}", "name", "x", "cmd", e2e_cmd(NULL), "health", "tcp",
	    "127.0.0.1:1", "failure_threshold", 0);
	ck_assert_str_eq(e2e_str(r, "field"), "health.failure_threshold");
	ck_assert_ptr_null(e2e_row(e, "x"));
	e2e_stop(e);
}
END_TEST

Suite *
e2e_health_suite(void)
{
	Suite	*s = suite_create("e2e_health");
	TCase	*tc = tcase_create("health");

	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_health_exec_ready);
	tcase_add_test(tc, e2e_health_liveness);
	tcase_add_test(tc, e2e_health_tcp);
	tcase_add_test(tc, e2e_health_http);
	tcase_add_test(tc, e2e_health_timeout);
	tcase_add_test(tc, e2e_health_dependency);
	tcase_add_test(tc, e2e_health_refused);
	suite_add_tcase(s, tc);
	return (s);
}
