/* SPDX-License-Identifier: MIT */
/*
 * cmd-reload: re-read the config and apply the difference (see reload.h),
 * or with dry_run only say what that would do.  The reply lists what
 * happened, by child name: started, stopped, changed, unchanged, absent,
 * failed, and warnings.  A config that does not validate is bad_config
 * naming the field, and nothing changes.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>

#include "gt/cmd.h"
#include "gt/config.h"
#include "gt/protocol.h"
#include "gt/reload.h"

static enum cmd_ret	cmd_reload_exec(struct cmd_ctx *, json_t *);

static const char *const cmd_reload_args[] = { "dry_run", NULL };

const struct cmd_entry cmd_reload_entry = {
	.name = "reload",
	.access = ACL_ADMIN,
	.usage = "[dry_run=bool]",
	.flags = CMD_MUTATES,
	.keys = cmd_reload_args,
	.exec = cmd_reload_exec
};

/* A NULL-terminated vector as a JSON array of strings. */
static json_t *
cmd_reload_names(char **v)
{
	json_t	*a = json_array();

	for (; *v != NULL; v++)
		json_array_append_new(a, json_string(*v));
	return (a);
}

static enum cmd_ret
cmd_reload_exec(struct cmd_ctx *ctx, json_t *args)
{
	struct reload_report		 rep;
	char				*field = NULL, *cause = NULL;
	bool				 dry = false;
	int				 i;

	if (cmd_arg_bool(ctx, args, "dry_run", &dry) == -1)
		return (CMD_ERROR);
	if (reload_run(ctx->gtd, dry, &rep, &field, &cause) == -1) {
		cmd_error(ctx, GT_E_BAD_CONFIG, "%s", cause);
		cmd_set(ctx, "field", json_string(field));
		free(field);
		free(cause);
		return (CMD_ERROR);
	}
	for (i = 0; i < RELOAD_NWHAT; i++)
		cmd_set(ctx, reload_what_name(i),
		    cmd_reload_names(rep.names[i]));
	cmd_set(ctx, "warnings", cmd_reload_names(rep.warnings));
	reload_report_free(&rep);
	if (!dry && reload_queued(ctx->gtd))	/* applied once the boot ends */
		cmd_set(ctx, "queued", json_true());
	return (CMD_OK);
}
