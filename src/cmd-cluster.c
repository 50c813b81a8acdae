/* SPDX-License-Identifier: MIT */
/*
 * cmd-cluster: the cluster in the ops (protocol §9.3): cluster_status,
 * the answers about names another node holds (from the local mirror, no
 * network), and the claim that comes before a start_child or a
 * find_or_open of a cluster-scope spec makes a row.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "gt/cluster.h"
#include "gt/cmd.h"
#include "gt/config.h"
#include "gt/gtcluster.h"
#include "gt/gtd.h"
#include "gt/protocol.h"
#include "gt/xmalloc.h"

/* A start_child or find_or_open of a cluster name in progress. */
struct cmd_cluster_wait {
	struct cmd_ctx		*ctx;		/* weak: owns this */
	char			*name;
	json_t			*spec;		/* owned: the request's */
	struct cluster_op	*op;		/* the claim in flight */
	struct gtcluster_watch	 w;		/* a remote row to be ready */
	bool			 failover, open;
	enum cmd_ret		(*local)(struct cmd_ctx *);
};

static enum cmd_ret	cmd_cluster_decide(struct cmd_ctx *);
static enum cmd_ret	cmd_cluster_status_exec(struct cmd_ctx *, json_t *);

static const char *const cmd_cluster_status_args[] = { NULL };

const struct cmd_entry cmd_cluster_status_entry = {
	.name = "cluster_status",
	.access = ACL_READ,
	.usage = "",
	.flags = 0,
	.keys = cmd_cluster_status_args,
	.exec = cmd_cluster_status_exec
};

void
cmd_cluster_node(struct cmd_ctx *ctx, const struct child *c)
{
	const char	*node = gtcluster_node(ctx->gtd);

	if (node != NULL && c->spec->cluster)
		cmd_set_str(ctx, "node", node);
}

/* pid, state, node (and stale) of a mirror row. */
static void
cmd_cluster_row(struct cmd_ctx *ctx, const struct cluster_entry *e)
{
	cmd_set(ctx, "pid", e->pid > 0 ? json_integer(e->pid) : json_null());
	cmd_set_str(ctx, "state", e->state);
	cmd_set_str(ctx, "node", e->node);
	if (cluster_stale(gtcluster_get(ctx->gtd)))
		cmd_set(ctx, "stale", json_true());
}

bool
cmd_cluster_find(struct cmd_ctx *ctx, const char *name, enum cmd_ret *r)
{
	struct cluster			*cl = gtcluster_get(ctx->gtd);
	const struct cluster_entry	*e;

	if (cl == NULL || name == NULL || (e = cluster_lookup(cl, name)) ==
	    NULL)
		return (false);
	if (strcmp(e->state, "running") != 0 || e->pid <= 0) {
		cmd_error(ctx, GT_E_NOT_FOUND, "%.128s is %s on node %s", name,
		    e->state, e->node);
		cmd_set_str(ctx, "state", e->state);
		cmd_set_str(ctx, "node", e->node);
		*r = CMD_ERROR;
		return (true);
	}
	cmd_cluster_row(ctx, e);
	*r = CMD_OK;
	return (true);
}

bool
cmd_cluster_info(struct cmd_ctx *ctx, const char *name, enum cmd_ret *r)
{
	struct cluster			*cl = gtcluster_get(ctx->gtd);
	const struct cluster_entry	*e;
	json_t				*spec;

	if (cl == NULL || name == NULL || (e = cluster_lookup(cl, name)) ==
	    NULL)
		return (false);
	cmd_set_str(ctx, "name", e->name);
	cmd_cluster_row(ctx, e);
	if ((spec = json_loads(e->spec, 0, NULL)) == NULL)
		spec = json_null();
	cmd_set(ctx, "spec", spec);
	cmd_set(ctx, "revision", json_integer(e->revision));
	cmd_set(ctx, "failover", json_boolean(e->failover));
	*r = CMD_OK;
	return (true);
}

/* which_children scope "cluster": every mirror row (of state st). */
struct cmd_cluster_list {
	struct cmd_ctx	*ctx;
	const char	*st;
	bool		 first, full;
};

static void
cmd_cluster_list_row(const struct cluster_entry *e, void *arg)
{
	struct cmd_cluster_list	*l = arg;
	struct cmd_ctx		*ctx = l->ctx;

	if (l->full || (l->st != NULL && strcmp(l->st, e->state) != 0))
		return;
	if (!l->first)
		cmd_raw_text(ctx, ",", 1);
	l->first = false;
	cmd_raw_row_head(ctx, e->name, e->node, e->pid, e->state);
	cmd_raw_text(ctx, ",\"revision\":", 12);
	cmd_raw_int(ctx, e->revision);
	cmd_raw_text(ctx, ",\"failover\":", 12);
	cmd_raw_text(ctx, e->failover ? "true}" : "false}",
	    e->failover ? 5 : 6);
	l->full = cmd_reply_full(ctx);
}

enum cmd_ret
cmd_cluster_which(struct cmd_ctx *ctx, const char *st)
{
	struct cluster		*cl = gtcluster_get(ctx->gtd);
	struct cmd_cluster_list	 l = { ctx, st, true, false };

	if (cl == NULL) {
		cmd_error(ctx, GT_E_UNAVAILABLE, "%s",
		    gtcluster_unavailable(ctx->gtd));
		return (CMD_ERROR);
	}
	cmd_raw_text(ctx, ",\"children\":[", 13);
	cluster_foreach(cl, cmd_cluster_list_row, &l);
	if (l.full)
		return (CMD_ERROR);
	cmd_raw_text(ctx, "]", 1);
	if (cluster_stale(cl))
		cmd_set(ctx, "stale", json_true());
	return (CMD_OK);
}

/* The claim before a start. */

static void
cmd_cluster_wait_free(struct cmd_ctx *ctx)
{
	struct cmd_cluster_wait	*cw = ctx->xwait;

	ctx->xwait = NULL;
	ctx->xfree = NULL;
	if (cw == NULL)
		return;
	cluster_op_cancel(cw->op);
	gtcluster_unwatch(ctx->gtd, &cw->w);
	json_decref(cw->spec);
	free(cw->name);
	free(cw);
}

static void
cmd_cluster_unavailable(struct cmd_ctx *ctx, const char *why)
{
	cmd_error(ctx, GT_E_UNAVAILABLE, "cluster: %s", why != NULL ? why :
	    "etcd cannot be reached");
}

static void
cmd_cluster_watch_cb(const char *name, const struct cluster_entry *e,
    void *arg)
{
	struct cmd_ctx	*ctx = arg;

	if (cmd_cluster_decide(ctx) != CMD_WAIT)
		cmd_finish(ctx);
}

/* name is another node's (e): its child, or wait for it to be ready. */
static enum cmd_ret
cmd_cluster_remote(struct cmd_ctx *ctx, const struct cluster_entry *e)
{
	struct cmd_cluster_wait	*cw = ctx->xwait;

	if (!cw->open) {
		cmd_error(ctx, GT_E_ALREADY_STARTED, "%.128s is %s on node %s",
		    e->name, e->state, e->node);
		cmd_cluster_row(ctx, e);
		return (CMD_ERROR);
	}
	if ((strcmp(e->state, "running") == 0 && e->pid > 0) || !ctx->wait) {
		cmd_cluster_row(ctx, e);
		cmd_set_ok(ctx, "created", json_false());
		return (CMD_OK);
	}
	/* starting, restarting...: wait, as for a local row. */
	gtcluster_watch(ctx->gtd, &cw->w, cw->name, cmd_cluster_watch_cb, ctx);
	return (CMD_WAIT);
}

static void
cmd_cluster_claimed(const struct cluster_claim_result *r, void *arg)
{
	struct cmd_ctx		*ctx = arg;
	struct cmd_cluster_wait	*cw = ctx->xwait;
	enum cmd_ret		 ret;

	cw->op = NULL;
	switch (r->status) {
	case CLUSTER_CLAIMED:
		ret = cw->local(ctx);
		/* No row came of it (a bad spec, a failed start): give up. */
		if (child_find(ctx->gtd, cw->name) == NULL)
			(void)cluster_release(gtcluster_get(ctx->gtd),
			    cw->name);
		break;
	case CLUSTER_HELD:
		/*
		 * The mirror has the holder's row by now, or a newer one:
		 * r->holder may be older than what the watch brought before
		 * this answer, and a wait on it would miss that change.
		 */
		ret = cmd_cluster_decide(ctx);
		break;
	default:
		cmd_cluster_unavailable(ctx, r->message);
		ret = CMD_ERROR;
		break;
	}
	if (ret != CMD_WAIT)
		cmd_finish(ctx);
}

static enum cmd_ret
cmd_cluster_decide(struct cmd_ctx *ctx)
{
	struct cmd_cluster_wait		*cw = ctx->xwait;
	struct cluster			*cl = gtcluster_get(ctx->gtd);
	const struct cluster_entry	*e;
	struct childspec		*s;
	char				*field = NULL, *cause = NULL, *text;

	if (ctx->gtd->shut->active) {
		cmd_error(ctx, GT_E_SHUTTING_DOWN, "gtd is shutting down");
		return (CMD_ERROR);
	}
	if (cl == NULL) {
		cmd_cluster_unavailable(ctx, gtcluster_unavailable(ctx->gtd));
		return (CMD_ERROR);
	}
	if (child_find(ctx->gtd, cw->name) != NULL)
		return (cw->local(ctx));
	if ((e = cluster_lookup(cl, cw->name)) != NULL &&
	    strcmp(e->node, gtcluster_node(ctx->gtd)) != 0)
		return (cmd_cluster_remote(ctx, e));
	if (!cluster_available(cl)) {
		cmd_cluster_unavailable(ctx, gtcluster_unavailable(ctx->gtd));
		return (CMD_ERROR);
	}
	if ((s = config_spec_build(cmd_tpl(ctx), cw->spec, &field,
	    &cause)) == NULL) {
		cmd_bad(ctx, field, "%s", cause);
		free(field);
		free(cause);
		return (CMD_ERROR);
	}
	text = config_spec_text(s);
	spec_free(s);
	cw->op = cluster_claim(cl, cw->name, text, cw->failover,
	    cmd_cluster_claimed, ctx);
	free(text);
	return (CMD_WAIT);
}

static void
cmd_cluster_timeout(struct cmd_ctx *ctx)
{
	cmd_error(ctx, GT_E_TIMEOUT, "not running after timeout_ms");
	cmd_finish(ctx);
}

json_t *
cmd_cluster_spec(struct cmd_ctx *ctx)
{
	struct cmd_cluster_wait	*cw = ctx->xwait;

	return (cw != NULL ? cw->spec : NULL);
}

enum cmd_ret
cmd_cluster_start(struct cmd_ctx *ctx, const char *name, json_t *spec,
    bool failover, bool open, int64_t timeout_ms,
    enum cmd_ret (*local)(struct cmd_ctx *))
{
	struct cmd_cluster_wait	*cw;
	enum cmd_ret		 r;

	if (gtcluster_get(ctx->gtd) == NULL) {
		cmd_bad(ctx, "scope", "scope \"cluster\" needs a \"cluster\" "
		    "section in gtd's config");
		return (CMD_ERROR);
	}
	cw = xcalloc(1, sizeof *cw);
	cw->ctx = ctx;
	cw->name = xstrdup(name);
	cw->spec = json_incref(spec);
	cw->failover = failover;
	cw->open = open;
	cw->local = local;
	ctx->xwait = cw;
	ctx->xfree = cmd_cluster_wait_free;
	r = cmd_cluster_decide(ctx);
	if (r == CMD_WAIT && timeout_ms >= 0)
		cmd_wait_timeout(ctx, timeout_ms, cmd_cluster_timeout);
	return (r);
}

/* cluster_status: this node, its lease, and the live nodes. */
static enum cmd_ret
cmd_cluster_status_exec(struct cmd_ctx *ctx, json_t *args)
{
	struct cluster			*cl = gtcluster_get(ctx->gtd);
	struct cluster_status		 st;
	json_t				*nodes, *n;
	size_t				 i;

	if (cl == NULL) {
		cmd_cluster_unavailable(ctx, gtcluster_unavailable(ctx->gtd));
		return (CMD_ERROR);
	}
	cluster_status(cl, &st);
	nodes = json_array();
	for (i = 0; i < st.nnodes; i++) {
		n = json_pack("{s:s, s:i, s:I, s:I}", "name",
		    st.nodes[i].name, "lease_ttl_ms", st.nodes[i].lease_ttl_ms,
		    "children", (json_int_t)st.nodes[i].children, "pid",
		    (json_int_t)st.nodes[i].pid);
		json_array_append_new(nodes, n);
	}
	cmd_set_str(ctx, "node", st.node);
	cmd_set_str(ctx, "zone", st.zone);
	cmd_set_str(ctx, "state", cluster_state_name(st.state));
	cmd_set(ctx, "connected", json_boolean(st.connected));
	cmd_set_int(ctx, "revision", st.revision);
	cmd_set_int(ctx, "lease", st.lease);
	cmd_set_int(ctx, "lease_ttl_ms", st.lease_ttl_ms);
	cmd_set(ctx, "fence_in_ms", st.fence_in_ms >= 0 ?
	    json_integer(st.fence_in_ms) : json_null());
	cmd_set(ctx, "last_contact_ms", st.last_contact_ms >= 0 ?
	    json_integer(st.last_contact_ms) : json_null());
	cmd_set(ctx, "endpoint", st.endpoint != NULL ?
	    json_string(st.endpoint) : json_null());
	cmd_set(ctx, "message", st.message != NULL ?
	    json_string(st.message) : json_null());
	cmd_set_int(ctx, "held", (int64_t)st.held);
	cmd_set_int(ctx, "rows", (int64_t)st.rows);
	cmd_set_int(ctx, "resyncs", (int64_t)st.resyncs);
	cmd_set_int(ctx, "fences", (int64_t)st.fences);
	cmd_set_int(ctx, "failovers", (int64_t)st.failovers);
	cmd_set(ctx, "nodes", nodes);
	return (CMD_OK);
}
