/* SPDX-License-Identifier: MIT */
/*
 * gt-clusternode: one cluster node (cluster.c with the fence.c watchdog)
 * in a process of its own, for the cluster e2e tests: a test can stop it
 * with SIGSTOP or kill it, as it would a gtd.
 *
 * usage: gt-clusternode ZONE NODE TTL_MS ENDPOINT...
 *
 * Commands on stdin, one per line:
 *   claim NAME 0|1      claim NAME (1: failover), and run it if claimed
 *   release NAME        stop NAME's process and release the claim
 *   quit                leave cleanly (stop the children, revoke)
 * Events on stdout, one per line (times are CLOCK_BOOTTIME ms):
 *   state STATE
 *   claimed NAME FENCE PID | held NAME NODE | unavailable NAME
 *   failover NAME FENCE PID
 *   fence KILL_BY NOW      (must_fence: every child is SIGKILLed at once)
 *   lost NAME | exited NAME PID | bye
 * A claimed name runs `sleep 3600` in a process group of its own, which
 * the watchdog kills if this process misses its fencing deadline.  Exit
 * codes: 64 bad usage, 70 setup failed.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/types.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "gt/cluster.h"
#include "gt/fence.h"
#include "gt/log.h"
#include "gt/xmalloc.h"

#define KIDS_MAX	64

struct kid {
	char	 name[CLUSTER_NAME_MAX + 1];
	pid_t	 pid;			/* 0: free slot */
	ev_child w;
};

static struct cluster	*cl;
static struct fence	*fw;
static struct kid	 kids[KIDS_MAX];
static char		 in[8192];
static size_t		 inlen;

static void
say(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void
kid_exit_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct kid	*k = w->data;

	ev_child_stop(loop, w);
	/* (void): the watchdog may be gone with it */
	(void)fence_del(fw, -k->pid);
	say("exited %s %d", k->name, (int)k->pid);
	k->pid = 0;
}

/* Run `sleep 3600` for name in a process group of its own. */
static pid_t
kid_start(const char *name)
{
	struct kid	*k = NULL;
	sigset_t	 none;
	pid_t		 pid, parent = getpid();
	int		 i;

	for (i = 0; i < KIDS_MAX && k == NULL; i++)
		if (kids[i].pid == 0)
			k = &kids[i];
	if (k == NULL)
		return (-1);
	fflush(NULL);
	if ((pid = fork()) == -1)
		return (-1);
	if (pid == 0) {
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGTERM, SIG_DFL);
		if (setpgid(0, 0) == -1 ||
		    prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 ||
		    getppid() != parent)
			_exit(127);
		execlp("sleep", "sleep", "3600", (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);		/* both sides: no race with a kill */
	snprintf(k->name, sizeof k->name, "%s", name);
	k->pid = pid;
	ev_child_init(&k->w, kid_exit_cb, pid, 0);
	k->w.data = k;
	ev_child_start(EV_DEFAULT, &k->w);
	if (fence_add(fw, -pid) == -1)
		say("error fence_add: %s", strerror(errno));
	return (pid);
}

static struct kid *
kid_find(const char *name)
{
	int	i;

	for (i = 0; i < KIDS_MAX; i++)
		if (kids[i].pid != 0 && strcmp(kids[i].name, name) == 0)
			return (&kids[i]);
	return (NULL);
}

static void
claimed_cb(const struct cluster_claim_result *r, void *arg)
{
	char	*name = arg;
	pid_t	 pid;

	if (r->status == CLUSTER_CLAIMED) {
		pid = kid_start(name);
		cluster_update(cl, name, pid, "running");
		say("claimed %s %lld %d", name, (long long)r->fence, (int)pid);
	} else if (r->status == CLUSTER_HELD)
		say("held %s %s", name, r->holder->node);
	else
		say("unavailable %s", name);
	free(name);
}

static void
obs_state(enum cluster_state st, const char *why, void *arg)
{
	say("state %s", cluster_state_name(st));
}

static void
obs_fence(int64_t kill_by, const char *why, void *arg)
{
	int	i;

	say("fence %lld %lld", (long long)kill_by,
	    (long long)cluster_clock_ms());
	for (i = 0; i < KIDS_MAX; i++)
		if (kids[i].pid != 0)
			kill(-kids[i].pid, SIGKILL);
}

static void
obs_renewed(int64_t kill_by, void *arg)
{
	if (fence_arm(fw, kill_by) == -1)
		say("error fence_arm: %s", strerror(errno));
}

static void
obs_lost(const char *name, void *arg)
{
	struct kid	*k = kid_find(name);

	say("lost %s", name);
	if (k != NULL)
		kill(-k->pid, SIGKILL);
}

static void
obs_failover(const struct cluster_failover *f, void *arg)
{
	pid_t	pid = kid_start(f->name);

	cluster_update(cl, f->name, pid, "running");
	say("failover %s %lld %d", f->name, (long long)f->fence, (int)pid);
}

static const struct cluster_observer obs = {
	.state = obs_state,
	.must_fence = obs_fence,
	.renewed = obs_renewed,
	.lost = obs_lost,
	.start_failover = obs_failover
};

static void
bye_cb(void *arg)
{
	say("bye");
	ev_break(EV_DEFAULT, EVBREAK_ALL);
}

static void
command(char *line)
{
	char		*cmd = strtok(line, " "), *name = strtok(NULL, " ");
	char		*fo = strtok(NULL, " ");
	struct kid	*k;
	int		 i;

	if (cmd != NULL && strcmp(cmd, "claim") == 0 && name != NULL)
		cluster_claim(cl, name, "{}", fo != NULL && *fo == '1',
		    claimed_cb, xstrdup(name));
	else if (cmd != NULL && strcmp(cmd, "release") == 0 && name != NULL) {
		if ((k = kid_find(name)) != NULL)
			kill(-k->pid, SIGKILL);
		if (cluster_release(cl, name) == -1)
			say("error release %s", name);
	} else if (cmd != NULL && strcmp(cmd, "quit") == 0) {
		for (i = 0; i < KIDS_MAX; i++)
			if (kids[i].pid != 0)
				kill(-kids[i].pid, SIGKILL);
		cluster_shutdown(cl, bye_cb, NULL);
	} else
		say("error bad command");
}

static void
stdin_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	char	*nl;
	ssize_t	 n;

	n = read(0, in + inlen, sizeof in - inlen - 1);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		ev_io_stop(loop, w);	/* the test went away: PDEATHSIG */
		return;
	}
	inlen += n;
	while ((nl = memchr(in, '\n', inlen)) != NULL) {
		*nl = '\0';
		command(in);
		inlen -= nl + 1 - in;
		memmove(in, nl + 1, inlen);
	}
	if (inlen == sizeof in - 1)
		inlen = 0;		/* an endless line: dropped */
}

int
main(int argc, char **argv)
{
	struct cluster_opts	 o;
	ev_io			 io;
	char			*cause = NULL;

	if (argc < 5) {
		fprintf(stderr, "usage: gt-clusternode ZONE NODE TTL_MS "
		    "ENDPOINT...\n");
		return (64);
	}
	log_init(LOG_LVL_INFO, 0);
	xmalloc_install_json();
	signal(SIGPIPE, SIG_IGN);
	/* Dies with the test, like a gtd's children with gtd. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if ((fw = fence_new(&cause)) == NULL) {
		fprintf(stderr, "%s\n", cause);
		return (70);
	}
	memset(&o, 0, sizeof o);
	o.loop = EV_DEFAULT;
	o.zone = argv[1];
	o.node = argv[2];
	o.lease_ttl_ms = atoi(argv[3]);
	o.endpoints = (const char *const *)argv + 4;
	o.nendpoints = argc - 4;
	o.pid = getpid();
	o.obs = &obs;
	if ((cl = cluster_new(&o, &cause)) == NULL) {
		fprintf(stderr, "%s\n", cause);
		return (70);
	}
	say("pid %d %d", (int)getpid(), (int)fence_pid(fw));
	ev_io_init(&io, stdin_cb, 0, EV_READ);
	ev_io_start(EV_DEFAULT, &io);
	ev_run(EV_DEFAULT, 0);
	cluster_free(cl);
	fence_free(fw);
	return (0);
}
