/* SPDX-License-Identifier: MIT */
/*
 * strmap: borrowed strings to indices (see strmap.h).  Linear probing
 * in a table kept at most half full, so a miss ends at an empty slot
 * after a few probes.  Never logs.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "gt/strmap.h"
#include "gt/xmalloc.h"

uint32_t
strmap_hash(const char *s, size_t len)
{
	uint32_t	h = 2166136261u;
	size_t		i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return (h);
}

size_t *
strmap_findn(const struct strmap *m, const char *key, size_t len)
{
	size_t	i;

	if (m->cap == 0)
		return (NULL);
	for (i = strmap_hash(key, len) & (m->cap - 1); m->s[i].key != NULL;
	    i = (i + 1) & (m->cap - 1))
		if (m->s[i].len == len && memcmp(m->s[i].key, key, len) == 0)
			return (&m->s[i].val);
	return (NULL);
}

size_t *
strmap_find(const struct strmap *m, const char *key)
{
	return (strmap_findn(m, key, strlen(key)));
}

/* Twice the room, every entry placed again. */
static void
strmap_grow(struct strmap *m)
{
	struct strmap_slot	*old = m->s;
	size_t			 i, oldcap = m->cap;

	m->cap = m->cap == 0 ? 16 : m->cap * 2;
	m->s = xcalloc(m->cap, sizeof *m->s);
	m->n = 0;
	for (i = 0; i < oldcap; i++)
		if (old[i].key != NULL)
			strmap_addn(m, old[i].key, old[i].len, old[i].val);
	free(old);
}

size_t *
strmap_addn(struct strmap *m, const char *key, size_t len, size_t val)
{
	size_t	i, *p;

	if ((p = strmap_findn(m, key, len)) != NULL)
		return (p);
	if (2 * (m->n + 1) > m->cap)
		strmap_grow(m);
	for (i = strmap_hash(key, len) & (m->cap - 1); m->s[i].key != NULL;
	    i = (i + 1) & (m->cap - 1))
		;
	m->s[i].key = key;
	m->s[i].len = len;
	m->s[i].val = val;
	m->n++;
	return (&m->s[i].val);
}

size_t *
strmap_add(struct strmap *m, const char *key, size_t val)
{
	return (strmap_addn(m, key, strlen(key), val));
}

void
strmap_free(struct strmap *m)
{
	free(m->s);
	m->s = NULL;
	m->cap = m->n = 0;
}
