/* SPDX-License-Identifier: MIT */
/*
 * procstat: the fields gtd reads from /proc/PID/stat, parsed in one
 * place.  The process name (comm) may hold spaces and parentheses, so
 * the fields are counted from the last ')'.  Reads /proc only; no state.
 */
#ifndef GT_PROCSTAT_H
#define GT_PROCSTAT_H

#include <sys/types.h>

struct proc_stat {
	pid_t			ppid;
	pid_t			pgrp;
	pid_t			session;
	unsigned long long	utime;		/* clock ticks */
	unsigned long long	stime;		/* clock ticks */
	unsigned long long	starttime;	/* ticks after boot */
	long long		rss;		/* pages */
};

/*
 * The fields of pid.  0, or -1 with errno: ESRCH when the process is
 * gone (no /proc entry), EINVAL when the text does not parse.
 */
int	proc_stat(pid_t, struct proc_stat *);

#endif /* GT_PROCSTAT_H */
