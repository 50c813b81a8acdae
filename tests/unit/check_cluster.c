/* SPDX-License-Identifier: MIT */
/*
 * check_cluster: src/cluster.c against a fake etcd on loopback that
 * answers what a node sends (lease grant, keepalive and revoke, range,
 * txn, a watch that is confirmed and then stays silent) and can hold
 * the answers to claims and grants, or say that the lease is gone.  That
 * makes the one order a real etcd gives only by chance reproducible: a
 * claim in flight while the node fences and rejoins with a new lease.
 * The real etcd is tested in tests/e2e/check_e2e_cluster.c.
 */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <ev.h>
#include <jansson.h>

#include "gt/cluster.h"
#include "gt/etcd.h"
#include "gt/xmalloc.h"
#include "check_unit.h"

#define FK_HELD_MAX	64
#define FK_CLAIMS_MAX	256
#define OP_MS		3000	/* the claims' deadline */

/* What the fake holds back instead of answering. */
#define FK_CLAIM	0x1	/* txns that create a children/ key */
#define FK_GRANT	0x2	/* lease grants */

struct fk;

/* One connection to the fake: a request being read. */
struct fk_conn {
	struct fk	*f;
	int		 fd;
	ev_io		 io;
	char		 buf[16384];
	size_t		 len;
};

struct fk {
	int		 fd;
	ev_io		 io;
	char		 url[64];
	int		 hold;		/* FK_* */
	bool		 expire;	/* keepalives: the lease is gone */
	int64_t		 lease;		/* the last lease granted */
	int64_t		 gone;		/* claims under it: answered at once */
	int64_t		 next_lease;
	int64_t		 rev;
	int		 held[FK_HELD_MAX];	/* claims not answered */
	int		 nheld;
	int		 quiet[FK_HELD_MAX];	/* watches, held grants */
	int		 nquiet;
	char		*claim_key[FK_CLAIMS_MAX];	/* every claim txn */
	int64_t		 claim_lease[FK_CLAIMS_MAX];
	int		 nclaims;
};

/* The node and what its observer and its one claim saw. */
struct tnode {
	struct cluster		*cl;
	enum cluster_state	 state;
	int			 nfence;
	bool			 done;
	int			 ncb;
	enum cluster_claim_status status;
	int64_t			 fence;
	char			*message;
	int64_t			 at;		/* cluster_clock_ms */
};

static struct fk	 fk;
static struct tnode	 node;

static bool	until(bool (*)(void), int);
static bool	is_up(void);

static void
fk_send(int fd, const char *status, const char *body)
{
	char	*s;

	xasprintf(&s, "HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
	    "Connection: close\r\nContent-Length: %zu\r\n\r\n%s", status,
	    strlen(body), body);
	/* (void): the client may have given up this attempt */
	(void)send(fd, s, strlen(s), MSG_NOSIGNAL);
	free(s);
	close(fd);
}

static void
fk_keep(int *v, int *n, int fd)
{
	if (*n < FK_HELD_MAX)
		v[(*n)++] = fd;
	else
		close(fd);
}

/* Answer every claim held so far: each one created its key. */
static void
fk_answer_claims(struct fk *f)
{
	char	body[128];
	int	i;

	for (i = 0; i < f->nheld; i++) {
		snprintf(body, sizeof body, "{\"header\":{\"revision\":\""
		    "%" PRId64 "\"},\"succeeded\":true}", ++f->rev);
		fk_send(f->held[i], "200 OK", body);
	}
	f->nheld = 0;
}

/* The decoded key of a txn's compare, and whether it is a claim. */
static bool
fk_claim(struct fk *f, json_t *req, int64_t *lease)
{
	json_t		*cmp, *put;
	const char	*k, *rev, *l;
	char		*key;
	size_t		 n;

	cmp = json_array_get(json_object_get(req, "compare"), 0);
	k = json_string_value(json_object_get(cmp, "key"));
	rev = json_string_value(json_object_get(cmp, "create_revision"));
	put = json_object_get(json_array_get(json_object_get(req, "success"),
	    0), "request_put");
	if (k == NULL || put == NULL || rev == NULL || strcmp(rev, "0") != 0)
		return (false);
	key = etcd_b64_decode(k, strlen(k), &n);
	ck_assert_ptr_nonnull(key);
	if (strstr(key, "/children/") == NULL) {
		free(key);
		return (false);
	}
	l = json_string_value(json_object_get(put, "lease"));
	*lease = l != NULL ? strtoll(l, NULL, 10) : 0;
	ck_assert_int_lt(f->nclaims, FK_CLAIMS_MAX);
	f->claim_key[f->nclaims] = key;
	f->claim_lease[f->nclaims++] = *lease;
	return (true);
}

/* One whole request: answer it, or keep its connection for later. */
static void
fk_request(struct fk *f, int fd, const char *path, json_t *req)
{
	char		 body[256];
	const char	*id;
	int64_t		 lease;

	id = json_string_value(json_object_get(req, "ID"));
	if (strcmp(path, "/v3/watch") == 0) {
		/* A stream: no length, one message, then silence. */
		snprintf(body, sizeof body, "HTTP/1.1 200 OK\r\n"
		    "Content-Type: application/json\r\n\r\n"
		    "{\"result\":{\"header\":{\"revision\":\"%" PRId64
		    "\"},\"created\":true}}\n", f->rev);
		/* (void): as in fk_send */
		(void)send(fd, body, strlen(body), MSG_NOSIGNAL);
		fk_keep(f->quiet, &f->nquiet, fd);
		return;
	}
	if (strcmp(path, "/v3/lease/grant") == 0) {
		if (f->hold & FK_GRANT) {
			fk_keep(f->quiet, &f->nquiet, fd);
			return;
		}
		f->lease = f->next_lease++;
		snprintf(body, sizeof body, "{\"header\":{\"revision\":\""
		    "%" PRId64 "\"},\"ID\":\"%" PRId64 "\",\"TTL\":\"2\"}",
		    f->rev, f->lease);
	} else if (strcmp(path, "/v3/lease/keepalive") == 0)
		snprintf(body, sizeof body, "{\"result\":{\"header\":{},"
		    "\"ID\":\"%s\"%s}}", id != NULL ? id : "0",
		    f->expire || id == NULL || strtoll(id, NULL, 10) !=
		    f->lease ? "" : ",\"TTL\":\"2\"");
	else if (strcmp(path, "/v3/kv/txn") == 0) {
		if (fk_claim(f, req, &lease) && (f->hold & FK_CLAIM) &&
		    lease != f->gone) {
			fk_keep(f->held, &f->nheld, fd);
			return;
		}
		snprintf(body, sizeof body, "{\"header\":{\"revision\":\""
		    "%" PRId64 "\"},\"succeeded\":true}", ++f->rev);
	} else			/* range, revoke: nothing there */
		snprintf(body, sizeof body, "{\"header\":{\"revision\":\""
		    "%" PRId64 "\"}}", f->rev);
	fk_send(fd, "200 OK", body);
}

static void
fk_conn_free(struct fk_conn *c)
{
	ev_io_stop(EV_DEFAULT, &c->io);
	free(c);
}

/* Read until the headers and Content-Length bytes of body are in. */
static void
fk_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct fk_conn	*c = w->data;
	char		*end, *cl, path[64];
	json_t		*req;
	ssize_t		 n;
	size_t		 hlen, blen;

	n = read(c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len);
	if (n <= 0) {
		close(c->fd);
		fk_conn_free(c);
		return;
	}
	c->len += n;
	c->buf[c->len] = '\0';
	if ((end = strstr(c->buf, "\r\n\r\n")) == NULL)
		return;
	hlen = end + 4 - c->buf;
	cl = strcasestr(c->buf, "\r\nContent-Length:");
	blen = cl != NULL && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
	if (c->len < hlen + blen)
		return;
	ck_assert_int_eq(sscanf(c->buf, "POST %63s ", path), 1);
	req = json_loadb(c->buf + hlen, blen, 0, NULL);
	ck_assert_ptr_nonnull(req);
	fk_request(c->f, c->fd, path, req);
	json_decref(req);
	fk_conn_free(c);		/* the fd is answered or kept */
}

static void
fk_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct fk	*f = w->data;
	struct fk_conn	*c;
	int		 fd;

	if ((fd = accept4(f->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) ==
	    -1)
		return;
	c = xcalloc(1, sizeof *c);
	c->f = f;
	c->fd = fd;
	ev_io_init(&c->io, fk_read_cb, fd, EV_READ);
	c->io.data = c;
	ev_io_start(loop, &c->io);
}

static void
fk_start(struct fk *f)
{
	memset(f, 0, sizeof *f);
	f->next_lease = 0x100;
	f->rev = 1;
	f->fd = test_listen_loopback(64, f->url, sizeof f->url);
	ev_io_init(&f->io, fk_accept_cb, f->fd, EV_READ);
	f->io.data = f;
	ev_io_start(EV_DEFAULT, &f->io);
}

/* The node. */

static void
obs_state(enum cluster_state st, const char *why, void *arg)
{
	((struct tnode *)arg)->state = st;
}

static void
obs_fence(int64_t kill_by, const char *why, void *arg)
{
	((struct tnode *)arg)->nfence++;
}

static const struct cluster_observer tobs = {
	.state = obs_state,
	.must_fence = obs_fence
};

static void
claim_cb(const struct cluster_claim_result *r, void *arg)
{
	struct tnode	*n = arg;

	n->ncb++;
	ck_assert(!n->done);		/* exactly one result */
	n->done = true;
	n->at = cluster_clock_ms();
	n->status = r->status;
	n->fence = r->fence;
	if (r->message != NULL)
		n->message = xstrdup(r->message);
}

/* The node, on the fake, with claims that answer within op_ms. */
static void
node_start(int op_ms)
{
	struct cluster_opts	 o;
	const char		*eps[1];
	char			*cause = NULL;

	eps[0] = fk.url;
	memset(&o, 0, sizeof o);
	o.loop = EV_DEFAULT;
	o.endpoints = eps;
	o.nendpoints = 1;
	o.zone = "z";
	o.node = "a";
	o.lease_ttl_ms = CLUSTER_TTL_MIN_MS;	/* a renewal each 500 ms */
	o.op_timeout_ms = op_ms;
	o.pid = getpid();
	o.obs = &tobs;
	o.obs_arg = &node;
	node.cl = cluster_new(&o, &cause);
	ck_assert_msg(node.cl != NULL, "cluster_new: %s", cause);
	ck_assert_msg(until(is_up, 2000), "the node did not join");
}

static void
setup(void)
{
	fk_start(&fk);
	memset(&node, 0, sizeof node);
}

static void
teardown(void)
{
	int	i;

	cluster_free(node.cl);
	free(node.message);
	for (i = 0; i < fk.nclaims; i++)
		free(fk.claim_key[i]);
	for (i = 0; i < fk.nheld; i++)
		close(fk.held[i]);
	for (i = 0; i < fk.nquiet; i++)
		close(fk.quiet[i]);
	ev_io_stop(EV_DEFAULT, &fk.io);
	close(fk.fd);
}

static void
wake_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
}

/* Run the loop until pred() or ms passed; the last value of pred(). */
static bool
until(bool (*pred)(void), int ms)
{
	ev_timer	t;
	int64_t		end = cluster_clock_ms() + ms;

	ev_timer_init(&t, wake_cb, ms / 1000., 0.);
	ev_timer_start(EV_DEFAULT, &t);
	while (!pred() && cluster_clock_ms() < end)
		ev_run(EV_DEFAULT, EVRUN_ONCE);
	ev_timer_stop(EV_DEFAULT, &t);
	return (pred());
}

static int64_t
node_lease(void)
{
	struct cluster_status	st;

	cluster_status(node.cl, &st);
	return (st.lease);
}

static bool
is_up(void)
{
	return (node.state == CLUSTER_UP && node_lease() == fk.lease);
}

static bool
claim_held(void)
{
	return (node.done ||
	    (fk.nheld > 0 && fk.claim_lease[fk.nclaims - 1] == fk.lease));
}

static bool
claim_done(void)
{
	return (node.done);
}

static int	want_fences;

static bool
fenced(void)
{
	return (node.nfence >= want_fences);
}

static bool
claim_sent_again(void)
{
	int	i;

	for (i = 0; i < fk.nclaims; i++)
		if (fk.claim_lease[i] == fk.lease)
			return (true);
	return (false);
}

/*
 * The claim of k is held by the fake under the node's lease; the fake
 * then says the lease is gone, the node fences (once more) and, unless
 * grants are held, rejoins with a new lease.  The claim's txn is then
 * answered: it "committed" under the lease that is gone.
 */
static int64_t
fence_under_claim(bool rejoin)
{
	int64_t	old;

	ck_assert_msg(until(claim_held, 2000), "no claim reached etcd");
	ck_assert_msg(!node.done, "answered after %d fences: %s",
	    node.nfence, node.message != NULL ? node.message : "");
	old = fk.lease;
	fk.expire = true;
	want_fences = node.nfence + 1;
	ck_assert_msg(until(fenced, 2000), "the node did not fence");
	fk.expire = false;
	if (rejoin) {
		ck_assert_msg(until(is_up, 2000), "no rejoin");
		ck_assert_int_ne(node_lease(), old);
	} else
		fk.hold |= FK_GRANT;
	ck_assert(!node.done);
	/* Those held, and the retries of this send still to come. */
	fk.gone = old;
	fk_answer_claims(&fk);
	return (old);
}

/*
 * A claim whose lease changed while it was in flight (the node fenced
 * and rejoined) is sent again under the new lease and succeeds, within
 * its deadline: not "unavailable" at once.
 */
START_TEST(cluster_claim_lease_changed_retried)
{
	int64_t	old, fence;

	node_start(OP_MS);
	fk.hold = FK_CLAIM;
	cluster_claim(node.cl, "k", "{}", false, claim_cb, &node);
	ck_assert(!node.done);
	old = fence_under_claim(true);
	fk.hold = 0;
	ck_assert_msg(until(claim_done, OP_MS), "no result");
	ck_assert_msg(node.status == CLUSTER_CLAIMED, "claim: %d (%s)",
	    node.status, node.message != NULL ? node.message : "");
	ck_assert_int_eq(node.ncb, 1);
	/* Sent under the old lease first, then under the new one. */
	ck_assert_int_eq(fk.claim_lease[0], old);
	ck_assert_int_eq(fk.claim_lease[fk.nclaims - 1], fk.lease);
	ck_assert_str_eq(fk.claim_key[fk.nclaims - 1], "/gtd/z/children/k");
	ck_assert(cluster_holds(node.cl, "k", &fence));
	ck_assert_int_eq(fence, node.fence);
	ck_assert_int_gt(fence, 0);
	ck_assert_int_eq(node.nfence, 1);
}
END_TEST

/*
 * When the node cannot rejoin, the claim answers unavailable at its
 * deadline (not before), naming the lease change and the cause.
 */
START_TEST(cluster_claim_lease_changed_deadline)
{
	int64_t	t0;

	node_start(OP_MS);
	fk.hold = FK_CLAIM;
	t0 = cluster_clock_ms();
	cluster_claim(node.cl, "k", "{}", false, claim_cb, &node);
	fence_under_claim(false);
	ck_assert_msg(until(claim_done, OP_MS + 1000), "no result");
	ck_assert_int_eq(node.status, CLUSTER_UNAVAILABLE);
	ck_assert_int_ge(node.at - t0, OP_MS - 50);
	ck_assert_int_le(node.at - t0, OP_MS + 500);
	ck_assert_ptr_nonnull(strstr(node.message,
	    "the lease changed while claiming"));
	ck_assert_ptr_nonnull(strstr(node.message, "node a is fenced"));
	ck_assert(!cluster_holds(node.cl, "k", NULL));
	ck_assert_int_eq(node.ncb, 1);
}
END_TEST

/* A claim cancelled while it waits to be sent again is never sent. */
START_TEST(cluster_claim_lease_changed_cancel)
{
	struct cluster_op	*op;
	int			 i, n;

	node_start(OP_MS);
	fk.hold = FK_CLAIM;
	op = cluster_claim(node.cl, "k", "{}", false, claim_cb, &node);
	fence_under_claim(false);
	/* The answer is read, and the claim waits for a new lease. */
	ck_assert(!until(claim_done, 300));
	cluster_op_cancel(op);
	fk.hold = 0;
	ck_assert_msg(until(is_up, 3000), "no rejoin");
	/* Time for a send that must not come (it would go within 100 ms). */
	ck_assert(!until(claim_sent_again, 500));
	for (i = n = 0; i < fk.nclaims; i++)
		n += fk.claim_lease[i] == fk.lease;
	ck_assert_int_eq(n, 0);
	ck_assert(!node.done);
	ck_assert(!cluster_holds(node.cl, "k", NULL));
}
END_TEST

/* A claim the lease keeps changing under is sent three times at most. */
START_TEST(cluster_claim_lease_changed_bounded)
{
	int	i;

	/* A deadline that three fences and rejoins fit in. */
	node_start(5 * OP_MS);
	fk.hold = FK_CLAIM;
	cluster_claim(node.cl, "k", "{}", false, claim_cb, &node);
	for (i = 0; i < 3; i++)
		fence_under_claim(true);
	ck_assert_msg(until(claim_done, OP_MS), "no result");
	ck_assert_int_eq(node.status, CLUSTER_UNAVAILABLE);
	ck_assert_ptr_nonnull(strstr(node.message,
	    "the lease changed 3 times while claiming"));
	ck_assert_int_eq(node.nfence, 3);
	ck_assert_int_eq(node.ncb, 1);
}
END_TEST

Suite *
cluster_suite(void)
{
	Suite	*s = suite_create("cluster");
	TCase	*tc = tcase_create("cluster");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, cluster_claim_lease_changed_retried);
	tcase_add_test(tc, cluster_claim_lease_changed_deadline);
	tcase_add_test(tc, cluster_claim_lease_changed_cancel);
	tcase_add_test(tc, cluster_claim_lease_changed_bounded);
	suite_add_tcase(s, tc);
	return (s);
}
