/* SPDX-License-Identifier: MIT */
/*
 * config-int: the checking helpers config.c and config-spec.c share
 * (private to those two files).  Each returns 0, or -1 after recording
 * the error in *e: the dotted path of the offending key and a message,
 * both xmalloc'd; the first error recorded is kept (the innermost).
 */
#ifndef GT_CONFIG_INT_H_
#define GT_CONFIG_INT_H_

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct config_err {
	char	*field;
	char	*cause;
};

/* Record field and the printf-style message; always -1. */
int		 config_fail(struct config_err *, const char *field,
		    const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
/*
 * The dotted path "prefix.key" into buf, key cut to at most max bytes
 * (never inside a UTF-8 sequence).  Returns buf.
 */
const char	*config_path(char *buf, size_t size, const char *prefix,
		    const char *key, size_t max);
/* An integer in [lo, hi] into *out. */
int		 config_int(const json_t *, const char *field, int64_t lo,
		    int64_t hi, int64_t *out, struct config_err *);
/* A string of at most max bytes without NUL, xstrdup'd into *out (freed). */
int		 config_string(const json_t *, const char *field, size_t max,
		    char **out, struct config_err *);
/* An array of strings into a new vector *v of *n (the old one freed). */
int		 config_strv(const json_t *, const char *field, char ***v,
		    size_t *n, struct config_err *);
/* Reject the keys of obj not in the NULL-terminated list keys. */
int		 config_keys(const json_t *obj, const char *prefix,
		    const char *const *keys, struct config_err *);

#endif /* GT_CONFIG_INT_H_ */
