/* SPDX-License-Identifier: MIT */
/*
 * wl-rr: the request/response workloads W-find, W-getattr and
 * W-increment, in three client shapes (1 client ping-pong, 50 clients,
 * 1 client pipelining 16 deep), against the echo baseline and, when
 * installed, redis-server's HINCRBY, all through the same load generator.
 * Each run measures every server back to back, so a ratio compares
 * figures taken under the same machine noise.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/bench/bench.h"

#define RR_NAMES	50		/* children t0..t49, one per client */

enum rr_shape { RR_1C, RR_50C, RR_P16, RR_NSHAPES };
enum rr_target { RR_ECHO, RR_FIND, RR_GETATTR, RR_INCR, RR_REDIS, RR_NTARGETS };

static const char *const rr_shape_names[RR_NSHAPES] = { "1c", "50c", "p16" };
static const char *const rr_target_names[RR_NTARGETS] = { "echo", "W-find",
    "W-getattr", "W-increment", "redis HINCRBY" };

struct rr_reqs {
	const char	*r[RR_NAMES];
	size_t		 len[RR_NAMES];
	char		 buf[RR_NAMES][160];
};

struct rr {
	struct bctx	*b;
	struct server	 echo, gtd, redis;
	bool		 have_redis;
	struct rr_reqs	 q[RR_NTARGETS];
	/* [target][run] */
	double		 p50[RR_NTARGETS][BENCH_MAXREPS];
	double		 p99[RR_NTARGETS][BENCH_MAXREPS];
	double		 rate[RR_NSHAPES][RR_NTARGETS][BENCH_MAXREPS];
	double		 rb[RR_NSHAPES][BENCH_MAXREPS];	/* redis-benchmark */
};

/* One request line per child name: {"op":OP,"name":"tN"EXTRA}. */
static void
rr_build(struct rr_reqs *q, const char *op, const char *extra)
{
	int	i, n;

	for (i = 0; i < RR_NAMES; i++) {
		n = snprintf(q->buf[i], sizeof q->buf[i],
		    "{\"op\":\"%s\",\"name\":\"t%d\"%s}\n", op, i, extra);
		q->r[i] = q->buf[i];
		q->len[i] = n;
	}
}

/* RESP for HINCRBY tN n 1: the name length is part of the framing. */
static void
rr_build_redis(struct rr_reqs *q)
{
	char	name[16];
	int	i, n;

	for (i = 0; i < RR_NAMES; i++) {
		n = snprintf(name, sizeof name, "t%d", i);
		n = snprintf(q->buf[i], sizeof q->buf[i], "*4\r\n$7\r\nHINCRBY"
		    "\r\n$%d\r\n%s\r\n$1\r\nn\r\n$1\r\n1\r\n", n, name);
		q->r[i] = q->buf[i];
		q->len[i] = n;
	}
}

/* gtd with RR_NAMES idle children, each with attrs k="v" and n=0. */
static void
rr_setup_gtd(struct rr *rr)
{
	struct bconn	*bc;
	char		*l;
	int		 fd, i;

	server_gtd(&rr->gtd, rr->b->gtd, rr->b->dir, "gtd", NULL);
	if ((fd = bench_connect(rr->gtd.sock)) == -1)
		bench_die("connect %s", rr->gtd.sock);
	bc = bconn_new(fd);
	for (i = 0; i < RR_NAMES; i++) {
		l = bconn_req(bc, 10.0,
		    "{\"op\":\"start_child\",\"name\":\"t%d\","
		    "\"cmd\":[\"%s\"],\"stdout\":\"null\",\"stderr\":\"null\"}",
		    i, rr->b->idle);
		if (l == NULL || strncmp(l, "{\"ok\":true", 10) != 0)
			bench_die("start_child t%d: %s", i, l ? l : "no reply");
		l = bconn_req(bc, 10.0, "{\"op\":\"setattr\",\"name\":\"t%d\","
		    "\"attrs\":{\"k\":\"v\",\"n\":0}}", i);
		if (l == NULL || strncmp(l, "{\"ok\":true", 10) != 0)
			bench_die("setattr t%d: %s", i, l ? l : "no reply");
	}
	bconn_free(bc);
}

static int
rr_load(struct rr *rr, enum rr_target t, enum rr_shape s,
    struct load_result *res)
{
	struct bctx		*b = rr->b;
	struct load_opts	 o = {
		.reqs = rr->q[t].r, .reqlens = rr->q[t].len,
		.nreqs = s == RR_1C ? 1 : RR_NAMES,
		.nconn = s == RR_50C ? RR_NAMES : 1,
		.depth = s == RR_P16 ? 16 : 1,
		.secs = b->tput_secs,
		.warmup = 2000,
		.expect = t == RR_REDIS ? ":" : "{\"ok\":true"
	};

	o.path = t == RR_ECHO ? rr->echo.sock : t == RR_REDIS ?
	    rr->redis.sock : rr->gtd.sock;
	return (load_run(&o, res));
}

/* redis-benchmark's own figure for one shape (requests per second). */
static double
rr_redis_benchmark(struct rr *rr, enum rr_shape s)
{
	char	cmd[512], out[8192], *p, *q = NULL;
	size_t	n;
	FILE	*f;

	snprintf(cmd, sizeof cmd, "redis-benchmark -s %s -c %d -P %d -n %ld "
	    "-q HINCRBY t0 n 1 2>/dev/null", rr->redis.sock,
	    s == RR_50C ? RR_NAMES : 1, s == RR_P16 ? 16 : 1,
	    s == RR_1C ? rr->b->pp_count : (long)(rr->b->tput_secs * 200000));
	if ((f = popen(cmd, "r")) == NULL)
		return (0);
	n = fread(out, 1, sizeof out - 1, f);
	pclose(f);
	out[n] = '\0';
	/* The last "...: 41237.11 requests per second, p50=...". */
	for (p = out; (p = strstr(p, " requests per second")) != NULL; p++)
		q = p;
	if (q == NULL)
		return (0);
	while (q > out && q[-1] != ' ')
		q--;
	return (strtod(q, NULL));
}

/* Is target t measured in this run? */
static bool
rr_wanted(struct rr *rr, int t)
{
	if (t == RR_REDIS && !rr->have_redis)
		return (false);
	return (!rr->b->redis_only || (t != RR_FIND && t != RR_GETATTR));
}

/*
 * 1c runs with the client and every server on one cpu.  Unpinned, this
 * 2-vcpu VM flips between two modes: client and server on one cpu (a
 * round trip of about 9 us for echo) or on two, where each wake-up of a
 * halted vcpu costs some 20 us more, for every server alike, and which
 * mode a run gets depends on the rest of the machine's load.  Pinned, the
 * figure is the request's own path: syscalls, wake-up, parse, reply.
 */
static void
rr_pin(struct rr *rr, int cpu, int scpu)
{
	bench_pin(0, cpu);
	bench_pin(rr->echo.pid, scpu);
	bench_pin(rr->gtd.pid, scpu);
	if (rr->have_redis)
		bench_pin(rr->redis.pid, scpu);
}

/* 1c: every target in turn, in one ping-pong run (same noise for all). */
static void
rr_measure_1c(struct rr *rr, int run)
{
	struct load_target	tg[RR_NTARGETS];
	struct load_result	res[RR_NTARGETS];
	int			idx[RR_NTARGETS], t, n = 0;

	for (t = 0; t < RR_NTARGETS; t++) {
		if (!rr_wanted(rr, t))
			continue;
		tg[n] = (struct load_target){ .reqs = rr->q[t].r,
		    .reqlens = rr->q[t].len, .nreqs = 1,
		    .expect = t == RR_REDIS ? ":" : "{\"ok\":true" };
		tg[n].path = t == RR_ECHO ? rr->echo.sock : t == RR_REDIS ?
		    rr->redis.sock : rr->gtd.sock;
		idx[n++] = t;
	}
	rr_pin(rr, 0, 0);
	if (load_pingpong(tg, n, rr->b->pp_count, rr->b->pp_count / 10,
	    res) == -1)
		bench_die("1c ping-pong failed");
	for (t = 0; t < n; t++) {
		rr->p50[idx[t]][run] = res[t].p50_us;
		rr->p99[idx[t]][run] = res[t].p99_us;
		rr->rate[RR_1C][idx[t]][run] = res[t].rate / 1e3;
	}
}

static void
rr_measure(struct rr *rr, int run)
{
	struct load_result	res;
	enum rr_shape		s;
	int			t;

	rr_measure_1c(rr, run);
	for (s = 0; s < RR_NSHAPES; s++) {
		/*
		 * 1c on cpu 0 (see rr_pin).  Throughput: the load generator
		 * on cpu 0, the server on cpu 1, the usual load-test layout
		 * (unpinned, the scheduler sometimes puts both on one cpu
		 * and the figures change 2-4x with it).
		 */
		rr_pin(rr, 0, s == RR_1C || sysconf(_SC_NPROCESSORS_ONLN) < 2 ?
		    0 : 1);
		for (t = 0; s != RR_1C && t < RR_NTARGETS; t++) {
			if (!rr_wanted(rr, t))
				continue;
			if (rr_load(rr, t, s, &res) == -1)
				bench_die("%s %s: load failed",
				    rr_target_names[t], rr_shape_names[s]);
			rr->rate[s][t][run] = res.rate / 1e3;
		}
		/* redis-benchmark inherits our cpu; redis is where s says. */
		if (rr->have_redis)
			rr->rb[s][run] = rr_redis_benchmark(rr, s) / 1e3;
	}
	rr_pin(rr, -1, -1);
}

static void
rr_fig(struct rr *rr, const char *name, const char *unit, const double *v,
    const char *bname, const double *base, enum target tg, double lim)
{
	struct figure	f = { .name = name, .unit = unit, .v = v,
	    .n = rr->b->reps, .bname = bname, .b = base,
	    .nb = base != NULL ? rr->b->reps : 0, .target = tg, .limit = lim };

	report(rr->b, &f);
}

static void
rr_report_op(struct rr *rr, enum rr_target t)
{
	char	name[64];

	snprintf(name, sizeof name, "%s 1c p50", rr_target_names[t]);
	rr_fig(rr, name, "us", rr->p50[t], "echo", rr->p50[RR_ECHO],
	    TARGET_RATIO_LE, 1.2);
	snprintf(name, sizeof name, "%s 1c p99", rr_target_names[t]);
	rr_fig(rr, name, "us", rr->p99[t], "echo", rr->p99[RR_ECHO],
	    TARGET_NONE, 0);
	snprintf(name, sizeof name, "%s 50c throughput", rr_target_names[t]);
	rr_fig(rr, name, "kreq/s", rr->rate[RR_50C][t], "echo",
	    rr->rate[RR_50C][RR_ECHO], TARGET_RATIO_GE, 0.8);
	snprintf(name, sizeof name, "%s p16 throughput", rr_target_names[t]);
	rr_fig(rr, name, "kreq/s", rr->rate[RR_P16][t], "echo",
	    rr->rate[RR_P16][RR_ECHO], TARGET_RATIO_GE, 0.8);
}

static void
rr_report_redis(struct rr *rr)
{
	static const char *const	rbn[RR_NSHAPES] = {
	    "redis-benchmark 1c", "redis-benchmark 50c",
	    "redis-benchmark p16" };
	static const char *const	incn[RR_NSHAPES] = {
	    "W-increment 1c throughput", "W-increment 50c throughput",
	    "W-increment p16 throughput" };
	char				name[64];
	enum rr_shape			s;

	report_section("increment vs redis HINCRBY over a Unix socket "
	    "(same client; redis-benchmark for reference)");
	rr_fig(rr, "redis HINCRBY 1c p50", "us", rr->p50[RR_REDIS], "echo",
	    rr->p50[RR_ECHO], TARGET_NONE, 0);
	for (s = 0; s < RR_NSHAPES; s++) {
		snprintf(name, sizeof name, "redis HINCRBY %s throughput",
		    rr_shape_names[s]);
		rr_fig(rr, name, "kreq/s", rr->rate[s][RR_REDIS], "echo",
		    rr->rate[s][RR_ECHO], TARGET_NONE, 0);
		rr_fig(rr, rbn[s], "kreq/s", rr->rb[s], "our client",
		    rr->rate[s][RR_REDIS], TARGET_NONE, 0);
	}
	for (s = 0; s < RR_NSHAPES; s++)
		rr_fig(rr, incn[s], "kreq/s", rr->rate[s][RR_INCR], "redis",
		    rr->rate[s][RR_REDIS], TARGET_RATIO_GE, 1.0);
}

void
wl_rr(struct bctx *b)
{
	struct rr	*rr;
	int		 run;

	if ((rr = calloc(1, sizeof *rr)) == NULL)
		bench_die("out of memory");
	rr->b = b;
	rr_build(&rr->q[RR_ECHO], "find", "");
	rr_build(&rr->q[RR_FIND], "find", "");
	rr_build(&rr->q[RR_GETATTR], "getattr", ",\"key\":\"k\"");
	rr_build(&rr->q[RR_INCR], "increment", ",\"key\":\"n\"");
	rr_build_redis(&rr->q[RR_REDIS]);
	bench_note("request/response: starting echo, gtd%s",
	    b->redis_only ? ", redis" : "");
	server_echo(&rr->echo, b->echo, b->dir);
	rr_setup_gtd(rr);
	rr->have_redis = server_redis(&rr->redis, b->dir);
	for (run = 0; run < b->reps; run++) {
		bench_note("request/response run %d/%d", run + 1, b->reps);
		rr_measure(rr, run);
	}
	server_gtd_stop(&rr->gtd);
	server_kill(&rr->echo);
	server_kill(&rr->redis);
	report_section("request/response: 1 client ping-pong (%ld replies per "
	    "server; the servers take turns every %d requests; client and "
	    "servers on cpu 0), 50 clients and 1 client pipelining 16 deep "
	    "(%.1f s each, back to back; client on cpu 0, server on cpu 1); "
	    "baseline bench-echo", b->pp_count, LOAD_CHUNK, b->tput_secs);
	rr_fig(rr, "echo 1c p50", "us", rr->p50[RR_ECHO], NULL, NULL,
	    TARGET_NONE, 0);
	rr_fig(rr, "echo 1c p99", "us", rr->p99[RR_ECHO], NULL, NULL,
	    TARGET_NONE, 0);
	rr_fig(rr, "echo 50c throughput", "kreq/s", rr->rate[RR_50C][RR_ECHO],
	    NULL, NULL, TARGET_NONE, 0);
	rr_fig(rr, "echo p16 throughput", "kreq/s", rr->rate[RR_P16][RR_ECHO],
	    NULL, NULL, TARGET_NONE, 0);
	if (!b->redis_only) {
		rr_report_op(rr, RR_FIND);
		rr_report_op(rr, RR_GETATTR);
	}
	rr_report_op(rr, RR_INCR);
	if (rr->have_redis)
		rr_report_redis(rr);
	else
		printf("redis-server not installed: the HINCRBY comparison "
		    "was skipped (apt-get install redis-server redis-tools)\n");
	free(rr);
}
