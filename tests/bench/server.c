/* SPDX-License-Identifier: MIT */
/*
 * server: start and stop the servers under test (gtd, the echo baseline,
 * redis-server), each on a socket in the bench's private directory and
 * with its stderr in a log file there.  gtd and echo signal readiness on
 * fd 3 (gtd -r 3); redis is polled with PING.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/bench/bench.h"

#define SERVER_START_SECS	10.0
#define SERVER_STOP_SECS	30.0

static void
server_paths(struct server *s, const char *dir, const char *name)
{
	memset(s, 0, sizeof *s);
	if ((size_t)snprintf(s->sock, sizeof s->sock, "%s/%s.sock", dir,
	    name) >= sizeof s->sock)
		bench_die("%s: socket path too long", dir);
	snprintf(s->log, sizeof s->log, "%s/%s.log", dir, name);
}

void
server_gtd(struct server *s, const char *gtd, const char *dir,
    const char *name, const char *config)
{
	const char	*argv[] = { gtd, "-s", NULL, "-r", "3", NULL, NULL,
	    NULL };

	server_paths(s, dir, name);
	argv[2] = s->sock;
	if (config != NULL) {
		argv[5] = "-c";
		argv[6] = config;
	}
	s->pid = bench_start(argv, s->log, 3, SERVER_START_SECS);
}

void
server_echo(struct server *s, const char *echo, const char *dir)
{
	const char	*argv[] = { echo, "-s", NULL, "-r", "3", NULL };

	server_paths(s, dir, "echo");
	argv[2] = s->sock;
	s->pid = bench_start(argv, s->log, 3, SERVER_START_SECS);
}

bool
server_have(const char *prog)
{
	char	*path, *p, *dir, buf[4096];
	bool	 found = false;

	if ((path = getenv("PATH")) == NULL || (path = strdup(path)) == NULL)
		return (false);
	for (p = path; !found && (dir = strsep(&p, ":")) != NULL; ) {
		snprintf(buf, sizeof buf, "%s/%s", *dir ? dir : ".", prog);
		found = access(buf, X_OK) == 0;
	}
	free(path);
	return (found);
}

bool
server_redis(struct server *s, const char *dir)
{
	const char	*argv[] = { "redis-server", "--port", "0",
	    "--unixsocket", NULL, "--unixsocketperm", "700", "--save", "",
	    "--appendonly", "no", "--daemonize", "no", "--loglevel",
	    "warning", NULL };
	struct bconn	*bc;
	char		*l;
	int		 fd;

	if (!server_have("redis-server"))
		return (false);
	server_paths(s, dir, "redis");
	argv[4] = s->sock;
	s->pid = bench_start(argv, s->log, -1, 0);
	if ((fd = bench_connect_wait(s->sock, SERVER_START_SECS)) == -1)
		bench_die("redis-server did not start (see %s)", s->log);
	bc = bconn_new(fd);
	bconn_queue(bc, "PING\r\n", 6);
	if ((l = bconn_wait_line(bc, SERVER_START_SECS)) == NULL ||
	    strncmp(l, "+PONG", 5) != 0)
		bench_die("redis-server does not answer PING (see %s)", s->log);
	bconn_free(bc);
	return (true);
}

void
server_gtd_stop(struct server *s)
{
	struct bconn	*bc;
	int		 fd;

	if (s->pid <= 0)
		return;
	if ((fd = bench_connect(s->sock)) != -1) {
		bc = bconn_new(fd);
		(void)bconn_req(bc, 5.0, "{\"op\":\"shutdown\"}");
		bconn_free(bc);
	}
	if (bench_wait_exit(s->pid, SERVER_STOP_SECS, NULL) == -1)
		bench_stop(s->pid, 1.0);
	s->pid = 0;
	unlink(s->sock);
}

void
server_kill(struct server *s)
{
	if (s->pid <= 0)
		return;
	bench_stop(s->pid, 5.0);
	s->pid = 0;
	unlink(s->sock);
}
