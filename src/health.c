/* SPDX-License-Identifier: MIT */
/*
 * health: probes of running children (see health.h).  One probe at a
 * time per child, driven by one timer: idle, it fires to begin the next
 * probe; probing, it fires as the probe's timeout.  Every descriptor is
 * non-blocking and every wait is a watcher, so a slow or hostile
 * endpoint costs a descriptor and a timer, never the loop's time.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>
#include <jansson.h>

#include "gt/child.h"
#include "gt/childdeps.h"
#include "gt/event.h"
#include "gt/gtd.h"
#include "gt/health.h"
#include "gt/healthspec.h"
#include "gt/log.h"
#include "gt/registry.h"
#include "gt/spawn.h"
#include "gt/spec.h"
#include "gt/xmalloc.h"

enum health_st { HEALTH_UNKNOWN, HEALTH_HEALTHY, HEALTH_UNHEALTHY };

static const char *health_names[] = {
	[HEALTH_UNKNOWN] = "unknown",
	[HEALTH_HEALTHY] = "healthy",
	[HEALTH_UNHEALTHY] = "unhealthy"
};

/* The probe state of one child, owned by it (c->health). */
struct health {
	struct child		*c;		/* weak: the owner */
	const struct healthspec	*hs;		/* = c->spec->health */
	ev_timer		 timer;
	ev_io			 io;		/* tcp, http */
	ev_child		 cw;		/* exec */
	int			 fd;		/* -1 */
	pid_t			 pid;		/* exec probe, or -1 */
	bool			 probing;
	int			 fails;		/* in a row */
	int			 oks;
	enum health_st		 st;
	char			*req;		/* http request, owned */
	size_t			 reqlen;
	size_t			 sent;
	char			 buf[128];	/* the status line */
	size_t			 len;
};

static struct health	*health_new(struct child *);
static void	health_timer_cb(struct ev_loop *, ev_timer *, int);
static void	health_io_cb(struct ev_loop *, ev_io *, int);
static void	health_exec_cb(struct ev_loop *, ev_child *, int);
static void	health_done(struct health *, bool);

static void
health_arm(struct health *h, int64_t ms)
{
	struct ev_loop	*loop = h->c->gtd->loop;

	ev_timer_stop(loop, &h->timer);
	ev_timer_set(&h->timer, ms / 1000.0, 0.);
	ev_timer_start(loop, &h->timer);
}

/* Set the attr and tell the event hook. */
static void
health_set(struct health *h, enum health_st st)
{
	struct child	*c = h->c;
	struct gtd	*g = c->gtd;
	struct value	 v = { .type = VALUE_TEXT,
	    .s = (char *)(uintptr_t)health_names[st] };

	h->st = st;
	if (registry_attr_set(g->reg, c->name, "health", &v) == -1) {
		g->stats.mirror_errors++;
		log_warnx("child %s: mirror: %s", c->name,
		    registry_errmsg(g->reg));
	}
	child_attrs_changed(c);
	c->health_name = health_names[st];
	event_emit(g->events, EVENT_HEALTH, c->name, json_pack("{s:s}",
	    "health", health_names[st]));
	childdeps_health(c);	/* condition "healthy" */
}

/* c's probe state, new (any old one stopped), with no probe armed. */
static struct health *
health_new(struct child *c)
{
	struct health	*h;

	health_stop(c);
	h = xcalloc(1, sizeof *h);
	h->c = c;
	h->hs = c->spec->health;
	h->fd = -1;
	h->pid = -1;
	ev_init(&h->timer, health_timer_cb);
	h->timer.data = h;
	ev_init(&h->io, health_io_cb);
	h->io.data = h;
	c->health = h;
	return (h);
}

void
health_start(struct child *c)
{
	struct health	*h;

	if (c->spec->health == NULL)
		return;			/* no probe: nothing at all */
	h = health_new(c);
	health_set(h, HEALTH_UNKNOWN);
	health_arm(h, h->hs->initial_delay_ms);
}

/* End the probe in progress: its socket, its process. */
static void
health_end_probe(struct health *h)
{
	struct gtd	*g = h->c->gtd;

	if (h->fd != -1) {
		ev_io_stop(g->loop, &h->io);
		close(h->fd);
		h->fd = -1;
	}
	if (h->pid > 0) {
		/* libev still reaps it: nothing else may wait(2). */
		ev_child_stop(g->loop, &h->cw);
		(void)g->ops->kill(-h->pid, SIGKILL);	/* its session */
		(void)g->ops->kill(h->pid, SIGKILL);	/* ESRCH: gone */
		h->pid = -1;
	}
	free(h->req);
	h->req = NULL;
	h->probing = false;
}

void
health_stop(struct child *c)
{
	struct health	*h = c->health;

	if (h == NULL)
		return;
	health_end_probe(h);
	ev_timer_stop(c->gtd->loop, &h->timer);
	free(h);
	c->health = NULL;
	c->health_name = NULL;
}

const char *
health_state(const struct child *c)
{
	return (c->health != NULL ? health_names[c->health->st] : NULL);
}

/* The PATH of gtd's environment, for the probe's program. */
static const char *
health_path(char **env)
{
	for (; env != NULL && *env != NULL; env++)
		if (strncmp(*env, "PATH=", 5) == 0)
			return (*env + 5);
	return (NULL);
}

/* exec: a process with the child's credentials, output to /dev/null. */
static int
health_exec(struct health *h)
{
	struct child		*c = h->c;
	struct gtd		*g = c->gtd;
	struct spawn_plan	 pl;
	char			*path = NULL;
	int			 statusfd = -1;
	pid_t			 pid;

	if (spawn_resolve(h->hs->argv[0], health_path(g->spawn->env),
	    &path) == -1)
		return (-1);
	pl = (struct spawn_plan){ .path = path, .argv = h->hs->argv,
	    .envp = g->spawn->env, .cwd = c->spec->cwd, .new_session = true,
	    .parent = g->pid, .fd_in = g->spawn->devnull,
	    .fd_out = g->spawn->devnull, .fd_err = g->spawn->devnull,
	    .extra_fd = -1, .set_nofile = true, .nofile = g->spawn->nofile };
	child_plan_attrs(c->spec, &pl);
	pid = g->ops->spawn(&pl, &statusfd);
	free(path);
	if (statusfd != -1)
		close(statusfd);	/* a failed exec exits 127: a failure */
	if (pid == -1)
		return (-1);
	h->pid = pid;
	/* Watch the reap now, before the loop runs again (ev(3)). */
	ev_child_init(&h->cw, health_exec_cb, pid, 0);
	h->cw.data = h;
	ev_child_start(g->loop, &h->cw);
	return (0);
}

static void
health_exec_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct health	*h = w->data;
	int		 st = w->rstatus;

	ev_child_stop(loop, w);
	h->pid = -1;			/* reaped: nothing to kill */
	health_done(h, WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* tcp, http: a non-blocking connect to the numeric address. */
static int
health_connect(struct health *h)
{
	struct addrinfo	 hints, *ai = NULL;
	int		 fd;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;	/* no DNS */
	if (getaddrinfo(h->hs->host, h->hs->port, &hints, &ai) != 0)
		return (-1);
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd != -1 && connect(fd, ai->ai_addr, ai->ai_addrlen) == -1 &&
	    errno != EINPROGRESS) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd == -1)
		return (-1);
	h->fd = fd;
	if (h->hs->kind == HEALTH_HTTP) {
		h->reqlen = (size_t)xasprintf(&h->req, "GET %s HTTP/1.0\r\n"
		    "Host: %s:%s\r\nUser-Agent: gtd\r\nConnection: close\r\n"
		    "\r\n", h->hs->path, h->hs->host, h->hs->port);
		h->sent = 0;
		h->len = 0;
	}
	ev_io_set(&h->io, fd, EV_WRITE);
	ev_io_start(h->c->gtd->loop, &h->io);
	return (0);
}

/* http: the status line, once there is one: 2xx and 3xx are healthy. */
static int
health_http_status(struct health *h)
{
	int	code;

	if (memchr(h->buf, '\n', h->len) == NULL && h->len < sizeof h->buf - 1)
		return (-1);		/* more to come */
	h->buf[h->len] = '\0';
	if (sscanf(h->buf, "HTTP/1.%*1[01] %3d", &code) != 1)
		return (0);
	return (code >= 200 && code < 400);
}

static void
health_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct health	*h = w->data;
	socklen_t	 sl = sizeof(int);
	ssize_t		 n;
	int		 err = 0, r;

	if (w->events & EV_WRITE && h->sent == 0) {
		if (getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &err, &sl) == -1 ||
		    err != 0) {
			health_done(h, false);
			return;
		}
		if (h->hs->kind == HEALTH_TCP) {
			health_done(h, true);	/* connected: healthy */
			return;
		}
	}
	if (w->events & EV_WRITE) {
		n = send(h->fd, h->req + h->sent, h->reqlen - h->sent,
		    MSG_NOSIGNAL);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			health_done(h, false);
			return;
		}
		if ((h->sent += (size_t)n) < h->reqlen)
			return;
		ev_io_stop(loop, w);
		ev_io_set(w, h->fd, EV_READ);
		ev_io_start(loop, w);
		return;
	}
	n = read(h->fd, h->buf + h->len, sizeof h->buf - 1 - h->len);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		h->len += (size_t)n;
	if ((r = health_http_status(h)) == -1 && n > 0)
		return;
	health_done(h, r == 1);
}

static void
health_begin(struct health *h)
{
	int	rc;

	h->probing = true;
	rc = h->hs->kind == HEALTH_EXEC ? health_exec(h) : health_connect(h);
	if (rc == -1) {
		health_done(h, false);
		return;
	}
	health_arm(h, h->hs->timeout_ms);
}

static void
health_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct health	*h = w->data;

	if (h->probing)
		health_done(h, false);	/* timed out */
	else
		health_begin(h);
}

/*
 * One result.  While the child starts, results count only for ready
 * "healthy"; a running child that fails failure_threshold probes in a
 * row is killed, and its policy decides (reason unhealthy).
 */
static void
health_done(struct health *h, bool ok)
{
	struct child	*c = h->c;
	enum health_st	 st = h->st;

	health_end_probe(h);
	health_arm(h, h->hs->interval_ms);
	if (c->state != CHILD_RUNNING && !(c->state == CHILD_STARTING &&
	    c->spec->ready == SPEC_READY_HEALTHY))
		return;
	if (ok) {
		h->fails = 0;
		if (++h->oks >= h->hs->success_threshold)
			st = HEALTH_HEALTHY;
	} else {
		h->oks = 0;
		if (++h->fails >= h->hs->failure_threshold)
			st = HEALTH_UNHEALTHY;
	}
	if (st != h->st) {
		log_info("child %s: %s", c->name, health_names[st]);
		health_set(h, st);	/* h stays: c's state is unchanged */
	}
	if (st == HEALTH_HEALTHY && c->state == CHILD_STARTING)
		child_ready(c);
	else if (st == HEALTH_UNHEALTHY && c->state == CHILD_RUNNING)
		child_unhealthy(c);
}

void
health_resume(struct child *c, const char *state)
{
	struct health	*h;
	int		 i;

	if (c->spec->health == NULL || c->pid <= 0)
		return;
	h = health_new(c);
	h->st = HEALTH_UNKNOWN;
	for (i = 0; state != NULL && i < 3; i++)
		if (strcmp(state, health_names[i]) == 0)
			h->st = i;
	c->health_name = health_names[h->st];
	health_arm(h, h->hs->interval_ms);
}
