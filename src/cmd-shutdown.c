/* SPDX-License-Identifier: MIT */
/*
 * cmd-shutdown: reply {}, then stop every child concurrently (each with
 * its own shutdown, or timeout_ms) and exit 0 once all are gone.
 */
#include "config.h"

#include "gt/cmd.h"
#include "gt/config.h"
#include "gt/conn.h"
#include "gt/gtd.h"
#include "gt/log.h"
#include "gt/spec.h"

static enum cmd_ret	cmd_shutdown_exec(struct cmd_ctx *, json_t *);

static const char *const cmd_shutdown_args[] = { "timeout_ms", NULL };

const struct cmd_entry cmd_shutdown_entry = {
	.name = "shutdown",
	.access = ACL_ADMIN,
	.usage = "[timeout_ms=N]",
	.flags = CMD_MUTATES,
	.keys = cmd_shutdown_args,
	.exec = cmd_shutdown_exec
};

static enum cmd_ret
cmd_shutdown_exec(struct cmd_ctx *ctx, json_t *args)
{
	int64_t				ms = -1;

	if (cmd_arg_int(ctx, args, "timeout_ms", 0, SPEC_MAX_MS, &ms) == -1)
		return (CMD_ERROR);
	log_info("shutdown requested by pid %d", (int)ctx->conn->pid);
	/*
	 * From now on new work is refused.  The loop ends only after this
	 * callback, and the reply is written before that.
	 */
	gtd_shutdown(ctx->gtd, 0, ms);
	return (CMD_OK);
}
