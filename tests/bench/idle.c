/* SPDX-License-Identifier: MIT */
/*
 * bench-idle: the long-running child of the process workloads.  It does
 * nothing but wait for a signal, so what is measured is the supervisor.
 * With --ready-fd=N it writes "\n" on fd N after --ready-after-ms (default
 * 0) and closes it: gtd's ready {"fd":N}, s6's notification-fd.  With
 * --ready-on-usr1 it is ready only once it gets SIGUSR1 (a gate the bench
 * opens).  With --stamp=PATH it appends "NAME s NS" when it starts and
 * "NAME r NS" right before it writes its readiness (NAME from $GTD_NAME,
 * NS from CLOCK_MONOTONIC, one clock for every process): W-deps measures
 * from one child's readiness to its dependent's start with these.
 *
 * usage: bench-idle [--ready-fd=N] [--ready-after-ms=MS] [--ready-on-usr1]
 *        [--stamp=PATH]
 */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Append "NAME what NS\n" to path (one write: O_APPEND keeps it whole). */
static void
idle_stamp(const char *path, char what)
{
	struct timespec	 ts;
	const char	*name = getenv("GTD_NAME");
	char		 line[256];
	int		 fd, n;

	if (path == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	n = snprintf(line, sizeof line, "%s %c %lld\n", name != NULL ? name :
	    "-", what, (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
	if (n < 0 || (size_t)n >= sizeof line)
		return;
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0644)) == -1)
		return;
	(void)!write(fd, line, n);
	close(fd);
}

int
main(int argc, char *argv[])
{
	struct timespec	 ts;
	const char	*stamp = NULL;
	sigset_t	 usr1;
	long		 ms = 0;
	int		 fd = -1, i, sig;
	int		 gate = 0;

	for (i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--ready-fd=", 11) == 0)
			fd = atoi(argv[i] + 11);
		else if (strncmp(argv[i], "--ready-after-ms=", 17) == 0)
			ms = atol(argv[i] + 17);
		else if (strcmp(argv[i], "--ready-on-usr1") == 0)
			gate = 1;
		else if (strncmp(argv[i], "--stamp=", 8) == 0)
			stamp = argv[i] + 8;
		else
			return (64);
	}
	/* Blocked before the stamp: once it is there, USR1 is safe. */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	if (gate)
		sigprocmask(SIG_BLOCK, &usr1, NULL);
	idle_stamp(stamp, 's');
	while (gate && sigwait(&usr1, &sig) != 0)
		;
	if (fd >= 0) {
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (ms % 1000) * 1000000L;
		while (nanosleep(&ts, &ts) == -1)
			;		/* EINTR: sleep the rest */
		idle_stamp(stamp, 'r');
		(void)!write(fd, "\n", 1);
		close(fd);
	}
	for (;;)
		pause();
}
