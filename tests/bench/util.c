/* SPDX-License-Identifier: MIT */
/*
 * util: clocks, quantiles, process start/stop and socket helpers for the
 * bench driver.  Failing here means the bench cannot measure, so errors
 * end the run (bench_die) instead of being passed up.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/bench/bench.h"

static int	bench_cmp_double(const void *, const void *);

int64_t
bench_now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
}

double
bench_now(void)
{
	return (bench_now_ns() / 1e9);
}

static int
bench_cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

double
bench_quantile(double *v, size_t n, double p)
{
	size_t	i;

	if (n == 0)
		return (0);
	qsort(v, n, sizeof *v, bench_cmp_double);
	/* Nearest rank: the smallest value with at least p of the data. */
	i = (size_t)(p * n + 0.999999);
	if (i > 0)
		i--;
	if (i >= n)
		i = n - 1;
	return (v[i]);
}

void
bench_mmm(double *v, size_t n, double *med, double *min, double *max)
{
	if (n == 0) {
		*med = *min = *max = 0;
		return;
	}
	qsort(v, n, sizeof *v, bench_cmp_double);
	*min = v[0];
	*max = v[n - 1];
	*med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void
bench_die(const char *fmt, ...)
{
	va_list	ap;

	fflush(stdout);
	fputs("gtbench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

void
bench_note(const char *fmt, ...)
{
	va_list	ap;

	fflush(stdout);
	fputs("  .. ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
bench_connect(const char *path)
{
	struct sockaddr_un	sun;
	int			fd, saved;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return (-1);
	}
	return (fd);
}

int
bench_connect_wait(const char *path, double secs)
{
	double	end = bench_now() + secs;
	int	fd;

	while ((fd = bench_connect(path)) == -1 && bench_now() < end)
		poll(NULL, 0, 5);
	return (fd);
}

long
bench_rss_kib(pid_t pid)
{
	char	path[64], line[256];
	long	kib = -1;
	FILE	*f;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return (-1);
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return (kib);
}

double
bench_cpu_ms(pid_t pid)
{
	char			 path[64], buf[1024], *p;
	unsigned long long	 ut, st;
	long			 hz = sysconf(_SC_CLK_TCK);
	ssize_t			 n;
	int			 fd;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0 || hz <= 0)
		return (-1);
	buf[n] = '\0';
	/* After the command's ")": state is field 3, utime 14, stime 15. */
	if ((p = strrchr(buf, ')')) == NULL || sscanf(p + 2,
	    "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
	    &ut, &st) != 2)
		return (-1);
	return ((double)(ut + st) * 1000.0 / hz);
}

/*
 * Every fd the hard limit allows, and for root at least BENCH_NOFILE:
 * 10000 children with outputs "log" hold three fds each in gtd (a pidfd
 * and two pipes).
 */
void
bench_nofile_max(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_max < BENCH_NOFILE) {
		rl.rlim_cur = rl.rlim_max = BENCH_NOFILE;
		if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
			return;
		(void)getrlimit(RLIMIT_NOFILE, &rl);	/* unchanged */
	}
	rl.rlim_cur = rl.rlim_max;
	(void)setrlimit(RLIMIT_NOFILE, &rl);	/* best effort */
}

void
bench_pin(pid_t pid, int cpu)
{
	cpu_set_t	set;
	long		n = sysconf(_SC_NPROCESSORS_ONLN), i;

	CPU_ZERO(&set);
	for (i = 0; i < n && i < CPU_SETSIZE; i++)
		if (cpu == -1 || i == cpu)
			CPU_SET(i, &set);
	if (pid > 0 || pid == 0)
		(void)sched_setaffinity(pid, sizeof set, &set);	/* advisory */
}

/* The child side of bench_start: never returns. */
static void
bench_start_child(const char *const argv[], const char *logpath, int readyfd,
    int wr)
{
	int	fd;

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);	/* no orphans if we die */
	if ((fd = open("/dev/null", O_RDONLY)) != -1)
		dup2(fd, 0);
	if (logpath != NULL &&
	    (fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0644)) != -1) {
		dup2(fd, 2);
		dup2(fd, 1);
	}
	if (readyfd >= 0) {
		if (wr != readyfd && dup2(wr, readyfd) == -1)
			_exit(126);
		fcntl(readyfd, F_SETFD, 0);
	}
	/* execvp's prototype predates const; it does not write argv. */
	execvp(argv[0], (char *const *)argv);
	fprintf(stderr, "gtbench: exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

pid_t
bench_start(const char *const argv[], const char *logpath, int readyfd,
    double secs)
{
	struct pollfd	pfd;
	int		p[2] = { -1, -1 }, st;
	char		c;
	pid_t		pid;
	double		end;

	if (readyfd >= 0 && pipe2(p, O_CLOEXEC) == -1)
		bench_die("pipe: %s", strerror(errno));
	fflush(stdout);
	if ((pid = fork()) == -1)
		bench_die("fork: %s", strerror(errno));
	if (pid == 0)
		bench_start_child(argv, logpath, readyfd, p[1]);
	if (readyfd < 0)
		return (pid);
	close(p[1]);
	end = bench_now() + secs;
	pfd = (struct pollfd){ .fd = p[0], .events = POLLIN };
	for (;;) {
		if (poll(&pfd, 1, 50) == 1) {
			if (read(p[0], &c, 1) == 1 && c == '\n')
				break;
			bench_die("%s exited before it was ready (see %s)",
			    argv[0], logpath != NULL ? logpath : "stderr");
		}
		if (waitpid(pid, &st, WNOHANG) == pid)
			bench_die("%s exited before it was ready (see %s)",
			    argv[0], logpath != NULL ? logpath : "stderr");
		if (bench_now() > end)
			bench_die("%s not ready after %.0f s", argv[0], secs);
	}
	close(p[0]);
	return (pid);
}

int
bench_wait_exit(pid_t pid, double secs, int *status)
{
	double	end = bench_now() + secs;
	int	st;

	do {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			if (status != NULL)
				*status = st;
			return (0);
		}
		poll(NULL, 0, 2);
	} while (bench_now() < end);
	return (-1);
}

int
bench_stop(pid_t pid, double secs)
{
	int	st = 0;

	if (pid <= 0)
		return (0);
	kill(pid, SIGTERM);
	if (bench_wait_exit(pid, secs, &st) == -1) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	return (st);
}
