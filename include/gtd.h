/* SPDX-License-Identifier: MIT */
/*
 * gtd.h: libgtd, the client library of the gtd process supervisor
 * (libgtd(3), gtd-protocol(7)).  Reads (gtd_find, gtd_info, gtd_getattr*,
 * gtd_foreach, gtd_attrs) come from the shared-memory mirror gtd
 * publishes next to its socket, without a system call and without
 * waiting for gtd; when the mirror cannot answer (none, no permission,
 * over its size cap) they ask the socket and give the same answer.
 * Everything else goes through the socket (gtd_call, or gtd_send and
 * gtd_recv to pipeline).  Reads are thread-safe on one handle; the
 * socket calls serialise on it.  Link with `pkg-config --libs gtd`.
 */
#ifndef GTD_H
#define GTD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GTD_API_VERSION		1

struct gtd_handle;			/* opaque */

/* Results: GTD_OK (0) or one of these (negative). */
#define GTD_OK			0
#define GTD_ENOTFOUND		(-1)	/* no child by that name */
#define GTD_ENOTRUNNING		(-2)	/* the row is in another state */
#define GTD_ENOATTR		(-3)	/* the child has no such attr */
#define GTD_ETYPE		(-4)	/* the attr has another type */
#define GTD_ERANGE		(-5)	/* the buffer is too small */
#define GTD_ESYS		(-6)	/* a system call failed: errno */
#define GTD_EPROTO		(-7)	/* a reply or the mirror is malformed */
#define GTD_EGTD		(-8)	/* gtd refused: see gtd_errmsg() */
#define GTD_EINVAL		(-9)	/* a bad argument */
#define GTD_EBUSY		(-10)	/* gtd_call with replies unread */

enum gtd_type {
	GTD_INT = 1,		/* i */
	GTD_DOUBLE = 2,		/* d */
	GTD_STRING = 3,		/* s, len: UTF-8 */
	GTD_JSON = 4		/* s, len: an array, object, bool or null */
};

enum gtd_state {
	GTD_STATE_OTHER = 0,	/* one this version does not know */
	GTD_STARTING,
	GTD_RUNNING,
	GTD_STOPPING,
	GTD_TERMINATING,
	GTD_RESTARTING,
	GTD_STOPPED
};

/* A row of the registry. */
struct gtd_child {
	pid_t		 pid;		/* 0: no process */
	enum gtd_state	 state;
	char		 state_name[16];	/* "running"... */
	unsigned	 restart_count;
	unsigned	 nattrs;
};

/* An attr value.  s is NUL-terminated; len does not count the NUL. */
struct gtd_value {
	enum gtd_type	 type;
	int64_t		 i;
	double		 d;
	const char	*s;
	size_t		 len;
};

/*
 * Open a handle on the gtd listening at path, or, when path is NULL or
 * empty, at $GTD_SOCKET, else at the default socket of the zone $GTD_ZONE
 * (unset: "default") as gtctl(1) resolves a zone's, that is
 * /run/gtd/ZONE.sock for root, $XDG_RUNTIME_DIR/gtd/ZONE.sock for other
 * users (or /run/gtd/ZONE.sock when only that one is a socket, or when
 * XDG_RUNTIME_DIR is not an absolute path).  The mirror is the file next
 * to the socket.  Nothing is connected or mapped yet: each happens at
 * first use.  NULL with errno (ENOMEM, ENAMETOOLONG) on failure.
 */
struct gtd_handle	*gtd_open(const char *path);
/* The socket path h uses (borrowed until gtd_close). */
const char		*gtd_path(struct gtd_handle *h);
/* Unmap, disconnect, free.  NULL is fine.  No call may be running. */
void			 gtd_close(struct gtd_handle *);

/* A constant text for a result code. */
const char	*gtd_strerror(int result);
/*
 * What went wrong last in this thread's calls on h, in words: gtd's
 * message for GTD_EGTD, the path and the system error for GTD_ESYS.
 * Borrowed until this thread's next call on h.
 */
const char	*gtd_errmsg(struct gtd_handle *h);

/*
 * The row of a running child: GTD_OK and *c filled.  A row in another
 * state is GTD_ENOTRUNNING, with *c filled all the same; no row is
 * GTD_ENOTFOUND.  (The protocol's `find` answers not_found for both.)
 */
int	gtd_find(struct gtd_handle *h, const char *name, struct gtd_child *c);
/* The row of name in any state: GTD_OK or GTD_ENOTFOUND. */
int	gtd_info(struct gtd_handle *h, const char *name, struct gtd_child *c);

/*
 * One attr, typed.  Strings (GTD_STRING and GTD_JSON) are copied into
 * buf with a NUL; when they do not fit, the result is GTD_ERANGE with
 * v->len the size needed less one.  GTD_ENOATTR: no such key;
 * GTD_ENOTRUNNING: the child is stopped or restarting (it has no attrs);
 * GTD_ENOTFOUND: no such child.
 */
int	gtd_getattr(struct gtd_handle *h, const char *name, const char *key,
	    struct gtd_value *v, char *buf, size_t size);
/* The same for one type; another type is GTD_ETYPE. */
int	gtd_getattr_int(struct gtd_handle *h, const char *name,
	    const char *key, int64_t *i);
int	gtd_getattr_double(struct gtd_handle *h, const char *name,
	    const char *key, double *d);
int	gtd_getattr_string(struct gtd_handle *h, const char *name,
	    const char *key, char *buf, size_t size, size_t *len);
/* Any type, as JSON text (a string quoted and escaped). */
int	gtd_getattr_json(struct gtd_handle *h, const char *name,
	    const char *key, char *buf, size_t size, size_t *len);

/*
 * Call cb for every row (in no particular order), each as it was at one
 * moment during the call; a row that exists throughout is seen exactly
 * once.  cb returns 0 to go on; anything else stops the walk and is
 * returned.  The name and *c are borrowed for the callback.
 */
typedef int	gtd_child_cb(const char *name, const struct gtd_child *c,
		    void *arg);
int	gtd_foreach(struct gtd_handle *h, gtd_child_cb *cb, void *arg);
/*
 * Call cb for every attr of name, in key order, all as of one moment.
 * Results as gtd_getattr; cb's non-zero stops the walk and is returned.
 */
typedef int	gtd_attr_cb(const char *key, const struct gtd_value *v,
		    void *arg);
int	gtd_attrs(struct gtd_handle *h, const char *name, gtd_attr_cb *cb,
	    void *arg);

/*
 * The socket.  request is one JSON object (a trailing newline is
 * optional; one inside is GTD_EINVAL).  gtd_call sends it and returns
 * the reply line in *reply (malloc'd, no newline; the caller frees it),
 * whatever "ok" says.  gtd_send queues a request and gtd_recv returns the
 * replies in order, so many can be in flight; gtd_call with replies
 * unread is GTD_EBUSY.  The connection is made at first use and again
 * after an error.  Requests are never retried.
 */
int	gtd_call(struct gtd_handle *h, const char *request, char **reply);
int	gtd_send(struct gtd_handle *h, const char *request);
int	gtd_recv(struct gtd_handle *h, char **reply);
/*
 * How long a socket call may wait for gtd (ms); -1 (the default):
 * forever.  A wait that runs out is GTD_ESYS with errno ETIMEDOUT, and
 * the connection is dropped (the replies would be out of step).  0 does
 * not wait: gtd_recv takes a reply that has arrived, or is GTD_ESYS with
 * errno EAGAIN and the connection kept.  gtd closing the connection is
 * GTD_ESYS with errno ECONNRESET.
 */
void	gtd_set_timeout(struct gtd_handle *h, int ms);
/*
 * Connect the socket of gtd_call and gtd_send now, rather than at the
 * first request: GTD_OK, or GTD_ESYS with gtd_errmsg() naming the path
 * and the cause.  Every connection of a handle checks whom it reached:
 * a server that runs as a user other than root, the caller's effective
 * user, or the one $GTD_SOCKET_OWNER names (a name or a number) is
 * refused with EPERM, as gtctl(1) refuses it.  A send that fails because
 * gtd closed the connection leaves what gtd said before for gtd_recv.
 */
int	gtd_connect(struct gtd_handle *h);
/*
 * That connection's descriptor, for poll(2) over many handles, or -1
 * when not connected; *events (unless events is NULL) gets what to poll
 * for: POLLIN, and POLLOUT while requests wait to be written.  When poll
 * reports either, gtd_recv with a timeout of 0 does the work.
 * Borrowed: never read, write or close it.
 */
int	gtd_fd(struct gtd_handle *h, short *events);

/* Where reads come from, for diagnostics and tests. */
struct gtd_mirror_stat {
	int		 mapped;	/* a mirror is mapped */
	uint64_t	 generation;	/* its file's number */
	size_t		 size;		/* its bytes */
	uint64_t	 remaps;	/* files mapped so far */
	uint64_t	 fallbacks;	/* reads the socket answered */
	uint64_t	 retries;	/* attempts repeated (a busy bucket) */
};
void	gtd_mirror_stat(struct gtd_handle *h, struct gtd_mirror_stat *st);

#ifdef __cplusplus
}
#endif

#endif /* GTD_H */
