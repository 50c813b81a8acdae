/* SPDX-License-Identifier: MIT */
/*
 * libgtd: the handle, the mirror's mapping, reads that fall back to the
 * socket, and the socket calls (gtd.h, libgtd(3)).
 *
 * The mapping.  A handle reserves LG_RESERVE bytes of address space once
 * (readable zero pages) and maps the mirror file over its start with
 * MAP_FIXED; a newer file is mapped over the old one at the same address
 * and anything past the new file's end is zero pages again.  So every
 * address a reader computes from any file it saw, once checked against
 * that file's size, is readable memory, even while another thread
 * remaps: nothing is ever unmapped under a reader, and old mappings are
 * not leaked either.  What a reader learns from a mapping it validates
 * with the handle's own seqlock, gen (odd while a remap runs, under mu):
 * load gen (acquire), copy the view's fields, read, acquire fence, load
 * gen again.  The remapper makes gen odd before mmap(2) and even after
 * it set the fields; the kernel's TLB shootdown for MAP_FIXED interrupts
 * every thread of the process that might still see the old pages, so a
 * reader that saw new pages sees the odd gen.
 *
 * Reads never write to the mapping and, on the fast path, not to the
 * handle either (only the counters of retries and fallbacks, which are
 * slow paths), so threads scale.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	1	/* asprintf, MAP_NORESERVE */
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "gtd.h"
#include "src/lib/json.h"
#include "src/lib/mirror.h"
#include "src/lib/sock.h"

#define LG_API		__attribute__((visibility("default")))
#define LG_RESERVE	(sizeof(void *) >= 8 ? (size_t)SHM_MAX_BYTES : \
			    (size_t)64 << 20)
#define LG_SPIN		64		/* retries before sched_yield */
#define LG_TRIES	20000		/* then the socket answers */
#define LG_REOPEN_MS	1000		/* no mirror: look again after */
#define LG_READ_MS	10000		/* a read through the socket */

struct gtd_handle {
	char			*sock;		/* owned */
	char			*mpath;		/* owned: sock SHM_SUFFIX */
	pthread_mutex_t		 mu;		/* remaps */
	pthread_mutex_t		 rmu;		/* rd */
	pthread_mutex_t		 umu;		/* user */
	_Atomic uint32_t	 gen;		/* odd: a remap is running */
	uint8_t			*res;		/* LG_RESERVE bytes, or NULL */
	_Atomic size_t		 vsize;		/* 0: no file mapped */
	_Atomic uint32_t	 vmask, vbuckets, vheap, vseed;
	_Atomic int64_t		 next_open;	/* mono ms */
	size_t			 mapped;	/* file bytes at res (mu) */
	uint64_t		 vgen;		/* its generation (mu) */
	_Atomic uint64_t	 remaps, fallbacks, retries;
	_Atomic int		 timeout;	/* ms, -1: none */
	struct lsock		 rd;		/* reads the mirror cannot do */
	struct lsock		 user;		/* gtd_call, gtd_send/recv */
};

static _Thread_local char	lg_err[512];

static const char *const lg_states[] = {
	[GTD_STARTING] = "starting", [GTD_RUNNING] = "running",
	[GTD_STOPPING] = "stopping", [GTD_TERMINATING] = "terminating",
	[GTD_RESTARTING] = "restarting", [GTD_STOPPED] = "stopped"
};

static int	lg_fail(int, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static int	lg_connfail(struct gtd_handle *, const struct lsock *);

/* Record why, return rc. */
static int
lg_fail(int rc, const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	vsnprintf(lg_err, sizeof lg_err, fmt, ap);
	va_end(ap);
	errno = saved;
	return (rc);
}

static int
lg_sysfail(struct gtd_handle *h, const char *what)
{
	return (lg_fail(GTD_ESYS, "%s: %s", what, strerror(errno)));
}

LG_API const char *
gtd_strerror(int rc)
{
	switch (rc) {
	case GTD_OK:
		return ("success");
	case GTD_ENOTFOUND:
		return ("no such child");
	case GTD_ENOTRUNNING:
		return ("the child is not running");
	case GTD_ENOATTR:
		return ("no such attr");
	case GTD_ETYPE:
		return ("the attr has another type");
	case GTD_ERANGE:
		return ("the buffer is too small");
	case GTD_ESYS:
		return ("a system call failed");
	case GTD_EPROTO:
		return ("malformed reply or mirror");
	case GTD_EGTD:
		return ("gtd refused the request");
	case GTD_EINVAL:
		return ("invalid argument");
	case GTD_EBUSY:
		return ("replies are still unread");
	}
	return ("unknown result");
}

LG_API const char *
gtd_errmsg(struct gtd_handle *h)
{
	return (lg_err[0] != '\0' ? lg_err : "no error");
}

/* Whether path names a socket (through symlinks, as connect(2) does). */
static bool
lg_is_socket(const char *path)
{
	struct stat	st;

	return (stat(path, &st) == 0 && S_ISSOCK(st.st_mode));
}

/*
 * The socket for path NULL: $GTD_SOCKET, else the default socket of the
 * zone $GTD_ZONE (or "default") as gtctl(1) finds it (client_user_path): /run/gtd/ZONE.sock for root and for a user whose
 * XDG_RUNTIME_DIR is not an absolute path, else
 * $XDG_RUNTIME_DIR/gtd/ZONE.sock, unless that is no socket and the
 * system's is one.  malloc'd; NULL with errno.
 */
static char *
lg_default_path(const char *path)
{
	const char	*xdg, *zone;
	char		*user, *sys;

	if (path != NULL && *path != '\0')
		return (strdup(path));
	if ((path = getenv("GTD_SOCKET")) != NULL && *path != '\0')
		return (strdup(path));
	if ((zone = getenv("GTD_ZONE")) == NULL || *zone == '\0')
		zone = "default";
	if (asprintf(&sys, "/run/gtd/%s.sock", zone) == -1)
		return (NULL);
	if (geteuid() == 0 || (xdg = getenv("XDG_RUNTIME_DIR")) == NULL ||
	    *xdg != '/')
		return (sys);
	if (asprintf(&user, "%s/gtd/%s.sock", xdg, zone) == -1) {
		free(sys);
		return (NULL);
	}
	/* No zone of this user's own: the system's, as systemd runs it. */
	if (!lg_is_socket(user) && lg_is_socket(sys)) {
		free(user);
		return (sys);
	}
	free(sys);
	return (user);
}

LG_API struct gtd_handle *
gtd_open(const char *path)
{
	struct gtd_handle	*h;
	struct sockaddr_un	 sun;

	if ((h = calloc(1, sizeof *h)) == NULL)
		return (NULL);
	if ((h->sock = lg_default_path(path)) == NULL)
		goto fail;
	if (strlen(h->sock) >= sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		goto fail;
	}
	if (asprintf(&h->mpath, "%s%s", h->sock, SHM_SUFFIX) == -1) {
		h->mpath = NULL;
		goto fail;
	}
	pthread_mutex_init(&h->mu, NULL);
	pthread_mutex_init(&h->rmu, NULL);
	pthread_mutex_init(&h->umu, NULL);
	ls_init(&h->rd);
	ls_init(&h->user);
	atomic_init(&h->timeout, -1);
	return (h);
fail:
	free(h->sock);
	free(h->mpath);
	free(h);
	return (NULL);
}

LG_API const char *
gtd_path(struct gtd_handle *h)
{
	return (h->sock);
}

LG_API void
gtd_close(struct gtd_handle *h)
{
	if (h == NULL)
		return;
	if (h->res != NULL)
		munmap(h->res, LG_RESERVE);
	ls_close(&h->rd);
	ls_close(&h->user);
	pthread_mutex_destroy(&h->mu);
	pthread_mutex_destroy(&h->rmu);
	pthread_mutex_destroy(&h->umu);
	free(h->sock);
	free(h->mpath);
	free(h);
}

LG_API void
gtd_set_timeout(struct gtd_handle *h, int ms)
{
	atomic_store(&h->timeout, ms < 0 ? -1 : ms);
}

/*
 * The mapping (under mu).  lg_gen_begin/end are the writer's half of the
 * handle's seqlock.
 */
static void
lg_gen_begin(struct gtd_handle *h)
{
	uint32_t	g = atomic_load_explicit(&h->gen, memory_order_relaxed);

	atomic_store_explicit(&h->gen, g + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
}

static void
lg_gen_end(struct gtd_handle *h)
{
	uint32_t	g = atomic_load_explicit(&h->gen, memory_order_relaxed);

	atomic_store_explicit(&h->gen, g + 1, memory_order_release);
}

/* Zero pages over [from, to) of the reservation. */
static void
lg_zero(struct gtd_handle *h, size_t from, size_t to)
{
	if (to > from)
		(void)mmap(h->res + from, to - from, PROT_READ, MAP_PRIVATE |
		    MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
}

static size_t
lg_pages(size_t n)
{
	size_t	pg = (size_t)sysconf(_SC_PAGESIZE);

	return ((n + pg - 1) / pg * pg);
}

static void
lg_unmap(struct gtd_handle *h)
{
	if (h->mapped == 0)
		return;
	lg_gen_begin(h);
	atomic_store_explicit(&h->vsize, 0, memory_order_relaxed);
	lg_zero(h, 0, h->mapped);	/* the old file's pages go */
	h->mapped = 0;
	lg_gen_end(h);
}

/*
 * Open the mirror file and check its header before mapping it: a regular
 * file (never through a symlink, never a FIFO that would block), of a
 * size that fits the reservation, with the magic and version, not marked
 * replaced, written by a gtd that still exists.  0, -2 when it was
 * replaced meanwhile (open the path again), or -1.
 */
static int
lg_check(struct gtd_handle *h, int fd, struct stat *st, struct mview *v,
    struct shm_header *hdr)
{
	if (fstat(fd, st) == -1 || !S_ISREG(st->st_mode) ||
	    st->st_size < SHM_HEADER_SIZE || (uintmax_t)st->st_size >
	    LG_RESERVE)
		return (-1);
	if (pread(fd, hdr, sizeof *hdr, 0) != (ssize_t)sizeof *hdr ||
	    mview_init(v, hdr, (size_t)st->st_size) != MV_OK)
		return (-1);
	if (atomic_load(&hdr->flags) & SHM_F_REPLACED)
		return (-2);		/* replaced since we opened it */
	/* A crashed gtd's file (in another pid namespace, the socket). */
	if (hdr->pid != 0 && kill((pid_t)hdr->pid, 0) == -1 &&
	    errno == ESRCH)
		return (-1);
	return (0);
}

static int
lg_map(struct gtd_handle *h)
{
	struct shm_header	hdr;
	struct stat		st;
	struct mview		v;
	size_t			len;
	int			fd, rc;

	fd = open(h->mpath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd == -1)
		return (-1);
	if ((rc = lg_check(h, fd, &st, &v, &hdr)) != 0) {
		close(fd);
		return (rc);
	}
	if (h->res == NULL) {
		h->res = mmap(NULL, LG_RESERVE, PROT_READ, MAP_PRIVATE |
		    MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (h->res == MAP_FAILED) {
			h->res = NULL;
			goto fail;
		}
	}
	len = lg_pages((size_t)st.st_size);
	lg_gen_begin(h);
	if (mmap(h->res, (size_t)st.st_size, PROT_READ, MAP_SHARED |
	    MAP_FIXED, fd, 0) == MAP_FAILED) {
		atomic_store_explicit(&h->vsize, 0, memory_order_relaxed);
		lg_zero(h, 0, h->mapped > len ? h->mapped : len);
		h->mapped = 0;
		lg_gen_end(h);
		goto fail;
	}
	lg_zero(h, len, h->mapped);
	h->mapped = len;
	h->vgen = hdr.generation;
	atomic_store_explicit(&h->vmask, v.mask, memory_order_relaxed);
	atomic_store_explicit(&h->vbuckets, v.buckets_off,
	    memory_order_relaxed);
	atomic_store_explicit(&h->vheap, v.heap_off, memory_order_relaxed);
	atomic_store_explicit(&h->vseed, v.seed, memory_order_relaxed);
	atomic_store_explicit(&h->vsize, v.size, memory_order_relaxed);
	lg_gen_end(h);
	close(fd);
	atomic_fetch_add_explicit(&h->remaps, 1, memory_order_relaxed);
	return (0);
fail:
	close(fd);
	return (-1);
}

/* Map the path's current file, unless another thread did since seen. */
static void
lg_remap(struct gtd_handle *h, uint32_t seen)
{
	int	rc, n;

	pthread_mutex_lock(&h->mu);
	if (atomic_load_explicit(&h->gen, memory_order_relaxed) == seen) {
		for (n = 0; (rc = lg_map(h)) == -2 && n < 4; n++)
			;		/* replaced again: the newest is there */
		if (rc == 0)
			atomic_store(&h->next_open, 0);
		else {
			lg_unmap(h);
			atomic_store(&h->next_open, ls_now_ms() +
			    LG_REOPEN_MS);
		}
	}
	pthread_mutex_unlock(&h->mu);
}

/* The view as of now (torn if a remap runs: the caller checks gen). */
static void
lg_view(struct gtd_handle *h, struct mview *v)
{
	v->base = h->res;
	v->size = atomic_load_explicit(&h->vsize, memory_order_relaxed);
	v->mask = atomic_load_explicit(&h->vmask, memory_order_relaxed);
	v->buckets_off = atomic_load_explicit(&h->vbuckets,
	    memory_order_relaxed);
	v->heap_off = atomic_load_explicit(&h->vheap, memory_order_relaxed);
	v->seed = atomic_load_explicit(&h->vseed, memory_order_relaxed);
}

static void
lg_pause(unsigned n)
{
	if (n < LG_SPIN) {
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#endif
		return;
	}
	sched_yield();
}

/* What one mirror read does: a lookup, a copy, or one bucket's rows. */
enum lg_op { LG_GET, LG_COPY, LG_LIST };
struct lg_read {
	enum lg_op	 op;
	struct mget	*g;		/* LG_GET; name for LG_COPY */
	struct mbuf	*buf;		/* LG_COPY, LG_LIST */
	uint32_t	 bucket;	/* LG_LIST */
};

static enum mv_rc
lg_do(const struct mview *v, struct lg_read *r)
{
	switch (r->op) {
	case LG_GET:
		return (mview_get(v, r->g));
	case LG_COPY:
		return (mview_copy(v, r->g->name, r->g->len, r->buf));
	case LG_LIST:
		if (r->bucket > v->mask)
			return (MV_OK);		/* a smaller file: done */
		return (mview_list(v, r->bucket, r->buf));
	}
	return (MV_PROTO);
}

/*
 * One read from the mirror, retried while the writer is busy there and
 * after a remap.  MV_OK or MV_NOTFOUND; MV_FULL means "ask the socket"
 * (no mirror, a stale or broken one, or too many retries).  *gen is the
 * handle's gen the answer was read under.
 */
static enum mv_rc
lg_mirror(struct gtd_handle *h, struct lg_read *r, uint32_t *gen)
{
	struct mview	v;
	enum mv_rc	rc;
	uint32_t	g1;
	unsigned	n;

	for (n = 0; n < LG_TRIES; n++) {
		g1 = atomic_load_explicit(&h->gen, memory_order_acquire);
		if (g1 & 1) {
			lg_pause(n);
			continue;
		}
		lg_view(h, &v);
		if (v.size == 0) {
			if (ls_now_ms() < atomic_load(&h->next_open))
				return (MV_FULL);
			lg_remap(h, g1);
			continue;
		}
		errno = 0;
		rc = lg_do(&v, r);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&h->gen, memory_order_relaxed) != g1)
			continue;
		switch (rc) {
		case MV_OK:
		case MV_NOTFOUND:
			*gen = g1;
			return (rc);
		case MV_REPLACED:
			lg_remap(h, g1);
			continue;
		case MV_RETRY:
			atomic_fetch_add_explicit(&h->retries, 1,
			    memory_order_relaxed);
			lg_pause(n);
			continue;
		case MV_PROTO:
			if (errno == ENOMEM)
				return (MV_PROTO);
			/* Broken: not again for a while. */
			pthread_mutex_lock(&h->mu);
			if (atomic_load(&h->gen) == g1) {
				lg_unmap(h);
				atomic_store(&h->next_open, ls_now_ms() +
				    LG_REOPEN_MS);
			}
			pthread_mutex_unlock(&h->mu);
			return (MV_FULL);
		case MV_FULL:
			return (MV_FULL);
		}
	}
	return (MV_FULL);
}

/*
 * The socket, for reads the mirror cannot do: one request on the read
 * connection, its reply parsed into *o, its text in *text (malloc'd, the
 * caller frees).  GTD_OK whatever "ok" says, or GTD_ESYS, GTD_EPROTO.
 */
static int
lg_ask(struct gtd_handle *h, const char *req, size_t len, struct lj *o,
    char **text)
{
	int64_t	 deadline;
	char	*line;
	size_t	 n;
	int	 t = atomic_load(&h->timeout);

	atomic_fetch_add_explicit(&h->fallbacks, 1, memory_order_relaxed);
	*text = NULL;
	deadline = ls_now_ms() + (t >= 0 && t < LG_READ_MS ? t : LG_READ_MS);
	pthread_mutex_lock(&h->rmu);
	if (ls_connect(&h->rd, h->sock) == -1 ||
	    ls_send(&h->rd, req, len) == -1 ||
	    (line = ls_recv(&h->rd, deadline, &n)) == NULL) {
		lg_connfail(h, &h->rd);
		ls_close(&h->rd);	/* a reply may still come: start over */
		pthread_mutex_unlock(&h->rmu);
		return (GTD_ESYS);
	}
	if ((*text = malloc(n + 1)) != NULL)
		memcpy(*text, line, n + 1);
	pthread_mutex_unlock(&h->rmu);
	if (*text == NULL)
		return (lg_sysfail(h, "reply"));
	if (lj_parse(*text, n, o) == -1 || o->type != LJ_OBJECT)
		return (lg_fail(GTD_EPROTO, "%s: a reply that is not a JSON "
		    "object", h->sock));
	return (GTD_OK);
}

/* Map an error reply to a result; state says if a row exists. */
static int
lg_refused(const struct lj *o, bool *has_state)
{
	struct lj	err, msg;
	char		buf[256];
	size_t		n;

	*has_state = lj_get(o, "state", &msg) == 1;
	if (lj_get(o, "error", &err) != 1 || err.type != LJ_STRING)
		return (lg_fail(GTD_EPROTO, "a reply without ok or error"));
	if (lj_streq(&err, "not_found"))
		return (GTD_ENOTFOUND);
	if (lj_streq(&err, "not_running"))
		return (GTD_ENOTRUNNING);
	if (lj_get(o, "message", &msg) == 1 &&
	    lj_string(&msg, buf, sizeof buf, &n) >= 0)
		return (lg_fail(GTD_EGTD, "%.*s", (int)sizeof buf - 1, buf));
	return (lg_fail(GTD_EGTD, "%.*s", (int)err.len, err.p));
}

/* Is o's "ok" true? */
static bool
lg_ok(const struct lj *o)
{
	struct lj	ok;

	return (lj_get(o, "ok", &ok) == 1 && ok.type == LJ_TRUE);
}

/* A request {"op":op,"name":name[,"key":key]} in *req (malloc'd). */
static int
lg_request(const char *op, const char *name, const char *key, char **req,
    size_t *len)
{
	size_t	size = 64 + strlen(op) + 6 * (strlen(name) +
	    (key != NULL ? strlen(key) : 0)), at;

	if ((*req = malloc(size)) == NULL)
		return (-1);
	at = (size_t)snprintf(*req, size, "{\"op\":\"%s\",\"name\":", op);
	lj_quote(*req, size, &at, name, strlen(name));
	if (key != NULL) {
		at += (size_t)snprintf(*req + at, size - at, ",\"key\":");
		lj_quote(*req, size, &at, key, strlen(key));
	}
	at += (size_t)snprintf(*req + at, size - at, "}");
	*len = at;
	return (0);
}

static enum gtd_state
lg_state(const char *name)
{
	int	i;

	for (i = GTD_STARTING; i <= GTD_STOPPED; i++)
		if (strcmp(name, lg_states[i]) == 0)
			return ((enum gtd_state)i);
	return (GTD_STATE_OTHER);
}

/* A row without its attrs: getattr's not_running. */
static bool
lg_attrless(const char *state)
{
	return (strcmp(state, "stopped") == 0 ||
	    strcmp(state, "restarting") == 0);
}

static int
lg_name_ok(const char *name, const char *key)
{
	size_t	n = name == NULL ? 0 : strlen(name);

	if (n == 0 || n > SHM_NAME_MAX)
		return (lg_fail(GTD_EINVAL, "names are 1 to %d bytes",
		    SHM_NAME_MAX));
	if (key != NULL && (*key == '\0' || strlen(key) > SHM_KEY_MAX))
		return (lg_fail(GTD_EINVAL, "keys are 1 to %d bytes",
		    SHM_KEY_MAX));
	return (GTD_OK);
}

/* info through the socket: the row's fixed fields into g, *o the reply. */
static int
lg_info_socket(struct gtd_handle *h, struct mget *g, struct lj *o,
    char **text)
{
	struct lj	v;
	char		*req;
	size_t		 len, n;
	int64_t		 i;
	bool		 st;
	int		 rc;

	if (lg_request("info", g->name, NULL, &req, &len) == -1)
		return (lg_sysfail(h, "request"));
	rc = lg_ask(h, req, len, o, text);
	free(req);
	if (rc != GTD_OK)
		return (rc);
	if (!lg_ok(o))
		return (lg_refused(o, &st));
	g->pid = lj_get(o, "pid", &v) == 1 && lj_int(&v, &i) == 0 ? (int32_t)i :
	    0;
	g->restart_count = lj_get(o, "restart_count", &v) == 1 &&
	    lj_int(&v, &i) == 0 ? (uint32_t)i : 0;
	if (lj_get(o, "state", &v) != 1 || lj_string(&v, g->state,
	    sizeof g->state, &n) != 0)
		g->state[0] = '\0';
	return (GTD_OK);
}

static void
lg_child(const struct mget *g, struct gtd_child *c)
{
	memset(c, 0, sizeof *c);
	c->pid = g->pid;
	memcpy(c->state_name, g->state, sizeof c->state_name);
	c->state_name[sizeof c->state_name - 1] = '\0';
	c->state = lg_state(c->state_name);
	c->restart_count = g->restart_count;
}

LG_API int
gtd_info(struct gtd_handle *h, const char *name, struct gtd_child *c)
{
	struct mget	g;
	struct lg_read	r = { .op = LG_GET, .g = &g };
	struct lj	o;
	char		*text;
	uint32_t	 gen;
	int		 rc;

	if ((rc = lg_name_ok(name, NULL)) != GTD_OK)
		return (rc);
	memset(&g, 0, sizeof g);
	g.name = name;
	g.len = strlen(name);
	switch (lg_mirror(h, &r, &gen)) {
	case MV_OK:
		lg_child(&g, c);
		return (GTD_OK);
	case MV_NOTFOUND:
		return (GTD_ENOTFOUND);
	default:
		break;
	}
	rc = lg_info_socket(h, &g, &o, &text);
	free(text);
	if (rc == GTD_OK)
		lg_child(&g, c);
	return (rc);
}

LG_API int
gtd_find(struct gtd_handle *h, const char *name, struct gtd_child *c)
{
	int	rc;

	if ((rc = gtd_info(h, name, c)) != GTD_OK)
		return (rc);
	return (c->state == GTD_RUNNING ? GTD_OK : GTD_ENOTRUNNING);
}

/* A value span into v (strings decoded into buf). */
static int
lg_value_json(const struct lj *jv, struct gtd_value *v, char *buf,
    size_t size)
{
	size_t	n;
	int	rc;

	memset(v, 0, sizeof *v);
	switch (jv->type) {
	case LJ_NUMBER:
		if (lj_is_int(jv) && lj_int(jv, &v->i) == 0) {
			v->type = GTD_INT;
			return (GTD_OK);
		}
		v->type = GTD_DOUBLE;
		return (lj_double(jv, &v->d) == 0 ? GTD_OK : GTD_EPROTO);
	case LJ_STRING:
		v->type = GTD_STRING;
		if ((rc = lj_string(jv, buf, size, &n)) == -1)
			return (GTD_EPROTO);
		v->len = n;
		v->s = rc == 0 ? buf : NULL;
		return (rc == 0 ? GTD_OK : GTD_ERANGE);
	default:
		v->type = GTD_JSON;
		v->len = jv->len;
		if (jv->len >= size)
			return (GTD_ERANGE);
		memcpy(buf, jv->p, jv->len);
		buf[jv->len] = '\0';
		v->s = buf;
		return (GTD_OK);
	}
}

static int
lg_getattr_socket(struct gtd_handle *h, const char *name, const char *key,
    struct gtd_value *v, char *buf, size_t size)
{
	struct lj	o, jv;
	char		*req, *text;
	size_t		 len;
	bool		 st;
	int		 rc;

	if (lg_request("getattr", name, key, &req, &len) == -1)
		return (lg_sysfail(h, "request"));
	rc = lg_ask(h, req, len, &o, &text);
	free(req);
	if (rc == GTD_OK && !lg_ok(&o)) {
		rc = lg_refused(&o, &st);
		if (rc == GTD_ENOTFOUND && st)	/* the row is there */
			rc = GTD_ENOATTR;
	} else if (rc == GTD_OK) {
		if (lj_get(&o, "value", &jv) != 1)
			rc = lg_fail(GTD_EPROTO, "getattr: no value");
		else
			rc = lg_value_json(&jv, v, buf, size);
	}
	free(text);
	return (rc);
}

LG_API int
gtd_getattr(struct gtd_handle *h, const char *name, const char *key,
    struct gtd_value *v, char *buf, size_t size)
{
	struct mget	g;
	struct lg_read	r = { .op = LG_GET, .g = &g };
	uint32_t	gen;
	int		rc;

	if ((rc = lg_name_ok(name, key)) != GTD_OK)
		return (rc);
	if (buf == NULL)
		size = 0;
	memset(&g, 0, sizeof g);
	g.name = name;
	g.len = strlen(name);
	g.key = key;
	g.klen = strlen(key);
	g.buf = buf;
	g.bufsize = size;
	switch (lg_mirror(h, &r, &gen)) {
	case MV_NOTFOUND:
		return (GTD_ENOTFOUND);
	case MV_OK:
		if (lg_attrless(g.state))
			return (GTD_ENOTRUNNING);
		if (g.rflags & SHM_R_PARTIAL)
			break;			/* its attrs: ask the socket */
		if (!g.has_attr)
			return (GTD_ENOATTR);
		memset(v, 0, sizeof *v);
		v->type = (enum gtd_type)g.type;
		v->i = g.i;
		v->d = g.r;
		if (g.type == SHM_T_INT || g.type == SHM_T_REAL)
			return (GTD_OK);
		v->len = g.vlen;
		if (g.vlen >= size)
			return (GTD_ERANGE);
		v->s = buf;
		return (GTD_OK);
	default:
		break;
	}
	return (lg_getattr_socket(h, name, key, v, buf, size));
}

/* gtd_getattr for one type: another is GTD_ETYPE. */
static int
lg_getattr_typed(struct gtd_handle *h, const char *name, const char *key,
    enum gtd_type type, struct gtd_value *v, char *buf, size_t size)
{
	int	rc;

	rc = gtd_getattr(h, name, key, v, buf, size);
	if (rc != GTD_OK && rc != GTD_ERANGE)
		return (rc);
	/* Numbers never need the buffer: a short one says nothing. */
	return (v->type != type ? GTD_ETYPE : type == GTD_STRING ? rc :
	    GTD_OK);
}

LG_API int
gtd_getattr_int(struct gtd_handle *h, const char *name, const char *key,
    int64_t *i)
{
	struct gtd_value	v;
	int			rc;

	if ((rc = lg_getattr_typed(h, name, key, GTD_INT, &v, NULL, 0)) ==
	    GTD_OK)
		*i = v.i;
	return (rc);
}

LG_API int
gtd_getattr_double(struct gtd_handle *h, const char *name, const char *key,
    double *d)
{
	struct gtd_value	v;
	int			rc;

	if ((rc = lg_getattr_typed(h, name, key, GTD_DOUBLE, &v, NULL, 0)) ==
	    GTD_OK)
		*d = v.d;
	return (rc);
}

LG_API int
gtd_getattr_string(struct gtd_handle *h, const char *name, const char *key,
    char *buf, size_t size, size_t *len)
{
	struct gtd_value	v;
	int			rc;

	rc = lg_getattr_typed(h, name, key, GTD_STRING, &v, buf, size);
	if (len != NULL && (rc == GTD_OK || rc == GTD_ERANGE))
		*len = v.len;
	return (rc);
}

/* v as JSON text into buf (jansson's way for reals). */
static int
lg_json_text(const struct gtd_value *v, char *buf, size_t size,
    size_t *len)
{
	char	num[40];
	size_t	at = 0;
	int	n;

	switch (v->type) {
	case GTD_INT:
	case GTD_DOUBLE:
		if (v->type == GTD_INT)
			n = snprintf(num, sizeof num, "%lld",
			    (long long)v->i);
		else {
			n = snprintf(num, sizeof num, "%.17g", v->d);
			if (strpbrk(num, ".eEin") == NULL)
				n = snprintf(num, sizeof num, "%.17g.0",
				    v->d);
		}
		*len = (size_t)n;
		if ((size_t)n >= size)
			return (GTD_ERANGE);
		memcpy(buf, num, (size_t)n + 1);
		return (GTD_OK);
	case GTD_STRING:
		if (lj_quote(buf, size, &at, v->s, v->len) == -1) {
			*len = 0;	/* the caller asks again, larger */
			return (GTD_ERANGE);
		}
		*len = at;
		return (GTD_OK);
	case GTD_JSON:
		*len = v->len;
		if (v->s != buf)
			memmove(buf, v->s, v->len + 1);
		return (GTD_OK);
	}
	return (GTD_EPROTO);
}

LG_API int
gtd_getattr_json(struct gtd_handle *h, const char *name, const char *key,
    char *buf, size_t size, size_t *len)
{
	struct gtd_value	 v;
	char			*tmp = NULL;
	size_t			 n = 0, want;
	int			 rc;

	rc = gtd_getattr(h, name, key, &v, buf, size);
	if (rc == GTD_ERANGE && (v.type == GTD_INT || v.type == GTD_DOUBLE))
		rc = GTD_OK;
	if (rc == GTD_ERANGE) {
		if (len != NULL)	/* quoting may need 6 bytes per byte */
			*len = v.type == GTD_STRING ? 6 * v.len + 2 : v.len;
		return (rc);
	}
	if (rc != GTD_OK)
		return (rc);
	if (v.type == GTD_STRING) {
		/* Quote from a copy: the text sits in buf already. */
		if ((tmp = malloc(v.len + 1)) == NULL)
			return (lg_sysfail(h, "getattr"));
		memcpy(tmp, v.s, v.len + 1);
		v.s = tmp;
	}
	rc = lg_json_text(&v, buf, size, &n);
	want = v.type == GTD_STRING ? 6 * v.len + 2 : n;
	free(tmp);
	if (len != NULL)
		*len = rc == GTD_ERANGE ? want : n;
	return (rc);
}

/* Attrs through the socket: info's attrs object, in its (key) order. */
static int
lg_attrs_socket(struct gtd_handle *h, const char *name, gtd_attr_cb *cb,
    void *arg)
{
	struct gtd_value	 v;
	struct mget		 g;
	struct lj		 o, attrs, k, jv;
	const char		*pos = NULL;
	char			*text, *kbuf = NULL, *vbuf = NULL;
	size_t			 n;
	int			 rc, more;

	memset(&g, 0, sizeof g);
	g.name = name;
	g.len = strlen(name);
	if ((rc = lg_info_socket(h, &g, &o, &text)) != GTD_OK)
		goto out;
	if (lg_attrless(g.state)) {
		rc = GTD_ENOTRUNNING;
		goto out;
	}
	if (lj_get(&o, "attrs", &attrs) != 1 || attrs.type != LJ_OBJECT) {
		rc = lg_fail(GTD_EPROTO, "info: no attrs");
		goto out;
	}
	/* Decoded text is never longer than its JSON. */
	if ((kbuf = malloc(attrs.len + 1)) == NULL ||
	    (vbuf = malloc(attrs.len + 1)) == NULL) {
		rc = lg_sysfail(h, "attrs");
		goto out;
	}
	while ((more = lj_next(&attrs, &pos, &k, &jv)) == 1) {
		if (lj_string(&k, kbuf, attrs.len + 1, &n) != 0 ||
		    lg_value_json(&jv, &v, vbuf, attrs.len + 1) != GTD_OK) {
			rc = lg_fail(GTD_EPROTO, "info: a bad attr");
			goto out;
		}
		if ((rc = cb(kbuf, &v, arg)) != 0)
			goto out;
	}
	rc = more == 0 ? GTD_OK : lg_fail(GTD_EPROTO, "info: bad attrs");
out:
	free(kbuf);
	free(vbuf);
	free(text);
	return (rc);
}

LG_API int
gtd_attrs(struct gtd_handle *h, const char *name, gtd_attr_cb *cb,
    void *arg)
{
	struct gtd_value	 v;
	struct mattr		 a;
	struct mbuf		 b = { NULL, 0, 0 };
	struct mget		 g;
	struct lg_read		 r = { .op = LG_COPY, .g = &g, .buf = &b };
	uint32_t		 gen, i;
	int			 rc;

	if ((rc = lg_name_ok(name, NULL)) != GTD_OK)
		return (rc);
	memset(&g, 0, sizeof g);
	g.name = name;
	g.len = strlen(name);
	switch (lg_mirror(h, &r, &gen)) {
	case MV_NOTFOUND:
		rc = GTD_ENOTFOUND;
		goto out;
	case MV_OK:
		if (mrec_fixed(&b, &g) == -1)
			break;
		if (lg_attrless(g.state)) {
			rc = GTD_ENOTRUNNING;
			goto out;
		}
		if (g.rflags & SHM_R_PARTIAL)
			break;
		for (i = 0; i < g.nattrs; i++) {
			if (mrec_attr(&b, i, &a) == -1) {
				rc = lg_fail(GTD_EPROTO, "%s: a bad attr",
				    h->mpath);
				goto out;
			}
			memset(&v, 0, sizeof v);
			v.type = (enum gtd_type)a.type;
			v.i = a.i;
			v.d = a.r;
			if (a.type == SHM_T_TEXT || a.type == SHM_T_JSON) {
				v.s = a.s;
				v.len = a.vlen;
			}
			if ((rc = cb(a.key, &v, arg)) != 0)
				goto out;
		}
		rc = GTD_OK;
		goto out;
	case MV_PROTO:
		rc = lg_sysfail(h, "attrs");
		goto out;
	default:
		break;
	}
	rc = lg_attrs_socket(h, name, cb, arg);
out:
	free(b.p);
	return (rc);
}

/*
 * Every row from the mirror into b (struct mrow, 8-aligned), each bucket
 * as of one moment, all from one file.  MV_OK, or MV_FULL (ask the
 * socket), MV_PROTO (no memory).
 */
static enum mv_rc
lg_list(struct gtd_handle *h, struct mbuf *b)
{
	struct lg_read	r = { .op = LG_LIST, .buf = b };
	struct mview	v;
	uint32_t	g0, gen, nb;
	enum mv_rc	rc;
	unsigned	n;

	for (n = 0; n < LG_TRIES; n++) {
		b->len = 0;
		g0 = atomic_load_explicit(&h->gen, memory_order_acquire);
		lg_view(h, &v);
		nb = (g0 & 1) || v.size == 0 ? 1 : v.mask + 1;
		for (r.bucket = 0; r.bucket < nb; r.bucket++) {
			if ((rc = lg_mirror(h, &r, &gen)) != MV_OK)
				return (rc);
			if (gen != g0)
				break;		/* another file: again */
		}
		if (r.bucket == nb && gen == g0)
			return (MV_OK);
	}
	return (MV_FULL);
}

static int
lg_foreach_socket(struct gtd_handle *h, gtd_child_cb *cb, void *arg)
{
	struct gtd_child	 c;
	struct lj		 o, rows, row, k, v;
	const char		*pos = NULL;
	char			*text, *name = NULL;
	size_t			 n;
	int64_t			 i;
	int			 rc, more;
	bool			 st;

	if ((rc = lg_ask(h, "{\"op\":\"which_children\"}", 24, &o, &text)) !=
	    GTD_OK)
		goto out;
	if (!lg_ok(&o)) {
		rc = lg_refused(&o, &st);
		goto out;
	}
	if (lj_get(&o, "children", &rows) != 1 || rows.type != LJ_ARRAY ||
	    (name = malloc(rows.len + 1)) == NULL) {
		rc = lg_fail(GTD_EPROTO, "which_children: no children");
		goto out;
	}
	while ((more = lj_next(&rows, &pos, &k, &row)) == 1) {
		memset(&c, 0, sizeof c);
		if (lj_get(&row, "name", &v) != 1 ||
		    lj_string(&v, name, rows.len + 1, &n) != 0) {
			rc = lg_fail(GTD_EPROTO, "which_children: a bad row");
			goto out;
		}
		if (lj_get(&row, "pid", &v) == 1 && lj_int(&v, &i) == 0)
			c.pid = (pid_t)i;
		if (lj_get(&row, "restart_count", &v) == 1 &&
		    lj_int(&v, &i) == 0)
			c.restart_count = (unsigned)i;
		if (lj_get(&row, "state", &v) != 1 || lj_string(&v,
		    c.state_name, sizeof c.state_name, &n) != 0)
			c.state_name[0] = '\0';
		c.state = lg_state(c.state_name);
		if ((rc = cb(name, &c, arg)) != 0)
			goto out;
	}
	rc = more == 0 ? GTD_OK : lg_fail(GTD_EPROTO, "which_children: "
	    "bad rows");
out:
	free(name);
	free(text);
	return (rc);
}

LG_API int
gtd_foreach(struct gtd_handle *h, gtd_child_cb *cb, void *arg)
{
	struct gtd_child	 c;
	struct mbuf		 b = { NULL, 0, 0 };
	struct mrow		*row;
	struct mget		 g;
	size_t			 at;
	int			 rc = GTD_OK;

	switch (lg_list(h, &b)) {
	case MV_OK:
		for (at = 0; at < b.len && rc == 0; at += SHM_ALIGN(sizeof
		    *row + row->len + 1, 8)) {
			row = (struct mrow *)(b.p + at);
			if (row->rflags & SHM_R_REMOTE)
				continue;	/* as which_children */
			memset(&g, 0, sizeof g);
			g.pid = row->pid;
			g.restart_count = row->restart_count;
			memcpy(g.state, row->state, sizeof g.state);
			lg_child(&g, &c);
			rc = cb(row->name, &c, arg);
		}
		break;
	case MV_PROTO:
		rc = lg_sysfail(h, "foreach");
		break;
	default:
		rc = lg_foreach_socket(h, cb, arg);
	}
	free(b.p);
	return (rc);
}

/*
 * The caller's connection.  A request is one line: a newline at the end
 * is dropped, one inside is refused.
 */
static int
lg_line(const char *req, size_t *len)
{
	const char	*nl;

	if (req == NULL || (*len = strlen(req)) == 0)
		return (lg_fail(GTD_EINVAL, "an empty request"));
	if (req[*len - 1] == '\n')
		(*len)--;
	if ((nl = memchr(req, '\n', *len)) != NULL || *len == 0)
		return (lg_fail(GTD_EINVAL, "a request is one line"));
	return (GTD_OK);
}

/*
 * Why connecting to or talking over s failed, in gtd_errmsg(); for a
 * server of another user, who it is and how to trust it.
 */
static int
lg_connfail(struct gtd_handle *h, const struct lsock *s)
{
	struct passwd	 pw, *res = NULL;
	char		 buf[1024];
	const char	*who;

	if (errno != EPERM || s->peer == (uid_t)-1)
		return (lg_sysfail(h, h->sock));
	if (getpwuid_r(s->peer, &pw, buf, sizeof buf, &res) != 0)
		res = NULL;
	who = res != NULL ? res->pw_name : NULL;
	errno = EPERM;
	return (lg_fail(GTD_ESYS, "%s: the server there runs as %s (uid %u), "
	    "neither root nor you: not talking to it (set "
	    "GTD_SOCKET_OWNER=%s to trust that user)", h->sock,
	    who != NULL ? who : "an unknown user", (unsigned)s->peer,
	    who != NULL ? who : "UID"));
}

static int
lg_user_send(struct gtd_handle *h, const char *req, size_t len)
{
	int	saved;

	if (ls_connect(&h->user, h->sock) == -1) {
		lg_connfail(h, &h->user);
		ls_close(&h->user);
		return (GTD_ESYS);
	}
	if (ls_send(&h->user, req, len) == -1) {
		saved = errno;
		lg_sysfail(h, h->sock);
		/* Keep what gtd said before it closed for gtd_recv. */
		if (!h->user.broken)
			ls_close(&h->user);
		errno = saved;
		return (GTD_ESYS);
	}
	return (GTD_OK);
}

static int
lg_user_recv(struct gtd_handle *h, char **reply)
{
	int	 t = atomic_load(&h->timeout), saved;
	char	*line;
	size_t	 n;

	*reply = NULL;
	if (h->user.fd == -1)
		return (lg_fail(GTD_EINVAL, "no request was sent"));
	if ((line = ls_recv(&h->user, t < 0 ? -1 : ls_now_ms() + t, &n)) ==
	    NULL) {
		saved = errno;
		if (t == 0 && saved == ETIMEDOUT) {
			/* Nothing yet: the connection stays in step. */
			errno = EAGAIN;
			return (lg_fail(GTD_ESYS, "%s: no reply yet",
			    h->sock));
		}
		lg_sysfail(h, h->sock);
		ls_close(&h->user);	/* the replies are out of step now */
		errno = saved;
		return (GTD_ESYS);
	}
	if ((*reply = malloc(n + 1)) == NULL)
		return (lg_sysfail(h, "reply"));
	memcpy(*reply, line, n + 1);
	return (GTD_OK);
}

LG_API int
gtd_call(struct gtd_handle *h, const char *request, char **reply)
{
	size_t	len;
	int	rc;

	*reply = NULL;
	if ((rc = lg_line(request, &len)) != GTD_OK)
		return (rc);
	pthread_mutex_lock(&h->umu);
	if (h->user.pending > 0)
		rc = lg_fail(GTD_EBUSY, "%ld replies are unread",
		    h->user.pending);
	else if ((rc = lg_user_send(h, request, len)) == GTD_OK)
		rc = lg_user_recv(h, reply);
	pthread_mutex_unlock(&h->umu);
	return (rc);
}

LG_API int
gtd_send(struct gtd_handle *h, const char *request)
{
	size_t	len;
	int	rc;

	if ((rc = lg_line(request, &len)) != GTD_OK)
		return (rc);
	pthread_mutex_lock(&h->umu);
	rc = lg_user_send(h, request, len);
	pthread_mutex_unlock(&h->umu);
	return (rc);
}

LG_API int
gtd_connect(struct gtd_handle *h)
{
	int	rc = GTD_OK;

	pthread_mutex_lock(&h->umu);
	if (ls_connect(&h->user, h->sock) == -1) {
		rc = lg_connfail(h, &h->user);
		ls_close(&h->user);
	}
	pthread_mutex_unlock(&h->umu);
	return (rc);
}

LG_API int
gtd_fd(struct gtd_handle *h, short *events)
{
	int	fd;

	pthread_mutex_lock(&h->umu);
	fd = h->user.fd;
	if (events != NULL)
		*events = POLLIN | (h->user.ooff < h->user.olen &&
		    !h->user.broken ? POLLOUT : 0);
	pthread_mutex_unlock(&h->umu);
	return (fd);
}

LG_API int
gtd_recv(struct gtd_handle *h, char **reply)
{
	int	rc;

	pthread_mutex_lock(&h->umu);
	rc = lg_user_recv(h, reply);
	pthread_mutex_unlock(&h->umu);
	return (rc);
}

LG_API void
gtd_mirror_stat(struct gtd_handle *h, struct gtd_mirror_stat *st)
{
	memset(st, 0, sizeof *st);
	pthread_mutex_lock(&h->mu);
	st->mapped = atomic_load(&h->vsize) != 0;
	st->generation = st->mapped ? h->vgen : 0;
	st->size = atomic_load(&h->vsize);
	pthread_mutex_unlock(&h->mu);
	st->remaps = atomic_load(&h->remaps);
	st->fallbacks = atomic_load(&h->fallbacks);
	st->retries = atomic_load(&h->retries);
}
