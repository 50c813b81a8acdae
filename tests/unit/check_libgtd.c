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
	    listen(fd, 1) == -1)
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

Suite *
libgtd_suite(void)
{
	Suite	*s = suite_create("libgtd");
	TCase	*tc = tcase_create("path");

	tcase_add_test(tc, test_libgtd_path_root);
	tcase_add_test(tc, test_libgtd_path_user);
	suite_add_tcase(s, tc);
	return (s);
}
