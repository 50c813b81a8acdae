/* SPDX-License-Identifier: MIT */
/*
 * check_e2e_gtctl: gtctl against the real gtd: each command, its text and
 * --json output, and its exit status (0 ok, 1 refused, 3 not found, 64
 * usage, 69 unavailable, 76 malformed reply).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "harness.h"

static bool	has_line(const char *, const char *);
static int	words(const char *, char *, size_t, char **, int);
static pid_t	fake_gtd(const char *, const char *);

/* text has a line equal to line. */
static bool
has_line(const char *text, const char *line)
{
	const char	*p = text;
	size_t		 n = strlen(line);

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' ||
		    p[n] == '\0'))
			return (true);
		p += n;
	}
	return (false);
}

/* Split the first line of text into at most max words, in buf. */
static int
words(const char *text, char *buf, size_t size, char **w, int max)
{
	char	*p, *save = NULL;
	int	 n = 0;

	snprintf(buf, size, "%s", text);
	*strchrnul(buf, '\n') = '\0';
	for (p = strtok_r(buf, " \t", &save); p != NULL && n < max;
	    p = strtok_r(NULL, " \t", &save))
		w[n++] = p;
	return (n);
}

/*
 * A fake gtd on path: accepts one connection, reads one line, answers
 * reply and exits.  Returns its pid; the test waits for it.
 */
static pid_t
fake_gtd(const char *path, const char *reply)
{
	struct sockaddr_un	 sun;
	struct pollfd		 pfd;
	char			 buf[4096];
	pid_t			 pid;
	int			 fd, c;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strncpy(sun.sun_path, path, sizeof sun.sun_path - 1);
	ck_assert_int_ne(fd = socket(AF_UNIX, SOCK_STREAM, 0), -1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid != 0) {
		close(fd);
		return (pid);
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 10000) != 1 || (c = accept(fd, NULL, NULL)) == -1)
		_exit(1);
	pfd.fd = c;
	if (poll(&pfd, 1, 10000) != 1 || read(c, buf, sizeof buf) <= 0)
		_exit(1);
	if (write(c, reply, strlen(reply)) == -1)
		_exit(1);
	close(c);
	_exit(0);
}

START_TEST(e2e_gtctl_ping_hello)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*out;

	ck_assert_int_eq(e2e_gtctl(e, &out, "ping", NULL), 0);
	ck_assert_str_eq(out, "pong\n");
	ck_assert_int_eq(e2e_gtctl(e, &out, "hello", NULL), 0);
	ck_assert_msg(has_line(out, "protocol: 1"), "%s", out);
	ck_assert_msg(has_line(out, "zone: default"), "%s", out);
	ck_assert_msg(has_line(out, e2e_fmt(e, "pid: %d", (int)e2e_pid(e))),
	    "%s", out);
	ck_assert_int_eq(e2e_gtctl(e, &out, "version", NULL), 0);
	ck_assert_msg(has_line(out, "protocol: 1"), "%s", out);
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_gtctl_open_find_stop)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*out;
	char		*pid;

	ck_assert_int_eq(e2e_gtctl(e, &out, "open", "web", "--",
	    e2e_testchild(e), NULL), 0);
	pid = strdup(out);
	ck_assert_int_eq(atoi(pid), e2e_int(e2e_ok(e, "find", "{s:s}",
	    "name", "web"), "pid"));
	/* open again: the same process */
	ck_assert_int_eq(e2e_gtctl(e, &out, "open", "web", "--",
	    e2e_testchild(e), NULL), 0);
	ck_assert_str_eq(out, pid);
	ck_assert_int_eq(e2e_gtctl(e, &out, "find", "web", NULL), 0);
	ck_assert_str_eq(out, pid);
	ck_assert_int_eq(e2e_gtctl(e, &out, "stop", "web", NULL), 0);
	ck_assert_str_eq(out, "stopped on request: SIGTERM\n");
	ck_assert_int_eq(e2e_gtctl(e, &out, "find", "web", NULL), 3);
	ck_assert_str_eq(out, "");
	ck_assert_msg(strstr(e2e_gtctl_stderr(e), "not_found") != NULL,
	    "stderr: %s", e2e_gtctl_stderr(e));
	ck_assert_int_eq(e2e_gtctl(e, &out, "stop", "ghost", NULL), 3);
	ck_assert_msg(strncmp(e2e_gtctl_stderr(e), "gtctl: not_found: ", 18)
	    == 0, "stderr: %s", e2e_gtctl_stderr(e));
	/* restart brings the stopped child back */
	ck_assert_int_eq(e2e_gtctl(e, &out, "restart", "web", NULL), 0);
	ck_assert_int_eq(atoi(out), e2e_int(e2e_ok(e, "find", "{s:s}",
	    "name", "web"), "pid"));
	free(pid);
	e2e_stop(e);
}
END_TEST

/* key=value arguments become childspec fields (dotted = nested). */
START_TEST(e2e_gtctl_start_fields)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*out, *env;
	json_t		*spec;

	ck_assert_int_eq(e2e_gtctl(e, &out, "start", "w", "restart=temporary",
	    "restart_delay_ms=500", "env.PORT=8080", "shutdown.timeout_ms=1000",
	    "kill_group=false", "--", e2e_testchild(e),
	    e2e_fmt(e, "--env=%s", e2e_path(e, "env")), NULL), 0);
	ck_assert_int_gt(atoi(out), 0);
	spec = e2e_get(e2e_ok(e, "get_childspec", "{s:s}", "name", "w"),
	    "spec");
	ck_assert_str_eq(e2e_str(spec, "restart"), "temporary");
	ck_assert_int_eq(e2e_int(spec, "restart_delay_ms"), 500);
	ck_assert_int_eq(e2e_int(e2e_get(spec, "shutdown"), "timeout_ms"),
	    1000);
	ck_assert(json_is_false(e2e_get(spec, "kill_group")));
	env = e2e_read_file(e, e2e_path(e, "env"), 5000);
	ck_assert_msg(strstr(env, "\nPORT=8080\n") != NULL, "env: %s", env);
	ck_assert_int_eq(e2e_gtctl(e, &out, "start", "w", "--",
	    e2e_testchild(e), NULL), 1);
	ck_assert_msg(strstr(e2e_gtctl_stderr(e), "already_started") != NULL,
	    "%s", e2e_gtctl_stderr(e));
	ck_assert_int_eq(e2e_gtctl(e, &out, "start", "bad", "restart=never",
	    "--", e2e_testchild(e), NULL), 1);
	ck_assert_msg(strstr(e2e_gtctl_stderr(e), "bad_request") != NULL,
	    "%s", e2e_gtctl_stderr(e));
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_gtctl_ls_table)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*out, *nl;
	char		*w[8], buf[512];
	pid_t		 pid;
	int		 n;

	pid = e2e_spawn(e, "alpha", NULL);
	e2e_spawn(e, "beta", NULL);
	e2e_ok(e, "terminate_child", "{s:s}", "name", "beta");
	ck_assert_int_eq(e2e_gtctl(e, &out, "ls", NULL), 0);
	n = words(out, buf, sizeof buf, w, 8);
	ck_assert_int_eq(n, 5);
	ck_assert_str_eq(w[0], "NAME");
	ck_assert_str_eq(w[1], "STATE");
	ck_assert_str_eq(w[2], "PID");
	ck_assert_str_eq(w[3], "UPTIME");
	ck_assert_str_eq(w[4], "RESTARTS");
	ck_assert_ptr_nonnull(nl = strchr(out, '\n'));
	n = words(nl + 1, buf, sizeof buf, w, 8);
	ck_assert_int_eq(n, 5);
	ck_assert_str_eq(w[0], "alpha");
	ck_assert_str_eq(w[1], "running");
	ck_assert_int_eq(atoi(w[2]), pid);
	ck_assert_str_eq(w[4], "0");
	ck_assert_ptr_nonnull(nl = strchr(nl + 1, '\n'));
	n = words(nl + 1, buf, sizeof buf, w, 8);
	ck_assert_int_eq(n, 5);
	ck_assert_str_eq(w[0], "beta");
	ck_assert_str_eq(w[1], "stopped");
	ck_assert_str_eq(w[2], "-");
	/* the header lines up with the rows */
	ck_assert_int_eq(strstr(out, "STATE") - out,
	    strstr(nl + 1, "stopped") - (nl + 1));
	ck_assert_int_eq(e2e_gtctl(e, &out, "ls", "-a", NULL), 0);
	n = words(out, buf, sizeof buf, w, 8);
	ck_assert_int_eq(n, 7);
	ck_assert_str_eq(w[5], "TYPE");
	ck_assert_str_eq(w[6], "RESTART");
	ck_assert_int_eq(e2e_gtctl(e, &out, "ls", "--state", "stopped", NULL),
	    0);
	ck_assert_ptr_null(strstr(out, "alpha"));
	ck_assert_ptr_nonnull(strstr(out, "beta"));
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_gtctl_json)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*out;
	json_t		*j, *rows;

	e2e_spawn(e, "alpha", NULL);
	ck_assert_int_eq(e2e_gtctl(e, &out, "--json", "ls", NULL), 0);
	j = json_loads(out, 0, NULL);
	ck_assert_msg(j != NULL, "not JSON: %s", out);
	ck_assert(json_is_true(json_object_get(j, "ok")));
	rows = json_object_get(j, "children");
	ck_assert_int_eq(json_array_size(rows), 1);
	ck_assert_str_eq(e2e_str(json_array_get(rows, 0), "name"), "alpha");
	json_decref(j);
	/* --json may follow the command; errors keep their exit status */
	ck_assert_int_eq(e2e_gtctl(e, &out, "find", "ghost", "--json", NULL),
	    3);
	j = json_loads(out, 0, NULL);
	ck_assert_msg(j != NULL, "not JSON: %s", out);
	ck_assert_str_eq(e2e_str(j, "error"), "not_found");
	json_decref(j);
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_gtctl_exit_status)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*out;

	e2e_spawn(e, "run", NULL);
	ck_assert_int_eq(e2e_gtctl(e, &out, "ping", NULL), 0);
	/* 1: refused */
	ck_assert_int_eq(e2e_gtctl(e, &out, "start", "run", "--",
	    e2e_testchild(e), NULL), 1);
	ck_assert_int_eq(e2e_gtctl(e, &out, "rm", "run", NULL), 1);
	/* 64: neither a command nor an op of gtd */
	ck_assert_int_eq(e2e_gtctl(e, &out, "frobnicate", NULL), 64);
	ck_assert_msg(strstr(e2e_gtctl_stderr(e),
	    "unknown command 'frobnicate'") != NULL, "%s",
	    e2e_gtctl_stderr(e));
	/* 3: lookups that find nothing */
	ck_assert_int_eq(e2e_gtctl(e, &out, "find", "ghost", NULL), 3);
	ck_assert_int_eq(e2e_gtctl(e, &out, "info", "ghost", NULL), 3);
	ck_assert_int_eq(e2e_gtctl(e, &out, "spec", "ghost", NULL), 3);
	ck_assert_int_eq(e2e_gtctl(e, &out, "attr", "get", "ghost", "k", NULL),
	    3);
	ck_assert_int_eq(e2e_gtctl(e, &out, "attr", "get", "run", "k", NULL),
	    3);
	/* 64: usage */
	ck_assert_int_eq(e2e_gtctl(e, &out, NULL), 64);
	ck_assert_int_eq(e2e_gtctl(e, &out, "find", NULL), 64);
	ck_assert_int_eq(e2e_gtctl(e, &out, "find", "a", "b", NULL), 64);
	ck_assert_int_eq(e2e_gtctl(e, &out, "ls", "--bogus", NULL), 64);
	ck_assert_int_eq(e2e_gtctl(e, &out, "--bogus", "ping", NULL), 64);
	ck_assert_int_eq(e2e_gtctl(e, &out, "attr", "set", "run", "k", NULL),
	    64);
	/* 69: no gtd */
	e2e_gtctl_socket(e, e2e_path(e, "nobody.sock"));
	ck_assert_int_eq(e2e_gtctl(e, &out, "ping", NULL), 69);
	ck_assert_msg(strstr(e2e_gtctl_stderr(e), "(is gtd running?)") != NULL,
	    "stderr: %s", e2e_gtctl_stderr(e));
	/* -s beats GTD_SOCKET */
	ck_assert_int_eq(e2e_gtctl(e, &out, "-s", e2e_sock(e), "ping", NULL),
	    0);
	e2e_stop(e);
}
END_TEST

/* 76: a reply that is not a JSON object with a boolean ok. */
START_TEST(e2e_gtctl_malformed_reply)
{
	static const char *const replies[] = { "not json\n",
	    "{\"ok\":\"yes\"}\n", "[1]\n", "", NULL };
	struct e2e	*e = e2e_start(NULL);
	const char	*out, *path;
	pid_t		 pid;
	int		 i, st;

	for (i = 0; replies[i] != NULL; i++) {
		path = e2e_path(e, e2e_fmt(e, "fake%d.sock", i));
		pid = fake_gtd(path, replies[i]);
		e2e_gtctl_socket(e, path);
		st = e2e_gtctl(e, &out, "ping", NULL);
		ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
		/* EOF before a reply: "the connection closed" is 69 */
		ck_assert_msg(st == (replies[i][0] == '\0' ? 69 : 76),
		    "reply \"%s\": exit %d", replies[i], st);
	}
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_gtctl_attrs)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*out;

	e2e_spawn(e, "web", NULL);
	ck_assert_int_eq(e2e_gtctl(e, &out, "attr", "set", "web", "port",
	    "8080", "host", "example.org", "tags", "[\"a\",1]", NULL), 0);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(e2e_int(e2e_ok(e, "getattr", "{s:s, s:s}",
	    "name", "web", "key", "port"), "value"), 8080);
	ck_assert_int_eq(e2e_gtctl(e, &out, "attr", "get", "web", "port", NULL),
	    0);
	ck_assert_str_eq(out, "8080\n");
	ck_assert_int_eq(e2e_gtctl(e, &out, "attr", "get", "web", "host", NULL),
	    0);
	ck_assert_str_eq(out, "example.org\n");
	ck_assert_int_eq(e2e_gtctl(e, &out, "attr", "get", "web", "tags", NULL),
	    0);
	ck_assert_str_eq(out, "[\"a\",1]\n");
	ck_assert_int_eq(e2e_gtctl(e, &out, "attr", "incr", "web", "hits",
	    "--default", "5", NULL), 0);
	ck_assert_str_eq(out, "6\n");
	ck_assert_int_eq(e2e_gtctl(e, &out, "attr", "incr", "web", "hits",
	    "10", NULL), 0);
	ck_assert_str_eq(out, "16\n");
	ck_assert_int_eq(e2e_gtctl(e, &out, "attr", "incr", "web", "hits",
	    "-20", NULL), 0);
	ck_assert_str_eq(out, "-4\n");
	ck_assert_int_eq(e2e_gtctl(e, &out, "attr", "incr", "web", "host",
	    NULL), 1);
	ck_assert_msg(strstr(e2e_gtctl_stderr(e), "not_integer") != NULL,
	    "%s", e2e_gtctl_stderr(e));
	ck_assert_int_eq(e2e_gtctl(e, &out, "attr", "del", "web", "port", NULL),
	    0);
	ck_assert_int_eq(e2e_gtctl(e, &out, "attr", "get", "web", "port", NULL),
	    3);
	ck_assert_int_eq(e2e_gtctl(e, &out, "attrs", "web", NULL), 0);
	ck_assert_msg(has_line(out, "host: example.org"), "%s", out);
	ck_assert_int_eq(e2e_gtctl(e, &out, "list", NULL), 0);
	ck_assert_msg(strstr(out, "web") != NULL && strstr(out, "example.org")
	    != NULL, "%s", out);
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_gtctl_info_spec_count)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*out;
	json_t		*j;
	pid_t		 pid;

	pid = e2e_spawn(e, "web", NULL);
	ck_assert_int_eq(e2e_gtctl(e, &out, "info", "web", NULL), 0);
	ck_assert_msg(has_line(out, "state: running"), "%s", out);
	ck_assert_msg(has_line(out, e2e_fmt(e, "pid: %d", (int)pid)), "%s",
	    out);
	ck_assert_int_eq(e2e_gtctl(e, &out, "spec", "web", NULL), 0);
	ck_assert_ptr_nonnull(j = json_loads(out, 0, NULL));
	ck_assert_str_eq(e2e_str(j, "restart"), "permanent");
	json_decref(j);
	ck_assert_int_eq(e2e_gtctl(e, &out, "count", NULL), 0);
	ck_assert_msg(has_line(out, "specs: 1") && has_line(out, "active: 1"),
	    "%s", out);
	ck_assert_int_eq(e2e_gtctl(e, &out, "stats", NULL), 0);
	ck_assert_int_eq(e2e_gtctl(e, &out, "check", "x", "--",
	    e2e_testchild(e), NULL), 0);
	ck_assert_int_eq(e2e_gtctl(e, &out, "check", "x", "restart=never", "--",
	    e2e_testchild(e), NULL), 1);
	/* an op by name */
	ck_assert_int_eq(e2e_gtctl(e, &out, "count_children", NULL), 0);
	ck_assert_msg(has_line(out, "specs: 1"), "%s", out);
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_gtctl_rm)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*out;
	pid_t		 pid;

	e2e_spawn(e, "a", NULL);
	ck_assert_int_eq(e2e_gtctl(e, &out, "rm", "a", NULL), 1);
	ck_assert_msg(strstr(e2e_gtctl_stderr(e), "running") != NULL, "%s",
	    e2e_gtctl_stderr(e));
	ck_assert_int_eq(e2e_gtctl(e, &out, "stop", "a", NULL), 0);
	ck_assert_int_eq(e2e_gtctl(e, &out, "rm", "a", NULL), 0);
	ck_assert_ptr_null(e2e_row(e, "a"));
	pid = e2e_spawn(e, "b", NULL);
	ck_assert_int_eq(e2e_gtctl(e, &out, "rm", "-f", "b", NULL), 0);
	ck_assert_ptr_null(e2e_row(e, "b"));
	ck_assert(!e2e_pid_alive(pid));
	ck_assert_int_eq(e2e_gtctl(e, &out, "rm", "--pid", "1", NULL), 64);
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_gtctl_raw)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*out;

	ck_assert_int_eq(e2e_gtctl(e, &out, "raw", "{\"id\":5,\"op\":\"ping\"}",
	    "{\"id\":[6],\"op\":\"find\",\"name\":\"x\"}", NULL), 3);
	ck_assert_msg(strncmp(out, "{\"id\":5,\"ok\":true}\n", 19) == 0,
	    "%s", out);
	ck_assert_msg(strstr(out, "\"id\":[6]") != NULL &&
	    strstr(out, "not_found") != NULL, "%s", out);
	ck_assert_int_eq(e2e_gtctl(e, &out, "raw", "{bad", NULL), 1);
	ck_assert_msg(strstr(out, "bad_json") != NULL, "%s", out);
	e2e_stop(e);
}
END_TEST

/* -t bounds the wait for a reply: 69 when it runs out. */
START_TEST(e2e_gtctl_timeout)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*out;
	long		 t0;

	e2e_ok(e, "start_child", "{s:s, s:o, s:{s:s, s:i}}", "name", "slow",
	    "cmd", e2e_cmd("--ignore-term", e2e_ready_arg(e, "slow"), NULL),
	    "shutdown", "signal", "TERM", "timeout_ms", 3000);
	e2e_wait_ready(e, "slow");
	t0 = e2e_now_ms();
	ck_assert_int_eq(e2e_gtctl(e, &out, "-t", "200", "stop", "slow", NULL),
	    69);
	ck_assert_int_lt(e2e_now_ms() - t0, 2500);
	e2e_ok(e, "ping", NULL);
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_gtctl_shutdown)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*out;
	pid_t		 pid;
	int		 st;

	pid = e2e_spawn(e, "a", NULL);
	ck_assert_int_eq(e2e_gtctl(e, &out, "shutdown", NULL), 0);
	ck_assert_str_eq(out, "");
	ck_assert(e2e_wait_exit(e, 8000, &st));
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert(e2e_wait_dead(pid, 3000));
	ck_assert_int_eq(e2e_gtctl(e, &out, "ping", NULL), 69);
	e2e_stop(e);
}
END_TEST

Suite *
e2e_gtctl_suite(void)
{
	Suite	*s = suite_create("e2e_gtctl");
	TCase	*tc;

	tc = tcase_create("gtctl");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_gtctl_ping_hello);
	tcase_add_test(tc, e2e_gtctl_open_find_stop);
	tcase_add_test(tc, e2e_gtctl_start_fields);
	tcase_add_test(tc, e2e_gtctl_ls_table);
	tcase_add_test(tc, e2e_gtctl_json);
	tcase_add_test(tc, e2e_gtctl_exit_status);
	tcase_add_test(tc, e2e_gtctl_malformed_reply);
	tcase_add_test(tc, e2e_gtctl_attrs);
	tcase_add_test(tc, e2e_gtctl_info_spec_count);
	tcase_add_test(tc, e2e_gtctl_rm);
	tcase_add_test(tc, e2e_gtctl_raw);
	tcase_add_test(tc, e2e_gtctl_timeout);
	tcase_add_test(tc, e2e_gtctl_shutdown);
	suite_add_tcase(s, tc);
	return (s);
}
