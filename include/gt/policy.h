/* SPDX-License-Identifier: MIT */
/*
 * policy: what to do when a child exits.  Pure: input -> decision; the
 * caller owns all state.  Never logs.
 */
#ifndef GT_POLICY_H
#define GT_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "gt/spec.h"

enum policy_action {
	POLICY_RESTART,		/* restart after *delay_ms */
	POLICY_STOP,		/* keep the row, state stopped */
	POLICY_DELETE,		/* remove the row */
	POLICY_EXIT_DAEMON	/* stop everything, gtd exits non-zero */
};

/*
 * Restart intensity: the times (ms) of the restarts made recently, in a
 * ring of at most spec->max_restarts entries.  Owned by the child.
 */
struct policy_hist {
	int64_t	*at;
	int	 size;
	int	 n;
	int	 head;
	int	 consecutive;	/* restarts since the backoff reset */
};

struct policy_exit {
	int	 status;	/* wait(2) status */
	bool	 requested;	/* gtd asked it to stop */
	int64_t	 now_ms;	/* monotonic */
	int64_t	 ran_ms;	/* how long the incarnation ran */
	int	 restart_count;	/* before this exit */
	double	 rand01;	/* uniform in [0, 1): backoff jitter */
	bool	 oom;		/* killed by the OOM killer (its cgroup) */
};

/*
 * How an incarnation ended, as clients see it (protocol §4: "reason" in
 * replies and events, "last_exit" in info, the hook's stdin).  Plain
 * data filled by child.c, turned into JSON by proto_exit_reason().
 */
struct policy_reason {
	int		 status;	/* wait(2) status, if has_status */
	bool		 has_status;
	bool		 requested;	/* gtd stopped it (want_down) */
	bool		 escalated;	/* SIGKILL after timeout_ms */
	int		 stop_signal;	/* the first signal gtd sent, or 0 */
	int64_t		 timeout_ms;	/* the stop timeout, if escalated */
	const char	*spawn_errno;	/* NULL, or "ENOENT": start failed */
	const char	*spawn_step;	/* static: spawn_step_name() */
	const char	*spawn_path;	/* borrowed, or NULL */
	bool		 unhealthy;	/* killed by its health probe */
	bool		 oom;		/* killed by the OOM killer (cgroup) */
};

/*
 * Decide what an exit leads to.  For POLICY_RESTART *delay_ms is set and
 * the restart is recorded in h; *gave_up is set when the decision comes
 * from on_give_up.  An on_exit ladder, when the spec has one, replaces
 * the delay, backoff and intensity rules: the exit numbered
 * restart_count + 1 takes the first step whose upto is at least that
 * (or has no upto); past the last step, the child is stopped.
 */
enum policy_action	policy_on_exit(const struct childspec *,
			    struct policy_hist *, const struct policy_exit *,
			    int64_t *delay_ms, bool *gave_up);
void			policy_hist_free(struct policy_hist *);
/*
 * The intensity window on its own (a group's, protocol §9.1, counts the
 * restarts of all its members in one): have max restarts been recorded
 * within period_ms before now?  max <= 0 means no limit (never full).
 * policy_intensity_record records a restart at now (h keeps the last max).
 */
bool			policy_intensity_full(const struct policy_hist *,
			    int max, int64_t period_ms, int64_t now);
void			policy_intensity_record(struct policy_hist *, int max,
			    int64_t now);
const char		*policy_action_name(enum policy_action);

#endif /* GT_POLICY_H */
