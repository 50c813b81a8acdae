/* SPDX-License-Identifier: MIT */
/*
 * gtctl-out: the text gtctl prints for people: colours (on a terminal,
 * unless NO_COLOR or --color=never), aligned tables, "key: value" lines,
 * times and durations, refusals with their context, and one printer per
 * kind of reply.  Every string that gtd relays from a child or another
 * client is escaped (gtctl_esc) or, as JSON, made safe (gtctl_json_safe)
 * here, so nothing in a name, attr, status or log line reaches the
 * terminal as a control sequence.
 */
#include "config.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "gt/gtctl-text.h"
#include "gt/gtctl.h"
#include "gt/proto.h"
#include "gt/protocol.h"
#include "gt/xmalloc.h"

static bool	gtctl_color_ok(int fd);
static char	*gtctl_uptime(json_t *, json_t *);
static char	*gtctl_state_text(json_t *row, const char **sgr);
static void	 gtctl_flat(const char *, json_t *, bool);
static void	 gtctl_context(json_t *, FILE *);
static void	 gtctl_reload_line(struct gtctl *, json_t *, const char *,
		    const char *, const char *);

/* Whether colour suits fd when asked for "auto". */
static bool
gtctl_color_ok(int fd)
{
	const char	*s;

	if ((s = getenv("NO_COLOR")) != NULL && *s != '\0')
		return (false);
	if ((s = getenv("TERM")) == NULL || strcmp(s, "dumb") == 0)
		return (false);
	return (isatty(fd) == 1);
}

void
gtctl_color_init(struct gtctl *g, const char *when)
{
	if (strcmp(when, "always") == 0)
		g->color = g->color_err = true;
	else if (strcmp(when, "never") == 0)
		g->color = g->color_err = false;
	else if (strcmp(when, "auto") == 0) {
		g->color = gtctl_color_ok(STDOUT_FILENO);
		g->color_err = gtctl_color_ok(STDERR_FILENO);
	} else {
		fprintf(stderr, "gtctl: --color takes auto, always or never, "
		    "not %s\n", when);
		exit(EX_USAGE);
	}
}

const char *
gtctl_sgr(const struct gtctl *g, bool err, const char *code)
{
	static char	ring[8][16];
	static int	next;
	char		*s;

	if (code == NULL || !(err ? g->color_err : g->color))
		return ("");
	s = ring[next++ % 8];
	snprintf(s, sizeof ring[0], "\033[%sm", code);
	return (s);
}

const char *
gtctl_sgr_off(const struct gtctl *g, bool err)
{
	return ((err ? g->color_err : g->color) ? "\033[0m" : "");
}

const char *
gtctl_state_color(const char *state)
{
	if (state == NULL)
		return (NULL);
	if (strcmp(state, "running") == 0)
		return (GTCTL_C_GREEN);
	if (strcmp(state, "stopped") == 0)
		return (GTCTL_C_DIM);
	return (GTCTL_C_YELLOW);	/* on its way somewhere */
}

const char *
gtctl_name_color(const char *name)
{
	static const char *const	 colors[] = { GTCTL_C_CYAN,
	    GTCTL_C_MAGENTA, GTCTL_C_BLUE, GTCTL_C_GREEN, GTCTL_C_YELLOW };
	unsigned			 h = 5381;

	for (; *name != '\0'; name++)
		h = h * 33 + (unsigned char)*name;
	return (colors[h % (sizeof colors / sizeof colors[0])]);
}

char *
gtctl_str(json_t *v)
{
	char	*s, *safe;

	if (json_is_string(v))
		return (gtctl_esc(json_string_value(v),
		    json_string_length(v)));
	if (v == NULL || json_is_null(v))
		return (xstrdup("-"));
	if (json_is_integer(v)) {
		xasprintf(&s, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return (s);
	}
	if ((s = gtctl_dump(v, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
		return (xstrdup("?"));
	safe = gtctl_json_safe(s, strlen(s));
	free(s);
	return (safe);
}

/* info's env_files: "PATH: KEY KEY; -PATH: missing" (never values). */
static char *
gtctl_envfiles(json_t *v)
{
	json_t		*f, *k;
	size_t		 i, j;
	char		*s = xstrdup(""), *t, *e;
	const char	*p;

	json_array_foreach(v, i, f) {
		p = json_string_value(json_object_get(f, "path"));
		e = gtctl_esc(p != NULL ? p : "?", p != NULL ? strlen(p) : 1);
		xasprintf(&t, "%s%s%s:", s, i > 0 ? "; " : "", e);
		free(e);
		free(s);
		s = t;
		if (json_is_true(json_object_get(f, "missing"))) {
			xasprintf(&t, "%s missing", s);
			free(s);
			s = t;
		}
		json_array_foreach(json_object_get(f, "keys"), j, k) {
			p = json_string_value(k);
			e = gtctl_esc(p != NULL ? p : "?", p != NULL ?
			    strlen(p) : 1);
			xasprintf(&t, "%s %s", s, e);
			free(e);
			free(s);
			s = t;
		}
	}
	return (s);
}

char *
gtctl_str_key(const char *key, json_t *v)
{
	size_t	n = strlen(key);

	if (strcmp(key, "env_files") == 0 &&	/* info's, not the spec's */
	    json_is_object(json_array_get(v, 0)))
		return (gtctl_envfiles(v));

	if (n > 3 && strcmp(key + n - 3, "_at") == 0 && json_is_integer(v))
		return (gtctl_time(json_integer_value(v)));
	if (strcmp(key, "at") == 0 && json_is_integer(v))
		return (gtctl_time(json_integer_value(v)));
	return (gtctl_str(v));
}

char *
gtctl_member(json_t *obj, const char *key)
{
	return (gtctl_str(json_object_get(obj, key)));
}

char *
gtctl_time(json_int_t ms)
{
	struct tm	tm;
	time_t		t = ms / 1000;
	char		buf[64];
	char		*s;

	if (ms < 0 || localtime_r(&t, &tm) == NULL ||
	    strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm) == 0) {
		xasprintf(&s, "%" JSON_INTEGER_FORMAT, ms);
		return (s);
	}
	xasprintf(&s, "%s.%03d", buf, (int)(ms % 1000));
	return (s);
}

char *
gtctl_dump(json_t *v, size_t flags)
{
	return (proto_dumps(v, flags));		/* reals: shortest round trip */
}

int64_t
gtctl_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* The UPTIME column: time since started_at, while there is a pid. */
static char *
gtctl_uptime(json_t *pid, json_t *started_at)
{
	int64_t	s;
	char	*out;

	if (!json_is_integer(pid) || !json_is_integer(started_at))
		return (xstrdup("-"));
	s = (gtctl_now_ms() - json_integer_value(started_at)) / 1000;
	if (s < 0)
		s = 0;
	if (s < 60)
		xasprintf(&out, "%" PRId64 "s", s);
	else if (s < 3600)
		xasprintf(&out, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
	else if (s < 86400)
		xasprintf(&out, "%" PRId64 "h%02" PRId64 "m", s / 3600,
		    s / 60 % 60);
	else
		xasprintf(&out, "%" PRId64 "d%02" PRId64 "h", s / 86400,
		    s / 3600 % 24);
	return (out);
}

void
gtctl_table_add(struct gtctl_table *t, ...)
{
	va_list	ap;
	size_t	i;

	t->cell = xreallocarray(t->cell, (t->nrow + 1) * t->ncol,
	    sizeof *t->cell);
	t->sgr = xreallocarray(t->sgr, (t->nrow + 1) * t->ncol,
	    sizeof *t->sgr);
	va_start(ap, t);
	for (i = 0; i < t->ncol; i++) {
		t->cell[t->nrow * t->ncol + i] = va_arg(ap, char *);
		t->sgr[t->nrow * t->ncol + i] = NULL;
	}
	va_end(ap);
	t->nrow++;
}

/* Colour the cell in column col of the last row. */
void
gtctl_table_color(struct gtctl_table *t, size_t col, const char *sgr)
{
	assert(t->nrow > 0 && col < t->ncol);
	t->sgr[(t->nrow - 1) * t->ncol + col] = sgr;
}

/* Print t with each column as wide as its widest cell; frees the cells. */
void
gtctl_table_print(struct gtctl *g, struct gtctl_table *t)
{
	size_t	w[GTCTL_TABLE_MAXCOL] = { 0 }, i, j, n;
	char	*s;

	assert(t->ncol <= GTCTL_TABLE_MAXCOL && t->nshow <= t->ncol);
	for (i = 0; i < t->nrow * t->ncol; i++) {
		if ((n = gtctl_width(t->cell[i])) > w[i % t->ncol])
			w[i % t->ncol] = n;
	}
	for (i = 0; i < t->nrow; i++) {
		for (j = 0; j < t->ncol; j++) {
			s = t->cell[i * t->ncol + j];
			if (j < t->nshow) {
				printf("%s%s%s", gtctl_sgr(g, false,
				    t->sgr[i * t->ncol + j]), s,
				    t->sgr[i * t->ncol + j] != NULL ?
				    gtctl_sgr_off(g, false) : "");
				if (j + 1 < t->nshow)
					printf("%*s", (int)(w[j] -
					    gtctl_width(s) + 2), "");
				else
					printf("\n");
			}
			free(s);
		}
	}
	free(t->cell);
	free(t->sgr);
	t->cell = NULL;
	t->sgr = NULL;
	t->nrow = 0;
}

/* Objects as "key: value" lines, nested keys dotted ("spec.restart"). */
static void
gtctl_flat(const char *prefix, json_t *obj, bool top)
{
	const char	*key;
	json_t		*v;
	char		*path, *s, *k;

	json_object_foreach(obj, key, v) {
		if (top && (strcmp(key, "ok") == 0 || strcmp(key, "id") == 0))
			continue;
		k = gtctl_esc(key, strlen(key));
		if (prefix != NULL)
			xasprintf(&path, "%s.%s", prefix, k);
		else
			path = xstrdup(k);
		free(k);
		if (json_is_object(v) && json_object_size(v) > 0)
			gtctl_flat(path, v, false);
		else {
			s = gtctl_str_key(key, v);
			printf("%s: %s\n", path, s);
			free(s);
		}
		free(path);
	}
}

void
gtctl_print_json_line(const char *line, size_t len)
{
	char	*safe = gtctl_json_safe(line, len);

	printf("%s\n", safe);
	free(safe);
	fflush(stdout);
}

int
gtctl_malformed(const char *why)
{
	fprintf(stderr, "gtctl: malformed reply: %s\n", why);
	return (EX_PROTOCOL);
}

int
gtctl_exit_code(const char *code)
{
	if (strcmp(code, GT_E_NOT_FOUND) == 0 ||
	    strcmp(code, GT_E_NOT_RUNNING) == 0)
		return (GTCTL_EXIT_ABSENT);
	return (GTCTL_EXIT_REFUSED);
}

/* The context of an error, " (field: x, state: stopped)"; to f. */
static void
gtctl_context(json_t *reply, FILE *f)
{
	const char	*key;
	json_t		*v;
	char		*s, *k;
	int		 n = 0;

	/* "field" first: it names what to fix. */
	if ((v = json_object_get(reply, "field")) != NULL) {
		s = gtctl_str(v);
		fprintf(f, " (field: %s", s);
		free(s);
		n++;
	}
	json_object_foreach(reply, key, v) {
		if (strcmp(key, "ok") == 0 || strcmp(key, "id") == 0 ||
		    strcmp(key, "error") == 0 || strcmp(key, "message") == 0 ||
		    strcmp(key, "field") == 0)
			continue;
		s = gtctl_str(v);
		k = gtctl_esc(key, strlen(key));
		fprintf(f, "%s%s: %s", n++ == 0 ? " (" : ", ", k, s);
		free(k);
		free(s);
	}
	if (n > 0)
		fputc(')', f);
}

int
gtctl_refused(const struct gtctl *g, json_t *reply, const char *prefix)
{
	const char	*code;
	char		*msg, *w;

	code = json_string_value(json_object_get(reply, "error"));
	if (code == NULL)
		return (gtctl_malformed("no \"error\""));
	if (g->forwarded && strcmp(code, GT_E_UNKNOWN_OP) == 0) {
		w = gtctl_esc(g->word, strlen(g->word));
		fprintf(stderr, "gtctl: unknown command '%s': not a command "
		    "of gtctl, nor an op of gtd (see gtctl help)\n", w);
		free(w);
		return (EX_USAGE);
	}
	msg = gtctl_member(reply, "message");
	fprintf(stderr, "gtctl: %s%s%s%s: %s", prefix != NULL ? prefix : "",
	    prefix != NULL ? ": " : "", gtctl_sgr(g, true, GTCTL_C_RED), code,
	    msg);
	fprintf(stderr, "%s", gtctl_sgr_off(g, true));
	gtctl_context(reply, stderr);
	fputc('\n', stderr);
	free(msg);
	if (g->name != NULL && strcmp(code, GT_E_ALREADY_PRESENT) == 0) {
		w = gtctl_esc(g->name, strlen(g->name));
		fprintf(stderr, "gtctl: %s is not running; start it again "
		    "with: gtctl restart %s\n", w, w);
		free(w);
	}
	return (gtctl_exit_code(code));
}

/*
 * "stopped on request: SIGTERM", "stopped on request: SIGTERM, then
 * SIGKILL after 5 s", "stopped on request: SIGTERM, then exited with
 * status 0", "exited with status 1", "killed by SIGSEGV"; NULL when
 * there was no process.  The signal gtd sent is the reason's
 * stop_signal, else first_signal (may be NULL: the spec's, looked up by
 * the caller for a gtd that does not say).
 */
char *
gtctl_reason_text(json_t *r, const char *first_signal)
{
	json_t		*st = json_object_get(r, "exit_status");
	const char	*sig = json_string_value(json_object_get(r, "signal"));
	const char	*sent = json_string_value(json_object_get(r,
			    "stop_signal"));
	char		*how, *t, *s, *w;
	json_int_t	 ms;

	if (!json_is_object(r))
		return (NULL);
	if (sent == NULL)
		sent = first_signal;
	if (json_is_integer(st))
		xasprintf(&how, "exited with status %" JSON_INTEGER_FORMAT,
		    json_integer_value(st));
	else if (sig != NULL)
		xasprintf(&how, "killed by %s", sig);
	else
		how = xstrdup("ended (no exit status known)");
	if (!json_is_true(json_object_get(r, "requested")))
		s = how;
	else if (json_is_true(json_object_get(r, "escalated"))) {
		if (sent == NULL && sig != NULL && strcmp(sig, "SIGKILL") != 0)
			sent = sig;
		ms = json_integer_value(json_object_get(r, "timeout_ms"));
		t = gtctl_duration(ms);
		xasprintf(&s, "stopped on request: %s, then SIGKILL after %s",
		    sent != NULL ? sent : "its stop signal", t);
		free(t);
		free(how);
	} else if (sig != NULL && (sent == NULL || strcmp(sent, sig) == 0)) {
		xasprintf(&s, "stopped on request: %s", sig);
		free(how);
	} else if (sent != NULL) {
		xasprintf(&s, "stopped on request: %s, then %s", sent, how);
		free(how);
	} else {
		xasprintf(&s, "stopped on request: %s", how);
		free(how);
	}
	w = gtctl_esc(s, strlen(s));
	free(s);
	return (w);
}

int
gtctl_print_none(struct gtctl *g, json_t *reply)
{
	return (0);
}

int
gtctl_print_pong(struct gtctl *g, json_t *reply)
{
	printf("pong\n");
	return (0);
}

int
gtctl_print_fields(struct gtctl *g, json_t *reply)
{
	gtctl_flat(NULL, reply, true);
	return (0);
}

/*
 * why: "NAME waits for DEP (CONDITION): DEP is STATE", one line per
 * unmet dependency, or "NAME waits for nothing (STATE)".
 */
int
gtctl_print_why(struct gtctl *g, json_t *reply)
{
	json_t	*a = json_object_get(reply, "waiting_for"), *el;
	char	*name, *st, *dep, *cond, *dst;
	size_t	 i;

	name = g->name != NULL ? gtctl_esc(g->name, strlen(g->name)) :
	    xstrdup("-");
	st = gtctl_member(reply, "state");
	if (json_array_size(a) == 0)
		printf("%s waits for nothing (%s)\n", name, st);
	json_array_foreach(a, i, el) {
		dep = gtctl_member(el, "name");
		cond = gtctl_member(el, "condition");
		dst = gtctl_member(el, "state");
		printf("%s %s for %s (%s): %s is %s\n", name,
		    strcmp(st, "waiting") == 0 ? "waits" : "would wait", dep,
		    cond, dep, dst);
		free(dep);
		free(cond);
		free(dst);
	}
	free(st);
	free(name);
	return (0);
}

/* The pid; a start that is queued (pid null) is no error. */
int
gtctl_print_pid(struct gtctl *g, json_t *reply)
{
	json_t	*pid = json_object_get(reply, "pid");
	char	*st, *name;

	if (json_is_null(pid)) {
		st = gtctl_member(reply, "state");
		name = g->name != NULL ? gtctl_esc(g->name, strlen(g->name)) :
		    xstrdup("the child");
		fprintf(stderr, "gtctl: %s has no process yet (state %s)%s\n",
		    name, st, json_is_true(json_object_get(reply, "queued")) ?
		    ": queued behind max_starting" : "");
		free(name);
		free(st);
		return (0);
	}
	if (!json_is_integer(pid))
		return (gtctl_malformed("no \"pid\""));
	printf("%" JSON_INTEGER_FORMAT "\n", json_integer_value(pid));
	return (0);
}

/* An attr value: strings bare (as they were set), the rest as JSON. */
int
gtctl_print_value(struct gtctl *g, json_t *reply)
{
	json_t	*v = json_object_get(reply, "value");
	char	*s;

	if (v == NULL)
		return (gtctl_malformed("no \"value\""));
	s = json_is_null(v) ? xstrdup("null") : gtctl_str(v);
	printf("%s\n", s);
	free(s);
	return (0);
}

int
gtctl_print_spec(struct gtctl *g, json_t *reply)
{
	json_t	*spec = json_object_get(reply, "spec");
	char	*s, *safe, *line, *nl;

	if (!json_is_object(spec))
		return (gtctl_malformed("no \"spec\""));
	if ((s = gtctl_dump(spec, JSON_INDENT(2))) == NULL)
		return (gtctl_malformed("bad \"spec\""));
	/* Line by line: the raw newlines are the indentation's. */
	for (line = s; line != NULL; line = nl != NULL ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		safe = gtctl_json_safe(line, nl != NULL ? (size_t)(nl - line) :
		    strlen(line));
		printf("%s\n", safe);
		free(safe);
	}
	free(s);
	return (0);
}

int
gtctl_print_attrs(struct gtctl *g, json_t *reply)
{
	const char	*key;
	json_t		*attrs = json_object_get(reply, "attrs"), *v;
	char		*s, *k;

	if (attrs == NULL)
		return (0);		/* nothing to show */
	if (!json_is_object(attrs))
		return (gtctl_malformed("bad \"attrs\""));
	json_object_foreach(attrs, key, v) {
		s = json_is_null(v) ? xstrdup("null") : gtctl_str(v);
		k = gtctl_esc(key, strlen(key));
		printf("%s: %s\n", k, s);
		free(k);
		free(s);
	}
	return (0);
}

/* How a stop ended (gtctl_reason_text), or that there was no process. */
int
gtctl_print_reason(struct gtctl *g, json_t *reply)
{
	json_t	*r = json_object_get(reply, "reason");
	char	*s;

	if (r == NULL || json_is_null(r)) {
		printf("was not running\n");
		return (0);
	}
	if ((s = gtctl_reason_text(r, g->stop_signal)) == NULL)
		return (gtctl_malformed("bad \"reason\""));
	printf("%s\n", s);
	free(s);
	return (0);
}

/*
 * The STATE cell: the state, "stopped (gave up)" when the policy gave
 * up, "restarting (next try in 2.1 s)" when the time is known.
 */
static char *
gtctl_state_text(json_t *row, const char **sgr)
{
	const char	*state = json_string_value(json_object_get(row,
			    "state"));
	json_t		*at = json_object_get(row, "restart_at");
	char		*s, *st, *d;

	st = gtctl_member(row, "state");
	*sgr = gtctl_state_color(state);
	if (json_is_true(json_object_get(row, "gave_up"))) {
		xasprintf(&s, "%s (gave up)", st);
		*sgr = GTCTL_C_RED;
	} else if (state != NULL && strcmp(state, "restarting") == 0 &&
	    json_is_integer(at)) {
		d = gtctl_duration(json_integer_value(at) - gtctl_now_ms());
		xasprintf(&s, "%s (next try in %s)", st, d);
		free(d);
	} else
		return (st);
	free(st);
	return (s);
}

/* Does some row belong to an OTP group (which_children "member_of")? */
static bool
gtctl_ls_grouped(json_t *rows)
{
	json_t	*r;
	size_t	 i;

	json_array_foreach(rows, i, r)
		if (json_is_string(json_object_get(r, "member_of")))
			return (true);
	return (false);
}

/*
 * NAME STATE PID UPTIME RESTARTS, then GROUP when some row is a group's
 * member (its group, or "-"), then TYPE RESTART with --wide.
 */
int
gtctl_print_ls(struct gtctl *g, json_t *reply)
{
	struct gtctl_table	 t = { .ncol = 7, .nshow = g->wide ? 7 : 5 };
	json_t			*rows = json_object_get(reply, "children"), *r;
	const char		*sgr;
	char			*state, *grp;
	size_t			 i;
	bool			 grouped;

	if (!json_is_array(rows))
		return (gtctl_malformed("no \"children\""));
	if ((grouped = gtctl_ls_grouped(rows))) {
		t.ncol = 8;
		t.nshow = g->wide ? 8 : 6;
	}
	if (grouped)
		gtctl_table_add(&t, xstrdup("NAME"), xstrdup("STATE"),
		    xstrdup("PID"), xstrdup("UPTIME"), xstrdup("RESTARTS"),
		    xstrdup("GROUP"), xstrdup("TYPE"), xstrdup("RESTART"));
	else
		gtctl_table_add(&t, xstrdup("NAME"), xstrdup("STATE"),
		    xstrdup("PID"), xstrdup("UPTIME"), xstrdup("RESTARTS"),
		    xstrdup("TYPE"), xstrdup("RESTART"));
	for (i = 0; i < t.ncol; i++)
		gtctl_table_color(&t, i, GTCTL_C_BOLD);
	json_array_foreach(rows, i, r) {
		state = gtctl_state_text(r, &sgr);
		grp = json_is_string(json_object_get(r, "member_of")) ?
		    gtctl_member(r, "member_of") : xstrdup("-");
		if (grouped)
			gtctl_table_add(&t, gtctl_member(r, "name"), state,
			    gtctl_member(r, "pid"),
			    gtctl_uptime(json_object_get(r, "pid"),
			    json_object_get(r, "started_at")),
			    gtctl_member(r, "restart_count"), grp,
			    gtctl_member(r, "type"), gtctl_member(r,
			    "restart"));
		else {
			free(grp);
			gtctl_table_add(&t, gtctl_member(r, "name"), state,
			    gtctl_member(r, "pid"),
			    gtctl_uptime(json_object_get(r, "pid"),
			    json_object_get(r, "started_at")),
			    gtctl_member(r, "restart_count"),
			    gtctl_member(r, "type"), gtctl_member(r,
			    "restart"));
		}
		gtctl_table_color(&t, 1, sgr);
	}
	gtctl_table_print(g, &t);
	return (0);
}

int
gtctl_print_list(struct gtctl *g, json_t *reply)
{
	struct gtctl_table	 t = { .ncol = 3, .nshow = 3 };
	json_t			*rows = json_object_get(reply, "children"), *r;
	json_t			*attrs;
	size_t			 i;

	if (!json_is_array(rows))
		return (gtctl_malformed("no \"children\""));
	gtctl_table_add(&t, xstrdup("NAME"), xstrdup("PID"), xstrdup("ATTRS"));
	for (i = 0; i < t.ncol; i++)
		gtctl_table_color(&t, i, GTCTL_C_BOLD);
	json_array_foreach(rows, i, r) {
		attrs = json_object_get(r, "attrs");
		gtctl_table_add(&t, gtctl_member(r, "name"),
		    gtctl_member(r, "pid"),
		    json_object_size(attrs) == 0 ? xstrdup("-") :
		    gtctl_str(attrs));
	}
	gtctl_table_print(g, &t);
	return (0);
}

/*
 * A query result as a table: a header of column names, then one line
 * per row, columns as wide as their widest cell.  Any number of
 * columns, unlike gtctl_table.
 */
int
gtctl_print_query(struct gtctl *g, json_t *reply)
{
	json_t	*cols = json_object_get(reply, "columns"), *rows, *row;
	size_t	 ncol, nrow, i, j, n, *w;
	char	**cell;

	rows = json_object_get(reply, "rows");
	if (!json_is_array(cols) || !json_is_array(rows))
		return (gtctl_malformed("no \"columns\" or \"rows\""));
	ncol = json_array_size(cols);
	nrow = json_array_size(rows) + 1;
	cell = xcalloc(nrow * ncol + 1, sizeof *cell);
	w = xcalloc(ncol + 1, sizeof *w);
	for (i = 0; i < nrow; i++) {
		row = i == 0 ? cols : json_array_get(rows, i - 1);
		for (j = 0; j < ncol; j++) {
			cell[i * ncol + j] = gtctl_str(json_array_get(row, j));
			if ((n = gtctl_width(cell[i * ncol + j])) > w[j])
				w[j] = n;
		}
	}
	for (i = 0; i < nrow * ncol; i++) {
		j = i % ncol;
		if (j + 1 < ncol)
			printf("%s%*s", cell[i], (int)(w[j] -
			    gtctl_width(cell[i]) + 2), "");
		else
			printf("%s\n", cell[i]);
		free(cell[i]);
	}
	free(cell);
	free(w);
	if (json_is_true(json_object_get(reply, "truncated")))
		fprintf(stderr, "gtctl: truncated after %zu rows "
		    "(see --max-rows)\n", nrow - 1);
	return (0);
}

/* "started: a, b" for the names in reply[key], if there are any. */
static void
gtctl_reload_line(struct gtctl *g, json_t *reply, const char *key,
    const char *label, const char *sgr)
{
	json_t	*names = json_object_get(reply, key), *v;
	char	*s;
	size_t	 i;

	if (json_array_size(names) == 0)
		return;
	printf("%s%s%s:", gtctl_sgr(g, false, sgr), label, sgr != NULL ?
	    gtctl_sgr_off(g, false) : "");
	json_array_foreach(names, i, v) {
		s = gtctl_str(v);
		printf("%s %s", i == 0 ? "" : ",", s);
		free(s);
	}
	printf("\n");
}

/*
 * What a reload did (or, with --dry-run, would do): the names started,
 * stopped, with a changed spec, unchanged, absent (row gone, entry
 * unchanged: not started again) and failed, then gtd's warnings on
 * stderr.  A reply without these lists (an older gtd) prints nothing.
 */
int
gtctl_print_reload(struct gtctl *g, json_t *reply)
{
	static const char *const keys[] = { "started", "stopped", "changed",
	    "unchanged", "absent", "failed" };
	json_t	*v;
	char	*s;
	size_t	 i, n = 0, known = 0;
	bool	 dry = g->dry_run;

	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		if (json_object_get(reply, keys[i]) != NULL)
			known++;
		n += json_array_size(json_object_get(reply, keys[i]));
	}
	if (known == 0)
		return (0);
	gtctl_reload_line(g, reply, "started", dry ? "would start" :
	    "started", GTCTL_C_GREEN);
	gtctl_reload_line(g, reply, "stopped", dry ? "would stop" :
	    "stopped", GTCTL_C_RED);
	gtctl_reload_line(g, reply, "changed", dry ?
	    "would change (applies at the next start)" :
	    "changed (applies at the next start)", GTCTL_C_YELLOW);
	gtctl_reload_line(g, reply, "unchanged", "unchanged", NULL);
	gtctl_reload_line(g, reply, "absent",
	    "not started again (gone, entry unchanged)", GTCTL_C_DIM);
	gtctl_reload_line(g, reply, "failed", "failed to start", GTCTL_C_RED);
	if (n == 0)
		printf("%s\n", dry ? "nothing to do" : "nothing changed");
	if (json_is_true(json_object_get(reply, "queued")))
		printf("queued: gtd applies it once its boot has finished\n");
	json_array_foreach(json_object_get(reply, "warnings"), i, v) {
		s = gtctl_str(v);
		fprintf(stderr, "gtctl: warning: %s\n", s);
		free(s);
	}
	return (0);
}
