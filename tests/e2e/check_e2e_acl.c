/* SPDX-License-Identifier: MIT */
/*
 * check_e2e_acl: access control with real peer credentials.  The tests
 * run as root; a client of another user is a forked process that drops
 * to nobody (65534) before it connects, so SO_PEERCRED sees nobody.  The
 * test directory is made searchable and the socket mode 0666, so the
 * socket file lets nobody in and only the acl decides.  A supervised
 * child runs its client (gtctl raw) as nobody under setpriv, in the
 * child's session: it may read, and write its own row ("self": true),
 * but not another's.  Root (and gtd's own user, root here too) is always
 * admin.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "gt/client.h"
#include "harness.h"

#define ACL_WAIT_MS	5000
#define NOBODY		65534

/* What one as_nobody() run got. */
struct peer {
	pid_t	 pid;			/* the client process */
	json_t	*r[32];			/* reply per request (owned) */
	int	 n;
};

/*
 * gtd with {"socket_mode":"0666","acl":ACL}, its directory searchable by
 * everyone.  The tests switch users, so they must run as root.
 */
static struct e2e *
acl_start(const char *acl)
{
	struct e2e	*e;
	char		 conf[1024];

	ck_assert_msg(geteuid() == 0, "the acl tests switch users: run them "
	    "as root");
	snprintf(conf, sizeof conf, "{\"socket_mode\":\"0666\",\"acl\":%s}",
	    acl);
	e = e2e_start(conf);
	ck_assert_int_eq(chmod(e2e_dir(e), 0755), 0);
	return (e);
}

/* In the forked client: become nobody, connect, send, relay replies. */
static void
as_nobody_child(struct e2e *e, const char *const *lines, int out)
{
	struct client	*c;
	const char	*r;
	char		*cause;
	size_t		 len;
	int		 i;

	if (setgroups(0, NULL) == -1 || setgid(NOBODY) == -1 ||
	    setuid(NOBODY) == -1)
		_exit(71);
	if ((c = client_connect(e2e_sock(e), &cause)) == NULL) {
		dprintf(out, "{\"client\":\"connect: %s\"}\n", cause);
		_exit(70);
	}
	for (i = 0; lines[i] != NULL; i++) {
		if (client_send(c, lines[i], strlen(lines[i])) == -1 ||
		    (r = client_recv(c, ACL_WAIT_MS, &len)) == NULL) {
			dprintf(out, "{\"client\":\"%s\"}\n", strerror(errno));
			_exit(70);
		}
		if (write(out, r, len) != (ssize_t)len ||
		    write(out, "\n", 1) != 1)
			_exit(70);
	}
	_exit(0);
}

/*
 * Send the request lines (NULL-terminated) on one connection made by a
 * process running as nobody; p gets its pid and the replies.  Every
 * request must get its reply.
 */
static void
as_nobody(struct e2e *e, const char *const *lines, struct peer *p)
{
	struct pollfd	 pfd;
	char		 buf[65536], *line, *nl;
	size_t		 len = 0;
	long		 deadline = e2e_now_ms() + ACL_WAIT_MS;
	ssize_t		 k;
	int		 fds[2], st, n = 0;

	for (n = 0; lines[n] != NULL; n++)
		ck_assert_int_lt(n, 31);
	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	fflush(NULL);
	ck_assert_int_ne(p->pid = fork(), -1);
	if (p->pid == 0) {
		close(fds[0]);
		as_nobody_child(e, lines, fds[1]);
	}
	close(fds[1]);
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	while (e2e_now_ms() < deadline && len < sizeof buf - 1) {
		if (poll(&pfd, 1, (int)(deadline - e2e_now_ms())) <= 0)
			continue;
		if ((k = read(fds[0], buf + len, sizeof buf - 1 - len)) <= 0)
			break;
		len += k;
	}
	buf[len] = '\0';
	close(fds[0]);
	kill(p->pid, SIGKILL);		/* only if it is stuck */
	ck_assert_int_eq(waitpid(p->pid, &st, 0), p->pid);
	p->n = 0;
	for (line = buf; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		*nl = '\0';
		p->r[p->n] = json_loads(line, 0, NULL);
		ck_assert_msg(p->r[p->n] != NULL, "not JSON: %s", line);
		ck_assert_msg(json_object_get(p->r[p->n], "client") == NULL,
		    "client as nobody: %s", line);
		p->n++;
	}
	ck_assert_msg(p->n == n, "%d replies to %d requests (status 0x%x): %s",
	    p->n, n, st, buf);
}

/* Reply i is ok (or, with code, that error). */
static void
want(struct e2e *e, const char *const *lines, struct peer *p, int i,
    const char *code)
{
	json_t		*r = p->r[i];
	const char	*err;

	if (code == NULL) {
		ck_assert_msg(json_is_true(json_object_get(r, "ok")),
		    "as nobody: %s -> %s: want ok", lines[i], e2e_dump(e, r));
		return;
	}
	err = json_string_value(json_object_get(r, "error"));
	ck_assert_msg(json_is_false(json_object_get(r, "ok")) && err != NULL &&
	    strcmp(err, code) == 0, "as nobody: %s -> %s: want %s", lines[i],
	    e2e_dump(e, r), code);
}

static void
peer_free(struct peer *p)
{
	int	i;

	for (i = 0; i < p->n; i++)
		json_decref(p->r[i]);
	p->n = 0;
}

/*
 * default read, nobody write: nobody reads and writes attrs, but every
 * control and admin op is permission_denied, and the denial is logged
 * with the peer's uid and pid.
 */
START_TEST(e2e_acl_read_write)
{
	static const char *const	 lines[] = {
		"{\"id\":0,\"op\":\"hello\"}",
		"{\"id\":1,\"op\":\"find\",\"name\":\"a\"}",
		"{\"id\":2,\"op\":\"list\"}",
		"{\"id\":3,\"op\":\"which_children\"}",
		"{\"id\":4,\"op\":\"getattr\",\"name\":\"a\",\"key\":\"k\"}",
		"{\"id\":5,\"op\":\"setattr\",\"name\":\"a\","
		"\"attrs\":{\"w\":2}}",
		"{\"id\":6,\"op\":\"increment\",\"name\":\"a\",\"key\":\"n\","
		"\"default\":0}",
		"{\"id\":7,\"op\":\"delattr\",\"name\":\"a\",\"key\":\"k\"}",
		"{\"id\":8,\"op\":\"terminate_child\",\"name\":\"a\"}",
		"{\"id\":9,\"op\":\"start_child\",\"name\":\"b\","
		"\"cmd\":[\"/bin/true\"]}",
		"{\"id\":10,\"op\":\"find_or_open\",\"name\":\"b\","
		"\"cmd\":[\"/bin/true\"]}",
		"{\"id\":11,\"op\":\"restart_child\",\"name\":\"a\"}",
		"{\"id\":12,\"op\":\"signal\",\"name\":\"a\","
		"\"signal\":\"HUP\"}",
		"{\"id\":13,\"op\":\"reload\"}",
		"{\"id\":14,\"op\":\"shutdown\"}",
		"{\"id\":15,\"op\":\"info\",\"name\":\"a\"}",
		"{\"id\":16,\"op\":\"logs\",\"name\":\"a\"}",
		"{\"id\":17,\"op\":\"setattr\",\"self\":true,"
		"\"attrs\":{\"x\":1}}",
		"{\"id\":18,\"op\":\"ping\"}",
		NULL
	};
	static const char *const	 codes[] = {
		NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
		"permission_denied", "permission_denied", "permission_denied",
		"permission_denied", "permission_denied", "permission_denied",
		"permission_denied", NULL, NULL, "permission_denied", NULL
	};
	struct e2e	*e;
	struct peer	 p;
	const char	*log;
	pid_t		 a;
	int		 i;

	e = acl_start("{\"default\":\"read\","
	    "\"users\":{\"nobody\":\"write\"}}");
	a = e2e_spawn(e, "a", NULL);
	e2e_ok(e, "setattr", "{s:s, s:{s:i}}", "name", "a", "attrs", "k", 1);
	as_nobody(e, lines, &p);
	for (i = 0; lines[i] != NULL; i++)
		want(e, lines, &p, i, codes[i]);
	ck_assert_int_eq(e2e_int(p.r[1], "pid"), a);
	ck_assert_int_eq(e2e_int(p.r[4], "value"), 1);
	ck_assert_int_eq(e2e_int(p.r[6], "value"), 1);
	/* Nothing the denied requests asked for happened. */
	ck_assert_int_eq(e2e_int(e2e_ok(e, "find", "{s:s}", "name", "a"),
	    "pid"), a);
	ck_assert(e2e_row(e, "b") == NULL);
	ck_assert_int_eq(e2e_int(e2e_ok(e, "getattr", "{s:s, s:s}", "name",
	    "a", "key", "w"), "value"), 2);
	ck_assert(e2e_pid_alive(e2e_pid(e)));
	log = e2e_path(e, "gtd.log");
	ck_assert_msg(e2e_wait_text(log, e2e_fmt(e, "uid %d pid %d: "
	    "terminate_child denied", NOBODY, (int)p.pid), ACL_WAIT_MS),
	    "denial not logged with uid %d pid %d", NOBODY, (int)p.pid);
	ck_assert(e2e_wait_text(log, e2e_fmt(e, "uid %d pid %d: reload denied",
	    NOBODY, (int)p.pid), ACL_WAIT_MS));
	peer_free(&p);
	e2e_stop(e);
}
END_TEST

/*
 * default none: nobody may not even find or ping; root (and gtd's own
 * uid) stays admin, even when the acl names root "none".
 */
START_TEST(e2e_acl_default_none)
{
	static const char *const	 lines[] = {
		"{\"id\":0,\"op\":\"find\",\"name\":\"a\"}",
		"{\"id\":1,\"op\":\"ping\"}",
		"{\"id\":2,\"op\":\"hello\"}",
		"{\"id\":3,\"op\":\"list\"}",
		"{\"id\":4,\"op\":\"subscribe\"}",
		"{\"id\":5,\"op\":\"query\",\"sql\":\"SELECT 1\"}",
		NULL
	};
	struct e2e	*e;
	struct peer	 p;
	int		 i;

	e = acl_start("{\"default\":\"none\",\"users\":{\"root\":\"none\"}}");
	e2e_spawn(e, "a", NULL);
	as_nobody(e, lines, &p);
	for (i = 0; lines[i] != NULL; i++)
		want(e, lines, &p, i, "permission_denied");
	e2e_ok(e, "find", "{s:s}", "name", "a");
	e2e_ok(e, "setattr", "{s:s, s:{s:i}}", "name", "a", "attrs", "k", 1);
	e2e_ok(e, "terminate_child", "{s:s}", "name", "a");
	e2e_ok(e, "reload", NULL);
	peer_free(&p);
	e2e_stop(e);
}
END_TEST

/* Users by uid number and groups by name map to their class. */
START_TEST(e2e_acl_users_groups)
{
	static const char *const	 lines[] = {
		"{\"id\":0,\"op\":\"find\",\"name\":\"a\"}",
		"{\"id\":1,\"op\":\"setattr\",\"name\":\"a\","
		"\"attrs\":{\"w\":1}}",
		"{\"id\":2,\"op\":\"reload\"}",
		"{\"id\":3,\"op\":\"terminate_child\",\"name\":\"a\"}",
		NULL
	};
	struct e2e	*e;
	struct peer	 p;

	/* uid 65534 is control: all but reload. */
	e = acl_start("{\"default\":\"none\","
	    "\"users\":{\"65534\":\"control\"}}");
	e2e_spawn(e, "a", NULL);
	as_nobody(e, lines, &p);
	want(e, lines, &p, 0, NULL);
	want(e, lines, &p, 1, NULL);
	want(e, lines, &p, 2, "permission_denied");
	want(e, lines, &p, 3, NULL);
	ck_assert_str_eq(e2e_str(e2e_row(e, "a"), "state"), "stopped");
	peer_free(&p);
	e2e_stop(e);

	/* Group nogroup (nobody's) is write: no terminate. */
	e = acl_start("{\"default\":\"none\","
	    "\"groups\":{\"nogroup\":\"write\"}}");
	e2e_spawn(e, "a", NULL);
	as_nobody(e, lines, &p);
	want(e, lines, &p, 0, NULL);
	want(e, lines, &p, 1, NULL);
	want(e, lines, &p, 2, "permission_denied");
	want(e, lines, &p, 3, "permission_denied");
	ck_assert_str_eq(e2e_str(e2e_row(e, "a"), "state"), "running");
	peer_free(&p);
	e2e_stop(e);
}
END_TEST

/*
 * A supervised child, running its client as nobody in its session, with
 * acl default none: it may read, and write its own row with "self":
 * true, but not another row, and no control op.  Its client is gtctl raw
 * (stdout in the child's log), then it stays up as gt-testchild.
 */
START_TEST(e2e_acl_self)
{
	static const char *const	 lines[] = {
		"{\"id\":0,\"op\":\"setattr\",\"self\":true,"
		"\"attrs\":{\"mine\":1}}",
		"{\"id\":1,\"op\":\"setattr\",\"name\":\"other\","
		"\"attrs\":{\"x\":1}}",
		"{\"id\":2,\"op\":\"find\",\"name\":\"other\"}",
		"{\"id\":3,\"op\":\"getattr\",\"self\":true,\"key\":\"mine\"}",
		"{\"id\":4,\"op\":\"terminate_child\",\"self\":true}",
		"{\"id\":5,\"op\":\"increment\",\"name\":\"selfy\","
		"\"key\":\"n\",\"default\":0}",
		NULL
	};
	static const char *const	 codes[] = {
		NULL, "permission_denied", NULL, NULL, "permission_denied", NULL
	};
	struct e2e	*e;
	json_t		*cmd, *got[6] = { NULL }, *r, *lns, *ln, *id;
	const char	*text;
	char		 gtctl[PATH_MAX];
	long		 deadline;
	size_t		 i;
	pid_t		 other, selfy;
	int		 n = 0;

	ck_assert_ptr_nonnull(realpath(getenv("GTCTL") != NULL ?
	    getenv("GTCTL") : "build/gtctl", gtctl));
	e = acl_start("{\"default\":\"none\"}");
	other = e2e_spawn(e, "other", NULL);
	cmd = json_pack("[s, s, s, s, s, s, s, s, s]", "setpriv",
	    "--reuid=65534", "--regid=65534", "--clear-groups", "/bin/sh", "-c",
	    "tc=$1; shift; \"$0\" raw \"$@\"; exec \"$tc\"", gtctl,
	    e2e_testchild(e));
	for (i = 0; lines[i] != NULL; i++)
		json_array_append_new(cmd, json_string(lines[i]));
	selfy = (pid_t)e2e_int(e2e_ok(e, "start_child", "{s:s, s:o}", "name",
	    "selfy", "cmd", cmd), "pid");
	/* The replies come back in selfy's log. */
	deadline = e2e_now_ms() + ACL_WAIT_MS;
	while (n < 6 && e2e_now_ms() < deadline) {
		lns = e2e_get(e2e_ok(e, "logs", "{s:s, s:i}", "name", "selfy",
		    "lines", 1000), "lines");
		json_array_foreach(lns, i, ln) {
			text = json_string_value(json_object_get(ln, "line"));
			r = text != NULL ? json_loads(text, 0, NULL) : NULL;
			id = json_object_get(r, "id");
			if (json_is_integer(id) &&
			    json_integer_value(id) >= 0 &&
			    json_integer_value(id) < 6 &&
			    got[json_integer_value(id)] == NULL) {
				got[json_integer_value(id)] = r;
				n++;
			} else
				json_decref(r);
		}
		if (n < 6)
			poll(NULL, 0, 10);
	}
	ck_assert_msg(n == 6, "%d of 6 replies in the log of selfy: %s", n,
	    e2e_dump(e, e2e_ok(e, "logs", "{s:s}", "name", "selfy")));
	for (i = 0; i < 6; i++) {
		if (codes[i] == NULL)
			ck_assert_msg(json_is_true(json_object_get(got[i],
			    "ok")), "selfy as nobody: %s -> %s: want ok",
			    lines[i], e2e_dump(e, got[i]));
		else
			ck_assert_msg(json_is_false(json_object_get(got[i],
			    "ok")) && strcmp(e2e_str(got[i], "error"),
			    codes[i]) == 0,
			    "selfy as nobody: %s -> %s: want %s",
			    lines[i], e2e_dump(e, got[i]), codes[i]);
	}
	ck_assert_int_eq(e2e_int(got[2], "pid"), other);
	ck_assert_int_eq(e2e_int(got[3], "value"), 1);
	/* As root: selfy's attrs were written, other's were not. */
	ck_assert_int_eq(e2e_int(e2e_ok(e, "getattr", "{s:s, s:s}", "name",
	    "selfy", "key", "mine"), "value"), 1);
	ck_assert_int_eq(e2e_int(e2e_ok(e, "getattr", "{s:s, s:s}", "name",
	    "selfy", "key", "n"), "value"), 1);
	e2e_err(e, "not_found", "getattr", "{s:s, s:s}", "name", "other",
	    "key", "x");
	ck_assert_int_eq(e2e_int(e2e_ok(e, "find", "{s:s}", "name", "selfy"),
	    "pid"), selfy);
	ck_assert(e2e_wait_text(e2e_path(e, "gtd.log"), e2e_fmt(e,
	    "uid %d pid ", NOBODY), ACL_WAIT_MS));
	ck_assert(e2e_wait_text(e2e_path(e, "gtd.log"), "setattr denied",
	    ACL_WAIT_MS));
	for (i = 0; i < 6; i++)
		json_decref(got[i]);
	e2e_stop(e);
}
END_TEST

Suite *
e2e_acl_suite(void)
{
	Suite	*s = suite_create("e2e_acl");
	TCase	*tc;

	tc = tcase_create("acl");
	tcase_set_timeout(tc, E2E_TIMEOUT);
	tcase_add_test(tc, e2e_acl_read_write);
	tcase_add_test(tc, e2e_acl_default_none);
	tcase_add_test(tc, e2e_acl_users_groups);
	tcase_add_test(tc, e2e_acl_self);
	suite_add_tcase(s, tc);
	return (s);
}
