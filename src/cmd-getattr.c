/* SPDX-License-Identifier: MIT */
/*
 * cmd-getattr: one attr of a child.  attrs are readable from start until
 * the incarnation is gone; a missing key or row is not_found.
 */
#include "config.h"

#include "gt/cmd.h"
#include "gt/gtd.h"
#include "gt/proto.h"
#include "gt/protocol.h"
#include "gt/registry.h"

static enum cmd_ret	cmd_getattr_exec(struct cmd_ctx *, json_t *);

const struct cmd_entry cmd_getattr_entry = {
	.name = "getattr",
	.usage = "name key",
	.exec = cmd_getattr_exec
};

static enum cmd_ret
cmd_getattr_exec(struct cmd_ctx *ctx, json_t *args)
{
	static const char *const	 keys[] = { "name", "key", NULL };
	const char			*name, *key;
	struct child			*c;
	struct value			 v;
	bool				 found = false;

	if (cmd_args_known(ctx, args, keys) == -1 ||
	    cmd_arg_string(ctx, args, "name", true, &name) == -1 ||
	    cmd_arg_string(ctx, args, "key", true, &key) == -1 ||
	    (c = cmd_child(ctx, name)) == NULL)
		return (CMD_ERROR);
	if (registry_attr_get(ctx->gtd->reg, c->name, key, &v, &found) == -1 ||
	    !found) {
		cmd_error(ctx, GT_E_NOT_FOUND, "%s has no attr %.128s", c->name,
		    key);
		cmd_set(ctx, "state", json_string(child_state_name(c->state)));
		return (CMD_ERROR);
	}
	cmd_set(ctx, "value", proto_value_json(&v));
	value_free(&v);
	return (CMD_OK);
}
