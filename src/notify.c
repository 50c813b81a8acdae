/* SPDX-License-Identifier: MIT */
/*
 * notify: the sd_notify protocol for readiness, status and watchdog.
 * One datagram socket per incarnation of a child that asks for it,
 * bound under a random abstract name: the socket says which child a
 * datagram is for, even when its sender (a shell script's short-lived
 * systemd-notify) is gone by the time gtd reads it, and no other user
 * can take the name first.  The kernel's credentials say who sent it
 * (notify_sender_ok); passed descriptors are closed, never kept.  Never
 * blocks.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gt/child.h"
#include "gt/compat.h"
#include "gt/gtd.h"
#include "gt/log.h"
#include "gt/notify.h"
#include "gt/procstat.h"
#include "gt/utf8.h"
#include "gt/xmalloc.h"

/* Linux 6.5; glibc 2.36 has neither name. */
#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD	76
#endif
#ifndef SCM_PIDFD
#define SCM_PIDFD	0x04
#endif

#define NOTIFY_MSG_MAX		4096
#define NOTIFY_MAX_FDS		253	/* SCM_MAX_FD: all one message holds */
#define NOTIFY_BIND_TRIES	8

/* The socket of one incarnation. */
struct notify_sock {
	struct notify		*n;		/* weak: the owner */
	char			*name;		/* owned: the child's */
	unsigned		 incarnation;
	int			 fd;		/* owned */
	ev_io			 rd;
	char			 path[32];	/* "@gtd/" and 16 hex digits */
	LIST_ENTRY(notify_sock)	 entry;
};

struct notify {
	struct gtd			*gtd;		/* weak */
	LIST_HEAD(, notify_sock)	 socks;		/* owned */
	unsigned			 seq;		/* see notify_random */
};

/* The control data one datagram may carry. */
union notify_cmsg {
	struct cmsghdr	h;
	char		b[CMSG_SPACE(sizeof(struct ucred)) +
			    CMSG_SPACE(sizeof(int)) +
			    CMSG_SPACE(NOTIFY_MAX_FDS * sizeof(int))];
};

static void	notify_read_cb(struct ev_loop *, ev_io *, int);
static void	notify_utf8(char *);
static void	notify_sock_free(struct notify_sock *);
static void	notify_sock_add(struct notify *, struct notify_sock *,
		    struct child *, int);

struct notify *
notify_new(struct gtd *g, char **cause)
{
	struct notify	*n;

	n = xcalloc(1, sizeof *n);
	n->gtd = g;
	LIST_INIT(&n->socks);
	return (n);
}

void
notify_free(struct notify *n)
{
	struct notify_sock	*s;

	if (n == NULL)
		return;
	while ((s = LIST_FIRST(&n->socks)) != NULL)
		notify_sock_free(s);
	free(n);
}

static void
notify_sock_free(struct notify_sock *s)
{
	LIST_REMOVE(s, entry);
	ev_io_stop(s->n->gtd->loop, &s->rd);
	close(s->fd);
	free(s->name);
	free(s);
}

static struct notify_sock *
notify_sock_find(struct notify *n, const char *name)
{
	struct notify_sock	*s;

	LIST_FOREACH(s, &n->socks, entry)
		if (strcmp(s->name, name) == 0)
			return (s);
	return (NULL);
}

/* 64 random bits for a name (the kernel's, or, early in boot, weaker). */
static unsigned long long
notify_random(struct notify *n)
{
	unsigned long long	 r;
	struct timespec		 ts;

	if (getrandom(&r, sizeof r, GRND_NONBLOCK) == sizeof r)
		return (r);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (((unsigned long long)ts.tv_nsec << 32) ^ (unsigned long long)
	    ts.tv_sec ^ ((unsigned long long)getpid() << 16) ^ ++n->seq);
}

/*
 * A new datagram socket bound to a fresh random abstract name, passing
 * credentials (and pidfds where the kernel can).  The fd, or -1 with
 * errno.
 */
static int
notify_bind(struct notify *n, char *path, size_t size)
{
	struct sockaddr_un	sun;
	socklen_t		len;
	int			fd, one = 1, i, saved;

	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		return (-1);
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) == -1)
		goto fail;
	/* ENOPROTOOPT before Linux 6.5: then senders are found by pid. */
	(void)setsockopt(fd, SOL_SOCKET, SO_PASSPIDFD, &one, sizeof one);
	for (i = 0; i < NOTIFY_BIND_TRIES; i++) {
		snprintf(path, size, "@gtd/%016llx", notify_random(n));
		memset(&sun, 0, sizeof sun);
		sun.sun_family = AF_UNIX;
		memcpy(sun.sun_path + 1, path + 1, strlen(path + 1));
		len = offsetof(struct sockaddr_un, sun_path) + strlen(path);
		if (bind(fd, (struct sockaddr *)&sun, len) == 0)
			return (fd);
		if (errno != EADDRINUSE)
			break;		/* taken (by chance): draw again */
	}
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return (-1);
}

/* s (its path set) is c's socket now, fd bound there: read it. */
static void
notify_sock_add(struct notify *n, struct notify_sock *s, struct child *c,
    int fd)
{
	s->n = n;
	s->fd = fd;
	s->name = xstrdup(c->name);
	s->incarnation = c->incarnation;
	ev_io_init(&s->rd, notify_read_cb, fd, EV_READ);
	s->rd.data = s;
	ev_io_start(n->gtd->loop, &s->rd);
	LIST_INSERT_HEAD(&n->socks, s, entry);
}

int
notify_child_open(struct notify *n, struct child *c)
{
	struct notify_sock	*s;
	int			 fd;

	if (n == NULL)
		return (0);
	notify_child_close(n, c);
	s = xcalloc(1, sizeof *s);
	if ((fd = notify_bind(n, s->path, sizeof s->path)) == -1) {
		free(s);
		return (-1);
	}
	notify_sock_add(n, s, c, fd);
	return (0);
}

const char *
notify_child_path(struct notify *n, const struct child *c)
{
	struct notify_sock	*s;

	if (n == NULL || (s = notify_sock_find(n, c->name)) == NULL)
		return (NULL);
	return (s->path);
}

void
notify_child_close(struct notify *n, const struct child *c)
{
	struct notify_sock	*s;

	if (n != NULL && (s = notify_sock_find(n, c->name)) != NULL)
		notify_sock_free(s);
}

/* Session and process group of pid from /proc; -1 if it is gone. */
static int
notify_proc_ids(pid_t pid, int *pgrp, int *sid)
{
	struct proc_stat	ps;

	if (proc_stat(pid, &ps) == -1)
		return (-1);
	*pgrp = ps.pgrp;
	*sid = ps.session;
	return (0);
}

/* Does the process of pidfd still exist (a zombie counts)? */
static bool
notify_pidfd_alive(int pidfd)
{
	return (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0 ||
	    errno != ESRCH);
}

bool
notify_sender_ok(const struct child *c, const struct notify_sender *sn)
{
	uid_t	uid = c->spec->set_uid ? (uid_t)c->spec->uid : geteuid();
	int	pgrp, sid;
	bool	gone;

	if (sn->pid <= 0 || c->pid <= 0)
		return (false);
	/* Our own child: its pid cannot be anyone else's until we reap. */
	if (sn->pid == c->pid)
		return (true);
	/*
	 * Read /proc, then make sure (pidfd) that it was the sender that
	 * was read: a pid number alone may have been taken by another
	 * process meanwhile.
	 */
	gone = notify_proc_ids(sn->pid, &pgrp, &sid) == -1 ||
	    (sn->pidfd != -1 && !notify_pidfd_alive(sn->pidfd));
	if (!gone)
		return (sid == c->pid || pgrp == c->pid);
	/* Gone already: nothing says where it was but its uid. */
	return (sn->uid == uid);
}

void
notify_handle(struct gtd *g, struct child *c, const char *msg, size_t len)
{
	const char	*line, *end, *stop = msg + len;
	char		*text;

	child_ref(c);
	for (line = msg; line < stop && !(c->flags & CHILD_DEAD);
	    line = end + 1) {
		if ((end = memchr(line, '\n', stop - line)) == NULL)
			end = stop;
		if (end - line == 7 && memcmp(line, "READY=1", 7) == 0)
			child_ready(c);
		else if (end - line == 10 &&
		    memcmp(line, "WATCHDOG=1", 10) == 0)
			child_watchdog_kick(c);
		else if (end - line >= 7 && memcmp(line, "STATUS=", 7) == 0) {
			text = xstrndup(line + 7, end - line - 7);
			notify_utf8(text);
			child_set_status(c, text);
			free(text);
		} else if (end - line == 10 &&
		    memcmp(line, "STOPPING=1", 10) == 0)
			log_info("child %s: stopping", c->name);
	}
	child_unref(c);
}

/* The attr holds text: a byte that is not valid UTF-8 becomes '?'. */
static void
notify_utf8(char *s)
{
	size_t	len = strlen(s), i = 0, n;

	while (i < len) {
		if ((n = utf8_len(s + i, len - i)) == 0) {
			s[i] = '?';
			n = 1;
		}
		i += n;
	}
}

/*
 * The sender of one received datagram; every descriptor it carried
 * (SCM_RIGHTS, and our SCM_PIDFD once used) is the caller's to close:
 * they are collected in fds (*nfds).
 */
static void
notify_cmsgs(struct msghdr *mh, struct notify_sender *sn, int *fds,
    size_t *nfds)
{
	struct cmsghdr	*h;
	struct ucred	 cred;
	size_t		 i, k;
	int		 fd;

	memset(sn, 0, sizeof *sn);
	sn->pidfd = -1;
	*nfds = 0;
	for (h = CMSG_FIRSTHDR(mh); h != NULL; h = CMSG_NXTHDR(mh, h)) {
		if (h->cmsg_level != SOL_SOCKET)
			continue;
		k = (h->cmsg_len - CMSG_LEN(0)) / sizeof fd;
		if (h->cmsg_type == SCM_CREDENTIALS &&
		    h->cmsg_len >= CMSG_LEN(sizeof cred)) {
			memcpy(&cred, CMSG_DATA(h), sizeof cred);
			sn->pid = cred.pid;
			sn->uid = cred.uid;
		} else if (h->cmsg_type == SCM_PIDFD ||
		    h->cmsg_type == SCM_RIGHTS) {
			/* FDSTORE is not supported: never keep one. */
			for (i = 0; i < k && *nfds < NOTIFY_MAX_FDS + 1; i++) {
				memcpy(&fd, CMSG_DATA(h) + i * sizeof fd,
				    sizeof fd);
				fds[(*nfds)++] = fd;
				if (h->cmsg_type == SCM_PIDFD)
					sn->pidfd = fd;
			}
		}
	}
}

static void
notify_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct notify_sock	*s = w->data;
	struct gtd		*g = s->n->gtd;
	struct notify_sender	 sn;
	union notify_cmsg	 cm;
	struct child		*c;
	char			 buf[NOTIFY_MSG_MAX];
	struct iovec		 iov = { buf, sizeof buf };
	struct msghdr		 mh = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = &cm, .msg_controllen = sizeof cm };
	int			 fds[NOTIFY_MAX_FDS + 1];
	ssize_t			 len;
	size_t			 nfds, i;

	if ((len = recvmsg(s->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC)) ==
	    -1) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("%s: recvmsg", __func__);
		return;
	}
	notify_cmsgs(&mh, &sn, fds, &nfds);
	c = child_find(g, s->name);
	if (mh.msg_flags & MSG_TRUNC)
		log_debug("notify: a datagram over %d bytes dropped",
		    NOTIFY_MSG_MAX);
	else if (c == NULL || c->incarnation != s->incarnation)
		log_debug("notify: a datagram for a run of %s that is over",
		    s->name);
	else if (!notify_sender_ok(c, &sn))
		log_debug("notify: child %s: pid %d (uid %u) may not speak "
		    "for it", c->name, (int)sn.pid, (unsigned)sn.uid);
	else
		notify_handle(g, c, buf, len);	/* MSG_CTRUNC: still kept */
	for (i = 0; i < nfds; i++)
		close(fds[i]);
}

int
notify_child_fd(struct notify *n, const struct child *c, const char **path)
{
	struct notify_sock	*s;

	if (n == NULL || (s = notify_sock_find(n, c->name)) == NULL)
		return (-1);
	*path = s->path;
	return (s->fd);
}

int
notify_child_take(struct notify *n, struct child *c, int fd,
    const char *path)
{
	struct notify_sock	*s;

	if (n == NULL || strncmp(path, "@gtd/", 5) != 0 ||
	    strlen(path) >= sizeof s->path) {
		close(fd);
		return (-1);
	}
	notify_child_close(n, c);
	s = xcalloc(1, sizeof *s);
	strlcpy(s->path, path, sizeof s->path);
	notify_sock_add(n, s, c, fd);
	return (0);
}
