/* SPDX-License-Identifier: MIT */
/* procstat: /proc/PID/stat (see procstat.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gt/procstat.h"

int
proc_stat(pid_t pid, struct proc_stat *ps)
{
	char		 path[64], buf[1024], *p;
	ssize_t		 n;
	int		 fd, saved, ppid, pgrp, sid;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			errno = ESRCH;
		return (-1);
	}
	n = read(fd, buf, sizeof buf - 1);	/* one read: the whole line */
	saved = errno;
	close(fd);
	if (n < 0) {
		errno = saved;
		return (-1);
	}
	buf[n] = '\0';
	/* Fields 4-8, 14-15, 22-24 of proc(5), after "pid (comm) state". */
	if ((p = strrchr(buf, ')')) == NULL || sscanf(p + 1, " %*c %d %d %d "
	    "%*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d "
	    "%llu %*u %lld", &ppid, &pgrp, &sid, &ps->utime, &ps->stime,
	    &ps->starttime, &ps->rss) != 7) {
		errno = EINVAL;
		return (-1);
	}
	ps->ppid = ppid;
	ps->pgrp = pgrp;
	ps->session = sid;
	return (0);
}
