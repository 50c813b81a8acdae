/* SPDX-License-Identifier: MIT */
/*
 * healthspec: parse and print the childspec value health (see
 * healthspec.h).  Strict like config.c: every key known, every number
 * range-checked, the error naming the key.  Pure; never logs.
 */
#include "config.h"

#include <arpa/inet.h>

#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gt/healthspec.h"
#include "gt/spec.h"
#include "gt/xmalloc.h"

static int	healthspec_fail(char **, char **, const char *, const char *,
		    ...) __attribute__((format(printf, 4, 5)));

static int
healthspec_fail(char **field, char **cause, const char *f, const char *fmt,
    ...)
{
	va_list	ap;

	*field = xstrdup(f);
	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) == -1)
		*cause = xstrdup("invalid health");
	va_end(ap);
	return (-1);
}

void
healthspec_free(struct healthspec *h)
{
	size_t	i;

	if (h == NULL)
		return;
	for (i = 0; i < h->nargv; i++)
		free(h->argv[i]);
	free(h->argv);
	free(h->target);
	free(h->host);
	free(h->path);
	free(h);
}

struct healthspec *
healthspec_dup(const struct healthspec *h)
{
	struct healthspec	*d;
	size_t			 i;

	if (h == NULL)
		return (NULL);
	d = xmalloc(sizeof *d);
	*d = *h;
	if (h->argv != NULL) {
		d->argv = xcalloc(h->nargv + 1, sizeof *d->argv);
		for (i = 0; i < h->nargv; i++)
			d->argv[i] = xstrdup(h->argv[i]);
	}
	d->target = h->target != NULL ? xstrdup(h->target) : NULL;
	d->host = h->host != NULL ? xstrdup(h->host) : NULL;
	d->path = h->path != NULL ? xstrdup(h->path) : NULL;
	return (d);
}

/* exec: an array of 1 to HEALTH_MAX_ARGV strings. */
static int
healthspec_exec(struct healthspec *h, const json_t *j, char **field,
    char **cause)
{
	const json_t	*el;
	size_t		 i;
	char		 f[64];

	if (!json_is_array(j) || json_array_size(j) == 0 ||
	    json_array_size(j) > HEALTH_MAX_ARGV)
		return (healthspec_fail(field, cause, "health.exec",
		    "health.exec must be an array of 1 to %d strings",
		    HEALTH_MAX_ARGV));
	h->kind = HEALTH_EXEC;
	h->argv = xcalloc(json_array_size(j) + 1, sizeof *h->argv);
	json_array_foreach(j, i, el) {
		if (!json_is_string(el) || json_string_length(el) >
		    HEALTH_MAX_ARG || strlen(json_string_value(el)) !=
		    json_string_length(el) || (i == 0 &&
		    json_string_length(el) == 0)) {
			snprintf(f, sizeof f, "health.exec.%zu", i);
			return (healthspec_fail(field, cause, f, "%s must be "
			    "a non-empty string of at most %d bytes without "
			    "NUL", f, HEALTH_MAX_ARG));
		}
		h->argv[h->nargv++] = xstrdup(json_string_value(el));
	}
	return (0);
}

/*
 * "host:port" (host numeric, [v6] or localhost) into h->host, h->port.
 * -1 without a message: the caller names the field.
 */
static int
healthspec_hostport(struct healthspec *h, const char *s, size_t len)
{
	unsigned char	 buf[16];
	const char	*colon;
	char		*host, *end;
	size_t		 hlen;
	long		 port;

	if (len > 0 && s[0] == '[') {
		if ((colon = memchr(s, ']', len)) == NULL ||
		    colon + 1 >= s + len || colon[1] != ':')
			return (-1);
		host = xstrndup(s + 1, colon - s - 1);
		colon++;
	} else {
		if ((colon = memchr(s, ':', len)) == NULL)
			return (-1);
		host = xstrndup(s, colon - s);
	}
	hlen = s + len - colon - 1;
	if (hlen == 0 || hlen > 5 || strspn(colon + 1, "0123456789") < hlen)
		goto fail;
	port = strtol(colon + 1, &end, 10);
	if (port < 1 || port > 65535)
		goto fail;
	if (strcmp(host, "localhost") == 0) {
		free(host);
		host = xstrdup("127.0.0.1");
	}
	if (inet_pton(AF_INET, host, buf) != 1 &&
	    inet_pton(AF_INET6, host, buf) != 1)
		goto fail;
	free(h->host);
	h->host = host;
	snprintf(h->port, sizeof h->port, "%ld", port);
	return (0);
fail:
	free(host);
	return (-1);
}

static int
healthspec_target(struct healthspec *h, const json_t *j, const char *key,
    char **field, char **cause)
{
	const char	*s, *rest, *slash;
	char		 f[32];
	size_t		 len;
	bool		 http = strcmp(key, "http") == 0;

	snprintf(f, sizeof f, "health.%s", key);
	if (!json_is_string(j) || json_string_length(j) > HEALTH_MAX_TARGET ||
	    strlen(json_string_value(j)) != json_string_length(j))
		goto bad;
	s = json_string_value(j);
	h->kind = http ? HEALTH_HTTP : HEALTH_TCP;
	h->target = xstrdup(s);
	if (!http) {
		if (healthspec_hostport(h, s, strlen(s)) == -1)
			goto bad;
		return (0);
	}
	if (strncmp(s, "http://", 7) != 0)
		goto bad;
	rest = s + 7;
	slash = strchr(rest, '/');
	len = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
	if (healthspec_hostport(h, rest, len) == -1)
		goto bad;
	h->path = xstrdup(slash != NULL ? slash : "/");
	/* The path goes into a request line: no spaces, no controls. */
	for (rest = h->path; *rest != '\0'; rest++)
		if ((unsigned char)*rest <= ' ' || *rest == 0x7f)
			goto bad;
	return (0);
bad:
	return (healthspec_fail(field, cause, f, http ? "%s must be "
	    "\"http://HOST:PORT/PATH\" with a numeric HOST or localhost, "
	    "at most %d bytes" : "%s must be \"HOST:PORT\" with a numeric "
	    "HOST or localhost, at most %d bytes", f, HEALTH_MAX_TARGET));
}

static int
healthspec_num(const json_t *j, const char *key, int64_t lo, int64_t hi,
    int64_t *out, char **field, char **cause)
{
	char	f[48];

	snprintf(f, sizeof f, "health.%s", key);
	if (!json_is_integer(j) || json_integer_value(j) < lo ||
	    json_integer_value(j) > hi)
		return (healthspec_fail(field, cause, f, "%s must be an "
		    "integer from %lld to %lld", f, (long long)lo,
		    (long long)hi));
	*out = json_integer_value(j);
	return (0);
}

/* One key of the object. */
static int
healthspec_key(struct healthspec *h, const char *k, const json_t *v,
    char **field, char **cause)
{
	int64_t	n;

	if (strcmp(k, "exec") == 0)
		return (healthspec_exec(h, v, field, cause));
	if (strcmp(k, "http") == 0 || strcmp(k, "tcp") == 0)
		return (healthspec_target(h, v, k, field, cause));
	if (strcmp(k, "interval_ms") == 0)
		return (healthspec_num(v, k, HEALTH_MIN_INTERVAL_MS,
		    SPEC_MAX_MS, &h->interval_ms, field, cause));
	if (strcmp(k, "timeout_ms") == 0)
		return (healthspec_num(v, k, 1, SPEC_MAX_MS, &h->timeout_ms,
		    field, cause));
	if (strcmp(k, "initial_delay_ms") == 0)
		return (healthspec_num(v, k, 0, SPEC_MAX_MS,
		    &h->initial_delay_ms, field, cause));
	if (strcmp(k, "failure_threshold") == 0 ||
	    strcmp(k, "success_threshold") == 0) {
		if (healthspec_num(v, k, 1, HEALTH_MAX_THRESHOLD, &n, field,
		    cause) == -1)
			return (-1);
		if (k[0] == 'f')
			h->failure_threshold = (int)n;
		else
			h->success_threshold = (int)n;
		return (0);
	}
	return (healthspec_fail(field, cause, "health", "unknown field "
	    "health.%s", k));
}

int
healthspec_parse(const json_t *j, struct healthspec **out, char **field,
    char **cause)
{
	struct healthspec	*h;
	const char		*k;
	json_t			*v;
	int			 kinds = 0;

	*out = NULL;
	if (!json_is_object(j))
		return (healthspec_fail(field, cause, "health", "health must "
		    "be an object with one of exec, http or tcp"));
	h = xcalloc(1, sizeof *h);
	h->interval_ms = 10000;
	h->timeout_ms = 1000;
	h->failure_threshold = 3;
	h->success_threshold = 1;
	json_object_foreach((json_t *)j, k, v) {
		if (strcmp(k, "exec") == 0 || strcmp(k, "http") == 0 ||
		    strcmp(k, "tcp") == 0)
			kinds++;
		if (kinds > 1)
			break;
		if (healthspec_key(h, k, v, field, cause) == -1) {
			healthspec_free(h);
			return (-1);
		}
	}
	if (kinds != 1) {
		healthspec_free(h);
		return (healthspec_fail(field, cause, "health", "health must "
		    "have exactly one of exec, http or tcp"));
	}
	*out = h;
	return (0);
}

json_t *
healthspec_json(const struct healthspec *h)
{
	json_t	*j, *a;
	size_t	 i;

	j = json_pack("{s:I, s:I, s:I, s:i, s:i}",
	    "interval_ms", (json_int_t)h->interval_ms,
	    "timeout_ms", (json_int_t)h->timeout_ms,
	    "initial_delay_ms", (json_int_t)h->initial_delay_ms,
	    "failure_threshold", h->failure_threshold,
	    "success_threshold", h->success_threshold);
	if (h->kind == HEALTH_EXEC) {
		a = json_array();
		for (i = 0; i < h->nargv; i++)
			json_array_append_new(a, json_string(h->argv[i]));
		json_object_set_new(j, "exec", a);
	} else
		json_object_set_new(j, h->kind == HEALTH_HTTP ? "http" : "tcp",
		    json_string(h->target));
	return (j);
}
