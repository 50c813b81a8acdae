/* SPDX-License-Identifier: MIT */
/*
 * reexec: replace gtd's program in place, keeping every child (see
 * reexec.h).  The state is built field by field from the modules'
 * accessors (child_save, event_save, ...), never by copying structs, so
 * its format outlives their layouts.  Decides, so it logs.  Never blocks
 * the loop: the pre-flight is a forked process watched by an ev_child
 * and bounded by a timer.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "gt/child.h"
#include "gt/childcg.h"
#include "gt/childlog.h"
#include "gt/clock.h"
#include "gt/cmd.h"
#include "gt/config.h"
#include "gt/conn.h"
#include "gt/event.h"
#include "gt/gtcluster.h"
#include "gt/gtd.h"
#include "gt/gtd-sd.h"
#include "gt/health.h"
#include "gt/log.h"
#include "gt/notify.h"
#include "gt/proto.h"
#include "gt/procstat.h"
#include "gt/protocol.h"
#include "gt/reexec.h"
#include "gt/registry.h"
#include "gt/reload.h"
#include "gt/server.h"
#include "gt/spawn.h"
#include "gt/xmalloc.h"

#define REEXEC_ERR_MAX	1024		/* pre-flight stderr kept */
#define REEXEC_E	"reexec_failed"

extern char **environ;

/* A re-exec in progress: its request waits for the pre-flight. */
struct reexec {
	struct gtd	*g;		/* weak */
	struct cmd_ctx	*ctx;		/* the request (CMD_WAIT) */
	char		*exe;		/* owned: the new program */
	pid_t		 pid;		/* the pre-flight, or -1 */
	int		 errfd;		/* its stderr (read end), or -1 */
	int		 statefd;	/* the state it checks, or -1 */
	ev_child	 cw;
	ev_timer	 timer;
};

/* The descriptors a state names: they lose close-on-exec. */
struct reexec_fds {
	int	*v;
	size_t	 n;
};

static void	reexec_check_cb(struct ev_loop *, ev_child *, int);
static void	reexec_timeout_cb(struct ev_loop *, ev_timer *, int);

static void
reexec_fd_add(struct reexec_fds *f, int fd)
{
	if (fd < 0)
		return;
	f->v = xreallocarray(f->v, f->n + 1, sizeof *f->v);
	f->v[f->n++] = fd;
}

/* The hex of len bytes (partial output lines need not be UTF-8). */
static json_t *
reexec_hex(const char *p, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	char			*s;
	size_t			 i;
	json_t			*j;

	s = xmalloc(len * 2 + 1);
	for (i = 0; i < len; i++) {
		s[2 * i] = hex[(unsigned char)p[i] >> 4];
		s[2 * i + 1] = hex[(unsigned char)p[i] & 0xf];
	}
	s[2 * len] = '\0';
	j = json_string(s);
	free(s);
	return (j);
}

/*
 * Saving.
 */

static void
reexec_attr_cb(const char *key, const struct value *v, void *arg)
{
	json_object_set_new(arg, key, proto_value_json(v));
}

static void
reexec_line_cb(const struct childlog_line *ln, void *arg)
{
	json_array_append_new(arg, json_pack("[I, s, s]", (json_int_t)ln->at,
	    ln->stream, ln->text));
}

/* c's output: its pipes (fds passed), partial lines and its ring. */
static void
reexec_save_log(const struct child *c, json_t *o, struct reexec_fds *f)
{
	struct childlog	*l = c->log;
	json_t		*ring, *out;
	int		 i;

	if (l == NULL)
		return;
	out = json_array();
	for (i = 0; i < 2; i++) {
		if (l->in[i] == NULL || l->in[i]->fd == -1) {
			json_array_append_new(out, json_null());
			continue;
		}
		reexec_fd_add(f, l->in[i]->fd);
		json_array_append_new(out, json_pack("{s:i, s:b, s:o}", "fd",
		    l->in[i]->fd, "shared", strcmp(l->in[i]->stream, "output") ==
		    0, "partial", reexec_hex(l->in[i]->partial, l->in[i]->plen)));
	}
	json_object_set_new(o, "out", out);
	ring = json_array();
	childlog_tail(l, CHILDLOG_RING_LINES, reexec_line_cb, ring);
	json_object_set_new(o, "ring", ring);
}

static json_t *
reexec_save_hist(const struct child_saved *sv)
{
	json_t	*at = json_array();
	int	 i;

	for (i = 0; i < sv->hist_size && sv->hist_at != NULL; i++)
		json_array_append_new(at, json_integer(sv->hist_at[i]));
	return (json_pack("{s:i, s:i, s:i, s:i, s:o}", "size", sv->hist_size,
	    "n", sv->hist_n, "head", sv->hist_head, "consecutive",
	    sv->hist_consecutive, "at", at));
}

/* The plain fields of sv into o. */
static void
reexec_save_fields(json_t *o, const struct child_saved *sv)
{
	json_t	*j;

	j = json_pack("{s:s, s:i, s:i, s:I, s:i, s:b, s:i, s:b, s:b, s:b,"
	    " s:i, s:I, s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:i}",
	    "state", child_state_name(sv->state), "pid", (int)sv->pid,
	    "last_pid", (int)sv->last_pid, "incarnation",
	    (json_int_t)sv->incarnation, "restart_count", sv->restart_count,
	    "has_exit", sv->has_exit, "last_status", sv->last_status,
	    "last_requested", sv->last_requested, "last_escalated",
	    sv->last_escalated, "last_unhealthy", sv->last_unhealthy,
	    "last_stop_sig", sv->last_stop_sig, "last_timeout_ms",
	    (json_int_t)sv->last_timeout_ms, "last_spawn_errno",
	    sv->last_spawn_errno, "last_spawn_step", sv->last_spawn_step,
	    "started_at", (json_int_t)sv->started_at, "ready_at",
	    (json_int_t)sv->ready_at, "exited_at", (json_int_t)sv->exited_at,
	    "restart_at", (json_int_t)sv->restart_at, "stop_timeout_ms",
	    (json_int_t)sv->stop_timeout_ms, "stop_sig", sv->stop_sig);
	json_object_update(o, j);
	json_decref(j);
	j = json_pack("{s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b,"
	    " s:I, s:i, s:i, s:i, s:o}",
	    "boot", sv->boot, "manual", sv->manual, "ever_ready",
	    sv->ever_ready, "gave_up", sv->gave_up, "want_down",
	    sv->want_down, "delete_after", sv->delete_after, "escalated",
	    sv->escalated, "bounce", sv->bounce, "unhealthy", sv->unhealthy,
	    "adopted", sv->adopted, "deadline", (json_int_t)sv->deadline,
	    "statusfd", sv->statusfd, "readyfd", sv->readyfd, "pidfd",
	    sv->pidfd, "hist", reexec_save_hist(sv));
	json_object_update(o, j);
	json_decref(j);
	if (sv->last_spawn_path != NULL)
		json_object_set_new(o, "last_spawn_path",
		    json_string(sv->last_spawn_path));
}

static json_t *
reexec_save_child(struct gtd *g, struct child *c, struct reexec_fds *f)
{
	struct child_saved	 sv;
	json_t			*o, *attrs;
	const char		*path, *dir;
	int			 fd;

	child_save(c, &sv);
	o = json_pack("{s:s, s:o}", "name", c->name, "spec",
	    config_spec_json_as(c->spec, c->name));
	reexec_save_fields(o, &sv);
	reexec_fd_add(f, sv.statusfd);
	reexec_fd_add(f, sv.readyfd);
	reexec_fd_add(f, sv.pidfd);
	if (c->inst_json != NULL)
		json_object_set_new(o, "inst", json_string(c->inst_json));
	attrs = json_object();
	if (registry_attr_foreach(g->reg, c->name, reexec_attr_cb, attrs) ==
	    -1)
		log_warnx("reexec: child %s: attrs: %s", c->name,
		    registry_errmsg(g->reg));
	json_object_set_new(o, "attrs", attrs);
	if ((fd = notify_child_fd(g->notify, c, &path)) != -1) {
		reexec_fd_add(f, fd);
		json_object_set_new(o, "notify", json_pack("{s:i, s:s}", "fd",
		    fd, "path", path));
	}
	if ((dir = childcg_dir(c)) != NULL)
		json_object_set_new(o, "cgroup", json_string(dir));
	if ((path = health_state(c)) != NULL)
		json_object_set_new(o, "health", json_string(path));
	reexec_save_log(c, o, f);
	return (o);
}

/* Why g cannot be saved now (static text), or NULL. */
static const char *
reexec_busy(struct gtd *g, char *buf, size_t size)
{
	struct child	*c;
	const char	*why;

	if (g->shut->active)
		return ("gtd is shutting down");
	if (g->rl->boot != NULL)
		return ("the boot is in progress");
	if (g->tab->nreleased > 0)
		return ("released children are still writing their output");
	if (gtcluster_get(g) != NULL)
		return ("a cluster is configured: its lease and claims are not "
		    "handed over (restart gtd instead)");
	TAILQ_FOREACH(c, &g->tab->children, entry) {
		if ((why = child_save_busy(c)) == NULL && childcg_draining(c))
			why = "its cgroup is draining";
		if (why != NULL) {
			snprintf(buf, size, "child %s: %s", c->name, why);
			return (buf);
		}
	}
	return (NULL);
}

/* The requester: its connection, the id and what it has not been sent. */
static json_t *
reexec_save_requester(struct cmd_ctx *ctx, struct reexec_fds *f)
{
	struct conn	*cn = ctx->conn;
	json_t		*o;
	char		*id = NULL;

	conn_push(cn);			/* earlier replies, if it reads */
	reexec_fd_add(f, cn->fd);
	o = json_pack("{s:i, s:s%}", "fd", cn->fd, "out", cn->out != NULL ?
	    cn->out + cn->outoff : "", cn->out != NULL ? cn->outlen -
	    cn->outoff : 0);
	if (o == NULL)			/* not UTF-8: lose the backlog */
		o = json_pack("{s:i, s:s}", "fd", cn->fd, "out", "");
	/* Requests sent behind this one: the new program answers them. */
	json_object_set_new(o, "in", reexec_hex(cn->in, cn->inlen));
	if (ctx->idraw != NULL)
		id = xstrdup(ctx->idraw);
	else if (ctx->id != NULL)
		id = json_dumps(ctx->id, JSON_ENCODE_ANY | JSON_COMPACT);
	if (id != NULL)
		json_object_set_new(o, "id", json_string(id));
	free(id);
	return (o);
}

/*
 * Can cn be handed over?  Not with a request in flight or a partial one
 * buffered: those connections get the reexec event and are closed.
 */
static bool
reexec_conn_keep(const struct conn *cn, const struct conn *requester)
{
	return (cn != requester && !conn_is_dead(cn) && !(cn->flags &
	    (CONN_PAUSED | CONN_CLOSING)));
}

/* The connections kept: fd, unsent lines, subscription. */
static json_t *
reexec_save_conns(struct gtd *g, struct conn *requester,
    struct reexec_fds *f)
{
	struct conn	*cn;
	json_t		*a = json_array(), *o, *sub;

	for (cn = connset_first(g->conns, false); cn != NULL;
	    cn = TAILQ_NEXT(cn, entry)) {
		if (!reexec_conn_keep(cn, requester))
			continue;
		o = json_pack("{s:i, s:s%}", "fd", cn->fd, "out", cn->out !=
		    NULL ? cn->out + cn->outoff : "", cn->out != NULL ?
		    cn->outlen - cn->outoff : 0);
		if (o == NULL)
			o = json_pack("{s:i, s:s}", "fd", cn->fd, "out", "");
		if ((sub = event_sub_save(g->events, cn)) != NULL)
			json_object_set_new(o, "sub", sub);
		json_object_set_new(o, "in", reexec_hex(cn->in, cn->inlen));
		reexec_fd_add(f, cn->fd);
		json_array_append_new(a, o);
	}
	return (a);
}

static char	**reexec_argv(struct gtd *, const char *, const char *, int);
static void	  reexec_argv_free(char **);

/* This program's options, for a fallback to it (reexec_fallback). */
static json_t *
reexec_argv_json(struct gtd *g)
{
	json_t	*a = json_array();
	char	**v;
	size_t	  i;

	v = reexec_argv(g, "gtd", "-R", 0);
	for (i = 3; v[i] != NULL; i++)	/* after argv[0], -R, fd */
		json_array_append_new(a, json_string(v[i]));
	reexec_argv_free(v);
	return (a);
}

/*
 * The whole state as JSON text (xmalloc'd), the fds it names in *f; NULL
 * and *cause when g cannot be saved now.
 */
static char *
reexec_save(struct gtd *g, struct cmd_ctx *ctx, const char *exe,
    struct reexec_fds *f, int exefd, char **cause)
{
	struct child	*c;
	json_t		*st, *rows;
	const char	*why;
	char		 buf[512], *text;

	if ((why = reexec_busy(g, buf, sizeof buf)) != NULL) {
		xasprintf(cause, "busy: %s; try again", why);
		return (NULL);
	}
	/* Timers are saved against now, not the loop's cached time. */
	ev_now_update(g->loop);
	rows = json_array();
	TAILQ_FOREACH(c, &g->tab->children, entry)
		json_array_append_new(rows, reexec_save_child(g, c, f));
	reexec_fd_add(f, server_fd(g->server));
	st = json_pack("{s:o}", "conns", reexec_save_conns(g, ctx->conn, f));
	json_object_update_missing_new(st, json_pack("{s:i, s:s, s:i, s:I,"
	    " s:s, s:{s:i, s:b}, s:o, s:o,"
	    " s:o, s:i, s:{s:I, s:I, s:I, s:I}}",
	    "version", REEXEC_FORMAT, "gtd", GT_VERSION, "pid", (int)g->pid,
	    "started_at", (json_int_t)g->started_at, "exe", exe,
	    "listen", "fd", server_fd(g->server), "owned",
	    server_owns_path(g->server), "events", event_save(g->events),
	    "children", rows, "requester", reexec_save_requester(ctx, f),
	    "prev_exe_fd", exefd, "stats", "requests",
	    (json_int_t)g->stats.requests, "spawns",
	    (json_int_t)g->stats.spawns, "restarts",
	    (json_int_t)g->stats.restarts, "spawn_failures",
	    (json_int_t)g->stats.spawn_failures));
	reexec_fd_add(f, exefd);
	if (exefd != -1) {
		json_object_set_new(st, "prev_argv", reexec_argv_json(g));
		json_object_set_new(st, "prev_exe", json_string(g->rx->exe));
	}
	text = json_dumps(st, JSON_COMPACT);
	json_decref(st);
	if (text == NULL)
		xasprintf(cause, "the state could not be encoded");
	return (text);
}

/* A memfd holding text, at offset 0 (O_CLOEXEC).  -1 and *cause. */
static int
reexec_memfd(const char *text, char **cause)
{
	size_t	len = strlen(text), off = 0;
	ssize_t	n;
	int	fd;

	if ((fd = memfd_create("gtd-state", MFD_CLOEXEC)) == -1) {
		xasprintf(cause, "memfd_create: %s", strerror(errno));
		return (-1);
	}
	while (off < len) {
		if ((n = write(fd, text + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			xasprintf(cause, "state: write: %s", strerror(errno));
			close(fd);
			return (-1);
		}
		off += (size_t)n;
	}
	if (lseek(fd, 0, SEEK_SET) == -1) {
		xasprintf(cause, "state: lseek: %s", strerror(errno));
		close(fd);
		return (-1);
	}
	return (fd);
}

/* argv of the new program: exe MODE statefd and gtd's own options. */
static char **
reexec_argv(struct gtd *g, const char *exe, const char *mode, int fd)
{
	char	**v;
	int	  n = 0;

	v = xcalloc(12, sizeof *v);
	v[n++] = xstrdup(exe);
	v[n++] = xstrdup(mode);
	xasprintf(&v[n++], "%d", fd);
	if (g->rl->path != NULL) {
		v[n++] = xstrdup("-c");
		v[n++] = xstrdup(g->rl->path);
	}
	v[n++] = xstrdup("-s");
	v[n++] = xstrdup(g->socket_path);
	v[n++] = xstrdup("-z");
	v[n++] = xstrdup(g->zone);
	if (g->rl->debug)
		v[n++] = xstrdup("-d");
	return (v);
}

static void
reexec_argv_free(char **v)
{
	size_t	i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/*
 * The pre-flight and the exec.
 */

static void
reexec_free(struct reexec *rx)
{
	struct gtd	*g = rx->g;

	ev_timer_stop(g->loop, &rx->timer);
	if (rx->pid > 0)
		ev_child_stop(g->loop, &rx->cw);
	if (rx->errfd != -1)
		close(rx->errfd);
	if (rx->statefd != -1)
		close(rx->statefd);
	free(rx->exe);
	free(rx);
	g->rx->cur = NULL;
}

struct reexec_state *
reexec_state_new(void)
{
	struct reexec_state	*rs = xcalloc(1, sizeof *rs);

	return (rs);
}

void
reexec_state_free(struct reexec_state *rs)
{
	if (rs == NULL)
		return;
	free(rs->exe);
	free(rs->failed);
	free(rs);
}

void
reexec_set_failed(struct gtd *g, const char *why)
{
	free(g->rx->failed);
	g->rx->failed = why != NULL ? xstrdup(why) : NULL;
}

void
reexec_abandon(struct gtd *g)
{
	struct reexec	*rx = g->rx->cur;

	if (rx == NULL)
		return;
	if (rx->pid > 0)
		(void)kill(rx->pid, SIGKILL);	/* libev reaps it */
	reexec_free(rx);
}

/* The request fails with msg; the old program goes on. */
static void
reexec_fail(struct reexec *rx, const char *msg)
{
	struct cmd_ctx	*ctx = rx->ctx;

	log_warnx("reexec %s: %s; this program goes on", rx->exe, msg);
	cmd_error(ctx, REEXEC_E, "%s", msg);
	reexec_free(rx);
	cmd_finish(ctx);
}

/*
 * Start the pre-flight: exe -C 3 ... with the state as fd 3, stderr to a
 * pipe.  Through the spawn seam: gtd's heap is not in its forks.
 */
static int
reexec_check_start(struct reexec *rx, char **cause)
{
	struct gtd		*g = rx->g;
	struct spawn_plan	 pl;
	char			**argv;
	int			  ep[2], statusfd = -1;
	pid_t			  pid;

	if (pipe2(ep, O_CLOEXEC | O_NONBLOCK) == -1) {
		xasprintf(cause, "pipe: %s", strerror(errno));
		return (-1);
	}
	argv = reexec_argv(g, rx->exe, "-C", 3);
	pl = (struct spawn_plan){ .path = rx->exe, .argv = argv,
	    .envp = environ, .cwd = "/", .parent = g->pid,
	    .fd_in = g->spawn->devnull, .fd_out = g->spawn->devnull,
	    .fd_err = ep[1], .extra_fd = rx->statefd, .extra_target = 3,
	    .umask = -1, .cgroup_fd = -1 };
	pid = g->ops->spawn(&pl, &statusfd);
	reexec_argv_free(argv);
	close(ep[1]);
	if (pid == -1) {
		xasprintf(cause, "fork: %s", strerror(errno));
		close(ep[0]);
		return (-1);
	}
	if (statusfd != -1)
		close(statusfd);	/* its exit status says it all */
	rx->errfd = ep[0];
	rx->pid = pid;
	ev_child_init(&rx->cw, reexec_check_cb, pid, 0);
	rx->cw.data = rx;
	ev_child_start(g->loop, &rx->cw);
	ev_timer_init(&rx->timer, reexec_timeout_cb, REEXEC_CHECK_MS / 1000.,
	    0.);
	rx->timer.data = rx;
	ev_timer_start(g->loop, &rx->timer);
	return (0);
}

static void
reexec_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct reexec	*rx = w->data;

	/* Its reap (reexec_check_cb) reports the failure. */
	(void)kill(rx->pid, SIGKILL);	/* ESRCH: exiting anyway */
}

/* What the pre-flight said on stderr: its last line, cleaned. */
static void
reexec_check_said(struct reexec *rx, char *buf, size_t size)
{
	ssize_t	 n;
	char	*p;

	buf[0] = '\0';
	if ((n = read(rx->errfd, buf, size - 1)) <= 0)
		return;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	if ((p = strrchr(buf, '\n')) != NULL)
		memmove(buf, p + 1, strlen(p + 1) + 1);
	for (p = buf; *p != '\0'; p++)
		if ((unsigned char)*p < ' ' || (unsigned char)*p > '~')
			*p = '?';
}

static void	reexec_exec(struct reexec *);

static void
reexec_check_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct reexec	*rx = w->data;
	int		 st = w->rstatus;
	char		 said[REEXEC_ERR_MAX], *msg;
	bool		 timeout = !ev_is_active(&rx->timer);

	ev_child_stop(loop, w);
	ev_timer_stop(loop, &rx->timer);
	rx->pid = -1;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		reexec_exec(rx);
		return;
	}
	reexec_check_said(rx, said, sizeof said);
	if (timeout)
		xasprintf(&msg, "pre-flight of %s did not finish within %d ms",
		    rx->exe, REEXEC_CHECK_MS);
	else if (WIFEXITED(st))
		xasprintf(&msg, "pre-flight of %s failed (exit status %d)%s%s",
		    rx->exe, WEXITSTATUS(st), *said != '\0' ? ": " : "",
		    said);
	else
		xasprintf(&msg, "pre-flight of %s killed by signal %d%s%s",
		    rx->exe, WTERMSIG(st), *said != '\0' ? ": " : "", said);
	reexec_fail(rx, msg);
	free(msg);
}

/* Tell every connection not handed over, best effort: it will close. */
static void
reexec_tell_others(struct gtd *g, struct conn *requester)
{
	static const char	 line[] = "{\"event\":\"reexec\"}";
	struct conn		*cn;

	for (cn = connset_first(g->conns, false); cn != NULL;
	    cn = TAILQ_NEXT(cn, entry)) {
		if (cn == requester || conn_is_dead(cn) ||
		    reexec_conn_keep(cn, requester))
			continue;
		conn_event(cn, line, sizeof line - 1);
		conn_push(cn);
	}
}

static void
reexec_cloexec(const struct reexec_fds *f, bool on)
{
	size_t	i;

	for (i = 0; i < f->n; i++)
		/* EBADF: closed meanwhile */
		/* EBADF: a fd named twice, or closed; nothing to do. */
		(void)fcntl(f->v[i], F_SETFD, on ? FD_CLOEXEC : 0);
}

/*
 * The pre-flight passed: save the state as it is now (it may have
 * changed meanwhile) and execve, all in this callback.
 */
static void
reexec_exec(struct reexec *rx)
{
	struct gtd		*g = rx->g;
	struct reexec_fds	 f = { NULL, 0 };
	char			*text, *cause = NULL, **argv;
	int			 fd, exefd, saved;
	sigset_t		 none;

	exefd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if ((text = reexec_save(g, rx->ctx, rx->exe, &f, exefd, &cause)) ==
	    NULL ||
	    (fd = reexec_memfd(text, &cause)) == -1) {
		free(text);
		free(f.v);
		if (exefd != -1)
			close(exefd);
		reexec_fail(rx, cause);
		free(cause);
		return;
	}
	free(text);
	reexec_fd_add(&f, fd);
	log_info("reexec: executing %s (pid %d, %d children)", rx->exe,
	    (int)g->pid, g->tab->nchildren);
	reexec_tell_others(g, rx->ctx->conn);
	argv = reexec_argv(g, rx->exe, "-R", fd);
	reexec_cloexec(&f, false);
	gtd_sd_env(g, true);		/* systemd's, for the next program */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(rx->exe, argv, environ);
	saved = errno;
	gtd_sd_env(g, false);
	/* Still here: nothing was handed over. */
	reexec_cloexec(&f, true);
	reexec_argv_free(argv);
	close(fd);
	if (exefd != -1)
		close(exefd);
	free(f.v);
	xasprintf(&cause, "execve %s: %s", rx->exe, strerror(saved));
	reexec_fail(rx, cause);
	free(cause);
}

int
reexec_begin(struct cmd_ctx *ctx, const char *path)
{
	struct gtd		*g = ctx->gtd;
	struct reexec		*rx;
	struct reexec_fds	 f = { NULL, 0 };
	char			*text, *cause = NULL, buf[512];
	const char		*why;

	if (g->rx->cur != NULL) {
		cmd_error(ctx, REEXEC_E, "a re-exec is in progress already");
		return (-1);
	}
	if ((why = reexec_busy(g, buf, sizeof buf)) != NULL) {
		cmd_error(ctx, REEXEC_E, "busy: %s; try again", why);
		return (-1);
	}
	if (path == NULL)
		path = g->rx->exe;
	if (path == NULL || *path != '/' || access(path, X_OK) == -1) {
		cmd_error(ctx, REEXEC_E, "%s: %s", path != NULL ? path :
		    "(own binary unknown)", path == NULL || *path != '/' ?
		    "not an absolute path" : strerror(errno));
		return (-1);
	}
	/* The state as it is now, for the pre-flight to read. */
	if ((text = reexec_save(g, ctx, path, &f, -1, &cause)) == NULL) {
		cmd_error(ctx, REEXEC_E, "%s", cause);
		free(cause);
		free(f.v);
		return (-1);
	}
	free(f.v);
	rx = xcalloc(1, sizeof *rx);
	rx->g = g;
	rx->ctx = ctx;
	rx->exe = xstrdup(path);
	rx->pid = -1;
	rx->errfd = -1;
	rx->statefd = reexec_memfd(text, &cause);
	free(text);
	g->rx->cur = rx;
	if (rx->statefd == -1 || reexec_check_start(rx, &cause) == -1) {
		cmd_error(ctx, REEXEC_E, "%s", cause);
		free(cause);
		reexec_free(rx);
		return (-1);
	}
	log_info("reexec: pre-flight of %s (pid %d)", rx->exe, (int)rx->pid);
	return (0);
}

/*
 * Reading and checking.
 */

char *
reexec_read(int fd, size_t *len, char **cause)
{
	char	*buf = NULL;
	size_t	 size = 0, n = 0;
	ssize_t	 r;

	for (;;) {
		if (n == size) {
			if (size >= REEXEC_STATE_MAX) {
				xasprintf(cause, "state: over %ld bytes",
				    REEXEC_STATE_MAX);
				free(buf);
				return (NULL);
			}
			size = size == 0 ? 65536 : size * 2;
			buf = xreallocarray(buf, 1, size + 1);
		}
		if ((r = pread(fd, buf + n, size - n, (off_t)n)) == -1) {
			if (errno == EINTR)
				continue;
			xasprintf(cause, "state: read fd %d: %s", fd,
			    strerror(errno));
			free(buf);
			return (NULL);
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*len = n;
	return (buf);
}

/* An fd named by the state: a number, open in this process. */
static int
reexec_fd_of(const json_t *o, const char *key)
{
	json_t	*v = json_object_get(o, key);
	int	 fd;

	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > INT_MAX)
		return (-1);
	fd = (int)json_integer_value(v);
	return (fcntl(fd, F_GETFD) == -1 ? -1 : fd);
}

/* The state's JSON, checked for what the restore relies on. */
static json_t *
reexec_parse(struct gtd *g, const char *text, size_t len, char **cause)
{
	json_error_t	 e;
	json_t		*st, *rows, *row, *spec;
	struct childspec *s;
	char		*field = NULL;
	json_int_t	 version = 0;
	size_t		 i;

	if ((st = json_loadb(text, len, 0, &e)) == NULL) {
		xasprintf(cause, "state: line %d: %s", e.line, e.text);
		return (NULL);
	}
	if (json_unpack(st, "{s:I}", "version", &version) == -1 ||
	    version < 1 || version > REEXEC_FORMAT) {
		xasprintf(cause, "state: format %lld, this gtd reads 1 to %d",
		    (long long)version, REEXEC_FORMAT);
		goto fail;
	}
	if (!json_is_array(rows = json_object_get(st, "children"))) {
		xasprintf(cause, "state: no children array");
		goto fail;
	}
	json_array_foreach(rows, i, row) {
		spec = json_object_get(row, "spec");
		if ((s = config_spec_parse(spec, &field, cause)) == NULL) {
			char *c2;

			xasprintf(&c2, "state: children[%zu]: spec: %s: %s", i,
			    field != NULL ? field : "", *cause);
			free(*cause);
			free(field);
			*cause = c2;
			goto fail;
		}
		spec_free(s);
	}
	(void)g;		/* the checks need no context yet (gtd -C) */
	return (st);
fail:
	json_decref(st);
	return (NULL);
}

int
reexec_check(struct gtd *g, const char *text, size_t len, char **cause)
{
	json_t	*st;

	/* Its fds are not open here: only the program's side is checked. */
	if ((st = reexec_parse(g, text, len, cause)) == NULL)
		return (-1);
	json_decref(st);
	return (0);
}

/*
 * Restoring.
 */

static int64_t
reexec_int(const json_t *o, const char *key, int64_t dflt)
{
	json_t	*v = json_object_get(o, key);

	return (json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt);
}

static bool
reexec_bool(const json_t *o, const char *key)
{
	return (json_is_true(json_object_get(o, key)));
}

/* sv from the saved row o (hist_at: xmalloc'd, the caller frees). */
static void
reexec_load_fields(const json_t *o, struct child_saved *sv)
{
	const json_t	*h = json_object_get(o, "hist"), *at;
	enum child_state st = CHILD_STOPPED;
	const char	*s;
	int		 i;

	memset(sv, 0, sizeof *sv);
	if ((s = json_string_value(json_object_get(o, "state"))) != NULL)
		(void)child_state_parse(s, &st);	/* unknown: stopped */
	sv->state = st;
	sv->pid = (pid_t)reexec_int(o, "pid", -1);
	sv->last_pid = (pid_t)reexec_int(o, "last_pid", -1);
	sv->incarnation = (unsigned)reexec_int(o, "incarnation", 0);
	sv->restart_count = (int)reexec_int(o, "restart_count", 0);
	sv->has_exit = reexec_bool(o, "has_exit");
	sv->last_status = (int)reexec_int(o, "last_status", 0);
	sv->last_requested = reexec_bool(o, "last_requested");
	sv->last_escalated = reexec_bool(o, "last_escalated");
	sv->last_unhealthy = reexec_bool(o, "last_unhealthy");
	sv->last_stop_sig = (int)reexec_int(o, "last_stop_sig", 0);
	sv->last_timeout_ms = reexec_int(o, "last_timeout_ms", 0);
	sv->last_spawn_errno = (int)reexec_int(o, "last_spawn_errno", 0);
	sv->last_spawn_step = (int)reexec_int(o, "last_spawn_step", 0);
	sv->last_spawn_path = json_string_value(json_object_get(o,
	    "last_spawn_path"));
	sv->started_at = reexec_int(o, "started_at", 0);
	sv->ready_at = reexec_int(o, "ready_at", 0);
	sv->exited_at = reexec_int(o, "exited_at", 0);
	sv->restart_at = reexec_int(o, "restart_at", 0);
	sv->stop_timeout_ms = reexec_int(o, "stop_timeout_ms", 0);
	sv->stop_sig = (int)reexec_int(o, "stop_sig", 0);
	sv->boot = reexec_bool(o, "boot");
	sv->manual = reexec_bool(o, "manual");
	sv->ever_ready = reexec_bool(o, "ever_ready");
	sv->gave_up = reexec_bool(o, "gave_up");
	sv->want_down = reexec_bool(o, "want_down");
	sv->delete_after = reexec_bool(o, "delete_after");
	sv->escalated = reexec_bool(o, "escalated");
	sv->bounce = reexec_bool(o, "bounce");
	sv->unhealthy = reexec_bool(o, "unhealthy");
	sv->adopted = reexec_bool(o, "adopted");
	sv->deadline = reexec_int(o, "deadline", 0);
	sv->statusfd = reexec_fd_of(o, "statusfd");
	sv->readyfd = reexec_fd_of(o, "readyfd");
	sv->pidfd = reexec_fd_of(o, "pidfd");
	at = json_object_get(h, "at");
	sv->hist_size = (int)json_array_size(at);
	sv->hist_n = (int)reexec_int(h, "n", 0);
	sv->hist_head = (int)reexec_int(h, "head", 0);
	sv->hist_consecutive = (int)reexec_int(h, "consecutive", 0);
	if (sv->hist_n < 0 || sv->hist_n > sv->hist_size || sv->hist_head <
	    0 || sv->hist_head >= (sv->hist_size > 0 ? sv->hist_size : 1))
		sv->hist_size = sv->hist_n = sv->hist_head = 0;
	if (sv->hist_size > 0)
		sv->hist_at = xreallocarray(NULL, sv->hist_size,
		    sizeof *sv->hist_at);
	for (i = 0; i < sv->hist_size; i++)
		sv->hist_at[i] = json_integer_value(json_array_get(at, i));
	/* A process whose pid is not a number we can watch: none. */
	if (sv->pid <= 0 || (sv->adopted && sv->pidfd == -1))
		sv->pid = -1;
}

static int
reexec_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	return (-1);
}

/* reexec_hex's text back into out: the bytes, or -1. */
static int
reexec_unhex(const char *s, char *out, size_t size)
{
	size_t	i, n = strlen(s) / 2;
	int	hi, lo;

	if (n > size || n > INT_MAX)
		return (-1);
	for (i = 0; i < n; i++) {
		if ((hi = reexec_nibble(s[2 * i])) == -1 ||
		    (lo = reexec_nibble(s[2 * i + 1])) == -1)
			return (-1);
		out[i] = (char)(hi << 4 | lo);
	}
	return ((int)n);
}

/* c's output: its pipes, partial lines and ring lines. */
static void
reexec_load_log(struct child *c, const json_t *o)
{
	const json_t	*out = json_object_get(o, "out"), *in, *ln;
	char		 part[CHILDLOG_LINE_MAX];
	const char	*hex, *stream, *text;
	json_int_t	 at;
	size_t		 i;
	int		 fd, n;

	json_array_foreach(out, i, in) {
		if (i > 1 || (fd = reexec_fd_of(in, "fd")) == -1)
			continue;
		child_restore_output(c, (int)i, fd, reexec_bool(in,
		    "shared"));
		hex = json_string_value(json_object_get(in, "partial"));
		if (hex != NULL && (n = reexec_unhex(hex, part,
		    sizeof part)) > 0)
			childlog_feed(c->log, (int)i, part, (size_t)n);
	}
	json_array_foreach(json_object_get(o, "ring"), i, ln) {
		if (json_unpack((json_t *)ln, "[I, s, s]", &at, &stream,
		    &text) == -1)
			continue;
		if (c->log == NULL)
			c->log = childlog_new(c, child_output_closed);
		childlog_restore_line(c->log, at, stream, text);
	}
}

static void
reexec_load_attrs(struct gtd *g, struct child *c, const json_t *attrs)
{
	const char	*key;
	json_t		*v;
	struct value	 val;

	registry_attr_batch(g->reg, c->name);
	json_object_foreach((json_t *)attrs, key, v) {
		proto_value_from_json(v, &val);
		if (registry_attr_set(g->reg, c->name, key, &val) == -1)
			log_warnx("reexec: child %s: attr %s: %s", c->name,
			    key, registry_errmsg(g->reg));
		value_free(&val);
	}
	registry_attr_batch_end(g->reg);
}

/* One saved row back; *restart: start it once all rows are back. */
static struct child *
reexec_load_child(struct gtd *g, const json_t *o, bool *restart)
{
	struct child_saved	 sv;
	struct childspec	*s;
	struct child		*c;
	const json_t		*nt;
	const char		*str;
	char			*field = NULL, *cause = NULL;
	int			 fd;

	*restart = false;
	if ((s = config_spec_parse(json_object_get(o, "spec"), &field,
	    &cause)) == NULL) {
		log_warnx("reexec: a row's spec: %s: %s", field, cause);
		free(field);
		free(cause);
		return (NULL);
	}
	reexec_load_fields(o, &sv);
	c = child_restore(g, s, config_spec_text(s), &sv, restart);
	free(sv.hist_at);
	if (c == NULL) {
		log_warn("reexec: a row");
		return (NULL);
	}
	if ((str = json_string_value(json_object_get(o, "inst"))) != NULL)
		c->inst_json = xstrdup(str);
	reexec_load_attrs(g, c, json_object_get(o, "attrs"));
	nt = json_object_get(o, "notify");
	if ((fd = reexec_fd_of(nt, "fd")) != -1 && (str =
	    json_string_value(json_object_get(nt, "path"))) != NULL &&
	    notify_child_take(g->notify, c, fd, str) == -1)
		log_warnx("reexec: child %s: its notify socket is lost",
		    c->name);
	if ((str = json_string_value(json_object_get(o, "cgroup"))) != NULL)
		childcg_restore(c, str);
	reexec_load_log(c, o);
	if (c->pid > 0)
		health_resume(c, json_string_value(json_object_get(o,
		    "health")));
	return (c);
}

/* Queue the lines of text (each ending in '\n') as events on cn. */
static void
reexec_requeue(struct conn *cn, const char *text, bool reply)
{
	const char	*p, *nl;

	for (p = text; p != NULL && *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		if (reply)
			conn_reply(cn, p, (size_t)(nl - p));
		else
			conn_event(cn, p, (size_t)(nl - p));
	}
}

/* What cn had read and not framed: read again by the new program. */
static void
reexec_load_in(struct gtd *g, struct conn *cn, const json_t *o)
{
	const char	*hex = json_string_value(json_object_get(o, "in"));
	size_t		 size;
	char		*buf;
	int		 n;

	if (hex == NULL || *hex == '\0')
		return;
	size = g->lim.max_request_bytes + 1;
	buf = xmalloc(size);
	if ((n = reexec_unhex(hex, buf, size)) > 0)
		conn_unread(cn, buf, (size_t)n);
	free(buf);
}

/* The requester's connection, with the reply of the new program. */
static void
reexec_load_requester(struct gtd *g, const json_t *o)
{
	struct conn	*cn;
	const char	*id;
	char		*line;
	int		 fd;
	int		 n;

	if ((fd = reexec_fd_of(o, "fd")) == -1)
		return;
	cn = conn_new(g->conns, fd);
	reexec_requeue(cn, json_string_value(json_object_get(o, "out")),
	    true);
	id = json_string_value(json_object_get(o, "id"));
	if (g->rx->failed != NULL) {
		/* The new program handed back: this is the old one. */
		json_t	*err;
		char	*t, *body, *msg;

		xasprintf(&msg, "the new program failed after execve, the "
		    "previous one goes on: %s", g->rx->failed);
		err = json_pack("{s:b, s:s, s:s}", "ok", false, "error",
		    REEXEC_E, "message", msg);
		free(msg);
		if (err == NULL)	/* not UTF-8 */
			err = json_pack("{s:b, s:s}", "ok", false, "error",
			    REEXEC_E);
		body = json_dumps(err, JSON_COMPACT);
		json_decref(err);
		n = id != NULL ? xasprintf(&t, "{\"id\":%s,%s", id, body + 1) :
		    xasprintf(&t, "%s", body);
		free(body);
		conn_reply(cn, t, (size_t)n);
		conn_push(cn);
		free(t);
		reexec_load_in(g, cn, o);
		return;
	}
	n = id != NULL ? xasprintf(&line, "{\"id\":%s,\"ok\":true,\"pid\":%d,"
	    "\"version\":\"%s\"}", id, (int)g->pid, GT_VERSION) :
	    xasprintf(&line, "{\"ok\":true,\"pid\":%d,\"version\":\"%s\"}",
	    (int)g->pid, GT_VERSION);
	conn_reply(cn, line, (size_t)n);
	conn_push(cn);
	free(line);
	reexec_load_in(g, cn, o);	/* what it sent behind the reexec */
}

/* The connections handed over, with their subscriptions. */
static void
reexec_load_conns(struct gtd *g, const json_t *a)
{
	const json_t	*o;
	struct conn	*cn;
	size_t		 i;
	int		 fd;

	json_array_foreach(a, i, o) {
		if ((fd = reexec_fd_of(o, "fd")) == -1)
			continue;
		cn = conn_new(g->conns, fd);
		event_sub_restore(g->events, cn, json_object_get(o, "sub"));
		reexec_requeue(cn, json_string_value(json_object_get(o, "out")),
		    false);
		conn_push(cn);
		reexec_load_in(g, cn, o);
	}
}

int
reexec_restore(struct gtd *g, const char *text, size_t len, char **cause)
{
	json_t		*st, *row, *rows;
	struct child	*c, **restart;
	const json_t	*ls;
	const char	*exe;
	size_t		 i, nr = 0;
	bool		 again;
	int		 fd;

	if ((st = reexec_parse(g, text, len, cause)) == NULL)
		return (-1);
	ls = json_object_get(st, "listen");
	if ((fd = reexec_fd_of(ls, "fd")) == -1) {
		xasprintf(cause, "state: the listening socket is not open");
		json_decref(st);
		return (-1);
	}
	/* From here on, everything named is taken. */
	g->server = server_new(g->loop, g->conns, fd, reexec_bool(ls,
	    "owned") ? g->socket_path : NULL);
	/* The program that runs now: the new one, or (fallback) the old. */
	if ((exe = json_string_value(json_object_get(st, g->rx->failed !=
	    NULL ? "prev_exe" : "exe"))) != NULL) {
		free(g->rx->exe);
		g->rx->exe = xstrdup(exe);
	}
	g->started_at = reexec_int(st, "started_at", g->started_at);
	g->stats.requests = (uint64_t)reexec_int(json_object_get(st, "stats"),
	    "requests", 0);
	g->stats.spawns = (uint64_t)reexec_int(json_object_get(st, "stats"),
	    "spawns", 0);
	g->stats.restarts = (uint64_t)reexec_int(json_object_get(st,
	    "stats"), "restarts", 0);
	g->stats.spawn_failures = (uint64_t)reexec_int(json_object_get(st,
	    "stats"), "spawn_failures", 0);
	if (event_restore(g->events, json_object_get(st, "events")) == -1)
		log_warnx("reexec: the event ring is lost (seq starts again)");
	rows = json_object_get(st, "children");
	ev_now_update(g->loop);		/* the deadlines are against now */
	restart = xreallocarray(NULL, json_array_size(rows) + 1,
	    sizeof *restart);
	json_array_foreach(rows, i, row) {
		if ((c = reexec_load_child(g, row, &again)) != NULL && again)
			restart[nr++] = c;
	}
	child_release_begin(g);		/* in line in their order */
	for (i = 0; i < nr; i++)
		if (restart[i]->state == CHILD_WAITING)
			(void)child_start(restart[i]);	/* decided inside */
	child_release_end(g);
	free(restart);
	if ((fd = reexec_fd_of(st, "prev_exe_fd")) != -1)
		close(fd);
	reexec_load_conns(g, json_object_get(st, "conns"));
	event_emit(g->events, EVENT_REEXEC, NULL, json_pack("{s:s, s:i}",
	    "version", GT_VERSION, "pid", (int)g->pid));
	reexec_load_requester(g, json_object_get(st, "requester"));
	log_info("reexec: restored %d children (state format %lld)",
	    g->tab->nchildren, (long long)reexec_int(st, "version", 0));
	json_decref(st);
	/* Exits during the gap: reap them now that every watcher is set. */
	ev_feed_signal_event(g->loop, SIGCHLD);
	return (0);
}

void
reexec_fallback(const char *text, size_t len, int statefd, char **argv,
    const char *why)
{
	json_t	*st, *v, *a;
	char	**nv, fdtext[16];
	size_t	  i, n = 0;
	int	  fd;

	if (statefd < 0 || (st = json_loadb(text, len, 0, NULL)) == NULL)
		return;
	v = json_object_get(st, "prev_exe_fd");
	fd = json_is_integer(v) ? (int)json_integer_value(v) : -1;
	a = json_object_get(st, "prev_argv");
	if (fd < 0 || fcntl(fd, F_GETFD) == -1 || !json_is_array(a)) {
		json_decref(st);
		return;
	}
	if (why != NULL)
		/* ENOMEM: no reason */
		(void)setenv(REEXEC_FALLBACK_ENV, why, 1);	/* a hint */
	/* Its own options, as it passed them on: not those that failed. */
	nv = xcalloc(json_array_size(a) + 4, sizeof *nv);
	nv[n++] = xstrdup(argv[0]);
	nv[n++] = xstrdup("-R");
	snprintf(fdtext, sizeof fdtext, "%d", statefd);
	nv[n++] = xstrdup(fdtext);
	json_array_foreach(a, i, v)
		if (json_is_string(v))
			nv[n++] = xstrdup(json_string_value(v));
	json_decref(st);
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);	/* once only: no loop */
	fexecve(fd, nv, environ);
	reexec_argv_free(nv);
}

/*
 * adopt_on_restart.
 */

struct reexec_adopt {
	struct gtd	*g;		/* weak */
	char		*path;		/* owned: SOCKET.state */
	ev_timer	 timer;		/* the next write */
	double		 delay;		/* s: from a change to its write */
};

/* A row for the state file: no fds, the process's start time. */
static json_t *
reexec_adopt_row(struct gtd *g, struct child *c)
{
	struct reexec_fds	 f = { NULL, 0 };
	struct proc_stat	 ps;
	json_t			*o;
	const char		*drop[] = { "statusfd", "readyfd", "pidfd",
	    "notify", "out", NULL };
	int			 i;

	o = reexec_save_child(g, c, &f);
	free(f.v);
	for (i = 0; drop[i] != NULL; i++)
		json_object_del(o, drop[i]);
	if (c->pid > 0 && proc_stat(c->pid, &ps) == 0)
		json_object_set_new(o, "start_time", json_integer(
		    (json_int_t)ps.starttime));
	return (o);
}

static void
reexec_adopt_write(struct reexec_adopt *a)
{
	struct gtd	*g = a->g;
	struct child	*c;
	json_t		*rows = json_array(), *st;
	char		*tmp;
	int		 fd;

	TAILQ_FOREACH(c, &g->tab->children, entry)
		json_array_append_new(rows, reexec_adopt_row(g, c));
	st = json_pack("{s:i, s:s, s:i, s:o}", "version", REEXEC_FORMAT,
	    "gtd", GT_VERSION, "pid", (int)g->pid, "children", rows);
	xasprintf(&tmp, "%s.tmp", a->path);
	/* attrs and specs: for gtd's eyes only, never through a link. */
	(void)unlink(tmp);	/* ENOENT: none left */
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) == -1 || json_dumpfd(st, fd, JSON_COMPACT) ==
	    -1 || close(fd) == -1 || rename(tmp, a->path) == -1) {
		log_warn("adopt_on_restart: %s", a->path);
		(void)unlink(tmp);	/* best effort */
	}
	free(tmp);
	json_decref(st);
}

/*
 * Write, and space the next write by 10 times what this one took (at
 * least REEXEC_ADOPT_MS): with many rows changing all the time, writing
 * the file costs gtd at most a tenth of its time.
 */
static void
reexec_adopt_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct reexec_adopt	*a = w->data;
	int64_t			 t0 = clock_mono_ms(), took;

	reexec_adopt_write(a);
	took = clock_mono_ms() - t0;
	a->delay = (took * 10 > REEXEC_ADOPT_MS ? took * 10 :
	    REEXEC_ADOPT_MS) / 1000.;
}

void
reexec_adopt_start(struct gtd *g)
{
	struct reexec_adopt	*a;

	if (!g->rx->adopt_on_restart || g->rx->adopt != NULL)
		return;
	a = xcalloc(1, sizeof *a);
	a->g = g;
	xasprintf(&a->path, "%s.state", g->socket_path);
	ev_timer_init(&a->timer, reexec_adopt_cb, REEXEC_ADOPT_MS / 1000.,
	    0.);
	a->delay = REEXEC_ADOPT_MS / 1000.;
	a->timer.data = a;
	g->rx->adopt = a;
	reexec_adopt_write(a);
}

void
reexec_adopt_dirty(struct gtd *g)
{
	struct reexec_adopt	*a = g->rx->adopt;

	if (a == NULL || ev_is_active(&a->timer))
		return;
	ev_timer_set(&a->timer, a->delay, 0.);
	ev_timer_start(g->loop, &a->timer);
}

void
reexec_adopt_free(struct gtd *g)
{
	struct reexec_adopt	*a = g->rx->adopt;

	if (a == NULL)
		return;
	ev_timer_stop(g->loop, &a->timer);
	if (g->tab->nprocs == 0)		/* nothing left to adopt */
		(void)unlink(a->path);	/* gone already */
	else
		reexec_adopt_write(a);
	free(a->path);
	free(a);
	g->rx->adopt = NULL;
}

/*
 * A saved row's process, if it is still the one saved: its pidfd (taken
 * by the row), or -1.  The start time read after the pidfd pins the
 * process down says it is not a reused pid.
 */
static int
reexec_adopt_pidfd(struct gtd *g, json_t *o)
{
	struct proc_stat	ps;
	json_int_t		pid = json_integer_value(json_object_get(o,
	    "pid"));
	json_t			*st = json_object_get(o, "start_time");
	int			fd;

	if (pid <= 0 || pid > INT_MAX || !json_is_integer(st))
		return (-1);
	if ((fd = g->ops->pidfd_open((pid_t)pid)) == -1)
		return (-1);
	if (proc_stat((pid_t)pid, &ps) == -1 || ps.starttime !=
	    (unsigned long long)json_integer_value(st)) {
		close(fd);
		return (-1);
	}
	/* Contained: it must be in our cgroups, where we started it. */
	if (!childcg_may_adopt(g, (pid_t)pid)) {
		log_warnx("adopt_on_restart: pid %lld is not in gtd's cgroup, "
		    "not adopted", (long long)pid);
		close(fd);
		return (-1);
	}
	return (fd);
}

void
reexec_adopt_load(struct gtd *g)
{
	json_t		*st, *rows, *o;
	json_error_t	 e;
	struct child	*c;
	struct stat	 sb;
	char		*path;
	size_t		 i, n = 0, gone = 0;
	bool		 again;
	int		 fd;

	xasprintf(&path, "%s.state", g->socket_path);
	st = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) != -1) {
		/* Ours alone, or it could name any process to adopt. */
		if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_uid ==
		    geteuid() && (sb.st_mode & 022) == 0)
			st = json_loadfd(fd, 0, &e);
		else
			log_warnx("adopt_on_restart: %s: not a file of gtd's "
			    "user that only it may write, ignored", path);
		close(fd);
	}
	free(path);
	if (st == NULL)
		return;			/* none: the last exit was clean */
	if (reexec_int(st, "version", 0) < 1 || reexec_int(st, "version", 0) >
	    REEXEC_FORMAT) {
		log_warnx("adopt_on_restart: state format %lld unknown, "
		    "nothing adopted", (long long)reexec_int(st, "version", 0));
		json_decref(st);
		return;
	}
	rows = json_object_get(st, "children");
	child_release_begin(g);		/* the waiting in line in order */
	json_array_foreach(rows, i, o) {
		if (!json_is_object(o))
			continue;
		if ((fd = reexec_adopt_pidfd(g, o)) != -1) {
			json_object_set_new(o, "pidfd", json_integer(fd));
			json_object_set_new(o, "adopted", json_true());
			json_object_del(o, "deadline");	/* its stop's, say */
			if (!reexec_bool(o, "want_down"))
				json_object_set_new(o, "state",
				    json_string("running"));
		} else if (json_integer_value(json_object_get(o, "pid")) > 0) {
			/* Gone meanwhile: restarted now, as by its policy. */
			json_object_set_new(o, "pid", json_integer(-1));
			json_object_set_new(o, "state", json_string(
			    "restarting"));
			json_object_set_new(o, "deadline", json_integer(0));
			gone++;
		}
		if ((c = reexec_load_child(g, o, &again)) == NULL)
			continue;
		if (c->adopted) {
			n++;
			log_info("child %s: adopted pid %d (left by gtd %lld)",
			    c->name, (int)c->pid, (long long)reexec_int(st,
			    "pid", 0));
		} else if (again && c->state == CHILD_WAITING)
			(void)child_start(c);	/* a failure is decided */
	}
	child_release_end(g);
	log_info("adopt_on_restart: %zu process%s adopted, %zu gone", n,
	    n == 1 ? "" : "es", gone);
	json_decref(st);
}
