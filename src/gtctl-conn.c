/* SPDX-License-Identifier: MIT */
/*
 * gtctl-conn: gtctl's connections to gtd, made with libgtd (gtd.h): one
 * handle each, with the reply line kept until the next read, as the rest
 * of gtctl reads it.  Never prints: failures come back as NULL/-1 with
 * errno, or a message the caller prints.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "gtd.h"
#include "gt/gtctl.h"
#include "gt/xmalloc.h"

struct gtctl_conn *
gtctl_conn_new(const char *path, char **cause)
{
	struct gtctl_conn	*c;
	struct gtd_handle	*h;
	int			 saved;

	if ((h = gtd_open(path)) == NULL) {
		saved = errno;
		xasprintf(cause, "%s: %s", path, strerror(saved));
		errno = saved;
		return (NULL);
	}
	if (gtd_connect(h) != GTD_OK) {
		saved = errno;
		*cause = xstrdup(gtd_errmsg(h));
		gtd_close(h);
		errno = saved;
		return (NULL);
	}
	c = xcalloc(1, sizeof *c);
	c->h = h;
	return (c);
}

void
gtctl_conn_free(struct gtctl_conn *c)
{
	if (c == NULL)
		return;
	gtd_close(c->h);
	free(c->line);
	free(c);
}

int
gtctl_conn_send(struct gtctl_conn *c, const char *line)
{
	return (gtd_send(c->h, line) == GTD_OK ? 0 : -1);
}

const char *
gtctl_conn_recv(struct gtctl_conn *c, int timeout_ms, size_t *lenp)
{
	int	saved;

	free(c->line);
	c->line = NULL;
	gtd_set_timeout(c->h, timeout_ms);
	if (gtd_recv(c->h, &c->line) != GTD_OK) {
		saved = errno;
		/* Nothing yet, the connection kept: as a deadline passed. */
		errno = saved == EAGAIN ? ETIMEDOUT : saved;
		return (NULL);
	}
	*lenp = strlen(c->line);
	return (c->line);
}

int
gtctl_conn_fd(struct gtctl_conn *c, short *events)
{
	return (gtd_fd(c->h, events));
}
