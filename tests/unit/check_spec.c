/* SPDX-License-Identifier: MIT */
/*
 * check_spec: struct childspec defaults, deep copy, validation, signal
 * and enum names.  Pure input -> output tables.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <check.h>

#include "gt/protocol.h"
#include "gt/spec.h"
#include "gt/xmalloc.h"

#include "check_unit.h"

START_TEST(test_spec_new_defaults)
{
	struct childspec	*s = spec_new();

	ck_assert_ptr_null(s->name);
	ck_assert_uint_eq(s->ncmd, 0);
	ck_assert_ptr_nonnull(s->cmd);
	ck_assert_ptr_null(s->cmd[0]);
	ck_assert_uint_eq(s->nargs, 0);
	ck_assert_ptr_null(s->args[0]);
	ck_assert_uint_eq(s->nenv, 0);
	ck_assert_ptr_null(s->env[0]);
	ck_assert(!s->clear_env);
	ck_assert_str_eq(s->cwd, "/");
	ck_assert_int_eq(s->type, SPEC_WORKER);
	ck_assert_int_eq(s->restart, SPEC_PERMANENT);
	ck_assert_int_eq(s->restart_delay_ms, 100);
	ck_assert_uint_eq(s->nsuccess, 1);
	ck_assert_int_eq(s->success_codes[0], 0);
	ck_assert_int_eq(s->max_restarts, 10);
	ck_assert_int_eq(s->max_period_ms, 60000);
	ck_assert_int_eq(s->on_give_up, SPEC_GIVE_UP_STOP);
	ck_assert_int_eq(s->shutdown, SPEC_SHUT_SIGNAL);
	ck_assert_int_eq(s->shutdown_signal, SIGTERM);
	ck_assert_int_eq(s->shutdown_timeout_ms, 5000);
	ck_assert(s->kill_group);
	ck_assert_uint_eq(s->nattrs, 0);
	/* Protocol §4 defaults of the supervision fields. */
	ck_assert(s->backoff_factor == 2.0);
	ck_assert_int_eq(s->backoff_max_ms, 30000);
	ck_assert_int_eq(s->backoff_reset_ms, 10000);
	ck_assert(s->backoff_jitter == 0.1);
	ck_assert_ptr_null(s->on_exit);
	ck_assert_uint_eq(s->non_exit, 0);
	ck_assert_int_eq(s->ready, SPEC_READY_EXEC);
	ck_assert_int_eq(s->ready_timeout_ms, 30000);
	ck_assert_int_eq(s->watchdog_ms, 0);
	ck_assert_ptr_null(s->after_terminate);
	ck_assert_uint_eq(s->nhook, 0);
	ck_assert_int_eq(s->hook_timeout_ms, 5000);
	spec_free(s);
	spec_free(NULL);		/* NULL is fine */
}
END_TEST

/* A spec with every pointer field populated. */
static struct childspec *
spec_full(void)
{
	struct childspec	*s = spec_new();

	s->name = xstrdup("web");
	spec_strv_add(&s->cmd, &s->ncmd, "/usr/bin/env");
	spec_strv_add(&s->cmd, &s->ncmd, "web");
	spec_strv_add(&s->args, &s->nargs, "--port=80");
	spec_strv_add(&s->env, &s->nenv, "FOO=bar");
	free(s->cwd);
	s->cwd = xstrdup("/srv");
	free(s->success_codes);
	s->success_codes = xcalloc(2, sizeof *s->success_codes);
	s->success_codes[0] = 0;
	s->success_codes[1] = 3;
	s->nsuccess = 2;
	s->attrs = xcalloc(2, sizeof *s->attrs);
	s->attrs[0].key = xstrdup("role");
	s->attrs[0].v.type = VALUE_TEXT;
	s->attrs[0].v.s = xstrdup("front");
	s->attrs[1].key = xstrdup("n");
	s->attrs[1].v.type = VALUE_INT;
	s->attrs[1].v.i = 7;
	s->nattrs = 2;
	s->restart = SPEC_TRANSIENT;
	s->max_restarts = 3;
	s->shutdown_signal = SIGHUP;
	s->on_exit = xcalloc(2, sizeof *s->on_exit);
	s->on_exit[0] = (struct spec_step){ 3, SPEC_ACT_RESTART, 50, false };
	s->on_exit[1] = (struct spec_step){ 0, SPEC_ACT_EXIT, 0, false };
	s->non_exit = 2;
	spec_strv_add(&s->after_terminate, &s->nhook, "/bin/hook");
	return (s);
}

START_TEST(test_spec_dup_deep)
{
	struct childspec	*s = spec_full(), *d;

	d = spec_dup(s);
	/* No pointer is shared. */
	ck_assert_ptr_ne(d->name, s->name);
	ck_assert_ptr_ne(d->cmd, s->cmd);
	ck_assert_ptr_ne(d->cmd[0], s->cmd[0]);
	ck_assert_ptr_ne(d->args, s->args);
	ck_assert_ptr_ne(d->args[0], s->args[0]);
	ck_assert_ptr_ne(d->env, s->env);
	ck_assert_ptr_ne(d->env[0], s->env[0]);
	ck_assert_ptr_ne(d->cwd, s->cwd);
	ck_assert_ptr_ne(d->success_codes, s->success_codes);
	ck_assert_ptr_ne(d->attrs, s->attrs);
	ck_assert_ptr_ne(d->attrs[0].key, s->attrs[0].key);
	ck_assert_ptr_ne(d->attrs[0].v.s, s->attrs[0].v.s);
	ck_assert_ptr_ne(d->on_exit, s->on_exit);
	ck_assert_ptr_ne(d->after_terminate, s->after_terminate);
	ck_assert_ptr_ne(d->after_terminate[0], s->after_terminate[0]);
	/* Scribble on the original, then free it: the copy must not care. */
	s->name[0] = 'X';
	s->cmd[1][0] = 'X';
	s->success_codes[1] = 99;
	s->attrs[0].v.s[0] = 'X';
	s->on_exit[0].delay_ms = 99;
	s->after_terminate[0][1] = 'X';
	spec_free(s);
	ck_assert_str_eq(d->name, "web");
	ck_assert_uint_eq(d->ncmd, 2);
	ck_assert_str_eq(d->cmd[0], "/usr/bin/env");
	ck_assert_str_eq(d->cmd[1], "web");
	ck_assert_ptr_null(d->cmd[2]);
	ck_assert_uint_eq(d->nargs, 1);
	ck_assert_str_eq(d->args[0], "--port=80");
	ck_assert_ptr_null(d->args[1]);
	ck_assert_uint_eq(d->nenv, 1);
	ck_assert_str_eq(d->env[0], "FOO=bar");
	ck_assert_str_eq(d->cwd, "/srv");
	ck_assert_uint_eq(d->nsuccess, 2);
	ck_assert_int_eq(d->success_codes[1], 3);
	ck_assert_uint_eq(d->nattrs, 2);
	ck_assert_str_eq(d->attrs[0].key, "role");
	ck_assert_str_eq(d->attrs[0].v.s, "front");
	ck_assert_int_eq(d->attrs[1].v.type, VALUE_INT);
	ck_assert_int_eq(d->attrs[1].v.i, 7);
	ck_assert_int_eq(d->restart, SPEC_TRANSIENT);
	ck_assert_int_eq(d->max_restarts, 3);
	ck_assert_int_eq(d->shutdown_signal, SIGHUP);
	ck_assert_uint_eq(d->non_exit, 2);
	ck_assert_int_eq(d->on_exit[0].upto, 3);
	ck_assert_int_eq(d->on_exit[0].delay_ms, 50);
	ck_assert_int_eq(d->on_exit[1].action, SPEC_ACT_EXIT);
	ck_assert_uint_eq(d->nhook, 1);
	ck_assert_str_eq(d->after_terminate[0], "/bin/hook");
	ck_assert_ptr_null(d->after_terminate[1]);
	spec_free(d);
}
END_TEST

START_TEST(test_spec_dup_of_new)
{
	struct childspec	*s = spec_new(), *d;

	d = spec_dup(s);		/* name NULL, empty vectors */
	ck_assert_ptr_null(d->name);
	ck_assert_ptr_null(d->cmd[0]);
	ck_assert_str_eq(d->cwd, "/");
	ck_assert_uint_eq(d->nsuccess, 1);
	ck_assert_int_eq(d->success_codes[0], 0);
	ck_assert_ptr_null(d->on_exit);
	ck_assert_ptr_null(d->after_terminate);
	spec_free(s);
	spec_free(d);
}
END_TEST

enum vbreak { VB_NONE, VB_NAME_NULL, VB_NAME_EMPTY, VB_NAME_LONG,
    VB_NAME_MAX, VB_NO_CMD, VB_CMD_EMPTY, VB_ARGV_MAX, VB_ARGV_OVER,
    VB_CWD_REL, VB_CWD_EMPTY, VB_ARGV_BYTES, VB_ENV_BYTES, VB_HOOK_BYTES,
    VB_ATTRS_BYTES, VB_BYTES_MAX };

static const struct {
	enum vbreak	 brk;
	const char	*field;		/* NULL: valid */
} validate_rows[] = {
	{ VB_NONE, NULL },
	{ VB_NAME_NULL, "name" },
	{ VB_NAME_EMPTY, "name" },
	{ VB_NAME_LONG, "name" },
	{ VB_NAME_MAX, NULL },
	{ VB_NO_CMD, "cmd" },
	{ VB_CMD_EMPTY, "cmd" },
	{ VB_ARGV_MAX, NULL },
	{ VB_ARGV_OVER, "args" },
	{ VB_CWD_REL, "cwd" },
	{ VB_CWD_EMPTY, "cwd" },
	{ VB_ARGV_BYTES, "args" },
	{ VB_ENV_BYTES, "env" },
	{ VB_HOOK_BYTES, "after_terminate" },
	{ VB_ATTRS_BYTES, "attrs" },
	{ VB_BYTES_MAX, NULL },
};

/* n strings of len bytes appended to *v. */
static void
validate_fill(char ***v, size_t *nv, size_t n, size_t len)
{
	char	*p = xmalloc(len + 1);

	memset(p, 'b', len);
	p[len] = '\0';
	while (n-- > 0)
		spec_strv_add(v, nv, p);
	free(p);
}

/* The byte totals of spec.h, one past the bound or right at it. */
static void
validate_sizes(struct childspec *s, enum vbreak brk)
{
	size_t	one = brk == VB_BYTES_MAX ? 0 : 1, i;

	/* cmd[0] is "/bin/true", 9 bytes. */
	if (brk == VB_ARGV_BYTES || brk == VB_BYTES_MAX)
		validate_fill(&s->args, &s->nargs, 1,
		    SPEC_MAX_ARGV_BYTES - 9 + one);
	if (brk == VB_ENV_BYTES || brk == VB_BYTES_MAX)
		validate_fill(&s->env, &s->nenv, 1, SPEC_MAX_ENV_BYTES + one);
	if (brk == VB_HOOK_BYTES || brk == VB_BYTES_MAX)
		validate_fill(&s->after_terminate, &s->nhook, 1,
		    SPEC_MAX_HOOK_BYTES + one);
	if (brk == VB_ATTRS_BYTES || brk == VB_BYTES_MAX) {
		s->attrs = xcalloc(2, sizeof *s->attrs);
		s->nattrs = 1;
		s->attrs[0].key = xstrdup("k");
		s->attrs[0].v.type = VALUE_TEXT;
		s->attrs[0].v.s = xmalloc(SPEC_MAX_ATTRS_BYTES + 1);
		i = SPEC_MAX_ATTRS_BYTES - 1 + one;
		memset(s->attrs[0].v.s, 'v', i);
		s->attrs[0].v.s[i] = '\0';
	}
}

/* Build the spec of one validate_rows entry. */
static struct childspec *
validate_spec(enum vbreak brk)
{
	struct childspec	*s = spec_new();
	size_t			 i;

	s->name = xstrdup("ok");
	spec_strv_add(&s->cmd, &s->ncmd, "/bin/true");
	switch (brk) {
	case VB_NONE:
		break;
	case VB_NAME_NULL:
		free(s->name);
		s->name = NULL;
		break;
	case VB_NAME_EMPTY:
		s->name[0] = '\0';
		break;
	case VB_NAME_LONG:
	case VB_NAME_MAX:
		free(s->name);
		i = brk == VB_NAME_MAX ? GT_NAME_MAX : GT_NAME_MAX + 1;
		s->name = xmalloc(i + 1);
		memset(s->name, 'n', i);
		s->name[i] = '\0';
		break;
	case VB_NO_CMD:
		spec_strv_free(s->cmd);
		s->cmd = xcalloc(1, sizeof *s->cmd);
		s->ncmd = 0;
		break;
	case VB_CMD_EMPTY:
		s->cmd[0][0] = '\0';
		break;
	case VB_ARGV_MAX:
	case VB_ARGV_OVER:
		i = brk == VB_ARGV_MAX ? SPEC_MAX_ARGV : SPEC_MAX_ARGV + 1;
		while (s->ncmd + s->nargs < i)
			spec_strv_add(&s->args, &s->nargs, "a");
		break;
	case VB_CWD_REL:
		free(s->cwd);
		s->cwd = xstrdup("srv");
		break;
	case VB_CWD_EMPTY:
		s->cwd[0] = '\0';
		break;
	default:
		validate_sizes(s, brk);
		break;
	}
	return (s);
}

START_TEST(test_spec_validate_table)
{
	struct childspec	*s = validate_spec(validate_rows[_i].brk);
	const char		*field = "untouched";
	char			*cause = NULL;
	int			 rc;

	rc = spec_validate(s, &field, &cause);
	if (validate_rows[_i].field == NULL) {
		ck_assert_msg(rc == 0, "row %d: %s: %s", _i, field, cause);
		ck_assert_str_eq(field, "untouched");
		ck_assert_ptr_null(cause);
	} else {
		ck_assert_msg(rc == -1, "row %d accepted", _i);
		ck_assert_str_eq(field, validate_rows[_i].field);
		ck_assert_ptr_nonnull(cause);
		ck_assert(*cause != '\0');
	}
	free(cause);
	spec_free(s);
}
END_TEST

static const struct {
	const char	*in;
	int		 sig;
} signal_rows[] = {
	{ "SIGHUP", 1 }, { "HUP", 1 }, { "1", 1 }, { "hup", 1 },
	{ "sighup", 1 }, { "SigHup", 1 },
	{ "SIGTERM", SIGTERM }, { "TERM", SIGTERM }, { "15", SIGTERM },
	{ "KILL", SIGKILL }, { "9", SIGKILL }, { "usr1", SIGUSR1 },
	{ "SIGSYS", SIGSYS }, { "31", 31 }, { "STKFLT", SIGSTKFLT },
	{ "", -1 }, { "SIG", -1 }, { "0", -1 }, { "00", -1 }, { "-1", -1 },
	{ "+1", -1 }, { " 1", -1 }, { "1 ", -1 }, { "1x", -1 }, { "32", -1 },
	{ "64", -1 }, { "99999999999999999999", -1 }, { "SIGFOO", -1 },
	{ "SIGSIGHUP", -1 }, { "HUPX", -1 }, { "SIG HUP", -1 },
};

START_TEST(test_spec_signal_parse_table)
{
	ck_assert_msg(spec_signal_parse(signal_rows[_i].in) ==
	    signal_rows[_i].sig, "\"%s\": %d, want %d", signal_rows[_i].in,
	    spec_signal_parse(signal_rows[_i].in), signal_rows[_i].sig);
}
END_TEST

START_TEST(test_spec_signal_names)
{
	char		 num[16];
	const char	*name;
	int		 sig;

	ck_assert_str_eq(spec_signal_name(SIGHUP), "SIGHUP");
	ck_assert_str_eq(spec_signal_name(SIGKILL), "SIGKILL");
	ck_assert_str_eq(spec_signal_name(SIGTERM), "SIGTERM");
	ck_assert_ptr_null(spec_signal_name(0));
	ck_assert_ptr_null(spec_signal_name(-1));
	ck_assert_ptr_null(spec_signal_name(32));
	ck_assert_ptr_null(spec_signal_name(1000));
	/* Every named signal parses back from each of its three forms. */
	for (sig = 1; sig < 32; sig++) {
		name = spec_signal_name(sig);
		ck_assert_msg(name != NULL, "signal %d has no name", sig);
		ck_assert_msg(strncmp(name, "SIG", 3) == 0, "%s", name);
		ck_assert_int_eq(spec_signal_parse(name), sig);
		ck_assert_int_eq(spec_signal_parse(name + 3), sig);
		snprintf(num, sizeof num, "%d", sig);
		ck_assert_int_eq(spec_signal_parse(num), sig);
	}
}
END_TEST

static const struct {
	int	 status;
	int	 codes[4];
	int	 ncodes;		/* -1: the default [0] */
	bool	 success;
} success_rows[] = {
	{ W_EXITCODE(0, 0), { 0 }, -1, true },
	{ W_EXITCODE(1, 0), { 0 }, -1, false },
	{ W_EXITCODE(255, 0), { 0 }, -1, false },
	{ W_EXITCODE(0, SIGTERM), { 0 }, -1, false },	/* killed */
	{ W_EXITCODE(0, SIGKILL), { 0 }, -1, false },
	{ SIGSEGV | 0x80, { 0 }, -1, false },		/* core dump */
	{ W_EXITCODE(3, 0), { 0, 3, 255 }, 3, true },
	{ W_EXITCODE(255, 0), { 0, 3, 255 }, 3, true },
	{ W_EXITCODE(2, 0), { 0, 3, 255 }, 3, false },
	{ W_EXITCODE(0, 0), { 3 }, 1, false },
	{ W_EXITCODE(0, 0), { 0 }, 0, false },		/* no success */
	{ W_EXITCODE(0, SIGTERM), { 0, SIGTERM }, 2, false },
};

START_TEST(test_spec_exit_is_success_table)
{
	struct childspec	*s = spec_new();
	int			 i;

	if (success_rows[_i].ncodes >= 0) {
		free(s->success_codes);
		s->success_codes = xcalloc(success_rows[_i].ncodes + 1,
		    sizeof *s->success_codes);
		for (i = 0; i < success_rows[_i].ncodes; i++)
			s->success_codes[i] = success_rows[_i].codes[i];
		s->nsuccess = success_rows[_i].ncodes;
	}
	ck_assert_msg(spec_exit_is_success(s, success_rows[_i].status) ==
	    success_rows[_i].success, "row %d", _i);
	spec_free(s);
}
END_TEST

START_TEST(test_spec_enum_round_trips)
{
	static const char	*restarts[] = { "permanent", "transient",
	    "temporary" };
	static const char	*types[] = { "worker", "supervisor" };
	static const char	*give_ups[] = { "stop", "delete",
	    "exit_daemon" };
	static const char	*actions[] = { "restart", "stop", "delete",
	    "exit_daemon" };
	enum spec_action	 act;
	enum spec_restart	 r;
	enum spec_type		 t;
	enum spec_give_up	 gu;
	int			 i;

	for (i = 0; i < 3; i++) {
		ck_assert_str_eq(spec_restart_name(i), restarts[i]);
		ck_assert_int_eq(spec_restart_parse(restarts[i], &r), 0);
		ck_assert_int_eq(r, i);
		ck_assert_str_eq(spec_give_up_name(i), give_ups[i]);
		ck_assert_int_eq(spec_give_up_parse(give_ups[i], &gu), 0);
		ck_assert_int_eq(gu, i);
	}
	for (i = 0; i < 4; i++) {
		ck_assert_str_eq(spec_action_name(i), actions[i]);
		ck_assert_int_eq(spec_action_parse(actions[i], &act), 0);
		ck_assert_int_eq(act, i);
	}
	for (i = 0; i < 2; i++) {
		ck_assert_str_eq(spec_type_name(i), types[i]);
		ck_assert_int_eq(spec_type_parse(types[i], &t), 0);
		ck_assert_int_eq(t, i);
	}
}
END_TEST

static const char *bad_enum_rows[] = {
	"", "Permanent", "PERMANENT", "perm", "permanent ", "always",
	"Worker", "exit", "exit-daemon", "STOP", "1", "Restart",
};

START_TEST(test_spec_enum_parse_rejects)
{
	enum spec_restart	r = SPEC_TEMPORARY;
	enum spec_type		t = SPEC_SUPERVISOR;
	enum spec_give_up	gu = SPEC_GIVE_UP_EXIT;
	enum spec_action	act = SPEC_ACT_EXIT;

	errno = 0;
	ck_assert_int_eq(spec_restart_parse(bad_enum_rows[_i], &r), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(spec_type_parse(bad_enum_rows[_i], &t), -1);
	ck_assert_int_eq(spec_give_up_parse(bad_enum_rows[_i], &gu), -1);
	ck_assert_int_eq(spec_action_parse(bad_enum_rows[_i], &act), -1);
	ck_assert_int_eq(act, SPEC_ACT_EXIT);
	/* A failed parse leaves the output alone. */
	ck_assert_int_eq(r, SPEC_TEMPORARY);
	ck_assert_int_eq(t, SPEC_SUPERVISOR);
	ck_assert_int_eq(gu, SPEC_GIVE_UP_EXIT);
}
END_TEST

START_TEST(test_spec_argv_and_strv)
{
	struct childspec	*s = spec_new();
	char			**argv;

	spec_strv_add(&s->cmd, &s->ncmd, "prog");
	spec_strv_add(&s->cmd, &s->ncmd, "-x");
	spec_strv_add(&s->args, &s->nargs, "a");
	spec_strv_add(&s->args, &s->nargs, "");
	ck_assert_uint_eq(s->ncmd, 2);
	ck_assert_ptr_null(s->cmd[2]);
	argv = spec_argv(s);
	ck_assert_str_eq(argv[0], "prog");
	ck_assert_str_eq(argv[1], "-x");
	ck_assert_str_eq(argv[2], "a");
	ck_assert_str_eq(argv[3], "");
	ck_assert_ptr_null(argv[4]);
	ck_assert_ptr_ne(argv[0], s->cmd[0]);	/* copies */
	ck_assert_uint_eq(spec_strv_len(argv), 4);
	ck_assert_uint_eq(spec_strv_len(s->args), 2);
	ck_assert_uint_eq(spec_strv_len(NULL), 0);
	spec_strv_free(argv);
	spec_strv_free(NULL);
	spec_free(s);
}
END_TEST

START_TEST(test_spec_value_copy)
{
	struct value	src = { .type = VALUE_JSON }, dst, num = {
	    .type = VALUE_REAL, .r = 2.5 };

	src.s = xstrdup("[1,2]");
	value_copy(&dst, &src);
	ck_assert_int_eq(dst.type, VALUE_JSON);
	ck_assert_ptr_ne(dst.s, src.s);
	ck_assert_str_eq(dst.s, "[1,2]");
	value_free(&src);
	ck_assert_ptr_null(src.s);
	value_free(&src);			/* twice is harmless */
	ck_assert_str_eq(dst.s, "[1,2]");
	value_free(&dst);
	value_copy(&dst, &num);
	ck_assert_int_eq(dst.type, VALUE_REAL);
	ck_assert(dst.r == 2.5);
	ck_assert_ptr_null(dst.s);
	value_free(&dst);
}
END_TEST

/* Output path templates: {template, name, zone, expansion or NULL}. */
static const struct {
	const char	*tmpl, *name, *zone, *want;
} path_rows[] = {
	{ "/var/log/%n.log", "web", "z", "/var/log/web.log" },
	{ "/var/log/%z/%n-%n", "a", "prod", "/var/log/prod/a-a" },
	{ "/l/%%n%%", "a", "z", "/l/%n%" },
	{ "/l/%n", "../../etc/x", "z", "/l/_._.._etc_x" },
	{ "/l/%n/%z", ".hidden", "..", "/l/_hidden/_." },
	{ "/l/x%", "a", "z", NULL },
	{ "/l/%x", "a", "z", NULL },
	{ "/l/%N", "a", "z", NULL },
	{ "/plain", "a", "z", "/plain" },
};

START_TEST(test_spec_path_expand_table)
{
	char	*got;

	if (path_rows[_i].want == NULL) {
		ck_assert_int_eq(spec_path_check(path_rows[_i].tmpl), -1);
		return;
	}
	ck_assert_int_eq(spec_path_check(path_rows[_i].tmpl), 0);
	got = spec_path_expand(path_rows[_i].tmpl, path_rows[_i].name,
	    path_rows[_i].zone);
	ck_assert_str_eq(got, path_rows[_i].want);
	free(got);
}
END_TEST

/* One rotated file for two children clashes; append-only ones do not. */
START_TEST(test_spec_output_clash)
{
	struct childspec	*a = test_spec("a", SPEC_PERMANENT);
	struct childspec	*b = test_spec("b", SPEC_PERMANENT);

	ck_assert_int_eq(spec_output_clash(a, b, "z"), -1);
	a->out[0].mode = b->out[1].mode = SPEC_OUT_FILE;
	a->out[0].path = xstrdup("/l/%z.log");
	b->out[1].path = xstrdup("/l/z.log");
	a->out[0].max_bytes = b->out[1].max_bytes = 0;
	ck_assert_int_eq(spec_output_clash(a, b, "z"), -1);
	b->out[1].max_bytes = 100;
	ck_assert_int_eq(spec_output_clash(a, b, "z"), 1);
	ck_assert_int_eq(spec_output_clash(b, a, "z"), 0);
	ck_assert_int_eq(spec_output_clash(a, b, "y"), -1);
	free(a->out[0].path);
	a->out[0].path = xstrdup("/l/%n.log");	/* one file each */
	free(b->out[1].path);
	b->out[1].path = xstrdup("/l/%n.log");
	ck_assert_int_eq(spec_output_clash(a, b, "z"), -1);
	spec_free(a);
	spec_free(b);
}
END_TEST

/* One change each that spec_equal must see; the name it must not. */
static void
spec_equal_change(struct childspec *s, int which)
{
	switch (which) {
	case 0:
		spec_strv_add(&s->args, &s->nargs, "-v");
		break;
	case 1:
		spec_strv_add(&s->env, &s->nenv, "A=1");
		break;
	case 2:
		free(s->cwd);
		s->cwd = xstrdup("/tmp");
		break;
	case 3:
		s->restart_delay_ms++;
		break;
	case 4:
		s->backoff_jitter = 0.5;
		break;
	case 5:
		s->out[1].mode = SPEC_OUT_NULL;
		break;
	case 6:
		s->set_uid = true;
		s->uid = 1;
		break;
	case 7:
		free(s->groups);
		s->groups = xcalloc(1, sizeof *s->groups);
		s->ngroups = 1;
		break;
	case 8:
		s->limits.pids_max = 10;
		break;
	case 9:
		s->template = xstrdup("t");
		break;
	case 10:
		s->after_terminate = xcalloc(1, sizeof *s->after_terminate);
		break;
	case 11:
		s->member_of = xstrdup("g");
		break;
	case 12:
		s->kill_group = false;
		break;
	case 13:
		s->success_codes[0] = 3;
		break;
	default:
		s->failover = true;
		break;
	}
}

START_TEST(test_spec_equal)
{
	struct childspec	*a = spec_new(), *b = spec_new();
	int			 i;

	a->name = xstrdup("a");
	b->name = xstrdup("b");
	spec_strv_add(&a->cmd, &a->ncmd, "/bin/true");
	spec_strv_add(&b->cmd, &b->ncmd, "/bin/true");
	ck_assert(spec_equal(a, b));
	ck_assert_uint_eq(spec_hash(a), spec_hash(b));
	spec_free(b);
	for (i = 0; i <= 14; i++) {
		b = spec_dup(a);
		ck_assert(spec_equal(a, b));
		spec_equal_change(b, i);
		ck_assert_msg(!spec_equal(a, b), "change %d not seen", i);
		ck_assert_msg(!spec_equal(b, a), "change %d not seen", i);
		spec_free(b);
	}
	spec_free(a);
}
END_TEST

/* spec_hold adds a holder: spec_free frees at the last one only. */
START_TEST(test_spec_hold)
{
	struct childspec	*s = spec_new();

	ck_assert_int_eq(s->refs, 1);
	ck_assert_ptr_eq(spec_hold(s), s);
	ck_assert_int_eq(s->refs, 2);
	spec_free(s);
	ck_assert_int_eq(s->refs, 1);	/* still there: ASan would say */
	spec_free(s);
}
END_TEST

Suite *
spec_suite(void)
{
	Suite	*s = suite_create("spec");
	TCase	*tc;

	tc = tcase_create("struct");
	tcase_add_test(tc, test_spec_new_defaults);
	tcase_add_test(tc, test_spec_dup_deep);
	tcase_add_test(tc, test_spec_dup_of_new);
	tcase_add_test(tc, test_spec_argv_and_strv);
	tcase_add_test(tc, test_spec_value_copy);
	suite_add_tcase(s, tc);

	tc = tcase_create("validate");
	tcase_add_loop_test(tc, test_spec_validate_table, 0,
	    NROWS(validate_rows));
	suite_add_tcase(s, tc);

	tc = tcase_create("signal");
	tcase_add_loop_test(tc, test_spec_signal_parse_table, 0,
	    NROWS(signal_rows));
	tcase_add_test(tc, test_spec_signal_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("exit");
	tcase_add_loop_test(tc, test_spec_exit_is_success_table, 0,
	    NROWS(success_rows));
	suite_add_tcase(s, tc);

	tc = tcase_create("enum");
	tcase_add_test(tc, test_spec_enum_round_trips);
	tcase_add_loop_test(tc, test_spec_enum_parse_rejects, 0,
	    NROWS(bad_enum_rows));
	suite_add_tcase(s, tc);

	tc = tcase_create("paths");
	tcase_add_loop_test(tc, test_spec_path_expand_table, 0,
	    NROWS(path_rows));
	tcase_add_test(tc, test_spec_output_clash);
	suite_add_tcase(s, tc);

	tc = tcase_create("equal");
	tcase_add_test(tc, test_spec_equal);
	tcase_add_test(tc, test_spec_hold);
	suite_add_tcase(s, tc);
	return (s);
}
