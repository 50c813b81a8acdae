/* SPDX-License-Identifier: MIT */
/*
 * cluster: membership, claims, the mirror, failover and self-fencing of
 * one gtd node on etcd (contracts and the key layout in cluster.h).
 *
 * A decision module: it logs each state change once, never blocks and
 * calls its owner only through struct cluster_observer and the claim
 * callbacks, always from the loop.  Entry points from the loop (timers,
 * etcd callbacks) are bracketed by cluster_enter/cluster_leave, so the
 * owner may free the cluster inside any callback: the memory goes when
 * the outermost entry point returns, and every step after a callback
 * checks cl->dying.
 */
#include "config.h"

#include <sys/queue.h>

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ev.h>
#include <jansson.h>

#include "gt/cluster.h"
#include "gt/etcd.h"
#include "gt/log.h"
#include "gt/xmalloc.h"

#define CLUSTER_RETRY_MS	500	/* a failed write, a failover try */
#define CLUSTER_JOIN_MAX_MS	2000	/* longest pause between joins */
#define CLUSTER_CHECK_MS	250	/* the fence timer re-reads the clock */
#define CLUSTER_SYNC_PAGE	1000	/* keys per range page */
#define CLUSTER_CLAIM_TRIES	3	/* sends of one claim (lease changes) */

/* An intrusive string-keyed hash table (the item is the first member). */
struct chash_item {
	struct chash_item	*next;
	const char		*key;
};

struct chash {
	struct chash_item	**b;
	size_t			  nb;
	size_t			  n;
};

/* A mirror row: a claimed child of any node. */
struct cluster_row {
	struct chash_item	 h;
	struct cluster_entry	 e;	/* points into the strings below */
	char			*name, *node, *state, *spec;
	bool			 seen;	/* in the range being read */
};

/* A live node of the zone. */
struct cluster_node {
	struct chash_item	 h;
	char			*name;
	int64_t			 lease;
	int			 ttl_ms;
	pid_t			 pid;
	bool			 seen;
};

TAILQ_HEAD(cluster_ops, cluster_op);

enum held_state { HELD_CLAIMING, HELD_HELD, HELD_RELEASING };

/* A name this node claims, holds or releases. */
struct cluster_held {
	struct chash_item	 h;
	struct cluster		*cl;	/* weak */
	char			*name;
	enum held_state		 st;
	int64_t			 fence;	/* the key's create revision */
	int64_t			 lease;
	json_t			*value;	/* owned: the key's value */
	bool			 dirty;	/* value not written yet */
	struct etcd_req		*req;	/* a write in flight */
	struct cluster_op	*claimer; /* HELD_CLAIMING: the claim (weak) */
	ev_timer		 retry;
	struct cluster_ops	 parked; /* claims waiting for this one */
};

struct cluster_op {
	struct cluster		*cl;	/* weak */
	char			*name;
	json_t			*value;	/* owned: what the claim writes */
	cluster_claim_cb	*cb;
	void			*arg;
	struct etcd_req		*req;
	ev_timer		 t;	/* runs it from the loop */
	int64_t			 lease;	/* the lease it was sent under */
	int64_t			 sent_at;
	int64_t			 deadline; /* cluster_clock_ms */
	int			 tries;	/* answers the lease changed under */
	bool			 canceled, incb, parked;
	TAILQ_ENTRY(cluster_op)	 entry;	/* cl->ops or a held's parked */
};

/* A dead node's failover child this node may claim. */
struct cluster_fo {
	struct cluster		*cl;	/* weak */
	char			*name, *spec, *from;
	ev_timer		 t;
	struct cluster_op	*op;	/* the claim in flight (weak) */
	LIST_ENTRY(cluster_fo)	 entry;
};

/* A row deleted in the batch being applied (failover candidates). */
struct cluster_gone {
	char			*name, *spec, *node;
	int64_t			 lease;
	struct cluster_gone	*next;
};

struct cluster {
	struct ev_loop			*loop;
	struct etcd			*etcd;		/* owned */
	struct etcd			*lease_etcd;	/* owned: renewals */
	char				*zone, *node;
	char				*prefix;	/* "/gtd/ZONE/" */
	char				*node_key;
	int				 ttl_ms, margin_ms, ka_ms;
	int				 op_ms, step_ms;
	pid_t				 pid;
	const struct cluster_observer	*obs;
	void				*obs_arg;
	enum cluster_state		 state;
	char				*message;	/* last problem */
	bool				 warned;	/* logged it */
	int64_t				 lease, old_lease;
	int64_t				 lease_sent, ka_sent, fence_at, kill_at;
	int64_t				 last_contact, conflict_since;
	int				 join_ms;	/* join backoff */
	ev_timer			 ka, fence, join, sync, done_t;
	struct etcd_req			*ka_req, *join_req, *sync_req;
	struct etcd_req			*down_req;
	struct chash			 rows, nodes, held;
	int64_t				 revision, sync_rev;
	bool				 synced;
	struct etcd_watch		*watch;
	struct cluster_gone		*gone;
	struct cluster_ops		 ops;
	LIST_HEAD(, cluster_fo)		 fos;
	struct cluster_node_info	*info;
	uint64_t			 resyncs, fences, failovers;
	int				 depth;
	bool				 dying;
	void				(*done)(void *);
	void				*done_arg;
};

static void	cluster_enter(struct cluster *);
static bool	cluster_leave(struct cluster *);
static void	cluster_destroy(struct cluster *);
static void	cluster_set_state(struct cluster *, enum cluster_state,
		    const char *);
static void	cluster_note(struct cluster *, const char *);
static void	cluster_join_cb(struct ev_loop *, ev_timer *, int);
static void	cluster_join_step(struct cluster *);
static void	cluster_join_retry(struct cluster *, const char *);
static void	cluster_ka_cb(struct ev_loop *, ev_timer *, int);
static void	cluster_fence_cb(struct ev_loop *, ev_timer *, int);
static void	cluster_extended(struct cluster *, int64_t, int64_t);
static void	cluster_fence(struct cluster *, const char *);
static void	cluster_sync_cb(struct ev_loop *, ev_timer *, int);
static void	cluster_sync_page(struct cluster *, const char *, size_t);
static void	cluster_apply_put(struct cluster *, const struct etcd_kv *);
static void	cluster_apply_del(struct cluster *, const char *, size_t,
		    int64_t);
static void	cluster_row_del(struct cluster *, const char *, int64_t);
static void	cluster_check_gone(struct cluster *);
static void	cluster_op_run_cb(struct ev_loop *, ev_timer *, int);
static void	cluster_op_run(struct cluster_op *);
static void	cluster_op_later(struct cluster_op *);
static void	cluster_op_deliver(struct cluster_op *,
		    const struct cluster_claim_result *);
static void	cluster_op_unavailable(struct cluster_op *, const char *);
static bool	cluster_op_retry(struct cluster_op *);
static void	cluster_op_free(struct cluster_op *);
static void	cluster_held_flush(struct cluster_held *);
static struct cluster_held *cluster_held_new(struct cluster *, const char *);
static void	cluster_held_drop(struct cluster_held *);
static void	cluster_fo_cb(struct ev_loop *, ev_timer *, int);
static void	cluster_fo_free(struct cluster_fo *);

/* The hash table. */

static size_t
chash_index(const struct chash *h, const char *key)
{
	uint64_t	v = 0xcbf29ce484222325ULL;	/* FNV-1a */

	while (*key != '\0')
		v = (v ^ (unsigned char)*key++) * 0x100000001b3ULL;
	return ((size_t)(v & (h->nb - 1)));
}

static struct chash_item *
chash_find(const struct chash *h, const char *key)
{
	struct chash_item	*it;

	if (h->nb == 0)
		return (NULL);
	for (it = h->b[chash_index(h, key)]; it != NULL; it = it->next)
		if (strcmp(it->key, key) == 0)
			return (it);
	return (NULL);
}

static void
chash_add(struct chash *h, struct chash_item *it)
{
	struct chash_item	**old = h->b, *x, *next;
	size_t			  i, onb = h->nb;

	if (h->n >= h->nb) {
		h->nb = onb == 0 ? 64 : onb * 2;
		h->b = xcalloc(h->nb, sizeof *h->b);
		for (i = 0; i < onb; i++)
			for (x = old[i]; x != NULL; x = next) {
				next = x->next;
				x->next = h->b[chash_index(h, x->key)];
				h->b[chash_index(h, x->key)] = x;
			}
		free(old);
	}
	i = chash_index(h, it->key);
	it->next = h->b[i];
	h->b[i] = it;
	h->n++;
}

static void
chash_del(struct chash *h, struct chash_item *it)
{
	struct chash_item	**p = &h->b[chash_index(h, it->key)];

	while (*p != it)
		p = &(*p)->next;
	*p = it->next;
	h->n--;
}

/* Every item, in a freshly allocated array (safe against deletion). */
static struct chash_item **
chash_items(const struct chash *h, size_t *n)
{
	struct chash_item	**v, *it;
	size_t			  i, k = 0;

	v = xcalloc(h->n + 1, sizeof *v);
	for (i = 0; i < h->nb; i++)
		for (it = h->b[i]; it != NULL; it = it->next)
			v[k++] = it;
	*n = k;
	return (v);
}

/* Time. */

int64_t
cluster_clock_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void
cluster_timer(struct cluster *cl, ev_timer *t, int64_t ms)
{
	ev_timer_stop(cl->loop, t);
	ev_timer_set(t, ms > 0 ? ms / 1000. : 0., 0.);
	ev_timer_start(cl->loop, t);
}

const char *
cluster_state_name(enum cluster_state st)
{
	static const char *const names[] = {
		[CLUSTER_JOINING] = "joining",
		[CLUSTER_UP] = "up",
		[CLUSTER_DEGRADED] = "degraded",
		[CLUSTER_FENCED] = "fenced",
		[CLUSTER_CONFLICT] = "conflict",
		[CLUSTER_STOPPED] = "stopped"
	};

	return ((unsigned)st < sizeof names / sizeof names[0] ?
	    names[st] : "?");
}

/* Life. */

static int
cluster_name_ok(const char *s, size_t max)
{
	size_t	n = strlen(s), i;

	if (n == 0 || n > max)
		return (-1);
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == '/')
			return (-1);
	return (0);
}

static void
cluster_init_timer(struct cluster *cl, ev_timer *t,
    void (*cb)(struct ev_loop *, ev_timer *, int))
{
	ev_init(t, cb);
	t->data = cl;
}

static void
cluster_lease_rotated(const char *failed, void *arg)
{
	struct cluster	*cl = arg;

	etcd_endpoint_failed(cl->etcd, failed);
}

struct cluster *
cluster_new(const struct cluster_opts *o, char **cause)
{
	struct cluster		*cl;
	struct etcd_opts	 eo;
	int			 ttl;

	if (cluster_name_ok(o->zone, CLUSTER_NODE_MAX) == -1 ||
	    cluster_name_ok(o->node, CLUSTER_NODE_MAX) == -1) {
		xasprintf(cause, "cluster: zone and node must be 1 to %d "
		    "bytes without '/' or control characters",
		    CLUSTER_NODE_MAX);
		return (NULL);
	}
	/* Whole seconds (etcd's unit), at least CLUSTER_TTL_MIN_MS. */
	ttl = o->lease_ttl_ms < CLUSTER_TTL_MIN_MS ? CLUSTER_TTL_MIN_MS :
	    o->lease_ttl_ms > 3600000 ? 3600000 : o->lease_ttl_ms;
	ttl = (ttl + 999) / 1000 * 1000;
	memset(&eo, 0, sizeof eo);
	eo.loop = o->loop;
	eo.endpoints = o->endpoints;
	eo.nendpoints = o->nendpoints;
	/* An attempt is short enough to try another member in time. */
	eo.attempt_ms = ttl / 4 > 1000 ? 1000 : ttl / 4;
	cl = xcalloc(1, sizeof *cl);
	/*
	 * Renewals get a client of their own: they never queue behind
	 * claims and reads for one of libcurl's connections.  A member the
	 * renewals leave is left by the other client (and its watch) too.
	 */
	if ((cl->etcd = etcd_new(&eo, cause)) == NULL) {
		free(cl);
		return (NULL);
	}
	eo.rotated = cluster_lease_rotated;
	eo.rotated_arg = cl;
	if ((cl->lease_etcd = etcd_new(&eo, cause)) == NULL) {
		etcd_free(cl->etcd);
		free(cl);
		return (NULL);
	}
	cl->loop = o->loop;
	cl->zone = xstrdup(o->zone);
	cl->node = xstrdup(o->node);
	xasprintf(&cl->prefix, "/gtd/%s/", o->zone);
	xasprintf(&cl->node_key, "%snodes/%s", cl->prefix, o->node);
	cl->ttl_ms = ttl;
	cl->ka_ms = ttl / 4;
	cl->margin_ms = ttl / 4 > 500 ? ttl / 4 : 500;
	cl->op_ms = o->op_timeout_ms > 0 ? o->op_timeout_ms : CLUSTER_OP_MS;
	cl->step_ms = o->failover_step_ms > 0 ? o->failover_step_ms :
	    CLUSTER_FAILOVER_STEP_MS;
	cl->pid = o->pid;
	cl->obs = o->obs;
	cl->obs_arg = o->obs_arg;
	cl->state = CLUSTER_JOINING;
	cl->last_contact = -1;
	TAILQ_INIT(&cl->ops);
	LIST_INIT(&cl->fos);
	cluster_init_timer(cl, &cl->ka, cluster_ka_cb);
	cluster_init_timer(cl, &cl->fence, cluster_fence_cb);
	cluster_init_timer(cl, &cl->join, cluster_join_cb);
	cluster_init_timer(cl, &cl->sync, cluster_sync_cb);
	cluster_init_timer(cl, &cl->done_t, NULL);
	cluster_timer(cl, &cl->join, 0);
	cluster_timer(cl, &cl->sync, 0);
	return (cl);
}

static void
cluster_enter(struct cluster *cl)
{
	cl->depth++;
}

/* False when the cluster is gone (the caller returns at once). */
static bool
cluster_leave(struct cluster *cl)
{
	if (--cl->depth == 0 && cl->dying) {
		cluster_destroy(cl);
		return (false);
	}
	return (!cl->dying);
}

static void
cluster_row_free(struct cluster_row *r)
{
	free(r->name);
	free(r->node);
	free(r->state);
	free(r->spec);
	free(r);
}

static void
cluster_node_free(struct cluster_node *n)
{
	free(n->name);
	free(n);
}

/*
 * Everything in flight stops: failover candidates, held names (their
 * claims go back to cl->ops, unsent), the watch, requests, timers.
 */
static void
cluster_drop_all(struct cluster *cl)
{
	struct chash_item	**v;
	struct cluster_op	 *op;
	struct cluster_fo	 *fo;
	size_t			  i, n;

	while ((fo = LIST_FIRST(&cl->fos)) != NULL)
		cluster_fo_free(fo);
	v = chash_items(&cl->held, &n);
	for (i = 0; i < n; i++)
		cluster_held_drop((struct cluster_held *)v[i]);	/* unparks */
	free(v);
	TAILQ_FOREACH(op, &cl->ops, entry) {
		etcd_req_cancel(op->req);
		op->req = NULL;
	}
	etcd_watch_free(cl->watch);
	cl->watch = NULL;
	etcd_req_cancel(cl->ka_req);
	etcd_req_cancel(cl->join_req);
	etcd_req_cancel(cl->sync_req);
	etcd_req_cancel(cl->down_req);
	cl->ka_req = cl->join_req = cl->sync_req = cl->down_req = NULL;
	ev_timer_stop(cl->loop, &cl->ka);
	ev_timer_stop(cl->loop, &cl->fence);
	ev_timer_stop(cl->loop, &cl->join);
	ev_timer_stop(cl->loop, &cl->sync);
	ev_timer_stop(cl->loop, &cl->done_t);
}

void
cluster_free(struct cluster *cl)
{
	struct cluster_op	*op;

	if (cl == NULL || cl->dying)
		return;
	cl->dying = true;
	cluster_drop_all(cl);
	while ((op = TAILQ_FIRST(&cl->ops)) != NULL)
		cluster_op_free(op);
	if (cl->depth == 0)
		cluster_destroy(cl);
}

static void
cluster_destroy(struct cluster *cl)
{
	struct chash_item	**v;
	struct cluster_gone	 *g;
	size_t			  i, n;

	etcd_free(cl->etcd);
	etcd_free(cl->lease_etcd);
	v = chash_items(&cl->rows, &n);
	for (i = 0; i < n; i++)
		cluster_row_free((struct cluster_row *)v[i]);
	free(v);
	v = chash_items(&cl->nodes, &n);
	for (i = 0; i < n; i++)
		cluster_node_free((struct cluster_node *)v[i]);
	free(v);
	while ((g = cl->gone) != NULL) {
		cl->gone = g->next;
		free(g->name);
		free(g->spec);
		free(g->node);
		free(g);
	}
	free(cl->rows.b);
	free(cl->nodes.b);
	free(cl->held.b);
	free(cl->info);
	free(cl->message);
	free(cl->zone);
	free(cl->node);
	free(cl->prefix);
	free(cl->node_key);
	free(cl);
}

static void
cluster_down_cb(const struct etcd_result *r, void *arg)
{
	struct cluster	*cl = arg;

	cl->down_req = NULL;
	cluster_enter(cl);
	if (r->status != ETCD_OK && r->status != ETCD_NOT_FOUND)
		log_warnx("cluster: revoking the lease on shutdown: %s",
		    r->message);
	if (cl->done != NULL)
		cl->done(cl->done_arg);
	cluster_leave(cl);
}

static void
cluster_done_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct cluster	*cl = w->data;

	cluster_enter(cl);
	if (cl->done != NULL)
		cl->done(cl->done_arg);
	cluster_leave(cl);
}

void
cluster_shutdown(struct cluster *cl, void (*done)(void *), void *arg)
{
	struct cluster_op	*op;
	int64_t			 lease = cl->lease;

	cl->lease = 0;
	cluster_set_state(cl, CLUSTER_STOPPED, "shutting down");
	cluster_drop_all(cl);
	/* Every claim left answers "unavailable", from the loop. */
	TAILQ_FOREACH(op, &cl->ops, entry) {
		op->deadline = 0;
		cluster_op_later(op);
	}
	cl->done = done;
	cl->done_arg = arg;
	if (lease != 0)
		cl->down_req = etcd_lease_revoke(cl->lease_etcd, lease,
		    cl->op_ms,
		    cluster_down_cb, cl);
	else {
		ev_set_cb(&cl->done_t, cluster_done_cb);
		cluster_timer(cl, &cl->done_t, 0);
	}
}

/* State. */

static void
cluster_note(struct cluster *cl, const char *why)
{
	if (why == NULL)
		return;
	free(cl->message);
	cl->message = xstrdup(why);
}

static void
cluster_set_state(struct cluster *cl, enum cluster_state st, const char *why)
{
	enum cluster_state	old = cl->state;

	cluster_note(cl, why);
	if (st == old)
		return;
	cl->state = st;
	switch (st) {
	case CLUSTER_UP:
		cl->warned = false;
		log_info("cluster: node %s is up in zone %s (lease %" PRIx64
		    ", ttl %d ms)", cl->node, cl->zone, (uint64_t)cl->lease,
		    cl->ttl_ms);
		break;
	case CLUSTER_DEGRADED:
		log_warnx("cluster: cannot renew the lease: %s; cluster "
		    "children stop in %" PRId64 " ms unless etcd answers", why,
		    cl->fence_at - cluster_clock_ms());
		break;
	case CLUSTER_FENCED:
		log_warnx("cluster: %s: stopping every cluster child "
		    "(self-fencing)", why);
		break;
	case CLUSTER_CONFLICT:
		log_warnx("cluster: %s: no cluster service", why);
		break;
	case CLUSTER_STOPPED:
		log_info("cluster: node %s leaves zone %s", cl->node, cl->zone);
		break;
	case CLUSTER_JOINING:
		break;
	}
	if (cl->obs->state != NULL)
		cl->obs->state(st, why, cl->obs_arg);
}

bool
cluster_available(const struct cluster *cl)
{
	return ((cl->state == CLUSTER_UP || cl->state == CLUSTER_DEGRADED) &&
	    cl->lease != 0);
}

bool
cluster_stale(const struct cluster *cl)
{
	return (cl->state != CLUSTER_UP || !cl->synced || cl->watch == NULL ||
	    !etcd_watch_up(cl->watch));
}

/* Joining: revoke a fenced lease, grant one, claim the node key. */

static void
cluster_join_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct cluster	*cl = w->data;

	cluster_enter(cl);
	cluster_join_step(cl);
	cluster_leave(cl);
}

static void
cluster_join_retry(struct cluster *cl, const char *why)
{
	cluster_note(cl, why);
	if (!cl->warned && cl->state != CLUSTER_CONFLICT) {
		log_warnx("cluster: cannot join zone %s: %s; cluster ops "
		    "answer unavailable until it works", cl->zone, why);
		cl->warned = true;
	}
	cl->join_ms = cl->join_ms == 0 ? CLUSTER_RETRY_MS :
	    cl->join_ms * 2 > CLUSTER_JOIN_MAX_MS ? CLUSTER_JOIN_MAX_MS :
	    cl->join_ms * 2;
	cluster_timer(cl, &cl->join, cl->join_ms);
}

static void
cluster_revoked_cb(const struct etcd_result *r, void *arg)
{
	struct cluster	*cl = arg;

	cl->join_req = NULL;
	cluster_enter(cl);
	if (r->status == ETCD_OK || r->status == ETCD_NOT_FOUND) {
		cl->old_lease = 0;
		cluster_join_step(cl);
	} else
		cluster_join_retry(cl, r->message);
	cluster_leave(cl);
}

static void
cluster_granted_cb(const struct etcd_result *r, void *arg)
{
	struct cluster	*cl = arg;
	int64_t		 first;

	cl->join_req = NULL;
	cluster_enter(cl);
	if (r->status == ETCD_OK && r->ttl > 0 && r->id != 0) {
		cl->lease = r->id;
		cluster_extended(cl, cl->ka_sent, r->ttl);
		/*
		 * The deadline runs from the request: a grant that took long
		 * (etcd electing a leader) leaves less than a period before
		 * it, so the first renewal goes at half of what is left.
		 */
		first = (cl->fence_at - cluster_clock_ms()) / 2;
		if (first > cl->ka_ms)
			first = cl->ka_ms;
		if (first < 0)
			first = 0;
		ev_timer_stop(cl->loop, &cl->ka);
		ev_timer_set(&cl->ka, first / 1000., cl->ka_ms / 1000.);
		ev_timer_start(cl->loop, &cl->ka);
		if (!cl->dying)
			cluster_join_step(cl);
	} else
		cluster_join_retry(cl, r->status == ETCD_OK ?
		    "etcd granted no lease" : r->message);
	cluster_leave(cl);
}

static void
cluster_node_key_cb(const struct etcd_result *r, void *arg)
{
	struct cluster	*cl = arg;
	int64_t		 now = cluster_clock_ms();
	char		*why;

	cl->join_req = NULL;
	cluster_enter(cl);
	if (r->status != ETCD_OK)
		cluster_join_retry(cl, r->message);
	else if (r->succeeded ||
	    (r->nkvs > 0 && r->kvs[0].lease == cl->lease)) {
		cl->conflict_since = 0;
		cl->join_ms = 0;
		cluster_set_state(cl, CLUSTER_UP, NULL);
	} else {
		/* A crashed node's key goes within a TTL, a live one's not. */
		if (cl->conflict_since == 0)
			cl->conflict_since = now;
		xasprintf(&why, "node name %s is in use in zone %s (lease %"
		    PRIx64 ")", cl->node, cl->zone, r->nkvs > 0 ?
		    (uint64_t)r->kvs[0].lease : 0);
		if (now - cl->conflict_since > cl->ttl_ms + 1000) {
			ev_timer_stop(cl->loop, &cl->ka);
			ev_timer_stop(cl->loop, &cl->fence);
			cluster_set_state(cl, CLUSTER_CONFLICT, why);
		} else {
			cluster_note(cl, why);
			cluster_timer(cl, &cl->join, CLUSTER_RETRY_MS);
		}
		free(why);
	}
	cluster_leave(cl);
}

static void
cluster_join_step(struct cluster *cl)
{
	struct etcd_txn	 t;
	json_t		*v;
	char		*value;

	if (cl->join_req != NULL || cl->state == CLUSTER_CONFLICT ||
	    cl->state == CLUSTER_STOPPED)
		return;
	if (cl->old_lease != 0) {
		cl->join_req = etcd_lease_revoke(cl->lease_etcd, cl->old_lease,
		    cl->op_ms, cluster_revoked_cb, cl);
		return;
	}
	if (cl->lease == 0) {
		cl->ka_sent = cluster_clock_ms();
		cl->join_req = etcd_lease_grant(cl->lease_etcd,
		    cl->ttl_ms / 1000,
		    cl->op_ms, cluster_granted_cb, cl);
		return;
	}
	v = json_pack("{s:s, s:i, s:I, s:I}", "node", cl->node,
	    "lease_ttl_ms", cl->ttl_ms, "pid", (json_int_t)cl->pid,
	    "started_at", (json_int_t)time(NULL) * 1000);
	value = json_dumps(v, JSON_COMPACT);
	json_decref(v);
	memset(&t, 0, sizeof t);
	t.key = cl->node_key;
	t.keylen = strlen(cl->node_key);
	t.op = ETCD_TXN_PUT;
	t.value = value;
	t.valuelen = strlen(value);
	t.lease = cl->lease;
	t.timeout_ms = cl->op_ms;
	cl->join_req = etcd_txn(cl->etcd, &t, cluster_node_key_cb, cl);
	free(value);
}

/* The lease: renewals, the fencing deadline, fencing. */

static void
cluster_extended(struct cluster *cl, int64_t sent, int64_t ttl_s)
{
	int64_t	ttl = ttl_s * 1000 < cl->ttl_ms ? ttl_s * 1000 : cl->ttl_ms;
	int64_t	now = cluster_clock_ms();

	/* etcd cannot expire it before sent + ttl: it renewed after sent. */
	cl->lease_sent = sent;
	cl->fence_at = sent + ttl - cl->margin_ms;
	cl->kill_at = sent + ttl - cl->margin_ms / 2;
	cl->last_contact = now;
	cluster_timer(cl, &cl->fence, cl->fence_at - now < CLUSTER_CHECK_MS ?
	    cl->fence_at - now : CLUSTER_CHECK_MS);
	if (cl->obs->renewed != NULL)
		cl->obs->renewed(cl->kill_at, cl->obs_arg);
}

static void
cluster_ka_done_cb(const struct etcd_result *r, void *arg)
{
	struct cluster	*cl = arg;

	cl->ka_req = NULL;
	cluster_enter(cl);
	if (r->status == ETCD_OK && r->ttl > 0) {
		cluster_extended(cl, cl->ka_sent, r->ttl);
		if (!cl->dying && cl->state == CLUSTER_DEGRADED)
			cluster_set_state(cl, CLUSTER_UP, "etcd answers again");
	} else if (r->status == ETCD_OK || r->status == ETCD_NOT_FOUND)
		cluster_fence(cl, "the lease expired in etcd");
	else if (cl->state == CLUSTER_UP)
		cluster_set_state(cl, CLUSTER_DEGRADED, r->message);
	else
		cluster_note(cl, r->message);
	cluster_leave(cl);
}

static void
cluster_ka_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct cluster	*cl = w->data;

	int64_t		 left;
	char		*why;

	if (cl->lease == 0)
		return;
	if (cl->ka_req != NULL) {
		if (cl->state == CLUSTER_UP &&
		    cluster_clock_ms() - cl->ka_sent >= cl->ka_ms) {
			cluster_enter(cl);
			xasprintf(&why, "no answer to a renewal for %" PRId64
			    " ms", cluster_clock_ms() - cl->ka_sent);
			cluster_set_state(cl, CLUSTER_DEGRADED, why);
			free(why);
			cluster_leave(cl);
		}
		return;
	}
	/*
	 * One renewal may try every endpoint until the fencing deadline (a
	 * member waiting for a new leader holds it one attempt long);
	 * the timer sends no other meanwhile.
	 */
	cl->ka_sent = cluster_clock_ms();
	left = cl->fence_at - cl->ka_sent;
	cl->ka_req = etcd_lease_keepalive(cl->lease_etcd, cl->lease,
	    left > cl->ka_ms ? (int)left : cl->ka_ms, cluster_ka_done_cb, cl);
}

static void
cluster_fence_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct cluster	*cl = w->data;
	int64_t		 left = cl->fence_at - cluster_clock_ms();
	char		*why;

	if (cl->lease == 0)
		return;
	if (left > 0) {
		/* The clock is re-read often: a suspend stops the timer. */
		cluster_timer(cl, &cl->fence, left < CLUSTER_CHECK_MS ? left :
		    CLUSTER_CHECK_MS);
		return;
	}
	cluster_enter(cl);
	xasprintf(&why, "the lease was not renewed for %" PRId64 " ms",
	    cluster_clock_ms() - cl->lease_sent);
	cluster_fence(cl, why);
	free(why);
	cluster_leave(cl);
}

/*
 * The lease may be gone: every claim of this node is forgotten, the
 * owner stops the cluster children (must_fence), and the node rejoins
 * with a new lease after revoking the old one.
 */
static void
cluster_fence(struct cluster *cl, const char *why)
{
	struct chash_item	**v;
	size_t			  i, n;
	int64_t			  kill_by;

	if (cl->state == CLUSTER_FENCED || cl->state == CLUSTER_CONFLICT ||
	    cl->state == CLUSTER_STOPPED)
		return;
	kill_by = cl->lease != 0 ? cl->kill_at : cluster_clock_ms();
	cl->fences++;
	etcd_req_cancel(cl->ka_req);
	etcd_req_cancel(cl->join_req);
	cl->ka_req = cl->join_req = NULL;
	ev_timer_stop(cl->loop, &cl->ka);
	ev_timer_stop(cl->loop, &cl->fence);
	v = chash_items(&cl->held, &n);
	for (i = 0; i < n; i++)
		cluster_held_drop((struct cluster_held *)v[i]);	/* unparks */
	free(v);
	if (cl->lease != 0)
		cl->old_lease = cl->lease;
	cl->lease = 0;
	cl->join_ms = 0;
	cluster_timer(cl, &cl->join, 0);
	cluster_set_state(cl, CLUSTER_FENCED, why);
	if (!cl->dying && cl->obs->must_fence != NULL)
		cl->obs->must_fence(kill_by, why, cl->obs_arg);
}

/* The mirror: a paged range at one revision, then a watch after it. */

static void
cluster_sync_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct cluster		*cl = w->data;
	struct chash_item	**v;
	size_t			  i, n;

	cluster_enter(cl);
	etcd_req_cancel(cl->sync_req);
	cl->sync_req = NULL;
	etcd_watch_free(cl->watch);
	cl->watch = NULL;
	cl->synced = false;
	cl->sync_rev = 0;
	v = chash_items(&cl->rows, &n);
	for (i = 0; i < n; i++)
		((struct cluster_row *)v[i])->seen = false;
	free(v);
	v = chash_items(&cl->nodes, &n);
	for (i = 0; i < n; i++)
		((struct cluster_node *)v[i])->seen = false;
	free(v);
	cluster_sync_page(cl, cl->prefix, strlen(cl->prefix));
	cluster_leave(cl);
}

static void cluster_sync_done(struct cluster *);

static void
cluster_range_cb(const struct etcd_result *r, void *arg)
{
	struct cluster	*cl = arg;
	char		*from;
	size_t		 i, len;

	cl->sync_req = NULL;
	cluster_enter(cl);
	if (r->status != ETCD_OK) {
		if (r->status == ETCD_COMPACTED)
			cl->resyncs++;
		cluster_note(cl, r->message);
		cluster_timer(cl, &cl->sync, r->status == ETCD_COMPACTED ? 0 :
		    CLUSTER_RETRY_MS);
		cluster_leave(cl);
		return;
	}
	cl->last_contact = cluster_clock_ms();
	if (cl->sync_rev == 0)
		cl->sync_rev = r->revision;
	for (i = 0; i < r->nkvs && !cl->dying; i++)
		cluster_apply_put(cl, &r->kvs[i]);
	if (!cl->dying && r->more && r->nkvs > 0) {
		/* The next page starts just after the last key. */
		len = r->kvs[r->nkvs - 1].keylen;
		from = xmalloc(len + 1);
		memcpy(from, r->kvs[r->nkvs - 1].key, len);
		from[len] = '\0';
		cluster_sync_page(cl, from, len + 1);
		free(from);
	} else if (!cl->dying)
		cluster_sync_done(cl);
	cluster_leave(cl);
}

static void
cluster_sync_page(struct cluster *cl, const char *from, size_t fromlen)
{
	struct etcd_range	 rg;
	char			*end;
	size_t			 endlen;

	end = etcd_prefix_end(cl->prefix, strlen(cl->prefix), &endlen);
	memset(&rg, 0, sizeof rg);
	rg.key = from;
	rg.keylen = fromlen;
	rg.end = end;
	rg.endlen = endlen;
	rg.revision = cl->sync_rev;
	rg.limit = CLUSTER_SYNC_PAGE;
	rg.timeout_ms = cl->op_ms;
	cl->sync_req = etcd_range(cl->etcd, &rg, cluster_range_cb, cl);
	free(end);
}

static void cluster_watch_events(struct etcd_watch *,
		    const struct etcd_event *, size_t, void *);
static void cluster_watch_compacted(struct etcd_watch *, int64_t, void *);
static void cluster_watch_state(struct etcd_watch *, bool, const char *,
		    void *);

static const struct etcd_watch_ops cluster_watch_ops = {
	.events = cluster_watch_events,
	.compacted = cluster_watch_compacted,
	.state = cluster_watch_state
};

/* The range is read: what was not in it is gone; then watch after it. */
static void
cluster_sync_done(struct cluster *cl)
{
	struct chash_item	**v;
	struct cluster_row	 *row;
	struct cluster_node	 *nd;
	size_t			  i, n;

	v = chash_items(&cl->nodes, &n);
	for (i = 0; i < n; i++) {
		nd = (struct cluster_node *)v[i];
		if (!nd->seen) {
			chash_del(&cl->nodes, &nd->h);
			cluster_node_free(nd);
		}
	}
	free(v);
	v = chash_items(&cl->rows, &n);
	for (i = 0; i < n && !cl->dying; i++) {
		row = (struct cluster_row *)v[i];
		/* A row newer than the range came from our own write. */
		if (!row->seen && row->e.mod_revision <= cl->sync_rev)
			cluster_row_del(cl, row->name, cl->sync_rev);
	}
	free(v);
	if (cl->dying)
		return;
	cl->revision = cl->sync_rev;
	cl->synced = true;
	cl->watch = etcd_watch_new(cl->etcd, cl->prefix, strlen(cl->prefix),
	    true, cl->sync_rev + 1, &cluster_watch_ops, cl);
	cluster_check_gone(cl);
}

static void
cluster_watch_events(struct etcd_watch *w, const struct etcd_event *ev,
    size_t n, void *arg)
{
	struct cluster	*cl = arg;
	size_t		 i;

	cluster_enter(cl);
	cl->last_contact = cluster_clock_ms();
	for (i = 0; i < n && !cl->dying; i++) {
		if (ev[i].deleted)
			cluster_apply_del(cl, ev[i].kv->key, ev[i].kv->keylen,
			    ev[i].kv->mod_revision);
		else
			cluster_apply_put(cl, ev[i].kv);
	}
	if (!cl->dying) {
		cl->revision = etcd_watch_next(w) - 1;
		cluster_check_gone(cl);
	}
	cluster_leave(cl);
}

static void
cluster_watch_compacted(struct etcd_watch *w, int64_t rev, void *arg)
{
	struct cluster	*cl = arg;

	log_info("cluster: history compacted at revision %" PRId64
	    ": reading the registry again", rev);
	cl->resyncs++;
	cluster_timer(cl, &cl->sync, 0);
}

static void
cluster_watch_state(struct etcd_watch *w, bool up, const char *why, void *arg)
{
	struct cluster	*cl = arg;

	if (!up)
		log_info("cluster: %s: watch interrupted (%s): resuming at "
		    "revision %" PRId64, cl->node, why, etcd_watch_next(w));
}

/* Applying keys to the mirror. */

/* The child name or node name of a key, or NULL; *kind 'c' or 'n'. */
static const char *
cluster_key_name(struct cluster *cl, const char *key, size_t keylen,
    int *kind)
{
	size_t	plen = strlen(cl->prefix);

	if (keylen != strlen(key) || strncmp(key, cl->prefix, plen) != 0)
		return (NULL);
	key += plen;
	if (strncmp(key, "children/", 9) == 0 && strlen(key + 9) > 0 &&
	    strlen(key + 9) <= CLUSTER_NAME_MAX) {
		*kind = 'c';
		return (key + 9);
	}
	if (strncmp(key, "nodes/", 6) == 0 &&
	    cluster_name_ok(key + 6, CLUSTER_NODE_MAX) == 0) {
		*kind = 'n';
		return (key + 6);
	}
	return (NULL);
}

static void
cluster_put_node(struct cluster *cl, const char *name, const struct etcd_kv *kv)
{
	struct cluster_node	*nd;
	json_t			*v;
	json_int_t		 ttl = 0, pid = 0;

	v = json_loadb(kv->value, kv->valuelen, 0, NULL);
	/* (void): a value without these fields leaves them 0 */
	(void)json_unpack(v, "{s?I, s?I}", "lease_ttl_ms", &ttl, "pid", &pid);
	json_decref(v);
	if ((nd = (struct cluster_node *)chash_find(&cl->nodes, name)) ==
	    NULL) {
		nd = xcalloc(1, sizeof *nd);
		nd->name = xstrdup(name);
		nd->h.key = nd->name;
		chash_add(&cl->nodes, &nd->h);
	}
	nd->lease = kv->lease;
	nd->ttl_ms = ttl > 0 && ttl < INT32_MAX ? (int)ttl : 0;
	nd->pid = pid > 0 && pid < INT32_MAX ? (pid_t)pid : 0;
	nd->seen = true;
}

/* A row's fields from a child key's value; -1 if it is not ours to read. */
static int
cluster_row_parse(const struct etcd_kv *kv, char **node, json_int_t *pid,
    char **state, char **spec, bool *failover)
{
	json_t		*v, *sp = NULL, *jp = NULL;
	const char	*n, *st = "unknown";
	int		 fo = 0;

	if ((v = json_loadb(kv->value, kv->valuelen, 0, NULL)) == NULL ||
	    json_unpack(v, "{s:s, s?o, s?s, s?b, s?o}", "node", &n, "pid", &jp,
	    "state", &st, "failover", &fo, "spec", &sp) == -1 ||
	    cluster_name_ok(n, CLUSTER_NODE_MAX) == -1) {
		json_decref(v);
		return (-1);
	}
	*node = xstrdup(n);
	*state = xstrdup(st);
	*pid = json_is_integer(jp) ? json_integer_value(jp) : -1;
	*spec = json_is_object(sp) ? json_dumps(sp, JSON_COMPACT) :
	    xstrdup("{}");
	*failover = fo != 0;
	json_decref(v);
	return (0);
}

/*
 * A row under this node's lease that no claim of it knows: a claim whose
 * answer was lost (a timeout, a member that died) succeeded after all,
 * and the watch may have shown it before the claim gave up.  Nobody runs
 * it here: give it up, or the name would stay taken while this node
 * lives.
 */
static void
cluster_orphan_check(struct cluster *cl, struct cluster_row *row)
{
	struct cluster_held	*h;

	if (cl->lease == 0 || row->e.lease != cl->lease ||
	    chash_find(&cl->held, row->name) != NULL)
		return;
	log_info("cluster: %s: a claim whose answer was lost took it; "
	    "releasing it", row->name);
	h = cluster_held_new(cl, row->name);
	h->st = HELD_RELEASING;
	h->fence = row->e.revision;
	h->lease = row->e.lease;
	h->dirty = true;
	cluster_held_flush(h);
}

static void
cluster_apply_put(struct cluster *cl, const struct etcd_kv *kv)
{
	struct cluster_row	*row;
	struct cluster_held	*h;
	struct cluster_fo	*fo;
	const char		*name;
	char			*node, *state, *spec;
	json_int_t		 pid;
	bool			 failover;
	int			 kind;

	if ((name = cluster_key_name(cl, kv->key, kv->keylen, &kind)) == NULL)
		return;
	if (kind == 'n') {
		cluster_put_node(cl, name, kv);
		return;
	}
	row = (struct cluster_row *)chash_find(&cl->rows, name);
	if (row != NULL) {
		row->seen = true;
		if (row->e.mod_revision >= kv->mod_revision)
			return;			/* we know this or newer */
	}
	if (cluster_row_parse(kv, &node, &pid, &state, &spec, &failover) == -1)
		return;				/* not gtd's: ignored */
	if (row == NULL) {
		row = xcalloc(1, sizeof *row);
		row->name = xstrdup(name);
		row->h.key = row->name;
		chash_add(&cl->rows, &row->h);
	} else {
		free(row->node);
		free(row->state);
		free(row->spec);
	}
	row->node = node;
	row->state = state;
	row->spec = spec;
	row->seen = true;
	row->e = (struct cluster_entry){ .name = row->name, .node = node,
	    .pid = pid > 0 && pid < INT32_MAX ? (pid_t)pid : -1,
	    .state = state, .spec = spec, .failover = failover,
	    .revision = kv->create_revision, .mod_revision = kv->mod_revision,
	    .lease = kv->lease };
	/* Claimed again: no failover of it is needed any more. */
	LIST_FOREACH(fo, &cl->fos, entry)
		if (strcmp(fo->name, name) == 0 && fo->op == NULL) {
			cluster_fo_free(fo);
			break;
		}
	h = (struct cluster_held *)chash_find(&cl->held, name);
	if (h != NULL && h->st == HELD_HELD &&
	    h->fence != kv->create_revision) {
		cluster_held_drop(h);		/* someone else's key now */
		if (cl->obs->lost != NULL)
			cl->obs->lost(row->name, cl->obs_arg);
	}
	if (h == NULL)
		cluster_orphan_check(cl, row);
	if (!cl->dying && cl->obs->changed != NULL)
		cl->obs->changed(row->name, &row->e, cl->obs_arg);
}

static void
cluster_apply_del(struct cluster *cl, const char *key, size_t keylen,
    int64_t rev)
{
	struct cluster_node	*nd;
	const char		*name;
	int			 kind;

	if ((name = cluster_key_name(cl, key, keylen, &kind)) == NULL)
		return;
	if (kind == 'c') {
		cluster_row_del(cl, name, rev);
		return;
	}
	if ((nd = (struct cluster_node *)chash_find(&cl->nodes, name)) !=
	    NULL) {
		chash_del(&cl->nodes, &nd->h);
		cluster_node_free(nd);
	}
}

/* Row name is gone as of revision rev (unless it is newer). */
static void
cluster_row_del(struct cluster *cl, const char *name, int64_t rev)
{
	struct cluster_row	*row;
	struct cluster_held	*h;
	struct cluster_gone	*g;

	if ((row = (struct cluster_row *)chash_find(&cl->rows, name)) == NULL ||
	    row->e.mod_revision > rev)
		return;
	chash_del(&cl->rows, &row->h);
	if (row->e.failover) {
		g = xcalloc(1, sizeof *g);
		g->name = xstrdup(row->name);
		g->spec = xstrdup(row->spec);
		g->node = xstrdup(row->node);
		g->lease = row->e.lease;
		g->next = cl->gone;
		cl->gone = g;
	}
	h = (struct cluster_held *)chash_find(&cl->held, row->name);
	if (h != NULL && h->st == HELD_HELD && h->fence == row->e.revision) {
		cluster_held_drop(h);		/* deleted behind our back */
		if (cl->obs->lost != NULL)
			cl->obs->lost(row->name, cl->obs_arg);
	}
	if (!cl->dying && cl->obs->changed != NULL)
		cl->obs->changed(row->name, NULL, cl->obs_arg);
	cluster_row_free(row);
}

/* Failover. */

static uint64_t
cluster_score(const char *node, const char *name)
{
	uint64_t	v = 0xcbf29ce484222325ULL;

	while (*node != '\0')
		v = (v ^ (unsigned char)*node++) * 0x100000001b3ULL;
	v = (v ^ 0xff) * 0x100000001b3ULL;
	while (*name != '\0')
		v = (v ^ (unsigned char)*name++) * 0x100000001b3ULL;
	/* FNV's high bits barely depend on one byte: mix (MurmurHash3). */
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdULL;
	v ^= v >> 33;
	v *= 0xc4ceb9fe1a85ec53ULL;
	v ^= v >> 33;
	return (v);
}

/*
 * This node's place among the live nodes for name (rendezvous hashing):
 * 0 for the preferred node, which tries at once; the others wait
 * rank * step_ms, and try only if nobody claimed it meanwhile.
 */
static int
cluster_rank(struct cluster *cl, const char *name)
{
	struct chash_item	**v;
	uint64_t		  mine = cluster_score(cl->node, name);
	size_t			  i, n;
	int			  rank = 0;
	bool			  live = false;

	v = chash_items(&cl->nodes, &n);
	for (i = 0; i < n; i++) {
		if (strcmp(v[i]->key, cl->node) == 0) {
			live = ((struct cluster_node *)v[i])->lease ==
			    cl->lease;
			continue;
		}
		rank += cluster_score(v[i]->key, name) > mine;
	}
	free(v);
	return (live ? rank : (int)n);
}

static bool
cluster_lease_live(struct cluster *cl, int64_t lease)
{
	struct chash_item	**v;
	size_t			  i, n;
	bool			  live = false;

	v = chash_items(&cl->nodes, &n);
	for (i = 0; i < n && !live; i++)
		live = ((struct cluster_node *)v[i])->lease == lease;
	free(v);
	return (live);
}

/*
 * After a batch: a failover row whose holder's lease has no node key any
 * more belonged to a dead node (its keys went together); one whose node
 * lives was released on purpose.
 */
static void
cluster_check_gone(struct cluster *cl)
{
	struct cluster_gone	*g;
	struct cluster_fo	*fo;
	int			 rank;

	while ((g = cl->gone) != NULL) {
		cl->gone = g->next;
		LIST_FOREACH(fo, &cl->fos, entry)
			if (strcmp(fo->name, g->name) == 0)
				break;
		if (fo == NULL && !cluster_lease_live(cl, g->lease) &&
		    chash_find(&cl->rows, g->name) == NULL) {
			fo = xcalloc(1, sizeof *fo);
			fo->cl = cl;
			fo->name = g->name;
			fo->spec = g->spec;
			fo->from = g->node;
			g->name = g->spec = g->node = NULL;
			ev_init(&fo->t, cluster_fo_cb);
			fo->t.data = fo;
			LIST_INSERT_HEAD(&cl->fos, fo, entry);
			rank = cluster_rank(cl, fo->name);
			cluster_timer(cl, &fo->t, (int64_t)rank * cl->step_ms);
			log_info("cluster: node %s is gone: failover of %s "
			    "(this node's rank %d)", fo->from, fo->name, rank);
		}
		free(g->name);
		free(g->spec);
		free(g->node);
		free(g);
	}
}

static void
cluster_fo_free(struct cluster_fo *fo)
{
	if (fo->op != NULL)
		cluster_op_cancel(fo->op);
	ev_timer_stop(fo->cl->loop, &fo->t);
	LIST_REMOVE(fo, entry);
	free(fo->name);
	free(fo->spec);
	free(fo->from);
	free(fo);
}

static void
cluster_fo_claimed(const struct cluster_claim_result *res, void *arg)
{
	struct cluster_fo	*fo = arg;
	struct cluster		*cl = fo->cl;
	struct cluster_failover	 f;

	f.sent_at = fo->op->sent_at;
	fo->op = NULL;
	if (res->status == CLUSTER_UNAVAILABLE) {
		cluster_timer(cl, &fo->t, CLUSTER_RETRY_MS);
		return;
	}
	if (res->status == CLUSTER_CLAIMED) {
		cl->failovers++;
		log_info("cluster: %s of node %s fails over to node %s "
		    "(fence %" PRId64 ")", fo->name, fo->from, cl->node,
		    res->fence);
		f.name = fo->name;
		f.spec = fo->spec;
		f.from = fo->from;
		f.fence = res->fence;
		if (cl->obs->start_failover != NULL)
			cl->obs->start_failover(&f, cl->obs_arg);
		if (cl->dying)
			return;
	}
	cluster_fo_free(fo);
}

static void
cluster_fo_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct cluster_fo	*fo = w->data;
	struct cluster		*cl = fo->cl;

	if (chash_find(&cl->rows, fo->name) != NULL) {
		cluster_fo_free(fo);		/* claimed meanwhile */
		return;
	}
	if (cl->state != CLUSTER_UP) {
		cluster_timer(cl, &fo->t, CLUSTER_RETRY_MS);
		return;
	}
	cluster_enter(cl);
	fo->op = cluster_claim(cl, fo->name, fo->spec, true,
	    cluster_fo_claimed, fo);
	cluster_leave(cl);
}

/* Claims. */

struct cluster_op *
cluster_claim(struct cluster *cl, const char *name, const char *spec,
    bool failover, cluster_claim_cb *cb, void *arg)
{
	struct cluster_op	*op;
	json_t			*sp;

	assert(cb != NULL && !cl->dying);
	if ((sp = json_loads(spec != NULL ? spec : "{}", 0, NULL)) == NULL ||
	    !json_is_object(sp)) {
		json_decref(sp);
		sp = json_object();
	}
	op = xcalloc(1, sizeof *op);
	op->cl = cl;
	op->name = xstrdup(name);
	op->value = json_pack("{s:s, s:n, s:s, s:b, s:o}", "node", cl->node,
	    "pid", "state", "starting", "failover", failover, "spec", sp);
	op->cb = cb;
	op->arg = arg;
	op->deadline = cluster_clock_ms() + cl->op_ms;
	ev_init(&op->t, cluster_op_run_cb);
	op->t.data = op;
	TAILQ_INSERT_TAIL(&cl->ops, op, entry);
	cluster_op_later(op);
	return (op);
}

static void
cluster_op_later(struct cluster_op *op)
{
	cluster_timer(op->cl, &op->t, 0);
}

static void
cluster_op_run_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct cluster_op	*op = w->data;
	struct cluster		*cl = op->cl;
	struct cluster_held	*h;

	cluster_enter(cl);
	if (op->parked) {
		/* The deadline passed while an earlier claim of it ran. */
		h = (struct cluster_held *)chash_find(&cl->held, op->name);
		TAILQ_REMOVE(&h->parked, op, entry);
		TAILQ_INSERT_TAIL(&cl->ops, op, entry);
		op->parked = false;
		cluster_op_unavailable(op, "an earlier claim of the name "
		    "did not finish in time");
	} else
		cluster_op_run(op);
	cluster_leave(cl);
}

/* A held entry settled: its parked claims run again, from the loop. */
static void
cluster_held_unpark(struct cluster_held *h)
{
	struct cluster_op	*op;

	while ((op = TAILQ_FIRST(&h->parked)) != NULL) {
		TAILQ_REMOVE(&h->parked, op, entry);
		op->parked = false;
		TAILQ_INSERT_TAIL(&h->cl->ops, op, entry);
		cluster_op_later(op);
	}
}

static struct cluster_held *
cluster_held_new(struct cluster *cl, const char *name)
{
	struct cluster_held	*h;

	h = xcalloc(1, sizeof *h);
	h->cl = cl;
	h->name = xstrdup(name);
	h->h.key = h->name;
	h->st = HELD_CLAIMING;
	TAILQ_INIT(&h->parked);
	ev_init(&h->retry, NULL);
	h->retry.data = h;
	chash_add(&cl->held, &h->h);
	return (h);
}

/* Forget a held name (no write); parked claims must be moved first. */
static void
cluster_held_drop(struct cluster_held *h)
{
	cluster_held_unpark(h);
	etcd_req_cancel(h->req);
	ev_timer_stop(h->cl->loop, &h->retry);
	chash_del(&h->cl->held, &h->h);
	json_decref(h->value);
	free(h->name);
	free(h);
}

/* This node's own row, as the mirror will show it. */
static void
cluster_mirror_own(struct cluster *cl, const char *name, json_t *value,
    int64_t create, int64_t mod, int64_t lease)
{
	struct etcd_kv	 kv;
	char		*key, *val;

	xasprintf(&key, "%schildren/%s", cl->prefix, name);
	val = json_dumps(value, JSON_COMPACT);
	memset(&kv, 0, sizeof kv);
	kv.key = key;
	kv.keylen = strlen(key);
	kv.value = val;
	kv.valuelen = strlen(val);
	kv.create_revision = create;
	kv.mod_revision = mod;
	kv.lease = lease;
	cluster_apply_put(cl, &kv);
	free(key);
	free(val);
}

static void
cluster_claimed_cb(const struct etcd_result *r, void *arg)
{
	struct cluster_op		*op = arg;
	struct cluster			*cl = op->cl;
	struct cluster_held		*h;
	struct cluster_claim_result	 res;
	struct cluster_entry		 holder;
	struct cluster_row		*row;
	char				*node = NULL, *state = NULL,
					*spec = NULL;
	json_int_t			 pid;
	bool				 fo, retry = false;
	int64_t				 fence = 0;

	op->req = NULL;
	cluster_enter(cl);
	h = (struct cluster_held *)chash_find(&cl->held, op->name);
	if (h != NULL && (h->st != HELD_CLAIMING || h->claimer != op))
		h = NULL;			/* fenced meanwhile: not ours */
	memset(&res, 0, sizeof res);
	if (r->status == ETCD_OK && r->succeeded)
		fence = r->revision;
	else if (r->status == ETCD_OK && r->nkvs > 0 &&
	    r->kvs[0].lease == op->lease)
		fence = r->kvs[0].create_revision; /* our retried write */
	if (fence != 0 && h != NULL && op->lease == cl->lease) {
		h->st = HELD_HELD;
		h->claimer = NULL;
		h->fence = fence;
		h->lease = op->lease;
		h->value = json_incref(op->value);
		cluster_mirror_own(cl, op->name, op->value, fence,
		    r->succeeded ? r->revision : r->kvs[0].mod_revision,
		    op->lease);
		res.status = CLUSTER_CLAIMED;
		res.fence = fence;
	} else if (r->status == ETCD_OK && r->nkvs > 0 && fence == 0 &&
	    cluster_row_parse(&r->kvs[0], &node, &pid, &state, &spec,
	    &fo) == 0) {
		cluster_apply_put(cl, &r->kvs[0]);
		holder = (struct cluster_entry){ .name = op->name,
		    .node = node, .pid = pid > 0 && pid < INT32_MAX ?
		    (pid_t)pid : -1, .state = state, .spec = spec,
		    .failover = fo, .revision = r->kvs[0].create_revision,
		    .mod_revision = r->kvs[0].mod_revision,
		    .lease = r->kvs[0].lease };
		res.status = CLUSTER_HELD;
		res.holder = &holder;
	} else if (op->lease != cl->lease && cluster_op_retry(op)) {
		res.status = CLUSTER_UNAVAILABLE;
		retry = true;		/* sent again, from the loop */
	} else {
		res.status = CLUSTER_UNAVAILABLE;
		res.message = r->status != ETCD_OK ? r->message :
		    op->lease != cl->lease ?
		    "the lease changed while claiming" :
		    "its key in etcd holds no gtd claim";
	}
	if (h != NULL && res.status != CLUSTER_CLAIMED) {
		cluster_held_drop(h);
		row = (struct cluster_row *)chash_find(&cl->rows, op->name);
		if (row != NULL)
			cluster_orphan_check(cl, row);
	}
	else if (h != NULL)
		cluster_held_unpark(h);
	if (!cl->dying && !retry) {
		if (res.status == CLUSTER_UNAVAILABLE && op->tries > 0)
			cluster_op_unavailable(op, res.message);
		else
			cluster_op_deliver(op, &res);
	}
	free(node);
	free(state);
	free(spec);
	cluster_leave(cl);
}

static void
cluster_op_run(struct cluster_op *op)
{
	struct cluster			*cl = op->cl;
	struct cluster_held		*h;
	struct cluster_claim_result	 res;
	struct cluster_entry		 self;
	struct etcd_txn			 t;
	json_t				*jp;
	char				*key, *val;

	int64_t				 left;

	if (op->canceled) {
		cluster_op_free(op);
		return;
	}
	left = op->deadline - cluster_clock_ms();
	if (!cluster_available(cl) && left > 0 &&
	    (cl->state == CLUSTER_JOINING || cl->state == CLUSTER_FENCED)) {
		/* Joining (or rejoining): wait for it, up to the deadline. */
		cluster_timer(cl, &op->t, left < 100 ? left : 100);
		return;
	}
	if (!cluster_available(cl) || left <= 0) {
		cluster_op_unavailable(op, NULL);
		return;
	}
	if ((h = (struct cluster_held *)chash_find(&cl->held, op->name)) !=
	    NULL && h->st != HELD_HELD) {
		TAILQ_REMOVE(&cl->ops, op, entry);
		TAILQ_INSERT_TAIL(&h->parked, op, entry);
		op->parked = true;
		cluster_timer(cl, &op->t, left);	/* the deadline */
		return;
	}
	if (h != NULL) {
		/* Held by this node already (another local claim won). */
		jp = json_object_get(h->value, "pid");
		self = (struct cluster_entry){ .name = h->name,
		    .node = cl->node, .pid = json_is_integer(jp) ?
		    (pid_t)json_integer_value(jp) : -1,
		    .state = json_string_value(json_object_get(h->value,
		    "state")), .spec = "{}", .revision = h->fence,
		    .lease = h->lease };
		memset(&res, 0, sizeof res);
		res.status = CLUSTER_HELD;
		res.holder = &self;
		cluster_op_deliver(op, &res);
		return;
	}
	cluster_held_new(cl, op->name)->claimer = op;
	xasprintf(&key, "%schildren/%s", cl->prefix, op->name);
	val = json_dumps(op->value, JSON_COMPACT);
	memset(&t, 0, sizeof t);
	t.key = key;
	t.keylen = strlen(key);
	t.create_revision = 0;
	t.op = ETCD_TXN_PUT;
	t.value = val;
	t.valuelen = strlen(val);
	t.lease = op->lease = cl->lease;
	t.timeout_ms = (int)left;
	op->sent_at = cluster_clock_ms();
	op->req = etcd_txn(cl->etcd, &t, cluster_claimed_cb, op);
	free(key);
	free(val);
}

/*
 * The node fenced while op was in flight: the answer is for a lease
 * that is gone, and so is any key it wrote (the rejoin revokes that
 * lease before it grants another).  Unless op was cancelled, has been
 * sent CLUSTER_CLAIM_TRIES times or is past its deadline, it runs again
 * from the loop: cluster_op_run waits for the new lease and sends it
 * under that one, all within op's own deadline.  False: answer it now
 * (op->tries > 0 makes the answer name the lease change).
 */
static bool
cluster_op_retry(struct cluster_op *op)
{
	struct cluster	*cl = op->cl;

	assert(op->req == NULL && !op->parked);
	if (op->canceled || cl->dying || ++op->tries >= CLUSTER_CLAIM_TRIES ||
	    op->deadline <= cluster_clock_ms())
		return (false);
	log_info("cluster: %s: the lease changed while claiming it (%s): "
	    "claiming it again under the new lease", op->name,
	    cl->message != NULL ? cl->message : "the node fenced");
	cluster_op_later(op);
	return (true);
}

static void
cluster_op_unavailable(struct cluster_op *op, const char *why)
{
	struct cluster			*cl = op->cl;
	struct cluster_claim_result	 res;
	char				*m;

	if (why == NULL)
		why = cl->message != NULL ? cl->message : "not joined yet";
	if (op->tries >= CLUSTER_CLAIM_TRIES)
		xasprintf(&m, "cluster unavailable: the lease changed %d "
		    "times while claiming (node %s is %s)", op->tries,
		    cl->node, cluster_state_name(cl->state));
	else if (op->tries > 0)
		xasprintf(&m, "cluster unavailable: the lease changed while "
		    "claiming, and no claim under a new lease finished in %d "
		    "ms: %s (node %s is %s)", cl->op_ms, why, cl->node,
		    cluster_state_name(cl->state));
	else
		xasprintf(&m, "cluster unavailable: %s (node %s is %s)", why,
		    cl->node, cluster_state_name(cl->state));
	memset(&res, 0, sizeof res);
	res.status = CLUSTER_UNAVAILABLE;
	res.message = m;
	cluster_op_deliver(op, &res);
	free(m);
}

/* The one place a claim's callback runs; the op goes after it. */
static void
cluster_op_deliver(struct cluster_op *op, const struct cluster_claim_result *r)
{
	struct cluster	*cl = op->cl;

	if (op->canceled && r->status == CLUSTER_CLAIMED)
		cluster_release(cl, op->name);	/* nobody wants it now */
	if (!op->canceled) {
		op->incb = true;
		op->cb(r, op->arg);
	}
	if (!cl->dying)
		cluster_op_free(op);
}

void
cluster_op_cancel(struct cluster_op *op)
{
	if (op == NULL || op->incb)
		return;
	op->canceled = true;
	if (op->req == NULL && !op->parked)
		cluster_op_free(op);		/* not sent: nothing to undo */
}

static void
cluster_op_free(struct cluster_op *op)
{
	struct cluster		*cl = op->cl;
	struct cluster_held	*h;

	if (op->parked) {
		h = (struct cluster_held *)chash_find(&cl->held, op->name);
		assert(h != NULL);
		TAILQ_REMOVE(&h->parked, op, entry);
	} else
		TAILQ_REMOVE(&cl->ops, op, entry);
	etcd_req_cancel(op->req);
	ev_timer_stop(cl->loop, &op->t);
	json_decref(op->value);
	free(op->name);
	free(op);
}

/* Updates and releases of this node's claims. */

static void
cluster_held_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct cluster_held	*h = w->data;
	struct cluster		*cl = h->cl;

	cluster_enter(cl);
	cluster_held_flush(h);
	cluster_leave(cl);
}

static void
cluster_held_written_cb(const struct etcd_result *r, void *arg)
{
	struct cluster_held	*h = arg;
	struct cluster		*cl = h->cl;
	char			*name;

	h->req = NULL;
	cluster_enter(cl);
	if (r->status != ETCD_OK) {
		h->dirty = true;		/* write it again later */
		ev_set_cb(&h->retry, cluster_held_retry_cb);
		cluster_timer(cl, &h->retry, CLUSTER_RETRY_MS);
	} else if (h->st == HELD_RELEASING) {
		name = xstrdup(h->name);
		cluster_held_drop(h);
		cluster_row_del(cl, name, r->revision);
		free(name);
	} else if (!r->succeeded) {
		name = xstrdup(h->name);
		cluster_held_drop(h);		/* the key is not ours */
		if (cl->obs->lost != NULL)
			cl->obs->lost(name, cl->obs_arg);
		free(name);
	} else {
		cluster_mirror_own(cl, h->name, h->value, h->fence,
		    r->revision, h->lease);
		if (!cl->dying)
			cluster_held_flush(h);
	}
	cluster_leave(cl);
}

/* Send the value (or the delete) if it changed and nothing is in flight. */
static void
cluster_held_flush(struct cluster_held *h)
{
	struct cluster	*cl = h->cl;
	struct etcd_txn	 t;
	char		*key, *val = NULL;

	if (h->req != NULL || !h->dirty || !cluster_available(cl))
		return;
	h->dirty = false;
	xasprintf(&key, "%schildren/%s", cl->prefix, h->name);
	memset(&t, 0, sizeof t);
	t.key = key;
	t.keylen = strlen(key);
	t.create_revision = h->fence;
	t.timeout_ms = cl->op_ms;
	if (h->st == HELD_RELEASING)
		t.op = ETCD_TXN_DELETE;
	else {
		val = json_dumps(h->value, JSON_COMPACT);
		t.op = ETCD_TXN_PUT;
		t.value = val;
		t.valuelen = strlen(val);
		t.lease = h->lease;
	}
	h->req = etcd_txn(cl->etcd, &t, cluster_held_written_cb, h);
	free(key);
	free(val);
}

int
cluster_update(struct cluster *cl, const char *name, pid_t pid,
    const char *state)
{
	struct cluster_held	*h;

	h = (struct cluster_held *)chash_find(&cl->held, name);
	if (h == NULL || h->st != HELD_HELD) {
		errno = ENOENT;
		return (-1);
	}
	json_object_set_new(h->value, "pid", pid > 0 ?
	    json_integer(pid) : json_null());
	json_object_set_new(h->value, "state", json_string(state));
	h->dirty = true;
	cluster_held_flush(h);
	return (0);
}

int
cluster_release(struct cluster *cl, const char *name)
{
	struct cluster_held	*h;

	h = (struct cluster_held *)chash_find(&cl->held, name);
	if (h == NULL || h->st != HELD_HELD) {
		errno = ENOENT;
		return (-1);
	}
	/* An update in flight is moot: the delete is guarded the same way. */
	etcd_req_cancel(h->req);
	h->req = NULL;
	h->st = HELD_RELEASING;
	h->dirty = true;
	cluster_held_flush(h);
	return (0);
}

bool
cluster_holds(struct cluster *cl, const char *name, int64_t *fence)
{
	struct cluster_held	*h;

	h = (struct cluster_held *)chash_find(&cl->held, name);
	if (h == NULL || h->st != HELD_HELD)
		return (false);
	if (fence != NULL)
		*fence = h->fence;
	return (true);
}

/* Reading the mirror. */

const struct cluster_entry *
cluster_lookup(struct cluster *cl, const char *name)
{
	struct cluster_row	*row;

	row = (struct cluster_row *)chash_find(&cl->rows, name);
	return (row != NULL ? &row->e : NULL);
}

void
cluster_foreach(struct cluster *cl,
    void (*cb)(const struct cluster_entry *, void *), void *arg)
{
	struct chash_item	**v;
	size_t			  i, n;

	v = chash_items(&cl->rows, &n);
	for (i = 0; i < n; i++)
		cb(&((struct cluster_row *)v[i])->e, arg);
	free(v);
}

static int
cluster_info_cmp(const void *a, const void *b)
{
	return (strcmp(((const struct cluster_node_info *)a)->name,
	    ((const struct cluster_node_info *)b)->name));
}

void
cluster_status(struct cluster *cl, struct cluster_status *st)
{
	struct chash_item	**v, **rows;
	struct cluster_node	 *nd;
	size_t			  i, j, n, nrows;
	int64_t			  now = cluster_clock_ms();

	memset(st, 0, sizeof *st);
	st->node = cl->node;
	st->zone = cl->zone;
	st->state = cl->state;
	st->connected = !cluster_stale(cl);
	st->revision = cl->revision;
	st->lease = cl->lease;
	st->lease_ttl_ms = cl->ttl_ms;
	st->fence_in_ms = cl->lease != 0 ? cl->fence_at - now : -1;
	st->last_contact_ms = cl->last_contact >= 0 ?
	    now - cl->last_contact : -1;
	st->endpoint = etcd_endpoint(cl->etcd);
	st->message = cl->message;
	st->held = cl->held.n;
	st->rows = cl->rows.n;
	st->resyncs = cl->resyncs;
	st->fences = cl->fences;
	st->failovers = cl->failovers;
	free(cl->info);
	v = chash_items(&cl->nodes, &n);
	rows = chash_items(&cl->rows, &nrows);
	cl->info = xcalloc(n + 1, sizeof *cl->info);
	for (i = 0; i < n; i++) {
		nd = (struct cluster_node *)v[i];
		cl->info[i] = (struct cluster_node_info){ .name = nd->name,
		    .lease_ttl_ms = nd->ttl_ms, .lease = nd->lease,
		    .pid = nd->pid };
		for (j = 0; j < nrows; j++)
			cl->info[i].children += strcmp(((struct cluster_row *)
			    rows[j])->node, nd->name) == 0;
	}
	free(v);
	free(rows);
	qsort(cl->info, n, sizeof *cl->info, cluster_info_cmp);
	st->nodes = cl->info;
	st->nnodes = n;
}
