/* SPDX-License-Identifier: MIT */
/* compat: prototypes for functions the C library may lack. */
#ifndef GT_COMPAT_H
#define GT_COMPAT_H

#include <stddef.h>

#ifndef HAVE_STRLCPY
size_t	strlcpy(char *, const char *, size_t);
#endif

#endif /* GT_COMPAT_H */
