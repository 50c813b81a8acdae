/* SPDX-License-Identifier: MIT */
/*
 * sock: one libgtd connection to gtd's socket.  Requests are queued and
 * written as the socket takes them, replies are read as lines, and each
 * wait is bounded by a deadline (poll(2)); a wait for a reply also writes
 * what is queued, so pipelining never deadlocks against gtd's own output
 * cap.  Not thread-safe: the handle holds a mutex around each use.
 */
#ifndef LIBGTD_SOCK_H
#define LIBGTD_SOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define LS_REPLY_MAX	((size_t)256 << 20)	/* longest reply line */

struct lsock {
	int	 fd;			/* -1: not connected */
	char	*in;			/* received, from start to len */
	size_t	 start, len, scan, insize;
	char	*out;			/* queued, from off to len */
	size_t	 ooff, olen, osize;
	long	 pending;		/* requests without a reply yet */
	int	 broken;		/* a write failed: read what is left */
	uid_t	 peer;			/* the refused server's uid (EPERM) */
};

void	ls_init(struct lsock *);
void	ls_close(struct lsock *);	/* forget everything */
/*
 * Connect to path unless connected: 0, or -1 with errno.  EPERM: the
 * server listening there runs as a user other than root, us, or the one
 * $GTD_SOCKET_OWNER names (a name or a number); its uid is in peer.
 */
int	ls_connect(struct lsock *, const char *path);
/*
 * Queue line (len bytes, no newline) and a newline; write what fits.
 * When gtd closed its end (EPIPE, ECONNRESET) the connection stays, so
 * that ls_recv can still read what gtd said before it closed.
 */
int	ls_send(struct lsock *, const char *line, size_t len);
/*
 * The next reply line (borrowed until the next call; NUL-terminated, no
 * newline) and its length, waiting until deadline (CLOCK_MONOTONIC ms,
 * -1: forever; one already past still reads what has arrived).  NULL with errno: ETIMEDOUT, ECONNRESET (gtd closed),
 * EMSGSIZE (longer than LS_REPLY_MAX), ENOMEM, others.
 */
char	*ls_recv(struct lsock *, int64_t deadline, size_t *len);
int64_t	ls_now_ms(void);

#endif /* LIBGTD_SOCK_H */
