/* SPDX-License-Identifier: MIT */
/*
 * cmd-subscribe: turn the connection into an event stream.  The reply
 * carries the current seq; then kept events after `since` are replayed,
 * and new ones follow as they happen.  Requests may still be sent on the
 * same connection; their replies interleave with the events.  The names
 * are bounded (GT_SUBSCRIBE_NAMES_MAX) and kept compactly; a subscribe
 * again replaces them.
 */
#include "config.h"

#include <stdlib.h>

#include "gt/cmd.h"
#include "gt/config.h"
#include "gt/conn.h"
#include "gt/event.h"
#include "gt/gtd.h"
#include "gt/protocol.h"

/* A subscription, from the request to its registration after the reply. */
struct cmd_subscribe_op {
	int64_t	 since;			/* -1: from now */
	unsigned mask;			/* EVENT_MASK of the kinds */
	json_t	*names;			/* owned, or NULL: all */
};

static enum cmd_ret	cmd_subscribe_exec(struct cmd_ctx *, json_t *);
static void		cmd_subscribe_after(struct cmd_ctx *);
static void		cmd_subscribe_op_free(void *);

static const char *const cmd_subscribe_args[] = { "events", "names", "since",
    NULL };

const struct cmd_entry cmd_subscribe_entry = {
	.name = "subscribe",
	.access = ACL_READ,
	.usage = "[events=[...]] [names=[...]] [since=seq]",
	.keys = cmd_subscribe_args,
	.exec = cmd_subscribe_exec
};

/* An optional array of strings; each checked by ok (NULL: any). */
static int
cmd_subscribe_strings(struct cmd_ctx *ctx, json_t *args, const char *key,
    unsigned *mask)
{
	json_t			*a = json_object_get(args, key), *v;
	size_t			 i;
	enum event_kind		 k;

	if (a == NULL)
		return (0);
	if (!json_is_array(a)) {
		cmd_bad(ctx, key, "%s must be an array of strings", key);
		return (-1);
	}
	if (mask == NULL && json_array_size(a) > GT_SUBSCRIBE_NAMES_MAX) {
		cmd_error(ctx, GT_E_LIMIT, "%s has %zu names, more than %d: "
		    "subscribe without names to get every child", key,
		    json_array_size(a), GT_SUBSCRIBE_NAMES_MAX);
		cmd_set(ctx, "limit", json_string("max_subscribe_names"));
		return (-1);
	}
	json_array_foreach(a, i, v) {
		if (!json_is_string(v) || (mask != NULL &&
		    event_kind_parse(json_string_value(v), &k) == -1)) {
			cmd_bad(ctx, key, "%s.%zu is not %s", key, i,
			    mask != NULL ? "an event name" : "a string");
			cmd_set(ctx, "field", json_sprintf("%s.%zu", key, i));
			return (-1);
		}
		if (mask != NULL)
			*mask |= EVENT_MASK(k);
	}
	return (0);
}

static enum cmd_ret
cmd_subscribe_exec(struct cmd_ctx *ctx, json_t *args)
{
	struct cmd_subscribe_op	*op;
	char			*cause;

	op = cmd_opdata(ctx, sizeof *op, cmd_subscribe_op_free);
	op->since = -1;
	if (cmd_subscribe_strings(ctx, args, "events", &op->mask) == -1 ||
	    cmd_subscribe_strings(ctx, args, "names", NULL) == -1 ||
	    cmd_arg_int(ctx, args, "since", 0, INT64_MAX, &op->since) == -1)
		return (CMD_ERROR);
	if (event_since_ok(ctx->gtd->events, op->since, &cause) == -1) {
		cmd_error(ctx, GT_E_LIMIT, "%s", cause);
		cmd_set(ctx, "limit", json_string("event_ring"));
		free(cause);
		return (CMD_ERROR);
	}
	if (json_object_get(args, "events") == NULL)
		op->mask = EVENT_MASK_DEFAULT;
	op->names = json_incref(json_object_get(args, "names"));
	cmd_set(ctx, "seq", json_integer((json_int_t)event_seq(ctx->gtd->events)));
	ctx->after = cmd_subscribe_after;
	return (CMD_OK);
}

/* After the reply: register, then replay (checked already: cannot fail). */
static void
cmd_subscribe_after(struct cmd_ctx *ctx)
{
	struct cmd_subscribe_op	*op = ctx->op;
	char			*cause = NULL;

	if (event_subscribe(ctx->gtd->events, ctx->conn, op->mask, op->names,
	    op->since, &cause) == -1)
		free(cause);
}

static void
cmd_subscribe_op_free(void *p)
{
	struct cmd_subscribe_op	*op = p;

	json_decref(op->names);
}
