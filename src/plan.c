/* SPDX-License-Identifier: MIT */
/*
 * plan: the decision after a child's process is gone (see plan.h).
 * Pure; never logs.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>

#include "gt/plan.h"
#include "gt/policy.h"

void
plan_exit(const struct childspec *s, struct policy_hist *h,
    const struct plan_in *in, const struct policy_exit *e,
    struct plan_out *out)
{
	out->action = POLICY_STOP;
	out->delay_ms = 0;
	out->gave_up = false;
	out->step = PLAN_ACTION;
	if (in->bounce && !in->delete_after && !in->stopping) {
		out->step = PLAN_BOUNCE;
		return;
	}
	if (in->held && !in->delete_after && !in->stopping) {
		out->step = PLAN_HOLD;
		return;
	}
	if (in->delete_after)
		out->action = POLICY_DELETE;
	else if (in->failed && !in->ever_ready)
		out->action = POLICY_DELETE;	/* leave no row behind */
	else if (in->failed && in->manual)
		out->action = POLICY_STOP;	/* a start on request failed */
	else
		out->action = policy_on_exit(s, h, e, &out->delay_ms,
		    &out->gave_up);
}
