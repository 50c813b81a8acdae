/* SPDX-License-Identifier: MIT */
/*
 * cmd-ping: an empty reply.  Replies follow request order, so it is a
 * barrier: every earlier request on the connection has been applied.
 */
#include "config.h"

#include "gt/cmd.h"
#include "gt/config.h"

static enum cmd_ret	cmd_ping_exec(struct cmd_ctx *, json_t *);

static const char *const cmd_ping_args[] = { NULL };

const struct cmd_entry cmd_ping_entry = {
	.name = "ping",
	.access = ACL_READ,
	.usage = "",
	.flags = CMD_FLAT,
	.keys = cmd_ping_args,
	.exec = cmd_ping_exec
};

static enum cmd_ret
cmd_ping_exec(struct cmd_ctx *ctx, json_t *args)
{

	return (CMD_OK);
}
