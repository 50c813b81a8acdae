/* SPDX-License-Identifier: MIT */
/*
 * loop: the struct gtd lifecycle and the libev glue around it: signals
 * as ev_signal events, the ev_prepare reaper that frees dead connections
 * and children once nothing holds them, and the shutdown order (stop all
 * children concurrently, then leave the loop).
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gt/childdeps.h"
#include "gt/childgroup.h"
#include "gt/childcg.h"
#include "gt/clock.h"
#include "gt/cmd.h"
#include "gt/conn.h"
#include "gt/event.h"
#include "gt/config.h"
#include "gt/gtd-sd.h"
#include "gt/gtcluster.h"
#include "gt/gtd.h"
#include "gt/health.h"
#include "gt/hook.h"
#include "gt/log.h"
#include "gt/notify.h"
#include "gt/proto.h"
#include "gt/reexec.h"
#include "gt/registry.h"
#include "gt/reload.h"
#include "gt/server.h"
#include "gt/snapshot.h"
#include "gt/spawn.h"
#include "gt/xmalloc.h"

#define GTD_COMMIT_MS		100	/* the mirror's transactions, at most */
#define GTD_SETTLE_S		0.001	/* a new child yet to run: again, */
#define GTD_SETTLE_MAX_S	0.1	/* ... less often while it waits */

/* The loop's own watchers and the commit throttle (gtd->w). */
struct gtd_watchers {
	ev_signal	 sigterm;
	ev_signal	 sigint;
	ev_signal	 sighup;
	ev_prepare	 reaper;	/* frees dead objects, commits */
	ev_timer	 settle;	/* a new child is yet to unshare */
	ev_tstamp	 settle_s;	/* its next delay: doubles */
	int64_t		 committed_at;	/* mono ms of the last commit */
};

static void	gtd_signal_cb(struct ev_loop *, ev_signal *, int);
static void	gtd_reaper_cb(struct ev_loop *, ev_prepare *, int);
static void	gtd_settle_cb(struct ev_loop *, ev_timer *, int);
static void	gtd_reload(struct gtd *);

/*
 * The transport hands up through this table: lines go to the
 * dispatcher, a new peer may be a supervised child's (its row counts
 * the slots), and a freed connection leaves the events.
 */
static void
gtd_conn_opened(struct conn *cn, void *arg)
{
	cmd_opened(arg, cn);
}

static void
gtd_conn_line(struct conn *cn, const char *line, size_t len, void *arg)
{
	cmd_dispatch(arg, cn, line, len);
}

static void
gtd_conn_gone(struct conn *cn, void *arg)
{
	struct gtd	*g = arg;

	event_unsubscribe(g->events, cn);
}

static const struct conn_handler gtd_conn_handler = {
	.opened = gtd_conn_opened,
	.line = gtd_conn_line,
	.gone = gtd_conn_gone
};

/*
 * The core reports through this table (child.h): its state changes and
 * output become events, its hooks get their JSON here, its notify
 * sockets come from notify.c, and its last exit may end a shutdown.
 */
static void
gtd_obs_state(struct child *c, enum child_state old, void *arg)
{
	event_child_state(((struct gtd *)arg)->events, c, old);
	childdeps_changed(c, old);	/* dependents may start or stop */
	reexec_adopt_dirty(arg);	/* adopt_on_restart's file */
	childgroup_changed(c, old);	/* a group's sequence may go on */
	gtcluster_state(c, old);	/* its claim, if of scope cluster */
}

static void
gtd_obs_gave_up(struct child *c, const char *action, void *arg)
{
	event_child_gave_up(((struct gtd *)arg)->events, c, action);
}

static void
gtd_obs_hook_done(struct child *c, int status, void *arg)
{
	event_child_hook_done(((struct gtd *)arg)->events, c, status);
}

static void
gtd_obs_removed(struct child *c, void *arg)
{
	childdeps_removed(c);
	childgroup_removed(c);
	gtcluster_removed(c);
	event_emit(((struct gtd *)arg)->events, EVENT_DELETED, c->name, NULL);
	reexec_adopt_dirty(arg);
}

/* Relationships and health: childdeps.c and health.c. */
static void
gtd_obs_added(struct child *c, void *arg)
{
	childdeps_set(c);
	childgroup_sync(c);
}

static bool
gtd_obs_hold_start(struct child *c, void *arg)
{
	/* The cluster claim first: its answer starts c again. */
	return (gtcluster_hold_start(c) || childdeps_hold_start(c));
}

static void
gtd_obs_unwait(struct child *c, void *arg)
{
	childdeps_unwait(c);
}

static bool
gtd_obs_hold_stop(struct child *c, int64_t timeout_ms, bool delete_after,
    void *arg)
{
	return (childdeps_hold_stop(c, timeout_ms, delete_after));
}

static void
gtd_obs_spawned(struct child *c, void *arg)
{
	health_start(c);
	gtcluster_spawned(c);
}

static void
gtd_obs_reaped(struct child *c, void *arg)
{
	health_stop(c);
	gtcluster_reaped(c);
}

static enum policy_action
gtd_obs_decided(struct child *c, enum policy_action a, int status,
    int64_t delay_ms, bool gave_up, bool *held, void *arg)
{
	return (childgroup_decided(c, a, status, delay_ms, gave_up, held));
}

/* {"attrs": {key: value, ...}}, or {"deleted": key} per deleted key. */
static void
gtd_obs_attrs(struct child *c, const char *const *keys,
    const struct value *vals, size_t n, void *arg)
{
	struct gtd	*g = arg;
	json_t		*o;
	size_t		 i;

	reexec_adopt_dirty(g);		/* adopt_on_restart's file */
	if (!event_wanted(g->events, EVENT_ATTR, c->name))
		return;			/* built only for a subscriber */
	if (vals == NULL) {
		for (i = 0; i < n; i++)
			event_emit(g->events, EVENT_ATTR, c->name,
			    json_pack("{s:s}", "deleted", keys[i]));
		return;
	}
	o = json_object();
	for (i = 0; i < n; i++)
		json_object_set_new(o, keys[i], proto_value_json(&vals[i]));
	event_emit(g->events, EVENT_ATTR, c->name, json_pack("{s:o}",
	    "attrs", o));
}

static void
gtd_obs_output(struct child *c, const char *stream, int64_t at,
    const char *line, size_t len, void *arg)
{
	event_child_log(((struct gtd *)arg)->events, c, stream, at, line, len);
}

static int
gtd_obs_hook_stdin(struct child *c, void *arg)
{
	char	*payload = hook_payload(c);
	int	 fd, saved;

	fd = hook_stdin(payload);
	saved = errno;
	free(payload);
	errno = saved;
	return (fd);
}

static int
gtd_obs_notify_open(struct child *c, void *arg)
{
	return (notify_child_open(((struct gtd *)arg)->notify, c));
}

static const char *
gtd_obs_notify_path(const struct child *c, void *arg)
{
	return (notify_child_path(((struct gtd *)arg)->notify, c));
}

static void
gtd_obs_notify_close(const struct child *c, void *arg)
{
	notify_child_close(((struct gtd *)arg)->notify, c);
}

static void
gtd_obs_proc_gone(void *arg)
{
	gtd_check_done(arg);		/* ends the loop once shutting down */
}

static void
gtd_obs_exit_daemon(struct child *c, void *arg)
{
	gtd_shutdown(arg, 1, -1);
}

static const struct child_observer gtd_child_obs = {
	.state = gtd_obs_state,
	.gave_up = gtd_obs_gave_up,
	.hook_done = gtd_obs_hook_done,
	.removed = gtd_obs_removed,
	.attrs = gtd_obs_attrs,
	.output = gtd_obs_output,
	.hook_stdin = gtd_obs_hook_stdin,
	.notify_open = gtd_obs_notify_open,
	.notify_path = gtd_obs_notify_path,
	.notify_close = gtd_obs_notify_close,
	.proc_gone = gtd_obs_proc_gone,
	.exit_daemon = gtd_obs_exit_daemon,
	.added = gtd_obs_added,
	.hold_start = gtd_obs_hold_start,
	.unwait = gtd_obs_unwait,
	.hold_stop = gtd_obs_hold_stop,
	.spawned = gtd_obs_spawned,
	.reaped = gtd_obs_reaped,
	.decided = gtd_obs_decided
};

/* The registry's spec source: the text of a child's current spec. */
static char *
gtd_spec_text(const char *name, void *arg)
{
	struct child	*c = child_find(arg, name);

	return (c != NULL ? config_spec_text_as(c->spec, c->name) : NULL);
}

struct gtd *
gtd_new(const struct child_ops *ops, char **cause)
{
	struct gtd	*g;

	g = xcalloc(1, sizeof *g);
	g->w = xcalloc(1, sizeof *g->w);
	if ((g->reg = registry_new(cause)) == NULL) {
		free(g->w);
		free(g);
		return (NULL);
	}
	if ((g->spawn = spawn_inherit_new(cause)) == NULL) {
		registry_free(g->reg);
		free(g->w);
		free(g);
		return (NULL);
	}
	registry_set_spec_source(g->reg, gtd_spec_text, g);
	g->loop = EV_DEFAULT;
	g->ops = ops;
	g->pid = getpid();
	g->zone = xstrdup("default");
	g->events = events_new(g->loop);
	g->obs = &gtd_child_obs;
	g->obs_arg = g;
	g->socket_path = xstrdup("");
	config_default_limits(&g->lim);
	child_tab_new(g);
	g->cmd = cmd_state_new();
	g->rx = reexec_state_new();
	g->shut = shutdown_state_new();
	g->rl = reload_state_new();
	g->conns = connset_new(&(struct connset_opts){ .loop = g->loop,
	    .lim = &g->lim, .handler = &gtd_conn_handler, .arg = g,
	    .pidfd_open = ops->pidfd_open });
	g->started_at = clock_now_ms(g->loop);
	return (g);
}

void
gtd_free(struct gtd *g)
{
	if (g == NULL)
		return;
	ev_signal_stop(g->loop, &g->w->sigterm);
	ev_signal_stop(g->loop, &g->w->sigint);
	ev_signal_stop(g->loop, &g->w->sighup);
	ev_prepare_stop(g->loop, &g->w->reaper);
	ev_timer_stop(g->loop, &g->w->settle);
	server_free(g->server);
	notify_free(g->notify);
	gtd_sd_free(g->sd);
	snapshot_free(g->snapshot);	/* the final state, then no timer */
	reexec_abandon(g);	/* its request is abandoned next */
	reexec_adopt_free(g);	/* before the rows go */
	gtcluster_free(g);		/* no claim answers after this */
	cmd_abandon_all(g);	/* their refs, timers and waits */
	connset_free(g->conns);
	childgroup_free(g);	/* its refs, before the rows go */
	child_free_all(g);
	childdeps_free(g);
	childcg_close(g);		/* after the children's cgroups */
	events_free(g->events);
	reload_state_free(g->rl);	/* the config, a boot cut short */
	registry_free(g->reg);
	spawn_inherit_free(g->spawn);
	child_tab_free(g);
	free(g->zone);
	free(g->socket_path);
	cmd_state_free(g->cmd);
	reexec_state_free(g->rx);
	shutdown_state_free(g);		/* and its timer */
	free(g->w);
	free(g);
}

void
gtd_loop_init(struct gtd *g)
{
	ev_signal_init(&g->w->sigterm, gtd_signal_cb, SIGTERM);
	ev_signal_init(&g->w->sigint, gtd_signal_cb, SIGINT);
	ev_signal_init(&g->w->sighup, gtd_signal_cb, SIGHUP);
	g->w->sigterm.data = g->w->sigint.data = g->w->sighup.data = g;
	ev_signal_start(g->loop, &g->w->sigterm);
	ev_signal_start(g->loop, &g->w->sigint);
	ev_signal_start(g->loop, &g->w->sighup);
	spawn_init();			/* its low descriptors, now */
	ev_prepare_init(&g->w->reaper, gtd_reaper_cb);
	g->w->reaper.data = g;
	ev_prepare_start(g->loop, &g->w->reaper);
	ev_timer_init(&g->w->settle, gtd_settle_cb, GTD_SETTLE_S, 0.);
	g->w->settle.data = g;
	g->w->settle_s = GTD_SETTLE_S;
}

static void
gtd_signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct gtd	*g = w->data;

	if (w->signum == SIGHUP) {
		gtd_reload(g);
		return;
	}
	if (g->shut->active) {
		log_warnx("%s again: killing every child and hook now",
		    strsignal(w->signum));
		g->shut->forced = true;	/* and no hook starts */
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

	if (g->shut->active || reload_apply(g, &field, &cause) == 0)
		return;
	log_warnx("SIGHUP: reload failed, nothing changed: %s%s%s",
	    field != NULL && *field != '\0' ? field : "",
	    field != NULL && *field != '\0' ? ": " : "", cause);
	free(field);
	free(cause);
}

/* Only wakes the loop: its ev_prepare (the reaper) looks again. */
static void
gtd_settle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
}

static void
gtd_reaper_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct gtd	*g = w->data;
	int64_t		 now;
	char		*cause;

	/*
	 * Before gtd waits: no pipe end of a new child is held back.  One
	 * not yet scheduled (the CPUs are busy) is looked at again shortly,
	 * without waiting for it here.
	 */
	if (!spawn_settle())
		g->w->settle_s = GTD_SETTLE_S;
	else if (!ev_is_active(&g->w->settle)) {
		/* A frozen child may wait long: no busy loop meanwhile. */
		ev_timer_set(&g->w->settle, g->w->settle_s, 0.);
		ev_timer_start(loop, &g->w->settle);
		if ((g->w->settle_s *= 2) > GTD_SETTLE_MAX_S)
			g->w->settle_s = GTD_SETTLE_MAX_S;
	}
	connset_reap(g->conns);
	child_reap_dead(g);
	/*
	 * Commit at most every GTD_COMMIT_MS: readers share this connection
	 * and see every write at once, and the snapshot commits first, so a
	 * commit per request would only cost time.
	 */
	if ((now = clock_mono_ms()) - g->w->committed_at < GTD_COMMIT_MS)
		return;
	g->w->committed_at = now;
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
