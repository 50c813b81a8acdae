/* SPDX-License-Identifier: MIT */
/*
 * registry: the in-memory SQLite mirror (protocol §6).  child.c holds the
 * truth about processes and mirrors every state change into `children`;
 * attrs live in an attrtab here and are written into `attrs` behind (at
 * every commit, and before a query).  The only file that includes
 * sqlite3.h.  Never logs: every function returns 0 or -1 and
 * registry_errmsg() says why.
 */
#ifndef GT_REGISTRY_H
#define GT_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "gt/spec.h"

struct registry;			/* opaque: defined in registry.c */
struct shmirror;
struct shmirror_opts;

/* One row of `children`.  Strings are borrowed for the call. */
struct registry_row {
	const char	*name;
	pid_t		 pid;		/* <= 0: NULL */
	const char	*state;
	const char	*type;
	const char	*restart;
	int		 restart_count;
	int64_t		 started_at;	/* epoch ms; 0: NULL */
	int64_t		 ready_at;
	int		 exit_status;	/* -1: NULL */
	const char	*exit_signal;	/* NULL: NULL */
	int64_t		 exited_at;
	/*
	 * Normalised childspec JSON (put only), or NULL: made on demand by
	 * the spec source (registry_set_spec_source).
	 */
	const char	*spec;
	int64_t		 restart_at;	/* epoch ms of the next try; 0: NULL */
	bool		 gave_up;
};

enum registry_incr {
	REGISTRY_INCR_OK,
	REGISTRY_INCR_NOT_FOUND,	/* no such key and no default */
	REGISTRY_INCR_NOT_INTEGER,
	REGISTRY_INCR_OVERFLOW
};

/* Called once per attr; the key and value are borrowed for the call. */
typedef void	registry_attr_cb(const char *key, const struct value *,
		    void *arg);

/* Open ":memory:", create the schema, prepare every statement. */
struct registry	*registry_new(char **cause);
void		 registry_free(struct registry *);	/* NULL is fine */
const char	*registry_errmsg(struct registry *);	/* borrowed */

/*
 * Where the spec text of `children` comes from (a view of the table
 * child_rows).  A row put with r->spec keeps that text.  A row put with
 * r->spec NULL stores none: the view calls src(name, arg) for it each
 * time a query reads the column, which returns an xmalloc'd text (the
 * registry frees it) or NULL (the column is NULL, as it is without a
 * source).  src must not write to the registry; arg is borrowed.
 */
typedef char	*registry_spec_cb(const char *name, void *arg);
void	registry_set_spec_source(struct registry *, registry_spec_cb *src,
	    void *arg);
/* The SQL function of the view, callable by queries too (name, text). */
#define REGISTRY_SPEC_FN	"gtd_childspec"

/* Insert or replace the row of r->name, spec included. */
int	registry_child_put(struct registry *, const struct registry_row *r);
/*
 * Update every column of the existing row of r->name but spec, which
 * keeps the text of the last put (r->spec is ignored): the cheap write
 * of a state change.  -1 with errno ENOENT if there is no such row.
 */
int	registry_child_update(struct registry *,
	    const struct registry_row *r);
/*
 * Set the cgroup usage columns of name's row (-1: NULL).  Not part of
 * the shared-memory mirror.  A missing row changes nothing.
 */
int	registry_child_usage(struct registry *, const char *name,
	    int64_t memory_bytes, int64_t cpu_ms);
/*
 * The cluster_children table (protocol §9.3): one row per claimed name
 * of any node, from the cluster's mirror.  0, or -1: registry_errmsg().
 */
int	registry_cluster_put(struct registry *, const char *name,
	    const char *node, pid_t pid, const char *state, int64_t revision,
	    int64_t mod_revision, bool failover, const char *spec);
int	registry_cluster_del(struct registry *, const char *name);
/*
 * This gtd is cluster node `node` (copied): the rows of cluster_children
 * of other nodes whose name has no local row are published in the
 * shared-memory mirror too (remote records, gt/shmlayout.h); a local row
 * of a name always wins over another node's row of it.
 */
void	registry_cluster_self(struct registry *, const char *node);
/* Delete the row of name and all its attrs. */
int	registry_child_del(struct registry *, const char *name);
/*
 * The depends table (protocol §9.1): the edges of name's depends_on, one
 * row each (clear, then add them).  0, or -1: see registry_errmsg().
 * registry_child_del clears them too.
 */
int	registry_depends_clear(struct registry *, const char *name);
int	registry_depends_add(struct registry *, const char *name,
	    const char *dependency, const char *condition,
	    const char *on_stop, const char *on_restart);

/* Set one attr (the value is copied). */
int	registry_attr_set(struct registry *, const char *name,
	    const char *key, const struct value *);
/* The value of (name, key) or NULL, borrowed until the next write. */
const struct value *registry_attr_ref(struct registry *, const char *name,
	    const char *key);
int	registry_attr_del(struct registry *, const char *name,
	    const char *key, bool *found);
int	registry_attr_clear(struct registry *, const char *name);
/*
 * The attr writes of name between these two are one change for readers
 * of the shared-memory mirror: all or none (a setattr of several keys).
 */
void	registry_attr_batch(struct registry *, const char *name);
void	registry_attr_batch_end(struct registry *);
int	registry_attr_count(struct registry *, const char *name, int *n);
/* The bytes of name's attr keys and text/JSON values (max_attr_bytes). */
size_t	registry_attr_bytes(struct registry *, const char *name);
/* Add by to an integer attr; dflt (may be NULL) is the missing value. */
int	registry_attr_incr(struct registry *, const char *name,
	    const char *key, int64_t by, const int64_t *dflt,
	    int64_t *result, enum registry_incr *how);
/* Call cb for every attr of name, in key order. */
int	registry_attr_foreach(struct registry *, const char *name,
	    registry_attr_cb *cb, void *arg);

/*
 * Writes open a transaction by themselves; registry_commit() writes the
 * changed attrs and ends it (the loop calls it at most every 100 ms).
 * Reads on this connection see the uncommitted writes; registry_query()
 * and a snapshot commit first.
 */
int	registry_begin(struct registry *);
int	registry_commit(struct registry *);

/*
 * The number of successful writes so far: a snapshot is due when it
 * differs from the value at the last snapshot.
 */
uint64_t	registry_generation(struct registry *);

/*
 * Publish the registry in a shared-memory mirror (protocol §9.4,
 * shmirror.h) at o->path, and keep it up to date from now on: every
 * write below changes it before returning.  0, or -1 with *cause
 * (xasprintf'd); the registry works on without a mirror.
 */
int	registry_publish(struct registry *, const struct shmirror_opts *o,
	    char **cause);
/*
 * Call now and then (the loop does, with the commit): -1 with *cause
 * once after the mirror could not take a change (it then tells readers
 * to ask the socket); and when it is degraded, rebuild it (at most every
 * second, backing off to every 5 minutes while that fails).  0 else.
 */
int	registry_mirror_check(struct registry *, char **cause);
/* The mirror, or NULL (for tests and stats). */
struct shmirror	*registry_mirror(struct registry *);

/*
 * Copy the whole database into the SQLite file path, atomically: the
 * image (sqlite3_serialize; no fsync: the file is a cache) goes into a
 * file created exclusively in path's directory (O_TMPFILE, linked as
 * "path.tmp", or else "path.tmp" made with O_EXCL|O_NOFOLLOW), mode
 * 0640, which is then renamed over path.  The directory must belong to
 * root or gtd's user and be writable by no one else (protocol section
 * 7): another user could otherwise make root write where she points.
 * 0, or -1 with *cause (xasprintf'd, the caller frees; it names the
 * directory, its owner and mode when that is the reason).  Synchronous.
 */
int	registry_snapshot(struct registry *, const char *path, char **cause);

/* One column value of a query row, borrowed for the callback. */
enum registry_ctype {
	REGISTRY_NULL,
	REGISTRY_INT,
	REGISTRY_REAL,			/* may be infinite */
	REGISTRY_TEXT,			/* p, len: UTF-8 unless forged */
	REGISTRY_BLOB			/* p, len */
};
struct registry_cell {
	enum registry_ctype	 type;
	int64_t			 i;
	double			 r;
	const void		*p;	/* never NULL for TEXT and BLOB */
	size_t			 len;
};

/* Why registry_query() failed (protocol §2 in parentheses). */
enum registry_qerr {
	REGISTRY_QERR_NONE,
	REGISTRY_QERR_SQL,		/* compile or run error (sql_error) */
	REGISTRY_QERR_READ_ONLY,	/* would write, attach... (read_only) */
	REGISTRY_QERR_TIMEOUT,		/* ran past budget_ms (timeout) */
	REGISTRY_QERR_EMPTY,		/* no statement (bad_request) */
	REGISTRY_QERR_MULTI,		/* more than one (bad_request) */
	REGISTRY_QERR_PARAMS		/* param count mismatch (bad_request) */
};

/* The column names, once, before the first row; borrowed for the call. */
typedef void	registry_cols_cb(int ncols, const char *const *names,
		    void *arg);
/* One row; 0 to go on, -1 to stop here (the result is truncated). */
typedef int	registry_row_cb(int ncols, const struct registry_cell *,
		    void *arg);

/* A read-only query: see registry_query(). */
struct registry_query {
	const char		*sql;
	const struct value	*params;	/* bound to ?1.. in order */
	size_t			 nparams;
	int64_t			 max_rows;	/* > 0 */
	int64_t			 budget_ms;	/* wall clock, > 0 */
	int64_t			 max_value;	/* bytes of one value, > 0 */
	registry_cols_cb	*cols;
	registry_row_cb		*row;
	void			*arg;
};

/*
 * Run one read-only SQL statement against the mirror (protocol §5
 * `query`).  An authorizer allows only SELECT, reads, recursive CTEs,
 * functions other than load_extension (and fts3_tokenizer, readfile,
 * writefile, edit), and the schema pragmas
 * (table_info, table_xinfo, table_list, index_list, index_info,
 * index_xinfo, foreign_key_list); anything else, or a statement SQLite
 * itself does not call read-only, is REGISTRY_QERR_READ_ONLY.  Params:
 * VALUE_INT, VALUE_REAL and VALUE_TEXT bind natively, VALUE_JSON "null"
 * binds NULL and other VALUE_JSON text binds as that text (the way attrs
 * store it).  While it runs, one value may not exceed max_value bytes
 * and SQLite may allocate at most REGISTRY_QUERY_HEAP more bytes (else
 * REGISTRY_QERR_SQL); after budget_ms it is REGISTRY_QERR_TIMEOUT (the
 * callbacks' time counts).  *truncated is set when max_rows rows were
 * returned and there were more, or when row() stopped it.  0, or -1 with
 * *err and *cause (xasprintf'd, the caller frees); rows already passed
 * to row() before a failure are the caller's to discard.
 *
 * The clock is looked at only between steps of SQLite's program, so no
 * step may take long: besides max_value, a statement may have at most
 * REGISTRY_QUERY_FUNCS function calls, REGISTRY_QUERY_COLUMNS columns
 * and about REGISTRY_QUERY_OPS steps of program, and REGISTRY_QUERY_SQL
 * bytes of SQL (REGISTRY_QERR_SQL, naming the limit).  The functions
 * whose time grows with the product of their arguments' sizes (instr,
 * replace, trim, ltrim, rtrim, like, glob) refuse a product over a
 * bound, printf and format a width or precision over max_value, and all
 * of them look at the clock before they run.
 */
#define REGISTRY_QUERY_HEAP	(32 * 1024 * 1024)
#define REGISTRY_QUERY_FUNCS	64
#define REGISTRY_QUERY_COLUMNS	100
#define REGISTRY_QUERY_OPS	1000
#define REGISTRY_QUERY_SQL	(64 * 1024)
int	registry_query(struct registry *, const struct registry_query *,
	    bool *truncated, enum registry_qerr *err, char **cause);

#endif /* GT_REGISTRY_H */
