/* SPDX-License-Identifier: MIT */
/*
 * shmirror: the writer of the shared-memory mirror of the registry
 * (protocol §9.4; the layout and the readers' rules are in
 * gt/shmlayout.h).  The registry calls it from its write paths, so every
 * change is in the mapping before gtd replies to the request that made
 * it.  Never blocks on a reader, never logs: a change it cannot write
 * degrades the mirror (the record or the whole file tells readers to ask
 * the socket instead) and that call returns -1, with shmirror_errmsg()
 * saying why; calls on a file already marked full return 0.
 * shmirror_degraded() tells the registry to rebuild it later.
 */
#ifndef GT_SHMIRROR_H
#define GT_SHMIRROR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gt/spec.h"

struct shmirror;

struct shmirror_opts {
	/* The mirror file: the socket's path and SHM_SUFFIX. */
	const char	*path;
	/*
	 * The socket whose group the mirror gets, and whose group and
	 * other write bits (what connect(2) checks) become the mirror's
	 * read bits; the owner is gtd's user, with read and write.
	 */
	const char	*socket;
	/* Owner only, whatever the socket's mode (an acl whose default
	 * denies read). */
	bool		 owner_only;
	/* The largest file, SHM_MIN_BYTES..SHM_MAX_BYTES. */
	size_t		 max_bytes;
};

/*
 * An object that will publish at opts->path (nothing is published until
 * the first shmirror_rebuild_end).  NULL and *cause (xasprintf'd) when
 * the socket cannot be stat'ed or opts is out of range.
 */
struct shmirror	*shmirror_new(const struct shmirror_opts *, char **cause);
/*
 * Tell readers gtd is gone (SHM_F_CLOSED), unlink the path if it still
 * names our file, unmap, free.  NULL is fine.
 */
void		 shmirror_free(struct shmirror *);
/* Why the last call failed; borrowed until the next call. */
const char	*shmirror_errmsg(struct shmirror *);

/*
 * Start writing a fresh file that nobody sees yet: the calls that follow
 * (the registry replays every row and attr) fill it, and
 * shmirror_rebuild_end() publishes it in place of the current one, the
 * readers of which are told to re-open.  If anything did not fit or a
 * system call failed, rebuild_end drops the new file, leaves the current
 * one as it was and returns -1.  Also how the first file is published.
 */
int		 shmirror_rebuild_begin(struct shmirror *);
int		 shmirror_rebuild_end(struct shmirror *);
/* Drop the rebuild's file (nothing changes for readers). */
void		 shmirror_rebuild_abort(struct shmirror *);

/* The mirror tells readers to ask the socket for some or all reads. */
bool		 shmirror_degraded(struct shmirror *);

/*
 * The row of name: created with no attrs, or its pid (<= 0: none),
 * state and restart_count updated in place.
 */
int		 shmirror_child_put(struct shmirror *, const char *name,
		    pid_t pid, const char *state, int restart_count);
/*
 * The row of name as another node of the cluster holds it (node, its pid
 * there, state): a SHM_R_REMOTE record with no attrs, in place of any
 * record of name (a local row's too: the caller keeps local rows first).
 * shmirror_child_put() of name replaces it with a local record, and
 * shmirror_child_del() removes it; attr changes of name leave it be.
 */
int		 shmirror_remote_put(struct shmirror *, const char *name,
		    const char *node, pid_t pid, const char *state);
/* The row of name and its attrs are gone. */
int		 shmirror_child_del(struct shmirror *, const char *name);
/* Set (name, key) to v; a row without a record gets one (state ""). */
int		 shmirror_attr_set(struct shmirror *, const char *name,
		    const char *key, const struct value *v);
int		 shmirror_attr_del(struct shmirror *, const char *name,
		    const char *key);
/* Every attr of name goes (the row stays); a partial record is whole
 * again. */
int		 shmirror_attr_clear(struct shmirror *, const char *name);

/*
 * Group the attr changes of name that follow (shmirror_attr_*) until
 * shmirror_batch_end(): readers see all of them or none of them (a
 * setattr of several keys, a new incarnation's attrs).  Any other call
 * in between stores the batch so far first.  batch_end returns what
 * storing it returned.
 */
void		 shmirror_batch_begin(struct shmirror *, const char *name);
int		 shmirror_batch_end(struct shmirror *);

/* For tests and stats: the published file's size, its generation, and
 * the bytes in allocated blocks. */
struct shmirror_info {
	size_t		 file_size;
	uint64_t	 generation;
	size_t		 used;
	uint32_t	 nrecords;
	uint32_t	 npartial;
	bool		 full;
};
void		 shmirror_info(struct shmirror *, struct shmirror_info *);

#endif /* GT_SHMIRROR_H */
