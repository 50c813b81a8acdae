/* SPDX-License-Identifier: MIT */
/*
 * spawn: fork/exec mechanics only (house style 3.6).  The parent prepares
 * every string before the clone and packs them where the child can see
 * them (gtd's heap is not forked; a child that shares gtd's memory gets
 * them beside its stack); the child makes raw system calls only
 * (spawn_sys), then execs or reports its errno through the CLOEXEC status
 * pipe.  Never logs, never waits: libev reaps.
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

struct spawn_stack;

/* The kernel's struct sigaction (rt_sigaction), not glibc's. */
struct spawn_ksigaction {
	void		(*handler)(int);
	unsigned long	  flags;
	void		(*restorer)(void);
	uint64_t	  mask;
};

static size_t	spawn_pack_size(const struct spawn_plan *);
static void	spawn_pack(const struct spawn_plan *, struct spawn_plan *,
		    char *);
static void	spawn_heap_dontfork(void);
static pid_t	spawn_fork(void);
static pid_t	spawn_clone(struct spawn_plan *);
static bool	spawn_slots_init(void);
static void	spawn_stack_settle(void);
static pid_t	spawn_shared(const struct spawn_plan *, int *,
		    struct spawn_stack *);

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
 * before, and that fork copies the whole table again.  A spawn that
 * shares gtd's memory (below) takes tens of microseconds, so in a wave gtd
 * spawns faster than the children it made get a CPU to unshare on, and
 * with 4 sets the forks that followed made a start at 8000 children cost
 * 1.9 times its CPU at none (W-spawn scaling); with 16, about 1.3.  So
 * SPAWN_NSETS sets where RLIMIT_NOFILE allows (each is 5 descriptors gtd
 * holds, 7 while busy), one where it is tight (tens): gtd needs those for
 * its clients; and when gtd runs out of descriptors all the same (an
 * accept's EMFILE), spawn_shrink() gives back all but one.  As many sets
 * as fit below SPAWN_SLOT_MAXFD (those low numbers are copied into every
 * child).  Where clone3 or CLOSE_RANGE_UNSHARE is missing (or not even
 * one set could be had low enough), spawns fork as before.
 */
enum spawn_slot {
	SLOT_IN, SLOT_OUT, SLOT_ERR, SLOT_EXTRA, SLOT_STATUS, SLOT_COUNT
};
#define SPAWN_NSETS		16
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

/*
 * Spawns that share gtd's memory.  Even with the heap left out, a fork
 * copies page tables (0.5 to 0.9 ms a spawn on a paravirtualised machine,
 * measured) and gtd then takes a copy-on-write fault on each page it
 * still shares with the child (its stack, the libraries' data: 0.5 ms
 * more), all on the loop's time.  A child cloned with CLONE_VM copies
 * nothing: it runs on a stack of its own in gtd's memory until its exec
 * gives it memory of its own, as posix_spawn's child does, but without
 * CLONE_VFORK, which would hold gtd until the child has been scheduled
 * and has exec'd (see spawn_start), and for ever on a frozen cgroup.  So
 * gtd must not reuse the child's stack, nor the packed plan beside it,
 * before the child is out of its memory: the kernel zeroes the stack's
 * `left' word then (CLONE_CHILD_CLEARTID: at the exec, or at the end),
 * which gtd reads, without a system call, at the next spawn or settle.
 * At most SPAWN_VM_MAX stacks are in use (more children yet to exec: the
 * next spawns clone as before); the first SPAWN_VM_KEEP stay mapped when
 * idle, so that their pages are not faulted in again.  A stack's lowest
 * page is a guard.  x86-64 only (spawn_sys, cgroup_clone), and only with
 * the slot sets: the child shares gtd's table as spawn_shared's does.
 *
 * Never for a child that takes other credentials (user, group): a
 * process of another user must not hold gtd's memory, not even until its
 * exec.  The kernel does guard it (a change of credentials makes the
 * memory non-dumpable, so that user cannot ptrace it nor read it through
 * /proc), but with fs.suid_dumpable at 1 it does not, and otherwise gtd
 * itself would become non-dumpable (no core dump) at the first such
 * child.  Those children fork, their copy without gtd's heap.
 */
#define SPAWN_VM_MAX		64
#define SPAWN_VM_KEEP		4
#define SPAWN_VM_STACK		(32 << 10)
#define SPAWN_VM_SIZE		(64 << 10)	/* guard, stack, the plan */

struct spawn_stack {
	char	*base;		/* mmap'd, size bytes; NULL: not mapped */
	size_t	 size;
	bool	 used;		/* a child runs on it */
	int	 left;		/* nonzero until that child left (kernel) */
};

/* The child's argument, at the top of its stack; the packed plan follows. */
struct spawn_vmarg {
	struct spawn_plan	plan;
	int			statusfd;
	int			slot_end;
};

/*
 * The stacks (spawn_stacks_hi of them ever mapped) and whether spawns
 * may share gtd's memory: 0 yes, -1 off.  Mutable globals, as the heap
 * marks above: the memory is the process's.
 */
static struct spawn_stack	spawn_stacks[SPAWN_VM_MAX];
static int			spawn_stacks_hi;
static enum spawn_via		spawn_via;	/* the last child's */
#if defined(__x86_64__)
static int			spawn_vm_on;
#else
static int			spawn_vm_on = -1;
#endif

/*
 * The child's system calls, raw: -errno on failure, never errno.  A child
 * that shares gtd's memory (spawn_vm) shares its thread-local errno too,
 * and gtd may be reading errno at that instant; nor may it run any C
 * library function (locks, lazy binding, TLS).  Elsewhere than x86-64
 * the C library's syscall() stands in, with its errno: only forked
 * children run there (no spawn_vm).  No sanitizer instruments the child's
 * functions (SPAWN_CHILD): their run-time state is gtd's.
 */
#define SPAWN_CHILD	__attribute__((no_sanitize("address", "undefined")))

SPAWN_CHILD static inline long
spawn_sys(long n, long a, long b, long c, long d)
{
#if defined(__x86_64__)
	register long	r10 __asm__("r10") = d;
	long		ret;

	__asm__ volatile ("syscall"
	    : "=a" (ret)
	    : "0" (n), "D" (a), "S" (b), "d" (c), "r" (r10)
	    : "rcx", "r11", "memory");
	return (ret);
#else
	long	ret = syscall(n, a, b, c, d);

	return (ret == -1 ? -errno : ret);
#endif
}

#define SPAWN_SYS(n, a, b, c, d)	spawn_sys((n), (long)(a), (long)(b), \
					    (long)(c), (long)(d))

/* dup2(2) that also clears close-on-exec where old is new. */
SPAWN_CHILD static long
spawn_dup2(int old, int new)
{
	if (old == new)
		return (SPAWN_SYS(SYS_fcntl, new, F_SETFD, 0, 0));
	return (SPAWN_SYS(SYS_dup3, old, new, 0, 0));
}

/* setrlimit(2) through prlimit64, whose limits are 64 bits everywhere. */
SPAWN_CHILD static long
spawn_setrlimit(int resource, uint64_t cur, uint64_t max)
{
	uint64_t	rl[2] = { cur, max };

	return (SPAWN_SYS(SYS_prlimit64, 0, resource, rl, 0));
}

/* cgroup_join's work, raw: "0" into the cgroup's cgroup.procs. */
SPAWN_CHILD static long
spawn_join(int cgroup_fd)
{
	long	fd, n;

	if ((fd = SPAWN_SYS(SYS_openat, cgroup_fd, "cgroup.procs", O_WRONLY |
	    O_CLOEXEC | O_NOFOLLOW, 0)) < 0)
		return (fd);
	n = SPAWN_SYS(SYS_write, fd, "0", 1, 0);
	(void)SPAWN_SYS(SYS_close, fd, 0, 0, 0);
	return (n < 0 ? n : n == 1 ? 0 : -EIO);
}

/*
 * rlimits, nice, umask, then groups, gid, uid (dropping root last).  0,
 * or -errno with *step saying which.
 */
SPAWN_CHILD static long
spawn_attrs(const struct spawn_plan *pl, int *step)
{
	uint64_t	v;
	long		r;
	size_t		i;

	*step = SPAWN_STEP_RLIMIT;
	for (i = 0; i < pl->nrlimits; i++) {
		v = pl->rlimits[i].value;	/* UINT64_MAX: infinity */
		if ((r = spawn_setrlimit(pl->rlimits[i].resource, v, v)) < 0)
			return (r);
	}
	*step = SPAWN_STEP_NICE;
	if (pl->set_nice && (r = SPAWN_SYS(SYS_setpriority, PRIO_PROCESS, 0,
	    pl->nice, 0)) < 0)
		return (r);
	if (pl->umask >= 0)
		(void)SPAWN_SYS(SYS_umask, pl->umask, 0, 0, 0);
	/* Raw in any case: glibc signals other threads for set*id. */
	*step = SPAWN_STEP_SETGROUPS;
	if (pl->set_uid && (r = SPAWN_SYS(SYS_setgroups, pl->ngroups,
	    pl->groups, 0, 0)) < 0)
		return (r);
	*step = SPAWN_STEP_SETGID;
	if (pl->set_gid && (r = SPAWN_SYS(SYS_setresgid, pl->gid, pl->gid,
	    pl->gid, 0)) < 0)
		return (r);
	*step = SPAWN_STEP_SETUID;
	if (pl->set_uid && (r = SPAWN_SYS(SYS_setresuid, pl->uid, pl->uid,
	    pl->uid, 0)) < 0)
		return (r);
	return (0);
}

/* Die with gtd: the signal, then whether gtd is already gone. */
SPAWN_CHILD static long
spawn_deathsig(const struct spawn_plan *pl)
{
	long	r;

	if ((r = SPAWN_SYS(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0)) < 0)
		return (r);
	return (SPAWN_SYS(SYS_getppid, 0, 0, 0, 0) == pl->parent ? 0 : -ESRCH);
}

/* Report f on the status pipe and end (127). */
SPAWN_CHILD static void __attribute__((noreturn))
spawn_fail(int statusfd, long err, int step)
{
	struct spawn_fail	f;

	f.err = (int)-err;
	f.step = step;
	/* One write, under PIPE_BUF: whole or (child gone) nothing. */
	(void)SPAWN_SYS(SYS_write, statusfd, &f, sizeof f, 0);
	for (;;)
		(void)SPAWN_SYS(SYS_exit_group, 127, 0, 0, 0);
}

SPAWN_CHILD static void __attribute__((noreturn))
spawn_exec(const struct spawn_plan *pl, int statusfd)
{
	struct spawn_ksigaction	ka;
	uint64_t		none = 0;
	uint64_t		cur, max;
	long			r = 0;
	int			sig, step = SPAWN_STEP_SETUP;

	/*
	 * (1) Default dispositions, then a clean mask: every signal is
	 * blocked until then, so none of gtd's (libev's) handlers runs here.
	 * Raw, as everything here; glibc's sigaction would refuse the two
	 * signals it keeps for itself.
	 */
	ka.handler = SIG_DFL;
	ka.flags = 0;
	ka.restorer = NULL;
	ka.mask = 0;
	for (sig = 1; sig < NSIG; sig++)
		(void)SPAWN_SYS(SYS_rt_sigaction, sig, &ka, NULL,
		    sizeof ka.mask);		/* EINVAL for KILL/STOP: fine */
	(void)SPAWN_SYS(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL,
	    sizeof none);
	/* (2) In its cgroup before anything runs as the child's user. */
	step = SPAWN_STEP_CGROUP;
	if (pl->join_cgroup && (r = spawn_join(pl->cgroup_fd)) < 0)
		goto fail;
	step = SPAWN_STEP_SETUP;
	/* Die with gtd, in a session of our own. */
	if (!pl->no_deathsig && (r = spawn_deathsig(pl)) < 0)
		goto fail;
	if (pl->new_session && (r = SPAWN_SYS(SYS_setsid, 0, 0, 0, 0)) < 0)
		goto fail;
	/* (3) stdio, then close-on-exec for all else (statusfd lives on). */
	if ((r = spawn_dup2(pl->fd_in, 0)) < 0 ||
	    (r = spawn_dup2(pl->fd_out, 1)) < 0 ||
	    (r = spawn_dup2(pl->fd_err, 2)) < 0)
		goto fail;
	if (pl->extra_fd != -1) {
		if (statusfd == pl->extra_target) {
			if ((r = SPAWN_SYS(SYS_fcntl, statusfd,
			    F_DUPFD_CLOEXEC, 3, 0)) < 0)
				goto fail;
			statusfd = (int)r;
		}
		if ((r = spawn_dup2(pl->extra_fd, pl->extra_target)) < 0)
			goto fail;
	}
	if ((r = SPAWN_SYS(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC,
	    0)) < 0)
		goto fail;
	if (pl->extra_fd != -1 && (r = SPAWN_SYS(SYS_fcntl, pl->extra_target,
	    F_SETFD, 0, 0)) < 0)
		goto fail;
	step = SPAWN_STEP_RLIMIT;
	if (pl->set_nofile) {
		cur = pl->nofile.rlim_cur == RLIM_INFINITY ? UINT64_MAX :
		    (uint64_t)pl->nofile.rlim_cur;
		max = pl->nofile.rlim_max == RLIM_INFINITY ? UINT64_MAX :
		    (uint64_t)pl->nofile.rlim_max;
		if ((r = spawn_setrlimit(RLIMIT_NOFILE, cur, max)) < 0)
			goto fail;
	}
	if ((r = spawn_attrs(pl, &step)) < 0)
		goto fail;
	/*
	 * A change of credentials clears the parent-death signal (prctl(2)):
	 * set it again as the child's user, and look again whether gtd died
	 * in between (then the signal would never come).
	 */
	step = SPAWN_STEP_SETUP;
	if ((pl->set_uid || pl->set_gid) && !pl->no_deathsig &&
	    (r = spawn_deathsig(pl)) < 0)
		goto fail;
	step = SPAWN_STEP_CHDIR;
	if ((r = SPAWN_SYS(SYS_chdir, pl->cwd, 0, 0, 0)) < 0)
		goto fail;
	/* (4) exec. */
	step = SPAWN_STEP_EXEC;
	r = SPAWN_SYS(SYS_execve, pl->path, pl->argv, pl->envp, 0);
fail:
	spawn_fail(statusfd, r, step);
}

/*
 * The child of spawn_shared: a table of its own first (nothing of gtd's
 * may change before), then the byte that lets gtd go on, then as any.
 * slot_end: spawn_slot_end, passed (a child of spawn_vm reads no global).
 */
SPAWN_CHILD static void __attribute__((noreturn))
spawn_exec_shared(const struct spawn_plan *pl, int statusfd, int slot_end)
{
	char	sync = SPAWN_SYNC;
	long	r;

	if ((r = SPAWN_SYS(SYS_close_range, slot_end, ~0U,
	    CLOSE_RANGE_UNSHARE, 0)) < 0) {
		/* Still gtd's table: the pipe is there; gtd waits on it. */
		(void)SPAWN_SYS(SYS_write, statusfd, &sync, 1, 0);
		spawn_fail(statusfd, r, SPAWN_STEP_SETUP);
	}
	if (SPAWN_SYS(SYS_write, statusfd, &sync, 1, 0) != 1)
		spawn_fail(-1, -EPIPE, SPAWN_STEP_SETUP);
				/* gtd is gone or broke the pipe: end */
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
				break;
		}
		if (j < SLOT_COUNT) {		/* this set does not fit */
			if (fd != -1)
				j++;
			while (j-- > 0)
				close(set->slot[j]);
			if (i == 0)
				return (false);	/* off; /dev/null is kept */
			spawn_nsets = i;
			break;
		}
		for (j = 0; j < SLOT_COUNT; j++)
			if (set->slot[j] >= spawn_slot_end)
				spawn_slot_end = set->slot[j] + 1;
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
	spawn_stack_settle();
	for (i = 0; i < spawn_nsets; i++)
		if (spawn_set_settle(&spawn_sets[i]))
			busy = true;
	return (busy);
}

/* The child of spawn_vm: on its own stack, in gtd's memory. */
SPAWN_CHILD static void __attribute__((noreturn))
spawn_vm_main(void *arg)
{
	const struct spawn_vmarg	*va = arg;

	spawn_exec_shared(&va->plan, va->statusfd, va->slot_end);
}

/*
 * Take back the stacks whose child left gtd's memory; unmap the idle
 * ones not kept.  Never waits.
 */
static void
spawn_stack_settle(void)
{
	struct spawn_stack	*st;
	int			 i;

	for (i = 0; i < spawn_stacks_hi; i++) {
		st = &spawn_stacks[i];
		if (st->used && __atomic_load_n(&st->left, __ATOMIC_ACQUIRE) ==
		    0)
			st->used = false;
		if (!st->used && st->base != NULL && (i >= SPAWN_VM_KEEP ||
		    st->size != SPAWN_VM_SIZE)) {
			(void)munmap(st->base, st->size);
			st->base = NULL;
		}
	}
}

/* Where st's stack ends and its spawn_vmarg begins. */
static struct spawn_vmarg *
spawn_stack_top(const struct spawn_stack *st)
{
	return ((struct spawn_vmarg *)(void *)(st->base +
	    sysconf(_SC_PAGESIZE) + SPAWN_VM_STACK));
}

/*
 * An idle stack with room for a plan of size bytes, mapped if need be;
 * NULL if every stack is in use or the mapping failed (the spawn clones
 * as before).  Its child marks it used.
 */
static struct spawn_stack *
spawn_stack_get(size_t size)
{
	struct spawn_stack	*st, *none = NULL;
	size_t			 page = (size_t)sysconf(_SC_PAGESIZE);
	size_t			 need;
	int			 i;

	spawn_stack_settle();
	need = page + SPAWN_VM_STACK + sizeof(struct spawn_vmarg) + size;
	for (i = 0; i < SPAWN_VM_MAX; i++) {
		st = &spawn_stacks[i];
		if (st->base != NULL && !st->used && st->size >= need)
			return (st);
		if (st->base == NULL && none == NULL)
			none = st;
	}
	if ((st = none) == NULL)
		return (NULL);
	st->size = need <= SPAWN_VM_SIZE ? SPAWN_VM_SIZE :
	    (need + page - 1) / page * page;
	if ((st->base = mmap(NULL, st->size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0)) == MAP_FAILED) {
		st->base = NULL;
		return (NULL);
	}
	if (mprotect(st->base, page, PROT_NONE) == -1) {
		(void)munmap(st->base, st->size);	/* no guard: not used */
		st->base = NULL;
		return (NULL);
	}
	if (st - spawn_stacks >= spawn_stacks_hi)
		spawn_stacks_hi = (int)(st - spawn_stacks) + 1;
	return (st);
}

/*
 * clone3 with CLONE_FILES (see spawn_set): packed is the plan, whose
 * descriptors go onto an idle set's slots; p the status pipe; st NULL,
 * or the stack of a child that shares gtd's memory (spawn_stack_get;
 * packed's strings are beside it).  The pid, or -1 with errno (ENOSYS,
 * E2BIG: no such clone; EBUSY: no set is idle; the caller forks).
 */
static pid_t
spawn_shared(const struct spawn_plan *packed, int *p, struct spawn_stack *st)
{
	struct cgroup_clone	cl = { .cgroup_fd = -1, .files = true };
	struct spawn_plan	slotted, *pl = &slotted;
	struct spawn_vmarg	*va = NULL;
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
	if (st != NULL)
		pl = &(va = spawn_stack_top(st))->plan;
	*pl = *packed;
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
	if (va != NULL) {
		va->statusfd = set->slot[SLOT_STATUS];
		va->slot_end = spawn_slot_end;
		cl.stack = st->base + sysconf(_SC_PAGESIZE);
		cl.stack_size = SPAWN_VM_STACK;
		cl.fn = spawn_vm_main;
		cl.arg = va;
		cl.left = &st->left;
		st->left = 1;		/* the kernel zeroes it */
	}
#if SPAWN_DONTFORK
	spawn_heap_dontfork();
#endif
	if ((pid = cgroup_clone(&cl)) == 0)	/* never, with a stack */
		spawn_exec_shared(pl, set->slot[SLOT_STATUS], spawn_slot_end);
	if (pid == -1)
		goto fail;
	if (st != NULL)
		st->used = true;
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
	struct spawn_stack	*st = NULL;
	sigset_t		 all, old;
	char			*buf = stack.c, *mapped = NULL;
	size_t			 size;
	int			 p[2];
	enum spawn_via		 via;
	pid_t			 pid;
	int			 saved, vmerr;

	size = spawn_pack_size(pl);
	if (spawn_vm_on == 0 && !pl->set_uid && !pl->set_gid &&
	    spawn_slots_init() &&
	    (st = spawn_stack_get(size)) != NULL)
		buf = (char *)(spawn_stack_top(st) + 1);
	else if (size > sizeof stack.c && (buf = mapped = mmap(NULL, size,
	    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) ==
	    MAP_FAILED)
		return (-1);
	spawn_pack(pl, &packed, buf);
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == -1) {
		saved = errno;
		pid = -1;
		goto out;
	}
	/*
	 * Neither vfork nor CLONE_VFORK: vfork would spare the page-table
	 * copy too, but it holds gtd until the child is scheduled and has
	 * exec'd, and with many children starting at once that wait is far
	 * longer (measured: 1000 spawns took 4.3 s with vfork, 2.3 s with
	 * fork).  A child that shares gtd's memory (spawn_vm) spares the
	 * copy without the wait; a fork leaves the heap out (see
	 * SPAWN_DONTFORK).  Signals stay blocked across the clone, so no
	 * handler of gtd's runs in the child before it has reset them.
	 */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = -1;
	errno = ENOSYS;
	via = SPAWN_VIA_FILES;
	if (spawn_slots_init()) {
		if (st != NULL && (pid = spawn_shared(&packed, p, st)) != -1)
			via = SPAWN_VIA_VM;
		else if (st != NULL && (vmerr = errno) != EBUSY) {
			/* Without the VM, once; if that works, for good. */
			if ((pid = spawn_shared(&packed, p, NULL)) != -1 &&
			    vmerr != EAGAIN && vmerr != ENOMEM)
				spawn_vm_on = -1;
		} else if (st == NULL)
			pid = spawn_shared(&packed, p, NULL);
		if (pid == -1 && cgroup_clone_unsupported(errno))
			spawn_slots_on = -1;	/* no such clone here: fork */
	}
	if (spawn_slots_on != 1 || (pid == -1 && errno == EBUSY)) {
		via = SPAWN_VIA_FORK;
		pid = packed.in_cgroup ? spawn_clone(&packed) : spawn_fork();
	}
	if (pid == 0)
		spawn_exec(&packed, p[1]);	/* p[0] is CLOEXEC */
	saved = errno;
	if (pid != -1)
		spawn_via = via;
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(p[1]);
	if (pid == -1)
		close(p[0]);
	else
		*statusfd = p[0];	/* O_NONBLOCK: the child's end too */
out:
	if (mapped != NULL)
		munmap(mapped, size);
	errno = saved;
	return (pid);
}

enum spawn_via
spawn_last_via(void)
{
	return (spawn_via);
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
