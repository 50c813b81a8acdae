/* SPDX-License-Identifier: MIT */
/*
 * proto: the JSON side of the wire (protocol §1): parse a request line,
 * dump a reply line, convert attr values.  Never logs.
 */
#ifndef GT_PROTO_H
#define GT_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gt/policy.h"

#include "gt/spec.h"

/*
 * Parse one request line.  Returns the object (owned), or NULL with
 * *cause (xasprintf'd) when the line is not one JSON object.
 */
json_t	*proto_parse(const char *line, size_t len, char **cause);

/*
 * The flat form of a request: an object whose values are ASCII strings
 * without escapes, integers, true, false or null; at most PROTO_FLAT_MAX
 * arguments besides "op" and "id".  It needs no allocation and no JSON
 * tree, and it is what nearly every request looks like.
 */
#define PROTO_FLAT_MAX	8
enum proto_ftype { PROTO_STR, PROTO_INT, PROTO_TRUE, PROTO_FALSE,
	PROTO_NULL };
struct proto_field {
	const char		*key;	/* NUL-terminated, in the scratch */
	enum proto_ftype	 type;
	const char		*s;	/* PROTO_STR: NUL-terminated, scratch */
	size_t			 slen;
	int64_t			 i;	/* PROTO_INT */
};
struct proto_flat {
	const char		*op;	/* scratch; NULL: no string "op" */
	const char		*id;	/* the raw JSON text of "id", or NULL */
	size_t			 idlen;
	size_t			 n;
	struct proto_field	 f[PROTO_FLAT_MAX];
};

/*
 * Scan line into *fl if it is a flat request; strings are copied into
 * scratch, which must hold len + PROTO_SCRATCH_EXTRA bytes.  Returns 0,
 * or -1 when the line is anything else, valid or not: proto_parse()
 * then gives the answer and the error message.
 */
#define PROTO_SCRATCH_EXTRA	(2 * PROTO_FLAT_MAX + 8)
int	 proto_scan(const char *line, size_t len, struct proto_flat *fl,
	    char *scratch);

/*
 * The length of the valid UTF-8 sequence at s (at most avail bytes), as
 * jansson defines it (no overlong forms, surrogates or code points past
 * U+10FFFF), or 0.
 */
size_t	 proto_utf8_len(const char *s, size_t avail);

/* Dump j on one line (JSON_COMPACT escapes newlines): malloc'd, or NULL. */
char	*proto_dump(const json_t *j, size_t *lenp);

/* A new reference for v. */
json_t	*proto_value_json(const struct value *v);
/* Fill *v (caller frees with value_free) from any JSON value. */
void	 proto_value_from_json(const json_t *j, struct value *v);

/* The "reason" object of an exit: {exit_status|signal, requested?}. */
json_t	*proto_exit_json(int status, int requested);
/*
 * The full "reason" object (protocol §4): exit_status or signal, then
 * requested, stop_signal, escalated and timeout_ms for a stop gtd asked
 * for, and errno, step and path for a start that failed.  A new object.
 */
json_t	*proto_exit_reason(const struct policy_reason *);

#endif /* GT_PROTO_H */
