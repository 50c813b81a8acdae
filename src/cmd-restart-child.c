/* SPDX-License-Identifier: MIT */
/*
 * cmd-restart-child: start a stopped row again (a manual restart: the
 * restart_count is not raised) and reply once it is ready.
 */
#include "config.h"

#include "gt/cmd.h"
#include "gt/config.h"
#include "gt/protocol.h"

static enum cmd_ret	cmd_restart_child_exec(struct cmd_ctx *, json_t *);

const struct cmd_entry cmd_restart_child_entry = {
	.name = "restart_child",
	.access = ACL_CONTROL,
	.usage = "name",
	.flags = CMD_MUTATES,
	.exec = cmd_restart_child_exec
};

static enum cmd_ret
cmd_restart_child_exec(struct cmd_ctx *ctx, json_t *args)
{
	static const char *const	 keys[] = { "name", NULL };
	struct child			*c;

	if ((c = cmd_named(ctx, args, keys)) == NULL)
		return (CMD_ERROR);
	switch (c->state) {
	case CHILD_STOPPED:
		break;
	case CHILD_RESTARTING:
		cmd_error(ctx, GT_E_RESTARTING, "%s has a restart pending",
		    c->name);
		return (CMD_ERROR);
	default:
		cmd_error(ctx, GT_E_RUNNING, "%s is %s", c->name,
		    child_state_name(c->state));
		cmd_pid(ctx, c);
		return (CMD_ERROR);
	}
	ctx->wait = true;
	if (child_start(c) == -1) {
		cmd_start_failed(ctx, c);
		return (CMD_ERROR);
	}
	return (cmd_await_ready(ctx, c));
}
