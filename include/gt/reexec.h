/* SPDX-License-Identifier: MIT */
/*
 * reexec: gtd replaces its program in place (protocol §9.2).  The state
 * goes into a memfd as versioned JSON (REEXEC_FORMAT; unknown keys are
 * ignored, missing ones take their defaults, so an older state restores
 * in a newer gtd), the descriptors it names lose close-on-exec, and gtd
 * execve()s itself: same pid, so every child stays its child.  Before
 * that, the new program checks the state in a forked pre-flight (gtd -C
 * FD), bounded to REEXEC_CHECK_MS and watched from the loop: until it
 * passes, nothing changes and the old program goes on.  Decides, so it
 * logs.  Never blocks the loop (the pre-flight is a process, its end an
 * ev_child).
 */
#ifndef GT_REEXEC_H
#define GT_REEXEC_H

#include <stdbool.h>
#include <stddef.h>

struct cmd_ctx;
struct gtd;
struct reexec;
struct reexec_adopt;

/*
 * What reexec.c owns, one per gtd (gtd->rx): the re-exec in progress,
 * adopt_on_restart's state file and what both need to know about the
 * program.  gtd.c fills in argv, exe, restoring and adopt_on_restart at
 * start, before the loop runs; after that only reexec.c changes them.
 * The core may read restoring and adopt_on_restart, never anything else.
 * Never: makes or changes a row other than through child.c (child_save,
 * child_restore...), or blocks the loop (the pre-flight is a process).
 */
struct reexec_state {
	bool			 restoring;	/* a re-exec's restore */
	bool			 adopt_on_restart; /* the config's, at start */
	struct reexec_adopt	*adopt;		/* its state file, or NULL */
	char			**argv;		/* main's (not owned) */
	char			*exe;		/* owned: a reexec's binary */
	struct reexec		*cur;		/* owned: in progress, or NULL */
	char			*failed;	/* owned: a fallback's why */
};

struct reexec_state	*reexec_state_new(void);
/* After reexec_abandon and reexec_adopt_free.  NULL is fine. */
void			 reexec_state_free(struct reexec_state *);

#define REEXEC_FORMAT		1	/* bump me: the state's "version" */
#define REEXEC_CHECK_MS		5000	/* the pre-flight's bound */
#define REEXEC_STATE_MAX	(1024L * 1024 * 1024)	/* bytes read */

/*
 * The op: check that g may re-exec now, run the pre-flight of path (NULL:
 * g->rx->exe) and, once it passed, execve.  ctx waits (CMD_WAIT): on any
 * failure it gets the error (reexec_failed, naming the reason) and the
 * old program goes on; on success the new program replies.  CMD_ERROR
 * when refused at once (the error is set).
 */
int	reexec_begin(struct cmd_ctx *, const char *path);
/* gtd exits: forget a re-exec in progress (its request too is freed). */
void	reexec_abandon(struct gtd *);
/*
 * Read the state from fd (from offset 0): the text (xmalloc'd, NUL
 * terminated), or NULL and *cause.
 */
char	*reexec_read(int fd, size_t *len, char **cause);
/* gtd -C: would this program restore text?  0, or -1 and *cause. */
int	reexec_check(struct gtd *, const char *text, size_t len, char **cause);
/*
 * gtd -R: g was set up (config, loop, notify) but has no socket and no
 * row.  Take the listening socket, the rows, their processes and fds,
 * the events, and the requester's connection (which gets the reply),
 * then emit the reexec event.  0, or -1 and *cause (nothing was taken
 * then: the caller may run the previous program on the same state).
 */
int	reexec_restore(struct gtd *, const char *text, size_t len,
	    char **cause);
/*
 * The new program failed after the execve and handed back (why, in the
 * environment's REEXEC_FALLBACK_ENV, read and removed by main before
 * anything is spawned): the requester gets reexec_failed with why.
 */
#define REEXEC_FALLBACK_ENV	"GTD_REEXEC_FAILED"
void	reexec_set_failed(struct gtd *, const char *why);
/*
 * gtd -R failed before reexec_restore took anything: execute the program
 * that handed over (kept open by it) with the same state.  Returns only
 * if that is impossible.
 */
void	reexec_fallback(const char *text, size_t len, int statefd,
	    char **argv, const char *why);

/*
 * adopt_on_restart (gtd(8)): the rows, in the same format, in a file
 * next to the socket (SOCKET.state, mode 0600), written at most once per
 * REEXEC_ADOPT_MS after a change (reexec_adopt_dirty) and removed at a
 * clean exit.  reexec_adopt_load, before the boot of a gtd that starts
 * after one that died, takes over each process still there (same pid
 * and start time, through a pidfd: not our child, so no exit status)
 * and puts back the rows whose process is gone to be restarted.
 */
#define REEXEC_ADOPT_MS		1000
void	reexec_adopt_start(struct gtd *);
void	reexec_adopt_dirty(struct gtd *);
void	reexec_adopt_load(struct gtd *);
void	reexec_adopt_free(struct gtd *);	/* clean exit: file removed */

#endif /* GT_REEXEC_H */
