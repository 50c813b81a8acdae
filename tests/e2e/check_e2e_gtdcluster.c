/* SPDX-License-Identifier: MIT */
/*
 * e2e_gtdcluster: gtd's cluster (protocol §9.3) end to end: three gtd
 * nodes on a three-member etcd on loopback (etcdrun.h), through the
 * socket.  The failover children check the guarantee themselves: each
 * writes "FENCE PID" to a shared owner file when it starts (after
 * checking that the previous owner's process is dead) and re-reads it
 * every 50 ms; a process that finds another owner, or finds the
 * previous owner alive, writes a line to DIR/viol.  Every wait is a
 * condition with a deadline.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "etcdrun.h"
#include "gtd.h"
#include "harness.h"

#define NNODES		3
#define TTL_MS		2000
#define RACE_NAMES	100
#define W_MS		15000		/* a generous condition deadline */

static struct etcdrun	*run;
static struct e2e	*nodes[NNODES];
static int		 ttl_ms = TTL_MS;

/* The failover child: see the header. */
static const char fence_script[] =
	"f=\"$D/owner.$GTD_NAME\"; me=\"$GTD_FENCE $$\"\n"
	"if read -r of op 2>/dev/null < \"$f\"; then\n"
	"  if read -r st 2>/dev/null < /proc/$op/stat; then\n"
	"    set -- $st; [ \"$3\" = Z ] || "
	"echo \"twice $GTD_NAME $me old $of $op\" >> \"$D/viol\"\n"
	"  fi\n"
	"  [ \"$GTD_FENCE\" -gt \"$of\" ] || "
	"echo \"fence $GTD_NAME $me old $of\" >> \"$D/viol\"\n"
	"fi\n"
	"echo \"$me\" > \"$f.$$\"; mv \"$f.$$\" \"$f\"\n"
	"echo \"$GTD_NAME $me\" >> \"$D/starts\"\n"
	"while :; do read -r o < \"$f\"; [ \"$o\" = \"$me\" ] || "
	"{ echo \"overlap $GTD_NAME $me saw $o\" >> \"$D/viol\"; exit 0; }; "
	"sleep 0.05; done\n";

static json_t *
node_conf(int i)
{
	json_t	*etcd = json_array();
	char	 node[8];
	int	 k;

	for (k = 0; k < etcdrun_size(run); k++)
		json_array_append_new(etcd,
		    json_string(etcdrun_endpoint(run, k)));
	snprintf(node, sizeof node, "n%d", i);
	return (json_pack("{s:{s:o, s:s, s:i}}", "cluster", "etcd", etcd,
	    "node", node, "lease_ttl_ms", ttl_ms));
}

struct up_arg {
	struct e2e	*e;
	int		 nnodes;
};

static bool
node_up(void *arg)
{
	struct up_arg	*a = arg;
	json_t		*r = e2e_req(a->e, "cluster_status", NULL);

	return (json_is_true(json_object_get(r, "ok")) &&
	    json_is_true(json_object_get(r, "connected")) &&
	    json_array_size(json_object_get(r, "nodes")) ==
	    (size_t)a->nnodes);
}

/* Start n gtd nodes and wait until each sees all of them. */
static void
start_nodes(int n)
{
	struct up_arg	a;
	int		i;

	for (i = 0; i < n; i++)
		nodes[i] = e2e_start_json(node_conf(i));
	for (i = 0; i < n; i++) {
		a = (struct up_arg){ nodes[i], n };
		ck_assert_msg(e2e_wait_until(W_MS, node_up, &a),
		    "node n%d did not see %d nodes: %s", i, n,
		    e2e_dump(nodes[i], e2e_req(nodes[i], "cluster_status",
		    NULL)));
	}
}

static void
setup(void)
{
	run = etcdrun_start(3);
	memset(nodes, 0, sizeof nodes);
	ttl_ms = TTL_MS;
}

static void
teardown(void)
{
	int	i;

	for (i = NNODES - 1; i >= 0; i--)
		if (nodes[i] != NULL)
			e2e_stop(nodes[i]);
	etcdrun_stop(run);
}

/* The failover child's spec (its files in dir). */
static json_t *
fence_spec(const char *name, const char *dir)
{
	return (json_pack("{s:s, s:[s,s,s], s:{s:s}, s:s, s:b}", "name", name,
	    "cmd", "/bin/sh", "-c", fence_script, "env", "D", dir, "scope",
	    "cluster", "failover", true));
}

/* The node (index) whose find of name says node, or -1. */
static int
holder(const char *name)
{
	json_t		*r;
	const char	*node;

	r = e2e_req(nodes[0], "find", "{s:s}", "name", name);
	if ((node = json_string_value(json_object_get(r, "node"))) == NULL ||
	    !json_is_true(json_object_get(r, "ok")))
		return (-1);
	return (node[1] - '0');
}

struct lines_arg {
	const char	*path;
	int		 n;
};

static bool
has_lines(void *arg)
{
	struct lines_arg	*a = arg;

	return (e2e_count_lines(a->path) >= a->n);
}

/* No child saw another one run with it. */
static void
assert_no_violation(const char *dir)
{
	char	path[512];
	FILE	*f;
	char	line[512];

	snprintf(path, sizeof path, "%s/viol", dir);
	if ((f = fopen(path, "r")) == NULL)
		return;
	line[0] = '\0';
	if (fgets(line, sizeof line, f) == NULL)
		line[0] = '\0';
	fclose(f);
	ck_abort_msg("a failover child ran twice: %s", line);
}

/*
 * Open a connection to each node and send each a find_or_open of names
 * PREFIX0..PREFIX(n-1) (id i for name i), all before any reply.
 */
static void
race_send(struct e2e_conn **c, const char *prefix, int n)
{
	char	line[256];
	int	i, k;

	for (k = 0; k < NNODES; k++)
		c[k] = e2e_client(nodes[k]);
	for (i = 0; i < n; i++)
		for (k = 0; k < NNODES; k++) {
			snprintf(line, sizeof line, "{\"id\":%d,\"op\":"
			    "\"find_or_open\",\"name\":\"%s%d\",\"cmd\":"
			    "[\"sleep\",\"600\"],\"scope\":\"cluster\"}", i,
			    prefix, i);
			e2e_send_line(c[(k + i) % NNODES], line);
		}
}

/* 100 names raced by all nodes at once: exactly one owner each. */
START_TEST(gtdcluster_race)
{
	struct e2e_conn	*c[NNODES];
	json_t		*r, *rows, *row;
	const char	*node[RACE_NAMES];
	json_int_t	 pid[RACE_NAMES];
	int		 i, k, nrun, total = 0;
	size_t		 j;

	start_nodes(NNODES);
	race_send(c, "r", RACE_NAMES);
	memset(node, 0, sizeof node);
	for (k = 0; k < NNODES; k++)
		for (i = 0; i < RACE_NAMES; i++) {
			r = e2e_recv(c[k], W_MS);
			ck_assert_msg(json_is_true(json_object_get(r, "ok")),
			    "n%d: %s", k, e2e_dump(nodes[k], r));
			j = (size_t)json_integer_value(json_object_get(r,
			    "id"));
			if (node[j] == NULL) {
				node[j] = e2e_str(r, "node");
				pid[j] = e2e_int(r, "pid");
			}
			ck_assert_str_eq(e2e_str(r, "node"), node[j]);
			ck_assert_int_eq(e2e_int(r, "pid"), pid[j]);
		}
	/* Each holder runs its names; no other node runs any. */
	for (k = 0; k < NNODES; k++) {
		r = e2e_ok(nodes[k], "which_children", NULL);
		rows = e2e_get(r, "children");
		nrun = (int)json_array_size(rows);
		for (j = 0; j < json_array_size(rows); j++) {
			row = json_array_get(rows, j);
			i = atoi(e2e_str(row, "name") + 1);
			ck_assert_int_eq(node[i][1] - '0', k);
			ck_assert_str_eq(e2e_str(row, "node"), node[i]);
			ck_assert_int_eq(e2e_int(row, "pid"), pid[i]);
		}
		total += nrun;
	}
	ck_assert_int_eq(total, RACE_NAMES);
	/* Every node's mirror and SQL agree. */
	for (k = 0; k < NNODES; k++) {
		r = e2e_ok(nodes[k], "which_children", "{s:s}", "scope",
		    "cluster");
		rows = e2e_get(r, "children");
		ck_assert_int_eq(json_array_size(rows), RACE_NAMES);
		for (j = 0; j < json_array_size(rows); j++) {
			row = json_array_get(rows, j);
			i = atoi(e2e_str(row, "name") + 1);
			/* The mirror's pid and state may lag: their kinds. */
			ck_assert_str_eq(e2e_str(row, "node"), node[i]);
			ck_assert(json_is_integer(json_object_get(row,
			    "pid")) || json_is_null(json_object_get(row,
			    "pid")));
			(void)e2e_str(row, "state");
			ck_assert(json_is_integer(json_object_get(row,
			    "revision")));
			ck_assert(json_is_false(json_object_get(row,
			    "failover")));
			ck_assert_int_eq(json_object_size(row), 6);
		}
		r = e2e_ok(nodes[k], "query", "{s:s}", "sql", "SELECT "
		    "count(*), count(DISTINCT name) FROM cluster_children");
		ck_assert_int_eq(json_integer_value(json_array_get(
		    json_array_get(e2e_get(r, "rows"), 0), 1)), RACE_NAMES);
	}
	/* start_child of a name another node holds: already_started. */
	i = node[0][1] - '0';
	r = e2e_err(nodes[(i + 1) % NNODES], "already_started", "start_child",
	    "{s:s, s:[s,s], s:s}", "name", "r0", "cmd", "sleep", "600",
	    "scope", "cluster");
	ck_assert_str_eq(e2e_str(r, "node"), node[0]);
	ck_assert_int_eq(e2e_int(r, "pid"), pid[0]);
}
END_TEST

struct holder_arg {
	const char	*name;
	int		 not;		/* a node that must not hold it */
};

static bool
held_elsewhere(void *arg)
{
	struct holder_arg	*a = arg;
	int			 h = holder(a->name);

	return (h >= 0 && h != a->not);
}

/*
 * kill -9 of a node: its failover children run elsewhere within
 * TTL + 1 s, never two at once; its other cluster children do not.
 */
START_TEST(gtdcluster_failover_kill)
{
	struct lines_arg	 la;
	struct holder_arg	 ha;
	const char		*dir;
	char			 name[16];
	long			 t0, took;
	long long		 fence;
	json_t			*r;
	int			 i, h;

	start_nodes(NNODES);
	dir = e2e_dir(nodes[0]);
	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof name, "fo%d", i);
		e2e_ok(nodes[2], "find_or_open", "o", fence_spec(name, dir));
	}
	e2e_ok(nodes[2], "start_child", "{s:s, s:[s,s], s:s}", "name", "nofo",
	    "cmd", "sleep", "600", "scope", "cluster");
	la = (struct lines_arg){ e2e_path(nodes[0], "starts"), 3 };
	ck_assert(e2e_wait_until(W_MS, has_lines, &la));
	ck_assert_int_eq(holder("fo0"), 2);
	t0 = e2e_now_ms();
	ck_assert_int_eq(kill(e2e_pid(nodes[2]), SIGKILL), 0);
	e2e_expect_exit(nodes[2], -1);
	la.n = 6;
	ck_assert_msg(e2e_wait_until(W_MS, has_lines, &la),
	    "the failover children did not start again");
	took = e2e_now_ms() - t0;
	printf("gtdcluster_failover_kill: 3 failover children run again "
	    "%ld ms after kill -9 (lease_ttl_ms %d)\n", took, TTL_MS);
	ck_assert_msg(took <= e2e_slow(TTL_MS + 1000),
	    "failover took %ld ms (lease_ttl_ms %d)", took, TTL_MS);
	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof name, "fo%d", i);
		ha = (struct holder_arg){ name, 2 };
		ck_assert(e2e_wait_until(W_MS, held_elsewhere, &ha));
		h = holder(name);
		e2e_ok(nodes[h], "find", "{s:s}", "name", name);
		ck_assert_int_gt(e2e_int(e2e_ok(nodes[h], "info", "{s:s}",
		    "name", name), "pid"), 0);
	}
	/* Not a failover child: gone with its node. */
	e2e_err(nodes[0], "not_found", "find", "{s:s}", "name", "nofo");
	assert_no_violation(dir);
	/* GTD_FENCE is the claim's revision, as info and SQL say. */
	fence = atoll(e2e_read_file(nodes[0], e2e_path(nodes[0],
	    "owner.fo0"), W_MS));
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(e2e_int(e2e_ok(nodes[i], "info", "{s:s}",
		    "name", "fo0"), "revision"), fence);
		r = e2e_ok(nodes[i], "query", "{s:s}", "sql", "SELECT "
		    "revision FROM cluster_children WHERE name = 'fo0'");
		ck_assert_int_eq(json_integer_value(json_array_get(
		    json_array_get(e2e_get(r, "rows"), 0), 0)), fence);
	}
}
END_TEST

static bool
n1_sees_n0(void *arg)
{
	json_t	*r = e2e_req(nodes[1], "find", "{s:s}", "name", "st");

	return (json_is_true(json_object_get(r, "ok")) &&
	    json_is_string(json_object_get(r, "node")) &&
	    strcmp(json_string_value(json_object_get(r, "node")), "n0") == 0);
}

/*
 * SIGSTOP of a node for longer than the TTL: its fence watchdog kills
 * its cluster children before another node starts them (the new child
 * checks that the old process is dead); after SIGCONT the stopped node
 * runs none of them.
 */
START_TEST(gtdcluster_sigstop)
{
	struct lines_arg	 la;
	struct holder_arg	 ha;
	const char		*dir;
	json_t			*r;
	pid_t			 old;

	start_nodes(2);
	dir = e2e_dir(nodes[0]);
	r = e2e_ok(nodes[1], "find_or_open", "o", fence_spec("st", dir));
	old = (pid_t)e2e_int(r, "pid");
	la = (struct lines_arg){ e2e_path(nodes[0], "starts"), 1 };
	ck_assert(e2e_wait_until(W_MS, has_lines, &la));
	ck_assert_int_eq(kill(e2e_pid(nodes[1]), SIGSTOP), 0);
	la.n = 2;
	ck_assert_msg(e2e_wait_until(W_MS, has_lines, &la),
	    "no other node started it");
	ck_assert(!e2e_pid_alive(old));
	assert_no_violation(dir);
	ck_assert_int_eq(kill(e2e_pid(nodes[1]), SIGCONT), 0);
	ha = (struct holder_arg){ "st", 1 };
	ck_assert(e2e_wait_until(W_MS, held_elsewhere, &ha));
	/* Back: it fenced itself, joined again and runs nothing. */
	ck_assert_msg(e2e_wait_until(W_MS, n1_sees_n0, NULL),
	    "n1: %s", e2e_dump(nodes[1], e2e_req(nodes[1], "find", "{s:s}",
	    "name", "st")));
	assert_no_violation(dir);
	r = e2e_ok(nodes[1], "cluster_status", NULL);
	ck_assert_int_ge(e2e_int(r, "fences"), 1);
}
END_TEST

static bool
n1_sees_slow(void *arg)
{
	json_t	*r = e2e_req(nodes[1], "info", "{s:s}", "name", "slow");

	return (json_is_true(json_object_get(r, "ok")));
}

/*
 * find_or_open on one node of a name another node is starting waits, as
 * for a local one, and gets the holder's node and pid once it is ready.
 */
START_TEST(gtdcluster_remote_starting)
{
	struct e2e_conn	*a;
	json_t		*r;
	json_int_t	 pid;
	FILE		*f;

	start_nodes(2);
	r = e2e_ok(nodes[0], "start_child", "{s:s, s:o, s:{s:i}, s:s, s:b}",
	    "name", "slow", "cmd", e2e_cmd(e2e_fmt(nodes[0],
	    "--ready-after=%s", e2e_path(nodes[0], "go")), "--ready-fd=3",
	    NULL), "ready", "fd", 3, "scope", "cluster", "wait", 0);
	ck_assert_str_eq(e2e_str(r, "node"), "n0");
	pid = e2e_int(r, "pid");
	ck_assert(e2e_wait_until(W_MS, n1_sees_slow, NULL));
	r = e2e_ok(nodes[1], "info", "{s:s}", "name", "slow");
	ck_assert_str_eq(e2e_str(r, "state"), "starting");
	a = e2e_client(nodes[1]);
	e2e_send_line(a, "{\"id\":1,\"op\":\"find_or_open\",\"name\":"
	    "\"slow\",\"cmd\":[\"/bin/true\"],\"scope\":\"cluster\"}");
	e2e_cok(e2e_client(nodes[1]), "ping", NULL);
	ck_assert_ptr_null(e2e_recv_line(a, 0));
	ck_assert_ptr_nonnull(f = fopen(e2e_path(nodes[0], "go"), "w"));
	fclose(f);			/* the cue: ready now */
	r = e2e_recv(a, W_MS);
	ck_assert_msg(json_is_true(json_object_get(r, "ok")), "%s",
	    e2e_dump(nodes[1], r));
	ck_assert(json_is_false(json_object_get(r, "created")));
	ck_assert_str_eq(e2e_str(r, "node"), "n0");
	ck_assert_str_eq(e2e_str(r, "state"), "running");
	ck_assert_int_eq(e2e_int(r, "pid"), pid);
	/* Nothing was started on n1. */
	r = e2e_ok(nodes[1], "which_children", NULL);
	ck_assert_int_eq(json_array_size(e2e_get(r, "children")), 0);
}
END_TEST

#define LEADER_NAMES	30

/*
 * The etcd leader killed while every node races for names: no claim is
 * lost and no name runs twice.  A longer lease, so that the election
 * does not make the nodes fence themselves.
 */
START_TEST(gtdcluster_leader_killed)
{
	struct e2e_conn	*c[NNODES];
	json_t		*r, *rows;
	const char	*node[LEADER_NAMES];
	json_int_t	 pid[LEADER_NAMES];
	struct up_arg	 a;
	const char	*got;
	char		 line[256];
	int		 i, k, leader, total = 0;
	size_t		 j;

	ttl_ms = 6000;
	start_nodes(NNODES);
	race_send(c, "L", LEADER_NAMES);
	ck_assert_int_ge(leader = etcdrun_leader(run), 0);
	etcdrun_kill(run, leader);
	/* Each answer agrees with the others; unavailable may happen. */
	memset(node, 0, sizeof node);
	for (k = 0; k < NNODES; k++)
		for (i = 0; i < LEADER_NAMES; i++) {
			r = e2e_recv(c[k], W_MS);
			if (!json_is_true(json_object_get(r, "ok"))) {
				ck_assert_msg(strcmp(e2e_str(r, "error"),
				    "unavailable") == 0, "%s",
				    e2e_dump(nodes[k], r));
				continue;
			}
			j = (size_t)json_integer_value(json_object_get(r,
			    "id"));
			if (node[j] == NULL) {
				node[j] = e2e_str(r, "node");
				pid[j] = e2e_int(r, "pid");
			}
			ck_assert_str_eq(e2e_str(r, "node"), node[j]);
			ck_assert_int_eq(e2e_int(r, "pid"), pid[j]);
		}
	etcdrun_restart(run, leader);
	for (k = 0; k < NNODES; k++) {
		a = (struct up_arg){ nodes[k], NNODES };
		ck_assert(e2e_wait_until(W_MS, node_up, &a));
	}
	/* Every name once more from n0: the claims made stayed. */
	for (i = 0; i < LEADER_NAMES; i++) {
		snprintf(line, sizeof line, "{\"id\":%d,\"op\":"
		    "\"find_or_open\",\"name\":\"L%d\",\"cmd\":"
		    "[\"sleep\",\"600\"],\"scope\":\"cluster\"}", i, i);
		e2e_send_line(c[0], line);
		if ((got = e2e_recv_line(c[0], W_MS)) == NULL ||
		    (r = json_loads(got, 0, NULL)) == NULL ||
		    !json_is_true(json_object_get(r, "ok")))
			ck_abort_msg("L%d: %s; n0's mirror: %s", i,
			    got != NULL ? got : "no reply", e2e_dump(nodes[0],
			    e2e_req(nodes[0], "which_children", "{s:s}",
			    "scope", "cluster")));
		if (node[i] != NULL) {
			ck_assert_str_eq(e2e_str(r, "node"), node[i]);
			ck_assert_int_eq(e2e_int(r, "pid"), pid[i]);
		}
		json_decref(r);
	}
	for (k = 0; k < NNODES; k++) {
		rows = e2e_get(e2e_ok(nodes[k], "which_children", NULL),
		    "children");
		total += (int)json_array_size(rows);
	}
	ck_assert_int_eq(total, LEADER_NAMES);
}
END_TEST

struct unavail_arg {
	struct e2e	*e;
};

static bool
cluster_down(void *arg)
{
	struct unavail_arg	*a = arg;
	json_t			*r = e2e_req(a->e, "cluster_status", NULL);

	return (json_is_false(json_object_get(r, "connected")));
}

/* etcd down: local children unaffected, cluster ops a clear error. */
START_TEST(gtdcluster_etcd_down)
{
	struct unavail_arg	 a;
	json_t			*r;
	pid_t			 pid;
	long			 t0;
	int			 k;

	start_nodes(1);
	pid = e2e_spawn(nodes[0], "local", NULL);
	e2e_ok(nodes[0], "find_or_open", "{s:s, s:[s,s], s:s}", "name", "cl",
	    "cmd", "sleep", "600", "scope", "cluster");
	for (k = 0; k < etcdrun_size(run); k++)
		etcdrun_kill(run, k);
	a.e = nodes[0];
	ck_assert(e2e_wait_until(W_MS, cluster_down, &a));
	t0 = e2e_now_ms();
	r = e2e_err(nodes[0], "unavailable", "find_or_open",
	    "{s:s, s:[s,s], s:s}", "name", "cl2", "cmd", "sleep", "600",
	    "scope", "cluster");
	ck_assert_ptr_nonnull(strstr(e2e_str(r, "message"), "cluster"));
	ck_assert_int_le(e2e_now_ms() - t0, 2500);
	/* Local scope: as ever. */
	r = e2e_ok(nodes[0], "find", "{s:s}", "name", "local");
	ck_assert_int_eq(e2e_int(r, "pid"), pid);
	e2e_spawn(nodes[0], "local2", NULL);
	e2e_ok(nodes[0], "find", "{s:s}", "name", "local2");
	r = e2e_ok(nodes[0], "cluster_status", NULL);
	ck_assert(json_is_false(e2e_get(r, "connected")));
	/* The cluster child stopped itself (self-fencing). */
	e2e_err(nodes[0], "not_found", "find", "{s:s}", "name", "cl");
	e2e_set_stop_ms(nodes[0], 15000);
}
END_TEST

/*
 * A second gtd with a live node's name refuses to run: exit 1.  A node
 * refuses reexec.
 */
START_TEST(gtdcluster_node_conflict)
{
	struct e2e	*dup;
	const char	*log;
	json_t		*r;
	int		 st;

	start_nodes(1);
	dup = e2e_start_json(node_conf(0));
	ck_assert_msg(e2e_wait_exit(dup, W_MS, &st), "the second n0 runs on");
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	e2e_expect_exit(dup, 1);
	log = e2e_read_file(dup, e2e_path(dup, "gtd.log"), W_MS);
	ck_assert_ptr_nonnull(strstr(log, "another live gtd is node n0"));
	e2e_stop(dup);
	/* The first one is untouched. */
	ck_assert(json_is_true(e2e_get(e2e_ok(nodes[0], "cluster_status",
	    NULL), "connected")));
	/* A node refuses a re-exec: its lease and claims stay its own. */
	r = e2e_err(nodes[0], "reexec_failed", "reexec", NULL);
	ck_assert_ptr_nonnull(strstr(e2e_str(r, "message"), "cluster"));
	ck_assert(json_is_true(e2e_get(e2e_ok(nodes[0], "cluster_status",
	    NULL), "connected")));
}
END_TEST

struct since_arg {
	struct e2e	*e;
	long		 t0;		/* e2e_now_ms() at its start */
};

/* The cluster child "sg" is running two TTLs after its start. */
static bool
ran_two_ttls(void *arg)
{
	struct since_arg	*a = arg;
	json_t			*r;

	r = e2e_req(a->e, "find", "{s:s}", "name", "sg");
	return (json_is_true(json_object_get(r, "ok")) &&
	    e2e_now_ms() - a->t0 > 2 * ttl_ms);
}

/*
 * A lease granted late: etcd is stopped while the node asks for it and
 * answers 1.2 s (of a 2 s TTL) later.  The fencing deadline runs from
 * the request, so the first renewal must come before it, not a whole
 * period after the grant: the node must not fence itself (it did, some
 * 300 ms after joining, when the first renewal waited for its period).
 */
START_TEST(gtdcluster_slow_grant)
{
	struct up_arg	 a;
	struct since_arg s;
	int		 k;

	for (k = 0; k < etcdrun_size(run); k++)
		etcdrun_signal(run, k, SIGSTOP);
	nodes[0] = e2e_start_json(node_conf(0));
	usleep(1200 * 1000);	/* the stall injected, not a wait */
	for (k = 0; k < etcdrun_size(run); k++)
		etcdrun_signal(run, k, SIGCONT);
	a = (struct up_arg){ nodes[0], 1 };
	ck_assert(e2e_wait_until(W_MS, node_up, &a));
	e2e_ok(nodes[0], "find_or_open", "{s:s, s:[s,s], s:s}", "name", "sg",
	    "cmd", "sleep", "600", "scope", "cluster");
	s = (struct since_arg){ nodes[0], e2e_now_ms() };
	ck_assert(e2e_wait_until(W_MS, ran_two_ttls, &s));
	ck_assert_int_eq(e2e_int(e2e_ok(nodes[0], "cluster_status", NULL),
	    "fences"), 0);
}
END_TEST

/* Config and spec errors name the field; no cluster: a clear error. */
START_TEST(gtdcluster_config)
{
	struct e2e	*e;
	const char	*err;
	json_t		*r;

	e = e2e_start(NULL);
	r = e2e_err(e, "bad_request", "start_child", "{s:s, s:[s,s], s:s}",
	    "name", "x", "cmd", "sleep", "1", "scope", "cluster");
	ck_assert_str_eq(e2e_str(r, "field"), "scope");
	r = e2e_err(e, "bad_request", "start_child", "{s:s, s:[s,s], s:b}",
	    "name", "x", "cmd", "sleep", "1", "failover", true);
	ck_assert_str_eq(e2e_str(r, "field"), "failover");
	r = e2e_err(e, "bad_request", "start_child", "{s:s, s:[s,s], s:s}",
	    "name", "x", "cmd", "sleep", "1", "scope", "galaxy");
	ck_assert_str_eq(e2e_str(r, "field"), "scope");
	e2e_err(e, "unavailable", "cluster_status", NULL);
	e2e_write_conf(e, "{\"cluster\": {\"etcd\": []}}");
	ck_assert_int_ne(e2e_gtd_run(e, W_MS, &err, "-n", "-c",
	    e2e_path(e, "gtd.json"), NULL), 0);
	ck_assert_ptr_nonnull(strstr(err, "cluster.etcd"));
	e2e_write_conf(e, "{\"cluster\": {\"etcd\": [\"http://x:1\"], "
	    "\"lease_ttl_ms\": 500}}");
	ck_assert_int_ne(e2e_gtd_run(e, W_MS, &err, "-n", "-c",
	    e2e_path(e, "gtd.json"), NULL), 0);
	ck_assert_ptr_nonnull(strstr(err, "cluster.lease_ttl_ms"));
	e2e_write_conf(e, "{\"children\": [{\"name\": \"a\", \"cmd\": "
	    "[\"true\"], \"scope\": \"cluster\"}]}");
	ck_assert_int_ne(e2e_gtd_run(e, W_MS, &err, "-n", "-c",
	    e2e_path(e, "gtd.json"), NULL), 0);
	ck_assert_ptr_nonnull(strstr(err, "scope"));
	e2e_stop(e);
}
END_TEST

/* libgtd on node 1 finds (or no longer finds) a name of node 0. */
struct shm_arg {
	struct gtd_handle	*h;
	const char		*name;
	int			 want;		/* GTD_OK, GTD_ENOTFOUND */
	struct gtd_child	 c;
};

static bool
shm_found(void *arg)
{
	struct shm_arg	*a = arg;

	return (gtd_find(a->h, a->name, &a->c) == a->want);
}

static int
shm_count_cb(const char *name, const struct gtd_child *c, void *arg)
{
	(void)c;
	if (strcmp(name, "shm1") == 0)
		(*(int *)arg)++;
	return (0);
}

/*
 * Another node's cluster name is in the shared-memory mirror: libgtd's
 * gtd_find on node 1 finds node 0's child with its pid, from the mirror
 * (no socket read), and no longer once node 0 released it; gtd_foreach
 * lists local rows only, as which_children does.
 */
START_TEST(gtdcluster_shm_mirror)
{
	struct gtd_mirror_stat	 st;
	struct shm_arg		 a;
	long long		 pid;
	int			 n = 0;

	start_nodes(2);
	pid = e2e_int(e2e_ok(nodes[0], "start_child", "{s:s, s:[s,s], s:s}",
	    "name", "shm1", "cmd", "sleep", "600", "scope", "cluster"),
	    "pid");
	e2e_ok(nodes[1], "start_child", "{s:s, s:[s,s]}", "name", "loc1",
	    "cmd", "sleep", "600");
	memset(&a, 0, sizeof a);
	a.h = gtd_open(e2e_sock(nodes[1]));
	a.name = "shm1";
	a.want = GTD_OK;
	ck_assert_ptr_nonnull(a.h);
	ck_assert_msg(e2e_wait_until(W_MS, shm_found, &a),
	    "node 1's mirror does not have node 0's shm1: %s",
	    gtd_errmsg(a.h));
	ck_assert_int_eq(a.c.pid, pid);
	ck_assert_str_eq(a.c.state_name, "running");
	ck_assert_int_eq(a.c.nattrs, 0);
	ck_assert_int_eq(gtd_find(a.h, "loc1", &a.c), GTD_OK);
	ck_assert_int_eq(gtd_foreach(a.h, shm_count_cb, &n), GTD_OK);
	ck_assert_int_eq(n, 0);
	gtd_mirror_stat(a.h, &st);
	ck_assert_int_eq(st.mapped, 1);
	ck_assert_msg(st.fallbacks == 0, "%llu reads went to the socket",
	    (unsigned long long)st.fallbacks);
	/* Released on node 0: gone from node 1's mirror. */
	e2e_ok(nodes[0], "terminate_child", "{s:s}", "name", "shm1");
	e2e_ok(nodes[0], "delete_child", "{s:s}", "name", "shm1");
	a.want = GTD_ENOTFOUND;
	ck_assert_msg(e2e_wait_until(W_MS, shm_found, &a),
	    "shm1 stays in node 1's mirror after node 0 released it");
	gtd_mirror_stat(a.h, &st);
	ck_assert_msg(st.fallbacks == 0, "%llu reads went to the socket",
	    (unsigned long long)st.fallbacks);
	gtd_close(a.h);
}
END_TEST

Suite *
e2e_gtdcluster_suite(void)
{
	Suite	*s = suite_create("gtdcluster");
	TCase	*tc = tcase_create("gtdcluster");
	TCase	*tc2 = tcase_create("gtdcluster_config");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, gtdcluster_race);
	tcase_add_test(tc, gtdcluster_failover_kill);
	tcase_add_test(tc, gtdcluster_sigstop);
	tcase_add_test(tc, gtdcluster_etcd_down);
	tcase_add_test(tc, gtdcluster_remote_starting);
	tcase_add_test(tc, gtdcluster_leader_killed);
	tcase_add_test(tc, gtdcluster_node_conflict);
	tcase_add_test(tc, gtdcluster_slow_grant);
	tcase_add_test(tc, gtdcluster_shm_mirror);
	suite_add_tcase(s, tc);
	tcase_set_timeout(tc2, E2E_TIMEOUT);
	tcase_add_test(tc2, gtdcluster_config);
	suite_add_tcase(s, tc2);
	return (s);
}
