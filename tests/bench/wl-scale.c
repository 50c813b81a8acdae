/* SPDX-License-Identifier: MIT */
/*
 * wl-scale: does find slow down as the registry grows?  Two gtds, each
 * with the same live children, one with 1k registry rows and one with
 * BIG rows, measured alternately with the same random sequence of find
 * requests (1 client ping-pong).  100k processes do not fit this machine
 * (pid_max is 32768), so the extra rows are adopted processes that then
 * die: add_existing_child with a cmd and on_exit stop keeps a "stopped"
 * row each (children table, name hash, SQLite mirror), and the bench only
 * forks a pausing process per row for the moment it is adopted.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/bench/bench.h"

#define SCALE_BATCH	4000		/* pidfds gtd holds at once */
#define SCALE_NREQ	4096		/* distinct find requests */
#define SCALE_SECS	300.0

struct scale_reqs {
	const char	*r[SCALE_NREQ];
	size_t		 len[SCALE_NREQ];
	char		 buf[SCALE_NREQ][64];
};

static bool
scale_stopped(struct sess *s, long n)
{
	return (s->nstopped >= n);
}

/* A process that only waits to be adopted and killed. */
static pid_t
scale_fork(void)
{
	pid_t	pid;

	if ((pid = fork()) == -1)
		bench_die("fork: %s", strerror(errno));
	if (pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		(void)close_range(3, ~0U, 0);	/* not our sockets */
		for (;;)
			pause();
	}
	return (pid);
}

/* Add rows stopped rows: adopt a batch of processes, kill them, wait. */
static void
scale_grow(struct sess *s, long rows)
{
	pid_t	*pids;
	long	 done, base, n, i;

	if ((pids = calloc(SCALE_BATCH, sizeof *pids)) == NULL)
		bench_die("out of memory");
	for (done = 0; done < rows; done += n) {
		n = rows - done < SCALE_BATCH ? rows - done : SCALE_BATCH;
		for (i = 0; i < n; i++)
			pids[i] = scale_fork();
		for (i = 0; i < n; i++)
			sess_queue(s, "{\"op\":\"add_existing_child\",\"name\":"
			    "\"x%ld\",\"pid\":%d,\"cmd\":[\"/bin/false\"],"
			    "\"on_exit\":[{\"action\":\"stop\"}]}", done + i,
			    (int)pids[i]);
		sess_until(s, sess_all_replied, 0, SCALE_SECS, "adopt");
		base = s->nstopped;
		for (i = 0; i < n; i++)
			kill(pids[i], SIGKILL);
		for (i = 0; i < n; i++)
			waitpid(pids[i], NULL, 0);
		sess_until(s, scale_stopped, base + n, SCALE_SECS, "stopped");
	}
	free(pids);
}

static long
scale_rows(struct sess *s)
{
	int		 fd;
	struct bconn	*bc;
	long		 n;
	char		*l;

	if ((fd = bench_connect(s->srv.sock)) == -1)
		bench_die("connect: %s", strerror(errno));
	bc = bconn_new(fd);
	l = bconn_req(bc, 30.0, "{\"op\":\"count_children\"}");
	n = l != NULL ? bench_json_int(l, "specs", -1) : -1;
	bconn_free(bc);
	return (n);
}

static void
scale_setup(struct bctx *b, struct sess *s, const char *name,
    const char *config, long rows)
{
	char	fields[8192];

	snprintf(fields, sizeof fields, "\"cmd\":[\"%s\"],\"stdout\":\"null\","
	    "\"stderr\":\"null\"", b->idle);
	sess_gtd(s, b, name, config, "[\"ready\",\"stopped\"]", 's',
	    b->nchild);
	sess_start(s, 0, b->nchild, fields);
	sess_until(s, sess_all_ready, b->nchild, SCALE_SECS, "W-scale start");
	if (rows > b->nchild)
		scale_grow(s, rows - b->nchild);
	sess_new_ctl(s);
	if (scale_rows(s) != rows)
		bench_die("W-scale: %s has %ld rows, not %ld", name,
		    scale_rows(s), rows);
}

/* One run: small and big interleaved request by request. */
static void
scale_load(struct bctx *b, struct sess *small, struct sess *big,
    struct scale_reqs *q, double v[4][BENCH_MAXREPS], int run)
{
	struct load_result	r[2];
	struct load_target	t[2] = {
		{ .path = small->srv.sock, .reqs = q->r, .reqlens = q->len,
		    .nreqs = SCALE_NREQ, .expect = "{\"ok\":true" },
		{ .path = big->srv.sock, .reqs = q->r, .reqlens = q->len,
		    .nreqs = SCALE_NREQ, .expect = "{\"ok\":true" }
	};

	/* On one cpu, as the 1c figures of wl-rr.c and for the same reason. */
	bench_pin(0, 0);
	bench_pin(small->srv.pid, 0);
	bench_pin(big->srv.pid, 0);
	if (load_pingpong(t, 2, b->pp_count, b->pp_count / 10, r) == -1)
		bench_die("W-scale: load failed");
	bench_pin(0, -1);
	bench_pin(small->srv.pid, -1);
	bench_pin(big->srv.pid, -1);
	v[0][run] = r[0].p50_us;
	v[1][run] = r[1].p50_us;
	v[2][run] = r[0].p99_us;
	v[3][run] = r[1].p99_us;
}

/* "1k" for 1000, "100k" for 100000, else the number. */
static void
scale_count(char *buf, size_t size, long n)
{
	if (n % 1000 == 0)
		snprintf(buf, size, "%ldk", n / 1000);
	else
		snprintf(buf, size, "%ld", n);
}

static void
scale_report(struct bctx *b, double v[4][BENCH_MAXREPS], long big)
{
	struct figure	f = { .unit = "us", .n = b->reps };
	char		n[4][64], sm[32], bg[32];
	int		i;

	scale_count(sm, sizeof sm, b->nchild);
	scale_count(bg, sizeof bg, big);
	snprintf(n[0], sizeof n[0], "W-scale find p50 %s rows", sm);
	snprintf(n[1], sizeof n[1], "W-scale find p50 %s rows", bg);
	snprintf(n[2], sizeof n[2], "W-scale find p99 %s rows", sm);
	snprintf(n[3], sizeof n[3], "W-scale find p99 %s rows", bg);
	report_section("W-scale: find, 1 client ping-pong on one cpu, the two "
	    "gtds taking turns every %d requests, random names of %d live "
	    "children, in %d vs %ld "
	    "registry rows (extra rows: adopted, then stopped)", LOAD_CHUNK,
	    b->nchild, b->nchild, big);
	for (i = 0; i < 4; i++) {
		f.name = n[i];
		f.v = v[i];
		/* Odd lines are the big registry, against the small one. */
		f.bname = i % 2 ? sm : NULL;
		f.b = i % 2 ? v[i - 1] : NULL;
		f.nb = i % 2 ? b->reps : 0;
		f.target = i == 3 ? TARGET_RATIO_LE : TARGET_NONE;
		f.limit = 1.2;
		report(b, &f);
	}
}

void
wl_scale(struct bctx *b)
{
	struct sess		 small, big;
	struct scale_reqs	*q;
	double			 v[4][BENCH_MAXREPS];
	char			 config[128];
	FILE			*f;
	int			 i, run;

	snprintf(config, sizeof config, "%s/scale.json", b->dir);
	if ((f = fopen(config, "w")) == NULL)
		bench_die("%s: %s", config, strerror(errno));
	fprintf(f, "{\"max_children\":%d}\n", b->nscale + b->nchild);
	fclose(f);
	if ((q = calloc(1, sizeof *q)) == NULL)
		bench_die("out of memory");
	srandom(1);			/* the same sequence every time */
	for (i = 0; i < SCALE_NREQ; i++) {
		q->len[i] = snprintf(q->buf[i], sizeof q->buf[i],
		    "{\"op\":\"find\",\"name\":\"s%ld\"}\n",
		    random() % b->nchild);
		q->r[i] = q->buf[i];
	}
	bench_note("W-scale: %d rows", b->nchild);
	scale_setup(b, &small, "gtd-small", config, b->nchild);
	bench_note("W-scale: %d rows (adopting %d processes)", b->nscale,
	    b->nscale - b->nchild);
	scale_setup(b, &big, "gtd-big", config, b->nscale);
	for (run = 0; run < b->reps; run++) {
		bench_note("W-scale run %d/%d", run + 1, b->reps);
		scale_load(b, &small, &big, q, v, run);
	}
	sess_close(&small);
	sess_close(&big);
	free(q);
	scale_report(b, v, b->nscale);
}
