/* SPDX-License-Identifier: MIT */
/*
 * check_proto: request parsing (objects only, duplicates, nesting, UTF-8),
 * one-line dumps, attr value conversion and the exit "reason" object.
 */
#include "config.h"

#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <check.h>
#include <jansson.h>

#include "gt/proto.h"
#include "gt/spec.h"
#include "gt/xmalloc.h"

#include "check_unit.h"

static json_t *
parse_len(const char *s, size_t len, char **cause)
{
	*cause = NULL;
	return (proto_parse(s, len, cause));
}

static json_t *
parse(const char *s, char **cause)
{
	return (parse_len(s, strlen(s), cause));
}

START_TEST(test_proto_parse_valid)
{
	json_t	*j;
	char	*cause;

	j = parse("{\"id\":1,\"op\":\"ping\",\"x\":{\"y\":[1,2]}}", &cause);
	ck_assert_ptr_nonnull(j);
	ck_assert_ptr_null(cause);
	ck_assert(json_is_object(j));
	ck_assert_str_eq(json_string_value(json_object_get(j, "op")), "ping");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "id")), 1);
	json_decref(j);
	/* Only len bytes are read: what follows is not part of the line. */
	j = parse_len("{}garbage", 2, &cause);
	ck_assert_ptr_nonnull(j);
	ck_assert_uint_eq(json_object_size(j), 0);
	json_decref(j);
	/* Surrounding whitespace and a CR are fine. */
	j = parse(" \t{\"op\":\"x\"} \r", &cause);
	ck_assert_ptr_nonnull(j);
	json_decref(j);
	/* The same key in different objects is not a duplicate. */
	j = parse("{\"a\":{\"a\":1},\"b\":{\"a\":2}}", &cause);
	ck_assert_ptr_nonnull(j);
	json_decref(j);
}
END_TEST

static const char *reject_rows[] = {
	"",
	" ",
	"[]",
	"[{\"op\":\"ping\"}]",
	"\"op\"",
	"1",
	"null",
	"true",
	"{",
	"{\"op\":\"ping\"",
	"{\"op\":\"ping\"}}",
	"{\"op\":\"ping\"} {}",
	"{\"op\":\"ping\"}x",
	"{op:\"ping\"}",
	"{'op':'ping'}",
	"{\"op\":\"ping\",}",
	"{\"a\":1,\"a\":2}",			/* duplicates */
	"{\"a\":1,\"b\":{\"c\":1,\"c\":1}}",	/* nested duplicates */
	"{\"a\":[{\"x\":1,\"x\":2}]}",
	"{\"a\":\"\xff\"}",			/* invalid UTF-8 */
	"{\"a\":\"\xc0\x80\"}",			/* overlong NUL */
	"{\"a\":\"\xed\xa0\x80\"}",		/* a surrogate */
	"{\"\xfe\":1}",				/* in a key */
	"{\"a\":\"\\ud800\"}",			/* lone surrogate escape */
	"{\"a\":\"\\u0000\"}",			/* NUL escape */
	"{\"a\":NaN}",
	"{\"a\":01}",
};

START_TEST(test_proto_parse_rejects)
{
	json_t	*j;
	char	*cause;

	j = parse(reject_rows[_i], &cause);
	ck_assert_msg(j == NULL, "accepted \"%s\"", reject_rows[_i]);
	ck_assert_msg(cause != NULL && *cause != '\0', "no cause for \"%s\"",
	    reject_rows[_i]);
	free(cause);
}
END_TEST

START_TEST(test_proto_parse_raw_nul)
{
	static const char	line[] = "{\"a\":\"x\0y\"}";
	json_t			*j;
	char			*cause;

	j = parse_len(line, sizeof line - 1, &cause);	/* NUL inside */
	ck_assert_ptr_null(j);
	ck_assert_ptr_nonnull(cause);
	free(cause);
}
END_TEST

/* A line nesting `depth` arrays inside {"a": ...}: depth + 1 levels. */
static char *
nested(int depth, const char *open, const char *close)
{
	char	*s;
	size_t	 n = 0;
	int	 i;

	s = xmalloc(16 + depth * 2);
	n += strlen(strcpy(s, "{\"a\":"));
	for (i = 0; i < depth; i++)
		s[n++] = *open;
	for (i = 0; i < depth; i++)
		s[n++] = *close;
	s[n++] = '}';
	s[n] = '\0';
	return (s);
}

static const struct {
	int	 depth;			/* inner levels */
	bool	 ok;
} depth_rows[] = {
	{ 62, true },
	{ 63, true },			/* 64 levels in all */
	{ 64, false },
	{ 100000, false },		/* never reaches jansson */
};

START_TEST(test_proto_parse_depth)
{
	json_t	*j;
	char	*s, *cause;

	s = nested(depth_rows[_i].depth, "[", "]");
	j = parse(s, &cause);
	ck_assert_msg((j != NULL) == depth_rows[_i].ok, "depth %d: %s",
	    depth_rows[_i].depth + 1, cause);
	if (!depth_rows[_i].ok)
		ck_assert_ptr_nonnull(cause);
	json_decref(j);
	free(cause);
	free(s);
}
END_TEST

START_TEST(test_proto_parse_depth_objects)
{
	json_t	*j;
	char	*s, *cause;
	size_t	 n = 0;
	int	 i;

	/* {"a":{"a":...{}...}} 65 levels of objects. */
	s = xmalloc(65 * 6 + 8);
	for (i = 0; i < 65; i++) {
		memcpy(s + n, i == 64 ? "{}" : "{\"a\":", i == 64 ? 2 : 5);
		n += i == 64 ? 2 : 5;
	}
	for (i = 0; i < 64; i++)
		s[n++] = '}';
	s[n] = '\0';
	j = parse(s, &cause);
	ck_assert_ptr_null(j);
	free(cause);
	free(s);
}
END_TEST

START_TEST(test_proto_parse_brackets_in_strings)
{
	json_t	*j;
	char	*s, *cause;
	size_t	 n;

	/* 200 brackets inside a string are not nesting. */
	s = xmalloc(300);
	n = strlen(strcpy(s, "{\"a\":\"\\\""));		/* {"a":"\" */
	memset(s + n, '[', 200);
	n += 200;
	strcpy(s + n, "\\\\\",\"b\":[1]}");		/* \\","b":[1]} */
	j = parse(s, &cause);
	ck_assert_msg(j != NULL, "%s: %s", s, cause);
	ck_assert_uint_eq(strlen(json_string_value(json_object_get(j, "a"))),
	    202);
	json_decref(j);
	free(s);
}
END_TEST

START_TEST(test_proto_dump_one_line)
{
	const char	*prefix = "{\"a\":\"line1\\nline2\\r\\n\",\"b\":[1,2],";
	json_t		*j;
	char		*s;
	size_t		 len = 0;

	j = json_pack("{s:s, s:[i,i], s:s}", "a", "line1\nline2\r\n", "b", 1,
	    2, "c", "\xe2\x80\xa8");		/* U+2028 too */
	s = proto_dump(j, &len);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(len, strlen(s));
	ck_assert_ptr_null(strchr(s, '\n'));
	ck_assert_ptr_null(strchr(s, '\r'));
	ck_assert_ptr_null(strchr(s, ' '));	/* compact */
	ck_assert_msg(strncmp(s, prefix, strlen(prefix)) == 0, "%s", s);
	json_decref(j);
	j = json_loads(s, 0, NULL);		/* and it reads back */
	ck_assert_str_eq(json_string_value(json_object_get(j, "a")),
	    "line1\nline2\r\n");
	json_decref(j);
	free(s);
	/* Not only objects; lenp may be NULL. */
	j = json_integer(5);
	s = proto_dump(j, NULL);
	ck_assert_str_eq(s, "5");
	free(s);
	json_decref(j);
}
END_TEST

static const struct {
	const char	*json;
	enum value_type	 type;
} value_rows[] = {
	{ "0", VALUE_INT },
	{ "-9223372036854775808", VALUE_INT },
	{ "9223372036854775807", VALUE_INT },
	{ "1.5", VALUE_REAL },
	{ "1e-300", VALUE_REAL },
	{ "\"\"", VALUE_TEXT },
	{ "\"a\\nb\"", VALUE_TEXT },
	{ "\"\\u2603\"", VALUE_TEXT },
	{ "true", VALUE_JSON },
	{ "false", VALUE_JSON },
	{ "null", VALUE_JSON },
	{ "[]", VALUE_JSON },
	{ "[1,[2,[3]]]", VALUE_JSON },
	{ "{}", VALUE_JSON },
	{ "{\"k\":[{}],\"s\":\"x\\ny\"}", VALUE_JSON },
};

START_TEST(test_proto_value_round_trip)
{
	struct value	 v;
	json_t		*in, *out;

	in = json_loads(value_rows[_i].json, JSON_DECODE_ANY, NULL);
	ck_assert_ptr_nonnull(in);
	proto_value_from_json(in, &v);
	ck_assert_int_eq(v.type, value_rows[_i].type);
	if (v.type == VALUE_INT || v.type == VALUE_REAL)
		ck_assert_ptr_null(v.s);
	else
		ck_assert_ptr_nonnull(v.s);
	if (v.type == VALUE_JSON)	/* compact text, one line */
		ck_assert_ptr_null(strchr(v.s, '\n'));
	out = proto_value_json(&v);
	ck_assert_msg(json_equal(in, out), "%s", value_rows[_i].json);
	json_decref(in);
	json_decref(out);
	value_free(&v);
}
END_TEST

START_TEST(test_proto_value_json_forms)
{
	struct value	 v = { .type = VALUE_TEXT };
	json_t		*j;

	/* The type, not the bytes, decides between a string and JSON. */
	v.s = xstrdup("[1]");
	j = proto_value_json(&v);
	ck_assert(json_is_string(j));		/* text, not an array */
	json_decref(j);
	v.type = VALUE_JSON;
	j = proto_value_json(&v);
	ck_assert(json_is_array(j));
	json_decref(j);
	free(v.s);
	/* Broken stored JSON degrades to null instead of failing. */
	v.s = xstrdup("{broken");
	j = proto_value_json(&v);
	ck_assert(json_is_null(j));
	json_decref(j);
	value_free(&v);
	v.type = VALUE_INT;
	v.i = -7;
	j = proto_value_json(&v);
	ck_assert_int_eq(json_integer_value(j), -7);
	json_decref(j);
}
END_TEST

static const struct {
	int		 status;
	int		 requested;
	const char	*json;
} exit_rows[] = {
	{ W_EXITCODE(0, 0), 0, "{\"exit_status\":0}" },
	{ W_EXITCODE(3, 0), 0, "{\"exit_status\":3}" },
	{ W_EXITCODE(255, 0), 1, "{\"exit_status\":255,\"requested\":true}" },
	{ W_EXITCODE(0, SIGKILL), 0, "{\"signal\":\"SIGKILL\"}" },
	{ W_EXITCODE(0, SIGTERM), 1, "{\"signal\":\"SIGTERM\","
	    "\"requested\":true}" },
	{ SIGSEGV | 0x80, 0, "{\"signal\":\"SIGSEGV\"}" },	/* core */
	{ W_EXITCODE(0, 40), 0, "{\"signal\":\"SIG40\"}" },	/* realtime */
};

START_TEST(test_proto_exit_json_table)
{
	json_t	*got, *want;
	char	*s;

	got = proto_exit_json(exit_rows[_i].status, exit_rows[_i].requested);
	want = json_loads(exit_rows[_i].json, 0, NULL);
	s = json_dumps(got, JSON_COMPACT);
	ck_assert_msg(json_equal(got, want), "got %s, want %s", s,
	    exit_rows[_i].json);
	free(s);
	json_decref(got);
	json_decref(want);
}
END_TEST

/* Lines the flat scanner takes, and what it makes of them. */
static const struct {
	const char	*line;
	const char	*op;		/* NULL: none */
	const char	*id;		/* raw text, NULL: none */
	size_t		 n;
	const char	*key0;
	int		 type0;
	const char	*s0;
	long long	 i0;
} scan_ok_rows[] = {
	{ "{}", NULL, NULL, 0, NULL, 0, NULL, 0 },
	{ " { } \r", NULL, NULL, 0, NULL, 0, NULL, 0 },
	{ "{\"op\":\"find\",\"name\":\"t7\"}", "find", NULL, 1, "name",
	    PROTO_STR, "t7", 0 },
	{ "{ \"name\" : \"a b\" , \"op\" : \"find\" }", "find", NULL, 1,
	    "name", PROTO_STR, "a b", 0 },
	{ "{\"id\":[1],\"op\":\"x\"}", NULL, NULL, 0, NULL, 0, NULL, 0 },
	{ "{\"id\":-12,\"op\":\"x\"}", "x", "-12", 0, NULL, 0, NULL, 0 },
	{ "{\"id\":\"r1\",\"op\":\"x\"}", "x", "\"r1\"", 0, NULL, 0, NULL,
	    0 },
	{ "{\"op\":\"x\",\"id\":null}", "x", "null", 0, NULL, 0, NULL, 0 },
	{ "{\"by\":-9223372036854775808}", NULL, NULL, 1, "by", PROTO_INT,
	    NULL, INT64_MIN },
	{ "{\"by\":9223372036854775807}", NULL, NULL, 1, "by", PROTO_INT,
	    NULL, INT64_MAX },
	{ "{\"by\":0}", NULL, NULL, 1, "by", PROTO_INT, NULL, 0 },
	{ "{\"by\":-0}", NULL, NULL, 1, "by", PROTO_INT, NULL, 0 },
	{ "{\"w\":true}", NULL, NULL, 1, "w", PROTO_TRUE, NULL, 0 },
	{ "{\"w\":false}", NULL, NULL, 1, "w", PROTO_FALSE, NULL, 0 },
	{ "{\"w\":null}", NULL, NULL, 1, "w", PROTO_NULL, NULL, 0 },
	{ "{\"w\":\"\"}", NULL, NULL, 1, "w", PROTO_STR, "", 0 },
};

START_TEST(test_proto_scan_takes)
{
	struct proto_flat	 fl;
	const char		*line = scan_ok_rows[_i].line;
	char			*scratch;
	size_t			 len = strlen(line);

	scratch = xmalloc(len + PROTO_SCRATCH_EXTRA);
	if (scan_ok_rows[_i].op == NULL && strstr(line, "[") != NULL) {
		ck_assert_int_eq(proto_scan(line, len, &fl, scratch), -1);
		free(scratch);
		return;
	}
	ck_assert_msg(proto_scan(line, len, &fl, scratch) == 0, "%s", line);
	if (scan_ok_rows[_i].op == NULL)
		ck_assert_ptr_null(fl.op);
	else
		ck_assert_str_eq(fl.op, scan_ok_rows[_i].op);
	if (scan_ok_rows[_i].id == NULL)
		ck_assert_ptr_null(fl.id);
	else {
		ck_assert_uint_eq(fl.idlen, strlen(scan_ok_rows[_i].id));
		ck_assert(memcmp(fl.id, scan_ok_rows[_i].id, fl.idlen) == 0);
	}
	ck_assert_uint_eq(fl.n, scan_ok_rows[_i].n);
	if (fl.n > 0) {
		ck_assert_str_eq(fl.f[0].key, scan_ok_rows[_i].key0);
		ck_assert_int_eq(fl.f[0].type, scan_ok_rows[_i].type0);
		if (fl.f[0].type == PROTO_STR) {
			ck_assert_str_eq(fl.f[0].s, scan_ok_rows[_i].s0);
			ck_assert_uint_eq(fl.f[0].slen,
			    strlen(scan_ok_rows[_i].s0));
		}
		if (fl.f[0].type == PROTO_INT)
			ck_assert(fl.f[0].i == scan_ok_rows[_i].i0);
	}
	free(scratch);
}
END_TEST

/* Lines left to jansson: every other form, valid JSON or not. */
static const char *const scan_other_rows[] = {
	"", "[]", "1", "\"x\"", "{", "}", "{\"a\":1", "{\"a\":1}x",
	"{\"a\":1,}", "{,}", "{\"a\" 1}", "{a:1}", "{\"a\":1 \"b\":2}",
	"{\"a\":{}}", "{\"a\":[]}", "{\"a\":1.5}", "{\"a\":1e3}",
	"{\"a\":1E3}", "{\"a\":01}", "{\"a\":-}", "{\"a\":+1}",
	"{\"a\":9223372036854775808}", "{\"a\":-9223372036854775809}",
	"{\"a\":99999999999999999999}", "{\"a\":tru}", "{\"a\":nul}",
	"{\"a\":\"x\\ny\"}", "{\"a\":\"\\u0061\"}", "{\"\\u0061\":1}",
	"{\"a\":\"\xc3\xa9\"}", "{\"a\":\"\x01\"}", "{\"a\":\"\x7f\"}",
	"{\"a\":\"unterminated}", "{\"a\":1,\"a\":2}",
	"{\"op\":\"x\",\"op\":\"x\"}", "{\"id\":1,\"id\":1}",
	"{\"op\":1}", "{\"op\":null}",
	"{\"a\":1,\"b\":1,\"c\":1,\"d\":1,\"e\":1,\"f\":1,\"g\":1,"
	    "\"h\":1,\"i\":1}",
};

START_TEST(test_proto_scan_leaves)
{
	struct proto_flat	 fl;
	const char		*line = scan_other_rows[_i];
	char			*scratch;
	size_t			 len = strlen(line);

	scratch = xmalloc(len + PROTO_SCRATCH_EXTRA);
	ck_assert_msg(proto_scan(line, len, &fl, scratch) == -1, "%s", line);
	free(scratch);
}
END_TEST

/* Every line the scanner takes, jansson takes too, with equal values. */
START_TEST(test_proto_scan_agrees)
{
	struct proto_flat	 fl;
	const char		*line = scan_ok_rows[_i].line;
	char			*scratch, *cause;
	size_t			 len = strlen(line), i;
	json_t			*j, *v;

	scratch = xmalloc(len + PROTO_SCRATCH_EXTRA);
	j = parse(line, &cause);
	ck_assert_msg(j != NULL, "%s: %s", line, cause);
	if (proto_scan(line, len, &fl, scratch) == 0) {
		ck_assert_uint_eq(json_object_size(j), fl.n +
		    (fl.op != NULL) + (fl.id != NULL));
		for (i = 0; i < fl.n; i++) {
			v = json_object_get(j, fl.f[i].key);
			ck_assert_ptr_nonnull(v);
			switch (fl.f[i].type) {
			case PROTO_STR:
				ck_assert_str_eq(json_string_value(v),
				    fl.f[i].s);
				break;
			case PROTO_INT:
				ck_assert(json_integer_value(v) == fl.f[i].i);
				break;
			case PROTO_TRUE:
				ck_assert(json_is_true(v));
				break;
			case PROTO_FALSE:
				ck_assert(json_is_false(v));
				break;
			case PROTO_NULL:
				ck_assert(json_is_null(v));
				break;
			}
		}
	}
	json_decref(j);
	free(scratch);
}
END_TEST

static const struct {
	const char	*s;
	size_t		 len;
} utf8_rows[] = {
	{ "a", 1 }, { "\x7f", 1 }, { "\xc3\xa9", 2 }, { "\xe2\x82\xac", 3 },
	{ "\xf0\x9f\x98\x80", 4 }, { "\xf4\x8f\xbf\xbf", 4 },
	{ "\x80", 0 }, { "\xbf", 0 }, { "\xc0\x80", 0 }, { "\xc1\xbf", 0 },
	{ "\xc3", 0 }, { "\xc3x", 0 }, { "\xe0\x80\x80", 0 },
	{ "\xed\xa0\x80", 0 }, { "\xe2\x82", 0 }, { "\xf0\x80\x80\x80", 0 },
	{ "\xf4\x90\x80\x80", 0 }, { "\xf5\x80\x80\x80", 0 }, { "\xff", 0 },
};

START_TEST(test_proto_utf8_len)
{
	ck_assert_uint_eq(proto_utf8_len(utf8_rows[_i].s,
	    strlen(utf8_rows[_i].s)), utf8_rows[_i].len);
}
END_TEST

/* Reals: the shortest text that reads back as the same double. */
static const struct {
	double		 d;
	const char	*text;
} real_rows[] = {
	{ 0.1, "0.1" },
	{ 0.5, "0.5" },
	{ 2.0, "2.0" },
	{ 100.0, "100.0" },
	{ -0.0, "-0.0" },
	{ -1.25, "-1.25" },
	{ 123.456, "123.456" },
	{ 0.1 + 0.2, "0.30000000000000004" },	/* needs all 17 */
	{ 1.0 / 3, "0.3333333333333333" },	/* 16 */
	{ 2.0 / 3, "0.6666666666666666" },
	{ 1e16, "1e+16" },
	{ 1e21, "1e+21" },
	{ 1e300, "1e+300" },
	{ 1.5e-7, "1.5e-07" },
	{ 9007199254740993.0, "9007199254740992.0" },	/* 2^53 + 1 rounds */
	{ 1.7976931348623157e308, "1.7976931348623157e+308" },
	{ 5e-324, "4.94065645841247e-324" },
};

START_TEST(test_proto_real_format_table)
{
	char	buf[PROTO_REAL_LEN];
	size_t	n;

	n = proto_real_format(real_rows[_i].d, buf, sizeof buf);
	ck_assert_str_eq(buf, real_rows[_i].text);
	ck_assert_uint_eq(n, strlen(buf));
}
END_TEST

/* The significant digits of a number's text ("0.00120e5": 2). */
static int
sig_digits(const char *s)
{
	int	n = 0, zeros = 0, lead = 1;

	for (; *s != '\0' && *s != 'e'; s++) {
		if (*s < '0' || *s > '9')
			continue;
		if (*s == '0' && lead)
			continue;
		lead = 0;
		if (*s == '0')
			zeros++;	/* significant only if more follow */
		else {
			n += zeros + 1;
			zeros = 0;
		}
	}
	return (n);
}

/*
 * Any finite double: it reads back the same, as a JSON real, and is no
 * longer in digits than %.17g.
 */
START_TEST(test_proto_real_format_round_trip)
{
	char		buf[PROTO_REAL_LEN], ref[PROTO_REAL_LEN];
	uint64_t	bits = 0x9e3779b97f4a7c15ULL;
	json_t		*j;
	double		d;
	int		i, k;

	for (i = 0; i < 30000; i++) {
		/* xorshift over all bit patterns; NaNs and infinities skipped */
		bits ^= bits << 13;
		bits ^= bits >> 7;
		bits ^= bits << 17;
		memcpy(&d, &bits, sizeof d);
		if (!isfinite(d))
			continue;
		proto_real_format(d, buf, sizeof buf);
		ck_assert_msg(strtod(buf, NULL) == d, "%s != %.17g", buf, d);
		ck_assert_msg(strpbrk(buf, ".e") != NULL, "%s", buf);
		/* Fewest digits: none of 15 or 16 would have done. */
		for (k = 15; k <= 17; k++) {
			snprintf(ref, sizeof ref, "%.*g", k, d);
			if (strtod(ref, NULL) == d)
				break;
		}
		ck_assert_msg(sig_digits(buf) <= k, "%s: more than %d digits",
		    buf, k);
		ck_assert_ptr_nonnull(j = json_loads(buf, JSON_DECODE_ANY,
		    NULL));
		ck_assert_msg(json_is_real(j) && json_real_value(j) == d,
		    "%s", buf);
		json_decref(j);
	}
}
END_TEST

/*
 * proto_dumps and proto_dumpb rewrite every real of a tree and nothing
 * else: not integers, not digits inside strings (escaped quotes too).
 */
START_TEST(test_proto_dumps_reals)
{
	const char	*want = "{\"s\":\"q\\\"0.10000000000000001\\\\\","
	    "\"a\":[0.1,1,-2.5e-05,[0.30000000000000004]],"
	    "\"o\":{\"i\":12345678901234,\"r\":1e+16,\"t\":\"1.5e3\"}}";
	json_t		*j;
	char		*s, buf[256];
	size_t		 n;

	j = json_pack("{s:s, s:[f,i,f,[f]], s:{s:I, s:f, s:s}}",
	    "s", "q\"0.10000000000000001\\", "a", 0.1, 1, -2.5e-5, 0.1 + 0.2,
	    "o", "i", (json_int_t)12345678901234, "r", 1e16, "t", "1.5e3");
	s = proto_dumps(j, JSON_COMPACT);
	ck_assert_str_eq(s, want);
	free(s);
	s = proto_dump(j, &n);
	ck_assert_str_eq(s, want);
	ck_assert_uint_eq(n, strlen(want));
	free(s);
	/* json_dumpb's contract: the length, written only when it fits. */
	memset(buf, '#', sizeof buf);
	ck_assert_uint_eq(proto_dumpb(j, buf, 10, JSON_COMPACT),
	    strlen(want));
	ck_assert_int_eq(buf[0], '#');
	n = proto_dumpb(j, buf, sizeof buf, JSON_COMPACT);
	ck_assert_uint_eq(n, strlen(want));
	ck_assert_int_eq(memcmp(buf, want, n), 0);
	/* Indented output too. */
	s = proto_dumps(j, JSON_INDENT(2));
	ck_assert_ptr_nonnull(strstr(s, "\n    0.1,\n"));
	ck_assert_ptr_nonnull(strstr(s, "\n    -2.5e-05,\n"));
	free(s);
	json_decref(j);
	/* A bare real, and a tree without one (dumped by jansson alone). */
	j = json_real(0.1);
	s = proto_dumps(j, JSON_ENCODE_ANY);
	ck_assert_str_eq(s, "0.1");
	free(s);
	json_decref(j);
	j = json_pack("{s:[i,s]}", "a", 1, "0.10000000000000001");
	s = proto_dumps(j, JSON_COMPACT);
	ck_assert_str_eq(s, "{\"a\":[1,\"0.10000000000000001\"]}");
	free(s);
	json_decref(j);
}
END_TEST

/* A long reply of reals that each grow ("1.23456789012345e+15"). */
START_TEST(test_proto_dumps_growth)
{
	json_t	*a = json_array(), *b;
	char	*s;
	int	 i;

	for (i = 0; i < 1000; i++)
		json_array_append_new(a, json_real(1.23456789012345e15));
	s = proto_dumps(a, JSON_COMPACT);
	ck_assert_ptr_nonnull(b = json_loads(s, 0, NULL));
	ck_assert_uint_eq(json_array_size(b), 1000);
	ck_assert(json_real_value(json_array_get(b, 999)) ==
	    1.23456789012345e15);
	json_decref(b);
	free(s);
	json_decref(a);
}
END_TEST

/* An attr value of JSON text (arrays, objects) keeps reals short. */
START_TEST(test_proto_value_json_reals)
{
	struct value	 v;
	json_t		*j = json_pack("[f, {s:f}]", 0.1, "k", 2.5);

	proto_value_from_json(j, &v);
	ck_assert_int_eq(v.type, VALUE_JSON);
	ck_assert_str_eq(v.s, "[0.1,{\"k\":2.5}]");
	value_free(&v);
	json_decref(j);
}
END_TEST

Suite *
proto_suite(void)
{
	Suite	*s = suite_create("proto");
	TCase	*tc;

	tc = tcase_create("parse");
	tcase_add_test(tc, test_proto_parse_valid);
	tcase_add_loop_test(tc, test_proto_parse_rejects, 0,
	    NROWS(reject_rows));
	tcase_add_test(tc, test_proto_parse_raw_nul);
	tcase_add_loop_test(tc, test_proto_parse_depth, 0, NROWS(depth_rows));
	tcase_add_test(tc, test_proto_parse_depth_objects);
	tcase_add_test(tc, test_proto_parse_brackets_in_strings);
	suite_add_tcase(s, tc);

	tc = tcase_create("utf8");
	tcase_add_loop_test(tc, test_proto_utf8_len, 0, NROWS(utf8_rows));
	suite_add_tcase(s, tc);

	tc = tcase_create("scan");
	tcase_add_loop_test(tc, test_proto_scan_takes, 0, NROWS(scan_ok_rows));
	tcase_add_loop_test(tc, test_proto_scan_leaves, 0,
	    NROWS(scan_other_rows));
	tcase_add_loop_test(tc, test_proto_scan_agrees, 0,
	    NROWS(scan_ok_rows));
	suite_add_tcase(s, tc);

	tc = tcase_create("dump");
	tcase_add_test(tc, test_proto_dump_one_line);
	tcase_add_loop_test(tc, test_proto_value_round_trip, 0,
	    NROWS(value_rows));
	tcase_add_test(tc, test_proto_value_json_forms);
	tcase_add_loop_test(tc, test_proto_exit_json_table, 0,
	    NROWS(exit_rows));
	suite_add_tcase(s, tc);

	tc = tcase_create("reals");
	tcase_add_loop_test(tc, test_proto_real_format_table, 0,
	    NROWS(real_rows));
	tcase_add_test(tc, test_proto_real_format_round_trip);
	tcase_add_test(tc, test_proto_dumps_reals);
	tcase_add_test(tc, test_proto_dumps_growth);
	tcase_add_test(tc, test_proto_value_json_reals);
	suite_add_tcase(s, tc);
	return (s);
}
