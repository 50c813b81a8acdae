/* SPDX-License-Identifier: MIT */
/*
 * reload: boot children and config reloads (see reload.h).  Never blocks:
 * the boot sequence advances from child state changes, not by waiting.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gt/child.h"
#include "gt/childgroup.h"
#include "gt/config.h"
#include "gt/gtd.h"
#include "gt/log.h"
#include "gt/reload.h"
#include "gt/snapshot.h"
#include "gt/xmalloc.h"

/* The boot sequence in progress (one per daemon, freed when it ends). */
struct reload_boot {
	struct gtd		*gtd;
	size_t			 next;		/* index into conf->children */
	struct child		*cur;		/* ref held */
	struct child_waiter	 w;
	void			(*done)(struct gtd *, bool);
	bool			 reload;	/* one came meanwhile */
};

static void	reload_boot_next(struct reload_boot *);
static void	reload_boot_wake(struct child *, void *);
struct reload_ctx;
static void	reload_warn(struct reload_ctx *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

struct reload_state *
reload_state_new(void)
{
	struct reload_state	*rl = xcalloc(1, sizeof *rl);

	rl->readyfd = -1;
	return (rl);
}

void
reload_state_free(struct reload_state *rl)
{
	if (rl == NULL)
		return;
	config_free(rl->conf);
	free(rl->path);
	free(rl->boot);		/* a boot cut short by shutdown */
	if (rl->readyfd >= 0)
		close(rl->readyfd);
	free(rl);
}

static void
reload_boot_end(struct reload_boot *b, bool ok)
{
	struct gtd	*g = b->gtd;
	char		*field = NULL, *cause = NULL;
	bool		 reload = b->reload;

	if (b->cur != NULL)
		child_unref(b->cur);
	g->rl->boot = NULL;
	if (!ok)
		log_warnx("boot child %zu did not start", b->next - 1);
	b->done(g, ok);
	free(b);
	/* A reload asked for during the boot: the file as it is now. */
	if (ok && reload && !g->shut->active &&
	    reload_apply(g, &field, &cause) == -1) {
		log_warnx("reload queued during the boot failed, nothing "
		    "changed: %s%s%s", field != NULL ? field : "",
		    field != NULL && *field != '\0' ? ": " : "", cause);
		free(field);
		free(cause);
	}
}

bool
reload_queued(const struct gtd *g)
{
	return (g->rl->boot != NULL && g->rl->boot->reload);
}

void
reload_boot(struct gtd *g, void (*done)(struct gtd *, bool ok))
{
	struct reload_boot	*b;

	b = xcalloc(1, sizeof *b);
	b->gtd = g;
	b->done = done;
	b->w.cb = reload_boot_wake;
	b->w.arg = b;
	g->rl->boot = b;
	reload_boot_next(b);
}

/* Start the next boot child, or finish. */
static void
reload_boot_next(struct reload_boot *b)
{
	struct gtd		*g = b->gtd;
	struct config		*cf = g->rl->conf;
	struct childspec	*s;
	struct child		*c;

	if (b->cur != NULL) {
		child_unref(b->cur);
		b->cur = NULL;
	}
	if (cf == NULL || b->next == cf->nchildren) {
		reload_boot_end(b, true);
		return;
	}
	s = cf->children[b->next];
	cf->children[b->next++] = NULL;		/* taken */
	if (child_find(g, s->name) != NULL) {
		/* A client was quicker (start_child during the boot). */
		log_warnx("boot: %s exists already (a client started it "
		    "during the boot): kept as it is", s->name);
		spec_free(s);
		reload_boot_next(b);
		return;
	}
	if ((c = child_add(g, s, config_spec_text(s))) == NULL) {
		log_warn("boot child %zu", b->next - 1);	/* ENOSPC */
		reload_boot_end(b, false);
		return;
	}
	c->boot = true;
	if (child_start(c) == -1) {
		reload_boot_end(b, false);
		return;
	}
	/* A waiting child starts when its dependencies let it. */
	if (c->state == CHILD_RUNNING || c->state == CHILD_WAITING) {
		reload_boot_next(b);
		return;
	}
	b->cur = c;
	child_ref(c);
	child_wait(c, &b->w);
}

static void
reload_boot_wake(struct child *c, void *arg)
{
	struct reload_boot	*b = arg;

	if (c->state == CHILD_RUNNING)
		reload_boot_next(b);
	else if (!(c->flags & CHILD_DEAD) && (c->state == CHILD_STARTING ||
	    c->bounce))			/* restart force: it comes back */
		child_wait(c, &b->w);
	else if (c->want_down || c->last_requested || c->released) {
		/* A client stopped it: its decision, not a failed boot. */
		log_info("boot: %s was stopped on request before it was "
		    "ready; the boot goes on", c->name);
		reload_boot_next(b);
	} else
		reload_boot_end(b, false);
}

/* One reload: the configs, whether it only looks, what it found. */
struct reload_ctx {
	struct gtd		*gtd;
	const struct config	*old;
	struct config		*cf;
	bool			 dry;
	struct reload_report	*rep;
};

static const char *const reload_what_names[] = {
	[RELOAD_STARTED] = "started",
	[RELOAD_STOPPED] = "stopped",
	[RELOAD_CHANGED] = "changed",
	[RELOAD_UNCHANGED] = "unchanged",
	[RELOAD_ABSENT] = "absent",
	[RELOAD_FAILED] = "failed"
};

const char *
reload_what_name(enum reload_what w)
{
	return (reload_what_names[w]);
}

void
reload_report_free(struct reload_report *rep)
{
	int	i;

	for (i = 0; i < RELOAD_NWHAT; i++)
		spec_strv_free(rep->names[i]);
	spec_strv_free(rep->warnings);
	memset(rep, 0, sizeof *rep);
}

static void
reload_note(struct reload_ctx *r, enum reload_what w, const char *name)
{
	spec_strv_add(&r->rep->names[w], &r->rep->n[w], name);
}

/* A problem that did not stop the reload: logged and reported. */
static void
reload_warn(struct reload_ctx *r, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	if (msg == NULL)
		return;
	if (!r->dry)
		log_warnx("reload: %s", msg);
	spec_strv_add(&r->rep->warnings, &r->rep->nwarnings, msg);
	free(msg);
}

/*
 * A new spec for an existing row, from its next start on.  Returns
 * whether it changed: whether it differs from what its next start would
 * have run before.
 */
static bool
reload_respec(struct reload_ctx *r, struct child *c, struct childspec *s)
{
	char	*text = config_spec_text(s), *cur;
	int	 same_cur, same_next;

	/* The current text is made again: the mirror holds the only copy. */
	cur = config_spec_text_as(c->spec, c->name);
	same_cur = strcmp(text, cur) == 0;
	same_next = c->next_json != NULL ? strcmp(text, c->next_json) == 0 :
	    same_cur;
	free(cur);
	if (r->dry || same_next) {
		free(text);
		spec_free(s);
		return (!same_next);
	}
	spec_free(c->next_spec);
	free(c->next_json);
	c->next_spec = NULL;
	c->next_json = NULL;
	if (same_cur) {			/* back to what runs: nothing pending */
		log_info("child %s: spec change withdrawn", c->name);
		free(text);
		spec_free(s);
		return (true);
	}
	log_info("child %s: new spec, applied at its next start", c->name);
	c->next_spec = s;
	c->next_json = text;
	return (true);
}

/* The text of name's spec in cf, or NULL if cf has no such boot child. */
static const char *
reload_text(const struct config *cf, const char *name)
{
	size_t	i;

	for (i = 0; i < cf->nchildren; i++)
		if (strcmp(cf->names[i], name) == 0)
			return (cf->texts[i]);
	return (NULL);
}

/* A boot child of cf without a row: start it, or leave it absent. */
static void
reload_add(struct reload_ctx *r, struct childspec *s, const char *text)
{
	struct child	*c;
	const char	*was = reload_text(r->old, s->name);
	char		*name;

	/*
	 * Its row is gone though the old config had it, the same: it ran
	 * (a temporary child) or was deleted, and stays so.  A new or
	 * changed entry starts.
	 */
	if (was != NULL && strcmp(was, text) == 0) {
		reload_note(r, RELOAD_ABSENT, s->name);
		spec_free(s);
		return;
	}
	if (r->dry) {
		reload_note(r, RELOAD_STARTED, s->name);
		spec_free(s);
		return;
	}
	/* A copy: child_add frees s on failure, a failed start the row. */
	name = xstrdup(s->name);
	if ((c = child_add(r->gtd, s, config_spec_text(s))) == NULL) {
		reload_warn(r, "child %s: %s", name, strerror(errno));
		reload_note(r, RELOAD_FAILED, name);
		free(name);
		return;
	}
	c->boot = true;
	log_info("child %s: %s the config, starting", c->name,
	    was == NULL ? "new in" : "changed in");
	reload_note(r, child_start(c) == 0 ? RELOAD_STARTED : RELOAD_FAILED,
	    name);
	free(name);
}

/*
 * Boot children: start the ones new (or changed) in the config, re-spec
 * the ones with a row.  A row that is gone though the old config had it
 * the same (a temporary child that ran) is not started again.
 */
static void
reload_children(struct reload_ctx *r)
{
	struct config	*cf = r->cf;
	struct child	*c;
	size_t		 i;

	for (i = 0; i < cf->nchildren; i++) {
		if ((c = child_find(r->gtd, cf->children[i]->name)) != NULL) {
			if (!r->dry)
				c->boot = true;
			reload_note(r, reload_respec(r, c, cf->children[i]) ?
			    RELOAD_CHANGED : RELOAD_UNCHANGED, c->name);
		} else
			reload_add(r, cf->children[i], cf->texts[i]);
		cf->children[i] = NULL;		/* taken either way */
	}
}

/* A row made from a template at run time, its template changed. */
static void
reload_template_user(struct reload_ctx *r, struct child *c)
{
	struct childspec	*s;
	json_t			*inst;
	char			*field = NULL, *cause = NULL;

	inst = json_loads(c->inst_json, 0, NULL);
	if ((s = config_spec_build(&r->cf->tpl, inst, &field, &cause)) ==
	    NULL)
		reload_warn(r, "child %s: its template no longer fits (%s: "
		    "%s), keeping the old spec", c->name, field, cause);
	else if (reload_respec(r, c, s))	/* unchanged: not listed */
		reload_note(r, RELOAD_CHANGED, c->name);
	free(field);
	free(cause);
	json_decref(inst);
}

/* One row: gone from the config, it stops and goes; else re-spec. */
static void
reload_other(struct reload_ctx *r, struct child *c)
{
	if (c->boot && reload_text(r->cf, c->name) == NULL) {
		reload_note(r, RELOAD_STOPPED, c->name);
		if (r->dry)
			return;
		log_info("child %s: gone from the config, stopping", c->name);
		c->boot = false;
		child_stop(c, -1, true);
		return;
	}
	if (!c->boot && c->inst_json != NULL &&
	    config_tpl_changed(&r->old->tpl, &r->cf->tpl, c->spec->template))
		reload_template_user(r, c);
}

/*
 * Boot rows gone from the config stop and go; template users re-spec.
 * Stopping one wakes its waiters, which may start, stop or remove
 * others: walk a snapshot of the rows, each held by a ref.
 */
static void
reload_others(struct reload_ctx *r)
{
	struct gtd	 *g = r->gtd;
	struct child	**all, *c;
	int		  n = 0, i;

	all = xcalloc(g->tab->nchildren + 1, sizeof *all);
	TAILQ_FOREACH(c, &g->tab->children, entry) {
		child_ref(c);
		all[n++] = c;
	}
	for (i = 0; i < n; i++) {
		if (!(all[i]->flags & CHILD_DEAD))
			reload_other(r, all[i]);
		child_unref(all[i]);
	}
	free(all);
}

/* The settings that apply at once (not in a dry run). */
static void
reload_settings(struct reload_ctx *r)
{
	struct gtd	*g = r->gtd;
	struct config	*cf = r->cf;
	char		*cause = NULL;

	g->lim = cf->lim;
	if (!g->rl->debug)		/* -d wins over the config */
		log_set_level(cf->log_level);
	snapshot_free(g->snapshot);
	g->snapshot = NULL;
	if (cf->snapshot_path != NULL && (g->snapshot = snapshot_new(g,
	    cf->snapshot_path, cf->snapshot_interval_ms, &cause)) == NULL) {
		reload_warn(r, "snapshot: %s", cause);
		free(cause);
	}
}

static bool
reload_str_differs(const char *a, const char *b)
{
	return ((a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0));
}

/* Does the "cluster" object differ (applied only at gtd's start)? */
static bool
reload_cluster_differs(const struct config_cluster *a,
    const struct config_cluster *b)
{
	size_t	i;

	if (a == NULL || b == NULL)
		return (a != b);
	if (reload_str_differs(a->node, b->node) || a->netcd != b->netcd ||
	    a->lease_ttl_ms != b->lease_ttl_ms)
		return (true);
	for (i = 0; i < a->netcd; i++)
		if (strcmp(a->etcd[i], b->etcd[i]) != 0)
			return (true);
	return (false);
}

int
reload_run(struct gtd *g, bool dry_run, struct reload_report *rep,
    char **field, char **cause)
{
	struct reload_report	 mine;
	struct config		 none = { 0 };
	struct reload_ctx	 r = { g, g->rl->conf, NULL, dry_run, rep };
	size_t			 i;

	if (r.rep == NULL)
		r.rep = &mine;
	memset(r.rep, 0, sizeof *r.rep);
	if (g->rl->path == NULL) {
		*field = xstrdup("");
		*cause = xstrdup("gtd was started without a config file (-c)");
		return (-1);
	}
	if ((r.cf = config_load(g->rl->path, field, cause)) == NULL)
		return (-1);
	if (g->rl->boot != NULL) {
		/*
		 * The boot walks g->rl->conf's children and waits on one of
		 * them: a new config now would pull both from under it.
		 * The file is valid; it is read again once the boot ends.
		 * A dry run has nothing stable to compare with yet.
		 */
		config_free(r.cf);
		if (dry_run)
			reload_warn(&r, "the boot is in progress: try again "
			    "once it has ended");
		else {
			g->rl->boot->reload = true;
			log_info("reload: boot in progress, %s applies when "
			    "it ends", g->rl->path);
		}
		goto out;
	}
	if (childgroup_reload_check(g, r.cf, field, cause) == -1) {
		config_free(r.cf);
		return (-1);
	}
	if (r.old == NULL)
		r.old = &none;
	if (reload_str_differs(r.old->zone, r.cf->zone) ||
	    reload_str_differs(r.old->socket, r.cf->socket))
		reload_warn(&r, "zone and socket changes need a restart");
	/* The groups before any row joins one (new rows, new specs). */
	if (!dry_run)
		childgroup_configure(g, r.cf->groups, r.cf->ngroups);
	if (reload_cluster_differs(r.old->cluster, r.cf->cluster))
		reload_warn(&r, "cluster changes need a restart");
	/* Others first: reload_children takes cf's specs. */
	reload_others(&r);
	reload_children(&r);
	if (dry_run)
		config_free(r.cf);
	else {
		reload_settings(&r);
		config_free(g->rl->conf);
		g->rl->conf = r.cf;
		/* Memberships as the new specs say (from now on). */
		childgroup_configure(g, r.cf->groups, r.cf->ngroups);
		log_info("reloaded %s: %zu started, %zu stopped, %zu changed, "
		    "%zu unchanged, %zu absent, %zu failed", g->rl->path,
		    r.rep->n[RELOAD_STARTED], r.rep->n[RELOAD_STOPPED],
		    r.rep->n[RELOAD_CHANGED], r.rep->n[RELOAD_UNCHANGED],
		    r.rep->n[RELOAD_ABSENT], r.rep->n[RELOAD_FAILED]);
	}
out:
	for (i = 0; i < RELOAD_NWHAT; i++)	/* never NULL for the caller */
		if (r.rep->names[i] == NULL)
			r.rep->names[i] = xcalloc(1, sizeof *r.rep->names[i]);
	if (r.rep->warnings == NULL)
		r.rep->warnings = xcalloc(1, sizeof *r.rep->warnings);
	if (r.rep == &mine)
		reload_report_free(&mine);
	return (0);
}

int
reload_apply(struct gtd *g, char **field, char **cause)
{
	return (reload_run(g, false, NULL, field, cause));
}
