/* SPDX-License-Identifier: MIT */
/*
 * check_envfile: the EnvironmentFile= parser as a table of file text ->
 * variables and warnings (systemd's own test files of
 * src/test/test-env-file.c among them, and every rule systemd.exec(5)
 * states); errors with file and line; the bounds; the read as the
 * child's user, never blocking, regular files only, "-" for a missing
 * file; the env_files list; and the precedence of the merged layers.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "gt/envfile.h"
#include "gt/fscred.h"
#include "gt/xmalloc.h"

#include "check_unit.h"

/* "A=1|B=2", the variables of e in order. */
static char *
joined(const struct envfile *e)
{
	char	*s = xstrdup(""), *t;
	size_t	 i;

	for (i = 0; i < e->nvars; i++) {
		xasprintf(&t, "%s%s%s", s, i > 0 ? "|" : "", e->vars[i]);
		free(s);
		s = t;
	}
	return (s);
}

static const struct {
	const char	*text;
	size_t		 len;		/* 0: strlen(text) */
	const char	*vars;
	int		 nwarn;
	const char	*warn;		/* in the first warning */
} rows[] = {
	/* systemd's test-env-file.c, env_file_1 .. env_file_5. */
	{ "a=a\nb=b\\\nc\nd=d\\\ne\\\nf\ng=g\\ \nh=h\ni=i\\", 0,
	    "a=a|b=bc|d=def|g=g |h=h|i=i", 0, NULL },
	{ "a=a\\\n", 0, "a=a", 0, NULL },
	/* env_file_3: since systemd 254 a comment does not continue. */
	{ "#SPAMD_ARGS=\"-d --socketpath=/var/lib/bulwark/spamd \\\n"
	    "#--nouser-config                                     \\\n"
	    "normal=line", 0, "normal=line", 0, NULL },
	{ "# Generated\n\nHWMON_MODULES=\"coretemp f71882fg\"\n\n"
	    "# For compatibility reasons\n\nMODULE_0=coretemp\n"
	    "MODULE_1=f71882fg", 0, "HWMON_MODULES=coretemp f71882fg|"
	    "MODULE_0=coretemp|MODULE_1=f71882fg", 0, NULL },
	{ "a=\nb=", 0, "a=|b=", 0, NULL },
	/* A later assignment replaces, where the name first appeared. */
	{ "a=a\na=b\na=b\na=a\n", 0, "a=a", 0, NULL },
	{ "x=1\ny=2\nx=3\n", 0, "x=3|y=2", 0, NULL },
	/* Whitespace: around keys and unquoted values it goes. */
	{ "  KEY  =  value with  spaces \t \nB\t=\tb\t\n", 0,
	    "KEY=value with  spaces|B=b", 0, NULL },
	{ "A=1\r\nB=2\r\n", 0, "A=1|B=2", 0, NULL },
	/* Unquoted: quotes after the first character are kept. */
	{ "A=it's \"fine\"\n", 0, "A=it's \"fine\"", 0, NULL },
	{ "A=\\ lead\\ and\\ trail\\ \n", 0, "A= lead and trail ", 0, NULL },
	{ "A=a\\\\b\\x\n", 0, "A=a\\bx", 0, NULL },
	/* '...': verbatim, across lines, no escapes. */
	{ "A='x \\\"y\\\" $z \\\\'\n", 0, "A=x \\\"y\\\" $z \\\\", 0, NULL },
	{ "A='line1\nline2'\nB=2\n", 0, "A=line1\nline2|B=2", 0, NULL },
	{ "A=  'padded'  \n", 0, "A=padded", 0, NULL },
	/* "...": \" \\ \` \$ unescaped, other backslashes kept. */
	{ "A=\"a\\\"b\\\\c\\`d\\$e\\nf\"\n", 0, "A=a\"b\\c`d$e\\nf", 0,
	    NULL },
	{ "A=\"x\\\ny\"\n", 0, "A=xy", 0, NULL },
	{ "A=\"two\nlines\"\n", 0, "A=two\nlines", 0, NULL },
	/* Parts next to each other join. */
	{ "A=\"foo\" 'bar'\n", 0, "A=foobar", 0, NULL },
	{ "A=\"foo\"bar'baz' qux\n", 0, "A=foobar'baz' qux", 0, NULL },
	{ "A=''\nB=\"\"\nC=\n", 0, "A=|B=|C=", 0, NULL },
	/* Comments only at the start of a line. */
	{ "# c\n; c\n  # c\nA=1 # not a comment\n", 0,
	    "A=1 # not a comment", 0, NULL },
	{ "#x\\\nA=1\n", 0, "A=1", 0, NULL },
	/* Lines without "=" are ignored, silently. */
	{ "junk\nA=1\nmore junk", 0, "A=1", 0, NULL },
	{ "=z\n", 0, "", 0, NULL },
	/* Invalid names are skipped with a warning: export too. */
	{ "export A=1\nB=2\n", 0, "B=2", 1,
	    "x:1: ignoring an assignment to the invalid name \"export A\"" },
	{ "1A=x\nA-B=y\nA.B=w\nA B=v\nok_1=u\n", 0, "ok_1=u", 4,
	    "x:1: ignoring" },
	{ "\n\n# c\nexport X=1", 0, "", 1, "x:4: ignoring" },
	{ "\xef\xbb\xbf" "A=1\nB=2\n", 0, "B=2", 1, "x:1: ignoring" },
	{ "A\x01=1\n", 0, "", 1, "name \"A?\"" },
	/* The file ends inside a quote: systemd keeps it; so do we, loud. */
	{ "A='abc\nB=2", 0, "A=abc\nB=2", 1,
	    "x:1: the quote in the value of \"A\" is not closed" },
	/* UTF-8 passes. */
	{ "H= \xc4\x85\xc4\x99\xc3\xb3\xc5\x82\\ \xc5\x9b\xce\xbc \n", 0,
	    "H=\xc4\x85\xc4\x99\xc3\xb3\xc5\x82 \xc5\x9b\xce\xbc", 0, NULL },
};

START_TEST(test_envfile_table)
{
	struct envfile	 e;
	char		*cause = NULL, *got;
	size_t		 len = rows[_i].len ? rows[_i].len :
	    strlen(rows[_i].text);

	ck_assert_msg(envfile_parse("x", rows[_i].text, len, &e, &cause) ==
	    0, "row %d: %s", _i, cause);
	got = joined(&e);
	ck_assert_msg(strcmp(got, rows[_i].vars) == 0, "row %d: got [%s]",
	    _i, got);
	ck_assert_msg(e.nwarnings == (size_t)rows[_i].nwarn,
	    "row %d: %zu warnings (%s)", _i, e.nwarnings,
	    e.nwarnings ? e.warnings[0] : "");
	if (rows[_i].warn != NULL)
		ck_assert_msg(strstr(e.warnings[0], rows[_i].warn) != NULL,
		    "row %d: %s", _i, e.warnings[0]);
	ck_assert(!e.missing);
	free(got);
	envfile_clear(&e);
}
END_TEST

static const struct {
	const char	*text;
	size_t		 len;
	int		 err;
	const char	*cause;
} bad_rows[] = {
	{ "A=1\nB=\0\n", 8, EINVAL, "f.env:2: a NUL byte" },
	{ "\0", 1, EINVAL, "f.env:1: a NUL byte" },
	{ "A=1\nB=\xff\n", 0, EINVAL,
	    "f.env:2: invalid UTF-8 in the value of B" },
	{ "\n\xc0\xaf=1\n", 0, EINVAL, "f.env:2: invalid UTF-8 in a name" },
	{ "A=\xed\xa0\x80\n", 0, EINVAL, "invalid UTF-8" },	/* surrogate */
	{ "A=\xef\xbf\xbe\n", 0, EINVAL, "invalid UTF-8" },	/* U+FFFE */
	{ "A=\xef\xb7\x90\n", 0, EINVAL, "invalid UTF-8" },	/* U+FDD0 */
};

START_TEST(test_envfile_errors)
{
	struct envfile	 e;
	char		*cause = NULL;
	size_t		 len = bad_rows[_i].len ? bad_rows[_i].len :
	    strlen(bad_rows[_i].text);

	errno = 0;
	ck_assert_int_eq(envfile_parse("f.env", bad_rows[_i].text, len, &e,
	    &cause), -1);
	ck_assert_int_eq(errno, bad_rows[_i].err);
	ck_assert_msg(strstr(cause, bad_rows[_i].cause) != NULL, "row %d: %s",
	    _i, cause);
	ck_assert_uint_eq(e.nvars, 0);
	ck_assert_ptr_null(e.vars);
	free(cause);
}
END_TEST

START_TEST(test_envfile_bounds)
{
	struct envfile	 e;
	char		*text, *cause = NULL;
	size_t		 i, len;

	/* One assignment of exactly ENVFILE_MAX_ENTRY bytes, then one more. */
	text = xmalloc(ENVFILE_MAX_ENTRY + 16);
	memcpy(text, "A=", 2);
	memset(text + 2, 'v', ENVFILE_MAX_ENTRY - 2);
	len = ENVFILE_MAX_ENTRY;
	ck_assert_int_eq(envfile_parse("f", text, len, &e, &cause), 0);
	ck_assert_uint_eq(strlen(e.vars[0]), ENVFILE_MAX_ENTRY);
	envfile_clear(&e);
	text[len++] = 'v';
	ck_assert_int_eq(envfile_parse("f", text, len, &e, &cause), -1);
	ck_assert_int_eq(errno, E2BIG);
	ck_assert_str_eq(cause, "f:1: A: longer than 131071 bytes");
	free(cause);
	free(text);
	/* ENVFILE_MAX_VARS names, then one more; repeats do not count. */
	text = xmalloc(32 * (ENVFILE_MAX_VARS + 2));
	for (i = 0, len = 0; i < ENVFILE_MAX_VARS; i++)
		len += sprintf(text + len, "V%zu=%zu\nV0=again\n", i, i);
	ck_assert_int_eq(envfile_parse("f", text, len, &e, &cause), 0);
	ck_assert_uint_eq(e.nvars, ENVFILE_MAX_VARS);
	ck_assert_str_eq(e.vars[0], "V0=again");
	envfile_clear(&e);
	len += sprintf(text + len, "ONE_MORE=1\n");
	ck_assert_int_eq(envfile_parse("f", text, len, &e, &cause), -1);
	ck_assert_int_eq(errno, E2BIG);
	ck_assert_msg(strstr(cause, ": more than 4096 variables") != NULL,
	    "%s", cause);
	free(cause);
	/* Warnings: ENVFILE_MAX_WARNINGS kept, all counted. */
	for (i = 0, len = 0; i < 100; i++)
		len += sprintf(text + len, "export X%zu=1\n", i);
	ck_assert_int_eq(envfile_parse("f", text, len, &e, &cause), 0);
	ck_assert_uint_eq(e.nwarnings, 100);
	for (i = 0; e.warnings[i] != NULL; i++)
		;
	ck_assert_uint_eq(i, ENVFILE_MAX_WARNINGS);
	ck_assert_str_eq(e.warnings[15], "f:16: ignoring an assignment to "
	    "the invalid name \"export X15\"");
	envfile_clear(&e);
	/* A long invalid name is shown cut, at a character. */
	len = sprintf(text, "export ");
	for (i = 0; i < 40; i++)
		len += sprintf(text + len, "\xc5\x9b");
	len += sprintf(text + len, "=1\n");
	ck_assert_int_eq(envfile_parse("f", text, len, &e, &cause), 0);
	ck_assert_msg(strstr(e.warnings[0], "\xc5\x9b...\"") != NULL, "%s",
	    e.warnings[0]);
	envfile_clear(&e);
	free(text);
}
END_TEST

/* Reading files. */

static char	dir[] = "/tmp/gt-envfile-XXXXXX";

static void
setup_dir(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(chmod(dir, 0755), 0);
}

static char *
put_file(const char *name, const char *text, mode_t mode)
{
	char	*path;
	int	 fd;

	xasprintf(&path, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
	return (path);
}

START_TEST(test_envfile_read)
{
	struct envfile	 e;
	char		*path, *cause = NULL, *opt;

	setup_dir();
	path = put_file("app.env", "A=1\nexport B=2\n", 0644);
	ck_assert_int_eq(envfile_read(path, NULL, &e, &cause), 0);
	ck_assert_uint_eq(e.nvars, 1);
	ck_assert_str_eq(e.vars[0], "A=1");
	ck_assert_uint_eq(e.nwarnings, 1);
	ck_assert_msg(strncmp(e.warnings[0], path, strlen(path)) == 0, "%s",
	    e.warnings[0]);
	envfile_clear(&e);
	/* Missing: an error, unless "-". */
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(envfile_read(path, NULL, &e, &cause), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert(strstr(cause, "No such file or directory") != NULL);
	free(cause);
	xasprintf(&opt, "-%s", path);
	ck_assert_int_eq(envfile_read(opt, NULL, &e, &cause), 0);
	ck_assert(e.missing);
	ck_assert_uint_eq(e.nvars, 0);
	free(opt);
	ck_assert_int_eq(envfile_read("-/etc/passwd/not-a-dir", NULL, &e,
	    &cause), 0);
	ck_assert(e.missing);
	/* Not absolute. */
	ck_assert_int_eq(envfile_read("-relative.env", NULL, &e, &cause), -1);
	ck_assert_int_eq(errno, EINVAL);
	free(cause);
	free(path);
}
END_TEST

/* A FIFO, a directory, a device: refused at once, never read. */
START_TEST(test_envfile_read_not_regular)
{
	struct envfile	 e;
	char		*path, *opt, *cause = NULL;
	long long	 t0;

	setup_dir();
	xasprintf(&path, "%s/fifo", dir);
	ck_assert_int_eq(mkfifo(path, 0644), 0);
	t0 = test_now_ms();
	ck_assert_int_eq(envfile_read(path, NULL, &e, &cause), -1);
	ck_assert_int_lt(test_now_ms() - t0, 1000);	/* did not block */
	ck_assert_int_eq(errno, EINVAL);
	ck_assert(strstr(cause, "not a regular file") != NULL);
	free(cause);
	/* "-" does not excuse a file that is there. */
	xasprintf(&opt, "-%s", path);
	ck_assert_int_eq(envfile_read(opt, NULL, &e, &cause), -1);
	free(cause);
	ck_assert_int_eq(envfile_read(dir, NULL, &e, &cause), -1);
	ck_assert_int_eq(errno, EINVAL);
	free(cause);
	ck_assert_int_eq(envfile_read("/dev/zero", NULL, &e, &cause), -1);
	ck_assert_int_eq(errno, EINVAL);
	free(cause);
	free(opt);
	free(path);
}
END_TEST

START_TEST(test_envfile_read_too_big)
{
	struct envfile	 e;
	char		*path, *cause = NULL;
	int		 fd;

	setup_dir();
	path = put_file("big.env", "A=1\n", 0644);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	ck_assert_int_eq(ftruncate(fd, ENVFILE_MAX_BYTES), 0);
	close(fd);
	/* Exactly the bound: NULs, so a parse error, but read whole. */
	ck_assert_int_eq(envfile_read(path, NULL, &e, &cause), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert(strstr(cause, ":2: a NUL byte") != NULL);
	free(cause);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	ck_assert_int_eq(ftruncate(fd, ENVFILE_MAX_BYTES + 1), 0);
	close(fd);
	ck_assert_int_eq(envfile_read(path, NULL, &e, &cause), -1);
	ck_assert_int_eq(errno, EFBIG);
	ck_assert(strstr(cause, "larger than 1048576 bytes") != NULL);
	free(cause);
	free(path);
}
END_TEST

/*
 * The trap: gtd is root, the child is not.  A file only root may read,
 * directly or through a symlink the child's user planted, is refused
 * as the child's user would be; with gtd's own credentials it is read.
 */
START_TEST(test_envfile_read_as_child)
{
	struct envfile	 e;
	struct fscred	 cr;
	struct passwd	*pw;
	char		*secret, *link, *mine, *cause = NULL, *opt;
	unsigned	 gid;

	if (geteuid() != 0 || (pw = getpwnam("nobody")) == NULL)
		return;				/* needs root and nobody */
	setup_dir();
	gid = pw->pw_gid;
	fscred_init(&cr, true, pw->pw_uid, true, pw->pw_gid, &gid, 1);
	ck_assert(cr.set);
	secret = put_file("secret.env", "ROOT_ONLY=1\n", 0600);
	xasprintf(&link, "%s/planted.env", dir);
	ck_assert_int_eq(symlink(secret, link), 0);
	mine = put_file("mine.env", "MINE=1\n", 0600);
	ck_assert_int_eq(chown(mine, pw->pw_uid, pw->pw_gid), 0);
	ck_assert_int_eq(envfile_read(secret, &cr, &e, &cause), -1);
	ck_assert_int_eq(errno, EACCES);
	ck_assert(strstr(cause, "Permission denied") != NULL);
	free(cause);
	ck_assert_int_eq(envfile_read(link, &cr, &e, &cause), -1);
	ck_assert_int_eq(errno, EACCES);
	free(cause);
	/* "-" covers absence only. */
	xasprintf(&opt, "-%s", secret);
	ck_assert_int_eq(envfile_read(opt, &cr, &e, &cause), -1);
	ck_assert_int_eq(errno, EACCES);
	free(cause);
	ck_assert_int_eq(envfile_read(mine, &cr, &e, &cause), 0);
	ck_assert_str_eq(e.vars[0], "MINE=1");
	envfile_clear(&e);
	/* gtd's own ids are back: root reads the secret. */
	ck_assert_int_eq(envfile_read(secret, NULL, &e, &cause), 0);
	ck_assert_str_eq(e.vars[0], "ROOT_ONLY=1");
	envfile_clear(&e);
	fscred_clear(&cr);
	free(opt);
	free(secret);
	free(link);
	free(mine);
}
END_TEST

/* fscred_init: only a root gtd switches, and never to root. */
START_TEST(test_envfile_fscred_init)
{
	struct fscred	cr;
	unsigned	g[2] = { 5, 6 };

	fscred_init(&cr, false, 1000, true, 1000, g, 2);
	ck_assert(!cr.set);
	fscred_init(&cr, true, 0, true, 0, g, 2);
	ck_assert(!cr.set);
	fscred_init(&cr, true, 1000, false, 0, g, 2);
	ck_assert(cr.set == (geteuid() == 0));
	if (cr.set) {
		ck_assert_uint_eq(cr.uid, 1000);
		ck_assert_uint_eq(cr.gid, getegid());
		ck_assert_int_eq(cr.ngroups, 2);
		ck_assert_uint_eq(cr.groups[1], 6);
	}
	fscred_clear(&cr);
	ck_assert(!cr.set);
	ck_assert_ptr_null(cr.groups);
}
END_TEST

/* env_files. */

static const struct {
	const char	*in;
	int		 n;		/* -1: an error */
	const char	*field;
} list_rows[] = {
	{ "[]", 0, NULL },
	{ "[\"/etc/app.env\", \"-/etc/app.local.env\"]", 2, NULL },
	{ "\"/etc/app.env\"", -1, "env_files" },
	{ "[\"app.env\"]", -1, "env_files.0" },
	{ "[\"/ok\", \"-app.env\"]", -1, "env_files.1" },
	{ "[\"-\"]", -1, "env_files.0" },
	{ "[\"\"]", -1, "env_files.0" },
	{ "[\"/etc/*.env\"]", -1, "env_files.0" },
	{ "[\"/etc/app?.env\"]", -1, "env_files.0" },
	{ "[\"/etc/[ab].env\"]", -1, "env_files.0" },
	{ "[\"/a\\u0000b\"]", -1, "env_files.0" },
	{ "[1]", -1, "env_files.0" },
};

START_TEST(test_envfile_list)
{
	json_error_t	 je;
	json_t		*in;
	char		**v, *field = NULL, *cause = NULL;
	size_t		 n, i;

	in = json_loads(list_rows[_i].in, JSON_DECODE_ANY | JSON_ALLOW_NUL,
	    &je);
	ck_assert_msg(in != NULL, "row %d: %s", _i, je.text);
	if (list_rows[_i].n >= 0) {
		ck_assert_int_eq(envfile_parse_list(in, &v, &n, &field,
		    &cause), 0);
		ck_assert_uint_eq(n, list_rows[_i].n);
		ck_assert_ptr_null(v[n]);
		for (i = 0; i < n; i++)
			free(v[i]);
		free(v);
	} else {
		ck_assert_int_eq(envfile_parse_list(in, &v, &n, &field,
		    &cause), -1);
		ck_assert_str_eq(field, list_rows[_i].field);
		ck_assert_ptr_null(v);
		free(field);
		free(cause);
	}
	json_decref(in);
}
END_TEST

START_TEST(test_envfile_list_bound)
{
	json_t	*a = json_array();
	char	**v, *field = NULL, *cause = NULL;
	size_t	  n;
	int	  i;

	for (i = 0; i <= ENVFILE_MAX_FILES; i++)
		json_array_append_new(a, json_string("/etc/x.env"));
	ck_assert_int_eq(envfile_parse_list(a, &v, &n, &field, &cause), -1);
	ck_assert_str_eq(field, "env_files");
	free(field);
	free(cause);
	json_decref(a);
}
END_TEST

/* gtd's environment < env_files (in order) < env < GTD_*. */
START_TEST(test_envfile_merge)
{
	/* Writable copies: the layers are vectors of char *. */
	char	 a[] = "A=base", b[] = "B=base", p[] = "PATH=/bin";
	char	 g0[] = "GTD_NAME=old", b1[] = "B=f1", c1[] = "C=f1";
	char	 c2[] = "C=f2", d2[] = "D=f2", b2[] = "B=f2";
	char	 d3[] = "D=env", e3[] = "E=env", e4[] = "E=env2";
	char	 g1[] = "GTD_NAME=web";
	char	*base[] = { a, b, p, g0, NULL };
	char	*f1[] = { b1, c1, NULL };
	char	*f2[] = { c2, d2, b2, NULL };
	char	*env[] = { d3, e3, e4, NULL };
	char	*gtd[] = { g1, NULL };
	char	*const *layers[] = { base, f1, NULL, f2, env, gtd };
	char	**out;
	const char *want[] = { "A=base", "B=f2", "PATH=/bin",
	    "GTD_NAME=web", "C=f2", "D=env", "E=env2", NULL };
	int	  i;

	out = envfile_merge(layers, 6);
	for (i = 0; want[i] != NULL; i++) {
		ck_assert_ptr_nonnull(out[i]);
		ck_assert_str_eq(out[i], want[i]);
	}
	ck_assert_ptr_null(out[i]);
	/* Borrowed: the winning strings themselves. */
	ck_assert_ptr_eq(out[1], f2[2]);
	free(out);
	out = envfile_merge(NULL, 0);
	ck_assert_ptr_null(out[0]);
	free(out);
}
END_TEST

Suite *
envfile_suite(void)
{
	Suite	*s = suite_create("envfile");
	TCase	*tc;

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_envfile_table, 0, NROWS(rows));
	tcase_add_loop_test(tc, test_envfile_errors, 0, NROWS(bad_rows));
	tcase_add_test(tc, test_envfile_bounds);
	tcase_add_loop_test(tc, test_envfile_list, 0, NROWS(list_rows));
	tcase_add_test(tc, test_envfile_list_bound);
	tcase_add_test(tc, test_envfile_merge);
	suite_add_tcase(s, tc);
	tc = tcase_create("read");
	tcase_add_test(tc, test_envfile_read);
	tcase_add_test(tc, test_envfile_read_not_regular);
	tcase_add_test(tc, test_envfile_read_too_big);
	tcase_add_test(tc, test_envfile_read_as_child);
	tcase_add_test(tc, test_envfile_fscred_init);
	suite_add_tcase(s, tc);
	return (s);
}
