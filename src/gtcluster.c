/* SPDX-License-Identifier: MIT */
/*
 * gtcluster: gtd's side of the cluster (contracts in gtcluster.h).
 *
 * A cluster-scope row runs only while this node holds its claim: the
 * child observer's hold_start claims the name first (the row waits),
 * and the claim's answer starts the row (CLAIMED) or stops it (held by
 * another node, or etcd unavailable).  start_child and find_or_open
 * claim before they make the row (cmd-cluster.c), so hold_start finds
 * the claim held and only sets the row's fence.  Fencing stops every
 * cluster row at once and SIGKILLs what is left at kill_by; the fence
 * watchdog kills them too if gtd itself cannot (stopped, hung).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "gt/child.h"
#include "gt/cluster.h"
#include "gt/config.h"
#include "gt/fence.h"
#include "gt/gtcluster.h"
#include "gt/gtd.h"
#include "gt/log.h"
#include "gt/registry.h"
#include "gt/xmalloc.h"

#define GTCLUSTER_KILL_SLACK_MS	100	/* SIGKILL this long before kill_by */

/* A name to claim again once etcd answers (fenced, or unavailable). */
struct gtcluster_again {
	char				*name;
	LIST_ENTRY(gtcluster_again)	 entry;
};

/* A claim hold_start sent for a waiting row. */
struct gtcluster_claim {
	struct gtcluster		*gc;	/* weak */
	char				*name;
	struct cluster_op		*op;
	LIST_ENTRY(gtcluster_claim)	 entry;
};

struct gtcluster {
	struct gtd				*g;	/* weak */
	struct cluster				*cl;
	struct fence				*fw;	/* NULL: none */
	char					*node;
	LIST_HEAD(, gtcluster_watch)		 watches;
	LIST_HEAD(, gtcluster_claim)		 claims;
	LIST_HEAD(, gtcluster_again)		 again;
	ev_timer				 kill;	/* fence: kill_by */
	int64_t					 kill_by;
	bool					 was_up;
	bool					 leaving;
};

static const struct cluster_observer gtcluster_obs;

static struct gtcluster *
gtcluster_of(struct gtd *g)
{
	return (g != NULL ? g->cluster : NULL);
}

struct cluster *
gtcluster_get(struct gtd *g)
{
	struct gtcluster	*gc = gtcluster_of(g);

	return (gc != NULL ? gc->cl : NULL);
}

const char *
gtcluster_node(struct gtd *g)
{
	struct gtcluster	*gc = gtcluster_of(g);

	return (gc != NULL ? gc->node : NULL);
}

const char *
gtcluster_unavailable(struct gtd *g)
{
	struct gtcluster	*gc = gtcluster_of(g);
	struct cluster_status	 st;

	if (gc == NULL)
		return ("no cluster is configured (gtd.conf(5) \"cluster\")");
	if (cluster_available(gc->cl))
		return (NULL);
	cluster_status(gc->cl, &st);
	if (st.message != NULL)
		return (st.message);
	return (st.state == CLUSTER_JOINING ? "not joined to etcd yet" :
	    cluster_state_name(st.state));
}

/* Remember name to claim again when the cluster is up. */
static void
gtcluster_again_add(struct gtcluster *gc, const char *name)
{
	struct gtcluster_again	*a;

	LIST_FOREACH(a, &gc->again, entry)
		if (strcmp(a->name, name) == 0)
			return;
	a = xcalloc(1, sizeof *a);
	a->name = xstrdup(name);
	LIST_INSERT_HEAD(&gc->again, a, entry);
}

static void
gtcluster_again_free(struct gtcluster_again *a)
{
	LIST_REMOVE(a, entry);
	free(a->name);
	free(a);
}

/* The cluster is up again: start the rows it had to stop. */
static void
gtcluster_again_run(struct gtcluster *gc)
{
	struct gtcluster_again	*a;
	struct child		*c;

	while ((a = LIST_FIRST(&gc->again)) != NULL) {
		c = child_find(gc->g, a->name);
		if (c != NULL && c->spec->cluster && c->state ==
		    CHILD_STOPPED && !gc->g->shut->active) {
			log_info("child %s: claiming it again", c->name);
			(void)child_start(c);	/* logged and decided */
		}
		gtcluster_again_free(a);
	}
}

/* The watches of name: each once. */
static void
gtcluster_wake(struct gtcluster *gc, const char *name,
    const struct cluster_entry *e)
{
	struct gtcluster_watch	*w, *next;
	LIST_HEAD(, gtcluster_watch) mine = LIST_HEAD_INITIALIZER(mine);

	for (w = LIST_FIRST(&gc->watches); w != NULL; w = next) {
		next = LIST_NEXT(w, entry);
		if (strcmp(w->name, name) != 0)
			continue;
		LIST_REMOVE(w, entry);
		LIST_INSERT_HEAD(&mine, w, entry);
	}
	/* A callback may watch again or unwatch others: one at a time. */
	while ((w = LIST_FIRST(&mine)) != NULL) {
		LIST_REMOVE(w, entry);
		w->queued = false;
		w->cb(name, e, w->arg);
	}
}

void
gtcluster_watch(struct gtd *g, struct gtcluster_watch *w, const char *name,
    gtcluster_watch_cb *cb, void *arg)
{
	struct gtcluster	*gc = gtcluster_of(g);

	if (gc == NULL)
		return;
	if (w->queued)
		gtcluster_unwatch(g, w);
	free(w->name);
	w->name = xstrdup(name);
	w->cb = cb;
	w->arg = arg;
	w->queued = true;
	LIST_INSERT_HEAD(&gc->watches, w, entry);
}

void
gtcluster_unwatch(struct gtd *g, struct gtcluster_watch *w)
{
	if (w->queued)
		LIST_REMOVE(w, entry);
	w->queued = false;
	free(w->name);
	w->name = NULL;
}

/* The cluster observer. */

static void
gtcluster_changed(const char *name, const struct cluster_entry *e,
    void *arg)
{
	struct gtcluster	*gc = arg;
	struct registry		*reg = gc->g->reg;
	int			 rc;

	if (e != NULL)
		rc = registry_cluster_put(reg, name, e->node, e->pid,
		    e->state, e->revision, e->mod_revision, e->failover,
		    e->spec);
	else
		rc = registry_cluster_del(reg, name);
	if (rc == -1) {
		gc->g->stats.mirror_errors++;
		log_warnx("mirror: cluster_children %s: %s", name,
		    registry_errmsg(reg));
	}
	gtcluster_wake(gc, name, e);
}

/* Start a dead node's failover child this node claimed. */
static void
gtcluster_failover(const struct cluster_failover *f, void *arg)
{
	struct gtcluster	*gc = arg;
	struct gtd		*g = gc->g;
	struct childspec	*s;
	struct child		*c;
	json_t			*j;
	char			*field = NULL, *cause = NULL;

	if (g->shut->active) {		/* the others take it */
		(void)cluster_release(gc->cl, f->name);
		return;
	}
	log_info("child %s: failing over from node %s (fence %lld)", f->name,
	    f->from, (long long)f->fence);
	if ((c = child_find(g, f->name)) != NULL) {
		if (!child_is_alive(c) && c->state != CHILD_WAITING &&
		    c->spec->cluster) {
			(void)child_start(c);	/* logged and decided */
			return;
		}
		log_warnx("child %s: a local row of that name is %s: failover "
		    "given up", f->name, child_state_name(c->state));
		(void)cluster_release(gc->cl, f->name);
		return;
	}
	if ((j = json_loads(f->spec, 0, NULL)) == NULL ||
	    (s = config_spec_parse(j, &field, &cause)) == NULL) {
		log_warnx("child %s: failover: its spec does not parse here: "
		    "%s: %s", f->name, field != NULL ? field : "spec",
		    cause != NULL ? cause : "not JSON");
		free(field);
		free(cause);
		json_decref(j);
		(void)cluster_release(gc->cl, f->name);
		return;
	}
	json_decref(j);
	if ((c = child_add(g, s, config_spec_text(s))) == NULL) {
		log_warn("child %s: failover", f->name);
		(void)cluster_release(gc->cl, f->name);
		return;
	}
	(void)child_start(c);		/* logged and decided */
}

/* SIGKILL every cluster child still alive (the fence's deadline). */
static void
gtcluster_kill_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct gtcluster	*gc = w->data;
	struct child		*c;

	TAILQ_FOREACH(c, &gc->g->tab->children, entry)
		if (c->spec->cluster && c->pid > 0)
			(void)child_kill(c, SIGKILL);
}

static void
gtcluster_fence(int64_t kill_by, const char *why, void *arg)
{
	struct gtcluster	*gc = arg;
	struct child		*c, *next;
	int64_t			 left;
	size_t			 n = 0;

	left = kill_by - cluster_clock_ms() - GTCLUSTER_KILL_SLACK_MS;
	if (left < 0)
		left = 0;
	for (c = TAILQ_FIRST(&gc->g->tab->children); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (!c->spec->cluster || c->state == CHILD_STOPPED)
			continue;
		n++;
		gtcluster_again_add(gc, c->name);
		child_stop(c, left, false);
	}
	log_warnx("cluster: fencing: %s; %zu cluster child%s stopped, every "
	    "one dead within %lld ms; claimed again when etcd answers", why,
	    n, n == 1 ? "" : "ren", (long long)left);
	ev_timer_stop(gc->g->loop, &gc->kill);
	ev_timer_set(&gc->kill, (double)left / 1000, 0);
	ev_timer_start(gc->g->loop, &gc->kill);
}

static void
gtcluster_lost(const char *name, void *arg)
{
	struct gtcluster	*gc = arg;
	struct child		*c;

	if ((c = child_find(gc->g, name)) == NULL || !c->spec->cluster)
		return;
	log_warnx("child %s: its claim is another node's now: stopping it",
	    name);
	child_stop(c, 0, true);		/* the name is the other node's */
}

static void
gtcluster_renewed(int64_t kill_by, void *arg)
{
	struct gtcluster	*gc = arg;

	if (gc->fw != NULL && fence_arm(gc->fw, kill_by) == -1)
		log_warn("cluster: fence watchdog");
}

static void
gtcluster_cl_state(enum cluster_state st, const char *why, void *arg)
{
	struct gtcluster	*gc = arg;

	switch (st) {
	case CLUSTER_UP:
		gc->was_up = true;
		ev_timer_stop(gc->g->loop, &gc->kill);
		gtcluster_again_run(gc);
		break;
	case CLUSTER_CONFLICT:
		if (!gc->was_up && !gc->g->shut->active) {
			log_warnx("cluster: another live gtd is node %s (%s): "
			    "refusing to start", gc->node, why != NULL ? why :
			    "its node key is held");
			gtd_shutdown(gc->g, 1, -1);
		}
		break;
	default:
		break;
	}
}

static const struct cluster_observer gtcluster_obs = {
	.changed = gtcluster_changed,
	.start_failover = gtcluster_failover,
	.must_fence = gtcluster_fence,
	.lost = gtcluster_lost,
	.renewed = gtcluster_renewed,
	.state = gtcluster_cl_state
};

/* The claim hold_start sent answered. */
static void
gtcluster_claimed(const struct cluster_claim_result *r, void *arg)
{
	struct gtcluster_claim	*cm = arg;
	struct gtcluster	*gc = cm->gc;
	struct child		*c;

	LIST_REMOVE(cm, entry);
	c = child_find(gc->g, cm->name);
	if (c == NULL || c->state != CHILD_WAITING || !c->spec->cluster) {
		if (r->status == CLUSTER_CLAIMED)	/* nobody wants it */
			(void)cluster_release(gc->cl, cm->name);
	} else if (r->status == CLUSTER_CLAIMED) {
		(void)child_start(c);	/* hold_start lets it go now */
	} else {
		/* Another node's: the row goes, the name is answered from
		 * the mirror; no etcd: stopped, claimed again later. */
		if (r->status == CLUSTER_HELD)
			log_info("child %s: node %s holds it: not started here",
			    c->name, r->holder->node);
		else {
			log_warnx("child %s: cannot claim it: %s", c->name,
			    r->message);
			gtcluster_again_add(gc, c->name);
		}
		child_stop(c, -1, r->status == CLUSTER_HELD);
	}
	free(cm->name);
	free(cm);
}

bool
gtcluster_hold_start(struct child *c)
{
	struct gtcluster	*gc = gtcluster_of(c->gtd);
	struct gtcluster_claim	*cm;
	int64_t			 fence;
	char			*spec;

	if (!c->spec->cluster)
		return (false);
	if (gc == NULL) {
		/* A reload brought it; a cluster needs a restart of gtd. */
		log_warnx("child %s: scope cluster, but gtd runs without a "
		    "cluster: it waits (restart gtd with the \"cluster\" "
		    "config)", c->name);
		return (true);
	}
	if (cluster_holds(gc->cl, c->name, &fence)) {
		c->fence = fence;
		return (false);
	}
	c->fence = 0;
	LIST_FOREACH(cm, &gc->claims, entry)
		if (strcmp(cm->name, c->name) == 0)
			return (true);	/* claiming it already */
	cm = xcalloc(1, sizeof *cm);
	cm->gc = gc;
	cm->name = xstrdup(c->name);
	LIST_INSERT_HEAD(&gc->claims, cm, entry);
	spec = config_spec_text_as(c->spec, c->name);
	cm->op = cluster_claim(gc->cl, c->name, spec, c->spec->failover,
	    gtcluster_claimed, cm);
	free(spec);
	log_info("child %s: claiming it in the cluster", c->name);
	return (true);
}

void
gtcluster_state(struct child *c, enum child_state old)
{
	struct gtcluster	*gc = gtcluster_of(c->gtd);

	if (gc == NULL || !c->spec->cluster || gc->leaving)
		return;
	switch (c->state) {
	case CHILD_STARTING:
	case CHILD_RUNNING:
	case CHILD_STOPPING:
	case CHILD_TERMINATING:
	case CHILD_RESTARTING:
		(void)cluster_update(gc->cl, c->name, c->pid,
		    child_state_name(c->state));	/* ENOENT: not ours */
		break;
	case CHILD_STOPPED:
		/*
		 * Released, unless gtd shuts down: then the lease's revoke
		 * deletes every claim at once, and failover follows.
		 */
		if (!c->gtd->shut->active)
			(void)cluster_release(gc->cl, c->name);
		break;
	case CHILD_WAITING:
		break;
	}
}

void
gtcluster_removed(struct child *c)
{
	struct gtcluster	*gc = gtcluster_of(c->gtd);

	if (gc == NULL || !c->spec->cluster || gc->leaving ||
	    c->gtd->shut->active)
		return;
	(void)cluster_release(gc->cl, c->name);
}

/* The fence watchdog's target for c: its group with kill_group. */
static pid_t
gtcluster_target(const struct child *c)
{
	return (c->spec->kill_group ? -c->pid : c->pid);
}

void
gtcluster_spawned(struct child *c)
{
	struct gtcluster	*gc = gtcluster_of(c->gtd);

	if (gc == NULL || gc->fw == NULL || !c->spec->cluster || c->pid <= 0)
		return;
	if (fence_add(gc->fw, gtcluster_target(c)) == -1)
		log_warn("child %s: fence watchdog", c->name);
}

void
gtcluster_reaped(struct child *c)
{
	struct gtcluster	*gc = gtcluster_of(c->gtd);

	if (gc == NULL || gc->fw == NULL || !c->spec->cluster || c->pid <= 0)
		return;
	(void)fence_del(gc->fw, gtcluster_target(c));	/* maybe gone */
}

int
gtcluster_open(struct gtd *g, const struct config_cluster *cc, char **cause)
{
	struct gtcluster	*gc;
	struct cluster_opts	 o;
	char			 host[HOST_NAME_MAX + 1];
	char			*why = NULL;

	gc = xcalloc(1, sizeof *gc);
	gc->g = g;
	LIST_INIT(&gc->watches);
	LIST_INIT(&gc->claims);
	LIST_INIT(&gc->again);
	ev_timer_init(&gc->kill, gtcluster_kill_cb, 0, 0);
	gc->kill.data = gc;
	if (cc->node != NULL)
		gc->node = xstrdup(cc->node);
	else {
		if (gethostname(host, sizeof host) == -1)
			host[0] = '\0';
		host[sizeof host - 1] = '\0';
		host[strcspn(host, ".")] = '\0';	/* the short name */
		gc->node = xstrdup(*host != '\0' ? host : "localhost");
	}
	memset(&o, 0, sizeof o);
	o.loop = g->loop;
	o.endpoints = (const char *const *)cc->etcd;
	o.nendpoints = cc->netcd;
	o.zone = g->zone;
	o.node = gc->node;
	o.lease_ttl_ms = cc->lease_ttl_ms;
	o.pid = g->pid;
	o.obs = &gtcluster_obs;
	o.obs_arg = gc;
	if ((gc->cl = cluster_new(&o, cause)) == NULL) {
		free(gc->node);
		free(gc);
		return (-1);
	}
	if ((gc->fw = fence_new(&why)) == NULL) {
		xasprintf(cause, "cluster: fence watchdog: %s", why);
		free(why);
		cluster_free(gc->cl);
		free(gc->node);
		free(gc);
		return (-1);
	}
	g->cluster = gc;
	registry_cluster_self(g->reg, gc->node);
	log_info("cluster: node %s of zone %s, lease %d ms, %zu etcd "
	    "endpoint%s", gc->node, g->zone, cc->lease_ttl_ms, cc->netcd,
	    cc->netcd == 1 ? "" : "s");
	return (0);
}

void
gtcluster_free(struct gtd *g)
{
	struct gtcluster	*gc = gtcluster_of(g);
	struct gtcluster_claim	*cm;
	struct gtcluster_watch	*w;

	if (gc == NULL)
		return;
	g->cluster = NULL;
	cluster_free(gc->cl);		/* no callback after this */
	while ((cm = LIST_FIRST(&gc->claims)) != NULL) {
		LIST_REMOVE(cm, entry);
		free(cm->name);
		free(cm);
	}
	while ((w = LIST_FIRST(&gc->watches)) != NULL) {
		LIST_REMOVE(w, entry);
		w->queued = false;	/* the owner frees its name */
	}
	while (LIST_FIRST(&gc->again) != NULL)
		gtcluster_again_free(LIST_FIRST(&gc->again));
	ev_timer_stop(g->loop, &gc->kill);
	fence_free(gc->fw);
	free(gc->node);
	free(gc);
}

static void
gtcluster_left(void *arg)
{
	struct gtcluster	*gc = arg;

	ev_break(gc->g->loop, EVBREAK_ONE);
}

void
gtcluster_leave(struct gtd *g)
{
	struct gtcluster	*gc = gtcluster_of(g);

	if (gc == NULL)
		return;
	gc->leaving = true;
	log_info("cluster: leaving zone %s (the lease is revoked)", g->zone);
	cluster_shutdown(gc->cl, gtcluster_left, gc);
	ev_run(g->loop, 0);		/* cluster_shutdown bounds it */
}
