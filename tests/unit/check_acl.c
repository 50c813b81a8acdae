/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for acl: class names and the class of a peer.
 */
#include "config.h"

#include <string.h>

#include <check.h>

#include "gt/acl.h"
#include "check_unit.h"

START_TEST(test_acl_names_round_trip)
{
	enum acl_class	c, back;

	for (c = ACL_NONE; c <= ACL_ADMIN; c++) {
		ck_assert_int_eq(acl_class_parse(acl_class_name(c), &back), 0);
		ck_assert_int_eq(back, c);
	}
	back = ACL_READ;
	ck_assert_int_eq(acl_class_parse("root", &back), -1);
	ck_assert_int_eq(acl_class_parse("", &back), -1);
	ck_assert_int_eq(acl_class_parse("Admin", &back), -1);
	ck_assert_int_eq(back, ACL_READ);	/* untouched on failure */
}
END_TEST

START_TEST(test_acl_unset_is_admin)
{
	struct acl	a = { .dflt = ACL_NONE };

	ck_assert_int_eq(acl_class_of(&a, 1000, 1000, NULL, 0), ACL_ADMIN);
}
END_TEST

/*
 * users 1000: write; groups 50: control, 60: read; default none.  The
 * highest class that names the peer wins, whatever the order.
 */
static struct acl_entry	entries[] = {
	{ 1, 60, ACL_READ },
	{ 0, 1000, ACL_WRITE },
	{ 1, 50, ACL_CONTROL },
};

START_TEST(test_acl_class_of_peer)
{
	struct acl	a = { ACL_NONE, entries, 3, 1 };
	gid_t		g60[] = { 60 }, g5060[] = { 60, 50 };

	ck_assert_int_eq(acl_class_of(&a, 2000, 2000, NULL, 0), ACL_NONE);
	ck_assert_int_eq(acl_class_of(&a, 1000, 2000, NULL, 0), ACL_WRITE);
	/* a group as the primary gid or as a supplementary group */
	ck_assert_int_eq(acl_class_of(&a, 2000, 60, NULL, 0), ACL_READ);
	ck_assert_int_eq(acl_class_of(&a, 2000, 2000, g60, 1), ACL_READ);
	ck_assert_int_eq(acl_class_of(&a, 2000, 2000, g5060, 2), ACL_CONTROL);
	ck_assert_int_eq(acl_class_of(&a, 1000, 60, g5060, 2), ACL_CONTROL);
	/* a uid is never taken for a gid of the same number */
	ck_assert_int_eq(acl_class_of(&a, 60, 2000, NULL, 0), ACL_NONE);
	ck_assert_int_eq(acl_class_of(&a, 2000, 1000, NULL, 0), ACL_NONE);
	/* the default is a floor: an entry below it changes nothing */
	a.dflt = ACL_WRITE;
	ck_assert_int_eq(acl_class_of(&a, 2000, 60, NULL, 0), ACL_WRITE);
	ck_assert_int_eq(acl_class_of(&a, 2000, 50, NULL, 0), ACL_CONTROL);
}
END_TEST

Suite *
acl_suite(void)
{
	Suite	*s = suite_create("acl");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_acl_names_round_trip);
	tcase_add_test(tc, test_acl_unset_is_admin);
	tcase_add_test(tc, test_acl_class_of_peer);
	suite_add_tcase(s, tc);
	return (s);
}
