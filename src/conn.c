/* SPDX-License-Identifier: MIT */
/*
 * conn: one control connection (protocol §1).  Bounded input (a line may
 * not exceed max_request_bytes), bounded output (max_output_bytes of
 * unsent replies), one request in flight, replies in request order.
 * Never blocks: reads and writes are non-blocking, EINTR/EAGAIN are
 * handled here and nowhere else.  Never frees itself inside its own
 * callbacks: conn_close() queues it for the reaper.
 *
 * A client that half-closes (SHUT_WR) gets its answers, then the
 * connection closes; a subscriber's stays open for its events until the
 * client closes it.  Its socket then reads EOF forever, so it cannot stay
 * in the loop: it waits in one epoll set (the set's hupfd, itself
 * watched by the loop) for the hangup, and is closed as soon as that
 * comes.  What the lines mean is the handler's business (conn_handler).
 */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "gt/clock.h"
#include "gt/conn.h"
#include "gt/log.h"
#include "gt/procstat.h"
#include "gt/proto.h"
#include "gt/protocol.h"
#include "gt/xmalloc.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD	77	/* Linux 6.5; glibc 2.36 lacks the name */
#endif

#define CONN_READ_CHUNK	16384
#define CONN_SLICE_MIN	8	/* requests before the clock is asked */
#define CONN_SLICE_US	200	/* then at most this long per turn */
#define CONN_FLUSH_AT	65536	/* unsent bytes: send before the next */

TAILQ_HEAD(conn_list, conn);

struct connset {
	struct ev_loop			*loop;
	const struct gtd_limits		*lim;		/* borrowed */
	const struct conn_handler	*handler;
	void				*arg;
	int				(*pidfd_open)(pid_t);
	struct conn_list		 conns;		/* open */
	struct conn_list		 dead;		/* closed, held */
	int				 n;		/* in conns */
	uint64_t			 accepted;	/* ever */
	size_t				 outq_total;	/* unsent, all */
	/* Owned: epoll of half-closed subscribers, or -1. */
	int				 hupfd;
	ev_io				 hupw;
};

static void	conn_read_cb(struct ev_loop *, ev_io *, int);
static void	conn_more_cb(struct ev_loop *, ev_timer *, int);
static void	conn_groups(struct conn *);
static void	conn_write_cb(struct ev_loop *, ev_io *, int);
static void	conn_process(struct conn *);
static void	conn_flush(struct conn *);
static int	conn_fill(struct conn *);
static void	conn_watch_hangup(struct conn *);
static void	conn_hangup_cb(struct ev_loop *, ev_io *, int);

/*
 * The peer's identity is bound when it connects (protocol §7): uid and
 * gid from SO_PEERCRED, and a pidfd of the very process that connected.
 * A pid number alone is never trusted later: the process may exit and
 * its number go to another, even to a supervised child.  Everything read
 * from /proc/<pid> is checked against the pidfd afterwards: if the peer
 * still lives, the number was its own all along.
 */

/* Is the process that connected still alive?  (Its pid is its own.) */
bool
conn_peer_alive(const struct conn *cn)
{
	struct pollfd	pfd = { .fd = cn->pidfd, .events = POLLIN };

	if (cn->pidfd == -1)
		return (false);
	/* A pidfd is readable once its process has exited. */
	return (poll(&pfd, 1, 0) == 0);
}

/*
 * Fallback without SO_PEERPIDFD: a pidfd of the pid, and proof that this
 * process is older than the accept (its start time, in clock ticks since
 * boot), so it is the one that connected and not a later one with the
 * number.  -1 when that cannot be shown.
 */
static int
conn_pidfd_fallback(struct conn *cn)
{
	struct timespec		 ts;
	struct proc_stat	 ps;
	unsigned long long	 start;
	long			 hz = sysconf(_SC_CLK_TCK);
	int			 pidfd;

	if (clock_gettime(CLOCK_BOOTTIME, &ts) == -1 || hz <= 0 ||
	    (pidfd = cn->set->pidfd_open(cn->pid)) == -1)
		return (-1);
	if (proc_stat(cn->pid, &ps) == -1 || (start = ps.starttime) >
	    (unsigned long long)ts.tv_sec * hz +
	    (unsigned long long)ts.tv_nsec / (1000000000 / hz))
		goto fail;
	return (pidfd);
fail:
	close(pidfd);
	return (-1);
}

/* A pidfd of the peer process, or -1 (gone already, or no way to tell). */
static int
conn_peer_pidfd(struct conn *cn)
{
	socklen_t	len = sizeof (int);
	int		pidfd = -1;

	if (cn->pid <= 0)
		return (-1);
	if (getsockopt(cn->fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) == 0 &&
	    pidfd >= 0) {
		/* The kernel sets it; a failure changes nothing. */
		(void)fcntl(pidfd, F_SETFD, FD_CLOEXEC);
		return (pidfd);
	}
	if (errno != ENOPROTOOPT)
		return (-1);		/* the peer exited before the accept */
	return (conn_pidfd_fallback(cn));
}

/*
 * The peer's supplementary groups, from /proc (for the acl; at most 64),
 * kept only if the peer is still alive once they are read.
 */
static void
conn_groups(struct conn *cn)
{
	char		 path[64], line[1024], *p, *end;
	FILE		*f;
	unsigned long	 id;

	if (!conn_peer_alive(cn))
		return;
	snprintf(path, sizeof path, "/proc/%d/status", (int)cn->pid);
	if ((f = fopen(path, "re")) == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, "Groups:", 7) != 0)
			continue;
		cn->groups = xcalloc(64, sizeof *cn->groups);
		for (p = line + 7; cn->ngroups < 64; p = end) {
			id = strtoul(p, &end, 10);
			if (end == p)
				break;
			cn->groups[cn->ngroups++] = (gid_t)id;
		}
		break;
	}
	fclose(f);
	if (!conn_peer_alive(cn))	/* another process had the pid */
		cn->ngroups = 0;
}

bool
conn_privileged(const struct conn *cn)
{
	return (cn->uid == 0 || cn->uid == geteuid());
}

struct connset *
connset_new(const struct connset_opts *o)
{
	struct connset	*set;

	set = xcalloc(1, sizeof *set);
	set->loop = o->loop;
	set->lim = o->lim;
	set->handler = o->handler;
	set->arg = o->arg;
	set->pidfd_open = o->pidfd_open;
	set->hupfd = -1;
	TAILQ_INIT(&set->conns);
	TAILQ_INIT(&set->dead);
	return (set);
}

int
connset_count(const struct connset *set)
{
	return (set->n);
}

uint64_t
connset_accepted(const struct connset *set)
{
	return (set->accepted);
}

size_t
connset_queued(const struct connset *set)
{
	return (set->outq_total);
}

bool
connset_has_dead(const struct connset *set)
{
	return (!TAILQ_EMPTY(&set->dead));
}

struct conn *
connset_first(const struct connset *set, bool dead)
{
	return (dead ? TAILQ_FIRST(&set->dead) : TAILQ_FIRST(&set->conns));
}

void
connset_test_charge(struct connset *set, long delta)
{
	set->outq_total += delta;
}

void
conn_set_row(struct conn *cn, const char *name)
{
	free(cn->child);
	cn->child = xstrdup(name);
}

struct conn *
conn_new(struct connset *set, int fd)
{
	struct conn	*cn;
	struct ucred	 cred;
	socklen_t	 len = sizeof cred;

	cn = xcalloc(1, sizeof *cn);
	cn->set = set;
	cn->fd = fd;
	cn->pidfd = -1;
	cn->flush_at = CONN_FLUSH_AT;
	cn->uid = (uid_t)-1;
	cn->gid = (gid_t)-1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
		cn->uid = cred.uid;
		cn->gid = cred.gid;
		cn->pid = cred.pid;
		cn->pidfd = conn_peer_pidfd(cn);
		conn_groups(cn);
	}
	ev_io_init(&cn->rd, conn_read_cb, fd, EV_READ);
	cn->rd.data = cn;
	ev_io_init(&cn->wr, conn_write_cb, fd, EV_WRITE);
	cn->wr.data = cn;
	ev_timer_init(&cn->more, conn_more_cb, 0., 0.);
	cn->more.data = cn;
	ev_io_start(set->loop, &cn->rd);
	TAILQ_INSERT_TAIL(&set->conns, cn, entry);
	set->n++;
	set->accepted++;
	/* Which row it counts against (connection slots only). */
	if (set->handler->opened != NULL)
		set->handler->opened(cn, set->arg);
	return (cn);
}

/* Over every cap: one `limit` line, best effort, then close. */
static void
conn_refuse_fd(struct connset *set, int fd)
{
	char	buf[160];
	int	n;

	n = snprintf(buf, sizeof buf, "{\"ok\":false,\"error\":\"%s\","
	    "\"message\":\"max_connections (%d) reached\",\"limit\":"
	    "\"max_connections\"}\n", GT_E_LIMIT, set->lim->max_connections);
	(void)!send(fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

void
conn_accept(struct connset *set, int fd)
{
	struct conn	*cn;
	const char	*limit;
	char		*cause = NULL;

	if (set->n >= set->lim->max_connections) {
		conn_refuse_fd(set, fd);
		return;
	}
	cn = conn_new(set, fd);
	if ((limit = conn_admit(cn, &cause)) != NULL) {
		log_debug("connection from uid %u pid %d refused: %s",
		    (unsigned)cn->uid, (int)cn->pid, cause);
		conn_refuse(cn, limit, cause);
		free(cause);
	}
}

/* How many other open connections share cn's budget (its row or uid)? */
static int
conn_count_like(struct conn *cn)
{
	struct conn	*o;
	int		 n = 0;

	TAILQ_FOREACH(o, &cn->set->conns, entry) {
		if (o == cn || conn_privileged(o))
			continue;
		if (cn->child != NULL ? o->child != NULL &&
		    strcmp(o->child, cn->child) == 0 : o->child == NULL &&
		    o->uid == cn->uid)
			n++;
	}
	return (n);
}

const char *
conn_admit(struct conn *cn, char **cause)
{
	const struct gtd_limits	*l = cn->set->lim;
	int			 n = cn->set->n - 1, max, per, res, root;

	/*
	 * The last slots are kept: `root` of them for root and gtd's user
	 * alone, `res` (at least as many) for them and supervised children.
	 */
	max = l->max_connections;
	root = max / 8 < GT_CONN_ROOT_RESERVE ? max / 8 : GT_CONN_ROOT_RESERVE;
	res = l->reserved_connections >= 0 ? l->reserved_connections :
	    max / 16;
	if (res < root)
		res = root;
	per = l->max_connections_per_uid > 0 ? l->max_connections_per_uid :
	    (max / 8 > 0 ? max / 8 : 1);
	if (conn_privileged(cn)) {
		if (n < max)
			return (NULL);
	} else if (n >= max - (cn->child != NULL ? root : res))
		;
	else if (conn_count_like(cn) >= per) {
		if (cn->child != NULL)
			xasprintf(cause, "child %s has %d connections, the "
			    "most one child may have (max_connections_per_uid)",
			    cn->child, per);
		else
			xasprintf(cause, "uid %u has %d connections, the most "
			    "one user may have (max_connections_per_uid)",
			    (unsigned)cn->uid, per);
		return ("max_connections_per_uid");
	} else
		return (NULL);
	if (!conn_privileged(cn) && n < max)
		xasprintf(cause, "max_connections (%d) reached for %s: the "
		    "last %d are kept for root, gtd's user%s", max,
		    cn->child != NULL ? "children" : "other users",
		    cn->child != NULL ? root : res,
		    cn->child != NULL ? "" : " and supervised children");
	else
		xasprintf(cause, "max_connections (%d) reached", max);
	return ("max_connections");
}

void
conn_close(struct conn *cn)
{
	struct connset	*g = cn->set;

	if (cn->flags & CONN_DEAD)
		return;
	/*
	 * Nothing is freed here: a caller up the stack (an event delivery,
	 * a request) may still hold cn or its subscription.  The reaper
	 * frees both once no request holds a ref.
	 */
	g->outq_total -= cn->outlen - cn->outoff;	/* never to be sent */
	cn->outoff = cn->outlen = 0;
	ev_io_stop(g->loop, &cn->rd);
	ev_io_stop(g->loop, &cn->wr);
	ev_timer_stop(g->loop, &cn->more);
	/*
	 * close() alone would leave it in the set while a forked child
	 * not yet exec'd shares the descriptor, pointing at a freed conn.
	 */
	if (cn->flags & CONN_HUPWATCH)
		(void)epoll_ctl(g->hupfd, EPOLL_CTL_DEL, cn->fd, NULL);
	close(cn->fd);
	cn->fd = -1;
	cn->flags |= CONN_DEAD;
	TAILQ_REMOVE(&g->conns, cn, entry);
	g->n--;
	TAILQ_INSERT_TAIL(&g->dead, cn, entry);
}

bool
conn_is_dead(const struct conn *cn)
{
	return ((cn->flags & CONN_DEAD) != 0);
}

void
conn_ref(struct conn *cn)
{
	cn->refs++;
}

void
conn_unref(struct conn *cn)
{
	assert(cn->refs > 0);
	cn->refs--;
}

static void
conn_free(struct conn *cn)
{
	struct connset	*set = cn->set;

	if (set->handler->gone != NULL)
		set->handler->gone(cn, set->arg);
	if (cn->pidfd != -1)
		close(cn->pidfd);
	free(cn->child);
	free(cn->groups);
	free(cn->in);
	free(cn->out);
	free(cn);
}

void
connset_reap(struct connset *set)
{
	struct conn	*cn, *next;

	for (cn = TAILQ_FIRST(&set->dead); cn != NULL; cn = next) {
		next = TAILQ_NEXT(cn, entry);
		if (cn->refs > 0)
			continue;
		TAILQ_REMOVE(&set->dead, cn, entry);
		conn_free(cn);
	}
}

void
connset_free(struct connset *set)
{
	struct conn	*cn;

	if (set == NULL)
		return;
	while ((cn = TAILQ_FIRST(&set->conns)) != NULL)
		conn_close(cn);
	/*
	 * Refs still held belong to requests that the layer above let go
	 * of first (gtd_free): nothing runs any more.
	 */
	while ((cn = TAILQ_FIRST(&set->dead)) != NULL) {
		TAILQ_REMOVE(&set->dead, cn, entry);
		conn_free(cn);
	}
	if (set->hupfd != -1) {
		ev_io_stop(set->loop, &set->hupw);
		close(set->hupfd);
	}
	free(set);
}

/* Read once into the input buffer.  0, or -1 when the peer is gone. */
static int
conn_fill(struct conn *cn)
{
	size_t	max = cn->set->lim->max_request_bytes + 1;
	ssize_t	n;

	if (cn->insize - cn->inlen < CONN_READ_CHUNK && cn->insize < max) {
		cn->insize = cn->insize == 0 ? CONN_READ_CHUNK : cn->insize * 2;
		if (cn->insize > max)
			cn->insize = max;
		cn->in = xreallocarray(cn->in, 1, cn->insize);
	}
	if (cn->inlen == cn->insize)
		return (0);		/* full: conn_process says too_big */
	n = read(cn->fd, cn->in + cn->inlen, cn->insize - cn->inlen);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return (0);
	if (n == -1)
		return (-1);
	if (n == 0) {
		cn->flags |= CONN_EOF;
		ev_io_stop(cn->set->loop, &cn->rd);
		return (0);
	}
	cn->inlen += n;
	return (0);
}

static void
conn_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn	*cn = w->data;

	if (!(cn->flags & (CONN_PAUSED | CONN_EOF)) && conn_fill(cn) == -1) {
		conn_close(cn);
		return;
	}
	conn_process(cn);
}

/* Dispatch every complete line, one request at a time. */
static void
conn_process(struct conn *cn)
{
	char	*nl;
	size_t	 used = 0, len;
	int64_t	 t0 = clock_mono_us();
	int	 n = 0;
	bool	 more = false;

	while (!(cn->flags & (CONN_PAUSED | CONN_DEAD | CONN_CLOSING))) {
		/*
		 * Fairness: after a slice of work (spawns cost a fork each),
		 * let the loop serve everyone else before going on.
		 */
		if (++n > CONN_SLICE_MIN && clock_mono_us() - t0 >
		    CONN_SLICE_US) {
			more = true;
			break;
		}
		nl = memchr(cn->in + used + cn->scanned, '\n',
		    cn->inlen - used - cn->scanned);
		if (nl == NULL && (cn->flags & CONN_EOF) && cn->inlen > used &&
		    cn->inlen - used <= cn->set->lim->max_request_bytes)
			nl = cn->in + cn->inlen;	/* last line, no '\n' */
		if (nl == NULL) {
			cn->scanned = cn->inlen - used;
			break;
		}
		len = nl - (cn->in + used);
		cn->scanned = 0;
		if (len > cn->set->lim->max_request_bytes)
			break;
		/*
		 * Send what piled up first, so that a pipelining client that
		 * reads is never taken for one that does not.
		 */
		if (cn->outlen - cn->outoff >= cn->flush_at) {
			conn_flush(cn);
			if (cn->flags & CONN_DEAD)
				break;
			/* Full: try again only once as much more is queued. */
			cn->flush_at = cn->outlen - cn->outoff + CONN_FLUSH_AT;
		}
		cn->set->handler->line(cn, cn->in + used, len, cn->set->arg);
		used += len;
		if (used < cn->inlen)
			used++;			/* the '\n' */
	}
	if (used > 0) {
		memmove(cn->in, cn->in + used, cn->inlen - used);
		cn->inlen -= used;
	}
	if (more) {
		ev_timer_start(cn->set->loop, &cn->more);
		conn_flush(cn);
		return;
	}
	if (!(cn->flags & (CONN_DEAD | CONN_CLOSING | CONN_PAUSED)) &&
	    cn->inlen > cn->set->lim->max_request_bytes) {
		conn_error(cn, GT_E_TOO_BIG, "request line exceeds "
		    "max_request_bytes");
		cn->flags |= CONN_CLOSING;
		ev_io_stop(cn->set->loop, &cn->rd);
	}
	if (cn->flags & CONN_PAUSED)	/* resumed by conn_resume() */
		ev_io_stop(cn->set->loop, &cn->rd);
	else if ((cn->flags & CONN_EOF) && !(cn->flags & CONN_KEEP))
		cn->flags |= CONN_CLOSING;	/* all answered: done */
	else if (cn->flags & CONN_EOF)
		conn_watch_hangup(cn);		/* a subscriber: closed or not */
	conn_flush(cn);
}

/*
 * Watch a subscriber that read EOF for the client's close.  Its fd goes
 * into gtd's epoll set asking for no event: epoll always reports
 * EPOLLHUP (both directions shut: the client closed) and EPOLLERR, never
 * the EOF that is always there.  A hangup that came before the fd was
 * added is reported at once.  Should the set fail, the close is noticed
 * when the next event cannot be written, as before.
 */
static void
conn_watch_hangup(struct conn *cn)
{
	struct connset		*g = cn->set;
	struct epoll_event	 ev = { .events = 0, .data.ptr = cn };

	if (cn->flags & CONN_HUPWATCH)
		return;
	if (g->hupfd == -1) {
		if ((g->hupfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
			log_warn("%s: epoll_create1", __func__);
			return;
		}
		ev_io_init(&g->hupw, conn_hangup_cb, g->hupfd, EV_READ);
		g->hupw.data = g;
		ev_io_start(g->loop, &g->hupw);
	}
	if (epoll_ctl(g->hupfd, EPOLL_CTL_ADD, cn->fd, &ev) == -1) {
		log_warn("%s: epoll_ctl", __func__);
		return;
	}
	cn->flags |= CONN_HUPWATCH;
}

/* Half-closed subscribers whose client closed: close them now. */
static void
conn_hangup_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct connset		*g = w->data;
	struct epoll_event	 evs[64];
	int			 i, n;

	/* conn_close only queues a conn: the later pointers stay valid. */
	if ((n = epoll_wait(g->hupfd, evs, 64, 0)) == -1)
		return;				/* EINTR: loop calls again */
	for (i = 0; i < n; i++)
		conn_close(evs[i].data.ptr);
}

void
conn_pause(struct conn *cn)
{
	cn->flags |= CONN_PAUSED;
}

void
conn_resume(struct conn *cn)
{
	cn->flags &= ~CONN_PAUSED;
	if (cn->flags & CONN_DEAD)
		return;
	/* Not from here: we may be deep in a child's callback chain. */
	if (!(cn->flags & CONN_EOF))
		ev_io_start(cn->set->loop, &cn->rd);
	ev_feed_event(cn->set->loop, &cn->rd, EV_READ);
}

void
conn_keep_open(struct conn *cn)
{
	cn->flags |= CONN_KEEP;
}

bool
conn_kept_open(const struct conn *cn)
{
	return ((cn->flags & CONN_KEEP) != 0);
}

size_t
conn_unsent(const struct conn *cn)
{
	return (cn->outlen - cn->outoff);
}

size_t
conn_reply_max(struct conn *cn)
{
	struct connset	*g = cn->set;
	size_t		 max = g->lim->max_output_bytes;

	if (GT_OUTPUT_TOTAL_MAX - g->outq_total < max)
		max = g->outq_total >= GT_OUTPUT_TOTAL_MAX ? 0 :
		    GT_OUTPUT_TOTAL_MAX - g->outq_total;
	return (max > 0 ? max - 1 : 0);		/* its '\n' */
}

/* Would len more bytes take cn or gtd past its output cap? */
static bool
conn_over(struct conn *cn, size_t len)
{
	return (cn->outlen - cn->outoff + len + 1 >
	    cn->set->lim->max_output_bytes ||
	    cn->set->outq_total + len + 1 > GT_OUTPUT_TOTAL_MAX);
}

/* Unread output piled up past a cap: the peer does not read. */
static void
conn_drop(struct conn *cn)
{
	log_warnx("connection from pid %d: %zu reply bytes unread, closing",
	    (int)cn->pid, cn->outlen - cn->outoff);
	conn_close(cn);
}

/* Append one line; the caller checked the caps. */
static void
conn_queue(struct conn *cn, const char *line, size_t len)
{
	if (cn->outoff > 0 && cn->outoff == cn->outlen)
		cn->outoff = cn->outlen = 0;
	if (cn->outsize - cn->outlen < len + 1) {
		if (cn->outoff > 0) {
			memmove(cn->out, cn->out + cn->outoff,
			    cn->outlen - cn->outoff);
			cn->outlen -= cn->outoff;
			cn->outoff = 0;
		}
		while (cn->outsize - cn->outlen < len + 1)
			cn->outsize = cn->outsize == 0 ? 4096 : cn->outsize * 2;
		cn->out = xreallocarray(cn->out, 1, cn->outsize);
	}
	memcpy(cn->out + cn->outlen, line, len);
	cn->out[cn->outlen + len] = '\n';
	cn->outlen += len + 1;
	cn->set->outq_total += len + 1;
	/* Sent by conn_process, or (events) once the socket is writable. */
	ev_io_start(cn->set->loop, &cn->wr);
}

void
conn_reply(struct conn *cn, const char *line, size_t len)
{
	if (cn->flags & CONN_DEAD)
		return;
	/*
	 * A reply fits on its own (cmd_send made sure, or it is a short
	 * error); past a cap behind unread ones, the peer does not read.
	 */
	if (cn->outlen > cn->outoff && conn_over(cn, len)) {
		conn_drop(cn);
		return;
	}
	conn_queue(cn, line, len);
}

void
conn_event(struct conn *cn, const char *line, size_t len)
{
	if (cn->flags & CONN_DEAD)
		return;
	if (conn_over(cn, len)) {
		conn_drop(cn);
		return;
	}
	conn_queue(cn, line, len);
}

void
conn_refuse(struct conn *cn, const char *limit, const char *msg)
{
	json_t	*j;
	char	*line;
	size_t	 len;

	j = json_pack("{s:b, s:s, s:s, s:s}", "ok", 0, "error", GT_E_LIMIT,
	    "message", msg, "limit", limit);
	if ((line = proto_dump(j, &len)) != NULL)
		conn_reply(cn, line, len);
	json_decref(j);
	free(line);
	conn_flush(cn);			/* best effort: it is small */
	conn_close(cn);
}

void
conn_error(struct conn *cn, const char *code, const char *msg)
{
	char	*line;
	int	 n;

	n = xasprintf(&line, "{\"ok\":false,\"error\":\"%s\","
	    "\"message\":\"%s\"}", code, msg);
	conn_reply(cn, line, n);
	free(line);
}

/* Write what is queued; wait for EV_WRITE if the socket is full. */
static void
conn_flush(struct conn *cn)
{
	ssize_t	n;

	while (!(cn->flags & CONN_DEAD) && cn->outoff < cn->outlen) {
		n = send(cn->fd, cn->out + cn->outoff, cn->outlen - cn->outoff,
		    MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			ev_io_start(cn->set->loop, &cn->wr);
			return;
		}
		if (n == -1) {
			conn_close(cn);		/* EPIPE, ECONNRESET */
			return;
		}
		cn->outoff += n;
		cn->set->outq_total -= n;
	}
	if (cn->flags & CONN_DEAD)
		return;
	ev_io_stop(cn->set->loop, &cn->wr);
	cn->outoff = cn->outlen = 0;
	cn->flush_at = CONN_FLUSH_AT;
	if (cn->flags & CONN_CLOSING)
		conn_close(cn);
}

/* The rest of a batch that conn_process left for the next turn. */
static void
conn_more_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct conn	*cn = w->data;

	if (!(cn->flags & CONN_PAUSED))
		conn_process(cn);
}

void
conn_push(struct conn *cn)
{
	conn_flush(cn);
}

static void
conn_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	conn_flush(w->data);
}

void
conn_unread(struct conn *cn, const char *p, size_t len)
{
	size_t	max = cn->set->lim->max_request_bytes + 1;

	if (len == 0 || (cn->flags & CONN_DEAD))
		return;
	if (len > max - cn->inlen)
		len = max - cn->inlen;
	if (cn->insize < cn->inlen + len) {
		cn->insize = cn->inlen + len;
		cn->in = xreallocarray(cn->in, 1, cn->insize);
	}
	memmove(cn->in + len, cn->in, cn->inlen);
	memcpy(cn->in, p, len);
	cn->inlen += len;
	cn->scanned = 0;
	ev_feed_event(cn->set->loop, &cn->rd, EV_READ);
}
