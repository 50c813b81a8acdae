/* SPDX-License-Identifier: MIT */
/*
 * reload: boot children and config reloads (see reload.h).  Never blocks:
 * the boot sequence advances from child state changes, not by waiting.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "gt/child.h"
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
	void			(*ready)(struct gtd *);
};

static void	reload_boot_next(struct reload_boot *);
static void	reload_boot_wake(struct child *, void *);

static void
reload_boot_end(struct reload_boot *b, int ok)
{
	struct gtd	*g = b->gtd;

	if (b->cur != NULL)
		child_unref(b->cur);
	g->boot = NULL;
	if (ok)
		b->ready(g);
	else {
		log_warnx("boot child %zu did not start: stopping",
		    b->next - 1);
		gtd_shutdown(g, 1, -1);
	}
	free(b);
}

void
reload_boot(struct gtd *g, void (*ready)(struct gtd *))
{
	struct reload_boot	*b;

	b = xcalloc(1, sizeof *b);
	b->gtd = g;
	b->ready = ready;
	b->w.cb = reload_boot_wake;
	b->w.arg = b;
	g->boot = b;
	reload_boot_next(b);
}

/* Start the next boot child, or finish. */
static void
reload_boot_next(struct reload_boot *b)
{
	struct gtd		*g = b->gtd;
	struct config		*cf = g->conf;
	struct childspec	*s;
	struct child		*c;

	if (b->cur != NULL) {
		child_unref(b->cur);
		b->cur = NULL;
	}
	if (cf == NULL || b->next == cf->nchildren) {
		reload_boot_end(b, 1);
		return;
	}
	s = cf->children[b->next];
	cf->children[b->next++] = NULL;		/* taken */
	if ((c = child_add(g, s, config_spec_text(s))) == NULL) {
		reload_boot_end(b, 0);
		return;
	}
	c->boot = true;
	if (child_start(c) == -1) {
		reload_boot_end(b, 0);
		return;
	}
	if (c->state == CHILD_RUNNING) {
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
	else if (c->state == CHILD_STARTING && !(c->flags & CHILD_DEAD))
		child_wait(c, &b->w);
	else
		reload_boot_end(b, 0);
}

/* A new spec for an existing row: from its next start on. */
static void
reload_respec(struct child *c, struct childspec *s)
{
	char	*text = config_spec_text(s), *cur;
	int	 same;

	/* The current text is made again: the mirror holds the only copy. */
	cur = config_spec_text(c->spec);
	same = strcmp(text, cur) == 0;
	free(cur);
	if (same && c->next_spec == NULL) {
		free(text);
		spec_free(s);
		return;
	}
	log_info("child %s: new spec, applied at its next start", c->name);
	spec_free(c->next_spec);
	free(c->next_json);
	c->next_spec = s;
	c->next_json = text;
}

/* Was name a boot child of cf? */
static int
reload_in(const struct config *cf, const char *name)
{
	size_t	i;

	for (i = 0; i < cf->nchildren; i++)
		if (strcmp(cf->names[i], name) == 0)
			return (1);
	return (0);
}

/*
 * Boot children: start the ones new in the config, re-spec changed ones.
 * A row that is gone though the old config had it (a temporary child
 * that ran) is not started again.
 */
static void
reload_children(struct gtd *g, const struct config *old, struct config *cf)
{
	struct child	*c;
	size_t		 i;

	for (i = 0; i < cf->nchildren; i++) {
		if ((c = child_find(g, cf->children[i]->name)) != NULL) {
			c->boot = true;
			reload_respec(c, cf->children[i]);
		} else if (reload_in(old, cf->names[i]))
			spec_free(cf->children[i]);
		else if ((c = child_add(g, cf->children[i],
		    config_spec_text(cf->children[i]))) != NULL) {
			c->boot = true;
			log_info("child %s: new in the config, starting",
			    c->name);
			(void)child_start(c);	/* a failure is logged */
		}
		cf->children[i] = NULL;		/* taken either way */
	}
}

/* One row: gone from the config, it stops and goes; else re-spec. */
static void
reload_other(struct child *c, const struct config *old, struct config *cf)
{
	struct childspec	*s;
	json_t			*inst;
	char			*field = NULL, *cause = NULL;

	if (c->boot && !reload_in(cf, c->name)) {
		log_info("child %s: gone from the config, stopping", c->name);
		c->boot = false;
		child_stop(c, -1, true);
		return;
	}
	if (c->boot || c->inst_json == NULL ||
	    !config_tpl_changed(&old->tpl, &cf->tpl, c->spec->template))
		return;
	inst = json_loads(c->inst_json, 0, NULL);
	if ((s = config_spec_build(&cf->tpl, inst, &field, &cause)) == NULL) {
		log_warnx("child %s: its template no longer fits (%s: %s), "
		    "keeping the old spec", c->name, field, cause);
		free(field);
		free(cause);
	} else
		reload_respec(c, s);
	json_decref(inst);
}

/*
 * Boot rows gone from the config stop and go; template users re-spec.
 * Stopping one wakes its waiters, which may start, stop or remove
 * others: walk a snapshot of the rows, each held by a ref.
 */
static void
reload_others(struct gtd *g, const struct config *old, struct config *cf)
{
	struct child	**all, *c;
	int		  n = 0, i;

	all = xcalloc(g->nchildren + 1, sizeof *all);
	TAILQ_FOREACH(c, &g->children, entry) {
		child_ref(c);
		all[n++] = c;
	}
	for (i = 0; i < n; i++) {
		if (!(all[i]->flags & CHILD_DEAD))
			reload_other(all[i], old, cf);
		child_unref(all[i]);
	}
	free(all);
}

int
reload_apply(struct gtd *g, char **field, char **cause)
{
	struct config	*cf, *old = g->conf;
	struct config	 none = { 0 };

	if (g->conf_path == NULL) {
		*field = xstrdup("");
		*cause = xstrdup("gtd was started without a config file (-c)");
		return (-1);
	}
	if ((cf = config_load(g->conf_path, field, cause)) == NULL)
		return (-1);
	if (old == NULL)
		old = &none;
	if ((old->zone == NULL) != (cf->zone == NULL) || (cf->zone != NULL &&
	    strcmp(old->zone, cf->zone) != 0) || (old->socket == NULL) !=
	    (cf->socket == NULL) || (cf->socket != NULL &&
	    strcmp(old->socket, cf->socket) != 0))
		log_warnx("reload: zone and socket changes need a restart");
	g->lim = cf->lim;
	if (!g->debug)			/* -d wins over the config */
		log_set_level(cf->log_level);
	/* Others first: reload_children takes cf's specs. */
	reload_others(g, old, cf);
	reload_children(g, old, cf);
	if (g->conf != NULL)
		config_free(g->conf);
	g->conf = cf;
	snapshot_free(g->snapshot);
	g->snapshot = NULL;
	if (cf->snapshot_path != NULL && (g->snapshot = snapshot_new(g,
	    cf->snapshot_path, cf->snapshot_interval_ms, cause)) == NULL) {
		log_warnx("reload: snapshot: %s", *cause);
		free(*cause);
		*cause = NULL;
	}
	log_info("reloaded %s", g->conf_path);
	return (0);
}
