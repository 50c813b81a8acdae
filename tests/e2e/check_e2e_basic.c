/* SPDX-License-Identifier: MIT */
/*
 * check_e2e_basic: the daemon as a whole: hello, ping, stats, config and
 * boot children, gtd -n, the socket (second instance, stale file), what a
 * child gets (env, fds, stdio, cwd, session, signal mask), limits, and
 * stopping (SIGTERM, SIGINT, the shutdown op, shutting_down).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "gt/protocol.h"
#include "harness.h"

/* The ops of the Foundation issue; hello must list each of them. */
static const char *const foundation_ops[] = {
	"hello", "ping", "find", "find_or_open", "start_child",
	"terminate_child", "restart_child", "delete_child",
	"terminate_and_delete", "which_children", "count_children", "list",
	"info", "get_childspec", "check_childspec", "setattr", "getattr",
	"delattr", "increment", "stats", "shutdown", NULL
};

static bool	has_string(json_t *, const char *);
static bool	has_key_like(json_t *, const char *);
static bool	env_has(const char *, const char *);
static int	env_count(const char *, const char *);
static const char *env_grep(struct e2e *, const char *, const char *);
static unsigned long long status_mask(pid_t, const char *);

static bool
has_string(json_t *a, const char *s)
{
	json_t	*v;
	size_t	 i;

	json_array_foreach(a, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return (true);
	return (false);
}

/* Some key at any depth of o contains sub. */
static bool
has_key_like(json_t *o, const char *sub)
{
	const char	*k;
	json_t		*v;

	if (!json_is_object(o))
		return (false);
	json_object_foreach(o, k, v)
		if (strstr(k, sub) != NULL || has_key_like(v, sub))
			return (true);
	return (false);
}

/* The env dump (one VAR=value per line) has exactly this line. */
static bool
env_has(const char *env, const char *line)
{
	const char	*p = env;
	size_t		 n = strlen(line);

	while ((p = strstr(p, line)) != NULL) {
		if ((p == env || p[-1] == '\n') && (p[n] == '\n' ||
		    p[n] == '\0'))
			return (true);
		p += n;
	}
	return (false);
}

/* A hex mask line ("SigBlk:", "SigIgn:") of /proc/PID/status. */
static unsigned long long
status_mask(pid_t pid, const char *field)
{
	char			 path[64], line[256];
	unsigned long long	 v = ~0ULL;
	FILE			*f;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return (v);
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, field, strlen(field)) == 0)
			v = strtoull(line + strlen(field), NULL, 16);
	fclose(f);
	return (v);
}

START_TEST(e2e_hello)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*r, *ops;
	int		 i;

	r = e2e_ok(e, "hello", NULL);
	ck_assert_str_eq(e2e_str(r, "version"), GT_VERSION);
	ck_assert_int_eq(e2e_int(r, "protocol"), GT_PROTO_VERSION);
	ck_assert_str_eq(e2e_str(r, "zone"), "default");
	ck_assert_int_eq(e2e_int(r, "pid"), e2e_pid(e));
	ops = e2e_get(r, "ops");
	ck_assert(json_is_array(ops));
	for (i = 0; foundation_ops[i] != NULL; i++)
		ck_assert_msg(has_string(ops, foundation_ops[i]),
		    "hello ops lack %s: %s", foundation_ops[i],
		    e2e_dump(e, ops));
	e2e_err(e, "bad_request", "hello", "{s:i}", "bogus", 1);
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_hello_zone)
{
	const char *const	 extra[] = { "-z", "blue", NULL };
	struct e2e		*e = e2e_start_args(NULL, extra);
	const char		*env;
	json_t			*r;

	r = e2e_ok(e, "hello", NULL);
	ck_assert_str_eq(e2e_str(r, "zone"), "blue");
	e2e_spawn(e, "z", e2e_fmt(e, "--env=%s", e2e_path(e, "env")), NULL);
	env = e2e_read_file(e, e2e_path(e, "env"), 5000);
	ck_assert_msg(env_has(env, "GTD_ZONE=blue"), "env: %s", env);
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_ping)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*r;

	r = e2e_ok(e, "ping", NULL);
	ck_assert_msg(json_object_size(r) == 2, "ping result not empty: %s",
	    e2e_dump(e, r));
	e2e_err(e, "bad_request", "ping", "{s:i}", "bogus", 1);
	e2e_stop(e);
}
END_TEST

/* stats: uptime, children by state, requests, connections, spawns... */
START_TEST(e2e_stats)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*r0, *r;
	pid_t		 pid;
	static const char *const keys[] = { "uptime", "request", "connection",
	    "spawn", "restart", "rss", NULL };
	int		 i;

	r0 = e2e_ok(e, "stats", NULL);
	for (i = 0; keys[i] != NULL; i++)
		ck_assert_msg(has_key_like(r0, keys[i]), "stats without %s: %s",
		    keys[i], e2e_dump(e, r0));
	pid = (pid_t)e2e_int(e2e_ok(e, "start_child", "{s:s, s:o, s:i}",
	    "name", "s", "cmd", e2e_cmd(NULL), "restart_delay_ms", 10), "pid");
	kill(pid, SIGKILL);
	ck_assert(e2e_wait_restarted(e, "s", pid, 3000) > 0);
	e2e_cok(e2e_client(e), "ping", NULL);	/* accepted by now */
	r = e2e_ok(e, "stats", NULL);
	ck_assert_int_ge(e2e_int(r, "uptime_ms"), e2e_int(r0, "uptime_ms"));
	ck_assert_int_gt(e2e_int(r, "requests"), e2e_int(r0, "requests"));
	ck_assert_int_eq(e2e_int(r, "spawns") - e2e_int(r0, "spawns"), 2);
	ck_assert_int_eq(e2e_int(r, "restarts") - e2e_int(r0, "restarts"), 1);
	ck_assert_int_eq(e2e_int(r, "connections"), 2);
	ck_assert_int_eq(e2e_int(e2e_get(r, "by_state"), "running"), 1);
	/* The shared-memory mirror: one record, the row "s". */
	ck_assert_int_eq(e2e_int(e2e_get(r, "mirror"), "records"), 1);
	ck_assert_int_ge(e2e_int(e2e_get(r, "mirror"), "file_bytes"),
	    e2e_int(e2e_get(r, "mirror"), "used_bytes"));
	ck_assert_int_gt(e2e_int(e2e_get(r, "mirror"), "generation"), 0);
	e2e_err(e, "bad_request", "stats", "{s:i}", "bogus", 1);
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_config_boot_children)
{
	struct e2e	*e;
	json_t		*r, *rows;

	e = e2e_start_json(json_pack("{s:[{s:s, s:o, s:i}, {s:s, s:o}]}",
	    "children",
	    "name", "boot1", "cmd", e2e_cmd(NULL), "restart_delay_ms", 250,
	    "name", "boot2", "cmd", e2e_cmd("--exit-code=0", NULL)));
	/* Readiness comes after every boot child was started. */
	r = e2e_row(e, "boot1");
	ck_assert_ptr_nonnull(r);
	ck_assert_msg(json_is_integer(json_object_get(r, "pid")) &&
	    (strcmp(e2e_str(r, "state"), "starting") == 0 ||
	    strcmp(e2e_str(r, "state"), "running") == 0),
	    "boot child not started at readiness: %s", e2e_dump(e, r));
	ck_assert_ptr_nonnull(e2e_row(e, "boot2"));
	ck_assert(e2e_wait_state(e, "boot1", "running", 5000));
	r = e2e_ok(e, "get_childspec", "{s:s}", "name", "boot1");
	ck_assert_int_eq(e2e_int(e2e_get(r, "spec"), "restart_delay_ms"), 250);
	/* In order: boot1 first. */
	rows = e2e_get(e2e_ok(e, "which_children", NULL), "children");
	ck_assert_str_eq(e2e_str(json_array_get(rows, 0), "name"), "boot1");
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_config_file_fixture)
{
	struct e2e	*e = e2e_start_file("boot.json");
	json_t		*r;

	ck_assert(e2e_wait_state(e, "fixture", "running", 5000));
	r = e2e_ok(e, "hello", NULL);
	ck_assert_str_eq(e2e_str(r, "zone"), "fixture-zone");
	r = e2e_ok(e, "getattr", "{s:s, s:s}", "name", "fixture",
	    "key", "role");
	ck_assert_str_eq(e2e_str(r, "value"), "test");
	e2e_stop(e);
}
END_TEST

/* gtd -n: check a config and exit, without socket or children. */
START_TEST(e2e_config_check_only)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*err, *sock = e2e_path(e, "n.sock");
	const char	*data = getenv("GT_TESTDATA") != NULL ?
			    getenv("GT_TESTDATA") : "tests/data";
	struct stat	 sb;
	int		 st;

	st = e2e_gtd_run(e, 5000, &err, "-n", "-s", sock, "-c",
	    e2e_fmt(e, "%s/good.json", data), NULL);
	ck_assert_msg(st == 0, "gtd -n good.json: exit %d: %s", st, err);
	ck_assert_int_eq(stat(sock, &sb), -1);
	st = e2e_gtd_run(e, 5000, &err, "-n", "-s", sock, "-c",
	    e2e_fmt(e, "%s/bad-key.json", data), NULL);
	ck_assert_msg(st != 0, "gtd -n bad-key.json exited 0");
	ck_assert_msg(strstr(err, "children.0.bogus") != NULL,
	    "message does not name children.0.bogus: %s", err);
	st = e2e_gtd_run(e, 5000, &err, "-n", "-s", sock, "-c",
	    e2e_fmt(e, "%s/bad-type.json", data), NULL);
	ck_assert_msg(st != 0, "gtd -n bad-type.json exited 0");
	ck_assert_msg(strstr(err, "max_children") != NULL,
	    "message does not name max_children: %s", err);
	st = e2e_gtd_run(e, 5000, &err, "-n", "-s", sock, "-c",
	    e2e_fmt(e, "%s/bad-json.json", data), NULL);
	ck_assert_msg(st != 0, "gtd -n bad-json.json exited 0");
	st = e2e_gtd_run(e, 5000, &err, "-n", "-s", sock, "-c",
	    e2e_fmt(e, "%s/dup-name.json", data), NULL);
	ck_assert_msg(st != 0, "gtd -n dup-name.json exited 0");
	ck_assert_int_eq(stat(sock, &sb), -1);
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_bad_config_refused)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*err, *cf = e2e_path(e, "bad.json");
	FILE		*f;
	int		 st;

	ck_assert_ptr_nonnull(f = fopen(cf, "w"));
	fputs("{\"children\":[{\"name\":\"x\"}]}\n", f);	/* no cmd */
	fclose(f);
	st = e2e_gtd_run(e, 5000, &err, "-s", e2e_path(e, "b.sock"), "-c",
	    cf, NULL);
	ck_assert_msg(st != 0, "gtd with a bad config exited 0");
	ck_assert_msg(strstr(err, "cmd") != NULL, "no field in: %s", err);
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_second_instance_refused)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*err;
	int		 st;

	st = e2e_gtd_run(e, 5000, &err, "-s", e2e_sock(e), NULL);
	ck_assert_msg(st != 0, "a second gtd on a live socket exited 0");
	e2e_ok(e, "ping", NULL);
	ck_assert_ptr_nonnull(e2e_client(e));	/* the socket still works */
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_stale_socket_removed)
{
	struct e2e	*e = e2e_start(NULL);
	struct stat	 sb;
	pid_t		 pid;

	pid = e2e_spawn(e, "s", NULL);
	kill(e2e_pid(e), SIGKILL);
	ck_assert(e2e_wait_exit(e, 5000, NULL));
	ck_assert_msg(e2e_wait_dead(pid, 3000),
	    "child %d survived its SIGKILLed gtd", (int)pid);
	ck_assert_int_eq(stat(e2e_sock(e), &sb), 0);	/* left behind */
	e2e_restart(e);
	e2e_ok(e, "ping", NULL);
	ck_assert_ptr_null(e2e_row(e, "s"));
	e2e_stop(e);
}
END_TEST

static void
stop_by_signal(int sig)
{
	struct e2e	*e = e2e_start(NULL);
	pid_t		 a, b;
	int		 st;

	a = e2e_spawn(e, "a", NULL);
	b = e2e_spawn(e, "b", "--term-exit-code=9", e2e_ready_arg(e, "b"),
	    NULL);
	e2e_wait_ready(e, "b");
	kill(e2e_pid(e), sig);
	ck_assert_msg(e2e_wait_exit(e, 8000, &st), "gtd ignored signal %d",
	    sig);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "gtd status 0x%x after signal %d", st, sig);
	ck_assert(e2e_wait_dead(a, 3000));
	ck_assert(e2e_wait_dead(b, 3000));
	e2e_stop(e);
}

START_TEST(e2e_sigterm_stops_all)
{
	stop_by_signal(SIGTERM);
}
END_TEST

START_TEST(e2e_sigint_stops_all)
{
	stop_by_signal(SIGINT);
}
END_TEST

START_TEST(e2e_shutdown_op)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*r;
	pid_t		 pid;
	int		 st;

	pid = e2e_spawn(e, "a", NULL);
	e2e_err(e, "bad_request", "shutdown", "{s:i}", "bogus", 1);
	r = e2e_ok(e, "shutdown", NULL);
	ck_assert_msg(json_object_size(r) == 2, "shutdown result not empty:"
	    " %s", e2e_dump(e, r));
	ck_assert(e2e_wait_exit(e, 8000, &st));
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x",
	    st);
	ck_assert(e2e_wait_dead(pid, 3000));
	ck_assert(e2e_closed(e2e_main(e), 2000));
	e2e_stop(e);
}
END_TEST

/* Three children that ignore SIGTERM, 800 ms each: stopped together. */
START_TEST(e2e_shutdown_concurrent)
{
	struct e2e	*e = e2e_start(NULL);
	long		 t0, dt;
	int		 i, st;

	for (i = 0; i < 3; i++)
		e2e_ok(e, "start_child", "{s:s, s:o, s:{s:s, s:i}}",
		    "name", e2e_fmt(e, "slow%d", i),
		    "cmd", e2e_cmd("--ignore-term", e2e_ready_arg(e,
		    e2e_fmt(e, "slow%d", i)), NULL),
		    "shutdown", "signal", "TERM", "timeout_ms", 800);
	for (i = 0; i < 3; i++)
		e2e_wait_ready(e, e2e_fmt(e, "slow%d", i));
	t0 = e2e_now_ms();
	e2e_ok(e, "shutdown", NULL);
	ck_assert(e2e_wait_exit(e, 8000, &st));
	dt = e2e_now_ms() - t0;
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x",
	    st);
	ck_assert_msg(dt >= 700, "gtd exited after %ld ms, before the "
	    "800 ms shutdown timeout", dt);
	ck_assert_msg(dt < 2000, "shutdown took %ld ms: not concurrent", dt);
	e2e_stop(e);
}
END_TEST

/* shutdown's timeout_ms bounds the wait for children. */
START_TEST(e2e_shutdown_timeout_arg)
{
	struct e2e	*e = e2e_start(NULL);
	pid_t		 pid;
	long		 t0, dt;
	int		 st;

	pid = (pid_t)e2e_int(e2e_ok(e, "start_child",
	    "{s:s, s:o, s:{s:s, s:i}}", "name", "stubborn",
	    "cmd", e2e_cmd("--ignore-term", e2e_ready_arg(e, "stubborn"), NULL),
	    "shutdown", "signal", "TERM", "timeout_ms", 60000), "pid");
	e2e_wait_ready(e, "stubborn");
	t0 = e2e_now_ms();
	e2e_ok(e, "shutdown", "{s:i}", "timeout_ms", 300);
	ck_assert_msg(e2e_wait_exit(e, 5000, &st), "shutdown timeout_ms=300 "
	    "did not bound a child with a 60 s shutdown timeout");
	dt = e2e_now_ms() - t0;
	ck_assert_msg(dt >= 250, "gtd exited after %ld ms", dt);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert(e2e_wait_dead(pid, 3000));
	e2e_stop(e);
}
END_TEST

/* While stopping, gtd refuses new work but still answers reads. */
START_TEST(e2e_shutting_down)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*b = e2e_client(e);
	int		 st;

	e2e_ok(e, "start_child", "{s:s, s:o, s:{s:s, s:i}}", "name", "slow",
	    "cmd", e2e_cmd("--ignore-term", e2e_ready_arg(e, "slow"), NULL),
	    "shutdown", "signal", "TERM", "timeout_ms", 1500);
	e2e_wait_ready(e, "slow");
	e2e_cok(b, "ping", NULL);
	e2e_ok(e, "shutdown", NULL);
	e2e_cerr(b, "shutting_down", "start_child", "{s:s, s:o}",
	    "name", "new", "cmd", e2e_cmd(NULL));
	e2e_cerr(b, "shutting_down", "find_or_open", "{s:s, s:o}",
	    "name", "new2", "cmd", e2e_cmd(NULL));
	e2e_cok(b, "ping", NULL);
	ck_assert(e2e_wait_exit(e, 8000, &st));
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	e2e_stop(e);
}
END_TEST

/*
 * Requests that wait on a child when gtd shuts down still get their one
 * reply, an error; "exited" carries its context (exit_status or signal).
 */
START_TEST(e2e_shutdown_answers_waiters)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*a = e2e_client(e);
	json_t		*r;
	const char	*err;
	int		 st;

	e2e_ok(e, "start_child", "{s:s, s:o, s:{s:i}, s:b}", "name", "g",
	    "cmd", e2e_cmd(e2e_fmt(e, "--ready-after=%s",
	    e2e_path(e, "never")), "--ready-fd=3", NULL), "ready", "fd", 3,
	    "wait", 0);
	e2e_send_line(a, "{\"id\":1,\"op\":\"find_or_open\",\"name\":\"g\","
	    "\"cmd\":[\"/bin/true\"]}");
	e2e_cok(e2e_client(e), "ping", NULL);
	ck_assert_ptr_null(e2e_recv_line(a, 0));
	e2e_ok(e, "shutdown", NULL);
	r = e2e_recv(a, 5000);
	ck_assert_msg(json_is_false(json_object_get(r, "ok")), "%s",
	    e2e_dump(e, r));
	err = e2e_str(r, "error");
	ck_assert_msg(strcmp(err, "shutting_down") == 0 ||
	    (strcmp(err, "exited") == 0 &&
	    (json_object_get(r, "exit_status") != NULL ||
	    json_object_get(r, "signal") != NULL)),
	    "waiter at shutdown got %s", e2e_dump(e, r));
	ck_assert(e2e_wait_exit(e, 8000, &st));
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_child_env)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*env;

	e2e_ok(e, "start_child", "{s:s, s:o, s:{s:s}}", "name", "envy",
	    "cmd", e2e_cmd(e2e_fmt(e, "--env=%s", e2e_path(e, "env")), NULL),
	    "env", "FOO", "bar baz");
	env = e2e_read_file(e, e2e_path(e, "env"), 5000);
	ck_assert_msg(env_has(env, e2e_fmt(e, "GTD_SOCKET=%s", e2e_sock(e))),
	    "env: %s", env);
	ck_assert_msg(env_has(env, "GTD_ZONE=default"), "env: %s", env);
	ck_assert_msg(env_has(env, "GTD_NAME=envy"), "env: %s", env);
	ck_assert_msg(env_has(env, "FOO=bar baz"), "env: %s", env);
	if (getenv("PATH") != NULL)
		ck_assert_msg(strstr(env, "\nPATH=") != NULL ||
		    strncmp(env, "PATH=", 5) == 0, "PATH not inherited: %s",
		    env);
	e2e_stop(e);
}
END_TEST

/*
 * An environment larger than the copy of the plan spawn keeps on its
 * stack (16 KiB) takes the mapped copy instead; the child gets it whole.
 */
START_TEST(e2e_child_env_large)
{
	struct e2e	*e = e2e_start(NULL);
	char		 big[40001];
	const char	*env;

	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	e2e_ok(e, "start_child", "{s:s, s:o, s:{s:s}}", "name", "big",
	    "cmd", e2e_cmd(e2e_fmt(e, "--env=%s", e2e_path(e, "env")), NULL),
	    "env", "BIG", big);
	env = e2e_read_file(e, e2e_path(e, "env"), 5000);
	ck_assert(env_has(env, e2e_fmt(e, "BIG=%s", big)));
	ck_assert(env_has(env, "GTD_NAME=big"));
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_child_clear_env)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*env;
	const char	*p;
	int		 n = 0;

	e2e_ok(e, "start_child", "{s:s, s:o, s:b, s:{s:s}}", "name", "bare",
	    "cmd", e2e_cmd(e2e_fmt(e, "--env=%s", e2e_path(e, "env")), NULL),
	    "clear_env", 1, "env", "ONLY", "me");
	env = e2e_read_file(e, e2e_path(e, "env"), 5000);
	for (p = env; *p != '\0'; p++)
		n += *p == '\n';
	ck_assert_msg(env_has(env, "ONLY=me"), "env: %s", env);
	ck_assert_msg(env_has(env, "GTD_NAME=bare"), "env: %s", env);
	ck_assert_msg(n == 4, "clear_env: want ONLY + 3 GTD_ vars: %s", env);
	e2e_stop(e);
}
END_TEST

/* No fd of gtd leaks into a child: only 0, 1 and 2. */
START_TEST(e2e_child_fds)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*fds;

	e2e_client(e);
	e2e_client(e);
	e2e_spawn(e, "busy", NULL);
	e2e_spawn(e, "fds", e2e_fmt(e, "--check-fds=%s",
	    e2e_path(e, "fds")), NULL);
	fds = e2e_read_file(e, e2e_path(e, "fds"), 5000);
	ck_assert_str_eq(fds, "0 1 2\n");
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_child_stdio)
{
	struct e2e	*e = e2e_start(NULL);
	char		 path[64], link[PATH_MAX];
	ssize_t		 n;
	pid_t		 pid;

	pid = e2e_spawn(e, "io", "--stdout=hello from the child", NULL);
	snprintf(path, sizeof path, "/proc/%d/fd/0", (int)pid);
	ck_assert((n = readlink(path, link, sizeof link - 1)) > 0);
	link[n] = '\0';
	ck_assert_str_eq(link, "/dev/null");
	/* The default, "log": captured, relayed to gtd's log with the name. */
	ck_assert_msg(e2e_wait_text(e2e_path(e, "gtd.log"),
	    "child io: hello from the child", 5000), "not relayed");
	/* "inherit": the child writes to gtd's own stdout. */
	e2e_ok(e, "start_child", "{s:s, s:o, s:s}", "name", "io2", "cmd",
	    e2e_cmd("--stdout=inherited line", NULL), "stdout", "inherit");
	ck_assert_msg(e2e_wait_text(e2e_path(e, "gtd.out"),
	    "inherited line", 5000), "child stdout is not gtd's");
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_child_cwd)
{
	struct e2e	*e = e2e_start(NULL);
	char		 path[64], link[PATH_MAX];
	ssize_t		 n;
	pid_t		 pid;

	pid = e2e_spawn(e, "root", NULL);
	snprintf(path, sizeof path, "/proc/%d/cwd", (int)pid);
	ck_assert((n = readlink(path, link, sizeof link - 1)) > 0);
	link[n] = '\0';
	ck_assert_str_eq(link, "/");
	pid = (pid_t)e2e_int(e2e_ok(e, "start_child", "{s:s, s:o, s:s}",
	    "name", "here", "cmd", e2e_cmd(NULL), "cwd", e2e_dir(e)), "pid");
	snprintf(path, sizeof path, "/proc/%d/cwd", (int)pid);
	ck_assert((n = readlink(path, link, sizeof link - 1)) > 0);
	link[n] = '\0';
	ck_assert_str_eq(link, e2e_dir(e));
	e2e_err(e, "bad_request", "start_child", "{s:s, s:o, s:s}",
	    "name", "rel", "cmd", e2e_cmd(NULL), "cwd", "relative/dir");
	e2e_stop(e);
}
END_TEST

/* kill_group: own session and group; without it, gtd's group. */
START_TEST(e2e_child_session)
{
	struct e2e	*e = e2e_start(NULL);
	pid_t		 pid;

	pid = e2e_spawn(e, "leader", NULL);
	ck_assert_int_eq(getsid(pid), pid);
	ck_assert_int_eq(getpgid(pid), pid);
	pid = (pid_t)e2e_int(e2e_ok(e, "start_child", "{s:s, s:o, s:b}",
	    "name", "member", "cmd", e2e_cmd(NULL), "kill_group", 0), "pid");
	ck_assert_int_eq(getpgid(pid), getpgid(e2e_pid(e)));
	ck_assert_int_ne(getsid(pid), pid);
	e2e_stop(e);
}
END_TEST

/* libev blocks signals; a child must start with none blocked or ignored. */
START_TEST(e2e_child_sigmask)
{
	struct e2e	*e = e2e_start(NULL);
	pid_t		 pid;

	pid = e2e_spawn(e, "mask", e2e_fmt(e, "--pidfile=%s",
	    e2e_path(e, "pid")), NULL);
	ck_assert_int_eq(e2e_read_pid(e, e2e_path(e, "pid"), 5000), pid);
	ck_assert_msg(status_mask(pid, "SigBlk:") == 0,
	    "child starts with blocked signals %llx",
	    status_mask(pid, "SigBlk:"));
	ck_assert_msg(status_mask(pid, "SigIgn:") == 0,
	    "child starts with ignored signals %llx",
	    status_mask(pid, "SigIgn:"));
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_limit_children)
{
	struct e2e	*e;
	json_t		*r;

	e = e2e_start("{\"max_children\": 2}");
	e2e_spawn(e, "one", NULL);
	e2e_spawn(e, "two", NULL);
	r = e2e_err(e, "limit", "start_child", "{s:s, s:o}", "name", "three",
	    "cmd", e2e_cmd(NULL));
	ck_assert_str_eq(e2e_str(r, "limit"), "max_children");
	r = e2e_err(e, "limit", "find_or_open", "{s:s, s:o}", "name", "four",
	    "cmd", e2e_cmd(NULL));
	ck_assert_str_eq(e2e_str(r, "limit"), "max_children");
	ck_assert_ptr_null(e2e_row(e, "three"));
	ck_assert_ptr_null(e2e_row(e, "four"));
	/* A stopped row still counts; a deleted one does not. */
	e2e_ok(e, "terminate_child", "{s:s}", "name", "two");
	e2e_err(e, "limit", "start_child", "{s:s, s:o}", "name", "three",
	    "cmd", e2e_cmd(NULL));
	e2e_ok(e, "delete_child", "{s:s}", "name", "two");
	e2e_spawn(e, "three", NULL);
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_limit_connections)
{
	struct e2e	*e = e2e_start("{\"max_connections\": 3}");
	struct e2e_conn	*b, *c, *d;
	json_t		*r;

	b = e2e_client(e);
	c = e2e_client(e);
	e2e_cok(b, "ping", NULL);
	e2e_cok(c, "ping", NULL);
	d = e2e_client(e);
	r = e2e_recv(d, 5000);
	ck_assert_msg(json_is_false(json_object_get(r, "ok")) &&
	    strcmp(e2e_str(r, "error"), "limit") == 0, "4th connection: %s",
	    e2e_dump(e, r));
	ck_assert_str_eq(e2e_str(r, "limit"), "max_connections");
	ck_assert(e2e_closed(d, 2000));
	e2e_ok(e, "ping", NULL);
	e2e_stop(e);
}
END_TEST

/* Lines of the env dump that start with prefix. */
static int
env_count(const char *env, const char *prefix)
{
	const char	*p = env;
	size_t		 n = strlen(prefix);
	int		 c = 0;

	for (; *p != '\0'; p = strchrnul(p, '\n') + (*strchrnul(p, '\n') != 0))
		c += strncmp(p, prefix, n) == 0;
	return (c);
}

/* The lines of the env dump that start with prefix, for messages. */
static const char *
env_grep(struct e2e *e, const char *env, const char *prefix)
{
	const char	*p, *out = "";
	size_t		 n = strlen(prefix);

	for (p = env; *p != '\0'; p = strchrnul(p, '\n') +
	    (*strchrnul(p, '\n') != '\0'))
		if (strncmp(p, prefix, n) == 0)
			out = e2e_fmt(e, "%s %.*s", out,
			    (int)(strchrnul(p, '\n') - p), p);
	return (out);
}

/*
 * GTD_SOCKET, GTD_ZONE and GTD_NAME are gtd's, whatever the spec's env or
 * gtd's own environment (a gtd run by a gtd) say, and a service manager's
 * variables are not passed on.
 */
START_TEST(e2e_child_env_reserved)
{
	struct e2e	*e;
	const char	*env;

	/* This test's own process: gtd inherits these. */
	setenv("GTD_SOCKET", "/outer/gtd.sock", 1);
	setenv("GTD_NAME", "outer", 1);
	setenv("GTD_ZONE", "outer", 1);
	setenv("NOTIFY_SOCKET", "/nonexistent/notify", 1);
	setenv("WATCHDOG_USEC", "1000000", 1);
	setenv("LISTEN_FDNAMES", "x", 1);
	e = e2e_start(NULL);
	e2e_ok(e, "start_child", "{s:s, s:o, s:{s:s, s:s, s:s}}", "name", "y",
	    "cmd", e2e_cmd(e2e_fmt(e, "--env=%s", e2e_path(e, "env")), NULL),
	    "env", "GTD_NAME", "evil", "GTD_SOCKET", "/evil", "GTD_ZONE", "x");
	env = e2e_read_file(e, e2e_path(e, "env"), 5000);
	ck_assert_msg(env_count(env, "NOTIFY_SOCKET=") == 0 &&
	    env_count(env, "WATCHDOG_USEC=") == 0 &&
	    env_count(env, "LISTEN_FDNAMES=") == 0,
	    "service manager variables passed on: %s%s%s",
	    env_grep(e, env, "NOTIFY_"), env_grep(e, env, "WATCHDOG_"),
	    env_grep(e, env, "LISTEN_"));
	ck_assert_msg(env_count(env, "GTD_NAME=") == 1 &&
	    env_has(env, "GTD_NAME=y") && env_count(env, "GTD_SOCKET=") == 1 &&
	    env_has(env, e2e_fmt(e, "GTD_SOCKET=%s", e2e_sock(e))) &&
	    env_count(env, "GTD_ZONE=") == 1 &&
	    env_has(env, "GTD_ZONE=default"), "child env (in order):%s",
	    env_grep(e, env, "GTD_"));
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_socket_mode)
{
	struct e2e	*e = e2e_start(NULL);
	struct stat	 sb;

	ck_assert_int_eq(stat(e2e_sock(e), &sb), 0);
	ck_assert(S_ISSOCK(sb.st_mode));
	ck_assert_int_eq(sb.st_mode & 07777, 0660);
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_gtd_version_usage)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*err;

	/* -V prints to stdout, which e2e_gtd_run drops; exit 0 is enough */
	ck_assert_int_eq(e2e_gtd_run(e, 5000, &err, "-V", NULL), 0);
	ck_assert_int_eq(e2e_gtd_run(e, 5000, &err, "-h", NULL), 0);
	ck_assert_int_eq(e2e_gtd_run(e, 5000, &err, "-x", NULL), 64);
	ck_assert_msg(strstr(err, "usage: gtd [-dhnV] [-c config] [-r fd] "
	    "[-s socket] [-z zone]") != NULL, "usage: %s", err);
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_sighup_ignored)
{
	struct e2e	*e = e2e_start(NULL);
	pid_t		 pid;

	pid = e2e_spawn(e, "a", NULL);
	ck_assert_int_eq(kill(e2e_pid(e), SIGHUP), 0);
	e2e_ok(e, "ping", NULL);
	ck_assert_int_eq(e2e_int(e2e_ok(e, "find", "{s:s}", "name", "a"),
	    "pid"), pid);
	e2e_stop(e);
}
END_TEST

/* A second SIGTERM while stopping kills every child at once. */
START_TEST(e2e_second_sigterm)
{
	struct e2e	*e = e2e_start(NULL);
	long		 t0;
	pid_t		 pid;
	int		 st;

	pid = (pid_t)e2e_int(e2e_ok(e, "start_child",
	    "{s:s, s:o, s:{s:s, s:i}}", "name", "slow",
	    "cmd", e2e_cmd("--ignore-term", e2e_ready_arg(e, "slow"), NULL),
	    "shutdown", "signal", "TERM", "timeout_ms", 20000), "pid");
	e2e_wait_ready(e, "slow");
	ck_assert_int_eq(kill(e2e_pid(e), SIGTERM), 0);
	ck_assert(e2e_wait_state(e, "slow", "stopping", 3000));
	t0 = e2e_now_ms();
	ck_assert_int_eq(kill(e2e_pid(e), SIGTERM), 0);
	ck_assert_msg(e2e_wait_exit(e, 3000, &st), "gtd still waits");
	ck_assert_int_lt(e2e_now_ms() - t0, 3000);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert(e2e_wait_dead(pid, 2000));
	e2e_stop(e);
}
END_TEST

/*
 * The socket appears only once gtd listens on it: a script that waits
 * for the file and then connects never gets ECONNREFUSED (gtd bound the
 * name first and listened after; the file existed, refusing, meanwhile).
 * Each start is watched with a busy lstat so the first look at the file
 * comes as soon as it exists; no temporary name is left behind.
 */
START_TEST(e2e_socket_listens_when_it_appears)
{
	struct e2e		*e = e2e_start(NULL);
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
	struct stat		 st;
	const char		*gtd = getenv("GTD") != NULL ? getenv("GTD") :
				    "build/gtd";
	const char		*path, *bad = "";
	long			 deadline;
	pid_t			 pid;
	int			 i, fd, ok, status;
	DIR			*d;
	struct dirent		*de;

	for (i = 0; i < 20; i++) {
		path = e2e_path(e, e2e_fmt(e, "s%d.sock", i));
		if ((pid = fork()) == 0) {
			int	 null = open("/dev/null", O_WRONLY);

			dup2(null, 2);
			execl(gtd, gtd, "-s", path, (char *)NULL);
			_exit(127);
		}
		ck_assert_int_gt(pid, 0);
		deadline = e2e_now_ms() + e2e_slow(10000);
		while (lstat(path, &st) == -1 && e2e_now_ms() < deadline)
			;			/* as soon as it exists */
		ck_assert_msg(S_ISSOCK(st.st_mode), "%s did not appear",
		    path);
		snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ok = connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0;
		if (!ok)
			bad = e2e_fmt(e, "%s start %d: connect: %s;", bad, i,
			    strerror(errno));
		close(fd);
		kill(pid, SIGTERM);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	}
	ck_assert_msg(*bad == '\0', "%s", bad);
	ck_assert((d = opendir(e2e_dir(e))) != NULL);
	while ((de = readdir(d)) != NULL)
		ck_assert_msg(strstr(de->d_name, ".new") == NULL, "left "
		    "behind: %s", de->d_name);
	closedir(d);
	e2e_stop(e);
}
END_TEST

Suite *
e2e_basic_suite(void)
{
	Suite	*s = suite_create("e2e_basic");
	TCase	*tc;

	tc = tcase_create("daemon");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_hello);
	tcase_add_test(tc, e2e_hello_zone);
	tcase_add_test(tc, e2e_ping);
	tcase_add_test(tc, e2e_stats);
	tcase_add_test(tc, e2e_limit_children);
	tcase_add_test(tc, e2e_limit_connections);
	tcase_add_test(tc, e2e_socket_mode);
	tcase_add_test(tc, e2e_gtd_version_usage);
	suite_add_tcase(s, tc);

	tc = tcase_create("config");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_config_boot_children);
	tcase_add_test(tc, e2e_config_file_fixture);
	tcase_add_test(tc, e2e_config_check_only);
	tcase_add_test(tc, e2e_bad_config_refused);
	tcase_add_test(tc, e2e_second_instance_refused);
	tcase_add_test(tc, e2e_stale_socket_removed);
	tcase_add_test(tc, e2e_socket_listens_when_it_appears);
	suite_add_tcase(s, tc);

	tc = tcase_create("stop");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_sigterm_stops_all);
	tcase_add_test(tc, e2e_sigint_stops_all);
	tcase_add_test(tc, e2e_shutdown_op);
	tcase_add_test(tc, e2e_shutdown_concurrent);
	tcase_add_test(tc, e2e_shutdown_timeout_arg);
	tcase_add_test(tc, e2e_shutting_down);
	tcase_add_test(tc, e2e_shutdown_answers_waiters);
	tcase_add_test(tc, e2e_sighup_ignored);
	tcase_add_test(tc, e2e_second_sigterm);
	suite_add_tcase(s, tc);

	tc = tcase_create("child_env");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_child_env);
	tcase_add_test(tc, e2e_child_env_large);
	tcase_add_test(tc, e2e_child_clear_env);
	tcase_add_test(tc, e2e_child_env_reserved);
	tcase_add_test(tc, e2e_child_fds);
	tcase_add_test(tc, e2e_child_stdio);
	tcase_add_test(tc, e2e_child_cwd);
	tcase_add_test(tc, e2e_child_session);
	tcase_add_test(tc, e2e_child_sigmask);
	suite_add_tcase(s, tc);
	return (s);
}
