/* SPDX-License-Identifier: MIT */
/*
 * server: the listening Unix socket.  Refuses to steal a live gtd's
 * socket, removes a stale one, creates the socket with its final mode
 * before it listens, caps connections, and pauses accept on EMFILE/ENFILE
 * with a timer instead of spinning.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "gt/compat.h"
#include "gt/conn.h"
#include "gt/gtd.h"
#include "gt/log.h"
#include "gt/protocol.h"
#include "gt/server.h"
#include "gt/xmalloc.h"

#define SERVER_ACCEPT_BURST	64
#define SERVER_PAUSE_S		0.1	/* after EMFILE */

struct server {
	struct gtd	*gtd;		/* weak */
	int		 fd;		/* owned */
	char		*path;		/* owned; unlinked at free */
	ev_io		 acc;
	ev_timer	 pause;
};

static void	server_accept_cb(struct ev_loop *, ev_io *, int);
static void	server_pause_cb(struct ev_loop *, ev_timer *, int);

/* mkdir -p of path's directory (mode 0755). */
static int
server_mkdirs(const char *path)
{
	char	*dir, *p;

	dir = xstrdup(path);
	if ((p = strrchr(dir, '/')) == NULL || p == dir) {
		free(dir);
		return (0);
	}
	*p = '\0';
	for (p = dir + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
			free(dir);
			return (-1);
		}
		*p = c;
		if (c == '\0')
			break;
	}
	free(dir);
	return (0);
}

/* Is a live server answering on sun?  1 yes, 0 no (stale or absent). */
static int
server_alive(const struct sockaddr_un *sun)
{
	int	fd, alive;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (0);
	alive = connect(fd, (const struct sockaddr *)sun, sizeof *sun) == 0;
	close(fd);
	return (alive);
}

int
server_bind(const char *path, mode_t mode, gid_t gid, char **cause)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	mode_t			 old;
	int			 fd = -1, saved;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof sun.sun_path) >=
	    sizeof sun.sun_path) {
		errno = ENAMETOOLONG;	/* never truncate silently */
		goto fail;
	}
	if (server_mkdirs(path) == -1)
		goto fail;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			errno = EEXIST;
			goto fail;
		}
		if (server_alive(&sun)) {
			xasprintf(cause, "%s: another gtd is running there",
			    path);
			return (-1);
		}
		if (unlink(path) == -1)		/* stale */
			goto fail;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		goto fail;
	old = umask(0777 & ~mode);	/* the mode holds from bind on */
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		saved = errno;
		umask(old);
		errno = saved;
		goto fail;
	}
	umask(old);
	/* Owner, group and mode are right before anyone can connect. */
	if (chmod(path, mode) == -1 || (gid != (gid_t)-1 &&
	    chown(path, (uid_t)-1, gid) == -1) || listen(fd, 512) == -1)
		goto fail;
	return (fd);
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	xasprintf(cause, "%s: %s", path, strerror(saved));
	return (-1);
}

struct server *
server_new(struct gtd *g, int fd, const char *path)
{
	struct server	*s;

	s = xcalloc(1, sizeof *s);
	s->gtd = g;
	s->fd = fd;
	s->path = path == NULL ? NULL : xstrdup(path);
	(void)fcntl(fd, F_SETFL, O_NONBLOCK);	/* systemd's may block */
	ev_io_init(&s->acc, server_accept_cb, fd, EV_READ);
	s->acc.data = s;
	ev_io_start(g->loop, &s->acc);
	ev_init(&s->pause, server_pause_cb);
	s->pause.data = s;
	return (s);
}

void
server_free(struct server *s)
{
	if (s == NULL)
		return;
	ev_io_stop(s->gtd->loop, &s->acc);
	ev_timer_stop(s->gtd->loop, &s->pause);
	close(s->fd);
	if (s->path != NULL)
		(void)unlink(s->path);	/* gone already: fine */
	free(s->path);
	free(s);
}

/* Over every cap: one `limit` line, best effort, then close. */
static void
server_refuse(struct gtd *g, int fd)
{
	char	buf[160];
	int	n;

	n = snprintf(buf, sizeof buf, "{\"ok\":false,\"error\":\"%s\","
	    "\"message\":\"max_connections (%d) reached\",\"limit\":"
	    "\"max_connections\"}\n", GT_E_LIMIT, g->lim.max_connections);
	(void)!send(fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

/*
 * Take one accepted socket.  With every slot taken it is refused at
 * once; otherwise the connection learns who the peer is and the slots
 * are shared out by class (conn_admit).
 */
static void
server_take(struct gtd *g, int fd)
{
	struct conn	*cn;
	const char	*limit;
	char		*cause = NULL;

	if (g->nconns >= g->lim.max_connections) {
		server_refuse(g, fd);
		return;
	}
	cn = conn_new(g, fd);
	if ((limit = conn_admit(cn, &cause)) != NULL) {
		log_debug("connection from uid %u pid %d refused: %s",
		    (unsigned)cn->uid, (int)cn->pid, cause);
		conn_refuse(cn, limit, cause);
		free(cause);
	}
}

static void
server_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct server	*s = w->data;
	struct gtd	*g = s->gtd;
	int		 fd, i;

	for (i = 0; i < SERVER_ACCEPT_BURST; i++) {
		fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE) {
				log_warn("%s: accept, pausing", __func__);
				ev_io_stop(loop, &s->acc);
				ev_timer_set(&s->pause, SERVER_PAUSE_S, 0.);
				ev_timer_start(loop, &s->pause);
			} else if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("%s: accept", __func__);
			return;
		}
		server_take(g, fd);
	}
}

static void
server_pause_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct server	*s = w->data;

	ev_io_start(loop, &s->acc);
}
