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
struct ev_loop;
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
	EVENT_REEXEC,		/* gtd re-executed (no name) */
	EVENT_NKINDS
};
#define EVENT_MASK(k)		(1U << (k))
#define EVENT_MASK_DEFAULT	(EVENT_MASK(EVENT_NKINDS) - 1 - \
				    EVENT_MASK(EVENT_ATTR) - \
				    EVENT_MASK(EVENT_LOG))
#define EVENT_RING		4096	/* events kept for since */

struct events;

/* The ring and the subscribers; events are stamped with loop's time. */
struct events	*events_new(struct ev_loop *);
void		 events_free(struct events *);	/* NULL is fine */
const char	*event_kind_name(enum event_kind);
int		 event_kind_parse(const char *, enum event_kind *);
/* The seq of the newest event (0: none yet). */
uint64_t	 event_seq(const struct events *);

/*
 * Does any subscriber want this kind of event for name?  (Attr and log
 * events are built only then: they are frequent.)
 */
bool	event_wanted(struct events *, enum event_kind, const char *name);

/* Record and deliver an event; fields (stolen, may be NULL) are added. */
void	event_emit(struct events *, enum event_kind, const char *name,
	    struct json_t *fields);

/* The events a child's state change means (child.c calls this). */
void	event_child_state(struct events *, struct child *,
	    enum child_state old);
void	event_child_gave_up(struct events *, struct child *,
	    const char *action);
void	event_child_hook_done(struct events *, struct child *, int status);
void	event_child_log(struct events *, struct child *, const char *stream,
	    int64_t at, const char *line, size_t len);

/*
 * Make cn a subscriber of the kinds in mask (added to those it has), for
 * the names in names (a JSON array of at most GT_SUBSCRIBE_NAMES_MAX
 * strings, copied compactly; NULL = every name; either replaces the names
 * it had), and replay the kept events after since (since < 0: none).
 * -1 with *cause when since is older than the ring.  cn is kept open
 * past its EOF from now on (conn_keep_open).
 */
int	event_subscribe(struct events *, struct conn *cn, unsigned mask,
	    struct json_t *names, int64_t since, char **cause);
/*
 * May cn follow name's log lines?  0 when it already does or has room
 * (fewer than GT_FOLLOWS_MAX names), else -1.
 */
int	event_follow_ok(struct events *, struct conn *cn, const char *name);
/* Follow name's log lines on cn (logs follow): once per name, bounded. */
void	event_follow(struct events *, struct conn *cn, const char *name);
/*
 * Free cn's subscription, if it has one.  Only when the transport frees
 * cn (conn_handler.gone): until then a closed connection's subscription
 * stays in the list, inert, because an event delivery up the stack may
 * be walking it.
 */
void	event_unsubscribe(struct events *, struct conn *cn);
/* Check a since value before replying: 0, or -1 with *cause. */
int	event_since_ok(const struct events *, int64_t since, char **cause);

/*
 * Re-exec (reexec.c): {"seq", "ring": [lines, oldest first]}, a new
 * reference; and back.  event_restore takes seq and the lines it
 * understands (each an event line of this format), -1 if seq is not a
 * number.
 */
struct json_t	*event_save(const struct events *);
/*
 * cn's subscription and follows ({"mask", "all", "names", "follow"}), a
 * new reference, or NULL: none; and back onto a new connection.
 */
struct json_t	*event_sub_save(struct events *, struct conn *cn);
void		 event_sub_restore(struct events *, struct conn *cn,
		    const struct json_t *);
int		 event_restore(struct events *, const struct json_t *);

#endif /* GT_EVENT_H */
