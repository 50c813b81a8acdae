/* SPDX-License-Identifier: MIT */
/*
 * config-spec: JSON -> childspec and back.  Parses and validates a
 * childspec object (strict: every key is known, every type checked, every
 * number range-checked, and an error names the key by its dotted path,
 * protocol §4 "field"), resolves an instance against the defaults and
 * its template, and gives the normalised JSON and text of a childspec.
 * Pure: no file, no log.  The config file itself is config.c's.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gt/config-spec.h"
#include "gt/deps.h"
#include "gt/envfile.h"
#include "gt/group.h"
#include "gt/healthspec.h"
#include "gt/proto.h"
#include "gt/protocol.h"
#include "gt/xmalloc.h"

#include "gt/config-int.h"

typedef int	config_field_fn(struct childspec *, const json_t *,
		    struct config_err *);

int
config_fail(struct config_err *e, const char *field, const char *fmt, ...)
{
	va_list	ap;

	if (e->field != NULL)		/* keep the innermost error */
		return (-1);
	e->field = xstrdup(field);
	va_start(ap, fmt);
	if (vasprintf(&e->cause, fmt, ap) == -1)
		e->cause = NULL;
	va_end(ap);
	if (e->cause == NULL)
		e->cause = xstrdup("invalid");
	return (-1);
}

/*
 * The dotted path "prefix.key" into buf, with key cut to at most max
 * bytes but never inside a UTF-8 sequence: the path goes back to the
 * client as a JSON string (a cut one would be dropped).  Returns buf.
 */
const char *
config_path(char *buf, size_t size, const char *prefix, const char *key,
    size_t max)
{
	size_t	n = strlen(key);

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)key[n] & 0xc0) == 0x80)
			n--;		/* key[n] continues a sequence */
	}
	snprintf(buf, size, "%s.%.*s", prefix, (int)n, key);
	return (buf);
}

/* An integer in [lo, hi]. */
int
config_int(const json_t *j, const char *field, int64_t lo, int64_t hi,
    int64_t *out, struct config_err *e)
{
	if (!json_is_integer(j))
		return (config_fail(e, field, "%s must be an integer", field));
	if (json_integer_value(j) < lo || json_integer_value(j) > hi)
		return (config_fail(e, field, "%s must be %lld to %lld", field,
		    (long long)lo, (long long)hi));
	*out = json_integer_value(j);
	return (0);
}

int
config_string(const json_t *j, const char *field, size_t max, char **out,
    struct config_err *e)
{
	if (!json_is_string(j))
		return (config_fail(e, field, "%s must be a string", field));
	if (json_string_length(j) > max)
		return (config_fail(e, field, "%s is longer than %zu bytes",
		    field, max));
	if (strlen(json_string_value(j)) != json_string_length(j))
		return (config_fail(e, field, "%s contains a NUL byte", field));
	free(*out);
	*out = xstrdup(json_string_value(j));
	return (0);
}

int
config_strv(const json_t *j, const char *field, char ***v, size_t *n,
    struct config_err *e)
{
	const json_t	*el;
	size_t		 i;
	char		 sub[64];

	if (!json_is_array(j))
		return (config_fail(e, field, "%s must be an array of strings",
		    field));
	if (json_array_size(j) > SPEC_MAX_ARGV)
		return (config_fail(e, field, "%s has more than %d entries",
		    field, SPEC_MAX_ARGV));
	spec_strv_free(*v);
	*v = xcalloc(1, sizeof **v);
	*n = 0;
	json_array_foreach(j, i, el) {
		snprintf(sub, sizeof sub, "%s.%zu", field, i);
		if (!json_is_string(el) ||
		    strlen(json_string_value(el)) != json_string_length(el))
			return (config_fail(e, sub, "%s must be a string "
			    "without NUL bytes", sub));
		if (json_string_length(el) > SPEC_MAX_ARG_BYTES)
			return (config_fail(e, sub, "%s is longer than %d "
			    "bytes", sub, SPEC_MAX_ARG_BYTES));
		spec_strv_add(v, n, json_string_value(el));
	}
	return (0);
}

static int
config_bool(const json_t *j, const char *field, bool *out,
    struct config_err *e)
{
	if (!json_is_boolean(j))
		return (config_fail(e, field, "%s must be true or false",
		    field));
	*out = json_is_true(j);
	return (0);
}

static int
cs_name(struct childspec *s, const json_t *j, struct config_err *e)
{
	if (config_string(j, "name", GT_NAME_MAX, &s->name, e) == -1)
		return (-1);
	if (*s->name == '\0')
		return (config_fail(e, "name", "name must not be empty"));
	return (0);
}

static int
cs_cmd(struct childspec *s, const json_t *j, struct config_err *e)
{
	if (config_strv(j, "cmd", &s->cmd, &s->ncmd, e) == -1)
		return (-1);
	if (s->ncmd == 0 || *s->cmd[0] == '\0')
		return (config_fail(e, "cmd", "cmd must name a program"));
	return (0);
}

static int
cs_template(struct childspec *s, const json_t *j, struct config_err *e)
{
	return (config_string(j, "template", GT_NAME_MAX, &s->template, e));
}

static int
cs_args(struct childspec *s, const json_t *j, struct config_err *e)
{
	return (config_strv(j, "args", &s->args, &s->nargs, e));
}

static int
cs_env(struct childspec *s, const json_t *j, struct config_err *e)
{
	const char	*k;
	json_t		*v;
	char		*kv, sub[GT_KEY_MAX + 8];

	if (!json_is_object(j))
		return (config_fail(e, "env", "env must be an object of "
		    "strings"));
	if (json_object_size(j) > SPEC_MAX_ENV)
		return (config_fail(e, "env", "env has more than %d entries",
		    SPEC_MAX_ENV));
	json_object_foreach((json_t *)j, k, v) {
		config_path(sub, sizeof sub, "env", k, GT_KEY_MAX);
		if (*k == '\0' || strchr(k, '=') != NULL)
			return (config_fail(e, sub, "bad variable name"));
		if (!json_is_string(v) ||
		    strlen(json_string_value(v)) != json_string_length(v))
			return (config_fail(e, sub, "%s must be a string",
			    sub));
		if (strlen(k) + 1 + json_string_length(v) > SPEC_MAX_ARG_BYTES)
			return (config_fail(e, sub, "%s: NAME=VALUE is longer "
			    "than %d bytes", sub, SPEC_MAX_ARG_BYTES));
		xasprintf(&kv, "%s=%s", k, json_string_value(v));
		spec_strv_add(&s->env, &s->nenv, kv);
		free(kv);
	}
	return (0);
}

static int
cs_clear_env(struct childspec *s, const json_t *j, struct config_err *e)
{
	return (config_bool(j, "clear_env", &s->clear_env, e));
}

static int
cs_cwd(struct childspec *s, const json_t *j, struct config_err *e)
{
	if (config_string(j, "cwd", PATH_MAX, &s->cwd, e) == -1)
		return (-1);
	if (*s->cwd != '/')
		return (config_fail(e, "cwd", "cwd must be an absolute path"));
	return (0);
}

static int
cs_type(struct childspec *s, const json_t *j, struct config_err *e)
{
	if (!json_is_string(j) || spec_type_parse(json_string_value(j),
	    &s->type) == -1)
		return (config_fail(e, "type", "type must be worker or "
		    "supervisor"));
	return (0);
}

static int
cs_restart(struct childspec *s, const json_t *j, struct config_err *e)
{
	if (!json_is_string(j) || spec_restart_parse(json_string_value(j),
	    &s->restart) == -1)
		return (config_fail(e, "restart", "restart must be permanent, "
		    "transient or temporary"));
	return (0);
}

static int
cs_restart_delay(struct childspec *s, const json_t *j, struct config_err *e)
{
	return (config_int(j, "restart_delay_ms", 0, SPEC_MAX_MS,
	    &s->restart_delay_ms, e));
}

static int
cs_success(struct childspec *s, const json_t *j, struct config_err *e)
{
	const json_t	*el;
	size_t		 i;
	int64_t		 code;
	char		 sub[48];

	if (!json_is_array(j) || json_array_size(j) > SPEC_MAX_CODES)
		return (config_fail(e, "success_exit_codes",
		    "success_exit_codes must be an array of at most %d "
		    "integers", SPEC_MAX_CODES));
	free(s->success_codes);
	s->success_codes = xcalloc(json_array_size(j) + 1, sizeof(int));
	s->nsuccess = 0;
	json_array_foreach(j, i, el) {
		snprintf(sub, sizeof sub, "success_exit_codes.%zu", i);
		if (config_int(el, sub, 0, 255, &code, e) == -1)
			return (-1);
		s->success_codes[s->nsuccess++] = (int)code;
	}
	return (0);
}

static int
cs_max_restarts(struct childspec *s, const json_t *j, struct config_err *e)
{
	int64_t	n = 0;

	if (config_int(j, "max_restarts", 0, SPEC_MAX_RESTARTS, &n, e) == -1)
		return (-1);
	s->max_restarts = (int)n;
	return (0);
}

static int
cs_max_period(struct childspec *s, const json_t *j, struct config_err *e)
{
	return (config_int(j, "max_period_ms", 1, SPEC_MAX_MS,
	    &s->max_period_ms, e));
}

static int
cs_give_up(struct childspec *s, const json_t *j, struct config_err *e)
{
	if (!json_is_string(j) || spec_give_up_parse(json_string_value(j),
	    &s->on_give_up) == -1)
		return (config_fail(e, "on_give_up", "on_give_up must be stop, "
		    "delete or exit_daemon"));
	return (0);
}

/* A signal given as "SIGHUP", "HUP" or 1. */
static int
config_signal(const json_t *j, const char *field, int *sig,
    struct config_err *e)
{
	char	buf[24];

	if (json_is_integer(j)) {
		snprintf(buf, sizeof buf, "%lld",
		    (long long)json_integer_value(j));
		*sig = json_integer_value(j) > 0 && json_integer_value(j) < 65 ?
		    spec_signal_parse(buf) : -1;
	} else if (json_is_string(j))
		*sig = spec_signal_parse(json_string_value(j));
	else
		*sig = -1;
	if (*sig == -1)
		return (config_fail(e, field, "%s is not a known signal",
		    field));
	return (0);
}

static int
cs_shutdown(struct childspec *s, const json_t *j, struct config_err *e)
{
	static const char *const	 keys[] = { "signal", "timeout_ms",
	    NULL };
	json_t				*v;
	int64_t	 ms;

	if (json_is_string(j) && strcmp(json_string_value(j),
	    "brutal_kill") == 0) {
		s->shutdown = SPEC_SHUT_BRUTAL;
		return (0);
	}
	if (json_is_string(j) && strcmp(json_string_value(j),
	    "infinity") == 0) {
		s->shutdown = SPEC_SHUT_INFINITY;
		return (0);
	}
	if (!json_is_object(j))
		return (config_fail(e, "shutdown", "shutdown must be "
		    "\"brutal_kill\", \"infinity\" or {\"signal\", "
		    "\"timeout_ms\"}"));
	s->shutdown = SPEC_SHUT_SIGNAL;
	if (config_keys(j, "shutdown", keys, e) == -1)
		return (-1);
	if ((v = json_object_get(j, "signal")) != NULL &&
	    config_signal(v, "shutdown.signal", &s->shutdown_signal, e) == -1)
		return (-1);
	if ((v = json_object_get(j, "timeout_ms")) != NULL) {
		if (json_is_string(v) && strcmp(json_string_value(v),
		    "infinity") == 0)
			s->shutdown = SPEC_SHUT_INFINITY;
		else if (config_int(v, "shutdown.timeout_ms", 0, SPEC_MAX_MS,
		    &ms, e) == -1)
			return (-1);
		else
			s->shutdown_timeout_ms = ms;
	}
	return (0);
}

static int
cs_reload_signal(struct childspec *s, const json_t *j, struct config_err *e)
{
	return (config_signal(j, "reload_signal", &s->reload_signal, e));
}

static int
cs_kill_group(struct childspec *s, const json_t *j, struct config_err *e)
{
	return (config_bool(j, "kill_group", &s->kill_group, e));
}

/* scope: "local" (the default) or "cluster" (protocol §9.3). */
static int
cs_scope(struct childspec *s, const json_t *j, struct config_err *e)
{
	const char	*v = json_string_value(j);

	if (v == NULL || (strcmp(v, "local") != 0 &&
	    strcmp(v, "cluster") != 0))
		return (config_fail(e, "scope", "scope must be \"local\" or "
		    "\"cluster\""));
	s->cluster = strcmp(v, "cluster") == 0;
	return (0);
}

static int
cs_failover(struct childspec *s, const json_t *j, struct config_err *e)
{
	return (config_bool(j, "failover", &s->failover, e));
}

static int
cs_attrs(struct childspec *s, const json_t *j, struct config_err *e)
{
	const char	*k;
	json_t		*v;
	size_t		 n;
	char		 sub[GT_KEY_MAX + 8];

	if (!json_is_object(j))
		return (config_fail(e, "attrs", "attrs must be an object"));
	if (json_object_size(j) > GT_ATTRS_MAX)
		return (config_fail(e, "attrs", "more than %d attrs",
		    GT_ATTRS_MAX));
	s->attrs = xcalloc(json_object_size(j) + 1, sizeof *s->attrs);
	n = 0;
	json_object_foreach((json_t *)j, k, v) {
		if (strlen(k) > GT_KEY_MAX || *k == '\0') {
			config_path(sub, sizeof sub, "attrs", k, GT_KEY_MAX);
			return (config_fail(e, sub, "attr keys must be 1 to %d "
			    "bytes", GT_KEY_MAX));
		}
		s->attrs[n].key = xstrdup(k);
		proto_value_from_json(v, &s->attrs[n].v);
		s->nattrs = ++n;
		if (s->attrs[n - 1].v.s != NULL &&
		    strlen(s->attrs[n - 1].v.s) > SPEC_MAX_VALUE_BYTES) {
			config_path(sub, sizeof sub, "attrs", k, GT_KEY_MAX);
			return (config_fail(e, sub, "%s is longer than %d "
			    "bytes", sub, SPEC_MAX_VALUE_BYTES));
		}
	}
	return (0);
}

/* A number (integer or real) in [lo, hi]. */
static int
config_real(const json_t *j, const char *field, double lo, double hi,
    double *out, struct config_err *e)
{
	if (!json_is_number(j) || json_number_value(j) < lo ||
	    json_number_value(j) > hi)
		return (config_fail(e, field,
		    "%s must be a number from %g to %g", field, lo, hi));
	*out = json_number_value(j);
	return (0);
}

/* Reject keys of obj not in the NULL-terminated list. */
int
config_keys(const json_t *obj, const char *prefix, const char *const *keys,
    struct config_err *e)
{
	const char		*k;
	const char *const	*kp;
	json_t			*v;
	char			 sub[GT_KEY_MAX + 64];

	json_object_foreach((json_t *)obj, k, v) {
		for (kp = keys; *kp != NULL && strcmp(*kp, k) != 0; kp++)
			;
		if (*kp == NULL) {
			config_path(sub, sizeof sub, prefix, k, GT_KEY_MAX);
			return (config_fail(e, sub, "unknown field %s", sub));
		}
	}
	return (0);
}

static int
cs_backoff(struct childspec *s, const json_t *j, struct config_err *e)
{
	static const char *const	 keys[] = { "factor", "max_ms",
	    "reset_after_ms", "jitter", NULL };
	json_t				*v;

	if (!json_is_object(j))
		return (config_fail(e, "backoff", "backoff must be an object"));
	if (config_keys(j, "backoff", keys, e) == -1)
		return (-1);
	if ((v = json_object_get(j, "factor")) != NULL && config_real(v,
	    "backoff.factor", 1, 1000, &s->backoff_factor, e) == -1)
		return (-1);
	if ((v = json_object_get(j, "max_ms")) != NULL && config_int(v,
	    "backoff.max_ms", 0, SPEC_MAX_MS, &s->backoff_max_ms, e) == -1)
		return (-1);
	if ((v = json_object_get(j, "reset_after_ms")) != NULL && config_int(v,
	    "backoff.reset_after_ms", 0, SPEC_MAX_MS, &s->backoff_reset_ms,
	    e) == -1)
		return (-1);
	if ((v = json_object_get(j, "jitter")) != NULL && config_real(v,
	    "backoff.jitter", 0, 1, &s->backoff_jitter, e) == -1)
		return (-1);
	return (0);
}

static int
cs_step(struct spec_step *st, const json_t *j, size_t i, struct config_err *e)
{
	static const char *const	 keys[] = { "upto", "action",
	    "delay_ms", "when", NULL };
	json_t				*v;
	char				 sub[64];

	snprintf(sub, sizeof sub, "on_exit.%zu", i);
	if (!json_is_object(j))
		return (config_fail(e, sub, "%s must be an object", sub));
	if (config_keys(j, sub, keys, e) == -1)
		return (-1);
	snprintf(sub, sizeof sub, "on_exit.%zu.action", i);
	v = json_object_get(j, "action");
	if (!json_is_string(v) ||
	    spec_action_parse(json_string_value(v), &st->action) == -1)
		return (config_fail(e, sub, "%s must be restart, stop, delete "
		    "or exit_daemon", sub));
	snprintf(sub, sizeof sub, "on_exit.%zu.upto", i);
	if ((v = json_object_get(j, "upto")) != NULL &&
	    config_int(v, sub, 1, INT32_MAX, &st->upto, e) == -1)
		return (-1);
	snprintf(sub, sizeof sub, "on_exit.%zu.delay_ms", i);
	if ((v = json_object_get(j, "delay_ms")) != NULL &&
	    config_int(v, sub, 0, SPEC_MAX_MS, &st->delay_ms, e) == -1)
		return (-1);
	snprintf(sub, sizeof sub, "on_exit.%zu.when", i);
	if ((v = json_object_get(j, "when")) != NULL) {
		if (!json_is_string(v) || (strcmp(json_string_value(v),
		    "oom") != 0 && strcmp(json_string_value(v), "any") != 0))
			return (config_fail(e, sub, "%s must be \"oom\" or "
			    "\"any\"", sub));
		st->oom = strcmp(json_string_value(v), "oom") == 0;
	}
	return (0);
}

static int
cs_on_exit(struct childspec *s, const json_t *j, struct config_err *e)
{
	const json_t	*el;
	size_t		 i, k;
	char		 sub[64];

	if (!json_is_array(j) || json_array_size(j) == 0 ||
	    json_array_size(j) > SPEC_MAX_STEPS)
		return (config_fail(e, "on_exit", "on_exit must be an array of "
		    "1 to %d steps", SPEC_MAX_STEPS));
	s->on_exit = xcalloc(json_array_size(j), sizeof *s->on_exit);
	json_array_foreach(j, i, el) {
		if (cs_step(&s->on_exit[i], el, i, e) == -1)
			return (-1);
		s->non_exit = i + 1;
		/* upto grows among the steps of one kind (oom, any). */
		for (k = i; k > 0 && s->on_exit[k - 1].oom !=
		    s->on_exit[i].oom; k--)
			;
		if (k > 0 && (s->on_exit[k - 1].upto == 0 ||
		    s->on_exit[i].upto <= s->on_exit[k - 1].upto) &&
		    s->on_exit[i].upto != 0) {
			snprintf(sub, sizeof sub, "on_exit.%zu.upto", i);
			return (config_fail(e, sub, "upto must grow from step "
			    "to step"));
		}
	}
	return (0);
}

static int
cs_ready(struct childspec *s, const json_t *j, struct config_err *e)
{
	static const char *const	 keys[] = { "fd", NULL };
	int64_t				 fd;

	if (json_is_string(j) && strcmp(json_string_value(j), "exec") == 0)
		s->ready = SPEC_READY_EXEC;
	else if (json_is_string(j) && strcmp(json_string_value(j),
	    "notify") == 0)
		s->ready = SPEC_READY_NOTIFY;
	else if (json_is_string(j) && strcmp(json_string_value(j),
	    "healthy") == 0)
		s->ready = SPEC_READY_HEALTHY;	/* needs health: checked */
	else if (json_is_object(j)) {
		/* The wrong key is named, a missing fd is ready.fd. */
		if (config_keys(j, "ready", keys, e) == -1 ||
		    config_int(json_object_get(j, "fd"), "ready.fd", 3, 1023,
		    &fd, e) == -1)
			return (-1);
		s->ready = SPEC_READY_FD;
		s->ready_fd = (int)fd;
	} else
		return (config_fail(e, "ready", "ready must be \"exec\", "
		    "\"notify\", \"healthy\" or {\"fd\": N}"));
	return (0);
}

static int
cs_ready_timeout(struct childspec *s, const json_t *j, struct config_err *e)
{
	return (config_int(j, "ready_timeout_ms", 1, SPEC_MAX_MS,
	    &s->ready_timeout_ms, e));
}

static int
cs_watchdog(struct childspec *s, const json_t *j, struct config_err *e)
{
	return (config_int(j, "watchdog_ms", 0, SPEC_MAX_MS, &s->watchdog_ms,
	    e));
}

static int
cs_after_terminate(struct childspec *s, const json_t *j,
    struct config_err *e)
{
	if (config_strv(j, "after_terminate", &s->after_terminate, &s->nhook,
	    e) == -1)
		return (-1);
	if (s->nhook == 0 || *s->after_terminate[0] == '\0')
		return (config_fail(e, "after_terminate", "after_terminate "
		    "must name a program"));
	return (0);
}

static int
cs_output(struct childspec *s, int i, const json_t *j, struct config_err *e)
{
	static const char *const	 keys[] = { "file", "max_bytes", "keep",
	    NULL };
	static const char *const	 names[] = { "stdout", "stderr" };
	struct spec_output		*o = &s->out[i];
	json_t				*v;
	int64_t				 n;
	char				 sub[48];
	const char			*m = json_string_value(j);

	if (m != NULL && strcmp(m, "log") == 0)
		o->mode = SPEC_OUT_LOG;
	else if (m != NULL && strcmp(m, "inherit") == 0)
		o->mode = SPEC_OUT_INHERIT;
	else if (m != NULL && strcmp(m, "null") == 0)
		o->mode = SPEC_OUT_NULL;
	else if (json_is_object(j)) {
		if (config_keys(j, names[i], keys, e) == -1)
			return (-1);
		snprintf(sub, sizeof sub, "%s.file", names[i]);
		if (config_string(json_object_get(j, "file"), sub, PATH_MAX,
		    &o->path, e) == -1)
			return (-1);
		if (*o->path != '/')
			return (config_fail(e, sub, "%s must be an absolute "
			    "path", sub));
		if (spec_path_check(o->path) == -1)
			return (config_fail(e, sub, "%s: a %% may only be "
			    "followed by n (the name), z (the zone) or %%",
			    sub));
		o->mode = SPEC_OUT_FILE;
		o->max_bytes = 10 * 1024 * 1024;
		o->keep = 3;
		snprintf(sub, sizeof sub, "%s.max_bytes", names[i]);
		if ((v = json_object_get(j, "max_bytes")) != NULL &&
		    config_int(v, sub, 0, INT64_MAX, &o->max_bytes, e) == -1)
			return (-1);
		snprintf(sub, sizeof sub, "%s.keep", names[i]);
		n = o->keep;
		if ((v = json_object_get(j, "keep")) != NULL &&
		    config_int(v, sub, 0, 100, &n, e) == -1)
			return (-1);
		o->keep = (int)n;
	} else
		return (config_fail(e, names[i], "%s must be \"log\", "
		    "\"inherit\", \"null\" or {\"file\": PATH}", names[i]));
	return (0);
}

static int
cs_stdout(struct childspec *s, const json_t *j, struct config_err *e)
{
	return (cs_output(s, 0, j, e));
}

static int
cs_stderr(struct childspec *s, const json_t *j, struct config_err *e)
{
	return (cs_output(s, 1, j, e));
}

/*
 * user and group: a name, or a number (an integer, or a string of digits)
 * kept as its decimal string.  Sets *out (xmalloc'd, replacing what it
 * held) and returns 1 with *id when it is a number, 0 when it is a name,
 * or -1 (e set) when it is neither a string nor such an integer.
 */
static int
cs_id_or_name(const json_t *j, const char *key, char **out,
    unsigned long *id, struct config_err *e)
{
	char	buf[32], *end;

	if (json_is_integer(j) && json_integer_value(j) >= 0 &&
	    json_integer_value(j) < UINT32_MAX) {
		snprintf(buf, sizeof buf, "%lld",
		    (long long)json_integer_value(j));
		free(*out);
		*out = xstrdup(buf);
	} else if (config_string(j, key, 256, out, e) == -1)
		return (-1);
	errno = 0;
	*id = strtoul(*out, &end, 10);
	return (*end == '\0' && errno == 0);
}

/* user: a name or a uid; the primary group and home come with it. */
static int
cs_user(struct childspec *s, const json_t *j, struct config_err *e)
{
	struct passwd	*pw;
	unsigned long	 id;
	int		 num;

	if ((num = cs_id_or_name(j, "user", &s->user, &id, e)) == -1)
		return (-1);
	/* Resolved here, once; a name service may be slow, not the spawn. */
	pw = num ? getpwuid((uid_t)id) : getpwnam(s->user);
	if (pw == NULL && !num)
		return (config_fail(e, "user", "no user named %s", s->user));
	s->set_uid = true;
	s->uid = pw != NULL ? pw->pw_uid : (unsigned)id;
	if (pw != NULL) {
		if (!s->set_gid) {	/* "group" may override it later */
			s->gid = pw->pw_gid;
			s->set_gid = true;
		}
		s->home = xstrdup(pw->pw_dir);
		s->shell = xstrdup(pw->pw_shell);
		s->login = xstrdup(pw->pw_name);
	}
	return (0);
}

static int
cs_group(struct childspec *s, const json_t *j, struct config_err *e)
{
	struct group	*gr;
	unsigned long	 id;
	int		 num;

	if ((num = cs_id_or_name(j, "group", &s->group, &id, e)) == -1)
		return (-1);
	if (num)
		s->gid = (unsigned)id;
	else if ((gr = getgrnam(s->group)) != NULL)
		s->gid = gr->gr_gid;
	else
		return (config_fail(e, "group", "no group named %s", s->group));
	s->set_gid = true;
	return (0);
}

static int
cs_umask(struct childspec *s, const json_t *j, struct config_err *e)
{
	char	*end;
	long	 m = -1;

	if (json_is_string(j)) {
		m = strtol(json_string_value(j), &end, 8);
		if (*json_string_value(j) == '\0' || *end != '\0')
			m = -1;
	} else if (json_is_integer(j))
		m = (long)json_integer_value(j);
	if (m < 0 || m > 0777)
		return (config_fail(e, "umask", "umask must be an octal string "
		    "such as \"022\""));
	s->umask = (int)m;
	return (0);
}

static int
cs_nice(struct childspec *s, const json_t *j, struct config_err *e)
{
	int64_t	n = 0;

	if (config_int(j, "nice", -20, 19, &n, e) == -1)
		return (-1);
	s->set_nice = true;
	s->nice = (int)n;
	return (0);
}

static int
cs_rlimits(struct childspec *s, const json_t *j, struct config_err *e)
{
	const char	*k;
	json_t		*v;
	char		 sub[64];
	int		 res;

	if (!json_is_object(j))
		return (config_fail(e, "rlimits", "rlimits must be an object "
		    "such as {\"nofile\": 4096}"));
	free(s->rlimits);
	s->rlimits = xcalloc(json_object_size(j) + 1, sizeof *s->rlimits);
	s->nrlimits = 0;
	json_object_foreach((json_t *)j, k, v) {
		config_path(sub, sizeof sub, "rlimits", k, 32);
		if ((res = spec_rlimit_parse(k)) == -1)
			return (config_fail(e, sub, "unknown limit %s", sub));
		if (json_is_string(v) && strcmp(json_string_value(v),
		    "infinity") == 0)
			s->rlimits[s->nrlimits].value = UINT64_MAX;
		else if (json_is_integer(v) && json_integer_value(v) >= 0)
			s->rlimits[s->nrlimits].value = json_integer_value(v);
		else
			return (config_fail(e, sub, "%s must be a non-negative "
			    "integer or \"infinity\"", sub));
		s->rlimits[s->nrlimits++].resource = res;
	}
	return (0);
}

/* limits: parsed here; whether the controllers exist, at the start. */
static int
cs_limits(struct childspec *s, const json_t *j, struct config_err *e)
{
	char	*field = NULL, *cause = NULL;
	int	 rc;

	if (cglimits_parse(j, &s->limits, &field, &cause) == 0)
		return (0);
	rc = config_fail(e, field, "%s", cause);
	free(field);
	free(cause);
	return (rc);
}

static int
cs_hook_timeout(struct childspec *s, const json_t *j, struct config_err *e)
{
	return (config_int(j, "hook_timeout_ms", 1, SPEC_MAX_MS,
	    &s->hook_timeout_ms, e));
}

/* The user's supplementary groups (for setgroups in the child). */
static void
config_groups(struct childspec *s)
{
	gid_t	*g;
	int	 n = 32, i;

	g = xcalloc(n, sizeof *g);
	if (getgrouplist(s->login, (gid_t)s->gid, g, &n) == -1) {
		g = xreallocarray(g, n, sizeof *g);
		if (getgrouplist(s->login, (gid_t)s->gid, g, &n) == -1)
			n = 0;
	}
	free(s->groups);
	s->groups = xcalloc(n + 1, sizeof *s->groups);
	for (i = 0; i < n; i++)
		s->groups[i] = (unsigned)g[i];
	s->ngroups = n;
	free(g);
}

/* depends_on (protocol §9.1): deps.c parses, names the field. */
static int
cs_depends_on(struct childspec *s, const json_t *j, struct config_err *e)
{
	deps_edges_free(s->deps, s->ndeps);
	s->deps = NULL;
	s->ndeps = 0;
	if (deps_parse(j, &s->deps, &s->ndeps, &e->field, &e->cause) == -1)
		return (-1);
	return (0);
}

/* health (protocol §9.1): healthspec.c parses. */
static int
cs_health(struct childspec *s, const json_t *j, struct config_err *e)
{
	healthspec_free(s->health);
	s->health = NULL;
	return (healthspec_parse(j, &s->health, &e->field, &e->cause));
}

/* env_files (protocol §9.1): envfile.c checks the list. */
static int
cs_env_files(struct childspec *s, const json_t *j, struct config_err *e)
{
	spec_strv_free(s->env_files);
	s->env_files = NULL;
	s->nenv_files = 0;
	return (envfile_parse_list(j, &s->env_files, &s->nenv_files,
	    &e->field, &e->cause));
}

/*
 * member_of (protocol §9.1 "groups"): the OTP group the row joins.  Not
 * "group", which has always been the Unix group of the process.
 */
static int
cs_member_of(struct childspec *s, const json_t *j, struct config_err *e)
{
	free(s->member_of);
	s->member_of = NULL;
	if (config_string(j, "member_of", GROUP_MAX_NAME, &s->member_of, e) ==
	    -1)
		return (-1);
	if (*s->member_of == '\0')
		return (config_fail(e, "member_of", "member_of must name a "
		    "group of the config's groups"));
	return (0);
}

static int
cs_significant(struct childspec *s, const json_t *j, struct config_err *e)
{
	return (config_bool(j, "significant", &s->significant, e));
}

static const struct {
	const char	*key;
	config_field_fn	*fn;
} config_spec_fields[] = {
	{ "after_terminate", cs_after_terminate },
	{ "args", cs_args },
	{ "attrs", cs_attrs },
	{ "backoff", cs_backoff },
	{ "clear_env", cs_clear_env },
	{ "cmd", cs_cmd },
	{ "cwd", cs_cwd },
	{ "depends_on", cs_depends_on },
	{ "env", cs_env },
	{ "env_files", cs_env_files },
	{ "failover", cs_failover },
	{ "group", cs_group },
	{ "health", cs_health },
	{ "hook_timeout_ms", cs_hook_timeout },
	{ "kill_group", cs_kill_group },
	{ "max_period_ms", cs_max_period },
	{ "max_restarts", cs_max_restarts },
	{ "member_of", cs_member_of },
	{ "nice", cs_nice },
	{ "name", cs_name },
	{ "on_exit", cs_on_exit },
	{ "on_give_up", cs_give_up },
	{ "ready", cs_ready },
	{ "ready_timeout_ms", cs_ready_timeout },
	{ "reload_signal", cs_reload_signal },
	{ "restart", cs_restart },
	{ "restart_delay_ms", cs_restart_delay },
	{ "rlimits", cs_rlimits },
	{ "scope", cs_scope },
	{ "limits", cs_limits },
	{ "shutdown", cs_shutdown },
	{ "significant", cs_significant },
	{ "stderr", cs_stderr },
	{ "stdout", cs_stdout },
	{ "success_exit_codes", cs_success },
	{ "template", cs_template },
	{ "type", cs_type },
	{ "umask", cs_umask },
	{ "user", cs_user },
	{ "watchdog_ms", cs_watchdog },
};
#define CONFIG_NSPEC \
	(sizeof config_spec_fields / sizeof config_spec_fields[0])

struct childspec *
config_spec_parse(const json_t *obj, char **field, char **cause)
{
	struct config_err	 e = { NULL, NULL };
	struct childspec	*s;
	const char		*k;
	json_t			*v;
	size_t			 i;
	const char		*vf;
	char			*vc;

	if (!json_is_object(obj)) {
		*field = xstrdup("spec");
		*cause = xstrdup("a childspec must be an object");
		return (NULL);
	}
	s = spec_new();
	json_object_foreach((json_t *)obj, k, v) {
		for (i = 0; i < CONFIG_NSPEC; i++)
			if (strcmp(k, config_spec_fields[i].key) == 0)
				break;
		if (i == CONFIG_NSPEC) {
			config_fail(&e, k, "unknown field %s", k);
			goto fail;
		}
		if (config_spec_fields[i].fn(s, v, &e) == -1)
			goto fail;
	}
	if (s->ready == SPEC_READY_HEALTHY && s->health == NULL) {
		config_fail(&e, "ready", "ready \"healthy\" needs a health "
		    "probe");
		goto fail;
	}
	if (s->failover && !s->cluster) {
		config_fail(&e, "failover", "failover needs scope \"cluster\"");
		goto fail;
	}
	if (s->set_uid && s->login != NULL)
		config_groups(s);
	/* A supervisor's default shutdown is infinity (protocol §4). */
	if (s->type == SPEC_SUPERVISOR && json_object_get(obj, "shutdown") ==
	    NULL)
		s->shutdown = SPEC_SHUT_INFINITY;
	if (spec_validate(s, &vf, &vc) == -1) {
		e.field = xstrdup(vf);
		e.cause = vc;
		goto fail;
	}
	return (s);
fail:
	spec_free(s);
	*field = e.field;
	*cause = e.cause;
	return (NULL);
}

/* a ++ b for two optional arrays of strings; NULL if a non-array. */
static json_t *
config_args_concat(const json_t *a, const json_t *b)
{
	json_t	*r = json_array();

	if ((a != NULL && !json_is_array(a)) ||
	    (b != NULL && !json_is_array(b))) {
		json_decref(r);
		return (NULL);
	}
	if (a != NULL)
		json_array_extend(r, (json_t *)a);
	if (b != NULL)
		json_array_extend(r, (json_t *)b);
	return (r);
}

/*
 * env merges per key across the layers (defaults, template, instance):
 * a later layer's value wins and null removes the variable.  NULL when
 * a layer's env is not an object: then it simply replaces, and the
 * parser names the bad field.
 */
static json_t *
config_env_merge(const json_t *const *layer, size_t n)
{
	json_t		*r, *env, *v;
	const char	*k;
	size_t		 i;

	for (i = 0; i < n; i++)
		if (layer[i] != NULL && (env = json_object_get(layer[i],
		    "env")) != NULL && !json_is_object(env))
			return (NULL);
	r = json_object();
	for (i = 0; i < n; i++) {
		if (layer[i] == NULL ||
		    (env = json_object_get(layer[i], "env")) == NULL)
			continue;
		json_object_foreach(env, k, v) {
			if (json_is_null(v))
				json_object_del(r, k);
			else
				json_object_set(r, k, v);
		}
	}
	return (r);
}

/* defaults, then the template, then the instance (see config.h). */
static json_t *
config_resolve(const struct config_tpl *tpl, const json_t *obj,
    char **field, char **cause)
{
	json_t		*r, *t = NULL, *args, *env;
	const json_t	*layer[3];
	const char	*tname = NULL;
	const char	*k;
	json_t		*v;

	if (!json_is_object(obj)) {
		*field = xstrdup("spec");
		*cause = xstrdup("a childspec must be an object");
		return (NULL);
	}
	if ((v = json_object_get(obj, "template")) != NULL) {
		if (!json_is_string(v)) {
			*field = xstrdup("template");
			*cause = xstrdup("template must be a string");
			return (NULL);
		}
		tname = json_string_value(v);
		if (tpl == NULL || tpl->templates == NULL ||
		    (t = json_object_get(tpl->templates, tname)) == NULL) {
			*field = xstrdup("template");
			xasprintf(cause, "no template named %.64s", tname);
			return (NULL);
		}
	}
	r = json_object();
	if (tpl != NULL && tpl->defaults != NULL)
		json_object_update(r, tpl->defaults);
	if (t != NULL)
		json_object_update(r, t);
	json_object_foreach((json_t *)obj, k, v)
		if (strcmp(k, "args") != 0 || t == NULL)
			json_object_set(r, k, v);
	if (t != NULL) {
		if ((args = config_args_concat(json_object_get(t, "args"),
		    json_object_get(obj, "args"))) == NULL) {
			json_decref(r);
			*field = xstrdup("args");
			*cause = xstrdup("args must be an array of strings");
			return (NULL);
		}
		json_object_set_new(r, "args", args);
	}
	layer[0] = tpl != NULL ? tpl->defaults : NULL;
	layer[1] = t;
	layer[2] = obj;
	if (json_object_get(r, "env") != NULL &&
	    (env = config_env_merge(layer, 3)) != NULL)
		json_object_set_new(r, "env", env);
	return (r);
}

struct childspec *
config_spec_build(const struct config_tpl *tpl, const json_t *obj,
    char **field, char **cause)
{
	struct childspec	*s;
	json_t			*r;

	if ((r = config_resolve(tpl, obj, field, cause)) == NULL)
		return (NULL);
	s = config_spec_parse(r, field, cause);
	json_decref(r);
	return (s);
}

void
config_tpl_clear(struct config_tpl *t)
{
	json_decref(t->defaults);
	json_decref(t->templates);
	t->defaults = t->templates = NULL;
}

int
config_tpl_changed(const struct config_tpl *a, const struct config_tpl *b,
    const char *name)
{
	json_t	*x, *y;

	if (!json_equal(a->defaults != NULL ? a->defaults : json_null(),
	    b->defaults != NULL ? b->defaults : json_null()))
		return (1);
	if (name == NULL)
		return (0);
	x = a->templates == NULL ? NULL : json_object_get(a->templates, name);
	y = b->templates == NULL ? NULL : json_object_get(b->templates, name);
	return (x == NULL || y == NULL || !json_equal(x, y));
}

static json_t *
config_strv_json(char **v)
{
	json_t	*a = json_array();

	for (; *v != NULL; v++)
		json_array_append_new(a, json_string(*v));
	return (a);
}

static json_t *
config_output_json(const struct spec_output *o)
{
	static const char *const	names[] = { [SPEC_OUT_LOG] = "log",
	    [SPEC_OUT_INHERIT] = "inherit", [SPEC_OUT_NULL] = "null" };

	if (o->mode == SPEC_OUT_FILE)
		return (json_pack("{s:s, s:I, s:i}", "file", o->path,
		    "max_bytes", (json_int_t)o->max_bytes, "keep", o->keep));
	return (json_string(names[o->mode]));
}

/* The supervision fields of the normalised spec. */
static void
config_spec_json_more(const struct childspec *s, json_t *j)
{
	json_t	*steps, *st;
	size_t	 i;

	json_object_set_new(j, "backoff", json_pack("{s:f, s:I, s:I, s:f}",
	    "factor", s->backoff_factor,
	    "max_ms", (json_int_t)s->backoff_max_ms,
	    "reset_after_ms", (json_int_t)s->backoff_reset_ms,
	    "jitter", s->backoff_jitter));
	if (s->on_exit != NULL) {
		steps = json_array();
		for (i = 0; i < s->non_exit; i++) {
			st = json_pack("{s:s}", "action",
			    spec_action_name(s->on_exit[i].action));
			if (s->on_exit[i].upto != 0)
				json_object_set_new(st, "upto",
				    json_integer(s->on_exit[i].upto));
			if (s->on_exit[i].action == SPEC_ACT_RESTART)
				json_object_set_new(st, "delay_ms",
				    json_integer(s->on_exit[i].delay_ms));
			if (s->on_exit[i].oom)
				json_object_set_new(st, "when",
				    json_string("oom"));
			json_array_append_new(steps, st);
		}
		json_object_set_new(j, "on_exit", steps);
	}
	if (s->ready == SPEC_READY_FD)
		json_object_set_new(j, "ready", json_pack("{s:i}", "fd",
		    s->ready_fd));
	else
		json_object_set_new(j, "ready", json_string(s->ready ==
		    SPEC_READY_NOTIFY ? "notify" : s->ready ==
		    SPEC_READY_HEALTHY ? "healthy" : "exec"));
	json_object_set_new(j, "ready_timeout_ms",
	    json_integer(s->ready_timeout_ms));
	json_object_set_new(j, "watchdog_ms", json_integer(s->watchdog_ms));
	if (s->after_terminate != NULL)
		json_object_set_new(j, "after_terminate",
		    config_strv_json(s->after_terminate));
	json_object_set_new(j, "hook_timeout_ms",
	    json_integer(s->hook_timeout_ms));
	json_object_set_new(j, "stdout", config_output_json(&s->out[0]));
	json_object_set_new(j, "stderr", config_output_json(&s->out[1]));
	/* Only when set: the text of every other spec stays as it was. */
	if (s->ndeps > 0)
		json_object_set_new(j, "depends_on",
		    deps_json(s->deps, s->ndeps));
	if (s->nenv_files > 0)
		json_object_set_new(j, "env_files",
		    config_strv_json(s->env_files));
	if (s->health != NULL)
		json_object_set_new(j, "health", healthspec_json(s->health));
	if (s->member_of != NULL)
		json_object_set_new(j, "member_of",
		    json_string(s->member_of));
	if (s->significant)
		json_object_set_new(j, "significant", json_true());
	if (s->cluster) {
		json_object_set_new(j, "scope", json_string("cluster"));
		json_object_set_new(j, "failover", json_boolean(s->failover));
	}
}

/* user, group, umask, nice, rlimits: only when set. */
static void
config_spec_json_proc(const struct childspec *s, json_t *j)
{
	json_t	*rl;
	size_t	 i;
	char	 buf[16];

	if (s->user != NULL)
		json_object_set_new(j, "user", json_string(s->user));
	if (s->group != NULL)
		json_object_set_new(j, "group", json_string(s->group));
	if (s->umask >= 0) {
		snprintf(buf, sizeof buf, "%04o", (unsigned)s->umask);
		json_object_set_new(j, "umask", json_string(buf));
	}
	if (s->set_nice)
		json_object_set_new(j, "nice", json_integer(s->nice));
	if (cglimits_any(&s->limits))
		json_object_set_new(j, "limits", cglimits_json(&s->limits));
	if (s->nrlimits == 0)
		return;
	rl = json_object();
	for (i = 0; i < s->nrlimits; i++)
		json_object_set_new(rl,
		    spec_rlimit_name(s->rlimits[i].resource),
		    s->rlimits[i].value == UINT64_MAX ?
		    json_string("infinity") :
		    json_integer((json_int_t)s->rlimits[i].value));
	json_object_set_new(j, "rlimits", rl);
}

json_t *
config_spec_json(const struct childspec *s)
{
	return (config_spec_json_as(s, s->name));
}

json_t *
config_spec_json_as(const struct childspec *s, const char *name)
{
	json_t	*j, *env, *codes, *attrs, *sd;
	size_t	 i;
	char	*eq;

	env = json_object();
	for (i = 0; i < s->nenv; i++) {
		eq = strchr(s->env[i], '=');
		*eq = '\0';
		json_object_set_new(env, s->env[i], json_string(eq + 1));
		*eq = '=';
	}
	codes = json_array();
	for (i = 0; i < s->nsuccess; i++)
		json_array_append_new(codes, json_integer(s->success_codes[i]));
	attrs = json_object();
	for (i = 0; i < s->nattrs; i++)
		json_object_set_new(attrs, s->attrs[i].key,
		    proto_value_json(&s->attrs[i].v));
	if (s->shutdown == SPEC_SHUT_BRUTAL)
		sd = json_string("brutal_kill");
	else if (s->shutdown == SPEC_SHUT_INFINITY)
		sd = json_pack("{s:s, s:s}", "signal",
		    spec_signal_name(s->shutdown_signal), "timeout_ms",
		    "infinity");
	else
		sd = json_pack("{s:s, s:I}", "signal",
		    spec_signal_name(s->shutdown_signal), "timeout_ms",
		    (json_int_t)s->shutdown_timeout_ms);
	j = json_pack("{s:s, s:o, s:o, s:o, s:b, s:s, s:s, s:s, s:I, s:o, "
	    "s:i, s:I, s:s, s:o, s:b, s:o}",
	    "name", name, "cmd", config_strv_json(s->cmd),
	    "args", config_strv_json(s->args), "env", env,
	    "clear_env", s->clear_env, "cwd", s->cwd,
	    "type", spec_type_name(s->type),
	    "restart", spec_restart_name(s->restart),
	    "restart_delay_ms", (json_int_t)s->restart_delay_ms,
	    "success_exit_codes", codes, "max_restarts", s->max_restarts,
	    "max_period_ms", (json_int_t)s->max_period_ms,
	    "on_give_up", spec_give_up_name(s->on_give_up),
	    "shutdown", sd, "kill_group", s->kill_group, "attrs", attrs);
	config_spec_json_more(s, j);
	json_object_set_new(j, "reload_signal",
	    json_string(spec_signal_name(s->reload_signal)));
	if (s->template != NULL)
		json_object_set_new(j, "template", json_string(s->template));
	config_spec_json_proc(s, j);
	return (j);
}

char *
config_spec_text(const struct childspec *s)
{
	return (config_spec_text_as(s, s->name));
}

char *
config_spec_text_as(const struct childspec *s, const char *name)
{
	json_t	*j = config_spec_json_as(s, name);
	char	*t;

	t = proto_dumps(j, JSON_COMPACT);
	json_decref(j);
	return (t != NULL ? t : xstrdup("{}"));
}
