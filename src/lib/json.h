/* SPDX-License-Identifier: MIT */
/*
 * json: the little JSON libgtd needs to read gtd's replies when the
 * mirror cannot answer (find, getattr, info, which_children), without a
 * JSON library: values are spans of the reply text, found by skipping;
 * strings are decoded on demand.  Bounded: nesting deeper than
 * LJ_MAX_DEPTH or any malformed text is an error, never a fault.
 */
#ifndef LIBGTD_JSON_H
#define LIBGTD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LJ_MAX_DEPTH	512

enum lj_type { LJ_OBJECT, LJ_ARRAY, LJ_STRING, LJ_NUMBER, LJ_TRUE,
	LJ_FALSE, LJ_NULL };

/* One value: its text is p[0..len). */
struct lj {
	const char	*p;
	size_t		 len;
	enum lj_type	 type;
};

/* The value that the text (p, len) is, alone but for blanks: 0 or -1. */
int	lj_parse(const char *p, size_t len, struct lj *v);
/*
 * Member key of object o: 1 and *v, 0 when absent, -1 when o is
 * malformed (members are compared after decoding).
 */
int	lj_get(const struct lj *o, const char *key, struct lj *v);
/*
 * The next member of object o (or element of array o, key NULL) after
 * *pos (NULL to start): 1, 0 at the end, -1 when malformed.
 */
int	lj_next(const struct lj *o, const char **pos, struct lj *key,
	    struct lj *v);
/*
 * Decode string s into buf (size bytes, NUL-terminated when it fits):
 * *len is the decoded length.  0, 1 when it did not fit (*len says how
 * much is needed), -1 when s is not a valid string.
 */
int	lj_string(const struct lj *s, char *buf, size_t size, size_t *len);
/* Is string s (decoded) equal to lit? */
bool	lj_streq(const struct lj *s, const char *lit);
/* An integer number that fits int64: 0 and *i, else -1. */
int	lj_int(const struct lj *n, int64_t *i);
/* Is the number written as an integer (no fraction, no exponent)? */
bool	lj_is_int(const struct lj *n);
int	lj_double(const struct lj *n, double *d);

/*
 * Append s (len bytes) as a JSON string (quoted, escaped) to buf of
 * size bytes at *at; -1 when it does not fit.
 */
int	lj_quote(char *buf, size_t size, size_t *at, const char *s,
	    size_t len);

#endif /* LIBGTD_JSON_H */
