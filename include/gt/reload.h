/* SPDX-License-Identifier: MIT */
/*
 * reload: the config's effect on the running daemon.  boot starts the config's
 * children in order, each after the one before is running, and reports the end
 * through a callback (gtd.c announces readiness, or stops everything on a
 * failure).  reload applies a new config as a diff: new boot children start,
 * removed ones stop, changed specs (and changed templates) take effect at the
 * next start; unchanged children are never touched.  Decides, so it logs.
 */
#ifndef GT_RELOAD_H
#define GT_RELOAD_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct gtd;
struct reload_boot;

/*
 * What reload.c owns, one per gtd (gtd->rl): the active config and the
 * file it came from, the boot in progress, and how the boot's end is
 * announced.  gtd.c fills them in at start, before the loop; after that
 * reload.c alone replaces conf (a reload) and boot, and gtd.c's
 * announcement writes and closes readyfd once.  Others read conf (its
 * templates, groups, access rules) and never keep a pointer into it: a
 * reload frees it.  Never: starts or stops a child other than through
 * child.c, or applies a config that did not validate.
 */
struct reload_state {
	struct config		*conf;		/* owned: active, or NULL */
	char			*path;		/* owned: its file, or NULL */
	struct reload_boot	*boot;		/* owned: running, or NULL */
	int			 readyfd;	/* -r: written once ready */
	bool			 debug;		/* -d: wins over the config */
};

struct reload_state	*reload_state_new(void);
/* After the rows are gone.  NULL is fine. */
void			 reload_state_free(struct reload_state *);

/*
 * What a reload did, or in a dry run would do, by child name:
 *   started    boot children without a row that were started: new in the
 *              config, or changed there since their row went away
 *   stopped    boot children gone from the config: stopped, rows removed
 *   changed    rows whose spec changed (also a template's or the
 *              defaults'): it applies at their next start
 *   unchanged  boot children whose spec did not change: not touched
 *   absent     boot children whose row is gone (a temporary child that
 *              ran, a deleted one) and whose entry did not change: not
 *              started again
 *   failed     boot children whose start failed at once (PATH, fork)
 * and warnings, each a sentence (a template that no longer fits...).
 */
enum reload_what { RELOAD_STARTED, RELOAD_STOPPED, RELOAD_CHANGED,
	RELOAD_UNCHANGED, RELOAD_ABSENT, RELOAD_FAILED, RELOAD_NWHAT };
struct reload_report {
	char	**names[RELOAD_NWHAT];	/* NULL-terminated, owned */
	size_t	  n[RELOAD_NWHAT];
	char	**warnings;		/* NULL-terminated, owned */
	size_t	  nwarnings;
};

/* "started" ... "failed": the reply's keys. */
const char	*reload_what_name(enum reload_what);
/* Free what a report holds (not the struct itself). */
void		 reload_report_free(struct reload_report *);

/*
 * Start g->rl->conf's boot children (taking their specs), one after the
 * other, then call done(g, true) once all are running, or done(g, false)
 * as soon as one fails (its start, or an exit before it was ready).  The
 * caller decides what follows (gtd.c: announce readiness, or shut down
 * with exit status 1).  done is called exactly once, maybe before
 * reload_boot returns.
 */
void	reload_boot(struct gtd *, void (*done)(struct gtd *, bool ok));

/*
 * Re-read g->rl->path and apply it.  0, or -1 with *field and *cause
 * (the caller frees both) when it does not validate: nothing changed.
 * During the boot a valid file is not applied but queued: the boot ends
 * first (every boot child of the old config running), then the file is
 * read again and applied (a failure then is logged).
 */
int	reload_apply(struct gtd *, char **field, char **cause);
/* Is a reload queued until the boot ends? */
bool	reload_queued(const struct gtd *);

/*
 * reload_apply, filling *rep (if not NULL; the caller frees it with
 * reload_report_free; on success every vector is non-NULL).  With
 * dry_run nothing changes at all: the file is read and compared, and
 * *rep says what a reload would do.
 */
int	reload_run(struct gtd *, bool dry_run, struct reload_report *rep,
	    char **field, char **cause);

#endif /* GT_RELOAD_H */
