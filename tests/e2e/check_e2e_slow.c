/* SPDX-License-Identifier: MIT */
/*
 * check_e2e_slow: a thousand slow starts.  1000 children that each become
 * ready one second after they start (half by sd_notify READY=1, half by
 * a newline on a ready fd) are requested at once: 1000 pipelined
 * start_child with wait:false on one connection.  They must start
 * concurrently, so all are running in about a second (asserted within a
 * generous deadline), while ping and find on another connection keep
 * answering promptly.  Then SIGTERM stops all of them within the
 * shutdown timeout.  Every deadline and bound is stretched by E2E_SLOW
 * (under valgrind every fork of gtd is many times slower).
 *
 * The figures go to stderr for the record:
 *   slow-start: N children ready in X ms; ping p99 Y ms
 *
 * The test drives its three connections itself, non-blocking, from one
 * poll loop (the harness's connections wait for one reply at a time).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "harness.h"

/*
 * Under ASan every child is an instrumented process that takes tens of
 * milliseconds of CPU to start: the sanitizer run (make check-asan)
 * checks the same code paths with 100 children and looser bounds; the
 * figures worth quoting come from the plain build.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SLOW_SANITIZED	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLOW_SANITIZED	1
#endif
#endif

#ifdef SLOW_SANITIZED
#define SLOW_N		100
#define SLOW_ALL_MS	30000		/* all of them running by then */
#define SLOW_REPLY_MS	2000		/* bound on each ping/find reply */
#else
#define SLOW_N		1000
#define SLOW_ALL_MS	10000		/* all of them running by then */
#define SLOW_REPLY_MS	200		/* bound on each ping/find reply */
#endif
#define SLOW_READY_MS	1000		/* each child's start-up time */
#define SLOW_PROBE_MS	10		/* pause between two probes */
#define SLOW_STATS_MS	20		/* pause between stats polls */
#define SLOW_STOP_MS	10000		/* SIGTERM to gtd's exit */
#define SLOW_MAX_LAT	4096		/* latencies kept */

/* One non-blocking line connection. */
struct lc {
	int	 fd;
	char	*in;
	size_t	 inlen, insize;
	char	*out;
	size_t	 outlen, outoff, outsize;
};

static void	 lc_open(struct lc *, const char *);
static void	 lc_close(struct lc *);
static void	 lc_queue(struct lc *, const char *);
static short	 lc_events(const struct lc *);
static void	 lc_io(struct lc *, short);
static json_t	*lc_line(struct lc *);
static int	 cmp_long(const void *, const void *);

static void
lc_open(struct lc *c, const char *path)
{
	struct sockaddr_un	sun;

	memset(c, 0, sizeof *c);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	ck_assert_uint_lt(strlen(path), sizeof sun.sun_path);
	strcpy(sun.sun_path, path);
	ck_assert_int_ne(c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
	    0), -1);
	ck_assert_msg(connect(c->fd, (struct sockaddr *)&sun, sizeof sun) ==
	    0, "connect %s: %s", path, strerror(errno));
	ck_assert_int_ne(fcntl(c->fd, F_SETFL, O_NONBLOCK), -1);
}

static void
lc_close(struct lc *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	free(c->in);
	free(c->out);
	c->in = c->out = NULL;
}

/* Queue line plus '\n' for sending. */
static void
lc_queue(struct lc *c, const char *line)
{
	size_t	n = strlen(line);

	if (c->outsize - c->outlen < n + 1) {
		while (c->outsize - c->outlen < n + 1)
			c->outsize = c->outsize == 0 ? 65536 : c->outsize * 2;
		ck_assert_ptr_nonnull(c->out = realloc(c->out, c->outsize));
	}
	memcpy(c->out + c->outlen, line, n);
	c->out[c->outlen + n] = '\n';
	c->outlen += n + 1;
}

static short
lc_events(const struct lc *c)
{
	return (POLLIN | (c->outoff < c->outlen ? POLLOUT : 0));
}

/* Write what can be written, read what is there. */
static void
lc_io(struct lc *c, short revents)
{
	ssize_t	n;

	if (revents & POLLOUT) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_NOSIGNAL);
		ck_assert_msg(n >= 0 || errno == EAGAIN || errno == EINTR,
		    "send: %s", strerror(errno));
		if (n > 0)
			c->outoff += n;
		if (c->outoff == c->outlen)
			c->outoff = c->outlen = 0;
	}
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		if (c->insize - c->inlen < 65536) {
			c->insize = c->insize == 0 ? 262144 : c->insize * 2;
			ck_assert_ptr_nonnull(c->in = realloc(c->in,
			    c->insize));
		}
		n = read(c->fd, c->in + c->inlen, c->insize - c->inlen);
		ck_assert_msg(n != 0, "gtd closed the connection");
		ck_assert_msg(n > 0 || errno == EAGAIN || errno == EINTR,
		    "read: %s", strerror(errno));
		if (n > 0)
			c->inlen += n;
	}
}

/* The next complete reply line, parsed (the caller frees), or NULL. */
static json_t *
lc_line(struct lc *c)
{
	json_error_t	 je;
	char		*nl;
	json_t		*j;
	size_t		 len;

	if (c->inlen == 0 || (nl = memchr(c->in, '\n', c->inlen)) == NULL)
		return (NULL);
	len = nl - c->in;
	j = json_loadb(c->in, len, 0, &je);
	ck_assert_msg(json_is_object(j), "bad reply %.*s: %s", (int)len,
	    c->in, je.text);
	memmove(c->in, nl + 1, c->inlen - len - 1);
	c->inlen -= len + 1;
	return (j);
}

static int
cmp_long(const void *a, const void *b)
{
	long	x = *(const long *)a, y = *(const long *)b;

	return (x < y ? -1 : x > y);
}

START_TEST(e2e_slow_thousand)
{
	struct e2e	*e = e2e_start(NULL);
	struct lc	 a, b, s;
	struct pollfd	 pfd[3];
	json_t		*req, *r, *by;
	char		*line, name[32];
	const char	*bad = NULL, *slow = "";
	long		*lat, t0, now, deadline, all_ms = -1, sent_b = 0;
	long		 next_b = 0, next_s = 0, sent_s = 0, stop_ms;
	long		 p99, worst = 0;
	int		 i, nlat = 0, replies = 0, running = 0, probe = 0;
	int		 nslow = 0;
	int		 st;
	bool		 wait_b = false, wait_s = false, exited;

	ck_assert_ptr_nonnull(lat = calloc(SLOW_MAX_LAT, sizeof *lat));
	lc_open(&a, e2e_sock(e));
	lc_open(&b, e2e_sock(e));
	lc_open(&s, e2e_sock(e));
	/* All 1000 requests queued at once; half notify, half a ready fd. */
	for (i = 0; i < SLOW_N; i++) {
		snprintf(name, sizeof name, "s%04d", i);
		if (i % 2 == 0)
			req = json_pack("{s:i, s:s, s:s, s:o, s:s, s:b}",
			    "id", i, "op", "start_child", "name", name,
			    "cmd", e2e_cmd(e2e_fmt(e,
			    "--notify-ready-after-ms=%d", SLOW_READY_MS), NULL),
			    "ready", "notify", "wait", 0);
		else
			req = json_pack("{s:i, s:s, s:s, s:o, s:{s:i}, s:b}",
			    "id", i, "op", "start_child", "name", name,
			    "cmd", e2e_cmd("--ready-fd=3", e2e_fmt(e,
			    "--ready-fd-after-ms=%d", SLOW_READY_MS), NULL),
			    "ready", "fd", 3, "wait", 0);
		line = json_dumps(req, JSON_COMPACT);
		lc_queue(&a, line);
		free(line);
		json_decref(req);
	}
	t0 = e2e_now_ms();
	deadline = t0 + e2e_slow(SLOW_ALL_MS);
	while ((replies < SLOW_N || all_ms < 0) &&
	    (now = e2e_now_ms()) < deadline) {
		/* ping and find, one at a time, in turn */
		if (!wait_b && now >= next_b) {
			snprintf(name, sizeof name, "s%04d",
			    (probe * 37) % SLOW_N);
			if (probe % 2 == 0)
				lc_queue(&b, "{\"id\":\"p\",\"op\":\"ping\"}");
			else {
				lc_queue(&b, e2e_fmt(e, "{\"id\":\"f\","
				    "\"op\":\"find\",\"name\":\"%s\"}", name));
			}
			probe++;
			sent_b = now;
			wait_b = true;
		}
		if (!wait_s && now >= next_s) {
			lc_queue(&s, "{\"id\":\"s\",\"op\":\"stats\"}");
			sent_s = now;
			wait_s = true;
		}
		pfd[0].fd = a.fd;
		pfd[0].events = lc_events(&a);
		pfd[1].fd = b.fd;
		pfd[1].events = lc_events(&b);
		pfd[2].fd = s.fd;
		pfd[2].events = lc_events(&s);
		if (poll(pfd, 3, 5) == -1) {
			ck_assert_int_eq(errno, EINTR);
			continue;
		}
		lc_io(&a, pfd[0].revents);
		lc_io(&b, pfd[1].revents);
		lc_io(&s, pfd[2].revents);
		now = e2e_now_ms();
		while ((r = lc_line(&a)) != NULL) {
			if (bad == NULL && (!json_is_true(json_object_get(r,
			    "ok")) || !json_is_integer(json_object_get(r,
			    "pid"))))
				bad = e2e_dump(e, r);
			replies++;
			json_decref(r);
		}
		while ((r = lc_line(&b)) != NULL) {
			ck_assert_msg(json_is_true(json_object_get(r, "ok")) ||
			    strcmp(json_string_value(json_object_get(r,
			    "error")), "not_found") == 0, "probe: %s",
			    e2e_dump(e, r));
			if (nlat < SLOW_MAX_LAT)
				lat[nlat++] = now - sent_b;
			if (now - sent_b >= e2e_slow(SLOW_REPLY_MS) &&
			    nslow++ < 8)
				slow = e2e_fmt(e, "%s %ld ms at +%ld ms "
				    "(%d start_child answered);", slow,
				    now - sent_b, sent_b - t0, replies);
			if (now - sent_b > worst)
				worst = now - sent_b;
			wait_b = false;
			next_b = now + SLOW_PROBE_MS;
			json_decref(r);
		}
		while ((r = lc_line(&s)) != NULL) {
			by = json_object_get(r, "by_state");
			ck_assert_msg(json_is_object(by), "stats: %s",
			    e2e_dump(e, r));
			running = (int)json_integer_value(json_object_get(by,
			    "running"));
			if (running == SLOW_N && all_ms < 0)
				all_ms = sent_s - t0;
			wait_s = false;
			next_s = now + SLOW_STATS_MS;
			json_decref(r);
		}
		/* a probe that takes too long fails the test at once */
		ck_assert_msg(!wait_b || now - sent_b < e2e_slow(5000),
		    "no ping/find reply for %ld ms", now - sent_b);
	}
	qsort(lat, nlat, sizeof *lat, cmp_long);
	p99 = nlat > 0 ? lat[(nlat * 99 + 99) / 100 - 1] : -1;
	fprintf(stderr, "slow-start: %d children ready in %ld ms; ping p99 "
	    "%ld ms (max %ld ms, %d probes)\n", running, all_ms, p99, worst,
	    nlat);
	lc_close(&a);
	lc_close(&b);
	lc_close(&s);
	free(lat);

	/* shutdown: all of them stopped within the (5 s) shutdown timeout */
	t0 = e2e_now_ms();
	kill(e2e_pid(e), SIGTERM);
	exited = e2e_wait_exit(e, SLOW_STOP_MS, &st);
	stop_ms = e2e_now_ms() - t0;
	fprintf(stderr, "slow-start: shutdown of %d children took %ld ms\n",
	    SLOW_N, stop_ms);

	ck_assert_msg(bad == NULL, "start_child: %s", bad);
	ck_assert_msg(replies == SLOW_N, "%d of %d start_child replies "
	    "within %ld ms", replies, SLOW_N, e2e_slow(SLOW_ALL_MS));
	ck_assert_msg(all_ms >= 0, "%d of %d children running after %ld ms",
	    running, SLOW_N, e2e_slow(SLOW_ALL_MS));
	ck_assert_msg(all_ms >= SLOW_READY_MS - 50, "all ready after %ld ms, "
	    "before their own %d ms", all_ms, SLOW_READY_MS);
	ck_assert_msg(nlat > 0, "no ping/find probe answered");
	ck_assert_msg(exited, "gtd still there %ld ms after SIGTERM",
	    e2e_slow(SLOW_STOP_MS));
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x",
	    st);
	ck_assert_msg(stop_ms < e2e_slow(5000), "shutdown took %ld ms",
	    stop_ms);
	ck_assert_msg(worst < e2e_slow(SLOW_REPLY_MS), "a ping/find reply "
	    "took %ld ms (p99 %ld ms), want < %ld; slow ones:%s", worst, p99,
	    e2e_slow(SLOW_REPLY_MS), slow);
	e2e_stop(e);
}
END_TEST

Suite *
e2e_slow_suite(void)
{
	Suite	*s = suite_create("e2e_slow");
	TCase	*tc;

	tc = tcase_create("slow_start");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, e2e_slow_thousand);
	suite_add_tcase(s, tc);
	return (s);
}
