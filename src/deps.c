/* SPDX-License-Identifier: MIT */
/*
 * deps: depends_on, parsed and kept as a graph over row names (protocol
 * §9.1).  Every node knows the edges pointing at it (its dependents), so
 * a transition of a row re-evaluates exactly those edges; every node
 * counts its unmet edges, so "may it start?" is O(1).  Pure: no loop, no
 * I/O, never logs.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <jansson.h>

#include "gt/deps.h"
#include "gt/strmap.h"
#include "gt/xmalloc.h"

/* The k-th edge of `from` points at the node holding this. */
struct deps_in {
	struct deps_node	*from;
	size_t			 k;
};

/* One edge of a row, resolved to its target node. */
struct deps_out {
	struct deps_node	*to;
	size_t			 in;		/* index in to->in */
	enum deps_cond		 cond;
	enum deps_on_stop	 on_stop;
	enum deps_on_restart	 on_restart;
	bool			 met;
};

/*
 * A node exists while it has a row, edges pointing at it, or a
 * remembered completion; deps_gc frees it when none is left.
 */
struct deps_node {
	char			*name;		/* owned */
	uint32_t		 hash;
	struct deps_node	*hnext;		/* hash chain */
	struct deps_out		*out;		/* owned, nout entries */
	size_t			 nout;
	struct deps_in		*in;		/* owned */
	size_t			 nin;
	size_t			 capin;
	struct deps_obs		 obs;
	size_t			 nunmet;	/* out edges not met */
	bool			 row;
	bool			 waiting;
	bool			 queued;	/* on g->completed */
	TAILQ_ENTRY(deps_node)	 centry;
};

struct deps_graph {
	struct deps_node	**b;		/* buckets, nb a power of 2 */
	size_t			  nb;
	size_t			  nnodes;
	/* Remembered completions nobody depends on, oldest first. */
	TAILQ_HEAD(, deps_node)	  completed;
	size_t			  ncompleted;
	size_t			  max_completed;
};

struct deps_plan {
	char		**names;		/* owned */
	size_t		  n;
	size_t		 *pending;		/* what each still waits for */
	size_t		 *soff;			/* i's: succ[soff[i]..] */
	size_t		 *succ;
	size_t		 *ready;		/* queue of handed-out-able */
	size_t		  rhead;
	size_t		  rtail;
	bool		 *given;
	bool		 *done;
	size_t		  ndone;
	struct strmap	  idx;
};

static struct deps_node	*deps_find(const struct deps_graph *, const char *);
static struct deps_node	*deps_node_get(struct deps_graph *, const char *);
static void		 deps_gc(struct deps_graph *, struct deps_node *);
static void		 deps_dequeue(struct deps_graph *, struct deps_node *);
static void		 deps_out_clear(struct deps_graph *,
			    struct deps_node *);
static void		 deps_propagate(struct deps_node *,
			    struct deps_names *);
static void		 deps_names_add(struct deps_names *, const char *);

static const char *deps_cond_names[] = {
	[DEPS_COND_STARTED] = "started",
	[DEPS_COND_READY] = "ready",
	[DEPS_COND_HEALTHY] = "healthy",
	[DEPS_COND_COMPLETED] = "completed",
	[DEPS_COND_COMPLETED_OK] = "completed_ok"
};
#define DEPS_NCONDS	5

static const char *deps_on_stop_names[] = {
	[DEPS_ON_STOP_STOP] = "stop",
	[DEPS_ON_STOP_IGNORE] = "ignore"
};
static const char *deps_on_restart_names[] = {
	[DEPS_ON_RESTART_IGNORE] = "ignore",
	[DEPS_ON_RESTART_RESTART] = "restart"
};
static const char *deps_phase_names[] = {
	[DEPS_ABSENT] = "absent",
	[DEPS_DOWN] = "down",
	[DEPS_STARTING] = "starting",
	[DEPS_RUNNING] = "running",
	[DEPS_COMPLETED] = "completed"
};

/*
 * The condition table (protocol §9.1), by phase of the dependency:
 *
 *                 absent  down  starting  running       completed
 *   started       -       -     met       met           met
 *   ready         -       -     -         met           -
 *   healthy       -       -     -         met if healthy -
 *                                         or no probe
 *   completed     -       -     -         -             met
 *   completed_ok  -       -     -         -             met if ok
 */
bool
deps_cond_met(enum deps_cond c, const struct deps_obs *o)
{
	switch (c) {
	case DEPS_COND_STARTED:
		return (o->phase == DEPS_STARTING || o->phase == DEPS_RUNNING ||
		    o->phase == DEPS_COMPLETED);
	case DEPS_COND_READY:
		return (o->phase == DEPS_RUNNING);
	case DEPS_COND_HEALTHY:
		return (o->phase == DEPS_RUNNING &&
		    (o->health == DEPS_HEALTH_NONE ||
		    o->health == DEPS_HEALTH_HEALTHY));
	case DEPS_COND_COMPLETED:
		return (o->phase == DEPS_COMPLETED);
	case DEPS_COND_COMPLETED_OK:
		return (o->phase == DEPS_COMPLETED && o->ok);
	}
	return (false);
}

const char *
deps_cond_name(enum deps_cond c)
{
	return ((unsigned)c < DEPS_NCONDS ? deps_cond_names[c] : "unknown");
}

int
deps_cond_parse(const char *s, enum deps_cond *c)
{
	int	i;

	for (i = 0; i < DEPS_NCONDS; i++)
		if (strcmp(s, deps_cond_names[i]) == 0) {
			*c = i;
			return (0);
		}
	return (-1);
}

const char *
deps_on_stop_name(enum deps_on_stop s)
{
	return ((unsigned)s < 2 ? deps_on_stop_names[s] : "unknown");
}

const char *
deps_on_restart_name(enum deps_on_restart r)
{
	return ((unsigned)r < 2 ? deps_on_restart_names[r] : "unknown");
}

const char *
deps_phase_name(enum deps_phase p)
{
	return ((unsigned)p < DEPS_NPHASES ? deps_phase_names[p] :
	    "unknown");
}

/* Parsing. */

/* Set *field and *cause (both xmalloc'd); always -1. */
static int
deps_fail(char **field, char **cause, const char *f, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
deps_fail(char **field, char **cause, const char *f, const char *fmt, ...)
{
	va_list	ap;

	*field = xstrdup(f);
	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) == -1)
		*cause = xstrdup("invalid");
	va_end(ap);
	return (-1);
}

/* A name: a string of 1 to DEPS_MAX_NAME bytes without NUL. */
static int
deps_parse_name(const json_t *j, const char *f, char **out, char **field,
    char **cause)
{
	if (!json_is_string(j) || json_string_length(j) == 0 ||
	    json_string_length(j) > DEPS_MAX_NAME ||
	    strlen(json_string_value(j)) != json_string_length(j))
		return (deps_fail(field, cause, f, "%s must be the name of a "
		    "child (1 to %d bytes, no NUL)", f, DEPS_MAX_NAME));
	*out = xstrdup(json_string_value(j));
	return (0);
}

/* One of names[0..n) for key sub of an object at f. */
static int
deps_parse_enum(const json_t *o, const char *f, const char *sub,
    const char *const *names, int n, int *out, char **field, char **cause)
{
	const json_t	*v;
	char		 path[64];
	int		 i;

	if ((v = json_object_get(o, sub)) == NULL)
		return (0);			/* the default stays */
	snprintf(path, sizeof path, "%s.%s", f, sub);
	for (i = 0; json_is_string(v) && i < n; i++)
		if (strcmp(json_string_value(v), names[i]) == 0) {
			*out = i;
			return (0);
		}
	if (n == DEPS_NCONDS)
		return (deps_fail(field, cause, path, "%s must be started, "
		    "ready, healthy, completed or completed_ok", path));
	return (deps_fail(field, cause, path, "%s must be %s or %s", path,
	    names[0], names[1]));
}

/* {"name", "condition", "on_stop", "on_restart"} at f. */
static int
deps_parse_object(const json_t *o, const char *f, struct deps_edge *e,
    char **field, char **cause)
{
	static const char *const	 keys[] = { "name", "condition",
	    "on_stop", "on_restart", NULL };
	const char			*k, *const *kp;
	const json_t			*v;
	char				 path[64];
	int				 c = DEPS_COND_READY, s = 0, r = 0;

	json_object_foreach((json_t *)o, k, v) {
		for (kp = keys; *kp != NULL && strcmp(*kp, k) != 0; kp++)
			;
		if (*kp == NULL)
			return (deps_fail(field, cause, f, "%s: unknown key "
			    "%.64s (name, condition, on_stop, on_restart)", f,
			    k));
	}
	snprintf(path, sizeof path, "%s.name", f);
	if ((v = json_object_get(o, "name")) == NULL)
		return (deps_fail(field, cause, path, "%s is required", path));
	if (deps_parse_enum(o, f, "condition", deps_cond_names, DEPS_NCONDS,
	    &c, field, cause) == -1 ||
	    deps_parse_enum(o, f, "on_stop", deps_on_stop_names, 2, &s,
	    field, cause) == -1 ||
	    deps_parse_enum(o, f, "on_restart", deps_on_restart_names, 2, &r,
	    field, cause) == -1 ||
	    deps_parse_name(v, path, &e->name, field, cause) == -1)
		return (-1);
	e->cond = c;
	e->on_stop = s;
	e->on_restart = r;
	return (0);
}

/* One entry at f: a name (defaults) or an object. */
static int
deps_parse_entry(const json_t *el, const char *f, struct deps_edge *e,
    char **field, char **cause)
{
	e->cond = DEPS_COND_READY;
	e->on_stop = DEPS_ON_STOP_STOP;
	e->on_restart = DEPS_ON_RESTART_IGNORE;
	if (json_is_object(el))
		return (deps_parse_object(el, f, e, field, cause));
	if (json_is_string(el))
		return (deps_parse_name(el, f, &e->name, field, cause));
	return (deps_fail(field, cause, f, "%s must be a child's name or an "
	    "object with name, condition, on_stop, on_restart", f));
}

int
deps_parse(const json_t *j, struct deps_edge **out, size_t *n,
    char **field, char **cause)
{
	struct deps_edge	*v = NULL;
	struct strmap		 seen = { NULL, 0, 0 };
	const json_t		*el;
	size_t			 i, cnt = 0;
	char			 f[32];	/* "depends_on." and an index */
	int			 rc = -1;

	*out = NULL;
	*n = 0;
	if (!json_is_array(j))
		return (deps_fail(field, cause, "depends_on", "depends_on must "
		    "be an array of names or objects"));
	if (json_array_size(j) > DEPS_MAX_EDGES)
		return (deps_fail(field, cause, "depends_on", "depends_on has "
		    "more than %d entries", DEPS_MAX_EDGES));
	if (json_array_size(j) > 0)
		v = xcalloc(json_array_size(j), sizeof *v);
	json_array_foreach(j, i, el) {
		snprintf(f, sizeof f, "depends_on.%zu", i);
		if (deps_parse_entry(el, f, &v[i], field, cause) == -1)
			goto out;
		cnt = i + 1;
		if (strmap_find(&seen, v[i].name) != NULL) {
			deps_fail(field, cause, f, "%s: %.64s is listed twice",
			    f, v[i].name);
			goto out;
		}
		strmap_add(&seen, v[i].name, i);
	}
	*out = v;
	*n = cnt;
	v = NULL;
	rc = 0;
out:
	strmap_free(&seen);
	deps_edges_free(v, cnt);
	return (rc);
}

json_t *
deps_json(const struct deps_edge *e, size_t n)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s}",
		    "name", e[i].name, "condition", deps_cond_name(e[i].cond),
		    "on_stop", deps_on_stop_name(e[i].on_stop), "on_restart",
		    deps_on_restart_name(e[i].on_restart)));
	return (a);
}

struct deps_edge *
deps_edges_dup(const struct deps_edge *e, size_t n)
{
	struct deps_edge	*d;
	size_t			 i;

	if (n == 0)
		return (NULL);
	d = xcalloc(n, sizeof *d);
	for (i = 0; i < n; i++) {
		d[i] = e[i];
		d[i].name = xstrdup(e[i].name);
	}
	return (d);
}

void
deps_edges_free(struct deps_edge *e, size_t n)
{
	size_t	i;

	if (e == NULL)
		return;
	for (i = 0; i < n; i++)
		free(e[i].name);
	free(e);
}

bool
deps_edges_equal(const struct deps_edge *a, size_t na,
    const struct deps_edge *b, size_t nb)
{
	size_t	i;

	if (na != nb)
		return (false);
	for (i = 0; i < na; i++)
		if (strcmp(a[i].name, b[i].name) != 0 ||
		    a[i].cond != b[i].cond || a[i].on_stop != b[i].on_stop ||
		    a[i].on_restart != b[i].on_restart)
			return (false);
	return (true);
}

/* Name vectors. */

static void
deps_names_add(struct deps_names *v, const char *name)
{
	if (v == NULL)
		return;
	if (v->n + 1 >= v->cap) {
		v->cap = v->cap == 0 ? 16 : v->cap * 2;
		v->v = xreallocarray(v->v, v->cap, sizeof *v->v);
	}
	v->v[v->n++] = xstrdup(name);
	v->v[v->n] = NULL;
}

void
deps_names_clear(struct deps_names *v)
{
	size_t	i;

	for (i = 0; i < v->n; i++)
		free(v->v[i]);
	v->n = 0;
	if (v->v != NULL)
		v->v[0] = NULL;
}

void
deps_names_free(struct deps_names *v)
{
	deps_names_clear(v);
	free(v->v);
	v->v = NULL;
	v->cap = 0;
}

/* The graph's nodes. */

struct deps_graph *
deps_graph_new(size_t max_completed)
{
	struct deps_graph	*g = xcalloc(1, sizeof *g);

	g->nb = 64;
	g->b = xcalloc(g->nb, sizeof *g->b);
	TAILQ_INIT(&g->completed);
	g->max_completed = max_completed;
	return (g);
}

static void
deps_node_free(struct deps_node *n)
{
	free(n->name);
	free(n->out);
	free(n->in);
	free(n);
}

void
deps_graph_free(struct deps_graph *g)
{
	struct deps_node	*n, *next;
	size_t			 i;

	if (g == NULL)
		return;
	for (i = 0; i < g->nb; i++)
		for (n = g->b[i]; n != NULL; n = next) {
			next = n->hnext;
			deps_node_free(n);
		}
	free(g->b);
	free(g);
}

static struct deps_node *
deps_find(const struct deps_graph *g, const char *name)
{
	struct deps_node	*n;
	uint32_t		 h = strmap_hash(name, strlen(name));

	for (n = g->b[h & (g->nb - 1)]; n != NULL; n = n->hnext)
		if (n->hash == h && strcmp(n->name, name) == 0)
			return (n);
	return (NULL);
}

/* Double the buckets once there are more nodes than buckets. */
static void
deps_grow(struct deps_graph *g)
{
	struct deps_node	**b, *n, *next;
	size_t			  i, nb = g->nb * 2;

	b = xcalloc(nb, sizeof *b);
	for (i = 0; i < g->nb; i++)
		for (n = g->b[i]; n != NULL; n = next) {
			next = n->hnext;
			n->hnext = b[n->hash & (nb - 1)];
			b[n->hash & (nb - 1)] = n;
		}
	free(g->b);
	g->b = b;
	g->nb = nb;
}

/* The node of name, made (absent, no row) if there is none. */
static struct deps_node *
deps_node_get(struct deps_graph *g, const char *name)
{
	struct deps_node	*n;

	if ((n = deps_find(g, name)) != NULL)
		return (n);
	if (g->nnodes >= g->nb)
		deps_grow(g);
	n = xcalloc(1, sizeof *n);
	n->name = xstrdup(name);
	n->hash = strmap_hash(name, strlen(name));
	n->obs.phase = DEPS_ABSENT;
	n->hnext = g->b[n->hash & (g->nb - 1)];
	g->b[n->hash & (g->nb - 1)] = n;
	g->nnodes++;
	return (n);
}

static void
deps_unlink(struct deps_graph *g, struct deps_node *n)
{
	struct deps_node	**p;

	deps_dequeue(g, n);
	for (p = &g->b[n->hash & (g->nb - 1)]; *p != n; p = &(*p)->hnext)
		;
	*p = n->hnext;
	g->nnodes--;
	deps_node_free(n);
}

static void
deps_dequeue(struct deps_graph *g, struct deps_node *n)
{
	if (!n->queued)
		return;
	TAILQ_REMOVE(&g->completed, n, centry);
	n->queued = false;
	g->ncompleted--;
}

/*
 * A node without a row and without dependents is freed, unless it is a
 * remembered completion: then it joins the queue, whose oldest entries
 * are forgotten beyond max_completed.
 */
static void
deps_gc(struct deps_graph *g, struct deps_node *n)
{
	struct deps_node	*old;

	if (n->row || n->nin > 0 || n->nout > 0)
		return;
	if (n->obs.phase != DEPS_COMPLETED) {
		deps_unlink(g, n);
		return;
	}
	if (!n->queued) {
		TAILQ_INSERT_TAIL(&g->completed, n, centry);
		n->queued = true;
		g->ncompleted++;
	}
	while (g->ncompleted > g->max_completed) {
		old = TAILQ_FIRST(&g->completed);
		deps_unlink(g, old);
	}
}

static void
deps_in_add(struct deps_node *to, struct deps_node *from, size_t k)
{
	if (to->nin == to->capin) {
		to->capin = to->capin == 0 ? 4 : to->capin * 2;
		to->in = xreallocarray(to->in, to->capin, sizeof *to->in);
	}
	from->out[k].in = to->nin;
	to->in[to->nin].from = from;
	to->in[to->nin].k = k;
	to->nin++;
}

/* Remove to->in[i], moving the last entry into its place. */
static void
deps_in_del(struct deps_node *to, size_t i)
{
	struct deps_in	*last;

	to->nin--;
	if (i == to->nin)
		return;
	last = &to->in[to->nin];
	to->in[i] = *last;
	last->from->out[last->k].in = i;
}

/* n loses all its edges (its targets may go). */
static void
deps_out_clear(struct deps_graph *g, struct deps_node *n)
{
	struct deps_out	*out = n->out;
	size_t		 i, nout = n->nout;

	n->out = NULL;
	n->nout = 0;
	n->nunmet = 0;
	for (i = 0; i < nout; i++)
		deps_in_del(out[i].to, out[i].in);
	for (i = 0; i < nout; i++)
		if (out[i].to != n)
			deps_gc(g, out[i].to);
	free(out);
}

void
deps_set(struct deps_graph *g, const char *name, const struct deps_edge *e,
    size_t n, struct deps_names *met)
{
	struct deps_node	*node, *to;
	struct deps_out		*o;
	size_t			 k;

	node = deps_node_get(g, name);
	node->row = true;
	deps_dequeue(g, node);
	deps_out_clear(g, node);
	if (n > 0)
		node->out = xcalloc(n, sizeof *node->out);
	node->nout = n;
	for (k = 0; k < n; k++) {
		to = deps_node_get(g, e[k].name);
		deps_dequeue(g, to);		/* someone depends on it */
		o = &node->out[k];
		o->to = to;
		o->cond = e[k].cond;
		o->on_stop = e[k].on_stop;
		o->on_restart = e[k].on_restart;
		o->met = deps_cond_met(o->cond, &to->obs);
		if (!o->met)
			node->nunmet++;
		deps_in_add(to, node, k);
	}
	if (node->waiting && node->nunmet == 0) {
		node->waiting = false;
		deps_names_add(met, node->name);
	}
}

void
deps_remove(struct deps_graph *g, const char *name)
{
	struct deps_node	*n;

	if ((n = deps_find(g, name)) == NULL || !n->row)
		return;
	deps_out_clear(g, n);
	n->row = false;
	n->waiting = false;
	if (n->obs.phase != DEPS_COMPLETED) {
		memset(&n->obs, 0, sizeof n->obs);
		n->obs.phase = DEPS_ABSENT;
		deps_propagate(n, NULL);	/* absent meets nothing */
	}
	deps_gc(g, n);
}

/* Evaluate the edges pointing at n again; report who may start. */
static void
deps_propagate(struct deps_node *n, struct deps_names *met)
{
	struct deps_node	*from;
	struct deps_out		*o;
	size_t			 i;
	bool			 m;

	for (i = 0; i < n->nin; i++) {
		from = n->in[i].from;
		o = &from->out[n->in[i].k];
		m = deps_cond_met(o->cond, &n->obs);
		if (m == o->met)
			continue;
		o->met = m;
		if (!m) {
			from->nunmet++;
			continue;
		}
		if (--from->nunmet == 0 && from->waiting) {
			from->waiting = false;
			deps_names_add(met, from->name);
		}
	}
}

void
deps_observe(struct deps_graph *g, const char *name,
    const struct deps_obs *o, struct deps_names *met)
{
	struct deps_node	*n;

	if ((n = deps_find(g, name)) == NULL || !n->row)
		return;
	n->obs = *o;
	deps_propagate(n, met);
}

bool
deps_wait(struct deps_graph *g, const char *name)
{
	struct deps_node	*n;

	if ((n = deps_find(g, name)) == NULL || !n->row)
		return (true);
	n->waiting = n->nunmet > 0;
	return (!n->waiting);
}

void
deps_unwait(struct deps_graph *g, const char *name)
{
	struct deps_node	*n;

	if ((n = deps_find(g, name)) != NULL)
		n->waiting = false;
}

bool
deps_met(const struct deps_graph *g, const char *name)
{
	struct deps_node	*n;

	return ((n = deps_find(g, name)) == NULL || n->nunmet == 0);
}

bool
deps_waiting(const struct deps_graph *g, const char *name)
{
	struct deps_node	*n;

	return ((n = deps_find(g, name)) != NULL && n->waiting);
}

size_t
deps_unmet(const struct deps_graph *g, const char *name,
    struct deps_unmet *out, size_t max)
{
	struct deps_node	*n;
	size_t			 k, cnt = 0;

	if ((n = deps_find(g, name)) == NULL)
		return (0);
	for (k = 0; k < n->nout && cnt < n->nunmet; k++) {
		if (n->out[k].met)
			continue;
		if (cnt < max) {
			out[cnt].name = n->out[k].to->name;
			out[cnt].cond = n->out[k].cond;
			out[cnt].obs = n->out[k].to->obs;
		}
		cnt++;
	}
	return (cnt);
}

/* Checking a proposed change. */

struct deps_ctx {
	const struct deps_graph		*g;
	const struct deps_change	*ch;
	struct strmap			 chg;	/* name -> change index */
};

/* The k-th dependency of name in the changed graph, or NULL. */
static const char *
deps_ctx_target(const struct deps_ctx *x, const char *name, size_t k)
{
	const struct deps_change	*c;
	const struct deps_node		*n;
	size_t				*i;

	if ((i = strmap_find(&x->chg, name)) != NULL) {
		c = &x->ch[*i];
		return (c->remove || k >= c->n ? NULL : c->edges[k].name);
	}
	if ((n = deps_find(x->g, name)) == NULL || k >= n->nout)
		return (NULL);
	return (n->out[k].to->name);
}

/* Does name have a row (or a remembered completion) once changed? */
static bool
deps_ctx_exists(const struct deps_ctx *x, const char *name)
{
	const struct deps_node	*n;
	size_t			*i;

	if ((i = strmap_find(&x->chg, name)) != NULL)
		return (!x->ch[*i].remove);
	n = deps_find(x->g, name);
	return (n != NULL && (n->row || n->obs.phase == DEPS_COMPLETED));
}

/* The edges of change i: each names an existing row, once. */
static int
deps_check_edges(const struct deps_ctx *x, size_t i, size_t *edge,
    char **cause)
{
	const struct deps_change	*c = &x->ch[i];
	struct strmap			 seen = { NULL, 0, 0 };
	size_t				 k;
	int				 rc = 0;

	for (k = 0; k < c->n && rc == 0; k++) {
		*edge = k;
		if (strmap_find(&seen, c->edges[k].name) != NULL) {
			xasprintf(cause, "%s depends on %s twice", c->name,
			    c->edges[k].name);
			rc = -1;
		} else if (!deps_ctx_exists(x, c->edges[k].name)) {
			xasprintf(cause, "%s depends on %s: no child named %s",
			    c->name, c->edges[k].name, c->edges[k].name);
			rc = -1;
		}
		strmap_add(&seen, c->edges[k].name, k);
	}
	strmap_free(&seen);
	return (rc);
}

/* A depth-first walk's frame: a node and the edge it follows now. */
struct deps_frame {
	const char	*name;
	size_t		 k;
};

/*
 * The cycle closed by an edge from the top of the stack back to
 * stack[from]: name it, and find a changed row on it to blame.
 */
static void
deps_cycle(const struct deps_ctx *x, const struct deps_frame *st,
    size_t from, size_t top, size_t *which, size_t *edge, char **cause)
{
	char	*msg, *t;
	size_t	 p, *ci;
	bool	 blamed = false;

	if (from == top) {
		xasprintf(cause, "%s depends on itself", st[top].name);
		msg = NULL;
	} else
		msg = xstrdup("dependency cycle:");
	for (p = from; p <= top; p++) {
		if (!blamed && (ci = strmap_find(&x->chg, st[p].name)) !=
		    NULL) {
			*which = *ci;
			*edge = st[p].k;
			blamed = true;
		}
		if (msg == NULL)
			continue;
		if (p - from < 16 || p == top)
			xasprintf(&t, "%s %s ->", msg, st[p].name);
		else
			xasprintf(&t, "%s%s", msg, p - from == 16 ? " ... ->" :
			    "");
		free(msg);
		msg = t;
	}
	if (msg != NULL) {
		xasprintf(cause, "%s %s", msg, st[from].name);
		free(msg);
	}
}

/* Walk from change i; -1 (and the blame) at the first cycle. */
static int
deps_dfs(const struct deps_ctx *x, struct strmap *color, size_t i,
    size_t *which, size_t *edge, char **cause)
{
	struct deps_frame	*st;
	const char		*t;
	size_t			 top = 0, cap = 16, *c, p;
	int			 rc = 0;

	st = xcalloc(cap, sizeof *st);
	st[0].name = x->ch[i].name;
	*strmap_add(color, st[0].name, 1) = 1;	/* 1 grey, 2 black */
	for (;;) {
		t = deps_ctx_target(x, st[top].name, st[top].k);
		if (t == NULL) {
			*strmap_find(color, st[top].name) = 2;
			if (top-- == 0)
				break;
			st[top].k++;
			continue;
		}
		c = strmap_add(color, t, 0);
		if (*c == 2) {
			st[top].k++;
			continue;
		}
		if (*c == 1) {			/* back to a grey node */
			for (p = 0; strcmp(st[p].name, t) != 0; p++)
				;
			deps_cycle(x, st, p, top, which, edge, cause);
			rc = -1;
			break;
		}
		*c = 1;
		if (++top == cap)
			st = xreallocarray(st, cap *= 2, sizeof *st);
		st[top].name = t;
		st[top].k = 0;
	}
	free(st);
	return (rc);
}

int
deps_check(const struct deps_graph *g, const struct deps_change *ch,
    size_t n, size_t *which, size_t *edge, char **cause)
{
	struct deps_ctx	 x = { g, ch, { NULL, 0, 0 } };
	struct strmap	 color = { NULL, 0, 0 };
	size_t		 i, *c;
	int		 rc = -1;

	*cause = NULL;
	for (i = 0; i < n; i++) {
		*which = i;
		*edge = SIZE_MAX;
		if (strmap_find(&x.chg, ch[i].name) != NULL) {
			xasprintf(cause, "%s is changed twice", ch[i].name);
			goto out;
		}
		strmap_add(&x.chg, ch[i].name, i);
	}
	for (i = 0; i < n; i++) {
		*which = i;
		if (!ch[i].remove && deps_check_edges(&x, i, edge, cause) ==
		    -1)
			goto out;
	}
	for (i = 0; i < n; i++) {
		if (ch[i].remove || ((c = strmap_find(&color,
		    ch[i].name)) != NULL && *c != 0))
			continue;
		if (deps_dfs(&x, &color, i, which, edge, cause) == -1)
			goto out;
	}
	rc = 0;
out:
	strmap_free(&color);
	strmap_free(&x.chg);
	return (rc);
}

/* Closures. */

/* Append the rows of n's in-edges of kind (not seen yet) to q. */
static void
deps_closure_step(const struct deps_node *n, enum deps_closure kind,
    struct strmap *seen, struct deps_names *q)
{
	const struct deps_node	*from;
	const struct deps_out	*o;
	size_t			 i;

	for (i = 0; i < n->nin; i++) {
		from = n->in[i].from;
		o = &from->out[n->in[i].k];
		if ((kind == DEPS_CL_STOP && o->on_stop != DEPS_ON_STOP_STOP) ||
		    (kind == DEPS_CL_RESTART &&
		    o->on_restart != DEPS_ON_RESTART_RESTART))
			continue;
		if (strmap_find(seen, from->name) != NULL)
			continue;
		strmap_add(seen, from->name, 0);
		deps_names_add(q, from->name);
	}
}

void
deps_closure(const struct deps_graph *g, const char *name,
    enum deps_closure kind, struct deps_names *out)
{
	const struct deps_node	*n;
	struct deps_names	 q = { NULL, 0, 0 };
	struct strmap		 seen = { NULL, 0, 0 };
	struct deps_plan	*pl;
	size_t			 head, i, before;

	if ((n = deps_find(g, name)) == NULL)
		return;
	strmap_add(&seen, n->name, 0);
	for (head = 0; n != NULL; head++) {
		deps_closure_step(n, kind, &seen, &q);
		n = head < q.n ? deps_find(g, q.v[head]) : NULL;
	}
	/* Breadth first is not yet an order: sort it by a stop plan. */
	pl = deps_plan_new(g, (const char *const *)q.v, q.n, DEPS_STOP);
	for (;;) {
		before = out->n;
		if (deps_plan_next(pl, out) == 0)
			break;
		for (i = before; i < out->n; i++)
			deps_plan_done(pl, out->v[i]);
	}
	deps_plan_free(pl);
	deps_names_free(&q);
	strmap_free(&seen);
}

bool
deps_closure_any(const struct deps_graph *g, const char *name,
    enum deps_closure kind, bool (*pred)(const char *, void *), void *arg)
{
	const struct deps_node	*n;
	struct deps_names	 q = { NULL, 0, 0 };
	struct strmap		 seen = { NULL, 0, 0 };
	size_t			 head, done = 0;
	bool			 found = false;

	if ((n = deps_find(g, name)) == NULL)
		return (false);
	strmap_add(&seen, n->name, 0);
	for (head = 0; n != NULL && !found; head++) {
		deps_closure_step(n, kind, &seen, &q);
		for (; done < q.n && !found; done++)
			found = pred(q.v[done], arg);
		n = head < q.n ? deps_find(g, q.v[head]) : NULL;
	}
	deps_names_free(&q);
	strmap_free(&seen);
	return (found);
}

/* Plans. */

/*
 * Every edge between two rows of the plan as "a waits for b": count
 * them into soff (fill false), or record them (fill true).
 */
static void
deps_plan_edges(struct deps_plan *pl, const struct deps_graph *g,
    enum deps_dir dir, bool fill)
{
	const struct deps_node	*n;
	size_t			 i, k, *j, a, b;

	for (i = 0; i < pl->n; i++) {
		if ((n = deps_find(g, pl->names[i])) == NULL)
			continue;
		for (k = 0; k < n->nout; k++) {
			j = strmap_find(&pl->idx, n->out[k].to->name);
			if (j == NULL || *j == i)
				continue;
			a = dir == DEPS_START ? i : *j;
			b = dir == DEPS_START ? *j : i;
			if (!fill)
				pl->soff[b + 1]++;
			else {
				pl->succ[pl->soff[b]++] = a;
				pl->pending[a]++;
			}
		}
	}
}

struct deps_plan *
deps_plan_new(const struct deps_graph *g, const char *const *names,
    size_t n, enum deps_dir dir)
{
	struct deps_plan	*pl = xcalloc(1, sizeof *pl);
	size_t			 i;

	pl->names = xcalloc(n + 1, sizeof *pl->names);
	for (i = 0; i < n; i++) {
		if (strmap_find(&pl->idx, names[i]) != NULL)
			continue;		/* listed twice: once */
		pl->names[pl->n] = xstrdup(names[i]);
		strmap_add(&pl->idx, pl->names[pl->n], pl->n);
		pl->n++;
	}
	pl->pending = xcalloc(pl->n + 1, sizeof *pl->pending);
	pl->soff = xcalloc(pl->n + 2, sizeof *pl->soff);
	pl->ready = xcalloc(pl->n + 1, sizeof *pl->ready);
	pl->given = xcalloc(pl->n + 1, sizeof *pl->given);
	pl->done = xcalloc(pl->n + 1, sizeof *pl->done);
	/*
	 * Count into soff[b + 1], prefix-sum, then fill: each fill moves
	 * soff[b] to the end of b's run, which is the start of b + 1's, so
	 * one shift puts soff back to the starts.
	 */
	deps_plan_edges(pl, g, dir, false);
	for (i = 0; i < pl->n; i++)
		pl->soff[i + 1] += pl->soff[i];
	pl->succ = xcalloc(pl->soff[pl->n] + 1, sizeof *pl->succ);
	deps_plan_edges(pl, g, dir, true);
	memmove(pl->soff + 1, pl->soff, pl->n * sizeof *pl->soff);
	pl->soff[0] = 0;
	for (i = 0; i < pl->n; i++)
		if (pl->pending[i] == 0)
			pl->ready[pl->rtail++] = i;
	return (pl);
}

void
deps_plan_free(struct deps_plan *pl)
{
	size_t	i;

	if (pl == NULL)
		return;
	for (i = 0; i < pl->n; i++)
		free(pl->names[i]);
	free(pl->names);
	free(pl->pending);
	free(pl->soff);
	free(pl->succ);
	free(pl->ready);
	free(pl->given);
	free(pl->done);
	strmap_free(&pl->idx);
	free(pl);
}

size_t
deps_plan_next(struct deps_plan *pl, struct deps_names *out)
{
	size_t	cnt = 0, i;

	while (pl->rhead < pl->rtail) {
		i = pl->ready[pl->rhead++];
		pl->given[i] = true;
		deps_names_add(out, pl->names[i]);
		cnt++;
	}
	return (cnt);
}

int
deps_plan_done(struct deps_plan *pl, const char *name)
{
	size_t	*ip, i, s;

	if ((ip = strmap_find(&pl->idx, name)) == NULL)
		return (-1);
	i = *ip;
	if (!pl->given[i] || pl->done[i])
		return (-1);
	pl->done[i] = true;
	pl->ndone++;
	for (s = pl->soff[i]; s < pl->soff[i + 1]; s++)
		if (--pl->pending[pl->succ[s]] == 0)
			pl->ready[pl->rtail++] = pl->succ[s];
	return (0);
}

bool
deps_plan_finished(const struct deps_plan *pl)
{
	return (pl->ndone == pl->n);
}

size_t
deps_levels(const struct deps_graph *g, const char *const *names, size_t n,
    enum deps_dir dir, size_t *level)
{
	struct deps_plan	*pl = deps_plan_new(g, names, n, dir);
	struct deps_names	 wave = { NULL, 0, 0 };
	size_t			*lv, nlev = 0, i;

	lv = xcalloc(pl->n + 1, sizeof *lv);
	while (deps_plan_next(pl, &wave) > 0) {
		for (i = 0; i < wave.n; i++) {
			lv[*strmap_find(&pl->idx, wave.v[i])] = nlev + 1;
			deps_plan_done(pl, wave.v[i]);
		}
		deps_names_clear(&wave);
		nlev++;
	}
	/* Rows on a cycle (deps_check refuses those) come last. */
	for (i = 0; i < n; i++) {
		level[i] = lv[*strmap_find(&pl->idx, names[i])];
		level[i] = level[i] == 0 ? nlev : level[i] - 1;
	}
	if (!deps_plan_finished(pl))
		nlev++;
	free(lv);
	deps_plan_free(pl);
	deps_names_free(&wave);
	return (nlev);
}
