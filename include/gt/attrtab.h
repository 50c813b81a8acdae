/* SPDX-License-Identifier: MIT */
/*
 * attrtab: every child's attrs in memory, by name and key, in O(1).  The
 * registry serves attr reads from here and writes the SQLite mirror
 * behind: each change marks its attr dirty, and attrtab_flush() hands
 * the dirty ones back (deleted ones as NULL) in the order they first
 * changed.  Pure data structure: no I/O, never logs.
 */
#ifndef GT_ATTRTAB_H
#define GT_ATTRTAB_H

#include <stdbool.h>
#include <stddef.h>

#include "gt/spec.h"

struct attrtab;

typedef void	attrtab_cb(const char *key, const struct value *, void *);
/* Write one dirty attr back (v NULL: it was deleted); 0, or -1 to stop. */
typedef int	attrtab_flush_cb(const char *name, const char *key,
		    const struct value *v, void *);

struct attrtab	*attrtab_new(void);
void		 attrtab_free(struct attrtab *);	/* NULL is fine */

/* The live value of (name, key), or NULL.  Borrowed. */
struct value	*attrtab_get(struct attrtab *, const char *name,
		    const char *key);
/* Set (name, key) to a copy of v. */
void		 attrtab_set(struct attrtab *, const char *name,
		    const char *key, const struct value *v);
/* The value attrtab_get() returned was changed in place. */
void		 attrtab_touch(struct attrtab *, struct value *);
/* Delete (name, key): whether it was there. */
bool		 attrtab_del(struct attrtab *, const char *name,
		    const char *key);
/* Forget every attr of name, dirty or not: the caller writes that back. */
void		 attrtab_clear(struct attrtab *, const char *name);
size_t		 attrtab_count(struct attrtab *, const char *name);
/* The bytes of name's live keys and text/JSON values (numbers: 0). */
size_t		 attrtab_bytes(struct attrtab *, const char *name);
/* cb for every live attr of name, in key order (strcmp). */
void		 attrtab_foreach(struct attrtab *, const char *name,
		    attrtab_cb *, void *);

/*
 * cb for every dirty attr, oldest change first; each becomes clean (and
 * a deleted one is freed) once cb returns 0.  Returns 0, or -1 when cb
 * stopped the walk: that attr and the rest stay dirty.
 */
int		 attrtab_flush(struct attrtab *, attrtab_flush_cb *, void *);
size_t		 attrtab_dirty(struct attrtab *);	/* how many */

#endif /* GT_ATTRTAB_H */
