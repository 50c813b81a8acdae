/* SPDX-License-Identifier: MIT */
/*
 * spawn: fork/exec mechanics only (house style 3.6).  The parent prepares
 * every string before fork and packs them where the child can see them
 * (gtd's heap is not forked); the child runs only async-signal-safe
 * calls, then execs or reports its errno through the CLOEXEC status pipe.
 * Never logs, never waits: libev reaps.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gt/cgroup.h"
#include "gt/spawn.h"
#include "gt/xmalloc.h"

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE	(1U << 1)
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC	(1U << 2)
#endif

/* The kernel's struct sigaction (rt_sigaction), not glibc's. */
struct spawn_ksigaction {
	void		(*handler)(int);
	unsigned long	  flags;
	void		(*restorer)(void);
	uint64_t	  mask;
};

static void	spawn_exec(const struct spawn_plan *, int)
		    __attribute__((noreturn));
static int	spawn_cloexec_from(int);
static int	spawn_attrs(const struct spawn_plan *, int *);
static size_t	spawn_pack_size(const struct spawn_plan *);
static void	spawn_pack(const struct spawn_plan *, struct spawn_plan *,
		    char *);
static void	spawn_heap_dontfork(void);
static pid_t	spawn_fork(void);
static pid_t	spawn_clone(struct spawn_plan *);
static bool	spawn_slots_init(void);
static pid_t	spawn_shared(const struct spawn_plan *, int *);

/*
 * The child sees only a packed copy of its plan (on the stack, or in a
 * mapping of its own when large), because gtd's heap is not copied into
 * children at all (MADV_DONTFORK): a fork then copies the page tables of
 * the stack and the libraries' data only, and gtd's later writes to its
 * heap take no copy-on-write faults.  Both costs grew with gtd's size
 * and were most of a spawn's time.  This needs _Fork (glibc 2.34): fork
 * runs atfork handlers in the child, and glibc's touch the heap.
 */
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
#define SPAWN_DONTFORK	1
#else
#define SPAWN_DONTFORK	0
#endif
#define SPAWN_PACK_STACK	16384	/* bytes; larger plans are mapped */
#define SPAWN_MMAP_THRESHOLD	(32 << 20)	/* glibc's maximum */

/*
 * The part of the heap marked so far: [lo, hi).  A mutable global, which
 * house style 3.1 otherwise rules out: the heap is the process's, not a
 * struct gtd's.
 */
static uintptr_t	spawn_heap_lo, spawn_heap_hi;

/*
 * The descriptor table is not copied either.  A fork copies the whole table (a
 * reference to every open file: three per child with captured output) and the
 * exec then closes all those copies again, so a spawn cost more the more
 * children ran (1.35 to 1.6 times as much CPU per spawn at 5000 children as at
 * 1000, measured).  Instead the child shares gtd's table (CLONE_FILES) for an
 * instant: gtd first puts the descriptors the child needs on a set of a few low
 * numbers of its own (a slot set, reserved on /dev/null at start: spawn_init),
 * the child's first system call is close_range(slot_end, ~0U,
 * CLOSE_RANGE_UNSHARE), which gives it a table of its own holding only the
 * descriptors below slot_end, and it then writes one byte on its status pipe.
 * gtd never changes a set's slots while its child may still share the table:
 * the set stays busy until that byte (or the child's end, through a pidfd) is
 * seen, and only then gets /dev/null back, which drops gtd's copies of the
 * child's descriptors.  gtd never waits for a child to be scheduled: on a
 * machine whose CPUs are busy that wait can be long, and gtd once blocked in
 * it for the whole of a start wave (hundreds of ms while 111 dependents
 * started, W-deps).  A spawn takes an idle set; a busy set is freed by
 * spawn_settle(), which looks without waiting (at each spawn, at each status
 * read, and before gtd's loop sleeps; the loop looks again a moment later
 * while a set is busy); when every set is busy, that one spawn forks as
 * before.  SPAWN_NSETS sets where RLIMIT_NOFILE allows (each is 6
 * descriptors gtd holds), one where it is tight (tens): gtd needs those
 * for its clients; and when gtd runs out of descriptors all the same (an
 * accept's EMFILE), spawn_shrink() gives back all but one.  Where clone3
 * or CLOSE_RANGE_UNSHARE is missing (or the slots could not be had low
 * enough), spawns fork as before.
 */
enum spawn_slot {
	SLOT_IN, SLOT_OUT, SLOT_ERR, SLOT_EXTRA, SLOT_STATUS, SLOT_COUNT
};
#define SPAWN_NSETS		4
#define SPAWN_NSETS_NOFILE	1024	/* below this soft limit: one set */
#define SPAWN_SLOT_MAXFD	128	/* slots above this: fork instead */
#define SPAWN_SYNC		'+'	/* the child's byte: it unshared */

/* One set of slots; syncfd -1: idle, its slots on /dev/null. */
struct spawn_set {
	int	slot[SLOT_COUNT];
	int	syncfd;		/* the status pipe's read end (a dup) */
	int	pidfd;		/* of its child, or -1 */
};

/*
 * The sets (spawn_nsets of them), /dev/null (spawn_null), and whether
 * the sets are in use: 0 not yet tried, 1 in use, -1 off (fork).
 * Mutable globals, as the heap marks above: the descriptor table is
 * the process's.
 */
static struct spawn_set	spawn_sets[SPAWN_NSETS];
static int		spawn_null = -1;
static int		spawn_slot_end;		/* highest slot + 1 */
static int		spawn_nsets;
static int		spawn_slots_on;

/* Mark fds >= lowfd close-on-exec without closing them (signal-safe). */
static int
spawn_cloexec_from(int lowfd)
{
	return ((int)syscall(SYS_close_range, (unsigned)lowfd, ~0U,
	    CLOSE_RANGE_CLOEXEC));
}

/*
 * rlimits, nice, umask, then groups, gid, uid (dropping root last).  On
 * failure *step says which.
 */
static int
spawn_attrs(const struct spawn_plan *pl, int *step)
{
	struct rlimit	rl;
	size_t		i;

	*step = SPAWN_STEP_RLIMIT;
	for (i = 0; i < pl->nrlimits; i++) {
		rl.rlim_cur = rl.rlim_max = pl->rlimits[i].value == UINT64_MAX ?
		    RLIM_INFINITY : (rlim_t)pl->rlimits[i].value;
		if (setrlimit(pl->rlimits[i].resource, &rl) == -1)
			return (-1);
	}
	*step = SPAWN_STEP_NICE;
	errno = 0;
	if (pl->set_nice && setpriority(PRIO_PROCESS, 0, pl->nice) == -1)
		return (-1);
	if (pl->umask >= 0)
		umask((mode_t)pl->umask);
	/* Raw system calls: glibc may signal other threads for set*id. */
	*step = SPAWN_STEP_SETGROUPS;
	if (pl->set_uid && syscall(SYS_setgroups, (size_t)pl->ngroups,
	    pl->groups) == -1)
		return (-1);
	*step = SPAWN_STEP_SETGID;
	if (pl->set_gid && syscall(SYS_setresgid, pl->gid, pl->gid,
	    pl->gid) == -1)
		return (-1);
	*step = SPAWN_STEP_SETUID;
	if (pl->set_uid && syscall(SYS_setresuid, pl->uid, pl->uid,
	    pl->uid) == -1)
		return (-1);
	return (0);
}

static void
spawn_exec(const struct spawn_plan *pl, int statusfd)
{
	struct spawn_ksigaction	ka;
	struct spawn_fail	f;
	sigset_t		none;
	int			sig, step = SPAWN_STEP_SETUP;

	/*
	 * (1) Default dispositions, then a clean mask: every signal is
	 * blocked until then, so none of gtd's (libev's) handlers runs here.
	 */
	memset(&ka, 0, sizeof ka);
	ka.handler = SIG_DFL;
	/*
	 * Raw: glibc's sigaction refuses the two signals it keeps for itself.
	 */
	for (sig = 1; sig < NSIG; sig++)
		(void)syscall(SYS_rt_sigaction, sig, &ka, NULL,
		    sizeof ka.mask);		/* EINVAL for KILL/STOP: fine */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* (2) In its cgroup before anything runs as the child's user. */
	step = SPAWN_STEP_CGROUP;
	if (pl->join_cgroup && cgroup_join(pl->cgroup_fd) == -1)
		goto fail;
	step = SPAWN_STEP_SETUP;
	/* Die with gtd, in a session of our own. */
	if (!pl->no_deathsig && (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 ||
	    getppid() != pl->parent))
		goto fail;
	if (pl->new_session && setsid() == -1)
		goto fail;
	/* (3) stdio, then close-on-exec for all else (statusfd lives on). */
	if (dup2(pl->fd_in, 0) == -1 || dup2(pl->fd_out, 1) == -1 ||
	    dup2(pl->fd_err, 2) == -1)
		goto fail;
	if (pl->extra_fd != -1) {
		if (statusfd == pl->extra_target &&
		    (statusfd = fcntl(statusfd, F_DUPFD_CLOEXEC, 3)) == -1)
			goto fail;
		if (dup2(pl->extra_fd, pl->extra_target) == -1)
			goto fail;
	}
	if (spawn_cloexec_from(3) == -1)
		goto fail;
	if (pl->extra_fd != -1 && fcntl(pl->extra_target, F_SETFD, 0) == -1)
		goto fail;
	step = SPAWN_STEP_RLIMIT;
	if (pl->set_nofile && setrlimit(RLIMIT_NOFILE, &pl->nofile) == -1)
		goto fail;
	if (spawn_attrs(pl, &step) == -1)
		goto fail;
	/*
	 * A change of credentials clears the parent-death signal (prctl(2)):
	 * set it again as the child's user, and look again whether gtd died
	 * in between (then the signal would never come).
	 */
	step = SPAWN_STEP_SETUP;
	if ((pl->set_uid || pl->set_gid) && !pl->no_deathsig &&
	    (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() !=
	    pl->parent))
		goto fail;
	step = SPAWN_STEP_CHDIR;
	if (chdir(pl->cwd) == -1)
		goto fail;
	/* (4) exec. */
	step = SPAWN_STEP_EXEC;
	execve(pl->path, pl->argv, pl->envp);
fail:
	f.err = errno;
	f.step = step;
	/* One write, under PIPE_BUF: whole or (child gone) nothing. */
	(void)!write(statusfd, &f, sizeof f);
	_exit(127);
}

/*
 * The child of spawn_shared: a table of its own first (nothing of gtd's
 * may change before), then the byte that lets gtd go on, then as any.
 */
static void
spawn_exec_shared(const struct spawn_plan *pl, int statusfd)
{
	struct spawn_fail	f = { 0, SPAWN_STEP_SETUP };
	char			sync = SPAWN_SYNC;

	if (syscall(SYS_close_range, (unsigned)spawn_slot_end, ~0U,
	    CLOSE_RANGE_UNSHARE) == -1) {
		f.err = errno;
		/* Still gtd's table: the pipe is there; gtd waits on it. */
		(void)!write(statusfd, &sync, 1);
		(void)!write(statusfd, &f, sizeof f);
		_exit(127);
	}
	if (write(statusfd, &sync, 1) != 1)
		_exit(127);	/* gtd is gone or broke the pipe */
	spawn_exec(pl, statusfd);
}

/* Bytes spawn_pack needs for pl, with every pointer aligned. */
static size_t
spawn_pack_size(const struct spawn_plan *pl)
{
	size_t	n = 0, i;

	for (i = 0; pl->argv[i] != NULL; i++)
		n += sizeof(char *) + strlen(pl->argv[i]) + 1;
	for (i = 0; pl->envp[i] != NULL; i++)
		n += sizeof(char *) + strlen(pl->envp[i]) + 1;
	n += 2 * sizeof(char *) + strlen(pl->path) + strlen(pl->cwd) + 2;
	n += pl->nrlimits * sizeof *pl->rlimits;
	n += (size_t)pl->ngroups * sizeof *pl->groups;
	return (n + 4 * sizeof(max_align_t));
}

static void *
spawn_pack_mem(char **p, const void *src, size_t len)
{
	void	*d = *p;

	if (len > 0)		/* src may be NULL then */
		memcpy(d, src, len);
	*p += len;
	return (d);
}

static char *
spawn_pack_str(char **p, const char *s)
{
	size_t	len = strlen(s) + 1;
	char	*d = *p;

	memcpy(d, s, len);
	*p += len;
	return (d);
}

/* Copy pl and all it points to into buf (spawn_pack_size bytes). */
static void
spawn_pack(const struct spawn_plan *pl, struct spawn_plan *out, char *buf)
{
	char	**argv, **envp, *p;
	size_t	  na, ne, i;

	for (na = 0; pl->argv[na] != NULL; na++)
		;
	for (ne = 0; pl->envp[ne] != NULL; ne++)
		;
	*out = *pl;
	argv = (char **)(void *)buf;
	envp = argv + na + 1;
	p = (char *)(envp + ne + 1);
	out->rlimits = spawn_pack_mem(&p, pl->rlimits, pl->nrlimits *
	    sizeof *pl->rlimits);
	out->groups = spawn_pack_mem(&p, pl->groups, (size_t)pl->ngroups *
	    sizeof *pl->groups);
	for (i = 0; i < na; i++)
		argv[i] = spawn_pack_str(&p, pl->argv[i]);
	argv[na] = NULL;
	for (i = 0; i < ne; i++)
		envp[i] = spawn_pack_str(&p, pl->envp[i]);
	envp[ne] = NULL;
	out->argv = argv;
	out->envp = envp;
	out->path = spawn_pack_str(&p, pl->path);
	out->cwd = spawn_pack_str(&p, pl->cwd);
}

/*
 * The start of the brk heap, from /proc/self/maps; 0 if unknown.  The
 * [heap] mapping must be the one that ends at brk: under an emulator
 * (valgrind) the program's brk is elsewhere, and marking the host's heap
 * would take memory from the emulator's own children.
 */
static uintptr_t
spawn_heap_start(uintptr_t brk)
{
	FILE		*f;
	char		 line[256];
	unsigned long	 lo = 0, hi = 0;
	long		 page = sysconf(_SC_PAGESIZE);

	if ((f = fopen("/proc/self/maps", "re")) == NULL)
		return (0);
	while (fgets(line, sizeof line, f) != NULL)
		if (strstr(line, "[heap]") != NULL &&
		    sscanf(line, "%lx-%lx", &lo, &hi) == 2)
			break;
	fclose(f);
	if (page <= 0 || lo == 0 || brk < lo || brk > hi ||
	    hi - brk >= (unsigned long)page)
		return (0);
	return (lo);
}

/*
 * Mark the heap MADV_DONTFORK, again whenever brk moved: a grown heap is
 * a new mapping without the mark.  Best effort: an unmarked page is only
 * copied, as by any fork.
 */
static void
spawn_heap_dontfork(void)
{
	static __thread char	tls;	/* where this thread's TLS lives */
	static int		 once;
	uintptr_t		 brk;

	/*
	 * Blocks malloc would map on their own (128 KiB and more: libev's
	 * arrays indexed by fd, hash tables, big buffers) come from the
	 * heap too, so that they are left out of every fork as well: they
	 * grow with the children, and each fork copied their page tables
	 * and each write to them afterwards took a copy-on-write fault and
	 * a TLB flush, which made a spawn cost more the more children ran.
	 * Blocks allocated before keep their mapping, and a realloc keeps a
	 * mapped block mapped, so this is done at the first spawn, while
	 * gtd's arrays are still small.
	 */
	if (!once) {
		once = 1;
		(void)mallopt(M_MMAP_THRESHOLD, SPAWN_MMAP_THRESHOLD);
	}			/* best effort: the default is only slower */
	brk = (uintptr_t)sbrk(0);
	if (brk == spawn_heap_hi || brk == (uintptr_t)-1)
		return;
	spawn_heap_hi = brk;
	/* No heap yet (or a malloc without brk): look again once it moved. */
	if (spawn_heap_lo == 0 && (spawn_heap_lo = spawn_heap_start(brk)) == 0)
		return;
	/*
	 * A static link puts the thread's TLS and TCB (errno, the stack
	 * canary) in the brk heap: the child needs them, so then the heap
	 * stays in the fork.
	 */
	if ((uintptr_t)&tls >= spawn_heap_lo && (uintptr_t)&tls < brk)
		return;
	if (brk > spawn_heap_lo)
		(void)madvise((void *)spawn_heap_lo, brk - spawn_heap_lo,
		    MADV_DONTFORK);	/* best effort, see above */
}

static pid_t
spawn_fork(void)
{
#if SPAWN_DONTFORK
	spawn_heap_dontfork();
	return (_Fork());
#else
	return (fork());
#endif
}

/*
 * The child in its cgroup from its first instant: clone3 into it, which
 * is a fork as far as the heap goes (see spawn_fork); where the kernel
 * lacks it, fork and let the child join (pl->join_cgroup).
 */
static pid_t
spawn_clone(struct spawn_plan *pl)
{
	struct cgroup_clone	cl = { .cgroup_fd = pl->cgroup_fd };
	pid_t			pid;

	pl->join_cgroup = false;
#if SPAWN_DONTFORK
	spawn_heap_dontfork();
#endif
	if ((pid = cgroup_clone(&cl)) != -1 ||
	    !cgroup_clone_unsupported(errno))
		return (pid);
	pl->join_cgroup = true;
	return (spawn_fork());
}

/*
 * Reserve the slots: the lowest free descriptors, on /dev/null.  False
 * (and the slots off for good) where they are not low enough.
 */
static bool
spawn_slots_init(void)
{
	struct spawn_set	*set;
	struct rlimit		 rl;
	int			 i, j, fd;

	if (spawn_slots_on != 0)
		return (spawn_slots_on == 1);
	spawn_slots_on = -1;
	/* Is there CLOSE_RANGE_UNSHARE?  (Closes nothing: fd ~0U.) */
	if (syscall(SYS_close_range, ~0U, ~0U, CLOSE_RANGE_UNSHARE) == -1)
		return (false);
	if ((spawn_null = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		return (false);
	spawn_nsets = getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur >= SPAWN_NSETS_NOFILE ? SPAWN_NSETS : 1;
	for (i = 0; i < spawn_nsets; i++) {
		set = &spawn_sets[i];
		set->syncfd = set->pidfd = -1;
		for (j = 0; j < SLOT_COUNT; j++) {
			fd = fcntl(spawn_null, F_DUPFD_CLOEXEC, 0);
			set->slot[j] = fd;
			if (fd == -1 || fd >= SPAWN_SLOT_MAXFD)
				return (false);	/* off; a few fds are kept */
			if (fd >= spawn_slot_end)
				spawn_slot_end = fd + 1;
		}
	}
	spawn_slots_on = 1;
	return (true);
}

/* Put /dev/null back on set's slots and forget its child. */
static void
spawn_set_release(struct spawn_set *set)
{
	int	i;

	for (i = 0; i < SLOT_COUNT; i++)
		(void)dup3(spawn_null, set->slot[i], O_CLOEXEC);
					/* onto an open fd: cannot fail */
	if (set->syncfd != -1)
		close(set->syncfd);
	if (set->pidfd != -1)
		close(set->pidfd);
	set->syncfd = set->pidfd = -1;
}

/*
 * Free set once its child no longer shares gtd's table: its byte on the
 * status pipe (O_NONBLOCK), or its end (pidfd).  Never waits.  Whether
 * set is still busy.
 */
static bool
spawn_set_settle(struct spawn_set *set)
{
	struct pollfd	pfd = { .fd = set->pidfd, .events = POLLIN };
	char		c;

	if (set->syncfd == -1)
		return (false);
	/*
	 * The byte first: a child that wrote it and then ended has its byte
	 * in the pipe before its pidfd turns readable.
	 */
	if (read(set->syncfd, &c, 1) != 1 &&
	    (set->pidfd == -1 || poll(&pfd, 1, 0) != 1))
		return (true);		/* not yet */
	spawn_set_release(set);
	return (false);
}

void
spawn_init(void)
{
	(void)spawn_slots_init();	/* false: spawns fork */
}

void
spawn_shrink(void)
{
	struct spawn_set	*set;
	int			 j;

	if (spawn_slots_on != 1)
		return;
	while (spawn_nsets > 1 &&
	    !spawn_set_settle(set = &spawn_sets[spawn_nsets - 1])) {
		for (j = 0; j < SLOT_COUNT; j++)
			close(set->slot[j]);
		spawn_nsets--;
	}
}

bool
spawn_settle(void)
{
	bool	busy = false;
	int	i;

	if (spawn_slots_on != 1)
		return (false);
	for (i = 0; i < spawn_nsets; i++)
		if (spawn_set_settle(&spawn_sets[i]))
			busy = true;
	return (busy);
}

/*
 * clone3 with CLONE_FILES (see spawn_set): packed is the plan, whose
 * descriptors go onto an idle set's slots; p the status pipe.  The
 * pid, or -1 with errno (ENOSYS, E2BIG: no such clone; EBUSY: no set
 * is idle; the caller forks).
 */
static pid_t
spawn_shared(const struct spawn_plan *packed, int *p)
{
	struct cgroup_clone	cl = { .cgroup_fd = -1, .files = true };
	struct spawn_plan	slotted = *packed, *pl = &slotted;
	struct spawn_set	*set;
	int			want[SLOT_COUNT], i, saved;
	pid_t			pid;

	for (i = 0, set = NULL; i < spawn_nsets; i++)
		if (!spawn_set_settle(&spawn_sets[i]) && set == NULL)
			set = &spawn_sets[i];
	if (set == NULL) {
		errno = EBUSY;		/* every set's child is yet to run */
		return (-1);
	}
	want[SLOT_IN] = pl->fd_in;
	want[SLOT_OUT] = pl->fd_out;
	want[SLOT_ERR] = pl->fd_err;
	want[SLOT_EXTRA] = pl->extra_fd;
	want[SLOT_STATUS] = p[1];
	if (pl->in_cgroup)
		cl.cgroup_fd = pl->cgroup_fd;	/* used by the clone itself */
	pl->join_cgroup = false;
	/* Above the slots: the child does not keep a copy. */
	if ((set->syncfd = fcntl(p[0], F_DUPFD_CLOEXEC, spawn_slot_end)) == -1)
		return (-1);
	for (i = 0; i < SLOT_COUNT; i++)
		if (want[i] != -1 && want[i] != set->slot[i] &&
		    dup3(want[i], set->slot[i], O_CLOEXEC) == -1)
			goto fail;
	pl->fd_in = set->slot[SLOT_IN];
	pl->fd_out = set->slot[SLOT_OUT];
	pl->fd_err = set->slot[SLOT_ERR];
	if (pl->extra_fd != -1)
		pl->extra_fd = set->slot[SLOT_EXTRA];
	cl.pidfd = &set->pidfd;
#if SPAWN_DONTFORK
	spawn_heap_dontfork();
#endif
	if ((pid = cgroup_clone(&cl)) == 0)
		spawn_exec_shared(pl, set->slot[SLOT_STATUS]);
	if (pid == -1)
		goto fail;
	return (pid);
fail:
	saved = errno;
	spawn_set_release(set);		/* no child: nothing shares it */
	errno = saved;
	return (-1);
}

pid_t
spawn_start(const struct spawn_plan *pl, int *statusfd)
{
	union {
		char		c[SPAWN_PACK_STACK];
		max_align_t	a;
	}			 stack;
	struct spawn_plan	 packed;
	sigset_t		 all, old;
	char			*buf = stack.c;
	size_t			 size;
	int			 p[2];
	pid_t			 pid;
	int			 saved;

	if ((size = spawn_pack_size(pl)) > sizeof stack.c &&
	    (buf = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0)) == MAP_FAILED)
		return (-1);
	spawn_pack(pl, &packed, buf);
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == -1) {
		saved = errno;
		pid = -1;
		goto out;
	}
	/*
	 * fork, not vfork: vfork would spare the page-table copy too, but it
	 * holds gtd until the child is scheduled and has exec'd, and with
	 * many children starting at once that wait is far longer (measured:
	 * 1000 spawns took 4.3 s with vfork, 2.3 s with fork).  The heap
	 * left out of the fork (see SPAWN_DONTFORK) gives most of what vfork
	 * would, without the wait.  Signals stay blocked across fork, so no
	 * handler of gtd's runs in the child before it has reset them.
	 */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = -1;
	errno = ENOSYS;
	if (spawn_slots_init() && (pid = spawn_shared(&packed, p)) == -1 &&
	    cgroup_clone_unsupported(errno))
		spawn_slots_on = -1;	/* no such clone here: fork */
	if (spawn_slots_on != 1 || (pid == -1 && errno == EBUSY))
		pid = packed.in_cgroup ? spawn_clone(&packed) : spawn_fork();
	if (pid == 0)
		spawn_exec(&packed, p[1]);	/* p[0] is CLOEXEC */
	saved = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(p[1]);
	if (pid == -1)
		close(p[0]);
	else
		*statusfd = p[0];	/* O_NONBLOCK: the child's end too */
out:
	if (buf != stack.c)
		munmap(buf, size);
	errno = saved;
	return (pid);
}

int
spawn_status_read(int fd, struct spawn_fail *f)
{
	struct spawn_fail	got = { 0, SPAWN_STEP_EXEC };
	ssize_t			n;

	/* A shared spawn's byte is not a status: the set reads it first. */
	(void)spawn_settle();
	do {
		n = read(fd, &got, sizeof got);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return (-1);			/* EAGAIN: not yet */
	/* A bare errno (4 bytes) is an exec's; EOF or less: exec'd. */
	if (n < (ssize_t)sizeof got.err)
		got.err = 0;
	else if (n < (ssize_t)sizeof got)
		got.step = SPAWN_STEP_EXEC;
	if (got.step < 0 || got.step >= SPAWN_NSTEPS)
		got.step = SPAWN_STEP_SETUP;
	*f = got;
	return (0);
}

const char *
spawn_step_name(int step)
{
	static const char *const	names[SPAWN_NSTEPS] = {
		[SPAWN_STEP_EXEC] = "exec",
		[SPAWN_STEP_CHDIR] = "chdir",
		[SPAWN_STEP_SETUID] = "setuid",
		[SPAWN_STEP_SETGID] = "setgid",
		[SPAWN_STEP_SETGROUPS] = "setgroups",
		[SPAWN_STEP_RLIMIT] = "rlimit",
		[SPAWN_STEP_NICE] = "nice",
		[SPAWN_STEP_OPEN_STDOUT] = "open_stdout",
		[SPAWN_STEP_OPEN_STDERR] = "open_stderr",
		[SPAWN_STEP_ENV_FILE] = "env_file",
		[SPAWN_STEP_CGROUP] = "cgroup",
		[SPAWN_STEP_SETUP] = "setup",
		[SPAWN_STEP_FORK] = "fork"
	};

	if (step < 0 || step >= SPAWN_NSTEPS)
		return ("unknown");
	return (names[step]);
}

int
spawn_resolve(const char *file, const char *pathlist, char **out)
{
	const char	*p, *end;
	char		*cand;
	int		 saw_eacces = 0;
	size_t		 len;

	if (strchr(file, '/') != NULL) {
		*out = xstrdup(file);
		return (0);
	}
	if (pathlist == NULL)
		pathlist = "/usr/local/bin:/usr/bin:/bin";
	for (p = pathlist; ; p = end + 1) {
		end = strchrnul(p, ':');
		len = end - p;
		xasprintf(&cand, "%.*s/%s", (int)len, len == 0 ? "." : p, file);
		if (access(cand, X_OK) == 0) {
			*out = cand;
			return (0);
		}
		if (errno == EACCES)
			saw_eacces = 1;
		free(cand);
		if (*end == '\0')
			break;
	}
	errno = saw_eacces ? EACCES : ENOENT;
	return (-1);
}

const char *
spawn_errno_name(int e)
{
	static char	buf[16];

	switch (e) {
#define E(x)	case x: return (#x)
	E(EPERM); E(ENOENT); E(ESRCH); E(EINTR); E(EIO); E(ENXIO);
	E(E2BIG); E(ENOEXEC); E(EBADF); E(ECHILD); E(EAGAIN); E(ENOMEM);
	E(EACCES); E(EFAULT); E(EBUSY); E(EEXIST); E(ENOTDIR); E(EISDIR);
	E(EINVAL); E(ENFILE); E(EMFILE); E(ETXTBSY); E(EFBIG); E(ENOSPC);
	E(EROFS); E(EMLINK); E(ENAMETOOLONG); E(ELOOP); E(ELIBBAD);
	E(ENOSYS);
#undef E
	}
	snprintf(buf, sizeof buf, "E%d", e);
	return (buf);
}

extern char	**environ;

struct spawn_inherit *
spawn_inherit_new(char **cause)
{
	struct spawn_inherit	*si = xcalloc(1, sizeof *si);

	if ((si->devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1) {
		xasprintf(cause, "/dev/null: %s", strerror(errno));
		free(si);
		return (NULL);
	}
	(void)getrlimit(RLIMIT_NOFILE, &si->nofile);	/* cannot fail */
	si->env = environ;
	return (si);
}

void
spawn_inherit_free(struct spawn_inherit *si)
{
	if (si == NULL)
		return;
	close(si->devnull);
	free(si);
}
