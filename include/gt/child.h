/* SPDX-License-Identifier: MIT */
/*
 * child: one supervised row and its state machine (protocol §3).  Owns
 * its ev_child, its one ev_timer (ready, stop or restart deadline, with a
 * generation guard) and its exec-status ev_io.  child_set_state() is the
 * only writer of c->state and mirrors every change into the registry.
 * Decides, so it logs (once, where it decides).  Never blocks.
 */
#ifndef GT_CHILD_H
#define GT_CHILD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include <ev.h>

#include "gt/policy.h"
#include "gt/registry.h"
#include "gt/spec.h"

struct childcg;
struct childlog;
struct health;
struct gtd;
struct spawn_plan;

enum child_state {
	CHILD_STARTING,		/* forked, not yet ready */
	CHILD_RUNNING,		/* ready */
	CHILD_STOPPING,		/* stop signal sent, waiting for the exit */
	CHILD_TERMINATING,	/* gone, after_terminate in progress */
	CHILD_RESTARTING,	/* a restart delay is armed */
	CHILD_STOPPED,		/* spec kept, not running */
	CHILD_WAITING		/* to start once its depends_on are met */
};
#define CHILD_NSTATES	7

/* Why the last start of an incarnation failed before it was ready. */
enum child_fail {
	CHILD_FAIL_NONE,
	CHILD_FAIL_SPAWN,	/* fork or exec failed: fail_errno */
	CHILD_FAIL_EXITED,	/* died before ready: last_status */
	CHILD_FAIL_TIMEOUT	/* not ready in time */
};

/*
 * The spawn seam (dinit's bp_sys): child.c spawns and kills only through
 * these, so unit tests can pass fakes.
 */
struct child_ops {
	pid_t	(*spawn)(const struct spawn_plan *, int *statusfd);
	int	(*kill)(pid_t, int);
	/*
	 * A pidfd of pid (O_CLOEXEC), or -1 with errno (ENOSYS: no such
	 * call).
	 */
	int	(*pidfd_open)(pid_t);
};
extern const struct child_ops child_real_ops;

struct child;
struct value;
/*
 * The core's only way up (dinit's service_listener): what the rest of
 * gtd learns from the children, and the few services it lends them.
 * loop.c fills one in (gtd_new: g->obs, g->obs_arg); the core never
 * names the events, the hooks' JSON, the notify sockets or the loop.
 * Every member may be NULL.  Called from inside child.c's transitions,
 * where the direct calls used to be: a callback must not free c
 * (child_remove defers anyway) and must not block.  arg is g->obs_arg.
 */
struct child_observer {
	/* c->state changed from old (after the mirror, before waking). */
	void	(*state)(struct child *c, enum child_state old, void *arg);
	/* The policy gave up on c (action: policy_action_name). */
	void	(*gave_up)(struct child *c, const char *action, void *arg);
	void	(*hook_done)(struct child *c, int status, void *arg);
	void	(*removed)(struct child *c, void *arg);
	/*
	 * n attrs of c were written at once (the table and the mirrors
	 * have them, the waiters were woken): vals[i] is the new value of
	 * keys[i]; vals NULL: the keys were deleted.  Not called when an
	 * incarnation's attrs are cleared (its state change says so).
	 */
	void	(*attrs)(struct child *c, const char *const *keys,
		    const struct value *vals, size_t n, void *arg);
	/* One line of c's output (stream "stdout", "stderr" or "hook"). */
	void	(*output)(struct child *c, const char *stream, int64_t at,
		    const char *line, size_t len, void *arg);
	/*
	 * The after_terminate hook's stdin: an fd (O_CLOEXEC, at offset 0)
	 * holding the payload of protocol §4, or -1 with errno.
	 */
	int	(*hook_stdin)(struct child *c, void *arg);
	/*
	 * c's own notify socket (NOTIFY_SOCKET): open it (0, or -1 with
	 * errno), its path (NULL: none), close it (none is fine).
	 */
	int	(*notify_open)(struct child *c, void *arg);
	const char *(*notify_path)(const struct child *c, void *arg);
	void	(*notify_close)(const struct child *c, void *arg);
	/* A process (child or hook) is gone: a shutdown may be done. */
	void	(*proc_gone)(void *arg);
	/* c's policy says the daemon exits (restart=exit-daemon). */
	void	(*exit_daemon)(struct child *c, void *arg);
	/*
	 * Relationships and health (protocol §9.1; each may be NULL).
	 * added: c was added, or takes a new spec at a start (its
	 * depends_on).  hold_start: c is to start; true: not yet, c
	 * becomes waiting and is started later with child_start.  unwait:
	 * c stops waiting (stopped or deleted).  hold_stop: c is to stop
	 * on request; true: later (its dependents first), with these
	 * arguments, and c->want_down is set meanwhile.  spawned: c's
	 * process was started (its attrs are set); reaped: it is gone, or
	 * c is freed (its probe stops).
	 */
	void	(*added)(struct child *c, void *arg);
	bool	(*hold_start)(struct child *c, void *arg);
	void	(*unwait)(struct child *c, void *arg);
	bool	(*hold_stop)(struct child *c, int64_t timeout_ms,
		    bool delete_after, void *arg);
	void	(*spawned)(struct child *c, void *arg);
	void	(*reaped)(struct child *c, void *arg);
	/*
	 * OTP groups (protocol §9.1 "groups"; may be NULL).  decided: c's
	 * exit (or failed start) was decided by its policy: a, with
	 * delay_ms for a restart, gave_up if by intensity or ladder.
	 * Returns the action to take instead (or a).  *held set: a
	 * restart its group does (c becomes restarting without a timer,
	 * and is started later with child_start_policy).  Must not change c's
	 * state or any other row's: the group acts on the state change
	 * that follows.
	 */
	enum policy_action (*decided)(struct child *c, enum policy_action a,
		    int status, int64_t delay_ms, bool gave_up, bool *held,
		    void *arg);
};

/*
 * A waiter is woken (once, then forgotten) at the next state change of
 * its child, including removal (CHILD_DEAD).  The callback may change the
 * child's state or add itself again.
 */
typedef void	child_wake_cb(struct child *, void *arg);
TAILQ_HEAD(child_waiters, child_waiter);
struct child_waiter {
	child_wake_cb			*cb;
	void				*arg;
	bool				 queued;
	/* While queued: the list it is on (a wake moves it to its own). */
	struct child_waiters		*list;
	TAILQ_ENTRY(child_waiter)	 entry;
};

/* One env_files entry as read at a start: the keys, never the values. */
struct child_envfile {
	char		*path;		/* the entry as in the spec */
	bool		 missing;	/* "-PATH" that did not exist */
	char		**keys;		/* NULL-terminated */
};
struct child_envinfo {
	struct child_envfile	*f;
	size_t			 n;
};

/*
 * Fields are ordered so that the struct has no holes: with thousands of
 * rows its size is most of gtd's memory per child besides the mirror.
 */
struct child {
	struct gtd		*gtd;		/* weak */
	/* Held (spec_hold), maybe shared with other rows: read-only. */
	struct childspec	*spec;
	struct childspec	*next_spec;	/* owned: at the next start */
	char			*next_json;	/* owned: its normalised text */
	char			*inst_json;	/* owned: as asked (template) */
	TAILQ_ENTRY(child)	 qentry;	/* gtd->start_queue */
	const char		*name;		/* after the struct */
	enum child_state	 state;
	pid_t			 pid;		/* -1 when no process */
	pid_t			 last_pid;	/* of the last incarnation */
	unsigned		 incarnation;	/* +1 per spawn */
	unsigned		 gen;		/* +1 per timer arm */
	int			 restart_count;
	struct policy_hist	 hist;
	enum child_fail		 fail;		/* of this incarnation */
	int			 fail_errno;
	int			 fail_step;	/* enum spawn_step */
	/* How the last incarnation ended (see child_reason). */
	int			 last_spawn_errno;	/* 0: it spawned */
	int			 last_spawn_step;
	int			 last_stop_sig;	/* first signal sent, or 0 */
	char			*fail_path;	/* owned, or NULL */
	char			*last_spawn_path;	/* owned, or NULL */
	int64_t			 stop_timeout_ms;	/* of the stop */
	int64_t			 last_timeout_ms;
	int64_t			 restart_at;	/* epoch ms; 0: none due */
	int64_t			 fence;		/* GTD_FENCE, or 0: none */

	int64_t			 started_at;	/* epoch ms */
	int64_t			 ready_at;
	int64_t			 exited_at;
	int			 last_status;	/* wait(2) status */
	int			 stop_sig;	/* of the stop in progress */
	int			 statusfd;	/* exec-status pipe, or -1 */
	int			 readyfd;	/* ready {"fd":N} pipe, or -1 */
	pid_t			 hook_pid;	/* after_terminate, or -1 */
	int			 hook_statusfd;
	int			 pidfd;		/* adopted only, or -1 */
	unsigned		 timer_gen;
	int			 refs;
	int			 flags;
#define CHILD_DEAD	0x1			/* removed, freed at refs==0 */

	/* Flags: bits, as there is one struct per row. */
	bool			 boot:1;	/* a child of the config */
	bool			 queued:1;	/* waits for a start slot */
	bool			 counted:1;	/* in gtd->nstarting */
	bool			 want_down:1;	/* gtd asked it to stop */
	bool			 delete_after:1;	/* remove once reaped */
	bool			 escalated:1;	/* SIGKILL sent */
	bool			 has_exit:1;
	bool			 last_requested:1;
	bool			 last_escalated:1;
	bool			 adopted:1;	/* not our child: pidfd */
	bool			 ever_ready:1;	/* some incarnation was ready */
	bool			 manual:1;	/* started on request */
	bool			 gave_up:1;	/* by intensity or ladder */
	bool			 bounce:1;	/* start again once down */
	bool			 held:1;	/* down: its group starts it */
	bool			 released:1;	/* output still read (dead) */
	bool			 unhealthy:1;	/* killed by its probe */
	bool			 last_unhealthy:1;

	ev_io			 statusw;
	ev_io			 readyw;
	/*
	 * One watcher at a time: the reap of the process (cw), the reap of
	 * its after_terminate hook (which runs only once the process is
	 * gone), or the pidfd of an adopted process (never either of those
	 * until it is gone too).  Each use initialises it afresh.
	 */
	union {
		ev_child	 cw;
		ev_child	 hookw;
		ev_io		 pidw;
	};
	ev_timer		 timer;
	struct child_waiters	 attr_waiters;	/* getattr wait_ms */
	struct child_waiters	 waiters;
	struct childlog		*log;		/* owned, or NULL: output */
	struct health		*health;	/* owned (health.c), or NULL */
	/* Static: the health attr's value, or NULL: no probe (health.c). */
	const char		*health_name;
	struct childcg		*cg;		/* owned, or NULL: childcg.c */
	/* What its env_files gave at the last start, or NULL (info). */
	struct child_envinfo	*envinfo;

	struct child		*next_name;	/* hash chains */
	struct child		*next_pid;
	TAILQ_ENTRY(child)	 entry;		/* gtd->children or dead list */
};
TAILQ_HEAD(child_list, child);

/*
 * The rows, child.c's alone (gtd->tab): other modules read them (walk
 * children, read the counts) and change them only through child.c.
 */
struct childtab {
	struct child_list	 children;	/* every row, in start order */
	struct child_list	 dead_children;	/* gone, still referenced */
	struct child		**by_name;	/* hash buckets */
	struct child		**by_pid;
	size_t			 nbuckets;
	int			 nchildren;
	int			 nprocs;	/* rows with a live process */
	int			 nstarting;	/* forked, not yet ready */
	int			 nreleased;	/* released, output read */
	/*
	 * Over max_starting, or past the iteration's spawn slice: first in,
	 * first out, but the rows a dependency's transition releases go
	 * first (child_queue_released), in their order after qmark.
	 */
	struct child_list	 start_queue;
	struct child		*qmark;		/* this release's last, or NULL */
	int			 releasing;	/* child_release_begin..end */
	ev_idle			 start_idle;	/* poll without sleeping */
	ev_check		 start_check;	/* a slice after each poll */
	unsigned int		 slice_iter;	/* the loop iteration ... */
	ev_tstamp		 slice_at;	/* ... and its first spawn */
	/* The rows' specs, one of each, chained by share_next (child.c). */
	struct childspec	**specs;
	size_t			 nspecbuckets;
	size_t			 nspecs;
};

/*
 * Create a stopped row for spec and mirror it (both taken, even on
 * failure).  spec_json, the spec's normalised text, is only freed: the
 * mirror makes the text of c->spec when a query reads it (registry
 * spec source), so no copy of it is kept per child.  NULL with errno
 * EEXIST if the name exists, ENOSPC past max_children.  The row keeps
 * the name and holds an equal spec another row holds, if any (spec is
 * freed then): the caller uses c->spec and c->name, never spec, after
 * the call.  child_adopt and child_restore take spec so too.
 */
struct child	*child_add(struct gtd *, struct childspec *spec,
		    char *spec_json);
struct child	*child_find(struct gtd *, const char *name);
struct child	*child_find_pid(struct gtd *, pid_t);
/*
 * The child a process belongs to: itself, or the leader of its session
 * or process group (read from /proc; a kill_group child leads both).
 */
struct child	*child_find_owner(struct gtd *, pid_t);

/*
 * Start a process for a row that has none (stopped or restarting).  The
 * row becomes starting, or running at once for exec readiness when the
 * exec status arrives.  0, or -1 with errno when fork/pipe/PATH lookup
 * failed: then the start failure is recorded in c->fail, waiters woken,
 * and the row decided as for any start that failed before it was ready
 * (protocol §4): a row that was never ready is removed; a start on
 * request (from stopped) leaves it stopped; a policy restart (from
 * restarting) goes to the policy.  A start on request also resets the
 * restart intensity window and the backoff.
 */
int		 child_start(struct child *);
/*
 * Bracket the starts of the waiting rows one transition releases: they
 * keep their order among themselves, before every row queued earlier.
 */
void		 child_release_begin(struct gtd *);
void		 child_release_end(struct gtd *);
/*
 * (child_start, continued.)  A row whose depends_on are not all met does
 * not fork: it becomes waiting (no process), and starts, as the start it
 * waits for (on request or by policy), once they are (childdeps.c).
 * child_start of a waiting row is that start.
 */

/*
 * (child_start, continued.)  child_start_policy: a start of a stopped or
 * restarting row as a restart by its supervisor (a group restart): the
 * restart intensity window and the backoff are kept, and a start that
 * fails goes to the policy as a policy restart's would.
 */
int		 child_start_policy(struct child *);

/*
 * c is to be started again by its group (an OTP group restart): alive,
 * it is stopped on request and, once down, waits in restarting without
 * a timer; restarting or waiting, it waits so (its own restart timer or
 * its wait is cancelled); stopped, or stopping on request already,
 * nothing.  The group starts it with
 * child_start_policy.  A stop on request meanwhile (child_stop) wins:
 * the row ends stopped.
 */
void		 child_hold(struct child *);

/*
 * restart_child force: start c again on request, in one step.  Stopped
 * or restarting: child_start now.  Starting (in the start queue only),
 * nothing to do.  Otherwise the process is stopped as by child_stop
 * (requested) and, once it is reaped and its hook has run, started
 * again without passing through stopped.  0, or -1 as child_start.
 */
int		 child_restart(struct child *);

/*
 * Stop the process: the spec's shutdown signal, then SIGKILL after its
 * timeout (timeout_ms >= 0 overrides it).  Pending restarts are cancelled;
 * the row ends stopped, or removed if delete_after or temporary.  No-op
 * for a row without a process except cancelling a restart.
 */
void		 child_stop(struct child *, int64_t timeout_ms,
		    bool delete_after);

/* Remove the row (must have no process): deferred free. */
void		 child_remove(struct child *);

/* Handle the reap of c's process (the ev_child entry point for tests). */
void		 child_handle_exit(struct child *, int status);
/*
 * Handle the exec status: err 0 = exec ok, else the errno of step (enum
 * spawn_step).  Test entry point too.
 */
void		 child_handle_exec(struct child *, int err, int step);
/* Handle the reap of the after_terminate hook.  Test entry point too. */
void		 child_handle_hook_exit(struct child *, int status);
/* The one timer fired (ready/watchdog/stop/hook/restart deadline). */
void		 child_handle_timer(struct child *);

/*
 * Its health probe failed failure_threshold times: kill a running c
 * (not a stop on request: its policy decides, reason unhealthy).
 */
void		 child_unhealthy(struct child *);
/* The credentials and process attributes of s into a spawn plan. */
void		 child_plan_attrs(const struct childspec *s,
		    struct spawn_plan *);
/* Readiness by notify READY=1 or the ready fd: starting -> running. */
void		 child_ready(struct child *);
/* sd_notify WATCHDOG=1: the watchdog deadline starts again. */
void		 child_watchdog_kick(struct child *);
/* sd_notify STATUS=text: kept as attr "status". */
void		 child_set_status(struct child *, const char *);

/* Send a signal to the child (its group with kill_group).  0 or -1. */
int		 child_kill(struct child *, int sig);
/*
 * Stop supervising: the row goes, the process keeps running.  Output gtd
 * captures (log or file) is still read, and logged or written, until the
 * process closes it, so it never gets SIGPIPE.  At most max_children
 * released children may be writing so: -1 with ENOSPC beyond that
 * (nothing changed), else 0.
 */
int		 child_release(struct child *);
/* A pipe of c's captured output reached EOF (childlog tells). */
void		 child_output_closed(struct child *);

/*
 * Why c's current incarnation could not start, for messages: "chdir
 * /nonexistent: No such file or directory" (c->fail == CHILD_FAIL_SPAWN).
 */
const char	*child_fail_text(const struct child *, char *buf, size_t size);

/* How c's last incarnation ended, for proto_exit_reason (borrowed). */
void		 child_reason(const struct child *, struct policy_reason *);
/*
 * Adopt a process gtd did not start (its pidfd is taken).  The row is
 * running; when the process dies it is removed, or restarted by policy
 * if the spec has a cmd.  NULL with errno EEXIST/ENOSPC.
 */
struct child	*child_adopt(struct gtd *, struct childspec *, char *spec_json,
		    pid_t pid, int pidfd);

/* attrs of c changed: wake the attr waiters. */
void		 child_attrs_changed(struct child *);
/*
 * The one writer of a row's attrs (setattr, increment, delattr, STATUS=,
 * the spec's attrs at each start): the table and its SQL and
 * shared-memory mirrors (registry), then the attr waiters, then the
 * observer's attrs (an `attr` event).  The caller checked the limits.
 * Set n keys at once (readers of the mirror see all or none): 0, or -1
 * when the mirror failed (counted and logged; the waiters and the
 * observer still learn of what was written).
 */
int		 child_attr_set(struct child *, const char *const *keys,
		    const struct value *vals, size_t n);
/* Delete key: 0 (*found says whether it was there), or -1 as above. */
int		 child_attr_del(struct child *, const char *key, bool *found);
/*
 * Add by to the integer attr key (registry_attr_incr): 0 with *how and,
 * when *how is REGISTRY_INCR_OK, *result; -1 when the mirror failed
 * (registry_errmsg says why; the caller reports it).
 */
int		 child_attr_incr(struct child *, const char *key, int64_t by,
		    const int64_t *dflt, int64_t *result,
		    enum registry_incr *how);
void		 child_wait_attrs(struct child *, struct child_waiter *);

void		 child_wait(struct child *, struct child_waiter *);
/* Forget a waiter (of either list); fine if it is not queued. */
void		 child_unwait(struct child *, struct child_waiter *);

void		 child_ref(struct child *);
void		 child_unref(struct child *);

bool		 child_is_alive(const struct child *);	/* has a process */
const char	*child_state_name(enum child_state);
int		 child_state_parse(const char *, enum child_state *);

/*
 * gtd's rows (gtd->tab), empty, and its start queue (max_starting);
 * gtd_new calls it.  child_tab_free after child_free_all.
 */
void		 child_tab_new(struct gtd *);
void		 child_tab_free(struct gtd *);

/* Free every removed child whose refs dropped to 0 (the reaper). */
void		 child_reap_dead(struct gtd *);
/* Free everything at exit (no waiters may remain). */
void		 child_free_all(struct gtd *);

/*
 * A row as a re-exec keeps it (reexec.c): plain values, so the format
 * does not depend on struct child's layout.  child_save fills one from
 * c (fds and strings borrowed); child_restore makes a row of it.
 */
struct child_saved {
	enum child_state	 state;
	pid_t			 pid;		/* -1: no process */
	pid_t			 last_pid;
	unsigned		 incarnation;
	int			 restart_count;
	int			 hist_size;	/* hist_at[hist_size] */
	int			 hist_n;
	int			 hist_head;
	int			 hist_consecutive;
	int64_t			*hist_at;	/* borrowed */
	bool			 has_exit;
	int			 last_status;
	bool			 last_requested;
	bool			 last_escalated;
	bool			 last_unhealthy;
	int			 last_stop_sig;
	int64_t			 last_timeout_ms;
	int			 last_spawn_errno;
	int			 last_spawn_step;
	const char		*last_spawn_path;	/* borrowed, or NULL */
	int64_t			 started_at;
	int64_t			 ready_at;
	int64_t			 exited_at;
	int64_t			 restart_at;
	int64_t			 stop_timeout_ms;
	int			 stop_sig;
	bool			 boot;
	bool			 manual;
	bool			 ever_ready;
	bool			 gave_up;
	bool			 want_down;
	bool			 delete_after;
	bool			 escalated;
	bool			 bounce;
	bool			 unhealthy;
	bool			 adopted;	/* watched by pidfd */
	int64_t			 deadline;	/* mono ms of its timer; 0 */
	int			 statusfd;	/* exec status, or -1 */
	int			 readyfd;	/* ready pipe, or -1 */
	int			 pidfd;		/* adopted only, or -1 */
};

/*
 * Can c be saved now?  Not with an after_terminate hook running or its
 * cgroup draining (short states): NULL, else why not (static text).
 */
const char	*child_save_busy(const struct child *);
void		 child_save(const struct child *, struct child_saved *);
/*
 * A row for spec (taken, as child_add) in the saved state sv, its fds
 * taken: the process is watched again (ev_child: still our child, so
 * an exit during the re-exec is reaped after it; pidfd if adopted),
 * the timer armed at its deadline.  No event, no attr reset, no start:
 * a queued or waiting row is restored stopped and *restart set, for
 * the caller to start it once every row is back.  NULL with errno as
 * child_add (the fds are closed).
 */
struct child	*child_restore(struct gtd *, struct childspec *spec,
		    char *spec_json, const struct child_saved *sv,
		    bool *restart);
/* Attach the read end fd (taken) of c's output i, as a spawn does. */
void		 child_restore_output(struct child *, int i, int fd,
		    bool shared);

#endif /* GT_CHILD_H */
