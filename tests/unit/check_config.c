/* SPDX-License-Identifier: MIT */
/*
 * check_config: the childspec parser (accept and reject tables with the
 * exact dotted `field`), the normalised JSON and its round trip, and
 * config_load on temporary files.
 */
#include "config.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "gt/config.h"
#include "gt/group.h"
#include "gt/protocol.h"
#include "gt/spec.h"
#include "gt/xmalloc.h"

#include "check_unit.h"

/* Parse a test's JSON text (\u0000 allowed, to reach the NUL checks). */
static json_t *
load(const char *text)
{
	json_error_t	 je;
	json_t		*j;

	j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	ck_assert_msg(j != NULL, "bad test JSON %s: %s", text, je.text);
	return (j);
}

static struct childspec *
parse(const char *text, char **field, char **cause)
{
	struct childspec	*s;
	json_t			*j = load(text);

	*field = *cause = NULL;
	s = config_spec_parse(j, field, cause);
	json_decref(j);
	return (s);
}

#define SPEC(rest)	"{\"name\":\"a\",\"cmd\":[\"x\"]" rest "}"

static const struct {
	const char	*json;
	const char	*field;
} reject_rows[] = {
	{ "[]", "spec" },
	{ "\"name\"", "spec" },
	{ "{}", "name" },
	{ "{\"cmd\":[\"x\"]}", "name" },
	{ "{\"name\":\"a\"}", "cmd" },
	{ "{\"name\":\"\",\"cmd\":[\"x\"]}", "name" },
	{ "{\"name\":1,\"cmd\":[\"x\"]}", "name" },
	{ "{\"name\":null,\"cmd\":[\"x\"]}", "name" },
	{ "{\"name\":\"a\\u0000b\",\"cmd\":[\"x\"]}", "name" },
	{ "{\"name\":\"a\",\"cmd\":[]}", "cmd" },
	{ "{\"name\":\"a\",\"cmd\":[\"\"]}", "cmd" },
	{ "{\"name\":\"a\",\"cmd\":\"x\"}", "cmd" },
	{ "{\"name\":\"a\",\"cmd\":[\"x\",1]}", "cmd.1" },
	{ "{\"name\":\"a\",\"cmd\":[\"x\",\"y\",null]}", "cmd.2" },
	{ "{\"name\":\"a\",\"cmd\":[\"x\\u0000\"]}", "cmd.0" },
	{ SPEC(",\"bogus\":1"), "bogus" },
	{ SPEC(",\"Name\":\"b\""), "Name" },
	{ SPEC(",\"args\":\"y\""), "args" },
	{ SPEC(",\"args\":[\"y\",false]"), "args.1" },
	{ SPEC(",\"env\":[]"), "env" },
	{ SPEC(",\"env\":{\"FOO\":1}"), "env.FOO" },
	{ SPEC(",\"env\":{\"OK\":\"1\",\"FOO\":null}"), "env.FOO" },
	{ SPEC(",\"env\":{\"A=B\":\"x\"}"), "env.A=B" },
	{ SPEC(",\"env\":{\"\":\"x\"}"), "env." },
	{ SPEC(",\"env\":{\"FOO\":\"a\\u0000\"}"), "env.FOO" },
	{ SPEC(",\"clear_env\":1"), "clear_env" },
	{ SPEC(",\"clear_env\":\"true\""), "clear_env" },
	{ SPEC(",\"cwd\":\"srv\""), "cwd" },
	{ SPEC(",\"cwd\":\"\""), "cwd" },
	{ SPEC(",\"cwd\":1"), "cwd" },
	{ SPEC(",\"type\":\"boss\""), "type" },
	{ SPEC(",\"type\":1"), "type" },
	{ SPEC(",\"restart\":\"always\""), "restart" },
	{ SPEC(",\"restart\":\"Permanent\""), "restart" },
	{ SPEC(",\"restart_delay_ms\":-1"), "restart_delay_ms" },
	{ SPEC(",\"restart_delay_ms\":1.5"), "restart_delay_ms" },
	{ SPEC(",\"restart_delay_ms\":\"100\""), "restart_delay_ms" },
	{ SPEC(",\"restart_delay_ms\":1099511627777"), "restart_delay_ms" },
	{ SPEC(",\"success_exit_codes\":0"), "success_exit_codes" },
	{ SPEC(",\"success_exit_codes\":[0,256]"), "success_exit_codes.1" },
	{ SPEC(",\"success_exit_codes\":[-1]"), "success_exit_codes.0" },
	{ SPEC(",\"success_exit_codes\":[\"0\"]"), "success_exit_codes.0" },
	{ SPEC(",\"max_restarts\":-1"), "max_restarts" },
	{ SPEC(",\"max_restarts\":10001"), "max_restarts" },
	{ SPEC(",\"max_restarts\":true"), "max_restarts" },
	{ SPEC(",\"max_period_ms\":0"), "max_period_ms" },
	{ SPEC(",\"on_give_up\":\"explode\""), "on_give_up" },
	{ SPEC(",\"on_give_up\":null"), "on_give_up" },
	{ SPEC(",\"shutdown\":\"gentle\""), "shutdown" },
	{ SPEC(",\"shutdown\":5000"), "shutdown" },
	{ SPEC(",\"shutdown\":{\"bogus\":1}"), "shutdown.bogus" },
	{ SPEC(",\"shutdown\":{\"signal\":\"TERM\",\"x\":1}"), "shutdown.x" },
	{ SPEC(",\"shutdown\":{\"timeout_ms\":-5}"), "shutdown.timeout_ms" },
	{ SPEC(",\"shutdown\":{\"timeout_ms\":\"soon\"}"),
	    "shutdown.timeout_ms" },
	{ SPEC(",\"shutdown\":{\"timeout_ms\":1.5}"), "shutdown.timeout_ms" },
	{ SPEC(",\"shutdown\":{\"signal\":\"NOPE\"}"), "shutdown.signal" },
	{ SPEC(",\"shutdown\":{\"signal\":0}"), "shutdown.signal" },
	{ SPEC(",\"shutdown\":{\"signal\":65}"), "shutdown.signal" },
	{ SPEC(",\"shutdown\":{\"signal\":-9}"), "shutdown.signal" },
	{ SPEC(",\"shutdown\":{\"signal\":9.0}"), "shutdown.signal" },
	{ SPEC(",\"shutdown\":{\"signal\":null}"), "shutdown.signal" },
	{ SPEC(",\"reload_signal\":\"NOPE\""), "reload_signal" },
	{ SPEC(",\"reload_signal\":0"), "reload_signal" },
	{ SPEC(",\"reload_signal\":65"), "reload_signal" },
	{ SPEC(",\"reload_signal\":true"), "reload_signal" },
	{ SPEC(",\"reload_signal\":{}"), "reload_signal" },
	{ SPEC(",\"kill_group\":\"yes\""), "kill_group" },
	{ SPEC(",\"backoff\":[]"), "backoff" },
	{ SPEC(",\"backoff\":{\"factor\":0.5}"), "backoff.factor" },
	{ SPEC(",\"backoff\":{\"factor\":\"2\"}"), "backoff.factor" },
	{ SPEC(",\"backoff\":{\"max_ms\":-1}"), "backoff.max_ms" },
	{ SPEC(",\"backoff\":{\"reset_after_ms\":1.5}"),
	    "backoff.reset_after_ms" },
	{ SPEC(",\"backoff\":{\"jitter\":1.5}"), "backoff.jitter" },
	{ SPEC(",\"backoff\":{\"jitter\":-0.1}"), "backoff.jitter" },
	{ SPEC(",\"backoff\":{\"bogus\":1}"), "backoff.bogus" },
	{ SPEC(",\"on_exit\":[]"), "on_exit" },
	{ SPEC(",\"on_exit\":{}"), "on_exit" },
	{ SPEC(",\"on_exit\":[1]"), "on_exit.0" },
	{ SPEC(",\"on_exit\":[{}]"), "on_exit.0.action" },
	{ SPEC(",\"on_exit\":[{\"action\":\"explode\"}]"),
	    "on_exit.0.action" },
	{ SPEC(",\"on_exit\":[{\"action\":\"restart\",\"upto\":0}]"),
	    "on_exit.0.upto" },
	{ SPEC(",\"on_exit\":[{\"action\":\"restart\",\"delay_ms\":-1}]"),
	    "on_exit.0.delay_ms" },
	{ SPEC(",\"on_exit\":[{\"action\":\"stop\",\"bogus\":1}]"),
	    "on_exit.0.bogus" },
	{ SPEC(",\"on_exit\":[{\"upto\":3,\"action\":\"restart\"},"
	    "{\"upto\":3,\"action\":\"stop\"}]"), "on_exit.1.upto" },
	{ SPEC(",\"on_exit\":[{\"action\":\"restart\"},"
	    "{\"upto\":5,\"action\":\"stop\"}]"), "on_exit.1.upto" },
	{ SPEC(",\"on_exit\":[{\"action\":\"stop\",\"when\":\"exit\"}]"),
	    "on_exit.0.when" },
	{ SPEC(",\"on_exit\":[{\"action\":\"stop\",\"when\":1}]"),
	    "on_exit.0.when" },
	{ SPEC(",\"ready\":\"socket\""), "ready" },
	{ SPEC(",\"ready\":{\"fd\":2}"), "ready.fd" },
	{ SPEC(",\"ready\":{\"fd\":1024}"), "ready.fd" },
	{ SPEC(",\"ready\":{\"fd\":3,\"x\":1}"), "ready.x" },
	{ SPEC(",\"ready\":{\"x\":1}"), "ready.x" },
	{ SPEC(",\"ready\":{}"), "ready.fd" },
	{ SPEC(",\"ready\":{\"fd\":\"3\"}"), "ready.fd" },
	{ SPEC(",\"ready\":[3]"), "ready" },
	{ SPEC(",\"ready_timeout_ms\":0"), "ready_timeout_ms" },
	{ SPEC(",\"watchdog_ms\":-1"), "watchdog_ms" },
	{ SPEC(",\"after_terminate\":[]"), "after_terminate" },
	{ SPEC(",\"after_terminate\":[\"\"]"), "after_terminate" },
	{ SPEC(",\"after_terminate\":[\"x\",1]"), "after_terminate.1" },
	{ SPEC(",\"after_terminate\":\"x\""), "after_terminate" },
	{ SPEC(",\"hook_timeout_ms\":0"), "hook_timeout_ms" },
	{ SPEC(",\"attrs\":[]"), "attrs" },
	{ SPEC(",\"attrs\":{\"ok\":1,\"\":1}"), "attrs." },
	{ SPEC(",\"stdout\":\"pipe\""), "stdout" },
	{ SPEC(",\"stdout\":{\"file\":\"/x\",\"bogus\":1}"),
	    "stdout.bogus" },
	{ SPEC(",\"stdout\":{\"file\":\"x\"}"), "stdout.file" },
	{ SPEC(",\"stdout\":{\"file\":\"/x\",\"max_bytes\":-1}"),
	    "stdout.max_bytes" },
	{ SPEC(",\"stderr\":{}"), "stderr.file" },
	{ SPEC(",\"stderr\":{\"file\":\"/x\",\"keep\":101}"),
	    "stderr.keep" },
	{ SPEC(",\"rlimits\":[]"), "rlimits" },
	{ SPEC(",\"rlimits\":{\"bogus\":1}"), "rlimits.bogus" },
	{ SPEC(",\"rlimits\":{\"nofile\":-1}"), "rlimits.nofile" },
	{ SPEC(",\"rlimits\":{\"nofile\":\"lots\"}"), "rlimits.nofile" },
	{ SPEC(",\"limits\":[]"), "limits" },
	{ SPEC(",\"limits\":{\"memory_max\":1,\"bogus\":1}"),
	    "limits.bogus" },
	{ SPEC(",\"limits\":{\"cpu_weight\":0}"), "limits.cpu_weight" },
	/* The first bad key in object order is the one reported. */
	{ "{\"zzz\":1,\"name\":\"\",\"cmd\":[]}", "zzz" },
	{ "{\"cmd\":[\"x\",2],\"bogus\":1}", "cmd.1" },
};

START_TEST(test_config_spec_reject_table)
{
	struct childspec	*s;
	char			*field, *cause;

	s = parse(reject_rows[_i].json, &field, &cause);
	ck_assert_msg(s == NULL, "accepted %s", reject_rows[_i].json);
	ck_assert_msg(field != NULL && strcmp(field,
	    reject_rows[_i].field) == 0, "%s: field \"%s\", want \"%s\"",
	    reject_rows[_i].json, field, reject_rows[_i].field);
	ck_assert_msg(cause != NULL && *cause != '\0', "%s: no cause",
	    reject_rows[_i].json);
	free(field);
	free(cause);
}
END_TEST

/*
 * Over-long keys: the path names the key, cut to a bound but never
 * inside a UTF-8 sequence (an invalid string could not be sent back).
 */
START_TEST(test_config_spec_reject_long_keys)
{
	static const struct {
		const char	*obj;		/* the object holding the key */
		const char	*prefix;
		size_t		 max;		/* bytes of the key kept */
		const char	*unit;		/* repeated to make the key */
	} t[] = {
		{ "attrs", "attrs", GT_KEY_MAX, "k" },
		{ "attrs", "attrs", GT_KEY_MAX, "\xc3\xa9" },	/* e acute */
		{ "env", "env", GT_KEY_MAX, "\xc3\xa9" },
		{ "rlimits", "rlimits", 32, "\xe2\x82\xac" },	/* euro */
		{ "backoff", "backoff", GT_KEY_MAX, "\xe2\x82\xac" },
	};
	struct childspec	*s;
	json_t			*j, *f;
	char			*key, *field, *cause, *want;
	size_t			 i, n, len, keep;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		/* "a", then units past the bound; "a" shifts the cut. */
		len = strlen(t[i].unit);
		key = xmalloc(1 + (GT_KEY_MAX + 8) * len + 1);
		strcpy(key, "a");
		for (n = 0; n < GT_KEY_MAX + 8; n++)
			strcat(key, t[i].unit);
		j = json_pack("{s:s, s:[s], s:{s:i}}", "name", "a", "cmd", "x",
		    t[i].obj, key, 1);
		ck_assert_ptr_nonnull(j);
		s = config_spec_parse(j, &field, &cause);
		ck_assert_ptr_null(s);
		/* Whole units only: 1 + k * len <= max. */
		keep = 1 + (t[i].max - 1) / len * len;
		xasprintf(&want, "%s.%.*s", t[i].prefix, (int)keep, key);
		ck_assert_str_eq(field, want);
		ck_assert_ptr_nonnull(f = json_string(field));
		json_decref(f);
		free(want);
		free(field);
		free(cause);
		free(key);
		json_decref(j);
	}
}
END_TEST

START_TEST(test_config_spec_reject_long_name)
{
	struct childspec	*s;
	json_t			*j;
	char			*name, *field = NULL, *cause = NULL;

	name = xmalloc(GT_NAME_MAX + 2);
	memset(name, 'n', GT_NAME_MAX + 1);
	name[GT_NAME_MAX + 1] = '\0';
	j = json_pack("{s:s, s:[s]}", "name", name, "cmd", "x");
	ck_assert_ptr_null(config_spec_parse(j, &field, &cause));
	ck_assert_str_eq(field, "name");
	free(field);
	free(cause);
	/* Exactly GT_NAME_MAX bytes is fine. */
	name[GT_NAME_MAX] = '\0';
	json_object_set_new(j, "name", json_string(name));
	s = config_spec_parse(j, &field, &cause);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(strlen(s->name), GT_NAME_MAX);
	spec_free(s);
	json_decref(j);
	free(name);
}
END_TEST

/* Accepted specs and one field each must come out as given. */
enum acc_check { AC_SIGNAL, AC_TIMEOUT, AC_SHUTDOWN, AC_DELAY, AC_NCODES,
    AC_MAXR, AC_KILL_GROUP, AC_TYPE_SHUT, AC_RELOAD };

static const struct {
	const char	*json;
	enum acc_check	 what;
	int64_t		 want;
} accept_rows[] = {
	{ SPEC(",\"shutdown\":{\"signal\":\"SIGHUP\"}"), AC_SIGNAL, SIGHUP },
	{ SPEC(",\"shutdown\":{\"signal\":\"HUP\"}"), AC_SIGNAL, SIGHUP },
	{ SPEC(",\"shutdown\":{\"signal\":\"hup\"}"), AC_SIGNAL, SIGHUP },
	{ SPEC(",\"shutdown\":{\"signal\":1}"), AC_SIGNAL, SIGHUP },
	{ SPEC(",\"shutdown\":{\"signal\":\"1\"}"), AC_SIGNAL, SIGHUP },
	{ SPEC(",\"shutdown\":{\"signal\":\"USR2\"}"), AC_SIGNAL, SIGUSR2 },
	{ SPEC(""), AC_SIGNAL, SIGTERM },
	{ SPEC(""), AC_RELOAD, SIGHUP },
	{ SPEC(",\"reload_signal\":\"USR1\""), AC_RELOAD, SIGUSR1 },
	{ SPEC(",\"reload_signal\":\"SIGWINCH\""), AC_RELOAD, SIGWINCH },
	{ SPEC(",\"reload_signal\":10"), AC_RELOAD, 10 },
	{ SPEC(""), AC_TIMEOUT, 5000 },
	{ SPEC(",\"shutdown\":{\"timeout_ms\":0}"), AC_TIMEOUT, 0 },
	{ SPEC(",\"shutdown\":{\"timeout_ms\":1099511627776}"), AC_TIMEOUT,
	    SPEC_MAX_MS },
	{ SPEC(",\"shutdown\":{}"), AC_SHUTDOWN, SPEC_SHUT_SIGNAL },
	{ SPEC(",\"shutdown\":\"brutal_kill\""), AC_SHUTDOWN,
	    SPEC_SHUT_BRUTAL },
	{ SPEC(",\"shutdown\":\"infinity\""), AC_SHUTDOWN, SPEC_SHUT_INFINITY },
	{ SPEC(",\"shutdown\":{\"timeout_ms\":\"infinity\"}"), AC_SHUTDOWN,
	    SPEC_SHUT_INFINITY },
	{ SPEC(",\"restart_delay_ms\":0"), AC_DELAY, 0 },
	{ SPEC(",\"restart_delay_ms\":1099511627776"), AC_DELAY, SPEC_MAX_MS },
	{ SPEC(",\"success_exit_codes\":[]"), AC_NCODES, 0 },
	{ SPEC(",\"success_exit_codes\":[0,1,255]"), AC_NCODES, 3 },
	{ SPEC(",\"max_restarts\":0"), AC_MAXR, 0 },
	{ SPEC(",\"max_restarts\":10000"), AC_MAXR, 10000 },
	{ SPEC(",\"kill_group\":false"), AC_KILL_GROUP, 0 },
	/* A supervisor's default shutdown is infinity, an explicit one wins. */
	{ SPEC(",\"type\":\"supervisor\""), AC_TYPE_SHUT, SPEC_SHUT_INFINITY },
	{ SPEC(",\"type\":\"worker\""), AC_TYPE_SHUT, SPEC_SHUT_SIGNAL },
	{ SPEC(",\"type\":\"supervisor\",\"shutdown\":{\"timeout_ms\":10}"),
	    AC_TYPE_SHUT, SPEC_SHUT_SIGNAL },
	{ "{\"shutdown\":\"brutal_kill\",\"type\":\"supervisor\","
	    "\"name\":\"a\",\"cmd\":[\"x\"]}", AC_TYPE_SHUT, SPEC_SHUT_BRUTAL },
};

START_TEST(test_config_spec_accept_table)
{
	struct childspec	*s;
	char			*field, *cause;
	int64_t			 got = -1;

	s = parse(accept_rows[_i].json, &field, &cause);
	ck_assert_msg(s != NULL, "%s: %s: %s", accept_rows[_i].json, field,
	    cause);
	switch (accept_rows[_i].what) {
	case AC_SIGNAL:
		got = s->shutdown_signal;
		break;
	case AC_RELOAD:
		got = s->reload_signal;
		break;
	case AC_TIMEOUT:
		got = s->shutdown_timeout_ms;
		break;
	case AC_SHUTDOWN:
	case AC_TYPE_SHUT:
		got = s->shutdown;
		break;
	case AC_DELAY:
		got = s->restart_delay_ms;
		break;
	case AC_NCODES:
		got = (int64_t)s->nsuccess;
		break;
	case AC_MAXR:
		got = s->max_restarts;
		break;
	case AC_KILL_GROUP:
		got = s->kill_group;
		break;
	}
	ck_assert_msg(got == accept_rows[_i].want, "%s: %lld, want %lld",
	    accept_rows[_i].json, (long long)got,
	    (long long)accept_rows[_i].want);
	spec_free(s);
}
END_TEST

START_TEST(test_config_spec_full_parse)
{
	struct childspec	*s;
	char			*field, *cause;

	s = parse("{\"name\":\"web\",\"cmd\":[\"nginx\",\"-g\"],"
	    "\"args\":[\"daemon off;\"],\"env\":{\"A\":\"1\",\"B\":\"x=y\"},"
	    "\"clear_env\":true,\"cwd\":\"/srv\",\"restart\":\"transient\","
	    "\"on_give_up\":\"exit_daemon\",\"max_period_ms\":5,"
	    "\"attrs\":{\"role\":\"front\",\"n\":2,\"r\":0.5,\"l\":[1]}}",
	    &field, &cause);
	ck_assert_msg(s != NULL, "%s: %s", field, cause);
	ck_assert_str_eq(s->name, "web");
	ck_assert_uint_eq(s->ncmd, 2);
	ck_assert_str_eq(s->cmd[1], "-g");
	ck_assert_uint_eq(s->nargs, 1);
	ck_assert_str_eq(s->args[0], "daemon off;");
	ck_assert_uint_eq(s->nenv, 2);
	ck_assert_str_eq(s->env[0], "A=1");
	ck_assert_str_eq(s->env[1], "B=x=y");
	ck_assert(s->clear_env);
	ck_assert_str_eq(s->cwd, "/srv");
	ck_assert_int_eq(s->restart, SPEC_TRANSIENT);
	ck_assert_int_eq(s->on_give_up, SPEC_GIVE_UP_EXIT);
	ck_assert_int_eq(s->max_period_ms, 5);
	ck_assert_uint_eq(s->nattrs, 4);
	ck_assert_str_eq(s->attrs[0].key, "role");
	ck_assert_int_eq(s->attrs[0].v.type, VALUE_TEXT);
	ck_assert_str_eq(s->attrs[0].v.s, "front");
	ck_assert_int_eq(s->attrs[1].v.type, VALUE_INT);
	ck_assert_int_eq(s->attrs[1].v.i, 2);
	ck_assert_int_eq(s->attrs[2].v.type, VALUE_REAL);
	ck_assert_int_eq(s->attrs[3].v.type, VALUE_JSON);
	ck_assert_str_eq(s->attrs[3].v.s, "[1]");
	spec_free(s);
}
END_TEST

/* The normalised spec of the minimal one: every default, by name. */
START_TEST(test_config_spec_json_defaults)
{
	struct childspec	*s;
	json_t			*got, *want;
	char			*field, *cause, *text;

	s = parse(SPEC(""), &field, &cause);
	ck_assert_ptr_nonnull(s);
	got = config_spec_json(s);
	want = load("{\"name\":\"a\",\"cmd\":[\"x\"],\"args\":[],\"env\":{},"
	    "\"clear_env\":false,\"cwd\":\"/\",\"type\":\"worker\","
	    "\"restart\":\"permanent\",\"restart_delay_ms\":100,"
	    "\"success_exit_codes\":[0],\"max_restarts\":10,"
	    "\"max_period_ms\":60000,\"on_give_up\":\"stop\","
	    "\"shutdown\":{\"signal\":\"SIGTERM\",\"timeout_ms\":5000},"
	    "\"kill_group\":true,\"attrs\":{},"
	    "\"backoff\":{\"factor\":2.0,\"max_ms\":30000,"
	    "\"reset_after_ms\":10000,\"jitter\":0.1},\"ready\":\"exec\","
	    "\"ready_timeout_ms\":30000,\"watchdog_ms\":0,"
	    "\"hook_timeout_ms\":5000,\"stdout\":\"log\","
	    "\"stderr\":\"log\",\"reload_signal\":\"SIGHUP\"}");
	text = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
	ck_assert_msg(json_equal(got, want), "got %s", text);
	free(text);
	/* config_spec_text is the same object on one line. */
	text = config_spec_text(s);
	ck_assert_ptr_null(strchr(text, '\n'));
	json_decref(want);
	want = load(text);
	ck_assert(json_equal(got, want));
	free(text);
	json_decref(got);
	json_decref(want);
	spec_free(s);
}
END_TEST

/* Field-by-field equality of two specs; names the first difference. */
static const char *
spec_diff(const struct childspec *a, const struct childspec *b)
{
	size_t	i;

#define DIFF(c, f)	do { if (c) return (f); } while (0)
	DIFF(strcmp(a->name, b->name) != 0, "name");
	DIFF(a->ncmd != b->ncmd || a->nargs != b->nargs || a->nenv != b->nenv,
	    "vector sizes");
	for (i = 0; i < a->ncmd; i++)
		DIFF(strcmp(a->cmd[i], b->cmd[i]) != 0, "cmd");
	for (i = 0; i < a->nargs; i++)
		DIFF(strcmp(a->args[i], b->args[i]) != 0, "args");
	for (i = 0; i < a->nenv; i++)
		DIFF(strcmp(a->env[i], b->env[i]) != 0, "env");
	DIFF(a->clear_env != b->clear_env, "clear_env");
	DIFF(strcmp(a->cwd, b->cwd) != 0, "cwd");
	DIFF(a->type != b->type, "type");
	DIFF(a->restart != b->restart, "restart");
	DIFF(a->restart_delay_ms != b->restart_delay_ms, "restart_delay_ms");
	DIFF(a->nsuccess != b->nsuccess, "nsuccess");
	for (i = 0; i < a->nsuccess; i++)
		DIFF(a->success_codes[i] != b->success_codes[i], "success");
	DIFF(a->max_restarts != b->max_restarts, "max_restarts");
	DIFF(a->max_period_ms != b->max_period_ms, "max_period_ms");
	DIFF(a->on_give_up != b->on_give_up, "on_give_up");
	DIFF(a->backoff_factor != b->backoff_factor, "backoff.factor");
	DIFF(a->backoff_max_ms != b->backoff_max_ms, "backoff.max_ms");
	DIFF(a->backoff_reset_ms != b->backoff_reset_ms,
	    "backoff.reset_after_ms");
	DIFF(a->backoff_jitter != b->backoff_jitter, "backoff.jitter");
	DIFF(a->non_exit != b->non_exit || (a->on_exit == NULL) !=
	    (b->on_exit == NULL), "on_exit");
	for (i = 0; i < a->non_exit; i++) {
		DIFF(a->on_exit[i].upto != b->on_exit[i].upto, "on_exit.upto");
		DIFF(a->on_exit[i].action != b->on_exit[i].action,
		    "on_exit.action");
		DIFF(a->on_exit[i].action == SPEC_ACT_RESTART &&
		    a->on_exit[i].delay_ms != b->on_exit[i].delay_ms,
		    "on_exit.delay_ms");
	}
	DIFF(a->ready != b->ready || a->ready_fd != b->ready_fd, "ready");
	DIFF(a->ready_timeout_ms != b->ready_timeout_ms, "ready_timeout_ms");
	DIFF(a->watchdog_ms != b->watchdog_ms, "watchdog_ms");
	DIFF(a->nhook != b->nhook || (a->after_terminate == NULL) !=
	    (b->after_terminate == NULL), "after_terminate");
	for (i = 0; i < a->nhook; i++)
		DIFF(strcmp(a->after_terminate[i], b->after_terminate[i]) != 0,
		    "after_terminate");
	DIFF(a->hook_timeout_ms != b->hook_timeout_ms, "hook_timeout_ms");
	DIFF(a->shutdown != b->shutdown, "shutdown");
	DIFF(a->shutdown_signal != b->shutdown_signal, "shutdown.signal");
	DIFF(a->reload_signal != b->reload_signal, "reload_signal");
	DIFF(a->shutdown != SPEC_SHUT_INFINITY && a->shutdown_timeout_ms !=
	    b->shutdown_timeout_ms, "shutdown.timeout_ms");
	DIFF(a->kill_group != b->kill_group, "kill_group");
	DIFF(a->nattrs != b->nattrs, "nattrs");
	for (i = 0; i < a->nattrs; i++) {
		DIFF(strcmp(a->attrs[i].key, b->attrs[i].key) != 0, "attrs");
		DIFF(a->attrs[i].v.type != b->attrs[i].v.type, "attr type");
	}
#undef DIFF
	return (NULL);
}

static const char *round_trip_rows[] = {
	SPEC(""),
	"{\"name\":\"web\",\"cmd\":[\"nginx\",\"-g\"],\"args\":[\"a b\",\"\"],"
	    "\"env\":{\"A\":\"1\",\"B\":\"x=y\",\"C\":\"\"},\"clear_env\":true,"
	    "\"cwd\":\"/srv\",\"type\":\"worker\",\"restart\":\"transient\","
	    "\"restart_delay_ms\":0,\"success_exit_codes\":[0,3,255],"
	    "\"max_restarts\":0,\"max_period_ms\":1,\"on_give_up\":\"delete\","
	    "\"shutdown\":{\"signal\":\"HUP\",\"timeout_ms\":0},"
	    "\"kill_group\":false,\"attrs\":{\"s\":\"t\",\"i\":-5,\"r\":0.25,"
	    "\"b\":true,\"n\":null,\"a\":[1,{\"x\":[]}],\"o\":{}}}",
	SPEC(",\"type\":\"supervisor\""),
	SPEC(",\"shutdown\":\"brutal_kill\",\"on_give_up\":\"exit_daemon\""),
	SPEC(",\"success_exit_codes\":[]"),
	SPEC(",\"backoff\":{\"factor\":1.5,\"max_ms\":0,\"reset_after_ms\":0,"
	    "\"jitter\":1},\"ready\":{\"fd\":3},\"ready_timeout_ms\":1,"
	    "\"watchdog_ms\":250,\"after_terminate\":[\"/bin/hook\",\"-v\"],"
	    "\"hook_timeout_ms\":1"),
	SPEC(",\"ready\":\"notify\",\"backoff\":{\"factor\":1},"
	    "\"on_exit\":[{\"upto\":3,\"action\":\"restart\"},"
	    "{\"upto\":4,\"action\":\"restart\",\"delay_ms\":1000},"
	    "{\"action\":\"exit_daemon\"}]"),
	SPEC(",\"on_exit\":[{\"upto\":1,\"action\":\"stop\"},"
	    "{\"upto\":2,\"action\":\"delete\"}]"),
	SPEC(",\"shutdown\":{\"signal\":\"USR1\",\"timeout_ms\":\"infinity\"}"),
	SPEC(",\"member_of\":\"pool\",\"restart\":\"transient\","
	    "\"significant\":true"),
	("{\"name\":\"snow\\u2603man\",\"cmd\":[\"x\"],"
	    "\"env\":{\"\\u00e9\":\"\\n\"}}"),
};

/* parse(json(spec)) is the same spec, and json of it the same JSON. */
START_TEST(test_config_spec_round_trip)
{
	struct childspec	*s1, *s2;
	json_t			*j1, *j2;
	char			*field, *cause, *text;
	const char		*diff;

	s1 = parse(round_trip_rows[_i], &field, &cause);
	ck_assert_msg(s1 != NULL, "row %d: %s: %s", _i, field, cause);
	j1 = config_spec_json(s1);
	ck_assert_ptr_nonnull(j1);
	s2 = config_spec_parse(j1, &field, &cause);
	text = json_dumps(j1, JSON_COMPACT);
	ck_assert_msg(s2 != NULL, "normalised spec rejected: %s: %s: %s", text,
	    field, cause);
	diff = spec_diff(s1, s2);
	ck_assert_msg(diff == NULL, "row %d: %s differs after %s", _i, diff,
	    text);
	j2 = config_spec_json(s2);
	ck_assert_msg(json_equal(j1, j2), "row %d: JSON changed", _i);
	free(text);
	json_decref(j1);
	json_decref(j2);
	spec_free(s1);
	spec_free(s2);
}
END_TEST

/* Write text to a new temporary file; the caller unlinks and frees. */
static char *
tmp_config(const char *text)
{
	char	*path;
	int	 fd;

	path = xstrdup("/tmp/gtd-check-config-XXXXXX");
	ck_assert_int_ne(fd = mkstemp(path), -1);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return (path);
}

static struct config *
load_config(const char *text, char **field, char **cause)
{
	struct config	*c;
	char		*path = tmp_config(text);

	*field = *cause = NULL;
	c = config_load(path, field, cause);
	unlink(path);
	free(path);
	return (c);
}

static const struct {
	const char	*json;
	const char	*field;
} load_reject_rows[] = {
	{ "[]", "" },
	{ "{", "" },
	{ "", "" },
	{ "{\"zone\":\"a\",\"zone\":\"b\"}", "" },	/* duplicate key */
	{ "{\"bogus\":1}", "bogus" },
	{ "{\"zone\":\"z\",\"Children\":[]}", "Children" },
	{ "{\"zone\":1}", "zone" },
	{ "{\"zone\":\"0123456789012345678901234567890123456789012345678901"
	    "2345678901234\"}", "zone" },
	{ "{\"socket\":[]}", "socket" },
	{ "{\"children\":{}}", "children" },
	{ "{\"children\":[1]}", "children.0.spec" },
	{ "{\"children\":[{\"name\":\"a\",\"cmd\":[\"x\",1]}]}",
	    "children.0.cmd.1" },
	{ "{\"children\":[{\"name\":\"a\",\"cmd\":[\"x\"]},{\"name\":\"b\","
	    "\"cmd\":[\"x\"],\"shutdown\":{\"timeout_ms\":-1}}]}",
	    "children.1.shutdown.timeout_ms" },
	{ "{\"children\":[{\"name\":\"a\",\"cmd\":[\"x\"]},{\"name\":\"a\","
	    "\"cmd\":[\"y\"]}]}", "children.1.name" },
	{ "{\"children\":[{\"name\":\"a\",\"cmd\":[\"x\"]},{\"name\":\"b\","
	    "\"cmd\":[\"y\"]},{\"name\":\"b\",\"cmd\":[\"z\"]}]}",
	    "children.2.name" },
	{ "{\"max_connections\":0}", "max_connections" },
	{ "{\"max_connections\":100001}", "max_connections" },
	{ "{\"max_connections\":\"1024\"}", "max_connections" },
	{ "{\"max_request_bytes\":63}", "max_request_bytes" },
	{ "{\"max_request_bytes\":67108865}", "max_request_bytes" },
	{ "{\"max_children\":0}", "max_children" },
	{ "{\"max_children\":10000001}", "max_children" },
	{ "{\"max_attrs\":0}", "max_attrs" },
	{ "{\"max_attrs\":1000001}", "max_attrs" },
	{ "{\"max_attrs\":1.5}", "max_attrs" },
	{ "{\"log_level\":\"loud\"}", "log_level" },
	{ "{\"log_level\":2}", "log_level" },
	{ "{\"cgroup\":1}", "cgroup" },
	{ "{\"cgroup\":\"sys/fs/cgroup\"}", "cgroup" },
	/* OTP groups (member_of, significant). */
	{ "{\"groups\":[]}", "groups" },
	{ "{\"groups\":{\"g\":{\"strategy\":\"x\"}}}",
	    "groups.g.strategy" },
	{ "{\"children\":[{\"name\":\"a\",\"cmd\":[\"x\"],"
	    "\"member_of\":\"g\"}]}", "children.0.member_of" },
	{ "{\"groups\":{\"g\":{}},\"children\":[{\"name\":\"a\","
	    "\"cmd\":[\"x\"]},{\"name\":\"b\",\"cmd\":[\"x\"],"
	    "\"member_of\":\"h\"}]}", "children.1.member_of" },
	{ "{\"groups\":{\"g\":{}},\"children\":[{\"name\":\"a\","
	    "\"cmd\":[\"x\"],\"member_of\":\"g\",\"restart\":"
	    "\"temporary\",\"significant\":true}]}",
	    "children.0.significant" },
	{ "{\"groups\":{\"g\":{\"auto_shutdown\":\"any\"}},"
	    "\"children\":[{\"name\":\"a\",\"cmd\":[\"x\"],"
	    "\"member_of\":\"g\",\"significant\":true}]}",
	    "children.0.significant" },
	{ "{\"children\":[{\"name\":\"a\",\"cmd\":[\"x\"],"
	    "\"significant\":true}]}", "children.0.significant" },
	{ "{\"templates\":{\"t\":{\"significant\":true,\"restart\":"
	    "\"temporary\"}},\"children\":[{\"name\":\"a\","
	    "\"template\":\"t\",\"cmd\":[\"x\"]}]}",
	    "children.0.significant" },
	{ "{\"children\":[{\"name\":\"a\",\"cmd\":[\"x\"],"
	    "\"member_of\":\"\"}]}", "children.0.member_of" },
	{ "{\"children\":[{\"name\":\"a\",\"cmd\":[\"x\"],"
	    "\"member_of\":1}]}", "children.0.member_of" },
};

START_TEST(test_config_load_reject_table)
{
	struct config	*c;
	char		*field, *cause;

	c = load_config(load_reject_rows[_i].json, &field, &cause);
	ck_assert_msg(c == NULL, "accepted %s", load_reject_rows[_i].json);
	ck_assert_msg(field != NULL && strcmp(field,
	    load_reject_rows[_i].field) == 0, "%s: field \"%s\", want \"%s\"",
	    load_reject_rows[_i].json, field, load_reject_rows[_i].field);
	ck_assert_msg(cause != NULL && *cause != '\0', "no cause");
	free(field);
	free(cause);
}
END_TEST

START_TEST(test_config_load_defaults)
{
	struct config	*c;
	char		*field, *cause;

	c = load_config("{}", &field, &cause);
	ck_assert_msg(c != NULL, "%s: %s", field, cause);
	ck_assert_ptr_null(c->zone);
	ck_assert_ptr_null(c->socket);
	ck_assert_uint_eq(c->nchildren, 0);
	ck_assert_uint_eq(c->lim.max_request_bytes, GT_REQUEST_MAX);
	ck_assert_uint_eq(c->lim.max_output_bytes, GT_OUTPUT_MAX);
	ck_assert_int_eq(c->lim.max_connections, GT_CONN_MAX);
	ck_assert_int_eq(c->lim.max_children, GT_CHILDREN_MAX);
	ck_assert_int_eq(c->lim.max_attrs, GT_ATTRS_MAX);
	ck_assert_int_eq(c->log_level, LOG_LVL_INFO);
	config_free(c);
	config_free(NULL);
}
END_TEST

START_TEST(test_config_load_full)
{
	struct config	*c;
	char		*field, *cause;

	c = load_config("{\"zone\":\"prod\",\"socket\":\"/tmp/x.sock\","
	    "\"max_connections\":1,\"max_request_bytes\":64,"
	    "\"max_children\":10000000,\"max_attrs\":1000000,"
	    "\"log_level\":\"debug\",\"children\":["
	    "{\"name\":\"b\",\"cmd\":[\"x\"]},"
	    "{\"name\":\"a\",\"cmd\":[\"y\"],\"type\":\"supervisor\"}]}",
	    &field, &cause);
	ck_assert_msg(c != NULL, "%s: %s", field, cause);
	ck_assert_str_eq(c->zone, "prod");
	ck_assert_str_eq(c->socket, "/tmp/x.sock");
	ck_assert_int_eq(c->lim.max_connections, 1);
	ck_assert_uint_eq(c->lim.max_request_bytes, 64);
	ck_assert_int_eq(c->lim.max_children, 10000000);
	ck_assert_int_eq(c->lim.max_attrs, 1000000);
	ck_assert_int_eq(c->log_level, LOG_LVL_DEBUG);
	/* Boot order is file order. */
	ck_assert_uint_eq(c->nchildren, 2);
	ck_assert_str_eq(c->children[0]->name, "b");
	ck_assert_str_eq(c->children[1]->name, "a");
	ck_assert_int_eq(c->children[1]->shutdown, SPEC_SHUT_INFINITY);
	config_free(c);
	c = load_config("{\"log_level\":\"warning\","
	    "\"max_request_bytes\":67108864}", &field, &cause);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->log_level, LOG_LVL_WARN);
	ck_assert_uint_eq(c->lim.max_request_bytes, 64 << 20);
	config_free(c);
}
END_TEST

/* The groups examples of contrib/ load, with their groups and members. */
START_TEST(test_config_load_group_examples)
{
	struct config	*c;
	char		*field = NULL, *cause = NULL;

	c = config_load("contrib/pool.json", &field, &cause);
	ck_assert_msg(c != NULL, "contrib/pool.json: %s: %s", field, cause);
	ck_assert_uint_eq(c->ngroups, 1);
	ck_assert_str_eq(c->groups[0].name, "pool");
	ck_assert_int_eq(c->groups[0].strategy, GROUP_ONE_FOR_ALL);
	ck_assert_str_eq(c->children[0]->member_of, "pool");
	ck_assert_ptr_null(c->children[3]->member_of);
	config_free(c);
	c = config_load("contrib/container.json", &field, &cause);
	ck_assert_msg(c != NULL, "contrib/container.json: %s: %s", field,
	    cause);
	ck_assert_int_eq(c->groups[0].on_give_up, SPEC_GIVE_UP_EXIT);
	ck_assert_int_eq(c->groups[0].auto_shutdown, GROUP_AUTO_ANY);
	ck_assert(c->children[1]->significant);
	config_free(c);
	/* A template may say significant; its instances name the group. */
	c = load_config("{\"groups\":{\"g\":{\"auto_shutdown\":\"all\"}},"
	    "\"templates\":{\"t\":{\"significant\":true,\"restart\":"
	    "\"temporary\",\"cmd\":[\"x\"]}},\"children\":[{\"name\":"
	    "\"a\",\"template\":\"t\",\"member_of\":\"g\"}]}", &field,
	    &cause);
	ck_assert_msg(c != NULL, "%s: %s", field, cause);
	ck_assert(c->children[0]->significant);
	config_free(c);
}
END_TEST

START_TEST(test_config_load_missing_file)
{
	struct config	*c;
	char		*field = NULL, *cause = NULL;

	c = config_load("/nonexistent/gtd-check.json", &field, &cause);
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, "/nonexistent/gtd-check.json") != NULL,
	    "cause does not name the file: %s", cause);
	free(field);
	free(cause);
}
END_TEST

START_TEST(test_config_default_limits)
{
	struct gtd_limits	l;

	memset(&l, 0xff, sizeof l);
	config_default_limits(&l);
	ck_assert_uint_eq(l.max_request_bytes, 1024 * 1024);
	ck_assert_uint_eq(l.max_output_bytes, 16 * 1024 * 1024);
	ck_assert_int_eq(l.max_connections, 1024);
	ck_assert_int_eq(l.max_children, GT_CHILDREN_MAX);
	ck_assert_int_eq(l.max_attrs, 1000);
}
END_TEST


/* A string of n 'x' (caller frees). */
static char *
xs(size_t n)
{
	char	*p = xmalloc(n + 1);

	memset(p, 'x', n);
	p[n] = '\0';
	return (p);
}

/* A spec {"name":"a","cmd":["x"]} with key set to v (stolen). */
static json_t *
spec_with(const char *key, json_t *v)
{
	json_t	*j = json_pack("{s:s, s:[s]}", "name", "a", "cmd", "x");

	json_object_set_new(j, key, v);
	return (j);
}

/* An array of n strings of len bytes. */
static json_t *
strings(size_t n, size_t len)
{
	json_t	*a = json_array();
	char	*p = xs(len);

	while (n-- > 0)
		json_array_append_new(a, json_string(p));
	free(p);
	return (a);
}

/* An object of n keys K0.. with values of len bytes. */
static json_t *
strobj(size_t n, size_t len)
{
	json_t	*o = json_object();
	char	*p = xs(len), k[16];
	size_t	 i;

	for (i = 0; i < n; i++) {
		snprintf(k, sizeof k, "K%zu", i);
		json_object_set_new(o, k, json_string(p));
	}
	free(p);
	return (o);
}

/* One row per bound of spec.h: the spec and the field it must name. */
static void
limit_row(int i, json_t **j, const char **field)
{
	const size_t	arg = SPEC_MAX_ARG_BYTES, big = 120000;
	/* Nine of 120000 bytes pass each entry's bound, not the total's. */
	const size_t	nbig = SPEC_MAX_ARGV_BYTES / big + 1;

	switch (i) {
	case 0:
		*j = json_pack("{s:s, s:o}", "name", "a", "cmd",
		    strings(1, arg + 1));
		*field = "cmd.0";
		break;
	case 1:
		*j = spec_with("args", strings(2, arg + 1));
		*field = "args.0";
		break;
	case 2:
		*j = spec_with("args", strings(nbig, big));
		*field = "args";
		break;
	case 3:
		*j = spec_with("env", strobj(1, arg + 1 - 3));	/* K0= */
		*field = "env.K0";
		break;
	case 4:
		*j = spec_with("env", strobj(nbig, big));
		*field = "env";
		break;
	case 5:
		*j = spec_with("after_terminate", strings(1, arg + 1));
		*field = "after_terminate.0";
		break;
	case 6:
		*j = spec_with("after_terminate", strings(nbig, big));
		*field = "after_terminate";
		break;
	case 7:
		*j = spec_with("attrs", strobj(1, SPEC_MAX_VALUE_BYTES + 1));
		*field = "attrs.K0";
		break;
	case 8:
		*j = spec_with("attrs", strobj(SPEC_MAX_ATTRS_BYTES /
		    SPEC_MAX_VALUE_BYTES + 1, SPEC_MAX_VALUE_BYTES));
		*field = "attrs";
		break;
	case 9:
		*j = spec_with("args", strings(SPEC_MAX_ARGV, 1));
		*field = "args";
		break;
	case 10:
		*j = spec_with("env", strobj(SPEC_MAX_ENV + 1, 1));
		*field = "env";
		break;
	case 11:
		*j = spec_with("after_terminate", strings(SPEC_MAX_ARGV + 1,
		    1));
		*field = "after_terminate";
		break;
	case 12:
		*j = spec_with("attrs", strobj(GT_ATTRS_MAX + 1, 1));
		*field = "attrs";
		break;
	default:
		ck_abort_msg("no row %d", i);
	}
}
#define LIMIT_ROWS	13

START_TEST(test_config_spec_limits)
{
	struct childspec	*s;
	json_t			*j;
	const char		*want;
	char			*field = NULL, *cause = NULL;

	limit_row(_i, &j, &want);
	s = config_spec_parse(j, &field, &cause);
	json_decref(j);
	ck_assert_msg(s == NULL, "row %d (%s) accepted", _i, want);
	ck_assert_msg(field != NULL && strcmp(field, want) == 0,
	    "row %d: field %s, want %s (%s)", _i, field, want, cause);
	free(field);
	free(cause);
}
END_TEST

/* Right at each bound a spec is accepted. */
START_TEST(test_config_spec_limits_exact)
{
	struct childspec	*s;
	json_t			*j;
	char			*field = NULL, *cause = NULL;
	size_t			 n = SPEC_MAX_ARGV_BYTES / SPEC_MAX_ARG_BYTES;

	j = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o}", "name", "a",
	    "cmd", strings(1, SPEC_MAX_ARG_BYTES),
	    "args", strings(n - 1, SPEC_MAX_ARG_BYTES),
	    "env", strobj(1, SPEC_MAX_ARG_BYTES - 3),
	    "after_terminate", strings(n, SPEC_MAX_ARG_BYTES),
	    "attrs", strobj(SPEC_MAX_ATTRS_BYTES / SPEC_MAX_VALUE_BYTES - 1,
	    SPEC_MAX_VALUE_BYTES));
	s = config_spec_parse(j, &field, &cause);
	json_decref(j);
	ck_assert_msg(s != NULL, "%s: %s", field, cause);
	ck_assert_uint_eq(strlen(s->env[0]), SPEC_MAX_ARG_BYTES);
	spec_free(s);
}
END_TEST

/* The env of spec s as "A=1 B=2", in the order of the merge. */
static char *
env_text(const struct childspec *s)
{
	json_t		*j = config_spec_json(s), *v;
	const char	*k;
	char		*out = xstrdup(""), *t;

	json_object_foreach(json_object_get(j, "env"), k, v) {
		xasprintf(&t, "%s%s%s=%s", out, *out == '\0' ? "" : " ", k,
		    json_string_value(v));
		free(out);
		out = t;
	}
	json_decref(j);
	return (out);
}

/* env merges per key: defaults < template < instance; null removes. */
START_TEST(test_config_env_merge)
{
	struct config_tpl	 tpl;
	struct childspec	*s;
	json_t			*inst;
	char			*field = NULL, *cause = NULL, *env;

	tpl.defaults = load("{\"env\":{\"A\":\"d\",\"B\":\"d\",\"K\":\"d\"}}");
	tpl.templates = load("{\"t\":{\"cmd\":[\"x\"],"
	    "\"env\":{\"B\":\"t\",\"C\":\"t\",\"K\":null}}}");
	inst = load("{\"name\":\"i\",\"template\":\"t\","
	    "\"env\":{\"C\":\"i\",\"D\":\"i\",\"A\":null}}");
	s = config_spec_build(&tpl, inst, &field, &cause);
	ck_assert_msg(s != NULL, "%s: %s", field, cause);
	env = env_text(s);
	ck_assert_str_eq(env, "B=t C=i D=i");
	free(env);
	spec_free(s);
	json_decref(inst);

	/* No template: the defaults' env and the child's own. */
	inst = load("{\"name\":\"j\",\"cmd\":[\"x\"],\"env\":{\"E\":\"j\"}}");
	s = config_spec_build(&tpl, inst, &field, &cause);
	ck_assert_msg(s != NULL, "%s: %s", field, cause);
	env = env_text(s);
	ck_assert_str_eq(env, "A=d B=d K=d E=j");
	free(env);
	spec_free(s);
	json_decref(inst);

	/* No env of its own: the layers' env still applies. */
	inst = load("{\"name\":\"k\",\"template\":\"t\"}");
	s = config_spec_build(&tpl, inst, &field, &cause);
	ck_assert_msg(s != NULL, "%s: %s", field, cause);
	env = env_text(s);
	ck_assert_str_eq(env, "A=d B=t C=t");
	free(env);
	spec_free(s);
	json_decref(inst);

	/* A non-object env is still named. */
	inst = load("{\"name\":\"l\",\"template\":\"t\",\"env\":[\"A=1\"]}");
	ck_assert_ptr_null(config_spec_build(&tpl, inst, &field, &cause));
	ck_assert_str_eq(field, "env");
	free(field);
	free(cause);
	json_decref(inst);
	config_tpl_clear(&tpl);
}
END_TEST

/* Config files: regular files only, bounded (a FIFO used to hang). */

static char	fdir[] = "/tmp/gtd-check-files-XXXXXX";

/* DIR/name in one of two buffers, so that two may be arguments. */
static const char *
fpath(const char *name)
{
	static char	buf[2][256];
	static int	k;

	k = !k;
	snprintf(buf[k], sizeof buf[k], "%s/%s", fdir, name);
	return (buf[k]);
}

static void
fwrite_text(const char *name, const char *text)
{
	FILE	*f;

	ck_assert_ptr_nonnull(f = fopen(fpath(name), "w"));
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

static void
files_setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(fdir));
	ck_assert_int_eq(mkdir(fpath("inc"), 0755), 0);
	fwrite_text("inc/a.json", "{\"name\":\"a\",\"cmd\":[\"x\"]}");
}

/* Remove everything a test made (the names are fixed). */
static void
files_teardown(void)
{
	static const char *const	names[] = { "inc/a.json", "inc/b.json",
	    "inc/c.json", "real.json", "fifo", "big.json", "conf.json", "inc",
	    "sub.json", NULL };
	int				i;

	for (i = 0; names[i] != NULL; i++)
		if (unlink(fpath(names[i])) == -1)
			rmdir(fpath(names[i]));
	rmdir(fdir);
}

/* config_load of {"include": DIR/inc}: NULL or the config. */
static struct config *
load_inc(char **field, char **cause)
{
	char	text[512];

	snprintf(text, sizeof text, "{\"include\":\"%s\"}", fpath("inc"));
	fwrite_text("conf.json", text);
	*field = *cause = NULL;
	return (config_load(fpath("conf.json"), field, cause));
}

/* Refused with field and a cause naming the file and containing what. */
static void
refused(struct config *c, char *field, char *cause, const char *want_field,
    const char *file, const char *what)
{
	ck_assert_msg(c == NULL, "accepted");
	ck_assert_msg(field != NULL && strcmp(field, want_field) == 0,
	    "field %s, want %s", field, want_field);
	ck_assert_msg(cause != NULL && strstr(cause, file) != NULL &&
	    strstr(cause, what) != NULL, "cause \"%s\" lacks %s or %s", cause,
	    file, what);
	free(field);
	free(cause);
}

START_TEST(test_config_include_fifo)
{
	struct config	*c;
	char		*field, *cause;

	/* No writer ever opens it: a blocking open would hang here. */
	ck_assert_int_eq(mkfifo(fpath("inc/b.json"), 0644), 0);
	c = load_inc(&field, &cause);
	refused(c, field, cause, "include.b.json", fpath("inc/b.json"),
	    "not a regular file");
}
END_TEST

START_TEST(test_config_include_dir_entry)
{
	struct config	*c;
	char		*field, *cause;

	ck_assert_int_eq(mkdir(fpath("inc/b.json"), 0755), 0);
	c = load_inc(&field, &cause);
	refused(c, field, cause, "include.b.json", fpath("inc/b.json"),
	    "not a regular file");
}
END_TEST

/* A symlink to a regular file is read; to a FIFO or nowhere, refused. */
START_TEST(test_config_include_symlinks)
{
	struct config	*c;
	char		*field, *cause;

	fwrite_text("real.json", "{\"name\":\"b\",\"cmd\":[\"y\"]}");
	ck_assert_int_eq(symlink(fpath("real.json"), fpath("inc/b.json")), 0);
	c = load_inc(&field, &cause);
	ck_assert_msg(c != NULL, "%s: %s", field, cause);
	ck_assert_uint_eq(c->nchildren, 2);
	ck_assert_str_eq(c->children[1]->name, "b");
	config_free(c);

	ck_assert_int_eq(mkfifo(fpath("fifo"), 0644), 0);
	ck_assert_int_eq(symlink(fpath("fifo"), fpath("inc/c.json")), 0);
	c = load_inc(&field, &cause);
	refused(c, field, cause, "include.c.json", fpath("inc/c.json"),
	    "not a regular file");
	ck_assert_int_eq(unlink(fpath("inc/c.json")), 0);
	ck_assert_int_eq(symlink(fpath("nowhere"), fpath("inc/c.json")), 0);
	c = load_inc(&field, &cause);
	refused(c, field, cause, "include.c.json", fpath("inc/c.json"),
	    "No such file");
}
END_TEST

/* The config itself: a FIFO, and a file over CONFIG_FILE_MAX. */
START_TEST(test_config_file_not_regular_or_big)
{
	struct config	*c;
	char		*field, *cause;
	int		 fd;

	ck_assert_int_eq(mkfifo(fpath("fifo"), 0644), 0);
	c = config_load(fpath("fifo"), &field, &cause);
	refused(c, field, cause, "", fpath("fifo"), "not a regular file");

	/* Sparse: spaces would do, but the size is what is checked. */
	ck_assert_int_ne(fd = open(fpath("big.json"), O_WRONLY | O_CREAT,
	    0644), -1);
	ck_assert_int_eq(write(fd, "{}", 2), 2);
	ck_assert_int_eq(ftruncate(fd, CONFIG_FILE_MAX + 1), 0);
	close(fd);
	c = config_load(fpath("big.json"), &field, &cause);
	refused(c, field, cause, "", fpath("big.json"), "larger than");
	/* At the limit exactly it is read (a NUL tail is bad JSON, though). */
	ck_assert_int_ne(fd = open(fpath("big.json"), O_WRONLY), -1);
	ck_assert_int_eq(ftruncate(fd, 2), 0);
	close(fd);
	c = config_load(fpath("big.json"), &field, &cause);
	ck_assert_msg(c != NULL, "%s: %s", field, cause);
	config_free(c);
}
END_TEST

/* The socket path: {-s, -z, config socket, config zone, env, xdg, euid}. */
static const struct {
	const char	*sockopt, *zoneopt, *csock, *czone, *env, *xdg;
	unsigned	 euid;
	const char	*want;		/* NULL: an error naming XDG */
} sock_rows[] = {
	{ "/s", "z", "/c", "cz", "/e", "/x", 0, "/s" },
	{ NULL, "z", "/c", "cz", "/e", "/x", 0, "/c" },
	{ NULL, "z", NULL, "cz", "/e", "/x", 0, "/run/gtd/z.sock" },
	{ NULL, "z", NULL, "cz", "/e", "/x", 1000, "/x/gtd/z.sock" },
	{ NULL, NULL, NULL, "cz", "/e", "/x", 1000, "/e" },
	{ NULL, NULL, NULL, "cz", "", "/x", 1000, "/x/gtd/cz.sock" },
	{ NULL, NULL, NULL, NULL, NULL, "/x", 1000, "/x/gtd/default.sock" },
	{ NULL, NULL, NULL, NULL, NULL, NULL, 0, "/run/gtd/default.sock" },
	{ NULL, NULL, NULL, "cz", NULL, NULL, 0, "/run/gtd/cz.sock" },
	{ "rel.sock", NULL, NULL, NULL, NULL, NULL, 1000, "rel.sock" },
	/* No XDG_RUNTIME_DIR: no default for a user, never /tmp. */
	{ NULL, NULL, NULL, NULL, NULL, NULL, 1000, NULL },
	{ NULL, NULL, NULL, NULL, NULL, "", 1000, NULL },
	{ NULL, NULL, NULL, NULL, NULL, "run/user", 1000, NULL },
	{ NULL, "z", NULL, NULL, "/e", NULL, 1000, NULL },
};

START_TEST(test_config_socket_path)
{
	struct config			 cf;
	struct config_socket_in		 in;
	char				*path, *cause = NULL;

	memset(&cf, 0, sizeof cf);
	cf.socket = (char *)sock_rows[_i].csock;
	cf.zone = (char *)sock_rows[_i].czone;
	in = (struct config_socket_in){ .sockopt = sock_rows[_i].sockopt,
	    .zoneopt = sock_rows[_i].zoneopt, .cf = &cf,
	    .env_socket = sock_rows[_i].env, .xdg = sock_rows[_i].xdg,
	    .euid = sock_rows[_i].euid };
	path = config_socket_path(&in, &cause);
	if (sock_rows[_i].want == NULL) {
		ck_assert_msg(path == NULL, "row %d: %s", _i, path);
		ck_assert_ptr_nonnull(strstr(cause, "XDG_RUNTIME_DIR"));
		free(cause);
		return;
	}
	ck_assert_msg(path != NULL, "row %d: %s", _i, cause);
	ck_assert_str_eq(path, sock_rows[_i].want);
	free(path);
	/* No config at all: as one without socket and zone. */
	in.cf = NULL;
	if (sock_rows[_i].csock == NULL && sock_rows[_i].czone == NULL) {
		ck_assert_ptr_nonnull(path = config_socket_path(&in, &cause));
		ck_assert_str_eq(path, sock_rows[_i].want);
		free(path);
	}
}
END_TEST

/* "cgroup": a path, or false; a spec's limits come back normalised. */
START_TEST(test_config_cgroup_and_limits)
{
	struct childspec	*sp;
	struct config		*c;
	json_t			*j, *l;
	char			*field, *cause;

	c = load_config("{\"cgroup\": false}", &field, &cause);
	ck_assert_ptr_nonnull(c);
	ck_assert(c->cgroup_off && c->cgroup == NULL);
	config_free(c);
	c = load_config("{\"cgroup\": \"/sys/fs/cgroup/gtd\"}", &field,
	    &cause);
	ck_assert_ptr_nonnull(c);
	ck_assert(!c->cgroup_off);
	ck_assert_str_eq(c->cgroup, "/sys/fs/cgroup/gtd");
	config_free(c);
	sp = parse(SPEC(",\"limits\":{\"memory_max\":\"max\","
	    "\"cpu_max\":50}"), &field, &cause);
	ck_assert_msg(sp != NULL, "%s: %s", field, cause);
	ck_assert_int_eq(sp->limits.cpu_max, 50);
	j = config_spec_json(sp);
	l = json_object_get(j, "limits");
	ck_assert_str_eq(json_string_value(json_object_get(l, "memory_max")),
	    "max");
	ck_assert_int_eq(json_integer_value(json_object_get(l, "cpu_max")), 50);
	ck_assert_ptr_null(json_object_get(l, "pids_max"));
	json_decref(j);
	spec_free(sp);
	sp = parse(SPEC(""), &field, &cause);
	j = config_spec_json(sp);
	ck_assert_ptr_null(json_object_get(j, "limits"));
	json_decref(j);
	spec_free(sp);
}
END_TEST

/*
 * user and group: a name, an integer or a string of digits; a number
 * needs no entry, a name must resolve; the names resolve once, here.
 */
START_TEST(test_config_spec_user_group)
{
	struct childspec	*s;
	char			*field, *cause;

	s = parse(SPEC(",\"user\":0"), &field, &cause);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s->user, "0");
	ck_assert(s->set_uid && s->uid == 0 && s->set_gid && s->gid == 0);
	ck_assert_str_eq(s->login, "root");
	ck_assert_ptr_nonnull(s->home);
	spec_free(s);
	s = parse(SPEC(",\"user\":\"root\",\"group\":\"54321\""), &field,
	    &cause);
	ck_assert_ptr_nonnull(s);
	ck_assert(s->set_uid && s->uid == 0 && s->set_gid && s->gid == 54321);
	ck_assert_str_eq(s->group, "54321");
	spec_free(s);
	/* A uid with no entry: no home, the group stays unset. */
	s = parse(SPEC(",\"user\":\"54321\""), &field, &cause);
	ck_assert_ptr_nonnull(s);
	ck_assert(s->set_uid && s->uid == 54321 && !s->set_gid);
	ck_assert_ptr_null(s->home);
	spec_free(s);
	s = parse(SPEC(",\"group\":54322"), &field, &cause);
	ck_assert_ptr_nonnull(s);
	ck_assert(!s->set_uid && s->set_gid && s->gid == 54322);
	ck_assert_str_eq(s->group, "54322");
	spec_free(s);
	s = parse(SPEC(",\"group\":\"root\""), &field, &cause);
	ck_assert_ptr_nonnull(s);
	ck_assert(s->set_gid && s->gid == 0);
	spec_free(s);
	ck_assert_ptr_null(parse(SPEC(",\"user\":\"no-such-user-x\""), &field,
	    &cause));
	ck_assert_str_eq(field, "user");
	ck_assert_ptr_nonnull(strstr(cause, "no user named no-such-user-x"));
	free(field);
	free(cause);
	ck_assert_ptr_null(parse(SPEC(",\"group\":\"no-such-group-x\""),
	    &field, &cause));
	ck_assert_str_eq(field, "group");
	ck_assert_ptr_nonnull(strstr(cause, "no group named no-such-group-x"));
	free(field);
	free(cause);
	ck_assert_ptr_null(parse(SPEC(",\"user\":-1"), &field, &cause));
	ck_assert_str_eq(field, "user");
	free(field);
	free(cause);
	ck_assert_ptr_null(parse(SPEC(",\"group\":true"), &field, &cause));
	ck_assert_str_eq(field, "group");
	free(field);
	free(cause);
}
END_TEST

Suite *
config_suite(void)
{
	Suite	*s = suite_create("config");
	TCase	*tc;

	tc = tcase_create("spec");
	tcase_add_loop_test(tc, test_config_spec_reject_table, 0,
	    NROWS(reject_rows));
	tcase_add_test(tc, test_config_spec_reject_long_name);
	tcase_add_test(tc, test_config_spec_reject_long_keys);
	tcase_add_loop_test(tc, test_config_spec_accept_table, 0,
	    NROWS(accept_rows));
	tcase_add_test(tc, test_config_spec_full_parse);
	tcase_add_test(tc, test_config_env_merge);
	tcase_add_loop_test(tc, test_config_spec_limits, 0, LIMIT_ROWS);
	tcase_add_test(tc, test_config_spec_limits_exact);
	suite_add_tcase(s, tc);

	tc = tcase_create("json");
	tcase_add_test(tc, test_config_spec_json_defaults);
	tcase_add_loop_test(tc, test_config_spec_round_trip, 0,
	    NROWS(round_trip_rows));
	suite_add_tcase(s, tc);

	tc = tcase_create("load");
	tcase_add_loop_test(tc, test_config_load_reject_table, 0,
	    NROWS(load_reject_rows));
	tcase_add_test(tc, test_config_load_defaults);
	tcase_add_test(tc, test_config_cgroup_and_limits);
	tcase_add_test(tc, test_config_load_full);
	tcase_add_test(tc, test_config_load_group_examples);
	tcase_add_test(tc, test_config_load_missing_file);
	tcase_add_test(tc, test_config_default_limits);
	tcase_add_loop_test(tc, test_config_socket_path, 0, NROWS(sock_rows));
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_add_checked_fixture(tc, files_setup, files_teardown);
	tcase_add_test(tc, test_config_include_fifo);
	tcase_add_test(tc, test_config_include_dir_entry);
	tcase_add_test(tc, test_config_include_symlinks);
	tcase_add_test(tc, test_config_file_not_regular_or_big);
	suite_add_tcase(s, tc);

	tc = tcase_create("user_group");
	tcase_add_test(tc, test_config_spec_user_group);
	suite_add_tcase(s, tc);
	return (s);
}
