/* SPDX-License-Identifier: MIT */
/*
 * healthspec: the childspec value health (protocol §9.1): one probe,
 * exec (an argv), tcp ("host:port") or http ("http://host:port/path"),
 * with its timing and thresholds.  A host is a numeric address (IPv4, or
 * IPv6 in brackets) or "localhost": gtd never resolves a name, which
 * would block its loop.  Pure; never logs.
 */
#ifndef GT_HEALTHSPEC_H
#define GT_HEALTHSPEC_H

#include <stddef.h>
#include <stdint.h>

struct json_t;

enum health_kind { HEALTH_EXEC, HEALTH_HTTP, HEALTH_TCP };

#define HEALTH_MAX_ARGV		256	/* exec entries */
#define HEALTH_MAX_ARG		4096	/* bytes of one entry */
#define HEALTH_MAX_TARGET	2048	/* bytes of a url or host:port */
#define HEALTH_MAX_THRESHOLD	1000
#define HEALTH_MIN_INTERVAL_MS	10

struct healthspec {
	enum health_kind	  kind;
	char			**argv;		/* exec: NULL-terminated */
	size_t			  nargv;
	char			 *target;	/* http, tcp: as given */
	char			 *host;		/* numeric */
	char			  port[6];
	char			 *path;		/* http: "/..." */
	int64_t			  interval_ms;		/* 10000 */
	int64_t			  timeout_ms;		/* 1000 */
	int64_t			  initial_delay_ms;	/* 0 */
	int			  failure_threshold;	/* 3 */
	int			  success_threshold;	/* 1 */
};

/*
 * Parse a health object.  0 and an owned *out, or -1 with *field (the
 * dotted path, "health.interval_ms") and *cause, both xmalloc'd.
 */
int			 healthspec_parse(const struct json_t *,
			    struct healthspec **out, char **field,
			    char **cause);
/* The normalised object, every key present.  New reference. */
struct json_t		*healthspec_json(const struct healthspec *);
struct healthspec	*healthspec_dup(const struct healthspec *);
void			 healthspec_free(struct healthspec *);	/* NULL ok */

#endif /* GT_HEALTHSPEC_H */
