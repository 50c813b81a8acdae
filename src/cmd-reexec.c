/* SPDX-License-Identifier: MIT */
/*
 * cmd-reexec: replace gtd's program in place, keeping every child
 * (protocol §9.2; reexec.c does the work).  The reply comes from the new
 * program, or an error from this one if the new one could not take over.
 */
#include "config.h"

#include "gt/cmd.h"
#include "gt/config.h"
#include "gt/conn.h"
#include "gt/log.h"
#include "gt/reexec.h"

static enum cmd_ret	cmd_reexec_exec(struct cmd_ctx *, json_t *);

static const char *const cmd_reexec_args[] = { "path", NULL };

const struct cmd_entry cmd_reexec_entry = {
	.name = "reexec",
	.access = ACL_ADMIN,
	.usage = "[path=BIN]",
	.flags = CMD_MUTATES,
	.keys = cmd_reexec_args,
	.exec = cmd_reexec_exec
};

static enum cmd_ret
cmd_reexec_exec(struct cmd_ctx *ctx, json_t *args)
{
	const char			*path = NULL;

	if (cmd_arg_string(ctx, args, "path", false, &path) == -1)
		return (CMD_ERROR);
	log_info("reexec requested by pid %d", (int)ctx->conn->pid);
	if (reexec_begin(ctx, path) == -1)
		return (CMD_ERROR);
	return (CMD_WAIT);
}
