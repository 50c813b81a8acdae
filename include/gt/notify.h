/* SPDX-License-Identifier: MIT */
/*
 * notify: gtd's sd_notify receiver for children with ready "notify".
 * One datagram socket (abstract namespace) for the zone; the sender is
 * identified by SO_PASSCRED, never by anything in the message.  Logs
 * what it drops (debug level).
 */
#ifndef GT_NOTIFY_H
#define GT_NOTIFY_H

struct gtd;
struct notify;

/* Bind the socket and watch it; sets g->notify_path.  NULL + *cause. */
struct notify	*notify_new(struct gtd *, char **cause);
void		 notify_free(struct notify *);		/* NULL is fine */

/*
 * Apply one datagram from pid: READY=1, STATUS=..., WATCHDOG=1,
 * STOPPING=1 lines (the rest is ignored).  The test entry point.
 */
void		 notify_handle(struct gtd *, pid_t pid, const char *msg,
		    size_t len);

#endif /* GT_NOTIFY_H */
