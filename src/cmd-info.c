/* SPDX-License-Identifier: MIT */
/* cmd-info: everything about one row, with its process's rss and cpu time. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gt/childcg.h"
#include "gt/childgroup.h"
#include "gt/cmd.h"
#include "gt/config.h"
#include "gt/gtd.h"
#include "gt/procstat.h"
#include "gt/proto.h"

static enum cmd_ret	cmd_info_exec(struct cmd_ctx *, json_t *);

static const char *const cmd_info_args[] = { "name", NULL };

const struct cmd_entry cmd_info_entry = {
	.name = "info",
	.access = ACL_READ,
	.usage = "name",
	.flags = CMD_FLAT,
	.keys = cmd_info_args,
	.exec = cmd_info_exec
};

/* rss and utime+stime of pid from /proc/PID/stat.  0 or -1. */
int
cmd_proc_usage(pid_t pid, int64_t *rss, int64_t *cpu_ms)
{
	struct proc_stat	ps;

	if (proc_stat(pid, &ps) == -1)
		return (-1);
	*rss = ps.rss * sysconf(_SC_PAGESIZE);
	*cpu_ms = (int64_t)((ps.utime + ps.stime) * 1000 /
	    (unsigned long long)sysconf(_SC_CLK_TCK));
	return (0);
}

static json_t *
cmd_info_ms(int64_t ms)
{
	return (ms != 0 ? json_integer(ms) : json_null());
}

/*
 * What the env_files gave at the last start: each entry, whether it was
 * missing, and its keys.  Never the values: info is of class read, and
 * env files hold secrets.
 */
static json_t *
cmd_info_envfiles(const struct child *c)
{
	const struct child_envinfo	*ei = c->envinfo;
	json_t				*a, *o, *k;
	size_t				 i, j;

	if (ei == NULL)
		return (json_null());
	a = json_array();
	for (i = 0; i < ei->n; i++) {
		k = json_array();
		for (j = 0; ei->f[i].keys[j] != NULL; j++)
			json_array_append_new(k, json_string(ei->f[i].keys[j]));
		o = json_pack("{s:s, s:b, s:o}", "path", ei->f[i].path,
		    "missing", ei->f[i].missing, "keys", k);
		json_array_append_new(a, o);
	}
	return (a);
}

static enum cmd_ret
cmd_info_exec(struct cmd_ctx *ctx, json_t *args)
{
	struct child			*c;
	struct policy_reason		 r;
	json_t				*last = json_null();
	int64_t				 rss, cpu, mem;
	const char			*name;
	enum cmd_ret			 ret;

	/* Another node's cluster child: from the mirror (cmd-cluster.c). */
	if ((name = cmd_arg_peek(ctx, args, "name")) != NULL &&
	    child_find(ctx->gtd, name) == NULL &&
	    cmd_cluster_info(ctx, name, &ret))
		return (ret);
	if ((c = cmd_named(ctx, args)) == NULL)
		return (CMD_ERROR);
	cmd_cluster_node(ctx, c);
	if (c->spec->cluster && c->fence > 0)	/* GTD_FENCE */
		cmd_set(ctx, "revision", json_integer(c->fence));
	cmd_set(ctx, "name", json_string(c->name));
	cmd_set(ctx, "spec", config_spec_json_as(c->spec, c->name));
	cmd_pid(ctx, c);
	cmd_set(ctx, "state", json_string(child_state_name(c->state)));
	cmd_set(ctx, "restart_count", json_integer(c->restart_count));
	cmd_set(ctx, "started_at", cmd_info_ms(c->started_at));
	cmd_set(ctx, "ready_at", cmd_info_ms(c->ready_at));
	if (c->exited_at != 0) {	/* an exit, or a start that failed */
		child_reason(c, &r);
		last = proto_exit_reason(&r);
		json_object_set_new(last, "at", json_integer(c->exited_at));
	}
	cmd_set(ctx, "last_exit", last);
	cmd_set(ctx, "gave_up", json_boolean(c->gave_up));
	cmd_set(ctx, "restart_at", cmd_info_ms(c->restart_at));
	cmd_set(ctx, "member_of", childgroup_name(c) != NULL ?
	    json_string(childgroup_name(c)) : json_null());
	cmd_set(ctx, "attrs", cmd_attrs_json(ctx, c->name));
	cmd_set(ctx, "env_files", cmd_info_envfiles(c));
	if (c->pid > 0 && cmd_proc_usage(c->pid, &rss, &cpu) == 0) {
		cmd_set(ctx, "rss_bytes", json_integer(rss));
		cmd_set(ctx, "cpu_ms", json_integer(cpu));
	} else {
		cmd_set(ctx, "rss_bytes", json_null());
		cmd_set(ctx, "cpu_ms", json_null());
	}
	/* The whole cgroup (descendants too), where the child has one. */
	mem = -1;
	if (childcg_usage(c, &mem, &cpu) == 0 && cpu >= 0)
		cmd_set(ctx, "cpu_ms", json_integer(cpu));
	cmd_set(ctx, "memory_bytes", mem >= 0 ? json_integer(mem) :
	    json_null());
	return (CMD_OK);
}
