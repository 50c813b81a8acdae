/* SPDX-License-Identifier: MIT */
/*
 * cmd: the request context and the helpers every op shares: the reply
 * (built into one reusable buffer and queued), errors, arguments in
 * either request form, waits on children and timeouts, cmd_finish() for
 * a CMD_WAIT.  The table and the dispatcher that call the ops are in
 * dispatch.c, above them; nothing here names an op.
 */
#include "config.h"

#include <assert.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gt/childdeps.h"
#include "gt/childgroup.h"
#include "gt/childcg.h"
#include "gt/childlog.h"
#include "gt/cmd.h"
#include "gt/config.h"
#include "gt/conn.h"
#include "gt/gtcluster.h"
#include "gt/gtd.h"
#include "gt/log.h"
#include "gt/proto.h"
#include "gt/protocol.h"
#include "gt/registry.h"
#include "gt/reload.h"
#include "gt/spawn.h"
#include "gt/utf8.h"
#include "gt/xmalloc.h"

static void	cmd_buf_raw(struct gtd *, const char *, size_t);
static void	cmd_buf_value(struct gtd *, const json_t *);
static void	cmd_buf_fields(struct gtd *, json_t *);
static const struct proto_field *cmd_flat_get(struct cmd_ctx *,
		    const char *);
static void	cmd_raw_key(struct cmd_ctx *, const char *, size_t);
static void	cmd_raw_str(struct cmd_ctx *, const char *);
static void	cmd_timer_cb(struct ev_loop *, ev_timer *, int);
static void	cmd_ready_wake(struct child *, void *);

struct cmd_ctx *
cmd_new(struct gtd *g, struct conn *cn)
{
	struct cmd_ctx	*ctx;

	if ((ctx = g->cmd->spare_ctx) != NULL) {
		g->cmd->spare_ctx = NULL;
		memset(ctx, 0, sizeof *ctx);
	} else
		ctx = xcalloc(1, sizeof *ctx);
	ctx->gtd = g;
	ctx->conn = cn;
	conn_ref(cn);
	ctx->raw = ctx->rawbuf;
	ctx->rawsize = sizeof ctx->rawbuf;
	ev_init(&ctx->timer, cmd_timer_cb);
	ctx->timer.data = ctx;
	return (ctx);
}

void
cmd_free(struct cmd_ctx *ctx)
{
	struct gtd	*g = ctx->gtd;

	if (ctx->xfree != NULL)
		ctx->xfree(ctx);
	ev_timer_stop(g->loop, &ctx->timer);
	if (ctx->op != NULL && ctx->op_free != NULL)
		ctx->op_free(ctx->op);		/* its refs and timers first */
	free(ctx->op);
	if (ctx->child != NULL) {
		child_unwait(ctx->child, &ctx->w);
		child_unref(ctx->child);
	}
	conn_unref(ctx->conn);
	json_decref(ctx->id);
	free(ctx->idraw);
	json_decref(ctx->res);
	json_decref(ctx->res_ok);
	free(ctx->msg);
	if (ctx->raw != ctx->rawbuf)
		free(ctx->raw);
	if (g->cmd->spare_ctx == NULL)	/* most requests reuse this one */
		g->cmd->spare_ctx = ctx;
	else
		free(ctx);
}

#define CMD_BUF_LIT(g, s)	cmd_buf_raw((g), (s), sizeof (s) - 1)

/*
 * The reply buffer never grows past g->cmd->rmax: a longer reply is not
 * copied on (g->cmd->rover), and cmd_send replaces it with a limit error.
 */
static int
cmd_buf_grow(struct gtd *g, size_t need)
{
	if (g->cmd->rover || need > g->cmd->rmax - g->cmd->rlen) {
		g->cmd->rover = true;
		return (-1);
	}
	while (g->cmd->rsize - g->cmd->rlen < need)
		g->cmd->rsize = g->cmd->rsize == 0 ? 4096 : g->cmd->rsize * 2;
	g->cmd->rbuf = xreallocarray(g->cmd->rbuf, 1, g->cmd->rsize);
	return (0);
}

static void
cmd_buf_raw(struct gtd *g, const char *s, size_t len)
{
	if (g->cmd->rover || (g->cmd->rsize - g->cmd->rlen < len &&
	    cmd_buf_grow(g, len) == -1) || len > g->cmd->rmax - g->cmd->rlen) {
		g->cmd->rover = true;
		return;
	}
	memcpy(g->cmd->rbuf + g->cmd->rlen, s, len);
	g->cmd->rlen += len;
}

/* One JSON value, compact (so on one line). */
static void
cmd_buf_value(struct gtd *g, const json_t *v)
{
	size_t	n;

	if (g->cmd->rover)
		return;
	n = proto_dumpb(v, g->cmd->rbuf + g->cmd->rlen, g->cmd->rsize - g->cmd->rlen,
	    JSON_COMPACT | JSON_ENCODE_ANY);
	if (n > g->cmd->rsize - g->cmd->rlen) {
		if (cmd_buf_grow(g, n) == -1)
			return;
		n = proto_dumpb(v, g->cmd->rbuf + g->cmd->rlen, g->cmd->rsize - g->cmd->rlen,
		    JSON_COMPACT | JSON_ENCODE_ANY);
	}
	if (n > g->cmd->rmax - g->cmd->rlen) {
		g->cmd->rover = true;
		return;
	}
	if (n == 0)	/* not encodable: cannot happen, but stay JSON */
		CMD_BUF_LIT(g, "null");
	else
		g->cmd->rlen += n;
}

/* ,"key":value for every member; keys are the commands' own literals. */
static void
cmd_buf_fields(struct gtd *g, json_t *obj)
{
	const char	*k;
	json_t		*v;

	json_object_foreach(obj, k, v) {
		CMD_BUF_LIT(g, ",\"");
		cmd_buf_raw(g, k, strlen(k));
		CMD_BUF_LIT(g, "\":");
		cmd_buf_value(g, v);
	}
}

/*
 * The reply would not fit the output caps: drop the result and say so
 * instead (still one reply).  That error may take any size: only its id
 * is not short, and that is bounded by max_request_bytes.
 */
static void
cmd_too_big(struct cmd_ctx *ctx, size_t max)
{
	struct gtd	*g = ctx->gtd;
	bool		 total = max + 1 < g->lim.max_output_bytes;

	json_decref(ctx->res);
	json_decref(ctx->res_ok);
	ctx->res = ctx->res_ok = NULL;
	ctx->rawlen = 0;
	if (total)
		cmd_error(ctx, GT_E_LIMIT, "gtd holds %zu bytes of unsent "
		    "replies, the most it may (all connections): try again "
		    "later", connset_queued(g->conns));
	else
		cmd_error(ctx, GT_E_LIMIT, "the reply would exceed %zu bytes "
		    "(max_output_bytes): ask for less (keys, state, lines, "
		    "max_rows) or raise max_output_bytes", max + 1);
	cmd_set(ctx, "limit", json_string(total ? "output_total" :
	    "max_output_bytes"));
	ctx->over = true;
}

/* Write {"id", "ok", error/message, result fields} into g->cmd->rbuf. */
static void
cmd_build(struct cmd_ctx *ctx)
{
	struct gtd	*g = ctx->gtd;
	json_t		*msg;

	g->cmd->rlen = 0;
	g->cmd->rover = false;
	CMD_BUF_LIT(g, "{");
	if (ctx->idraw != NULL) {
		CMD_BUF_LIT(g, "\"id\":");
		cmd_buf_raw(g, ctx->idraw, strlen(ctx->idraw));
		CMD_BUF_LIT(g, ",");
	} else if (ctx->id != NULL) {
		CMD_BUF_LIT(g, "\"id\":");
		cmd_buf_value(g, ctx->id);
		CMD_BUF_LIT(g, ",");
	}
	if (ctx->err != NULL) {
		CMD_BUF_LIT(g, "\"ok\":false,\"error\":");
		cmd_buf_value(g, msg = json_string(ctx->err));
		json_decref(msg);
		/* A message quoting a cut name may not be valid UTF-8. */
		if ((msg = json_string(ctx->msg)) == NULL)
			msg = json_string(ctx->err);
		CMD_BUF_LIT(g, ",\"message\":");
		cmd_buf_value(g, msg);
		json_decref(msg);
	} else {
		CMD_BUF_LIT(g, "\"ok\":true");
		if (ctx->res_ok != NULL)
			cmd_buf_fields(g, ctx->res_ok);
	}
	if (ctx->res != NULL)
		cmd_buf_fields(g, ctx->res);
	cmd_buf_raw(g, ctx->raw, ctx->rawlen);
	CMD_BUF_LIT(g, "}");
}

/*
 * Build the reply and queue it.  It is written key by key into one
 * reusable buffer: no envelope object to build, merge and dump, no
 * allocation per reply.  The buffer stops at what the output caps allow
 * (conn_reply_max): a longer reply becomes a limit error.
 */
void
cmd_send(struct cmd_ctx *ctx)
{
	struct gtd	*g = ctx->gtd;

	g->cmd->rmax = ctx->over ? SIZE_MAX : conn_reply_max(ctx->conn);
	cmd_build(ctx);
	if (g->cmd->rover && !ctx->over) {
		cmd_too_big(ctx, g->cmd->rmax);
		g->cmd->rmax = SIZE_MAX;
		cmd_build(ctx);
	}
	conn_reply(ctx->conn, g->cmd->rbuf, g->cmd->rlen);
	if (ctx->err == NULL && ctx->after != NULL &&
	    !conn_is_dead(ctx->conn))
		ctx->after(ctx);
}

static void
cmd_unhold(struct cmd_ctx *ctx)
{
	assert(ctx->waiting);
	ctx->waiting = false;
	TAILQ_REMOVE(&ctx->gtd->cmd->waiting, ctx, wentry);
}

void
cmd_finish(struct cmd_ctx *ctx)
{
	struct conn	*cn = ctx->conn;

	cmd_unhold(ctx);
	cmd_send(ctx);
	cmd_free(ctx);
	conn_resume(cn);
}

void
cmd_abandon_all(struct gtd *g)
{
	struct cmd_ctx	*ctx;

	while ((ctx = TAILQ_FIRST(&g->cmd->waiting)) != NULL) {
		cmd_unhold(ctx);
		cmd_free(ctx);
	}
}

void
cmd_set(struct cmd_ctx *ctx, const char *key, json_t *val)
{
	if (ctx->res == NULL)
		ctx->res = json_object();
	json_object_set_new(ctx->res, key, val);
}

void
cmd_set_ok(struct cmd_ctx *ctx, const char *key, json_t *val)
{
	if (ctx->res_ok == NULL)
		ctx->res_ok = json_object();
	json_object_set_new(ctx->res_ok, key, val);
}

/* Append len bytes of JSON text to the raw result fields. */
static void
cmd_raw(struct cmd_ctx *ctx, const char *s, size_t len)
{
	size_t	size = ctx->rawsize;

	if (size - ctx->rawlen < len) {
		while (size - ctx->rawlen < len)
			size *= 2;
		if (ctx->raw == ctx->rawbuf) {
			ctx->raw = xmalloc(size);
			memcpy(ctx->raw, ctx->rawbuf, ctx->rawlen);
		} else
			ctx->raw = xreallocarray(ctx->raw, 1, size);
		ctx->rawsize = size;
	}
	memcpy(ctx->raw + ctx->rawlen, s, len);
	ctx->rawlen += len;
}

/* ,"key": -- keys are the commands' own literals. */
static void
cmd_raw_key(struct cmd_ctx *ctx, const char *key, size_t len)
{
	cmd_raw(ctx, ",\"", 2);
	cmd_raw(ctx, key, len);
	cmd_raw(ctx, "\":", 2);
}

/*
 * s as a JSON string: '"', '\\' and control bytes escaped, and a byte
 * that is not part of valid UTF-8 (a child's STATUS= text can be
 * anything) written as U+FFFD, so the reply is always valid JSON.
 */
static void
cmd_raw_str(struct cmd_ctx *ctx, const char *s)
{
	static const char	 hex[] = "0123456789abcdef";
	const char		*p = s, *end = s + strlen(s);
	char			 esc[6] = { '\\', 'u', '0', '0' };
	size_t			 n;

	cmd_raw(ctx, "\"", 1);
	while (*p != '\0') {
		if (*p != '"' && *p != '\\' && (unsigned char)*p >= 0x20 &&
		    (n = utf8_len(p, end - p)) > 0) {
			p += n;
			continue;
		}
		cmd_raw(ctx, s, p - s);
		if (*p == '"' || *p == '\\') {
			esc[1] = *p;
			cmd_raw(ctx, esc, 2);
			esc[1] = 'u';
		} else if ((unsigned char)*p < 0x20) {
			esc[4] = hex[(unsigned char)*p >> 4];
			esc[5] = hex[*p & 0xf];
			cmd_raw(ctx, esc, 6);
		} else
			cmd_raw(ctx, "\\ufffd", 6);
		s = ++p;
	}
	cmd_raw(ctx, s, p - s);
	cmd_raw(ctx, "\"", 1);
}

void
cmd_raw_int(struct cmd_ctx *ctx, int64_t v)
{
	char		 buf[24], *p = buf + sizeof buf;
	uint64_t	 u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do {			/* no printf: this is on every reply */
		*--p = '0' + u % 10;
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	cmd_raw(ctx, p, buf + sizeof buf - p);
}

void
cmd_raw_text(struct cmd_ctx *ctx, const char *json, size_t len)
{
	cmd_raw(ctx, json, len);
}

void
cmd_raw_string(struct cmd_ctx *ctx, const char *s)
{
	cmd_raw_str(ctx, s);
}

void
cmd_raw_int_or_null(struct cmd_ctx *ctx, bool set, int64_t v)
{
	if (set)
		cmd_raw_int(ctx, v);
	else
		cmd_raw(ctx, "null", 4);
}

void
cmd_raw_row_head(struct cmd_ctx *ctx, const char *name, const char *node,
    pid_t pid, const char *state)
{
	cmd_raw(ctx, "{\"name\":", 8);
	cmd_raw_str(ctx, name);
	if (node != NULL) {
		cmd_raw(ctx, ",\"node\":", 8);
		cmd_raw_str(ctx, node);
	}
	cmd_raw(ctx, ",\"pid\":", 7);
	cmd_raw_int_or_null(ctx, pid > 0, pid);
	cmd_raw(ctx, ",\"state\":", 9);
	cmd_raw_str(ctx, state);
}

void
cmd_raw_value(struct cmd_ctx *ctx, const struct value *v)
{
	json_t	*j;
	char	 buf[64];
	size_t	 n;

	switch (v->type) {
	case VALUE_INT:
		cmd_raw_int(ctx, v->i);
		return;
	case VALUE_TEXT:
		cmd_raw_str(ctx, v->s);
		return;
	case VALUE_JSON:		/* compact JSON text written by gtd */
		cmd_raw(ctx, v->s, strlen(v->s));
		return;
	case VALUE_REAL:
		break;
	}
	j = proto_value_json(v);
	n = json_dumpb(j, buf, sizeof buf, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(j);
	if (n == 0 || n > sizeof buf)
		cmd_raw(ctx, "null", 4);
	else
		cmd_raw(ctx, buf, n);
}

size_t
cmd_reply_room(struct cmd_ctx *ctx)
{
	return (conn_reply_max(ctx->conn));
}

bool
cmd_reply_full(struct cmd_ctx *ctx)
{
	size_t	max = conn_reply_max(ctx->conn);

	if (ctx->rawlen <= max)
		return (false);
	cmd_too_big(ctx, max);
	if (ctx->raw != ctx->rawbuf)
		free(ctx->raw);
	ctx->raw = ctx->rawbuf;
	ctx->rawsize = sizeof ctx->rawbuf;
	return (true);
}

void
cmd_set_int(struct cmd_ctx *ctx, const char *key, int64_t v)
{
	cmd_raw_key(ctx, key, strlen(key));
	cmd_raw_int(ctx, v);
}

void
cmd_set_str(struct cmd_ctx *ctx, const char *key, const char *s)
{
	cmd_raw_key(ctx, key, strlen(key));
	cmd_raw_str(ctx, s);
}

void
cmd_set_value(struct cmd_ctx *ctx, const char *key, const struct value *v)
{
	cmd_raw_key(ctx, key, strlen(key));
	cmd_raw_value(ctx, v);
}

void
cmd_error(struct cmd_ctx *ctx, const char *code, const char *fmt, ...)
{
	va_list	ap;

	ctx->err = code;
	free(ctx->msg);
	va_start(ap, fmt);
	if (vasprintf(&ctx->msg, fmt, ap) == -1)
		ctx->msg = NULL;
	va_end(ap);
	if (ctx->msg == NULL)
		ctx->msg = xstrdup(code);
}

void
cmd_bad(struct cmd_ctx *ctx, const char *field, const char *fmt, ...)
{
	va_list	ap;

	ctx->err = GT_E_BAD_REQUEST;
	free(ctx->msg);
	va_start(ap, fmt);
	if (vasprintf(&ctx->msg, fmt, ap) == -1)
		ctx->msg = xstrdup(GT_E_BAD_REQUEST);
	va_end(ap);
	cmd_set(ctx, "field", json_string(field));
}

static const struct proto_field *
cmd_flat_get(struct cmd_ctx *ctx, const char *key)
{
	const struct proto_flat	*fl = ctx->flat;
	size_t			 i;

	for (i = 0; i < fl->n; i++)	/* the first byte spares most calls */
		if (fl->f[i].key[0] == key[0] && strcmp(fl->f[i].key, key) == 0)
			return (&fl->f[i]);
	return (NULL);
}

/* The string argument key, if it is one; no checks, no error. */
const char *
cmd_arg_peek(struct cmd_ctx *ctx, json_t *args, const char *key)
{
	const struct proto_field	*f;

	if (args != NULL)
		return (json_string_value(json_object_get(args, key)));
	f = cmd_flat_get(ctx, key);
	return (f != NULL && f->type == PROTO_STR ? f->s : NULL);
}

static bool
cmd_key_known(const char *const *keys, const char *k)
{
	for (; *keys != NULL; keys++)
		if ((*keys)[0] == k[0] && strcmp(*keys, k) == 0)
			return (true);
	return (false);
}

int
cmd_args_known(struct cmd_ctx *ctx, json_t *args, const char *const *keys)
{
	const char	*k;
	json_t		*v;
	size_t		 i;

	if (args == NULL) {
		for (i = 0; i < ctx->flat->n; i++)
			if (!cmd_key_known(keys, ctx->flat->f[i].key)) {
				k = ctx->flat->f[i].key;
				cmd_bad(ctx, k, "unknown argument %.64s", k);
				return (-1);
			}
		return (0);
	}
	json_object_foreach(args, k, v) {
		if (!cmd_key_known(keys, k)) {
			cmd_bad(ctx, k, "unknown argument %.64s", k);
			return (-1);
		}
	}
	return (0);
}

int
cmd_arg_string(struct cmd_ctx *ctx, json_t *args, const char *key,
    bool required, const char **out)
{
	const struct proto_field	*f;
	json_t				*v = NULL;
	const char			*s = NULL;
	size_t				 len = 0;
	bool				 present;

	if (args == NULL) {
		if ((present = (f = cmd_flat_get(ctx, key)) != NULL) &&
		    f->type == PROTO_STR) {
			s = f->s;	/* the scan took only ASCII, no NUL */
			len = f->slen;
		}
	} else if ((present = (v = json_object_get(args, key)) != NULL) &&
	    json_is_string(v) && strlen(json_string_value(v)) ==
	    json_string_length(v)) {
		s = json_string_value(v);
		len = json_string_length(v);
	}
	if (!present && !required)
		return (0);
	if (!present) {
		cmd_bad(ctx, key, "missing argument %s", key);
		return (-1);
	}
	if (s == NULL || len == 0 || len > GT_NAME_MAX) {
		cmd_bad(ctx, key, "%s must be a string of 1 to %d bytes "
		    "without NUL", key, GT_NAME_MAX);
		return (-1);
	}
	*out = s;
	return (1);
}

int
cmd_arg_int(struct cmd_ctx *ctx, json_t *args, const char *key,
    int64_t lo, int64_t hi, int64_t *out)
{
	const struct proto_field	*f;
	json_t				*v;
	int64_t				 i;
	bool				 isint;

	if (args == NULL) {
		if ((f = cmd_flat_get(ctx, key)) == NULL)
			return (0);
		isint = f->type == PROTO_INT;
		i = f->i;
	} else {
		if ((v = json_object_get(args, key)) == NULL)
			return (0);
		isint = json_is_integer(v);
		i = json_integer_value(v);
	}
	if (!isint || i < lo || i > hi) {
		cmd_bad(ctx, key, "%s must be an integer from %lld to %lld",
		    key, (long long)lo, (long long)hi);
		return (-1);
	}
	*out = i;
	return (1);
}

int
cmd_arg_bool(struct cmd_ctx *ctx, json_t *args, const char *key, bool *out)
{
	const struct proto_field	*f;
	json_t				*v;
	bool				 isbool, b;

	if (args == NULL) {
		if ((f = cmd_flat_get(ctx, key)) == NULL)
			return (0);
		isbool = f->type == PROTO_TRUE || f->type == PROTO_FALSE;
		b = f->type == PROTO_TRUE;
	} else {
		if ((v = json_object_get(args, key)) == NULL)
			return (0);
		isbool = json_is_boolean(v);
		b = json_is_true(v);
	}
	if (!isbool) {
		cmd_bad(ctx, key, "%s must be true or false", key);
		return (-1);
	}
	*out = b;
	return (1);
}

const struct config_tpl *
cmd_tpl(struct cmd_ctx *ctx)
{
	return (ctx->gtd->rl->conf == NULL ? NULL : &ctx->gtd->rl->conf->tpl);
}

struct cmd_state *
cmd_state_new(void)
{
	struct cmd_state	*cs = xcalloc(1, sizeof *cs);

	TAILQ_INIT(&cs->waiting);
	return (cs);
}

void
cmd_state_free(struct cmd_state *cs)
{
	if (cs == NULL)
		return;
	assert(TAILQ_EMPTY(&cs->waiting));
	free(cs->rbuf);
	free(cs->scan);
	free(cs->spare_ctx);
	free(cs);
}

void *
cmd_opdata(struct cmd_ctx *ctx, size_t size, void (*dtor)(void *))
{
	ctx->op = xcalloc(1, size);
	ctx->op_free = dtor;
	return (ctx->op);
}

const char *
cmd_opstr(struct cmd_ctx *ctx, const char *s)
{
	size_t	len = strlen(s) + 1;

	return (memcpy(cmd_opdata(ctx, len, NULL), s, len));
}

struct child *
cmd_named(struct cmd_ctx *ctx, json_t *args)
{
	const char	*name;

	if (cmd_arg_string(ctx, args, "name", true, &name) == -1)
		return (NULL);
	return (cmd_child(ctx, name));
}

void
cmd_state_error(struct cmd_ctx *ctx, const char *code, struct child *c)
{
	cmd_error(ctx, code, "%s is %s", c->name, child_state_name(c->state));
	cmd_set_str(ctx, "state", child_state_name(c->state));
}

struct child *
cmd_child(struct cmd_ctx *ctx, const char *name)
{
	struct child	*c;

	if ((c = child_find(ctx->gtd, name)) == NULL)
		cmd_error(ctx, GT_E_NOT_FOUND, "no child named %.128s", name);
	return (c);
}

/* Parse args as a childspec, add the row and start it. */
struct child *
cmd_child_new(struct cmd_ctx *ctx, json_t *specobj)
{
	struct childspec	*s;
	struct child		*c;
	char			*field = NULL, *cause = NULL;
	int			 i;

	if ((s = config_spec_build(cmd_tpl(ctx), specobj, &field,
	    &cause)) == NULL || childcg_check(ctx->gtd, s, &field,
	    &cause) == -1) {
		cmd_bad(ctx, field, "%s", cause);
		free(field);
		free(cause);
		spec_free(s);
		return (NULL);
	}
	if (childdeps_check(ctx->gtd, s, &field, &cause) == -1 ||
	    childgroup_check(ctx->gtd, s, &field, &cause) == -1) {
		cmd_bad(ctx, field, "%s", cause);
		free(field);
		free(cause);
		spec_free(s);
		return (NULL);
	}
	if ((c = childlog_clash(ctx->gtd, s, &i)) != NULL) {
		cmd_bad(ctx, i ? "stderr.file" : "stdout.file", "%s is also "
		    "written by %s: a rotated file needs a child of its own "
		    "(use %%n)", s->out[i].path, c->name);
		spec_free(s);
		return (NULL);
	}
	if ((c = child_add(ctx->gtd, s, config_spec_text(s))) == NULL) {
		cmd_error(ctx, GT_E_LIMIT, "max_children (%d) reached",
		    ctx->gtd->lim.max_children);
		cmd_set(ctx, "limit", json_string("max_children"));
		return (NULL);
	}
	/* Kept so that a changed template applies at its next start. */
	if (c->spec->template != NULL)
		c->inst_json = json_dumps(specobj, JSON_COMPACT);
	if (child_start(c) == -1) {
		cmd_start_failed(ctx, c);
		return (NULL);
	}
	return (c);
}

void
cmd_start_failed(struct cmd_ctx *ctx, struct child *c)
{
	struct policy_reason	 r;
	json_t			*j;
	char			 buf[512];

	if (ctx->gtd->shut->active) {
		cmd_error(ctx, GT_E_SHUTTING_DOWN, "gtd is shutting down");
		return;
	}
	switch (c->fail) {
	case CHILD_FAIL_SPAWN:
		/* "chdir /nonexistent: ...": the step, not the program. */
		cmd_error(ctx, GT_E_SPAWN_FAILED, "%s",
		    child_fail_text(c, buf, sizeof buf));
		cmd_set(ctx, "errno",
		    json_string(spawn_errno_name(c->fail_errno)));
		cmd_set(ctx, "step",
		    json_string(spawn_step_name(c->fail_step)));
		if (c->fail_path != NULL)
			cmd_set(ctx, "path", json_string(c->fail_path));
		break;
	case CHILD_FAIL_TIMEOUT:
		cmd_error(ctx, GT_E_TIMEOUT, "%s was not ready in time",
		    c->name);
		break;
	case CHILD_FAIL_EXITED:
	case CHILD_FAIL_NONE:
		cmd_error(ctx, GT_E_EXITED, c->last_requested ?
		    "%s was stopped on request before it was ready" :
		    "%s exited before it was ready", c->name);
		child_reason(c, &r);	/* exit_status|signal, requested */
		j = proto_exit_reason(&r);
		if (ctx->res == NULL)
			ctx->res = json_object();
		json_object_update(ctx->res, j);
		json_decref(j);
		break;
	}
}

void
cmd_wait_child(struct cmd_ctx *ctx, struct child *c, child_wake_cb *cb)
{
	if (ctx->child != c) {
		if (ctx->child != NULL) {
			child_unwait(ctx->child, &ctx->w);
			child_unref(ctx->child);
		}
		ctx->child = c;
		child_ref(c);
	}
	ctx->w.cb = cb;
	ctx->w.arg = ctx;
	child_wait(c, &ctx->w);
}

void
cmd_wait_timeout(struct cmd_ctx *ctx, int64_t ms, void (*cb)(struct cmd_ctx *))
{
	ctx->timer_cb = cb;
	ev_timer_set(&ctx->timer, ms / 1000.0, 0.);
	ev_timer_start(ctx->gtd->loop, &ctx->timer);
}

static void
cmd_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct cmd_ctx	*ctx = w->data;

	ctx->timer_cb(ctx);
}

static void
cmd_ready_reply(struct cmd_ctx *ctx, struct child *c)
{
	cmd_pid(ctx, c);
	cmd_set_str(ctx, "state", child_state_name(c->state));
	if (c->spec->cluster && gtcluster_node(ctx->gtd) != NULL)
		cmd_set_str(ctx, "node", gtcluster_node(ctx->gtd));
	if (c->queued)		/* wait:false behind max_starting: pid null */
		cmd_set(ctx, "queued", json_true());
}

enum cmd_ret
cmd_await_ready(struct cmd_ctx *ctx, struct child *c)
{
	if (c->state == CHILD_RUNNING || ((c->state == CHILD_STARTING ||
	    c->state == CHILD_WAITING) && !ctx->wait)) {
		cmd_ready_reply(ctx, c);
		return (CMD_OK);
	}
	/* Failed synchronously, unless restart force brings it back. */
	if (c->state != CHILD_STARTING && c->state != CHILD_WAITING &&
	    !c->bounce) {
		cmd_start_failed(ctx, c);
		return (CMD_ERROR);
	}
	ctx->incarnation = c->incarnation;
	cmd_wait_child(ctx, c, cmd_ready_wake);
	return (CMD_WAIT);
}

enum cmd_ready
cmd_ready_check(struct child *c, unsigned *incarnation)
{
	/*
	 * Only restart_child force makes a new incarnation while a start
	 * waiter still waits (any other end replies first): follow it.
	 */
	if (!(c->flags & CHILD_DEAD) && c->incarnation != *incarnation &&
	    (c->state == CHILD_STARTING || c->state == CHILD_RUNNING))
		*incarnation = c->incarnation;
	if ((c->flags & CHILD_DEAD) || c->incarnation != *incarnation)
		return (CMD_READY_FAILED);
	if (c->bounce && (c->state == CHILD_STOPPING ||
	    c->state == CHILD_TERMINATING))
		return (CMD_READY_WAIT);
	/*
	 * Stopped while starting: reply with its exit, once reaped (a
	 * timeout, or shutting_down, needs no exit status).
	 */
	if (c->state == CHILD_STARTING || c->state == CHILD_WAITING ||
	    (c->state == CHILD_STOPPING && c->fail != CHILD_FAIL_TIMEOUT &&
	    !c->gtd->shut->active))
		return (CMD_READY_WAIT);
	return (c->state == CHILD_RUNNING ? CMD_READY_OK : CMD_READY_FAILED);
}

/* A state change of the child whose start ctx waits for. */
static void
cmd_ready_wake(struct child *c, void *arg)
{
	struct cmd_ctx	*ctx = arg;

	switch (cmd_ready_check(c, &ctx->incarnation)) {
	case CMD_READY_WAIT:
		child_wait(c, &ctx->w);
		return;
	case CMD_READY_OK:
		cmd_ready_reply(ctx, c);
		break;
	case CMD_READY_FAILED:
		cmd_start_failed(ctx, c);
		break;
	}
	cmd_finish(ctx);
}

struct child *
cmd_target(struct cmd_ctx *ctx, json_t *args)
{
	struct child	*c;
	const char	*name = NULL;
	int64_t		 pid = 0;

	if (cmd_arg_string(ctx, args, "name", false, &name) == -1 ||
	    cmd_arg_int(ctx, args, "pid", 1, INT32_MAX, &pid) == -1)
		return (NULL);
	if ((name == NULL) == (pid == 0)) {
		cmd_bad(ctx, "name", "give either name or pid");
		return (NULL);
	}
	if (name != NULL)
		return (cmd_child(ctx, name));
	if ((c = child_find_pid(ctx->gtd, (pid_t)pid)) == NULL)
		cmd_error(ctx, GT_E_NOT_FOUND, "no child with pid %lld",
		    (long long)pid);
	return (c);
}

static void
cmd_attrs_add(const char *key, const struct value *v, void *arg)
{
	json_object_set_new(arg, key, proto_value_json(v));
}

json_t *
cmd_attrs_json(struct cmd_ctx *ctx, const char *name)
{
	json_t	*o = json_object();

	if (registry_attr_foreach(ctx->gtd->reg, name, cmd_attrs_add, o) ==
	    -1) {
		ctx->gtd->stats.mirror_errors++;
		log_warnx("child %s: attrs: %s", name,
		    registry_errmsg(ctx->gtd->reg));
	}
	return (o);
}

bool
cmd_attrs_live(struct cmd_ctx *ctx, struct child *c)
{
	if (c->state == CHILD_STARTING || c->state == CHILD_RUNNING)
		return (true);
	cmd_state_error(ctx, GT_E_NOT_RUNNING, c);
	return (false);
}

void
cmd_pid(struct cmd_ctx *ctx, struct child *c)
{
	if (c->pid > 0)
		cmd_set_int(ctx, "pid", c->pid);
	else
		cmd_set(ctx, "pid", json_null());
}
