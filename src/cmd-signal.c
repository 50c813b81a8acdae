/* SPDX-License-Identifier: MIT */
/* cmd-signal: send a signal to a child (its process group with kill_group). */
#include "config.h"

#include "gt/cmd.h"
#include "gt/config.h"
#include "gt/protocol.h"
#include "gt/spec.h"

static enum cmd_ret	cmd_signal_exec(struct cmd_ctx *, json_t *);

static const char *const cmd_signal_args[] = { "name", "signal", NULL };

const struct cmd_entry cmd_signal_entry = {
	.name = "signal",
	.access = ACL_CONTROL,
	.usage = "name signal=NAME|N",
	.flags = CMD_MUTATES,
	.keys = cmd_signal_args,
	.exec = cmd_signal_exec
};

static enum cmd_ret
cmd_signal_exec(struct cmd_ctx *ctx, json_t *args)
{
	const char			*name;
	struct child			*c;
	json_t				*v;
	char				 buf[24];
	int				 sig = -1;

	if (cmd_arg_string(ctx, args, "name", true, &name) == -1)
		return (CMD_ERROR);
	v = json_object_get(args, "signal");
	if (json_is_string(v))
		sig = spec_signal_parse(json_string_value(v));
	else if (json_is_integer(v) && json_integer_value(v) > 0 &&
	    json_integer_value(v) < 65) {
		snprintf(buf, sizeof buf, "%d", (int)json_integer_value(v));
		sig = spec_signal_parse(buf);
	}
	if (sig == -1) {
		cmd_bad(ctx, "signal",
		    "signal must be a signal name or number");
		return (CMD_ERROR);
	}
	if ((c = cmd_child(ctx, name)) == NULL)
		return (CMD_ERROR);
	if (child_kill(c, sig) == -1) {
		cmd_state_error(ctx, GT_E_NOT_RUNNING, c);
		return (CMD_ERROR);
	}
	return (CMD_OK);
}
