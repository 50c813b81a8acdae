/* SPDX-License-Identifier: MIT */
/*
 * cmd-query: read-only SQL over the mirror (protocol §5 `query`, §6).
 * The registry runs the one statement under its guards (authorizer,
 * clock, length and heap limits); this file checks the arguments and
 * turns rows into JSON arrays in column order: integers and reals as
 * numbers (a non-finite real as null), text as strings (NUL bytes and
 * bytes that are not UTF-8 become U+FFFD: jansson clients refuse
 * \u0000), blobs as base64 strings (RFC 4648, padded),
 * NULL as null.  The reply is bounded by max_rows and by the size of
 * its JSON (QUERY_MAX_BYTES, less if the output cap leaves less); either
 * sets "truncated".  Never waits.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gt/cmd.h"
#include "gt/config.h"
#include "gt/gtd.h"
#include "gt/proto.h"
#include "gt/protocol.h"
#include "gt/childcg.h"
#include "gt/registry.h"
#include "gt/utf8.h"
#include "gt/xmalloc.h"

#define QUERY_ROWS_DEFAULT	1000
#define QUERY_ROWS_MAX		100000
/*
 * gtd is blocked while a query runs.  100000 rows of attrs take about
 * 100 ms here, rows turned into JSON included: 250 leaves a margin.
 */
#define QUERY_BUDGET_MS		250
/*
 * Bytes of reply JSON.  Building and writing it is gtd's time too: at
 * 8 MiB that took 150 to 550 ms on the machine this was measured on, at
 * 2 MiB under a fifth of that.
 */
#define QUERY_MAX_BYTES		(2 * 1024 * 1024)
/*
 * Bytes of one string or blob while a query runs (SQLITE_LIMIT_LENGTH):
 * the time of one step of SQLite's program (between two looks at the
 * clock) grows with it; at 64 KiB the slowest single calls found take
 * well under a millisecond (registry.c has the rest of the guards).
 */
#define QUERY_VALUE_MAX		(64 * 1024)
#define QUERY_NUMBER_BYTES	24		/* JSON of a number, at most */

/* The result being built; the rows count against max_bytes. */
struct cmd_query_out {
	struct cmd_ctx	*ctx;
	json_t		*rows;			/* owned until handed over */
	size_t		 bytes;
	size_t		 max;			/* what the reply may take */
};

static enum cmd_ret	cmd_query_exec(struct cmd_ctx *, json_t *);
static int		cmd_query_params(struct cmd_ctx *, json_t *,
			    struct value **, size_t *);
static void		cmd_query_cols(int, const char *const *, void *);
static int		cmd_query_row(int, const struct registry_cell *,
			    void *);
static size_t		cmd_query_cell_bytes(const struct registry_cell *);
static json_t		*cmd_query_cell(const struct registry_cell *);
static json_t		*cmd_query_text(const unsigned char *, size_t);
static json_t		*cmd_query_base64(const unsigned char *, size_t);

static const char *const cmd_query_args[] = { "sql", "params", "max_rows",
    NULL };

const struct cmd_entry cmd_query_entry = {
	.name = "query",
	.access = ACL_READ,
	.usage = "sql [params=[...]] [max_rows=N]",
	.keys = cmd_query_args,
	.exec = cmd_query_exec
};

/* Error codes of the registry's failures (protocol §2). */
static void
cmd_query_fail(struct cmd_ctx *ctx, enum registry_qerr err, const char *msg)
{
	switch (err) {
	case REGISTRY_QERR_READ_ONLY:
		cmd_error(ctx, GT_E_READ_ONLY, "%s", msg);
		break;
	case REGISTRY_QERR_TIMEOUT:
		cmd_error(ctx, GT_E_TIMEOUT, "%s", msg);
		break;
	case REGISTRY_QERR_EMPTY:
	case REGISTRY_QERR_MULTI:
		cmd_bad(ctx, "sql", "%s", msg);
		break;
	case REGISTRY_QERR_PARAMS:
		cmd_bad(ctx, "params", "%s", msg);
		break;
	case REGISTRY_QERR_NONE:
	case REGISTRY_QERR_SQL:
		cmd_error(ctx, GT_E_SQL_ERROR, "%s", msg);
		break;
	}
}

static enum cmd_ret
cmd_query_exec(struct cmd_ctx *ctx, json_t *args)
{
	struct registry_query		 q = {
		.max_rows = QUERY_ROWS_DEFAULT,
		.budget_ms = QUERY_BUDGET_MS,
		.max_value = QUERY_VALUE_MAX,
		.cols = cmd_query_cols,
		.row = cmd_query_row
	};
	struct cmd_query_out		 out = { .ctx = ctx,
	    .max = QUERY_MAX_BYTES };
	struct value			*params = NULL;
	enum registry_qerr		 err;
	json_t				*sql;
	char				*cause = NULL;
	bool				 truncated;
	size_t				 i;
	int				 rc;

	if (cmd_arg_int(ctx, args, "max_rows", 1, QUERY_ROWS_MAX,
	    &q.max_rows) == -1)
		return (CMD_ERROR);
	sql = json_object_get(args, "sql");
	if (!json_is_string(sql) ||
	    strlen(json_string_value(sql)) != json_string_length(sql)) {
		cmd_bad(ctx, "sql", "sql must be a string without NUL");
		return (CMD_ERROR);
	}
	if (cmd_query_params(ctx, json_object_get(args, "params"), &params,
	    &q.nparams) == -1)
		return (CMD_ERROR);
	/* Truncated where the output cap would refuse it (less envelope). */
	if (cmd_reply_room(ctx) < out.max + 4096)
		out.max = cmd_reply_room(ctx) > 4096 ? cmd_reply_room(ctx) -
		    4096 : 0;
	q.sql = json_string_value(sql);
	q.params = params;
	q.arg = &out;
	out.rows = json_array();
	/* Only a query that may read them pays for the cgroup reads. */
	if (strchr(q.sql, '*') != NULL || strcasestr(q.sql, "memory_bytes") !=
	    NULL || strcasestr(q.sql, "cpu_ms") != NULL)
		childcg_refresh(ctx->gtd);
	rc = registry_query(ctx->gtd->reg, &q, &truncated, &err, &cause);
	for (i = 0; i < q.nparams; i++)
		value_free(&params[i]);
	free(params);
	if (rc == -1) {
		cmd_query_fail(ctx, err, cause);
		free(cause);
		json_decref(out.rows);
		return (CMD_ERROR);
	}
	cmd_set_ok(ctx, "rows", out.rows);
	cmd_set_ok(ctx, "truncated", json_boolean(truncated));
	return (CMD_OK);
}

/* params: an optional array of any JSON values, as struct values. */
static int
cmd_query_params(struct cmd_ctx *ctx, json_t *arr, struct value **out,
    size_t *n)
{
	json_t	*el;
	size_t	 i;

	*out = NULL;
	*n = 0;
	if (arr == NULL)
		return (0);
	if (!json_is_array(arr)) {
		cmd_bad(ctx, "params", "params must be an array");
		return (-1);
	}
	/* No NUL in strings: proto_parse() rejects \u0000. */
	*out = xcalloc(json_array_size(arr) + 1, sizeof **out);
	json_array_foreach(arr, i, el)
		proto_value_from_json(el, &(*out)[i]);
	*n = json_array_size(arr);
	return (0);
}

static void
cmd_query_cols(int ncols, const char *const *names, void *arg)
{
	struct cmd_query_out	*out = arg;
	json_t			*cols = json_array(), *s;
	int			 i;

	for (i = 0; i < ncols; i++) {
		s = cmd_query_text((const unsigned char *)names[i],
		    strlen(names[i]));
		out->bytes += json_string_length(s) + 3;
		json_array_append_new(cols, s);
	}
	cmd_set_ok(out->ctx, "columns", cols);
}

/* Append one row, unless it would take the reply past its size. */
static int
cmd_query_row(int ncols, const struct registry_cell *cells, void *arg)
{
	struct cmd_query_out	*out = arg;
	json_t			*row;
	size_t			 bytes = 3;	/* [], */
	int			 i;

	/* Counting stops as soon as the row cannot fit. */
	for (i = 0; i < ncols && out->bytes + bytes <= QUERY_MAX_BYTES; i++)
		bytes += cmd_query_cell_bytes(&cells[i]) + 1;
	if (out->bytes + bytes > out->max)
		return (-1);
	out->bytes += bytes;
	row = json_array();
	for (i = 0; i < ncols; i++)
		json_array_append_new(row, cmd_query_cell(&cells[i]));
	json_array_append_new(out->rows, row);
	return (0);
}

/* The size of a cell's JSON, exact but for replaced bytes. */
static size_t
cmd_query_cell_bytes(const struct registry_cell *c)
{
	const unsigned char	*p = c->p;
	size_t			 n = 2, i;

	switch (c->type) {
	case REGISTRY_NULL:
		return (4);
	case REGISTRY_INT:
	case REGISTRY_REAL:
		return (QUERY_NUMBER_BYTES);
	case REGISTRY_BLOB:
		return ((c->len + 2) / 3 * 4 + 2);
	case REGISTRY_TEXT:
		break;
	}
	for (i = 0; i < c->len; i++) {
		if (p[i] == '"' || p[i] == '\\' || p[i] == '\b' ||
		    p[i] == '\f' || p[i] == '\n' || p[i] == '\r' ||
		    p[i] == '\t')
			n += 2;
		else if (p[i] < 0x20)
			n += 6;			/* \u00XX */
		else
			n++;
	}
	return (n);
}

static json_t *
cmd_query_cell(const struct registry_cell *c)
{
	switch (c->type) {
	case REGISTRY_INT:
		return (json_integer(c->i));
	case REGISTRY_REAL:
		/* JSON has no Infinity; SQLite has no NaN. */
		return (isfinite(c->r) ? json_real(c->r) : json_null());
	case REGISTRY_TEXT:
		return (cmd_query_text(c->p, c->len));
	case REGISTRY_BLOB:
		return (cmd_query_base64(c->p, c->len));
	case REGISTRY_NULL:
		break;
	}
	return (json_null());
}

/* A JSON string of text, each NUL or non-UTF-8 byte as U+FFFD. */
static json_t *
cmd_query_text(const unsigned char *p, size_t len)
{
	json_t	*s;
	char	*fixed;
	size_t	 i, o = 0, n;

	if (memchr(p, '\0', len) == NULL &&
	    (s = json_stringn((const char *)p, len)) != NULL)
		return (s);
	fixed = xreallocarray(NULL, len + 1, 3);
	for (i = 0; i < len; i += n) {
		/* NUL too: jansson's strings stop there. */
		if (p[i] == '\0' || (n = utf8_len((const char *)p + i,
		    len - i)) == 0) {
			memcpy(fixed + o, "\xef\xbf\xbd", 3);
			o += 3;
			n = 1;
		} else {
			memcpy(fixed + o, p + i, n);
			o += n;
		}
	}
	s = json_stringn(fixed, o);
	free(fixed);
	return (s != NULL ? s : json_null());
}

static json_t *
cmd_query_base64(const unsigned char *p, size_t len)
{
	static const char	 b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	json_t			*s;
	char			*out;
	size_t			 i, o = 0;
	uint32_t		 v;

	out = xmalloc((len + 2) / 3 * 4 + 1);
	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[o++] = b64[v >> 18];
		out[o++] = b64[v >> 12 & 0x3f];
		out[o++] = b64[v >> 6 & 0x3f];
		out[o++] = b64[v & 0x3f];
	}
	if (i < len) {			/* 1 or 2 bytes left: pad */
		v = (uint32_t)p[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		out[o++] = b64[v >> 18];
		out[o++] = b64[v >> 12 & 0x3f];
		out[o++] = i + 1 < len ? b64[v >> 6 & 0x3f] : '=';
		out[o++] = '=';
	}
	s = json_stringn(out, o);
	free(out);
	return (s);
}
