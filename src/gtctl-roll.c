/* SPDX-License-Identifier: MIT */
/*
 * gtctl-roll: restart --rolling, a rolling restart (restart_children).
 * One word that is no child's name is sent as a template, so that gtd
 * takes the rows made from it when the roll begins; other words are
 * expanded as every target is (gtctl-many.c) and sent as names, in start
 * order.  One request, one reply after the whole roll: a line per child
 * that came back or was skipped, then the error of the one that did not.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <jansson.h>

#include "gt/gtctl-text.h"
#include "gt/gtctl.h"
#include "gt/xmalloc.h"

static int	gtctl_roll_target(struct gtctl *, struct gtctl_args *,
		    json_t *req);
static void	gtctl_roll_lines(json_t *reply, const char *key,
		    const char *what);

/* Is word the name of a row (info knows it)?  0, or an exit status. */
static int
gtctl_roll_is_row(struct gtctl *g, const char *word, bool *isrow)
{
	json_t	*req, *reply;
	bool	 json = g->json;
	int	 ret;

	req = gtctl_request(g, "info");
	gtctl_set(g, req, "name", json_string(word));
	g->json = false;		/* not a reply the user asked for */
	ret = gtctl_call_any(g, req, &reply);
	g->json = json;
	if (ret != 0)
		return (ret);
	*isrow = json_is_true(json_object_get(reply, "ok"));
	json_decref(reply);
	return (0);
}

/* "template" or "names" of the request, from the words. */
static int
gtctl_roll_target(struct gtctl *g, struct gtctl_args *a, json_t *req)
{
	json_t		*rows, *names, *r;
	const char	*w = a->pos[0];
	bool		 isrow = true;
	size_t		 i;
	int		 ret;

	if (a->npos == 1 && strpbrk(w, "*?[") == NULL &&
	    strcmp(w, "all") != 0) {
		if ((ret = gtctl_roll_is_row(g, w, &isrow)) != 0)
			return (ret);
		if (!isrow) {
			gtctl_set(g, req, "template", json_string(w));
			return (0);
		}
	}
	if ((ret = gtctl_expand(g, a->pos, a->npos, &rows)) != 0)
		return (ret);
	names = json_array();
	json_array_foreach(rows, i, r)
		json_array_append(names, json_object_get(r, "name"));
	json_decref(rows);
	if (json_array_size(names) == 0) {
		json_decref(names);
		fprintf(stderr, "gtctl: not_found: no child to restart\n");
		return (GTCTL_EXIT_ABSENT);
	}
	gtctl_set(g, req, "names", names);
	return (0);
}

/* "NAME: what" for each name of reply's array key. */
static void
gtctl_roll_lines(json_t *reply, const char *key, const char *what)
{
	json_t	*v;
	char	*s;
	size_t	 i;

	json_array_foreach(json_object_get(reply, key), i, v) {
		if (!json_is_string(v))
			continue;
		s = gtctl_esc(json_string_value(v), json_string_length(v));
		printf("%s: %s\n", s, what);
		free(s);
	}
}

/* The integer option opt as the argument key of req; 0 or EX_USAGE. */
static int
gtctl_roll_int(struct gtctl *g, struct gtctl_args *a, json_t *req,
    const char *opt, const char *key)
{
	const char	*v;
	char		 what[32];
	json_int_t	 n;

	if ((v = gtctl_optval(g, a, opt)) == NULL)
		return (0);
	snprintf(what, sizeof what, "--%s", opt);
	if (gtctl_int(what, v, &n) != 0)
		return (EX_USAGE);
	gtctl_set(g, req, key, json_integer(n));
	return (0);
}

/*
 * restart: with --rolling [--max-unavailable N] [--timeout-ms MS]
 * template | target ...,
 * the rolling restart; else each target restarted (gtctl-many.c).
 */
int
gtctl_exec_restart_cmd(struct gtctl *g, struct gtctl_args *a)
{
	json_t		*req, *reply;
	int		 ret;

	if (gtctl_optval(g, a, "rolling") == NULL) {
		if (gtctl_optval(g, a, "max-unavailable") != NULL ||
		    gtctl_optval(g, a, "timeout-ms") != NULL)
			return (gtctl_bad_usage(g->cmd, "--max-unavailable "
			    "and --timeout-ms need --rolling"));
		return (gtctl_exec_restart(g, a));
	}
	req = gtctl_request(g, "restart_children");
	if ((ret = gtctl_roll_int(g, a, req, "max-unavailable",
	    "max_unavailable")) != 0 || (ret = gtctl_roll_int(g, a, req,
	    "timeout-ms", "timeout_ms")) != 0) {
		json_decref(req);
		return (ret);
	}
	if ((ret = gtctl_roll_target(g, a, req)) != 0) {
		json_decref(req);
		return (ret);
	}
	if ((ret = gtctl_call_any(g, req, &reply)) != 0)
		return (ret);
	if (!g->json) {
		gtctl_roll_lines(reply, "restarted", "restarted");
		gtctl_roll_lines(reply, "skipped", "skipped");
	}
	if (json_is_false(json_object_get(reply, "ok")))
		ret = gtctl_refused(g, reply, json_string_value(
		    json_object_get(reply, "name")));
	json_decref(reply);
	return (ret);
}
