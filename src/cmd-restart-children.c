/* SPDX-License-Identifier: MIT */
/*
 * cmd-restart-children: a rolling restart (protocol §9.1).  The names
 * given, or every row made from a template (in start order), are
 * restarted as by restart_child force, at most max_unavailable at a
 * time: the next one is stopped only once one in flight is running
 * again, so with the default of 1 each new incarnation is ready before
 * the next old one is stopped.  The reply comes after the roll:
 * {"restarted": [names]}, or the error of the first instance that did
 * not come back, with "name" and the "restarted" so far; no further
 * instance is begun then (those in flight are waited for), so the rest
 * are untouched.
 *
 * At its turn an instance that was deleted, or that has no process to replace
 * (stopped, waiting, stopping), is skipped ("skipped").  A row deleted while it
 * is in flight fails the roll (not_found).  A name may be in one roll at a
 * time: a second roll of any of its names is refused with busy.  timeout_ms
 * bounds the wait for each instance (its own ready_timeout_ms bounds its start,
 * not a wait on its dependencies): a late one fails the roll with timeout and
 * is left as it is.  The roll goes on when its requester disconnects (the reply
 * is dropped), as every waiting op does; terminate_child of the instance in
 * flight stops it.  The loop never waits: each step is a state change of a
 * child, on which the roll holds a ref.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "gt/cmd.h"
#include "gt/config.h"
#include "gt/gtd.h"
#include "gt/protocol.h"
#include "gt/spec.h"
#include "gt/xmalloc.h"

#define ROLL_MAX_UNAVAILABLE	1024	/* instances in flight, at most */

struct roll;

/* One instance in flight: its ref and its start waiter. */
struct roll_slot {
	struct roll		*r;		/* weak: the owner */
	struct child		*c;		/* ref held, or NULL: free */
	struct child_waiter	 w;
	ev_timer		 timer;		/* timeout_ms */
	unsigned		 incarnation;	/* waited for */
	unsigned		 old;		/* the one replaced */
	bool			 had_proc;	/* the new one must differ */
	bool			 timed_out;
};

/* The state of one roll: ctx->op, freed with the request. */
struct roll {
	struct cmd_ctx		*ctx;		/* weak: the request */
	char			**names;	/* owned, roll order */
	const char		**sorted;	/* names, sorted: busy check */
	size_t			 n;
	size_t			 next;		/* the next name to begin */
	size_t			 inflight;
	size_t			 nslots;
	struct roll_slot	*slots;		/* owned */
	int64_t			 timeout_ms;	/* per instance; 0: none */
	json_t			*restarted;	/* owned */
	json_t			*skipped;	/* owned */
	bool			 failed;	/* no further instance */
	bool			 in_step;	/* roll_step is running */
};

static enum cmd_ret	cmd_restart_children_exec(struct cmd_ctx *, json_t *);
static int		roll_names(struct cmd_ctx *, json_t *, struct roll *);
static int		roll_template(struct cmd_ctx *, const char *,
			    struct roll *);
static int		roll_check(struct cmd_ctx *, struct roll *);
static void		roll_free(void *);
static bool		roll_step(struct roll *);
static void		roll_begin(struct roll *, struct roll_slot *,
			    struct child *);
static void		roll_wake(struct child *, void *);
static void		roll_timer_cb(struct ev_loop *, ev_timer *, int);
static bool		roll_settle(struct roll_slot *, enum cmd_ready);

static const char *const cmd_restart_children_args[] = { "names", "template",
    "max_unavailable", "timeout_ms", NULL };

const struct cmd_entry cmd_restart_children_entry = {
	.name = "restart_children",
	.access = ACL_CONTROL,
	.usage = "names=[NAME,...]|template=NAME [max_unavailable=N] "
	    "[timeout_ms=N]",
	.flags = CMD_MUTATES,
	.keys = cmd_restart_children_args,
	.exec = cmd_restart_children_exec
};

static int
roll_cmp(const void *a, const void *b)
{
	return (strcmp(*(const char *const *)a, *(const char *const *)b));
}

static enum cmd_ret
cmd_restart_children_exec(struct cmd_ctx *ctx, json_t *args)
{
	struct roll			*r;
	json_t				*names;
	const char			*tpl = NULL;
	int64_t				 max = 1, timeout = 0;
	size_t				 i;

	if (cmd_arg_string(ctx, args, "template", false, &tpl) == -1 ||
	    cmd_arg_int(ctx, args, "max_unavailable", 1,
	    ROLL_MAX_UNAVAILABLE, &max) == -1 ||
	    cmd_arg_int(ctx, args, "timeout_ms", 1, SPEC_MAX_MS,
	    &timeout) == -1)
		return (CMD_ERROR);
	names = args != NULL ? json_object_get(args, "names") : NULL;
	if ((names == NULL) == (tpl == NULL)) {
		cmd_bad(ctx, "names", "give either names or template");
		return (CMD_ERROR);
	}
	r = cmd_opdata(ctx, sizeof *r, roll_free); /* on every path now */
	r->ctx = ctx;
	if ((names != NULL ? roll_names(ctx, names, r) :
	    roll_template(ctx, tpl, r)) == -1 || roll_check(ctx, r) == -1)
		return (CMD_ERROR);
	r->nslots = (size_t)max < r->n ? (size_t)max : r->n;
	r->slots = xcalloc(r->nslots, sizeof *r->slots);
	r->timeout_ms = timeout;
	for (i = 0; i < r->nslots; i++) {
		ev_init(&r->slots[i].timer, roll_timer_cb);
		r->slots[i].timer.data = &r->slots[i];
	}
	r->restarted = json_array();
	r->skipped = json_array();
	ctx->wait = true;
	if (!roll_step(r))
		return (CMD_WAIT);
	return (ctx->err != NULL ? CMD_ERROR : CMD_OK);	/* nothing waited */
}

/* names: an array of distinct names of rows; copied into r. */
static int
roll_names(struct cmd_ctx *ctx, json_t *names, struct roll *r)
{
	struct gtd	*g = ctx->gtd;
	json_t		*v;
	const char	*s;
	size_t		 i;

	if (!json_is_array(names) || json_array_size(names) == 0 ||
	    json_array_size(names) > (size_t)g->lim.max_children) {
		cmd_bad(ctx, "names", "names must be an array of 1 to %d "
		    "names", g->lim.max_children);
		return (-1);
	}
	r->names = xcalloc(json_array_size(names) + 1, sizeof *r->names);
	json_array_foreach(names, i, v) {
		s = json_string_value(v);
		if (s == NULL || strlen(s) != json_string_length(v) ||
		    *s == '\0' || strlen(s) > GT_NAME_MAX) {
			cmd_bad(ctx, "names", "names.%zu must be a name", i);
			return (-1);
		}
		if (child_find(g, s) == NULL) {
			cmd_error(ctx, GT_E_NOT_FOUND, "no child named %.128s "
			    "(names.%zu): nothing was restarted", s, i);
			cmd_set_str(ctx, "name", s);
			return (-1);
		}
		r->names[r->n++] = xstrdup(s);
	}
	return (0);
}

/* Every row made from template tpl, in start order. */
static int
roll_template(struct cmd_ctx *ctx, const char *tpl, struct roll *r)
{
	struct gtd	*g = ctx->gtd;
	struct child	*c;
	size_t		 n = 0;

	TAILQ_FOREACH(c, &g->tab->children, entry)
		if (c->spec->template != NULL &&
		    strcmp(c->spec->template, tpl) == 0)
			n++;
	if (n == 0) {
		cmd_error(ctx, GT_E_NOT_FOUND, "no child was made from "
		    "template %.128s", tpl);
		return (-1);
	}
	r->names = xcalloc(n + 1, sizeof *r->names);
	TAILQ_FOREACH(c, &g->tab->children, entry)
		if (c->spec->template != NULL &&
		    strcmp(c->spec->template, tpl) == 0)
			r->names[r->n++] = xstrdup(c->name);
	return (0);
}

/*
 * The names as a whole: no name twice, none that could not start again
 * (adopted without a cmd), none in a roll in progress (busy).
 */
static int
roll_check(struct cmd_ctx *ctx, struct roll *r)
{
	struct cmd_ctx	*o;
	struct roll	*or;
	struct child	*c;
	size_t		 i;

	r->sorted = xreallocarray(NULL, r->n, sizeof *r->sorted);
	memcpy(r->sorted, r->names, r->n * sizeof *r->sorted);
	qsort(r->sorted, r->n, sizeof *r->sorted, roll_cmp);
	for (i = 1; i < r->n; i++)
		if (strcmp(r->sorted[i - 1], r->sorted[i]) == 0) {
			cmd_bad(ctx, "names", "%.128s is named twice",
			    r->sorted[i]);
			return (-1);
		}
	for (i = 0; i < r->n; i++)
		if ((c = child_find(ctx->gtd, r->names[i])) != NULL &&
		    c->spec->ncmd == 0) {
			cmd_bad(ctx, "names", "%s was adopted without a cmd: "
			    "it cannot be started again", c->name);
			return (-1);
		}
	TAILQ_FOREACH(o, &ctx->gtd->cmd->waiting, wentry) {
		if (o->entry != &cmd_restart_children_entry ||
		    (or = o->op) == NULL)
			continue;
		for (i = 0; i < r->n; i++)
			if (bsearch(&r->names[i], or->sorted, or->n,
			    sizeof *or->sorted, roll_cmp) != NULL) {
				cmd_error(ctx, GT_E_BUSY, "%.128s is in a "
				    "rolling restart already", r->names[i]);
				cmd_set_str(ctx, "name", r->names[i]);
				return (-1);
			}
	}
	return (0);
}

/* What the roll holds (cmd_opdata's dtor: r itself is freed after). */
static void
roll_free(void *p)
{
	struct roll	*r = p;
	size_t		 i;

	for (i = 0; i < r->nslots; i++) {
		ev_timer_stop(r->ctx->gtd->loop, &r->slots[i].timer);
		if (r->slots[i].c != NULL) {
			child_unwait(r->slots[i].c, &r->slots[i].w);
			child_unref(r->slots[i].c);
		}
	}
	for (i = 0; i < r->n; i++)
		free(r->names[i]);
	free(r->names);
	free(r->sorted);
	free(r->slots);
	json_decref(r->restarted);
	json_decref(r->skipped);
}

/*
 * Begin instances while a slot is free and the roll has not failed.
 * True when the roll is over: nothing in flight, nothing more to begin
 * (the result, or the error, is set in the request).
 */
static bool
roll_step(struct roll *r)
{
	struct cmd_ctx	*ctx = r->ctx;
	struct child	*c;
	size_t		 i;

	/* A restart may wake another instance in flight, here within. */
	r->in_step = true;
	while (!r->failed && r->next < r->n && r->inflight < r->nslots) {
		if (ctx->gtd->shut->active) {
			cmd_error(ctx, GT_E_SHUTTING_DOWN,
			    "gtd is shutting down");
			r->failed = true;
			break;
		}
		c = child_find(ctx->gtd, r->names[r->next]);
		if (c == NULL || (c->state != CHILD_STARTING &&
		    c->state != CHILD_RUNNING &&
		    c->state != CHILD_RESTARTING)) {
			json_array_append_new(r->skipped,
			    json_string(r->names[r->next++]));
			continue;
		}
		r->next++;
		for (i = 0; r->slots[i].c != NULL; i++)
			;
		roll_begin(r, &r->slots[i], c);
	}
	r->in_step = false;
	if (r->inflight > 0 || (!r->failed && r->next < r->n))
		return (false);
	cmd_set(ctx, "restarted", json_incref(r->restarted));
	if (json_array_size(r->skipped) > 0)
		cmd_set(ctx, "skipped", json_incref(r->skipped));
	return (true);
}

/* Restart c in slot s (it may end at once: roll_settle). */
static void
roll_begin(struct roll *r, struct roll_slot *s, struct child *c)
{
	s->r = r;
	s->c = c;
	child_ref(c);
	s->old = c->incarnation;
	s->had_proc = child_is_alive(c) || (c->state == CHILD_STARTING &&
	    !c->queued);
	s->w.cb = roll_wake;
	s->w.arg = s;
	s->timed_out = false;
	r->inflight++;
	if (r->timeout_ms > 0) {
		ev_timer_set(&s->timer, r->timeout_ms / 1000.0, 0.);
		ev_timer_start(r->ctx->gtd->loop, &s->timer);
	}
	if (child_restart(c) == -1) {
		roll_settle(s, CMD_READY_FAILED);
		return;
	}
	s->incarnation = c->incarnation;
	roll_settle(s, cmd_ready_check(c, &s->incarnation));
}

/* A state change of an instance in flight. */
static void
roll_wake(struct child *c, void *arg)
{
	struct roll_slot	*s = arg;
	struct roll		*r = s->r;

	if (roll_settle(s, cmd_ready_check(c, &s->incarnation)) &&
	    !r->in_step && roll_step(r))
		cmd_finish(r->ctx);		/* frees r */
}

/* timeout_ms ran out for the instance of s: it is left as it is. */
static void
roll_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct roll_slot	*s = w->data;
	struct roll		*r = s->r;

	child_unwait(s->c, &s->w);
	s->timed_out = true;
	if (roll_settle(s, CMD_READY_FAILED) && !r->in_step && roll_step(r))
		cmd_finish(r->ctx);		/* frees r */
}

/*
 * The verdict v on the instance of s: wait on, or it came back (ok) or
 * did not (the first failure is the roll's error).  True when s ended.
 */
static bool
roll_settle(struct roll_slot *s, enum cmd_ready v)
{
	struct roll	*r = s->r;
	struct cmd_ctx	*ctx = r->ctx;
	struct child	*c = s->c;

	/* A stop held for dependents leaves the old one running a while. */
	if (v == CMD_READY_OK && s->had_proc && c->incarnation == s->old &&
	    !(c->flags & CHILD_DEAD))
		v = CMD_READY_WAIT;
	if (v == CMD_READY_WAIT) {
		child_wait(c, &s->w);
		return (false);
	}
	ev_timer_stop(ctx->gtd->loop, &s->timer);
	if (v == CMD_READY_OK)
		json_array_append_new(r->restarted, json_string(c->name));
	else if (!r->failed) {
		r->failed = true;
		if (s->timed_out)
			cmd_error(ctx, GT_E_TIMEOUT, "%s was not back within "
			    "timeout_ms (%lld); it is left %s", c->name,
			    (long long)r->timeout_ms,
			    child_state_name(c->state));
		else if (c->flags & CHILD_DEAD)
			cmd_error(ctx, GT_E_NOT_FOUND, "%s was deleted during "
			    "the rolling restart", c->name);
		else
			cmd_start_failed(ctx, c);
		cmd_set_str(ctx, "name", c->name);
	}
	s->c = NULL;
	child_unref(c);
	r->inflight--;
	return (true);
}
