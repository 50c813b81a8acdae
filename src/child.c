/* SPDX-License-Identifier: MIT */
/*
 * child: the state machine of one supervised row (protocol §3).  Every
 * start, stop, delay and exit is an event: an ev_child for the reap, an
 * ev_io for the exec-status pipe, one ev_timer for the stop or restart
 * deadline.  child_set_state() is the only writer of c->state and keeps
 * the SQLite mirror exact.  Never blocks; never frees a child inside a
 * callback chain (removed rows wait for the reaper).
 */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gt/child.h"
#include "gt/envfile.h"
#include "gt/fscred.h"
#include "gt/childcg.h"
#include "gt/childlog.h"
#include "gt/clock.h"
#include "gt/gtd.h"
#include "gt/log.h"
#include "gt/plan.h"
#include "gt/procstat.h"
#include "gt/reexec.h"
#include "gt/registry.h"
#include "gt/spawn.h"
#include "gt/xmalloc.h"

/*
 * Report up through the observer (child.h), when it has that member:
 * the core names nothing above it.
 */
#define CHILD_OBS(g, m, ...) do {					\
	if ((g)->obs != NULL && (g)->obs->m != NULL)			\
		(g)->obs->m(__VA_ARGS__, (g)->obs_arg);			\
} while (0)
#define CHILD_OBS0(g, m) do {						\
	if ((g)->obs != NULL && (g)->obs->m != NULL)			\
		(g)->obs->m((g)->obs_arg);				\
} while (0)

static void	child_exit_cb(struct ev_loop *, ev_child *, int);
static void	child_status_cb(struct ev_loop *, ev_io *, int);
static void	child_timer_cb(struct ev_loop *, ev_timer *, int);
static void	child_set_state(struct child *, enum child_state);
static void	child_mirror(struct child *, bool);
static void	child_wake(struct child *);
static int	child_notify_open(struct child *);
static const char *child_notify_path(const struct child *);
static int	child_hook_stdin(struct child *);
static void	child_arm(struct child *, int64_t);
static void	child_disarm(struct child *);
static void	child_signal(struct child *, int);
static void	child_status_close(struct child *);
static void	child_attrs_init(struct child *);
static void	child_ready_cb(struct ev_loop *, ev_io *, int);
static void	child_pidfd_cb(struct ev_loop *, ev_io *, int);
static void	child_hook_cb(struct ev_loop *, ev_child *, int);
static int	child_hook_start(struct child *);
static void	child_terminated(struct child *, int);
static void	child_fd_close(struct child *, int *, ev_io *);
static void	child_wake_list(struct child *, struct child_waiters *);
static int	child_outputs(struct child *, int [2], int [2]);
static int	child_spawn(struct child *);
static void	child_envinfo_free(struct child *);
static void	child_envinfo_keep(struct child *, const struct envfile_set *);
static int	child_env_files(struct child *, struct envfile_set *,
		    char **);
static void	child_queue_kick(struct gtd *);
static bool	child_slice_over(struct gtd *);
static void	child_queue_released(struct childtab *, struct child *);
static void	child_queue_remove(struct childtab *, struct child *);
static void	child_unqueue(struct child *);
static bool	child_outputs_shared(const struct spec_output *);
static void	child_outputs_done(struct child *, int [2], int [2], bool);
static void	child_decide(struct child *, int);
static void	child_spawn_failed(struct child *, int, int);
static void	child_record_exit(struct child *, int);
static int	child_start_as(struct child *, bool);
static void	child_stop_as(struct child *, int64_t, bool, bool);
static void	child_hook_output(struct child *, int [2], bool);
struct child_vec;
static void	child_env(struct child *, struct child_vec *, size_t,
		    char **);
static void	child_argv(const struct childspec *, struct child_vec *);
static void	child_vec_free(struct child_vec *);
static void	child_hash_add(struct child **, size_t, struct child *, int);
static void	child_hash_del(struct gtd *, struct child *, int);
static size_t	child_hash_name(const char *);
static void	child_rehash(struct gtd *);

static const char *child_state_names[CHILD_NSTATES] = {
	[CHILD_STARTING] = "starting",
	[CHILD_RUNNING] = "running",
	[CHILD_STOPPING] = "stopping",
	[CHILD_TERMINATING] = "terminating",
	[CHILD_RESTARTING] = "restarting",
	[CHILD_STOPPED] = "stopped",
	[CHILD_WAITING] = "waiting"
};

static int
child_real_kill(pid_t pid, int sig)
{
	return (kill(pid, sig));
}

static int
child_real_pidfd_open(pid_t pid)
{
	return ((int)syscall(SYS_pidfd_open, pid, 0));
}

const struct child_ops child_real_ops = {
	.spawn = spawn_start,
	.kill = child_real_kill,
	.pidfd_open = child_real_pidfd_open
};

const char *
child_state_name(enum child_state s)
{
	return (child_state_names[s]);
}

int
child_state_parse(const char *s, enum child_state *out)
{
	int	i;

	for (i = 0; i < CHILD_NSTATES; i++) {
		if (strcmp(s, child_state_names[i]) == 0) {
			*out = i;
			return (0);
		}
	}
	errno = EINVAL;
	return (-1);
}

bool
child_is_alive(const struct child *c)
{
	return (c->pid > 0);
}

/* FNV-1a. */
static size_t
child_hash_name(const char *s)
{
	size_t	h = 14695981039346656037ULL;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return (h);
}

#define CHILD_SLICE_S	0.0005	/* of spawning per loop iteration, in a wave */
#define CHILD_BY_NAME	0
#define CHILD_BY_PID	1

static void
child_hash_add(struct child **tab, size_t n, struct child *c, int which)
{
	size_t	i;

	if (which == CHILD_BY_NAME) {
		i = child_hash_name(c->name) & (n - 1);
		c->next_name = tab[i];
	} else {
		i = (size_t)c->pid & (n - 1);
		c->next_pid = tab[i];
	}
	tab[i] = c;
}

static void
child_hash_del(struct gtd *g, struct child *c, int which)
{
	struct child	**pp;

	if (which == CHILD_BY_NAME) {
		pp = &g->tab->by_name[child_hash_name(c->name) &
		    (g->tab->nbuckets - 1)];
		while (*pp != c)
			pp = &(*pp)->next_name;
		*pp = c->next_name;
	} else {
		pp = &g->tab->by_pid[(size_t)c->pid & (g->tab->nbuckets - 1)];
		while (*pp != c)
			pp = &(*pp)->next_pid;
		*pp = c->next_pid;
	}
}

/* Double the buckets once the table is full: lookups stay O(1). */
static void
child_rehash(struct gtd *g)
{
	struct child	*c;
	size_t		 n = g->tab->nbuckets == 0 ? 64 : g->tab->nbuckets * 2;

	free(g->tab->by_name);
	free(g->tab->by_pid);
	g->tab->by_name = xcalloc(n, sizeof *g->tab->by_name);
	g->tab->by_pid = xcalloc(n, sizeof *g->tab->by_pid);
	g->tab->nbuckets = n;
	TAILQ_FOREACH(c, &g->tab->children, entry) {
		child_hash_add(g->tab->by_name, n, c, CHILD_BY_NAME);
		if (c->pid > 0)
			child_hash_add(g->tab->by_pid, n, c, CHILD_BY_PID);
	}
}

struct child *
child_find(struct gtd *g, const char *name)
{
	struct child	*c;

	if (g->tab->nbuckets == 0)
		return (NULL);
	c = g->tab->by_name[child_hash_name(name) & (g->tab->nbuckets - 1)];
	for (; c != NULL; c = c->next_name)
		if (strcmp(c->name, name) == 0)
			return (c);
	return (NULL);
}

struct child *
child_find_pid(struct gtd *g, pid_t pid)
{
	struct child	*c;

	if (g->tab->nbuckets == 0 || pid <= 0)
		return (NULL);
	c = g->tab->by_pid[(size_t)pid & (g->tab->nbuckets - 1)];
	for (; c != NULL; c = c->next_pid)
		if (c->pid == pid)
			return (c);
	return (NULL);
}

struct child *
child_find_owner(struct gtd *g, pid_t pid)
{
	struct child		*c;
	struct proc_stat	 ps;

	if ((c = child_find_pid(g, pid)) != NULL || pid <= 0)
		return (c);
	/* A kill_group child leads its session and group: ask /proc. */
	if (proc_stat(pid, &ps) == -1)
		return (NULL);
	if ((c = child_find_pid(g, ps.session)) == NULL)
		c = child_find_pid(g, ps.pgrp);
	return (c);
}

/*
 * The specs of the rows, one of each (spec_equal): children started with
 * the same spec (a template's instances, or a client starting many alike)
 * hold one.  A chain is walked CHILD_SPEC_CHAIN deep at most, and a spec
 * that finds no place there is not shared: specs made to collide cost
 * their memory, never a long walk.
 */
#define CHILD_SPEC_CHAIN	8

static void
child_spec_grow(struct childtab *t)
{
	struct childspec	**v, *s, *next;
	size_t			  n = t->nspecbuckets == 0 ? 64 :
	    t->nspecbuckets * 2, i, k;

	v = xcalloc(n, sizeof *v);
	for (i = 0; i < t->nspecbuckets; i++) {
		for (s = t->specs[i]; s != NULL; s = next) {
			next = s->share_next;
			k = s->share_hash & (n - 1);
			s->share_next = v[k];
			v[k] = s;
		}
	}
	free(t->specs);
	t->specs = v;
	t->nspecbuckets = n;
}

/*
 * The spec a row holds for spec (taken): an equal one it shares, or spec
 * itself, kept for the next.  Either way without a name (the row's).
 */
static struct childspec *
child_spec_share(struct gtd *g, struct childspec *spec)
{
	struct childtab		*t = g->tab;
	struct childspec	*s;
	size_t			 depth = 0, k;

	free(spec->name);
	spec->name = NULL;
	if (spec->health != NULL)	/* never equal: not kept */
		return (spec);
	if (t->nspecs >= t->nspecbuckets)
		child_spec_grow(t);
	spec->share_hash = spec_hash(spec);
	k = spec->share_hash & (t->nspecbuckets - 1);
	for (s = t->specs[k]; s != NULL; s = s->share_next) {
		if (s->share_hash == spec->share_hash &&
		    spec_equal(s, spec)) {
			spec_free(spec);
			return (spec_hold(s));
		}
		if (++depth == CHILD_SPEC_CHAIN)
			return (spec);		/* not kept */
	}
	spec->share_next = t->specs[k];
	t->specs[k] = spec;
	t->nspecs++;
	return (spec);
}

/* A row lets go of its spec (child_spec_share's); the last one frees it. */
static void
child_spec_drop(struct gtd *g, struct childspec *spec)
{
	struct childtab		*t = g->tab;
	struct childspec	**pp;

	if (spec == NULL)
		return;
	if (spec->refs == 1 && t->nspecbuckets > 0) {
		pp = &t->specs[spec->share_hash & (t->nspecbuckets - 1)];
		while (*pp != NULL && *pp != spec)
			pp = &(*pp)->share_next;
		if (*pp != NULL) {	/* else not kept (a long chain) */
			*pp = spec->share_next;
			t->nspecs--;
		}
	}
	spec_free(spec);
}

struct child *
child_add(struct gtd *g, struct childspec *spec, char *spec_json)
{
	struct child	*c;
	size_t		 len;

	if (child_find(g, spec->name) != NULL || g->tab->nchildren >=
	    g->lim.max_children) {
		errno = g->tab->nchildren >= g->lim.max_children ? ENOSPC :
		    EEXIST;
		spec_free(spec);
		free(spec_json);
		return (NULL);
	}
	/* The name lives after the struct: one allocation. */
	len = strlen(spec->name);
	c = xcalloc(1, sizeof *c + len + 1);
	memcpy(c + 1, spec->name, len + 1);
	c->name = (const char *)(c + 1);
	c->gtd = g;
	c->spec = child_spec_share(g, spec);
	c->state = CHILD_STOPPED;
	c->pid = -1;
	c->statusfd = c->readyfd = c->hook_statusfd = c->pidfd = -1;
	c->hook_pid = -1;
	TAILQ_INIT(&c->waiters);
	TAILQ_INIT(&c->attr_waiters);
	ev_init(&c->readyw, child_ready_cb);
	c->readyw.data = c;
	ev_init(&c->timer, child_timer_cb);
	c->timer.data = c;
	ev_init(&c->statusw, child_status_cb);
	c->statusw.data = c;
	TAILQ_INSERT_TAIL(&g->tab->children, c, entry);
	g->tab->nchildren++;
	if ((size_t)g->tab->nchildren > g->tab->nbuckets)
		child_rehash(g);
	else
		child_hash_add(g->tab->by_name, g->tab->nbuckets, c,
		    CHILD_BY_NAME);
	/* The registry makes the text again when a query reads it. */
	free(spec_json);
	child_mirror(c, true);
	CHILD_OBS(g, added, c);	/* depends_on */
	return (c);
}

/* The only writer of c->state: mirror it, then wake the waiters. */
static void
child_set_state(struct child *c, enum child_state st)
{
	enum child_state	old = c->state;

	if (c->counted && st != CHILD_STARTING) {
		c->counted = false;
		c->gtd->tab->nstarting--;
		child_queue_kick(c->gtd);
	}
	log_debug("child %s: %s -> %s", c->name, child_state_name(old),
	    child_state_name(st));
	c->state = st;
	child_mirror(c, false);
	CHILD_OBS(c->gtd, state, c, old);
	child_wake(c);
}

/*
 * Mirror the row: put (a new row or a new spec) or update (all but the
 * spec).  The spec's text is not stored: the registry asks for it
 * (gtd_spec_text in loop.c) when a query reads it.
 */
static void
child_mirror(struct child *c, bool put)
{
	struct gtd		*g = c->gtd;
	struct registry_row	 row = {
		.name = c->name,
		.pid = c->pid,
		.state = child_state_name(c->state),
		.type = spec_type_name(c->spec->type),
		.restart = spec_restart_name(c->spec->restart),
		.restart_count = c->restart_count,
		.started_at = c->started_at,
		.ready_at = c->ready_at,
		.exit_status = -1,
		.exited_at = c->exited_at,
		.restart_at = c->restart_at,
		.gave_up = c->gave_up
	};
	int			 rc;

	if (c->has_exit && WIFEXITED(c->last_status))
		row.exit_status = WEXITSTATUS(c->last_status);
	else if (c->has_exit)
		row.exit_signal = spec_signal_name(WTERMSIG(c->last_status));
	if (put)
		rc = registry_child_put(g->reg, &row);
	else
		rc = registry_child_update(g->reg, &row);
	if (rc == -1) {
		g->stats.mirror_errors++;
		log_warnx("child %s: mirror: %s", c->name,
		    registry_errmsg(g->reg));
	}
}

static void
child_wake(struct child *c)
{
	child_wake_list(c, &c->waiters);
}

/* Wake every waiter once; a callback may add itself (or others) again. */
static void
child_wake_list(struct child *c, struct child_waiters *list)
{
	struct child_waiters	 now;
	struct child_waiter	*w;

	if (TAILQ_EMPTY(list))
		return;
	TAILQ_INIT(&now);
	TAILQ_CONCAT(&now, list, entry);
	/* A callback may unwait another of these: it is on `now` now. */
	TAILQ_FOREACH(w, &now, entry)
		w->list = &now;
	child_ref(c);
	while ((w = TAILQ_FIRST(&now)) != NULL) {
		TAILQ_REMOVE(&now, w, entry);
		w->queued = false;
		w->cb(c, w->arg);
	}
	child_unref(c);
}

void
child_wait(struct child *c, struct child_waiter *w)
{
	assert(!w->queued);
	w->queued = true;
	w->list = &c->waiters;
	TAILQ_INSERT_TAIL(&c->waiters, w, entry);
}

void
child_unwait(struct child *c, struct child_waiter *w)
{
	if (!w->queued)
		return;
	/* On c's list, or on a wake's own list that has not reached it. */
	TAILQ_REMOVE(w->list, w, entry);
	w->queued = false;
}

void
child_wait_attrs(struct child *c, struct child_waiter *w)
{
	assert(!w->queued);
	w->queued = true;
	w->list = &c->attr_waiters;
	TAILQ_INSERT_TAIL(&c->attr_waiters, w, entry);
}

void
child_attrs_changed(struct child *c)
{
	child_wake_list(c, &c->attr_waiters);
}

void
child_ref(struct child *c)
{
	c->refs++;
}

void
child_unref(struct child *c)
{
	assert(c->refs > 0);
	c->refs--;
}

static void
child_arm(struct child *c, int64_t ms)
{
	ev_timer_stop(c->gtd->loop, &c->timer);
	c->timer_gen = ++c->gen;
	ev_timer_set(&c->timer, ms / 1000.0, 0.);
	ev_timer_start(c->gtd->loop, &c->timer);
}

static void
child_disarm(struct child *c)
{
	c->gen++;			/* a stale fire ignores itself */
	ev_timer_stop(c->gtd->loop, &c->timer);
}

/* HOME, USER, LOGNAME and SHELL belong to the user a child runs as. */
static bool
child_env_user_var(const char *kv)
{
	return (strncmp(kv, "HOME=", 5) == 0 || strncmp(kv, "USER=", 5) == 0 ||
	    strncmp(kv, "LOGNAME=", 8) == 0 || strncmp(kv, "SHELL=", 6) == 0);
}

/*
 * An exec vector under construction.  Its strings are borrowed (from gtd's
 * environment and the spec) except the few made for this start, kept in
 * own[]: a start costs a handful of allocations, not one per variable.
 */
#define CHILD_VEC_OWN	11
struct child_vec {
	char	**v;			/* owned array, NULL-terminated */
	size_t	  n;
	size_t	  cap;			/* v has room for cap + 1 */
	char	 *own[CHILD_VEC_OWN];	/* owned strings, also in v */
	int	  nown;
};

static void
child_vec_add(struct child_vec *cv, char *s)
{
	assert(cv->n < cv->cap);
	cv->v[cv->n++] = s;
	cv->v[cv->n] = NULL;
}

/* Append an xasprintf'd string that the vector owns from now on. */
static void
child_vec_own(struct child_vec *cv, char *s)
{
	assert(cv->nown < CHILD_VEC_OWN);
	cv->own[cv->nown++] = s;
	child_vec_add(cv, s);
}

static void
child_vec_free(struct child_vec *cv)
{
	int	i;

	for (i = 0; i < cv->nown; i++)
		free(cv->own[i]);
	free(cv->v);
}

/* The user's own values, unless the spec's env sets them. */
static void
child_env_user(const struct childspec *s, struct child_vec *cv)
{
	const char	*k[] = { "HOME", "USER", "LOGNAME", "SHELL" };
	const char	*v[] = { s->home, s->login, s->login, s->shell };
	char		*kv;
	size_t		 i, j, klen;

	for (i = 0; i < 4; i++) {
		klen = strlen(k[i]);
		for (j = 0; j < s->nenv; j++)
			if (strncmp(s->env[j], k[i], klen) == 0 &&
			    s->env[j][klen] == '=')
				break;
		if (j < s->nenv || v[i] == NULL)
			continue;
		xasprintf(&kv, "%s=%s", k[i], v[i]);
		child_vec_own(cv, kv);
	}
}

/*
 * Build the child's environment: gtd's (or none), the spec's, GTD_*.
 * Room is left for `extra` more owned strings (the hook's).
 */
static void
child_env(struct child *c, struct child_vec *cv, size_t extra,
    char **files)
{
	static const char	*drop[] = { "GTD_SOCKET=", "GTD_ZONE=",
	    "GTD_NAME=", "NOTIFY_SOCKET=", "LISTEN_FDS=", "LISTEN_PID=",
	    "LISTEN_FDNAMES=", "WATCHDOG_USEC=", "WATCHDOG_PID=",
	    "GTD_FENCE=", NULL };
	struct gtd	*g = c->gtd;
	char		**base, **e, *s;
	const char	 *np;
	size_t		  i, klen;
	const char	**d;

	/* files: the env_files merged over this base (envfile_load). */
	base = files != NULL ? files : c->spec->clear_env ? NULL :
	    g->spawn->env;
	memset(cv, 0, sizeof *cv);
	cv->cap = (base != NULL ? spec_strv_len(base) : 0) + c->spec->nenv +
	    CHILD_VEC_OWN;
	assert(extra <= CHILD_VEC_OWN - 10);	/* 4 user + 6 GTD_* at most */
	cv->v = xcalloc(cv->cap + 1, sizeof *cv->v);
	for (e = base; e != NULL && *e != NULL; e++) {
		for (d = drop; *d != NULL; d++)
			if (strncmp(*e, *d, strlen(*d)) == 0)
				break;
		if (*d != NULL || (c->spec->login != NULL &&
		    child_env_user_var(*e)))
			continue;
		klen = strcspn(*e, "=") + 1;
		for (i = 0; i < c->spec->nenv; i++)
			if (strncmp(*e, c->spec->env[i], klen) == 0)
				break;
		if (i == c->spec->nenv)
			child_vec_add(cv, *e);
	}
	if (c->spec->login != NULL)
		child_env_user(c->spec, cv);
	for (i = 0; i < c->spec->nenv; i++) {
		for (d = drop; *d != NULL && d < drop + 3; d++)
			if (strncmp(c->spec->env[i], *d, strlen(*d)) == 0)
				break;
		if (*d == NULL || d == drop + 3)	/* GTD_* are gtd's */
			child_vec_add(cv, c->spec->env[i]);
	}
	xasprintf(&s, "GTD_SOCKET=%s", g->socket_path);
	child_vec_own(cv, s);
	xasprintf(&s, "GTD_ZONE=%s", g->zone);
	child_vec_own(cv, s);
	xasprintf(&s, "GTD_NAME=%s", c->name);
	child_vec_own(cv, s);
	if ((c->spec->ready == SPEC_READY_NOTIFY || c->spec->watchdog_ms > 0) &&
	    (np = child_notify_path(c)) != NULL) {
		xasprintf(&s, "NOTIFY_SOCKET=%s", np);	/* its own socket */
		child_vec_own(cv, s);
	}
	if (c->spec->watchdog_ms > 0) {
		xasprintf(&s, "WATCHDOG_USEC=%lld",
		    (long long)c->spec->watchdog_ms * 1000);
		child_vec_own(cv, s);
	}
	if (c->fence > 0) {		/* its cluster claim (protocol §9.3) */
		xasprintf(&s, "GTD_FENCE=%lld", (long long)c->fence);
		child_vec_own(cv, s);
	}
}

/* The argv of a start: the spec's cmd and args, borrowed. */
static void
child_argv(const struct childspec *s, struct child_vec *cv)
{
	size_t	i;

	memset(cv, 0, sizeof *cv);
	cv->cap = s->ncmd + s->nargs;
	cv->v = xcalloc(cv->cap + 1, sizeof *cv->v);
	for (i = 0; i < s->ncmd; i++)
		child_vec_add(cv, s->cmd[i]);
	for (i = 0; i < s->nargs; i++)
		child_vec_add(cv, s->args[i]);
}

/*
 * The child's stdout and stderr: gtd's own, /dev/null, or a pipe that
 * gtd reads (log and file).  Both in log mode share one pipe ("output"),
 * so a child costs gtd one fd.  out[] gets the write ends, rd[] the read
 * ends.  0, or -1 with errno (nothing left open).
 */
static int
child_outputs(struct child *c, int out[2], int rd[2])
{
	const struct spec_output	*o = c->spec->out;
	int				 i, p[2], saved;

	for (i = 0; i < 2; i++) {
		if (o[i].mode == SPEC_OUT_INHERIT)
			out[i] = i + 1;
		else if (o[i].mode == SPEC_OUT_NULL)
			out[i] = c->gtd->spawn->devnull;
		else if (i == 1 && rd[0] != -1 && child_outputs_shared(o)) {
			out[1] = out[0];
		} else {
			if (pipe2(p, O_CLOEXEC) == -1 ||
			    fcntl(p[0], F_SETFL, O_NONBLOCK) == -1)
				goto fail;
			rd[i] = p[0];
			out[i] = p[1];
		}
	}
	return (0);
fail:
	saved = errno;
	child_outputs_done(c, out, rd, false);
	errno = saved;
	return (-1);
}

/* Both streams to the same place: one pipe. */
static bool
child_outputs_shared(const struct spec_output *o)
{
	if (o[0].mode == SPEC_OUT_LOG && o[1].mode == SPEC_OUT_LOG)
		return (true);
	return (o[0].mode == SPEC_OUT_FILE && o[1].mode == SPEC_OUT_FILE &&
	    strcmp(o[0].path, o[1].path) == 0);
}

/* After the fork: close the write ends; attach (or close) the read ends. */
static void
child_outputs_done(struct child *c, int out[2], int rd[2], bool spawned)
{
	static const char *const	 names[] = { "stdout", "stderr" };
	const struct spec_output	*o = c->spec->out;
	const char			*stream;
	int				 i;

	for (i = 0; i < 2; i++) {
		if (rd[i] == -1)
			continue;
		close(out[i]);
		if (!spawned) {
			close(rd[i]);
			continue;
		}
		if (c->log == NULL)
			c->log = childlog_new(c, child_output_closed);
		stream = i == 0 && out[1] == out[0] ? "output" : names[i];
		childlog_attach(c->log, i, rd[i], stream, o[i].path,
		    o[i].max_bytes, o[i].keep, o[i].mode == SPEC_OUT_LOG);
	}
	out[0] = 1;
	out[1] = 2;
	rd[0] = rd[1] = -1;
}

/* The spec's credentials and process attributes, for a spawn plan. */
void
child_plan_attrs(const struct childspec *s, struct spawn_plan *pl)
{
	pl->rlimits = s->rlimits;
	pl->nrlimits = s->nrlimits;
	pl->set_nice = s->set_nice;
	pl->nice = s->nice;
	pl->umask = s->umask;
	pl->set_gid = s->set_gid;
	pl->gid = (gid_t)s->gid;
	pl->set_uid = s->set_uid;
	pl->uid = (uid_t)s->uid;
	/* gid_t is unsigned int on Linux: the arrays are the same. */
	pl->groups = (const gid_t *)s->groups;
	pl->ngroups = s->ngroups;
}

/* The PATH the child will search: its own env's, else the default. */
static const char *
child_path_of(char **env)
{
	for (; *env != NULL; env++)
		if (strncmp(*env, "PATH=", 5) == 0)
			return (*env + 5);
	return (NULL);
}

int
child_start(struct child *c)
{
	assert(c->state == CHILD_STOPPED || c->state == CHILD_RESTARTING ||
	    c->state == CHILD_WAITING);
	return (child_start_as(c, c->state == CHILD_WAITING ? c->manual :
	    c->state == CHILD_STOPPED));
}

int
child_start_policy(struct child *c)
{
	assert(c->state == CHILD_STOPPED || c->state == CHILD_RESTARTING ||
	    c->state == CHILD_WAITING);
	return (child_start_as(c, false));
}

void
child_hold(struct child *c)
{
	switch (c->state) {
	case CHILD_STARTING:
	case CHILD_RUNNING:
		/* As restart_child's stop: no wait for its dependents. */
		child_stop_as(c, -1, false, true);
		if (c->flags & CHILD_DEAD)
			return;
		if (c->state == CHILD_STOPPED) {	/* was queued */
			child_set_state(c, CHILD_RESTARTING);
			return;
		}
		c->held = true;
		break;
	case CHILD_STOPPING:
	case CHILD_TERMINATING:
		if (c->want_down)
			break;		/* a stop on request: it stays down */
		c->want_down = true;	/* killed (watchdog...): held */
		c->held = true;
		break;
	case CHILD_WAITING:
		CHILD_OBS(c->gtd, unwait, c);
		c->restart_at = 0;
		child_set_state(c, CHILD_RESTARTING);
		break;
	case CHILD_RESTARTING:
		child_disarm(c);
		c->restart_at = 0;
		break;
	case CHILD_STOPPED:
		break;
	}
}

int
child_restart(struct child *c)
{
	switch (c->state) {
	case CHILD_STOPPED:
	case CHILD_RESTARTING:
		return (child_start_as(c, true));
	case CHILD_WAITING:		/* starts when it may */
		return (0);
	case CHILD_STARTING:
		if (c->queued)		/* not forked yet: the new one */
			return (0);
		/* FALLTHROUGH */
	case CHILD_RUNNING:
		c->bounce = true;	/* its dependents see a restart */
		child_stop_as(c, -1, false, true);
		break;
	case CHILD_STOPPING:
	case CHILD_TERMINATING:
		c->want_down = true;	/* on its way down already */
		break;
	}
	c->bounce = true;		/* child_decide starts it again */
	return (0);
}

/*
 * Start the next incarnation.  manual: on request (restart_child,
 * find_or_open of a stopped row), which resets the restart intensity
 * and the backoff, and which leaves the row stopped if it fails before
 * it is ready.  Also from terminating, for restart_child force.
 */
static int
child_start_as(struct child *c, bool manual)
{
	struct gtd		*g = c->gtd;
	/* Released by its dependencies: no reply waits for its pid. */
	bool			 paced = c->state == CHILD_WAITING;

	assert(c->pid == -1 && !c->adopted && (c->state == CHILD_STOPPED ||
	    c->state == CHILD_RESTARTING || c->state == CHILD_TERMINATING ||
	    c->state == CHILD_WAITING));
	child_disarm(c);
	if (c->next_spec != NULL) {	/* a reload changed the spec */
		child_spec_drop(g, c->spec);
		c->spec = child_spec_share(g, c->next_spec);
		c->next_spec = NULL;
		child_mirror(c, true);
		free(c->next_json);
		c->next_json = NULL;
		CHILD_OBS(g, added, c);	/* its new depends_on */
	}
	if (g->obs != NULL && g->obs->hold_start != NULL &&
	    g->obs->hold_start(c, g->obs_arg)) {
		c->manual = manual;	/* the start it will be */
		c->want_down = false;
		c->restart_at = 0;
		if (c->state != CHILD_WAITING)
			child_set_state(c, CHILD_WAITING);
		return (0);
	}
	c->incarnation++;
	c->fail = CHILD_FAIL_NONE;
	c->fail_errno = 0;
	free(c->fail_path);
	c->fail_path = NULL;
	c->want_down = c->escalated = c->gave_up = c->unhealthy = false;
	c->held = false;
	c->stop_sig = 0;
	c->stop_timeout_ms = 0;
	c->restart_at = 0;
	c->manual = manual;
	if (manual)			/* a new window, a new backoff */
		policy_hist_free(&c->hist);
	if ((g->lim.max_starting > 0 && g->tab->nstarting >=
	    g->lim.max_starting) || (paced && child_slice_over(g))) {
		/* Over the zone's cap: wait in line, in the starting state. */
		c->queued = true;
		if (paced) {
			child_queue_released(g->tab, c);
			child_queue_kick(g);
		} else
			TAILQ_INSERT_TAIL(&g->tab->start_queue, c, qentry);
		child_set_state(c, CHILD_STARTING);
		return (0);
	}
	return (child_spawn(c));
}

/*
 * A row its dependencies released goes in line before the rows queued
 * earlier, after those of the same release (child_release_begin): the
 * newest readiness first, so that a chain is never held behind a wide
 * level that started before it.
 */
static void
child_queue_released(struct childtab *t, struct child *c)
{
	if (t->qmark != NULL)
		TAILQ_INSERT_AFTER(&t->start_queue, t->qmark, c, qentry);
	else
		TAILQ_INSERT_HEAD(&t->start_queue, c, qentry);
	if (t->releasing > 0)
		t->qmark = c;
}

/* A release inside another (a start that releases more) joins it. */
void
child_release_begin(struct gtd *g)
{
	if (g->tab->releasing++ == 0)
		g->tab->qmark = NULL;
}

void
child_release_end(struct gtd *g)
{
	assert(g->tab->releasing > 0);
	if (--g->tab->releasing == 0)
		g->tab->qmark = NULL;
}

/* c leaves the start queue: the release's mark moves back past it. */
static void
child_queue_remove(struct childtab *t, struct child *c)
{
	if (t->qmark == c)
		t->qmark = TAILQ_PREV(c, child_list, qentry);
	TAILQ_REMOVE(&t->start_queue, c, qentry);
	c->queued = false;
}

/*
 * Read c's env_files as its user (protocol §9.1): 0 and *ef, or -1 with
 * errno and *path (the file).  Logged here: the cause has the line.
 */
static int
child_env_files(struct child *c, struct envfile_set *ef, char **path)
{
	const struct childspec	*s = c->spec;
	struct fscred		 cr;
	char			*cause = NULL;
	size_t			 i;
	int			 rc, saved;

	fscred_init(&cr, s->set_uid, s->uid, s->set_gid, s->gid, s->groups,
	    s->ngroups);
	rc = envfile_load(s->env_files, s->nenv_files, &cr, s->clear_env ?
	    NULL : c->gtd->spawn->env, ef, path, &cause);
	saved = errno;
	fscred_clear(&cr);
	if (rc == -1) {
		log_warnx("child %s: env_files: %s", c->name, cause);
		free(cause);
		errno = saved;
		return (-1);
	}
	for (i = 0; i < ef->n; i++)
		if (ef->files[i].nwarnings > 0)
			log_info("child %s: env_files: %s%s", c->name,
			    ef->files[i].warnings[0], ef->files[i].nwarnings >
			    1 ? " (and more)" : "");
	return (0);
}

static void
child_envinfo_free(struct child *c)
{
	struct child_envinfo	*ei = c->envinfo;
	size_t			 i, k;

	if (ei == NULL)
		return;
	for (i = 0; i < ei->n; i++) {
		free(ei->f[i].path);
		for (k = 0; ei->f[i].keys[k] != NULL; k++)
			free(ei->f[i].keys[k]);
		free(ei->f[i].keys);
	}
	free(ei->f);
	free(ei);
	c->envinfo = NULL;
}

/* Keep which files this start read and their keys (not their values). */
static void
child_envinfo_keep(struct child *c, const struct envfile_set *ef)
{
	struct child_envinfo	*ei;
	const struct envfile	*f;
	size_t			 i, k;

	child_envinfo_free(c);
	ei = xcalloc(1, sizeof *ei);
	ei->f = xcalloc(ef->n, sizeof *ei->f);
	for (i = 0; i < ef->n && i < c->spec->nenv_files; i++, ei->n++) {
		f = &ef->files[i];
		ei->f[i].path = xstrdup(c->spec->env_files[i]);
		ei->f[i].missing = f->missing;
		ei->f[i].keys = xcalloc(f->nvars + 1, sizeof (char *));
		for (k = 0; k < f->nvars; k++)
			ei->f[i].keys[k] = xstrndup(f->vars[k],
			    strcspn(f->vars[k], "="));
	}
	c->envinfo = ei;
}

/* Fork and exec the current incarnation (see child_start). */
static int
child_spawn(struct child *c)
{
	struct gtd		*g = c->gtd;
	struct spawn_plan	 pl;
	struct child_vec	 argv, envp;
	char			*path = NULL, buf[512];
	int			 statusfd = -1, saved, rp[2] = { -1, -1 };
	int			 out[2] = { 1, 2 }, logrd[2] = { -1, -1 };
	int			 step = SPAWN_STEP_EXEC;
	pid_t			 pid = -1;
	bool			 nok, efail = false;
	int			 nerr;
	struct envfile_set	 ef = { NULL, 0, NULL };
	char			*efpath = NULL;

	/* A notify socket of its own, before its env names it. */
	nok = (c->spec->ready != SPEC_READY_NOTIFY &&
	    c->spec->watchdog_ms <= 0) || child_notify_open(c) == 0;
	nerr = errno;
	if (nok && c->spec->nenv_files > 0 && child_env_files(c, &ef,
	    &efpath) == -1) {
		nok = false;
		nerr = errno;
		efail = true;
	} else if (nok && c->spec->nenv_files > 0)
		child_envinfo_keep(c, &ef);
	child_argv(c->spec, &argv);
	child_env(c, &envp, 0, ef.merged);
	if (!nok)	/* its notify socket, or an env file */
		step = efail ? SPAWN_STEP_ENV_FILE : SPAWN_STEP_SETUP;
	if (nok && spawn_resolve(argv.v[0], child_path_of(envp.v),
	    &path) == 0 && (step = SPAWN_STEP_FORK) == SPAWN_STEP_FORK &&
	    (c->spec->ready != SPEC_READY_FD ||
	    pipe2(rp, O_CLOEXEC | O_NONBLOCK) == 0) &&
	    child_outputs(c, out, logrd) == 0) {
		pl = (struct spawn_plan){ .path = path, .argv = argv.v,
		    .envp = envp.v, .cwd = c->spec->cwd,
		    .new_session = c->spec->kill_group, .parent = g->pid,
		    .fd_in = g->spawn->devnull, .fd_out = out[0],
		    .fd_err = out[1],
		    .extra_fd = rp[1], .extra_target = c->spec->ready_fd,
		    .no_deathsig = g->rx->adopt_on_restart,
		    .set_nofile = true, .nofile = g->spawn->nofile };
		child_plan_attrs(c->spec, &pl);
		if (childcg_prepare(c, &pl) == 0)
			pid = g->ops->spawn(&pl, &statusfd);
		else
			step = SPAWN_STEP_CGROUP;
		childcg_spawned(c, pid != -1);
	}
	saved = nok ? errno : nerr;
	if (rp[1] != -1)
		close(rp[1]);		/* the child has its own copy */
	if (pid == -1 && rp[0] != -1)
		close(rp[0]);
	child_outputs_done(c, out, logrd, pid != -1);
	free(path);
	child_vec_free(&argv);
	child_vec_free(&envp);
	envfile_set_clear(&ef);
	g->stats.spawns++;
	c->started_at = clock_now_ms(g->loop);
	c->ready_at = 0;
	if (pid == -1) {
		CHILD_OBS(g, notify_close, c);
		child_spawn_failed(c, saved, step);
		if (efail) {		/* the file, for the reply's path */
			free(c->fail_path);
			c->fail_path = efpath;
		}
		g->stats.spawn_failures++;
		log_warnx("child %s: %s", c->name,
		    child_fail_text(c, buf, sizeof buf));
		child_record_exit(c, -1);	/* no process: no status */
		child_decide(c, W_EXITCODE(127, 0));	/* like exec's */
		errno = saved;
		return (-1);
	}
	c->pid = pid;
	g->tab->nprocs++;
	g->tab->nstarting++;			/* until it leaves "starting" */
	c->counted = true;
	child_hash_add(g->tab->by_pid, g->tab->nbuckets, c, CHILD_BY_PID);
	/* Watch the reap now: ev(3) allows it only before the loop runs. */
	ev_child_init(&c->cw, child_exit_cb, pid, 0);
	c->cw.data = c;
	ev_child_start(g->loop, &c->cw);
	c->statusfd = statusfd;
	if (statusfd != -1) {
		ev_io_set(&c->statusw, statusfd, EV_READ);
		ev_io_start(g->loop, &c->statusw);
	}
	if ((c->readyfd = rp[0]) != -1) {
		ev_io_set(&c->readyw, c->readyfd, EV_READ);
		ev_io_start(g->loop, &c->readyw);
	}
	log_debug("child %s: started pid %d", c->name, (int)pid);
	child_attrs_init(c);
	CHILD_OBS(g, spawned, c);	/* health probe, after the attrs */
	child_arm(c, c->spec->ready_timeout_ms);
	child_set_state(c, CHILD_STARTING);
	if (statusfd == -1)
		child_handle_exec(c, 0, SPAWN_STEP_EXEC);
	return (0);
}

/*
 * Has this loop iteration spawned for long enough?  A wave of starts
 * (the dependents of one child that became ready: hundreds) is spread
 * over iterations, CHILD_SLICE_S of spawning each, so that the loop reads
 * its clients and children in between: one iteration that spawned 111
 * dependents held gtd for half a second on a busy machine.
 */
static bool
child_slice_over(struct gtd *g)
{
	struct childtab	*t = g->tab;
	ev_tstamp	 now = ev_time();

	if (t->slice_iter != ev_iteration(g->loop)) {
		t->slice_iter = ev_iteration(g->loop);
		t->slice_at = now;
	}
	return (now - t->slice_at > CHILD_SLICE_S);
}

/* A start slot may be free: spawn the next queued child from the loop. */
static void
child_queue_kick(struct gtd *g)
{
	if (!TAILQ_EMPTY(&g->tab->start_queue)) {
		ev_idle_start(g->loop, &g->tab->start_idle);
		ev_check_start(g->loop, &g->tab->start_check);
	}
}

/*
 * Spawn queued children while max_starting allows and this iteration's
 * slice lasts.  Past the slice, the watchers stay: the next poll does
 * not sleep and the next iteration goes on.  At the cap they stop, until
 * a start slot frees (child_queue_kick).
 */
static void
child_queue_run(struct gtd *g)
{
	struct childtab	*t = g->tab;
	struct child	*c;

	while ((g->lim.max_starting <= 0 || t->nstarting <
	    g->lim.max_starting) && (c = TAILQ_FIRST(&t->start_queue)) !=
	    NULL) {
		if (child_slice_over(g))
			return;
		child_queue_remove(t, c);
		(void)child_spawn(c);	/* a failure is logged and decided */
	}
	ev_idle_stop(g->loop, &t->start_idle);
	ev_check_stop(g->loop, &t->start_check);
}

static void
child_queue_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	child_queue_run(w->data);
}

static void
child_queue_check_cb(struct ev_loop *loop, ev_check *w, int revents)
{
	child_queue_run(w->data);
}

void
child_tab_new(struct gtd *g)
{
	struct childtab	*t = xcalloc(1, sizeof *t);

	TAILQ_INIT(&t->children);
	TAILQ_INIT(&t->dead_children);
	TAILQ_INIT(&t->start_queue);
	ev_idle_init(&t->start_idle, child_queue_cb);
	t->start_idle.data = g;
	ev_check_init(&t->start_check, child_queue_check_cb);
	t->start_check.data = g;
	g->tab = t;
}

void
child_tab_free(struct gtd *g)
{
	if (g->tab == NULL)
		return;
	ev_idle_stop(g->loop, &g->tab->start_idle);
	ev_check_stop(g->loop, &g->tab->start_check);
	free(g->tab->specs);		/* the rows dropped their specs */
	free(g->tab->by_name);
	free(g->tab->by_pid);
	free(g->tab);
	g->tab = NULL;
}

/* Leave the start queue without having run: stopped, or removed. */
static void
child_unqueue(struct child *c)
{
	child_queue_remove(c->gtd->tab, c);
	c->fail = CHILD_FAIL_EXITED;
}

/* A newline on the ready fd (s6 style) means ready; EOF means never. */
static void
child_ready_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct child	*c = w->data;
	char		 buf[256];
	ssize_t		 n;

	n = read(c->readyfd, buf, sizeof buf);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0 && memchr(buf, '\n', n) == NULL)
		return;
	child_fd_close(c, &c->readyfd, &c->readyw);
	if (n > 0)
		child_ready(c);
}

void
child_ready(struct child *c)
{
	if (c->state != CHILD_STARTING || c->pid <= 0)
		return;
	c->ready_at = clock_now_ms(c->gtd->loop);
	c->ever_ready = true;
	child_disarm(c);
	if (c->spec->watchdog_ms > 0)
		child_arm(c, c->spec->watchdog_ms);
	child_set_state(c, CHILD_RUNNING);
}

void
child_watchdog_kick(struct child *c)
{
	if (c->state == CHILD_RUNNING && c->spec->watchdog_ms > 0)
		child_arm(c, c->spec->watchdog_ms);
}

void
child_set_status(struct child *c, const char *text)
{
	static const char *const	 key = "status";
	struct value			 v = { .type = VALUE_TEXT,
	    .s = (char *)(uintptr_t)text };

	if (c->state != CHILD_STARTING && c->state != CHILD_RUNNING)
		return;
	(void)child_attr_set(c, &key, &v, 1);	/* a failure is logged */
}

/* The mirror failed: count it and say so (the caller goes on). */
static void
child_attr_failed(struct child *c, const char *what)
{
	c->gtd->stats.mirror_errors++;
	log_warnx("child %s: %s: %s", c->name, what,
	    registry_errmsg(c->gtd->reg));
}

/* Written: wake the attr waiters, then tell the observer. */
static void
child_attr_publish(struct child *c, const char *const *keys,
    const struct value *vals, size_t n)
{
	child_attrs_changed(c);
	if (n > 0)
		CHILD_OBS(c->gtd, attrs, c, keys, vals, n);
}

int
child_attr_set(struct child *c, const char *const *keys,
    const struct value *vals, size_t n)
{
	struct registry	*reg = c->gtd->reg;
	size_t		 i;
	int		 rc = 0;

	registry_attr_batch(reg, c->name);	/* all keys at once */
	for (i = 0; i < n; i++)
		if (registry_attr_set(reg, c->name, keys[i], &vals[i]) == -1) {
			child_attr_failed(c, "setattr");
			rc = -1;
		}
	registry_attr_batch_end(reg);
	child_attr_publish(c, keys, vals, n);
	return (rc);
}

int
child_attr_del(struct child *c, const char *key, bool *found)
{
	*found = false;
	if (registry_attr_del(c->gtd->reg, c->name, key, found) == -1) {
		child_attr_failed(c, "delattr");
		child_attrs_changed(c);
		return (-1);
	}
	if (*found)
		child_attr_publish(c, &key, NULL, 1);
	return (0);
}

int
child_attr_incr(struct child *c, const char *key, int64_t by,
    const int64_t *dflt, int64_t *result, enum registry_incr *how)
{
	struct value	v = { .type = VALUE_INT };

	if (registry_attr_incr(c->gtd->reg, c->name, key, by, dflt, result,
	    how) == -1)
		return (-1);
	if (*how == REGISTRY_INCR_OK) {
		v.i = *result;
		child_attr_publish(c, &key, &v, 1);
	}
	return (0);
}

/* A new incarnation starts with the spec's attrs only (protocol §3). */
static void
child_attrs_init(struct child *c)
{
	struct registry		*reg = c->gtd->reg;
	const char		**keys;
	struct value		*vals;
	size_t			 i, n = c->spec->nattrs;
	int			 rc;

	registry_attr_batch(reg, c->name);	/* one change for readers */
	rc = registry_attr_clear(reg, c->name);
	for (i = 0; rc == 0 && i < n; i++)
		rc = registry_attr_set(reg, c->name, c->spec->attrs[i].key,
		    &c->spec->attrs[i].v);
	registry_attr_batch_end(reg);
	if (rc == -1)
		child_attr_failed(c, "attrs");
	if (n == 0) {			/* most specs: nothing to report */
		child_attrs_changed(c);
		return;
	}
	keys = xreallocarray(NULL, n + 1, sizeof *keys);
	vals = xreallocarray(NULL, n + 1, sizeof *vals);
	for (i = 0; i < n; i++) {
		keys[i] = c->spec->attrs[i].key;
		vals[i] = c->spec->attrs[i].v;		/* borrowed */
	}
	child_attr_publish(c, keys, vals, n);
	free(keys);
	free(vals);
}

static void
child_fd_close(struct child *c, int *fd, ev_io *w)
{
	if (*fd == -1)
		return;
	ev_io_stop(c->gtd->loop, w);
	close(*fd);
	*fd = -1;
}

static void
child_status_close(struct child *c)
{
	child_fd_close(c, &c->statusfd, &c->statusw);
}

static void
child_status_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct child		*c = w->data;
	struct spawn_fail	 f;

	if (spawn_status_read(c->statusfd, &f) == -1) {
		if (errno == EAGAIN)
			return;
		f.err = 0;		/* unreadable: judge by the exit */
	}
	child_status_close(c);
	child_handle_exec(c, f.err, f.step);
}

void
child_handle_exec(struct child *c, int err, int step)
{
	if (err != 0) {
		/* The process exits 127 at once; the reap decides. */
		child_spawn_failed(c, err, step);
		return;
	}
	if (c->spec->ready == SPEC_READY_EXEC)
		child_ready(c);
}

/*
 * Record why this incarnation could not start: the errno, the step, and
 * the path that step used (protocol §4 spawn_failed).
 */
static void
child_spawn_failed(struct child *c, int err, int step)
{
	const char	*path = NULL;

	c->fail = CHILD_FAIL_SPAWN;
	c->fail_errno = err;
	c->fail_step = step;
	switch (step) {
	case SPAWN_STEP_EXEC:
		path = c->spec->cmd[0];
		break;
	case SPAWN_STEP_CHDIR:
		path = c->spec->cwd;
		break;
	case SPAWN_STEP_CGROUP:
		path = childcg_path(c);
		break;
	case SPAWN_STEP_OPEN_STDOUT:
	case SPAWN_STEP_OPEN_STDERR:
		path = c->spec->out[step == SPAWN_STEP_OPEN_STDERR].path;
		break;
	}
	free(c->fail_path);
	c->fail_path = path == NULL ? NULL : xstrdup(path);
}

const char *
child_fail_text(const struct child *c, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%.256s: %s", spawn_step_name(c->fail_step),
	    c->fail_path != NULL ? " " : "", c->fail_path != NULL ?
	    c->fail_path : "", strerror(c->fail_errno));
	return (buf);
}

static void
child_exit_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	child_handle_exit(w->data, w->rstatus);
}

void
child_handle_exit(struct child *c, int status)
{
	struct gtd		*g = c->gtd;
	struct spawn_fail	 f;
	char			 buf[512];

	ev_child_stop(g->loop, &c->cw);		/* libev leaves it active */
	CHILD_OBS(c->gtd, reaped, c);	/* health probe */
	if (childcg_exit(c, status, child_handle_exit))
		return;			/* again once its cgroup is empty */
	/* The exec status, if not read yet, is in the pipe by now. */
	if (c->statusfd != -1 && spawn_status_read(c->statusfd, &f) == 0) {
		child_status_close(c);
		child_handle_exec(c, f.err, f.step);	/* maybe ready */
	}
	child_status_close(c);
	child_disarm(c);
	if (c->spec->kill_group)		/* leftovers of its group */
		(void)g->ops->kill(-c->pid, SIGKILL);	/* ESRCH: none */
	child_hash_del(g, c, CHILD_BY_PID);
	c->last_pid = c->pid;
	c->pid = -1;
	g->tab->nprocs--;
	if (c->state == CHILD_STARTING && c->fail == CHILD_FAIL_NONE)
		c->fail = CHILD_FAIL_EXITED;
	child_record_exit(c, status);
	if (c->fail == CHILD_FAIL_SPAWN)
		log_warnx("child %s: %s", c->name,
		    child_fail_text(c, buf, sizeof buf));
	else if (WIFEXITED(status))
		log_info("child %s: exited with status %d", c->name,
		    WEXITSTATUS(status));
	else
		log_info("child %s: killed by %s", c->name,
		    spec_signal_name(WTERMSIG(status)));
	child_fd_close(c, &c->readyfd, &c->readyw);
	CHILD_OBS(g, notify_close, c);
	if (c->log != NULL)
		childlog_detach(c->log);
	/* attrs stay readable until the after_terminate hook has run. */
	child_set_state(c, CHILD_TERMINATING);
	if (c->spec->after_terminate != NULL && child_hook_start(c) == 0)
		return;			/* child_handle_hook_exit goes on */
	child_terminated(c, status);
}

/*
 * Keep how this incarnation ended (wait(2) status) for info, events,
 * the hook and the replies: child_reason() reads it back.
 */
static void
child_record_exit(struct child *c, int status)
{
	c->has_exit = status != -1;
	c->last_status = status;
	c->last_requested = c->want_down;
	c->last_escalated = c->want_down && c->escalated;
	c->last_stop_sig = c->want_down ? c->stop_sig : 0;
	c->last_unhealthy = c->unhealthy && !c->want_down;
	c->last_timeout_ms = c->stop_timeout_ms;
	c->exited_at = clock_now_ms(c->gtd->loop);
	free(c->last_spawn_path);
	c->last_spawn_path = NULL;
	c->last_spawn_errno = 0;
	if (c->fail == CHILD_FAIL_SPAWN) {
		c->last_spawn_errno = c->fail_errno;
		c->last_spawn_step = c->fail_step;
		if (c->fail_path != NULL)
			c->last_spawn_path = xstrdup(c->fail_path);
	}
}

void
child_reason(const struct child *c, struct policy_reason *r)
{
	memset(r, 0, sizeof *r);
	r->has_status = c->has_exit;
	r->status = c->last_status;
	r->requested = c->last_requested;
	r->escalated = c->last_escalated;
	r->stop_signal = c->last_stop_sig;
	r->timeout_ms = c->last_timeout_ms;
	r->unhealthy = c->last_unhealthy;
	r->oom = childcg_oom(c);
	if (c->last_spawn_errno != 0) {
		r->spawn_errno = spawn_errno_name(c->last_spawn_errno);
		r->spawn_step = spawn_step_name(c->last_spawn_step);
		r->spawn_path = c->last_spawn_path;
	}
}

/* The incarnation is over: its attrs go, then the policy decides. */
static void
child_terminated(struct child *c, int status)
{
	struct gtd	*g = c->gtd;

	if (registry_attr_clear(g->reg, c->name) == -1) {
		g->stats.mirror_errors++;
		log_warnx("child %s: mirror: %s", c->name,
		    registry_errmsg(g->reg));
	}
	child_attrs_changed(c);
	child_decide(c, status);
}

/* After the hook's fork: its output pipe's read end goes to c's log. */
static void
child_hook_output(struct child *c, int out[2], bool spawned)
{
	if (out[1] != -1)
		close(out[1]);		/* the hook has its own copy */
	if (out[0] == -1)
		return;
	if (!spawned) {
		close(out[0]);
		return;
	}
	if (c->log == NULL)
		c->log = childlog_new(c, child_output_closed);
	childlog_attach(c->log, 0, out[0], "hook", NULL, 0, 0, true);
}

/* Run after_terminate with the payload on stdin (a memfd: never blocks). */
static int
child_hook_start(struct child *c)
{
	struct gtd		*g = c->gtd;
	struct spawn_plan	 pl;
	struct child_vec	 envp;
	char			*path = NULL, *s;
	int			 fd, statusfd = -1, st = c->last_status;
	int			 out[2] = { -1, -1 };
	pid_t			 pid = -1;

	if (g->shut->forced)		/* a second signal: no more hooks */
		return (-1);
	child_env(c, &envp, 1, NULL);
	if (WIFEXITED(st))
		xasprintf(&s, "GTD_EXIT_STATUS=%d", WEXITSTATUS(st));
	else
		xasprintf(&s, "GTD_EXIT_SIGNAL=%s",
		    spec_signal_name(WTERMSIG(st)));
	child_vec_own(&envp, s);
	/*
	 * Its output goes to the child's log (stream "hook"), never to
	 * gtd's own stdout and stderr: it may run as another user.
	 */
	if ((fd = child_hook_stdin(c)) != -1 &&
	    spawn_resolve(c->spec->after_terminate[0], child_path_of(envp.v),
	    &path) == 0 && pipe2(out, O_CLOEXEC) == 0 &&
	    fcntl(out[0], F_SETFL, O_NONBLOCK) == 0) {
		pl = (struct spawn_plan){ .path = path,
		    .argv = c->spec->after_terminate, .envp = envp.v,
		    .cwd = c->spec->cwd, .new_session = true, .parent = g->pid,
		    .fd_in = fd, .fd_out = out[1], .fd_err = out[1],
		    .extra_fd = -1, .set_nofile = true,
		    .nofile = g->spawn->nofile };
		child_plan_attrs(c->spec, &pl);	/* the child's credentials */
		pid = g->ops->spawn(&pl, &statusfd);
	}
	if (pid == -1)
		log_warn("child %s: after_terminate %s", c->name,
		    c->spec->after_terminate[0]);
	child_hook_output(c, out, pid != -1);
	if (fd != -1)
		close(fd);
	free(path);
	child_vec_free(&envp);
	if (pid == -1)
		return (-1);
	c->hook_pid = pid;
	c->hook_statusfd = statusfd;
	g->tab->nprocs++;
	ev_child_init(&c->hookw, child_hook_cb, pid, 0);
	c->hookw.data = c;
	ev_child_start(g->loop, &c->hookw);
	child_arm(c, c->spec->hook_timeout_ms);
	return (0);
}

static void
child_hook_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	child_handle_hook_exit(w->data, w->rstatus);
}

void
child_handle_hook_exit(struct child *c, int status)
{
	struct spawn_fail	f = { 0, SPAWN_STEP_EXEC };
	int			err = 0;

	ev_child_stop(c->gtd->loop, &c->hookw);	/* libev leaves it active */
	if (c->hook_statusfd != -1) {
		if (spawn_status_read(c->hook_statusfd, &f) == 0 &&
		    (err = f.err) != 0)
			log_warnx("child %s: after_terminate: %s %s: %s",
			    c->name, spawn_step_name(f.step),
			    f.step == SPAWN_STEP_CHDIR ? c->spec->cwd :
			    c->spec->after_terminate[0], strerror(err));
		close(c->hook_statusfd);
		c->hook_statusfd = -1;
	}
	if (c->log != NULL)		/* what the hook wrote, then close */
		childlog_detach(c->log);
	if (err == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		log_warnx("child %s: after_terminate failed (%s %d)", c->name,
		    WIFEXITED(status) ? "status" : "signal", WIFEXITED(status) ?
		    WEXITSTATUS(status) : WTERMSIG(status));
	(void)c->gtd->ops->kill(-c->hook_pid, SIGKILL);	/* its leftovers */
	CHILD_OBS(c->gtd, hook_done, c, status);
	c->hook_pid = -1;
	c->gtd->tab->nprocs--;
	child_disarm(c);
	child_terminated(c, c->last_status);
}

/* After an exit (or a failed spawn): carry out plan_exit's decision. */
static void
child_decide(struct child *c, int status)
{
	struct gtd		*g = c->gtd;
	struct plan_in		 in = { .bounce = c->bounce, .held = c->held,
	    .delete_after = c->delete_after, .stopping = g->shut->active,
	    .failed = c->fail != CHILD_FAIL_NONE,
	    .ever_ready = c->ever_ready, .manual = c->manual };
	struct policy_exit	 e = { .status = status,
	    .requested = c->want_down || g->shut->active,
	    .now_ms = clock_mono_ms(), .restart_count = c->restart_count,
	    .oom = childcg_oom(c),
	    .ran_ms = c->exited_at - c->started_at,
	    .rand01 = (double)random() / ((double)RAND_MAX + 1.0) };
	struct plan_out		 p;
	enum policy_action	 a;
	int64_t			 delay;
	bool			 held = false;

	plan_exit(c->spec, &c->hist, &in, &e, &p);
	c->bounce = false;
	if (p.step == PLAN_BOUNCE) {
		/* restart_child force: down on request, now up again. */
		c->want_down = false;
		(void)child_start_as(c, true);	/* a failure is decided */
		CHILD_OBS0(g, proc_gone);
		return;
	}
	c->held = false;
	if (p.step == PLAN_HOLD) {
		/* child_hold: down on request, its group starts it. */
		c->want_down = false;
		c->restart_at = 0;
		child_set_state(c, CHILD_RESTARTING);
		CHILD_OBS0(g, proc_gone);
		return;
	}
	a = p.action;
	delay = p.delay_ms;
	if (p.gave_up) {
		log_warnx("child %s: %s, %s", c->name,
		    c->spec->on_exit != NULL ? "past its on_exit ladder" :
		    "restart intensity reached",
		    policy_action_name(a));
		c->gave_up = true;
		CHILD_OBS(g, gave_up, c, policy_action_name(a));
	}
	if (g->obs != NULL && g->obs->decided != NULL)
		a = g->obs->decided(c, a, status, delay, c->gave_up, &held,
		    g->obs_arg);
	c->want_down = false;
	switch (a) {
	case POLICY_RESTART:
		c->restart_count++;
		if (held) {		/* its group starts it */
			c->restart_at = 0;
			child_set_state(c, CHILD_RESTARTING);
			break;
		}
		c->restart_at = clock_now_ms(g->loop) + delay;
		child_arm(c, delay);
		child_set_state(c, CHILD_RESTARTING);
		break;
	case POLICY_STOP:
		child_set_state(c, CHILD_STOPPED);
		break;
	case POLICY_DELETE:
		child_remove(c);
		break;
	case POLICY_EXIT_DAEMON:
		child_set_state(c, CHILD_STOPPED);
		CHILD_OBS(g, exit_daemon, c);
		break;
	}
	CHILD_OBS0(g, proc_gone);
}

static void
child_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct child	*c = w->data;

	if (c->timer_gen != c->gen || (c->flags & CHILD_DEAD))
		return;			/* stale: cancelled meanwhile */
	child_handle_timer(c);
}

/* Kill a hung child (not a requested stop: the policy decides after). */
static void
child_abort(struct child *c, const char *why, enum child_fail fail)
{
	log_warnx("child %s: %s, killing it", c->name, why);
	if (c->state == CHILD_STARTING)
		c->fail = fail;
	child_signal(c, SIGKILL);
	child_set_state(c, CHILD_STOPPING);
}

void
child_unhealthy(struct child *c)
{
	if (c->state != CHILD_RUNNING)
		return;
	c->unhealthy = true;
	child_abort(c, "unhealthy (health probe)", CHILD_FAIL_NONE);
}

void
child_handle_timer(struct child *c)
{
	switch (c->state) {
	case CHILD_RESTARTING:
		c->gtd->stats.restarts++;
		(void)child_start(c);	/* a failure is logged and decided */
		break;
	case CHILD_STARTING:
		child_abort(c, "not ready within ready_timeout_ms",
		    CHILD_FAIL_TIMEOUT);
		break;
	case CHILD_RUNNING:
		child_abort(c, "watchdog_ms expired", CHILD_FAIL_NONE);
		break;
	case CHILD_STOPPING:
		log_warnx("child %s: still there after its shutdown timeout, "
		    "SIGKILL", c->name);
		c->escalated = true;
		child_signal(c, SIGKILL);
		break;
	case CHILD_TERMINATING:
		if (c->hook_pid > 0) {
			log_warnx("child %s: after_terminate still running "
			    "after hook_timeout_ms, SIGKILL", c->name);
			(void)c->gtd->ops->kill(-c->hook_pid, SIGKILL);
			(void)c->gtd->ops->kill(c->hook_pid, SIGKILL);
		}
		break;
	case CHILD_STOPPED:
	case CHILD_WAITING:
		break;
	}
}

/* Signal the process (and its group when kill_group). */
static void
child_signal(struct child *c, int sig)
{
	const struct child_ops	*ops = c->gtd->ops;

	if (c->pid <= 0)
		return;
	if (c->adopted) {		/* the pidfd cannot hit a reused pid */
		(void)syscall(SYS_pidfd_send_signal, c->pidfd, sig, NULL, 0);
		return;
	}
	if (childcg_signal(c, sig))	/* its cgroup: escaped ones too */
		return;
	/* Before setsid() has run there is no group yet: ESRCH. */
	if (!c->spec->kill_group || ops->kill(-c->pid, sig) == -1)
		(void)ops->kill(c->pid, sig);	/* ESRCH: already gone */
}

int
child_kill(struct child *c, int sig)
{
	if (c->pid <= 0) {
		errno = ESRCH;
		return (-1);
	}
	child_signal(c, sig);
	return (0);
}

/* Does gtd still read a pipe of c's output? */
static bool
child_output_open(const struct child *c)
{
	return (c->log != NULL && childlog_reading(c->log));
}

int
child_release(struct child *c)
{
	struct gtd	*g = c->gtd;
	bool		 drain = c->pid > 0 && child_output_open(c);

	if (drain && g->tab->nreleased >= g->lim.max_children) {
		errno = ENOSPC;
		return (-1);
	}
	CHILD_OBS(c->gtd, reaped, c);	/* health probe */
	if (c->pid > 0) {
		if (c->adopted)
			child_fd_close(c, &c->pidfd, &c->pidw);
		else
			ev_child_stop(g->loop, &c->cw);	/* libev still reaps */
		child_status_close(c);
		CHILD_OBS(g, notify_close, c);
		child_hash_del(g, c, CHILD_BY_PID);
		c->pid = -1;
		g->tab->nprocs--;
	}
	log_info("child %s: released", c->name);
	if (drain) {
		/*
		 * Closing the pipes would kill it with SIGPIPE at its next
		 * write: the log goes on reading (and logging, or writing
		 * the file) until it closes them; the row goes now.
		 */
		c->released = true;
		g->tab->nreleased++;
		child_ref(c);		/* child_output_closed drops it */
	}
	child_remove(c);
	return (0);
}

void
child_output_closed(struct child *c)
{
	if (!c->released || child_output_open(c))
		return;
	c->released = false;
	c->gtd->tab->nreleased--;
	child_unref(c);			/* the reaper frees it */
}

struct child *
child_adopt(struct gtd *g, struct childspec *spec, char *spec_json,
    pid_t pid, int pidfd)
{
	struct child	*c;

	if ((c = child_add(g, spec, spec_json)) == NULL) {
		close(pidfd);
		return (NULL);
	}
	c->adopted = true;
	c->ever_ready = true;		/* running already: ready */
	c->incarnation++;
	c->pid = pid;
	c->pidfd = pidfd;
	g->tab->nprocs++;
	child_hash_add(g->tab->by_pid, g->tab->nbuckets, c, CHILD_BY_PID);
	ev_io_init(&c->pidw, child_pidfd_cb, pidfd, EV_READ);	/* at exit */
	c->pidw.data = c;
	ev_io_start(g->loop, &c->pidw);
	c->started_at = c->ready_at = clock_now_ms(g->loop);
	child_attrs_init(c);
	log_info("child %s: adopted pid %d", c->name, (int)pid);
	child_set_state(c, CHILD_RUNNING);
	return (c);
}

/*
 * An adopted process died.  It is not our child, so its status is
 * unknown: the row goes, or (with a cmd) the policy restarts it as a
 * child of our own.  No hook runs.
 */
static void
child_pidfd_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct child	*c = w->data;
	struct gtd	*g = c->gtd;

	child_fd_close(c, &c->pidfd, &c->pidw);
	child_disarm(c);
	child_hash_del(g, c, CHILD_BY_PID);
	c->last_pid = c->pid;
	c->pid = -1;
	g->tab->nprocs--;
	c->adopted = false;
	child_record_exit(c, -1);	/* not our child: no status */
	log_info("child %s: adopted process is gone", c->name);
	if (c->spec->ncmd == 0)
		c->delete_after = true;
	child_set_state(c, CHILD_TERMINATING);
	child_terminated(c, c->want_down ? W_EXITCODE(0, SIGTERM) :
	    W_EXITCODE(255, 0));
}

void
child_stop(struct child *c, int64_t timeout_ms, bool delete_after)
{
	child_stop_as(c, timeout_ms, delete_after, false);
}

/*
 * child_stop; restart: for restart_child force (which keeps c->bounce),
 * and then c's dependents are not stopped first (childdeps.c).
 */
static void
child_stop_as(struct child *c, int64_t timeout_ms, bool delete_after,
    bool restart)
{
	const struct childspec	*s = c->spec;

	c->delete_after = c->delete_after || delete_after;
	c->held = false;		/* a stop wins over a group's restart */
	if (!restart)
		c->bounce = false;	/* a stop wins over restart force */
	if (c->queued) {		/* never ran: nothing to signal */
		child_unqueue(c);
		c->want_down = true;
		child_record_exit(c, -1);	/* requested, no status */
		c->want_down = false;
		if (c->delete_after || c->spec->restart == SPEC_TEMPORARY ||
		    !c->ever_ready)
			child_remove(c);
		else
			child_set_state(c, CHILD_STOPPED);
		return;
	}
	switch (c->state) {
	case CHILD_STARTING:
	case CHILD_RUNNING:
		if (!restart && c->gtd->obs != NULL &&
		    c->gtd->obs->hold_stop != NULL && c->gtd->obs->hold_stop(c,
		    timeout_ms, c->delete_after, c->gtd->obs_arg))
			return;		/* once its dependents are down */
		c->want_down = true;
		if (timeout_ms < 0)
			timeout_ms = s->shutdown_timeout_ms;
		child_disarm(c);	/* ready or watchdog: not now */
		if (s->shutdown == SPEC_SHUT_BRUTAL) {
			c->stop_sig = SIGKILL;
			child_signal(c, SIGKILL);
		} else {
			c->stop_sig = s->shutdown_signal;
			c->stop_timeout_ms = timeout_ms;
			child_signal(c, s->shutdown_signal);
			if (s->shutdown == SPEC_SHUT_SIGNAL)
				child_arm(c, timeout_ms);
		}
		if (c->state == CHILD_STARTING && c->fail == CHILD_FAIL_NONE)
			c->fail = CHILD_FAIL_EXITED;
		child_set_state(c, CHILD_STOPPING);
		break;
	case CHILD_RESTARTING:
		child_disarm(c);
		c->restart_at = 0;
		if (c->delete_after)
			child_remove(c);
		else
			child_set_state(c, CHILD_STOPPED);
		break;
	case CHILD_STOPPED:
		if (c->delete_after)
			child_remove(c);
		break;
	case CHILD_WAITING:
		CHILD_OBS(c->gtd, unwait, c);
		if (c->delete_after)
			child_remove(c);
		else
			child_set_state(c, CHILD_STOPPED);
		break;
	case CHILD_STOPPING:
	case CHILD_TERMINATING:
		/* On its way down already; but now it was asked to stop. */
		c->want_down = true;
		break;
	}
}

void
child_remove(struct child *c)
{
	struct gtd	*g = c->gtd;

	assert(c->pid == -1 && !(c->flags & CHILD_DEAD));
	if (c->queued)
		child_unqueue(c);
	if (c->counted) {		/* cannot happen: it has no process */
		c->counted = false;
		g->tab->nstarting--;
	}
	child_disarm(c);
	child_status_close(c);
	child_fd_close(c, &c->readyfd, &c->readyw);
	child_fd_close(c, &c->pidfd, &c->pidw);
	child_hash_del(g, c, CHILD_BY_NAME);
	TAILQ_REMOVE(&g->tab->children, c, entry);
	g->tab->nchildren--;
	if (registry_child_del(g->reg, c->name) == -1) {
		g->stats.mirror_errors++;
		log_warnx("child %s: mirror: %s", c->name,
		    registry_errmsg(g->reg));
	}
	log_debug("child %s: removed", c->name);
	CHILD_OBS(g, removed, c);
	c->flags |= CHILD_DEAD;
	TAILQ_INSERT_TAIL(&g->tab->dead_children, c, entry);
	child_wake(c);
	child_attrs_changed(c);
}

static void
child_free(struct child *c)
{
	CHILD_OBS(c->gtd, reaped, c);	/* health probe */
	childcg_free(c);
	childlog_free(c->log);
	child_spec_drop(c->gtd, c->spec);
	spec_free(c->next_spec);
	free(c->next_json);
	free(c->inst_json);
	free(c->fail_path);
	free(c->last_spawn_path);
	child_envinfo_free(c);
	policy_hist_free(&c->hist);
	free(c);
}

void
child_reap_dead(struct gtd *g)
{
	struct child	*c, *next;

	for (c = TAILQ_FIRST(&g->tab->dead_children); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->refs > 0)
			continue;
		TAILQ_REMOVE(&g->tab->dead_children, c, entry);
		child_free(c);
	}
}

void
child_free_all(struct gtd *g)
{
	struct child	*c;

	while ((c = TAILQ_FIRST(&g->tab->children)) != NULL) {
		TAILQ_REMOVE(&g->tab->children, c, entry);
		if (c->pid > 0 && !c->adopted)
			ev_child_stop(g->loop, &c->cw);
		if (c->hook_pid > 0)
			ev_child_stop(g->loop, &c->hookw);
		if (c->hook_statusfd != -1)
			close(c->hook_statusfd);
		ev_timer_stop(g->loop, &c->timer);
		child_status_close(c);
		child_fd_close(c, &c->readyfd, &c->readyw);
		child_fd_close(c, &c->pidfd, &c->pidw);
		child_free(c);
	}
	while ((c = TAILQ_FIRST(&g->tab->dead_children)) != NULL) {
		TAILQ_REMOVE(&g->tab->dead_children, c, entry);
		child_free(c);
	}
	g->tab->nchildren = 0;
}

static int
child_notify_open(struct child *c)
{
	struct gtd	*g = c->gtd;

	if (g->obs == NULL || g->obs->notify_open == NULL) {
		errno = ENOTSUP;
		return (-1);
	}
	return (g->obs->notify_open(c, g->obs_arg));
}

static const char *
child_notify_path(const struct child *c)
{
	struct gtd	*g = c->gtd;

	if (g->obs == NULL || g->obs->notify_path == NULL)
		return (NULL);
	return (g->obs->notify_path(c, g->obs_arg));
}

static int
child_hook_stdin(struct child *c)
{
	struct gtd	*g = c->gtd;

	if (g->obs == NULL || g->obs->hook_stdin == NULL) {
		errno = ENOTSUP;
		return (-1);
	}
	return (g->obs->hook_stdin(c, g->obs_arg));
}

/*
 * Re-exec (reexec.c): a row's state out and back in, field by field.
 */

const char *
child_save_busy(const struct child *c)
{
	if (c->hook_pid > 0)
		return ("its after_terminate hook is running");
	if (c->state == CHILD_TERMINATING)
		return ("it is terminating");
	if (c->next_spec != NULL)
		return ("a reload changed its spec (it applies at the next "
		    "start)");
	if (c->held)
		return ("its group is restarting it");
	return (NULL);
}

void
child_save(const struct child *c, struct child_saved *sv)
{
	memset(sv, 0, sizeof *sv);
	sv->state = c->state;
	sv->pid = c->pid;
	sv->last_pid = c->last_pid;
	sv->incarnation = c->incarnation;
	sv->restart_count = c->restart_count;
	sv->hist_size = c->hist.size;
	sv->hist_n = c->hist.n;
	sv->hist_head = c->hist.head;
	sv->hist_consecutive = c->hist.consecutive;
	sv->hist_at = c->hist.at;
	sv->has_exit = c->has_exit;
	sv->last_status = c->last_status;
	sv->last_requested = c->last_requested;
	sv->last_escalated = c->last_escalated;
	sv->last_unhealthy = c->last_unhealthy;
	sv->last_stop_sig = c->last_stop_sig;
	sv->last_timeout_ms = c->last_timeout_ms;
	sv->last_spawn_errno = c->last_spawn_errno;
	sv->last_spawn_step = c->last_spawn_step;
	sv->last_spawn_path = c->last_spawn_path;
	sv->started_at = c->started_at;
	sv->ready_at = c->ready_at;
	sv->exited_at = c->exited_at;
	sv->restart_at = c->restart_at;
	sv->stop_timeout_ms = c->stop_timeout_ms;
	sv->stop_sig = c->stop_sig;
	sv->boot = c->boot;
	sv->manual = c->manual;
	sv->ever_ready = c->ever_ready;
	sv->gave_up = c->gave_up;
	sv->want_down = c->want_down;
	sv->delete_after = c->delete_after;
	sv->escalated = c->escalated;
	sv->bounce = c->bounce;
	sv->unhealthy = c->unhealthy;
	sv->adopted = c->adopted;
	/* The one timer, as a monotonic deadline: execve keeps the clock. */
	if (ev_is_active(&c->timer) && c->timer_gen == c->gen)
		sv->deadline = clock_mono_ms() + (int64_t)(ev_timer_remaining(
		    c->gtd->loop, (ev_timer *)&c->timer) * 1000.0) + 1;
	sv->statusfd = c->statusfd;
	sv->readyfd = c->readyfd;
	sv->pidfd = c->pidfd;
}

/* The plain fields of sv into c. */
static void
child_restore_fields(struct child *c, const struct child_saved *sv)
{
	c->last_pid = sv->last_pid;
	c->incarnation = sv->incarnation;
	c->restart_count = sv->restart_count;
	if (sv->hist_size > 0 && sv->hist_at != NULL) {
		c->hist.at = xreallocarray(NULL, sv->hist_size,
		    sizeof *c->hist.at);
		memcpy(c->hist.at, sv->hist_at, sv->hist_size *
		    sizeof *c->hist.at);
		c->hist.size = sv->hist_size;
		c->hist.n = sv->hist_n;
		c->hist.head = sv->hist_head;
	}
	c->hist.consecutive = sv->hist_consecutive;
	c->has_exit = sv->has_exit;
	c->last_status = sv->last_status;
	c->last_requested = sv->last_requested;
	c->last_escalated = sv->last_escalated;
	c->last_unhealthy = sv->last_unhealthy;
	c->last_stop_sig = sv->last_stop_sig;
	c->last_timeout_ms = sv->last_timeout_ms;
	c->last_spawn_errno = sv->last_spawn_errno;
	c->last_spawn_step = sv->last_spawn_step;
	if (sv->last_spawn_path != NULL)
		c->last_spawn_path = xstrdup(sv->last_spawn_path);
	c->started_at = sv->started_at;
	c->ready_at = sv->ready_at;
	c->exited_at = sv->exited_at;
	c->restart_at = sv->restart_at;
	c->stop_timeout_ms = sv->stop_timeout_ms;
	c->stop_sig = sv->stop_sig;
	c->boot = sv->boot;
	c->manual = sv->manual;
	c->ever_ready = sv->ever_ready;
	c->gave_up = sv->gave_up;
	c->want_down = sv->want_down;
	c->delete_after = sv->delete_after;
	c->escalated = sv->escalated;
	c->bounce = sv->bounce;
	c->unhealthy = sv->unhealthy;
}

/* Watch c's process (sv->pid) again: our child, or by its pidfd. */
static void
child_restore_proc(struct child *c, const struct child_saved *sv)
{
	struct gtd	*g = c->gtd;

	c->pid = sv->pid;
	g->tab->nprocs++;
	child_hash_add(g->tab->by_pid, g->tab->nbuckets, c, CHILD_BY_PID);
	if (sv->adopted && sv->pidfd != -1) {
		c->adopted = true;
		c->pidfd = sv->pidfd;
		ev_io_init(&c->pidw, child_pidfd_cb, c->pidfd, EV_READ);
		c->pidw.data = c;
		ev_io_start(g->loop, &c->pidw);
	} else {
		/* An exit in the gap is reaped at the next SIGCHLD pass. */
		ev_child_init(&c->cw, child_exit_cb, c->pid, 0);
		c->cw.data = c;
		ev_child_start(g->loop, &c->cw);
	}
	if ((c->statusfd = sv->statusfd) != -1) {
		ev_io_set(&c->statusw, c->statusfd, EV_READ);
		ev_io_start(g->loop, &c->statusw);
	}
	if ((c->readyfd = sv->readyfd) != -1) {
		ev_io_set(&c->readyw, c->readyfd, EV_READ);
		ev_io_start(g->loop, &c->readyw);
	}
	if (sv->state == CHILD_STARTING) {
		g->tab->nstarting++;
		c->counted = true;
	}
}

struct child *
child_restore(struct gtd *g, struct childspec *spec, char *spec_json,
    const struct child_saved *sv, bool *restart)
{
	struct child	*c;
	int64_t		 left;

	*restart = false;
	if ((c = child_add(g, spec, spec_json)) == NULL) {
		if (sv->statusfd != -1)
			close(sv->statusfd);
		if (sv->readyfd != -1)
			close(sv->readyfd);
		if (sv->pidfd != -1)
			close(sv->pidfd);
		return (NULL);
	}
	child_restore_fields(c, sv);
	c->state = sv->state;
	if (sv->pid > 0)
		child_restore_proc(c, sv);
	else if (sv->state == CHILD_STARTING) {
		/* Queued for a start slot: in line again. */
		c->queued = true;
		TAILQ_INSERT_TAIL(&g->tab->start_queue, c, qentry);
		child_queue_kick(g);
	} else if (sv->state == CHILD_WAITING)
		*restart = true;
	else if (sv->state != CHILD_RESTARTING)
		c->state = CHILD_STOPPED;	/* no other has no process */
	if (sv->deadline > 0) {
		ev_now_update(g->loop);	/* the timer counts from now */
		left = sv->deadline - clock_mono_ms();
		child_arm(c, left > 0 ? left : 0);
	} else if (c->state == CHILD_RESTARTING)
		child_arm(c, 0);		/* a restart that was due */
	child_mirror(c, NULL);
	return (c);
}

void
child_restore_output(struct child *c, int i, int fd, bool shared)
{
	static const char *const	 names[] = { "stdout", "stderr" };
	const struct spec_output	*o = c->spec->out;

	if (c->log == NULL)
		c->log = childlog_new(c, child_output_closed);
	childlog_attach(c->log, i, fd, shared ? "output" : names[i],
	    o[i].path, o[i].max_bytes, o[i].keep, o[i].mode == SPEC_OUT_LOG);
}
