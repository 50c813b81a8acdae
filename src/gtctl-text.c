/* SPDX-License-Identifier: MIT */
/*
 * gtctl-text: pure text helpers of gtctl (contracts in gtctl-text.h).
 * Whatever a child or another client controls (names, attrs, log lines,
 * messages) passes through gtctl_esc or gtctl_json_safe before gtctl
 * prints it, so no child can move the cursor, retitle the window or
 * feed a terminal's answerback.  Never prints, never logs.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gt/gtctl-text.h"
#include "gt/proto.h"
#include "gt/xmalloc.h"

/* A growing output string. */
struct gtctl_buf {
	char	*s;
	size_t	 len;
	size_t	 size;
};

static void	gtctl_buf_add(struct gtctl_buf *, const char *, size_t);
static size_t	gtctl_c1(const unsigned char *, size_t);
static char	*gtctl_escape(const char *, size_t, bool);

static void
gtctl_buf_add(struct gtctl_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->size) {
		b->size = (b->len + n + 1) * 2;
		b->s = xreallocarray(b->s, 1, b->size);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/* The code point of a C1 control at u (2 bytes), or 0 if it is none. */
static size_t
gtctl_c1(const unsigned char *u, size_t avail)
{
	if (avail >= 2 && u[0] == 0xc2 && u[1] >= 0x80 && u[1] <= 0x9f)
		return (u[1]);
	return (0);
}

bool
gtctl_needs_esc(const char *s, size_t len)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i, n;

	for (i = 0; i < len; i += n) {
		n = 1;
		if ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7f)
			return (true);
		if (u[i] < 0x80)
			continue;
		if (gtctl_c1(u + i, len - i) != 0 ||
		    (n = proto_utf8_len(s + i, len - i)) == 0)
			return (true);
	}
	return (false);
}

/*
 * The common walk of gtctl_esc (json false) and gtctl_json_safe (json
 * true): what each kind of byte becomes.
 */
static char *
gtctl_escape(const char *s, size_t len, bool json)
{
	const unsigned char	*u = (const unsigned char *)s;
	struct gtctl_buf	 b = { NULL, 0, 0 };
	char			 tmp[24];
	size_t			 i, n, c1;

	gtctl_buf_add(&b, "", 0);
	for (i = 0; i < len; i += n) {
		n = 1;
		if (!json && (u[i] == '\n' || u[i] == '\r'))
			gtctl_buf_add(&b, u[i] == '\n' ? "\\n" : "\\r", 2);
		else if ((u[i] < 0x20 && (json || u[i] != '\t')) ||
		    u[i] == 0x7f) {
			snprintf(tmp, sizeof tmp, json ? "\\u%04x" : "\\x%02x",
			    u[i]);
			gtctl_buf_add(&b, tmp, strlen(tmp));
		} else if (u[i] < 0x80)
			gtctl_buf_add(&b, s + i, 1);
		else if ((c1 = gtctl_c1(u + i, len - i)) != 0) {
			snprintf(tmp, sizeof tmp, "\\u%04zx", c1);
			gtctl_buf_add(&b, tmp, 6);
			n = 2;
		} else if ((n = proto_utf8_len(s + i, len - i)) != 0)
			gtctl_buf_add(&b, s + i, n);
		else {
			/* Not UTF-8: the byte, or U+FFFD in JSON text. */
			snprintf(tmp, sizeof tmp, json ? "\\ufffd" : "\\x%02x",
			    u[i]);
			gtctl_buf_add(&b, tmp, strlen(tmp));
			n = 1;
		}
	}
	return (b.s);
}

char *
gtctl_esc(const char *s, size_t len)
{
	return (gtctl_escape(s, len, false));
}

char *
gtctl_json_safe(const char *s, size_t len)
{
	return (gtctl_escape(s, len, true));
}

size_t
gtctl_width(const char *s)
{
	size_t	w = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return (w);
}

char *
gtctl_duration(int64_t ms)
{
	char	*s;

	if (ms < 0)
		ms = 0;
	if (ms < 1000)
		xasprintf(&s, "%" PRId64 " ms", ms);
	else if (ms < 10000 && ms % 1000 != 0)
		xasprintf(&s, "%" PRId64 ".%" PRId64 " s", ms / 1000,
		    ms % 1000 / 100);
	else if (ms < 60000)
		xasprintf(&s, "%" PRId64 " s", ms / 1000);
	else if (ms < 3600000)
		xasprintf(&s, "%" PRId64 " min %" PRId64 " s", ms / 60000,
		    ms / 1000 % 60);
	else
		xasprintf(&s, "%" PRId64 " h %" PRId64 " min", ms / 3600000,
		    ms / 60000 % 60);
	return (s);
}

int
gtctl_distance(const char *a, const char *b, int max)
{
	size_t	la = strlen(a), lb = strlen(b), i, j;
	int	*d, cost, v, best, ret;

	if (la > 64 || lb > 64)
		return (max + 1);		/* no command is that long */
	if ((la > lb ? la - lb : lb - la) > (size_t)max)
		return (max + 1);
	/* d[i][j]: the distance between a[0..i) and b[0..j). */
	d = xcalloc((la + 1) * (lb + 1), sizeof *d);
#define D(i, j)	d[(i) * (lb + 1) + (j)]
	for (i = 0; i <= la; i++)
		D(i, 0) = (int)i;
	for (j = 0; j <= lb; j++)
		D(0, j) = (int)j;
	for (i = 1; i <= la; i++) {
		best = max + 1;
		for (j = 1; j <= lb; j++) {
			cost = a[i - 1] != b[j - 1];
			v = D(i - 1, j - 1) + cost;
			if (D(i - 1, j) + 1 < v)
				v = D(i - 1, j) + 1;
			if (D(i, j - 1) + 1 < v)
				v = D(i, j - 1) + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && D(i - 2, j - 2) + 1 < v)
				v = D(i - 2, j - 2) + 1;
			D(i, j) = v;
			if (v < best)
				best = v;
		}
		if (best > max)
			break;			/* every path is too long */
	}
	ret = i > la ? D(la, lb) : max + 1;
#undef D
	free(d);
	return (ret > max ? max + 1 : ret);
}

bool
gtctl_is_typo(const char *word, const char *cand)
{
	size_t	n = strlen(word);
	int	max = n <= 4 ? 1 : 2;

	if (n >= 3 && strncmp(cand, word, n) == 0)
		return (true);
	return (gtctl_distance(word, cand, max) <= max);
}
