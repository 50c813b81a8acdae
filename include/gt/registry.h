/* SPDX-License-Identifier: MIT */
/*
 * registry: the in-memory SQLite mirror (protocol §6).  child.c holds the
 * truth about processes and mirrors every state change into `children`;
 * the `attrs` table is the only store of attrs.  The only file that
 * includes sqlite3.h.  Never logs: every function returns 0 or -1 and
 * registry_errmsg() says why.
 */
#ifndef GT_REGISTRY_H
#define GT_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "gt/spec.h"

struct registry;			/* opaque: defined in registry.c */

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
	const char	*spec;		/* normalised childspec JSON */
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

/* Insert or replace the row of r->name. */
int	registry_child_put(struct registry *, const struct registry_row *r);
/* Delete the row of name and all its attrs. */
int	registry_child_del(struct registry *, const char *name);

/* Set one attr (the value is copied). */
int	registry_attr_set(struct registry *, const char *name,
	    const char *key, const struct value *);
/* *found tells whether the key exists; *out is filled (caller frees). */
int	registry_attr_get(struct registry *, const char *name,
	    const char *key, struct value *out, bool *found);
int	registry_attr_del(struct registry *, const char *name,
	    const char *key, bool *found);
int	registry_attr_clear(struct registry *, const char *name);
int	registry_attr_count(struct registry *, const char *name, int *n);
/* Add by to an integer attr; dflt (may be NULL) is the missing value. */
int	registry_attr_incr(struct registry *, const char *name,
	    const char *key, int64_t by, const int64_t *dflt,
	    int64_t *result, enum registry_incr *how);
/* Call cb for every attr of name, in key order. */
int	registry_attr_foreach(struct registry *, const char *name,
	    registry_attr_cb *cb, void *arg);

/* Group every write until registry_commit() into one transaction. */
int	registry_begin(struct registry *);
int	registry_commit(struct registry *);

#endif /* GT_REGISTRY_H */
