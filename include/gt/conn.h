/* SPDX-License-Identifier: MIT */
/*
 * conn: one client connection.  Reads into a bounded buffer, frames
 * lines, hands them to cmd_dispatch one at a time (a waiting request
 * holds back the ones behind it), queues replies in a bounded output
 * buffer.  conn_close() is deferred: the reaper frees the connection
 * once no request holds a ref.  Logs its own disconnect decisions.
 */
#ifndef GT_CONN_H
#define GT_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/queue.h>
#include <sys/types.h>

#include <ev.h>

struct child;
struct cmd_ctx;
struct event_sub;
struct gtd;

struct conn {
	struct gtd		*gtd;		/* weak */
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

	struct cmd_ctx		*busy;		/* the waiting request */
	struct event_sub	*sub;		/* owned by the events */
	int			 refs;
	int			 flags;
#define CONN_DEAD	0x1		/* closed; freed once refs == 0 */
#define CONN_EOF	0x2		/* the peer sent EOF */
#define CONN_CLOSING	0x4		/* close once the output is sent */
#define CONN_HUPWATCH	0x8		/* fd in gtd's hupfd (half-closed
					 * subscriber) */
	TAILQ_ENTRY(conn)	 entry;
};

/*
 * Take fd (connected, non-blocking) and start reading.  The peer's
 * identity is bound now: uid, gid and pid (SO_PEERCRED), a pidfd of that
 * process (SO_PEERPIDFD, else pidfd_open and a start time older than the
 * accept; none if the peer is gone already), its supplementary groups
 * (kept only if the pidfd shows it still alive after reading them), and
 * the row it belongs to, if it is a supervised child (for counting).
 */
struct conn	*conn_new(struct gtd *, int fd);
/* Root or gtd's own user: always admin. */
bool		 conn_privileged(const struct conn *);
/*
 * The supervised child the peer process is (or is in the session or
 * process group of) now, or NULL: never when that process is gone, so a
 * reused pid is never taken for the peer.  Borrowed.
 */
struct child	*conn_peer_child(struct conn *);
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
/*
 * Output is bounded per connection (lim.max_output_bytes of unsent
 * lines) and for the daemon (GT_OUTPUT_TOTAL_MAX).  conn_reply_max() is
 * the longest line (without '\n') that fits both caps on its own now.
 */
size_t		 conn_reply_max(struct conn *);
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
/* The waiting request finished: continue with the buffered lines. */
void		 conn_resume(struct conn *);
void		 conn_ref(struct conn *);
void		 conn_unref(struct conn *);
/* Free the dead connections nobody holds (the reaper). */
void		 conn_reap_dead(struct gtd *);
/* Close and free every connection, and the hangup watch (gtd_free). */
void		 conn_free_all(struct gtd *);

#endif /* GT_CONN_H */
