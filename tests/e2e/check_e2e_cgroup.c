/* SPDX-License-Identifier: MIT */
/*
 * check_e2e_cgroup: cgroup v2 containment (protocol 9.2) with the real
 * gtd, as root on a host with a writable cgroup2 hierarchy (this
 * project's development host has one without controllers, where
 * cgroup.kill and cgroup.events work and limits do not).  Each test that
 * needs containment says why it is skipped when gtd reports it off
 * (E2E_CGROUP_REQUIRED set: it fails instead).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "gt/compat.h"

#include "harness.h"

/* gtd's base cgroup (borrowed from rep), or NULL: containment is off. */
static const char *
cg_base(struct e2e *e, const char *test)
{
	json_t		*rep = e2e_ok(e, "hello", NULL);
	json_t		*cg = json_object_get(rep, "cgroup");

	if (json_is_string(cg))
		return (json_string_value(cg));
	/* Set where containment must work: a skip is then a failure. */
	ck_assert_msg(getenv("E2E_CGROUP_REQUIRED") == NULL, "%s: containment "
	    "is off: %s", test, e2e_dump(e, rep));
	fprintf(stderr, "%s: skipped: containment is off: %s\n", test,
	    json_string_value(json_object_get(rep, "cgroup_off")));
	return (NULL);
}

/* The "0::" cgroup of pid, into buf; false if unreadable. */
static bool
cg_of(pid_t pid, char *buf, size_t size)
{
	char	 path[64], line[PATH_MAX];
	FILE	*f;
	bool	 found = false;

	snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return (false);
	while (!found && fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, "0::", 3) == 0) {
			line[strcspn(line, "\n")] = '\0';
			strlcpy(buf, line + 3, size);
			found = true;
		}
	fclose(f);
	return (found);
}

/* Does the directory hold an entry whose name starts with prefix? */
static bool
cg_has_entry(const char *dir, const char *prefix)
{
	struct dirent	*de;
	DIR		*d;
	bool		 found = false;

	if ((d = opendir(dir)) == NULL)
		return (false);
	while (!found && (de = readdir(d)) != NULL)
		found = strncmp(de->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return (found);
}

struct cg_entry {
	const char	*dir;
	const char	*prefix;
};

static bool
cg_no_entry(void *arg)
{
	struct cg_entry	*w = arg;

	return (!cg_has_entry(w->dir, w->prefix));
}

static bool
cg_wait_no_entry(const char *dir, const char *prefix, int ms)
{
	struct cg_entry	w = { dir, prefix };

	return (e2e_wait_until(ms, cg_no_entry, &w));
}

/*
 * The promise of containment: a grandchild that double-forks out of the
 * child's session and process group (so no group signal reaches it) and
 * ignores SIGTERM is killed by a stop, and the stop's reply comes only
 * once it is gone; the child's cgroup is removed after.
 */
START_TEST(cgroup_stop_kills_escaped_grandchild)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*gc = e2e_path(e, "gc.pid"), *base;
	char		 where[PATH_MAX];
	json_t		*rep;
	pid_t		 child, grand;

	if ((base = cg_base(e, "cgroup_stop_kills_escaped")) == NULL) {
		e2e_stop(e);
		return;
	}
	rep = e2e_ok(e, "start_child", "{s:s, s:o}", "name", "esc",
	    "cmd", e2e_cmd(e2e_fmt(e, "--escape=%s", gc), NULL));
	child = (pid_t)e2e_int(rep, "pid");
	grand = e2e_read_pid(e, gc, 5000);
	ck_assert_int_ne(getsid(grand), getsid(child));
	ck_assert_int_ne(getpgid(grand), getpgid(child));
	ck_assert(cg_of(grand, where, sizeof where));
	ck_assert_msg(strstr(where, "/esc@") != NULL, "grandchild in %s",
	    where);
	e2e_ok(e, "terminate_child", "{s:s}", "name", "esc");
	ck_assert_msg(!e2e_pid_alive(grand), "grandchild %d survived the stop",
	    (int)grand);
	ck_assert(cg_wait_no_entry(base, "esc@", 3000));
	e2e_stop(e);
}
END_TEST

/*
 * A child that dies by itself: what it left in its cgroup is killed
 * before the policy restarts it (kill_group), so no incarnation overlaps
 * the last one's leftovers.
 */
START_TEST(cgroup_exit_kills_leftovers)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*gc = e2e_path(e, "gc.pid");
	json_t		*rep;
	pid_t		 child, grand;

	if (cg_base(e, "cgroup_exit_kills_leftovers") == NULL) {
		e2e_stop(e);
		return;
	}
	rep = e2e_ok(e, "start_child", "{s:s, s:o, s:s}", "name", "crash",
	    "cmd", e2e_cmd(e2e_fmt(e, "--escape=%s", gc), "--exit-after-ms=300",
	    "--exit-code=3", NULL), "restart", "temporary");
	child = (pid_t)e2e_int(rep, "pid");
	grand = e2e_read_pid(e, gc, 5000);
	ck_assert(e2e_wait_absent(e, "crash", e2e_slow(5000)));
	ck_assert(e2e_wait_dead(child, 1000));
	ck_assert_msg(!e2e_pid_alive(grand), "grandchild %d outlived the "
	    "child's exit", (int)grand);
	e2e_stop(e);
}
END_TEST

/*
 * Each incarnation runs in a cgroup of its own, from its first instant;
 * info and SQL show the cgroup's cpu_ms and memory_bytes (null without
 * the memory controller); hello and stats name the base.
 */
START_TEST(cgroup_child_cgroup_and_usage)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*base, *out;
	char		 where[PATH_MAX], want[PATH_MAX];
	json_t		*rep, *rows, *row;
	pid_t		 pid, pid2;

	if ((base = cg_base(e, "cgroup_child_cgroup_and_usage")) == NULL) {
		e2e_stop(e);
		return;
	}
	rep = e2e_ok(e, "stats", NULL);
	ck_assert_str_eq(e2e_str(rep, "cgroup"), base);
	pid = e2e_spawn(e, "web", NULL);
	ck_assert(cg_of(pid, where, sizeof where));
	ck_assert_msg(strstr(where, "/web@") != NULL, "child in %s", where);
	snprintf(want, sizeof want, "%s/%s", base, strrchr(where, '/') + 1);
	ck_assert_msg(access(want, F_OK) == 0, "%s: %s", want,
	    strerror(errno));
	rep = e2e_ok(e, "info", "{s:s}", "name", "web");
	ck_assert(json_is_integer(json_object_get(rep, "cpu_ms")));
	ck_assert(json_object_get(rep, "memory_bytes") != NULL);
	rep = e2e_ok(e, "query", "{s:s}", "sql", "SELECT name, cpu_ms, "
	    "memory_bytes FROM children WHERE name = 'web'");
	rows = json_object_get(rep, "rows");
	ck_assert_uint_eq(json_array_size(rows), 1);
	row = json_array_get(rows, 0);
	ck_assert_msg(json_is_integer(json_array_get(row, 1)) ||
	    json_is_integer(json_object_get(row, "cpu_ms")), "row %s",
	    e2e_dump(e, row));
	ck_assert_int_eq(e2e_gtctl(e, &out, "info", "web", NULL), 0);
	ck_assert_msg(strstr(out, "memory_bytes:") != NULL, "%s", out);
	/* A restart gets a new cgroup; the old one goes. */
	e2e_ok(e, "restart_child", "{s:s, s:b}", "name", "web", "force", 1);
	pid2 = e2e_wait_restarted(e, "web", pid, 5000);
	ck_assert(cg_of(pid2, want, sizeof want));
	ck_assert_str_ne(want, where);
	snprintf(want, sizeof want, "%s/%s", base, strrchr(where, '/') + 1);
	ck_assert(cg_wait_no_entry(base, strrchr(where, '/') + 1, 3000));
	e2e_stop(e);
}
END_TEST

/*
 * limits where the controller is not delegated: bad_request naming the
 * field and why; where it is (not on this project's host), the value is
 * in the cgroup's memory.max.
 */
START_TEST(cgroup_limits_need_controller)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*base, *msg;
	char		 where[PATH_MAX], path[PATH_MAX * 2], buf[64];
	json_t		*rep;
	FILE		*f;
	pid_t		 pid;

	base = cg_base(e, "cgroup_limits_need_controller");
	rep = e2e_req(e, "start_child", "{s:s, s:o, s:{s:i}}", "name", "lim",
	    "cmd", e2e_cmd(NULL), "limits", "memory_max", 64 << 20);
	if (!json_is_true(json_object_get(rep, "ok"))) {
		ck_assert_str_eq(e2e_str(rep, "error"), "bad_request");
		ck_assert_str_eq(e2e_str(rep, "field"), "limits.memory_max");
		msg = e2e_str(rep, "message");
		ck_assert_msg(strstr(msg, "memory controller") != NULL ||
		    strstr(msg, "containment is off") != NULL, "%s", msg);
		e2e_err(e, "bad_request", "check_childspec", "{s:s, s:o, "
		    "s:{s:i}}", "name", "lim", "cmd", e2e_cmd(NULL), "limits",
		    "memory_max", 64 << 20);
		fprintf(stderr, "cgroup_limits_need_controller: limits "
		    "refused as expected: %s\n", msg);
		e2e_stop(e);
		return;
	}
	ck_assert_ptr_nonnull(base);
	pid = (pid_t)e2e_int(rep, "pid");
	ck_assert(cg_of(pid, where, sizeof where));
	snprintf(path, sizeof path, "%s/%s/memory.max", base,
	    strrchr(where, '/') + 1);
	ck_assert_ptr_nonnull(f = fopen(path, "re"));
	ck_assert_ptr_nonnull(fgets(buf, sizeof buf, f));
	fclose(f);
	ck_assert_int_eq(strtoll(buf, NULL, 10), 64 << 20);
	e2e_stop(e);
}
END_TEST

/* Unknown limits are refused first, with or without containment. */
START_TEST(cgroup_limits_unknown_key)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*rep;

	rep = e2e_err(e, "bad_request", "start_child", "{s:s, s:o, s:{s:i}}",
	    "name", "lim", "cmd", e2e_cmd(NULL), "limits", "memory_maxx", 1);
	ck_assert_str_eq(e2e_str(rep, "field"), "limits.memory_maxx");
	e2e_stop(e);
}
END_TEST

/* "cgroup": false: process groups as before, said in hello and the log. */
START_TEST(cgroup_config_off)
{
	struct e2e	*e = e2e_start("{\"cgroup\": false}");
	char		 where[PATH_MAX];
	json_t		*rep;
	pid_t		 pid;

	rep = e2e_ok(e, "hello", NULL);
	ck_assert(json_is_null(json_object_get(rep, "cgroup")));
	ck_assert_msg(strstr(e2e_str(rep, "cgroup_off"), "false") != NULL,
	    "%s", e2e_dump(e, rep));
	pid = e2e_spawn(e, "plain", NULL);
	if (cg_of(pid, where, sizeof where))
		ck_assert_msg(strstr(where, "@") == NULL, "in %s", where);
	ck_assert(e2e_wait_text(e2e_path(e, "gtd.log"), "containment off",
	    2000));
	e2e_stop(e);
}
END_TEST

/* "cgroup": PATH: the children's cgroups are made right there. */
START_TEST(cgroup_config_path)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*base;
	char		 dir[PATH_MAX], where[PATH_MAX], *slash;
	json_t		*rep;
	pid_t		 pid;

	if ((base = cg_base(e, "cgroup_config_path")) == NULL) {
		e2e_stop(e);
		return;
	}
	snprintf(dir, sizeof dir, "%s", base);
	ck_assert_ptr_nonnull(slash = strrchr(dir, '/'));
	snprintf(slash, sizeof dir - (slash - dir), "/e2e-cfg-%d",
	    (int)getpid());
	e2e_stop(e);
	ck_assert_msg(mkdir(dir, 0755) == 0 || errno == EEXIST, "%s: %s",
	    dir, strerror(errno));
	e = e2e_start_json(json_pack("{s:s}", "cgroup", dir));
	rep = e2e_ok(e, "stats", NULL);
	ck_assert_str_eq(e2e_str(rep, "cgroup"), dir);
	pid = e2e_spawn(e, "inpath", NULL);
	ck_assert(cg_of(pid, where, sizeof where));
	ck_assert_msg(strstr(where, "/e2e-cfg-") != NULL &&
	    strstr(where, "/inpath@") != NULL, "in %s", where);
	e2e_stop(e);
	ck_assert_msg(rmdir(dir) == 0, "%s left non-empty: %s", dir,
	    strerror(errno));
}
END_TEST

/* Write text to base's file (a cgroup knob); false if that failed. */
static bool
cg_write(const char *base, const char *file, const char *text)
{
	char	 path[PATH_MAX];
	FILE	*f;
	bool	 ok;

	snprintf(path, sizeof path, "%s/%s", base, file);
	if ((f = fopen(path, "we")) == NULL)
		return (false);
	ok = fputs(text, f) >= 0;
	return (fclose(f) == 0 && ok);
}

#define CG_UNSCHEDULED	20	/* more than gtd's descriptor slot sets */
#define CG_IDLE_MS	500	/* gtd watched while they stay frozen ... */
#define CG_IDLE_TICKS	10	/* ... may use this much cpu (100 ms) */

/* utime + stime of pid, in clock ticks; -1 if unreadable. */
static long
cg_cpu_ticks(pid_t pid)
{
	char		 path[64], buf[1024], *p;
	unsigned long	 ut, st;
	size_t		 n;
	FILE		*f;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return (-1);
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL || sscanf(p + 2, "%*c %*d %*d "
	    "%*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return (-1);
	return ((long)(ut + st));
}

/*
 * A new child that is not scheduled never holds gtd: its children are
 * born frozen here (the base cgroup is frozen), so none makes its first
 * system call, and still every start_child and a ping are answered;
 * meanwhile gtd does not spin (it looks at them again less and less
 * often); thawed, every child runs.  (gtd once waited, without a bound,
 * for the previous child's first system call at each spawn.)
 */
START_TEST(cgroup_unscheduled_child_never_holds_gtd)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*cn;
	const char	*base, *line = "";
	char		 name[16];
	long		 ticks = -1, t0;
	int		 i, answered = 0;

	if ((base = cg_base(e, "cgroup_unscheduled_child")) == NULL) {
		e2e_stop(e);
		return;
	}
	ck_assert(cg_write(base, "cgroup.freeze", "1"));
	cn = e2e_client(e);
	for (i = 0; i < CG_UNSCHEDULED; i++)
		e2e_send_line(cn, e2e_fmt(e, "{\"op\":\"start_child\","
		    "\"name\":\"f%d\",\"cmd\":[\"/bin/sleep\",\"100\"],"
		    "\"wait\":false}", i));
	e2e_send_line(cn, "{\"op\":\"ping\"}");
	for (i = 0; i < CG_UNSCHEDULED + 1; i++) {
		if ((line = e2e_recv_line(cn, e2e_slow(3000))) == NULL ||
		    strncmp(line, "{\"ok\":true", 10) != 0)
			break;
		answered++;
	}
	/* An observation window, not a wait: gtd's cpu while they wait. */
	if ((t0 = cg_cpu_ticks(e2e_pid(e))) != -1) {
		(void)poll(NULL, 0, CG_IDLE_MS);
		ticks = cg_cpu_ticks(e2e_pid(e)) - t0;
	}
	/* Thaw first: a frozen child would outlive a failed test. */
	ck_assert(cg_write(base, "cgroup.freeze", "0"));
	ck_assert_msg(answered == CG_UNSCHEDULED + 1, "%d of %d replies while "
	    "the children were frozen (last: %s)", answered, CG_UNSCHEDULED +
	    1, line != NULL ? line : "none");
	ck_assert_msg(ticks >= 0 && ticks < CG_IDLE_TICKS, "gtd used %ld "
	    "ticks of cpu in %d ms while its new children were frozen", ticks,
	    CG_IDLE_MS);
	for (i = 0; i < CG_UNSCHEDULED; i++) {
		snprintf(name, sizeof name, "f%d", i);
		ck_assert_msg(e2e_wait_state(e, name, "running",
		    e2e_slow(3000)), "%s is not running once thawed", name);
	}
	e2e_conn_close(cn);
	e2e_stop(e);
}
END_TEST

Suite *
e2e_cgroup_suite(void)
{
	Suite	*s = suite_create("e2e_cgroup");
	TCase	*tc = tcase_create("containment");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, cgroup_stop_kills_escaped_grandchild);
	tcase_add_test(tc, cgroup_exit_kills_leftovers);
	tcase_add_test(tc, cgroup_child_cgroup_and_usage);
	tcase_add_test(tc, cgroup_limits_need_controller);
	tcase_add_test(tc, cgroup_limits_unknown_key);
	tcase_add_test(tc, cgroup_config_off);
	tcase_add_test(tc, cgroup_config_path);
	tcase_add_test(tc, cgroup_unscheduled_child_never_holds_gtd);
	suite_add_tcase(s, tc);
	return (s);
}
