/* SPDX-License-Identifier: MIT */
/*
 * event: the event stream of protocol §5 `subscribe` and `logs follow`.
 * Every event gets a sequence number and is kept, as one JSON line, in a
 * bounded ring for `since` replays; subscribers get matching lines in
 * their output queue (a subscriber that does not read is disconnected at
 * the output cap, like any client).  Nothing here is freed while an
 * event is being delivered: a closed subscriber waits for the reaper.
 * Speaks JSON, so child.c reaches it only through the jansson-free calls
 * below.  Never blocks.
 */
#ifndef GT_EVENT_H
#define GT_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "gt/child.h"

struct conn;
struct gtd;
struct json_t;

enum event_kind {
	EVENT_STARTED,		/* a process was forked */
	EVENT_READY,		/* it became ready: running */
	EVENT_EXITED,		/* it is gone: reason */
	EVENT_RESTARTING,	/* a restart delay is armed */
	EVENT_STOPPED,
	EVENT_DELETED,		/* the row is gone */
	EVENT_GAVE_UP,		/* intensity or ladder ran out */
	EVENT_HOOK_DONE,	/* after_terminate finished */
	EVENT_ATTR,		/* attrs changed (only when asked for) */
	EVENT_LOG,		/* a line of output (logs follow) */
	EVENT_HEALTH,		/* the health attr changed */
	EVENT_NKINDS
};
#define EVENT_MASK(k)		(1U << (k))
#define EVENT_MASK_DEFAULT	(EVENT_MASK(EVENT_NKINDS) - 1 - \
				    EVENT_MASK(EVENT_ATTR) - \
				    EVENT_MASK(EVENT_LOG))
#define EVENT_RING		4096	/* events kept for since */

struct events;

struct events	*events_new(void);
void		 events_free(struct events *);	/* NULL is fine */
const char	*event_kind_name(enum event_kind);
int		 event_kind_parse(const char *, enum event_kind *);
/* The seq of the newest event (0: none yet). */
uint64_t	 event_seq(struct gtd *);

/*
 * Does any subscriber want this kind of event for name?  (Attr and log
 * events are built only then: they are frequent.)
 */
bool	event_wanted(struct gtd *, enum event_kind, const char *name);

/* Record and deliver an event; fields (stolen, may be NULL) are added. */
void	event_emit(struct gtd *, enum event_kind, const char *name,
	    struct json_t *fields);

/* The events a child's state change means (child.c calls this). */
void	event_child_state(struct gtd *, struct child *, enum child_state old);
void	event_child_gave_up(struct gtd *, struct child *, const char *action);
/* The health attr of c changed (gtd.c hands it to health.c). */
void	event_child_health(struct child *, const char *health);
void	event_child_hook_done(struct gtd *, struct child *, int status);
void	event_child_log(struct gtd *, struct child *, const char *stream,
	    int64_t at, const char *line, size_t len);

/*
 * Make cn a subscriber of the kinds in mask (added to those it has), for
 * the names in names (a JSON array of at most GT_SUBSCRIBE_NAMES_MAX
 * strings, copied compactly; NULL = every name; either replaces the names
 * it had), and replay the kept events after since (since < 0: none).
 * -1 with *cause when since is older than the ring.
 */
int	event_subscribe(struct conn *cn, unsigned mask, struct json_t *names,
	    int64_t since, char **cause);
/*
 * May cn follow name's log lines?  0 when it already does or has room
 * (fewer than GT_FOLLOWS_MAX names), else -1.
 */
int	event_follow_ok(struct conn *cn, const char *name);
/* Follow name's log lines on cn (logs follow): once per name, bounded. */
void	event_follow(struct conn *cn, const char *name);
/*
 * Free cn's subscription.  Only the reaper may (conn_free): until then a
 * closed connection's subscription stays in the list, inert, because an
 * event delivery up the stack may be walking it.
 */
void	event_unsubscribe(struct conn *cn);
/* Check a since value before replying: 0, or -1 with *cause. */
int	event_since_ok(struct gtd *, int64_t since, char **cause);

#endif /* GT_EVENT_H */
