/* SPDX-License-Identifier: MIT */
/*
 * check_query: the `query` op through a socketpair client (rows, params,
 * bounds, and every way a statement is refused: read_only, sql_error,
 * timeout, bad_request), the registry guards being gone afterwards, the
 * snapshot file (registry_snapshot, the generation, snapshot_tick and
 * its timer) and the "snapshot" config key.  The snapshot is read back
 * with SQLite itself: tests may include sqlite3.h, gtd modules may not.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>
#include <sqlite3.h>

#include "gt/config.h"
#include "gt/gtd.h"
#include "gt/proto.h"
#include "gt/protocol.h"
#include "gt/registry.h"
#include "gt/snapshot.h"
#include "gt/spec.h"
#include "gt/xmalloc.h"

#include "check_unit.h"

#define RUNAWAY_SQL	"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL " \
	"SELECT x+1 FROM c) SELECT count(*) FROM c"

static struct gtd		*g;
static struct test_client	 cl;
static char			 dir[] = "/tmp/gtd-query-XXXXXX";

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

/* A temporary directory for snapshot files, removed with its files. */
static void
setup_dir(void)
{
	setup();
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown_dir(void)
{
	char	cmd[128];

	teardown();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static const char *
path_in(const char *name)
{
	static char	buf[256];

	snprintf(buf, sizeof buf, "%s/%s", dir, name);
	return (buf);
}

/* Send {"op":"query", ...args} and return the reply (caller decrefs). */
static json_t *
query(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static json_t *
query(const char *fmt, ...)
{
	va_list	 ap;
	json_t	*j;
	char	*args, *line;

	va_start(ap, fmt);
	ck_assert_int_ne(vasprintf(&args, fmt, ap), -1);
	va_end(ap);
	xasprintf(&line, "{\"op\":\"query\",%s}\n", args);
	test_client_sendz(&cl, line);
	j = test_client_reply(&cl);
	ck_assert_msg(j != NULL, "no reply to %s", line);
	free(args);
	free(line);
	return (j);
}

/* A query that must succeed; returns its "rows". */
static json_t *
query_ok(json_t **reply, const char *sql)
{
	json_t	*j, *sqlj;
	char	*s;

	sqlj = json_string(sql);
	s = json_dumps(sqlj, JSON_ENCODE_ANY);
	j = query("\"sql\":%s", s);
	free(s);
	json_decref(sqlj);
	ck_assert_msg(json_is_true(json_object_get(j, "ok")), "%s: %s", sql,
	    json_string_value(json_object_get(j, "message")));
	ck_assert(json_is_array(json_object_get(j, "columns")));
	ck_assert(json_is_boolean(json_object_get(j, "truncated")));
	*reply = j;
	return (json_object_get(j, "rows"));
}

/* The error code of a reply to sql, which must fail. */
static void
query_err(const char *sql, const char *code)
{
	json_t		*j, *sqlj;
	const char	*err;
	char		*s;

	sqlj = json_string(sql);
	s = json_dumps(sqlj, JSON_ENCODE_ANY);
	j = query("\"sql\":%s", s);
	free(s);
	json_decref(sqlj);
	err = json_string_value(json_object_get(j, "error"));
	ck_assert_msg(err != NULL && strcmp(err, code) == 0,
	    "%s: want %s, got %s (%s)", sql, code, err,
	    json_string_value(json_object_get(j, "message")));
	ck_assert_msg(json_object_get(j, "rows") == NULL &&
	    json_object_get(j, "columns") == NULL, "%s: rows in an error", sql);
	json_decref(j);
}

static void
expect_error(json_t *j, const char *code, const char *field)
{
	const char	*err = json_string_value(json_object_get(j, "error"));

	ck_assert_msg(err != NULL && strcmp(err, code) == 0, "want %s: %s",
	    code, json_dumps(j, JSON_COMPACT));
	if (field != NULL)
		ck_assert_str_eq(json_string_value(json_object_get(j,
		    "field")), field);
	json_decref(j);
}

static void
put_child(const char *name, const char *state, pid_t pid)
{
	struct registry_row	row = {
		.name = name, .pid = pid, .state = state, .type = "worker",
		.restart = "permanent", .exit_status = -1, .spec = "{}"
	};

	ck_assert_int_eq(registry_child_put(g->reg, &row), 0);
}

static void
put_attr(const char *name, const char *key, const char *json)
{
	struct value	 v;
	json_t		*j = json_loads(json, JSON_DECODE_ANY, NULL);

	ck_assert_ptr_nonnull(j);
	proto_value_from_json(j, &v);
	ck_assert_int_eq(registry_attr_set(g->reg, name, key, &v), 0);
	value_free(&v);
	json_decref(j);
}

/* The compact JSON of v equals want. */
static void
ck_json(json_t *v, const char *want)
{
	char	*s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	ck_assert_str_eq(s, want);
	free(s);
}

START_TEST(test_query_children_and_attrs)
{
	json_t	*j, *rows;

	put_child("web", "running", 4242);
	put_child("db", "stopped", 0);
	put_attr("web", "port", "8080");
	put_attr("web", "host", "\"a.example\"");
	put_attr("web", "tags", "[\"x\",1]");
	put_attr("web", "up", "true");
	put_attr("web", "load", "0.5");
	rows = query_ok(&j, "SELECT name, pid, state FROM children "
	    "ORDER BY name");
	ck_json(json_object_get(j, "columns"), "[\"name\",\"pid\",\"state\"]");
	ck_json(rows, "[[\"db\",null,\"stopped\"],[\"web\",4242,\"running\"]]");
	ck_assert(json_is_false(json_object_get(j, "truncated")));
	json_decref(j);
	/* Natively stored values come back as such; JSON ones as text. */
	rows = query_ok(&j, "SELECT key, value, json FROM attrs "
	    "WHERE name = 'web' ORDER BY key");
	ck_json(rows, "[[\"host\",\"a.example\",0],[\"load\",0.5,0],"
	    "[\"port\",8080,0],[\"tags\",\"[\\\"x\\\",1]\",1],"
	    "[\"up\",\"true\",1]]");
	json_decref(j);
	rows = query_ok(&j, "SELECT c.name, count(a.key) AS n FROM children c "
	    "LEFT JOIN attrs a USING (name) GROUP BY c.name ORDER BY c.name");
	ck_json(json_object_get(j, "columns"), "[\"name\",\"n\"]");
	ck_json(rows, "[[\"db\",0],[\"web\",5]]");
	json_decref(j);
	rows = query_ok(&j, "SELECT name FROM children WHERE 0");
	ck_json(rows, "[]");
	ck_json(json_object_get(j, "columns"), "[\"name\"]");
	json_decref(j);
}
END_TEST

START_TEST(test_query_params)
{
	json_t	*j, *rows;

	put_child("web", "running", 1);
	put_attr("web", "up", "true");
	put_attr("web", "n", "7");
	j = query("\"sql\":\"SELECT ?, ?, ?, ?, typeof(?4), ?, ?, ?\","
	    "\"params\":[1, 2.5, \"x\", null, true, [1,2], {\"a\":1}]");
	ck_assert(json_is_true(json_object_get(j, "ok")));
	ck_json(json_object_get(j, "rows"), "[[1,2.5,\"x\",null,\"null\","
	    "\"true\",\"[1,2]\",\"{\\\"a\\\":1}\"]]");
	json_decref(j);
	/* A boolean param matches a boolean attr, as the mirror holds it. */
	j = query("\"sql\":\"SELECT key FROM attrs WHERE name = ?1 AND "
	    "value = ?2\",\"params\":[\"web\", true]");
	ck_json(json_object_get(j, "rows"), "[[\"up\"]]");
	json_decref(j);
	j = query("\"sql\":\"SELECT key FROM attrs WHERE value = :v\","
	    "\"params\":[7]");
	ck_json(json_object_get(j, "rows"), "[[\"n\"]]");
	json_decref(j);
	rows = query_ok(&j, "SELECT 1");
	ck_json(rows, "[[1]]");
	json_decref(j);
	/* The count must match the placeholders. */
	expect_error(query("\"sql\":\"SELECT ?\""), GT_E_BAD_REQUEST,
	    "params");
	expect_error(query("\"sql\":\"SELECT ?\",\"params\":[1,2]"),
	    GT_E_BAD_REQUEST, "params");
	expect_error(query("\"sql\":\"SELECT 1\",\"params\":{}"),
	    GT_E_BAD_REQUEST, "params");
}
END_TEST

START_TEST(test_query_bad_args)
{
	expect_error(query("\"id\":1"), GT_E_BAD_REQUEST, "sql");
	expect_error(query("\"sql\":1"), GT_E_BAD_REQUEST, "sql");
	expect_error(query("\"sql\":\"\""), GT_E_BAD_REQUEST, "sql");
	expect_error(query("\"sql\":\"  -- nothing\""), GT_E_BAD_REQUEST,
	    "sql");
	expect_error(query("\"sql\":\"SELECT 1\",\"max_rows\":0"),
	    GT_E_BAD_REQUEST, "max_rows");
	expect_error(query("\"sql\":\"SELECT 1\",\"max_rows\":100001"),
	    GT_E_BAD_REQUEST, "max_rows");
	expect_error(query("\"sql\":\"SELECT 1\",\"max_rows\":\"3\""),
	    GT_E_BAD_REQUEST, "max_rows");
	expect_error(query("\"sql\":\"SELECT 1\",\"limit\":3"),
	    GT_E_BAD_REQUEST, "limit");
}
END_TEST

START_TEST(test_query_max_rows)
{
	json_t	*j;
	int	 i;

	for (i = 0; i < 5; i++)
		put_child(i == 0 ? "a" : i == 1 ? "b" : i == 2 ? "c" :
		    i == 3 ? "d" : "e", "running", 100 + i);
	j = query("\"sql\":\"SELECT name FROM children ORDER BY name\","
	    "\"max_rows\":3");
	ck_json(json_object_get(j, "rows"), "[[\"a\"],[\"b\"],[\"c\"]]");
	ck_assert(json_is_true(json_object_get(j, "truncated")));
	json_decref(j);
	/* Exactly max_rows rows and no more: not truncated. */
	j = query("\"sql\":\"SELECT name FROM children\",\"max_rows\":5");
	ck_assert_uint_eq(json_array_size(json_object_get(j, "rows")), 5);
	ck_assert(json_is_false(json_object_get(j, "truncated")));
	json_decref(j);
	/* An endless statement stops at the default of 1000. */
	j = query("\"sql\":\"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
	    "SELECT x+1 FROM c) SELECT x FROM c\"");
	ck_assert_uint_eq(json_array_size(json_object_get(j, "rows")), 1000);
	ck_assert(json_is_true(json_object_get(j, "truncated")));
	json_decref(j);
}
END_TEST

/* A reply stops short of 2 MiB of JSON, with whole rows only. */
START_TEST(test_query_reply_size)
{
	json_t		*j, *rows;
	const char	*msg;
	size_t		 i, total = 0;

	j = query("\"sql\":\"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
	    "SELECT x+1 FROM c LIMIT 200) SELECT x, zeroblob(45000) FROM c\"");
	ck_assert_msg(json_is_true(json_object_get(j, "ok")), "%s",
	    json_string_value(json_object_get(j, "message")));
	ck_assert(json_is_true(json_object_get(j, "truncated")));
	rows = json_object_get(j, "rows");
	ck_assert_uint_gt(json_array_size(rows), 20);
	ck_assert_uint_lt(json_array_size(rows), 200);
	for (i = 0; i < json_array_size(rows); i++) {
		ck_assert_int_eq(json_integer_value(json_array_get(
		    json_array_get(rows, i), 0)), (json_int_t)i + 1);
		total += json_string_length(json_array_get(json_array_get(rows,
		    i), 1));
	}
	ck_assert_uint_le(total, 2 * 1024 * 1024);
	json_decref(j);
	/* One value may not be larger than 64 KiB. */
	query_err("SELECT length(zeroblob(65536) || 'x')", GT_E_SQL_ERROR);
	query_err("SELECT length(randomblob(100000000))", GT_E_SQL_ERROR);
	/*
	 * Nor may a sort take more than the heap limit: it fails, out of
	 * memory (or out of time first: on a slow virtual machine the page
	 * faults of 32 MiB take about the budget).
	 */
	j = query("\"sql\":\"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
	    "SELECT x+1 FROM c LIMIT 700) SELECT x, zeroblob(60000) FROM c "
	    "ORDER BY x DESC\"");
	msg = json_string_value(json_object_get(j, "message"));
	ck_assert_msg(msg != NULL && (strstr(msg, "out of memory") != NULL ||
	    strcmp(json_string_value(json_object_get(j, "error")),
	    GT_E_TIMEOUT) == 0), "%s", msg != NULL ? msg : "ok");
	json_decref(j);
	put_child("web", "running", 1);		/* writes work again */
}
END_TEST

START_TEST(test_query_types)
{
	json_t	*j, *rows;

	rows = query_ok(&j, "SELECT x'00ff10', x'', x'41', x'4142', "
	    "1e999, -1e999, CAST(x'41ff42' AS TEXT), 'h\xc3\xa9', "
	    "9223372036854775807, 0.25, NULL, 'a' || char(0) || 'b'");
	ck_json(rows, "[[\"AP8Q\",\"\",\"QQ==\",\"QUI=\",null,null,"
	    "\"A\xef\xbf\xbd" "B\",\"h\xc3\xa9\",9223372036854775807,0.25,null,"
	    "\"a\xef\xbf\xbd" "b\"]]");
	json_decref(j);
	/* Invalid UTF-8 of every kind becomes U+FFFD, byte by byte. */
	rows = query_ok(&j, "SELECT CAST(x'c0af' AS TEXT), "
	    "CAST(x'eda080' AS TEXT), CAST(x'f4908080' AS TEXT), "
	    "CAST(x'e282' AS TEXT), CAST(x'e282ac' AS TEXT)");
	ck_json(rows, "[[\"\xef\xbf\xbd\xef\xbf\xbd\",\"\xef\xbf\xbd\xef\xbf"
	    "\xbd\xef\xbf\xbd\",\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf"
	    "\xbd\",\"\xef\xbf\xbd\xef\xbf\xbd\",\"\xe2\x82\xac\"]]");
	json_decref(j);
}
END_TEST

START_TEST(test_query_multiple_statements)
{
	json_t	*j;

	put_child("web", "running", 1);
	expect_error(query("\"sql\":\"SELECT 1; SELECT 2\""), GT_E_BAD_REQUEST,
	    "sql");
	expect_error(query("\"sql\":\"SELECT 1; DELETE FROM children\""),
	    GT_E_BAD_REQUEST, "sql");
	expect_error(query("\"sql\":\"SELECT 1 /* c */ ; x\""),
	    GT_E_BAD_REQUEST, "sql");
	/* Trailing semicolons, blanks and comments are one statement. */
	query_ok(&j, "SELECT 1;");
	json_decref(j);
	query_ok(&j, "SELECT 1 ; ;\n-- done\n /* really */ ; -- end");
	json_decref(j);
	query_ok(&j, "-- lead\nSELECT 1 /* unterminated");
	json_decref(j);
	query_ok(&j, "SELECT count(*) FROM children");
	json_decref(j);
}
END_TEST

static const char *read_only_rows[] = {
	"INSERT INTO children (name) VALUES ('x')",
	"REPLACE INTO attrs (name, key, value) VALUES ('web', 'k', 1)",
	"UPDATE children SET state = 'x'",
	"UPDATE attrs SET value = 2 WHERE key = 'k'",
	"DELETE FROM children",
	"DELETE FROM attrs",
	"DROP TABLE children",
	"DROP TABLE IF EXISTS nosuch",
	"CREATE TABLE t (a)",
	"CREATE TEMP TABLE t (a)",
	"CREATE TEMP VIEW v AS SELECT 1",
	"CREATE INDEX i ON children (state)",
	"CREATE TRIGGER tr AFTER INSERT ON children BEGIN SELECT 1; END",
	"CREATE VIRTUAL TABLE v USING fts5(a)",
	"ALTER TABLE children ADD COLUMN z",
	"ATTACH ':memory:' AS other",
	"ATTACH '/tmp/gtd-query-attach.db' AS other",
	"DETACH main",
	"PRAGMA user_version = 5",
	"PRAGMA user_version",
	"PRAGMA writable_schema = ON",
	"PRAGMA journal_mode = OFF",
	"PRAGMA temp_store = FILE",
	"SELECT * FROM pragma_user_version",
	"SELECT load_extension('/tmp/nosuch.so')",
	"SELECT fts3_tokenizer('x')",
	"BEGIN",
	"BEGIN IMMEDIATE",
	"COMMIT",
	"SAVEPOINT s",
	"RELEASE s",
	"VACUUM",
	"VACUUM INTO '/tmp/gtd-query-vacuum.db'",
	"REINDEX",
	"ANALYZE",
	"WITH x AS (SELECT 1) INSERT INTO children (name) SELECT * FROM x",
};

START_TEST(test_query_read_only)
{
	json_t	*j, *rows;

	put_child("web", "running", 1);
	put_attr("web", "k", "1");
	query_err(read_only_rows[_i], GT_E_READ_ONLY);
	/* Nothing changed, and the mirror still takes writes. */
	ck_assert_int_eq(access("/tmp/gtd-query-vacuum.db", F_OK), -1);
	ck_assert_int_eq(access("/tmp/gtd-query-attach.db", F_OK), -1);
	rows = query_ok(&j, "SELECT c.name, c.state, a.value FROM children c "
	    "JOIN attrs a USING (name)");
	ck_json(rows, "[[\"web\",\"running\",1]]");
	json_decref(j);
	put_child("db", "running", 2);
	put_attr("db", "k", "2");
	rows = query_ok(&j, "SELECT count(*) FROM children");
	ck_json(rows, "[[2]]");
	json_decref(j);
	ck_assert_int_eq(registry_begin(g->reg), 0);
	ck_assert_int_eq(registry_commit(g->reg), 0);
}
END_TEST

/* What is allowed: schema pragmas, table-valued and JSON functions. */
START_TEST(test_query_allowed)
{
	json_t	*j, *rows;

	put_child("web", "running", 1);
	rows = query_ok(&j, "PRAGMA table_info(attrs)");
	ck_assert_uint_eq(json_array_size(rows), 4);
	json_decref(j);
	rows = query_ok(&j, "SELECT name FROM pragma_table_info('child_rows') "
	    "WHERE pk = 1");
	ck_json(rows, "[[\"name\"]]");
	json_decref(j);
	rows = query_ok(&j, "PRAGMA index_list(attrs)");
	json_decref(j);
	rows = query_ok(&j, "SELECT value FROM json_each('[3,4]')");
	ck_json(rows, "[[3],[4]]");
	json_decref(j);
	rows = query_ok(&j, "SELECT json_extract(spec, '$') FROM children");
	ck_json(rows, "[[\"{}\"]]");
	json_decref(j);
	/* children is a view of child_rows (its spec made on demand). */
	rows = query_ok(&j, "SELECT type, name FROM sqlite_schema "
	    "WHERE type IN ('table', 'view') ORDER BY name");
	ck_json(rows, "[[\"table\",\"attrs\"],[\"table\",\"child_rows\"],"
	    "[\"view\",\"children\"],[\"table\",\"cluster_children\"],"
	    "[\"table\",\"depends\"]]");
	json_decref(j);
	rows = query_ok(&j, "SELECT count(*) FROM pragma_table_info('children')");
	ck_json(rows, "[[16]]");
	json_decref(j);
	rows = query_ok(&j, "EXPLAIN QUERY PLAN SELECT * FROM children "
	    "WHERE name = 'x'");
	json_decref(j);
	rows = query_ok(&j, "SELECT * FROM (SELECT 1 AS a UNION SELECT 2) "
	    "ORDER BY a DESC");
	ck_json(rows, "[[2],[1]]");
	json_decref(j);
}
END_TEST

static const char *sql_error_rows[] = {
	"SELEC 1",
	"SELECT * FROM nosuch",
	"SELECT nosuch FROM children",
	"SELECT nosuchfunc(1)",
	"SELECT * FROM children WHERE",
	"UPDATE sqlite_master SET sql = ''",
};

START_TEST(test_query_sql_error)
{
	json_t	*j, *rows;

	query_err(sql_error_rows[_i], GT_E_SQL_ERROR);
	rows = query_ok(&j, "SELECT 1");
	ck_json(rows, "[[1]]");
	json_decref(j);
}
END_TEST

START_TEST(test_query_sql_error_message)
{
	json_t		*j;
	const char	*msg;

	j = query("\"sql\":\"SELECT * FROM nosuch\"");
	msg = json_string_value(json_object_get(j, "message"));
	ck_assert_ptr_nonnull(msg);
	ck_assert_msg(strstr(msg, "no such table: nosuch") != NULL, "%s", msg);
	json_decref(j);
}
END_TEST

START_TEST(test_query_timeout)
{
	json_t		*j, *rows;
	long long	 t0, ms;

	t0 = test_now_ms();
	query_err(RUNAWAY_SQL, GT_E_TIMEOUT);
	ms = test_now_ms() - t0;
	ck_assert_msg(ms >= 240 && ms < 1500, "timeout after %lld ms", ms);
	/* The clock is gone: the next statement runs in full. */
	rows = query_ok(&j, "SELECT 1");
	ck_json(rows, "[[1]]");
	json_decref(j);
	put_child("web", "running", 1);
	rows = query_ok(&j, "SELECT count(*) FROM children");
	ck_json(rows, "[[1]]");
	json_decref(j);
}
END_TEST

/* A query sees writes that are not committed yet (the same db). */
START_TEST(test_query_sees_open_transaction)
{
	json_t	*j, *rows;

	ck_assert_int_eq(registry_begin(g->reg), 0);
	put_child("web", "running", 1);
	rows = query_ok(&j, "SELECT name FROM children");
	ck_json(rows, "[[\"web\"]]");
	json_decref(j);
	query_err("COMMIT", GT_E_READ_ONLY);
	ck_assert_int_eq(registry_commit(g->reg), 0);
}
END_TEST

/* Writes move the generation; reads and refused queries do not. */
START_TEST(test_registry_generation)
{
	uint64_t	 g0;
	json_t		*j;

	g0 = registry_generation(g->reg);
	put_child("web", "running", 1);
	ck_assert_uint_gt(registry_generation(g->reg), g0);
	g0 = registry_generation(g->reg);
	(void)registry_attr_ref(g->reg, "web", "k");
	query_ok(&j, "SELECT * FROM children");
	json_decref(j);
	query_err("DELETE FROM children", GT_E_READ_ONLY);
	ck_assert_uint_eq(registry_generation(g->reg), g0);
	put_attr("web", "k", "1");
	ck_assert_uint_gt(registry_generation(g->reg), g0);
}
END_TEST

/* Run sql on the snapshot file; the first column of the first row. */
static char *
snap_read(const char *path, const char *sql)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	char		*out = NULL;

	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		out = xstrdup(sqlite3_column_text(st, 0) != NULL ?
		    (const char *)sqlite3_column_text(st, 0) : "NULL");
	sqlite3_finalize(st);
	sqlite3_close(db);
	return (out);
}

static ino_t
inode_of(const char *path)
{
	struct stat	sb;

	ck_assert_msg(stat(path, &sb) == 0, "%s: %s", path, strerror(errno));
	return (sb.st_ino);
}

START_TEST(test_snapshot_file)
{
	char		*cause = NULL, *s, *p = xstrdup(path_in("snap.db"));
	struct stat	 sb;

	put_child("web", "running", 42);
	put_attr("web", "port", "8080");
	ck_assert_msg(registry_snapshot(g->reg, p, &cause) == 0, "%s", cause);
	s = snap_read(p, "SELECT name || '|' || state || '|' || pid "
	    "FROM children");
	ck_assert_str_eq(s, "web|running|42");
	free(s);
	s = snap_read(p, "SELECT value FROM attrs WHERE key = 'port'");
	ck_assert_str_eq(s, "8080");
	free(s);
	ck_assert_int_eq(stat(p, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0640);
	ck_assert_int_eq(access(path_in("snap.db.tmp"), F_OK), -1);
	/* Replaced, not rewritten: a reader keeps its old file. */
	put_child("web", "stopped", 0);
	ck_assert_int_eq(registry_snapshot(g->reg, p, &cause), 0);
	s = snap_read(p, "SELECT state FROM children");
	ck_assert_str_eq(s, "stopped");
	free(s);
	/* A stale scratch file is replaced. */
	ck_assert_int_eq(close(creat(path_in("snap.db.tmp"), 0600)), 0);
	ck_assert_int_eq(registry_snapshot(g->reg, p, &cause), 0);
	ck_assert_int_eq(access(path_in("snap.db.tmp"), F_OK), -1);
	free(p);
}
END_TEST

/* A spec source: the text it makes for name, counting its calls. */
static int	spec_src_calls;

static char *
spec_src(const char *name, void *arg)
{
	spec_src_calls++;
	if (strcmp(name, "gone") == 0)
		return (NULL);
	return (xstrdup(strcmp(name, "web") == 0 ? (const char *)arg :
	    "{\"name\":\"other\"}"));
}

/*
 * A row put without a text stores none; the view asks the source each
 * time it is read, and the snapshot has a children table with the text.
 */
START_TEST(test_spec_source)
{
	struct registry_row	row = {
		.name = "web", .pid = 7, .state = "running", .type = "worker",
		.restart = "permanent", .exit_status = -1
	};
	char			*cause = NULL, *s, *p = xstrdup(path_in("s.db"));
	char			 web[] = "{\"name\":\"web\"}";
	json_t			*j, *rows;

	registry_set_spec_source(g->reg, spec_src, web);
	ck_assert_int_eq(registry_child_put(g->reg, &row), 0);
	row.name = "gone";
	ck_assert_int_eq(registry_child_put(g->reg, &row), 0);
	row.name = "kept";
	row.spec = "{\"name\":\"kept\"}";		/* a text put is kept */
	ck_assert_int_eq(registry_child_put(g->reg, &row), 0);
	rows = query_ok(&j, "SELECT count(*) FROM child_rows "
	    "WHERE spec IS NOT NULL");
	ck_json(rows, "[[1]]");
	json_decref(j);
	spec_src_calls = 0;
	rows = query_ok(&j, "SELECT name, spec FROM children ORDER BY name");
	ck_json(rows, "[[\"gone\",null],[\"kept\",\"{\\\"name\\\":"
	    "\\\"kept\\\"}\"],[\"web\",\"{\\\"name\\\":\\\"web\\\"}\"]]");
	json_decref(j);
	ck_assert_int_eq(spec_src_calls, 2);
	/* An update keeps the stored text (none). */
	row.name = "web";
	row.state = "stopped";
	ck_assert_int_eq(registry_child_update(g->reg, &row), 0);
	rows = query_ok(&j, "SELECT state, json_extract(spec, '$.name') "
	    "FROM children WHERE name = 'web'");
	ck_json(rows, "[[\"stopped\",\"web\"]]");
	json_decref(j);
	ck_assert_msg(registry_snapshot(g->reg, p, &cause) == 0, "%s", cause);
	s = snap_read(p, "SELECT type FROM sqlite_schema "
	    "WHERE name = 'children'");
	ck_assert_str_eq(s, "table");
	free(s);
	s = snap_read(p, "SELECT group_concat(name || '=' || "
	    "coalesce(json_extract(spec, '$.name'), '-'), ',') FROM "
	    "(SELECT * FROM children ORDER BY name)");
	ck_assert_str_eq(s, "gone=-,kept=kept,web=web");
	free(s);
	/* The snapshot's database is gone again: a second one works. */
	ck_assert_msg(registry_snapshot(g->reg, p, &cause) == 0, "%s", cause);
	free(p);
}
END_TEST

START_TEST(test_snapshot_fails)
{
	char	*cause = NULL;

	ck_assert_int_eq(registry_snapshot(g->reg, "/nonexistent/dir/s.db",
	    &cause), -1);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, "/nonexistent/dir/s.db") != NULL, "%s",
	    cause);
	free(cause);
	cause = NULL;
	ck_assert_ptr_null(snapshot_new(g, "/nonexistent/dir/s.db", 100,
	    &cause));
	ck_assert_ptr_nonnull(cause);
	free(cause);
}
END_TEST

/* A tick writes only when the mirror changed since the last write. */
START_TEST(test_snapshot_tick)
{
	struct snapshot	*sn;
	char		*cause = NULL, *s, *p = xstrdup(path_in("tick.db"));
	ino_t		 ino;

	sn = snapshot_new(g, p, 100000, &cause);
	ck_assert_msg(sn != NULL, "%s", cause);
	ino = inode_of(p);
	ck_assert_int_eq(snapshot_tick(sn), 0);
	ck_assert(inode_of(p) == ino);		/* nothing changed */
	put_child("web", "running", 7);
	ck_assert_int_eq(snapshot_tick(sn), 0);
	ck_assert(inode_of(p) != ino);
	ino = inode_of(p);
	s = snap_read(p, "SELECT pid FROM children");
	ck_assert_str_eq(s, "7");
	free(s);
	ck_assert_int_eq(snapshot_tick(sn), 0);
	ck_assert(inode_of(p) == ino);
	/* A failing write is retried by the next tick. */
	put_child("web", "stopped", 0);
	ck_assert_int_eq(mkdir(path_in("tick.db.tmp"), 0700), 0);
	ck_assert_int_eq(snapshot_tick(sn), -1);
	ck_assert(inode_of(p) == ino);
	ck_assert_int_eq(rmdir(path_in("tick.db.tmp")), 0);
	ck_assert_int_eq(snapshot_tick(sn), 0);
	ck_assert(inode_of(p) != ino);
	put_child("web", "stopped", 0);
	/* snapshot_free writes the final state. */
	snapshot_free(sn);
	s = snap_read(p, "SELECT state FROM children");
	ck_assert_str_eq(s, "stopped");
	free(s);
	free(p);
}
END_TEST

static bool
file_says_running(void *arg)
{
	char	*s;
	bool	 yes;

	if (access(arg, F_OK) == -1)
		return (false);
	s = snap_read(arg, "SELECT state FROM children WHERE name = 'web'");
	yes = s != NULL && strcmp(s, "running") == 0;
	free(s);
	return (yes);
}

/* The timer writes a change within the interval, from the loop. */
START_TEST(test_snapshot_timer)
{
	struct snapshot	*sn;
	char		*cause = NULL, *p = xstrdup(path_in("timer.db"));
	long long	 t0;

	sn = snapshot_new(g, p, 100, &cause);
	ck_assert_msg(sn != NULL, "%s", cause);
	ck_assert(!file_says_running(p));
	put_child("web", "running", 7);
	t0 = test_now_ms();
	ck_assert(test_client_until(&cl, file_says_running, p));
	ck_assert_int_lt(test_now_ms() - t0, 1000);
	snapshot_free(sn);
	free(p);
}
END_TEST

/* Load a config file with this text. */
static struct config *
load(const char *text, char **field, char **cause)
{
	struct config	*c;
	char		*p = xstrdup(path_in("gtd.json"));
	FILE		*f;

	ck_assert_ptr_nonnull(f = fopen(p, "w"));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	*field = *cause = NULL;
	c = config_load(p, field, cause);
	free(p);
	return (c);
}

START_TEST(test_config_snapshot)
{
	struct config	*c;
	char		*field, *cause;

	c = load("{\"snapshot\":{\"path\":\"/run/gtd/x.db\"}}", &field, &cause);
	ck_assert_msg(c != NULL, "%s: %s", field, cause);
	ck_assert_str_eq(c->snapshot_path, "/run/gtd/x.db");
	ck_assert_int_eq(c->snapshot_interval_ms, 1000);
	config_free(c);
	c = load("{\"snapshot\":{\"path\":\"/x.db\",\"interval_ms\":100}}",
	    &field, &cause);
	ck_assert_msg(c != NULL, "%s: %s", field, cause);
	ck_assert_int_eq(c->snapshot_interval_ms, 100);
	config_free(c);
	c = load("{}", &field, &cause);
	ck_assert_ptr_null(c->snapshot_path);
	config_free(c);
}
END_TEST

static const struct {
	const char	*text;
	const char	*field;
} config_bad_rows[] = {
	{ "{\"snapshot\":\"/x.db\"}", "snapshot" },
	{ "{\"snapshot\":{}}", "snapshot.path" },
	{ "{\"snapshot\":{\"path\":1}}", "snapshot.path" },
	{ "{\"snapshot\":{\"path\":\"x.db\"}}", "snapshot.path" },
	{ "{\"snapshot\":{\"path\":\"/x.db\",\"interval_ms\":99}}",
	    "snapshot.interval_ms" },
	{ "{\"snapshot\":{\"path\":\"/x.db\",\"interval_ms\":\"1s\"}}",
	    "snapshot.interval_ms" },
	{ "{\"snapshot\":{\"path\":\"/x.db\",\"every\":1}}", "snapshot.every" },
};

START_TEST(test_config_snapshot_bad)
{
	struct config	*c;
	char		*field, *cause;

	c = load(config_bad_rows[_i].text, &field, &cause);
	ck_assert_msg(c == NULL, "%s accepted", config_bad_rows[_i].text);
	ck_assert_str_eq(field, config_bad_rows[_i].field);
	ck_assert_ptr_nonnull(cause);
	free(field);
	free(cause);
}
END_TEST

Suite *
query_suite(void)
{
	Suite	*s = suite_create("query");
	TCase	*tc;

	tc = tcase_create("query");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_query_children_and_attrs);
	tcase_add_test(tc, test_query_params);
	tcase_add_test(tc, test_query_bad_args);
	tcase_add_test(tc, test_query_max_rows);
	tcase_add_test(tc, test_query_reply_size);
	tcase_add_test(tc, test_query_types);
	tcase_add_test(tc, test_query_multiple_statements);
	tcase_add_loop_test(tc, test_query_read_only, 0,
	    NROWS(read_only_rows));
	tcase_add_test(tc, test_query_allowed);
	tcase_add_loop_test(tc, test_query_sql_error, 0,
	    NROWS(sql_error_rows));
	tcase_add_test(tc, test_query_sql_error_message);
	tcase_add_test(tc, test_query_timeout);
	tcase_add_test(tc, test_query_sees_open_transaction);
	tcase_add_test(tc, test_registry_generation);
	suite_add_tcase(s, tc);

	tc = tcase_create("snapshot");
	tcase_add_checked_fixture(tc, setup_dir, teardown_dir);
	tcase_add_test(tc, test_snapshot_file);
	tcase_add_test(tc, test_spec_source);
	tcase_add_test(tc, test_snapshot_fails);
	tcase_add_test(tc, test_snapshot_tick);
	tcase_add_test(tc, test_snapshot_timer);
	tcase_add_test(tc, test_config_snapshot);
	tcase_add_loop_test(tc, test_config_snapshot_bad, 0,
	    NROWS(config_bad_rows));
	suite_add_tcase(s, tc);
	return (s);
}
