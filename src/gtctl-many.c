/* SPDX-License-Identifier: MIT */
/*
 * gtctl-many: start, stop and restart, of one child or of several.  A
 * target is a name, "all", a glob ("web-*") or a template name, expanded
 * here from which_children (and, for a template, a query of the specs).
 * One child gets one request and the classic output (a pid, how it
 * ended).  Several get their requests pipelined over a few connections
 * of their own (gtd runs one request of a connection at a time, so
 * stops that wait for a child run side by side across connections),
 * one line of output each as replies come, and an exit status that
 * says whether any failed.
 */
#include "config.h"

#include <errno.h>
#include <fnmatch.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include <jansson.h>

#include "gt/gtctl-text.h"
#include "gt/gtctl.h"
#include "gt/protocol.h"
#include "gt/xmalloc.h"

#define GTCTL_LANES	16	/* connections of a command on several */

enum gtctl_verb {
	GTCTL_START,
	GTCTL_STOP,
	GTCTL_RESTART
};

/* One child of a command on several. */
struct gtctl_item {
	const char	*name;		/* borrowed from its row */
	const char	*state;		/* borrowed from its row */
	char		*line;		/* owned: its request, NULL: skipped */
	const char	*skip;		/* why it was skipped */
	size_t		 lane;
};

/* One connection of a command on several, and the replies it owes. */
struct gtctl_lane {
	struct gtctl_conn	*c;		/* owned */
	size_t		*items;		/* owned: item indexes, sent order */
	size_t		 n;
	size_t		 next;		/* the next reply is for items[next] */
};

/* A command on several children. */
struct gtctl_batch {
	struct gtctl		*g;
	enum gtctl_verb		 verb;
	struct gtctl_item	*items;		/* owned */
	size_t			 nitems;
	struct gtctl_lane	 lanes[GTCTL_LANES];
	size_t			 nlanes;
	size_t			 pending;
	int			 ret;
};

static bool	gtctl_is_glob(const char *);
static int	gtctl_template_add(struct gtctl *, const char *, json_t *);
static int	gtctl_expand_word(struct gtctl *, const char *, json_t *,
		    json_t *);
static int	gtctl_worse(int, int);
static const char *gtctl_first_signal(struct gtctl *, const char *);
static void	gtctl_done_line(struct gtctl_batch *, struct gtctl_item *,
		    json_t *);
static void	gtctl_batch_reply(struct gtctl_batch *, struct gtctl_lane *,
		    const char *, size_t);
static int	gtctl_batch_plan(struct gtctl_batch *, json_t *, json_t *);
static int	gtctl_batch_send(struct gtctl_batch *);
static int	gtctl_batch_drain(struct gtctl_batch *, struct gtctl_lane *);
static int	gtctl_batch_wait(struct gtctl_batch *);
static void	gtctl_batch_free(struct gtctl_batch *);
static int	gtctl_many(struct gtctl *, enum gtctl_verb, char **, int,
		    json_t *);
static int	gtctl_one(struct gtctl *, enum gtctl_verb, const char *,
		    json_t *);
static int	gtctl_targets(struct gtctl *, enum gtctl_verb,
		    struct gtctl_args *);

static bool
gtctl_is_glob(const char *w)
{
	return (strpbrk(w, "*?[") != NULL);
}

/* Add to want the names of the rows made from template tpl. */
static int
gtctl_template_add(struct gtctl *g, const char *tpl, json_t *want)
{
	json_t	*req, *reply, *row;
	size_t	 i;
	int	 ret;

	req = gtctl_request(g, "query");
	gtctl_set(g, req, "sql", json_string("SELECT name FROM children "
	    "WHERE json_extract(spec, '$.template') = ?1"));
	gtctl_set(g, req, "params", json_pack("[s]", tpl));
	gtctl_set(g, req, "max_rows", json_integer(100000));
	if ((ret = gtctl_call_quiet(g, req, &reply)) != 0)
		return (ret);
	json_array_foreach(json_object_get(reply, "rows"), i, row)
		if (json_is_string(json_array_get(row, 0)))
			json_object_set(want, json_string_value(
			    json_array_get(row, 0)), json_true());
	ret = json_array_size(json_object_get(reply, "rows")) > 0 ? 0 : -1;
	json_decref(reply);
	return (ret);
}

/* Add to want what word matches among rows; 0, 3 or an exit status. */
static int
gtctl_expand_word(struct gtctl *g, const char *word, json_t *rows,
    json_t *want)
{
	json_t		*r;
	const char	*name;
	char		*w;
	size_t		 i;
	int		 n = 0, ret;

	json_array_foreach(rows, i, r) {
		if ((name = json_string_value(json_object_get(r, "name"))) ==
		    NULL)
			continue;
		if (strcmp(name, word) == 0 || (strcmp(word, "all") == 0) ||
		    (gtctl_is_glob(word) && fnmatch(word, name, 0) == 0)) {
			json_object_set(want, name, json_true());
			n++;
		}
	}
	if (n > 0 || strcmp(word, "all") == 0)
		return (0);
	if (!gtctl_is_glob(word) &&
	    (ret = gtctl_template_add(g, word, want)) >= 0)
		return (ret);
	w = gtctl_esc(word, strlen(word));
	if (gtctl_is_glob(word))
		fprintf(stderr, "gtctl: not_found: no child matches '%s'\n", w);
	else
		fprintf(stderr, "gtctl: not_found: no child or template named "
		    "%s\n", w);
	free(w);
	return (GTCTL_EXIT_ABSENT);
}

int
gtctl_expand(struct gtctl *g, char **words, int nwords, json_t **rowsp)
{
	json_t		*reply, *rows, *want, *r;
	const char	*name;
	size_t		 i;
	int		 k, ret = 0, wret;

	*rowsp = NULL;
	if ((ret = gtctl_call_quiet(g, gtctl_request(g, "which_children"),
	    &reply)) != 0)
		return (ret);
	if (!json_is_array(rows = json_object_get(reply, "children"))) {
		json_decref(reply);
		return (gtctl_malformed("no \"children\""));
	}
	want = json_object();
	for (k = 0; k < nwords; k++)
		if ((wret = gtctl_expand_word(g, words[k], rows, want)) != 0 &&
		    ret == 0)
			ret = wret;
	*rowsp = json_array();
	json_array_foreach(rows, i, r) {
		name = json_string_value(json_object_get(r, "name"));
		if (name != NULL && json_object_get(want, name) != NULL)
			json_array_append(*rowsp, r);
	}
	json_decref(want);
	json_decref(reply);
	if (ret != 0) {
		json_decref(*rowsp);
		*rowsp = NULL;
	}
	return (ret);
}

/* The exit status of two outcomes together (gtctl(1) EXIT STATUS). */
static int
gtctl_worse(int a, int b)
{
	static const int	order[] = { EX_UNAVAILABLE, EX_PROTOCOL,
	    EX_USAGE, GTCTL_EXIT_REFUSED, GTCTL_EXIT_ABSENT };
	size_t			i;

	for (i = 0; i < sizeof order / sizeof order[0]; i++)
		if (a == order[i] || b == order[i])
			return (order[i]);
	return (a != 0 ? a : b);
}

/*
 * The stop signal in name's spec ("SIGTERM"), for a reason that says
 * only that SIGKILL ended it; NULL if unknown.  Borrowed until the next
 * call.
 */
static const char *
gtctl_first_signal(struct gtctl *g, const char *name)
{
	static char	 sig[32];
	json_t		*req, *reply, *sh;
	bool		 json = g->json;
	int		 ret;

	req = gtctl_request(g, "get_childspec");
	gtctl_set(g, req, "name", json_string(name));
	g->json = false;
	ret = gtctl_call_any(g, req, &reply);
	g->json = json;
	if (ret != 0)
		return (NULL);
	sh = json_object_get(json_object_get(reply, "spec"), "shutdown");
	if (json_is_string(json_object_get(sh, "signal")))
		snprintf(sig, sizeof sig, "%s",
		    json_string_value(json_object_get(sh, "signal")));
	else
		sig[0] = '\0';
	json_decref(reply);
	return (sig[0] != '\0' ? sig : NULL);
}

/* The line for an item whose request succeeded. */
static void
gtctl_done_line(struct gtctl_batch *b, struct gtctl_item *it, json_t *reply)
{
	struct gtctl	*g = b->g;
	json_t		*r = json_object_get(reply, "reason");
	json_t		*pid = json_object_get(reply, "pid");
	const char	*sig;
	char		*name, *text = NULL;

	name = gtctl_esc(it->name, strlen(it->name));
	printf("%s%s%s: ", gtctl_sgr(g, false, gtctl_name_color(it->name)),
	    name, gtctl_sgr_off(g, false));
	if (b->verb == GTCTL_STOP) {
		sig = json_string_value(json_object_get(r, "signal"));
		if (json_is_true(json_object_get(r, "escalated")) &&
		    json_object_get(r, "stop_signal") == NULL &&
		    sig != NULL && strcmp(sig, "SIGKILL") == 0)
			sig = gtctl_first_signal(g, it->name);
		else
			sig = NULL;
		if ((text = gtctl_reason_text(r, sig)) == NULL)
			text = xstrdup(strcmp(it->state, "restarting") == 0 ?
			    "restart cancelled" : "was not running");
		printf("%s\n", text);
	} else if (json_is_integer(pid))
		printf("%s, pid %" JSON_INTEGER_FORMAT "\n", b->verb ==
		    GTCTL_START ? "started" : "restarted",
		    json_integer_value(pid));
	else
		printf("%s, no process yet\n", b->verb == GTCTL_START ?
		    "started" : "restarted");
	free(text);
	free(name);
	fflush(stdout);
}

/* Handle the reply line that lane owed next. */
static void
gtctl_batch_reply(struct gtctl_batch *b, struct gtctl_lane *l,
    const char *line, size_t len)
{
	struct gtctl_item	*it = &b->items[l->items[l->next++]];
	json_t			*reply;
	char			*name;
	int			 ret;

	b->pending--;
	if (b->g->json)
		gtctl_print_json_line(line, len);
	if ((ret = gtctl_parse_reply(line, len, &reply)) != 0) {
		b->ret = gtctl_worse(b->ret, ret);
		return;
	}
	if (json_is_true(json_object_get(reply, "ok"))) {
		if (!b->g->json)
			gtctl_done_line(b, it, reply);
	} else {
		name = gtctl_esc(it->name, strlen(it->name));
		b->ret = gtctl_worse(b->ret, gtctl_refused(b->g, reply,
		    name));
		free(name);
	}
	json_decref(reply);
}

/*
 * Make the request of each row (args: extra arguments, may be NULL), or
 * note why it is skipped, and spread the requests over the lanes.
 */
static int
gtctl_batch_plan(struct gtctl_batch *b, json_t *rows, json_t *args)
{
	struct gtctl		*g = b->g;
	struct gtctl_item	*it;
	json_t			*req, *r;
	const char		*op = NULL;
	size_t			 i, nreq = 0;

	b->nitems = json_array_size(rows);
	b->items = xcalloc(b->nitems + 1, sizeof *b->items);
	json_array_foreach(rows, i, r) {
		it = &b->items[i];
		it->name = json_string_value(json_object_get(r, "name"));
		it->state = json_string_value(json_object_get(r, "state"));
		if (it->name == NULL || it->state == NULL)
			return (gtctl_malformed("bad \"children\" row"));
		op = b->verb == GTCTL_STOP ? "terminate_child" :
		    "restart_child";
		if (b->verb == GTCTL_STOP && strcmp(it->state, "stopped") == 0)
			it->skip = "already stopped";
		else if (b->verb == GTCTL_START &&
		    strcmp(it->state, "stopped") != 0)
			it->skip = strcmp(it->state, "restarting") == 0 ?
			    "a restart is pending (gtctl restart starts it "
			    "now)" : "already running";
		if (it->skip != NULL)
			continue;
		req = gtctl_request(g, op);
		gtctl_set(g, req, "name", json_string(it->name));
		if (b->verb == GTCTL_RESTART)
			gtctl_set(g, req, "force", json_true());
		if (args != NULL)
			json_object_update(req, args);
		if ((it->line = gtctl_encode(g, req)) == NULL)
			return (EX_USAGE);
		nreq++;
	}
	b->nlanes = nreq < GTCTL_LANES ? nreq : GTCTL_LANES;
	for (i = 0, nreq = 0; i < b->nitems; i++) {
		if (b->items[i].line == NULL)
			continue;
		b->items[i].lane = nreq++ % b->nlanes;
	}
	return (0);
}

/* Connect the lanes and pipeline every request on its lane. */
static int
gtctl_batch_send(struct gtctl_batch *b)
{
	struct gtctl_lane	*l;
	struct gtctl_item	*it;
	size_t			 i;

	for (i = 0; i < b->nlanes; i++) {
		l = &b->lanes[i];
		l->items = xcalloc(b->nitems + 1, sizeof *l->items);
		if ((l->c = gtctl_open(b->g)) == NULL)
			return (EX_UNAVAILABLE);
	}
	for (i = 0; i < b->nitems; i++) {
		it = &b->items[i];
		if (it->line == NULL)
			continue;
		l = &b->lanes[it->lane];
		if (gtctl_conn_send(l->c, it->line) == -1)
			return (gtctl_lost(b->g, false, 0));
		l->items[l->n++] = i;
		b->pending++;
	}
	return (0);
}

/* Handle every reply line lane has buffered or can read now. */
static int
gtctl_batch_drain(struct gtctl_batch *b, struct gtctl_lane *l)
{
	const char	*line;
	size_t		 len;

	while (l->next < l->n) {
		if ((line = gtctl_conn_recv(l->c, 0, &len)) == NULL)
			return (errno == ETIMEDOUT ? 0 : -1);
		gtctl_batch_reply(b, l, line, len);
	}
	return (0);
}

/* Read replies on every lane until none is owed or time runs out. */
static int
gtctl_batch_wait(struct gtctl_batch *b)
{
	struct pollfd	 pfd[GTCTL_LANES];
	struct timespec	 ts;
	int64_t		 deadline = -1, now;
	int		 timeout = gtctl_timeout(b->g), left;
	size_t		 i, n;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (timeout >= 0)
		deadline = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 +
		    timeout;
	while (b->pending > 0) {
		for (i = n = 0; i < b->nlanes; i++) {
			if (b->lanes[i].next == b->lanes[i].n)
				continue;
			pfd[n].fd = gtctl_conn_fd(b->lanes[i].c,
			    &pfd[n].events);
			n++;
		}
		left = -1;
		if (deadline != -1) {
			clock_gettime(CLOCK_MONOTONIC, &ts);
			now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
			left = now >= deadline ? 0 : (int)(deadline - now);
		}
		if (poll(pfd, n, left) == 0) {
			errno = ETIMEDOUT;
			return (gtctl_lost(b->g, true, timeout));
		}
		for (i = 0; i < b->nlanes; i++)
			if (b->lanes[i].next < b->lanes[i].n &&
			    gtctl_batch_drain(b, &b->lanes[i]) == -1)
				return (gtctl_lost(b->g, true, timeout));
	}
	return (0);
}

static void
gtctl_batch_free(struct gtctl_batch *b)
{
	size_t	i;

	for (i = 0; i < b->nitems; i++)
		free(b->items[i].line);
	free(b->items);
	for (i = 0; i < b->nlanes; i++) {
		gtctl_conn_free(b->lanes[i].c);
		free(b->lanes[i].items);
	}
}

/* The verb on every row that the targets match. */
static int
gtctl_many(struct gtctl *g, enum gtctl_verb verb, char **words, int n,
    json_t *args)
{
	struct gtctl_batch	 b = { .g = g, .verb = verb };
	json_t			*rows;
	char			*name;
	size_t			 i;
	int			 ret;

	if ((ret = gtctl_expand(g, words, n, &rows)) != 0)
		return (ret);
	if (json_array_size(rows) == 0 && !g->json)
		printf("no children\n");
	if ((ret = gtctl_batch_plan(&b, rows, args)) == 0) {
		for (i = 0; i < b.nitems && !g->json; i++) {
			if (b.items[i].skip == NULL)
				continue;
			name = gtctl_esc(b.items[i].name,
			    strlen(b.items[i].name));
			printf("%s: %s\n", name, b.items[i].skip);
			free(name);
		}
		fflush(stdout);
		if ((ret = gtctl_batch_send(&b)) == 0)
			ret = gtctl_batch_wait(&b);
		ret = gtctl_worse(ret, b.ret);
	}
	gtctl_batch_free(&b);
	json_decref(rows);
	return (ret);
}

/*
 * The verb on the one child named word, with the classic output.  A
 * word that names no child but a template goes to gtctl_many.
 */
static int
gtctl_one(struct gtctl *g, enum gtctl_verb verb, const char *word,
    json_t *args)
{
	json_t		*req, *reply;
	const char	*code, *field, *sig;
	char		*w;
	int		 ret;

	req = gtctl_request(g, g->cmd->op);
	gtctl_set(g, req, "name", json_string(word));
	if (verb == GTCTL_RESTART)
		gtctl_set(g, req, "force", json_true());
	if (args != NULL)
		json_object_update(req, args);
	g->name = word;
	if ((ret = gtctl_call_any(g, req, &reply)) != 0)
		return (ret);
	if (json_is_true(json_object_get(reply, "ok"))) {
		sig = json_string_value(json_object_get(json_object_get(reply,
		    "reason"), "signal"));
		if (verb == GTCTL_STOP && sig != NULL &&
		    strcmp(sig, "SIGKILL") == 0 && json_is_true(
		    json_object_get(json_object_get(reply, "reason"),
		    "escalated")) && json_object_get(json_object_get(reply,
		    "reason"), "stop_signal") == NULL)
			g->stop_signal = gtctl_first_signal(g, word);
		ret = g->json ? 0 : g->cmd->print(g, reply);
		json_decref(reply);
		return (ret);
	}
	code = json_string_value(json_object_get(reply, "error"));
	field = json_string_value(json_object_get(reply, "field"));
	/* Not a child: maybe a template (start: no cmd for a new one). */
	if (code != NULL && (strcmp(code, GT_E_NOT_FOUND) == 0 ||
	    (verb == GTCTL_START && strcmp(code, GT_E_BAD_REQUEST) == 0 &&
	    field != NULL && strcmp(field, "cmd") == 0))) {
		json_decref(reply);
		if (verb == GTCTL_START && args != NULL &&
		    json_object_get(args, "wait") != NULL)
			return (gtctl_bad_usage(g->cmd, "--nowait needs a "
			    "new child's spec"));
		w = xstrdup(word);
		ret = gtctl_many(g, verb, &w, 1, args);
		free(w);
		if (ret == GTCTL_EXIT_ABSENT && verb == GTCTL_START)
			fprintf(stderr, "gtctl: to start a new child: gtctl "
			    "start name [key=value ...] -- cmd [arg ...]\n");
		return (ret);
	}
	ret = gtctl_refused(g, reply, NULL);
	json_decref(reply);
	return (ret);
}

/*
 * Split the positionals into targets and key=value arguments (added to
 * every request; stop only) and run the verb on one child or several.
 */
static int
gtctl_targets(struct gtctl *g, enum gtctl_verb verb, struct gtctl_args *a)
{
	json_t	*args = json_object();
	char	**words, **kv;
	int	 i, n = 0, nkv = 0, ret;

	words = xcalloc(a->npos + 1, sizeof *words);
	kv = xcalloc(a->npos + 1, sizeof *kv);
	for (i = 0; i < a->npos; i++) {
		if (strchr(a->pos[i], '=') == NULL)
			words[n++] = a->pos[i];
		else
			kv[nkv++] = a->pos[i];
	}
	if (nkv > 0 && verb != GTCTL_STOP)
		ret = gtctl_bad_usage(g->cmd, "unexpected %s", kv[0]);
	else if ((ret = gtctl_add_kv(g, args, kv, nkv)) != 0)
		;
	else if (n == 0)
		ret = gtctl_bad_usage(g->cmd, "missing name");
	else if (gtctl_optval(g, a, "nowait") != NULL &&
	    (n > 1 || gtctl_is_glob(words[0]) || strcmp(words[0], "all") == 0))
		ret = gtctl_bad_usage(g->cmd, "--nowait needs a new child's "
		    "spec");
	else if (n == 1 && !gtctl_is_glob(words[0]) &&
	    strcmp(words[0], "all") != 0) {
		if (gtctl_optval(g, a, "nowait") != NULL)
			gtctl_set(g, args, "wait", json_false());
		ret = gtctl_one(g, verb, words[0], args);
	} else
		ret = gtctl_many(g, verb, words, n, args);
	json_decref(args);
	free(words);
	free(kv);
	return (ret);
}

/* stop {target ... | --pid pid} [timeout_ms=N] */
int
gtctl_exec_stop(struct gtctl *g, struct gtctl_args *a)
{
	if (gtctl_optval(g, a, "pid") != NULL)
		return (gtctl_exec_generic(g, a));
	return (gtctl_targets(g, GTCTL_STOP, a));
}

/* restart target ...: restart_child with force, running or not. */
int
gtctl_exec_restart(struct gtctl *g, struct gtctl_args *a)
{
	return (gtctl_targets(g, GTCTL_RESTART, a));
}

/*
 * start name [key=value ...] [-- cmd ...]: a new child (start_child);
 * start target ...: the targets that are stopped (restart_child).
 */
int
gtctl_exec_start(struct gtctl *g, struct gtctl_args *a)
{
	int	i;

	for (i = 0; i < a->npos; i++)
		if (strchr(a->pos[i], '=') != NULL)
			break;
	if (a->cmd != NULL || i < a->npos)
		return (gtctl_exec_generic(g, a));
	return (gtctl_targets(g, GTCTL_START, a));
}
