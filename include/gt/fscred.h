/* SPDX-License-Identifier: MIT */
/*
 * fscred: run a few file-system calls with the file-system credentials
 * of the user a child runs as (setfsuid(2), setfsgid(2), setgroups(2)),
 * then switch back, so that the kernel decides what gtd may open on the
 * child's behalf exactly as it would for the child (protocol §7).
 * Nothing else runs in between: gtd has one thread, and the loop never
 * waits for it.  Never logs; failing to switch back is an impossible
 * state (fatal).
 */
#ifndef GT_FSCRED_H
#define GT_FSCRED_H

#include <stdbool.h>
#include <sys/types.h>

/* Whose file-system credentials: gtd's own unless set. */
struct fscred {
	bool	 set;
	uid_t	 uid;
	gid_t	 gid;
	gid_t	*groups;	/* owned, ngroups entries */
	int	 ngroups;
};

/* What fscred_become saved, for fscred_unbecome. */
struct fscred_saved {
	uid_t	 uid;
	gid_t	 gid;
	gid_t	*groups;	/* owned until fscred_unbecome */
	int	 ngroups;
	int	 dumpable;
};

/*
 * The credentials of a process that runs as uid (set_uid), with gid
 * (set_gid, else gtd's) and these supplementary groups: set only when gtd
 * is root and uid is not root, since otherwise the process runs with
 * gtd's own powers and so are its files opened.  groups are copied.
 */
void	fscred_init(struct fscred *, bool set_uid, unsigned uid, bool set_gid,
	    unsigned gid, const unsigned *groups, int ngroups);
void	fscred_clear(struct fscred *);		/* frees groups */

/*
 * Take cr's file-system ids (cr->set only; else nothing happens).  0, or
 * -1 with errno (EPERM: gtd may not take them) and nothing changed.
 * Every fscred_become that returned 0 needs its fscred_unbecome, with
 * no other call in between than the file-system calls to make as cr.
 */
int	fscred_become(const struct fscred *cr, struct fscred_saved *);
/* Back to gtd's own ids (errno is kept). */
void	fscred_unbecome(const struct fscred *cr, struct fscred_saved *);

#endif /* GT_FSCRED_H */
