/* SPDX-License-Identifier: MIT */
/*
 * gtbench: the driver behind `make bench`.  It starts gtd and the
 * baselines it measures against on private sockets, runs every workload
 * several times and prints one line per figure: median (min, max) over the
 * runs, the ratio to a baseline measured in the same run, and the target.
 * Absolute times on a shared machine are noise; the ratios are the result.
 *
 * usage: gtbench [--redis]
 *        gtbench --load SOCKET CONNS DEPTH SECS|COUNTn REQUEST-LINE
 *	  (the load generator alone, e.g. to profile gtd under perf; "5"
 *	  runs 5 seconds, "50000n" stops after 50000 replies)
 * environment: BENCH_QUICK=1 (a smoke run), BENCH_REPS=N, GTD=path,
 * BENCH_ONLY=rr,proc,ready,memory,scale,mirror,deps,reexec,cluster (a
 * subset of the sections)
 */
#include "config.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "tests/bench/bench.h"

static char	bench_dir[64];
static bool	bench_done;

/* Is this section in BENCH_ONLY (or is BENCH_ONLY unset)? */
static bool
bench_want(const char *section)
{
	const char	*only = getenv("BENCH_ONLY"), *p;
	size_t		 n = strlen(section);

	if (only == NULL || *only == '\0')
		return (true);
	for (p = only; (p = strstr(p, section)) != NULL; p += n)
		if ((p == only || p[-1] == ',') && (p[n] == ',' ||
		    p[n] == '\0'))
			return (true);
	return (false);
}

/* Remove the private directory, unless a failure left logs to read. */
static void
bench_cleanup(void)
{
	char	cmd[128];

	if (bench_dir[0] == '\0')
		return;
	if (!bench_done) {
		fprintf(stderr, "gtbench: logs kept in %s\n", bench_dir);
		return;
	}
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", bench_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "gtbench: could not remove %s\n", bench_dir);
}

static void
bench_paths(struct bctx *b, const char *argv0)
{
	char	self[PATH_MAX], *dir;
	const char *gtd;
	ssize_t	n;

	if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) == -1)
		bench_die("/proc/self/exe: %s", strerror(errno));
	self[n] = '\0';
	dir = dirname(self);
	snprintf(b->echo, sizeof b->echo, "%s/bench-echo", dir);
	snprintf(b->spawnloop, sizeof b->spawnloop, "%s/bench-spawnloop", dir);
	snprintf(b->idle, sizeof b->idle, "%s/bench-idle", dir);
	if ((gtd = getenv("GTD")) != NULL && *gtd != '\0') {
		if (realpath(gtd, b->gtd) == NULL)
			bench_die("GTD=%s: %s", gtd, strerror(errno));
	} else
		snprintf(b->gtd, sizeof b->gtd, "%s/../gtd", dir);
	if (access(b->gtd, X_OK) == -1)
		bench_die("%s: %s (run make first)", b->gtd, strerror(errno));
	(void)argv0;		/* the binaries sit next to /proc/self/exe */
}

static void
bench_sizes(struct bctx *b)
{
	const char	*q = getenv("BENCH_QUICK"), *r = getenv("BENCH_REPS");

	b->quick = q != NULL && *q != '\0' && strcmp(q, "0") != 0;
	if (b->quick) {
		b->reps = 2;
		b->nchild = 300;
		b->nrestart = 20;
		b->nmem = 2000;
		b->nscale = 10000;
		b->pp_count = 3000;
		b->tput_secs = 0.15;
	} else {
		b->reps = 5;
		b->nchild = 1000;
		b->nrestart = 100;
		b->nmem = 10000;
		b->nscale = 100000;
		b->pp_count = 20000;
		b->tput_secs = 0.5;
	}
	if (r != NULL && atoi(r) > 0)
		b->reps = atoi(r) < BENCH_MAXREPS ? atoi(r) : BENCH_MAXREPS;
}

void
report_section(const char *fmt, ...)
{
	va_list	ap;

	fputs("\n== ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

/* Median of the per-run ratios when paired, else ratio of medians. */
static double
report_ratio(const struct figure *f, double vmed, double bmed)
{
	double	r[BENCH_MAXREPS * 4], lo, hi, med;
	int	i;

	if (f->nb != f->n || f->n > (int)(sizeof r / sizeof r[0]))
		return (bmed > 0 ? vmed / bmed : 0);
	for (i = 0; i < f->n; i++)
		r[i] = f->b[i] > 0 ? f->v[i] / f->b[i] : 0;
	bench_mmm(r, f->n, &med, &lo, &hi);
	return (med);
}

void
report(struct bctx *b, const struct figure *f)
{
	double		 v[1024], bv[1024], med, lo, hi, bmed = 0, x, y;
	double		 ratio = 0;
	const char	*cmp = "";
	bool		 ok = true;

	memcpy(v, f->v, f->n * sizeof *v);
	bench_mmm(v, f->n, &med, &lo, &hi);
	printf("%-32s median %9.2f %-6s (min %9.2f, max %9.2f, %d run%s)",
	    f->name, med, f->unit, lo, hi, f->n, f->n == 1 ? "" : "s");
	if (f->nb > 0) {
		memcpy(bv, f->b, f->nb * sizeof *bv);
		bench_mmm(bv, f->nb, &bmed, &x, &y);
		ratio = report_ratio(f, med, bmed);
		printf("  ratio %6.2f vs %s %.2f", ratio, f->bname, bmed);
	} else
		printf("  (a baseline)");
	switch (f->target) {
	case TARGET_NONE:
		break;
	case TARGET_RATIO_LE:
		ok = ratio <= f->limit;
		cmp = "ratio <=";
		break;
	case TARGET_RATIO_GE:
		ok = ratio >= f->limit;
		cmp = "ratio >=";
		break;
	case TARGET_VALUE_LE:
		ok = med <= f->limit;
		cmp = "<=";
		break;
	case TARGET_VALUE_LT:
		ok = med < f->limit;
		cmp = "<";
		break;
	}
	if (f->target != TARGET_NONE) {
		printf("  target %s %g%s%s: %s", cmp, f->limit,
		    f->target >= TARGET_VALUE_LE ? " " : "",
		    f->target >= TARGET_VALUE_LE ? f->unit : "",
		    ok ? "MET" : "MISSED");
		if (ok)
			b->met++;
		else
			b->missed++;
	}
	putchar('\n');
	fflush(stdout);
}

/* gtbench --load: one load run against any line server. */
static int
bench_load_cmd(int argc, char *argv[])
{
	struct load_opts	o;
	struct load_result	r;
	char			*req;
	size_t			 len;

	if (argc != 7) {
		fprintf(stderr, "usage: gtbench --load socket conns depth secs "
		    "request-line\n");
		return (64);
	}
	len = strlen(argv[6]);
	if ((req = malloc(len + 2)) == NULL)
		bench_die("out of memory");
	memcpy(req, argv[6], len);
	req[len++] = '\n';
	memset(&o, 0, sizeof o);
	o.path = argv[2];
	o.reqs = (const char **)&req;
	o.reqlens = &len;
	o.nreqs = 1;
	o.nconn = atoi(argv[3]);
	o.depth = atoi(argv[4]);
	if (argv[5][0] != '\0' && argv[5][strlen(argv[5]) - 1] == 'n')
		o.count = atol(argv[5]);
	else
		o.secs = atof(argv[5]);
	o.warmup = 1000;
	o.latency = true;
	o.expect = "";
	if (o.nconn < 1 || o.depth < 1 || (o.secs <= 0 && o.count <= 0))
		bench_die("conns, depth and secs (or count) must be positive");
	if (load_run(&o, &r) == -1)
		return (1);
	printf("%ld replies in %.2f s: %.1f kreq/s, p50 %.1f us, p99 %.1f us\n",
	    r.n, r.secs, r.rate / 1e3, r.p50_us, r.p99_us);
	free(req);
	return (0);
}

/*
 * How busy the CPUs are with work other than ours, from /proc/stat over
 * secs: the run's noise floor, printed so a reader can judge the figures.
 */
static double
bench_busy(double secs)
{
	unsigned long long	 v[2][8];
	double			 idle, total = 0;
	FILE			*f;
	int			 i, k;

	for (k = 0; k < 2; k++) {
		memset(v[k], 0, sizeof v[k]);
		if ((f = fopen("/proc/stat", "re")) == NULL)
			return (-1);
		if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu",
		    &v[k][0], &v[k][1], &v[k][2], &v[k][3], &v[k][4], &v[k][5],
		    &v[k][6], &v[k][7]) != 8)
			memset(v[k], 0, sizeof v[k]);
		fclose(f);
		if (k == 0)
			poll(NULL, 0, (int)(secs * 1000));
	}
	for (i = 0; i < 8; i++)
		total += v[1][i] - v[0][i];
	idle = (v[1][3] - v[0][3]) + (v[1][4] - v[0][4]);
	return (total > 0 ? 100.0 * (1 - idle / total) : -1);
}

/* What `gtd -V` says, for the record. */
static const char *
bench_version(const char *gtd, char *buf, size_t size)
{
	char	 cmd[4200];
	FILE	*f;

	snprintf(cmd, sizeof cmd, "'%s' -V 2>&1", gtd);
	snprintf(buf, size, "version unknown");
	if ((f = popen(cmd, "r")) == NULL)
		return (buf);
	if (fgets(buf, size, f) != NULL)
		buf[strcspn(buf, "\n")] = '\0';
	pclose(f);
	return (buf);
}

int
main(int argc, char *argv[])
{
	struct bctx	 b;
	struct utsname	 u;
	char		 version[128];
	double		 t0 = bench_now();
	long		 ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	memset(&b, 0, sizeof b);
	if (argc > 1 && strcmp(argv[1], "--load") == 0)
		return (bench_load_cmd(argc, argv));
	if (argc > 2 || (argc == 2 && strcmp(argv[1], "--redis") != 0)) {
		fprintf(stderr, "usage: gtbench [--redis]\n");
		return (64);
	}
	b.redis_only = argc == 2;
	signal(SIGPIPE, SIG_IGN);
	bench_nofile_max();
	bench_paths(&b, argv[0]);
	bench_sizes(&b);
	strcpy(bench_dir, "/tmp/gtb-XXXXXX");
	if (mkdtemp(bench_dir) == NULL)
		bench_die("mkdtemp: %s", strerror(errno));
	strcpy(b.dir, bench_dir);
	atexit(bench_cleanup);
	uname(&u);
	printf("gtbench: %s (%s) on %s %s, %ld cpus; %d runs per figure%s\n",
	    b.gtd, bench_version(b.gtd, version, sizeof version), u.sysname,
	    u.release, ncpu, b.reps,
	    b.quick ? " (BENCH_QUICK: small sizes, a smoke run)" : "");
	printf("ratio = median over runs of (measured / baseline measured in "
	    "the same run); min/max are over runs\n");
	printf("other load before the run: %.0f%% of the cpus busy\n",
	    bench_busy(1.0));
	fflush(stdout);
	if (b.redis_only || bench_want("rr"))
		wl_rr(&b);
	if (!b.redis_only && bench_want("proc"))
		wl_proc(&b);
	if (!b.redis_only && bench_want("ready"))
		wl_ready(&b);
	if (!b.redis_only && bench_want("memory"))
		wl_memory(&b);
	if (!b.redis_only && bench_want("scale"))
		wl_scale(&b);
	if (!b.redis_only && bench_want("mirror"))
		wl_mirror(&b);
	if (!b.redis_only && bench_want("deps"))
		wl_deps(&b);
	if (!b.redis_only && bench_want("reexec"))
		wl_reexec(&b);
	if (!b.redis_only && bench_want("cluster"))
		wl_cluster(&b);
	printf("\ntargets: %d met, %d missed; gtbench took %.0f s; other load "
	    "after the run: %.0f%% of the cpus busy\n", b.met, b.missed,
	    bench_now() - t0, bench_busy(1.0));
	bench_done = true;
	return (0);
}
