/* SPDX-License-Identifier: MIT */
/*
 * cmd-reload-child: ask a running child to reload its own configuration
 * by sending it its spec's reload_signal (default SIGHUP; to its process
 * group with kill_group), protocol §9.1.  Replies once the signal is
 * sent, with the pid and the signal: gtd does not know when, or whether,
 * the child has reloaded.  Only a starting or running row is signalled,
 * never one that is being stopped.
 */
#include "config.h"

#include "gt/cmd.h"
#include "gt/config.h"
#include "gt/protocol.h"
#include "gt/spec.h"

static enum cmd_ret	cmd_reload_child_exec(struct cmd_ctx *, json_t *);

static const char *const cmd_reload_child_args[] = { "name", NULL };

const struct cmd_entry cmd_reload_child_entry = {
	.name = "reload_child",
	.access = ACL_CONTROL,
	.usage = "name",
	.flags = CMD_MUTATES,
	.keys = cmd_reload_child_args,
	.exec = cmd_reload_child_exec
};

static enum cmd_ret
cmd_reload_child_exec(struct cmd_ctx *ctx, json_t *args)
{
	struct child			*c;

	if ((c = cmd_named(ctx, args)) == NULL)
		return (CMD_ERROR);
	if ((c->state != CHILD_STARTING && c->state != CHILD_RUNNING) ||
	    child_kill(c, c->spec->reload_signal) == -1) {
		cmd_state_error(ctx, GT_E_NOT_RUNNING, c);
		return (CMD_ERROR);
	}
	cmd_set_int(ctx, "pid", c->pid);
	cmd_set_str(ctx, "signal", spec_signal_name(c->spec->reload_signal));
	return (CMD_OK);
}
