/* SPDX-License-Identifier: MIT */
/*
 * cmd-ping: an empty reply.  Replies follow request order, so it is a
 * barrier: every earlier request on the connection has been applied.
 */
#include "config.h"

#include "gt/cmd.h"
#include "gt/config.h"

static enum cmd_ret	cmd_ping_exec(struct cmd_ctx *, json_t *);

const struct cmd_entry cmd_ping_entry = {
	.name = "ping",
	.access = ACL_READ,
	.usage = "",
	.flags = CMD_FLAT,
	.exec = cmd_ping_exec
};

static enum cmd_ret
cmd_ping_exec(struct cmd_ctx *ctx, json_t *args)
{
	static const char *const	keys[] = { NULL };

	if (cmd_args_known(ctx, args, keys) == -1)
		return (CMD_ERROR);
	return (CMD_OK);
}
