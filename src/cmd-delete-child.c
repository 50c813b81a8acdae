/* SPDX-License-Identifier: MIT */
/* cmd-delete-child: remove a row that has no process and no restart due. */
#include "config.h"

#include "gt/cmd.h"
#include "gt/config.h"
#include "gt/protocol.h"

static enum cmd_ret	cmd_delete_child_exec(struct cmd_ctx *, json_t *);

static const char *const cmd_delete_child_args[] = { "name", NULL };

const struct cmd_entry cmd_delete_child_entry = {
	.name = "delete_child",
	.access = ACL_CONTROL,
	.usage = "name",
	.flags = CMD_MUTATES,
	.keys = cmd_delete_child_args,
	.exec = cmd_delete_child_exec
};

static enum cmd_ret
cmd_delete_child_exec(struct cmd_ctx *ctx, json_t *args)
{
	struct child			*c;

	if ((c = cmd_named(ctx, args)) == NULL)
		return (CMD_ERROR);
	switch (c->state) {
	case CHILD_STOPPED:
		child_remove(c);
		return (CMD_OK);
	case CHILD_WAITING:		/* no process: it goes at once */
		child_stop(c, -1, true);
		return (CMD_OK);
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
}
