/* SPDX-License-Identifier: MIT */
/*
 * gtd: the daemon's single context.  Every piece of state hangs off one
 * struct gtd, so a test can build a fresh one.  Lifecycle and the loop
 * glue (signals, the reaper of dead objects, shutdown order) are in
 * loop.c; gtd.c's main is the one place that wires modules together.
 *
 * A pointer here is owned by the module it names (conns: conn.c, cmd:
 * cmd.c, events: event.c, reg: registry.c, ...), which alone changes what
 * it points to; the rows and their indexes are child.c's.  Other modules
 * read through the owner's functions.
 */
#ifndef GT_GTD_H
#define GT_GTD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/resource.h>

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
	struct ev_loop		*loop;		/* EV_DEFAULT */
	const struct child_ops	*ops;
	struct registry		*reg;		/* owned */
	struct snapshot		*snapshot;	/* owned; NULL: none */
	char			*zone;		/* owned */
	char			*socket_path;	/* owned */
	pid_t			 pid;
	struct spawn_inherit	*spawn;		/* owned: spawn.c's */
	struct notify		*notify;	/* owned */
	/* Owned; NULL: no NOTIFY_SOCKET. */
	struct gtd_sd		*sd;
	struct events		*events;	/* owned */
	/* How the core reports up (loop.c's; tests may swap it). */
	const struct child_observer *obs;
	void			*obs_arg;
	struct gtd_limits	 lim;
	struct gtd_stats	 stats;
	int64_t			 started_at;	/* epoch ms */

	struct childtab		*tab;		/* owned: the rows (child.c) */
	struct childdeps	*deps;		/* owned: depends_on, or NULL */
	struct childgroups	*groups;	/* owned: OTP groups, or NULL */

	struct connset		*conns;		/* owned: the transport */
	struct cmd_state	*cmd;		/* owned: the command layer's */
	struct server		*server;	/* owned */
	struct childcg_base	*cgb;		/* owned: containment, or NULL */
	struct gtcluster	*cluster;	/* owned (gtcluster.c), or NULL */

	struct gtd_watchers	*w;		/* owned: loop.c's watchers */
	struct reexec_state	*rx;		/* owned: reexec.c's */
	struct shutdown_state	*shut;		/* owned: shutdown.c's */
	struct reload_state	*rl;		/* owned: reload.c's */
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
