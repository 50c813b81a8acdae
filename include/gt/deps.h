/* SPDX-License-Identifier: MIT */
/*
 * deps: the dependency model of protocol §9.1 (childspec depends_on).
 * Pure: no loop, no I/O, never logs.  The caller (the core) owns the
 * rows and tells this module what it sees; this module answers which
 * waiting rows may start, what a row waits for, and in which order a set
 * of rows starts or stops.
 *
 * Cost: a row's transition re-evaluates only the edges that point at it
 * (its dependents are indexed by name), so a thousand rows waiting on one
 * dependency cost one pass over those thousand edges per transition of
 * that dependency, and nothing at all meanwhile: there is no polling.
 */
#ifndef GT_DEPS_H
#define GT_DEPS_H

#include <stdbool.h>
#include <stddef.h>

struct json_t;				/* jansson's, for the parser only */

/* What a dependent waits for (protocol §9.1 "condition"). */
enum deps_cond {
	DEPS_COND_STARTED,	/* has (had, if completed) a process */
	DEPS_COND_READY,	/* running (ready) */
	DEPS_COND_HEALTHY,	/* running, healthy (no probe: ready) */
	DEPS_COND_COMPLETED,	/* ended for good, any exit */
	DEPS_COND_COMPLETED_OK	/* ended for good, exit in success codes */
};

/* A dependency stopped on request (or giving up): what the dependent does. */
enum deps_on_stop { DEPS_ON_STOP_STOP, DEPS_ON_STOP_IGNORE };
/* A dependency restarted by its policy: what the dependent does. */
enum deps_on_restart { DEPS_ON_RESTART_IGNORE, DEPS_ON_RESTART_RESTART };

#define DEPS_MAX_EDGES		256	/* entries of one depends_on */
#define DEPS_MAX_NAME		1024	/* bytes of a name (as childspec) */

/* One entry of a depends_on: this row depends on `name`. */
struct deps_edge {
	char			*name;		/* owned */
	enum deps_cond		 cond;
	enum deps_on_stop	 on_stop;
	enum deps_on_restart	 on_restart;
};

/*
 * Parse a depends_on value: an array of names or of objects {"name",
 * "condition", "on_stop", "on_restart"} (every key but name optional;
 * unknown keys, unknown values, a name listed twice and more than
 * DEPS_MAX_EDGES entries are errors).  0 and an owned array in *out, *n
 * (NULL, 0 for []), or -1 with *field the dotted path of the offending
 * key below depends_on ("depends_on.2.condition") and *cause a message;
 * both xmalloc'd, the caller frees them.
 */
int		 deps_parse(const struct json_t *, struct deps_edge **out,
		    size_t *n, char **field, char **cause);
/* The normalised depends_on: an array of full objects.  New reference. */
struct json_t	*deps_json(const struct deps_edge *, size_t n);
struct deps_edge *deps_edges_dup(const struct deps_edge *, size_t n);
void		 deps_edges_free(struct deps_edge *, size_t n);  /* NULL ok */
/* Same edges in the same order (a reload's "has it changed?"). */
bool		 deps_edges_equal(const struct deps_edge *, size_t,
		    const struct deps_edge *, size_t);

const char	*deps_cond_name(enum deps_cond);
int		 deps_cond_parse(const char *, enum deps_cond *);
const char	*deps_on_stop_name(enum deps_on_stop);
const char	*deps_on_restart_name(enum deps_on_restart);

/*
 * What the core observes of a row, reduced to what conditions need.
 * child states map so: starting -> STARTING; running -> RUNNING; waiting,
 * stopping, terminating, restarting, stopped -> DOWN; no row -> ABSENT,
 * unless the row was removed because it ended for good (a temporary
 * child's exit, a transient child's normal exit, not a stop on request):
 * COMPLETED, remembered by name until the name has a row again.
 */
enum deps_phase {
	DEPS_ABSENT,
	DEPS_DOWN,
	DEPS_STARTING,
	DEPS_RUNNING,
	DEPS_COMPLETED
};
#define DEPS_NPHASES	5

/* The health attr (protocol §9.1), or NONE when the row has no probe. */
enum deps_health {
	DEPS_HEALTH_NONE,
	DEPS_HEALTH_UNKNOWN,
	DEPS_HEALTH_HEALTHY,
	DEPS_HEALTH_UNHEALTHY
};

struct deps_obs {
	enum deps_phase		 phase;
	enum deps_health	 health;
	bool			 ok;	/* COMPLETED: in success_exit_codes */
	int			 status;	/* COMPLETED: wait(2) status */
};

/* Is cond met by a dependency observed as o?  (The table in deps.c.) */
bool		 deps_cond_met(enum deps_cond, const struct deps_obs *o);
const char	*deps_phase_name(enum deps_phase);	/* "absent" ... */

/*
 * A growable vector of names (xstrdup'd copies, so that a caller acting
 * on one name may change the graph).  Zero-initialise; deps_names_free
 * releases it, deps_names_clear empties it for reuse.
 */
struct deps_names {
	char	**v;
	size_t	  n;
	size_t	  cap;
};
void	deps_names_clear(struct deps_names *);
void	deps_names_free(struct deps_names *);

/*
 * The graph of the rows of one zone: a node per row, per name a
 * dependency points at, and per remembered completion.  Owned by the
 * core.  At most max_completed completions nobody depends on are
 * remembered (the oldest is forgotten first); completions that rows
 * depend on are kept as long as those rows exist (bounded by the edges).
 */
struct deps_graph;
struct deps_graph	*deps_graph_new(size_t max_completed);
void			 deps_graph_free(struct deps_graph *);	/* NULL ok */

/*
 * A proposed change for deps_check: the row `name` gets these edges (its
 * old ones go), or, with remove, the row goes.
 */
struct deps_change {
	const char		*name;
	const struct deps_edge	*edges;
	size_t			 n;
	bool			 remove;
};

/*
 * Would the graph, with the n changes applied, be valid?  Every edge of a
 * changed row must name a row of the result (or a remembered completion),
 * no row may be named twice by one row, and there must be no cycle
 * through a changed row.  Changes nothing.  0, or -1 with *which the
 * index of the offending change, *edge the index of its offending edge,
 * and *cause a message ("dependency cycle: a -> b -> a") the caller
 * frees.  Used at load (an empty graph and every child), reload (the
 * changed children against the running graph) and start_child (one).
 */
int		 deps_check(const struct deps_graph *,
		    const struct deps_change *, size_t n, size_t *which,
		    size_t *edge, char **cause);

/*
 * Apply: the row `name` exists with these edges (copied; its old edges
 * go).  The caller has checked them with deps_check.  A waiting row
 * whose dependencies are now all met is appended to *met (may be NULL)
 * and no longer waits.
 */
void		 deps_set(struct deps_graph *, const char *name,
		    const struct deps_edge *, size_t n, struct deps_names *met);
/*
 * The row `name` is gone.  It stays COMPLETED (remembered) if it was
 * last observed so, else it is ABSENT to its dependents.
 */
void		 deps_remove(struct deps_graph *, const char *name);
/*
 * The row `name` (it has one) was observed as o.  Only the edges that
 * point at it are evaluated again; every waiting dependent whose last
 * unmet dependency this meets is appended to *met (may be NULL) and no
 * longer waits: the caller starts it.
 */
void		 deps_observe(struct deps_graph *, const char *name,
		    const struct deps_obs *, struct deps_names *met);

/*
 * The row `name` wants to start: true if every dependency is met now
 * (the caller starts it), else false and the row waits (its state is
 * `waiting`) until a deps_observe or deps_set reports it.  Idempotent.
 */
bool		 deps_wait(struct deps_graph *, const char *name);
/* The row no longer waits (stopped or deleted while waiting). */
void		 deps_unwait(struct deps_graph *, const char *name);
/* Are all of name's dependencies met?  (A name without a row: true.) */
bool		 deps_met(const struct deps_graph *, const char *name);
/* Does the row wait (deps_wait returned false, nothing reported yet)? */
bool		 deps_waiting(const struct deps_graph *, const char *name);

/* One unmet dependency, for `gtctl why` and which_children waiting_for. */
struct deps_unmet {
	const char		*name;	/* borrowed: valid until a change */
	enum deps_cond		 cond;
	struct deps_obs		 obs;	/* what the dependency is now */
};
/*
 * The unmet dependencies of `name`, in depends_on order: the first max
 * go to out; returns how many there are in all.
 */
size_t		 deps_unmet(const struct deps_graph *, const char *name,
		    struct deps_unmet *out, size_t max);

/*
 * Which rows an event reaches, transitively, through the edges pointing
 * at `name` (excluding name itself), in stop order (every row before the
 * rows it depends on), appended to *out:
 * DEPS_CL_STOP: along on_stop: stop edges.  A stop on request of name
 * stops these first (they end stopped); a give-up of name stops them
 * too, and they wait for it again.
 * DEPS_CL_RESTART: along on_restart: restart edges: the rows a policy
 * restart of name bounces (stopped, then started when their conditions
 * are met again).
 * DEPS_CL_ALL: along every edge (shutdown stops every dependent first).
 */
enum deps_closure { DEPS_CL_STOP, DEPS_CL_RESTART, DEPS_CL_ALL };
void		 deps_closure(const struct deps_graph *, const char *name,
		    enum deps_closure, struct deps_names *out);
/*
 * Does pred hold for a row of name's closure of kind?  Breadth first,
 * nearest dependents first, and done at the first row it holds for: no
 * order is made, so asking this of a row whose dependents are mostly
 * still up costs a few steps, not the closure.
 */
bool		 deps_closure_any(const struct deps_graph *, const char *name,
		    enum deps_closure, bool (*pred)(const char *, void *),
		    void *arg);

/*
 * An order over a set of rows, as parallel as the graph allows: in a
 * START plan a row goes once every dependency of it in the set is done;
 * in a STOP plan once every dependent of it in the set is done (every
 * edge counts, whatever its on_stop: shutdown stops dependents first).
 * Edges to rows outside the set are ignored.  The plan copies what it
 * needs: the graph may change while it runs.
 */
enum deps_dir { DEPS_START, DEPS_STOP };
struct deps_plan;
struct deps_plan	*deps_plan_new(const struct deps_graph *,
			    const char *const *names, size_t n, enum deps_dir);
void			 deps_plan_free(struct deps_plan *);	/* NULL ok */
/* Append the rows that may go now, each once, to *out; returns how many. */
size_t			 deps_plan_next(struct deps_plan *,
			    struct deps_names *out);
/* name is done (up, or down).  -1 if it is not in the plan or done. */
int			 deps_plan_done(struct deps_plan *, const char *name);
bool			 deps_plan_finished(const struct deps_plan *);
/*
 * The plan's waves at once: level[i] for names[i] (0 goes first); the
 * number of levels.  For display and tests.
 */
size_t			 deps_levels(const struct deps_graph *,
			    const char *const *names, size_t n, enum deps_dir,
			    size_t *level);

#endif /* GT_DEPS_H */
