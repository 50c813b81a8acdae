/* SPDX-License-Identifier: MIT */
/* cmd-list: running children with their attrs (optionally only some keys). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "gt/cmd.h"
#include "gt/config.h"
#include "gt/gtd.h"
#include "gt/protocol.h"

static enum cmd_ret	cmd_list_exec(struct cmd_ctx *, json_t *);

const struct cmd_entry cmd_list_entry = {
	.name = "list",
	.access = ACL_READ,
	.usage = "[keys=[...]]",
	.exec = cmd_list_exec
};

/* Keep only the attrs named in keys. */
static void
cmd_list_filter(json_t *attrs, json_t *keys)
{
	const char	*k;
	json_t		*v, *kv;
	void		*tmp;
	size_t		 i;
	int		 keep;

	json_object_foreach_safe(attrs, tmp, k, v) {
		keep = 0;
		json_array_foreach(keys, i, kv)
			if (strcmp(json_string_value(kv), k) == 0)
				keep = 1;
		if (!keep)
			json_object_del(attrs, k);
	}
}

static enum cmd_ret
cmd_list_exec(struct cmd_ctx *ctx, json_t *args)
{
	static const char *const	 akeys[] = { "keys", NULL };
	json_t				*keys, *rows, *attrs, *kv;
	struct child			*c;
	size_t				 i;
	char				 field[32];

	if (cmd_args_known(ctx, args, akeys) == -1)
		return (CMD_ERROR);
	if ((keys = json_object_get(args, "keys")) != NULL) {
		if (!json_is_array(keys)) {
			cmd_bad(ctx, "keys",
			    "keys must be an array of strings");
			return (CMD_ERROR);
		}
		json_array_foreach(keys, i, kv)
			if (!json_is_string(kv)) {
				snprintf(field, sizeof field, "keys.%zu", i);
				cmd_bad(ctx, field, "keys must be an array of "
				    "strings");
				return (CMD_ERROR);
			}
	}
	rows = json_array();
	TAILQ_FOREACH(c, &ctx->gtd->children, entry) {
		if (c->state != CHILD_RUNNING)
			continue;
		attrs = cmd_attrs_json(ctx, c->name);
		if (keys != NULL)
			cmd_list_filter(attrs, keys);
		json_array_append_new(rows, json_pack("{s:s, s:i, s:o}",
		    "name", c->name, "pid", (int)c->pid, "attrs", attrs));
	}
	cmd_set(ctx, "children", rows);
	return (CMD_OK);
}
