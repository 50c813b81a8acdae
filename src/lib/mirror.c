/* SPDX-License-Identifier: MIT */
/*
 * mirror: the readers' half of the seqlock protocol of gt/shmlayout.h.
 * Each function makes one attempt: load the bucket's seq (acquire), read
 * what it needs with every offset and length checked against the
 * mapping's size, issue an acquire fence, load seq again, then the file's
 * flags.  Values that steer the reader are loaded once, with relaxed
 * atomic loads, into locals that are checked and then used; byte strings
 * are compared or copied with memcmp/memcpy and thrown away unless seq
 * did not move.  Never writes to the mapping.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	1	/* asprintf, MAP_NORESERVE */
#endif

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "src/lib/mirror.h"

/* Relaxed loads of the shared fields (the fences order them). */
static uint32_t
ld32(const uint8_t *p)
{
	return (atomic_load_explicit((const _Atomic uint32_t *)(const void *)p,
	    memory_order_relaxed));
}

static uint16_t
ld16(const uint8_t *p)
{
	return (atomic_load_explicit((const _Atomic uint16_t *)(const void *)p,
	    memory_order_relaxed));
}

static uint8_t
ld8(const uint8_t *p)
{
	return (atomic_load_explicit((const _Atomic uint8_t *)(const void *)p,
	    memory_order_relaxed));
}

enum mv_rc
mview_init(struct mview *v, const void *base, size_t size)
{
	struct shm_header	h;
	uint64_t		end;

	memset(v, 0, sizeof *v);
	if (size < SHM_HEADER_SIZE || ((uintptr_t)base & 7) != 0)
		return (MV_PROTO);
	memcpy(&h, base, sizeof h);
	if (memcmp(h.magic, SHM_MAGIC, sizeof SHM_MAGIC) != 0 ||
	    h.version != SHM_VERSION || h.header_size != SHM_HEADER_SIZE ||
	    h.file_size < SHM_HEADER_SIZE || h.file_size > size ||
	    h.file_size > SHM_MAX_BYTES)
		return (MV_PROTO);
	if (h.nbuckets == 0 || (h.nbuckets & (h.nbuckets - 1)) != 0 ||
	    h.buckets_off < SHM_HEADER_SIZE || h.buckets_off % 8 != 0 ||
	    h.heap_off % 8 != 0)
		return (MV_PROTO);
	end = (uint64_t)h.buckets_off + (uint64_t)h.nbuckets * 8;
	if (end > h.heap_off || h.heap_off > h.file_size)
		return (MV_PROTO);
	v->base = base;
	v->size = (size_t)h.file_size;
	v->mask = h.nbuckets - 1;
	v->buckets_off = h.buckets_off;
	v->heap_off = h.heap_off;
	v->seed = h.hash_seed;
	return (MV_OK);
}

uint32_t
mview_hash(const struct mview *v, const char *s, size_t len)
{
	return (shm_hash(v->seed, s, len));
}

uint32_t
mview_nbuckets(const struct mview *v)
{
	return (v->size == 0 ? 0 : v->mask + 1);
}

/* The seq word of bucket i (checked by mview_init to lie in the file). */
static const uint8_t *
mview_bucket(const struct mview *v, uint32_t i)
{
	return (v->base + v->buckets_off + (size_t)(i & v->mask) * 8);
}

/*
 * The end of an attempt: did the bucket's seq stay s1 (even) while we
 * read, and what do the file's flags say?  bad: the reader found
 * something malformed, which is MV_RETRY if the seq moved and MV_PROTO
 * if it did not.
 */
static enum mv_rc
mview_end(const struct mview *v, const uint8_t *seq, uint32_t s1, bool bad,
    enum mv_rc rc)
{
	uint32_t	s2, flags;

	atomic_thread_fence(memory_order_acquire);
	s2 = ld32(seq);
	flags = ld32(v->base + offsetof(struct shm_header, flags));
	if (flags & SHM_F_REPLACED)
		return (MV_REPLACED);
	if (flags & SHM_F_FULL)
		return (MV_FULL);
	if ((s1 & 1) != 0 || s1 != s2)
		return (MV_RETRY);
	return (bad ? MV_PROTO : rc);
}

/*
 * A record's fixed fields, checked: the record at off lies in the first
 * size bytes of base, with its name and index.  0, or -1.
 */
struct mrec {
	size_t		 off;
	uint32_t	 next, hash, rsize, flags, nattrs;
	uint16_t	 nlen;
};

static int
mrec_load(const uint8_t *base, size_t size, size_t lo, size_t off,
    struct mrec *r)
{
	const uint8_t	*p = base + off;

	if (off < lo || off % 8 != 0 || off > size ||
	    size - off < sizeof(struct shm_record))
		return (-1);
	r->off = off;
	r->next = ld32(p + offsetof(struct shm_record, next));
	r->hash = ld32(p + offsetof(struct shm_record, hash));
	r->rsize = ld32(p + offsetof(struct shm_record, size));
	r->flags = ld32(p + offsetof(struct shm_record, flags));
	r->nattrs = ld32(p + offsetof(struct shm_record, nattrs));
	r->nlen = ld16(p + offsetof(struct shm_record, name_len));
	if (r->nlen == 0 || r->nlen > SHM_NAME_MAX || r->rsize > size - off ||
	    r->rsize < SHM_INDEX_OFF(r->nlen) ||
	    r->nattrs > (r->rsize - SHM_INDEX_OFF(r->nlen)) / 4)
		return (-1);
	return (0);
}

/* Copy a record's fixed fields into g. */
static void
mrec_fill(const uint8_t *base, const struct mrec *r, struct mget *g)
{
	const uint8_t	*p = base + r->off;

	g->pid = (int32_t)ld32(p + offsetof(struct shm_record, pid));
	g->restart_count = ld32(p + offsetof(struct shm_record,
	    restart_count));
	g->nattrs = r->nattrs;
	g->rflags = r->flags;
	memcpy(g->state, p + offsetof(struct shm_record, state),
	    SHM_STATE_MAX);
	g->state[SHM_STATE_MAX - 1] = '\0';
}

/* Attr i of record r, checked.  0, or -1. */
static int
mrec_entry(const uint8_t *base, const struct mrec *r, uint32_t i,
    struct mattr *a)
{
	const uint8_t	*p = base + r->off;
	size_t		 ioff, eoff, voff;

	if (i >= r->nattrs)
		return (-1);
	ioff = SHM_INDEX_OFF(r->nlen) + (size_t)i * 4;
	eoff = ld32(p + ioff);
	if (eoff % 8 != 0 || eoff < SHM_INDEX_OFF(r->nlen) + 4 *
	    (size_t)r->nattrs || eoff > r->rsize ||
	    r->rsize - eoff < sizeof(struct shm_attr))
		return (-1);
	a->i = 0;
	a->r = 0;
	a->type = ld8(p + eoff + offsetof(struct shm_attr, type));
	a->klen = ld16(p + eoff + offsetof(struct shm_attr, klen));
	a->vlen = ld32(p + eoff + offsetof(struct shm_attr, vlen));
	if (a->klen == 0 || a->klen > SHM_KEY_MAX ||
	    a->type < SHM_T_INT || a->type > SHM_T_JSON)
		return (-1);
	voff = eoff + SHM_VALUE_OFF(a->klen);
	if (voff > r->rsize)
		return (-1);
	a->key = (const char *)p + eoff + sizeof(struct shm_attr);
	a->s = (const char *)p + voff;
	if (a->type == SHM_T_INT || a->type == SHM_T_REAL) {
		if (a->vlen != 8 || r->rsize - voff < 8)
			return (-1);
		memcpy(a->type == SHM_T_INT ? (void *)&a->i : (void *)&a->r,
		    p + voff, 8);
		return (0);
	}
	if (a->vlen >= r->rsize - voff)		/* the value and its NUL */
		return (-1);
	return (0);
}

static int
mrec_keycmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int	c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return (c);
	return (alen < blen ? -1 : alen > blen);
}

/* Binary search of key in r's index: 1 found (a), 0 not, -1 malformed. */
static int
mrec_find(const uint8_t *base, const struct mrec *r, const char *key,
    size_t klen, struct mattr *a)
{
	uint32_t	lo = 0, hi = r->nattrs, mid;
	int		cmp;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (mrec_entry(base, r, mid, a) == -1)
			return (-1);
		if ((cmp = mrec_keycmp(a->key, a->klen, key, klen)) == 0)
			return (1);
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (0);
}

/*
 * Walk bucket i's chain for name: the record's offset in *r, 1 found, 0
 * not found, -1 malformed (a bad offset, or more links than the heap
 * can hold records: a cycle).
 */
static int
mview_walk(const struct mview *v, uint32_t h, const char *name, size_t len,
    uint32_t head, struct mrec *r)
{
	size_t	maxwalk = (v->size - v->heap_off) / SHM_BLOCK_MIN + 1, n;
	size_t	off = head;

	for (n = 0; off != 0; n++) {
		if (n >= maxwalk ||
		    mrec_load(v->base, v->size, v->heap_off, off, r) == -1)
			return (-1);
		if (r->hash == h && r->nlen == len &&
		    memcmp(v->base + off + sizeof(struct shm_record), name,
		    len) == 0)
			return (1);
		off = r->next;
	}
	return (0);
}

enum mv_rc
mview_get(const struct mview *v, struct mget *g)
{
	const uint8_t	*seq;
	struct mrec	 r;
	struct mattr	 a;
	uint32_t	 h, s1;
	int		 found, af;
	bool		 bad = false;

	if (v->size == 0)
		return (MV_PROTO);
	h = shm_hash(v->seed, g->name, g->len);
	seq = mview_bucket(v, h);
	s1 = atomic_load_explicit((const _Atomic uint32_t *)(const void *)seq,
	    memory_order_acquire);
	g->has_attr = false;
	found = mview_walk(v, h, g->name, g->len, ld32(seq + 4), &r);
	if (found == 1) {
		mrec_fill(v->base, &r, g);
		if (g->key != NULL && (r.flags & SHM_R_PARTIAL) == 0 &&
		    (af = mrec_find(v->base, &r, g->key, g->klen, &a)) != 0) {
			if (af == -1)
				bad = true;
			else {
				g->has_attr = true;
				g->type = a.type;
				g->i = a.i;
				g->r = a.r;
				g->vlen = a.vlen;
				if ((a.type == SHM_T_TEXT || a.type ==
				    SHM_T_JSON) && a.vlen < g->bufsize) {
					memcpy(g->buf, a.s, a.vlen);
					g->buf[a.vlen] = '\0';
				}
			}
		}
	} else if (found == -1)
		bad = true;
	return (mview_end(v, seq, s1, bad, found == 1 ? MV_OK : MV_NOTFOUND));
}

static int
mbuf_room(struct mbuf *b, size_t n)
{
	size_t	 size;
	uint8_t	*p;

	if (b->size - b->len >= n)
		return (0);
	size = b->size == 0 ? 4096 : b->size;
	while (size - b->len < n) {
		if (size > SIZE_MAX / 2) {
			errno = ENOMEM;
			return (-1);
		}
		size *= 2;
	}
	if ((p = realloc(b->p, size)) == NULL)
		return (-1);
	b->p = p;
	b->size = size;
	return (0);
}

enum mv_rc
mview_list(const struct mview *v, uint32_t i, struct mbuf *out)
{
	const uint8_t	*seq = mview_bucket(v, i);
	struct mrec	 r;
	struct mrow	*row;
	struct mget	 g;
	size_t		 start = out->len, maxwalk, n, off, need;
	uint32_t	 s1;
	bool		 bad = false;
	enum mv_rc	 rc;

	if (v->size == 0)
		return (MV_PROTO);
	maxwalk = (v->size - v->heap_off) / SHM_BLOCK_MIN + 1;
	s1 = atomic_load_explicit((const _Atomic uint32_t *)(const void *)seq,
	    memory_order_acquire);
	off = ld32(seq + 4);
	for (n = 0; off != 0 && !bad; n++, off = r.next) {
		if (n >= maxwalk ||
		    mrec_load(v->base, v->size, v->heap_off, off, &r) == -1) {
			bad = true;
			break;
		}
		need = SHM_ALIGN(sizeof *row + r.nlen + 1, 8);
		if (mbuf_room(out, need) == -1) {
			out->len = start;
			return (MV_PROTO);
		}
		mrec_fill(v->base, &r, &g);
		row = (struct mrow *)(out->p + out->len);
		row->pid = g.pid;
		row->restart_count = g.restart_count;
		row->nattrs = g.nattrs;
		row->rflags = g.rflags;
		memcpy(row->state, g.state, SHM_STATE_MAX);
		row->len = r.nlen;
		memcpy(row->name, v->base + off + sizeof(struct shm_record),
		    r.nlen);
		row->name[r.nlen] = '\0';
		out->len += need;
	}
	if ((rc = mview_end(v, seq, s1, bad, MV_OK)) != MV_OK)
		out->len = start;
	return (rc);
}

enum mv_rc
mview_copy(const struct mview *v, const char *name, size_t len,
    struct mbuf *out)
{
	const uint8_t	*seq;
	struct mrec	 r;
	uint32_t	 h, s1;
	int		 found;
	bool		 bad = false;

	if (v->size == 0)
		return (MV_PROTO);
	h = shm_hash(v->seed, name, len);
	seq = mview_bucket(v, h);
	s1 = atomic_load_explicit((const _Atomic uint32_t *)(const void *)seq,
	    memory_order_acquire);
	out->len = 0;
	found = mview_walk(v, h, name, len, ld32(seq + 4), &r);
	if (found == 1) {
		if (mbuf_room(out, r.rsize) == -1)
			return (MV_PROTO);
		memcpy(out->p, v->base + r.off, r.rsize);
		out->len = r.rsize;
	} else if (found == -1)
		bad = true;
	return (mview_end(v, seq, s1, bad, found == 1 ? MV_OK : MV_NOTFOUND));
}

/*
 * The copy is private, so nothing changes under these; they still check
 * everything, as a stable but malformed file would be copied as it is.
 */
static int
mrec_copy_load(const struct mbuf *rec, struct mrec *r)
{
	if (rec->len > UINT32_MAX || mrec_load(rec->p, rec->len, 0, 0, r) ==
	    -1 || r->rsize != rec->len)
		return (-1);
	return (0);
}

int
mrec_fixed(const struct mbuf *rec, struct mget *g)
{
	struct mrec	r;

	if (mrec_copy_load(rec, &r) == -1)
		return (-1);
	mrec_fill(rec->p, &r, g);
	return (0);
}

int
mrec_attr(struct mbuf *rec, uint32_t i, struct mattr *a)
{
	struct mrec	r;

	if (mrec_copy_load(rec, &r) == -1 ||
	    mrec_entry(rec->p, &r, i, a) == -1)
		return (-1);
	/* Terminate both in the copy, whatever the file held there. */
	((char *)rec->p)[(size_t)(a->key - (const char *)rec->p) + a->klen] =
	    '\0';
	if (a->type == SHM_T_TEXT || a->type == SHM_T_JSON)
		((char *)rec->p)[(size_t)(a->s - (const char *)rec->p) +
		    a->vlen] = '\0';
	return (0);
}
