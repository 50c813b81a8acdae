/* SPDX-License-Identifier: MIT */
/*
 * dispatch: the command table and the dispatcher (house style 3.7).
 * Parses a line, checks the envelope, the access and the table flags,
 * calls exec and sends exactly one reply: at once for CMD_OK/CMD_ERROR,
 * from cmd_finish() for CMD_WAIT.  It sits above the ops (cmd-*.c) and
 * cmd.c, their helpers: the ops never call back into it (hello reads the
 * table through its context).
 */
#include "config.h"

#include <string.h>

#include <jansson.h>

#include "gt/acl.h"
#include "gt/child.h"
#include "gt/cmd.h"
#include "gt/config.h"
#include "gt/conn.h"
#include "gt/gtd.h"
#include "gt/log.h"
#include "gt/proto.h"
#include "gt/protocol.h"
#include "gt/reload.h"
#include "gt/xmalloc.h"

extern const struct cmd_entry cmd_add_existing_child_entry;
extern const struct cmd_entry cmd_check_childspec_entry;
extern const struct cmd_entry cmd_cluster_status_entry;
extern const struct cmd_entry cmd_count_children_entry;
extern const struct cmd_entry cmd_delattr_entry;
extern const struct cmd_entry cmd_delete_child_entry;
extern const struct cmd_entry cmd_find_entry;
extern const struct cmd_entry cmd_find_or_open_entry;
extern const struct cmd_entry cmd_get_childspec_entry;
extern const struct cmd_entry cmd_getattr_entry;
extern const struct cmd_entry cmd_hello_entry;
extern const struct cmd_entry cmd_increment_entry;
extern const struct cmd_entry cmd_info_entry;
extern const struct cmd_entry cmd_list_entry;
extern const struct cmd_entry cmd_logs_entry;
extern const struct cmd_entry cmd_ping_entry;
extern const struct cmd_entry cmd_query_entry;
extern const struct cmd_entry cmd_reexec_entry;
extern const struct cmd_entry cmd_release_entry;
extern const struct cmd_entry cmd_reload_entry;
extern const struct cmd_entry cmd_reload_child_entry;
extern const struct cmd_entry cmd_restart_child_entry;
extern const struct cmd_entry cmd_restart_children_entry;
extern const struct cmd_entry cmd_setattr_entry;
extern const struct cmd_entry cmd_shutdown_entry;
extern const struct cmd_entry cmd_signal_entry;
extern const struct cmd_entry cmd_start_child_entry;
extern const struct cmd_entry cmd_subscribe_entry;
extern const struct cmd_entry cmd_stats_entry;
extern const struct cmd_entry cmd_terminate_and_delete_entry;
extern const struct cmd_entry cmd_terminate_child_entry;
extern const struct cmd_entry cmd_which_children_entry;
extern const struct cmd_entry cmd_why_entry;

const struct cmd_entry *const cmd_table[] = {
	&cmd_add_existing_child_entry,
	&cmd_check_childspec_entry,
	&cmd_cluster_status_entry,
	&cmd_count_children_entry,
	&cmd_delattr_entry,
	&cmd_delete_child_entry,
	&cmd_find_entry,
	&cmd_find_or_open_entry,
	&cmd_get_childspec_entry,
	&cmd_getattr_entry,
	&cmd_hello_entry,
	&cmd_increment_entry,
	&cmd_info_entry,
	&cmd_list_entry,
	&cmd_logs_entry,
	&cmd_ping_entry,
	&cmd_query_entry,
	&cmd_reexec_entry,
	&cmd_release_entry,
	&cmd_reload_entry,
	&cmd_reload_child_entry,
	&cmd_restart_child_entry,
	&cmd_restart_children_entry,
	&cmd_setattr_entry,
	&cmd_shutdown_entry,
	&cmd_signal_entry,
	&cmd_start_child_entry,
	&cmd_stats_entry,
	&cmd_subscribe_entry,
	&cmd_terminate_and_delete_entry,
	&cmd_terminate_child_entry,
	&cmd_which_children_entry,
	&cmd_why_entry,
	NULL
};

static int	cmd_access(struct cmd_ctx *, json_t *);
static void	cmd_hold(struct cmd_ctx *);
static void	cmd_run(struct cmd_ctx *, json_t *);

const struct cmd_entry *
cmd_find(const char *name)
{
	const struct cmd_entry *const	*e;
	size_t				 lo = 0, hi, mid;
	int				 r;

	for (e = cmd_table; *e != NULL; e++)
		;
	hi = e - cmd_table;
	while (lo < hi) {			/* the table is sorted */
		mid = (lo + hi) / 2;
		r = strcmp(name, cmd_table[mid]->name);
		if (r == 0)
			return (cmd_table[mid]);
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return (NULL);
}

/* Only whitespace: not a request, no reply. */
static int
cmd_blank(const char *line, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			return (0);
	return (1);
}

/*
 * The fast path: a flat request (proto_scan) to a CMD_FLAT command runs
 * with no JSON tree at all.  0 when it ran, -1 to take the JSON path.
 */
static int
cmd_dispatch_flat(struct cmd_ctx *ctx, const char *line, size_t len)
{
	struct gtd		*g = ctx->gtd;
	struct proto_flat	 fl;
	size_t			 i;

	if (g->cmd->scansize < len + PROTO_SCRATCH_EXTRA) {
		g->cmd->scansize = len + PROTO_SCRATCH_EXTRA;
		g->cmd->scan = xreallocarray(g->cmd->scan, 1, g->cmd->scansize);
	}
	if (proto_scan(line, len, &fl, g->cmd->scan) == -1 || fl.op == NULL ||
	    (ctx->entry = cmd_find(fl.op)) == NULL ||
	    !(ctx->entry->flags & CMD_FLAT))
		return (-1);
	for (i = 0; i < fl.n; i++)		/* "self" rewrites the args */
		if (strcmp(fl.f[i].key, "self") == 0)
			return (-1);
	if (fl.id != NULL)
		ctx->idraw = xstrndup(fl.id, fl.idlen);
	ctx->flat = &fl;
	cmd_run(ctx, NULL);
	return (0);
}

/*
 * The one tail of both request forms, once the op is known: access, the
 * shutdown refusal, exec, then the reply now or (CMD_WAIT) the request
 * held until cmd_finish.  args is NULL for a flat request (ctx->flat).
 */
static void
cmd_run(struct cmd_ctx *ctx, json_t *args)
{
	const struct cmd_entry	*e = ctx->entry;

	if (cmd_access(ctx, args) == 0 && (e->flags & CMD_SPEC ||
	    cmd_args_known(ctx, args, e->keys) == 0)) {
		if (ctx->gtd->shut->active && (e->flags & CMD_MUTATES))
			cmd_error(ctx, GT_E_SHUTTING_DOWN,
			    "gtd is shutting down");
		else if (e->exec(ctx, args) == CMD_WAIT) {
			ctx->flat = NULL;	/* it pointed at the stack */
			cmd_hold(ctx);
			return;
		}
	}
	ctx->flat = NULL;
	cmd_send(ctx);
	cmd_free(ctx);
}

void
cmd_dispatch(struct gtd *g, struct conn *cn, const char *line, size_t len)
{
	struct cmd_ctx	*ctx;
	json_t		*req = NULL, *op;
	char		*cause = NULL;

	if (cmd_blank(line, len))
		return;
	g->stats.requests++;
	ctx = cmd_new(g, cn);
	ctx->table = cmd_table;
	if (cmd_dispatch_flat(ctx, line, len) == 0)
		return;
	ctx->entry = NULL;
	if ((req = proto_parse(line, len, &cause)) == NULL) {
		cmd_error(ctx, GT_E_BAD_JSON, "%s", cause);
		free(cause);
		goto reply;
	}
	if ((ctx->id = json_object_get(req, "id")) != NULL) {
		json_incref(ctx->id);
		json_object_del(req, "id");
	}
	op = json_object_get(req, "op");
	if (op == NULL || !json_is_string(op)) {
		cmd_bad(ctx, "op", "op must be a string naming an operation");
		goto reply;
	}
	if ((ctx->entry = cmd_find(json_string_value(op))) == NULL) {
		cmd_error(ctx, GT_E_UNKNOWN_OP, "unknown op %.64s",
		    json_string_value(op));
		goto reply;
	}
	json_object_del(req, "op");
	cmd_run(ctx, req);
	json_decref(req);
	return;
reply:
	json_decref(req);
	cmd_send(ctx);
	cmd_free(ctx);
}

/* The peer's class under the acl (protocol §7). */
static enum acl_class
cmd_peer_class(struct gtd *g, struct conn *cn)
{
	/* root and gtd's own user always. */
	if (conn_privileged(cn) || g->rl->conf == NULL)
		return (ACL_ADMIN);
	return (acl_class_of(&g->rl->conf->acl, cn->uid, cn->gid, cn->groups,
	    cn->ngroups));
}

/*
 * "self": true names the caller's own row; then the class check.  A
 * supervised child may always read, and write its own row's attrs.  Its
 * row is found from the process that connected, through its pidfd
 * (cmd_peer_child): once that process is gone, no row is its own, even
 * if a child got its pid since.
 */
static int
cmd_access(struct cmd_ctx *ctx, json_t *args)
{
	struct gtd		*g = ctx->gtd;
	struct conn		*cn = ctx->conn;
	const struct cmd_entry	*e = ctx->entry;
	struct child		*own = NULL;
	json_t			*self;
	const char		*name = NULL;

	if (args != NULL && (self = json_object_get(args, "self")) != NULL) {
		if (!json_is_true(self) || json_object_get(args, "name") !=
		    NULL) {
			cmd_bad(ctx, "self",
			    "self must be true, instead of name");
			return (-1);
		}
		if ((own = cmd_peer_child(g, cn)) == NULL) {
			cmd_error(ctx, GT_E_PERMISSION, "self: the process "
			    "that connected (pid %d) is not a supervised "
			    "child, or has exited", (int)cn->pid);
			return (-1);
		}
		json_object_del(args, "self");
		json_object_set_new(args, "name", json_string(own->name));
	}
	if (cmd_peer_class(g, cn) >= (enum acl_class)e->access)
		return (0);
	if (own == NULL)
		own = cmd_peer_child(g, cn);
	if (own != NULL && e->access == ACL_WRITE)
		name = cmd_arg_peek(ctx, args, "name");
	if (own != NULL && (e->access == ACL_READ || (e->access == ACL_WRITE &&
	    name != NULL && strcmp(name, own->name) == 0)))
		return (0);
	log_warnx("uid %d pid %d: %s denied (needs %s)", (int)cn->uid,
	    (int)cn->pid, e->name, acl_class_name(e->access));
	cmd_error(ctx, GT_E_PERMISSION, "%s needs %s access", e->name,
	    acl_class_name(e->access));
	return (-1);
}

/* The request waits (CMD_WAIT): its connection frames no more lines. */
static void
cmd_hold(struct cmd_ctx *ctx)
{
	ctx->waiting = true;
	TAILQ_INSERT_TAIL(&ctx->gtd->cmd->waiting, ctx, wentry);
	conn_pause(ctx->conn);
}

struct child *
cmd_peer_child(struct gtd *g, struct conn *cn)
{
	struct child	*c;

	if (!conn_peer_alive(cn))
		return (NULL);
	c = child_find_owner(g, cn->pid);	/* may read /proc */
	return (conn_peer_alive(cn) ? c : NULL);
}

void
cmd_opened(struct gtd *g, struct conn *cn)
{
	struct child	*own;

	if (!conn_privileged(cn) && (own = cmd_peer_child(g, cn)) != NULL)
		conn_set_row(cn, own->name);
}
