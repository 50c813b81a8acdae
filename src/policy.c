/* SPDX-License-Identifier: MIT */
/*
 * policy: the exit decision (protocol §4 "Which exits restart" and
 * "Intensity").  Pure: the caller passes the spec, the restart history
 * and the exit; nothing here touches a process or logs.
 */
#include "config.h"

#include <stdlib.h>

#include "gt/policy.h"
#include "gt/xmalloc.h"

static enum policy_action	policy_give_up(const struct childspec *);
static enum policy_action	policy_ladder(const struct childspec *,
				    const struct policy_exit *, int64_t *,
				    bool *);
static int64_t			policy_backoff(const struct childspec *,
				    struct policy_hist *,
				    const struct policy_exit *);
static bool			policy_intense(const struct childspec *,
				    struct policy_hist *, int64_t);
static void			policy_record(const struct childspec *,
				    struct policy_hist *, int64_t);

enum policy_action
policy_on_exit(const struct childspec *s, struct policy_hist *h,
    const struct policy_exit *e, int64_t *delay_ms, bool *gave_up)
{
	*gave_up = false;
	*delay_ms = 0;
	if (e->requested)
		return (s->restart == SPEC_TEMPORARY ? POLICY_DELETE :
		    POLICY_STOP);
	switch (s->restart) {
	case SPEC_TEMPORARY:
		return (POLICY_DELETE);
	case SPEC_TRANSIENT:
		if (spec_exit_is_success(s, e->status))
			return (POLICY_DELETE);
		break;
	case SPEC_PERMANENT:
		break;
	}
	if (s->on_exit != NULL)
		return (policy_ladder(s, e, delay_ms, gave_up));
	if (policy_intense(s, h, e->now_ms)) {
		*gave_up = true;
		return (policy_give_up(s));
	}
	policy_record(s, h, e->now_ms);
	*delay_ms = policy_backoff(s, h, e);
	return (POLICY_RESTART);
}

static enum policy_action
policy_ladder(const struct childspec *s, const struct policy_exit *e,
    int64_t *delay_ms, bool *gave_up)
{
	const struct spec_step	*st;
	int64_t			 n = (int64_t)e->restart_count + 1;
	size_t			 i;

	for (i = 0; i < s->non_exit; i++) {
		st = &s->on_exit[i];
		if (st->upto != 0 && st->upto < n)
			continue;
		if (st->oom && !e->oom)	/* a step for OOM kills only */
			continue;
		switch (st->action) {
		case SPEC_ACT_RESTART:
			*delay_ms = st->delay_ms;
			return (POLICY_RESTART);
		case SPEC_ACT_STOP:
			return (POLICY_STOP);
		case SPEC_ACT_DELETE:
			return (POLICY_DELETE);
		case SPEC_ACT_EXIT:
			return (POLICY_EXIT_DAEMON);
		}
	}
	*gave_up = true;		/* past the last step */
	return (POLICY_STOP);
}

/* restart_delay_ms * factor^consecutive, capped, with +-jitter. */
static int64_t
policy_backoff(const struct childspec *s, struct policy_hist *h,
    const struct policy_exit *e)
{
	double	d = (double)s->restart_delay_ms;
	int	i;

	if (e->ran_ms >= s->backoff_reset_ms)
		h->consecutive = 0;
	for (i = 0; i < h->consecutive && d < (double)s->backoff_max_ms; i++)
		d *= s->backoff_factor;
	if (d > (double)s->backoff_max_ms)
		d = (double)s->backoff_max_ms;
	d *= 1.0 + s->backoff_jitter * (2.0 * e->rand01 - 1.0);
	if (h->consecutive < 64)
		h->consecutive++;
	return (d < 0 ? 0 : (int64_t)d);
}

static enum policy_action
policy_give_up(const struct childspec *s)
{
	switch (s->on_give_up) {
	case SPEC_GIVE_UP_DELETE:
		return (POLICY_DELETE);
	case SPEC_GIVE_UP_EXIT:
		return (POLICY_EXIT_DAEMON);
	case SPEC_GIVE_UP_STOP:
		break;
	}
	return (POLICY_STOP);
}

/* Have max_restarts restarts been made within max_period_ms of now? */
static bool
policy_intense(const struct childspec *s, struct policy_hist *h, int64_t now)
{
	return (policy_intensity_full(h, s->max_restarts, s->max_period_ms,
	    now));
}

static void
policy_record(const struct childspec *s, struct policy_hist *h, int64_t now)
{
	policy_intensity_record(h, s->max_restarts, now);
}

bool
policy_intensity_full(const struct policy_hist *h, int max,
    int64_t period_ms, int64_t now)
{
	int	i, n = 0;

	if (max <= 0)
		return (false);
	for (i = 0; i < h->n; i++)
		if (now - h->at[i] < period_ms)
			n++;
	return (n >= max);
}

void
policy_intensity_record(struct policy_hist *h, int max, int64_t now)
{
	if (max <= 0)
		return;
	if (h->size != max) {		/* first use, or a new spec */
		free(h->at);
		h->size = max;
		h->at = xcalloc(h->size, sizeof *h->at);
		h->n = h->head = 0;
	}
	h->at[h->head] = now;
	h->head = (h->head + 1) % h->size;
	if (h->n < h->size)
		h->n++;
}

void
policy_hist_free(struct policy_hist *h)
{
	free(h->at);
	h->at = NULL;
	h->size = h->n = h->head = h->consecutive = 0;
}

const char *
policy_action_name(enum policy_action a)
{
	switch (a) {
	case POLICY_RESTART:
		return ("restart");
	case POLICY_STOP:
		return ("stop");
	case POLICY_DELETE:
		return ("delete");
	case POLICY_EXIT_DAEMON:
		return ("exit_daemon");
	}
	return ("unknown");
}
