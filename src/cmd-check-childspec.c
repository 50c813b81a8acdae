/* SPDX-License-Identifier: MIT */
/* cmd-check-childspec: validate a childspec and return it normalised. */
#include "config.h"

#include <stdlib.h>

#include "gt/childcg.h"
#include "gt/cmd.h"
#include "gt/config.h"

static enum cmd_ret	cmd_check_childspec_exec(struct cmd_ctx *, json_t *);

static const char *const cmd_check_childspec_args[] = { NULL };

const struct cmd_entry cmd_check_childspec_entry = {
	.name = "check_childspec",
	.access = ACL_READ,
	.usage = "childspec",
	.flags = CMD_SPEC,
	.keys = cmd_check_childspec_args,
	.exec = cmd_check_childspec_exec
};

static enum cmd_ret
cmd_check_childspec_exec(struct cmd_ctx *ctx, json_t *args)
{
	struct childspec	*s;
	char			*field, *cause;

	if ((s = config_spec_build(cmd_tpl(ctx), args, &field,
	    &cause)) == NULL || childcg_check(ctx->gtd, s, &field,
	    &cause) == -1) {
		cmd_bad(ctx, field, "%s", cause);
		free(field);
		free(cause);
		spec_free(s);
		return (CMD_ERROR);
	}
	cmd_set(ctx, "spec", config_spec_json(s));
	spec_free(s);
	return (CMD_OK);
}
