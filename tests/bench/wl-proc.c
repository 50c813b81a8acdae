/* SPDX-License-Identifier: MIT */
/*
 * wl-proc: the process workloads.  W-spawn (N start_child of a
 * long-running child until all run), W-restart (kill -9 until the
 * replacement runs), W-storm (all N killed at once until all run again),
 * W-ready (N children each ready after 1 s, and ping latency meanwhile)
 * and W-memory (gtd's RSS per child), each against bench-spawnloop, the
 * least a supervisor can do, run with the same child in the same run.
 *
 * gtd gets its fast path: start_child with "wait":false pipelined on one
 * connection, and "running" is observed as the ready event (for ready
 * "exec": the exec succeeded, as bench-spawnloop's close-on-exec pipe).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/bench/bench.h"

#define PROC_WAIT_SECS	300.0
#define PROC_READY_MS	1000

struct proc_figs {
	double	spawn[BENCH_MAXREPS], spawn_b[BENCH_MAXREPS];
	double	storm[BENCH_MAXREPS], storm_b[BENCH_MAXREPS];
	double	r50[BENCH_MAXREPS], r50_b[BENCH_MAXREPS];
	double	r99[BENCH_MAXREPS], r99_b[BENCH_MAXREPS];
	double	mem[BENCH_MAXREPS];
};

static const double proc_mem_target = 2.0;	/* KiB per child */

/* Run bench-spawnloop to completion (argv after the program name). */
static void
proc_spawnloop(struct bctx *b, struct sess *s, const char *const args[])
{
	const char	*argv[16];
	int	 p[2], i, n = 0;
	pid_t	 pid;

	argv[n++] = b->spawnloop;
	for (i = 0; args[i] != NULL && n < 14; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (pipe2(p, O_CLOEXEC) == -1)
		bench_die("pipe2: %s", strerror(errno));
	fflush(stdout);
	if ((pid = fork()) == -1)
		bench_die("fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(p[1], 1);
		execv(argv[0], (char *const *)argv);	/* not written */
		_exit(127);
	}
	close(p[1]);
	sess_watch(s, p[0]);
	while (!s->xeof)
		sess_pump(s, 100);
	if (waitpid(pid, &i, 0) == -1 || !WIFEXITED(i) || WEXITSTATUS(i) != 0)
		bench_die("bench-spawnloop failed");
}

/* p50 and p99 of bench-spawnloop's "restart_us=a b c" line. */
static void
proc_restart_base(struct sess *s, double *p50, double *p99)
{
	double	 v[4096];
	char	*p, *end;
	size_t	 n = 0;

	*p50 = *p99 = 0;
	if ((p = strstr(s->xout, "restart_us=")) == NULL)
		return;
	for (p += 11; n < 4096; p = end) {
		v[n] = strtod(p, &end);
		if (end == p)
			break;
		n++;
	}
	*p50 = bench_quantile(v, n, 0.5);
	*p99 = bench_quantile(v, n, 0.99);
}

static void
proc_base_run(struct bctx *b, struct proc_figs *f, int run)
{
	struct sess	s;
	char		n[16], k[16];
	const char	*args[] = { "-n", n, "-k", k, "-s", "--", b->idle,
	    NULL };

	snprintf(n, sizeof n, "%d", b->nchild);
	snprintf(k, sizeof k, "%d", b->nrestart);
	sess_bare(&s, b);
	proc_spawnloop(b, &s, args);
	f->spawn_b[run] = sess_xval(&s, "spawn_ms");
	f->storm_b[run] = sess_xval(&s, "storm_ms");
	proc_restart_base(&s, &f->r50_b[run], &f->r99_b[run]);
	if (f->spawn_b[run] < 0 || f->storm_b[run] < 0)
		bench_die("bench-spawnloop: no figures in \"%s\"", s.xout);
	sess_close(&s);
}

/* Kill one child after another; the time until its replacement runs. */
static void
proc_restart(struct sess *s, int k, double *p50, double *p99)
{
	double	*v, t0;
	pid_t	 old;
	int	 j, i;

	if ((v = calloc(k, sizeof *v)) == NULL)
		bench_die("out of memory");
	for (j = 0; j < k; j++) {
		i = j % s->n;
		old = s->pids[i];
		t0 = bench_now();
		if (kill(old, SIGKILL) == -1)
			bench_die("kill %d: %s", (int)old, strerror(errno));
		while (s->pids[i] == old) {
			if (bench_now() - t0 > 30)
				bench_die("w%d not restarted after 30 s", i);
			sess_pump(s, 100);
		}
		v[j] = (s->tready - t0) * 1e6;
	}
	*p50 = bench_quantile(v, k, 0.5);
	*p99 = bench_quantile(v, k, 0.99);
	free(v);
}

/* Kill all at once; the time until every replacement runs. */
static double
proc_storm(struct sess *s)
{
	double	t0;
	long	base = s->nready;
	pid_t	*old;
	int	 i;

	if ((old = calloc(s->n, sizeof *old)) == NULL)
		bench_die("out of memory");
	memcpy(old, s->pids, s->n * sizeof *old);
	t0 = bench_now();
	for (i = 0; i < s->n; i++)
		kill(old[i], SIGKILL);
	sess_until(s, sess_all_ready, base + s->n, PROC_WAIT_SECS, "W-storm");
	for (i = 0; i < s->n; i++)
		if (s->pids[i] == old[i])
			bench_die("W-storm: w%d was not replaced", i);
	free(old);
	return ((s->tready - t0) * 1e3);
}

static void
proc_gtd_run(struct bctx *b, struct proc_figs *f, int run)
{
	struct sess	s;
	char		fields[8192];
	double		t0;
	long		rss0, rss1;

	snprintf(fields, sizeof fields, "\"cmd\":[\"%s\"],"
	    "\"restart_delay_ms\":0,\"max_restarts\":0", b->idle);
	sess_gtd(&s, b, "gtd", NULL, "[\"ready\"]", 'w', b->nchild);
	rss0 = sess_barrier_rss(&s);
	t0 = bench_now();
	sess_start(&s, 0, b->nchild, fields);
	sess_until(&s, sess_all_ready, b->nchild, PROC_WAIT_SECS, "W-spawn");
	f->spawn[run] = (s.tready - t0) * 1e3;
	sess_new_ctl(&s);		/* its input buffer is not per child */
	rss1 = sess_barrier_rss(&s);
	f->mem[run] = (double)(rss1 - rss0) / b->nchild;
	proc_restart(&s, b->nrestart, &f->r50[run], &f->r99[run]);
	f->storm[run] = proc_storm(&s);
	sess_close(&s);
}

static void
proc_fig(struct bctx *b, const char *name, const char *unit, const double *v,
    const char *bname, const double *base, int nb, enum target t, double lim)
{
	struct figure	f = { .name = name, .unit = unit, .v = v,
	    .n = b->reps, .bname = bname, .b = base, .nb = nb, .target = t,
	    .limit = lim };

	report(b, &f);
}

void
wl_proc(struct bctx *b)
{
	struct proc_figs	f;
	char			name[64];
	int			run;

	memset(&f, 0, sizeof f);
	for (run = 0; run < b->reps; run++) {
		bench_note("W-spawn/W-restart/W-storm run %d/%d", run + 1,
		    b->reps);
		proc_base_run(b, &f, run);
		proc_gtd_run(b, &f, run);
	}
	report_section("process workloads: %d children of bench-idle, "
	    "%d kill -9 one at a time, restart_delay_ms 0; baseline "
	    "bench-spawnloop", b->nchild, b->nrestart);
	snprintf(name, sizeof name, "spawnloop %d spawn", b->nchild);
	proc_fig(b, name, "ms", f.spawn_b, NULL, NULL, 0, TARGET_NONE, 0);
	snprintf(name, sizeof name, "W-spawn %d", b->nchild);
	proc_fig(b, name, "ms", f.spawn, "spawnloop", f.spawn_b, b->reps,
	    TARGET_RATIO_LE, 1.25);
	proc_fig(b, "spawnloop restart p50", "us", f.r50_b, NULL, NULL, 0,
	    TARGET_NONE, 0);
	proc_fig(b, "W-restart p50", "us", f.r50, "spawnloop", f.r50_b,
	    b->reps, TARGET_VALUE_LE, 1000);
	proc_fig(b, "W-restart p99", "us", f.r99, "spawnloop", f.r99_b,
	    b->reps, TARGET_NONE, 0);
	snprintf(name, sizeof name, "spawnloop storm %d", b->nchild);
	proc_fig(b, name, "ms", f.storm_b, NULL, NULL, 0, TARGET_NONE, 0);
	snprintf(name, sizeof name, "W-storm %d", b->nchild);
	proc_fig(b, name, "ms", f.storm, "spawnloop", f.storm_b, b->reps,
	    TARGET_RATIO_LE, 1.5);
	snprintf(name, sizeof name, "W-memory %d", b->nchild);
	proc_fig(b, name, "KiB/ch", f.mem, "target", &proc_mem_target, 1,
	    TARGET_VALUE_LE, proc_mem_target);
}

static void
ready_base_run(struct bctx *b, const char *echo, double *total, double *p99)
{
	struct sess	s;
	char		n[16], after[32];
	const char	*args[] = { "-R", "-n", n, "--", b->idle,
	    "--ready-fd=3", after, NULL };

	snprintf(n, sizeof n, "%d", b->nchild);
	snprintf(after, sizeof after, "--ready-after-ms=%d", PROC_READY_MS);
	sess_bare(&s, b);
	sess_ping_start(&s, echo);
	proc_spawnloop(b, &s, args);
	if ((*total = sess_xval(&s, "spawn_ms")) < 0)
		bench_die("bench-spawnloop -R: no figure");
	*p99 = bench_quantile(s.lat, s.nlat, 0.99);
	sess_close(&s);
}

static void
ready_gtd_run(struct bctx *b, double *total, double *p99)
{
	struct sess	s;
	char		fields[8192];
	double		t0;

	snprintf(fields, sizeof fields, "\"cmd\":[\"%s\",\"--ready-fd=3\","
	    "\"--ready-after-ms=%d\"],\"ready\":{\"fd\":3}", b->idle,
	    PROC_READY_MS);
	sess_gtd(&s, b, "gtd", NULL, "[\"ready\"]", 'w', b->nchild);
	sess_ping_start(&s, s.srv.sock);
	t0 = bench_now();
	sess_start(&s, 0, b->nchild, fields);
	sess_until(&s, sess_all_ready, b->nchild, PROC_WAIT_SECS, "W-ready");
	*total = (s.tready - t0) * 1e3;
	*p99 = bench_quantile(s.lat, s.nlat, 0.99);
	sess_close(&s);
}

void
wl_ready(struct bctx *b)
{
	struct server	echo;
	double		tot[BENCH_MAXREPS], tot_b[BENCH_MAXREPS];
	double		p99[BENCH_MAXREPS], p99_b[BENCH_MAXREPS];
	char		name[64];
	int		run;

	server_echo(&echo, b->echo, b->dir);
	for (run = 0; run < b->reps; run++) {
		bench_note("W-ready run %d/%d", run + 1, b->reps);
		ready_base_run(b, echo.sock, &tot_b[run], &p99_b[run]);
		ready_gtd_run(b, &tot[run], &p99[run]);
	}
	server_kill(&echo);
	report_section("W-ready: %d children each ready (fd 3) after %d ms; "
	    "ping-pong probe meanwhile; baseline bench-spawnloop -R with a "
	    "probe on bench-echo", b->nchild, PROC_READY_MS);
	snprintf(name, sizeof name, "spawnloop ready %d", b->nchild);
	proc_fig(b, name, "ms", tot_b, NULL, NULL, 0, TARGET_NONE, 0);
	snprintf(name, sizeof name, "W-ready %d total", b->nchild);
	proc_fig(b, name, "ms", tot, "spawnloop", tot_b, b->reps,
	    TARGET_VALUE_LE, 1300);
	proc_fig(b, "W-ready ping p99", "us", p99, "echo probe", p99_b,
	    b->reps, TARGET_VALUE_LT, 1000);
}

/*
 * One gtd starting n children of bench-idle, with outputs "log" (the
 * default: fields without stdout/stderr) or "null".  *per: VmRSS growth
 * per child in KiB.  Spawn scaling (n >= 2000): the first 1000 are
 * started and waited for, then all but the last 1000, then the last
 * 1000, with n - 1000 running: ms[0], ms[1] are the wall-clock ms per
 * child of the first and of the last 1000 starts, cpu[0], cpu[1] gtd's
 * own CPU ms per child in them (else -1).  Each batch is waited for
 * before the next, so a figure is the cost of its own starts only.
 */
static void
mem_run(struct bctx *b, int n, bool null, double *per, double *ms,
    long *rss, double *cpu)
{
	struct sess	s;
	char		fields[8192];
	double		t0, c0;
	int		from[3], to[3], i;

	snprintf(fields, sizeof fields, "\"cmd\":[\"%s\"]%s", b->idle,
	    null ? ",\"stdout\":\"null\",\"stderr\":\"null\"" : "");
	sess_gtd(&s, b, "gtd", NULL, "[\"ready\"]", 'm', n);
	rss[0] = sess_barrier_rss(&s);
	ms[0] = ms[1] = cpu[0] = cpu[1] = -1;
	from[0] = 0;
	to[0] = n >= 2000 ? 1000 : n;
	from[1] = to[0];
	to[1] = n >= 2000 ? n - 1000 : n;
	from[2] = to[1];
	to[2] = n;
	for (i = 0; i < 3; i++) {
		if (from[i] == to[i])
			continue;
		c0 = bench_cpu_ms(s.srv.pid);
		t0 = bench_now();
		sess_start(&s, from[i], to[i] - from[i], fields);
		sess_until(&s, sess_all_ready, to[i], PROC_WAIT_SECS,
		    "W-memory");
		if (i == 1 || n < 2000)
			continue;
		ms[i / 2] = (s.tready - t0) * 1e3 / (to[i] - from[i]);
		cpu[i / 2] = (bench_cpu_ms(s.srv.pid) - c0) /
		    (to[i] - from[i]);
	}
	sess_new_ctl(&s);
	rss[1] = sess_barrier_rss(&s);
	*per = (double)(rss[1] - rss[0]) / n;
	sess_close(&s);
}

/*
 * The children that fit gtd's descriptor limit (the bench's own, which
 * gtd inherits): two each with outputs "log" (the pipe both streams
 * share and the child's cgroup directory), some left for gtd itself; in
 * thousands.  n if they all fit.
 */
static int
mem_fit(int n, long *lim)
{
	struct rlimit	rl;
	long		fit;

	*lim = -1;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return (n);
	*lim = (long)rl.rlim_cur;
	fit = ((long)rl.rlim_cur - 256) / 2 / 1000 * 1000;
	if (fit >= n)
		return (n);
	return (fit < 1000 ? 1000 : (int)fit);
}

void
wl_memory(struct bctx *b)
{
	struct figure	f = { .unit = "KiB/ch", .n = 1, .bname = "target",
	    .b = &proc_mem_target, .nb = 1, .target = TARGET_VALUE_LE,
	    .limit = proc_mem_target };
	char		name[64], why[160], at[64];
	double		per, per_null, ms[2], cpu[2], xm[2], xc[2];
	long		rss[2], rss_null[2], lim;
	int		n = mem_fit(b->nmem, &lim);

	why[0] = '\0';
	if (n < b->nmem)
		snprintf(why, sizeof why, "; %d do not fit RLIMIT_NOFILE %ld "
		    "(2 descriptors a child with outputs \"log\"): %d instead",
		    b->nmem, lim, n);
	bench_note("W-memory: %d children, outputs \"log\"", n);
	mem_run(b, n, false, &per, ms, rss, cpu);
	bench_note("W-memory: %d children, outputs \"null\"", n);
	mem_run(b, n, true, &per_null, xm, rss_null, xc);
	report_section("W-memory: gtd's VmRSS growth (anonymous and file "
	    "pages it touched, not the kernel's pipe buffers) / children, "
	    "%d children of bench-idle (RSS %ld -> %ld KiB with outputs "
	    "\"log\", %ld -> %ld with \"null\")%s", n, rss[0], rss[1],
	    rss_null[0], rss_null[1], why);
	snprintf(name, sizeof name, "W-memory %d", n);
	f.name = name;
	f.v = &per;
	report(b, &f);
	snprintf(name, sizeof name, "W-memory %d null", n);
	f.name = name;
	f.v = &per_null;
	f.target = TARGET_NONE;
	report(b, &f);
	if (ms[0] <= 0 || ms[1] <= 0)
		return;
	report_section("W-spawn scaling: per child, 1000 starts with none "
	    "running and 1000 starts with %d running (outputs \"log\"), "
	    "each batch waited for; wall clock and gtd's own cpu time (user "
	    "+ system, less noisy on a shared machine); target: within 1.2x",
	    n - 1000);
	f = (struct figure){ .name = "W-spawn 1000 at 0 ms/child",
	    .unit = "ms", .v = &ms[0], .n = 1 };
	report(b, &f);
	snprintf(at, sizeof at, "W-spawn 1000 at %d ms/child", n - 1000);
	f = (struct figure){ .name = at, .unit = "ms", .v = &ms[1], .n = 1,
	    .bname = "at 0", .b = &ms[0], .nb = 1,
	    .target = TARGET_RATIO_LE, .limit = 1.2 };
	report(b, &f);
	if (cpu[0] <= 0 || cpu[1] <= 0)
		return;
	f = (struct figure){ .name = "W-spawn 1000 at 0 gtd cpu/ch",
	    .unit = "ms", .v = &cpu[0], .n = 1 };
	report(b, &f);
	snprintf(name, sizeof name, "W-spawn 1000 at %d gtd cpu/ch", n - 1000);
	f = (struct figure){ .name = name, .unit = "ms", .v = &cpu[1],
	    .n = 1, .bname = "at 0", .b = &cpu[0], .nb = 1,
	    .target = TARGET_RATIO_LE, .limit = 1.2 };
	report(b, &f);
}
