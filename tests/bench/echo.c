/* SPDX-License-Identifier: MIT */
/*
 * bench-echo: the round-trip baseline of `make bench`.  A minimal epoll
 * server on a Unix socket that answers every request line with one short
 * fixed JSON line of the size of gtd's find reply.  It does the framing
 * work any line server must do (read, find the newlines, keep a partial
 * line, queue and write the replies) and nothing else: the floor that
 * gtd's request figures are divided by.
 *
 * usage: bench-echo -s SOCKET [-r FD]
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define ECHO_REPLY	"{\"ok\":true,\"pid\":123456,\"state\":\"running\"}\n"
#define ECHO_CHUNK	16384

struct echo_conn {
	int	 fd;
	char	*in;
	size_t	 inlen, insize;
	char	*out;
	size_t	 outlen, outoff, outsize;
	bool	 wantout;
};

static void	echo_die(const char *) __attribute__((noreturn));
static int	echo_listen(const char *);
static void	echo_read(int, struct echo_conn *);
static void	echo_write(int, struct echo_conn *);
static void	echo_close(int, struct echo_conn *);

static void
echo_die(const char *what)
{
	fprintf(stderr, "bench-echo: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int
echo_listen(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		echo_die(path);
	}
	strcpy(sun.sun_path, path);
	unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1 || bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    listen(fd, 128) == -1)
		echo_die(path);
	return (fd);
}

static void
echo_close(int ep, struct echo_conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
}

/* Write queued replies; poll for EPOLLOUT only while some are left. */
static void
echo_write(int ep, struct echo_conn *c)
{
	struct epoll_event	ev;
	ssize_t			n;

	while (c->outoff < c->outlen) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			break;
		if (n == -1) {
			echo_close(ep, c);
			return;
		}
		c->outoff += n;
	}
	if (c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	if ((c->outlen > 0) != c->wantout) {
		c->wantout = c->outlen > 0;
		ev = (struct epoll_event){ .events = EPOLLIN |
		    (c->wantout ? EPOLLOUT : 0), .data.ptr = c };
		epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
	}
}

/* Read once, answer every complete line, keep the partial one. */
static void
echo_read(int ep, struct echo_conn *c)
{
	char	*p, *nl, *end;
	ssize_t	 n;
	size_t	 used;

	if (c->insize - c->inlen < ECHO_CHUNK) {
		c->insize = c->insize == 0 ? ECHO_CHUNK * 2 : c->insize * 2;
		if ((c->in = realloc(c->in, c->insize)) == NULL)
			echo_die("realloc");
	}
	n = read(c->fd, c->in + c->inlen, c->insize - c->inlen);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		echo_close(ep, c);
		return;
	}
	c->inlen += n;
	end = c->in + c->inlen;
	for (p = c->in; (nl = memchr(p, '\n', end - p)) != NULL; p = nl + 1) {
		if (c->outsize - c->outlen < sizeof ECHO_REPLY) {
			c->outsize = c->outsize == 0 ? 4096 : c->outsize * 2;
			if ((c->out = realloc(c->out, c->outsize)) == NULL)
				echo_die("realloc");
		}
		memcpy(c->out + c->outlen, ECHO_REPLY, sizeof ECHO_REPLY - 1);
		c->outlen += sizeof ECHO_REPLY - 1;
	}
	used = p - c->in;
	memmove(c->in, p, c->inlen - used);
	c->inlen -= used;
	echo_write(ep, c);
}

int
main(int argc, char *argv[])
{
	struct epoll_event	 ev, evs[64];
	struct echo_conn	*c;
	const char		*path = NULL;
	int			 ep, lfd, fd, readyfd = -1, ch, n, i;

	while ((ch = getopt(argc, argv, "r:s:")) != -1) {
		switch (ch) {
		case 'r':
			readyfd = atoi(optarg);
			break;
		case 's':
			path = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (path == NULL)
		goto usage;
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);	/* die with the driver */
	signal(SIGPIPE, SIG_IGN);
	lfd = echo_listen(path);
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		echo_die("epoll_create1");
	ev = (struct epoll_event){ .events = EPOLLIN, .data.ptr = NULL };
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	if (readyfd >= 0) {
		(void)!write(readyfd, "\n", 1);	/* s6-style readiness */
		close(readyfd);
	}
	for (;;) {
		if ((n = epoll_wait(ep, evs, 64, -1)) == -1 && errno != EINTR)
			echo_die("epoll_wait");
		for (i = 0; i < n; i++) {
			if ((c = evs[i].data.ptr) != NULL) {
				if (evs[i].events & EPOLLOUT)
					echo_write(ep, c);
				else
					echo_read(ep, c);
				continue;
			}
			while ((fd = accept4(lfd, NULL, NULL,
			    SOCK_NONBLOCK | SOCK_CLOEXEC)) != -1) {
				if ((c = calloc(1, sizeof *c)) == NULL)
					echo_die("calloc");
				c->fd = fd;
				ev = (struct epoll_event){ .events = EPOLLIN,
				    .data.ptr = c };
				epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
			}
		}
	}
usage:
	fprintf(stderr, "usage: bench-echo -s socket [-r fd]\n");
	return (64);
}
