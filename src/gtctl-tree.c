/* SPDX-License-Identifier: MIT */
/*
 * gtctl-tree: ls --tree, the depends_on graph as a text tree.  The rows
 * come from which_children and the edges from the registry's depends
 * table (a query), so this needs read access only.  Roots come first: a
 * row with no depends_on, or a dependency that is no row (a completed
 * temporary child, remembered by name, or a name not yet started); under
 * each node, the rows that depend on it, in start order, with the
 * condition they wait for.  A row with several dependencies is shown
 * under each; after its first place it is marked "(see above)" and its
 * own dependents are not repeated.  Plain ASCII, so any terminal and any
 * pipe shows it the same.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gt/gtctl-text.h"
#include "gt/gtctl.h"
#include "gt/xmalloc.h"

#define GTCTL_TREE_DEPTH	64	/* levels shown; deeper ones are cut */

/* One ls --tree: the rows, the edges, what was shown. */
struct gtctl_tree {
	struct gtctl		*g;
	struct gtctl_table	 t;
	json_t			*rows;		/* name -> which_children row */
	json_t			*under;		/* dependency -> [[name, cond]] */
	json_t			*seen;		/* names shown with their subtree */
};

static int	gtctl_tree_load(struct gtctl_tree *, json_t **rows,
		    json_t **edges);
static void	gtctl_tree_node(struct gtctl_tree *, const char *name,
		    const char *cond, const char *prefix, int last);

/* which_children and the depends table.  0, or an exit status. */
static int
gtctl_tree_load(struct gtctl_tree *tr, json_t **rows, json_t **edges)
{
	struct gtctl	*g = tr->g;
	json_t		*req, *reply;
	int		 ret;

	*rows = *edges = NULL;
	if ((ret = gtctl_call_quiet(g, gtctl_request(g, "which_children"),
	    &reply)) != 0)
		return (ret);
	*rows = json_incref(json_object_get(reply, "children"));
	json_decref(reply);
	req = gtctl_request(g, "query");
	gtctl_set(g, req, "sql", json_string("SELECT name, dependency, "
	    "condition FROM depends ORDER BY name, dependency"));
	gtctl_set(g, req, "max_rows", json_integer(100000));
	if ((ret = gtctl_call_quiet(g, req, &reply)) != 0)
		return (ret);
	*edges = json_incref(json_object_get(reply, "rows"));
	json_decref(reply);
	if (!json_is_array(*rows) || !json_is_array(*edges))
		return (gtctl_malformed("no \"children\" or \"rows\""));
	return (0);
}

/* One line for name, then (the first time) its dependents below it. */
static void
gtctl_tree_node(struct gtctl_tree *tr, const char *name, const char *cond,
    const char *prefix, int last)
{
	json_t		*row = json_object_get(tr->rows, name), *kids, *k;
	const char	*st = json_string_value(json_object_get(row, "state"));
	char		*esc, *cell, *sub;
	bool		 again = json_object_get(tr->seen, name) != NULL;
	size_t		 i, n;

	esc = gtctl_esc(name, strlen(name));
	xasprintf(&cell, "%s%s%s%s", prefix, last == -1 ? "" : last ?
	    "`- " : "|- ", esc, again ? " (see above)" : "");
	free(esc);
	gtctl_table_add(&tr->t, cell, row == NULL ? xstrdup("(no row)") :
	    gtctl_member(row, "state"), row == NULL ? xstrdup("-") :
	    gtctl_member(row, "pid"), cond != NULL ? gtctl_esc(cond,
	    strlen(cond)) : xstrdup("-"));
	if (st != NULL)
		gtctl_table_color(&tr->t, 1, gtctl_state_color(st));
	if (again)
		return;
	json_object_set_new(tr->seen, name, json_true());
	kids = json_object_get(tr->under, name);
	if ((n = json_array_size(kids)) == 0)
		return;
	xasprintf(&sub, "%s%s", prefix, last == -1 ? "" : last ? "   " :
	    "|  ");
	if (strlen(sub) / 3 >= GTCTL_TREE_DEPTH) {
		xasprintf(&cell, "%s`- ... (%zu more, see gtctl why)", sub, n);
		gtctl_table_add(&tr->t, cell, xstrdup(""), xstrdup(""),
		    xstrdup(""));
	} else
		json_array_foreach(kids, i, k)
			gtctl_tree_node(tr, json_string_value(json_array_get(k,
			    0)), json_string_value(json_array_get(k, 1)), sub,
			    i + 1 == n);
	free(sub);
}

/* ls --tree: 0, or an exit status. */
int
gtctl_exec_ls_tree(struct gtctl *g, struct gtctl_args *a)
{
	struct gtctl_tree	 tr = { .g = g, .t = { .ncol = 4, .nshow = 4 } };
	json_t			*rows, *edges, *e, *r, *deps, *roots;
	const char		*name, *dep;
	char			*line;
	size_t			 i, k;
	int			 ret;

	if (a->npos > 0 || gtctl_optval(g, a, "state") != NULL)
		return (gtctl_bad_usage(g->cmd, "--tree shows every child: "
		    "no targets or --state"));
	if ((ret = gtctl_tree_load(&tr, &rows, &edges)) != 0)
		goto out;
	if (g->json) {
		e = json_pack("{s:b, s:O, s:O}", "ok", true, "children", rows,
		    "depends", edges);
		line = gtctl_dump(e, JSON_COMPACT);
		gtctl_print_json_line(line, strlen(line));
		free(line);
		json_decref(e);
		goto out;
	}
	tr.rows = json_object();
	tr.under = json_object();
	tr.seen = json_object();
	deps = json_object();			/* name -> [[dep, cond]] */
	json_array_foreach(rows, i, r)
		if ((name = json_string_value(json_object_get(r, "name"))) !=
		    NULL)
			json_object_set(tr.rows, name, r);
	json_array_foreach(edges, i, e) {
		if ((name = json_string_value(json_array_get(e, 0))) == NULL ||
		    json_array_get(e, 1) == NULL)
			continue;
		if (json_object_get(deps, name) == NULL)
			json_object_set_new(deps, name, json_array());
		json_array_append_new(json_object_get(deps, name), json_pack(
		    "[O, O]", json_array_get(e, 1), json_array_get(e, 2)));
	}
	/* Dependents in start order; roots: rows without deps, then names. */
	roots = json_array();
	json_array_foreach(rows, i, r) {
		name = json_string_value(json_object_get(r, "name"));
		if (name == NULL)
			continue;
		if (json_array_size(json_object_get(deps, name)) == 0)
			json_array_append_new(roots, json_string(name));
		json_array_foreach(json_object_get(deps, name), k, e) {
			dep = json_string_value(json_array_get(e, 0));
			if (dep == NULL)
				continue;
			if (json_object_get(tr.under, dep) == NULL)
				json_object_set_new(tr.under, dep,
				    json_array());
			json_array_append_new(json_object_get(tr.under, dep),
			    json_pack("[s, O]", name, json_array_get(e, 1)));
			if (json_object_get(tr.rows, dep) == NULL &&
			    json_object_get(tr.seen, dep) == NULL) {
				json_object_set_new(tr.seen, dep, json_true());
				json_array_append_new(roots, json_string(dep));
			}
		}
	}
	json_object_clear(tr.seen);
	gtctl_table_add(&tr.t, xstrdup("NAME"), xstrdup("STATE"),
	    xstrdup("PID"), xstrdup("NEEDS"));
	for (i = 0; i < tr.t.ncol; i++)
		gtctl_table_color(&tr.t, i, GTCTL_C_BOLD);
	json_array_foreach(roots, i, r)
		gtctl_tree_node(&tr, json_string_value(r), NULL, "", -1);
	gtctl_table_print(g, &tr.t);
	json_decref(roots);
	json_decref(deps);
out:
	json_decref(tr.rows);
	json_decref(tr.under);
	json_decref(tr.seen);
	json_decref(rows);
	json_decref(edges);
	return (ret);
}
