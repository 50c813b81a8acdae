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

#include <sys/stat.h>

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "gt/xmalloc.h"
#include "harness.h"

static int	words(const char *, char *, size_t, char **, int);
static pid_t	fake_gtd(const char *, const char *);
static pid_t	fake_gtd_script(const char *, const char *const *,
		    const char *);
static const char *proc_wait(struct e2e_proc *, const char *, int);

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
	const char	*replies[] = { reply, NULL };

	return (fake_gtd_script(path, replies, "/dev/null"));
}

START_TEST(e2e_gtctl_ping_hello)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*out;

	ck_assert_int_eq(e2e_gtctl(e, &out, "ping", NULL), 0);
	ck_assert_str_eq(out, "pong\n");
	ck_assert_int_eq(e2e_gtctl(e, &out, "hello", NULL), 0);
	ck_assert_msg(e2e_has_line(out, "protocol: 1"), "%s", out);
	ck_assert_msg(e2e_has_line(out, "zone: default"), "%s", out);
	ck_assert_msg(e2e_has_line(out, e2e_fmt(e, "pid: %d", (int)e2e_pid(e))),
	    "%s", out);
	ck_assert_int_eq(e2e_gtctl(e, &out, "version", NULL), 0);
	ck_assert_msg(e2e_has_line(out, "protocol: 1"), "%s", out);
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
	/* restart (restart_child with force): e2e_gtctl_restart_running */
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
	ck_assert_msg(e2e_has_line(out, "host: example.org"), "%s", out);
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
	ck_assert_msg(e2e_has_line(out, "state: running"), "%s", out);
	ck_assert_msg(e2e_has_line(out, e2e_fmt(e, "pid: %d", (int)pid)), "%s",
	    out);
	ck_assert_int_eq(e2e_gtctl(e, &out, "spec", "web", NULL), 0);
	ck_assert_ptr_nonnull(j = json_loads(out, 0, NULL));
	ck_assert_str_eq(e2e_str(j, "restart"), "permanent");
	json_decref(j);
	ck_assert_int_eq(e2e_gtctl(e, &out, "count", NULL), 0);
	ck_assert_msg(e2e_has_line(out, "specs: 1") &&
	    e2e_has_line(out, "active: 1"), "%s", out);
	ck_assert_int_eq(e2e_gtctl(e, &out, "stats", NULL), 0);
	ck_assert_int_eq(e2e_gtctl(e, &out, "check", "x", "--",
	    e2e_testchild(e), NULL), 0);
	ck_assert_int_eq(e2e_gtctl(e, &out, "check", "x", "restart=never", "--",
	    e2e_testchild(e), NULL), 1);
	/* an op by name */
	ck_assert_int_eq(e2e_gtctl(e, &out, "count_children", NULL), 0);
	ck_assert_msg(e2e_has_line(out, "specs: 1"), "%s", out);
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

/*
 * A fake gtd on path for one connection: it answers the i-th request
 * line with replies[i] (NULL-terminated list, each ending in '\n'),
 * appends each request line to log, and exits at EOF or when the
 * replies are used up.  Returns its pid; the test waits for it.
 */
static pid_t
fake_gtd_script(const char *path, const char *const *replies,
    const char *log)
{
	struct sockaddr_un	 sun;
	struct pollfd		 pfd;
	char			 buf[65536];
	size_t			 len = 0, i = 0;
	ssize_t			 n;
	char			*nl;
	FILE			*f;
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
	while (replies[i] != NULL) {
		while ((nl = memchr(buf, '\n', len)) == NULL) {
			if (poll(&pfd, 1, 10000) != 1 ||
			    (n = read(c, buf + len, sizeof buf - len)) <= 0)
				_exit(0);
			len += n;
		}
		if ((f = fopen(log, "a")) != NULL) {
			fprintf(f, "%.*s\n", (int)(nl - buf), buf);
			fclose(f);
		}
		len -= nl + 1 - buf;
		memmove(buf, nl + 1, len);
		if (write(c, replies[i], strlen(replies[i])) == -1)
			_exit(1);
		i++;
	}
	close(c);
	_exit(0);
}

static const char	*fake_last_log;

/* Run gtctl against a fake gtd that gives these replies; its status. */
static int
fake_run(struct e2e *e, const char *const *replies, const char **out,
    const char *a1, const char *a2, const char *a3)
{
	static int	 n;
	const char	*path, *log;
	pid_t		 pid;
	int		 st;

	path = e2e_path(e, e2e_fmt(e, "script%d.sock", n));
	log = fake_last_log = e2e_path(e, e2e_fmt(e, "script%d.log", n++));
	pid = fake_gtd_script(path, replies, log);
	e2e_gtctl_socket(e, path);
	st = e2e_gtctl(e, out, "--color=never", a1, a2, a3, NULL);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	return (st);
}

/* The request lines the last fake_run's gtd got. */
static const char *
fake_log(struct e2e *e)
{
	return (e2e_read_file(e, fake_last_log, 1000));
}

/*
 * What gtctl makes of reply fields gtd may add: gave_up and restart_at
 * rows in ls, an escalated stop's reason, a reload's lists, a start
 * queued behind max_starting (pid null).  A fake gtd gives the replies.
 */
START_TEST(e2e_gtctl_reply_fields)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*out, *r[3] = { NULL, NULL, NULL };
	char		*ls;

	xasprintf(&ls, "{\"ok\":true,\"children\":[{\"name\":\"a\",\"pid\":"
	    "null,\"state\":\"stopped\",\"type\":\"worker\",\"restart\":"
	    "\"permanent\",\"restart_count\":11,\"gave_up\":true},"
	    "{\"name\":\"b\",\"pid\":null,\"state\":\"restarting\",\"type\":"
	    "\"worker\",\"restart\":\"permanent\",\"restart_count\":2,"
	    "\"restart_at\":%lld}]}\n", (long long)time(NULL) * 1000 + 30500);
	r[0] = ls;
	ck_assert_int_eq(fake_run(e, r, &out, "ls", NULL, NULL), 0);
	ck_assert_msg(strstr(out, "stopped (gave up)") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "restarting (next try in 30 s)") != NULL ||
	    strstr(out, "restarting (next try in 29 s)") != NULL, "%s", out);
	free(ls);
	/* The reason says SIGKILL: the first signal comes from the spec. */
	r[0] = "{\"ok\":true,\"reason\":{\"signal\":\"SIGKILL\",\"requested\":"
	    "true,\"escalated\":true,\"timeout_ms\":5000}}\n";
	r[1] = "{\"ok\":true,\"spec\":{\"shutdown\":{\"signal\":\"SIGTERM\","
	    "\"timeout_ms\":5000}}}\n";
	ck_assert_int_eq(fake_run(e, r, &out, "stop", "web", NULL), 0);
	ck_assert_str_eq(out, "stopped on request: SIGTERM, then SIGKILL "
	    "after 5 s\n");
	ck_assert_msg(strstr(fake_log(e), "\"op\":\"terminate_child\"") !=
	    NULL, "%s", fake_log(e));
	/* gtd says what it sent: no lookup */
	r[0] = "{\"ok\":true,\"reason\":{\"signal\":\"SIGKILL\",\"requested\":"
	    "true,\"stop_signal\":\"SIGHUP\",\"escalated\":true,"
	    "\"timeout_ms\":5000}}\n";
	r[1] = NULL;
	ck_assert_int_eq(fake_run(e, r, &out, "stop", "web", NULL), 0);
	ck_assert_str_eq(out, "stopped on request: SIGHUP, then SIGKILL "
	    "after 5 s\n");
	r[0] = "{\"ok\":true,\"reason\":{\"exit_status\":3,\"requested\":"
	    "true,\"stop_signal\":\"SIGTERM\"}}\n";
	ck_assert_int_eq(fake_run(e, r, &out, "stop", "web", NULL), 0);
	ck_assert_str_eq(out, "stopped on request: SIGTERM, then exited with "
	    "status 3\n");
	r[0] = "{\"ok\":true,\"reason\":{\"signal\":\"SIGINT\",\"requested\":"
	    "true,\"escalated\":true,\"timeout_ms\":1500}}\n";
	ck_assert_int_eq(fake_run(e, r, &out, "stop", "web", NULL), 0);
	ck_assert_str_eq(out, "stopped on request: SIGINT, then SIGKILL "
	    "after 1.5 s\n");
	r[0] = "{\"ok\":true,\"reason\":{\"exit_status\":0,\"requested\":"
	    "true}}\n";
	ck_assert_int_eq(fake_run(e, r, &out, "stop", "web", NULL), 0);
	ck_assert_str_eq(out, "stopped on request: exited with status 0\n");
	/* reload: what it did; --dry-run: what it would do */
	r[0] = "{\"ok\":true,\"started\":[\"c\"],\"stopped\":[\"b\"],"
	    "\"changed\":[\"a\"],\"unchanged\":[\"d\",\"e\"]}\n";
	ck_assert_int_eq(fake_run(e, r, &out, "reload", NULL, NULL), 0);
	ck_assert_str_eq(out, "started: c\nstopped: b\n"
	    "changed (applies at the next start): a\nunchanged: d, e\n");
	ck_assert_int_eq(fake_run(e, r, &out, "reload", "--dry-run", NULL), 0);
	ck_assert_str_eq(out, "would start: c\nwould stop: b\n"
	    "would change (applies at the next start): a\nunchanged: d, e\n");
	ck_assert_msg(strstr(fake_log(e), "\"dry_run\":true") != NULL,
	    "%s", fake_log(e));
	r[0] = "{\"ok\":true,\"started\":[],\"stopped\":[],\"changed\":[],"
	    "\"unchanged\":[],\"absent\":[],\"failed\":[],"
	    "\"warnings\":[]}\n";
	ck_assert_int_eq(fake_run(e, r, &out, "reload", NULL, NULL), 0);
	ck_assert_str_eq(out, "nothing changed\n");
	r[0] = "{\"ok\":true,\"started\":[],\"stopped\":[],\"changed\":[],"
	    "\"unchanged\":[\"a\"],\"absent\":[\"once\"],\"failed\":"
	    "[\"bad\"],\"warnings\":[\"zone changes need a restart\"]}\n";
	ck_assert_int_eq(fake_run(e, r, &out, "reload", NULL, NULL), 0);
	ck_assert_str_eq(out, "unchanged: a\n"
	    "not started again (gone, entry unchanged): once\n"
	    "failed to start: bad\n");
	ck_assert_str_eq(e2e_gtctl_stderr(e), "gtctl: warning: zone changes "
	    "need a restart\n");
	/* --nowait behind max_starting: no pid yet, but no error */
	r[0] = "{\"ok\":true,\"pid\":null,\"state\":\"starting\"}\n";
	ck_assert_int_eq(fake_run(e, r, &out, "open", "--nowait", "q"), 0);
	ck_assert_str_eq(out, "");
	ck_assert_msg(strstr(e2e_gtctl_stderr(e), "no process yet") != NULL,
	    "%s", e2e_gtctl_stderr(e));
	e2e_stop(e);
}
END_TEST

/* start --nowait of a start queued behind max_starting: pid null, 0. */
START_TEST(e2e_gtctl_nowait_queued)
{
	struct e2e	*e = e2e_start("{\"max_starting\": 1}");
	const char	*out;

	/* a never becomes ready, so it holds the one starting slot. */
	e2e_ok(e, "start_child", "{s:s, s:o, s:{s:i}, s:b}", "name", "a",
	    "cmd", e2e_cmd(NULL), "ready", "fd", 3, "wait", 0);
	ck_assert_int_eq(e2e_gtctl(e, &out, "start", "--nowait", "b", "--",
	    e2e_testchild(e), NULL), 0);
	ck_assert_str_eq(out, "");
	ck_assert_msg(strstr(e2e_gtctl_stderr(e), "b has no process yet") !=
	    NULL, "%s", e2e_gtctl_stderr(e));
	ck_assert_ptr_nonnull(e2e_row(e, "b"));
	e2e_stop(e);
}
END_TEST

/* Typos are caught without gtd; help works without gtd. */
START_TEST(e2e_gtctl_typo_help)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*out;

	e2e_gtctl_socket(e, e2e_path(e, "none.sock"));
	ck_assert_int_eq(e2e_gtctl(e, &out, "lss", NULL), 64);
	ck_assert_str_eq(e2e_gtctl_stderr(e), "gtctl: unknown command 'lss' "
	    "\xe2\x80\x94 did you mean 'ls'?\n");
	ck_assert_int_eq(e2e_gtctl(e, &out, "atr", "get", "a", "b", NULL), 64);
	ck_assert_msg(strstr(e2e_gtctl_stderr(e), "did you mean 'attr'") !=
	    NULL, "%s", e2e_gtctl_stderr(e));
	ck_assert_int_eq(e2e_gtctl(e, &out, "attr", "gte", "a", "b", NULL),
	    64);
	ck_assert_msg(strstr(e2e_gtctl_stderr(e),
	    "did you mean 'attr get'") != NULL, "%s", e2e_gtctl_stderr(e));
	ck_assert_int_eq(e2e_gtctl(e, &out, "restrat", "web", NULL), 64);
	ck_assert_msg(strstr(e2e_gtctl_stderr(e), "did you mean 'restart'") !=
	    NULL, "%s", e2e_gtctl_stderr(e));
	ck_assert_int_eq(e2e_gtctl(e, &out, "help", "logs", NULL), 0);
	ck_assert_msg(strncmp(out, "usage: gtctl logs ", 18) == 0, "%s", out);
	ck_assert_msg(strstr(out, "--follow") != NULL, "%s", out);
	ck_assert_int_eq(e2e_gtctl(e, &out, "help", "attr", "set", NULL), 0);
	ck_assert_msg(strncmp(out, "usage: gtctl attr set ", 22) == 0, "%s",
	    out);
	ck_assert_int_eq(e2e_gtctl(e, &out, "help", NULL), 0);
	ck_assert_msg(strstr(out, "restart target ...") != NULL, "%s", out);
	ck_assert_int_eq(e2e_gtctl(e, &out, "help", "stpo", NULL), 64);
	ck_assert_msg(strstr(e2e_gtctl_stderr(e), "did you mean 'stop'") !=
	    NULL, "%s", e2e_gtctl_stderr(e));
	ck_assert_int_eq(e2e_gtctl(e, &out, "help", "which_children", NULL), 0);
	/* none of these needed gtd: its socket is not even there */
	e2e_gtctl_socket(e, e2e_sock(e));
	ck_assert_int_eq(e2e_gtctl(e, &out, "status", NULL), 0);
	ck_assert_msg(strncmp(out, "NAME ", 5) == 0, "%s", out);
	e2e_stop(e);
}
END_TEST

/* -z and -s beat $GTD_SOCKET (set by e2e_gtctl to this gtd). */
START_TEST(e2e_gtctl_socket_options)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*out, *err, *run;
	char		 zone[64];

	run = getenv("GTCTL") != NULL ? getenv("GTCTL") : "build/gtctl";
	snprintf(zone, sizeof zone, "e2e-nozone-%d", (int)getpid());
	ck_assert_int_eq(e2e_gtctl(e, &out, "ping", NULL), 0);
	ck_assert_int_eq(e2e_gtctl(e, &out, "-z", zone, "ls", NULL), 69);
	ck_assert_msg(strstr(e2e_gtctl_stderr(e), e2e_fmt(e,
	    "/run/gtd/%s.sock", zone)) != NULL, "%s", e2e_gtctl_stderr(e));
	ck_assert_int_eq(e2e_gtctl(e, &out, "-s", e2e_path(e, "x.sock"), "ls",
	    NULL), 69);
	/* without -s, -z and $GTD_SOCKET: $GTD_ZONE names the zone */
	ck_assert_int_eq(e2e_exec(e, false, &out, &err, "/usr/bin/env",
	    "-u", "GTD_SOCKET", e2e_fmt(e, "GTD_ZONE=%s", zone), run, "ls",
	    NULL), 69);
	ck_assert_msg(strstr(err, e2e_fmt(e, "/run/gtd/%s.sock", zone)) !=
	    NULL, "%s", err);
	/* $GTD_SOCKET beats it */
	ck_assert_int_eq(e2e_exec(e, false, &out, &err, "/usr/bin/env",
	    e2e_fmt(e, "GTD_SOCKET=%s", e2e_sock(e)), e2e_fmt(e,
	    "GTD_ZONE=%s", zone), run, "ping", NULL), 0);
	e2e_stop(e);
}
END_TEST

/*
 * A user without a zone of its own reaches the system's zone at
 * /run/gtd/ZONE.sock, where gtd@.service (root) puts it: nobody runs
 * "gtctl -z ZONE ping" with an empty $XDG_RUNTIME_DIR.
 */
START_TEST(e2e_gtctl_default_socket_user)
{
	struct e2e	*e = e2e_start("{\"socket_mode\":\"0666\"}");
	const char	*out, *err, *run, *xdg;
	char		 zone[64], link[128];
	bool		 made = false;

	ck_assert_msg(geteuid() == 0, "needs root, to switch to nobody");
	snprintf(zone, sizeof zone, "e2e-user-%d", (int)getpid());
	snprintf(link, sizeof link, "/run/gtd/%s.sock", zone);
	if (mkdir("/run/gtd", 0755) == 0)
		made = true;
	ck_assert_int_eq(symlink(e2e_sock(e), link), 0);
	ck_assert_int_eq(chmod(e2e_dir(e), 0711), 0);
	run = getenv("GTCTL") != NULL ? getenv("GTCTL") : "build/gtctl";
	xdg = e2e_path(e, "xdg");
	ck_assert_int_eq(mkdir(xdg, 0777), 0);
	setenv("XDG_RUNTIME_DIR", xdg, 1);
	ck_assert_int_eq(e2e_exec(e, false, &out, &err, "/usr/bin/setpriv",
	    "--reuid=65534", "--regid=65534", "--clear-groups", run, "-z",
	    zone, "ping", NULL), 0);
	ck_assert_str_eq(out, "pong\n");
	/* without XDG_RUNTIME_DIR too (no /tmp/gtd-UID of old) */
	unsetenv("XDG_RUNTIME_DIR");
	ck_assert_int_eq(e2e_exec(e, false, &out, &err, "/usr/bin/setpriv",
	    "--reuid=65534", "--regid=65534", "--clear-groups", run, "-z",
	    zone, "ping", NULL), 0);
	ck_assert_str_eq(out, "pong\n");
	unlink(link);
	if (made)
		rmdir("/run/gtd");
	e2e_stop(e);
}
END_TEST

/* The error's context is printed: field, state, pid, hints. */
START_TEST(e2e_gtctl_error_context)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*out;
	pid_t		 pid;

	ck_assert_int_eq(e2e_gtctl(e, &out, "start", "x", "restart=never",
	    "--", e2e_testchild(e), NULL), 1);
	ck_assert_msg(strstr(e2e_gtctl_stderr(e), "(field: restart)") != NULL,
	    "%s", e2e_gtctl_stderr(e));
	pid = e2e_spawn(e, "web", NULL);
	ck_assert_int_eq(e2e_gtctl(e, &out, "start", "web", "--",
	    e2e_testchild(e), NULL), 1);
	ck_assert_msg(strstr(e2e_gtctl_stderr(e), e2e_fmt(e, "(pid: %d)",
	    (int)pid)) != NULL, "%s", e2e_gtctl_stderr(e));
	/* start on a stopped row: use restart */
	e2e_ok(e, "terminate_child", "{s:s}", "name", "web");
	ck_assert_int_eq(e2e_gtctl(e, &out, "start", "web", NULL), 1);
	ck_assert_msg(strstr(e2e_gtctl_stderr(e), "already_present") != NULL &&
	    strstr(e2e_gtctl_stderr(e), "(state: stopped)") != NULL &&
	    strstr(e2e_gtctl_stderr(e), "gtctl restart web") != NULL, "%s",
	    e2e_gtctl_stderr(e));
	ck_assert_int_eq(e2e_gtctl(e, &out, "start", "web", "--",
	    e2e_testchild(e), NULL), 1);
	ck_assert_msg(strstr(e2e_gtctl_stderr(e), "gtctl restart web") !=
	    NULL, "%s", e2e_gtctl_stderr(e));
	/* no such child: start says how to start a new one */
	ck_assert_int_eq(e2e_gtctl(e, &out, "start", "ghost", NULL), 3);
	ck_assert_msg(strstr(e2e_gtctl_stderr(e), "-- cmd") != NULL, "%s",
	    e2e_gtctl_stderr(e));
	e2e_stop(e);
}
END_TEST

/* not_found and not_running exit 3 for every command. */
START_TEST(e2e_gtctl_exit_absent)
{
	static const char *const cmds[][5] = {
		{ "find", "ghost" }, { "info", "ghost" }, { "stop", "ghost" },
		{ "start", "ghost" }, { "rm", "ghost" },
		{ "rm", "-f", "ghost" }, { "kill", "ghost", "HUP" },
		{ "release", "ghost" }, { "logs", "ghost" }, { "spec", "ghost" },
		{ "attrs", "ghost" }, { "attr", "get", "ghost", "k" },
		{ "attr", "set", "ghost", "k", "1" },
		{ "attr", "del", "ghost", "k" }, { "attr", "incr", "ghost", "k" },
		{ "ls", "ghost" }, { "stop", "gh*" }, { "getattr", "name=ghost",
		  "key=k" }, { "kill", "st", "HUP" }, { "attr", "set", "st", "k",
		  "1" }
	};
	struct e2e	*e = e2e_start(NULL);
	const char	*out;
	size_t		 i;
	int		 st;

	e2e_spawn(e, "st", NULL);
	e2e_ok(e, "terminate_child", "{s:s}", "name", "st");
	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		st = e2e_gtctl(e, &out, cmds[i][0], cmds[i][1], cmds[i][2],
		    cmds[i][3], cmds[i][4], NULL);
		ck_assert_msg(st == 3, "gtctl %s %s: exit %d, want 3: %s",
		    cmds[i][0], cmds[i][1], st, e2e_gtctl_stderr(e));
	}
	e2e_stop(e);
}
END_TEST

/* Whether s holds a byte a terminal would act on (ESC, DEL, C1). */
static bool
has_control(const char *s)
{
	const unsigned char	*u = (const unsigned char *)s;

	for (; *u != '\0'; u++) {
		if ((*u < 0x20 && *u != '\n' && *u != '\t') || *u == 0x7f)
			return (true);
		if (u[0] == 0xc2 && u[1] >= 0x80 && u[1] <= 0x9f)
			return (true);
	}
	return (false);
}

/*
 * What a child controls (its name, attrs, output, STATUS) reaches the
 * terminal escaped, in every command, with --json too.
 */
START_TEST(e2e_gtctl_escapes)
{
	static const char	*bad = "\033[2J\033]0;pwned\007 \302\233x\177y";
	static const char *const cmds[][4] = {	/* "@": the child's name */
		{ "ls" }, { "ls", "-a" }, { "list" }, { "logs" },
		{ "logs", "evil*" }, { "info", "@" }, { "attrs", "@" },
		{ "attr", "get", "@", "k" }, { "find", "@" }, { "stop", "@x" },
		{ "query", "SELECT name, value FROM attrs" }, { "spec", "@" },
		{ "count_children" }, { "events", "--since", "0" }
	};
	struct e2e	*e = e2e_start(NULL);
	struct e2e_proc	*p;
	const char	*out, *name, *a[4], *l;
	json_t		*j;
	size_t		 i, k;
	int		 json;

	name = e2e_fmt(e, "evil%s", bad);
	e2e_ok(e, "start_child", "{s:s, s:o, s:{s:s}}", "name", name,
	    "cmd", e2e_cmd(e2e_fmt(e, "--stdout=%s", bad), NULL), "attrs",
	    "k", bad);
	ck_assert(e2e_wait_text(e2e_path(e, "gtd.log"), "pwned", 5000));
	for (json = 0; json < 2; json++) {
		for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
			for (k = 0; k < 4; k++)
				a[k] = cmds[i][k] != NULL && cmds[i][k][0] ==
				    '@' ? e2e_fmt(e, "%s%s", name,
				    cmds[i][k] + 1) : cmds[i][k];
			if (strcmp(a[0], "events") == 0) {
				/* goes on printing: the first lines */
				p = e2e_gtctl_bg(e, json ? "--json" :
				    "--color=never", a[0], a[1], a[2], NULL);
				l = proc_wait(p, "started", 5000);
				ck_assert_msg(l != NULL && !has_control(l),
				    "events: %s", l);
				e2e_proc_kill(p);
				continue;
			}
			e2e_gtctl(e, &out, json ? "--json" : "--color=never",
			    a[0], a[1], a[2], a[3], NULL);
			ck_assert_msg(!has_control(out) &&
			    !has_control(e2e_gtctl_stderr(e)),
			    "gtctl %s %s: raw control bytes: %s / %s", a[0],
			    a[1] != NULL ? a[1] : "", out,
			    e2e_gtctl_stderr(e));
		}
	}
	ck_assert_int_eq(e2e_gtctl(e, &out, "attr", "get", name, "k", NULL), 0);
	ck_assert_str_eq(out, "\\x1b[2J\\x1b]0;pwned\\x07 \\u009bx\\x7fy\n");
	/* --json stays JSON with the same value */
	ck_assert_int_eq(e2e_gtctl(e, &out, "--json", "attr", "get", name,
	    "k", NULL), 0);
	ck_assert_msg(strstr(out, "\\u007f") != NULL &&
	    strstr(out, "\\u009b") != NULL, "%s", out);
	ck_assert_ptr_nonnull(j = json_loads(out, 0, NULL));
	ck_assert_str_eq(json_string_value(json_object_get(j, "value")), bad);
	json_decref(j);
	e2e_stop(e);
}
END_TEST

/* The line of out that contains text, or NULL (borrowed). */
static const char *
line_with(struct e2e *e, const char *out, const char *text)
{
	const char	*p = strstr(out, text), *b;

	if (p == NULL)
		return (NULL);
	for (b = p; b > out && b[-1] != '\n'; b--)
		;
	return (e2e_fmt(e, "%.*s", (int)(strchrnul(b, '\n') - b), b));
}

/* Wait until name has written a line that gtd kept. */
static void
log_child_wait(struct e2e *e, const char *name)
{
	long	deadline = e2e_now_ms() + e2e_slow(5000);

	while (json_array_size(e2e_get(e2e_ok(e, "logs", "{s:s}", "name",
	    name), "lines")) == 0) {
		ck_assert_msg(e2e_now_ms() < deadline, "%s wrote nothing",
		    name);
		poll(NULL, 0, 5);
	}
}

/* Start name, which writes text, and wait until gtd has kept it. */
static json_int_t
log_child(struct e2e *e, const char *name, const char *text)
{
	json_t		*lines;
	long		 deadline = e2e_now_ms() + e2e_slow(5000);

	e2e_ok(e, "start_child", "{s:s, s:o}", "name", name, "cmd",
	    e2e_cmd(e2e_fmt(e, "--stdout=%s", text), NULL));
	for (;;) {
		lines = e2e_get(e2e_ok(e, "logs", "{s:s}", "name", name),
		    "lines");
		if (json_array_size(lines) > 0)
			return (e2e_int(json_array_get(lines, 0), "at"));
		ck_assert_msg(e2e_now_ms() < deadline, "%s wrote nothing",
		    name);
		poll(NULL, 0, 5);
	}
}

/* Wait until the wall clock is past at (ms), so the next line is later. */
static void
after_ms(json_int_t at)
{
	struct timespec	ts;

	do {
		poll(NULL, 0, 1);
		clock_gettime(CLOCK_REALTIME, &ts);
	} while ((json_int_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 <= at);
}

/*
 * logs of several children (or of all) merge their lines by time, each
 * with its time, name and stream; one child's lines have no name.
 */
START_TEST(e2e_gtctl_logs_merge)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*out, *l, *pa, *pb, *pc;

	after_ms(log_child(e, "alpha", "line-a"));
	after_ms(log_child(e, "bravo", "line-b"));
	log_child(e, "charlie", "line-c");
	/* asked in the order c, a, b: printed in the order they came */
	ck_assert_int_eq(e2e_gtctl(e, &out, "logs", "charlie", "alpha",
	    "bravo", NULL), 0);
	pa = strstr(out, "line-a");
	pb = strstr(out, "line-b");
	pc = strstr(out, "line-c");
	ck_assert_msg(pa != NULL && pb != NULL && pc != NULL && pa < pb &&
	    pb < pc, "%s", out);
	l = line_with(e, out, "line-b");
	ck_assert_msg(strstr(l, "bravo") != NULL && (strstr(l, " output ") !=
	    NULL || strstr(l, " stdout ") != NULL), "%s", l);
	/* a local time first: "YYYY-MM-DD HH:MM:SS.mmm " */
	ck_assert_msg(strlen(l) > 24 && l[4] == '-' && l[10] == ' ' &&
	    l[13] == ':' && l[19] == '.' && l[23] == ' ', "%s", l);
	ck_assert_int_eq(e2e_gtctl(e, &out, "logs", NULL), 0);
	pa = strstr(out, "line-a");
	pc = strstr(out, "line-c");
	ck_assert_msg(pa != NULL && pc != NULL && pa < pc, "%s", out);
	ck_assert_int_eq(e2e_gtctl(e, &out, "logs", "b*", "charlie", NULL), 0);
	ck_assert_msg(strstr(out, "line-a") == NULL && strstr(out, "line-b") !=
	    NULL && strstr(out, "line-c") != NULL, "%s", out);
	/* one child: time and stream, no name */
	ck_assert_int_eq(e2e_gtctl(e, &out, "logs", "alpha", NULL), 0);
	ck_assert_msg(strstr(out, "line-a") != NULL && strstr(out, "alpha") ==
	    NULL, "%s", out);
	ck_assert_int_eq(e2e_gtctl(e, &out, "logs", "alpha", "ghost", NULL), 3);
	e2e_stop(e);
}
END_TEST

/* The next line of p that contains text, within ms; NULL if none. */
static const char *
proc_wait(struct e2e_proc *p, const char *text, int ms)
{
	const char	*l;
	long		 deadline = e2e_now_ms() + e2e_slow(ms);

	while (e2e_now_ms() < deadline)
		if ((l = e2e_proc_line(p, (int)(deadline - e2e_now_ms()))) !=
		    NULL && strstr(l, text) != NULL)
			return (l);
	return (NULL);
}

/*
 * logs -f of several children follows them all on one connection; logs
 * -f without names also follows children that start later.
 */
START_TEST(e2e_gtctl_logs_follow)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_proc	*some, *all;
	const char	*l;

	log_child(e, "alpha", "hello-a");
	log_child(e, "bravo", "hello-b");
	some = e2e_gtctl_bg(e, "logs", "-f", "alpha", "bravo", NULL);
	all = e2e_gtctl_bg(e, "logs", "-f", NULL);
	ck_assert_ptr_nonnull(proc_wait(some, "hello-b", 5000));
	ck_assert_ptr_nonnull(proc_wait(all, "hello-b", 5000));
	ck_assert(e2e_wait_conns(e, 3, e2e_slow(5000)));
	/* new incarnations write their line again, later */
	e2e_ok(e, "terminate_child", "{s:s}", "name", "alpha");
	e2e_ok(e, "restart_child", "{s:s}", "name", "alpha");
	l = proc_wait(some, "hello-a", 10000);
	ck_assert_msg(l != NULL && strstr(l, "alpha") != NULL, "%s", l);
	/* a child that did not exist when it began */
	log_child(e, "charlie", "hello-c");
	l = proc_wait(all, "hello-c", 10000);
	ck_assert_msg(l != NULL && strstr(l, "charlie") != NULL, "%s", l);
	e2e_proc_kill(some);
	e2e_proc_kill(all);
	e2e_stop(e);
}
END_TEST

/*
 * gtd follows at most 64 names on one connection: logs -f of more
 * children takes more connections, and follows every one.
 */
START_TEST(e2e_gtctl_logs_follow_many)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_proc	*p;
	const char	*out, *l;
	bool		 seen[70] = { false };
	int		 i, n = 0;

	for (i = 0; i < 70; i++)
		e2e_ok(e, "start_child", "{s:s, s:o}", "name", e2e_fmt(e,
		    "c%02d", i), "cmd", e2e_cmd(e2e_fmt(e, "--stdout=hi-%02d",
		    i), NULL));
	for (i = 0; i < 70; i++)
		log_child_wait(e, e2e_fmt(e, "c%02d", i));
	ck_assert_int_eq(e2e_gtctl(e, &out, "logs", NULL), 0);
	for (i = 0; i < 70; i++)
		ck_assert_msg(strstr(out, e2e_fmt(e, "hi-%02d", i)) != NULL,
		    "no hi-%02d: %s", i, out);
	p = e2e_gtctl_bg(e, "logs", "-f", "-n", "1", NULL);
	while (n < 70 && (l = proc_wait(p, " hi-", 5000)) != NULL) {
		i = atoi(strstr(l, " hi-") + 4);
		ck_assert_msg(i >= 0 && i < 70 && !seen[i], "%s", l);
		seen[i] = true;
		n++;
	}
	ck_assert_int_eq(n, 70);
	/* the last ones are followed on a second connection */
	e2e_ok(e, "terminate_child", "{s:s}", "name", "c69");
	e2e_ok(e, "restart_child", "{s:s}", "name", "c69");
	l = proc_wait(p, "hi-69", 5000);
	ck_assert_msg(l != NULL && strstr(l, "c69") != NULL, "%s", l);
	e2e_proc_kill(p);
	e2e_stop(e);
}
END_TEST

/* Colours: --color=always, never on a pipe, not with NO_COLOR. */
START_TEST(e2e_gtctl_colors)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*out, *run, *cmd;

	e2e_spawn(e, "web", NULL);
	ck_assert_int_eq(e2e_gtctl(e, &out, "--color=always", "ls", NULL), 0);
	ck_assert_msg(strstr(out, "\033[32mrunning\033[0m") != NULL, "%s", out);
	ck_assert_int_eq(e2e_gtctl(e, &out, "ls", "--color", NULL), 0);
	ck_assert_msg(strchr(out, '\033') != NULL, "%s", out);
	ck_assert_int_eq(e2e_gtctl(e, &out, "ls", NULL), 0);
	ck_assert_msg(strchr(out, '\033') == NULL, "%s", out);
	ck_assert_int_eq(e2e_gtctl(e, &out, "--color=sometimes", "ls", NULL),
	    64);
	/* on a terminal (script(1) gives it one) */
	if (access("/usr/bin/script", X_OK) != 0) {
		fprintf(stderr, "e2e_gtctl_colors: no script(1), terminal "
		    "part skipped\n");
		e2e_stop(e);
		return;
	}
	run = getenv("GTCTL") != NULL ? getenv("GTCTL") : "build/gtctl";
	setenv("TERM", "xterm", 1);
	unsetenv("NO_COLOR");
	cmd = e2e_fmt(e, "%s ls", run);
	ck_assert_int_eq(e2e_exec(e, true, &out, NULL, "/usr/bin/script",
	    "-qec", cmd, "/dev/null", NULL), 0);
	ck_assert_msg(strstr(out, "\033[32mrunning") != NULL, "%s", out);
	setenv("NO_COLOR", "1", 1);
	ck_assert_int_eq(e2e_exec(e, true, &out, NULL, "/usr/bin/script",
	    "-qec", cmd, "/dev/null", NULL), 0);
	ck_assert_msg(strstr(out, "running") != NULL &&
	    strstr(out, "\033[32m") == NULL, "%s", out);
	cmd = e2e_fmt(e, "%s --color=always ls", run);
	ck_assert_int_eq(e2e_exec(e, true, &out, NULL, "/usr/bin/script",
	    "-qec", cmd, "/dev/null", NULL), 0);
	ck_assert_msg(strstr(out, "\033[32mrunning") != NULL, "%s", out);
	e2e_stop(e);
}
END_TEST

/* A row of which_children is in state within ms. */
static bool
all_in(struct e2e *e, const char *const *names, const char *state, int ms)
{
	for (; *names != NULL; names++)
		if (!e2e_wait_state(e, *names, state, ms))
			return (false);
	return (true);
}

/*
 * stop and start of several: all, a glob, a template; one line each,
 * stops side by side, exit status 3 when a target matches nothing.
 */
START_TEST(e2e_gtctl_many)
{
	static const char *const webs[] = { "web-1", "web-2", "web-3", NULL };
	struct e2e	*e;
	const char	*out;
	long		 t0;
	int		 i;

	e = e2e_start_json(json_pack("{s:{s:{s:o, s:{s:s, s:i}}}}",
	    "templates", "worker", "cmd", e2e_cmd("--ignore-term", NULL),
	    "shutdown", "signal", "TERM", "timeout_ms", 1500));
	for (i = 0; webs[i] != NULL; i++)
		e2e_ok(e, "start_child", "{s:s, s:s, s:[s]}", "name", webs[i],
		    "template", "worker", "args", e2e_ready_arg(e, webs[i]));
	e2e_spawn(e, "db", NULL);
	e2e_spawn(e, "w-other", NULL);
	for (i = 0; webs[i] != NULL; i++)
		e2e_wait_ready(e, webs[i]);
	/* three stops of 1.5 s each, side by side */
	t0 = e2e_now_ms();
	ck_assert_int_eq(e2e_gtctl(e, &out, "stop", "web-*", NULL), 0);
	ck_assert_int_lt(e2e_now_ms() - t0, e2e_slow(4000));
	for (i = 0; webs[i] != NULL; i++)
		ck_assert_msg(strstr(out, e2e_fmt(e, "%s: stopped on request: ",
		    webs[i])) != NULL, "%s", out);
	ck_assert(all_in(e, webs, "stopped", 1000));
	ck_assert_str_eq(e2e_str(e2e_row(e, "db"), "state"), "running");
	/* start of stopped ones; the running one is left alone */
	ck_assert_int_eq(e2e_gtctl(e, &out, "start", "web-1", "web-2", "db",
	    NULL), 0);
	ck_assert_msg(strstr(out, "web-1: started, pid ") != NULL &&
	    strstr(out, "web-2: started, pid ") != NULL &&
	    strstr(out, "db: already running") != NULL, "%s", out);
	ck_assert_str_eq(e2e_str(e2e_row(e, "web-3"), "state"), "stopped");
	/* a template name: its instances */
	for (i = 0; webs[i] != NULL; i++)
		unlink(e2e_path(e, e2e_fmt(e, "%s.ready", webs[i])));
	ck_assert_int_eq(e2e_gtctl(e, &out, "start", "worker", NULL), 0);
	ck_assert_msg(strstr(out, "web-3: started") != NULL, "%s", out);
	ck_assert(all_in(e, webs, "running", 1000));
	e2e_wait_ready(e, "web-3");
	ck_assert_int_eq(e2e_gtctl(e, &out, "stop", "worker",
	    "timeout_ms=100", NULL), 0);
	ck_assert(all_in(e, webs, "stopped", 1000));
	ck_assert_str_eq(e2e_str(e2e_row(e, "w-other"), "state"), "running");
	/* a target that matches nothing: nothing is done, exit 3 */
	ck_assert_int_eq(e2e_gtctl(e, &out, "stop", "db", "nope-*", NULL), 3);
	ck_assert_str_eq(e2e_str(e2e_row(e, "db"), "state"), "running");
	ck_assert_msg(strstr(e2e_gtctl_stderr(e), "nope-*") != NULL, "%s",
	    e2e_gtctl_stderr(e));
	/* all */
	ck_assert_int_eq(e2e_gtctl(e, &out, "stop", "all", NULL), 0);
	ck_assert_msg(strstr(out, "web-1: already stopped") != NULL &&
	    strstr(out, "db: stopped on request") != NULL, "%s", out);
	ck_assert_str_eq(e2e_str(e2e_row(e, "w-other"), "state"), "stopped");
	ck_assert_int_eq(e2e_gtctl(e, &out, "ls", "web-*", NULL), 0);
	ck_assert_msg(strstr(out, "web-2") != NULL && strstr(out, "db") ==
	    NULL, "%s", out);
	e2e_stop(e);
}
END_TEST

/*
 * restart of a running child: restart_child with force (needs gtd's
 * force argument): one child, a glob, all.
 */
START_TEST(e2e_gtctl_restart_running)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*out;
	pid_t		 a, b, c;

	a = e2e_spawn(e, "web-1", NULL);
	b = e2e_spawn(e, "web-2", NULL);
	c = e2e_spawn(e, "db", NULL);
	ck_assert_int_eq(e2e_gtctl(e, &out, "restart", "web-1", NULL), 0);
	ck_assert_int_eq(atoi(out), e2e_int(e2e_ok(e, "find", "{s:s}", "name",
	    "web-1"), "pid"));
	ck_assert_int_ne(atoi(out), a);
	ck_assert(e2e_wait_dead(a, 3000));
	ck_assert_int_eq(e2e_gtctl(e, &out, "restart", "web-*", NULL), 0);
	ck_assert_msg(strstr(out, "web-1: restarted, pid ") != NULL &&
	    strstr(out, "web-2: restarted, pid ") != NULL, "%s", out);
	ck_assert(e2e_wait_dead(b, 3000));
	ck_assert_int_eq(e2e_int(e2e_ok(e, "find", "{s:s}", "name", "db"),
	    "pid"), c);
	ck_assert_int_eq(e2e_gtctl(e, &out, "restart", "ghost", NULL), 3);
	/* a stopped child starts again */
	e2e_ok(e, "terminate_child", "{s:s}", "name", "db");
	ck_assert_int_eq(e2e_gtctl(e, &out, "restart", "db", NULL), 0);
	ck_assert_int_eq(atoi(out), e2e_int(e2e_ok(e, "find", "{s:s}", "name",
	    "db"), "pid"));
	e2e_stop(e);
}
END_TEST

/* The words bash completes, for the command line "words..." (cursor last). */
static const char *
complete(struct e2e *e, const char *words)
{
	const char	*out, *script;
	int		 st;

	script = e2e_fmt(e, "set -u; . contrib/bash-completion/gtctl; "
	    "COMP_WORDS=(\"$GTCTL\" %s); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); "
	    "_gtctl; printf '%%s\\n' \"${COMPREPLY[@]}\"", words);
	st = e2e_exec(e, true, &out, NULL, "/bin/bash", "-c", script, NULL);
	ck_assert_msg(st == 0, "bash completion of %s: exit %d", words, st);
	return (out);
}

/*
 * The completion and gtctl's words against the command table and gtd's
 * op table: the ops of hello are the ops gtctl knows (gtctl help --ops),
 * which the completion offers; every command of gtctl help --commands
 * completes; so do a command's options and child names.
 */
START_TEST(e2e_gtctl_completion)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*out, *ops, *cmds, *got;
	json_t		*hops, *op;
	char		*w, *save = NULL, *copy;
	size_t		 i, n = 0;

	if (getenv("GTCTL") == NULL)
		setenv("GTCTL", "build/gtctl", 1);
	e2e_spawn(e, "web-1", NULL);
	hops = e2e_get(e2e_ok(e, "hello", NULL), "ops");
	ck_assert_int_eq(e2e_gtctl(e, &ops, "help", "--ops", NULL), 0);
	json_array_foreach(hops, i, op)
		ck_assert_msg(e2e_has_line(ops, json_string_value(op)),
		    "gtd's op %s is not in gtctl help --ops", json_string_value(
		    op));
	/* ops complete from that list: with "_", or when no command fits */
	got = complete(e, "which_");
	ck_assert_msg(e2e_has_line(got, "which_children"), "%s", got);
	got = complete(e, "sig");
	ck_assert_msg(e2e_has_line(got, "signal"), "%s", got);
	got = complete(e, "terminate_and_delete");
	ck_assert_msg(e2e_has_line(got, "terminate_and_delete"), "%s", got);
	for (copy = xstrdup(ops), w = strtok_r(copy, "\n", &save); w != NULL;
	    w = strtok_r(NULL, "\n", &save))
		n++;
	free(copy);
	ck_assert_msg(n == json_array_size(hops), "gtctl knows %zu ops, gtd "
	    "%zu", n, json_array_size(hops));
	ck_assert_int_eq(e2e_gtctl(e, &cmds, "help", "--commands", NULL), 0);
	out = complete(e, "''");
	copy = xstrdup(cmds);
	for (w = strtok_r(copy, "\n", &save); w != NULL;
	    w = strtok_r(NULL, "\n", &save)) {
		*strchrnul(w, ' ') = '\0';
		ck_assert_msg(e2e_has_line(out, w), "command %s does not "
		    "complete: %s", w, out);
	}
	free(copy);
	got = complete(e, "attr ''");
	ck_assert_msg(e2e_has_line(got, "get") && e2e_has_line(got, "incr"),
	    "%s", got);
	got = complete(e, "logs -");
	ck_assert_msg(e2e_has_line(got, "--follow") && e2e_has_line(got, "-n"), "%s",
	    got);
	got = complete(e, "stop ''");
	ck_assert_msg(e2e_has_line(got, "web-1") && e2e_has_line(got, "all"), "%s",
	    got);
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
	tcase_add_test(tc, e2e_gtctl_reply_fields);
	tcase_add_test(tc, e2e_gtctl_nowait_queued);
	tcase_add_test(tc, e2e_gtctl_typo_help);
	tcase_add_test(tc, e2e_gtctl_socket_options);
	tcase_add_test(tc, e2e_gtctl_default_socket_user);
	tcase_add_test(tc, e2e_gtctl_error_context);
	tcase_add_test(tc, e2e_gtctl_exit_absent);
	tcase_add_test(tc, e2e_gtctl_escapes);
	tcase_add_test(tc, e2e_gtctl_logs_merge);
	tcase_add_test(tc, e2e_gtctl_logs_follow);
	tcase_add_test(tc, e2e_gtctl_logs_follow_many);
	tcase_add_test(tc, e2e_gtctl_colors);
	tcase_add_test(tc, e2e_gtctl_many);
	tcase_add_test(tc, e2e_gtctl_completion);
	suite_add_tcase(s, tc);
	/* Needs restart_child's force argument in gtd. */
	tc = tcase_create("gtctl_force");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_gtctl_restart_running);
	suite_add_tcase(s, tc);
	return (s);
}
