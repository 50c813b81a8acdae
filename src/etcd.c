/* SPDX-License-Identifier: MIT */
/*
 * etcd: an asynchronous etcd v3 JSON-gateway client on the libev loop,
 * through libcurl's multi-socket API (contracts in etcd.h).  libcurl
 * tells us which sockets to watch (etcd_sock_cb -> ev_io) and when to
 * call it back (etcd_timer_cb -> ev_timer); we tell it what happened
 * with curl_multi_socket_action and then drain its finished transfers.
 *
 * Never blocks, never logs.  No user callback ever runs inside a libcurl
 * callback: the write callback only appends bytes, and answers are
 * parsed and delivered after curl_multi_socket_action has returned, so a
 * user callback may start, cancel and free anything (freed objects go
 * to a dead list that is emptied once the outermost dispatch returns).
 *
 * libcurl is loaded when the first client is made (dlopen), not linked
 * into gtd: with its TLS, Kerberos and LDAP libraries it added some 30
 * libraries and 140 mappings to gtd, and every spawn copies gtd's
 * mappings (W-deps: 13% more of gtd's CPU per start).  A gtd without a
 * cluster never loads it; one whose libcurl is missing gets the reason
 * from etcd_new.
 */
#include "config.h"

#include <sys/queue.h>

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CURL_DISABLE_TYPECHECK	/* its macros would hide the table below */
#include <curl/curl.h>
#include <dlfcn.h>
#include <ev.h>
#include <jansson.h>

#include "gt/etcd.h"
#include "gt/xmalloc.h"

#define ETCD_ROUND_PAUSE_MS	100	/* after every endpoint failed once */
#define ETCD_WATCH_MIN_MS	50	/* first watch reconnect delay */
#define ETCD_WATCH_MAX_MS	1000	/* longest watch reconnect delay */
#define ETCD_MAX_CONNS		16	/* sockets libcurl may keep open */
#define ETCD_LIBCURL		"libcurl.so.4"	/* its soname since 7.16 */

/*
 * The libcurl functions gtd calls (return type, name after "curl_",
 * parameters), each named here once: the table's fields and the dlsym
 * list are made from it, and the calls go through the table
 * (curl.easy_setopt(...)).
 */
#define ETCD_CURL_FUNCS(X)						\
	X(CURLcode, global_init, (long))				\
	X(void, global_cleanup, (void))					\
	X(CURL *, easy_init, (void))					\
	X(CURLcode, easy_setopt, (CURL *, CURLoption, ...))		\
	X(CURLcode, easy_getinfo, (CURL *, CURLINFO, ...))		\
	X(void, easy_cleanup, (CURL *))					\
	X(const char *, easy_strerror, (CURLcode))			\
	X(CURLM *, multi_init, (void))					\
	X(CURLMcode, multi_setopt, (CURLM *, CURLMoption, ...))		\
	X(CURLMcode, multi_add_handle, (CURLM *, CURL *))		\
	X(CURLMcode, multi_remove_handle, (CURLM *, CURL *))		\
	X(CURLMcode, multi_assign, (CURLM *, curl_socket_t, void *))	\
	X(CURLMcode, multi_socket_action, (CURLM *, curl_socket_t, int,	\
	    int *))							\
	X(CURLMsg *, multi_info_read, (CURLM *, int *))			\
	X(CURLMcode, multi_cleanup, (CURLM *))				\
	X(struct curl_slist *, slist_append, (struct curl_slist *,	\
	    const char *))						\
	X(void, slist_free_all, (struct curl_slist *))

/*
 * The table, from dlsym: the process's library (loaded once, never
 * unloaded: its TLS libraries register handlers), so a mutable global
 * as spawn.c's heap marks are.
 */
#define ETCD_CURL_FIELD(ret, f, params)	ret (*f) params;
static struct etcd_curl {
	ETCD_CURL_FUNCS(ETCD_CURL_FIELD)
} curl;
#undef ETCD_CURL_FIELD
static bool	etcd_curl_loaded;

/* gRPC status codes etcd puts in "code" (google.golang.org/grpc/codes). */
#define GRPC_DEADLINE_EXCEEDED	4
#define GRPC_NOT_FOUND		5
#define GRPC_RESOURCE_EXHAUSTED	8
#define GRPC_OUT_OF_RANGE	11
#define GRPC_UNAVAILABLE	14

enum etcd_kind { ETCD_KIND_REQ, ETCD_KIND_WATCH };

/* A growing byte buffer, bounded by the client's max_body. */
struct etcd_buf {
	char	*p;			/* owned */
	size_t	 len;
	size_t	 cap;
};

/* What a request and a watch share: one libcurl transfer. */
struct etcd_xfer {
	enum etcd_kind	 kind;
	struct etcd	*e;		/* weak: the owner */
	CURL		*easy;		/* owned */
	size_t		 ep;		/* endpoint of the current attempt */
	bool		 active;	/* easy is in the multi handle */
	bool		 toobig;	/* the answer passed max_body */
	struct etcd_buf	 body;
	char		 err[CURL_ERROR_SIZE];
};

#define ETCD_REQ_INCB		0x1	/* its callback runs */
#define ETCD_REQ_DEAD		0x2	/* canceled or delivered */

struct etcd_req {
	struct etcd_xfer	 x;	/* first: CURLOPT_PRIVATE points here */
	const char		*path;	/* static: "/v3/kv/txn" */
	char			*post;	/* owned: the JSON body */
	etcd_cb			*cb;
	void			*arg;
	int64_t			 deadline;	/* monotonic ms */
	unsigned		 tries;
	ev_timer		 retry;	/* pause before the next attempt */
	char			*why;	/* owned: the last failure */
	int			 flags;
	TAILQ_ENTRY(etcd_req)	 entry;	/* on e->reqs or e->dead_reqs */
};

struct etcd_watch {
	struct etcd_xfer		 x;	/* first, as in etcd_req */
	char				*key;	/* owned */
	size_t				 keylen;
	char				*end;	/* owned; NULL: one key */
	size_t				 endlen;
	char				*post;	/* owned: this attempt's body */
	int64_t				 next;	/* revision asked for next */
	const struct etcd_watch_ops	*ops;
	void				*arg;
	bool				 up;	/* etcd confirmed it */
	bool				 dead;	/* freed or compacted */
	bool				 data;	/* bytes arrived, not parsed */
	char				*restart; /* owned: a restart is due */
	int				 backoff_ms;
	int				 confirm_ms; /* wait for "created" */
	ev_timer			 timer;	/* reconnect, or confirm by */
	TAILQ_ENTRY(etcd_watch)		 entry;
};

/* One socket libcurl asked us to watch. */
struct etcd_sock {
	ev_io			 io;
	struct etcd		*e;	/* weak */
	curl_socket_t		 fd;
	LIST_ENTRY(etcd_sock)	 entry;
};

TAILQ_HEAD(etcd_reqs, etcd_req);
TAILQ_HEAD(etcd_watches, etcd_watch);

struct etcd {
	struct ev_loop		*loop;
	CURLM			*multi;		/* owned */
	struct curl_slist	*headers;	/* owned */
	ev_timer		 timer;		/* libcurl's timeout */
	char			**eps;		/* owned, neps of them */
	size_t			 neps;
	size_t			 cur;		/* current endpoint */
	uint64_t		 rotations;
	int			 attempt_ms;
	size_t			 max_body;
	void			(*rotated)(const char *, void *);
	void			*rotated_arg;
	int			 depth;		/* dispatches on the stack */
	bool			 dying;		/* etcd_free was called */
	struct etcd_reqs	 reqs;		/* owned: in flight */
	struct etcd_reqs	 dead_reqs;	/* owned: freed at depth 0 */
	struct etcd_watches	 watches;	/* owned */
	struct etcd_watches	 dead_watches;
	LIST_HEAD(, etcd_sock)	 socks;		/* owned */
};

/* Parsed answer, owned by the delivering function. */
struct etcd_answer {
	struct etcd_result	 r;
	struct etcd_kv		*kvs;		/* owned */
	size_t			 nkvs;
};

static int64_t	etcd_now_ms(void);
static void	etcd_enter(struct etcd *);
static void	etcd_leave(struct etcd *);
static void	etcd_destroy(struct etcd *);
static void	etcd_drain(struct etcd *);
static void	etcd_rotate(struct etcd *, size_t);
static int	etcd_sock_cb(CURL *, curl_socket_t, int, void *, void *);
static int	etcd_curl_timer_cb(CURLM *, long, void *);
static void	etcd_io_cb(struct ev_loop *, ev_io *, int);
static void	etcd_timer_cb(struct ev_loop *, ev_timer *, int);
static size_t	etcd_write_cb(char *, size_t, size_t, void *);
static int	etcd_xfer_init(struct etcd *, struct etcd_xfer *,
		    enum etcd_kind);
static void	etcd_xfer_stop(struct etcd_xfer *);
static int	etcd_xfer_start(struct etcd_xfer *, const char *,
		    const char *, long);
static struct etcd_req *etcd_req_new(struct etcd *, const char *, json_t *,
		    int, etcd_cb *, void *);
static void	etcd_req_attempt(struct etcd_req *);
static void	etcd_req_retry_cb(struct ev_loop *, ev_timer *, int);
static void	etcd_req_done(struct etcd_req *, CURLcode);
static void	etcd_req_failed(struct etcd_req *, const char *, bool);
static void	etcd_req_deliver(struct etcd_req *, struct etcd_answer *);
static void	etcd_req_fail(struct etcd_req *, enum etcd_status,
		    const char *);
static void	etcd_req_destroy(struct etcd_req *);
static int	etcd_answer_parse(json_t *, struct etcd_answer *, char **);
static int	etcd_kv_parse(json_t *, struct etcd_kv *);
static void	etcd_answer_free(struct etcd_answer *);
static int	etcd_grpc_error(json_t *, int *, const char **);
static int	etcd_int64(json_t *, const char *, int64_t *);
static void	etcd_watch_connect(struct etcd_watch *);
static void	etcd_watch_timer_cb(struct ev_loop *, ev_timer *, int);
static void	etcd_watch_mark(struct etcd_watch *, const char *);
static void	etcd_watch_restart(struct etcd_watch *);
static void	etcd_watch_parse(struct etcd_watch *);
static int	etcd_watch_line(struct etcd_watch *, const char *, size_t);
static int	etcd_watch_events(struct etcd_watch *, json_t *);
static void	etcd_watch_unlink(struct etcd_watch *);
static void	etcd_watch_destroy(struct etcd_watch *);

/* Base64 (RFC 4648), with padding; decoding accepts the URL alphabet too. */
static const char etcd_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
etcd_b64_encode(const void *src, size_t len)
{
	const unsigned char	*s = src;
	char			*out, *o;
	uint32_t		 v;
	size_t			 i;

	o = out = xmalloc((len + 2) / 3 * 4 + 1);
	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		*o++ = etcd_b64[v >> 18];
		*o++ = etcd_b64[(v >> 12) & 63];
		*o++ = etcd_b64[(v >> 6) & 63];
		*o++ = etcd_b64[v & 63];
	}
	if (i < len) {
		v = (uint32_t)s[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)s[i + 1] << 8;
		*o++ = etcd_b64[v >> 18];
		*o++ = etcd_b64[(v >> 12) & 63];
		*o++ = i + 1 < len ? etcd_b64[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return (out);
}

static int
etcd_b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return (c - 'A');
	if (c >= 'a' && c <= 'z')
		return (c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (c - '0' + 52);
	if (c == '+' || c == '-')
		return (62);
	if (c == '/' || c == '_')
		return (63);
	return (-1);
}

char *
etcd_b64_decode(const char *src, size_t len, size_t *outlen)
{
	char		*out;
	uint32_t	 v = 0;
	size_t		 i, n = 0, bits = 0;
	int		 d;

	while (len > 0 && src[len - 1] == '=')
		len--;
	if (len % 4 == 1)
		return (NULL);
	out = xmalloc(len / 4 * 3 + 3);
	for (i = 0; i < len; i++) {
		if ((d = etcd_b64_value((unsigned char)src[i])) == -1) {
			free(out);
			return (NULL);
		}
		v = v << 6 | (uint32_t)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (char)(v >> bits);
			v &= (1U << bits) - 1;
		}
	}
	out[n] = '\0';
	*outlen = n;
	return (out);
}

char *
etcd_prefix_end(const char *prefix, size_t len, size_t *endlen)
{
	char	*end;

	/* The last byte below 0xff goes up by one; what follows it goes. */
	while (len > 0 && (unsigned char)prefix[len - 1] == 0xff)
		len--;
	if (len == 0) {
		end = xcalloc(1, 2);
		*endlen = 1;			/* "\0": to the last key */
		return (end);
	}
	end = xmalloc(len + 1);
	memcpy(end, prefix, len);
	end[len - 1]++;
	end[len] = '\0';
	*endlen = len;
	return (end);
}

static int64_t
etcd_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Load libcurl and fill the table (curl): 0, or -1 and *cause. */
static int
etcd_curl_load(char **cause)
{
#define ETCD_CURL_SYM(ret, f, params) \
	{ "curl_" #f, offsetof(struct etcd_curl, f) },
	static const struct {
		const char	*name;
		size_t		 off;
	} syms[] = {
		ETCD_CURL_FUNCS(ETCD_CURL_SYM)
	};
#undef ETCD_CURL_SYM
	struct etcd_curl	 t;
	const char		*err;
	void			*lib, *f;
	size_t			 i;

	if (etcd_curl_loaded)
		return (0);
	if ((lib = dlopen(ETCD_LIBCURL, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		err = dlerror();
		xasprintf(cause, "etcd: cannot load libcurl: %s (the cluster "
		    "needs it: install libcurl4)", err != NULL ? err :
		    ETCD_LIBCURL);
		return (-1);
	}
	for (i = 0; i < sizeof syms / sizeof syms[0]; i++) {
		if ((f = dlsym(lib, syms[i].name)) == NULL) {
			xasprintf(cause, "etcd: %s has no %s: libcurl is too "
			    "old", ETCD_LIBCURL, syms[i].name);
			dlclose(lib);
			return (-1);
		}
		/* POSIX: a function's address fits a void *. */
		memcpy((char *)&t + syms[i].off, &f, sizeof f);
	}
	curl = t;
	etcd_curl_loaded = true;
	return (0);
}

struct etcd *
etcd_new(const struct etcd_opts *o, char **cause)
{
	struct etcd	*e;
	size_t		 i, n;

	if (o->nendpoints == 0 || o->nendpoints > ETCD_MAX_ENDPOINTS) {
		xasprintf(cause, "etcd: %zu endpoints (1 to %d)",
		    o->nendpoints, ETCD_MAX_ENDPOINTS);
		return (NULL);
	}
	for (i = 0; i < o->nendpoints; i++) {
		if (strncmp(o->endpoints[i], "http://", 7) != 0 &&
		    strncmp(o->endpoints[i], "https://", 8) != 0) {
			xasprintf(cause, "etcd: endpoint %s: not an http:// "
			    "or https:// URL", o->endpoints[i]);
			return (NULL);
		}
	}
	if (etcd_curl_load(cause) == -1)
		return (NULL);
	if (curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		xasprintf(cause, "etcd: libcurl cannot be initialised");
		return (NULL);
	}
	e = xcalloc(1, sizeof *e);
	e->loop = o->loop;
	e->attempt_ms = o->attempt_ms > 0 ? o->attempt_ms : ETCD_ATTEMPT_MS;
	e->max_body = o->max_body > 0 ? o->max_body : ETCD_MAX_BODY;
	e->rotated = o->rotated;
	e->rotated_arg = o->rotated_arg;
	e->neps = o->nendpoints;
	e->eps = xcalloc(e->neps, sizeof *e->eps);
	for (i = 0; i < e->neps; i++) {
		/* Without a trailing '/': paths are appended. */
		n = strlen(o->endpoints[i]);
		while (n > 0 && o->endpoints[i][n - 1] == '/')
			n--;
		e->eps[i] = xstrndup(o->endpoints[i], n);
	}
	TAILQ_INIT(&e->reqs);
	TAILQ_INIT(&e->dead_reqs);
	TAILQ_INIT(&e->watches);
	TAILQ_INIT(&e->dead_watches);
	LIST_INIT(&e->socks);
	ev_init(&e->timer, etcd_timer_cb);
	e->timer.data = e;
	e->headers = curl.slist_append(NULL, "Content-Type: application/json");
	/* No "Expect: 100-continue" wait before a large body. */
	e->headers = curl.slist_append(e->headers, "Expect:");
	if (e->headers == NULL || (e->multi = curl.multi_init()) == NULL) {
		xasprintf(cause, "etcd: libcurl: out of memory");
		etcd_destroy(e);
		return (NULL);
	}
	curl.multi_setopt(e->multi, CURLMOPT_SOCKETFUNCTION, etcd_sock_cb);
	curl.multi_setopt(e->multi, CURLMOPT_SOCKETDATA, e);
	curl.multi_setopt(e->multi, CURLMOPT_TIMERFUNCTION, etcd_curl_timer_cb);
	curl.multi_setopt(e->multi, CURLMOPT_TIMERDATA, e);
	curl.multi_setopt(e->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
	    (long)ETCD_MAX_CONNS);
	return (e);
}

void
etcd_free(struct etcd *e)
{
	struct etcd_req		*r;
	struct etcd_watch	*w;

	if (e == NULL || e->dying)
		return;
	e->dying = true;
	while ((r = TAILQ_FIRST(&e->reqs)) != NULL)
		etcd_req_cancel(r);
	while ((w = TAILQ_FIRST(&e->watches)) != NULL)
		etcd_watch_free(w);
	if (e->depth == 0)
		etcd_destroy(e);
}

static void
etcd_destroy(struct etcd *e)
{
	struct etcd_req		*r;
	struct etcd_watch	*w;
	struct etcd_sock	*s;
	size_t			 i;

	while ((r = TAILQ_FIRST(&e->dead_reqs)) != NULL) {
		TAILQ_REMOVE(&e->dead_reqs, r, entry);
		etcd_req_destroy(r);
	}
	while ((w = TAILQ_FIRST(&e->dead_watches)) != NULL) {
		TAILQ_REMOVE(&e->dead_watches, w, entry);
		etcd_watch_destroy(w);
	}
	if (e->multi != NULL)
		curl.multi_cleanup(e->multi);	/* may call etcd_sock_cb */
	while ((s = LIST_FIRST(&e->socks)) != NULL) {
		ev_io_stop(e->loop, &s->io);
		LIST_REMOVE(s, entry);
		free(s);
	}
	ev_timer_stop(e->loop, &e->timer);
	curl.slist_free_all(e->headers);
	for (i = 0; i < e->neps; i++)
		free(e->eps[i]);
	free(e->eps);
	free(e);
	curl.global_cleanup();
}

void
etcd_endpoint_failed(struct etcd *e, const char *endpoint)
{
	size_t	i;

	for (i = 0; i < e->neps; i++)
		if (strcmp(e->eps[i], endpoint) == 0 && i == e->cur) {
			etcd_enter(e);
			etcd_rotate(e, i);
			etcd_leave(e);		/* restarts watches there */
			return;
		}
}

const char *
etcd_endpoint(const struct etcd *e)
{
	return (e->eps[e->cur]);
}

uint64_t
etcd_rotations(const struct etcd *e)
{
	return (e->rotations);
}

/*
 * Dispatch bracket: objects freed while depth > 0 wait on the dead
 * lists; the outermost leave frees them (and the client, if freed).
 */
static void
etcd_enter(struct etcd *e)
{
	e->depth++;
}

static void
etcd_leave(struct etcd *e)
{
	struct etcd_req		*r;
	struct etcd_watch	*w;

	assert(e->depth > 0);
	/* Watches marked for a restart, by anything in this dispatch. */
	while (e->depth == 1 && !e->dying) {
		TAILQ_FOREACH(w, &e->watches, entry)
			if (w->restart != NULL)
				break;
		if (w == NULL)
			break;
		etcd_watch_restart(w);
	}
	if (--e->depth > 0)
		return;
	if (e->dying) {
		etcd_destroy(e);
		return;
	}
	while ((r = TAILQ_FIRST(&e->dead_reqs)) != NULL) {
		TAILQ_REMOVE(&e->dead_reqs, r, entry);
		etcd_req_destroy(r);
	}
	while ((w = TAILQ_FIRST(&e->dead_watches)) != NULL) {
		TAILQ_REMOVE(&e->dead_watches, w, entry);
		etcd_watch_destroy(w);
	}
}

/*
 * A transfer on endpoint ep failed at the transport: the next endpoint
 * becomes current (unless another failure moved it already), and a
 * watch on the failed endpoint follows it.
 */
static void
etcd_rotate(struct etcd *e, size_t ep)
{
	struct etcd_watch	*w;

	if (e->cur == ep) {
		e->cur = (e->cur + 1) % e->neps;
		e->rotations++;
		if (e->rotated != NULL)
			e->rotated(e->eps[ep], e->rotated_arg);
	}
	TAILQ_FOREACH(w, &e->watches, entry) {
		if (w->x.active && w->x.ep == ep && e->neps > 1)
			etcd_watch_mark(w, "its endpoint failed");
	}
}

/* libcurl -> libev: watch (or stop watching) one socket. */
static int
etcd_sock_cb(CURL *easy, curl_socket_t fd, int what, void *userp,
    void *sockp)
{
	struct etcd		*e = userp;
	struct etcd_sock	*s = sockp;
	int			 ev = 0;

	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			ev_io_stop(e->loop, &s->io);
			LIST_REMOVE(s, entry);
			free(s);
			curl.multi_assign(e->multi, fd, NULL);
		}
		return (0);
	}
	if (s == NULL) {
		s = xcalloc(1, sizeof *s);
		s->e = e;
		s->fd = fd;
		ev_init(&s->io, etcd_io_cb);
		s->io.data = s;
		LIST_INSERT_HEAD(&e->socks, s, entry);
		curl.multi_assign(e->multi, fd, s);
	}
	if (what & CURL_POLL_IN)
		ev |= EV_READ;
	if (what & CURL_POLL_OUT)
		ev |= EV_WRITE;
	ev_io_stop(e->loop, &s->io);
	ev_io_set(&s->io, fd, ev);
	ev_io_start(e->loop, &s->io);
	return (0);
}

/* libcurl -> libev: call curl_multi_socket_action(TIMEOUT) in ms. */
static int
etcd_curl_timer_cb(CURLM *multi, long ms, void *userp)
{
	struct etcd	*e = userp;

	ev_timer_stop(e->loop, &e->timer);
	if (ms >= 0) {
		ev_timer_set(&e->timer, ms / 1000., 0.);
		ev_timer_start(e->loop, &e->timer);
	}
	return (0);
}

static void
etcd_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct etcd_sock	*s = w->data;
	struct etcd		*e = s->e;
	curl_socket_t		 fd = s->fd;
	int			 running, flags = 0;

	if (revents & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (revents & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	etcd_enter(e);			/* s may be freed from here on */
	curl.multi_socket_action(e->multi, fd, flags, &running);
	etcd_drain(e);
	etcd_leave(e);
}

static void
etcd_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct etcd	*e = w->data;
	int		 running;

	etcd_enter(e);
	curl.multi_socket_action(e->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	etcd_drain(e);
	etcd_leave(e);
}

/*
 * After libcurl ran: parse what watches received, then handle finished
 * transfers (etcd_leave restarts the watches that asked for it).  Runs
 * user callbacks, so every step re-checks e->dying.
 */
static void
etcd_drain(struct etcd *e)
{
	struct etcd_watch	*w;
	struct etcd_xfer	*x;
	CURLMsg			*m;
	CURL			*easy;
	CURLcode		 code;
	int			 left;

	for (;;) {
		TAILQ_FOREACH(w, &e->watches, entry)
			if (w->data)
				break;
		if (w == NULL || e->dying)
			break;
		w->data = false;
		etcd_watch_parse(w);
	}
	while (!e->dying &&
	    (m = curl.multi_info_read(e->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		easy = m->easy_handle;	/* m is invalid after the next call */
		code = m->data.result;
		x = NULL;
		curl.easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
		assert(x != NULL && x->easy == easy);
		if (x->kind == ETCD_KIND_REQ)
			etcd_req_done((struct etcd_req *)x, code);
		else
			etcd_watch_mark((struct etcd_watch *)x, x->toobig ?
			    "answer too big" : code != CURLE_OK ? x->err :
			    "the stream ended");
	}
}

static size_t
etcd_write_cb(char *p, size_t size, size_t n, void *arg)
{
	struct etcd_xfer	*x = arg;
	struct etcd_buf		*b = &x->body;
	size_t			 len = size * n;

	if (len > x->e->max_body - b->len) {
		x->toobig = true;
		return (0);			/* aborts the transfer */
	}
	if (b->len + len + 1 > b->cap) {
		b->cap = b->cap * 2 > b->len + len + 1 ? b->cap * 2 :
		    b->len + len + 1;
		b->p = xreallocarray(b->p, 1, b->cap);
	}
	memcpy(b->p + b->len, p, len);
	b->len += len;
	b->p[b->len] = '\0';
	if (x->kind == ETCD_KIND_WATCH)
		((struct etcd_watch *)x)->data = true;
	return (len);
}

static int
etcd_xfer_init(struct etcd *e, struct etcd_xfer *x, enum etcd_kind kind)
{
	x->kind = kind;
	x->e = e;
	if ((x->easy = curl.easy_init()) == NULL)
		return (-1);
	curl.easy_setopt(x->easy, CURLOPT_PRIVATE, x);
	curl.easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, etcd_write_cb);
	curl.easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
	curl.easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->err);
	curl.easy_setopt(x->easy, CURLOPT_HTTPHEADER, e->headers);
	curl.easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
	curl.easy_setopt(x->easy, CURLOPT_TCP_NODELAY, 1L);
	/* etcd is reached directly, never through $http_proxy. */
	curl.easy_setopt(x->easy, CURLOPT_NOPROXY, "*");
	curl.easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl.easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)e->attempt_ms);
	return (0);
}

/* Take the transfer out of libcurl (outside any libcurl callback). */
static void
etcd_xfer_stop(struct etcd_xfer *x)
{
	if (x->active) {
		curl.multi_remove_handle(x->e->multi, x->easy);
		x->active = false;
	}
}

/* POST body to the current endpoint's path; timeout_ms 0: none. */
static int
etcd_xfer_start(struct etcd_xfer *x, const char *path, const char *body,
    long timeout_ms)
{
	struct etcd	*e = x->e;
	char		*url;
	int		 rc;

	etcd_xfer_stop(x);
	x->ep = e->cur;
	x->body.len = 0;
	x->toobig = false;
	x->err[0] = '\0';
	xasprintf(&url, "%s%s", e->eps[x->ep], path);
	curl.easy_setopt(x->easy, CURLOPT_URL, url);	/* libcurl copies */
	free(url);
	curl.easy_setopt(x->easy, CURLOPT_POSTFIELDS, body);
	curl.easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl.easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
	rc = curl.multi_add_handle(e->multi, x->easy) == CURLM_OK ? 0 : -1;
	x->active = rc == 0;
	return (rc);
}

/* Requests. */

static struct etcd_req *
etcd_req_new(struct etcd *e, const char *path, json_t *body, int timeout_ms,
    etcd_cb *cb, void *arg)
{
	struct etcd_req	*r;

	assert(!e->dying && timeout_ms > 0 && cb != NULL);
	r = xcalloc(1, sizeof *r);
	r->path = path;
	r->post = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	r->cb = cb;
	r->arg = arg;
	r->deadline = etcd_now_ms() + timeout_ms;
	ev_init(&r->retry, etcd_req_retry_cb);
	r->retry.data = r;
	TAILQ_INSERT_TAIL(&e->reqs, r, entry);
	if (r->post == NULL || etcd_xfer_init(e, &r->x, ETCD_KIND_REQ) == -1) {
		r->why = xstrdup("cannot set up the request");
		r->deadline = 0;
	}
	/* The first attempt starts from the loop: no result is synchronous. */
	ev_timer_set(&r->retry, 0., 0.);
	ev_timer_start(e->loop, &r->retry);
	return (r);
}

static void
etcd_req_attempt(struct etcd_req *r)
{
	struct etcd	*e = r->x.e;
	int64_t		 left = r->deadline - etcd_now_ms();
	long		 ms;

	if (left <= 0 || r->x.easy == NULL) {
		etcd_req_fail(r, ETCD_UNAVAILABLE, NULL);
		return;
	}
	ms = left < e->attempt_ms ? (long)left : e->attempt_ms;
	r->tries++;
	if (etcd_xfer_start(&r->x, r->path, r->post, ms) == -1)
		etcd_req_failed(r, "libcurl refused the transfer", false);
}

static void
etcd_req_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct etcd_req	*r = w->data;
	struct etcd	*e = r->x.e;

	etcd_enter(e);
	etcd_req_attempt(r);
	etcd_leave(e);
}

/*
 * One attempt failed (why): rotate when the endpoint is to blame, then
 * retry after a pause once every endpoint failed in a row, or give up
 * with ETCD_UNAVAILABLE at the deadline.
 */
static void
etcd_req_failed(struct etcd_req *r, const char *why, bool rotate)
{
	struct etcd	*e = r->x.e;
	int64_t		 left;
	double		 pause = 0.;

	free(r->why);
	xasprintf(&r->why, "%s: %s", e->eps[r->x.ep], why);
	etcd_xfer_stop(&r->x);
	if (rotate)
		etcd_rotate(e, r->x.ep);
	left = r->deadline - etcd_now_ms();
	if (left <= 0) {
		etcd_req_fail(r, ETCD_UNAVAILABLE, NULL);
		return;
	}
	if (r->tries % e->neps == 0)
		pause = (left < ETCD_ROUND_PAUSE_MS ? left :
		    ETCD_ROUND_PAUSE_MS) / 1000.;
	ev_timer_set(&r->retry, pause, 0.);
	ev_timer_start(e->loop, &r->retry);
}

static void
etcd_req_done(struct etcd_req *r, CURLcode code)
{
	struct etcd_answer	 a;
	json_t			*body;
	const char		*msg;
	char			*why = NULL, buf[64];
	long			 http = 0;
	int			 grpc;

	etcd_xfer_stop(&r->x);
	if (r->x.toobig) {
		etcd_req_fail(r, ETCD_PROTOCOL, "answer too big");
		return;
	}
	if (code != CURLE_OK) {
		etcd_req_failed(r, r->x.err[0] != '\0' ? r->x.err :
		    curl.easy_strerror(code), true);
		return;
	}
	curl.easy_getinfo(r->x.easy, CURLINFO_RESPONSE_CODE, &http);
	body = json_loadb(r->x.body.p != NULL ? r->x.body.p : "",
	    r->x.body.len, 0, NULL);
	if (body == NULL || !json_is_object(body)) {
		snprintf(buf, sizeof buf, "HTTP %ld, not an etcd answer", http);
		json_decref(body);
		etcd_req_failed(r, buf, true);
		return;
	}
	if (etcd_grpc_error(body, &grpc, &msg) == 0 || http != 200) {
		if (http != 200 && msg == NULL) {
			snprintf(buf, sizeof buf, "HTTP %ld", http);
			msg = buf;
		}
		if (grpc == GRPC_NOT_FOUND)
			etcd_req_fail(r, ETCD_NOT_FOUND, msg);
		else if (grpc == GRPC_OUT_OF_RANGE)
			etcd_req_fail(r, ETCD_COMPACTED, msg);
		else if (grpc == GRPC_UNAVAILABLE ||
		    grpc == GRPC_DEADLINE_EXCEEDED ||
		    grpc == GRPC_RESOURCE_EXHAUSTED || http >= 500 ||
		    grpc == -1)
			etcd_req_failed(r, msg, true);
		else
			etcd_req_fail(r, ETCD_ERROR, msg);
		json_decref(body);
		return;
	}
	memset(&a, 0, sizeof a);
	if (etcd_answer_parse(body, &a, &why) == -1) {
		etcd_answer_free(&a);
		json_decref(body);
		etcd_req_fail(r, ETCD_PROTOCOL, why);
		free(why);
		return;
	}
	json_decref(body);
	etcd_req_deliver(r, &a);
	etcd_answer_free(&a);
}

/*
 * The error in an answer, if any: {"error": "...", "code": N, "message"}
 * (unary) or {"error": {"grpc_code": N, "message": ...}} (streams).  0 and
 * *code (-1 when none is given) / *msg (borrowed) when there is one.
 */
static int
etcd_grpc_error(json_t *body, int *code, const char **msg)
{
	json_t	*err = json_object_get(body, "error"), *c, *m;

	*code = -1;
	*msg = NULL;
	if (json_is_object(err)) {
		c = json_object_get(err, "grpc_code");
		m = json_object_get(err, "message");
	} else if (json_is_string(err) && json_string_length(err) > 0) {
		c = json_object_get(body, "code");
		m = json_object_get(body, "message");
		if (!json_is_string(m))
			m = err;
	} else
		return (-1);
	if (json_is_integer(c))
		*code = (int)json_integer_value(c);
	*msg = json_is_string(m) ? json_string_value(m) : "etcd error";
	return (0);
}

static void
etcd_req_fail(struct etcd_req *r, enum etcd_status st, const char *msg)
{
	struct etcd_answer	a;
	char			*m = NULL;

	memset(&a, 0, sizeof a);
	a.r.status = st;
	if (st == ETCD_UNAVAILABLE) {
		xasprintf(&m, "etcd unavailable: no endpoint answered in time "
		    "(%u tries; last: %s)", r->tries,
		    r->why != NULL ? r->why : "none");
		a.r.message = m;
	} else
		a.r.message = msg != NULL ? msg : "etcd error";
	etcd_req_deliver(r, &a);
	free(m);
}

/* The one place a request's callback runs; the request goes after it. */
static void
etcd_req_deliver(struct etcd_req *r, struct etcd_answer *a)
{
	struct etcd	*e = r->x.e;

	etcd_xfer_stop(&r->x);
	ev_timer_stop(e->loop, &r->retry);
	TAILQ_REMOVE(&e->reqs, r, entry);
	TAILQ_INSERT_TAIL(&e->dead_reqs, r, entry);
	a->r.endpoint = e->eps[r->x.ep];
	a->r.kvs = a->kvs;
	a->r.nkvs = a->nkvs;
	r->flags |= ETCD_REQ_INCB;
	if (!(r->flags & ETCD_REQ_DEAD)) {
		r->flags |= ETCD_REQ_DEAD;
		etcd_enter(e);
		r->cb(&a->r, r->arg);
		etcd_leave(e);			/* may free r and e */
	}
}

void
etcd_req_cancel(struct etcd_req *r)
{
	struct etcd	*e;

	if (r == NULL || (r->flags & ETCD_REQ_DEAD))
		return;
	e = r->x.e;
	r->flags |= ETCD_REQ_DEAD;
	etcd_xfer_stop(&r->x);
	ev_timer_stop(e->loop, &r->retry);
	TAILQ_REMOVE(&e->reqs, r, entry);
	if (e->depth > 0)
		TAILQ_INSERT_TAIL(&e->dead_reqs, r, entry);
	else
		etcd_req_destroy(r);
}

static void
etcd_req_destroy(struct etcd_req *r)
{
	if (r->x.easy != NULL)
		curl.easy_cleanup(r->x.easy);
	free(r->x.body.p);
	free(r->post);
	free(r->why);
	free(r);
}

/* Answers. */

/*
 * An int64 member: a string of digits (proto3 JSON) or a number; absent
 * or null is 0.  -1 on anything else.
 */
static int
etcd_int64(json_t *o, const char *key, int64_t *v)
{
	json_t		*j = json_object_get(o, key);
	const char	*s;
	char		*end;
	long long	 n;

	*v = 0;
	if (j == NULL || json_is_null(j))
		return (0);
	if (json_is_integer(j)) {
		*v = json_integer_value(j);
		return (0);
	}
	if (!json_is_string(j) || *(s = json_string_value(j)) == '\0')
		return (-1);
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return (-1);
	*v = n;
	return (0);
}

static int
etcd_kv_parse(json_t *o, struct etcd_kv *kv)
{
	json_t	*k = json_object_get(o, "key");
	json_t	*v = json_object_get(o, "value");

	if (!json_is_object(o) || !json_is_string(k) ||
	    (v != NULL && !json_is_string(v)))
		return (-1);
	kv->key = etcd_b64_decode(json_string_value(k), json_string_length(k),
	    &kv->keylen);
	kv->value = etcd_b64_decode(v != NULL ? json_string_value(v) : "",
	    v != NULL ? json_string_length(v) : 0, &kv->valuelen);
	if (kv->key == NULL || kv->value == NULL ||
	    etcd_int64(o, "create_revision", &kv->create_revision) == -1 ||
	    etcd_int64(o, "mod_revision", &kv->mod_revision) == -1 ||
	    etcd_int64(o, "version", &kv->version) == -1 ||
	    etcd_int64(o, "lease", &kv->lease) == -1)
		return (-1);
	return (0);
}

/* Append the kvs of array arr to a. */
static int
etcd_kvs_add(struct etcd_answer *a, json_t *arr)
{
	size_t	i;

	if (arr == NULL)
		return (0);
	if (!json_is_array(arr))
		return (-1);
	a->kvs = xreallocarray(a->kvs, a->nkvs + json_array_size(arr) + 1,
	    sizeof *a->kvs);
	for (i = 0; i < json_array_size(arr); i++) {
		memset(&a->kvs[a->nkvs], 0, sizeof a->kvs[a->nkvs]);
		a->nkvs++;
		if (etcd_kv_parse(json_array_get(arr, i),
		    &a->kvs[a->nkvs - 1]) == -1)
			return (-1);
	}
	return (0);
}

/*
 * Every result shape in one pass (omitted members read as zero): the
 * header's revision, a lease's ID and TTL, a txn's succeeded and the
 * kvs of its range responses, a range's kvs, more and count, a delete's
 * deleted.  A stream's answer is wrapped in "result".
 */
static int
etcd_answer_parse(json_t *body, struct etcd_answer *a, char **why)
{
	json_t	*res = json_object_get(body, "result"), *resp, *rr;
	size_t	 i;

	if (res == NULL)
		res = body;
	if (!json_is_object(res) ||
	    etcd_int64(json_object_get(res, "header"), "revision",
	    &a->r.revision) == -1 ||
	    etcd_int64(res, "ID", &a->r.id) == -1 ||
	    etcd_int64(res, "TTL", &a->r.ttl) == -1 ||
	    etcd_int64(res, "count", &a->r.count) == -1 ||
	    etcd_int64(res, "deleted", &a->r.deleted) == -1 ||
	    etcd_kvs_add(a, json_object_get(res, "kvs")) == -1)
		goto bad;
	a->r.succeeded = json_is_true(json_object_get(res, "succeeded"));
	a->r.more = json_is_true(json_object_get(res, "more"));
	resp = json_object_get(res, "responses");
	for (i = 0; json_is_array(resp) && i < json_array_size(resp); i++) {
		rr = json_object_get(json_array_get(resp, i), "response_range");
		if (rr != NULL && etcd_kvs_add(a, json_object_get(rr,
		    "kvs")) == -1)
			goto bad;
	}
	a->r.status = ETCD_OK;
	return (0);
bad:
	xasprintf(why, "malformed answer from etcd");
	return (-1);
}

static void
etcd_answer_free(struct etcd_answer *a)
{
	size_t	i;

	for (i = 0; i < a->nkvs; i++) {
		free(a->kvs[i].key);
		free(a->kvs[i].value);
	}
	free(a->kvs);
	a->kvs = NULL;
	a->nkvs = 0;
}

/* The request builders. */

static json_t *
etcd_bytes(const char *p, size_t len)
{
	char	*s = etcd_b64_encode(p, len);
	json_t	*j = json_string(s);

	free(s);
	return (j);
}

static json_t *
etcd_i64(int64_t v)
{
	char	buf[32];

	snprintf(buf, sizeof buf, "%" PRId64, v);
	return (json_string(buf));
}

struct etcd_req *
etcd_lease_grant(struct etcd *e, int64_t ttl_s, int timeout_ms, etcd_cb *cb,
    void *arg)
{
	return (etcd_req_new(e, "/v3/lease/grant",
	    json_pack("{s:o}", "TTL", etcd_i64(ttl_s)), timeout_ms, cb, arg));
}

struct etcd_req *
etcd_lease_keepalive(struct etcd *e, int64_t id, int timeout_ms, etcd_cb *cb,
    void *arg)
{
	return (etcd_req_new(e, "/v3/lease/keepalive",
	    json_pack("{s:o}", "ID", etcd_i64(id)), timeout_ms, cb, arg));
}

struct etcd_req *
etcd_lease_revoke(struct etcd *e, int64_t id, int timeout_ms, etcd_cb *cb,
    void *arg)
{
	return (etcd_req_new(e, "/v3/lease/revoke",
	    json_pack("{s:o}", "ID", etcd_i64(id)), timeout_ms, cb, arg));
}

struct etcd_req *
etcd_range(struct etcd *e, const struct etcd_range *rg, etcd_cb *cb, void *arg)
{
	json_t	*o;

	o = json_pack("{s:o}", "key", etcd_bytes(rg->key, rg->keylen));
	if (rg->end != NULL)
		json_object_set_new(o, "range_end",
		    etcd_bytes(rg->end, rg->endlen));
	if (rg->revision > 0)
		json_object_set_new(o, "revision", etcd_i64(rg->revision));
	if (rg->limit > 0)
		json_object_set_new(o, "limit", etcd_i64(rg->limit));
	return (etcd_req_new(e, "/v3/kv/range", o, rg->timeout_ms, cb, arg));
}

struct etcd_req *
etcd_delete(struct etcd *e, const char *key, size_t keylen, bool prefix,
    int timeout_ms, etcd_cb *cb, void *arg)
{
	json_t	*o;
	char	*end;
	size_t	 endlen;

	o = json_pack("{s:o}", "key", etcd_bytes(key, keylen));
	if (prefix) {
		end = etcd_prefix_end(key, keylen, &endlen);
		json_object_set_new(o, "range_end", etcd_bytes(end, endlen));
		free(end);
	}
	return (etcd_req_new(e, "/v3/kv/deleterange", o, timeout_ms, cb, arg));
}

struct etcd_req *
etcd_txn(struct etcd *e, const struct etcd_txn *t, etcd_cb *cb, void *arg)
{
	json_t	*op;

	if (t->op == ETCD_TXN_PUT) {
		op = json_pack("{s:{s:o, s:o}}", "request_put",
		    "key", etcd_bytes(t->key, t->keylen),
		    "value", etcd_bytes(t->value, t->valuelen));
		if (t->lease != 0)
			json_object_set_new(json_object_get(op,
			    "request_put"), "lease", etcd_i64(t->lease));
	} else
		op = json_pack("{s:{s:o}}", "request_delete_range",
		    "key", etcd_bytes(t->key, t->keylen));
	return (etcd_req_new(e, "/v3/kv/txn",
	    json_pack("{s:[{s:s, s:o, s:s, s:o}], s:[o], s:[{s:{s:o}}]}",
	    "compare", "target", "CREATE",
	    "key", etcd_bytes(t->key, t->keylen), "result", "EQUAL",
	    "create_revision", etcd_i64(t->create_revision),
	    "success", op,
	    "failure", "request_range", "key", etcd_bytes(t->key, t->keylen)),
	    t->timeout_ms, cb, arg));
}

/* Watches. */

struct etcd_watch *
etcd_watch_new(struct etcd *e, const char *key, size_t keylen, bool prefix,
    int64_t start, const struct etcd_watch_ops *ops, void *arg)
{
	struct etcd_watch	*w;

	assert(!e->dying && start > 0);
	w = xcalloc(1, sizeof *w);
	w->key = xmalloc(keylen + 1);
	memcpy(w->key, key, keylen);
	w->key[keylen] = '\0';
	w->keylen = keylen;
	if (prefix)
		w->end = etcd_prefix_end(key, keylen, &w->endlen);
	w->next = start;
	w->ops = ops;
	w->arg = arg;
	ev_init(&w->timer, etcd_watch_timer_cb);
	w->timer.data = w;
	TAILQ_INSERT_TAIL(&e->watches, w, entry);
	if (etcd_xfer_init(e, &w->x, ETCD_KIND_WATCH) == -1)
		w->x.easy = NULL;		/* retried from the timer */
	else {
		/* A dead peer must break the stream, not silence it. */
		curl.easy_setopt(w->x.easy, CURLOPT_TCP_KEEPALIVE, 1L);
		curl.easy_setopt(w->x.easy, CURLOPT_TCP_KEEPIDLE, 5L);
		curl.easy_setopt(w->x.easy, CURLOPT_TCP_KEEPINTVL, 2L);
	}
	w->x.ep = e->cur;
	/* Connect from the loop, like every other effect. */
	ev_timer_set(&w->timer, 0., 0.);
	ev_timer_start(e->loop, &w->timer);
	return (w);
}

int64_t
etcd_watch_next(const struct etcd_watch *w)
{
	return (w->next);
}

bool
etcd_watch_up(const struct etcd_watch *w)
{
	return (w->up);
}

/*
 * The timer: a reconnect when the stream is down, the deadline for
 * etcd's confirmation when it is connecting.
 */
static void
etcd_watch_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct etcd_watch	*w = t->data;
	struct etcd		*e = w->x.e;

	etcd_enter(e);
	if (w->x.active && !w->up) {
		if (w->confirm_ms < 16 * e->attempt_ms)
			w->confirm_ms *= 2;
		etcd_watch_mark(w, "etcd did not confirm the watch in time");
	}
	else if (!w->x.active)
		etcd_watch_connect(w);
	etcd_leave(e);			/* restarts it if marked */
}

static void
etcd_watch_connect(struct etcd_watch *w)
{
	struct etcd	*e = w->x.e;
	json_t		*cr;

	if (w->x.easy == NULL && etcd_xfer_init(e, &w->x, ETCD_KIND_WATCH)) {
		w->x.easy = NULL;
		etcd_watch_mark(w, "cannot set up the transfer");
		return;
	}
	cr = json_pack("{s:o, s:o}", "key", etcd_bytes(w->key, w->keylen),
	    "start_revision", etcd_i64(w->next));
	if (w->end != NULL)
		json_object_set_new(cr, "range_end",
		    etcd_bytes(w->end, w->endlen));
	free(w->post);
	cr = json_pack("{s:o}", "create_request", cr);
	w->post = json_dumps(cr, JSON_COMPACT);
	json_decref(cr);
	if (etcd_xfer_start(&w->x, "/v3/watch", w->post, 0) == -1) {
		etcd_watch_mark(w, "libcurl refused the transfer");
		return;
	}
	/* A busy etcd confirms late: each miss waits twice as long. */
	if (w->confirm_ms == 0)
		w->confirm_ms = 2 * e->attempt_ms;
	ev_timer_stop(e->loop, &w->timer);
	ev_timer_set(&w->timer, w->confirm_ms / 1000., 0.);
	ev_timer_start(e->loop, &w->timer);
}

/* Ask for a restart (done by etcd_drain or the caller, not here). */
static void
etcd_watch_mark(struct etcd_watch *w, const char *why)
{
	if (w->dead || w->restart != NULL)
		return;
	w->restart = xstrdup(why);
}

/*
 * Drop the stream, tell the owner it is down, and connect again after a
 * pause that doubles up to ETCD_WATCH_MAX_MS (reset once etcd confirms).
 */
static void
etcd_watch_restart(struct etcd_watch *w)
{
	struct etcd	*e = w->x.e;
	char		*why;
	bool		 was_up = w->up;

	/* Rotating marks watches on this endpoint: w is marked already. */
	if (w->x.active && w->x.ep == e->cur && e->neps > 1)
		etcd_rotate(e, w->x.ep);
	why = w->restart;
	w->restart = NULL;
	etcd_xfer_stop(&w->x);
	w->up = false;
	w->x.body.len = 0;
	w->backoff_ms = w->backoff_ms == 0 ? ETCD_WATCH_MIN_MS :
	    w->backoff_ms * 2 > ETCD_WATCH_MAX_MS ? ETCD_WATCH_MAX_MS :
	    w->backoff_ms * 2;
	ev_timer_stop(e->loop, &w->timer);
	ev_timer_set(&w->timer, w->backoff_ms / 1000., 0.);
	ev_timer_start(e->loop, &w->timer);
	if (was_up && w->ops->state != NULL)
		w->ops->state(w, false, why, w->arg);
	free(why);
}

/* Split the stream into lines (one JSON message each) and handle them. */
static void
etcd_watch_parse(struct etcd_watch *w)
{
	struct etcd_buf	*b = &w->x.body;
	struct etcd	*e = w->x.e;
	char		*nl;
	size_t		 off = 0, len;

	while (!w->dead && !e->dying && w->restart == NULL && off < b->len &&
	    (nl = memchr(b->p + off, '\n', b->len - off)) != NULL) {
		len = nl - (b->p + off);
		if (etcd_watch_line(w, b->p + off, len) == -1) {
			etcd_watch_mark(w, "malformed watch message");
			return;
		}
		off += len + 1;
	}
	if (w->dead || e->dying || w->restart != NULL)
		return;
	memmove(b->p, b->p + off, b->len - off);
	b->len -= off;
}

static int
etcd_watch_line(struct etcd_watch *w, const char *line, size_t len)
{
	struct etcd	*e = w->x.e;
	json_t		*msg, *res;
	const char	*why;
	int64_t		 compact;
	int		 code, rc = 0;

	if ((msg = json_loadb(line, len, 0, NULL)) == NULL)
		return (-1);
	if (etcd_grpc_error(msg, &code, &why) == 0) {
		etcd_watch_mark(w, why);
		json_decref(msg);
		return (0);
	}
	res = json_object_get(msg, "result");
	if (!json_is_object(res) ||
	    etcd_int64(res, "compact_revision", &compact) == -1) {
		json_decref(msg);
		return (-1);
	}
	if (json_is_true(json_object_get(res, "created")) && !w->up) {
		w->up = true;
		w->backoff_ms = 0;
		w->confirm_ms = 0;
		ev_timer_stop(e->loop, &w->timer);
		if (w->ops->state != NULL)
			w->ops->state(w, true, NULL, w->arg);
	}
	if (!w->dead && !e->dying && compact > 0) {
		/* Canceled by etcd: the history we asked for is gone. */
		w->dead = true;
		w->up = false;
		etcd_xfer_stop(&w->x);
		ev_timer_stop(e->loop, &w->timer);
		if (w->ops->compacted != NULL)
			w->ops->compacted(w, compact, w->arg);
	} else if (!w->dead && !e->dying &&
	    json_is_true(json_object_get(res, "canceled")))
		etcd_watch_mark(w, "etcd canceled the watch");
	else if (!w->dead && !e->dying)
		rc = etcd_watch_events(w, json_object_get(res, "events"));
	json_decref(msg);
	return (rc);
}

static int
etcd_watch_events(struct etcd_watch *w, json_t *arr)
{
	struct etcd_answer	 a;
	struct etcd_event	*ev;
	json_t			*t;
	size_t			 i, n;

	if (arr == NULL || (n = json_array_size(arr)) == 0)
		return (json_is_array(arr) || arr == NULL ? 0 : -1);
	memset(&a, 0, sizeof a);
	ev = xcalloc(n, sizeof *ev);
	a.kvs = xcalloc(n, sizeof *a.kvs);
	for (i = 0; i < n; i++) {
		a.nkvs++;
		if (etcd_kv_parse(json_object_get(json_array_get(arr, i), "kv"),
		    &a.kvs[i]) == -1)
			goto bad;
		t = json_object_get(json_array_get(arr, i), "type");
		ev[i].deleted = json_is_string(t) &&
		    strcmp(json_string_value(t), "DELETE") == 0;
		ev[i].kv = &a.kvs[i];
	}
	if (a.kvs[n - 1].mod_revision < w->next - 1)
		goto bad;			/* history went backwards */
	w->next = a.kvs[n - 1].mod_revision + 1;
	if (w->ops->events != NULL)
		w->ops->events(w, ev, n, w->arg);
	free(ev);
	etcd_answer_free(&a);
	return (0);
bad:
	free(ev);
	etcd_answer_free(&a);
	return (-1);
}

static void
etcd_watch_unlink(struct etcd_watch *w)
{
	struct etcd	*e = w->x.e;

	w->dead = true;
	etcd_xfer_stop(&w->x);
	ev_timer_stop(e->loop, &w->timer);
	TAILQ_REMOVE(&e->watches, w, entry);
}

void
etcd_watch_free(struct etcd_watch *w)
{
	struct etcd	*e;

	if (w == NULL)
		return;
	e = w->x.e;
	etcd_watch_unlink(w);
	if (e->depth > 0)
		TAILQ_INSERT_TAIL(&e->dead_watches, w, entry);
	else
		etcd_watch_destroy(w);
}

static void
etcd_watch_destroy(struct etcd_watch *w)
{
	if (w->x.easy != NULL)
		curl.easy_cleanup(w->x.easy);
	free(w->x.body.p);
	free(w->key);
	free(w->end);
	free(w->post);
	free(w->restart);
	free(w);
}
