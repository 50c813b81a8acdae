/* SPDX-License-Identifier: MIT */
/*
 * harness: run the real gtd on a private socket and talk to it, for the
 * e2e suites (house style 3.8).
 *
 * e2e_start() makes a directory with mkdtemp("/tmp/gtd-XXXXXX"), starts
 * `$GTD -d -s DIR/sock -r 3 [-c DIR/gtd.json]` in its own process group
 * (stderr to DIR/gtd.log, stdout to DIR/gtd.out) and waits for the
 * readiness line with a deadline.  A guardian process watches the test:
 * if the test dies before e2e_stop() finished (a failed ck_assert
 * _exit()s at once, a Check timeout SIGKILLs it), the guardian kills gtd
 * and every process of this test, keeps DIR and prints the log's path.
 *
 * "Process of this test" means: its environ holds GTD_SOCKET=DIR/...;
 * gtd gives every child GTD_SOCKET and grandchildren inherit it.
 *
 * Ownership: every json_t and string the harness returns is borrowed and
 * stays valid until e2e_stop(), which frees them all, so tests never free
 * anything.  All waits take a deadline in milliseconds; nothing sleeps
 * for a fixed time.  Any harness failure fails the test (ck_abort_msg).
 *
 * Beware: jansson's json_is_*() macros evaluate their argument twice, so
 * never pass them a call that sends or receives (e2e_ok, e2e_recv...).
 */
#ifndef GT_E2E_HARNESS_H
#define GT_E2E_HARNESS_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

#include <check.h>
#include <jansson.h>

#define E2E_REPLY_MS	15000		/* default wait for one reply */
#define E2E_TIMEOUT	30		/* tcase_set_timeout() for e2e */

struct e2e;				/* one gtd under test */
struct e2e_conn;			/* one client connection */

/*
 * Start gtd.  conf is the config file's text (written to DIR/gtd.json
 * and passed with -c), or the name of a fixture in tests/data when it
 * does not start with '{' (see e2e_start_file), or NULL for none.  extra
 * (NULL-terminated, may be NULL) are further gtd arguments.
 */
struct e2e	*e2e_start_(const char *conf);
struct e2e	*e2e_start_args_(const char *conf, const char *const *extra);
/* The same, with conf as a JSON object (stolen). */
struct e2e	*e2e_start_json_(json_t *conf);
/*
 * The same, with the config read from $GT_TESTDATA/name (default
 * tests/data/name); "@TESTCHILD@" and "@DIR@" in it are replaced.
 */
struct e2e	*e2e_start_file_(const char *name);

/*
 * Stop gtd: SIGTERM, wait (e2e_set_stop_ms, default 10000), SIGKILL if it
 * is still there.  Fails the test unless gtd exited with the expected
 * status (0 unless e2e_expect_exit() said otherwise) and no process of
 * the test survives (after a deadline).  On success DIR is removed.
 */
void		 e2e_stop_(struct e2e *);
/* Expected exit code of gtd; -1 = do not check (e.g. SIGKILLed). */
void		 e2e_expect_exit(struct e2e *, int code);
void		 e2e_set_stop_ms(struct e2e *, int ms);

/* Wait for gtd to exit by itself; false on timeout.  *status: wait(2). */
bool		 e2e_wait_exit(struct e2e *, int ms, int *status);

const char	*e2e_dir(struct e2e *);
const char	*e2e_sock(struct e2e *);
pid_t		 e2e_pid(struct e2e *);		/* gtd's pid */
/* "DIR/name", borrowed. */
const char	*e2e_path(struct e2e *, const char *name);
/* printf into a borrowed string. */
const char	*e2e_fmt(struct e2e *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
/* Absolute path of $GT_TESTCHILD (e may be NULL). */
const char	*e2e_testchild(struct e2e *);
/*
 * A new JSON array [testchild, arg...] for a childspec's "cmd"; the list
 * ends with NULL.  Use it with json_pack's "o", which steals it.
 */
json_t		*e2e_cmd(const char *arg, ...);

/*
 * Requests on the main connection.  The request is
 * {"id":N, "op":op, ...json_pack(fmt, ...)} (fmt NULL = no arguments);
 * the reply must arrive within E2E_REPLY_MS and echo the id.
 * e2e_ok also asserts "ok":true, e2e_err "ok":false with error == code.
 */
json_t		*e2e_req_(struct e2e *, const char *op, const char *fmt, ...);
json_t		*e2e_ok_(struct e2e *, const char *op, const char *fmt, ...);
json_t		*e2e_err_(struct e2e *, const char *code, const char *op,
		    const char *fmt, ...);

/*
 * start_child {name, cmd: [testchild, arg...]} (NULL-terminated); asserts
 * ok and returns the pid.
 */
pid_t		 e2e_spawn_(struct e2e *, const char *name, ...)
		    __attribute__((sentinel));

/*
 * Readiness of gt-testchild: gtd calls a child ready once execve()
 * succeeded, before the child has set up its signal dispositions.  A test
 * that relies on --ignore-term or --term-exit-code passes
 * e2e_ready_arg(e, name) ("--pidfile=DIR/name.ready") and waits with
 * e2e_wait_ready(e, name), which returns the pid written there.
 */
const char	*e2e_ready_arg(struct e2e *, const char *name);
pid_t		 e2e_wait_ready_(struct e2e *, const char *name);

/* Extra connections (closed by e2e_stop), and the main one. */
struct e2e_conn	*e2e_client_(struct e2e *);
struct e2e_conn	*e2e_main(struct e2e *);
void		 e2e_conn_close(struct e2e_conn *);
int		 e2e_conn_fd(struct e2e_conn *);	/* -1 once closed */
json_t		*e2e_creq_(struct e2e_conn *, const char *op, const char *fmt,
		    ...);
json_t		*e2e_cok_(struct e2e_conn *, const char *op, const char *fmt,
		    ...);
json_t		*e2e_cerr_(struct e2e_conn *, const char *code, const char *op,
		    const char *fmt, ...);

/*
 * Raw I/O.  e2e_send_raw writes len bytes (no newline added) and
 * returns how many were written before an error (EPIPE when gtd closed
 * the connection).  e2e_send_line writes line plus '\n' or fails the
 * test.  e2e_recv_line returns the next line without '\n', or NULL on
 * timeout/EOF (errno ETIMEDOUT/ECONNRESET).  e2e_recv parses it (no line
 * or a non-JSON one fails the test).  e2e_closed is true when the
 * connection reaches EOF within ms with no further line.
 */
size_t		 e2e_send_raw(struct e2e_conn *, const void *buf, size_t len);
void		 e2e_send_line(struct e2e_conn *, const char *line);
const char	*e2e_recv_line(struct e2e_conn *, int ms);
json_t		*e2e_recv_(struct e2e_conn *, int ms);
bool		 e2e_closed(struct e2e_conn *, int ms);

/*
 * The next event of kind (any if NULL) about name (any if NULL) on a
 * subscribed connection within ms, skipping others; NULL when none came.
 * A line that is not an event fails the test.
 */
json_t		*e2e_next_event(struct e2e_conn *, const char *name,
		    const char *kind, int ms);
/*
 * Everything a subscribed connection received before a ping sent now is
 * answered (the barrier: gtd queued those events before the reply), as
 * "event:name event:name ...", each within ms.
 */
const char	*e2e_drain_events(struct e2e_conn *, int ms);
/*
 * Start name as a child that exits 1 after 30 ms, appending its pid to
 * e2e_path(e, name) at each start, and restarts twice within the period
 * before its on_give_up action (stop, delete, exit_daemon).
 */
void		 e2e_start_give_up(struct e2e *, const char *name,
		    const char *action);

/* which_children row of name, or NULL. */
json_t		*e2e_row(struct e2e *, const char *name);
/* Condition waits on which_children: true when reached before ms. */
bool		 e2e_wait_state(struct e2e *, const char *name,
		    const char *state, int ms);
bool		 e2e_wait_absent(struct e2e *, const char *name, int ms);
/* Wait until name runs with a pid other than old; the new pid or -1. */
pid_t		 e2e_wait_restarted(struct e2e *, const char *name, pid_t old,
		    int ms);

/*
 * The connections gtd holds (stats "connections", the main one and the
 * one asking included), and a condition wait until there are n.
 */
json_int_t	 e2e_conns(struct e2e *);
bool		 e2e_wait_conns(struct e2e *, json_int_t n, int ms);

/* Monotonic clock in milliseconds, for elapsed-time bounds. */
long		 e2e_now_ms(void);
/*
 * ms times $E2E_SLOW (default 1): every deadline of the harness is
 * stretched so, and tests scale their elapsed-time bounds with it (gtd
 * under valgrind: make check-valgrind).
 */
long		 e2e_slow(long ms);
/*
 * A bound on gtd's RSS growth in KiB: kib, or far more when gtd runs
 * under ASan (freed memory is quarantined) or valgrind (E2E_SLOW).
 */
long		 e2e_rss_bound(long kib);
/* gtd's VmRSS, or any pid's, in KiB (fails the test if unreadable). */
long		 e2e_rss_kib(pid_t);
/*
 * A raw socket connected to e's gtd, for byte-level games.  nonblock:
 * a non-blocking socket, and -1 when gtd's backlog is full (EAGAIN).
 */
int		 e2e_raw_connect(struct e2e *, bool nonblock);

/* Files and processes. */
bool		 e2e_wait_file(const char *path, int ms);
bool		 e2e_wait_text(const char *path, const char *text, int ms);
/* Wait for path, then read it whole (borrowed); fails the test if absent. */
const char	*e2e_read_file_(struct e2e *, const char *path, int ms);
pid_t		 e2e_read_pid_(struct e2e *, const char *path, int ms);
int		 e2e_count_lines(const char *path);	/* -1: no file */
/* Wait until path has at least n lines. */
bool		 e2e_wait_lines(const char *path, int n, int ms);
bool		 e2e_pid_alive(pid_t);		/* exists, not a zombie */
bool		 e2e_wait_dead(pid_t, int ms);	/* gone or a zombie */
/* Live processes of this test other than gtd; fills pids, returns count. */
int		 e2e_survivors(struct e2e *, pid_t *pids, int max);

/*
 * Run $GTCTL with GTD_SOCKET=DIR/sock (or the socket set with
 * e2e_gtctl_socket) and the given arguments (NULL-terminated).  Returns
 * its exit status (128+N if killed by signal N); *out (may be NULL) gets
 * its stdout, e2e_gtctl_stderr() its stderr.
 */
int		 e2e_gtctl_(struct e2e *, const char **out, ...)
		    __attribute__((sentinel));
const char	*e2e_gtctl_stderr(struct e2e *);
void		 e2e_gtctl_socket(struct e2e *, const char *path);
/*
 * $GTCTL in the background with its stdout on a pipe, for commands that
 * go on printing (gtctl events, gtctl logs -f): GTD_SOCKET as for
 * e2e_gtctl, stdin /dev/null, stderr appended to DIR/gtctl.err,
 * arguments NULL-terminated.  e2e_proc_line returns the next line it
 * printed (borrowed, without '\n'), or NULL at EOF or when none came
 * within ms.  e2e_proc_kill SIGKILLs and reaps it and frees p; call it
 * before e2e_stop, which counts a gtctl still running as a survivor.
 */
struct e2e_proc;
struct e2e_proc	*e2e_gtctl_bg_(struct e2e *, ...) __attribute__((sentinel));
const char	*e2e_proc_line(struct e2e_proc *, int ms);
void		 e2e_proc_kill(struct e2e_proc *);
/*
 * Run $GTD with these arguments (NULL-terminated) to completion, at most
 * ms; returns its exit status, *err (may be NULL) its stderr.
 */
int		 e2e_gtd_run_(struct e2e *, int ms, const char **err, ...)
		    __attribute__((sentinel));
/* Start gtd again in the same directory (same config) after it exited. */
void		 e2e_restart_(struct e2e *);

/*
 * reply is add_existing_child's: false when it is ok.  true when gtd
 * runs under valgrind (E2E_VALGRIND), which does not implement
 * pidfd_open(2) (3.19), and gtd said so (spawn_failed, errno ENOSYS):
 * the test then skips what needs adoption; a note on stderr names what.
 * Any other reply fails the test.
 */
bool		 e2e_adopt_unsupported_(struct e2e *, json_t *reply,
		    const char *what);

/* JSON accessors that fail the test when the member is missing. */
json_int_t	 e2e_int_(json_t *, const char *key);
const char	*e2e_str_(json_t *, const char *key);
json_t		*e2e_get_(json_t *, const char *key);
/* Compact dump (borrowed), for messages. */
const char	*e2e_dump(struct e2e *, json_t *);

/*
 * Call sites.  The helpers that can fail a test are macros that record
 * the caller's file and line first, so a failure (or a Check timeout,
 * through _mark_point) points at the test, not at the harness.
 */
void		 e2e_at(const char *file, int line);
#define E2E_AT		e2e_at(__FILE__, __LINE__)
#define e2e_start(...)		(E2E_AT, e2e_start_(__VA_ARGS__))
#define e2e_start_args(...)	(E2E_AT, e2e_start_args_(__VA_ARGS__))
#define e2e_start_json(...)	(E2E_AT, e2e_start_json_(__VA_ARGS__))
#define e2e_start_file(...)	(E2E_AT, e2e_start_file_(__VA_ARGS__))
#define e2e_stop(...)		(E2E_AT, e2e_stop_(__VA_ARGS__))
#define e2e_req(...)		(E2E_AT, e2e_req_(__VA_ARGS__))
#define e2e_ok(...)		(E2E_AT, e2e_ok_(__VA_ARGS__))
#define e2e_err(...)		(E2E_AT, e2e_err_(__VA_ARGS__))
#define e2e_creq(...)		(E2E_AT, e2e_creq_(__VA_ARGS__))
#define e2e_cok(...)		(E2E_AT, e2e_cok_(__VA_ARGS__))
#define e2e_cerr(...)		(E2E_AT, e2e_cerr_(__VA_ARGS__))
#define e2e_client(...)		(E2E_AT, e2e_client_(__VA_ARGS__))
#define e2e_recv(...)		(E2E_AT, e2e_recv_(__VA_ARGS__))
#define e2e_read_file(...)	(E2E_AT, e2e_read_file_(__VA_ARGS__))
#define e2e_read_pid(...)	(E2E_AT, e2e_read_pid_(__VA_ARGS__))
#define e2e_gtctl(...)		(E2E_AT, e2e_gtctl_(__VA_ARGS__))
#define e2e_gtctl_bg(...)	(E2E_AT, e2e_gtctl_bg_(__VA_ARGS__))
#define e2e_wait_ready(...)	(E2E_AT, e2e_wait_ready_(__VA_ARGS__))
#define e2e_spawn(...)		(E2E_AT, e2e_spawn_(__VA_ARGS__))
#define e2e_gtd_run(...)	(E2E_AT, e2e_gtd_run_(__VA_ARGS__))
#define e2e_restart(...)	(E2E_AT, e2e_restart_(__VA_ARGS__))
#define e2e_int(...)		(E2E_AT, e2e_int_(__VA_ARGS__))
#define e2e_str(...)		(E2E_AT, e2e_str_(__VA_ARGS__))
#define e2e_get(...)		(E2E_AT, e2e_get_(__VA_ARGS__))
#define e2e_adopt_unsupported(...) \
	(E2E_AT, e2e_adopt_unsupported_(__VA_ARGS__))

/*
 * Start gtd with the config text conf (@TESTCHILD@ and @DIR@ replaced)
 * like e2e_start, but return once its socket listens, without waiting
 * for readiness (the boot may still be starting its children), or once
 * gtd has exited (then there is no main connection).
 * e2e_wait_booted then waits for the readiness pipe: 1 the newline came,
 * 0 it was closed without one (gtd exits unready), -1 neither within ms.
 */
struct e2e	*e2e_start_booting_(const char *conf);
#define e2e_start_booting(...)	(E2E_AT, e2e_start_booting_(__VA_ARGS__))
int		 e2e_wait_booted(struct e2e *, int ms);

/* Replace DIR/gtd.json with text, atomically (tmp + rename). */
void		 e2e_write_conf(struct e2e *, const char *text);
/* Does text hold line as a whole line? */
bool		 e2e_has_line(const char *text, const char *line);

/* Suites (check_e2e_*.c). */
Suite		*e2e_basic_suite(void);
Suite		*e2e_framing_suite(void);
Suite		*e2e_lifecycle_suite(void);
Suite		*e2e_attrs_suite(void);
Suite		*e2e_registry_suite(void);
Suite		*e2e_gtctl_suite(void);
Suite		*e2e_stress_suite(void);
Suite		*e2e_systemd_suite(void);
Suite		*e2e_sql_suite(void);
Suite		*e2e_badinput_suite(void);
Suite		*e2e_faults_suite(void);
Suite		*e2e_config_suite(void);
Suite		*e2e_acl_suite(void);
Suite		*e2e_logs_suite(void);
Suite		*e2e_events_suite(void);
Suite		*e2e_security_suite(void);
Suite		*e2e_load_suite(void);
Suite		*e2e_supervision_suite(void);
Suite		*e2e_slow_suite(void);
Suite		*e2e_tour_suite(void);

/*
 * Copy $GTD, $GTCTL, $GT_TESTCHILD and $GTD_REAL (compiled programs, not
 * scripts) into a 0755 directory under /tmp and point the variables at
 * the copies, so that tests running them as another user (nobody) work
 * from a clone under a 0700 home.  Once, in main(), before the suites
 * run; the directory is removed at exit.  Exits 1 on failure.
 */
void		 e2e_bins_setup(void);

/*
 * Run a program (argv[0] a path, NULL-terminated) to completion, at most
 * 10 s, stdin /dev/null, in the test's environment; with sock,
 * GTD_SOCKET names gtd's socket (as for e2e_gtctl), without it
 * GTD_SOCKET is unset.  Returns the exit status (128+N for signal N);
 * *out and *err (may be NULL) get its stdout and stderr, borrowed.
 */
int		 e2e_exec_(struct e2e *, bool sock, const char **out,
		    const char **err, ...) __attribute__((sentinel));
#define e2e_exec(...)		(E2E_AT, e2e_exec_(__VA_ARGS__))
Suite		*e2e_lifecycle2_suite(void);
Suite		*e2e_mirror_suite(void);
/* Cluster (etcd), built with libcurl. */
Suite		*e2e_etcd_suite(void);
Suite		*e2e_cluster_suite(void);
Suite		*e2e_gtdcluster_suite(void);
Suite		*e2e_hostile_conn_suite(void);
Suite		*e2e_hostile_suite(void);
Suite		*e2e_chaos_suite(void);
Suite		*e2e_deps_suite(void);
Suite		*e2e_envfile_suite(void);
Suite		*e2e_health_suite(void);
Suite		*e2e_roll_suite(void);
Suite		*e2e_groups_suite(void);

/*
 * The one condition wait: true as soon as pred(arg) holds, false if it
 * still does not after ms (stretched by E2E_SLOW).  pred is polled every
 * few ms, and once more at the deadline; it must not block.
 */
bool		 e2e_wait_until(int ms, bool (*pred)(void *), void *arg);
Suite		*e2e_cgroup_suite(void);

/* Remove the base cgroup a gtd of socket sock left (see harness.c). */
void		 e2e_cgroup_clean(const char *sock);

/* Re-exec in place (protocol §9.2). */
Suite		*e2e_reexec_suite(void);

#endif /* GT_E2E_HARNESS_H */
