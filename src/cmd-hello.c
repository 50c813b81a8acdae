/* SPDX-License-Identifier: MIT */
/* cmd-hello: the daemon's version, protocol, zone, pid and op names. */
#include "config.h"

#include "gt/cmd.h"
#include "gt/config.h"
#include "gt/gtd.h"
#include "gt/protocol.h"

static enum cmd_ret	cmd_hello_exec(struct cmd_ctx *, json_t *);

static const char *const cmd_hello_args[] = { NULL };

const struct cmd_entry cmd_hello_entry = {
	.name = "hello",
	.access = ACL_READ,
	.usage = "",
	.flags = CMD_FLAT,
	.keys = cmd_hello_args,
	.exec = cmd_hello_exec
};

static enum cmd_ret
cmd_hello_exec(struct cmd_ctx *ctx, json_t *args)
{
	const struct cmd_entry *const	*e;
	json_t				*ops;

	ops = json_array();
	for (e = ctx->table; *e != NULL; e++)
		json_array_append_new(ops, json_string((*e)->name));
	cmd_set(ctx, "version", json_string(GT_VERSION));
	cmd_set(ctx, "protocol", json_integer(GT_PROTO_VERSION));
	cmd_set(ctx, "zone", json_string(ctx->gtd->zone));
	cmd_set(ctx, "pid", json_integer(ctx->gtd->pid));
	cmd_set(ctx, "ops", ops);
	cmd_cgroup(ctx);
	return (CMD_OK);
}
