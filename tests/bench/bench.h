/* SPDX-License-Identifier: MIT */
/*
 * bench: shared declarations of the `make bench` driver (gtbench) and its
 * load generator.  Nothing here is linked into gtd; the bench talks to gtd
 * only through its socket, as any client would.
 */
#ifndef GT_BENCH_H
#define GT_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BENCH_MAXREQ	(64 * 1024)	/* largest request line we send */

/* ---- util.c: time, statistics, processes, sockets ---- */

/* CLOCK_MONOTONIC in nanoseconds / seconds. */
int64_t		 bench_now_ns(void);
double		 bench_now(void);

/* Sort v[0..n) in place and return its p-quantile (0 <= p <= 1). */
double		 bench_quantile(double *v, size_t n, double p);
/* Median, min and max of v[0..n) (v is sorted in place). */
void		 bench_mmm(double *v, size_t n, double *med, double *min,
		     double *max);

/* Print to stderr and exit 1: the bench cannot go on. */
void		 bench_die(const char *, ...)
		     __attribute__((noreturn, format(printf, 1, 2)));
/* Progress to stderr (stdout carries only the figures). */
void		 bench_note(const char *, ...)
		     __attribute__((format(printf, 1, 2)));

/* Connect to a Unix stream socket; -1 with errno on failure. */
int		 bench_connect(const char *path);
/* Connect, retrying until the deadline (seconds from now). */
int		 bench_connect_wait(const char *path, double secs);
/* Resident set size of a process in KiB (VmRSS), -1 if unknown. */
long		 bench_rss_kib(pid_t);
/* The CPU time (user + system) pid used so far in ms, or -1. */
double		 bench_cpu_ms(pid_t);
/*
 * Raise RLIMIT_NOFILE's soft limit to the hard limit, and the hard one
 * to BENCH_NOFILE first where it is lower and we may (root).
 */
#define BENCH_NOFILE	65536
void		 bench_nofile_max(void);
/* Run pid (0: the bench itself) on one cpu, or on every cpu (cpu -1). */
void		 bench_pin(pid_t, int cpu);

/*
 * Start argv[0] with stdin /dev/null, stderr appended to logpath (NULL:
 * inherit), and, when readyfd >= 0, a pipe on that fd number: returns after
 * the child wrote a line on it (s6 readiness, gtd -r), or dies after secs.
 */
pid_t		 bench_start(const char *const argv[], const char *logpath,
		     int readyfd, double secs);
/* SIGTERM, wait up to secs, then SIGKILL; reaps.  Returns the status. */
int		 bench_stop(pid_t, double secs);
/* Wait up to secs for pid to exit (reaps); 0 if it did, -1 otherwise. */
int		 bench_wait_exit(pid_t, double secs, int *status);

/* ---- line.c: a small line client over a Unix socket ---- */

struct bconn {
	int	 fd;
	char	*in;		/* received, not yet consumed */
	size_t	 inlen, insize;
	char	*out;		/* queued, not yet written */
	size_t	 outlen, outoff, outsize;
	bool	 eof;
};

/* Takes fd; makes it O_NONBLOCK. */
struct bconn	*bconn_new(int fd);
void		 bconn_free(struct bconn *);	/* closes; NULL is fine */
/* Queue bytes / a formatted line ('\n' appended). */
void		 bconn_queue(struct bconn *, const char *, size_t);
void		 bconn_printf(struct bconn *, const char *, ...)
		     __attribute__((format(printf, 2, 3)));
/* Write what the socket takes now.  -1 on error. */
int		 bconn_flush(struct bconn *);
/* Read what is there now.  -1 on error; sets eof. */
int		 bconn_fill(struct bconn *);
/* Next complete line (NUL-terminated, no '\n'), or NULL.  Valid until the
 * next bconn call. */
char		*bconn_line(struct bconn *);
/* Flush everything and return the next line, waiting up to secs. */
char		*bconn_wait_line(struct bconn *, double secs);
/* A synchronous request: send the line, return the reply (borrowed). */
char		*bconn_req(struct bconn *, double secs, const char *, ...)
		     __attribute__((format(printf, 3, 4)));
/* Integer after "key": in a JSON line, or def. */
long long	 bench_json_int(const char *line, const char *key,
		     long long def);
/* String value of "key": copied into buf; false when absent. */
bool		 bench_json_str(const char *line, const char *key, char *buf,
		     size_t size);

/* ---- load.c: the load generator ---- */

struct load_opts {
	const char	 *path;		/* server socket */
	const char	**reqs;		/* request lines, each ending '\n' */
	size_t		 *reqlens;
	size_t		  nreqs;	/* sent round-robin */
	int		  nconn;	/* client connections */
	int		  depth;	/* in-flight requests per connection */
	long		  count;	/* stop after this many replies... */
	double		  secs;		/* ...or after this long (count == 0) */
	long		  warmup;	/* replies not counted at the start */
	bool		  latency;	/* keep per-request latencies */
	const char	 *expect;	/* every reply starts with this */
};

struct load_result {
	long		  n;		/* replies counted */
	double		  secs;		/* counted interval */
	double		  rate;		/* replies per second */
	double		  p50_us, p99_us;
};

/* Run one load; 0, or -1 (message printed) if the server misbehaved. */
int		 load_run(const struct load_opts *, struct load_result *);

/*
 * Ping-pong against several servers in turn (one blocking connection
 * each), LOAD_CHUNK requests to one, then the next: each server is in its
 * steady ping-pong state, yet all see the same machine noise within a few
 * milliseconds, so their latencies compare even on a busy machine.  The
 * first LOAD_CHUNK_WARM replies of each turn are not counted.  count
 * replies per target after warmup; res[i] gets target i's figures.  0, or
 * -1 (message printed).
 */
#define LOAD_CHUNK	500
#define LOAD_CHUNK_WARM	5
struct load_target {
	const char	 *path;
	const char	**reqs;		/* round-robin, each ending '\n' */
	size_t		 *reqlens;
	size_t		  nreqs;
	const char	 *expect;
};
int		 load_pingpong(const struct load_target *, int ntargets,
		     long count, long warmup, struct load_result *res);

/* ---- server.c: one gtd (or echo, redis) under test ---- */

struct server {
	pid_t	 pid;
	char	 sock[108];
	char	 log[256];
};

/* Start gtd on DIR/NAME.sock with -r readiness; config may be NULL. */
void		 server_gtd(struct server *, const char *gtd, const char *dir,
		     const char *name, const char *config);
/* Start the echo baseline on DIR/echo.sock. */
void		 server_echo(struct server *, const char *echo,
		     const char *dir);
/* Start redis-server on DIR/redis.sock; false if it is not installed. */
bool		 server_redis(struct server *, const char *dir);
/* Is prog an executable somewhere in PATH? */
bool		 server_have(const char *prog);
/* Ask gtd to shut down (stops its children), wait, else kill. */
void		 server_gtd_stop(struct server *);
void		 server_kill(struct server *);

/* ---- gtbench.c: the run and its report ---- */

#define BENCH_MAXREPS	16

struct bctx {
	char		 dir[64];		/* private temp directory */
	char		 gtd[4096];		/* binaries, absolute */
	char		 echo[4096];
	char		 spawnloop[4096];
	char		 idle[4096];
	bool		 quick;			/* BENCH_QUICK=1: a smoke run */
	bool		 redis_only;		/* make bench-redis */
	int		 reps;			/* runs of each figure */
	int		 nchild;		/* children in W-spawn etc. */
	int		 nrestart;		/* kills per W-restart run */
	/* Children in W-memory's big case. */
	int		 nmem;
	int		 nscale;		/* rows in W-scale's big case */
	long		 pp_count;		/* replies per ping-pong run */
	double		 tput_secs;		/* seconds per throughput run */
	int		 met, missed;
};

enum target {
	TARGET_NONE,
	TARGET_RATIO_LE,		/* ratio <= limit */
	TARGET_RATIO_GE,		/* ratio >= limit */
	TARGET_VALUE_LE,		/* median <= limit (in unit) */
	TARGET_VALUE_LT			/* median < limit (in unit) */
};

struct figure {
	const char	*name;		/* "W-find 1c p50" */
	const char	*unit;		/* "us", "ms", "kreq/s", "KiB" */
	const double	*v;		/* one value per run */
	int		 n;
	const char	*bname;		/* baseline's name */
	const double	*b;		/* baseline, per run (paired) or less */
	int		 nb;
	enum target	 target;
	double		 limit;
};

/* Print one figure line: median (min, max), ratio, target verdict. */
void		 report(struct bctx *, const struct figure *);
/* A section heading. */
void		 report_section(const char *, ...)
		     __attribute__((format(printf, 1, 2)));

/* ---- sess.c: a gtd under test with its request, event and probe
 * connections, driven by one poll loop ---- */

struct sess {
	struct bctx	*b;
	struct server	 srv;		/* gtd; pid 0 when none */
	struct bconn	*ctl;		/* requests; every reply must be ok */
	long		 sent, replied;
	struct bconn	*sub;		/* event stream */
	char		 prefix;	/* children are named PREFIX<index> */
	pid_t		*pids;		/* by index, from ready events */
	int64_t		*tstart;	/* by index, ns: its started event
					   came (the first; -1: none yet) */
	int		 n;
	long		 nready, nstopped;
	double		 tready;	/* when the last ready event came */
	struct bconn	*ping;		/* ping-pong probe, or NULL */
	double		 pingsent;
	double		*lat;		/* probe round trips, us */
	size_t		 nlat, latsize;
	int		 xfd;		/* extra fd to read to EOF, or -1 */
	char		*xout;		/* what it gave, NUL-terminated */
	size_t		 xlen, xsize;
	bool		 xeof;
};

/* Start gtd as NAME (config may be NULL), connect, subscribe to events
 * (a JSON array), for n children named prefix<index>. */
void		 sess_gtd(struct sess *, struct bctx *, const char *name,
		     const char *config, const char *events, char prefix,
		     int n);
/* Only the loop (no gtd): for the baselines' probe and output. */
void		 sess_bare(struct sess *, struct bctx *);
void		 sess_close(struct sess *);	/* stops gtd, frees */
/* Queue one request line on ctl. */
void		 sess_queue(struct sess *, const char *, ...)
		     __attribute__((format(printf, 2, 3)));
/* Queue start_child for prefix<first..first+count) with spec fields. */
void		 sess_start(struct sess *, int first, int count,
		     const char *fields);
/* One round of the poll loop, waiting up to ms. */
void		 sess_pump(struct sess *, int ms);
/* Pump until cond holds; die after secs. */
void		 sess_until(struct sess *, bool (*)(struct sess *, long),
		     long, double secs, const char *what);
bool		 sess_all_ready(struct sess *, long);	/* nready >= arg */
bool		 sess_all_replied(struct sess *, long);
/* Close ctl (its buffers go) and open a fresh one. */
void		 sess_new_ctl(struct sess *);
/* A ping on a fresh connection, then gtd's RSS in KiB. */
long		 sess_barrier_rss(struct sess *);
/* Start the ping-pong probe on a socket / stop it. */
void		 sess_ping_start(struct sess *, const char *sock);
void		 sess_ping_stop(struct sess *);
/* Read fd to EOF from the loop (a baseline's output). */
void		 sess_watch(struct sess *, int fd);
/* The value after "key=" in the watched output, or -1. */
double		 sess_xval(struct sess *, const char *key);

/* ---- the workloads ---- */

void		 wl_rr(struct bctx *);		/* wl-rr.c */
void		 wl_proc(struct bctx *);	/* wl-proc.c */
void		 wl_ready(struct bctx *);
void		 wl_memory(struct bctx *);
void		 wl_scale(struct bctx *);	/* wl-scale.c */
void		 wl_mirror(struct bctx *);	/* wl-mirror.c */
void		 wl_deps(struct bctx *);	/* wl-deps.c */
void		 wl_reexec(struct bctx *);	/* wl-reexec.c */
void		 wl_cluster(struct bctx *);	/* wl-cluster.c */

#endif
