/* SPDX-License-Identifier: MIT */
/*
 * check_cglimits: a childspec's "limits" as a table of JSON input ->
 * normalised JSON or (field, cause); the cpu.max arithmetic; the files
 * the limits become; the controller check and its order.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "gt/cglimits.h"
#include "gt/xmalloc.h"

#include "check_unit.h"

static const struct {
	const char	*in;		/* the "limits" value, JSON */
	const char	*out;		/* normalised, or NULL: an error */
	const char	*field;		/* the error's field */
	const char	*cause;		/* a substring of the error's cause */
} parse_rows[] = {
	{ "{}", "{}", NULL, NULL },
	{ "{\"memory_max\": 268435456}", "{\"memory_max\": 268435456}",
	    NULL, NULL },
	{ "{\"memory_max\": 0, \"memory_high\": \"max\"}",
	    "{\"memory_max\": 0, \"memory_high\": \"max\"}", NULL, NULL },
	{ "{\"pids_max\": \"max\", \"cpu_max\": 250, \"cpu_weight\": 1}",
	    "{\"pids_max\": \"max\", \"cpu_max\": 250, \"cpu_weight\": 1}",
	    NULL, NULL },
	{ "{\"cpu_max\": \"max\", \"cpu_weight\": 10000}",
	    "{\"cpu_max\": \"max\", \"cpu_weight\": 10000}", NULL, NULL },
	{ "{\"pids_max\": 4194304}", "{\"pids_max\": 4194304}", NULL, NULL },
	/* Not an object. */
	{ "[1]", NULL, "limits", "must be an object" },
	{ "\"max\"", NULL, "limits", "must be an object" },
	/* An unknown key is named before any bad value, wherever it is. */
	{ "{\"memory_max\": \"lots\", \"memroy_high\": 1}", NULL,
	    "limits.memroy_high", "unknown limit" },
	{ "{\"nofile\": 10}", NULL, "limits.nofile", "unknown limit" },
	/* Values. */
	{ "{\"memory_max\": -1}", NULL, "limits.memory_max",
	    "a number of bytes" },
	{ "{\"memory_max\": \"512M\"}", NULL, "limits.memory_max",
	    "or \"max\"" },
	{ "{\"memory_high\": 1.5}", NULL, "limits.memory_high", "integer" },
	{ "{\"pids_max\": 0}", NULL, "limits.pids_max", "from 1 to 4194304" },
	{ "{\"pids_max\": 4194305}", NULL, "limits.pids_max", "4194304" },
	{ "{\"cpu_max\": 0}", NULL, "limits.cpu_max", "percentage" },
	{ "{\"cpu_max\": 100001}", NULL, "limits.cpu_max", "100000" },
	{ "{\"cpu_max\": 50.0}", NULL, "limits.cpu_max", "integer" },
	{ "{\"cpu_weight\": \"max\"}", NULL, "limits.cpu_weight",
	    "from 1 to 10000" },
	{ "{\"cpu_weight\": 0}", NULL, "limits.cpu_weight", "weight" },
	{ "{\"cpu_weight\": 10001}", NULL, "limits.cpu_weight", "10000" },
	{ "{\"cpu_weight\": true}", NULL, "limits.cpu_weight", "weight" },
	{ "{\"pids_max\": null}", NULL, "limits.pids_max", "processes" },
};

START_TEST(test_cglimits_parse_table)
{
	struct cglimits	 l;
	json_error_t	 je;
	json_t		*in, *out, *want;
	char		*field = NULL, *cause = NULL;
	int		 rc;

	in = json_loads(parse_rows[_i].in, JSON_DECODE_ANY, &je);
	ck_assert_msg(in != NULL, "row %d: %s", _i, je.text);
	rc = cglimits_parse(in, &l, &field, &cause);
	if (parse_rows[_i].out != NULL) {
		ck_assert_msg(rc == 0, "row %d: %s", _i, cause);
		out = cglimits_json(&l);
		want = json_loads(parse_rows[_i].out, 0, &je);
		ck_assert_msg(json_equal(out, want), "row %d: got %s", _i,
		    json_dumps(out, JSON_COMPACT));
		ck_assert_int_eq(cglimits_any(&l), json_object_size(want) > 0);
		json_decref(out);
		json_decref(want);
	} else {
		ck_assert_msg(rc == -1, "row %d accepted", _i);
		ck_assert_str_eq(field, parse_rows[_i].field);
		ck_assert_msg(strstr(cause, parse_rows[_i].cause) != NULL,
		    "row %d: cause \"%s\" lacks \"%s\"", _i, cause,
		    parse_rows[_i].cause);
		/* The cause names the field for a human too. */
		ck_assert_msg(strstr(cause, parse_rows[_i].field) != NULL,
		    "row %d: %s", _i, cause);
	}
	free(field);
	free(cause);
	json_decref(in);
}
END_TEST

/* A client's key is echoed in the field, but never more than 64 bytes. */
START_TEST(test_cglimits_long_key_is_cut)
{
	struct cglimits	 l;
	json_t		*in = json_object();
	char		 key[2000], *field = NULL, *cause = NULL;

	memset(key, 'k', sizeof key - 1);
	key[sizeof key - 1] = '\0';
	key[63] = (char)0xc3;		/* a two-byte sequence across 64 */
	key[64] = (char)0xa9;
	json_object_set_new(in, key, json_integer(1));
	ck_assert_int_eq(cglimits_parse(in, &l, &field, &cause), -1);
	/* "limits." + 63 bytes: the sequence is not split. */
	ck_assert_uint_eq(strlen(field), strlen("limits.") + 63);
	ck_assert(strlen(cause) < 300);
	free(field);
	free(cause);
	json_decref(in);
}
END_TEST

static const struct {
	int64_t		 pct;
	const char	*out;		/* NULL: EINVAL */
} cpu_rows[] = {
	{ 50, "50000 100000" },
	{ 100, "100000 100000" },
	{ 200, "200000 100000" },
	{ 1, "1000 100000" },
	{ 100000, "100000000 100000" },
	{ CGLIMIT_MAX, "max 100000" },
	{ 0, NULL },
	{ -5, NULL },
	{ 100001, NULL },
	{ CGLIMIT_UNSET, NULL },
};

START_TEST(test_cglimits_cpu_max_table)
{
	char	buf[32];
	int	rc;

	errno = 0;
	rc = cglimits_cpu_max(cpu_rows[_i].pct, buf, sizeof buf);
	if (cpu_rows[_i].out == NULL) {
		ck_assert_int_eq(rc, -1);
		ck_assert_int_eq(errno, EINVAL);
	} else {
		ck_assert_int_eq(rc, 0);
		ck_assert_str_eq(buf, cpu_rows[_i].out);
	}
}
END_TEST

START_TEST(test_cglimits_cpu_max_small_buffer)
{
	char	buf[8];

	ck_assert_int_eq(cglimits_cpu_max(50, buf, sizeof buf), -1);
	ck_assert_int_eq(errno, ENOSPC);
}
END_TEST

START_TEST(test_cglimits_files)
{
	struct cglimit_file	f[CGLIMITS_NFILES];
	struct cglimits		l;

	cglimits_init(&l);
	ck_assert_uint_eq(cglimits_files(&l, f), 0);
	ck_assert(!cglimits_any(&l));
	l.memory_max = 1048576;
	l.memory_high = CGLIMIT_MAX;
	l.pids_max = 64;
	l.cpu_max = 50;
	l.cpu_weight = 200;
	ck_assert_uint_eq(cglimits_files(&l, f), 5);
	ck_assert_str_eq(f[0].file, "memory.max");
	ck_assert_str_eq(f[0].value, "1048576");
	ck_assert_str_eq(f[1].file, "memory.high");
	ck_assert_str_eq(f[1].value, "max");
	ck_assert_str_eq(f[2].file, "pids.max");
	ck_assert_str_eq(f[2].value, "64");
	ck_assert_str_eq(f[3].file, "cpu.max");
	ck_assert_str_eq(f[3].value, "50000 100000");
	ck_assert_str_eq(f[4].file, "cpu.weight");
	ck_assert_str_eq(f[4].value, "200");
	ck_assert_uint_eq(f[3].ctrl, CGROUP_CPU);
	/* Only what is set, in the same order. */
	cglimits_init(&l);
	l.cpu_weight = 5;
	l.pids_max = CGLIMIT_MAX;
	ck_assert_uint_eq(cglimits_files(&l, f), 2);
	ck_assert_str_eq(f[0].file, "pids.max");
	ck_assert_str_eq(f[0].value, "max");
	ck_assert_str_eq(f[1].file, "cpu.weight");
	/* A cpu_max never parsed, out of range: a value the kernel refuses. */
	cglimits_init(&l);
	l.cpu_max = 0;
	ck_assert_uint_eq(cglimits_files(&l, f), 1);
	ck_assert_str_eq(f[0].value, "");
}
END_TEST

static char	cg_arg[] = "cg";

static const char *
why_test(unsigned ctrl, void *arg)
{
	ck_assert_ptr_eq(arg, cg_arg);
	return (ctrl == CGROUP_MEMORY ? "the memory controller is not "
	    "delegated to gtd's cgroup /x" : NULL);
}

START_TEST(test_cglimits_check)
{
	struct cglimits	 l;
	char		*field = NULL, *cause = NULL;

	cglimits_init(&l);
	ck_assert_uint_eq(cglimits_controllers(&l), 0);
	ck_assert_int_eq(cglimits_check(&l, 0, why_test, cg_arg, &field,
	    &cause), 0);
	l.pids_max = 10;
	l.memory_high = CGLIMIT_MAX;
	l.cpu_weight = 50;
	ck_assert_uint_eq(cglimits_controllers(&l), CGROUP_ALL);
	ck_assert_int_eq(cglimits_check(&l, CGROUP_ALL, why_test, cg_arg,
	    &field, &cause), 0);
	/* The first missing limit in the order of struct cglimits. */
	ck_assert_int_eq(cglimits_check(&l, CGROUP_CPU, why_test, cg_arg,
	    &field, &cause), -1);
	ck_assert_str_eq(field, "limits.memory_high");
	ck_assert_str_eq(cause, "limits.memory_high: the memory controller "
	    "is not delegated to gtd's cgroup /x");
	free(field);
	free(cause);
	/* Without a reason from why: a generic one. */
	ck_assert_int_eq(cglimits_check(&l, CGROUP_CPU | CGROUP_MEMORY,
	    why_test, cg_arg, &field, &cause), -1);
	ck_assert_str_eq(field, "limits.pids_max");
	ck_assert_str_eq(cause, "limits.pids_max: the pids controller is "
	    "not available");
	free(field);
	free(cause);
}
END_TEST

START_TEST(test_cglimits_ctrl_names)
{
	ck_assert_str_eq(cglimits_ctrl_name(CGROUP_CPU), "cpu");
	ck_assert_str_eq(cglimits_ctrl_name(CGROUP_MEMORY), "memory");
	ck_assert_str_eq(cglimits_ctrl_name(CGROUP_PIDS), "pids");
	ck_assert_ptr_null(cglimits_ctrl_name(CGROUP_ALL));
	ck_assert_ptr_null(cglimits_ctrl_name(0));
}
END_TEST

Suite *
cglimits_suite(void)
{
	Suite	*s = suite_create("cglimits");
	TCase	*tc = tcase_create("cglimits");

	tcase_add_loop_test(tc, test_cglimits_parse_table, 0,
	    NROWS(parse_rows));
	tcase_add_test(tc, test_cglimits_long_key_is_cut);
	tcase_add_loop_test(tc, test_cglimits_cpu_max_table, 0,
	    NROWS(cpu_rows));
	tcase_add_test(tc, test_cglimits_cpu_max_small_buffer);
	tcase_add_test(tc, test_cglimits_files);
	tcase_add_test(tc, test_cglimits_check);
	tcase_add_test(tc, test_cglimits_ctrl_names);
	suite_add_tcase(s, tc);
	return (s);
}
