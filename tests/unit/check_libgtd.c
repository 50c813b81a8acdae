/* SPDX-License-Identifier: MIT */
/*
 * check_libgtd: libgtd's handle without a daemon.  gtd_open(NULL) finds
 * the socket exactly where gtctl does (client_user_path without -s or
 * -z), for root and for another user, with and without XDG_RUNTIME_DIR,
 * and with only the system's zone listening.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gtd.h"
#include "gt/client.h"
#include "check_unit.h"

#define UT_NOBODY	65534

/* gtd_path(gtd_open(arg)), copied into buf. */
static void
ut_open_path(const char *arg, char *buf, size_t size)
{
	struct gtd_handle	*h;

	h = gtd_open(arg);
	ck_assert_ptr_nonnull(h);
	snprintf(buf, size, "%s", gtd_path(h));
	gtd_close(h);
}

/* libgtd's default is gtctl's for zone (NULL: GTD_ZONE unset). */
static void
ut_assert_same(const char *zone, const char *want)
{
	char	 got[256], *ctl;

	if (zone == NULL)
		unsetenv("GTD_ZONE");
	else
		setenv("GTD_ZONE", zone, 1);
	ut_open_path(NULL, got, sizeof got);
	ctl = client_user_path(NULL, zone);
	ck_assert_str_eq(got, ctl);
	if (want != NULL)
		ck_assert_str_eq(got, want);
	free(ctl);
}

START_TEST(test_libgtd_path_root)
{
	char	got[256];

	ck_assert_int_eq(geteuid(), 0);
	setenv("GTD_SOCKET", "/x/explicit.sock", 1);
	setenv("GTD_ZONE", "blue", 1);
	ut_open_path("/given.sock", got, sizeof got);
	ck_assert_str_eq(got, "/given.sock");
	ut_open_path(NULL, got, sizeof got);
	ck_assert_str_eq(got, "/x/explicit.sock");
	ut_open_path("", got, sizeof got);
	ck_assert_str_eq(got, "/x/explicit.sock");

	unsetenv("GTD_SOCKET");
	setenv("XDG_RUNTIME_DIR", "/tmp/ut-xdg", 1);
	ut_assert_same(NULL, "/run/gtd/default.sock");
	ut_assert_same("blue", "/run/gtd/blue.sock");
}
END_TEST

/* Listen on a fresh socket at path (the fd is left open). */
static int
ut_listen(const char *path)
{
	struct sockaddr_un	sun = { .sun_family = AF_UNIX };
	int			fd;

	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	(void)unlink(path);		/* a leftover of an earlier run */
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    listen(fd, 16) == -1)
		return (-1);
	return (fd);
}

/*
 * As another user, in a child process (setresuid cannot be undone): the
 * cases of gtctl(1) FILES, each compared with gtctl's own resolution.
 */
static void
ut_as_nobody(const char *zone, const char *xdg)
{
	char	 want[256];

	if (setresgid(UT_NOBODY, UT_NOBODY, UT_NOBODY) == -1 ||
	    setresuid(UT_NOBODY, UT_NOBODY, UT_NOBODY) == -1)
		ck_abort_msg("setresuid: %s", strerror(errno));
	unsetenv("GTD_SOCKET");
	setenv("XDG_RUNTIME_DIR", xdg, 1);
	snprintf(want, sizeof want, "%s/gtd/%s.sock", xdg, zone);
	ut_assert_same(zone, want);	/* nothing listens anywhere */
	setenv("XDG_RUNTIME_DIR", "relative", 1);
	snprintf(want, sizeof want, "/run/gtd/%s.sock", zone);
	ut_assert_same(zone, want);
	unsetenv("XDG_RUNTIME_DIR");
	ut_assert_same(zone, want);
}

START_TEST(test_libgtd_path_user)
{
	char	 zone[64], sys[128], xdg[128], user[256], got[256];
	pid_t	 pid;
	int	 st, fd;

	snprintf(zone, sizeof zone, "ut-%ld", (long)getpid());
	snprintf(sys, sizeof sys, "/run/gtd/%s.sock", zone);
	snprintf(xdg, sizeof xdg, "/tmp/ut-xdg-%ld", (long)getpid());
	snprintf(user, sizeof user, "%s/gtd/%s.sock", xdg, zone);
	(void)mkdir("/run/gtd", 0755);	/* may exist: then it is used */
	if ((pid = fork()) == 0) {
		ut_as_nobody(zone, xdg);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);

	/* The system's zone listens, the user's does not: the system's. */
	ck_assert_int_ne(fd = ut_listen(sys), -1);
	if ((pid = fork()) == 0) {
		if (setresuid(UT_NOBODY, UT_NOBODY, UT_NOBODY) == -1)
			_exit(2);
		unsetenv("GTD_SOCKET");
		setenv("XDG_RUNTIME_DIR", xdg, 1);
		ut_assert_same(zone, sys);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);

	/* Both listen: the user's own. */
	ck_assert_int_eq(mkdir(xdg, 0755), 0);
	snprintf(got, sizeof got, "%s/gtd", xdg);
	ck_assert_int_eq(mkdir(got, 0755), 0);
	ck_assert_int_ne(ut_listen(user), -1);
	if ((pid = fork()) == 0) {
		if (setresuid(UT_NOBODY, UT_NOBODY, UT_NOBODY) == -1)
			_exit(2);
		unsetenv("GTD_SOCKET");
		setenv("XDG_RUNTIME_DIR", xdg, 1);
		ut_assert_same(zone, user);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
	(void)unlink(user);		/* cleanup: failures do not matter */
	(void)unlink(sys);
	(void)rmdir(got);
	(void)rmdir(xdg);
	close(fd);
}
END_TEST

/* A fresh private directory (mode 0755) for sockets. */
static void
ut_tmpdir(char *buf, size_t size)
{
	snprintf(buf, size, "/tmp/ut-libgtd-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(buf));
	ck_assert_int_eq(chmod(buf, 0755), 0);
}

/*
 * A server of another user is refused on every connection of a handle
 * (gtd_connect, gtd_call, and the reads' fallback), with a message that
 * names the user and how to trust it; GTD_SOCKET_OWNER trusts it.
 */
START_TEST(test_libgtd_owner)
{
	struct gtd_handle	*h;
	struct gtd_child	 c;
	char			 dir[64], path[128], *reply = NULL;
	const char		*msg;
	pid_t			 pid;
	int			 p[2], fd, st;
	char			 b;

	ut_tmpdir(dir, sizeof dir);
	ck_assert_int_eq(chown(dir, UT_NOBODY, UT_NOBODY), 0);
	snprintf(path, sizeof path, "%s/s", dir);
	ck_assert_int_eq(pipe(p), 0);
	if ((pid = fork()) == 0) {
		close(p[0]);
		if (setresgid(UT_NOBODY, UT_NOBODY, UT_NOBODY) == -1 ||
		    setresuid(UT_NOBODY, UT_NOBODY, UT_NOBODY) == -1 ||
		    (fd = ut_listen(path)) == -1)
			_exit(2);
		(void)write(p[1], "r", 1);	/* the parent checks the read */
		for (;;)
			pause();		/* until killed */
	}
	close(p[1]);
	ck_assert_int_eq(read(p[0], &b, 1), 1);

	unsetenv("GTD_SOCKET_OWNER");
	ck_assert_ptr_nonnull(h = gtd_open(path));
	ck_assert_int_eq(gtd_connect(h), GTD_ESYS);
	ck_assert_int_eq(errno, EPERM);
	msg = gtd_errmsg(h);
	ck_assert_msg(strstr(msg, "runs as nobody (uid 65534)") != NULL &&
	    strstr(msg, "GTD_SOCKET_OWNER=nobody") != NULL &&
	    strncmp(msg, path, strlen(path)) == 0, "%s", msg);
	ck_assert_int_eq(gtd_fd(h, NULL), -1);
	ck_assert_int_eq(gtd_call(h, "{\"op\":\"ping\"}", &reply), GTD_ESYS);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_eq(gtd_info(h, "x", &c), GTD_ESYS);
	ck_assert_ptr_nonnull(strstr(gtd_errmsg(h), "neither root nor you"));

	setenv("GTD_SOCKET_OWNER", "nobody", 1);
	ck_assert_int_eq(gtd_connect(h), GTD_OK);
	ck_assert_int_ne(gtd_fd(h, NULL), -1);
	gtd_close(h);
	setenv("GTD_SOCKET_OWNER", "65534", 1);
	ck_assert_ptr_nonnull(h = gtd_open(path));
	ck_assert_int_eq(gtd_connect(h), GTD_OK);
	gtd_close(h);
	unsetenv("GTD_SOCKET_OWNER");

	close(p[0]);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	(void)unlink(path);		/* cleanup: failures do not matter */
	(void)rmdir(dir);
}
END_TEST

/* Connect h to a server of our own at a fresh path; its side's fd. */
static int
ut_pair(struct gtd_handle **hp, char *dir, size_t size)
{
	char	path[128];
	int	lfd, fd;

	ut_tmpdir(dir, size);
	snprintf(path, sizeof path, "%s/s", dir);
	ck_assert_int_ne(lfd = ut_listen(path), -1);
	ck_assert_ptr_nonnull(*hp = gtd_open(path));
	ck_assert_int_eq(gtd_connect(*hp), GTD_OK);
	ck_assert_int_ne(fd = accept(lfd, NULL, NULL), -1);
	close(lfd);
	(void)unlink(path);		/* cleanup: failures do not matter */
	(void)rmdir(dir);
	return (fd);
}

/*
 * A timeout of 0 takes only what has arrived: EAGAIN keeps the
 * connection (and the order of the replies), a line that arrives in
 * parts is returned whole once it is all there.
 */
START_TEST(test_libgtd_nowait)
{
	struct gtd_handle	*h;
	char			 dir[64], *reply = NULL, buf[64];
	short			 ev;
	int			 fd;

	fd = ut_pair(&h, dir, sizeof dir);
	gtd_set_timeout(h, 0);
	ck_assert_int_eq(gtd_send(h, "{\"op\":\"ping\"}"), GTD_OK);
	ck_assert_int_eq(read(fd, buf, sizeof buf), 14);
	ck_assert_int_eq(gtd_recv(h, &reply), GTD_ESYS);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_ptr_null(reply);
	ck_assert_int_ne(gtd_fd(h, &ev), -1);
	ck_assert_int_eq(ev, POLLIN);
	ck_assert_int_eq(write(fd, "{\"ok\":", 6), 6);
	ck_assert_int_eq(gtd_recv(h, &reply), GTD_ESYS);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(write(fd, "true}\n{", 7), 7);
	ck_assert_int_eq(gtd_recv(h, &reply), GTD_OK);
	ck_assert_str_eq(reply, "{\"ok\":true}");
	free(reply);
	ck_assert_int_eq(gtd_recv(h, &reply), GTD_ESYS);
	ck_assert_int_eq(errno, EAGAIN);
	/* A real deadline that passes drops the connection, as before. */
	gtd_set_timeout(h, 20);
	ck_assert_int_eq(gtd_recv(h, &reply), GTD_ESYS);
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_int_eq(gtd_fd(h, NULL), -1);
	close(fd);
	gtd_close(h);
}
END_TEST

/*
 * When gtd said something and closed (a "limit" reply), a request that
 * can no longer be written fails, but what gtd said can still be read.
 */
START_TEST(test_libgtd_closed_send)
{
	struct gtd_handle	*h;
	char			 dir[64], *reply = NULL;
	const char		*limit = "{\"ok\":false,\"error\":\"limit\"}\n";
	int			 fd;

	fd = ut_pair(&h, dir, sizeof dir);
	ck_assert_int_eq(write(fd, limit, strlen(limit)), strlen(limit));
	close(fd);
	ck_assert_int_eq(gtd_send(h, "{\"op\":\"ping\"}"), GTD_ESYS);
	ck_assert_msg(errno == EPIPE || errno == ECONNRESET, "%s",
	    strerror(errno));
	gtd_set_timeout(h, 5000);
	ck_assert_int_eq(gtd_recv(h, &reply), GTD_OK);
	ck_assert_str_eq(reply, "{\"ok\":false,\"error\":\"limit\"}");
	free(reply);
	ck_assert_int_eq(gtd_recv(h, &reply), GTD_ESYS);
	ck_assert_int_eq(errno, ECONNRESET);
	gtd_close(h);
}
END_TEST

/* While a request waits to be written, gtd_fd asks for POLLOUT too. */
START_TEST(test_libgtd_fd_events)
{
	struct gtd_handle	*h;
	char			 dir[64], *big, *reply = NULL, *buf;
	size_t			 n = 4 << 20, got = 0;
	ssize_t			 r;
	short			 ev;
	int			 fd;

	fd = ut_pair(&h, dir, sizeof dir);
	big = malloc(n + 1);
	memset(big, 'x', n);
	big[0] = '"';
	big[n - 1] = '"';
	big[n] = '\0';
	ck_assert_int_eq(gtd_send(h, big), GTD_OK);
	gtd_fd(h, &ev);
	ck_assert_int_eq(ev, POLLIN | POLLOUT);
	/* The other side reads; gtd_recv(0) writes the rest meanwhile. */
	buf = malloc(n + 1);
	gtd_set_timeout(h, 0);
	while (got < n + 1) {
		ck_assert_int_eq(gtd_recv(h, &reply), GTD_ESYS);
		ck_assert_int_eq(errno, EAGAIN);
		if ((r = read(fd, buf, n + 1)) > 0)
			got += r;
	}
	gtd_fd(h, &ev);
	ck_assert_int_eq(ev, POLLIN);
	free(buf);
	free(big);
	close(fd);
	gtd_close(h);
}
END_TEST

Suite *
libgtd_suite(void)
{
	Suite	*s = suite_create("libgtd");
	TCase	*tc = tcase_create("path");

	tcase_add_test(tc, test_libgtd_path_root);
	tcase_add_test(tc, test_libgtd_path_user);
	suite_add_tcase(s, tc);
	tc = tcase_create("socket");
	tcase_add_test(tc, test_libgtd_owner);
	tcase_add_test(tc, test_libgtd_nowait);
	tcase_add_test(tc, test_libgtd_closed_send);
	tcase_add_test(tc, test_libgtd_fd_events);
	suite_add_tcase(s, tc);
	return (s);
}
