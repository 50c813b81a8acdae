/* SPDX-License-Identifier: MIT */
/*
 * xmalloc: allocators that abort on exhaustion instead of returning NULL,
 * so no caller carries an untested out-of-memory path.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gt/xmalloc.h"

static void	xmalloc_die(const char *, size_t) __attribute__((noreturn));

static void
xmalloc_die(const char *what, size_t n)
{
	/* No log module here: gtctl and the tests link this file too. */
	fprintf(stderr, "fatal: %s: out of memory (%zu bytes)\n", what, n);
	abort();
}

void *
xmalloc(size_t n)
{
	void	*p;

	if ((p = malloc(n == 0 ? 1 : n)) == NULL)
		xmalloc_die(__func__, n);
	return (p);
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void	*p;

	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	if ((p = calloc(nmemb, size)) == NULL)
		xmalloc_die(__func__, nmemb * size);
	return (p);
}

void *
xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	void	*p;

	if (size != 0 && nmemb > SIZE_MAX / size)
		xmalloc_die(__func__, SIZE_MAX);
	if ((p = realloc(ptr, nmemb * size == 0 ? 1 : nmemb * size)) == NULL)
		xmalloc_die(__func__, nmemb * size);
	return (p);
}

char *
xstrdup(const char *s)
{
	return (xstrndup(s, strlen(s)));
}

char *
xstrndup(const char *s, size_t n)
{
	char	*p;

	n = strnlen(s, n);
	p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return (p);
}

int
xasprintf(char **ret, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vasprintf(ret, fmt, ap);
	va_end(ap);
	if (n == -1)
		xmalloc_die(__func__, 0);
	return (n);
}

void
xmalloc_install_json(void)
{
	json_set_alloc_funcs(xmalloc, free);
}
