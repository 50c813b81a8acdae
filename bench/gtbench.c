/* SPDX-License-Identifier: MIT */
/*
 * gtbench: the driver behind `make bench`.  It starts gtd and the
 * baselines it measures against on private sockets, runs every workload
 * several times and prints one line per figure: median (min, max) over the
 * runs, the ratio to a baseline measured in the same run, and the target.
 * Absolute times on a shared machine are noise; the ratios are the result.
 *
 * usage: gtbench [--redis]
 * environment: BENCH_QUICK=1 (a smoke run), BENCH_REPS=N, GTD=path
 */
#include "config.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bench/bench.h"

static char	bench_dir[64];
static bool	bench_done;

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
	}
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

int
main(int argc, char *argv[])
{
	struct bctx	 b;
	struct utsname	 u;
	double		 t0 = bench_now();
	long		 ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	memset(&b, 0, sizeof b);
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
	printf("gtbench: %s on %s %s, %ld cpus; %d runs per figure%s\n",
	    b.gtd, u.sysname, u.release, ncpu, b.reps,
	    b.quick ? " (BENCH_QUICK: small sizes, a smoke run)" : "");
	printf("ratio = median over runs of (measured / baseline measured in "
	    "the same run); min/max are over runs\n");
	fflush(stdout);
	wl_rr(&b);
	if (!b.redis_only) {
		wl_proc(&b);
		wl_ready(&b);
		wl_memory(&b);
		wl_scale(&b);
	}
	printf("\ntargets: %d met, %d missed; gtbench took %.0f s\n", b.met,
	    b.missed, bench_now() - t0);
	bench_done = true;
	return (0);
}
