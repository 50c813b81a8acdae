/* SPDX-License-Identifier: MIT */
/*
 * check_e2e_sql: the SQLite side of the real daemon.  The snapshot file
 * follows the children (read by the sqlite3 command-line shell, as any
 * other program would, polled with a deadline); `query` over the socket
 * and through `gtctl query`; a runaway statement does not stall gtd for
 * longer than its budget; a snapshot path that cannot be written keeps
 * gtd from starting.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "harness.h"

#define SQLITE3_MS	5000		/* one run of the sqlite3 shell */

/*
 * Run `sqlite3 -readonly path sql`; its stdout (borrowed until
 * e2e_stop), or NULL when it failed (no file yet, say).
 */
static const char *
sqlite3_run(struct e2e *e, const char *path, const char *sql)
{
	struct pollfd	 pfd;
	char		 buf[4096], *out = NULL;
	const char	*ret;
	size_t		 len = 0;
	long		 deadline = e2e_now_ms() + SQLITE3_MS;
	ssize_t		 n;
	pid_t		 pid;
	int		 p[2], st, dn;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	if ((pid = fork()) == 0) {
		dn = open("/dev/null", O_RDWR);
		dup2(dn, 0);
		dup2(dn, 2);
		dup2(p[1], 1);
		execlp("sqlite3", "sqlite3", "-readonly", path, sql,
		    (char *)NULL);
		_exit(127);
	}
	ck_assert_int_ne(pid, -1);
	close(p[1]);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	for (;;) {
		if (poll(&pfd, 1, (int)(deadline - e2e_now_ms())) <= 0)
			break;
		if ((n = read(p[0], buf, sizeof buf)) <= 0)
			break;
		out = realloc(out, len + n + 1);
		ck_assert_ptr_nonnull(out);
		memcpy(out + len, buf, n);
		len += n;
		out[len] = '\0';
	}
	close(p[0]);
	kill(pid, SIGKILL);		/* only if it is stuck */
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		ck_assert_msg(!WIFEXITED(st) || WEXITSTATUS(st) != 127,
		    "cannot run sqlite3 (is it installed?)");
		free(out);
		return (NULL);
	}
	ret = e2e_fmt(e, "%s", out != NULL ? out : "");
	free(out);
	return (ret);
}

/* Poll the snapshot until sql prints want (exactly), or ms pass. */
static bool
snapshot_says(struct e2e *e, const char *sql, const char *want, int ms)
{
	long		 deadline = e2e_now_ms() + ms;
	const char	*out;

	for (;;) {
		out = sqlite3_run(e, e2e_path(e, "snap.db"), sql);
		if (out != NULL && strcmp(out, want) == 0)
			return (true);
		if (e2e_now_ms() >= deadline) {
			fprintf(stderr,
			    "snapshot: %s gave \"%s\", not \"%s\"\n",
			    sql, out != NULL ? out : "(error)", want);
			return (false);
		}
		poll(NULL, 0, 20);
	}
}

START_TEST(e2e_sql_snapshot_follows)
{
	struct e2e	*e = e2e_start_file("snapshot.json");
	struct stat	 sb;
	const char	*q = "SELECT name, state FROM children ORDER BY name";
	pid_t		 pid;

	/* Written at start, before any child. */
	ck_assert_int_eq(stat(e2e_path(e, "snap.db"), &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0640);
	ck_assert(snapshot_says(e, q, "", 2000));
	pid = e2e_spawn(e, "w", NULL);
	e2e_ok(e, "setattr", "{s:s, s:{s:i, s:b}}", "name", "w", "attrs",
	    "port", 8080, "up", 1);
	ck_assert(snapshot_says(e, q, "w|running\n", 2000));
	ck_assert(snapshot_says(e, e2e_fmt(e, "SELECT pid = %d FROM children",
	    (int)pid), "1\n", 2000));
	ck_assert(snapshot_says(e, "SELECT key, value, json FROM attrs "
	    "WHERE name = 'w' ORDER BY key", "port|8080|0\nup|true|1\n",
	    2000));
	e2e_ok(e, "terminate_child", "{s:s}", "name", "w");
	ck_assert(snapshot_says(e, q, "w|stopped\n", 2000));
	ck_assert_int_eq(access(e2e_path(e, "snap.db.tmp"), F_OK), -1);
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_sql_query)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*r;
	long		 t0;

	e2e_spawn(e, "a", NULL);
	e2e_spawn(e, "b", NULL);
	e2e_ok(e, "setattr", "{s:s, s:{s:s}}", "name", "b", "attrs", "role",
	    "db");
	r = e2e_ok(e, "query", "{s:s, s:[s]}", "sql", "SELECT c.name, "
	    "c.state, a.value FROM children c LEFT JOIN attrs a ON "
	    "a.name = c.name AND a.key = ? ORDER BY c.name", "params", "role");
	ck_assert_str_eq(e2e_dump(e, e2e_get(r, "columns")),
	    "[\"name\",\"state\",\"value\"]");
	ck_assert_str_eq(e2e_dump(e, e2e_get(r, "rows")),
	    "[[\"a\",\"running\",null],[\"b\",\"running\",\"db\"]]");
	ck_assert(json_is_false(e2e_get(r, "truncated")));
	r = e2e_ok(e, "query", "{s:s, s:i}", "sql", "SELECT name FROM children "
	    "ORDER BY name", "max_rows", 1);
	ck_assert_str_eq(e2e_dump(e, e2e_get(r, "rows")), "[[\"a\"]]");
	ck_assert(json_is_true(e2e_get(r, "truncated")));
	e2e_err(e, "read_only", "query", "{s:s}", "sql",
	    "DELETE FROM children");
	e2e_err(e, "read_only", "query", "{s:s}", "sql",
	    "ATTACH '/tmp/x.db' AS x");
	e2e_err(e, "sql_error", "query", "{s:s}", "sql", "SELECT * FROM nope");
	e2e_err(e, "bad_request", "query", "{s:s}", "sql",
	    "SELECT 1; SELECT 2");
	/* A runaway statement is cut off; gtd goes on serving. */
	t0 = e2e_now_ms();
	e2e_err(e, "timeout", "query", "{s:s}", "sql", "WITH RECURSIVE "
	    "c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) "
	    "SELECT count(*) FROM c");
	ck_assert_int_lt(e2e_now_ms() - t0, 2000);
	r = e2e_ok(e, "query", "{s:s}", "sql", "SELECT count(*) FROM children");
	ck_assert_str_eq(e2e_dump(e, e2e_get(r, "rows")), "[[2]]");
	e2e_stop(e);
}
END_TEST

/*
 * Attrs are kept in memory and written into SQLite behind: a query right
 * behind a burst of pipelined writes still sees every one of them.
 */
START_TEST(e2e_sql_query_sees_writes)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*c = e2e_main(e);
	json_t		*r;
	int		 i;

	e2e_spawn(e, "a", NULL);
	for (i = 0; i < 1000; i++)
		e2e_send_line(c, "{\"op\":\"increment\",\"name\":\"a\","
		    "\"key\":\"n\",\"default\":0}");
	e2e_send_line(c, "{\"op\":\"setattr\",\"name\":\"a\","
	    "\"attrs\":{\"gone\":1,\"s\":\"x\"}}");
	e2e_send_line(c, "{\"op\":\"delattr\",\"name\":\"a\","
	    "\"key\":\"gone\"}");
	e2e_send_line(c, "{\"op\":\"query\",\"sql\":\"SELECT key, value "
	    "FROM attrs WHERE name = 'a' ORDER BY key\"}");
	for (i = 0; i < 1002; i++) {
		r = e2e_recv(c, 5000);
		ck_assert_msg(r != NULL && json_is_true(e2e_get(r, "ok")),
		    "reply %d: %s", i, e2e_dump(e, r));
	}
	r = e2e_recv(c, 5000);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(e2e_dump(e, e2e_get(r, "rows")),
	    "[[\"n\",1000],[\"s\",\"x\"]]");
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_sql_gtctl)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*out;

	e2e_spawn(e, "web", NULL);
	ck_assert_int_eq(e2e_gtctl(e, &out, "query", "SELECT name, state, "
	    "restart_count AS n FROM children WHERE name = ?", "web", NULL), 0);
	ck_assert_str_eq(out, "name  state    n\nweb   running  0\n");
	ck_assert_int_eq(e2e_gtctl(e, &out, "--json", "query", "SELECT ?",
	    "[1,2]", NULL), 0);
	ck_assert_str_eq(out, "{\"ok\":true,\"columns\":[\"?\"],"
	    "\"rows\":[[\"[1,2]\"]],\"truncated\":false}\n");
	ck_assert_int_eq(e2e_gtctl(e, &out, "query", "--max-rows", "1",
	    "SELECT 1 UNION SELECT 2", NULL), 0);
	ck_assert_str_eq(out, "1\n1\n");
	ck_assert(strstr(e2e_gtctl_stderr(e), "truncated") != NULL);
	ck_assert_int_eq(e2e_gtctl(e, &out, "query", "DROP TABLE children",
	    NULL), 1);
	ck_assert(strstr(e2e_gtctl_stderr(e), "read_only") != NULL);
	ck_assert_int_eq(e2e_gtctl(e, &out, "query", NULL), 64);
	e2e_stop(e);
}
END_TEST

/* A snapshot that cannot be written is a configuration error. */
START_TEST(e2e_sql_snapshot_bad_path)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*conf = e2e_path(e, "bad.json"), *err;
	FILE		*f;

	ck_assert_ptr_nonnull(f = fopen(conf, "w"));
	fprintf(f, "{\"snapshot\":{\"path\":\"%s/no/such/dir/s.db\"}}\n",
	    e2e_dir(e));
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(e2e_gtd_run(e, 5000, &err, "-c", conf, "-s",
	    e2e_path(e, "bad.sock"), NULL), 1);
	ck_assert_msg(strstr(err, "snapshot") != NULL, "%s", err);
	e2e_stop(e);
}
END_TEST

/*
 * No copy of a child's spec text is kept per child: the rows hold none,
 * and `children` makes the text of the child's spec when it is read (so
 * a reload's new spec shows only once the child took it, at its next
 * start, as before).  The snapshot file still has the text.
 */
START_TEST(e2e_sql_spec_on_demand)
{
	struct e2e	*e = e2e_start_file("snapshot.json");
	json_t		*r, *want, *got;

	e2e_spawn(e, "a", NULL);
	e2e_spawn(e, "b", NULL);
	r = e2e_ok(e, "query", "{s:s}", "sql",
	    "SELECT count(*) FROM child_rows WHERE spec IS NOT NULL");
	ck_assert_str_eq(e2e_dump(e, e2e_get(r, "rows")), "[[0]]");
	r = e2e_ok(e, "query", "{s:s}", "sql",
	    "SELECT spec FROM children WHERE name = 'b'");
	got = json_loads(json_string_value(json_array_get(json_array_get(
	    e2e_get(r, "rows"), 0), 0)), 0, NULL);
	ck_assert_ptr_nonnull(got);
	r = e2e_ok(e, "get_childspec", "{s:s}", "name", "b");
	want = e2e_get(r, "spec");
	ck_assert_msg(json_equal(got, want), "%s", e2e_dump(e, got));
	json_decref(got);
	r = e2e_ok(e, "query", "{s:s}", "sql", "SELECT json_extract(spec, "
	    "'$.name') FROM children ORDER BY name");
	ck_assert_str_eq(e2e_dump(e, e2e_get(r, "rows")),
	    "[[\"a\"],[\"b\"]]");
	e2e_err(e, "read_only", "query", "{s:s}", "sql",
	    "UPDATE children SET spec = 'x'");
	e2e_err(e, "read_only", "query", "{s:s}", "sql",
	    "CREATE INDEX i ON children (state)");
	/* The snapshot file: children is a table with the text. */
	ck_assert(snapshot_says(e, "SELECT type FROM sqlite_schema WHERE "
	    "name = 'children'", "table\n", 2000));
	ck_assert(snapshot_says(e, "SELECT json_extract(spec, '$.name') "
	    "FROM children ORDER BY name", "a\nb\n", 2000));
	e2e_stop(e);
}
END_TEST

Suite *
e2e_sql_suite(void)
{
	Suite	*s = suite_create("e2e_sql");
	TCase	*tc;

	tc = tcase_create("sql");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_sql_snapshot_follows);
	tcase_add_test(tc, e2e_sql_query);
	tcase_add_test(tc, e2e_sql_query_sees_writes);
	tcase_add_test(tc, e2e_sql_gtctl);
	tcase_add_test(tc, e2e_sql_snapshot_bad_path);
	tcase_add_test(tc, e2e_sql_spec_on_demand);
	suite_add_tcase(s, tc);
	return (s);
}
