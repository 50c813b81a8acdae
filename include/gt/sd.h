/* SPDX-License-Identifier: MIT */
/*
 * sd: the small parts of systemd's service protocols that gtd speaks for
 * itself, written without libsystemd: socket activation ($LISTEN_PID,
 * $LISTEN_FDS), notification datagrams to $NOTIFY_SOCKET, the watchdog
 * interval ($WATCHDOG_USEC, $WATCHDOG_PID) and the journal stream check
 * ($JOURNAL_STREAM).  Library-like: never logs, never blocks; failures
 * are -1 or NULL with errno set.
 *
 * The variables that describe gtd's own service (all but JOURNAL_STREAM)
 * are removed from the environment once read, so that nothing gtd starts
 * (children, hooks) inherits them; child.c filters them out of
 * children's environments as well.
 */
#ifndef GT_SD_H
#define GT_SD_H

#include <stdbool.h>
#include <stdint.h>

#define SD_LISTEN_FDS_START	3	/* the first fd systemd passes */

struct sd_notifier;

/*
 * Socket activation.  If $LISTEN_PID is our pid and $LISTEN_FDS is at
 * least 1, check that fd 3 is a listening AF_UNIX SOCK_STREAM socket,
 * set FD_CLOEXEC and O_NONBLOCK on it and store it in *fd (owned by the
 * caller from then on).  gtd serves one socket: further fds (4, 5, ...)
 * are closed.  Otherwise (no variables, or a $LISTEN_PID of another
 * process: an ancestor's leftovers) *fd is -1.  In every case
 * LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES are unset afterwards.
 * Returns 0, or -1 with *fd = -1 and errno: EINVAL for a malformed
 * variable or a socket that is not listening, EBADF when fd 3 is not
 * open, ENOTSOCK, EPROTOTYPE (not a stream socket), EAFNOSUPPORT (not
 * AF_UNIX); fds 4 and up are left alone then.
 */
int			 sd_listen_fd(int *fd);

/*
 * The filesystem path the Unix socket fd is bound to, xmalloc'd.  NULL
 * with EAFNOSUPPORT for an abstract or unnamed socket, or with
 * getsockname's errno.
 */
char			*sd_socket_path(int fd);

/*
 * A notifier for $NOTIFY_SOCKET: a filesystem path or, with a leading
 * '@', an abstract socket name.  Opens a non-blocking SOCK_DGRAM socket
 * (close-on-exec) and unsets NOTIFY_SOCKET.  NULL with errno ENOENT when
 * the variable is not set (not run by a service manager that listens),
 * EINVAL when it is empty or neither a path nor '@' (e.g. "vsock:"),
 * ENAMETOOLONG when it does not fit sun_path, or socket's errno; the
 * variable is unset in those cases too.
 */
struct sd_notifier	*sd_notifier_new(void);
void			 sd_notifier_free(struct sd_notifier *); /* NULL ok */
/* The address as $NOTIFY_SOCKET spelt it (borrowed), for messages. */
const char		*sd_notifier_address(struct sd_notifier *);

/*
 * Send msg ("READY=1\nSTATUS=..."; newline-separated assignments) as one
 * datagram, never blocking (MSG_DONTWAIT | MSG_NOSIGNAL).  n may be
 * NULL: nothing is sent.  0, or -1 with errno: EAGAIN when the receiver's
 * queue is full (the message is dropped), ECONNREFUSED or ENOENT when
 * nobody listens, EMSGSIZE for a message too big for one datagram.
 */
int			 sd_notify_send(struct sd_notifier *n, const char *msg);

/*
 * The watchdog interval systemd expects WATCHDOG=1 within: $WATCHDOG_USEC
 * in *usec, or 0 when it is not set or $WATCHDOG_PID names another
 * process.  Unsets both variables.  0, or -1 with errno EINVAL (and
 * *usec = 0) when one of them is malformed or WATCHDOG_USEC is 0.
 */
int			 sd_watchdog_usec(uint64_t *usec);

/*
 * Is fd (normally 2) the journal stream $JOURNAL_STREAM ("DEV:INODE")
 * describes?  Only then should log lines carry "<N>" priority prefixes:
 * the variable is inherited by processes whose stderr was redirected.
 * The variable is left alone (children that inherit gtd's stderr need it).
 */
bool			 sd_journal_stream(int fd);

#endif /* GT_SD_H */
