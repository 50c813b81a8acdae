/* SPDX-License-Identifier: MIT */
/*
 * gtd: the daemon's single context, so a test can build a fresh one.  It
 * holds the process's identity (the loop, the system calls' table, pid,
 * zone, socket path, start time) and one pointer per module's state,
 * little else.  gtd_new and gtd_free (loop.c) call each owner's
 * constructor and destructor, in an order that frees users first; gtd.c's
 * main is the one place that wires modules together.
 *
 * Each pointer is owned by the module named beside it, which alone
 * allocates, frees and changes what it points to.  Most of these structs
 * are opaque: others use the owner's functions.  The few declared in a
 * header (childtab, spawn_inherit, cmd_state, reload_state, reexec_state,
 * shutdown_state) say there what they own, what they must never do, and
 * which fields others may read or, rarely, set.  Shared rather than
 * owned: lim (the limits in effect: gtd.c sets them at start, reload.c
 * on a reload, all read them), stats (counters, each incremented where
 * its event happens; a re-exec carries them over) and the observer
 * (loop.c's table; a unit test puts its own).
 */
#ifndef GT_GTD_H
#define GT_GTD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <ev.h>

#include "gt/child.h"
#include "gt/limits.h"

struct childdeps;
struct childgroups;
struct childcg_base;
struct cmd_ctx;
struct connset;
struct events;
struct gtd_sd;
struct gtcluster;
struct notify;
struct registry;
struct reload_state;
struct reexec_state;
struct shutdown_state;
struct snapshot;
struct spawn_inherit;
struct cmd_state;
struct gtd_watchers;

struct gtd_stats {
	uint64_t	requests;
	uint64_t	spawns;
	uint64_t	restarts;
	uint64_t	spawn_failures;
	uint64_t	mirror_errors;
};

struct gtd {
	/* The process: set by gtd_new and main, then read-only. */
	struct ev_loop		*loop;		/* EV_DEFAULT */
	const struct child_ops	*ops;		/* system calls; tests fake */
	pid_t			 pid;
	char			*zone;		/* owned */
	char			*socket_path;	/* owned */
	int64_t			 started_at;	/* epoch ms */

	/* Shared (see above). */
	struct gtd_limits	 lim;
	struct gtd_stats	 stats;
	/* How the core reports up (loop.c's; tests may swap it). */
	const struct child_observer *obs;
	void			*obs_arg;

	/* The core and what it stands on. */
	struct childtab		*tab;		/* child.c: the rows */
	struct spawn_inherit	*spawn;		/* spawn.c: what they get */
	struct registry		*reg;		/* registry.c: the mirror */
	struct childcg_base	*cgb;		/* childcg.c, or NULL */

	/* The wire layer's modules. */
	struct connset		*conns;		/* conn.c: the transport */
	struct server		*server;	/* server.c: the listener */
	struct cmd_state	*cmd;		/* cmd.c: requests */
	struct events		*events;	/* event.c: subscriptions */
	struct notify		*notify;	/* notify.c: children's */
	struct gtd_sd		*sd;		/* gtd-sd.c, or NULL */
	struct snapshot		*snapshot;	/* snapshot.c, or NULL */
	struct childdeps	*deps;		/* childdeps.c, or NULL */
	struct childgroups	*groups;	/* childgroup.c, or NULL */
	struct gtcluster	*cluster;	/* gtcluster.c, or NULL */
	struct reload_state	*rl;		/* reload.c: config, boot */
	struct reexec_state	*rx;		/* reexec.c: re-exec, adopt */
	struct shutdown_state	*shut;		/* shutdown.c: the way out */
	struct gtd_watchers	*w;		/* loop.c: signals, reaper */
};

/* Create a context on EV_DEFAULT with an empty registry. */
struct gtd	*gtd_new(const struct child_ops *, char **cause);
void		 gtd_free(struct gtd *);		/* NULL is fine */
/* Install the signal watchers and the reaper (not in unit tests). */
void		 gtd_loop_init(struct gtd *);

/*
 * shutdown.c (below loop.c, so ops and the observer may call these).
 *
 * What it owns, one per gtd (gtd->shut): whether gtd is on its way out,
 * with which exit status, and the backstop timer.  Anyone may read
 * active, forced and exit_code; gtd_shutdown alone sets active and
 * exit_code, and loop.c's signal handler sets forced (a second signal).
 * Never: stops a child other than through child.c, or ends the loop
 * while a process is left.
 */
struct shutdown_state {
	bool		 active;	/* gtd_shutdown was called */
	bool		 forced;	/* a second signal: no more hooks */
	int		 exit_code;	/* gtd's, once the loop ends */
	ev_timer	 timer;		/* the backstop: kills what is left */
};

struct shutdown_state	*shutdown_state_new(void);
/* Stop the timer, free g->shut (if any) and set it to NULL. */
void			 shutdown_state_free(struct gtd *);

/* Begin shutdown: stop every child; the loop ends when all are gone. */
void		 gtd_shutdown(struct gtd *, int exit_code, int64_t timeout_ms);
/*
 * SIGKILL every live child (and its group); with infinity_too also those
 * whose shutdown is "infinity", and every running after_terminate hook.
 */
void		 gtd_kill_all(struct gtd *, bool infinity_too);
/* A process is gone (the observer's proc_gone): finish a shutdown. */
void		 gtd_check_done(struct gtd *);

#endif /* GT_GTD_H */
