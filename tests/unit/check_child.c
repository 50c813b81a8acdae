/* SPDX-License-Identifier: MIT */
/*
 * check_child: the child state machine through the spawn seam (house
 * style E7).  fake_ops never fork: spawn hands out pids from
 * FAKE_PID_BASE that no process has, and kill only records its calls.
 * The tests drive child_start(), child_handle_exit() and child_stop()
 * and assert the state, the timer and the attrs in the registry.  The
 * loop runs only with EVRUN_NOWAIT and only where a test needs a timer
 * or the exec-status pipe; no real process is ever created.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "gt/child.h"
#include "gt/gtd.h"
#include "gt/notify.h"
#include "gt/registry.h"
#include "gt/spec.h"
#include "gt/spawn.h"
#include "gt/childlog.h"
#include "gt/clock.h"
#include "gt/xmalloc.h"

#include "check_unit.h"

static struct gtd	*g;

static void
setup(void)
{
	g = test_gtd_new();
}

static void
teardown(void)
{
	gtd_free(g);
	g = NULL;
}

/*
 * Each row gets a spec of its own (an env entry tells them apart): the
 * tests change c->spec in place, which rows sharing one must never do.
 */
static struct child *
add(const char *name, enum spec_restart restart)
{
	struct childspec	*s = test_spec(name, restart);
	struct child		*c;
	char			*e;

	xasprintf(&e, "CHECK_ROW=%s", name);
	spec_strv_add(&s->env, &s->nenv, e);
	free(e);
	c = child_add(g, s, xstrdup("{}"));
	ck_assert_ptr_nonnull(c);
	return (c);
}

/* Start c and check it is running under the next fake pid. */
static void
start(struct child *c)
{
	int	n = fake_nspawn;

	ck_assert_int_eq(child_start(c), 0);
	ck_assert_int_eq(fake_nspawn, n + 1);
	ck_assert_int_eq(c->pid, FAKE_PID_BASE + n + 1);
	ck_assert_int_eq(c->state, CHILD_RUNNING);
}

static void
set_attr(const char *name, const char *key)
{
	struct value	v = { .type = VALUE_INT, .i = 1 };

	ck_assert_int_eq(registry_attr_set(g->reg, name, key, &v), 0);
}

static int
attr_count(const char *name)
{
	int	n = -1;

	ck_assert_int_eq(registry_attr_count(g->reg, name, &n), 0);
	return (n);
}

/* The seconds left on c's timer, within 50 ms of want. */
static void
assert_timer(struct child *c, double want)
{
	double	left;

	ck_assert(ev_is_active(&c->timer));
	left = ev_timer_remaining(g->loop, &c->timer);
	ck_assert_msg(left > want - 0.05 && left < want + 0.05,
	    "timer %.3f s, want %.3f s", left, want);
}

/* Fire c's timer as libev would (a stale one must ignore itself). */
static void
fire(struct child *c)
{
	ev_invoke(g->loop, &c->timer, EV_TIMER);
}

static bool
removed(struct child *c, const char *name)
{
	return (child_find(g, name) == NULL && (c->flags & CHILD_DEAD));
}

/*
 * Make the next fake spawn hand back an exec-status pipe (the row stays
 * starting until it is read); returns the write end, the child's side.
 */
static int
status_pipe(void)
{
	int	p[2];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	fake_statusfd = p[0];			/* the child owns it */
	return (p[1]);
}

/* Let whatever is ready now be handled: a few non-blocking iterations. */
static void
settle(void)
{
	int	i;

	for (i = 0; i < 10; i++)
		ev_run(g->loop, EVRUN_NOWAIT);
}

/* Run the loop until cond(arg) or the deadline. */
static void
run_until(bool (*cond)(void *), void *arg)
{
	long long	deadline = test_now_ms() + TEST_DEADLINE_MS;

	while (!cond(arg) && test_now_ms() < deadline)
		ev_run(g->loop, EVRUN_NOWAIT);
}

START_TEST(test_child_add_find)
{
	struct child	*c = add("web", SPEC_PERMANENT);

	ck_assert_int_eq(c->state, CHILD_STOPPED);
	ck_assert_int_eq(c->pid, -1);
	ck_assert(!child_is_alive(c));
	ck_assert_ptr_eq(child_find(g, "web"), c);
	ck_assert_ptr_null(child_find(g, "we"));
	ck_assert_ptr_null(child_find(g, "web2"));
	ck_assert_ptr_null(child_find_pid(g, 0));
	ck_assert_ptr_null(child_find_pid(g, -1));
	ck_assert_int_eq(g->tab->nchildren, 1);
	ck_assert_int_eq(g->tab->nprocs, 0);
	ck_assert_int_eq(fake_nspawn, 0);
	ck_assert(!ev_is_active(&c->timer));
}
END_TEST

START_TEST(test_child_add_duplicate_and_limit)
{
	add("a", SPEC_PERMANENT);
	errno = 0;
	ck_assert_ptr_null(child_add(g, test_spec("a", SPEC_TEMPORARY),
	    xstrdup("{}")));			/* spec and json are taken */
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(g->tab->nchildren, 1);
	g->lim.max_children = 2;
	add("b", SPEC_PERMANENT);
	errno = 0;
	ck_assert_ptr_null(child_add(g, test_spec("c", SPEC_PERMANENT),
	    xstrdup("{}")));
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert_int_eq(g->tab->nchildren, 2);
	ck_assert_ptr_null(child_find(g, "c"));
}
END_TEST

/* Past the first 64 buckets: every name and pid still found. */
START_TEST(test_child_many_rows)
{
	struct child	*c;
	char		 name[16];
	int		 i;

	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof name, "c%d", i);
		c = add(name, SPEC_PERMANENT);
		if (i % 3 == 0)
			start(c);
	}
	ck_assert_int_eq(g->tab->nchildren, 300);
	ck_assert_int_eq(g->tab->nprocs, 100);
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof name, "c%d", i);
		c = child_find(g, name);
		ck_assert_msg(c != NULL, "%s lost", name);
		ck_assert_str_eq(c->name, name);
		if (c->pid > 0)
			ck_assert_ptr_eq(child_find_pid(g, c->pid), c);
	}
	/* Remove every other stopped row; the rest stay reachable. */
	for (i = 1; i < 300; i += 3) {
		snprintf(name, sizeof name, "c%d", i);
		child_remove(child_find(g, name));
	}
	ck_assert_int_eq(g->tab->nchildren, 200);
	ck_assert_ptr_null(child_find(g, "c1"));
	ck_assert_ptr_nonnull(child_find(g, "c2"));
	ck_assert_ptr_nonnull(child_find(g, "c299"));
	child_reap_dead(g);
	ck_assert(TAILQ_EMPTY(&g->tab->dead_children));
}
END_TEST

/*
 * Pids that all fall into one hash bucket, a rehash while they are live,
 * and exits in another order: every pid lookup stays right.
 */
START_TEST(test_child_pid_hash_collisions)
{
	struct child	*c[80];
	char		 name[16];
	int		 i;

	fake_pid_step = 1024;
	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof name, "p%d", i);
		c[i] = add(name, SPEC_TEMPORARY);
		ck_assert_int_eq(child_start(c[i]), 0);
	}
	for (i = 40; i < 80; i++) {		/* past 64 rows: rehash */
		snprintf(name, sizeof name, "p%d", i);
		c[i] = add(name, SPEC_TEMPORARY);
		ck_assert_int_eq(child_start(c[i]), 0);
	}
	for (i = 0; i < 80; i++)
		ck_assert_ptr_eq(child_find_pid(g, FAKE_PID_BASE +
		    (i + 1) * 1024), c[i]);
	for (i = 1; i < 80; i += 2)		/* odd ones exit first */
		child_handle_exit(c[i], W_EXITCODE(0, 0));
	for (i = 0; i < 80; i++)
		ck_assert_ptr_eq(child_find_pid(g, FAKE_PID_BASE +
		    (i + 1) * 1024), i % 2 ? NULL : c[i]);
	for (i = 78; i >= 0; i -= 2)
		child_handle_exit(c[i], W_EXITCODE(0, 0));
	ck_assert_int_eq(g->tab->nchildren, 0);
	ck_assert_int_eq(g->tab->nprocs, 0);
	ck_assert_ptr_null(child_find_pid(g, FAKE_PID_BASE + 1024));
}
END_TEST

START_TEST(test_child_start_running)
{
	struct child	*c = add("web", SPEC_PERMANENT);

	start(c);
	ck_assert(child_is_alive(c));
	ck_assert_ptr_eq(child_find_pid(g, c->pid), c);
	ck_assert_int_eq(g->tab->nprocs, 1);
	ck_assert_int_eq(c->incarnation, 1);
	ck_assert_int_eq(c->restart_count, 0);
	ck_assert_int_eq(c->fail, CHILD_FAIL_NONE);
	ck_assert_int_gt(c->started_at, 0);
	ck_assert_int_gt(c->ready_at, 0);
	ck_assert(ev_is_active(&c->cw));	/* the reap is watched */
	ck_assert(!ev_is_active(&c->timer));
	ck_assert_int_eq(g->stats.spawns, 1);
	ck_assert_int_eq(fake_nkills, 0);
}
END_TEST

/* What the fake spawn was asked to run. */
START_TEST(test_child_start_plan)
{
	static char		*env[] = { (char *)"PATH=/usr/bin",
	    (char *)"FOO=gtd", (char *)"GTD_NAME=stale",
	    (char *)"GTD_SOCKET=stale", (char *)"NOTIFY_SOCKET=/x",
	    (char *)"KEEP=1", NULL };
	struct childspec	*s = test_spec("web", SPEC_PERMANENT);
	struct child		*c;

	g->spawn->env = env;
	spec_strv_add(&s->args, &s->nargs, "--port");
	spec_strv_add(&s->args, &s->nargs, "80");
	spec_strv_add(&s->env, &s->nenv, "FOO=spec");
	free(s->cwd);
	s->cwd = xstrdup("/tmp");
	c = child_add(g, s, xstrdup("{}"));
	start(c);
	ck_assert_str_eq(fake_last_plan.path, "/bin/true");
	ck_assert_str_eq(fake_last_plan.argv[0], "/bin/true");
	ck_assert_str_eq(fake_last_plan.argv[1], "--port");
	ck_assert_str_eq(fake_last_plan.argv[2], "80");
	ck_assert_ptr_null(fake_last_plan.argv[3]);
	ck_assert_str_eq(fake_last_plan.cwd, "/tmp");
	ck_assert(fake_last_plan.new_session);	/* kill_group */
	ck_assert_int_eq(fake_last_plan.parent, getpid());
	ck_assert_int_eq(fake_last_plan.fd_in, g->spawn->devnull);
	ck_assert(fake_plan_has_env("PATH=/usr/bin"));
	ck_assert(fake_plan_has_env("KEEP=1"));
	ck_assert(fake_plan_has_env("FOO=spec"));	/* the spec wins */
	ck_assert(!fake_plan_has_env("FOO=gtd"));
	ck_assert(fake_plan_has_env("GTD_NAME=web"));
	ck_assert(fake_plan_has_env("GTD_ZONE=default"));
	ck_assert(fake_plan_has_env("GTD_SOCKET="));
	ck_assert(!fake_plan_has_env("GTD_NAME=stale"));
	ck_assert(!fake_plan_has_env("GTD_SOCKET=stale"));
	ck_assert(!fake_plan_has_env("NOTIFY_SOCKET=/x"));
}
END_TEST

START_TEST(test_child_start_clear_env)
{
	static char		*env[] = { (char *)"PATH=/usr/bin",
	    (char *)"KEEP=1", NULL };
	struct childspec	*s = test_spec("web", SPEC_PERMANENT);
	struct child		*c;
	int			 n;

	g->spawn->env = env;
	s->clear_env = true;
	s->kill_group = false;
	spec_strv_add(&s->env, &s->nenv, "ONLY=me");
	c = child_add(g, s, xstrdup("{}"));
	start(c);
	ck_assert(!fake_plan_has_env("PATH=/usr/bin"));
	ck_assert(!fake_plan_has_env("KEEP=1"));
	ck_assert(fake_plan_has_env("ONLY=me"));
	ck_assert(fake_plan_has_env("GTD_NAME=web"));
	ck_assert(!fake_last_plan.new_session);
	for (n = 0; fake_last_plan.envp[n] != NULL; n++)
		;
	ck_assert_int_eq(n, 4);		/* ONLY + GTD_SOCKET/ZONE/NAME */
}
END_TEST

START_TEST(test_child_permanent_crash_restarts)
{
	struct child	*c = add("web", SPEC_PERMANENT);
	pid_t		 pid;

	c->spec->restart_delay_ms = 300;
	c->spec->backoff_jitter = 0;
	start(c);
	pid = c->pid;
	set_attr("web", "k");
	child_handle_exit(c, W_EXITCODE(1, 0));
	ck_assert_int_eq(c->state, CHILD_RESTARTING);
	assert_timer(c, 0.3);
	ck_assert_int_eq(c->restart_count, 1);
	ck_assert_int_eq(c->pid, -1);
	ck_assert_ptr_null(child_find_pid(g, pid));
	ck_assert_int_eq(g->tab->nprocs, 0);
	ck_assert(c->has_exit);
	ck_assert_int_eq(c->last_status, W_EXITCODE(1, 0));
	ck_assert(!c->last_requested);
	ck_assert_int_gt(c->exited_at, 0);
	ck_assert_int_eq(attr_count("web"), 0);	/* gone with the process */
	/* The group's leftovers get SIGKILL after the leader's exit. */
	ck_assert_int_eq(fake_nkills, 1);
	ck_assert_int_eq(fake_kills[0].pid, -pid);
	ck_assert_int_eq(fake_kills[0].sig, SIGKILL);
	/* The timer fires: the same row starts again. */
	fire(c);
	ck_assert_int_eq(c->state, CHILD_RUNNING);
	ck_assert_int_eq(fake_nspawn, 2);
	ck_assert_int_eq(c->pid, FAKE_PID_BASE + 2);
	ck_assert_int_eq(c->incarnation, 2);
	ck_assert_int_eq(c->restart_count, 1);
	ck_assert_int_eq(g->stats.restarts, 1);
	ck_assert(!ev_is_active(&c->timer));
}
END_TEST

static bool
is_running(void *arg)
{
	return (((struct child *)arg)->state == CHILD_RUNNING);
}

/* The restart timer through the real loop (delay 0, fake pids only). */
START_TEST(test_child_restart_via_loop)
{
	struct child	*c = add("web", SPEC_PERMANENT);

	c->spec->restart_delay_ms = 0;
	start(c);
	child_handle_exit(c, W_EXITCODE(0, SIGSEGV));
	ck_assert_int_eq(c->state, CHILD_RESTARTING);
	run_until(is_running, c);
	ck_assert_int_eq(c->state, CHILD_RUNNING);
	ck_assert_int_eq(fake_nspawn, 2);
}
END_TEST

static const struct {
	enum spec_restart	restart;
	int			status;
	bool			restarts;	/* else the row is removed */
} exit_rows[] = {
	{ SPEC_PERMANENT, W_EXITCODE(0, 0), true },
	{ SPEC_PERMANENT, W_EXITCODE(0, SIGKILL), true },
	{ SPEC_TRANSIENT, W_EXITCODE(0, 0), false },
	{ SPEC_TRANSIENT, W_EXITCODE(1, 0), true },
	{ SPEC_TRANSIENT, W_EXITCODE(0, SIGTERM), true },
	{ SPEC_TEMPORARY, W_EXITCODE(0, 0), false },
	{ SPEC_TEMPORARY, W_EXITCODE(1, 0), false },
	{ SPEC_TEMPORARY, W_EXITCODE(0, SIGKILL), false },
};

START_TEST(test_child_exit_table)
{
	struct child	*c = add("x", exit_rows[_i].restart);

	start(c);
	set_attr("x", "k");
	child_handle_exit(c, exit_rows[_i].status);
	if (exit_rows[_i].restarts) {
		ck_assert_int_eq(c->state, CHILD_RESTARTING);
		ck_assert(ev_is_active(&c->timer));
		ck_assert_int_eq(c->restart_count, 1);
		ck_assert_ptr_eq(child_find(g, "x"), c);
	} else {
		ck_assert(removed(c, "x"));
		ck_assert(!ev_is_active(&c->timer));
		ck_assert_int_eq(g->tab->nchildren, 0);
	}
	ck_assert_int_eq(attr_count("x"), 0);
	ck_assert_int_eq(g->tab->nprocs, 0);
}
END_TEST

START_TEST(test_child_stop_running)
{
	struct child	*c = add("web", SPEC_PERMANENT);
	pid_t		 pid;

	start(c);
	pid = c->pid;
	child_stop(c, -1, false);
	ck_assert_int_eq(c->state, CHILD_STOPPING);
	ck_assert(c->want_down);
	ck_assert_int_eq(fake_nkills, 1);
	ck_assert_int_eq(fake_kills[0].pid, -pid);	/* the whole group */
	ck_assert_int_eq(fake_kills[0].sig, SIGTERM);
	assert_timer(c, 5.0);				/* shutdown timeout */
	ck_assert(child_is_alive(c));
	/* Stopping twice sends nothing more. */
	child_stop(c, -1, false);
	ck_assert_int_eq(fake_nkills, 1);
	child_handle_exit(c, W_EXITCODE(0, SIGTERM));
	ck_assert_int_eq(c->state, CHILD_STOPPED);
	ck_assert_int_eq(c->restart_count, 0);
	ck_assert(!ev_is_active(&c->timer));
	ck_assert(c->last_requested);
	ck_assert(!c->want_down);
	ck_assert_ptr_eq(child_find(g, "web"), c);
	ck_assert_int_eq(fake_nspawn, 1);
}
END_TEST

static const struct {
	const char		*shutdown;	/* how the spec stops */
	int64_t			 timeout_ms;	/* child_stop's argument */
	int			 sig;
	double			 timer;		/* < 0: no timer */
} stop_rows[] = {
	{ "signal", -1, SIGTERM, 5.0 },
	{ "signal", 250, SIGTERM, 0.25 },	/* timeout_ms overrides */
	{ "signal", 0, SIGTERM, 0.0 },
	{ "hup", -1, SIGHUP, 2.0 },
	{ "brutal", -1, SIGKILL, -1 },
	{ "brutal", 250, SIGKILL, -1 },
	{ "infinity", -1, SIGTERM, -1 },
	{ "infinity", 250, SIGTERM, -1 },
};

START_TEST(test_child_stop_table)
{
	struct child	*c = add("web", SPEC_PERMANENT);
	pid_t		 pid;

	if (strcmp(stop_rows[_i].shutdown, "hup") == 0) {
		c->spec->shutdown_signal = SIGHUP;
		c->spec->shutdown_timeout_ms = 2000;
	} else if (strcmp(stop_rows[_i].shutdown, "brutal") == 0)
		c->spec->shutdown = SPEC_SHUT_BRUTAL;
	else if (strcmp(stop_rows[_i].shutdown, "infinity") == 0)
		c->spec->shutdown = SPEC_SHUT_INFINITY;
	start(c);
	pid = c->pid;
	child_stop(c, stop_rows[_i].timeout_ms, false);
	ck_assert_int_eq(c->state, CHILD_STOPPING);
	ck_assert_int_eq(fake_nkills, 1);
	ck_assert_int_eq(fake_kills[0].pid, -pid);
	ck_assert_int_eq(fake_kills[0].sig, stop_rows[_i].sig);
	ck_assert_int_eq(c->stop_sig, stop_rows[_i].sig);
	ck_assert(!c->escalated);		/* only after the timeout */
	if (stop_rows[_i].timer < 0)
		ck_assert(!ev_is_active(&c->timer));
	else
		assert_timer(c, stop_rows[_i].timer);
}
END_TEST

/*
 * Stopped while still starting: a requested stop, so no restart.  A row
 * that was ready once is kept stopped (a fresh one goes: see
 * test_child_never_ready_removed).
 */
/* The start queue's names, in order, space-separated. */
static const char *
queue_names(void)
{
	static char	 buf[256];
	struct child	*c;

	buf[0] = '\0';
	TAILQ_FOREACH(c, &g->tab->start_queue, qentry) {
		ck_assert(c->queued);
		ck_assert_int_eq(c->state, CHILD_STARTING);
		if (buf[0] != '\0')
			strcat(buf, " ");
		strcat(buf, c->name);
	}
	return (buf);
}

/* Start a row its dependencies release (state waiting until now). */
static void
release(const char *name)
{
	struct child	*c = add(name, SPEC_PERMANENT);

	c->state = CHILD_WAITING;
	ck_assert_int_eq(child_start(c), 0);
	ck_assert(c->queued);
}

/*
 * Released rows go before the starts queued earlier, each release's in
 * its own order; a release inside another joins it; a release's last
 * row leaving the queue moves the mark back, never leaves it dangling.
 */
START_TEST(test_child_release_order)
{
	static const char *const order[] = { "y2", "y1", "x4", "n1", "n2",
	    "n3", "w1", "w2", "w3", "q1", "q2" };
	struct child	*a = add("a", SPEC_PERMANENT), *c;
	int		 wfd = status_pipe();
	pid_t		 last = 0;
	size_t		 i;

	g->lim.max_starting = 1;
	ck_assert_int_eq(child_start(a), 0);	/* holds the one slot */
	ck_assert_int_eq(a->state, CHILD_STARTING);
	ck_assert_int_eq(child_start(add("q1", SPEC_PERMANENT)), 0);
	ck_assert_int_eq(child_start(add("q2", SPEC_PERMANENT)), 0);
	ck_assert_str_eq(queue_names(), "q1 q2");
	child_release_begin(g);
	release("w1");
	release("w2");
	release("w3");
	child_release_end(g);
	ck_assert_str_eq(queue_names(), "w1 w2 w3 q1 q2");
	child_release_begin(g);
	release("n1");
	child_release_begin(g);			/* a start released more */
	release("n2");
	child_release_end(g);
	release("n3");
	child_release_end(g);
	ck_assert_str_eq(queue_names(), "n1 n2 n3 w1 w2 w3 q1 q2");
	child_release_begin(g);
	release("x1");
	release("x2");
	child_stop(child_find(g, "x2"), -1, false);	/* the mark */
	release("x3");
	child_stop(child_find(g, "x1"), -1, false);	/* the mark's back */
	child_stop(child_find(g, "x3"), -1, false);
	release("x4");
	child_release_end(g);
	ck_assert_str_eq(queue_names(), "x4 n1 n2 n3 w1 w2 w3 q1 q2");
	release("y1");				/* alone: first in line */
	release("y2");
	ck_assert_str_eq(queue_names(),
	    "y2 y1 x4 n1 n2 n3 w1 w2 w3 q1 q2");
	/* The slot frees: the queue runs, in that order. */
	child_stop(a, -1, false);
	child_handle_exit(a, W_EXITCODE(0, SIGTERM));
	settle();
	ck_assert_str_eq(queue_names(), "");
	for (i = 0; i < sizeof order / sizeof order[0]; i++) {
		c = child_find(g, order[i]);
		ck_assert_msg(c != NULL && c->pid > last, "%s forked out of "
		    "order", order[i]);
		last = c->pid;
	}
	close(wfd);
}
END_TEST

START_TEST(test_child_stop_while_starting)
{
	struct child	*c = add("web", SPEC_PERMANENT);
	int		 wfd = status_pipe();

	c->ever_ready = true;
	ck_assert_int_eq(child_start(c), 0);
	ck_assert_int_eq(c->state, CHILD_STARTING);
	child_stop(c, 100, false);
	ck_assert_int_eq(c->state, CHILD_STOPPING);
	ck_assert_int_eq(c->fail, CHILD_FAIL_EXITED);
	assert_timer(c, 0.1);			/* the stop timeout now */
	child_handle_exit(c, W_EXITCODE(0, SIGTERM));
	ck_assert_int_eq(c->state, CHILD_STOPPED);
	ck_assert_int_eq(c->restart_count, 0);
	close(wfd);
}
END_TEST

/*
 * shutdown "infinity" never escalates (protocol §4), so a ready or
 * watchdog deadline armed before the stop must not fire a SIGKILL.
 */
static const struct {
	bool	starting;	/* ready timer, else watchdog timer */
} infinity_rows[] = { { true }, { false } };

START_TEST(test_child_stop_infinity_disarms)
{
	struct child	*c = add("sup", SPEC_PERMANENT);
	int		 wfd = -1;

	c->spec->shutdown = SPEC_SHUT_INFINITY;
	if (infinity_rows[_i].starting) {
		wfd = status_pipe();
		ck_assert_int_eq(child_start(c), 0);
	} else {
		c->spec->watchdog_ms = 300;
		start(c);
	}
	ck_assert(ev_is_active(&c->timer));
	child_stop(c, -1, false);
	ck_assert_int_eq(c->state, CHILD_STOPPING);
	ck_assert_int_eq(fake_nkills, 1);
	ck_assert_int_eq(fake_kills[0].sig, SIGTERM);
	fire(c);		/* the old deadline, if it was left armed */
	ck_assert_msg(fake_nkills == 1, "infinity escalated: signal %d",
	    fake_kills[fake_nkills - 1].sig);
	ck_assert(!c->escalated);
	if (wfd != -1)
		close(wfd);
}
END_TEST

/* The stop timeout escalates to SIGKILL; the row stays stopping. */
START_TEST(test_child_stop_escalates)
{
	struct child	*c = add("web", SPEC_PERMANENT);
	pid_t		 pid;

	start(c);
	pid = c->pid;
	child_stop(c, 100, false);
	ck_assert(!c->escalated);
	fire(c);
	ck_assert(c->escalated);
	ck_assert_int_eq(fake_nkills, 2);
	ck_assert_int_eq(fake_kills[1].pid, -pid);
	ck_assert_int_eq(fake_kills[1].sig, SIGKILL);
	ck_assert_int_eq(c->state, CHILD_STOPPING);
	child_handle_exit(c, W_EXITCODE(0, SIGKILL));
	ck_assert_int_eq(c->state, CHILD_STOPPED);
	ck_assert_int_eq(c->restart_count, 0);
}
END_TEST

static bool
killed_twice(void *arg)
{
	return (fake_nkills >= 2);
}

/* The same through the loop with timeout 0. */
START_TEST(test_child_stop_escalates_via_loop)
{
	struct child	*c = add("web", SPEC_PERMANENT);

	start(c);
	child_stop(c, 0, false);
	run_until(killed_twice, NULL);
	ck_assert_int_eq(fake_nkills, 2);
	ck_assert_int_eq(fake_kills[1].sig, SIGKILL);
}
END_TEST

START_TEST(test_child_stop_without_group)
{
	struct child	*c = add("web", SPEC_PERMANENT);
	pid_t		 pid;

	c->spec->kill_group = false;
	start(c);
	pid = c->pid;
	child_stop(c, -1, false);
	ck_assert_int_eq(fake_nkills, 1);
	ck_assert_int_eq(fake_kills[0].pid, pid);	/* the process only */
	ck_assert_int_eq(fake_kills[0].sig, SIGTERM);
	child_handle_exit(c, W_EXITCODE(0, SIGTERM));
	ck_assert_int_eq(fake_nkills, 1);	/* no group to clean up */
}
END_TEST

/* Before setsid() has run there is no group: fall back to the pid. */
START_TEST(test_child_stop_group_esrch)
{
	struct child	*c = add("web", SPEC_PERMANENT);
	pid_t		 pid;

	start(c);
	pid = c->pid;
	fake_group_esrch = true;
	child_stop(c, -1, false);
	ck_assert_int_eq(fake_nkills, 2);
	ck_assert_int_eq(fake_kills[0].pid, -pid);
	ck_assert_int_eq(fake_kills[1].pid, pid);
	ck_assert_int_eq(fake_kills[1].sig, SIGTERM);
}
END_TEST

START_TEST(test_child_stop_temporary_removes)
{
	struct child	*c = add("tmp", SPEC_TEMPORARY);

	start(c);
	child_stop(c, -1, false);
	child_handle_exit(c, W_EXITCODE(0, SIGTERM));
	ck_assert(removed(c, "tmp"));
}
END_TEST

START_TEST(test_child_stop_delete_after)
{
	struct child	*c = add("web", SPEC_PERMANENT);

	start(c);
	set_attr("web", "k");
	child_stop(c, -1, true);
	ck_assert_int_eq(c->state, CHILD_STOPPING);
	ck_assert_ptr_eq(child_find(g, "web"), c);
	child_handle_exit(c, W_EXITCODE(0, 0));
	ck_assert(removed(c, "web"));
	ck_assert_int_eq(attr_count("web"), 0);
}
END_TEST

START_TEST(test_child_stop_stopped_row)
{
	struct child	*c = add("web", SPEC_PERMANENT);

	child_stop(c, -1, false);		/* nothing to stop */
	ck_assert_int_eq(c->state, CHILD_STOPPED);
	ck_assert_int_eq(fake_nkills, 0);
	ck_assert_ptr_eq(child_find(g, "web"), c);
	child_stop(c, -1, true);		/* delete: at once */
	ck_assert(removed(c, "web"));
	ck_assert_int_eq(fake_nkills, 0);
}
END_TEST

/* A stop while a restart is pending cancels it for good. */
START_TEST(test_child_stop_restarting)
{
	struct child	*c = add("web", SPEC_PERMANENT);

	start(c);
	child_handle_exit(c, W_EXITCODE(1, 0));
	ck_assert_int_eq(c->state, CHILD_RESTARTING);
	ck_assert(ev_is_active(&c->timer));
	child_stop(c, -1, false);
	ck_assert_int_eq(c->state, CHILD_STOPPED);
	ck_assert(!ev_is_active(&c->timer));
	ck_assert_int_eq(fake_nkills, 1);	/* only the leftover kill */
	/* A fire that was already on its way is stale: no restart. */
	fire(c);
	ck_assert_int_eq(c->state, CHILD_STOPPED);
	ck_assert_int_eq(fake_nspawn, 1);
	ck_assert_int_eq(c->restart_count, 1);
}
END_TEST

START_TEST(test_child_delete_restarting)
{
	struct child	*c = add("web", SPEC_PERMANENT);

	start(c);
	child_handle_exit(c, W_EXITCODE(1, 0));
	child_stop(c, -1, true);
	ck_assert(removed(c, "web"));
	ck_assert(!ev_is_active(&c->timer));
	fire(c);				/* must not resurrect it */
	ck_assert_int_eq(fake_nspawn, 1);
	ck_assert_ptr_null(child_find(g, "web"));
}
END_TEST

static const struct {
	enum spec_give_up	give_up;
} give_up_rows[] = {
	{ SPEC_GIVE_UP_STOP },
	{ SPEC_GIVE_UP_DELETE },
	{ SPEC_GIVE_UP_EXIT },
};

START_TEST(test_child_intensity_gives_up)
{
	struct child	*c = add("web", SPEC_PERMANENT);
	int		 i;

	c->spec->max_restarts = 2;
	c->spec->on_give_up = give_up_rows[_i].give_up;
	start(c);
	for (i = 1; i <= 2; i++) {
		child_handle_exit(c, W_EXITCODE(1, 0));
		ck_assert_int_eq(c->state, CHILD_RESTARTING);
		ck_assert_int_eq(c->restart_count, i);
		fire(c);
		ck_assert_int_eq(c->state, CHILD_RUNNING);
	}
	child_handle_exit(c, W_EXITCODE(1, 0));
	ck_assert(!ev_is_active(&c->timer));
	ck_assert_int_eq(c->restart_count, 2);
	ck_assert_int_eq(fake_nspawn, 3);
	switch (give_up_rows[_i].give_up) {
	case SPEC_GIVE_UP_STOP:
		ck_assert_int_eq(c->state, CHILD_STOPPED);
		ck_assert(!g->shut->active);
		break;
	case SPEC_GIVE_UP_DELETE:
		ck_assert(removed(c, "web"));
		ck_assert(!g->shut->active);
		break;
	case SPEC_GIVE_UP_EXIT:
		ck_assert_int_eq(c->state, CHILD_STOPPED);
		ck_assert(g->shut->active);
		ck_assert_int_eq(g->shut->exit_code, 1);
		break;
	}
}
END_TEST

/* exit_daemon stops the other children too. */
START_TEST(test_child_give_up_exit_stops_others)
{
	struct child	*a = add("a", SPEC_PERMANENT);
	struct child	*b = add("b", SPEC_PERMANENT);

	a->spec->max_restarts = 1;
	a->spec->on_give_up = SPEC_GIVE_UP_EXIT;
	start(a);
	start(b);
	child_handle_exit(a, W_EXITCODE(1, 0));
	fire(a);
	fake_nkills = 0;
	child_handle_exit(a, W_EXITCODE(1, 0));
	ck_assert(g->shut->active);
	ck_assert_int_eq(b->state, CHILD_STOPPING);
	ck_assert_int_eq(fake_kills[fake_nkills - 1].pid, -b->pid);
	ck_assert_int_eq(fake_kills[fake_nkills - 1].sig, SIGTERM);
	child_handle_exit(b, W_EXITCODE(0, SIGTERM));
	ck_assert_int_eq(b->state, CHILD_STOPPED);	/* no restart */
	ck_assert_int_eq(g->tab->nprocs, 0);
}
END_TEST

START_TEST(test_child_shutdown_stops_all)
{
	struct child	*a = add("a", SPEC_PERMANENT);
	struct child	*b = add("b", SPEC_TEMPORARY);
	struct child	*r = add("r", SPEC_PERMANENT);

	start(a);
	start(b);
	start(r);
	child_handle_exit(r, W_EXITCODE(1, 0));		/* r: restart pending */
	gtd_shutdown(g, 0, 300);
	ck_assert(g->shut->active);
	ck_assert_int_eq(g->shut->exit_code, 0);
	ck_assert_int_eq(a->state, CHILD_STOPPING);
	ck_assert_int_eq(b->state, CHILD_STOPPING);
	assert_timer(a, 0.3);
	ck_assert_int_eq(r->state, CHILD_STOPPED);
	ck_assert(!ev_is_active(&r->timer));
	/* A crash during shutdown is not restarted either. */
	child_handle_exit(a, W_EXITCODE(1, 0));
	ck_assert_int_eq(a->state, CHILD_STOPPED);
	child_handle_exit(b, W_EXITCODE(0, SIGTERM));
	ck_assert(removed(b, "b"));
	ck_assert_int_eq(g->tab->nprocs, 0);
	ck_assert_int_eq(fake_nspawn, 3);
}
END_TEST

START_TEST(test_child_kill_all)
{
	struct child	*a = add("a", SPEC_PERMANENT);
	struct child	*b = add("b", SPEC_PERMANENT);
	struct child	*inf = add("inf", SPEC_PERMANENT);

	add("idle", SPEC_PERMANENT);
	b->spec->kill_group = false;
	inf->spec->shutdown = SPEC_SHUT_INFINITY;
	start(a);
	start(b);
	start(inf);
	/* The shutdown backstop spares "infinity" children... */
	gtd_kill_all(g, false);
	ck_assert_int_eq(fake_nkills, 2);
	ck_assert_int_eq(fake_kills[0].pid, -a->pid);	/* its whole group */
	ck_assert_int_eq(fake_kills[1].pid, b->pid);
	ck_assert_int_eq(fake_kills[0].sig, SIGKILL);
	ck_assert_int_eq(fake_kills[1].sig, SIGKILL);
	/* ...a second signal does not. */
	fake_nkills = 0;
	gtd_kill_all(g, true);
	ck_assert_int_eq(fake_nkills, 3);
	ck_assert_int_eq(fake_kills[2].pid, -inf->pid);
}
END_TEST

/* fork failing (EAGAIN) on a row's very first start leaves no row. */
START_TEST(test_child_spawn_fails_new_row)
{
	struct child	*c = add("web", SPEC_PERMANENT);

	fake_spawn_errno = EAGAIN;
	errno = 0;
	ck_assert_int_eq(child_start(c), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert(removed(c, "web"));
	ck_assert_int_eq(c->fail, CHILD_FAIL_SPAWN);
	ck_assert_int_eq(c->fail_errno, EAGAIN);
	ck_assert_int_eq(c->pid, -1);
	ck_assert_int_eq(g->tab->nprocs, 0);
	ck_assert_int_eq(g->stats.spawn_failures, 1);
	ck_assert(!ev_is_active(&c->timer));
	ck_assert(!ev_is_active(&c->cw));
	ck_assert_int_eq(fake_nspawn, 0);
}
END_TEST

/* A program not in the child's PATH fails before any fork. */
START_TEST(test_child_spawn_not_in_path)
{
	struct childspec	*s = spec_new();
	struct child		*c;

	s->name = xstrdup("ghost");
	spec_strv_add(&s->cmd, &s->ncmd, "gtd-check-no-such-program");
	spec_strv_add(&s->env, &s->nenv, "PATH=/nonexistent-gtd-check");
	c = child_add(g, s, xstrdup("{}"));
	ck_assert_int_eq(child_start(c), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(c->fail_errno, ENOENT);
	ck_assert(removed(c, "ghost"));
	ck_assert_ptr_null(fake_last_plan.path);	/* spawn never called */
}
END_TEST

/* On a restart, a spawn failure is just another exit: policy decides. */
START_TEST(test_child_spawn_fails_on_restart)
{
	struct child	*c = add("web", SPEC_PERMANENT);

	start(c);
	child_handle_exit(c, W_EXITCODE(1, 0));
	ck_assert_int_eq(c->restart_count, 1);
	fake_spawn_errno = EAGAIN;
	fire(c);				/* the restart fails */
	ck_assert_int_eq(c->state, CHILD_RESTARTING);
	ck_assert(ev_is_active(&c->timer));
	ck_assert_int_eq(c->restart_count, 2);
	ck_assert_int_eq(c->fail, CHILD_FAIL_SPAWN);
	ck_assert_ptr_eq(child_find(g, "web"), c);
	fake_spawn_errno = 0;
	fire(c);
	ck_assert_int_eq(c->state, CHILD_RUNNING);
	ck_assert_int_eq(c->fail, CHILD_FAIL_NONE);
}
END_TEST

START_TEST(test_child_spawn_fails_restart_gives_up)
{
	struct child	*c = add("web", SPEC_PERMANENT);

	c->spec->max_restarts = 1;
	start(c);
	child_handle_exit(c, W_EXITCODE(1, 0));
	fake_spawn_errno = EAGAIN;
	ck_assert_int_eq(child_start(c), -1);
	ck_assert_int_eq(c->state, CHILD_STOPPED);
	ck_assert(!ev_is_active(&c->timer));
}
END_TEST

/*
 * A stopped row started again on request (incarnation 2) is not removed
 * when that start fails, and not restarted either: it stays stopped.
 */
START_TEST(test_child_spawn_fails_stopped_row)
{
	struct child	*c = add("tr", SPEC_TRANSIENT);

	start(c);
	child_stop(c, -1, false);
	child_handle_exit(c, W_EXITCODE(0, SIGTERM));
	ck_assert_int_eq(c->state, CHILD_STOPPED);
	fake_spawn_errno = EMFILE;
	ck_assert_int_eq(child_start(c), -1);
	ck_assert_int_eq(errno, EMFILE);
	ck_assert_ptr_eq(child_find(g, "tr"), c);
	ck_assert_int_eq(c->state, CHILD_STOPPED);	/* no policy restart */
	ck_assert(!ev_is_active(&c->timer));
	ck_assert_int_eq(c->restart_count, 0);
}
END_TEST

static bool
not_starting(void *arg)
{
	return (((struct child *)arg)->state != CHILD_STARTING);
}

static bool
status_read(void *arg)
{
	return (((struct child *)arg)->statusfd == -1);
}

static bool
ready_closed(void *arg)
{
	return (((struct child *)arg)->readyfd == -1);
}

/* A real exec-status pipe: EOF means exec succeeded -> running. */
START_TEST(test_child_exec_status_ok)
{
	struct child	*c = add("web", SPEC_PERMANENT);
	int		 wfd = status_pipe();

	ck_assert_int_eq(child_start(c), 0);
	ck_assert_int_eq(c->state, CHILD_STARTING);
	ck_assert(ev_is_active(&c->statusw));
	ck_assert_int_eq(c->ready_at, 0);
	settle();
	ck_assert_int_eq(c->state, CHILD_STARTING);	/* nothing yet */
	close(wfd);
	run_until(not_starting, c);
	ck_assert_int_eq(c->state, CHILD_RUNNING);
	ck_assert_int_eq(c->statusfd, -1);
	ck_assert(!ev_is_active(&c->statusw));
	ck_assert_int_gt(c->ready_at, 0);
}
END_TEST

/* exec failed (4 bytes of errno), then the 127 exit: no row is left. */
START_TEST(test_child_exec_status_fail)
{
	struct child	*c = add("web", SPEC_PERMANENT);
	int		 wfd = status_pipe(), e = ENOEXEC;

	ck_assert_int_eq(child_start(c), 0);
	ck_assert_int_eq(write(wfd, &e, sizeof e), (ssize_t)sizeof e);
	close(wfd);
	run_until(status_read, c);
	ck_assert_int_eq(c->state, CHILD_STARTING);	/* the reap decides */
	ck_assert_int_eq(c->fail, CHILD_FAIL_SPAWN);
	ck_assert_int_eq(c->fail_errno, ENOEXEC);
	child_handle_exit(c, W_EXITCODE(127, 0));
	ck_assert(removed(c, "web"));
}
END_TEST

/* The exit arrives before the status was read: it is read at the reap. */
START_TEST(test_child_exec_status_read_at_exit)
{
	struct child	*c = add("web", SPEC_PERMANENT);
	int		 wfd = status_pipe(), e = EACCES;

	ck_assert_int_eq(child_start(c), 0);
	ck_assert_int_eq(write(wfd, &e, sizeof e), (ssize_t)sizeof e);
	close(wfd);
	child_handle_exit(c, W_EXITCODE(127, 0));	/* no loop run yet */
	ck_assert_int_eq(c->fail, CHILD_FAIL_SPAWN);
	ck_assert_int_eq(c->fail_errno, EACCES);
	ck_assert_int_eq(c->statusfd, -1);
	ck_assert(removed(c, "web"));
}
END_TEST

/* Died while starting (exec ok, not ready): exited, and policy decides. */
START_TEST(test_child_exit_while_starting)
{
	struct child	*c = add("web", SPEC_PERMANENT);
	int		 wfd = status_pipe();

	ck_assert_int_eq(child_start(c), 0);
	c->ever_ready = true;		/* a restart: the policy decides */
	c->manual = false;
	child_handle_exit(c, W_EXITCODE(2, 0));
	close(wfd);
	ck_assert_int_eq(c->fail, CHILD_FAIL_EXITED);
	ck_assert_int_eq(c->state, CHILD_RESTARTING);
	ck_assert_int_eq(c->statusfd, -1);
	ck_assert(!ev_is_active(&c->statusw));
}
END_TEST

struct wake_log {
	int			n;
	enum child_state	states[8];
	bool			dead[8];
};

static void
wake_cb(struct child *c, void *arg)
{
	struct wake_log	*l = arg;

	if (l->n < 8) {
		l->states[l->n] = c->state;
		l->dead[l->n] = (c->flags & CHILD_DEAD) != 0;
	}
	l->n++;
}

START_TEST(test_child_waiters)
{
	struct child		*c = add("web", SPEC_PERMANENT);
	struct child_waiter	 w = { .cb = wake_cb };
	struct wake_log		 l = { .n = 0 };

	w.arg = &l;
	child_wait(c, &w);
	ck_assert(w.queued);
	start(c);
	/* Woken once (by starting), then forgotten. */
	ck_assert_int_eq(l.n, 1);
	ck_assert_int_eq(l.states[0], CHILD_STARTING);
	ck_assert(!w.queued);
	child_wait(c, &w);
	child_unwait(c, &w);
	ck_assert(!w.queued);
	child_unwait(c, &w);			/* not queued: a no-op */
	child_handle_exit(c, W_EXITCODE(1, 0));
	ck_assert_int_eq(l.n, 1);
	/* Removal wakes too, with the row marked dead. */
	child_wait(c, &w);
	child_stop(c, -1, true);
	ck_assert_int_eq(l.n, 2);
	ck_assert(l.dead[1]);
}
END_TEST

/* A removed row is freed by the reaper only once nobody holds it. */
START_TEST(test_child_refs_defer_free)
{
	struct child	*c = add("web", SPEC_TEMPORARY);

	child_ref(c);
	start(c);
	child_handle_exit(c, W_EXITCODE(0, 0));
	ck_assert(removed(c, "web"));
	child_reap_dead(g);
	ck_assert_ptr_eq(TAILQ_FIRST(&g->tab->dead_children), c);	/* held */
	ck_assert_str_eq(c->name, "web");
	child_unref(c);
	child_reap_dead(g);
	ck_assert(TAILQ_EMPTY(&g->tab->dead_children));
}
END_TEST

START_TEST(test_child_state_names)
{
	static const char	*names[CHILD_NSTATES] = { "starting",
	    "running", "stopping", "terminating", "restarting", "stopped",
	    "waiting" };
	enum child_state	 st;
	int			 i;

	for (i = 0; i < CHILD_NSTATES; i++) {
		ck_assert_str_eq(child_state_name(i), names[i]);
		ck_assert_int_eq(child_state_parse(names[i], &st), 0);
		ck_assert_int_eq(st, i);
	}
	errno = 0;
	ck_assert_int_eq(child_state_parse("Running", &st), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(child_state_parse("", &st), -1);
}
END_TEST

/*
 * Protocol §3/§4: "A new incarnation starts with the spec's attrs only";
 * the spec field `attrs` is "initial attrs of every incarnation".
 */
START_TEST(test_child_spec_attrs_seeded)
{
	struct childspec	*s = test_spec("web", SPEC_PERMANENT);
	struct child		*c;
	const struct value	*v;

	s->attrs = xcalloc(2, sizeof *s->attrs);
	s->attrs[0].key = xstrdup("role");
	s->attrs[0].v.type = VALUE_TEXT;
	s->attrs[0].v.s = xstrdup("front");
	s->nattrs = 1;
	c = child_add(g, s, xstrdup("{}"));
	start(c);
	ck_assert_msg((v = registry_attr_ref(g->reg, "web", "role")) != NULL,
	    "spec attr \"role\" missing after start");
	ck_assert_int_eq(v->type, VALUE_TEXT);
	ck_assert_str_eq(v->s, "front");
	/* The next incarnation: the spec's attrs again, nothing else. */
	set_attr("web", "extra");
	child_handle_exit(c, W_EXITCODE(1, 0));
	fire(c);
	ck_assert_int_eq(attr_count("web"), 1);
}
END_TEST

/*
 * child_handle_exit is the test entry point for a reap (child.h); after
 * it the pid has no process, so its ev_child must not stay active (else
 * the next child_start ev_child_init()s an active watcher).
 */
START_TEST(test_child_handle_exit_stops_watcher)
{
	struct child	*c = add("web", SPEC_PERMANENT);

	start(c);
	ck_assert(ev_is_active(&c->cw));
	child_handle_exit(c, W_EXITCODE(1, 0));
	ck_assert_msg(!ev_is_active(&c->cw),
	    "ev_child still active after child_handle_exit");
}
END_TEST

/* Not ready within ready_timeout_ms: killed, and the policy decides. */
START_TEST(test_child_ready_timeout)
{
	struct child	*c = add("web", SPEC_PERMANENT);
	int		 wfd = status_pipe();
	pid_t		 pid;

	c->spec->ready_timeout_ms = 200;
	ck_assert_int_eq(child_start(c), 0);
	pid = c->pid;
	ck_assert_int_eq(c->state, CHILD_STARTING);
	assert_timer(c, 0.2);
	c->ever_ready = true;		/* a restart: the policy decides */
	c->manual = false;
	fire(c);
	ck_assert_int_eq(c->state, CHILD_STOPPING);
	ck_assert_int_eq(c->fail, CHILD_FAIL_TIMEOUT);
	ck_assert_int_eq(fake_nkills, 1);
	ck_assert_int_eq(fake_kills[0].pid, -pid);
	ck_assert_int_eq(fake_kills[0].sig, SIGKILL);
	child_handle_exit(c, W_EXITCODE(0, SIGKILL));
	ck_assert_int_eq(c->state, CHILD_RESTARTING);	/* not requested */
	ck_assert_int_eq(c->fail, CHILD_FAIL_TIMEOUT);
	ck_assert(!c->last_requested);
	close(wfd);
}
END_TEST

/* A pid that existed and is gone (reaped). */
static pid_t
gone_pid(void)
{
	pid_t	pid;

	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	return (pid);
}

/*
 * ready "notify": exec is not readiness; READY=1 is.  The child gets a
 * socket of its own (not gtd's NOTIFY_SOCKET), which goes with the
 * incarnation; a sender is the child, or in its session, or (gone
 * before its datagram was read) of its user.
 */
START_TEST(test_child_ready_notify)
{
	static char		*env[] = { (char *)"NOTIFY_SOCKET=/gtd/own",
	    NULL };
	struct child		*c = add("web", SPEC_PERMANENT);
	struct notify_sender	 sn = { .pidfd = -1 };
	const struct value	*v;
	const char		*path;
	char			*kv;

	g->spawn->env = env;
	g->notify = notify_new(g, NULL);
	c->spec->ready = SPEC_READY_NOTIFY;
	ck_assert_int_eq(child_start(c), 0);
	ck_assert_int_eq(c->state, CHILD_STARTING);	/* exec succeeded */
	ck_assert(ev_is_active(&c->timer));		/* ready timeout */
	ck_assert_ptr_nonnull(path = notify_child_path(g->notify, c));
	ck_assert_int_eq(strncmp(path, "@gtd/", 5), 0);
	ck_assert_uint_eq(strlen(path), 21);
	xasprintf(&kv, "NOTIFY_SOCKET=%s", path);
	ck_assert(fake_plan_has_env(kv));
	free(kv);
	ck_assert(!fake_plan_has_env("NOTIFY_SOCKET=/gtd/own"));
	/* Who may speak for it. */
	sn.pid = c->pid;
	sn.uid = geteuid();
	ck_assert(notify_sender_ok(c, &sn));
	sn.pid = getpid();		/* alive, in another session */
	ck_assert(!notify_sender_ok(c, &sn));
	sn.pid = gone_pid();		/* reaped: its uid decides */
	ck_assert(notify_sender_ok(c, &sn));
	sn.uid = geteuid() + 1;
	ck_assert(!notify_sender_ok(c, &sn));
	notify_handle(g, c, "STATUS=warming up\nREADY=1\n", 26);
	ck_assert_int_eq(c->state, CHILD_RUNNING);
	ck_assert(!ev_is_active(&c->timer));
	ck_assert_int_gt(c->ready_at, 0);
	ck_assert_ptr_nonnull(v = registry_attr_ref(g->reg, "web", "status"));
	ck_assert_str_eq(v->s, "warming up");
	/* STATUS= can be any bytes; the attr is text: bad UTF-8 reads '?'. */
	notify_handle(g, c, "STATUS=\xc3\xa9t\xe9\xffx", 13);
	ck_assert_ptr_nonnull(v = registry_attr_ref(g->reg, "web", "status"));
	ck_assert_str_eq(v->s, "\xc3\xa9t?" "?x");
	/* The incarnation is over: so is its socket. */
	child_handle_exit(c, W_EXITCODE(1, 0));
	ck_assert_ptr_null(notify_child_path(g->notify, c));
	notify_free(g->notify);
	g->notify = NULL;
}
END_TEST

/* ready {"fd":N}: a newline on the child's end of the pipe. */
START_TEST(test_child_ready_fd)
{
	struct child	*c = add("web", SPEC_PERMANENT);

	c->spec->ready = SPEC_READY_FD;
	c->spec->ready_fd = 5;
	ck_assert_int_eq(child_start(c), 0);
	ck_assert_int_eq(fake_last_plan.extra_target, 5);
	ck_assert_int_ne(fake_extra_fd, -1);
	ck_assert_int_eq(c->state, CHILD_STARTING);
	ck_assert_int_eq(write(fake_extra_fd, "almost", 6), 6);
	settle();
	ck_assert_int_eq(c->readyfd != -1, 1);	/* read, still open */
	ck_assert_int_eq(c->state, CHILD_STARTING);
	ck_assert_int_eq(write(fake_extra_fd, "\n", 1), 1);
	run_until(not_starting, c);
	ck_assert_int_eq(c->state, CHILD_RUNNING);
	ck_assert_int_eq(c->readyfd, -1);
}
END_TEST

/* The ready fd closed without a newline: never ready (the timeout rules). */
START_TEST(test_child_ready_fd_eof)
{
	struct child	*c = add("web", SPEC_PERMANENT);

	c->spec->ready = SPEC_READY_FD;
	c->spec->ready_fd = 3;
	ck_assert_int_eq(child_start(c), 0);
	close(fake_extra_fd);
	fake_extra_fd = -1;
	run_until(ready_closed, c);
	ck_assert_int_eq(c->readyfd, -1);
	ck_assert_int_eq(c->state, CHILD_STARTING);
	ck_assert(ev_is_active(&c->timer));
}
END_TEST

/* watchdog_ms: WATCHDOG=1 re-arms; silence kills (not a requested stop). */
START_TEST(test_child_watchdog)
{
	struct child	*c = add("web", SPEC_PERMANENT);

	c->spec->watchdog_ms = 300;
	start(c);
	ck_assert(fake_plan_has_env("WATCHDOG_USEC=300000"));
	assert_timer(c, 0.3);
	c->spec->watchdog_ms = 700;		/* to see the re-arm */
	notify_handle(g, c, "WATCHDOG=1", 10);
	assert_timer(c, 0.7);
	child_watchdog_kick(c);
	assert_timer(c, 0.7);
	fire(c);
	ck_assert_int_eq(c->state, CHILD_STOPPING);
	ck_assert_int_eq(fake_kills[0].sig, SIGKILL);
	ck_assert_int_eq(c->fail, CHILD_FAIL_NONE);
	child_handle_exit(c, W_EXITCODE(0, SIGKILL));
	ck_assert_int_eq(c->state, CHILD_RESTARTING);
}
END_TEST

START_TEST(test_child_set_status)
{
	struct child		*c = add("web", SPEC_PERMANENT);
	struct child_waiter	 w = { .cb = wake_cb };
	struct wake_log		 l = { .n = 0 };

	w.arg = &l;
	child_set_status(c, "ignored");		/* stopped: no attrs */
	ck_assert_int_eq(attr_count("web"), 0);
	start(c);
	child_wait_attrs(c, &w);
	child_set_status(c, "busy");
	ck_assert_int_eq(attr_count("web"), 1);
	ck_assert_int_eq(l.n, 1);		/* attr waiters woken */
	ck_assert(!w.queued);
	child_wait_attrs(c, &w);
	child_unwait(c, &w);			/* from the attr list */
	ck_assert(!w.queued);
	child_set_status(c, "idle");
	ck_assert_int_eq(l.n, 1);
}
END_TEST

START_TEST(test_child_kill)
{
	struct child	*c = add("web", SPEC_PERMANENT);

	errno = 0;
	ck_assert_int_eq(child_kill(c, SIGHUP), -1);
	ck_assert_int_eq(errno, ESRCH);
	ck_assert_int_eq(fake_nkills, 0);
	start(c);
	ck_assert_int_eq(child_kill(c, SIGHUP), 0);
	ck_assert_int_eq(fake_nkills, 1);
	ck_assert_int_eq(fake_kills[0].pid, -c->pid);
	ck_assert_int_eq(fake_kills[0].sig, SIGHUP);
	ck_assert_int_eq(c->state, CHILD_RUNNING);	/* just a signal */
}
END_TEST

/* release: the row goes, the process is left alone. */
START_TEST(test_child_release)
{
	struct child	*c = add("web", SPEC_PERMANENT);
	pid_t		 pid;

	start(c);
	pid = c->pid;
	set_attr("web", "k");
	child_release(c);
	ck_assert(removed(c, "web"));
	ck_assert_ptr_null(child_find_pid(g, pid));
	ck_assert_int_eq(fake_nkills, 0);
	ck_assert_int_eq(g->tab->nprocs, 0);
	ck_assert(!ev_is_active(&c->cw));
	ck_assert_int_eq(attr_count("web"), 0);
}
END_TEST

static bool
is_dead(void *arg)
{
	return ((((struct child *)arg)->flags & CHILD_DEAD) != 0);
}

static bool
not_adopted(void *arg)
{
	return (!((struct child *)arg)->adopted);
}

/*
 * Adoption.  The "pidfd" here is a pipe's read end: like a pidfd, it
 * becomes readable when the process (our write end) goes away.
 */
START_TEST(test_child_adopt_without_cmd)
{
	struct childspec	*s = spec_new();
	struct child		*c;
	int			 p[2];

	s->name = xstrdup("stranger");
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	c = child_adopt(g, s, xstrdup("{}"), 4242, p[0]);
	ck_assert_ptr_nonnull(c);
	ck_assert(c->adopted);
	ck_assert_int_eq(c->state, CHILD_RUNNING);
	ck_assert_int_eq(c->pid, 4242);
	ck_assert_ptr_eq(child_find_pid(g, 4242), c);
	ck_assert_int_eq(g->tab->nprocs, 1);
	ck_assert_int_eq(fake_nspawn, 0);
	set_attr("stranger", "k");
	close(p[1]);				/* it dies */
	run_until(is_dead, c);
	ck_assert(removed(c, "stranger"));
	ck_assert_int_eq(g->tab->nprocs, 0);
	ck_assert_int_eq(attr_count("stranger"), 0);
}
END_TEST

START_TEST(test_child_adopt_with_cmd_restarts)
{
	struct child	*c;
	int		 p[2];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	c = child_adopt(g, test_spec("web", SPEC_PERMANENT), xstrdup("{}"),
	    4242, p[0]);
	ck_assert_ptr_nonnull(c);
	close(p[1]);
	run_until(not_adopted, c);
	ck_assert_int_eq(c->state, CHILD_RESTARTING);	/* by policy */
	ck_assert_int_eq(c->pid, -1);
	fire(c);			/* now a child of our own */
	ck_assert_int_eq(c->state, CHILD_RUNNING);
	ck_assert_int_eq(c->pid, FAKE_PID_BASE + 1);
}
END_TEST

START_TEST(test_child_adopt_duplicate)
{
	int	p[2];

	add("web", SPEC_PERMANENT);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	errno = 0;
	ck_assert_ptr_null(child_adopt(g, test_spec("web", SPEC_PERMANENT),
	    xstrdup("{}"), 4242, p[0]));	/* takes p[0] */
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_ptr_null(child_find_pid(g, 4242));
	ck_assert_int_eq(fcntl(p[0], F_GETFD), -1);	/* closed */
	close(p[1]);
}
END_TEST

/* after_terminate: the row is terminating, attrs readable, until it ends. */
START_TEST(test_child_hook_runs)
{
	struct child	*c = add("web", SPEC_PERMANENT);
	json_t		*payload;
	pid_t		 pid;

	spec_strv_add(&c->spec->after_terminate, &c->spec->nhook,
	    "/usr/local/bin/gtd-hook");
	spec_strv_add(&c->spec->after_terminate, &c->spec->nhook, "-v");
	c->spec->hook_timeout_ms = 400;
	start(c);
	pid = c->pid;
	set_attr("web", "k");
	child_handle_exit(c, W_EXITCODE(3, 0));
	ck_assert_int_eq(c->state, CHILD_TERMINATING);
	ck_assert_int_eq(fake_nspawn, 2);		/* the hook */
	ck_assert_int_eq(c->hook_pid, FAKE_PID_BASE + 2);
	ck_assert_int_eq(g->tab->nprocs, 1);
	ck_assert_int_eq(attr_count("web"), 1);		/* still readable */
	assert_timer(c, 0.4);
	ck_assert_str_eq(fake_last_plan.path, "/usr/local/bin/gtd-hook");
	ck_assert_str_eq(fake_last_plan.argv[1], "-v");
	ck_assert(fake_plan_has_env("GTD_EXIT_STATUS=3"));
	ck_assert(fake_plan_has_env("GTD_NAME=web"));
	ck_assert(fake_plan_has_env("GTD_ZONE=default"));
	payload = json_loads(fake_last_plan.stdin_text, 0, NULL);
	ck_assert_msg(payload != NULL, "hook stdin: %s",
	    fake_last_plan.stdin_text);
	ck_assert_str_eq(json_string_value(json_object_get(payload, "name")),
	    "web");
	ck_assert_int_eq(json_integer_value(json_object_get(payload, "pid")),
	    pid);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(
	    payload, "reason"), "exit_status")), 3);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(
	    payload, "attrs"), "k")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(payload,
	    "restart_count")), 0);
	json_decref(payload);
	/* The hook is done: attrs go, then the policy. */
	child_handle_hook_exit(c, W_EXITCODE(0, 0));
	ck_assert_int_eq(c->hook_pid, -1);
	ck_assert_int_eq(g->tab->nprocs, 0);
	ck_assert_int_eq(attr_count("web"), 0);
	ck_assert_int_eq(c->state, CHILD_RESTARTING);
	ck_assert_int_eq(c->restart_count, 1);
}
END_TEST

START_TEST(test_child_hook_signal_env)
{
	struct child	*c = add("web", SPEC_TEMPORARY);

	spec_strv_add(&c->spec->after_terminate, &c->spec->nhook, "/bin/h");
	start(c);
	child_stop(c, -1, false);
	child_handle_exit(c, W_EXITCODE(0, SIGTERM));
	ck_assert(fake_plan_has_env("GTD_EXIT_SIGNAL=SIGTERM"));
	ck_assert_ptr_nonnull(strstr(fake_last_plan.stdin_text,
	    "\"requested\":true"));
	child_handle_hook_exit(c, W_EXITCODE(1, 0));	/* failed: logged */
	ck_assert(removed(c, "web"));			/* temporary */
}
END_TEST

/* A hook past hook_timeout_ms is killed; its reap ends the incarnation. */
START_TEST(test_child_hook_timeout)
{
	struct child	*c = add("web", SPEC_PERMANENT);
	pid_t		 hook;

	spec_strv_add(&c->spec->after_terminate, &c->spec->nhook, "/bin/h");
	start(c);
	child_handle_exit(c, W_EXITCODE(1, 0));
	hook = c->hook_pid;
	fake_nkills = 0;
	fire(c);
	ck_assert_int_eq(fake_nkills, 2);
	ck_assert_int_eq(fake_kills[0].pid, -hook);
	ck_assert_int_eq(fake_kills[1].pid, hook);
	ck_assert_int_eq(fake_kills[1].sig, SIGKILL);
	ck_assert_int_eq(c->state, CHILD_TERMINATING);
	child_handle_hook_exit(c, W_EXITCODE(0, SIGKILL));
	ck_assert_int_eq(c->state, CHILD_RESTARTING);
}
END_TEST

/* A hook that cannot start does not hold the row up. */
START_TEST(test_child_hook_spawn_fails)
{
	struct child	*c = add("web", SPEC_PERMANENT);

	spec_strv_add(&c->spec->after_terminate, &c->spec->nhook, "/bin/h");
	start(c);
	set_attr("web", "k");
	fake_spawn_errno = EAGAIN;
	child_handle_exit(c, W_EXITCODE(1, 0));
	ck_assert_int_eq(c->hook_pid, -1);
	ck_assert_int_eq(c->state, CHILD_RESTARTING);
	ck_assert_int_eq(attr_count("web"), 0);
	ck_assert_int_eq(g->tab->nprocs, 0);
}
END_TEST

/* child_handle_hook_exit is a test entry point too (child.h). */
START_TEST(test_child_handle_hook_exit_stops_watcher)
{
	struct child	*c = add("web", SPEC_PERMANENT);

	spec_strv_add(&c->spec->after_terminate, &c->spec->nhook, "/bin/h");
	start(c);
	child_handle_exit(c, W_EXITCODE(1, 0));
	ck_assert(ev_is_active(&c->hookw));
	child_handle_hook_exit(c, W_EXITCODE(0, 0));
	ck_assert_msg(!ev_is_active(&c->hookw),
	    "hook ev_child still active after child_handle_hook_exit");
}
END_TEST

/*
 * A start that never became ready leaves nothing behind (protocol §4):
 * an exit while starting, a ready timeout, a stop while starting (the
 * waiter gets exited with requested) all remove a fresh row, with no
 * restart armed.
 */
static const char *const	never_ready_rows[] = { "exit", "timeout",
    "stop" };

START_TEST(test_child_never_ready_removed)
{
	struct child	*c = add("web", SPEC_PERMANENT);
	int		 wfd = status_pipe();
	const char	*how = never_ready_rows[_i];

	c->spec->ready_timeout_ms = 100;
	ck_assert_int_eq(child_start(c), 0);
	ck_assert_int_eq(c->state, CHILD_STARTING);
	if (strcmp(how, "timeout") == 0)
		fire(c);
	else if (strcmp(how, "stop") == 0)
		child_stop(c, -1, false);
	child_handle_exit(c, strcmp(how, "exit") == 0 ? W_EXITCODE(2, 0) :
	    W_EXITCODE(0, strcmp(how, "stop") == 0 ? SIGTERM : SIGKILL));
	close(wfd);
	ck_assert_msg(removed(c, "web"), "%s: row kept, state %s", how,
	    child_state_name(c->state));
	ck_assert(!ev_is_active(&c->timer));
	ck_assert_int_eq(c->restart_count, 0);
	ck_assert_int_eq(fake_nspawn, 1);
	ck_assert(c->last_requested == (strcmp(how, "stop") == 0));
}
END_TEST

/* Park a row that was ready once as stopped (a requested stop). */
static void
ready_then_stopped(struct child *c)
{
	start(c);
	child_stop(c, -1, false);
	child_handle_exit(c, W_EXITCODE(0, SIGTERM));
	ck_assert_int_eq(c->state, CHILD_STOPPED);
}

/* A start on request (from stopped) that fails leaves the row stopped. */
START_TEST(test_child_manual_start_fails_stopped)
{
	struct child	*c = add("web", SPEC_PERMANENT);
	int		 wfd;

	ready_then_stopped(c);
	wfd = status_pipe();
	ck_assert_int_eq(child_start(c), 0);
	ck_assert(c->manual);
	child_handle_exit(c, W_EXITCODE(1, 0));
	close(wfd);
	ck_assert_int_eq(c->state, CHILD_STOPPED);
	ck_assert(!ev_is_active(&c->timer));
	ck_assert_int_eq(c->restart_count, 0);
	ck_assert_int_eq(c->restart_at, 0);
	ck_assert(!c->last_requested);
	ck_assert_ptr_eq(child_find(g, "web"), c);
}
END_TEST

/* A policy restart that fails before it is ready: the policy again. */
START_TEST(test_child_policy_restart_fails_restarts)
{
	struct child	*c = add("web", SPEC_PERMANENT);
	int		 wfd;

	start(c);
	child_handle_exit(c, W_EXITCODE(1, 0));
	ck_assert_int_eq(c->state, CHILD_RESTARTING);
	wfd = status_pipe();
	fire(c);
	ck_assert_int_eq(c->state, CHILD_STARTING);
	ck_assert(!c->manual);
	child_handle_exit(c, W_EXITCODE(1, 0));
	close(wfd);
	ck_assert_int_eq(c->state, CHILD_RESTARTING);
	ck_assert_int_eq(c->restart_count, 2);
}
END_TEST

/* restart_at: when the next try is due; gave_up: the policy gave up. */
START_TEST(test_child_restart_at_and_gave_up)
{
	struct child	*c = add("web", SPEC_PERMANENT);
	int64_t		 now;

	c->spec->max_restarts = 1;
	c->spec->restart_delay_ms = 3000;
	c->spec->backoff_jitter = 0;
	start(c);
	ck_assert_int_eq(c->restart_at, 0);
	now = clock_now_ms(g->loop);
	child_handle_exit(c, W_EXITCODE(1, 0));
	ck_assert_int_eq(c->state, CHILD_RESTARTING);
	ck_assert_msg(c->restart_at >= now + 3000 && c->restart_at < now +
	    3100, "restart_at %lld, now %lld", (long long)c->restart_at,
	    (long long)now);
	ck_assert(!c->gave_up);
	fire(c);
	ck_assert_int_eq(c->restart_at, 0);
	child_handle_exit(c, W_EXITCODE(1, 0));	/* past max_restarts */
	ck_assert_int_eq(c->state, CHILD_STOPPED);
	ck_assert(c->gave_up);
	ck_assert_int_eq(c->restart_at, 0);
	start(c);				/* restart_child */
	ck_assert(!c->gave_up);
}
END_TEST

/* A manual start resets the intensity window and the backoff. */
START_TEST(test_child_manual_start_resets_intensity)
{
	struct child	*c = add("web", SPEC_PERMANENT);

	c->spec->max_restarts = 2;
	c->spec->restart_delay_ms = 100;
	c->spec->backoff_jitter = 0;
	start(c);
	child_handle_exit(c, W_EXITCODE(1, 0));
	fire(c);
	child_handle_exit(c, W_EXITCODE(1, 0));
	assert_timer(c, 0.2);			/* backoff: 100 ms * 2 */
	fire(c);
	child_handle_exit(c, W_EXITCODE(1, 0));
	ck_assert(c->gave_up);
	ck_assert_int_eq(c->state, CHILD_STOPPED);
	start(c);				/* restart_child */
	ck_assert_int_eq(c->hist.n, 0);
	ck_assert_int_eq(c->hist.consecutive, 0);
	child_handle_exit(c, W_EXITCODE(1, 0));	/* a fresh window */
	ck_assert_int_eq(c->state, CHILD_RESTARTING);
	assert_timer(c, 0.1);			/* and a fresh backoff */
	ck_assert_int_eq(c->restart_count, 3);
}
END_TEST

/* Record every state a child passes through (a waiter that re-arms). */
struct trail {
	struct child_waiter	 w;
	enum child_state	 st[16];
	int			 n;
};

static void
trail_cb(struct child *c, void *arg)
{
	struct trail	*t = arg;

	if (t->n < 16)
		t->st[t->n++] = c->state;
	if (!(c->flags & CHILD_DEAD))
		child_wait(c, &t->w);
}

static void
trail_start(struct child *c, struct trail *t)
{
	memset(t, 0, sizeof *t);
	t->w.cb = trail_cb;
	t->w.arg = t;
	child_wait(c, &t->w);
}

static bool
trail_has(const struct trail *t, enum child_state st)
{
	int	i;

	for (i = 0; i < t->n; i++)
		if (t->st[i] == st)
			return (true);
	return (false);
}

/*
 * restart_child force of a running child: stopped on request (its hook
 * runs), then started again without ever being stopped in between.
 */
START_TEST(test_child_restart_force_running)
{
	struct child	*c = add("web", SPEC_PERMANENT);
	struct trail	 t;
	pid_t		 old;
	unsigned	 inc;

	start(c);
	old = c->pid;
	inc = c->incarnation;
	trail_start(c, &t);
	ck_assert_int_eq(child_restart(c), 0);
	ck_assert_int_eq(c->state, CHILD_STOPPING);
	ck_assert(c->bounce);
	ck_assert_int_eq(fake_kills[0].pid, -old);
	ck_assert_int_eq(fake_kills[0].sig, SIGTERM);
	child_handle_exit(c, W_EXITCODE(0, SIGTERM));
	ck_assert_int_eq(c->state, CHILD_RUNNING);
	ck_assert_int_ne(c->pid, old);
	ck_assert_uint_eq(c->incarnation, inc + 1);
	ck_assert(!trail_has(&t, CHILD_STOPPED));
	ck_assert(!trail_has(&t, CHILD_RESTARTING));
	ck_assert(trail_has(&t, CHILD_TERMINATING));
	ck_assert(c->last_requested);
	ck_assert_int_eq(c->restart_count, 0);
	ck_assert(!c->bounce);
	child_unwait(c, &t.w);
}
END_TEST

/* A stop request meanwhile wins: the row ends stopped. */
START_TEST(test_child_restart_force_then_stop)
{
	struct child	*c = add("web", SPEC_PERMANENT);

	start(c);
	ck_assert_int_eq(child_restart(c), 0);
	child_stop(c, -1, false);
	ck_assert(!c->bounce);
	child_handle_exit(c, W_EXITCODE(0, SIGTERM));
	ck_assert_int_eq(c->state, CHILD_STOPPED);
	ck_assert_int_eq(fake_nspawn, 1);
}
END_TEST

/* restart_child force of a restarting row: now, not at the timer. */
START_TEST(test_child_restart_force_restarting)
{
	struct child	*c = add("web", SPEC_PERMANENT);

	start(c);
	child_handle_exit(c, W_EXITCODE(1, 0));
	ck_assert_int_eq(c->state, CHILD_RESTARTING);
	ck_assert_int_eq(child_restart(c), 0);
	ck_assert_int_eq(c->state, CHILD_RUNNING);
	ck_assert_int_eq(c->restart_at, 0);
	ck_assert_int_eq(fake_nspawn, 2);
	ck_assert(c->manual);
}
END_TEST

/* The reason of a stop that escalated: who asked, what, and SIGKILL. */
START_TEST(test_child_reason_escalated)
{
	struct child		*c = add("web", SPEC_PERMANENT);
	struct policy_reason	 r;

	start(c);
	child_stop(c, 250, false);
	fire(c);				/* the stop timeout */
	ck_assert_int_eq(fake_kills[1].sig, SIGKILL);
	child_handle_exit(c, W_EXITCODE(0, SIGKILL));
	child_reason(c, &r);
	ck_assert(r.has_status && r.requested && r.escalated);
	ck_assert_int_eq(r.stop_signal, SIGTERM);
	ck_assert_int_eq(r.timeout_ms, 250);
	ck_assert_ptr_null(r.spawn_errno);
	/* Stopped in time: no escalation. */
	start(c);
	child_stop(c, 250, false);
	child_handle_exit(c, W_EXITCODE(0, SIGTERM));
	child_reason(c, &r);
	ck_assert(r.requested && !r.escalated);
	/* A crash: not requested, no stop signal. */
	start(c);
	child_handle_exit(c, W_EXITCODE(0, SIGSEGV));
	child_reason(c, &r);
	ck_assert(!r.requested && !r.escalated);
	ck_assert_int_eq(r.stop_signal, 0);
}
END_TEST

/* The exec-status pipe names the step: chdir, with the cwd as path. */
START_TEST(test_child_exec_status_step)
{
	struct child		*c = add("web", SPEC_PERMANENT);
	struct spawn_fail	 f = { ENOENT, SPAWN_STEP_CHDIR };
	struct policy_reason	 r;
	char			 buf[256];
	int			 wfd = status_pipe();

	free(c->spec->cwd);
	c->spec->cwd = xstrdup("/nonexistent");
	ck_assert_int_eq(child_start(c), 0);
	ck_assert_int_eq(write(wfd, &f, sizeof f), (ssize_t)sizeof f);
	close(wfd);
	run_until(status_read, c);
	ck_assert_int_eq(c->fail, CHILD_FAIL_SPAWN);
	ck_assert_int_eq(c->fail_step, SPAWN_STEP_CHDIR);
	ck_assert_str_eq(c->fail_path, "/nonexistent");
	ck_assert_str_eq(child_fail_text(c, buf, sizeof buf),
	    "chdir /nonexistent: No such file or directory");
	child_handle_exit(c, W_EXITCODE(127, 0));
	child_reason(c, &r);
	ck_assert_str_eq(r.spawn_errno, "ENOENT");
	ck_assert_str_eq(r.spawn_step, "chdir");
	ck_assert_str_eq(r.spawn_path, "/nonexistent");
	ck_assert(removed(c, "web"));
}
END_TEST

/* fork failing names step "fork", a missing program "exec" and its name. */
START_TEST(test_child_spawn_fail_steps)
{
	struct child	*c = add("web", SPEC_PERMANENT);
	struct child	*d = add("ghost", SPEC_PERMANENT);
	char		 buf[256];

	fake_spawn_errno = EAGAIN;
	ck_assert_int_eq(child_start(c), -1);
	ck_assert_int_eq(c->fail_step, SPAWN_STEP_FORK);
	ck_assert_ptr_null(c->fail_path);
	fake_spawn_errno = 0;
	free(d->spec->cmd[0]);
	d->spec->cmd[0] = xstrdup("gtd-check-no-such-program");
	spec_strv_add(&d->spec->env, &d->spec->nenv,
	    "PATH=/nonexistent-gtd-check");
	ck_assert_int_eq(child_start(d), -1);
	ck_assert_int_eq(d->fail_step, SPAWN_STEP_EXEC);
	ck_assert_str_eq(child_fail_text(d, buf, sizeof buf),
	    "exec gtd-check-no-such-program: No such file or directory");
}
END_TEST

static bool
not_released(void *arg)
{
	return (!((struct child *)arg)->released);
}

/*
 * release: the row goes at once; the output pipe is read on until the
 * process closes it (here at once: the fake process has no end of it),
 * and only then is the child freed.  max_children bounds how many may
 * be draining.
 */
START_TEST(test_child_release_drains_output)
{
	struct child	*c = add("web", SPEC_PERMANENT);
	struct child	*d = add("db", SPEC_PERMANENT);

	start(c);
	start(d);
	ck_assert_ptr_nonnull(c->log);
	ck_assert_int_ne(c->log->in[0]->fd, -1);
	g->lim.max_children = 1;
	ck_assert_int_eq(child_release(c), 0);
	ck_assert(removed(c, "web"));
	ck_assert(c->released);
	ck_assert_int_eq(c->refs, 1);
	ck_assert_int_eq(g->tab->nreleased, 1);
	errno = 0;
	ck_assert_int_eq(child_release(d), -1);	/* one is draining */
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert_ptr_eq(child_find(g, "db"), d);
	run_until(not_released, c);
	ck_assert_int_eq(c->refs, 0);
	ck_assert_int_eq(g->tab->nreleased, 0);
	ck_assert_int_eq(child_release(d), 0);
}
END_TEST

/* A hook's output goes to the child's log, never to gtd's 1 and 2. */
START_TEST(test_child_hook_output_captured)
{
	struct child	*c = add("web", SPEC_PERMANENT);

	spec_strv_add(&c->spec->after_terminate, &c->spec->nhook, "/bin/true");
	c->spec->out[0].mode = c->spec->out[1].mode = SPEC_OUT_INHERIT;
	start(c);
	child_handle_exit(c, W_EXITCODE(3, 0));
	ck_assert_int_gt(c->hook_pid, 0);
	ck_assert_int_gt(fake_last_plan.fd_out, 2);
	ck_assert_int_eq(fake_last_plan.fd_err, fake_last_plan.fd_out);
	ck_assert_ptr_nonnull(c->log);
	ck_assert_int_ne(c->log->in[0]->fd, -1);
	ck_assert_str_eq(c->log->in[0]->stream, "hook");
	child_handle_hook_exit(c, W_EXITCODE(0, 0));
	ck_assert_int_eq(c->log->in[0]->fd, -1);
}
END_TEST

/* A second signal at shutdown kills running hooks too, and no new one runs. */
START_TEST(test_child_kill_all_hooks)
{
	struct child	*c = add("web", SPEC_PERMANENT);
	struct child	*d = add("db", SPEC_PERMANENT);
	pid_t		 hook;

	spec_strv_add(&c->spec->after_terminate, &c->spec->nhook, "/bin/true");
	spec_strv_add(&d->spec->after_terminate, &d->spec->nhook, "/bin/true");
	start(c);
	start(d);
	child_handle_exit(c, W_EXITCODE(3, 0));
	hook = c->hook_pid;
	ck_assert_int_gt(hook, 0);
	fake_nkills = 0;
	gtd_kill_all(g, false);			/* the backstop: children */
	ck_assert_int_eq(fake_nkills, 1);
	ck_assert_int_eq(fake_kills[0].pid, -d->pid);
	fake_nkills = 0;
	g->shut->forced = true;
	gtd_kill_all(g, true);			/* a second signal */
	ck_assert_int_eq(fake_kills[0].pid, -hook);
	ck_assert_int_eq(fake_kills[0].sig, SIGKILL);
	child_handle_exit(d, W_EXITCODE(0, SIGKILL));
	ck_assert_int_eq(d->hook_pid, -1);	/* no new hook */
	ck_assert_int_eq(fake_nspawn, 3);
}
END_TEST

/*
 * A waiter's callback may unwait another waiter of the same wake (a
 * request given up while the wake runs): that one is not called, and
 * the lists stay whole (it used to be removed from the child's list, on
 * which it no longer was).
 */
static struct child_waiter	wl_a, wl_b, wl_c;
static int			wl_calls[3];

static void
wl_cb(struct child *c, void *arg)
{
	int	i = (int)(intptr_t)arg;

	wl_calls[i]++;
	if (i == 0)
		child_unwait(c, &wl_b);
}

START_TEST(test_child_wake_unwaits_another)
{
	struct child	*c = add("w", SPEC_PERMANENT);
	int		 round;

	for (round = 1; round <= 2; round++) {
		wl_a = (struct child_waiter){ .cb = wl_cb, .arg = (void *)0 };
		wl_b = (struct child_waiter){ .cb = wl_cb, .arg = (void *)1 };
		wl_c = (struct child_waiter){ .cb = wl_cb, .arg = (void *)2 };
		child_wait(c, &wl_a);
		child_wait(c, &wl_b);
		child_wait(c, &wl_c);
		ck_assert_int_eq(child_start(c), 0);	/* wakes them */
		ck_assert_int_eq(wl_calls[0], round);
		ck_assert_int_eq(wl_calls[1], 0);
		ck_assert_int_eq(wl_calls[2], round);
		ck_assert(TAILQ_EMPTY(&c->waiters));
		ck_assert(!wl_b.queued);
		child_handle_exit(c, W_EXITCODE(0, 0));
		child_stop(c, -1, false);
	}
	/* The same on the attr waiters. */
	wl_a = (struct child_waiter){ .cb = wl_cb, .arg = (void *)0 };
	wl_b = (struct child_waiter){ .cb = wl_cb, .arg = (void *)1 };
	child_wait_attrs(c, &wl_a);
	child_wait_attrs(c, &wl_b);
	child_attrs_changed(c);
	ck_assert_int_eq(wl_calls[0], 3);
	ck_assert_int_eq(wl_calls[1], 0);
	ck_assert(TAILQ_EMPTY(&c->attr_waiters));
	child_wait_attrs(c, &wl_b);		/* the list still works */
	child_attrs_changed(c);
	ck_assert_int_eq(wl_calls[1], 1);
}
END_TEST

/*
 * The core reports through its observer, with no socket: a recording
 * observer sees a crash as terminating then restarting, and
 * every attr writer (the spec's attrs, STATUS=, set, incr, del).
 */
static enum child_state	rec_states[16];
static int		rec_nstates;
static char		rec_attrs[512];

static void
rec_state(struct child *c, enum child_state old, void *arg)
{
	if (rec_nstates < 16)
		rec_states[rec_nstates++] = c->state;
}

static void
rec_attr(struct child *c, const char *const *keys, const struct value *vals,
    size_t n, void *arg)
{
	size_t	i, len = strlen(rec_attrs);

	for (i = 0; i < n; i++)
		len += snprintf(rec_attrs + len, sizeof rec_attrs - len,
		    "%s%s%s", len > 0 ? " " : "", vals == NULL ? "-" : "",
		    keys[i]);
}

static const struct child_observer rec_obs = {
	.state = rec_state,
	.attrs = rec_attr
};

START_TEST(test_child_observer_records)
{
	static const char *const	 key = "k";
	struct value			 v = { .type = VALUE_INT, .i = 1 };
	struct child			*c = add("web", SPEC_PERMANENT);
	int64_t				 r;
	enum registry_incr		 how;
	bool				 found;

	c->spec->attrs = xcalloc(1, sizeof *c->spec->attrs);
	c->spec->attrs[0].key = xstrdup("role");
	c->spec->attrs[0].v.type = VALUE_INT;
	c->spec->nattrs = 1;
	g->obs = &rec_obs;
	start(c);
	ck_assert_str_eq(rec_attrs, "role");
	rec_nstates = 0;
	child_handle_exit(c, W_EXITCODE(1, 0));
	ck_assert_msg(rec_nstates == 2 && rec_states[0] == CHILD_TERMINATING &&
	    rec_states[1] == CHILD_RESTARTING, "%d states: %d %d",
	    rec_nstates, rec_states[0], rec_states[1]);
	rec_attrs[0] = '\0';
	ck_assert_int_eq(child_start(c), 0);	/* the spec's attrs again */
	child_set_status(c, "up");
	ck_assert_int_eq(child_attr_set(c, &key, &v, 1), 0);
	ck_assert_int_eq(child_attr_incr(c, "k", 2, NULL, &r, &how), 0);
	ck_assert_int_eq(how, REGISTRY_INCR_OK);
	ck_assert_int_eq(r, 3);
	ck_assert_int_eq(child_attr_del(c, "k", &found), 0);
	ck_assert(found);
	ck_assert_int_eq(child_attr_del(c, "k", &found), 0);
	ck_assert(!found);		/* nothing deleted: no report */
	ck_assert_str_eq(rec_attrs, "role status k k -k");
}
END_TEST

/*
 * child_hold (a group restart): a running row is stopped on request and
 * waits in restarting with no time, no timer, nothing counted; a
 * restarting row's timer is cancelled; child_start_policy starts it
 * without a new window.  A stop on request meanwhile wins.
 */
START_TEST(test_child_hold)
{
	struct child	*c = add("web", SPEC_PERMANENT);
	struct child	*d = add("db", SPEC_PERMANENT);

	start(c);
	child_hold(c);
	ck_assert_int_eq(c->state, CHILD_STOPPING);
	ck_assert(c->held && c->want_down);
	child_handle_exit(c, W_EXITCODE(0, SIGTERM));
	ck_assert_int_eq(c->state, CHILD_RESTARTING);
	ck_assert_int_eq(c->restart_at, 0);
	ck_assert(!ev_is_active(&c->timer));
	ck_assert_int_eq(c->restart_count, 0);
	ck_assert(!c->held);
	ck_assert_int_eq(child_start_policy(c), 0);
	ck_assert_int_eq(c->state, CHILD_RUNNING);
	ck_assert(!c->manual);
	/* Restarting by its policy: the timer goes, the row waits. */
	child_handle_exit(c, W_EXITCODE(1, 0));
	ck_assert_int_eq(c->state, CHILD_RESTARTING);
	ck_assert(ev_is_active(&c->timer));
	child_hold(c);
	ck_assert_int_eq(c->state, CHILD_RESTARTING);
	ck_assert_int_eq(c->restart_at, 0);
	ck_assert(!ev_is_active(&c->timer));
	/* A stop on request while it goes down: it ends stopped. */
	start(d);
	child_hold(d);
	child_stop(d, -1, false);
	ck_assert(!d->held);
	child_handle_exit(d, W_EXITCODE(0, SIGTERM));
	ck_assert_int_eq(d->state, CHILD_STOPPED);
	/* Stopping on request already: the hold leaves it so. */
	ck_assert_int_eq(child_start(d), 0);
	child_stop(d, -1, false);
	child_hold(d);
	ck_assert(!d->held);
	child_handle_exit(d, W_EXITCODE(0, SIGTERM));
	ck_assert_int_eq(d->state, CHILD_STOPPED);
}
END_TEST

/*
 * Rows added with equal specs hold one, without a name (each row has its
 * own); a different spec is not shared; a reload's spec replaces one
 * row's only (copy on write); the last row to go frees it.
 */
START_TEST(test_child_spec_shared)
{
	struct child	*x, *y, *z;
	struct childspec *s;

	x = child_add(g, test_spec("x", SPEC_PERMANENT), xstrdup("{}"));
	y = child_add(g, test_spec("y", SPEC_PERMANENT), xstrdup("{}"));
	s = test_spec("z", SPEC_PERMANENT);
	spec_strv_add(&s->env, &s->nenv, "A=1");
	z = child_add(g, s, xstrdup("{}"));
	ck_assert_ptr_nonnull(x);
	ck_assert_ptr_nonnull(y);
	ck_assert_ptr_nonnull(z);
	ck_assert_ptr_eq(x->spec, y->spec);
	ck_assert_int_eq(x->spec->refs, 2);
	ck_assert_ptr_null(x->spec->name);
	ck_assert_str_eq(x->name, "x");
	ck_assert_str_eq(y->name, "y");
	ck_assert_ptr_eq(child_find(g, "y"), y);
	ck_assert_ptr_ne(z->spec, x->spec);
	ck_assert_int_eq(z->spec->refs, 1);
	ck_assert_uint_eq(g->tab->nspecs, 2);
	/* A reload gave y a new spec: x keeps the old one as it was. */
	y->next_spec = test_spec("y", SPEC_TRANSIENT);
	ck_assert_int_eq(child_start(y), 0);
	ck_assert_ptr_ne(y->spec, x->spec);
	ck_assert_int_eq(y->spec->restart, SPEC_TRANSIENT);
	ck_assert_int_eq(x->spec->restart, SPEC_PERMANENT);
	ck_assert_int_eq(x->spec->refs, 1);
	ck_assert_ptr_null(y->spec->name);
	ck_assert_str_eq(y->name, "y");
	ck_assert_uint_eq(g->tab->nspecs, 3);
	/* x goes: its spec with it; y and z are untouched. */
	child_remove(x);
	child_reap_dead(g);
	ck_assert_uint_eq(g->tab->nspecs, 2);
	ck_assert_int_eq(y->spec->restart, SPEC_TRANSIENT);
	ck_assert_ptr_eq(child_find(g, "z"), z);
}
END_TEST

/* Specs made to share one hash chain: past its bound, none is shared. */
START_TEST(test_child_spec_chain_bounded)
{
	struct childspec	*s;
	struct child		*c[40];
	char			 name[16], attr[16];
	size_t			 i, kept;

	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof name, "c%zu", i);
		s = test_spec(name, SPEC_PERMANENT);
		/* The hash reads how many attrs, not their keys. */
		s->attrs = xcalloc(1, sizeof *s->attrs);
		s->nattrs = 1;
		snprintf(attr, sizeof attr, "k%zu", i);
		s->attrs[0].key = xstrdup(attr);
		s->attrs[0].v.type = VALUE_INT;
		ck_assert_ptr_nonnull(c[i] = child_add(g, s, xstrdup("{}")));
	}
	for (i = 0; i < 40; i++)
		ck_assert_int_eq(c[i]->spec->refs, 1);
	kept = g->tab->nspecs;
	ck_assert_uint_eq(kept, 8);	/* CHILD_SPEC_CHAIN */
	for (i = 0; i < 40; i++)
		child_remove(c[i]);
	child_reap_dead(g);
	ck_assert_uint_eq(g->tab->nspecs, 0);
}
END_TEST

Suite *
child_suite(void)
{
	Suite	*s = suite_create("child");
	TCase	*tc;

	tc = tcase_create("rows");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_child_add_find);
	tcase_add_test(tc, test_child_add_duplicate_and_limit);
	tcase_add_test(tc, test_child_many_rows);
	tcase_add_test(tc, test_child_pid_hash_collisions);
	tcase_add_test(tc, test_child_state_names);
	tcase_add_test(tc, test_child_waiters);
	tcase_add_test(tc, test_child_refs_defer_free);
	suite_add_tcase(s, tc);

	tc = tcase_create("start");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_child_start_running);
	tcase_add_test(tc, test_child_start_plan);
	tcase_add_test(tc, test_child_start_clear_env);
	tcase_add_test(tc, test_child_exec_status_ok);
	tcase_add_test(tc, test_child_exec_status_fail);
	tcase_add_test(tc, test_child_exec_status_read_at_exit);
	tcase_add_test(tc, test_child_exit_while_starting);
	tcase_add_test(tc, test_child_spawn_fails_new_row);
	tcase_add_test(tc, test_child_spawn_not_in_path);
	tcase_add_test(tc, test_child_spawn_fails_on_restart);
	tcase_add_test(tc, test_child_spawn_fails_restart_gives_up);
	tcase_add_test(tc, test_child_spawn_fails_stopped_row);
	tcase_add_test(tc, test_child_spec_attrs_seeded);
	suite_add_tcase(s, tc);

	tc = tcase_create("ready");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_child_ready_timeout);
	tcase_add_test(tc, test_child_ready_notify);
	tcase_add_test(tc, test_child_ready_fd);
	tcase_add_test(tc, test_child_ready_fd_eof);
	tcase_add_test(tc, test_child_watchdog);
	tcase_add_test(tc, test_child_set_status);
	suite_add_tcase(s, tc);

	tc = tcase_create("hook");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_child_hook_runs);
	tcase_add_test(tc, test_child_hook_signal_env);
	tcase_add_test(tc, test_child_hook_timeout);
	tcase_add_test(tc, test_child_hook_spawn_fails);
	tcase_add_test(tc, test_child_handle_hook_exit_stops_watcher);
	suite_add_tcase(s, tc);

	tc = tcase_create("adopt");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_child_kill);
	tcase_add_test(tc, test_child_release);
	tcase_add_test(tc, test_child_adopt_without_cmd);
	tcase_add_test(tc, test_child_adopt_with_cmd_restarts);
	tcase_add_test(tc, test_child_adopt_duplicate);
	suite_add_tcase(s, tc);

	tc = tcase_create("exit");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_child_permanent_crash_restarts);
	tcase_add_test(tc, test_child_restart_via_loop);
	tcase_add_loop_test(tc, test_child_exit_table, 0, NROWS(exit_rows));
	tcase_add_loop_test(tc, test_child_intensity_gives_up, 0,
	    NROWS(give_up_rows));
	tcase_add_test(tc, test_child_give_up_exit_stops_others);
	tcase_add_test(tc, test_child_handle_exit_stops_watcher);
	suite_add_tcase(s, tc);

	tc = tcase_create("stop");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_child_stop_running);
	tcase_add_loop_test(tc, test_child_stop_table, 0, NROWS(stop_rows));
	tcase_add_test(tc, test_child_stop_while_starting);
	tcase_add_loop_test(tc, test_child_stop_infinity_disarms, 0,
	    NROWS(infinity_rows));
	tcase_add_test(tc, test_child_stop_escalates);
	tcase_add_test(tc, test_child_stop_escalates_via_loop);
	tcase_add_test(tc, test_child_stop_without_group);
	tcase_add_test(tc, test_child_stop_group_esrch);
	tcase_add_test(tc, test_child_stop_temporary_removes);
	tcase_add_test(tc, test_child_stop_delete_after);
	tcase_add_test(tc, test_child_stop_stopped_row);
	tcase_add_test(tc, test_child_stop_restarting);
	tcase_add_test(tc, test_child_delete_restarting);
	tcase_add_test(tc, test_child_shutdown_stops_all);
	tcase_add_test(tc, test_child_kill_all);
	suite_add_tcase(s, tc);

	tc = tcase_create("lifecycle");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_child_never_ready_removed, 0,
	    NROWS(never_ready_rows));
	tcase_add_test(tc, test_child_manual_start_fails_stopped);
	tcase_add_test(tc, test_child_policy_restart_fails_restarts);
	tcase_add_test(tc, test_child_restart_at_and_gave_up);
	tcase_add_test(tc, test_child_manual_start_resets_intensity);
	tcase_add_test(tc, test_child_restart_force_running);
	tcase_add_test(tc, test_child_restart_force_then_stop);
	tcase_add_test(tc, test_child_hold);
	tcase_add_test(tc, test_child_restart_force_restarting);
	tcase_add_test(tc, test_child_reason_escalated);
	tcase_add_test(tc, test_child_exec_status_step);
	tcase_add_test(tc, test_child_spawn_fail_steps);
	tcase_add_test(tc, test_child_release_drains_output);
	tcase_add_test(tc, test_child_hook_output_captured);
	tcase_add_test(tc, test_child_kill_all_hooks);
	tcase_add_test(tc, test_child_observer_records);
	suite_add_tcase(s, tc);

	tc = tcase_create("waiters");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_child_wake_unwaits_another);
	suite_add_tcase(s, tc);

	tc = tcase_create("spec_shared");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_child_spec_shared);
	tcase_add_test(tc, test_child_spec_chain_bounded);
	tcase_add_test(tc, test_child_release_order);
	suite_add_tcase(s, tc);
	return (s);
}
