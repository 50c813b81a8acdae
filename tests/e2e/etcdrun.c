/* SPDX-License-Identifier: MIT */
/*
 * etcdrun: start, break and stop a private etcd cluster on loopback for
 * the cluster tests (contracts in etcdrun.h).  Test code: it may block
 * and waitpid(), but every wait has a deadline and nothing sleeps for a
 * fixed time except the polling interval of a condition.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <curl/curl.h>
#include <ev.h>
#include <jansson.h>

#include "gt/etcd.h"
#include "gt/xmalloc.h"
#include "etcdrun.h"

#define ETCDRUN_STOP_MS		5000
#define ETCDRUN_HTTP_MS		1000
#define ETCDRUN_POLL_MS		20
#define ETCDRUN_TRIES		3	/* fresh ports when a start fails */

struct etcdrun_member {
	char	 name[8];
	int	 client, peer;		/* ports */
	char	 endpoint[40];
	pid_t	 pid;			/* -1: down */
};

struct etcdrun {
	char			 dir[32];
	int			 n;
	struct etcdrun_member	 m[ETCDRUN_MAX];
	const char		*eps[ETCDRUN_MAX + 1];
	char			 token[32];
};

static void	etcdrun_fail(struct etcdrun *, const char *, ...)
		    __attribute__((format(printf, 2, 3), noreturn));
static long	etcdrun_now_ms(void);
static void	etcdrun_ports(struct etcdrun *);
static void	etcdrun_spawn(struct etcdrun *, int, bool);
static bool	etcdrun_reap(struct etcdrun *, int, int);
static bool	etcdrun_healthy(struct etcdrun *, int);
static json_t	*etcdrun_http(const char *, const char *, const char *);
static int	etcdrun_rm_cb(const char *, const struct stat *, int,
		    struct FTW *);

static void
etcdrun_fail(struct etcdrun *r, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ck_abort_msg("etcdrun: %s (logs in %s)", msg, r != NULL ? r->dir : "?");
	abort();			/* not reached: ck_abort_msg exits */
}

static long
etcdrun_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec * 1000L + ts.tv_nsec / 1000000L);
}

/* Free loopback ports: all bound at once, so none is picked twice. */
static void
etcdrun_ports(struct etcdrun *r)
{
	struct sockaddr_in	sin;
	socklen_t		len;
	int			fds[2 * ETCDRUN_MAX], i;

	for (i = 0; i < 2 * r->n; i++) {
		memset(&sin, 0, sizeof sin);
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof sin;
		if ((fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC,
		    0)) == -1 || bind(fds[i], (struct sockaddr *)&sin,
		    sizeof sin) == -1 || getsockname(fds[i],
		    (struct sockaddr *)&sin, &len) == -1)
			etcdrun_fail(r, "free port: %s", strerror(errno));
		if (i % 2 == 0)
			r->m[i / 2].client = ntohs(sin.sin_port);
		else
			r->m[i / 2].peer = ntohs(sin.sin_port);
	}
	for (i = 0; i < 2 * r->n; i++)
		close(fds[i]);
	for (i = 0; i < r->n; i++)
		snprintf(r->m[i].endpoint, sizeof r->m[i].endpoint,
		    "http://127.0.0.1:%d", r->m[i].client);
}

/* Fork and exec member i; existing: it has data (a restart). */
static void
etcdrun_spawn(struct etcdrun *r, int i, bool existing)
{
	struct etcdrun_member	*m = &r->m[i];
	const char		*etcd = getenv("ETCD");
	char			 cluster[512], data[64], log[64], curl[64],
				 purl[64], *p = cluster;
	pid_t			 pid, parent = getpid();
	int			 j, fd;

	for (j = 0; j < r->n; j++)
		p += snprintf(p, cluster + sizeof cluster - p,
		    "%s%s=http://127.0.0.1:%d", j > 0 ? "," : "",
		    r->m[j].name, r->m[j].peer);
	snprintf(data, sizeof data, "%s/%s", r->dir, m->name);
	snprintf(log, sizeof log, "%s/%s.log", r->dir, m->name);
	snprintf(curl, sizeof curl, "http://127.0.0.1:%d", m->client);
	snprintf(purl, sizeof purl, "http://127.0.0.1:%d", m->peer);
	fflush(NULL);
	if ((pid = fork()) == -1)
		etcdrun_fail(r, "fork: %s", strerror(errno));
	if (pid > 0) {
		m->pid = pid;
		return;
	}
	/* The member dies with the test, whatever kills the test. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(127);
	if ((fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644)) == -1 ||
	    dup2(fd, 1) == -1 || dup2(fd, 2) == -1)
		_exit(127);
	if ((fd = open("/dev/null", O_RDONLY)) == -1 || dup2(fd, 0) == -1)
		_exit(127);
	execlp(etcd != NULL ? etcd : "etcd", "etcd", "--name", m->name,
	    "--data-dir", data, "--listen-client-urls", curl,
	    "--advertise-client-urls", curl, "--listen-peer-urls", purl,
	    "--initial-advertise-peer-urls", purl, "--initial-cluster", cluster,
	    "--initial-cluster-state", existing ? "existing" : "new",
	    "--initial-cluster-token", r->token,
	    "--heartbeat-interval", "100", "--election-timeout", "1000",
	    "--logger", "zap", "--log-level", "warn", (char *)NULL);
	dprintf(2, "exec etcd: %s\n", strerror(errno));
	_exit(127);
}

/* Wait up to ms for member i to exit; true when it did (and is reaped). */
static bool
etcdrun_reap(struct etcdrun *r, int i, int ms)
{
	long	deadline = etcdrun_now_ms() + ms;
	pid_t	w;
	int	st;

	if (r->m[i].pid == -1)
		return (true);
	do {
		/* ECHILD: a test's libev loop reaped it (it reaps all). */
		w = waitpid(r->m[i].pid, &st, WNOHANG);
		if (w == r->m[i].pid || (w == -1 && errno == ECHILD)) {
			r->m[i].pid = -1;
			return (true);
		}
		poll(NULL, 0, ETCDRUN_POLL_MS);
	} while (etcdrun_now_ms() < deadline);
	return (false);
}

/* One HTTP call with libcurl's easy API; the JSON answer or NULL. */
static size_t
etcdrun_write_cb(char *p, size_t size, size_t n, void *arg)
{
	char	**buf = arg;
	size_t	  len = *buf != NULL ? strlen(*buf) : 0;

	*buf = xreallocarray(*buf, 1, len + size * n + 1);
	memcpy(*buf + len, p, size * n);
	(*buf)[len + size * n] = '\0';
	return (size * n);
}

static json_t *
etcdrun_http(const char *endpoint, const char *path, const char *body)
{
	CURL	*c;
	char	*url, *buf = NULL;
	json_t	*j = NULL;

	if ((c = curl_easy_init()) == NULL)
		return (NULL);
	xasprintf(&url, "%s%s", endpoint, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)ETCDRUN_HTTP_MS);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, etcdrun_write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &buf);
	if (body != NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	if (curl_easy_perform(c) == CURLE_OK && buf != NULL)
		j = json_loads(buf, 0, NULL);
	curl_easy_cleanup(c);
	free(url);
	free(buf);
	return (j);
}

static bool
etcdrun_healthy(struct etcdrun *r, int i)
{
	json_t	*j;
	bool	 ok;

	if (r->m[i].pid == -1)
		return (false);
	j = etcdrun_http(r->m[i].endpoint, "/health", NULL);
	ok = j != NULL && json_is_string(json_object_get(j, "health")) &&
	    strcmp(json_string_value(json_object_get(j, "health")),
	    "true") == 0;
	json_decref(j);
	return (ok);
}

bool
etcdrun_wait_healthy(struct etcdrun *r, int ms)
{
	long	deadline = etcdrun_now_ms() + ms;
	int	i, ok;

	do {
		for (i = ok = 0; i < r->n; i++) {
			if (r->m[i].pid != -1 &&
			    waitpid(r->m[i].pid, NULL, WNOHANG) == r->m[i].pid)
				r->m[i].pid = -1;	/* died: not healthy */
			ok += r->m[i].pid == -1 || etcdrun_healthy(r, i);
		}
		if (ok == r->n)
			return (true);
		poll(NULL, 0, ETCDRUN_POLL_MS);
	} while (etcdrun_now_ms() < deadline);
	return (false);
}

struct etcdrun *
etcdrun_start(int n)
{
	struct etcdrun	*r;
	char		 sub[96];
	int		 i, try, up;

	ck_assert_int_ge(n, 1);
	ck_assert_int_le(n, ETCDRUN_MAX);
	r = xcalloc(1, sizeof *r);
	r->n = n;
	strcpy(r->dir, "/tmp/gtd-etcd-XXXXXX");
	if (mkdtemp(r->dir) == NULL)
		etcdrun_fail(r, "mkdtemp: %s", strerror(errno));
	snprintf(r->token, sizeof r->token, "gtd-test-%d", (int)getpid());
	curl_global_init(CURL_GLOBAL_DEFAULT);
	for (try = 0; try < ETCDRUN_TRIES; try++) {
		etcdrun_ports(r);
		for (i = 0; i < n; i++) {
			snprintf(r->m[i].name, sizeof r->m[i].name, "m%d", i);
			r->eps[i] = r->m[i].endpoint;
		}
		for (i = 0; i < n; i++)
			etcdrun_spawn(r, i, false);
		if (etcdrun_wait_healthy(r, ETCDRUN_READY_MS)) {
			for (i = up = 0; i < n; i++)
				up += r->m[i].pid != -1;
			if (up == n)
				return (r);
		}
		/* A member died (a port taken meanwhile?): start afresh. */
		for (i = 0; i < n; i++) {
			if (r->m[i].pid != -1)
				kill(r->m[i].pid, SIGKILL);
			etcdrun_reap(r, i, ETCDRUN_STOP_MS);
			snprintf(sub, sizeof sub, "%s/%s", r->dir,
			    r->m[i].name);
			nftw(sub, etcdrun_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
		}
	}
	etcdrun_fail(r, "etcd cluster of %d not healthy within %d ms, "
	    "%d tries (is etcd-server installed?)", n, ETCDRUN_READY_MS,
	    ETCDRUN_TRIES);
}

static int
etcdrun_rm_cb(const char *path, const struct stat *sb, int flag,
    struct FTW *f)
{
	return (remove(path) == -1 && errno != ENOENT ? -1 : 0);
}

void
etcdrun_stop(struct etcdrun *r)
{
	int	i, left = 0;

	/*
	 * SIGKILL: the data goes anyway, and a member told SIGTERM while
	 * its peers stop too tries to hand over leadership for seconds.
	 */
	for (i = 0; i < r->n; i++)
		if (r->m[i].pid != -1)
			kill(r->m[i].pid, SIGKILL);
	for (i = 0; i < r->n; i++)
		left += !etcdrun_reap(r, i, ETCDRUN_STOP_MS);
	if (left > 0)
		etcdrun_fail(r, "%d members survived SIGKILL", left);
	nftw(r->dir, etcdrun_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	curl_global_cleanup();
	free(r);
}

int
etcdrun_size(const struct etcdrun *r)
{
	return (r->n);
}

const char *
etcdrun_dir(const struct etcdrun *r)
{
	return (r->dir);
}

const char *
etcdrun_endpoint(const struct etcdrun *r, int i)
{
	ck_assert(i >= 0 && i < r->n);
	return (r->m[i].endpoint);
}

const char *const *
etcdrun_endpoints(const struct etcdrun *r)
{
	return (r->eps);
}

pid_t
etcdrun_pid(const struct etcdrun *r, int i)
{
	ck_assert(i >= 0 && i < r->n);
	return (r->m[i].pid);
}

void
etcdrun_kill(struct etcdrun *r, int i)
{
	ck_assert(i >= 0 && i < r->n && r->m[i].pid != -1);
	kill(r->m[i].pid, SIGKILL);
	if (!etcdrun_reap(r, i, ETCDRUN_STOP_MS))
		etcdrun_fail(r, "member %d survived SIGKILL", i);
}

void
etcdrun_restart(struct etcdrun *r, int i)
{
	int	j, up = 0;

	ck_assert(i >= 0 && i < r->n && r->m[i].pid == -1);
	etcdrun_spawn(r, i, true);
	for (j = 0; j < r->n; j++)
		up += r->m[j].pid != -1;
	if (2 * up <= r->n)
		return;			/* no quorum: nothing to wait for */
	if (!etcdrun_wait_healthy(r, ETCDRUN_READY_MS) || r->m[i].pid == -1)
		etcdrun_fail(r, "member %d not healthy after a restart", i);
}

void
etcdrun_signal(struct etcdrun *r, int i, int sig)
{
	ck_assert(i >= 0 && i < r->n && r->m[i].pid != -1);
	ck_assert_int_eq(kill(r->m[i].pid, sig), 0);
}

int
etcdrun_leader(struct etcdrun *r)
{
	json_t		*j;
	const char	*leader = NULL, *id;
	char		 ids[ETCDRUN_MAX][32];
	int		 i, found = -1;

	for (i = 0; i < r->n; i++) {
		ids[i][0] = '\0';
		if (r->m[i].pid == -1 || (j = etcdrun_http(r->m[i].endpoint,
		    "/v3/maintenance/status", "{}")) == NULL)
			continue;
		id = json_string_value(json_object_get(json_object_get(j,
		    "header"), "member_id"));
		if (id != NULL)
			snprintf(ids[i], sizeof ids[i], "%s", id);
		if (leader == NULL && json_is_string(json_object_get(j,
		    "leader")))
			leader = xstrdup(json_string_value(json_object_get(j,
			    "leader")));
		json_decref(j);
	}
	for (i = 0; leader != NULL && i < r->n; i++)
		if (strcmp(ids[i], leader) == 0)
			found = i;
	free((char *)leader);
	return (found);
}

json_t *
etcdrun_post(struct etcdrun *r, const char *path, const char *body)
{
	json_t	*j;
	int	 i;

	for (i = 0; i < r->n; i++)
		if (r->m[i].pid != -1 && (j = etcdrun_http(r->m[i].endpoint,
		    path, body)) != NULL)
			return (j);
	return (NULL);
}

long long
etcdrun_revision(struct etcdrun *r)
{
	json_t		*j;
	const char	*s;
	long long	 rev;

	j = etcdrun_post(r, "/v3/kv/range", "{\"key\":\"AA==\"}");
	s = json_string_value(json_object_get(json_object_get(j, "header"),
	    "revision"));
	if (s == NULL)
		etcdrun_fail(r, "no revision from any member");
	rev = atoll(s);
	json_decref(j);
	return (rev);
}

void
etcdrun_compact(struct etcdrun *r, long long rev)
{
	char	 body[96];
	json_t	*j;

	snprintf(body, sizeof body, "{\"revision\":\"%lld\",\"physical\":true}",
	    rev);
	if ((j = etcdrun_post(r, "/v3/kv/compaction", body)) == NULL ||
	    json_object_get(j, "error") != NULL)
		etcdrun_fail(r, "compaction at %lld failed", rev);
	json_decref(j);
}

json_t *
etcdrun_dump(struct etcdrun *r, const char *prefix)
{
	json_t		*j, *kvs, *out, *kv;
	char		*k, *end, *body, *key, *val;
	size_t		 endlen, kl, vl, i;

	k = etcd_b64_encode(prefix, strlen(prefix));
	end = etcd_prefix_end(prefix, strlen(prefix), &endlen);
	key = etcd_b64_encode(end, endlen);
	xasprintf(&body, "{\"key\":\"%s\",\"range_end\":\"%s\"}", k, key);
	free(k);
	free(end);
	free(key);
	j = etcdrun_post(r, "/v3/kv/range", body);
	free(body);
	if (j == NULL || json_object_get(j, "header") == NULL)
		etcdrun_fail(r, "range of %s failed", prefix);
	out = json_object();
	kvs = json_object_get(j, "kvs");
	json_array_foreach(kvs, i, kv) {
		key = etcd_b64_decode(json_string_value(json_object_get(kv,
		    "key")), json_string_length(json_object_get(kv, "key")),
		    &kl);
		val = etcd_b64_decode(json_object_get(kv, "value") != NULL ?
		    json_string_value(json_object_get(kv, "value")) : "",
		    json_string_length(json_object_get(kv, "value")), &vl);
		ck_assert(key != NULL && val != NULL);
		json_object_set_new(out, key, json_string(val));
		free(key);
		free(val);
	}
	json_decref(j);
	return (out);
}

/* The loop, run until pred(arg) or the deadline. */
static void
etcdrun_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	*(bool *)w->data = true;
}

bool
etcdrun_loop_until(struct ev_loop *loop, bool (*pred)(void *), void *arg,
    int ms)
{
	ev_timer	t;
	bool		late = false, ok;

	if (pred(arg))
		return (true);
	ev_timer_init(&t, etcdrun_deadline_cb, ms / 1000., 0.);
	t.data = &late;
	ev_timer_start(loop, &t);
	/* pred is called once per iteration: it may consume what it finds. */
	while (!(ok = pred(arg)) && !late)
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &t);
	return (ok);
}
