/* SPDX-License-Identifier: MIT */
/*
 * check_policy: the exit decision as a table of (restart type, success
 * codes, status, requested) -> (action, delay, gave_up), then restart
 * intensity over sequences of exit times.
 */
#include "config.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <check.h>

#include "gt/policy.h"
#include "gt/spec.h"
#include "gt/xmalloc.h"

#include "check_unit.h"

#define DELAY	250

static const struct {
	enum spec_restart	restart;
	int			code3;		/* 1: codes [0,3] */
	int			status;
	bool			requested;
	enum policy_action	action;
} exit_rows[] = {
	/* permanent: every exit gtd did not ask for restarts. */
	{ SPEC_PERMANENT, 0, W_EXITCODE(0, 0), false, POLICY_RESTART },
	{ SPEC_PERMANENT, 0, W_EXITCODE(1, 0), false, POLICY_RESTART },
	{ SPEC_PERMANENT, 0, W_EXITCODE(0, SIGKILL), false, POLICY_RESTART },
	{ SPEC_PERMANENT, 0, W_EXITCODE(0, SIGTERM), false, POLICY_RESTART },
	{ SPEC_PERMANENT, 0, W_EXITCODE(0, 0), true, POLICY_STOP },
	{ SPEC_PERMANENT, 0, W_EXITCODE(0, SIGTERM), true, POLICY_STOP },
	{ SPEC_PERMANENT, 0, W_EXITCODE(0, SIGKILL), true, POLICY_STOP },
	/* transient: only abnormal exits restart; a normal one deletes. */
	{ SPEC_TRANSIENT, 0, W_EXITCODE(0, 0), false, POLICY_DELETE },
	{ SPEC_TRANSIENT, 0, W_EXITCODE(1, 0), false, POLICY_RESTART },
	{ SPEC_TRANSIENT, 0, W_EXITCODE(3, 0), false, POLICY_RESTART },
	{ SPEC_TRANSIENT, 0, W_EXITCODE(0, SIGSEGV), false, POLICY_RESTART },
	{ SPEC_TRANSIENT, 0, W_EXITCODE(0, SIGTERM), false, POLICY_RESTART },
	{ SPEC_TRANSIENT, 1, W_EXITCODE(3, 0), false, POLICY_DELETE },
	{ SPEC_TRANSIENT, 1, W_EXITCODE(0, 0), false, POLICY_DELETE },
	{ SPEC_TRANSIENT, 1, W_EXITCODE(2, 0), false, POLICY_RESTART },
	{ SPEC_TRANSIENT, 0, W_EXITCODE(1, 0), true, POLICY_STOP },
	{ SPEC_TRANSIENT, 0, W_EXITCODE(0, SIGTERM), true, POLICY_STOP },
	/* temporary: never restarts; the row goes away. */
	{ SPEC_TEMPORARY, 0, W_EXITCODE(0, 0), false, POLICY_DELETE },
	{ SPEC_TEMPORARY, 0, W_EXITCODE(1, 0), false, POLICY_DELETE },
	{ SPEC_TEMPORARY, 0, W_EXITCODE(0, SIGKILL), false, POLICY_DELETE },
	{ SPEC_TEMPORARY, 0, W_EXITCODE(0, SIGTERM), true, POLICY_DELETE },
};

START_TEST(test_policy_exit_table)
{
	struct childspec	*s = spec_new();
	struct policy_hist	 h = { 0 };
	struct policy_exit	 e = { .status = exit_rows[_i].status,
	    .requested = exit_rows[_i].requested, .now_ms = 1000 };
	enum policy_action	 a;
	int64_t			 delay = -1;
	bool			 gave_up = true;

	s->restart = exit_rows[_i].restart;
	s->restart_delay_ms = DELAY;
	s->backoff_jitter = 0;
	if (exit_rows[_i].code3) {
		free(s->success_codes);
		s->success_codes = xcalloc(2, sizeof *s->success_codes);
		s->success_codes[1] = 3;
		s->nsuccess = 2;
	}
	a = policy_on_exit(s, &h, &e, &delay, &gave_up);
	ck_assert_msg(a == exit_rows[_i].action, "row %d: %s, want %s", _i,
	    policy_action_name(a), policy_action_name(exit_rows[_i].action));
	ck_assert(!gave_up);
	if (a == POLICY_RESTART) {
		ck_assert_int_eq(delay, DELAY);
		ck_assert_int_eq(h.n, 1);	/* the restart is recorded */
	} else {
		ck_assert_int_eq(delay, 0);
		ck_assert_int_eq(h.n, 0);	/* nothing else is */
	}
	policy_hist_free(&h);
	spec_free(s);
}
END_TEST

/*
 * Intensity: a sequence of crash times against max_restarts within
 * max_period_ms.  Each exit's expected action is one letter: R restart,
 * G give up (then on_give_up decides).
 */
static const struct {
	int		 max_restarts;
	int64_t		 period;
	int64_t		 at[8];
	const char	*expect;
} intensity_rows[] = {
	/* max_restarts restarts are made; the exit after them gives up. */
	{ 3, 1000, { 0, 1, 2, 3 }, "RRRG" },
	{ 1, 1000, { 0, 10 }, "RG" },
	/* The window slides: a restart period ms old no longer counts. */
	{ 2, 1000, { 0, 10, 999 }, "RRG" },
	{ 2, 1000, { 0, 10, 1000 }, "RRR" },
	{ 2, 1000, { 0, 10, 2000, 2001, 2002 }, "RRRRG" },
	/* The ring: [150, 50] then [150, 160]; 170 sees both in window. */
	{ 2, 100, { 0, 50, 150, 160, 170 }, "RRRRG" },
	/* Slow crashes never give up. */
	{ 2, 100, { 0, 100, 200, 300, 400, 500, 600, 700 }, "RRRRRRRR" },
	/* 0 = no limit. */
	{ 0, 1000, { 0, 0, 0, 0, 0, 0, 0, 0 }, "RRRRRRRR" },
};

START_TEST(test_policy_intensity_table)
{
	struct childspec	*s = spec_new();
	struct policy_hist	 h = { 0 };
	struct policy_exit	 e = { .status = W_EXITCODE(1, 0) };
	enum policy_action	 a;
	const char		*p;
	int64_t			 delay;
	bool			 gave_up;
	int			 i;

	s->max_restarts = intensity_rows[_i].max_restarts;
	s->max_period_ms = intensity_rows[_i].period;
	for (i = 0, p = intensity_rows[_i].expect; *p != '\0'; i++, p++) {
		e.now_ms = intensity_rows[_i].at[i];
		a = policy_on_exit(s, &h, &e, &delay, &gave_up);
		ck_assert_msg(a == (*p == 'R' ? POLICY_RESTART : POLICY_STOP),
		    "row %d exit %d at %lld: %s", _i, i,
		    (long long)e.now_ms, policy_action_name(a));
		ck_assert_msg(gave_up == (*p == 'G'), "row %d exit %d", _i, i);
	}
	policy_hist_free(&h);
	spec_free(s);
}
END_TEST

static const struct {
	enum spec_give_up	give_up;
	enum policy_action	action;
} give_up_rows[] = {
	{ SPEC_GIVE_UP_STOP, POLICY_STOP },
	{ SPEC_GIVE_UP_DELETE, POLICY_DELETE },
	{ SPEC_GIVE_UP_EXIT, POLICY_EXIT_DAEMON },
};

START_TEST(test_policy_give_up_actions)
{
	struct childspec	*s = spec_new();
	struct policy_hist	 h = { 0 };
	struct policy_exit	 e = { .status = W_EXITCODE(0, SIGSEGV),
	    .now_ms = 5000 };
	int64_t			 delay;
	bool			 gave_up;
	int			 i;

	s->max_restarts = 2;
	s->on_give_up = give_up_rows[_i].give_up;
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(policy_on_exit(s, &h, &e, &delay, &gave_up),
		    POLICY_RESTART);
	ck_assert_int_eq(policy_on_exit(s, &h, &e, &delay, &gave_up),
	    give_up_rows[_i].action);
	ck_assert(gave_up);
	ck_assert_int_eq(delay, 0);
	ck_assert_int_eq(h.n, 2);		/* a give-up is not a restart */
	/* Still intense: the next crash gives up again. */
	ck_assert_int_eq(policy_on_exit(s, &h, &e, &delay, &gave_up),
	    give_up_rows[_i].action);
	ck_assert(gave_up);
	policy_hist_free(&h);
	spec_free(s);
}
END_TEST

/* A requested stop never counts toward, nor trips, the intensity. */
START_TEST(test_policy_requested_ignores_intensity)
{
	struct childspec	*s = spec_new();
	struct policy_hist	 h = { 0 };
	struct policy_exit	 e = { .status = W_EXITCODE(1, 0) };
	int64_t			 delay;
	bool			 gave_up;

	s->max_restarts = 1;
	ck_assert_int_eq(policy_on_exit(s, &h, &e, &delay, &gave_up),
	    POLICY_RESTART);
	e.requested = true;
	ck_assert_int_eq(policy_on_exit(s, &h, &e, &delay, &gave_up),
	    POLICY_STOP);
	ck_assert(!gave_up);
	ck_assert_int_eq(h.n, 1);
	policy_hist_free(&h);
	spec_free(s);
}
END_TEST

START_TEST(test_policy_unlimited_keeps_no_history)
{
	struct childspec	*s = spec_new();
	struct policy_hist	 h = { 0 };
	struct policy_exit	 e = { .status = W_EXITCODE(1, 0) };
	int64_t			 delay;
	bool			 gave_up;
	int			 i;

	s->max_restarts = 0;
	s->restart_delay_ms = 0;
	for (i = 0; i < 10000; i++) {
		e.now_ms = i / 100;
		ck_assert_int_eq(policy_on_exit(s, &h, &e, &delay, &gave_up),
		    POLICY_RESTART);
		ck_assert(!gave_up);
		ck_assert_int_eq(delay, 0);
	}
	ck_assert_ptr_null(h.at);
	ck_assert_int_eq(h.n, 0);
	policy_hist_free(&h);
	spec_free(s);
}
END_TEST

START_TEST(test_policy_hist_free_and_names)
{
	struct policy_hist	h = { 0 };

	policy_hist_free(&h);			/* empty is fine */
	h.at = xcalloc(4, sizeof *h.at);
	h.size = h.n = 4;
	h.head = 1;
	policy_hist_free(&h);
	ck_assert_ptr_null(h.at);
	ck_assert_int_eq(h.size, 0);
	ck_assert_int_eq(h.n, 0);
	ck_assert_int_eq(h.head, 0);
	policy_hist_free(&h);			/* and twice */
	ck_assert_str_eq(policy_action_name(POLICY_RESTART), "restart");
	ck_assert_str_eq(policy_action_name(POLICY_STOP), "stop");
	ck_assert_str_eq(policy_action_name(POLICY_DELETE), "delete");
	ck_assert_str_eq(policy_action_name(POLICY_EXIT_DAEMON),
	    "exit_daemon");
}
END_TEST

/*
 * Backoff: restart_delay_ms * factor^consecutive, capped at max_ms, the
 * count reset by a run of reset_after_ms, then +-jitter (rand01 0.5 = none).
 */
static const struct {
	int64_t		 delay, max_ms, reset_ms;
	double		 factor, jitter;
	int64_t		 ran[8];	/* ran_ms of each exit; -1 ends */
	double		 rand01[8];
	int64_t		 want[8];
} backoff_rows[] = {
	{ 100, 1000, 10000, 2, 0, { 0, 0, 0, 0, 0, 0, -1 }, { 0 },
	    { 100, 200, 400, 800, 1000, 1000 } },
	/* A long enough run starts the ladder again. */
	{ 100, 1000, 10000, 2, 0, { 0, 0, 0, 10000, 0, 9999, 0, -1 }, { 0 },
	    { 100, 200, 400, 100, 200, 400, 800 } },
	{ 100, 30000, 10000, 1, 0, { 0, 0, 0, -1 }, { 0 }, { 100, 100, 100 } },
	{ 0, 30000, 10000, 2, 0, { 0, 0, 0, -1 }, { 0 }, { 0, 0, 0 } },
	{ 100, 250, 10000, 3, 0, { 0, 0, 0, -1 }, { 0 }, { 100, 250, 250 } },
	/* Jitter: +-jitter * delay, from rand01 in [0, 1). */
	{ 1000, 30000, 10000, 1, 0.1, { 0, 0, 0, 0, -1 },
	    { 0.5, 0, 0.75, 0.25 }, { 1000, 900, 1050, 950 } },
	{ 1000, 30000, 10000, 1, 1, { 0, 0, -1 }, { 0, 0.5 }, { 0, 1000 } },
};

START_TEST(test_policy_backoff_table)
{
	struct childspec	*s = spec_new();
	struct policy_hist	 h = { 0 };
	struct policy_exit	 e = { .status = W_EXITCODE(1, 0) };
	int64_t			 delay;
	bool			 gave_up;
	int			 i;

	s->max_restarts = 0;
	s->restart_delay_ms = backoff_rows[_i].delay;
	s->backoff_max_ms = backoff_rows[_i].max_ms;
	s->backoff_reset_ms = backoff_rows[_i].reset_ms;
	s->backoff_factor = backoff_rows[_i].factor;
	s->backoff_jitter = backoff_rows[_i].jitter;
	for (i = 0; i < 8 && backoff_rows[_i].ran[i] != -1; i++) {
		e.ran_ms = backoff_rows[_i].ran[i];
		e.rand01 = backoff_rows[_i].jitter == 0 ? 0.5 :
		    backoff_rows[_i].rand01[i];
		e.restart_count = i;
		e.now_ms = i;
		ck_assert_int_eq(policy_on_exit(s, &h, &e, &delay, &gave_up),
		    POLICY_RESTART);
		ck_assert_msg(delay == backoff_rows[_i].want[i],
		    "row %d exit %d: delay %lld, want %lld", _i, i,
		    (long long)delay, (long long)backoff_rows[_i].want[i]);
	}
	policy_hist_free(&h);
	ck_assert_int_eq(h.consecutive, 0);
	spec_free(s);
}
END_TEST

/* A long crash loop keeps a sane delay (no overflow past max_ms). */
START_TEST(test_policy_backoff_long_loop)
{
	struct childspec	*s = spec_new();
	struct policy_hist	 h = { 0 };
	struct policy_exit	 e = { .status = W_EXITCODE(1, 0),
	    .rand01 = 0.5 };
	int64_t			 delay;
	bool			 gave_up;
	int			 i;

	s->max_restarts = 0;
	s->backoff_factor = 1000;
	s->backoff_max_ms = SPEC_MAX_MS;
	s->restart_delay_ms = SPEC_MAX_MS / 2;
	for (i = 0; i < 200; i++) {
		ck_assert_int_eq(policy_on_exit(s, &h, &e, &delay, &gave_up),
		    POLICY_RESTART);
		ck_assert(delay >= 0 && delay <= SPEC_MAX_MS);
	}
	ck_assert(delay == SPEC_MAX_MS);
	policy_hist_free(&h);
	spec_free(s);
}
END_TEST

/*
 * The on_exit ladder (protocol §4): the exit numbered restart_count + 1
 * takes the first step whose upto (inclusive) is at least that, or that
 * has none; past the last step the child stops.  It replaces the delay,
 * backoff and intensity rules.  Letters: R restart, S stop, D delete,
 * X exit_daemon, G stop after the last step (gave up).
 */
static const struct {
	struct spec_step	 steps[4];
	size_t			 nsteps;
	const char		*expect;	/* exits 1, 2, ... */
	int64_t			 delays[8];
} ladder_rows[] = {
	{ { { 3, SPEC_ACT_RESTART, 0, false },
	    { 4, SPEC_ACT_RESTART, 1000, false },
	    { 0, SPEC_ACT_EXIT, 0, false } }, 3, "RRRRXX", { 0, 0, 0, 1000 } },
	{ { { 2, SPEC_ACT_RESTART, 50, false } }, 1, "RRGG", { 50, 50 } },
	{ { { 1, SPEC_ACT_STOP, 0, false } }, 1, "SG", { 0 } },
	{ { { 0, SPEC_ACT_DELETE, 0, false } }, 1, "DDD", { 0 } },
	{ { { 1, SPEC_ACT_RESTART, 7, false }, { 2, SPEC_ACT_STOP, 0, false },
	    { 0, SPEC_ACT_RESTART, 9, false } }, 3, "RSRR", { 7, 0, 9, 9 } },
};

START_TEST(test_policy_ladder_table)
{
	struct childspec	*s = spec_new();
	struct policy_hist	 h = { 0 };
	struct policy_exit	 e = { .status = W_EXITCODE(1, 0) };
	enum policy_action	 a, want;
	const char		*p;
	int64_t			 delay;
	bool			 gave_up;
	int			 i;

	s->max_restarts = 1;		/* the ladder ignores intensity */
	s->on_give_up = SPEC_GIVE_UP_DELETE;
	s->on_exit = xcalloc(ladder_rows[_i].nsteps, sizeof *s->on_exit);
	memcpy(s->on_exit, ladder_rows[_i].steps, ladder_rows[_i].nsteps *
	    sizeof *s->on_exit);
	s->non_exit = ladder_rows[_i].nsteps;
	for (i = 0, p = ladder_rows[_i].expect; *p != '\0'; i++, p++) {
		e.restart_count = i;	/* as if every exit so far restarted */
		e.now_ms = i;
		a = policy_on_exit(s, &h, &e, &delay, &gave_up);
		switch (*p) {
		case 'R':
			want = POLICY_RESTART;
			break;
		case 'D':
			want = POLICY_DELETE;
			break;
		case 'X':
			want = POLICY_EXIT_DAEMON;
			break;
		default:
			want = POLICY_STOP;
			break;
		}
		ck_assert_msg(a == want, "row %d exit %d: %s", _i, i + 1,
		    policy_action_name(a));
		ck_assert_msg(gave_up == (*p == 'G'), "row %d exit %d: gave_up",
		    _i, i + 1);
		if (a == POLICY_RESTART)
			ck_assert_msg(delay == ladder_rows[_i].delays[i],
			    "row %d exit %d: delay %lld", _i, i + 1,
			    (long long)delay);
	}
	policy_hist_free(&h);
	spec_free(s);
}
END_TEST

/* The ladder never overrides requested stops or the restart type. */
START_TEST(test_policy_ladder_respects_type)
{
	struct childspec	*s = spec_new();
	struct policy_hist	 h = { 0 };
	struct policy_exit	 e = { .status = W_EXITCODE(0, 0) };
	int64_t			 delay;
	bool			 gave_up;

	s->on_exit = xcalloc(1, sizeof *s->on_exit);
	s->on_exit[0].action = SPEC_ACT_RESTART;
	s->non_exit = 1;
	s->restart = SPEC_TRANSIENT;
	ck_assert_int_eq(policy_on_exit(s, &h, &e, &delay, &gave_up),
	    POLICY_DELETE);
	s->restart = SPEC_TEMPORARY;
	e.status = W_EXITCODE(1, 0);
	ck_assert_int_eq(policy_on_exit(s, &h, &e, &delay, &gave_up),
	    POLICY_DELETE);
	s->restart = SPEC_PERMANENT;
	e.requested = true;
	ck_assert_int_eq(policy_on_exit(s, &h, &e, &delay, &gave_up),
	    POLICY_STOP);
	ck_assert(!gave_up);
	policy_hist_free(&h);
	spec_free(s);
}
END_TEST

/*
 * An OOM kill is a reason of its own (protocol §9.2): a step with "when":
 * "oom" applies to OOM kills only, in ladder order with the others;
 * other exits pass over it.
 */
START_TEST(test_policy_ladder_oom)
{
	struct childspec	*s = spec_new();
	struct policy_hist	 h = { 0 };
	struct policy_exit	 e = { .status = W_EXITCODE(0, SIGKILL) };
	int64_t			 delay;
	bool			 gave_up;

	s->on_exit = xcalloc(3, sizeof *s->on_exit);
	s->on_exit[0] = (struct spec_step){ .upto = 1, .action =
	    SPEC_ACT_RESTART, .delay_ms = 5000, .oom = true };
	s->on_exit[1] = (struct spec_step){ .upto = 0, .action =
	    SPEC_ACT_STOP, .oom = true };
	s->on_exit[2] = (struct spec_step){ .upto = 0, .action =
	    SPEC_ACT_RESTART, .delay_ms = 10 };
	s->non_exit = 3;
	/* A plain SIGKILL: the oom steps do not apply. */
	ck_assert_int_eq(policy_on_exit(s, &h, &e, &delay, &gave_up),
	    POLICY_RESTART);
	ck_assert_int_eq(delay, 10);
	/* The first OOM kill: its step, with its delay. */
	e.oom = true;
	ck_assert_int_eq(policy_on_exit(s, &h, &e, &delay, &gave_up),
	    POLICY_RESTART);
	ck_assert_int_eq(delay, 5000);
	ck_assert(!gave_up);
	/* Past its upto: the next oom step. */
	e.restart_count = 1;
	ck_assert_int_eq(policy_on_exit(s, &h, &e, &delay, &gave_up),
	    POLICY_STOP);
	ck_assert(!gave_up);
	/* Without any oom step, an OOM kill takes the common steps. */
	s->on_exit[0].oom = s->on_exit[1].oom = false;
	s->on_exit[1].upto = 2;
	s->on_exit[0].upto = 1;
	e.restart_count = 2;
	ck_assert_int_eq(policy_on_exit(s, &h, &e, &delay, &gave_up),
	    POLICY_RESTART);
	ck_assert_int_eq(delay, 10);
	spec_free(s);
}
END_TEST


Suite *
policy_suite(void)
{
	Suite	*s = suite_create("policy");
	TCase	*tc;

	tc = tcase_create("exit");
	tcase_add_loop_test(tc, test_policy_exit_table, 0, NROWS(exit_rows));
	suite_add_tcase(s, tc);

	tc = tcase_create("intensity");
	tcase_add_loop_test(tc, test_policy_intensity_table, 0,
	    NROWS(intensity_rows));
	tcase_add_loop_test(tc, test_policy_give_up_actions, 0,
	    NROWS(give_up_rows));
	tcase_add_test(tc, test_policy_requested_ignores_intensity);
	tcase_add_test(tc, test_policy_unlimited_keeps_no_history);
	tcase_add_test(tc, test_policy_hist_free_and_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("backoff");
	tcase_add_loop_test(tc, test_policy_backoff_table, 0,
	    NROWS(backoff_rows));
	tcase_add_test(tc, test_policy_backoff_long_loop);
	suite_add_tcase(s, tc);

	tc = tcase_create("ladder");
	tcase_add_loop_test(tc, test_policy_ladder_table, 0,
	    NROWS(ladder_rows));
	tcase_add_test(tc, test_policy_ladder_respects_type);
	tcase_add_test(tc, test_policy_ladder_oom);
	suite_add_tcase(s, tc);
	return (s);
}
