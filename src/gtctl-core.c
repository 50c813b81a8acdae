/* SPDX-License-Identifier: MIT */
/*
 * gtctl-core: what every gtctl command uses: usage errors, request
 * building from words (key=value, values that are JSON or strings) and
 * the exchange with gtd (connect, send, one reply, the exit status of a
 * failure).  Calls no command: gtctl.c's main and the command files
 * (gtctl-many.c, gtctl-logs.c) call it.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <jansson.h>

#include "gt/client.h"
#include "gt/gtctl-text.h"
#include "gt/gtctl.h"
#include "gt/xmalloc.h"

static void	gtctl_set_path(struct gtctl *, json_t *, const char *,
		    json_t *);

int
gtctl_bad_usage(const struct gtctl_cmd *c, const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "gtctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: gtctl %s%s%s\n", c->name,
	    *c->usage ? " " : "", c->usage);
	return (EX_USAGE);
}

const char *
gtctl_optval(const struct gtctl *g, struct gtctl_args *a, const char *name)
{
	const struct gtctl_opt	*o;
	int			 k;

	for (k = 0, o = g->cmd->opts; o != NULL && o->name != NULL; k++, o++)
		if (strcmp(o->name, name) == 0)
			return (a->opt[k]);
	return (NULL);
}

int
gtctl_int(const char *what, const char *s, json_int_t *out)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0) {
		fprintf(stderr, "gtctl: %s: not an integer: %s\n", what, s);
		return (EX_USAGE);
	}
	*out = v;
	return (0);
}

/* A command-line value: JSON if it parses as JSON, else a string. */
json_t *
gtctl_value(const char *s)
{
	json_t	*v;

	if ((v = json_loads(s, JSON_DECODE_ANY, NULL)) != NULL)
		return (v);
	return (json_string(s));		/* NULL if not UTF-8 */
}

void
gtctl_set(struct gtctl *g, json_t *obj, const char *key, json_t *v)
{
	if (v == NULL || json_object_set_new(obj, key, v) == -1)
		g->bad_utf8 = true;
}

/* Like gtctl_set, but "env.FOO" sets key FOO of the object at "env". */
static void
gtctl_set_path(struct gtctl *g, json_t *obj, const char *key, json_t *v)
{
	const char	*dot;
	char		*head;
	json_t		*sub;

	while ((dot = strchr(key, '.')) != NULL && dot != key &&
	    dot[1] != '\0') {
		head = xstrndup(key, dot - key);
		if (!json_is_object(sub = json_object_get(obj, head))) {
			sub = json_object();
			gtctl_set(g, obj, head, sub);
		}
		free(head);
		if (g->bad_utf8) {
			json_decref(v);
			return;
		}
		obj = sub;
		key = dot + 1;
	}
	gtctl_set(g, obj, key, v);
}

int
gtctl_add_kv(struct gtctl *g, json_t *req, char **words, int n)
{
	json_t	*v;
	char	*key;
	int	 i;
	size_t	 klen;

	for (i = 0; i < n; i++) {
		klen = strcspn(words[i], "=");
		if (words[i][klen] != '=' || klen == 0)
			return (gtctl_bad_usage(g->cmd,
			    "expected key=value: %s", words[i]));
		key = xstrndup(words[i], klen);
		/* Environment values are strings, even "env.PORT=8080". */
		if (strncmp(key, "env.", 4) == 0)
			v = json_string(words[i] + klen + 1);
		else
			v = gtctl_value(words[i] + klen + 1);
		gtctl_set_path(g, req, key, v);
		free(key);
	}
	return (0);
}

json_t *
gtctl_strings(struct gtctl *g, char **words, int n)
{
	json_t	*a = json_array(), *s;
	int	 i;

	for (i = 0; i < n; i++) {
		if ((s = json_string(words[i])) == NULL)
			g->bad_utf8 = true;
		else
			json_array_append_new(a, s);
	}
	return (a);
}

json_t *
gtctl_request(struct gtctl *g, const char *op)
{
	json_t	*req = json_object();

	gtctl_set(g, req, "op", json_string(op));
	return (req);
}

int
gtctl_timeout(const struct gtctl *g)
{
	if (g->timeout_ms == 0)
		return (-1);
	if (g->timeout_ms > 0)
		return (g->timeout_ms);
	return (g->waits ? -1 : GTCTL_TIMEOUT_MS);
}

struct client *
gtctl_open(const struct gtctl *g)
{
	struct client	*c;
	char		*cause, *safe;

	if ((c = client_connect(g->path, &cause)) == NULL) {
		safe = gtctl_esc(cause, strlen(cause));
		fprintf(stderr, "gtctl: %s (is gtd running?)\n", safe);
		free(safe);
		free(cause);
	}
	return (c);
}

int
gtctl_connect(struct gtctl *g)
{
	if (g->client == NULL && (g->client = gtctl_open(g)) == NULL)
		return (EX_UNAVAILABLE);
	return (0);
}

int
gtctl_lost(const struct gtctl *g, bool sent, int timeout)
{
	if (errno == ETIMEDOUT && sent)
		fprintf(stderr, "gtctl: %s: no reply within %d ms\n", g->path,
		    timeout);
	else if (errno == ECONNRESET || errno == ETIMEDOUT)
		fprintf(stderr, "gtctl: %s: connection closed by gtd\n",
		    g->path);
	else
		fprintf(stderr, "gtctl: %s: %s\n", g->path, strerror(errno));
	return (EX_UNAVAILABLE);
}

/*
 * Connect if not yet connected, send line, and wait for one reply line
 * (borrowed until the next call).  0, or EX_UNAVAILABLE with a message.
 */
int
gtctl_exchange(struct gtctl *g, const char *line, size_t len,
    const char **rp, size_t *rlenp)
{
	int	 timeout = gtctl_timeout(g), sent, ret;

	if ((ret = gtctl_connect(g)) != 0)
		return (ret);
	/*
	 * When the send fails, gtd may still have said why before closing
	 * (a "limit" error when it has too many connections): read it.
	 */
	sent = client_send(g->client, line, len);
	*rp = client_recv(g->client, sent == 0 ? timeout : 0, rlenp);
	if (*rp != NULL)
		return (0);
	return (gtctl_lost(g, sent == 0, timeout));
}

int
gtctl_parse_reply(const char *r, size_t rlen, json_t **replyp)
{
	json_error_t	 je;
	json_t		*reply;

	*replyp = NULL;
	if ((reply = json_loadb(r, rlen, 0, &je)) == NULL)
		return (gtctl_malformed(je.text));
	if (!json_is_boolean(json_object_get(reply, "ok"))) {
		json_decref(reply);
		return (gtctl_malformed("no \"ok\""));
	}
	*replyp = reply;
	return (0);
}

char *
gtctl_encode(struct gtctl *g, json_t *req)
{
	char	*line;

	line = g->bad_utf8 ? NULL : json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (line == NULL)
		fprintf(stderr, "gtctl: argument is not valid UTF-8\n");
	return (line);
}

int
gtctl_call_any(struct gtctl *g, json_t *req, json_t **replyp)
{
	const char	*r;
	char		*line;
	size_t		 rlen;
	int		 ret;

	*replyp = NULL;
	if ((line = gtctl_encode(g, req)) == NULL)
		return (EX_USAGE);
	ret = gtctl_exchange(g, line, strlen(line), &r, &rlen);
	free(line);
	if (ret != 0)
		return (ret);
	if (g->json)
		gtctl_print_json_line(r, rlen);
	return (gtctl_parse_reply(r, rlen, replyp));
}

int
gtctl_call(struct gtctl *g, json_t *req, json_t **replyp)
{
	int	ret;

	if ((ret = gtctl_call_any(g, req, replyp)) != 0)
		return (ret);
	if (json_is_false(json_object_get(*replyp, "ok"))) {
		ret = gtctl_refused(g, *replyp, NULL);
		json_decref(*replyp);
		*replyp = NULL;
	}
	return (ret);
}

int
gtctl_call_quiet(struct gtctl *g, json_t *req, json_t **replyp)
{
	bool	json = g->json;
	int	ret;

	g->json = false;
	ret = gtctl_call(g, req, replyp);
	g->json = json;
	return (ret);
}

int
gtctl_run(struct gtctl *g, json_t *req)
{
	json_t	*reply;
	int	 ret;

	if ((ret = gtctl_call(g, req, &reply)) != 0)
		return (ret);
	if (!g->json)
		ret = g->cmd->print(g, reply);
	json_decref(reply);
	return (ret);
}

/*
 * The request of most commands: op, then name (the first positional
 * without '='), key=value words, "cmd" from the words after "--", and
 * the options that map to arguments (--nowait, --pid, --state).
 */
int
gtctl_build(struct gtctl *g, struct gtctl_args *a, const char *op,
    json_t **reqp)
{
	json_t		*req = gtctl_request(g, op);
	const char	*v;
	json_int_t	 pid;
	int		 first = 0, ret;

	*reqp = req;
	if (a->npos > 0 && strchr(a->pos[0], '=') == NULL) {
		gtctl_set(g, req, "name", json_string(a->pos[0]));
		g->name = a->pos[0];
		first = 1;
	}
	if ((v = gtctl_optval(g, a, "pid")) != NULL) {
		if (first == 1)
			return (gtctl_bad_usage(g->cmd, "name and --pid"));
		if ((ret = gtctl_int("--pid", v, &pid)) != 0)
			return (ret);
		gtctl_set(g, req, "pid", json_integer(pid));
	} else if (first == 0 && (g->cmd->flags & GTCTL_NAME))
		return (gtctl_bad_usage(g->cmd, "missing name"));
	if (gtctl_optval(g, a, "nowait") != NULL)
		gtctl_set(g, req, "wait", json_false());
	if ((v = gtctl_optval(g, a, "state")) != NULL)
		gtctl_set(g, req, "state", json_string(v));
	if (a->cmd != NULL)
		gtctl_set(g, req, "cmd", gtctl_strings(g, a->cmd, a->ncmd));
	return (gtctl_add_kv(g, req, a->pos + first, a->npos - first));
}

int
gtctl_exec_generic(struct gtctl *g, struct gtctl_args *a)
{
	json_t	*req;
	int	 ret;

	if ((ret = gtctl_build(g, a, g->cmd->op, &req)) != 0) {
		json_decref(req);
		return (ret);
	}
	return (gtctl_run(g, req));
}
