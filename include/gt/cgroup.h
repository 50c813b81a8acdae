/* SPDX-License-Identifier: MIT */
/*
 * cgroup: cgroup v2 containment (protocol 9.2).  gtd gets a base cgroup
 * for its children, one cgroup per incarnation of a child inside it,
 * created before the start (its descriptor goes to clone3's
 * CLONE_INTO_CGROUP, or the child joins it before exec), killed whole
 * with cgroup.kill, watched for "populated 0" (the end of a stop) and
 * removed once empty; its memory.current, cpu.stat and memory.events
 * give the stats and the OOM kills, and the childspec's limits are
 * written into it.
 *
 * Owns the base cgroup's descriptor and one struct cgroup_child per
 * incarnation.  Never: touches a cgroup outside the base, or follows a
 * symlink (every file is opened relative to a held directory descriptor
 * with O_NOFOLLOW).
 *
 * Layout.  gtd's own cgroup O comes from the "0::" line of
 * /proc/self/cgroup.  Without a configured path the base is
 * O/gtd-<instance> (the instance names the gtd: several may share O).
 * With config "cgroup": PATH the base is PATH.  A child's cgroup is
 * <base>/<name escaped>@<id>: '@' and the escaping (everything but
 * [A-Za-z0-9_-] becomes %XX) keep it from ever clashing with a kernel
 * interface file, which always holds a '.'.  When controllers must be
 * enabled in a cgroup that holds gtd itself (the no-internal-processes
 * rule; not for the root cgroup), gtd first moves itself into the leaf
 * <that cgroup>/supervisor.
 *
 * Every path is opened relative to a directory descriptor, component by
 * component with O_NOFOLLOW, so nothing follows a symlink out of the
 * hierarchy.  Every read is bounded.  Nothing blocks: cgroupfs answers
 * from memory, and emptiness is watched with inotify (IN_MODIFY on
 * cgroup.events) on gtd's loop, or polled on a timer where inotify
 * fails.  Never logs: failures come back as -1 with errno, or with a
 * *cause the caller frees.
 */
#ifndef GT_CGROUP_H
#define GT_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <ev.h>

#include "gt/cglimits.h"	/* CGROUP_CPU, CGROUP_MEMORY, CGROUP_PIDS */

struct cgroup;			/* a base cgroup: opaque */
struct cgroup_child;		/* one child's cgroup: opaque */

#define CGROUP2_MAGIC		0x63677270	/* statfs f_type of cgroup2 */
#define CGROUP_LEAF		"supervisor"	/* gtd's own leaf, if moved */
#define CGROUP_FILE_MAX		4096	/* bytes read of a small file */
#define CGROUP_PROC_MAX		(4 << 20)	/* of /proc/self/mountinfo */
#define CGROUP_NAME_MAX		200	/* escaped name kept in a dir name */
#define CGROUP_DEPTH_MAX	16	/* sub-cgroups a child may nest */
#define CGROUP_POLL_S		0.1	/* poll interval without inotify */

/*
 * Parsers (pure).
 */

/* One cgroup2 mount of /proc/self/mountinfo. */
struct cgroup_mnt {
	char	*mount;		/* mount point (octal escapes undone) */
	char	*root;		/* the cgroup path mounted there: "/" */
};

/*
 * The path of the "0::" line of a /proc/PID/cgroup text in *own
 * (xmalloc'd).  0, or -1 with errno ENOENT when there is none (a host
 * without cgroup2) or EINVAL when the path is not absolute.
 */
int	cgroup_parse_self(const char *text, char **own);

/*
 * Every cgroup2 mount of a mountinfo text, in the text's order: *v is an
 * xmalloc'd array of *n entries (free with cgroup_mnt_free).  Always
 * returns 0; *n is 0 when there is none.
 */
int	cgroup_parse_mountinfo(const char *text, struct cgroup_mnt **v,
	    size_t *n);
void	cgroup_mnt_free(struct cgroup_mnt *, size_t);

/*
 * If path is prefix or below it, component-wise ("/a/b" under "/a" is
 * "/b", "/a" under "/a" is "", nothing but "/" is under "/ab" from
 * "/a"), the rest of path (borrowed, a suffix of path); otherwise NULL.
 */
const char *cgroup_path_under(const char *path, const char *prefix);

/*
 * A child's directory name: name escaped (bytes outside [A-Za-z0-9_-]
 * become %XX, cut to CGROUP_NAME_MAX bytes without splitting an escape),
 * then "@" and id.  xmalloc'd.
 */
char	*cgroup_dirname(const char *name, unsigned long id);

/*
 * The value of key in a flat keyed file ("populated 1\nfrozen 0\n",
 * memory.events, cpu.stat) in *val.  0, or -1 with errno ENOENT (no such
 * key) or ERANGE/EINVAL (not an unsigned decimal).
 */
int	cgroup_parse_keyed(const char *text, const char *key, uint64_t *val);

/* The CGROUP_* bits of a cgroup.controllers or subtree_control text. */
unsigned cgroup_parse_controllers(const char *text);

/*
 * The base cgroup.
 */

/*
 * Called after each directory gtd creates (fake trees: a test plays the
 * kernel and fills in the interface files).  arg is cgroup_opts.arg.
 */
typedef void	cgroup_made_cb(int dirfd, const char *name, void *arg);

struct cgroup_opts {
	struct ev_loop	*loop;		/* for the watcher; NULL: no waits */
	const char	*path;		/* config "cgroup", or NULL */
	const char	*instance;	/* base gtd-<instance>, without path */
	/*
	 * Where the hierarchy is.  mount NULL: found in /proc/self
	 * (mountinfo and cgroup).  Otherwise mount is the directory
	 * standing for the mount point, mroot the cgroup path mounted
	 * there ("/" when NULL), own gtd's cgroup (must be given then).
	 */
	const char	*mount;
	const char	*mroot;
	const char	*own;
	bool		 fake;		/* a plain directory tree: no fs check */
	cgroup_made_cb	*made;		/* NULL, or after each mkdir */
	void		*arg;
};

/*
 * Find the hierarchy, check that gtd may write it, set up the base
 * (created if absent; controllers enabled down to it where they are
 * delegated, moving gtd into a leaf first where the rule needs it).
 * An owned struct cgroup, or NULL with *cause: why containment is off,
 * one line for the log and for stats' "cgroup_off".
 */
struct cgroup	*cgroup_open(const struct cgroup_opts *, char **cause);
/* Close the descriptors and stop the watcher; removes nothing. NULL ok. */
void		 cgroup_free(struct cgroup *);
/*
 * rmdir the base gtd made (gtd-<instance>; never a configured one) if it
 * holds nothing: a clean shutdown.  0, or -1 with errno (EBUSY).
 */
int		 cgroup_remove_base(struct cgroup *);

const char	*cgroup_path(const struct cgroup *);	/* base, file system */
/* Is pid (pinned by a pidfd of the caller's) in the base or below? */
bool		 cgroup_holds(const struct cgroup *, pid_t);
const char	*cgroup_cgpath(const struct cgroup *);	/* base, "0::" form */
/* The CGROUP_* controllers a child's cgroup gets. */
unsigned	 cgroup_controllers(const struct cgroup *);
/*
 * Why controller ctrl (one CGROUP_* bit) is not available, borrowed
 * from cg; NULL when it is.  The signature fits cglimits_check's why
 * (arg is the struct cgroup).
 */
const char	*cgroup_why(unsigned ctrl, void *cg);
/* Did gtd move itself into CGROUP_LEAF? */
bool		 cgroup_moved(const struct cgroup *);

/*
 * The child cgroups in the base (e.g. of a gtd that died): the names of
 * its subdirectories that have the form of cgroup_dirname's, at most max
 * of them.  *names is an xmalloc'd vector of *n xmalloc'd strings.
 * 0, or -1 with errno.
 */
int	cgroup_leftovers(struct cgroup *, size_t max, char ***names,
	    size_t *n);

/*
 * A child's cgroup.
 */

/* populated went 0: the cgroup has no live process left. */
typedef void	cgroup_empty_cb(struct cgroup_child *, void *arg);

/*
 * Create the cgroup of one incarnation of child name (a fresh id each
 * time: EEXIST takes the next) and write its limits (NULL or none set:
 * nothing written).  The owned handle, or NULL with *cause (nothing left
 * behind: a half-made cgroup is removed).
 */
struct cgroup_child *cgroup_child_new(struct cgroup *, const char *name,
		    const struct cglimits *, char **cause);
/*
 * An existing child cgroup of the base by its directory name (a
 * leftover, or one named in the state file).  NULL with *cause.
 */
struct cgroup_child *cgroup_child_open(struct cgroup *, const char *dir,
		    char **cause);
/* Close it and stop watching it; the directory stays.  NULL is fine. */
void		 cgroup_child_free(struct cgroup_child *);

/*
 * The cgroup's directory (O_PATH|O_DIRECTORY, borrowed): for clone3
 * CLONE_INTO_CGROUP, or cgroup_join.  Valid until cgroup_child_free.
 */
int		 cgroup_child_fd(const struct cgroup_child *);
const char	*cgroup_child_dir(const struct cgroup_child *);	/* name@id */
const char	*cgroup_child_path(const struct cgroup_child *); /* fs */
const char	*cgroup_child_cgpath(const struct cgroup_child *); /* 0:: */

/* Write the limits' interface files.  0, or -1 with *cause. */
int	cgroup_child_limits(struct cgroup_child *, const struct cglimits *,
	    char **cause);
/*
 * Kill every process in the cgroup and below: cgroup.kill (Linux 5.14),
 * or where it is missing SIGKILL to each process of cgroup.procs, the
 * sub-cgroups' too, in a few bounded passes.  0, or -1 with errno.
 */
int	cgroup_child_kill(struct cgroup_child *);
/*
 * Send sig to each process of cgroup.procs (and the sub-cgroups'), read
 * in bounded chunks.  0 (also when it was empty), or -1 with errno.
 */
int	cgroup_child_signal(struct cgroup_child *, int sig);
/* 1 if a live process is in it or below, 0 if not, -1 with errno. */
int	cgroup_child_populated(struct cgroup_child *);
/*
 * Call cb(cc, arg) from the loop once populated is 0.  Returns 1 if it
 * is 0 already (cb will not be called), 0 if cb will be called once
 * (unless cgroup_child_unwait or _free come first), -1 with errno (no
 * loop, or cgroup.events cannot be read).  cb may free cc (only cc) but
 * not the struct cgroup.  Again while waiting: cb and arg are replaced.
 */
int	cgroup_child_wait(struct cgroup_child *, cgroup_empty_cb *cb,
	    void *arg);
void	cgroup_child_unwait(struct cgroup_child *);
/*
 * rmdir the cgroup, its sub-cgroups first (bounded by CGROUP_DEPTH_MAX).
 * 0, or -1 with errno (EBUSY: a process is still in it).  The handle
 * stays valid (to be freed).
 */
int	cgroup_child_remove(struct cgroup_child *);

struct cgroup_stats {
	int64_t		 memory_bytes;	/* memory.current; -1: no such file */
	int64_t		 cpu_ms;	/* cpu.stat usage_usec / 1000; -1 */
};
/* Read what exists (missing files give -1); always 0 today. */
int	cgroup_child_stats(struct cgroup_child *, struct cgroup_stats *);
/*
 * The oom_kill count of memory.events (this cgroup and below).  0, or
 * -1 with errno (ENOENT: no memory controller here).
 */
int	cgroup_child_oom_kills(struct cgroup_child *, uint64_t *);

/*
 * The same on any cgroup directory (a descriptor the caller owns): what
 * the child functions above do, for tests and for the base.
 */
int	cgroup_limits_write(int dirfd, const struct cglimits *, char **cause);
int	cgroup_stats_read(int dirfd, struct cgroup_stats *);
int	cgroup_oom_read(int dirfd, uint64_t *);

/*
 * Starting a child inside its cgroup.
 */

struct cgroup_clone {
	int	 cgroup_fd;	/* cgroup_child_fd(); -1: plain fork */
	/*
	 * CLONE_PARENT: the caller's parent is the child's parent and reaps
	 * it; the child's exit signal is then the caller's own (a spawner
	 * made with SIGCHLD gives SIGCHLD), as the kernel wants 0 here.
	 */
	bool	 parent;
	int	*pidfd;		/* non-NULL: CLONE_PIDFD, the pidfd here */
	/*
	 * CLONE_FILES: the child shares the caller's descriptor table
	 * (spawn.c unshares it at once, copying only its low fds).
	 */
	bool	 files;
	/*
	 * stack non-NULL: CLONE_VM.  The child shares the caller's memory
	 * and runs fn(arg) on [stack, stack + stack_size) (16-byte aligned),
	 * and fn never returns; cgroup_clone returns only in the caller.
	 * The kernel zeroes *left (CLONE_CHILD_CLEARTID) once the child no
	 * longer uses that memory: it exec'd or ended.  x86-64 only;
	 * elsewhere -1 with ENOSYS.
	 */
	void	 *stack;
	size_t	  stack_size;
	void	(*fn)(void *);
	void	 *arg;
	int	 *left;
};

/*
 * clone3(2) with CLONE_INTO_CGROUP (Linux 5.7): like fork, the child
 * starts in the cgroup already, so no instant of its life is outside it.
 * Returns 0 in the child, the pid in the parent, or -1 with errno:
 * ENOSYS or E2BIG mean the kernel has no clone3 or no CLONE_INTO_CGROUP
 * (cgroup_clone_unsupported), and the caller forks and calls cgroup_join
 * in the child instead; any other errno (EACCES, EBUSY, EAGAIN from
 * pids.max) is the spawn's failure at step "cgroup" (no child exists).
 *
 * The child of a raw clone3 is not known to the C library (no atfork
 * handlers ran, the thread's cached tid is the parent's): until execve
 * it may make async-signal-safe system calls only, as after _Fork, and
 * never raise(3), abort(3) or stdio.  Exit with _exit(2).  A CLONE_VM
 * child (stack) also shares the caller's thread-local storage, errno
 * included: it may make only raw system calls (no C library function at
 * all) until execve, and must not write any memory but its stack and
 * what the caller gave it.
 */
pid_t	cgroup_clone(const struct cgroup_clone *);
bool	cgroup_clone_unsupported(int err);

/*
 * Join the cgroup: write "0" to its cgroup.procs.  For the child side of
 * a fork when clone3 is unsupported, before it drops privileges.
 * Async-signal-safe (openat, write, close).  0, or -1 with errno.
 */
int	cgroup_join(int cgroup_fd);

#endif /* GT_CGROUP_H */
