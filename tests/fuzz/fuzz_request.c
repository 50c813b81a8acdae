/* SPDX-License-Identifier: MIT */
/*
 * fuzz_request: libFuzzer target for the request path.  One input is a
 * client session: its bytes go, line by line, into one connection of a
 * fresh struct gtd whose spawn seam is faked (no process is ever
 * created, no real signal is ever sent), and every reply line that comes
 * back must be a JSON object that is a well-formed reply or event.
 *
 * A line that starts with a control byte is not sent; it plays the
 * world around gtd instead, so the fuzzer reaches the lifecycle:
 *   \x01 S   every live process exits (S picks the status), hooks too
 *   \x02     every armed child timer and request timer fires now
 *   \x03 M   the next spawns behave as M says (see fuzz_spawn)
 *   \x04     a second connection takes over (the first stays open)
 *   \x05     the current connection's client half-closes (SHUT_WR)
 * At the end gtd shuts down the way the daemon does (gtd_shutdown, the
 * processes exit, the loop runs), the client goes away and gtd_free()
 * must leave nothing behind: LeakSanitizer checks every input.
 *
 * add_existing_child and the adopted-process signals use pidfds: the
 * link wraps syscall() (-Wl,--wrap=syscall) so that pidfd_open gives a
 * pipe instead and pidfd_send_signal closes its write end (the process
 * "died") rather than signalling a real process.
 */
#include "config.h"

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>
#include <jansson.h>

#include "gt/child.h"
#include "gt/cmd.h"
#include "gt/conn.h"
#include "gt/gtd.h"
#include "gt/log.h"
#include "gt/spawn.h"
#include "gt/xmalloc.h"

#define FUZZ_PID_BASE	4194304 /* PID_MAX_LIMIT: no real pid */
#define FUZZ_MAX_FD	4096
#define FUZZ_ROUNDS	4		/* loop turns after each line */
#define FUZZ_DOWN_ROUNDS 256		/* loop turns for the shutdown */
#define FUZZ_MAX_CONNS	4

int		LLVMFuzzerInitialize(int *, char ***);
int		LLVMFuzzerTestOneInput(const uint8_t *, size_t);
long		__wrap_syscall(long, ...);
long		__real_syscall(long, ...);

static pid_t	fuzz_spawn(const struct spawn_plan *, int *);
static int	fuzz_kill(pid_t, int);
static int	fuzz_pidfd_open(pid_t);

static const struct child_ops fuzz_ops = {
	.spawn = fuzz_spawn,
	.kill = fuzz_kill,
	.pidfd_open = fuzz_pidfd_open
};

/* The fake world, reset for every input. */
static int	fuzz_mode;		/* how the next spawn behaves */
static pid_t	fuzz_next_pid;
static int	fuzz_pidfd_w[FUZZ_MAX_FD];	/* pidfd -> its write end */
static bool	fuzz_trace;		/* $FUZZ_TRACE: print it all */

/*
 * One client.  Every request gets exactly one reply: unless gtd closed
 * the connection (too_big, the output cap) or a send was cut short,
 * replies must equal requests once gtd has shut down.
 */
struct fuzz_client {
	int	 fd;			/* our end; -1 once closed */
	char	*buf;			/* received, not yet a line */
	size_t	 len;
	size_t	 size;
	int	 requests;		/* non-blank lines sent */
	int	 replies;		/* lines with "ok" received */
	bool	 partial;		/* a non-blank unterminated line */
	bool	 shut;			/* we sent SHUT_WR */
	bool	 inexact;		/* a send failed or gave up */
	bool	 closed;		/* gtd closed (EOF or reset) */
};

/*
 * The fake spawn.  fuzz_mode % 5: 0 exec succeeds at once (statusfd -1),
 * 1 fork fails (EAGAIN), 2 exec fails (ENOENT through a status pipe),
 * 3 exec succeeds through a status pipe (EOF), 4 like 0 and a ready fd
 * gets its newline at once.
 */
static pid_t
fuzz_spawn(const struct spawn_plan *pl, int *statusfd)
{
	int	p[2], e = ENOENT, mode = fuzz_mode % 5;

	assert(pl->path != NULL && pl->argv != NULL && pl->argv[0] != NULL);
	assert(pl->envp != NULL && pl->fd_in >= 0);
	*statusfd = -1;
	if (mode == 1) {
		errno = EAGAIN;
		return (-1);
	}
	if (mode == 2 || mode == 3) {
		if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == -1)
			abort();
		if (mode == 2 && write(p[1], &e, sizeof e) != sizeof e)
			abort();
		close(p[1]);
		*statusfd = p[0];
	}
	if (mode == 4 && pl->extra_fd != -1 &&
	    write(pl->extra_fd, "\n", 1) != 1)
		abort();
	return (fuzz_next_pid++);
}

static int
fuzz_kill(pid_t pid, int sig)
{
	assert(sig >= 0 && sig < 65);
	/* Only our fake pids: anything else is a real process (or all). */
	assert(pid >= FUZZ_PID_BASE || -pid >= FUZZ_PID_BASE);
	return (0);
}

static void
fuzz_pidfd_close(int fd)
{
	if (fd >= 0 && fd < FUZZ_MAX_FD && fuzz_pidfd_w[fd] != -1) {
		close(fuzz_pidfd_w[fd]);
		fuzz_pidfd_w[fd] = -1;
	}
}

/* The number of arguments syscall(nr, ...) was given; 6 if unknown. */
static int
fuzz_syscall_nargs(long nr)
{
	switch (nr) {
	case SYS_pidfd_open:
		return (2);
	case SYS_close_range:
		return (3);
	case SYS_pidfd_send_signal:
		return (4);
	default:
		return (6);
	}
}

/* pidfds are pipes here: readable (EOF) once the "process" is gone. */
__attribute__((no_sanitize("address")))
/* Through syscall(), as the real one: the wrapper below answers. */
static int
fuzz_pidfd_open(pid_t pid)
{
	return ((int)syscall(SYS_pidfd_open, pid, 0));
}

long
__wrap_syscall(long nr, ...)
{
	va_list	ap;
	long	a[6] = { 0 };
	int	i, p[2];

	va_start(ap, nr);
	for (i = 0; i < fuzz_syscall_nargs(nr); i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (nr == SYS_pidfd_open) {
		if (a[0] <= 0 || (kill((pid_t)a[0], 0) == -1 &&
		    errno == ESRCH)) {
			errno = ESRCH;
			return (-1);
		}
		if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == -1)
			return (-1);
		if (p[0] >= FUZZ_MAX_FD)
			abort();
		fuzz_pidfd_close(p[0]);		/* a reused number */
		fuzz_pidfd_w[p[0]] = p[1];
		return (p[0]);
	}
	if (nr == SYS_pidfd_send_signal) {
		if (a[1] != 0)
			fuzz_pidfd_close((int)a[0]);
		return (0);
	}
	return (__real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]));
}

/* Is this request line blank (no reply due)? */
static bool
fuzz_blank(const uint8_t *p, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return (false);
	return (true);
}

/* Check one line from gtd; true if it is a reply (not an event). */
static bool
fuzz_check_reply(const char *line, size_t len)
{
	json_error_t	 je;
	json_t		*j, *ok, *v;

	assert(memchr(line, '\r', len) == NULL);
	j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	if (j == NULL) {
		fprintf(stderr, "reply is not JSON: %.*s: %s\n", (int)len, line,
		    je.text);
		abort();
	}
	assert(json_is_object(j));
	if ((ok = json_object_get(j, "ok")) == NULL) {
		/* An event line. */
		assert(json_is_string(json_object_get(j, "event")));
		json_decref(j);
		return (false);
	} else {
		assert(json_is_boolean(ok));
		if (json_is_false(ok)) {
			v = json_object_get(j, "error");
			assert(json_is_string(v) && json_string_length(v) > 0);
			assert(json_is_string(json_object_get(j, "message")));
			v = json_object_get(j, "field");
			assert(v == NULL || json_is_string(v));
		} else
			assert(json_object_get(j, "error") == NULL);
	}
	json_decref(j);
	return (true);
}

/* Read what gtd sent and check every complete line. */
static void
fuzz_drain(struct fuzz_client *cl)
{
	ssize_t	 n;
	char	*nl;
	size_t	 used;

	while (cl->fd != -1) {
		if (cl->size - cl->len < 65536) {
			cl->size = cl->size == 0 ? 131072 : cl->size * 2;
			cl->buf = xreallocarray(cl->buf, 1, cl->size);
		}
		n = recv(cl->fd, cl->buf + cl->len, cl->size - cl->len,
		    MSG_DONTWAIT);
		if (n == 0 || (n == -1 && errno != EAGAIN))
			cl->closed = true;
		if (n <= 0)
			break;
		cl->len += n;
	}
	if (cl->len == 0)
		return;
	used = 0;
	while ((nl = memchr(cl->buf + used, '\n', cl->len - used)) != NULL) {
		if (fuzz_trace)
			fprintf(stderr, "< %.*s\n",
			    (int)(nl - (cl->buf + used)), cl->buf + used);
		if (fuzz_check_reply(cl->buf + used, nl - (cl->buf + used)))
			cl->replies++;
		used = nl + 1 - cl->buf;
	}
	memmove(cl->buf, cl->buf + used, cl->len - used);
	cl->len -= used;
}

/* The daemon's context must agree with itself. */
static void
fuzz_check_gtd(struct gtd *g)
{
	struct child	*c;
	struct conn	*cn;
	int		 n = 0, procs = 0;

	TAILQ_FOREACH(c, &g->tab->children, entry) {
		n++;
		assert(!(c->flags & CHILD_DEAD));
		assert(c->state >= 0 && c->state < CHILD_NSTATES);
		assert(child_find(g, c->name) == c);
		if (c->pid > 0) {
			procs++;
			assert(child_find_pid(g, c->pid) == c);
		}
		if (c->hook_pid > 0)
			procs++;
		if (c->state == CHILD_STOPPED || c->state == CHILD_RESTARTING)
			assert(c->pid == -1);
		if (c->state == CHILD_STARTING || c->state == CHILD_RUNNING)
			assert(c->pid > 0);
	}
	assert(n == g->tab->nchildren);
	assert(procs == g->tab->nprocs);
	n = 0;
	for (cn = connset_first(g->conns, false); cn != NULL;
	    cn = TAILQ_NEXT(cn, entry)) {
		n++;
		assert(!(cn->flags & CONN_DEAD) && cn->fd != -1);
		assert(cn->inlen <= g->lim.max_request_bytes + 1);
	}
	assert(n == connset_count(g->conns));
}

/* What ev_prepare's reaper does in the daemon. */
static void
fuzz_reap_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct gtd	*g = w->data;

	connset_reap(g->conns);
	child_reap_dead(g);
}

static void
fuzz_pump(struct gtd *g, struct fuzz_client *cl, int n, int ncl)
{
	int	i, k;

	for (i = 0; i < n; i++) {
		ev_run(g->loop, EVRUN_NOWAIT);
		for (k = 0; k < ncl; k++)
			fuzz_drain(&cl[k]);
	}
	fuzz_check_gtd(g);
}

/* \x01: every live process exits with a status picked by s. */
static void
fuzz_exit_all(struct gtd *g, unsigned s)
{
	static const int	 st[] = { W_EXITCODE(0, 0), W_EXITCODE(1, 0),
	    SIGTERM, SIGKILL, W_EXITCODE(127, 0), W_EXITCODE(3, 0) };
	struct child		*c, **all;
	int			 n = 0, i;

	all = xcalloc(g->tab->nchildren + 1, sizeof *all);
	TAILQ_FOREACH(c, &g->tab->children, entry) {
		child_ref(c);
		all[n++] = c;
	}
	/* Each exit may start, stop or remove others: one at a time. */
	for (i = 0; i < n; i++) {
		c = all[i];
		if (!(c->flags & CHILD_DEAD)) {
			if (c->hook_pid > 0)
				child_handle_hook_exit(c, st[s % 6]);
			else if (c->pid > 0 && c->adopted)
				fuzz_pidfd_close(c->pidfd);
			else if (c->pid > 0)
				child_handle_exit(c, st[s % 6]);
		}
		child_unref(c);
		s /= 2;
	}
	free(all);
}

/* \x02: the armed timers fire (the same guard as child_timer_cb). */
static void
fuzz_timers(struct gtd *g)
{
	struct child	*c, **all;
	struct cmd_ctx	*ctx;
	int		 n = 0, i;

	all = xcalloc(g->tab->nchildren + 1, sizeof *all);
	TAILQ_FOREACH(c, &g->tab->children, entry) {
		child_ref(c);
		all[n++] = c;
	}
	for (i = 0; i < n; i++) {
		c = all[i];
		if (!(c->flags & CHILD_DEAD) && ev_is_active(&c->timer)) {
			ev_timer_stop(g->loop, &c->timer);
			if (c->timer_gen == c->gen)
				child_handle_timer(c);
		}
		child_unref(c);
	}
	free(all);
	TAILQ_FOREACH(ctx, &g->cmd->waiting, wentry) {
		if (!conn_is_dead(ctx->conn) && ev_is_active(&ctx->timer)) {
			ev_timer_stop(g->loop, &ctx->timer);
			ctx->timer_cb(ctx);
			break;		/* the list may have changed: once */
		}
	}
}

static void
fuzz_client_open(struct gtd *g, struct fuzz_client *cl)
{
	int	sv[2];

	memset(cl, 0, sizeof *cl);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1 ||
	    fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(sv[1], F_SETFL, O_NONBLOCK) == -1)
		abort();
	cl->fd = sv[1];
	(void)conn_new(g->conns, sv[0]);	/* owns sv[0] */
}

static void
fuzz_client_close(struct fuzz_client *cl)
{
	if (cl->fd != -1)
		close(cl->fd);
	cl->fd = -1;
	free(cl->buf);
	memset(cl, 0, sizeof *cl);
	cl->fd = -1;
}

/* Send a line (with its '\n'), draining replies while the socket is full. */
static void
fuzz_send(struct gtd *g, struct fuzz_client *cl, int ncl, int cur,
    const uint8_t *p, size_t len)
{
	ssize_t	n;
	int	spins = 0;

	if (fuzz_trace)
		fprintf(stderr, "%d> %.*s\n", cur, (int)len, p);
	if (cl[cur].fd == -1)
		return;
	if (p[len - 1] == '\n') {
		if (!fuzz_blank(p, len - 1))
			cl[cur].requests++;
	} else
		cl[cur].partial = !fuzz_blank(p, len);
	while (len > 0) {
		n = send(cl[cur].fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			p += n;
			len -= n;
			continue;
		}
		if (n == -1 && errno != EAGAIN) {
			cl[cur].inexact = true;
			return;		/* gtd closed it: fine */
		}
		fuzz_pump(g, cl, 1, ncl);
		if (++spins > 1000) {
			cl[cur].inexact = true;
			return;		/* gtd holds a waiting line */
		}
	}
}

/* No process left, and every connection has handled all it was sent. */
static bool
fuzz_quiet(struct gtd *g)
{
	struct conn	*cn;
	int		 unread;

	if (g->tab->nprocs > 0)
		return (false);
	for (cn = connset_first(g->conns, false); cn != NULL;
	    cn = TAILQ_NEXT(cn, entry)) {
		if ((cn->flags & CONN_PAUSED) || cn->outoff < cn->outlen)
			return (false);
		if (ioctl(cn->fd, FIONREAD, &unread) == -1 || unread > 0)
			return (false);
		if (cn->inlen > 0 && memchr(cn->in, '\n', cn->inlen) != NULL)
			return (false);
	}
	return (true);
}

/* Shut down the way gtd does, then drop the clients and free it all. */
static void
fuzz_teardown(struct gtd *g, struct fuzz_client *cl, int ncl,
    ev_prepare *reaper)
{
	struct conn	*cn;
	int		 i, want;

	gtd_shutdown(g, 0, -1);
	for (i = 0; i < FUZZ_DOWN_ROUNDS && !fuzz_quiet(g); i++) {
		fuzz_pump(g, cl, 1, ncl);
		fuzz_exit_all(g, (unsigned)i);
		if (i >= 16)		/* what the shutdown left waiting */
			fuzz_timers(g);
	}
	fuzz_pump(g, cl, 2, ncl);
	if (!fuzz_quiet(g)) {
		fprintf(stderr, "shutdown did not finish: %d processes, or a "
		    "connection still holds requests\n", g->tab->nprocs);
		abort();
	}
	/* Exactly one reply per request (house style 3.4.4). */
	for (i = 0; i < ncl; i++) {
		want = cl[i].requests + (cl[i].shut && cl[i].partial);
		if (cl[i].inexact || cl[i].closed || cl[i].replies == want)
			continue;
		fprintf(stderr, "connection %d: %d replies to %d requests\n",
		    i, cl[i].replies, want);
		abort();
	}
	for (i = 0; i < ncl; i++)
		fuzz_client_close(&cl[i]);
	fuzz_pump(g, cl, 4, ncl);
	/*
	 * Every connection saw the close and is gone, except a subscriber
	 * that half-closed before: its later close() shows only when an
	 * event is written to it (gtd_free closes it here).
	 */
	for (cn = connset_first(g->conns, false); cn != NULL;
	    cn = TAILQ_NEXT(cn, entry))
		assert((cn->flags & CONN_EOF) && conn_kept_open(cn));
	ev_prepare_stop(g->loop, reaper);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	signal(SIGPIPE, SIG_IGN);
	log_set_level(LOG_LVL_WARN);
	xmalloc_install_json();
	json_object_seed(1);		/* reproducible key order */
	fuzz_trace = getenv("FUZZ_TRACE") != NULL;
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_client	 cl[FUZZ_MAX_CONNS];
	struct gtd		*g;
	ev_prepare		 reaper;
	char			*cause = NULL;
	const uint8_t		*p = data, *end = data + size, *nl;
	size_t			 len;
	int			 i, ncl = 1, cur = 0;

	fuzz_mode = 0;
	fuzz_next_pid = FUZZ_PID_BASE;
	for (i = 0; i < FUZZ_MAX_FD; i++)
		fuzz_pidfd_w[i] = -1;
	srandom(1);
	if ((g = gtd_new(&fuzz_ops, &cause)) == NULL) {
		fprintf(stderr, "gtd_new: %s\n", cause);
		abort();
	}
	/* Small limits, so that inputs of a few KiB reach them. */
	g->lim.max_request_bytes = 2048;
	g->lim.max_output_bytes = 65536;
	g->lim.max_children = 8;
	g->lim.max_attrs = 8;
	ev_prepare_init(&reaper, fuzz_reap_cb);
	reaper.data = g;
	ev_prepare_start(g->loop, &reaper);
	memset(cl, 0, sizeof cl);
	for (i = 0; i < FUZZ_MAX_CONNS; i++)
		cl[i].fd = -1;
	fuzz_client_open(g, &cl[0]);

	while (p < end) {
		nl = memchr(p, '\n', end - p);
		len = (nl != NULL ? nl + 1 : end) - p;
		switch (p[0]) {
		case 0x01:
			fuzz_exit_all(g, len > 1 ? p[1] : 0);
			break;
		case 0x02:
			fuzz_timers(g);
			break;
		case 0x03:
			fuzz_mode = len > 1 ? p[1] : 0;
			break;
		case 0x04:
			if (ncl < FUZZ_MAX_CONNS) {
				fuzz_client_open(g, &cl[ncl]);
				cur = ncl++;
			}
			break;
		case 0x05:
			if (cl[cur].fd != -1 && !cl[cur].shut) {
				(void)shutdown(cl[cur].fd, SHUT_WR);
				cl[cur].shut = true;
			}
			break;
		default:
			fuzz_send(g, cl, ncl, cur, p, len);
			break;
		}
		fuzz_pump(g, cl, FUZZ_ROUNDS, ncl);
		p += len;
	}
	fuzz_teardown(g, cl, ncl, &reaper);
	gtd_free(g);
	for (i = 0; i < FUZZ_MAX_FD; i++)
		fuzz_pidfd_close(i);
	return (0);
}
