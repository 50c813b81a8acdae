/* SPDX-License-Identifier: MIT */
/*
 * hello: a program that uses libgtd as an installed library, built by
 * tests/libgtd/run.sh with `pkg-config --cflags --libs gtd` only.
 * usage: hello SOCKET TESTCHILD NAME.  Starts a child, sets an attr through
 * the socket, reads both back from the mirror, pipelines pings; exits 0
 * when every answer is right, else prints what was wrong and exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gtd.h>

static int	failed;

static void
expect(int ok, const char *what, struct gtd_handle *h)
{
	if (!ok) {
		fprintf(stderr, "hello: %s (%s)\n", what, gtd_errmsg(h));
		failed = 1;
	}
}

int
main(int argc, char **argv)
{
	struct gtd_handle	*h;
	struct gtd_child	 c;
	struct gtd_mirror_stat	 st;
	char			 req[1024], *reply, id[32];
	const char		*name;
	int64_t			 n = 0;
	int			 i;

	if (argc != 4) {
		fprintf(stderr, "usage: hello SOCKET TESTCHILD NAME\n");
		return (2);
	}
	name = argv[3];
	if ((h = gtd_open(argv[1])) == NULL) {
		perror("gtd_open");
		return (1);
	}
	snprintf(req, sizeof req, "{\"op\":\"start_child\",\"name\":\"%s\","
	    "\"cmd\":[\"%s\"],\"attrs\":{\"n\":41}}", name, argv[2]);
	expect(gtd_call(h, req, &reply) == GTD_OK && strstr(reply,
	    "\"ok\":true") != NULL, "start_child", h);
	free(reply);
	snprintf(req, sizeof req, "{\"op\":\"setattr\",\"name\":\"%s\","
	    "\"attrs\":{\"n\":42}}\n", name);
	expect(gtd_call(h, req, &reply) == GTD_OK && strstr(reply,
	    "\"ok\":true") != NULL, "setattr", h);
	free(reply);
	expect(gtd_find(h, name, &c) == GTD_OK && c.pid > 0 &&
	    c.state == GTD_RUNNING, "find", h);
	expect(gtd_getattr_int(h, name, "n", &n) == GTD_OK && n == 42,
	    "getattr n", h);
	expect(gtd_find(h, "nobody-here", &c) == GTD_ENOTFOUND, "not found",
	    h);
	for (i = 0; i < 10; i++) {
		snprintf(req, sizeof req, "{\"op\":\"ping\",\"id\":%d}", i);
		expect(gtd_send(h, req) == GTD_OK, "send", h);
	}
	for (i = 0; i < 10; i++) {
		snprintf(id, sizeof id, "\"id\":%d", i);
		expect(gtd_recv(h, &reply) == GTD_OK && strstr(reply, id) !=
		    NULL, "recv in order", h);
		free(reply);
	}
	gtd_mirror_stat(h, &st);
	expect(st.mapped && st.fallbacks == 0, "reads from the mirror", h);
	gtd_close(h);
	if (!failed)
		printf("hello: ok (pid %d, n %lld)\n", (int)c.pid,
		    (long long)n);
	return (failed);
}
