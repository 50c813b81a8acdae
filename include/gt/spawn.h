/* SPDX-License-Identifier: MIT */
/*
 * spawn: fork/exec mechanics only.  Everything the child needs is
 * prepared before fork; between fork and exec only async-signal-safe
 * calls run.  Never logs, never waits (libev reaps).
 */
#ifndef GT_SPAWN_H
#define GT_SPAWN_H

#include <stdbool.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "gt/spec.h"

struct spawn_plan {
	const char	*path;		/* resolved executable */
	char *const	*argv;
	char *const	*envp;
	const char	*cwd;
	bool		 new_session;	/* setsid(): own process group */
	pid_t		 parent;	/* getpid() of gtd, for PDEATHSIG */
	bool		 no_deathsig;	/* outlive gtd (adopt_on_restart) */
	int		 fd_in;		/* dup2'd to 0, 1, 2 */
	int		 fd_out;
	int		 fd_err;
	int		 extra_fd;	/* -1, or dup2'd to extra_target */
	int		 extra_target;	/* >= 3; stays open across exec */
	bool		 set_nofile;	/* restore this RLIMIT_NOFILE */
	struct rlimit	 nofile;
	/* Process attributes (struct childspec's), applied in this order. */
	const struct spec_rlimit *rlimits;
	size_t		 nrlimits;
	bool		 set_nice;
	int		 nice;
	int		 umask;		/* -1: keep */
	bool		 set_gid;
	gid_t		 gid;
	const gid_t	*groups;	/* supplementary, with set_uid */
	int		 ngroups;
	bool		 set_uid;
	uid_t		 uid;
	/*
	 * in_cgroup: start the child in the cgroup of cgroup_fd (an
	 * O_PATH directory) with clone3 CLONE_INTO_CGROUP, or, where the
	 * kernel has no such clone, fork and join it before anything else
	 * (a failure there is SPAWN_STEP_CGROUP).
	 */
	bool		 in_cgroup;
	bool		 join_cgroup;	/* spawn_start's own: the fallback */
	int		 cgroup_fd;
};

/*
 * fork and exec.  Returns the pid and, in *statusfd, the read end of the
 * CLOEXEC exec-status pipe (O_NONBLOCK; the caller owns it): EOF means exec
 * succeeded, a struct spawn_fail says which step failed and why. -1 with errno
 * if pipe or fork failed (no child exists then).  The plan is copied before the
 * fork, so it need not outlive the call.  The process's brk heap is marked
 * MADV_DONTFORK on the way (children never see it), so gtd must fork only
 * through here: a plain fork() would now give a child without a heap.
 */
pid_t	spawn_start(const struct spawn_plan *, int *statusfd);
/*
 * (spawn_start, continued.)  Where the kernel allows, the child shares
 * gtd's descriptor table until its first system call, which unshares it
 * keeping only a few low descriptors (see spawn.c): no spawn copies the
 * table.  gtd keeps its own copies of the child's stdio, extra and
 * status descriptors on those low numbers until spawn_settle() (or a
 * later spawn_start, or a spawn_status_read) sees the child unshare, so
 * the status pipe's EOF and the output pipes' EOF come only after that:
 * call spawn_settle() before waiting for events, and again soon while it
 * says a child is pending (gtd's loop does, in its ev_prepare).  A spawn
 * never waits for an earlier child to be scheduled.
 */
/*
 * (spawn_start, continued.)  Where it can (x86-64, clone3), the child
 * also shares gtd's memory until its exec, on a stack of its own (see
 * spawn.c): the spawn copies no page tables then, and gtd takes no
 * copy-on-write faults afterwards.  Such a stack is reused once its
 * child has exec'd or ended, which the next spawn_start or spawn_settle
 * sees without a system call.
 */
/* How spawn_start made a child. */
enum spawn_via {
	SPAWN_VIA_NONE,		/* no child yet */
	SPAWN_VIA_VM,		/* shared gtd's memory and table until exec */
	SPAWN_VIA_FILES,	/* shared gtd's table until its first call */
	SPAWN_VIA_FORK		/* a fork (or a clone3 into its cgroup) */
};
/* How the last child spawn_start made was made (for tests, logs). */
enum spawn_via	spawn_last_via(void);
/*
 * Drop gtd's copies of the descriptors of every child that no longer
 * shares gtd's table (it unshared, or it ended).  Never waits, never
 * fails.  Whether some child still shares it (look again soon).
 */
bool	spawn_settle(void);
/*
 * gtd is out of descriptors: close the slot sets kept for speed, all but
 * one (those whose child is yet to unshare stay until a later call).
 */
void	spawn_shrink(void);
/*
 * Reserve the low descriptors the spawns use (up to 16 sets of 5 on
 * /dev/null, for the life of the process), now rather than at the first
 * spawn: while gtd's lowest numbers are free, and so that gtd's count of
 * open descriptors does not change later.  Optional and idempotent.
 */
void	spawn_init(void);

/*
 * The step of a start that failed (protocol §4 spawn_failed "step").
 * The child reports the ones after fork through the exec-status pipe;
 * SPAWN_STEP_FORK (pipe, fork) and a program not found on PATH
 * (SPAWN_STEP_EXEC) are known in gtd.  New steps go at the end.
 */
enum spawn_step {
	SPAWN_STEP_EXEC,	/* execve, or the PATH lookup */
	SPAWN_STEP_CHDIR,
	SPAWN_STEP_SETUID,
	SPAWN_STEP_SETGID,
	SPAWN_STEP_SETGROUPS,
	SPAWN_STEP_RLIMIT,
	SPAWN_STEP_NICE,
	SPAWN_STEP_OPEN_STDOUT,
	SPAWN_STEP_OPEN_STDERR,
	SPAWN_STEP_ENV_FILE,
	SPAWN_STEP_CGROUP,
	SPAWN_STEP_SETUP,	/* signals, session, stdio: never expected */
	SPAWN_STEP_FORK		/* gtd's pipe or fork */
};
#define SPAWN_NSTEPS	13

/* What the exec-status pipe carries: err 0 means exec succeeded. */
struct spawn_fail {
	int		 err;
	int		 step;		/* enum spawn_step */
};

/*
 * Read the exec status.  0 with f->err = 0 (exec succeeded) or the
 * child's errno and step; -1 with errno EAGAIN when nothing is there yet.
 */
int	spawn_status_read(int fd, struct spawn_fail *f);

/* The step's wire name ("chdir"); "unknown" out of range. */
const char	*spawn_step_name(int step);

/*
 * Find file in the colon-separated path list (a file with a '/' is used
 * as is).  0 and an xmalloc'd *out, or -1 with errno (ENOENT, EACCES).
 */
int	spawn_resolve(const char *file, const char *pathlist, char **out);

/* The errno's symbolic name ("ENOENT"), or "E<number>". */
const char	*spawn_errno_name(int);

/*
 * What every process gtd starts (a child, a hook, a probe) inherits from
 * gtd, one per gtd (gtd->spawn): its environment, /dev/null for the
 * descriptors it does not get, and the soft RLIMIT_NOFILE gtd had before
 * it raised its own.  Set once at start (gtd.c reads nofile again before
 * the raise; a test may swap env); read-only afterwards.  Never: holds
 * anything of a child's, or a descriptor other than devnull.
 */
struct spawn_inherit {
	char		**env;		/* not owned: environ */
	int		  devnull;	/* owned: /dev/null, O_RDWR */
	struct rlimit	  nofile;	/* the soft limit children get */
};

/* NULL and *cause if /dev/null does not open. */
struct spawn_inherit	*spawn_inherit_new(char **cause);
void			 spawn_inherit_free(struct spawn_inherit *);

#endif /* GT_SPAWN_H */
