/* SPDX-License-Identifier: MIT */
/*
 * gt-testchild: a deterministic child for the e2e tests.  It does exactly
 * what its options say, in a fixed order, and then waits: it never relies
 * on timing except for --exit-after-ms, which is a deadline.  Every file it
 * writes appears atomically (tmp + rename), so a test can poll for it.
 *
 * Order of actions (each only when asked):
 *   1. signal dispositions (--ignore-term, --term-exit-code)
 *   2. --check-fds (first, before this program opens anything)
 *   3. --env, --stdout, --stderr, --flood (N lines on stdout, as fast
 *      as the pipe takes them or one every --flood-every-ms; --flood=0
 *      floods forever and goes no further; --flood-line-bytes pads each
 *      line to that many bytes), --append-pid
 *   4. --grandchild, --escape
 *   5. --setattr / --incr, in the order given (one connection each)
 *   6. --pidfile (so the pidfile is the "setup done" cue)
 *   7. --ready-after (wait until that file exists), then, counted from
 *      that cue: --notify-status (STATUS=TEXT at once), --notify-burst
 *      (N short-lived processes of our group, each sending one of
 *      STATUS=, WATCHDOG=1, READY=1 in turn and exiting at once: the
 *      sender is gone before gtd reads the datagram), --ready-fd
 *      (write "\n" to that fd and close it: gtd's ready {"fd":N}) after
 *      --ready-fd-after-ms, READY=1 after --notify-ready-after-ms
 *      (sd_notify on $NOTIFY_SOCKET, '@' = abstract), then
 *      --watchdog-every-ms: WATCHDOG=1 every N ms, --watchdog-count
 *      times (forever if not given)
 *   8. --kill-self (at the --exit-after-ms deadline if one is given)
 *   9. exit after --exit-after-ms (or at once if only --exit-code is
 *      given), else wait for signals forever
 *
 * Exit codes of its own: 64 bad usage, 70 a gtd request or notify
 * datagram failed, 71 a file could not be written.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "gt/client.h"
#include "gt/xmalloc.h"

#define TC_EX_USAGE	64
#define TC_EX_GTD	70
#define TC_EX_FILE	71
#define TC_MAX_OPS	64

extern char	**environ;

/* --notify-fds: descriptors sent along with each notify datagram. */
static long	tc_notify_fds;

/* One --setattr or --incr, kept in command-line order. */
struct tc_op {
	bool		 incr;
	char		*key;
	json_t		*value;		/* owned; NULL for --incr */
};

struct tc_opts {
	long		 exit_after_ms;		/* -1: no deadline */
	int		 exit_code;
	bool		 have_exit_code;
	bool		 ignore_term;
	int		 term_exit_code;	/* -1: default action */
	const char	*grandchild;
	const char	*escape;
	const char	*pidfile;
	const char	*append_pid;
	const char	*check_fds;
	const char	*env;
	const char	*out;
	const char	*err;
	long		 flood;			/* -1: none, 0: forever */
	long		 flood_every_ms;	/* 0: no pause */
	long		 flood_line_bytes;	/* 0: "flood NNNNNN" only */
	long		 notify_burst;		/* short-lived senders */
	const char	*ready_after;
	int		 ready_fd;		/* -1: none */
	long		 ready_fd_after_ms;	/* 0: at once */
	long		 notify_ready_after_ms;	/* -1: never */
	const char	*notify_status;
	long		 watchdog_every_ms;	/* -1: no pings */
	long		 watchdog_count;	/* -1: forever */
	int		 kill_self;		/* 0: none */
	struct tc_op	 ops[TC_MAX_OPS];
	int		 nops;
};

static volatile sig_atomic_t	tc_term_code = -1;

static void	tc_usage(const char *) __attribute__((noreturn));
static long	tc_number(const char *, const char *);
static int	tc_signum(const char *);
static void	tc_parse(struct tc_opts *, int, char **);
static void	tc_write_file(const char *, const char *, size_t);
static void	tc_term_cb(int);
static void	tc_signals(const struct tc_opts *);
static void	tc_check_fds(const char *);
static void	tc_env(const char *);
static void	tc_write_all(int, const char *, size_t);
static void	tc_flood(const struct tc_opts *);
static void	tc_append_pid(const char *);
static void	tc_grandchild(const char *);
static void	tc_escape(const char *);
static void	tc_request(const struct tc_op *);
static void	tc_ready(const struct tc_opts *);
static void	tc_notify(const char *);
static void	tc_notify_burst(long);
static void	tc_sleep_until(const struct timespec *);
static void	tc_deadline(struct timespec *, const struct timespec *, long);
static void	tc_wait(const struct tc_opts *) __attribute__((noreturn));

static void
tc_usage(const char *why)
{
	fprintf(stderr, "gt-testchild: %s\n"
	    "usage: gt-testchild [--exit-after-ms=N] [--exit-code=N] "
	    "[--ignore-term]\n"
	    "\t[--term-exit-code=N] [--grandchild=PATH] [--escape=PATH]\n"
	    "\t[--pidfile=PATH]\n"
	    "\t[--append-pid=PATH] [--setattr=KEY=JSON] [--incr=KEY]\n"
	    "\t[--check-fds=PATH] [--env=PATH] [--kill-self=SIG] "
	    "[--stdout=TEXT]\n"
	    "\t[--stderr=TEXT] [--flood=N] [--flood-every-ms=N]\n"
	    "\t[--flood-line-bytes=N] [--notify-burst=N]\n"
	    "\t[--ready-after=PATH] [--ready-fd=N] [--ready-fd-after-ms=N]\n"
	    "\t[--notify-ready-after-ms=N] [--notify-status=TEXT]\n"
	    "\t[--watchdog-every-ms=N] [--watchdog-count=N] "
	    "[--notify-fds=N]\n", why);
	exit(TC_EX_USAGE);
}

static long
tc_number(const char *opt, const char *s)
{
	char	*end;
	long	 n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || n < 0)
		tc_usage(opt);
	return (n);
}

/* "TERM", "SIGTERM" or "15". */
static int
tc_signum(const char *s)
{
	static const struct {
		const char	*name;
		int		 num;
	} tab[] = {
		{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
		{ "ABRT", SIGABRT }, { "KILL", SIGKILL }, { "SEGV", SIGSEGV },
		{ "TERM", SIGTERM }, { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 },
		{ "STOP", SIGSTOP }, { "CONT", SIGCONT }
	};
	size_t	i;

	if (strncmp(s, "SIG", 3) == 0)
		s += 3;
	for (i = 0; i < sizeof tab / sizeof tab[0]; i++)
		if (strcmp(s, tab[i].name) == 0)
			return (tab[i].num);
	return ((int)tc_number("--kill-self", s));
}

static void
tc_parse(struct tc_opts *o, int argc, char **argv)
{
	const char	*a, *v, *eq;
	int		 i;

	memset(o, 0, sizeof *o);
	o->exit_after_ms = -1;
	o->term_exit_code = -1;
	o->ready_fd = -1;
	o->notify_ready_after_ms = -1;
	o->watchdog_every_ms = -1;
	o->watchdog_count = -1;
	o->flood = -1;
	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (strncmp(a, "--", 2) != 0)
			tc_usage(a);
		v = strchr(a, '=') != NULL ? strchr(a, '=') + 1 : NULL;
#define OPT(s)	(strncmp(a, s "=", sizeof s) == 0)
		if (strcmp(a, "--ignore-term") == 0)
			o->ignore_term = true;
		else if (v == NULL)
			tc_usage(a);
		else if (OPT("--exit-after-ms"))
			o->exit_after_ms = tc_number(a, v);
		else if (OPT("--exit-code")) {
			o->exit_code = (int)tc_number(a, v);
			o->have_exit_code = true;
		} else if (OPT("--term-exit-code"))
			o->term_exit_code = (int)tc_number(a, v);
		else if (OPT("--grandchild"))
			o->grandchild = v;
		else if (OPT("--escape"))
			o->escape = v;
		else if (OPT("--pidfile"))
			o->pidfile = v;
		else if (OPT("--append-pid"))
			o->append_pid = v;
		else if (OPT("--check-fds"))
			o->check_fds = v;
		else if (OPT("--env"))
			o->env = v;
		else if (OPT("--stdout"))
			o->out = v;
		else if (OPT("--stderr"))
			o->err = v;
		else if (OPT("--flood"))
			o->flood = tc_number(a, v);
		else if (OPT("--flood-every-ms"))
			o->flood_every_ms = tc_number(a, v);
		else if (OPT("--flood-line-bytes"))
			o->flood_line_bytes = tc_number(a, v);
		else if (OPT("--notify-burst"))
			o->notify_burst = tc_number(a, v);
		else if (OPT("--ready-after"))
			o->ready_after = v;
		else if (OPT("--ready-fd"))
			o->ready_fd = (int)tc_number(a, v);
		else if (OPT("--ready-fd-after-ms"))
			o->ready_fd_after_ms = tc_number(a, v);
		else if (OPT("--notify-ready-after-ms"))
			o->notify_ready_after_ms = tc_number(a, v);
		else if (OPT("--notify-status"))
			o->notify_status = v;
		else if (OPT("--watchdog-every-ms"))
			o->watchdog_every_ms = tc_number(a, v);
		else if (OPT("--notify-fds")) {
			if ((tc_notify_fds = tc_number(a, v)) > 253)
				tc_usage(a);
		}
		else if (OPT("--watchdog-count"))
			o->watchdog_count = tc_number(a, v);
		else if (OPT("--kill-self"))
			o->kill_self = tc_signum(v);
		else if ((OPT("--setattr") || OPT("--incr")) &&
		    o->nops < TC_MAX_OPS) {
			struct tc_op	*op = &o->ops[o->nops++];

			op->incr = OPT("--incr");
			if (op->incr) {
				op->key = xstrdup(v);
				continue;
			}
			if ((eq = strchr(v, '=')) == NULL)
				tc_usage(a);
			op->key = xstrndup(v, eq - v);
			op->value = json_loads(eq + 1, JSON_DECODE_ANY, NULL);
			if (op->value == NULL)
				tc_usage(a);
		} else
			tc_usage(a);
#undef OPT
	}
}

/* Write path atomically: PATH.tmp.PID, then rename over PATH. */
static void
tc_write_file(const char *path, const char *buf, size_t len)
{
	char	*tmp;
	ssize_t	 n;
	size_t	 off = 0;
	int	 fd;

	xasprintf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	if ((fd = open(tmp, O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0644)) == -1)
		goto fail;
	while (off < len) {
		if ((n = write(fd, buf + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += n;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1)
		goto fail;
	free(tmp);
	return;
fail:
	fprintf(stderr, "gt-testchild: %s: %s\n", path, strerror(errno));
	exit(TC_EX_FILE);
}

static void
tc_term_cb(int sig)
{
	_exit(tc_term_code);
}

static void
tc_signals(const struct tc_opts *o)
{
	struct sigaction	 sa;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	if (o->ignore_term)
		sa.sa_handler = SIG_IGN;
	else if (o->term_exit_code != -1) {
		tc_term_code = o->term_exit_code;
		sa.sa_handler = tc_term_cb;
	} else
		return;
	if (sigaction(SIGTERM, &sa, NULL) == -1) {
		perror("gt-testchild: sigaction");
		exit(TC_EX_USAGE);
	}
}

/*
 * List the open fds as "0 1 2\n", leaving out the one opendir() uses to
 * read /proc/self/fd.
 */
static void
tc_check_fds(const char *path)
{
	struct dirent	*de;
	DIR		*d;
	char		 buf[8192];
	size_t		 len = 0;
	int		 n, fds[512], nfds = 0, i, j, t;

	if ((d = opendir("/proc/self/fd")) == NULL) {
		perror("gt-testchild: /proc/self/fd");
		exit(TC_EX_FILE);
	}
	while ((de = readdir(d)) != NULL && nfds < 512) {
		if (de->d_name[0] == '.')
			continue;
		n = atoi(de->d_name);
		if (n != dirfd(d))
			fds[nfds++] = n;
	}
	closedir(d);
	for (i = 1; i < nfds; i++)	/* sort: readdir order is arbitrary */
		for (j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
			t = fds[j];
			fds[j] = fds[j - 1];
			fds[j - 1] = t;
		}
	for (i = 0; i < nfds && len < sizeof buf - 16; i++)
		len += snprintf(buf + len, sizeof buf - len, "%s%d",
		    i == 0 ? "" : " ", fds[i]);
	buf[len++] = '\n';
	tc_write_file(path, buf, len);
}

/* One "NAME=VALUE" per line. */
static void
tc_env(const char *path)
{
	char	*buf = NULL, *line;
	size_t	 len = 0, n;
	char	**e;

	for (e = environ; *e != NULL; e++) {
		n = strlen(*e);
		buf = xreallocarray(buf, len + n + 2, 1);
		line = buf + len;
		memcpy(line, *e, n);
		line[n] = '\n';
		len += n + 1;
	}
	tc_write_file(path, buf == NULL ? "" : buf, len);
	free(buf);
}

/* Write all of buf to fd (a pipe: partial writes happen). */
static void
tc_write_all(int fd, const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "gt-testchild: write: %s\n",
			    strerror(errno));
			exit(TC_EX_FILE);
		}
		buf += n;
		len -= n;
	}
}

/*
 * --flood=N: lines "flood 000001", "flood 000002"... on stdout, N of them
 * (0: forever), each padded with 'x' to --flood-line-bytes.  Unpaced,
 * they go out in writes of 64 KiB or more, as fast as the reader takes
 * them; with --flood-every-ms, one line per write and period.
 */
static void
tc_flood(const struct tc_opts *o)
{
	struct timespec	 at;
	char		*buf;
	size_t		 len = 0, cap, pad;
	long		 i;
	int		 n;

	pad = o->flood_line_bytes > 0 ? (size_t)o->flood_line_bytes : 0;
	cap = pad + 64 > 65536 ? pad + 64 : 65536;
	buf = xmalloc(cap);
	clock_gettime(CLOCK_MONOTONIC, &at);
	for (i = 1; o->flood == 0 || i <= o->flood; i++) {
		if (cap - len < pad + 64) {
			tc_write_all(STDOUT_FILENO, buf, len);
			len = 0;
		}
		n = snprintf(buf + len, cap - len, "flood %06ld", i);
		if ((size_t)n < pad) {
			memset(buf + len + n, 'x', pad - n);
			n = (int)pad;
		}
		len += n;
		buf[len++] = '\n';
		if (o->flood_every_ms == 0 && cap - len >= pad + 64 &&
		    i != o->flood)
			continue;
		tc_write_all(STDOUT_FILENO, buf, len);
		len = 0;
		if (o->flood_every_ms > 0) {
			tc_deadline(&at, &at, o->flood_every_ms);
			tc_sleep_until(&at);
		}
	}
	free(buf);
}

/* One write with O_APPEND: lines from many incarnations never mix. */
static void
tc_append_pid(const char *path)
{
	char	buf[32];
	int	fd, n;

	n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if ((fd = open(path, O_WRONLY|O_CREAT|O_APPEND|O_CLOEXEC,
	    0644)) == -1 || write(fd, buf, n) != n) {
		fprintf(stderr, "gt-testchild: %s: %s\n", path,
		    strerror(errno));
		exit(TC_EX_FILE);
	}
	close(fd);
}

/*
 * A daemon's double fork: a grandchild in a session of its own (no group
 * kill reaches it), orphaned at once, that ignores SIGTERM and SIGHUP
 * and waits forever; its pid goes to path (written by the grandchild).
 */
static void
tc_escape(const char *path)
{
	char		buf[32];
	sigset_t	none;
	pid_t		pid;
	int		n, st;

	fflush(NULL);
	if ((pid = fork()) == -1) {
		perror("gt-testchild: fork");
		exit(TC_EX_FILE);
	}
	if (pid > 0) {
		(void)waitpid(pid, &st, 0);	/* the middle one exits */
		return;
	}
	if (setsid() == -1 || (pid = fork()) == -1)
		_exit(TC_EX_FILE);
	if (pid > 0)
		_exit(0);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	tc_write_file(path, buf, n);
	for (;;)
		pause();
}

/*
 * A grandchild in our process group that waits forever with default
 * signal dispositions.  It has no PR_SET_PDEATHSIG (fork clears it), so
 * only a group kill reaches it.
 */
static void
tc_grandchild(const char *path)
{
	char		buf[32];
	sigset_t	none;
	pid_t		pid;
	int		n;

	fflush(NULL);
	switch (pid = fork()) {
	case -1:
		perror("gt-testchild: fork");
		exit(TC_EX_FILE);
	case 0:
		signal(SIGTERM, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (;;)
			pause();
	default:
		n = snprintf(buf, sizeof buf, "%ld\n", (long)pid);
		tc_write_file(path, buf, n);
	}
}

/* setattr or increment on our own row, through $GTD_SOCKET. */
static void
tc_request(const struct tc_op *op)
{
	struct client	*c;
	json_t		*req, *rep;
	const char	*sock, *name, *line;
	char		*cause, *s;

	sock = getenv("GTD_SOCKET");
	name = getenv("GTD_NAME");
	if (sock == NULL || name == NULL) {
		fprintf(stderr, "gt-testchild: GTD_SOCKET or GTD_NAME unset\n");
		exit(TC_EX_GTD);
	}
	if ((c = client_connect(sock, &cause)) == NULL) {
		fprintf(stderr, "gt-testchild: %s\n", cause);
		exit(TC_EX_GTD);
	}
	if (op->incr)
		req = json_pack("{s:s, s:s, s:s}", "op", "increment",
		    "name", name, "key", op->key);
	else
		req = json_pack("{s:s, s:s, s:{s:O}}", "op", "setattr",
		    "name", name, "attrs", op->key, op->value);
	s = json_dumps(req, JSON_COMPACT);
	if (client_send(c, s, strlen(s)) == -1 ||
	    (line = client_recv(c, 10000, NULL)) == NULL) {
		fprintf(stderr, "gt-testchild: %s: %s\n", s, strerror(errno));
		exit(TC_EX_GTD);
	}
	rep = json_loads(line, 0, NULL);
	if (rep == NULL || !json_is_true(json_object_get(rep, "ok"))) {
		fprintf(stderr, "gt-testchild: %s -> %s\n", s, line);
		exit(TC_EX_GTD);
	}
	json_decref(rep);
	json_decref(req);
	free(s);
	client_free(c);
}

/* *out = from + ms. */
static void
tc_deadline(struct timespec *out, const struct timespec *from, long ms)
{
	*out = *from;
	out->tv_sec += ms / 1000;
	out->tv_nsec += (ms % 1000) * 1000000L;
	if (out->tv_nsec >= 1000000000L) {
		out->tv_sec++;
		out->tv_nsec -= 1000000000L;
	}
}

/* Sleep until the monotonic clock reaches end (EINTR: sleep on). */
static void
tc_sleep_until(const struct timespec *end)
{
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, end, NULL) ==
	    EINTR)
		continue;
}

/*
 * One sd_notify datagram to $NOTIFY_SOCKET ('@': abstract namespace), on
 * a blocking socket: when gtd's queue is full we wait, we never drop.
 * With --notify-fds=N it also carries N descriptors (SCM_RIGHTS, copies
 * of stdin), as sd_pid_notify_with_fds does.
 */
static void
tc_notify(const char *msg)
{
	struct sockaddr_un	 sun;
	const char		*path = getenv("NOTIFY_SOCKET");
	union {
		struct cmsghdr	 h;
		char		 b[CMSG_SPACE(253 * sizeof(int))];
	}			 cm;
	struct iovec		 iov;
	struct msghdr		 mh;
	socklen_t		 len;
	size_t			 n;
	int			 fd, i, zero = 0;

	if (path == NULL || (n = strlen(path)) == 0 ||
	    n >= sizeof sun.sun_path) {
		fprintf(stderr, "gt-testchild: NOTIFY_SOCKET unset or bad\n");
		exit(TC_EX_GTD);
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, n);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	len = offsetof(struct sockaddr_un, sun_path) + n +
	    (path[0] == '@' ? 0 : 1);
	memset(&mh, 0, sizeof mh);
	iov.iov_base = (void *)(uintptr_t)msg;	/* sendmsg only reads it */
	iov.iov_len = strlen(msg);
	mh.msg_name = &sun;
	mh.msg_namelen = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (tc_notify_fds > 0) {
		memset(&cm, 0, sizeof cm);
		mh.msg_control = &cm;
		mh.msg_controllen = CMSG_SPACE(tc_notify_fds * sizeof(int));
		cm.h.cmsg_level = SOL_SOCKET;
		cm.h.cmsg_type = SCM_RIGHTS;
		cm.h.cmsg_len = CMSG_LEN(tc_notify_fds * sizeof(int));
		for (i = 0; i < tc_notify_fds; i++)
			memcpy(CMSG_DATA(&cm.h) + i * sizeof(int), &zero,
			    sizeof(int));
	}
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1 ||
	    sendmsg(fd, &mh, MSG_NOSIGNAL) == -1) {
		fprintf(stderr, "gt-testchild: notify %s: %s\n", path,
		    strerror(errno));
		exit(TC_EX_GTD);
	}
	close(fd);
}

/*
 * --notify-burst=N: N processes of our group, each sending one datagram
 * (STATUS=, WATCHDOG=1, READY=1 in turn) and exiting at once, so that the
 * sender is gone when gtd reads it.  Reaped here; a failed send is not
 * an error (gtd's queue may be full).
 */
static void
tc_notify_burst(long n)
{
	static const char *const	 msgs[] = { "STATUS=burst",
	    "WATCHDOG=1", "READY=1" };
	pid_t				 pid;
	long				 i;

	fflush(NULL);
	for (i = 0; i < n; i++) {
		if ((pid = fork()) == -1) {
			perror("gt-testchild: fork");
			exit(TC_EX_FILE);
		}
		if (pid == 0) {
			tc_notify(msgs[i % 3]);
			_exit(0);
		}
	}
	while (n-- > 0)
		while (wait(NULL) == -1 && errno == EINTR)
			continue;
}

/*
 * Readiness on cue: wait until ready_after exists (a condition, polled),
 * then tell gtd through the ready fd and/or $NOTIFY_SOCKET, each after
 * its own delay counted from the cue, then ping the watchdog.
 */
static void
tc_ready(const struct tc_opts *o)
{
	struct timespec	 tick = { 0, 2000000L }, cue, at;
	char		*msg;
	long		 i;

	if (o->ready_after != NULL)
		while (access(o->ready_after, F_OK) == -1)
			nanosleep(&tick, NULL);
	clock_gettime(CLOCK_MONOTONIC, &cue);
	if (o->notify_status != NULL) {
		xasprintf(&msg, "STATUS=%s", o->notify_status);
		tc_notify(msg);
		free(msg);
	}
	if (o->notify_burst > 0)
		tc_notify_burst(o->notify_burst);
	if (o->ready_fd != -1) {
		tc_deadline(&at, &cue, o->ready_fd_after_ms);
		tc_sleep_until(&at);
		if (write(o->ready_fd, "\n", 1) != 1) {
			fprintf(stderr, "gt-testchild: ready fd %d: %s\n",
			    o->ready_fd, strerror(errno));
			exit(TC_EX_FILE);
		}
		close(o->ready_fd);
	}
	if (o->notify_ready_after_ms != -1) {
		tc_deadline(&at, &cue, o->notify_ready_after_ms);
		tc_sleep_until(&at);
		tc_notify("READY=1");
	}
	if (o->watchdog_every_ms <= 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &at);
	for (i = 0; o->watchdog_count == -1 || i < o->watchdog_count; i++) {
		tc_deadline(&at, &at, o->watchdog_every_ms);
		tc_sleep_until(&at);
		tc_notify("WATCHDOG=1");
	}
}

/* Exit at the deadline, or wait for signals forever. */
static void
tc_wait(const struct tc_opts *o)
{
	struct timespec	now, end, left;

	if (o->exit_after_ms == -1 && o->have_exit_code)
		exit(o->exit_code);
	if (o->exit_after_ms == -1)
		for (;;)
			pause();
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += o->exit_after_ms / 1000;
	end.tv_nsec += (o->exit_after_ms % 1000) * 1000000L;
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec &&
		    now.tv_nsec >= end.tv_nsec))
			break;
		left.tv_sec = end.tv_sec - now.tv_sec;
		left.tv_nsec = end.tv_nsec - now.tv_nsec;
		if (left.tv_nsec < 0) {
			left.tv_sec--;
			left.tv_nsec += 1000000000L;
		}
		nanosleep(&left, NULL);		/* EINTR: recompute */
	}
	if (o->kill_self != 0)
		raise(o->kill_self);
	exit(o->exit_code);
}

int
main(int argc, char **argv)
{
	struct tc_opts	 o;
	char		 buf[32];
	int		 i, n;

	tc_parse(&o, argc, argv);
	tc_signals(&o);
	if (o.check_fds != NULL)
		tc_check_fds(o.check_fds);
	if (o.env != NULL)
		tc_env(o.env);
	if (o.out != NULL) {
		printf("%s\n", o.out);
		fflush(stdout);
	}
	if (o.err != NULL)
		fprintf(stderr, "%s\n", o.err);
	if (o.flood != -1)
		tc_flood(&o);
	if (o.append_pid != NULL)
		tc_append_pid(o.append_pid);
	if (o.grandchild != NULL)
		tc_grandchild(o.grandchild);
	if (o.escape != NULL)
		tc_escape(o.escape);
	for (i = 0; i < o.nops; i++) {
		tc_request(&o.ops[i]);
		free(o.ops[i].key);
		json_decref(o.ops[i].value);
	}
	if (o.pidfile != NULL) {
		n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
		tc_write_file(o.pidfile, buf, n);
	}
	tc_ready(&o);
	if (o.kill_self != 0 && o.exit_after_ms == -1)
		raise(o.kill_self);
	tc_wait(&o);
}
