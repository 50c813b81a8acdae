/* SPDX-License-Identifier: MIT */
/*
 * cmd-reload: re-read the config and apply the difference (see reload.h).
 * A config that does not validate is bad_config naming the field, and
 * nothing changes.
 */
#include "config.h"

#include <stdlib.h>

#include "gt/cmd.h"
#include "gt/config.h"
#include "gt/protocol.h"
#include "gt/reload.h"

static enum cmd_ret	cmd_reload_exec(struct cmd_ctx *, json_t *);

const struct cmd_entry cmd_reload_entry = {
	.name = "reload",
	.access = ACL_ADMIN,
	.usage = "",
	.flags = CMD_MUTATES,
	.exec = cmd_reload_exec
};

static enum cmd_ret
cmd_reload_exec(struct cmd_ctx *ctx, json_t *args)
{
	static const char *const	 keys[] = { NULL };
	char				*field = NULL, *cause = NULL;

	if (cmd_args_known(ctx, args, keys) == -1)
		return (CMD_ERROR);
	if (reload_apply(ctx->gtd, &field, &cause) == -1) {
		cmd_error(ctx, GT_E_BAD_CONFIG, "%s", cause);
		cmd_set(ctx, "field", json_string(field));
		free(field);
		free(cause);
		return (CMD_ERROR);
	}
	if (reload_queued(ctx->gtd))	/* applied once the boot ends */
		cmd_set(ctx, "queued", json_true());
	return (CMD_OK);
}
