/* SPDX-License-Identifier: MIT */
/*
 * gtd-sd: tell the service manager how gtd is doing.  READY=1 (with the
 * first STATUS=) when the zone is up, STATUS= refreshed from a 1 s timer
 * rather than on every state change (a restart storm must not become a
 * datagram storm), STOPPING=1 when shutdown begins, WATCHDOG=1 every
 * half watchdog interval.  A datagram that does not fit is dropped, never
 * waited for; a failing socket is logged once, not on every tick.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gt/child.h"
#include "gt/gtd-sd.h"
#include "gt/gtd.h"
#include "gt/log.h"
#include "gt/sd.h"
#include "gt/xmalloc.h"

struct gtd_sd {
	struct gtd		*gtd;		/* weak: the owner */
	struct sd_notifier	*n;		/* owned */
	/* Every GTD_SD_STATUS_S, once ready. */
	ev_timer		 status;
	/* Every WATCHDOG_USEC / 2, or idle. */
	ev_timer		 watchdog;
	char			*status_text;	/* owned: last STATUS= sent */
	bool			 ready;		/* READY=1 was sent */
	uint64_t		 usec;		/* WATCHDOG_USEC, or 0 */
	int			 last_errno;	/* of the last failure logged */
};

static int	gtd_sd_send(struct gtd_sd *, const char *);
static int	gtd_sd_update(struct gtd_sd *, const char *);
static void	gtd_sd_status_cb(struct ev_loop *, ev_timer *, int);
static void	gtd_sd_watchdog_cb(struct ev_loop *, ev_timer *, int);

void
gtd_sd_init(struct gtd *g)
{
	struct sd_notifier	*n;
	struct gtd_sd		*sd;
	uint64_t		 usec;

	if (sd_watchdog_usec(&usec) == -1)
		log_warn("WATCHDOG_USEC/WATCHDOG_PID ignored");
	if ((n = sd_notifier_new()) == NULL) {
		if (errno != ENOENT)	/* ENOENT: no service manager */
			log_warn("NOTIFY_SOCKET ignored");
		return;
	}
	sd = xcalloc(1, sizeof *sd);
	sd->gtd = g;
	sd->n = n;
	ev_init(&sd->status, gtd_sd_status_cb);
	sd->status.data = sd;
	ev_init(&sd->watchdog, gtd_sd_watchdog_cb);
	sd->watchdog.data = sd;
	sd->usec = usec;
	if (usec > 0) {
		/* Twice per interval, as sd_watchdog_enabled(3) advises. */
		ev_timer_set(&sd->watchdog, usec / 2e6, usec / 2e6);
		ev_timer_start(g->loop, &sd->watchdog);
		log_debug("watchdog: WATCHDOG=1 every %" PRIu64 " us",
		    usec / 2);
	}
	g->sd = sd;
}

void
gtd_sd_free(struct gtd_sd *sd)
{
	if (sd == NULL)
		return;
	ev_timer_stop(sd->gtd->loop, &sd->status);
	ev_timer_stop(sd->gtd->loop, &sd->watchdog);
	sd_notifier_free(sd->n);
	free(sd->status_text);
	free(sd);
}

/* One datagram; 0, or -1 after logging (once per errno in a row). */
static int
gtd_sd_send(struct gtd_sd *sd, const char *msg)
{
	if (sd_notify_send(sd->n, msg) == 0) {
		sd->last_errno = 0;
		return (0);
	}
	if (errno == EAGAIN)
		log_debug("NOTIFY_SOCKET %s: queue full, dropped %.*s",
		    sd_notifier_address(sd->n), (int)strcspn(msg, "\n"), msg);
	else if (errno != sd->last_errno)
		log_warn("NOTIFY_SOCKET %s", sd_notifier_address(sd->n));
	sd->last_errno = errno;
	return (-1);
}

/*
 * Send prefix plus the STATUS= line, or (prefix NULL) the STATUS= line
 * alone if the summary changed.  0 when sent or nothing to send, -1 when
 * the datagram was lost (logged).
 */
static int
gtd_sd_update(struct gtd_sd *sd, const char *prefix)
{
	char	*text, *msg;
	int	 rv;

	text = gtd_sd_status(sd->gtd);
	if (prefix == NULL && sd->status_text != NULL &&
	    strcmp(text, sd->status_text) == 0) {
		free(text);
		return (0);
	}
	xasprintf(&msg, "%s%sSTATUS=%s", prefix != NULL ? prefix : "",
	    prefix != NULL ? "\n" : "", text);
	if ((rv = gtd_sd_send(sd, msg)) == 0) {
		free(sd->status_text);
		sd->status_text = text;
	} else
		free(text);
	free(msg);
	return (rv);
}

void
gtd_sd_ready(struct gtd *g)
{
	struct gtd_sd	*sd = g->sd;

	if (sd == NULL)
		return;
	sd->ready = gtd_sd_update(sd, "READY=1") == 0;
	ev_timer_set(&sd->status, GTD_SD_STATUS_S, GTD_SD_STATUS_S);
	ev_timer_start(g->loop, &sd->status);
}

void
gtd_sd_stopping(struct gtd *g)
{
	if (g->sd == NULL)
		return;
	/* (void): logged inside; systemd sees the exit anyway */
	(void)gtd_sd_update(g->sd, "STOPPING=1");
}

static void
gtd_sd_status_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct gtd_sd	*sd = w->data;

	/* A dropped READY=1 would leave systemd waiting: send it again. */
	if (!sd->ready && !sd->gtd->shut->active)
		sd->ready = gtd_sd_update(sd, "READY=1") == 0;
	else
		(void)gtd_sd_update(sd, NULL);	/* (void): retried next tick */
}

static void
gtd_sd_watchdog_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct gtd_sd	*sd = w->data;

	/* (void): a failure is logged inside; the next tick retries */
	(void)gtd_sd_send(sd, "WATCHDOG=1");
}

char *
gtd_sd_status(struct gtd *g)
{
	struct child	*c;
	int		 count[CHILD_NSTATES] = { 0 }, n = 0, i;
	char		*s, *t;

	TAILQ_FOREACH(c, &g->tab->children, entry) {
		if (c->flags & CHILD_DEAD)
			continue;
		count[c->state]++;
		n++;
	}
	xasprintf(&s, "%s%d %s", g->shut->active ? "shutting down, " : "",
	    n, n == 1 ? "child" : "children");
	for (i = 0; i < CHILD_NSTATES; i++) {
		if (count[i] == 0)
			continue;
		xasprintf(&t, "%s%s %d %s", s, strchr(s, ':') == NULL ? ":" :
		    ",", count[i], child_state_name(i));
		free(s);
		s = t;
	}
	return (s);
}

void
gtd_sd_env(struct gtd *g, bool on)
{
	struct gtd_sd	*sd = g->sd;
	char		 buf[32];

	if (sd == NULL)
		return;
	if (!on) {
		(void)unsetenv("NOTIFY_SOCKET");
		(void)unsetenv("WATCHDOG_USEC");
		(void)unsetenv("WATCHDOG_PID");
		return;
	}
	(void)setenv("NOTIFY_SOCKET", sd_notifier_address(sd->n), 1);
	if (sd->usec == 0)
		return;
	snprintf(buf, sizeof buf, "%" PRIu64, sd->usec);
	(void)setenv("WATCHDOG_USEC", buf, 1);
	snprintf(buf, sizeof buf, "%d", (int)getpid());
	(void)setenv("WATCHDOG_PID", buf, 1);
}
