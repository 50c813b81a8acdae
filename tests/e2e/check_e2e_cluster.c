/* SPDX-License-Identifier: MIT */
/*
 * e2e_cluster: src/cluster.c against a real three-member etcd on
 * loopback (etcdrun.h).  Several nodes (struct cluster) run on the loop
 * of the test's process, each with its own etcd client and lease; the
 * self-fencing test runs a node in a process of its own
 * (gt-clusternode) to stop it with SIGSTOP.  Every wait is a condition
 * with a deadline.  CLUSTER_LONG=1 runs the longer variants.
 */
#include "config.h"

#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <ev.h>
#include <jansson.h>

#include "gt/cluster.h"
#include "gt/etcd.h"
#include "gt/xmalloc.h"
#include "etcdrun.h"
#include "harness.h"

#define TTL_MS		2000
#define NAMES_MAX	200
#define NODES_MAX	4
#define W_MS		8000		/* a generous condition deadline */

/* One node and what its observer saw. */
struct tnode {
	struct cluster		*cl;
	char			 name[16];
	enum cluster_state	 state;
	int			 nfence;
	long			 fence_at;	/* e2e_now_ms of must_fence */
	int64_t			 kill_by;
	int			 nlost;
	int			 nfo;		/* failovers won */
	char			*fo[NAMES_MAX];
	int64_t			 fo_fence[NAMES_MAX];
	long			 fo_at[NAMES_MAX];
	int64_t			 fo_sent[NAMES_MAX];	/* cluster_clock_ms */
	int			 nrenewed;
	int64_t			 last_kill_by;		/* last renewal's */
	int64_t			 fence_boot;	/* cluster_clock_ms */
};

/* One claim's result. */
struct tclaim {
	bool				 done;
	enum cluster_claim_status	 status;
	int64_t				 fence;
	char				*holder;
	char				*message;
	long				 at;
};

static struct ev_loop	*loop;
static struct etcdrun	*run;
static struct tnode	 nodes[NODES_MAX];
static int		 op_ms;		/* cluster_opts.op_timeout_ms */

static void
obs_state(enum cluster_state st, const char *why, void *arg)
{
	((struct tnode *)arg)->state = st;
}

static void
obs_fence(int64_t kill_by, const char *why, void *arg)
{
	struct tnode	*n = arg;

	n->nfence++;
	n->fence_at = e2e_now_ms();
	n->fence_boot = cluster_clock_ms();
	n->kill_by = kill_by;
}

static void
obs_lost(const char *name, void *arg)
{
	((struct tnode *)arg)->nlost++;
}

static void
obs_renewed(int64_t kill_by, void *arg)
{
	((struct tnode *)arg)->nrenewed++;
	((struct tnode *)arg)->last_kill_by = kill_by;
}

static void
obs_failover(const struct cluster_failover *f, void *arg)
{
	struct tnode	*n = arg;

	ck_assert_int_lt(n->nfo, NAMES_MAX);
	ck_assert_int_gt(f->fence, 0);
	n->fo_fence[n->nfo] = f->fence;
	n->fo_at[n->nfo] = e2e_now_ms();
	n->fo_sent[n->nfo] = f->sent_at;
	n->fo[n->nfo++] = xstrdup(f->name);
	/* The owner starts it and says so. */
	ck_assert_int_eq(cluster_update(n->cl, f->name, 4242, "running"), 0);
}

static const struct cluster_observer tobs = {
	.state = obs_state,
	.must_fence = obs_fence,
	.lost = obs_lost,
	.renewed = obs_renewed,
	.start_failover = obs_failover
};

static void
setup(void)
{
	loop = EV_DEFAULT;
	memset(nodes, 0, sizeof nodes);
	op_ms = 0;
	run = etcdrun_start(3);
}

static void
teardown(void)
{
	int	i, j;

	for (i = 0; i < NODES_MAX; i++) {
		cluster_free(nodes[i].cl);
		for (j = 0; j < nodes[i].nfo; j++)
			free(nodes[i].fo[j]);
	}
	memset(nodes, 0, sizeof nodes);
	etcdrun_stop(run);
}

/* Start node i named name with these etcd endpoints. */
static struct tnode *
node_start_eps(int i, const char *name, int ttl_ms, const char **eps, int neps)
{
	struct cluster_opts	 o;
	char			*cause = NULL;
	struct tnode		*n = &nodes[i];

	memset(&o, 0, sizeof o);
	o.loop = loop;
	o.endpoints = eps;
	o.nendpoints = neps;
	o.zone = "test";
	o.node = name;
	o.lease_ttl_ms = ttl_ms;
	o.op_timeout_ms = op_ms;
	o.pid = getpid();
	o.obs = &tobs;
	o.obs_arg = n;
	snprintf(n->name, sizeof n->name, "%s", name);
	n->cl = cluster_new(&o, &cause);
	ck_assert_msg(n->cl != NULL, "cluster_new: %s", cause);
	return (n);
}

/* Node i on every member, starting with a different one per node. */
static struct tnode *
node_start(int i, const char *name, int ttl_ms)
{
	const char	*eps[ETCDRUN_MAX];
	int		 k, sz = etcdrun_size(run);

	for (k = 0; k < sz; k++)
		eps[k] = etcdrun_endpoint(run, (i + k) % sz);
	return (node_start_eps(i, name, ttl_ms, eps, sz));
}

/* Up, connected, and its own node key in its mirror. */
static bool
is_up(void *arg)
{
	struct tnode		*n = arg;
	struct cluster_status	 st;
	size_t			 i;

	if (n->state != CLUSTER_UP || cluster_stale(n->cl))
		return (false);
	cluster_status(n->cl, &st);
	for (i = 0; i < st.nnodes; i++)
		if (strcmp(st.nodes[i].name, n->name) == 0)
			return (true);
	return (false);
}

static void
wait_up(struct tnode *n)
{
	ck_assert_msg(etcdrun_loop_until(loop, is_up, n, W_MS),
	    "node %s not up (state %s)", n->name,
	    cluster_state_name(n->state));
}

static void
claim_cb(const struct cluster_claim_result *r, void *arg)
{
	struct tclaim	*c = arg;

	ck_assert(!c->done);
	c->done = true;
	c->at = e2e_now_ms();
	c->status = r->status;
	c->fence = r->fence;
	if (r->status == CLUSTER_HELD)
		c->holder = xstrdup(r->holder->node);
	if (r->message != NULL)
		c->message = xstrdup(r->message);
}

static bool
claim_done(void *arg)
{
	return (((struct tclaim *)arg)->done);
}

static void
tclaim_clear(struct tclaim *c)
{
	free(c->holder);
	free(c->message);
	memset(c, 0, sizeof *c);
}

/* Claim name on n and wait for the result. */
static enum cluster_claim_status
claim(struct tnode *n, const char *name, bool failover, struct tclaim *c)
{
	char	spec[128];

	tclaim_clear(c);
	snprintf(spec, sizeof spec, "{\"name\":\"%s\",\"cmd\":[\"true\"]}",
	    name);
	cluster_claim(n->cl, name, spec, failover, claim_cb, c);
	/* The claim answers within op_ms: wait longer than that. */
	ck_assert_msg(etcdrun_loop_until(loop, claim_done, c,
	    op_ms + 1000 > W_MS ? op_ms + 1000 : W_MS),
	    "claim of %s on %s: no result", name, n->name);
	return (c->status);
}

struct holder_wait {
	struct tnode	*n;
	const char	*name;
	const char	*node;		/* NULL: absent; "*": any */
	const char	*state;		/* NULL: any */
};

static bool
holder_is(void *arg)
{
	struct holder_wait		*w = arg;
	const struct cluster_entry	*e = cluster_lookup(w->n->cl, w->name);

	if (w->node == NULL)
		return (e == NULL);
	return (e != NULL && (strcmp(w->node, "*") == 0 ||
	    strcmp(e->node, w->node) == 0) &&
	    (w->state == NULL || strcmp(e->state, w->state) == 0));
}

static void
wait_holder(struct tnode *n, const char *name, const char *node,
    const char *state)
{
	struct holder_wait	w = { n, name, node, state };

	ck_assert_msg(etcdrun_loop_until(loop, holder_is, &w, W_MS),
	    "%s: mirror of %s never showed %s", n->name, name,
	    node != NULL ? node : "nothing");
}

/* Node names: joins, the status, and a second gtd with a taken name. */
START_TEST(cluster_join_and_conflict)
{
	struct cluster_status	 st;
	struct tnode		*a, *b;
	long			 t0;

	a = node_start(0, "a", TTL_MS);
	wait_up(a);
	ck_assert_int_ge(a->nrenewed, 1);
	cluster_status(a->cl, &st);
	ck_assert_str_eq(st.node, "a");
	ck_assert(st.connected);
	ck_assert_int_eq(st.lease_ttl_ms, 2000);
	ck_assert_uint_eq(st.nnodes, 1);
	ck_assert_str_eq(st.nodes[0].name, "a");
	ck_assert_int_eq(st.nodes[0].lease_ttl_ms, 2000);
	ck_assert_int_gt(st.fence_in_ms, 0);
	ck_assert_int_le(st.fence_in_ms, 2000);
	/* Same name: it waits a TTL (a crashed one's key expires), refuses. */
	t0 = e2e_now_ms();
	b = node_start(1, "a", TTL_MS);
	ck_assert(!etcdrun_loop_until(loop, is_up, b, 1000));
	while (b->state != CLUSTER_CONFLICT && e2e_now_ms() - t0 < W_MS)
		ev_run(loop, EVRUN_ONCE);
	ck_assert_str_eq(cluster_state_name(b->state), "conflict");
	ck_assert_int_ge(e2e_now_ms() - t0, TTL_MS);
	cluster_status(b->cl, &st);
	ck_assert_ptr_nonnull(strstr(st.message, "node name a is in use"));
	ck_assert(!cluster_available(b->cl));
	/* The first node is untouched. */
	ck_assert_int_eq(a->state, CLUSTER_UP);
	ck_assert_int_eq(a->nfence, 0);
	/* A restarted node (free, no revoke) gets its name back in a TTL. */
	cluster_free(a->cl);
	a->cl = NULL;
	a->state = CLUSTER_JOINING;
	a = node_start(2, "a", TTL_MS);
	wait_up(a);
	ck_assert_int_lt(e2e_now_ms() - t0, 2 * W_MS);
}
END_TEST

/*
 * Names raced by 3 nodes: every node claims every name at once; exactly
 * one owner each, the others told who; etcd and every mirror agree.
 */
struct race {
	struct tclaim	c[3][NAMES_MAX];
	int		first, n;
};

static struct race	 race_r;
static const char	*winners[NAMES_MAX];

static bool
race_done(void *arg)
{
	struct race	*r = arg;
	int		 i, k;

	for (k = 0; k < 3; k++)
		for (i = r->first; i < r->first + r->n; i++)
			if (!r->c[k][i].done)
				return (false);
	return (true);
}

static void
race(struct tnode **n, int first, int count)
{
	struct race	*r = &race_r;
	char		 name[32], spec[96];
	int		 i, k, owners;

	ck_assert_int_le(first + count, NAMES_MAX);
	r->first = first;
	r->n = count;
	/* Interleaved: every node's claim of a name is in flight at once. */
	for (i = first; i < first + count; i++)
		for (k = 0; k < 3; k++) {
			snprintf(name, sizeof name, "svc-%03d", i);
			snprintf(spec, sizeof spec, "{\"name\":\"%s\"}", name);
			tclaim_clear(&r->c[(k + i) % 3][i]);
			cluster_claim(n[(k + i) % 3]->cl, name, spec, false,
			    claim_cb, &r->c[(k + i) % 3][i]);
		}
	ck_assert(etcdrun_loop_until(loop, race_done, r, 4 * W_MS));
	for (i = first; i < first + count; i++) {
		snprintf(name, sizeof name, "svc-%03d", i);
		for (k = owners = 0; k < 3; k++) {
			ck_assert_msg(r->c[k][i].status != CLUSTER_UNAVAILABLE,
			    "%s on %s: %s", name, n[k]->name,
			    r->c[k][i].message);
			if (r->c[k][i].status == CLUSTER_CLAIMED) {
				owners++;
				winners[i] = n[k]->name;
				ck_assert(cluster_holds(n[k]->cl, name, NULL));
			}
		}
		ck_assert_msg(owners == 1, "%s: %d owners", name, owners);
		for (k = 0; k < 3; k++)
			if (r->c[k][i].status == CLUSTER_HELD)
				ck_assert_str_eq(r->c[k][i].holder, winners[i]);
	}
}

/* etcd holds names 0..total-1, each with its winner; so do the mirrors. */
static void
race_verify(struct tnode **n, int total)
{
	json_t	*dump, *v;
	char	 name[32], key[64];
	int	 i, k;

	dump = etcdrun_dump(run, "/gtd/test/children/");
	ck_assert_uint_eq(json_object_size(dump), total);
	for (i = 0; i < total; i++) {
		snprintf(name, sizeof name, "svc-%03d", i);
		snprintf(key, sizeof key, "/gtd/test/children/%s", name);
		v = json_loads(json_string_value(json_object_get(dump, key)),
		    0, NULL);
		ck_assert_msg(v != NULL, "%s lost", name);
		ck_assert_str_eq(json_string_value(json_object_get(v, "node")),
		    winners[i]);
		json_decref(v);
		for (k = 0; k < 3; k++)
			wait_holder(n[k], name, winners[i], NULL);
	}
	json_decref(dump);
}

START_TEST(cluster_claim_race)
{
	struct tnode	*n[3];
	int		 count, k;

	count = getenv("CLUSTER_LONG") != NULL ? NAMES_MAX : 100;
	/* Exclusivity is the point here, not latency: a slow disk is fine. */
	op_ms = 15000;
	/* A loaded machine may stall etcd for seconds: no fencing here. */
	n[0] = node_start(0, "n0", 10000);
	n[1] = node_start(1, "n1", 10000);
	n[2] = node_start(2, "n2", 10000);
	for (k = 0; k < 3; k++)
		wait_up(n[k]);
	race(n, 0, count);
	race_verify(n, count);
	for (k = 0; k < 3; k++) {
		ck_assert_int_eq(n[k]->nfence, 0);
		ck_assert_int_eq(n[k]->nlost, 0);
	}
}
END_TEST

/*
 * Killing etcd's leader between and during races loses no claim and
 * makes no second owner; no node fences (TTL 10 s: an election takes
 * about a second, but a busy member may hold a renewal for seconds after
 * one, more on a loaded machine).
 */
START_TEST(cluster_leader_killed)
{
	struct tnode	*n[3];
	int		 k, leader;

	op_ms = 15000;
	n[0] = node_start(0, "n0", 10000);
	n[1] = node_start(1, "n1", 10000);
	n[2] = node_start(2, "n2", 10000);
	for (k = 0; k < 3; k++)
		wait_up(n[k]);
	race(n, 0, 30);
	ck_assert_int_ge(leader = etcdrun_leader(run), 0);
	etcdrun_kill(run, leader);
	race(n, 30, 30);
	etcdrun_restart(run, leader);
	ck_assert_int_ge(leader = etcdrun_leader(run), 0);
	etcdrun_kill(run, leader);
	race(n, 60, 20);
	etcdrun_restart(run, leader);
	race_verify(n, 80);
	for (k = 0; k < 3; k++) {
		ck_assert_int_eq(n[k]->nfence, 0);
		ck_assert_int_eq(n[k]->nlost, 0);
	}
}
END_TEST

/*
 * Updates reach every mirror; a release deletes the key and starts no
 * failover; a claim after a release works; a claim of a name this node
 * holds says so.
 */
START_TEST(cluster_update_release)
{
	struct tnode			*a, *b;
	struct tclaim			 c = { 0 };
	const struct cluster_entry	*e;
	int64_t				 fence;

	a = node_start(0, "a", TTL_MS);
	b = node_start(1, "b", TTL_MS);
	wait_up(a);
	wait_up(b);
	ck_assert_int_eq(claim(a, "web", true, &c), CLUSTER_CLAIMED);
	fence = c.fence;
	ck_assert(cluster_holds(a->cl, "web", NULL));
	wait_holder(b, "web", "a", "starting");
	e = cluster_lookup(b->cl, "web");
	ck_assert_int_eq(e->revision, fence);
	ck_assert_int_eq(e->pid, -1);
	ck_assert(e->failover);
	ck_assert_ptr_nonnull(strstr(e->spec, "\"cmd\""));
	ck_assert_int_eq(cluster_update(a->cl, "web", 1234, "running"), 0);
	wait_holder(b, "web", "a", "running");
	ck_assert_int_eq(cluster_lookup(b->cl, "web")->pid, 1234);
	/* Another claim of it anywhere: held, by a (a says so for itself). */
	ck_assert_int_eq(claim(b, "web", true, &c), CLUSTER_HELD);
	ck_assert_str_eq(c.holder, "a");
	ck_assert_int_eq(claim(a, "web", true, &c), CLUSTER_HELD);
	ck_assert_str_eq(c.holder, "a");
	/* Not ours: refused. */
	ck_assert_int_eq(cluster_update(b->cl, "web", 1, "running"), -1);
	ck_assert_int_eq(cluster_release(b->cl, "web"), -1);
	/* Release: gone everywhere, no failover (a is alive). */
	ck_assert_int_eq(cluster_release(a->cl, "web"), 0);
	wait_holder(b, "web", NULL, NULL);
	wait_holder(a, "web", NULL, NULL);
	ck_assert(!etcdrun_loop_until(loop, claim_done, &(struct tclaim){ 0 },
	    TTL_MS));		/* time for a failover that must not come */
	ck_assert_int_eq(b->nfo, 0);
	ck_assert_int_eq(a->nfo, 0);
	/* Claimed again: a later claim has a larger fence. */
	ck_assert_int_eq(claim(b, "web", true, &c), CLUSTER_CLAIMED);
	ck_assert_int_gt(c.fence, fence);
	wait_holder(a, "web", "b", NULL);
	tclaim_clear(&c);
}
END_TEST

struct fo_wait {
	struct tnode	**n;
	int		  nn;
	int		  want;
};

static bool
fo_count(void *arg)
{
	struct fo_wait	*w = arg;
	int		 i, t = 0;

	for (i = 0; i < w->nn; i++)
		t += w->n[i]->nfo;
	return (t >= w->want);
}

/*
 * Node a dies (its cluster freed: no revoke, the lease expires): each of
 * its failover children is claimed by exactly one survivor within TTL +
 * 1 s, spread over both; its other children are not.  With clean:
 * a shuts down (revoke), and the failover comes at once.
 */
static void
failover(bool clean)
{
	struct tnode	*a, *b, *c, *surv[2];
	struct tclaim	 cl = { 0 };
	struct fo_wait	 w;
	char		 name[32];
	long		 t0;
	int		 i, k, nb = 0;
	const int	 nfo = 20;

	a = node_start(0, "a", TTL_MS);
	b = node_start(1, "b", TTL_MS);
	c = node_start(2, "c", TTL_MS);
	wait_up(a);
	wait_up(b);
	wait_up(c);
	for (i = 0; i < nfo + 2; i++) {
		snprintf(name, sizeof name, "%s-%02d", i < nfo ? "fo" : "local",
		    i);
		ck_assert_int_eq(claim(a, name, i < nfo, &cl), CLUSTER_CLAIMED);
		ck_assert_int_eq(cluster_update(a->cl, name, 100 + i,
		    "running"), 0);
	}
	for (i = 0; i < nfo + 2; i++) {
		snprintf(name, sizeof name, "%s-%02d", i < nfo ? "fo" : "local",
		    i);
		wait_holder(b, name, "a", "running");
		wait_holder(c, name, "a", "running");
	}
	t0 = e2e_now_ms();
	if (clean) {
		cluster_shutdown(a->cl, NULL, NULL);
	} else {
		cluster_free(a->cl);
		a->cl = NULL;
	}
	surv[0] = b;
	surv[1] = c;
	w.n = surv;
	w.nn = 2;
	w.want = nfo;
	ck_assert(etcdrun_loop_until(loop, fo_count, &w, TTL_MS + 3000));
	for (k = 0; k < 2; k++)
		for (i = 0; i < surv[k]->nfo; i++) {
			ck_assert_msg(surv[k]->fo_at[i] - t0 <= (clean ? 1000 :
			    TTL_MS + 1000), "failover of %s after %ld ms",
			    surv[k]->fo[i], surv[k]->fo_at[i] - t0);
			ck_assert_ptr_nonnull(strstr(surv[k]->fo[i], "fo-"));
		}
	ck_assert_int_eq(b->nfo + c->nfo, nfo);
	ck_assert_int_gt(b->nfo, 0);
	ck_assert_int_gt(c->nfo, 0);
	for (i = 0; i < nfo; i++) {
		snprintf(name, sizeof name, "fo-%02d", i);
		for (k = nb = 0; k < 2; k++)
			nb += cluster_holds(surv[k]->cl, name, NULL);
		ck_assert_msg(nb == 1, "%s held by %d nodes", name, nb);
		wait_holder(b, name, "*", "running");
	}
	/* The non-failover children are gone, and stay gone. */
	for (i = nfo; i < nfo + 2; i++) {
		snprintf(name, sizeof name, "local-%02d", i);
		wait_holder(b, name, NULL, NULL);
		ck_assert(!cluster_holds(b->cl, name, NULL));
		ck_assert(!cluster_holds(c->cl, name, NULL));
	}
	w.want = nfo + 1;
	ck_assert(!etcdrun_loop_until(loop, fo_count, &w, 1000));
	ck_assert_int_eq(b->nfence + c->nfence, 0);
	tclaim_clear(&cl);
}

START_TEST(cluster_failover_dead_node)
{
	failover(false);
}
END_TEST

START_TEST(cluster_failover_clean_shutdown)
{
	failover(true);
}
END_TEST

/*
 * etcd entirely down: a claim answers unavailable within 2 s; the node
 * fences itself at its deadline, before the time by which the lease
 * could expire, and its mirror still answers (stale); when etcd is back
 * it rejoins with a new lease and its failover names are claimed again.
 */
START_TEST(cluster_etcd_down_and_back)
{
	struct tnode	*a;
	struct tclaim	 c = { 0 };
	long		 t0;
	int		 i;

	a = node_start(0, "a", TTL_MS);
	wait_up(a);
	ck_assert_int_eq(claim(a, "f1", true, &c), CLUSTER_CLAIMED);
	ck_assert_int_eq(claim(a, "l1", false, &c), CLUSTER_CLAIMED);
	wait_holder(a, "f1", "a", NULL);
	for (i = 0; i < etcdrun_size(run); i++)
		etcdrun_kill(run, i);
	t0 = e2e_now_ms();
	ck_assert_int_eq(claim(a, "x", false, &c), CLUSTER_UNAVAILABLE);
	ck_assert_int_le(c.at - t0, 2000 + 300);
	ck_assert_ptr_nonnull(strstr(c.message, "unavailable"));
	while (a->nfence == 0 && e2e_now_ms() - t0 < W_MS)
		ev_run(loop, EVRUN_ONCE);
	ck_assert_int_eq(a->nfence, 1);
	ck_assert_int_eq(a->state, CLUSTER_FENCED);
	/* At the deadline of the last renewal, before its kill_by. */
	ck_assert_int_eq(a->kill_by, a->last_kill_by);
	ck_assert_int_le(a->fence_boot, a->kill_by);
	ck_assert_int_le(a->fence_at - t0, TTL_MS);
	/* The mirror still answers, marked stale; claims are refused. */
	ck_assert(cluster_stale(a->cl));
	ck_assert_ptr_nonnull(cluster_lookup(a->cl, "f1"));
	ck_assert(!cluster_holds(a->cl, "f1", NULL));
	ck_assert_int_eq(claim(a, "x", false, &c), CLUSTER_UNAVAILABLE);
	for (i = 0; i < etcdrun_size(run); i++)
		etcdrun_restart(run, i);
	ck_assert(etcdrun_wait_healthy(run, ETCDRUN_READY_MS));
	ck_assert_msg(etcdrun_loop_until(loop, is_up, a, 3 * W_MS),
	    "no rejoin: %s", cluster_state_name(a->state));
	/* The old lease was revoked: f1 fails over (here, to a itself). */
	while (a->nfo == 0 && e2e_now_ms() - t0 < 4 * W_MS)
		ev_run(loop, EVRUN_ONCE);
	ck_assert_int_eq(a->nfo, 1);
	ck_assert_str_eq(a->fo[0], "f1");
	wait_holder(a, "l1", NULL, NULL);
	ck_assert_int_eq(claim(a, "x", false, &c), CLUSTER_CLAIMED);
	ck_assert_int_eq(a->nfence, 1);
	tclaim_clear(&c);
}
END_TEST

struct resync_wait {
	struct tnode	*n;
	uint64_t	 resyncs;
};

static bool
resynced(void *arg)
{
	struct resync_wait	*w = arg;
	struct cluster_status	 st;

	cluster_status(w->n->cl, &st);
	return (st.resyncs >= w->resyncs && !cluster_stale(w->n->cl));
}

/*
 * A node cut off while the history it needs is compacted away reads the
 * registry again when it is back, and its mirror converges: releases
 * seen, new claims seen, updates seen.
 */
START_TEST(cluster_compaction_resync)
{
	struct tnode		*a, *b;
	struct tclaim		 c = { 0 };
	struct resync_wait	 rw;
	const char		*m0[1];
	char			 name[16];
	int			 i;

	/* The member killed may lead: claims wait out an election. */
	op_ms = 15000;
	a = node_start_eps(0, "a", 10000, (const char *[]){
	    etcdrun_endpoint(run, 1), etcdrun_endpoint(run, 2) }, 2);
	m0[0] = etcdrun_endpoint(run, 0);
	b = node_start_eps(1, "b", 10000, m0, 1);
	wait_up(a);
	wait_up(b);
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof name, "k%d", i);
		ck_assert_int_eq(claim(a, name, false, &c), CLUSTER_CLAIMED);
		wait_holder(b, name, "a", NULL);
	}
	etcdrun_kill(run, 0);
	ck_assert_int_eq(cluster_release(a->cl, "k0"), 0);
	ck_assert_int_eq(cluster_release(a->cl, "k1"), 0);
	ck_assert_int_eq(claim(a, "k5", false, &c), CLUSTER_CLAIMED);
	ck_assert_int_eq(claim(a, "k6", false, &c), CLUSTER_CLAIMED);
	ck_assert_int_eq(cluster_update(a->cl, "k2", 77, "running"), 0);
	wait_holder(a, "k0", NULL, NULL);
	wait_holder(a, "k1", NULL, NULL);
	wait_holder(a, "k2", "a", "running");
	etcdrun_compact(run, etcdrun_revision(run));
	/* b still shows the old state: it cannot know. */
	ck_assert_ptr_nonnull(cluster_lookup(b->cl, "k0"));
	etcdrun_restart(run, 0);
	rw.n = b;
	rw.resyncs = 1;
	ck_assert(etcdrun_loop_until(loop, resynced, &rw, 2 * W_MS));
	wait_holder(b, "k0", NULL, NULL);
	wait_holder(b, "k1", NULL, NULL);
	wait_holder(b, "k2", "a", "running");
	ck_assert_int_eq(cluster_lookup(b->cl, "k2")->pid, 77);
	wait_holder(b, "k5", "a", NULL);
	wait_holder(b, "k6", "a", NULL);
	ck_assert_int_eq(b->nfence, 0);
	ck_assert_int_eq(b->nfo + a->nfo, 0);
	tclaim_clear(&c);
}
END_TEST

/*
 * The member a node's renewals and watch use is stopped (SIGSTOP: its
 * sockets stay open and silent).  It is the one that leads, so etcd
 * elects another meanwhile.  The renewals move to another member in time
 * (no node fences, every claim stays), and so does the watch: the node
 * goes on seeing what another node does.  The premise is that the
 * election and the move fit in the time the lease leaves before a node
 * fences: with 10 s leases at least 5 s after the stop (the last renewal
 * answered was sent at most a renewal period, 2.5 s, before it), where
 * an election takes about a second, a few on a slow, loaded machine (3 s
 * leases left 1.5 s, too little under ASan).
 */
START_TEST(cluster_member_stopped)
{
	struct tnode		*a, *b;
	struct tclaim		 c = { 0 };
	struct cluster_status	 st;
	const char		*s, *o1, *o2;
	long			 t0;
	int			 k;

	op_ms = 15000;			/* claims wait out the election */
	ck_assert_int_ge(k = etcdrun_leader(run), 0);
	s = etcdrun_endpoint(run, k);
	o1 = etcdrun_endpoint(run, (k + 1) % 3);
	o2 = etcdrun_endpoint(run, (k + 2) % 3);
	a = node_start_eps(0, "a", 10000, (const char *[]){ o1, o2 }, 2);
	b = node_start_eps(1, "b", 10000, (const char *[]){ s, o1, o2 }, 3);
	wait_up(a);
	wait_up(b);
	ck_assert_int_eq(claim(a, "k1", false, &c), CLUSTER_CLAIMED);
	wait_holder(b, "k1", "a", NULL);
	etcdrun_signal(run, k, SIGSTOP);
	t0 = e2e_now_ms();
	ck_assert_msg(claim(a, "k2", false, &c) == CLUSTER_CLAIMED,
	    "claim of k2: %s", c.message != NULL ? c.message : "held");
	/* Mostly the election: how much of the 5 s it used, for the logs. */
	fprintf(stderr, "cluster_member_stopped: k2 claimed %ld ms after "
	    "SIGSTOP of the leader\n", c.at - t0);
	wait_holder(b, "k2", "a", NULL);
	ck_assert_int_eq(cluster_update(a->cl, "k1", 5, "running"), 0);
	wait_holder(b, "k1", "a", "running");
	ck_assert_msg(claim(b, "k3", false, &c) == CLUSTER_CLAIMED,
	    "claim of k3: %s", c.message != NULL ? c.message : "held");
	wait_holder(a, "k3", "b", NULL);
	/* b left the stopped member; nobody fenced or lost a claim. */
	cluster_status(b->cl, &st);
	ck_assert_str_ne(st.endpoint, s);
	ck_assert_int_eq(a->nfence + b->nfence, 0);
	ck_assert_int_eq(a->nlost + b->nlost, 0);
	ck_assert(cluster_holds(a->cl, "k1", NULL));
	ck_assert(cluster_holds(a->cl, "k2", NULL));
	ck_assert(cluster_holds(b->cl, "k3", NULL));
	etcdrun_signal(run, k, SIGCONT);
	tclaim_clear(&c);
}
END_TEST

/* A node in a process of its own (gt-clusternode), read through the loop. */
struct pnode {
	pid_t	 pid;
	int	 in, out;
	ev_io	 io;
	char	 buf[16384];
	size_t	 len;
	char	*lines[512];
	int	 nlines, next;
};

static void
pnode_read_cb(struct ev_loop *l, ev_io *w, int revents)
{
	struct pnode	*p = w->data;
	char		*nl;
	ssize_t		 n;

	n = read(p->out, p->buf + p->len, sizeof p->buf - p->len - 1);
	if (n <= 0) {
		ev_io_stop(l, w);
		return;
	}
	p->len += n;
	while ((nl = memchr(p->buf, '\n', p->len)) != NULL) {
		*nl = '\0';
		if (p->nlines < 512)
			p->lines[p->nlines++] = xstrdup(p->buf);
		p->len -= nl + 1 - p->buf;
		memmove(p->buf, nl + 1, p->len);
	}
}

static struct pnode *
pnode_start(const char *node, int ttl_ms)
{
	struct pnode	*p = xcalloc(1, sizeof *p);
	const char	*tc = getenv("GT_TESTCHILD");
	char		 bin[1024], ttl[16], *slash;
	const char	*argv[16];
	int		 in[2], out[2], i, k = 0;

	snprintf(bin, sizeof bin, "%s", tc != NULL ? tc : "build/gt-testchild");
	slash = strrchr(bin, '/');
	snprintf(slash != NULL ? slash + 1 : bin, sizeof bin -
	    (slash != NULL ? (size_t)(slash + 1 - bin) : 0), "gt-clusternode");
	snprintf(ttl, sizeof ttl, "%d", ttl_ms);
	argv[k++] = bin;
	argv[k++] = "test";
	argv[k++] = node;
	argv[k++] = ttl;
	for (i = 0; i < etcdrun_size(run); i++)
		argv[k++] = etcdrun_endpoint(run, i);
	argv[k] = NULL;
	ck_assert(pipe(in) == 0 && pipe(out) == 0);
	fflush(NULL);
	ck_assert_int_ne(p->pid = fork(), -1);
	if (p->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	p->in = in[1];
	p->out = out[0];
	ev_io_init(&p->io, pnode_read_cb, p->out, EV_READ);
	p->io.data = p;
	ev_io_start(loop, &p->io);
	return (p);
}

struct pwait {
	struct pnode	*p;
	const char	*prefix;
	const char	*line;
};

static bool
pnode_has(void *arg)
{
	struct pwait	*w = arg;
	int		 i;

	for (i = w->p->next; i < w->p->nlines; i++)
		if (strncmp(w->p->lines[i], w->prefix,
		    strlen(w->prefix)) == 0) {
			w->p->next = i + 1;
			w->line = w->p->lines[i];
			return (true);
		}
	return (false);
}

/* The next line starting with prefix (later lines are kept). */
static const char *
pnode_expect(struct pnode *p, const char *prefix, int ms)
{
	struct pwait	w = { p, prefix, NULL };

	ck_assert_msg(etcdrun_loop_until(loop, pnode_has, &w, ms),
	    "node process: no \"%s\" within %d ms (last: %s)", prefix, ms,
	    p->nlines > 0 ? p->lines[p->nlines - 1] : "nothing");
	return (w.line);
}

static void
pnode_send(struct pnode *p, const char *line)
{
	ck_assert_int_eq(write(p->in, line, strlen(line)), strlen(line));
	ck_assert_int_eq(write(p->in, "\n", 1), 1);
}

static void
pnode_kill(struct pnode *p)
{
	int	i;

	ev_io_stop(loop, &p->io);
	kill(p->pid, SIGCONT);
	kill(p->pid, SIGKILL);
	/* (void): the loop may have reaped it already (ECHILD) */
	(void)waitpid(p->pid, NULL, 0);
	close(p->in);
	close(p->out);
	for (i = 0; i < p->nlines; i++)
		free(p->lines[i]);
	free(p);
}

/* The fenced child's death, as seen through a pidfd. */
static void
pidfd_cb(struct ev_loop *l, ev_io *w, int revents)
{
	*(int64_t *)w->data = cluster_clock_ms();
	ev_io_stop(l, w);
}

static bool
fo_one(void *arg)
{
	return (((struct tnode *)arg)->nfo >= 1);
}

/*
 * Self-fencing of a stopped node: node a (a process) holds x, whose
 * process runs; a is stopped with SIGSTOP for longer than its TTL.  Its
 * watchdog kills x's process before node b even sends its failover claim
 * (so before b's claim can succeed), and b's claim comes within TTL + 1
 * s.  When a resumes, it fences at once, then rejoins, and never takes
 * x back.
 */
START_TEST(cluster_sigstop_self_fencing)
{
	struct pnode	*a;
	struct tnode	*b;
	const char	*line;
	long long	 fence;
	int64_t		 dead_at = 0, t_stop;
	ev_io		 pw;
	int		 kpid, pidfd;

	a = pnode_start("a", TTL_MS);
	pnode_expect(a, "state up", W_MS);
	b = node_start(1, "b", TTL_MS);
	wait_up(b);
	pnode_send(a, "claim x 1");
	line = pnode_expect(a, "claimed x ", W_MS);
	ck_assert_int_eq(sscanf(line, "claimed x %lld %d", &fence, &kpid), 2);
	wait_holder(b, "x", "a", "running");
	ck_assert_int_ge(pidfd = (int)syscall(SYS_pidfd_open, kpid, 0), 0);
	ev_io_init(&pw, pidfd_cb, pidfd, EV_READ);
	pw.data = &dead_at;
	ev_io_start(loop, &pw);
	t_stop = cluster_clock_ms();
	ck_assert_int_eq(kill(a->pid, SIGSTOP), 0);
	ck_assert(etcdrun_loop_until(loop, fo_one, b, TTL_MS + 3000));
	ck_assert_str_eq(b->fo[0], "x");
	ck_assert_int_gt(b->fo_fence[0], fence);
	ck_assert_msg(dead_at != 0 && dead_at < b->fo_sent[0],
	    "x's process died at %lld, b's claim left at %lld (stop at %lld)",
	    (long long)dead_at, (long long)b->fo_sent[0], (long long)t_stop);
	ck_assert_msg(b->fo_sent[0] - t_stop <= TTL_MS + 1000,
	    "failover claim %lld ms after the stop",
	    (long long)(b->fo_sent[0] - t_stop));
	fprintf(stderr, "cluster_sigstop_self_fencing: x killed %lld ms "
	    "after SIGSTOP, claimed elsewhere %lld ms after it\n",
	    (long long)(dead_at - t_stop), (long long)(b->fo_sent[0] - t_stop));
	ck_assert_int_eq(kill(a->pid, SIGCONT), 0);
	pnode_expect(a, "fence ", 2000);
	pnode_expect(a, "state up", 3 * W_MS);
	wait_holder(b, "x", "b", "running");
	ck_assert(cluster_holds(b->cl, "x", NULL));
	ck_assert_int_eq(b->nlost, 0);
	pnode_kill(a);
	close(pidfd);
}
END_TEST

static bool
orphan_gone(void *arg)
{
	struct tnode	*a = arg;
	json_t		*d = etcdrun_dump(run, "/gtd/test/children/");
	bool		 gone = json_object_size(d) == 0 &&
			    cluster_lookup(a->cl, "orphan") == NULL;

	json_decref(d);
	return (gone);
}

/*
 * A key under a node's own lease that no claim of it knows (a claim
 * whose answer was lost succeeded after all) is released by the node,
 * or the name would stay taken while the node lives.
 */
START_TEST(cluster_orphan_claim_released)
{
	struct tnode		*a;
	struct cluster_status	 st;
	char			*key, *val, body[1024];

	a = node_start(0, "a", TTL_MS);
	wait_up(a);
	cluster_status(a->cl, &st);
	ck_assert_int_ne(st.lease, 0);
	key = etcd_b64_encode("/gtd/test/children/orphan", 25);
	val = etcd_b64_encode("{\"node\":\"a\",\"pid\":null,\"state\":"
	    "\"starting\",\"failover\":false,\"spec\":\"{}\"}", 71);
	snprintf(body, sizeof body, "{\"key\":\"%s\",\"value\":\"%s\","
	    "\"lease\":\"%lld\"}", key, val, (long long)st.lease);
	json_decref(etcdrun_post(run, "/v3/kv/put", body));
	free(key);
	free(val);
	ck_assert_msg(etcdrun_loop_until(loop, orphan_gone, a, W_MS),
	    "the orphan claim stays");
}
END_TEST

Suite *
e2e_cluster_suite(void)
{
	Suite	*s = suite_create("cluster");
	TCase	*tc = tcase_create("cluster");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, cluster_join_and_conflict);
	tcase_add_test(tc, cluster_claim_race);
	tcase_add_test(tc, cluster_update_release);
	tcase_add_test(tc, cluster_failover_dead_node);
	tcase_add_test(tc, cluster_failover_clean_shutdown);
	tcase_add_test(tc, cluster_leader_killed);
	tcase_add_test(tc, cluster_etcd_down_and_back);
	tcase_add_test(tc, cluster_compaction_resync);
	tcase_add_test(tc, cluster_sigstop_self_fencing);
	tcase_add_test(tc, cluster_member_stopped);
	tcase_add_test(tc, cluster_orphan_claim_released);
	suite_add_tcase(s, tc);
	return (s);
}
