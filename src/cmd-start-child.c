/* SPDX-License-Identifier: MIT */
/*
 * cmd-start-child: OTP's start_child.  A new row only: an existing name
 * is already_started (with its pid) or already_present (with its state).
 */
#include "config.h"

#include <string.h>

#include "gt/cmd.h"
#include "gt/config.h"
#include "gt/protocol.h"

static enum cmd_ret	cmd_start_child_exec(struct cmd_ctx *, json_t *);
static enum cmd_ret	cmd_start_child_new(struct cmd_ctx *);

static const char *const cmd_start_child_args[] = { "wait", NULL };

const struct cmd_entry cmd_start_child_entry = {
	.name = "start_child",
	.access = ACL_CONTROL,
	.usage = "childspec [wait=bool]",
	.flags = CMD_MUTATES | CMD_SPEC,
	.keys = cmd_start_child_args,
	.exec = cmd_start_child_exec
};

static enum cmd_ret
cmd_start_child_exec(struct cmd_ctx *ctx, json_t *args)
{
	struct child	*c;
	json_t		*name;

	ctx->wait = true;
	if (cmd_arg_bool(ctx, args, "wait", &ctx->wait) == -1)
		return (CMD_ERROR);
	json_object_del(args, "wait");
	name = json_object_get(args, "name");
	if (json_is_string(name) &&
	    (c = child_find(ctx->gtd, json_string_value(name))) != NULL) {
		cmd_cluster_node(ctx, c);
		if (child_is_alive(c)) {
			cmd_error(ctx, GT_E_ALREADY_STARTED, "%s is running",
			    c->name);
			cmd_pid(ctx, c);
		} else {
			cmd_error(ctx, GT_E_ALREADY_PRESENT, "%s is %s",
			    c->name, child_state_name(c->state));
			cmd_set(ctx, "state",
			    json_string(child_state_name(c->state)));
		}
		return (CMD_ERROR);
	}
	/* Scope cluster: the name is claimed first (cmd-cluster.c). */
	if (json_is_string(name) && json_is_string(json_object_get(args,
	    "scope")) && strcmp(json_string_value(json_object_get(args,
	    "scope")), "cluster") == 0) {
		return (cmd_cluster_start(ctx, json_string_value(name), args,
		    json_is_true(json_object_get(args, "failover")), false, -1,
		    cmd_start_child_new));
	}
	if ((c = cmd_child_new(ctx, args)) == NULL)
		return (CMD_ERROR);
	return (cmd_await_ready(ctx, c));
}

/* The claim is this node's: make the row and start it. */
static enum cmd_ret
cmd_start_child_new(struct cmd_ctx *ctx)
{
	struct child	*c;
	json_t		*spec = cmd_cluster_spec(ctx);

	if ((c = child_find(ctx->gtd, json_string_value(json_object_get(
	    spec, "name")))) != NULL) {
		cmd_error(ctx, GT_E_ALREADY_STARTED, "%s is %s", c->name,
		    child_state_name(c->state));
		cmd_pid(ctx, c);
		cmd_cluster_node(ctx, c);
		return (CMD_ERROR);
	}
	if ((c = cmd_child_new(ctx, spec)) == NULL)
		return (CMD_ERROR);
	return (cmd_await_ready(ctx, c));
}
