/* SPDX-License-Identifier: MIT */
/*
 * childgroup: OTP groups at run time (see childgroup.h).  The decisions
 * are group.c's; this file turns child states into what group.c
 * observes and walks its sequences: each step is issued once, and done
 * at the transition of its row that completes it (or when the row is
 * gone).  Nothing here polls; the only timer is a sequence's restart
 * delay.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gt/childgroup.h"
#include "gt/clock.h"
#include "gt/config.h"
#include "gt/event.h"
#include "gt/group.h"
#include "gt/gtd.h"
#include "gt/log.h"
#include "gt/reload.h"
#include "gt/spec.h"
#include "gt/xmalloc.h"

/* One group at run time. */
struct childgroup {
	struct gtd		*g;		/* weak */
	struct group_state	*gs;		/* owned */
	ev_timer		 timer;		/* a DELAY step */
	struct child		*cur;		/* ref'd: the current step's */
	bool			 issued;	/* its stop/start was issued */
	bool			 running;	/* in childgroup_run */
	bool			 again;		/* run again once out */
	bool			 gone;		/* not in the config any more */
	bool			 ending;	/* it ends the group */
	bool			 unheld;	/* look for held members */
};

/* The zone's groups, owned by struct gtd (g->groups). */
struct childgroups {
	struct childgroup	**v;		/* owned */
	size_t			  n;
};

static void	childgroup_run(struct childgroup *);
static void	childgroup_timer_cb(struct ev_loop *, ev_timer *, int);

static struct childgroup *
childgroup_find(struct gtd *g, const char *name)
{
	size_t	i;

	if (g->groups == NULL || name == NULL)
		return (NULL);
	for (i = 0; i < g->groups->n; i++)
		if (strcmp(group_conf_of(g->groups->v[i]->gs)->name,
		    name) == 0)
			return (g->groups->v[i]);
	return (NULL);
}

/* The spec that says c's membership: the next start's, if any. */
static const struct childspec *
childgroup_spec(const struct child *c)
{
	return (c->next_spec != NULL ? c->next_spec : c->spec);
}

/* The group c is a member of, or NULL. */
static struct childgroup *
childgroup_of(const struct child *c)
{
	struct childgroup	*gr;

	if ((gr = childgroup_find(c->gtd, childgroup_spec(c)->member_of)) !=
	    NULL && group_is_member(gr->gs, c->name))
		return (gr);
	return (NULL);
}

const char *
childgroup_name(const struct child *c)
{
	struct childgroup	*gr = childgroup_of(c);

	return (gr == NULL ? NULL : group_conf_of(gr->gs)->name);
}

/* Is c meant to run (group.h: group_set_active)? */
static bool
childgroup_active(const struct child *c)
{
	switch (c->state) {
	case CHILD_STARTING:
	case CHILD_RUNNING:
	case CHILD_WAITING:
	case CHILD_RESTARTING:
		return (true);
	case CHILD_STOPPING:
	case CHILD_TERMINATING:
		return (!c->want_down || c->bounce);
	default:
		return (false);
	}
}

/* The current step's row (a ref is held), or none. */
static void
childgroup_setcur(struct childgroup *gr, struct child *c)
{
	if (gr->cur == c)
		return;
	if (c != NULL)
		child_ref(c);
	if (gr->cur != NULL)
		child_unref(gr->cur);
	gr->cur = c;
	gr->issued = false;
}

/* The sequence was replaced, or its step is done: nothing issued. */
static void
childgroup_reset(struct childgroup *gr)
{
	childgroup_setcur(gr, NULL);
	gr->issued = false;
	gr->unheld = true;		/* once the sequence is over */
	ev_timer_stop(gr->g->loop, &gr->timer);
}

static void
childgroup_free_one(struct childgroup *gr)
{
	childgroup_reset(gr);
	group_free(gr->gs);
	free(gr);
}

void
childgroup_free(struct gtd *g)
{
	size_t	i;

	if (g->groups == NULL)
		return;
	for (i = 0; i < g->groups->n; i++)
		childgroup_free_one(g->groups->v[i]);
	free(g->groups->v);
	free(g->groups);
	g->groups = NULL;
}

/*
 * childgroup_sync for a reload: a row that its group held for a group
 * restart (restarting without a time) and that left the group is
 * started now, as its group would have.
 */
static void
childgroup_resync(struct child *c)
{
	struct childgroup	*was = childgroup_of(c);

	childgroup_sync(c);
	if (was != NULL && childgroup_of(c) != was &&
	    c->state == CHILD_RESTARTING && c->restart_at == 0) {
		log_info("child %s: left group %s while held, starting",
		    c->name, group_conf_of(was->gs)->name);
		(void)child_start_policy(c);
	}
}

void
childgroup_configure(struct gtd *g, const struct group_conf *confs, size_t n)
{
	struct childgroups	*gs;
	struct childgroup	*gr;
	struct child		*c, **all;
	size_t			 i, nall = 0;

	if (g->groups == NULL && n == 0)
		return;			/* a zone without groups pays nothing */
	if (g->groups == NULL)
		g->groups = xcalloc(1, sizeof *g->groups);
	gs = g->groups;
	for (i = 0; i < gs->n; i++)
		gs->v[i]->gone = true;
	for (i = 0; i < n; i++) {
		if ((gr = childgroup_find(g, confs[i].name)) != NULL) {
			if (!group_conf_equal(group_conf_of(gr->gs), &confs[i]))
				log_info("group %s: new settings",
				    confs[i].name);
			group_set_conf(gr->gs, &confs[i]);
			gr->gone = false;
			continue;
		}
		gr = xcalloc(1, sizeof *gr);
		gr->g = g;
		gr->gs = group_new(&confs[i]);
		gr->unheld = true;	/* rows restored restarting, if any */
		ev_init(&gr->timer, childgroup_timer_cb);
		gr->timer.data = gr;
		gs->v = xreallocarray(gs->v, gs->n + 1, sizeof *gs->v);
		gs->v[gs->n++] = gr;
	}
	/* A start may remove rows: walk a snapshot, each held by a ref. */
	all = xcalloc(g->tab->nchildren + 1, sizeof *all);
	TAILQ_FOREACH(c, &g->tab->children, entry) {
		child_ref(c);
		all[nall++] = c;
	}
	for (i = 0; i < nall; i++) {
		if (!(all[i]->flags & CHILD_DEAD))
			childgroup_resync(all[i]);
		child_unref(all[i]);
	}
	free(all);
	/* A group gone from the config goes with its last member. */
	for (i = 0; i < gs->n;) {
		gr = gs->v[i];
		if (gr->gone && group_nmembers(gr->gs) == 0) {
			childgroup_free_one(gr);
			gs->v[i] = gs->v[--gs->n];
		} else
			i++;
	}
}

int
childgroup_check(struct gtd *g, const struct childspec *s, char **field,
    char **cause)
{
	const struct group_conf	*gc = NULL;
	struct childgroup	*gr;

	if (s->member_of == NULL && s->significant) {
		*field = xstrdup("significant");
		*cause = xstrdup("significant needs member_of (only a group's "
		    "member can be significant)");
		return (-1);
	}
	if (s->member_of == NULL)
		return (0);
	if (g->rl->conf != NULL)
		gc = group_conf_find(g->rl->conf->groups, g->rl->conf->ngroups,
		    s->member_of);
	if (gc == NULL) {
		*field = xstrdup("member_of");
		xasprintf(cause, "no group %s in the config's groups",
		    s->member_of);
		return (-1);
	}
	if (group_member_check(gc, s->restart, s->significant, cause) ==
	    -1) {
		*field = xstrdup("significant");
		return (-1);
	}
	if ((gr = childgroup_find(g, s->member_of)) != NULL &&
	    group_nmembers(gr->gs) >= GROUP_MAX_MEMBERS) {
		*field = xstrdup("member_of");
		xasprintf(cause, "group %s has %d members already",
		    s->member_of, GROUP_MAX_MEMBERS);
		return (-1);
	}
	return (0);
}

int
childgroup_reload_check(struct gtd *g, const struct config *cf,
    char **field, char **cause)
{
	const struct childspec	*s;
	struct child		*c;
	size_t			 i;
	bool			 boot;

	TAILQ_FOREACH(c, &g->tab->children, entry) {
		s = childgroup_spec(c);
		if (s->member_of == NULL || group_conf_find(cf->groups,
		    cf->ngroups, s->member_of) != NULL)
			continue;
		for (i = 0, boot = false; i < cf->nchildren && !boot; i++)
			boot = strcmp(cf->children[i]->name, c->name) == 0;
		if (boot || c->boot)
			continue;	/* the new config says (checked) */
		*field = xstrdup("groups");
		xasprintf(cause, "group %s is gone from the config but child "
		    "%s (started at run time) is a member: delete it first",
		    s->member_of, c->name);
		return (-1);
	}
	return (0);
}

void
childgroup_sync(struct child *c)
{
	struct gtd		*g = c->gtd;
	const struct childspec	*s = childgroup_spec(c);
	struct childgroup	*gr, *want;
	char			*cause = NULL;
	size_t			 i;

	if (g->groups == NULL || (c->flags & CHILD_DEAD))
		return;
	want = childgroup_find(g, s->member_of);
	for (i = 0; i < g->groups->n; i++) {
		gr = g->groups->v[i];
		if (gr != want && group_is_member(gr->gs, c->name)) {
			log_info("child %s: leaves group %s", c->name,
			    group_conf_of(gr->gs)->name);
			group_leave(gr->gs, c->name);
			childgroup_run(gr);	/* a step of it may be done */
		}
	}
	if (want == NULL || group_is_member(want->gs, c->name))
		return;
	if (group_join(want->gs, c->name, s->restart, s->significant,
	    &cause) == -1) {
		log_warnx("child %s: not in group %s: %s", c->name,
		    s->member_of, cause);
		free(cause);
		return;
	}
	group_set_active(want->gs, c->name, childgroup_active(c));
	log_debug("child %s: member of group %s", c->name, s->member_of);
}

void
childgroup_removed(struct child *c)
{
	struct childgroup	*gr;

	if ((gr = childgroup_of(c)) == NULL)
		return;
	group_leave(gr->gs, c->name);
	childgroup_run(gr);		/* its step, if any, is done */
}

void
childgroup_changed(struct child *c, enum child_state old)
{
	struct childgroup	*gr;

	if ((c->flags & CHILD_DEAD) || (gr = childgroup_of(c)) == NULL)
		return;
	group_set_active(gr->gs, c->name, childgroup_active(c));
	childgroup_run(gr);
}

enum policy_action
childgroup_decided(struct child *c, enum policy_action a, int status,
    int64_t delay_ms, bool gave_up, bool *held)
{
	struct gtd		*g = c->gtd;
	struct childgroup	*gr;
	struct group_exit	 e;
	enum group_verdict	 v;
	const char		*gname;

	*held = false;
	if ((gr = childgroup_of(c)) == NULL)
		return (a);
	gname = group_conf_of(gr->gs)->name;
	e = (struct group_exit){ .name = c->name, .action = a,
	    .gave_up = gave_up, .requested = c->want_down || g->shut->active,
	    .success = spec_exit_is_success(c->spec, status),
	    .status = status, .delay_ms = delay_ms,
	    .now_ms = clock_mono_ms() };
	v = group_decide(gr->gs, &e);
	if (v == GROUP_ALONE || g->shut->active)
		return (a);
	if (v == GROUP_ENDING) {	/* the sequence goes on without it */
		log_info("group %s: ending, %s stays down", gname, c->name);
		return (a == POLICY_RESTART ? POLICY_STOP : a);
	}
	childgroup_reset(gr);		/* a new sequence */
	switch (v) {
	case GROUP_RESTART:
		gr->ending = false;
		log_info("group %s: %s exited, restarting the group (%s)",
		    gname, c->name,
		    group_strategy_name(group_conf_of(gr->gs)->strategy));
		*held = true;
		return (POLICY_RESTART);
	case GROUP_GIVE_UP:
		log_warnx("group %s: restart intensity reached (%s exited), "
		    "%s", gname, c->name, spec_give_up_name(
		    group_conf_of(gr->gs)->on_give_up));
		gr->ending = true;
		c->gave_up = true;
		event_child_gave_up(g->events, c, "group");
		return (POLICY_STOP);
	case GROUP_SHUTDOWN:
		gr->ending = true;
		log_info("group %s: significant member %s ended, auto_shutdown "
		    "%s: %s", gname, c->name, group_auto_name(
		    group_conf_of(gr->gs)->auto_shutdown), spec_give_up_name(
		    group_conf_of(gr->gs)->on_give_up));
		return (a);
	default:
		return (a);
	}
}

static void
childgroup_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct childgroup	*gr = w->data;

	gr->issued = false;
	(void)group_seq_done(gr->gs, NULL);
	childgroup_run(gr);
}

/* Has c no process (and no stop on its way)? */
static bool
childgroup_down(const struct child *c)
{
	return (c->pid == -1 && c->state != CHILD_STOPPING &&
	    c->state != CHILD_TERMINATING);
}

/* The current step is done: the next one. */
static bool
childgroup_done(struct childgroup *gr, const char *name)
{
	childgroup_reset(gr);
	(void)group_seq_done(gr->gs, name);
	return (true);
}

/* END: on_give_up for every member (a copy: deleting one changes them). */
static void
childgroup_end(struct childgroup *gr, const struct group_step *st)
{
	struct gtd	 *g = gr->g;
	const char	 *gname = group_conf_of(gr->gs)->name;
	char		**names;
	struct child	 *c;
	size_t		  i, n = group_nmembers(gr->gs);

	switch (st->end) {
	case SPEC_GIVE_UP_STOP:
		log_info("group %s: ended, its members stay stopped", gname);
		/* A member still held (or waiting) stops for good. */
		for (i = 0; i < group_nmembers(gr->gs); i++)
			if ((c = child_find(g, group_member_name(gr->gs,
			    i))) != NULL && (c->state == CHILD_RESTARTING ||
			    c->state == CHILD_WAITING))
				child_stop(c, -1, false);
		break;
	case SPEC_GIVE_UP_DELETE:
		log_info("group %s: ended, deleting its members", gname);
		names = xcalloc(n + 1, sizeof *names);
		for (i = 0; i < n; i++)
			names[i] = xstrdup(group_member_name(gr->gs, i));
		for (i = 0; i < n; i++) {
			if ((c = child_find(g, names[i])) != NULL)
				child_stop(c, -1, true);
			free(names[i]);
		}
		free(names);
		break;
	case SPEC_GIVE_UP_EXIT:
		log_warnx("group %s: ended, gtd exits with status %d", gname,
		    st->exit_code);
		gtd_shutdown(g, st->exit_code, -1);
		break;
	}
}

/*
 * No sequence: a member still held for a group restart (restarting
 * without a time: a sequence that would have started it was replaced
 * by one that does not) starts now.  true if one did.
 */
static bool
childgroup_unheld(struct childgroup *gr)
{
	struct child	*c;
	size_t		 i;

	if (!gr->unheld)
		return (false);		/* no change since the last look */
	for (i = 0; i < group_nmembers(gr->gs); i++) {
		c = child_find(gr->g, group_member_name(gr->gs, i));
		if (c != NULL && c->state == CHILD_RESTARTING &&
		    c->restart_at == 0) {
			log_info("group %s: starting %s", group_conf_of(
			    gr->gs)->name, c->name);
			(void)child_start_policy(c);
			return (true);
		}
	}
	gr->unheld = false;
	return (false);
}

/*
 * Walk the current step: true if it is done (look at the next one),
 * false if it waits for a transition (or there is none).
 */
static bool
childgroup_step(struct childgroup *gr)
{
	struct gtd		*g = gr->g;
	struct group_step	 st;
	struct child		*c;
	const char		*gname = group_conf_of(gr->gs)->name;

	if (g->shut->active)
		return (false);
	group_seq_next(gr->gs, &st);
	if (st.kind == GROUP_STEP_NONE)
		return (childgroup_unheld(gr));
	c = st.name != NULL ? child_find(g, st.name) : NULL;
	if (c != gr->cur && st.kind != GROUP_STEP_DELAY &&
	    st.kind != GROUP_STEP_END)
		childgroup_setcur(gr, c);	/* a new row: nothing issued */
	switch (st.kind) {
	case GROUP_STEP_STOP:
		/* Down for good if the group ends, else held for its start. */
		if (c == NULL)
			return (childgroup_done(gr, st.name));
		if (childgroup_down(c)) {
			if (c->state == CHILD_RESTARTING ||
			    c->state == CHILD_WAITING) {
				if (gr->ending)
					child_stop(c, -1, false);
				else
					child_hold(c);
			}
			return (childgroup_done(gr, st.name));
		}
		if (!gr->issued) {
			gr->issued = true;
			log_info("group %s: stopping %s", gname, c->name);
			if (gr->ending)
				child_stop(c, -1, false);
			else
				child_hold(c);
			return (true);		/* look again */
		}
		return (false);
	case GROUP_STEP_REMOVE:
		if (c == NULL || (c->flags & CHILD_DEAD))
			return (childgroup_done(gr, st.name));
		if (!gr->issued) {
			gr->issued = true;
			child_stop(c, -1, true);
			return (true);
		}
		return (false);
	case GROUP_STEP_DELAY:
		if (!gr->issued) {
			gr->issued = true;
			ev_timer_set(&gr->timer, (double)st.delay_ms / 1000.0,
			    0.);
			ev_timer_start(g->loop, &gr->timer);
		}
		return (false);
	case GROUP_STEP_START:
		if (c == NULL)
			return (childgroup_done(gr, st.name));
		switch (c->state) {
		case CHILD_RUNNING:
			return (childgroup_done(gr, st.name));
		case CHILD_STOPPED:
			/* Failed, or stopped on request meanwhile: go on. */
			log_info("group %s: %s %s, going on", gname, c->name,
			    gr->issued ? "did not start" : "stays stopped");
			return (childgroup_done(gr, st.name));
		case CHILD_RESTARTING:
			if (gr->issued)
				return (false);	/* its policy restarts it */
			gr->issued = true;
			log_info("group %s: starting %s", gname, c->name);
			(void)child_start_policy(c);	/* decided if fails */
			return (true);
		default:		/* starting, waiting, on its way down */
			gr->issued = true;
			return (false);
		}
	case GROUP_STEP_END:
		(void)group_seq_done(gr->gs, NULL);
		childgroup_reset(gr);
		childgroup_end(gr, &st);
		return (true);
	default:
		return (false);
	}
}

/* Walk the group's sequence as far as it goes now. */
static void
childgroup_run(struct childgroup *gr)
{
	if (gr->running) {
		gr->again = true;	/* the outer call looks again */
		return;
	}
	gr->running = true;
	do {
		gr->again = false;
		while (childgroup_step(gr))
			;
	} while (gr->again);
	gr->running = false;
}
