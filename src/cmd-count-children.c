/* SPDX-License-Identifier: MIT */
/*
 * cmd-count-children: OTP's count_children: specs, active, workers,
 * supervisors.
 */
#include "config.h"

#include "gt/cmd.h"
#include "gt/config.h"
#include "gt/gtd.h"

static enum cmd_ret	cmd_count_children_exec(struct cmd_ctx *, json_t *);

static const char *const cmd_count_children_args[] = { NULL };

const struct cmd_entry cmd_count_children_entry = {
	.name = "count_children",
	.access = ACL_READ,
	.usage = "",
	.flags = CMD_FLAT,
	.keys = cmd_count_children_args,
	.exec = cmd_count_children_exec
};

static enum cmd_ret
cmd_count_children_exec(struct cmd_ctx *ctx, json_t *args)
{
	struct child			*c;
	int				 sup = 0;

	TAILQ_FOREACH(c, &ctx->gtd->tab->children, entry)
		if (c->spec->type == SPEC_SUPERVISOR)
			sup++;
	cmd_set(ctx, "specs", json_integer(ctx->gtd->tab->nchildren));
	cmd_set(ctx, "active", json_integer(ctx->gtd->tab->nprocs));
	cmd_set(ctx, "workers", json_integer(ctx->gtd->tab->nchildren - sup));
	cmd_set(ctx, "supervisors", json_integer(sup));
	return (CMD_OK);
}
