/* SPDX-License-Identifier: MIT */
/*
 * gtd-sd: gtd's side of systemd's notification protocol (sd.c does the
 * wire): READY=1 once the zone is up, STATUS= kept current, STOPPING=1
 * when shutdown begins, WATCHDOG=1 on a timer.  Everything is a no-op
 * when $NOTIFY_SOCKET was not set (g->sd is NULL then, as in the unit
 * tests).  Logs its own failures, once per kind; never blocks.
 */
#ifndef GT_GTD_SD_H
#define GT_GTD_SD_H

#include <stdbool.h>

struct gtd;
struct gtd_sd;

#define GTD_SD_STATUS_S	1.0	/* how often STATUS= is refreshed */

/*
 * Read (and unset) $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID, and
 * set g->sd when there is somebody to notify.  Starts the watchdog timer
 * (every WATCHDOG_USEC / 2).  Call once, after gtd_new() and before any
 * child or hook is started, so that none inherits the variables.  A bad
 * variable is logged and notification stays off; never fails.
 */
void	 gtd_sd_init(struct gtd *);
/*
 * The socket listens and the boot children are started: send READY=1
 * and the first STATUS=, and start the STATUS= timer (a READY=1 that
 * could not be sent is retried from it).
 */
void	 gtd_sd_ready(struct gtd *);
/* Shutdown has begun (gtd_shutdown): send STOPPING=1. */
void	 gtd_sd_stopping(struct gtd *);
/* Stop the timers and close the socket; NULL is fine (gtd_free). */
void	 gtd_sd_free(struct gtd_sd *);
/*
 * A re-exec: put NOTIFY_SOCKET and WATCHDOG_USEC/WATCHDOG_PID back into
 * the environment for the next program (on), or take them out again
 * after an execve that failed (off).
 */
void	 gtd_sd_env(struct gtd *, bool on);

/*
 * The one-line summary sent as STATUS=, xmalloc'd: "0 children",
 * "3 children: 2 running, 1 restarting" (states in protocol order, only
 * those with rows), prefixed with "shutting down, " during shutdown.
 */
char	*gtd_sd_status(struct gtd *);

#endif /* GT_GTD_SD_H */
