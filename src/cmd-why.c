/* SPDX-License-Identifier: MIT */
/*
 * cmd-why: what a row waits for (protocol §9.1): its depends_on entries
 * that are not met now, each with what its dependency is doing.
 */
#include "config.h"

#include "gt/childdeps.h"
#include "gt/cmd.h"
#include "gt/config.h"
#include "gt/deps.h"

static enum cmd_ret	cmd_why_exec(struct cmd_ctx *, json_t *);

static const char *const cmd_why_args[] = { "name", NULL };

const struct cmd_entry cmd_why_entry = {
	.name = "why",
	.access = ACL_READ,
	.usage = "name",
	.flags = CMD_FLAT,
	.keys = cmd_why_args,
	.exec = cmd_why_exec
};

static enum cmd_ret
cmd_why_exec(struct cmd_ctx *ctx, json_t *args)
{
	struct deps_unmet		 un[DEPS_MAX_EDGES];
	struct child			*c, *d;
	json_t				*a;
	size_t				 i, n;

	if ((c = cmd_named(ctx, args)) == NULL)
		return (CMD_ERROR);
	n = childdeps_unmet(ctx->gtd, c->name, un, DEPS_MAX_EDGES);
	a = json_array();
	for (i = 0; i < n && i < DEPS_MAX_EDGES; i++) {
		/* A row says its state; else absent or completed. */
		d = child_find(ctx->gtd, un[i].name);
		json_array_append_new(a, json_pack("{s:s, s:s, s:s}",
		    "name", un[i].name, "condition",
		    deps_cond_name(un[i].cond), "state", d != NULL ?
		    child_state_name(d->state) : deps_phase_name(un[i].obs.phase)));
	}
	cmd_set_str(ctx, "state", child_state_name(c->state));
	cmd_set(ctx, "waiting_for", a);
	cmd_set(ctx, "depends_on", deps_json(c->spec->deps, c->spec->ndeps));
	return (CMD_OK);
}
