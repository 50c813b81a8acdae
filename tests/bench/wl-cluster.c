/* SPDX-License-Identifier: MIT */
/*
 * wl-cluster: W-cluster, gtd's cluster on etcd (protocol §9.3): a
 * one-member etcd on loopback (free ports, data in the bench's private
 * directory, stopped by pid) and three gtd nodes.  Figures: the latency
 * of a find_or_open that claims a new cluster name (against one of a new
 * local name on the same node, alternately), the time from kill -9 of a
 * node to its failover children running on the others (as a surviving
 * node's find sees it), and the latency of a find of a name held by
 * another node against a find of a local name, on one node's socket.
 * Without etcd (Debian's etcd-server, $ETCD to override) the section
 * says so and is skipped.
 */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/bench/bench.h"
#include "gtd.h"

#define CL_NODES	3
#define CL_TTL_MS	3000		/* 2000 fenced a loaded machine */
#define CL_NAMES	10		/* remote and local names for find */
#define CL_NFO		10		/* failover children */
#define CL_UP_SECS	30.0
#define CL_WAIT_SECS	30.0
#define CL_MAXCLAIM	100

struct cl_figs {
	double	claim50[BENCH_MAXREPS], claim99[BENCH_MAXREPS];
	double	local50[BENCH_MAXREPS], local99[BENCH_MAXREPS];
	double	fo[BENCH_MAXREPS];
	double	rem50[BENCH_MAXREPS], rem99[BENCH_MAXREPS];
	double	loc50[BENCH_MAXREPS], loc99[BENCH_MAXREPS];
	double	mrem50[BENCH_MAXREPS], mrem99[BENCH_MAXREPS];
	double	mloc50[BENCH_MAXREPS], mloc99[BENCH_MAXREPS];
	double	fallbacks;
};

struct cl_run {
	struct bctx	*b;
	pid_t		 etcd;
	char		 endpoint[40];
	struct server	 node[CL_NODES];
	struct bconn	*ctl[CL_NODES];
};

static void
cl_fig(struct bctx *b, const char *name, const char *unit, const double *v,
    const char *bname, const double *base, enum target t, double lim)
{
	struct figure	f = { .name = name, .unit = unit, .v = v,
	    .n = b->reps, .bname = bname, .b = base,
	    .nb = base != NULL ? b->reps : 0, .target = t, .limit = lim };

	report(b, &f);
}

/* Two free loopback ports, bound at once so they differ. */
static void
cl_ports(int *client, int *peer)
{
	struct sockaddr_in	sin;
	socklen_t		len;
	int			fd[2], i, port[2];

	for (i = 0; i < 2; i++) {
		memset(&sin, 0, sizeof sin);
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof sin;
		if ((fd[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC,
		    0)) == -1 || bind(fd[i], (struct sockaddr *)&sin,
		    sizeof sin) == -1 || getsockname(fd[i],
		    (struct sockaddr *)&sin, &len) == -1)
			bench_die("free port: %s", strerror(errno));
		port[i] = ntohs(sin.sin_port);
	}
	close(fd[0]);
	close(fd[1]);
	*client = port[0];
	*peer = port[1];
}

static const char *
cl_etcd_bin(void)
{
	const char	*e = getenv("ETCD");

	return (e != NULL && *e != '\0' ? e : "etcd");
}

static void
cl_etcd_start(struct cl_run *r, int run)
{
	char		 data[128], log[128], purl[40], cluster[64];
	const char	*argv[] = { cl_etcd_bin(), "--name", "e0", "--data-dir",
	    data, "--listen-client-urls", r->endpoint,
	    "--advertise-client-urls", r->endpoint, "--listen-peer-urls",
	    purl, "--initial-advertise-peer-urls", purl, "--initial-cluster",
	    cluster, "--initial-cluster-state", "new", "--logger", "zap",
	    "--log-level", "warn", NULL };
	int		 client, peer;

	cl_ports(&client, &peer);
	snprintf(r->endpoint, sizeof r->endpoint, "http://127.0.0.1:%d",
	    client);
	snprintf(purl, sizeof purl, "http://127.0.0.1:%d", peer);
	snprintf(cluster, sizeof cluster, "e0=%s", purl);
	snprintf(data, sizeof data, "%s/etcd%d", r->b->dir, run);
	snprintf(log, sizeof log, "%s/etcd%d.log", r->b->dir, run);
	r->etcd = bench_start(argv, log, -1, 0);
}

/* Does node i see every node, connected? */
static bool
cl_node_up(struct cl_run *r, int i)
{
	const char	*l, *p;
	int		 n = 0;

	l = bconn_req(r->ctl[i], 5.0, "{\"op\":\"cluster_status\"}");
	if (l == NULL)
		bench_die("node n%d: no reply to cluster_status", i);
	if (strstr(l, "\"connected\":true") == NULL)
		return (false);
	for (p = l; (p = strstr(p, "\"lease_ttl_ms\"")) != NULL; p++)
		n++;
	return (n >= CL_NODES);
}

static void
cl_start(struct cl_run *r, int run)
{
	char	conf[128], name[16];
	FILE	*fp;
	double	end;
	int	i, fd;

	cl_etcd_start(r, run);
	for (i = 0; i < CL_NODES; i++) {
		snprintf(conf, sizeof conf, "%s/n%d.json", r->b->dir, i);
		if ((fp = fopen(conf, "w")) == NULL)
			bench_die("%s: %s", conf, strerror(errno));
		fprintf(fp, "{\"cluster\":{\"etcd\":[\"%s\"],\"node\":\"n%d\","
		    "\"lease_ttl_ms\":%d}}\n", r->endpoint, i, CL_TTL_MS);
		if (fclose(fp) != 0)
			bench_die("%s: %s", conf, strerror(errno));
		snprintf(name, sizeof name, "n%d", i);
		server_gtd(&r->node[i], r->b->gtd, r->b->dir, name, conf);
		if ((fd = bench_connect_wait(r->node[i].sock, 10.0)) == -1)
			bench_die("node n%d: connect: %s", i, strerror(errno));
		r->ctl[i] = bconn_new(fd);
	}
	end = bench_now() + CL_UP_SECS;
	for (i = 0; i < CL_NODES; i++)
		while (!cl_node_up(r, i)) {
			if (bench_now() > end)
				bench_die("node n%d does not see %d nodes on "
				    "etcd %s (logs in %s)", i, CL_NODES,
				    r->endpoint, r->b->dir);
			usleep(20000);
		}
}

static void
cl_stop(struct cl_run *r)
{
	int	i;

	for (i = CL_NODES - 1; i >= 0; i--) {
		bconn_free(r->ctl[i]);
		r->ctl[i] = NULL;
		server_gtd_stop(&r->node[i]);
	}
	bench_stop(r->etcd, 5.0);
}

/*
 * A synchronous request to node i that must succeed; its reply, and in
 * *us (unless NULL) its round trip.
 */
static char	*cl_ok(struct cl_run *, int, double *, const char *, ...)
		    __attribute__((format(printf, 4, 5)));

static char *
cl_ok(struct cl_run *r, int i, double *us, const char *fmt, ...)
{
	va_list	 ap;
	char	*l, req[4400];
	double	 t0;

	va_start(ap, fmt);
	vsnprintf(req, sizeof req, fmt, ap);
	va_end(ap);
	t0 = bench_now();
	l = bconn_req(r->ctl[i], CL_WAIT_SECS, "%s", req);
	if (us != NULL)
		*us = (bench_now() - t0) * 1e6;
	if (l == NULL || strncmp(l, "{\"ok\":true", 10) != 0)
		bench_die("node n%d: %s: %s", i, req, l != NULL ? l :
		    "no reply");
	return (l);
}

/* find_or_open of new cluster names and of new local names, in turn. */
static void
cl_claims(struct cl_run *r, int nclaim, struct cl_figs *f, int run)
{
	double	cl[CL_MAXCLAIM], lo[CL_MAXCLAIM];
	char	name[32];
	int	k;

	for (k = 0; k < nclaim; k++) {
		snprintf(name, sizeof name, "claim%d", k);
		(void)cl_ok(r, 0, &cl[k], "{\"op\":\"find_or_open\",\"name\":"
		    "\"%s\",\"cmd\":[\"%s\"],\"scope\":\"cluster\"}", name,
		    r->b->idle);
		snprintf(name, sizeof name, "local%d", k);
		(void)cl_ok(r, 0, &lo[k], "{\"op\":\"find_or_open\",\"name\":"
		    "\"%s\",\"cmd\":[\"%s\"]}", name, r->b->idle);
	}
	f->claim50[run] = bench_quantile(cl, nclaim, 0.5);
	f->claim99[run] = bench_quantile(cl, nclaim, 0.99);
	f->local50[run] = bench_quantile(lo, nclaim, 0.5);
	f->local99[run] = bench_quantile(lo, nclaim, 0.99);
}

/* Does node i's find say name runs on a node other than not? */
static bool
cl_moved(struct cl_run *r, int i, const char *name, const char *not)
{
	char	*l, node[16], state[16];

	l = bconn_req(r->ctl[i], 5.0, "{\"op\":\"find\",\"name\":\"%s\"}",
	    name);
	if (l == NULL)
		bench_die("node n%d: no reply to find", i);
	return (strncmp(l, "{\"ok\":true", 10) == 0 &&
	    bench_json_str(l, "node", node, sizeof node) &&
	    strcmp(node, not) != 0 &&
	    bench_json_str(l, "state", state, sizeof state) &&
	    strcmp(state, "running") == 0);
}

/*
 * kill -9 of node n2 holding CL_NFO failover children: ms until node n0's
 * find shows each running on another node.
 */
static double
cl_failover(struct cl_run *r)
{
	bool	moved[CL_NFO] = { false };
	char	name[16];
	double	t0, end;
	int	k, left = CL_NFO;

	for (k = 0; k < CL_NFO; k++) {
		snprintf(name, sizeof name, "fo%d", k);
		(void)cl_ok(r, 2, NULL, "{\"op\":\"start_child\",\"name\":"
		    "\"%s\",\"cmd\":[\"%s\"],\"scope\":\"cluster\","
		    "\"failover\":true}", name, r->b->idle);
	}
	end = bench_now() + CL_WAIT_SECS;
	for (k = 0; k < CL_NFO; k++) {
		snprintf(name, sizeof name, "fo%d", k);
		while (!cl_moved(r, 0, name, "n0")) {
			if (bench_now() > end)
				bench_die("n0 does not see %s on n2", name);
			usleep(5000);
		}
	}
	bconn_free(r->ctl[2]);
	r->ctl[2] = NULL;
	t0 = bench_now();
	if (kill(r->node[2].pid, SIGKILL) == -1)
		bench_die("kill n2: %s", strerror(errno));
	if (bench_wait_exit(r->node[2].pid, 10.0, NULL) == -1)
		bench_die("n2 did not die of SIGKILL");
	r->node[2].pid = 0;
	end = t0 + CL_WAIT_SECS;
	while (left > 0) {
		for (k = 0; k < CL_NFO; k++) {
			snprintf(name, sizeof name, "fo%d", k);
			if (!moved[k] && cl_moved(r, 0, name, "n2")) {
				moved[k] = true;
				left--;
			}
		}
		if (left > 0 && bench_now() > end)
			bench_die("failover: %d children of n2 do not run "
			    "elsewhere after %.0f s (logs in %s)", left,
			    CL_WAIT_SECS, r->b->dir);
		if (left > 0)
			usleep(1000);
	}
	return ((bench_now() - t0) * 1e3);
}

/* find on n0 of names held by n1 against names n0 holds, in turns. */
static void
cl_lookup(struct cl_run *r, struct cl_figs *f, int run)
{
	struct load_target	tg[2];
	struct load_result	res[2];
	const char		*reqs[2][CL_NAMES];
	size_t			 lens[2][CL_NAMES];
	char			 buf[2][CL_NAMES][64], name[16];
	int			 t, k;

	for (k = 0; k < CL_NAMES; k++) {
		snprintf(name, sizeof name, "rem%d", k);
		(void)cl_ok(r, 1, NULL, "{\"op\":\"start_child\",\"name\":"
		    "\"%s\",\"cmd\":[\"%s\"],\"scope\":\"cluster\"}", name,
		    r->b->idle);
		snprintf(name, sizeof name, "loc%d", k);
		(void)cl_ok(r, 0, NULL, "{\"op\":\"start_child\",\"name\":"
		    "\"%s\",\"cmd\":[\"%s\"]}", name, r->b->idle);
	}
	for (k = 0; k < CL_NAMES; k++) {
		snprintf(name, sizeof name, "rem%d", k);
		while (!cl_moved(r, 0, name, "n0"))
			usleep(5000);	/* n0's mirror has it */
	}
	for (t = 0; t < 2; t++) {
		for (k = 0; k < CL_NAMES; k++) {
			lens[t][k] = (size_t)snprintf(buf[t][k],
			    sizeof buf[t][k], "{\"op\":\"find\",\"name\":"
			    "\"%s%d\"}\n", t == 0 ? "rem" : "loc", k);
			reqs[t][k] = buf[t][k];
		}
		tg[t] = (struct load_target){ .path = r->node[0].sock,
		    .reqs = reqs[t], .reqlens = lens[t], .nreqs = CL_NAMES,
		    .expect = "{\"ok\":true" };
	}
	bench_pin(r->node[0].pid, 0);
	bench_pin(0, 0);
	if (load_pingpong(tg, 2, r->b->pp_count, r->b->pp_count / 10,
	    res) == -1)
		bench_die("cluster find ping-pong failed");
	bench_pin(0, -1);
	bench_pin(r->node[0].pid, -1);
	f->rem50[run] = res[0].p50_us;
	f->rem99[run] = res[0].p99_us;
	f->loc50[run] = res[1].p50_us;
	f->loc99[run] = res[1].p99_us;
}

/*
 * The same lookups through libgtd's shared-memory mirror of n0: every
 * gtd_find timed with two clock_gettime calls (in the figure), remote
 * and local names taken in turns of CL_MCHUNK lookups.
 */
#define CL_MCHUNK	1000
static void
cl_mirror(struct cl_run *r, struct cl_figs *f, int run)
{
	struct gtd_handle	*h;
	struct gtd_child	 c;
	struct gtd_mirror_stat	 st;
	char			 names[2][CL_NAMES][16];
	double			*lat[2];
	size_t			 n[2] = { 0, 0 }, total;
	int64_t			 t0;
	int			 t, k, i;

	total = (size_t)r->b->pp_count * 10;
	for (t = 0; t < 2; t++) {
		for (k = 0; k < CL_NAMES; k++)
			snprintf(names[t][k], sizeof names[t][k], "%s%d",
			    t == 0 ? "rem" : "loc", k);
		if ((lat[t] = calloc(total, sizeof *lat[t])) == NULL)
			bench_die("out of memory");
	}
	if ((h = gtd_open(r->node[0].sock)) == NULL)
		bench_die("gtd_open %s", r->node[0].sock);
	bench_pin(0, 0);
	for (k = 0; k < CL_NAMES; k++)		/* map it; warm up */
		for (t = 0; t < 2; t++)
			if (gtd_find(h, names[t][k], &c) != GTD_OK)
				bench_die("mirror find %s: %s", names[t][k],
				    gtd_errmsg(h));
	while (n[1] < total)
		for (t = 0; t < 2; t++)
			for (i = 0; i < CL_MCHUNK && n[t] < total; i++) {
				t0 = bench_now_ns();
				if (gtd_find(h, names[t][n[t] % CL_NAMES],
				    &c) != GTD_OK)
					bench_die("mirror find: %s",
					    gtd_errmsg(h));
				lat[t][n[t]++] = (double)(bench_now_ns() -
				    t0) / 1e3;
			}
	bench_pin(0, -1);
	gtd_mirror_stat(h, &st);
	f->fallbacks += (double)st.fallbacks;
	gtd_close(h);
	f->mrem50[run] = bench_quantile(lat[0], total, 0.5);
	f->mrem99[run] = bench_quantile(lat[0], total, 0.99);
	f->mloc50[run] = bench_quantile(lat[1], total, 0.5);
	f->mloc99[run] = bench_quantile(lat[1], total, 0.99);
	free(lat[0]);
	free(lat[1]);
}

/* Is etcd there (as a path, or in PATH)? */
static bool
cl_have_etcd(void)
{
	const char	*e = cl_etcd_bin();

	return (strchr(e, '/') != NULL ? access(e, X_OK) == 0 :
	    server_have(e));
}

void
wl_cluster(struct bctx *b)
{
	struct cl_figs	*f;
	struct cl_run	 r;
	char		 name[64];
	int		 run, nclaim = b->quick ? 20 : CL_MAXCLAIM;

	if (!cl_have_etcd()) {
		report_section("W-cluster: skipped: no %s in PATH (Debian's "
		    "etcd-server; $ETCD names another binary)", cl_etcd_bin());
		return;
	}
	if ((f = calloc(1, sizeof *f)) == NULL)
		bench_die("out of memory");
	for (run = 0; run < b->reps; run++) {
		bench_note("W-cluster run %d/%d", run + 1, b->reps);
		memset(&r, 0, sizeof r);
		r.b = b;
		cl_start(&r, run);
		cl_claims(&r, nclaim, f, run);
		cl_lookup(&r, f, run);
		cl_mirror(&r, f, run);
		f->fo[run] = cl_failover(&r);
		cl_stop(&r);
	}
	report_section("W-cluster: a one-member etcd on loopback and %d gtd "
	    "nodes (lease_ttl_ms %d), children of bench-idle", CL_NODES,
	    CL_TTL_MS);
	snprintf(name, sizeof name, "W-cluster claim %d p50", nclaim);
	cl_fig(b, name, "us", f->claim50, "local find_or_open", f->local50,
	    TARGET_NONE, 0);
	snprintf(name, sizeof name, "W-cluster claim %d p99", nclaim);
	cl_fig(b, name, "us", f->claim99, "local find_or_open", f->local99,
	    TARGET_NONE, 0);
	snprintf(name, sizeof name, "W-cluster failover %d", CL_NFO);
	cl_fig(b, name, "ms", f->fo, NULL, NULL, TARGET_VALUE_LE,
	    CL_TTL_MS + 1000);
	cl_fig(b, "W-cluster remote find 1c p50", "us", f->rem50,
	    "local find", f->loc50, TARGET_RATIO_LE, 1.2);
	cl_fig(b, "W-cluster remote find 1c p99", "us", f->rem99,
	    "local find", f->loc99, TARGET_RATIO_LE, 1.2);
	cl_fig(b, "W-cluster remote mirror find p50", "us", f->mrem50,
	    "local mirror find", f->mloc50, TARGET_RATIO_LE, 1.2);
	cl_fig(b, "W-cluster remote mirror find p99", "us", f->mrem99,
	    "local mirror find", f->mloc99, TARGET_RATIO_LE, 1.2);
	if (f->fallbacks > 0)
		printf("W-cluster: %.0f mirror reads went to the socket: the "
		    "mirror figures are not all the mirror's\n", f->fallbacks);
	free(f);
}
