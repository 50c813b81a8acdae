/* SPDX-License-Identifier: MIT */
/*
 * strmap: a small map of borrowed strings (with their lengths, so a key
 * may be the "KEY" of "KEY=VALUE") to size_t values, for the scratch
 * indices of pure modules.  Open addressing, at most half full; no
 * removal.  Never logs.
 */
#ifndef GT_STRMAP_H
#define GT_STRMAP_H

#include <stddef.h>
#include <stdint.h>

struct strmap_slot {
	const char	*key;		/* borrowed; NULL: empty slot */
	size_t		 len;
	size_t		 val;
};

/* Zero-initialise; the keys must outlive the map. */
struct strmap {
	struct strmap_slot	*s;
	size_t			 cap;	/* 0, or a power of 2 */
	size_t			 n;
};

/* FNV-1a over len bytes. */
uint32_t	 strmap_hash(const char *, size_t len);
/* The value of key, or NULL. */
size_t		*strmap_find(const struct strmap *, const char *key);
size_t		*strmap_findn(const struct strmap *, const char *key,
		    size_t len);
/* Add key with val unless it is there; its value slot either way. */
size_t		*strmap_add(struct strmap *, const char *key, size_t val);
size_t		*strmap_addn(struct strmap *, const char *key, size_t len,
		    size_t val);
void		 strmap_free(struct strmap *);

#endif /* GT_STRMAP_H */
