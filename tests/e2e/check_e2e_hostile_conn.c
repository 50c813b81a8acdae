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
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
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
 */
START_TEST(hc_follower_stops_reading)
{
	struct e2e	*e = e2e_start(NULL);
	struct e2e_proc	*p;
	json_int_t	 base;
	pid_t		 pid = e2e_pid(e);

	e2e_spawn(e, "chatty", "--flood=0", NULL);
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
	return (s);
}
