/* SPDX-License-Identifier: MIT */
/*
 * shmlayout: the byte layout of the shared-memory mirror of the registry
 * (protocol §9.4), shared by its one writer (gtd, src/shmirror.c) and its
 * readers (libgtd, lib/mirror.c; contrib/python/gtd.py follows the same
 * text).  Definitions only: no code but the name hash.
 *
 * The file.  gtd writes SOCKET.mirror (the socket's path plus ".mirror")
 * into a new file, then renames it into place, so a reader that opens the
 * path always maps a complete file.  All integers are native-endian (the
 * readers run on the writer's host), offsets are in bytes from the start
 * of the file, and every offset a reader follows is checked against the
 * size of its mapping before it is used.
 *
 *   [0, 128)                  struct shm_header
 *   [buckets_off, +8*nbuckets) struct shm_bucket, nbuckets a power of two
 *   [heap_off, file_size)     records, in blocks of 2^k * SHM_BLOCK_MIN
 *                             bytes (a buddy allocator; gtd keeps the free
 *                             lists and block map to itself)
 *
 * A record holds one row: its name, pid, state, restart_count and attrs.
 * Records hang off a bucket by the hash of their name (shm_hash), chained
 * through their `next` field, 0 ending the chain.
 *
 * Concurrency: one writer, any number of readers in other processes, and
 * readers never write to the mapping.  Each bucket is a seqlock over its
 * chain and every byte of every record on it: the writer makes the
 * bucket's seq odd before it changes any of that and even (+2 in all)
 * when done.  A reader loads seq (acquire), walks and copies what it
 * needs, issues an acquire fence and loads seq again; if the two differ,
 * or the first was odd, what it copied may be torn and it starts over.
 * Writer, in C11:
 *
 *	seq = s + 1 (relaxed); atomic_thread_fence(release);
 *	...stores to the chain and its records...;
 *	seq = s + 2 (release);
 *
 * Why that is enough.  If the reader's copy holds any byte stored after
 * the writer's release fence, that fence synchronises with the reader's
 * acquire fence (C11 7.17.4: a release fence before a store X, an acquire
 * fence after a load that reads X), so the reader's second load of seq,
 * which follows its acquire fence, sees s + 1 or later and differs from
 * the first load, which was <= s.  If the reader's first load saw s + 2
 * (acquire, pairing with the writer's release store), every store of that
 * write is visible to all the reader's later loads.  So equal even values
 * mean no write to that bucket overlapped the copy.  The data bytes
 * themselves are read with relaxed atomic loads where a value steers the
 * reader (lengths, offsets: loaded once into a local, checked, then
 * used) and with memcpy/memcmp for byte strings whose result is thrown
 * away unless the seq check passes: the classic seqlock race, which the
 * compiler cannot exploit (it cannot see the other process) and which is
 * harmless on every CPU Linux runs on, as the fences order the loads.
 *
 * A block is reused only after it was unlinked under its old bucket's
 * seqlock, so a reader that followed a stale pointer into a reused block
 * always fails its seq check: it may read garbage, never return it.  A
 * walk is bounded (a chain can hold at most heap size / SHM_BLOCK_MIN
 * records) and every offset and length is checked before use, so a
 * garbage chain ends in a retry, never a fault.
 *
 * Replacement.  When the heap is full gtd writes the whole registry into
 * a new, larger file (at most the configured cap), renames it over the
 * path and then sets SHM_F_REPLACED in the old file's flags (release).  A
 * reader checks the flags after its seq check (the linearisation point):
 * replaced means "re-open the path and try again", so no reader returns
 * data older than the newest file once gtd has replied to the change
 * that caused the replacement.  Old mappings stay valid memory; gtd never
 * truncates a file it published.
 *
 * Degraded.  If a change cannot be written (the cap is reached, a new
 * file cannot be made), gtd either marks the one record SHM_R_PARTIAL
 * (its attrs are not in the mirror: ask the socket for them) or the whole
 * file SHM_F_FULL (ask the socket for everything), before it replies.
 * Either way a reader never gets a stale answer from the mirror.
 *
 * Remote rows.  On a gtd with a cluster (protocol §9.3) the mirror also
 * holds the names other nodes hold, from gtd's mirror of the cluster
 * registry, each as a record with SHM_R_REMOTE: its pid (on that node)
 * and state, no attrs (nattrs 0, and SHM_R_PARTIAL: ask the socket for
 * them), and the node's name (node_len bytes and a NUL) at
 * SHM_INDEX_OFF(name_len), where a local record's attr index starts;
 * size counts it.  A local row of the same name wins: its record
 * replaces the remote one.  This came without a version bump: a reader
 * that does not know the flag reads a row with no attrs that sends it to
 * the socket for them, which is right, and never looks at node_len.
 */
#ifndef GT_SHMLAYOUT_H
#define GT_SHMLAYOUT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define SHM_MAGIC		"GTDMIRR"	/* 7 bytes and a NUL */
#define SHM_VERSION		1
#define SHM_SUFFIX		".mirror"	/* after the socket's path */

#define SHM_HEADER_SIZE		128
#define SHM_BLOCK_MIN		64		/* bytes, times 2^k: a block */
#define SHM_BUCKET_BYTES	256		/* heap bytes per bucket */
#define SHM_MIN_BYTES		65536		/* smallest file and cap */
#define SHM_MAX_BYTES		(1u << 30)	/* largest file and cap */
#define SHM_DEFAULT_BYTES	(64u << 20)	/* default cap */

#define SHM_NAME_MAX		1024		/* as GT_NAME_MAX */
#define SHM_KEY_MAX		1024		/* as GT_KEY_MAX */
#define SHM_STATE_MAX		16		/* bytes of state, NUL-padded */
#define SHM_NODE_MAX		255		/* bytes of a remote node */

/* shm_header.flags */
#define SHM_F_REPLACED		0x1	/* re-open the path */
#define SHM_F_CLOSED		0x2	/* gtd exited (set with REPLACED) */
#define SHM_F_FULL		0x4	/* stale: ask the socket instead */

struct shm_header {
	char			magic[8];	/* SHM_MAGIC, NUL-terminated */
	uint32_t		version;	/* SHM_VERSION */
	uint32_t		header_size;	/* SHM_HEADER_SIZE */
	uint64_t		file_size;	/* bytes; st_size */
	uint32_t		nbuckets;	/* a power of two */
	uint32_t		buckets_off;	/* SHM_HEADER_SIZE */
	uint32_t		heap_off;	/* SHM_BLOCK_MIN-aligned */
	uint32_t		hash_seed;
	_Atomic uint32_t	flags;		/* SHM_F_* */
	uint32_t		pid;		/* gtd's */
	uint64_t		generation;	/* 1, 2...: files gtd made */
	uint8_t			reserved[72];
};

struct shm_bucket {
	_Atomic uint32_t	seq;		/* odd: being written */
	_Atomic uint32_t	head;		/* first record, 0: none */
};

/*
 * A record, at the start of its block, 8-aligned:
 *   struct shm_record, name (name_len bytes) and a NUL,
 *   padding to 4, uint32_t index[nattrs]: the offsets (from the record)
 *   of its attr entries in key order (bytewise, a prefix first),
 *   entries, each 8-aligned.
 * size counts all of it; the block may be larger.
 */
struct shm_record {
	_Atomic uint32_t	next;		/* next record on the chain */
	_Atomic uint32_t	hash;		/* shm_hash(name) */
	_Atomic uint32_t	size;		/* bytes used */
	_Atomic uint32_t	flags;		/* SHM_R_* */
	_Atomic int32_t		pid;		/* 0: no process */
	_Atomic uint32_t	restart_count;
	_Atomic uint32_t	nattrs;
	_Atomic uint16_t	name_len;	/* 1..SHM_NAME_MAX */
	_Atomic uint16_t	node_len;	/* SHM_R_REMOTE: its node's */
	char			state[SHM_STATE_MAX];	/* NUL-padded */
};

/* shm_record.flags */
#define SHM_R_PARTIAL		0x1	/* attrs missing: ask the socket */
#define SHM_R_REMOTE		0x2	/* another node's row (see above) */

/*
 * An attr entry: struct shm_attr, the key (klen bytes) and a NUL,
 * padding to 8, then the value: 8 bytes (int64_t, double) for
 * SHM_T_INT and SHM_T_REAL, else vlen bytes and a NUL (UTF-8 text, or
 * JSON text for arrays, objects, booleans and null).
 */
struct shm_attr {
	_Atomic uint8_t		type;		/* SHM_T_* */
	uint8_t			reserved;
	_Atomic uint16_t	klen;		/* 1..SHM_KEY_MAX */
	_Atomic uint32_t	vlen;		/* value bytes (numbers: 8) */
};

#define SHM_T_INT		1
#define SHM_T_REAL		2
#define SHM_T_TEXT		3
#define SHM_T_JSON		4

#define SHM_ALIGN(n, a)		(((n) + ((a) - 1)) & ~(size_t)((a) - 1))
/* Where the attr index of a record with this name starts. */
#define SHM_INDEX_OFF(name_len)	\
	SHM_ALIGN(sizeof(struct shm_record) + (size_t)(name_len) + 1, 4)
/* Where an entry's value starts, from the entry. */
#define SHM_VALUE_OFF(klen)	\
	SHM_ALIGN(sizeof(struct shm_attr) + (size_t)(klen) + 1, 8)

_Static_assert(sizeof(struct shm_header) == SHM_HEADER_SIZE,
    "shm_header is 128 bytes");
_Static_assert(sizeof(struct shm_bucket) == 8, "shm_bucket is 8 bytes");
_Static_assert(sizeof(struct shm_record) == 48, "shm_record is 48 bytes");
_Static_assert(sizeof(struct shm_attr) == 8, "shm_attr is 8 bytes");
_Static_assert(offsetof(struct shm_header, flags) == 40, "flags at 40");

/* FNV-1a, 32 bits, with the file's seed folded into the basis. */
static inline uint32_t
shm_hash(uint32_t seed, const char *s, size_t len)
{
	uint32_t	h = 2166136261u ^ seed;
	size_t		i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return (h);
}

#endif /* GT_SHMLAYOUT_H */
