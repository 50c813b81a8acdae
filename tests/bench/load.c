/* SPDX-License-Identifier: MIT */
/*
 * load: the load generator.  One thread, one epoll loop, N connections,
 * each keeping D requests outstanding; a reply is one line.  The same code
 * drives gtd, the echo baseline and redis, so the ratios compare servers,
 * not clients.  Shapes used by gtbench: N=1 D=1 (ping-pong latency),
 * N=50 D=1 and N=1 D=16 (throughput).
 *
 * Every reply line must start with opts->expect (e.g. {"ok":true), so a
 * run that measured error replies is reported, not printed as a figure.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/bench/bench.h"

#define LOAD_DRAIN_SECS	5.0
#define LOAD_PREFIX	16

struct lconn {
	int		 fd;
	int64_t		*ts;		/* send times, a ring of depth */
	int		 head, inflight;
	char		*out;		/* bytes the socket did not take */
	size_t		 outlen, outsize;
	char		 pre[LOAD_PREFIX];	/* start of the current reply */
	size_t		 prelen;
	bool		 wantout;	/* EPOLLOUT registered */
};

struct load {
	const struct load_opts	*o;
	struct lconn		*c;
	int			 ep;
	size_t			 cursor;	/* next request, round-robin */
	long			 total;		/* replies, warm-up included */
	long			 counted;
	int64_t			 t0, tend;	/* counted interval */
	bool			 stopping;
	double			*lat;		/* microseconds */
	size_t			 nlat, latsize;
	long			 bad;
	char			 badpre[LOAD_PREFIX + 1];
	char			 expect[LOAD_PREFIX];
	size_t			 explen;
};

static int	load_send(struct load *, struct lconn *, int);
static int	load_read(struct load *, struct lconn *);
static void	load_reply(struct load *, struct lconn *, int64_t);
static void	load_lat(struct load *, double);

/* Queue k more requests on c and write them. */
static int
load_send(struct load *l, struct lconn *c, int k)
{
	const struct load_opts	*o = l->o;
	struct epoll_event	 ev;
	int64_t			 now = bench_now_ns();
	size_t			 i, n;
	ssize_t			 w;
	int			 j;

	for (j = 0; j < k; j++) {
		i = l->cursor++ % o->nreqs;
		n = o->reqlens[i];
		if (c->outsize - c->outlen < n) {
			c->outsize = (c->outlen + n) * 2;
			if ((c->out = realloc(c->out, c->outsize)) == NULL)
				bench_die("out of memory");
		}
		memcpy(c->out + c->outlen, o->reqs[i], n);
		c->outlen += n;
		c->ts[(c->head + c->inflight) % o->depth] = now;
		c->inflight++;
	}
	if (c->outlen == 0)
		return (0);
	w = send(c->fd, c->out, c->outlen, MSG_NOSIGNAL);
	if (w == -1 && errno != EAGAIN && errno != EINTR)
		return (-1);
	if (w > 0) {
		memmove(c->out, c->out + w, c->outlen - w);
		c->outlen -= w;
	}
	if ((c->outlen > 0) != c->wantout) {
		/* Poll for writability only while bytes wait. */
		c->wantout = c->outlen > 0;
		ev = (struct epoll_event){ .events = EPOLLIN |
		    (c->wantout ? EPOLLOUT : 0), .data.u32 = c - l->c };
		if (epoll_ctl(l->ep, EPOLL_CTL_MOD, c->fd, &ev) == -1)
			return (-1);
	}
	return (0);
}

static void
load_lat(struct load *l, double us)
{
	if (l->nlat == l->latsize) {
		l->latsize = l->latsize == 0 ? 65536 : l->latsize * 2;
		if ((l->lat = realloc(l->lat, l->latsize * sizeof *l->lat)) ==
		    NULL)
			bench_die("out of memory");
	}
	l->lat[l->nlat++] = us;
}

/* One complete reply line on c, received at now. */
static void
load_reply(struct load *l, struct lconn *c, int64_t now)
{
	const struct load_opts	*o = l->o;
	int64_t			 sent = c->ts[c->head];

	if (c->inflight == 0) {
		l->bad++;		/* a reply nobody asked for */
		return;
	}
	c->head = (c->head + 1) % o->depth;
	c->inflight--;
	if (c->prelen < l->explen || memcmp(c->pre, l->expect, l->explen)) {
		if (l->bad++ == 0) {
			memcpy(l->badpre, c->pre, c->prelen);
			l->badpre[c->prelen] = '\0';
		}
	}
	c->prelen = 0;
	l->total++;
	if (l->total == o->warmup) {
		l->t0 = now;
		if (o->count == 0)
			l->tend = now + (int64_t)(o->secs * 1e9);
	}
	if (l->total <= o->warmup || l->stopping)
		return;
	l->counted++;
	if (o->latency)
		load_lat(l, (now - sent) / 1e3);
	if (o->count > 0 && l->counted >= o->count) {
		l->stopping = true;
		l->tend = now;
	}
}

/* Read what c has, count reply lines, send as many new requests. */
static int
load_read(struct load *l, struct lconn *c)
{
	char		 buf[65536], *p, *end, *nl;
	int64_t		 now;
	ssize_t		 n;
	int		 lines = 0;
	size_t		 take;

	n = read(c->fd, buf, sizeof buf);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return (0);
	if (n <= 0)
		return (-1);
	now = bench_now_ns();
	for (p = buf, end = buf + n; p < end; p = nl + 1) {
		nl = memchr(p, '\n', end - p);
		take = (nl != NULL ? nl : end) - p;
		if (take > LOAD_PREFIX - c->prelen)
			take = LOAD_PREFIX - c->prelen;
		memcpy(c->pre + c->prelen, p, take);
		c->prelen += take;
		if (nl == NULL)
			break;
		load_reply(l, c, now);
		lines++;
	}
	if (!l->stopping && l->o->count == 0 && now >= l->tend) {
		l->stopping = true;
		l->tend = now;
	}
	if (l->stopping || lines == 0)
		return (0);
	return (load_send(l, c, lines));
}

/* Connect the clients and prime each with depth requests. */
static void
load_setup(struct load *l)
{
	const struct load_opts	*o = l->o;
	struct epoll_event	 ev;
	int			 i;

	if ((l->ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		bench_die("epoll_create1: %s", strerror(errno));
	if ((l->c = calloc(o->nconn, sizeof *l->c)) == NULL)
		bench_die("out of memory");
	for (i = 0; i < o->nconn; i++) {
		if ((l->c[i].fd = bench_connect(o->path)) == -1)
			bench_die("connect %s: %s", o->path, strerror(errno));
		fcntl(l->c[i].fd, F_SETFL, O_NONBLOCK);
		if ((l->c[i].ts = calloc(o->depth, sizeof(int64_t))) == NULL)
			bench_die("out of memory");
		ev = (struct epoll_event){ .events = EPOLLIN, .data.u32 = i };
		if (epoll_ctl(l->ep, EPOLL_CTL_ADD, l->c[i].fd, &ev) == -1)
			bench_die("epoll_ctl: %s", strerror(errno));
	}
}

static void
load_teardown(struct load *l)
{
	int	i;

	for (i = 0; i < l->o->nconn; i++) {
		close(l->c[i].fd);
		free(l->c[i].ts);
		free(l->c[i].out);
	}
	free(l->c);
	free(l->lat);
	close(l->ep);
}

static int
load_loop(struct load *l)
{
	struct epoll_event	 evs[64];
	struct lconn		*c;
	double			 drain = 0;
	long			 inflight;
	int			 n, i;

	for (;;) {
		if (l->stopping) {
			for (inflight = 0, i = 0; i < l->o->nconn; i++)
				inflight += l->c[i].inflight;
			if (inflight == 0)
				return (0);
			if (drain == 0)
				drain = bench_now() + LOAD_DRAIN_SECS;
			else if (bench_now() > drain)
				return (-1);
		}
		if ((n = epoll_wait(l->ep, evs, 64, 1000)) == -1 &&
		    errno != EINTR)
			return (-1);
		for (i = 0; i < n; i++) {
			c = &l->c[evs[i].data.u32];
			if ((evs[i].events & EPOLLOUT) && c->outlen > 0 &&
			    load_send(l, c, 0) == -1)
				return (-1);
			if ((evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) &&
			    load_read(l, c) == -1)
				return (-1);
		}
	}
}

int
load_run(const struct load_opts *o, struct load_result *r)
{
	struct load	l;
	int		i, rc;

	memset(&l, 0, sizeof l);
	l.o = o;
	l.explen = strlen(o->expect);
	if (l.explen > LOAD_PREFIX)
		l.explen = LOAD_PREFIX;
	memcpy(l.expect, o->expect, l.explen);
	load_setup(&l);
	l.t0 = bench_now_ns();
	l.tend = l.t0 + (int64_t)(o->secs * 1e9);
	for (i = 0; i < o->nconn; i++)
		if (load_send(&l, &l.c[i], o->depth) == -1)
			bench_die("send: %s", strerror(errno));
	/* In time mode the clock starts once the warm-up replies are in. */
	if (o->count == 0 && o->warmup > 0)
		l.tend = INT64_MAX;
	rc = load_loop(&l);
	memset(r, 0, sizeof *r);
	r->n = l.counted;
	r->secs = (l.tend - l.t0) / 1e9;
	r->rate = r->secs > 0 ? r->n / r->secs : 0;
	if (o->latency && l.nlat > 0) {
		r->p99_us = bench_quantile(l.lat, l.nlat, 0.99);
		r->p50_us = bench_quantile(l.lat, l.nlat, 0.50);
	}
	if (rc == -1)
		fprintf(stderr, "gtbench: load on %s: connection failed or "
		    "replies missing\n", o->path);
	else if (l.bad > 0)
		fprintf(stderr, "gtbench: load on %s: %ld bad replies, first "
		    "starts %s\n", o->path, l.bad, l.badpre);
	load_teardown(&l);
	return (rc == -1 || l.bad > 0 ? -1 : 0);
}

/*
 * Send one request on fd and read its one-line reply; -1 on failure.  It
 * waits in poll(2) before each read, as an event-loop client (and the
 * epoll engine above) does: a client blocked in read(2) is woken
 * differently and sees gtd about 2 us slower than this, echo not at all.
 */
static int
load_pp_one(int fd, const char *req, size_t len, const char *expect,
    char *buf, size_t size)
{
	struct pollfd	pfd = { .fd = fd, .events = POLLIN };
	size_t		got = 0, off = 0;
	ssize_t		n;

	while (off < len) {
		if ((n = write(fd, req + off, len - off)) == -1 &&
		    errno == EINTR)
			continue;
		if (n <= 0)
			return (-1);
		off += n;
	}
	for (;;) {
		if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
			return (-1);
		if ((n = read(fd, buf + got, size - 1 - got)) == -1 &&
		    errno == EINTR)
			continue;
		if (n <= 0)
			return (-1);
		got += n;
		if (memchr(buf + got - n, '\n', n) != NULL)
			break;
		if (got == size - 1)
			got = 0;	/* a long reply: keep reading */
	}
	buf[got] = '\0';
	return (strncmp(buf, expect, strlen(expect)) == 0 ? 0 : -1);
}

/* Target j's next LOAD_CHUNK requests; latencies from lat[*got] on. */
static int
load_pp_turn(const struct load_target *t, int fd, long *sent, double *lat,
    long *got, long want, char *buf, size_t size)
{
	int64_t	t0;
	size_t	q;
	int	i;

	for (i = 0; i < LOAD_CHUNK && *got < want; i++) {
		q = (size_t)(*sent)++ % t->nreqs;
		t0 = bench_now_ns();
		if (load_pp_one(fd, t->reqs[q], t->reqlens[q], t->expect, buf,
		    size) == -1) {
			fprintf(stderr, "gtbench: %s: bad or no reply: %.80s\n",
			    t->path, buf);
			return (-1);
		}
		if (i >= LOAD_CHUNK_WARM)
			lat[(*got)++] = (bench_now_ns() - t0) / 1e3;
	}
	return (0);
}

int
load_pingpong(const struct load_target *t, int nt, long count, long warmup,
    struct load_result *res)
{
	char		  buf[65536];
	double		**lat;
	long		 *sent, *got, r, left;
	int		 *fd, i, rc = 0;

	if ((fd = calloc(nt, sizeof *fd)) == NULL ||
	    (sent = calloc(nt, sizeof *sent)) == NULL ||
	    (got = calloc(nt, sizeof *got)) == NULL ||
	    (lat = calloc(nt, sizeof *lat)) == NULL)
		bench_die("out of memory");
	for (i = 0; i < nt; i++) {
		if ((fd[i] = bench_connect(t[i].path)) == -1)
			bench_die("connect %s: %s", t[i].path, strerror(errno));
		/* Room for the warm-up too; it is dropped below. */
		if ((lat[i] = calloc(count + warmup, sizeof **lat)) == NULL)
			bench_die("out of memory");
	}
	do {
		for (left = 0, i = 0; i < nt && rc == 0; i++) {
			rc = load_pp_turn(&t[i], fd[i], &sent[i], lat[i],
			    &got[i], count + warmup, buf, sizeof buf);
			left += count + warmup - got[i];
		}
	} while (rc == 0 && left > 0);
	for (i = 0; i < nt; i++) {
		memset(&res[i], 0, sizeof res[i]);
		if (rc == 0) {
			res[i].n = count;
			for (r = warmup; r < count + warmup; r++)
				res[i].secs += lat[i][r] / 1e6;
			res[i].rate = res[i].secs > 0 ? count / res[i].secs : 0;
			res[i].p99_us = bench_quantile(lat[i] + warmup, count,
			    0.99);
			res[i].p50_us = bench_quantile(lat[i] + warmup, count,
			    0.50);
		}
		close(fd[i]);
		free(lat[i]);
	}
	free(lat);
	free(sent);
	free(got);
	free(fd);
	return (rc);
}
