/* SPDX-License-Identifier: MIT */
/*
 * sock: a non-blocking line connection with deadlines.  EINTR and EAGAIN
 * are handled here and nowhere else in libgtd.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	1	/* asprintf, MAP_NORESERVE */
#endif

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "src/lib/sock.h"

#define LS_READ_MIN	(64 * 1024)

void
ls_init(struct lsock *s)
{
	memset(s, 0, sizeof *s);
	s->fd = -1;
}

void
ls_close(struct lsock *s)
{
	if (s->fd != -1)
		close(s->fd);
	free(s->in);
	free(s->out);
	ls_init(s);
}

int64_t
ls_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* The uid $GTD_SOCKET_OWNER names, or -1 (unset or nobody). */
static uid_t
ls_trusted_uid(void)
{
	const char	*v = getenv("GTD_SOCKET_OWNER");
	struct passwd	 pw, *res;
	char		 buf[1024], *end;
	unsigned long	 id;

	if (v == NULL || *v == '\0')
		return ((uid_t)-1);
	if (getpwnam_r(v, &pw, buf, sizeof buf, &res) == 0 && res != NULL)
		return (pw.pw_uid);
	errno = 0;
	id = strtoul(v, &end, 10);
	if (*end != '\0' || errno != 0 || id >= (uid_t)-1)
		return ((uid_t)-1);
	return ((uid_t)id);
}

/*
 * Whether the process that listens at fd's peer may be talked to: root,
 * us, or $GTD_SOCKET_OWNER.  The kernel recorded its credentials at
 * listen(2), so a socket another user swapped in is found.
 */
static int
ls_check_peer(struct lsock *s, int fd)
{
	struct ucred	cr;
	socklen_t	len = sizeof cr;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == -1)
		return (-1);
	if (cr.uid == 0 || cr.uid == geteuid() || cr.uid == ls_trusted_uid())
		return (0);
	s->peer = cr.uid;
	errno = EPERM;
	return (-1);
}

int
ls_connect(struct lsock *s, const char *path)
{
	struct sockaddr_un	sun;
	int			fd, saved;

	if (s->fd != -1)
		return (0);
	s->peer = (uid_t)-1;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	/* A Unix connect completes at once or fails (EAGAIN: backlog). */
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    ls_check_peer(s, fd) == -1 ||
	    fcntl(fd, F_SETFL, O_NONBLOCK) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return (-1);
	}
	ls_close(s);
	s->fd = fd;
	return (0);
}

/* Write what is queued and the socket takes now: 0, or -1 with errno. */
static int
ls_flush(struct lsock *s)
{
	ssize_t	n;

	while (s->ooff < s->olen) {
		if (s->broken) {
			errno = EPIPE;
			return (-1);
		}
		n = send(s->fd, s->out + s->ooff, s->olen - s->ooff,
		    MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return (0);
			/* gtd closed: what it said before is still to read. */
			if (errno == EPIPE || errno == ECONNRESET)
				s->broken = 1;
			return (-1);
		}
		s->ooff += (size_t)n;
	}
	s->ooff = s->olen = 0;
	return (0);
}

int
ls_send(struct lsock *s, const char *line, size_t len)
{
	size_t	 need = s->olen - s->ooff + len + 1, size;
	char	*p;

	if (s->ooff > 0 && s->ooff == s->olen)
		s->ooff = s->olen = 0;
	if (s->osize - s->olen < len + 1) {
		if (s->ooff > 0) {	/* slide down what is left */
			memmove(s->out, s->out + s->ooff, s->olen - s->ooff);
			s->olen -= s->ooff;
			s->ooff = 0;
		}
		for (size = s->osize == 0 ? 4096 : s->osize; size < need;
		    size *= 2)
			;
		if (size > s->osize) {
			if ((p = realloc(s->out, size)) == NULL)
				return (-1);
			s->out = p;
			s->osize = size;
		}
	}
	memcpy(s->out + s->olen, line, len);
	s->out[s->olen + len] = '\n';
	s->olen += len + 1;
	s->pending++;
	return (ls_flush(s));
}

/* Room for LS_READ_MIN more bytes after len; the line before start goes. */
static int
ls_room(struct lsock *s)
{
	size_t	 size;
	char	*p;

	if (s->start > 0) {
		memmove(s->in, s->in + s->start, s->len - s->start);
		s->len -= s->start;
		s->scan -= s->start;
		s->start = 0;
	}
	if (s->insize - s->len >= LS_READ_MIN)
		return (0);
	size = s->insize == 0 ? 2 * LS_READ_MIN : s->insize * 2;
	if ((p = realloc(s->in, size)) == NULL)
		return (-1);
	s->in = p;
	s->insize = size;
	return (0);
}

/* Wait until readable (or writable, if something is queued). */
static int
ls_wait(struct lsock *s, int64_t deadline)
{
	struct pollfd	pfd;
	int64_t		left;
	int		n;

	for (;;) {
		pfd.fd = s->fd;
		pfd.events = POLLIN | (s->ooff < s->olen && !s->broken ?
		    POLLOUT : 0);
		left = deadline < 0 ? -1 : deadline - ls_now_ms();
		if (deadline >= 0 && left < 0)
			left = 0;	/* past: still take what is there */
		if ((n = poll(&pfd, 1, left > 2000000000 ? 2000000000 :
		    (int)left)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		if (n == 0 && deadline >= 0 && left == 0) {
			errno = ETIMEDOUT;
			return (-1);
		}
		if (n == 0)
			continue;
		/* A failed write ends only the writing: read on. */
		if ((pfd.revents & POLLOUT) && ls_flush(s) == -1 && !s->broken)
			return (-1);
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
			return (0);
	}
}

char *
ls_recv(struct lsock *s, int64_t deadline, size_t *lenp)
{
	char	*nl, *line;
	ssize_t	 n;

	for (;;) {
		if (s->len > s->scan && (nl = memchr(s->in + s->scan, '\n',
		    s->len - s->scan)) != NULL) {
			line = s->in + s->start;
			*nl = '\0';
			*lenp = (size_t)(nl - line);
			s->start = s->scan = (size_t)(nl - s->in) + 1;
			if (s->pending > 0)	/* events count for none */
				s->pending--;
			return (line);
		}
		s->scan = s->len;
		if (s->len - s->start > LS_REPLY_MAX) {
			errno = EMSGSIZE;
			return (NULL);
		}
		if (ls_room(s) == -1 || ls_wait(s, deadline) == -1)
			return (NULL);
		n = recv(s->fd, s->in + s->len, s->insize - s->len, 0);
		if (n == 0) {
			errno = ECONNRESET;
			return (NULL);
		}
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return (NULL);
		}
		s->len += (size_t)n;
	}
}
