/* SPDX-License-Identifier: MIT */
/*
 * chaos: the engine of check_e2e_chaos.c (contract in chaos.h).  One poll
 * loop drives every chaos connection as a small state machine, plus a
 * controller (config rewrites with reload or SIGHUP, adoptable processes,
 * the liveness, RSS and reaping checks) and the phases of an epoch: boot,
 * quiesce for the baselines, chaos, drain and quiesce for the final
 * checks, stop.  Every decision comes from a seeded PRNG: the controller
 * has its own stream and every connection one derived from the epoch's
 * seed and its serial number, so a seed replays the same decisions (the
 * interleaving with gtd still varies from run to run).
 *
 * Nothing here sleeps: the loop polls its sockets and the readiness pipe
 * with a short timeout and acts on deadlines.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "gt/childlog.h"
#include "gt/event.h"
#include "gt/protocol.h"
#include "gt/xmalloc.h"
#include "chaos.h"
#include "harness.h"

#define CH_POOL		24	/* chaos children c0..c23 */
#define CH_FLOODERS	4	/* c0..c3 flood, c4..c7 race notify */
#define CH_BOOT		8	/* boot names b0..b7 */
#define CH_NADOPT	4	/* adoptable processes a0..a3 */
#define CH_KEYS		8	/* attr keys k0..k7 */
#define CH_MAX_REQ	65536	/* max_request_bytes in the config */
#define CH_MAX_CHILDREN	48
#define CH_MAX_ATTRS	16
#define CH_MAX_STALLED	8	/* stalled at once: 8 x 16 MiB < total cap */
#define CH_TICK_MS	10
#define CH_OVERDUE_MS	20000	/* a reply that late (no progress) */
#define CH_WAIT_MS	120000	/* ... to an op that may wait */
#define CH_DRAIN_MS	180000	/* for the last replies at the end */
#define CH_QUIET_MS	30000	/* children stopped, connections gone */
#define CH_BOOT_MS	30000	/* start to readiness */
#define CH_LINE_MAX	(48L << 20)
#define CH_OUT_MAX	(4L << 20)	/* requests queued, not yet written */
#define CH_TRACE	64	/* trace lines kept for the report */

enum ch_phase { PH_BOOT, PH_MAIN, PH_DRAIN, PH_END };
enum ch_kind { CK_CHAOS, CK_CTL, CK_LIVE };

/* Connection actions, drawn by weight. */
enum ch_act {
	CA_REQ, CA_BURST, CA_SUB, CA_FOLLOW, CA_STALL, CA_STALL_LONG,
	CA_GARBAGE, CA_PARTIAL, CA_OVERSIZE, CA_HALF, CA_RESET, CA_CLOSE,
	CA_N
};

static const struct {
	int	weight;			/* per 1000 actions, before mood */
	int	feature;		/* -1: always */
} ch_acts[CA_N] = {
	[CA_REQ] = { 900, -1 },
	[CA_BURST] = { 3, CHAOS_BURST },
	[CA_SUB] = { 12, CHAOS_SUBSCRIBE },
	[CA_FOLLOW] = { 12, CHAOS_FOLLOW },
	[CA_STALL] = { 12, CHAOS_STALL },
	[CA_STALL_LONG] = { 2, CHAOS_STALL },
	[CA_GARBAGE] = { 10, CHAOS_GARBAGE },
	[CA_PARTIAL] = { 10, CHAOS_PARTIAL },
	[CA_OVERSIZE] = { 1, CHAOS_OVERSIZE },
	[CA_HALF] = { 2, CHAOS_HALFCLOSE },
	[CA_RESET] = { 2, CHAOS_RESET },
	[CA_CLOSE] = { 2, -1 }
};

static const char *const ch_feature_names[CHAOS_NFEATURES] = {
	[CHAOS_STALL] = "stall", [CHAOS_HALFCLOSE] = "halfclose",
	[CHAOS_RESET] = "reset", [CHAOS_BURST] = "burst",
	[CHAOS_GARBAGE] = "garbage", [CHAOS_OVERSIZE] = "oversize",
	[CHAOS_PARTIAL] = "partial", [CHAOS_SUBSCRIBE] = "subscribe",
	[CHAOS_FOLLOW] = "follow", [CHAOS_RELOAD] = "reload",
	[CHAOS_SIGHUP] = "sighup", [CHAOS_BOOT_RELOAD] = "boot_reload",
	[CHAOS_BOOT_SQUAT] = "boot_squat", [CHAOS_BOOT_KILL] = "boot_kill",
	[CHAOS_BAD_CONFIG] = "bad_config",
	[CHAOS_ADOPT] = "adopt", [CHAOS_ADOPT_GTD] = "adopt_gtd",
	[CHAOS_RELEASE] = "release", [CHAOS_SIGNAL] = "signal",
	[CHAOS_FLOOD] = "flood", [CHAOS_CRASH] = "crash",
	[CHAOS_GRANDCHILD] = "grandchild", [CHAOS_IGNORE_TERM] = "ignore_term",
	[CHAOS_STOP_SELF] = "stop_self", [CHAOS_NOTIFY_RACE] = "notify_race",
	[CHAOS_WATCHDOG] = "watchdog", [CHAOS_HOOK] = "hook",
	[CHAOS_FILE_LOG] = "file_log", [CHAOS_SNAPSHOT] = "snapshot",
	[CHAOS_HEAVY_QUERY] = "heavy_query", [CHAOS_BIG_ATTR] = "big_attr",
	[CHAOS_LIST_KEYS] = "list_keys", [CHAOS_CONN_STORM] = "conn_storm"
};

/* The error codes of protocol §2: any other is a violation. */
static const char *const ch_codes[] = {
	GT_E_BAD_JSON, GT_E_BAD_REQUEST, GT_E_UNKNOWN_OP, GT_E_NOT_FOUND,
	GT_E_NOT_RUNNING, GT_E_ALREADY_STARTED, GT_E_ALREADY_PRESENT,
	GT_E_RUNNING, GT_E_RESTARTING, GT_E_SPAWN_FAILED, GT_E_EXITED,
	GT_E_TIMEOUT, GT_E_NOPROC, GT_E_NOT_INTEGER, GT_E_OVERFLOW,
	GT_E_PERMISSION, GT_E_TOO_BIG, GT_E_LIMIT, GT_E_SHUTTING_DOWN,
	GT_E_BAD_CONFIG, GT_E_SQL_ERROR, GT_E_READ_ONLY, "unavailable"
};
#define CH_NCODES	(sizeof ch_codes / sizeof ch_codes[0])

struct ch_rng {
	uint64_t	s;
};

/* One reply a connection is owed, in request order. */
struct ch_exp {
	json_t		*id;		/* owned; NULL: the reply has none */
	const char	*op;		/* static */
	const char	*want;		/* static error code it must be, or NULL */
	char		*text;		/* owned: the request, cut short */
	json_t		**keep;		/* gets the reply (ch_sync), or NULL */
	long		 at;		/* queued */
	bool		 follow;	/* logs with follow */
};

struct chaos;

struct ch_conn {
	struct chaos	*c;		/* weak */
	enum ch_kind	 kind;
	int		 fd;		/* owned */
	unsigned	 serial;
	struct ch_rng	 rng;
	long		 born, dies;	/* dies: end of life */
	long		 next;		/* next action */
	long		 tempo;		/* mean ms between actions */
	int		 depth;		/* replies owed before it waits */
	int		 w[CA_N];	/* action weights (its mood) */
	long		 nid;
	bool		 wclosed;	/* sends no more (half-closed, EPIPE) */
	bool		 half;		/* shut down for writing once flushed */
	bool		 stalled;
	long		 stall_end;	/* -1: for good */
	bool		 cause;		/* gtd may close it for cause */
	bool		 subscribed;	/* a subscribe or follow reply came */
	bool		 first;		/* no line yet */
	long		 drip;		/* bytes to send slowly */
	long		 drip_at;
	char		*out;		/* owned: requests not yet written */
	size_t		 outlen, outoff, outcap;
	char		*in;		/* owned: read, not yet a line */
	size_t		 inlen, incap;
	struct ch_exp	*exp;		/* owned ring */
	size_t		 exph, expn, expcap;
	long		 replies, events;
	long		 last_read;	/* when a read last returned bytes */
	long		 last_reply;	/* when the last reply came */
	long		 nread;		/* bytes read */
};

struct ch_adopt {
	pid_t		 pid;		/* -1: none */
	long		 respawn;	/* not before */
};

struct ch_stats {
	long	conns, reqs, replies, errs, events;
	long	stalls, halfs, resets, closes, garbage, partial, oversize;
	long	bursts, subs, follows;
	long	cause_closes, truncated, refused, storms;
	long	reloads, sighups, bad_configs, adopted, released, pids;
	long	live_pings, live_ms_max;
	long	codes[CH_NCODES];
};

struct chaos {
	const struct chaos_opts	*o;
	struct e2e		*e;
	uint64_t		 seed;		/* this epoch's */
	int			 epoch;
	long			 run0, t0;	/* run and epoch start */
	long			 end;		/* end of the chaos phase */
	struct ch_rng		 rng;		/* the controller's */
	enum ch_phase		 phase;
	pid_t			 gtd;
	bool			 booted;	/* the readiness line came */
	long			 boot_end;
	int			 maxconns;	/* the config's max_connections */
	struct ch_conn		**slot;
	int			 nslots;
	int			 active;	/* slots in use this epoch */
	bool			 lag;		/* the "lag" profile */
	long			*refill;	/* per slot: reopen not before */
	struct ch_conn		*ctl, *live;
	long			 live_deadline, live_t0;
	unsigned		 serial;
	int			 nstalled;
	int			 storm_fds[256];
	int			 nstorm;
	long			 storm_end;
	uint8_t			*pidmap;	/* pids reported started */
	long			 pidmax;
	pid_t			 recent[64];	/* for ops by pid */
	unsigned		 nrecent;
	int64_t			 seq;		/* highest event seq seen */
	struct ch_adopt		 adopt[CH_NADOPT];
	pid_t			 zombie[64];	/* gtd's zombies, first seen */
	long			 zombie_at[64];
	int			 nzombie;
	long			 next_reload, next_adopt, next_rss, next_live;
	long			 next_zombie, next_rows, next_storm;
	long			 next_flood;
	char			**fd0;		/* gtd's fds at the baseline */
	int			 nfd0;
	long			 rss0, rss_bound, rss_max;
	long			 released;	/* release requests sent */
	struct ch_stats		 st;
	FILE			*trace;
	char			 ring[CH_TRACE][200];
	unsigned		 nring;
	uint64_t		 avoid;
	int			 cfggen;
	bool			 listening;	/* a connect succeeded */
	unsigned		 bootset;	/* boot names in the config */
};

static void	ch_fail(struct chaos *, const char *, ...)
		    __attribute__((format(printf, 2, 3), noreturn));
static void	ch_trace(struct chaos *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	ch_conn_free(struct ch_conn *);
static struct ch_exp *ch_exp_head(struct ch_conn *);
static void	ch_eof(struct ch_conn *, const char *);
static void	ch_overdue(struct ch_conn *, long);

/* The PRNG: splitmix64, one stream per state. */

static uint64_t
ch_next(struct ch_rng *r)
{
	uint64_t	z;

	z = (r->s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31));
}

static long
ch_below(struct ch_rng *r, long n)
{
	return (n <= 1 ? 0 : (long)(ch_next(r) % (uint64_t)n));
}

static long
ch_range(struct ch_rng *r, long lo, long hi)
{
	return (lo + ch_below(r, hi - lo + 1));
}

/* true with probability n/1000. */
static bool
ch_chance(struct ch_rng *r, long n)
{
	return (ch_below(r, 1000) < n);
}

/* Log-uniform in [lo, hi]: small values often, large ones sometimes. */
static long
ch_logr(struct ch_rng *r, long lo, long hi)
{
	double	f = (double)ch_below(r, 1000000) / 1e6;
	double	v = (double)lo * __builtin_pow((double)hi / lo, f);

	return ((long)v < lo ? lo : (long)v > hi ? hi : (long)v);
}

static void
ch_seed(struct ch_rng *r, uint64_t seed, uint64_t stream)
{
	r->s = seed ^ (stream * 0xd1342543de82ef95ULL);
	(void)ch_next(r);		/* (void): mixes the state */
}

static bool
ch_on(const struct chaos *c, int f)
{
	return (f < 0 || !(c->avoid & (1ULL << f)));
}

const char *
chaos_feature_name(enum chaos_feature f)
{
	return (f < CHAOS_NFEATURES ? ch_feature_names[f] : NULL);
}

/* Set (or clear) the bits of a comma-separated list of feature names. */
static void
ch_features(const char *s, uint64_t *mask, bool set)
{
	char	*list, *tok, *save;
	int	 f;

	if (s == NULL)
		return;
	list = xstrdup(s);
	for (tok = strtok_r(list, ", ", &save); tok != NULL;
	    tok = strtok_r(NULL, ", ", &save)) {
		for (f = 0; f < CHAOS_NFEATURES; f++)
			if (strcmp(tok, ch_feature_names[f]) == 0)
				break;
		ck_assert_msg(f < CHAOS_NFEATURES, "E2E_CHAOS_%s: no "
		    "feature %s", set ? "AVOID" : "ALSO", tok);
		if (set)
			*mask |= 1ULL << f;
		else
			*mask &= ~(1ULL << f);
	}
	free(list);
}

void
chaos_opts_env(struct chaos_opts *o, long dflt_s)
{
	const char	*s;

	memset(o, 0, sizeof *o);
	o->seed = (uint64_t)time(NULL) * 1000003ULL ^ (uint64_t)getpid() << 20 ^
	    (uint64_t)e2e_now_ms();
	if ((s = getenv("E2E_CHAOS_SEED")) != NULL && *s != '\0')
		o->seed = strtoull(s, NULL, 0);
	o->seconds = dflt_s;
	if ((s = getenv("E2E_CHAOS_SECONDS")) != NULL && atol(s) > 0)
		o->seconds = atol(s);
	o->epoch_s = 10;
	if ((s = getenv("E2E_CHAOS_EPOCH")) != NULL && atol(s) > 0)
		o->epoch_s = atol(s);
#if defined(__SANITIZE_ADDRESS__)
	o->nconns = 40;
#else
	o->nconns = 100;
#endif
	if ((s = getenv("E2E_CHAOS_CONNS")) != NULL && atoi(s) > 0)
		o->nconns = atoi(s) > 200 ? 200 : atoi(s);
	o->avoid = 0;
	ch_features(getenv("E2E_CHAOS_ALSO"), &o->avoid, false);
	ch_features(getenv("E2E_CHAOS_AVOID"), &o->avoid, true);
}

/* Tracing and failure. */

static void
ch_trace(struct chaos *c, const char *fmt, ...)
{
	va_list	 ap;
	char	*line = c->ring[c->nring++ % CH_TRACE];
	int	 n;

	n = snprintf(line, sizeof c->ring[0], "%7.3f ",
	    (e2e_now_ms() - c->t0) / 1000.0);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof c->ring[0] - n, fmt, ap);
	va_end(ap);
	if (c->trace != NULL)
		fprintf(c->trace, "%s\n", line);
}

/* The last lines of gtd's log, without the children's output. */
static char *
ch_log_tail(struct chaos *c, int max)
{
	FILE	*f;
	char	 line[512], (*ring)[160], *out = xstrdup(""), *t;
	int	 n = 0, i;

	if ((f = fopen(e2e_path(c->e, "gtd.log"), "re")) == NULL)
		return (out);
	ring = xcalloc(max, sizeof *ring);
	while (fgets(line, sizeof line, f) != NULL)
		if (strstr(line, "gtd: ") != NULL &&
		    strstr(line, "flood 0") == NULL &&
		    strstr(line, " from ") == NULL)
			snprintf(ring[n++ % max], sizeof ring[0], "%.150s",
			    line);
	fclose(f);
	for (i = n > max ? n - max : 0; i < n; i++) {
		xasprintf(&t, "%s  | %s%s", out, ring[i % max],
		    strchr(ring[i % max], '\n') == NULL ? "\n" : "");
		free(out);
		out = t;
	}
	free(ring);
	return (out);
}

/* Lines of gtd's log that a sanitizer or a crash wrote, at most 40. */
static char *
ch_sanitizer(struct chaos *c)
{
	FILE	*f;
	char	 line[1024], *out = xstrdup(""), *t;
	int	 n = 0, frames = 0;
	bool	 in = false;

	if ((f = fopen(e2e_path(c->e, "gtd.log"), "re")) == NULL)
		return (out);
	while (fgets(line, sizeof line, f) != NULL && n < 40) {
		if (strstr(line, "ERROR: AddressSanitizer") != NULL ||
		    strstr(line, "runtime error:") != NULL ||
		    strstr(line, "ERROR: LeakSanitizer") != NULL) {
			in = true;
			frames = 0;
		}
		if (strstr(line, "SUMMARY:") != NULL)
			in = false;
		else if (!in || (strncmp(line, "    #", 5) == 0 &&
		    ++frames > 8))
			continue;
		xasprintf(&t, "%s  | %s", out, line);
		free(out);
		out = t;
		n++;
	}
	fclose(f);
	return (out);
}

/* The oldest unanswered requests on connections that read. */
static char *
ch_oldest(struct chaos *c)
{
	struct ch_conn	*cc, *best[3] = { NULL, NULL, NULL };
	char		*out = xstrdup(""), *t;
	long		 now = e2e_now_ms();
	int		 i, k;

	for (i = -1; i < c->nslots; i++) {
		cc = i == -1 ? c->ctl : c->slot[i];
		if (cc == NULL || cc->expn == 0 || cc->stalled || cc->fd == -1)
			continue;
		for (k = 0; k < 3; k++)
			if (best[k] == NULL || ch_exp_head(cc)->at <
			    ch_exp_head(best[k])->at)
				break;
		if (k == 3)
			continue;
		memmove(best + k + 1, best + k, (2 - k) * sizeof *best);
		best[k] = cc;
	}
	for (k = 0; k < 3 && best[k] != NULL; k++) {
		cc = best[k];
		xasprintf(&t, "%s  c%u, %ld ms: %s\n    (fd %d, %zu owed, %ld "
		    "replies, %ld events, %ld bytes read, the last %ld ms ago, "
		    "%zu unparsed, %zu unsent, drip %ld%s%s%s)\n", out,
		    cc->serial, now - ch_exp_head(cc)->at,
		    ch_exp_head(cc)->text, cc->fd, cc->expn, cc->replies,
		    cc->events, cc->nread, now - cc->last_read, cc->inlen,
		    cc->outlen - cc->outoff, cc->drip, cc->wclosed ?
		    ", no more sends" : "", cc->half ? ", half-closing" : "",
		    cc->subscribed ? ", subscribed" : "");
		free(out);
		out = t;
	}
	return (out);
}

/* gtd's stack and CPU time, when it is alive but not answering. */
static char *
ch_stack(struct chaos *c)
{
	char	*cmd, *out, *t, line[256];
	FILE	*f;
	int	 n = 0;

	/* The stack, then each connection's state, if gdb can see them. */
	if ((f = fopen(e2e_path(c->e, "gdb.cmd"), "we")) != NULL) {
		fputs("set pagination off\nbt 20\nframe function main\n"
		    "set $c = g->conns.tqh_first\nwhile $c\n"
		    "printf \"conn fd %d flags 0x%x busy %p in %zu/%zu "
		    "scanned %zu out %zu-%zu more %d/%f rd %d wr %d sub %p "
		    "in: %.60s\\n\", $c->fd, $c->flags, $c->busy, $c->inlen, "
		    "$c->insize, $c->scanned, $c->outoff, $c->outlen, "
		    "$c->more.active, $c->more.at, $c->rd.active, "
		    "$c->wr.active, $c->sub, $c->in\n"
		    "set $c = $c->entry.tqe_next\nend\n"
		    "printf \"conn outq_total %zu now %f\\n\", g->outq_total, "
		    "ev_now(g->loop)\n", f);
		fclose(f);
	}
	xasprintf(&cmd, "timeout 30 gdb -p %d -batch -x %s/gdb.cmd 2>/dev/null "
	    "| grep -E '^#|^conn' > %s/gtd.stack", (int)c->gtd, e2e_dir(c->e),
	    e2e_dir(c->e));
	/* (void): gdb may be missing; the report says "(none)" then */
	(void)!system(cmd);
	free(cmd);
	out = xstrdup("");
	if ((f = fopen(e2e_path(c->e, "gtd.stack"), "re")) == NULL)
		return (out);
	while (fgets(line, sizeof line, f) != NULL && n < 60) {
		/* Idle connections say nothing. */
		if (strncmp(line, "conn fd", 7) == 0 &&
		    strstr(line, "busy (nil) in 0/") != NULL &&
		    strstr(line, "out 0-0 ") != NULL)
			continue;
		n++;
		xasprintf(&t, "%s  | %s", out, line);
		free(out);
		out = t;
	}
	fclose(f);
	return (out);
}

/*
 * Copy the evidence out of DIR (which a later cleanup may remove) into
 * $E2E_CHAOS_KEEP/SEED (default build/chaos); the copy's path, or "".
 */
static const char *
ch_keep(struct chaos *c)
{
	static const char *const files[] = { "chaos.report", "chaos.trace",
	    "gtd.log", "gtd.json", "gtd.stack" };
	const char	*base = getenv("E2E_CHAOS_KEEP"), *dst;
	char		 buf[65536];
	size_t		 i;
	ssize_t		 n;
	int		 in, out;

	if (base == NULL)
		base = "build/chaos";
	dst = e2e_fmt(c->e, "%s/%016" PRIx64, base, c->seed);
	if ((mkdir(base, 0755) == -1 && errno != EEXIST) ||
	    (mkdir(dst, 0755) == -1 && errno != EEXIST))
		return ("");
	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		if ((in = open(e2e_path(c->e, files[i]), O_RDONLY |
		    O_CLOEXEC)) == -1)
			continue;
		out = open(e2e_fmt(c->e, "%s/%s", dst, files[i]), O_WRONLY |
		    O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		while (out != -1 && (n = read(in, buf, sizeof buf)) > 0)
			if (write(out, buf, n) != n)
				break;
		close(in);
		if (out != -1)
			close(out);
	}
	return (dst);
}

static void
ch_fail(struct chaos *c, const char *fmt, ...)
{
	va_list	 ap;
	char	*why, *san, *last = xstrdup(""), *t, *gone = xstrdup("");
	char	*tail, *old, *stack;
	const char *keep;
	FILE	*f;
	unsigned i;
	int	 st;

	va_start(ap, fmt);
	if (vasprintf(&why, fmt, ap) == -1)
		why = xstrdup(fmt);
	va_end(ap);
	/* A crash shows first as dead connections: say so if it is one. */
	if (e2e_wait_exit(c->e, 10000, &st)) {
		free(gone);
		xasprintf(&gone, "gtd %s %d; ", WIFEXITED(st) ?
		    "exited with status" : "was killed by signal",
		    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	}
	ch_trace(c, "VIOLATION: %s", why);
	if (c->trace != NULL)
		fflush(c->trace);
	san = ch_sanitizer(c);
	for (i = c->nring > CH_TRACE ? c->nring - 24 : (c->nring > 24 ?
	    c->nring - 24 : 0); i < c->nring; i++) {
		xasprintf(&t, "%s  > %s\n", last, c->ring[i % CH_TRACE]);
		free(last);
		last = t;
	}
	tail = ch_log_tail(c, 16);
	old = ch_oldest(c);
	stack = *gone == '\0' ? ch_stack(c) : xstrdup("");
	xasprintf(&t, "chaos: VIOLATION in epoch %d after %.1f s of the run "
	    "(%.1f s into the epoch): %s%s\nreproduce: E2E_CHAOS_SEED=0x%016"
	    PRIx64 " (add E2E_CHAOS_AVOID=... to narrow it down)\n"
	    "gtd's sanitizer/crash report:\n%s\nthe end of gtd's log:\n%s"
	    "oldest unanswered requests:\n%s%s%slast actions:\n%sdir %s "
	    "(chaos.trace, gtd.log)\n", c->epoch,
	    (e2e_now_ms() - c->run0) / 1000.0, (e2e_now_ms() - c->t0) / 1000.0,
	    gone, why, c->seed, *san != '\0' ? san : "  (none)\n", tail,
	    old, *stack != '\0' ? "gtd's stack (alive):\n" : "", stack, last,
	    e2e_dir(c->e));
	fputs(t, stderr);
	if ((f = fopen(e2e_path(c->e, "chaos.report"), "we")) != NULL) {
		fputs(t, f);
		fclose(f);
	}
	keep = ch_keep(c);
	fprintf(stderr, "chaos: evidence copied to %s\n", keep);
	/* E2E_CHAOS_HOLD=S: S seconds to look at gtd (gdb -p) first. */
	if (getenv("E2E_CHAOS_HOLD") != NULL && *gone == '\0') {
		fprintf(stderr, "chaos: holding gtd %d for %s s\n", (int)c->gtd,
		    getenv("E2E_CHAOS_HOLD"));
		poll(NULL, 0, atoi(getenv("E2E_CHAOS_HOLD")) * 1000);
	}
	ck_abort_msg("chaos: %s%s (epoch %d, %.1f s into the run; "
	    "E2E_CHAOS_SEED=0x%016" PRIx64 "; report in %s/chaos.report)",
	    gone, why, c->epoch, (e2e_now_ms() - c->run0) / 1000.0, c->seed,
	    *keep != '\0' ? keep : e2e_dir(c->e));
	abort();			/* not reached */
}

/* Processes: /proc, pids reported started, gtd's zombies. */

/* State letter, ppid and pgid of pid; -1 when it is gone. */
static int
ch_stat(pid_t pid, char *state, pid_t *ppid, pid_t *pgid)
{
	char	 path[64], buf[1024], *rp;
	int	 fd, pp, pg;
	ssize_t	 n;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return (-1);
	buf[n] = '\0';
	if ((rp = strrchr(buf, ')')) == NULL || sscanf(rp + 2, "%c %d %d",
	    state, &pp, &pg) != 3)
		return (-1);
	*ppid = pp;
	*pgid = pg;
	return (0);
}

/* Live children and zombies of ppid; fills up to max of each. */
static void
ch_children(pid_t ppid, pid_t *live, int *nlive, pid_t *zomb, int *nzomb,
    int max)
{
	struct dirent	*de;
	DIR		*d;
	pid_t		 pid, pp, pg;
	char		 st;

	*nlive = *nzomb = 0;
	if ((d = opendir("/proc")) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if ((pid = (pid_t)atoi(de->d_name)) <= 0 ||
		    ch_stat(pid, &st, &pp, &pg) == -1 || pp != ppid)
			continue;
		if (st == 'Z' && *nzomb < max)
			zomb[(*nzomb)++] = pid;
		else if (st != 'Z' && st != 'X' && *nlive < max)
			live[(*nlive)++] = pid;
	}
	closedir(d);
}

static void
ch_pid(struct chaos *c, json_t *v)
{
	pid_t	pid;

	if (!json_is_integer(v) || (pid = (pid_t)json_integer_value(v)) <= 0)
		return;
	c->recent[c->nrecent++ % 64] = pid;
	if (pid < c->pidmax && !(c->pidmap[pid / 8] & (1 << (pid % 8)))) {
		c->pidmap[pid / 8] |= 1 << (pid % 8);
		c->st.pids++;
	}
}

/*
 * gtd reaps every child (libev reaps all): a zombie of gtd's that stays
 * one for 3 s is a child gtd lost.
 */
static void
ch_zombies(struct chaos *c, long now)
{
	pid_t	live[512], zomb[64], keep[64];
	long	at[64];
	int	nlive, nz, i, j, n = 0;

	ch_children(c->gtd, live, &nlive, zomb, &nz, 64);
	for (i = 0; i < nz; i++) {
		at[n] = now;
		for (j = 0; j < c->nzombie; j++)
			if (c->zombie[j] == zomb[i])
				at[n] = c->zombie_at[j];
		keep[n++] = zomb[i];
		if (now - at[n - 1] > e2e_slow(3000))
			ch_fail(c, "gtd did not reap its child %d for %ld ms",
			    (int)zomb[i], now - at[n - 1]);
	}
	memcpy(c->zombie, keep, n * sizeof *keep);
	memcpy(c->zombie_at, at, n * sizeof *at);
	c->nzombie = n;
}

/* gtd's descriptors, as sorted "socket", "pipe", "/dev/null"... */
static int
ch_fdcmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

static int
ch_fds(struct chaos *c, char ***out)
{
	pid_t		 pid = c->gtd;
	struct dirent	*de;
	DIR		*d;
	char		 path[320], target[256], **v = NULL, *br;
	ssize_t		 n;
	int		 nv = 0;

	snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
	if ((d = opendir(path)) == NULL)
		ch_fail(c, "gtd is gone (%s: %s)", path, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "/proc/%d/fd/%s", (int)pid,
		    de->d_name);
		if ((n = readlink(path, target, sizeof target - 1)) <= 0)
			continue;
		target[n] = '\0';
		/* "socket:[1234]" -> "socket": the inode says nothing. */
		if ((br = strstr(target, ":[")) != NULL &&
		    strncmp(target, "anon_inode", 10) != 0)
			*br = '\0';
		/* An unlinked file ("DIR/#1234 (deleted)"): its name neither. */
		if ((br = strrchr(target, '#')) != NULL &&
		    strstr(br, " (deleted)") != NULL)
			strcpy(br, "# (deleted)");
		v = xreallocarray(v, nv + 1, sizeof *v);
		v[nv++] = xstrdup(target);
	}
	closedir(d);
	qsort(v, nv, sizeof *v, ch_fdcmp);
	*out = v;
	return (nv);
}

static void
ch_fds_free(char **v, int n)
{
	while (n > 0)
		free(v[--n]);
	free(v);
}

/* Connections. */

static void
ch_exp_push(struct ch_conn *cc, json_t *id, const char *op,
    const char *want, const char *text)
{
	struct ch_exp	*x, *nexp;
	size_t		 i;

	if (cc->expn == cc->expcap) {
		nexp = xcalloc(cc->expcap == 0 ? 64 : cc->expcap * 2,
		    sizeof *nexp);
		for (i = 0; i < cc->expn; i++)
			nexp[i] = cc->exp[(cc->exph + i) % cc->expcap];
		free(cc->exp);
		cc->exp = nexp;
		cc->expcap = cc->expcap == 0 ? 64 : cc->expcap * 2;
		cc->exph = 0;
	}
	x = &cc->exp[(cc->exph + cc->expn++) % cc->expcap];
	x->id = id;
	x->op = op;
	x->want = want;
	x->at = e2e_now_ms();
	x->text = xstrndup(text, 160);
	x->keep = NULL;
	x->follow = strcmp(op, "logs") == 0 && strstr(text, "\"follow\"") !=
	    NULL;
}

static struct ch_exp *
ch_exp_head(struct ch_conn *cc)
{
	return (cc->expn == 0 ? NULL : &cc->exp[cc->exph]);
}

static void
ch_exp_pop(struct ch_conn *cc)
{
	json_decref(cc->exp[cc->exph].id);
	free(cc->exp[cc->exph].text);
	cc->exph = (cc->exph + 1) % cc->expcap;
	cc->expn--;
}

static void
ch_queue(struct ch_conn *cc, const char *buf, size_t len)
{
	if (cc->outoff > 0 && cc->outoff == cc->outlen)
		cc->outoff = cc->outlen = 0;
	if (cc->outcap - cc->outlen < len) {
		if (cc->outoff > 0) {
			memmove(cc->out, cc->out + cc->outoff,
			    cc->outlen - cc->outoff);
			cc->outlen -= cc->outoff;
			cc->outoff = 0;
		}
		while (cc->outcap - cc->outlen < len)
			cc->outcap = cc->outcap == 0 ? 4096 : cc->outcap * 2;
		cc->out = xreallocarray(cc->out, 1, cc->outcap);
	}
	memcpy(cc->out + cc->outlen, buf, len);
	cc->outlen += len;
}

/* A non-blocking connection to gtd; -1 when its backlog is full. */
static int
ch_connect(struct chaos *c)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", e2e_sock(c->e));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1)
		ch_fail(c, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0) {
		c->listening = true;
		return (fd);
	}
	close(fd);
	/* Between gtd's bind() and listen(): refused, not yet an error. */
	if (errno != EAGAIN && (errno != ECONNREFUSED || c->listening))
		ch_fail(c, "connect to gtd: %s", strerror(errno));
	return (-1);
}

static struct ch_conn *
ch_conn_new(struct chaos *c, enum ch_kind kind)
{
	struct ch_conn	*cc;
	long		 now = e2e_now_ms();
	int		 fd, a;

	if ((fd = ch_connect(c)) == -1)
		return (NULL);			/* backlog full: later */
	cc = xcalloc(1, sizeof *cc);
	cc->c = c;
	cc->kind = kind;
	cc->fd = fd;
	cc->serial = ++c->serial;
	cc->first = true;
	ch_seed(&cc->rng, c->seed, cc->serial);
	cc->born = cc->last_read = cc->last_reply = now;
	cc->dies = now + ch_logr(&cc->rng, 200, c->o->epoch_s * 1000L);
	cc->tempo = ch_logr(&cc->rng, 2, 300);
	cc->depth = (int)ch_logr(&cc->rng, 1, 64);
	cc->next = now + ch_below(&cc->rng, cc->tempo);
	/* A mood: each action weighted 0 to 4 times its base weight. */
	for (a = 0; a < CA_N; a++)
		cc->w[a] = ch_on(c, ch_acts[a].feature) ? (int)(ch_acts[a].weight *
		    ch_below(&cc->rng, 5) + (a == CA_REQ ? 100 : 0)) : 0;
	/* The lag profile: followers and subscribers that stop reading. */
	if (c->lag) {
		cc->w[CA_FOLLOW] *= 8;
		cc->w[CA_SUB] *= 4;
		cc->w[CA_STALL_LONG] *= 8;
		cc->w[CA_STALL] *= 4;
	}
	c->st.conns++;
	ch_trace(c, "c%u open (fd %d) tempo %ld depth %d", cc->serial, fd,
	    cc->tempo, cc->depth);
	return (cc);
}

static void
ch_stall_end(struct ch_conn *cc)
{
	if (!cc->stalled)
		return;
	cc->stalled = false;
	cc->c->nstalled--;
	ch_trace(cc->c, "c%u reads again", cc->serial);
}

static void
ch_conn_free(struct ch_conn *cc)
{
	if (cc == NULL)
		return;
	ch_stall_end(cc);
	if (cc->fd != -1)
		close(cc->fd);
	while (cc->expn > 0)
		ch_exp_pop(cc);
	free(cc->exp);
	free(cc->out);
	free(cc->in);
	free(cc);
}

/* Close (or reset) and forget; the reply count no longer matters. */
static void
ch_close(struct ch_conn *cc, bool reset)
{
	struct linger	lg = { .l_onoff = 1, .l_linger = 0 };

	if (reset) {
		/* (void): an error only makes it a plain close */
		(void)setsockopt(cc->fd, SOL_SOCKET, SO_LINGER, &lg,
		    sizeof lg);
		cc->c->st.resets++;
	} else
		cc->c->st.closes++;
	ch_trace(cc->c, "c%u %s, %zu replies owed", cc->serial,
	    reset ? "reset" : "close", cc->expn);
	close(cc->fd);
	cc->fd = -1;
}

/* Request generation. */

static json_t *
ch_id(struct ch_conn *cc)
{
	long	n = ++cc->nid;

	switch (ch_below(&cc->rng, 20)) {
	case 0:
		return (json_sprintf("c%u-%ld", cc->serial, n));
	case 1:
		return (json_pack("{s:i, s:I}", "c", (int)cc->serial, "n",
		    (json_int_t)n));
	case 2:
		return (json_pack("[iI]", (int)cc->serial, (json_int_t)n));
	case 3:
		return (json_integer(-(json_int_t)n));
	default:
		return (json_integer((json_int_t)cc->serial * 1000000 + n));
	}
}

/* "c12" and the like, in a buffer valid until the next call. */
static const char *
ch_pname(char prefix, long n)
{
	static char	buf[32];

	snprintf(buf, sizeof buf, "%c%ld", prefix, n);
	return (buf);
}

/*
 * A name: mostly the pool, then boot names (not for lifecycle ops while
 * gtd boots: a boot child that a client stops is a failed boot, gtd's
 * documented exit 1), adopted names, absent and invalid ones.
 */
static const char *
ch_name(struct ch_conn *cc, bool life)
{
	static char	 longname[1100];
	static const char *const weird[] = { "", "white space",
	    "\xc3\xbc" "n\xc3\xaf" "c\xc3\xb6" "de", "a\nb", "../etc",
	    longname };
	long		 k = ch_below(&cc->rng, 100);

	if (longname[0] == '\0')
		memset(longname, 'n', sizeof longname - 1);
	if (k < 70 || (k < 82 && life && cc->c->phase == PH_BOOT &&
	    !ch_on(cc->c, CHAOS_BOOT_KILL)))
		return (ch_pname('c', ch_below(&cc->rng, CH_POOL)));
	if (k < 82)
		return (ch_pname('b', ch_below(&cc->rng, CH_BOOT)));
	if (k < 88)
		return (ch_pname('a', ch_below(&cc->rng, CH_NADOPT)));
	if (k < 96)
		return (ch_pname('x', ch_below(&cc->rng, 4)));
	return (weird[ch_below(&cc->rng, 6)]);
}

static const char *
ch_key(struct ch_rng *r)
{
	static const char *const keys[CH_KEYS] = { "k0", "k1", "k2", "k3",
	    "k4", "k5", "k6", "k7" };

	return (keys[ch_below(r, CH_KEYS)]);
}

/* A random string of n printable bytes (new reference). */
static json_t *
ch_text(struct ch_rng *r, long n)
{
	char	*s = xmalloc(n + 1);
	json_t	*j;
	long	 i;

	for (i = 0; i < n; i++)
		s[i] = (char)(' ' + ch_below(r, 95));
	s[n] = '\0';
	j = json_string(s);
	free(s);
	return (j);
}

static json_t *
ch_value(struct chaos *c, struct ch_rng *r)
{
	switch (ch_below(r, 9)) {
	case 0:
		return (json_integer(ch_range(r, -5, 1000)));
	case 1:
		return (ch_text(r, ch_logr(r, 1, 4000)));
	case 2:
		return (json_pack("{s:i, s:[s, b]}", "x", (int)ch_below(r, 9),
		    "y", "z", 1));
	case 3:
		return (json_true());
	case 4:
		return (json_null());
	case 5:
		return (json_real(0.5));
	case 6:
		if (ch_on(c, CHAOS_BIG_ATTR) && ch_chance(r, 100))
			return (ch_text(r, ch_range(r, 20000, 60000)));
		/* FALLTHROUGH */
	default:
		return (json_sprintf("v%ld", ch_below(r, 100)));
	}
}

/* gt-testchild's argv for one behaviour; spec fields set to match. */
static void
ch_behave(struct chaos *c, struct ch_rng *r, json_t *spec, json_t *cmd,
    const char *name, int b)
{
#define ARG(...)	json_array_append_new(cmd, json_sprintf(__VA_ARGS__))
	switch (b) {
	case 0:		/* flood: a burst of long lines (to 200 MB), exit */
		ARG("--flood=%ld", ch_logr(r, 1000, 60000));
		ARG("--flood-line-bytes=%ld", ch_range(r, 200, 4000));
		ARG("--exit-after-ms=%ld", ch_range(r, 100, 2000));
		break;
	case 1:		/* a steady stream */
		ARG("--flood=0");
		ARG("--flood-every-ms=%ld", ch_range(r, 1, 20));
		ARG("--flood-line-bytes=%ld", ch_range(r, 10, 2000));
		break;
	case 2:		/* crash or exit */
		ARG("--exit-after-ms=%ld", ch_logr(r, 1, 3000));
		if (ch_chance(r, 500))
			ARG("--kill-self=%s", ch_chance(r, 500) ? "SEGV" :
			    "ABRT");
		else
			ARG("--exit-code=%ld", ch_below(r, 4));
		break;
	case 3:		/* a grandchild in its group */
		ARG("--grandchild=%s", e2e_fmt(c->e, "%s/gc-%s",
		    e2e_dir(c->e), name));
		break;
	case 4:
		ARG("--ignore-term");
		break;
	case 5:		/* stops itself (SIGSTOP) */
		ARG("--exit-after-ms=%ld", ch_range(r, 50, 2000));
		ARG("--kill-self=STOP");
		break;
	case 6:		/* readiness from short-lived senders */
		json_object_set_new(spec, "ready", json_string("notify"));
		ARG("--notify-status=racing");
		ARG("--notify-burst=%ld", ch_range(r, 3, 12));
		if (ch_chance(r, 500))
			ARG("--notify-ready-after-ms=%ld", ch_below(r, 300));
		break;
	case 7:		/* slow readiness on fd 3 */
		json_object_set_new(spec, "ready", json_pack("{s:i}", "fd",
		    3));
		ARG("--ready-fd=3");
		ARG("--ready-fd-after-ms=%ld", ch_range(r, 20, 800));
		break;
	case 8:		/* watchdog, fed often enough or not */
		json_object_set_new(spec, "ready", json_string("notify"));
		json_object_set_new(spec, "watchdog_ms", json_integer(
		    ch_range(r, 200, 1000)));
		ARG("--notify-ready-after-ms=0");
		ARG("--watchdog-every-ms=%ld", ch_range(r, 50, 1200));
		break;
	case 9:		/* sets its own attrs through the socket */
		ARG("--setattr=self=%ld", ch_below(r, 1000));
		ARG("--incr=n");
		break;
	default:
		ARG("--stdout=hello from %s", name);
		ARG("--stderr=warning from %s", name);
		break;
	}
#undef ARG
}

/* Which behaviours the features allow. */
static int
ch_pick_behaviour(struct chaos *c, struct ch_rng *r, int cls)
{
	static const int	feat[11] = { CHAOS_FLOOD, CHAOS_FLOOD,
	    CHAOS_CRASH, CHAOS_GRANDCHILD, CHAOS_IGNORE_TERM, CHAOS_STOP_SELF,
	    CHAOS_NOTIFY_RACE, -1, CHAOS_WATCHDOG, -1, -1 };
	int			b, tries;

	if (cls == 0 && ch_on(c, CHAOS_FLOOD))
		return (ch_chance(r, 800) ? 0 : 1);
	if (cls == 1 && ch_on(c, CHAOS_NOTIFY_RACE))
		return (ch_chance(r, 700) ? 6 : 7);
	for (tries = 0; tries < 20; tries++) {
		b = (int)ch_below(r, 11);
		if (ch_on(c, feat[b]))
			return (b);
	}
	return (10);
}

/*
 * A childspec for name.  Never on_give_up exit_daemon and never an
 * unbounded shutdown: gtd must stay up and stop in bounded time.
 */
static json_t *
ch_spec(struct chaos *c, struct ch_rng *r, const char *name, bool boot)
{
	static const char *const restarts[] = { "permanent", "permanent",
	    "transient", "temporary" };
	json_t	*spec, *cmd = e2e_cmd(NULL);
	long	 num = strtol(name + 1, NULL, 10);
	int	 b, cls;

	cls = name[0] == 'c' && num < CH_FLOODERS ? 0 : name[0] == 'c' &&
	    num < 2 * CH_FLOODERS ? 1 : 2;
	spec = json_pack("{s:s, s:s, s:i, s:i, s:i}", "name", name,
	    "restart", boot ? "permanent" : restarts[ch_below(r, 4)],
	    "restart_delay_ms", (int)ch_range(r, 20, 400),
	    "max_restarts", ch_chance(r, 500) ? 0 : (int)ch_range(r, 2, 20),
	    "ready_timeout_ms", boot ? 20000 : (int)ch_range(r, 1500, 5000));
	if (boot) {
		/* Boot children must start: slow, but never failing. */
		b = ch_chance(r, 600) ? 7 : ch_chance(r, 300) &&
		    ch_on(c, CHAOS_IGNORE_TERM) ? 4 : 10;
		if (b == 7)
			json_array_append_new(cmd, json_sprintf(
			    "--ready-fd-after-ms=%ld", ch_range(r, 100, 700)));
		if (b == 7)
			json_array_append_new(cmd, json_string("--ready-fd=3"));
		if (b == 7)
			json_object_set_new(spec, "ready", json_pack("{s:i}",
			    "fd", 3));
		else
			ch_behave(c, r, spec, cmd, name, b);
	} else
		ch_behave(c, r, spec, cmd, name, ch_pick_behaviour(c, r, cls));
	json_object_set_new(spec, "cmd", cmd);
	json_object_set_new(spec, "on_give_up", json_string(ch_chance(r, 500) ?
	    "stop" : "delete"));
	json_object_set_new(spec, "shutdown", ch_chance(r, 150) ?
	    json_string("brutal_kill") : json_pack("{s:s, s:i}", "signal",
	    ch_chance(r, 800) ? "TERM" : "INT", "timeout_ms",
	    (int)ch_range(r, 50, 800)));
	if (ch_chance(r, 300))
		json_object_set_new(spec, "attrs", json_pack("{s:i, s:s}",
		    "k0", (int)ch_below(r, 50), "k1", "init"));
	if (ch_on(c, CHAOS_HOOK) && ch_chance(r, 150))
		json_object_set_new(spec, "after_terminate", json_pack(
		    "[s, s]", e2e_testchild(c->e), ch_chance(r, 500) ?
		    "--exit-code=0" : "--exit-after-ms=100"));
	if (ch_on(c, CHAOS_HOOK))
		json_object_set_new(spec, "hook_timeout_ms",
		    json_integer(ch_range(r, 100, 1000)));
	if (c->e != NULL && ch_on(c, CHAOS_FILE_LOG) && ch_chance(r, 100))
		json_object_set_new(spec, "stdout", json_pack("{s:s, s:i, "
		    "s:i}", "file", e2e_fmt(c->e, "%s/out-%s.log",
		    e2e_dir(c->e), name), "max_bytes", (int)ch_range(r, 4096,
		    262144), "keep", (int)ch_range(r, 1, 3)));
	return (spec);
}

static json_t *
ch_signal(struct chaos *c, struct ch_rng *r)
{
	static const char *const sigs[] = { "HUP", "USR1", "SIGUSR2", "CONT",
	    "TERM", "INT", "KILL", "STOP", "BOGUS" };

	if (ch_chance(r, 100))
		return (json_integer(ch_range(r, 0, 70)));
	return (json_string(sigs[ch_below(r, ch_on(c, CHAOS_SIGNAL) ? 9 :
	    4)]));
}

/* A pid to name a child by: a recent one (maybe stale), or odd ones. */
static json_t *
ch_some_pid(struct chaos *c, struct ch_rng *r)
{
	if (c->nrecent > 0 && ch_chance(r, 900))
		return (json_integer(c->recent[ch_below(r, c->nrecent > 64 ?
		    64 : c->nrecent)]));
	return (json_integer(ch_chance(r, 500) ? 999999999 : -3));
}

/* SQL: ordinary reads, errors, writes (read_only), heavy ones. */
static json_t *
ch_query(struct chaos *c, struct ch_rng *r)
{
	static const char *const heavy[] = {
	    "SELECT length(printf('%.*c', 200000000, 'x'))",
	    "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r "
	    "WHERE i < 5000) SELECT count(*) FROM r a, r b",
	    "SELECT length(replace(hex(zeroblob(20000000)), '0', 'ab'))",
	    "SELECT instr(hex(zeroblob(30000000)), 'x')" };

	switch (ch_below(r, 10)) {
	case 0:
		return (json_pack("{s:s, s:[s]}", "sql", "SELECT name, key, "
		    "value FROM attrs WHERE name = ?", "params", "c1"));
	case 1:
		return (json_pack("{s:s, s:[i], s:i}", "sql", "WITH RECURSIVE "
		    "r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE "
		    "i < ?) SELECT i, hex(randomblob(16)) FROM r", "params",
		    (int)ch_logr(r, 1, 300000), "max_rows",
		    (int)ch_logr(r, 1, 200000)));
	case 2:
		return (json_pack("{s:s}", "sql", "SELECT * FROM nosuchtable"));
	case 3:
		return (json_pack("{s:s}", "sql", ch_chance(r, 500) ?
		    "DELETE FROM children" : "ATTACH DATABASE '/tmp/x' AS x"));
	case 4:
		if (ch_on(c, CHAOS_HEAVY_QUERY))
			return (json_pack("{s:s}", "sql",
			    heavy[ch_below(r, 4)]));
		/* FALLTHROUGH */
	case 5:
		return (json_pack("{s:s}", "sql", "SELECT count(*), "
		    "group_concat(name) FROM children"));
	default:
		return (json_pack("{s:s}", "sql", "SELECT name, state, pid, "
		    "restart_count FROM children ORDER BY name"));
	}
}

static json_t *
ch_sub_args(struct chaos *c, struct ch_rng *r)
{
	static const char *const kinds[] = { "started", "ready", "exited",
	    "restarting", "stopped", "deleted", "gave_up", "hook_done",
	    "attr", "log" };
	json_t	*a = json_object(), *v;
	long	 i, n;

	if (ch_chance(r, 500)) {
		v = json_array();
		for (i = 0, n = ch_range(r, 0, 4); i < n; i++)
			json_array_append_new(v, json_string(kinds[ch_below(r,
			    10)]));
		/* Every child's output: the heaviest stream there is. */
		if (ch_chance(r, 400))
			json_array_append_new(v, json_string("log"));
		json_object_set_new(a, "events", v);
	}
	if (ch_chance(r, 300)) {
		v = json_array();
		for (i = 0, n = ch_range(r, 1, 4); i < n; i++)
			json_array_append_new(v, json_sprintf("c%ld",
			    ch_below(r, CH_POOL)));
		json_object_set_new(a, "names", v);
	}
	switch (ch_below(r, 4)) {
	case 0:
		json_object_set_new(a, "since", json_integer(0));
		break;
	case 1:
		json_object_set_new(a, "since", json_integer(ch_below(r,
		    c->seq + 2)));
		break;
	}
	return (a);
}

/* The keys of a list: a few, none, or thousands. */
static json_t *
ch_list_args(struct chaos *c, struct ch_rng *r)
{
	json_t	*keys;
	long	 i, n;

	if (ch_chance(r, 400))
		return (json_object());
	n = ch_on(c, CHAOS_LIST_KEYS) && ch_chance(r, 50) ?
	    ch_range(r, 1000, 6000) : ch_range(r, 0, 4);
	keys = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(keys, n > 8 ? json_sprintf("key%ld", i) :
		    json_string(ch_key(r)));
	return (json_pack("{s:o}", "keys", keys));
}

/*
 * One random request: its op (static) and arguments (new reference);
 * *want is an error code the reply must carry, or NULL.  small: only ops
 * with small replies (for bursts).
 */
static json_t *
ch_request(struct ch_conn *cc, bool small, const char **op, const char **want)
{
	struct chaos	*c = cc->c;
	struct ch_rng	*r = &cc->rng;
	const char	*name;
	json_t		*a;
	long		 k = ch_below(r, small ? 46 : 100);

	*want = NULL;
	if (k < 10) {
		*op = "find";
		return (json_pack("{s:s}", "name", ch_name(cc, false)));
	}
	if (k < 18) {
		*op = "getattr";
		a = json_pack("{s:s, s:s}", "name", ch_name(cc, false), "key",
		    ch_key(r));
		if (!small && ch_chance(r, 200))
			json_object_set_new(a, "wait_ms", json_integer(
			    ch_below(r, 300)));
		return (a);
	}
	if (k < 26) {
		*op = "setattr";
		return (json_pack("{s:s, s:{s:o}}", "name", ch_name(cc, false),
		    "attrs", ch_key(r), small ? json_integer(ch_below(r, 9)) :
		    ch_value(c, r)));
	}
	if (k < 34) {
		*op = "increment";
		a = json_pack("{s:s, s:s}", "name", ch_name(cc, false), "key",
		    ch_key(r));
		if (ch_chance(r, 500))
			json_object_set_new(a, "default", json_integer(0));
		if (ch_chance(r, 200))
			json_object_set_new(a, "by", json_integer(ch_chance(r,
			    100) ? INT64_MAX : ch_range(r, -3, 3)));
		return (a);
	}
	if (k < 37) {
		*op = "delattr";
		return (json_pack("{s:s, s:s}", "name", ch_name(cc, false),
		    "key", ch_key(r)));
	}
	if (k < 42) {
		*op = "ping";
		return (NULL);
	}
	if (k < 44) {
		*op = "count_children";
		return (NULL);
	}
	if (k < 45) {
		*op = "get_childspec";
		return (json_pack("{s:s}", "name", ch_name(cc, false)));
	}
	if (k < 46) {
		/* Repeated follows and subscribes: each must stay bounded. */
		if (ch_chance(r, 500) && ch_on(c, CHAOS_FOLLOW)) {
			*op = "logs";
			return (json_pack("{s:s, s:i, s:b}", "name",
			    ch_pname('c', ch_below(r, CH_POOL)),
			    "lines", 0, "follow", 1));
		}
		*op = ch_on(c, CHAOS_SUBSCRIBE) ? "subscribe" : "ping";
		return (ch_chance(r, 300) ? json_pack("{s:i}", "since", 0) :
		    NULL);
	}
	/* The rest: larger replies, waits and lifecycle. */
	if (k < 50) {
		*op = "list";
		return (ch_list_args(c, r));
	}
	if (k < 54) {
		*op = "which_children";
		return (ch_chance(r, 300) ? json_pack("{s:s}", "state",
		    ch_chance(r, 800) ? "running" : "bogus") : NULL);
	}
	if (k < 57) {
		*op = "info";
		return (json_pack("{s:s}", "name", ch_name(cc, false)));
	}
	if (k < 60) {
		*op = "query";
		return (ch_query(c, r));
	}
	if (k < 63) {
		*op = "logs";
		return (json_pack("{s:s, s:i}", "name", ch_name(cc, false),
		    "lines", (int)ch_range(r, 0, 1000)));
	}
	if (k < 65) {
		*op = ch_chance(r, 500) ? "stats" : "hello";
		return (NULL);
	}
	if (k < 71 || (k < 73 && c->phase == PH_BOOT &&
	    ch_on(c, CHAOS_BOOT_SQUAT) && ch_chance(r, 30))) {
		*op = ch_chance(r, 500) ? "start_child" : "find_or_open";
		name = k >= 71 ? ch_pname('b', ch_below(r, CH_BOOT)) :
		    ch_pname('c', ch_below(r, CH_POOL));
		a = ch_spec(c, r, name, false);
		if (ch_chance(r, 400))
			json_object_set_new(a, "wait", json_boolean(
			    ch_chance(r, 500)));
		if (strcmp(*op, "find_or_open") == 0 && ch_chance(r, 300))
			json_object_set_new(a, "timeout_ms", json_integer(
			    ch_range(r, 1, 3000)));
		return (a);
	}
	if (k < 75) {
		*op = "terminate_child";
		a = ch_chance(r, 800) || (c->phase == PH_BOOT &&
		    !ch_on(c, CHAOS_BOOT_KILL)) ? json_pack("{s:s}", "name",
		    ch_name(cc, true)) : json_pack("{s:o}", "pid",
		    ch_some_pid(c, r));
		if (ch_chance(r, 300))
			json_object_set_new(a, "timeout_ms", json_integer(
			    ch_range(r, 0, 500)));
		return (a);
	}
	if (k < 78) {
		*op = "restart_child";
		a = json_pack("{s:s}", "name", ch_name(cc, true));
		if (ch_chance(r, 400))
			json_object_set_new(a, "force", json_true());
		return (a);
	}
	if (k < 80) {
		*op = ch_chance(r, 500) ? "delete_child" :
		    "terminate_and_delete";
		return (json_pack("{s:s}", "name", ch_name(cc, true)));
	}
	if (k < 83) {
		/* A boot child killed before it is ready fails the boot. */
		*op = "signal";
		name = ch_name(cc, true);
		if (c->phase == PH_BOOT && name[0] == 'b')
			name = ch_pname('c', ch_below(r, CH_POOL));
		return (json_pack("{s:s, s:o}", "name", name,
		    "signal", ch_signal(c, r)));
	}
	if (k < 84 && ch_on(c, CHAOS_RELEASE)) {
		*op = "release";
		return (json_pack("{s:s}", "name", ch_name(cc, true)));
	}
	if (k < 86 && ch_on(c, CHAOS_ADOPT)) {
		*op = "add_existing_child";
		return (NULL);		/* filled in by ch_adopt_args */
	}
	if (k < 89) {
		*op = "check_childspec";
		a = ch_spec(c, r, "c0", false);
		if (ch_chance(r, 300)) {
			json_object_set_new(a, "restart", json_integer(3));
			*want = GT_E_BAD_REQUEST;
		}
		return (a);
	}
	if (k < 90) {
		*op = ch_on(c, c->phase == PH_BOOT ? CHAOS_BOOT_RELOAD :
		    CHAOS_RELOAD) ? "reload" : "ping";
		return (NULL);
	}
	if (k < 92) {
		*op = ch_chance(r, 500) ? "bogus_op" : "Find";
		*want = GT_E_UNKNOWN_OP;
		return (NULL);
	}
	if (k < 94) {
		/* Bad arguments: missing, mistyped, unknown. */
		*op = "find";
		*want = GT_E_BAD_REQUEST;
		switch (ch_below(r, 3)) {
		case 0:
			return (NULL);
		case 1:
			return (json_pack("{s:i}", "name", 5));
		default:
			return (json_pack("{s:s, s:i}", "name", "c1", "bogus",
			    1));
		}
	}
	if (k < 97 && ch_on(c, CHAOS_SUBSCRIBE)) {
		*op = "subscribe";
		return (ch_sub_args(c, r));
	}
	*op = "logs";
	return (json_pack("{s:s, s:i, s:b}", "name", ch_pname('c',
	    ch_below(r, CH_FLOODERS)), "lines", (int)ch_range(r, 0, 20),
	    "follow", ch_on(c, CHAOS_FOLLOW)));
}

/* add_existing_child: a process of ours, gtd itself, or a dead pid. */
static json_t *
ch_adopt_args(struct ch_conn *cc)
{
	struct chaos	*c = cc->c;
	struct ch_rng	*r = &cc->rng;
	long		 k = ch_below(r, CH_NADOPT);
	pid_t		 pid = c->adopt[k].pid;
	json_t		*a;

	if (ch_on(c, CHAOS_ADOPT_GTD) && ch_chance(r, 50))
		pid = c->gtd;
	else if (pid <= 0 || ch_chance(r, 50))
		pid = 999999999;
	a = json_pack("{s:s, s:i, s:{s:s, s:i}}", "name", ch_pname('a', k),
	    "pid", (int)pid, "shutdown", "signal", "TERM",
	    "timeout_ms", (int)ch_range(r, 50, 500));
	if (ch_chance(r, 300))
		json_object_set_new(a, "attrs", json_pack("{s:s}", "k0",
		    "adopted"));
	return (a);
}

/* Queue {"id", "op", args...} and what its reply must be. */
static void
ch_send(struct ch_conn *cc, const char *op, json_t *args, const char *want)
{
	json_t	*req = json_object(), *id = ch_id(cc);
	char	*s, *p;
	bool	 idlast = ch_chance(&cc->rng, 300);

	if (!idlast)
		json_object_set(req, "id", id);
	json_object_set_new(req, "op", json_string(op));
	if (args != NULL)
		json_object_update(req, args);
	if (idlast)
		json_object_set(req, "id", id);
	json_decref(args);
	s = json_dumps(req, ch_chance(&cc->rng, 800) ? JSON_COMPACT : 0);
	json_decref(req);
	/* The fast path and the JSON path must agree on \u escapes. */
	if (ch_chance(&cc->rng, 30) && (p = strstr(s, "\"op\":\"")) != NULL &&
	    p[6] >= 'a' && p[6] <= 'z') {
		xasprintf(&p, "%.*s\"op\":\"\\u%04x%s", (int)(p - s), s, p[6],
		    p + 7);
		free(s);
		s = p;
	}
	ch_queue(cc, s, strlen(s));
	ch_queue(cc, "\n", 1);
	ch_exp_push(cc, id, op, want, s);
	/* Counted when sent: its reply may never be read. */
	if (strcmp(op, "release") == 0)
		cc->c->released++;
	if (cc->c->trace != NULL)
		fprintf(cc->c->trace, "%7.3f c%u > %.180s\n",
		    (e2e_now_ms() - cc->c->t0) / 1000.0, cc->serial, s);
	free(s);
	cc->c->st.reqs++;
}

static void
ch_send_random(struct ch_conn *cc, bool small)
{
	const char	*op, *want;
	json_t		*args;

	args = ch_request(cc, small, &op, &want);
	if (strcmp(op, "add_existing_child") == 0)
		args = ch_adopt_args(cc);
	ch_send(cc, op, args, want);
}

/* Actions. */

static void
ch_act_garbage(struct ch_conn *cc)
{
	struct ch_rng	*r = &cc->rng;
	char		 buf[512];
	long		 i, n = ch_range(r, 1, sizeof buf - 2);

	if (ch_chance(r, 200)) {	/* blank: no reply at all */
		ch_queue(cc, " \t\r\n", 4);
		return;
	}
	buf[0] = '#';
	for (i = 1; i < n; i++) {
		buf[i] = (char)ch_below(r, 256);
		if (buf[i] == '\n')
			buf[i] = '\\';
	}
	if (ch_chance(r, 300))	/* JSON, but not an object */
		n = snprintf(buf, sizeof buf, "[1, \"x\", {\"op\": \"ping\"}]");
	ch_queue(cc, buf, n);
	ch_queue(cc, "\n", 1);
	ch_exp_push(cc, NULL, "(garbage)", GT_E_BAD_JSON, "(garbage)");
	cc->c->st.garbage++;
	ch_trace(cc->c, "c%u garbage (%ld bytes)", cc->serial, n);
}

/* A line over max_request_bytes: too_big, then gtd closes. */
static void
ch_act_oversize(struct ch_conn *cc)
{
	size_t	 n = CH_MAX_REQ + 1 + ch_below(&cc->rng, 4096);
	char	*buf = xmalloc(n + 1);

	memcpy(buf, "{\"id\":1,\"op\":\"setattr\",\"name\":\"c1\",\"attrs\":"
	    "{\"k\":\"", 48);
	memset(buf + 48, 'x', n - 48);
	buf[n] = '\n';
	ch_queue(cc, buf, n + 1);
	free(buf);
	ch_exp_push(cc, NULL, "(oversize)", GT_E_TOO_BIG, "(oversize)");
	cc->wclosed = true;
	cc->cause = true;
	cc->c->st.oversize++;
	ch_trace(cc->c, "c%u oversize line (%zu bytes)", cc->serial, n);
}

static void
ch_act_stall(struct ch_conn *cc, bool forever)
{
	struct chaos	*c = cc->c;

	if (cc->stalled || c->nstalled >= CH_MAX_STALLED)
		return;
	cc->stalled = true;
	cc->cause = true;
	c->nstalled++;
	c->st.stalls++;
	cc->stall_end = forever ? -1 : e2e_now_ms() + ch_logr(&cc->rng, 50,
	    5000);
	if (forever)			/* a forgotten client: `| less` */
		cc->dies = LONG_MAX;
	ch_trace(c, "c%u stops reading %s, %zu replies owed", cc->serial,
	    forever ? "for good" : "for a while", cc->expn);
}

static void
ch_act_burst(struct ch_conn *cc)
{
	long	i, n = ch_logr(&cc->rng, 100, 4000);

	for (i = 0; i < n && cc->outlen - cc->outoff < CH_OUT_MAX; i++)
		ch_send_random(cc, true);
	cc->c->st.bursts++;
	ch_trace(cc->c, "c%u burst of %ld requests", cc->serial, i);
}

/* The end of a connection's life: close, reset or half-close. */
static bool
ch_act_end(struct ch_conn *cc, enum ch_act a)
{
	struct chaos	*c = cc->c;

	switch (a) {
	case CA_HALF:
		if (cc->half || cc->wclosed)
			return (false);
		/* Sometimes the last request has no newline: a partial line. */
		if (cc->outlen > cc->outoff && cc->out[cc->outlen - 1] ==
		    '\n' && ch_chance(&cc->rng, 300))
			cc->outlen--;
		cc->half = true;
		c->st.halfs++;
		ch_trace(c, "c%u half-closes after %zu bytes", cc->serial,
		    cc->outlen - cc->outoff);
		return (false);
	case CA_RESET:
	case CA_CLOSE:
		ch_close(cc, a == CA_RESET);
		return (true);
	default:
		return (false);
	}
}

/* Pick and do one action; true when the connection is gone. */
static bool
ch_act(struct ch_conn *cc, long now)
{
	struct chaos	*c = cc->c;
	long		 total = 0, k;
	int		 a;

	cc->next = now + ch_logr(&cc->rng, 1, 2 * cc->tempo);
	if (cc->stalled && cc->stall_end != -1 && now >= cc->stall_end)
		ch_stall_end(cc);
	if (c->phase >= PH_DRAIN) {
		/* No new requests: close once everything is answered. */
		if (!cc->stalled && cc->expn > 0 && c->phase == PH_DRAIN)
			return (false);
		return (ch_act_end(cc, ch_on(c, CHAOS_RESET) &&
		    ch_chance(&cc->rng, 500) ? CA_RESET : CA_CLOSE));
	}
	if (now >= cc->dies) {
		a = (int)ch_below(&cc->rng, 3);
		a = a == 0 && ch_on(c, CHAOS_HALFCLOSE) ?
		    CA_HALF : a == 1 && ch_on(c, CHAOS_RESET) ? CA_RESET :
		    CA_CLOSE;
		if (cc->half || a != CA_HALF)
			return (ch_act_end(cc, a == CA_HALF ? CA_CLOSE : a));
		return (ch_act_end(cc, a));
	}
	/* Closed for writing, or forgotten (stalled for good): no more. */
	if (cc->wclosed || cc->half || (cc->stalled && cc->stall_end == -1))
		return (false);
	for (a = 0; a < CA_N; a++)
		total += cc->w[a];
	k = ch_below(&cc->rng, total);
	for (a = 0; a < CA_N - 1 && k >= cc->w[a]; a++)
		k -= cc->w[a];
	if (cc->outlen - cc->outoff > CH_OUT_MAX)
		return (false);
	switch (a) {
	case CA_REQ:
		if (cc->expn >= (size_t)cc->depth && (!cc->stalled ||
		    cc->expn > 5000))
			return (false);
		ch_send_random(cc, false);
		return (false);
	case CA_BURST:
		ch_act_burst(cc);
		return (false);
	case CA_SUB:
		c->st.subs++;
		ch_send(cc, "subscribe", ch_sub_args(c, &cc->rng), NULL);
		return (false);
	case CA_FOLLOW:
		c->st.follows++;
		ch_send(cc, "logs", json_pack("{s:s, s:i, s:b}", "name",
		    ch_chance(&cc->rng, 500) ? "f0" :
		    ch_pname('c', ch_below(&cc->rng, CH_FLOODERS)),
		    "lines", (int)ch_range(&cc->rng, 0, 50), "follow", 1),
		    NULL);
		return (false);
	case CA_STALL:
	case CA_STALL_LONG:
		/* A subscriber that lags for good is the dangerous kind. */
		ch_act_stall(cc, a == CA_STALL_LONG || (cc->subscribed &&
		    ch_chance(&cc->rng, 300)));
		return (false);
	case CA_GARBAGE:
		ch_act_garbage(cc);
		return (false);
	case CA_PARTIAL:
		/* Only the next request or two dribble, not a backlog. */
		if (cc->outoff < cc->outlen)
			return (false);
		cc->drip = ch_range(&cc->rng, 10, 400);
		c->st.partial++;
		ch_send_random(cc, false);
		return (false);
	case CA_OVERSIZE:
		ch_act_oversize(cc);
		return (false);
	default:
		return (ch_act_end(cc, a));
	}
}

/* Reply checks. */

static bool
ch_code_known(struct chaos *c, const char *code)
{
	size_t	i;

	for (i = 0; i < CH_NCODES; i++)
		if (strcmp(code, ch_codes[i]) == 0) {
			c->st.codes[i]++;
			return (true);
		}
	return (false);
}

static void
ch_rows(struct chaos *c, json_t *rows)
{
	json_t	*row;
	size_t	 i;

	json_array_foreach(rows, i, row)
		ch_pid(c, json_object_get(row, "pid"));
}

/* What an ok reply to op must hold (protocol §5). */
static const char *
ch_ok_shape(struct ch_conn *cc, const struct ch_exp *x, json_t *j)
{
	const char	*op = x->op;
	json_t		*v;

#define HAS(k, t)	(json_is_##t(json_object_get(j, k)))
	if (strcmp(op, "find") == 0 || strcmp(op, "restart_child") == 0) {
		ch_pid(cc->c, json_object_get(j, "pid"));
		return (HAS("pid", integer) ? NULL : "no integer pid");
	}
	if (strcmp(op, "start_child") == 0 || strcmp(op, "find_or_open") ==
	    0 || strcmp(op, "add_existing_child") == 0) {
		ch_pid(cc->c, json_object_get(j, "pid"));
		return (HAS("pid", integer) || HAS("pid", null) ? NULL :
		    "no pid");
	}
	if (strcmp(op, "which_children") == 0 || strcmp(op, "list") == 0) {
		if (!HAS("children", array))
			return ("no children array");
		ch_rows(cc->c, json_object_get(j, "children"));
		return (NULL);
	}
	if (strcmp(op, "count_children") == 0)
		return (HAS("specs", integer) && HAS("active", integer) ?
		    NULL : "no specs/active");
	if (strcmp(op, "hello") == 0)
		return (HAS("ops", array) && json_integer_value(
		    json_object_get(j, "protocol")) == GT_PROTO_VERSION ?
		    NULL : "no ops or wrong protocol");
	if (strcmp(op, "stats") == 0)
		return (HAS("connections", integer) ? NULL :
		    "no connections count");
	if (strcmp(op, "subscribe") == 0) {
		if (!HAS("seq", integer))
			return ("no seq");
		cc->subscribed = true;
		cc->cause = true;	/* one that lags may be cut off */
		return (NULL);
	}
	if (strcmp(op, "logs") == 0) {
		if (!HAS("lines", array))
			return ("no lines array");
		if (x->follow) {
			cc->subscribed = true;
			cc->cause = true;
		}
		return (NULL);
	}
	if (strcmp(op, "query") == 0)
		return (HAS("columns", array) && HAS("rows", array) &&
		    HAS("truncated", boolean) ? NULL : "no columns/rows/truncated");
	if (strcmp(op, "increment") == 0)
		return (HAS("value", integer) ? NULL : "no integer value");
	if (strcmp(op, "getattr") == 0)
		return (json_object_get(j, "value") != NULL ? NULL :
		    "no value");
	if (strcmp(op, "get_childspec") == 0 ||
	    strcmp(op, "check_childspec") == 0)
		return (HAS("spec", object) ? NULL : "no spec object");
	if (strcmp(op, "info") == 0)
		return (HAS("state", string) ? NULL : "no state");
	v = json_object_get(j, "error");
	return (v != NULL ? "an error field in an ok reply" : NULL);
#undef HAS
}

static void
ch_event(struct ch_conn *cc, json_t *j, const char *line)
{
	struct chaos	*c = cc->c;
	json_t		*seq = json_object_get(j, "seq");

	if (!cc->subscribed)
		ch_fail(c, "c%u: an event before any subscribe or follow "
		    "reply: %.200s", cc->serial, line);
	if (json_object_get(j, "ok") != NULL || !json_is_string(
	    json_object_get(j, "event")) || !json_is_integer(seq) ||
	    json_integer_value(seq) <= 0 || !json_is_string(
	    json_object_get(j, "name")))
		ch_fail(c, "c%u: a malformed event: %.200s", cc->serial, line);
	if (json_integer_value(seq) > c->seq)
		c->seq = json_integer_value(seq);
	if (strcmp(json_string_value(json_object_get(j, "event")),
	    "started") == 0)
		ch_pid(c, json_object_get(j, "pid"));
	cc->events++;
	c->st.events++;
}

/* The first line of a connection gtd refuses: limit, no id, then EOF. */
static bool
ch_refused(struct ch_conn *cc, json_t *j)
{
	json_t	*err = json_object_get(j, "error");

	if (!cc->first || json_object_get(j, "id") != NULL ||
	    !json_is_string(err) || strcmp(json_string_value(err),
	    GT_E_LIMIT) != 0)
		return (false);
	cc->cause = true;
	cc->c->st.refused++;
	return (true);
}

static void
ch_reply(struct ch_conn *cc, json_t *j, const char *line)
{
	struct chaos	*c = cc->c;
	struct ch_exp	*x = ch_exp_head(cc);
	json_t		*ok = json_object_get(j, "ok"), *id, *err;
	const char	*why;

	if (!json_is_boolean(ok))
		ch_fail(c, "c%u: a reply without a boolean ok: %.200s",
		    cc->serial, line);
	if (ch_refused(cc, j))
		return;
	if (x == NULL)
		ch_fail(c, "c%u: a reply to no request: %.200s", cc->serial,
		    line);
	id = json_object_get(j, "id");
	if (x->id != NULL ? !json_equal(id, x->id) : id != NULL &&
	    !json_is_null(id)) {
		ch_fail(c, "c%u: reply %.200s to %s, want id %s (replies out "
		    "of order, lost or doubled)", cc->serial, line, x->op,
		    x->id != NULL ? e2e_dump(c->e, x->id) : "none");
	}
	err = json_object_get(j, "error");
	if (json_is_false(ok)) {
		c->st.errs++;
		if (json_is_string(err) && strcmp(json_string_value(err),
		    GT_E_SHUTTING_DOWN) == 0)
			ch_fail(c, "c%u: gtd is shutting down, though no client "
			    "asked it to: %.200s (to %s)", cc->serial, line,
			    x->op);
		if (!json_is_string(err) || !json_is_string(
		    json_object_get(j, "message")))
			ch_fail(c, "c%u: an error without error and message "
			    "strings: %.200s", cc->serial, line);
		if (!ch_code_known(c, json_string_value(err)))
			ch_fail(c, "c%u: error code %s is not in protocol "
			    "§2: %.200s (to %s)", cc->serial,
			    json_string_value(err), line, x->op);
		if (x->want != NULL && strcmp(x->want,
		    json_string_value(err)) != 0)
			ch_fail(c, "c%u: %s got %.200s, want error %s",
			    cc->serial, x->op, line, x->want);
	} else if (x->want != NULL)
		ch_fail(c, "c%u: %s got %.200s, want error %s", cc->serial,
		    x->op, line, x->want);
	else if ((why = ch_ok_shape(cc, x, j)) != NULL)
		ch_fail(c, "c%u: ok reply to %s: %s: %.200s", cc->serial,
		    x->op, why, line);
	if (x->keep != NULL)
		*x->keep = json_incref(j);
	if (cc->kind == CK_LIVE) {
		c->st.live_pings++;
		if (e2e_now_ms() - c->live_t0 > c->st.live_ms_max)
			c->st.live_ms_max = e2e_now_ms() - c->live_t0;
	}
	ch_exp_pop(cc);
	cc->last_reply = e2e_now_ms();
	cc->replies++;
	c->st.replies++;
}

static void
ch_line(struct ch_conn *cc, const char *line, size_t len)
{
	json_error_t	 je;
	json_t		*j;

	j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	if (j == NULL || !json_is_object(j))
		ch_fail(cc->c, "c%u: a line that is not one JSON object "
		    "(%s): %.200s", cc->serial, j == NULL ? je.text :
		    "not an object", line);
	if (json_object_get(j, "event") != NULL)
		ch_event(cc, j, line);
	else
		ch_reply(cc, j, line);
	cc->first = false;
	json_decref(j);
}

/*
 * gtd closed it (EOF or an error).  Fine after a half-close with
 * everything answered, and for cause (stalled, subscribed, oversize,
 * refused); otherwise replies were lost.
 */
static void
ch_eof(struct ch_conn *cc, const char *how)
{
	struct chaos	*c = cc->c;
	struct ch_exp	*x = ch_exp_head(cc);

	if (cc->inlen > 0 && !cc->cause)
		ch_fail(c, "c%u: %s after a partial line: %.200s", cc->serial,
		    how, cc->in);
	if (cc->inlen > 0)
		c->st.truncated++;
	if (x != NULL && !cc->cause)
		ch_fail(c, "c%u: gtd closed it (%s) with %zu replies owed, "
		    "the first to %s id %s, sent %ld ms ago", cc->serial, how,
		    cc->expn, x->op, x->id != NULL ? e2e_dump(c->e, x->id) :
		    "none", e2e_now_ms() - x->at);
	if (x == NULL && !cc->cause && !cc->half && cc->kind != CK_LIVE)
		ch_fail(c, "c%u: gtd closed it (%s) with nothing owed and no "
		    "cause", cc->serial, how);
	if (x != NULL || (!cc->half && cc->kind != CK_LIVE))
		c->st.cause_closes++;
	ch_trace(c, "c%u closed by gtd (%s), %zu owed", cc->serial, how,
	    cc->expn);
	close(cc->fd);
	cc->fd = -1;
}

/* Read what there is; false when the connection ended. */
static bool
ch_read(struct ch_conn *cc)
{
	char	*nl, *p;
	ssize_t	 n;

	for (;;) {
		if (cc->incap - cc->inlen < 65536) {
			if (cc->incap >= (size_t)CH_LINE_MAX)
				ch_fail(cc->c, "c%u: a line over %ld bytes",
				    cc->serial, CH_LINE_MAX);
			cc->incap = cc->incap == 0 ? 131072 : cc->incap * 2;
			cc->in = xreallocarray(cc->in, 1, cc->incap + 1);
		}
		n = read(cc->fd, cc->in + cc->inlen, cc->incap - cc->inlen);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			break;
		if (n <= 0) {
			ch_eof(cc, n == 0 ? "EOF" : strerror(errno));
			return (false);
		}
		cc->inlen += n;
		cc->nread += n;
		cc->last_read = e2e_now_ms();
		cc->in[cc->inlen] = '\0';
		p = cc->in;
		while ((nl = memchr(p, '\n', cc->inlen - (p - cc->in))) !=
		    NULL) {
			*nl = '\0';
			ch_line(cc, p, nl - p);
			p = nl + 1;
		}
		cc->inlen -= p - cc->in;
		memmove(cc->in, p, cc->inlen);
		cc->in[cc->inlen] = '\0';
		if (n < 65536)
			break;
	}
	return (true);
}

/* Write what is queued (a few bytes at a time while dripping). */
static void
ch_write(struct ch_conn *cc, long now)
{
	size_t	 len = cc->outlen - cc->outoff;
	ssize_t	 n;

	if (len > 0 && cc->drip > 0) {
		if (now < cc->drip_at)
			return;
		n = ch_range(&cc->rng, 1, 16);
		if ((size_t)n < len)
			len = (size_t)n;
		cc->drip_at = now + ch_range(&cc->rng, 1, 40);
	}
	if (len > 0) {
		n = send(cc->fd, cc->out + cc->outoff, len, MSG_NOSIGNAL |
		    MSG_DONTWAIT);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n == -1) {
			/* gtd closed it: what it sent is still to be read. */
			cc->wclosed = true;
			cc->half = false;
			cc->outoff = cc->outlen = 0;
			cc->drip = 0;
			return;
		}
		cc->outoff += n;
		cc->drip = cc->drip > n ? cc->drip - n : 0;
	}
	if (cc->half && cc->outoff == cc->outlen && !cc->wclosed) {
		/* (void): ENOTCONN when gtd closed first; EOF will tell */
		(void)shutdown(cc->fd, SHUT_WR);
		cc->wclosed = true;
	}
}

/* Drive one connection after poll; false when it is gone. */
static bool
ch_io(struct ch_conn *cc, short revents, long now)
{
	if (revents & POLLNVAL)
		ch_fail(cc->c, "c%u: fd %d is not open (a bug of the harness)",
		    cc->serial, cc->fd);
	if ((revents & (POLLIN | POLLHUP | POLLERR)) && !cc->stalled &&
	    !ch_read(cc))
		return (false);
	if (cc->outoff < cc->outlen || cc->half)
		ch_write(cc, now);
	return (true);
}

/* The controller. */

/*
 * A config: the limits the bounds are derived from, and a random set of
 * boot children (slow to start, never failing).  c->e may be NULL (the
 * first config, written by e2e_start_booting).
 */
static char *
ch_config_text(struct chaos *c, bool bad)
{
	struct ch_rng	*r = &c->rng;
	json_t		*cf, *kids;
	char		 name[16], *s;
	long		 i;

	/* Half the rewrites keep the boot names and change only specs. */
	if (c->cfggen == 0 || ch_chance(r, 500))
		for (c->bootset = 0, i = 0; i < CH_BOOT; i++)
			if (ch_chance(r, 450))
				c->bootset |= 1U << i;
	kids = json_array();
	for (i = 0; i < CH_BOOT; i++) {
		snprintf(name, sizeof name, "b%ld", i);
		if (c->bootset & (1U << i))
			json_array_append_new(kids, ch_spec(c, r, name, true));
	}
	cf = json_pack("{s:i, s:i, s:i, s:i, s:i, s:s, s:o}",
	    "max_connections", c->maxconns, "max_request_bytes", CH_MAX_REQ,
	    "max_children", CH_MAX_CHILDREN, "max_attrs", CH_MAX_ATTRS,
	    "max_starting", ch_chance(r, 300) ? 3 : 0, "log_level", "info",
	    "children", kids);
	if (c->e != NULL && ch_on(c, CHAOS_SNAPSHOT) && ch_chance(r, 300))
		json_object_set_new(cf, "snapshot", json_pack("{s:s, s:i}",
		    "path", e2e_path(c->e, "snap.db"), "interval_ms",
		    (int)ch_range(r, 100, 1000)));
	if (bad)
		json_object_set_new(cf, ch_chance(r, 500) ? "max_attrs" :
		    "bogus_key", json_integer(-1));
	s = json_dumps(cf, JSON_INDENT(1));
	json_decref(cf);
	c->cfggen++;
	return (s);
}

static void
ch_write_config(struct chaos *c, bool bad)
{
	const char	*path = e2e_path(c->e, "gtd.json");
	const char	*tmp = e2e_path(c->e, "gtd.json.tmp");
	char		*s = ch_config_text(c, bad);
	FILE		*f;

	if ((f = fopen(tmp, "we")) == NULL || fputs(s, f) == EOF ||
	    fclose(f) == EOF || rename(tmp, path) == -1)
		ck_abort_msg("chaos: %s: %s", path, strerror(errno));
	ch_trace(c, "config %d written%s: %zu bytes", c->cfggen,
	    bad ? " (invalid)" : "", strlen(s));
	free(s);
}

/* Rewrite the config, then reload (on the control connection) or HUP. */
static void
ch_reload(struct chaos *c, long now)
{
	struct ch_rng	*r = &c->rng;
	bool		 boot = c->phase == PH_BOOT, bad, hup;
	size_t		 i;

	c->next_reload = now + (boot ? ch_range(r, 20, 250) :
	    ch_logr(r, 300, 5000));
	if (c->phase >= PH_DRAIN)
		return;
	if (boot ? !ch_on(c, CHAOS_BOOT_RELOAD) : !ch_on(c, CHAOS_RELOAD) &&
	    !ch_on(c, CHAOS_SIGHUP))
		return;
	/* One reload at a time, so that its config is the one it reads. */
	for (i = 0; i < c->ctl->expn; i++)
		if (strcmp(c->ctl->exp[(c->ctl->exph + i) %
		    c->ctl->expcap].op, "reload") == 0)
			return;
	bad = ch_on(c, CHAOS_BAD_CONFIG) && ch_chance(r, 80);
	hup = ch_on(c, CHAOS_SIGHUP) && (ch_chance(r, 400) ||
	    !ch_on(c, CHAOS_RELOAD));
	ch_write_config(c, bad);
	c->st.bad_configs += bad;
	if (hup) {
		c->st.sighups++;
		ch_trace(c, "SIGHUP%s", boot ? " during boot" : "");
		if (kill(c->gtd, SIGHUP) == -1)
			ch_fail(c, "kill gtd %d: %s", (int)c->gtd,
			    strerror(errno));
		return;
	}
	c->st.reloads++;
	ch_trace(c, "reload%s", boot ? " during boot" : "");
	ch_send(c->ctl, "reload", NULL, bad ? GT_E_BAD_CONFIG : NULL);
}

/* Adoptable processes: ours, in a session of their own. */
static void
ch_adopt_tick(struct chaos *c, long now)
{
	struct ch_adopt	*a;
	const char	*argv[6];
	char		 env[160];
	int		 i, st, n;

	c->next_adopt = now + 100;
	for (i = 0; i < CH_NADOPT; i++) {
		a = &c->adopt[i];
		if (a->pid > 0 && waitpid(a->pid, &st, WNOHANG) == a->pid) {
			ch_trace(c, "adoptable a%d pid %d ended", i,
			    (int)a->pid);
			/* Its grandchild is ours: gtd adopted a pid only. */
			(void)kill(-a->pid, SIGKILL);	/* (void): ESRCH */
			a->pid = -1;
			a->respawn = now + ch_range(&c->rng, 50, 1000);
		}
		if (a->pid > 0 || now < a->respawn || !ch_on(c, CHAOS_ADOPT) ||
		    c->phase == PH_END)
			continue;
		n = 0;
		argv[n++] = e2e_testchild(c->e);
		if (ch_on(c, CHAOS_IGNORE_TERM) && ch_chance(&c->rng, 300))
			argv[n++] = "--ignore-term";
		if (ch_on(c, CHAOS_GRANDCHILD) && ch_chance(&c->rng, 300))
			argv[n++] = e2e_fmt(c->e, "--grandchild=%s/agc%d",
			    e2e_dir(c->e), i);
		argv[n] = NULL;
		snprintf(env, sizeof env, "GTD_SOCKET=%s", e2e_sock(c->e));
		fflush(NULL);
		if ((a->pid = fork()) == -1)
			ch_fail(c, "fork: %s", strerror(errno));
		if (a->pid == 0) {
			setsid();
			putenv(env);
			signal(SIGPIPE, SIG_DFL);
			execv(argv[0], (char *const *)(uintptr_t)argv);
			_exit(127);
		}
	}
}

/* Kill and reap every adoptable process and its group. */
static void
ch_adopt_end(struct chaos *c)
{
	int	i, st;

	for (i = 0; i < CH_NADOPT; i++) {
		if (c->adopt[i].pid <= 0)
			continue;
		/* (void): ESRCH when it and its group are gone already */
		(void)kill(-c->adopt[i].pid, SIGKILL);
		(void)kill(c->adopt[i].pid, SIGKILL);
		waitpid(c->adopt[i].pid, &st, 0);
		c->adopt[i].pid = -1;
	}
}

/* Liveness: gtd's pid, then a ping on a fresh connection in time. */
static void
ch_live(struct chaos *c, long now)
{
	long	limit = e2e_slow(3000);
	int	st;

#if defined(__SANITIZE_ADDRESS__)
	limit *= 3;
#endif
	if (e2e_wait_exit(c->e, 0, &st))
		ch_fail(c, "gtd is gone");
	if (c->live != NULL && c->live->expn > 0 && now > c->live_deadline)
		ch_fail(c, "gtd did not answer a ping on a fresh connection "
		    "within %ld ms", limit);
	if (c->live != NULL && c->live->expn == 0) {
		ch_conn_free(c->live);
		c->live = NULL;
	}
	if (c->live != NULL || now < c->next_live || c->nstorm > 0)
		return;
	if ((c->live = ch_conn_new(c, CK_LIVE)) == NULL) {
		if (now > c->live_deadline + limit)
			ch_fail(c, "no new connection accepted for %ld ms",
			    now - c->live_deadline);
		return;
	}
	c->next_live = now + 250;
	c->live_t0 = now;
	ch_trace(c, "c%u: liveness ping", c->live->serial);
	c->live_deadline = now + limit;
	ch_send(c->live, "ping", NULL, NULL);
}

/* gtd's VmRSS in KiB, or -1 when it is gone (a zombie has none). */
static long
ch_rss_kib(struct chaos *c)
{
	char	 line[256];
	FILE	*f;
	long	 kib = -1;

	if ((f = fopen(e2e_fmt(c->e, "/proc/%d/status", (int)c->gtd),
	    "re")) == NULL)
		return (-1);
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return (kib);
}

static void
ch_rss(struct chaos *c, long now)
{
	long	rss;

	c->next_rss = now + 500;
	if (c->rss_bound == 0)
		return;
	if ((rss = ch_rss_kib(c)) == -1)
		ch_fail(c, "gtd is gone (no VmRSS)");
	if (rss > c->rss_max)
		c->rss_max = rss;
	if (rss > c->rss_bound)
		ch_fail(c, "gtd's RSS is %ld KiB, over the bound of %ld KiB "
		    "derived from the config's limits", rss, c->rss_bound);
}

/*
 * Connections past max_connections: each gets one limit error and is
 * closed; the others must go on.  While they are open no fresh
 * connection can be expected to get in.
 */
static void
ch_storm(struct chaos *c, long now)
{
	int	i, fd;

	if (c->nstorm > 0 && now >= c->storm_end) {
		for (i = 0; i < c->nstorm; i++)
			close(c->storm_fds[i]);
		ch_trace(c, "storm over: %d connections closed", c->nstorm);
		c->nstorm = 0;
		c->next_live = now;
		c->live_deadline = now;
		return;
	}
	if (c->nstorm > 0 || now < c->next_storm || c->phase != PH_MAIN)
		return;
	c->next_storm = now + ch_logr(&c->rng, 2000, 20000);
	if (!ch_on(c, CHAOS_CONN_STORM) || c->live != NULL)
		return;
	for (i = 0; i < 64 && c->nstorm < 256; i++) {
		if ((fd = ch_connect(c)) == -1)
			break;
		c->storm_fds[c->nstorm++] = fd;
	}
	c->st.storms++;
	c->storm_end = now + ch_range(&c->rng, 50, 500);
	ch_trace(c, "storm: %d more connections", c->nstorm);
}

/* Open connections into empty slots. */
static void
ch_refill(struct chaos *c, long now)
{
	int	i;

	if (c->phase >= PH_DRAIN)
		return;
	for (i = 0; i < c->active; i++) {
		if (c->slot[i] != NULL || now < c->refill[i])
			continue;
		c->slot[i] = ch_conn_new(c, CK_CHAOS);
		c->refill[i] = now + ch_range(&c->rng, 0, 200);
	}
}

/*
 * Keep the flooders going (clients stop and delete them all the time):
 * followers can only lag behind a child that writes.
 */
static void
ch_flooders(struct chaos *c, long now)
{
	json_t	*spec;
	char	 name[16];
	int	 k;

	c->next_flood = now + ch_range(&c->rng, 500, 3000);
	if (!ch_on(c, CHAOS_FLOOD))
		return;
	/*
	 * f0, out of the clients' reach, writes 4 MB/s for good: a follower
	 * that stops reading reaches the output cap within seconds.
	 */
	ch_send(c->ctl, "find_or_open", json_pack("{s:s, s:[s, s, s, s], "
	    "s:b, s:s}", "name", "f0", "cmd", e2e_testchild(c->e),
	    "--flood=0", "--flood-every-ms=1", "--flood-line-bytes=4000",
	    "wait", 0, "restart", "permanent"), NULL);
	k = (int)ch_below(&c->rng, CH_FLOODERS);
	snprintf(name, sizeof name, "c%d", k);
	spec = ch_spec(c, &c->rng, name, false);
	json_object_set_new(spec, "wait", json_false());
	json_object_set_new(spec, "restart", json_string("permanent"));
	ch_send(c->ctl, "find_or_open", spec, NULL);
}

static void
ch_control(struct chaos *c, long now)
{
	ch_live(c, now);
	if (now >= c->next_rss)
		ch_rss(c, now);
	if (now >= c->next_reload && c->ctl != NULL)
		ch_reload(c, now);
	if (now >= c->next_adopt)
		ch_adopt_tick(c, now);
	if (now >= c->next_zombie) {
		c->next_zombie = now + 1000;
		ch_zombies(c, now);
	}
	if (now >= c->next_rows && c->ctl != NULL && c->ctl->expn < 4) {
		c->next_rows = now + 1000;
		ch_send(c->ctl, "which_children", NULL, NULL);
	}
	if (now >= c->next_flood && c->ctl != NULL && c->phase == PH_MAIN)
		ch_flooders(c, now);
	ch_storm(c, now);
	ch_refill(c, now);
}

/* Boot: the readiness line, or EOF when gtd died first. */
static void
ch_boot_poll(struct chaos *c, long now)
{
	switch (e2e_wait_booted(c->e, 1)) {	/* 0 would not look */
	case 1:
		c->booted = true;
		ch_trace(c, "gtd ready after %ld ms", now - c->t0);
		return;
	case 0:
		ch_fail(c, "gtd closed its readiness pipe without a line "
		    "(boot failed)");
	default:
		if (now > c->boot_end)
			ch_fail(c, "gtd was not ready %d ms after its start",
			    CH_BOOT_MS);
	}
}

/*
 * A reply is overdue when the connection reads and none came for
 * CH_OVERDUE_MS since its request was sent or the reply before it came
 * (a burst of thousands is answered a slice at a time), CH_WAIT_MS for
 * ops that wait on children (start queues, ready and stop timeouts).
 */
static void
ch_overdue(struct ch_conn *cc, long now)
{
	static const char *const waits[] = { "find_or_open", "start_child",
	    "restart_child", "terminate_child", "terminate_and_delete",
	    "add_existing_child", "getattr", NULL };
	struct ch_exp	*x = ch_exp_head(cc);
	long		 since, limit = CH_OVERDUE_MS;
	int		 i;

	if (x == NULL || cc->stalled)
		return;
	since = x->at > cc->last_reply ? x->at : cc->last_reply;
	for (i = 0; waits[i] != NULL; i++)
		if (strcmp(x->op, waits[i]) == 0)
			limit = CH_WAIT_MS;
#if defined(__SANITIZE_ADDRESS__)
	limit *= 3;
#endif
	if (now - since > e2e_slow(limit))
		ch_fail(cc->c, "c%u: no reply to %s (%zu owed) for %ld ms",
		    cc->serial, x->op, cc->expn, now - since);
}

/* One turn: poll everything, do I/O, act, control. */
static void
ch_turn(struct chaos *c)
{
	struct pollfd	 pfd[256 + 3];
	struct ch_conn	*who[256 + 3], *cc;
	long		 now;
	int		 n = 0, i;

	for (i = -2; i < c->nslots; i++) {
		cc = i == -2 ? c->ctl : i == -1 ? c->live : c->slot[i];
		if (cc == NULL)
			continue;
		pfd[n].fd = cc->fd;
		pfd[n].events = (cc->stalled ? 0 : POLLIN) |
		    (cc->outoff < cc->outlen && cc->drip == 0 ? POLLOUT : 0);
		who[n++] = cc;
	}
	if (poll(pfd, n, CH_TICK_MS) == -1 && errno != EINTR)
		ch_fail(c, "poll: %s", strerror(errno));
	now = e2e_now_ms();
	for (i = 0; i < n; i++) {
		cc = who[i];
		if (ch_io(cc, pfd[i].revents, now) && (cc->kind != CK_CHAOS ||
		    now < cc->next || !ch_act(cc, now)) && cc->fd != -1) {
			ch_overdue(cc, now);
			continue;
		}
		/* Gone: by us or by gtd. */
		if (cc == c->ctl)
			ch_fail(c, "the control connection was closed");
		if (cc == c->live) {
			c->live = NULL;
			ch_conn_free(cc);
			continue;
		}
		for (int s = 0; s < c->nslots; s++)
			if (c->slot[s] == cc)
				c->slot[s] = NULL;
		ch_conn_free(cc);
	}
	if (!c->booted)
		ch_boot_poll(c, now);
	ch_control(c, now);
}

/* Epochs. */

/*
 * The RSS bound, from the config's limits and gtd's documented caps:
 * unsent output (16 MiB per connection, 256 MiB in all, plus one reply
 * past the cap), input buffers, children's log rings and attrs, the
 * event ring, one query's memory, and slack for the allocator.
 */
static long
ch_rss_bound(struct chaos *c)
{
	long long	out, in, kids, ev, b;

	out = (long long)c->maxconns * GT_OUTPUT_MAX;
	if (out > GT_OUTPUT_TOTAL_MAX)
		out = GT_OUTPUT_TOTAL_MAX;
	out += 8LL << 20;
	in = 2LL * c->maxconns * CH_MAX_REQ;
	kids = (long long)CH_MAX_CHILDREN * (2 * CHILDLOG_RING_BYTES +
	    CHILDLOG_RING_LINES * 64 + 2LL * CH_MAX_ATTRS * CH_MAX_REQ);
	ev = (long long)EVENT_RING * 4096;
	b = out + in + kids + ev + (64LL << 20) + (64LL << 20);
	return (e2e_rss_bound(c->rss0 + (long)(b / 1024)));
}

/*
 * One request on the control connection, the loop turning meanwhile (so
 * that the liveness checks go on); the reply, checked like any other.
 */
static json_t *
ch_sync(struct chaos *c, const char *op, json_t *args)
{
	struct ch_conn	*cc = c->ctl;
	json_t		*rep = NULL;
	long		 deadline = e2e_now_ms() + e2e_slow(CH_OVERDUE_MS);

	ch_send(cc, op, args, NULL);
	cc->exp[(cc->exph + cc->expn - 1) % cc->expcap].keep = &rep;
	while (rep == NULL) {
		if (e2e_now_ms() > deadline)
			ch_fail(c, "no reply to %s on the control connection "
			    "within %d ms", op, CH_OVERDUE_MS);
		ch_turn(c);
	}
	return (rep);
}

/* The rows of which_children (a new reference). */
static json_t *
ch_rows_now(struct chaos *c)
{
	json_t	*rep = ch_sync(c, "which_children", NULL), *rows;

	rows = json_incref(json_object_get(rep, "children"));
	json_decref(rep);
	return (rows);
}

/*
 * Stop every row (terminate_child until all are stopped or gone) and
 * check the children: no zombie of gtd's stays, and every live child of
 * gtd is one a client released (killed here, with its group).
 */
static void
ch_stop_children(struct chaos *c)
{
	long		 deadline = e2e_now_ms() + e2e_slow(CH_QUIET_MS);
	json_t		*rows, *row;
	const char	*st;
	pid_t		 live[512], zomb[64], pp, pg;
	size_t		 i;
	int		 nlive, nz, k;
	char		 s;
	bool		 busy;

	do {
		rows = ch_rows_now(c);
		busy = false;
		json_array_foreach(rows, i, row) {
			st = json_string_value(json_object_get(row, "state"));
			if (st != NULL && strcmp(st, "stopped") == 0)
				continue;
			busy = true;
			json_decref(ch_sync(c, "terminate_child", json_pack(
			    "{s:O, s:i}", "name", json_object_get(row, "name"),
			    "timeout_ms", 200)));
		}
		if (busy && e2e_now_ms() > deadline)
			ch_fail(c, "rows not stopped %d ms after terminate: %s",
			    CH_QUIET_MS, e2e_dump(c->e, rows));
		json_decref(rows);
		if (busy)
			poll(NULL, 0, 20);
	} while (busy);
	/*
	 * Hooks (in gtd's group) end within hook_timeout_ms.  A child
	 * stopped (SIGSTOP) between fork and setsid, then released, stays
	 * in gtd's group for good: it counts as released.
	 */
	deadline = e2e_now_ms() + e2e_slow(3000);
	for (;;) {
		ch_children(c->gtd, live, &nlive, zomb, &nz, 64);
		for (k = 0; k < nlive; k++)
			if (ch_stat(live[k], &s, &pp, &pg) == 0 &&
			    pg == c->gtd && s != 'T' && s != 't')
				break;
		if ((nz == 0 && k == nlive) || e2e_now_ms() > deadline)
			break;
		poll(NULL, 0, 20);
	}
	if (nz > 0)
		ch_fail(c, "every row is stopped, yet gtd did not reap its "
		    "child %d (and %d more)", (int)zomb[0], nz - 1);
	if (k < nlive)
		ch_fail(c, "every row is stopped, yet gtd's child %d (state %c, "
		    "in gtd's process group: a hook?) still runs",
		    (int)live[k], s);
	if (nlive > c->released)
		ch_fail(c, "every row is stopped, yet %d children of gtd live "
		    "(pid %d...) and clients released only %ld", nlive,
		    (int)live[0], c->released);
	for (k = 0; k < nlive; k++) {
		ch_trace(c, "released child %d: killing its group",
		    (int)live[k]);
		/* Its own group (setsid), never gtd's: that is gtd too. */
		if (ch_stat(live[k], &s, &pp, &pg) == 0 && pg > 1 &&
		    pg != c->gtd)
			(void)kill(-pg, SIGKILL);	/* (void): ESRCH */
		(void)kill(live[k], SIGKILL);		/* (void): ESRCH */
		if (!e2e_wait_dead(live[k], 5000))
			ch_fail(c, "released child %d did not die",
			    (int)live[k]);
	}
	c->released = 0;
}

/*
 * Close every connection of ours but a new control one, stop every
 * child, and wait until gtd holds that one connection only.
 */
static void
ch_quiesce(struct chaos *c)
{
	long	 deadline = e2e_now_ms() + e2e_slow(CH_QUIET_MS);
	json_t	*rep;
	int	 i;
	int64_t	 n;

	c->phase = PH_END;
	for (i = 0; i < c->nslots; i++) {
		if (c->slot[i] != NULL && c->slot[i]->fd != -1)
			ch_close(c->slot[i], false);
		ch_conn_free(c->slot[i]);
		c->slot[i] = NULL;
	}
	ch_conn_free(c->ctl);
	c->ctl = NULL;
	for (i = 0; i < c->nstorm; i++)
		close(c->storm_fds[i]);
	c->nstorm = 0;
	if ((c->ctl = ch_conn_new(c, CK_CTL)) == NULL)
		ch_fail(c, "no control connection");
	ch_stop_children(c);
	ch_conn_free(c->live);
	c->live = NULL;
	c->next_live = LONG_MAX;		/* no pings while counting */
	for (;;) {
		rep = ch_sync(c, "stats", NULL);
		n = json_integer_value(json_object_get(rep, "connections"));
		json_decref(rep);
		if (n == 1)
			break;
		if (e2e_now_ms() > deadline)
			ch_fail(c, "%" PRId64 " connections still open %d ms "
			    "after every client but one closed", n,
			    CH_QUIET_MS);
		poll(NULL, 0, 20);
	}
	c->next_live = e2e_now_ms();
	c->live_deadline = c->next_live;
}

/*
 * The stdout files gtd holds (DIR/out-NAME.log) belong to rows, stopped
 * ones included: each must name a row, once.  They are left out of the
 * comparison with the baseline (1 then, 0 when out of the list).
 */
static int
ch_fd_rowfile(struct chaos *c, const char *target, json_t *rows,
    json_t *seen)
{
	char		 prefix[64];
	const char	*name, *end;
	json_t		*row;
	size_t		 i, n;

	n = snprintf(prefix, sizeof prefix, "%s/out-", e2e_dir(c->e));
	if (strncmp(target, prefix, n) != 0 || (end = strstr(target + n,
	    ".log")) == NULL)
		return (0);
	name = e2e_fmt(c->e, "%.*s", (int)(end - target - n), target + n);
	if (rows == NULL)
		return (1);
	if (json_object_get(seen, name) != NULL)
		ch_fail(c, "gtd holds %s twice", target);
	json_object_set_new(seen, name, json_true());
	json_array_foreach(rows, i, row)
		if (json_is_string(json_object_get(row, "name")) &&
		    strcmp(json_string_value(json_object_get(row, "name")),
		    name) == 0)
			return (1);
	ch_fail(c, "gtd holds %s, yet has no row %s", target, name);
}

/* v without the row files, as a diff against c->fd0 (xstrdup'd). */
static char *
ch_fd_diff(struct chaos *c, char **v, int n, json_t *rows)
{
	json_t	*seen = json_object();
	char	*diff = xstrdup(""), *t;
	int	 i = 0, j = 0, cmp, epolls = 0;

	while (i < n || j < c->nfd0) {
		if (i < n && ch_fd_rowfile(c, v[i], rows, seen)) {
			i++;
			continue;
		}
		if (j < c->nfd0 && ch_fd_rowfile(c, c->fd0[j], NULL, NULL)) {
			j++;
			continue;
		}
		cmp = i == n ? 1 : j == c->nfd0 ? -1 : strcmp(v[i], c->fd0[j]);
		if (cmp == 0) {
			i++;
			j++;
			continue;
		}
		/* The hangup set is made at the first half-closed subscriber. */
		if (cmp < 0 && strcmp(v[i], "anon_inode:[eventpoll]") == 0 &&
		    epolls++ == 0) {
			i++;
			continue;
		}
		xasprintf(&t, "%s %s%s", diff, cmp < 0 ? "+" : "-", cmp < 0 ?
		    v[i++] : c->fd0[j++]);
		free(diff);
		diff = t;
	}
	json_decref(seen);
	return (diff);
}

/* gtd's descriptors now against the baseline. */
static void
ch_fd_check(struct chaos *c)
{
	long	 deadline = e2e_now_ms() + e2e_slow(3000);
	json_t	*rows;
	char	**v, *diff;
	int	 n;

	for (;;) {
		rows = ch_rows_now(c);
		n = ch_fds(c, &v);
		diff = ch_fd_diff(c, v, n, rows);
		ch_fds_free(v, n);
		json_decref(rows);
		if (*diff == '\0') {
			free(diff);
			return;
		}
		if (e2e_now_ms() > deadline)
			ch_fail(c, "gtd's descriptors differ from the baseline "
			    "(%d then, %d now), with every client closed and "
			    "every child stopped:%s", c->nfd0, n, diff);
		free(diff);
		poll(NULL, 0, 50);
	}
}

/*
 * With every row stopped, the released children killed and our own
 * adoptable processes gone, no process of the test may live but gtd.
 */
static void
ch_survivors(struct chaos *c)
{
	long	 deadline = e2e_now_ms() + e2e_slow(3000);
	pid_t	 pids[64], pp, pg;
	char	*list = xstrdup(""), *t, *cmd, st;
	int	 n, i, fd;
	ssize_t	 len;

	while ((n = e2e_survivors(c->e, pids, 64)) > 0 &&
	    e2e_now_ms() < deadline)
		poll(NULL, 0, 20);
	if (n == 0) {
		free(list);
		return;
	}
	for (i = 0; i < n; i++) {
		cmd = xcalloc(1, 256);
		if ((fd = open(e2e_fmt(c->e, "/proc/%d/cmdline", (int)pids[i]),
		    O_RDONLY | O_CLOEXEC)) != -1) {
			if ((len = read(fd, cmd, 255)) > 0)
				while (--len >= 0)
					if (cmd[len] == '\0')
						cmd[len] = ' ';
			close(fd);
		}
		if (ch_stat(pids[i], &st, &pp, &pg) == -1)
			pp = pg = -1;
		xasprintf(&t, "%s pid %d (ppid %d, pgid %d, state %c: %s);",
		    list, (int)pids[i], (int)pp, (int)pg, st, cmd);
		free(list);
		free(cmd);
		list = t;
	}
	ch_fail(c, "every row is stopped, yet %d process(es) of the test "
	    "live besides gtd:%s", n, list);
}

/*
 * gtd's descriptors once they stop changing (a pipe of a child killed
 * just now is closed when gtd reads its EOF): the same list twice,
 * 200 ms apart, or whatever there is after 5 s.
 */
static int
ch_fds_settled(struct chaos *c, char ***out)
{
	long	  deadline = e2e_now_ms() + e2e_slow(5000);
	char	**v, **w;
	int	  n, m, i;

	n = ch_fds(c, &v);
	for (;;) {
		poll(NULL, 0, 200);
		m = ch_fds(c, &w);
		for (i = 0; i < n && m == n; i++)
			if (strcmp(v[i], w[i]) != 0)
				break;
		ch_fds_free(v, n);
		v = w;
		if ((m == n && i == n) || e2e_now_ms() > deadline) {
			*out = v;
			return (m);
		}
		n = m;
	}
}

/* Boot rows back up after the baseline (they are reliable). */
static void
ch_restart_boot(struct chaos *c)
{
	json_t		*rows, *row;
	const char	*name;
	size_t		 i;

	rows = ch_rows_now(c);
	json_array_foreach(rows, i, row) {
		name = json_string_value(json_object_get(row, "name"));
		if (name != NULL && name[0] == 'b')
			json_decref(ch_sync(c, "restart_child", json_pack(
			    "{s:s}", "name", name)));
	}
	json_decref(rows);
}

/* From gtd's log: output-cap closes, and child lines not relayed. */
static void
ch_log_counts(struct chaos *c, long *caps, long *hidden)
{
	FILE	*f;
	char	 line[512], *p;

	*caps = *hidden = 0;
	if ((f = fopen(e2e_path(c->e, "gtd.log"), "re")) == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL) {
		/* "[timestamp ]gtd: child NAME: N lines not shown" */
		if ((p = strstr(line, "gtd: ")) == NULL)
			continue;
		if (strstr(line, "reply bytes unread") != NULL)
			(*caps)++;
		else if ((p = strstr(p + 5, ": ")) != NULL &&
		    strstr(p, " lines not shown") != NULL)
			*hidden += atol(p + 2);
	}
	fclose(f);
}

static void
ch_summary(struct chaos *c)
{
	const struct ch_stats	*s = &c->st;
	char			*codes = xstrdup(""), *t;
	size_t			 i;
	long			 caps, hidden;

	ch_log_counts(c, &caps, &hidden);
	for (i = 0; i < CH_NCODES; i++) {
		if (s->codes[i] == 0)
			continue;
		xasprintf(&t, "%s %s:%ld", codes, ch_codes[i], s->codes[i]);
		free(codes);
		codes = t;
	}
	fprintf(stderr, "chaos: epoch %d seed 0x%016" PRIx64 "%s clean in "
	    "%.1f s: %ld conns, %ld requests, %ld replies (%ld errors:%s), %ld "
	    "events; %ld stalls, %ld half-closes, %ld resets, %ld closes, "
	    "%ld garbage, %ld partial, %ld oversize, %ld bursts, %ld "
	    "subscribes, %ld follows; %ld closed by gtd for cause (%ld "
	    "mid-line), %ld refused, %ld storms; %ld reloads, %ld SIGHUPs "
	    "(%ld bad configs); %ld pids seen; ping max %ld ms; RSS %ld -> "
	    "max %ld KiB (bound %ld); %d fds; gtd's log: %ld cut at the "
	    "output cap, %ld child lines not relayed\n", c->epoch, c->seed,
	    c->lag ? " (lag)" : "",
	    (e2e_now_ms() - c->t0) / 1000.0, s->conns, s->reqs, s->replies,
	    s->errs, codes, s->events, s->stalls, s->halfs, s->resets,
	    s->closes, s->garbage, s->partial, s->oversize, s->bursts, s->subs,
	    s->follows, s->cause_closes, s->truncated, s->refused, s->storms,
	    s->reloads, s->sighups, s->bad_configs, s->pids, s->live_ms_max,
	    c->rss0, c->rss_max, c->rss_bound, c->nfd0, caps, hidden);
	free(codes);
}

/* Run the chaos phase, then drain: every reading connection answered. */
static void
ch_main(struct chaos *c, long ms)
{
	long	 deadline;
	int	 i, k;

	c->phase = PH_MAIN;
	c->end = e2e_now_ms() + ms;
	while (e2e_now_ms() < c->end)
		ch_turn(c);
	c->phase = PH_DRAIN;
	ch_trace(c, "drain");
	deadline = e2e_now_ms() + e2e_slow(CH_DRAIN_MS);
	for (;;) {
		for (i = k = 0; i < c->nslots; i++)
			k += c->slot[i] != NULL;
		if (k == 0)
			break;
		if (e2e_now_ms() > deadline)
			ch_fail(c, "%d connections still owed replies %d ms "
			    "into the drain", k, CH_DRAIN_MS);
		ch_turn(c);
	}
	c->phase = PH_END;
}

static void
ch_epoch(struct chaos *c, long ms)
{
	char	*text;

	c->t0 = e2e_now_ms();
	c->phase = PH_BOOT;
	memset(&c->st, 0, sizeof c->st);
	c->released = c->rss0 = c->rss_bound = c->rss_max = 0;
	c->seq = 0;
	c->nrecent = c->nzombie = 0;
	c->serial = 0;
	c->cfggen = 0;
	ch_seed(&c->rng, c->seed, 0);
	/*
	 * Profiles: a crowd (every connection), or a few connections that
	 * follow the firehose and stop reading, where a busy gtd would read
	 * the children's output too slowly for a follower to lag far.
	 */
	c->lag = ch_on(c, CHAOS_FOLLOW) && ch_on(c, CHAOS_STALL) &&
	    ch_chance(&c->rng, 400);
	c->active = c->lag ? (c->nslots < 8 ? c->nslots : 8) : c->nslots;
	text = ch_config_text(c, false);
	c->e = e2e_start_booting(text);
	free(text);
	c->booted = false;
	/* Our own connections only: the quiesce counts them. */
	if (e2e_main(c->e) != NULL)
		e2e_conn_close(e2e_main(c->e));
	c->gtd = e2e_pid(c->e);
	c->trace = fopen(e2e_path(c->e, "chaos.trace"), "we");
	ch_trace(c, "epoch %d seed 0x%016" PRIx64 ": gtd %d, %d connections%s",
	    c->epoch, c->seed, (int)c->gtd, c->active, c->lag ? " (lag)" :
	    "");
	c->boot_end = c->t0 + e2e_slow(CH_BOOT_MS);
	c->listening = false;
	if (!e2e_wait_file(e2e_sock(c->e), 10000))
		ch_fail(c, "gtd did not bind its socket");
	while ((c->ctl = ch_conn_new(c, CK_CTL)) == NULL) {
		if (e2e_now_ms() - c->t0 > e2e_slow(10000))
			ch_fail(c, "gtd did not listen on its socket");
		poll(NULL, 0, 5);
	}
	c->next_reload = c->next_adopt = c->next_live = c->next_rss =
	    c->next_zombie = c->next_rows = c->next_storm = c->next_flood =
	    c->t0;
	c->live_deadline = c->t0;
	while (!c->booted)
		ch_turn(c);
	/* Baselines: no client but one, no child running. */
	ch_quiesce(c);
	c->nfd0 = ch_fds_settled(c, &c->fd0);
	if ((c->rss0 = ch_rss_kib(c)) == -1)
		ch_fail(c, "gtd is gone (no VmRSS)");
	c->rss_bound = ch_rss_bound(c);
	ch_restart_boot(c);
	ch_main(c, ms);
	ch_quiesce(c);
	ch_fd_check(c);
	ch_rss(c, e2e_now_ms());
	ch_adopt_end(c);
	ch_survivors(c);
	ch_conn_free(c->ctl);
	ch_conn_free(c->live);
	c->ctl = c->live = NULL;
	if (!c->o->quiet)
		ch_summary(c);
	if (getenv("E2E_CHAOS_KEEP_LOGS") != NULL)
		fprintf(stderr, "chaos: logs copied to %s\n", ch_keep(c));
	if (c->trace != NULL)
		fclose(c->trace);
	c->trace = NULL;
	e2e_stop(c->e);
	c->e = NULL;
	ch_fds_free(c->fd0, c->nfd0);
	c->fd0 = NULL;
	c->nfd0 = 0;
}

void
chaos_run(const struct chaos_opts *o)
{
	struct chaos	 c;
	struct rlimit	 rl;
	struct ch_rng	 seeds;
	FILE		*f;
	long		 left, ms;
	int		 i;

	memset(&c, 0, sizeof c);
	c.o = o;
	c.avoid = o->avoid;
	c.nslots = o->nconns;
	c.maxconns = c.nslots + 48;
	c.slot = xcalloc(c.nslots, sizeof *c.slot);
	c.refill = xcalloc(c.nslots, sizeof *c.refill);
	c.run0 = e2e_now_ms();
	c.pidmax = 4194304;
	if ((f = fopen("/proc/sys/kernel/pid_max", "re")) != NULL) {
		if (fscanf(f, "%ld", &c.pidmax) != 1)
			c.pidmax = 4194304;
		fclose(f);
	}
	c.pidmap = xcalloc(c.pidmax / 8 + 1, 1);
	for (i = 0; i < CH_NADOPT; i++)
		c.adopt[i].pid = -1;
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = rl.rlim_max;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	fprintf(stderr, "chaos: seed 0x%016" PRIx64 ", %ld s in epochs of "
	    "%ld s, %d connections (E2E_CHAOS_SEED reproduces an epoch)\n",
	    o->seed, o->seconds, o->epoch_s, o->nconns);
	seeds.s = o->seed;
	c.seed = o->seed;
	for (c.epoch = 0; (left = o->seconds * 1000 - (e2e_now_ms() -
	    c.run0)) > 2000 || c.epoch == 0; c.epoch++) {
		ms = o->epoch_s * 1000 < left ? o->epoch_s * 1000 : left;
		if (ms < 4000)
			ms = 4000;
		ch_epoch(&c, ms);
		c.seed = ch_next(&seeds);
	}
	free(c.pidmap);
	free(c.slot);
	free(c.refill);
}
