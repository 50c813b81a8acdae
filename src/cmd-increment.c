/* SPDX-License-Identifier: MIT */
/*
 * cmd-increment: add to an integer attr and return the new value.
 * Missing key without default: not_found; a non-integer: not_integer;
 * past int64: overflow (the value is left unchanged).
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "gt/cmd.h"
#include "gt/config.h"
#include "gt/gtd.h"
#include "gt/log.h"
#include "gt/protocol.h"
#include "gt/registry.h"

static enum cmd_ret	cmd_increment_exec(struct cmd_ctx *, json_t *);

static const char *const cmd_increment_args[] = { "name", "key", "by",
    "default", NULL };

const struct cmd_entry cmd_increment_entry = {
	.name = "increment",
	.access = ACL_WRITE,
	.usage = "name key [by=N] [default=N]",
	.flags = CMD_FLAT,
	.keys = cmd_increment_args,
	.exec = cmd_increment_exec
};

static enum cmd_ret
cmd_increment_exec(struct cmd_ctx *ctx, json_t *args)
{
	const char			*name, *key;
	struct child			*c;
	int64_t				 by = 1, dflt = 0, result;
	enum registry_incr		 how;
	int				 n, rc, has_dflt;

	if (cmd_arg_string(ctx, args, "name", true, &name) == -1 ||
	    cmd_arg_string(ctx, args, "key", true, &key) == -1 ||
	    cmd_arg_int(ctx, args, "by", INT64_MIN, INT64_MAX, &by) == -1 ||
	    (has_dflt = cmd_arg_int(ctx, args, "default", INT64_MIN, INT64_MAX,
	    &dflt)) == -1 || (c = cmd_child(ctx, name)) == NULL ||
	    !cmd_attrs_live(ctx, c))
		return (CMD_ERROR);
	/* Existing keys first: the attr count matters only for a new one. */
	n = 0;
	if ((rc = child_attr_incr(c, key, by, NULL, &result, &how)) == 0 &&
	    how == REGISTRY_INCR_NOT_FOUND && has_dflt) {
		if (registry_attr_count(ctx->gtd->reg, c->name, &n) == 0 &&
		    n >= ctx->gtd->lim.max_attrs)
			n = -1;		/* full: no new key */
		else if (registry_attr_bytes(ctx->gtd->reg, c->name) +
		    strlen(key) > ctx->gtd->lim.max_attr_bytes)
			n = -2;		/* its key would not fit */
		else
			rc = child_attr_incr(c, key, by, &dflt, &result,
			    &how);
	}
	if (rc == -1) {
		log_warnx("child %s: increment: %s", c->name,
		    registry_errmsg(ctx->gtd->reg));
		cmd_error(ctx, GT_E_SQL_ERROR, "mirror failure");
		return (CMD_ERROR);
	}
	switch (how) {
	case REGISTRY_INCR_OK:
		cmd_set_int(ctx, "value", result);	/* event: the writer */
		return (CMD_OK);
	case REGISTRY_INCR_NOT_FOUND:
		if (n == -1 && has_dflt) {
			cmd_error(ctx, GT_E_LIMIT, "more than max_attrs (%d) "
			    "attrs", ctx->gtd->lim.max_attrs);
			cmd_set(ctx, "limit", json_string("max_attrs"));
		} else if (n == -2 && has_dflt) {
			cmd_error(ctx, GT_E_LIMIT, "more than max_attr_bytes "
			    "(%zu) of attrs", ctx->gtd->lim.max_attr_bytes);
			cmd_set(ctx, "limit", json_string("max_attr_bytes"));
		} else
			cmd_error(ctx, GT_E_NOT_FOUND, "%s has no attr %.128s",
			    c->name, key);
		return (CMD_ERROR);
	case REGISTRY_INCR_NOT_INTEGER:
		cmd_error(ctx, GT_E_NOT_INTEGER, "%.128s is not an integer",
		    key);
		return (CMD_ERROR);
	case REGISTRY_INCR_OVERFLOW:
		cmd_error(ctx, GT_E_OVERFLOW, "%.128s would overflow int64",
		    key);
		return (CMD_ERROR);
	}
	return (CMD_ERROR);
}
