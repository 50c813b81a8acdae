/* SPDX-License-Identifier: MIT */
/*
 * check_procstat: /proc/PID/stat parsed from the last ')', whatever the
 * process calls itself; a gone process is ESRCH.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/wait.h>
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include <check.h>

#include "gt/procstat.h"
#include "check_unit.h"

START_TEST(procstat_self)
{
	struct proc_stat	ps;

	ck_assert_int_eq(proc_stat(getpid(), &ps), 0);
	ck_assert_int_eq(ps.ppid, getppid());
	ck_assert_int_eq(ps.pgrp, getpgrp());
	ck_assert_int_eq(ps.session, getsid(0));
	ck_assert(ps.starttime > 0);
	ck_assert(ps.rss > 0);
}
END_TEST

/* A name made to fool a parser that stops at the first ')'. */
START_TEST(procstat_hostile_comm)
{
	struct proc_stat	ps;
	int			p[2], st;
	pid_t			pid;
	char			c;

	ck_assert_int_eq(pipe(p), 0);
	if ((pid = fork()) == 0) {
		(void)setpgid(0, 0);
		(void)prctl(PR_SET_NAME, ") R 1 1 1 (x");
		(void)write(p[1], "x", 1);
		pause();
		_exit(0);
	}
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	ck_assert_int_eq(proc_stat(pid, &ps), 0);
	ck_assert_int_eq(ps.ppid, getpid());
	ck_assert_int_eq(ps.pgrp, pid);
	ck_assert_int_eq(ps.session, getsid(0));
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	errno = 0;
	ck_assert_int_eq(proc_stat(pid, &ps), -1);
	ck_assert_int_eq(errno, ESRCH);
	close(p[0]);
	close(p[1]);
}
END_TEST

Suite *
procstat_suite(void)
{
	Suite	*s = suite_create("procstat");
	TCase	*tc = tcase_create("stat");

	tcase_add_test(tc, procstat_self);
	tcase_add_test(tc, procstat_hostile_comm);
	suite_add_tcase(s, tc);
	return (s);
}
