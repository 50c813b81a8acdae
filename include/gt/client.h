/* SPDX-License-Identifier: MIT */
/*
 * client: the client side of the control socket, shared by gtctl and the
 * e2e tests (and gtd itself, for the default socket path).  Blocking I/O
 * with deadlines; never logs (errors come back as -1/NULL with errno set
 * or a *cause string the caller frees).
 */
#ifndef GT_CLIENT_H
#define GT_CLIENT_H

#include <stddef.h>

struct client;				/* opaque: defined in client.c */

/*
 * The default socket path for a zone (protocol §1): /run/gtd/ZONE.sock for
 * root, $XDG_RUNTIME_DIR/gtd/ZONE.sock for other users, and
 * /run/gtd/ZONE.sock (the system's zone) for a user whose
 * XDG_RUNTIME_DIR is not an absolute path.  Returns an xmalloc'd string.
 */
char		*client_default_path(const char *zone);

/*
 * The socket a client should use: explicit (may be NULL), else
 * $GTD_SOCKET, else client_default_path(zone).  xmalloc'd.
 */
char		*client_socket_path(const char *explicit_path,
		    const char *zone);

/*
 * The socket gtctl uses (gtctl(1) FILES): sflag (-s) if given; else, when
 * no zone was given (-z), $GTD_SOCKET if set; else
 * client_default_path(zflag), and for a user other than root who has no
 * socket there, /run/gtd/ZONE.sock if that is a socket (the system zone
 * as gtd@.service runs it).  Explicit options always beat the
 * environment.  xmalloc'd.
 */
char		*client_user_path(const char *sflag, const char *zflag);

/*
 * Connect to the Unix socket at path.  Returns an owned client, or NULL
 * with *cause set ("PATH: No such file or directory").  The server must
 * run as root, as the caller's user or as $GTD_SOCKET_OWNER (a user name
 * or uid): a socket another user put there is refused before anything
 * is sent (errno EPERM; SO_PEERCRED, the credentials of its listen(2)).
 */
struct client	*client_connect(const char *path, char **cause);
void		 client_free(struct client *);		/* NULL is fine */
int		 client_fd(struct client *);

/*
 * Send len bytes of line and a '\n' (the caller's line holds no newline).
 * 0, or -1 with errno set (EPIPE when gtd closed the connection).
 */
int		 client_send(struct client *, const char *line, size_t len);

/*
 * Read one reply line, without its '\n'.  Waits at most timeout_ms
 * (-1 = forever).  Returns a NUL-terminated line borrowed until the next
 * call, with its length in *lenp if lenp is not NULL; or NULL with errno
 * ETIMEDOUT, ECONNRESET (EOF before a full line) or another errno.
 */
const char	*client_recv(struct client *, int timeout_ms, size_t *lenp);

#endif /* GT_CLIENT_H */
