/* SPDX-License-Identifier: MIT */
/*
 * check_e2e_reexec: gtd replaces its program in place (protocol §9.2).
 * Many children keep their pids, attrs and restart counts; a pending
 * restart fires at its deadline; a subscriber and a log follower go on
 * receiving on the same connection, a reconnecting one resumes from its
 * seq; the reply comes from the new program.  A binary that fails its
 * pre-flight leaves the old program serving.  A state of an older format
 * (a fixture, with keys this gtd does not know and without some it does)
 * is restored.  $GTD_REEXEC_CHILDREN sets the many (default 200).
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "gt/protocol.h"

#include "harness.h"

#define RX_RESTART_MS	2500	/* the pending restart's delay */

static int
rx_children(void)
{
	const char	*s = getenv("GTD_REEXEC_CHILDREN");
	int		 n = s != NULL ? atoi(s) : 0;

	return (n > 0 ? n : 200);
}

/* The next event line of kind on cn (other lines skipped), or NULL. */
static json_t *
rx_event(struct e2e_conn *cn, const char *kind, int ms)
{
	long		 end = e2e_now_ms() + e2e_slow(ms);
	json_t		*j;
	const char	*ev;

	while (e2e_now_ms() < end) {
		if ((j = e2e_recv(cn, (int)(end - e2e_now_ms()))) == NULL)
			return (NULL);
		ev = json_string_value(json_object_get(j, "event"));
		if (ev != NULL && strcmp(ev, kind) == 0)
			return (j);
	}
	return (NULL);
}

START_TEST(e2e_reexec_many)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*sub, *fol, *old;
	int		 n = rx_children(), i;
	pid_t		*pids, gpid = e2e_pid(e);
	json_t		*r, *ev;
	json_int_t	 seq0, at0;
	long		 t0, due;
	char		 name[32], val[32];
	bool		 pending;

	pids = calloc((size_t)n, sizeof *pids);
	ck_assert_ptr_nonnull(pids);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "w%d", i);
		pids[i] = e2e_spawn(e, name, NULL);
		snprintf(val, sizeof val, "v%d", i);
		e2e_ok(e, "setattr", "{s:s, s:{s:s, s:i}}", "name", name,
		    "attrs", "tag", val, "n", i);
	}
	/* A child that floods its log slowly, followed on its own conn. */
	e2e_ok(e, "start_child", "{s:s, s:o, s:s}", "name", "talker", "cmd",
	    e2e_cmd("--flood=100000", "--flood-every-ms=20", NULL), "stdout",
	    "log");
	fol = e2e_client(e);
	e2e_cok(fol, "logs", "{s:s, s:i, s:b}", "name", "talker", "lines", 0,
	    "follow", true);
	ck_assert_ptr_nonnull(rx_event(fol, "log", 5000));
	/* A child that exits, with a restart pending when gtd re-execs. */
	e2e_ok(e, "start_child", "{s:s, s:o, s:i, s:i}", "name", "flaky",
	    "cmd", e2e_cmd("--exit-after-ms=100", "--exit-code=3", NULL),
	    "restart_delay_ms", RX_RESTART_MS, "max_restarts", 100);
	sub = e2e_client(e);
	e2e_cok(sub, "subscribe", NULL);
	ck_assert_ptr_nonnull(ev = rx_event(sub, "restarting", 5000));
	t0 = e2e_now_ms();
	seq0 = e2e_int(ev, "seq");
	at0 = e2e_int(ev, "at");
	ck_assert_int_eq(e2e_int(e2e_row(e, "flaky"), "restart_count"), 1);
	/* A connection that reads nothing: its events wait in gtd. */
	old = e2e_client(e);
	e2e_cok(old, "ping", NULL);

	r = e2e_ok(e, "reexec", NULL);
	ck_assert_int_eq(e2e_int(r, "pid"), gpid);
	ck_assert_str_eq(e2e_str(r, "version"), GT_VERSION);
	/*
	 * The restart was pending across the re-exec (under the sanitizers
	 * a re-exec of many children may take longer than its delay: then
	 * only the deadline below is checked).
	 */
	pending = e2e_now_ms() - t0 < RX_RESTART_MS * 8 / 10;
	r = e2e_row(e, "flaky");
	if (pending) {
		ck_assert_str_eq(e2e_str(r, "state"), "restarting");
		ck_assert_int_eq(e2e_int(r, "restart_count"), 1);
	}

	/* The subscriber: the reexec event, on the same connection. */
	ck_assert_ptr_nonnull(ev = rx_event(sub, "reexec", 5000));
	ck_assert_int_gt(e2e_int(ev, "seq"), seq0);
	ck_assert_str_eq(e2e_str(ev, "version"), GT_VERSION);
	/* The follower goes on receiving lines. */
	ck_assert_ptr_nonnull(rx_event(fol, "log", 5000));
	ck_assert_ptr_nonnull(rx_event(fol, "log", 5000));
	e2e_cok(old, "ping", NULL);

	/* Same pids, attrs kept. */
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "w%d", i);
		snprintf(val, sizeof val, "v%d", i);
		r = e2e_ok(e, "info", "{s:s}", "name", name);
		ck_assert_int_eq(e2e_int(r, "pid"), pids[i]);
		ck_assert_str_eq(e2e_str(r, "state"), "running");
		ck_assert_int_eq(e2e_int(r, "restart_count"), 0);
		ck_assert_str_eq(e2e_str(e2e_get(r, "attrs"), "tag"), val);
	}
	/* The pending restart fires at its deadline, not before. */
	ck_assert_ptr_nonnull(ev = rx_event(sub, "started", 10000));
	ck_assert_str_eq(e2e_str(ev, "name"), "flaky");
	due = (long)(e2e_int(ev, "at") - at0);
	ck_assert_msg(due >= RX_RESTART_MS * 8 / 10 - 5 && due <
	    e2e_slow(RX_RESTART_MS + 1500), "restarted after %ld ms", due);
	ck_assert_ptr_nonnull(ev = rx_event(sub, "restarting", 5000));
	ck_assert_int_eq(e2e_int(ev, "restart_count"), 2);

	/* A client that reconnects resumes from its seq: nothing lost. */
	old = e2e_client(e);
	e2e_cok(old, "subscribe", "{s:I}", "since", seq0);
	ck_assert_ptr_nonnull(ev = rx_event(old, "reexec", 5000));
	ck_assert_int_gt(e2e_int(ev, "seq"), seq0);
	/* A child that ends after the re-exec is reaped as ours. */
	ck_assert_int_eq(kill(pids[0], SIGKILL), 0);
	ck_assert_int_ne(e2e_wait_restarted(e, "w0", pids[0], 10000), -1);
	ck_assert_int_eq(e2e_int(e2e_row(e, "w0"), "restart_count"), 1);
	free(pids);
	e2e_stop(e);
}
END_TEST

/* A child that exits while gtd re-execs is reaped by the new program. */
START_TEST(e2e_reexec_exit_in_gap)
{
	struct e2e	*e = e2e_start(NULL);
	pid_t		 pid, gpid = e2e_pid(e);
	json_t		*r;
	int		 i;

	for (i = 0; i < 5; i++) {
		/* Exits about when the re-exec happens; whichever reaps it. */
		pid = e2e_spawn(e, "quick", "--exit-after-ms=30",
		    "--exit-code=4", NULL);
		r = e2e_ok(e, "reexec", NULL);
		ck_assert_int_eq(e2e_int(r, "pid"), gpid);
		ck_assert(e2e_wait_dead(pid, 5000));
		ck_assert(e2e_wait_state(e, "quick", "restarting", 5000) ||
		    e2e_wait_state(e, "quick", "running", 100));
		e2e_ok(e, "terminate_and_delete", "{s:s}", "name", "quick");
		ck_assert(e2e_wait_absent(e, "quick", 5000));
	}
	/* No zombie left: every pid gtd had is reaped. */
	ck_assert_int_eq(e2e_int(e2e_ok(e, "count_children", NULL),
	    "active"), 0);
	e2e_stop(e);
}
END_TEST

/* A script as path: it says why on stderr and exits non-zero. */
static const char *
rx_script(struct e2e *e, const char *name, const char *body)
{
	const char	*path = e2e_path(e, name);
	FILE		*f;

	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	ck_assert_int_eq(chmod(path, 0755), 0);
	return (path);
}

START_TEST(e2e_reexec_preflight_fails)
{
	struct e2e	*e = e2e_start(NULL);
	pid_t		 pid, gpid = e2e_pid(e);
	struct e2e_conn	*other;
	json_t		*r;
	long		 t0;

	pid = e2e_spawn(e, "keep", NULL);
	e2e_ok(e, "setattr", "{s:s, s:{s:s}}", "name", "keep", "attrs", "k",
	    "v");
	r = e2e_err(e, "reexec_failed", "reexec", "{s:s}", "path",
	    "/bin/false");
	ck_assert_ptr_nonnull(strstr(e2e_str(r, "message"), "pre-flight"));
	r = e2e_err(e, "reexec_failed", "reexec", "{s:s}", "path",
	    rx_script(e, "bad.sh", "echo 'state: cannot read this' >&2; "
	    "exit 2"));
	ck_assert_ptr_nonnull(strstr(e2e_str(r, "message"),
	    "cannot read this"));
	r = e2e_err(e, "reexec_failed", "reexec", "{s:s}", "path",
	    e2e_path(e, "missing"));
	r = e2e_err(e, "bad_request", "reexec", "{s:i}", "path", 1);
	/* A pre-flight that hangs is killed at its bound; gtd answers. */
	other = e2e_client(e);
	t0 = e2e_now_ms();
	e2e_send_line(e2e_main(e), e2e_fmt(e, "{\"id\":\"hang\",\"op\":"
	    "\"reexec\",\"path\":\"%s\"}", rx_script(e, "hang.sh",
	    "exec sleep 60")));
	/* Meanwhile gtd serves the others. */
	e2e_cok(other, "ping", NULL);
	ck_assert_int_lt(e2e_now_ms() - t0, 4000);
	r = e2e_recv(e2e_main(e), (int)e2e_slow(10000));
	ck_assert_str_eq(e2e_str(r, "id"), "hang");
	ck_assert(json_is_false(json_object_get(r, "ok")));
	ck_assert_ptr_nonnull(strstr(e2e_str(r, "message"), "within"));
	ck_assert_int_ge(e2e_now_ms() - t0, 4900);
	ck_assert_int_eq(e2e_pid(e), gpid);
	ck_assert_int_eq(e2e_int(e2e_row(e, "keep"), "pid"), pid);
	r = e2e_ok(e, "getattr", "{s:s, s:s}", "name", "keep", "key", "k");
	ck_assert_str_eq(e2e_str(r, "value"), "v");
	e2e_ok(e, "ping", NULL);
	e2e_stop(e);
}
END_TEST

/* path's text with every `from` replaced by `to` (malloc'd). */
static char *
rx_subst(const char *text, const char *from, const char *to)
{
	size_t		 n = 0, fl = strlen(from), tl = strlen(to);
	const char	*p;
	char		*out, *q;

	for (p = text; (p = strstr(p, from)) != NULL; p += fl)
		n++;
	out = malloc(strlen(text) + n * tl + 1);
	ck_assert_ptr_nonnull(out);
	for (q = out, p = text; *p != '\0';) {
		if (strncmp(p, from, fl) == 0) {
			memcpy(q, to, tl);
			q += tl;
			p += fl;
		} else
			*q++ = *p++;
	}
	*q = '\0';
	return (out);
}

static char *
rx_slurp(const char *path)
{
	FILE	*f;
	char	*buf;
	long	 n;

	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(fread(buf, 1, (size_t)n, f), n);
	buf[n] = '\0';
	fclose(f);
	return (buf);
}

/*
 * Send line (may be empty) on a raw socket and return the next line that
 * comes (parsed; the caller decrefs).  One connection per test: the
 * lines read past it wait in a static buffer.
 */
static char	rx_buf[65536];
static size_t	rx_len;

static json_t *
rx_call(int fd, const char *line, int ms)
{
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	long		 end = e2e_now_ms() + e2e_slow(ms);
	ssize_t		 n;
	char		*nl;
	json_t		*j;

	ck_assert_int_eq(write(fd, line, strlen(line)), (ssize_t)strlen(line));
	for (;;) {
		rx_buf[rx_len] = '\0';
		if ((nl = strchr(rx_buf, '\n')) != NULL) {
			*nl = '\0';
			j = json_loads(rx_buf, 0, NULL);
			rx_len -= (size_t)(nl + 1 - rx_buf);
			memmove(rx_buf, nl + 1, rx_len);
			return (j);
		}
		if (e2e_now_ms() >= end ||
		    poll(&pfd, 1, (int)(end - e2e_now_ms())) <= 0)
			break;
		if ((n = read(fd, rx_buf + rx_len, sizeof rx_buf - 1 -
		    rx_len)) <= 0)
			break;
		rx_len += (size_t)n;
	}
	ck_abort_msg("no reply to %s", line);
	return (NULL);
}

/*
 * N-1 -> N: a state written by an older gtd (tests/e2e/fixtures), with
 * keys this one does not know and without many it does, is taken over:
 * the process named in it (a child of the very process that execs gtd
 * -R, as after a real re-exec) is supervised, its attrs and counters
 * are there, the events go on from its seq, and its exit is reaped.
 */
START_TEST(e2e_reexec_old_state)
{
	char			 dir[] = "/tmp/gtd-rx-XXXXXX", sock[100];
	char			 fdtext[16];
	char			 path[256];
	char			*raw, *a, *b, *text, pidtext[16];
	const char		*fixdir, *gtd = getenv("GTD");
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
	int			 lfd, cfd, mfd, st;
	pid_t			 gpid, child, newpid;
	json_t			*r, *row;
	long			 end;

	ck_assert_ptr_nonnull(gtd);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sock, sizeof sock, "%s/sock", dir);
	if ((fixdir = getenv("GT_E2E_FIXTURES")) == NULL)
		fixdir = "tests/e2e/fixtures";
	snprintf(path, sizeof path, "%s/reexec-state-v1.json", fixdir);
	raw = rx_slurp(path);
	snprintf(path, sizeof path, "%s/gtd.log", dir);
	ck_assert_int_ne(lfd = socket(AF_UNIX, SOCK_STREAM, 0), -1);
	memcpy(sun.sun_path, sock, strlen(sock) + 1);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sun, sizeof sun), 0);
	ck_assert_int_eq(listen(lfd, 16), 0);
	ck_assert_int_ne(gpid = fork(), -1);
	if (gpid == 0) {
		/* The would-be gtd: its child first, then the exec. */
		if ((child = fork()) == 0) {
			execl(e2e_testchild(NULL), e2e_testchild(NULL),
			    (char *)NULL);
			_exit(127);
		}
		snprintf(pidtext, sizeof pidtext, "%d", (int)child);
		snprintf(fdtext, sizeof fdtext, "%d", lfd);
		a = rx_subst(raw, "@PID@", pidtext);
		b = rx_subst(a, "@LISTEN@", fdtext);
		text = rx_subst(b, "@TESTCHILD@", e2e_testchild(NULL));
		mfd = memfd_create("state", 0);
		if (mfd == -1 || write(mfd, text, strlen(text)) !=
		    (ssize_t)strlen(text))
			_exit(126);
		snprintf(fdtext, sizeof fdtext, "%d", mfd);
		cfd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(cfd, 2);
		execl(gtd, gtd, "-d", "-R", fdtext, "-s", sock, (char *)NULL);
		_exit(127);
	}
	close(lfd);
	rx_len = 0;
	ck_assert_int_ne(cfd = socket(AF_UNIX, SOCK_STREAM, 0), -1);
	ck_assert_int_eq(connect(cfd, (struct sockaddr *)&sun, sizeof sun), 0);
	r = rx_call(cfd, "{\"id\":1,\"op\":\"info\",\"name\":\"old\"}\n",
	    10000);
	ck_assert_msg(json_is_true(json_object_get(r, "ok")), "%s",
	    json_dumps(r, 0));
	child = (pid_t)json_integer_value(json_object_get(r, "pid"));
	ck_assert_int_gt(child, 0);
	ck_assert_str_eq(json_string_value(json_object_get(r, "state")),
	    "running");
	ck_assert_int_eq(json_integer_value(json_object_get(r,
	    "restart_count")), 2);
	row = json_object_get(r, "attrs");
	ck_assert_str_eq(json_string_value(json_object_get(row, "role")),
	    "primary");
	ck_assert_int_eq(json_integer_value(json_object_get(row, "weight")),
	    7);
	json_decref(r);
	r = rx_call(cfd, "{\"id\":2,\"op\":\"info\",\"name\":\"idle\"}\n",
	    5000);
	ck_assert_str_eq(json_string_value(json_object_get(r, "state")),
	    "stopped");
	json_decref(r);
	/* The events go on from the old seq: the reexec one is 42. */
	r = rx_call(cfd, "{\"id\":3,\"op\":\"subscribe\",\"since\":39}\n",
	    5000);
	ck_assert_msg(json_is_true(json_object_get(r, "ok")), "%s",
	    json_dumps(r, 0));
	json_decref(r);
	r = rx_call(cfd, "", 5000);	/* seq 40, replayed */
	ck_assert_int_eq(json_integer_value(json_object_get(r, "seq")), 40);
	json_decref(r);
	r = rx_call(cfd, "", 5000);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "seq")), 41);
	json_decref(r);
	r = rx_call(cfd, "", 5000);
	ck_assert_str_eq(json_string_value(json_object_get(r, "event")),
	    "reexec");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "seq")), 42);
	json_decref(r);
	/* Its process is gtd's child: the exit is reaped and restarted. */
	ck_assert_int_eq(kill(child, SIGKILL), 0);
	newpid = -1;
	for (end = e2e_now_ms() + e2e_slow(10000); e2e_now_ms() < end;) {
		r = rx_call(cfd, "", 5000);
		if (strcmp(json_string_value(json_object_get(r, "event")),
		    "started") == 0)
			newpid = (pid_t)json_integer_value(json_object_get(r,
			    "pid"));
		json_decref(r);
		if (newpid > 0)
			break;
	}
	ck_assert_int_gt(newpid, 0);
	ck_assert_int_ne(newpid, child);
	close(cfd);
	ck_assert_int_eq(kill(gpid, SIGTERM), 0);
	ck_assert_int_eq(waitpid(gpid, &st, 0), gpid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert(e2e_wait_dead(newpid, 5000));
	free(raw);
	(void)unlink(path);
	(void)unlink(sock);
	(void)rmdir(dir);
}
END_TEST

/* gtd -C: the pre-flight of an old state passes; a bad one says why. */
START_TEST(e2e_reexec_check_state)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*err, *fixdir;
	char		*raw, *a, *b;
	FILE		*f;

	if ((fixdir = getenv("GT_E2E_FIXTURES")) == NULL)
		fixdir = "tests/e2e/fixtures";
	raw = rx_slurp(e2e_fmt(e, "%s/reexec-state-v1.json", fixdir));
	a = rx_subst(raw, "@PID@", "12345");
	b = rx_subst(a, "@LISTEN@", "9");
	ck_assert_ptr_nonnull(f = fopen(e2e_path(e, "st.json"), "w"));
	fputs(b, f);
	fclose(f);
	free(raw);
	free(a);
	free(b);
	ck_assert_int_eq(e2e_exec(e, false, NULL, &err, "/bin/sh", "-c",
	    e2e_fmt(e, "exec \"$GTD\" -C 3 3<%s", e2e_path(e, "st.json")),
	    NULL), 0);
	(void)err;
	ck_assert_ptr_nonnull(f = fopen(e2e_path(e, "bad.json"), "w"));
	fputs("{\"version\": 99, \"children\": []}", f);
	fclose(f);
	ck_assert_int_eq(e2e_exec(e, false, NULL, &err, "/bin/sh", "-c",
	    e2e_fmt(e, "exec \"$GTD\" -C 3 3<%s", e2e_path(e, "bad.json")),
	    NULL), 1);
	ck_assert_msg(strstr(err, "format 99") != NULL, "%s", err);
	e2e_stop(e);
}
END_TEST

/*
 * adopt_on_restart: gtd is killed with SIGKILL; its children live on
 * (no PDEATHSIG), and the next gtd adopts each of them (same pid, its
 * attrs) instead of starting duplicates; an adopted one that dies is
 * restarted as a child of the new gtd.
 */
START_TEST(e2e_reexec_adopt_on_restart)
{
	struct e2e	*e;
	pid_t		 a, b, nb;
	json_t		*r;
	int		 st;
	char		 conf[1024];

	snprintf(conf, sizeof conf, "{\"adopt_on_restart\": true, "
	    "\"children\": [{\"name\": \"a\", \"cmd\": [\"%s\"], "
	    "\"stdout\": \"null\", \"stderr\": \"null\"}]}",
	    e2e_testchild(NULL));
	e = e2e_start(conf);

	a = (pid_t)e2e_int(e2e_row(e, "a"), "pid");
	b = e2e_spawn(e, "b", NULL);
	e2e_ok(e, "setattr", "{s:s, s:{s:s}}", "name", "b", "attrs", "k",
	    "v");
	/* Written within REEXEC_ADOPT_MS of the change. */
	ck_assert(e2e_wait_text(e2e_fmt(e, "%s.state", e2e_sock(e)),
	    "\"k\":\"v\"", 5000));
	ck_assert_int_eq(kill(e2e_pid(e), SIGKILL), 0);
	ck_assert(e2e_wait_exit(e, 5000, &st));
	ck_assert(e2e_pid_alive(a));
	ck_assert(e2e_pid_alive(b));
	e2e_restart(e);
	r = e2e_row(e, "a");
	ck_assert_int_eq(e2e_int(r, "pid"), a);
	ck_assert_str_eq(e2e_str(r, "state"), "running");
	ck_assert_int_eq(e2e_int(e2e_row(e, "b"), "pid"), b);
	r = e2e_ok(e, "getattr", "{s:s, s:s}", "name", "b", "key", "k");
	ck_assert_str_eq(e2e_str(r, "value"), "v");
	ck_assert_int_eq(e2e_int(e2e_ok(e, "count_children", NULL),
	    "active"), 2);
	/* Not our child: its end comes through the pidfd; then restarted. */
	ck_assert_int_eq(kill(b, SIGKILL), 0);
	ck_assert_int_gt(nb = e2e_wait_restarted(e, "b", b, 10000), 0);
	ck_assert_int_eq(e2e_int(e2e_row(e, "b"), "restart_count"), 1);
	e2e_stop(e);
	ck_assert(!e2e_pid_alive(a));
	ck_assert(!e2e_pid_alive(nb));
}
END_TEST

/* Without adopt_on_restart the same kill leaves no child behind. */
START_TEST(e2e_reexec_no_adopt)
{
	struct e2e	*e = e2e_start(NULL);
	pid_t		 b;
	int		 st;

	b = e2e_spawn(e, "b", NULL);
	ck_assert_int_eq(kill(e2e_pid(e), SIGKILL), 0);
	ck_assert(e2e_wait_exit(e, 5000, &st));
	ck_assert(e2e_wait_dead(b, 5000));
	ck_assert_int_eq(access(e2e_fmt(e, "%s.state", e2e_sock(e)), F_OK),
	    -1);
	e2e_restart(e);
	ck_assert_ptr_null(e2e_row(e, "b"));
	e2e_stop(e);
}
END_TEST

/*
 * Requests sent behind the reexec on its connection are answered, in
 * order, by the new program; a partial line on another connection is
 * completed after the re-exec and answered there.
 */
START_TEST(e2e_reexec_pipelined)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_conn	*cn = e2e_client(e), *part = e2e_client(e);
	json_t		*r;

	e2e_cok(part, "ping", NULL);
	e2e_send_raw(part, "{\"id\":\"p\",\"op\":\"pi", 18);
	e2e_send_line(cn, "{\"id\":1,\"op\":\"reexec\"}\n"
	    "{\"id\":2,\"op\":\"ping\"}\n{\"id\":3,\"op\":\"hello\"}");
	r = e2e_recv(cn, 10000);
	ck_assert_int_eq(e2e_int(r, "id"), 1);
	ck_assert_str_eq(e2e_str(r, "version"), GT_VERSION);
	r = e2e_recv(cn, 5000);
	ck_assert_int_eq(e2e_int(r, "id"), 2);
	ck_assert(json_is_true(json_object_get(r, "ok")));
	r = e2e_recv(cn, 5000);
	ck_assert_int_eq(e2e_int(r, "id"), 3);
	ck_assert_int_eq(e2e_int(r, "pid"), e2e_pid(e));
	e2e_send_line(part, "ng\"}");
	r = e2e_recv(part, 5000);
	ck_assert_str_eq(e2e_str(r, "id"), "p");
	ck_assert(json_is_true(json_object_get(r, "ok")));
	e2e_stop(e);
}
END_TEST

/*
 * An OOM kill is a reason of its own in policies: on_exit steps take
 * "when": "oom" (normalised back), anything else is refused naming the
 * field.  (The kill itself needs a memory controller: the decision is
 * tested in check_policy, the detection in check_cgroup.)
 */
START_TEST(e2e_reexec_oom_step)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*r, *steps;
	pid_t		 pid;

	e2e_ok(e, "start_child", "{s:s, s:o, s:[{s:s, s:s}, {s:s, s:i}]}",
	    "name", "m", "cmd", e2e_cmd(NULL), "on_exit", "action", "stop",
	    "when", "oom", "action", "restart", "delay_ms", 10);
	r = e2e_ok(e, "get_childspec", "{s:s}", "name", "m");
	steps = e2e_get(e2e_get(r, "spec"), "on_exit");
	ck_assert_str_eq(e2e_str(json_array_get(steps, 0), "when"), "oom");
	ck_assert_ptr_null(json_object_get(json_array_get(steps, 1), "when"));
	r = e2e_err(e, "bad_request", "start_child", "{s:s, s:o, s:[{s:s, "
	    "s:s}]}", "name", "n", "cmd", e2e_cmd(NULL), "on_exit", "action",
	    "stop", "when", "exit");
	ck_assert_str_eq(e2e_str(r, "field"), "on_exit.0.when");
	/* A plain kill takes the common step: restarted. */
	pid = (pid_t)e2e_int(e2e_row(e, "m"), "pid");
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_gt(e2e_wait_restarted(e, "m", pid, 5000), 0);
	ck_assert_int_eq(e2e_int(e2e_row(e, "m"), "restart_count"), 1);
	e2e_stop(e);
}
END_TEST

/*
 * A new program that passes its pre-flight but fails after the execve
 * (here: it is given a config file that does not exist) hands back to
 * the previous one, which replies reexec_failed and goes on with every
 * child.  A reexec with path makes that binary gtd's own.
 */
START_TEST(e2e_reexec_fallback)
{
	struct e2e	*e = e2e_start(NULL);
	pid_t		 pid, gpid = e2e_pid(e);
	json_t		*r;
	char		 real[4096], body[8400];
	const char	*copy, *wrap;

	ck_assert_ptr_nonnull(realpath(getenv("GTD"), real));
	pid = e2e_spawn(e, "keep", NULL);
	snprintf(body, sizeof body, "case \"$1\" in\n"
	    "-C) exec '%s' \"$@\" ;;\n"
	    "-R) exec '%s' \"$@\" -c /nonexistent/gtd.json ;;\n"
	    "esac\nexit 64", real, real);
	wrap = rx_script(e, "broken.sh", body);
	r = e2e_err(e, "reexec_failed", "reexec", "{s:s}", "path", wrap);
	ck_assert_msg(strstr(e2e_str(r, "message"), "after execve") != NULL &&
	    strstr(e2e_str(r, "message"), "/nonexistent/gtd.json") != NULL,
	    "%s", e2e_str(r, "message"));
	ck_assert_int_eq(e2e_pid(e), gpid);
	ck_assert_int_eq(e2e_int(e2e_row(e, "keep"), "pid"), pid);
	e2e_ok(e, "ping", NULL);
	/* The previous binary is still its own: a plain reexec works. */
	r = e2e_ok(e, "reexec", NULL);
	ck_assert_int_eq(e2e_int(r, "pid"), gpid);
	/* path: that binary is gtd's own from now on. */
	copy = e2e_path(e, "gtd-copy");
	ck_assert_int_eq(e2e_exec(e, false, NULL, NULL, "/bin/cp", real,
	    copy, NULL), 0);
	r = e2e_ok(e, "reexec", "{s:s}", "path", copy);
	ck_assert_int_eq(e2e_int(r, "pid"), gpid);
	ck_assert_int_eq(unlink(copy), 0);
	r = e2e_err(e, "reexec_failed", "reexec", NULL);
	ck_assert_msg(strstr(e2e_str(r, "message"), "gtd-copy") != NULL,
	    "%s", e2e_str(r, "message"));
	ck_assert_int_eq(e2e_int(e2e_row(e, "keep"), "pid"), pid);
	e2e_stop(e);
}
END_TEST

/* Wait for a datagram on fd with a line starting with want, within ms. */
static bool
rx_sd_wait(int fd, const char *want, int ms)
{
	char		 buf[4096];
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	long		 end = e2e_now_ms() + e2e_slow(ms);
	ssize_t		 n;
	const char	*p;

	while (e2e_now_ms() < end) {
		if (poll(&pfd, 1, (int)(end - e2e_now_ms())) != 1)
			continue;
		if ((n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT)) < 0)
			continue;
		buf[n] = '\0';
		for (p = buf; p != NULL; p = strchr(p, '\n')) {
			if (*p == '\n')
				p++;
			if (strncmp(p, want, strlen(want)) == 0)
				return (true);
		}
	}
	return (false);
}

/*
 * Under systemd: the new program still talks to the service manager
 * (NOTIFY_SOCKET and the watchdog are handed over with the state).
 */
START_TEST(e2e_reexec_systemd)
{
	char			 dir[] = "/tmp/gtd-rxsd-XXXXXX", addr[64];
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
	struct e2e		*e;
	int			 fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(addr, sizeof addr, "%s/notify", dir);
	memcpy(sun.sun_path, addr, strlen(addr) + 1);
	ck_assert_int_ge(fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0),
	    0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	setenv("NOTIFY_SOCKET", addr, 1);
	setenv("WATCHDOG_USEC", "400000", 1);
	e = e2e_start(NULL);
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	ck_assert(rx_sd_wait(fd, "READY=1", 5000));
	e2e_ok(e, "reexec", NULL);
	/* READY=1 again from the new program, then its watchdog pings. */
	ck_assert(rx_sd_wait(fd, "READY=1", 5000));
	ck_assert(rx_sd_wait(fd, "WATCHDOG=1", 5000));
	e2e_stop(e);
	close(fd);
	unlink(addr);
	rmdir(dir);
}
END_TEST

/* gtctl reexec: prints the new program's pid and version. */
START_TEST(e2e_reexec_gtctl)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*out;
	char		 want[64];

	e2e_spawn(e, "a", NULL);
	ck_assert_int_eq(e2e_gtctl(e, &out, "reexec", NULL), 0);
	snprintf(want, sizeof want, "pid: %d", (int)e2e_pid(e));
	ck_assert_msg(strstr(out, want) != NULL, "%s", out);
	ck_assert_int_ne(e2e_gtctl(e, &out, "reexec", "--path", "/bin/false",
	    NULL), 0);
	ck_assert_ptr_nonnull(strstr(e2e_gtctl_stderr(e), "reexec_failed"));
	e2e_ok(e, "ping", NULL);
	e2e_stop(e);
}
END_TEST

Suite *
e2e_reexec_suite(void)
{
	Suite	*s = suite_create("e2e_reexec");
	TCase	*tc = tcase_create("reexec");

	/* $GTD_REEXEC_CHILDREN: starting them takes its time. */
	tcase_set_timeout(tc, E2E_TIMEOUT * 2 + rx_children() / 10);
	tcase_add_test(tc, e2e_reexec_many);
	tcase_add_test(tc, e2e_reexec_exit_in_gap);
	tcase_add_test(tc, e2e_reexec_preflight_fails);
	tcase_add_test(tc, e2e_reexec_gtctl);
	tcase_add_test(tc, e2e_reexec_pipelined);
	tcase_add_test(tc, e2e_reexec_oom_step);
	tcase_add_test(tc, e2e_reexec_fallback);
	tcase_add_test(tc, e2e_reexec_systemd);
	tcase_add_test(tc, e2e_reexec_old_state);
	tcase_add_test(tc, e2e_reexec_check_state);
	tcase_add_test(tc, e2e_reexec_adopt_on_restart);
	tcase_add_test(tc, e2e_reexec_no_adopt);
	suite_add_tcase(s, tc);
	return (s);
}
