/* SPDX-License-Identifier: MIT */
/* cmd-which-children: every row (optionally of one state), OTP style. */
#include "config.h"

#include "gt/cmd.h"
#include "gt/config.h"
#include "gt/gtd.h"
#include "gt/spec.h"

static enum cmd_ret	cmd_which_children_exec(struct cmd_ctx *, json_t *);

const struct cmd_entry cmd_which_children_entry = {
	.name = "which_children",
	.access = ACL_READ,
	.usage = "[state=S]",
	.flags = CMD_FLAT,
	.exec = cmd_which_children_exec
};

static enum cmd_ret
cmd_which_children_exec(struct cmd_ctx *ctx, json_t *args)
{
	static const char *const	 keys[] = { "state", NULL };
	const char			*st = NULL;
	enum child_state		 want = CHILD_RUNNING;
	struct child			*c;
	json_t				*rows;

	if (cmd_args_known(ctx, args, keys) == -1 ||
	    cmd_arg_string(ctx, args, "state", false, &st) == -1)
		return (CMD_ERROR);
	if (st != NULL && child_state_parse(st, &want) == -1) {
		cmd_bad(ctx, "state", "unknown state %.32s", st);
		return (CMD_ERROR);
	}
	rows = json_array();
	TAILQ_FOREACH(c, &ctx->gtd->children, entry) {
		if (st != NULL && c->state != want)
			continue;
		json_array_append_new(rows, json_pack("{s:s, s:o, s:s, s:s, "
		    "s:s, s:i, s:o, s:b, s:o}", "name", c->name,
		    "pid", c->pid > 0 ? json_integer(c->pid) : json_null(),
		    "state", child_state_name(c->state),
		    "type", spec_type_name(c->spec->type),
		    "restart", spec_restart_name(c->spec->restart),
		    "restart_count", c->restart_count,
		    "started_at", c->pid > 0 ? json_integer(c->started_at) :
		    json_null(), "gave_up", c->gave_up,
		    "restart_at", c->restart_at != 0 ?
		    json_integer(c->restart_at) : json_null()));
	}
	cmd_set(ctx, "children", rows);
	return (CMD_OK);
}
