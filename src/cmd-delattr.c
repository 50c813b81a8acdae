/* SPDX-License-Identifier: MIT */
/* cmd-delattr: remove one attr of a live child; a missing key is not_found. */
#include "config.h"

#include "gt/cmd.h"
#include "gt/config.h"
#include "gt/gtd.h"
#include "gt/log.h"
#include "gt/protocol.h"
#include "gt/registry.h"

static enum cmd_ret	cmd_delattr_exec(struct cmd_ctx *, json_t *);

static const char *const cmd_delattr_args[] = { "name", "key", NULL };

const struct cmd_entry cmd_delattr_entry = {
	.name = "delattr",
	.access = ACL_WRITE,
	.usage = "name key",
	.flags = CMD_FLAT,
	.keys = cmd_delattr_args,
	.exec = cmd_delattr_exec
};

static enum cmd_ret
cmd_delattr_exec(struct cmd_ctx *ctx, json_t *args)
{
	const char			*name, *key;
	struct child			*c;
	bool				 found;

	if (cmd_arg_string(ctx, args, "name", true, &name) == -1 ||
	    cmd_arg_string(ctx, args, "key", true, &key) == -1 ||
	    (c = cmd_child(ctx, name)) == NULL || !cmd_attrs_live(ctx, c))
		return (CMD_ERROR);
	/* The one writer: mirrors, waiters, the attr event. */
	if (child_attr_del(c, key, &found) == 0 && !found) {
		cmd_error(ctx, GT_E_NOT_FOUND, "%s has no attr %.128s", c->name,
		    key);
		return (CMD_ERROR);
	}
	return (CMD_OK);		/* a mirror failure is logged */
}
