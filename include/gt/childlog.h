/* SPDX-License-Identifier: MIT */
/*
 * childlog: a child's captured output (protocol §4 stdout/stderr "log"
 * and {"file"}).  gtd reads the pipe, splits it into lines, keeps the
 * last ones in a bounded ring (the `logs` op), relays them to gtd's own
 * log (rate-limited) and to followers, and for "file" appends the bytes
 * to a size-rotated file.  Reads at most one chunk per readable event, so
 * a flooding child cannot starve anything; memory is bounded by the ring.
 */
#ifndef GT_CHILDLOG_H
#define GT_CHILDLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>

struct child;

#define CHILDLOG_RING_LINES	1000
#define CHILDLOG_RING_BYTES	(64 * 1024)
#define CHILDLOG_LINE_MAX	4096	/* longer lines are split */
#define CHILDLOG_RELAY_PER_S	50	/* lines/s copied to gtd's log */

struct childlog_line {
	int64_t		 at;		/* epoch ms */
	const char	*stream;	/* static: "stdout"/"stderr"/"output" */
	char		*text;		/* owned, valid UTF-8 */
};

/* One pipe being read (stdout, stderr, or both as "output"). */
struct childlog_in {
	struct childlog		*log;		/* weak: the owner */
	int			 fd;		/* pipe read end, or -1 */
	ev_io			 rd;
	const char		*stream;
	char			 partial[CHILDLOG_LINE_MAX];
	size_t			 plen;
	bool			 relay;		/* copy to gtd's log */
	/* "file" mode. */
	char			*path;		/* owned, or NULL */
	int64_t			 max_bytes;
	int			 keep;
	int			 filefd;
	int64_t			 size;
};

struct childlog {
	struct child		*child;		/* weak: the owner */
	struct childlog_in	 in[2];
	/* The ring of recent lines, of both pipes. */
	struct childlog_line	*ring;		/* owned, lazily */
	size_t			 head;		/* next slot */
	size_t			 n;
	size_t			 bytes;
	/* Relay rate limit. */
	int64_t			 window;	/* second of the count */
	int			 count;
	int			 dropped;
};

/* A new, empty log for c (no pipe yet). */
struct childlog	*childlog_new(struct child *c);
void		 childlog_free(struct childlog *);	/* NULL is fine */
/*
 * Start reading fd (a pipe's read end, taken) as input i (0 or 1) of a
 * new incarnation, labelled stream.  path != NULL: also append to that
 * file, rotated at max_bytes keeping `keep` old files.
 */
void		 childlog_attach(struct childlog *, int i, int fd,
		    const char *stream, const char *path, int64_t max_bytes,
		    int keep, bool relay);
/* Read what is left in both pipes now, then close them. */
void		 childlog_detach(struct childlog *);
/* Feed bytes as if read from input i's pipe (the read callback; tests). */
void		 childlog_feed(struct childlog *, int i, const char *, size_t);
/* Call cb for the last `lines` lines, oldest first. */
void		 childlog_tail(struct childlog *, size_t lines,
		    void (*cb)(const struct childlog_line *, void *), void *);

#endif /* GT_CHILDLOG_H */
