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

/* utf8_len (utf8.h), for the client side. */
size_t	 proto_utf8_len(const char *s, size_t avail);

/* Dump j on one line (JSON_COMPACT escapes newlines): malloc'd, or NULL. */
char	*proto_dump(const json_t *j, size_t *lenp);

/*
 * Numbers as people write them: every dump of gtd and gtctl goes through
 * these, so a real prints as the shortest of %.15g, %.16g and %.17g that
 * reads back as the same double ("0.1", never "0.10000000000000001"),
 * and keeps a '.' or an exponent so that it stays a real ("2.0").
 *
 * proto_real_format writes d so into buf (size >= PROTO_REAL_LEN) and
 * returns its length; non-finite values come out as %g writes them.
 * proto_dumps is json_dumps(j, flags) with its reals written so; NULL as
 * json_dumps.  proto_dumpb is json_dumpb likewise: the length of the
 * whole text, written to buf only when it fits in size (then call again
 * with a larger buf), 0 on error.  No NUL is written.  All assume the C
 * LC_NUMERIC (gtd and gtctl never call setlocale for it).
 */
#define PROTO_REAL_LEN	32
size_t	 proto_real_format(double d, char *buf, size_t size);
char	*proto_dumps(const json_t *j, size_t flags);
size_t	 proto_dumpb(const json_t *j, char *buf, size_t size, size_t flags);

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
