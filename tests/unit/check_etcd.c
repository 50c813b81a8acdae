/* SPDX-License-Identifier: MIT */
/*
 * check_etcd: the pure helpers of src/etcd.c (base64, prefix ends) and
 * the client against fake endpoints on loopback: an answer that says
 * "ask another member" rotates to the next endpoint, proto3 JSON
 * (int64 as strings, omitted zero fields) is read right, an endpoint
 * that refuses connections gives ETCD_UNAVAILABLE within the deadline,
 * and no result is ever delivered from inside the call that started it.
 * The real etcd is tested in tests/e2e/check_e2e_etcd.c.
 */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <ev.h>

#include "gt/etcd.h"
#include "gt/xmalloc.h"
#include "check_unit.h"

static const struct {
	const char	*raw, *b64;
} b64_table[] = {
	{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" }, { "/gtd/z/\xff\xfe", "L2d0ZC96L//+" }
};

START_TEST(etcd_base64)
{
	char	*e, *d;
	size_t	 n, i;

	for (i = 0; i < sizeof b64_table / sizeof b64_table[0]; i++) {
		e = etcd_b64_encode(b64_table[i].raw, strlen(b64_table[i].raw));
		ck_assert_str_eq(e, b64_table[i].b64);
		d = etcd_b64_decode(e, strlen(e), &n);
		ck_assert_uint_eq(n, strlen(b64_table[i].raw));
		ck_assert_mem_eq(d, b64_table[i].raw, n);
		free(e);
		free(d);
	}
	/* URL alphabet and missing padding are accepted; garbage is not. */
	d = etcd_b64_decode("L2d0ZC96L__-", 12, &n);
	ck_assert_mem_eq(d, "/gtd/z/\xff\xfe", n);
	free(d);
	d = etcd_b64_decode("Zg", 2, &n);
	ck_assert_str_eq(d, "f");
	free(d);
	ck_assert_ptr_null(etcd_b64_decode("Zm9v!", 5, &n));
	ck_assert_ptr_null(etcd_b64_decode("Z", 1, &n));
}
END_TEST

START_TEST(etcd_prefix_ends)
{
	char	*e;
	size_t	 n;

	e = etcd_prefix_end("/gtd/z/", 7, &n);
	ck_assert_uint_eq(n, 7);
	ck_assert_mem_eq(e, "/gtd/z0", 7);
	free(e);
	e = etcd_prefix_end("a\xff\xff", 3, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_mem_eq(e, "b", 1);
	free(e);
	e = etcd_prefix_end("\xff", 1, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(e[0], '\0');
	free(e);
}
END_TEST

/* A fake endpoint: answers every request with one canned HTTP answer. */
struct fake {
	int		 fd;
	ev_io		 io;
	const char	*answer;
	int		 hits;
	char		 url[64];
};

static void
fake_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct fake	*f = w->data;
	char		 buf[8192], *hdr;
	size_t		 len = 0;
	ssize_t		 n;
	int		 c;

	if ((c = accept(f->fd, NULL, NULL)) == -1)
		return;
	/* The request is small: read until its body is there (blocking). */
	while (len < sizeof buf - 1 && (n = read(c, buf + len,
	    sizeof buf - 1 - len)) > 0) {
		len += n;
		buf[len] = '\0';
		if ((hdr = strstr(buf, "\r\n\r\n")) != NULL &&
		    strchr(hdr, '}') != NULL)
			break;
	}
	f->hits++;
	/* (void): the client may have given up */
	(void)!write(c, f->answer, strlen(f->answer));
	close(c);
}

static void
fake_start(struct fake *f, const char *answer)
{
	f->fd = test_listen_loopback(8, f->url, sizeof f->url);
	f->answer = answer;
	ev_io_init(&f->io, fake_accept_cb, f->fd, EV_READ);
	f->io.data = f;
	ev_io_start(EV_DEFAULT, &f->io);
}

struct got {
	bool			 done;
	enum etcd_status	 status;
	int64_t			 revision, create, lease, mod;
	bool			 succeeded;
	size_t			 nkvs;
	char			 key[32], value[32], message[256];
};

static void
got_cb(const struct etcd_result *r, void *arg)
{
	struct got	*g = arg;

	g->done = true;
	g->status = r->status;
	g->revision = r->revision;
	g->succeeded = r->succeeded;
	g->nkvs = r->nkvs;
	if (r->nkvs > 0) {
		snprintf(g->key, sizeof g->key, "%s", r->kvs[0].key);
		snprintf(g->value, sizeof g->value, "%s", r->kvs[0].value);
		g->create = r->kvs[0].create_revision;
		g->mod = r->kvs[0].mod_revision;
		g->lease = r->kvs[0].lease;
	}
	if (r->message != NULL)
		snprintf(g->message, sizeof g->message, "%s", r->message);
}

static struct etcd *
client(const char **eps, size_t n)
{
	struct etcd_opts	 o;
	struct etcd		*e;
	char			*cause = NULL;

	memset(&o, 0, sizeof o);
	o.loop = EV_DEFAULT;
	o.endpoints = eps;
	o.nendpoints = n;
	o.attempt_ms = 300;
	e = etcd_new(&o, &cause);
	ck_assert_msg(e != NULL, "%s", cause);
	return (e);
}

static void
run_until(struct got *g, int ms)
{
	struct timespec	ts;
	long		deadline;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	deadline = ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + ms;
	while (!g->done) {
		ev_run(EV_DEFAULT, EVRUN_ONCE);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ck_assert_int_lt(ts.tv_sec * 1000 + ts.tv_nsec / 1000000,
		    deadline);
	}
}

/* An HTTP answer with a JSON body (xmalloc'd). */
static char *
http(const char *status, const char *body)
{
	char	*s;

	xasprintf(&s, "HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
	    "Connection: close\r\nContent-Length: %zu\r\n\r\n%s", status,
	    strlen(body), body);
	return (s);
}

static const char leader_changed[] =
    "{\"error\":\"etcdserver: leader changed\",\"code\":14,"
    "\"message\":\"etcdserver: leader changed\"}";
/* A txn whose compare failed: succeeded, value and lease omitted. */
static const char txn_failed[] =
    "{\"header\":{\"revision\":\"42\"},\"responses\":[{"
    "\"response_range\":{\"header\":{},\"kvs\":[{\"key\":\"L2E=\","
    "\"create_revision\":\"17\",\"mod_revision\":"
    "\"9007199254740993\"}],\"count\":\"1\"}}]}";

START_TEST(etcd_rotates_on_unavailable)
{
	struct fake	 a = { 0 }, b = { 0 };
	struct etcd	*e;
	struct etcd_txn	 t;
	struct got	 g = { 0 };
	const char	*eps[2];
	char		*ans_a, *ans_b;

	/* "Ask another member", then a txn that failed, proto3-style. */
	ans_a = http("503 Service Unavailable", leader_changed);
	ans_b = http("200 OK", txn_failed);
	fake_start(&a, ans_a);
	fake_start(&b, ans_b);
	eps[0] = a.url;
	eps[1] = b.url;
	e = client(eps, 2);
	memset(&t, 0, sizeof t);
	t.key = "/a";
	t.keylen = 2;
	t.op = ETCD_TXN_PUT;
	t.value = "v";
	t.valuelen = 1;
	t.timeout_ms = 2000;
	etcd_txn(e, &t, got_cb, &g);
	ck_assert(!g.done);			/* never from inside the call */
	run_until(&g, 3000);
	ck_assert_int_eq(g.status, ETCD_OK);
	ck_assert_int_eq(a.hits, 1);
	ck_assert_int_eq(b.hits, 1);
	ck_assert_str_eq(etcd_endpoint(e), b.url);
	ck_assert_uint_eq(etcd_rotations(e), 1);
	/* Omitted fields read as zero; int64 strings beyond 2^53 exact. */
	ck_assert(!g.succeeded);
	ck_assert_int_eq(g.revision, 42);
	ck_assert_uint_eq(g.nkvs, 1);
	ck_assert_str_eq(g.key, "/a");
	ck_assert_str_eq(g.value, "");
	ck_assert_int_eq(g.create, 17);
	ck_assert_int_eq(g.mod, 9007199254740993LL);
	ck_assert_int_eq(g.lease, 0);
	etcd_free(e);
	free(ans_a);
	free(ans_b);
}
END_TEST

/* Nobody listens: ETCD_UNAVAILABLE, naming the cause, by the deadline. */
START_TEST(etcd_unreachable_within_deadline)
{
	struct fake	 a = { 0 };
	struct etcd	*e;
	struct got	 g = { 0 };
	const char	*eps[1];
	char		 url[64];

	fake_start(&a, "");
	snprintf(url, sizeof url, "%s", a.url);
	ev_io_stop(EV_DEFAULT, &a.io);
	close(a.fd);				/* the port refuses now */
	eps[0] = url;
	e = client(eps, 1);
	etcd_lease_grant(e, 5, 500, got_cb, &g);
	run_until(&g, 1500);
	ck_assert_int_eq(g.status, ETCD_UNAVAILABLE);
	ck_assert_ptr_nonnull(strstr(g.message, "etcd unavailable"));
	ck_assert_ptr_nonnull(strstr(g.message, url));
	etcd_free(e);
}
END_TEST

Suite *
etcd_suite(void)
{
	Suite	*s = suite_create("etcd");
	TCase	*tc = tcase_create("etcd");

	tcase_add_test(tc, etcd_base64);
	tcase_add_test(tc, etcd_prefix_ends);
	tcase_add_test(tc, etcd_rotates_on_unavailable);
	tcase_add_test(tc, etcd_unreachable_within_deadline);
	suite_add_tcase(s, tc);
	return (s);
}
