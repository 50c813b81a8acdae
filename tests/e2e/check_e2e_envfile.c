/* SPDX-License-Identifier: MIT */
/*
 * check_e2e_envfile: childspec env_files against the real daemon
 * (protocol §9.1): precedence, re-read at every start, spawn_failed step
 * env_file with the path for every bound (size, names, NUL byte, not a
 * regular file, missing), and files read with the child's credentials
 * (a file only root may read, and a symlink to it, are refused for a
 * child that runs as nobody).
 */
#include "config.h"

#include <sys/stat.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "harness.h"

static void
put(const char *path, const char *text, size_t len)
{
	FILE	*f;

	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	ck_assert_int_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* Does the env dump (one KEY=VALUE per line) hold line? */
static bool
has(const char *env, const char *line)
{
	size_t		 n = strlen(line);
	const char	*p;

	for (p = env; (p = strstr(p, line)) != NULL; p++)
		if ((p == env || p[-1] == '\n') && (p[n] == '\n' ||
		    p[n] == '\0'))
			return (true);
	return (false);
}

/* start_child with one env_files entry must fail so. */
static void
refused(struct e2e *e, const char *entry, const char *errname,
    const char *path)
{
	json_t	*r;

	r = e2e_err(e, "spawn_failed", "start_child", "{s:s, s:o, s:[s]}",
	    "name", "x", "cmd", e2e_cmd(NULL), "env_files", entry);
	ck_assert_str_eq(e2e_str(r, "step"), "env_file");
	ck_assert_str_eq(e2e_str(r, "errno"), errname);
	ck_assert_str_eq(e2e_str(r, "path"), path);
	ck_assert_ptr_null(e2e_row(e, "x"));
}

/* gtd's env < env_files (in order) < env < GTD_*; re-read at a start. */
/*
 * info says which files the last start read and their keys, never a
 * value (info is of class read; env files hold secrets): so does gtctl.
 */
static void
info_envfiles(struct e2e *e, const char *f1, const char *f2)
{
	json_t		*r, *ef, *k;
	const char	*out, *dump;

	r = e2e_ok(e, "info", "{s:s}", "name", "w");
	ef = e2e_get(r, "env_files");
	ck_assert_int_eq(json_array_size(ef), 3);
	ck_assert_str_eq(e2e_str(json_array_get(ef, 0), "path"), f1);
	ck_assert_str_eq(e2e_str(json_array_get(ef, 1), "path"), f2);
	ck_assert(json_is_false(e2e_get(json_array_get(ef, 0), "missing")));
	ck_assert(json_is_true(e2e_get(json_array_get(ef, 2), "missing")));
	k = e2e_get(json_array_get(ef, 0), "keys");
	ck_assert_int_eq(json_array_size(k), 5);   /* not "export C" */
	ck_assert_str_eq(json_string_value(json_array_get(k, 0)),
	    "GT_EF_BASE");
	dump = e2e_dump(e, r);
	ck_assert_msg(strstr(dump, "file1") == NULL && strstr(dump,
	    "two words") == NULL, "a value in info: %s", dump);
	ck_assert_int_eq(e2e_gtctl(e, &out, "info", "w", NULL), 0);
	ck_assert_msg(strstr(out, e2e_fmt(e, "env_files: %s: GT_EF_BASE A B Q "
	    "GTD_NAME; %s: A", f1, f2)) != NULL, "%s", out);
	ck_assert_msg(strstr(out, "missing") != NULL, "%s", out);
}

START_TEST(e2e_envfile_precedence)
{
	struct e2e	*e;
	const char	*f1, *f2, *env, *out;
	static const char t1[] = "# a comment\nGT_EF_BASE=file1\nA=1\n"
	    "B=file\nexport C=x\nQ=\"two words\"\nGTD_NAME=evil\n";

	setenv("GT_EF_BASE", "gtd", 1);
	e = e2e_start(NULL);
	f1 = e2e_path(e, "one.env");
	f2 = e2e_path(e, "two.env");
	out = e2e_path(e, "env");
	put(f1, t1, sizeof t1 - 1);
	put(f2, "A=2\n", 4);
	e2e_ok(e, "start_child", "{s:s, s:o, s:[s, s, s], s:{s:s}}", "name",
	    "w", "cmd", e2e_cmd(e2e_fmt(e, "--env=%s", out), NULL),
	    "env_files", f1, f2, e2e_fmt(e, "-%s", e2e_path(e, "missing")),
	    "env", "B", "env");
	env = e2e_read_file(e, out, 5000);
	ck_assert_msg(has(env, "GT_EF_BASE=file1"), "%s", env);
	ck_assert_msg(has(env, "A=2"), "%s", env);
	ck_assert_msg(has(env, "B=env"), "%s", env);
	ck_assert_msg(has(env, "Q=two words"), "%s", env);
	ck_assert_msg(has(env, "GTD_NAME=w"), "%s", env);
	ck_assert_msg(strstr(env, "C=x") == NULL, "%s", env);
	/* The spec keeps the list; the file is read again at a restart. */
	ck_assert_int_eq(json_array_size(e2e_get(e2e_get(e2e_ok(e,
	    "get_childspec", "{s:s}", "name", "w"), "spec"), "env_files")), 3);
	put(f2, "A=3\n", 4);
	ck_assert_int_eq(unlink(out), 0);
	e2e_ok(e, "restart_child", "{s:s, s:b}", "name", "w", "force", 1);
	env = e2e_read_file(e, out, 5000);
	ck_assert_msg(has(env, "A=3"), "%s", env);
	info_envfiles(e, f1, f2);
	unsetenv("GT_EF_BASE");
	e2e_stop(e);
}
END_TEST

/* Every failure is spawn_failed, step env_file, with the path. */
START_TEST(e2e_envfile_bounds)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*p = e2e_path(e, "f.env");
	char		*big, *many;
	size_t		 i, n;
	json_t		*r;

	refused(e, e2e_path(e, "nope"), "ENOENT", e2e_path(e, "nope"));
	put(p, "A=1\nB=\0x\n", 9);		/* a NUL byte */
	refused(e, p, "EINVAL", p);
	/* Over 1 MiB: refused before it is read. */
	big = malloc(1024 * 1024 + 2);
	memset(big, '#', 1024 * 1024 + 1);
	big[1024 * 1024] = '\n';
	put(p, big, 1024 * 1024 + 1);
	refused(e, p, "EFBIG", p);
	free(big);
	/* More than 4096 names (in less than 1 MiB). */
	many = malloc(5000 * 16);
	for (i = n = 0; i < 5000; i++)
		n += (size_t)sprintf(many + n, "V%u=1\n", (unsigned)i);
	put(p, many, n);
	refused(e, p, "E2BIG", p);
	free(many);
	/* Invalid UTF-8. */
	put(p, "A=\xff\xfe\n", 5);
	refused(e, p, "EINVAL", p);
	/* One assignment longer than an execve(2) string. */
	big = malloc(130 * 1024);
	memcpy(big, "A=", 2);
	memset(big + 2, 'v', 130 * 1024 - 3);
	big[130 * 1024 - 1] = '\n';
	put(p, big, 130 * 1024);
	refused(e, p, "E2BIG", p);
	/* Just under 1 MiB of comment lines: read, and gtd stays quick. */
	free(big);
	big = malloc(1024 * 1024);
	for (i = 0; i + 2 <= 1024 * 1024 - 8; i += 2)
		memcpy(big + i, "#\n", 2);
	memcpy(big + i, "Z=ok\n", 5);
	put(p, big, i + 5);
	free(big);
	e2e_ok(e, "start_child", "{s:s, s:o, s:[s]}", "name", "lines", "cmd",
	    e2e_cmd(e2e_fmt(e, "--env=%s", e2e_path(e, "env")), NULL),
	    "env_files", p);
	ck_assert_msg(strstr(e2e_read_file(e, e2e_path(e, "env"), 5000),
	    "\nZ=ok\n") != NULL, "Z not set");
	/* A directory, a FIFO: not regular files (a FIFO never blocks). */
	refused(e, e2e_dir(e), "EINVAL", e2e_dir(e));
	ck_assert_int_eq(mkfifo(e2e_path(e, "fifo"), 0600), 0);
	refused(e, e2e_path(e, "fifo"), "EINVAL", e2e_path(e, "fifo"));
	e2e_ok(e, "ping", NULL);
	/* Not a path gtd would read exactly: refused in the spec. */
	r = e2e_err(e, "bad_request", "start_child", "{s:s, s:o, s:[s]}",
	    "name", "x", "cmd", e2e_cmd(NULL), "env_files", "rel.env");
	ck_assert_str_eq(e2e_str(r, "field"), "env_files.0");
	r = e2e_err(e, "bad_request", "start_child", "{s:s, s:o, s:[s]}",
	    "name", "x", "cmd", e2e_cmd(NULL), "env_files", "/etc/*.env");
	ck_assert_str_eq(e2e_str(r, "field"), "env_files.0");
	e2e_stop(e);
}
END_TEST

/*
 * Read as the child's user: a root-only file, or a symlink to it, is
 * refused for a child of nobody; a file nobody may read is read.
 */
START_TEST(e2e_envfile_as_user)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*secret = e2e_path(e, "secret.env");
	const char	*link = e2e_path(e, "link.env");
	const char	*open = e2e_path(e, "open.env"), *out, *env;
	json_t		*r;

	if (geteuid() != 0) {
		e2e_stop(e);
		return;			/* needs root to switch users */
	}
	ck_assert_int_eq(chmod(e2e_dir(e), 0777), 0);
	put(secret, "S=secret\n", 9);
	ck_assert_int_eq(chmod(secret, 0600), 0);
	ck_assert_int_eq(symlink(secret, link), 0);
	put(open, "O=open\n", 7);
	ck_assert_int_eq(chmod(open, 0644), 0);
	r = e2e_err(e, "spawn_failed", "start_child", "{s:s, s:o, s:s, s:[s]}",
	    "name", "u", "cmd", e2e_cmd(NULL), "user", "nobody", "env_files",
	    secret);
	ck_assert_str_eq(e2e_str(r, "errno"), "EACCES");
	ck_assert_str_eq(e2e_str(r, "step"), "env_file");
	r = e2e_err(e, "spawn_failed", "start_child", "{s:s, s:o, s:s, s:[s]}",
	    "name", "u", "cmd", e2e_cmd(NULL), "user", "nobody", "env_files",
	    link);
	ck_assert_str_eq(e2e_str(r, "errno"), "EACCES");
	out = e2e_path(e, "env");
	e2e_ok(e, "start_child", "{s:s, s:o, s:s, s:[s]}", "name", "u",
	    "cmd", e2e_cmd(e2e_fmt(e, "--env=%s", out), NULL), "user",
	    "nobody", "env_files", open);
	env = e2e_read_file(e, out, 5000);
	ck_assert_msg(has(env, "O=open"), "%s", env);
	/* gtd itself (root) reads the secret for a child of its own. */
	ck_assert_int_eq(unlink(out), 0);
	e2e_ok(e, "start_child", "{s:s, s:o, s:[s]}", "name", "r",
	    "cmd", e2e_cmd(e2e_fmt(e, "--env=%s", out), NULL), "env_files",
	    link);
	env = e2e_read_file(e, out, 5000);
	ck_assert_msg(has(env, "S=secret"), "%s", env);
	e2e_stop(e);
}
END_TEST

Suite *
e2e_envfile_suite(void)
{
	Suite	*s = suite_create("e2e_envfile");
	TCase	*tc = tcase_create("envfile");

	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_envfile_precedence);
	tcase_add_test(tc, e2e_envfile_bounds);
	tcase_add_test(tc, e2e_envfile_as_user);
	suite_add_tcase(s, tc);
	return (s);
}
