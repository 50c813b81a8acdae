/* SPDX-License-Identifier: MIT */
/*
 * e2e_etcd: the etcd client (src/etcd.c) against a real three-member
 * etcd on loopback (etcdrun.h): leases, txn, range, delete, the watch
 * stream, compaction, endpoint rotation when a member dies, and clear
 * errors within the deadline when every member is down.  Each test runs
 * the libev loop of its own process; every wait is a condition with a
 * deadline (etcdrun_loop_until).
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>
#include <ev.h>
#include <jansson.h>

#include "gt/etcd.h"
#include "gt/xmalloc.h"
#include "etcdrun.h"
#include "harness.h"

#define T_MS		5000		/* one request, generous */
#define N_EVENTS	50

/* One finished request: a copy of what the callback saw. */
struct done {
	bool			 done;
	enum etcd_status	 status;
	char			*message;
	int64_t			 revision, id, ttl, deleted;
	bool			 succeeded;
	size_t			 nkvs;
	char			*key0, *value0;
	int64_t			 lease0, create0;
	long			 at;	/* e2e_now_ms() of the callback */
};

static struct ev_loop	*loop;
static struct etcdrun	*run;
static struct etcd	*cl;

static void
setup(void)
{
	loop = EV_DEFAULT;
	run = etcdrun_start(3);
}

static void
teardown(void)
{
	etcd_free(cl);
	cl = NULL;
	etcdrun_stop(run);
}

static struct etcd *
client(int first, int n, int attempt_ms)
{
	struct etcd_opts	 o;
	const char		*eps[ETCDRUN_MAX];
	char			*cause = NULL;
	struct etcd		*e;
	int			 i;

	for (i = 0; i < n; i++)
		eps[i] = etcdrun_endpoint(run, (first + i) % etcdrun_size(run));
	memset(&o, 0, sizeof o);
	o.loop = loop;
	o.endpoints = eps;
	o.nendpoints = n;
	o.attempt_ms = attempt_ms;
	e = etcd_new(&o, &cause);
	ck_assert_msg(e != NULL, "etcd_new: %s", cause);
	return (e);
}

static void
done_cb(const struct etcd_result *r, void *arg)
{
	struct done	*d = arg;

	ck_assert(!d->done);
	d->done = true;
	d->at = e2e_now_ms();
	d->status = r->status;
	d->message = r->message != NULL ? xstrdup(r->message) : NULL;
	d->revision = r->revision;
	d->id = r->id;
	d->ttl = r->ttl;
	d->deleted = r->deleted;
	d->succeeded = r->succeeded;
	d->nkvs = r->nkvs;
	if (r->nkvs > 0) {
		d->key0 = xstrdup(r->kvs[0].key);
		d->value0 = xstrdup(r->kvs[0].value);
		d->lease0 = r->kvs[0].lease;
		d->create0 = r->kvs[0].create_revision;
	}
}

static bool
is_done(void *arg)
{
	return (((struct done *)arg)->done);
}

/* Wait for d; assert the status. */
static void
wait_done(struct done *d, enum etcd_status st)
{
	ck_assert_msg(etcdrun_loop_until(loop, is_done, d, 3 * T_MS),
	    "no callback in time");
	ck_assert_msg(d->status == st, "status %d, want %d: %s", d->status,
	    st, d->message != NULL ? d->message : "");
}

static void
done_clear(struct done *d)
{
	free(d->message);
	free(d->key0);
	free(d->value0);
	memset(d, 0, sizeof *d);
}

static struct done *
txn_put(const char *key, const char *value, int64_t lease, int64_t create)
{
	static struct done	d;
	struct etcd_txn		t;

	done_clear(&d);
	memset(&t, 0, sizeof t);
	t.key = key;
	t.keylen = strlen(key);
	t.create_revision = create;
	t.op = ETCD_TXN_PUT;
	t.value = value;
	t.valuelen = strlen(value);
	t.lease = lease;
	t.timeout_ms = T_MS;
	etcd_txn(cl, &t, done_cb, &d);
	wait_done(&d, ETCD_OK);
	return (&d);
}

static int64_t
grant(int64_t ttl)
{
	struct done	d = { 0 };
	int64_t		id;

	etcd_lease_grant(cl, ttl, T_MS, done_cb, &d);
	wait_done(&d, ETCD_OK);
	ck_assert_int_gt(d.id, 0);
	ck_assert_int_eq(d.ttl, ttl);
	id = d.id;
	done_clear(&d);
	return (id);
}

static size_t
count_prefix(const char *prefix)
{
	struct done		d = { 0 };
	struct etcd_range	rg;
	size_t			n, endlen;
	char			*end;

	end = etcd_prefix_end(prefix, strlen(prefix), &endlen);
	memset(&rg, 0, sizeof rg);
	rg.key = prefix;
	rg.keylen = strlen(prefix);
	rg.end = end;
	rg.endlen = endlen;
	rg.timeout_ms = T_MS;
	etcd_range(cl, &rg, done_cb, &d);
	wait_done(&d, ETCD_OK);
	n = d.nkvs;
	ck_assert_int_eq(d.nkvs, n);
	done_clear(&d);
	free(end);
	return (n);
}

/*
 * Leases and the create-if-absent txn: the first claim wins, the second
 * reads the winner (with its lease and create revision), keepalive keeps
 * the TTL, revoke deletes the key and a second revoke is NOT_FOUND.
 */
START_TEST(etcd_lease_txn_range)
{
	struct done	*t, d = { 0 };
	int64_t		 lease, rev;

	cl = client(0, 3, 0);
	lease = grant(5);
	t = txn_put("/t/a", "one", lease, 0);
	ck_assert(t->succeeded);
	rev = t->revision;
	ck_assert_int_gt(rev, 0);
	t = txn_put("/t/a", "two", 0, 0);
	ck_assert(!t->succeeded);
	ck_assert_uint_eq(t->nkvs, 1);
	ck_assert_str_eq(t->key0, "/t/a");
	ck_assert_str_eq(t->value0, "one");
	ck_assert_int_eq(t->lease0, lease);
	ck_assert_int_eq(t->create0, rev);
	/* An update guarded by the create revision. */
	t = txn_put("/t/a", "three", lease, rev);
	ck_assert(t->succeeded);
	t = txn_put("/t/a", "four", lease, rev + 100);
	ck_assert(!t->succeeded);
	ck_assert_str_eq(t->value0, "three");
	/* Binary keys and values survive base64. */
	t = txn_put("/t/\xc3\xa9\x01", "\xff\xfe", lease, 0);
	ck_assert(t->succeeded);
	ck_assert_uint_eq(count_prefix("/t/"), 2);

	etcd_lease_keepalive(cl, lease, T_MS, done_cb, &d);
	wait_done(&d, ETCD_OK);
	ck_assert_int_eq(d.ttl, 5);
	done_clear(&d);
	etcd_lease_revoke(cl, lease, T_MS, done_cb, &d);
	wait_done(&d, ETCD_OK);
	done_clear(&d);
	ck_assert_uint_eq(count_prefix("/t/"), 0);
	/* Gone: keepalive says TTL 0 (omitted), revoke says NOT_FOUND. */
	etcd_lease_keepalive(cl, lease, T_MS, done_cb, &d);
	wait_done(&d, ETCD_OK);
	ck_assert_int_eq(d.ttl, 0);
	done_clear(&d);
	etcd_lease_revoke(cl, lease, T_MS, done_cb, &d);
	wait_done(&d, ETCD_NOT_FOUND);
	ck_assert_ptr_nonnull(strstr(d.message, "lease not found"));
	done_clear(&d);
	/* Delete with a prefix. */
	txn_put("/t/x1", "1", 0, 0);
	txn_put("/t/x2", "2", 0, 0);
	etcd_delete(cl, "/t/x", 4, true, T_MS, done_cb, &d);
	wait_done(&d, ETCD_OK);
	ck_assert_int_eq(d.deleted, 2);
	done_clear(&d);
}
END_TEST

/* A watch collects events; kept simple: keys, deletes, revisions. */
struct wlog {
	int		 n;
	char		*keys[4 * N_EVENTS];
	bool		 deleted[4 * N_EVENTS];
	int64_t		 revs[4 * N_EVENTS];
	int		 ups, downs;
	int64_t		 compacted;
	bool		 free_in_cb;
	struct etcd_watch *w;
};

static void
wlog_events(struct etcd_watch *w, const struct etcd_event *ev, size_t n,
    void *arg)
{
	struct wlog	*l = arg;
	size_t		 i;

	for (i = 0; i < n && l->n < 4 * N_EVENTS; i++) {
		l->keys[l->n] = xstrdup(ev[i].kv->key);
		l->deleted[l->n] = ev[i].deleted;
		l->revs[l->n++] = ev[i].kv->mod_revision;
	}
	if (l->free_in_cb) {
		etcd_watch_free(w);		/* must be safe */
		l->w = NULL;
	}
}

static void
wlog_compacted(struct etcd_watch *w, int64_t rev, void *arg)
{
	((struct wlog *)arg)->compacted = rev;
}

static void
wlog_state(struct etcd_watch *w, bool up, const char *why, void *arg)
{
	struct wlog	*l = arg;

	if (up)
		l->ups++;
	else
		l->downs++;
}

static const struct etcd_watch_ops wlog_ops = {
	.events = wlog_events,
	.compacted = wlog_compacted,
	.state = wlog_state
};

struct wait_n {
	struct wlog	*l;
	int		 n;
};

static bool
has_n(void *arg)
{
	struct wait_n	*w = arg;

	return (w->l->n >= w->n);
}

static bool
is_up(void *arg)
{
	struct wlog	*l = arg;

	return (l->w != NULL && etcd_watch_up(l->w));
}

static bool
is_compacted(void *arg)
{
	return (((struct wlog *)arg)->compacted > 0);
}

static void
wlog_free(struct wlog *l)
{
	int	i;

	for (i = 0; i < l->n; i++)
		free(l->keys[i]);
	etcd_watch_free(l->w);
}

/* Events in revision order, each exactly once: no gap, no duplicate. */
static void
wlog_check_order(struct wlog *l)
{
	int	i;

	for (i = 1; i < l->n; i++)
		ck_assert_msg(l->revs[i] == l->revs[i - 1] + 1,
		    "event %d: revision %lld after %lld", i,
		    (long long)l->revs[i], (long long)l->revs[i - 1]);
}

START_TEST(etcd_watch_stream)
{
	struct wlog	 l;
	struct wait_n	 wn = { &l, N_EVENTS + 1 };
	struct done	 d = { 0 };
	int64_t		 start;
	char		 key[32];
	int		 i;

	memset(&l, 0, sizeof l);
	cl = client(0, 3, 0);
	start = etcdrun_revision(run) + 1;
	l.w = etcd_watch_new(cl, "/w/", 3, true, start, &wlog_ops, &l);
	ck_assert(etcdrun_loop_until(loop, is_up, &l, 3 * T_MS));
	for (i = 0; i < N_EVENTS; i++) {
		snprintf(key, sizeof key, "/w/%03d", i);
		txn_put(key, "v", 0, 0);
	}
	txn_put("/other", "not watched", 0, 0);
	etcd_delete(cl, "/w/000", 6, false, T_MS, done_cb, &d);
	wait_done(&d, ETCD_OK);
	done_clear(&d);
	ck_assert(etcdrun_loop_until(loop, has_n, &wn, T_MS));
	ck_assert_int_eq(l.n, N_EVENTS + 1);
	for (i = 0; i < N_EVENTS; i++)
		ck_assert(!l.deleted[i]);
	ck_assert_str_eq(l.keys[N_EVENTS], "/w/000");
	ck_assert(l.deleted[N_EVENTS]);
	ck_assert_int_eq(l.revs[0], start);
	ck_assert_int_eq(etcd_watch_next(l.w), l.revs[l.n - 1] + 1);
	/* Freeing the watch inside its own callback is safe. */
	l.free_in_cb = true;
	wn.n = l.n + 1;
	txn_put("/w/last", "v", 0, 0);
	ck_assert(etcdrun_loop_until(loop, has_n, &wn, T_MS));
	ck_assert_ptr_null(l.w);
	wlog_free(&l);
}
END_TEST

/* A watch from a compacted revision says so, with the compact revision. */
START_TEST(etcd_watch_compacted)
{
	struct wlog	l;
	long long	rev;

	memset(&l, 0, sizeof l);
	cl = client(0, 3, 0);
	txn_put("/c/1", "a", 0, 0);
	txn_put("/c/1", "b", 0, etcdrun_revision(run));
	rev = etcdrun_revision(run);
	etcdrun_compact(run, rev);
	l.w = etcd_watch_new(cl, "/c/", 3, true, rev - 1, &wlog_ops, &l);
	ck_assert(etcdrun_loop_until(loop, is_compacted, &l, T_MS));
	ck_assert_int_eq(l.compacted, rev);
	wlog_free(&l);
}
END_TEST

/*
 * The member a client and its watch use dies: requests go on through
 * another member, and the watch resumes there with no event lost and
 * none twice.
 */
START_TEST(etcd_rotation_member_dies)
{
	struct wlog	 l;
	struct wait_n	 wn = { &l, 2 * N_EVENTS };
	struct etcd	*other;
	char		 key[32];
	int		 i;

	memset(&l, 0, sizeof l);
	cl = client(0, 3, 500);
	l.w = etcd_watch_new(cl, "/r/", 3, true, etcdrun_revision(run) + 1,
	    &wlog_ops, &l);
	ck_assert(etcdrun_loop_until(loop, is_up, &l, 3 * T_MS));
	ck_assert_str_eq(etcd_endpoint(cl), etcdrun_endpoint(run, 0));
	/* Writes through another client, before and after the kill. */
	other = cl;
	cl = client(1, 2, 500);
	for (i = 0; i < N_EVENTS; i++) {
		snprintf(key, sizeof key, "/r/a%03d", i);
		txn_put(key, "v", 0, 0);
	}
	etcdrun_kill(run, 0);
	for (i = 0; i < N_EVENTS; i++) {
		snprintf(key, sizeof key, "/r/b%03d", i);
		txn_put(key, "v", 0, 0);
	}
	etcd_free(cl);
	cl = other;
	/* The old client's own request goes through another member. */
	txn_put("/r/c", "v", 0, 0);
	ck_assert_str_ne(etcd_endpoint(cl), etcdrun_endpoint(run, 0));
	ck_assert_uint_ge(etcd_rotations(cl), 1);
	wn.n = 2 * N_EVENTS + 1;
	ck_assert(etcdrun_loop_until(loop, has_n, &wn, 2 * T_MS));
	ck_assert_int_eq(l.n, 2 * N_EVENTS + 1);
	ck_assert_int_ge(l.downs, 1);
	wlog_check_order(&l);
	wlog_free(&l);
}
END_TEST

/*
 * Every member down: a request fails with ETCD_UNAVAILABLE, naming the
 * cause, within its deadline (2 s); once etcd is back, requests work
 * again and the watch resumes.
 */
START_TEST(etcd_all_down_then_back)
{
	struct wlog	 l;
	struct wait_n	 wn = { &l, 1 };
	struct done	 d = { 0 };
	long		 t0;
	int		 i;

	memset(&l, 0, sizeof l);
	cl = client(0, 3, 500);
	l.w = etcd_watch_new(cl, "/d/", 3, true, etcdrun_revision(run) + 1,
	    &wlog_ops, &l);
	ck_assert(etcdrun_loop_until(loop, is_up, &l, 3 * T_MS));
	for (i = 0; i < 3; i++)
		etcdrun_kill(run, i);
	t0 = e2e_now_ms();
	etcd_lease_grant(cl, 5, 2000, done_cb, &d);
	wait_done(&d, ETCD_UNAVAILABLE);
	ck_assert_int_le(d.at - t0, 2300);
	ck_assert_ptr_nonnull(strstr(d.message, "etcd unavailable"));
	ck_assert_ptr_nonnull(strstr(d.message, "127.0.0.1"));
	done_clear(&d);
	for (i = 0; i < 3; i++)
		etcdrun_restart(run, i);
	ck_assert(etcdrun_wait_healthy(run, ETCDRUN_READY_MS));
	txn_put("/d/1", "back", 0, 0);
	ck_assert(etcdrun_loop_until(loop, has_n, &wn, 2 * T_MS));
	ck_assert_str_eq(l.keys[0], "/d/1");
	wlog_free(&l);
}
END_TEST

/*
 * Canceling requests: from outside, inside its own callback, and freeing
 * the client there.
 */
static void
cancel_self_cb(const struct etcd_result *r, void *arg)
{
	struct etcd_req	**self = arg;

	etcd_req_cancel(*self);			/* no effect, no crash */
	*self = NULL;
}

static void
free_client_cb(const struct etcd_result *r, void *arg)
{
	etcd_free(cl);				/* inside its own callback */
	cl = NULL;
	*(bool *)arg = true;
}

/* A request that may finish before the client is freed, never after. */
static void
before_free_cb(const struct etcd_result *r, void *arg)
{
	ck_assert_msg(cl != NULL, "callback after etcd_free");
}

static void
never_cb(const struct etcd_result *r, void *arg)
{
	ck_abort_msg("callback of a canceled request");
}

static bool
is_true(void *arg)
{
	return (*(bool *)arg);
}

static bool
is_null(void *arg)
{
	return (*(void **)arg == NULL);
}

START_TEST(etcd_cancel)
{
	struct etcd_req	*self, *r;
	struct done	 d = { 0 };
	bool		 freed = false;

	cl = client(0, 3, 0);
	r = etcd_lease_grant(cl, 5, T_MS, never_cb, NULL);
	etcd_req_cancel(r);
	self = etcd_lease_grant(cl, 5, T_MS, cancel_self_cb, &self);
	ck_assert(etcdrun_loop_until(loop, is_null, &self, T_MS));
	/* A later request still works. */
	etcd_lease_grant(cl, 5, T_MS, done_cb, &d);
	wait_done(&d, ETCD_OK);
	done_clear(&d);
	/* Free the client inside a callback while others are in flight. */
	etcd_lease_grant(cl, 5, T_MS, before_free_cb, NULL);
	etcd_lease_grant(cl, 5, T_MS, free_client_cb, &freed);
	etcd_lease_grant(cl, 5, T_MS, before_free_cb, NULL);
	etcd_lease_grant(cl, 5, T_MS, before_free_cb, NULL);
	ck_assert(etcdrun_loop_until(loop, is_true, &freed, T_MS));
	ck_assert_ptr_null(cl);
	/* Nothing more is delivered: run the loop a little longer. */
	freed = false;
	ck_assert(!etcdrun_loop_until(loop, is_true, &freed, 300));
}
END_TEST

Suite *
e2e_etcd_suite(void)
{
	Suite	*s = suite_create("etcd");
	TCase	*tc = tcase_create("etcd");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, etcd_lease_txn_range);
	tcase_add_test(tc, etcd_watch_stream);
	tcase_add_test(tc, etcd_watch_compacted);
	tcase_add_test(tc, etcd_rotation_member_dies);
	tcase_add_test(tc, etcd_all_down_then_back);
	tcase_add_test(tc, etcd_cancel);
	suite_add_tcase(s, tc);
	return (s);
}
