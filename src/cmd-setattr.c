/* SPDX-License-Identifier: MIT */
/*
 * cmd-setattr: merge keys into a live child's attrs.  All or nothing:
 * every key is checked (length, the max_attrs cap) before any is written.
 */
#include "config.h"

#include <string.h>

#include "gt/cmd.h"
#include "gt/config.h"
#include "gt/event.h"
#include "gt/gtd.h"
#include "gt/log.h"
#include "gt/proto.h"
#include "gt/protocol.h"
#include "gt/registry.h"

static enum cmd_ret	cmd_setattr_exec(struct cmd_ctx *, json_t *);

const struct cmd_entry cmd_setattr_entry = {
	.name = "setattr",
	.access = ACL_WRITE,
	.usage = "name attrs={...}",
	.exec = cmd_setattr_exec
};

/* How many keys of attrs the child does not have yet. */
static int
cmd_setattr_new_keys(struct cmd_ctx *ctx, const char *name, json_t *attrs)
{
	const char	*k;
	json_t		*jv;
	int		 n = 0;

	json_object_foreach(attrs, k, jv)
		if (registry_attr_ref(ctx->gtd->reg, name, k) == NULL)
			n++;
	return (n);
}

static enum cmd_ret
cmd_setattr_exec(struct cmd_ctx *ctx, json_t *args)
{
	static const char *const	 keys[] = { "name", "attrs", NULL };
	struct registry			*reg = ctx->gtd->reg;
	const char			*name, *k;
	struct child			*c;
	struct value			 v;
	json_t				*attrs, *jv;
	int				 have;

	if (cmd_args_known(ctx, args, keys) == -1 ||
	    cmd_arg_string(ctx, args, "name", true, &name) == -1)
		return (CMD_ERROR);
	if (!json_is_object(attrs = json_object_get(args, "attrs"))) {
		cmd_bad(ctx, "attrs", "attrs must be an object");
		return (CMD_ERROR);
	}
	json_object_foreach(attrs, k, jv) {
		if (*k == '\0' || strlen(k) > GT_KEY_MAX) {
			cmd_bad(ctx, "attrs", "attr keys must be 1 to %d bytes",
			    GT_KEY_MAX);
			return (CMD_ERROR);
		}
	}
	if ((c = cmd_child(ctx, name)) == NULL || !cmd_attrs_live(ctx, c))
		return (CMD_ERROR);
	if (registry_attr_count(reg, c->name, &have) == -1)
		have = 0;
	if (have + cmd_setattr_new_keys(ctx, c->name, attrs) >
	    ctx->gtd->lim.max_attrs) {
		cmd_error(ctx, GT_E_LIMIT, "more than max_attrs (%d) attrs",
		    ctx->gtd->lim.max_attrs);
		cmd_set(ctx, "limit", json_string("max_attrs"));
		return (CMD_ERROR);
	}
	registry_attr_batch(reg, c->name);	/* all keys at once */
	json_object_foreach(attrs, k, jv) {
		proto_value_from_json(jv, &v);
		if (registry_attr_set(reg, c->name, k, &v) == -1) {
			ctx->gtd->stats.mirror_errors++;
			log_warnx("child %s: setattr: %s", c->name,
			    registry_errmsg(reg));
		}
		value_free(&v);
	}
	registry_attr_batch_end(reg);
	child_attrs_changed(c);
	if (event_wanted(ctx->gtd, EVENT_ATTR, c->name))
		event_emit(ctx->gtd, EVENT_ATTR, c->name, json_pack("{s:O}",
		    "attrs", attrs));
	return (CMD_OK);
}
