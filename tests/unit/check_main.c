/* SPDX-License-Identifier: MIT */
/*
 * check_main: run every unit suite in one SRunner, and the fixtures the
 * suites share (check_unit.h): the fake spawn seam and the socketpair
 * client.  CK_RUN_SUITE / CK_RUN_CASE select a subset and CK_FORK stays
 * on (Check reads all three itself), so each test gets its own process,
 * EV_DEFAULT loop and SQLite db.  Exits non-zero on any failure.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "gt/child.h"
#include "gt/conn.h"
#include "gt/gtd.h"
#include "gt/log.h"
#include "gt/spawn.h"
#include "gt/spec.h"
#include "gt/xmalloc.h"

#include "check_unit.h"

static pid_t	fake_spawn(const struct spawn_plan *, int *);
static int	fake_kill(pid_t, int);
static int	fake_pidfd_open(pid_t);

const struct child_ops fake_ops = {
	.spawn = fake_spawn,
	.kill = fake_kill,
	.pidfd_open = fake_pidfd_open
};

int			fake_nspawn;
int			fake_pid_step = 1;
int			fake_spawn_errno;
int			fake_statusfd = -1;
bool			fake_group_esrch;
struct fake_kill	fake_kills[FAKE_MAX_KILLS];
int			fake_nkills;
struct fake_plan	fake_last_plan;
int			fake_extra_fd = -1;
int			fake_pidfd_errno;

/* Keep a copy of a NULL-terminated vector (truncated to fit). */
static void
fake_copy_strv(char **dst, char *const *src)
{
	int	i;

	for (i = 0; dst[i] != NULL; i++) {
		free(dst[i]);
		dst[i] = NULL;
	}
	for (i = 0; src != NULL && src[i] != NULL && i < FAKE_MAX_STR - 1; i++)
		dst[i] = xstrdup(src[i]);
}

static pid_t
fake_spawn(const struct spawn_plan *pl, int *statusfd)
{
	struct fake_plan	*fp = &fake_last_plan;

	free(fp->path);
	fp->path = xstrdup(pl->path);
	free(fp->cwd);
	fp->cwd = xstrdup(pl->cwd);
	fake_copy_strv(fp->argv, pl->argv);
	fake_copy_strv(fp->envp, pl->envp);
	fp->new_session = pl->new_session;
	fp->parent = pl->parent;
	fp->fd_in = pl->fd_in;
	fp->fd_out = pl->fd_out;
	fp->fd_err = pl->fd_err;
	free(fp->stdin_text);
	fp->stdin_text = xcalloc(1, 4096);
	if (pl->fd_in >= 0 && pread(pl->fd_in, fp->stdin_text, 4095, 0) < 0)
		fp->stdin_text[0] = '\0';
	fp->extra_target = pl->extra_fd == -1 ? -1 : pl->extra_target;
	if (fake_spawn_errno != 0) {
		errno = fake_spawn_errno;
		return (-1);
	}
	if (pl->extra_fd != -1) {
		if (fake_extra_fd != -1)
			close(fake_extra_fd);
		fake_extra_fd = fcntl(pl->extra_fd, F_DUPFD_CLOEXEC, 3);
	}
	*statusfd = fake_statusfd;
	fake_statusfd = -1;		/* the child owns it now */
	fake_nspawn++;
	return (FAKE_PID_BASE + fake_nspawn * fake_pid_step);
}

static int
fake_kill(pid_t pid, int sig)
{
	if (fake_nkills < FAKE_MAX_KILLS) {
		fake_kills[fake_nkills].pid = pid;
		fake_kills[fake_nkills].sig = sig;
	}
	fake_nkills++;
	if (pid < 0 && fake_group_esrch) {
		errno = ESRCH;
		return (-1);
	}
	return (0);
}

static int
fake_pidfd_open(pid_t pid)
{
	if (fake_pidfd_errno != 0) {
		errno = fake_pidfd_errno;
		return (-1);
	}
	return ((int)syscall(SYS_pidfd_open, pid, 0));
}

bool
fake_plan_has_env(const char *kv)
{
	int	i;

	for (i = 0; fake_last_plan.envp[i] != NULL; i++)
		if (strcmp(fake_last_plan.envp[i], kv) == 0)
			return (true);
	return (false);
}

struct gtd *
test_gtd_new(void)
{
	struct gtd	*g;
	char		*cause = NULL;

	g = gtd_new(&fake_ops, &cause);
	ck_assert_msg(g != NULL, "gtd_new: %s", cause);
	return (g);
}

struct childspec *
test_spec(const char *name, int restart)
{
	struct childspec	*s = spec_new();

	s->name = xstrdup(name);
	spec_strv_add(&s->cmd, &s->ncmd, "/bin/true");
	s->restart = restart;
	return (s);
}

long long
test_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

void
test_client_open(struct test_client *cl, struct gtd *g)
{
	int	sv[2];

	memset(cl, 0, sizeof *cl);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	ck_assert_int_eq(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	cl->g = g;
	cl->fd = sv[1];
	cl->cn = conn_new(g->conns, sv[0]);	/* owns sv[0] */
	ck_assert_ptr_nonnull(cl->cn);
}

void
test_client_close(struct test_client *cl)
{
	if (cl->fd != -1)
		close(cl->fd);
	cl->fd = -1;
	free(cl->buf);
	cl->buf = NULL;
	cl->len = cl->size = 0;
}

void
test_client_send(struct test_client *cl, const char *s, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		n = send(cl->fd, s, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		ck_assert_msg(n > 0, "send: %s", strerror(errno));
		s += n;
		len -= n;
	}
}

void
test_client_sendz(struct test_client *cl, const char *s)
{
	test_client_send(cl, s, strlen(s));
}

void
test_client_pump(struct test_client *cl, int poll_ms)
{
	struct pollfd	pfd = { .fd = cl->fd, .events = POLLIN };
	ssize_t		n;

	ev_run(cl->g->loop, EVRUN_NOWAIT);
	if (cl->eof || poll(&pfd, 1, poll_ms) <= 0)
		return;
	if (cl->size - cl->len < 4096) {
		cl->size = cl->size == 0 ? 65536 : cl->size * 2;
		cl->buf = xreallocarray(cl->buf, 1, cl->size);
	}
	n = recv(cl->fd, cl->buf + cl->len, cl->size - cl->len, MSG_DONTWAIT);
	if (n == 0 || (n == -1 && errno == ECONNRESET))
		cl->eof = true;
	else if (n > 0)
		cl->len += n;
}

json_t *
test_client_reply(struct test_client *cl)
{
	long long	 deadline = test_now_ms() + TEST_DEADLINE_MS;
	json_error_t	 je;
	json_t		*j;
	char		*nl;
	size_t		 len;

	for (;;) {
		nl = cl->len == 0 ? NULL : memchr(cl->buf, '\n', cl->len);
		if (nl != NULL)
			break;
		if (cl->eof || test_now_ms() > deadline)
			return (NULL);
		test_client_pump(cl, 1);
	}
	len = nl - cl->buf;
	j = json_loadb(cl->buf, len, JSON_REJECT_DUPLICATES, &je);
	ck_assert_msg(j != NULL, "reply is not JSON: %.*s: %s", (int)len,
	    cl->buf, je.text);
	ck_assert_msg(memchr(cl->buf, '\r', len) == NULL, "CR in a reply");
	cl->len -= len + 1;
	memmove(cl->buf, nl + 1, cl->len);
	return (j);
}

bool
test_client_wait_eof(struct test_client *cl)
{
	long long	deadline = test_now_ms() + TEST_DEADLINE_MS;

	while (!cl->eof && cl->len == 0 && test_now_ms() <= deadline)
		test_client_pump(cl, 1);
	return (cl->eof && cl->len == 0);
}

bool
test_client_until(struct test_client *cl, bool (*cond)(void *), void *arg)
{
	long long	deadline = test_now_ms() + TEST_DEADLINE_MS;

	while (!cond(arg) && test_now_ms() <= deadline)
		test_client_pump(cl, 1);
	return (cond(arg));
}

int
main(void)
{
	SRunner	*sr;
	int	 nfail;

	/* A conn closed under a test must not kill it with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	/* Decisions are logged at info; keep the test output readable. */
	log_set_level(LOG_LVL_WARN);
	xmalloc_install_json();
	sr = srunner_create(spec_suite());
	srunner_add_suite(sr, policy_suite());
	srunner_add_suite(sr, config_suite());
	srunner_add_suite(sr, registry_suite());
	srunner_add_suite(sr, attrtab_suite());
	srunner_add_suite(sr, proto_suite());
	srunner_add_suite(sr, child_suite());
	srunner_add_suite(sr, conn_suite());
	srunner_add_suite(sr, cmd_suite());
	srunner_add_suite(sr, sd_suite());
	srunner_add_suite(sr, query_suite());
	srunner_add_suite(sr, gtctl_text_suite());
	srunner_add_suite(sr, log_suite());
	srunner_add_suite(sr, shmirror_suite());
	srunner_add_suite(sr, fence_suite());
	srunner_add_suite(sr, libgtd_suite());
	srunner_add_suite(sr, childlog_suite());
	srunner_add_suite(sr, deps_suite());
	srunner_add_suite(sr, group_suite());
	srunner_add_suite(sr, envfile_suite());
	srunner_add_suite(sr, procstat_suite());
	srunner_add_suite(sr, acl_suite());
	srunner_add_suite(sr, healthspec_suite());
#ifdef HAVE_LIBCURL
	srunner_add_suite(sr, etcd_suite());
	srunner_add_suite(sr, cluster_suite());
#endif
	srunner_add_suite(sr, cglimits_suite());
	srunner_add_suite(sr, cgroup_suite());
	srunner_add_suite(sr, reexec_suite());
	srunner_add_suite(sr, plan_suite());
	srunner_add_suite(sr, spawn_suite());
	srunner_run_all(sr, CK_ENV);		/* CK_VERBOSITY, else normal */
	nfail = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (nfail == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}

int
test_listen_loopback(int backlog, char *url, size_t urlsize)
{
	struct sockaddr_in	sin;
	socklen_t		slen = sizeof sin;
	int			fd;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0),
	    0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	ck_assert_int_eq(listen(fd, backlog), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &slen), 0);
	snprintf(url, urlsize, "http://127.0.0.1:%d", ntohs(sin.sin_port));
	return (fd);
}
