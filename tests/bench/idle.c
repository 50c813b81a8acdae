/* SPDX-License-Identifier: MIT */
/*
 * bench-idle: the long-running child of the process workloads.  It does
 * nothing but wait for a signal, so what is measured is the supervisor.
 * With --ready-fd=N it writes "\n" on fd N after --ready-after-ms (default
 * 0) and closes it: gtd's ready {"fd":N}, s6's notification-fd.
 *
 * usage: bench-idle [--ready-fd=N] [--ready-after-ms=MS]
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
	struct timespec	ts;
	long		ms = 0;
	int		fd = -1, i;

	for (i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--ready-fd=", 11) == 0)
			fd = atoi(argv[i] + 11);
		else if (strncmp(argv[i], "--ready-after-ms=", 17) == 0)
			ms = atol(argv[i] + 17);
		else
			return (64);
	}
	if (fd >= 0) {
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (ms % 1000) * 1000000L;
		while (nanosleep(&ts, &ts) == -1)
			;		/* EINTR: sleep the rest */
		(void)!write(fd, "\n", 1);
		close(fd);
	}
	for (;;)
		pause();
}
