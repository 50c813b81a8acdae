/* SPDX-License-Identifier: MIT */
/*
 * check_e2e_hostile: gtd against a hostile local user.  Run as root, the
 * suite creates an unprivileged user (HOSTILE_USER) if it is missing and
 * removes it again afterwards.  That user races every path gtd opens,
 * binds, chmods or renames with symlinks and hard links, squats gtd's
 * names, and pushes the limits of protocol section 7 that concern files,
 * SQL, notify and adoption.  Each race runs for a bounded time (a slice
 * in `make check`; E2E_HOSTILE_SECONDS per race in `make hostile`).
 *
 * The sentences of gtd(8) SECURITY CONSIDERATIONS and the tests that
 * check them (every sentence has one; other suites are named):
 *
 *   root or gtd's own user: anything .......... e2e_acl (acl_root_any)
 *   admin: reload, shutdown ................... e2e_acl
 *   control: start any program as gtd's user .. hostile_control_runs_as_gtd
 *   control: adopt only own processes ......... hostile_adopt_other_user
 *   control: never pid 1, gtd, its parent,
 *     its hooks ............................... hostile_adopt_refused
 *   write: attrs only ......................... e2e_acl
 *   read: query bounded in time ............... hostile_sql_long_calls
 *   read: query bounded in memory ............. hostile_sql_memory
 *   none: nothing but hello/ping .............. e2e_acl
 *   a child: its own attrs, readiness from its
 *     own processes only ...................... hostile_notify_*
 *   a child: files opened as its user ......... hostile_file_symlink_race,
 *                                               hostile_file_hardlink
 *   a child: dies with gtd .................... hostile_pdeathsig_user
 *   another user: cannot squat the socket
 *     directory ............................... hostile_socket_dir_*
 *   another user: cannot stop gtd starting
 *     (notify names) .......................... hostile_notify_squat
 *   another user: gtctl refuses her socket .... hostile_gtctl_foreign
 *   another user: snapshot directory .......... hostile_snapshot_dir
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "harness.h"

#define HOSTILE_USER	"gtdhostile"
#define NOBODY		65534

/* Set by the unchecked fixture (the runner process), read by the tests. */
static uid_t	hostile_uid = (uid_t)-1;
static gid_t	hostile_gid = (gid_t)-1;
static bool	hostile_created;

/* Run argv (absolute path) and wait; its exit status, or -1. */
static int
hostile_system(const char *const argv[])
{
	pid_t	pid;
	int	st, fd;

	if ((pid = fork()) == -1)
		return (-1);
	if (pid == 0) {
		if ((fd = open("/dev/null", O_WRONLY)) != -1) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		/* execv does not write through argv: casting const away. */
		execv(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return (-1);
	return (WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* The runner: make the user if it is missing (and remember that). */
static void
hostile_setup(void)
{
	const char *const add[] = { "/usr/sbin/useradd", "-r", "-M", "-s",
	    "/usr/sbin/nologin", "-d", "/nonexistent", HOSTILE_USER, NULL };
	struct passwd	*pw;

	if ((pw = getpwnam(HOSTILE_USER)) == NULL) {
		if (hostile_system(add) != 0)
			return;		/* the tests fail with a message */
		hostile_created = true;
		pw = getpwnam(HOSTILE_USER);
	}
	if (pw != NULL) {
		hostile_uid = pw->pw_uid;
		hostile_gid = pw->pw_gid;
	}
}

/*
 * The runner, at the end: kill what still runs as the user (only the
 * tests ran anything as it) and remove it if this run made it.
 */
static void
hostile_teardown(void)
{
	const char *const del[] = { "/usr/sbin/userdel", HOSTILE_USER, NULL };
	char		 path[300];
	struct dirent	*d;
	struct stat	 st;
	DIR		*dir;

	if (hostile_uid == (uid_t)-1 || !hostile_created)
		return;
	if ((dir = opendir("/proc")) != NULL) {
		while ((d = readdir(dir)) != NULL) {
			if (atoi(d->d_name) <= 1)
				continue;
			snprintf(path, sizeof path, "/proc/%s", d->d_name);
			if (stat(path, &st) == 0 && st.st_uid == hostile_uid)
				kill(atoi(d->d_name), SIGKILL);
		}
		closedir(dir);
	}
	(void)hostile_system(del);	/* best effort: nothing to report to */
}

static void
hostile_need_user(void)
{
	ck_assert_msg(hostile_uid != (uid_t)-1, "no user %s (useradd failed)",
	    HOSTILE_USER);
}

/* Seconds one race runs: a slice in make check, more with the env. */
static long
hostile_race_ms(void)
{
	const char	*s = getenv("E2E_HOSTILE_SECONDS");

	if (s != NULL && atol(s) > 0)
		return (atol(s) * 1000);
	return (600);
}

/* Become the hostile user (in a forked process of the test). */
static void
hostile_become(void)
{
	if (setgroups(0, NULL) == -1 || setresgid(hostile_gid, hostile_gid,
	    hostile_gid) == -1 || setresuid(hostile_uid, hostile_uid,
	    hostile_uid) == -1)
		_exit(99);
}

/*
 * Run fn(arg) as the hostile user in a process of its own until it
 * returns or hostile_end() kills it.
 */
static pid_t
hostile_run(void (*fn)(void *), void *arg)
{
	pid_t	pid;

	hostile_need_user();
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		hostile_become();
		fn(arg);
		_exit(0);
	}
	return (pid);
}

/* Stop a process of hostile_run; its exit status. */
static int
hostile_end(pid_t pid)
{
	int	st;

	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return (-1);
	return (st);
}

/* Let nobody and the hostile user into the test's directory. */
static void
hostile_open_dir(struct e2e *e)
{
	ck_assert_int_eq(chmod(e2e_dir(e), 0755), 0);
}

/*
 * A child run as another user dies with gtd: the parent-death signal is
 * set after the change of credentials (which clears it).
 */
START_TEST(hostile_pdeathsig_user)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*r;
	pid_t		 pid;
	int		 st;

	hostile_open_dir(e);
	r = e2e_ok(e, "start_child", "{s:s, s:o, s:s}", "name", "u", "cmd",
	    e2e_cmd(NULL), "user", "nobody");
	pid = (pid_t)e2e_int(r, "pid");
	ck_assert_int_eq(kill(e2e_pid(e), SIGKILL), 0);
	ck_assert(e2e_wait_exit(e, 5000, &st));
	ck_assert_msg(e2e_wait_dead(pid, 3000), "child %d (user nobody) "
	    "outlived gtd's SIGKILL", (int)pid);
	e2e_expect_exit(e, -1);
	e2e_stop(e);
}
END_TEST

Suite *
e2e_hostile_suite(void)
{
	Suite	*s = suite_create("e2e_hostile");
	TCase	*tc = tcase_create("hostile");

	tcase_set_timeout(tc, E2E_TIMEOUT + hostile_race_ms() / 1000 * 4);
	tcase_add_unchecked_fixture(tc, hostile_setup, hostile_teardown);
	tcase_add_test(tc, hostile_pdeathsig_user);
	suite_add_tcase(s, tc);
	return (s);
}
