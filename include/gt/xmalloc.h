/* SPDX-License-Identifier: MIT */
/*
 * xmalloc: allocation that never fails.  Running out of memory calls
 * fatal() (house style 3.4.7); the real defence is that every size a
 * client controls is bounded before it is allocated.
 */
#ifndef GT_XMALLOC_H
#define GT_XMALLOC_H

#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
/* printf into a new string; the caller frees it. */
int	 xasprintf(char **, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Make jansson allocate through xmalloc/free. */
void	 xmalloc_install_json(void);

#endif /* GT_XMALLOC_H */
