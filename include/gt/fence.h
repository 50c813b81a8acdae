/* SPDX-License-Identifier: MIT */
/*
 * fence: a watchdog process that kills the cluster children when gtd
 * misses its fencing deadline.
 *
 * gtd stops its cluster children itself when it cannot renew its lease
 * (cluster.h, must_fence), but a gtd that is stopped (SIGSTOP, a
 * debugger), starved or hung runs no timer, while its children run on
 * and the lease expires in etcd: another node then starts the same
 * children.  The watchdog is a small process forked from gtd that gtd
 * tells, after each renewal, the time by which the children must be dead
 * (kill_by, CLOCK_BOOTTIME ms) and which processes to kill (as kill(2):
 * -pgid for a process group).  If kill_by passes without a new one, the
 * watchdog SIGKILLs every target and forgets them.  It dies with gtd
 * (PR_SET_PDEATHSIG and EOF on its pipe), in a session of its own so a
 * terminal's signals do not reach it.
 *
 * The forked watchdog runs no allocator and no libev (gtd may have
 * marked its heap MADV_DONTFORK): a fixed table on its stack, poll(2),
 * read(2), kill(2).  Writes to it never block: a full pipe is an error
 * (EAGAIN).  Library-like: never logs.
 */
#ifndef GT_FENCE_H
#define GT_FENCE_H

#include <sys/types.h>

#include <stdint.h>

#define FENCE_MAX_TARGETS	4096

struct fence;

/* Fork the watchdog.  NULL and *cause (xmalloc'd) on failure. */
struct fence	*fence_new(char **cause);
/* Close its pipe: it exits (libev reaps it).  NULL is fine. */
void		 fence_free(struct fence *);
pid_t		 fence_pid(const struct fence *);
/* Kill every target at kill_by (CLOCK_BOOTTIME ms); 0 disarms.  0 or -1. */
int		 fence_arm(struct fence *, int64_t kill_by);
/*
 * Add or remove a target (as for kill(2): > 0 a process, < -1 a process
 * group).  -1 with errno ENOSPC past FENCE_MAX_TARGETS, EAGAIN when the
 * watchdog does not read.
 */
int		 fence_add(struct fence *, pid_t);
int		 fence_del(struct fence *, pid_t);

#endif /* GT_FENCE_H */
