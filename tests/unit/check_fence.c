/* SPDX-License-Identifier: MIT */
/*
 * check_fence: the fencing watchdog (src/fence.c) with real processes:
 * it kills its targets at kill_by and not before, a later kill_by
 * postpones it, a removed target survives, and it exits when its pipe
 * closes.  Waits are conditions with deadlines.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include <check.h>

#include "gt/cluster.h"
#include "gt/fence.h"
#include "check_unit.h"

#define SLACK_MS	400		/* the watchdog's reaction, loaded */

static struct fence	*fw;

/* A process in a group of its own that waits for a signal. */
static pid_t
sleeper(void)
{
	pid_t	pid;

	if ((pid = fork()) == 0) {
		setpgid(0, 0);
		for (;;)
			pause();
	}
	ck_assert_int_gt(pid, 0);
	setpgid(pid, pid);
	return (pid);
}

/* Wait up to ms for pid (our child) to end: when, or -1; *st its status. */
static int64_t
reap(pid_t pid, int ms, int *st)
{
	int64_t	deadline = cluster_clock_ms() + ms;

	do {
		if (waitpid(pid, st, WNOHANG) == pid)
			return (cluster_clock_ms());
		poll(NULL, 0, 5);
	} while (cluster_clock_ms() < deadline);
	return (-1);
}

/* The same, for a process the watchdog must have SIGKILLed. */
static int64_t
death(pid_t pid, int ms)
{
	int64_t	t;
	int	st;

	if ((t = reap(pid, ms, &st)) != -1)
		ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	return (t);
}

static void
setup(void)
{
	char	*cause = NULL;

	fw = fence_new(&cause);
	ck_assert_msg(fw != NULL, "%s", cause);
}

static void
teardown(void)
{
	pid_t	wd = fence_pid(fw);
	int	st;

	fence_free(fw);
	/* EOF on its pipe: the watchdog exits by itself, with status 0. */
	ck_assert_msg(reap(wd, 2000, &st) != -1, "the watchdog stayed");
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

START_TEST(fence_kills_at_deadline)
{
	pid_t	p = sleeper(), q = sleeper();
	int64_t	kill_by = cluster_clock_ms() + 300, t;

	ck_assert_int_eq(fence_add(fw, -p), 0);
	ck_assert_int_eq(fence_add(fw, q), 0);
	ck_assert_int_eq(fence_arm(fw, kill_by), 0);
	t = death(p, 300 + SLACK_MS);
	ck_assert_int_ge(t, kill_by);
	ck_assert_int_le(t, kill_by + SLACK_MS);
	ck_assert_int_ne(death(q, SLACK_MS), -1);
}
END_TEST

START_TEST(fence_rearm_postpones)
{
	pid_t	p = sleeper();
	int64_t	t0 = cluster_clock_ms(), t;

	ck_assert_int_eq(fence_add(fw, -p), 0);
	ck_assert_int_eq(fence_arm(fw, t0 + 300), 0);
	ck_assert_int_eq(death(p, 100), -1);
	/* Renewed: the old deadline means nothing any more. */
	ck_assert_int_eq(fence_arm(fw, t0 + 800), 0);
	ck_assert_int_eq(death(p, 500), -1);
	t = death(p, 300 + SLACK_MS);
	ck_assert_int_ge(t, t0 + 800);
}
END_TEST

START_TEST(fence_removed_target_survives)
{
	pid_t	p = sleeper(), q = sleeper();

	ck_assert_int_eq(fence_add(fw, -p), 0);
	ck_assert_int_eq(fence_add(fw, -q), 0);
	ck_assert_int_eq(fence_del(fw, -p), 0);
	ck_assert_int_eq(fence_arm(fw, cluster_clock_ms() + 100), 0);
	ck_assert_int_ne(death(q, 100 + SLACK_MS), -1);
	ck_assert_int_eq(death(p, 300), -1);
	/* Disarmed after firing: a new target is safe until armed again. */
	kill(p, SIGKILL);
	ck_assert_int_ne(death(p, 1000), -1);
}
END_TEST

Suite *
fence_suite(void)
{
	Suite	*s = suite_create("fence");
	TCase	*tc = tcase_create("fence");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, fence_kills_at_deadline);
	tcase_add_test(tc, fence_rearm_postpones);
	tcase_add_test(tc, fence_removed_target_survives);
	suite_add_tcase(s, tc);
	return (s);
}
