/* SPDX-License-Identifier: MIT */
/*
 * reload: the config's effect on the running daemon.  boot starts the
 * config's children in order, each after the one before is running, and
 * announces readiness only then (a failure stops everything: gtd exits
 * non-zero, unready).  reload applies a new config as a diff: new boot
 * children start, removed ones stop, changed specs (and changed
 * templates) take effect at the next start; unchanged children are never
 * touched.  Decides, so it logs.
 */
#ifndef GT_RELOAD_H
#define GT_RELOAD_H

#include <stdbool.h>

struct gtd;

/*
 * Start g->conf's boot children (taking their specs), then call ready(g)
 * once all are running; on a failure shut down with exit status 1.
 */
void	reload_boot(struct gtd *, void (*ready)(struct gtd *));

/*
 * Re-read g->conf_path and apply it.  0, or -1 with *field and *cause
 * (the caller frees both) when it does not validate: nothing changed.
 * During the boot a valid file is not applied but queued: the boot ends
 * first (every boot child of the old config running), then the file is
 * read again and applied (a failure then is logged).
 */
int	reload_apply(struct gtd *, char **field, char **cause);
/* Is a reload queued until the boot ends? */
bool	reload_queued(const struct gtd *);

#endif /* GT_RELOAD_H */
