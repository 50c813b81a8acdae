/* SPDX-License-Identifier: MIT */
/*
 * fence: the fencing watchdog (contracts in fence.h).  gtd writes fixed
 * 16-byte messages to a pipe (atomic: below PIPE_BUF); the forked
 * watchdog polls the pipe with a timeout of at most FENCE_TICK_MS, so a
 * suspended machine's deadline is noticed at once on resume
 * (CLOCK_BOOTTIME goes on during a suspend, poll's timeout does not).
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gt/fence.h"
#include "gt/xmalloc.h"

#define FENCE_TICK_MS	100

enum fence_op { FENCE_ARM = 1, FENCE_ADD, FENCE_DEL };

struct fence_msg {
	int32_t	op;
	int32_t	pad;
	int64_t	v;
};

struct fence {
	pid_t	pid;		/* the watchdog */
	int	fd;		/* owned: the pipe's write end */
	int	ntargets;	/* as the watchdog counts them */
};

static int64_t
fence_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* The watchdog's own table of targets, on its stack. */
struct fence_table {
	pid_t	t[FENCE_MAX_TARGETS];
	int	n;
};

static void
fence_apply(struct fence_table *tab, const struct fence_msg *m,
    int64_t *kill_by)
{
	int	i;

	switch (m->op) {
	case FENCE_ARM:
		*kill_by = m->v;
		break;
	case FENCE_ADD:
		if (tab->n < FENCE_MAX_TARGETS)
			tab->t[tab->n++] = (pid_t)m->v;
		break;
	case FENCE_DEL:
		for (i = 0; i < tab->n; i++)
			if (tab->t[i] == (pid_t)m->v) {
				tab->t[i] = tab->t[--tab->n];
				break;
			}
		break;
	}
}

/* The forked side: async-signal-safe calls only, nothing on the heap. */
static void __attribute__((noreturn))
fence_run(int fd, pid_t parent)
{
	struct fence_table	tab;
	struct fence_msg	buf[64];
	struct pollfd		pfd;
	sigset_t		none;
	int64_t			kill_by = 0, now, wait;
	ssize_t			n;
	size_t			have = 0, i;
	int			k;

	/* gtd's handlers (libev's) mean nothing here: defaults, unmasked. */
	for (k = 1; k < NSIG; k++)
		if (k != SIGKILL && k != SIGSTOP)
			signal(k, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(0);
	/* (void): already a leader is fine; out of the terminal's reach */
	(void)setsid();
	/*
	 * Hold none of gtd's descriptors: a client connection gtd closes
	 * must reach EOF, a listening socket must go with gtd.
	 */
	if (fd != 3 && (dup2(fd, 3) == -1 || close(fd) == -1))
		_exit(0);
	fd = 3;
	if (syscall(SYS_close_range, 4U, ~0U, 0U) == -1)
		for (k = 4; k < 65536; k++)
			close(k);
	tab.n = 0;
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		now = fence_now();
		if (kill_by != 0 && now >= kill_by) {
			for (k = 0; k < tab.n; k++)
				kill(tab.t[k], SIGKILL);
			tab.n = 0;
			kill_by = 0;
		}
		wait = kill_by == 0 ? -1 : kill_by - now < FENCE_TICK_MS ?
		    kill_by - now : FENCE_TICK_MS;
		if (poll(&pfd, 1, (int)wait) <= 0)
			continue;
		n = read(fd, (char *)buf + have, sizeof buf - have);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			_exit(0);		/* gtd closed it, or died */
		have += (size_t)n;
		for (i = 0; i + 1 <= have / sizeof buf[0]; i++)
			fence_apply(&tab, &buf[i], &kill_by);
		/* Writes are whole messages; keep a stray tail anyway. */
		memmove(buf, (char *)buf + i * sizeof buf[0],
		    have - i * sizeof buf[0]);
		have -= i * sizeof buf[0];
	}
}

struct fence *
fence_new(char **cause)
{
	struct fence	*f;
	pid_t		 parent = getpid();
	int		 p[2], saved;

	if (pipe2(p, O_CLOEXEC) == -1) {
		xasprintf(cause, "fence: pipe: %s", strerror(errno));
		return (NULL);
	}
	f = xcalloc(1, sizeof *f);
	switch (f->pid = fork()) {
	case -1:
		saved = errno;
		close(p[0]);
		close(p[1]);
		free(f);
		xasprintf(cause, "fence: fork: %s", strerror(saved));
		return (NULL);
	case 0:
		close(p[1]);
		fence_run(p[0], parent);
	}
	close(p[0]);
	f->fd = p[1];
	if (fcntl(f->fd, F_SETFL, O_NONBLOCK) == -1) {
		saved = errno;
		fence_free(f);
		xasprintf(cause, "fence: fcntl: %s", strerror(saved));
		return (NULL);
	}
	return (f);
}

void
fence_free(struct fence *f)
{
	if (f == NULL)
		return;
	close(f->fd);
	free(f);
}

pid_t
fence_pid(const struct fence *f)
{
	return (f->pid);
}

static int
fence_send(struct fence *f, enum fence_op op, int64_t v)
{
	struct fence_msg	m;
	ssize_t			n;

	memset(&m, 0, sizeof m);
	m.op = op;
	m.v = v;
	if ((n = write(f->fd, &m, sizeof m)) == (ssize_t)sizeof m)
		return (0);
	if (n >= 0)
		errno = EIO;		/* cannot happen below PIPE_BUF */
	return (-1);
}

int
fence_arm(struct fence *f, int64_t kill_by)
{
	return (fence_send(f, FENCE_ARM, kill_by));
}

int
fence_add(struct fence *f, pid_t target)
{
	if (f->ntargets >= FENCE_MAX_TARGETS) {
		errno = ENOSPC;
		return (-1);
	}
	if (fence_send(f, FENCE_ADD, target) == -1)
		return (-1);
	f->ntargets++;
	return (0);
}

int
fence_del(struct fence *f, pid_t target)
{
	if (fence_send(f, FENCE_DEL, target) == -1)
		return (-1);
	if (f->ntargets > 0)
		f->ntargets--;
	return (0);
}
