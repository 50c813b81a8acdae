/* SPDX-License-Identifier: MIT */
/*
 * check_attrtab: the in-memory attrs: lookups through growth, deletes
 * that stay dirty until flushed, clears, key order, and the write-back
 * order and its stop on failure.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "gt/attrtab.h"
#include "gt/spec.h"
#include "gt/xmalloc.h"

#include "check_unit.h"

static struct value
ival(int64_t i)
{
	struct value	v;

	memset(&v, 0, sizeof v);
	v.type = VALUE_INT;
	v.i = i;
	return (v);
}

/* What a flush wrote, as "name/key=i" or "name/key-" lines. */
struct wrote {
	char	buf[4096];
	int	calls;
	int	fail_at;		/* -1: never */
};

static int
record(const char *name, const char *key, const struct value *v, void *arg)
{
	struct wrote	*w = arg;
	size_t		 len = strlen(w->buf);

	if (w->calls++ == w->fail_at)
		return (-1);
	if (v == NULL)
		snprintf(w->buf + len, sizeof w->buf - len, "%s/%s-\n", name,
		    key);
	else
		snprintf(w->buf + len, sizeof w->buf - len, "%s/%s=%lld\n",
		    name, key, (long long)v->i);
	return (0);
}

static void
flush_expect(struct attrtab *t, const char *want)
{
	struct wrote	w = { .fail_at = -1 };

	ck_assert_int_eq(attrtab_flush(t, record, &w), 0);
	ck_assert_str_eq(w.buf, want);
	ck_assert_uint_eq(attrtab_dirty(t), 0);
}

START_TEST(test_attrtab_basics)
{
	struct attrtab	*t = attrtab_new();
	struct value	 v = ival(1), *p;

	ck_assert_ptr_null(attrtab_get(t, "a", "k"));
	ck_assert_uint_eq(attrtab_count(t, "a"), 0);
	attrtab_set(t, "a", "k", &v);
	v = ival(2);
	attrtab_set(t, "b", "k", &v);
	ck_assert_int_eq(attrtab_get(t, "a", "k")->i, 1);
	ck_assert_int_eq(attrtab_get(t, "b", "k")->i, 2);
	ck_assert_ptr_null(attrtab_get(t, "a", "x"));
	ck_assert_uint_eq(attrtab_dirty(t), 2);
	flush_expect(t, "a/k=1\nb/k=2\n");
	/* In place, then touched: dirty once, however often. */
	p = attrtab_get(t, "a", "k");
	p->i = 5;
	attrtab_touch(t, p);
	attrtab_touch(t, p);
	ck_assert_uint_eq(attrtab_dirty(t), 1);
	flush_expect(t, "a/k=5\n");
	attrtab_free(t);
}
END_TEST

START_TEST(test_attrtab_delete)
{
	struct attrtab	*t = attrtab_new();
	struct value	 v = ival(1);

	attrtab_set(t, "a", "k", &v);
	attrtab_set(t, "a", "j", &v);
	flush_expect(t, "a/k=1\na/j=1\n");
	ck_assert(attrtab_del(t, "a", "k"));
	ck_assert(!attrtab_del(t, "a", "k"));		/* already gone */
	ck_assert(!attrtab_del(t, "a", "nope"));
	ck_assert_ptr_null(attrtab_get(t, "a", "k"));
	ck_assert_uint_eq(attrtab_count(t, "a"), 1);
	flush_expect(t, "a/k-\n");
	/* Deleted and set again before the flush: written as a set. */
	ck_assert(attrtab_del(t, "a", "j"));
	ck_assert_uint_eq(attrtab_count(t, "a"), 0);
	v = ival(7);
	attrtab_set(t, "a", "j", &v);
	ck_assert_uint_eq(attrtab_count(t, "a"), 1);
	flush_expect(t, "a/j=7\n");
	/* The last attr deleted and flushed: the name goes too. */
	ck_assert(attrtab_del(t, "a", "j"));
	flush_expect(t, "a/j-\n");
	ck_assert_uint_eq(attrtab_count(t, "a"), 0);
	attrtab_free(t);
}
END_TEST

START_TEST(test_attrtab_clear)
{
	struct attrtab	*t = attrtab_new();
	struct value	 v = ival(1);

	attrtab_set(t, "a", "k", &v);
	attrtab_set(t, "b", "k", &v);
	attrtab_set(t, "a", "j", &v);
	ck_assert(attrtab_del(t, "a", "j"));
	attrtab_clear(t, "a");			/* dirty ones go too */
	attrtab_clear(t, "nobody");
	ck_assert_ptr_null(attrtab_get(t, "a", "k"));
	ck_assert_uint_eq(attrtab_count(t, "a"), 0);
	flush_expect(t, "b/k=1\n");
	attrtab_set(t, "a", "k", &v);
	flush_expect(t, "a/k=1\n");
	attrtab_free(t);
}
END_TEST

static void
collect(const char *key, const struct value *v, void *arg)
{
	char	*buf = arg;

	strcat(buf, key);
	strcat(buf, " ");
}

START_TEST(test_attrtab_order)
{
	struct attrtab	*t = attrtab_new();
	struct value	 v = ival(1);
	char		 buf[256] = "";

	attrtab_set(t, "a", "m", &v);
	attrtab_set(t, "a", "b", &v);
	attrtab_set(t, "a", "z", &v);
	attrtab_set(t, "a", "aa", &v);
	ck_assert(attrtab_del(t, "a", "z"));
	attrtab_foreach(t, "a", collect, buf);
	ck_assert_str_eq(buf, "aa b m ");
	buf[0] = '\0';
	attrtab_foreach(t, "none", collect, buf);
	ck_assert_str_eq(buf, "");
	attrtab_free(t);
}
END_TEST

/* Thousands of names and keys: every one found through the growth. */
START_TEST(test_attrtab_many)
{
	struct attrtab	*t = attrtab_new();
	struct value	 v;
	char		 name[32], key[32];
	int		 i, k;

	for (i = 0; i < 300; i++)
		for (k = 0; k < 40; k++) {
			snprintf(name, sizeof name, "n%d", i);
			snprintf(key, sizeof key, "k%d", k);
			v = ival(i * 1000 + k);
			attrtab_set(t, name, key, &v);
		}
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof name, "n%d", i);
		ck_assert_uint_eq(attrtab_count(t, name), 40);
		for (k = 0; k < 40; k++) {
			snprintf(key, sizeof key, "k%d", k);
			ck_assert_int_eq(attrtab_get(t, name, key)->i,
			    i * 1000 + k);
		}
	}
	ck_assert_uint_eq(attrtab_dirty(t), 300 * 40);
	for (i = 0; i < 300; i += 2) {
		snprintf(name, sizeof name, "n%d", i);
		attrtab_clear(t, name);
	}
	ck_assert_uint_eq(attrtab_dirty(t), 150 * 40);
	ck_assert_ptr_null(attrtab_get(t, "n0", "k0"));
	ck_assert_int_eq(attrtab_get(t, "n299", "k39")->i, 299039);
	attrtab_free(t);
}
END_TEST

/* A failed write-back stops the walk; the rest stays dirty, in order. */
START_TEST(test_attrtab_flush_fails)
{
	struct attrtab	*t = attrtab_new();
	struct value	 v = ival(1);
	struct wrote	 w = { .fail_at = 1 };

	attrtab_set(t, "a", "1", &v);
	attrtab_set(t, "a", "2", &v);
	attrtab_set(t, "a", "3", &v);
	ck_assert(attrtab_del(t, "a", "3"));
	ck_assert_int_eq(attrtab_flush(t, record, &w), -1);
	ck_assert_str_eq(w.buf, "a/1=1\n");
	ck_assert_uint_eq(attrtab_dirty(t), 2);
	flush_expect(t, "a/2=1\na/3-\n");
	attrtab_free(t);
}
END_TEST

/* Text values are copied in and freed on overwrite, delete and free. */
START_TEST(test_attrtab_text)
{
	struct attrtab	*t = attrtab_new();
	struct value	 v;
	char		*s = xstrdup("hello");

	memset(&v, 0, sizeof v);
	v.type = VALUE_TEXT;
	v.s = s;
	attrtab_set(t, "a", "k", &v);
	s[0] = 'j';				/* the table has its own copy */
	ck_assert_str_eq(attrtab_get(t, "a", "k")->s, "hello");
	attrtab_set(t, "a", "k", &v);
	ck_assert_str_eq(attrtab_get(t, "a", "k")->s, "jello");
	ck_assert(attrtab_del(t, "a", "k"));
	attrtab_set(t, "a", "j", &v);
	free(s);
	attrtab_free(t);			/* ASan: no leak */
}
END_TEST

Suite *
attrtab_suite(void)
{
	Suite	*s = suite_create("attrtab");
	TCase	*tc = tcase_create("attrtab");

	tcase_add_test(tc, test_attrtab_basics);
	tcase_add_test(tc, test_attrtab_delete);
	tcase_add_test(tc, test_attrtab_clear);
	tcase_add_test(tc, test_attrtab_order);
	tcase_add_test(tc, test_attrtab_many);
	tcase_add_test(tc, test_attrtab_flush_fails);
	tcase_add_test(tc, test_attrtab_text);
	suite_add_tcase(s, tc);
	return (s);
}
