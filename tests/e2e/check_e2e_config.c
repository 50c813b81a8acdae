/* SPDX-License-Identifier: MIT */
/*
 * check_e2e_config: the config file against the real daemon.  `gtd -n`
 * accepts a good file and names the key path of a bad one; defaults,
 * templates and the include directory shape the specs; boot children
 * start in order before readiness, and a boot child that cannot start
 * makes gtd stop the others and exit unready; the limits, socket_mode,
 * socket_group and log_level take effect.  Then reload (the op and
 * SIGHUP): new boot children start, removed ones stop and go, changed
 * specs and templates apply at the next start, unchanged children are
 * never bounced, and a config that does not validate changes nothing.
 *
 * A few tests run a second gtd themselves ("sub"): without -d, or with
 * a boot that must fail, which the harness cannot start.  It lives in the
 * test's directory with GTD_SOCKET=DIR/..., so the harness's survivor
 * check and guardian cover it and its children too.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "harness.h"

#define CF_WAIT_MS	5000		/* one condition */

/* A gtd started by the test (see the top comment). */
struct sub {
	pid_t		 pid;
	int		 rfd;		/* readiness pipe, read end, or -1 */
	const char	*log;
	const char	*sock;
	const char	*conf;
};

/* A copy of s with @TESTCHILD@ and @DIR@ replaced (borrowed). */
static const char *
subst(struct e2e *e, const char *s)
{
	static const char *const	 keys[] = { "@TESTCHILD@", "@DIR@" };
	const char			*vals[2], *out = "", *p, *best;
	int				 k, bk;

	vals[0] = e2e_testchild(e);
	vals[1] = e2e_dir(e);
	for (;;) {
		best = NULL;
		bk = 0;
		for (k = 0; k < 2; k++)
			if ((p = strstr(s, keys[k])) != NULL &&
			    (best == NULL || p < best)) {
				best = p;
				bk = k;
			}
		if (best == NULL)
			return (e2e_fmt(e, "%s%s", out, s));
		out = e2e_fmt(e, "%s%.*s%s", out, (int)(best - s), s, vals[bk]);
		s = best + strlen(keys[bk]);
	}
}

/* Write path atomically (tmp + rename): gtd never reads half a file. */
static void
write_file(struct e2e *e, const char *path, const char *text)
{
	const char	*tmp = e2e_fmt(e, "%s.tmp", path);
	FILE		*f;

	ck_assert_msg((f = fopen(tmp, "we")) != NULL, "%s: %s", tmp,
	    strerror(errno));
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(rename(tmp, path), 0);
}

/* Replace the harness's config (DIR/gtd.json) with text (substituted). */
static void
write_conf(struct e2e *e, const char *text)
{
	write_file(e, e2e_path(e, "gtd.json"), subst(e, text));
}

/* The text of the file at path, or "" (borrowed). */
static const char *
slurp(struct e2e *e, const char *path)
{
	char	 buf[65536];
	ssize_t	 n;
	size_t	 len = 0;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return ("");
	while (len < sizeof buf - 1 && (n = read(fd, buf + len,
	    sizeof buf - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = '\0';
	return (e2e_fmt(e, "%s", buf));
}

/* /proc/PID/cmdline with spaces between the arguments (borrowed). */
static const char *
cmdline(struct e2e *e, pid_t pid)
{
	char	 buf[8192], path[64];
	ssize_t	 n, i;
	int	 fd;

	snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return ("");
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return ("");
	for (i = 0; i < n - 1; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n] = '\0';
	return (e2e_fmt(e, "%s", buf));
}

static pid_t
row_pid(struct e2e *e, const char *name)
{
	json_t	*row = e2e_row(e, name);

	ck_assert_msg(row != NULL, "no row %s", name);
	ck_assert_msg(json_is_integer(json_object_get(row, "pid")),
	    "%s has no pid: %s", name, e2e_dump(e, row));
	return ((pid_t)json_integer_value(json_object_get(row, "pid")));
}

static json_int_t
started_at(struct e2e *e, const char *name)
{
	return (e2e_int(e2e_ok(e, "info", "{s:s}", "name", name),
	    "started_at"));
}

/* The normalised spec of name. */
static json_t *
spec_of(struct e2e *e, const char *name)
{
	return (e2e_get(e2e_ok(e, "get_childspec", "{s:s}", "name", name),
	    "spec"));
}

/* A JSON array of strings as "a b c" (borrowed). */
static const char *
strv(struct e2e *e, json_t *a)
{
	const char	*s = "";
	json_t		*v;
	size_t		 i;

	ck_assert_msg(json_is_array(a), "not an array: %s", e2e_dump(e, a));
	json_array_foreach(a, i, v)
		s = e2e_fmt(e, "%s%s%s", s, i == 0 ? "" : " ",
		    json_string_value(v));
	return (s);
}

/* Start a sub gtd: DIR/tag.json, DIR/tag.sock, stderr to DIR/tag.log. */
static void
sub_launch(struct e2e *e, struct sub *s, const char *tag, const char *conf,
    bool debug)
{
	const char	*gtd = getenv("GTD") != NULL ? getenv("GTD") :
			    "build/gtd";
	int		 p[2], fd, nul;

	s->conf = e2e_path(e, e2e_fmt(e, "%s.json", tag));
	s->log = e2e_path(e, e2e_fmt(e, "%s.log", tag));
	s->sock = e2e_path(e, e2e_fmt(e, "%s.sock", tag));
	write_file(e, s->conf, subst(e, conf));
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	fflush(NULL);
	ck_assert_int_ne(s->pid = fork(), -1);
	if (s->pid == 0) {
		setpgid(0, 0);
		setenv("GTD_SOCKET", s->sock, 1);	/* the survivor scan */
		if ((fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0644)) ==
		    -1 || (nul = open("/dev/null", O_RDWR)) == -1 ||
		    dup2(nul, 0) == -1 || dup2(nul, 1) == -1 ||
		    dup2(fd, 2) == -1)
			_exit(126);
		if (p[1] == 3)
			fcntl(3, F_SETFD, 0);
		else if (dup2(p[1], 3) == -1)
			_exit(126);
		for (fd = 4; fd < 4096; fd++)
			close(fd);
		if (debug)
			execl(gtd, gtd, "-d", "-s", s->sock, "-r", "3", "-c",
			    s->conf, (char *)NULL);
		else
			execl(gtd, gtd, "-s", s->sock, "-r", "3", "-c",
			    s->conf, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	s->rfd = p[0];
}

/* 1: the readiness newline came; 0: EOF without it; -1: nothing in ms. */
static int
sub_ready(struct sub *s, int ms)
{
	struct pollfd	 pfd = { .fd = s->rfd, .events = POLLIN };
	long		 deadline = e2e_now_ms() + ms;
	char		 buf[64];
	ssize_t		 n;
	int		 ret = -1;

	while (e2e_now_ms() < deadline) {
		if (poll(&pfd, 1, (int)(deadline - e2e_now_ms())) <= 0)
			continue;
		if ((n = read(s->rfd, buf, sizeof buf)) == -1 &&
		    errno == EINTR)
			continue;
		if (n > 0 && memchr(buf, '\n', n) != NULL)
			ret = 1;
		else if (n <= 0)
			ret = 0;
		else
			continue;
		break;
	}
	close(s->rfd);
	s->rfd = -1;
	return (ret);
}

struct sub_reap {
	struct sub	*s;
	int		*st;
};

static bool
sub_reaped(void *arg)
{
	struct sub_reap	*r = arg;

	if (r->s->pid == -1 || waitpid(r->s->pid, r->st, WNOHANG) !=
	    r->s->pid)
		return (r->s->pid == -1);
	r->s->pid = -1;
	return (true);
}

/* Reap the sub gtd within ms; false if it is still running. */
static bool
sub_wait(struct sub *s, int ms, int *st)
{
	struct sub_reap	r = { s, st };

	return (e2e_wait_until(ms, sub_reaped, &r));
}

/* SIGTERM, and it must exit 0 within 10 s. */
static void
sub_stop(struct sub *s)
{
	int	st;

	if (s->rfd != -1)
		close(s->rfd);
	s->rfd = -1;
	ck_assert_int_eq(kill(s->pid, SIGTERM), 0);
	if (!sub_wait(s, 10000, &st)) {
		kill(s->pid, SIGKILL);
		sub_wait(s, 5000, &st);
		ck_abort_msg("sub gtd did not exit after SIGTERM");
	}
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "sub gtd exited with status 0x%x", st);
}

/* Run `gtd -n -c DIR/check.json` on text; its status, *err its stderr. */
static int
gtd_check(struct e2e *e, const char *text, const char **err)
{
	const char	*path = e2e_path(e, "check.json");

	write_file(e, path, subst(e, text));
	return (e2e_gtd_run(e, 5000, err, "-n", "-c", path, NULL));
}

/* Configuration checks (gtd -n). */

START_TEST(e2e_config_check_good)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*err;

	ck_assert_int_eq(mkdir(e2e_path(e, "inc"), 0755), 0);
	write_file(e, e2e_path(e, "inc/x.json"),
	    "{\"name\":\"inc-x\",\"template\":\"web\"}");
	ck_assert_msg(gtd_check(e,
	    "{\"zone\":\"ops\",\"socket_mode\":\"0640\","
	    "\"socket_group\":\"nogroup\",\"log_level\":\"warning\","
	    "\"max_connections\":10,\"max_request_bytes\":4096,"
	    "\"max_children\":10,\"max_attrs\":5,"
	    "\"defaults\":{\"restart_delay_ms\":50,\"env\":{\"A\":\"1\"}},"
	    "\"templates\":{\"web\":{\"cmd\":[\"/bin/true\"],"
	    "\"args\":[\"x\"],\"restart\":\"transient\"}},"
	    "\"children\":[{\"name\":\"a\",\"template\":\"web\","
	    "\"args\":[\"y\"]},{\"name\":\"b\",\"cmd\":[\"/bin/true\"],"
	    "\"stdout\":{\"file\":\"@DIR@/b.out\",\"max_bytes\":100,"
	    "\"keep\":2},\"stderr\":\"null\"}],"
	    "\"include\":\"@DIR@/inc\","
	    "\"acl\":{\"default\":\"read\",\"users\":{\"nobody\":\"write\","
	    "\"0\":\"admin\"},\"groups\":{\"nogroup\":\"control\"}}}",
	    &err) == 0, "gtd -n refused a good config: %s", err);
	ck_assert_msg(e2e_gtd_run(e, 5000, &err, "-n", "-c",
	    "tests/data/good.json", NULL) == 0, "good.json: %s", err);
	e2e_stop(e);
}
END_TEST

/* {config (substituted), the key path the error must name}. */
static const char *const bad_confs[][2] = {
	{ "{\"bogus\":1}", "bogus" },
	{ "{\"children\":[{\"name\":\"a\",\"cmd\":[\"/bin/true\"]},"
	  "{\"name\":\"b\",\"cmd\":[\"/bin/true\"],"
	  "\"shutdown\":{\"timeout_ms\":\"soon\"}}]}",
	  "children.1.shutdown.timeout_ms" },
	{ "{\"children\":{}}", "children" },
	{ "{\"children\":[{\"name\":\"twin\",\"cmd\":[\"/bin/true\"]},"
	  "{\"name\":\"twin\",\"cmd\":[\"/bin/true\"]}]}", "children.1.name" },
	{ "{\"children\":[{\"name\":\"a\",\"cmd\":[\"/bin/true\"],"
	  "\"stdout\":{\"file\":\"relative.log\"}}]}",
	  "children.0.stdout.file" },
	{ "{\"children\":[{\"name\":\"a\",\"cmd\":[\"/bin/true\"],"
	  "\"stderr\":{\"file\":\"/tmp/x.log\",\"keep\":1000}}]}",
	  "children.0.stderr.keep" },
	{ "{\"children\":[{\"name\":\"a\",\"cmd\":[\"/bin/true\"],"
	  "\"stdout\":\"syslog\"}]}", "children.0.stdout" },
	{ "{\"templates\":{\"web\":{\"cmd\":[0]}}}", "templates.web.cmd.0" },
	{ "{\"templates\":{\"web\":{\"name\":\"w\",\"cmd\":[\"/bin/true\"]}}}",
	  "templates.web.name" },
	{ "{\"templates\":{\"web\":{\"restart\":\"sometimes\"}}}",
	  "templates.web.restart" },
	{ "{\"templates\":[]}", "templates" },
	{ "{\"children\":[{\"name\":\"a\",\"template\":\"nope\"}]}",
	  "children.0.template" },
	{ "{\"templates\":{\"web\":{\"cmd\":[\"/bin/true\"]}},"
	  "\"children\":[{\"name\":\"a\",\"template\":\"web\","
	  "\"args\":[1]}]}", "children.0.args.0" },
	{ "{\"defaults\":{\"restart_delay_ms\":-1}}",
	  "defaults.restart_delay_ms" },
	{ "{\"defaults\":{\"name\":\"x\"}}", "defaults.name" },
	{ "{\"acl\":{\"users\":{\"nosuchuser-gtd\":\"read\"}}}",
	  "acl.users.nosuchuser-gtd" },
	{ "{\"acl\":{\"groups\":{\"nosuchgroup-gtd\":\"read\"}}}",
	  "acl.groups.nosuchgroup-gtd" },
	{ "{\"acl\":{\"users\":{\"nobody\":\"root\"}}}", "acl.users.nobody" },
	{ "{\"acl\":{\"default\":\"everything\"}}", "acl.default" },
	{ "{\"acl\":{\"owner\":\"read\"}}", "acl.owner" },
	{ "{\"include\":\"@DIR@/inc-bad\"}", "include.x.json.name" },
	{ "{\"include\":\"@DIR@/inc-json\"}", "include.y.json" },
	{ "{\"children\":[{\"name\":\"dup\",\"cmd\":[\"/bin/true\"]}],"
	  "\"include\":\"@DIR@/inc-dup\"}", "include.d.json.name" },
	{ "{\"include\":\"@DIR@/no-such-dir\"}", "include" },
	{ "{\"include\":\"relative/dir\"}", "include" },
	{ "{\"socket_mode\":\"rw-rw----\"}", "socket_mode" },
	{ "{\"socket_mode\":\"01777\"}", "socket_mode" },
	{ "{\"socket_group\":5}", "socket_group" },
	{ "{\"max_connections\":0}", "max_connections" },
	{ "{\"max_request_bytes\":10}", "max_request_bytes" },
	{ "{\"max_children\":\"many\"}", "max_children" },
	{ "{\"max_attrs\":0}", "max_attrs" },
	{ "{\"log_level\":\"loud\"}", "log_level" },
	{ NULL, NULL }
};

/*
 * Each bad config: gtd -n exits non-zero and names the key path, as
 * "gtd: FILE: PATH: cause".  All mismatches are collected.
 */
START_TEST(e2e_config_check_bad)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*err, *bad = "", *want;
	int		 i, st;

	ck_assert_int_eq(mkdir(e2e_path(e, "inc-bad"), 0755), 0);
	write_file(e, e2e_path(e, "inc-bad/x.json"),
	    "{\"name\":5,\"cmd\":[\"/bin/true\"]}");
	ck_assert_int_eq(mkdir(e2e_path(e, "inc-json"), 0755), 0);
	write_file(e, e2e_path(e, "inc-json/y.json"), "{\"name\":");
	ck_assert_int_eq(mkdir(e2e_path(e, "inc-dup"), 0755), 0);
	write_file(e, e2e_path(e, "inc-dup/d.json"),
	    "{\"name\":\"dup\",\"cmd\":[\"/bin/true\"]}");
	for (i = 0; bad_confs[i][0] != NULL; i++) {
		st = gtd_check(e, bad_confs[i][0], &err);
		want = e2e_fmt(e, ": %s: ", bad_confs[i][1]);
		if (st == 0 || strstr(err, want) == NULL)
			bad = e2e_fmt(e, "%s\n%s -> exit %d, %s(want field %s)",
			    bad, bad_confs[i][0], st, err, bad_confs[i][1]);
	}
	/* Not JSON at all: refused too. */
	if ((st = gtd_check(e, "{\"children\": [", &err)) == 0)
		bad = e2e_fmt(e, "%s\nbroken JSON accepted", bad);
	/* A file that is not there: its path once, then the cause. */
	want = e2e_path(e, "absent.json");
	st = e2e_gtd_run(e, 5000, &err, "-n", "-c", want, NULL);
	if (st == 0 || strstr(err, e2e_fmt(e, "gtd: %s: No such file",
	    want)) == NULL || strstr(strstr(err, want) + 1, want) != NULL)
		bad = e2e_fmt(e, "%s\nabsent file -> exit %d, %s", bad, st,
		    err);
	ck_assert_msg(*bad == '\0', "%s", bad);
	e2e_stop(e);
}
END_TEST

/*
 * gtd -n must refuse what gtd refuses at start: a socket_group that does
 * not exist stops gtd, so the check should say so.
 */
START_TEST(e2e_config_check_socket_group)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*err;
	int		 st;

	st = gtd_check(e, "{\"socket_group\":\"nosuchgroup-gtd\"}", &err);
	ck_assert_msg(st != 0 && strstr(err, "socket_group") != NULL,
	    "gtd -n accepted socket_group \"nosuchgroup-gtd\" (exit %d: %s), "
	    "which gtd then refuses at start", st, err);
	e2e_stop(e);
}
END_TEST

/* {field, what the message must say} of HOST_CONF, in order. */
static const char *const host_issues[][2] = {
	{ "children.0.cmd.0", "program nosuchprog-gtd not found in PATH" },
	{ "children.1.cwd", "cwd @DIR@/nodir: No such file or directory" },
	{ "children.2.cwd", "cwd @DIR@: permission denied for user nobody" },
	{ "children.3.cmd.0", "program @DIR@ is not a regular file" },
	{ "children.4.stdout.file", "log directory @DIR@/nodir: No such" },
	{ "children.5.cmd.0", "program @DIR@/noexec: permission denied" },
	{ "children.6.cmd.0", "program true not found in PATH @DIR@" },
	{ "children.7.user", "warning: uid 54321 has no passwd entry" },
	{ "children.8.after_terminate.0",
	  "warning: program nohook-gtd not found in PATH" },
	{ "templates.t.cmd.0", "warning: program nosuchtpl-gtd not found" },
	{ NULL, "7 errors, 3 warnings" },
	{ NULL, NULL }
};

#define HOST_CONF "{\"templates\":{\"t\":{\"cmd\":[\"nosuchtpl-gtd\"]}}," \
	"\"children\":[" \
	"{\"name\":\"a\",\"cmd\":[\"nosuchprog-gtd\"]}," \
	"{\"name\":\"b\",\"cmd\":[\"true\"],\"cwd\":\"@DIR@/nodir\"}," \
	"{\"name\":\"c\",\"cmd\":[\"/bin/true\"],\"user\":\"nobody\"," \
	"\"cwd\":\"@DIR@\"}," \
	"{\"name\":\"d\",\"cmd\":[\"@DIR@\"]}," \
	"{\"name\":\"e\",\"cmd\":[\"true\"]," \
	"\"stdout\":{\"file\":\"@DIR@/nodir/x.log\"}}," \
	"{\"name\":\"f\",\"cmd\":[\"@DIR@/noexec\"]}," \
	"{\"name\":\"g\",\"cmd\":[\"true\"],\"env\":{\"PATH\":\"@DIR@\"}}," \
	"{\"name\":\"h\",\"cmd\":[\"/bin/true\"],\"user\":54321}," \
	"{\"name\":\"i\",\"cmd\":[\"true\"],\"after_terminate\":" \
	"[\"nohook-gtd\"]}]}"

/*
 * gtd -n checks the host too, without starting anything: each boot
 * child's program in its PATH, its cwd and log directory, as its user;
 * what would stop the boot is an error (exit 1), the rest warnings.  The
 * test directory is 0700, so nobody cannot reach it.
 */
START_TEST(e2e_config_check_host)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*err, *bad = "", *want;
	int		 i, fd, st;

	ck_assert_int_ne(fd = open(e2e_path(e, "noexec"), O_WRONLY | O_CREAT,
	    0644), -1);
	close(fd);
	st = gtd_check(e, HOST_CONF, &err);
	ck_assert_msg(st == 1, "exit %d: %s", st, err);
	for (i = 0; host_issues[i][1] != NULL; i++) {
		want = host_issues[i][0] == NULL ? subst(e, host_issues[i][1]) :
		    e2e_fmt(e, ": %s: %s", host_issues[i][0],
		    subst(e, host_issues[i][1]));
		if (strstr(err, want) == NULL)
			bad = e2e_fmt(e, "%s\n  missing: %s", bad, want);
	}
	ck_assert_msg(*bad == '\0', "%s\nin:\n%s", bad, err);
	/* Warnings alone: ok, exit 0; and nothing was started. */
	st = gtd_check(e, "{\"children\":[{\"name\":\"a\",\"cmd\":[\"true\"],"
	    "\"after_terminate\":[\"nohook-gtd\"]}]}", &err);
	ck_assert_msg(st == 0 && strstr(err, "warning: program nohook-gtd") !=
	    NULL, "exit %d: %s", st, err);
	e2e_stop(e);
}
END_TEST

/* Defaults and templates. */

/*
 * defaults apply to every child (boot, runtime, template instances);
 * an instance's cmd is the template's cmd + args + its own args, the
 * other fields default from the template, and get_childspec shows the
 * resolved spec with "template".
 */
START_TEST(e2e_config_defaults_templates)
{
	struct e2e	*e = e2e_start_file("ops-templates.json");
	json_t		*sp, *r;
	const char	*tc = e2e_testchild(e), *want;
	pid_t		 pid;

	/* The boot instance of template "web". */
	sp = spec_of(e, "web1");
	ck_assert_str_eq(e2e_str(sp, "template"), "web");
	ck_assert_str_eq(strv(e, e2e_get(sp, "cmd")),
	    e2e_fmt(e, "%s --stdout=tpl-cmd", tc));
	ck_assert_str_eq(strv(e, e2e_get(sp, "args")), e2e_fmt(e,
	    "--stderr=tpl-args --pidfile=%s --env=%s",
	    e2e_path(e, "web1.pid"), e2e_path(e, "web1.env")));
	ck_assert_str_eq(e2e_str(sp, "restart"), "transient");
	ck_assert_int_eq(e2e_int(sp, "restart_delay_ms"), 777);
	ck_assert_str_eq(e2e_str(e2e_get(sp, "shutdown"), "signal"),
	    "SIGINT");
	ck_assert_int_eq(e2e_int(e2e_get(sp, "attrs"), "role"), 1);
	ck_assert_str_eq(e2e_str(e2e_get(sp, "env"), "FROM_DEFAULTS"), "yes");
	pid = e2e_read_pid(e, e2e_path(e, "web1.pid"), CF_WAIT_MS);
	ck_assert_int_eq(pid, row_pid(e, "web1"));
	want = e2e_fmt(e, "%s --stdout=tpl-cmd --stderr=tpl-args --pidfile=%s "
	    "--env=%s", tc, e2e_path(e, "web1.pid"), e2e_path(e, "web1.env"));
	ck_assert_str_eq(cmdline(e, pid), want);
	ck_assert(e2e_wait_text(e2e_path(e, "web1.env"),
	    "\nFROM_DEFAULTS=yes\n", CF_WAIT_MS));
	ck_assert_int_eq(e2e_int(e2e_ok(e, "getattr", "{s:s, s:s}", "name",
	    "web1", "key", "role"), "value"), 1);

	/* A plain boot child gets the defaults. */
	sp = spec_of(e, "plain");
	ck_assert(json_object_get(sp, "template") == NULL);
	ck_assert_int_eq(e2e_int(sp, "restart_delay_ms"), 123);
	ck_assert_str_eq(e2e_str(sp, "restart"), "permanent");
	ck_assert(e2e_wait_text(e2e_path(e, "plain.env"),
	    "\nFROM_DEFAULTS=yes\n", CF_WAIT_MS));
	ck_assert_int_eq(e2e_int(e2e_ok(e, "getattr", "{s:s, s:s}", "name",
	    "plain", "key", "from_defaults"), "value"), 1);
	/* A field of its own wins over the defaults. */
	ck_assert_int_eq(e2e_int(spec_of(e, "own"), "restart_delay_ms"), 5);

	/* Runtime children: start_child gets the defaults too... */
	e2e_ok(e, "start_child", "{s:s, s:o}", "name", "rt",
	    "cmd", e2e_cmd(NULL));
	ck_assert_int_eq(e2e_int(spec_of(e, "rt"), "restart_delay_ms"), 123);
	/* ...and find_or_open instantiates a template. */
	r = e2e_ok(e, "find_or_open", "{s:s, s:s, s:[s]}", "name", "rt-web",
	    "template", "web", "args", e2e_fmt(e, "--pidfile=%s",
	    e2e_path(e, "rt-web.pid")));
	ck_assert(json_is_true(e2e_get(r, "created")));
	pid = (pid_t)e2e_int(r, "pid");
	sp = spec_of(e, "rt-web");
	ck_assert_str_eq(e2e_str(sp, "template"), "web");
	ck_assert_int_eq(e2e_int(sp, "restart_delay_ms"), 777);
	ck_assert_str_eq(strv(e, e2e_get(sp, "args")), e2e_fmt(e,
	    "--stderr=tpl-args --pidfile=%s", e2e_path(e, "rt-web.pid")));
	ck_assert_int_eq(e2e_read_pid(e, e2e_path(e, "rt-web.pid"),
	    CF_WAIT_MS), pid);
	ck_assert_str_eq(cmdline(e, pid), e2e_fmt(e, "%s --stdout=tpl-cmd "
	    "--stderr=tpl-args --pidfile=%s", tc, e2e_path(e, "rt-web.pid")));
	/* check_childspec resolves the same way. */
	sp = e2e_get(e2e_ok(e, "check_childspec", "{s:s, s:s}", "name", "chk",
	    "template", "web"), "spec");
	ck_assert_str_eq(e2e_str(sp, "template"), "web");
	ck_assert_str_eq(strv(e, e2e_get(sp, "args")), "--stderr=tpl-args");
	/* An unknown template is the caller's error. */
	r = e2e_err(e, "bad_request", "start_child", "{s:s, s:s}", "name",
	    "x", "template", "nope");
	ck_assert_str_eq(e2e_str(r, "field"), "template");
	e2e_stop(e);
}
END_TEST

/* Boot. */

/*
 * Boot children start in order, each after the one before is ready, and
 * readiness is announced only when all of them run.
 */
START_TEST(e2e_config_boot_order)
{
	struct e2e	*e;
	const char	*order, *want;
	json_t		*rows, *row;
	size_t		 i;
	pid_t		 a, b, c;

	e = e2e_start_file("ops-boot-order.json");
	rows = e2e_get(e2e_ok(e, "which_children", NULL), "children");
	ck_assert_int_eq(json_array_size(rows), 3);
	json_array_foreach(rows, i, row)
		ck_assert_msg(strcmp(e2e_str(row, "state"), "running") == 0,
		    "ready announced with %s", e2e_dump(e, row));
	a = row_pid(e, "first");
	b = row_pid(e, "second");
	c = row_pid(e, "third");
	want = e2e_fmt(e, "%d\n%d\n%d\n", (int)a, (int)b, (int)c);
	ck_assert(e2e_wait_lines(e2e_path(e, "order"), 3, CF_WAIT_MS));
	order = slurp(e, e2e_path(e, "order"));
	ck_assert_msg(strcmp(order, want) == 0, "start order %s, want %s",
	    order, want);
	/* "second" was forked only once "first" was ready (100 ms later). */
	ck_assert_int_ge(started_at(e, "second"), e2e_int(e2e_ok(e, "info",
	    "{s:s}", "name", "first"), "ready_at"));
	ck_assert_int_ge(started_at(e, "third"), e2e_int(e2e_ok(e, "info",
	    "{s:s}", "name", "second"), "ready_at"));
	e2e_stop(e);
}
END_TEST

/*
 * A boot child that cannot start: gtd stops the ones it started, never
 * writes the readiness newline, and exits non-zero.  Both an exec failure
 * (ENOENT) and a child that exits before it is ready.  ("a" is ready
 * only once it wrote its pidfile, so "b" starts after that.)
 */
START_TEST(e2e_config_boot_failure)
{
	static const char *const	 confs[] = {
		"{\"children\":["
		"{\"name\":\"a\",\"cmd\":[\"@TESTCHILD@\","
		"\"--pidfile=@DIR@/a.pid\",\"--ready-fd=3\"],"
		"\"ready\":{\"fd\":3}},"
		"{\"name\":\"b\",\"cmd\":[\"@DIR@/no-such-program\"]},"
		"{\"name\":\"c\",\"cmd\":[\"@TESTCHILD@\","
		"\"--pidfile=@DIR@/c.pid\"]}]}",
		"{\"children\":["
		"{\"name\":\"a\",\"cmd\":[\"@TESTCHILD@\","
		"\"--pidfile=@DIR@/a.pid\",\"--ready-fd=3\"],"
		"\"ready\":{\"fd\":3}},"
		"{\"name\":\"b\",\"cmd\":[\"@TESTCHILD@\",\"--exit-code=3\"],"
		"\"ready\":{\"fd\":3}},"
		"{\"name\":\"c\",\"cmd\":[\"@TESTCHILD@\","
		"\"--pidfile=@DIR@/c.pid\"]}]}",
	};
	struct e2e	*e = e2e_start(NULL);
	struct sub	 s;
	const char	*tag;
	pid_t		 a;
	size_t		 i;
	int		 st, ready;

	for (i = 0; i < sizeof confs / sizeof confs[0]; i++) {
		tag = e2e_fmt(e, "boot%zu", i);
		sub_launch(e, &s, tag, confs[i], false);
		ready = sub_ready(&s, CF_WAIT_MS);
		ck_assert_msg(ready == 0, "%s: readiness %s", tag, ready == 1 ?
		    "announced" : "pipe still open after 5 s");
		ck_assert_msg(sub_wait(&s, CF_WAIT_MS, &st), "%s: gtd still "
		    "running", tag);
		ck_assert_msg(!WIFEXITED(st) || WEXITSTATUS(st) != 0,
		    "%s: gtd exited 0", tag);
		/* "a" was started, then stopped; "c" never ran. */
		a = e2e_read_pid(e, e2e_path(e, "a.pid"), CF_WAIT_MS);
		ck_assert_msg(e2e_wait_dead(a, CF_WAIT_MS), "%s: boot child a "
		    "(%d) survived", tag, (int)a);
		ck_assert_msg(access(e2e_path(e, "c.pid"), F_OK) == -1,
		    "%s: boot child c was started", tag);
		ck_assert_msg(strstr(slurp(e, s.log), "did not start") != NULL,
		    "%s: log says: %s", tag, slurp(e, s.log));
		ck_assert_int_eq(unlink(e2e_path(e, "a.pid")), 0);
	}
	e2e_stop(e);
}
END_TEST

/*
 * What clients do to boot children during the boot is their decision,
 * not a failed boot: a boot child stopped on request before it was
 * ready is left stopped and the boot goes on; a boot child's name that a
 * client started first keeps the client's row.  gtd becomes ready either
 * way.  ("a" is ready once DIR/go exists.)
 */
START_TEST(e2e_config_boot_client_wins)
{
	static const char	 conf[] = "{\"children\":["
	    "{\"name\":\"a\",\"cmd\":[\"@TESTCHILD@\","
	    "\"--ready-after=@DIR@/go\",\"--ready-fd=3\"],"
	    "\"ready\":{\"fd\":3},\"ready_timeout_ms\":60000},"
	    "{\"name\":\"b\",\"cmd\":[\"@TESTCHILD@\"]},"
	    "{\"name\":\"c\",\"cmd\":[\"@TESTCHILD@\"]}]}";
	struct e2e	*e;
	json_t		*r;

	e = e2e_start_booting(conf);
	if (_i == 0)
		e2e_ok(e, "terminate_child", "{s:s}", "name", "a");
	else {
		e2e_ok(e, "start_child", "{s:s s:o}", "name", "b", "cmd",
		    e2e_cmd("--exit-after-ms=600000", NULL));
		write_file(e, e2e_path(e, "go"), "");
	}
	ck_assert_msg(e2e_wait_booted(e, CF_WAIT_MS) == 1, "gtd did not "
	    "become ready: %s", slurp(e, e2e_path(e, "gtd.log")));
	ck_assert(e2e_wait_state(e, "c", "running", CF_WAIT_MS));
	ck_assert(e2e_wait_state(e, "b", "running", CF_WAIT_MS));
	if (_i == 0) {
		r = e2e_req(e, "info", "{s:s}", "name", "a");
		ck_assert_msg(json_is_false(json_object_get(r, "ok")) ||
		    strcmp(e2e_str(r, "state"), "running") != 0, "a: %s",
		    e2e_dump(e, r));
	} else {
		r = e2e_ok(e, "get_childspec", "{s:s}", "name", "b");
		ck_assert_msg(strstr(e2e_dump(e, r), "--exit-after-ms") !=
		    NULL, "the boot replaced the client's b: %s",
		    e2e_dump(e, r));
	}
	e2e_ok(e, "ping", NULL);
	e2e_stop(e);
}
END_TEST

/*
 * include: every *.json of the directory, in name order after
 * "children", is one more boot child (defaults and templates apply);
 * other names and dot files are ignored.
 */
START_TEST(e2e_config_include)
{
	struct e2e	*e;
	const char	*want;
	json_t		*sp;
	int		 st;

	e = e2e_start("{\"children\":[]}");
	ck_assert_int_eq(mkdir(e2e_path(e, "inc"), 0755), 0);
	write_file(e, e2e_path(e, "inc/20-c.json"), subst(e,
	    "{\"name\":\"c\",\"template\":\"t\",\"args\":"
	    "[\"--append-pid=@DIR@/order\",\"--ready-fd=3\"]}"));
	write_file(e, e2e_path(e, "inc/10-b.json"), subst(e,
	    "{\"name\":\"b\",\"cmd\":[\"@TESTCHILD@\","
	    "\"--append-pid=@DIR@/order\",\"--ready-fd=3\"]}"));
	write_file(e, e2e_path(e, "inc/README"), "not a spec");
	write_file(e, e2e_path(e, "inc/notes.json.txt"), "not a spec");
	write_file(e, e2e_path(e, "inc/.hidden.json"), "{broken");
	write_conf(e, "{\"defaults\":{\"ready\":{\"fd\":3},"
	    "\"attrs\":{\"boot\":true}},"
	    "\"templates\":{\"t\":{\"cmd\":[\"@TESTCHILD@\"]}},"
	    "\"children\":[{\"name\":\"a\",\"cmd\":[\"@TESTCHILD@\","
	    "\"--append-pid=@DIR@/order\",\"--ready-fd=3\","
	    "\"--ready-fd-after-ms=50\"]}],"
	    "\"include\":\"@DIR@/inc\"}");
	e2e_ok(e, "shutdown", NULL);
	ck_assert(e2e_wait_exit(e, CF_WAIT_MS, &st));
	e2e_restart(e);
	ck_assert_int_eq(e2e_int(e2e_ok(e, "count_children", NULL), "specs"),
	    3);
	ck_assert(e2e_wait_lines(e2e_path(e, "order"), 3, CF_WAIT_MS));
	want = e2e_fmt(e, "%d\n%d\n%d\n", (int)row_pid(e, "a"),
	    (int)row_pid(e, "b"), (int)row_pid(e, "c"));
	ck_assert_str_eq(slurp(e, e2e_path(e, "order")), want);
	sp = spec_of(e, "c");
	ck_assert_str_eq(e2e_str(sp, "template"), "t");
	ck_assert(json_is_true(e2e_get(e2e_get(sp, "attrs"), "boot")));
	e2e_stop(e);
}
END_TEST

/* Limits. */

/* The connection over max_connections gets one `limit` line and EOF. */
START_TEST(e2e_config_max_connections)
{
	struct e2e	*e = e2e_start("{\"max_connections\":2}");
	struct e2e_conn	*c2, *c3, *c4;
	const char	*line;
	json_t		*r;
	long		 deadline;
	bool		 ok = false;

	c2 = e2e_client(e);
	e2e_cok(c2, "ping", NULL);
	c3 = e2e_client(e);
	line = e2e_recv_line(c3, CF_WAIT_MS);
	ck_assert_msg(line != NULL, "no limit line on the 3rd connection");
	r = json_loads(line, 0, NULL);
	ck_assert_msg(r != NULL && json_is_false(json_object_get(r, "ok")) &&
	    strcmp(e2e_str(r, "error"), "limit") == 0 &&
	    strcmp(e2e_str(r, "limit"), "max_connections") == 0,
	    "3rd connection got %s", line);
	json_decref(r);
	ck_assert(e2e_closed(c3, CF_WAIT_MS));
	/* The first two still work; once one closes, a new one is served. */
	e2e_ok(e, "ping", NULL);
	e2e_cok(c2, "ping", NULL);
	e2e_conn_close(c2);
	deadline = e2e_now_ms() + CF_WAIT_MS;
	while (!ok && e2e_now_ms() < deadline) {
		c4 = e2e_client(e);
		e2e_send_line(c4, "{\"id\":1,\"op\":\"ping\"}");
		line = e2e_recv_line(c4, CF_WAIT_MS);
		ok = line != NULL && strstr(line, "\"ok\":true") != NULL;
		e2e_conn_close(c4);
		if (!ok)
			poll(NULL, 0, 10);
	}
	ck_assert_msg(ok, "no connection served after one closed");
	e2e_stop(e);
}
END_TEST

/* A line over max_request_bytes: too_big, then the connection closes. */
START_TEST(e2e_config_max_request_bytes)
{
	struct e2e	*e = e2e_start("{\"max_request_bytes\":256}");
	struct e2e_conn	*c = e2e_client(e);
	char		 pad[512];
	json_t		*r;

	memset(pad, 'x', sizeof pad);
	pad[200] = '\0';		/* a 230-byte line: fits */
	e2e_send_line(c, e2e_fmt(e, "{\"id\":\"%s\",\"op\":\"ping\"}", pad));
	r = e2e_recv(c, CF_WAIT_MS);
	ck_assert_msg(json_is_true(json_object_get(r, "ok")), "%s",
	    e2e_dump(e, r));
	pad[200] = 'x';
	pad[300] = '\0';		/* 330 bytes: too big */
	e2e_send_line(c, e2e_fmt(e, "{\"id\":\"%s\",\"op\":\"ping\"}", pad));
	r = e2e_recv(c, CF_WAIT_MS);
	ck_assert_msg(json_is_false(json_object_get(r, "ok")) &&
	    strcmp(e2e_str(r, "error"), "too_big") == 0, "%s", e2e_dump(e, r));
	ck_assert(e2e_closed(c, CF_WAIT_MS));
	e2e_ok(e, "ping", NULL);
	e2e_stop(e);
}
END_TEST

/* max_children counts rows; max_attrs counts one child's attrs. */
START_TEST(e2e_config_max_children_attrs)
{
	struct e2e	*e = e2e_start("{\"max_children\":2,\"max_attrs\":2}");
	json_t		*r;

	e2e_spawn(e, "a", NULL);
	e2e_spawn(e, "b", NULL);
	r = e2e_err(e, "limit", "start_child", "{s:s, s:o}", "name", "c",
	    "cmd", e2e_cmd(NULL));
	ck_assert_str_eq(e2e_str(r, "limit"), "max_children");
	r = e2e_err(e, "limit", "find_or_open", "{s:s, s:o}", "name", "c",
	    "cmd", e2e_cmd(NULL));
	ck_assert_str_eq(e2e_str(r, "limit"), "max_children");
	ck_assert(e2e_row(e, "c") == NULL);
	e2e_ok(e, "setattr", "{s:s, s:{s:i, s:i}}", "name", "a", "attrs",
	    "k1", 1, "k2", 2);
	r = e2e_err(e, "limit", "setattr", "{s:s, s:{s:i}}", "name", "a",
	    "attrs", "k3", 3);
	ck_assert_str_eq(e2e_str(r, "limit"), "max_attrs");
	r = e2e_err(e, "limit", "increment", "{s:s, s:s, s:i}", "name", "a",
	    "key", "k4", "default", 0);
	ck_assert_str_eq(e2e_str(r, "limit"), "max_attrs");
	e2e_ok(e, "setattr", "{s:s, s:{s:i}}", "name", "a", "attrs", "k1", 10);
	e2e_err(e, "not_found", "getattr", "{s:s, s:s}", "name", "a", "key",
	    "k3");
	/* One row gone: room for one more. */
	e2e_ok(e, "terminate_and_delete", "{s:s}", "name", "b");
	e2e_spawn(e, "c", NULL);
	e2e_stop(e);
}
END_TEST

/* socket_mode and socket_group set the socket file; the default is 0660. */
START_TEST(e2e_config_socket_mode)
{
	struct e2e	*e;
	struct stat	 sb;

	e = e2e_start("{\"socket_mode\":\"0640\","
	    "\"socket_group\":\"nogroup\"}");
	ck_assert_int_eq(stat(e2e_sock(e), &sb), 0);
	ck_assert_msg(S_ISSOCK(sb.st_mode), "not a socket");
	ck_assert_int_eq(sb.st_mode & 07777, 0640);
	ck_assert_int_eq(sb.st_gid, 65534);
	e2e_stop(e);

	e = e2e_start("{\"socket_mode\":\"0666\"}");
	ck_assert_int_eq(stat(e2e_sock(e), &sb), 0);
	ck_assert_int_eq(sb.st_mode & 07777, 0666);
	e2e_stop(e);

	e = e2e_start(NULL);
	ck_assert_int_eq(stat(e2e_sock(e), &sb), 0);
	ck_assert_int_eq(sb.st_mode & 07777, 0660);
	e2e_stop(e);
}
END_TEST

/*
 * log_level without -d: "warning" logs warnings only, "info" adds the
 * info lines, "debug" the debug lines.  A SIGHUP with a broken file makes
 * a warning in every case, and is the cue that the log is complete.
 */
START_TEST(e2e_config_log_level)
{
	static const char *const	 levels[] = { "warning", "info",
	    "debug" };
	struct e2e	*e = e2e_start(NULL);
	struct sub	 s;
	const char	*log;
	size_t		 i;

	for (i = 0; i < 3; i++) {
		sub_launch(e, &s, levels[i], e2e_fmt(e, "{\"log_level\":\"%s\","
		    "\"children\":[{\"name\":\"a\","
		    "\"cmd\":[\"@TESTCHILD@\"]}]}",
		    levels[i]), false);
		ck_assert_msg(sub_ready(&s, CF_WAIT_MS) == 1, "%s: not ready; "
		    "log: %s", levels[i], slurp(e, s.log));
		write_file(e, s.conf, "{\"log_level\":\"shouting\"}");
		ck_assert_int_eq(kill(s.pid, SIGHUP), 0);
		ck_assert_msg(e2e_wait_text(s.log, "reload failed", CF_WAIT_MS),
		    "%s: no warning for the SIGHUP; log: %s", levels[i],
		    slurp(e, s.log));
		sub_stop(&s);
		log = slurp(e, s.log);
		ck_assert_msg((strstr(log, " ready on ") != NULL) == (i >= 1),
		    "%s: info lines: %s", levels[i], log);
		ck_assert_msg((strstr(log, "child a: started pid") != NULL) ==
		    (i >= 2), "%s: debug lines: %s", levels[i], log);
	}
	e2e_stop(e);
}
END_TEST

/*
 * -d logs debug messages "whatever the log_level of the configuration
 * file says" (gtd.8), also after a reload.
 */
START_TEST(e2e_config_debug_flag_survives_reload)
{
	struct e2e	*e = e2e_start("{\"log_level\":\"warning\"}");

	e2e_spawn(e, "a", NULL);
	ck_assert_msg(e2e_wait_text(e2e_path(e, "gtd.log"),
	    "child a: started pid", CF_WAIT_MS), "-d: no debug line");
	e2e_ok(e, "reload", NULL);
	e2e_spawn(e, "b", NULL);
	ck_assert_msg(e2e_wait_text(e2e_path(e, "gtd.log"),
	    "child b: started pid", 2000), "-d: no debug line after a reload "
	    "of a config with log_level \"warning\"");
	e2e_stop(e);
}
END_TEST

/* Reload. */

#define RELOAD_CONF2 \
	"{\"children\":[" \
	"{\"name\":\"keep\",\"cmd\":[\"@TESTCHILD@\"]}," \
	"{\"name\":\"change\",\"cmd\":[\"@TESTCHILD@\"," \
	"\"--append-pid=@DIR@/change.v2\"],\"restart_delay_ms\":10}," \
	"{\"name\":\"fresh\",\"cmd\":[\"@TESTCHILD@\"]}]}"

/*
 * A reload reply as "started=a,b stopped= changed= unchanged= absent=
 * failed= warnings=N" (borrowed).
 */
static const char *
report(struct e2e *e, json_t *r)
{
	static const char *const	 keys[] = { "started", "stopped",
	    "changed", "unchanged", "absent", "failed", NULL };
	const char			*out = "";
	json_t				*a, *v;
	size_t				 i;
	int				 k;

	for (k = 0; keys[k] != NULL; k++) {
		a = json_object_get(r, keys[k]);
		ck_assert_msg(json_is_array(a), "no %s: %s", keys[k],
		    e2e_dump(e, r));
		out = e2e_fmt(e, "%s%s%s=", out, k == 0 ? "" : " ", keys[k]);
		json_array_foreach(a, i, v)
			out = e2e_fmt(e, "%s%s%s", out, i == 0 ? "" : ",",
			    json_string_value(v));
	}
	a = json_object_get(r, "warnings");
	ck_assert_msg(json_is_array(a), "no warnings: %s", e2e_dump(e, r));
	return (e2e_fmt(e, "%s warnings=%zu", out, json_array_size(a)));
}

#define RELOAD_CONF2_REPORT "started=fresh stopped=gone changed=change " \
	"unchanged=keep absent= failed= warnings=0"

/* The state before a reload of ops-reload.json to RELOAD_CONF2. */
struct reload_before {
	pid_t		keep, change, gone;
	json_int_t	keep_at, change_at;
};

static struct e2e *
reload_start(struct reload_before *b)
{
	struct e2e	*e = e2e_start_file("ops-reload.json");

	b->keep = row_pid(e, "keep");
	b->change = row_pid(e, "change");
	b->gone = row_pid(e, "gone");
	b->keep_at = started_at(e, "keep");
	b->change_at = started_at(e, "change");
	ck_assert_int_eq(e2e_read_pid(e, e2e_path(e, "change.v1"),
	    CF_WAIT_MS), b->change);
	return (e);
}

/* After RELOAD_CONF2 was applied (by the op or by SIGHUP). */
static void
reload_check(struct e2e *e, const struct reload_before *b)
{
	pid_t	again;

	ck_assert_msg(e2e_wait_state(e, "fresh", "running", CF_WAIT_MS),
	    "the new boot child did not start");
	ck_assert_msg(e2e_wait_absent(e, "gone", CF_WAIT_MS),
	    "the removed boot child still has a row: %s",
	    e2e_dump(e, e2e_row(e, "gone")));
	ck_assert_msg(e2e_wait_dead(b->gone, CF_WAIT_MS),
	    "the removed boot child still runs");
	/* Unchanged: not bounced. */
	ck_assert_int_eq(row_pid(e, "keep"), b->keep);
	ck_assert_int_eq(started_at(e, "keep"), b->keep_at);
	ck_assert(e2e_pid_alive(b->keep));
	/* Changed: same process until its next start... */
	ck_assert_int_eq(row_pid(e, "change"), b->change);
	ck_assert_int_eq(started_at(e, "change"), b->change_at);
	ck_assert(e2e_pid_alive(b->change));
	/* ...which runs the new cmd. */
	ck_assert_int_eq(kill(b->change, SIGKILL), 0);
	again = e2e_wait_restarted(e, "change", b->change, CF_WAIT_MS);
	ck_assert_int_gt(again, 0);
	ck_assert_int_eq(e2e_read_pid(e, e2e_path(e, "change.v2"),
	    CF_WAIT_MS), again);
	ck_assert_int_eq(e2e_count_lines(e2e_path(e, "change.v1")), 1);
	ck_assert_ptr_nonnull(strstr(strv(e, e2e_get(spec_of(e, "change"),
	    "cmd")), "change.v2"));
	ck_assert_int_eq(row_pid(e, "keep"), b->keep);
}

/*
 * The reload op applies the config as a diff: a new boot child starts,
 * a removed one stops and its row goes, an unchanged one is not touched
 * (same pid, same started_at), a changed one keeps its process and runs
 * the new cmd from its next (policy) restart on.
 */
START_TEST(e2e_reload_op_diff)
{
	struct reload_before	 b;
	struct e2e		*e = reload_start(&b);

	write_conf(e, RELOAD_CONF2);
	ck_assert_str_eq(report(e, e2e_ok(e, "reload", NULL)),
	    RELOAD_CONF2_REPORT);
	reload_check(e, &b);
	e2e_stop(e);
}
END_TEST

/*
 * reload dry_run says what a reload would do and does nothing: no new
 * row, the removed child still runs, and the real reload that follows
 * reports (and does) the very same.
 */
START_TEST(e2e_reload_dry_run)
{
	struct reload_before	 b;
	struct e2e		*e = reload_start(&b);

	write_conf(e, RELOAD_CONF2);
	ck_assert_str_eq(report(e, e2e_ok(e, "reload", "{s:b}", "dry_run",
	    1)), RELOAD_CONF2_REPORT);
	ck_assert_ptr_null(e2e_row(e, "fresh"));
	ck_assert_int_eq(row_pid(e, "gone"), b.gone);
	ck_assert(e2e_pid_alive(b.gone));
	ck_assert_str_eq(report(e, e2e_ok(e, "reload", "{s:b}", "dry_run",
	    0)), RELOAD_CONF2_REPORT);
	reload_check(e, &b);
	/* Nothing left to do. */
	ck_assert_str_eq(report(e, e2e_ok(e, "reload", "{s:b}", "dry_run",
	    1)), "started= stopped= changed= unchanged=keep,change,fresh "
	    "absent= failed= warnings=0");
	e2e_err(e, "bad_request", "reload", "{s:s}", "dry_run", "yes");
	e2e_stop(e);
}
END_TEST

#define ONCE_CONF "{\"children\":[{\"name\":\"keep\",\"cmd\":" \
	"[\"@TESTCHILD@\"]},{\"name\":\"once\",\"restart\":\"temporary\"," \
	"\"cmd\":[\"@TESTCHILD@\",\"--exit-after-ms=%d\"]}]}"

/*
 * A boot child whose row is gone (a temporary one that ran, a deleted
 * one) is not started again by a reload while its entry is unchanged:
 * "absent".  A changed entry starts it again.
 */
START_TEST(e2e_reload_absent)
{
	struct e2e	*e = e2e_start("{}");

	write_conf(e, e2e_fmt(e, ONCE_CONF, 10));
	ck_assert_str_eq(report(e, e2e_ok(e, "reload", NULL)),
	    "started=keep,once stopped= changed= unchanged= absent= failed= "
	    "warnings=0");
	ck_assert(e2e_wait_absent(e, "once", CF_WAIT_MS));
	ck_assert_str_eq(report(e, e2e_ok(e, "reload", NULL)),
	    "started= stopped= changed= unchanged=keep absent=once failed= "
	    "warnings=0");
	ck_assert_ptr_null(e2e_row(e, "once"));
	/* Deleted by hand: the same. */
	e2e_ok(e, "terminate_and_delete", "{s:s}", "name", "keep");
	ck_assert_str_eq(report(e, e2e_ok(e, "reload", NULL)),
	    "started= stopped= changed= unchanged= absent=keep,once failed= "
	    "warnings=0");
	ck_assert_ptr_null(e2e_row(e, "keep"));
	/*
	 * once's entry changed: it runs again (long enough to be seen: the
	 * row goes when it ends).
	 */
	write_conf(e, e2e_fmt(e, ONCE_CONF, 60000));
	ck_assert_str_eq(report(e, e2e_ok(e, "reload", NULL)),
	    "started=once stopped= changed= unchanged= absent=keep failed= "
	    "warnings=0");
	ck_assert_ptr_nonnull(e2e_row(e, "once"));
	e2e_stop(e);
}
END_TEST

/*
 * A new boot child whose program is not in PATH is "failed" and leaves
 * no row; a zone change is a warning (it needs a restart).
 */
START_TEST(e2e_reload_failed_and_warnings)
{
	struct e2e	*e = e2e_start("{}");
	json_t		*r, *w;

	write_conf(e, "{\"zone\":\"elsewhere\",\"children\":[{\"name\":"
	    "\"bad\",\"cmd\":[\"no-such-program-gtd\"]}]}");
	r = e2e_ok(e, "reload", NULL);
	ck_assert_str_eq(report(e, r), "started= stopped= changed= "
	    "unchanged= absent= failed=bad warnings=1");
	w = json_array_get(e2e_get(r, "warnings"), 0);
	ck_assert_msg(strstr(json_string_value(w), "restart") != NULL, "%s",
	    json_string_value(w));
	ck_assert(e2e_wait_absent(e, "bad", CF_WAIT_MS));
	e2e_stop(e);
}
END_TEST

/*
 * A reload that adds a child past max_children reports it failed, by
 * its name, and changes nothing else (the name was read from the spec
 * child_add had already freed).
 */
START_TEST(e2e_reload_past_max_children)
{
	struct e2e	*e = e2e_start("{\"max_children\":1}");
	json_t		*r;

	e2e_ok(e, "start_child", "{s:s, s:[s, s]}", "name", "x", "cmd",
	    "/bin/sleep", "100");
	write_conf(e, "{\"max_children\":1,\"children\":[{\"name\":"
	    "\"late-child\",\"cmd\":[\"/bin/sleep\",\"100\"]}]}");
	r = e2e_ok(e, "reload", NULL);
	ck_assert_str_eq(report(e, r), "started= stopped= changed= "
	    "unchanged= absent= failed=late-child warnings=1");
	ck_assert(e2e_row(e, "late-child") == NULL);
	ck_assert(e2e_row(e, "x") != NULL);
	e2e_stop(e);
}
END_TEST

/* SIGHUP does the same as the op. */
START_TEST(e2e_reload_sighup_diff)
{
	struct reload_before	 b;
	struct e2e		*e = reload_start(&b);

	write_conf(e, RELOAD_CONF2);
	ck_assert_int_eq(kill(e2e_pid(e), SIGHUP), 0);
	reload_check(e, &b);
	e2e_stop(e);
}
END_TEST

/*
 * A changed template applies at the next start of its instances: the
 * boot instance and one made at runtime by find_or_open; a child without
 * the template is not touched, and a new instance gets the new template
 * at once.
 */
#define TEMPLATE_CONF "{\"templates\":{\"t\":{\"cmd\":" \
	"[\"@TESTCHILD@\",\"--stdout=%s\"],\"restart_delay_ms\":10}}," \
	"\"children\":[{\"name\":\"boot-i\",\"template\":\"t\"}," \
	"{\"name\":\"plain\",\"cmd\":[\"@TESTCHILD@\"]}]}"

START_TEST(e2e_reload_template)
{
	struct e2e	*e = e2e_start("{}");
	const char	*names[] = { "boot-i", "rt-i" };
	pid_t		 pid[2], plain, np;
	json_int_t	 plain_at;
	json_t		*r;
	int		 i;

	write_conf(e, e2e_fmt(e, TEMPLATE_CONF, "tv1"));
	e2e_ok(e, "reload", NULL);
	r = e2e_ok(e, "find_or_open", "{s:s, s:s}", "name", "rt-i",
	    "template", "t");
	ck_assert(json_is_true(e2e_get(r, "created")));
	ck_assert(e2e_wait_state(e, "boot-i", "running", CF_WAIT_MS));
	for (i = 0; i < 2; i++) {
		pid[i] = row_pid(e, names[i]);
		ck_assert_ptr_nonnull(strstr(cmdline(e, pid[i]),
		    "--stdout=tv1"));
	}
	plain = row_pid(e, "plain");
	plain_at = started_at(e, "plain");

	write_conf(e, e2e_fmt(e, TEMPLATE_CONF, "tv2"));
	/* The run-time instance is listed when it changed. */
	ck_assert_str_eq(report(e, e2e_ok(e, "reload", NULL)),
	    "started= stopped= changed=rt-i,boot-i unchanged=plain absent= "
	    "failed= warnings=0");
	ck_assert_int_eq(row_pid(e, "plain"), plain);
	ck_assert_int_eq(started_at(e, "plain"), plain_at);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(row_pid(e, names[i]), pid[i]);
		ck_assert(e2e_pid_alive(pid[i]));
		ck_assert_int_eq(kill(pid[i], SIGKILL), 0);
		np = e2e_wait_restarted(e, names[i], pid[i], CF_WAIT_MS);
		ck_assert_msg(np > 0, "%s not restarted", names[i]);
		ck_assert_msg(strstr(cmdline(e, np), "--stdout=tv2") != NULL,
		    "%s restarted as %s", names[i], cmdline(e, np));
		ck_assert_str_eq(e2e_str(spec_of(e, names[i]), "template"),
		    "t");
	}
	r = e2e_ok(e, "find_or_open", "{s:s, s:s}", "name", "rt-j",
	    "template", "t");
	ck_assert_ptr_nonnull(strstr(cmdline(e, (pid_t)e2e_int(r, "pid")),
	    "--stdout=tv2"));
	ck_assert_int_eq(row_pid(e, "plain"), plain);
	e2e_stop(e);
}
END_TEST

/*
 * A reload of a config that does not validate is bad_config with the
 * field, and changes nothing: no new child, no child removed, no changed
 * spec applied at the next start, limits unchanged.
 */
START_TEST(e2e_reload_bad_config)
{
	static const char *const	 bad[][2] = {
		{ "\"max_connections\":0,", "max_connections" },
		{ "\"templates\":{\"t\":{\"cmd\":[1]}},", "templates.t.cmd.0" },
		{ "\"acl\":{\"users\":{\"nosuchuser-gtd\":\"read\"}},",
		  "acl.users.nosuchuser-gtd" },
		{ "\"bogus\":true,", "bogus" },
	};
	struct e2e	*e;
	const char	*conf;
	json_t		*r;
	pid_t		 keep, gone, again;
	size_t		 i;

	e = e2e_start("{\"max_children\":5}");
	write_conf(e, "{\"max_children\":5,\"children\":["
	    "{\"name\":\"keep\",\"cmd\":[\"@TESTCHILD@\","
	    "\"--append-pid=@DIR@/keep.v1\"],\"restart_delay_ms\":10},"
	    "{\"name\":\"gone\",\"cmd\":[\"@TESTCHILD@\"]}]}");
	e2e_ok(e, "reload", NULL);
	ck_assert(e2e_wait_state(e, "gone", "running", CF_WAIT_MS));
	keep = row_pid(e, "keep");
	gone = row_pid(e, "gone");
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		conf = e2e_fmt(e, "{%s\"max_children\":1,\"children\":["
		    "{\"name\":\"keep\",\"cmd\":[\"@TESTCHILD@\","
		    "\"--append-pid=@DIR@/keep.v2\"],\"restart_delay_ms\":10},"
		    "{\"name\":\"fresh\",\"cmd\":[\"@TESTCHILD@\"]}]}",
		    bad[i][0]);
		write_conf(e, conf);
		r = e2e_err(e, "bad_config", "reload", NULL);
		ck_assert_msg(json_is_string(json_object_get(r, "field")) &&
		    strcmp(e2e_str(r, "field"), bad[i][1]) == 0,
		    "%s -> %s, want field %s", conf, e2e_dump(e, r), bad[i][1]);
	}
	e2e_ok(e, "ping", NULL);
	ck_assert(e2e_row(e, "fresh") == NULL);
	ck_assert_int_eq(row_pid(e, "gone"), gone);
	ck_assert_int_eq(row_pid(e, "keep"), keep);
	/* max_children is still 5, not 1. */
	e2e_spawn(e, "extra", NULL);
	/* The next start of keep still runs the old cmd. */
	ck_assert_int_eq(kill(keep, SIGKILL), 0);
	again = e2e_wait_restarted(e, "keep", keep, CF_WAIT_MS);
	ck_assert_int_gt(again, 0);
	ck_assert(e2e_wait_lines(e2e_path(e, "keep.v1"), 2, CF_WAIT_MS));
	ck_assert_int_eq(access(e2e_path(e, "keep.v2"), F_OK), -1);
	e2e_stop(e);
}
END_TEST

/*
 * SIGHUP with a broken file: logged with the field, nothing changes; the
 * next SIGHUP with a good file applies it.
 */
START_TEST(e2e_reload_sighup_bad_config)
{
	struct e2e	*e;
	pid_t		 gone;

	e = e2e_start("{}");
	write_conf(e, "{\"children\":[{\"name\":\"gone\",\"cmd\":"
	    "[\"@TESTCHILD@\"]}]}");
	e2e_ok(e, "reload", NULL);
	ck_assert(e2e_wait_state(e, "gone", "running", CF_WAIT_MS));
	gone = row_pid(e, "gone");
	write_conf(e, "{\"children\":[{\"name\":\"fresh\",\"cmd\":"
	    "[\"@TESTCHILD@\"],\"restart\":\"sometimes\"}]}");
	ck_assert_int_eq(kill(e2e_pid(e), SIGHUP), 0);
	ck_assert_msg(e2e_wait_text(e2e_path(e, "gtd.log"),
	    "children.0.restart", CF_WAIT_MS),
	    "the failed SIGHUP reload is not logged with its field");
	ck_assert_ptr_nonnull(strstr(slurp(e, e2e_path(e, "gtd.log")),
	    "reload failed"));
	ck_assert(e2e_row(e, "fresh") == NULL);
	ck_assert_int_eq(row_pid(e, "gone"), gone);
	ck_assert(e2e_pid_alive(gone));
	write_conf(e, "{\"children\":[{\"name\":\"fresh\",\"cmd\":"
	    "[\"@TESTCHILD@\"]}]}");
	ck_assert_int_eq(kill(e2e_pid(e), SIGHUP), 0);
	ck_assert(e2e_wait_state(e, "fresh", "running", CF_WAIT_MS));
	ck_assert(e2e_wait_absent(e, "gone", CF_WAIT_MS));
	ck_assert(e2e_wait_dead(gone, CF_WAIT_MS));
	e2e_stop(e);
}
END_TEST

/*
 * include and reload: a file added to the directory starts its child, a
 * file removed stops it and drops the row; a boot child that was stopped
 * by hand and is gone from the config loses its row too.
 */
START_TEST(e2e_reload_include)
{
	struct e2e	*e;
	pid_t		 a;

	e = e2e_start("{\"children\":[{\"name\":\"x\",\"cmd\":"
	    "[\"/bin/sleep\",\"1000\"]}]}");
	ck_assert_int_eq(mkdir(e2e_path(e, "inc"), 0755), 0);
	write_file(e, e2e_path(e, "inc/a.json"), subst(e,
	    "{\"name\":\"a\",\"cmd\":[\"@TESTCHILD@\"]}"));
	write_conf(e, "{\"children\":[{\"name\":\"x\",\"cmd\":"
	    "[\"/bin/sleep\",\"1000\"]}],\"include\":\"@DIR@/inc\"}");
	e2e_ok(e, "reload", NULL);
	ck_assert(e2e_wait_state(e, "a", "running", CF_WAIT_MS));
	a = row_pid(e, "a");
	e2e_ok(e, "terminate_child", "{s:s}", "name", "x");
	ck_assert(e2e_wait_state(e, "x", "stopped", CF_WAIT_MS));
	ck_assert_int_eq(unlink(e2e_path(e, "inc/a.json")), 0);
	write_file(e, e2e_path(e, "inc/b.json"), subst(e,
	    "{\"name\":\"b\",\"cmd\":[\"@TESTCHILD@\"]}"));
	write_conf(e, "{\"include\":\"@DIR@/inc\"}");
	e2e_ok(e, "reload", NULL);
	ck_assert(e2e_wait_state(e, "b", "running", CF_WAIT_MS));
	ck_assert(e2e_wait_absent(e, "a", CF_WAIT_MS));
	ck_assert(e2e_wait_dead(a, CF_WAIT_MS));
	ck_assert_msg(e2e_wait_absent(e, "x", CF_WAIT_MS), "a stopped boot "
	    "child gone from the config keeps its row: %s",
	    e2e_dump(e, e2e_row(e, "x")));
	e2e_stop(e);
}
END_TEST

/* Limits follow a reload; without -c, reload is bad_config. */
START_TEST(e2e_reload_limits_and_no_config)
{
	struct e2e	*e;
	json_t		*r;

	e = e2e_start("{\"max_children\":10}");
	e2e_spawn(e, "a", NULL);
	write_conf(e, "{\"max_children\":1}");
	e2e_ok(e, "reload", NULL);
	r = e2e_err(e, "limit", "start_child", "{s:s, s:o}", "name", "b",
	    "cmd", e2e_cmd(NULL));
	ck_assert_str_eq(e2e_str(r, "limit"), "max_children");
	e2e_stop(e);

	e = e2e_start(NULL);
	r = e2e_err(e, "bad_config", "reload", NULL);
	ck_assert(json_is_string(e2e_get(r, "field")));
	e2e_stop(e);
}
END_TEST

/* Childspec fields: the watchdog's socket, the size bounds. */

/*
 * watchdog_ms with the default ready "exec": the child gets
 * NOTIFY_SOCKET and WATCHDOG_USEC, and its WATCHDOG=1 keep it alive (10
 * pings 100 ms apart), until it stops pinging: killed 400 ms later.
 */
START_TEST(e2e_config_watchdog_exec)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*env;
	long		 t0, dt;

	t0 = e2e_now_ms();
	e2e_ok(e, "start_child", "{s:s, s:o, s:i, s:s}", "name", "w",
	    "cmd", e2e_cmd(e2e_fmt(e, "--env=%s", e2e_path(e, "w.env")),
	    "--watchdog-every-ms=100", "--watchdog-count=10", NULL),
	    "watchdog_ms", 400, "restart", "temporary");
	env = e2e_read_file(e, e2e_path(e, "w.env"), CF_WAIT_MS);
	ck_assert_msg(strstr(env, "NOTIFY_SOCKET=") != NULL,
	    "no NOTIFY_SOCKET: %s", env);
	ck_assert_msg(strstr(env, "WATCHDOG_USEC=400000\n") != NULL,
	    "no WATCHDOG_USEC: %s", env);
	ck_assert(e2e_wait_absent(e, "w", 10000));
	dt = e2e_now_ms() - t0;
	ck_assert_msg(dt >= 1000, "killed after %ld ms: the pings were lost",
	    dt);
	e2e_stop(e);
}
END_TEST

/* A string of n 'x' (borrowed). */
static const char *
xs(struct e2e *e, size_t n)
{
	char		*p = malloc(n + 1);
	const char	*r;

	ck_assert_ptr_nonnull(p);
	memset(p, 'x', n);
	p[n] = '\0';
	r = e2e_fmt(e, "%s", p);
	free(p);
	return (r);
}

/* Bounds of a spec sent over the wire: bad_request naming the field. */
START_TEST(e2e_config_spec_bounds)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*r;

	r = e2e_err(e, "bad_request", "start_child", "{s:s, s:[s], s:[s]}",
	    "name", "a", "cmd", e2e_testchild(e), "args", xs(e, 131072));
	ck_assert_str_eq(e2e_str(r, "field"), "args.0");
	r = e2e_err(e, "bad_request", "start_child", "{s:s, s:[s], s:{s:s}}",
	    "name", "a", "cmd", e2e_testchild(e), "env", "BIG",
	    xs(e, 131068));
	ck_assert_str_eq(e2e_str(r, "field"), "env.BIG");
	r = e2e_err(e, "bad_request", "find_or_open", "{s:s, s:[s], s:{s:s}}",
	    "name", "a", "cmd", e2e_testchild(e), "attrs", "big",
	    xs(e, 65537));
	ck_assert_str_eq(e2e_str(r, "field"), "attrs.big");
	r = e2e_err(e, "bad_request", "check_childspec", "{s:s, s:[s], s:[s]}",
	    "name", "a", "cmd", e2e_testchild(e), "after_terminate",
	    xs(e, 131072));
	ck_assert_str_eq(e2e_str(r, "field"), "after_terminate.0");
	/* Right at the bound: started. */
	e2e_ok(e, "start_child", "{s:s, s:[s,s], s:{s:s}}", "name", "a",
	    "cmd", e2e_testchild(e), xs(e, 131071), "env", "BIG",
	    xs(e, 131067));
	e2e_stop(e);
}
END_TEST

/*
 * Numbers print shortest round-trip: an attr of 0.1, the normalised
 * spec's backoff (0.1 jitter by default), a SQL value and an event, on
 * the wire and in gtctl's output.
 */
START_TEST(e2e_config_numbers_shortest)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*c = e2e_client(e), *ev = e2e_client(e);
	const char	*line, *out;

	e2e_send_line(ev, "{\"op\":\"subscribe\",\"events\":[\"attr\"]}");
	ck_assert_ptr_nonnull(line = e2e_recv_line(ev, CF_WAIT_MS));
	e2e_ok(e, "start_child", "{s:s, s:o, s:{s:f}}", "name", "n",
	    "cmd", e2e_cmd(NULL), "attrs", "k", 0.1);
	e2e_send_line(c, "{\"op\":\"setattr\",\"name\":\"n\",\"attrs\":"
	    "{\"r\":[0.30000000000000004,0.1,2.0]}}");
	ck_assert_ptr_nonnull(line = e2e_recv_line(c, CF_WAIT_MS));
	ck_assert_msg(strstr(line, "\"ok\":true") != NULL, "%s", line);
	e2e_send_line(c, "{\"op\":\"getattr\",\"name\":\"n\",\"key\":\"k\"}");
	ck_assert_ptr_nonnull(line = e2e_recv_line(c, CF_WAIT_MS));
	ck_assert_msg(strstr(line, "\"value\":0.1") != NULL, "%s", line);
	e2e_send_line(c, "{\"op\":\"getattr\",\"name\":\"n\",\"key\":\"r\"}");
	ck_assert_ptr_nonnull(line = e2e_recv_line(c, CF_WAIT_MS));
	ck_assert_msg(strstr(line, "[0.30000000000000004,0.1,2.0]") != NULL,
	    "%s", line);
	e2e_send_line(c, "{\"op\":\"get_childspec\",\"name\":\"n\"}");
	ck_assert_ptr_nonnull(line = e2e_recv_line(c, CF_WAIT_MS));
	ck_assert_msg(strstr(line, "\"jitter\":0.1") != NULL &&
	    strstr(line, "\"factor\":2.0") != NULL, "%s", line);
	e2e_send_line(c, "{\"op\":\"query\",\"sql\":\"SELECT value, 1.0/10, "
	    "json_extract(spec, '$.backoff.jitter') FROM attrs JOIN children "
	    "USING (name) WHERE key = 'k'\"}");
	ck_assert_ptr_nonnull(line = e2e_recv_line(c, CF_WAIT_MS));
	ck_assert_msg(strstr(line, "[0.1,0.1,0.1]") != NULL, "%s", line);
	/* The attr event of the setattr. */
	do
		ck_assert_ptr_nonnull(line = e2e_recv_line(ev, CF_WAIT_MS));
	while (strstr(line, "\"r\":") == NULL);
	ck_assert_msg(strstr(line, "[0.30000000000000004,0.1,2.0]") != NULL,
	    "%s", line);
	/* gtctl's human output. */
	ck_assert_int_eq(e2e_gtctl(e, &out, "attr", "get", "n", "k", NULL), 0);
	ck_assert_msg(strstr(out, "0.1") != NULL &&
	    strstr(out, "0000") == NULL, "%s", out);
	ck_assert_int_eq(e2e_gtctl(e, &out, "info", "n", NULL), 0);
	ck_assert_msg(strstr(out, "0.10000000000000001") == NULL, "%s", out);
	e2e_stop(e);
}
END_TEST

/* gtd's own log lines start with the local time (stderr is a file). */
START_TEST(e2e_config_log_timestamp)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*log = e2e_path(e, "gtd.log");
	regex_t		 re;

	ck_assert(e2e_wait_text(log, " ready on ", CF_WAIT_MS));
	ck_assert_int_eq(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T"
	    "[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3} gtd: zone [^ ]+ ready on ",
	    REG_EXTENDED | REG_NOSUB | REG_NEWLINE), 0);
	ck_assert_msg(regexec(&re, slurp(e, log), 0, NULL, 0) == 0, "%s",
	    slurp(e, log));
	regfree(&re);
	e2e_stop(e);
}
END_TEST

/*
 * An explicit -z beats an inherited $GTD_SOCKET: root's gtd -z Z serves
 * /run/gtd/Z.sock (and removes it when it stops), not $GTD_SOCKET.
 */
START_TEST(e2e_config_zone_beats_env_socket)
{
	struct e2e	*e = e2e_start(NULL);
	struct sub	 s;
	struct stat	 st;
	const char	*gtd = getenv("GTD") != NULL ? getenv("GTD") :
			    "build/gtd";
	const char	*zone = e2e_fmt(e, "e2e-cfg-%d", (int)getpid());
	const char	*want = e2e_fmt(e, "/run/gtd/%s.sock", zone);
	int		 p[2], fd, nul;

	ck_assert_int_eq(geteuid(), 0);		/* the e2e suites run as root */
	s.log = e2e_path(e, "z.log");
	s.sock = e2e_path(e, "env.sock");
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	fflush(NULL);
	ck_assert_int_ne(s.pid = fork(), -1);
	if (s.pid == 0) {
		setpgid(0, 0);
		setenv("GTD_SOCKET", s.sock, 1);
		if ((fd = open(s.log, O_WRONLY | O_CREAT | O_APPEND, 0644)) ==
		    -1 || (nul = open("/dev/null", O_RDWR)) == -1 ||
		    dup2(nul, 0) == -1 || dup2(nul, 1) == -1 ||
		    dup2(fd, 2) == -1 || dup2(p[1], 3) == -1)
			_exit(126);
		execl(gtd, gtd, "-r", "3", "-z", zone, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	s.rfd = p[0];
	ck_assert_msg(sub_ready(&s, CF_WAIT_MS) == 1, "not ready: %s",
	    slurp(e, s.log));
	ck_assert_msg(stat(want, &st) == 0 && S_ISSOCK(st.st_mode),
	    "no socket %s: %s", want, slurp(e, s.log));
	ck_assert_msg(access(s.sock, F_OK) == -1, "bound $GTD_SOCKET %s",
	    s.sock);
	sub_stop(&s);
	ck_assert_int_eq(access(want, F_OK), -1);
	e2e_stop(e);
}
END_TEST

Suite *
e2e_config_suite(void)
{
	Suite	*s = suite_create("e2e_config");
	TCase	*tc;

	tc = tcase_create("check");
	/* e2e_config_check_bad runs gtd -n some 40 times (slow under ASan). */
	tcase_set_timeout(tc, 2 * E2E_TIMEOUT);
	tcase_add_test(tc, e2e_config_check_good);
	tcase_add_test(tc, e2e_config_check_bad);
	tcase_add_test(tc, e2e_config_check_socket_group);
	tcase_add_test(tc, e2e_config_check_host);
	suite_add_tcase(s, tc);

	tc = tcase_create("specs");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_config_defaults_templates);
	tcase_add_test(tc, e2e_config_include);
	suite_add_tcase(s, tc);

	tc = tcase_create("boot");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_config_boot_order);
	tcase_add_test(tc, e2e_config_boot_failure);
	tcase_add_loop_test(tc, e2e_config_boot_client_wins, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_config_max_connections);
	tcase_add_test(tc, e2e_config_max_request_bytes);
	tcase_add_test(tc, e2e_config_max_children_attrs);
	tcase_add_test(tc, e2e_config_socket_mode);
	tcase_add_test(tc, e2e_config_log_level);
	tcase_add_test(tc, e2e_config_debug_flag_survives_reload);
	suite_add_tcase(s, tc);

	tc = tcase_create("reload");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_reload_op_diff);
	tcase_add_test(tc, e2e_reload_sighup_diff);
	tcase_add_test(tc, e2e_reload_dry_run);
	tcase_add_test(tc, e2e_reload_absent);
	tcase_add_test(tc, e2e_reload_failed_and_warnings);
	tcase_add_test(tc, e2e_reload_past_max_children);
	tcase_add_test(tc, e2e_reload_template);
	tcase_add_test(tc, e2e_reload_bad_config);
	tcase_add_test(tc, e2e_reload_sighup_bad_config);
	tcase_add_test(tc, e2e_reload_include);
	tcase_add_test(tc, e2e_reload_limits_and_no_config);
	suite_add_tcase(s, tc);

	tc = tcase_create("fields");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_config_watchdog_exec);
	tcase_add_test(tc, e2e_config_spec_bounds);
	tcase_add_test(tc, e2e_config_numbers_shortest);
	tcase_add_test(tc, e2e_config_log_timestamp);
	tcase_add_test(tc, e2e_config_zone_beats_env_socket);
	suite_add_tcase(s, tc);
	return (s);
}
