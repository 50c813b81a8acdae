/* SPDX-License-Identifier: MIT */
/*
 * childdeps: depends_on at run time (protocol §9.1), the daemon's side
 * of deps.c.  child.c reports every row's additions, state changes and
 * removals through its child_observer (loop.c hands them here) and asks
 * it whether a start or a stop may go on; this module keeps the dependency
 * graph of the zone, holds a start whose dependencies are not met (the
 * row is `waiting`), starts it on the transition of the dependency that
 * meets the last of them (no polling), holds the stop of a dependency
 * until its dependents are down, and bounces dependents on a policy
 * restart or a give-up of their dependency.  Decides, so it logs; never
 * blocks.
 */
#ifndef GT_CHILDDEPS_H
#define GT_CHILDDEPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gt/child.h"
#include "gt/deps.h"

struct childspec;
struct gtd;

/* Free the zone's graph (child_free_all). */
void	childdeps_free(struct gtd *);

/*
 * May a new row with spec s join the running rows?  Every name in its
 * depends_on must be a row (or a remembered completion) and no cycle
 * may pass through it.  0, or -1 with *field ("depends_on.2") and
 * *cause, both xmalloc'd (the caller frees them).
 */
int	childdeps_check(struct gtd *, const struct childspec *s, char **field,
	    char **cause);

/* c was added (child_add) or takes a new spec at its start: its edges. */
void	childdeps_set(struct child *c);
/* c is about to be removed (child_remove). */
void	childdeps_removed(struct child *c);
/*
 * c changed state from old (child_set_state, after the waiters ran):
 * its dependents are evaluated again, the ones it meets start; a stop
 * held for c's dependents may go on; a policy restart or a give-up of c
 * bounces the dependents that ask for it.
 */
void	childdeps_changed(struct child *c, enum child_state old);

/* c's health attr changed: dependents on "healthy" may start. */
void	childdeps_health(struct child *c);

/*
 * c is to start: false if every dependency is met (go on), else true:
 * the caller puts c in CHILD_WAITING, and childdeps starts it later
 * with child_start.
 */
bool	childdeps_hold_start(struct child *c);
/* c no longer waits (stopped or deleted while waiting). */
void	childdeps_unwait(struct child *c);

/*
 * c (alive) is to stop on request: its dependents stop first (along
 * on_stop: stop edges; every edge during shutdown).  true: some are
 * still up, so c's own stop is held (c->want_down set) and done with
 * these arguments once they are all down; false: stop c now.
 */
bool	childdeps_hold_stop(struct child *c, int64_t timeout_ms,
	    bool delete_after);

/*
 * What c waits for: the first max unmet dependencies (borrowed until the
 * next change), and how many there are in all.
 */
size_t	childdeps_unmet(struct gtd *, const char *name,
	    struct deps_unmet *out, size_t max);

#endif /* GT_CHILDDEPS_H */
