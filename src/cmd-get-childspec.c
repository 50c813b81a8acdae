/* SPDX-License-Identifier: MIT */
/* cmd-get-childspec: the row's normalised childspec. */
#include "config.h"

#include "gt/cmd.h"
#include "gt/config.h"

static enum cmd_ret	cmd_get_childspec_exec(struct cmd_ctx *, json_t *);

static const char *const cmd_get_childspec_args[] = { "name", NULL };

const struct cmd_entry cmd_get_childspec_entry = {
	.name = "get_childspec",
	.access = ACL_READ,
	.usage = "name",
	.flags = CMD_FLAT,
	.keys = cmd_get_childspec_args,
	.exec = cmd_get_childspec_exec
};

static enum cmd_ret
cmd_get_childspec_exec(struct cmd_ctx *ctx, json_t *args)
{
	struct child			*c;

	if ((c = cmd_named(ctx, args)) == NULL)
		return (CMD_ERROR);
	cmd_set(ctx, "spec", config_spec_json_as(c->spec, c->name));
	return (CMD_OK);
}
