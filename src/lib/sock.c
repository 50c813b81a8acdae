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

int
ls_connect(struct lsock *s, const char *path)
{
	struct sockaddr_un	sun;
	int			fd, saved;

	if (s->fd != -1)
		return (0);
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
		n = send(s->fd, s->out + s->ooff, s->olen - s->ooff,
		    MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return (0);
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
		pfd.events = POLLIN | (s->ooff < s->olen ? POLLOUT : 0);
		left = deadline < 0 ? -1 : deadline - ls_now_ms();
		if (deadline >= 0 && left <= 0) {
			errno = ETIMEDOUT;
			return (-1);
		}
		if ((n = poll(&pfd, 1, left > 2000000000 ? 2000000000 :
		    (int)left)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		if (n == 0)
			continue;	/* the deadline is checked above */
		if ((pfd.revents & POLLOUT) && ls_flush(s) == -1)
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
