/* SPDX-License-Identifier: MIT */
/*
 * fscred: a file-system call as the child's user (see fscred.h).  The
 * switch is setfsuid/setfsgid plus the process's supplementary groups;
 * the raw system calls keep glibc from signalling other threads (there
 * are none).  setfs*id report the old id rather than an error, so each
 * switch is read back.  Never logs.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gt/fscred.h"
#include "gt/log.h"
#include "gt/xmalloc.h"

void
fscred_init(struct fscred *cr, bool set_uid, unsigned uid, bool set_gid,
    unsigned gid, const unsigned *groups, int ngroups)
{
	int	i;

	memset(cr, 0, sizeof *cr);
	if (!set_uid || uid == 0 || geteuid() != 0)
		return;
	cr->set = true;
	cr->uid = (uid_t)uid;
	cr->gid = set_gid ? (gid_t)gid : getegid();
	if (ngroups > 0) {
		cr->groups = xreallocarray(NULL, ngroups, sizeof *cr->groups);
		for (i = 0; i < ngroups; i++)
			cr->groups[i] = (gid_t)groups[i];
		cr->ngroups = ngroups;
	}
}

void
fscred_clear(struct fscred *cr)
{
	free(cr->groups);
	memset(cr, 0, sizeof *cr);
}

int
fscred_become(const struct fscred *cr, struct fscred_saved *sv)
{
	int	n;

	memset(sv, 0, sizeof *sv);
	if (!cr->set)
		return (0);
	sv->uid = geteuid();
	sv->gid = getegid();
	sv->dumpable = prctl(PR_GET_DUMPABLE);
	if ((n = getgroups(0, NULL)) == -1)
		return (-1);
	sv->groups = xreallocarray(NULL, n + 1, sizeof *sv->groups);
	if ((sv->ngroups = getgroups(n, sv->groups)) == -1 ||
	    syscall(SYS_setgroups, (size_t)cr->ngroups, cr->groups) == -1) {
		free(sv->groups);
		sv->groups = NULL;
		return (-1);
	}
	(void)setfsgid(cr->gid);		/* read back below */
	(void)setfsuid(cr->uid);
	if ((uid_t)setfsuid((uid_t)-1) != cr->uid ||
	    (gid_t)setfsgid((gid_t)-1) != cr->gid) {
		fscred_unbecome(cr, sv);
		errno = EPERM;
		return (-1);
	}
	return (0);
}

void
fscred_unbecome(const struct fscred *cr, struct fscred_saved *sv)
{
	int	saved = errno;

	if (!cr->set)
		return;
	(void)setfsuid(sv->uid);		/* read back below */
	(void)setfsgid(sv->gid);
	if ((uid_t)setfsuid((uid_t)-1) != sv->uid ||
	    (gid_t)setfsgid((gid_t)-1) != sv->gid ||
	    syscall(SYS_setgroups, (size_t)sv->ngroups, sv->groups) == -1)
		fatal("%s: cannot take gtd's own ids back", __func__);
	/* A change of fsuid made gtd undumpable: as it was. */
	if (sv->dumpable > 0)
		/* Best effort: only core dumps depend on it. */
		(void)prctl(PR_SET_DUMPABLE, sv->dumpable);
	free(sv->groups);
	sv->groups = NULL;
	errno = saved;
}
