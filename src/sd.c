/* SPDX-License-Identifier: MIT */
/*
 * sd: socket activation, notification datagrams, the watchdog interval
 * and the journal stream check of systemd, without libsystemd (see
 * sd_listen_fds(3), sd_notify(3), sd_watchdog_enabled(3) and
 * systemd.exec(5) for the protocols).  Never logs and never blocks:
 * errors go back to gtd-sd.c and gtd.c, which decide.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gt/sd.h"
#include "gt/xmalloc.h"

struct sd_notifier {
	int			 fd;		/* owned */
	struct sockaddr_un	 sun;
	socklen_t		 len;		/* of sun, as sendto wants */
	char			*address;	/* owned: $NOTIFY_SOCKET */
};

static int	sd_parse_u64(const char *, uint64_t *);
static int	sd_check_listener(int);
static int	sd_fd_flags(int);
static int	sd_notifier_address_set(struct sd_notifier *, const char *);

/* A decimal number, nothing else (strtoull would take " -1" and "1x"). */
static int
sd_parse_u64(const char *s, uint64_t *out)
{
	unsigned long long	 v;
	char			*end;

	if (s == NULL || !isdigit((unsigned char)*s)) {
		errno = EINVAL;
		return (-1);
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0') {
		errno = EINVAL;
		return (-1);
	}
	*out = v;
	return (0);
}

/* fd is a listening AF_UNIX stream socket, or -1 with errno saying why. */
static int
sd_check_listener(int fd)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	int			v;

	len = sizeof v;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) == -1)
		return (-1);		/* EBADF, ENOTSOCK */
	if (v != SOCK_STREAM) {
		errno = EPROTOTYPE;
		return (-1);
	}
	len = sizeof ss;
	memset(&ss, 0, sizeof ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return (-1);
	if (ss.ss_family != AF_UNIX) {
		errno = EAFNOSUPPORT;
		return (-1);
	}
	len = sizeof v;
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == -1)
		return (-1);
	if (v == 0) {
		errno = EINVAL;		/* bound, but nobody called listen */
		return (-1);
	}
	return (0);
}

/* FD_CLOEXEC and O_NONBLOCK on an inherited fd. */
static int
sd_fd_flags(int fd)
{
	int	fl;

	if ((fl = fcntl(fd, F_GETFD)) == -1 ||
	    fcntl(fd, F_SETFD, fl | FD_CLOEXEC) == -1)
		return (-1);
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return (-1);
	return (0);
}

int
sd_listen_fd(int *fd)
{
	const char	*pidstr, *nstr;
	uint64_t	 pid, n, i;
	int		 rv = -1, saved;

	assert(fd != NULL);
	*fd = -1;
	pidstr = getenv("LISTEN_PID");
	nstr = getenv("LISTEN_FDS");
	if (pidstr == NULL || nstr == NULL) {
		rv = 0;			/* not activated */
		goto out;
	}
	if (sd_parse_u64(pidstr, &pid) == -1 || pid == 0 ||
	    sd_parse_u64(nstr, &n) == -1 ||
	    n > (uint64_t)INT_MAX - SD_LISTEN_FDS_START) {
		errno = EINVAL;
		goto out;
	}
	if (pid != (uint64_t)getpid() || n == 0) {
		rv = 0;			/* meant for another process */
		goto out;
	}
	if (sd_check_listener(SD_LISTEN_FDS_START) == -1 ||
	    sd_fd_flags(SD_LISTEN_FDS_START) == -1)
		goto out;
	/* One socket per zone: the rest would only leak into children. */
	for (i = 1; i < n; i++)
		(void)close(SD_LISTEN_FDS_START + (int)i); /* EBADF: fine */
	*fd = SD_LISTEN_FDS_START;
	rv = 0;
out:
	saved = errno;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	errno = saved;
	return (rv);
}

char *
sd_socket_path(int fd)
{
	struct sockaddr_un	sun;
	socklen_t		len = sizeof sun;
	size_t			plen;

	memset(&sun, 0, sizeof sun);
	if (getsockname(fd, (struct sockaddr *)&sun, &len) == -1)
		return (NULL);
	if (sun.sun_family != AF_UNIX ||
	    len <= offsetof(struct sockaddr_un, sun_path) ||
	    sun.sun_path[0] == '\0') {
		errno = EAFNOSUPPORT;	/* unnamed or abstract */
		return (NULL);
	}
	/* sun_path need not be NUL-terminated when it fills the field. */
	plen = strnlen(sun.sun_path, len - offsetof(struct sockaddr_un,
	    sun_path));
	return (xstrndup(sun.sun_path, plen));
}

/* Fill n's address from s ('/' path or '@' abstract); -1 + errno. */
static int
sd_notifier_address_set(struct sd_notifier *n, const char *s)
{
	size_t	len = strlen(s);

	memset(&n->sun, 0, sizeof n->sun);
	n->sun.sun_family = AF_UNIX;
	if (s[0] == '@') {
		/* The '@' becomes the leading NUL; no terminator is sent. */
		if (len > sizeof n->sun.sun_path) {
			errno = ENAMETOOLONG;
			return (-1);
		}
		memcpy(n->sun.sun_path + 1, s + 1, len - 1);
		n->len = offsetof(struct sockaddr_un, sun_path) + len;
		return (0);
	}
	if (s[0] != '/') {
		errno = EINVAL;		/* "", relative, "vsock:..." */
		return (-1);
	}
	if (len >= sizeof n->sun.sun_path) {
		errno = ENAMETOOLONG;	/* never truncate silently */
		return (-1);
	}
	memcpy(n->sun.sun_path, s, len);
	n->len = offsetof(struct sockaddr_un, sun_path) + len + 1;
	return (0);
}

struct sd_notifier *
sd_notifier_new(void)
{
	struct sd_notifier	*n;
	const char		*s;
	int			 saved;

	if ((s = getenv("NOTIFY_SOCKET")) == NULL) {
		errno = ENOENT;
		return (NULL);
	}
	n = xcalloc(1, sizeof *n);
	n->fd = -1;
	n->address = xstrdup(s);
	if (sd_notifier_address_set(n, n->address) == -1 ||
	    (n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1) {
		saved = errno;
		sd_notifier_free(n);
		unsetenv("NOTIFY_SOCKET");
		errno = saved;
		return (NULL);
	}
	unsetenv("NOTIFY_SOCKET");
	return (n);
}

void
sd_notifier_free(struct sd_notifier *n)
{
	if (n == NULL)
		return;
	if (n->fd != -1)
		close(n->fd);
	free(n->address);
	free(n);
}

const char *
sd_notifier_address(struct sd_notifier *n)
{
	return (n->address);
}

int
sd_notify_send(struct sd_notifier *n, const char *msg)
{
	if (n == NULL)
		return (0);
	/* The kernel adds our credentials: systemd checks NotifyAccess. */
	if (sendto(n->fd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL,
	    (const struct sockaddr *)&n->sun, n->len) == -1)
		return (-1);
	return (0);
}

int
sd_watchdog_usec(uint64_t *usec)
{
	const char	*s, *p;
	uint64_t	 v = 0, pid;
	int		 rv = -1, saved;

	*usec = 0;
	if ((s = getenv("WATCHDOG_USEC")) == NULL) {
		rv = 0;
		goto out;
	}
	if (sd_parse_u64(s, &v) == -1 || v == 0) {
		errno = EINVAL;
		goto out;
	}
	if ((p = getenv("WATCHDOG_PID")) != NULL) {
		if (sd_parse_u64(p, &pid) == -1 || pid == 0)
			goto out;
		if (pid != (uint64_t)getpid())
			v = 0;		/* another process's watchdog */
	}
	*usec = v;
	rv = 0;
out:
	saved = errno;
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	errno = saved;
	return (rv);
}

bool
sd_journal_stream(int fd)
{
	struct stat		 st;
	const char		*s;
	char			*end;
	unsigned long long	 dev, ino;

	if ((s = getenv("JOURNAL_STREAM")) == NULL || !isdigit((unsigned
	    char)*s))
		return (false);
	dev = strtoull(s, &end, 10);
	if (*end != ':' || !isdigit((unsigned char)end[1]))
		return (false);
	ino = strtoull(end + 1, &end, 10);
	if (*end != '\0' || fstat(fd, &st) == -1)
		return (false);
	return ((unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino);
}
