/* SPDX-License-Identifier: MIT */
/*
 * cmd-logs: the last lines a child wrote (from its ring) and, with
 * follow, its further lines as `log` events on this connection (each
 * name once, at most GT_FOLLOWS_MAX names per connection).
 */
#include "config.h"

#include "gt/childlog.h"
#include "gt/cmd.h"
#include "gt/gtd.h"
#include "gt/config.h"
#include "gt/event.h"
#include "gt/protocol.h"

static enum cmd_ret	cmd_logs_exec(struct cmd_ctx *, json_t *);
static void		cmd_logs_after(struct cmd_ctx *);

static const char *const cmd_logs_args[] = { "name", "lines", "follow", NULL };

const struct cmd_entry cmd_logs_entry = {
	.name = "logs",
	.access = ACL_READ,
	.usage = "name [lines=N] [follow=bool]",
	.keys = cmd_logs_args,
	.exec = cmd_logs_exec
};

static void
cmd_logs_add(const struct childlog_line *ln, void *arg)
{
	json_array_append_new(arg, json_pack("{s:s, s:I, s:s}", "stream",
	    ln->stream, "at", (json_int_t)ln->at, "line", ln->text));
}

static enum cmd_ret
cmd_logs_exec(struct cmd_ctx *ctx, json_t *args)
{
	const char			*name;
	struct child			*c;
	int64_t				 n = 100;
	bool				 follow = false;
	json_t				*lines;

	if (cmd_arg_string(ctx, args, "name", true, &name) == -1 ||
	    cmd_arg_int(ctx, args, "lines", 0, CHILDLOG_RING_LINES, &n) == -1 ||
	    cmd_arg_bool(ctx, args, "follow", &follow) == -1 ||
	    (c = cmd_child(ctx, name)) == NULL)
		return (CMD_ERROR);
	/* Following a name twice adds nothing; the names are bounded. */
	if (follow && event_follow_ok(ctx->gtd->events, ctx->conn, c->name) == -1) {
		cmd_error(ctx, GT_E_LIMIT, "this connection follows %d "
		    "children already: follow fewer, or use another "
		    "connection", GT_FOLLOWS_MAX);
		cmd_set(ctx, "limit", json_string("max_follows"));
		return (CMD_ERROR);
	}
	lines = json_array();
	if (c->log != NULL)
		childlog_tail(c->log, (size_t)n, cmd_logs_add, lines);
	cmd_set(ctx, "lines", lines);
	if (follow) {
		(void)cmd_opstr(ctx, c->name);
		ctx->after = cmd_logs_after;
	}
	return (CMD_OK);
}

static void
cmd_logs_after(struct cmd_ctx *ctx)
{
	event_follow(ctx->gtd->events, ctx->conn, ctx->op);
}
