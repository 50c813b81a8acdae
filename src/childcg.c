/* SPDX-License-Identifier: MIT */
/*
 * childcg: cgroup v2 containment of the children (childcg.h).  Decides,
 * so it logs: once where containment is set up, and at each failure,
 * which always falls back (a child without a cgroup is contained by its
 * process group, as without cgroup2).  Never blocks.
 */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/wait.h>

#include "gt/cgroup.h"
#include "gt/child.h"
#include "gt/childcg.h"
#include "gt/clock.h"
#include "gt/config.h"
#include "gt/gtd.h"
#include "gt/log.h"
#include "gt/reexec.h"
#include "gt/registry.h"
#include "gt/spawn.h"
#include "gt/xmalloc.h"

#define CHILDCG_LEFTOVERS_MAX	100000	/* cgroups swept at start */

/* A cgroup no child owns any more, removed once it is empty. */
struct childcg_linger {
	struct childcg_base		*b;	/* weak */
	struct cgroup_child		*cc;	/* owned */
	LIST_ENTRY(childcg_linger)	 entry;
};

struct childcg_base {
	struct cgroup			*cg;	/* owned; NULL: off */
	char				*off;	/* owned: why off, or NULL */
	LIST_HEAD(, childcg_linger)	 lingers;
	int64_t				 refreshed;	/* mono ms */
};

/* One child's: the cgroup of its current incarnation. */
struct childcg {
	struct child		*c;		/* weak: the owner */
	struct cgroup_child	*cc;		/* owned, or NULL */
	ev_timer		 drain;		/* CHILDCG_DRAIN_MS bound */
	int			 status;	/* the reap's, while draining */
	childcg_resume_cb	*resume;	/* child_handle_exit */
	bool			 draining;	/* holds a ref of c */
	bool			 drained;	/* child_handle_exit goes on */
	bool			 oom;		/* of the last incarnation */
	bool			 usage;		/* the SQL columns are set */
};

static void	childcg_linger(struct childcg_base *, struct cgroup_child *);
static void	childcg_linger_cb(struct cgroup_child *, void *);
static void	childcg_empty_cb(struct cgroup_child *, void *);
static void	childcg_drain_cb(struct ev_loop *, ev_timer *, int);
static void	childcg_end(struct childcg *, int);
static void	childcg_sweep(struct childcg_base *);

/* The instance: zone and socket path, as one gtd is one socket. */
static char *
childcg_instance(const struct gtd *g)
{
	const unsigned char	*p;
	uint32_t		 h = 2166136261u;	/* FNV-1a */
	char			*s;

	for (p = (const unsigned char *)g->socket_path; *p != '\0'; p++)
		h = (h ^ *p) * 16777619u;
	xasprintf(&s, "%s-%08x", g->zone, (unsigned)h);
	return (s);
}

void
childcg_open(struct gtd *g, const struct config *cf)
{
	struct cgroup_opts	 o = { .loop = g->loop };
	struct childcg_base	*b;
	char			*inst, *cause = NULL;

	b = xcalloc(1, sizeof *b);
	LIST_INIT(&b->lingers);
	g->cgb = b;
	if (cf != NULL && cf->cgroup_off) {
		b->off = xstrdup("\"cgroup\" is false in the configuration");
		log_info("containment off: %s; children are contained by "
		    "their process groups", b->off);
		return;
	}
	inst = childcg_instance(g);
	o.instance = inst;
	o.path = cf != NULL ? cf->cgroup : NULL;
	b->cg = cgroup_open(&o, &cause);
	free(inst);
	if (b->cg == NULL) {
		b->off = cause;
		log_warnx("containment off: %s; children are contained by "
		    "their process groups", b->off);
		return;
	}
	log_info("containment on: children's cgroups in %s",
	    cgroup_path(b->cg));
	if (!g->rx->restoring)	/* a re-exec: those are our children */
		childcg_sweep(b);
}

/* Kill and remove what a gtd of this instance left (it crashed). */
static void
childcg_sweep(struct childcg_base *b)
{
	struct cgroup_child	*cc;
	char			**names, *cause;
	size_t			 n, i, killed = 0;

	if (cgroup_leftovers(b->cg, CHILDCG_LEFTOVERS_MAX, &names, &n) ==
	    -1) {
		log_warn("containment: %s", cgroup_path(b->cg));
		return;
	}
	for (i = 0; i < n; i++) {
		cause = NULL;
		if ((cc = cgroup_child_open(b->cg, names[i], &cause)) == NULL) {
			log_warnx("containment: %s", cause);
			free(cause);
		} else {
			if (cgroup_child_populated(cc) == 1) {
				killed++;
				if (cgroup_child_kill(cc) == -1)
					log_warn("containment: kill %s",
					    cgroup_child_path(cc));
			}
			childcg_linger(b, cc);
		}
		free(names[i]);
	}
	free(names);
	if (n > 0)
		log_warnx("containment: %zu cgroup%s left by an earlier gtd, "
		    "%zu with processes (killed)", n, n == 1 ? "" : "s",
		    killed);
}

void
childcg_close(struct gtd *g)
{
	struct childcg_base	*b = g->cgb;
	struct childcg_linger	*l;

	if (b == NULL)
		return;
	while ((l = LIST_FIRST(&b->lingers)) != NULL) {
		LIST_REMOVE(l, entry);
		(void)cgroup_child_remove(l->cc);	/* EBUSY: next start */
		cgroup_child_free(l->cc);
		free(l);
	}
	if (b->cg != NULL && cgroup_remove_base(b->cg) == -1 &&
	    errno != ENOENT)
		log_debug("containment: %s left: %s", cgroup_path(b->cg),
		    strerror(errno));
	cgroup_free(b->cg);
	free(b->off);
	free(b);
	g->cgb = NULL;
}

const char *
childcg_base(const struct gtd *g)
{
	if (g->cgb == NULL || g->cgb->cg == NULL)
		return (NULL);
	return (cgroup_path(g->cgb->cg));
}

const char *
childcg_off(const struct gtd *g)
{
	if (g->cgb == NULL)
		return ("not set up");
	return (g->cgb->off);
}

/*
 * Lingering cgroups: removed once empty, from the loop.
 */

static void
childcg_linger(struct childcg_base *b, struct cgroup_child *cc)
{
	struct childcg_linger	*l;
	int			 r;

	l = xcalloc(1, sizeof *l);
	l->b = b;
	l->cc = cc;
	if ((r = cgroup_child_wait(cc, childcg_linger_cb, l)) == 0) {
		LIST_INSERT_HEAD(&b->lingers, l, entry);
		return;
	}
	if (r == 1 && cgroup_child_remove(cc) == -1)
		log_warn("containment: rmdir %s", cgroup_child_path(cc));
	else if (r == -1)
		log_warn("containment: %s left behind", cgroup_child_path(cc));
	cgroup_child_free(cc);
	free(l);
}

static void
childcg_linger_cb(struct cgroup_child *cc, void *arg)
{
	struct childcg_linger	*l = arg;

	LIST_REMOVE(l, entry);
	if (cgroup_child_remove(cc) == -1 && errno != ENOENT)
		log_warn("containment: rmdir %s", cgroup_child_path(cc));
	cgroup_child_free(cc);
	free(l);
}

/*
 * Limits.
 */

/* cglimits_check's why when containment is off. */
static const char *
childcg_why_off(unsigned ctrl, void *arg)
{
	return (arg);
}

int
childcg_check(const struct gtd *g, const struct childspec *s, char **field,
    char **cause)
{
	struct cgroup	*cg = g->cgb != NULL ? g->cgb->cg : NULL;
	char		*why;
	int		 rc;

	if (!cglimits_any(&s->limits))
		return (0);
	if (cg != NULL)
		return (cglimits_check(&s->limits, cgroup_controllers(cg),
		    cgroup_why, cg, field, cause));
	xasprintf(&why, "containment is off (%s)", childcg_off(g));
	rc = cglimits_check(&s->limits, 0, childcg_why_off, why, field,
	    cause);
	free(why);
	return (rc);
}

/*
 * Spawning.
 */

static struct childcg *
childcg_get(struct child *c)
{
	struct childcg	*x;

	if ((x = c->cg) != NULL)
		return (x);
	x = c->cg = xcalloc(1, sizeof *x);
	x->c = c;
	ev_timer_init(&x->drain, childcg_drain_cb, CHILDCG_DRAIN_MS / 1000.,
	    0.);
	x->drain.data = x;
	return (x);
}

int
childcg_prepare(struct child *c, struct spawn_plan *pl)
{
	struct gtd		*g = c->gtd;
	const struct cglimits	*l = &c->spec->limits;
	struct childcg		*x;
	char			*field = NULL, *cause = NULL;
	bool			 limits = cglimits_any(l);
	int			 saved;

	pl->in_cgroup = false;
	if (c->cg != NULL)
		c->cg->oom = false;	/* until this incarnation ends */
	if (limits && childcg_check(g, c->spec, &field, &cause) == -1) {
		saved = ENOTSUP;
		goto fail;
	}
	if (g->cgb == NULL || g->cgb->cg == NULL)
		return (0);		/* off: said once at start */
	x = childcg_get(c);
	if (x->cc != NULL)		/* an exit that never came: drain it */
		childcg_linger(g->cgb, x->cc);
	x->cc = NULL;
	if ((x->cc = cgroup_child_new(g->cgb->cg, c->name, limits ? l : NULL,
	    &cause)) == NULL) {
		saved = errno;
		if (limits)
			goto fail;
		log_warnx("child %s: %s; started in a process group only",
		    c->name, cause);
		free(cause);
		return (0);
	}
	pl->in_cgroup = true;
	pl->cgroup_fd = cgroup_child_fd(x->cc);
	return (0);
fail:
	log_warnx("child %s: %s", c->name, cause);
	free(field);
	free(cause);
	errno = saved;
	return (-1);
}

void
childcg_spawned(struct child *c, bool ok)
{
	struct childcg	*x = c->cg;

	if (ok || x == NULL || x->cc == NULL)
		return;
	/* Nothing ran in it (the clone failed, or its fork). */
	if (cgroup_child_remove(x->cc) == -1)
		log_warn("child %s: rmdir %s", c->name,
		    cgroup_child_path(x->cc));
	cgroup_child_free(x->cc);
	x->cc = NULL;
}

const char *
childcg_path(const struct child *c)
{
	return (childcg_base(c->gtd));
}

/*
 * Signals and exits.
 */

bool
childcg_signal(struct child *c, int sig)
{
	struct childcg	*x = c->cg;
	int		 rc;

	if (x == NULL || x->cc == NULL)
		return (false);
	if (!c->spec->kill_group)
		return (false);		/* the process alone, as asked */
	rc = sig == SIGKILL ? cgroup_child_kill(x->cc) :
	    cgroup_child_signal(x->cc, sig);
	if (rc == 0)
		return (true);
	log_warn("child %s: signal %d to cgroup %s", c->name, sig,
	    cgroup_child_path(x->cc));
	return (x->draining);		/* the main pid is reaped: no kill */
}

bool
childcg_exit(struct child *c, int status, childcg_resume_cb *resume)
{
	struct childcg	*x = c->cg;
	int		 r;

	if (x == NULL || x->cc == NULL)
		return (false);
	if (x->drained) {		/* called again: the wait is over */
		x->drained = false;
		childcg_end(x, status);
		return (false);
	}
	if (!c->spec->kill_group) {
		childcg_end(x, status);	/* its leftovers live on, as asked */
		return (false);
	}
	/* What is left of it dies now (a grandchild out of its group too). */
	if ((r = cgroup_child_populated(x->cc)) == 1 &&
	    cgroup_child_kill(x->cc) == -1)
		log_warn("child %s: cgroup.kill %s", c->name,
		    cgroup_child_path(x->cc));
	if (r == 1 && (r = cgroup_child_wait(x->cc, childcg_empty_cb, x)) ==
	    0) {
		x->draining = true;
		x->status = status;
		x->resume = resume;
		c->refs++;		/* as child_ref: c stays until resumed */
		ev_timer_start(c->gtd->loop, &x->drain);
		return (true);
	}
	if (r == -1)
		log_warn("child %s: cgroup.events of %s", c->name,
		    cgroup_child_path(x->cc));
	childcg_end(x, status);
	return (false);
}

/* The drain is over: c's exit goes on (unless c went meanwhile). */
static void
childcg_resume(struct childcg *x)
{
	struct child	*c = x->c;

	ev_timer_stop(c->gtd->loop, &x->drain);
	x->draining = false;
	if (!(c->flags & CHILD_DEAD)) {
		x->drained = true;
		x->resume(c, x->status);
	}
	assert(c->refs > 0);
	c->refs--;			/* as child_unref: the reaper frees it */
}

static void
childcg_empty_cb(struct cgroup_child *cc, void *arg)
{
	childcg_resume(arg);
}

static void
childcg_drain_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct childcg	*x = w->data;

	log_warnx("child %s: processes left in %s %d ms after cgroup.kill, "
	    "going on without them", x->c->name, cgroup_child_path(x->cc),
	    CHILDCG_DRAIN_MS);
	cgroup_child_unwait(x->cc);
	childcg_resume(x);
}

/*
 * The incarnation is over: was it an OOM kill, then the cgroup goes
 * (or lingers until its last process is gone).
 */
static void
childcg_end(struct childcg *x, int status)
{
	struct child	*c = x->c;
	struct gtd	*g = c->gtd;
	uint64_t	 n = 0;

	x->oom = status != -1 && WIFSIGNALED(status) &&
	    WTERMSIG(status) == SIGKILL &&
	    cgroup_child_oom_kills(x->cc, &n) == 0 && n > 0;
	if (x->oom)
		log_warnx("child %s: killed by the OOM killer (memory.max of "
		    "%s)", c->name, cgroup_child_path(x->cc));
	if (x->usage && registry_child_usage(g->reg, c->name, -1, -1) == -1)
		g->stats.mirror_errors++;
	x->usage = false;
	childcg_linger(g->cgb, x->cc);	/* removed now if empty */
	x->cc = NULL;
}

bool
childcg_oom(const struct child *c)
{
	return (c->cg != NULL && c->cg->oom);
}

/*
 * Usage.
 */

int
childcg_usage(const struct child *c, int64_t *memory_bytes, int64_t *cpu_ms)
{
	struct cgroup_stats	st;

	if (c->cg == NULL || c->cg->cc == NULL)
		return (-1);
	(void)cgroup_child_stats(c->cg->cc, &st);	/* always 0 */
	*memory_bytes = st.memory_bytes;
	*cpu_ms = st.cpu_ms;
	return (0);
}

void
childcg_refresh(struct gtd *g)
{
	struct child	*c;
	int64_t		 mem, cpu, now = clock_mono_ms();

	if (g->cgb == NULL || g->cgb->cg == NULL || (g->cgb->refreshed != 0 &&
	    now - g->cgb->refreshed < CHILDCG_REFRESH_MS))
		return;
	g->cgb->refreshed = now;
	TAILQ_FOREACH(c, &g->tab->children, entry) {
		if (childcg_usage(c, &mem, &cpu) == -1)
			continue;
		if (registry_child_usage(g->reg, c->name, mem, cpu) == -1) {
			g->stats.mirror_errors++;
			log_warnx("child %s: mirror: %s", c->name,
			    registry_errmsg(g->reg));
			continue;
		}
		c->cg->usage = true;
	}
}

void
childcg_free(struct child *c)
{
	struct childcg	*x = c->cg;

	if (x == NULL)
		return;
	ev_timer_stop(c->gtd->loop, &x->drain);
	if (x->cc != NULL) {
		cgroup_child_unwait(x->cc);
		if (c->gtd->cgb != NULL)
			childcg_linger(c->gtd->cgb, x->cc);
		else
			cgroup_child_free(x->cc);
	}
	free(x);
	c->cg = NULL;
}

const char *
childcg_dir(const struct child *c)
{
	if (c->cg == NULL || c->cg->cc == NULL)
		return (NULL);
	return (cgroup_child_dir(c->cg->cc));
}

void
childcg_restore(struct child *c, const char *dir)
{
	struct gtd	*g = c->gtd;
	struct childcg	*x;
	char		*cause = NULL;

	if (g->cgb == NULL || g->cgb->cg == NULL)
		return;
	x = childcg_get(c);
	if ((x->cc = cgroup_child_open(g->cgb->cg, dir, &cause)) == NULL) {
		log_warnx("child %s: %s; contained by its process group only",
		    c->name, cause);
		free(cause);
	}
}

bool
childcg_draining(const struct child *c)
{
	return (c->cg != NULL && c->cg->draining);
}

bool
childcg_may_adopt(const struct gtd *g, pid_t pid)
{
	if (g->cgb == NULL || g->cgb->cg == NULL)
		return (true);
	return (cgroup_holds(g->cgb->cg, pid));
}
