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

#include "gt/clock.h"
#include "gt/conn.h"
#include "gt/event.h"
#include "gt/proto.h"
#include "gt/protocol.h"
#include "gt/xmalloc.h"

#define EVENT_PUSH_AT	65536	/* replay bytes queued: send them */

struct event_line {
	uint64_t	 seq;
	unsigned	 kind;
	char		*name;		/* in line's allocation */
	char		*line;		/* owned; JSON, no '\n' */
	size_t		 len;
};

/*
 * A set of child names, stored compactly: the names back to back, each
 * NUL-terminated, and their offsets sorted by strcmp (no duplicates), so
 * a lookup is a binary search and the whole set costs little more than
 * the request that named it.
 */
struct event_names {
	char		*buf;		/* owned */
	uint32_t	*off;		/* owned: sorted */
	size_t		 n;
	size_t		 len;		/* bytes used in buf */
};

/*
 * A subscription: owned by the events, pointed to by its conn.  When the
 * conn closes, the subscription stays in the list, inert (its conn is
 * dead), until the reaper frees the conn and, with it, this: an event
 * being delivered may still be walking the list.
 */
struct event_sub {
	struct conn		*conn;		/* weak: lives longer */
	unsigned		 mask;
	bool			 all;		/* no names filter */
	struct event_names	 names;
	struct event_names	 follow;	/* logs follow */
	TAILQ_ENTRY(event_sub)	 entry;
};
TAILQ_HEAD(event_subs, event_sub);

struct events {
	struct ev_loop		*loop;		/* for the events' "at" */
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
	[EVENT_LOG] = "log",
	[EVENT_HEALTH] = "health",
	[EVENT_REEXEC] = "reexec"
};

struct events *
events_new(struct ev_loop *loop)
{
	struct events	*ev;

	ev = xcalloc(1, sizeof *ev);
	ev->loop = loop;
	TAILQ_INIT(&ev->subs);
	return (ev);
}

static void
event_names_clear(struct event_names *nm)
{
	free(nm->buf);
	free(nm->off);
	memset(nm, 0, sizeof *nm);
}

static void
event_sub_free(struct event_sub *s)
{
	event_names_clear(&s->names);
	event_names_clear(&s->follow);
	free(s);
}

/* Where name is (or would go) in nm's sorted offsets; *found if there. */
static size_t
event_names_find(const struct event_names *nm, const char *name, bool *found)
{
	size_t	lo = 0, hi = nm->n, mid;
	int	r;

	*found = false;
	while (lo < hi) {
		mid = (lo + hi) / 2;
		r = strcmp(name, nm->buf + nm->off[mid]);
		if (r == 0) {
			*found = true;
			return (mid);
		}
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return (lo);
}

static bool
event_names_has(const struct event_names *nm, const char *name)
{
	bool	found;

	(void)event_names_find(nm, name, &found);
	return (found);
}

/* Add name (not there yet) at sorted position i. */
static void
event_names_insert(struct event_names *nm, size_t i, const char *name)
{
	size_t	len = strlen(name) + 1;

	nm->buf = xreallocarray(nm->buf, 1, nm->len + len);
	memcpy(nm->buf + nm->len, name, len);
	nm->off = xreallocarray(nm->off, nm->n + 1, sizeof *nm->off);
	memmove(nm->off + i + 1, nm->off + i, (nm->n - i) * sizeof *nm->off);
	nm->off[i] = (uint32_t)nm->len;
	nm->len += len;
	nm->n++;
}

static int
event_names_cmp(const void *a, const void *b, void *buf)
{
	return (strcmp((const char *)buf + *(const uint32_t *)a,
	    (const char *)buf + *(const uint32_t *)b));
}

/* nm := the strings of the JSON array a (sorted, without duplicates). */
static void
event_names_set(struct event_names *nm, json_t *a)
{
	json_t	*v;
	size_t	 i, k, len = 0;

	event_names_clear(nm);
	json_array_foreach(a, i, v)
		len += json_string_length(v) + 1;
	if ((nm->n = json_array_size(a)) == 0)
		return;
	nm->buf = xmalloc(len);
	nm->off = xreallocarray(NULL, nm->n, sizeof *nm->off);
	json_array_foreach(a, i, v) {
		nm->off[i] = (uint32_t)nm->len;
		memcpy(nm->buf + nm->len, json_string_value(v),
		    json_string_length(v) + 1);
		nm->len += json_string_length(v) + 1;
	}
	qsort_r(nm->off, nm->n, sizeof *nm->off, event_names_cmp, nm->buf);
	for (i = k = 1; i < nm->n; i++)
		if (strcmp(nm->buf + nm->off[i], nm->buf + nm->off[k - 1]) != 0)
			nm->off[k++] = nm->off[i];
	nm->n = k;			/* a duplicate's bytes stay: bounded */
}

void
events_free(struct events *ev)
{
	struct event_sub	*s;
	size_t			 i;

	if (ev == NULL)
		return;
	/* connset_free() ran first: only subscriptions of tests remain. */
	while ((s = TAILQ_FIRST(&ev->subs)) != NULL) {
		TAILQ_REMOVE(&ev->subs, s, entry);
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
event_seq(const struct events *ev)
{
	return (ev == NULL ? 0 : ev->seq);
}

static bool
event_sub_wants(const struct event_sub *s, unsigned kind, const char *name)
{
	if (conn_is_dead(s->conn))
		return (false);		/* closed: waits for the reaper */
	if (kind == EVENT_LOG && event_names_has(&s->follow, name))
		return (true);
	if (!(s->mask & EVENT_MASK(kind)))
		return (false);
	/* gtd's own events (no name) go to every subscriber of the kind. */
	return (s->all || *name == '\0' || event_names_has(&s->names, name));
}

/*
 * conn_event and conn_push may close a subscriber; a closed one stays in
 * the list (see struct event_sub), so s and next remain valid.
 */
static void
event_deliver(struct events *ev, unsigned kind, const char *name,
    const char *line, size_t len)
{
	struct event_sub	*s;

	TAILQ_FOREACH(s, &ev->subs, entry) {
		if (event_sub_wants(s, kind, name)) {
			conn_event(s->conn, line, len);
			conn_push(s->conn);
		}
	}
}

void
event_emit(struct events *ev, enum event_kind kind, const char *name,
    json_t *fields)
{
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
	j = json_pack("{s:s, s:I, s:I}", "event", event_names[kind],
	    "seq", (json_int_t)++ev->seq, "at",
	    (json_int_t)clock_now_ms(ev->loop));
	if (name != NULL)
		json_object_set_new(j, "name", json_string(name));
	else
		name = "";		/* gtd's own event */
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
event_child_state(struct events *g, struct child *c, enum child_state old)
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
	case CHILD_WAITING:
		break;
	}
}

void
event_child_gave_up(struct events *g, struct child *c, const char *action)
{
	event_emit(g, EVENT_GAVE_UP, c->name, json_pack("{s:s, s:i}",
	    "action", action, "restart_count", c->restart_count));
}

void
event_child_hook_done(struct events *g, struct child *c, int status)
{
	event_emit(g, EVENT_HOOK_DONE, c->name, json_pack("{s:o}", "reason",
	    proto_exit_json(status, 0)));
}

bool
event_wanted(struct events *ev, enum event_kind kind, const char *name)
{
	struct event_sub	*s;

	if (ev == NULL)
		return (false);
	TAILQ_FOREACH(s, &ev->subs, entry)
		if (event_sub_wants(s, kind, name))
			return (true);
	return (false);
}

void
event_child_log(struct events *g, struct child *c, const char *stream,
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
event_since_ok(const struct events *ev, int64_t since, char **cause)
{
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

/*
 * cn's subscription, or NULL.  Only a connection kept open has one, so
 * the walk is over the subscribers alone, and only for those.
 */
static struct event_sub *
event_sub_find(struct events *ev, struct conn *cn)
{
	struct event_sub	*s;

	if (!conn_kept_open(cn))
		return (NULL);
	TAILQ_FOREACH(s, &ev->subs, entry)
		if (s->conn == cn)
			return (s);
	return (NULL);
}

static struct event_sub *
event_sub_get(struct events *ev, struct conn *cn)
{
	struct event_sub	*s;

	if ((s = event_sub_find(ev, cn)) == NULL) {
		s = xcalloc(1, sizeof *s);
		s->conn = cn;
		TAILQ_INSERT_TAIL(&ev->subs, s, entry);
		conn_keep_open(cn);	/* its events go on after EOF */
	}
	return (s);
}

int
event_subscribe(struct events *ev, struct conn *cn, unsigned mask,
    json_t *names, int64_t since, char **cause)
{
	struct event_sub	*s;
	struct event_line	*el;
	uint64_t		 q;

	if (event_since_ok(ev, since, cause) == -1)
		return (-1);
	s = event_sub_get(ev, cn);
	s->mask |= mask;
	s->all = names == NULL;
	if (names != NULL)
		event_names_set(&s->names, names);
	else
		event_names_clear(&s->names);
	for (q = since < 0 ? ev->seq + 1 : (uint64_t)since + 1; q <= ev->seq;
	    q++) {
		el = &ev->ring[q % EVENT_RING];
		if (el->seq != q || !event_sub_wants(s, el->kind, el->name))
			continue;
		conn_event(cn, el->line, el->len);
		/* Send as it goes: a small output cap holds the replay too. */
		if (conn_unsent(cn) > EVENT_PUSH_AT)
			conn_push(cn);
	}
	return (0);
}

int
event_follow_ok(struct events *ev, struct conn *cn, const char *name)
{
	struct event_sub	*s = event_sub_find(ev, cn);

	if (s == NULL || event_names_has(&s->follow, name) ||
	    s->follow.n < GT_FOLLOWS_MAX)
		return (0);
	return (-1);
}

void
event_follow(struct events *ev, struct conn *cn, const char *name)
{
	struct event_sub	*s = event_sub_get(ev, cn);
	size_t			 i;
	bool			 found;

	i = event_names_find(&s->follow, name, &found);
	if (!found && s->follow.n < GT_FOLLOWS_MAX)
		event_names_insert(&s->follow, i, name);
}

void
event_unsubscribe(struct events *ev, struct conn *cn)
{
	struct event_sub	*s;

	if ((s = event_sub_find(ev, cn)) == NULL)
		return;
	TAILQ_REMOVE(&ev->subs, s, entry);
	event_sub_free(s);
}

json_t *
event_save(const struct events *ev)
{
	json_t			*ring = json_array();
	const struct event_line	*el;
	uint64_t		 q;

	q = ev->seq > EVENT_RING ? ev->seq - EVENT_RING + 1 : 1;
	for (; q <= ev->seq; q++) {
		el = &ev->ring[q % EVENT_RING];
		if (el->seq == q && el->line != NULL)
			json_array_append_new(ring, json_stringn_nocheck(
			    el->line, el->len));
	}
	return (json_pack("{s:I, s:o}", "seq", (json_int_t)ev->seq, "ring",
	    ring));
}

/* One saved line back into its slot, if it is an event line. */
static void
event_restore_line(struct events *ev, const char *line, size_t len)
{
	struct event_line	*el;
	json_t			*j;
	const char		*kind, *name = "";
	json_int_t		 seq;
	enum event_kind		 k;
	size_t			 nlen;
	char			*copy;

	if ((j = json_loadb(line, len, 0, NULL)) == NULL)
		return;
	if (json_unpack(j, "{s:s, s:I, s?s}", "event", &kind, "seq", &seq,
	    "name", &name) == -1 || event_kind_parse(kind, &k) == -1 ||
	    seq <= 0 || (uint64_t)seq > ev->seq) {
		json_decref(j);
		return;
	}
	nlen = strlen(name);
	copy = xmalloc(len + 1 + nlen + 1);
	memcpy(copy, line, len);
	copy[len] = '\0';
	memcpy(copy + len + 1, name, nlen + 1);
	json_decref(j);
	el = &ev->ring[(uint64_t)seq % EVENT_RING];
	free(el->line);
	el->seq = (uint64_t)seq;
	el->kind = k;
	el->name = copy + len + 1;
	el->line = copy;
	el->len = len;
}

int
event_restore(struct events *ev, const json_t *j)
{
	json_t		*seq, *ring, *v;
	size_t		 i;

	seq = json_object_get(j, "seq");
	if (!json_is_integer(seq) || json_integer_value(seq) < 0)
		return (-1);
	ev->seq = (uint64_t)json_integer_value(seq);
	ring = json_object_get(j, "ring");
	json_array_foreach(ring, i, v) {
		if (json_is_string(v))
			event_restore_line(ev, json_string_value(v),
			    json_string_length(v));
	}
	return (0);
}

static json_t *
event_names_json(const struct event_names *nm)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; i < nm->n; i++)
		json_array_append_new(a, json_string(nm->buf + nm->off[i]));
	return (a);
}

json_t *
event_sub_save(struct events *ev, struct conn *cn)
{
	struct event_sub	*s;

	if ((s = event_sub_find(ev, cn)) == NULL)
		return (NULL);
	return (json_pack("{s:i, s:b, s:o, s:o}", "mask", (int)s->mask, "all",
	    s->all, "names", event_names_json(&s->names), "follow",
	    event_names_json(&s->follow)));
}

void
event_sub_restore(struct events *ev, struct conn *cn, const json_t *j)
{
	struct event_sub	*s;
	json_t			*names, *v;
	size_t			 i;

	if (!json_is_object(j))
		return;
	s = event_sub_get(ev, cn);
	s->mask = (unsigned)json_integer_value(json_object_get(j, "mask")) &
	    (EVENT_MASK(EVENT_NKINDS) - 1);
	s->all = json_is_true(json_object_get(j, "all"));
	names = json_object_get(j, "names");
	if (json_is_array(names) && json_array_size(names) <=
	    GT_SUBSCRIBE_NAMES_MAX) {
		json_array_foreach(names, i, v)
			if (!json_is_string(v))
				break;
		if (i == json_array_size(names))
			event_names_set(&s->names, names);
	}
	json_array_foreach(json_object_get(j, "follow"), i, v) {
		if (json_is_string(v))
			event_follow(ev, cn, json_string_value(v));
	}
}
