/* SPDX-License-Identifier: MIT */
/*
 * check_registry: the SQLite mirror through its API only (it is opaque):
 * children rows, attrs of every value type and the json flag, delete,
 * clear, count, increment and ordered iteration.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "gt/proto.h"
#include "gt/registry.h"
#include "gt/spec.h"
#include "gt/xmalloc.h"

#include "check_unit.h"

static struct registry	*reg;

static void
setup(void)
{
	char	*cause = NULL;

	reg = registry_new(&cause);
	ck_assert_msg(reg != NULL, "registry_new: %s", cause);
	ck_assert_ptr_null(cause);
}

static void
teardown(void)
{
	registry_free(reg);
	reg = NULL;
}

static void
set_int(const char *name, const char *key, int64_t i)
{
	struct value	v = { .type = VALUE_INT, .i = i };

	ck_assert_int_eq(registry_attr_set(reg, name, key, &v), 0);
}

static void
set_str(const char *name, const char *key, enum value_type t, const char *s)
{
	struct value	v = { .type = t, .s = (char *)s };

	ck_assert_int_eq(registry_attr_set(reg, name, key, &v), 0);
}

static int
count(const char *name)
{
	int	n = -1;

	ck_assert_int_eq(registry_attr_count(reg, name, &n), 0);
	return (n);
}

static bool
get(const char *name, const char *key, struct value *v)
{
	const struct value	*p = registry_attr_ref(reg, name, key);

	memset(v, 0, sizeof *v);
	if (p != NULL)
		value_copy(v, p);
	return (p != NULL);
}

START_TEST(test_registry_child_put_del)
{
	struct registry_row	row = {
		.name = "web", .pid = 1234, .state = "running",
		.type = "worker", .restart = "permanent", .restart_count = 2,
		.started_at = 1700000000000LL, .ready_at = 1700000000001LL,
		.exit_status = -1, .spec = "{}"
	};

	ck_assert_int_eq(registry_child_put(reg, &row), 0);
	/* Replace the row: exited, no pid. */
	row.pid = -1;
	row.state = "stopped";
	row.exit_status = 3;
	row.exited_at = 1700000000002LL;
	ck_assert_int_eq(registry_child_put(reg, &row), 0);
	row.exit_status = -1;
	row.exit_signal = "SIGKILL";
	ck_assert_int_eq(registry_child_put(reg, &row), 0);
	/* A row with every optional column NULL. */
	memset(&row, 0, sizeof row);
	row.name = "bare";
	row.exit_status = -1;
	ck_assert_int_eq(registry_child_put(reg, &row), 0);
	set_int("web", "k", 1);
	set_int("bare", "k", 1);
	ck_assert_int_eq(registry_child_del(reg, "web"), 0);
	ck_assert_int_eq(count("web"), 0);	/* its attrs went with it */
	ck_assert_int_eq(count("bare"), 1);	/* nobody else's */
	ck_assert_int_eq(registry_child_del(reg, "web"), 0);	/* absent */
	ck_assert_int_eq(registry_child_del(reg, "never"), 0);
	ck_assert_ptr_nonnull(registry_errmsg(reg));
	registry_free(NULL);
}
END_TEST

/* Every JSON value type through setattr's path: type kept, value equal. */
static const struct {
	const char	*json;
	enum value_type	 type;
} value_rows[] = {
	{ "0", VALUE_INT },
	{ "-1", VALUE_INT },
	{ "9223372036854775807", VALUE_INT },
	{ "-9223372036854775808", VALUE_INT },
	{ "0.5", VALUE_REAL },
	{ "2.0", VALUE_REAL },		/* stays real, never becomes 2 */
	{ "-1e300", VALUE_REAL },
	{ "\"\"", VALUE_TEXT },
	{ "\"text\"", VALUE_TEXT },
	{ "\"42\"", VALUE_TEXT },	/* no numeric affinity */
	{ "\"1.5\"", VALUE_TEXT },
	{ "\"null\"", VALUE_TEXT },	/* text that looks like JSON */
	{ "\"[1,2]\"", VALUE_TEXT },
	{ "\"multi\\nline \\u2603\"", VALUE_TEXT },
	{ "true", VALUE_JSON },
	{ "false", VALUE_JSON },
	{ "null", VALUE_JSON },
	{ "[]", VALUE_JSON },
	{ "[1,\"a\",null,[true]]", VALUE_JSON },
	{ "{}", VALUE_JSON },
	{ "{\"a\":{\"b\":[1.5,\"c\"]},\"d\":false}", VALUE_JSON },
};

START_TEST(test_registry_attr_value_round_trip)
{
	struct value	 v, out;
	json_t		*in, *back;
	char		*text;

	in = json_loads(value_rows[_i].json, JSON_DECODE_ANY, NULL);
	ck_assert_ptr_nonnull(in);
	proto_value_from_json(in, &v);
	ck_assert_int_eq(v.type, value_rows[_i].type);
	ck_assert_int_eq(registry_attr_set(reg, "c", "k", &v), 0);
	value_free(&v);
	ck_assert(get("c", "k", &out));
	ck_assert_msg(out.type == value_rows[_i].type, "%s: type %d, want %d",
	    value_rows[_i].json, out.type, value_rows[_i].type);
	back = proto_value_json(&out);
	text = json_dumps(back, JSON_ENCODE_ANY | JSON_COMPACT);
	ck_assert_msg(json_equal(in, back), "%s came back as %s",
	    value_rows[_i].json, text);
	free(text);
	value_free(&out);
	json_decref(in);
	json_decref(back);
}
END_TEST

START_TEST(test_registry_attr_exact_values)
{
	struct value	v;

	set_int("c", "max", INT64_MAX);
	set_int("c", "min", INT64_MIN);
	ck_assert(get("c", "max", &v));
	ck_assert_int_eq(v.type, VALUE_INT);
	ck_assert(v.i == INT64_MAX);
	ck_assert(get("c", "min", &v));
	ck_assert(v.i == INT64_MIN);
	/* The json flag tells text from JSON text with the same bytes. */
	set_str("c", "t", VALUE_TEXT, "[1]");
	set_str("c", "j", VALUE_JSON, "[1]");
	ck_assert(get("c", "t", &v));
	ck_assert_int_eq(v.type, VALUE_TEXT);
	ck_assert_str_eq(v.s, "[1]");
	value_free(&v);
	ck_assert(get("c", "j", &v));
	ck_assert_int_eq(v.type, VALUE_JSON);
	ck_assert_str_eq(v.s, "[1]");
	value_free(&v);
	/* Overwrite changes the type and clears the flag. */
	set_str("c", "j", VALUE_TEXT, "plain");
	ck_assert(get("c", "j", &v));
	ck_assert_int_eq(v.type, VALUE_TEXT);
	ck_assert_str_eq(v.s, "plain");
	value_free(&v);
	set_int("c", "j", 3);
	ck_assert(get("c", "j", &v));
	ck_assert_int_eq(v.type, VALUE_INT);
	ck_assert_int_eq(v.i, 3);
	ck_assert_int_eq(count("c"), 4);
}
END_TEST

START_TEST(test_registry_attr_scoped_by_name)
{
	struct value	v;

	set_int("a", "k", 1);
	set_int("b", "k", 2);
	ck_assert(get("a", "k", &v));
	ck_assert_int_eq(v.i, 1);
	ck_assert(get("b", "k", &v));
	ck_assert_int_eq(v.i, 2);
	ck_assert(!get("c", "k", &v));
	ck_assert(!get("a", "K", &v));		/* keys are case-sensitive */
	ck_assert(!get("a", "", &v));
}
END_TEST

START_TEST(test_registry_attr_del)
{
	struct value	v;
	bool		found = false;

	set_int("a", "k", 1);
	set_int("a", "other", 1);
	set_int("b", "k", 1);
	ck_assert_int_eq(registry_attr_del(reg, "a", "k", &found), 0);
	ck_assert(found);
	ck_assert(!get("a", "k", &v));
	ck_assert(get("b", "k", &v));
	ck_assert_int_eq(registry_attr_del(reg, "a", "k", &found), 0);
	ck_assert(!found);
	ck_assert_int_eq(registry_attr_del(reg, "zz", "k", &found), 0);
	ck_assert(!found);
	ck_assert_int_eq(count("a"), 1);
}
END_TEST

START_TEST(test_registry_attr_clear_and_count)
{
	int	i;
	char	key[16];

	ck_assert_int_eq(count("a"), 0);
	for (i = 0; i < 50; i++) {
		snprintf(key, sizeof key, "k%d", i);
		set_int("a", key, i);
	}
	set_int("a", "k0", 100);		/* an update adds nothing */
	set_int("b", "k", 1);
	ck_assert_int_eq(count("a"), 50);
	ck_assert_int_eq(count("b"), 1);
	ck_assert_int_eq(registry_attr_clear(reg, "a"), 0);
	ck_assert_int_eq(count("a"), 0);
	ck_assert_int_eq(count("b"), 1);
	ck_assert_int_eq(registry_attr_clear(reg, "a"), 0);	/* again */
	ck_assert_int_eq(registry_attr_clear(reg, "none"), 0);
}
END_TEST

static const struct {
	int		 has;	/* 0 none, 1 int, 2 text, 3 real, 4 json */
	int64_t		 start;
	int64_t		 by;
	int		 use_dflt;
	int64_t		 dflt;
	enum registry_incr how;
	int64_t		 result;	/* new value when OK */
} incr_rows[] = {
	{ 1, 10, 1, 0, 0, REGISTRY_INCR_OK, 11 },
	{ 1, 10, -15, 0, 0, REGISTRY_INCR_OK, -5 },
	{ 1, 10, 0, 0, 0, REGISTRY_INCR_OK, 10 },
	{ 1, 10, 1, 1, 100, REGISTRY_INCR_OK, 11 },	/* default unused */
	{ 0, 0, 1, 0, 0, REGISTRY_INCR_NOT_FOUND, 0 },
	{ 0, 0, 2, 1, 5, REGISTRY_INCR_OK, 7 },
	{ 0, 0, 0, 1, -3, REGISTRY_INCR_OK, -3 },
	{ 2, 0, 1, 0, 0, REGISTRY_INCR_NOT_INTEGER, 0 },
	{ 2, 0, 1, 1, 0, REGISTRY_INCR_NOT_INTEGER, 0 },
	{ 3, 0, 1, 0, 0, REGISTRY_INCR_NOT_INTEGER, 0 },
	{ 4, 0, 1, 0, 0, REGISTRY_INCR_NOT_INTEGER, 0 },
	{ 1, INT64_MAX, 1, 0, 0, REGISTRY_INCR_OVERFLOW, 0 },
	{ 1, INT64_MAX - 1, 1, 0, 0, REGISTRY_INCR_OK, INT64_MAX },
	{ 1, INT64_MIN, -1, 0, 0, REGISTRY_INCR_OVERFLOW, 0 },
	{ 1, 1, INT64_MAX, 0, 0, REGISTRY_INCR_OVERFLOW, 0 },
	{ 1, 0, INT64_MIN, 0, 0, REGISTRY_INCR_OK, INT64_MIN },
	{ 1, -1, INT64_MIN, 0, 0, REGISTRY_INCR_OVERFLOW, 0 },
	{ 0, 0, 1, 1, INT64_MAX, REGISTRY_INCR_OVERFLOW, 0 },
};

START_TEST(test_registry_attr_incr_table)
{
	struct value		 before = { 0 }, after;
	enum registry_incr	 how = (enum registry_incr)-1;
	int64_t			 result = 12345, dflt = incr_rows[_i].dflt;
	bool			 had;

	switch (incr_rows[_i].has) {
	case 1:
		set_int("c", "n", incr_rows[_i].start);
		break;
	case 2:
		set_str("c", "n", VALUE_TEXT, "7");
		break;
	case 3:
		before.type = VALUE_REAL;
		before.r = 7.0;
		ck_assert_int_eq(registry_attr_set(reg, "c", "n", &before), 0);
		break;
	case 4:
		set_str("c", "n", VALUE_JSON, "[7]");
		break;
	}
	had = get("c", "n", &before);
	ck_assert_int_eq(registry_attr_incr(reg, "c", "n", incr_rows[_i].by,
	    incr_rows[_i].use_dflt ? &dflt : NULL, &result, &how), 0);
	ck_assert_msg(how == incr_rows[_i].how, "row %d: how %d, want %d", _i,
	    how, incr_rows[_i].how);
	if (how == REGISTRY_INCR_OK) {
		ck_assert(result == incr_rows[_i].result);
		ck_assert(get("c", "n", &after));
		ck_assert_int_eq(after.type, VALUE_INT);
		ck_assert(after.i == incr_rows[_i].result);
	} else {
		/* Nothing is written when the increment is refused. */
		ck_assert(get("c", "n", &after) == had);
		if (had) {
			ck_assert_int_eq(after.type, before.type);
			ck_assert(after.i == before.i);
			ck_assert(after.r == before.r);
			if (before.s != NULL)
				ck_assert_str_eq(after.s, before.s);
		}
	}
	value_free(&before);
	value_free(&after);
}
END_TEST

struct seen {
	char	keys[16][16];
	int64_t	vals[16];
	int	n;
};

static void
collect(const char *key, const struct value *v, void *arg)
{
	struct seen	*s = arg;

	ck_assert_int_lt(s->n, 16);
	snprintf(s->keys[s->n], sizeof s->keys[s->n], "%s", key);
	s->vals[s->n++] = v->type == VALUE_INT ? v->i : -1;
}

START_TEST(test_registry_attr_foreach_order)
{
	static const char	*order[] = { "B", "a", "a1", "b", "c",
	    "\xc3\xa9" };
	struct seen		 s = { .n = 0 };
	int			 i;

	/* Inserted out of order; read back in key (byte) order. */
	set_int("x", "c", 4);
	set_int("x", "\xc3\xa9", 5);
	set_int("x", "a1", 2);
	set_int("x", "B", 0);
	set_int("x", "b", 3);
	set_int("x", "a", 1);
	set_int("y", "a", 99);
	ck_assert_int_eq(registry_attr_foreach(reg, "x", collect, &s), 0);
	ck_assert_int_eq(s.n, 6);
	for (i = 0; i < 6; i++) {
		ck_assert_str_eq(s.keys[i], order[i]);
		ck_assert_int_eq(s.vals[i], i);
	}
	s.n = 0;
	ck_assert_int_eq(registry_attr_foreach(reg, "none", collect, &s), 0);
	ck_assert_int_eq(s.n, 0);
}
END_TEST

START_TEST(test_registry_transaction)
{
	struct value	v;

	ck_assert_int_eq(registry_begin(reg), 0);
	ck_assert_int_eq(registry_begin(reg), 0);	/* nested: one txn */
	set_int("a", "k", 1);
	ck_assert(get("a", "k", &v));			/* visible inside */
	ck_assert_int_eq(registry_commit(reg), 0);
	ck_assert_int_eq(registry_commit(reg), 0);	/* none open */
	ck_assert(get("a", "k", &v));
	ck_assert_int_eq(v.i, 1);
}
END_TEST

/* The SQL text of the attrs table, as "name/key=value;" in key order. */
static void
sql_cols(int ncols, const char *const *names, void *arg)
{
}

static int
sql_row(int ncols, const struct registry_cell *c, void *arg)
{
	char	*buf = arg;
	size_t	 len = strlen(buf);

	ck_assert_int_eq(ncols, 3);
	snprintf(buf + len, 512 - len, "%.*s/%.*s=%lld;", (int)c[0].len,
	    (const char *)c[0].p, (int)c[1].len, (const char *)c[1].p,
	    (long long)c[2].i);
	return (0);
}

static const char *
sql_attrs(char *buf)
{
	struct registry_query	 q = {
		.sql = "SELECT name, key, value FROM attrs ORDER BY name, key",
		.max_rows = 100, .budget_ms = 1000, .max_value = 1000,
		.cols = sql_cols, .row = sql_row, .arg = buf
	};
	enum registry_qerr	 err;
	char			*cause = NULL;
	bool			 trunc;

	buf[0] = '\0';
	ck_assert_msg(registry_query(reg, &q, &trunc, &err, &cause) == 0,
	    "%s", cause);
	return (buf);
}

/*
 * Attrs are written into SQLite behind, but a query always sees them
 * as they are: sets, increments, deletes, clears, with or without a
 * commit in between.
 */
START_TEST(test_registry_attrs_mirrored)
{
	char			buf[512];
	int64_t			r;
	enum registry_incr	how;
	bool			found;

	set_int("a", "k", 1);
	set_int("b", "k", 2);
	ck_assert_str_eq(sql_attrs(buf), "a/k=1;b/k=2;");
	ck_assert_int_eq(registry_attr_incr(reg, "a", "k", 5, NULL, &r, &how),
	    0);
	ck_assert_int_eq(how, REGISTRY_INCR_OK);
	ck_assert_str_eq(sql_attrs(buf), "a/k=6;b/k=2;");
	ck_assert_int_eq(registry_attr_del(reg, "b", "k", &found), 0);
	ck_assert(found);
	ck_assert_int_eq(registry_commit(reg), 0);
	ck_assert_str_eq(sql_attrs(buf), "a/k=6;");
	set_int("a", "j", 3);
	ck_assert_int_eq(registry_attr_clear(reg, "a"), 0);
	ck_assert_str_eq(sql_attrs(buf), "");
	set_int("a", "j", 4);
	ck_assert_int_eq(registry_commit(reg), 0);
	ck_assert_str_eq(sql_attrs(buf), "a/j=4;");
	ck_assert_int_eq(registry_child_del(reg, "a"), 0);
	ck_assert_str_eq(sql_attrs(buf), "");
	ck_assert_int_eq(count("a"), 0);
}
END_TEST

/* Two registries never share state (each is its own :memory: db). */
START_TEST(test_registry_instances_independent)
{
	struct registry	*other;
	char		*cause = NULL;
	int		 n = -1;

	other = registry_new(&cause);
	ck_assert_ptr_nonnull(other);
	set_int("a", "k", 1);
	ck_assert_int_eq(registry_attr_count(other, "a", &n), 0);
	ck_assert_int_eq(n, 0);
	registry_free(other);
	ck_assert_int_eq(count("a"), 1);
}
END_TEST

/* Query callbacks: the first row's cells as "a|b|c" text. */
static void
row_cols(int ncols, const char *const *names, void *arg)
{
}

static int
row_text(int ncols, const struct registry_cell *c, void *arg)
{
	char	*out = arg;
	size_t	 n;
	int	 i;

	for (i = 0; i < ncols; i++, c++) {
		n = strlen(out);
		if (c->type == REGISTRY_TEXT)
			snprintf(out + n, 256 - n, "%s%.*s", i > 0 ? "|" : "",
			    (int)c->len, (const char *)c->p);
		else if (c->type == REGISTRY_INT)
			snprintf(out + n, 256 - n, "%s%lld", i > 0 ? "|" : "",
			    (long long)c->i);
		else
			snprintf(out + n, 256 - n, "%sNULL", i > 0 ? "|" : "");
	}
	return (-1);
}

static const char *
row_of(const char *sql)
{
	static char		 out[256];
	struct registry_query	 q = { .sql = sql, .max_rows = 1,
	    .budget_ms = 1000, .max_value = 1024, .cols = row_cols,
	    .row = row_text, .arg = out };
	enum registry_qerr	 err;
	char			*cause = NULL;
	bool			 trunc;

	out[0] = '\0';
	ck_assert_int_eq(registry_query(reg, &q, &trunc, &err, &cause), 0);
	return (out);
}

START_TEST(test_registry_child_update)
{
	struct registry_row	row = {
		.name = "web", .pid = 1234, .state = "starting",
		.type = "worker", .restart = "permanent",
		.started_at = 1700000000000LL, .exit_status = -1,
		.spec = "{\"name\":\"web\"}"
	};

	ck_assert_int_eq(registry_child_put(reg, &row), 0);
	/* Every column but the spec changes; the spec text stays. */
	row.pid = -1;
	row.state = "restarting";
	row.restart_count = 1;
	row.exit_signal = "SIGKILL";
	row.exited_at = 1700000000002LL;
	row.spec = NULL;
	ck_assert_int_eq(registry_child_update(reg, &row), 0);
	ck_assert_str_eq(row_of("SELECT pid, state, restart_count, "
	    "exit_status, exit_signal, exited_at, spec FROM children"),
	    "NULL|restarting|1|NULL|SIGKILL|1700000000002|{\"name\":\"web\"}");
	row.name = "absent";
	ck_assert_int_eq(registry_child_update(reg, &row), -1);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

Suite *
registry_suite(void)
{
	Suite	*s = suite_create("registry");
	TCase	*tc;

	tc = tcase_create("children");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_registry_child_put_del);
	tcase_add_test(tc, test_registry_child_update);
	tcase_add_test(tc, test_registry_instances_independent);
	tcase_add_test(tc, test_registry_transaction);
	tcase_add_test(tc, test_registry_attrs_mirrored);
	suite_add_tcase(s, tc);

	tc = tcase_create("attrs");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_registry_attr_value_round_trip, 0,
	    NROWS(value_rows));
	tcase_add_test(tc, test_registry_attr_exact_values);
	tcase_add_test(tc, test_registry_attr_scoped_by_name);
	tcase_add_test(tc, test_registry_attr_del);
	tcase_add_test(tc, test_registry_attr_clear_and_count);
	tcase_add_test(tc, test_registry_attr_foreach_order);
	suite_add_tcase(s, tc);

	tc = tcase_create("incr");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_registry_attr_incr_table, 0,
	    NROWS(incr_rows));
	suite_add_tcase(s, tc);
	return (s);
}
