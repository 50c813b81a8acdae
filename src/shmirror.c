/* SPDX-License-Identifier: MIT */
/*
 * shmirror: gtd's side of the shared-memory mirror (gt/shmlayout.h has
 * the layout and the memory-ordering argument).  One file is published
 * at a time; gtd maps it read-write and changes it under the bucket
 * seqlocks, so a change is visible to every reader before the request
 * that made it is answered.  Blocks come from a buddy allocator whose
 * bookkeeping (a tag byte per SHM_BLOCK_MIN bytes of heap, the free
 * lists' heads) lives in gtd's memory; the free lists' links live in the
 * free blocks.  When the heap has no block for a record, the file is
 * copied into a larger one (at most max_bytes), which is renamed over the
 * path; the old one is flagged replaced.  Never blocks, never logs.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gt/shmirror.h"
#include "gt/shmlayout.h"
#include "gt/xmalloc.h"

#define SHM_NORDERS	25		/* SHM_BLOCK_MIN << 24 = 1 GiB */
#define SHM_TAG_FREE	0x80		/* a free block starts here */
#define SHM_TAG_USED	0x40		/* a used block starts here */
#define SHM_TAG_ORDER	0x1f
#define SHM_RETRY_GROW	4		/* larger files tried for one change */

/* gtd's own loads and stores of the shared fields: no ordering needed. */
#define LD(x)		atomic_load_explicit(&(x), memory_order_relaxed)
#define ST(x, v)	atomic_store_explicit(&(x), (v), memory_order_relaxed)

/* One mapped file, published or being built. */
struct shm_file {
	int			 fd;		/* owned */
	uint8_t			*map;		/* owned: size bytes, rw */
	size_t			 size;
	char			*name;		/* owned: a named temp file */
	struct shm_header	*h;
	struct shm_bucket	*b;
	uint32_t		 mask;		/* nbuckets - 1 */
	uint32_t		 heap_off;
	uint32_t		 heap_size;
	uint8_t			*tag;		/* owned: per SHM_BLOCK_MIN */
	uint32_t		 free[SHM_NORDERS];	/* offsets; 0: none */
	size_t			 used;		/* bytes in used blocks */
	uint32_t		 nrecords;
	uint32_t		 npartial;
};

/* A free block's links (over the record's first fields). */
struct shm_freeblk {
	_Atomic uint32_t	next;
	_Atomic uint32_t	prev;
};

/* One attr of a record being composed; borrowed pointers. */
struct shm_ent {
	const char	*key;
	size_t		 klen;
	uint8_t		 type;
	const void	*val;		/* 8 bytes, or vlen bytes */
	size_t		 vlen;
};

enum shm_op {
	SHM_PUT, SHM_DEL, SHM_ASET, SHM_ADEL, SHM_ACLEAR, SHM_RECORD,
	SHM_RPUT			/* another node's row */
};

/* An attr change of a batch, with copies of its key and value. */
struct shm_pend {
	char		*key;		/* owned; the value follows it */
	size_t		 klen;
	uint8_t		 type;
	bool		 del;
	const void	*val;		/* in key's allocation */
	size_t		 vlen;
	size_t		 seq;		/* arrival: the last one wins */
};

/* One change, as the registry asked for it. */
struct shm_change {
	enum shm_op		 op;
	const char		*name;
	size_t			 len;
	int32_t			 pid;
	const char		*state;
	uint32_t		 restart_count;
	struct shm_ent		 attr;		/* SHM_ASET, SHM_ADEL (key) */
	const uint8_t		*rec;		/* SHM_RECORD: a whole record */
	size_t			 reclen;
	const char		*node;		/* SHM_RPUT */
	size_t			 nodelen;
};

struct shmirror {
	char			*path;		/* owned */
	char			*tmp;		/* owned: path.tmp (linkat) */
	char			*dir;		/* owned: path's directory */
	mode_t			 mode;
	gid_t			 gid;
	size_t			 max_bytes;
	uint32_t		 seed;
	uint64_t		 generation;
	struct shm_file		*cur;		/* published, or NULL */
	struct shm_file		*stage;		/* a rebuild, or NULL */
	bool			 stage_failed;
	bool			 full;		/* cur says SHM_F_FULL */
	char			*err;		/* owned */
	uint8_t			*scratch;	/* owned: a record composed */
	size_t			 scratchsize;
	struct shm_ent		*ents;		/* owned */
	size_t			 entsize;
	/* A batch: the attr changes of one row, kept here until the end. */
	char			*bname;		/* owned; NULL: no batch */
	uint8_t			*brec;		/* owned: the record so far */
	size_t			 blen, bsize;
	bool			 bdirty;
	bool			 bclear;	/* its attrs cleared first */
	struct shm_pend		*pend;		/* owned: changes not merged */
	size_t			 npend, pendsize;
};

static void	shm_file_free(struct shm_file *);
static void	shm_pend_clear(struct shmirror *);
static int	shm_fail(struct shmirror *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static int
shm_fail(struct shmirror *m, const char *fmt, ...)
{
	va_list	ap;
	char	*s;
	int	 saved = errno;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		s = NULL;
	va_end(ap);
	free(m->err);
	m->err = s;
	errno = saved;
	return (-1);
}

/* The record at off (trusted: gtd only follows its own offsets). */
static struct shm_record *
shm_rec(struct shm_file *f, uint32_t off)
{
	return ((struct shm_record *)(f->map + off));
}

static const char *
shm_rec_name(const struct shm_record *r)
{
	return ((const char *)(r + 1));
}

/* Seqlock: the writer's half (the readers' is in src/lib/mirror.c). */
static void
shm_wbegin(struct shm_bucket *b)
{
	uint32_t	s = atomic_load_explicit(&b->seq, memory_order_relaxed);

	atomic_store_explicit(&b->seq, s + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
}

static void
shm_wend(struct shm_bucket *b)
{
	uint32_t	s = atomic_load_explicit(&b->seq, memory_order_relaxed);

	atomic_store_explicit(&b->seq, s + 1, memory_order_release);
}

/*
 * The buddy allocator.  A block of order k is SHM_BLOCK_MIN << k bytes at
 * a heap offset that is a multiple of its size; its buddy is the block
 * that offset differs from in bit k.
 */
static uint32_t
shm_order(size_t n)
{
	uint32_t	k = 0;

	while (((size_t)SHM_BLOCK_MIN << k) < n)
		k++;
	return (k);
}

static uint8_t *
shm_tag(struct shm_file *f, uint32_t off)
{
	return (&f->tag[(off - f->heap_off) / SHM_BLOCK_MIN]);
}

static void
shm_push(struct shm_file *f, uint32_t off, uint32_t k)
{
	struct shm_freeblk	*fb = (struct shm_freeblk *)(f->map + off);
	uint32_t		 head = f->free[k];

	*shm_tag(f, off) = SHM_TAG_FREE | k;
	atomic_store_explicit(&fb->next, head, memory_order_relaxed);
	atomic_store_explicit(&fb->prev, 0, memory_order_relaxed);
	if (head != 0)
		atomic_store_explicit(&((struct shm_freeblk *)(f->map +
		    head))->prev, off, memory_order_relaxed);
	f->free[k] = off;
}

static void
shm_unlink_free(struct shm_file *f, uint32_t off, uint32_t k)
{
	struct shm_freeblk	*fb = (struct shm_freeblk *)(f->map + off);
	uint32_t		 next, prev;

	next = atomic_load_explicit(&fb->next, memory_order_relaxed);
	prev = atomic_load_explicit(&fb->prev, memory_order_relaxed);
	if (prev != 0)
		atomic_store_explicit(&((struct shm_freeblk *)(f->map +
		    prev))->next, next, memory_order_relaxed);
	else
		f->free[k] = next;
	if (next != 0)
		atomic_store_explicit(&((struct shm_freeblk *)(f->map +
		    next))->prev, prev, memory_order_relaxed);
	*shm_tag(f, off) = 0;
}

/* A block of order k, or 0 when the heap has none. */
static uint32_t
shm_alloc(struct shm_file *f, uint32_t k)
{
	uint32_t	j, off;

	for (j = k; j < SHM_NORDERS && f->free[j] == 0; j++)
		;
	if (j >= SHM_NORDERS)
		return (0);
	off = f->free[j];
	shm_unlink_free(f, off, j);
	while (j > k) {			/* split, keeping the lower half */
		j--;
		shm_push(f, off + (SHM_BLOCK_MIN << j), j);
	}
	*shm_tag(f, off) = SHM_TAG_USED | k;
	f->used += (size_t)SHM_BLOCK_MIN << k;
	return (off);
}

static void
shm_release(struct shm_file *f, uint32_t off)
{
	uint32_t	k = *shm_tag(f, off) & SHM_TAG_ORDER, rel, brel;

	*shm_tag(f, off) = 0;
	f->used -= (size_t)SHM_BLOCK_MIN << k;
	rel = off - f->heap_off;
	for (; k + 1 < SHM_NORDERS; k++) {	/* merge with free buddies */
		brel = rel ^ (SHM_BLOCK_MIN << k);
		if ((size_t)brel + (SHM_BLOCK_MIN << k) > f->heap_size ||
		    f->tag[brel / SHM_BLOCK_MIN] != (SHM_TAG_FREE | k))
			break;
		shm_unlink_free(f, f->heap_off + brel, k);
		if (brel < rel)
			rel = brel;
	}
	shm_push(f, f->heap_off + rel, k);
}

static size_t
shm_block_size(struct shm_file *f, uint32_t off)
{
	return ((size_t)SHM_BLOCK_MIN << (*shm_tag(f, off) & SHM_TAG_ORDER));
}

/* The heap as naturally aligned free blocks, largest first. */
static void
shm_heap_init(struct shm_file *f)
{
	uint32_t	rel = 0, k;

	while ((size_t)rel + SHM_BLOCK_MIN <= f->heap_size) {
		for (k = SHM_NORDERS - 1; k > 0; k--)
			if (rel % (SHM_BLOCK_MIN << k) == 0 &&
			    (size_t)rel + (SHM_BLOCK_MIN << k) <= f->heap_size)
				break;
		shm_push(f, f->heap_off + rel, k);
		rel += SHM_BLOCK_MIN << k;
	}
}

/*
 * Files.  A new one is an O_TMPFILE in the path's directory (a named
 * temp file created with O_EXCL|O_NOFOLLOW where the file system has no
 * O_TMPFILE), with the mirror's group and mode set on the descriptor and
 * every byte allocated up front: a full tmpfs fails here with ENOSPC,
 * never later with SIGBUS on a store into the mapping.
 */
static int
shm_file_open(struct shmirror *m, struct shm_file *f)
{
	int	fd;

	fd = open(m->dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd == -1 && (errno == EOPNOTSUPP || errno == EISDIR ||
	    errno == EINVAL)) {
		xasprintf(&f->name, "%s.tmp%llu", m->path,
		    (unsigned long long)m->generation);
		if (unlink(f->name) == -1 && errno != ENOENT)
			return (-1);
		fd = open(f->name, O_CREAT | O_EXCL | O_NOFOLLOW | O_RDWR |
		    O_CLOEXEC, 0600);
		if (fd == -1) {
			free(f->name);
			f->name = NULL;
		}
	}
	if (fd == -1)
		return (-1);
	f->fd = fd;
	/* Another group only if gtd may give it; else no group read. */
	if (m->gid != (gid_t)-1 && fchown(fd, (uid_t)-1, m->gid) == -1)
		m->mode &= ~(mode_t)S_IRGRP;
	if (fchmod(fd, m->mode) == -1)
		return (-1);
	if ((errno = posix_fallocate(fd, 0, (off_t)f->size)) != 0)
		return (-1);
	f->map = mmap(NULL, f->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
	    0);
	if (f->map == MAP_FAILED) {
		f->map = NULL;
		return (-1);
	}
	/* Not in a forked child: nothing to copy, nothing to scribble on. */
	(void)madvise(f->map, f->size, MADV_DONTFORK);	/* advisory */
	return (0);
}

/* A new, empty file of about size bytes (SHM_MIN_BYTES at least). */
static struct shm_file *
shm_file_new(struct shmirror *m, size_t size)
{
	struct shm_file		*f;
	struct shm_header	*h;
	uint32_t		 nb = 16;

	size &= ~(size_t)(SHM_BLOCK_MIN - 1);
	while ((size_t)nb * SHM_BUCKET_BYTES < size)
		nb <<= 1;
	f = xcalloc(1, sizeof *f);
	f->fd = -1;
	f->size = size;
	f->mask = nb - 1;
	f->heap_off = SHM_HEADER_SIZE + nb * sizeof(struct shm_bucket);
	f->heap_size = (uint32_t)((size - f->heap_off) &
	    ~(size_t)(SHM_BLOCK_MIN - 1));
	m->generation++;
	if (shm_file_open(m, f) == -1) {
		shm_fail(m, "%s: %s", m->path, strerror(errno));
		shm_file_free(f);
		return (NULL);
	}
	f->tag = xcalloc(f->heap_size / SHM_BLOCK_MIN, 1);
	f->h = h = (struct shm_header *)f->map;
	f->b = (struct shm_bucket *)(f->map + SHM_HEADER_SIZE);
	memcpy(h->magic, SHM_MAGIC, sizeof SHM_MAGIC);
	h->version = SHM_VERSION;
	h->header_size = SHM_HEADER_SIZE;
	h->file_size = size;
	h->nbuckets = nb;
	h->buckets_off = SHM_HEADER_SIZE;
	h->heap_off = f->heap_off;
	h->hash_seed = m->seed;
	h->pid = (uint32_t)getpid();
	h->generation = m->generation;
	shm_heap_init(f);
	return (f);
}

static void
shm_file_free(struct shm_file *f)
{
	if (f == NULL)
		return;
	if (f->map != NULL)
		munmap(f->map, f->size);
	if (f->fd != -1)
		close(f->fd);
	if (f->name != NULL)
		(void)unlink(f->name);	/* never published: nobody needs it */
	free(f->name);
	free(f->tag);
	free(f);
}

/* Tell the readers of a file that is no longer the path's. */
static void
shm_flag(struct shm_header *h, uint32_t flags)
{
	atomic_fetch_or_explicit(&h->flags, flags, memory_order_release);
}

/*
 * A mirror left by a gtd that died: its readers must learn that it is
 * stale.  Only a regular file of ours with the magic is touched.
 */
static void
shm_mark_stale(const char *path)
{
	struct stat	 st;
	void		*p;
	int		 fd;

	if ((fd = open(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1)
		return;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_uid == geteuid() && st.st_size >= SHM_HEADER_SIZE &&
	    (p = mmap(NULL, SHM_HEADER_SIZE, PROT_READ | PROT_WRITE,
	    MAP_SHARED, fd, 0)) != MAP_FAILED) {
		if (memcmp(p, SHM_MAGIC, sizeof SHM_MAGIC) == 0)
			shm_flag(p, SHM_F_REPLACED | SHM_F_CLOSED);
		munmap(p, SHM_HEADER_SIZE);
	}
	close(fd);
}

/* Give f the path (readers opening it from now on get f). */
static int
shm_file_link(struct shmirror *m, struct shm_file *f)
{
	char	proc[64];

	if (f->name != NULL) {
		if (rename(f->name, m->path) == -1)
			return (shm_fail(m, "%s: %s", m->path,
			    strerror(errno)));
		free(f->name);
		f->name = NULL;
		return (0);
	}
	if (unlink(m->tmp) == -1 && errno != ENOENT)
		return (shm_fail(m, "%s: %s", m->tmp, strerror(errno)));
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", f->fd);
	if (linkat(AT_FDCWD, proc, AT_FDCWD, m->tmp, AT_SYMLINK_FOLLOW) ==
	    -1 && linkat(f->fd, "", AT_FDCWD, m->tmp, AT_EMPTY_PATH) == -1)
		return (shm_fail(m, "%s: %s", m->tmp, strerror(errno)));
	if (rename(m->tmp, m->path) == -1) {
		shm_fail(m, "%s: %s", m->path, strerror(errno));
		(void)unlink(m->tmp);	/* best effort; the error is above */
		return (-1);
	}
	return (0);
}

/* Make f the published file; the old one's readers re-open. */
static int
shm_publish(struct shmirror *m, struct shm_file *f)
{
	if (m->cur == NULL)
		shm_mark_stale(m->path);
	if (shm_file_link(m, f) == -1)
		return (-1);
	if (m->cur != NULL)
		shm_flag(m->cur->h, SHM_F_REPLACED);
	shm_file_free(m->cur);
	m->cur = f;
	m->full = false;
	return (0);
}

struct shmirror *
shmirror_new(const struct shmirror_opts *o, char **cause)
{
	struct shmirror	*m;
	struct stat	 st;
	char		*d;

	if (o->max_bytes < SHM_MIN_BYTES || o->max_bytes > SHM_MAX_BYTES) {
		xasprintf(cause, "max_mirror_bytes must be %u to %u",
		    SHM_MIN_BYTES, SHM_MAX_BYTES);
		return (NULL);
	}
	if (lstat(o->socket, &st) == -1) {
		xasprintf(cause, "%s: %s", o->socket, strerror(errno));
		return (NULL);
	}
	m = xcalloc(1, sizeof *m);
	m->path = xstrdup(o->path);
	xasprintf(&m->tmp, "%s.tmp", o->path);
	d = xstrdup(o->path);
	m->dir = xstrdup(dirname(d));
	free(d);
	m->max_bytes = o->max_bytes;
	/* Whoever may connect (write) to the socket may read the mirror. */
	m->mode = S_IRUSR | S_IWUSR;
	if (!o->owner_only && (st.st_mode & S_IWGRP))
		m->mode |= S_IRGRP;
	if (!o->owner_only && (st.st_mode & S_IWOTH))
		m->mode |= S_IROTH;
	m->gid = st.st_gid;
	if (getrandom(&m->seed, sizeof m->seed, GRND_NONBLOCK) !=
	    sizeof m->seed)
		m->seed = (uint32_t)time(NULL) ^ (uint32_t)getpid();
	return (m);
}

void
shmirror_free(struct shmirror *m)
{
	struct stat	a, b;

	if (m == NULL)
		return;
	if (m->cur != NULL) {
		shm_flag(m->cur->h, SHM_F_REPLACED | SHM_F_CLOSED);
		/* Only our own file: a later gtd may have replaced it. */
		if (lstat(m->path, &a) == 0 && fstat(m->cur->fd, &b) == 0 &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			(void)unlink(m->path);	/* gone: fine */
	}
	shm_file_free(m->cur);
	shm_file_free(m->stage);
	free(m->bname);
	free(m->brec);
	shm_pend_clear(m);
	free(m->pend);
	free(m->scratch);
	free(m->ents);
	free(m->err);
	free(m->dir);
	free(m->tmp);
	free(m->path);
	free(m);
}

const char *
shmirror_errmsg(struct shmirror *m)
{
	return (m->err != NULL ? m->err : "no error");
}

bool
shmirror_degraded(struct shmirror *m)
{
	return (m->cur != NULL && (m->full || m->cur->npartial > 0));
}

void
shmirror_info(struct shmirror *m, struct shmirror_info *i)
{
	memset(i, 0, sizeof *i);
	if (m->cur == NULL)
		return;
	i->file_size = m->cur->size;
	i->generation = m->cur->h->generation;
	i->used = m->cur->used;
	i->nrecords = m->cur->nrecords;
	i->npartial = m->cur->npartial;
	i->full = m->full;
}

/* The file changes go to: the rebuild's, else the published one. */
static struct shm_file *
shm_target(struct shmirror *m)
{
	return (m->stage != NULL ? m->stage : m->cur);
}

/*
 * The record of name (hash h) and the link that points at it; 0 and the
 * chain's last link when there is none.
 */
static uint32_t
shm_lookup(struct shm_file *f, uint32_t h, const char *name, size_t len,
    _Atomic uint32_t **linkp)
{
	_Atomic uint32_t	*link = &f->b[h & f->mask].head;
	struct shm_record	*r;
	uint32_t		 off;

	while ((off = LD(*link)) != 0) {
		r = shm_rec(f, off);
		if (LD(r->hash) == h && LD(r->name_len) == len &&
		    memcmp(shm_rec_name(r), name, len) == 0)
			break;
		link = &r->next;
	}
	*linkp = link;
	return (off);
}

/* Bytewise order, a prefix first: strcmp's order for keys. */
static int
shm_keycmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int	c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return (c);
	return (alen < blen ? -1 : alen > blen);
}

/* The i-th attr of r (index order). */
static struct shm_attr *
shm_rec_attr(struct shm_record *r, uint32_t i)
{
	uint32_t	*idx;

	idx = (uint32_t *)((uint8_t *)r + SHM_INDEX_OFF(LD(r->name_len)));
	return ((struct shm_attr *)((uint8_t *)r + idx[i]));
}

static void
shm_ent_of(struct shm_attr *a, struct shm_ent *e)
{
	e->klen = LD(a->klen);
	e->key = (const char *)(a + 1);
	e->type = LD(a->type);
	e->vlen = LD(a->vlen);
	e->val = (uint8_t *)a + SHM_VALUE_OFF(e->klen);
}

static void
shm_ents_room(struct shmirror *m, size_t n)
{
	if (n <= m->entsize)
		return;
	m->ents = xreallocarray(m->ents, n, sizeof *m->ents);
	m->entsize = n;
}

/*
 * m->ents = the attrs of r (NULL: none), with c's key set (SHM_ASET) or
 * left out (SHM_ADEL).  Returns how many; *found says whether the key
 * was there.
 */
static size_t
shm_gather(struct shmirror *m, struct shm_record *r,
    const struct shm_change *c, bool *found)
{
	const struct shm_ent	*ne = &c->attr;
	uint32_t		 n = r == NULL ? 0 : LD(r->nattrs), i;
	size_t			 k = 0;
	bool			 placed = c->op != SHM_ASET;
	int			 cmp;

	*found = false;
	shm_ents_room(m, (size_t)n + 1);
	for (i = 0; i < n; i++) {
		shm_ent_of(shm_rec_attr(r, i), &m->ents[k]);
		cmp = c->op == SHM_ASET || c->op == SHM_ADEL ?
		    shm_keycmp(m->ents[k].key, m->ents[k].klen, ne->key,
		    ne->klen) : -1;
		if (cmp == 0) {
			*found = true;
			if (c->op == SHM_ADEL)
				continue;
			m->ents[k] = *ne;
			placed = true;
		} else if (cmp > 0 && !placed) {
			m->ents[k + 1] = m->ents[k];
			m->ents[k++] = *ne;
			placed = true;
		}
		k++;
	}
	if (!placed)
		m->ents[k++] = *ne;
	return (k);
}

static size_t
shm_ent_size(const struct shm_ent *e)
{
	return (SHM_VALUE_OFF(e->klen) + (e->type == SHM_T_INT ||
	    e->type == SHM_T_REAL ? 8 : SHM_ALIGN(e->vlen + 1, 8)));
}

static void
shm_scratch_room(struct shmirror *m, size_t n)
{
	if (n <= m->scratchsize)
		return;
	free(m->scratch);
	m->scratch = xmalloc(n);
	m->scratchsize = n;
}

/*
 * Compose c's record with the fixed fields given and nents attrs from
 * m->ents into m->scratch.  Returns its size, or 0 when it cannot be
 * stored in any file (larger than SHM_MAX_BYTES).
 */
static size_t
shm_compose(struct shmirror *m, const struct shm_change *c, uint32_t h,
    const struct shm_record *fix, size_t nents, uint32_t flags)
{
	struct shm_record	*r;
	struct shm_attr		*a;
	uint32_t		*idx;
	size_t			 size, at, i;

	at = SHM_ALIGN(SHM_INDEX_OFF(c->len) + 4 * nents, 8);
	size = at;
	for (i = 0; i < nents; i++)
		size += shm_ent_size(&m->ents[i]);
	if (size > SHM_MAX_BYTES)
		return (0);
	shm_scratch_room(m, size);
	memset(m->scratch, 0, at);
	r = (struct shm_record *)m->scratch;
	ST(r->hash, h);
	ST(r->size, (uint32_t)size);
	ST(r->flags, flags);
	ST(r->pid, LD(fix->pid));
	ST(r->restart_count, LD(fix->restart_count));
	ST(r->nattrs, (uint32_t)nents);
	ST(r->name_len, (uint16_t)c->len);
	memcpy(r->state, fix->state, SHM_STATE_MAX);
	memcpy(m->scratch + sizeof *r, c->name, c->len);
	idx = (uint32_t *)(m->scratch + SHM_INDEX_OFF(c->len));
	for (i = 0; i < nents; i++) {
		idx[i] = (uint32_t)at;
		a = (struct shm_attr *)(m->scratch + at);
		memset(a, 0, shm_ent_size(&m->ents[i]));
		ST(a->type, m->ents[i].type);
		ST(a->klen, (uint16_t)m->ents[i].klen);
		ST(a->vlen, (uint32_t)m->ents[i].vlen);
		memcpy(a + 1, m->ents[i].key, m->ents[i].klen);
		memcpy((uint8_t *)a + SHM_VALUE_OFF(m->ents[i].klen),
		    m->ents[i].val, m->ents[i].vlen);
		at += shm_ent_size(&m->ents[i]);
	}
	return (size);
}

/*
 * Store the record in m->scratch (size bytes) in place of old, the
 * record at *link (0: a new one, appended at *link).  In place when it
 * fits old's block and is not far smaller; else in a new block, linked in
 * under the seqlock, after which old's block is freed.  0, or -1 when the
 * heap has no block for it (nothing changed).
 */
static int
shm_store(struct shmirror *m, struct shm_file *f, uint32_t h,
    _Atomic uint32_t *link, uint32_t old, size_t size)
{
	struct shm_bucket	*b = &f->b[h & f->mask];
	struct shm_record	*r;
	size_t			 bs = 0;
	uint32_t		 off, next = 0;

	if (old != 0) {
		next = LD(shm_rec(f, old)->next);
		bs = shm_block_size(f, old);
		if (size <= bs && (bs == SHM_BLOCK_MIN || size > bs / 4))
			goto inplace;
	}
	if ((off = shm_alloc(f, shm_order(size))) == 0) {
		if (old != 0 && size <= bs)
			goto inplace;		/* a smaller block would do */
		return (-1);
	}
	r = shm_rec(f, off);
	memcpy(r, m->scratch, size);
	ST(r->next, next);
	shm_wbegin(b);
	ST(*link, off);
	shm_wend(b);
	if (old != 0)
		shm_release(f, old);
	else
		f->nrecords++;
	return (0);
inplace:
	/* Every byte but next, which stays: readers may be walking it. */
	shm_wbegin(b);
	memcpy(f->map + old + sizeof r->next, m->scratch + sizeof r->next,
	    size - sizeof r->next);
	shm_wend(b);
	return (0);
}

/* Rewrite in place the value of an attr of the same type and size. */
static bool
shm_set_inplace(struct shm_file *f, uint32_t h, struct shm_record *r,
    const struct shm_ent *ne)
{
	struct shm_attr	*a;
	struct shm_ent	 e;
	uint32_t	 lo = 0, hi = LD(r->nattrs), mid;
	int		 cmp;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		a = shm_rec_attr(r, mid);
		shm_ent_of(a, &e);
		if ((cmp = shm_keycmp(e.key, e.klen, ne->key, ne->klen)) == 0) {
			if (e.type != ne->type || e.vlen != ne->vlen)
				return (false);
			shm_wbegin(&f->b[h & f->mask]);
			memcpy((uint8_t *)e.val, ne->val, ne->vlen);
			shm_wend(&f->b[h & f->mask]);
			return (true);
		}
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (false);
}

static void
shm_state_copy(char *dst, const char *state)
{
	size_t	n = state == NULL ? 0 : strlen(state);

	memset(dst, 0, SHM_STATE_MAX);
	memcpy(dst, state, n < SHM_STATE_MAX - 1 ? n : SHM_STATE_MAX - 1);
}

/* The fixed fields of a row, in place (always fits). */
static void
shm_put_fixed(struct shm_file *f, uint32_t h, struct shm_record *r,
    const struct shm_change *c)
{
	struct shm_bucket	*b = &f->b[h & f->mask];

	shm_wbegin(b);
	atomic_store_explicit(&r->pid, c->pid, memory_order_relaxed);
	atomic_store_explicit(&r->restart_count, c->restart_count,
	    memory_order_relaxed);
	shm_state_copy(r->state, c->state);
	shm_wend(b);
}

/* A record whose attrs were dropped (a remote one never had any). */
static bool
shm_rec_partial(struct shm_record *r)
{
	return ((LD(r->flags) & (SHM_R_PARTIAL | SHM_R_REMOTE)) ==
	    SHM_R_PARTIAL);
}

/* Compose c's remote record (SHM_RPUT) into m->scratch; its size. */
static size_t
shm_compose_remote(struct shmirror *m, const struct shm_change *c,
    uint32_t h)
{
	struct shm_record	*r;
	size_t			 size;

	size = SHM_ALIGN(SHM_INDEX_OFF(c->len) + c->nodelen + 1, 8);
	shm_scratch_room(m, size);
	memset(m->scratch, 0, size);
	r = (struct shm_record *)m->scratch;
	ST(r->hash, h);
	ST(r->size, (uint32_t)size);
	ST(r->flags, SHM_R_REMOTE | SHM_R_PARTIAL);
	ST(r->pid, c->pid);
	ST(r->name_len, (uint16_t)c->len);
	ST(r->node_len, (uint16_t)c->nodelen);
	shm_state_copy(r->state, c->state);
	memcpy(m->scratch + sizeof *r, c->name, c->len);
	memcpy(m->scratch + SHM_INDEX_OFF(c->len), c->node, c->nodelen);
	return (size);
}

static void
shm_unlink_rec(struct shm_file *f, uint32_t h, _Atomic uint32_t *link,
    uint32_t off)
{
	struct shm_bucket	*b = &f->b[h & f->mask];
	struct shm_record	*r = shm_rec(f, off);

	shm_wbegin(b);
	ST(*link, LD(r->next));
	shm_wend(b);
	if (shm_rec_partial(r))
		f->npartial--;
	shm_release(f, off);
	f->nrecords--;
}

/* The fixed fields of c's record: a put's, else the record's (if any). */
static void
shm_fixed(struct shm_record *fix, struct shm_record *r,
    const struct shm_change *c)
{
	memset(fix, 0, sizeof *fix);
	if (c->op == SHM_RECORD)
		r = (struct shm_record *)(uintptr_t)c->rec;
	if (c->op == SHM_PUT) {
		ST(fix->pid, c->pid);
		ST(fix->restart_count, c->restart_count);
		shm_state_copy(fix->state, c->state);
	} else if (r != NULL) {
		ST(fix->pid, LD(r->pid));
		ST(fix->restart_count, LD(r->restart_count));
		memcpy(fix->state, r->state, SHM_STATE_MAX);
	}
}

/*
 * Apply c to f.  0 when done, -1 when f has no room (nothing changed), -2
 * when the record cannot exist in any file.
 */
static int
shm_apply(struct shmirror *m, struct shm_file *f, const struct shm_change *c)
{
	struct shm_record	 fix, *r = NULL;
	_Atomic uint32_t	*link;
	uint32_t		 h = shm_hash(m->seed, c->name, c->len), off;
	size_t			 n, size;
	bool			 found = false, partial, remote;

	if ((off = shm_lookup(f, h, c->name, c->len, &link)) != 0)
		r = shm_rec(f, off);
	partial = r != NULL && shm_rec_partial(r);
	remote = r != NULL && (LD(r->flags) & SHM_R_REMOTE);
	/* A remote record takes no attrs; a local put replaces it whole. */
	if (remote && c->op != SHM_PUT && c->op != SHM_DEL &&
	    c->op != SHM_RPUT)
		return (0);
	switch (c->op) {
	case SHM_RPUT:
		size = shm_compose_remote(m, c, h);
		if (shm_store(m, f, h, link, off, size) == -1)
			return (-1);
		if (partial)
			f->npartial--;
		return (0);
	case SHM_PUT:
		if (r != NULL && !remote) {
			shm_put_fixed(f, h, r, c);
			return (0);
		}
		break;
	case SHM_DEL:
		if (r != NULL)
			shm_unlink_rec(f, h, link, off);
		return (0);
	case SHM_ASET:
		if (partial || (r != NULL && shm_set_inplace(f, h, r,
		    &c->attr)))
			return (0);
		break;
	case SHM_ADEL:
		if (r == NULL || partial)
			return (0);
		break;
	case SHM_ACLEAR:
		if (r == NULL || (LD(r->nattrs) == 0 && !partial))
			return (0);
		break;
	case SHM_RECORD:
		shm_scratch_room(m, c->reclen);
		memcpy(m->scratch, c->rec, c->reclen);
		if (shm_store(m, f, h, link, off, c->reclen) == -1)
			return (-1);
		if (partial)
			f->npartial--;
		if (shm_rec_partial((struct shm_record *)(uintptr_t)c->rec))
			f->npartial++;
		return (0);
	}
	shm_fixed(&fix, r, c);
	n = c->op == SHM_ACLEAR || c->op == SHM_PUT ? 0 :
	    shm_gather(m, r, c, &found);
	if (c->op == SHM_ADEL && !found)
		return (0);
	if ((size = shm_compose(m, c, h, &fix, n, 0)) == 0)
		return (-2);
	if (shm_store(m, f, h, link, off, size) == -1)
		return (-1);
	if (partial)
		f->npartial--;
	return (0);
}

/*
 * Copy every record of f into a new file of size bytes.  The new file,
 * or NULL when they do not fit (or a system call failed: m->err).
 */
static struct shm_file *
shm_copy(struct shmirror *m, struct shm_file *f, size_t size)
{
	struct shm_file		*nf;
	struct shm_record	*r, *nr;
	struct shm_bucket	*nb;
	uint32_t		 i, off, noff, rsize;

	if ((nf = shm_file_new(m, size)) == NULL)
		return (NULL);
	for (i = 0; i <= f->mask; i++) {
		for (off = LD(f->b[i].head); off != 0; off = LD(r->next)) {
			r = shm_rec(f, off);
			rsize = LD(r->size);
			if ((noff = shm_alloc(nf, shm_order(rsize))) == 0) {
				shm_fail(m, "%s: the registry needs more than "
				    "%zu bytes", m->path, size);
				shm_file_free(nf);
				return (NULL);
			}
			nr = shm_rec(nf, noff);
			memcpy(nr, r, rsize);
			nb = &nf->b[LD(r->hash) & nf->mask];
			ST(nr->next, LD(nb->head));
			ST(nb->head, noff);
			nf->nrecords++;
			if (shm_rec_partial(nr))
				nf->npartial++;
		}
	}
	return (nf);
}

/*
 * Move the target file's records into a larger one, with room for a
 * record of need bytes more: the rebuild's file is simply swapped, the
 * published one is replaced.  0, or -1 (m->err) at the cap or when a
 * system call failed.
 */
static int
shm_grow(struct shmirror *m, size_t need)
{
	struct shm_file	*f = shm_target(m), *nf;
	size_t		 size = f->size, want;

	if (size >= m->max_bytes)
		return (shm_fail(m, "%s: the registry needs more than "
		    "max_mirror_bytes (%zu)", m->path, m->max_bytes));
	want = 2 * (f->used + ((size_t)SHM_BLOCK_MIN << shm_order(need))) +
	    f->heap_off;
	while (size < want && size < m->max_bytes)
		size *= 2;
	if (size > m->max_bytes)
		size = m->max_bytes;
	if ((nf = shm_copy(m, f, size)) == NULL)
		return (-1);
	if (f == m->stage) {
		shm_file_free(f);
		m->stage = nf;
		return (0);
	}
	if (shm_publish(m, nf) == -1) {
		shm_file_free(nf);
		return (-1);
	}
	return (0);
}

/*
 * A change that does not fit the published file even at the cap: the
 * record keeps its fixed fields but drops its attrs (SHM_R_PARTIAL:
 * readers ask the socket for them), which always fits its own block; a
 * row with no record yet gets a partial one if a block is left, else the
 * whole file is marked SHM_F_FULL.  Returns -1 (m->err says why).
 */
static int
shm_degrade(struct shmirror *m, const struct shm_change *c)
{
	struct shm_file		*f = m->cur;
	struct shm_record	 fix, *r = NULL;
	_Atomic uint32_t	*link;
	uint32_t		 h = shm_hash(m->seed, c->name, c->len), off;
	size_t			 size;
	bool			 was = false;

	if ((off = shm_lookup(f, h, c->name, c->len, &link)) != 0) {
		r = shm_rec(f, off);
		was = shm_rec_partial(r);
	}
	if (c->op == SHM_RPUT) {	/* as small as it gets already */
		size = shm_compose_remote(m, c, h);
		if (shm_store(m, f, h, link, off, size) == 0) {
			if (was)
				f->npartial--;
			return (-1);
		}
		goto full;
	}
	if (r != NULL && (LD(r->flags) & SHM_R_REMOTE))
		r = NULL;		/* not this row's fixed fields */
	shm_fixed(&fix, r, c);
	size = shm_compose(m, c, h, &fix, 0, SHM_R_PARTIAL);
	if (shm_store(m, f, h, link, off, size) == 0) {
		if (!was)
			f->npartial++;
		return (-1);
	}
full:
	shm_flag(f->h, SHM_F_FULL);
	m->full = true;
	return (-1);
}

static int	shm_batch_add(struct shmirror *, const struct shm_change *);
static int	shm_batch_flush(struct shmirror *);
static int	shm_change_now(struct shmirror *, const struct shm_change *);

/* Apply c, or add it to the batch (which other changes store first). */
static int
shm_change(struct shmirror *m, const struct shm_change *c)
{
	int	flushed, rc;
	bool	same;

	if (c->len == 0 || c->len > SHM_NAME_MAX)
		return (0);		/* no such row can exist */
	if (m->bname == NULL)
		return (shm_change_now(m, c));
	same = strlen(m->bname) == c->len &&
	    memcmp(m->bname, c->name, c->len) == 0;
	if (same && c->op != SHM_PUT && c->op != SHM_DEL &&
	    c->op != SHM_RPUT)
		return (shm_batch_add(m, c));
	/* First the batch, then this; a change of its row's own ends it. */
	flushed = same ? shmirror_batch_end(m) : shm_batch_flush(m);
	rc = shm_change_now(m, c);
	return (flushed == -1 ? -1 : rc);
}

/* Apply c to the target file, growing it as needed. */
static int
shm_change_now(struct shmirror *m, const struct shm_change *c)
{
	struct shm_file	*f;
	int		 i, rc;

	if (m->stage == NULL && (m->cur == NULL || m->full))
		return (0);		/* nothing to keep, or known stale */
	if (m->stage != NULL && m->stage_failed)
		return (0);
	for (i = 0; i < SHM_RETRY_GROW; i++) {
		f = shm_target(m);
		if ((rc = shm_apply(m, f, c)) == 0)
			return (0);
		if (rc == -2) {
			shm_fail(m, "%s: a record of %s is too large",
			    m->path, c->name);
			break;
		}
		if (shm_grow(m, m->scratchsize) == -1)
			break;
	}
	if (m->stage != NULL) {
		m->stage_failed = true;
		return (-1);
	}
	return (shm_degrade(m, c));
}

/* A key too long for the layout degrades its record as a full one would. */
static int
shm_change_attr(struct shmirror *m, struct shm_change *c, const char *key,
    const struct value *v)
{
	c->attr.key = key;
	c->attr.klen = strlen(key);
	if (v != NULL) {
		switch (v->type) {
		case VALUE_INT:
			c->attr.type = SHM_T_INT;
			c->attr.val = &v->i;
			c->attr.vlen = 8;
			break;
		case VALUE_REAL:
			c->attr.type = SHM_T_REAL;
			c->attr.val = &v->r;
			c->attr.vlen = 8;
			break;
		case VALUE_TEXT:
		case VALUE_JSON:
			c->attr.type = v->type == VALUE_TEXT ? SHM_T_TEXT :
			    SHM_T_JSON;
			c->attr.val = v->s;
			c->attr.vlen = strlen(v->s);
			break;
		}
	}
	if (c->attr.klen == 0 || c->attr.klen > SHM_KEY_MAX ||
	    c->attr.vlen > SHM_MAX_BYTES) {
		shm_fail(m, "%s: attr %.64s of %s does not fit the layout",
		    m->path, key, c->name);
		if (m->stage != NULL) {
			m->stage_failed = true;
			return (-1);
		}
		return (m->cur == NULL || m->full ? 0 : shm_degrade(m, c));
	}
	return (shm_change(m, c));
}

int
shmirror_child_put(struct shmirror *m, const char *name, pid_t pid,
    const char *state, int restart_count)
{
	struct shm_change	c = { .op = SHM_PUT, .name = name,
	    .len = strlen(name), .pid = pid > 0 ? (int32_t)pid : 0,
	    .state = state, .restart_count = restart_count < 0 ? 0 :
	    (uint32_t)restart_count };

	return (shm_change(m, &c));
}

int
shmirror_remote_put(struct shmirror *m, const char *name, const char *node,
    pid_t pid, const char *state)
{
	struct shm_change	c = { .op = SHM_RPUT, .name = name,
	    .len = strlen(name), .pid = pid > 0 ? (int32_t)pid : 0,
	    .state = state, .node = node, .nodelen = strlen(node) };

	if (c.nodelen == 0 || c.nodelen > SHM_NODE_MAX)
		return (0);		/* no such node can exist */
	return (shm_change(m, &c));
}

int
shmirror_child_del(struct shmirror *m, const char *name)
{
	struct shm_change	c = { .op = SHM_DEL, .name = name,
	    .len = strlen(name) };

	return (shm_change(m, &c));
}

int
shmirror_attr_set(struct shmirror *m, const char *name, const char *key,
    const struct value *v)
{
	struct shm_change	c = { .op = SHM_ASET, .name = name,
	    .len = strlen(name) };

	return (shm_change_attr(m, &c, key, v));
}

int
shmirror_attr_del(struct shmirror *m, const char *name, const char *key)
{
	struct shm_change	c = { .op = SHM_ADEL, .name = name,
	    .len = strlen(name) };

	return (shm_change_attr(m, &c, key, NULL));
}

int
shmirror_attr_clear(struct shmirror *m, const char *name)
{
	struct shm_change	c = { .op = SHM_ACLEAR, .name = name,
	    .len = strlen(name) };

	return (shm_change(m, &c));
}

int
shmirror_rebuild_begin(struct shmirror *m)
{
	size_t	size = SHM_MIN_BYTES;

	if (m->bname != NULL)
		(void)shmirror_batch_end(m);	/* reported by its calls */
	shm_file_free(m->stage);
	m->stage = NULL;
	m->stage_failed = false;
	if (size > m->max_bytes)
		size = m->max_bytes;
	if ((m->stage = shm_file_new(m, size)) == NULL)
		return (-1);
	return (0);
}

int
shmirror_rebuild_end(struct shmirror *m)
{
	struct shm_file	*f = m->stage;

	m->stage = NULL;
	if (f == NULL)
		return (shm_fail(m, "%s: no rebuild in progress", m->path));
	if (m->stage_failed || shm_publish(m, f) == -1) {
		shm_file_free(f);
		return (-1);
	}
	return (0);
}

void
shmirror_rebuild_abort(struct shmirror *m)
{
	shm_file_free(m->stage);
	m->stage = NULL;
	m->stage_failed = false;
}

/*
 * Batches.  The attr changes of the batch's row are composed into a
 * private copy of its record (m->brec), which the end of the batch
 * stores in one write, so readers see all of them or none.  Any other
 * change flushes the batch first, keeping the order of changes.
 */
static void
shm_brec_room(struct shmirror *m, size_t n)
{
	if (n <= m->bsize)
		return;
	free(m->brec);
	m->brec = xmalloc(n);
	m->bsize = n;
}

void
shmirror_batch_begin(struct shmirror *m, const char *name)
{
	struct shm_file		*f = shm_target(m);
	_Atomic uint32_t	*link;
	uint32_t		 off = 0;
	size_t			 len = strlen(name);

	if (m->bname != NULL)
		(void)shmirror_batch_end(m);	/* reported by its calls */
	if (f == NULL || len == 0 || len > SHM_NAME_MAX)
		return;
	m->bname = xstrdup(name);
	m->blen = 0;
	m->bdirty = false;
	shm_pend_clear(m);
	if ((off = shm_lookup(f, shm_hash(m->seed, name, len), name, len,
	    &link)) != 0) {
		m->blen = LD(shm_rec(f, off)->size);
		shm_brec_room(m, m->blen);
		memcpy(m->brec, shm_rec(f, off), m->blen);
	}
}

static void
shm_pend_clear(struct shmirror *m)
{
	size_t	i;

	for (i = 0; i < m->npend; i++)
		free(m->pend[i].key);
	m->npend = 0;
	m->bclear = false;
}

/*
 * Keep an attr change of the batch's row for its end: a batch of n keys
 * costs one merge, not n rewrites of the record.
 */
static int
shm_batch_add(struct shmirror *m, const struct shm_change *c)
{
	struct shm_record	*r = NULL;
	struct shm_pend		*p;

	if (m->blen != 0)
		r = (struct shm_record *)m->brec;
	if (c->op == SHM_ACLEAR) {
		shm_pend_clear(m);
		m->bclear = true;
		m->bdirty = r != NULL;
		return (0);
	}
	/* A partial record's attrs come from the socket. */
	if (!m->bclear && r != NULL && (LD(r->flags) & SHM_R_PARTIAL))
		return (0);
	if (m->npend == m->pendsize) {
		m->pendsize = m->pendsize == 0 ? 16 : m->pendsize * 2;
		m->pend = xreallocarray(m->pend, m->pendsize, sizeof *m->pend);
	}
	p = &m->pend[m->npend];
	p->klen = c->attr.klen;
	p->del = c->op == SHM_ADEL;
	p->type = c->attr.type;
	p->vlen = p->del ? 0 : c->attr.vlen;
	p->seq = m->npend++;
	p->key = xmalloc(p->klen + p->vlen + 1);
	memcpy(p->key, c->attr.key, p->klen);
	if (p->vlen > 0)
		memcpy(p->key + p->klen, c->attr.val, p->vlen);
	p->val = p->key + p->klen;
	m->bdirty = true;
	return (0);
}

static int
shm_pend_cmp(const void *a, const void *b)
{
	const struct shm_pend	*x = a, *y = b;
	int			 c;

	if ((c = shm_keycmp(x->key, x->klen, y->key, y->klen)) != 0)
		return (c);
	return (x->seq < y->seq ? -1 : x->seq > y->seq);
}

/*
 * m->ents = the attrs of r (none when the batch cleared them) merged with
 * the pending changes, sorted by key, the last change of a key winning.
 * Returns how many.
 */
static size_t
shm_batch_merge(struct shmirror *m, struct shm_record *r)
{
	struct shm_ent	 e;
	uint32_t	 n = r == NULL || m->bclear ? 0 : LD(r->nattrs), i = 0;
	size_t		 j = 0, k = 0;
	int		 cmp;

	if (m->npend > 1)
		qsort(m->pend, m->npend, sizeof *m->pend, shm_pend_cmp);
	shm_ents_room(m, (size_t)n + m->npend + 1);
	while (i < n || j < m->npend) {
		if (i < n)
			shm_ent_of(shm_rec_attr(r, i), &e);
		cmp = i == n ? 1 : j == m->npend ? -1 : shm_keycmp(e.key,
		    e.klen, m->pend[j].key, m->pend[j].klen);
		if (cmp < 0) {
			m->ents[k++] = e;
			i++;
			continue;
		}
		if (cmp == 0)
			i++;			/* replaced or deleted */
		while (j + 1 < m->npend && shm_keycmp(m->pend[j].key,
		    m->pend[j].klen, m->pend[j + 1].key,
		    m->pend[j + 1].klen) == 0)
			j++;			/* the last change of the key */
		if (!m->pend[j].del)
			m->ents[k++] = (struct shm_ent){ .key = m->pend[j].key,
			    .klen = m->pend[j].klen, .type = m->pend[j].type,
			    .val = m->pend[j].val, .vlen = m->pend[j].vlen };
		j++;
	}
	return (k);
}

/* Store the batch's record, if it changed; the batch goes on. */
static int
shm_batch_flush(struct shmirror *m)
{
	struct shm_change	 c;
	struct shm_record	 fix, *r = NULL;
	size_t			 n, size;
	int			 rc;

	if (m->bname == NULL || !m->bdirty)
		return (0);
	m->bdirty = false;
	if (m->blen != 0)
		r = (struct shm_record *)m->brec;
	memset(&c, 0, sizeof c);
	c.op = SHM_ASET;
	c.name = m->bname;
	c.len = strlen(m->bname);
	n = shm_batch_merge(m, r);
	shm_fixed(&fix, r, &c);
	size = shm_compose(m, &c, shm_hash(m->seed, c.name, c.len), &fix, n,
	    0);
	shm_pend_clear(m);
	if (size == 0)
		return (shm_fail(m, "%s: a record of %s is too large",
		    m->path, c.name));
	shm_brec_room(m, size);
	memcpy(m->brec, m->scratch, size);
	m->blen = size;
	c.op = SHM_RECORD;
	c.rec = m->brec;
	c.reclen = m->blen;
	rc = shm_change_now(m, &c);
	return (rc);
}

int
shmirror_batch_end(struct shmirror *m)
{
	int	rc;

	rc = shm_batch_flush(m);
	free(m->bname);
	m->bname = NULL;
	m->blen = 0;
	return (rc);
}
