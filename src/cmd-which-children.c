/* SPDX-License-Identifier: MIT */
/*
 * cmd-which-children: every row (optionally of one state), OTP style,
 * written row by row as JSON text, bounded by the output caps.
 */
#include "config.h"

#include <string.h>

#include "gt/childdeps.h"
#include "gt/childgroup.h"
#include "gt/cmd.h"
#include "gt/config.h"
#include "gt/gtcluster.h"
#include "gt/gtd.h"
#include "gt/spec.h"

static enum cmd_ret	cmd_which_children_exec(struct cmd_ctx *, json_t *);

static const char *const cmd_which_children_args[] = { "state", "scope",
    NULL };

const struct cmd_entry cmd_which_children_entry = {
	.name = "which_children",
	.access = ACL_READ,
	.usage = "[state=S] [scope=local|cluster]",
	.flags = CMD_FLAT,
	.keys = cmd_which_children_args,
	.exec = cmd_which_children_exec
};

/* A waiting row's "waiting_for": the names of its unmet dependencies. */
static void
cmd_which_children_waiting(struct cmd_ctx *ctx, struct child *c)
{
	struct deps_unmet	un[DEPS_MAX_EDGES];
	size_t			i, n;

	n = childdeps_unmet(ctx->gtd, c->name, un, DEPS_MAX_EDGES);
	cmd_raw_text(ctx, ",\"waiting_for\":[", 16);
	for (i = 0; i < n && i < DEPS_MAX_EDGES; i++) {
		if (i > 0)
			cmd_raw_text(ctx, ",", 1);
		cmd_raw_string(ctx, un[i].name);
	}
	cmd_raw_text(ctx, "]", 1);
}

/*
 * One row: name, pid, state, type, restart, restart_count, started_at,
 * gave_up, restart_at, waiting_for when waiting, and member_of (its
 * OTP group) for a group's member.
 */
static void
cmd_which_children_row(struct cmd_ctx *ctx, struct child *c)
{
	const char	*g;

	cmd_raw_row_head(ctx, c->name, c->spec->cluster ?
	    gtcluster_node(ctx->gtd) : NULL, c->pid,
	    child_state_name(c->state));
	cmd_raw_text(ctx, ",\"type\":", 8);
	cmd_raw_string(ctx, spec_type_name(c->spec->type));
	cmd_raw_text(ctx, ",\"restart\":", 11);
	cmd_raw_string(ctx, spec_restart_name(c->spec->restart));
	cmd_raw_text(ctx, ",\"restart_count\":", 17);
	cmd_raw_int(ctx, c->restart_count);
	cmd_raw_text(ctx, ",\"started_at\":", 14);
	cmd_raw_int_or_null(ctx, c->pid > 0, c->started_at);
	cmd_raw_text(ctx, ",\"gave_up\":", 11);
	if (c->gave_up)
		cmd_raw_text(ctx, "true", 4);
	else
		cmd_raw_text(ctx, "false", 5);
	cmd_raw_text(ctx, ",\"restart_at\":", 14);
	cmd_raw_int_or_null(ctx, c->restart_at != 0, c->restart_at);
	if (c->state == CHILD_WAITING)
		cmd_which_children_waiting(ctx, c);
	if ((g = childgroup_name(c)) != NULL) {	/* only for a member */
		cmd_raw_text(ctx, ",\"member_of\":", 13);
		cmd_raw_string(ctx, g);
	}
	cmd_raw_text(ctx, "}", 1);
}

static enum cmd_ret
cmd_which_children_exec(struct cmd_ctx *ctx, json_t *args)
{
	const char			*st = NULL, *scope = NULL;
	enum child_state		 want = CHILD_RUNNING;
	struct child			*c;
	bool				 first = true;

	if (cmd_arg_string(ctx, args, "state", false, &st) == -1 ||
	    cmd_arg_string(ctx, args, "scope", false, &scope) == -1)
		return (CMD_ERROR);
	if (scope != NULL && strcmp(scope, "local") != 0 &&
	    strcmp(scope, "cluster") != 0) {
		cmd_bad(ctx, "scope", "scope must be \"local\" or \"cluster\"");
		return (CMD_ERROR);
	}
	if (st != NULL && child_state_parse(st, &want) == -1) {
		cmd_bad(ctx, "state", "unknown state %.32s", st);
		return (CMD_ERROR);
	}
	if (scope != NULL && strcmp(scope, "cluster") == 0)
		return (cmd_cluster_which(ctx, st));	/* every node's */
	/* Row by row, stopping once the reply could not be sent anyway. */
	cmd_raw_text(ctx, ",\"children\":[", 13);
	TAILQ_FOREACH(c, &ctx->gtd->tab->children, entry) {
		if (st != NULL && c->state != want)
			continue;
		if (!first)
			cmd_raw_text(ctx, ",", 1);
		first = false;
		cmd_which_children_row(ctx, c);
		if (cmd_reply_full(ctx))
			return (CMD_ERROR);
	}
	cmd_raw_text(ctx, "]", 1);
	return (CMD_OK);
}
