/* SPDX-License-Identifier: MIT */
/*
 * json: spans over JSON text.  A value is found by skipping over it
 * (strings honour escapes, nesting is counted up to LJ_MAX_DEPTH);
 * strings are decoded only when asked, \u escapes (surrogate pairs
 * included) to UTF-8.  Numbers go through strtoll/strtod on a bounded
 * copy.  Nothing here allocates.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	1	/* asprintf, MAP_NORESERVE */
#endif

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "src/lib/json.h"

static const char *
lj_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' ||
	    *p == '\r'))
		p++;
	return (p);
}

/* Past the string that starts at p (a '"'), or NULL. */
static const char *
lj_skip_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '"')
			return (p + 1);
		if (*p == '\\' && ++p == end)
			return (NULL);
		if ((unsigned char)*p < 0x20)
			return (NULL);
	}
	return (NULL);
}

static const char *
lj_skip_number(const char *p, const char *end)
{
	const char	*s = p;

	if (p < end && *p == '-')
		p++;
	while (p < end && ((*p >= '0' && *p <= '9') || *p == '.' ||
	    *p == 'e' || *p == 'E' || *p == '+' || *p == '-'))
		p++;
	return (p == s || (p == s + 1 && *s == '-') ? NULL : p);
}

/* Past the array or object at p: brackets counted, strings skipped. */
static const char *
lj_skip_nested(const char *p, const char *end)
{
	char	stack[LJ_MAX_DEPTH];
	int	depth = 0;

	while (p < end) {
		switch (*p) {
		case '[':
		case '{':
			if (depth == LJ_MAX_DEPTH)
				return (NULL);
			stack[depth++] = *p == '[' ? ']' : '}';
			p++;
			break;
		case ']':
		case '}':
			if (depth == 0 || stack[--depth] != *p)
				return (NULL);
			p++;
			if (depth == 0)
				return (p);
			break;
		case '"':
			if ((p = lj_skip_string(p, end)) == NULL)
				return (NULL);
			break;
		default:
			p++;
		}
	}
	return (NULL);
}

/* The value at p: its span in *v and where it ends, or NULL. */
static const char *
lj_value(const char *p, const char *end, struct lj *v)
{
	const char	*q = NULL;

	p = lj_ws(p, end);
	if (p == end)
		return (NULL);
	switch (*p) {
	case '{':
		v->type = LJ_OBJECT;
		q = lj_skip_nested(p, end);
		break;
	case '[':
		v->type = LJ_ARRAY;
		q = lj_skip_nested(p, end);
		break;
	case '"':
		v->type = LJ_STRING;
		q = lj_skip_string(p, end);
		break;
	case 't':
		v->type = LJ_TRUE;
		if (end - p >= 4 && memcmp(p, "true", 4) == 0)
			q = p + 4;
		break;
	case 'f':
		v->type = LJ_FALSE;
		if (end - p >= 5 && memcmp(p, "false", 5) == 0)
			q = p + 5;
		break;
	case 'n':
		v->type = LJ_NULL;
		if (end - p >= 4 && memcmp(p, "null", 4) == 0)
			q = p + 4;
		break;
	default:
		v->type = LJ_NUMBER;
		q = lj_skip_number(p, end);
	}
	if (q == NULL)
		return (NULL);
	v->p = p;
	v->len = (size_t)(q - p);
	return (q);
}

int
lj_parse(const char *p, size_t len, struct lj *v)
{
	const char	*end = p + len, *q;

	if ((q = lj_value(p, end, v)) == NULL || lj_ws(q, end) != end)
		return (-1);
	return (0);
}

int
lj_next(const struct lj *o, const char **pos, struct lj *key, struct lj *v)
{
	const char	*end = o->p + o->len - 1, *p;	/* before the bracket */

	if (o->type != LJ_OBJECT && o->type != LJ_ARRAY)
		return (-1);
	p = lj_ws(*pos == NULL ? o->p + 1 : *pos, end);
	if (*pos != NULL) {
		if (p == end)
			return (0);
		if (*p != ',')
			return (-1);
		p++;
	} else if (p == end)
		return (0);
	if (o->type == LJ_OBJECT) {
		if ((p = lj_value(p, end, key)) == NULL ||
		    key->type != LJ_STRING)
			return (-1);
		p = lj_ws(p, end);
		if (p == end || *p != ':')
			return (-1);
		p++;
	}
	if ((p = lj_value(p, end, v)) == NULL)
		return (-1);
	*pos = p;
	return (1);
}

int
lj_get(const struct lj *o, const char *key, struct lj *v)
{
	const char	*pos = NULL;
	struct lj	 k;
	int		 rc;

	if (o->type != LJ_OBJECT)
		return (-1);
	while ((rc = lj_next(o, &pos, &k, v)) == 1)
		if (lj_streq(&k, key))
			return (1);
	return (rc);
}

static int
lj_hex4(const char *p, unsigned *u)
{
	int	i;

	*u = 0;
	for (i = 0; i < 4; i++) {
		*u <<= 4;
		if (p[i] >= '0' && p[i] <= '9')
			*u |= (unsigned)(p[i] - '0');
		else if (p[i] >= 'a' && p[i] <= 'f')
			*u |= (unsigned)(p[i] - 'a' + 10);
		else if (p[i] >= 'A' && p[i] <= 'F')
			*u |= (unsigned)(p[i] - 'A' + 10);
		else
			return (-1);
	}
	return (0);
}

/* Put byte c at out[*n] if it fits, and count it. */
static void
lj_put(char *out, size_t size, size_t *n, char c)
{
	if (*n < size)
		out[*n] = c;
	(*n)++;
}

static void
lj_put_utf8(char *out, size_t size, size_t *n, unsigned u)
{
	if (u < 0x80)
		lj_put(out, size, n, (char)u);
	else if (u < 0x800) {
		lj_put(out, size, n, (char)(0xc0 | (u >> 6)));
		lj_put(out, size, n, (char)(0x80 | (u & 0x3f)));
	} else if (u < 0x10000) {
		lj_put(out, size, n, (char)(0xe0 | (u >> 12)));
		lj_put(out, size, n, (char)(0x80 | ((u >> 6) & 0x3f)));
		lj_put(out, size, n, (char)(0x80 | (u & 0x3f)));
	} else {
		lj_put(out, size, n, (char)(0xf0 | (u >> 18)));
		lj_put(out, size, n, (char)(0x80 | ((u >> 12) & 0x3f)));
		lj_put(out, size, n, (char)(0x80 | ((u >> 6) & 0x3f)));
		lj_put(out, size, n, (char)(0x80 | (u & 0x3f)));
	}
}

/* A \u escape at p (after the backslash and 'u'); *used: chars taken. */
static int
lj_unicode(const char *p, const char *end, unsigned *u, size_t *used)
{
	unsigned	lo;

	if (end - p < 4 || lj_hex4(p, u) == -1)
		return (-1);
	*used = 4;
	if (*u >= 0xd800 && *u < 0xdc00 && end - p >= 10 && p[4] == '\\' &&
	    p[5] == 'u' && lj_hex4(p + 6, &lo) == 0 && lo >= 0xdc00 &&
	    lo < 0xe000) {
		*u = 0x10000 + ((*u - 0xd800) << 10) + (lo - 0xdc00);
		*used = 10;
	} else if (*u >= 0xd800 && *u < 0xe000)
		*u = 0xfffd;		/* a lone surrogate */
	return (0);
}

int
lj_string(const struct lj *s, char *buf, size_t size, size_t *len)
{
	const char	*p = s->p + 1, *end = s->p + s->len - 1;
	const char	*esc = "\"\"\\\\//b\bf\fn\nr\rt\t";
	size_t		 n = 0, used, i;
	unsigned	 u;

	if (s->type != LJ_STRING || s->len < 2)
		return (-1);
	while (p < end) {
		if (*p != '\\') {
			lj_put(buf, size, &n, *p++);
			continue;
		}
		if (++p == end)
			return (-1);
		if (*p == 'u') {
			if (lj_unicode(p + 1, end, &u, &used) == -1)
				return (-1);
			lj_put_utf8(buf, size, &n, u);
			p += 1 + used;
			continue;
		}
		for (i = 0; esc[i] != '\0' && esc[i] != *p; i += 2)
			;
		if (esc[i] == '\0')
			return (-1);
		lj_put(buf, size, &n, esc[i + 1]);
		p++;
	}
	*len = n;
	if (n >= size)
		return (1);
	buf[n] = '\0';
	return (0);
}

bool
lj_streq(const struct lj *s, const char *lit)
{
	size_t	n = strlen(lit), len;
	char	buf[256];

	if (s->type != LJ_STRING)
		return (false);
	/* The common case: no escapes, compare in place. */
	if (s->len == n + 2 && memchr(s->p, '\\', s->len) == NULL)
		return (memcmp(s->p + 1, lit, n) == 0);
	if (n >= sizeof buf || lj_string(s, buf, sizeof buf, &len) != 0)
		return (false);
	return (len == n && memcmp(buf, lit, n) == 0);
}

bool
lj_is_int(const struct lj *n)
{
	return (n->type == LJ_NUMBER && memchr(n->p, '.', n->len) == NULL &&
	    memchr(n->p, 'e', n->len) == NULL &&
	    memchr(n->p, 'E', n->len) == NULL);
}

/* A NUL-terminated copy of a number (they are short). */
static int
lj_numcopy(const struct lj *n, char *buf, size_t size)
{
	if (n->type != LJ_NUMBER || n->len >= size)
		return (-1);
	memcpy(buf, n->p, n->len);
	buf[n->len] = '\0';
	return (0);
}

int
lj_int(const struct lj *n, int64_t *i)
{
	char	 buf[32], *end;
	long long v;

	if (!lj_is_int(n) || lj_numcopy(n, buf, sizeof buf) == -1)
		return (-1);
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (errno != 0 || *end != '\0')
		return (-1);
	*i = v;
	return (0);
}

int
lj_double(const struct lj *n, double *d)
{
	char	buf[64], *end;

	if (lj_numcopy(n, buf, sizeof buf) == -1)
		return (-1);
	*d = strtod(buf, &end);
	return (*end == '\0' ? 0 : -1);
}

int
lj_quote(char *buf, size_t size, size_t *at, const char *s, size_t len)
{
	static const char	hex[] = "0123456789abcdef";
	size_t			i, n = *at;
	unsigned char		c;

	lj_put(buf, size, &n, '"');
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			lj_put(buf, size, &n, '\\');
			lj_put(buf, size, &n, (char)c);
		} else if (c < 0x20) {
			lj_put(buf, size, &n, '\\');
			lj_put(buf, size, &n, 'u');
			lj_put(buf, size, &n, '0');
			lj_put(buf, size, &n, '0');
			lj_put(buf, size, &n, hex[c >> 4]);
			lj_put(buf, size, &n, hex[c & 15]);
		} else
			lj_put(buf, size, &n, (char)c);
	}
	lj_put(buf, size, &n, '"');
	if (n >= size)
		return (-1);
	buf[n] = '\0';
	*at = n;
	return (0);
}
