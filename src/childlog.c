/* SPDX-License-Identifier: MIT */
/*
 * childlog: capture of children's stdout/stderr.  Never blocks on the
 * pipe (non-blocking reads, one chunk per event); the optional file is a
 * local append, rotated by size.  Logs only the rate-limited relay lines
 * and file errors (once per incarnation).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gt/child.h"
#include "gt/childlog.h"
#include "gt/event.h"
#include "gt/gtd.h"
#include "gt/log.h"
#include "gt/xmalloc.h"

#define CHILDLOG_CHUNK	65536

static void	childlog_read_cb(struct ev_loop *, ev_io *, int);
static void	childlog_line(struct childlog_in *, const char *, size_t);
static void	childlog_file(struct childlog_in *, const char *, size_t);
static void	childlog_in_detach(struct childlog_in *);
static void	childlog_in_feed(struct childlog_in *, const char *, size_t);

struct childlog *
childlog_new(struct child *c)
{
	struct childlog	*l;

	int		 i;

	l = xcalloc(1, sizeof *l);
	l->child = c;
	for (i = 0; i < 2; i++) {
		l->in[i].log = l;
		l->in[i].fd = l->in[i].filefd = -1;
		ev_init(&l->in[i].rd, childlog_read_cb);
		l->in[i].rd.data = &l->in[i];
	}
	return (l);
}

void
childlog_free(struct childlog *l)
{
	size_t	i;

	if (l == NULL)
		return;
	for (i = 0; i < 2; i++) {
		if (l->in[i].fd != -1) {
			ev_io_stop(l->child->gtd->loop, &l->in[i].rd);
			close(l->in[i].fd);
		}
		if (l->in[i].filefd != -1)
			close(l->in[i].filefd);
		free(l->in[i].path);
	}
	if (l->ring != NULL)
		for (i = 0; i < CHILDLOG_RING_LINES; i++)
			free(l->ring[i].text);
	free(l->ring);
	free(l);
}

void
childlog_attach(struct childlog *lg, int i, int fd, const char *stream,
    const char *path, int64_t max_bytes, int keep, bool relay)
{
	struct childlog_in	*l = &lg->in[i];

	childlog_in_detach(l);
	l->fd = fd;
	l->stream = stream;
	l->relay = relay;
	l->plen = 0;
	free(l->path);
	l->path = path == NULL ? NULL : xstrdup(path);
	l->max_bytes = max_bytes;
	l->keep = keep;
	if (l->filefd != -1) {
		close(l->filefd);
		l->filefd = -1;
	}
	ev_io_set(&l->rd, fd, EV_READ);
	ev_io_start(lg->child->gtd->loop, &l->rd);
}

void
childlog_detach(struct childlog *l)
{
	childlog_in_detach(&l->in[0]);
	childlog_in_detach(&l->in[1]);
}

static void
childlog_in_detach(struct childlog_in *l)
{
	char	buf[CHILDLOG_CHUNK];
	ssize_t	n;
	int	i;

	if (l->fd == -1)
		return;
	/* What the process wrote before it died; bounded, never blocks. */
	for (i = 0; i < 16; i++) {
		if ((n = read(l->fd, buf, sizeof buf)) <= 0)
			break;
		childlog_in_feed(l, buf, n);
	}
	if (l->plen > 0)
		childlog_line(l, l->partial, l->plen);
	l->plen = 0;
	ev_io_stop(l->log->child->gtd->loop, &l->rd);
	close(l->fd);
	l->fd = -1;
}

static void
childlog_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct childlog_in	*l = w->data;
	char		 buf[CHILDLOG_CHUNK];
	ssize_t		 n;

	n = read(l->fd, buf, sizeof buf);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {			/* every writer is gone */
		if (l->plen > 0)
			childlog_line(l, l->partial, l->plen);
		l->plen = 0;
		ev_io_stop(loop, w);
		close(l->fd);
		l->fd = -1;
		child_output_closed(l->log->child);	/* a released one */
		return;
	}
	childlog_in_feed(l, buf, n);
}

void
childlog_feed(struct childlog *l, int i, const char *buf, size_t len)
{
	childlog_in_feed(&l->in[i], buf, len);
}

static void
childlog_in_feed(struct childlog_in *l, const char *buf, size_t len)
{
	const char	*p = buf, *nl, *end = buf + len;
	size_t		 take;

	if (l->path != NULL)
		childlog_file(l, buf, len);
	while (p < end) {
		nl = memchr(p, '\n', end - p);
		take = (nl != NULL ? nl : end) - p;
		if (l->plen + take >= sizeof l->partial) {
			/* An over-long line: emit it in pieces. */
			take = sizeof l->partial - l->plen;
			memcpy(l->partial + l->plen, p, take);
			childlog_line(l, l->partial, sizeof l->partial);
			l->plen = 0;
			p += take;
			continue;
		}
		memcpy(l->partial + l->plen, p, take);
		l->plen += take;
		p += take;
		if (nl == NULL)
			break;
		childlog_line(l, l->partial, l->plen);
		l->plen = 0;
		p++;			/* the '\n' */
	}
}

/* Copy s replacing bytes that are not valid UTF-8 (and NUL) with '?'. */
static char *
childlog_utf8(const char *s, size_t len)
{
	const unsigned char	*u = (const unsigned char *)s;
	char			*out = xmalloc(len + 1);
	size_t			 i = 0, k, n;

	while (i < len) {
		if (u[i] >= 0x01 && u[i] < 0x80)
			n = 1;
		else if (u[i] >= 0xc2 && u[i] <= 0xdf)
			n = 2;
		else if (u[i] >= 0xe0 && u[i] <= 0xef)
			n = 3;
		else if (u[i] >= 0xf0 && u[i] <= 0xf4)
			n = 4;
		else
			n = 0;
		for (k = 1; n > 1 && k < n; k++)
			if (i + k >= len || (u[i + k] & 0xc0) != 0x80)
				n = 0;
		if (n == 0) {
			out[i++] = '?';
			continue;
		}
		memcpy(out + i, s + i, n);
		i += n;
	}
	if (len > 0 && out[len - 1] == '\r')
		len--;
	out[len] = '\0';
	return (out);
}

static void
childlog_relay(struct childlog *l, int64_t at, const char *text)
{
	struct child	*c = l->child;

	if (at / 1000 != l->window) {
		if (l->dropped > 0)
			log_info("child %s: %d lines not shown", c->name,
			    l->dropped);
		l->window = at / 1000;
		l->count = l->dropped = 0;
	}
	if (++l->count > CHILDLOG_RELAY_PER_S)
		l->dropped++;
	else
		log_info("child %s: %s", c->name, text);
}

static void
childlog_line(struct childlog_in *in, const char *s, size_t len)
{
	struct childlog		*l = in->log;
	struct gtd		*g = l->child->gtd;
	struct childlog_line	*ln;
	int64_t			 at = gtd_now_ms(g);
	char			*text = childlog_utf8(s, len);

	if (in->relay)
		childlog_relay(l, at, text);
	event_child_log(g, l->child, in->stream, at, text, strlen(text));
	if (l->ring == NULL)
		l->ring = xcalloc(CHILDLOG_RING_LINES, sizeof *l->ring);
	/* Drop the oldest lines until this one fits in the byte budget. */
	while (l->n > 0 && (l->n == CHILDLOG_RING_LINES ||
	    l->bytes + strlen(text) > CHILDLOG_RING_BYTES)) {
		ln = &l->ring[(l->head + CHILDLOG_RING_LINES - l->n) %
		    CHILDLOG_RING_LINES];
		l->bytes -= strlen(ln->text);
		free(ln->text);
		ln->text = NULL;
		l->n--;
	}
	ln = &l->ring[l->head];
	free(ln->text);
	ln->at = at;
	ln->stream = in->stream;
	ln->text = text;
	l->bytes += strlen(text);
	l->head = (l->head + 1) % CHILDLOG_RING_LINES;
	l->n++;
}

/* path -> path.1 -> ... -> path.keep (the oldest is dropped). */
static void
childlog_rotate(struct childlog_in *l)
{
	char	*from, *to;
	int	 i;

	close(l->filefd);
	l->filefd = -1;
	for (i = l->keep; i >= 1; i--) {
		if (i == 1)
			from = xstrdup(l->path);
		else
			xasprintf(&from, "%s.%d", l->path, i - 1);
		xasprintf(&to, "%s.%d", l->path, i);
		(void)rename(from, to);		/* ENOENT: nothing yet */
		free(from);
		free(to);
	}
	if (l->keep == 0)
		(void)unlink(l->path);		/* keep nothing old */
}

static void
childlog_file(struct childlog_in *l, const char *buf, size_t len)
{
	ssize_t	n;

	if (l->filefd == -1) {
		l->filefd = open(l->path, O_WRONLY | O_CREAT | O_APPEND |
		    O_CLOEXEC | O_NOCTTY, 0640);
		if (l->filefd == -1) {
			log_warn("child %s: %s", l->log->child->name, l->path);
			free(l->path);		/* once per incarnation */
			l->path = NULL;
			return;
		}
		l->size = lseek(l->filefd, 0, SEEK_END);
	}
	while (len > 0) {
		if ((n = write(l->filefd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("child %s: %s", l->log->child->name, l->path);
			return;
		}
		buf += n;
		len -= n;
		l->size += n;
	}
	if (l->max_bytes > 0 && l->size >= l->max_bytes)
		childlog_rotate(l);
}

void
childlog_tail(struct childlog *l, size_t lines,
    void (*cb)(const struct childlog_line *, void *), void *arg)
{
	size_t	i, n = lines < l->n ? lines : l->n;

	for (i = 0; i < n; i++)
		cb(&l->ring[(l->head + CHILDLOG_RING_LINES - n + i) %
		    CHILDLOG_RING_LINES], arg);
}
