/* SPDX-License-Identifier: MIT */
/*
 * check_group: OTP groups as tables.  Every strategy against every kind
 * of member exit (restart by policy, temporary, transient normal and
 * abnormal, requested, own give-up), with temporary and inactive
 * siblings; the group's window of restarts; auto_shutdown any/all with
 * significant members; the exit status of exit_daemon; the config
 * parser and the membership rules.  A decision is written out as the
 * verdict and the steps of its sequence, e.g.
 * "restart: stop d, stop c, delay, start c, start d".
 */
#include "config.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <check.h>
#include <jansson.h>

#include "gt/group.h"
#include "gt/xmalloc.h"

#include "check_unit.h"

/*
 * Members as "a b:t c:Ts d:i": t temporary, T transient (else
 * permanent), s significant, i inactive (else active).
 */
static struct group_state *
mkgroup(enum group_strategy st, enum group_auto au, const char *members)
{
	struct group_conf	 c = { (char *)"g", st, 10, 60000,
	    SPEC_GIVE_UP_STOP, au };
	struct group_state		*g = group_new(&c);
	char			*s = xstrdup(members), *tok, *save, *fl;
	char			*cause = NULL;
	enum spec_restart	 r;

	for (tok = strtok_r(s, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		fl = strchr(tok, ':');
		if (fl != NULL)
			*fl++ = '\0';
		else
			fl = (char *)"";
		r = strchr(fl, 't') ? SPEC_TEMPORARY : strchr(fl, 'T') ?
		    SPEC_TRANSIENT : SPEC_PERMANENT;
		ck_assert_msg(group_join(g, tok, r, strchr(fl, 's') != NULL,
		    &cause) == 0, "%s: %s", tok, cause);
		group_set_active(g, tok, strchr(fl, 'i') == NULL);
	}
	free(s);
	return (g);
}

/* Walk the sequence (as the caller would) into "verdict: step, step". */
static char *
walk(struct group_state *g, enum group_verdict v)
{
	struct group_step	 st;
	char			*out, *t;

	out = xstrdup(group_verdict_name(v));
	for (;;) {
		group_seq_next(g, &st);
		if (st.kind == GROUP_STEP_NONE)
			break;
		if (st.kind == GROUP_STEP_END)
			xasprintf(&t, "%s%s end %s %d", out, strchr(out, ':') ?
			    "," : ":", spec_give_up_name(st.end),
			    st.exit_code);
		else if (st.kind == GROUP_STEP_DELAY)
			xasprintf(&t, "%s%s delay %lld", out, strchr(out, ':') ?
			    "," : ":", (long long)st.delay_ms);
		else
			xasprintf(&t, "%s%s %s %s", out, strchr(out, ':') ?
			    "," : ":", group_step_name(st.kind), st.name);
		free(out);
		out = t;
		ck_assert_int_eq(group_seq_done(g, st.name), 0);
	}
	return (out);
}

#define X(code)		W_EXITCODE(code, 0)
#define SIG(s)		W_EXITCODE(0, s)

enum ev { EV_RESTART, EV_DELETE, EV_STOP_GAVE_UP, EV_REQUESTED };

static const struct {
	enum group_strategy	 st;
	enum group_auto		 au;
	const char		*members;
	const char		*who;
	enum ev			 ev;
	bool			 success;
	int			 status;
	const char		*want;
} rows[] = {
	/* one_for_one: the member alone, whatever its position. */
	{ GROUP_ONE_FOR_ONE, 0, "a b c d", "a", EV_RESTART, false, X(1),
	    "alone" },
	{ GROUP_ONE_FOR_ONE, 0, "a b c d", "c", EV_RESTART, false, X(1),
	    "alone" },
	/* one_for_all: all others stop (reverse), all start (in order). */
	{ GROUP_ONE_FOR_ALL, 0, "a b c d", "a", EV_RESTART, false, X(1),
	    "restart: stop d, stop c, stop b, delay 100, start a, start b, "
	    "start c, start d" },
	{ GROUP_ONE_FOR_ALL, 0, "a b c d", "c", EV_RESTART, false, SIG(9),
	    "restart: stop d, stop b, stop a, delay 100, start a, start b, "
	    "start c, start d" },
	{ GROUP_ONE_FOR_ALL, 0, "a b c d", "d", EV_RESTART, false, X(0),
	    "restart: stop c, stop b, stop a, delay 100, start a, start b, "
	    "start c, start d" },
	/* rest_for_one: the failed one and those started after it. */
	{ GROUP_REST_FOR_ONE, 0, "a b c d", "a", EV_RESTART, false, X(1),
	    "restart: stop d, stop c, stop b, delay 100, start a, start b, "
	    "start c, start d" },
	{ GROUP_REST_FOR_ONE, 0, "a b c d", "b", EV_RESTART, false, X(1),
	    "restart: stop d, stop c, delay 100, start b, start c, start d" },
	{ GROUP_REST_FOR_ONE, 0, "a b c d", "d", EV_RESTART, false, X(1),
	    "restart: delay 100, start d" },
	/* A temporary sibling is stopped and removed, never started. */
	{ GROUP_ONE_FOR_ALL, 0, "a b:t c d:t", "c", EV_RESTART, false, X(1),
	    "restart: stop d, stop b, stop a, remove b, remove d, "
	    "delay 100, start a, start c" },
	{ GROUP_REST_FOR_ONE, 0, "a:t b c:t", "b", EV_RESTART, false, X(1),
	    "restart: stop c, remove c, delay 100, start b" },
	/* A transient sibling is started again (OTP). */
	{ GROUP_ONE_FOR_ALL, 0, "a:T b", "b", EV_RESTART, false, X(1),
	    "restart: stop a, delay 100, start a, start b" },
	/* An inactive sibling is not stopped but is started (OTP). */
	{ GROUP_ONE_FOR_ALL, 0, "a b:i c", "c", EV_RESTART, false, X(1),
	    "restart: stop a, delay 100, start a, start b, start c" },
	{ GROUP_REST_FOR_ONE, 0, "a b c:i", "b", EV_RESTART, false, X(1),
	    "restart: delay 100, start b, start c" },
	/* What the member's own policy does not restart restarts nothing. */
	{ GROUP_ONE_FOR_ALL, 0, "a b:t c", "b", EV_DELETE, false, X(1),
	    "alone" },
	{ GROUP_ONE_FOR_ALL, 0, "a b:T c", "b", EV_DELETE, true, X(0),
	    "alone" },
	{ GROUP_ONE_FOR_ALL, 0, "a b c", "b", EV_STOP_GAVE_UP, false, X(1),
	    "alone" },
	{ GROUP_REST_FOR_ONE, 0, "a b c", "a", EV_REQUESTED, false,
	    SIG(15), "alone" },
	{ GROUP_ONE_FOR_ALL, 0, "a b c", "a", EV_REQUESTED, false, X(0),
	    "alone" },
	/* auto_shutdown any: a significant member ending for good. */
	{ GROUP_ONE_FOR_ONE, GROUP_AUTO_ANY, "a b:ts c", "b", EV_DELETE,
	    false, X(3), "shutdown: stop c, stop a, end stop 3" },
	{ GROUP_ONE_FOR_ALL, GROUP_AUTO_ANY, "a:Ts b c:i", "a", EV_DELETE,
	    true, X(0), "shutdown: stop b, end stop 0" },
	{ GROUP_ONE_FOR_ONE, GROUP_AUTO_ANY, "a:ts b", "a", EV_DELETE,
	    false, SIG(SIGSEGV), "shutdown: stop b, end stop 139" },
	/* ... but not an abnormal exit of a transient one: it restarts. */
	{ GROUP_ONE_FOR_ONE, GROUP_AUTO_ANY, "a:Ts b", "a", EV_RESTART,
	    false, X(1), "alone" },
	{ GROUP_ONE_FOR_ALL, GROUP_AUTO_ANY, "a:Ts b", "a", EV_RESTART,
	    false, X(1), "restart: stop b, delay 100, start a, start b" },
	/* ... nor its own give-up, nor a stop on request (OTP). */
	{ GROUP_ONE_FOR_ONE, GROUP_AUTO_ANY, "a:Ts b", "a", EV_STOP_GAVE_UP,
	    false, X(1), "alone" },
	{ GROUP_ONE_FOR_ONE, GROUP_AUTO_ANY, "a:ts b", "a", EV_REQUESTED,
	    false, SIG(15), "alone" },
	/* ... nor a member that is not significant. */
	{ GROUP_ONE_FOR_ONE, GROUP_AUTO_ANY, "a:t b:ts", "a", EV_DELETE,
	    false, X(0), "alone" },
	/* auto_shutdown all: only when no significant member is left. */
	{ GROUP_ONE_FOR_ONE, GROUP_AUTO_ALL, "a:ts b:ts c", "a", EV_DELETE,
	    false, X(0), "alone" },
	{ GROUP_ONE_FOR_ONE, GROUP_AUTO_ALL, "a:ts b:tsi c", "a", EV_DELETE,
	    false, X(4), "shutdown: stop c, end stop 4" },
};

START_TEST(test_group_table)
{
	struct group_state		*g;
	struct group_exit	 e;
	enum group_verdict	 v;
	char			*got;

	g = mkgroup(rows[_i].st, rows[_i].au, rows[_i].members);
	memset(&e, 0, sizeof e);
	e.name = rows[_i].who;
	e.status = rows[_i].status;
	e.success = rows[_i].success;
	e.delay_ms = 100;
	e.now_ms = 1000;
	switch (rows[_i].ev) {
	case EV_RESTART:
		e.action = POLICY_RESTART;
		break;
	case EV_DELETE:
		e.action = POLICY_DELETE;
		break;
	case EV_STOP_GAVE_UP:
		e.action = POLICY_STOP;
		e.gave_up = true;
		break;
	case EV_REQUESTED:
		e.action = POLICY_STOP;
		e.requested = true;
		break;
	}
	v = group_decide(g, &e);
	got = walk(g, v);
	ck_assert_msg(strcmp(got, rows[_i].want) == 0,
	    "row %d:\n got: %s\nwant: %s", _i, got, rows[_i].want);
	free(got);
	group_free(g);
}
END_TEST

static enum group_verdict
crash(struct group_state *g, const char *who, int64_t now)
{
	struct group_exit	e = { .name = who, .action = POLICY_RESTART,
	    .status = X(2), .now_ms = now };

	return (group_decide(g, &e));
}

/* The window counts every member's restarts; one more gives up. */
START_TEST(test_group_intensity)
{
	struct group_conf	 c = { (char *)"g", GROUP_ONE_FOR_ONE, 3,
	    1000, SPEC_GIVE_UP_EXIT, GROUP_AUTO_NEVER };
	struct group_state		*g = group_new(&c);
	char			*cause = NULL, *got;

	ck_assert_int_eq(group_join(g, "a", SPEC_PERMANENT, false, &cause),
	    0);
	ck_assert_int_eq(group_join(g, "b", SPEC_PERMANENT, false, &cause),
	    0);
	group_set_active(g, "a", true);
	group_set_active(g, "b", true);
	ck_assert_int_eq(crash(g, "a", 0), GROUP_ALONE);
	ck_assert_int_eq(crash(g, "b", 100), GROUP_ALONE);
	ck_assert_int_eq(crash(g, "a", 200), GROUP_ALONE);
	/* Three within the second: the fourth gives the group up. */
	got = walk(g, crash(g, "b", 300));
	ck_assert_str_eq(got, "give_up: stop a, end exit_daemon 2");
	free(got);
	/* The group starts afresh: its window was emptied. */
	ck_assert_int_eq(crash(g, "a", 400), GROUP_ALONE);
	group_free(g);
}
END_TEST

START_TEST(test_group_intensity_window_slides)
{
	struct group_conf	 c = { (char *)"g", GROUP_ONE_FOR_ALL, 2,
	    1000, SPEC_GIVE_UP_STOP, GROUP_AUTO_NEVER };
	struct group_state		*g = group_new(&c);
	struct group_step	 st;
	char			*cause = NULL;

	ck_assert_int_eq(group_join(g, "a", SPEC_PERMANENT, false, &cause),
	    0);
	ck_assert_int_eq(crash(g, "a", 0), GROUP_RESTART);
	ck_assert_int_eq(crash(g, "a", 500), GROUP_RESTART);
	ck_assert_int_eq(crash(g, "a", 1001), GROUP_RESTART);	/* 0 is out */
	ck_assert_int_eq(crash(g, "a", 1499), GROUP_GIVE_UP);
	while (group_seq_next(g, &st), st.kind != GROUP_STEP_NONE)
		ck_assert_int_eq(group_seq_done(g, st.name), 0);
	/* 0: no limit. */
	c.max_restarts = 0;
	group_set_conf(g, &c);
	ck_assert_int_eq(crash(g, "a", 1500), GROUP_RESTART);
	ck_assert_int_eq(crash(g, "a", 1500), GROUP_RESTART);
	ck_assert_int_eq(crash(g, "a", 1500), GROUP_RESTART);
	ck_assert_int_eq(group_conf_of(g)->max_restarts, 0);
	group_free(g);
}
END_TEST

/* A new decision abandons the sequence in progress. */
START_TEST(test_group_sequence_replaced)
{
	struct group_state	*g = mkgroup(GROUP_ONE_FOR_ALL, 0, "a b c");
	struct group_step	 st;
	char			*got;

	ck_assert_int_eq(crash(g, "a", 0), GROUP_RESTART);
	group_seq_next(g, &st);
	ck_assert_int_eq(st.kind, GROUP_STEP_STOP);
	ck_assert_str_eq(st.name, "c");
	ck_assert_int_eq(group_seq_done(g, "b"), -1);	/* stale */
	ck_assert_int_eq(group_seq_done(g, NULL), -1);
	ck_assert_int_eq(group_seq_done(g, "c"), 0);
	group_set_active(g, "c", false);
	/* b crashes while it is being stopped... not requested: decide. */
	got = walk(g, crash(g, "b", 10));
	ck_assert_str_eq(got, "restart: stop a, start a, start b, start c");
	free(got);
	group_seq_next(g, &st);
	ck_assert_int_eq(st.kind, GROUP_STEP_NONE);
	ck_assert_int_eq(group_seq_done(g, NULL), -1);
	group_free(g);
}
END_TEST

/* auto_shutdown all, step by step, and a delete on give-up. */
START_TEST(test_group_auto_all)
{
	struct group_conf	 c = { (char *)"g", GROUP_ONE_FOR_ONE, 10,
	    60000, SPEC_GIVE_UP_DELETE, GROUP_AUTO_ALL };
	struct group_state		*g = group_new(&c);
	struct group_exit	 e = { .action = POLICY_DELETE, .status = X(0),
	    .success = true };
	char			*cause = NULL, *got;

	ck_assert_int_eq(group_join(g, "m1", SPEC_TEMPORARY, true, &cause),
	    0);
	ck_assert_int_eq(group_join(g, "m2", SPEC_TRANSIENT, true, &cause),
	    0);
	ck_assert_int_eq(group_join(g, "side", SPEC_PERMANENT, false,
	    &cause), 0);
	group_set_active(g, "m1", true);
	group_set_active(g, "m2", true);
	group_set_active(g, "side", true);
	e.name = "m2";
	ck_assert_int_eq(group_decide(g, &e), GROUP_ALONE);
	group_leave(g, "m2");			/* its row went */
	e.name = "m1";
	e.status = X(7);
	got = walk(g, group_decide(g, &e));
	ck_assert_str_eq(got, "shutdown: stop side, end delete 7");
	free(got);
	group_free(g);
}
END_TEST

START_TEST(test_group_members)
{
	struct group_state	*g = mkgroup(GROUP_ONE_FOR_ONE,
	    GROUP_AUTO_ANY, "a b c");
	char			*cause = NULL;

	ck_assert_uint_eq(group_nmembers(g), 3);
	ck_assert_int_eq(group_join(g, "b", SPEC_PERMANENT, false, &cause),
	    -1);
	ck_assert_str_eq(cause, "b is already a member of group g");
	free(cause);
	group_leave(g, "b");
	group_leave(g, "nobody");
	ck_assert_uint_eq(group_nmembers(g), 2);
	ck_assert_str_eq(group_member_name(g, 0), "a");
	ck_assert_str_eq(group_member_name(g, 1), "c");
	ck_assert_ptr_null(group_member_name(g, 2));
	/* Rejoining puts it last in start order. */
	ck_assert_int_eq(group_join(g, "b", SPEC_PERMANENT, false, &cause),
	    0);
	ck_assert_str_eq(group_member_name(g, 2), "b");
	/* A decision about a name that is no member is "alone". */
	ck_assert_int_eq(crash(g, "nobody", 0), GROUP_ALONE);
	group_free(g);
	group_free(NULL);
}
END_TEST

/* OTP's rules for significant members. */
START_TEST(test_group_member_check)
{
	struct group_conf	 c = { (char *)"pool", GROUP_ONE_FOR_ALL, 10,
	    60000, SPEC_GIVE_UP_STOP, GROUP_AUTO_NEVER };
	char			*cause = NULL;

	ck_assert_int_eq(group_member_check(&c, SPEC_PERMANENT, false,
	    &cause), 0);
	ck_assert_int_eq(group_member_check(&c, SPEC_TEMPORARY, true,
	    &cause), -1);
	ck_assert_str_eq(cause, "group pool has auto_shutdown never: it "
	    "takes no significant member");
	free(cause);
	c.auto_shutdown = GROUP_AUTO_ANY;
	ck_assert_int_eq(group_member_check(&c, SPEC_TEMPORARY, true,
	    &cause), 0);
	ck_assert_int_eq(group_member_check(&c, SPEC_TRANSIENT, true,
	    &cause), 0);
	ck_assert_int_eq(group_member_check(&c, SPEC_PERMANENT, true,
	    &cause), -1);
	ck_assert_str_eq(cause, "a significant member of group pool must be "
	    "transient or temporary, not permanent");
	free(cause);
}
END_TEST

START_TEST(test_group_exit_code)
{
	ck_assert_int_eq(group_exit_code(X(0), false), 0);
	ck_assert_int_eq(group_exit_code(X(0), true), 1);
	ck_assert_int_eq(group_exit_code(X(42), false), 42);
	ck_assert_int_eq(group_exit_code(X(42), true), 42);
	ck_assert_int_eq(group_exit_code(SIG(SIGKILL), false), 137);
	ck_assert_int_eq(group_exit_code(SIG(SIGTERM), true), 143);
}
END_TEST

/* The config. */

static const struct {
	const char	*in;
	const char	*out;		/* "name=json;..." or NULL */
	const char	*field;
	const char	*msg;
} conf_rows[] = {
	{ "{}", "", NULL, NULL },
	{ "{\"pool\":{}}", "pool={\"strategy\":\"one_for_one\","
	    "\"max_restarts\":10,\"max_period_ms\":60000,\"on_give_up\":"
	    "\"stop\",\"auto_shutdown\":\"never\"};", NULL, NULL },
	{ "{\"z\":{\"strategy\":\"rest_for_one\"},\"a\":{\"strategy\":"
	    "\"one_for_all\",\"max_restarts\":0,\"max_period_ms\":5000,"
	    "\"on_give_up\":\"exit_daemon\",\"auto_shutdown\":\"any\"}}",
	    "a={\"strategy\":\"one_for_all\",\"max_restarts\":0,"
	    "\"max_period_ms\":5000,\"on_give_up\":\"exit_daemon\","
	    "\"auto_shutdown\":\"any\"};z={\"strategy\":\"rest_for_one\","
	    "\"max_restarts\":10,\"max_period_ms\":60000,\"on_give_up\":"
	    "\"stop\",\"auto_shutdown\":\"never\"};", NULL, NULL },
	{ "[]", NULL, "groups", "must be an object" },
	{ "{\"p\":[]}", NULL, "groups.p", "must be an object" },
	{ "{\"p\":{\"strategy\":\"simple_one_for_one\"}}", NULL,
	    "groups.p.strategy", "one_for_one, one_for_all or rest_for_one" },
	{ "{\"p\":{\"auto_shutdown\":\"any_significant\"}}", NULL,
	    "groups.p.auto_shutdown", "never, any or all" },
	{ "{\"p\":{\"on_give_up\":\"restart\"}}", NULL, "groups.p.on_give_up",
	    "stop, delete or exit_daemon" },
	{ "{\"p\":{\"max_restarts\":-1}}", NULL, "groups.p.max_restarts",
	    "from 0 to 10000" },
	{ "{\"p\":{\"max_restarts\":\"3\"}}", NULL, "groups.p.max_restarts",
	    "integer" },
	{ "{\"p\":{\"max_period_ms\":0}}", NULL, "groups.p.max_period_ms",
	    "from 1 to" },
	{ "{\"p\":{\"intensity\":1}}", NULL, "groups.p.intensity",
	    "unknown key" },
	{ "{\"\":{}}", NULL, "groups", "1 to 256 bytes" },
};

START_TEST(test_group_conf_table)
{
	json_error_t		 je;
	json_t			*in, *j;
	struct group_conf	*v = NULL;
	size_t			 n = 0, i;
	char			*field = NULL, *cause = NULL, *s, *all, *t;

	in = json_loads(conf_rows[_i].in, JSON_DECODE_ANY, &je);
	ck_assert_msg(in != NULL, "row %d: %s", _i, je.text);
	if (conf_rows[_i].out == NULL) {
		ck_assert_int_eq(group_conf_parse(in, &v, &n, &field, &cause),
		    -1);
		ck_assert_str_eq(field, conf_rows[_i].field);
		ck_assert_msg(strstr(cause, conf_rows[_i].msg) != NULL,
		    "row %d: %s", _i, cause);
		free(field);
		free(cause);
		json_decref(in);
		return;
	}
	ck_assert_msg(group_conf_parse(in, &v, &n, &field, &cause) == 0,
	    "row %d: %s", _i, cause);
	all = xstrdup("");
	for (i = 0; i < n; i++) {
		j = group_conf_json(&v[i]);
		s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
		xasprintf(&t, "%s%s=%s;", all, v[i].name, s);
		free(all);
		all = t;
		free(s);
		json_decref(j);
		ck_assert_ptr_eq(group_conf_find(v, n, v[i].name), &v[i]);
		ck_assert(group_conf_equal(&v[i], &v[i]));
	}
	ck_assert_str_eq(all, conf_rows[_i].out);
	ck_assert_ptr_null(group_conf_find(v, n, "nope"));
	free(all);
	group_confs_free(v, n);
	json_decref(in);
}
END_TEST

START_TEST(test_group_conf_bounds)
{
	json_t			*o = json_object();
	struct group_conf	*v = NULL;
	size_t			 n, i;
	char			*field = NULL, *cause = NULL, name[300];

	for (i = 0; i <= GROUP_MAX_GROUPS; i++) {
		snprintf(name, sizeof name, "g%zu", i);
		json_object_set_new(o, name, json_object());
	}
	ck_assert_int_eq(group_conf_parse(o, &v, &n, &field, &cause), -1);
	ck_assert(strstr(cause, "more than 4096") != NULL);
	free(field);
	free(cause);
	json_object_clear(o);
	memset(name, 'n', GROUP_MAX_NAME + 1);
	name[GROUP_MAX_NAME + 1] = '\0';
	json_object_set_new(o, name, json_object());
	ck_assert_int_eq(group_conf_parse(o, &v, &n, &field, &cause), -1);
	ck_assert_str_eq(field, "groups");
	free(field);
	free(cause);
	name[GROUP_MAX_NAME] = '\0';		/* exactly the bound */
	json_object_clear(o);
	json_object_set_new(o, name, json_pack("{s:s}", "strategy", "x"));
	ck_assert_int_eq(group_conf_parse(o, &v, &n, &field, &cause), -1);
	ck_assert_uint_eq(strlen(field), strlen("groups..strategy") +
	    GROUP_MAX_NAME);
	free(field);
	free(cause);
	json_decref(o);
}
END_TEST

/*
 * A new restart takes in the members the one in progress had yet to
 * start: rest_for_one, c dies while b (before it) waits to be started.
 */
START_TEST(test_group_restart_takes_pending)
{
	struct group_state	*g = mkgroup(GROUP_REST_FOR_ONE, 0, "a b c");
	char			*got;

	ck_assert_int_eq(crash(g, "b", 0), GROUP_RESTART);
	ck_assert_int_eq(group_seq_done(g, "c"), 0);	/* stop c: done */
	group_set_active(g, "c", false);
	/* Now at "start b"; c is started by hand and dies. */
	group_set_active(g, "c", true);
	got = walk(g, crash(g, "c", 10));
	ck_assert_str_eq(got, "restart: stop b, start b, start c");
	free(got);
	ck_assert(group_is_member(g, "b"));
	ck_assert(!group_is_member(g, "d"));
	group_free(g);
}
END_TEST

/* While the group is being ended, a member's own exit restarts nothing. */
START_TEST(test_group_ending)
{
	struct group_conf	 c = { (char *)"g", GROUP_ONE_FOR_ALL, 1,
	    60000, SPEC_GIVE_UP_STOP, GROUP_AUTO_NEVER };
	struct group_state	*g = group_new(&c);
	struct group_step	 st;
	char			*cause = NULL;

	ck_assert_int_eq(group_join(g, "a", SPEC_PERMANENT, false, &cause),
	    0);
	ck_assert_int_eq(group_join(g, "b", SPEC_PERMANENT, false, &cause),
	    0);
	ck_assert_int_eq(group_join(g, "c", SPEC_PERMANENT, false, &cause),
	    0);
	group_set_active(g, "a", true);
	group_set_active(g, "b", true);
	group_set_active(g, "c", true);
	ck_assert_int_eq(crash(g, "a", 0), GROUP_RESTART);
	while (group_seq_next(g, &st), st.kind != GROUP_STEP_NONE)
		ck_assert_int_eq(group_seq_done(g, st.name), 0);
	ck_assert_int_eq(crash(g, "a", 10), GROUP_GIVE_UP);
	group_seq_next(g, &st);
	ck_assert_int_eq(st.kind, GROUP_STEP_STOP);
	ck_assert_str_eq(st.name, "c");
	/* b dies on its own meanwhile: it stays down, the end goes on. */
	ck_assert_int_eq(crash(g, "b", 20), GROUP_ENDING);
	ck_assert_str_eq(group_verdict_name(GROUP_ENDING), "ending");
	group_seq_next(g, &st);
	ck_assert_int_eq(st.kind, GROUP_STEP_STOP);
	ck_assert_str_eq(st.name, "c");
	group_free(g);
}
END_TEST

Suite *
group_suite(void)
{
	Suite	*s = suite_create("group");
	TCase	*tc;

	tc = tcase_create("decide");
	tcase_add_loop_test(tc, test_group_table, 0, NROWS(rows));
	tcase_add_test(tc, test_group_intensity);
	tcase_add_test(tc, test_group_intensity_window_slides);
	tcase_add_test(tc, test_group_sequence_replaced);
	tcase_add_test(tc, test_group_auto_all);
	tcase_add_test(tc, test_group_members);
	tcase_add_test(tc, test_group_member_check);
	tcase_add_test(tc, test_group_exit_code);
	tcase_add_test(tc, test_group_restart_takes_pending);
	tcase_add_test(tc, test_group_ending);
	suite_add_tcase(s, tc);
	tc = tcase_create("conf");
	tcase_add_loop_test(tc, test_group_conf_table, 0, NROWS(conf_rows));
	tcase_add_test(tc, test_group_conf_bounds);
	suite_add_tcase(s, tc);
	return (s);
}
