/* SPDX-License-Identifier: MIT */
/*
 * check_e2e_systemd: gtd under a (fake) systemd.  The test plays the
 * service manager: a datagram socket as $NOTIFY_SOCKET that must see
 * READY=1 with STATUS=, STATUS= updates, STOPPING=1 after SIGTERM and
 * WATCHDOG=1 with $WATCHDOG_USEC; and socket activation, where the test
 * binds and listens, and starts gtd itself (the harness always passes
 * -s) with the socket on fd 3, $LISTEN_FDS and $LISTEN_PID.  Every wait
 * has a deadline.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "gt/client.h"
#include "gt/compat.h"
#include "gt/xmalloc.h"
#include "harness.h"

#define SD_WAIT_MS	5000		/* for one datagram or condition */

/* The fake service manager's side: a temp dir and the notify socket. */
struct fake_sd {
	char	dir[32];
	char	addr[64];		/* DIR/notify */
	int	fd;
};

static void
fake_sd_open(struct fake_sd *f)
{
	struct sockaddr_un	sun;

	strlcpy(f->dir, "/tmp/gtd-sd-XXXXXX", sizeof f->dir);
	ck_assert_ptr_nonnull(mkdtemp(f->dir));
	snprintf(f->addr, sizeof f->addr, "%s/notify", f->dir);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, f->addr, sizeof sun.sun_path);
	f->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(f->fd, 0);
	ck_assert_int_eq(bind(f->fd, (struct sockaddr *)&sun, sizeof sun), 0);
	/* This test's process only (CK_FORK): gtd inherits it. */
	setenv("NOTIFY_SOCKET", f->addr, 1);
}

static void
fake_sd_close(struct fake_sd *f)
{
	close(f->fd);
	unlink(f->addr);
	rmdir(f->dir);
	unsetenv("NOTIFY_SOCKET");
}

/*
 * The datagram msg has the line want ("READY=1"), or a line that starts
 * with want when want ends in '=' ("STATUS=").
 */
static bool
has_line(const char *msg, const char *want)
{
	size_t		 n = strlen(want);
	const char	*p = msg;

	for (;;) {
		if (strncmp(p, want, n) == 0 && (want[n - 1] == '=' ||
		    p[n] == '\n' || p[n] == '\0'))
			return (true);
		if ((p = strchr(p, '\n')) == NULL)
			return (false);
		p++;
	}
}

/*
 * Receive datagrams until one has the line want, within ms.  Returns it
 * (a static buffer), or NULL at the deadline.
 */
static const char *
fake_sd_wait(struct fake_sd *f, const char *want, int ms)
{
	static char	buf[4096];
	struct pollfd	pfd = { .fd = f->fd, .events = POLLIN };
	long		deadline = e2e_now_ms() + ms;
	ssize_t		n;

	while (e2e_now_ms() < deadline) {
		if (poll(&pfd, 1, (int)(deadline - e2e_now_ms())) != 1)
			continue;
		if ((n = recv(f->fd, buf, sizeof buf - 1, MSG_DONTWAIT)) < 0)
			continue;
		buf[n] = '\0';
		if (has_line(buf, want))
			return (buf);
	}
	return (NULL);
}

START_TEST(e2e_sd_ready_status_stopping)
{
	struct fake_sd	 f;
	struct e2e	*e;
	const char	*m;
	int		 st;

	fake_sd_open(&f);
	unsetenv("WATCHDOG_USEC");
	e = e2e_start(NULL);
	/* gtd is ready (the harness saw -r 3): READY=1 came first. */
	m = fake_sd_wait(&f, "READY=1", SD_WAIT_MS);
	ck_assert_msg(m != NULL, "no READY=1");
	ck_assert_msg(has_line(m, "STATUS=0 children"), "READY with %s", m);
	e2e_spawn(e, "a", NULL);
	ck_assert_msg(fake_sd_wait(&f, "STATUS=1 child: 1 running",
	    SD_WAIT_MS) != NULL, "no STATUS= update for child a");
	ck_assert_int_eq(kill(e2e_pid(e), SIGTERM), 0);
	m = fake_sd_wait(&f, "STOPPING=1", SD_WAIT_MS);
	ck_assert_msg(m != NULL, "no STOPPING=1 after SIGTERM");
	ck_assert_msg(has_line(m, "STATUS="), "STOPPING without STATUS: %s",
	    m);
	ck_assert(e2e_wait_exit(e, 10000, &st));
	e2e_stop(e);
	fake_sd_close(&f);
}
END_TEST

/* WATCHDOG_USEC=200000: WATCHDOG=1 every 100 ms; three within 2 s. */
START_TEST(e2e_sd_watchdog)
{
	struct fake_sd	 f;
	struct e2e	*e;
	long		 t0;
	int		 i;

	fake_sd_open(&f);
	setenv("WATCHDOG_USEC", "200000", 1);
	e = e2e_start(NULL);
	t0 = e2e_now_ms();
	for (i = 0; i < 3; i++)
		ck_assert_msg(fake_sd_wait(&f, "WATCHDOG=1", 2000) !=
		    NULL, "WATCHDOG=1 #%d missing", i + 1);
	ck_assert_int_lt(e2e_now_ms() - t0, 2000);
	e2e_stop(e);
	unsetenv("WATCHDOG_USEC");
	fake_sd_close(&f);
}
END_TEST

/* gtd started as systemd would: socket on fd 3, readiness on fd 4. */
struct act {
	char	dir[32];
	char	sock[64];
	char	log[64];
	pid_t	pid;
	int	lfd;
};

static void
act_exec(struct act *a, int readyw)
{
	const char	*gtd = getenv("GTD") != NULL ? getenv("GTD") :
			    "build/gtd";
	sigset_t	 none;
	char		 pid[32];
	int		 fd;

	/* If the test dies, so does gtd (and its children after it). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
		_exit(126);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if ((fd = open(a->log, O_WRONLY | O_CREAT | O_APPEND, 0644)) == -1 ||
	    dup2(fd, 1) == -1 || dup2(fd, 2) == -1 ||
	    (fd = open("/dev/null", O_RDONLY)) == -1 || dup2(fd, 0) == -1)
		_exit(126);
	/* dup2 clears FD_CLOEXEC, as systemd's fds arrive. */
	if (dup2(a->lfd, 3) == -1 || dup2(readyw, 4) == -1)
		_exit(126);
	for (fd = 5; fd < 4096; fd++)	/* Check's fds lack CLOEXEC */
		close(fd);
	snprintf(pid, sizeof pid, "%d", (int)getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "1", 1);
	setenv("LISTEN_FDNAMES", "gtd", 1);
	unsetenv("GTD_SOCKET");
	unsetenv("NOTIFY_SOCKET");
	/* No -s: GTD_SOCKET must come from the socket itself. */
	execl(gtd, gtd, "-d", "-r", "4", "-z", "activated", (char *)NULL);
	_exit(127);
}

static void
act_start(struct act *a)
{
	struct sockaddr_un	sun;
	struct pollfd		pfd;
	long			deadline;
	char			c = 0;
	int			rp[2];

	strlcpy(a->dir, "/tmp/gtd-XXXXXX", sizeof a->dir);
	ck_assert_ptr_nonnull(mkdtemp(a->dir));
	snprintf(a->sock, sizeof a->sock, "%s/sock", a->dir);
	snprintf(a->log, sizeof a->log, "%s/gtd.log", a->dir);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, a->sock, sizeof sun.sun_path);
	a->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(a->lfd, 0);
	ck_assert_int_eq(bind(a->lfd, (struct sockaddr *)&sun, sizeof sun), 0);
	ck_assert_int_eq(listen(a->lfd, 16), 0);
	ck_assert_int_eq(pipe2(rp, O_CLOEXEC), 0);
	fflush(NULL);
	a->pid = fork();
	ck_assert_int_ne(a->pid, -1);
	if (a->pid == 0)
		act_exec(a, rp[1]);
	close(rp[1]);
	deadline = e2e_now_ms() + 10000;
	pfd.fd = rp[0];
	pfd.events = POLLIN;
	while (c != '\n' && e2e_now_ms() < deadline)
		if (poll(&pfd, 1, (int)(deadline - e2e_now_ms())) == 1 &&
		    read(rp[0], &c, 1) != 1)
			break;		/* EOF: gtd died */
	close(rp[0]);
	ck_assert_msg(c == '\n', "activated gtd not ready; log %s", a->log);
}

/* SIGTERM, exit 0 within a deadline. */
static void
act_stop(struct act *a)
{
	long	deadline = e2e_now_ms() + 10000;
	pid_t	r;
	int	st = 0;

	ck_assert_int_eq(kill(a->pid, SIGTERM), 0);
	while ((r = waitpid(a->pid, &st, WNOHANG)) == 0 &&
	    e2e_now_ms() < deadline)
		poll(NULL, 0, 5);
	if (r == 0) {
		kill(a->pid, SIGKILL);
		waitpid(a->pid, &st, 0);
	}
	ck_assert_msg(r == a->pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "gtd status 0x%x; log %s", st, a->log);
}

static json_t *
act_request(struct client *cl, const char *line)
{
	const char	*reply;
	json_t		*j;

	ck_assert_int_eq(client_send(cl, line, strlen(line)), 0);
	reply = client_recv(cl, E2E_REPLY_MS, NULL);
	ck_assert_msg(reply != NULL, "no reply to %s: %s", line,
	    strerror(errno));
	j = json_loads(reply, 0, NULL);
	ck_assert_msg(j != NULL && json_is_true(json_object_get(j, "ok")),
	    "%s -> %s", line, reply);
	return (j);
}

START_TEST(e2e_sd_socket_activation)
{
	struct act	 a;
	struct client	*cl;
	struct stat	 sb;
	json_t		*j;
	char		*cause = NULL, *line, env[64], want[96];
	pid_t		 child;

	act_start(&a);
	cl = client_connect(a.sock, &cause);
	ck_assert_msg(cl != NULL, "connect: %s", cause);
	j = act_request(cl, "{\"id\":1,\"op\":\"hello\"}");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "id")), 1);
	json_decref(j);
	/* The child's GTD_SOCKET is the socket systemd bound. */
	snprintf(env, sizeof env, "%s/env", a.dir);
	xasprintf(&line, "{\"op\":\"start_child\",\"name\":\"c\",\"cmd\":"
	    "[\"%s\",\"--env=%s\"]}", e2e_testchild(NULL), env);
	j = act_request(cl, line);
	free(line);
	child = (pid_t)json_integer_value(json_object_get(j, "pid"));
	json_decref(j);
	snprintf(want, sizeof want, "GTD_SOCKET=%s\n", a.sock);
	ck_assert_msg(e2e_wait_text(env, want, SD_WAIT_MS), "no %s in %s",
	    want, env);
	ck_assert_msg(!e2e_wait_text(env, "LISTEN_", 0), "LISTEN_* passed on");
	client_free(cl);
	act_stop(&a);
	ck_assert_msg(e2e_wait_dead(child, 3000), "child %d survived gtd",
	    (int)child);
	/* gtd did not create the socket, so it must not remove it. */
	ck_assert_msg(lstat(a.sock, &sb) == 0 && S_ISSOCK(sb.st_mode),
	    "%s removed by gtd", a.sock);
	close(a.lfd);
	unlink(a.sock);
	unlink(env);
	unlink(a.log);
	ck_assert_int_eq(rmdir(a.dir), 0);
}
END_TEST

Suite *
e2e_systemd_suite(void)
{
	Suite	*s = suite_create("e2e_systemd");
	TCase	*tc;

	tc = tcase_create("notify");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_sd_ready_status_stopping);
	tcase_add_test(tc, e2e_sd_watchdog);
	suite_add_tcase(s, tc);
	tc = tcase_create("activation");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_sd_socket_activation);
	suite_add_tcase(s, tc);
	return (s);
}
