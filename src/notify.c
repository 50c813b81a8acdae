/* SPDX-License-Identifier: MIT */
/*
 * notify: the sd_notify protocol for readiness, status and watchdog.  A
 * datagram may come from the child or from any process in its session or
 * process group (a shell script's systemd-notify); it is matched to a
 * child by the kernel-supplied sender pid.  Never blocks.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "gt/child.h"
#include "gt/gtd.h"
#include "gt/log.h"
#include "gt/notify.h"
#include "gt/proto.h"
#include "gt/xmalloc.h"

#define NOTIFY_MSG_MAX	4096

struct notify {
	struct gtd	*gtd;		/* weak */
	int		 fd;		/* owned */
	ev_io		 rd;
};

static void	notify_read_cb(struct ev_loop *, ev_io *, int);
static void	notify_utf8(char *);

struct notify *
notify_new(struct gtd *g, char **cause)
{
	struct notify		*n;
	struct sockaddr_un	 sun;
	socklen_t		 len;
	int			 fd, one = 1;
	char			 name[64];

	snprintf(name, sizeof name, "gtd/notify/%d", (int)g->pid);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path + 1, name, strlen(name));	/* abstract */
	len = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1 || setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one,
	    sizeof one) == -1 || bind(fd, (struct sockaddr *)&sun, len) == -1) {
		xasprintf(cause, "notify socket: %s", strerror(errno));
		if (fd != -1)
			close(fd);
		return (NULL);
	}
	n = xcalloc(1, sizeof *n);
	n->gtd = g;
	n->fd = fd;
	ev_io_init(&n->rd, notify_read_cb, fd, EV_READ);
	n->rd.data = n;
	ev_io_start(g->loop, &n->rd);
	free(g->notify_path);
	xasprintf(&g->notify_path, "@%s", name);
	return (n);
}

void
notify_free(struct notify *n)
{
	if (n == NULL)
		return;
	ev_io_stop(n->gtd->loop, &n->rd);
	close(n->fd);
	free(n);
}

void
notify_handle(struct gtd *g, pid_t pid, const char *msg, size_t len)
{
	struct child	*c;
	const char	*line, *end, *stop = msg + len;
	char		*text;

	if ((c = child_find_owner(g, pid)) == NULL) {
		log_debug("notify: from pid %d, no child of ours", (int)pid);
		return;
	}
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
		if ((n = proto_utf8_len(s + i, len - i)) == 0) {
			s[i] = '?';
			n = 1;
		}
		i += n;
	}
}

static void
notify_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct notify	*n = w->data;
	char		 buf[NOTIFY_MSG_MAX];
	union {
		struct cmsghdr	h;
		char		b[CMSG_SPACE(sizeof(struct ucred))];
	}		 cm;
	struct iovec	 iov = { buf, sizeof buf };
	struct msghdr	 mh = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = &cm, .msg_controllen = sizeof cm };
	struct cmsghdr	*h;
	struct ucred	 cred;
	ssize_t		 len;
	pid_t		 from = 0;
	int		 fd;
	size_t		 i;

	if ((len = recvmsg(n->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC)) ==
	    -1) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("%s: recvmsg", __func__);
		return;
	}
	for (h = CMSG_FIRSTHDR(&mh); h != NULL; h = CMSG_NXTHDR(&mh, h)) {
		if (h->cmsg_level != SOL_SOCKET)
			continue;
		if (h->cmsg_type == SCM_CREDENTIALS) {
			memcpy(&cred, CMSG_DATA(h), sizeof cred);
			from = cred.pid;
		} else if (h->cmsg_type == SCM_RIGHTS) {
			/* FDSTORE is not supported: never keep the fds. */
			for (i = 0; i < (h->cmsg_len - CMSG_LEN(0)) / sizeof fd;
			    i++) {
				memcpy(&fd, CMSG_DATA(h) + i * sizeof fd,
				    sizeof fd);
				close(fd);
			}
		}
	}
	if (from <= 0 || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
		log_debug("notify: datagram dropped");
	else
		notify_handle(n->gtd, from, buf, len);
}
