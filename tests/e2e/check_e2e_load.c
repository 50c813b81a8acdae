/* SPDX-License-Identifier: MIT */
/*
 * check_e2e_load: 1000 concurrent connections and a million requests
 * against the real daemon: every reply arrives, in order, with its id,
 * nothing is lost or duplicated, and gtd's memory stays bounded.  Not a
 * timed test: the speed is measured by `make bench`.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <check.h>

#include "harness.h"

#define LOAD_CONNS	1000
#define LOAD_PER_CONN	1000	/* requests per connection: 1M in all */
#define LOAD_DEPTH	32	/* requests in flight per connection */

struct load_conn {
	int	 fd;
	int	 sent;		/* requests written */
	int	 got;		/* replies read and checked */
	char	 in[8192];
	size_t	 inlen;
};

/* Request n of a connection: a mix of the hot read and write ops. */
static int
load_request(char *buf, size_t size, int n)
{
	switch (n % 4) {
	case 0:
		return (snprintf(buf, size, "{\"id\":%d,\"op\":\"find\","
		    "\"name\":\"w\"}\n", n));
	case 1:
		return (snprintf(buf, size, "{\"id\":%d,\"op\":\"getattr\","
		    "\"name\":\"w\",\"key\":\"k\"}\n", n));
	case 2:
		return (snprintf(buf, size, "{\"id\":%d,\"op\":\"increment\","
		    "\"name\":\"w\",\"key\":\"n\",\"default\":0}\n", n));
	default:
		return (snprintf(buf, size, "{\"id\":%d,\"op\":\"ping\"}\n",
		    n));
	}
}

static void
load_send(struct load_conn *lc)
{
	char	buf[LOAD_DEPTH * 96];
	size_t	len = 0;

	while (lc->sent < LOAD_PER_CONN && lc->sent - lc->got < LOAD_DEPTH)
		len += load_request(buf + len, sizeof buf - len, lc->sent++);
	if (len > 0)
		ck_assert_int_eq(write(lc->fd, buf, len), (ssize_t)len);
}

/* Check each complete reply line: the next id, and ok. */
static void
load_recv(struct load_conn *lc)
{
	char	*nl, *p, want[64];
	ssize_t	 n;
	int	 wlen;

	n = read(lc->fd, lc->in + lc->inlen, sizeof lc->in - lc->inlen);
	ck_assert_msg(n > 0, "connection closed after %d replies", lc->got);
	lc->inlen += n;
	p = lc->in;
	while ((nl = memchr(p, '\n', lc->in + lc->inlen - p)) != NULL) {
		*nl = '\0';
		/* The next id, in order, and a success. */
		wlen = snprintf(want, sizeof want, "{\"id\":%d,\"ok\":true",
		    lc->got);
		ck_assert_msg(strncmp(p, want, wlen) == 0, "reply %s, want "
		    "%s...", p, want);
		lc->got++;
		p = nl + 1;
	}
	lc->inlen -= p - lc->in;
	memmove(lc->in, p, lc->inlen);
}

START_TEST(e2e_load_million)
{
	struct e2e		*e = e2e_start("{\"max_connections\": 2000}");
	struct load_conn	*lc;
	struct pollfd		*pfd;
	struct rlimit		 rl;
	long			 rss0, rss1, total = 0;
	int			 i, left = LOAD_CONNS, n;
	json_t			*r;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = rl.rlim_max;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	e2e_ok(e, "start_child", "{s:s, s:o, s:{s:s}}", "name", "w",
	    "cmd", e2e_cmd(NULL), "attrs", "k", "v");
	rss0 = e2e_rss_kib(e2e_pid(e));
	lc = calloc(LOAD_CONNS, sizeof *lc);
	pfd = calloc(LOAD_CONNS, sizeof *pfd);
	for (i = 0; i < LOAD_CONNS; i++) {
		lc[i].fd = pfd[i].fd = e2e_raw_connect(e, false);
		pfd[i].events = POLLIN;
		load_send(&lc[i]);
	}
	while (left > 0) {
		n = poll(pfd, LOAD_CONNS, 20000);
		ck_assert_msg(n > 0, "no reply for 20 s (%d connections "
		    "unfinished)", left);
		for (i = 0; i < LOAD_CONNS && n > 0; i++) {
			if (pfd[i].revents == 0)
				continue;
			n--;
			load_recv(&lc[i]);
			load_send(&lc[i]);
			if (lc[i].got == LOAD_PER_CONN) {
				total += lc[i].got;
				close(lc[i].fd);
				pfd[i].fd = -1;
				left--;
			}
		}
	}
	ck_assert_int_eq(total, (long)LOAD_CONNS * LOAD_PER_CONN);
	/* Every increment counted exactly once. */
	r = e2e_ok(e, "getattr", "{s:s, s:s}", "name", "w", "key", "n");
	ck_assert_int_eq(e2e_int(r, "value"), LOAD_CONNS * (LOAD_PER_CONN / 4));
	rss1 = e2e_rss_kib(e2e_pid(e));
	fprintf(stderr, "load: %ld replies on %d connections, gtd RSS %ld -> "
	    "%ld kB\n", total, LOAD_CONNS, rss0, rss1);
	/* Generous: buffers of 1000 connections are the only growth. */
	ck_assert_msg(rss1 - rss0 < e2e_rss_bound(128 * 1024), "RSS grew by "
	    "%ld kB", rss1 - rss0);
	free(lc);
	free(pfd);
	e2e_stop(e);
}
END_TEST

Suite *
e2e_load_suite(void)
{
	Suite	*s = suite_create("e2e_load");
	TCase	*tc = tcase_create("load");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, e2e_load_million);
	suite_add_tcase(s, tc);
	return (s);
}
