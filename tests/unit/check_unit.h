/* SPDX-License-Identifier: MIT */
/*
 * check_unit: what the unit suites share.  Each check_<module>.c exports
 * one <module>_suite(); check_main.c runs them all in one SRunner and
 * also holds the fakes below: the spawn seam (house style E7) and a
 * socketpair client for the connection tests.  Test processes are forked
 * (CK_FORK), so the fakes' globals start fresh in every test.
 */
#ifndef CHECK_UNIT_H
#define CHECK_UNIT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <check.h>
#include <jansson.h>

struct childspec;
struct conn;
struct gtd;

/* The number of rows of a test table (tcase_add_loop_test bounds). */
#define NROWS(a)	((int)(sizeof (a) / sizeof (a)[0]))

Suite	*spec_suite(void);
Suite	*policy_suite(void);
Suite	*registry_suite(void);
Suite	*proto_suite(void);
Suite	*conn_suite(void);
Suite	*cmd_suite(void);
Suite	*child_suite(void);
Suite	*config_suite(void);
Suite	*sd_suite(void);
Suite	*query_suite(void);
Suite	*attrtab_suite(void);
Suite	*gtctl_text_suite(void);
Suite	*log_suite(void);
Suite	*shmirror_suite(void);
Suite	*fence_suite(void);
Suite	*etcd_suite(void);
Suite	*cluster_suite(void);
Suite	*libgtd_suite(void);
Suite	*childlog_suite(void);
Suite	*deps_suite(void);
Suite	*group_suite(void);
Suite	*envfile_suite(void);
Suite	*cglimits_suite(void);
Suite	*cgroup_suite(void);
Suite	*procstat_suite(void);
Suite	*acl_suite(void);
Suite	*healthspec_suite(void);
Suite	*plan_suite(void);
Suite	*spawn_suite(void);

/*
 * The fake child_ops.  spawn never forks: it returns FAKE_PID_BASE +
 * n * fake_pid_step (1 unless a test spreads the pids over hash buckets)
 * for its n-th successful call and hands back fake_statusfd (-1 unless a
 * test sets it; the child then owns that fd), or fails with errno
 * fake_spawn_errno when that is non-zero.  kill records each call and
 * returns -1 with ESRCH for a group (negative pid) when fake_group_esrch.
 * A plan's extra fd (the write end of a ready pipe) is dup'd into
 * fake_extra_fd, so a test can play the child's side of it.  pidfd_open
 * is the real one unless fake_pidfd_errno is set (then -1 with it: a
 * kernel without pidfd_open is ENOSYS).
 */
#define FAKE_PID_BASE	100000
#define FAKE_MAX_KILLS	64
#define FAKE_MAX_STR	64

struct fake_kill {
	pid_t	pid;
	int	sig;
};

/* A copy of the last spawn_plan passed to the fake spawn. */
struct fake_plan {
	char	*path;
	char	*argv[FAKE_MAX_STR];
	char	*envp[FAKE_MAX_STR];
	char	*cwd;
	bool	 new_session;
	pid_t	 parent;
	int	 fd_in;
	char	*stdin_text;		/* what fd_in held (a hook's payload) */
	int	 extra_target;		/* -1: no extra fd */
	int	 fd_out;		/* dup2'd to 1 and 2 */
	int	 fd_err;
};

extern const struct child_ops	fake_ops;
extern int			fake_nspawn;	/* successful spawns */
extern int			fake_pid_step;
extern int			fake_spawn_errno;
extern int			fake_statusfd;
extern bool			fake_group_esrch;
extern struct fake_kill		fake_kills[FAKE_MAX_KILLS];
extern int			fake_nkills;
extern struct fake_plan		fake_last_plan;
extern int			fake_extra_fd;	/* dup of the plan's extra_fd */
extern int			fake_pidfd_errno;

/* A gtd on EV_DEFAULT with fake_ops; fails the test if it cannot. */
struct gtd		*test_gtd_new(void);
/* A valid spec: name, cmd ["/bin/true"], the given restart type. */
struct childspec	*test_spec(const char *name, int restart);
/* Is env entry "KEY=VALUE" in the last plan's environment? */
bool			 fake_plan_has_env(const char *kv);

/*
 * A client on the other end of a socketpair whose server end is a conn
 * of g.  Every wait runs the loop with EVRUN_NOWAIT and polls the client
 * end, until a condition or a deadline (never a fixed sleep).
 */
struct test_client {
	struct gtd	*g;
	struct conn	*cn;
	int		 fd;		/* the client end, blocking */
	char		*buf;		/* bytes received, not yet taken */
	size_t		 len;
	size_t		 size;
	bool		 eof;
};

#define TEST_DEADLINE_MS	2000

void	 test_client_open(struct test_client *, struct gtd *);
void	 test_client_close(struct test_client *);	/* the client end */
/* Write all of s (send with MSG_NOSIGNAL); fails the test on error. */
void	 test_client_send(struct test_client *, const char *s, size_t len);
void	 test_client_sendz(struct test_client *, const char *s);
/* One loop iteration and a short poll of the client end. */
void	 test_client_pump(struct test_client *, int poll_ms);
/* The next reply line, parsed (caller decrefs), or NULL on EOF/deadline. */
json_t	*test_client_reply(struct test_client *);
/* Wait for EOF; false if a line came first or the deadline passed. */
bool	 test_client_wait_eof(struct test_client *);
/* Pump until cond(arg) holds or the deadline passes; returns cond. */
bool	 test_client_until(struct test_client *, bool (*cond)(void *),
	    void *arg);
/* Milliseconds on the monotonic clock. */
long long	test_now_ms(void);
/*
 * A listening TCP socket on 127.0.0.1, any port (a fake HTTP server's):
 * its descriptor, and its "http://127.0.0.1:PORT" in url.  Fails the
 * test on error.
 */
int	test_listen_loopback(int backlog, char *url, size_t urlsize);

Suite	*reexec_suite(void);

#endif /* CHECK_UNIT_H */
