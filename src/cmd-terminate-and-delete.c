/* SPDX-License-Identifier: MIT */
/*
 * cmd-terminate-and-delete: stop a child, then remove its row; {} after
 * the reap.
 */
#include "config.h"

#include "gt/cmd.h"
#include "gt/config.h"

static enum cmd_ret	cmd_terminate_and_delete_exec(struct cmd_ctx *,
			    json_t *);

static const char *const cmd_terminate_and_delete_args[] = { "name", "pid",
    "timeout_ms", NULL };

const struct cmd_entry cmd_terminate_and_delete_entry = {
	.name = "terminate_and_delete",
	.access = ACL_CONTROL,
	.usage = "name|pid [timeout_ms=N]",
	.flags = CMD_MUTATES,
	.keys = cmd_terminate_and_delete_args,
	.exec = cmd_terminate_and_delete_exec
};

static enum cmd_ret
cmd_terminate_and_delete_exec(struct cmd_ctx *ctx, json_t *args)
{

	return (cmd_terminate(ctx, args, true));
}
