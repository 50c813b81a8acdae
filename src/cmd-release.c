/* SPDX-License-Identifier: MIT */
/*
 * cmd-release: stop supervising a child.  The row and its attrs go; the
 * process keeps running (but, forked by gtd, it still dies with gtd:
 * PR_SET_PDEATHSIG cannot be undone from outside), and gtd goes on
 * reading the output it captures until the process closes it.
 */
#include "config.h"

#include "gt/cmd.h"
#include "gt/gtd.h"
#include "gt/config.h"
#include "gt/protocol.h"

static enum cmd_ret	cmd_release_exec(struct cmd_ctx *, json_t *);

static const char *const cmd_release_args[] = { "name", NULL };

const struct cmd_entry cmd_release_entry = {
	.name = "release",
	.access = ACL_CONTROL,
	.usage = "name",
	.flags = CMD_MUTATES,
	.keys = cmd_release_args,
	.exec = cmd_release_exec
};

static enum cmd_ret
cmd_release_exec(struct cmd_ctx *ctx, json_t *args)
{
	struct child			*c;

	if ((c = cmd_named(ctx, args)) == NULL)
		return (CMD_ERROR);
	if (c->state == CHILD_TERMINATING) {
		cmd_error(ctx, GT_E_NOT_RUNNING, "%s is terminating", c->name);
		cmd_set(ctx, "state", json_string(child_state_name(c->state)));
		return (CMD_ERROR);
	}
	if (child_release(c) == -1) {		/* ENOSPC */
		cmd_error(ctx, GT_E_LIMIT, "%d released children still write "
		    "output that gtd reads (max_children)",
		    ctx->gtd->lim.max_children);
		cmd_set(ctx, "limit", json_string("max_children"));
		return (CMD_ERROR);
	}
	return (CMD_OK);
}
