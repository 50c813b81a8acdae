/* SPDX-License-Identifier: MIT */
/*
 * registry: the in-memory SQLite mirror of the children and attrs tables
 * (protocol §6).  Every statement is prepared once; each use is bind,
 * step, reset.  Never logs: failures return -1 and registry_errmsg()
 * says why.  The only file that includes sqlite3.h.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "gt/registry.h"
#include "gt/xmalloc.h"

enum registry_stmt {
	ST_CHILD_PUT,
	ST_CHILD_DEL,
	ST_ATTR_SET,
	ST_ATTR_GET,
	ST_ATTR_DEL,
	ST_ATTR_CLEAR,
	ST_ATTR_COUNT,
	ST_ATTR_LIST,
	ST_BEGIN,
	ST_COMMIT,
	ST_COUNT
};

static const char *registry_sql[ST_COUNT] = {
	[ST_CHILD_PUT] = "INSERT OR REPLACE INTO children VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	[ST_CHILD_DEL] = "DELETE FROM children WHERE name = ?1",
	[ST_ATTR_SET] = "INSERT INTO attrs (name, key, value, json) "
	    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (name, key) DO UPDATE "
	    "SET value = excluded.value, json = excluded.json",
	[ST_ATTR_GET] = "SELECT value, json FROM attrs "
	    "WHERE name = ?1 AND key = ?2",
	[ST_ATTR_DEL] = "DELETE FROM attrs WHERE name = ?1 AND key = ?2",
	[ST_ATTR_CLEAR] = "DELETE FROM attrs WHERE name = ?1",
	[ST_ATTR_COUNT] = "SELECT count(*) FROM attrs WHERE name = ?1",
	[ST_ATTR_LIST] = "SELECT key, value, json FROM attrs WHERE name = ?1 "
	    "ORDER BY key",
	[ST_BEGIN] = "BEGIN",
	[ST_COMMIT] = "COMMIT"
};

static const char registry_schema[] =
	"CREATE TABLE children ("
	" name TEXT PRIMARY KEY, pid INTEGER, state TEXT, type TEXT,"
	" restart TEXT, restart_count INTEGER, started_at INTEGER,"
	" ready_at INTEGER, exit_status INTEGER, exit_signal TEXT,"
	" exited_at INTEGER, spec TEXT);"
	"CREATE TABLE attrs ("
	" name TEXT NOT NULL, key TEXT NOT NULL, value,"
	" json INTEGER NOT NULL DEFAULT 0,"	/* value is JSON text */
	" PRIMARY KEY (name, key)) WITHOUT ROWID;";

struct registry {
	sqlite3		*db;
	sqlite3_stmt	*st[ST_COUNT];
	int		 in_txn;
};

static sqlite3_stmt	*registry_stmt(struct registry *, enum registry_stmt);
static int		 registry_done(struct registry *, sqlite3_stmt *);
static void		 registry_bind_value(sqlite3_stmt *, int,
			    const struct value *);
static void		 registry_column_value(sqlite3_stmt *, int, int,
			    struct value *);

struct registry *
registry_new(char **cause)
{
	struct registry	*r;
	int		 i;

	r = xcalloc(1, sizeof *r);
	if (sqlite3_open_v2(":memory:", &r->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		goto fail;
	if (sqlite3_exec(r->db, registry_schema, NULL, NULL, NULL) !=
	    SQLITE_OK)
		goto fail;
	for (i = 0; i < ST_COUNT; i++) {
		if (sqlite3_prepare_v3(r->db, registry_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &r->st[i], NULL) != SQLITE_OK)
			goto fail;
	}
	return (r);
fail:
	xasprintf(cause, "sqlite: %s", r->db == NULL ? "out of memory" :
	    sqlite3_errmsg(r->db));
	registry_free(r);
	return (NULL);
}

void
registry_free(struct registry *r)
{
	int	i;

	if (r == NULL)
		return;
	for (i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(r->st[i]);		/* NULL is fine */
	sqlite3_close(r->db);
	free(r);
}

const char *
registry_errmsg(struct registry *r)
{
	return (sqlite3_errmsg(r->db));
}

static sqlite3_stmt *
registry_stmt(struct registry *r, enum registry_stmt which)
{
	return (r->st[which]);
}

/* Step a statement that returns no row, then reset it. */
static int
registry_done(struct registry *r, sqlite3_stmt *st)
{
	int	rc;

	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		errno = EIO;
		return (-1);
	}
	return (0);
}

static void
registry_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

static void
registry_bind_ms(sqlite3_stmt *st, int i, int64_t ms)
{
	if (ms == 0)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int64(st, i, ms);
}

int
registry_child_put(struct registry *r, const struct registry_row *row)
{
	sqlite3_stmt	*st = registry_stmt(r, ST_CHILD_PUT);

	registry_bind_text(st, 1, row->name);
	if (row->pid > 0)
		sqlite3_bind_int64(st, 2, row->pid);
	registry_bind_text(st, 3, row->state);
	registry_bind_text(st, 4, row->type);
	registry_bind_text(st, 5, row->restart);
	sqlite3_bind_int(st, 6, row->restart_count);
	registry_bind_ms(st, 7, row->started_at);
	registry_bind_ms(st, 8, row->ready_at);
	if (row->exit_status >= 0)
		sqlite3_bind_int(st, 9, row->exit_status);
	registry_bind_text(st, 10, row->exit_signal);
	registry_bind_ms(st, 11, row->exited_at);
	registry_bind_text(st, 12, row->spec);
	return (registry_done(r, st));
}

int
registry_child_del(struct registry *r, const char *name)
{
	sqlite3_stmt	*st = registry_stmt(r, ST_CHILD_DEL);

	registry_bind_text(st, 1, name);
	if (registry_done(r, st) == -1)
		return (-1);
	return (registry_attr_clear(r, name));
}

static void
registry_bind_value(sqlite3_stmt *st, int i, const struct value *v)
{
	switch (v->type) {
	case VALUE_INT:
		sqlite3_bind_int64(st, i, v->i);
		break;
	case VALUE_REAL:
		sqlite3_bind_double(st, i, v->r);
		break;
	case VALUE_TEXT:
	case VALUE_JSON:
		sqlite3_bind_text(st, i, v->s, -1, SQLITE_STATIC);
		break;
	}
	sqlite3_bind_int(st, i + 1, v->type == VALUE_JSON);
}

/* Copy column col (and its json flag in col + 1) into *v. */
static void
registry_column_value(sqlite3_stmt *st, int col, int jcol, struct value *v)
{
	memset(v, 0, sizeof *v);
	switch (sqlite3_column_type(st, col)) {
	case SQLITE_INTEGER:
		v->type = VALUE_INT;
		v->i = sqlite3_column_int64(st, col);
		break;
	case SQLITE_FLOAT:
		v->type = VALUE_REAL;
		v->r = sqlite3_column_double(st, col);
		break;
	case SQLITE_NULL:
		v->type = VALUE_JSON;
		v->s = xstrdup("null");
		break;
	default:
		v->type = sqlite3_column_int(st, jcol) ? VALUE_JSON :
		    VALUE_TEXT;
		v->s = xstrdup((const char *)sqlite3_column_text(st, col));
		break;
	}
}

int
registry_attr_set(struct registry *r, const char *name, const char *key,
    const struct value *v)
{
	sqlite3_stmt	*st = registry_stmt(r, ST_ATTR_SET);

	registry_bind_text(st, 1, name);
	registry_bind_text(st, 2, key);
	registry_bind_value(st, 3, v);
	return (registry_done(r, st));
}

int
registry_attr_get(struct registry *r, const char *name, const char *key,
    struct value *out, bool *found)
{
	sqlite3_stmt	*st = registry_stmt(r, ST_ATTR_GET);
	int		 rc;

	registry_bind_text(st, 1, name);
	registry_bind_text(st, 2, key);
	rc = sqlite3_step(st);
	*found = rc == SQLITE_ROW;
	if (*found)
		registry_column_value(st, 0, 1, out);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		errno = EIO;
		return (-1);
	}
	return (0);
}

int
registry_attr_del(struct registry *r, const char *name, const char *key,
    bool *found)
{
	sqlite3_stmt	*st = registry_stmt(r, ST_ATTR_DEL);

	registry_bind_text(st, 1, name);
	registry_bind_text(st, 2, key);
	if (registry_done(r, st) == -1)
		return (-1);
	*found = sqlite3_changes(r->db) > 0;
	return (0);
}

int
registry_attr_clear(struct registry *r, const char *name)
{
	sqlite3_stmt	*st = registry_stmt(r, ST_ATTR_CLEAR);

	registry_bind_text(st, 1, name);
	return (registry_done(r, st));
}

int
registry_attr_count(struct registry *r, const char *name, int *n)
{
	sqlite3_stmt	*st = registry_stmt(r, ST_ATTR_COUNT);
	int		 rc;

	registry_bind_text(st, 1, name);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW) {
		errno = EIO;
		return (-1);
	}
	return (0);
}

int
registry_attr_incr(struct registry *r, const char *name, const char *key,
    int64_t by, const int64_t *dflt, int64_t *result,
    enum registry_incr *how)
{
	struct value	v;
	bool		found;

	if (registry_attr_get(r, name, key, &v, &found) == -1)
		return (-1);
	if (!found) {
		if (dflt == NULL) {
			*how = REGISTRY_INCR_NOT_FOUND;
			return (0);
		}
		v.type = VALUE_INT;
		v.i = *dflt;
		v.s = NULL;
	}
	if (v.type != VALUE_INT) {
		value_free(&v);
		*how = REGISTRY_INCR_NOT_INTEGER;
		return (0);
	}
	if (__builtin_add_overflow(v.i, by, &v.i)) {
		*how = REGISTRY_INCR_OVERFLOW;
		return (0);
	}
	if (registry_attr_set(r, name, key, &v) == -1)
		return (-1);
	*result = v.i;
	*how = REGISTRY_INCR_OK;
	return (0);
}

int
registry_attr_foreach(struct registry *r, const char *name,
    registry_attr_cb *cb, void *arg)
{
	sqlite3_stmt	*st = registry_stmt(r, ST_ATTR_LIST);
	struct value	 v;
	int		 rc;

	registry_bind_text(st, 1, name);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		registry_column_value(st, 1, 2, &v);
		cb((const char *)sqlite3_column_text(st, 0), &v, arg);
		value_free(&v);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		errno = EIO;
		return (-1);
	}
	return (0);
}

int
registry_begin(struct registry *r)
{
	if (r->in_txn)
		return (0);
	if (registry_done(r, registry_stmt(r, ST_BEGIN)) == -1)
		return (-1);
	r->in_txn = 1;
	return (0);
}

int
registry_commit(struct registry *r)
{
	if (!r->in_txn)
		return (0);
	r->in_txn = 0;
	return (registry_done(r, registry_stmt(r, ST_COMMIT)));
}
