/* SPDX-License-Identifier: MIT */
/*
 * check_e2e_lifecycle2: the child lifecycle where it meets timing and
 * requests.  A reload (op or SIGHUP) during the boot is queued until the
 * boot ends.  A start that never became ready leaves no row and no
 * restart behind, on every path that creates a row; a failed manual
 * restart leaves the row stopped; `exited` always carries the exit.
 * spawn_failed names the step and the path.  A released child keeps
 * writing; hooks never get gtd's descriptors and never hold a shutdown.
 * restart_child force restarts a running child in one step; gave_up,
 * restart_at and the terminate reason say what happened.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "harness.h"

#define LC_WAIT_MS	5000		/* one condition */

static void	touch(const char *);
static void	write_conf(struct e2e *, const char *);

/* Create path (empty), as a cue for gt-testchild --ready-after. */
static void
touch(const char *path)
{
	int	fd;

	ck_assert_msg((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC,
	    0644)) != -1, "%s: %s", path, strerror(errno));
	close(fd);
}

/* Replace DIR/gtd.json with text, atomically (tmp + rename). */
static void
write_conf(struct e2e *e, const char *text)
{
	const char	*path = e2e_path(e, "gtd.json");
	const char	*tmp = e2e_fmt(e, "%s.tmp", path);
	FILE		*f;

	ck_assert_msg((f = fopen(tmp, "we")) != NULL, "%s: %s", tmp,
	    strerror(errno));
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(rename(tmp, path), 0);
}

/*
 * A reload (the op, and SIGHUP) while a boot child is still starting is
 * queued: the reply says so, and the boot goes on with the config it
 * began with.  Once the boot ends the file is read again and applied:
 * the booting child, gone from the new file, stops and goes; a new one
 * starts.  gtd neither crashes (the boot walked a freed config) nor
 * exits 1 (the boot child it waited on was stopped by the reload).  A
 * file that does not validate is still refused at once.
 */
START_TEST(e2e_lc_reload_during_boot)
{
	static const char	*conf1 = "{\"children\":["
	    "{\"name\":\"a\",\"cmd\":[\"@TESTCHILD@\",\"--ready-fd=3\","
	    "\"--ready-after=@DIR@/go\"],\"ready\":{\"fd\":3}},"
	    "{\"name\":\"b\",\"cmd\":[\"@TESTCHILD@\"]}]}";
	struct e2e	*e;
	json_t		*r;

	e = e2e_start_booting(conf1);
	ck_assert(e2e_wait_state(e, "a", "starting", LC_WAIT_MS));
	/* The new file: "a" is gone, "c" is new. */
	write_conf(e, e2e_fmt(e, "{\"children\":["
	    "{\"name\":\"b\",\"cmd\":[\"%s\"]},"
	    "{\"name\":\"c\",\"cmd\":[\"%s\"]}]}", e2e_testchild(e),
	    e2e_testchild(e)));
	r = e2e_ok(e, "reload", NULL);
	ck_assert_msg(json_is_true(json_object_get(r, "queued")),
	    "reload during the boot: %s", e2e_dump(e, r));
	ck_assert_int_eq(kill(e2e_pid(e), SIGHUP), 0);
	e2e_ok(e, "ping", NULL);
	/* Nothing applied yet: the boot goes on with what it began with. */
	ck_assert_str_eq(e2e_str(e2e_row(e, "a"), "state"), "starting");
	ck_assert_ptr_null(e2e_row(e, "c"));
	/* A file that does not validate is refused now, as ever. */
	write_conf(e, "{\"children\":[{\"name\":\"x\"}]}");
	e2e_err(e, "bad_config", "reload", NULL);
	write_conf(e, e2e_fmt(e, "{\"children\":["
	    "{\"name\":\"b\",\"cmd\":[\"%s\"]},"
	    "{\"name\":\"c\",\"cmd\":[\"%s\"]}]}", e2e_testchild(e),
	    e2e_testchild(e)));
	touch(e2e_path(e, "go"));
	ck_assert_int_eq(e2e_wait_booted(e, LC_WAIT_MS), 1);
	/* Then the queued reload: "a" stops and goes, "c" starts. */
	ck_assert_msg(e2e_wait_absent(e, "a", LC_WAIT_MS), "a: %s",
	    e2e_dump(e, e2e_row(e, "a")));
	ck_assert(e2e_wait_state(e, "b", "running", LC_WAIT_MS));
	ck_assert(e2e_wait_state(e, "c", "running", LC_WAIT_MS));
	r = e2e_ok(e, "reload", NULL);
	ck_assert_ptr_null(json_object_get(r, "queued"));
	e2e_stop(e);
}
END_TEST

Suite *
e2e_lifecycle2_suite(void)
{
	Suite	*s = suite_create("e2e_lifecycle2");
	TCase	*tc;

	tc = tcase_create("boot");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_lc_reload_during_boot);
	suite_add_tcase(s, tc);
	return (s);
}
