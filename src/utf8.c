/* SPDX-License-Identifier: MIT */
/* utf8: UTF-8 validation, byte by byte (no locale, no allocation). */
#include "config.h"

#include <stddef.h>

#include "gt/utf8.h"

size_t
utf8_len(const char *s, size_t avail)
{
	const unsigned char	*u = (const unsigned char *)s;
	unsigned char		 lo = 0x80, hi = 0xbf;
	size_t			 n, i;

	if (avail == 0)
		return (0);
	if (u[0] < 0x80)
		return (1);
	if (u[0] >= 0xc2 && u[0] <= 0xdf)
		n = 2;
	else if (u[0] >= 0xe0 && u[0] <= 0xef)
		n = 3;
	else if (u[0] >= 0xf0 && u[0] <= 0xf4)
		n = 4;
	else
		return (0);		/* a continuation byte, C0, C1, F5.. */
	if (u[0] == 0xe0)
		lo = 0xa0;		/* overlong */
	else if (u[0] == 0xed)
		hi = 0x9f;		/* surrogates */
	else if (u[0] == 0xf0)
		lo = 0x90;		/* overlong */
	else if (u[0] == 0xf4)
		hi = 0x8f;		/* past U+10FFFF */
	if (avail < n || u[1] < lo || u[1] > hi)
		return (0);
	for (i = 2; i < n; i++)
		if (u[i] < 0x80 || u[i] > 0xbf)
			return (0);
	return (n);
}
