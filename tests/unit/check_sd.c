/* SPDX-License-Identifier: MIT */
/*
 * check_sd: the systemd protocols without libsystemd (sd.c) and gtd's
 * use of them (gtd-sd.c): socket activation's environment handling and
 * fd checks (each case in a grandchild that owns fds 3 and 4, since
 * Check's own fds may sit there), notification datagrams to a path and
 * an abstract socket, a full queue that must not block, the watchdog
 * variables, the journal stream check, and the STATUS= summary.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "gt/child.h"
#include "gt/compat.h"
#include "gt/gtd-sd.h"
#include "gt/gtd.h"
#include "gt/sd.h"
#include "gt/spec.h"
#include "gt/xmalloc.h"

#include "check_unit.h"

/* What fd 3 is in the grandchild that calls sd_listen_fd. */
enum act_fd {
	ACT_NONE,		/* closed */
	ACT_LISTEN,		/* a listening AF_UNIX stream socket */
	ACT_LISTEN2,		/* the same, plus a second one on fd 4 */
	ACT_BOUND,		/* AF_UNIX stream, bound, not listening */
	ACT_DGRAM,		/* AF_UNIX datagram */
	ACT_PIPE,		/* not a socket */
	ACT_TCP			/* a listening AF_INET socket */
};

/* What the grandchild saw. */
struct act_result {
	int	rv;
	int	err;
	int	fd;
	int	cloexec;
	int	nonblock;
	int	env_left;	/* LISTEN_* variables still set */
	int	fd4_open;
};

static const struct {
	const char	*name;
	enum act_fd	 what;
	const char	*nfds;		/* NULL: LISTEN_FDS unset */
	int		 ourpid;	/* LISTEN_PID: ours, or our parent's */
	int		 rv;
	int		 err;		/* when rv == -1 */
	int		 fd;
} act_rows[] = {
	{ "no variables", ACT_LISTEN, NULL, 1, 0, 0, -1 },
	{ "another pid", ACT_LISTEN, "1", 0, 0, 0, -1 },
	{ "one fd", ACT_LISTEN, "1", 1, 0, 0, 3 },
	{ "two fds", ACT_LISTEN2, "2", 1, 0, 0, 3 },
	{ "zero fds", ACT_LISTEN, "0", 1, 0, 0, -1 },
	{ "bad count", ACT_LISTEN, "1x", 1, -1, EINVAL, -1 },
	{ "negative count", ACT_LISTEN, "-1", 1, -1, EINVAL, -1 },
	{ "not listening", ACT_BOUND, "1", 1, -1, EINVAL, -1 },
	{ "datagram", ACT_DGRAM, "1", 1, -1, EPROTOTYPE, -1 },
	{ "fd 3 closed", ACT_NONE, "1", 1, -1, EBADF, -1 },
	{ "a pipe", ACT_PIPE, "1", 1, -1, ENOTSOCK, -1 },
	{ "tcp", ACT_TCP, "1", 1, -1, EAFNOSUPPORT, -1 }
};

/* A socket on fd target (abstract name: nothing to clean up); 0/-1. */
static int
act_socket(int target, int type, int do_listen)
{
	struct sockaddr_un	sun;
	socklen_t		len;
	int			fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	len = offsetof(struct sockaddr_un, sun_path) + 1 +
	    snprintf(sun.sun_path + 1, sizeof sun.sun_path - 1,
	    "gtd-check-sd/%d/%d", (int)getpid(), target);
	if ((fd = socket(AF_UNIX, type, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, len) == -1 ||
	    (do_listen && listen(fd, 4) == -1))
		return (-1);
	if (fd != target) {		/* socket() may have picked target */
		if (dup2(fd, target) == -1)
			return (-1);
		close(fd);
	}
	return (0);
}

/* fd 3 as the row says; 0/-1. */
static int
act_setup(enum act_fd what)
{
	struct sockaddr_in	sin;
	int			fd, p[2];

	close(3);
	close(4);
	switch (what) {
	case ACT_NONE:
		return (0);
	case ACT_LISTEN:
		return (act_socket(3, SOCK_STREAM, 1));
	case ACT_LISTEN2:
		return (act_socket(3, SOCK_STREAM, 1) == -1 ? -1 :
		    act_socket(4, SOCK_STREAM, 1));
	case ACT_BOUND:
		return (act_socket(3, SOCK_STREAM, 0));
	case ACT_DGRAM:
		return (act_socket(3, SOCK_DGRAM, 0));
	case ACT_PIPE:
		if (pipe(p) == -1 || dup2(p[0], 3) == -1)
			return (-1);
		return (0);
	case ACT_TCP:
		memset(&sin, 0, sizeof sin);
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
		    bind(fd, (struct sockaddr *)&sin, sizeof sin) == -1 ||
		    listen(fd, 4) == -1 || dup2(fd, 3) == -1)
			return (-1);
		return (0);
	}
	return (-1);
}

/* The grandchild: set up, call sd_listen_fd, report on w, _exit. */
static void
act_run(int i, int w)
{
	struct act_result	r;
	char			buf[32];
	int			fd;

	memset(&r, 0, sizeof r);
	if (act_setup(act_rows[i].what) == -1)
		_exit(2);
	if (act_rows[i].nfds != NULL) {
		snprintf(buf, sizeof buf, "%d", act_rows[i].ourpid ?
		    (int)getpid() : (int)getppid());
		setenv("LISTEN_PID", buf, 1);
		setenv("LISTEN_FDS", act_rows[i].nfds, 1);
		setenv("LISTEN_FDNAMES", "gtd", 1);
	}
	fd = 12345;
	r.rv = sd_listen_fd(&fd);
	r.err = errno;
	r.fd = fd;
	r.cloexec = fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0;
	r.nonblock = fd >= 0 && (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0;
	r.env_left = (getenv("LISTEN_PID") != NULL) +
	    (getenv("LISTEN_FDS") != NULL) + (getenv("LISTEN_FDNAMES") != NULL);
	r.fd4_open = fcntl(4, F_GETFD) != -1;
	_exit(write(w, &r, sizeof r) == sizeof r ? 0 : 3);
}

START_TEST(test_listen_fd)
{
	struct act_result	r;
	pid_t			pid;
	int			p[2], w, st;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	/* Out of the way of fds 3 and 4, which the grandchild replaces. */
	w = fcntl(p[1], F_DUPFD_CLOEXEC, 10);
	ck_assert_int_ge(w, 10);
	close(p[1]);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0)
		act_run(_i, w);
	close(w);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "%s: grandchild status 0x%x", act_rows[_i].name, st);
	ck_assert_int_eq(read(p[0], &r, sizeof r), sizeof r);
	close(p[0]);
	ck_assert_msg(r.rv == act_rows[_i].rv, "%s: rv %d (%s)",
	    act_rows[_i].name, r.rv, strerror(r.err));
	if (r.rv == -1)
		ck_assert_msg(r.err == act_rows[_i].err,
		    "%s: errno %s, want %s", act_rows[_i].name, strerror(r.err),
		    strerror(act_rows[_i].err));
	ck_assert_msg(r.fd == act_rows[_i].fd, "%s: fd %d",
	    act_rows[_i].name, r.fd);
	if (r.fd != -1)
		ck_assert(r.cloexec && r.nonblock);
	ck_assert_msg(r.env_left == 0, "%s: %d LISTEN_* variables left",
	    act_rows[_i].name, r.env_left);
	/* Only a successful activation closes the extra fds. */
	if (act_rows[_i].what == ACT_LISTEN2)
		ck_assert(!r.fd4_open);
}
END_TEST

/* A temporary directory for socket paths; removed by dir_rm. */
static char	tmpdir[32];

static const char *
dir_path(const char *name)
{
	static char	buf[64];

	if (tmpdir[0] == '\0') {
		strlcpy(tmpdir, "/tmp/gtd-sd-XXXXXX", sizeof tmpdir);
		ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	}
	snprintf(buf, sizeof buf, "%s/%s", tmpdir, name);
	return (buf);
}

static void
dir_rm(const char *name)
{
	unlink(dir_path(name));
	rmdir(tmpdir);
}

/* A datagram receiver bound to addr ('/' path or '@' abstract). */
static int
receiver(const char *addr)
{
	struct sockaddr_un	sun;
	socklen_t		len;
	int			fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, addr, sizeof sun.sun_path);
	len = offsetof(struct sockaddr_un, sun_path) + strlen(addr) +
	    (addr[0] != '@');
	if (addr[0] == '@')
		sun.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, len), 0);
	return (fd);
}

/* The next datagram within TEST_DEADLINE_MS (static buffer), or NULL. */
static const char *
receive(int fd)
{
	static char	buf[4096];
	struct pollfd	pfd = { .fd = fd, .events = POLLIN };
	ssize_t		n;

	if (poll(&pfd, 1, TEST_DEADLINE_MS) != 1)
		return (NULL);
	if ((n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT)) < 0)
		return (NULL);
	buf[n] = '\0';
	return (buf);
}

START_TEST(test_notifier_unset)
{
	unsetenv("NOTIFY_SOCKET");
	errno = 0;
	ck_assert_ptr_null(sd_notifier_new());
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(sd_notify_send(NULL, "READY=1"), 0);
	sd_notifier_free(NULL);
}
END_TEST

static const struct {
	const char	*value;
	int		 err;
} bad_notify_rows[] = {
	{ "", EINVAL },
	{ "relative/sock", EINVAL },
	{ "vsock:2:1234", EINVAL },
	{ "/a/very/long/path/that/does/not/fit/into/sun_path/because/sun_"
	    "path/is/only/one/hundred/and/eight/bytes/long/x", ENAMETOOLONG }
};

START_TEST(test_notifier_bad)
{
	setenv("NOTIFY_SOCKET", bad_notify_rows[_i].value, 1);
	errno = 0;
	ck_assert_ptr_null(sd_notifier_new());
	ck_assert_int_eq(errno, bad_notify_rows[_i].err);
	ck_assert_ptr_null(getenv("NOTIFY_SOCKET"));
}
END_TEST

START_TEST(test_notifier_path)
{
	struct sd_notifier	*n;
	char			*addr = xstrdup(dir_path("notify"));
	int			 fd = receiver(addr);

	setenv("NOTIFY_SOCKET", addr, 1);
	n = sd_notifier_new();
	ck_assert_ptr_nonnull(n);
	ck_assert_ptr_null(getenv("NOTIFY_SOCKET"));
	ck_assert_str_eq(sd_notifier_address(n), addr);
	ck_assert_int_eq(sd_notify_send(n, "READY=1\nSTATUS=x"), 0);
	ck_assert_str_eq(receive(fd), "READY=1\nSTATUS=x");
	close(fd);
	dir_rm("notify");
	/* Nobody there any more: an error, not a hang. */
	ck_assert_int_eq(sd_notify_send(n, "WATCHDOG=1"), -1);
	ck_assert(errno == ENOENT || errno == ECONNREFUSED);
	sd_notifier_free(n);
	free(addr);
}
END_TEST

START_TEST(test_notifier_abstract)
{
	struct sd_notifier	*n;
	char			 addr[64];
	int			 fd;

	snprintf(addr, sizeof addr, "@gtd-check-sd/%d", (int)getpid());
	fd = receiver(addr);
	setenv("NOTIFY_SOCKET", addr, 1);
	n = sd_notifier_new();
	ck_assert_ptr_nonnull(n);
	ck_assert_int_eq(sd_notify_send(n, "STOPPING=1"), 0);
	ck_assert_str_eq(receive(fd), "STOPPING=1");
	sd_notifier_free(n);
	close(fd);
}
END_TEST

/* A receiver that never reads: sends fail with EAGAIN, never block. */
START_TEST(test_notifier_full)
{
	struct sd_notifier	*n;
	char			 addr[64];
	int			 fd, i, rv = 0;

	snprintf(addr, sizeof addr, "@gtd-check-sd-full/%d", (int)getpid());
	fd = receiver(addr);
	setenv("NOTIFY_SOCKET", addr, 1);
	n = sd_notifier_new();
	ck_assert_ptr_nonnull(n);
	for (i = 0; i < 100000 && rv == 0; i++)
		rv = sd_notify_send(n, "WATCHDOG=1");
	ck_assert_int_eq(rv, -1);
	ck_assert_int_eq(errno, EAGAIN);
	sd_notifier_free(n);
	close(fd);
}
END_TEST

static const struct {
	const char	*usec;		/* NULL: unset */
	int		 pid;		/* 0 unset, 1 ours, 2 our parent's */
	const char	*pidtext;	/* instead of pid, when set */
	int		 rv;
	uint64_t	 want;
} wd_rows[] = {
	{ NULL, 0, NULL, 0, 0 },
	{ "200000", 0, NULL, 0, 200000 },
	{ "200000", 1, NULL, 0, 200000 },
	{ "200000", 2, NULL, 0, 0 },
	{ "200000", 0, "x", -1, 0 },
	{ "0", 0, NULL, -1, 0 },
	{ "", 0, NULL, -1, 0 },
	{ "12abc", 0, NULL, -1, 0 },
	{ "-5", 0, NULL, -1, 0 }
};

START_TEST(test_watchdog_usec)
{
	uint64_t	usec = 7;
	char		buf[32];

	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	if (wd_rows[_i].usec != NULL)
		setenv("WATCHDOG_USEC", wd_rows[_i].usec, 1);
	if (wd_rows[_i].pid != 0) {
		snprintf(buf, sizeof buf, "%d", wd_rows[_i].pid == 1 ?
		    (int)getpid() : (int)getppid());
		setenv("WATCHDOG_PID", buf, 1);
	}
	if (wd_rows[_i].pidtext != NULL)
		setenv("WATCHDOG_PID", wd_rows[_i].pidtext, 1);
	errno = 0;
	ck_assert_int_eq(sd_watchdog_usec(&usec), wd_rows[_i].rv);
	if (wd_rows[_i].rv == -1)
		ck_assert_int_eq(errno, EINVAL);
	ck_assert_uint_eq(usec, wd_rows[_i].want);
	ck_assert_ptr_null(getenv("WATCHDOG_USEC"));
	ck_assert_ptr_null(getenv("WATCHDOG_PID"));
}
END_TEST

START_TEST(test_journal_stream)
{
	struct stat	st;
	char		buf[64];
	int		fd;

	fd = open(dir_path("log"), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	unsetenv("JOURNAL_STREAM");
	ck_assert(!sd_journal_stream(fd));
	snprintf(buf, sizeof buf, "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", buf, 1);
	ck_assert(sd_journal_stream(fd));
	ck_assert(!sd_journal_stream(STDIN_FILENO));
	snprintf(buf, sizeof buf, "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino + 1);
	setenv("JOURNAL_STREAM", buf, 1);
	ck_assert(!sd_journal_stream(fd));
	setenv("JOURNAL_STREAM", "garbage", 1);
	ck_assert(!sd_journal_stream(fd));
	ck_assert_ptr_nonnull(getenv("JOURNAL_STREAM"));	/* kept */
	close(fd);
	dir_rm("log");
}
END_TEST

START_TEST(test_socket_path)
{
	struct sockaddr_un	 sun;
	char			*p, *want = xstrdup(dir_path("sock"));
	int			 fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, want, sizeof sun.sun_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	errno = 0;
	ck_assert_ptr_null(sd_socket_path(fd));		/* unbound */
	ck_assert_int_eq(errno, EAFNOSUPPORT);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	p = sd_socket_path(fd);
	ck_assert_str_eq(p, want);
	free(p);
	close(fd);
	dir_rm("sock");
	free(want);
	/* An abstract name is no path either. */
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path + 1, "gtd-check-sd-path", sizeof sun.sun_path - 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun,
	    offsetof(struct sockaddr_un, sun_path) + 18), 0);
	errno = 0;
	ck_assert_ptr_null(sd_socket_path(fd));
	ck_assert_int_eq(errno, EAFNOSUPPORT);
	close(fd);
}
END_TEST

START_TEST(test_status_text)
{
	struct gtd	*g = test_gtd_new();
	struct child	*a, *b;
	char		*s;

	s = gtd_sd_status(g);
	ck_assert_str_eq(s, "0 children");
	free(s);
	a = child_add(g, test_spec("a", SPEC_PERMANENT), xstrdup("{}"));
	ck_assert_ptr_nonnull(a);
	s = gtd_sd_status(g);
	ck_assert_str_eq(s, "1 child: 1 stopped");
	free(s);
	ck_assert_int_eq(child_start(a), 0);
	b = child_add(g, test_spec("b", SPEC_PERMANENT), xstrdup("{}"));
	ck_assert_ptr_nonnull(b);
	s = gtd_sd_status(g);
	ck_assert_str_eq(s, "2 children: 1 running, 1 stopped");
	free(s);
	g->shut->active = true;
	s = gtd_sd_status(g);
	ck_assert_str_eq(s, "shutting down, 2 children: 1 running, "
	    "1 stopped");
	free(s);
	g->shut->active = false;
	gtd_free(g);
}
END_TEST

/* The whole path in one process: READY=1 + STATUS=, then STOPPING=1. */
START_TEST(test_gtd_sd_messages)
{
	struct gtd	*g;
	char		 addr[64];
	int		 fd;

	snprintf(addr, sizeof addr, "@gtd-check-sd-msg/%d", (int)getpid());
	fd = receiver(addr);
	setenv("NOTIFY_SOCKET", addr, 1);
	unsetenv("WATCHDOG_USEC");
	g = test_gtd_new();
	gtd_sd_init(g);
	ck_assert_ptr_nonnull(g->sd);
	ck_assert_ptr_null(getenv("NOTIFY_SOCKET"));
	gtd_sd_ready(g);
	ck_assert_str_eq(receive(fd), "READY=1\nSTATUS=0 children");
	gtd_shutdown(g, 0, -1);
	ck_assert_str_eq(receive(fd),
	    "STOPPING=1\nSTATUS=shutting down, 0 children");
	gtd_free(g);
	close(fd);
}
END_TEST

/* Without NOTIFY_SOCKET everything is a no-op. */
START_TEST(test_gtd_sd_off)
{
	struct gtd	*g;

	unsetenv("NOTIFY_SOCKET");
	g = test_gtd_new();
	gtd_sd_init(g);
	ck_assert_ptr_null(g->sd);
	gtd_sd_ready(g);
	gtd_sd_stopping(g);
	gtd_free(g);
}
END_TEST

Suite *
sd_suite(void)
{
	Suite	*s = suite_create("sd");
	TCase	*tc;

	tc = tcase_create("listen");
	tcase_add_loop_test(tc, test_listen_fd, 0, NROWS(act_rows));
	tcase_add_test(tc, test_socket_path);
	suite_add_tcase(s, tc);
	tc = tcase_create("notify");
	tcase_add_test(tc, test_notifier_unset);
	tcase_add_loop_test(tc, test_notifier_bad, 0, NROWS(bad_notify_rows));
	tcase_add_test(tc, test_notifier_path);
	tcase_add_test(tc, test_notifier_abstract);
	tcase_add_test(tc, test_notifier_full);
	suite_add_tcase(s, tc);
	tc = tcase_create("env");
	tcase_add_loop_test(tc, test_watchdog_usec, 0, NROWS(wd_rows));
	tcase_add_test(tc, test_journal_stream);
	suite_add_tcase(s, tc);
	tc = tcase_create("gtd");
	tcase_add_test(tc, test_status_text);
	tcase_add_test(tc, test_gtd_sd_messages);
	tcase_add_test(tc, test_gtd_sd_off);
	suite_add_tcase(s, tc);
	return (s);
}
