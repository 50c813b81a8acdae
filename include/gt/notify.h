/* SPDX-License-Identifier: MIT */
/*
 * notify: gtd's sd_notify receiver for children with ready "notify" or
 * a watchdog.  Each incarnation of such a child gets a datagram socket
 * of its own, in the abstract namespace under a random name ("@gtd/"
 * and 16 hex digits, drawn again if taken): nobody can take a name
 * before gtd does, so nobody can keep gtd or a child from starting, and
 * a datagram belongs to the child whose socket it came in on.  Who sent
 * it is checked too (notify_sender_ok).  Logs what it drops (debug
 * level).  Never blocks.
 */
#ifndef GT_NOTIFY_H
#define GT_NOTIFY_H

#include <stdbool.h>
#include <sys/types.h>

struct child;
struct gtd;
struct notify;

/* The sender of a datagram, as the kernel gave it. */
struct notify_sender {
	pid_t	pid;		/* SCM_CREDENTIALS; 0 if none */
	uid_t	uid;
	int	pidfd;		/* SCM_PIDFD (borrowed), or -1 */
};

/* The receiver; binds nothing yet.  NULL + *cause only on failure. */
struct notify	*notify_new(struct gtd *, char **cause);
void		 notify_free(struct notify *);		/* NULL is fine */

/*
 * A new socket for c's incarnation about to start, replacing any it
 * had.  0, or -1 with errno (the start fails: the child could never
 * say it is ready).  n NULL: nothing to do (unit tests).
 */
int		 notify_child_open(struct notify *, struct child *);
/* Its NOTIFY_SOCKET value ("@gtd/..."), or NULL if it has none. */
const char	*notify_child_path(struct notify *, const struct child *);
/* c's incarnation is over: its socket goes.  n NULL is fine. */
void		 notify_child_close(struct notify *, const struct child *);

/*
 * May this sender speak for c?  c's own process, or a process in its
 * session or process group (a shell script's systemd-notify), read from
 * /proc while it lives (and made sure of with its pidfd, so a reused
 * pid is never mistaken for it); a sender that is already gone (reaped
 * before gtd read its datagram) if it ran as c's user: the datagram
 * came in on c's own socket.  The test entry point of the rule.
 */
bool		 notify_sender_ok(const struct child *,
		    const struct notify_sender *);

/*
 * Apply one datagram to c: READY=1, STATUS=..., WATCHDOG=1, STOPPING=1
 * lines (the rest is ignored).  The test entry point.
 */
void		 notify_handle(struct gtd *, struct child *, const char *msg,
		    size_t len);

/*
 * Re-exec: c's socket (fd borrowed, its path in *path), or -1: none;
 * and a saved socket back for c (fd taken, path "@gtd/..."): 0, or -1
 * (fd closed).
 */
int		 notify_child_fd(struct notify *, const struct child *,
		    const char **path);
int		 notify_child_take(struct notify *, struct child *, int fd,
		    const char *path);

#endif /* GT_NOTIFY_H */
