/* SPDX-License-Identifier: MIT */
/*
 * check_deps: depends_on parsing as a table of input -> normalised JSON
 * or (field, message); the condition table; the graph's event-driven
 * evaluation (who may start, what a row waits for), remembered
 * completions and their bound; deps_check (unknown names, cycles, and
 * that a refused change changes nothing); closures and plans.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>
#include <jansson.h>

#include "gt/deps.h"
#include "gt/xmalloc.h"

#include "check_unit.h"

/* Parsing. */

static const struct {
	const char	*in;
	const char	*out;		/* normalised, or NULL: an error */
	const char	*field;		/* the error's field */
	const char	*msg;		/* a part of the error's message */
} parse_rows[] = {
	{ "[]", "[]", NULL, NULL },
	{ "[\"db\"]", "[{\"name\":\"db\",\"condition\":\"ready\","
	    "\"on_stop\":\"stop\",\"on_restart\":\"ignore\"}]", NULL, NULL },
	{ "[{\"name\":\"m\",\"condition\":\"completed_ok\"}]",
	    "[{\"name\":\"m\",\"condition\":\"completed_ok\","
	    "\"on_stop\":\"stop\",\"on_restart\":\"ignore\"}]", NULL, NULL },
	{ "[\"a\",{\"name\":\"b\",\"condition\":\"healthy\","
	    "\"on_stop\":\"ignore\",\"on_restart\":\"restart\"}]",
	    "[{\"name\":\"a\",\"condition\":\"ready\",\"on_stop\":\"stop\","
	    "\"on_restart\":\"ignore\"},{\"name\":\"b\",\"condition\":"
	    "\"healthy\",\"on_stop\":\"ignore\",\"on_restart\":\"restart\"}]",
	    NULL, NULL },
	{ "[{\"name\":\"s\",\"condition\":\"started\"},"
	    "{\"name\":\"c\",\"condition\":\"completed\"}]",
	    "[{\"name\":\"s\",\"condition\":\"started\",\"on_stop\":\"stop\","
	    "\"on_restart\":\"ignore\"},{\"name\":\"c\",\"condition\":"
	    "\"completed\",\"on_stop\":\"stop\",\"on_restart\":\"ignore\"}]",
	    NULL, NULL },
	/* The trap process-compose falls into: an unknown condition. */
	{ "[\"a\",\"b\",{\"name\":\"c\",\"condition\":\"service_healthy\"}]",
	    NULL, "depends_on.2.condition", "must be started, ready, healthy, "
	    "completed or completed_ok" },
	{ "[{\"name\":\"c\",\"condition\":\"Ready\"}]", NULL,
	    "depends_on.0.condition", "must be started" },
	{ "[{\"name\":\"c\",\"condition\":1}]", NULL,
	    "depends_on.0.condition", "must be started" },
	{ "[{\"name\":\"c\",\"on_stop\":\"restart\"}]", NULL,
	    "depends_on.0.on_stop", "must be stop or ignore" },
	{ "[{\"name\":\"c\",\"on_restart\":\"stop\"}]", NULL,
	    "depends_on.0.on_restart", "must be ignore or restart" },
	{ "[{\"name\":\"c\",\"conditon\":\"ready\"}]", NULL,
	    "depends_on.0", "unknown key conditon" },
	{ "[{\"condition\":\"ready\"}]", NULL, "depends_on.0.name",
	    "is required" },
	{ "[{\"name\":\"\"}]", NULL, "depends_on.0.name", "name of a child" },
	{ "[{\"name\":7}]", NULL, "depends_on.0.name", "name of a child" },
	{ "[\"\"]", NULL, "depends_on.0", "name of a child" },
	{ "[\"a\",3]", NULL, "depends_on.1", "a child's name or an object" },
	{ "[\"a\",null]", NULL, "depends_on.1", "a child's name or an object" },
	{ "[\"a\",\"b\",\"a\"]", NULL, "depends_on.2", "a is listed twice" },
	{ "[\"a\",{\"name\":\"a\"}]", NULL, "depends_on.1", "listed twice" },
	{ "\"db\"", NULL, "depends_on", "must be an array" },
	{ "{\"name\":\"db\"}", NULL, "depends_on", "must be an array" },
};

START_TEST(test_deps_parse_table)
{
	json_error_t		 je;
	json_t			*in, *out;
	struct deps_edge	*e = NULL;
	size_t			 n = 99;
	char			*field = NULL, *cause = NULL, *s;
	int			 rc;

	in = json_loads(parse_rows[_i].in, JSON_DECODE_ANY, &je);
	ck_assert_msg(in != NULL, "row %d: %s", _i, je.text);
	rc = deps_parse(in, &e, &n, &field, &cause);
	if (parse_rows[_i].out == NULL) {
		ck_assert_msg(rc == -1, "row %d: accepted", _i);
		ck_assert_ptr_null(e);
		ck_assert_uint_eq(n, 0);
		ck_assert_str_eq(field, parse_rows[_i].field);
		ck_assert_msg(strstr(cause, parse_rows[_i].msg) != NULL,
		    "row %d: %s", _i, cause);
	} else {
		ck_assert_msg(rc == 0, "row %d: %s: %s", _i, field, cause);
		out = deps_json(e, n);
		s = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
		ck_assert_str_eq(s, parse_rows[_i].out);
		free(s);
		json_decref(out);
	}
	deps_edges_free(e, n);
	free(field);
	free(cause);
	json_decref(in);
}
END_TEST

/* Append a name one byte longer than allowed. */
static void
fill_long_name(json_t *a)
{
	char	*s = xmalloc(DEPS_MAX_NAME + 2);

	memset(s, 'x', DEPS_MAX_NAME + 1);
	s[DEPS_MAX_NAME + 1] = '\0';
	json_array_append_new(a, json_string(s));
	free(s);
}

/* The bound: DEPS_MAX_EDGES entries pass, one more does not. */
START_TEST(test_deps_parse_bounds)
{
	json_t			*a = json_array();
	struct deps_edge	*e = NULL, *d;
	size_t			 n, i;
	char			*field = NULL, *cause = NULL, name[16];

	for (i = 0; i < DEPS_MAX_EDGES; i++) {
		snprintf(name, sizeof name, "c%zu", i);
		json_array_append_new(a, json_string(name));
	}
	ck_assert_int_eq(deps_parse(a, &e, &n, &field, &cause), 0);
	ck_assert_uint_eq(n, DEPS_MAX_EDGES);
	d = deps_edges_dup(e, n);
	ck_assert(deps_edges_equal(e, n, d, n));
	d[3].cond = DEPS_COND_HEALTHY;
	ck_assert(!deps_edges_equal(e, n, d, n));
	ck_assert(!deps_edges_equal(e, n, d, n - 1));
	deps_edges_free(d, n);
	deps_edges_free(e, n);
	json_array_append_new(a, json_string("one-more"));
	ck_assert_int_eq(deps_parse(a, &e, &n, &field, &cause), -1);
	ck_assert_str_eq(field, "depends_on");
	ck_assert(strstr(cause, "more than 256") != NULL);
	free(field);
	free(cause);
	/* A name of DEPS_MAX_NAME + 1 bytes. */
	json_array_clear(a);
	fill_long_name(a);
	ck_assert_int_eq(deps_parse(a, &e, &n, &field, &cause), -1);
	ck_assert_str_eq(field, "depends_on.0");
	free(field);
	free(cause);
	json_decref(a);
}
END_TEST

/* The condition table, cell by cell. */

static const struct {
	enum deps_cond		cond;
	enum deps_phase		phase;
	enum deps_health	health;
	bool			ok;
	bool			met;
} cond_rows[] = {
	{ DEPS_COND_STARTED, DEPS_ABSENT, DEPS_HEALTH_NONE, false, false },
	{ DEPS_COND_STARTED, DEPS_DOWN, DEPS_HEALTH_NONE, false, false },
	{ DEPS_COND_STARTED, DEPS_STARTING, DEPS_HEALTH_NONE, false, true },
	{ DEPS_COND_STARTED, DEPS_RUNNING, DEPS_HEALTH_UNHEALTHY, false, true },
	{ DEPS_COND_STARTED, DEPS_COMPLETED, DEPS_HEALTH_NONE, false, true },
	{ DEPS_COND_READY, DEPS_ABSENT, DEPS_HEALTH_NONE, false, false },
	{ DEPS_COND_READY, DEPS_DOWN, DEPS_HEALTH_NONE, false, false },
	{ DEPS_COND_READY, DEPS_STARTING, DEPS_HEALTH_NONE, false, false },
	{ DEPS_COND_READY, DEPS_RUNNING, DEPS_HEALTH_NONE, false, true },
	{ DEPS_COND_READY, DEPS_RUNNING, DEPS_HEALTH_UNHEALTHY, false, true },
	{ DEPS_COND_READY, DEPS_COMPLETED, DEPS_HEALTH_NONE, true, false },
	{ DEPS_COND_HEALTHY, DEPS_STARTING, DEPS_HEALTH_HEALTHY, false, false },
	{ DEPS_COND_HEALTHY, DEPS_RUNNING, DEPS_HEALTH_NONE, false, true },
	{ DEPS_COND_HEALTHY, DEPS_RUNNING, DEPS_HEALTH_UNKNOWN, false, false },
	{ DEPS_COND_HEALTHY, DEPS_RUNNING, DEPS_HEALTH_HEALTHY, false, true },
	{ DEPS_COND_HEALTHY, DEPS_RUNNING, DEPS_HEALTH_UNHEALTHY, false,
	    false },
	{ DEPS_COND_HEALTHY, DEPS_DOWN, DEPS_HEALTH_HEALTHY, false, false },
	{ DEPS_COND_HEALTHY, DEPS_COMPLETED, DEPS_HEALTH_NONE, true, false },
	{ DEPS_COND_COMPLETED, DEPS_RUNNING, DEPS_HEALTH_NONE, false, false },
	{ DEPS_COND_COMPLETED, DEPS_DOWN, DEPS_HEALTH_NONE, false, false },
	{ DEPS_COND_COMPLETED, DEPS_ABSENT, DEPS_HEALTH_NONE, false, false },
	{ DEPS_COND_COMPLETED, DEPS_COMPLETED, DEPS_HEALTH_NONE, false, true },
	{ DEPS_COND_COMPLETED, DEPS_COMPLETED, DEPS_HEALTH_NONE, true, true },
	{ DEPS_COND_COMPLETED_OK, DEPS_COMPLETED, DEPS_HEALTH_NONE, true,
	    true },
	{ DEPS_COND_COMPLETED_OK, DEPS_COMPLETED, DEPS_HEALTH_NONE, false,
	    false },
	{ DEPS_COND_COMPLETED_OK, DEPS_RUNNING, DEPS_HEALTH_NONE, true,
	    false },
	{ DEPS_COND_COMPLETED_OK, DEPS_STARTING, DEPS_HEALTH_NONE, false,
	    false },
};

START_TEST(test_deps_cond_table)
{
	struct deps_obs	o = { .phase = cond_rows[_i].phase,
	    .health = cond_rows[_i].health, .ok = cond_rows[_i].ok };

	ck_assert_msg(deps_cond_met(cond_rows[_i].cond, &o) ==
	    cond_rows[_i].met, "row %d: %s on %s", _i,
	    deps_cond_name(cond_rows[_i].cond),
	    deps_phase_name(cond_rows[_i].phase));
}
END_TEST

START_TEST(test_deps_names)
{
	enum deps_cond	c;
	int		i;

	for (i = DEPS_COND_STARTED; i <= DEPS_COND_COMPLETED_OK; i++) {
		ck_assert_int_eq(deps_cond_parse(deps_cond_name(i), &c), 0);
		ck_assert_int_eq(c, i);
	}
	ck_assert_int_eq(deps_cond_parse("healthy ", &c), -1);
	ck_assert_str_eq(deps_phase_name(DEPS_COMPLETED), "completed");
	ck_assert_str_eq(deps_on_stop_name(DEPS_ON_STOP_IGNORE), "ignore");
	ck_assert_str_eq(deps_on_restart_name(DEPS_ON_RESTART_RESTART),
	    "restart");
}
END_TEST

/* The graph. */

static struct deps_edge	edge_buf[8];

/* Edges from a spec such as "a:ready b:completed_ok/ignore/restart". */
static size_t
edges(const char *spec)
{
	char	*s = xstrdup(spec), *tok, *save, *c, *st, *rs;
	size_t	 n = 0;

	for (tok = strtok_r(s, " ", &save); tok != NULL && n < 8;
	    tok = strtok_r(NULL, " ", &save)) {
		memset(&edge_buf[n], 0, sizeof edge_buf[n]);
		edge_buf[n].cond = DEPS_COND_READY;
		if ((c = strchr(tok, ':')) != NULL) {
			*c++ = '\0';
			if ((st = strchr(c, '/')) != NULL) {
				*st++ = '\0';
				rs = strchr(st, '/');
				*rs++ = '\0';
				edge_buf[n].on_stop = strcmp(st,
				    "ignore") == 0 ? DEPS_ON_STOP_IGNORE :
				    DEPS_ON_STOP_STOP;
				edge_buf[n].on_restart = strcmp(rs,
				    "restart") == 0 ? DEPS_ON_RESTART_RESTART :
				    DEPS_ON_RESTART_IGNORE;
			}
			ck_assert_int_eq(deps_cond_parse(c,
			    &edge_buf[n].cond), 0);
		}
		edge_buf[n].name = xstrdup(tok);
		n++;
	}
	free(s);
	return (n);
}

static void
edges_clear(size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(edge_buf[i].name);
		edge_buf[i].name = NULL;
	}
}

/* Set a row with edges (checked first: the test wants them valid). */
static void
set(struct deps_graph *g, const char *name, const char *spec,
    struct deps_names *met)
{
	struct deps_change	 ch;
	size_t			 n = spec == NULL ? 0 : edges(spec), w, e;
	char			*cause = NULL;

	ch.name = name;
	ch.edges = edge_buf;
	ch.n = n;
	ch.remove = false;
	ck_assert_msg(deps_check(g, &ch, 1, &w, &e, &cause) == 0, "%s: %s",
	    name, cause);
	deps_set(g, name, edge_buf, n, met);
	edges_clear(n);
}

static void
observe(struct deps_graph *g, const char *name, enum deps_phase p,
    struct deps_names *met)
{
	struct deps_obs	o = { .phase = p };

	deps_observe(g, name, &o, met);
}

/* Is the vector exactly these names, in this order ("a b c")? */
static bool
names_are(const struct deps_names *v, const char *want)
{
	char	buf[1024] = "";
	size_t	i, len = 0;

	for (i = 0; i < v->n && len < sizeof buf; i++)
		len += snprintf(buf + len, sizeof buf - len, "%s%s",
		    i > 0 ? " " : "", v->v[i]);
	if (strcmp(buf, want) != 0)
		fprintf(stderr, "names: got \"%s\", want \"%s\"\n", buf, want);
	return (strcmp(buf, want) == 0);
}

START_TEST(test_deps_wait_then_met)
{
	struct deps_graph	*g = deps_graph_new(16);
	struct deps_names	 met = { NULL, 0, 0 };

	set(g, "db", NULL, NULL);
	set(g, "cache", NULL, NULL);
	set(g, "web", "db cache:started", NULL);
	ck_assert(!deps_met(g, "web"));
	ck_assert(!deps_wait(g, "web"));
	ck_assert(deps_waiting(g, "web"));
	observe(g, "db", DEPS_STARTING, &met);
	ck_assert_uint_eq(met.n, 0);
	observe(g, "cache", DEPS_STARTING, &met);	/* started: met */
	ck_assert_uint_eq(met.n, 0);			/* db not ready yet */
	observe(g, "db", DEPS_RUNNING, &met);
	ck_assert(names_are(&met, "web"));
	ck_assert(!deps_waiting(g, "web"));
	ck_assert(deps_met(g, "web"));
	/* Reported once: another transition that keeps it met says nothing. */
	deps_names_clear(&met);
	observe(g, "cache", DEPS_RUNNING, &met);
	ck_assert_uint_eq(met.n, 0);
	/* A dependency going down makes it unmet, but reports nothing. */
	observe(g, "db", DEPS_DOWN, &met);
	ck_assert(!deps_met(g, "web"));
	ck_assert_uint_eq(met.n, 0);
	/* Not waiting: recovering reports nothing either. */
	observe(g, "db", DEPS_RUNNING, &met);
	ck_assert_uint_eq(met.n, 0);
	/* Already met: deps_wait says start now, and nothing is waiting. */
	ck_assert(deps_wait(g, "web"));
	ck_assert(!deps_waiting(g, "web"));
	/* A row without edges never waits. */
	ck_assert(deps_wait(g, "db"));
	deps_names_free(&met);
	deps_graph_free(g);
}
END_TEST

/* The trap systemd falls into: a failed dependent waits and starts. */
START_TEST(test_deps_dependent_starts_when_dependency_recovers)
{
	struct deps_graph	*g = deps_graph_new(16);
	struct deps_names	 met = { NULL, 0, 0 };

	set(g, "db", NULL, NULL);
	set(g, "web", "db", NULL);
	observe(g, "db", DEPS_RUNNING, NULL);
	ck_assert(deps_wait(g, "web"));		/* started */
	observe(g, "db", DEPS_DOWN, NULL);	/* db crashed, gave up */
	/* web crashed too; its policy restart finds db down: it waits. */
	ck_assert(!deps_wait(g, "web"));
	observe(g, "db", DEPS_STARTING, &met);
	ck_assert_uint_eq(met.n, 0);
	observe(g, "db", DEPS_RUNNING, &met);
	ck_assert(names_are(&met, "web"));
	deps_names_free(&met);
	deps_graph_free(g);
}
END_TEST

START_TEST(test_deps_unwait)
{
	struct deps_graph	*g = deps_graph_new(16);
	struct deps_names	 met = { NULL, 0, 0 };

	set(g, "db", NULL, NULL);
	set(g, "web", "db", NULL);
	ck_assert(!deps_wait(g, "web"));
	deps_unwait(g, "web");			/* stopped while waiting */
	observe(g, "db", DEPS_RUNNING, &met);
	ck_assert_uint_eq(met.n, 0);
	deps_names_free(&met);
	deps_graph_free(g);
}
END_TEST

START_TEST(test_deps_healthy)
{
	struct deps_graph	*g = deps_graph_new(16);
	struct deps_names	 met = { NULL, 0, 0 };
	struct deps_obs		 o = { .phase = DEPS_RUNNING,
	    .health = DEPS_HEALTH_UNKNOWN };

	set(g, "db", NULL, NULL);
	set(g, "web", "db:healthy", NULL);
	ck_assert(!deps_wait(g, "web"));
	deps_observe(g, "db", &o, &met);
	ck_assert_uint_eq(met.n, 0);
	o.health = DEPS_HEALTH_UNHEALTHY;
	deps_observe(g, "db", &o, &met);
	ck_assert_uint_eq(met.n, 0);
	o.health = DEPS_HEALTH_HEALTHY;
	deps_observe(g, "db", &o, &met);
	ck_assert(names_are(&met, "web"));
	deps_names_free(&met);
	deps_graph_free(g);
}
END_TEST

START_TEST(test_deps_unmet_list)
{
	struct deps_graph	*g = deps_graph_new(16);
	struct deps_unmet	 u[2];
	struct deps_obs		 o = { .phase = DEPS_COMPLETED, .ok = false,
	    .status = 256 };

	set(g, "db", NULL, NULL);
	set(g, "mig", NULL, NULL);
	set(g, "cache", NULL, NULL);
	set(g, "web", "db mig:completed_ok cache:started", NULL);
	deps_observe(g, "mig", &o, NULL);
	observe(g, "cache", DEPS_STARTING, NULL);
	ck_assert_uint_eq(deps_unmet(g, "web", u, 2), 2);
	ck_assert_str_eq(u[0].name, "db");
	ck_assert_int_eq(u[0].cond, DEPS_COND_READY);
	ck_assert_int_eq(u[0].obs.phase, DEPS_ABSENT);	/* never observed */
	ck_assert_str_eq(u[1].name, "mig");
	ck_assert_int_eq(u[1].cond, DEPS_COND_COMPLETED_OK);
	ck_assert_int_eq(u[1].obs.phase, DEPS_COMPLETED);
	ck_assert_int_eq(u[1].obs.status, 256);
	/* max bounds what is written, not what is counted. */
	ck_assert_uint_eq(deps_unmet(g, "web", u, 1), 2);
	ck_assert_uint_eq(deps_unmet(g, "db", u, 2), 0);
	ck_assert_uint_eq(deps_unmet(g, "nobody", u, 2), 0);
	deps_graph_free(g);
}
END_TEST

/* A temporary child that completed is remembered by name. */
START_TEST(test_deps_completed_remembered)
{
	struct deps_graph	*g = deps_graph_new(16);
	struct deps_obs		 o = { .phase = DEPS_COMPLETED, .ok = true };
	struct deps_names	 met = { NULL, 0, 0 };

	set(g, "migrate", NULL, NULL);
	observe(g, "migrate", DEPS_RUNNING, NULL);
	deps_observe(g, "migrate", &o, NULL);
	deps_remove(g, "migrate");		/* the row is gone */
	set(g, "web", "migrate:completed_ok", NULL);	/* still known */
	ck_assert(deps_wait(g, "web"));
	set(g, "web2", "migrate:started", NULL);
	ck_assert(deps_wait(g, "web2"));
	/* Started again: the completion is forgotten. */
	set(g, "migrate", NULL, NULL);
	observe(g, "migrate", DEPS_STARTING, NULL);
	ck_assert(!deps_met(g, "web"));
	ck_assert(!deps_wait(g, "web"));
	o.ok = false;
	deps_observe(g, "migrate", &o, &met);	/* failed this time */
	ck_assert_uint_eq(met.n, 0);
	ck_assert(!deps_met(g, "web"));
	o.ok = true;
	deps_observe(g, "migrate", &o, &met);
	ck_assert(names_are(&met, "web"));
	deps_names_free(&met);
	deps_graph_free(g);
}
END_TEST

static int
check_one(struct deps_graph *g, const char *name, const char *spec,
    char **cause)
{
	struct deps_change	 ch = { name, edge_buf, 0, false };
	size_t			 w, e;
	int			 rc;

	ch.n = spec == NULL ? 0 : edges(spec);
	*cause = NULL;
	rc = deps_check(g, &ch, 1, &w, &e, cause);
	edges_clear(ch.n);
	return (rc);
}

/* Completions nobody depends on are bounded; depended-on ones stay. */
START_TEST(test_deps_completed_bounded)
{
	struct deps_graph	*g = deps_graph_new(2);
	struct deps_obs		 o = { .phase = DEPS_COMPLETED, .ok = true };
	const char		*names[] = { "t1", "t2", "t3", "t4" };
	char			*cause;
	int			 i;

	set(g, "keep", NULL, NULL);
	deps_observe(g, "keep", &o, NULL);
	set(g, "user", "keep:completed", NULL);
	deps_remove(g, "keep");
	for (i = 0; i < 4; i++) {
		set(g, names[i], NULL, NULL);
		deps_observe(g, names[i], &o, NULL);
		deps_remove(g, names[i]);
	}
	/* t1 and t2 are forgotten, t3 and t4 remembered, keep kept. */
	ck_assert_int_eq(check_one(g, "x", "t1:completed", &cause), -1);
	ck_assert(strstr(cause, "no child named t1") != NULL);
	free(cause);
	ck_assert_int_eq(check_one(g, "x", "t2:completed", &cause), -1);
	free(cause);
	ck_assert_int_eq(check_one(g, "x", "t3:completed t4 keep", &cause),
	    0);
	ck_assert(deps_met(g, "user"));
	/* Once nobody depends on keep, it counts: the oldest goes first. */
	deps_remove(g, "user");
	ck_assert_int_eq(check_one(g, "x", "t3", &cause), -1);
	free(cause);
	ck_assert_int_eq(check_one(g, "x", "t4 keep", &cause), 0);
	deps_graph_free(g);
}
END_TEST

/* A removed dependency (not completed) is absent to its dependents. */
START_TEST(test_deps_removed_dependency)
{
	struct deps_graph	*g = deps_graph_new(16);
	struct deps_unmet	 u;
	struct deps_names	 met = { NULL, 0, 0 };
	char			*cause;

	set(g, "db", NULL, NULL);
	set(g, "web", "db:started", NULL);
	observe(g, "db", DEPS_RUNNING, NULL);
	ck_assert(deps_met(g, "web"));
	deps_remove(g, "db");
	ck_assert(!deps_met(g, "web"));
	ck_assert_uint_eq(deps_unmet(g, "web", &u, 1), 1);
	ck_assert_int_eq(u.obs.phase, DEPS_ABSENT);
	/* A new row may not name it, the old one keeps waiting for it. */
	ck_assert_int_eq(check_one(g, "api", "db", &cause), -1);
	free(cause);
	ck_assert(!deps_wait(g, "web"));
	set(g, "db", NULL, &met);
	observe(g, "db", DEPS_STARTING, &met);
	ck_assert(names_are(&met, "web"));
	deps_names_free(&met);
	deps_graph_free(g);
}
END_TEST

/* deps_set on a waiting row with new, met edges reports it. */
START_TEST(test_deps_set_reports_met)
{
	struct deps_graph	*g = deps_graph_new(16);
	struct deps_names	 met = { NULL, 0, 0 };

	set(g, "a", NULL, NULL);
	set(g, "b", NULL, NULL);
	observe(g, "b", DEPS_RUNNING, NULL);
	set(g, "web", "a", NULL);
	ck_assert(!deps_wait(g, "web"));
	set(g, "web", "b", &met);		/* a reload changed its spec */
	ck_assert(names_are(&met, "web"));
	ck_assert(!deps_waiting(g, "web"));
	/* The old target lost its dependent: removing it is quiet. */
	deps_remove(g, "a");
	ck_assert(deps_met(g, "web"));
	deps_names_free(&met);
	deps_graph_free(g);
}
END_TEST

/* A thousand rows waiting on one: one transition reports them all. */
START_TEST(test_deps_fan_out)
{
	struct deps_graph	*g = deps_graph_new(16);
	struct deps_names	 met = { NULL, 0, 0 };
	char			 name[32];
	int			 i;

	set(g, "db", NULL, NULL);
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof name, "w%d", i);
		set(g, name, "db", NULL);
		ck_assert(!deps_wait(g, name));
	}
	observe(g, "db", DEPS_STARTING, &met);
	ck_assert_uint_eq(met.n, 0);
	observe(g, "db", DEPS_RUNNING, &met);
	ck_assert_uint_eq(met.n, 1000);
	for (i = 0; i < 1000; i++)
		ck_assert(!deps_waiting(g, met.v[i]));
	deps_names_free(&met);
	deps_graph_free(g);
}
END_TEST

/*
 * The cost is per edge pointing at the row that changed, never per row
 * of the zone: 200 000 transitions of rows with one dependent each, in a
 * zone of 20 000 rows, would take minutes if every transition looked at
 * every row; here it is well under a second even under a sanitizer.
 */
START_TEST(test_deps_cost_is_local)
{
	struct deps_graph	*g = deps_graph_new(16);
	char			 name[32], dep[32];
	long long		 t0;
	int			 i;

	for (i = 0; i < 10000; i++) {
		snprintf(dep, sizeof dep, "d%d", i);
		set(g, dep, NULL, NULL);
		snprintf(name, sizeof name, "w%d", i);
		set(g, name, dep, NULL);
	}
	t0 = test_now_ms();
	for (i = 0; i < 200000; i++) {
		snprintf(dep, sizeof dep, "d%d", i % 10000);
		observe(g, dep, i % 2 ? DEPS_RUNNING : DEPS_DOWN, NULL);
	}
	ck_assert_msg(test_now_ms() - t0 < 3000, "took %lld ms",
	    test_now_ms() - t0);
	deps_graph_free(g);
}
END_TEST

/* deps_check. */

START_TEST(test_deps_check_unknown)
{
	struct deps_graph	*g = deps_graph_new(16);
	struct deps_change	 ch[2];
	size_t			 w, e, n;
	char			*cause = NULL;

	set(g, "db", NULL, NULL);
	n = edges("db cache");
	ch[0] = (struct deps_change){ "web", edge_buf, n, false };
	ck_assert_int_eq(deps_check(g, ch, 1, &w, &e, &cause), -1);
	ck_assert_uint_eq(w, 0);
	ck_assert_uint_eq(e, 1);
	ck_assert_str_eq(cause, "web depends on cache: no child named cache");
	free(cause);
	/* The same change with cache added alongside passes. */
	ch[1] = (struct deps_change){ "cache", NULL, 0, false };
	ck_assert_int_eq(deps_check(g, ch, 2, &w, &e, &cause), 0);
	/* And with db removed alongside, db is unknown. */
	ch[1] = (struct deps_change){ "db", NULL, 0, true };
	ck_assert_int_eq(deps_check(g, ch, 2, &w, &e, &cause), -1);
	ck_assert_uint_eq(e, 0);
	free(cause);
	edges_clear(n);
	deps_graph_free(g);
}
END_TEST

START_TEST(test_deps_check_self_and_twice)
{
	struct deps_graph	*g = deps_graph_new(16);
	struct deps_change	 ch[2];
	size_t			 w, e, n;
	char			*cause = NULL;

	n = edges("a");
	ch[0] = (struct deps_change){ "a", edge_buf, n, false };
	ck_assert_int_eq(deps_check(g, ch, 1, &w, &e, &cause), -1);
	ck_assert_str_eq(cause, "a depends on itself");
	ck_assert_uint_eq(w, 0);
	ck_assert_uint_eq(e, 0);
	free(cause);
	edges_clear(n);
	ch[0] = (struct deps_change){ "a", NULL, 0, false };
	ch[1] = (struct deps_change){ "a", NULL, 0, false };
	ck_assert_int_eq(deps_check(g, ch, 2, &w, &e, &cause), -1);
	ck_assert_uint_eq(w, 1);
	ck_assert_uint_eq(e, SIZE_MAX);
	free(cause);
	/* deps_check also refuses a name twice (deps_parse does first). */
	set(g, "b", NULL, NULL);
	n = edges("b b");
	ch[0] = (struct deps_change){ "a", edge_buf, n, false };
	ck_assert_int_eq(deps_check(g, ch, 1, &w, &e, &cause), -1);
	ck_assert_uint_eq(e, 1);
	ck_assert_str_eq(cause, "a depends on b twice");
	free(cause);
	edges_clear(n);
	deps_graph_free(g);
}
END_TEST

/* A whole config at load: an empty graph and every child at once. */
START_TEST(test_deps_check_load_cycle)
{
	struct deps_graph	*g = deps_graph_new(16);
	char			 na[] = "a", nb[] = "b", nc[] = "c", nd[] = "d";
	struct deps_edge	 ea = { nb, DEPS_COND_READY, 0, 0 };
	struct deps_edge	 eb[2] = { { nd, DEPS_COND_READY, 0, 0 },
	    { nc, DEPS_COND_STARTED, 0, 0 } };
	struct deps_edge	 ec = { na, DEPS_COND_READY, 0, 0 };
	struct deps_change	 ch[4] = {
		{ "a", &ea, 1, false },
		{ "b", eb, 2, false },
		{ "c", &ec, 1, false },
		{ "d", NULL, 0, false },
	};
	size_t			 w, e;
	char			*cause = NULL;

	ck_assert_int_eq(deps_check(g, ch, 4, &w, &e, &cause), -1);
	ck_assert_str_eq(cause, "dependency cycle: a -> b -> c -> a");
	ck_assert_uint_eq(w, 0);		/* a's edge 0 closes it */
	ck_assert_uint_eq(e, 0);
	free(cause);
	ch[2].n = 0;				/* break it */
	ck_assert_int_eq(deps_check(g, ch, 4, &w, &e, &cause), 0);
	deps_graph_free(g);
}
END_TEST

/* A cycle introduced by reload is refused and changes nothing. */
START_TEST(test_deps_check_reload_cycle_changes_nothing)
{
	struct deps_graph	*g = deps_graph_new(16);
	struct deps_names	 met = { NULL, 0, 0 };
	struct deps_unmet	 u;
	char			*cause = NULL;

	set(g, "c", NULL, NULL);
	set(g, "b", "c", NULL);
	set(g, "a", "b", NULL);
	ck_assert(!deps_wait(g, "a"));
	ck_assert_int_eq(check_one(g, "c", "a:started", &cause), -1);
	ck_assert_str_eq(cause, "dependency cycle: c -> a -> b -> c");
	free(cause);
	ck_assert_int_eq(check_one(g, "b", "a", &cause), -1);
	ck_assert_str_eq(cause, "dependency cycle: b -> a -> b");
	free(cause);
	/* Everything as before: edges, waiting, evaluation. */
	ck_assert(deps_waiting(g, "a"));
	ck_assert(deps_met(g, "c"));
	ck_assert_uint_eq(deps_unmet(g, "b", &u, 1), 1);
	ck_assert_str_eq(u.name, "c");
	observe(g, "c", DEPS_RUNNING, &met);
	ck_assert(deps_met(g, "b"));
	observe(g, "b", DEPS_RUNNING, &met);
	ck_assert(names_are(&met, "a"));
	ck_assert_int_eq(check_one(g, "c", NULL, &cause), 0);
	deps_names_free(&met);
	deps_graph_free(g);
}
END_TEST

/* A long cycle is named in a bounded message. */
START_TEST(test_deps_check_long_cycle)
{
	struct deps_graph	*g = deps_graph_new(16);
	char			 name[16], dep[16], *cause = NULL;
	int			 i;

	set(g, "n0", NULL, NULL);
	for (i = 1; i < 40; i++) {
		snprintf(name, sizeof name, "n%d", i);
		snprintf(dep, sizeof dep, "n%d", i - 1);
		set(g, name, dep, NULL);
	}
	ck_assert_int_eq(check_one(g, "n0", "n39", &cause), -1);
	ck_assert_msg(strncmp(cause, "dependency cycle: n0 -> n39 -> n38",
	    34) == 0, "%s", cause);
	ck_assert_msg(strstr(cause, " ... -> n1 -> n0") != NULL, "%s", cause);
	ck_assert_uint_lt(strlen(cause), 200);
	free(cause);
	deps_graph_free(g);
}
END_TEST

/* Closures. */

START_TEST(test_deps_closure_stop)
{
	struct deps_graph	*g = deps_graph_new(16);
	struct deps_names	 out = { NULL, 0, 0 };

	set(g, "a", NULL, NULL);
	set(g, "b", "a", NULL);				/* on_stop stop */
	set(g, "c", "b", NULL);
	set(g, "d", "a:ready/ignore/ignore", NULL);	/* left alone */
	set(g, "e", "b:ready/ignore/restart", NULL);
	set(g, "f", "d", NULL);				/* behind d */
	deps_closure(g, "a", DEPS_CL_STOP, &out);
	ck_assert(names_are(&out, "c b"));
	deps_names_clear(&out);
	deps_closure(g, "c", DEPS_CL_STOP, &out);
	ck_assert_uint_eq(out.n, 0);
	deps_closure(g, "nobody", DEPS_CL_STOP, &out);
	ck_assert_uint_eq(out.n, 0);
	deps_names_free(&out);
	deps_graph_free(g);
}
END_TEST

/* What closure_any's predicate saw, and which rows it holds for. */
struct any_probe {
	const char	*yes;		/* rows it holds for, space-separated */
	char		 seen[128];	/* rows asked, in order */
};

static bool
any_pred(const char *name, void *arg)
{
	struct any_probe	*p = arg;
	size_t			 len = strlen(p->seen);
	char			 w[40];

	snprintf(p->seen + len, sizeof p->seen - len, "%s ", name);
	snprintf(w, sizeof w, " %s ", name);
	return (strstr(p->yes, w) != NULL);
}

/*
 * deps_closure_any asks the rows of the closure, nearest first, only as
 * far as the first that holds: the same rows as deps_closure, along the
 * same edges.
 */
START_TEST(test_deps_closure_any)
{
	struct deps_graph	*g = deps_graph_new(16);
	struct any_probe	 p = { " ", "" };

	set(g, "a", NULL, NULL);
	set(g, "b", "a", NULL);				/* on_stop stop */
	set(g, "c", "b", NULL);
	set(g, "d", "a:ready/ignore/ignore", NULL);	/* left alone */
	set(g, "f", "d", NULL);				/* behind d */
	ck_assert(!deps_closure_any(g, "a", DEPS_CL_STOP, any_pred, &p));
	ck_assert_str_eq(p.seen, "b c ");		/* never d or f */
	p = (struct any_probe){ " b c ", "" };
	ck_assert(deps_closure_any(g, "a", DEPS_CL_STOP, any_pred, &p));
	ck_assert_str_eq(p.seen, "b ");			/* done at b */
	p = (struct any_probe){ " c ", "" };
	ck_assert(deps_closure_any(g, "a", DEPS_CL_STOP, any_pred, &p));
	ck_assert_str_eq(p.seen, "b c ");
	p = (struct any_probe){ " f ", "" };
	ck_assert(deps_closure_any(g, "a", DEPS_CL_ALL, any_pred, &p));
	p = (struct any_probe){ " f ", "" };
	ck_assert(!deps_closure_any(g, "c", DEPS_CL_ALL, any_pred, &p));
	ck_assert(!deps_closure_any(g, "nobody", DEPS_CL_ALL, any_pred, &p));
	deps_graph_free(g);
}
END_TEST

START_TEST(test_deps_closure_restart)
{
	struct deps_graph	*g = deps_graph_new(16);
	struct deps_names	 out = { NULL, 0, 0 };

	set(g, "a", NULL, NULL);
	set(g, "b", "a:ready/stop/restart", NULL);
	set(g, "c", "b:ready/ignore/restart", NULL);
	set(g, "d", "a", NULL);				/* ignore */
	set(g, "e", "b", NULL);				/* ignore */
	deps_closure(g, "a", DEPS_CL_RESTART, &out);
	ck_assert(names_are(&out, "c b"));
	deps_names_free(&out);
	deps_graph_free(g);
}
END_TEST

/* A diamond: the order holds every row before what it depends on. */
START_TEST(test_deps_closure_diamond)
{
	struct deps_graph	*g = deps_graph_new(16);
	struct deps_names	 out = { NULL, 0, 0 };

	set(g, "a", NULL, NULL);
	set(g, "b", "a", NULL);
	set(g, "c", "a", NULL);
	set(g, "d", "b c", NULL);
	set(g, "e", "d a", NULL);
	deps_closure(g, "a", DEPS_CL_STOP, &out);
	ck_assert(names_are(&out, "e d b c"));
	deps_names_free(&out);
	deps_graph_free(g);
}
END_TEST

/* Plans. */

static struct deps_graph *
diamond(void)
{
	struct deps_graph	*g = deps_graph_new(16);

	set(g, "db", NULL, NULL);
	set(g, "cache", NULL, NULL);
	set(g, "api", "db cache", NULL);
	set(g, "worker", "db", NULL);
	set(g, "web", "api", NULL);
	set(g, "outside", NULL, NULL);
	set(g, "edge", "web outside", NULL);
	return (g);
}

START_TEST(test_deps_levels)
{
	struct deps_graph	*g = diamond();
	const char		*names[] = { "web", "worker", "api", "db",
	    "cache", "edge" };
	size_t			 lv[6];

	ck_assert_uint_eq(deps_levels(g, names, 6, DEPS_START, lv), 4);
	ck_assert_uint_eq(lv[3], 0);		/* db */
	ck_assert_uint_eq(lv[4], 0);		/* cache */
	ck_assert_uint_eq(lv[1], 1);		/* worker */
	ck_assert_uint_eq(lv[2], 1);		/* api */
	ck_assert_uint_eq(lv[0], 2);		/* web */
	ck_assert_uint_eq(lv[5], 3);		/* edge: outside is not in */
	ck_assert_uint_eq(deps_levels(g, names, 6, DEPS_STOP, lv), 4);
	ck_assert_uint_eq(lv[5], 0);
	ck_assert_uint_eq(lv[0], 1);
	ck_assert_uint_eq(lv[1], 0);		/* worker: no dependents */
	ck_assert_uint_eq(lv[2], 2);
	ck_assert_uint_eq(lv[3], 3);		/* db after api and worker */
	ck_assert_uint_eq(lv[4], 3);
	deps_graph_free(g);
}
END_TEST

/* A 1000-row chain in ten levels of fan-out (the bench's shape). */
START_TEST(test_deps_levels_chain)
{
	struct deps_graph	*g = deps_graph_new(16);
	const char		*names[1000];
	char			*own[1000], dep[16];
	size_t			 lv[1000];
	int			 i;

	for (i = 0; i < 1000; i++) {
		xasprintf(&own[i], "c%d", i);
		names[i] = own[i];
		snprintf(dep, sizeof dep, "c%d", i - 100);
		set(g, own[i], i < 100 ? NULL : dep, NULL);
	}
	ck_assert_uint_eq(deps_levels(g, names, 1000, DEPS_START, lv), 10);
	for (i = 0; i < 1000; i++)
		ck_assert_uint_eq(lv[i], i / 100);
	for (i = 0; i < 1000; i++)
		free(own[i]);
	deps_graph_free(g);
}
END_TEST

/* Event-driven: each row goes once what it waits for is done. */
START_TEST(test_deps_plan_events)
{
	struct deps_graph	*g = diamond();
	const char		*names[] = { "web", "api", "db", "cache",
	    "db" };
	struct deps_plan	*pl;
	struct deps_names	 out = { NULL, 0, 0 };

	pl = deps_plan_new(g, names, 5, DEPS_START);
	deps_graph_free(g);			/* the plan has its own copy */
	ck_assert_uint_eq(deps_plan_next(pl, &out), 2);
	ck_assert(names_are(&out, "db cache"));
	ck_assert_uint_eq(deps_plan_next(pl, &out), 0);	/* each once */
	ck_assert_int_eq(deps_plan_done(pl, "api"), -1);	/* not given */
	ck_assert_int_eq(deps_plan_done(pl, "worker"), -1);	/* not in */
	ck_assert_int_eq(deps_plan_done(pl, "db"), 0);
	ck_assert_int_eq(deps_plan_done(pl, "db"), -1);		/* twice */
	ck_assert_uint_eq(deps_plan_next(pl, &out), 0);
	ck_assert_int_eq(deps_plan_done(pl, "cache"), 0);
	ck_assert_uint_eq(deps_plan_next(pl, &out), 1);
	ck_assert(names_are(&out, "db cache api"));
	ck_assert(!deps_plan_finished(pl));
	ck_assert_int_eq(deps_plan_done(pl, "api"), 0);
	ck_assert_uint_eq(deps_plan_next(pl, &out), 1);
	ck_assert_int_eq(deps_plan_done(pl, "web"), 0);
	ck_assert(deps_plan_finished(pl));
	deps_plan_free(pl);
	deps_names_free(&out);
}
END_TEST

START_TEST(test_deps_plan_stop)
{
	struct deps_graph	*g = diamond();
	const char		*names[] = { "db", "api", "web", "worker" };
	struct deps_plan	*pl;
	struct deps_names	 out = { NULL, 0, 0 };

	pl = deps_plan_new(g, names, 4, DEPS_STOP);
	ck_assert_uint_eq(deps_plan_next(pl, &out), 2);
	ck_assert(names_are(&out, "web worker"));
	deps_plan_done(pl, "worker");
	ck_assert_uint_eq(deps_plan_next(pl, &out), 0);
	deps_plan_done(pl, "web");
	ck_assert_uint_eq(deps_plan_next(pl, &out), 1);	/* api */
	deps_plan_done(pl, "api");
	ck_assert_uint_eq(deps_plan_next(pl, &out), 1);	/* db */
	ck_assert(names_are(&out, "web worker api db"));
	deps_plan_free(pl);
	deps_plan_free(NULL);
	deps_names_free(&out);
	deps_graph_free(g);
}
END_TEST

Suite *
deps_suite(void)
{
	Suite	*s = suite_create("deps");
	TCase	*tc;

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_deps_parse_table, 0, NROWS(parse_rows));
	tcase_add_test(tc, test_deps_parse_bounds);
	tcase_add_loop_test(tc, test_deps_cond_table, 0, NROWS(cond_rows));
	tcase_add_test(tc, test_deps_names);
	suite_add_tcase(s, tc);
	tc = tcase_create("graph");
	tcase_add_test(tc, test_deps_wait_then_met);
	tcase_add_test(tc, test_deps_dependent_starts_when_dependency_recovers);
	tcase_add_test(tc, test_deps_unwait);
	tcase_add_test(tc, test_deps_healthy);
	tcase_add_test(tc, test_deps_unmet_list);
	tcase_add_test(tc, test_deps_completed_remembered);
	tcase_add_test(tc, test_deps_completed_bounded);
	tcase_add_test(tc, test_deps_removed_dependency);
	tcase_add_test(tc, test_deps_set_reports_met);
	tcase_add_test(tc, test_deps_fan_out);
	tcase_add_test(tc, test_deps_cost_is_local);
	tcase_set_timeout(tc, 20);
	suite_add_tcase(s, tc);
	tc = tcase_create("check");
	tcase_add_test(tc, test_deps_check_unknown);
	tcase_add_test(tc, test_deps_check_self_and_twice);
	tcase_add_test(tc, test_deps_check_load_cycle);
	tcase_add_test(tc, test_deps_check_reload_cycle_changes_nothing);
	tcase_add_test(tc, test_deps_check_long_cycle);
	suite_add_tcase(s, tc);
	tc = tcase_create("order");
	tcase_add_test(tc, test_deps_closure_stop);
	tcase_add_test(tc, test_deps_closure_restart);
	tcase_add_test(tc, test_deps_closure_any);
	tcase_add_test(tc, test_deps_closure_diamond);
	tcase_add_test(tc, test_deps_levels);
	tcase_add_test(tc, test_deps_levels_chain);
	tcase_add_test(tc, test_deps_plan_events);
	tcase_add_test(tc, test_deps_plan_stop);
	suite_add_tcase(s, tc);
	return (s);
}
