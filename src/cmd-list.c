/* SPDX-License-Identifier: MIT */
/*
 * cmd-list: running children with their attrs (optionally only some keys).
 * The reply is written row by row as JSON text and stops as soon as it
 * outgrows what the output caps allow (a limit error then).  keys are at
 * most max_attrs (no child can have more), sorted once, and each attr is
 * looked up in them by binary search: linear in the attrs listed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gt/cmd.h"
#include "gt/config.h"
#include "gt/gtd.h"
#include "gt/log.h"
#include "gt/protocol.h"
#include "gt/registry.h"
#include "gt/xmalloc.h"

static enum cmd_ret	cmd_list_exec(struct cmd_ctx *, json_t *);

static const char *const cmd_list_args[] = { "keys", NULL };

const struct cmd_entry cmd_list_entry = {
	.name = "list",
	.access = ACL_READ,
	.usage = "[keys=[...]]",
	.keys = cmd_list_args,
	.exec = cmd_list_exec
};

/* The keys asked for: sorted, no duplicates (NULL: every key). */
struct cmd_list_keys {
	const char	**k;		/* borrowed from the request */
	size_t		  n;
};

/* One row's attrs being written. */
struct cmd_list_row {
	struct cmd_ctx			*ctx;
	const struct cmd_list_keys	*keys;
	bool				 first;
};

static int
cmd_list_cmp(const void *a, const void *b)
{
	return (strcmp(*(const char *const *)a, *(const char *const *)b));
}

/* Check keys; fill *out (sorted, unique).  0, or -1 with the error. */
static int
cmd_list_keys(struct cmd_ctx *ctx, json_t *keys, struct cmd_list_keys *out)
{
	json_t	*kv;
	size_t	 i, k;
	char	 field[32];

	if (!json_is_array(keys)) {
		cmd_bad(ctx, "keys", "keys must be an array of strings");
		return (-1);
	}
	if (json_array_size(keys) > (size_t)ctx->gtd->lim.max_attrs) {
		cmd_error(ctx, GT_E_LIMIT, "keys names %zu keys, more than a "
		    "child can have (max_attrs, %d)", json_array_size(keys),
		    ctx->gtd->lim.max_attrs);
		cmd_set(ctx, "limit", json_string("max_attrs"));
		return (-1);
	}
	out->k = xreallocarray(NULL, json_array_size(keys) + 1,
	    sizeof *out->k);
	json_array_foreach(keys, i, kv) {
		if (!json_is_string(kv)) {
			free(out->k);
			snprintf(field, sizeof field, "keys.%zu", i);
			cmd_bad(ctx, field, "keys must be an array of strings");
			return (-1);
		}
		out->k[i] = json_string_value(kv);
	}
	qsort(out->k, json_array_size(keys), sizeof *out->k, cmd_list_cmp);
	for (i = k = 0; i < json_array_size(keys); i++)
		if (k == 0 || strcmp(out->k[i], out->k[k - 1]) != 0)
			out->k[k++] = out->k[i];
	out->n = k;
	return (0);
}

/* One attr of a row, "key":value, if it is one of the keys asked for. */
static void
cmd_list_attr(const char *key, const struct value *v, void *arg)
{
	struct cmd_list_row	*r = arg;

	if (r->keys != NULL && bsearch(&key, r->keys->k, r->keys->n,
	    sizeof *r->keys->k, cmd_list_cmp) == NULL)
		return;
	if (!r->first)
		cmd_raw_text(r->ctx, ",", 1);
	r->first = false;
	cmd_raw_string(r->ctx, key);
	cmd_raw_text(r->ctx, ":", 1);
	cmd_raw_value(r->ctx, v);
}

/* {"name":...,"pid":...,"attrs":{...}} */
static void
cmd_list_row(struct cmd_ctx *ctx, struct child *c,
    const struct cmd_list_keys *keys)
{
	struct gtd		*g = ctx->gtd;
	struct cmd_list_row	 r = { .ctx = ctx, .keys = keys,
	    .first = true };

	cmd_raw_text(ctx, "{\"name\":", 8);
	cmd_raw_string(ctx, c->name);
	cmd_raw_text(ctx, ",\"pid\":", 7);
	cmd_raw_int(ctx, c->pid);
	cmd_raw_text(ctx, ",\"attrs\":{", 10);
	if ((keys == NULL || keys->n > 0) && registry_attr_foreach(g->reg,
	    c->name, cmd_list_attr, &r) == -1) {
		g->stats.mirror_errors++;
		log_warnx("child %s: attrs: %s", c->name,
		    registry_errmsg(g->reg));
	}
	cmd_raw_text(ctx, "}}", 2);
}

static enum cmd_ret
cmd_list_exec(struct cmd_ctx *ctx, json_t *args)
{
	struct cmd_list_keys		 keys = { NULL, 0 };
	json_t				*kj;
	struct child			*c;
	bool				 first = true;

	if ((kj = json_object_get(args, "keys")) != NULL &&
	    cmd_list_keys(ctx, kj, &keys) == -1)
		return (CMD_ERROR);
	cmd_raw_text(ctx, ",\"children\":[", 13);
	TAILQ_FOREACH(c, &ctx->gtd->tab->children, entry) {
		if (c->state != CHILD_RUNNING)
			continue;
		if (!first)
			cmd_raw_text(ctx, ",", 1);
		first = false;
		cmd_list_row(ctx, c, kj != NULL ? &keys : NULL);
		if (cmd_reply_full(ctx)) {
			free(keys.k);
			return (CMD_ERROR);
		}
	}
	cmd_raw_text(ctx, "]", 1);
	free(keys.k);
	return (CMD_OK);
}
