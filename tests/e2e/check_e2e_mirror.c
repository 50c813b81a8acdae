/* SPDX-License-Identifier: MIT */
/*
 * check_e2e_mirror: the shared-memory mirror of a real gtd, read through
 * libgtd (protocol §9.4).  The consistency rule holds for mirror readers
 * (a value is there as soon as the reply that set it is); readers in
 * other processes check every record they read during a storm of
 * setattrs, starts and deletes that makes gtd replace the file several
 * times: never torn (every setattr writes three attrs that encode one
 * counter and a checksum), never older than before (the counter of each
 * row only grows), and the final values once the writer has its last
 * reply.  A user who cannot use the socket cannot map the mirror; the
 * cap sends readers to the socket and gtd rebuilds the mirror later; a
 * SIGKILLed gtd's mirror is refused by new readers and replaced by the
 * next gtd.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "gtd.h"
#include "harness.h"

#define MIR_NOBODY	65534
#define MIR_W		6		/* rows the storm writes */
#define MIR_READERS	3		/* reader processes */
#define MIR_PAD		3000		/* longest padding: records move */

/* The mirror of e's socket. */
static const char *
mir_path(struct e2e *e)
{
	return (e2e_fmt(e, "%s.mirror", e2e_sock(e)));
}

static uint32_t
mir_sum(const char *s, size_t n)
{
	uint32_t	h = 2166136261u;

	while (n-- > 0)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return (h);
}

/*
 * The text attr of counter n: "n:PAD:SUM", PAD a letter repeated a
 * length that changes with n, SUM a checksum of "n:PAD".
 */
static size_t
mir_text(long long n, char *buf, size_t size)
{
	size_t	len, pad = (size_t)(n * 7919) % MIR_PAD;
	int	k;

	k = snprintf(buf, size, "%lld:", n);
	len = (size_t)k;
	ck_assert_uint_lt(len + pad + 16, size);
	memset(buf + len, 'a' + (int)(n % 26), pad);
	len += pad;
	len += (size_t)snprintf(buf + len, size - len, ":%08x",
	    mir_sum(buf, len));
	return (len);
}

/* Does s encode n correctly?  (Never garbage, never torn.) */
static bool
mir_text_ok(const char *s, size_t len, long long n)
{
	char	want[MIR_PAD + 64];

	return (mir_text(n, want, sizeof want) == len &&
	    memcmp(want, s, len) == 0);
}

START_TEST(e2e_mirror_after_reply)
{
	struct e2e		*e = e2e_start("{\"max_mirror_bytes\":"
	    "1048576}");
	struct gtd_handle	*h = gtd_open(e2e_sock(e));
	struct gtd_mirror_stat	 st;
	struct gtd_child	 c;
	char			 text[MIR_PAD + 64], got[MIR_PAD + 64], name[8];
	json_t			*r;
	int64_t			 n;
	size_t			 len;
	pid_t			 pid;
	int			 i;

	ck_assert_ptr_nonnull(h);
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof name, "c%d", i);
		pid = e2e_spawn(e, name, NULL);
		ck_assert_int_eq(gtd_find(h, name, &c), GTD_OK);
		ck_assert_int_eq(c.pid, pid);
	}
	/* Each value is in the mirror when its reply is out. */
	for (i = 0; i < 1500; i++) {
		snprintf(name, sizeof name, "c%d", i % 20);
		len = mir_text(i, text, sizeof text);
		e2e_ok(e, "setattr", "{s:s, s:{s:s%, s:i}}", "name", name,
		    "attrs", "s", text, len, "n", i);
		ck_assert_int_eq(gtd_getattr_int(h, name, "n", &n), GTD_OK);
		ck_assert_int_eq(n, i);
		ck_assert_int_eq(gtd_getattr_string(h, name, "s", got,
		    sizeof got, &len), GTD_OK);
		ck_assert(mir_text_ok(got, len, i));
	}
	/* States too: not running once stopped, the new pid once back. */
	e2e_ok(e, "terminate_child", "{s:s}", "name", "c3");
	ck_assert_int_eq(gtd_find(h, "c3", &c), GTD_ENOTRUNNING);
	ck_assert_int_eq(c.state, GTD_STOPPED);
	ck_assert_int_eq(gtd_getattr_int(h, "c3", "n", &n), GTD_ENOTRUNNING);
	r = e2e_ok(e, "restart_child", "{s:s}", "name", "c3");
	ck_assert_int_eq(gtd_find(h, "c3", &c), GTD_OK);
	ck_assert_int_eq(c.pid, e2e_int(r, "pid"));
	ck_assert_int_eq(gtd_getattr_int(h, "c3", "n", &n), GTD_ENOATTR);
	e2e_ok(e, "terminate_and_delete", "{s:s}", "name", "c4");
	ck_assert_int_eq(gtd_find(h, "c4", &c), GTD_ENOTFOUND);
	gtd_mirror_stat(h, &st);
	ck_assert_msg(st.fallbacks == 0, "%" PRIu64 " reads went to the "
	    "socket", st.fallbacks);
	ck_assert_msg(st.remaps > 1, "the mirror never grew");
	gtd_close(h);
	e2e_stop(e);
}
END_TEST

/* What a storm reader found; one line on its pipe. */
struct mir_result {
	long		 reads;
	long		 bad;
	unsigned long	 remaps, fallbacks;
	char		 why[200];
};

/* The attrs of one row, as one gtd_attrs() call saw them. */
struct mir_seen {
	bool		 has_n, has_m, has_s;
	long long	 n, m;
	char		*s;
	size_t		 slen;
};

static int
mir_attr_cb(const char *key, const struct gtd_value *v, void *arg)
{
	struct mir_seen	*s = arg;

	if (strcmp(key, "n") == 0 && v->type == GTD_INT) {
		s->has_n = true;
		s->n = v->i;
	} else if (strcmp(key, "m") == 0 && v->type == GTD_INT) {
		s->has_m = true;
		s->m = v->i;
	} else if (strcmp(key, "s") == 0 && v->type == GTD_STRING) {
		s->has_s = true;
		free(s->s);
		s->s = malloc(v->len + 1);
		memcpy(s->s, v->s, v->len + 1);
		s->slen = v->len;
	}
	return (0);
}

static int	mir_bad(struct mir_result *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static int
mir_bad(struct mir_result *r, const char *fmt, ...)
{
	va_list	ap;

	if (r->bad++ == 0) {
		va_start(ap, fmt);
		vsnprintf(r->why, sizeof r->why, fmt, ap);
		va_end(ap);
	}
	return (-1);
}

/* One read of row j, checked against what this reader saw before. */
static void
mir_read_one(struct gtd_handle *h, int j, const pid_t *pids,
    long long *last, struct mir_result *r)
{
	struct mir_seen		 s = { 0 };
	struct gtd_child	 c;
	char			 name[8];
	int64_t			 n;
	int			 rc;

	snprintf(name, sizeof name, "w%d", j);
	r->reads++;
	if ((rc = gtd_find(h, name, &c)) != GTD_OK || c.pid != pids[j]) {
		mir_bad(r, "find %s: %d pid %d, want %d", name, rc,
		    (int)c.pid, (int)pids[j]);
		return;
	}
	if ((rc = gtd_attrs(h, name, mir_attr_cb, &s)) != GTD_OK) {
		mir_bad(r, "attrs %s: %s", name, gtd_strerror(rc));
		goto out;
	}
	if (s.has_n || s.has_m || s.has_s) {
		if (!s.has_n || !s.has_m || !s.has_s)
			mir_bad(r, "%s: half a setattr: n %d m %d s %d", name,
			    s.has_n, s.has_m, s.has_s);
		else if (s.m != 3 * s.n + 1 || !mir_text_ok(s.s, s.slen,
		    s.n))
			mir_bad(r, "%s: torn: n %lld m %lld s %.40s", name,
			    s.n, s.m, s.s);
		else if (s.n < last[j])
			mir_bad(r, "%s: n went back from %lld to %lld", name,
			    last[j], s.n);
		else
			last[j] = s.n;
	}
	rc = gtd_getattr_int(h, name, "n", &n);
	if (rc == GTD_OK && n < last[j])
		mir_bad(r, "%s: getattr n went back from %lld to %lld", name,
		    last[j], (long long)n);
	else if (rc == GTD_OK)
		last[j] = n;
	else if (rc != GTD_ENOATTR)
		mir_bad(r, "getattr %s: %s", name, gtd_strerror(rc));
out:
	free(s.s);
}

/*
 * A storm reader (a forked process): read rows round-robin until the
 * test writes the final counters on in, then read each once more, which
 * must give exactly those; report on out and exit.
 */
static void
mir_reader(const char *sock, const pid_t *pids, int in, int out)
{
	struct gtd_handle	*h = gtd_open(sock);
	struct gtd_mirror_stat	 st;
	struct mir_result	 r = { 0 };
	struct pollfd		 pfd = { .fd = in, .events = POLLIN };
	long long		 last[MIR_W] = { 0 }, fin[MIR_W];
	char			 buf[256], name[8];
	int64_t			 n;
	ssize_t			 k;
	int			 j, off, used;

	if (h == NULL)
		_exit(70);
	for (;;) {
		for (j = 0; j < 64; j++)
			mir_read_one(h, (int)(r.reads % MIR_W), pids, last, &r);
		if (poll(&pfd, 1, 0) > 0)
			break;
		sched_yield();		/* the writer and gtd need cpus too */
	}
	k = read(in, buf, sizeof buf - 1);
	buf[k > 0 ? k : 0] = '\0';
	for (j = 0, off = 0; j < MIR_W; j++, off += used)
		if (sscanf(buf + off, "%lld%n", &fin[j], &used) != 1)
			_exit(71);		/* the test died: no report */
	for (j = 0; j < MIR_W; j++) {
		snprintf(name, sizeof name, "w%d", j);
		if (gtd_getattr_int(h, name, "n", &n) != GTD_OK ||
		    n != fin[j])
			mir_bad(&r, "%s: n %lld after the last reply, want "
			    "%lld", name, (long long)n, fin[j]);
	}
	gtd_mirror_stat(h, &st);
	dprintf(out, "%ld %ld %lu %lu %s\n", r.reads, r.bad,
	    (unsigned long)st.remaps, (unsigned long)st.fallbacks,
	    r.bad ? r.why : "-");
	gtd_close(h);
	_exit(0);
}

/* Send lines, then read as many replies; each must be ok. */
static void
mir_flush(struct e2e_conn *cn, char **lines, int n)
{
	const char	*line;
	int		 i;

	for (i = 0; i < n; i++) {
		e2e_send_line(cn, lines[i]);
		free(lines[i]);
	}
	for (i = 0; i < n; i++) {
		line = e2e_recv_line(cn, E2E_REPLY_MS);
		ck_assert_msg(line != NULL, "no reply");
		ck_assert_msg(strncmp(line, "{\"ok\":true", 10) == 0 ||
		    strstr(line, "\"ok\":true") != NULL, "%s", line);
	}
}

START_TEST(e2e_mirror_storm)
{
	struct e2e		*e;
	struct e2e_conn		*cn;
	struct gtd_handle	*h;
	struct gtd_mirror_stat	 st;
	struct gtd_child	 c;
	struct mir_result	 res;
	pid_t			 pids[MIR_W], rpid[MIR_READERS];
	char			*batch[64], text[MIR_PAD + 64], name[8];
	char			 line[512];
	char			 blob[4097];
	long long		 fin[MIR_W];
	long			 total = 0, deadline, stop_at;
	int			 in[MIR_READERS][2], out[MIR_READERS][2];
	int			 i, j, nb = 0, st2, nwrites, tmp = 0, done;
	unsigned long		 remaps = 0;
	uint64_t		 gen0;
	FILE			*f;

	nwrites = getenv("E2E_MIRROR_WRITES") != NULL ?
	    atoi(getenv("E2E_MIRROR_WRITES")) : 20000;
	/* At most this long (slow builds): the churn comes first anyway. */
	stop_at = e2e_now_ms() + e2e_slow(25000);
	e = e2e_start("{\"max_mirror_bytes\":4194304}");
	for (j = 0; j < MIR_W; j++) {
		snprintf(name, sizeof name, "w%d", j);
		pids[j] = e2e_spawn(e, name, NULL);
	}
	h = gtd_open(e2e_sock(e));
	ck_assert_int_eq(gtd_find(h, "w0", &c), GTD_OK);
	gtd_mirror_stat(h, &st);
	gen0 = st.generation;
	fflush(NULL);
	for (i = 0; i < MIR_READERS; i++) {
		ck_assert_int_eq(pipe2(in[i], O_CLOEXEC), 0);
		ck_assert_int_eq(pipe2(out[i], O_CLOEXEC), 0);
		ck_assert_int_ne(rpid[i] = fork(), -1);
		if (rpid[i] == 0) {
			close(in[i][1]);
			close(out[i][0]);
			mir_reader(e2e_sock(e), pids, in[i][0], out[i][1]);
		}
		close(in[i][0]);
		close(out[i][1]);
	}
	/*
	 * The storm: setattrs of the w rows in pipelined batches, and rows
	 * with 4 KiB attrs started and deleted, so records move, buckets
	 * change and the file is replaced while the readers read.
	 */
	memset(blob, 'B', sizeof blob - 1);
	blob[sizeof blob - 1] = '\0';
	cn = e2e_client(e);
	for (i = 1; i <= nwrites && (i <= 5000 || e2e_now_ms() < stop_at);
	    i++) {
		j = i % MIR_W;
		mir_text(i, text, sizeof text);
		ck_assert_int_ne(asprintf(&batch[nb++], "{\"op\":\"setattr\","
		    "\"name\":\"w%d\",\"attrs\":{\"n\":%d,\"m\":%d,"
		    "\"s\":\"%s\"}}", j, i, 3 * i + 1, text), -1);
		fin[j] = i;
		if (i % 100 == 0) {
			ck_assert_int_ne(asprintf(&batch[nb++], "{\"op\":"
			    "\"start_child\",\"name\":\"x%d\",\"cmd\":[\"%s\"],"
			    "\"attrs\":{\"blob\":\"%s\"}}", tmp++,
			    e2e_testchild(e), blob), -1);
			if (tmp > 40)
				ck_assert_int_ne(asprintf(&batch[nb++],
				    "{\"op\":\"terminate_and_delete\",\"name\":"
				    "\"x%d\"}", tmp - 41), -1);
		}
		if (nb >= 60) {
			mir_flush(cn, batch, nb);
			nb = 0;
		}
	}
	mir_flush(cn, batch, nb);
	done = i - 1;
	/* Every reply is in: the readers must now see the final values. */
	snprintf(line, sizeof line, "%lld %lld %lld %lld %lld %lld\n",
	    fin[0], fin[1], fin[2], fin[3], fin[4], fin[5]);
	for (i = 0; i < MIR_READERS; i++) {
		ck_assert_int_eq(write(in[i][1], line, strlen(line)),
		    (ssize_t)strlen(line));
		close(in[i][1]);
	}
	deadline = e2e_now_ms() + e2e_slow(20000);
	for (i = 0; i < MIR_READERS; i++) {
		f = fdopen(out[i][0], "r");
		memset(&res, 0, sizeof res);
		ck_assert_msg(fscanf(f, "%ld %ld %lu %lu %199[^\n]", &res.reads,
		    &res.bad, &res.remaps, &res.fallbacks, res.why) == 5,
		    "reader %d gave no report", i);
		fclose(f);
		while (waitpid(rpid[i], &st2, WNOHANG) == 0 &&
		    e2e_now_ms() < deadline)
			poll(NULL, 0, 10);
		ck_assert_msg(WIFEXITED(st2) && WEXITSTATUS(st2) == 0,
		    "reader %d: status %#x", i, st2);
		ck_assert_msg(res.bad == 0, "reader %d: %ld bad reads of %ld: "
		    "%s", i, res.bad, res.reads, res.why);
		ck_assert_msg(res.reads >= 600, "reader %d read only %ld", i,
		    res.reads);
		total += res.reads;
		if (res.remaps > remaps)
			remaps = res.remaps;
	}
	ck_assert_int_eq(gtd_find(h, "w0", &c), GTD_OK);	/* remaps h */
	gtd_mirror_stat(h, &st);
	ck_assert_msg(st.generation > gen0 + 1, "the file was replaced "
	    "%" PRIu64 " times", st.generation - gen0);
	ck_assert_msg(remaps > 2, "the readers mapped %lu files", remaps);
	fprintf(stderr, "mirror storm: %d writes, %ld checked reads, files "
	    "%" PRIu64 "..%" PRIu64 "\n", done, total, gen0, st.generation);
	gtd_close(h);
	e2e_stop(e);
}
END_TEST

/* What a nobody process found. */
struct mir_peer {
	int	open_errno;		/* of open(mirror), 0: opened */
	int	find;			/* gtd_find's result */
	char	msg[160];
	unsigned long fallbacks;
};

static void
mir_as_nobody(struct e2e *e, struct mir_peer *p)
{
	struct gtd_mirror_stat	 st;
	struct gtd_child	 c;
	struct gtd_handle	*h;
	int			 fds[2], fd, status;
	pid_t			 pid;

	memset(p, 0, sizeof *p);
	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	fflush(NULL);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		if (setgroups(0, NULL) == -1 || setgid(MIR_NOBODY) == -1 ||
		    setuid(MIR_NOBODY) == -1)
			_exit(71);
		if ((fd = open(mir_path(e), O_RDONLY)) == -1)
			p->open_errno = errno;
		else
			close(fd);
		if ((h = gtd_open(e2e_sock(e))) == NULL)
			_exit(70);
		p->find = gtd_find(h, "a", &c);
		snprintf(p->msg, sizeof p->msg, "%s", gtd_errmsg(h));
		gtd_mirror_stat(h, &st);
		p->fallbacks = st.fallbacks;
		if (write(fds[1], p, sizeof *p) != sizeof *p)
			_exit(70);
		_exit(0);
	}
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], p, sizeof *p), (ssize_t)sizeof *p);
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(status, 0);
}

START_TEST(e2e_mirror_permission)
{
	struct e2e		*e;
	struct mir_peer		 p;
	struct stat		 sb, ss;

	ck_assert_msg(geteuid() == 0, "this test switches users: run it as "
	    "root");
	/* The default 0660 root socket: nobody may neither connect nor map. */
	e = e2e_start(NULL);
	ck_assert_int_eq(chmod(e2e_dir(e), 0755), 0);
	e2e_spawn(e, "a", NULL);
	ck_assert_int_eq(lstat(mir_path(e), &sb), 0);
	ck_assert_int_eq(lstat(e2e_sock(e), &ss), 0);
	ck_assert(S_ISREG(sb.st_mode));
	ck_assert_int_eq(sb.st_mode & 07777, 0640);
	ck_assert_int_eq(sb.st_uid, ss.st_uid);
	ck_assert_int_eq(sb.st_gid, ss.st_gid);
	mir_as_nobody(e, &p);
	ck_assert_int_eq(p.open_errno, EACCES);
	ck_assert_msg(p.find == GTD_ESYS, "find as nobody: %d (%s)", p.find,
	    p.msg);
	e2e_stop(e);

	/* A socket everyone may use: a mirror everyone may read. */
	e = e2e_start("{\"socket_mode\":\"0666\"}");
	ck_assert_int_eq(chmod(e2e_dir(e), 0755), 0);
	e2e_spawn(e, "a", NULL);
	ck_assert_int_eq(lstat(mir_path(e), &sb), 0);
	ck_assert_int_eq(sb.st_mode & 07777, 0644);
	mir_as_nobody(e, &p);
	ck_assert_int_eq(p.open_errno, 0);
	ck_assert_msg(p.find == GTD_OK, "find as nobody: %d (%s)", p.find,
	    p.msg);
	ck_assert_int_eq(p.fallbacks, 0);
	e2e_stop(e);

	/* An acl that denies read by default: the owner's alone. */
	e = e2e_start("{\"socket_mode\":\"0666\",\"acl\":{\"default\":"
	    "\"none\"}}");
	ck_assert_int_eq(chmod(e2e_dir(e), 0755), 0);
	e2e_spawn(e, "a", NULL);
	ck_assert_int_eq(lstat(mir_path(e), &sb), 0);
	ck_assert_int_eq(sb.st_mode & 07777, 0600);
	mir_as_nobody(e, &p);
	ck_assert_int_eq(p.open_errno, EACCES);
	ck_assert_msg(p.find == GTD_EGTD, "find as nobody: %d (%s)", p.find,
	    p.msg);
	ck_assert_uint_eq(p.fallbacks, 1);
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_mirror_cap)
{
	struct e2e		*e = e2e_start("{\"max_mirror_bytes\":65536}");
	struct gtd_handle	*h = gtd_open(e2e_sock(e));
	struct gtd_mirror_stat	 a, b;
	struct gtd_child	 c;
	char			*big, got[16];
	size_t			 len;
	long			 deadline;
	bool			 back = false;

	e2e_spawn(e, "big", NULL);
	big = malloc(70001);
	memset(big, 'Q', 70000);
	big[70000] = '\0';
	e2e_ok(e, "setattr", "{s:s, s:{s:s}}", "name", "big", "attrs",
	    "blob", big);
	/* Over the cap: the row is in the mirror, its attrs come by socket. */
	ck_assert_int_eq(gtd_find(h, "big", &c), GTD_OK);
	gtd_mirror_stat(h, &a);
	ck_assert_int_eq(gtd_getattr_string(h, "big", "blob", big, 70001,
	    &len), GTD_OK);
	ck_assert_int_eq(len, 70000);
	ck_assert(big[0] == 'Q' && big[69999] == 'Q');
	gtd_mirror_stat(h, &b);
	ck_assert_uint_eq(b.fallbacks, a.fallbacks + 1);
	/* gtd says so at its next commit (the loop's next wake-up). */
	deadline = e2e_now_ms() + e2e_slow(5000);
	while (!e2e_wait_text(e2e_path(e, "gtd.log"), "max_mirror_bytes",
	    0) && e2e_now_ms() < deadline) {
		e2e_ok(e, "ping", NULL);
		poll(NULL, 0, 20);
	}
	ck_assert(e2e_wait_text(e2e_path(e, "gtd.log"), "readers ask the "
	    "socket", 0));
	/* Small again: gtd rebuilds it, and reads stay in the mirror. */
	e2e_ok(e, "setattr", "{s:s, s:{s:s}}", "name", "big", "attrs",
	    "blob", "x");
	deadline = e2e_now_ms() + e2e_slow(10000);
	while (!back && e2e_now_ms() < deadline) {
		gtd_mirror_stat(h, &a);
		ck_assert_int_eq(gtd_getattr_string(h, "big", "blob", got,
		    sizeof got, &len), GTD_OK);
		ck_assert_str_eq(got, "x");
		gtd_mirror_stat(h, &b);
		back = b.fallbacks == a.fallbacks;
		if (!back)
			poll(NULL, 0, 20);
	}
	ck_assert_msg(back, "the mirror was not rebuilt");
	free(big);
	gtd_close(h);
	e2e_stop(e);
}
END_TEST

START_TEST(e2e_mirror_gtd_gone)
{
	struct e2e		*e = e2e_start(NULL);
	struct gtd_handle	*h = gtd_open(e2e_sock(e)), *h2;
	struct gtd_child	 c;
	long			 deadline;
	int			 rc = GTD_OK, st;

	e2e_spawn(e, "a", NULL);
	ck_assert_int_eq(gtd_find(h, "a", &c), GTD_OK);
	/* SIGKILL: the file stays, a new reader refuses it (gtd is gone). */
	kill(e2e_pid(e), SIGKILL);
	ck_assert(e2e_wait_exit(e, 5000, NULL));
	ck_assert_int_eq(access(mir_path(e), F_OK), 0);
	h2 = gtd_open(e2e_sock(e));
	ck_assert_int_eq(gtd_find(h2, "a", &c), GTD_ESYS);
	gtd_close(h2);
	/* The next gtd replaces it, and tells the old mapping's reader. */
	e2e_restart(e);
	deadline = e2e_now_ms() + e2e_slow(5000);
	while ((rc = gtd_find(h, "a", &c)) != GTD_ENOTFOUND &&
	    e2e_now_ms() < deadline)
		poll(NULL, 0, 20);
	ck_assert_msg(rc == GTD_ENOTFOUND, "find a: %d", rc);
	/* A clean exit removes it; the reader is sent to the socket. */
	e2e_ok(e, "shutdown", NULL);
	ck_assert(e2e_wait_exit(e, 5000, &st));
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_int_eq(access(mir_path(e), F_OK), -1);
	ck_assert_int_eq(gtd_find(h, "a", &c), GTD_ESYS);
	gtd_close(h);
	e2e_stop(e);
}
END_TEST

Suite *
e2e_mirror_suite(void)
{
	Suite	*s = suite_create("mirror");
	TCase	*tc = tcase_create("mirror");

	tcase_set_timeout(tc, E2E_TIMEOUT * 3);
	tcase_add_test(tc, e2e_mirror_after_reply);
	tcase_add_test(tc, e2e_mirror_storm);
	tcase_add_test(tc, e2e_mirror_permission);
	tcase_add_test(tc, e2e_mirror_cap);
	tcase_add_test(tc, e2e_mirror_gtd_gone);
	suite_add_tcase(s, tc);
	return (s);
}
