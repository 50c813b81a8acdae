/* SPDX-License-Identifier: MIT */
/*
 * client: the blocking client side of the control socket, linked into
 * gtctl and the e2e harness.  Connect, send one line, read one line, with
 * deadlines kept by poll(2).  EINTR is handled here and nowhere above.
 * Never logs: failures come back as -1/NULL with errno set, or as a
 * *cause string the caller frees.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gt/client.h"
#include "gt/protocol.h"
#include "gt/xmalloc.h"

#define CLIENT_READ_MIN	(64 * 1024)	/* free space before each read */

/*
 * One connection.  The client owns fd and buf.  buf[start..len) holds the
 * received bytes not yet handed out; the line the last client_recv()
 * returned lies before start and stays put until the next read needs the
 * room.  Bytes in [start..scan) are known to hold no '\n', so a reply of
 * tens of MiB that arrives in small reads is searched only once.
 */
struct client {
	int	 fd;
	char	*buf;
	size_t	 size;
	size_t	 start;
	size_t	 len;
	size_t	 scan;
};

static int	client_connect_fd(const char *);
static int	client_connect_wait(int);
static int64_t	client_now_ms(void);
static int	client_wait_readable(int, int64_t);
static int	client_fill(struct client *, int64_t);
static void	client_make_room(struct client *);

char *
client_default_path(const char *zone)
{
	const char	*xdg;
	char		*path;

	if (zone == NULL || *zone == '\0')
		zone = GT_DEFAULT_ZONE;
	/*
	 * A user without XDG_RUNTIME_DIR has no zone of its own (gtd refuses
	 * to pick a place for it: /tmp could be squatted), so the system's.
	 */
	if (geteuid() != 0 && (xdg = getenv("XDG_RUNTIME_DIR")) != NULL &&
	    *xdg == '/')
		xasprintf(&path, "%s/gtd/%s.sock", xdg, zone);
	else
		xasprintf(&path, "/run/gtd/%s.sock", zone);
	return (path);
}

char *
client_socket_path(const char *explicit_path, const char *zone)
{
	const char	*env;

	if (explicit_path != NULL && *explicit_path != '\0')
		return (xstrdup(explicit_path));
	if ((env = getenv("GTD_SOCKET")) != NULL && *env != '\0')
		return (xstrdup(env));
	return (client_default_path(zone));
}

/* Whether path names a socket (through symlinks, as connect(2) does). */
static bool
client_is_socket(const char *path)
{
	struct stat	st;

	return (stat(path, &st) == 0 && S_ISSOCK(st.st_mode));
}

char *
client_user_path(const char *sflag, const char *zflag)
{
	const char	*env;
	char		*path, *sys;

	if (sflag != NULL && *sflag != '\0')
		return (xstrdup(sflag));
	if (zflag == NULL && (env = getenv("GTD_SOCKET")) != NULL &&
	    *env != '\0')
		return (xstrdup(env));
	if (zflag == NULL && (env = getenv("GTD_ZONE")) != NULL &&
	    *env != '\0')
		zflag = env;		/* as libgtd's gtd_path */
	path = client_default_path(zflag);
	if (geteuid() == 0 || client_is_socket(path))
		return (path);
	/* No zone of this user's own: the system's, as systemd runs it. */
	xasprintf(&sys, "/run/gtd/%s.sock", zflag != NULL && *zflag != '\0' ?
	    zflag : GT_DEFAULT_ZONE);
	if (client_is_socket(sys)) {
		free(path);
		return (sys);
	}
	free(sys);
	return (path);
}

/*
 * A connect(2) interrupted by a signal goes on in the background; wait
 * for it to finish and fetch its result instead of calling it again.
 */
static int
client_connect_wait(int fd)
{
	struct pollfd	pfd = { .fd = fd, .events = POLLOUT };
	socklen_t	len = sizeof(int);
	int		err = 0;

	while (poll(&pfd, 1, -1) == -1) {
		if (errno != EINTR)
			return (-1);
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		return (-1);
	if (err != 0) {
		errno = err;
		return (-1);
	}
	return (0);
}

/* A connected stream socket, or -1 with errno set. */
static int
client_connect_fd(const char *path)
{
	struct sockaddr_un	sun;
	size_t			n;
	int			fd, saved;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if ((n = strlen(path)) >= sizeof sun.sun_path) {
		errno = ENAMETOOLONG;		/* never truncate silently */
		return (-1);
	}
	memcpy(sun.sun_path, path, n + 1);

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0)
		return (fd);
	if (errno == EINTR && client_connect_wait(fd) == 0)
		return (fd);
	saved = errno;				/* close() may clobber it */
	close(fd);
	errno = saved;
	return (-1);
}

/*
 * The uid $GTD_SOCKET_OWNER names (a user name or a number), or -1 when
 * it is unset or names nobody.
 */
static uid_t
client_trusted_uid(void)
{
	const char	*s = getenv("GTD_SOCKET_OWNER");
	struct passwd	*pw;
	char		*end;
	unsigned long	 id;

	if (s == NULL || *s == '\0')
		return ((uid_t)-1);
	if ((pw = getpwnam(s)) != NULL)
		return (pw->pw_uid);
	errno = 0;
	id = strtoul(s, &end, 10);
	if (*end != '\0' || errno != 0 || id >= (uid_t)-1)
		return ((uid_t)-1);
	return ((uid_t)id);
}

/*
 * Is the process listening on fd's peer one we may talk to: root, our
 * own user, or the one $GTD_SOCKET_OWNER names?  The kernel recorded
 * its credentials when it called listen(2) (SO_PEERCRED), so a socket
 * swapped in by another user is found even if it has the right name.
 */
static int
client_check_peer(int fd, const char *path, char **cause)
{
	struct ucred	 cr;
	socklen_t	 len = sizeof cr;
	struct passwd	*pw;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == -1)
		return (-1);
	if (cr.uid == 0 || cr.uid == geteuid() || cr.uid ==
	    client_trusted_uid())
		return (0);
	if (cause != NULL) {
		pw = getpwuid(cr.uid);
		xasprintf(cause, "%s: the server there runs as %s (uid %u), "
		    "neither root nor you: not talking to it (set "
		    "GTD_SOCKET_OWNER=%s to trust that user)", path,
		    pw != NULL ? pw->pw_name : "an unknown user",
		    (unsigned)cr.uid, pw != NULL ? pw->pw_name : "UID");
	}
	errno = EPERM;
	return (-1);
}

struct client *
client_connect(const char *path, char **cause)
{
	struct client	*c;
	int		 fd, saved;

	if ((fd = client_connect_fd(path)) == -1) {
		saved = errno;
		if (cause != NULL)
			xasprintf(cause, "%s: %s", path, strerror(saved));
		errno = saved;			/* for callers that look */
		return (NULL);
	}
	if (client_check_peer(fd, path, cause) == -1) {
		saved = errno;
		if (cause != NULL && saved != EPERM)
			xasprintf(cause, "%s: %s", path, strerror(saved));
		close(fd);
		errno = saved;
		return (NULL);
	}
	c = xcalloc(1, sizeof *c);
	c->fd = fd;
	c->size = 2 * CLIENT_READ_MIN;
	c->buf = xmalloc(c->size);
	return (c);
}

void
client_free(struct client *c)
{
	if (c == NULL)
		return;
	if (c->fd != -1)
		close(c->fd);
	free(c->buf);
	free(c);
}

int
client_fd(struct client *c)
{
	return (c->fd);
}

int
client_send(struct client *c, const char *line, size_t len)
{
	struct iovec	 iov[2];
	struct msghdr	 msg;
	ssize_t		 n;
	size_t		 i = 0;

	/* sendmsg() does not write through iov_base: casting away const. */
	iov[0].iov_base = (void *)(uintptr_t)line;
	iov[0].iov_len = len;
	iov[1].iov_base = (void *)(uintptr_t)"\n";
	iov[1].iov_len = 1;
	memset(&msg, 0, sizeof msg);
	while (i < 2) {
		msg.msg_iov = iov + i;
		msg.msg_iovlen = 2 - i;
		n = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		/* Partial send: advance over what went out. */
		for (; i < 2 && (size_t)n >= iov[i].iov_len; i++)
			n -= iov[i].iov_len;
		if (i < 2) {
			iov[i].iov_base = (char *)iov[i].iov_base + n;
			iov[i].iov_len -= n;
		}
	}
	return (0);
}

static int64_t
client_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Wait until fd is readable or the deadline (-1 = none) has passed. */
static int
client_wait_readable(int fd, int64_t deadline)
{
	struct pollfd	pfd = { .fd = fd, .events = POLLIN };
	int64_t		left;
	int		n;

	for (;;) {
		left = -1;
		if (deadline != -1) {
			left = deadline - client_now_ms();
			if (left < 0)
				left = 0;
			if (left > INT_MAX)
				left = INT_MAX;
		}
		if ((n = poll(&pfd, 1, (int)left)) == 1)
			return (0);
		if (n == 0) {
			errno = ETIMEDOUT;
			return (-1);
		}
		if (errno != EINTR)
			return (-1);
	}
}

/* Make room for at least CLIENT_READ_MIN more bytes at the end of buf. */
static void
client_make_room(struct client *c)
{
	if (c->size - c->len >= CLIENT_READ_MIN)
		return;
	if (c->start > 0) {
		/* Drop handed-out lines; amortised, as it happens only here. */
		memmove(c->buf, c->buf + c->start, c->len - c->start);
		c->len -= c->start;
		c->scan -= c->start;
		c->start = 0;
	}
	while (c->size - c->len < CLIENT_READ_MIN) {
		c->size *= 2;
		c->buf = xreallocarray(c->buf, 1, c->size);
	}
}

/* Read what is there into buf; -1 on error, EOF or timeout. */
static int
client_fill(struct client *c, int64_t deadline)
{
	ssize_t	n;

	client_make_room(c);
	for (;;) {
		if (client_wait_readable(c->fd, deadline) == -1)
			return (-1);
		n = read(c->fd, c->buf + c->len, c->size - c->len);
		if (n > 0)
			break;
		if (n == 0) {
			errno = ECONNRESET;	/* EOF before a full line */
			return (-1);
		}
		if (errno != EINTR && errno != EAGAIN)
			return (-1);
	}
	c->len += n;
	return (0);
}

const char *
client_recv(struct client *c, int timeout_ms, size_t *lenp)
{
	int64_t	 deadline = -1;
	char	*line, *nl;

	if (timeout_ms >= 0)
		deadline = client_now_ms() + timeout_ms;
	while ((nl = memchr(c->buf + c->scan, '\n', c->len - c->scan)) ==
	    NULL) {
		c->scan = c->len;
		if (client_fill(c, deadline) == -1)
			return (NULL);
	}
	*nl = '\0';
	line = c->buf + c->start;
	c->start = c->scan = nl + 1 - c->buf;
	if (lenp != NULL)
		*lenp = nl - line;
	return (line);
}
