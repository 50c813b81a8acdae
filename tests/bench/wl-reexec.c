/* SPDX-License-Identifier: MIT */
/*
 * wl-reexec: gtd replaces its program in place (reexec) with N children
 * of bench-idle, each with attrs, and a ping-pong probe running on a
 * connection of its own meanwhile.  Figures: the time from the request to
 * the new program's reply, and the probe's p99 and worst round trip over
 * that interval (its connection is handed over: no reconnect).  The run
 * dies if a child was restarted, changed pid or lost its attrs.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/bench/bench.h"

#define RX_WAIT_SECS	120.0

static void
rx_fig(struct bctx *b, const char *name, const char *unit, const double *v,
    enum target t, double lim)
{
	struct figure	f = { .name = name, .unit = unit, .v = v,
	    .n = b->reps, .target = t, .limit = lim };

	report(b, &f);
}

/* Every child still has its pid, its attr, and no restart. */
static void
rx_verify(struct sess *s)
{
	char	*l;
	int	 i;

	for (i = 0; i < s->n; i++) {
		l = bconn_req(s->ctl, 10.0, "{\"op\":\"info\",\"name\":"
		    "\"%c%d\"}", s->prefix, i);
		if (l == NULL || bench_json_int(l, "pid", -1) != s->pids[i] ||
		    bench_json_int(l, "restart_count", -1) != 0 ||
		    strstr(l, "\"slot\":") == NULL)
			bench_die("reexec: child %c%d changed: %s", s->prefix,
			    i, l != NULL ? l : "no reply");
	}
}

static void
rx_run(struct bctx *b, double *ms, double *p99, double *worst)
{
	struct sess	s;
	char		fields[4200];
	double		t0;
	long		want;
	int		i;

	snprintf(fields, sizeof fields, "\"cmd\":[\"%s\"]", b->idle);
	sess_gtd(&s, b, "gtd", NULL, "[\"ready\"]", 'x', b->nchild);
	sess_start(&s, 0, b->nchild, fields);
	sess_until(&s, sess_all_ready, b->nchild, RX_WAIT_SECS, "start");
	for (i = 0; i < b->nchild; i++)
		sess_queue(&s, "{\"op\":\"setattr\",\"name\":\"x%d\","
		    "\"attrs\":{\"slot\":%d,\"role\":\"worker\"}}", i, i);
	sess_until(&s, sess_all_replied, s.sent, RX_WAIT_SECS, "setattr");
	sess_ping_start(&s, s.srv.sock);
	sess_pump(&s, 100);
	s.nlat = 0;			/* only the round trips of the reexec */
	t0 = bench_now();
	sess_queue(&s, "{\"op\":\"reexec\"}");
	want = s.sent;
	sess_until(&s, sess_all_replied, want, RX_WAIT_SECS, "reexec");
	*ms = (bench_now() - t0) * 1e3;
	sess_pump(&s, 20);		/* the probe's round trip in flight */
	if (s.nlat == 0)
		bench_die("reexec: no ping answered");
	*p99 = bench_quantile(s.lat, s.nlat, 0.99) / 1e3;
	*worst = bench_quantile(s.lat, s.nlat, 1.0) / 1e3;
	sess_ping_stop(&s);
	rx_verify(&s);
	sess_close(&s);
}

void
wl_reexec(struct bctx *b)
{
	double	ms[BENCH_MAXREPS], p99[BENCH_MAXREPS], worst[BENCH_MAXREPS];
	char	name[64];
	int	run;

	for (run = 0; run < b->reps; run++) {
		bench_note("W-reexec run %d/%d", run + 1, b->reps);
		rx_run(b, &ms[run], &p99[run], &worst[run]);
	}
	report_section("W-reexec: reexec of gtd with %d children of "
	    "bench-idle, 2 attrs each; a ping-pong probe on its own "
	    "connection meanwhile (handed over, never reconnected)",
	    b->nchild);
	snprintf(name, sizeof name, "W-reexec %d time", b->nchild);
	rx_fig(b, name, "ms", ms, TARGET_VALUE_LT, 10000);
	rx_fig(b, "W-reexec ping p99", "ms", p99, TARGET_VALUE_LT, 50);
	rx_fig(b, "W-reexec ping max", "ms", worst, TARGET_NONE, 0);
}
