/* SPDX-License-Identifier: MIT */
/*
 * shutdown: the daemon's way out, which anything may ask for (a signal,
 * the shutdown op, a child whose policy says exit-daemon, a failed
 * boot): stop every child concurrently, a backstop timer that kills
 * what outlives its stop timeout, and the end of the loop once no
 * process is left.  Below loop.c, so the ops and the observer reach it
 * without calling up.
 */
#include "config.h"

#include <signal.h>
#include <stdlib.h>

#include <ev.h>

#include "gt/child.h"
#include "gt/gtd-sd.h"
#include "gt/gtd.h"
#include "gt/log.h"
#include "gt/xmalloc.h"

#define GTD_SHUTDOWN_MARGIN_MS	1000	/* past the largest stop timeout */

static void	gtd_shutdown_timer_cb(struct ev_loop *, ev_timer *, int);

struct shutdown_state *
shutdown_state_new(void)
{
	struct shutdown_state	*sh = xcalloc(1, sizeof *sh);

	return (sh);
}

void
shutdown_state_free(struct gtd *g)
{
	if (g->shut == NULL)
		return;
	ev_timer_stop(g->loop, &g->shut->timer);
	free(g->shut);
	g->shut = NULL;
}

void
gtd_shutdown(struct gtd *g, int exit_code, int64_t timeout_ms)
{
	struct child	**all, *c;
	int		  n = 0, i;
	int64_t		  longest = 0, t;

	if (g->shut->active)
		return;
	g->shut->active = true;
	g->shut->exit_code = exit_code;
	gtd_sd_stopping(g);		/* STOPPING=1 to systemd */
	/* Stopping one child may wake waiters that touch others: snapshot. */
	all = xcalloc(g->tab->nchildren + 1, sizeof *all);
	TAILQ_FOREACH(c, &g->tab->children, entry) {
		child_ref(c);
		all[n++] = c;
	}
	for (i = 0; i < n; i++) {
		c = all[i];
		if (!(c->flags & CHILD_DEAD)) {
			t = timeout_ms >= 0 ? timeout_ms :
			    c->spec->shutdown_timeout_ms;
			if (c->spec->shutdown == SPEC_SHUT_SIGNAL &&
			    t > longest)
				longest = t;
			child_stop(c, timeout_ms, false);
		}
		child_unref(c);
	}
	free(all);
	/* A backstop only: each child escalates on its own timer first. */
	ev_init(&g->shut->timer, gtd_shutdown_timer_cb);
	g->shut->timer.data = g;
	ev_timer_set(&g->shut->timer,
	    (longest + GTD_SHUTDOWN_MARGIN_MS) / 1000.0, 0.);
	ev_timer_start(g->loop, &g->shut->timer);
	gtd_check_done(g);
}

void
gtd_kill_all(struct gtd *g, bool infinity_too)
{
	struct child	*c;

	TAILQ_FOREACH(c, &g->tab->children, entry) {
		if (infinity_too && c->hook_pid > 0) {
			/* A hook in its own session, and its group. */
			(void)g->ops->kill(-c->hook_pid, SIGKILL);
			(void)g->ops->kill(c->hook_pid, SIGKILL);
		}
		if (c->pid <= 0 || (!infinity_too &&
		    c->spec->shutdown == SPEC_SHUT_INFINITY))
			continue;
		/* Its group too; an adopted one through its pidfd. */
		(void)child_kill(c, SIGKILL);
	}
}

static void
gtd_shutdown_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct gtd	*g = w->data;

	if (g->tab->nprocs == 0)
		return;
	log_warnx("shutdown: %d children still alive, SIGKILL", g->tab->nprocs);
	gtd_kill_all(g, false);
}

void
gtd_check_done(struct gtd *g)
{
	if (g->shut->active && g->tab->nprocs == 0) {
		ev_timer_stop(g->loop, &g->shut->timer);
		ev_break(g->loop, EVBREAK_ALL);
	}
}
