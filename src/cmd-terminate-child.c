/* SPDX-License-Identifier: MIT */
/*
 * cmd-terminate-child: stop a child and reply after the reap with the
 * reason.  The row becomes stopped (a temporary child's is removed).  A
 * row without a process has any pending restart cancelled at once.
 * cmd_terminate() is shared with terminate_and_delete.
 */
#include "config.h"

#include <stdint.h>

#include "gt/cmd.h"
#include "gt/config.h"
#include "gt/proto.h"
#include "gt/protocol.h"

/* A stop being waited for. */
struct cmd_terminate_op {
	bool	delete;			/* reply {} instead of the reason */
};

static enum cmd_ret	cmd_terminate_child_exec(struct cmd_ctx *, json_t *);
static void		cmd_terminate_wake(struct child *, void *);

static const char *const cmd_terminate_child_args[] = { "name", "pid",
    "timeout_ms", NULL };

const struct cmd_entry cmd_terminate_child_entry = {
	.name = "terminate_child",
	.access = ACL_CONTROL,
	.usage = "name|pid [timeout_ms=N]",
	.flags = CMD_MUTATES,
	.keys = cmd_terminate_child_args,
	.exec = cmd_terminate_child_exec
};

static enum cmd_ret
cmd_terminate_child_exec(struct cmd_ctx *ctx, json_t *args)
{

	return (cmd_terminate(ctx, args, false));
}

enum cmd_ret
cmd_terminate(struct cmd_ctx *ctx, json_t *args, bool delete)
{
	struct cmd_terminate_op	*op;
	struct child		*c;
	int64_t			 timeout = -1;

	if (cmd_arg_int(ctx, args, "timeout_ms", 0, SPEC_MAX_MS, &timeout) ==
	    -1 || (c = cmd_target(ctx, args)) == NULL)
		return (CMD_ERROR);
	if (!child_is_alive(c)) {
		child_stop(c, timeout, delete);	/* cancels a restart */
		return (CMD_OK);
	}
	ctx->incarnation = c->incarnation;
	op = cmd_opdata(ctx, sizeof *op, NULL);
	op->delete = delete;
	cmd_wait_child(ctx, c, cmd_terminate_wake);
	child_stop(c, timeout, delete);
	return (CMD_WAIT);
}

/* Wait until the process we were asked to stop has been reaped. */
static void
cmd_terminate_wake(struct child *c, void *arg)
{
	struct cmd_ctx		*ctx = arg;
	struct cmd_terminate_op	*op = ctx->op;
	struct policy_reason	 r;

	if (!(c->flags & CHILD_DEAD) && c->incarnation == ctx->incarnation &&
	    c->pid > 0) {
		child_wait(c, &ctx->w);
		return;
	}
	/* Who asked (requested), what was sent, whether SIGKILL followed. */
	child_reason(c, &r);
	if (!op->delete && c->has_exit)
		cmd_set(ctx, "reason", proto_exit_reason(&r));
	cmd_finish(ctx);
}
