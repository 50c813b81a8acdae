/* SPDX-License-Identifier: MIT */
/*
 * harness: start the real gtd on a temporary socket, talk to it through
 * the shared client code, wait on conditions with deadlines, and make
 * sure nothing the test started outlives it.  Contracts in harness.h.
 * The harness does not use libev, so it may waitpid().  It never sleeps
 * to let things settle: every wait is a poll on a condition or an fd
 * with a deadline.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "gt/client.h"
#include "gt/xmalloc.h"
#include "harness.h"

#define E2E_READY_MS	10000		/* gtd start to readiness line */
#define E2E_STOP_MS	10000		/* SIGTERM to exit */
#define E2E_SURVIVOR_MS	3000		/* for children to vanish */
#define E2E_GTCTL_MS	10000		/* one gtctl run */
#define E2E_POLL_MS	5		/* condition polling interval */
#define E2E_MAXPROCS	256

extern char	**environ;

struct e2e_conn {
	struct e2e	*e;		/* weak: the owner */
	struct client	*c;		/* owned */
	long		 next_id;
	char		*last_req;	/* owned: for failure messages */
	struct e2e_conn	*next;
};

/* A program in the background with its stdout on a pipe (e2e_gtctl_bg). */
struct e2e_proc {
	struct e2e	*e;		/* weak: lines are kept there */
	pid_t		 pid;
	int		 fd;		/* owned: its stdout */
	char		 buf[65536];	/* read, not yet a line */
	size_t		 len;
};

struct e2e {
	char		 dir[32];
	char		*sock;		/* owned: DIR/sock */
	char		*log;		/* owned: DIR/gtd.log */
	pid_t		 pid;		/* gtd */
	int		 status;	/* wait(2) status once reaped */
	int		 reaped;
	unsigned long long gone_at;	/* ticks: when reaped */
	int		 expect;	/* exit code, -1 = any */
	int		 stop_ms;
	pid_t		 guard;		/* guardian process */
	int		 guard_fd;	/* write end: 'R' reaped, 'D' done */
	struct e2e_conn	*main;		/* weak: also on conns */
	struct e2e_conn	*conns;		/* owned list */
	json_t		*keep;		/* every reply handed out */
	char		**strs;		/* every string handed out */
	size_t		 nstrs;
	char		*gtctl_sock;	/* owned; NULL = sock */
	const char	*gtctl_err;	/* borrowed from strs */
	int		 has_conf;	/* DIR/gtd.json exists */
	char		**extra;	/* owned copy of the extra arguments */
	int		 nowait;	/* e2e_start_booting: no readiness */
	int		 boot_rfd;	/* its readiness pipe, or -1 */
};

static const char	*e2e_file = "?";
static int		 e2e_line;

static void	e2e_fail(const char *, ...)
		    __attribute__((format(printf, 1, 2), noreturn));
static const char *e2e_keep(struct e2e *, char *);
static int	e2e_pidfd(pid_t);
static char	*e2e_slurp(const char *, size_t *);
static char	*e2e_log_tail(struct e2e *);
static void	e2e_write_file(const char *, const char *);
static struct e2e *e2e_new(void);
static void	e2e_launch(struct e2e *, const char *, const char *const *);
static void	e2e_exec_gtd(struct e2e *, int, const char *const *, int);
static void	e2e_guard_start(struct e2e *);
static void	e2e_guard_run(const char *, pid_t, int)
		    __attribute__((noreturn));
static int	e2e_scan(const char *, pid_t, pid_t, unsigned long long,
		    pid_t *, int);
static unsigned long long e2e_ticks(void);
static int	e2e_rm_cb(const char *, const struct stat *, int,
		    struct FTW *);
static void	e2e_free(struct e2e *);
static struct e2e_conn *e2e_conn_new(struct e2e *);
static json_t	*e2e_vreq(struct e2e_conn *, const char *, const char *,
		    va_list);
static json_t	*e2e_check_ok(struct e2e_conn *, json_t *);
static json_t	*e2e_check_err(struct e2e_conn *, json_t *, const char *);
static char	*e2e_replace(const char *, const char *, const char *);
static char	*e2e_fixture(struct e2e *, const char *);
static void	e2e_booting(struct e2e *, int);
static int	e2e_run(struct e2e *, int, const char *const *, int,
		    const char **, const char **);

void
e2e_at(const char *file, int line)
{
	e2e_file = file;
	e2e_line = line;
	_mark_point(file, line);
}

static void
e2e_fail(const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	_ck_assert_failed(e2e_file, e2e_line, "e2e", "%s",
	    msg != NULL ? msg : fmt);
}

/* Hand s (xmalloc'd) out as a borrowed string, freed by e2e_stop. */
static const char *
e2e_keep(struct e2e *e, char *s)
{
	e->strs = xreallocarray(e->strs, e->nstrs + 1, sizeof *e->strs);
	e->strs[e->nstrs++] = s;
	return (s);
}

long
e2e_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec * 1000L + ts.tv_nsec / 1000000L);
}

long
e2e_slow(long ms)
{
	static long	 slow;
	const char	*s;

	if (slow == 0) {
		s = getenv("E2E_SLOW");
		slow = s != NULL && atol(s) > 0 ? atol(s) : 1;
	}
	return (ms * slow);
}

long
e2e_rss_bound(long kib)
{
#if defined(__SANITIZE_ADDRESS__)
	return (kib + 4L * 1024 * 1024);	/* ASan quarantine and shadow */
#else
	return (getenv("E2E_SLOW") != NULL ? kib + 4L * 1024 * 1024 : kib);
#endif
}

long
e2e_rss_kib(pid_t pid)
{
	char	 path[64], line[256];
	FILE	*f;
	long	 kib = -1;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	ck_assert_ptr_nonnull(f = fopen(path, "re"));
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	ck_assert_int_gt(kib, 0);
	return (kib);
}

int
e2e_raw_connect(struct e2e *e, bool nonblock)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	ck_assert_uint_lt((size_t)snprintf(sun.sun_path, sizeof sun.sun_path,
	    "%s", e2e_sock(e)), sizeof sun.sun_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    (nonblock ? SOCK_NONBLOCK : 0), 0);
	ck_assert_int_ge(fd, 0);
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		ck_assert_msg(nonblock && errno == EAGAIN, "connect: %s",
		    strerror(errno));
		close(fd);
		return (-1);
	}
	return (fd);
}

/* A pidfd (readable once pid has exited), or -1 (ESRCH: already gone). */
static int
e2e_pidfd(pid_t pid)
{
	return ((int)syscall(SYS_pidfd_open, pid, 0));
}

/* Read a whole file into a NUL-terminated xmalloc'd buffer, or NULL. */
static char *
e2e_slurp(const char *path, size_t *lenp)
{
	char	*buf = NULL;
	size_t	 len = 0, cap = 0;
	ssize_t	 n;
	int	 fd;

	if ((fd = open(path, O_RDONLY|O_CLOEXEC)) == -1)
		return (NULL);
	for (;;) {
		if (cap - len < 4096) {
			cap = cap == 0 ? 8192 : cap * 2;
			buf = xreallocarray(buf, cap, 1);
		}
		if ((n = read(fd, buf + len, cap - len - 1)) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return (buf);
}

/* The last 2 KiB of gtd's log, for failure messages. */
static char *
e2e_log_tail(struct e2e *e)
{
	char	*all, *s;
	size_t	 len;

	if ((all = e2e_slurp(e->log, &len)) == NULL)
		return (xstrdup("(no log)"));
	s = xstrdup(len > 2048 ? all + len - 2048 : all);
	free(all);
	return (s);
}

static void
e2e_write_file(const char *path, const char *text)
{
	FILE	*f;

	if ((f = fopen(path, "we")) == NULL || fputs(text, f) == EOF ||
	    fclose(f) == EOF)
		e2e_fail("%s: %s", path, strerror(errno));
}

static struct e2e *
e2e_new(void)
{
	struct e2e	*e;

	e = xcalloc(1, sizeof *e);
	e->pid = e->guard = -1;
	e->guard_fd = -1;
	e->stop_ms = E2E_STOP_MS;
	e->keep = json_array();
	strcpy(e->dir, "/tmp/gtd-XXXXXX");
	if (mkdtemp(e->dir) == NULL)
		e2e_fail("mkdtemp: %s", strerror(errno));
	xasprintf(&e->sock, "%s/sock", e->dir);
	xasprintf(&e->log, "%s/gtd.log", e->dir);
	return (e);
}

struct e2e *
e2e_start_(const char *conf)
{
	return (e2e_start_args_(conf, NULL));
}

struct e2e *
e2e_start_args_(const char *conf, const char *const *extra)
{
	struct e2e	*e = e2e_new();
	const char	*p = conf;
	char		*text = NULL;

	while (p != NULL && (*p == ' ' || *p == '\t' || *p == '\n'))
		p++;
	if (p != NULL && *p != '{')	/* a fixture name, as in E8 */
		conf = text = e2e_fixture(e, conf);
	e2e_launch(e, conf, extra);
	free(text);
	return (e);
}

struct e2e *
e2e_start_json_(json_t *conf)
{
	struct e2e	*e;
	char		*s;

	s = json_dumps(conf, JSON_INDENT(2));
	json_decref(conf);
	e = e2e_start_args_(s, NULL);
	free(s);
	return (e);
}

/* A copy of s with every "from" replaced by "to". */
static char *
e2e_replace(const char *s, const char *from, const char *to)
{
	const char	*p;
	char		*out;
	size_t		 n = 0, fl = strlen(from), tl = strlen(to);

	for (p = s; (p = strstr(p, from)) != NULL; p += fl)
		n++;
	out = xmalloc(strlen(s) + n * tl + 1);
	out[0] = '\0';
	while ((p = strstr(s, from)) != NULL) {
		strncat(out, s, p - s);
		strcat(out, to);
		s = p + fl;
	}
	strcat(out, s);
	return (out);
}

/* The text of fixture $GT_TESTDATA/name with @TESTCHILD@ and @DIR@ set. */
static char *
e2e_fixture(struct e2e *e, const char *name)
{
	const char	*dir;
	char		*path, *raw, *a, *b;

	if ((dir = getenv("GT_TESTDATA")) == NULL)
		dir = "tests/data";
	xasprintf(&path, "%s/%s", dir, name);
	if ((raw = e2e_slurp(path, NULL)) == NULL)
		e2e_fail("%s: %s", path, strerror(errno));
	a = e2e_replace(raw, "@TESTCHILD@", e2e_testchild(e));
	b = e2e_replace(a, "@DIR@", e->dir);
	free(a);
	free(raw);
	free(path);
	return (b);
}

struct e2e *
e2e_start_file_(const char *name)
{
	struct e2e	*e = e2e_new();
	char		*text;

	text = e2e_fixture(e, name);
	e2e_launch(e, text, NULL);
	free(text);
	return (e);
}

/* The forked child: become gtd with stdio redirected and fd 3 = ready. */
static void
e2e_exec_gtd(struct e2e *e, int conf, const char *const *extra, int readyfd)
{
	const char	*argv[64], *gtd;
	char		*cpath, *out;
	sigset_t	 none;
	int		 i = 0, fd, nul;

	setpgid(0, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	xasprintf(&out, "%s/gtd.out", e->dir);
	xasprintf(&cpath, "%s/gtd.json", e->dir);
	if ((nul = open("/dev/null", O_RDONLY)) == -1 ||
	    (fd = open(e->log, O_WRONLY|O_CREAT|O_APPEND, 0644)) == -1 ||
	    dup2(nul, 0) == -1 || dup2(fd, 2) == -1)
		_exit(126);
	if ((fd = open(out, O_WRONLY|O_CREAT|O_APPEND, 0644)) == -1 ||
	    dup2(fd, 1) == -1)
		_exit(126);
	if (readyfd == 3)
		fcntl(3, F_SETFD, 0);
	else if (dup2(readyfd, 3) == -1)
		_exit(126);
	for (fd = 4; fd < 4096; fd++)	/* Check's own fds lack CLOEXEC */
		close(fd);
	gtd = getenv("GTD") != NULL ? getenv("GTD") : "build/gtd";
	argv[i++] = gtd;
	argv[i++] = "-d";
	argv[i++] = "-s";
	argv[i++] = e->sock;
	argv[i++] = "-r";
	argv[i++] = "3";
	if (conf) {
		argv[i++] = "-c";
		argv[i++] = cpath;
	}
	while (extra != NULL && *extra != NULL && i < 62)
		argv[i++] = *extra++;
	argv[i] = NULL;
	execv(gtd, (char *const *)(uintptr_t)argv);
	dprintf(2, "e2e: exec %s: %s\n", gtd, strerror(errno));
	_exit(127);
}

static void
e2e_launch(struct e2e *e, const char *conf, const char *const *extra)
{
	struct pollfd	 pfd;
	char		*tail, buf[64];
	long		 deadline;
	ssize_t		 n;
	int		 rp[2], ready = 0, st, i;

	if (conf != NULL) {
		e2e_write_file(e2e_path(e, "gtd.json"), conf);
		e->has_conf = 1;
	}
	if (extra != NULL && e->extra == NULL) {
		for (i = 0; extra[i] != NULL; i++)
			continue;
		e->extra = xcalloc(i + 1, sizeof *e->extra);
		for (i = 0; extra[i] != NULL; i++)
			e->extra[i] = xstrdup(extra[i]);
	}
	if (pipe2(rp, O_CLOEXEC) == -1)
		e2e_fail("pipe2: %s", strerror(errno));
	fflush(NULL);
	if ((e->pid = fork()) == -1)
		e2e_fail("fork: %s", strerror(errno));
	if (e->pid == 0)
		e2e_exec_gtd(e, e->has_conf, (const char *const *)e->extra,
		    rp[1]);
	close(rp[1]);
	e->reaped = 0;
	if (e->guard == -1)
		e2e_guard_start(e);
	else if (write(e->guard_fd, "P", 1) != 1 ||
	    write(e->guard_fd, &e->pid, sizeof e->pid) != sizeof e->pid)
		e2e_fail("guardian: %s", strerror(errno));

	if (e->nowait) {		/* e2e_start_booting */
		e2e_booting(e, rp[0]);
		return;
	}
	/* s6 readiness: a line on fd 3, or EOF if gtd died first. */
	deadline = e2e_now_ms() + e2e_slow(E2E_READY_MS);
	pfd.fd = rp[0];
	pfd.events = POLLIN;
	while (!ready && e2e_now_ms() < deadline) {
		if (poll(&pfd, 1, (int)(deadline - e2e_now_ms())) <= 0)
			continue;
		if ((n = read(rp[0], buf, sizeof buf)) == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		ready = memchr(buf, '\n', n) != NULL;
	}
	close(rp[0]);
	if (!ready) {
		tail = e2e_log_tail(e);
		if (waitpid(e->pid, &st, WNOHANG) == e->pid) {
			e->reaped = 1;
			e->gone_at = e2e_ticks();
			e->status = st;
			/* (void): the guardian may already be gone */
			(void)!write(e->guard_fd, "R", 1);
		}
		e2e_fail("gtd not ready within %d ms (%s, status 0x%x); "
		    "log %s:\n%s", E2E_READY_MS, e->reaped ? "exited" :
		    "running", e->reaped ? st : 0, e->log, tail);
	}
	e->main = e2e_conn_new(e);
}

/*
 * The guardian outlives a failed test: it waits for EOF on its pipe and,
 * unless the test said 'D' (done, clean), kills gtd (unless told 'R':
 * already reaped) and every process of the test, and keeps the dir.
 */
static void
e2e_guard_start(struct e2e *e)
{
	int	p[2];
	pid_t	pid;

	if (pipe2(p, O_CLOEXEC) == -1)
		e2e_fail("pipe2: %s", strerror(errno));
	fflush(NULL);
	if ((pid = fork()) == -1)
		e2e_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		close(p[1]);
		e2e_guard_run(e->dir, e->pid, p[0]);
	}
	close(p[0]);
	e->guard = pid;
	e->guard_fd = p[1];
}

static void
e2e_guard_run(const char *dir, pid_t gtd, int fd)
{
	pid_t	pids[E2E_MAXPROCS];
	char	c, path[64];
	long	deadline;
	int	i, n, fdi, reaped = 0;
	unsigned long long gone_at = 0;

	setpgid(0, 0);			/* out of reach of Check's killpg */
	for (fdi = 3; fdi < 4096; fdi++)
		if (fdi != fd)
			close(fdi);
	for (;;) {
		n = read(fd, &c, 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (c == 'D')
			_exit(0);
		if (c == 'R') {
			reaped = 1;
			gone_at = e2e_ticks();
		}
		if (c == 'P' && read(fd, &gtd, sizeof gtd) == sizeof gtd)
			reaped = 0;	/* e2e_restart: a new gtd */
	}
	if (!reaped)
		kill(gtd, SIGKILL);
	/*
	 * gtd leads its own process group; a wrapper ($GTD=strace ...) may
	 * have forked the real gtd into it.  ESRCH once the group is empty.
	 */
	kill(-gtd, SIGKILL);
	deadline = e2e_now_ms() + e2e_slow(E2E_SURVIVOR_MS);
	do {
		n = e2e_scan(dir, gtd, reaped ? -1 : gtd, reaped ? gone_at :
		    0, pids, E2E_MAXPROCS);
		for (i = 0; i < n; i++)
			kill(pids[i], SIGKILL);
		if (n > 0)
			poll(NULL, 0, E2E_POLL_MS);
	} while (n > 0 && e2e_now_ms() < deadline);
	snprintf(path, sizeof path, "%s/gtd.log", dir);
	dprintf(2, "e2e: test failed; kept %s (gtd log: %s)\n", dir, path);
	_exit(0);
}

/* Now, in clock ticks after boot (/proc/PID/stat's starttime). */
static unsigned long long
e2e_ticks(void)
{
	struct timespec	ts;
	long		hz = sysconf(_SC_CLK_TCK);

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ((unsigned long long)ts.tv_sec * hz +
	    (unsigned long long)ts.tv_nsec / (1000000000 / hz));
}

/*
 * Live (non-zombie) processes other than us and skip whose environ has
 * GTD_SOCKET=DIR/... (the children of this test's gtd and their own
 * children) or that are in process group pgrp (gtd leads it: a $GTD
 * wrapper's gtd, children with kill_group false) and started before
 * gone_at (ticks; 0: no bound): once gtd is reaped its pid, and so a
 * group of that number, may be anyone's.
 */
static int
e2e_scan(const char *dir, pid_t pgrp, pid_t skip, unsigned long long gone_at,
    pid_t *pids, int max)
{
	unsigned long long	 born;
	struct dirent	*de;
	DIR		*d;
	char		 path[64], key[64], *buf, *p, *rp;
	size_t		 len, kl;
	pid_t		 pid;
	int		 n = 0, pg;

	kl = snprintf(key, sizeof key, "GTD_SOCKET=%s/", dir);
	if ((d = opendir("/proc")) == NULL)
		return (0);
	while ((de = readdir(d)) != NULL && n < max) {
		if ((pid = (pid_t)atoi(de->d_name)) <= 0 || pid == getpid() ||
		    pid == skip)
			continue;
		snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
		if ((buf = e2e_slurp(path, NULL)) == NULL)
			continue;
		rp = strrchr(buf, ')');
		if (rp == NULL || rp[1] == '\0' || rp[2] == 'Z' ||
		    rp[2] == 'X') {
			free(buf);
			continue;
		}
		/* ") S ppid pgrp ... starttime" */
		if (sscanf(rp + 2, "%*c %*d %d %*d %*d %*d %*u %*u %*u %*u %*u "
		    "%*u %*u %*d %*d %*d %*d %*d %*d %llu", &pg, &born) == 2 &&
		    pg == pgrp && (gone_at == 0 || born <= gone_at)) {
			free(buf);
			pids[n++] = pid;
			continue;
		}
		free(buf);
		snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
		if ((buf = e2e_slurp(path, &len)) == NULL)
			continue;
		for (p = buf; p < buf + len; p += strlen(p) + 1)
			if (strncmp(p, key, kl) == 0) {
				pids[n++] = pid;
				break;
			}
		free(buf);
	}
	closedir(d);
	return (n);
}

int
e2e_survivors(struct e2e *e, pid_t *pids, int max)
{
	return (e2e_scan(e->dir, e->pid, e->reaped ? -1 : e->pid,
	    e->reaped ? e->gone_at : 0, pids, max));
}

bool
e2e_wait_exit(struct e2e *e, int ms, int *status)
{
	struct pollfd	pfd;
	long		deadline = e2e_now_ms() + e2e_slow(ms);
	int		st, pfdfd;

	if (e->reaped) {
		if (status != NULL)
			*status = e->status;
		return (true);
	}
	pfdfd = e2e_pidfd(e->pid);
	for (;;) {
		if (waitpid(e->pid, &st, WNOHANG) == e->pid) {
			e->reaped = 1;
			e->gone_at = e2e_ticks();
			e->status = st;
			break;
		}
		if (e2e_now_ms() >= deadline)
			break;
		pfd.fd = pfdfd;
		pfd.events = POLLIN;
		if (pfdfd == -1 || poll(&pfd, 1,
		    (int)(deadline - e2e_now_ms())) == -1)
			poll(NULL, 0, E2E_POLL_MS);
	}
	if (pfdfd != -1)
		close(pfdfd);
	if (e->reaped && e->guard_fd != -1 &&
	    write(e->guard_fd, "R", 1) != 1)
		e2e_fail("guardian: %s", strerror(errno));
	if (e->reaped && status != NULL)
		*status = e->status;
	return (e->reaped);
}

static int
e2e_rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
	return (remove(path));
}

static void
e2e_free(struct e2e *e)
{
	struct e2e_conn	*cn;
	size_t		 i;

	while ((cn = e->conns) != NULL) {
		e->conns = cn->next;
		client_free(cn->c);
		free(cn->last_req);
		free(cn);
	}
	for (i = 0; i < e->nstrs; i++)
		free(e->strs[i]);
	free(e->strs);
	json_decref(e->keep);
	free(e->sock);
	free(e->log);
	free(e->gtctl_sock);
	for (i = 0; e->extra != NULL && e->extra[i] != NULL; i++)
		free(e->extra[i]);
	free(e->extra);
	free(e);
}

void
e2e_stop_(struct e2e *e)
{
	struct e2e_conn	*cn;
	pid_t		 pids[E2E_MAXPROCS];
	char		*why = NULL, *tail, path[64], *cmd, *list = NULL;
	long		 deadline;
	int		 st, n, i;

	for (cn = e->conns; cn != NULL; cn = cn->next) {
		client_free(cn->c);
		cn->c = NULL;
	}
	if (!e->reaped) {
		kill(e->pid, SIGTERM);
		if (!e2e_wait_exit(e, e->stop_ms, &st)) {
			kill(e->pid, SIGKILL);
			e2e_wait_exit(e, E2E_STOP_MS, &st);
			xasprintf(&why, "gtd did not exit within %d ms of "
			    "SIGTERM", e->stop_ms);
		}
	}
	st = e->status;
	if (why == NULL && e->expect != -1 &&
	    (!WIFEXITED(st) || WEXITSTATUS(st) != e->expect))
		xasprintf(&why, "gtd exited with status 0x%x (%s %d), want "
		    "exit %d", st, WIFEXITED(st) ? "exit" : "signal",
		    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), e->expect);

	/* Nothing of the test may survive gtd (reaped zombies excepted). */
	deadline = e2e_now_ms() + e2e_slow(E2E_SURVIVOR_MS);
	while ((n = e2e_survivors(e, pids, E2E_MAXPROCS)) > 0 &&
	    e2e_now_ms() < deadline)
		poll(NULL, 0, E2E_POLL_MS);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pids[i]);
		cmd = e2e_slurp(path, NULL);
		xasprintf(&tail, "%s %d (%s)", list == NULL ? "" : list,
		    (int)pids[i], cmd != NULL ? cmd : "?");
		free(cmd);
		free(list);
		list = tail;
		kill(pids[i], SIGKILL);
	}
	if (n > 0 && why == NULL)
		xasprintf(&why, "%d process(es) survived gtd:%s", n, list);
	if (why != NULL) {
		tail = e2e_log_tail(e);
		e2e_fail("%s; kept %s, log %s:\n%s", why, e->dir, e->log,
		    tail);
	}
	e2e_cgroup_clean(e->sock);	/* a killed gtd's base cgroup */
	nftw(e->dir, e2e_rm_cb, 16, FTW_DEPTH|FTW_PHYS);
	if (write(e->guard_fd, "D", 1) != 1)
		e2e_fail("guardian: %s", strerror(errno));
	close(e->guard_fd);
	waitpid(e->guard, &st, 0);
	e2e_free(e);
}

void
e2e_expect_exit(struct e2e *e, int code)
{
	e->expect = code;
}

void
e2e_set_stop_ms(struct e2e *e, int ms)
{
	e->stop_ms = ms;
}

const char *
e2e_dir(struct e2e *e)
{
	return (e->dir);
}

const char *
e2e_sock(struct e2e *e)
{
	return (e->sock);
}

pid_t
e2e_pid(struct e2e *e)
{
	return (e->pid);
}

const char *
e2e_path(struct e2e *e, const char *name)
{
	char	*s;

	xasprintf(&s, "%s/%s", e->dir, name);
	return (e2e_keep(e, s));
}

const char *
e2e_fmt(struct e2e *e, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		e2e_fail("vasprintf: %s", strerror(errno));
	va_end(ap);
	return (e2e_keep(e, s));
}

const char *
e2e_testchild(struct e2e *e)
{
	static char	 path[PATH_MAX];
	const char	*p;

	if (path[0] != '\0')
		return (path);
	if ((p = getenv("GT_TESTCHILD")) == NULL)
		p = "build/gt-testchild";
	if (realpath(p, path) == NULL)
		e2e_fail("GT_TESTCHILD %s: %s", p, strerror(errno));
	return (path);
}

json_t *
e2e_cmd(const char *arg, ...)
{
	va_list	 ap;
	json_t	*a;

	a = json_array();
	json_array_append_new(a, json_string(e2e_testchild(NULL)));
	va_start(ap, arg);
	for (; arg != NULL; arg = va_arg(ap, const char *))
		json_array_append_new(a, json_string(arg));
	va_end(ap);
	return (a);
}

/* Connections. */

static struct e2e_conn *
e2e_conn_new(struct e2e *e)
{
	struct e2e_conn	*cn;
	char		*cause;

	cn = xcalloc(1, sizeof *cn);
	cn->e = e;
	if ((cn->c = client_connect(e->sock, &cause)) == NULL)
		e2e_fail("connect: %s", cause);
	cn->next = e->conns;
	e->conns = cn;
	return (cn);
}

struct e2e_conn *
e2e_client_(struct e2e *e)
{
	return (e2e_conn_new(e));
}

struct e2e_conn *
e2e_main(struct e2e *e)
{
	return (e->main);
}

int
e2e_conn_fd(struct e2e_conn *cn)
{
	return (cn->c != NULL ? client_fd(cn->c) : -1);
}

void
e2e_conn_close(struct e2e_conn *cn)
{
	client_free(cn->c);
	cn->c = NULL;
}

size_t
e2e_send_raw(struct e2e_conn *cn, const void *buf, size_t len)
{
	struct pollfd	 pfd;
	const char	*p = buf;
	size_t		 off = 0;
	ssize_t		 n;

	if (cn->c == NULL)
		e2e_fail("send on a closed connection");
	pfd.fd = client_fd(cn->c);
	pfd.events = POLLOUT;
	while (off < len) {
		n = send(pfd.fd, p + off, len - off, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			if (poll(&pfd, 1, (int)e2e_slow(E2E_REPLY_MS)) <= 0)
				break;
			continue;
		}
		if (n == -1)
			break;
		off += n;
	}
	return (off);
}

void
e2e_send_line(struct e2e_conn *cn, const char *line)
{
	if (cn->c == NULL)
		e2e_fail("send on a closed connection");
	free(cn->last_req);
	cn->last_req = xstrdup(line);
	if (client_send(cn->c, line, strlen(line)) == -1)
		e2e_fail("send %s: %s", line, strerror(errno));
}

const char *
e2e_recv_line(struct e2e_conn *cn, int ms)
{
	const char	*line;
	size_t		 len;

	if (cn->c == NULL)
		e2e_fail("recv on a closed connection");
	if ((line = client_recv(cn->c, (int)e2e_slow(ms), &len)) == NULL)
		return (NULL);
	return (e2e_keep(cn->e, xstrndup(line, len)));
}

json_t *
e2e_recv_(struct e2e_conn *cn, int ms)
{
	const char	*line;
	json_error_t	 je;
	json_t		*j;

	if ((line = e2e_recv_line(cn, ms)) == NULL)
		e2e_fail("no reply within %d ms to %s: %s", ms,
		    cn->last_req != NULL ? cn->last_req : "?",
		    strerror(errno));
	/* A key twice in a reply is a bug of gtd's, never a client's. */
	if ((j = json_loads(line, JSON_REJECT_DUPLICATES, &je)) == NULL ||
	    !json_is_object(j))
		e2e_fail("reply is not a JSON object: %s (%s)", line, je.text);
	json_array_append_new(cn->e->keep, j);
	return (j);
}

json_t *
e2e_next_event(struct e2e_conn *cn, const char *name, const char *kind,
    int ms)
{
	long		 deadline = e2e_now_ms() + e2e_slow(ms), left;
	const char	*line;
	size_t		 len;
	json_t		*j, *k, *n;

	if (cn->c == NULL)
		e2e_fail("recv on a closed connection");
	for (;;) {
		if ((left = deadline - e2e_now_ms()) < 0)
			left = 0;
		if ((line = client_recv(cn->c, (int)left, &len)) == NULL)
			return (NULL);
		if ((j = json_loadb(line, len, 0, NULL)) == NULL)
			e2e_fail("not an event: %.*s", (int)len, line);
		json_array_append_new(cn->e->keep, j);
		k = json_object_get(j, "event");
		n = json_object_get(j, "name");
		if (!json_is_string(k))
			e2e_fail("not an event: %.*s", (int)len, line);
		if ((kind == NULL || strcmp(json_string_value(k), kind) == 0) &&
		    (name == NULL || (json_is_string(n) &&
		    strcmp(json_string_value(n), name) == 0)))
			return (j);
	}
}

const char *
e2e_drain_events(struct e2e_conn *cn, int ms)
{
	const char	*s = "";
	json_t		*ev;
	int		 i;

	e2e_send_line(cn, "{\"id\":\"barrier\",\"op\":\"ping\"}");
	for (i = 0; i < 100000; i++) {
		ev = e2e_recv(cn, ms);
		if (json_object_get(ev, "event") == NULL) {
			if (!json_is_string(json_object_get(ev, "id")) ||
			    strcmp(json_string_value(json_object_get(ev, "id")),
			    "barrier") != 0)
				e2e_fail("not the barrier's reply: %s",
				    e2e_dump(cn->e, ev));
			return (s);
		}
		s = e2e_fmt(cn->e, "%s%s%s:%s", s, *s == '\0' ? "" : " ",
		    e2e_str(ev, "event"), e2e_str(ev, "name"));
	}
	e2e_fail("no barrier reply after 100000 events");
	return (NULL);
}

void
e2e_start_give_up(struct e2e *e, const char *name, const char *action)
{
	e2e_ok(e, "start_child", "{s:s, s:o, s:i, s:i, s:i, s:s}",
	    "name", name, "cmd", e2e_cmd("--exit-after-ms=30",
	    "--exit-code=1", e2e_fmt(e, "--append-pid=%s", e2e_path(e, name)),
	    NULL), "restart_delay_ms", 20, "max_restarts", 2,
	    "max_period_ms", 60000, "on_give_up", action);
}

bool
e2e_closed(struct e2e_conn *cn, int ms)
{
	if (cn->c == NULL)
		e2e_fail("recv on a closed connection");
	if (client_recv(cn->c, (int)e2e_slow(ms), NULL) != NULL)
		return (false);
	return (errno != ETIMEDOUT);
}

/* Requests. */

static json_t *
e2e_vreq(struct e2e_conn *cn, const char *op, const char *fmt, va_list ap)
{
	json_error_t	 je;
	json_t		*req, *args, *rep, *id;
	char		*line;

	req = json_object();
	id = json_integer(++cn->next_id);
	json_object_set(req, "id", id);
	json_object_set_new(req, "op", json_string(op));
	if (fmt != NULL) {
		if ((args = json_vpack_ex(&je, 0, fmt, ap)) == NULL)
			e2e_fail("json_pack %s: %s", fmt, je.text);
		json_object_update(req, args);
		json_decref(args);
	}
	line = json_dumps(req, JSON_COMPACT);
	e2e_send_line(cn, line);
	rep = e2e_recv_(cn, E2E_REPLY_MS);
	if (!json_equal(json_object_get(rep, "id"), id))
		e2e_fail("%s -> %s: id not echoed", line,
		    e2e_dump(cn->e, rep));
	free(line);
	json_decref(id);
	json_decref(req);
	return (rep);
}

static json_t *
e2e_check_ok(struct e2e_conn *cn, json_t *rep)
{
	if (!json_is_true(json_object_get(rep, "ok")))
		e2e_fail("%s -> %s: want ok", cn->last_req,
		    e2e_dump(cn->e, rep));
	return (rep);
}

static json_t *
e2e_check_err(struct e2e_conn *cn, json_t *rep, const char *code)
{
	json_t	*err = json_object_get(rep, "error");

	if (!json_is_false(json_object_get(rep, "ok")) ||
	    !json_is_string(err) || strcmp(json_string_value(err), code) != 0)
		e2e_fail("%s -> %s: want error %s", cn->last_req,
		    e2e_dump(cn->e, rep), code);
	if (!json_is_string(json_object_get(rep, "message")))
		e2e_fail("%s -> %s: error without a message", cn->last_req,
		    e2e_dump(cn->e, rep));
	return (rep);
}

json_t *
e2e_req_(struct e2e *e, const char *op, const char *fmt, ...)
{
	va_list	 ap;
	json_t	*rep;

	va_start(ap, fmt);
	rep = e2e_vreq(e->main, op, fmt, ap);
	va_end(ap);
	return (rep);
}

json_t *
e2e_ok_(struct e2e *e, const char *op, const char *fmt, ...)
{
	va_list	 ap;
	json_t	*rep;

	va_start(ap, fmt);
	rep = e2e_vreq(e->main, op, fmt, ap);
	va_end(ap);
	return (e2e_check_ok(e->main, rep));
}

json_t *
e2e_err_(struct e2e *e, const char *code, const char *op, const char *fmt,
    ...)
{
	va_list	 ap;
	json_t	*rep;

	va_start(ap, fmt);
	rep = e2e_vreq(e->main, op, fmt, ap);
	va_end(ap);
	return (e2e_check_err(e->main, rep, code));
}

json_t *
e2e_creq_(struct e2e_conn *cn, const char *op, const char *fmt, ...)
{
	va_list	 ap;
	json_t	*rep;

	va_start(ap, fmt);
	rep = e2e_vreq(cn, op, fmt, ap);
	va_end(ap);
	return (rep);
}

json_t *
e2e_cok_(struct e2e_conn *cn, const char *op, const char *fmt, ...)
{
	va_list	 ap;
	json_t	*rep;

	va_start(ap, fmt);
	rep = e2e_vreq(cn, op, fmt, ap);
	va_end(ap);
	return (e2e_check_ok(cn, rep));
}

json_t *
e2e_cerr_(struct e2e_conn *cn, const char *code, const char *op,
    const char *fmt, ...)
{
	va_list	 ap;
	json_t	*rep;

	va_start(ap, fmt);
	rep = e2e_vreq(cn, op, fmt, ap);
	va_end(ap);
	return (e2e_check_err(cn, rep, code));
}

pid_t
e2e_spawn_(struct e2e *e, const char *name, ...)
{
	va_list		 ap;
	const char	*arg;
	json_t		*cmd, *rep;

	cmd = e2e_cmd(NULL);
	va_start(ap, name);
	while ((arg = va_arg(ap, const char *)) != NULL)
		json_array_append_new(cmd, json_string(arg));
	va_end(ap);
	rep = e2e_ok_(e, "start_child", "{s:s, s:o}", "name", name, "cmd", cmd);
	return ((pid_t)e2e_int_(rep, "pid"));
}

const char *
e2e_ready_arg(struct e2e *e, const char *name)
{
	return (e2e_fmt(e, "--pidfile=%s/%s.ready", e->dir, name));
}

pid_t
e2e_wait_ready_(struct e2e *e, const char *name)
{
	return (e2e_read_pid_(e, e2e_fmt(e, "%s/%s.ready", e->dir, name),
	    5000));
}

/* Conditions. */

json_t *
e2e_row(struct e2e *e, const char *name)
{
	json_t	*rep, *rows, *row;
	size_t	 i;

	rep = e2e_ok_(e, "which_children", NULL);
	if (!json_is_array(rows = json_object_get(rep, "children")))
		e2e_fail("which_children -> %s: no children array",
		    e2e_dump(e, rep));
	json_array_foreach(rows, i, row)
		if (json_is_string(json_object_get(row, "name")) &&
		    strcmp(json_string_value(json_object_get(row, "name")),
		    name) == 0)
			return (row);
	return (NULL);
}

bool
e2e_wait_state(struct e2e *e, const char *name, const char *state, int ms)
{
	long	 deadline = e2e_now_ms() + e2e_slow(ms);
	json_t	*row, *st;

	for (;;) {
		row = e2e_row(e, name);
		st = row != NULL ? json_object_get(row, "state") : NULL;
		if (json_is_string(st) && strcmp(json_string_value(st),
		    state) == 0)
			return (true);
		if (e2e_now_ms() >= deadline)
			return (false);
		poll(NULL, 0, E2E_POLL_MS);
	}
}

pid_t
e2e_wait_restarted(struct e2e *e, const char *name, pid_t old, int ms)
{
	long	 deadline = e2e_now_ms() + e2e_slow(ms);
	json_t	*row, *st, *pid;

	for (;;) {
		row = e2e_row(e, name);
		st = row != NULL ? json_object_get(row, "state") : NULL;
		pid = row != NULL ? json_object_get(row, "pid") : NULL;
		if (json_is_string(st) && strcmp(json_string_value(st),
		    "running") == 0 && json_is_integer(pid) &&
		    json_integer_value(pid) != old)
			return ((pid_t)json_integer_value(pid));
		if (e2e_now_ms() >= deadline)
			return (-1);
		poll(NULL, 0, E2E_POLL_MS);
	}
}

bool
e2e_wait_absent(struct e2e *e, const char *name, int ms)
{
	long	deadline = e2e_now_ms() + e2e_slow(ms);

	for (;;) {
		if (e2e_row(e, name) == NULL)
			return (true);
		if (e2e_now_ms() >= deadline)
			return (false);
		poll(NULL, 0, E2E_POLL_MS);
	}
}

json_int_t
e2e_conns(struct e2e *e)
{
	return (e2e_int_(e2e_ok_(e, "stats", NULL), "connections"));
}

bool
e2e_wait_conns(struct e2e *e, json_int_t n, int ms)
{
	long	deadline = e2e_now_ms() + e2e_slow(ms);

	for (;;) {
		if (e2e_conns(e) == n)
			return (true);
		if (e2e_now_ms() >= deadline)
			return (false);
		poll(NULL, 0, E2E_POLL_MS);
	}
}

static bool
e2e_file_exists(void *path)
{
	struct stat	sb;

	return (stat(path, &sb) == 0);
}

bool
e2e_wait_file(const char *path, int ms)
{
	return (e2e_wait_until(ms, e2e_file_exists, (void *)(uintptr_t)path));
}

const char *
e2e_read_file_(struct e2e *e, const char *path, int ms)
{
	char	*s;

	if (!e2e_wait_file(path, ms))
		e2e_fail("%s did not appear within %d ms", path, ms);
	if ((s = e2e_slurp(path, NULL)) == NULL)
		e2e_fail("%s: %s", path, strerror(errno));
	return (e2e_keep(e, s));
}

pid_t
e2e_read_pid_(struct e2e *e, const char *path, int ms)
{
	const char	*s;
	long		 pid;

	/* A file appended to exists before its line is written: wait for it. */
	if (!e2e_wait_lines(path, 1, ms))
		e2e_fail("%s: no complete line within %d ms", path, ms);
	s = e2e_read_file_(e, path, ms);
	pid = strtol(s, NULL, 10);
	if (pid <= 0)
		e2e_fail("%s: bad pid \"%s\"", path, s);
	return ((pid_t)pid);
}

bool
e2e_wait_lines(const char *path, int n, int ms)
{
	long	deadline = e2e_now_ms() + e2e_slow(ms);

	for (;;) {
		if (e2e_count_lines(path) >= n)
			return (true);
		if (e2e_now_ms() >= deadline)
			return (false);
		poll(NULL, 0, E2E_POLL_MS);
	}
}

int
e2e_count_lines(const char *path)
{
	char	*s, *p;
	int	 n = 0;

	if ((s = e2e_slurp(path, NULL)) == NULL)
		return (-1);
	for (p = s; *p != '\0'; p++)
		n += *p == '\n';
	free(s);
	return (n);
}

bool
e2e_pid_alive(pid_t pid)
{
	char	 path[64], *buf, *rp;
	bool	 alive;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((buf = e2e_slurp(path, NULL)) == NULL)
		return (false);
	rp = strrchr(buf, ')');
	alive = rp != NULL && rp[1] != '\0' && rp[2] != 'Z' && rp[2] != 'X';
	free(buf);
	return (alive);
}

bool
e2e_wait_dead(pid_t pid, int ms)
{
	struct pollfd	pfd;
	long		deadline = e2e_now_ms() + e2e_slow(ms);
	int		fd;

	if ((fd = e2e_pidfd(pid)) == -1) {
		if (errno == ESRCH)
			return (true);
		while (e2e_pid_alive(pid) && e2e_now_ms() < deadline)
			poll(NULL, 0, E2E_POLL_MS);
		return (!e2e_pid_alive(pid));
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (poll(&pfd, 1, (int)(deadline - e2e_now_ms())) == -1 &&
	    errno == EINTR && e2e_now_ms() < deadline)
		continue;
	close(fd);
	return (!e2e_pid_alive(pid));
}

/* gtctl. */

void
e2e_gtctl_socket(struct e2e *e, const char *path)
{
	free(e->gtctl_sock);
	e->gtctl_sock = path != NULL ? xstrdup(path) : NULL;
}

const char *
e2e_gtctl_stderr(struct e2e *e)
{
	return (e->gtctl_err != NULL ? e->gtctl_err : "");
}

/*
 * A child's environment: ours without GTD_SOCKET, plus (when sock)
 * *sockenv = "GTD_SOCKET=" gtd's socket or e->gtctl_sock, which the
 * caller frees after the fork.  envp has room for max pointers.
 */
static void
e2e_child_env(struct e2e *e, int sock, char **envp, int max, char **sockenv)
{
	int	i, j;

	xasprintf(sockenv, "GTD_SOCKET=%s",
	    e->gtctl_sock != NULL ? e->gtctl_sock : e->sock);
	for (i = j = 0; environ[i] != NULL && j < max - 2; i++)
		if (strncmp(environ[i], "GTD_SOCKET=", 11) != 0)
			envp[j++] = environ[i];
	if (sock)
		envp[j++] = *sockenv;
	envp[j] = NULL;
}

/*
 * Run prog with argv (argv[0] included), stdin /dev/null, for at most ms;
 * with sock set, GTD_SOCKET points at gtd's socket (or e->gtctl_sock).
 * Returns the exit status (128+N for signal N); *out and *err (may be
 * NULL) get stdout and stderr, borrowed.
 */
static int
e2e_run(struct e2e *e, int ms, const char *const *argv, int sock,
    const char **out, const char **err)
{
	struct pollfd	 pfd[2];
	char		*envp[512], *sockenv, *buf[2], rd[4096];
	size_t		 len[2] = { 0, 0 };
	long		 deadline;
	ssize_t		 n;
	pid_t		 pid;
	int		 po[2], pe[2], i, st, nopen = 2;

	e2e_child_env(e, sock, envp, 512, &sockenv);
	if (pipe2(po, O_CLOEXEC) == -1 || pipe2(pe, O_CLOEXEC) == -1)
		e2e_fail("pipe2: %s", strerror(errno));
	fflush(NULL);
	if ((pid = fork()) == -1)
		e2e_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		if ((i = open("/dev/null", O_RDONLY)) == -1 ||
		    dup2(i, 0) == -1 || dup2(po[1], 1) == -1 ||
		    dup2(pe[1], 2) == -1)
			_exit(126);
		execve(argv[0], (char *const *)(uintptr_t)argv, envp);
		dprintf(2, "e2e: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	free(sockenv);
	close(po[1]);
	close(pe[1]);
	buf[0] = xstrdup("");
	buf[1] = xstrdup("");
	pfd[0].fd = po[0];
	pfd[1].fd = pe[0];
	pfd[0].events = pfd[1].events = POLLIN;
	deadline = e2e_now_ms() + e2e_slow(ms);
	while (nopen > 0 && e2e_now_ms() < deadline) {
		if (poll(pfd, 2, (int)(deadline - e2e_now_ms())) <= 0)
			continue;
		for (i = 0; i < 2; i++) {
			if (pfd[i].fd == -1 || pfd[i].revents == 0)
				continue;
			if ((n = read(pfd[i].fd, rd, sizeof rd)) > 0) {
				buf[i] = xreallocarray(buf[i], len[i] + n + 1,
				    1);
				memcpy(buf[i] + len[i], rd, n);
				len[i] += n;
				buf[i][len[i]] = '\0';
			} else if (n == 0 || errno != EINTR) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
				nopen--;
			}
		}
	}
	if (nopen > 0)
		kill(pid, SIGKILL);
	for (i = 0; i < 2; i++)
		if (pfd[i].fd != -1)
			close(pfd[i].fd);
	waitpid(pid, &st, 0);
	if (nopen > 0)
		e2e_fail("%s did not finish within %d ms; stderr: %s",
		    argv[0], ms, buf[1]);
	e2e_keep(e, buf[0]);
	e2e_keep(e, buf[1]);
	if (out != NULL)
		*out = buf[0];
	if (err != NULL)
		*err = buf[1];
	return (WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

int
e2e_gtctl_(struct e2e *e, const char **out, ...)
{
	va_list		 ap;
	const char	*argv[64], *arg;
	int		 i;

	argv[0] = getenv("GTCTL") != NULL ? getenv("GTCTL") : "build/gtctl";
	va_start(ap, out);
	for (i = 1; i < 63 && (arg = va_arg(ap, const char *)) != NULL; i++)
		argv[i] = arg;
	va_end(ap);
	argv[i] = NULL;
	return (e2e_run(e, E2E_GTCTL_MS, argv, 1, out, &e->gtctl_err));
}

struct e2e_proc *
e2e_gtctl_bg_(struct e2e *e, ...)
{
	struct e2e_proc	*p;
	va_list		 ap;
	const char	*argv[64], *arg;
	char		*envp[512], *sockenv;
	int		 fds[2], err, i;

	argv[0] = getenv("GTCTL") != NULL ? getenv("GTCTL") : "build/gtctl";
	va_start(ap, e);
	for (i = 1; i < 63 && (arg = va_arg(ap, const char *)) != NULL; i++)
		argv[i] = arg;
	va_end(ap);
	argv[i] = NULL;
	e2e_child_env(e, 1, envp, 512, &sockenv);
	if (pipe2(fds, O_CLOEXEC) == -1 || (err = open(e2e_path(e,
	    "gtctl.err"), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0644)) == -1)
		e2e_fail("gtctl: pipe or gtctl.err: %s", strerror(errno));
	p = xcalloc(1, sizeof *p);
	p->e = e;
	fflush(NULL);
	if ((p->pid = fork()) == -1)
		e2e_fail("fork: %s", strerror(errno));
	if (p->pid == 0) {
		if ((i = open("/dev/null", O_RDONLY)) == -1 ||
		    dup2(i, 0) == -1 || dup2(fds[1], 1) == -1 ||
		    dup2(err, 2) == -1)
			_exit(126);
		execve(argv[0], (char *const *)(uintptr_t)argv, envp);
		dprintf(2, "e2e: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	free(sockenv);
	close(fds[1]);
	close(err);
	p->fd = fds[0];
	return (p);
}

const char *
e2e_proc_line(struct e2e_proc *p, int ms)
{
	struct pollfd	 pfd = { .fd = p->fd, .events = POLLIN };
	long		 deadline = e2e_now_ms() + e2e_slow(ms);
	const char	*line;
	char		*nl;
	ssize_t		 n;

	for (;;) {
		if ((nl = memchr(p->buf, '\n', p->len)) != NULL) {
			line = e2e_fmt(p->e, "%.*s", (int)(nl - p->buf),
			    p->buf);
			p->len -= nl + 1 - p->buf;
			memmove(p->buf, nl + 1, p->len);
			return (line);
		}
		if (e2e_now_ms() >= deadline || p->len == sizeof p->buf)
			return (NULL);
		if (poll(&pfd, 1, (int)(deadline - e2e_now_ms())) <= 0)
			continue;
		n = read(p->fd, p->buf + p->len, sizeof p->buf - p->len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return (NULL);
		p->len += n;
	}
}

void
e2e_proc_kill(struct e2e_proc *p)
{
	int	st;

	kill(p->pid, SIGKILL);
	if (waitpid(p->pid, &st, 0) != p->pid)
		e2e_fail("waitpid %d: %s", (int)p->pid, strerror(errno));
	close(p->fd);
	free(p);
}

int
e2e_gtd_run_(struct e2e *e, int ms, const char **err, ...)
{
	va_list		 ap;
	const char	*argv[64], *arg;
	int		 i;

	argv[0] = getenv("GTD") != NULL ? getenv("GTD") : "build/gtd";
	va_start(ap, err);
	for (i = 1; i < 63 && (arg = va_arg(ap, const char *)) != NULL; i++)
		argv[i] = arg;
	va_end(ap);
	argv[i] = NULL;
	return (e2e_run(e, ms, argv, 0, NULL, err));
}

void
e2e_restart_(struct e2e *e)
{
	struct e2e_conn	*cn;

	if (!e->reaped)
		e2e_fail("e2e_restart: gtd %d has not exited", (int)e->pid);
	for (cn = e->conns; cn != NULL; cn = cn->next) {
		client_free(cn->c);
		cn->c = NULL;
	}
	e2e_launch(e, NULL, NULL);
}

bool
e2e_wait_text(const char *path, const char *text, int ms)
{
	long	 deadline = e2e_now_ms() + e2e_slow(ms);
	char	*s;
	bool	 found;

	for (;;) {
		s = e2e_slurp(path, NULL);
		found = s != NULL && strstr(s, text) != NULL;
		free(s);
		if (found)
			return (true);
		if (e2e_now_ms() >= deadline)
			return (false);
		poll(NULL, 0, E2E_POLL_MS);
	}
}

/* JSON accessors. */

json_t *
e2e_get_(json_t *o, const char *key)
{
	json_t	*v;
	char	*s;

	if ((v = json_object_get(o, key)) == NULL) {
		s = json_dumps(o, JSON_COMPACT|JSON_ENCODE_ANY);
		e2e_fail("no \"%s\" in %s", key, s);	/* s leaks: we exit */
	}
	return (v);
}

json_int_t
e2e_int_(json_t *o, const char *key)
{
	json_t	*v = e2e_get_(o, key);
	char	*s;

	if (!json_is_integer(v)) {
		s = json_dumps(o, JSON_COMPACT|JSON_ENCODE_ANY);
		e2e_fail("\"%s\" is not an integer in %s", key, s);
	}
	return (json_integer_value(v));
}

const char *
e2e_str_(json_t *o, const char *key)
{
	json_t	*v = e2e_get_(o, key);
	char	*s;

	if (!json_is_string(v)) {
		s = json_dumps(o, JSON_COMPACT|JSON_ENCODE_ANY);
		e2e_fail("\"%s\" is not a string in %s", key, s);
	}
	return (json_string_value(v));
}

bool
e2e_adopt_unsupported_(struct e2e *e, json_t *reply, const char *what)
{
	const char	*code, *err;

	if (json_is_true(json_object_get(reply, "ok")))
		return (false);
	code = json_string_value(json_object_get(reply, "error"));
	err = json_string_value(json_object_get(reply, "errno"));
	if (getenv("E2E_VALGRIND") == NULL || code == NULL || err == NULL ||
	    strcmp(code, "spawn_failed") != 0 || strcmp(err, "ENOSYS") != 0)
		e2e_fail("add_existing_child: %s: want ok", e2e_dump(e, reply));
	fprintf(stderr, "%s: gtd under valgrind cannot open a pidfd "
	    "(pidfd_open: ENOSYS), adoption skipped\n", what);
	return (true);
}

const char *
e2e_dump(struct e2e *e, json_t *j)
{
	char	*s;

	if (j == NULL)
		return ("(null)");
	s = json_dumps(j, JSON_COMPACT|JSON_ENCODE_ANY);
	return (e2e_keep(e, s != NULL ? s : xstrdup("?")));
}

/*
 * Programs for other users.  Some tests run gtd, gtctl or gt-testchild
 * as nobody, who cannot reach them through a 0700 home (a clone under
 * /root).  e2e_bins_setup copies them, once per run, into a 0755
 * directory under /tmp and points $GTD, $GTCTL, $GT_TESTCHILD (and
 * $GTD_REAL) at the copies, with gt-clusternode beside gt-testchild; scripts ("#!") stay where they are, as they
 * may find files next to them.  The directory goes at exit, by the
 * process that made it only (Check forks a process per test).
 */
static char	e2e_bindir[] = "/tmp/gtd-bin-XXXXXX";
static pid_t	e2e_bindir_pid;

/* Copy the program at path to dst, mode 0755; false (errno) on error. */
static bool
e2e_bins_copy(const char *path, const char *dst)
{
	char	buf[65536];
	ssize_t	n;
	int	in, out = -1, saved;

	if ((in = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (false);
	if ((n = read(in, buf, 2)) == 2 && buf[0] == '#' && buf[1] == '!') {
		close(in);
		errno = EISDIR;			/* a script: not copied */
		return (false);
	}
	if (n == -1 || lseek(in, 0, SEEK_SET) == -1 ||
	    (out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0755)) == -1)
		goto fail;
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, n) != n)
			goto fail;
	if (n == -1 || fchmod(out, 0755) == -1 || close(out) == -1) {
		out = -1;
		goto fail;
	}
	close(in);
	return (true);
fail:
	saved = errno;
	close(in);
	if (out != -1)
		close(out);
	errno = saved;
	return (false);
}

static void
e2e_bins_cleanup(void)
{
	if (e2e_bindir_pid != getpid())
		return;
	nftw(e2e_bindir, e2e_rm_cb, 8, FTW_DEPTH | FTW_PHYS);
}

void
e2e_bins_setup(void)
{
	static const struct {
		const char	*var;
		const char	*def;
		const char	*file;
	} progs[] = {
		{ "GTD", "build/gtd", "gtd" },
		{ "GTCTL", "build/gtctl", "gtctl" },
		{ "GT_TESTCHILD", "build/gt-testchild", "gt-testchild" },
		{ "GTD_REAL", NULL, "gtd-real" }
	};
	const char	*p;
	char		 dst[PATH_MAX], sib[PATH_MAX], *slash;
	size_t		 i;

	/* Helpers found next to gt-testchild (gt-clusternode) go along. */
	p = getenv("GT_TESTCHILD");
	snprintf(sib, sizeof sib, "%s", p != NULL ? p : "build/gt-testchild");
	if ((slash = strrchr(sib, '/')) != NULL)
		snprintf(slash + 1, sizeof sib - (slash + 1 - sib),
		    "gt-clusternode");
	else
		snprintf(sib, sizeof sib, "gt-clusternode");
	if (mkdtemp(e2e_bindir) == NULL || chmod(e2e_bindir, 0755) == -1) {
		fprintf(stderr, "e2e: %s: %s\n", e2e_bindir, strerror(errno));
		exit(1);
	}
	e2e_bindir_pid = getpid();
	atexit(e2e_bins_cleanup);
	for (i = 0; i < sizeof progs / sizeof progs[0]; i++) {
		if ((p = getenv(progs[i].var)) == NULL &&
		    (p = progs[i].def) == NULL)
			continue;
		snprintf(dst, sizeof dst, "%s/%s", e2e_bindir, progs[i].file);
		if (e2e_bins_copy(p, dst))
			setenv(progs[i].var, dst, 1);
		else if (errno != EISDIR && (errno != ENOENT ||
		    getenv(progs[i].var) != NULL)) {
			fprintf(stderr, "e2e: copy %s to %s: %s\n", p, dst,
			    strerror(errno));
			exit(1);
		}
	}
	snprintf(dst, sizeof dst, "%s/gt-clusternode", e2e_bindir);
	if (!e2e_bins_copy(sib, dst) && errno != ENOENT) {
		fprintf(stderr, "e2e: copy %s to %s: %s\n", sib, dst,
		    strerror(errno));
		exit(1);
	}
}

int
e2e_exec_(struct e2e *e, bool sock, const char **out, const char **err, ...)
{
	va_list		 ap;
	const char	*argv[64], *arg;
	int		 i;

	va_start(ap, err);
	for (i = 0; i < 63 && (arg = va_arg(ap, const char *)) != NULL; i++)
		argv[i] = arg;
	va_end(ap);
	argv[i] = NULL;
	if (i == 0)
		e2e_fail("e2e_exec: no program");
	return (e2e_run(e, E2E_GTCTL_MS, argv, sock, out, err));
}

struct e2e *
e2e_start_booting_(const char *conf)
{
	struct e2e	*e = e2e_new();
	char		*a, *b;

	a = e2e_replace(conf, "@TESTCHILD@", e2e_testchild(e));
	b = e2e_replace(a, "@DIR@", e->dir);
	e->nowait = 1;
	e2e_launch(e, b, NULL);
	free(a);
	free(b);
	return (e);
}

/* Launched, not ready yet: wait until the socket listens, then connect. */
static void
e2e_booting(struct e2e *e, int rfd)
{
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
	long			 deadline = e2e_now_ms() +
				    e2e_slow(E2E_READY_MS);
	int			 fd, ok = 0;

	e->nowait = 0;
	e->boot_rfd = rfd;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", e->sock);
	while (!ok && e2e_now_ms() < deadline) {
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
			e2e_fail("socket: %s", strerror(errno));
		ok = connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0;
		close(fd);
		if (!ok && e2e_wait_exit(e, 0, NULL))
			return;		/* gone already: no connection */
		if (!ok)
			poll(NULL, 0, E2E_POLL_MS);
	}
	if (!ok)
		e2e_fail("gtd not listening within %d ms; log %s:\n%s",
		    E2E_READY_MS, e->log, e2e_log_tail(e));
	e->main = e2e_conn_new(e);
}

int
e2e_wait_booted(struct e2e *e, int ms)
{
	struct pollfd	 pfd = { .fd = e->boot_rfd, .events = POLLIN };
	long		 deadline = e2e_now_ms() + e2e_slow(ms);
	char		 buf[64];
	ssize_t		 n;
	int		 ret = -1;

	if (e->boot_rfd <= 0)		/* 0: calloc'd, never set */
		e2e_fail("e2e_wait_booted: not started by e2e_start_booting");
	while (ret == -1 && e2e_now_ms() < deadline) {
		if (poll(&pfd, 1, (int)(deadline - e2e_now_ms())) <= 0)
			continue;
		if ((n = read(e->boot_rfd, buf, sizeof buf)) == -1 &&
		    errno == EINTR)
			continue;
		if (n > 0 && memchr(buf, '\n', n) != NULL)
			ret = 1;
		else if (n <= 0)
			ret = 0;
	}
	if (ret != -1) {
		close(e->boot_rfd);
		e->boot_rfd = -1;
	}
	return (ret);
}

void
e2e_write_conf(struct e2e *e, const char *text)
{
	const char	*path = e2e_path(e, "gtd.json");
	const char	*tmp = e2e_fmt(e, "%s.tmp", path);

	e2e_write_file(tmp, text);
	if (rename(tmp, path) == -1)
		e2e_fail("rename %s: %s", tmp, strerror(errno));
}

bool
e2e_has_line(const char *text, const char *line)
{
	size_t		 n = strlen(line);
	const char	*p;

	for (p = text; (p = strstr(p, line)) != NULL; p += n)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' ||
		    p[n] == '\0'))
			return (true);
	return (false);
}

bool
e2e_wait_until(int ms, bool (*pred)(void *), void *arg)
{
	long	deadline = e2e_now_ms() + e2e_slow(ms);

	for (;;) {
		if (pred(arg))
			return (true);
		if (e2e_now_ms() >= deadline)
			return (pred(arg));
		poll(NULL, 0, E2E_POLL_MS);
	}
}

/*
 * The base cgroup gtd made for the socket sock (gtd-ZONE-HASH in this
 * process's cgroup, the hash of the socket path as childcg.c makes it),
 * removed with the empty child cgroups in it: a gtd that was killed
 * cannot, and no later gtd has the same socket.  Best effort (root on a
 * cgroup2 host only); a cgroup with processes stays.
 */
void
e2e_cgroup_clean(const char *sock)
{
	const unsigned char	*p;
	uint32_t		 h = 2166136261u;
	char			 line[PATH_MAX], own[PATH_MAX], tail[16];
	char			 dir[PATH_MAX * 2], sub[PATH_MAX * 3];
	struct dirent		*de, *se;
	DIR			*d, *sd;
	FILE			*f;
	size_t			 tl, nl;

	for (p = (const unsigned char *)sock; *p != '\0'; p++)
		h = (h ^ *p) * 16777619u;
	snprintf(tail, sizeof tail, "-%08x", (unsigned)h);
	tl = strlen(tail);
	own[0] = '\0';
	if ((f = fopen("/proc/self/cgroup", "re")) == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, "0::", 3) == 0)
			snprintf(own, sizeof own, "%.*s", (int)strcspn(line + 3,
			    "\n"), line + 3);
	fclose(f);
	if (own[0] != '/' || (f = fopen("/proc/self/mounts", "re")) == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL) {
		char	mnt[PATH_MAX], type[64];

		if (sscanf(line, "%*s %4095s %63s", mnt, type) != 2 ||
		    strcmp(type, "cgroup2") != 0)
			continue;
		snprintf(dir, sizeof dir, "%s%s", mnt, strcmp(own, "/") == 0 ?
		    "" : own);
		if ((d = opendir(dir)) == NULL)
			continue;
		while ((de = readdir(d)) != NULL) {
			nl = strlen(de->d_name);
			if (strncmp(de->d_name, "gtd-", 4) != 0 || nl <= tl ||
			    strcmp(de->d_name + nl - tl, tail) != 0)
				continue;
			snprintf(sub, sizeof sub, "%s/%s", dir, de->d_name);
			if ((sd = opendir(sub)) != NULL) {
				while ((se = readdir(sd)) != NULL) {
					char	c[PATH_MAX * 4];

					if (se->d_type != DT_DIR ||
					    se->d_name[0] == '.')
						continue;
					snprintf(c, sizeof c, "%s/%s", sub,
					    se->d_name);
					(void)rmdir(c);	/* EBUSY: stays */
				}
				closedir(sd);
			}
			(void)rmdir(sub);	/* best effort, see above */
		}
		closedir(d);
	}
	fclose(f);
}
