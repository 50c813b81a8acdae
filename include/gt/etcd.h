/* SPDX-License-Identifier: MIT */
/*
 * etcd: an asynchronous client of etcd's v3 JSON gateway (etcd 3.4:
 * POST /v3/lease/grant, /v3/lease/keepalive, /v3/lease/revoke,
 * /v3/kv/range, /v3/kv/deleterange, /v3/kv/txn and the /v3/watch
 * stream) on gtd's libev loop, through libcurl's multi-socket API.
 *
 * Never blocks and starts no thread of its own: every socket libcurl
 * wants becomes an ev_io, its timer an ev_timer.  (libcurl resolves a
 * host name in a short-lived thread of its own; endpoints given as IP
 * addresses resolve nothing.)  Every callback is delivered from the
 * loop, never from inside the call that started the request.
 * Library-like: never logs; a failure is a result.
 *
 * Endpoints rotate.  A request goes to the current endpoint; a transport
 * failure, an attempt that outlives its attempt time, or an answer that
 * means "ask another member" (gRPC Unavailable, DeadlineExceeded,
 * ResourceExhausted, HTTP 5xx, an answer that is not etcd's) makes the
 * next endpoint current and retries the request there, until the
 * request's own deadline; then it fails with ETCD_UNAVAILABLE.  A retry
 * of a request whose answer was lost may find its own effect (a txn that
 * committed): the callers write requests for which that is harmless and
 * recognise their own writes (cluster.c compares the lease).
 *
 * Wire format (proto3 JSON): int64 fields are strings, bytes fields are
 * base64, a field equal to its zero value is omitted.  All three are
 * handled here: results carry plain integers and raw bytes, and an
 * omitted field reads as 0, false or empty.
 *
 * Ownership: struct etcd owns every request and watch.  The pointer a
 * start function returns is borrowed: valid until the request's callback
 * returns or etcd_req_cancel(); after the callback it is gone, so the
 * caller forgets it there.  A result and everything it points to are
 * borrowed until the callback returns.
 */
#ifndef GT_ETCD_H
#define GT_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ev_loop;
struct etcd;
struct etcd_req;
struct etcd_watch;

#define ETCD_ATTEMPT_MS		1000		/* default attempt time */
#define ETCD_MAX_BODY		(64 << 20)	/* default answer bound */
#define ETCD_MAX_ENDPOINTS	16

struct etcd_opts {
	struct ev_loop		*loop;
	const char *const	*endpoints;	/* "http://host:port", copied */
	size_t			 nendpoints;	/* 1..ETCD_MAX_ENDPOINTS */
	int			 attempt_ms;	/* one try; 0: default */
	size_t			 max_body;	/* largest answer; 0: default */
	/*
	 * Called (may be NULL) when a failure makes the client leave
	 * endpoint failed; it must not free this client.
	 */
	void			(*rotated)(const char *failed, void *arg);
	void			*rotated_arg;
};

enum etcd_status {
	ETCD_OK,
	ETCD_UNAVAILABLE,	/* no endpoint answered before the deadline */
	ETCD_NOT_FOUND,		/* etcd said NotFound (e.g. no such lease) */
	ETCD_COMPACTED,		/* the revision asked for is compacted */
	ETCD_ERROR,		/* etcd refused the request (message: why) */
	ETCD_PROTOCOL		/* the answer was not what etcd sends */
};

/* One key-value (decoded: key and value are raw bytes, NUL-terminated). */
struct etcd_kv {
	char	*key;
	size_t	 keylen;
	char	*value;
	size_t	 valuelen;
	int64_t	 create_revision;
	int64_t	 mod_revision;
	int64_t	 version;
	int64_t	 lease;
};

struct etcd_result {
	enum etcd_status	 status;
	const char		*message;	/* why, unless ETCD_OK */
	const char		*endpoint;	/* the last endpoint asked */
	int64_t			 revision;	/* header.revision */
	int64_t			 id;		/* lease grant/keepalive: ID */
	int64_t			 ttl;		/* lease: TTL in s; 0 = gone */
	bool			 succeeded;	/* txn: the compare held */
	const struct etcd_kv	*kvs;		/* range, txn failure's range */
	size_t			 nkvs;
	bool			 more;		/* range: limit cut it short */
	int64_t			 count;		/* range: keys in the range */
	int64_t			 deleted;	/* delete: keys deleted */
};

typedef void	etcd_cb(const struct etcd_result *, void *arg);

/*
 * A compare-and-write on one key: if the key's create_revision equals
 * create_revision (0: the key does not exist), put value (attached to
 * lease, 0 = none) or delete the key; otherwise read the key (the
 * result's kvs: its current value, if any).
 */
enum etcd_txn_op { ETCD_TXN_PUT, ETCD_TXN_DELETE };

struct etcd_txn {
	const char		*key;
	size_t			 keylen;
	int64_t			 create_revision;
	enum etcd_txn_op	 op;
	const char		*value;		/* ETCD_TXN_PUT */
	size_t			 valuelen;
	int64_t			 lease;
	int			 timeout_ms;	/* the whole request */
};

/*
 * A range read: [key, end) or only key when end is NULL.  revision 0 is
 * the latest; limit 0 is none.
 */
struct etcd_range {
	const char		*key;
	size_t			 keylen;
	const char		*end;
	size_t			 endlen;
	int64_t			 revision;
	int64_t			 limit;
	int			 timeout_ms;
};

/* A watch event: a put, or a delete (kv: only key and mod_revision). */
struct etcd_event {
	bool			 deleted;
	const struct etcd_kv	*kv;
};

/*
 * What a watch reports.  Every member may be NULL.  A callback may free
 * the watch (etcd_watch_free) and may start or cancel requests.
 */
struct etcd_watch_ops {
	/* Events in revision order (one answer of etcd's: whole revisions). */
	void	(*events)(struct etcd_watch *, const struct etcd_event *,
		    size_t n, void *arg);
	/*
	 * The next revision was compacted away: nothing more comes on this
	 * watch.  Re-read the range (at least compact_revision) and start a
	 * new watch after it.
	 */
	void	(*compacted)(struct etcd_watch *, int64_t compact_revision,
		    void *arg);
	/*
	 * up: the stream is established (etcd confirmed the watch); !up:
	 * it broke (why) and is being re-established on the current
	 * endpoint, from the revision after the last event delivered.
	 */
	void	(*state)(struct etcd_watch *, bool up, const char *why,
		    void *arg);
};

/*
 * A client on opts->loop.  Copies the endpoints (each must start with
 * "http://" or "https://").  NULL and *cause (xmalloc'd) on bad options
 * or when libcurl cannot be loaded (dlopen of libcurl.so.4) or set up.
 */
struct etcd	*etcd_new(const struct etcd_opts *, char **cause);
/*
 * Cancel every request and watch (no callback after this) and free the
 * client.  Safe inside any of its callbacks (the memory goes once the
 * callback returns).  NULL is fine.
 */
void		 etcd_free(struct etcd *);

/*
 * Another client found endpoint (as given, or as a result's endpoint)
 * failing: if it is the current one, move on, and restart a watch that
 * uses it (a stopped member keeps a watch's TCP connection open).  May
 * run watch callbacks (state).
 */
void		 etcd_endpoint_failed(struct etcd *, const char *endpoint);
/* The current endpoint (borrowed) and how many times it changed. */
const char	*etcd_endpoint(const struct etcd *);
uint64_t	 etcd_rotations(const struct etcd *);

/* Requests.  timeout_ms bounds the whole request, retries included. */
struct etcd_req	*etcd_lease_grant(struct etcd *, int64_t ttl_s, int timeout_ms,
		    etcd_cb *, void *arg);
struct etcd_req	*etcd_lease_keepalive(struct etcd *, int64_t id,
		    int timeout_ms, etcd_cb *, void *arg);
/* A lease that is already gone gives ETCD_NOT_FOUND. */
struct etcd_req	*etcd_lease_revoke(struct etcd *, int64_t id, int timeout_ms,
		    etcd_cb *, void *arg);
struct etcd_req	*etcd_range(struct etcd *, const struct etcd_range *,
		    etcd_cb *, void *arg);
/* Delete key, or every key with prefix key when prefix is true. */
struct etcd_req	*etcd_delete(struct etcd *, const char *key, size_t keylen,
		    bool prefix, int timeout_ms, etcd_cb *, void *arg);
struct etcd_req	*etcd_txn(struct etcd *, const struct etcd_txn *, etcd_cb *,
		    void *arg);
/*
 * Forget a request: its callback is not called.  Inside that request's
 * own callback it does nothing.  NULL is fine.
 */
void		 etcd_req_cancel(struct etcd_req *);

/*
 * Watch key (every key with prefix key when prefix is true) from
 * start_revision (> 0) on.  Reconnects by itself across endpoints,
 * resuming after the last event delivered, until freed or compacted.
 * The returned watch is owned by the caller (etcd_watch_free), and by
 * the client when etcd_free comes first (then the pointer is stale).
 */
struct etcd_watch *etcd_watch_new(struct etcd *, const char *key, size_t keylen,
		    bool prefix, int64_t start_revision,
		    const struct etcd_watch_ops *, void *arg);
/* Stop and free; safe inside the watch's own callbacks.  NULL is fine. */
void		 etcd_watch_free(struct etcd_watch *);
/* The revision the watch asks for next (after the last event). */
int64_t		 etcd_watch_next(const struct etcd_watch *);
bool		 etcd_watch_up(const struct etcd_watch *);

/*
 * Helpers, pure.  etcd_prefix_end: the end of the range of keys that
 * start with prefix (prefix with its last byte below 0xff incremented;
 * "\0" when every byte is 0xff); xmalloc'd, *endlen its length.
 * Base64 (RFC 4648, with padding): encode returns an xmalloc'd,
 * NUL-terminated string; decode returns xmalloc'd bytes (NUL-terminated,
 * *outlen without the NUL) or NULL on bad input.
 */
char		*etcd_prefix_end(const char *prefix, size_t len,
		    size_t *endlen);
char		*etcd_b64_encode(const void *, size_t);
char		*etcd_b64_decode(const char *, size_t, size_t *outlen);

#endif /* GT_ETCD_H */
