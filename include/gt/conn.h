/* SPDX-License-Identifier: MIT */
/*
 * conn: the transport.  A struct connset owns every client connection:
 * the live and the dead lists, the count, the bytes queued for all of
 * them and the epoll set of half-closed subscribers.  One connection
 * reads into a bounded buffer, frames lines and hands them up one at a
 * time through the set's struct conn_handler (a paused request holds
 * back the ones behind it), and queues replies and events in a bounded
 * output buffer.  conn_close() is deferred: the reaper frees a
 * connection once nothing holds a ref.
 *
 * The transport is a leaf: conn.c and server.c know the loop, the limits
 * and the handler, never the dispatcher, the events, the children or
 * struct gtd.  Logs its own disconnect decisions.
 */
#ifndef GT_CONN_H
#define GT_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include <ev.h>

#include "gt/limits.h"

struct conn;
struct connset;

/*
 * What a connection hands up (the tmux proc_add_peer pattern): gtd.c
 * fills it in.  Every callback gets connset_opts.arg.
 */
struct conn_handler {
	/*
	 * The peer's identity is bound (uid, gid, pid, pidfd, groups): the
	 * layer above may name the supervised row it belongs to
	 * (conn_set_row), before the slots are shared out.  May be NULL.
	 */
	void	(*opened)(struct conn *, void *arg);
	/*
	 * One request line, without its '\n'.  Reply now (conn_reply), or
	 * conn_pause() and reply later, then conn_resume().
	 */
	void	(*line)(struct conn *, const char *, size_t, void *arg);
	/*
	 * cn is about to be freed (nothing holds a ref): forget every
	 * pointer to it.  May be NULL.
	 */
	void	(*gone)(struct conn *, void *arg);
};

struct connset_opts {
	struct ev_loop			*loop;
	const struct gtd_limits		*lim;	/* borrowed: the live limits */
	const struct conn_handler	*handler;
	void				*arg;
	/* A pidfd of pid, or -1 with errno (the child_ops seam's). */
	int				(*pidfd_open)(pid_t);
};

struct conn {
	struct connset		*set;		/* weak: the owner */
	int			 fd;		/* owned */
	ev_io			 rd;
	ev_io			 wr;
	ev_timer		 more;		/* rest of a batch, next turn */
	uid_t			 uid;		/* SO_PEERCRED */
	gid_t			 gid;
	pid_t			 pid;		/* logs only: see pidfd */
	int			 pidfd;		/* owned: the peer, or -1 */
	gid_t			*groups;	/* owned: supplementary */
	int			 ngroups;
	char			*child;		/* owned: its row at connect */

	char			*in;		/* owned; inlen bytes used */
	size_t			 inlen;
	size_t			 insize;
	size_t			 scanned;	/* no '\n' before this */
	char			*out;		/* owned; unsent replies */
	size_t			 outoff;
	size_t			 outlen;
	size_t			 outsize;
	size_t			 flush_at;	/* unsent: send first */

	int			 refs;
	int			 flags;
#define CONN_DEAD	0x1		/* closed; freed once refs == 0 */
#define CONN_EOF	0x2		/* the peer sent EOF */
#define CONN_CLOSING	0x4		/* close once the output is sent */
#define CONN_HUPWATCH	0x8		/* fd in the set's hupfd
					 * (half-closed subscriber) */
#define CONN_PAUSED	0x10		/* a request waits: no framing */
#define CONN_KEEP	0x20		/* outlives the peer's EOF */
	TAILQ_ENTRY(conn)	 entry;
};

/* A set with no connection yet.  Owned; connset_free frees it. */
struct connset	*connset_new(const struct connset_opts *);
/*
 * Close and free every connection (each gets the handler's gone first),
 * and the hangup watch.  NULL is fine.
 */
void		 connset_free(struct connset *);
/* Free the dead connections nobody holds (the reaper). */
void		 connset_reap(struct connset *);
int		 connset_count(const struct connset *);	/* open now */
uint64_t	 connset_accepted(const struct connset *);	/* ever */
size_t		 connset_queued(const struct connset *);	/* unsent bytes */
/* Is any connection closed but not yet freed (tests)? */
bool		 connset_has_dead(const struct connset *);
/*
 * The first open (dead false) or closed, not yet freed (dead true)
 * connection, or NULL; TAILQ_NEXT(cn, entry) goes on (tests, fuzzers).
 */
struct conn	*connset_first(const struct connset *, bool dead);
/* As if other connections queued delta more bytes (tests). */
void		 connset_test_charge(struct connset *, long delta);

/*
 * Take fd (connected, non-blocking) and start reading.  The peer's
 * identity is bound now: uid, gid and pid (SO_PEERCRED), a pidfd of that
 * process (SO_PEERPIDFD, else pidfd_open and a start time older than the
 * accept; none if the peer is gone already), its supplementary groups
 * (kept only if the pidfd shows it still alive after reading them); then
 * the handler's opened runs.
 */
struct conn	*conn_new(struct connset *, int fd);
/*
 * An accepted socket: refused at once (a limit line, best effort) when
 * every slot is taken; otherwise conn_new, and the slots are shared out
 * by class (conn_admit), refusing the connection if it is over one.
 */
void		 conn_accept(struct connset *, int fd);
/* Root or gtd's own user: always admin. */
bool		 conn_privileged(const struct conn *);
/*
 * Is the process that connected still alive?  While it is, its pid is
 * its own: what was read from /proc about that pid was about the peer.
 */
bool		 conn_peer_alive(const struct conn *);
/* The supervised row the peer belongs to (slot counting); copied. */
void		 conn_set_row(struct conn *, const char *name);
/*
 * May the new connection cn stay?  NULL, or the name of the limit it hit
 * (max_connections, max_connections_per_uid) and *cause (freed by the
 * caller).  Root and gtd's user may take every slot; a supervised child
 * all but the last min(GT_CONN_ROOT_RESERVE, max_connections / 8), and
 * at most max_connections_per_uid for its row; any other peer all but
 * the last reserved_connections (max_connections / 16 by default, and
 * never fewer than the children leave), at most max_connections_per_uid
 * (max_connections / 8 by default) for its uid.
 */
const char	*conn_admit(struct conn *, char **cause);
/* Send a limit error (best effort) and close. */
void		 conn_refuse(struct conn *, const char *limit, const char *msg);
/* Stop everything and queue the connection for the reaper. */
void		 conn_close(struct conn *);
bool		 conn_is_dead(const struct conn *);
/*
 * Output is bounded per connection (lim.max_output_bytes of unsent
 * lines) and for the daemon (GT_OUTPUT_TOTAL_MAX).  conn_reply_max() is
 * the longest line (without '\n') that fits both caps on its own now.
 */
size_t		 conn_reply_max(struct conn *);
/* Bytes queued on cn, not yet sent. */
size_t		 conn_unsent(const struct conn *);
/*
 * Queue a request's reply line (without '\n'), copying it.  The caller
 * made it fit (conn_reply_max), or it is a short error: it is queued.
 * Behind unsent lines that take it past a cap, the peer does not read:
 * the connection is closed instead.
 */
void		 conn_reply(struct conn *, const char *, size_t);
/* Queue an event line; past either cap the connection is closed. */
void		 conn_event(struct conn *, const char *, size_t);
/* Write what is queued now (events: no reply batch will flush them). */
void		 conn_push(struct conn *);
/* Queue an error reply with no request context (too_big, limit). */
void		 conn_error(struct conn *, const char *code, const char *msg);
/*
 * A request waits (CMD_WAIT): frame no more lines until conn_resume().
 * conn_resume continues with the buffered lines from the loop, never
 * from the caller's stack (it may be deep in a child's callbacks).
 */
void		 conn_pause(struct conn *);
void		 conn_resume(struct conn *);
/*
 * A subscriber (or log follower) outlives the peer's EOF: it stays open
 * for its events until the peer closes (set by event.c).
 */
void		 conn_keep_open(struct conn *);
bool		 conn_kept_open(const struct conn *);
void		 conn_ref(struct conn *);
void		 conn_unref(struct conn *);
/*
 * Put len bytes back in front of what cn reads next (a re-exec hands
 * over what a connection had read but not framed yet); they are framed
 * from the loop.  At most max_request_bytes + 1 are kept.
 */
void		 conn_unread(struct conn *, const char *, size_t len);

#endif /* GT_CONN_H */
