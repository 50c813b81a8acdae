/* SPDX-License-Identifier: MIT */
/*
 * check_e2e_groups: OTP groups against the real daemon (protocol §9.1
 * config "groups", childspec member_of and significant): one_for_all,
 * rest_for_one and one_for_one restarts in OTP's order (stops in reverse
 * start order, starts in start order, each after the one before is
 * ready); the group's own intensity across its members and its give-up
 * (stop, delete, exit_daemon with the member's exit status);
 * auto_shutdown any and all of significant members; unknown groups and
 * bad members refused naming the field; a client deleting or stopping a
 * member in the middle of a group restart; a reload moving members in
 * and out of a group.
 */
#include "config.h"

#include <sys/wait.h>

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "harness.h"

#define GR_WAIT_MS	8000		/* one condition */

/*
 * A config's text: fmt with every "%1$s" the test child's path (a
 * static buffer: one config at a time).
 */
static const char *
conf(const char *fmt, ...)
{
	static char	buf[8192];
	va_list		ap;
	int		n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	ck_assert(n > 0 && (size_t)n < sizeof buf);
	return (buf);
}

static pid_t
pid_of(struct e2e *e, const char *name)
{
	json_t	*r = e2e_row(e, name);

	ck_assert_msg(r != NULL, "no row %s", name);
	return ((pid_t)json_integer_value(json_object_get(r, "pid")));
}

static const char *
state_of(struct e2e *e, const char *name)
{
	json_t	*r = e2e_row(e, name);

	ck_assert_msg(r != NULL, "no row %s", name);
	return (e2e_str(r, "state"));
}

static void
touch(const char *path)
{
	FILE	*f;

	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fclose(f);
}

/* What c received before a ping sent now is answered (the harness's). */
static const char *
drain(struct e2e *e, struct e2e_conn *c)
{
	return (e2e_drain_events(c, GR_WAIT_MS));
}

/* a, b, c in group pool (strategy), x outside it; all running. */
static struct e2e *
start_pool(const char *strategy, const char *more)
{
	struct e2e	*e;

	e = e2e_start(conf("{\"groups\":{\"pool\":{\"strategy\":\"%2$s\"%3$s}},"
	    "\"children\":["
	    "{\"name\":\"a\",\"cmd\":[\"%1$s\"],\"member_of\":\"pool\","
	    "\"restart_delay_ms\":20},"
	    "{\"name\":\"b\",\"cmd\":[\"%1$s\"],\"member_of\":\"pool\","
	    "\"restart_delay_ms\":20},"
	    "{\"name\":\"c\",\"cmd\":[\"%1$s\"],\"member_of\":\"pool\","
	    "\"restart_delay_ms\":20},"
	    "{\"name\":\"x\",\"cmd\":[\"%1$s\"],\"restart_delay_ms\":20}]}",
	    e2e_testchild(NULL), strategy, more));
	ck_assert(e2e_wait_state(e, "x", "running", GR_WAIT_MS));
	return (e);
}

/*
 * one_for_all: b dies; c then a are stopped (reverse start order), then
 * a, b, c start in start order, each once the one before is ready.  x,
 * outside the group, is left alone.  member_of is in which_children,
 * info and gtctl ls.
 */
START_TEST(e2e_groups_one_for_all)
{
	struct e2e	*e = start_pool("one_for_all", "");
	struct e2e_conn	*sub = e2e_client(e);
	pid_t		 a = pid_of(e, "a"), b = pid_of(e, "b");
	pid_t		 c = pid_of(e, "c"), x = pid_of(e, "x");
	const char	*out;
	json_t		*r;

	r = e2e_row(e, "a");
	ck_assert_str_eq(e2e_str(r, "member_of"), "pool");
	ck_assert_ptr_null(json_object_get(e2e_row(e, "x"), "member_of"));
	r = e2e_ok(e, "info", "{s:s}", "name", "b");
	ck_assert_str_eq(e2e_str(r, "member_of"), "pool");
	ck_assert_str_eq(e2e_str(e2e_get(r, "spec"), "member_of"), "pool");
	ck_assert_int_eq(e2e_gtctl(e, &out, "ls", NULL), 0);
	ck_assert_msg(strstr(out, "GROUP") != NULL && strstr(out, "pool") !=
	    NULL, "gtctl ls: %s", out);
	/* In SQL through the spec's text. */
	r = e2e_get(e2e_ok(e, "query", "{s:s}", "sql", "SELECT name FROM "
	    "children WHERE json_extract(spec, '$.member_of') = 'pool' "
	    "ORDER BY name"), "rows");
	ck_assert_str_eq(e2e_dump(e, r), "[[\"a\"],[\"b\"],[\"c\"]]");
	e2e_cok(sub, "subscribe", "{s:[s, s, s]}", "events", "exited",
	    "started", "ready");
	ck_assert_int_eq(kill(b, SIGKILL), 0);
	ck_assert_int_gt(e2e_wait_restarted(e, "a", a, GR_WAIT_MS), 0);
	ck_assert_int_gt(e2e_wait_restarted(e, "b", b, GR_WAIT_MS), 0);
	ck_assert_int_gt(e2e_wait_restarted(e, "c", c, GR_WAIT_MS), 0);
	ck_assert_str_eq(drain(e, sub), "exited:b exited:c exited:a "
	    "started:a ready:a started:b ready:b started:c ready:c");
	ck_assert_int_eq(pid_of(e, "x"), x);
	ck_assert_int_eq(e2e_int(e2e_row(e, "b"), "restart_count"), 1);
	e2e_stop(e);
}
END_TEST

/* rest_for_one: b dies; c stops, then b and c start; a is left alone. */
START_TEST(e2e_groups_rest_for_one)
{
	struct e2e	*e = start_pool("rest_for_one", "");
	struct e2e_conn	*sub = e2e_client(e);
	pid_t		 a = pid_of(e, "a"), b = pid_of(e, "b");
	pid_t		 c = pid_of(e, "c");

	e2e_cok(sub, "subscribe", "{s:[s, s, s]}", "events", "exited",
	    "started", "ready");
	ck_assert_int_eq(kill(b, SIGKILL), 0);
	ck_assert_int_gt(e2e_wait_restarted(e, "c", c, GR_WAIT_MS), 0);
	ck_assert_str_eq(drain(e, sub), "exited:b exited:c started:b ready:b "
	    "started:c ready:c");
	ck_assert_int_eq(pid_of(e, "a"), a);
	/* The last member restarts alone. */
	c = pid_of(e, "c");
	b = pid_of(e, "b");
	ck_assert_int_eq(kill(c, SIGKILL), 0);
	ck_assert_int_gt(e2e_wait_restarted(e, "c", c, GR_WAIT_MS), 0);
	ck_assert_str_eq(drain(e, sub), "exited:c started:c ready:c");
	ck_assert_int_eq(pid_of(e, "a"), a);
	ck_assert_int_eq(pid_of(e, "b"), b);
	e2e_stop(e);
}
END_TEST

/*
 * one_for_one: only the member that died restarts, but the group's
 * window counts the restarts of all its members: the third restart
 * within max_period_ms (max_restarts 2) gives the group up: every member
 * stops (on_give_up stop), the rows stay, x is left alone.
 */
START_TEST(e2e_groups_intensity_stop)
{
	struct e2e	*e = start_pool("one_for_one",
	    ",\"max_restarts\":2,\"max_period_ms\":60000");
	pid_t		 a = pid_of(e, "a"), b = pid_of(e, "b");
	pid_t		 c = pid_of(e, "c"), x = pid_of(e, "x");
	json_t		*r;

	ck_assert_int_eq(kill(a, SIGKILL), 0);
	ck_assert_int_gt(e2e_wait_restarted(e, "a", a, GR_WAIT_MS), 0);
	ck_assert_int_eq(pid_of(e, "b"), b);
	ck_assert_int_eq(pid_of(e, "c"), c);
	ck_assert_int_eq(kill(b, SIGKILL), 0);
	ck_assert_int_gt(e2e_wait_restarted(e, "b", b, GR_WAIT_MS), 0);
	ck_assert_int_eq(kill(c, SIGKILL), 0);	/* each member once: 3 */
	ck_assert(e2e_wait_state(e, "a", "stopped", GR_WAIT_MS));
	ck_assert(e2e_wait_state(e, "b", "stopped", GR_WAIT_MS));
	ck_assert(e2e_wait_state(e, "c", "stopped", GR_WAIT_MS));
	r = e2e_row(e, "c");
	ck_assert(json_is_true(e2e_get(r, "gave_up")));
	ck_assert(json_is_null(e2e_get(r, "pid")));
	ck_assert_int_eq(pid_of(e, "x"), x);
	ck_assert_str_eq(state_of(e, "x"), "running");
	/* The members may be started again by hand. */
	e2e_ok(e, "restart_child", "{s:s}", "name", "a");
	ck_assert(e2e_wait_state(e, "a", "running", GR_WAIT_MS));
	e2e_stop(e);
}
END_TEST

/* on_give_up delete: the group's rows go, x stays. */
START_TEST(e2e_groups_give_up_delete)
{
	struct e2e	*e = start_pool("one_for_all", ",\"max_restarts\":1,"
	    "\"on_give_up\":\"delete\"");
	pid_t		 a = pid_of(e, "a"), x = pid_of(e, "x");

	ck_assert_int_eq(kill(a, SIGKILL), 0);
	ck_assert_int_gt(e2e_wait_restarted(e, "c", pid_of(e, "c"),
	    GR_WAIT_MS), 0);
	ck_assert(e2e_wait_state(e, "c", "running", GR_WAIT_MS));
	ck_assert_int_eq(kill(pid_of(e, "b"), SIGKILL), 0);
	ck_assert(e2e_wait_absent(e, "a", GR_WAIT_MS));
	ck_assert(e2e_wait_absent(e, "b", GR_WAIT_MS));
	ck_assert(e2e_wait_absent(e, "c", GR_WAIT_MS));
	ck_assert_int_eq(pid_of(e, "x"), x);
	e2e_stop(e);
}
END_TEST

/*
 * on_give_up exit_daemon (the container case): a member that keeps
 * failing with status 7 makes gtd stop everything and exit with 7.
 */
START_TEST(e2e_groups_give_up_exit_daemon)
{
	struct e2e	*e;
	int		 st;

	e = e2e_start(conf("{\"groups\":{\"app\":{\"max_restarts\":1,"
	    "\"on_give_up\":\"exit_daemon\"}},\"children\":["
	    "{\"name\":\"web\",\"cmd\":[\"%1$s\"],\"member_of\":\"app\"},"
	    "{\"name\":\"job\",\"cmd\":[\"%1$s\",\"--exit-after-ms=100\","
	    "\"--exit-code=7\"],\"member_of\":\"app\","
	    "\"restart_delay_ms\":20}]}", e2e_testchild(NULL)));
	ck_assert_msg(e2e_wait_exit(e, GR_WAIT_MS, &st), "gtd did not exit");
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 7,
	    "gtd exit status 0x%x, want 7", st);
	e2e_expect_exit(e, 7);
	e2e_stop(e);
}
END_TEST

/*
 * auto_shutdown any with exit_daemon: the significant entry point ends
 * (temporary, status 5): gtd stops the rest and exits 5.
 */
START_TEST(e2e_groups_auto_shutdown_exit)
{
	struct e2e	*e;
	int		 st;

	e = e2e_start(conf("{\"groups\":{\"app\":{\"auto_shutdown\":\"any\","
	    "\"on_give_up\":\"exit_daemon\"}},\"children\":["
	    "{\"name\":\"side\",\"cmd\":[\"%1$s\"],\"member_of\":\"app\"},"
	    "{\"name\":\"main\",\"cmd\":[\"%1$s\",\"--exit-after-ms=200\","
	    "\"--exit-code=5\"],\"member_of\":\"app\",\"restart\":"
	    "\"temporary\",\"significant\":true}]}", e2e_testchild(NULL)));
	ck_assert_msg(e2e_wait_exit(e, GR_WAIT_MS, &st), "gtd did not exit");
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 5,
	    "gtd exit status 0x%x, want 5", st);
	e2e_expect_exit(e, 5);
	e2e_stop(e);
}
END_TEST

/*
 * auto_shutdown any: a significant transient member that fails restarts
 * (not an end); once it ends normally the group stops, x stays.
 */
START_TEST(e2e_groups_auto_shutdown_any)
{
	struct e2e	*e;
	const char	*gate;
	pid_t		 j;

	e = e2e_start(conf("{\"groups\":{\"g\":{\"auto_shutdown\":\"any\"}},"
	    "\"children\":[{\"name\":\"x\",\"cmd\":[\"%1$s\"]}]}",
	    e2e_testchild(NULL)));
	gate = e2e_path(e, "gate");
	e2e_ok(e, "start_child", "{s:s, s:o, s:s}", "name", "w", "cmd",
	    e2e_cmd(NULL), "member_of", "g");
	j = (pid_t)e2e_int(e2e_ok(e, "start_child", "{s:s, s:o, s:s, s:s, "
	    "s:b, s:i}", "name", "job", "cmd", e2e_cmd(e2e_fmt(e,
	    "--ready-after=%s", gate), "--exit-code=0", NULL), "member_of",
	    "g", "restart", "transient", "significant", 1, "restart_delay_ms",
	    20), "pid");
	ck_assert_int_eq(kill(j, SIGKILL), 0);	/* a failure: restarts */
	ck_assert_int_gt(e2e_wait_restarted(e, "job", j, GR_WAIT_MS), 0);
	ck_assert_str_eq(state_of(e, "w"), "running");
	touch(gate);			/* job exits 0: the group ends */
	ck_assert(e2e_wait_state(e, "w", "stopped", GR_WAIT_MS));
	ck_assert(e2e_wait_absent(e, "job", GR_WAIT_MS)); /* transient */
	ck_assert_str_eq(state_of(e, "x"), "running");
	e2e_stop(e);
}
END_TEST

/*
 * auto_shutdown all: the group ends when the last significant member
 * has ended normally, not before.
 */
START_TEST(e2e_groups_auto_shutdown_all)
{
	struct e2e	*e;
	const char	*gate;

	e = e2e_start(conf("{\"groups\":{\"g\":{\"auto_shutdown\":\"all\"}}}"));
	gate = e2e_path(e, "gate");
	e2e_ok(e, "start_child", "{s:s, s:o, s:s}", "name", "w", "cmd",
	    e2e_cmd(NULL), "member_of", "g");
	e2e_ok(e, "start_child", "{s:s, s:o, s:s, s:s, s:b}", "name", "j1",
	    "cmd", e2e_cmd(e2e_fmt(e, "--ready-after=%s", gate),
	    "--exit-code=0", NULL), "member_of", "g", "restart", "temporary",
	    "significant", 1);
	e2e_ok(e, "start_child", "{s:s, s:o, s:s, s:s, s:b}", "name", "j2",
	    "cmd", e2e_cmd("--exit-after-ms=100", "--exit-code=0", NULL),
	    "member_of", "g", "restart", "transient", "significant", 1);
	ck_assert(e2e_wait_absent(e, "j2", GR_WAIT_MS));
	e2e_ok(e, "ping", NULL);
	ck_assert_str_eq(state_of(e, "w"), "running");
	touch(gate);			/* j1, the last one, ends */
	ck_assert(e2e_wait_state(e, "w", "stopped", GR_WAIT_MS));
	e2e_stop(e);
}
END_TEST

/*
 * Refused, naming the field: an unknown group (start_child, the config,
 * a reload), a permanent significant member, significant without a
 * group, a reload dropping a group a run-time row is a member of.  The
 * Unix "group" of a childspec keeps its meaning.
 */
START_TEST(e2e_groups_refused)
{
	struct e2e	*e;
	const char	*err;
	char		 longname[258];
	json_t		*r;
	int		 st;

	e = e2e_start(conf("{\"groups\":{\"g\":{\"auto_shutdown\":\"any\"}}}"));
	r = e2e_err(e, "bad_request", "start_child", "{s:s, s:o, s:s}",
	    "name", "a", "cmd", e2e_cmd(NULL), "member_of", "nope");
	ck_assert_str_eq(e2e_str(r, "field"), "member_of");
	ck_assert_msg(strstr(e2e_str(r, "message"), "nope") != NULL, "%s",
	    e2e_dump(e, r));
	r = e2e_err(e, "bad_request", "start_child", "{s:s, s:o, s:s, s:b}",
	    "name", "a", "cmd", e2e_cmd(NULL), "member_of", "g",
	    "significant", 1);
	ck_assert_str_eq(e2e_str(r, "field"), "significant");
	r = e2e_err(e, "bad_request", "start_child", "{s:s, s:o, s:b, s:s}",
	    "name", "a", "cmd", e2e_cmd(NULL), "significant", 1, "restart",
	    "transient");
	ck_assert_str_eq(e2e_str(r, "field"), "significant");
	ck_assert_ptr_null(e2e_row(e, "a"));
	r = e2e_err(e, "bad_request", "check_childspec", "{s:s, s:o, s:s}",
	    "name", "a", "cmd", e2e_cmd(NULL), "member_of", "nope");
	ck_assert_str_eq(e2e_str(r, "field"), "member_of");
	memset(longname, 'g', sizeof longname - 1);	/* 257 bytes: too long */
	longname[sizeof longname - 1] = '\0';
	r = e2e_err(e, "bad_request", "start_child", "{s:s, s:o, s:s}",
	    "name", "a", "cmd", e2e_cmd(NULL), "member_of", longname);
	ck_assert_str_eq(e2e_str(r, "field"), "member_of");
	ck_assert_msg(strstr(e2e_str(r, "message"), "256") != NULL, "%s",
	    e2e_dump(e, r));
	/* "group" is still the Unix group of the process. */
	r = e2e_ok(e, "start_child", "{s:s, s:o, s:s, s:s}", "name", "u",
	    "cmd", e2e_cmd(NULL), "group", "root", "member_of", "g");
	r = e2e_ok(e, "get_childspec", "{s:s}", "name", "u");
	ck_assert_str_eq(e2e_str(e2e_get(r, "spec"), "group"), "root");
	ck_assert_str_eq(e2e_str(e2e_get(r, "spec"), "member_of"), "g");
	/* A reload may not drop a group a run-time row is a member of. */
	e2e_write_conf(e, "{}");
	r = e2e_err(e, "bad_config", "reload", NULL);
	ck_assert_str_eq(e2e_str(r, "field"), "groups");
	ck_assert_msg(strstr(e2e_str(r, "message"), "u") != NULL, "%s",
	    e2e_dump(e, r));
	ck_assert_str_eq(e2e_str(e2e_row(e, "u"), "member_of"), "g");
	/* Nor name an unknown one. */
	e2e_write_conf(e, conf("{\"groups\":{\"g\":{}},\"children\":["
	    "{\"name\":\"b\",\"cmd\":[\"%1$s\"],\"member_of\":\"h\"}]}",
	    e2e_testchild(NULL)));
	r = e2e_err(e, "bad_config", "reload", NULL);
	ck_assert_str_eq(e2e_str(r, "field"), "children.0.member_of");
	ck_assert_ptr_null(e2e_row(e, "b"));
	/* And gtd -n says so of a config file. */
	st = e2e_gtd_run(e, 5000, &err, "-n", "-c", e2e_path(e, "gtd.json"),
	    NULL);
	ck_assert_int_ne(st, 0);
	ck_assert_msg(strstr(err, "children.0.member_of") != NULL, "%s", err);
	e2e_write_conf(e, "{\"groups\":{\"g\":{\"strategy\":"
	    "\"one_for_some\"}}}");
	r = e2e_err(e, "bad_config", "reload", NULL);
	ck_assert_str_eq(e2e_str(r, "field"), "groups.g.strategy");
	e2e_stop(e);
}
END_TEST

/* b, ready once DIR/gate exists, in a one_for_all group with a and c. */
static struct e2e *
start_gated(const char **gate)
{
	struct e2e	*e;

	e = e2e_start(conf("{\"groups\":{\"pool\":{\"strategy\":"
	    "\"one_for_all\"}}}"));
	*gate = e2e_path(e, "gate");
	touch(*gate);
	e2e_ok(e, "start_child", "{s:s, s:o, s:s, s:i}", "name", "a", "cmd",
	    e2e_cmd(NULL), "member_of", "pool", "restart_delay_ms", 20);
	e2e_ok(e, "start_child", "{s:s, s:o, s:{s:i}, s:s}", "name", "b",
	    "cmd", e2e_cmd(e2e_fmt(e, "--ready-after=%s", *gate),
	    "--ready-fd=3", NULL), "ready", "fd", 3, "member_of", "pool");
	e2e_ok(e, "start_child", "{s:s, s:o, s:s}", "name", "c", "cmd",
	    e2e_cmd(NULL), "member_of", "pool");
	ck_assert_int_eq(unlink(*gate), 0);	/* b's next start waits */
	return (e);
}

/* A group restart starts c only once b, before it, is ready. */
START_TEST(e2e_groups_waits_for_ready)
{
	const char	*gate;
	struct e2e	*e = start_gated(&gate);
	pid_t		 a = pid_of(e, "a"), c = pid_of(e, "c");

	ck_assert_int_eq(kill(a, SIGKILL), 0);
	ck_assert_int_gt(e2e_wait_restarted(e, "a", a, GR_WAIT_MS), 0);
	ck_assert(e2e_wait_state(e, "b", "starting", GR_WAIT_MS));
	e2e_ok(e, "ping", NULL);
	ck_assert_str_eq(state_of(e, "c"), "restarting");	/* held */
	ck_assert(json_is_null(e2e_get(e2e_row(e, "c"), "pid")));
	ck_assert(json_is_null(e2e_get(e2e_row(e, "c"), "restart_at")));
	touch(gate);
	ck_assert_int_gt(e2e_wait_restarted(e, "c", c, GR_WAIT_MS), 0);
	ck_assert(e2e_wait_state(e, "c", "running", GR_WAIT_MS));
	ck_assert_str_eq(state_of(e, "b"), "running");
	e2e_stop(e);
}
END_TEST

/*
 * A client deletes b while the group restart waits for it to be ready:
 * the restart goes on with c, and the group still works without b.  A
 * client that stops c in the middle of a later one leaves it stopped.
 */
START_TEST(e2e_groups_delete_during_restart)
{
	const char	*gate;
	struct e2e	*e = start_gated(&gate);
	pid_t		 a = pid_of(e, "a"), c = pid_of(e, "c");

	ck_assert_int_eq(kill(a, SIGKILL), 0);
	ck_assert(e2e_wait_state(e, "b", "starting", GR_WAIT_MS));
	e2e_ok(e, "terminate_and_delete", "{s:s}", "name", "b");
	ck_assert_ptr_null(e2e_row(e, "b"));
	ck_assert_int_gt(e2e_wait_restarted(e, "c", c, GR_WAIT_MS), 0);
	ck_assert(e2e_wait_state(e, "c", "running", GR_WAIT_MS));
	a = pid_of(e, "a");
	c = pid_of(e, "c");
	ck_assert_int_eq(kill(c, SIGKILL), 0);
	ck_assert_int_gt(e2e_wait_restarted(e, "a", a, GR_WAIT_MS), 0);
	ck_assert_int_gt(e2e_wait_restarted(e, "c", c, GR_WAIT_MS), 0);
	e2e_stop(e);
}
END_TEST

/*
 * A client stops c while the group restart waits for b: c stays
 * stopped when b is ready, and may be started again by hand.
 */
START_TEST(e2e_groups_stop_during_restart)
{
	const char	*gate;
	struct e2e	*e = start_gated(&gate);
	pid_t		 a = pid_of(e, "a");

	ck_assert_int_eq(kill(a, SIGKILL), 0);
	ck_assert(e2e_wait_state(e, "b", "starting", GR_WAIT_MS));
	ck_assert(e2e_wait_state(e, "c", "restarting", GR_WAIT_MS));
	e2e_ok(e, "terminate_child", "{s:s}", "name", "c");
	ck_assert_str_eq(state_of(e, "c"), "stopped");
	touch(gate);
	ck_assert(e2e_wait_state(e, "b", "running", GR_WAIT_MS));
	e2e_ok(e, "ping", NULL);
	ck_assert_str_eq(state_of(e, "c"), "stopped");
	ck_assert_str_eq(state_of(e, "a"), "running");
	e2e_ok(e, "restart_child", "{s:s}", "name", "c");
	ck_assert(e2e_wait_state(e, "c", "running", GR_WAIT_MS));
	e2e_stop(e);
}
END_TEST

/*
 * A reload moves rows in and out of a group at once: b leaves pool, x
 * joins it (last in start order); a's death then restarts a and x, not
 * b.
 */
START_TEST(e2e_groups_reload_members)
{
	struct e2e	*e = start_pool("one_for_all", "");
	pid_t		 a = pid_of(e, "a"), b = pid_of(e, "b");
	pid_t		 x = pid_of(e, "x");
	json_t		*r;

	e2e_write_conf(e, conf("{\"groups\":{\"pool\":{\"strategy\":"
	    "\"one_for_all\"}},\"children\":["
	    "{\"name\":\"a\",\"cmd\":[\"%1$s\"],\"member_of\":\"pool\","
	    "\"restart_delay_ms\":20},"
	    "{\"name\":\"b\",\"cmd\":[\"%1$s\"],\"restart_delay_ms\":20},"
	    "{\"name\":\"x\",\"cmd\":[\"%1$s\"],\"member_of\":\"pool\","
	    "\"restart_delay_ms\":20}]}", e2e_testchild(NULL)));
	e2e_ok(e, "reload", NULL);
	ck_assert(e2e_wait_absent(e, "c", GR_WAIT_MS));
	ck_assert_ptr_null(json_object_get(e2e_row(e, "b"), "member_of"));
	r = e2e_row(e, "x");
	ck_assert_str_eq(e2e_str(r, "member_of"), "pool");
	ck_assert_int_eq(pid_of(e, "x"), x);	/* joined, not restarted */
	ck_assert_int_eq(kill(a, SIGKILL), 0);
	ck_assert_int_gt(e2e_wait_restarted(e, "x", x, GR_WAIT_MS), 0);
	ck_assert_int_gt(e2e_wait_restarted(e, "a", a, GR_WAIT_MS), 0);
	ck_assert_int_eq(pid_of(e, "b"), b);
	ck_assert(e2e_wait_state(e, "x", "running", GR_WAIT_MS));
	/* New settings apply at once: one_for_one, a restarts alone. */
	e2e_write_conf(e, conf("{\"groups\":{\"pool\":{\"strategy\":"
	    "\"one_for_one\"}},\"children\":["
	    "{\"name\":\"a\",\"cmd\":[\"%1$s\"],\"member_of\":\"pool\","
	    "\"restart_delay_ms\":20},"
	    "{\"name\":\"b\",\"cmd\":[\"%1$s\"],\"restart_delay_ms\":20},"
	    "{\"name\":\"x\",\"cmd\":[\"%1$s\"],\"member_of\":\"pool\","
	    "\"restart_delay_ms\":20}]}", e2e_testchild(NULL)));
	e2e_ok(e, "reload", NULL);
	a = pid_of(e, "a");
	x = pid_of(e, "x");
	ck_assert_int_eq(kill(a, SIGKILL), 0);
	ck_assert_int_gt(e2e_wait_restarted(e, "a", a, GR_WAIT_MS), 0);
	ck_assert_int_eq(pid_of(e, "x"), x);
	e2e_stop(e);
}
END_TEST

/*
 * A group restart of many members never holds up the loop: ping answers
 * quickly all along, and every member comes back, in start order.
 */
START_TEST(e2e_groups_many_members)
{
	enum { N = 60 };
	struct e2e	*e;
	pid_t		 old[N];
	long		 t0, worst = 0, d, until;
	json_t		*rows;
	char		 name[16];
	int		 i;

	e = e2e_start(conf("{\"groups\":{\"pool\":{\"strategy\":"
	    "\"one_for_all\"}}}"));
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof name, "m%02d", i);
		old[i] = (pid_t)e2e_int(e2e_ok(e, "start_child",
		    "{s:s, s:o, s:s, s:i}", "name", name, "cmd", e2e_cmd(NULL),
		    "member_of", "pool", "restart_delay_ms", 0), "pid");
	}
	ck_assert_int_eq(kill(old[N / 2], SIGKILL), 0);
	until = e2e_now_ms() + e2e_slow(4 * GR_WAIT_MS);
	while (pid_of(e, "m59") == old[N - 1] ||
	    strcmp(state_of(e, "m59"), "running") != 0) {
		t0 = e2e_now_ms();
		e2e_ok(e, "ping", NULL);
		if ((d = e2e_now_ms() - t0) > worst)
			worst = d;
		ck_assert_msg(e2e_now_ms() < until, "the group restart does "
		    "not end");
	}
	ck_assert_msg(worst < e2e_slow(250), "ping took %ld ms during a "
	    "group restart", worst);
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof name, "m%02d", i);
		ck_assert_int_ne(pid_of(e, name), old[i]);
	}
	/* Started in start order: by started_at, the names are sorted. */
	rows = e2e_get(e2e_ok(e, "query", "{s:s}", "sql", "SELECT count(*) "
	    "FROM children a JOIN children b ON a.name < b.name WHERE "
	    "a.started_at > b.started_at"), "rows");
	ck_assert_str_eq(e2e_dump(e, rows), "[[0]]");
	e2e_stop(e);
}
END_TEST

/*
 * A client deletes c while the group restart waits for it to stop (c
 * ignores SIGTERM): the delete's reply comes once c is gone, and the
 * restart goes on with a and b.
 */
START_TEST(e2e_groups_delete_while_stopping)
{
	struct e2e	*e;
	struct e2e_conn	*cl;
	pid_t		 a, b;
	json_t		*r;

	e = e2e_start(conf("{\"groups\":{\"pool\":{\"strategy\":"
	    "\"one_for_all\"}}}"));
	cl = e2e_client(e);
	a = (pid_t)e2e_int(e2e_ok(e, "start_child", "{s:s, s:o, s:s}", "name",
	    "a", "cmd", e2e_cmd(NULL), "member_of", "pool"), "pid");
	b = (pid_t)e2e_int(e2e_ok(e, "start_child", "{s:s, s:o, s:s}", "name",
	    "b", "cmd", e2e_cmd(NULL), "member_of", "pool"), "pid");
	e2e_ok(e, "start_child", "{s:s, s:o, s:s, s:{s:s, s:i}}", "name", "c",
	    "cmd", e2e_cmd("--ignore-term", e2e_ready_arg(e, "c"), NULL),
	    "member_of", "pool", "shutdown", "signal", "SIGTERM",
	    "timeout_ms", 3000);
	e2e_wait_ready(e, "c");
	ck_assert_int_eq(kill(a, SIGKILL), 0);
	ck_assert(e2e_wait_state(e, "c", "stopping", GR_WAIT_MS));
	ck_assert_int_eq(pid_of(e, "b"), b);	/* c first, then b */
	r = e2e_cok(cl, "terminate_and_delete", "{s:s, s:i}", "name", "c",
	    "timeout_ms", 100);
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_null(e2e_row(e, "c"));
	ck_assert_int_gt(e2e_wait_restarted(e, "a", a, GR_WAIT_MS), 0);
	ck_assert_int_gt(e2e_wait_restarted(e, "b", b, GR_WAIT_MS), 0);
	ck_assert(e2e_wait_state(e, "b", "running", GR_WAIT_MS));
	ck_assert_ptr_null(e2e_row(e, "c"));
	e2e_stop(e);
}
END_TEST

Suite *
e2e_groups_suite(void)
{
	Suite	*s = suite_create("e2e_groups");
	TCase	*tc = tcase_create("groups");

	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_groups_one_for_all);
	tcase_add_test(tc, e2e_groups_rest_for_one);
	tcase_add_test(tc, e2e_groups_intensity_stop);
	tcase_add_test(tc, e2e_groups_give_up_delete);
	tcase_add_test(tc, e2e_groups_give_up_exit_daemon);
	tcase_add_test(tc, e2e_groups_auto_shutdown_exit);
	tcase_add_test(tc, e2e_groups_auto_shutdown_any);
	tcase_add_test(tc, e2e_groups_auto_shutdown_all);
	tcase_add_test(tc, e2e_groups_refused);
	tcase_add_test(tc, e2e_groups_waits_for_ready);
	tcase_add_test(tc, e2e_groups_delete_during_restart);
	tcase_add_test(tc, e2e_groups_stop_during_restart);
	tcase_add_test(tc, e2e_groups_delete_while_stopping);
	tcase_add_test(tc, e2e_groups_reload_members);
	tcase_add_test(tc, e2e_groups_many_members);
	suite_add_tcase(s, tc);
	return (s);
}
