/* SPDX-License-Identifier: MIT */
/*
 * cmd-getattr: one attr of a child.  attrs are readable from start until
 * the incarnation is gone; a missing key or row is not_found.  With
 * wait_ms, a missing key is waited for (an attr watcher and a timer,
 * never a poll) as long as the row exists.
 */
#include "config.h"

#include "gt/cmd.h"
#include "gt/config.h"
#include "gt/gtd.h"
#include "gt/proto.h"
#include "gt/protocol.h"
#include "gt/registry.h"

static enum cmd_ret	cmd_getattr_exec(struct cmd_ctx *, json_t *);
static int		cmd_getattr_try(struct cmd_ctx *, struct child *,
			    const char *);
static void		cmd_getattr_missing(struct cmd_ctx *, struct child *,
			    const char *);
static void		cmd_getattr_wake(struct child *, void *);
static void		cmd_getattr_timeout(struct cmd_ctx *);

static const char *const cmd_getattr_args[] = { "name", "key", "wait_ms",
    NULL };

const struct cmd_entry cmd_getattr_entry = {
	.name = "getattr",
	.access = ACL_READ,
	.usage = "name key [wait_ms=N]",
	.flags = CMD_FLAT,
	.keys = cmd_getattr_args,
	.exec = cmd_getattr_exec
};

/* Reply with the value if the key exists: 0, else -1 (nothing set). */
static int
cmd_getattr_try(struct cmd_ctx *ctx, struct child *c, const char *key)
{
	const struct value	*v;

	if ((v = registry_attr_ref(ctx->gtd->reg, c->name, key)) == NULL)
		return (-1);
	cmd_set_value(ctx, "value", v);
	return (0);
}

static void
cmd_getattr_missing(struct cmd_ctx *ctx, struct child *c, const char *key)
{
	cmd_error(ctx, GT_E_NOT_FOUND, "%s has no attr %.128s", c->name, key);
	cmd_set_str(ctx, "state", child_state_name(c->state));
}

static enum cmd_ret
cmd_getattr_exec(struct cmd_ctx *ctx, json_t *args)
{
	const char			*name, *key;
	struct child			*c;
	int64_t				 wait = -1;

	if (cmd_arg_string(ctx, args, "name", true, &name) == -1 ||
	    cmd_arg_string(ctx, args, "key", true, &key) == -1 ||
	    cmd_arg_int(ctx, args, "wait_ms", 0, SPEC_MAX_MS, &wait) == -1 ||
	    (c = cmd_child(ctx, name)) == NULL)
		return (CMD_ERROR);
	if (c->state == CHILD_STOPPED || c->state == CHILD_RESTARTING) {
		cmd_state_error(ctx, GT_E_NOT_RUNNING, c);
		return (CMD_ERROR);
	}
	if (cmd_getattr_try(ctx, c, key) == 0)
		return (CMD_OK);
	if (wait <= 0) {
		cmd_getattr_missing(ctx, c, key);
		return (CMD_ERROR);
	}
	(void)cmd_opstr(ctx, key);	/* args do not outlive exec */
	ctx->child = c;
	child_ref(c);
	ctx->w.cb = cmd_getattr_wake;
	ctx->w.arg = ctx;
	child_wait_attrs(c, &ctx->w);
	cmd_wait_timeout(ctx, wait, cmd_getattr_timeout);
	return (CMD_WAIT);
}

static void
cmd_getattr_wake(struct child *c, void *arg)
{
	struct cmd_ctx	*ctx = arg;

	const char	*key = ctx->op;

	if (c->flags & CHILD_DEAD) {
		cmd_getattr_missing(ctx, c, key);
		cmd_finish(ctx);
	} else if (cmd_getattr_try(ctx, c, key) == 0)
		cmd_finish(ctx);
	else
		child_wait_attrs(c, &ctx->w);
}

static void
cmd_getattr_timeout(struct cmd_ctx *ctx)
{
	cmd_getattr_missing(ctx, ctx->child, ctx->op);
	cmd_finish(ctx);
}
