/* SPDX-License-Identifier: MIT */
/*
 * check_plan: the decision after a child's process is gone, as a table of
 * the row's flags -> (step, action), with the policy consulted only when
 * the rules before it do not decide; then a give-up passed through.
 */
#include "config.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/wait.h>

#include <check.h>

#include "gt/plan.h"
#include "gt/policy.h"
#include "gt/spec.h"

#include "check_unit.h"

#define DELAY	250

/* A permanent child that exits 1 unasked: the policy says restart. */
static const struct {
	struct plan_in		in;
	enum plan_step		step;
	enum policy_action	action;
	bool			policy;		/* the policy was consulted */
} plan_rows[] = {
	{ { 0 }, PLAN_ACTION, POLICY_RESTART, true },
	{ { .bounce = true }, PLAN_BOUNCE, POLICY_STOP, false },
	{ { .held = true }, PLAN_HOLD, POLICY_STOP, false },
	{ { .bounce = true, .held = true }, PLAN_BOUNCE, POLICY_STOP, false },
	/* A row that goes, or a gtd that stops, neither bounces nor holds. */
	{ { .bounce = true, .delete_after = true }, PLAN_ACTION,
	    POLICY_DELETE, false },
	{ { .held = true, .delete_after = true }, PLAN_ACTION,
	    POLICY_DELETE, false },
	{ { .bounce = true, .stopping = true }, PLAN_ACTION,
	    POLICY_RESTART, true },
	{ { .held = true, .stopping = true }, PLAN_ACTION,
	    POLICY_RESTART, true },
	{ { .delete_after = true }, PLAN_ACTION, POLICY_DELETE, false },
	/* A failed start: never ready leaves no row; else on request stops. */
	{ { .failed = true }, PLAN_ACTION, POLICY_DELETE, false },
	{ { .failed = true, .manual = true }, PLAN_ACTION, POLICY_DELETE,
	    false },
	{ { .failed = true, .ever_ready = true, .manual = true },
	    PLAN_ACTION, POLICY_STOP, false },
	{ { .failed = true, .ever_ready = true }, PLAN_ACTION,
	    POLICY_RESTART, true },
	{ { .ever_ready = true, .manual = true }, PLAN_ACTION,
	    POLICY_RESTART, true },
};

START_TEST(test_plan_exit_table)
{
	struct childspec	*s = spec_new();
	struct policy_hist	 h = { 0 };
	struct policy_exit	 e = { .status = W_EXITCODE(1, 0),
	    .now_ms = 1000 };
	struct plan_out		 p;

	s->restart = SPEC_PERMANENT;
	s->restart_delay_ms = DELAY;
	s->backoff_jitter = 0;
	plan_exit(s, &h, &plan_rows[_i].in, &e, &p);
	ck_assert_msg(p.step == plan_rows[_i].step, "row %d: step %d, want %d",
	    _i, (int)p.step, (int)plan_rows[_i].step);
	if (p.step == PLAN_ACTION)
		ck_assert_msg(p.action == plan_rows[_i].action,
		    "row %d: %s, want %s", _i, policy_action_name(p.action),
		    policy_action_name(plan_rows[_i].action));
	ck_assert_int_eq(p.delay_ms, p.action == POLICY_RESTART ? DELAY : 0);
	ck_assert(!p.gave_up);
	/* Only the policy records a restart. */
	ck_assert_int_eq(h.n, plan_rows[_i].policy ? 1 : 0);
	policy_hist_free(&h);
	spec_free(s);
}
END_TEST

/* The policy's give-up comes through with its action and no delay. */
START_TEST(test_plan_exit_gives_up)
{
	struct childspec	*s = spec_new();
	struct policy_hist	 h = { 0 };
	struct policy_exit	 e = { .status = W_EXITCODE(0, SIGSEGV),
	    .now_ms = 5000 };
	struct plan_in		 in = { .ever_ready = true };
	struct plan_out		 p;

	s->restart = SPEC_PERMANENT;
	s->max_restarts = 1;
	s->on_give_up = SPEC_GIVE_UP_EXIT;
	plan_exit(s, &h, &in, &e, &p);
	ck_assert_int_eq(p.step, PLAN_ACTION);
	ck_assert_int_eq(p.action, POLICY_RESTART);
	ck_assert(!p.gave_up);
	plan_exit(s, &h, &in, &e, &p);
	ck_assert_int_eq(p.step, PLAN_ACTION);
	ck_assert_int_eq(p.action, POLICY_EXIT_DAEMON);
	ck_assert(p.gave_up);
	ck_assert_int_eq(p.delay_ms, 0);
	policy_hist_free(&h);
	spec_free(s);
}
END_TEST

Suite *
plan_suite(void)
{
	Suite	*s = suite_create("plan");
	TCase	*tc = tcase_create("core");

	tcase_add_loop_test(tc, test_plan_exit_table, 0,
	    (int)(sizeof plan_rows / sizeof plan_rows[0]));
	tcase_add_test(tc, test_plan_exit_gives_up);
	suite_add_tcase(s, tc);
	return (s);
}
