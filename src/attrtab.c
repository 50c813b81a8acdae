/* SPDX-License-Identifier: MIT */
/*
 * attrtab: a hash table of names, each with a hash table of its keys.
 * Both double when they fill, so lookups stay O(1); a name's table goes
 * when its last attr does.  A deleted attr that is still dirty stays in
 * its table, dead, until the flush has written the delete back.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "gt/attrtab.h"
#include "gt/xmalloc.h"

struct attr {
	struct attr		*next;		/* chain in owner->tab */
	struct owner		*owner;
	TAILQ_ENTRY(attr)	 dirty;		/* while is_dirty */
	struct value		 v;
	uint32_t		 hash;
	bool			 is_dirty;
	bool			 dead;		/* deleted, delete unwritten */
	char			 key[];
};
TAILQ_HEAD(attr_list, attr);

struct owner {
	struct owner		*next;		/* chain in attrtab->tab */
	struct attr		**tab;
	size_t			 nbuckets;	/* a power of two */
	size_t			 n;		/* attrs in tab, dead too */
	size_t			 live;
	size_t			 bytes;		/* live keys and values */
	uint32_t		 hash;
	char			 name[];
};

struct attrtab {
	struct owner		**tab;
	size_t			  nbuckets;	/* a power of two */
	size_t			  n;
	struct attr_list	  dirty;
	size_t			  ndirty;
};

/* What a value counts against max_attr_bytes: its text (numbers: 0). */
static size_t
attrtab_value_bytes(const struct value *v)
{
	return (v->s != NULL ? strlen(v->s) : 0);
}

static uint32_t
attrtab_hash(const char *s)
{
	uint32_t	h = 2166136261u;		/* FNV-1a */

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return (h);
}

struct attrtab *
attrtab_new(void)
{
	struct attrtab	*t = xcalloc(1, sizeof *t);

	TAILQ_INIT(&t->dirty);
	return (t);
}

static void
attrtab_owner_free(struct owner *o)
{
	struct attr	*a, *next;
	size_t		 i;

	for (i = 0; i < o->nbuckets; i++)
		for (a = o->tab[i]; a != NULL; a = next) {
			next = a->next;
			value_free(&a->v);
			free(a);
		}
	free(o->tab);
	free(o);
}

void
attrtab_free(struct attrtab *t)
{
	struct owner	*o, *next;
	size_t		 i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nbuckets; i++)
		for (o = t->tab[i]; o != NULL; o = next) {
			next = o->next;
			attrtab_owner_free(o);
		}
	free(t->tab);
	free(t);
}

static struct owner **
attrtab_owner_slot(struct attrtab *t, const char *name, uint32_t h)
{
	struct owner	**pp;

	if (t->nbuckets == 0)
		return (NULL);
	for (pp = &t->tab[h & (t->nbuckets - 1)]; *pp != NULL;
	    pp = &(*pp)->next)
		if ((*pp)->hash == h && strcmp((*pp)->name, name) == 0)
			return (pp);
	return (NULL);
}

static struct owner *
attrtab_owner(struct attrtab *t, const char *name)
{
	struct owner	**pp = attrtab_owner_slot(t, name, attrtab_hash(name));

	return (pp == NULL ? NULL : *pp);
}

static struct attr **
attrtab_attr_slot(struct owner *o, const char *key, uint32_t h)
{
	struct attr	**pp;

	for (pp = &o->tab[h & (o->nbuckets - 1)]; *pp != NULL;
	    pp = &(*pp)->next)
		if ((*pp)->hash == h && strcmp((*pp)->key, key) == 0)
			return (pp);
	return (NULL);
}

static struct attr *
attrtab_find(struct attrtab *t, const char *name, const char *key)
{
	struct owner	*o;
	struct attr	**pp;

	if ((o = attrtab_owner(t, name)) == NULL ||
	    (pp = attrtab_attr_slot(o, key, attrtab_hash(key))) == NULL)
		return (NULL);
	return (*pp);
}

struct value *
attrtab_get(struct attrtab *t, const char *name, const char *key)
{
	struct attr	*a = attrtab_find(t, name, key);

	return (a == NULL || a->dead ? NULL : &a->v);
}

static void
attrtab_mark(struct attrtab *t, struct attr *a)
{
	if (a->is_dirty)
		return;
	a->is_dirty = true;
	TAILQ_INSERT_TAIL(&t->dirty, a, dirty);
	t->ndirty++;
}

static void
attrtab_unmark(struct attrtab *t, struct attr *a)
{
	if (!a->is_dirty)
		return;
	a->is_dirty = false;
	TAILQ_REMOVE(&t->dirty, a, dirty);
	t->ndirty--;
}

void
attrtab_touch(struct attrtab *t, struct value *v)
{
	attrtab_mark(t, (struct attr *)((char *)v -
	    offsetof(struct attr, v)));
}

/* Grow a chained table of 2^k buckets to twice as many. */
#define ATTRTAB_GROW(type, tabp, nb, field) do {			\
	size_t	 _n = (nb) == 0 ? 8 : (nb) * 2, _i;			\
	type	**_t = xcalloc(_n, sizeof *_t), *_e, *_next;		\
									\
	for (_i = 0; _i < (nb); _i++)					\
		for (_e = (*(tabp))[_i]; _e != NULL; _e = _next) {	\
			_next = _e->next;				\
			_e->next = _t[_e->field & (_n - 1)];		\
			_t[_e->field & (_n - 1)] = _e;			\
		}							\
	free(*(tabp));							\
	*(tabp) = _t;							\
	(nb) = _n;							\
} while (0)

void
attrtab_set(struct attrtab *t, const char *name, const char *key,
    const struct value *v)
{
	struct owner	*o, **op;
	struct attr	*a, **ap;
	uint32_t	 h = attrtab_hash(name), kh = attrtab_hash(key);
	size_t		 len;

	if ((op = attrtab_owner_slot(t, name, h)) != NULL)
		o = *op;
	else {
		if (t->n >= t->nbuckets)
			ATTRTAB_GROW(struct owner, &t->tab, t->nbuckets, hash);
		len = strlen(name);
		o = xcalloc(1, sizeof *o + len + 1);
		memcpy(o->name, name, len);
		o->hash = h;
		o->next = t->tab[h & (t->nbuckets - 1)];
		t->tab[h & (t->nbuckets - 1)] = o;
		t->n++;
		ATTRTAB_GROW(struct attr, &o->tab, o->nbuckets, hash);
	}
	if ((ap = attrtab_attr_slot(o, key, kh)) != NULL) {
		a = *ap;
		if (a->dead) {
			a->dead = false;
			o->live++;
			o->bytes += strlen(a->key);
		} else
			o->bytes -= attrtab_value_bytes(&a->v);
		value_free(&a->v);
	} else {
		if (o->n >= o->nbuckets)
			ATTRTAB_GROW(struct attr, &o->tab, o->nbuckets, hash);
		len = strlen(key);
		a = xcalloc(1, sizeof *a + len + 1);
		memcpy(a->key, key, len);
		a->hash = kh;
		a->owner = o;
		a->next = o->tab[kh & (o->nbuckets - 1)];
		o->tab[kh & (o->nbuckets - 1)] = a;
		o->n++;
		o->live++;
		o->bytes += len;
	}
	value_copy(&a->v, v);
	o->bytes += attrtab_value_bytes(&a->v);
	attrtab_mark(t, a);
}

/* Unlink a from its owner and free it; the owner too once empty. */
static void
attrtab_remove(struct attrtab *t, struct attr *a)
{
	struct owner	*o = a->owner, **op;
	struct attr	**ap;

	attrtab_unmark(t, a);
	ap = attrtab_attr_slot(o, a->key, a->hash);
	*ap = a->next;
	if (!a->dead)
		o->live--;
	o->n--;
	value_free(&a->v);
	free(a);
	if (o->n == 0) {
		op = attrtab_owner_slot(t, o->name, o->hash);
		*op = o->next;
		t->n--;
		attrtab_owner_free(o);
	}
}

bool
attrtab_del(struct attrtab *t, const char *name, const char *key)
{
	struct attr	*a = attrtab_find(t, name, key);

	if (a == NULL || a->dead)
		return (false);
	a->owner->bytes -= strlen(a->key) + attrtab_value_bytes(&a->v);
	value_free(&a->v);
	a->dead = true;
	a->owner->live--;
	attrtab_mark(t, a);		/* the delete is written back */
	return (true);
}

void
attrtab_clear(struct attrtab *t, const char *name)
{
	struct owner	**op, *o;
	struct attr	 *a;
	size_t		  i;

	if ((op = attrtab_owner_slot(t, name, attrtab_hash(name))) == NULL)
		return;
	o = *op;
	*op = o->next;
	t->n--;
	for (i = 0; i < o->nbuckets; i++)
		for (a = o->tab[i]; a != NULL; a = a->next)
			attrtab_unmark(t, a);
	attrtab_owner_free(o);
}

size_t
attrtab_count(struct attrtab *t, const char *name)
{
	struct owner	*o = attrtab_owner(t, name);

	return (o == NULL ? 0 : o->live);
}

size_t
attrtab_bytes(struct attrtab *t, const char *name)
{
	struct owner	*o = attrtab_owner(t, name);

	return (o == NULL ? 0 : o->bytes);
}

static int
attrtab_cmp(const void *a, const void *b)
{
	return (strcmp((*(struct attr *const *)a)->key,
	    (*(struct attr *const *)b)->key));
}

void
attrtab_foreach(struct attrtab *t, const char *name, attrtab_cb *cb,
    void *arg)
{
	struct owner	 *o = attrtab_owner(t, name);
	struct attr	**all, *a;
	size_t		  i, n = 0;

	if (o == NULL || o->live == 0)
		return;
	all = xreallocarray(NULL, o->live, sizeof *all);
	for (i = 0; i < o->nbuckets; i++)
		for (a = o->tab[i]; a != NULL; a = a->next)
			if (!a->dead)
				all[n++] = a;
	qsort(all, n, sizeof *all, attrtab_cmp);
	for (i = 0; i < n; i++)
		cb(all[i]->key, &all[i]->v, arg);
	free(all);
}

int
attrtab_flush(struct attrtab *t, attrtab_flush_cb *cb, void *arg)
{
	struct attr	*a;

	while ((a = TAILQ_FIRST(&t->dirty)) != NULL) {
		if (cb(a->owner->name, a->key, a->dead ? NULL : &a->v,
		    arg) == -1)
			return (-1);
		if (a->dead)
			attrtab_remove(t, a);
		else
			attrtab_unmark(t, a);
	}
	return (0);
}

size_t
attrtab_dirty(struct attrtab *t)
{
	return (t->ndirty);
}
