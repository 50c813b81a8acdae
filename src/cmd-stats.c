/* SPDX-License-Identifier: MIT */
/* cmd-stats: daemon counters. */
#include "config.h"

#include <unistd.h>

#include "gt/childcg.h"
#include "gt/clock.h"
#include "gt/cmd.h"
#include "gt/config.h"
#include "gt/conn.h"
#include "gt/gtd.h"
#include "gt/registry.h"
#include "gt/shmirror.h"

static enum cmd_ret	cmd_stats_exec(struct cmd_ctx *, json_t *);

static const char *const cmd_stats_args[] = { NULL };

const struct cmd_entry cmd_stats_entry = {
	.name = "stats",
	.access = ACL_READ,
	.usage = "",
	.flags = CMD_FLAT,
	.keys = cmd_stats_args,
	.exec = cmd_stats_exec
};

/* The shared-memory mirror: null when none is published. */
static json_t *
cmd_stats_mirror(struct gtd *g)
{
	struct shmirror		*m = registry_mirror(g->reg);
	struct shmirror_info	 i;

	if (m == NULL)
		return (json_null());
	shmirror_info(m, &i);
	return (json_pack("{s:I s:I s:I s:I s:b s:b}",
	    "file_bytes", (json_int_t)i.file_size,
	    "used_bytes", (json_int_t)i.used,
	    "records", (json_int_t)i.nrecords,
	    "generation", (json_int_t)i.generation,
	    "full", i.full, "degraded", shmirror_degraded(m)));
}

static enum cmd_ret
cmd_stats_exec(struct cmd_ctx *ctx, json_t *args)
{
	struct gtd			*g = ctx->gtd;
	struct child			*c;
	json_t				*by;
	int				 n[CHILD_NSTATES] = { 0 }, i;
	int64_t				 rss = 0, cpu = 0;

	TAILQ_FOREACH(c, &g->tab->children, entry)
		n[c->state]++;
	by = json_object();
	for (i = 0; i < CHILD_NSTATES; i++)
		json_object_set_new(by, child_state_name(i),
		    json_integer(n[i]));
	(void)cmd_proc_usage(getpid(), &rss, &cpu);	/* 0s if unreadable */
	cmd_set(ctx, "uptime_ms",
	    json_integer(clock_now_ms(g->loop) - g->started_at));
	cmd_set(ctx, "children", json_integer(g->tab->nchildren));
	cmd_set(ctx, "by_state", by);
	cmd_set(ctx, "requests", json_integer((json_int_t)g->stats.requests));
	cmd_set(ctx, "connections", json_integer(connset_count(g->conns)));
	cmd_set(ctx, "connections_total",
	    json_integer((json_int_t)connset_accepted(g->conns)));
	cmd_set(ctx, "spawns", json_integer((json_int_t)g->stats.spawns));
	cmd_set(ctx, "spawn_failures",
	    json_integer((json_int_t)g->stats.spawn_failures));
	cmd_set(ctx, "restarts", json_integer((json_int_t)g->stats.restarts));
	cmd_set(ctx, "mirror_errors",
	    json_integer((json_int_t)g->stats.mirror_errors));
	cmd_set(ctx, "mirror", cmd_stats_mirror(g));
	cmd_set(ctx, "rss_bytes", json_integer(rss));
	cmd_set(ctx, "cpu_ms", json_integer(cpu));
	cmd_cgroup(ctx);
	return (CMD_OK);
}

void
cmd_cgroup(struct cmd_ctx *ctx)
{
	const char	*base = childcg_base(ctx->gtd);

	cmd_set(ctx, "cgroup", base != NULL ? json_string(base) :
	    json_null());
	if (base == NULL)
		cmd_set(ctx, "cgroup_off", json_string(childcg_off(ctx->gtd)));
}
