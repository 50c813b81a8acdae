/* SPDX-License-Identifier: MIT */
/*
 * cmd-restart-child: start a stopped row again, and reply once it is
 * ready.  A manual restart: the restart_count is not raised, the restart
 * intensity window and the backoff start afresh, and a start that fails
 * before it is ready leaves the row stopped.  With force, a running,
 * starting, stopping or restarting row is restarted too, in one step
 * (see child_restart).
 */
#include "config.h"

#include "gt/cmd.h"
#include "gt/config.h"
#include "gt/protocol.h"

static enum cmd_ret	cmd_restart_child_exec(struct cmd_ctx *, json_t *);

static const char *const cmd_restart_child_args[] = { "name", "force", NULL };

const struct cmd_entry cmd_restart_child_entry = {
	.name = "restart_child",
	.access = ACL_CONTROL,
	.usage = "name [force=bool]",
	.flags = CMD_MUTATES,
	.keys = cmd_restart_child_args,
	.exec = cmd_restart_child_exec
};

static enum cmd_ret
cmd_restart_child_exec(struct cmd_ctx *ctx, json_t *args)
{
	struct child			*c;
	bool				 force = false;

	if ((c = cmd_named(ctx, args)) == NULL ||
	    cmd_arg_bool(ctx, args, "force", &force) == -1)
		return (CMD_ERROR);
	if (force && c->spec->ncmd == 0) {	/* adopted, nothing to run */
		cmd_bad(ctx, "force", "%s was adopted without a cmd: it cannot "
		    "be started again", c->name);
		return (CMD_ERROR);
	}
	switch (force ? CHILD_STOPPED : c->state) {
	case CHILD_STOPPED:
		break;
	case CHILD_RESTARTING:
		cmd_error(ctx, GT_E_RESTARTING, "%s has a restart pending "
		    "(force restarts it now)", c->name);
		return (CMD_ERROR);
	default:
		cmd_error(ctx, GT_E_RUNNING, "%s is %s (force restarts it)",
		    c->name, child_state_name(c->state));
		cmd_pid(ctx, c);
		return (CMD_ERROR);
	}
	ctx->wait = true;
	if ((force ? child_restart(c) : child_start(c)) == -1) {
		cmd_start_failed(ctx, c);
		return (CMD_ERROR);
	}
	return (cmd_await_ready(ctx, c));
}
