/* SPDX-License-Identifier: MIT */
/*
 * loop: the struct gtd lifecycle and the libev glue around it: signals
 * as ev_signal events, the ev_prepare reaper that frees dead connections
 * and children once nothing holds them, and the shutdown order (stop all
 * children concurrently, then leave the loop).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>

#include "gt/childcg.h"
#include "gt/conn.h"
#include "gt/event.h"
#include "gt/config.h"
#include "gt/gtd-sd.h"
#include "gt/gtd.h"
#include "gt/log.h"
#include "gt/notify.h"
#include "gt/registry.h"
#include "gt/reload.h"
#include "gt/server.h"
#include "gt/snapshot.h"
#include "gt/xmalloc.h"

#define GTD_SHUTDOWN_MARGIN_MS	1000	/* past the largest stop timeout */
#define GTD_COMMIT_MS		100	/* the mirror's transactions, at most */

static void	gtd_signal_cb(struct ev_loop *, ev_signal *, int);
static void	gtd_reaper_cb(struct ev_loop *, ev_prepare *, int);
static void	gtd_reload(struct gtd *);
static void	gtd_shutdown_timer_cb(struct ev_loop *, ev_timer *, int);

extern char	**environ;

struct gtd *
gtd_new(const struct child_ops *ops, char **cause)
{
	struct gtd	*g;

	g = xcalloc(1, sizeof *g);
	if ((g->reg = registry_new(cause)) == NULL) {
		free(g);
		return (NULL);
	}
	if ((g->devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1) {
		xasprintf(cause, "/dev/null: %s", strerror(errno));
		registry_free(g->reg);
		free(g);
		return (NULL);
	}
	g->loop = EV_DEFAULT;
	g->ops = ops;
	g->pid = getpid();
	(void)getrlimit(RLIMIT_NOFILE, &g->nofile);	/* cannot fail */
	g->env = environ;
	g->zone = xstrdup("default");
	g->readyfd = -1;
	g->hupfd = -1;
	g->events = events_new();
	g->socket_path = xstrdup("");
	config_default_limits(&g->lim);
	TAILQ_INIT(&g->children);
	child_queue_init(g);
	TAILQ_INIT(&g->dead_children);
	TAILQ_INIT(&g->conns);
	TAILQ_INIT(&g->dead_conns);
	g->started_at = gtd_now_ms(g);
	ev_init(&g->shutdown_timer, gtd_shutdown_timer_cb);
	g->shutdown_timer.data = g;
	return (g);
}

void
gtd_free(struct gtd *g)
{
	if (g == NULL)
		return;
	ev_signal_stop(g->loop, &g->sigterm);
	ev_signal_stop(g->loop, &g->sigint);
	ev_signal_stop(g->loop, &g->sighup);
	ev_prepare_stop(g->loop, &g->reaper);
	ev_timer_stop(g->loop, &g->shutdown_timer);
	ev_idle_stop(g->loop, &g->start_idle);
	server_free(g->server);
	notify_free(g->notify);
	gtd_sd_free(g->sd);
	free(g->notify_path);
	snapshot_free(g->snapshot);	/* the final state, then no timer */
	conn_free_all(g);
	child_free_all(g);
	childcg_close(g);		/* after the children's cgroups */
	events_free(g->events);
	config_free(g->conf);
	free(g->conf_path);
	free(g->boot);		/* a boot cut short by shutdown */
	if (g->readyfd >= 0)
		close(g->readyfd);
	registry_free(g->reg);
	close(g->devnull);
	free(g->by_name);
	free(g->by_pid);
	free(g->zone);
	free(g->socket_path);
	free(g->rbuf);
	free(g->scan);
	free(g->spare_ctx);
	free(g);
}

void
gtd_loop_init(struct gtd *g)
{
	ev_signal_init(&g->sigterm, gtd_signal_cb, SIGTERM);
	ev_signal_init(&g->sigint, gtd_signal_cb, SIGINT);
	ev_signal_init(&g->sighup, gtd_signal_cb, SIGHUP);
	g->sigterm.data = g->sigint.data = g->sighup.data = g;
	ev_signal_start(g->loop, &g->sigterm);
	ev_signal_start(g->loop, &g->sigint);
	ev_signal_start(g->loop, &g->sighup);
	ev_prepare_init(&g->reaper, gtd_reaper_cb);
	g->reaper.data = g;
	ev_prepare_start(g->loop, &g->reaper);
}

static void
gtd_signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct gtd	*g = w->data;

	if (w->signum == SIGHUP) {
		gtd_reload(g);
		return;
	}
	if (g->shutting_down) {
		log_warnx("%s again: killing every child and hook now",
		    strsignal(w->signum));
		g->shutdown_forced = true;	/* and no hook starts */
		gtd_kill_all(g, true);
		gtd_check_done(g);
		return;
	}
	log_info("%s: shutting down", strsignal(w->signum));
	gtd_shutdown(g, 0, -1);
}

/* SIGHUP: reload; a config that does not validate changes nothing. */
static void
gtd_reload(struct gtd *g)
{
	char	*field = NULL, *cause = NULL;

	if (g->shutting_down || reload_apply(g, &field, &cause) == 0)
		return;
	log_warnx("SIGHUP: reload failed, nothing changed: %s%s%s",
	    field != NULL && *field != '\0' ? field : "",
	    field != NULL && *field != '\0' ? ": " : "", cause);
	free(field);
	free(cause);
}

static void
gtd_reaper_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct gtd	*g = w->data;
	int64_t		 now;
	char		*cause;

	conn_reap_dead(g);
	child_reap_dead(g);
	/*
	 * Commit at most every GTD_COMMIT_MS: readers share this connection
	 * and see every write at once, and the snapshot commits first, so a
	 * commit per request would only cost time.
	 */
	if ((now = gtd_mono_ms()) - g->committed_at < GTD_COMMIT_MS)
		return;
	g->committed_at = now;
	if (registry_commit(g->reg) == -1) {
		g->stats.mirror_errors++;
		log_warnx("mirror: commit: %s", registry_errmsg(g->reg));
	}
	if (registry_mirror_check(g->reg, &cause) == -1) {
		g->stats.mirror_errors++;
		log_warnx("mirror: %s", cause);
		free(cause);
	}
}

void
gtd_shutdown(struct gtd *g, int exit_code, int64_t timeout_ms)
{
	struct child	**all, *c;
	int		  n = 0, i;
	int64_t		  longest = 0, t;

	if (g->shutting_down)
		return;
	g->shutting_down = true;
	g->exit_code = exit_code;
	gtd_sd_stopping(g);		/* STOPPING=1 to systemd */
	/* Stopping one child may wake waiters that touch others: snapshot. */
	all = xcalloc(g->nchildren + 1, sizeof *all);
	TAILQ_FOREACH(c, &g->children, entry) {
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
	ev_timer_set(&g->shutdown_timer,
	    (longest + GTD_SHUTDOWN_MARGIN_MS) / 1000.0, 0.);
	ev_timer_start(g->loop, &g->shutdown_timer);
	gtd_check_done(g);
}

void
gtd_kill_all(struct gtd *g, bool infinity_too)
{
	struct child	*c;

	TAILQ_FOREACH(c, &g->children, entry) {
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

	if (g->nprocs == 0)
		return;
	log_warnx("shutdown: %d children still alive, SIGKILL", g->nprocs);
	gtd_kill_all(g, false);
}

void
gtd_check_done(struct gtd *g)
{
	if (g->shutting_down && g->nprocs == 0) {
		ev_timer_stop(g->loop, &g->shutdown_timer);
		ev_break(g->loop, EVBREAK_ALL);
	}
}

int64_t
gtd_now_ms(struct gtd *g)
{
	return ((int64_t)(ev_now(g->loop) * 1000.0));
}

int64_t
gtd_mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

int64_t
gtd_mono_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}
