/* SPDX-License-Identifier: MIT */
/*
 * mirror: libgtd's reader of the shared-memory mirror (the layout and the
 * seqlock argument are in gt/shmlayout.h).  It works on any bytes: every
 * offset, length and count it reads is checked against the size it was
 * given before it is used, so a half-written, replaced or hostile file
 * gives MV_RETRY or MV_PROTO, never a fault.  It never writes to the
 * mapping and never allocates except where a function says so.  Not
 * installed: the library's own header is gtd.h.
 */
#ifndef LIBGTD_MIRROR_H
#define LIBGTD_MIRROR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gt/shmlayout.h"

/* A mapped file, as mview_init() found it. */
struct mview {
	const uint8_t	*base;
	size_t		 size;		/* 0: nothing mapped */
	uint32_t	 mask;		/* nbuckets - 1 */
	uint32_t	 buckets_off;
	uint32_t	 heap_off;
	uint32_t	 seed;
};

enum mv_rc {
	MV_OK,
	MV_NOTFOUND,		/* no record of that name */
	MV_RETRY,		/* the writer was busy there: try again */
	MV_REPLACED,		/* re-open the path */
	MV_FULL,		/* the file is stale: ask the socket */
	MV_PROTO		/* not a mirror, or a broken one */
};

/* One lookup: what to find, and what was found. */
struct mget {
	const char	*name;
	size_t		 len;
	const char	*key;		/* NULL: the record only */
	size_t		 klen;
	char		*buf;		/* a text value goes here... */
	size_t		 bufsize;	/* ...when it fits, with a NUL */

	int32_t		 pid;
	uint32_t	 restart_count;
	uint32_t	 nattrs;
	uint32_t	 rflags;	/* SHM_R_* */
	char		 state[SHM_STATE_MAX];	/* NUL-terminated */
	bool		 has_attr;	/* key was found */
	uint8_t		 type;		/* SHM_T_* */
	int64_t		 i;
	double		 r;
	size_t		 vlen;		/* text: bytes, copied if < bufsize */
};

/* One row in a list made by mview_list. */
struct mrow {
	int32_t		 pid;
	uint32_t	 restart_count;
	uint32_t	 nattrs;
	uint32_t	 rflags;
	char		 state[SHM_STATE_MAX];
	uint16_t	 len;
	char		 name[];		/* len bytes and a NUL */
};

/* A growable byte buffer (mview_list, mview_copy). */
struct mbuf {
	uint8_t		*p;		/* malloc'd */
	size_t		 len;
	size_t		 size;
};

/*
 * Check the header of the size bytes at base: MV_OK and v filled, or
 * MV_PROTO (not a mirror of this version, or sizes that do not add up).
 */
enum mv_rc	mview_init(struct mview *v, const void *base, size_t size);

/*
 * Look g->name up (and g->key, when set).  MV_OK (the record, with
 * has_attr), MV_NOTFOUND, or MV_RETRY, MV_REPLACED, MV_FULL, MV_PROTO.
 * Lock-free: one attempt, no loop.
 */
enum mv_rc	mview_get(const struct mview *v, struct mget *g);

/*
 * Append to out (a list of struct mrow, each 8-aligned) every record of
 * bucket i, all as of one moment.  MV_OK, or MV_RETRY (nothing was
 * appended), MV_REPLACED, MV_FULL, MV_PROTO; running out of memory is
 * MV_PROTO with errno ENOMEM.
 */
enum mv_rc	mview_list(const struct mview *v, uint32_t i, struct mbuf *out);
uint32_t	mview_nbuckets(const struct mview *v);

/*
 * Copy the record of name whole into out (out->len its size), as of one
 * moment; then mrec_* read the copy.  Same results as mview_get.
 */
enum mv_rc	mview_copy(const struct mview *v, const char *name,
		    size_t len, struct mbuf *out);

/* An attr of a record copy. */
struct mattr {
	const char	*key;
	size_t		 klen;
	uint8_t		 type;
	int64_t		 i;
	double		 r;
	const char	*s;		/* text: vlen bytes (NUL-terminated
					   by mrec_attr in its copy) */
	size_t		 vlen;
};
/* The record copy's fixed fields (0), or -1 if it is malformed. */
int		mrec_fixed(const struct mbuf *rec, struct mget *g);
/* Attr i of the copy (0), or -1 if it is malformed. */
int		mrec_attr(struct mbuf *rec, uint32_t i, struct mattr *a);

/* The hash of a name, as gtd computes it for this file. */
uint32_t	mview_hash(const struct mview *v, const char *s, size_t len);

#endif /* LIBGTD_MIRROR_H */
