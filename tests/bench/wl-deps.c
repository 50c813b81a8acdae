/* SPDX-License-Identifier: MIT */
/*
 * wl-deps: W-deps, a dependency graph of N children (1000; 298 with
 * BENCH_QUICK) in 10 levels: d0, the root, is ready only when the bench
 * sends it SIGUSR1; level 1 is a fan-out of w = (N - 1) / 9 children
 * that depend on d0, and each of levels 2..9 has w children, each
 * depending on the one at its place in the level above (w chains).  All
 * are started (start_child, "wait":false, pipelined) while d0 holds, so
 * N - 1 children wait on one dependency; then the gate opens and every
 * level starts as the one above becomes ready; then terminate_child d0
 * stops the whole graph, dependents first.
 *
 * Figures: for each level, the time from a child's readiness (stamped
 * by the child, bench-idle --stamp, right before it writes it to gtd)
 * to the start of a child that depends on it, two ways: "started", when
 * the bench reads gtd's started event for the dependent (gtd sends it
 * once the process exists: its read of the readiness, its decision and
 * the fork are in it, and the bench's own wake-up); "runs", the top of
 * the dependent's main() (stamped by it: the exec and the dynamic loader
 * as well, which the same chain with no gtd measures alone).  The
 * target is on "started", the start a supervisor makes: the first of
 * each level, and the longest of a chain of 10 alone.  Also gtd's own
 * registry's view (started_at - the dependency's ready_at, loop time in
 * whole ms: where gtd is slow, not the system); ping's
 * p99 while the N - 1 wait, and while the graph starts; the time from
 * the gate to the last ready event; the time of the stop; gtd's own cpu
 * time in the start and in the stop (what they cost gtd, whatever else
 * the machine runs).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/bench/bench.h"

#define DEPS_LEVELS	10
#define DEPS_WAIT_SECS	120.0
#define DEPS_TARGET_MS	2.0	/* each level, from its dependency ready */
#define DEPS_PING_US	1000.0	/* ping p99 while they wait */

struct deps_figs {
	double	lvl[DEPS_LEVELS][BENCH_MAXREPS];	/* ms, longest */
	double	first[DEPS_LEVELS][BENCH_MAXREPS];	/* ms, shortest */
	double	gstart[DEPS_LEVELS][BENCH_MAXREPS];	/* ms, shortest, to
							   the started event */
	double	mid[DEPS_LEVELS][BENCH_MAXREPS];	/* ms, median */
	double	chain[BENCH_MAXREPS];		/* ms, longest of a chain */
	double	chain_ev[BENCH_MAXREPS];	/* the same, started events */
	double	floor[BENCH_MAXREPS];		/* ms, the same without gtd */
	double	floor_ev[BENCH_MAXREPS];	/* the same, to the fork */
	double	chain_gtd[BENCH_MAXREPS];	/* ms, the chain, gtd's view */
	double	wait99[BENCH_MAXREPS];			/* us */
	double	wave99[BENCH_MAXREPS];			/* us */
	double	gtd[BENCH_MAXREPS];			/* ms, longest */
	double	start[BENCH_MAXREPS];			/* ms */
	double	stop[BENCH_MAXREPS];			/* ms */
	double	cpu_start[BENCH_MAXREPS];		/* gtd's cpu ms */
	double	cpu_stop[BENCH_MAXREPS];
};

/* The child that child i (1..n-1) depends on; w children a level. */
static int
deps_parent(int i, int w)
{
	return (i <= w ? 0 : i - w);
}

static int
deps_level(int i, int w)
{
	return (i == 0 ? 0 : 1 + (i - 1) / w);
}

/* Has path a line starting with what? */
static bool
deps_has_line(const char *path, const char *what)
{
	char	 line[256];
	FILE	*f;
	bool	 found = false;

	if ((f = fopen(path, "re")) == NULL)
		return (false);
	while (!found && fgets(line, sizeof line, f) != NULL)
		found = strncmp(line, what, strlen(what)) == 0;
	fclose(f);
	return (found);
}

/* Read the stamps into s[] (start) and r[] (ready), ns; -1: none. */
static void
deps_stamps(const char *path, int n, int64_t *s, int64_t *r)
{
	char		 line[256], what;
	long long	 ns;
	int		 i;
	FILE		*f;

	for (i = 0; i < n; i++)
		s[i] = r[i] = -1;
	if ((f = fopen(path, "re")) == NULL)
		bench_die("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "d%d %c %lld", &i, &what, &ns) != 3 || i < 0 ||
		    i >= n)
			continue;
		if (what == 's')
			s[i] = ns;
		else if (what == 'r')
			r[i] = ns;
	}
	fclose(f);
}

/*
 * Level l's edges into d, in ms: from each dependency's readiness (r[])
 * to its dependent's at[] (ns); their count.
 */
static int
deps_edges(const int64_t *at, const int64_t *r, int n, int w, int l,
    double *d)
{
	int	i, k;

	for (i = 1, k = 0; i < n; i++)
		if (deps_level(i, w) == l)
			d[k++] = (at[i] - r[deps_parent(i, w)]) / 1e6;
	return (k);
}

/*
 * Each level's readiness-to-dependent-start times, in ms: the shortest
 * (when the level starts), the median and the longest, to the top of
 * the dependent's main(); and the shortest to the bench's read of its
 * started event (ev[], ns), which gtd sends once the dependent's
 * process exists, before the exec.
 */
static void
deps_levels(struct bctx *b, const char *path, const int64_t *ev, int n,
    int w, struct deps_figs *f, int run)
{
	int64_t	*s, *r;
	double	*d;
	int	 i, l, k;

	if ((s = calloc(n, sizeof *s)) == NULL ||
	    (r = calloc(n, sizeof *r)) == NULL ||
	    (d = calloc(n, sizeof *d)) == NULL)
		bench_die("out of memory");
	deps_stamps(path, n, s, r);
	for (i = 1; i < n; i++) {
		if (s[i] < 0 || r[deps_parent(i, w)] < 0)
			bench_die("W-deps: no stamp of d%d or d%d (see %s)", i,
			    deps_parent(i, w), b->dir);
		if (ev[i] < 0)
			bench_die("W-deps: no started event of d%d", i);
	}
	for (l = 1; l < DEPS_LEVELS; l++) {
		k = deps_edges(s, r, n, w, l, d);
		f->first[l][run] = bench_quantile(d, k, 0.0);
		f->mid[l][run] = bench_quantile(d, k, 0.5);
		f->lvl[l][run] = bench_quantile(d, k, 1.0);
		k = deps_edges(ev, r, n, w, l, d);
		f->gstart[l][run] = bench_quantile(d, k, 0.0);
	}
	free(s);
	free(r);
	free(d);
}

/*
 * gtd's own view, from its registry: the longest started_at of a child
 * minus ready_at of its dependency (loop times, whole milliseconds: 0
 * means in the same loop iteration).
 */
static double
deps_gtd_view(struct sess *s)
{
	const char	*p;
	char		*l;
	long long	 d, worst = -1;
	int		 i;

	l = bconn_req(s->ctl, 30.0, "{\"op\":\"query\",\"max_rows\":100000,"
	    "\"sql\":\"SELECT c.name, c.started_at - p.ready_at FROM depends d "
	    "JOIN children c ON c.name = d.name JOIN children p ON p.name = "
	    "d.dependency\"}");
	if (l == NULL || strncmp(l, "{\"ok\":true", 10) != 0)
		bench_die("W-deps: query: %s", l != NULL ? l : "no reply");
	for (p = l; (p = strstr(p, "[\"d")) != NULL; p++)
		if (sscanf(p, "[\"d%d\",%lld]", &i, &d) == 2 && d > worst)
			worst = d;
	if (worst < 0)
		bench_die("W-deps: query: no rows: %.200s", l);
	return ((double)worst);
}

/*
 * The cpu time gtd itself has used (user + system, /proc/PID/stat), in
 * ms: what a phase costs gtd, whatever else the machine runs.
 */
static double
deps_cpu_ms(pid_t pid)
{
	char			 path[64], buf[1024], *p;
	unsigned long long	 ut, st;
	FILE			*f;
	size_t			 n;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return (-1);
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* After the command name: state is field 3, utime 14, stime 15. */
	if ((p = strrchr(buf, ')')) == NULL || sscanf(p + 2, "%*c %*d %*d "
	    "%*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return (-1);
	return ((ut + st) * 1000.0 / sysconf(_SC_CLK_TCK));
}

/* Pump the session for secs (the probe keeps pinging). */
static void
deps_pump_for(struct sess *s, double secs)
{
	double	end = bench_now() + secs;

	while (bench_now() < end)
		sess_pump(s, 10);
}

static void
deps_run(struct bctx *b, int n, int w, struct deps_figs *f, int run)
{
	struct sess	 s;
	char		 stamps[128], fields[8192], *l;
	long		 pid;
	double		 t0;
	int		 i;

	snprintf(stamps, sizeof stamps, "%s/stamps", b->dir);
	(void)remove(stamps);
	sess_gtd(&s, b, "gtd", NULL, "[\"started\",\"ready\"]", 'd', n);
	sess_queue(&s, "{\"op\":\"start_child\",\"name\":\"d0\",\"cmd\":["
	    "\"%s\",\"--ready-fd=3\",\"--ready-on-usr1\",\"--stamp=%s\"],"
	    "\"ready\":{\"fd\":3},\"wait\":false}", b->idle, stamps);
	for (i = 1; i < n; i++) {
		snprintf(fields, sizeof fields, "\"cmd\":[\"%s\","
		    "\"--ready-fd=3\",\"--stamp=%s\"],\"ready\":{\"fd\":3},"
		    "\"depends_on\":[\"d%d\"]", b->idle, stamps,
		    deps_parent(i, w));
		sess_start(&s, i, 1, fields);
	}
	sess_until(&s, sess_all_replied, 0, DEPS_WAIT_SECS, "W-deps start");
	/* n - 1 wait on d0: ping meanwhile. */
	sess_ping_start(&s, s.srv.sock);
	deps_pump_for(&s, b->quick ? 0.2 : 0.5);
	f->wait99[run] = bench_quantile(s.lat, s.nlat, 0.99);
	/* Open the gate once d0 blocks SIGUSR1 (its start stamp). */
	if ((l = bconn_req(s.ctl, 10.0, "{\"op\":\"info\",\"name\":\"d0\"}")) ==
	    NULL || (pid = bench_json_int(l, "pid", 0)) <= 0)
		bench_die("W-deps: no pid of d0: %s", l != NULL ? l : "-");
	t0 = bench_now();
	while (!deps_has_line(stamps, "d0 s ")) {
		if (bench_now() - t0 > 10.0)
			bench_die("W-deps: d0 did not start (see %s)", b->dir);
		sess_pump(&s, 5);
	}
	s.nlat = 0;
	f->cpu_start[run] = -deps_cpu_ms(s.srv.pid);
	t0 = bench_now();
	if (kill((pid_t)pid, SIGUSR1) == -1)
		bench_die("kill d0: %s", strerror(errno));
	sess_until(&s, sess_all_ready, n, DEPS_WAIT_SECS, "W-deps ready");
	f->start[run] = (s.tready - t0) * 1e3;
	f->cpu_start[run] += deps_cpu_ms(s.srv.pid);
	f->wave99[run] = bench_quantile(s.lat, s.nlat, 0.99);
	sess_ping_stop(&s);
	f->gtd[run] = deps_gtd_view(&s);
	/* The whole graph down, dependents first, in one request. */
	f->cpu_stop[run] = -deps_cpu_ms(s.srv.pid);
	t0 = bench_now();
	sess_queue(&s, "{\"op\":\"terminate_child\",\"name\":\"d0\"}");
	sess_until(&s, sess_all_replied, 0, DEPS_WAIT_SECS, "W-deps stop");
	f->stop[run] = (bench_now() - t0) * 1e3;
	f->cpu_stop[run] += deps_cpu_ms(s.srv.pid);
	deps_levels(b, stamps, s.tstart, n, w, f, run);
	sess_close(&s);
}

/*
 * The machine's floor for the chain: the bench itself starts the same
 * chain of DEPS_LEVELS children, each forked and exec'd as soon as the
 * readiness line of the one before reached it on a pipe (nothing else:
 * no supervisor).  The longest readiness-to-start, in ms, into *ms (to
 * the top of main) and *forked (to fork's return in the bench).
 */
static void
deps_floor(struct bctx *b, double *ms, double *forked)
{
	char		 stamps[128], arg[160], name[16], c;
	char		 fd3[] = "--ready-fd=3";
	char		*argv[] = { b->idle, fd3, arg, NULL };
	pid_t		 pids[DEPS_LEVELS];
	struct pollfd	 pfd;
	int64_t		 s[DEPS_LEVELS], r[DEPS_LEVELS], fk[DEPS_LEVELS];
	int		 i, p[2];

	snprintf(stamps, sizeof stamps, "%s/floor", b->dir);
	snprintf(arg, sizeof arg, "--stamp=%s", stamps);
	(void)remove(stamps);
	for (i = 0; i < DEPS_LEVELS; i++) {
		snprintf(name, sizeof name, "d%d", i);
		if (pipe(p) == -1 || (pids[i] = fork()) == -1)
			bench_die("W-deps floor: %s", strerror(errno));
		if (pids[i] == 0) {
			if (dup2(p[1], 3) == -1 || setenv("GTD_NAME", name,
			    1) == -1)
				_exit(127);
			execv(argv[0], argv);
			_exit(127);
		}
		fk[i] = bench_now_ns();
		close(p[1]);
		pfd.fd = p[0];
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 10000) != 1 || read(p[0], &c, 1) != 1)
			bench_die("W-deps floor: d%d never ready", i);
		close(p[0]);
	}
	for (i = 0; i < DEPS_LEVELS; i++) {
		(void)kill(pids[i], SIGKILL);
		(void)waitpid(pids[i], NULL, 0);
	}
	deps_stamps(stamps, DEPS_LEVELS, s, r);
	*ms = *forked = 0;
	for (i = 1; i < DEPS_LEVELS; i++) {
		if (s[i] < 0 || r[i - 1] < 0)
			bench_die("W-deps floor: no stamp of d%d (see %s)", i,
			    b->dir);
		if ((s[i] - r[i - 1]) / 1e6 > *ms)
			*ms = (s[i] - r[i - 1]) / 1e6;
		if ((fk[i] - r[i - 1]) / 1e6 > *forked)
			*forked = (fk[i] - r[i - 1]) / 1e6;
	}
}

static void
deps_fig(struct bctx *b, const char *name, const char *unit,
    const double *v, enum target t, double limit)
{
	static double	 lim;
	struct figure	 f = { .name = name, .unit = unit, .v = v,
	    .n = b->reps, .target = t, .limit = limit };

	if (t != TARGET_NONE) {
		lim = limit;
		f.bname = "target";
		f.b = &lim;
		f.nb = 1;
	}
	report(b, &f);
}

void
wl_deps(struct bctx *b)
{
	struct deps_figs	*f, *c;
	char			 name[64];
	int			 w = (b->nchild - 1) / (DEPS_LEVELS - 1);
	int			 n = 1 + w * (DEPS_LEVELS - 1), run, l;

	if ((f = calloc(1, sizeof *f)) == NULL ||
	    (c = calloc(1, sizeof *c)) == NULL)
		bench_die("out of memory");
	for (run = 0; run < b->reps; run++) {
		bench_note("W-deps run %d/%d", run + 1, b->reps);
		deps_run(b, n, w, f, run);
		/* The chain alone: one child a level, nothing else starting. */
		deps_run(b, DEPS_LEVELS, 1, c, run);
		for (l = 1; l < DEPS_LEVELS; l++) {
			if (c->lvl[l][run] > f->chain[run])
				f->chain[run] = c->lvl[l][run];
			if (c->gstart[l][run] > f->chain_ev[run])
				f->chain_ev[run] = c->gstart[l][run];
		}
		f->chain_gtd[run] = c->gtd[run];
		deps_floor(b, &f->floor[run], &f->floor_ev[run]);
	}
	report_section("W-deps: %d children in %d levels (a root, a fan-out "
	    "of %d below it, then %d chains of %d), all waiting on the root "
	    "until it is ready; from a child's readiness (stamped by it right "
	    "before it writes it to gtd) to its dependent's start: \"started\" "
	    "when the bench reads gtd's started event (gtd sends it once the "
	    "process exists, before its exec: the start a supervisor makes), "
	    "\"runs\" at the top of the dependent's main() (with the exec "
	    "and the dynamic loader, which the chain with no gtd measures "
	    "alone); all on CLOCK_MONOTONIC; a level starts with its first "
	    "child; the last one of a level waits for the spawns of those "
	    "before it (a level is %d wide; a dependent released later is "
	    "forked first)", n, DEPS_LEVELS, w, w, DEPS_LEVELS - 1, w);
	for (l = 1; l < DEPS_LEVELS; l++) {
		snprintf(name, sizeof name, "W-deps level %d started", l);
		deps_fig(b, name, "ms", f->gstart[l], TARGET_VALUE_LE,
		    DEPS_TARGET_MS);
	}
	for (l = 1; l < DEPS_LEVELS; l++) {
		snprintf(name, sizeof name, "W-deps level %d runs", l);
		deps_fig(b, name, "ms", f->first[l], TARGET_NONE, 0);
		snprintf(name, sizeof name, "W-deps level %d runs, median", l);
		deps_fig(b, name, "ms", f->mid[l], TARGET_NONE, 0);
		snprintf(name, sizeof name, "W-deps level %d runs, max", l);
		deps_fig(b, name, "ms", f->lvl[l], TARGET_NONE, 0);
	}
	snprintf(name, sizeof name, "W-deps chain of %d alone, started, max",
	    DEPS_LEVELS);
	deps_fig(b, name, "ms", f->chain_ev, TARGET_VALUE_LE, DEPS_TARGET_MS);
	snprintf(name, sizeof name, "W-deps chain of %d alone, runs, max",
	    DEPS_LEVELS);
	deps_fig(b, name, "ms", f->chain, TARGET_NONE, 0);
	snprintf(name, sizeof name, "W-deps chain of %d, no gtd, forked, max",
	    DEPS_LEVELS);
	deps_fig(b, name, "ms", f->floor_ev, TARGET_NONE, 0);
	snprintf(name, sizeof name, "W-deps chain of %d, no gtd, runs, max",
	    DEPS_LEVELS);
	deps_fig(b, name, "ms", f->floor, TARGET_NONE, 0);
	snprintf(name, sizeof name, "W-deps chain of %d, gtd's view",
	    DEPS_LEVELS);
	deps_fig(b, name, "ms", f->chain_gtd, TARGET_NONE, 0);
	deps_fig(b, "W-deps gtd's own view, max", "ms", f->gtd, TARGET_NONE,
	    0);
	snprintf(name, sizeof name, "W-deps ping p99, %d waiting", n - 1);
	deps_fig(b, name, "us", f->wait99, TARGET_VALUE_LT, DEPS_PING_US);
	deps_fig(b, "W-deps ping p99, while starting", "us", f->wave99,
	    TARGET_NONE, 0);
	snprintf(name, sizeof name, "W-deps gate to %d ready", n);
	deps_fig(b, name, "ms", f->start, TARGET_NONE, 0);
	snprintf(name, sizeof name, "W-deps gtd cpu, gate to %d ready", n);
	deps_fig(b, name, "ms", f->cpu_start, TARGET_NONE, 0);
	snprintf(name, sizeof name, "W-deps stop %d (dependents first)", n);
	deps_fig(b, name, "ms", f->stop, TARGET_NONE, 0);
	snprintf(name, sizeof name, "W-deps gtd cpu, stop %d", n);
	deps_fig(b, name, "ms", f->cpu_stop, TARGET_NONE, 0);
	free(f);
	free(c);
}
