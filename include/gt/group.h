/* SPDX-License-Identifier: MIT */
/*
 * group: OTP supervision groups (protocol §9.1 config "groups").  A
 * group is a set of children (its members, in the order they joined:
 * the start order) with a restart strategy, a restart intensity of its
 * own across all members, a give-up and an automatic shutdown.  Pure:
 * the caller reports member exits and states; this module decides which
 * members to stop and start, and in which order.  No loop, no I/O,
 * never logs.
 *
 * The decisions follow OTP's supervisor (supervisor(3erl)):
 *  one_for_one   only the member that exited is restarted (as without a
 *                group);
 *  one_for_all   every other member is stopped, in reverse start order,
 *                then all are started again in start order;
 *  rest_for_one  the members after it in start order are stopped (in
 *                reverse start order), then it and they are started
 *                again in start order.
 * The strategy applies only when the member's own policy restarts it: a
 * temporary member, a transient member's normal exit and any exit gtd
 * requested restart nothing.  A temporary member stopped by a sibling's
 * group restart is removed, not started again.  Each group restart
 * counts once in the group's window; more than max_restarts within
 * max_period_ms and the group gives up: every member is stopped (reverse
 * start order) and on_give_up applies to all of them.  A significant
 * member (transient or temporary only, and only with auto_shutdown any or
 * all) that ends by itself for good ends the group the same way when
 * auto_shutdown is any, or when it was the last active significant
 * member and auto_shutdown is all.
 */
#ifndef GT_GROUP_H
#define GT_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gt/policy.h"
#include "gt/spec.h"

struct json_t;

enum group_strategy {
	GROUP_ONE_FOR_ONE,
	GROUP_ONE_FOR_ALL,
	GROUP_REST_FOR_ONE
};
enum group_auto { GROUP_AUTO_NEVER, GROUP_AUTO_ANY, GROUP_AUTO_ALL };

#define GROUP_MAX_GROUPS	4096	/* entries of config "groups" */
#define GROUP_MAX_NAME		256	/* bytes of a group's name */
#define GROUP_MAX_MEMBERS	100000

/* One entry of config "groups", every default filled in. */
struct group_conf {
	char			*name;		/* owned */
	enum group_strategy	 strategy;	/* one_for_one */
	int			 max_restarts;	/* 10; 0: no limit */
	int64_t			 max_period_ms;	/* 60000 */
	enum spec_give_up	 on_give_up;	/* stop */
	enum group_auto		 auto_shutdown;	/* never */
};

/*
 * Parse config "groups": an object of name -> {strategy, max_restarts,
 * max_period_ms, on_give_up, auto_shutdown} (all optional; unknown keys
 * and values are errors).  0 and an owned array sorted by name in *out,
 * *n, or -1 with *field ("groups.pool.strategy") and *cause, both
 * xmalloc'd for the caller.
 */
int		 group_conf_parse(const struct json_t *,
		    struct group_conf **out, size_t *n, char **field,
		    char **cause);
/* The normalised entry (without its name).  New reference. */
struct json_t	*group_conf_json(const struct group_conf *);
void		 group_confs_free(struct group_conf *, size_t n); /* NULL ok */
bool		 group_conf_equal(const struct group_conf *,
		    const struct group_conf *);
/* The entry named name in a sorted array, or NULL. */
const struct group_conf *group_conf_find(const struct group_conf *, size_t n,
		    const char *name);

const char	*group_strategy_name(enum group_strategy);
const char	*group_auto_name(enum group_auto);

/*
 * May a child of this restart type, significant or not, join a group of
 * this conf?  OTP's rules: a significant member must be transient or
 * temporary, and a group with auto_shutdown never takes none.  0, or -1
 * with *cause (xmalloc'd) naming the rule.
 */
int		 group_member_check(const struct group_conf *,
		    enum spec_restart, bool significant, char **cause);

/* A group at run time: its conf, members, window and restart sequence. */
struct group_state;
/* conf is copied. */
struct group_state	*group_new(const struct group_conf *);
void			 group_free(struct group_state *);	/* NULL ok */
/* A reload's new conf (the window's history is kept). */
void			 group_set_conf(struct group_state *,
			    const struct group_conf *);
const struct group_conf *group_conf_of(const struct group_state *);

/*
 * name joins the group, last in start order (copied).  0, or -1 with
 * *cause: already a member, group_member_check, or GROUP_MAX_MEMBERS.
 * A member starts inactive.
 */
int		 group_join(struct group_state *, const char *name,
		    enum spec_restart, bool significant, char **cause);
/* name leaves (its row is deleted, or it moved); no-op if not a member. */
void		 group_leave(struct group_state *, const char *name);
/*
 * The caller keeps this current: a member is active while it is meant
 * to run (starting, running, waiting, restarting, stopping for a bounce)
 * and inactive once stopped or ended.  O(members).
 */
void		 group_set_active(struct group_state *, const char *name, bool);
size_t		 group_nmembers(const struct group_state *);
bool		 group_is_member(const struct group_state *, const char *name);
/* The i-th member in start order (borrowed), or NULL past the end. */
const char	*group_member_name(const struct group_state *, size_t i);

/* A member exited; what its own policy decided (policy_on_exit). */
struct group_exit {
	const char		*name;
	enum policy_action	 action;
	bool			 gave_up;	/* policy_on_exit's *gave_up */
	bool			 requested;	/* gtd stopped it */
	bool			 success;	/* in success_exit_codes */
	int			 status;	/* wait(2) status */
	int64_t			 delay_ms;	/* the policy's restart delay */
	int64_t			 now_ms;	/* monotonic */
};

enum group_verdict {
	GROUP_ALONE,		/* the member's own policy, nothing else */
	GROUP_RESTART,		/* a group restart (the sequence below) */
	GROUP_SHUTDOWN,		/* auto_shutdown: stop all, then end */
	GROUP_GIVE_UP,		/* intensity: stop all, then end */
	GROUP_ENDING		/* the group is ending: the member stays
				   down (no restart), the sequence goes on */
};

/*
 * Decide what a member's exit leads to.  GROUP_RESTART, GROUP_SHUTDOWN
 * and GROUP_GIVE_UP replace the group's sequence with a new one, which
 * group_seq_next walks; a new restart takes in every member the one in
 * progress had yet to start, so none is left stopped.  While a sequence
 * that ends the group is in progress, an exit that was not requested is
 * GROUP_ENDING: the member is not restarted, whatever its policy said.  The exiting member must
 * be a member; it counts as inactive from here on unless its policy
 * restarts it.
 */
enum group_verdict	group_decide(struct group_state *,
			    const struct group_exit *);
const char	*group_verdict_name(enum group_verdict);

/*
 * The sequence of a group restart or end, one step at a time:
 *   STOP   stop `name` on request (a no-op if it has no process) and
 *          call group_seq_done(name) once it is down;
 *   REMOVE remove `name`'s row (a temporary member a group restart
 *          stopped), then group_seq_done(name);
 *   DELAY  wait delay_ms (the exiting member's restart delay), then
 *          group_seq_done(NULL);
 *   START  start `name` and call group_seq_done(name) once it is ready
 *          (if it fails instead, its exit comes to group_decide, which
 *          starts a new sequence);
 *   END    the group has ended: apply `end` to every member (stop: they
 *          stay stopped; delete: remove their rows; exit_daemon: gtd
 *          stops everything and exits with exit_code), then
 *          group_seq_done(NULL);
 *   NONE   nothing (left) to do.
 * Stops come in reverse start order, starts in start order.
 */
enum group_step_kind {
	GROUP_STEP_NONE,
	GROUP_STEP_STOP,
	GROUP_STEP_REMOVE,
	GROUP_STEP_DELAY,
	GROUP_STEP_START,
	GROUP_STEP_END
};
struct group_step {
	enum group_step_kind	 kind;
	const char		*name;		/* borrowed, or NULL */
	int64_t			 delay_ms;
	enum spec_give_up	 end;
	int			 exit_code;
};
void		 group_seq_next(const struct group_state *,
		    struct group_step *);
/* The current step is done.  -1 if name does not match it (stale). */
int		 group_seq_done(struct group_state *, const char *name);
const char	*group_step_name(enum group_step_kind);

/*
 * gtd's exit status when a group ends with exit_daemon: the member's
 * exit status, or 128 + the signal that killed it (as a shell reports
 * it); a give-up never exits 0 (then 1).
 */
int		 group_exit_code(int status, bool gave_up);

#endif /* GT_GROUP_H */
