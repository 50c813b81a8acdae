/* SPDX-License-Identifier: MIT */
/*
 * cmd-shutdown: reply {}, then stop every child concurrently (each with
 * its own shutdown, or timeout_ms) and exit 0 once all are gone.
 */
#include "config.h"

#include "gt/cmd.h"
#include "gt/conn.h"
#include "gt/gtd.h"
#include "gt/log.h"
#include "gt/spec.h"

static enum cmd_ret	cmd_shutdown_exec(struct cmd_ctx *, json_t *);
static void		cmd_shutdown_cb(struct ev_loop *, ev_idle *, int);

const struct cmd_entry cmd_shutdown_entry = {
	.name = "shutdown",
	.usage = "[timeout_ms=N]",
	.flags = CMD_MUTATES,
	.exec = cmd_shutdown_exec
};

static ev_idle	cmd_shutdown_idle;
static int64_t	cmd_shutdown_ms;

static enum cmd_ret
cmd_shutdown_exec(struct cmd_ctx *ctx, json_t *args)
{
	static const char *const	keys[] = { "timeout_ms", NULL };
	int64_t				ms = -1;

	if (cmd_args_known(ctx, args, keys) == -1 ||
	    cmd_arg_int(ctx, args, "timeout_ms", 0, SPEC_MAX_MS, &ms) == -1)
		return (CMD_ERROR);
	log_info("shutdown requested by pid %d", (int)ctx->conn->pid);
	/* Reply first; stop the children from the loop, after this reply. */
	cmd_shutdown_ms = ms;
	ev_idle_init(&cmd_shutdown_idle, cmd_shutdown_cb);
	cmd_shutdown_idle.data = ctx->gtd;
	ev_idle_start(ctx->gtd->loop, &cmd_shutdown_idle);
	return (CMD_OK);
}

static void
cmd_shutdown_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	ev_idle_stop(loop, w);
	gtd_shutdown(w->data, 0, cmd_shutdown_ms);
}
