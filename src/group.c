/* SPDX-License-Identifier: MIT */
/*
 * group: OTP supervision groups (see group.h for the semantics).  The
 * config parser, the membership rules, and the decision a member's exit
 * leads to, kept as a sequence of steps the caller walks.  The window
 * of restarts is policy.c's.  Pure: no loop, no I/O, never logs.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <jansson.h>

#include "gt/group.h"
#include "gt/xmalloc.h"

struct group_member {
	char			*name;		/* owned */
	enum spec_restart	 restart;
	bool			 significant;
	bool			 active;
};

struct group_seqstep {
	enum group_step_kind	 kind;
	char			*name;		/* owned, or NULL */
};

struct group_state {
	struct group_conf	 conf;		/* owned copy */
	struct group_member	*m;		/* start order */
	size_t			 n;
	size_t			 cap;
	struct policy_hist	 hist;		/* the group's window */
	struct group_seqstep	*seq;		/* the sequence in progress */
	size_t			 nseq;
	size_t			 pos;		/* its current step */
	int64_t			 delay_ms;
	int			 exit_code;
};

static const char *group_strategy_names[] = {
	[GROUP_ONE_FOR_ONE] = "one_for_one",
	[GROUP_ONE_FOR_ALL] = "one_for_all",
	[GROUP_REST_FOR_ONE] = "rest_for_one"
};
static const char *group_auto_names[] = {
	[GROUP_AUTO_NEVER] = "never",
	[GROUP_AUTO_ANY] = "any",
	[GROUP_AUTO_ALL] = "all"
};
static const char *group_verdict_names[] = {
	[GROUP_ALONE] = "alone",
	[GROUP_RESTART] = "restart",
	[GROUP_SHUTDOWN] = "shutdown",
	[GROUP_GIVE_UP] = "give_up",
	[GROUP_ENDING] = "ending"
};
static const char *group_step_names[] = {
	[GROUP_STEP_NONE] = "none",
	[GROUP_STEP_STOP] = "stop",
	[GROUP_STEP_REMOVE] = "remove",
	[GROUP_STEP_DELAY] = "delay",
	[GROUP_STEP_START] = "start",
	[GROUP_STEP_END] = "end"
};

static int	group_fail(char **, char **, const char *, const char *, ...)
		    __attribute__((format(printf, 4, 5)));

const char *
group_strategy_name(enum group_strategy s)
{
	return ((unsigned)s < 3 ? group_strategy_names[s] : "unknown");
}

const char *
group_auto_name(enum group_auto a)
{
	return ((unsigned)a < 3 ? group_auto_names[a] : "unknown");
}

const char *
group_verdict_name(enum group_verdict v)
{
	return ((unsigned)v < 5 ? group_verdict_names[v] : "unknown");
}

const char *
group_step_name(enum group_step_kind k)
{
	return ((unsigned)k < 6 ? group_step_names[k] : "unknown");
}

/* The config. */

static int
group_fail(char **field, char **cause, const char *f, const char *fmt, ...)
{
	va_list	ap;

	*field = xstrdup(f);
	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) == -1)
		*cause = xstrdup("invalid");
	va_end(ap);
	return (-1);
}

/* names[0..n) by string, into *out. */
static int
group_enum(const json_t *v, const char *const *names, int n, int *out)
{
	int	i;

	for (i = 0; json_is_string(v) && i < n; i++)
		if (strcmp(json_string_value(v), names[i]) == 0) {
			*out = i;
			return (0);
		}
	return (-1);
}

static int
group_int(const json_t *v, int64_t lo, int64_t hi, int64_t *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < lo ||
	    json_integer_value(v) > hi)
		return (-1);
	*out = json_integer_value(v);
	return (0);
}

/* One key of an entry at path f.k; -1 with the error set. */
static int
group_conf_key(struct group_conf *c, const char *k, const json_t *v,
    const char *f, char **field, char **cause)
{
	char	path[GROUP_MAX_NAME + 64];
	int64_t	n;
	int	e;

	snprintf(path, sizeof path, "%s.%s", f, k);
	if (strcmp(k, "strategy") == 0 && group_enum(v, group_strategy_names,
	    3, &e) == 0)
		c->strategy = e;
	else if (strcmp(k, "strategy") == 0)
		return (group_fail(field, cause, path, "%s must be "
		    "one_for_one, one_for_all or rest_for_one", path));
	else if (strcmp(k, "auto_shutdown") == 0 && group_enum(v,
	    group_auto_names, 3, &e) == 0)
		c->auto_shutdown = e;
	else if (strcmp(k, "auto_shutdown") == 0)
		return (group_fail(field, cause, path, "%s must be never, any "
		    "or all", path));
	else if (strcmp(k, "on_give_up") == 0) {
		if (!json_is_string(v) || spec_give_up_parse(
		    json_string_value(v), &c->on_give_up) == -1)
			return (group_fail(field, cause, path, "%s must be "
			    "stop, delete or exit_daemon", path));
	} else if (strcmp(k, "max_restarts") == 0) {
		if (group_int(v, 0, SPEC_MAX_RESTARTS, &n) == -1)
			return (group_fail(field, cause, path, "%s must be "
			    "an integer from 0 to %d", path,
			    SPEC_MAX_RESTARTS));
		c->max_restarts = (int)n;
	} else if (strcmp(k, "max_period_ms") == 0) {
		if (group_int(v, 1, SPEC_MAX_MS, &n) == -1)
			return (group_fail(field, cause, path, "%s must be "
			    "an integer from 1 to %lld", path,
			    (long long)SPEC_MAX_MS));
		c->max_period_ms = n;
	} else
		return (group_fail(field, cause, path, "unknown key %s "
		    "(strategy, max_restarts, max_period_ms, on_give_up, "
		    "auto_shutdown)", path));
	return (0);
}

/* One entry: name -> object. */
static int
group_conf_entry(struct group_conf *c, const char *name, const json_t *o,
    char **field, char **cause)
{
	char		 f[GROUP_MAX_NAME + 16];
	const char	*k;
	json_t		*v;

	memset(c, 0, sizeof *c);
	c->strategy = GROUP_ONE_FOR_ONE;
	c->max_restarts = 10;
	c->max_period_ms = 60000;
	c->on_give_up = SPEC_GIVE_UP_STOP;
	c->auto_shutdown = GROUP_AUTO_NEVER;
	if (*name == '\0' || strlen(name) > GROUP_MAX_NAME)
		return (group_fail(field, cause, "groups", "a group's name "
		    "must be 1 to %d bytes", GROUP_MAX_NAME));
	c->name = xstrdup(name);
	snprintf(f, sizeof f, "groups.%s", name);
	if (!json_is_object(o))
		return (group_fail(field, cause, f, "%s must be an object",
		    f));
	json_object_foreach((json_t *)o, k, v)
		if (group_conf_key(c, k, v, f, field, cause) == -1)
			return (-1);
	return (0);
}

static int
group_conf_cmp(const void *a, const void *b)
{
	return (strcmp(((const struct group_conf *)a)->name,
	    ((const struct group_conf *)b)->name));
}

int
group_conf_parse(const json_t *j, struct group_conf **out, size_t *n,
    char **field, char **cause)
{
	struct group_conf	*v;
	const char		*k;
	json_t			*o;
	size_t			 i = 0;

	*out = NULL;
	*n = 0;
	if (!json_is_object(j))
		return (group_fail(field, cause, "groups", "groups must be an "
		    "object of name -> group"));
	if (json_object_size(j) > GROUP_MAX_GROUPS)
		return (group_fail(field, cause, "groups", "groups has more "
		    "than %d entries", GROUP_MAX_GROUPS));
	v = xcalloc(json_object_size(j) + 1, sizeof *v);
	json_object_foreach((json_t *)j, k, o) {
		if (group_conf_entry(&v[i], k, o, field, cause) == -1) {
			group_confs_free(v, i + 1);
			return (-1);
		}
		i++;
	}
	qsort(v, i, sizeof *v, group_conf_cmp);
	*out = v;
	*n = i;
	return (0);
}

json_t *
group_conf_json(const struct group_conf *c)
{
	return (json_pack("{s:s, s:i, s:I, s:s, s:s}",
	    "strategy", group_strategy_name(c->strategy),
	    "max_restarts", c->max_restarts,
	    "max_period_ms", (json_int_t)c->max_period_ms,
	    "on_give_up", spec_give_up_name(c->on_give_up),
	    "auto_shutdown", group_auto_name(c->auto_shutdown)));
}

void
group_confs_free(struct group_conf *v, size_t n)
{
	size_t	i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

bool
group_conf_equal(const struct group_conf *a, const struct group_conf *b)
{
	return (strcmp(a->name, b->name) == 0 && a->strategy == b->strategy &&
	    a->max_restarts == b->max_restarts &&
	    a->max_period_ms == b->max_period_ms &&
	    a->on_give_up == b->on_give_up &&
	    a->auto_shutdown == b->auto_shutdown);
}

const struct group_conf *
group_conf_find(const struct group_conf *v, size_t n, const char *name)
{
	struct group_conf	key;

	if (n == 0)
		return (NULL);
	key.name = (char *)name;	/* bsearch only reads it */
	return (bsearch(&key, v, n, sizeof *v, group_conf_cmp));
}

int
group_member_check(const struct group_conf *c, enum spec_restart r,
    bool significant, char **cause)
{
	if (!significant)
		return (0);
	if (r == SPEC_PERMANENT) {
		xasprintf(cause, "a significant member of group %s must be "
		    "transient or temporary, not permanent", c->name);
		return (-1);
	}
	if (c->auto_shutdown == GROUP_AUTO_NEVER) {
		xasprintf(cause, "group %s has auto_shutdown never: it takes "
		    "no significant member", c->name);
		return (-1);
	}
	return (0);
}

/* Run time. */

static void
group_conf_copy(struct group_conf *dst, const struct group_conf *src)
{
	char	*old = dst->name;

	*dst = *src;
	dst->name = xstrdup(src->name);
	free(old);
}

struct group_state *
group_new(const struct group_conf *c)
{
	struct group_state	*g = xcalloc(1, sizeof *g);

	group_conf_copy(&g->conf, c);
	return (g);
}

static void
group_seq_clear(struct group_state *g)
{
	size_t	i;

	for (i = 0; i < g->nseq; i++)
		free(g->seq[i].name);
	free(g->seq);
	g->seq = NULL;
	g->nseq = g->pos = 0;
}

void
group_free(struct group_state *g)
{
	size_t	i;

	if (g == NULL)
		return;
	for (i = 0; i < g->n; i++)
		free(g->m[i].name);
	free(g->m);
	policy_hist_free(&g->hist);
	group_seq_clear(g);
	free(g->conf.name);
	free(g);
}

void
group_set_conf(struct group_state *g, const struct group_conf *c)
{
	group_conf_copy(&g->conf, c);
}

const struct group_conf *
group_conf_of(const struct group_state *g)
{
	return (&g->conf);
}

static size_t
group_index(const struct group_state *g, const char *name)
{
	size_t	i;

	for (i = 0; i < g->n; i++)
		if (strcmp(g->m[i].name, name) == 0)
			return (i);
	return (SIZE_MAX);
}

int
group_join(struct group_state *g, const char *name, enum spec_restart r,
    bool significant, char **cause)
{
	if (group_index(g, name) != SIZE_MAX) {
		xasprintf(cause, "%s is already a member of group %s", name,
		    g->conf.name);
		return (-1);
	}
	if (group_member_check(&g->conf, r, significant, cause) == -1)
		return (-1);
	if (g->n >= GROUP_MAX_MEMBERS) {
		xasprintf(cause, "group %s has %d members already",
		    g->conf.name, GROUP_MAX_MEMBERS);
		return (-1);
	}
	if (g->n == g->cap) {
		g->cap = g->cap == 0 ? 8 : g->cap * 2;
		g->m = xreallocarray(g->m, g->cap, sizeof *g->m);
	}
	g->m[g->n].name = xstrdup(name);
	g->m[g->n].restart = r;
	g->m[g->n].significant = significant;
	g->m[g->n].active = false;
	g->n++;
	return (0);
}

void
group_leave(struct group_state *g, const char *name)
{
	size_t	i;

	if ((i = group_index(g, name)) == SIZE_MAX)
		return;
	free(g->m[i].name);
	memmove(&g->m[i], &g->m[i + 1], (g->n - i - 1) * sizeof *g->m);
	g->n--;
}

void
group_set_active(struct group_state *g, const char *name, bool active)
{
	size_t	i;

	if ((i = group_index(g, name)) != SIZE_MAX)
		g->m[i].active = active;
}

bool
group_is_member(const struct group_state *g, const char *name)
{
	return (group_index(g, name) != SIZE_MAX);
}

size_t
group_nmembers(const struct group_state *g)
{
	return (g->n);
}

const char *
group_member_name(const struct group_state *g, size_t i)
{
	return (i < g->n ? g->m[i].name : NULL);
}

int
group_exit_code(int status, bool gave_up)
{
	int	code = 1;

	if (WIFEXITED(status))
		code = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		code = 128 + WTERMSIG(status);
	return (gave_up && code == 0 ? 1 : code);
}

/* Decisions. */

static void
group_seq_push(struct group_state *g, enum group_step_kind kind,
    const char *name)
{
	g->seq = xreallocarray(g->seq, g->nseq + 1, sizeof *g->seq);
	g->seq[g->nseq].kind = kind;
	g->seq[g->nseq].name = name == NULL ? NULL : xstrdup(name);
	g->nseq++;
}

/* Stop every active member but skip (the last first), then end. */
static enum group_verdict
group_end(struct group_state *g, size_t skip, enum group_verdict v, int code)
{
	size_t	j;

	group_seq_clear(g);
	for (j = g->n; j-- > 0;)
		if (j != skip && g->m[j].active)
			group_seq_push(g, GROUP_STEP_STOP, g->m[j].name);
	group_seq_push(g, GROUP_STEP_END, NULL);
	g->exit_code = code;
	/* The group starts afresh if its members are started again. */
	policy_hist_free(&g->hist);
	return (v);
}

/*
 * The first member (in start order) that the sequence in progress has
 * yet to start, or SIZE_MAX: a new restart takes it in, so that no
 * member stopped for the old one is left behind.
 */
static size_t
group_pending_start(const struct group_state *g)
{
	size_t	k, j, lo = SIZE_MAX;

	for (k = g->pos; k < g->nseq; k++)
		if (g->seq[k].kind == GROUP_STEP_START &&
		    (j = group_index(g, g->seq[k].name)) < lo)
			lo = j;
	return (lo);
}

/* Does the sequence in progress end the group? */
static bool
group_ending(const struct group_state *g)
{
	return (g->pos < g->nseq && g->seq[g->nseq - 1].kind ==
	    GROUP_STEP_END);
}

/* Member i is to be restarted by its policy. */
static enum group_verdict
group_restart(struct group_state *g, size_t i, const struct group_exit *e)
{
	size_t	lo, j, pend;

	if (policy_intensity_full(&g->hist, g->conf.max_restarts,
	    g->conf.max_period_ms, e->now_ms)) {
		g->m[i].active = false;
		return (group_end(g, i, GROUP_GIVE_UP,
		    group_exit_code(e->status, true)));
	}
	policy_intensity_record(&g->hist, g->conf.max_restarts, e->now_ms);
	if (g->conf.strategy == GROUP_ONE_FOR_ONE)
		return (GROUP_ALONE);
	lo = g->conf.strategy == GROUP_ONE_FOR_ALL ? 0 : i;
	if ((pend = group_pending_start(g)) < lo)
		lo = pend;
	group_seq_clear(g);
	for (j = g->n; j-- > lo;)
		if (j != i && g->m[j].active)
			group_seq_push(g, GROUP_STEP_STOP, g->m[j].name);
	for (j = lo; j < g->n; j++)
		if (j != i && g->m[j].restart == SPEC_TEMPORARY)
			group_seq_push(g, GROUP_STEP_REMOVE, g->m[j].name);
	g->delay_ms = e->delay_ms;
	if (e->delay_ms > 0)
		group_seq_push(g, GROUP_STEP_DELAY, NULL);
	for (j = lo; j < g->n; j++)
		if (j == i || g->m[j].restart != SPEC_TEMPORARY)
			group_seq_push(g, GROUP_STEP_START, g->m[j].name);
	return (GROUP_RESTART);
}

/* Is a significant member other than skip still active? */
static bool
group_significant_left(const struct group_state *g, size_t skip)
{
	size_t	j;

	for (j = 0; j < g->n; j++)
		if (j != skip && g->m[j].significant && g->m[j].active)
			return (true);
	return (false);
}

enum group_verdict
group_decide(struct group_state *g, const struct group_exit *e)
{
	struct group_member	*m;
	size_t			 i;
	bool			 ended;

	if ((i = group_index(g, e->name)) == SIZE_MAX)
		return (GROUP_ALONE);
	m = &g->m[i];
	/* OTP: a stop the supervisor made restarts and ends nothing. */
	if (e->requested) {
		m->active = false;
		return (GROUP_ALONE);
	}
	/* The group is being stopped for good: its members stay down. */
	if (group_ending(g)) {
		m->active = false;
		return (GROUP_ENDING);
	}
	if (e->action == POLICY_RESTART)
		return (group_restart(g, i, e));
	m->active = false;
	/* Ended for good by its restart type (not by a give-up). */
	ended = !e->gave_up && (m->restart == SPEC_TEMPORARY ||
	    (m->restart == SPEC_TRANSIENT && e->success));
	if (!ended || !m->significant)
		return (GROUP_ALONE);
	if (g->conf.auto_shutdown == GROUP_AUTO_ANY ||
	    (g->conf.auto_shutdown == GROUP_AUTO_ALL &&
	    !group_significant_left(g, i)))
		return (group_end(g, i, GROUP_SHUTDOWN,
		    group_exit_code(e->status, false)));
	return (GROUP_ALONE);
}

void
group_seq_next(const struct group_state *g, struct group_step *st)
{
	memset(st, 0, sizeof *st);
	st->kind = GROUP_STEP_NONE;
	if (g->pos >= g->nseq)
		return;
	st->kind = g->seq[g->pos].kind;
	st->name = g->seq[g->pos].name;
	st->delay_ms = g->delay_ms;
	st->end = g->conf.on_give_up;
	st->exit_code = g->exit_code;
}

int
group_seq_done(struct group_state *g, const char *name)
{
	const char	*want;

	if (g->pos >= g->nseq)
		return (-1);
	want = g->seq[g->pos].name;
	if ((want == NULL) != (name == NULL) ||
	    (want != NULL && strcmp(want, name) != 0))
		return (-1);
	if (++g->pos == g->nseq)
		group_seq_clear(g);
	return (0);
}
