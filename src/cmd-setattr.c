/* SPDX-License-Identifier: MIT */
/*
 * cmd-setattr: merge keys into a live child's attrs.  All or nothing:
 * every key and value is checked (key length, max_attr_value_bytes) and
 * the row's totals after the merge (max_attrs, max_attr_bytes) before
 * any is written.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "gt/cmd.h"
#include "gt/config.h"
#include "gt/gtd.h"
#include "gt/log.h"
#include "gt/proto.h"
#include "gt/protocol.h"
#include "gt/registry.h"
#include "gt/xmalloc.h"

static enum cmd_ret	cmd_setattr_exec(struct cmd_ctx *, json_t *);

static const char *const cmd_setattr_args[] = { "name", "attrs", NULL };

const struct cmd_entry cmd_setattr_entry = {
	.name = "setattr",
	.access = ACL_WRITE,
	.usage = "name attrs={...}",
	.keys = cmd_setattr_args,
	.exec = cmd_setattr_exec
};

/* What a value counts against the attr byte limits (numbers: 0). */
static size_t
cmd_setattr_value_bytes(const struct value *v)
{
	return (v->s != NULL ? strlen(v->s) : 0);
}

/*
 * Check every value's size and the row's totals after the merge: the key
 * count (max_attrs) and its bytes (max_attr_bytes).  0, or -1 with the
 * error set.
 */
static int
cmd_setattr_check(struct cmd_ctx *ctx, struct child *c, json_t *attrs,
    const struct value *vals)
{
	const struct gtd_limits	*lim = &ctx->gtd->lim;
	struct registry		*reg = ctx->gtd->reg;
	const struct value	*old;
	const char		*k;
	json_t			*jv;
	size_t			 i = 0, bytes, vb;
	int			 have;

	if (registry_attr_count(reg, c->name, &have) == -1)
		have = 0;
	bytes = registry_attr_bytes(reg, c->name);
	json_object_foreach(attrs, k, jv) {
		if ((vb = cmd_setattr_value_bytes(&vals[i++])) >
		    lim->max_attr_value_bytes) {
			cmd_error(ctx, GT_E_LIMIT, "attr %.128s: a value of "
			    "%zu bytes, more than max_attr_value_bytes (%zu)",
			    k, vb, lim->max_attr_value_bytes);
			cmd_set(ctx, "limit",
			    json_string("max_attr_value_bytes"));
			cmd_set(ctx, "field", json_sprintf("attrs.%s", k));
			return (-1);
		}
		if ((old = registry_attr_ref(reg, c->name, k)) == NULL) {
			have++;
			bytes += strlen(k);
		} else
			bytes -= cmd_setattr_value_bytes(old);
		bytes += vb;
	}
	if (have > lim->max_attrs) {
		cmd_error(ctx, GT_E_LIMIT, "more than max_attrs (%d) attrs",
		    lim->max_attrs);
		cmd_set(ctx, "limit", json_string("max_attrs"));
		return (-1);
	}
	if (bytes > lim->max_attr_bytes) {
		cmd_error(ctx, GT_E_LIMIT, "%s would hold %zu bytes of attrs, "
		    "more than max_attr_bytes (%zu)", c->name, bytes,
		    lim->max_attr_bytes);
		cmd_set(ctx, "limit", json_string("max_attr_bytes"));
		cmd_set(ctx, "field", json_string("attrs"));
		return (-1);
	}
	return (0);
}

static enum cmd_ret
cmd_setattr_exec(struct cmd_ctx *ctx, json_t *args)
{
	const char			*name, *k, **ks;
	struct child			*c;
	struct value			*vals;
	json_t				*attrs, *jv;
	size_t				 i, n;
	int				 rc;

	if (cmd_arg_string(ctx, args, "name", true, &name) == -1)
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
	n = json_object_size(attrs);
	vals = xreallocarray(NULL, n + 1, sizeof *vals);
	i = 0;
	json_object_foreach(attrs, k, jv)
		proto_value_from_json(jv, &vals[i++]);
	ks = xreallocarray(NULL, n + 1, sizeof *ks);
	i = 0;
	json_object_foreach(attrs, k, jv)
		ks[i++] = k;
	/* The one writer: mirrors, waiters, the attr event. */
	if ((rc = cmd_setattr_check(ctx, c, attrs, vals)) == 0)
		(void)child_attr_set(c, ks, vals, n);	/* failures logged */
	for (i = 0; i < n; i++)
		value_free(&vals[i]);
	free(vals);
	free(ks);
	if (rc == -1)
		return (CMD_ERROR);
	return (CMD_OK);
}
