/* SPDX-License-Identifier: MIT */
/*
 * server: the listening socket.  Binds (after checking that no live gtd
 * owns the path, removing a stale file), accepts with accept4 and hands
 * each socket to the transport (conn_accept), and pauses accepting on
 * EMFILE instead of spinning.  Part of the transport: knows only the
 * loop and the connset.
 */
#ifndef GT_SERVER_H
#define GT_SERVER_H

#include <stdbool.h>

#include <sys/types.h>

#include <ev.h>

struct connset;
struct server;

/*
 * Bind and listen on path with the given mode (and group, unless
 * (gid_t)-1).  The fd, or -1 and *cause (xasprintf'd).  Creates the
 * socket's directory if missing (0750 or tighter: search rights only
 * where mode lets the group or others connect, its group gid), and
 * refuses one that gtd's user does not own or that group or others may
 * write, or a directory on the way that someone other than root or
 * gtd's user could change (protocol section 7); *cause names the
 * directory, its owner and mode.
 */
int		 server_bind(const char *path, mode_t mode, gid_t gid,
		    char **cause);
/*
 * Serve fd (bound and listening, owned from now on): every accepted
 * socket goes to conn_accept(conns).  path: the file to unlink at the
 * end, or NULL (systemd's socket).
 */
struct server	*server_new(struct ev_loop *, struct connset *conns, int fd,
		    const char *path);
/* The listening fd (borrowed), and whether gtd bound its path (reexec). */
int		 server_fd(const struct server *);
bool		 server_owns_path(const struct server *);
/* Stop accepting, close the fd, unlink the path if we bound it. */
void		 server_free(struct server *);	/* NULL is fine */

#endif /* GT_SERVER_H */
