/* SPDX-License-Identifier: MIT */
/*
 * proto: the JSON side of the wire (protocol §1): parse a request line,
 * dump a reply line, convert attr values.  Never logs.
 */
#ifndef GT_PROTO_H
#define GT_PROTO_H

#include <stddef.h>

#include <jansson.h>

#include "gt/spec.h"

/*
 * Parse one request line.  Returns the object (owned), or NULL with
 * *cause (xasprintf'd) when the line is not one JSON object.
 */
json_t	*proto_parse(const char *line, size_t len, char **cause);

/* Dump j on one line (JSON_COMPACT escapes newlines): malloc'd, or NULL. */
char	*proto_dump(const json_t *j, size_t *lenp);

/* A new reference for v. */
json_t	*proto_value_json(const struct value *v);
/* Fill *v (caller frees with value_free) from any JSON value. */
void	 proto_value_from_json(const json_t *j, struct value *v);

/* The "reason" object of an exit: {exit_status|signal, requested?}. */
json_t	*proto_exit_json(int status, int requested);

#endif /* GT_PROTO_H */
