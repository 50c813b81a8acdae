/* SPDX-License-Identifier: MIT */
/*
 * bench-spawnloop: the spawn baseline of `make bench`.  The least a
 * supervisor can do: fork + exec each child, and know that the exec
 * succeeded from a close-on-exec pipe reaching EOF (gtd's "running" for
 * ready "exec"), or, with -R, from the line the child writes on fd 3
 * (gtd's ready {"fd":3}).  The child side sets only PR_SET_PDEATHSIG, so
 * nothing outlives the bench.  Figures go to stdout as key=value lines:
 *
 *   spawn_ms=T        N children started, all running (or ready, -R)
 *   restart_us=A B .. K times: SIGKILL one child, reap it, start a new
 *                     one, until its exec succeeded
 *   storm_ms=T        SIGKILL all N, then reap and restart each as its
 *                     exit is seen, until every replacement runs
 *
 * usage: bench-spawnloop -n N [-k K] [-s] [-R] -- PROGRAM [ARG...]
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct sl {
	char	**argv;
	bool	  ready;	/* wait for "\n" on fd 3, not for exec */
	int	  n;
	pid_t	 *pids;
	int	  ep;
	int	  pending;	/* pipes not yet at EOF / ready */
};

static void	sl_die(const char *) __attribute__((noreturn));
static double	sl_now(void);
static pid_t	sl_spawn(struct sl *);
static void	sl_wait_all(struct sl *);
static int	sl_index(struct sl *, pid_t);

static void
sl_die(const char *what)
{
	fprintf(stderr, "bench-spawnloop: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double
sl_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* fork + exec one child; its pipe joins the epoll set. */
static pid_t
sl_spawn(struct sl *s)
{
	struct epoll_event	ev;
	int			p[2];
	pid_t			pid;

	if (pipe2(p, O_CLOEXEC) == -1)
		sl_die("pipe2");
	if ((pid = fork()) == -1)
		sl_die("fork");
	if (pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* dup2 clears close-on-exec: fd 3 is the ready pipe. */
		if (s->ready && (p[1] == 3 ? fcntl(3, F_SETFD, 0) :
		    dup2(p[1], 3)) == -1)
			_exit(126);
		execv(s->argv[0], s->argv);
		_exit(127);
	}
	close(p[1]);
	ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = p[0] };
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, p[0], &ev) == -1)
		sl_die("epoll_ctl");
	s->pending++;
	return (pid);
}

/* Until every pipe reached EOF (exec done) or gave a line (ready). */
static void
sl_wait_all(struct sl *s)
{
	struct epoll_event	evs[256];
	char			buf[16];
	int			n, i;

	while (s->pending > 0) {
		if ((n = epoll_wait(s->ep, evs, 256, -1)) == -1) {
			if (errno == EINTR)
				continue;
			sl_die("epoll_wait");
		}
		for (i = 0; i < n; i++) {
			/*
			 * EOF, the ready line, or an error: this one is
			 * done.
			 */
			(void)!read(evs[i].data.fd, buf, sizeof buf);
			close(evs[i].data.fd);
			s->pending--;
		}
	}
}

static int
sl_index(struct sl *s, pid_t pid)
{
	int	i;

	for (i = 0; i < s->n; i++)
		if (s->pids[i] == pid)
			return (i);
	return (-1);
}

static void
sl_restart(struct sl *s, int k)
{
	double	t0;
	int	i, j;

	fputs("restart_us=", stdout);
	for (j = 0; j < k; j++) {
		i = j % s->n;
		t0 = sl_now();
		kill(s->pids[i], SIGKILL);
		if (waitpid(s->pids[i], NULL, 0) == -1)
			sl_die("waitpid");
		s->pids[i] = sl_spawn(s);
		sl_wait_all(s);
		printf("%s%.1f", j ? " " : "", (sl_now() - t0) * 1e6);
	}
	putchar('\n');
}

static void
sl_storm(struct sl *s)
{
	double	t0;
	pid_t	pid;
	int	i, left;

	t0 = sl_now();
	for (i = 0; i < s->n; i++)
		kill(s->pids[i], SIGKILL);
	for (left = s->n; left > 0; left--) {
		if ((pid = waitpid(-1, NULL, 0)) == -1)
			sl_die("waitpid");
		if ((i = sl_index(s, pid)) == -1) {
			left++;			/* not ours: ignore */
			continue;
		}
		s->pids[i] = sl_spawn(s);
	}
	sl_wait_all(s);
	printf("storm_ms=%.1f\n", (sl_now() - t0) * 1e3);
}

int
main(int argc, char *argv[])
{
	struct sl	s;
	double		t0;
	int		ch, i, k = 0;
	bool		storm = false;

	memset(&s, 0, sizeof s);
	while ((ch = getopt(argc, argv, "k:n:Rs")) != -1) {
		switch (ch) {
		case 'k':
			k = atoi(optarg);
			break;
		case 'n':
			s.n = atoi(optarg);
			break;
		case 'R':
			s.ready = true;
			break;
		case 's':
			storm = true;
			break;
		default:
			goto usage;
		}
	}
	if (s.n <= 0 || optind >= argc)
		goto usage;
	s.argv = argv + optind;
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);	/* die with the driver */
	if ((s.pids = calloc(s.n, sizeof *s.pids)) == NULL)
		sl_die("calloc");
	if ((s.ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		sl_die("epoll_create1");
	t0 = sl_now();
	for (i = 0; i < s.n; i++)
		s.pids[i] = sl_spawn(&s);
	sl_wait_all(&s);
	printf("spawn_ms=%.1f\n", (sl_now() - t0) * 1e3);
	fflush(stdout);
	if (k > 0)
		sl_restart(&s, k);
	if (storm)
		sl_storm(&s);
	for (i = 0; i < s.n; i++)
		kill(s.pids[i], SIGKILL);
	for (i = 0; i < s.n; i++)
		waitpid(s.pids[i], NULL, 0);
	return (0);
usage:
	fprintf(stderr, "usage: bench-spawnloop -n N [-k K] [-s] [-R] -- "
	    "program [arg ...]\n");
	return (64);
}
