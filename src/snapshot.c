/* SPDX-License-Identifier: MIT */
/*
 * snapshot: the timer glue of the snapshot file (protocol §6).  The
 * callback only calls snapshot_tick(), which compares the registry's
 * generation with the one last written and, when they differ, has the
 * registry back itself up into the file.  A failure is logged once and
 * retried on every tick until a write succeeds again; gtd never stops
 * over a cache.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include <ev.h>

#include "gt/gtd.h"
#include "gt/log.h"
#include "gt/registry.h"
#include "gt/snapshot.h"
#include "gt/xmalloc.h"

struct snapshot {
	struct gtd	*gtd;		/* weak */
	char		*path;		/* owned */
	ev_timer	 timer;
	uint64_t	 gen;		/* generation of the last write */
	bool		 failing;	/* the last write failed (logged) */
};

static void	snapshot_timer_cb(struct ev_loop *, ev_timer *, int);

static double
snapshot_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec * 1e3 + ts.tv_nsec / 1e6);
}

struct snapshot *
snapshot_new(struct gtd *g, const char *path, int64_t interval_ms,
    char **cause)
{
	struct snapshot	*s;

	s = xcalloc(1, sizeof *s);
	s->gtd = g;
	s->path = xstrdup(path);
	if (registry_snapshot(g->reg, s->path, cause) == -1) {
		free(s->path);
		free(s);
		return (NULL);
	}
	s->gen = registry_generation(g->reg);
	ev_timer_init(&s->timer, snapshot_timer_cb, interval_ms / 1000.0,
	    interval_ms / 1000.0);
	s->timer.data = s;
	ev_timer_start(g->loop, &s->timer);
	return (s);
}

void
snapshot_free(struct snapshot *s)
{
	if (s == NULL)
		return;
	ev_timer_stop(s->gtd->loop, &s->timer);
	/* The final state, so readers do not see children as running. */
	(void)snapshot_tick(s);		/* a failure is logged */
	free(s->path);
	free(s);
}

static void
snapshot_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)snapshot_tick(w->data);	/* a failure is logged */
}

int
snapshot_tick(struct snapshot *s)
{
	uint64_t	 gen = registry_generation(s->gtd->reg);
	char		*cause = NULL;
	double		 t0;

	if (gen == s->gen)
		return (0);
	t0 = snapshot_now();
	if (registry_snapshot(s->gtd->reg, s->path, &cause) == -1) {
		if (!s->failing)
			log_warnx("snapshot: %s (retrying every tick)", cause);
		s->failing = true;
		free(cause);
		return (-1);
	}
	if (s->failing)
		log_info("snapshot %s: written again", s->path);
	s->failing = false;
	s->gen = gen;
	log_debug("snapshot %s: written in %.2f ms", s->path,
	    snapshot_now() - t0);
	return (0);
}
