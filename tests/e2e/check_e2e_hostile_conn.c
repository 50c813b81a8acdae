/* SPDX-License-Identifier: MIT */
/*
 * check_e2e_hostile_conn: clients that do what they should not.  A
 * follower or subscriber that stops reading while events pour in is let
 * go at the output cap and gtd carries on (it used to free the
 * subscription under event delivery's feet and die); a connection whose
 * process exited and whose pid a supervised child got since has none of
 * that child's rights; replies, follows, subscriptions, attrs and list
 * keys have bounds; an unprivileged user cannot take the connection
 * slots that root and the children need.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "harness.h"

#define HC_WAIT_MS	30000		/* a condition that needs a flood */

/*
 * gtctl logs -f of a child that floods its output, and a reader that
 * stops reading: gtctl blocks on its stdout, stops reading the socket,
 * and gtd's queue for it reaches the cap.  gtd drops it and goes on.
 * The child is yes(1) with lines of 3000 bytes, so that 16 MiB of log
 * events come quickly even under ASan.
 */
START_TEST(hc_follower_stops_reading)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_proc	*p;
	json_int_t	 base;
	pid_t		 pid = e2e_pid(e);
	char		 line[3001];

	memset(line, 'y', sizeof line - 1);
	line[sizeof line - 1] = '\0';
	e2e_ok(e, "start_child", "{s:s, s:[s, s]}", "name", "chatty", "cmd",
	    "yes", line);
	base = e2e_conns(e);
	p = e2e_gtctl_bg(e, "logs", "-f", "chatty", NULL);
	ck_assert_ptr_nonnull(e2e_proc_line(p, 5000));	/* following */
	/* No more reading: the pipe fills, then gtctl's socket. */
	ck_assert_msg(e2e_wait_conns(e, base, HC_WAIT_MS),
	    "the follower was not let go: %lld connections",
	    (long long)e2e_conns(e));
	ck_assert(e2e_pid_alive(pid));
	e2e_ok(e, "ping", NULL);
	ck_assert_str_eq(e2e_str(e2e_row(e, "chatty"), "state"), "running");
	e2e_proc_kill(p);
	e2e_stop(e);
}
END_TEST

/* An attr value of n bytes of 'v', as a new JSON string. */
static json_t *
hc_blob(size_t n)
{
	json_t	*j;
	char	*s;

	s = malloc(n + 1);
	ck_assert_ptr_nonnull(s);
	memset(s, 'v', n);
	s[n] = '\0';
	j = json_string(s);
	free(s);
	return (j);
}

/*
 * A subscriber that stops reading during a burst of events (attr events
 * of big values): dropped at the output cap, and the other subscriber,
 * behind it in gtd's list, still gets every event.
 */
START_TEST(hc_subscriber_stops_reading)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*slow, *fast;
	json_int_t	 base;
	json_t		*ev, *attrs;
	pid_t		 pid = e2e_pid(e);
	int		 i, k, got = 0;

	e2e_spawn(e, "b", NULL);
	base = e2e_conns(e);
	slow = e2e_client(e);
	fast = e2e_client(e);
	e2e_cok(slow, "subscribe", "{s:[s]}", "events", "attr");
	e2e_cok(fast, "subscribe", "{s:[s]}", "events", "attr");
	for (i = 0; i < 48 && e2e_conns(e) > base + 1; i++) {
		/* 15 values of 60 KiB: within the default attr limits. */
		attrs = json_object();
		for (k = 0; k < 15; k++)
			json_object_set_new(attrs, e2e_fmt(e, "blob%d", k),
			    hc_blob(60 * 1024 + i));
		e2e_ok(e, "setattr", "{s:s, s:o}", "name", "b", "attrs",
		    attrs);
		/* The fast one reads everything. */
		ev = e2e_recv(fast, 10000);
		ck_assert_str_eq(e2e_str(ev, "event"), "attr");
		got++;
	}
	ck_assert_msg(e2e_wait_conns(e, base + 1, 10000), "the slow "
	    "subscriber was not let go: %lld connections",
	    (long long)e2e_conns(e));
	ck_assert(e2e_pid_alive(pid));
	e2e_ok(e, "setattr", "{s:s, s:{s:i}}", "name", "b", "attrs", "n", 1);
	ev = e2e_recv(fast, 10000);
	ck_assert_str_eq(e2e_str(ev, "event"), "attr");
	ck_assert_int_gt(got, 0);
	e2e_stop(e);
}
END_TEST


#define NOBODY		65534
#define DAEMON_UID	1		/* another user without privileges */

/*
 * gtd with {"socket_mode":"0666", "acl":{"default":CLASS}, EXTRA}, its
 * directory searchable by everyone.  These tests switch users.
 */
static struct e2e *
hc_start_acl(const char *dflt, const char *extra)
{
	struct e2e	*e;
	char		 conf[1024];

	ck_assert_msg(geteuid() == 0, "these tests switch users: run them "
	    "as root");
	snprintf(conf, sizeof conf, "{\"socket_mode\":\"0666\",\"acl\":"
	    "{\"default\":\"%s\"}%s%s}", dflt, extra != NULL ? "," : "",
	    extra != NULL ? extra : "");
	e = e2e_start(conf);
	ck_assert_int_eq(chmod(e2e_dir(e), 0755), 0);
	return (e);
}

/* In a forked process: become uid (and its group), or exit 71. */
static void
hc_become(uid_t uid)
{
	if (setgroups(0, NULL) == -1 || setgid(uid) == -1 ||
	    setuid(uid) == -1)
		_exit(71);
}

/* Connect fd to e's socket; 0 or -1. */
static int
hc_connect_fd(struct e2e *e, int fd)
{
	struct sockaddr_un	sun;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", e2e_sock(e));
	return (connect(fd, (struct sockaddr *)&sun, sizeof sun));
}

/* Read one line from fd into buf (NUL-terminated, no '\n'); -1 if none. */
static int
hc_read_line(int fd, char *buf, size_t size, int ms)
{
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	long		 deadline = e2e_now_ms() + e2e_slow(ms);
	size_t		 len = 0;
	ssize_t		 n;

	while (len < size - 1) {
		if (poll(&pfd, 1, (int)(deadline - e2e_now_ms())) <= 0)
			return (-1);
		if ((n = read(fd, buf + len, 1)) <= 0)
			return (-1);
		if (buf[len] == '\n') {
			buf[len] = '\0';
			return (0);
		}
		len++;
	}
	return (-1);
}

/*
 * Send line plus '\n' on fd and read one line back; -1 if none comes.  A
 * failed send is not the end: gtd may have refused the connection, and
 * its one line is there to read.
 */
static int
hc_ask(int fd, const char *line, char *buf, size_t size)
{
	char	req[4096];
	int	n;

	n = snprintf(req, sizeof req, "%s\n", line);
	(void)!send(fd, req, n, MSG_NOSIGNAL);
	return (hc_read_line(fd, buf, size, 10000));
}

/*
 * Fork a process that will run as nobody.  Where /proc/sys is read-only
 * (a container), ns_last_pid cannot steer the kernel and the pids may
 * not come round for millions of forks: then the process is made with
 * clone3's set_tid at the pid the kernel would hand out next, which
 * leaves the kernel's cursor where it was, so that the next fork of any
 * process in the namespace (gtd's start of the victim) gets the same
 * number once this process is gone.
 */
static pid_t
hc_fork_at_cursor(void)
{
	struct clone_args	ca;
	pid_t			p, tid;
	int			st;

	if (access("/proc/sys/kernel/ns_last_pid", W_OK) == 0)
		return (fork());
	if ((p = fork()) == 0)
		_exit(0);
	if (p == -1 || waitpid(p, &st, 0) != p)
		return (-1);
	tid = p + 1;
	memset(&ca, 0, sizeof ca);
	ca.exit_signal = SIGCHLD;
	ca.set_tid = (uint64_t)(uintptr_t)&tid;
	ca.set_tid_size = 1;
	if ((p = (pid_t)syscall(SYS_clone3, &ca, sizeof ca)) == -1)
		return (fork());
	return (p);
}

/*
 * The helper of hc_pid_reuse.  Its child K connects as nobody through
 * the helper's socket (so SO_PEERCRED holds K's pid), gets one reply,
 * and exits; the helper reaps it, keeps the connection, tells the test
 * K's pid and waits for a word: 'g' to try the two writes and report
 * both replies, anything else to give up this try.
 */
static void
hc_reuse_helper(struct e2e *e, int cmd, int out)
{
	char	buf[4096], go;
	pid_t	k;
	int	fd, st;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		_exit(70);
	if ((k = hc_fork_at_cursor()) == -1)
		_exit(70);
	if (k == 0) {
		hc_become(NOBODY);
		if (hc_connect_fd(e, fd) == -1 ||
		    hc_ask(fd, "{\"op\":\"ping\"}", buf, sizeof buf) == -1)
			_exit(70);
		_exit(0);
	}
	hc_become(NOBODY);
	if (waitpid(k, &st, 0) != k || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		_exit(70);
	dprintf(out, "%d\n", (int)k);
	if (read(cmd, &go, 1) != 1 || go != 'g')
		_exit(0);
	if (hc_ask(fd, "{\"op\":\"setattr\",\"self\":true,\"attrs\":"
	    "{\"owned\":1}}", buf, sizeof buf) == -1)
		_exit(70);
	dprintf(out, "%s\n", buf);
	if (hc_ask(fd, "{\"op\":\"setattr\",\"name\":\"victim\",\"attrs\":"
	    "{\"owned\":2}}", buf, sizeof buf) == -1)
		_exit(70);
	dprintf(out, "%s\n", buf);
	_exit(0);
}

/* Make the next pid the kernel hands out want, where that can be done. */
static void
hc_pid_approach(pid_t want)
{
	char	num[32];
	int	fd;

	if ((fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY |
	    O_CLOEXEC)) == -1)
		return;		/* hc_fork_at_cursor left the cursor there */
	snprintf(num, sizeof num, "%d", (int)want - 1);
	(void)!write(fd, num, strlen(num));
	close(fd);
}

/*
 * One try of hc_pid_reuse: a helper holds a connection made by a pid that
 * is gone, and gtd starts "victim", which is meant to get that pid.  On
 * true, the helper is waiting for its word on *cmd and reports on *out;
 * on false (another process took the pid first) all is undone.
 */
static bool
hc_reuse_try(struct e2e *e, pid_t *h, int *cmd, int *out)
{
	char	buf[64];
	int	c[2], o[2], st;
	pid_t	k, got;

	ck_assert_int_eq(pipe2(c, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(o, O_CLOEXEC), 0);
	fflush(NULL);
	ck_assert_int_ne(*h = fork(), -1);
	if (*h == 0) {
		close(c[1]);
		close(o[0]);
		hc_reuse_helper(e, c[0], o[1]);
	}
	close(c[0]);
	close(o[1]);
	ck_assert_int_eq(hc_read_line(o[0], buf, sizeof buf, 10000), 0);
	k = (pid_t)atoi(buf);
	ck_assert_int_gt(k, 1);
	hc_pid_approach(k);
	if ((got = e2e_spawn(e, "victim", NULL)) == k) {
		*cmd = c[1];
		*out = o[0];
		return (true);
	}
	ck_assert_int_eq(write(c[1], "x", 1), 1);
	ck_assert_int_eq(waitpid(*h, &st, 0), *h);
	close(c[1]);
	close(o[0]);
	e2e_ok(e, "terminate_and_delete", "{s:s}", "name", "victim");
	return (false);
}

/*
 * A peer of class none connects from a process that then exits; the
 * connection lives on in its parent.  A supervised child gets that pid.
 * The held connection must not pass for the child: "self" and the
 * child's own row are both refused, and its attrs stay untouched.
 */
START_TEST(hc_pid_reuse)
{
	struct e2e	*e = hc_start_acl("none", NULL);
	long		 deadline = e2e_now_ms() + e2e_slow(60000);
	char		 buf[4096];
	json_t		*r;
	pid_t		 h;
	int		 cmd, out, st, i;

	while (!hc_reuse_try(e, &h, &cmd, &out))
		ck_assert_msg(e2e_now_ms() < deadline,
		    "no child got the pid of the gone peer in time");
	ck_assert_int_eq(write(cmd, "g", 1), 1);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(hc_read_line(out, buf, sizeof buf, 10000), 0);
		r = json_loads(buf, 0, NULL);
		ck_assert_msg(r != NULL && json_is_false(json_object_get(r,
		    "ok")) && strcmp(json_string_value(json_object_get(r,
		    "error")), "permission_denied") == 0,
		    "setattr %d through a dead peer's pid: %s", i, buf);
		json_decref(r);
	}
	ck_assert_int_eq(waitpid(h, &st, 0), h);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	e2e_err(e, "not_found", "getattr", "{s:s, s:s}", "name", "victim",
	    "key", "owned");
	close(cmd);
	close(out);
	e2e_stop(e);
}
END_TEST

/*
 * A process of uid that connects again and again, each time sending a
 * ping, until a connection is refused (its first line is a limit error)
 * or max are open.  It reports "N LIMIT" and keeps its connections until
 * the test closes the command pipe.
 */
struct hc_hog {
	pid_t	 pid;
	int	 cmd;			/* close it to end the hog */
	int	 n;			/* connections that were served */
	char	 limit[64];		/* the limit that stopped it, or "" */
};

static void
hc_hog_run(struct e2e *e, uid_t uid, int max, int cmd, int out)
{
	char		 buf[4096], *p;
	const char	*limit = "none";
	int		 fd, n = 0;

	hc_become(uid);
	strcpy(buf, "none");
	while (n < max) {
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
		    0)) == -1 || hc_connect_fd(e, fd) == -1 ||
		    hc_ask(fd, "{\"op\":\"ping\"}", buf, sizeof buf) == -1)
			_exit(70);
		if (strstr(buf, "\"ok\":true") == NULL) {
			close(fd);
			break;
		}
		n++;			/* keep it open */
	}
	if ((p = strstr(buf, "\"limit\":\"")) != NULL) {
		p += 9;
		p[strcspn(p, "\"")] = '\0';
		limit = p;
	}
	dprintf(out, "%d %s\n", n, limit);
	(void)!read(cmd, buf, 1);	/* until the test closes it */
	_exit(0);
}

static void
hc_hog(struct e2e *e, uid_t uid, int max, struct hc_hog *hg)
{
	char	buf[128];
	int	cmd[2], out[2], fd;

	ck_assert_int_eq(pipe2(cmd, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	fflush(NULL);
	ck_assert_int_ne(hg->pid = fork(), -1);
	if (hg->pid == 0) {
		/* Not another hog's command pipe: it would never see EOF. */
		for (fd = 3; fd < 1024; fd++)
			if (fd != cmd[0] && fd != out[1])
				close(fd);
		hc_hog_run(e, uid, max, cmd[0], out[1]);
	}
	close(cmd[0]);
	close(out[1]);
	hg->cmd = cmd[1];
	ck_assert_msg(hc_read_line(out[0], buf, sizeof buf, 20000) == 0,
	    "the hog of uid %d did not report", (int)uid);
	close(out[0]);
	ck_assert_int_eq(sscanf(buf, "%d %63s", &hg->n, hg->limit), 2);
}

static void
hc_hog_end(struct hc_hog *hg)
{
	int	st;

	close(hg->cmd);
	ck_assert_int_eq(waitpid(hg->pid, &st, 0), hg->pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/*
 * One unprivileged user takes every connection it can: it gets none of
 * the reserved slots, and root and a supervised child (of the same
 * user!) still connect, and the child's own attr update works.
 */
START_TEST(hc_slots_reserved)
{
	struct e2e	*e = hc_start_acl("read", "\"max_connections\":16,"
	    "\"reserved_connections\":6,\"max_connections_per_uid\":1000");
	struct e2e_conn	*c;
	struct hc_hog	 hg;
	json_int_t	 held;

	held = e2e_conns(e);		/* root's own, counted */
	hc_hog(e, NOBODY, 100, &hg);
	ck_assert_str_eq(hg.limit, "max_connections");
	ck_assert_int_eq(hg.n, 16 - 6 - held);
	/* Root gets in. */
	c = e2e_client(e);
	e2e_cok(c, "ping", NULL);
	/* So does a child running as that very user, and writes its row. */
	e2e_ok(e, "start_child", "{s:s, s:s, s:o}", "name", "kid", "user",
	    "nobody", "cmd", e2e_cmd("--setattr=k=7", NULL));
	ck_assert_int_eq(e2e_int(e2e_ok(e, "getattr", "{s:s, s:s, s:i}",
	    "name", "kid", "key", "k", "wait_ms", (int)e2e_slow(10000)),
	    "value"), 7);
	hc_hog_end(&hg);
	e2e_stop(e);
}
END_TEST

/* Each user has a cap of its own: another user still gets in. */
START_TEST(hc_slots_per_uid)
{
	struct e2e	*e = hc_start_acl("read", "\"max_connections\":64,"
	    "\"max_connections_per_uid\":5");
	struct hc_hog	 a, b;

	hc_hog(e, NOBODY, 100, &a);
	ck_assert_str_eq(a.limit, "max_connections_per_uid");
	ck_assert_int_eq(a.n, 5);
	hc_hog(e, DAEMON_UID, 3, &b);
	ck_assert_int_eq(b.n, 3);
	e2e_ok(e, "ping", NULL);
	hc_hog_end(&a);
	hc_hog_end(&b);
	e2e_stop(e);
}
END_TEST

/*
 * With only max_connections set (16), the defaults share the slots: one
 * user gets max_connections / 8 of them; root, another user and a
 * supervised child of that same user still get in and work.
 */
START_TEST(hc_slots_default_shares)
{
	struct e2e	*e = hc_start_acl("read", "\"max_connections\":16");
	struct e2e_conn	*c;
	struct hc_hog	 a, b;

	hc_hog(e, NOBODY, 100, &a);
	ck_assert_msg(a.n == 2, "nobody holds %d of 16 connections", a.n);
	ck_assert_str_eq(a.limit, "max_connections_per_uid");
	c = e2e_client(e);
	e2e_cok(c, "ping", NULL);
	hc_hog(e, DAEMON_UID, 2, &b);
	ck_assert_int_eq(b.n, 2);
	e2e_ok(e, "start_child", "{s:s, s:s, s:o}", "name", "kid", "user",
	    "nobody", "cmd", e2e_cmd("--setattr=k=7", NULL));
	ck_assert_int_eq(e2e_int(e2e_ok(e, "getattr", "{s:s, s:s, s:i}",
	    "name", "kid", "key", "k", "wait_ms", (int)e2e_slow(10000)),
	    "value"), 7);
	hc_hog_end(&a);
	hc_hog_end(&b);
	e2e_stop(e);
}
END_TEST

/* setattr name: n keys PREFIX0.. of size bytes each (one request). */
static void
hc_fill_attrs(struct e2e *e, const char *name, int n, size_t size)
{
	json_t	*attrs = json_object();
	char	 key[16];
	int	 k;

	for (k = 0; k < n; k++) {
		snprintf(key, sizeof key, "a%04d", k);
		json_object_set_new(attrs, key, hc_blob(size));
	}
	e2e_ok(e, "setattr", "{s:s, s:o}", "name", name, "attrs", attrs);
}

/* The first line on fd, parsed; fails the test if none comes. */
static json_t *
hc_first_reply(int fd)
{
	static char	 buf[65536];
	json_t		*j;

	ck_assert_msg(hc_read_line(fd, buf, sizeof buf, 20000) == 0,
	    "no reply line (or one over 64 KiB)");
	ck_assert_ptr_nonnull(j = json_loads(buf, 0, NULL));
	return (j);
}

/*
 * Ten read-only connections ask for a `list` of about 17.7 MB and do not
 * read: each first reply is over max_output_bytes (16 MiB by default),
 * so each gets a short limit error and gtd holds none of them.
 */
START_TEST(hc_first_replies_bounded)
{
	struct e2e	*e = e2e_start(NULL);
	struct pollfd	 pfd;
	json_t		*r;
	long		 rss0, rss1, deadline;
	int		 fds[10], i;

	for (i = 0; i < 18; i++) {
		e2e_spawn(e, e2e_fmt(e, "c%02d", i), NULL);
		hc_fill_attrs(e, e2e_fmt(e, "c%02d", i), 16, 60 * 1024);
	}
	e2e_ok(e, "ping", NULL);
	rss0 = e2e_rss_kib(e2e_pid(e));
	for (i = 0; i < 10; i++) {
		fds[i] = e2e_raw_connect(e, false);
		ck_assert_int_eq(write(fds[i], "{\"op\":\"list\"}\n", 14), 14);
	}
	deadline = e2e_now_ms() + e2e_slow(60000);
	for (i = 0; i < 10; i++) {
		pfd = (struct pollfd){ .fd = fds[i], .events = POLLIN };
		ck_assert_msg(poll(&pfd, 1, (int)(deadline - e2e_now_ms())) ==
		    1, "no reply to list %d", i);
	}
	rss1 = e2e_rss_kib(e2e_pid(e));
	ck_assert_msg(rss1 - rss0 < e2e_rss_bound(64 * 1024), "gtd grew by "
	    "%ld KiB holding replies nobody reads", rss1 - rss0);
	for (i = 0; i < 10; i++) {
		r = hc_first_reply(fds[i]);
		ck_assert_msg(json_is_false(json_object_get(r, "ok")) &&
		    strcmp(e2e_str(r, "limit"), "max_output_bytes") == 0,
		    "list %d: %.200s", i, e2e_dump(e, r));
		json_decref(r);
		close(fds[i]);
	}
	/* What fits is served. */
	r = e2e_ok(e, "list", "{s:[s]}", "keys", "a0000");
	ck_assert_int_eq(json_array_size(e2e_get(r, "children")), 18);
	e2e_stop(e);
}
END_TEST

/*
 * attr values are bounded (64 KiB each, 1 MiB per child by default),
 * and a refused setattr writes nothing.
 */
START_TEST(hc_attr_limits)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*r, *attrs;
	int		 k;

	e2e_spawn(e, "a", NULL);
	r = e2e_err(e, "limit", "setattr", "{s:s, s:{s:o}}", "name", "a",
	    "attrs", "v", hc_blob(64 * 1024 + 1));
	ck_assert_str_eq(e2e_str(r, "limit"), "max_attr_value_bytes");
	ck_assert_str_eq(e2e_str(r, "field"), "attrs.v");
	e2e_ok(e, "setattr", "{s:s, s:{s:o}}", "name", "a", "attrs", "v",
	    hc_blob(64 * 1024));
	attrs = json_object();
	for (k = 0; k < 16; k++)
		json_object_set_new(attrs, e2e_fmt(e, "b%02d", k),
		    hc_blob(60 * 1024));
	r = e2e_err(e, "limit", "setattr", "{s:s, s:o}", "name", "a",
	    "attrs", attrs);
	ck_assert_str_eq(e2e_str(r, "limit"), "max_attr_bytes");
	e2e_err(e, "not_found", "getattr", "{s:s, s:s}", "name", "a", "key",
	    "b00");
	e2e_stop(e);
}
END_TEST

/*
 * list keys: at most max_attrs of them, and filtering is linear.  With
 * max_attrs raised to 100000, a child holding that many attrs is listed
 * with as many keys at once (the old quadratic filter took 10^10 string
 * compares), and one key more is refused at once.
 */
START_TEST(hc_list_keys)
{
	struct e2e	*e = e2e_start("{\"max_attrs\":100000}");
	struct e2e_conn	*c = e2e_client(e);
	json_t		*keys, *attrs, *r;
	char		 key[16];
	int		 i, k;

	/* Keys in local buffers: e2e_fmt keeps each string until the end. */
	e2e_spawn(e, "many", NULL);
	for (i = 0; i < 4; i++) {
		attrs = json_object();
		for (k = 0; k < 25000; k++) {
			snprintf(key, sizeof key, "k%05d", i * 25000 + k);
			json_object_set_new(attrs, key, json_integer(k));
		}
		e2e_ok(e, "setattr", "{s:s, s:o}", "name", "many", "attrs",
		    attrs);
	}
	keys = json_array();
	for (i = 99999; i >= 0; i--) {
		snprintf(key, sizeof key, "k%05d", i);
		json_array_append_new(keys, json_string(key));
	}
	/* Within the harness's reply deadline; the old filter took hours. */
	r = e2e_cok(c, "list", "{s:O}", "keys", keys);
	ck_assert_int_eq(json_object_size(e2e_get(json_array_get(e2e_get(r,
	    "children"), 0), "attrs")), 100000);
	json_array_append_new(keys, json_string("one_more"));
	r = e2e_cerr(c, "limit", "list", "{s:o}", "keys", keys);
	ck_assert_str_eq(e2e_str(r, "limit"), "max_attrs");
	e2e_stop(e);
}
END_TEST

Suite *
e2e_hostile_conn_suite(void)
{
	Suite	*s = suite_create("e2e_hostile_conn");
	TCase	*tc;

	tc = tcase_create("uaf");
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, hc_follower_stops_reading);
	tcase_add_test(tc, hc_subscriber_stops_reading);
	suite_add_tcase(s, tc);

	tc = tcase_create("bounds");
	tcase_set_timeout(tc, 150);
	tcase_add_test(tc, hc_first_replies_bounded);
	tcase_add_test(tc, hc_attr_limits);
	tcase_add_test(tc, hc_list_keys);
	suite_add_tcase(s, tc);

	tc = tcase_create("identity");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, hc_pid_reuse);
	suite_add_tcase(s, tc);

	tc = tcase_create("slots");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, hc_slots_default_shares);
	tcase_add_test(tc, hc_slots_reserved);
	tcase_add_test(tc, hc_slots_per_uid);
	suite_add_tcase(s, tc);
	return (s);
}
