/* SPDX-License-Identifier: MIT */
/*
 * server: the listening Unix socket.  Refuses to steal a live gtd's
 * socket, removes a stale one, creates the socket with its final mode
 * before it listens, hands what it accepts to the transport (conn_accept
 * caps the connections), and pauses accept on EMFILE/ENFILE with a timer
 * instead of spinning.  The socket's directory is reached
 * through directory descriptors and checked on the way (no other user may
 * change it), and every operation on the socket's name is relative to
 * the directory checked, never to a path that could be swapped.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "gt/compat.h"
#include "gt/conn.h"
#include "gt/log.h"
#include "gt/protocol.h"
#include "gt/server.h"
#include "gt/spawn.h"
#include "gt/xmalloc.h"

#define SERVER_ACCEPT_BURST	64
#define SERVER_PAUSE_S		0.1	/* after EMFILE */

struct server {
	struct ev_loop	*loop;
	struct connset	*conns;		/* weak: takes what is accepted */
	int		 fd;		/* owned */
	char		*path;		/* owned; unlinked at free */
	dev_t		 dev;		/* the socket file we bound */
	ino_t		 ino;
	ev_io		 acc;
	ev_timer	 pause;
};

static void	server_accept_cb(struct ev_loop *, ev_io *, int);
static void	server_pause_cb(struct ev_loop *, ev_timer *, int);

/*
 * The socket's directory, and every directory on the way to it, must be
 * out of other users' reach (protocol section 7): whoever could change
 * an entry in one of them could swap the socket, or the directory, for
 * a link of theirs between our bind and chmod.  A directory on the way
 * may belong to root or to us, and be writable by others only if it is
 * sticky (/tmp); the socket's own directory must be ours and writable by
 * nobody else.  Symlinks on the way are followed only from directories
 * that passed (only their owners could have put them there).
 */
#define SERVER_MAX_LINKS	40

/* A directory gtd may trust, or -1 with *cause naming what is wrong. */
static int
server_dir_check(int fd, const char *shown, bool last, char **cause)
{
	struct passwd	*pw;
	struct stat	 st;
	uid_t		 me = geteuid();
	char		 owner[64];

	if (fstat(fd, &st) == -1) {
		xasprintf(cause, "%s: %s", shown, strerror(errno));
		return (-1);
	}
	if (!S_ISDIR(st.st_mode)) {
		xasprintf(cause, "%s: %s", shown, strerror(ENOTDIR));
		return (-1);
	}
	if (last ? st.st_uid == me && (st.st_mode & 022) == 0 :
	    (st.st_uid == 0 || st.st_uid == me) && ((st.st_mode & 022) == 0 ||
	    (st.st_mode & S_ISVTX)))
		return (0);
	if ((pw = getpwuid(st.st_uid)) != NULL)
		snprintf(owner, sizeof owner, "%s", pw->pw_name);
	else
		snprintf(owner, sizeof owner, "uid %u", (unsigned)st.st_uid);
	if (last)
		xasprintf(cause, "socket directory %s is owned by %s (uid %u) "
		    "with mode %04o: it must be owned by uid %u and not "
		    "writable by group or others (remove it, or choose "
		    "another socket path)", shown, owner, (unsigned)st.st_uid,
		    (unsigned)(st.st_mode & 07777), (unsigned)me);
	else
		xasprintf(cause, "%s, on the way to the socket, is owned by "
		    "%s (uid %u) with mode %04o: it must be owned by root or "
		    "uid %u, and not writable by group or others unless "
		    "sticky", shown, owner, (unsigned)st.st_uid,
		    (unsigned)(st.st_mode & 07777), (unsigned)me);
	return (-1);
}

/*
 * The mode of a socket directory gtd creates: 0750 or tighter, with
 * search rights for the group and for others only if the socket's mode
 * lets them connect at all (others get x, never r).
 */
static mode_t
server_dir_mode(mode_t sockmode)
{
	return (0700 | (sockmode & 0060 ? 0050 : 0) |
	    (sockmode & 0006 ? 0001 : 0));
}

/* A new string: a + "/" + b, without doubling the slash. */
static char *
server_join(const char *a, const char *b)
{
	char	*s;

	xasprintf(&s, "%s%s%s", a, a[strlen(a) - 1] == '/' ? "" : "/", b);
	return (s);
}

/*
 * One directory of the walk: name under cur, made if missing (last: the
 * socket's directory, dmode and gid; else 0755).  The fd (O_PATH, not
 * following a symlink), or -1 with errno.
 */
static int
server_walk_open(int cur, const char *name, bool last, mode_t dmode,
    gid_t gid)
{
	int	fd;
	bool	made = false;

	fd = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd != -1 || errno != ENOENT)
		return (fd);
	if (mkdirat(cur, name, last ? dmode : 0755) == 0)
		made = true;
	else if (errno != EEXIST)
		return (-1);
	/* Ours, in a directory only we and root may change: set it up. */
	if (made && last && ((gid != (gid_t)-1 && fchownat(cur, name,
	    (uid_t)-1, gid, AT_SYMLINK_NOFOLLOW) == -1) ||
	    fchmodat(cur, name, dmode, 0) == -1))
		return (-1);
	return (openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC));
}

/* The walk of server_opendir. */
struct server_walk {
	int	 cur;		/* O_PATH: the directory reached */
	char	*shown;		/* its path, for messages */
	char	*rest;		/* still to walk */
	int	 links;		/* symlinks followed */
};

/* Step into name (a directory, opened as fd). */
static void
server_walk_enter(struct server_walk *w, int fd, const char *name)
{
	char	*shown = server_join(w->shown, name);

	free(w->shown);
	w->shown = shown;
	close(w->cur);
	w->cur = fd;
}

/*
 * A symlink at fd, in a directory that passed: walk its target instead,
 * then what was left after it (after).
 */
static int
server_walk_link(struct server_walk *w, int fd, const char *after)
{
	char	 target[PATH_MAX], *rest;
	ssize_t	 n;

	n = readlinkat(fd, "", target, sizeof target - 1);
	close(fd);
	if (n <= 0 || ++w->links > SERVER_MAX_LINKS) {
		if (n == 0 || w->links > SERVER_MAX_LINKS)
			errno = ELOOP;
		return (-1);
	}
	target[n] = '\0';
	if (target[0] == '/') {
		close(w->cur);
		if ((w->cur = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) ==
		    -1)
			return (-1);
		free(w->shown);
		w->shown = xstrdup("/");
	}
	xasprintf(&rest, "%s/%s", target, after);
	free(w->rest);
	w->rest = rest;
	return (0);
}

/*
 * One component of w->rest: enter it (following a symlink, creating a
 * missing directory).  1 when the walk is over, 0 to go on, -1 with
 * errno or (errno 0) *cause.
 */
static int
server_walk_next(struct server_walk *w, mode_t dmode, gid_t gid,
    char **cause)
{
	struct stat	 st;
	char		*p, *name, *next;
	int		 fd;
	bool		 last;

	for (p = w->rest; *p == '/'; p++)
		;
	if (*p == '\0')
		return (1);
	name = p;
	if ((next = strchr(p, '/')) != NULL)
		*next++ = '\0';
	else
		next = p + strlen(p);
	last = next[strspn(next, "/")] == '\0';
	if (strcmp(name, ".") != 0) {
		if (server_dir_check(w->cur, w->shown, false, cause) == -1) {
			errno = 0;
			return (-1);
		}
		if ((fd = server_walk_open(w->cur, name, last, dmode,
		    gid)) == -1)
			goto fail;
		if (fstat(fd, &st) == -1) {
			close(fd);
			goto fail;
		}
		if (S_ISLNK(st.st_mode))
			return (server_walk_link(w, fd, next));
		server_walk_enter(w, fd, name);
	}
	memmove(w->rest, next, strlen(next) + 1);
	return (0);
fail:
	p = server_join(w->shown, name);
	free(w->shown);
	w->shown = p;
	return (-1);
}

/*
 * Open the socket's directory dir (absolute), creating what is missing,
 * one component at a time and checking each directory as it is entered
 * (server_dir_check).  An O_PATH fd, or -1 with *cause.
 */
static int
server_opendir(const char *dir, mode_t sockmode, gid_t gid, char **cause)
{
	struct server_walk	 w = { .cur = -1 };
	int			 rc, fd = -1;

	w.shown = xstrdup("/");
	w.rest = xstrdup(dir);
	if ((w.cur = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		rc = -1;
	else
		while ((rc = server_walk_next(&w, server_dir_mode(sockmode),
		    gid, cause)) == 0)
			;
	if (rc == 1 && server_dir_check(w.cur, w.shown, true, cause) == 0) {
		fd = w.cur;
		w.cur = -1;
	} else if (rc == -1 && errno != 0)
		xasprintf(cause, "%s: %s", w.shown, strerror(errno));
	if (w.cur != -1)
		close(w.cur);
	free(w.shown);
	free(w.rest);
	return (fd);
}

/*
 * Run fn(fd, name) with dir as the working directory, so that a path
 * of one component names a file in exactly that directory (bind(2) and
 * connect(2) take no directory fd).  Its result, errno kept.
 */
static int
server_in_dir(int dirfd, int (*fn)(int, const char *), int fd,
    const char *name)
{
	int	here, rc, saved;

	if ((here = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		return (-1);
	if (fchdir(dirfd) == -1) {
		saved = errno;
		close(here);
		errno = saved;
		return (-1);
	}
	rc = fn(fd, name);
	saved = errno;
	if (fchdir(here) == -1)
		fatal("%s: fchdir back", __func__);
	close(here);
	errno = saved;
	return (rc);
}

static int
server_sun(struct sockaddr_un *sun, const char *name)
{
	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	if (strlcpy(sun->sun_path, name, sizeof sun->sun_path) >=
	    sizeof sun->sun_path) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	return (0);
}

static int
server_bind_cb(int fd, const char *name)
{
	struct sockaddr_un	sun;

	if (server_sun(&sun, name) == -1)
		return (-1);
	return (bind(fd, (struct sockaddr *)&sun, sizeof sun));
}

static int
server_connect_cb(int fd, const char *name)
{
	struct sockaddr_un	sun;

	if (server_sun(&sun, name) == -1)
		return (-1);
	return (connect(fd, (struct sockaddr *)&sun, sizeof sun));
}

/* Is a live server answering on name in dirfd?  1 yes, 0 no. */
static int
server_alive(int dirfd, const char *name)
{
	int	fd, alive;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (0);
	alive = server_in_dir(dirfd, server_connect_cb, fd, name) == 0;
	close(fd);
	return (alive);
}

/* Remove a stale socket at name; refuse anything else.  0 or -1. */
static int
server_clear(int dirfd, const char *path, const char *name, char **cause)
{
	struct stat	st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return (errno == ENOENT ? 0 : -1);
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST;		/* never remove another file */
		return (-1);
	}
	if (server_alive(dirfd, name)) {
		xasprintf(cause, "%s: another gtd is running there", path);
		return (-1);
	}
	return (unlinkat(dirfd, name, 0));
}

int
server_bind(const char *path, mode_t mode, gid_t gid, char **cause)
{
	struct sockaddr_un	 sun;
	const char		*name;
	char			*dir, *abs = NULL, cwd[PATH_MAX], tmp[32];
	mode_t			 old;
	int			 fd = -1, dirfd = -1, saved;
	bool			 bound = false;

	*cause = NULL;
	if (server_sun(&sun, path) == -1)	/* never truncate silently */
		goto fail;
	if (path[0] != '/') {
		if (getcwd(cwd, sizeof cwd) == NULL)
			goto fail;
		abs = server_join(cwd, path);
	}
	dir = xstrdup(abs != NULL ? abs : path);
	*strrchr(dir, '/') = '\0';
	name = strrchr(abs != NULL ? abs : path, '/') + 1;
	dirfd = server_opendir(*dir == '\0' ? "/" : dir, mode, gid, cause);
	free(dir);
	if (dirfd == -1 || server_clear(dirfd, path, name, cause) == -1)
		goto fail;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		goto fail;
	/*
	 * Bound under a temporary name, given its group and mode, listening,
	 * and only then renamed: whoever sees the socket can connect (a
	 * script that waits for the file never gets ECONNREFUSED).  Nobody
	 * else can change an entry of dirfd (server_opendir saw to it), so
	 * the names there are ours.
	 */
	(void)snprintf(tmp, sizeof tmp, ".gtd.%ld.new", (long)getpid());
	(void)unlinkat(dirfd, tmp, 0);		/* a crashed gtd's */
	old = umask(0777 & ~(mode & 0700));
	saved = server_in_dir(dirfd, server_bind_cb, fd, tmp);
	umask(old);
	if (saved == -1)
		goto fail;
	bound = true;
	if ((gid != (gid_t)-1 && fchownat(dirfd, tmp, (uid_t)-1, gid,
	    AT_SYMLINK_NOFOLLOW) == -1) || fchmodat(dirfd, tmp, mode, 0) ==
	    -1 || listen(fd, 512) == -1)
		goto fail;
	if (renameat2(dirfd, tmp, dirfd, name, RENAME_NOREPLACE) == -1) {
		if (errno == EEXIST && server_alive(dirfd, name))
			xasprintf(cause, "%s: another gtd is running there",
			    path);
		else if (errno == EINVAL &&	/* no RENAME_NOREPLACE here */
		    renameat(dirfd, tmp, dirfd, name) == 0)
			goto done;
		goto fail;
	}
done:
	close(dirfd);
	free(abs);
	return (fd);
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	if (bound)
		(void)unlinkat(dirfd, tmp, 0);
	if (dirfd != -1)
		close(dirfd);
	free(abs);
	if (*cause == NULL)
		xasprintf(cause, "%s: %s", path, strerror(saved));
	return (-1);
}

struct server *
server_new(struct ev_loop *loop, struct connset *conns, int fd,
    const char *path)
{
	struct server	*s;
	struct stat	 st;

	s = xcalloc(1, sizeof *s);
	s->loop = loop;
	s->conns = conns;
	s->fd = fd;
	s->path = path == NULL ? NULL : xstrdup(path);
	/* Which file is ours, so that server_free removes no other. */
	if (path != NULL && lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		s->dev = st.st_dev;
		s->ino = st.st_ino;
	}
	(void)fcntl(fd, F_SETFL, O_NONBLOCK);	/* systemd's may block */
	ev_io_init(&s->acc, server_accept_cb, fd, EV_READ);
	s->acc.data = s;
	ev_io_start(loop, &s->acc);
	ev_init(&s->pause, server_pause_cb);
	s->pause.data = s;
	return (s);
}

void
server_free(struct server *s)
{
	struct stat	st;

	if (s == NULL)
		return;
	ev_io_stop(s->loop, &s->acc);
	ev_timer_stop(s->loop, &s->pause);
	close(s->fd);
	if (s->path != NULL && lstat(s->path, &st) == 0 &&
	    st.st_dev == s->dev && st.st_ino == s->ino)
		(void)unlink(s->path);	/* gone already: fine */
	free(s->path);
	free(s);
}

static void
server_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct server	*s = w->data;
	int		 fd, i;

	for (i = 0; i < SERVER_ACCEPT_BURST; i++) {
		fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE) {
				log_warn("%s: accept, pausing", __func__);
				spawn_shrink();	/* its spare descriptors */
				ev_io_stop(loop, &s->acc);
				ev_timer_set(&s->pause, SERVER_PAUSE_S, 0.);
				ev_timer_start(loop, &s->pause);
			} else if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("%s: accept", __func__);
			return;
		}
		conn_accept(s->conns, fd);
	}
}

static void
server_pause_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct server	*s = w->data;

	ev_io_start(loop, &s->acc);
}

int
server_fd(const struct server *s)
{
	return (s->fd);
}

bool
server_owns_path(const struct server *s)
{
	return (s->path != NULL);
}
