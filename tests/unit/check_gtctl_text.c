/* SPDX-License-Identifier: MIT */
/*
 * check_gtctl_text: gtctl's pure text helpers as tables of input ->
 * output: escaping for a terminal (C0 but tab, DEL, C1, bad UTF-8), the
 * JSON-safe form of a reply line, display widths, durations, and the
 * distance that finds typos.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "gt/gtctl-text.h"
#include "gt/xmalloc.h"

#include "check_unit.h"

static const struct {
	const char	*in;
	size_t		 len;			/* 0: strlen(in) */
	const char	*out;
} esc_rows[] = {
	{ "plain text", 0, "plain text" },
	{ "tab\tkept", 0, "tab\tkept" },
	{ "\033[2Jclear", 0, "\\x1b[2Jclear" },
	{ "\033]0;title\007", 0, "\\x1b]0;title\\x07" },
	{ "a\nb\rc", 0, "a\\nb\\rc" },
	{ "del\177", 0, "del\\x7f" },
	{ "csi\302\233x", 0, "csi\\u009bx" },
	{ "nel\302\205", 0, "nel\\u0085" },
	{ "caf\303\251 \342\202\254", 0, "caf\303\251 \342\202\254" },
	{ "bad\377utf8", 0, "bad\\xffutf8" },
	{ "half\303", 0, "half\\xc3" },
	{ "nul\0x", 5, "nul\\x00x" },
	{ "\302\240nbsp", 0, "\302\240nbsp" },
};

START_TEST(test_gtctl_esc)
{
	size_t	 len = esc_rows[_i].len != 0 ? esc_rows[_i].len :
		    strlen(esc_rows[_i].in);
	char	*s = gtctl_esc(esc_rows[_i].in, len);

	ck_assert_str_eq(s, esc_rows[_i].out);
	ck_assert(gtctl_needs_esc(esc_rows[_i].in, len) ==
	    (strcmp(esc_rows[_i].in, esc_rows[_i].out) != 0 ||
	    esc_rows[_i].len != 0));
	free(s);
}
END_TEST

static const struct {
	const char	*in;
	const char	*out;
} json_rows[] = {
	{ "{\"a\":\"x\"}", "{\"a\":\"x\"}" },
	{ "{\"a\":\"\\u001b[2J\"}", "{\"a\":\"\\u001b[2J\"}" },
	{ "{\"a\":\"d\177\"}", "{\"a\":\"d\\u007f\"}" },
	{ "{\"a\":\"c\302\233\"}", "{\"a\":\"c\\u009b\"}" },
	{ "{\"a\":\"\303\251\"}", "{\"a\":\"\303\251\"}" },
	{ "raw\033x", "raw\\u001bx" },
	{ "bad\377", "bad\\ufffd" },
};

/* The safe line is the same JSON. */
START_TEST(test_gtctl_json_safe)
{
	char	*s = gtctl_json_safe(json_rows[_i].in, strlen(json_rows[_i].in));
	json_t	*a, *b;

	ck_assert_str_eq(s, json_rows[_i].out);
	if ((a = json_loads(json_rows[_i].in, 0, NULL)) != NULL) {
		ck_assert_ptr_nonnull(b = json_loads(s, 0, NULL));
		ck_assert(json_equal(a, b));
		json_decref(a);
		json_decref(b);
	}
	free(s);
}
END_TEST

START_TEST(test_gtctl_width)
{
	ck_assert_uint_eq(gtctl_width(""), 0);
	ck_assert_uint_eq(gtctl_width("web"), 3);
	ck_assert_uint_eq(gtctl_width("caf\303\251"), 4);
	ck_assert_uint_eq(gtctl_width("\342\202\254\342\202\254"), 2);
}
END_TEST

static const struct {
	int64_t		 ms;
	const char	*out;
} dur_rows[] = {
	{ -5, "0 ms" }, { 0, "0 ms" }, { 200, "200 ms" }, { 999, "999 ms" },
	{ 1000, "1 s" }, { 1500, "1.5 s" }, { 5000, "5 s" }, { 9999, "9.9 s" },
	{ 10500, "10 s" }, { 59999, "59 s" }, { 60000, "1 min 0 s" },
	{ 125000, "2 min 5 s" }, { 3600000, "1 h 0 min" },
	{ 3 * 3600000 + 2 * 60000, "3 h 2 min" },
};

START_TEST(test_gtctl_duration)
{
	char	*s = gtctl_duration(dur_rows[_i].ms);

	ck_assert_str_eq(s, dur_rows[_i].out);
	free(s);
}
END_TEST

static const struct {
	const char	*a;
	const char	*b;
	int		 d;			/* with max 3 */
	bool		 typo;			/* gtctl_is_typo(a, b) */
} dist_rows[] = {
	{ "ls", "ls", 0, true },
	{ "lss", "ls", 1, true },
	{ "sl", "ls", 1, true },
	{ "stpo", "stop", 1, true },
	{ "restrat", "restart", 1, true },
	{ "resatrt", "restart", 1, true },
	{ "rsetatr", "restart", 2, true },
	{ "tsartre", "restart", 4, false },
	{ "rstart", "restart", 1, true },
	{ "rest", "restart", 3, true },		/* a prefix of 3+ bytes */
	{ "re", "restart", 4, false },
	{ "ps", "ls", 1, true },
	{ "pq", "ls", 2, false },
	{ "frobnicate", "find", 4, false },
	{ "reexec", "restart", 4, false },
	{ "stat", "stats", 1, true },
	{ "x", "ls", 2, false },
};

START_TEST(test_gtctl_distance)
{
	ck_assert_int_eq(gtctl_distance(dist_rows[_i].a, dist_rows[_i].b, 3),
	    dist_rows[_i].d);
	ck_assert(gtctl_is_typo(dist_rows[_i].a, dist_rows[_i].b) ==
	    dist_rows[_i].typo);
}
END_TEST

/* Bounds: long words are "too far" at once; max cuts the search. */
START_TEST(test_gtctl_distance_bounds)
{
	char	long_word[200];

	memset(long_word, 'a', sizeof long_word - 1);
	long_word[sizeof long_word - 1] = '\0';
	ck_assert_int_eq(gtctl_distance(long_word, long_word, 2), 3);
	ck_assert_int_eq(gtctl_distance("abcdef", "uvwxyz", 2), 3);
	ck_assert_int_eq(gtctl_distance("", "abc", 5), 3);
}
END_TEST

Suite *
gtctl_text_suite(void)
{
	Suite	*s = suite_create("gtctl_text");
	TCase	*tc = tcase_create("gtctl_text");

	tcase_add_loop_test(tc, test_gtctl_esc, 0, NROWS(esc_rows));
	tcase_add_loop_test(tc, test_gtctl_json_safe, 0, NROWS(json_rows));
	tcase_add_test(tc, test_gtctl_width);
	tcase_add_loop_test(tc, test_gtctl_duration, 0, NROWS(dur_rows));
	tcase_add_loop_test(tc, test_gtctl_distance, 0, NROWS(dist_rows));
	tcase_add_test(tc, test_gtctl_distance_bounds);
	suite_add_tcase(s, tc);
	return (s);
}
