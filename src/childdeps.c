/* SPDX-License-Identifier: MIT */
/*
 * childdeps: depends_on at run time (see childdeps.h).  The graph and
 * its evaluation are deps.c's; this file turns child states into what
 * deps.c observes and deps.c's answers into starts and stops.  Nothing
 * here polls: every decision follows a state change child.c reports.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gt/childdeps.h"
#include "gt/deps.h"
#include "gt/gtd.h"
#include "gt/log.h"
#include "gt/registry.h"
#include "gt/spec.h"
#include "gt/xmalloc.h"

/* Completions nobody depends on that are remembered (deps.h). */
#define CHILDDEPS_MAX_COMPLETED	1024

/* A stop on request held until the row's dependents are down. */
struct childdeps_hold {
	char		*name;		/* owned */
	int64_t		 timeout_ms;
	bool		 delete_after;
};

/* The zone's dependency state, owned by struct gtd (g->deps). */
struct childdeps {
	struct deps_graph	*graph;		/* owned */
	struct childdeps_hold	*holds;		/* owned, nholds of them */
	size_t			 nholds;
	bool			 releasing;	/* in childdeps_release */
};

static struct childdeps	*childdeps_get(struct gtd *);
static void		 childdeps_obs(const struct child *, struct deps_obs *);
static void		 childdeps_start_met(struct gtd *, struct deps_names *);
static bool		 childdeps_is_up(const char *, void *);
static bool		 childdeps_up(struct gtd *, const char *,
			    enum deps_closure);
static void		 childdeps_release(struct gtd *);
static void		 childdeps_bounce(struct gtd *, const char *,
			    enum deps_closure, const char *);

/*
 * The graph is made at the first use of depends_on, with every row
 * there is: a zone without depends_on pays one pointer.
 */
static struct childdeps *
childdeps_get(struct gtd *g)
{
	struct child	*c;
	struct deps_obs	 o;

	if (g->deps != NULL)
		return (g->deps);
	g->deps = xcalloc(1, sizeof *g->deps);
	g->deps->graph = deps_graph_new(CHILDDEPS_MAX_COMPLETED);
	TAILQ_FOREACH(c, &g->tab->children, entry) {
		deps_set(g->deps->graph, c->name, c->spec->deps,
		    c->spec->ndeps, NULL);
		childdeps_obs(c, &o);
		deps_observe(g->deps->graph, c->name, &o, NULL);
	}
	return (g->deps);
}

void
childdeps_free(struct gtd *g)
{
	size_t	i;

	if (g->deps == NULL)
		return;
	for (i = 0; i < g->deps->nholds; i++)
		free(g->deps->holds[i].name);
	free(g->deps->holds);
	deps_graph_free(g->deps->graph);
	free(g->deps);
	g->deps = NULL;
}

/*
 * What a dependency looks like to its dependents.  A row stopped by its
 * policy after an exit that was not asked for (a transient child's
 * normal exit, an on_exit "stop") has completed; a give-up has not: its
 * dependents wait for it to run again (protocol §9.1).
 */
static void
childdeps_obs(const struct child *c, struct deps_obs *o)
{
	const char	*h = c->health_name;

	memset(o, 0, sizeof *o);
	/* A probe's result; without a probe, healthy means ready. */
	o->health = h == NULL ? DEPS_HEALTH_NONE : strcmp(h, "healthy") == 0 ?
	    DEPS_HEALTH_HEALTHY : strcmp(h, "unhealthy") == 0 ?
	    DEPS_HEALTH_UNHEALTHY : DEPS_HEALTH_UNKNOWN;
	switch (c->state) {
	case CHILD_STARTING:
		o->phase = c->pid > 0 ? DEPS_STARTING : DEPS_DOWN;
		break;
	case CHILD_RUNNING:
		o->phase = DEPS_RUNNING;
		break;
	case CHILD_STOPPED:
		if (c->has_exit && !c->last_requested && !c->gave_up &&
		    c->fail == CHILD_FAIL_NONE) {
			o->phase = DEPS_COMPLETED;
			o->status = c->last_status;
			o->ok = spec_exit_is_success(c->spec, c->last_status);
		} else
			o->phase = DEPS_DOWN;
		break;
	default:
		o->phase = DEPS_DOWN;
		break;
	}
}

int
childdeps_check(struct gtd *g, const struct childspec *s, char **field,
    char **cause)
{
	struct deps_change	ch = { .name = s->name, .edges = s->deps,
	    .n = s->ndeps };
	size_t			which, edge;

	if (s->ndeps == 0)
		return (0);
	if (deps_check(childdeps_get(g)->graph, &ch, 1, &which, &edge,
	    cause) == -1) {
		xasprintf(field, "depends_on.%zu", edge);
		return (-1);
	}
	return (0);
}

/* The depends table: c's edges now. */
static void
childdeps_mirror(struct child *c)
{
	struct gtd		*g = c->gtd;
	const struct deps_edge	*e;
	size_t			 i;
	int			 rc;

	rc = registry_depends_clear(g->reg, c->name);
	for (i = 0; i < c->spec->ndeps && rc == 0; i++) {
		e = &c->spec->deps[i];
		rc = registry_depends_add(g->reg, c->name, e->name,
		    deps_cond_name(e->cond), deps_on_stop_name(e->on_stop),
		    deps_on_restart_name(e->on_restart));
	}
	if (rc == -1) {
		g->stats.mirror_errors++;
		log_warnx("child %s: mirror: %s", c->name,
		    registry_errmsg(g->reg));
	}
}

void
childdeps_set(struct child *c)
{
	struct gtd		*g = c->gtd;
	struct deps_names	 met = { NULL, 0, 0 };
	struct deps_obs		 o;

	if (c->spec->ndeps == 0 && g->deps == NULL)
		return;			/* no graph yet: nothing to say */
	childdeps_mirror(c);
	deps_set(childdeps_get(g)->graph, c->name, c->spec->deps,
	    c->spec->ndeps, &met);
	childdeps_obs(c, &o);
	deps_observe(g->deps->graph, c->name, &o, &met);
	childdeps_start_met(g, &met);
	deps_names_free(&met);
}

void
childdeps_removed(struct child *c)
{
	struct gtd		*g = c->gtd;
	struct deps_names	 met = { NULL, 0, 0 };
	struct deps_obs		 o;

	if (g->deps == NULL)
		return;
	/* A job that ended on its own is remembered as completed. */
	if (c->has_exit && !c->last_requested && !c->delete_after &&
	    !c->gave_up && c->fail == CHILD_FAIL_NONE) {
		memset(&o, 0, sizeof o);
		o.phase = DEPS_COMPLETED;
		o.status = c->last_status;
		o.ok = spec_exit_is_success(c->spec, c->last_status);
		deps_observe(g->deps->graph, c->name, &o, &met);
	}
	deps_unwait(g->deps->graph, c->name);
	deps_remove(g->deps->graph, c->name);
	if (c->gave_up)
		childdeps_bounce(g, c->name, DEPS_CL_STOP, "gave up");
	childdeps_start_met(g, &met);
	deps_names_free(&met);
	childdeps_release(g);
}

/* Start the waiting rows whose dependencies are now met. */
static void
childdeps_start_met(struct gtd *g, struct deps_names *met)
{
	struct child	*d;
	size_t		 i;

	child_release_begin(g);
	for (i = 0; i < met->n; i++) {
		if ((d = child_find(g, met->v[i])) == NULL ||
		    d->state != CHILD_WAITING)
			continue;
		if (g->shut->active) {
			child_stop(d, -1, false);
			continue;
		}
		log_info("child %s: dependencies met, starting", d->name);
		(void)child_start(d);	/* a failure is logged and decided */
	}
	child_release_end(g);
}

/*
 * Stop and start again (so that they wait for name once more) the rows
 * that depend on name along kind's edges and are up.
 */
static void
childdeps_bounce(struct gtd *g, const char *name, enum deps_closure kind,
    const char *why)
{
	struct deps_names	 cl = { NULL, 0, 0 };
	struct child		*d;
	size_t			 i;

	if (g->shut->active)
		return;
	deps_closure(g->deps->graph, name, kind, &cl);
	for (i = 0; i < cl.n; i++) {
		if ((d = child_find(g, cl.v[i])) == NULL ||
		    (d->state != CHILD_STARTING && d->state != CHILD_RUNNING))
			continue;
		log_info("child %s: dependency %s %s, restarting", d->name,
		    name, why);
		(void)child_restart(d);	/* it waits for name again */
	}
	deps_names_free(&cl);
}

void
childdeps_changed(struct child *c, enum child_state old)
{
	struct gtd		*g = c->gtd;
	struct deps_names	 met = { NULL, 0, 0 };
	struct deps_obs		 o;

	if (g->deps == NULL || (c->flags & CHILD_DEAD))
		return;
	childdeps_obs(c, &o);
	deps_observe(g->deps->graph, c->name, &o, &met);
	childdeps_start_met(g, &met);
	deps_names_free(&met);
	/* A restart by policy, or restart_child force, going down. */
	if ((c->state == CHILD_RESTARTING && old == CHILD_TERMINATING) ||
	    (c->state == CHILD_STOPPING && c->bounce))
		childdeps_bounce(g, c->name, DEPS_CL_RESTART, "restarts");
	else if (c->state == CHILD_STOPPED && old != CHILD_STOPPED &&
	    c->gave_up)
		childdeps_bounce(g, c->name, DEPS_CL_STOP, "gave up");
	if (c->pid == -1 && c->state != CHILD_STOPPING &&
	    c->state != CHILD_TERMINATING)
		childdeps_release(g);
}

void
childdeps_health(struct child *c)
{
	struct gtd		*g = c->gtd;
	struct deps_names	 met = { NULL, 0, 0 };
	struct deps_obs		 o;

	if (g->deps == NULL || (c->flags & CHILD_DEAD))
		return;
	childdeps_obs(c, &o);
	deps_observe(g->deps->graph, c->name, &o, &met);
	childdeps_start_met(g, &met);
	deps_names_free(&met);
}

bool
childdeps_hold_start(struct child *c)
{
	struct gtd	*g = c->gtd;

	if (c->spec->ndeps == 0)
		return (false);		/* nothing to wait for */
	if (deps_wait(childdeps_get(g)->graph, c->name))
		return (false);
	log_info("child %s: waiting for its dependencies", c->name);
	return (true);
}

void
childdeps_unwait(struct child *c)
{
	if (c->gtd->deps != NULL)
		deps_unwait(c->gtd->deps->graph, c->name);
}

/* Is a row of name's closure still up (a process, or its hook)? */
static bool
childdeps_up(struct gtd *g, const char *name, enum deps_closure kind)
{
	return (deps_closure_any(g->deps->graph, name, kind,
	    childdeps_is_up, g));
}

/* Has the row named name a process, or one still going? */
static bool
childdeps_is_up(const char *name, void *arg)
{
	struct child	*d = child_find(arg, name);

	return (d != NULL && (d->pid > 0 || d->state == CHILD_STOPPING ||
	    d->state == CHILD_TERMINATING));
}

bool
childdeps_hold_stop(struct child *c, int64_t timeout_ms, bool delete_after)
{
	struct gtd		*g = c->gtd;
	struct childdeps	*cd = g->deps;
	struct deps_names	 cl = { NULL, 0, 0 };
	enum deps_closure	 kind;
	struct child		*d;
	size_t			 i;

	if (cd == NULL)
		return (false);
	for (i = 0; i < cd->nholds; i++) {
		if (strcmp(cd->holds[i].name, c->name) == 0) {
			cd->holds[i].delete_after |= delete_after;
			return (true);	/* held already */
		}
	}
	kind = g->shut->active ? DEPS_CL_ALL : DEPS_CL_STOP;
	deps_closure(cd->graph, c->name, kind, &cl);
	if (cl.n == 0) {
		deps_names_free(&cl);
		return (false);
	}
	/* Dependents first, in stop order (each before its dependencies). */
	for (i = 0; i < cl.n; i++)
		if ((d = child_find(g, cl.v[i])) != NULL && !d->want_down &&
		    d->state != CHILD_STOPPED)
			child_stop(d, -1, false);
	deps_names_free(&cl);
	if (!childdeps_up(g, c->name, kind))
		return (false);
	log_info("child %s: stopping after its dependents", c->name);
	cd->holds = xreallocarray(cd->holds, cd->nholds + 1,
	    sizeof *cd->holds);
	cd->holds[cd->nholds++] = (struct childdeps_hold){
	    .name = xstrdup(c->name), .timeout_ms = timeout_ms,
	    .delete_after = delete_after };
	c->want_down = true;		/* an exit meanwhile is requested */
	return (true);
}

/* Go on with each held stop whose dependents are all down now. */
static void
childdeps_release(struct gtd *g)
{
	struct childdeps	*cd = g->deps;
	struct childdeps_hold	 h;
	struct child		*c;
	size_t			 i;

	if (cd->releasing)
		return;			/* the outer call looks again */
	cd->releasing = true;
	for (i = 0; i < cd->nholds;) {
		c = child_find(g, cd->holds[i].name);
		if (c != NULL && childdeps_up(g, c->name, g->shut->active ?
		    DEPS_CL_ALL : DEPS_CL_STOP)) {
			i++;
			continue;
		}
		h = cd->holds[i];
		cd->holds[i] = cd->holds[--cd->nholds];
		if (c != NULL)
			child_stop(c, h.timeout_ms, h.delete_after);
		free(h.name);
		i = 0;			/* that stop may have changed others */
	}
	cd->releasing = false;
}

size_t
childdeps_unmet(struct gtd *g, const char *name, struct deps_unmet *out,
    size_t max)
{
	if (g->deps == NULL)
		return (0);
	return (deps_unmet(g->deps->graph, name, out, max));
}
