/* SPDX-License-Identifier: MIT */
/*
 * cmd-find: the pid of a running child.  A row in any other state is
 * not_found with its state, so a caller never gets a dying process.
 */
#include "config.h"

#include "gt/cmd.h"
#include "gt/config.h"
#include "gt/protocol.h"

static enum cmd_ret	cmd_find_exec(struct cmd_ctx *, json_t *);

static const char *const cmd_find_args[] = { "name", NULL };

const struct cmd_entry cmd_find_entry = {
	.name = "find",
	.access = ACL_READ,
	.usage = "name",
	.flags = CMD_FLAT,
	.keys = cmd_find_args,
	.exec = cmd_find_exec
};

static enum cmd_ret
cmd_find_exec(struct cmd_ctx *ctx, json_t *args)
{
	struct child			*c;
	const char			*name;
	enum cmd_ret			 r;

	/* Another node's cluster child: from the mirror (cmd-cluster.c). */
	if ((name = cmd_arg_peek(ctx, args, "name")) != NULL &&
	    child_find(ctx->gtd, name) == NULL &&
	    cmd_cluster_find(ctx, name, &r))
		return (r);
	if ((c = cmd_named(ctx, args)) == NULL)
		return (CMD_ERROR);
	cmd_cluster_node(ctx, c);
	if (c->state != CHILD_RUNNING) {
		cmd_state_error(ctx, GT_E_NOT_FOUND, c);
		return (CMD_ERROR);
	}
	cmd_set_int(ctx, "pid", c->pid);
	cmd_set_str(ctx, "state", child_state_name(c->state));
	return (CMD_OK);
}
