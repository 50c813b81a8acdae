/* SPDX-License-Identifier: MIT */
/*
 * sess: one gtd under test and the bench's connections to it, driven by
 * a single poll loop: ctl carries requests (every reply must be ok), sub
 * carries events (ready events give each child's current pid and time),
 * ping is a ping-pong probe whose round trips are kept, and an extra fd
 * collects a baseline program's output.  The probe is served first in
 * each round so its timestamps are not delayed by the others.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/bench/bench.h"

#define SESS_PING	"{\"op\":\"ping\"}\n"
#define SESS_OK		"{\"ok\":true"

static void	sess_ctl_lines(struct sess *);
static void	sess_sub_lines(struct sess *);
static void	sess_ping_lines(struct sess *, double);
static void	sess_x_read(struct sess *);

static struct bconn *
sess_connect(const char *sock)
{
	int	fd;

	if ((fd = bench_connect(sock)) == -1)
		bench_die("connect %s: %s", sock, strerror(errno));
	return (bconn_new(fd));
}

void
sess_bare(struct sess *s, struct bctx *b)
{
	memset(s, 0, sizeof *s);
	s->b = b;
	s->xfd = -1;
}

void
sess_gtd(struct sess *s, struct bctx *b, const char *name,
    const char *config, const char *events, char prefix, int n)
{
	char	*l;
	int	 i;

	sess_bare(s, b);
	s->prefix = prefix;
	s->n = n;
	if ((s->pids = calloc(n > 0 ? n : 1, sizeof *s->pids)) == NULL ||
	    (s->tstart = malloc((n > 0 ? n : 1) * sizeof *s->tstart)) == NULL)
		bench_die("out of memory");
	for (i = 0; i < n; i++)
		s->tstart[i] = -1;
	server_gtd(&s->srv, b->gtd, b->dir, name, config);
	s->ctl = sess_connect(s->srv.sock);
	s->sub = sess_connect(s->srv.sock);
	l = bconn_req(s->sub, 10.0, "{\"op\":\"subscribe\",\"events\":%s}",
	    events);
	if (l == NULL || strncmp(l, SESS_OK, strlen(SESS_OK)) != 0)
		bench_die("subscribe: %s", l != NULL ? l : "no reply");
}

void
sess_close(struct sess *s)
{
	sess_ping_stop(s);
	bconn_free(s->ctl);
	bconn_free(s->sub);
	s->ctl = s->sub = NULL;
	if (s->srv.pid > 0)
		server_gtd_stop(&s->srv);
	if (s->xfd != -1)
		close(s->xfd);
	free(s->pids);
	free(s->tstart);
	free(s->lat);
	free(s->xout);
	memset(s, 0, sizeof *s);
	s->xfd = -1;
}

void
sess_queue(struct sess *s, const char *fmt, ...)
{
	char	buf[BENCH_MAXREQ];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof buf)
		bench_die("request too long");
	bconn_printf(s->ctl, "%s", buf);
	s->sent++;
}

void
sess_start(struct sess *s, int first, int count, const char *fields)
{
	int	i;

	for (i = first; i < first + count; i++)
		sess_queue(s, "{\"op\":\"start_child\",\"name\":\"%c%d\",%s,"
		    "\"wait\":false}", s->prefix, i, fields);
}

static void
sess_ctl_lines(struct sess *s)
{
	char	*l;

	while ((l = bconn_line(s->ctl)) != NULL) {
		if (strncmp(l, SESS_OK, strlen(SESS_OK)) != 0)
			bench_die("gtd answered %s (see %s)", l, s->srv.log);
		s->replied++;
	}
}

/*
 * {"event":"ready","seq":N,"at":T,"name":"w12","pid":345}; a started
 * event (when subscribed) is stamped when it is read.
 */
static void
sess_sub_lines(struct sess *s)
{
	char	*l, name[64];
	long	 i;
	bool	 started;

	while ((l = bconn_line(s->sub)) != NULL) {
		if (strncmp(l, "{\"event\":\"stopped\"", 18) == 0) {
			s->nstopped++;
			continue;
		}
		started = strncmp(l, "{\"event\":\"started\"", 18) == 0;
		if (!started && strncmp(l, "{\"event\":\"ready\"", 16) != 0)
			continue;
		if (!bench_json_str(l, "name", name, sizeof name) ||
		    name[0] != s->prefix)
			continue;
		i = strtol(name + 1, NULL, 10);
		if (started) {
			if (i >= 0 && i < s->n && s->tstart[i] < 0)
				s->tstart[i] = bench_now_ns();
			continue;
		}
		if (i >= 0 && i < s->n)
			s->pids[i] = (pid_t)bench_json_int(l, "pid", 0);
		s->nready++;
		s->tready = bench_now();
	}
}

static void
sess_ping_lines(struct sess *s, double now)
{
	char	*l;

	while ((l = bconn_line(s->ping)) != NULL) {
		if (strncmp(l, SESS_OK, strlen(SESS_OK)) != 0)
			bench_die("ping answered %s", l);
		if (s->nlat == s->latsize) {
			s->latsize = s->latsize ? s->latsize * 2 : 4096;
			s->lat = realloc(s->lat, s->latsize * sizeof *s->lat);
			if (s->lat == NULL)
				bench_die("out of memory");
		}
		s->lat[s->nlat++] = (now - s->pingsent) * 1e6;
		bconn_queue(s->ping, SESS_PING, strlen(SESS_PING));
		s->pingsent = bench_now();
		if (bconn_flush(s->ping) == -1)
			bench_die("ping: %s", strerror(errno));
	}
}

static void
sess_x_read(struct sess *s)
{
	ssize_t	n;

	if (s->xsize - s->xlen < 4096) {
		s->xsize = s->xsize ? s->xsize * 2 : 65536;
		if ((s->xout = realloc(s->xout, s->xsize)) == NULL)
			bench_die("out of memory");
	}
	n = read(s->xfd, s->xout + s->xlen, s->xsize - s->xlen - 1);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		s->xeof = true;
		close(s->xfd);
		s->xfd = -1;
		return;
	}
	s->xlen += n;
	s->xout[s->xlen] = '\0';
}

void
sess_pump(struct sess *s, int ms)
{
	struct pollfd	 pfd[4];
	struct bconn	*bc[3] = { s->ping, s->ctl, s->sub }, *c;
	double		 now;
	int		 i, np = 0, which[4];

	for (i = 0; i < 3; i++) {
		if (bc[i] == NULL)
			continue;
		if (bconn_flush(bc[i]) == -1)
			bench_die("send to gtd: %s", strerror(errno));
		which[np] = i;
		pfd[np++] = (struct pollfd){ .fd = bc[i]->fd, .events = POLLIN |
		    (bc[i]->outlen > bc[i]->outoff ? POLLOUT : 0) };
	}
	if (s->xfd != -1) {
		which[np] = -1;
		pfd[np++] = (struct pollfd){ .fd = s->xfd, .events = POLLIN };
	}
	if (poll(pfd, np, ms) <= 0)
		return;
	now = bench_now();
	for (i = 0; i < np; i++) {
		if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (which[i] == -1) {
			sess_x_read(s);
			continue;
		}
		c = bc[which[i]];
		if (bconn_fill(c) == -1 || c->eof)
			bench_die("connection to %s closed (see %s)",
			    c == s->ping ? "the probe" : "gtd", s->srv.log);
		if (c == s->ping)
			sess_ping_lines(s, now);
		else if (c == s->ctl)
			sess_ctl_lines(s);
		else
			sess_sub_lines(s);
	}
}

void
sess_until(struct sess *s, bool (*cond)(struct sess *, long), long arg,
    double secs, const char *what)
{
	double	end = bench_now() + secs;

	while (!cond(s, arg)) {
		if (bench_now() > end)
			bench_die("%s: not done after %.0f s (ready %ld, "
			    "replies %ld/%ld; see %s)", what, secs, s->nready,
			    s->replied, s->sent, s->srv.log);
		sess_pump(s, 100);
	}
}

bool
sess_all_ready(struct sess *s, long n)
{
	return (s->nready >= n && s->replied >= s->sent);
}

bool
sess_all_replied(struct sess *s, long n)
{
	(void)n;		/* every queued request */
	return (s->replied >= s->sent);
}

void
sess_new_ctl(struct sess *s)
{
	sess_until(s, sess_all_replied, 0, 60.0, "replies");
	bconn_free(s->ctl);
	s->ctl = sess_connect(s->srv.sock);
	s->sent = s->replied = 0;
}

long
sess_barrier_rss(struct sess *s)
{
	struct bconn	*bc = sess_connect(s->srv.sock);
	char		*l;

	l = bconn_req(bc, 30.0, "{\"op\":\"ping\"}");
	if (l == NULL || strncmp(l, SESS_OK, strlen(SESS_OK)) != 0)
		bench_die("ping: %s", l != NULL ? l : "no reply");
	bconn_free(bc);
	/* A second one: the first connection has been reaped by now. */
	bc = sess_connect(s->srv.sock);
	(void)bconn_req(bc, 30.0, "{\"op\":\"ping\"}");
	bconn_free(bc);
	return (bench_rss_kib(s->srv.pid));
}

void
sess_ping_start(struct sess *s, const char *sock)
{
	s->ping = sess_connect(sock);
	s->nlat = 0;
	bconn_queue(s->ping, SESS_PING, strlen(SESS_PING));
	s->pingsent = bench_now();
}

void
sess_ping_stop(struct sess *s)
{
	bconn_free(s->ping);
	s->ping = NULL;
}

void
sess_watch(struct sess *s, int fd)
{
	s->xfd = fd;
	s->xlen = 0;
	s->xeof = false;
}

double
sess_xval(struct sess *s, const char *key)
{
	char		 pat[64];
	const char	*p;

	snprintf(pat, sizeof pat, "%s=", key);
	if (s->xout == NULL || (p = strstr(s->xout, pat)) == NULL)
		return (-1);
	return (strtod(p + strlen(pat), NULL));
}
