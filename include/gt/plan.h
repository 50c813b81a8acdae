/* SPDX-License-Identifier: MIT */
/*
 * plan: what follows when a child's process is gone (an exit, or a start
 * that failed): start it again at once, hold it for its group, or an
 * action (restart after a delay, stop, delete, exit gtd) from the rules
 * of protocol §4 that come before the restart policy, then from the
 * policy.  Pure: input -> decision; child.c owns the row and carries the
 * decision out (the timer, the state, the events).  Never logs.
 */
#ifndef GT_PLAN_H
#define GT_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "gt/policy.h"
#include "gt/spec.h"

enum plan_step {
	PLAN_BOUNCE,		/* restart_child force: start it again now */
	PLAN_HOLD,		/* child_hold: restarting, its group starts it */
	PLAN_ACTION		/* out->action */
};

/* The row as the decision sees it. */
struct plan_in {
	bool	bounce;		/* stopped by restart_child force */
	bool	held;		/* stopped by child_hold */
	bool	delete_after;	/* remove the row once it is down */
	bool	stopping;	/* gtd is shutting down */
	bool	failed;		/* the start failed (not ready, timed out) */
	bool	ever_ready;	/* an incarnation of the row was ready */
	bool	manual;		/* started on request */
};

struct plan_out {
	enum plan_step		step;
	enum policy_action	action;		/* PLAN_ACTION */
	int64_t			delay_ms;	/* POLICY_RESTART */
	bool			gave_up;	/* action is on_give_up's */
};

/*
 * Decide, in this order: a bounce or a hold (unless the row goes or gtd
 * stops); a row to delete; a failed start that was never ready (deleted:
 * no row left behind); a failed start on request (stopped); else
 * policy_on_exit with h and e, which records a restart in h.  Only the
 * last consults the policy.
 */
void	plan_exit(const struct childspec *, struct policy_hist *h,
	    const struct plan_in *, const struct policy_exit *e,
	    struct plan_out *);

#endif /* GT_PLAN_H */
