/* SPDX-License-Identifier: MIT */
/*
 * childlog: a child's captured output (protocol §4 stdout/stderr "log"
 * and {"file"}).  gtd reads the pipe, splits it into lines, keeps the
 * last ones in a bounded ring (the `logs` op), relays them to gtd's own
 * log (rate-limited) and to followers, and for "file" appends the bytes
 * to a size-rotated file.  Reads at most one chunk per readable event, so
 * a flooding child cannot starve anything; memory is bounded by the ring.
 *
 * The file is opened, rotated and created with the credentials of the
 * child's user and groups (the file-system ids, switched around each
 * open, rename and unlink and back at once), never through a symlink,
 * and only if it is a regular file: gtd can never write where that user
 * could not write itself.  Rotation happens between lines, and a file
 * never grows past max_bytes.
 */
#ifndef GT_CHILDLOG_H
#define GT_CHILDLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <ev.h>

#include "gt/fscred.h"

struct child;
struct childspec;
struct gtd;

#define CHILDLOG_RING_LINES	1000
#define CHILDLOG_RING_BYTES	(64 * 1024)
#define CHILDLOG_LINE_MAX	4096	/* longer lines are split */
#define CHILDLOG_RELAY_PER_S	50	/* lines/s copied to gtd's log */

struct childlog_line {
	int64_t		 at;		/* epoch ms */
	const char	*stream;	/* static: "stdout"/"stderr"/"output" */
	char		*text;		/* owned, valid UTF-8 */
};

/* "file" mode of one pipe (allocated for a pipe with a file). */
struct childlog_file {
	char			*path;		/* owned (expanded), or NULL:
						   failed for this run */
	int64_t			 max_bytes;
	int64_t			 size;		/* of the open file */
	int			 keep;
	int			 filefd;	/* or -1 */
	struct fscred		 cred;		/* it is opened as */
};

/* One pipe being read (stdout, stderr, or both as "output"). */
struct childlog_in {
	struct childlog		*log;		/* weak: the owner */
	ev_io			 rd;
	const char		*stream;
	char			*partial;	/* owned, lazily: a line's
						   start, up to LINE_MAX */
	struct childlog_file	*file;		/* owned, or NULL: no file */
	int			 fd;		/* pipe read end, or -1 */
	uint16_t		 plen;		/* <= CHILDLOG_LINE_MAX */
	uint16_t		 psize;		/* of partial */
	bool			 relay;		/* copy to gtd's log */
};

/* The relay's rate limit (allocated at the first line relayed). */
struct childlog_relay {
	struct childlog		*log;		/* weak: the owner */
	int64_t			 window;	/* second of the count */
	int			 count;
	int			 dropped;
	ev_timer		 dropw;		/* reports `dropped` */
};

/*
 * What a child's output costs gtd before it writes a line: this struct
 * and its pipes' (one for both streams in log mode).  The ring, the
 * relay's count and a file's state come with the first line, or the
 * file.
 */
struct childlog {
	struct child		*child;		/* weak: the owner */
	/* Every pipe reached EOF: the owner's callback (a released one). */
	void			(*closed)(struct child *);
	/* Its pipes: stdout's (or both's), stderr's; NULL until used. */
	struct childlog_in	*in[2];
	/* The ring of recent lines, of both pipes. */
	struct childlog_line	*ring;		/* owned, lazily, grown by
						   doubling to RING_LINES */
	uint32_t		 rsize;		/* slots of ring */
	uint32_t		 head;		/* next slot */
	uint32_t		 n;
	uint32_t		 bytes;
	struct childlog_relay	*relay;		/* owned, or NULL */
};

/*
 * A new, empty log for c (no pipe yet).  Its lines go up through the
 * observer (child_observer.output); closed(c) runs when a pipe reaches
 * EOF, so the owner can tell when the output is over.
 */
struct childlog	*childlog_new(struct child *c, void (*closed)(struct child *));
void		 childlog_free(struct childlog *);	/* NULL is fine */
/*
 * Start reading fd (a pipe's read end, taken) as input i (0 or 1) of a
 * new incarnation, labelled stream.  path != NULL: also append to that
 * file (a template: see spec_path_expand), rotated at max_bytes keeping
 * `keep` old files, opened with the credentials of the child's spec.
 */
void		 childlog_attach(struct childlog *, int i, int fd,
		    const char *stream, const char *path, int64_t max_bytes,
		    int keep, bool relay);
/* Read what is left in both pipes now, then close them. */
void		 childlog_detach(struct childlog *);
/* Is a pipe of l still read (not at EOF)? */
bool		 childlog_reading(const struct childlog *);
/* Feed bytes as if read from input i's pipe (the read callback; tests). */
void		 childlog_feed(struct childlog *, int i, const char *, size_t);
/*
 * A child other than the one spec names that writes a file spec also
 * writes, where either rotates it (rotations would clobber each other):
 * the first one found, and in *stream which of spec's outputs (0, 1).
 * NULL if none.
 */
struct child	*childlog_clash(struct gtd *, const struct childspec *spec,
		    int *stream);
/* Call cb for the last `lines` lines, oldest first. */
void		 childlog_tail(struct childlog *, size_t lines,
		    void (*cb)(const struct childlog_line *, void *), void *);

/*
 * Put a line back into the ring (a re-exec's restore): stream is
 * "stdout", "stderr", "output" or "hook" (another name: "output"); the
 * text is copied.  Nothing is relayed or followed.
 */
void		 childlog_restore_line(struct childlog *, int64_t at,
		    const char *stream, const char *text);

#endif /* GT_CHILDLOG_H */
