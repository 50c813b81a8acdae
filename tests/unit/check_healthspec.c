/* SPDX-License-Identifier: MIT */
/* check_healthspec: the health value, table-driven (healthspec.c). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "check_unit.h"
#include "gt/healthspec.h"

static const struct {
	const char	*in;		/* JSON */
	const char	*field;		/* NULL: valid */
	const char	*out;		/* normalised, when valid */
} hs_cases[] = {
	{ "{\"tcp\":\"127.0.0.1:80\"}", NULL,
	  "{\"interval_ms\":10000,\"timeout_ms\":1000,\"initial_delay_ms\":0,"
	  "\"failure_threshold\":3,\"success_threshold\":1,"
	  "\"tcp\":\"127.0.0.1:80\"}" },
	{ "{\"tcp\":\"localhost:1\",\"interval_ms\":10,\"timeout_ms\":1,"
	  "\"initial_delay_ms\":5,\"failure_threshold\":1000,"
	  "\"success_threshold\":2}", NULL,
	  "{\"interval_ms\":10,\"timeout_ms\":1,\"initial_delay_ms\":5,"
	  "\"failure_threshold\":1000,\"success_threshold\":2,"
	  "\"tcp\":\"localhost:1\"}" },
	{ "{\"tcp\":\"[::1]:8080\"}", NULL, NULL },
	{ "{\"http\":\"http://127.0.0.1:8080\"}", NULL, NULL },
	{ "{\"http\":\"http://[::1]:80/a/b?c=d\"}", NULL, NULL },
	{ "{\"exec\":[\"/bin/true\",\"x\"]}", NULL,
	  "{\"interval_ms\":10000,\"timeout_ms\":1000,\"initial_delay_ms\":0,"
	  "\"failure_threshold\":3,\"success_threshold\":1,"
	  "\"exec\":[\"/bin/true\",\"x\"]}" },
	{ "[]", "health", NULL },
	{ "{}", "health", NULL },
	{ "{\"interval_ms\":100}", "health", NULL },
	{ "{\"tcp\":\"127.0.0.1:80\",\"exec\":[\"x\"]}", "health", NULL },
	{ "{\"tcp\":\"127.0.0.1:80\",\"bogus\":1}", "health", NULL },
	{ "{\"tcp\":\"example.com:80\"}", "health.tcp", NULL },
	{ "{\"tcp\":\"127.0.0.1\"}", "health.tcp", NULL },
	{ "{\"tcp\":\"127.0.0.1:0\"}", "health.tcp", NULL },
	{ "{\"tcp\":\"127.0.0.1:65536\"}", "health.tcp", NULL },
	{ "{\"tcp\":\"127.0.0.1:8x\"}", "health.tcp", NULL },
	{ "{\"tcp\":\"[::1:80\"}", "health.tcp", NULL },
	{ "{\"tcp\":80}", "health.tcp", NULL },
	{ "{\"http\":\"https://127.0.0.1:1/\"}", "health.http", NULL },
	{ "{\"http\":\"http://127.0.0.1:1/a b\"}", "health.http", NULL },
	{ "{\"http\":\"http://127.0.0.1:1/a\\r\\nX: y\"}", "health.http",
	  NULL },
	{ "{\"exec\":[]}", "health.exec", NULL },
	{ "{\"exec\":[\"\"]}", "health.exec.0", NULL },
	{ "{\"exec\":[\"a\",1]}", "health.exec.1", NULL },
	{ "{\"tcp\":\"127.0.0.1:1\",\"interval_ms\":9}", "health.interval_ms",
	  NULL },
	{ "{\"tcp\":\"127.0.0.1:1\",\"timeout_ms\":0}", "health.timeout_ms",
	  NULL },
	{ "{\"tcp\":\"127.0.0.1:1\",\"initial_delay_ms\":-1}",
	  "health.initial_delay_ms", NULL },
	{ "{\"tcp\":\"127.0.0.1:1\",\"failure_threshold\":0}",
	  "health.failure_threshold", NULL },
	{ "{\"tcp\":\"127.0.0.1:1\",\"success_threshold\":1001}",
	  "health.success_threshold", NULL },
};

START_TEST(test_healthspec_table)
{
	struct healthspec	*h, *d;
	json_t			*j, *o;
	char			*field = NULL, *cause = NULL, *s;
	int			 rc;

	j = json_loads(hs_cases[_i].in, 0, NULL);
	ck_assert_ptr_nonnull(j);
	rc = healthspec_parse(j, &h, &field, &cause);
	if (hs_cases[_i].field != NULL) {
		ck_assert_msg(rc == -1, "%s accepted", hs_cases[_i].in);
		ck_assert_ptr_null(h);
		ck_assert_str_eq(field, hs_cases[_i].field);
		ck_assert_ptr_nonnull(cause);
		free(field);
		free(cause);
	} else {
		ck_assert_msg(rc == 0, "%s: %s: %s", hs_cases[_i].in, field,
		    cause);
		d = healthspec_dup(h);
		o = healthspec_json(d);
		s = json_dumps(o, JSON_COMPACT);
		if (hs_cases[_i].out != NULL)
			ck_assert_str_eq(s, hs_cases[_i].out);
		free(s);
		json_decref(o);
		healthspec_free(d);
		healthspec_free(h);
	}
	json_decref(j);
}
END_TEST

Suite *
healthspec_suite(void)
{
	Suite	*s = suite_create("healthspec");
	TCase	*tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_healthspec_table, 0,
	    sizeof hs_cases / sizeof hs_cases[0]);
	suite_add_tcase(s, tc);
	return (s);
}
