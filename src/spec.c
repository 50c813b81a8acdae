/* SPDX-License-Identifier: MIT */
/*
 * spec: childspec construction, copy, validation and the names of its
 * enumerations.  Pure: no I/O, never logs.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "gt/deps.h"
#include "gt/healthspec.h"
#include "gt/protocol.h"
#include "gt/spec.h"
#include "gt/xmalloc.h"

static char	**spec_strv_dup(char **, size_t);

static const char *spec_restart_names[] = {
	[SPEC_PERMANENT] = "permanent",
	[SPEC_TRANSIENT] = "transient",
	[SPEC_TEMPORARY] = "temporary"
};
static const char *spec_type_names[] = {
	[SPEC_WORKER] = "worker",
	[SPEC_SUPERVISOR] = "supervisor"
};
static const char *spec_give_up_names[] = {
	[SPEC_GIVE_UP_STOP] = "stop",
	[SPEC_GIVE_UP_DELETE] = "delete",
	[SPEC_GIVE_UP_EXIT] = "exit_daemon"
};

static const char *spec_action_names[] = {
	[SPEC_ACT_RESTART] = "restart",
	[SPEC_ACT_STOP] = "stop",
	[SPEC_ACT_DELETE] = "delete",
	[SPEC_ACT_EXIT] = "exit_daemon"
};

/* Signals by number; index = signal number. */
static const char *spec_signals[] = {
	[SIGHUP] = "SIGHUP", [SIGINT] = "SIGINT", [SIGQUIT] = "SIGQUIT",
	[SIGILL] = "SIGILL", [SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT",
	[SIGBUS] = "SIGBUS", [SIGFPE] = "SIGFPE", [SIGKILL] = "SIGKILL",
	[SIGUSR1] = "SIGUSR1", [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",
	[SIGPIPE] = "SIGPIPE", [SIGALRM] = "SIGALRM", [SIGTERM] = "SIGTERM",
	[SIGSTKFLT] = "SIGSTKFLT", [SIGCHLD] = "SIGCHLD",
	[SIGCONT] = "SIGCONT", [SIGSTOP] = "SIGSTOP", [SIGTSTP] = "SIGTSTP",
	[SIGTTIN] = "SIGTTIN", [SIGTTOU] = "SIGTTOU", [SIGURG] = "SIGURG",
	[SIGXCPU] = "SIGXCPU", [SIGXFSZ] = "SIGXFSZ",
	[SIGVTALRM] = "SIGVTALRM", [SIGPROF] = "SIGPROF",
	[SIGWINCH] = "SIGWINCH", [SIGIO] = "SIGIO", [SIGPWR] = "SIGPWR",
	[SIGSYS] = "SIGSYS"
};
#define SPEC_NSIGNALS	(int)(sizeof spec_signals / sizeof spec_signals[0])

struct childspec *
spec_new(void)
{
	struct childspec	*s;

	s = xcalloc(1, sizeof *s);
	s->refs = 1;
	s->cmd = xcalloc(1, sizeof *s->cmd);
	s->args = xcalloc(1, sizeof *s->args);
	s->env = xcalloc(1, sizeof *s->env);
	s->cwd = xstrdup("/");
	s->type = SPEC_WORKER;
	s->restart = SPEC_PERMANENT;
	s->restart_delay_ms = 100;
	s->success_codes = xcalloc(1, sizeof *s->success_codes);
	s->nsuccess = 1;			/* [0] */
	s->max_restarts = 10;
	s->max_period_ms = 60000;
	s->on_give_up = SPEC_GIVE_UP_STOP;
	s->backoff_factor = 2.0;
	s->backoff_max_ms = 30000;
	s->backoff_reset_ms = 10000;
	s->backoff_jitter = 0.1;
	s->ready = SPEC_READY_EXEC;
	s->ready_timeout_ms = 30000;
	s->hook_timeout_ms = 5000;
	s->out[0].mode = s->out[1].mode = SPEC_OUT_LOG;
	s->umask = -1;
	s->shutdown = SPEC_SHUT_SIGNAL;
	s->shutdown_signal = SIGTERM;
	s->reload_signal = SIGHUP;
	s->shutdown_timeout_ms = 5000;
	s->kill_group = true;
	cglimits_init(&s->limits);
	return (s);
}

void
spec_free(struct childspec *s)
{
	size_t	i;

	if (s == NULL)
		return;
	if (s->refs > 1) {		/* another holder has it still */
		s->refs--;
		return;
	}
	free(s->name);
	free(s->template);
	spec_strv_free(s->cmd);
	spec_strv_free(s->args);
	spec_strv_free(s->env);
	free(s->cwd);
	free(s->success_codes);
	free(s->on_exit);
	spec_strv_free(s->after_terminate);
	free(s->out[0].path);
	free(s->out[1].path);
	free(s->user);
	free(s->group);
	free(s->home);
	free(s->shell);
	free(s->login);
	free(s->groups);
	free(s->rlimits);
	for (i = 0; i < s->nattrs; i++) {
		free(s->attrs[i].key);
		value_free(&s->attrs[i].v);
	}
	free(s->attrs);
	deps_edges_free(s->deps, s->ndeps);
	spec_strv_free(s->env_files);
	healthspec_free(s->health);
	free(s->member_of);
	free(s);
}

struct childspec *
spec_hold(struct childspec *s)
{
	s->refs++;
	return (s);
}

static char **
spec_strv_dup(char **v, size_t n)
{
	char	**d;
	size_t	  i;

	d = xcalloc(n + 1, sizeof *d);
	for (i = 0; i < n; i++)
		d[i] = xstrdup(v[i]);
	return (d);
}

struct childspec *
spec_dup(const struct childspec *s)
{
	struct childspec	*d;
	size_t			 i;

	d = xmalloc(sizeof *d);
	*d = *s;
	d->refs = 1;
	d->share_next = NULL;
	d->share_hash = 0;
	d->name = s->name == NULL ? NULL : xstrdup(s->name);
	d->template = s->template == NULL ? NULL : xstrdup(s->template);
	d->cmd = spec_strv_dup(s->cmd, s->ncmd);
	d->args = spec_strv_dup(s->args, s->nargs);
	d->env = spec_strv_dup(s->env, s->nenv);
	d->cwd = xstrdup(s->cwd);
	d->success_codes = xreallocarray(NULL, s->nsuccess + 1,
	    sizeof *d->success_codes);
	memcpy(d->success_codes, s->success_codes,
	    s->nsuccess * sizeof *d->success_codes);
	if (s->on_exit != NULL) {
		d->on_exit = xreallocarray(NULL, s->non_exit,
		    sizeof *d->on_exit);
		memcpy(d->on_exit, s->on_exit,
		    s->non_exit * sizeof *d->on_exit);
	}
	if (s->after_terminate != NULL)
		d->after_terminate = spec_strv_dup(s->after_terminate,
		    s->nhook);
	for (i = 0; i < 2; i++)
		if (s->out[i].path != NULL)
			d->out[i].path = xstrdup(s->out[i].path);
	d->user = s->user == NULL ? NULL : xstrdup(s->user);
	d->group = s->group == NULL ? NULL : xstrdup(s->group);
	d->home = s->home == NULL ? NULL : xstrdup(s->home);
	d->shell = s->shell == NULL ? NULL : xstrdup(s->shell);
	d->login = s->login == NULL ? NULL : xstrdup(s->login);
	/* memcpy from NULL is undefined even for 0 bytes (UBSan aborts). */
	d->groups = xreallocarray(NULL, s->ngroups + 1, sizeof *d->groups);
	if (s->ngroups > 0)
		memcpy(d->groups, s->groups, s->ngroups * sizeof *d->groups);
	d->rlimits = xreallocarray(NULL, s->nrlimits + 1, sizeof *d->rlimits);
	if (s->nrlimits > 0)
		memcpy(d->rlimits, s->rlimits,
		    s->nrlimits * sizeof *d->rlimits);
	d->attrs = xreallocarray(NULL, s->nattrs + 1, sizeof *d->attrs);
	for (i = 0; i < s->nattrs; i++) {
		d->attrs[i].key = xstrdup(s->attrs[i].key);
		value_copy(&d->attrs[i].v, &s->attrs[i].v);
	}
	d->deps = s->ndeps > 0 ? deps_edges_dup(s->deps, s->ndeps) : NULL;
	if (s->env_files != NULL)
		d->env_files = spec_strv_dup(s->env_files, s->nenv_files);
	d->health = healthspec_dup(s->health);
	d->member_of = s->member_of == NULL ? NULL : xstrdup(s->member_of);
	return (d);
}

/* The bytes of n strings (without their NULs). */
static size_t
spec_strv_bytes(char **v, size_t n)
{
	size_t	i, len = 0;

	for (i = 0; i < n; i++)
		len += strlen(v[i]);
	return (len);
}

/* Key and value bytes of the attrs (numbers count nothing). */
static size_t
spec_attrs_bytes(const struct childspec *s)
{
	size_t	i, len = 0;

	for (i = 0; i < s->nattrs; i++) {
		len += strlen(s->attrs[i].key);
		if (s->attrs[i].v.s != NULL)
			len += strlen(s->attrs[i].v.s);
	}
	return (len);
}

/* The byte totals; field and cause as for spec_validate. */
static int
spec_validate_sizes(const struct childspec *s, const char **field,
    char **cause)
{
	if (spec_strv_bytes(s->cmd, s->ncmd) +
	    spec_strv_bytes(s->args, s->nargs) > SPEC_MAX_ARGV_BYTES) {
		*field = "args";
		xasprintf(cause, "cmd and args together exceed %d bytes",
		    SPEC_MAX_ARGV_BYTES);
		return (-1);
	}
	if (spec_strv_bytes(s->env, s->nenv) > SPEC_MAX_ENV_BYTES) {
		*field = "env";
		xasprintf(cause, "env exceeds %d bytes", SPEC_MAX_ENV_BYTES);
		return (-1);
	}
	if (s->after_terminate != NULL && spec_strv_bytes(s->after_terminate,
	    s->nhook) > SPEC_MAX_HOOK_BYTES) {
		*field = "after_terminate";
		xasprintf(cause, "after_terminate exceeds %d bytes",
		    SPEC_MAX_HOOK_BYTES);
		return (-1);
	}
	if (spec_attrs_bytes(s) > SPEC_MAX_ATTRS_BYTES) {
		*field = "attrs";
		xasprintf(cause, "attrs exceed %d bytes", SPEC_MAX_ATTRS_BYTES);
		return (-1);
	}
	return (0);
}

int
spec_validate(const struct childspec *s, const char **field, char **cause)
{
	if (s->name == NULL || *s->name == '\0' ||
	    strlen(s->name) > GT_NAME_MAX) {
		*field = "name";
		xasprintf(cause, "name must be 1 to %d bytes", GT_NAME_MAX);
		return (-1);
	}
	if (s->ncmd == 0 || *s->cmd[0] == '\0') {
		*field = "cmd";
		xasprintf(cause, "cmd must name a program");
		return (-1);
	}
	if (s->ncmd + s->nargs > SPEC_MAX_ARGV) {
		*field = "args";
		xasprintf(cause, "more than %d arguments", SPEC_MAX_ARGV);
		return (-1);
	}
	if (*s->cwd != '/') {
		*field = "cwd";
		xasprintf(cause, "cwd must be an absolute path");
		return (-1);
	}
	return (spec_validate_sizes(s, field, cause));
}

void
spec_strv_add(char ***v, size_t *n, const char *s)
{
	*v = xreallocarray(*v, *n + 2, sizeof **v);
	(*v)[(*n)++] = xstrdup(s);
	(*v)[*n] = NULL;
}

size_t
spec_strv_len(char **v)
{
	size_t	n = 0;

	while (v != NULL && v[n] != NULL)
		n++;
	return (n);
}

void
spec_strv_free(char **v)
{
	char	**p;

	if (v == NULL)
		return;
	for (p = v; *p != NULL; p++)
		free(*p);
	free(v);
}

char **
spec_argv(const struct childspec *s)
{
	char	**v;
	size_t	  i, n = 0;

	v = xcalloc(s->ncmd + s->nargs + 1, sizeof *v);
	for (i = 0; i < s->ncmd; i++)
		v[n++] = xstrdup(s->cmd[i]);
	for (i = 0; i < s->nargs; i++)
		v[n++] = xstrdup(s->args[i]);
	return (v);
}

bool
spec_exit_is_success(const struct childspec *s, int status)
{
	size_t	i;

	if (!WIFEXITED(status))
		return (false);
	for (i = 0; i < s->nsuccess; i++)
		if (s->success_codes[i] == WEXITSTATUS(status))
			return (true);
	return (false);
}

const char *
spec_restart_name(enum spec_restart r)
{
	return (spec_restart_names[r]);
}

const char *
spec_type_name(enum spec_type t)
{
	return (spec_type_names[t]);
}

const char *
spec_give_up_name(enum spec_give_up g)
{
	return (spec_give_up_names[g]);
}

/* Parse a name from a table of n names into its index. */
static int
spec_enum_parse(const char *s, const char **names, int n, int *out)
{
	int	i;

	for (i = 0; i < n; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = i;
			return (0);
		}
	}
	errno = EINVAL;
	return (-1);
}

static const struct {
	const char	*name;
	int		 res;
} spec_rlimits[] = {
	{ "as", RLIMIT_AS }, { "core", RLIMIT_CORE }, { "cpu", RLIMIT_CPU },
	{ "data", RLIMIT_DATA }, { "fsize", RLIMIT_FSIZE },
	{ "locks", RLIMIT_LOCKS }, { "memlock", RLIMIT_MEMLOCK },
	{ "msgqueue", RLIMIT_MSGQUEUE }, { "nice", RLIMIT_NICE },
	{ "nofile", RLIMIT_NOFILE }, { "nproc", RLIMIT_NPROC },
	{ "rss", RLIMIT_RSS }, { "rtprio", RLIMIT_RTPRIO },
	{ "rttime", RLIMIT_RTTIME }, { "sigpending", RLIMIT_SIGPENDING },
	{ "stack", RLIMIT_STACK }
};
#define SPEC_NRLIMITS	(sizeof spec_rlimits / sizeof spec_rlimits[0])

int
spec_rlimit_parse(const char *s)
{
	size_t	i;

	for (i = 0; i < SPEC_NRLIMITS; i++)
		if (strcmp(s, spec_rlimits[i].name) == 0)
			return (spec_rlimits[i].res);
	return (-1);
}

const char *
spec_rlimit_name(int res)
{
	size_t	i;

	for (i = 0; i < SPEC_NRLIMITS; i++)
		if (spec_rlimits[i].res == res)
			return (spec_rlimits[i].name);
	return (NULL);
}

const char *
spec_action_name(enum spec_action a)
{
	return (spec_action_names[a]);
}

int
spec_action_parse(const char *s, enum spec_action *a)
{
	int	i;

	if (spec_enum_parse(s, spec_action_names, 4, &i) == -1)
		return (-1);
	*a = i;
	return (0);
}

int
spec_restart_parse(const char *s, enum spec_restart *r)
{
	int	i;

	if (spec_enum_parse(s, spec_restart_names, 3, &i) == -1)
		return (-1);
	*r = i;
	return (0);
}

int
spec_type_parse(const char *s, enum spec_type *t)
{
	int	i;

	if (spec_enum_parse(s, spec_type_names, 2, &i) == -1)
		return (-1);
	*t = i;
	return (0);
}

int
spec_give_up_parse(const char *s, enum spec_give_up *g)
{
	int	i;

	if (spec_enum_parse(s, spec_give_up_names, 3, &i) == -1)
		return (-1);
	*g = i;
	return (0);
}

int
spec_signal_parse(const char *s)
{
	char	*end;
	long	 n;
	int	 i;

	if (*s >= '0' && *s <= '9') {
		errno = 0;
		n = strtol(s, &end, 10);
		if (*end != '\0' || errno != 0 || n < 1 || n >= SPEC_NSIGNALS ||
		    spec_signals[n] == NULL)
			return (-1);
		return ((int)n);
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (i = 1; i < SPEC_NSIGNALS; i++) {
		if (spec_signals[i] != NULL &&
		    strcasecmp(s, spec_signals[i] + 3) == 0)
			return (i);
	}
	return (-1);
}

const char *
spec_signal_name(int sig)
{
	if (sig < 1 || sig >= SPEC_NSIGNALS)
		return (NULL);
	return (spec_signals[sig]);
}

void
value_free(struct value *v)
{
	free(v->s);
	v->s = NULL;
}

void
value_copy(struct value *dst, const struct value *src)
{
	*dst = *src;
	if (src->s != NULL)
		dst->s = xstrdup(src->s);
}

int
spec_path_check(const char *tmpl)
{
	const char	*p;

	for (p = tmpl; (p = strchr(p, '%')) != NULL; p += 2)
		if (p[1] != 'n' && p[1] != 'z' && p[1] != '%')
			return (-1);
	return (0);
}

/* Append s as one path component's worth of text (see spec.h). */
static size_t
spec_path_part(char *out, const char *s)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++) {
		if (out != NULL)
			out[i] = s[i] == '/' || (i == 0 && s[i] == '.') ?
			    '_' : s[i];
	}
	return (i);
}

/* Expand tmpl into out (NULL: only count); the length. */
static size_t
spec_path_fill(char *out, const char *tmpl, const char *name,
    const char *zone)
{
	const char	*p;
	size_t		 n = 0;

	for (p = tmpl; *p != '\0'; p++) {
		if (p[0] == '%' && (p[1] == 'n' || p[1] == 'z')) {
			n += spec_path_part(out == NULL ? NULL : out + n,
			    p[1] == 'n' ? name : zone != NULL ? zone : "");
			p++;
			continue;
		}
		if (out != NULL)
			out[n] = *p;
		n++;
		if (p[0] == '%' && p[1] == '%')
			p++;
	}
	return (n);
}

char *
spec_path_expand(const char *tmpl, const char *name, const char *zone)
{
	size_t	 n = spec_path_fill(NULL, tmpl, name, zone);
	char	*out = xmalloc(n + 1);

	spec_path_fill(out, tmpl, name, zone);
	out[n] = '\0';
	return (out);
}

int
spec_output_clash(const struct childspec *a, const struct childspec *b,
    const char *zone)
{
	return (spec_output_clash_as(a, a->name, b, zone));
}

int
spec_output_clash_as(const struct childspec *a, const char *aname,
    const struct childspec *b, const char *zone)
{
	char	*pa, *pb;
	int	 i, j, hit = -1;

	for (j = 0; j < 2 && hit == -1; j++) {
		if (b->out[j].mode != SPEC_OUT_FILE)
			continue;
		pb = spec_path_expand(b->out[j].path, b->name, zone);
		for (i = 0; i < 2 && hit == -1; i++) {
			if (a->out[i].mode != SPEC_OUT_FILE ||
			    (a->out[i].max_bytes == 0 &&
			    b->out[j].max_bytes == 0))
				continue;
			pa = spec_path_expand(a->out[i].path, aname, zone);
			if (strcmp(pa, pb) == 0)
				hit = j;
			free(pa);
		}
		free(pb);
	}
	return (hit);
}

/*
 * Equality and hash of specs (child.c shares equal ones).  A new field of
 * struct childspec must be compared here (and copied in spec_dup, freed
 * in spec_free): this stops the build until it is.
 */
#if defined(__LP64__)
_Static_assert(sizeof (struct childspec) == 552,
    "struct childspec changed: update spec_equal, spec_hash, spec_dup");
#endif

static bool
spec_str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

/* Two vectors of n strings (NULL and an empty one differ). */
static bool
spec_strv_eq(char **a, size_t na, char **b, size_t nb)
{
	size_t	i;

	if (a == NULL || b == NULL)
		return (a == b);
	if (na != nb)
		return (false);
	for (i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return (false);
	return (true);
}

static bool
spec_value_eq(const struct value *a, const struct value *b)
{
	if (a->type != b->type)
		return (false);
	switch (a->type) {
	case VALUE_INT:
		return (a->i == b->i);
	case VALUE_REAL:	/* the same bits: -0.0 is not 0.0 here */
		return (memcmp(&a->r, &b->r, sizeof a->r) == 0);
	default:
		return (spec_str_eq(a->s, b->s));
	}
}

/* The fields of the lists (arrays of structs) of a and b. */
static bool
spec_lists_eq(const struct childspec *a, const struct childspec *b)
{
	size_t	i;

	if (a->nsuccess != b->nsuccess || a->non_exit != b->non_exit ||
	    a->ngroups != b->ngroups || a->nrlimits != b->nrlimits ||
	    a->nattrs != b->nattrs || a->ndeps != b->ndeps ||
	    (a->on_exit == NULL) != (b->on_exit == NULL))
		return (false);
	for (i = 0; i < a->nsuccess; i++)
		if (a->success_codes[i] != b->success_codes[i])
			return (false);
	for (i = 0; i < a->non_exit; i++)
		if (a->on_exit[i].upto != b->on_exit[i].upto ||
		    a->on_exit[i].action != b->on_exit[i].action ||
		    a->on_exit[i].delay_ms != b->on_exit[i].delay_ms ||
		    a->on_exit[i].oom != b->on_exit[i].oom)
			return (false);
	for (i = 0; i < (size_t)a->ngroups; i++)
		if (a->groups[i] != b->groups[i])
			return (false);
	for (i = 0; i < a->nrlimits; i++)
		if (a->rlimits[i].resource != b->rlimits[i].resource ||
		    a->rlimits[i].value != b->rlimits[i].value)
			return (false);
	for (i = 0; i < a->nattrs; i++)
		if (strcmp(a->attrs[i].key, b->attrs[i].key) != 0 ||
		    !spec_value_eq(&a->attrs[i].v, &b->attrs[i].v))
			return (false);
	for (i = 0; i < a->ndeps; i++)
		if (strcmp(a->deps[i].name, b->deps[i].name) != 0 ||
		    a->deps[i].cond != b->deps[i].cond ||
		    a->deps[i].on_stop != b->deps[i].on_stop ||
		    a->deps[i].on_restart != b->deps[i].on_restart)
			return (false);
	return (true);
}

static bool
spec_output_eq(const struct spec_output *a, const struct spec_output *b)
{
	return (a->mode == b->mode && spec_str_eq(a->path, b->path) &&
	    a->max_bytes == b->max_bytes && a->keep == b->keep);
}

/* The scalar fields. */
static bool
spec_scalars_eq(const struct childspec *a, const struct childspec *b)
{
	return (a->clear_env == b->clear_env && a->type == b->type &&
	    a->restart == b->restart &&
	    a->restart_delay_ms == b->restart_delay_ms &&
	    a->max_restarts == b->max_restarts &&
	    a->max_period_ms == b->max_period_ms &&
	    a->on_give_up == b->on_give_up &&
	    memcmp(&a->backoff_factor, &b->backoff_factor,
	    sizeof a->backoff_factor) == 0 &&
	    a->backoff_max_ms == b->backoff_max_ms &&
	    a->backoff_reset_ms == b->backoff_reset_ms &&
	    memcmp(&a->backoff_jitter, &b->backoff_jitter,
	    sizeof a->backoff_jitter) == 0 &&
	    a->ready == b->ready && a->ready_fd == b->ready_fd &&
	    a->ready_timeout_ms == b->ready_timeout_ms &&
	    a->watchdog_ms == b->watchdog_ms &&
	    a->hook_timeout_ms == b->hook_timeout_ms &&
	    a->set_uid == b->set_uid && a->uid == b->uid &&
	    a->set_gid == b->set_gid && a->gid == b->gid &&
	    a->umask == b->umask && a->set_nice == b->set_nice &&
	    a->nice == b->nice &&
	    a->limits.memory_max == b->limits.memory_max &&
	    a->limits.memory_high == b->limits.memory_high &&
	    a->limits.pids_max == b->limits.pids_max &&
	    a->limits.cpu_max == b->limits.cpu_max &&
	    a->limits.cpu_weight == b->limits.cpu_weight &&
	    a->shutdown == b->shutdown &&
	    a->shutdown_signal == b->shutdown_signal &&
	    a->reload_signal == b->reload_signal &&
	    a->shutdown_timeout_ms == b->shutdown_timeout_ms &&
	    a->kill_group == b->kill_group &&
	    a->significant == b->significant && a->cluster == b->cluster &&
	    a->failover == b->failover);
}

bool
spec_equal(const struct childspec *a, const struct childspec *b)
{
	if (a->health != NULL || b->health != NULL)
		return (false);
	return (spec_scalars_eq(a, b) && spec_lists_eq(a, b) &&
	    spec_output_eq(&a->out[0], &b->out[0]) &&
	    spec_output_eq(&a->out[1], &b->out[1]) &&
	    spec_str_eq(a->template, b->template) &&
	    spec_strv_eq(a->cmd, a->ncmd, b->cmd, b->ncmd) &&
	    spec_strv_eq(a->args, a->nargs, b->args, b->nargs) &&
	    spec_strv_eq(a->env, a->nenv, b->env, b->nenv) &&
	    spec_str_eq(a->cwd, b->cwd) &&
	    spec_strv_eq(a->after_terminate, a->nhook, b->after_terminate,
	    b->nhook) &&
	    spec_str_eq(a->user, b->user) && spec_str_eq(a->group, b->group) &&
	    spec_str_eq(a->home, b->home) && spec_str_eq(a->shell, b->shell) &&
	    spec_str_eq(a->login, b->login) &&
	    spec_strv_eq(a->env_files, a->nenv_files, b->env_files,
	    b->nenv_files) &&
	    spec_str_eq(a->member_of, b->member_of));
}

/* FNV-1a over bytes, continuing from h. */
static uint64_t
spec_hash_bytes(uint64_t h, const void *p, size_t len)
{
	const unsigned char	*b = p;
	size_t			 i;

	for (i = 0; i < len; i++) {
		h ^= b[i];
		h *= UINT64_C(0x100000001b3);
	}
	return (h);
}

static uint64_t
spec_hash_strv(uint64_t h, char **v, size_t n)
{
	size_t	i;

	for (i = 0; v != NULL && i < n; i++)
		h = spec_hash_bytes(h, v[i], strlen(v[i]) + 1);
	return (h);
}

/*
 * What tells specs apart most often: the program, its arguments and
 * environment, where and as whom it runs, and the policy's numbers.
 */
uint64_t
spec_hash(const struct childspec *s)
{
	uint64_t	h = UINT64_C(0xcbf29ce484222325);
	int64_t		n[] = { s->type, s->restart, s->restart_delay_ms,
	    s->max_restarts, s->max_period_ms, s->ready, s->ready_timeout_ms,
	    s->shutdown, s->shutdown_timeout_ms, s->uid, s->gid,
	    (int64_t)s->nattrs, s->out[0].mode, s->out[1].mode };

	h = spec_hash_strv(h, s->cmd, s->ncmd);
	h = spec_hash_strv(h, s->args, s->nargs);
	h = spec_hash_strv(h, s->env, s->nenv);
	if (s->cwd != NULL)
		h = spec_hash_bytes(h, s->cwd, strlen(s->cwd));
	return (spec_hash_bytes(h, n, sizeof n));
}
