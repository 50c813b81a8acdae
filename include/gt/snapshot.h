/* SPDX-License-Identifier: MIT */
/*
 * snapshot: the optional snapshot file of the mirror (protocol §6,
 * config "snapshot").  One repeating ev_timer per daemon: each tick
 * writes the file (registry_snapshot) only if the registry's generation
 * moved since the last write, so an idle gtd writes nothing and a busy
 * one at most once per interval.  The write is synchronous, in the loop,
 * never per request.  Logs a failing write once, and its recovery.
 */
#ifndef GT_SNAPSHOT_H
#define GT_SNAPSHOT_H

#include <stdint.h>

struct gtd;
struct snapshot;

/*
 * Write g's mirror to path (absolute; "path.tmp" is the scratch file)
 * at once, then at most every interval_ms while it changes.  NULL with
 * *cause (xasprintf'd, the caller frees) when the first write fails.
 */
struct snapshot	*snapshot_new(struct gtd *, const char *path,
		    int64_t interval_ms, char **cause);
/* Stop the timer, write the final state if it changed, free. NULL is fine. */
void		 snapshot_free(struct snapshot *);
/*
 * One tick: write if the mirror changed since the last successful write.
 * 0 (written or nothing to do), or -1 (logged; the next tick retries).
 */
int		 snapshot_tick(struct snapshot *);

#endif /* GT_SNAPSHOT_H */
