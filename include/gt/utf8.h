/* SPDX-License-Identifier: MIT */
/*
 * utf8: what every text gtd passes on (a child's output lines, STATUS=
 * text, replies) must be: valid UTF-8.  Pure; owns nothing, never logs.
 */
#ifndef GT_UTF8_H
#define GT_UTF8_H

#include <stddef.h>

/*
 * The length of the valid UTF-8 sequence at s (at most avail bytes), as
 * jansson defines it (no overlong forms, surrogates or code points past
 * U+10FFFF), or 0.
 */
size_t	utf8_len(const char *s, size_t avail);

#endif /* GT_UTF8_H */
