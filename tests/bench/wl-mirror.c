/* SPDX-License-Identifier: MIT */
/*
 * wl-mirror: W-mirror, reads through libgtd's shared-memory mirror
 * (gtd_find, gtd_getattr_string) against the same reads through gtd's
 * socket in the same run: the latency of one reader (every lookup timed
 * with two clock_gettime calls, which the figure includes), the
 * throughput of one reader and of one reader per cpu (threads sharing
 * one handle), and the latency of a lookup while gtd is busy starting
 * 1000 children (a ping on the socket meanwhile as the baseline).
 * Latencies go into a histogram of 10 ns bins, so no lookup is left out.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/bench/bench.h"
#include "gtd.h"

#define MIR_NAMES	50		/* t0..t49, as W-find */
#define MIR_BIN_NS	10
#define MIR_BINS	100000		/* 10 ns bins up to 1 ms */
#define MIR_MAXTHR	64

enum mir_op { MIR_FIND, MIR_GETATTR, MIR_NOPS };
static const char *const mir_op_names[MIR_NOPS] = { "find", "getattr" };

/* A latency histogram: counts per bin, the rest past the last bin. */
struct mir_hist {
	uint64_t	 bin[MIR_BINS];
	uint64_t	 over, n;
};

struct mir_figs {
	double	p50[MIR_NOPS][BENCH_MAXREPS], p99[MIR_NOPS][BENCH_MAXREPS];
	double	s50[MIR_NOPS][BENCH_MAXREPS], s99[MIR_NOPS][BENCH_MAXREPS];
	double	r1[MIR_NOPS][BENCH_MAXREPS], rn[MIR_NOPS][BENCH_MAXREPS];
	double	s1[MIR_NOPS][BENCH_MAXREPS], sn[MIR_NOPS][BENCH_MAXREPS];
	/* per second of the readers' own cpu time */
	double	c1[MIR_NOPS][BENCH_MAXREPS], cn[MIR_NOPS][BENCH_MAXREPS];
	double	busy50[BENCH_MAXREPS], busy99[BENCH_MAXREPS];
	double	ping50[BENCH_MAXREPS], ping99[BENCH_MAXREPS];
	double	fallbacks;
};

/* One reader thread. */
struct mir_thr {
	struct gtd_handle	*h;
	enum mir_op		 op;
	int			 cpu;
	double			 secs;		/* run this long, or... */
	atomic_bool		*stop;		/* ...until this is set */
	struct mir_hist		*hist;		/* time each lookup, or NULL */
	long			 n;
	double			 cpu_s;		/* its own cpu seconds */
	double			 cpu_at;
	int			 errors;
	pthread_t		 t;
};

static double
mir_thread_cpu(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

static const char	*mir_names[MIR_NAMES];

static void
mir_hist_add(struct mir_hist *hs, int64_t ns)
{
	int64_t	b = ns / MIR_BIN_NS;

	if (b < MIR_BINS)
		hs->bin[b < 0 ? 0 : b]++;
	else
		hs->over++;
	hs->n++;
}

/* The upper edge of the bin holding quantile q, in us. */
static double
mir_hist_q(const struct mir_hist *hs, double q)
{
	uint64_t	want = (uint64_t)(q * (double)hs->n), seen = 0;
	int		b;

	for (b = 0; b < MIR_BINS; b++)
		if ((seen += hs->bin[b]) > want)
			return ((b + 1) * MIR_BIN_NS / 1e3);
	return (MIR_BINS * MIR_BIN_NS / 1e3);	/* at least this */
}

static int
mir_one(struct gtd_handle *h, enum mir_op op, const char *name)
{
	struct gtd_child	c;
	char			buf[16];
	size_t			len;

	if (op == MIR_FIND)
		return (gtd_find(h, name, &c));
	return (gtd_getattr_string(h, name, "k", buf, sizeof buf, &len));
}

static void *
mir_thread(void *arg)
{
	struct mir_thr	*t = arg;
	int64_t		 t0, t1, end;
	long		 i;

	bench_pin(0, t->cpu);
	t->cpu_at = mir_thread_cpu();
	end = bench_now_ns() + (int64_t)(t->secs * 1e9);
	for (i = 0;; i++) {
		if ((i & 1023) == 0 && (t->stop != NULL ? atomic_load(t->stop) :
		    bench_now_ns() >= end))
			break;
		if (t->hist != NULL) {
			t0 = bench_now_ns();
			if (mir_one(t->h, t->op, mir_names[i % MIR_NAMES]) !=
			    GTD_OK)
				t->errors++;
			t1 = bench_now_ns();
			mir_hist_add(t->hist, t1 - t0);
		} else if (mir_one(t->h, t->op, mir_names[i % MIR_NAMES]) !=
		    GTD_OK)
			t->errors++;
	}
	t->n = i;
	t->cpu_s = mir_thread_cpu() - t->cpu_at;
	return (NULL);
}

/*
 * nthr readers on one handle for secs: the total rate in kreq/s, and in
 * *percpu the lookups per second of the readers' own cpu time (what the
 * rate would be if every reader had a cpu to itself: on a shared machine
 * the wall-clock rate says as much about the other load as about us).
 */
static double
mir_rate(struct gtd_handle *h, enum mir_op op, int nthr, double secs,
    double *percpu)
{
	struct mir_thr	t[MIR_MAXTHR];
	long		total = 0;
	double		cpu = 0;
	int		i;

	for (i = 0; i < nthr; i++) {
		memset(&t[i], 0, sizeof t[i]);
		t[i].h = h;
		t[i].op = op;
		t[i].cpu = i % (int)sysconf(_SC_NPROCESSORS_ONLN);
		t[i].secs = secs;
		if (pthread_create(&t[i].t, NULL, mir_thread, &t[i]) != 0)
			bench_die("pthread_create");
	}
	for (i = 0; i < nthr; i++) {
		pthread_join(t[i].t, NULL);
		if (t[i].errors > 0)
			bench_die("W-mirror %s: %d lookups failed",
			    mir_op_names[op], t[i].errors);
		total += t[i].n;
		cpu += t[i].cpu_s;
	}
	*percpu = cpu > 0 ? total / cpu / 1e3 : 0;
	return (total / secs / 1e3);
}

/* One reader on cpu 0, every lookup timed: p50 and p99 in us. */
static void
mir_latency(struct gtd_handle *h, enum mir_op op, double secs, double *p50,
    double *p99)
{
	struct mir_thr	 t;
	struct mir_hist	*hs;

	if ((hs = calloc(1, sizeof *hs)) == NULL)
		bench_die("out of memory");
	memset(&t, 0, sizeof t);
	t.h = h;
	t.op = op;
	t.secs = secs;
	t.hist = hs;
	mir_thread(&t);
	if (t.errors > 0)
		bench_die("W-mirror %s: %d lookups failed", mir_op_names[op],
		    t.errors);
	*p50 = mir_hist_q(hs, 0.5);
	*p99 = mir_hist_q(hs, 0.99);
	free(hs);
}

/* The same request through the socket: ping-pong, and n clients. */
static void
mir_socket(struct bctx *b, const char *sock, enum mir_op op, int n,
    double *p50, double *p99, double *r1, double *rn)
{
	struct load_target	tg;
	struct load_result	res;
	struct load_opts	o;
	static char		buf[MIR_NAMES][96];
	static const char	*reqs[MIR_NAMES];
	static size_t		lens[MIR_NAMES];
	int			i;

	for (i = 0; i < MIR_NAMES; i++) {
		lens[i] = (size_t)snprintf(buf[i], sizeof buf[i],
		    "{\"op\":\"%s\",\"name\":\"t%d\"%s}\n",
		    op == MIR_FIND ? "find" : "getattr", i,
		    op == MIR_FIND ? "" : ",\"key\":\"k\"");
		reqs[i] = buf[i];
	}
	tg = (struct load_target){ .path = sock, .reqs = reqs,
	    .reqlens = lens, .nreqs = MIR_NAMES, .expect = "{\"ok\":true" };
	if (load_pingpong(&tg, 1, b->pp_count, b->pp_count / 10, &res) == -1)
		bench_die("W-mirror: socket ping-pong failed");
	*p50 = res.p50_us;
	*p99 = res.p99_us;
	*r1 = res.rate / 1e3;
	memset(&o, 0, sizeof o);
	o.path = sock;
	o.reqs = reqs;
	o.reqlens = lens;
	o.nreqs = MIR_NAMES;
	o.nconn = n;
	o.depth = 1;
	o.secs = b->tput_secs;
	o.warmup = 2000;
	o.expect = "{\"ok\":true";
	if (load_run(&o, &res) == -1)
		bench_die("W-mirror: socket load failed");
	*rn = res.rate / 1e3;
}

/* gtd with the W-find children: t0..t49, attrs k="v" and n=0. */
static void
mir_setup(struct bctx *b, struct sess *s, const char *name, int n)
{
	char	fields[4400];

	snprintf(fields, sizeof fields, "\"cmd\":[\"%s\"],"
	    "\"attrs\":{\"k\":\"v\",\"n\":0}", b->idle);
	sess_gtd(s, b, name, NULL, "[\"ready\"]", 't', n);
	sess_start(s, 0, MIR_NAMES, fields);
	sess_until(s, sess_all_ready, MIR_NAMES, 60, "W-mirror setup");
}

/*
 * A lookup while gtd starts 1000 children: one reader timing every
 * lookup of the 50 names (cpu 0) from the first start_child until the
 * last child is ready, and a socket ping-pong probe meanwhile.
 */
static void
mir_busy(struct bctx *b, int run, struct mir_figs *f)
{
	struct sess	 s;
	struct mir_thr	 t;
	struct mir_hist	*hs;
	atomic_bool	 stop = false;
	char		 fields[4400];

	mir_setup(b, &s, "busy", MIR_NAMES + b->nchild);
	if ((hs = calloc(1, sizeof *hs)) == NULL)
		bench_die("out of memory");
	memset(&t, 0, sizeof t);
	if ((t.h = gtd_open(s.srv.sock)) == NULL)
		bench_die("gtd_open");
	t.op = MIR_FIND;
	t.stop = &stop;
	t.hist = hs;
	snprintf(fields, sizeof fields, "\"cmd\":[\"%s\"]", b->idle);
	(void)mir_one(t.h, MIR_FIND, "t0");	/* mapped before the clock */
	sess_ping_start(&s, s.srv.sock);
	if (pthread_create(&t.t, NULL, mir_thread, &t) != 0)
		bench_die("pthread_create");
	sess_start(&s, MIR_NAMES, b->nchild, fields);
	sess_until(&s, sess_all_ready, MIR_NAMES + b->nchild, 300,
	    "W-mirror busy");
	atomic_store(&stop, true);
	pthread_join(t.t, NULL);
	if (t.errors > 0)
		bench_die("W-mirror busy: %d lookups failed", t.errors);
	f->busy50[run] = mir_hist_q(hs, 0.5);
	f->busy99[run] = mir_hist_q(hs, 0.99);
	f->ping50[run] = bench_quantile(s.lat, s.nlat, 0.5);
	f->ping99[run] = bench_quantile(s.lat, s.nlat, 0.99);
	bench_note("W-mirror busy: %llu lookups while %d children started",
	    (unsigned long long)hs->n, b->nchild);
	gtd_close(t.h);
	free(hs);
	sess_close(&s);
}

static void
mir_fig(struct bctx *b, const char *name, const char *unit, const double *v,
    const char *bname, const double *base, enum target tg, double lim)
{
	struct figure	f = { .name = name, .unit = unit, .v = v,
	    .n = b->reps, .bname = bname, .b = base,
	    .nb = base != NULL ? b->reps : 0, .target = tg, .limit = lim };

	report(b, &f);
}

static void
mir_report(struct bctx *b, struct mir_figs *f, int ncpu)
{
	char	name[64], what[64];
	int	op;

	report_section("W-mirror: reads through libgtd's shared-memory "
	    "mirror vs the same request on gtd's socket, same gtd, same run; "
	    "%d names; latency: 1 reader on cpu 0, each lookup timed (two "
	    "clock_gettime included), socket 1 client ping-pong on cpu 0; "
	    "throughput: %.1f s, readers are threads on one handle, one per "
	    "cpu; socket: %d clients; per cpu-s: lookups per second of the "
	    "readers' own cpu time (the same with N readers as with 1: no "
	    "contention)", MIR_NAMES, b->tput_secs, ncpu);
	for (op = 0; op < MIR_NOPS; op++) {
		snprintf(what, sizeof what, "socket %s", mir_op_names[op]);
		snprintf(name, sizeof name, "W-mirror %s 1r p50",
		    mir_op_names[op]);
		mir_fig(b, name, "us", f->p50[op], what, f->s50[op],
		    TARGET_VALUE_LE, 0.3);
		snprintf(name, sizeof name, "W-mirror %s 1r p99",
		    mir_op_names[op]);
		mir_fig(b, name, "us", f->p99[op], what, f->s99[op],
		    TARGET_NONE, 0);
		snprintf(name, sizeof name, "W-mirror %s 1r tput",
		    mir_op_names[op]);
		mir_fig(b, name, "kreq/s", f->r1[op], what, f->s1[op],
		    TARGET_NONE, 0);
		snprintf(name, sizeof name, "W-mirror %s %dr tput",
		    mir_op_names[op], ncpu);
		mir_fig(b, name, "kreq/s", f->rn[op], what, f->sn[op],
		    TARGET_NONE, 0);
		snprintf(name, sizeof name, "W-mirror %s %dr scaling",
		    mir_op_names[op], ncpu);
		mir_fig(b, name, "kreq/s", f->rn[op], "1 reader", f->r1[op],
		    TARGET_RATIO_GE, 0.9 * ncpu);
		snprintf(name, sizeof name, "W-mirror %s 1r per cpu-s",
		    mir_op_names[op]);
		mir_fig(b, name, "kreq/s", f->c1[op], NULL, NULL, TARGET_NONE,
		    0);
		snprintf(name, sizeof name, "W-mirror %s %dr per cpu-s",
		    mir_op_names[op], ncpu);
		mir_fig(b, name, "kreq/s", f->cn[op], "1 reader", f->c1[op],
		    TARGET_RATIO_GE, 0.9);
	}
	snprintf(name, sizeof name, "W-mirror find busy %d p50", b->nchild);
	mir_fig(b, name, "us", f->busy50, "socket ping", f->ping50,
	    TARGET_NONE, 0);
	snprintf(name, sizeof name, "W-mirror find busy %d p99", b->nchild);
	mir_fig(b, name, "us", f->busy99, "socket ping", f->ping99,
	    TARGET_VALUE_LE, 2.0);
	if (f->fallbacks > 0)
		printf("W-mirror: %.0f reads went to the socket: the figures "
		    "above are not all the mirror's\n", f->fallbacks);
}

void
wl_mirror(struct bctx *b)
{
	struct mir_figs		*f;
	struct sess		 s;
	struct gtd_handle	*h;
	struct gtd_mirror_stat	 st;
	static char		 nbuf[MIR_NAMES][8];
	int			 ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	int			 run, op;

	if (ncpu > MIR_MAXTHR)
		ncpu = MIR_MAXTHR;
	for (op = 0; op < MIR_NAMES; op++) {
		snprintf(nbuf[op], sizeof nbuf[op], "t%d", op);
		mir_names[op] = nbuf[op];
	}
	if ((f = calloc(1, sizeof *f)) == NULL)
		bench_die("out of memory");
	for (run = 0; run < b->reps; run++) {
		bench_note("W-mirror run %d/%d", run + 1, b->reps);
		mir_setup(b, &s, "mirror", MIR_NAMES);
		if ((h = gtd_open(s.srv.sock)) == NULL)
			bench_die("gtd_open %s", s.srv.sock);
		for (op = 0; op < MIR_NOPS; op++) {
			bench_pin(s.srv.pid, 0);
			bench_pin(0, 0);
			mir_socket(b, s.srv.sock, op, ncpu, &f->s50[op][run],
			    &f->s99[op][run], &f->s1[op][run],
			    &f->sn[op][run]);
			bench_pin(s.srv.pid, -1);
			mir_latency(h, op, b->tput_secs, &f->p50[op][run],
			    &f->p99[op][run]);
			f->r1[op][run] = mir_rate(h, op, 1, b->tput_secs,
			    &f->c1[op][run]);
			f->rn[op][run] = mir_rate(h, op, ncpu, b->tput_secs,
			    &f->cn[op][run]);
		}
		bench_pin(0, -1);
		gtd_mirror_stat(h, &st);
		f->fallbacks += (double)st.fallbacks;
		gtd_close(h);
		sess_close(&s);
		mir_busy(b, run, f);
	}
	mir_report(b, f, ncpu);
	free(f);
}
