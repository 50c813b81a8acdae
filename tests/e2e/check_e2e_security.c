/* SPDX-License-Identifier: MIT */
/*
 * check_e2e_security: the claims of the SECURITY section of gtd(8), each
 * against the real daemon: the socket's mode, no shell between a cmd and
 * exec, a user-switched child's environment, hooks with the child's
 * credentials, and no descriptor of gtd's in a child or a hook.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "harness.h"

#define NOBODY	65534

static mode_t
sec_mode(const char *path)
{
	struct stat	st;

	ck_assert_int_eq(stat(path, &st), 0);
	return (st.st_mode & 07777);
}

/* The socket is 0660 by default, socket_mode otherwise. */
START_TEST(e2e_sec_socket_mode)
{
	struct e2e	*e = e2e_start(NULL);

	ck_assert_int_eq(sec_mode(e2e_sock(e)), 0660);
	e2e_stop(e);
	e = e2e_start("{\"socket_mode\": \"0600\"}");
	ck_assert_int_eq(sec_mode(e2e_sock(e)), 0600);
	e2e_stop(e);
}
END_TEST

/* cmd is an argv: shell syntax in it is just text. */
START_TEST(e2e_sec_no_shell)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*bait = e2e_fmt(e, "a;b $(touch %s) `touch %s` | x",
			    e2e_path(e, "pwned1"), e2e_path(e, "pwned2"));
	json_t		*r;

	e2e_ok(e, "start_child", "{s:s, s:[s,s], s:s}", "name", "sh",
	    "cmd", "/bin/echo", bait, "restart", "temporary");
	ck_assert(e2e_wait_text(e2e_path(e, "gtd.log"), bait, 5000));
	r = e2e_ok(e, "which_children", NULL);
	(void)r;		/* the row may be gone: temporary */
	ck_assert_int_ne(access(e2e_path(e, "pwned1"), F_OK), 0);
	ck_assert_int_ne(access(e2e_path(e, "pwned2"), F_OK), 0);
	e2e_stop(e);
}
END_TEST

/* A child run as another user gets that user's HOME, USER, ... */
START_TEST(e2e_sec_user_env)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*env;

	ck_assert_int_eq(chmod(e2e_dir(e), 0777), 0);
	e2e_ok(e, "start_child", "{s:s, s:o, s:s}", "name", "u", "cmd",
	    e2e_cmd(e2e_fmt(e, "--env=%s", e2e_path(e, "env")),
	    e2e_fmt(e, "--check-fds=%s", e2e_path(e, "fds")), NULL),
	    "user", "nobody");
	env = e2e_read_file(e, e2e_path(e, "env"), 5000);
	ck_assert_ptr_nonnull(strstr(env, "\nUSER=nobody\n"));
	ck_assert_ptr_nonnull(strstr(env, "\nLOGNAME=nobody\n"));
	ck_assert_ptr_nonnull(strstr(env, "\nHOME=/nonexistent\n"));
	ck_assert_ptr_nonnull(strstr(env, "\nSHELL=/usr/sbin/nologin\n"));
	ck_assert_ptr_nonnull(strstr(env, "\nGTD_NAME=u\n"));
	ck_assert_str_eq(e2e_read_file(e, e2e_path(e, "fds"), 5000),
	    "0 1 2\n");
	e2e_stop(e);
}
END_TEST

/* after_terminate runs as the child's user, with only fds 0-2. */
START_TEST(e2e_sec_hook_credentials)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*script;

	ck_assert_int_eq(chmod(e2e_dir(e), 0777), 0);
	script = e2e_fmt(e, "id -u > %s.tmp && mv %s.tmp %s; exec %s "
	    "--check-fds=%s --exit-after-ms=10", e2e_path(e, "hook.uid"),
	    e2e_path(e, "hook.uid"), e2e_path(e, "hook.uid"),
	    e2e_testchild(e), e2e_path(e, "hook.fds"));
	e2e_ok(e, "start_child", "{s:s, s:o, s:s, s:[s,s,s]}", "name", "h",
	    "cmd", e2e_cmd(NULL), "user", "nobody", "after_terminate",
	    "/bin/sh", "-c", script);
	e2e_ok(e, "terminate_child", "{s:s}", "name", "h");
	ck_assert_int_eq(atoi(e2e_read_file(e, e2e_path(e, "hook.uid"),
	    5000)), NOBODY);
	ck_assert_str_eq(e2e_read_file(e, e2e_path(e, "hook.fds"), 5000),
	    "0 1 2\n");
	e2e_stop(e);
}
END_TEST

/*
 * A child gets only 0, 1, 2 and its ready descriptor, whatever number
 * that is: also one of the low numbers gtd keeps for spawning (the
 * slots, right after gtd's own first descriptors), whose copies the
 * child must neither keep nor lose its ready pipe to.  The child lists
 * its descriptors on stderr (ls has one more: the directory it reads).
 */
START_TEST(e2e_sec_child_fds)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*r, *lines;
	const char	*name, *want, *got;
	int		 fd;

	for (fd = 3; fd <= 48; fd += 5) {
		name = e2e_fmt(e, "fd%d", fd);
		e2e_ok(e, "start_child", "{s:s, s:[s,s,s], s:{s:i}, s:b}",
		    "name", name, "cmd", "/bin/sh", "-c", e2e_fmt(e,
		    "ls /proc/self/fd | sort -n | tr '\\n' ' ' >&2; "
		    "echo >&2; echo > /proc/self/fd/%d; exec sleep 60", fd),
		    "ready", "fd", fd, "wait", 1);
		ck_assert(e2e_wait_state(e, name, "running", 5000));
		r = e2e_ok(e, "logs", "{s:s}", "name", name);
		lines = e2e_get(r, "lines");
		ck_assert_uint_ge(json_array_size(lines), 1);
		got = json_string_value(json_object_get(json_array_get(lines,
		    0), "line"));
		/* 0 1 2, fd, and ls's own directory (the lowest free). */
		want = fd == 3 ? "0 1 2 3 4 " : e2e_fmt(e, "0 1 2 3 %d ", fd);
		ck_assert_msg(got != NULL && strcmp(got, want) == 0,
		    "ready fd %d: the child had \"%s\"", fd, got);
	}
	e2e_stop(e);
}
END_TEST

Suite *
e2e_security_suite(void)
{
	Suite	*s = suite_create("e2e_security");
	TCase	*tc = tcase_create("security");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, e2e_sec_socket_mode);
	tcase_add_test(tc, e2e_sec_no_shell);
	tcase_add_test(tc, e2e_sec_user_env);
	tcase_add_test(tc, e2e_sec_hook_credentials);
	tcase_add_test(tc, e2e_sec_child_fds);
	suite_add_tcase(s, tc);
	return (s);
}
