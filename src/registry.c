/* SPDX-License-Identifier: MIT */
/*
 * registry: the in-memory SQLite mirror of the children and attrs tables
 * (protocol §6).  Every statement is prepared once; each use is bind,
 * step, reset.  Also the two ways out of the mirror: read-only `query`
 * statements (an authorizer, a progress handler as the clock, a length
 * and a heap limit, all armed only while one runs) and snapshot files
 * (the online backup API).  Never logs: failures return -1 and
 * registry_errmsg() or *cause says why.  The only file that includes
 * sqlite3.h.  Every write is also made in the shared-memory mirror
 * (shmirror.c), when one is published, before the call returns.
 */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#ifndef nitems
#define nitems(a)	(sizeof (a) / sizeof (a)[0])
#endif

#include "gt/attrtab.h"
#include "gt/registry.h"
#include "gt/shmirror.h"
#include "gt/xmalloc.h"

enum registry_stmt {
	ST_CHILD_PUT,
	ST_CHILD_UPDATE,
	ST_CHILD_DEL,
	ST_ATTR_SET,
	ST_ATTR_DEL,
	ST_ATTR_CLEAR,
	ST_BEGIN,
	ST_COMMIT,
	ST_CHILD_ALL,
	ST_DEP_ADD,
	ST_DEP_CLEAR,
	ST_CHILD_USAGE,
	ST_CL_PUT,
	ST_CL_DEL,
	ST_CHILD_HAS,
	ST_CL_REMOTE,
	ST_CL_REMOTE_ALL,
	ST_COUNT
};

static const char *registry_sql[ST_COUNT] = {
	[ST_CHILD_PUT] = "INSERT OR REPLACE INTO child_rows VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
	    "NULL, NULL)",
	/* Every column but spec: a state change leaves the spec text be. */
	[ST_CHILD_UPDATE] = "UPDATE child_rows SET pid = ?2, state = ?3, "
	    "type = ?4, restart = ?5, restart_count = ?6, started_at = ?7, "
	    "ready_at = ?8, exit_status = ?9, exit_signal = ?10, "
	    "exited_at = ?11, restart_at = ?13, gave_up = ?14 WHERE name = ?1",
	[ST_CHILD_DEL] = "DELETE FROM child_rows WHERE name = ?1",
	[ST_ATTR_SET] = "INSERT INTO attrs (name, key, value, json) "
	    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (name, key) DO UPDATE "
	    "SET value = excluded.value, json = excluded.json",
	[ST_ATTR_DEL] = "DELETE FROM attrs WHERE name = ?1 AND key = ?2",
	[ST_ATTR_CLEAR] = "DELETE FROM attrs WHERE name = ?1",
	[ST_BEGIN] = "BEGIN",
	[ST_COMMIT] = "COMMIT",
	[ST_CHILD_ALL] = "SELECT name, pid, state, restart_count "
	    "FROM child_rows",
	[ST_DEP_ADD] = "INSERT OR REPLACE INTO depends VALUES "
	    "(?1, ?2, ?3, ?4, ?5)",
	[ST_DEP_CLEAR] = "DELETE FROM depends WHERE name = ?1",
	[ST_CHILD_USAGE] = "UPDATE child_rows SET memory_bytes = ?2, "
	    "cpu_ms = ?3 WHERE name = ?1",
	[ST_CL_PUT] = "INSERT OR REPLACE INTO cluster_children VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_CL_DEL] = "DELETE FROM cluster_children WHERE name = ?1",
	[ST_CHILD_HAS] = "SELECT 1 FROM child_rows WHERE name = ?1",
	/* Another node's row of a name (the shared-memory mirror's). */
	[ST_CL_REMOTE] = "SELECT node, pid, state FROM cluster_children "
	    "WHERE name = ?1 AND node != ?2",
	[ST_CL_REMOTE_ALL] = "SELECT name, node, pid, state FROM "
	    "cluster_children WHERE node != ?1 AND name NOT IN "
	    "(SELECT name FROM child_rows)"
};

/* The tables, in the SQL of a CREATE TABLE after the table's name. */
#define REGISTRY_CHILDREN_DEF						\
	"(name TEXT PRIMARY KEY, pid INTEGER, state TEXT, type TEXT,"	\
	" restart TEXT, restart_count INTEGER, started_at INTEGER,"	\
	" ready_at INTEGER, exit_status INTEGER, exit_signal TEXT,"	\
	" exited_at INTEGER, spec TEXT, restart_at INTEGER,"		\
	" gave_up INTEGER, memory_bytes INTEGER, cpu_ms INTEGER)"
#define REGISTRY_ATTRS_DEF						\
	"(name TEXT NOT NULL, key TEXT NOT NULL, value,"		\
	" json INTEGER NOT NULL DEFAULT 0,"	/* value is JSON text */	\
	" PRIMARY KEY (name, key)) WITHOUT ROWID"
/* depends_on: name depends on dependency (protocol §9.1). */
#define REGISTRY_DEPENDS_DEF						\
	"(name TEXT NOT NULL, dependency TEXT NOT NULL,"		\
	" condition TEXT NOT NULL, on_stop TEXT NOT NULL,"		\
	" on_restart TEXT NOT NULL,"					\
	" PRIMARY KEY (name, dependency)) WITHOUT ROWID"

/*
 * `children` is a view of child_rows whose spec column is the stored text
 * or, where none was stored (a spec source is set: gtd), the text the
 * source makes of the child's spec when a query reads it.  The text of
 * every row's spec was most of the database (some 600 bytes a child);
 * it is the same text, made on demand.  The columns are those of the
 * table the view replaced, in its order.
 */
static const char registry_schema[] =
	"CREATE TABLE child_rows " REGISTRY_CHILDREN_DEF ";"
	"CREATE VIEW children AS SELECT name, pid, state, type, restart,"
	" restart_count, started_at, ready_at, exit_status, exit_signal,"
	" exited_at, " REGISTRY_SPEC_FN "(name, spec) AS spec, restart_at,"
	" gave_up, memory_bytes, cpu_ms FROM child_rows;"
	/*
	 * A write to the view compiles (and is refused as one, read_only,
	 * by the query's guards) as a write to the table would.
	 */
	"CREATE TRIGGER children_insert INSTEAD OF INSERT ON children"
	" BEGIN SELECT RAISE(ABORT, 'read-only'); END;"
	"CREATE TRIGGER children_update INSTEAD OF UPDATE ON children"
	" BEGIN SELECT RAISE(ABORT, 'read-only'); END;"
	"CREATE TRIGGER children_delete INSTEAD OF DELETE ON children"
	" BEGIN SELECT RAISE(ABORT, 'read-only'); END;"
	"CREATE TABLE attrs " REGISTRY_ATTRS_DEF ";"
	"CREATE TABLE depends " REGISTRY_DEPENDS_DEF ";"
	/* The cluster's claimed names, any node (protocol §9.3). */
	"CREATE TABLE cluster_children ("
	" name TEXT PRIMARY KEY, node TEXT NOT NULL, pid INTEGER,"
	" state TEXT, revision INTEGER NOT NULL, mod_revision INTEGER,"
	" failover INTEGER NOT NULL, spec TEXT) WITHOUT ROWID;";

/*
 * A snapshot is a database of its own with the tables of the protocol
 * (children a table with the spec text), so that any SQLite client can
 * read it.  It is made in an attached in-memory database, serialised,
 * then dropped.
 */
static const char registry_snap_sql[] =
	"ATTACH DATABASE ':memory:' AS snap;"
	"CREATE TABLE snap.children " REGISTRY_CHILDREN_DEF ";"
	"CREATE TABLE snap.attrs " REGISTRY_ATTRS_DEF ";"
	"CREATE TABLE snap.depends " REGISTRY_DEPENDS_DEF ";"
	"INSERT INTO snap.children SELECT * FROM main.children;"
	"INSERT INTO snap.attrs SELECT * FROM main.attrs;"
	"INSERT INTO snap.depends SELECT * FROM main.depends;";

/* The functions a query gets in a guarded form (registry_fn_cb). */
enum registry_fn {
	FN_INSTR,
	FN_REPLACE,
	FN_TRIM,
	FN_LTRIM,
	FN_RTRIM,
	FN_LIKE2,
	FN_LIKE3,
	FN_GLOB,
	FN_PRINTF,
	FN_FORMAT,
	FN_COUNT
};
#define REGISTRY_FN_MAXARGS	127	/* SQLITE_MAX_FUNCTION_ARG */

struct registry;
/* The user data of one guarded function. */
struct registry_fn_data {
	struct registry		*r;
	enum registry_fn	 fn;
};

struct registry_qstate;

struct registry {
	sqlite3		*db;
	struct attrtab	*attrs;		/* owned: the attrs; SQLite follows */
	sqlite3_stmt	*st[ST_COUNT];
	int		 in_txn;
	uint64_t	 gen;		/* successful writes */
	struct shmirror	*shm;		/* owned, or NULL: none published */
	bool		 shm_failed;	/* degraded since the last check */
	int64_t		 shm_retry_at;	/* mono ms: next rebuild */
	int64_t		 shm_backoff;	/* ms */
	char		*self;		/* owned: this cluster node, or NULL */
	/*
	 * The guarded functions run SQLite's own on a second, empty
	 * connection, once their arguments passed the guard.
	 */
	sqlite3		*aux;
	sqlite3_stmt	*fst[FN_COUNT];		/* lazily: SELECT f(?...) */
	sqlite3_stmt	*pst[REGISTRY_FN_MAXARGS + 1];	/* printf, by argc */
	struct registry_fn_data	 fdata[FN_COUNT];
	struct registry_qstate	*q;		/* the query running, or NULL */
	registry_spec_cb	*spec_src;	/* NULL: the text is stored */
	void			*spec_arg;
};

static int64_t		 registry_mono_ms(void);

static sqlite3_stmt	*registry_stmt(struct registry *, enum registry_stmt);
static int		 registry_fn_init(struct registry *);
static int		 registry_done(struct registry *, sqlite3_stmt *);
static bool		 registry_sql_writes(const char *);
static int		 registry_write(struct registry *, sqlite3_stmt *);
static void		 registry_bind_value(sqlite3_stmt *, int,
			    const struct value *);

struct registry *
registry_new(char **cause)
{
	struct registry	*r;
	int		 i;

	r = xcalloc(1, sizeof *r);
	r->attrs = attrtab_new();
	if (sqlite3_open_v2(":memory:", &r->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		goto fail;
	/* `query` runs client SQL here: no extensions, no schema tricks. */
	if (sqlite3_db_config(r->db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0,
	    NULL) != SQLITE_OK ||
	    sqlite3_db_config(r->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL) !=
	    SQLITE_OK)
		goto fail;
	/*
	 * Sorts and temp b-trees stay in memory, under the heap limit.  No
	 * rollback journal: gtd never rolls back (its transactions only
	 * batch writes), and a journal would hold a second copy of every
	 * page a transaction changes.  16 KiB pages pack the rows tighter
	 * than 4 KiB ones.
	 */
	if (sqlite3_exec(r->db, "PRAGMA temp_store = MEMORY; "
	    "PRAGMA page_size = 16384; PRAGMA journal_mode = OFF", NULL, NULL,
	    NULL) != SQLITE_OK)
		goto fail;
	/* The functions first: the view of the schema calls one. */
	if (registry_fn_init(r) == -1)
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
	shmirror_free(r->shm);
	free(r->self);
	for (i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(r->st[i]);		/* NULL is fine */
	for (i = 0; i < FN_COUNT; i++)
		sqlite3_finalize(r->fst[i]);
	for (i = 0; i <= REGISTRY_FN_MAXARGS; i++)
		sqlite3_finalize(r->pst[i]);
	sqlite3_close(r->aux);			/* NULL is fine */
	sqlite3_close(r->db);
	attrtab_free(r->attrs);
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

/*
 * A write: inside the loop iteration's transaction (begun here, committed
 * by registry_commit from the loop's prepare watcher), so a burst of
 * state changes costs one commit, not one each.
 */
static int
registry_write(struct registry *r, sqlite3_stmt *st)
{
	if (!r->in_txn && registry_begin(r) == -1)
		return (-1);
	if (registry_done(r, st) == -1)
		return (-1);
	r->gen++;			/* a snapshot is due */
	return (0);
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

/* Bind ?1..?11, ?13, ?14 of ST_CHILD_PUT or ST_CHILD_UPDATE. */
static void
registry_bind_row(sqlite3_stmt *st, const struct registry_row *row)
{
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
	registry_bind_ms(st, 13, row->restart_at);
	sqlite3_bind_int(st, 14, row->gave_up);
}

/*
 * The shared-memory mirror follows the attrtab and the children rows,
 * whatever SQLite does: a change it cannot take degrades it (readers ask
 * the socket), which registry_mirror_check() reports and repairs.
 */
static void
registry_shm(struct registry *r, int rc)
{
	if (rc == -1)
		r->shm_failed = true;
}

static void
registry_shm_row(struct registry *r, const struct registry_row *row)
{
	if (r->shm != NULL)
		registry_shm(r, shmirror_child_put(r->shm, row->name, row->pid,
		    row->state, row->restart_count));
}

int
registry_child_put(struct registry *r, const struct registry_row *row)
{
	sqlite3_stmt	*st = registry_stmt(r, ST_CHILD_PUT);

	registry_shm_row(r, row);
	registry_bind_row(st, row);
	registry_bind_text(st, 12, row->spec);
	return (registry_write(r, st));
}

int
registry_child_update(struct registry *r, const struct registry_row *row)
{
	sqlite3_stmt	*st = registry_stmt(r, ST_CHILD_UPDATE);

	registry_shm_row(r, row);
	registry_bind_row(st, row);
	if (registry_write(r, st) == -1)
		return (-1);
	if (sqlite3_changes(r->db) != 1) {	/* no row: the caller's bug */
		errno = ENOENT;
		return (-1);
	}
	return (0);
}

int
registry_child_usage(struct registry *r, const char *name,
    int64_t memory_bytes, int64_t cpu_ms)
{
	sqlite3_stmt	*st = registry_stmt(r, ST_CHILD_USAGE);

	registry_bind_text(st, 1, name);
	if (memory_bytes < 0)
		sqlite3_bind_null(st, 2);
	else
		sqlite3_bind_int64(st, 2, memory_bytes);
	if (cpu_ms < 0)
		sqlite3_bind_null(st, 3);
	else
		sqlite3_bind_int64(st, 3, cpu_ms);
	return (registry_write(r, st));
}

/* Has name a row in child_rows (a local row)? */
static bool
registry_has_local(struct registry *r, const char *name)
{
	sqlite3_stmt	*st = registry_stmt(r, ST_CHILD_HAS);
	bool		 has;

	registry_bind_text(st, 1, name);
	has = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return (has);
}

/* Publish a cluster_children row of another node (a statement's row). */
static void
registry_shm_remote(struct registry *r, const char *name, sqlite3_stmt *st,
    int col)
{
	const char	*node = (const char *)sqlite3_column_text(st, col);
	const char	*state = (const char *)sqlite3_column_text(st,
	    col + 2);

	if (name != NULL && node != NULL)
		registry_shm(r, shmirror_remote_put(r->shm, name, node,
		    sqlite3_column_int(st, col + 1), state != NULL ? state :
		    ""));
}

/*
 * The shared-memory mirror's record of name once it has no local row:
 * another node's row of it (from cluster_children), or none.
 */
static void
registry_shm_unlocal(struct registry *r, const char *name)
{
	sqlite3_stmt	*st = registry_stmt(r, ST_CL_REMOTE);

	registry_shm(r, shmirror_child_del(r->shm, name));
	if (r->self == NULL)
		return;
	registry_bind_text(st, 1, name);
	registry_bind_text(st, 2, r->self);
	if (sqlite3_step(st) == SQLITE_ROW)
		registry_shm_remote(r, name, st, 0);
	sqlite3_reset(st);
}

int
registry_child_del(struct registry *r, const char *name)
{
	sqlite3_stmt	*st = registry_stmt(r, ST_CHILD_DEL);

	registry_bind_text(st, 1, name);
	if (registry_write(r, st) == -1) {
		if (r->shm != NULL)
			registry_shm(r, shmirror_child_del(r->shm, name));
		return (-1);
	}
	if (r->shm != NULL)
		registry_shm_unlocal(r, name);
	if (registry_depends_clear(r, name) == -1)
		return (-1);
	return (registry_attr_clear(r, name));
}

int
registry_depends_clear(struct registry *r, const char *name)
{
	sqlite3_stmt	*st = registry_stmt(r, ST_DEP_CLEAR);

	registry_bind_text(st, 1, name);
	return (registry_write(r, st));
}

int
registry_depends_add(struct registry *r, const char *name,
    const char *dependency, const char *condition, const char *on_stop,
    const char *on_restart)
{
	sqlite3_stmt	*st = registry_stmt(r, ST_DEP_ADD);

	registry_bind_text(st, 1, name);
	registry_bind_text(st, 2, dependency);
	registry_bind_text(st, 3, condition);
	registry_bind_text(st, 4, on_stop);
	registry_bind_text(st, 5, on_restart);
	return (registry_write(r, st));
}

int
registry_cluster_put(struct registry *r, const char *name, const char *node,
    pid_t pid, const char *state, int64_t revision, int64_t mod_revision,
    bool failover, const char *spec)
{
	sqlite3_stmt	*st = registry_stmt(r, ST_CL_PUT);

	registry_bind_text(st, 1, name);
	registry_bind_text(st, 2, node);
	if (pid > 0)
		sqlite3_bind_int64(st, 3, pid);
	else
		sqlite3_bind_null(st, 3);
	registry_bind_text(st, 4, state);
	sqlite3_bind_int64(st, 5, revision);
	sqlite3_bind_int64(st, 6, mod_revision);
	sqlite3_bind_int(st, 7, failover);
	registry_bind_text(st, 8, spec);
	/* A local row wins; this node's claim shows through its own row. */
	if (r->shm != NULL && r->self != NULL && !registry_has_local(r,
	    name)) {
		if (strcmp(node, r->self) != 0)
			registry_shm(r, shmirror_remote_put(r->shm, name, node,
			    pid, state != NULL ? state : ""));
		else
			registry_shm(r, shmirror_child_del(r->shm, name));
	}
	return (registry_write(r, st));
}

int
registry_cluster_del(struct registry *r, const char *name)
{
	sqlite3_stmt	*st = registry_stmt(r, ST_CL_DEL);

	if (r->shm != NULL && !registry_has_local(r, name))
		registry_shm(r, shmirror_child_del(r->shm, name));
	registry_bind_text(st, 1, name);
	return (registry_write(r, st));
}

void
registry_cluster_self(struct registry *r, const char *node)
{
	free(r->self);
	r->self = node != NULL ? xstrdup(node) : NULL;
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

/*
 * Attrs.  They are read from the attrtab, never from SQLite, and written
 * to SQLite behind: registry_flush() writes every changed attr, from the
 * commit (so at most every 100 ms) and before a `query` reads the
 * tables.  Clearing a name's attrs is rare and goes to SQLite at once.
 */
int
registry_attr_set(struct registry *r, const char *name, const char *key,
    const struct value *v)
{
	attrtab_set(r->attrs, name, key, v);
	if (r->shm != NULL)
		registry_shm(r, shmirror_attr_set(r->shm, name, key, v));
	r->gen++;
	return (0);
}

const struct value *
registry_attr_ref(struct registry *r, const char *name, const char *key)
{
	return (attrtab_get(r->attrs, name, key));
}

int
registry_attr_del(struct registry *r, const char *name, const char *key,
    bool *found)
{
	if ((*found = attrtab_del(r->attrs, name, key))) {
		if (r->shm != NULL)
			registry_shm(r, shmirror_attr_del(r->shm, name, key));
		r->gen++;
	}
	return (0);
}

int
registry_attr_clear(struct registry *r, const char *name)
{
	sqlite3_stmt	*st = registry_stmt(r, ST_ATTR_CLEAR);

	attrtab_clear(r->attrs, name);
	if (r->shm != NULL)
		registry_shm(r, shmirror_attr_clear(r->shm, name));
	registry_bind_text(st, 1, name);
	return (registry_write(r, st));
}

void
registry_attr_batch(struct registry *r, const char *name)
{
	if (r->shm != NULL)
		shmirror_batch_begin(r->shm, name);
}

void
registry_attr_batch_end(struct registry *r)
{
	if (r->shm != NULL)
		registry_shm(r, shmirror_batch_end(r->shm));
}

int
registry_attr_count(struct registry *r, const char *name, int *n)
{
	*n = (int)attrtab_count(r->attrs, name);
	return (0);
}

size_t
registry_attr_bytes(struct registry *r, const char *name)
{
	return (attrtab_bytes(r->attrs, name));
}

int
registry_attr_incr(struct registry *r, const char *name, const char *key,
    int64_t by, const int64_t *dflt, int64_t *result,
    enum registry_incr *how)
{
	struct value	*v = attrtab_get(r->attrs, name, key), nv;

	if (v == NULL) {
		if (dflt == NULL) {
			*how = REGISTRY_INCR_NOT_FOUND;
			return (0);
		}
		memset(&nv, 0, sizeof nv);
		nv.type = VALUE_INT;
		if (__builtin_add_overflow(*dflt, by, &nv.i)) {
			*how = REGISTRY_INCR_OVERFLOW;
			return (0);
		}
		registry_attr_set(r, name, key, &nv);
		*result = nv.i;
		*how = REGISTRY_INCR_OK;
		return (0);
	}
	if (v->type != VALUE_INT) {
		*how = REGISTRY_INCR_NOT_INTEGER;
		return (0);
	}
	if (__builtin_add_overflow(v->i, by, result)) {
		*how = REGISTRY_INCR_OVERFLOW;
		return (0);
	}
	v->i = *result;
	attrtab_touch(r->attrs, v);
	if (r->shm != NULL)
		registry_shm(r, shmirror_attr_set(r->shm, name, key, v));
	r->gen++;
	*how = REGISTRY_INCR_OK;
	return (0);
}

int
registry_attr_foreach(struct registry *r, const char *name,
    registry_attr_cb *cb, void *arg)
{
	attrtab_foreach(r->attrs, name, cb, arg);
	return (0);
}

/* Write one changed attr into SQLite. */
static int
registry_flush_attr(const char *name, const char *key, const struct value *v,
    void *arg)
{
	struct registry	*r = arg;
	sqlite3_stmt	*st;

	st = registry_stmt(r, v == NULL ? ST_ATTR_DEL : ST_ATTR_SET);
	registry_bind_text(st, 1, name);
	registry_bind_text(st, 2, key);
	if (v != NULL)
		registry_bind_value(st, 3, v);
	return (registry_done(r, st));
}

/* Bring the attrs table up to date (inside the open transaction). */
static int
registry_flush(struct registry *r)
{
	if (attrtab_dirty(r->attrs) == 0)
		return (0);
	if (!r->in_txn && registry_begin(r) == -1)
		return (-1);
	return (attrtab_flush(r->attrs, registry_flush_attr, r));
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
	if (registry_flush(r) == -1)
		return (-1);
	if (!r->in_txn)
		return (0);
	r->in_txn = 0;
	return (registry_done(r, registry_stmt(r, ST_COMMIT)));
}

uint64_t
registry_generation(struct registry *r)
{
	return (r->gen);
}

/*
 * The shared-memory mirror.  A rebuild writes every row of `children`
 * and the attrs of each into a new file, which replaces the published
 * one only if all of it fitted.
 */
#define REGISTRY_SHM_RETRY_MS	1000		/* first rebuild after */
#define REGISTRY_SHM_RETRY_MAX	(300 * 1000)	/* then doubling to */

static void
registry_shm_attr_cb(const char *key, const struct value *v, void *arg)
{
	void	**a = arg;

	registry_shm(a[0], shmirror_attr_set(((struct registry *)a[0])->shm,
	    a[1], key, v));
}

static int
registry_shm_rebuild(struct registry *r)
{
	sqlite3_stmt	*st = registry_stmt(r, ST_CHILD_ALL);
	const char	*name, *state;
	void		*arg[2] = { r, NULL };
	int		 rc;

	if (shmirror_rebuild_begin(r->shm) == -1)
		return (-1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		name = (const char *)sqlite3_column_text(st, 0);
		state = (const char *)sqlite3_column_text(st, 2);
		if (name == NULL)
			continue;
		shmirror_child_put(r->shm, name, sqlite3_column_int(st, 1),
		    state != NULL ? state : "", sqlite3_column_int(st, 3));
		arg[1] = (void *)(uintptr_t)name;
		attrtab_foreach(r->attrs, name, registry_shm_attr_cb, arg);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE && r->self != NULL) {
		st = registry_stmt(r, ST_CL_REMOTE_ALL);
		registry_bind_text(st, 1, r->self);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			registry_shm_remote(r, (const char *)
			    sqlite3_column_text(st, 0), st, 1);
		sqlite3_reset(st);
	}
	if (rc != SQLITE_DONE) {
		shmirror_rebuild_abort(r->shm);
		return (-1);
	}
	return (shmirror_rebuild_end(r->shm));
}

int
registry_publish(struct registry *r, const struct shmirror_opts *o,
    char **cause)
{
	assert(r->shm == NULL);
	if ((r->shm = shmirror_new(o, cause)) == NULL)
		return (-1);
	if (registry_shm_rebuild(r) == -1) {
		xasprintf(cause, "%s", shmirror_errmsg(r->shm));
		shmirror_free(r->shm);
		r->shm = NULL;
		return (-1);
	}
	r->shm_failed = false;
	r->shm_backoff = REGISTRY_SHM_RETRY_MS;
	return (0);
}

int
registry_mirror_check(struct registry *r, char **cause)
{
	int64_t	now;

	if (r->shm == NULL)
		return (0);
	if (r->shm_failed) {
		r->shm_failed = false;
		r->shm_retry_at = registry_mono_ms() + r->shm_backoff;
		xasprintf(cause, "%s: readers ask the socket until it is "
		    "rebuilt", shmirror_errmsg(r->shm));
		return (-1);
	}
	if (!shmirror_degraded(r->shm) || (now = registry_mono_ms()) <
	    r->shm_retry_at)
		return (0);
	if (registry_shm_rebuild(r) == 0) {
		r->shm_failed = false;
		r->shm_backoff = REGISTRY_SHM_RETRY_MS;
		return (0);
	}
	r->shm_failed = false;		/* the rebuild's own failures */
	r->shm_backoff *= 2;
	if (r->shm_backoff > REGISTRY_SHM_RETRY_MAX)
		r->shm_backoff = REGISTRY_SHM_RETRY_MAX;
	r->shm_retry_at = now + r->shm_backoff;
	return (0);
}

struct shmirror *
registry_mirror(struct registry *r)
{
	return (r->shm);
}

/*
 * Snapshots.  sqlite3_serialize() gives the database as the bytes of a
 * file; they go into a new file next to the target, which then replaces
 * the target with rename(2), so a reader opens either the old file or
 * the new one, never half of one.  No fsync: the file is a cache that
 * the next interval rewrites, and a crash can at worst leave it stale.
 * SQLite never opens these files itself, so every open is ours: on a
 * directory checked first, exclusive, never through a symlink.
 */

/* The directory of a snapshot: root's or ours, writable by nobody else. */
static int
registry_snapshot_dir(const char *path, const char *dir, char **cause)
{
	struct passwd	*pw;
	struct stat	 st;
	int		 fd;

	if ((fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return (-1);
	}
	if ((st.st_uid == 0 || st.st_uid == geteuid()) &&
	    (st.st_mode & 022) == 0)
		return (fd);
	pw = getpwuid(st.st_uid);
	xasprintf(cause, "%s: snapshot directory %s is owned by %s (uid %u) "
	    "with mode %04o: it must belong to root or uid %u and be writable "
	    "by no one else", path, dir, pw != NULL ? pw->pw_name : "?",
	    (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777),
	    (unsigned)geteuid());
	close(fd);
	return (-1);
}

/*
 * A new file named tmp in dirfd holding len bytes of data, mode 0640:
 * made anonymous (O_TMPFILE) and linked only once written, or, where
 * the file system has no O_TMPFILE, created with O_EXCL.  0 or -1.
 */
static int
registry_snapshot_write(int dirfd, const char *tmp, const void *data,
    size_t len)
{
	const char	*p = data;
	char		 proc[64];
	ssize_t		 n;
	int		 fd, anon = 1, saved;

	/* A leftover of a crash (ours: no one else may write here). */
	if (unlinkat(dirfd, tmp, 0) == -1 && errno != ENOENT)
		return (-1);
	if ((fd = openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC,
	    0640)) == -1) {
		anon = 0;
		if ((fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0640)) == -1)
			return (-1);
	}
	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += n;
		len -= n;
	}
	/* Specs hold env values: no wider than the socket's 0660. */
	if (fchmod(fd, 0640) == -1)
		goto fail;
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	if (anon && linkat(AT_FDCWD, proc, dirfd, tmp, AT_SYMLINK_FOLLOW) ==
	    -1 && linkat(fd, "", dirfd, tmp, AT_EMPTY_PATH) == -1)
		goto fail;
	return (close(fd));
fail:
	saved = errno;
	close(fd);
	if (!anon)
		(void)unlinkat(dirfd, tmp, 0);	/* ours, half written */
	errno = saved;
	return (-1);
}

int
registry_snapshot(struct registry *r, const char *path, char **cause)
{
	unsigned char	*data;
	sqlite3_int64	 size;
	const char	*name;
	char		*dir, *tmp;
	int		 dirfd, rc = -1;

	if (registry_commit(r) == -1) {	/* the image has committed data */
		xasprintf(cause, "commit: %s", sqlite3_errmsg(r->db));
		return (-1);
	}
	dir = xstrdup(path);
	if ((name = strrchr(path, '/')) == NULL) {
		free(dir);
		dir = xstrdup(".");
		name = path;
	} else {
		dir[name - path == 0 ? 1 : name - path] = '\0';
		name++;
	}
	dirfd = registry_snapshot_dir(path, dir, cause);
	free(dir);
	if (dirfd == -1)
		return (-1);
	xasprintf(&tmp, "%s.tmp", name);
	data = NULL;
	if (sqlite3_exec(r->db, registry_snap_sql, NULL, NULL, NULL) !=
	    SQLITE_OK)
		xasprintf(cause, "%s: sqlite: %s", path, sqlite3_errmsg(r->db));
	else if ((data = sqlite3_serialize(r->db, "snap", &size, 0)) == NULL)
		xasprintf(cause, "%s: sqlite3_serialize: out of memory", path);
	else if (registry_snapshot_write(dirfd, tmp, data, (size_t)size) ==
	    -1 || renameat(dirfd, tmp, dirfd, name) == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		(void)unlinkat(dirfd, tmp, 0);	/* may not exist */
	} else
		rc = 0;
	sqlite3_free(data);
	/* Attached or half made: gone (DETACH of nothing fails, fine). */
	(void)sqlite3_exec(r->db, "DETACH DATABASE snap", NULL, NULL, NULL);
	free(tmp);
	close(dirfd);
	return (rc);
}

/*
 * Queries.  A client's SQL runs on the mirror's own connection (so it
 * sees every write, committed or not), with guards armed only for the
 * duration of the call: the authorizer, the progress handler, the
 * length limit and the heap limit.  The process is single-threaded, so
 * the global heap limit applies to this query alone.
 */
#define REGISTRY_PROGRESS_OPS	100	/* VM steps between clock checks */

/* The state of one registry_query(), seen by the callbacks. */
struct registry_qstate {
	struct registry			*r;
	const struct registry_query	*opts;
	sqlite3_stmt			*st;
	int64_t				 deadline;	/* monotonic ms */
	bool				 timed_out;
	bool				 truncated;
	char				*denied;	/* the first refusal */
	enum registry_qerr		 err;
	char				*cause;
	int				 saved_length;
	int				 saved_limits[4];
	sqlite3_int64			 saved_heap;
	int				 nfuncs;	/* calls in the SQL */
	bool				 preparing;
	char				*refused;	/* a guard's reason */
};

/* The limits a query runs under, besides the length (registry.h). */
static const struct {
	int	id;
	int	value;
} registry_qlimits[] = {
	{ SQLITE_LIMIT_COLUMN, REGISTRY_QUERY_COLUMNS },
	{ SQLITE_LIMIT_VDBE_OP, REGISTRY_QUERY_OPS },
	{ SQLITE_LIMIT_SQL_LENGTH, REGISTRY_QUERY_SQL },
	{ SQLITE_LIMIT_LIKE_PATTERN_LENGTH, REGISTRY_QUERY_SQL }
};

/* Schema pragmas: they only read, whatever their argument. */
static const char *const registry_pragmas[] = {
	"foreign_key_list", "index_info", "index_list", "index_xinfo",
	"table_info", "table_list", "table_xinfo", NULL
};
/* Functions no query may call (most are not even compiled in). */
static const char *const registry_bad_funcs[] = {
	"edit", "fts3_tokenizer", "load_extension", "readfile", "writefile",
	NULL
};
/* Authorizer action codes, for messages. */
static const char *const registry_actions[] = {
	[SQLITE_CREATE_INDEX] = "CREATE INDEX",
	[SQLITE_CREATE_TABLE] = "CREATE TABLE",
	[SQLITE_CREATE_TEMP_INDEX] = "CREATE TEMP INDEX",
	[SQLITE_CREATE_TEMP_TABLE] = "CREATE TEMP TABLE",
	[SQLITE_CREATE_TEMP_TRIGGER] = "CREATE TEMP TRIGGER",
	[SQLITE_CREATE_TEMP_VIEW] = "CREATE TEMP VIEW",
	[SQLITE_CREATE_TRIGGER] = "CREATE TRIGGER",
	[SQLITE_CREATE_VIEW] = "CREATE VIEW",
	[SQLITE_DELETE] = "DELETE",
	[SQLITE_DROP_INDEX] = "DROP INDEX",
	[SQLITE_DROP_TABLE] = "DROP TABLE",
	[SQLITE_DROP_TEMP_INDEX] = "DROP TEMP INDEX",
	[SQLITE_DROP_TEMP_TABLE] = "DROP TEMP TABLE",
	[SQLITE_DROP_TEMP_TRIGGER] = "DROP TEMP TRIGGER",
	[SQLITE_DROP_TEMP_VIEW] = "DROP TEMP VIEW",
	[SQLITE_DROP_TRIGGER] = "DROP TRIGGER",
	[SQLITE_DROP_VIEW] = "DROP VIEW",
	[SQLITE_INSERT] = "INSERT",
	[SQLITE_PRAGMA] = "PRAGMA",
	[SQLITE_READ] = "read",
	[SQLITE_SELECT] = "SELECT",
	[SQLITE_TRANSACTION] = "transaction",
	[SQLITE_UPDATE] = "UPDATE",
	[SQLITE_ATTACH] = "ATTACH",
	[SQLITE_DETACH] = "DETACH",
	[SQLITE_ALTER_TABLE] = "ALTER TABLE",
	[SQLITE_REINDEX] = "REINDEX",
	[SQLITE_ANALYZE] = "ANALYZE",
	[SQLITE_CREATE_VTABLE] = "CREATE VIRTUAL TABLE",
	[SQLITE_DROP_VTABLE] = "DROP VIRTUAL TABLE",
	[SQLITE_FUNCTION] = "function",
	[SQLITE_SAVEPOINT] = "SAVEPOINT",
	[SQLITE_RECURSIVE] = "recursive query"
};
#define REGISTRY_NACTIONS \
	((int)(sizeof registry_actions / sizeof registry_actions[0]))

static int64_t
registry_mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static bool
registry_listed(const char *const *list, const char *word)
{
	for (; word != NULL && *list != NULL; list++)
		if (strcasecmp(*list, word) == 0)
			return (true);
	return (false);
}

static int
registry_auth_cb(void *arg, int action, const char *a1, const char *a2,
    const char *dbname, const char *trigger)
{
	struct registry_qstate	*q = arg;
	const char		*what, *detail;

	switch (action) {
	case SQLITE_SELECT:
	case SQLITE_READ:
	case SQLITE_RECURSIVE:
		return (SQLITE_OK);
	case SQLITE_FUNCTION:
		/* Each call in the SQL once: see REGISTRY_QUERY_FUNCS. */
		if (++q->nfuncs > REGISTRY_QUERY_FUNCS) {
			if (q->refused == NULL)
				xasprintf(&q->refused, "the statement calls "
				    "more than %d functions (a query may call "
				    "%d)", REGISTRY_QUERY_FUNCS,
				    REGISTRY_QUERY_FUNCS);
			return (SQLITE_DENY);
		}
		if (!registry_listed(registry_bad_funcs, a2))
			return (SQLITE_OK);
		break;
	case SQLITE_PRAGMA:
		if (registry_listed(registry_pragmas, a1))
			return (SQLITE_OK);
		break;
	case SQLITE_UPDATE:
		/*
		 * Connecting an eponymous virtual table (json_each,
		 * pragma_table_info) asks this of the schema table.  A real
		 * UPDATE of it does not compile, and any statement that
		 * writes fails sqlite3_stmt_readonly() anyway.
		 */
		if (a1 != NULL && strcmp(a1, "sqlite_master") == 0 &&
		    dbname != NULL && strcmp(dbname, "main") == 0)
			return (SQLITE_OK);
		break;
	}
	if (q->denied == NULL) {
		what = action >= 0 && action < REGISTRY_NACTIONS &&
		    registry_actions[action] != NULL ?
		    registry_actions[action] : "this";
		detail = action == SQLITE_FUNCTION ? a2 : a1;
		xasprintf(&q->denied, "%s%s%s", what, detail != NULL ? " " : "",
		    detail != NULL ? detail : "");
	}
	return (SQLITE_DENY);
}

static int
registry_progress_cb(void *arg)
{
	struct registry_qstate	*q = arg;

	if (registry_mono_ms() < q->deadline)
		return (0);
	q->timed_out = true;
	return (1);			/* interrupts sqlite3_step() */
}

static int	registry_qfail(struct registry_qstate *, enum registry_qerr,
		    const char *, ...) __attribute__((format(printf, 3, 4)));

static int
registry_qfail(struct registry_qstate *q, enum registry_qerr err,
    const char *fmt, ...)
{
	va_list	ap;

	q->err = err;
	va_start(ap, fmt);
	if (vasprintf(&q->cause, fmt, ap) == -1)
		q->cause = NULL;
	va_end(ap);
	if (q->cause == NULL)
		q->cause = xstrdup("query failed");
	return (-1);
}

/* Classify a failed prepare or step. */
static int
registry_query_error(struct registry_qstate *q, int rc)
{
	if (q->timed_out)
		return (registry_qfail(q, REGISTRY_QERR_TIMEOUT, "the query "
		    "ran for more than %lld ms",
		    (long long)q->opts->budget_ms));
	if (q->refused != NULL)
		return (registry_qfail(q, REGISTRY_QERR_SQL, "%s",
		    q->refused));
	/* SQLite says "out of memory" when the program grows too long. */
	if (rc == SQLITE_NOMEM && q->preparing && sqlite3_memory_used() <
	    q->saved_heap + REGISTRY_QUERY_HEAP / 2)
		return (registry_qfail(q, REGISTRY_QERR_SQL, "the statement is "
		    "too complex: a query may have about %d steps of program",
		    REGISTRY_QUERY_OPS * 2 / 3));
	if (rc == SQLITE_TOOBIG && q->preparing &&
	    strlen(q->opts->sql) > REGISTRY_QUERY_SQL)
		return (registry_qfail(q, REGISTRY_QERR_SQL, "sql is longer "
		    "than %d bytes", REGISTRY_QUERY_SQL));
	if (q->denied != NULL)
		return (registry_qfail(q, REGISTRY_QERR_READ_ONLY, "%s is not "
		    "allowed: queries are read-only", q->denied));
	if (rc == SQLITE_AUTH)
		return (registry_qfail(q, REGISTRY_QERR_READ_ONLY, "%s",
		    sqlite3_errmsg(q->r->db)));
	if (q->preparing && rc == SQLITE_ERROR &&
	    strstr(sqlite3_errmsg(q->r->db), "view") != NULL &&
	    registry_sql_writes(q->opts->sql))
		return (registry_qfail(q, REGISTRY_QERR_READ_ONLY, "queries "
		    "are read-only (%s)", sqlite3_errmsg(q->r->db)));
	if (rc == SQLITE_NOMEM)
		return (registry_qfail(q, REGISTRY_QERR_SQL, "out of memory: "
		    "a query may use %d MiB", REGISTRY_QUERY_HEAP >> 20));
	if (rc == SQLITE_TOOBIG)
		return (registry_qfail(q, REGISTRY_QERR_SQL, "%s: a value may "
		    "have %lld bytes", sqlite3_errmsg(q->r->db),
		    (long long)q->opts->max_value));
	return (registry_qfail(q, REGISTRY_QERR_SQL, "%s",
	    sqlite3_errmsg(q->r->db)));
}

/* Past blanks, comments and semicolons: the next token, or the end. */
static const char *
registry_sql_skip(const char *s)
{
	for (;;) {
		s += strspn(s, " \t\n\v\f\r;");
		if (s[0] == '-' && s[1] == '-') {
			if ((s = strchr(s, '\n')) == NULL)
				return ("");
		} else if (s[0] == '/' && s[1] == '*') {
			/* SQLite ends an unterminated comment at the end. */
			if ((s = strstr(s + 2, "*/")) == NULL)
				return ("");
			s += 2;
		} else
			return (s);
	}
}

/* Is the rest of the SQL only blanks, comments and semicolons? */
static bool
registry_sql_blank(const char *s)
{
	return (*registry_sql_skip(s) == '\0');
}

/*
 * Does the SQL start with a statement that writes?  For the writes that
 * SQLite refuses before the guards see them because `children` is a
 * view (ALTER TABLE, CREATE INDEX ON it): as read-only as the rest.
 */
static bool
registry_sql_writes(const char *s)
{
	static const char *const	 words[] = { "ALTER", "CREATE",
	    "DELETE", "DROP", "INSERT", "REPLACE", "UPDATE", NULL };
	const char *const		*w;
	size_t				 len;

	s = registry_sql_skip(s);
	for (w = words; *w != NULL; w++) {
		len = strlen(*w);
		if (strncasecmp(s, *w, len) == 0 && !isalnum((unsigned char)
		    s[len]) && s[len] != '_')
			return (true);
	}
	return (false);
}

static void
registry_bind_param(sqlite3_stmt *st, int i, const struct value *v)
{
	switch (v->type) {
	case VALUE_INT:
		sqlite3_bind_int64(st, i, v->i);
		break;
	case VALUE_REAL:
		sqlite3_bind_double(st, i, v->r);
		break;
	case VALUE_JSON:
		/* null is NULL; other JSON binds as text, as attrs hold it. */
		if (strcmp(v->s, "null") == 0) {
			sqlite3_bind_null(st, i);
			break;
		}
		/* FALLTHROUGH */
	case VALUE_TEXT:
		sqlite3_bind_text(st, i, v->s, -1, SQLITE_STATIC);
		break;
	}
}

static int
registry_query_prepare(struct registry_qstate *q)
{
	const struct registry_query	*o = q->opts;
	const char			*tail = NULL;
	size_t				 i;
	int				 rc, n;

	q->preparing = true;
	rc = sqlite3_prepare_v3(q->r->db, o->sql, -1, 0, &q->st, &tail);
	if (rc != SQLITE_OK)
		return (registry_query_error(q, rc));
	q->preparing = false;
	if (q->st == NULL)
		return (registry_qfail(q, REGISTRY_QERR_EMPTY,
		    "sql holds no statement"));
	if (!registry_sql_blank(tail))
		return (registry_qfail(q, REGISTRY_QERR_MULTI,
		    "sql must be one statement; more follows at byte %zu",
		    (size_t)(tail - o->sql)));
	if (!sqlite3_stmt_readonly(q->st))
		return (registry_qfail(q, REGISTRY_QERR_READ_ONLY, "the "
		    "statement would write: queries are read-only"));
	n = sqlite3_bind_parameter_count(q->st);
	if ((size_t)n != o->nparams)
		return (registry_qfail(q, REGISTRY_QERR_PARAMS, "the statement "
		    "has %d parameter%s, params has %zu", n, n == 1 ? "" : "s",
		    o->nparams));
	for (i = 0; i < o->nparams; i++)
		registry_bind_param(q->st, (int)i + 1, &o->params[i]);
	return (0);
}

/* The current row into cells (borrowed until the next step). */
static void
registry_query_cells(sqlite3_stmt *st, int ncols, struct registry_cell *c)
{
	int	i;

	for (i = 0; i < ncols; i++, c++) {
		memset(c, 0, sizeof *c);
		switch (sqlite3_column_type(st, i)) {
		case SQLITE_INTEGER:
			c->type = REGISTRY_INT;
			c->i = sqlite3_column_int64(st, i);
			break;
		case SQLITE_FLOAT:
			c->type = REGISTRY_REAL;
			c->r = sqlite3_column_double(st, i);
			break;
		case SQLITE_TEXT:
			c->type = REGISTRY_TEXT;
			c->p = sqlite3_column_text(st, i);
			break;
		case SQLITE_BLOB:
			c->type = REGISTRY_BLOB;
			c->p = sqlite3_column_blob(st, i);
			break;
		default:
			c->type = REGISTRY_NULL;
			continue;
		}
		c->len = sqlite3_column_bytes(st, i);
		if (c->p == NULL)		/* an empty blob */
			c->p = "";
	}
}

static int
registry_query_rows(struct registry_qstate *q)
{
	const struct registry_query	*o = q->opts;
	struct registry_cell		*cells;
	const char			**names;
	int64_t				 nrows = 0;
	int				 ncols, rc, i;

	ncols = sqlite3_column_count(q->st);
	names = xcalloc(ncols + 1, sizeof *names);
	for (i = 0; i < ncols; i++)
		if ((names[i] = sqlite3_column_name(q->st, i)) == NULL)
			names[i] = "";
	o->cols(ncols, names, o->arg);
	free(names);
	cells = xcalloc(ncols + 1, sizeof *cells);
	while ((rc = sqlite3_step(q->st)) == SQLITE_ROW) {
		if (nrows == o->max_rows) {
			q->truncated = true;	/* there was one more */
			break;
		}
		registry_query_cells(q->st, ncols, cells);
		if (o->row(ncols, cells, o->arg) == -1) {
			q->truncated = true;
			break;
		}
		nrows++;
		/* The callback's time counts too. */
		if (registry_mono_ms() >= q->deadline) {
			q->timed_out = true;
			rc = SQLITE_INTERRUPT;
			break;
		}
	}
	free(cells);
	if (!q->timed_out && (rc == SQLITE_ROW || rc == SQLITE_DONE))
		return (0);
	return (registry_query_error(q, rc));
}

/* Install the guards (registry_query_disarm takes them down). */
static void
registry_query_arm(struct registry_qstate *q)
{
	sqlite3	*db = q->r->db;

	int	length = q->opts->max_value > INT_MAX ? INT_MAX :
		    (int)q->opts->max_value;
	size_t	i;

	q->deadline = registry_mono_ms() + q->opts->budget_ms;
	q->saved_length = sqlite3_limit(db, SQLITE_LIMIT_LENGTH, length);
	(void)sqlite3_limit(q->r->aux, SQLITE_LIMIT_LENGTH, length);
	for (i = 0; i < nitems(registry_qlimits); i++)
		q->saved_limits[i] = sqlite3_limit(db, registry_qlimits[i].id,
		    registry_qlimits[i].value);
	q->saved_heap = sqlite3_hard_heap_limit64(sqlite3_memory_used() +
	    REGISTRY_QUERY_HEAP);
	sqlite3_set_authorizer(db, registry_auth_cb, q);
	sqlite3_progress_handler(db, REGISTRY_PROGRESS_OPS,
	    registry_progress_cb, q);
	q->r->q = q;
}

static void
registry_query_disarm(struct registry_qstate *q)
{
	sqlite3	*db = q->r->db;

	size_t	i;

	q->r->q = NULL;
	sqlite3_progress_handler(db, 0, NULL, NULL);
	sqlite3_set_authorizer(db, NULL, NULL);
	sqlite3_hard_heap_limit64(q->saved_heap);
	sqlite3_limit(db, SQLITE_LIMIT_LENGTH, q->saved_length);
	for (i = 0; i < nitems(registry_qlimits); i++)
		(void)sqlite3_limit(db, registry_qlimits[i].id,
		    q->saved_limits[i]);	/* the old value */
}

int
registry_query(struct registry *r, const struct registry_query *opts,
    bool *truncated, enum registry_qerr *err, char **cause)
{
	struct registry_qstate	q;
	int			rc;

	assert(opts->sql != NULL && opts->max_rows > 0 &&
	    opts->budget_ms > 0 && opts->max_value > 0 &&
	    opts->cols != NULL && opts->row != NULL);
	memset(&q, 0, sizeof q);
	q.r = r;
	q.opts = opts;
	/*
	 * Client SQL runs outside any write transaction: it sees every attr
	 * (the commit writes them first), and if SQLite rolled back after
	 * an error (it may, on SQLITE_NOMEM) there would be nothing to lose.
	 */
	if (registry_commit(r) == -1) {
		*truncated = false;
		*err = REGISTRY_QERR_SQL;
		xasprintf(cause, "mirror: %s", sqlite3_errmsg(r->db));
		return (-1);
	}
	registry_query_arm(&q);
	rc = registry_query_prepare(&q);
	if (rc == 0)
		rc = registry_query_rows(&q);
	sqlite3_finalize(q.st);			/* NULL is fine */
	registry_query_disarm(&q);
	free(q.denied);
	free(q.refused);
	*truncated = q.truncated;
	*err = q.err;
	if (rc == -1)
		*cause = q.cause;
	return (rc);
}

/*
 * Guarded functions.  SQLite looks at the clock (the progress handler)
 * only between steps of its program, and one step may be one function
 * call: instr(), replace(), trim() and LIKE take time in the product of
 * their arguments' sizes (seconds for two values of a few hundred KiB),
 * and printf('%.*c', 2147483647, 'x') loops two billion times whatever
 * the length limit.  A query therefore gets these under their own names
 * in a guarded form: each looks at the clock first, refuses arguments
 * that would take too long (REGISTRY_FN_COST and friends) or a printf
 * width or precision past the length limit, and otherwise runs SQLite's
 * own function, unchanged, on the second connection r->aux.  Outside a
 * query (r->q NULL) they only run SQLite's function.
 */

/*
 * The largest products of argument sizes, each about 20 ms of one call
 * on the machine this was measured on: memcmp-based searches (instr,
 * replace) take about 0.02 ns a unit, LIKE and GLOB 2.5 ns, the trim
 * functions (every character against every one of the set) 10 ns.
 */
#define REGISTRY_FN_COST_MEM	((sqlite3_int64)1000000000)
#define REGISTRY_FN_COST_LIKE	((sqlite3_int64)8000000)
#define REGISTRY_FN_COST_TRIM	((sqlite3_int64)2000000)

static const struct {
	const char	*name;
	int		 nargs;		/* -1: printf's any number */
	const char	*sql;		/* SQLite's own, on r->aux */
	sqlite3_int64	 cost;		/* bound of bytes(arg0) * bytes(arg1) */
} registry_fns[FN_COUNT] = {
	[FN_INSTR] = { "instr", 2, "SELECT instr(?1, ?2)",
	    REGISTRY_FN_COST_MEM },
	[FN_REPLACE] = { "replace", 3, "SELECT replace(?1, ?2, ?3)",
	    REGISTRY_FN_COST_MEM },
	[FN_TRIM] = { "trim", 2, "SELECT trim(?1, ?2)",
	    REGISTRY_FN_COST_TRIM },
	[FN_LTRIM] = { "ltrim", 2, "SELECT ltrim(?1, ?2)",
	    REGISTRY_FN_COST_TRIM },
	[FN_RTRIM] = { "rtrim", 2, "SELECT rtrim(?1, ?2)",
	    REGISTRY_FN_COST_TRIM },
	[FN_LIKE2] = { "like", 2, "SELECT like(?1, ?2)",
	    REGISTRY_FN_COST_LIKE },
	[FN_LIKE3] = { "like", 3, "SELECT like(?1, ?2, ?3)",
	    REGISTRY_FN_COST_LIKE },
	[FN_GLOB] = { "glob", 2, "SELECT glob(?1, ?2)",
	    REGISTRY_FN_COST_LIKE },
	[FN_PRINTF] = { "printf", -1, NULL, 0 },
	[FN_FORMAT] = { "format", -1, NULL, 0 }
};

/* The width or precision at *p (digits or '*': the next argument). */
static sqlite3_int64
registry_printf_num(const char **p, sqlite3_value **argv, int argc,
    int *argi)
{
	sqlite3_int64	n = 0;

	if (**p == '*') {
		(*p)++;
		if (*argi >= argc)
			return (0);
		n = sqlite3_value_int64(argv[(*argi)++]);
		return (n < 0 ? -n : n);
	}
	while (**p >= '0' && **p <= '9') {
		if (n < INT_MAX)
			n = n * 10 + (**p - '0');
		(*p)++;
	}
	return (n);
}

/*
 * The largest width or precision printf's format asks for (with those
 * given by '*' arguments), as SQLite's printf reads them.
 */
static sqlite3_int64
registry_printf_max(sqlite3_value **argv, int argc)
{
	const char	*p = (const char *)sqlite3_value_text(argv[0]);
	sqlite3_int64	 max = 0, n;
	int		 argi = 1;

	for (; p != NULL && (p = strchr(p, '%')) != NULL; ) {
		p++;
		p += strspn(p, "-+ #!,0");
		if ((n = registry_printf_num(&p, argv, argc, &argi)) > max)
			max = n;
		if (*p == '.') {
			p++;
			if ((n = registry_printf_num(&p, argv, argc,
			    &argi)) > max)
				max = n;
		}
		while (*p == 'l')
			p++;
		if (*p == '\0')
			break;
		if (*p != '%' && *p != 'n')
			argi++;		/* the value it prints */
		p++;
	}
	return (max);
}

/*
 * The guard of fn: the clock, then its arguments.  NULL if it may run,
 * else the reason (static or in q->refused); *timeout when the budget
 * is spent.
 */
static const char *
registry_fn_guard(struct registry *r, enum registry_fn fn, int argc,
    sqlite3_value **argv)
{
	struct registry_qstate	*q = r->q;
	sqlite3_int64		 a, b;

	if (q == NULL)
		return (NULL);
	if (registry_mono_ms() >= q->deadline) {
		q->timed_out = true;
		return ("interrupted");
	}
	if (fn == FN_PRINTF || fn == FN_FORMAT) {
		if (argc == 0 || registry_printf_max(argv, argc) <=
		    q->opts->max_value)
			return (NULL);
		free(q->refused);
		xasprintf(&q->refused, "%s: a width or precision is larger "
		    "than a value may be (%lld bytes)", registry_fns[fn].name,
		    (long long)q->opts->max_value);
		return (q->refused);
	}
	a = sqlite3_value_bytes(argv[0]);
	b = sqlite3_value_bytes(argv[1]);
	if (a * b <= registry_fns[fn].cost)
		return (NULL);
	free(q->refused);
	xasprintf(&q->refused, "%s: arguments of %lld and %lld bytes are too "
	    "costly for one call (the product may be %lld)",
	    registry_fns[fn].name, (long long)a, (long long)b,
	    (long long)registry_fns[fn].cost);
	return (q->refused);
}

/* SQLite's own fn on r->aux (prepared on first use). */
static sqlite3_stmt *
registry_fn_stmt(struct registry *r, enum registry_fn fn, int argc)
{
	sqlite3_stmt	**sp;
	char		 *sql = NULL, *p;
	int		  i;

	if (registry_fns[fn].nargs != -1) {
		sp = &r->fst[fn];
		if (*sp == NULL)
			(void)sqlite3_prepare_v3(r->aux, registry_fns[fn].sql,
			    -1, SQLITE_PREPARE_PERSISTENT, sp, NULL);
		return (*sp);
	}
	sp = &r->pst[argc];
	if (*sp == NULL) {
		/* "SELECT printf(?1, ..., ?argc)" */
		sql = p = xmalloc(32 + 8 * (size_t)argc);
		p += sprintf(p, "SELECT printf(");
		for (i = 1; i <= argc; i++)
			p += sprintf(p, "%s?%d", i > 1 ? ", " : "", i);
		strcpy(p, ")");
		(void)sqlite3_prepare_v3(r->aux, sql, -1,
		    SQLITE_PREPARE_PERSISTENT, sp, NULL);
		free(sql);
	}
	return (*sp);
}

static void
registry_fn_cb(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct registry_fn_data	*d = sqlite3_user_data(ctx);
	struct registry		*r = d->r;
	const char		*why;
	sqlite3_stmt		*st;
	int			 i, rc;

	if (argc < 0 || argc > REGISTRY_FN_MAXARGS ||
	    (st = registry_fn_stmt(r, d->fn, argc)) == NULL) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	if ((why = registry_fn_guard(r, d->fn, argc, argv)) != NULL) {
		if (r->q != NULL && r->q->timed_out)
			sqlite3_result_error_code(ctx, SQLITE_INTERRUPT);
		else
			sqlite3_result_error(ctx, why, -1);
		return;
	}
	for (i = 0; i < argc; i++)
		sqlite3_bind_value(st, i + 1, argv[i]);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		sqlite3_result_value(ctx, sqlite3_column_value(st, 0));
	else if (rc == SQLITE_TOOBIG)
		sqlite3_result_error_toobig(ctx);
	else if (rc == SQLITE_NOMEM)
		sqlite3_result_error_nomem(ctx);
	else
		sqlite3_result_error(ctx, sqlite3_errmsg(r->aux), -1);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/*
 * gtd_childspec(name, spec): spec if it is not NULL, else the source's
 * text of name's spec (NULL without a source or such a child).
 */
static void
registry_spec_fn_cb(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct registry	*r = sqlite3_user_data(ctx);
	const char	*name;
	char		*text;

	if (argc != 2)			/* registered with 2 */
		return;
	if (sqlite3_value_type(argv[1]) != SQLITE_NULL) {
		sqlite3_result_value(ctx, argv[1]);
		return;
	}
	if (r->spec_src == NULL || sqlite3_value_type(argv[0]) != SQLITE_TEXT ||
	    (name = (const char *)sqlite3_value_text(argv[0])) == NULL ||
	    (text = r->spec_src(name, r->spec_arg)) == NULL)
		return;			/* NULL */
	sqlite3_result_text(ctx, text, -1, free);
}

void
registry_set_spec_source(struct registry *r, registry_spec_cb *src,
    void *arg)
{
	r->spec_src = src;
	r->spec_arg = arg;
}

/* The second connection, and the guarded functions on the first. */
static int
registry_fn_init(struct registry *r)
{
	int	i, flags;

	if (sqlite3_open_v2(":memory:", &r->aux, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		return (-1);
	for (i = 0; i < FN_COUNT; i++) {
		r->fdata[i].r = r;
		r->fdata[i].fn = i;
		flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
		if (sqlite3_create_function_v2(r->db, registry_fns[i].name,
		    registry_fns[i].nargs, flags, &r->fdata[i], registry_fn_cb,
		    NULL, NULL, NULL) != SQLITE_OK)
			return (-1);
	}
	/* Innocuous: the view uses it, whatever trusted_schema says. */
	if (sqlite3_create_function_v2(r->db, REGISTRY_SPEC_FN, 2,
	    SQLITE_UTF8 | SQLITE_INNOCUOUS, r, registry_spec_fn_cb, NULL, NULL,
	    NULL) != SQLITE_OK)
		return (-1);
	return (0);
}
