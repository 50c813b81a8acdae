/* SPDX-License-Identifier: MIT */
/*
 * gtctl-text: the pure text helpers of gtctl, kept apart so that unit
 * tests can reach them: making text that a child or another client
 * controls safe for a terminal, durations for people, and the distance
 * between a mistyped word and a command.  Never prints, never logs.
 */
#ifndef GT_GTCTL_TEXT_H
#define GT_GTCTL_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * s (len bytes, may hold NUL) made safe to print on a terminal: every
 * C0 control byte except tab becomes "\n", "\r" or "\xNN" (ESC is
 * "\x1b", so no escape sequence reaches the terminal), DEL becomes
 * "\x7f", a C1 control (U+0080..U+009F) "\u0080".."\u009f", and a byte
 * that is not part of valid UTF-8 "\xNN".  Everything else, tabs and
 * printable UTF-8 included, is kept.  Returns an xmalloc'd string.
 */
char	*gtctl_esc(const char *s, size_t len);

/* Whether gtctl_esc would change s. */
bool	 gtctl_needs_esc(const char *s, size_t len);

/*
 * A JSON text (a reply line of gtd) made safe for a terminal without
 * changing what it means: a raw DEL, C1 control or C0 control byte (the
 * last is not valid JSON, but a line may be anything) becomes the JSON
 * escape "\u007f", "\u0085" ...  Inside a JSON string that is the same
 * string, so the output stays valid JSON equal to the input.  An invalid
 * UTF-8 byte becomes "\ufffd".  Returns an xmalloc'd string.
 */
char	*gtctl_json_safe(const char *s, size_t len);

/*
 * The columns s takes on a terminal, counted as UTF-8 code points (no
 * East Asian widths): good enough to align tables of names.
 */
size_t	 gtctl_width(const char *s);

/*
 * A duration in milliseconds for people: "200 ms", "1.5 s", "5 s",
 * "2 min 5 s", "3 h 2 min"; negative values count as 0.  xmalloc'd.
 */
char	*gtctl_duration(int64_t ms);

/*
 * The Damerau-Levenshtein distance (insertions, deletions, substitutions
 * and swaps of two neighbours) between a and b, stopping early at max +
 * 1: any result above max means "too far".
 */
int	 gtctl_distance(const char *a, const char *b, int max);

/*
 * Whether word is close enough to cand to be a typo of it: a distance of
 * 1 for words of up to 4 bytes, 2 for longer ones, or a prefix of at
 * least 3 bytes.
 */
bool	 gtctl_is_typo(const char *word, const char *cand);

#endif /* GT_GTCTL_TEXT_H */
