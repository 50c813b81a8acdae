/* SPDX-License-Identifier: MIT */
/*
 * fuzz_conn: libFuzzer target for the connection state machine.  The
 * input is a script of operations on up to four clients of a fresh
 * struct gtd (fake spawn seam, one running child "c"), each client the
 * other end of a socketpair whose buffers are made small, so that output
 * blocks early and the caps are reached with few bytes:
 *
 *   open          a new client (the limit is four)
 *   line K        client sends request K of a table (subscribe, logs
 *                 follow, setattr, list, ping, ...)
 *   raw N         client sends the next N input bytes as they are
 *   pump N        the loop runs N times: read and write readiness
 *   drain N       client reads at most N * 256 bytes: a peer that takes
 *                 a varying amount, or none (the socket stays full)
 *   halfclose     client shuts down its sending side
 *   close         client closes (with unread data: a reset)
 *   emit N        N events are emitted (with no loop turn between)
 *   log N         N output lines of "c" reach its followers
 *   attr N        N attr changes of "c" (events for attr subscribers)
 *   cap N         max_output_bytes becomes 1024 + N * 256
 *   reap          the reaper runs (as ev_prepare does)
 *   switch I      later operations act on client I
 *
 * Every line a client receives must be a JSON object, a reply or an
 * event; after each operation gtd's books must balance (the connection
 * list, the unsent bytes per connection and in all, each within its cap
 * but for one error line, the largest cap set so far: a lower one, as a
 * reload may set, leaves what was queued).  At the end gtd is freed:
 * LeakSanitizer checks that nothing is left, ASan that nothing was used
 * after free.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/wait.h>

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>
#include <jansson.h>

#include "gt/child.h"
#include "gt/config.h"
#include "gt/conn.h"
#include "gt/event.h"
#include "gt/gtd.h"
#include "gt/log.h"
#include "gt/protocol.h"
#include "gt/registry.h"
#include "gt/spawn.h"
#include "gt/xmalloc.h"

#define FC_PID_BASE	4194304		/* PID_MAX_LIMIT: no real pid */
#define FC_CLIENTS	4
#define FC_SNDBUF	4096		/* gtd's side: blocks early */
#define FC_REQUEST_MAX	2048		/* max_request_bytes here */
/* An error line past a cap: its id may be a whole request long. */
#define FC_SLACK	(FC_REQUEST_MAX + 512)

int		LLVMFuzzerInitialize(int *, char ***);
int		LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static pid_t	fc_spawn(const struct spawn_plan *, int *);
static int	fc_kill(pid_t, int);
static int	fc_pidfd_open(pid_t);

static const struct child_ops fc_ops = {
	.spawn = fc_spawn,
	.kill = fc_kill,
	.pidfd_open = fc_pidfd_open
};

static pid_t	fc_next_pid;
static size_t	fc_cap_max;		/* the largest max_output_bytes set */
static bool	fc_trace;		/* $FUZZ_TRACE: print what happens */

struct fc_client {
	int	 fd;			/* our end; -1 once closed */
	char	*buf;			/* received, not yet a line */
	size_t	 len;
	size_t	 size;
};

/* Requests of the `line` operation. */
static const char *const fc_lines[] = {
	"{\"id\":1,\"op\":\"subscribe\"}",
	"{\"id\":2,\"op\":\"subscribe\",\"events\":[\"log\",\"attr\","
	    "\"stopped\"]}",
	"{\"id\":3,\"op\":\"subscribe\",\"names\":[\"c\",\"x\",\"c\"],"
	    "\"since\":0}",
	"{\"id\":4,\"op\":\"logs\",\"name\":\"c\",\"follow\":true}",
	"{\"id\":5,\"op\":\"logs\",\"name\":\"c\",\"lines\":1000}",
	"{\"id\":6,\"op\":\"setattr\",\"name\":\"c\",\"attrs\":{\"k\":"
	    "\"vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\"}}",
	"{\"id\":7,\"op\":\"list\"}",
	"{\"id\":8,\"op\":\"which_children\"}",
	"{\"id\":9,\"op\":\"ping\"}",
	"{\"id\":10,\"op\":\"hello\"}",
	"{\"id\":11,\"op\":\"info\",\"name\":\"c\"}",
	"{\"id\":12,\"op\":\"getattr\",\"name\":\"c\",\"key\":\"w\","
	    "\"wait_ms\":100000}",
	"{\"id\":13,\"op\":\"increment\",\"name\":\"c\",\"key\":\"n\","
	    "\"default\":0}",
	"{\"id\":14,\"op\":\"logs\",\"name\":\"x\",\"follow\":true}",
	"{\"op\":\"stats\"}",
	"{nope",
};
#define FC_NLINES	(sizeof fc_lines / sizeof fc_lines[0])

static pid_t
fc_spawn(const struct spawn_plan *pl, int *statusfd)
{
	*statusfd = -1;			/* exec succeeds at once */
	return (fc_next_pid++);
}

static int
fc_kill(pid_t pid, int sig)
{
	/* Only our fake pids: anything else is a real process. */
	assert(pid >= FC_PID_BASE || -pid >= FC_PID_BASE);
	return (0);
}

static int
fc_pidfd_open(pid_t pid)
{
	errno = ENOSYS;
	return (-1);
}

/* One line from gtd: a JSON object, either a reply or an event. */
static void
fc_check_line(const char *line, size_t len)
{
	json_error_t	 je;
	json_t		*j, *ok;

	j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	if (j == NULL) {
		fprintf(stderr, "not JSON: %.*s: %s\n", (int)len, line,
		    je.text);
		abort();
	}
	assert(json_is_object(j));
	if ((ok = json_object_get(j, "ok")) == NULL)
		assert(json_is_string(json_object_get(j, "event")));
	else if (json_is_false(ok)) {
		assert(json_is_string(json_object_get(j, "error")));
		assert(json_is_string(json_object_get(j, "message")));
	} else
		assert(json_is_true(ok));
	json_decref(j);
}

/* Read at most max bytes that gtd sent (0: as much as there is). */
static void
fc_drain(struct fc_client *cl, size_t max)
{
	size_t	 got = 0, used = 0, want;
	ssize_t	 n;
	char	*nl;

	while (cl->fd != -1 && (max == 0 || got < max)) {
		if (cl->size - cl->len < 65536) {
			cl->size = cl->size == 0 ? 131072 : cl->size * 2;
			cl->buf = xreallocarray(cl->buf, 1, cl->size);
		}
		want = cl->size - cl->len;
		if (max > 0 && want > max - got)
			want = max - got;
		n = recv(cl->fd, cl->buf + cl->len, want, MSG_DONTWAIT);
		if (n <= 0)
			break;
		cl->len += n;
		got += n;
	}
	if (cl->len == 0)
		return;
	while ((nl = memchr(cl->buf + used, '\n', cl->len - used)) != NULL) {
		if (fc_trace)
			fprintf(stderr, "< %.*s\n", (int)(nl - cl->buf - used) >
			    200 ? 200 : (int)(nl - cl->buf - used),
			    cl->buf + used);
		fc_check_line(cl->buf + used, nl - (cl->buf + used));
		used = nl + 1 - cl->buf;
	}
	memmove(cl->buf, cl->buf + used, cl->len - used);
	cl->len -= used;
}

/* gtd's books balance: the lists, the unsent bytes and their caps. */
static void
fc_check(struct gtd *g)
{
	struct conn	*cn;
	size_t		 total = 0, q;
	int		 n = 0;

	for (cn = connset_first(g->conns, false); cn != NULL;
	    cn = TAILQ_NEXT(cn, entry)) {
		n++;
		assert(!(cn->flags & CONN_DEAD) && cn->fd != -1);
		assert(cn->outoff <= cn->outlen && cn->outlen <= cn->outsize);
		q = cn->outlen - cn->outoff;
		/* A cap lowered (a reload) leaves what was queued. */
		assert(q <= fc_cap_max + FC_SLACK);
		total += q;
	}
	assert(n == connset_count(g->conns));
	for (cn = connset_first(g->conns, true); cn != NULL;
	    cn = TAILQ_NEXT(cn, entry)) {
		assert(cn->flags & CONN_DEAD);
		assert(cn->outoff == cn->outlen);
	}
	assert(total == connset_queued(g->conns));
	assert(total <= GT_OUTPUT_TOTAL_MAX + FC_SLACK * FC_CLIENTS);
}

static void
fc_reap_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct gtd	*g = w->data;

	connset_reap(g->conns);
	child_reap_dead(g);
}

static void
fc_pump(struct gtd *g, int n)
{
	while (n-- > 0)
		ev_run(g->loop, EVRUN_NOWAIT);
}

static void
fc_open(struct gtd *g, struct fc_client *cl)
{
	int	sv[2], small = FC_SNDBUF;

	memset(cl, 0, sizeof *cl);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1 ||
	    fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(sv[1], F_SETFL, O_NONBLOCK) == -1 ||
	    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small,
	    sizeof small) == -1 ||
	    setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small,
	    sizeof small) == -1)
		abort();
	cl->fd = sv[1];
	(void)conn_new(g->conns, sv[0]);	/* owns sv[0] */
}

static void
fc_close(struct fc_client *cl)
{
	if (cl->fd != -1)
		close(cl->fd);
	cl->fd = -1;
}

static void
fc_send(struct fc_client *cl, const void *p, size_t len)
{
	if (fc_trace)
		fprintf(stderr, "> %.*s\n", (int)len, (const char *)p);
	/* A full socket takes what it takes: the rest is lost, fine. */
	if (cl->fd != -1)
		(void)!send(cl->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* emit N: stopped events for c with a body, as the core would. */
static void
fc_emit(struct gtd *g, unsigned n, unsigned seed)
{
	char	pad[512];

	memset(pad, 'e', sizeof pad);
	pad[(seed * 37) % sizeof pad] = '\0';
	while (n-- > 0)
		event_emit(g->events, EVENT_STOPPED, n % 3 == 0 ? "x" : "c",
		    json_pack("{s:s}", "pad", pad));
}

static void
fc_log(struct gtd *g, struct child *c, unsigned n, unsigned seed)
{
	char	line[600];

	memset(line, 'l', sizeof line);
	while (n-- > 0)
		event_child_log(g->events, c, "stdout", 0, line,
		    (seed + n * 131) % sizeof line);
}

/* attr N: what setattr does to its followers (mirror, wake, event). */
static void
fc_attr(struct gtd *g, struct child *c, unsigned n)
{
	static const char *const	 key = "w";
	struct value			 v = { .type = VALUE_INT };

	while (n-- > 0) {
		v.i = n;
		(void)child_attr_set(c, &key, &v, 1);	/* the one writer */
	}
}

/* A running child "c" (the fake spawn's exec succeeds at once). */
static struct child *
fc_child(struct gtd *g)
{
	struct childspec	*s = spec_new();
	struct child		*c;

	s->name = xstrdup("c");
	spec_strv_add(&s->cmd, &s->ncmd, "/bin/true");
	if ((c = child_add(g, s, config_spec_text(s))) == NULL ||
	    child_start(c) == -1 || c->state != CHILD_RUNNING)
		abort();
	return (c);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	signal(SIGPIPE, SIG_IGN);
	log_set_level(LOG_LVL_WARN);
	xmalloc_install_json();
	json_object_seed(1);		/* reproducible key order */
	fc_trace = getenv("FUZZ_TRACE") != NULL;
	return (0);
}

/* Run one operation at p; returns the bytes it took. */
static size_t
fc_op(struct gtd *g, struct child *c, struct fc_client *cl, int *ncl,
    int *cur, const uint8_t *p, size_t left)
{
	unsigned	arg = left > 1 ? p[1] : 0;
	size_t		n;

	switch (p[0] % 14) {
	case 0:
		if (*ncl < FC_CLIENTS)
			fc_open(g, &cl[(*cur = (*ncl)++)]);
		return (1);
	case 1:
		fc_send(&cl[*cur], fc_lines[arg % FC_NLINES],
		    strlen(fc_lines[arg % FC_NLINES]));
		fc_send(&cl[*cur], "\n", 1);
		return (2);
	case 2:
		n = arg % 64;
		if (n > left - 2)
			n = left > 2 ? left - 2 : 0;
		fc_send(&cl[*cur], p + 2, n);
		return (2 + n);
	case 3:
		fc_pump(g, 1 + arg % 8);
		return (2);
	case 4:
		fc_drain(&cl[*cur], arg == 0 ? 0 : (size_t)arg * 256);
		return (2);
	case 5:
		if (cl[*cur].fd != -1)
			(void)shutdown(cl[*cur].fd, SHUT_WR);
		return (1);
	case 6:
		fc_close(&cl[*cur]);
		return (1);
	case 7:
		fc_emit(g, 1 + arg % 64, arg);
		return (2);
	case 8:
		fc_log(g, c, 1 + arg % 64, arg);
		return (2);
	case 9:
		fc_attr(g, c, 1 + arg % 16);
		return (2);
	case 10:
		g->lim.max_output_bytes = 1024 + (size_t)arg * 256;
		if (g->lim.max_output_bytes > fc_cap_max)
			fc_cap_max = g->lim.max_output_bytes;
		return (2);
	case 11:
		connset_reap(g->conns);
		return (1);
	case 12:
		if (arg % FC_CLIENTS < (unsigned)*ncl)
			*cur = arg % FC_CLIENTS;
		return (2);
	default:
		fc_pump(g, 1);
		fc_drain(&cl[*cur], 0);
		return (1);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fc_client	 cl[FC_CLIENTS];
	struct gtd		*g;
	struct child		*c;
	ev_prepare		 reaper;
	char			*cause = NULL;
	size_t			 off = 0;
	int			 i, ncl = 0, cur = 0;

	fc_next_pid = FC_PID_BASE;
	if ((g = gtd_new(&fc_ops, &cause)) == NULL) {
		fprintf(stderr, "gtd_new: %s\n", cause);
		abort();
	}
	g->lim.max_request_bytes = FC_REQUEST_MAX;
	g->lim.max_output_bytes = fc_cap_max = 8192;
	ev_prepare_init(&reaper, fc_reap_cb);
	reaper.data = g;
	ev_prepare_start(g->loop, &reaper);
	c = fc_child(g);
	for (i = 0; i < FC_CLIENTS; i++)
		cl[i] = (struct fc_client){ .fd = -1 };
	fc_open(g, &cl[ncl++]);
	while (off < size) {
		off += fc_op(g, c, cl, &ncl, &cur, data + off, size - off);
		fc_check(g);
	}
	/* The clients read all and go; gtd runs down and is freed. */
	for (i = 0; i < ncl; i++)
		fc_drain(&cl[i], 0);
	fc_pump(g, 4);
	for (i = 0; i < ncl; i++) {
		fc_drain(&cl[i], 0);
		fc_close(&cl[i]);
		free(cl[i].buf);
	}
	fc_pump(g, 4);
	fc_check(g);
	ev_prepare_stop(g->loop, &reaper);
	gtd_free(g);
	return (0);
}
