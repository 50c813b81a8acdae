/* SPDX-License-Identifier: MIT */
/*
 * event: sequence-numbered events, a ring of recent ones as ready JSON
 * lines, and the subscribers (connections) they are pushed to.  The line
 * is built once and copied into each matching output queue.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/wait.h>

#include <jansson.h>

#include "gt/conn.h"
#include "gt/event.h"
#include "gt/gtd.h"
#include "gt/proto.h"
#include "gt/xmalloc.h"

struct event_line {
	uint64_t	 seq;
	unsigned	 kind;
	char		*name;		/* in line's allocation */
	char		*line;		/* owned; JSON, no '\n' */
	size_t		 len;
};

/* A subscription; owned by the events, pointed to by its conn. */
struct event_sub {
	struct conn		*conn;		/* weak: unsubscribe on close */
	unsigned		 mask;
	char			**names;	/* NULL: every name */
	size_t			 nnames;
	char			**follow;	/* logs follow: names */
	size_t			 nfollow;
	TAILQ_ENTRY(event_sub)	 entry;
};
TAILQ_HEAD(event_subs, event_sub);

struct events {
	uint64_t		 seq;
	struct event_line	 ring[EVENT_RING];
	struct event_subs	 subs;
};

static const char *event_names[EVENT_NKINDS] = {
	[EVENT_STARTED] = "started",
	[EVENT_READY] = "ready",
	[EVENT_EXITED] = "exited",
	[EVENT_RESTARTING] = "restarting",
	[EVENT_STOPPED] = "stopped",
	[EVENT_DELETED] = "deleted",
	[EVENT_GAVE_UP] = "gave_up",
	[EVENT_HOOK_DONE] = "hook_done",
	[EVENT_ATTR] = "attr",
	[EVENT_LOG] = "log"
};

struct events *
events_new(void)
{
	struct events	*ev;

	ev = xcalloc(1, sizeof *ev);
	TAILQ_INIT(&ev->subs);
	return (ev);
}

static void
event_sub_free(struct event_sub *s)
{
	spec_strv_free(s->names);
	spec_strv_free(s->follow);
	free(s);
}

void
events_free(struct events *ev)
{
	struct event_sub	*s;
	size_t			 i;

	if (ev == NULL)
		return;
	while ((s = TAILQ_FIRST(&ev->subs)) != NULL) {
		TAILQ_REMOVE(&ev->subs, s, entry);
		s->conn->sub = NULL;
		event_sub_free(s);
	}
	for (i = 0; i < EVENT_RING; i++)
		free(ev->ring[i].line);		/* name is in it */
	free(ev);
}

const char *
event_kind_name(enum event_kind k)
{
	return (event_names[k]);
}

int
event_kind_parse(const char *s, enum event_kind *k)
{
	int	i;

	for (i = 0; i < EVENT_NKINDS; i++) {
		if (strcmp(s, event_names[i]) == 0) {
			*k = i;
			return (0);
		}
	}
	return (-1);
}

uint64_t
event_seq(struct gtd *g)
{
	return (g->events == NULL ? 0 : g->events->seq);
}

static bool
event_sub_wants(const struct event_sub *s, unsigned kind, const char *name)
{
	size_t	i;

	if (kind == EVENT_LOG)
		for (i = 0; i < s->nfollow; i++)
			if (strcmp(s->follow[i], name) == 0)
				return (true);
	if (!(s->mask & EVENT_MASK(kind)))
		return (false);
	if (s->names == NULL)
		return (true);
	for (i = 0; i < s->nnames; i++)
		if (strcmp(s->names[i], name) == 0)
			return (true);
	return (false);
}

static void
event_deliver(struct events *ev, unsigned kind, const char *name,
    const char *line, size_t len)
{
	struct event_sub	*s, *next;

	/* conn_reply may close a slow subscriber, which unsubscribes it. */
	for (s = TAILQ_FIRST(&ev->subs); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		if (event_sub_wants(s, kind, name)) {
			conn_reply(s->conn, line, len);
			conn_push(s->conn);	/* may close it: next is kept */
		}
	}
}

void
event_emit(struct gtd *g, enum event_kind kind, const char *name,
    json_t *fields)
{
	struct events		*ev = g->events;
	struct event_line	*el;
	json_t			*j;
	char			*line;
	size_t			 len, nlen;

	if (ev == NULL) {
		json_decref(fields);
		return;
	}
	/*
	 * Log lines and attr changes are numbered but not kept: they would
	 * flood the ring.
	 */
	j = json_pack("{s:s, s:I, s:I, s:s}", "event", event_names[kind],
	    "seq", (json_int_t)++ev->seq, "at", (json_int_t)gtd_now_ms(g),
	    "name", name);
	if (fields != NULL) {
		json_object_update(j, fields);
		json_decref(fields);
	}
	line = proto_dump(j, &len);
	json_decref(j);
	if (line == NULL)
		return;
	event_deliver(ev, kind, name, line, len);
	if (kind == EVENT_LOG || kind == EVENT_ATTR) {
		free(line);
		return;
	}
	/* The name goes after the line, in one allocation. */
	nlen = strlen(name);
	line = xreallocarray(line, 1, len + 1 + nlen + 1);
	memcpy(line + len + 1, name, nlen + 1);
	el = &ev->ring[ev->seq % EVENT_RING];
	free(el->line);
	el->seq = ev->seq;
	el->kind = kind;
	el->name = line + len + 1;
	el->line = line;
	el->len = len;
}

void
event_child_state(struct gtd *g, struct child *c, enum child_state old)
{
	struct policy_reason	r;

	switch (c->state) {
	case CHILD_STARTING:
		if (c->pid > 0)
			event_emit(g, EVENT_STARTED, c->name,
			    json_pack("{s:i}", "pid", (int)c->pid));
		break;
	case CHILD_RUNNING:
		event_emit(g, EVENT_READY, c->name, json_pack("{s:i}", "pid",
		    (int)c->pid));
		break;
	case CHILD_TERMINATING:
		child_reason(c, &r);
		event_emit(g, EVENT_EXITED, c->name, json_pack("{s:i, s:o}",
		    "pid", (int)c->last_pid, "reason", proto_exit_reason(&r)));
		break;
	case CHILD_RESTARTING:
		event_emit(g, EVENT_RESTARTING, c->name, json_pack("{s:i}",
		    "restart_count", c->restart_count));
		break;
	case CHILD_STOPPED:
		if (old != CHILD_STOPPED)
			event_emit(g, EVENT_STOPPED, c->name, NULL);
		break;
	case CHILD_STOPPING:
		break;
	}
}

void
event_child_gave_up(struct gtd *g, struct child *c, const char *action)
{
	event_emit(g, EVENT_GAVE_UP, c->name, json_pack("{s:s, s:i}",
	    "action", action, "restart_count", c->restart_count));
}

void
event_child_hook_done(struct gtd *g, struct child *c, int status)
{
	event_emit(g, EVENT_HOOK_DONE, c->name, json_pack("{s:o}", "reason",
	    proto_exit_json(status, 0)));
}

bool
event_wanted(struct gtd *g, enum event_kind kind, const char *name)
{
	struct event_sub	*s;

	if (g->events == NULL)
		return (false);
	TAILQ_FOREACH(s, &g->events->subs, entry)
		if (event_sub_wants(s, kind, name))
			return (true);
	return (false);
}

void
event_child_log(struct gtd *g, struct child *c, const char *stream,
    int64_t at, const char *line, size_t len)
{
	json_t	*text;

	/* Nobody follows this child: do not even number the line. */
	if (!event_wanted(g, EVENT_LOG, c->name))
		return;
	if ((text = json_stringn_nocheck(line, len)) == NULL)
		return;
	event_emit(g, EVENT_LOG, c->name, json_pack("{s:s, s:o}",
	    "stream", stream, "line", text));
}

int
event_since_ok(struct gtd *g, int64_t since, char **cause)
{
	struct events	*ev = g->events;
	uint64_t	 oldest;

	if (since < 0 || (uint64_t)since >= ev->seq)
		return (0);
	oldest = ev->seq > EVENT_RING ? ev->seq - EVENT_RING + 1 : 1;
	if ((uint64_t)since + 1 >= oldest)
		return (0);
	xasprintf(cause, "since %lld is too far behind: the oldest event kept "
	    "is %llu", (long long)since, (unsigned long long)oldest);
	return (-1);
}

static struct event_sub *
event_sub_get(struct conn *cn)
{
	struct event_sub	*s;

	if ((s = cn->sub) == NULL) {
		s = xcalloc(1, sizeof *s);
		s->conn = cn;
		TAILQ_INSERT_TAIL(&cn->gtd->events->subs, s, entry);
		cn->sub = s;
	}
	return (s);
}

int
event_subscribe(struct conn *cn, unsigned mask, json_t *names, int64_t since,
    char **cause)
{
	struct events		*ev = cn->gtd->events;
	struct event_sub	*s;
	struct event_line	*el;
	json_t			*v;
	size_t			 i;
	uint64_t		 q;

	if (event_since_ok(cn->gtd, since, cause) == -1)
		return (-1);
	s = event_sub_get(cn);
	s->mask |= mask;
	spec_strv_free(s->names);
	s->names = NULL;
	s->nnames = 0;
	if (names != NULL) {
		s->names = xcalloc(1, sizeof *s->names);
		json_array_foreach(names, i, v)
			spec_strv_add(&s->names, &s->nnames,
			    json_string_value(v));
	}
	for (q = since < 0 ? ev->seq + 1 : (uint64_t)since + 1; q <= ev->seq;
	    q++) {
		el = &ev->ring[q % EVENT_RING];
		if (el->seq == q && event_sub_wants(s, el->kind, el->name))
			conn_reply(cn, el->line, el->len);
	}
	return (0);
}

void
event_follow(struct conn *cn, const char *name)
{
	struct event_sub	*s = event_sub_get(cn);

	spec_strv_add(&s->follow, &s->nfollow, name);
}

void
event_unsubscribe(struct conn *cn)
{
	struct event_sub	*s = cn->sub;

	if (s == NULL)
		return;
	TAILQ_REMOVE(&cn->gtd->events->subs, s, entry);
	cn->sub = NULL;
	event_sub_free(s);
}
