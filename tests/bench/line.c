/* SPDX-License-Identifier: MIT */
/*
 * line: a non-blocking line client used by the bench driver for setup,
 * events and the process workloads (the request/response figures use
 * load.c instead).  Buffers grow as needed; nothing here logs.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/bench/bench.h"

struct bconn *
bconn_new(int fd)
{
	struct bconn	*bc;

	if ((bc = calloc(1, sizeof *bc)) == NULL)
		bench_die("out of memory");
	bc->fd = fd;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return (bc);
}

void
bconn_free(struct bconn *bc)
{
	if (bc == NULL)
		return;
	close(bc->fd);
	free(bc->in);
	free(bc->out);
	free(bc);
}

/* Make room for n more bytes in a buffer. */
static void
bconn_grow(char **buf, size_t *size, size_t used, size_t n)
{
	if (*size - used >= n)
		return;
	while (*size - used < n)
		*size = *size == 0 ? 65536 : *size * 2;
	if ((*buf = realloc(*buf, *size)) == NULL)
		bench_die("out of memory");
}

void
bconn_queue(struct bconn *bc, const char *p, size_t n)
{
	if (bc->outoff > 0 && bc->outoff == bc->outlen)
		bc->outoff = bc->outlen = 0;
	bconn_grow(&bc->out, &bc->outsize, bc->outlen, n);
	memcpy(bc->out + bc->outlen, p, n);
	bc->outlen += n;
}

void
bconn_printf(struct bconn *bc, const char *fmt, ...)
{
	char	buf[BENCH_MAXREQ];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof buf - 1)
		bench_die("request too long");
	buf[n++] = '\n';
	bconn_queue(bc, buf, n);
}

int
bconn_flush(struct bconn *bc)
{
	ssize_t	n;

	while (bc->outoff < bc->outlen) {
		n = send(bc->fd, bc->out + bc->outoff, bc->outlen - bc->outoff,
		    MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return (0);
		if (n == -1)
			return (-1);
		bc->outoff += n;
	}
	bc->outoff = bc->outlen = 0;
	return (0);
}

int
bconn_fill(struct bconn *bc)
{
	ssize_t	n;

	for (;;) {
		bconn_grow(&bc->in, &bc->insize, bc->inlen, 65536);
		n = read(bc->fd, bc->in + bc->inlen, bc->insize - bc->inlen);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return (0);
		if (n == -1)
			return (-1);
		if (n == 0) {
			bc->eof = true;
			return (0);
		}
		bc->inlen += n;
	}
}

char *
bconn_line(struct bconn *bc)
{
	static char	*line;
	static size_t	 size;
	char		*nl;
	size_t		 len;

	if ((nl = memchr(bc->in, '\n', bc->inlen)) == NULL)
		return (NULL);
	len = nl - bc->in;
	bconn_grow(&line, &size, 0, len + 1);
	memcpy(line, bc->in, len);
	line[len] = '\0';
	bc->inlen -= len + 1;
	memmove(bc->in, nl + 1, bc->inlen);
	return (line);
}

char *
bconn_wait_line(struct bconn *bc, double secs)
{
	struct pollfd	 pfd = { .fd = bc->fd };
	double		 end = bench_now() + secs;
	char		*l;

	for (;;) {
		if (bconn_flush(bc) == -1)
			return (NULL);
		if ((l = bconn_line(bc)) != NULL)
			return (l);
		if (bc->eof || bench_now() > end)
			return (NULL);
		pfd.events = POLLIN | (bc->outlen > bc->outoff ? POLLOUT : 0);
		poll(&pfd, 1, 10);
		if (bconn_fill(bc) == -1)
			return (NULL);
	}
}

char *
bconn_req(struct bconn *bc, double secs, const char *fmt, ...)
{
	char	buf[BENCH_MAXREQ];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof buf)
		bench_die("request too long");
	bconn_printf(bc, "%s", buf);
	return (bconn_wait_line(bc, secs));
}

long long
bench_json_int(const char *line, const char *key, long long def)
{
	char		 pat[64];
	const char	*p;

	snprintf(pat, sizeof pat, "\"%s\":", key);
	if ((p = strstr(line, pat)) == NULL)
		return (def);
	p += strlen(pat);
	if (*p != '-' && (*p < '0' || *p > '9'))
		return (def);
	return (strtoll(p, NULL, 10));
}

bool
bench_json_str(const char *line, const char *key, char *buf, size_t size)
{
	char		 pat[64];
	const char	*p, *q;

	snprintf(pat, sizeof pat, "\"%s\":\"", key);
	if ((p = strstr(line, pat)) == NULL)
		return (false);
	p += strlen(pat);
	if ((q = strchr(p, '"')) == NULL || (size_t)(q - p) >= size)
		return (false);
	memcpy(buf, p, q - p);
	buf[q - p] = '\0';
	return (true);
}
