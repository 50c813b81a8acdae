/* SPDX-License-Identifier: MIT */
/*
 * childcg: cgroup v2 containment of the children (protocol 9.2), the
 * glue between child.c's state machine and cgroup.c's mechanism.  gtd
 * gets a base cgroup at start (or a reason why not, logged once); each
 * incarnation of a child gets a cgroup of its own, made before the
 * spawn; a stop's SIGKILL is cgroup.kill; the exit of the main process
 * is over only once the cgroup is empty ("populated 0"); then the cgroup
 * is removed.  Every failure of a cgroup system call is logged and falls
 * back to process groups: containment never stops gtd, and a child
 * without limits never fails to start for want of a cgroup.  Never
 * blocks (cgroupfs answers from memory; emptiness comes from the loop).
 */
#ifndef GT_CHILDCG_H
#define GT_CHILDCG_H

#include <stdbool.h>
#include <stdint.h>

struct child;
struct childspec;
struct config;
struct gtd;
struct spawn_plan;

/* How long a drained cgroup may stay populated after cgroup.kill. */
#define CHILDCG_DRAIN_MS	5000
#define CHILDCG_REFRESH_MS	250	/* usage in SQL: at most this old */

/*
 * Set up containment for g (after the socket is bound, so no other gtd
 * has the same instance): config "cgroup" (a path, or false for none),
 * else gtd's own cgroup when it may write it.  Either way one line goes
 * to the log: where the children's cgroups are, or why containment is
 * off.  Cgroups a crashed gtd of the same socket left are killed and
 * removed.  Never fails.
 */
void	 childcg_open(struct gtd *, const struct config *);
/*
 * Free what childcg_open made; after child_free_all.  The base gtd made
 * is removed if empty.  NULL-safe on a g that never opened.
 */
void	 childcg_close(struct gtd *);

/* The base cgroup's path when containment is on, else NULL. */
const char *childcg_base(const struct gtd *);
/* Why containment is off (borrowed), or NULL when it is on. */
const char *childcg_off(const struct gtd *);

/*
 * Can spec's limits be applied here?  0 (also without limits), or -1
 * with *field ("limits.memory_max") and *cause naming the reason (both
 * xmalloc'd, the caller frees).
 */
int	 childcg_check(const struct gtd *, const struct childspec *,
	    char **field, char **cause);

/*
 * Before the spawn of c's next incarnation: make its cgroup, write its
 * limits and set pl->in_cgroup and pl->cgroup_fd.  0 (also when the
 * child runs without a cgroup: containment off, or a failure that is
 * logged and falls back), or -1 with errno when the spec has limits
 * that cannot be applied (logged with the reason; the start fails at
 * step "cgroup").
 */
int	 childcg_prepare(struct child *, struct spawn_plan *pl);
/* After the spawn: a failed one's cgroup is removed (nothing ran). */
void	 childcg_spawned(struct child *, bool ok);
/* The path a failed step "cgroup" used (borrowed), or NULL. */
const char *childcg_path(const struct child *);

/*
 * Signal c's processes through its cgroup: every process of a
 * kill_group child (SIGKILL is cgroup.kill).  true if done; false when
 * the caller signals as before (no cgroup, not kill_group, or a failure,
 * logged), except while its leftovers drain (the main pid is reaped).
 */
bool	 childcg_signal(struct child *, int sig);

/*
 * The main process of c was reaped with status.  true: the exit is
 * deferred, because a kill_group child left processes in its cgroup:
 * they are killed, and resume(c, status) (child_handle_exit, passed in
 * so that this file never calls up into child.c) is called from
 * the loop once the cgroup is empty, or after CHILDCG_DRAIN_MS.  false:
 * go on now (the cgroup is gone, or left to drain on its own for a
 * kill_group false child, whose leftovers live on as without cgroups).
 */
typedef void	childcg_resume_cb(struct child *, int status);
bool	 childcg_exit(struct child *, int status, childcg_resume_cb *);
/* Was c's last incarnation killed by the OOM killer? */
bool	 childcg_oom(const struct child *);

/*
 * memory.current and cpu.stat of c's cgroup (-1: not available).  0, or
 * -1 when c has no cgroup now.
 */
int	 childcg_usage(const struct child *, int64_t *memory_bytes,
	    int64_t *cpu_ms);
/*
 * Write every contained child's usage into the SQL children table, at
 * most once per CHILDCG_REFRESH_MS (a flood of queries costs one pass
 * over the cgroups per interval).
 */
void	 childcg_refresh(struct gtd *);

/* c is freed: its cgroup is left to drain and be removed (NULL ok). */
void	 childcg_free(struct child *);

/*
 * Re-exec: the directory (name@id) of c's cgroup, or NULL; and c's
 * cgroup back from that directory (a failure is logged: the child is
 * then contained by its process group only).
 */
const char *childcg_dir(const struct child *);
void	 childcg_restore(struct child *, const char *dir);
/*
 * adopt_on_restart: may pid (pinned by a pidfd) be one of ours?  With
 * containment on, only if it is in the base cgroup; else true.
 */
bool	 childcg_may_adopt(const struct gtd *, pid_t);
/* Is c's process reaped, its cgroup not yet empty (a short state)? */
bool	 childcg_draining(const struct child *);

#endif /* GT_CHILDCG_H */
