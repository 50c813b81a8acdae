/* SPDX-License-Identifier: MIT */
/*
 * childlog: capture of children's stdout/stderr.  Never blocks on the
 * pipe (non-blocking reads, one chunk per event); the optional file is a
 * local append, rotated by size between lines.  Logs only the
 * rate-limited relay lines (and how many it left out) and file errors
 * (once per incarnation).
 *
 * Files are a child's, not gtd's (protocol section 7): every open,
 * rename and unlink of one runs with the file-system uid, gid and groups
 * of the child's user (setfsuid(2) and friends, switched back right
 * after the call), with O_NOFOLLOW, and an opened file must be a regular
 * one.  So the kernel itself decides what gtd may do there, exactly as
 * for the child: a symlink or a hard link the child plants to a file of
 * root's, or a directory of someone else's, gets EACCES or ELOOP, never
 * a write by root.  Nothing else runs between the switch and the switch
 * back (gtd has one thread), and the loop never waits for it: the calls
 * are the same local file-system calls as before.
 */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gt/child.h"
#include "gt/childlog.h"
#include "gt/clock.h"
#include "gt/gtd.h"
#include "gt/log.h"
#include "gt/utf8.h"
#include "gt/xmalloc.h"

#define CHILDLOG_CHUNK	65536
#define CHILDLOG_PART_MIN	128	/* first size of a partial line */
#define CHILDLOG_RING_MIN	16	/* first slots of a ring */

/* Bytes for the file, collected over one feed and written at once. */
struct childlog_batch {
	size_t	len;
	char	data[CHILDLOG_CHUNK + CHILDLOG_LINE_MAX + 1];
};

static void	childlog_read_cb(struct ev_loop *, ev_io *, int);
static void	childlog_drop_cb(struct ev_loop *, ev_timer *, int);
static void	childlog_line(struct childlog_in *, const char *, size_t);
static void	childlog_record(struct childlog_in *, struct childlog_batch *,
		    const char *, size_t, bool);
static void	childlog_file_flush(struct childlog_in *,
		    struct childlog_batch *);
static void	childlog_in_detach(struct childlog_in *);
static void	childlog_in_feed(struct childlog_in *, const char *, size_t);
static void	childlog_partial_add(struct childlog_in *, const char *,
		    size_t);
static void	childlog_ring_add(struct childlog *, int64_t, const char *,
		    char *);
static void	childlog_file_free(struct childlog_file *);
static void	childlog_ring_grow(struct childlog *);
static void	childlog_dropped(struct childlog *);

struct childlog *
childlog_new(struct child *c, void (*closed)(struct child *))
{
	struct childlog	*l;

	l = xcalloc(1, sizeof *l);
	l->child = c;
	l->closed = closed;
	return (l);
}

/* Input i of l, made at its first use. */
static struct childlog_in *
childlog_in_get(struct childlog *l, int i)
{
	struct childlog_in	*in = l->in[i];

	if (in != NULL)
		return (in);
	in = l->in[i] = xcalloc(1, sizeof *in);
	in->log = l;
	in->fd = -1;
	ev_init(&in->rd, childlog_read_cb);
	in->rd.data = in;
	return (in);
}

void
childlog_free(struct childlog *l)
{
	struct childlog_in	*in;
	size_t			 i;

	if (l == NULL)
		return;
	childlog_dropped(l);
	free(l->relay);
	for (i = 0; i < 2; i++) {
		if ((in = l->in[i]) == NULL)
			continue;
		if (in->fd != -1) {
			ev_io_stop(l->child->gtd->loop, &in->rd);
			close(in->fd);
		}
		childlog_file_free(in->file);
		free(in->partial);
		free(in);
	}
	for (i = 0; i < l->rsize; i++)
		free(l->ring[i].text);
	free(l->ring);
	free(l);
}

static void
childlog_file_free(struct childlog_file *f)
{
	if (f == NULL)
		return;
	if (f->filefd != -1)
		close(f->filefd);
	free(f->path);
	fscred_clear(&f->cred);
	free(f);
}

/*
 * A file for pipe l: path (a template, expanded for the child) written
 * with the credentials the spec's process runs with.
 */
static struct childlog_file *
childlog_file_new(struct childlog_in *l, const char *path, int64_t max_bytes,
    int keep)
{
	struct child		*c = l->log->child;
	const struct childspec	*s = c->spec;
	struct childlog_file	*f = xcalloc(1, sizeof *f);

	f->path = spec_path_expand(path, c->name, c->gtd->zone);
	f->max_bytes = max_bytes;
	f->keep = keep;
	f->filefd = -1;
	fscred_init(&f->cred, s->set_uid, s->uid, s->set_gid, s->gid,
	    s->groups, s->ngroups);
	return (f);
}

/* The file l writes now, or NULL: none (or it failed for this run). */
static const char *
childlog_path(const struct childlog_in *l)
{
	return (l->file != NULL ? l->file->path : NULL);
}

void
childlog_attach(struct childlog *lg, int i, int fd, const char *stream,
    const char *path, int64_t max_bytes, int keep, bool relay)
{
	struct childlog_in	*l = childlog_in_get(lg, i);
	struct gtd		*g = lg->child->gtd;

	childlog_in_detach(l);
	l->fd = fd;
	l->stream = stream;
	l->relay = relay;
	l->plen = 0;
	childlog_file_free(l->file);
	l->file = path == NULL ? NULL : childlog_file_new(l, path, max_bytes,
	    keep);
	ev_io_set(&l->rd, fd, EV_READ);
	ev_io_start(g->loop, &l->rd);
}

void
childlog_detach(struct childlog *l)
{
	int	i;

	for (i = 0; i < 2; i++)
		if (l->in[i] != NULL)
			childlog_in_detach(l->in[i]);
	childlog_dropped(l);
}

/* The line that was cut off by the end of the output. */
static void
childlog_in_last(struct childlog_in *l)
{
	struct childlog_batch	*b;

	if (l->plen == 0)
		return;
	b = xmalloc(sizeof *b);
	b->len = 0;
	childlog_record(l, b, l->partial, l->plen, false);
	childlog_file_flush(l, b);
	free(b);
	l->plen = 0;
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
	childlog_in_last(l);
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
		childlog_in_last(l);
		ev_io_stop(loop, w);
		close(l->fd);
		l->fd = -1;
		l->log->closed(l->log->child);	/* a released one */
		return;
	}
	childlog_in_feed(l, buf, n);
}

void
childlog_feed(struct childlog *l, int i, const char *buf, size_t len)
{
	childlog_in_feed(childlog_in_get(l, i), buf, len);
}

bool
childlog_reading(const struct childlog *l)
{
	int	i;

	for (i = 0; i < 2; i++)
		if (l->in[i] != NULL && l->in[i]->fd != -1)
			return (true);
	return (false);
}

/*
 * Append len bytes to l's partial line (plen + len <= LINE_MAX), growing
 * the buffer by doubling: a child that never leaves a line unfinished
 * never has one.
 */
static void
childlog_partial_add(struct childlog_in *l, const char *p, size_t len)
{
	size_t	size;

	assert(l->plen + len <= CHILDLOG_LINE_MAX);
	if (l->plen + len > l->psize) {
		size = l->psize == 0 ? CHILDLOG_PART_MIN : l->psize;
		while (size < l->plen + len)
			size *= 2;
		if (size > CHILDLOG_LINE_MAX)
			size = CHILDLOG_LINE_MAX;
		l->partial = xreallocarray(l->partial, 1, size);
		l->psize = (uint16_t)size;
	}
	memcpy(l->partial + l->plen, p, len);
	l->plen = (uint16_t)(l->plen + len);
}

/*
 * Split the bytes into records: whole lines, and pieces of
 * CHILDLOG_LINE_MAX bytes of longer ones.  The file gets the bytes as
 * they came (with their newlines), the ring the records.
 */
static void
childlog_in_feed(struct childlog_in *l, const char *buf, size_t len)
{
	struct childlog_batch	*b = NULL;
	const char		*p = buf, *nl, *end = buf + len;
	size_t			 take;

	if (childlog_path(l) != NULL) {
		b = xmalloc(sizeof *b);
		b->len = 0;
	}
	while (p < end) {
		nl = memchr(p, '\n', end - p);
		take = (nl != NULL ? nl : end) - p;
		if (l->plen == 0 && nl != NULL && take < CHILDLOG_LINE_MAX) {
			/* A whole line in the buffer: no copy. */
			childlog_record(l, b, p, take, true);
			p += take + 1;
			continue;
		}
		if (l->plen + take >= CHILDLOG_LINE_MAX) {
			/* An over-long line: emit it in pieces. */
			take = CHILDLOG_LINE_MAX - l->plen;
			childlog_partial_add(l, p, take);
			childlog_record(l, b, l->partial, CHILDLOG_LINE_MAX,
			    false);
			l->plen = 0;
			p += take;
			continue;
		}
		childlog_partial_add(l, p, take);
		p += take;
		if (nl == NULL)
			break;
		childlog_record(l, b, l->partial, l->plen, true);
		l->plen = 0;
		p++;			/* the '\n' */
	}
	if (b != NULL) {
		childlog_file_flush(l, b);
		free(b);
	}
}

/*
 * Copy s making it valid UTF-8 for JSON: every byte that does not start
 * a valid sequence (a stray continuation byte, an overlong form, a
 * surrogate, a code point past U+10FFFF, NUL) becomes U+FFFD, so a line
 * is always shown, never dropped.  A final CR goes.
 */
static char *
childlog_utf8(const char *s, size_t len)
{
	char	*out = xreallocarray(NULL, len + 1, 3);
	size_t	 i = 0, o = 0, n;

	if (len > 0 && s[len - 1] == '\r')
		len--;
	while (i < len) {
		if (s[i] == '\0' || (n = utf8_len(s + i, len - i)) == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);	/* U+FFFD */
			o += 3;
			i++;
			continue;
		}
		memcpy(out + o, s + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
	return (out);
}

/* Say how many lines the relay left out, if any. */
static void
childlog_dropped(struct childlog *l)
{
	struct childlog_relay	*r = l->relay;

	if (r == NULL)
		return;
	if (r->dropped > 0)
		log_info("child %s: %d lines not shown", l->child->name,
		    r->dropped);
	r->dropped = 0;
	ev_timer_stop(l->child->gtd->loop, &r->dropw);
}

/* The second of the count is over: report, even if no line follows. */
static void
childlog_drop_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct childlog_relay	*r = w->data;

	childlog_dropped(r->log);
}

static void
childlog_relay(struct childlog *l, int64_t at, const char *text)
{
	struct child		*c = l->child;
	struct childlog_relay	*r = l->relay;

	if (r == NULL) {
		r = l->relay = xcalloc(1, sizeof *r);
		r->log = l;
		r->window = -1;
		ev_init(&r->dropw, childlog_drop_cb);
		r->dropw.data = r;
	}
	if (at / 1000 != r->window) {
		childlog_dropped(l);
		r->window = at / 1000;
		r->count = 0;
	}
	if (++r->count <= CHILDLOG_RELAY_PER_S) {
		log_info("child %s: %s", c->name, text);
		return;
	}
	if (r->dropped++ == 0) {
		/* At the end of this second (and a little): the count. */
		ev_timer_set(&r->dropw, (double)(1000 - at % 1000) / 1000 +
		    0.01, 0.);
		ev_timer_start(c->gtd->loop, &r->dropw);
	}
}

static void
childlog_line(struct childlog_in *in, const char *s, size_t len)
{
	struct childlog		*l = in->log;
	struct gtd		*g = l->child->gtd;
	int64_t			 at = clock_now_ms(g->loop);
	char			*text = childlog_utf8(s, len);

	if (in->relay)
		childlog_relay(l, at, text);
	if (g->obs != NULL && g->obs->output != NULL)
		g->obs->output(l->child, in->stream, at, text, strlen(text),
		    g->obs_arg);
	childlog_ring_add(l, at, in->stream, text);
}

/*
 * Put a line (text taken, at most CHILDLOG_RING_BYTES) into the ring,
 * dropping the oldest lines until it fits the slots and the bytes.
 */
static void
childlog_ring_add(struct childlog *l, int64_t at, const char *stream,
    char *text)
{
	struct childlog_line	*ln;
	size_t			 len = strlen(text);

	if (l->n == l->rsize && l->rsize < CHILDLOG_RING_LINES)
		childlog_ring_grow(l);
	while (l->n > 0 && (l->n == l->rsize ||
	    l->bytes + len > CHILDLOG_RING_BYTES)) {
		ln = &l->ring[(l->head + l->rsize - l->n) % l->rsize];
		l->bytes -= strlen(ln->text);
		free(ln->text);
		ln->text = NULL;
		l->n--;
	}
	ln = &l->ring[l->head];
	free(ln->text);
	ln->at = at;
	ln->stream = stream;
	ln->text = text;
	l->bytes += len;
	l->head = (l->head + 1) % l->rsize;
	l->n++;
}

/*
 * Double the ring's slots (the first line: CHILDLOG_RING_MIN), up to
 * CHILDLOG_RING_LINES, keeping its lines oldest first from slot 0.
 */
static void
childlog_ring_grow(struct childlog *l)
{
	struct childlog_line	*r;
	uint32_t		 size, i;

	size = l->rsize == 0 ? CHILDLOG_RING_MIN : l->rsize * 2;
	if (size > CHILDLOG_RING_LINES)
		size = CHILDLOG_RING_LINES;
	r = xcalloc(size, sizeof *r);
	for (i = 0; i < l->n; i++)
		r[i] = l->ring[(l->head + l->rsize - l->n + i) % l->rsize];
	free(l->ring);
	l->ring = r;
	l->rsize = size;
	l->head = l->n % size;
}

/*
 * Open (creating) the file as the child: a regular file only, never
 * through a symlink, never blocking on a FIFO or a device.  0, or -1
 * with errno (ELOOP: a symlink; EINVAL: not a regular file).
 */
static int
childlog_file_open(struct childlog_in *l)
{
	struct childlog_file	*f = l->file;
	struct fscred_saved	 sv;
	struct stat		 st;
	int			 fd, saved;

	if (fscred_become(&f->cred, &sv) == -1)
		return (-1);
	fd = open(f->path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW |
	    O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0640);
	fscred_unbecome(&f->cred, &sv);
	if (fd == -1)
		return (-1);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		saved = S_ISREG(st.st_mode) ? errno : EINVAL;
		close(fd);
		errno = saved;
		return (-1);
	}
	f->filefd = fd;
	f->size = st.st_size;
	return (0);
}

/*
 * path -> path.1 -> ... -> path.keep (the oldest is dropped), as the
 * child; keep 0 removes path.  The next write creates a new file.  0, or
 * -1 with errno when path could not be moved away (then writing on
 * would grow it past max_bytes).
 */
static int
childlog_rotate(struct childlog_in *l)
{
	struct childlog_file	*f = l->file;
	struct fscred_saved	 sv;
	char			*from, *to;
	int			 i, rc = 0;

	if (f->filefd != -1)
		close(f->filefd);
	f->filefd = -1;
	if (fscred_become(&f->cred, &sv) == -1)
		return (-1);
	for (i = f->keep; i >= 1; i--) {
		if (i == 1)
			from = xstrdup(f->path);
		else
			xasprintf(&from, "%s.%d", f->path, i - 1);
		xasprintf(&to, "%s.%d", f->path, i);
		/* rename(2) never follows a symlink: it moves the link. */
		if (rename(from, to) == -1 && errno != ENOENT && i == 1)
			rc = -1;
		free(from);
		free(to);
	}
	if (f->keep == 0 && unlink(f->path) == -1 && errno != ENOENT)
		rc = -1;
	fscred_unbecome(&f->cred, &sv);
	return (rc);
}

/* The file cannot be written: say so once, and stop for this run. */
static void
childlog_file_fail(struct childlog_in *l, const char *what)
{
	struct childlog_file	*f = l->file;

	log_warn("child %s: %s %s", l->log->child->name, what, f->path);
	free(f->path);
	f->path = NULL;
	if (f->filefd != -1) {
		close(f->filefd);
		f->filefd = -1;
	}
}

/* Append buf to the file (opening it first). */
static int
childlog_file_write(struct childlog_in *l, const char *buf, size_t len)
{
	struct childlog_file	*f = l->file;
	ssize_t			 n;

	if (f->filefd == -1 && childlog_file_open(l) == -1) {
		childlog_file_fail(l, "open");
		return (-1);
	}
	while (len > 0) {
		if ((n = write(f->filefd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			childlog_file_fail(l, "write");
			return (-1);
		}
		buf += n;
		len -= n;
		f->size += n;
	}
	return (0);
}

static void
childlog_file_flush(struct childlog_in *l, struct childlog_batch *b)
{
	if (b->len > 0 && childlog_path(l) != NULL)
		(void)childlog_file_write(l, b->data, b->len);	/* logged */
	b->len = 0;
}

/* Start a new file: what is written so far, then rotate. */
static int
childlog_file_next(struct childlog_in *l, struct childlog_batch *b)
{
	childlog_file_flush(l, b);
	if (childlog_path(l) == NULL)
		return (-1);
	if (childlog_rotate(l) == -1) {
		childlog_file_fail(l, "rotate");
		return (-1);
	}
	l->file->size = 0;
	return (0);
}

/*
 * One record for the file: rotate first if it would not fit, so files
 * end between records (lines).  A record longer than max_bytes fills
 * files of its own, max_bytes each.
 */
static void
childlog_file_add(struct childlog_in *l, struct childlog_batch *b,
    const char *s, size_t len, bool nl)
{
	struct childlog_file	*f = l->file;
	size_t			 n = len + nl, piece;

	if (f->max_bytes > 0 && f->size + (int64_t)(b->len + n) >
	    f->max_bytes) {
		if ((f->size > 0 || b->len > 0) &&
		    childlog_file_next(l, b) == -1)
			return;
		while ((int64_t)n > f->max_bytes) {
			piece = (size_t)f->max_bytes;
			if (piece > len)	/* the newline is the rest */
				piece = len;
			if (childlog_file_write(l, s, piece) == -1)
				return;
			s += piece;
			len -= piece;
			n -= piece;
			if (childlog_file_next(l, b) == -1)
				return;
		}
	}
	if (b->len + n > sizeof b->data)
		childlog_file_flush(l, b);
	memcpy(b->data + b->len, s, len);
	b->len += len;
	if (nl)
		b->data[b->len++] = '\n';
}

static void
childlog_record(struct childlog_in *l, struct childlog_batch *b,
    const char *s, size_t len, bool nl)
{
	if (childlog_path(l) != NULL && b != NULL)
		childlog_file_add(l, b, s, len, nl);
	childlog_line(l, s, len);
}

struct child *
childlog_clash(struct gtd *g, const struct childspec *spec, int *stream)
{
	struct child	*c;
	int		 i;

	/* Without a file there is nothing to clash: no walk per start. */
	if (spec->out[0].mode != SPEC_OUT_FILE &&
	    spec->out[1].mode != SPEC_OUT_FILE)
		return (NULL);
	TAILQ_FOREACH(c, &g->tab->children, entry) {
		if (strcmp(c->name, spec->name) == 0)
			continue;
		if ((i = spec_output_clash_as(c->spec, c->name, spec,
		    g->zone)) != -1) {
			*stream = i;
			return (c);
		}
	}
	return (NULL);
}

void
childlog_tail(struct childlog *l, size_t lines,
    void (*cb)(const struct childlog_line *, void *), void *arg)
{
	size_t	i, n = lines < l->n ? lines : l->n;

	for (i = 0; i < n; i++)
		cb(&l->ring[(l->head + l->rsize - n + i) % l->rsize], arg);
}

void
childlog_restore_line(struct childlog *l, int64_t at, const char *stream,
    const char *text)
{
	static const char *const	 names[] = { "stdout", "stderr",
	    "hook" };
	size_t				 i, len = strlen(text);

	if (len > CHILDLOG_LINE_MAX || len > CHILDLOG_RING_BYTES)
		return;			/* not one of ours */
	for (i = 0; i < 3; i++)
		if (strcmp(stream, names[i]) == 0)
			break;
	childlog_ring_add(l, at, i < 3 ? names[i] : "output",
	    childlog_utf8(text, len));
}
