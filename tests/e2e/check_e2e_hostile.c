/* SPDX-License-Identifier: MIT */
/*
 * check_e2e_hostile: gtd against a hostile local user.  Run as root, the
 * suite creates an unprivileged user named after its pid (HOSTILE_USER) and
 * removes it again afterwards.  That user races every path gtd opens,
 * binds, chmods or renames with symlinks and hard links, squats gtd's
 * names, and pushes the limits of protocol section 7 that concern files,
 * SQL, notify and adoption.  Each race runs for a bounded time (a slice
 * in `make check`; E2E_HOSTILE_SECONDS per race in `make hostile`).
 *
 * The sentences of gtd(8) SECURITY CONSIDERATIONS and the tests that
 * check them (tests of other files are named with their file):
 *
 * Root and gtd's user: always admin .......... acl: e2e_acl_default_none
 * admin: control, reload, shutdown ........... acl: e2e_acl_users_groups
 * control: any program as gtd's user ......... hostile_control_runs_as_gtd
 * control: stop, restart, signal, delete ..... acl: e2e_acl_users_groups
 * control: adopt only what it could signal ... hostile_adopt_other_user
 * never init, gtd, its parent, its hooks ..... hostile_adopt_refused
 * write: attrs only .......................... acl: e2e_acl_read_write,
 *                                              e2e_acl_users_groups
 * read: rows, specs, output, SQL, read-only .. acl: e2e_acl_read_write;
 *                                              sql: e2e_sql_*; unit query
 * read: a query's time (250 ms, 64 KiB values,
 *   64 functions, guarded functions) ........ hostile_sql_long_calls
 * read: 32 MiB, 100000 rows, 2 MiB ........... hostile_sql_memory; unit
 *                                              query: test_query_reply_size,
 *                                              test_query_max_rows
 * none: nothing, not even ping ............... acl: e2e_acl_default_none
 * a child: reads, writes its own attrs ....... acl: e2e_acl_self
 * a child: only its processes notify ......... supervision:
 *                                              e2e_sup_ready_notify_foreign;
 *                                              hostile_notify_short_senders
 * a child: files as its user, no symlink,
 *   regular files only ...................... hostile_file_symlink_race,
 *                                              hostile_file_hardlink
 * a child: cannot outlive gtd ................ faults: fault_sigkill;
 *                                              hostile_pdeathsig_user
 * another user: socket directory refused ..... hostile_socket_dir_squat,
 *                                              hostile_socket_dir_ancestor
 * another user: gtctl talks to root, itself
 *   or GTD_SOCKET_OWNER only ................ hostile_gtctl_foreign
 * another user: notify names ................. hostile_notify_squat
 * another user: snapshot directory ........... hostile_snapshot_dir
 * another user: config and include files ..... hostile_config_files
 * socket mode and group before listen ........ security: e2e_sec_socket_mode
 * a live gtd's socket never taken, a file
 *   that is not a socket never removed ...... basic:
 *                                              e2e_second_instance_refused;
 *                                              hostile_socket_not_removed
 * classes from the acl, refusals logged ...... acl: e2e_acl_read_write
 * no shell ................................... security: e2e_sec_no_shell
 * no descriptor leaks ........................ security: e2e_sec_user_env,
 *                                              e2e_sec_hook_credentials;
 *                                              basic: e2e_child_fds,
 *                                              e2e_child_sigmask
 * credentials switched in order, hooks too ... security:
 *                                              e2e_sec_hook_credentials
 * inputs bounded ............................. badinput: bad_*; stress:
 *                                              e2e_output_cap; logs:
 *                                              e2e_logs_ring_bounded
 * Not protected: notify names visible, the
 *   sender rule ............................. hostile_notify_short_senders,
 *                                              hostile_notify_fds
 * processes that leave the group ............. faults:
 *                                              fault_sigkill_grandchild
 * env readable by read ....................... basic: e2e_config_boot_children
 * output copied into gtd's log ............... logs: e2e_logs_log_mode,
 *                                              e2e_logs_bad_utf8
 */
#include "config.h"

#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stddef.h>
#include <stdbool.h>
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

/*
 * The user is named after the runner's pid, so that runs on one machine
 * at the same time do not remove each other's; its GECOS says whose.
 */
#define HOSTILE_USER	hostile_user
#define HOSTILE_GECOS	"gtd hostile-user test"
#define NOBODY		65534

/* Set by the unchecked fixture (the runner process), read by the tests. */
static char	hostile_user[32];
static char	hostile_gecos[64];
static uid_t	hostile_uid = (uid_t)-1;
static gid_t	hostile_gid = (gid_t)-1;
static bool	hostile_created;

/* Run argv (absolute path) and wait; its exit status, or -1. */
static int
hostile_system(const char *const argv[])
{
	pid_t	pid;
	int	st, fd;

	if ((pid = fork()) == -1)
		return (-1);
	if (pid == 0) {
		if ((fd = open("/dev/null", O_WRONLY)) != -1) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		/* execv does not write through argv: casting const away. */
		execv(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return (-1);
	return (WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* Kill what runs as uid (only the tests ran anything as it). */
static void
hostile_kill_uid(uid_t uid)
{
	char		 path[300];
	struct dirent	*d;
	struct stat	 st;
	DIR		*dir;

	if ((dir = opendir("/proc")) == NULL)
		return;
	while ((d = readdir(dir)) != NULL) {
		if (atoi(d->d_name) <= 1)
			continue;
		snprintf(path, sizeof path, "/proc/%s", d->d_name);
		if (stat(path, &st) == 0 && st.st_uid == uid)
			kill(atoi(d->d_name), SIGKILL);
	}
	closedir(dir);
}

/* Users that killed runs left (their runner is gone): removed. */
static void
hostile_remove_stale(void)
{
	const char	*del[] = { "/usr/sbin/userdel", NULL, NULL };
	char		 names[16][32];
	uid_t		 uids[16];
	struct passwd	*pw;
	long		 pid;
	size_t		 n = 0, i, k = strlen(HOSTILE_GECOS);

	setpwent();
	while ((pw = getpwent()) != NULL && n < 16) {
		if (pw->pw_gecos == NULL || strncmp(pw->pw_gecos,
		    HOSTILE_GECOS, k) != 0)
			continue;
		pid = pw->pw_gecos[k] == ' ' ? atol(pw->pw_gecos + k + 1) : 0;
		if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
			continue;		/* a live run's */
		snprintf(names[n], sizeof names[n], "%s", pw->pw_name);
		uids[n++] = pw->pw_uid;
	}
	endpwent();
	for (i = 0; i < n; i++) {
		hostile_kill_uid(uids[i]);
		del[1] = names[i];
		(void)hostile_system(del);
	}
}

/* The runner: make this run's user (and remember that). */
static void
hostile_setup(void)
{
	const char *const add[] = { "/usr/sbin/useradd", "-r", "-M", "-s",
	    "/usr/sbin/nologin", "-d", "/nonexistent", "-c", hostile_gecos,
	    hostile_user, NULL };
	struct passwd	*pw;

	snprintf(hostile_user, sizeof hostile_user, "gtdhostile%ld",
	    (long)getpid());
	snprintf(hostile_gecos, sizeof hostile_gecos, "%s %ld",
	    HOSTILE_GECOS, (long)getpid());
	hostile_remove_stale();
	if ((pw = getpwnam(HOSTILE_USER)) == NULL) {
		if (hostile_system(add) != 0)
			return;		/* the tests fail with a message */
		pw = getpwnam(HOSTILE_USER);
	}
	/* Ours (made now, or left by a killed run of this pid). */
	hostile_created = pw != NULL && pw->pw_gecos != NULL &&
	    strncmp(pw->pw_gecos, HOSTILE_GECOS, strlen(HOSTILE_GECOS)) == 0;
	if (pw != NULL) {
		hostile_uid = pw->pw_uid;
		hostile_gid = pw->pw_gid;
	}
}

/*
 * The runner, at the end: kill what still runs as the user (only the
 * tests ran anything as it) and remove it if this run made it.
 */
static void
hostile_teardown(void)
{
	const char *const del[] = { "/usr/sbin/userdel", HOSTILE_USER, NULL };

	if (hostile_uid == (uid_t)-1 || !hostile_created)
		return;
	hostile_kill_uid(hostile_uid);
	(void)hostile_system(del);	/* best effort: nothing to report to */
}

static void
hostile_need_user(void)
{
	ck_assert_msg(hostile_uid != (uid_t)-1, "no user %s (useradd failed)",
	    HOSTILE_USER);
}

/* Seconds one race runs: a slice in make check, more with the env. */
static long
hostile_race_ms(void)
{
	const char	*s = getenv("E2E_HOSTILE_SECONDS");

	if (s != NULL && atol(s) > 0)
		return (atol(s) * 1000);
	return (600);
}

/*
 * Run fn(arg) as uid/gid (no groups) in a process of its own until it
 * returns or hostile_end() kills it.  uid 0: stay root.
 */
static pid_t
hostile_run_as(uid_t uid, gid_t gid, void (*fn)(void *), void *arg)
{
	pid_t	pid;

	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		if (uid != 0 && (setgroups(0, NULL) == -1 || setresgid(gid,
		    gid, gid) == -1 || setresuid(uid, uid, uid) == -1))
			_exit(99);
		fn(arg);
		_exit(0);
	}
	return (pid);
}

/* The same as the hostile user. */
static pid_t
hostile_run(void (*fn)(void *), void *arg)
{
	hostile_need_user();
	return (hostile_run_as(hostile_uid, hostile_gid, fn, arg));
}

/* Stop a process of hostile_run; its exit status. */
static int
hostile_end(pid_t pid)
{
	int	st;

	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return (-1);
	return (st);
}

/* Let nobody and the hostile user into the test's directory. */
static void
hostile_open_dir(struct e2e *e)
{
	ck_assert_int_eq(chmod(e2e_dir(e), 0755), 0);
}

/*
 * A child run as another user dies with gtd: the parent-death signal is
 * set after the change of credentials (which clears it).
 */
START_TEST(hostile_pdeathsig_user)
{
	struct e2e	*e = e2e_start(NULL);
	json_t		*r;
	pid_t		 pid;
	int		 st;

	hostile_open_dir(e);
	r = e2e_ok(e, "start_child", "{s:s, s:o, s:s}", "name", "u", "cmd",
	    e2e_cmd(NULL), "user", "nobody");
	pid = (pid_t)e2e_int(r, "pid");
	ck_assert_int_eq(kill(e2e_pid(e), SIGKILL), 0);
	ck_assert(e2e_wait_exit(e, 5000, &st));
	ck_assert_msg(e2e_wait_dead(pid, 3000), "child %d (user nobody) "
	    "outlived gtd's SIGKILL", (int)pid);
	e2e_expect_exit(e, -1);
	e2e_stop(e);
}
END_TEST

/* What a file racer swaps in, for how long. */
struct race_file {
	const char	*dir;		/* the child's log directory */
	const char	*name;		/* the log file's name in it */
	const char	*secret;	/* root's 0600 file */
	const char	*created;	/* where no file may appear */
	long		 ms;
};

static long
hostile_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec * 1000L + ts.tv_nsec / 1000000);
}

/* Replace dir/name (and its rotations) with a symlink to target. */
static void
race_swap_symlink(const struct race_file *r, const char *target, int i)
{
	char	tmp[PATH_MAX], to[PATH_MAX];

	snprintf(tmp, sizeof tmp, "%s/.race%d", r->dir, (int)getpid());
	if (i == 0)
		snprintf(to, sizeof to, "%s/%s", r->dir, r->name);
	else
		snprintf(to, sizeof to, "%s/%s.%d", r->dir, r->name, i);
	(void)unlink(tmp);
	if (symlink(target, tmp) == 0)
		(void)rename(tmp, to);
}

/* The child's user: its log file becomes a symlink, again and again. */
static void
race_symlinks(void *arg)
{
	const struct race_file	*r = arg;
	long			 end = hostile_now_ms() + r->ms;
	int			 n;

	for (n = 0; hostile_now_ms() < end; n++)
		race_swap_symlink(r, n % 2 ? r->secret : r->created, n % 3);
}

/*
 * A hard link to root's file in the child's directory: what the child's
 * user could make where protected_hardlinks is off (root makes it here).
 */
static void
race_hardlinks(void *arg)
{
	const struct race_file	*r = arg;
	long			 end = hostile_now_ms() + r->ms;
	char			 tmp[PATH_MAX], to[PATH_MAX];

	snprintf(tmp, sizeof tmp, "%s/.link%d", r->dir, (int)getpid());
	snprintf(to, sizeof to, "%s/%s", r->dir, r->name);
	while (hostile_now_ms() < end) {
		(void)unlink(tmp);
		if (link(r->secret, tmp) == 0)
			(void)rename(tmp, to);
	}
}

static void
hostile_write(const char *path, const char *text, mode_t mode)
{
	int	fd;

	ck_assert_int_ne(fd = open(path, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, mode), -1);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	ck_assert_int_eq(chmod(path, mode), 0);
}

/* Root's file is as it was: content, owner, mode, size. */
static void
hostile_secret_intact(const char *path, const char *text)
{
	struct stat	st;
	char		buf[256];
	ssize_t		n;
	int		fd;

	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert_msg(S_ISREG(st.st_mode) && st.st_uid == 0 &&
	    (st.st_mode & 07777) == 0600 && st.st_size == (off_t)strlen(text),
	    "root's %s changed: uid %d mode 0%o size %lld", path,
	    (int)st.st_uid, (unsigned)(st.st_mode & 07777),
	    (long long)st.st_size);
	ck_assert_int_ne(fd = open(path, O_RDONLY | O_CLOEXEC), -1);
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	ck_assert_str_eq(buf, text);
}

/* Every regular file in dir is the child's (or root's secret itself). */
static void
hostile_dir_owned(const char *dir, uid_t uid, ino_t secret)
{
	char		 path[PATH_MAX];
	struct dirent	*d;
	struct stat	 st;
	DIR		*dp;

	ck_assert_ptr_nonnull(dp = opendir(dir));
	while ((d = readdir(dp)) != NULL) {
		snprintf(path, sizeof path, "%s/%s", dir, d->d_name);
		if (lstat(path, &st) == -1 || !S_ISREG(st.st_mode) ||
		    st.st_ino == secret)
			continue;
		ck_assert_msg(st.st_uid == uid, "%s belongs to uid %d, not the "
		    "child's %d", path, (int)st.st_uid, (int)uid);
	}
	closedir(dp);
}

/*
 * A child whose user owns its log directory swaps the log file (and its
 * rotations) for symlinks to root's 0600 file and to a path where no
 * file exists, and root's file for hard links, while gtd opens, writes
 * and rotates it: root's file is untouched, no file appears where the
 * links point, every log file is the child's, and gtd lives on.
 */
START_TEST(hostile_file_symlink_race)
{
	struct e2e		*e = e2e_start(NULL);
	struct race_file	 r;
	struct stat		 st;
	const char		*secret_text = "root's secret\n";
	pid_t			 sym, hard;
	int			 st1, st2;

	hostile_open_dir(e);
	r.dir = e2e_path(e, "logs");
	r.name = "out.log";
	r.secret = e2e_path(e, "secret");
	r.created = e2e_path(e, "created-by-root");
	r.ms = hostile_race_ms();
	ck_assert_int_eq(mkdir(r.dir, 0755), 0);
	ck_assert_int_eq(chown(r.dir, NOBODY, NOBODY), 0);
	hostile_write(r.secret, secret_text, 0600);
	ck_assert_int_eq(stat(r.secret, &st), 0);
	e2e_ok(e, "start_child", "{s:s, s:o, s:s, s:s, s:i, s:i, "
	    "s:{s:s, s:i, s:i}}", "name", "racer", "cmd",
	    e2e_cmd("--flood=400", "--exit-code=0", NULL), "user", "nobody",
	    "restart", "permanent", "restart_delay_ms", 5, "max_restarts",
	    10000, "stdout", "file", e2e_fmt(e, "%s/%s", r.dir, r.name),
	    "max_bytes", 2000, "keep", 2);
	sym = hostile_run_as(NOBODY, NOBODY, race_symlinks, &r);
	hard = hostile_run_as(0, 0, race_hardlinks, &r);
	ck_assert_int_ne(waitpid(sym, &st1, 0), -1);
	ck_assert_int_ne(waitpid(hard, &st2, 0), -1);
	ck_assert(WIFEXITED(st1) && WIFEXITED(st2));
	e2e_ok(e, "ping", NULL);
	e2e_ok(e, "terminate_child", "{s:s}", "name", "racer");
	hostile_secret_intact(r.secret, secret_text);
	ck_assert_msg(lstat(r.created, &st) == -1 && errno == ENOENT,
	    "gtd created %s through the child's symlink", r.created);
	ck_assert_int_eq(stat(r.secret, &st), 0);
	hostile_dir_owned(r.dir, NOBODY, st.st_ino);
	e2e_stop(e);
}
END_TEST

/*
 * The log file is a hard link to root's 0600 file before the child
 * starts (a host without protected_hardlinks): gtd, opening it as the
 * child's user, cannot write it; the child's output is still in `logs`.
 */
START_TEST(hostile_file_hardlink)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*dir = e2e_path(e, "logs"), *secret, *log;
	const char	*text = "root only\n";
	json_t		*l;
	long		 deadline;

	hostile_open_dir(e);
	secret = e2e_path(e, "secret");
	log = e2e_path(e, "logs/out.log");
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	ck_assert_int_eq(chown(dir, NOBODY, NOBODY), 0);
	hostile_write(secret, text, 0600);
	ck_assert_int_eq(link(secret, log), 0);
	e2e_ok(e, "start_child", "{s:s, s:o, s:s, s:{s:s}}", "name", "h",
	    "cmd", e2e_cmd("--stdout=written", NULL), "user", "nobody",
	    "stdout", "file", log);
	deadline = hostile_now_ms() + 5000;
	do {
		l = e2e_get(e2e_ok(e, "logs", "{s:s}", "name", "h"), "lines");
		if (json_array_size(l) > 0)
			break;
		poll(NULL, 0, 5);
	} while (hostile_now_ms() < deadline);
	ck_assert_uint_eq(json_array_size(l), 1);
	ck_assert(e2e_wait_text(e2e_path(e, "gtd.log"), "Permission denied",
	    5000));
	hostile_secret_intact(secret, text);
	e2e_stop(e);
}
END_TEST

/* A "/tmp" of the test's own: root's, world-writable, sticky. */
static const char *
hostile_tmp(struct e2e *e)
{
	const char	*tmp = e2e_path(e, "tmp");

	hostile_open_dir(e);
	if (mkdir(tmp, 01777) == -1)
		ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(chmod(tmp, 01777), 0);
	return (tmp);
}

/* The squatter: her directory, and a symlink in place of the socket. */
struct squat {
	const char	*dir;		/* hers, mode 0777 */
	const char	*secret;	/* root's 0600 file */
	int		 ready;		/* write end: 'R' once set up */
	long		 ms;
};

static void
squat_swap(const struct squat *q)
{
	char	link[PATH_MAX], sock[PATH_MAX];

	snprintf(link, sizeof link, "%s/.l", q->dir);
	snprintf(sock, sizeof sock, "%s/sock", q->dir);
	(void)unlink(link);
	if (symlink(q->secret, link) == 0)
		(void)rename(link, sock);
}

/*
 * Make the directory, then whenever a socket appears in it, put a
 * symlink to root's file in its place at once (inotify), so that a
 * chmod by path lands on root's file.
 */
static void
squat_run(void *arg)
{
	const struct squat	*q = arg;
	char			 buf[4096];
	long			 end = hostile_now_ms() + q->ms;
	struct pollfd		 pfd;
	int			 in;

	if (mkdir(q->dir, 0777) == -1 || chmod(q->dir, 0777) == -1)
		_exit(98);
	if ((in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) == -1 ||
	    inotify_add_watch(in, q->dir, IN_CREATE) == -1)
		_exit(97);
	(void)!write(q->ready, "R", 1);
	pfd.fd = in;
	pfd.events = POLLIN;
	while (hostile_now_ms() < end) {
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		while (read(in, buf, sizeof buf) > 0)
			;
		squat_swap(q);
	}
}

/* Start squat_run as the hostile user; return once its trap is set. */
static pid_t
squat_start(struct squat *q)
{
	pid_t	pid;
	char	c;
	int	p[2];

	ck_assert_int_eq(pipe(p), 0);
	q->ready = p[1];
	pid = hostile_run(squat_run, q);
	close(p[1]);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	close(p[0]);
	return (pid);
}

/*
 * Another user made gtd's socket directory first (the non-root default
 * /tmp/gtd-UID, or make run's /tmp/gtd-demo) and lies in wait to swap
 * the socket for a symlink to root's file: gtd refuses the directory,
 * naming it, its owner and mode, and root's file keeps its mode.
 */
START_TEST(hostile_socket_dir_squat)
{
	struct e2e	*e = e2e_start(NULL);
	struct squat	 q;
	const char	*err;
	pid_t		 pid;
	int		 rc;

	q.dir = e2e_fmt(e, "%s/gtd-demo", hostile_tmp(e));
	q.secret = e2e_path(e, "secret");
	q.ms = 5000;
	hostile_write(q.secret, "root's\n", 0600);
	pid = squat_start(&q);
	rc = e2e_gtd_run(e, 2000, &err, "-d", "-s", e2e_fmt(e, "%s/sock",
	    q.dir), NULL);
	hostile_end(pid);
	hostile_secret_intact(q.secret, "root's\n");
	ck_assert_msg(rc == 1, "gtd used %s (exit %d): %s", q.dir, rc, err);
	ck_assert_msg(strstr(err, q.dir) != NULL && strstr(err,
	    HOSTILE_USER) != NULL && strstr(err, "0777") != NULL, "gtd -s "
	    "%s/sock: %s", q.dir, err);
	e2e_stop(e);
}
END_TEST

/*
 * Her directory on the way to gtd's (even one of root's inside it), or
 * her own 0700 directory as the socket's: refused too.  A directory gtd
 * makes itself is 0750, root's.
 */
START_TEST(hostile_socket_dir_ancestor)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*tmp = hostile_tmp(e), *hers, *err;
	int		 rc;

	hostile_need_user();
	hers = e2e_fmt(e, "%s/hers", tmp);
	ck_assert_int_eq(mkdir(hers, 0755), 0);
	ck_assert_int_eq(mkdir(e2e_fmt(e, "%s/roots", hers), 0700), 0);
	ck_assert_int_eq(chown(hers, hostile_uid, hostile_gid), 0);
	rc = e2e_gtd_run(e, 2000, &err, "-d", "-s", e2e_fmt(e,
	    "%s/roots/sock", hers), NULL);
	ck_assert_msg(rc == 1 && strstr(err, "on the way") != NULL &&
	    strstr(err, HOSTILE_USER) != NULL, "exit %d: %s", rc, err);
	ck_assert_int_eq(chmod(hers, 0700), 0);
	rc = e2e_gtd_run(e, 2000, &err, "-d", "-s", e2e_fmt(e, "%s/sock",
	    hers), NULL);
	ck_assert_msg(rc == 1 && strstr(err, "socket directory") != NULL &&
	    strstr(err, "0700") != NULL, "exit %d: %s", rc, err);
	e2e_stop(e);
}
END_TEST

/*
 * A file that is not a socket is never removed: at the socket's path
 * gtd refuses to start, and one put in place of its socket while it runs
 * stays when it exits.
 */
START_TEST(hostile_socket_not_removed)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*dir = e2e_path(e, "d"), *path, *err;
	int		 rc, st;

	ck_assert_int_eq(mkdir(dir, 0700), 0);
	path = e2e_fmt(e, "%s/sock", dir);
	hostile_write(path, "mine\n", 0600);
	rc = e2e_gtd_run(e, 2000, &err, "-d", "-s", path, NULL);
	ck_assert_msg(rc == 1 && strstr(err, "File exists") != NULL, "exit "
	    "%d: %s", rc, err);
	hostile_secret_intact(path, "mine\n");
	/* In place of the running gtd's own socket. */
	hostile_write(e2e_path(e, "other"), "mine\n", 0600);
	ck_assert_int_eq(rename(e2e_path(e, "other"), e2e_sock(e)), 0);
	ck_assert_int_eq(kill(e2e_pid(e), SIGTERM), 0);
	ck_assert(e2e_wait_exit(e, 5000, &st));
	hostile_secret_intact(e2e_sock(e), "mine\n");
	e2e_stop(e);
}
END_TEST

/* Her listener: note anything a client sends. */
static void
listener_run(void *arg)
{
	const char		*path = arg;
	struct sockaddr_un	 sun;
	char			 buf[4096], got[PATH_MAX];
	ssize_t			 n;
	int			 fd, c, out;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	snprintf(got, sizeof got, "%s.got", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 || bind(fd,
	    (struct sockaddr *)&sun, sizeof sun) == -1 || listen(fd, 8) == -1)
		_exit(96);
	for (;;) {
		if ((c = accept(fd, NULL, NULL)) == -1)
			continue;
		while ((n = read(c, buf, sizeof buf)) > 0) {
			if ((out = open(got, O_WRONLY | O_CREAT | O_APPEND,
			    0666)) != -1) {
				(void)!write(out, buf, n);
				close(out);
			}
		}
		close(c);
	}
}

/*
 * gtctl (and every client of client.c) talks only to a server running
 * as root, as its own user or as GTD_SOCKET_OWNER: root's gtctl sent to
 * her socket says so and sends nothing (a start_child could carry a
 * password in env).
 */
START_TEST(hostile_gtctl_foreign)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*dir, *sock, *out;
	struct client	*c;
	struct stat	 st;
	pid_t		 pid;
	int		 rc;

	dir = e2e_fmt(e, "%s/evil", hostile_tmp(e));
	sock = e2e_fmt(e, "%s/sock", dir);
	hostile_need_user();
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	ck_assert_int_eq(chown(dir, hostile_uid, hostile_gid), 0);
	pid = hostile_run(listener_run, (void *)sock);
	ck_assert(e2e_wait_file(sock, 3000));
	e2e_gtctl_socket(e, sock);
	rc = e2e_gtctl(e, &out, "start", "x", "--", "/bin/true", NULL);
	ck_assert_int_ne(rc, 0);
	ck_assert_msg(strstr(e2e_gtctl_stderr(e), "neither root nor you") !=
	    NULL && strstr(e2e_gtctl_stderr(e), HOSTILE_USER) != NULL,
	    "gtctl: %s", e2e_gtctl_stderr(e));
	ck_assert_msg(stat(e2e_fmt(e, "%s.got", sock), &st) == -1,
	    "gtctl sent her %lld bytes", (long long)st.st_size);
	/* Trusted by name: then the client talks (and she gets it). */
	ck_assert_int_eq(setenv("GTD_SOCKET_OWNER", HOSTILE_USER, 1), 0);
	ck_assert_ptr_nonnull(c = client_connect(sock, NULL));
	ck_assert_int_eq(unsetenv("GTD_SOCKET_OWNER"), 0);
	ck_assert_int_eq(client_send(c, "{}", 2), 0);
	client_free(c);
	ck_assert(e2e_wait_file(e2e_fmt(e, "%s.got", sock), 3000));
	ck_assert_ptr_null(client_connect(sock, NULL));
	ck_assert_int_eq(errno, EPERM);
	hostile_end(pid);
	e2e_stop(e);
}
END_TEST

/* Symlinks to root's file where the snapshot and its scratch file go. */
static void
race_snapshot(void *arg)
{
	const struct race_file	*r = arg;
	long			 end = hostile_now_ms() + r->ms;
	char			 tmp[PATH_MAX], to[PATH_MAX];
	int			 n;

	for (n = 0; hostile_now_ms() < end; n++) {
		snprintf(tmp, sizeof tmp, "%s/.s%d", r->dir, (int)getpid());
		snprintf(to, sizeof to, "%s/%s%s", r->dir, r->name,
		    n % 2 ? ".tmp" : "");
		(void)unlink(tmp);
		if (symlink(r->secret, tmp) == 0)
			(void)rename(tmp, to);
	}
}

/*
 * A snapshot in a directory others may write (a sticky /tmp, or hers)
 * is refused at start, naming the directory, its owner and mode, while
 * she plants symlinks to root's file where the snapshot and its scratch
 * file would go; root's file is untouched.
 */
START_TEST(hostile_snapshot_dir)
{
	struct e2e		*e = e2e_start(NULL);
	struct race_file	 r;
	const char		*conf, *err;
	pid_t			 pid;
	FILE			*f;
	int			 rc;

	r.dir = hostile_tmp(e);
	r.name = "s.db";
	r.secret = e2e_path(e, "secret");
	r.ms = 3000;
	hostile_write(r.secret, "root's\n", 0600);
	conf = e2e_path(e, "snap.json");
	ck_assert_ptr_nonnull(f = fopen(conf, "w"));
	fprintf(f, "{\"snapshot\":{\"path\":\"%s/%s\",\"interval_ms\":100}}\n",
	    r.dir, r.name);
	fclose(f);
	pid = hostile_run(race_snapshot, &r);
	rc = e2e_gtd_run(e, 2000, &err, "-d", "-c", conf, "-s",
	    e2e_path(e, "sock2"), NULL);
	hostile_end(pid);
	hostile_secret_intact(r.secret, "root's\n");
	ck_assert_msg(rc == 1 && strstr(err, "snapshot directory") != NULL &&
	    strstr(err, "1777") != NULL, "exit %d: %s", rc, err);
	e2e_stop(e);
}
END_TEST

/* What hostile_request's process sends and where the reply goes. */
struct hostile_req {
	const char	*sock;
	const char	*line;
	int		 out;		/* write end of the reply pipe */
};

static void
hostile_req_run(void *arg)
{
	const struct hostile_req	*q = arg;
	struct client			*c;
	const char			*reply;
	size_t				 len;

	if ((c = client_connect(q->sock, NULL)) == NULL ||
	    client_send(c, q->line, strlen(q->line)) == -1 ||
	    (reply = client_recv(c, 10000, &len)) == NULL)
		_exit(95);
	(void)!write(q->out, reply, len);
	client_free(c);
}

/* One request line sent by the hostile user; the reply (held by e). */
static json_t *
hostile_request(struct e2e *e, const char *line)
{
	struct hostile_req	 q;
	char			 buf[65536];
	json_t			*j;
	size_t			 len = 0;
	ssize_t			 n;
	pid_t			 pid;
	int			 p[2], st;

	ck_assert_int_eq(pipe(p), 0);
	q.sock = e2e_sock(e);
	q.line = line;
	q.out = p[1];
	pid = hostile_run(hostile_req_run, &q);
	close(p[1]);
	while (len < sizeof buf - 1 && (n = read(p[0], buf + len,
	    sizeof buf - 1 - len)) > 0)
		len += n;
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: no reply",
	    line);
	buf[len] = '\0';
	ck_assert_ptr_nonnull(j = json_loads(buf, 0, NULL));
	return (j);
}

static const char *
reply_error(json_t *j)
{
	const char	*s = json_string_value(json_object_get(j, "error"));

	return (s != NULL ? s : "");
}

/* gtd with the socket open to all and the hostile user in class cl. */
static struct e2e *
hostile_start_acl(const char *cl)
{
	char		 conf[256];
	struct e2e	*e;

	snprintf(conf, sizeof conf, "{\"socket_mode\":\"0666\",\"acl\":"
	    "{\"default\":\"none\",\"users\":{\"%s\":\"%s\"}}}", HOSTILE_USER,
	    cl);
	e = e2e_start(conf);
	hostile_open_dir(e);
	return (e);
}

static void
pause_forever(void *arg)
{
	for (;;)
		pause();
}

/*
 * A control-class user who is not root may adopt her own processes,
 * never another user's (she could then stop them through gtd).
 */
START_TEST(hostile_adopt_other_user)
{
	struct e2e	*e;
	json_t		*r;
	char		 line[256];
	pid_t		 root, hers;

	hostile_need_user();
	e = hostile_start_acl("control");
	ck_assert_int_ne(root = fork(), -1);
	if (root == 0) {
		pause_forever(NULL);
		_exit(0);
	}
	hers = hostile_run(pause_forever, NULL);
	snprintf(line, sizeof line, "{\"op\":\"add_existing_child\","
	    "\"name\":\"r\",\"pid\":%d}", (int)root);
	r = hostile_request(e, line);
	ck_assert_msg(strcmp(reply_error(r), "permission_denied") == 0,
	    "adopting root's pid %d: %s", (int)root, e2e_dump(e, r));
	json_decref(r);
	snprintf(line, sizeof line, "{\"op\":\"add_existing_child\","
	    "\"name\":\"h\",\"pid\":%d}", (int)hers);
	r = hostile_request(e, line);
	if (!e2e_adopt_unsupported(e, r, "hostile_adopt_other_user")) {
		ck_assert_msg(json_is_true(json_object_get(r, "ok")), "%s",
		    e2e_dump(e, r));
		e2e_ok(e, "terminate_child", "{s:s}", "name", "h");
	}
	json_decref(r);
	e2e_err(e, "not_found", "find", "{s:s}", "name", "r");
	kill(root, SIGKILL);
	(void)waitpid(root, NULL, 0);
	hostile_end(hers);
	e2e_stop(e);
}
END_TEST

/*
 * Never adopted, by anyone: init, gtd itself (stopping it made gtd
 * SIGKILL itself), gtd's parent, and gtd's hooks.
 */
START_TEST(hostile_adopt_refused)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*pidf, *stat;
	json_t		*r;
	pid_t		 parent, hook;

	stat = e2e_read_file(e, e2e_fmt(e, "/proc/%d/stat", (int)e2e_pid(e)),
	    1000);
	ck_assert_int_eq(sscanf(strrchr(stat, ')') + 2, "%*c %d", &parent), 1);
	r = e2e_err(e, "bad_request", "add_existing_child", "{s:s, s:i}",
	    "name", "init", "pid", 1);
	ck_assert_str_eq(e2e_str(r, "field"), "pid");
	e2e_err(e, "bad_request", "add_existing_child", "{s:s, s:i}", "name",
	    "self", "pid", (int)e2e_pid(e));
	e2e_err(e, "bad_request", "add_existing_child", "{s:s, s:i}", "name",
	    "parent", "pid", (int)parent);
	pidf = e2e_path(e, "hook.pid");
	e2e_ok(e, "start_child", "{s:s, s:o, s:s, s:[s,s,s], s:i}", "name",
	    "k", "cmd", e2e_cmd("--exit-after-ms=0", NULL), "restart",
	    "temporary", "after_terminate", "/bin/sh", "-c", e2e_fmt(e,
	    "echo $$ > %s.tmp; mv %s.tmp %s; exec sleep 30", pidf, pidf,
	    pidf), "hook_timeout_ms", 20000);
	hook = e2e_read_pid(e, pidf, 5000);
	r = e2e_err(e, "bad_request", "add_existing_child", "{s:s, s:i}",
	    "name", "hook", "pid", (int)hook);
	ck_assert_msg(strstr(e2e_str(r, "message"), "hook") != NULL, "%s",
	    e2e_str(r, "message"));
	kill(hook, SIGKILL);
	ck_assert(e2e_wait_absent(e, "k", 5000));
	e2e_ok(e, "ping", NULL);
	e2e_stop(e);
}
END_TEST

/*
 * The control class starts any program as gtd's user (here root): it
 * is as strong as that user, as gtd(8) says.
 */
START_TEST(hostile_control_runs_as_gtd)
{
	struct e2e	*e;
	json_t		*r;
	const char	*out;

	hostile_need_user();
	e = hostile_start_acl("control");
	out = e2e_path(e, "whoami");
	r = hostile_request(e, e2e_fmt(e, "{\"op\":\"start_child\","
	    "\"name\":\"w\",\"restart\":\"temporary\",\"cmd\":[\"/bin/sh\","
	    "\"-c\",\"id -u > %s\"]}", out));
	ck_assert_msg(json_is_true(json_object_get(r, "ok")), "%s",
	    e2e_dump(e, r));
	json_decref(r);
	ck_assert(e2e_wait_text(out, "0\n", 5000));
	e2e_stop(e);
}
END_TEST

/* One hostile query and what must come of it. */
struct sql_case {
	const char	*sql;
	const char	*error;		/* code, or "" for ok */
	const char	*text;		/* in the message (or NULL) */
};

/* What hostile_sql_run's process sends, and where its results go. */
struct sql_run {
	const char		*sock;
	const struct sql_case	*cases;
	size_t			 n;
	int			 out;		/* "ms error message\n" each */
};

static void
hostile_sql_run(void *arg)
{
	const struct sql_run	*q = arg;
	struct client		*c;
	const char		*reply;
	json_t			*req, *j;
	char			*line, buf[1024];
	long			 t0;
	size_t			 i, len;

	if ((c = client_connect(q->sock, NULL)) == NULL)
		_exit(94);
	for (i = 0; i < q->n; i++) {
		req = json_pack("{s:s, s:s}", "op", "query", "sql",
		    q->cases[i].sql);
		line = json_dumps(req, JSON_COMPACT);
		t0 = hostile_now_ms();
		if (client_send(c, line, strlen(line)) == -1 ||
		    (reply = client_recv(c, 30000, &len)) == NULL)
			_exit(93);
		j = json_loadb(reply, len, 0, NULL);
		snprintf(buf, sizeof buf, "%ld\t%s\t%s\n", hostile_now_ms() -
		    t0, json_string_value(json_object_get(j, "error")) != NULL ?
		    json_string_value(json_object_get(j, "error")) : "",
		    json_string_value(json_object_get(j, "message")) != NULL ?
		    json_string_value(json_object_get(j, "message")) : "");
		(void)!write(q->out, buf, strlen(buf));
		json_decref(j);
		json_decref(req);
		free(line);
	}
	client_free(c);
}

#define SQL_A(n, c)	"printf('%.*c', " #n ", '" #c "')"
#define SQL_M	\
	"WITH v(s) AS MATERIALIZED (SELECT " SQL_A(60000, a) ") "

static char *
sql_repeat(const char *head, const char *item, int n, const char *tail)
{
	char	*s, *t;
	int	 i;

	s = xstrdup(head);
	for (i = 0; i < n; i++) {
		xasprintf(&t, "%s%s%s", s, i > 0 ? ", " : "", item);
		free(s);
		s = t;
	}
	xasprintf(&t, "%s%s", s, tail);
	free(s);
	return (t);
}

/*
 * A read-class user sends the single calls that used to freeze gtd for
 * seconds (instr, ltrim, replace, LIKE, GLOB on long values, printf with
 * a huge precision, zeroblob, randomblob, group_concat, recursion) and
 * the statements that string many such calls together: each fails fast
 * with an error naming the cause (or is over within its budget), and a
 * ping on another connection is answered within about 300 ms all along.
 */
START_TEST(hostile_sql_long_calls)
{
	static struct sql_case	 cases[] = {
		{ "SELECT printf('%.*c', 2147483647, 'x')", "sql_error",
		    "width or precision" },
		{ "SELECT printf('%*.*c', 2147483647, 2147483647, 'x')",
		    "sql_error", "width or precision" },
		{ "SELECT instr(" SQL_A(65000, a) ", " SQL_A(32000, a)
		    " || 'b')", "sql_error", "too costly" },
		{ "SELECT ltrim(" SQL_A(60000, a) ", " SQL_A(20000, b)
		    " || 'a')", "sql_error", "too costly" },
		{ "SELECT replace(" SQL_A(65000, a) ", " SQL_A(32000, a)
		    " || 'b', 'x')", "sql_error", "too costly" },
		{ "SELECT " SQL_A(60000, a) " LIKE '%' || " SQL_A(1000, a)
		    " || 'b%'", "sql_error", "too costly" },
		{ "SELECT " SQL_A(60000, a) " GLOB '*' || " SQL_A(1000, a)
		    " || 'b*'", "sql_error", "too costly" },
		{ "SELECT length(zeroblob(2000000000))", "sql_error",
		    "too big" },
		{ "SELECT length(randomblob(2000000000))", "sql_error",
		    "too big" },
		{ "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
		    "FROM c) SELECT count(*) FROM c", "timeout", "250 ms" },
		{ "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
		    "FROM c) SELECT length(group_concat(x)) FROM c",
		    "timeout", "250 ms" },
		{ NULL, "sql_error", "functions" },	/* 65 calls */
		{ NULL, "sql_error", "too many columns" },
		{ NULL, "sql_error", "too complex" },
		{ NULL, "sql_error", "longer than" },
		{ NULL, "*", NULL },	/* 63 replace(): ok, or out of time */
		{ NULL, "", NULL },			/* 2 MiB of reply */
		{ "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
		    "FROM c LIMIT 700) SELECT count(*) FROM (SELECT "
		    "randomblob(60000) AS b FROM c ORDER BY b)", "*",
		    NULL },	/* out of memory, or out of time first */
	};
	const size_t		 n = sizeof cases / sizeof cases[0];
	struct e2e		*e;
	struct sql_run		 q;
	struct pollfd		 pfd;
	char			 buf[16384], *line, *save, *tab, *msg;
	long			 t0, dt, worst = 0, ms;
	size_t			 len = 0, i;
	ssize_t			 nr;
	pid_t			 pid;
	int			 p[2], st, pings = 0;

	hostile_need_user();
	e = hostile_start_acl("read");
	cases[11].sql = sql_repeat("SELECT ", "abs(1)", 65, "");
	cases[12].sql = sql_repeat("SELECT ", "1", 101, "");
	cases[13].sql = sql_repeat("WITH v(s) AS MATERIALIZED (SELECT 'x') "
	    "SELECT ", "s || s || s || s = s", 99, " FROM v");
	cases[14].sql = sql_repeat("SELECT ", "1", 22000, "");
	cases[15].sql = sql_repeat(SQL_M "SELECT ",
	    "replace(s, 'a', 'b') = s", 63, " FROM v");
	cases[16].sql = sql_repeat(SQL_M "SELECT ", "s", 34, " FROM v");
	ck_assert_int_eq(pipe(p), 0);
	q.sock = e2e_sock(e);
	q.cases = cases;
	q.n = n;
	q.out = p[1];
	pid = hostile_run(hostile_sql_run, &q);
	close(p[1]);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	/* Ping until the last result is in. */
	for (;;) {
		if (poll(&pfd, 1, 0) == 1) {
			if ((nr = read(p[0], buf + len, sizeof buf - 1 -
			    len)) <= 0)
				break;
			len += nr;
			continue;
		}
		t0 = hostile_now_ms();
		e2e_ok(e, "ping", NULL);
		if ((dt = hostile_now_ms() - t0) > worst)
			worst = dt;
		pings++;
	}
	close(p[0]);
	st = hostile_end(pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the querier "
	    "failed: status 0x%x", st);
	buf[len] = '\0';
	for (i = 0, line = strtok_r(buf, "\n", &save); line != NULL && i < n;
	    i++, line = strtok_r(NULL, "\n", &save)) {
		ms = strtol(line, &tab, 10);
		msg = strchr(tab + 1, '\t');
		ck_assert_ptr_nonnull(msg);
		*msg++ = '\0';
		ck_assert_msg(strcmp(cases[i].error, "*") == 0 ||
		    strcmp(tab + 1, cases[i].error) == 0, "query %zu: %s "
		    "(%s), want %s", i, tab + 1, msg, cases[i].error[0] ?
		    cases[i].error : "ok");
		ck_assert_msg(cases[i].text == NULL || strstr(msg,
		    cases[i].text) != NULL, "query %zu: %s", i, msg);
		/* Not the reply of 2 MiB: its time is mostly the transfer. */
		ck_assert_msg(i == 16 || ms <= e2e_slow(350), "query %zu took "
		    "%ld ms (%s)", i, ms, msg);
	}
	ck_assert_uint_eq(i, n);
	fprintf(stderr, "hostile-sql: %zu queries, %d pings meanwhile, the "
	    "slowest %ld ms\n", n, pings, worst);
	ck_assert_msg(worst <= e2e_slow(350), "a ping took %ld ms (%d pings) "
	    "while the queries ran", worst, pings);
	for (i = 11; i <= 16; i++)
		free((char *)cases[i].sql);
	e2e_stop(e);
}
END_TEST

/*
 * gtd's memory stays bounded while she runs the queries that allocate
 * most (sorts of large values, wide rows, long replies) again and again:
 * the statement's heap cap plus the free heap glibc keeps.
 */
START_TEST(hostile_sql_memory)
{
	static struct sql_case	 cases[] = {
		{ "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
		    "FROM c LIMIT 700) SELECT count(*) FROM (SELECT "
		    "randomblob(60000) AS b FROM c ORDER BY b)", "*", NULL },
		{ "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
		    "FROM c LIMIT 2000) SELECT count(*) FROM (SELECT DISTINCT "
		    "randomblob(30000) FROM c)", "*", NULL },
		{ NULL, "*", NULL },
	};
	struct e2e		*e;
	struct sql_run		 q;
	char			 buf[4096];
	long			 rss0, rss1;
	pid_t			 pid;
	int			 p[2], round;

	hostile_need_user();
	e = hostile_start_acl("read");
	cases[2].sql = sql_repeat(SQL_M "SELECT ", "s", 34, " FROM v");
	e2e_ok(e, "ping", NULL);
	rss0 = e2e_rss_kib(e2e_pid(e));
	for (round = 0; round < 5; round++) {
		ck_assert_int_eq(pipe(p), 0);
		q.sock = e2e_sock(e);
		q.cases = cases;
		q.n = 3;
		q.out = p[1];
		pid = hostile_run(hostile_sql_run, &q);
		close(p[1]);
		while (read(p[0], buf, sizeof buf) > 0)
			;
		close(p[0]);
		hostile_end(pid);
	}
	e2e_ok(e, "ping", NULL);
	rss1 = e2e_rss_kib(e2e_pid(e));
	ck_assert_msg(rss1 - rss0 < e2e_rss_bound(96 * 1024), "gtd grew from "
	    "%ld to %ld KiB", rss0, rss1);
	free((char *)cases[2].sql);
	e2e_stop(e);
}
END_TEST

/* Bind the old notify names (@gtd/notify/PID) for the next pids. */
static void
squat_notify(void *arg)
{
	struct sockaddr_un	 sun;
	struct rlimit		 rl;
	const int		*ready = arg;
	char			 buf[64];
	socklen_t		 len;
	long			 last;
	int			 fd, i;
	FILE			*f;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if ((f = fopen("/proc/sys/kernel/ns_last_pid", "re")) == NULL ||
	    fscanf(f, "%ld", &last) != 1)
		_exit(92);
	fclose(f);
	for (i = 1; i <= 500; i++) {
		snprintf(buf, sizeof buf, "gtd/notify/%ld", last + i);
		memset(&sun, 0, sizeof sun);
		sun.sun_family = AF_UNIX;
		memcpy(sun.sun_path + 1, buf, strlen(buf));
		len = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(buf);
		if ((fd = socket(AF_UNIX, SOCK_DGRAM, 0)) == -1 ||
		    bind(fd, (struct sockaddr *)&sun, len) == -1)
			break;
	}
	snprintf(buf, sizeof buf, "%ld %ld\n", last + 1, last + i - 1);
	(void)!write(ready[1], buf, strlen(buf));
	for (;;)
		pause();
}

/*
 * Another user binds the notify names of the next 500 pids: gtd starts
 * all the same, and sd_notify readiness works (its sockets have random
 * names, drawn again if taken).
 */
START_TEST(hostile_notify_squat)
{
	struct e2e	*e;
	char		 buf[64];
	long		 lo = 0, hi = 0;
	ssize_t		 n;
	pid_t		 pid;
	int		 p[2];

	ck_assert_int_eq(pipe(p), 0);
	pid = hostile_run(squat_notify, p);
	close(p[1]);
	ck_assert_int_gt(n = read(p[0], buf, sizeof buf - 1), 0);
	buf[n] = '\0';
	close(p[0]);
	ck_assert_int_eq(sscanf(buf, "%ld %ld", &lo, &hi), 2);
	e = e2e_start(NULL);
	if (e2e_pid(e) < lo || e2e_pid(e) > hi)
		fprintf(stderr, "hostile_notify_squat: gtd got pid %d, not "
		    "in %ld-%ld (busy machine): less was tested\n",
		    (int)e2e_pid(e), lo, hi);
	e2e_ok(e, "start_child", "{s:s, s:o, s:s, s:b}", "name", "n", "cmd",
	    e2e_cmd("--notify-ready-after-ms=0", NULL), "ready", "notify",
	    "wait", 1);
	ck_assert_str_eq(e2e_str(e2e_ok(e, "find", "{s:s}", "name", "n"),
	    "state"), "running");
	hostile_end(pid);
	e2e_stop(e);
}
END_TEST

/*
 * READY=1 from a sender that is gone before gtd reads it (a shell's
 * systemd-notify --no-block, as nobody): many children at once, each
 * made ready by such a sender, all become ready.
 */
START_TEST(hostile_notify_short_senders)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*sh;
	long		 deadline;
	int		 i, n, ready;
	json_t		*r;

	/* 40 in make check, up to 400 in longer runs. */
	n = hostile_race_ms() >= 6000 ? 400 : 40;
	hostile_open_dir(e);
	sh = e2e_fmt(e, "%s --notify-ready-after-ms=0 --exit-code=0; exec "
	    "sleep 600", e2e_testchild(e));
	for (i = 0; i < n; i++)
		e2e_ok(e, "start_child", "{s:s, s:[s,s,s], s:s, s:s, s:i, "
		    "s:b}", "name", e2e_fmt(e, "s%d", i), "cmd", "/bin/sh",
		    "-c", sh, "user", "nobody", "ready", "notify",
		    "ready_timeout_ms", 30000, "wait", 0);
	deadline = hostile_now_ms() + e2e_slow(15000);
	do {
		r = e2e_ok(e, "query", "{s:s}", "sql", "SELECT count(*) FROM "
		    "children WHERE state = 'running'");
		ready = (int)json_integer_value(json_array_get(json_array_get(
		    e2e_get(r, "rows"), 0), 0));
		if (ready == n)
			break;
		poll(NULL, 0, 20);
	} while (hostile_now_ms() < deadline);
	ck_assert_msg(ready == n, "%d of %d children ready: a readiness from "
	    "a short-lived sender was lost", ready, n);
	e2e_stop(e);
}
END_TEST

static int
hostile_nfds(pid_t pid)
{
	char		 path[64];
	struct dirent	*d;
	DIR		*dp;
	int		 n = 0;

	snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
	ck_assert_ptr_nonnull(dp = opendir(path));
	while ((d = readdir(dp)) != NULL)
		n += d->d_name[0] != '.';
	closedir(dp);
	return (n);
}

/*
 * Datagrams that carry descriptors too (SCM_RIGHTS, as from
 * sd_pid_notify_with_fds): the message is kept (the child becomes ready,
 * its watchdog is fed), and every descriptor is closed: gtd's open
 * descriptors do not grow.
 */
START_TEST(hostile_notify_fds)
{
	struct e2e	*e = e2e_start(NULL);
	int		 n0, n1;

	e2e_ok(e, "ping", NULL);
	n0 = hostile_nfds(e2e_pid(e));
	/* wait: the reply comes once READY=1 (with its fds) was taken. */
	e2e_ok(e, "start_child", "{s:s, s:o, s:s, s:s, s:i, s:b}", "name",
	    "f", "cmd", e2e_cmd("--notify-ready-after-ms=0", "--notify-fds=50",
	    "--watchdog-every-ms=2", "--watchdog-count=200", "--exit-code=0",
	    NULL), "restart", "temporary", "ready", "notify", "watchdog_ms",
	    2000, "wait", 1);
	ck_assert(e2e_wait_absent(e, "f", e2e_slow(10000)));
	ck_assert(e2e_wait_text(e2e_path(e, "gtd.log"), "exited with status 0",
	    1000));
	n1 = hostile_nfds(e2e_pid(e));
	ck_assert_msg(n1 <= n0 + 2, "gtd had %d descriptors, now %d", n0, n1);
	e2e_stop(e);
}
END_TEST

/* gtd -n -c path: its exit status, *err its stderr. */
static int
hostile_check_conf(struct e2e *e, const char *path, const char **err)
{
	return (e2e_gtd_run(e, 5000, err, "-n", "-c", path, NULL));
}

/*
 * Whoever may change gtd's configuration runs programs as gtd's user:
 * a config file or include directory of hers, or one anyone may write,
 * is refused with its owner and mode; a FIFO among the included files
 * does not hang the load; a symlink she planted in a world-writable
 * include directory is never read.
 */
START_TEST(hostile_config_files)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*conf, *inc, *err;
	FILE		*f;
	int		 rc;

	hostile_need_user();
	hostile_open_dir(e);
	inc = e2e_path(e, "inc");
	conf = e2e_path(e, "c.json");
	ck_assert_int_eq(mkdir(inc, 0755), 0);
	ck_assert_ptr_nonnull(f = fopen(conf, "w"));
	fprintf(f, "{\"include\":\"%s\"}\n", inc);
	fclose(f);
	ck_assert_int_eq(hostile_check_conf(e, conf, &err), 0);
	/* A FIFO in the include directory: refused, not waited on. */
	ck_assert_int_eq(mkfifo(e2e_fmt(e, "%s/fifo.json", inc), 0644), 0);
	rc = hostile_check_conf(e, conf, &err);
	ck_assert_msg(rc != 0 && strstr(err, "not a regular file") != NULL,
	    "exit %d: %s", rc, err);
	ck_assert_int_eq(unlink(e2e_fmt(e, "%s/fifo.json", inc)), 0);
	/* Her include directory (or anyone's to write). */
	ck_assert_int_eq(chmod(inc, 01777), 0);
	ck_assert_int_eq(symlink("/etc/shadow", e2e_fmt(e, "%s/x.json",
	    inc)), 0);
	rc = hostile_check_conf(e, conf, &err);
	ck_assert_msg(rc != 0 && strstr(err, "1777") != NULL &&
	    strstr(err, "root:") == NULL, "exit %d: %s", rc, err);
	ck_assert_int_eq(chown(inc, hostile_uid, hostile_gid), 0);
	ck_assert_int_eq(chmod(inc, 0755), 0);
	rc = hostile_check_conf(e, conf, &err);
	ck_assert_msg(rc != 0 && strstr(err, HOSTILE_USER) != NULL, "exit %d: "
	    "%s", rc, err);
	/* Her config file. */
	ck_assert_int_eq(chown(conf, hostile_uid, hostile_gid), 0);
	rc = hostile_check_conf(e, conf, &err);
	ck_assert_msg(rc != 0 && strstr(err, "c.json is owned by") != NULL,
	    "exit %d: %s", rc, err);
	e2e_stop(e);
}
END_TEST

/*
 * Make a process of ours get pid want, now free: root sets the last pid
 * handed out (ns_last_pid) just below it and forks.  The process waits
 * for a signal.  Its pid, or -1 if another process took want first.
 */
static pid_t
hostile_take_pid(pid_t want)
{
	pid_t	pid;
	FILE	*f;
	int	i;

	for (i = 0; i < 50; i++) {
		if ((f = fopen("/proc/sys/kernel/ns_last_pid", "we")) == NULL)
			return (-1);
		fprintf(f, "%d", (int)want - 1);
		if (fclose(f) != 0)
			return (-1);
		ck_assert_int_ne(pid = fork(), -1);
		if (pid == 0) {
			if (getpid() == want)
				pause_forever(NULL);
			_exit(0);
		}
		if (pid == want)
			return (pid);
		(void)waitpid(pid, NULL, 0);
	}
	return (-1);
}

/*
 * The sender of READY=1 (a process of the child's session) has exited
 * and its pid belongs to another process by the time gtd reads the
 * datagram (gtd stopped meanwhile, the pid handed out again): not fooled by
 * the pid number (the pidfd says its sender is gone), the datagram
 * counts for the child whose socket it came in on, and for no other.
 */
START_TEST(hostile_notify_pid_reuse)
{
	struct e2e	*e = e2e_start(NULL);
	const char	*go = e2e_path(e, "go");
	const char	*spid = e2e_path(e, "sender.pid");
	pid_t		 sender, taker;
	int		 st;

	hostile_open_dir(e);
	ck_assert_int_eq(chmod(e2e_dir(e), 0777), 0);	/* for sender.pid */
	e2e_ok(e, "start_child", "{s:s, s:[s,s,s], s:s, s:s, s:i, s:b}",
	    "name", "c", "cmd", "/bin/sh", "-c", e2e_fmt(e, "while [ ! -e %s "
	    "]; do sleep 0.01; done; %s --append-pid=%s "
	    "--notify-ready-after-ms=0 --exit-code=0; exec sleep 600", go,
	    e2e_testchild(e), spid), "user", "nobody", "ready", "notify",
	    "ready_timeout_ms", 60000, "wait", 0);
	e2e_ok(e, "start_child", "{s:s, s:[s,s,s], s:s, s:s, s:i, s:b}",
	    "name", "d", "cmd", "/bin/sh", "-c", "exec sleep 600", "user",
	    "nobody", "ready", "notify", "ready_timeout_ms", 60000, "wait", 0);
	ck_assert_int_eq(kill(e2e_pid(e), SIGSTOP), 0);
	hostile_write(go, "", 0644);
	sender = e2e_read_pid(e, spid, 5000);
	ck_assert(e2e_wait_dead(sender, 5000));
	taker = hostile_take_pid(sender);
	ck_assert_int_eq(kill(e2e_pid(e), SIGCONT), 0);
	if (taker == -1)
		fprintf(stderr, "hostile_notify_pid_reuse: pid %d was not "
		    "taken again: less was tested\n", (int)sender);
	ck_assert_msg(e2e_wait_state(e, "c", "running", 5000), "c not ready: "
	    "its sender's pid %d was taken by %d", (int)sender, (int)taker);
	ck_assert_str_eq(e2e_str(e2e_row(e, "d"), "state"), "starting");
	if (taker != -1) {
		kill(taker, SIGKILL);
		(void)waitpid(taker, &st, 0);
	}
	e2e_stop(e);
}
END_TEST

/*
 * Her process exits and root's process gets its pid: adopting that pid
 * is judged by the process that has it now (permission_denied), never
 * by whose it was.
 */
START_TEST(hostile_adopt_pid_reuse)
{
	struct e2e	*e;
	json_t		*r;
	pid_t		 hers, taker;

	hostile_need_user();
	e = hostile_start_acl("control");
	hers = hostile_run(pause_forever, NULL);
	hostile_end(hers);
	if ((taker = hostile_take_pid(hers)) == -1) {
		fprintf(stderr, "hostile_adopt_pid_reuse: pid %d was not taken "
		    "again: skipped\n", (int)hers);
		e2e_stop(e);
		return;
	}
	r = hostile_request(e, e2e_fmt(e, "{\"op\":\"add_existing_child\","
	    "\"name\":\"x\",\"pid\":%d}", (int)taker));
	ck_assert_msg(strcmp(reply_error(r), "permission_denied") == 0, "%s",
	    e2e_dump(e, r));
	json_decref(r);
	kill(taker, SIGKILL);
	(void)waitpid(taker, NULL, 0);
	e2e_stop(e);
}
END_TEST

/* A test case of this suite, with the user made before it runs. */
static TCase *
hostile_tcase(Suite *s, const char *name)
{
	TCase	*tc = tcase_create(name);

	tcase_set_timeout(tc, E2E_TIMEOUT + hostile_race_ms() / 1000 * 4);
	tcase_add_unchecked_fixture(tc, hostile_setup, hostile_teardown);
	suite_add_tcase(s, tc);
	return (tc);
}

Suite *
e2e_hostile_suite(void)
{
	Suite	*s = suite_create("e2e_hostile");
	TCase	*tc;

	tc = hostile_tcase(s, "files");
	tcase_add_test(tc, hostile_pdeathsig_user);
	tcase_add_test(tc, hostile_file_symlink_race);
	tcase_add_test(tc, hostile_file_hardlink);
	tcase_add_test(tc, hostile_snapshot_dir);
	tcase_add_test(tc, hostile_config_files);
	tc = hostile_tcase(s, "socket");
	tcase_add_test(tc, hostile_socket_dir_squat);
	tcase_add_test(tc, hostile_socket_dir_ancestor);
	tcase_add_test(tc, hostile_gtctl_foreign);
	tcase_add_test(tc, hostile_socket_not_removed);
	tc = hostile_tcase(s, "adopt");
	tcase_add_test(tc, hostile_adopt_other_user);
	tcase_add_test(tc, hostile_adopt_refused);
	tcase_add_test(tc, hostile_control_runs_as_gtd);
	tcase_add_test(tc, hostile_adopt_pid_reuse);
	tc = hostile_tcase(s, "sql");
	tcase_add_test(tc, hostile_sql_long_calls);
	tcase_add_test(tc, hostile_sql_memory);
	tc = hostile_tcase(s, "notify");
	tcase_add_test(tc, hostile_notify_squat);
	tcase_add_test(tc, hostile_notify_short_senders);
	tcase_add_test(tc, hostile_notify_fds);
	tcase_add_test(tc, hostile_notify_pid_reuse);
	return (s);
}
