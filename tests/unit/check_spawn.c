/* SPDX-License-Identifier: MIT */
/*
 * check_spawn: the real spawn_start, with real children: bursts of them
 * (more than spawn.c keeps stacks for), a failed exec, a plan larger
 * than a stack's plan area, and the caller's errno and memory untouched
 * by children that share them until their exec.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "gt/spawn.h"
#include "gt/xmalloc.h"

#include "check_unit.h"

#define SP_BURST	200	/* children at once: more than SPAWN_VM_MAX */
#define SP_SERIAL	100	/* one at a time: more than SPAWN_VM_MAX too */
#define SP_KEEP		4	/* spawn.c's SPAWN_VM_KEEP */
#define SP_BIG		(100 << 10)	/* an env var: more than a stack's */
#define SP_DEADLINE_MS	10000
#define SP_NOBODY	65534

static char		sp_true0[] = "true";
static char *const	sp_true[] = { sp_true0, NULL };
static char *const	sp_noenv[] = { NULL };

/* Whether spawns may share memory here: x86-64, not under valgrind. */
static bool
sp_vm_expected(void)
{
#if defined(__x86_64__)
	return (getenv("E2E_VALGRIND") == NULL);
#else
	return (false);
#endif
}

static struct spawn_plan
sp_plan(const char *path, char *const *argv, char *const *envp, int devnull)
{
	struct spawn_plan	pl;

	memset(&pl, 0, sizeof pl);
	pl.path = path;
	pl.argv = argv;
	pl.envp = envp;
	pl.cwd = "/";
	pl.parent = getpid();
	pl.fd_in = pl.fd_out = pl.fd_err = devnull;
	pl.extra_fd = -1;
	pl.umask = -1;
	pl.cgroup_fd = -1;
	return (pl);
}

/*
 * Wait (deadline) for the exec status on fd, read it into *f and close
 * fd; then reap pid.  Its wait status.  The pipe's first byte may be the
 * one spawn_settle takes (the child has its own table): then wait again.
 */
static int
sp_finish(pid_t pid, int fd, struct spawn_fail *f)
{
	struct pollfd	pfd = { .fd = fd, .events = POLLIN };
	int		st = -1, tries;

	for (tries = 0; tries < SP_DEADLINE_MS / 10; tries++) {
		if (poll(&pfd, 1, 10) == 1 && spawn_status_read(fd, f) == 0)
			break;
	}
	ck_assert_msg(tries < SP_DEADLINE_MS / 10, "no exec status from %d "
	    "in %d ms", (int)pid, SP_DEADLINE_MS);
	close(fd);
	ck_assert(waitpid(pid, &st, 0) == pid);
	return (st);
}

/* Anonymous 4 KiB PROT_NONE mappings: a stack's guard each. */
static int
sp_guards(void)
{
	unsigned long	lo, hi;
	char		line[512], perm[8];
	int		n = 0, fields;
	FILE		*f;

	ck_assert((f = fopen("/proc/self/maps", "re")) != NULL);
	while (fgets(line, sizeof line, f) != NULL) {
		fields = sscanf(line, "%lx-%lx %7s %*s %*s %*s %*s", &lo, &hi,
		    perm);
		if (fields == 3 && hi - lo == 4096 &&
		    strcmp(perm, "---p") == 0 && strchr(line, '/') == NULL &&
		    strchr(line, '[') == NULL)
			n++;
	}
	fclose(f);
	return (n);
}

/*
 * A burst: every child is started before any is waited for, so that
 * many may be yet to exec at once; every one execs and exits 0, and once
 * all are gone and spawn_settle ran, gtd keeps no more than SP_KEEP idle
 * stacks mapped.
 */
START_TEST(test_spawn_burst)
{
	struct spawn_plan	pl;
	struct spawn_fail	f;
	static pid_t		pid[SP_BURST];
	static int		fd[SP_BURST];
	int			devnull, i, st, vm = 0, guards;

	spawn_init();
	guards = sp_guards();
	ck_assert((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1);
	pl = sp_plan("/bin/true", sp_true, sp_noenv, devnull);
	for (i = 0; i < SP_BURST; i++) {
		ck_assert_msg((pid[i] = spawn_start(&pl, &fd[i])) > 0,
		    "spawn %d: %s", i, strerror(errno));
		if (spawn_last_via() == SPAWN_VIA_VM)
			vm++;
	}
	for (i = 0; i < SP_BURST; i++) {
		st = sp_finish(pid[i], fd[i], &f);
		ck_assert_msg(f.err == 0, "child %d: %s at %s", i,
		    strerror(f.err), spawn_step_name(f.step));
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		    "child %d: wait status %#x", i, st);
	}
	if (sp_vm_expected())
		ck_assert_msg(vm > 0, "no child of %d shared memory", SP_BURST);
	(void)spawn_settle();
	ck_assert_msg(sp_guards() - guards <= SP_KEEP, "%d stacks mapped once "
	    "every child exec'd", sp_guards() - guards);
	close(devnull);
}
END_TEST

/*
 * One at a time, each waited for: every spawn shares memory, so stacks
 * come back once their child exec'd (there are fewer than SP_SERIAL).
 */
START_TEST(test_spawn_stacks_come_back)
{
	struct spawn_plan	pl;
	struct spawn_fail	f;
	int			devnull, i, fd, st;
	pid_t			pid;

	if (!sp_vm_expected())
		return;
	spawn_init();
	ck_assert((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1);
	pl = sp_plan("/bin/true", sp_true, sp_noenv, devnull);
	for (i = 0; i < SP_SERIAL; i++) {
		ck_assert((pid = spawn_start(&pl, &fd)) > 0);
		ck_assert_msg(spawn_last_via() == SPAWN_VIA_VM, "spawn %d was "
		    "made as %d", i, (int)spawn_last_via());
		st = sp_finish(pid, fd, &f);
		ck_assert(f.err == 0 && WIFEXITED(st) &&
		    WEXITSTATUS(st) == 0);
	}
	close(devnull);
}
END_TEST

/* A failed exec is reported with its errno and step; the child exits. */
START_TEST(test_spawn_exec_fails)
{
	struct spawn_plan	pl;
	struct spawn_fail	f;
	int			devnull, fd, st;
	pid_t			pid;

	spawn_init();
	ck_assert((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1);
	pl = sp_plan("/nonexistent/gtd-test", sp_true, sp_noenv, devnull);
	ck_assert((pid = spawn_start(&pl, &fd)) > 0);
	st = sp_finish(pid, fd, &f);
	ck_assert_int_eq(f.err, ENOENT);
	ck_assert_int_eq(f.step, SPAWN_STEP_EXEC);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 127);
	pl = sp_plan("/bin/true", sp_true, sp_noenv, devnull);
	pl.cwd = "/nonexistent/gtd-test";
	ck_assert((pid = spawn_start(&pl, &fd)) > 0);
	st = sp_finish(pid, fd, &f);
	ck_assert_int_eq(f.err, ENOENT);
	ck_assert_int_eq(f.step, SPAWN_STEP_CHDIR);
	close(devnull);
}
END_TEST

/* A plan larger than a stack's room arrives whole. */
START_TEST(test_spawn_big_plan)
{
	static char		 a0[] = "sh", a1[] = "-c",
	    a2[] = "test ${#BIG} -eq 102400 && test \"$1\" = last",
	    a3[] = "last";
	char *const		 argv[] = { a0, a1, a2, a0, a3, NULL };
	char			*envp[2];
	struct spawn_plan	 pl;
	struct spawn_fail	 f;
	int			 devnull, fd, st, i;
	pid_t			 pid;

	spawn_init();
	ck_assert((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1);
	envp[0] = xmalloc(4 + SP_BIG + 1);
	memcpy(envp[0], "BIG=", 4);
	memset(envp[0] + 4, 'x', SP_BIG);
	envp[0][4 + SP_BIG] = '\0';
	envp[1] = NULL;
	pl = sp_plan("/bin/sh", argv, envp, devnull);
	for (i = 0; i < 3; i++) {	/* the big stack is unmapped, then */
		ck_assert((pid = spawn_start(&pl, &fd)) > 0);
		st = sp_finish(pid, fd, &f);
		ck_assert(f.err == 0);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		    "the child saw another plan (wait status %#x)", st);
	}
	free(envp[0]);
	close(devnull);
}
END_TEST

/*
 * The children share the caller's memory, errno included, until their
 * exec, and make failing system calls there (rt_sigaction of SIGKILL
 * and SIGSTOP, every time): the caller's errno must not change while
 * they run.
 */
START_TEST(test_spawn_errno_untouched)
{
	struct spawn_plan	pl;
	int			devnull, i, fd, st;
	pid_t			pid;

	spawn_init();
	ck_assert((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1);
	pl = sp_plan("/bin/true", sp_true, sp_noenv, devnull);
	for (i = 0; i < SP_SERIAL; i++) {
		ck_assert((pid = spawn_start(&pl, &fd)) > 0);
		errno = EDOM;
		/* Until it is gone: waitpid leaves errno alone. */
		ck_assert(waitpid(pid, &st, 0) == pid);
		ck_assert_msg(errno == EDOM, "spawn %d: errno became %d (%s)",
		    i, errno, strerror(errno));
		close(fd);
	}
	close(devnull);
}
END_TEST

/*
 * A child that takes another user's ids never shares gtd's memory, not
 * even until its exec; and gtd's memory stays dumpable (a change of
 * credentials in a child that shared it would have made it not).
 */
START_TEST(test_spawn_other_user_forks)
{
	static const gid_t	nogroups[1] = { SP_NOBODY };
	struct spawn_plan	pl;
	struct spawn_fail	f;
	int			devnull, fd, st, dumpable;
	pid_t			pid;

	if (getuid() != 0)
		return;			/* needs root, as gtd does for it */
	spawn_init();
	dumpable = prctl(PR_GET_DUMPABLE);
	ck_assert((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1);
	pl = sp_plan("/bin/true", sp_true, sp_noenv, devnull);
	pl.set_uid = pl.set_gid = true;
	pl.uid = SP_NOBODY;
	pl.gid = SP_NOBODY;
	pl.groups = nogroups;
	pl.ngroups = 1;
	ck_assert((pid = spawn_start(&pl, &fd)) > 0);
	ck_assert_msg(spawn_last_via() != SPAWN_VIA_VM, "a child of another "
	    "user shared gtd's memory");
	st = sp_finish(pid, fd, &f);
	ck_assert_msg(f.err == 0, "%s at %s", strerror(f.err),
	    spawn_step_name(f.step));
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_int_eq(prctl(PR_GET_DUMPABLE), dumpable);
	/* And the next child of gtd's own user shares it again. */
	pl = sp_plan("/bin/true", sp_true, sp_noenv, devnull);
	ck_assert((pid = spawn_start(&pl, &fd)) > 0);
	if (sp_vm_expected())
		ck_assert(spawn_last_via() == SPAWN_VIA_VM);
	st = sp_finish(pid, fd, &f);
	ck_assert(f.err == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(devnull);
}
END_TEST

Suite *
spawn_suite(void)
{
	Suite	*s = suite_create("spawn");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_spawn_burst);
	tcase_add_test(tc, test_spawn_stacks_come_back);
	tcase_add_test(tc, test_spawn_exec_fails);
	tcase_add_test(tc, test_spawn_big_plan);
	tcase_add_test(tc, test_spawn_errno_untouched);
	tcase_add_test(tc, test_spawn_other_user_forks);
	suite_add_tcase(s, tc);
	return (s);
}
