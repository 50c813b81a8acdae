/* SPDX-License-Identifier: MIT */
/*
 * cmd-find-or-open: gen_tracker's atomic find_or_open.  The row's own
 * state decides: running -> its pid; starting -> wait for readiness;
 * stopped -> start it; absent -> create it from the given spec;
 * restarting, stopping, terminating -> wait and decide again.  All
 * concurrent callers wait on the same start, so there is one spawn.
 */
#include "config.h"

#include "gt/cmd.h"
#include "gt/config.h"
#include "gt/gtd.h"
#include "gt/protocol.h"

/* A find_or_open that may wait for a start. */
struct cmd_fo_op {
	json_t	*spec;			/* owned: the request's childspec */
	bool	 created;		/* no running row when it came */
};

static enum cmd_ret	cmd_find_or_open_exec(struct cmd_ctx *, json_t *);
static enum cmd_ret	cmd_find_or_open_decide(struct cmd_ctx *);
static void		cmd_find_or_open_wake(struct child *, void *);
static void		cmd_find_or_open_timeout(struct cmd_ctx *);
static void		cmd_fo_op_free(void *);

static const char *const cmd_find_or_open_args[] = { "wait", "timeout_ms",
    NULL };

const struct cmd_entry cmd_find_or_open_entry = {
	.name = "find_or_open",
	.access = ACL_CONTROL,
	.usage = "childspec [wait=bool] [timeout_ms=N]",
	.flags = CMD_MUTATES | CMD_SPEC,
	.keys = cmd_find_or_open_args,
	.exec = cmd_find_or_open_exec
};

static enum cmd_ret
cmd_find_or_open_exec(struct cmd_ctx *ctx, json_t *args)
{
	struct cmd_fo_op	*op;
	struct childspec	*s;
	struct child		*c;
	char			*field, *cause;
	int64_t			 timeout = -1;
	enum cmd_ret		 r;

	ctx->wait = true;
	if (cmd_arg_bool(ctx, args, "wait", &ctx->wait) == -1 ||
	    cmd_arg_int(ctx, args, "timeout_ms", 0, SPEC_MAX_MS, &timeout) ==
	    -1)
		return (CMD_ERROR);
	json_object_del(args, "wait");
	json_object_del(args, "timeout_ms");
	/* Always validate, so a typo fails even when the row exists. */
	if ((s = config_spec_build(cmd_tpl(ctx), args, &field,
	    &cause)) == NULL) {
		cmd_bad(ctx, field, "%s", cause);
		free(field);
		free(cause);
		return (CMD_ERROR);
	}
	c = child_find(ctx->gtd, s->name);
	op = cmd_opdata(ctx, sizeof *op, cmd_fo_op_free);
	op->created = c == NULL || c->state != CHILD_RUNNING;
	op->spec = json_incref(args);
	if (c == NULL && s->cluster) {	/* claimed first: cmd-cluster.c */
		r = cmd_cluster_start(ctx, s->name, args, s->failover, true,
		    timeout, cmd_find_or_open_decide);
		spec_free(s);
		return (r);
	}
	spec_free(s);
	r = cmd_find_or_open_decide(ctx);
	if (r == CMD_WAIT && timeout >= 0)
		cmd_wait_timeout(ctx, timeout, cmd_find_or_open_timeout);
	return (r);
}

static enum cmd_ret
cmd_find_or_open_decide(struct cmd_ctx *ctx)
{
	struct cmd_fo_op	*op = ctx->op;
	const char		*name;
	struct child		*c;

	name = json_string_value(json_object_get(op->spec, "name"));
	cmd_set_ok(ctx, "created", json_boolean(op->created));
	if (ctx->gtd->shut->active) {
		cmd_error(ctx, GT_E_SHUTTING_DOWN, "gtd is shutting down");
		return (CMD_ERROR);
	}
	if ((c = child_find(ctx->gtd, name)) == NULL) {
		if ((c = cmd_child_new(ctx, op->spec)) == NULL)
			return (CMD_ERROR);
		return (cmd_await_ready(ctx, c));
	}
	switch (c->state) {
	case CHILD_RUNNING:
	case CHILD_STARTING:
	case CHILD_WAITING:
		return (cmd_await_ready(ctx, c));
	case CHILD_STOPPED:
		if (child_start(c) == -1) {
			cmd_start_failed(ctx, c);
			return (CMD_ERROR);
		}
		return (cmd_await_ready(ctx, c));
	case CHILD_RESTARTING:
	case CHILD_STOPPING:
	case CHILD_TERMINATING:
		break;
	}
	cmd_wait_child(ctx, c, cmd_find_or_open_wake);
	return (CMD_WAIT);
}

static void
cmd_find_or_open_wake(struct child *c, void *arg)
{
	struct cmd_ctx	*ctx = arg;

	if (cmd_find_or_open_decide(ctx) != CMD_WAIT)
		cmd_finish(ctx);
}

static void
cmd_find_or_open_timeout(struct cmd_ctx *ctx)
{
	cmd_error(ctx, GT_E_TIMEOUT, "not running after timeout_ms");
	cmd_finish(ctx);
}

static void
cmd_fo_op_free(void *p)
{
	struct cmd_fo_op	*op = p;

	json_decref(op->spec);
}
