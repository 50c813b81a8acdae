/* SPDX-License-Identifier: MIT */
/*
 * gtctl-logs: logs and events.  `gtctl logs` asks gtd for the kept lines
 * of one child or several (pipelined `logs` requests), merges them by
 * time and prints each with its time, stream and, for several children,
 * name; with -f the same connections follow them all.  gtd follows at
 * most GTCTL_FOLLOWS names on one connection, so more children take more
 * connections ("lanes").  Without targets it follows every child, also
 * those that start later (a `started` subscription on the first lane
 * tells which).  `gtctl events` prints a subscription's events.  Every
 * text a child wrote or named is escaped before it is printed.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <jansson.h>

#include "gt/gtctl-text.h"
#include "gt/gtctl.h"
#include "gt/protocol.h"
#include "gt/xmalloc.h"

#define GTCTL_FOLLOWS	64	/* names gtd follows on one connection */
#define GTCTL_MAXLANES	1024	/* connections of one logs -f */
/*
 * Lines handled from one lane at a time: a child that floods keeps the
 * socket readable, and the kept lines are printed only between drains.
 */
#define GTCTL_DRAIN	256

/* One connection of gtctl logs and the replies it owes. */
struct gtctl_lane {
	struct gtctl_conn	*c;		/* owned; NULL once gtd closed it */
	json_t		*owed;		/* names whose reply is owed; "": the
					   subscribe reply */
	size_t		 head;		/* the next reply is for owed[head] */
	bool		 more;		/* drained GTCTL_DRAIN lines: maybe
					   more are buffered already */
};

/* One run of gtctl logs. */
struct gtctl_logs {
	struct gtctl		*g;
	struct gtctl_lane	*lanes;		/* owned */
	size_t			 nlanes;
	json_t			*followed;	/* names followed (an object) */
	json_t			*history;	/* kept lines: [at, n, name,
						   stream, line], until printed */
	json_t			*early;		/* log events before that */
	json_int_t		 lines;		/* -n, or -1 */
	size_t			 width;		/* of the name column */
	bool			 names;		/* print the name column */
	bool			 follow;
	bool			 all;		/* follow children started later */
	bool			 flushed;	/* the kept lines are printed */
	int			 ret;
};

static struct gtctl_lane *gtctl_logs_lane(struct gtctl_logs *);
static int	gtctl_logs_send(struct gtctl_logs *, const char *, bool);
static void	gtctl_logs_line(struct gtctl_logs *, json_t *, const char *);
static int	gtctl_logs_cmp(const void *, const void *);
static bool	gtctl_logs_owing(const struct gtctl_logs *);
static void	gtctl_logs_flush(struct gtctl_logs *);
static void	gtctl_logs_reply(struct gtctl_logs *, struct gtctl_lane *,
		    json_t *);
static void	gtctl_logs_event(struct gtctl_logs *, json_t *);
static int	gtctl_logs_drain(struct gtctl_logs *, struct gtctl_lane *);
static int	gtctl_logs_read(struct gtctl_logs *);
static int	gtctl_logs_names(struct gtctl_logs *, struct gtctl_args *);

/*
 * The lane for one more request: the last one while it may follow
 * another name, else a new connection (NULL after a message).
 */
static struct gtctl_lane *
gtctl_logs_lane(struct gtctl_logs *L)
{
	struct gtctl_lane	*l;

	if (L->nlanes > 0) {
		l = &L->lanes[L->nlanes - 1];
		if (!L->follow || json_array_size(l->owed) < GTCTL_FOLLOWS)
			return (l);
	}
	if (L->nlanes == GTCTL_MAXLANES) {
		fprintf(stderr, "gtctl: cannot follow more than %d children\n",
		    GTCTL_MAXLANES * GTCTL_FOLLOWS);
		return (NULL);
	}
	L->lanes = xreallocarray(L->lanes, L->nlanes + 1, sizeof *L->lanes);
	l = &L->lanes[L->nlanes];
	memset(l, 0, sizeof *l);
	if ((l->c = gtctl_open(L->g)) == NULL)
		return (NULL);
	l->owed = json_array();
	L->nlanes++;
	return (l);
}

/* Ask for name's lines (and follow them); its reply is owed. */
static int
gtctl_logs_send(struct gtctl_logs *L, const char *name, bool fresh)
{
	struct gtctl		*g = L->g;
	struct gtctl_lane	*l;
	json_t			*req;
	char			*line;
	int			 ret;

	if ((l = gtctl_logs_lane(L)) == NULL)
		return (EX_UNAVAILABLE);
	req = gtctl_request(g, "logs");
	gtctl_set(g, req, "name", json_string(name));
	if (L->lines >= 0 && !fresh)
		gtctl_set(g, req, "lines", json_integer(L->lines));
	if (L->follow) {
		gtctl_set(g, req, "follow", json_true());
		json_object_set_new(L->followed, name, json_true());
	}
	if ((line = gtctl_encode(g, req)) == NULL)
		return (EX_USAGE);
	ret = gtctl_conn_send(l->c, line);
	free(line);
	if (ret == -1)
		return (gtctl_lost(g, false, 0));
	json_array_append_new(l->owed, json_string(name));
	line = gtctl_esc(name, strlen(name));	/* as it is printed */
	if (gtctl_width(line) > L->width)
		L->width = gtctl_width(line);
	free(line);
	return (0);
}

/* Print one kept or followed line: time, [name,] stream, text. */
static void
gtctl_logs_line(struct gtctl_logs *L, json_t *ln, const char *name)
{
	struct gtctl	*g = L->g;
	const char	*stream = json_string_value(json_object_get(ln,
			    "stream"));
	char		*t, *s, *n, *text;

	t = gtctl_str_key("at", json_object_get(ln, "at"));
	s = gtctl_member(ln, "stream");
	text = gtctl_member(ln, "line");
	printf("%s%s%s ", gtctl_sgr(g, false, GTCTL_C_DIM), t,
	    gtctl_sgr_off(g, false));
	if (L->names) {
		n = gtctl_esc(name, strlen(name));
		printf("%s%s%s%*s ", gtctl_sgr(g, false,
		    gtctl_name_color(name)), n, gtctl_sgr_off(g, false),
		    (int)(L->width - gtctl_width(n)), "");
		free(n);
	}
	if (stream != NULL && strcmp(stream, "stderr") == 0)
		printf("%s%s%s %s\n", gtctl_sgr(g, false, GTCTL_C_RED), s,
		    gtctl_sgr_off(g, false), text);
	else
		printf("%s %s\n", s, text);
	free(text);
	free(s);
	free(t);
}

/* History entries [at, n, ...] by time, then in the order received. */
static int
gtctl_logs_cmp(const void *a, const void *b)
{
	json_t		*x = *(json_t *const *)a, *y = *(json_t *const *)b;
	json_int_t	 i, j;
	int		 k;

	for (k = 0; k < 2; k++) {
		i = json_integer_value(json_array_get(x, k));
		j = json_integer_value(json_array_get(y, k));
		if (i != j)
			return (i < j ? -1 : 1);
	}
	return (0);
}

/* Whether a lane still owes a reply. */
static bool
gtctl_logs_owing(const struct gtctl_logs *L)
{
	size_t	i;

	for (i = 0; i < L->nlanes; i++)
		if (L->lanes[i].c != NULL &&
		    L->lanes[i].head < json_array_size(L->lanes[i].owed))
			return (true);
	return (false);
}

/* Print the kept lines merged by time, then the events that came early. */
static void
gtctl_logs_flush(struct gtctl_logs *L)
{
	json_t	**v, *e, *ln;
	size_t	  i, n = json_array_size(L->history);

	v = xcalloc(n + 1, sizeof *v);
	for (i = 0; i < n; i++)
		v[i] = json_array_get(L->history, i);
	qsort(v, n, sizeof *v, gtctl_logs_cmp);
	for (i = 0; i < n; i++) {
		ln = json_pack("{s:O, s:O, s:O}", "at", json_array_get(v[i], 0),
		    "stream", json_array_get(v[i], 3), "line",
		    json_array_get(v[i], 4));
		gtctl_logs_line(L, ln, json_string_value(json_array_get(v[i],
		    2)));
		json_decref(ln);
	}
	free(v);
	json_array_clear(L->history);
	json_array_foreach(L->early, i, e)
		gtctl_logs_line(L, e, json_string_value(json_object_get(e,
		    "name")));
	json_array_clear(L->early);
	L->flushed = true;
	fflush(stdout);
}

/* A reply on lane: a child's kept lines (or the subscription's answer). */
static void
gtctl_logs_reply(struct gtctl_logs *L, struct gtctl_lane *l, json_t *reply)
{
	const char	*name;
	json_t		*ln;
	char		*n;
	size_t		 i;
	int		 r;

	name = json_string_value(json_array_get(l->owed, l->head++));
	if (name == NULL || *name == '\0') {
		if (json_is_false(json_object_get(reply, "ok")))
			L->ret = gtctl_refused(L->g, reply, NULL);
		return;		/* the subscription */
	}
	if (json_is_false(json_object_get(reply, "ok"))) {
		n = gtctl_esc(name, strlen(name));
		r = gtctl_refused(L->g, reply, n);
		free(n);
		if (L->ret == 0 || r == GTCTL_EXIT_REFUSED)
			L->ret = r;
		json_object_del(L->followed, name);
		return;
	}
	if (L->g->json)
		return;			/* printed as it came */
	json_array_foreach(json_object_get(reply, "lines"), i, ln)
		json_array_append_new(L->history, json_pack("[O, I, s, O, O]",
		    json_object_get(ln, "at"),
		    (json_int_t)json_array_size(L->history), name,
		    json_object_get(ln, "stream"), json_object_get(ln,
		    "line")));
}

/* An event: a followed line, or a child that started (follow it). */
static void
gtctl_logs_event(struct gtctl_logs *L, json_t *ev)
{
	const char	*kind = json_string_value(json_object_get(ev, "event"));
	const char	*name = json_string_value(json_object_get(ev, "name"));

	if (kind == NULL || name == NULL)
		return;
	if (strcmp(kind, "started") == 0 && L->all &&
	    json_object_get(L->followed, name) == NULL) {
		if (gtctl_logs_send(L, name, true) != 0)
			L->ret = EX_UNAVAILABLE;
		return;
	}
	if (strcmp(kind, "log") != 0 || L->g->json)
		return;
	if (!L->flushed)
		json_array_append(L->early, ev);
	else
		gtctl_logs_line(L, ev, name);
}

/*
 * Handle every line lane has buffered or can read now: 0, -1 when gtd
 * closed it (l->c is then NULL), or an exit status.
 */
static int
gtctl_logs_drain(struct gtctl_logs *L, struct gtctl_lane *l)
{
	const char	*line;
	size_t		 len, k;
	json_t		*j;

	l->more = false;
	for (k = 0; k < GTCTL_DRAIN; k++) {
		if ((line = gtctl_conn_recv(l->c, 0, &len)) == NULL)
			break;
		if ((j = json_loadb(line, len, 0, NULL)) == NULL ||
		    !json_is_object(j)) {
			json_decref(j);
			return (gtctl_malformed("not a JSON object"));
		}
		if (L->g->json)
			gtctl_print_json_line(line, len);
		if (json_is_boolean(json_object_get(j, "ok")))
			gtctl_logs_reply(L, l, j);
		else
			gtctl_logs_event(L, j);
		json_decref(j);
		if (L->ret == EX_UNAVAILABLE || L->ret == EX_USAGE)
			return (L->ret);
	}
	if (k == GTCTL_DRAIN) {
		l->more = true;
		return (0);
	}
	if (errno == ETIMEDOUT)
		return (0);
	gtctl_conn_free(l->c);
	l->c = NULL;
	return (-1);
}

/*
 * Read every lane until each reply is in; with -f, then print what
 * comes until gtd closes the connections.
 */
static int
gtctl_logs_read(struct gtctl_logs *L)
{
	struct gtctl	*g = L->g;
	struct pollfd	*pfd;
	size_t		*lane, i, n;
	int		 timeout = L->follow ? -1 : gtctl_timeout(g), ret = 0;
	bool		 more;

	while (ret == 0 && (L->follow || gtctl_logs_owing(L))) {
		pfd = xcalloc(L->nlanes + 1, sizeof *pfd);
		lane = xcalloc(L->nlanes + 1, sizeof *lane);
		more = false;
		for (i = n = 0; i < L->nlanes; i++) {
			if (L->lanes[i].c == NULL)
				continue;
			pfd[n].fd = gtctl_conn_fd(L->lanes[i].c,
			    &pfd[n].events);
			more = more || L->lanes[i].more;
			lane[n++] = i;
		}
		if (n == 0)
			ret = L->follow ? 0 : gtctl_lost(g, true, timeout);
		else if (poll(pfd, n, more ? 0 : timeout) == 0 && !more) {
			errno = ETIMEDOUT;
			ret = gtctl_lost(g, true, timeout);
		}
		for (i = 0; ret == 0 && i < n; i++) {
			if (pfd[i].revents == 0 && !L->lanes[lane[i]].more)
				continue;
			if ((ret = gtctl_logs_drain(L, &L->lanes[lane[i]])) ==
			    -1)
				ret = L->follow && L->flushed ? 0 :
				    gtctl_lost(g, true, timeout);
		}
		free(pfd);
		free(lane);
		if (ret == 0 && !L->flushed && !gtctl_logs_owing(L) &&
		    !g->json)
			gtctl_logs_flush(L);
		if (n == 0)
			break;
		fflush(stdout);
	}
	return (ret);
}

/* The children to show: every one, or what the targets match. */
static int
gtctl_logs_names(struct gtctl_logs *L, struct gtctl_args *a)
{
	json_t	*rows, *r;
	size_t	 i;
	int	 ret;

	if ((ret = gtctl_expand(L->g, a->pos, a->npos, &rows)) != 0)
		return (ret);
	/* One name given, one child: no name column, as for tail -f. */
	L->names = !(a->npos == 1 && json_array_size(rows) == 1 &&
	    strcmp(json_string_value(json_object_get(json_array_get(rows, 0),
	    "name")), a->pos[0]) == 0);
	json_array_foreach(rows, i, r)
		if (json_is_string(json_object_get(r, "name")) &&
		    (ret = gtctl_logs_send(L, json_string_value(
		    json_object_get(r, "name")), false)) != 0)
			break;
	json_decref(rows);
	return (ret);
}

/*
 * logs -f without targets: subscribe to `started` on the first lane and
 * take the reply before the children are listed, so that a child that
 * starts meanwhile comes as an event (a name listed too is followed
 * once: L->followed).  0, or an exit status.
 */
static int
gtctl_logs_watch(struct gtctl_logs *L)
{
	struct gtctl_lane	*l;
	const char		*line;
	size_t			 len;
	json_t			*j;

	if ((l = gtctl_logs_lane(L)) == NULL)
		return (EX_UNAVAILABLE);
	if (gtctl_conn_send(l->c,
	    "{\"op\":\"subscribe\",\"events\":[\"started\"]}") == -1)
		return (gtctl_lost(L->g, false, 0));
	json_array_append_new(l->owed, json_string(""));
	/* Nothing comes before its reply: it registers after replying. */
	if ((line = gtctl_conn_recv(l->c, gtctl_timeout(L->g), &len)) ==
	    NULL)
		return (gtctl_lost(L->g, true, gtctl_timeout(L->g)));
	if ((j = json_loadb(line, len, 0, NULL)) == NULL ||
	    !json_is_object(j)) {
		json_decref(j);
		return (gtctl_malformed("not a JSON object"));
	}
	if (L->g->json)
		gtctl_print_json_line(line, len);
	gtctl_logs_reply(L, l, j);
	json_decref(j);
	return (L->ret);
}

int
gtctl_exec_logs(struct gtctl *g, struct gtctl_args *a)
{
	static char		 allword[] = "all";
	struct gtctl_logs	 L = { .g = g, .lines = -1 };
	const char		*v;
	char			*all[] = { allword, NULL };
	char			**words;
	size_t			 i;
	int			 ret;

	L.follow = gtctl_optval(g, a, "follow") != NULL;
	if ((v = gtctl_optval(g, a, "lines")) != NULL &&
	    gtctl_int("-n", v, &L.lines) != 0)
		return (EX_USAGE);
	g->waits = L.follow;
	L.followed = json_object();
	L.history = json_array();
	L.early = json_array();
	if (a->npos == 0) {
		words = a->pos;		/* "all", for gtctl_expand */
		a->pos = all;
		a->npos = 1;
		L.all = true;
		ret = L.follow ? gtctl_logs_watch(&L) : 0;
		if (ret == 0)
			ret = gtctl_logs_names(&L, a);
		a->npos = 0;
		a->pos = words;
		L.all = L.names = true;
	} else
		ret = gtctl_logs_names(&L, a);
	gtctl_conn_free(g->client);		/* the lanes carry the rest */
	g->client = NULL;
	if (ret == 0)
		ret = gtctl_logs_read(&L);
	for (i = 0; i < L.nlanes; i++) {
		gtctl_conn_free(L.lanes[i].c);
		json_decref(L.lanes[i].owed);
	}
	free(L.lanes);
	json_decref(L.followed);
	json_decref(L.history);
	json_decref(L.early);
	return (ret != 0 ? ret : L.ret);
}

/* Print event lines until gtd goes away: --json as sent, else a line each. */
static int
gtctl_stream(struct gtctl *g)
{
	const char	*line, *k, *kind;
	size_t		 len;
	json_t		*ev, *v;
	char		*t, *s, *n, *ks;

	for (;;) {
		if ((line = gtctl_conn_recv(g->client, -1, &len)) == NULL)
			return (errno == ECONNRESET ? 0 : EX_UNAVAILABLE);
		if (g->json || (ev = json_loadb(line, len, 0, NULL)) == NULL) {
			gtctl_print_json_line(line, len);
			continue;
		}
		kind = json_string_value(json_object_get(ev, "event"));
		t = gtctl_str_key("at", json_object_get(ev, "at"));
		s = gtctl_member(ev, "event");
		n = gtctl_member(ev, "name");
		printf("%s%s%s %s%s%s %s", gtctl_sgr(g, false, GTCTL_C_DIM), t,
		    gtctl_sgr_off(g, false), gtctl_sgr(g, false, kind != NULL &&
		    (strcmp(kind, "exited") == 0 || strcmp(kind, "gave_up") ==
		    0) ? GTCTL_C_RED : GTCTL_C_BOLD), s, gtctl_sgr_off(g,
		    false), n);
		free(t);
		free(s);
		free(n);
		json_object_foreach(ev, k, v) {
			if (strcmp(k, "event") == 0 || strcmp(k, "name") == 0 ||
			    strcmp(k, "at") == 0 || strcmp(k, "seq") == 0)
				continue;
			s = gtctl_str(v);
			ks = gtctl_esc(k, strlen(k));
			printf(" %s=%s", ks, s);
			free(ks);
			free(s);
		}
		printf("\n");
		fflush(stdout);
		json_decref(ev);
	}
}

int
gtctl_exec_events(struct gtctl *g, struct gtctl_args *a)
{
	json_t		*req = gtctl_request(g, g->cmd->op), *reply;
	const char	*v;
	json_int_t	 n;
	int		 ret;

	if (a->npos > 0)
		gtctl_set(g, req, "names", gtctl_strings(g, a->pos, a->npos));
	if ((v = gtctl_optval(g, a, "since")) != NULL) {
		if (gtctl_int("--since", v, &n) != 0) {
			json_decref(req);
			return (EX_USAGE);
		}
		gtctl_set(g, req, "since", json_integer(n));
	}
	if ((ret = gtctl_call(g, req, &reply)) != 0)
		return (ret);
	json_decref(reply);
	fflush(stdout);
	return (gtctl_stream(g));
}
