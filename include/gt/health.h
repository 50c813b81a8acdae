/* SPDX-License-Identifier: MIT */
/*
 * health: the health probe of a running child (protocol §9.1), on the
 * loop: an exec probe is a process of its own (the child's credentials,
 * its own session, killed at its timeout), tcp and http probes are
 * non-blocking sockets.  The result is the attr "health" (unknown,
 * healthy, unhealthy), each change a health event (event.c);
 * with ready "healthy" the first healthy result makes a starting child
 * ready, and failure_threshold failures in a row kill a running child
 * (its policy then restarts it, reason unhealthy).  A child without a
 * probe costs nothing.  Decides, so it logs; never blocks.
 */
#ifndef GT_HEALTH_H
#define GT_HEALTH_H

struct child;

/* c's process was started: probe it (if its spec has health). */
void		 health_start(struct child *c);
/* c's process is gone (or c goes): stop probing, kill a probe. */
void		 health_stop(struct child *c);
/* "unknown", "healthy", "unhealthy"; NULL: no probe runs. */
const char	*health_state(const struct child *c);

/*
 * Re-exec: probe c again from the state it had (health_state's name;
 * another or NULL: unknown), quietly (no attr write, no event), the
 * next probe after interval_ms.
 */
void		 health_resume(struct child *c, const char *state);

#endif /* GT_HEALTH_H */
