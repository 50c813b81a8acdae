/* SPDX-License-Identifier: MIT */
/*
 * compat: functions the C library may lack (glibc gained strlcpy in 2.38).
 */
#include "config.h"

#include <string.h>

#include "gt/compat.h"

#ifndef HAVE_STRLCPY
size_t
strlcpy(char *dst, const char *src, size_t size)
{
	size_t	len = strlen(src);

	if (size != 0) {
		size_t	n = len >= size ? size - 1 : len;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return (len);
}
#endif
