/* SPDX-License-Identifier: MIT */
/*
 * check_log: the line format of gtd's own log on stderr: a local
 * timestamp when stderr is a file or a pipe, a "<N>" priority instead
 * when it is the journal, control bytes neutralised, one line each.
 */
#include "config.h"

#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "gt/log.h"

#include "check_unit.h"

static char	logpath[] = "/tmp/gtd-check-log-XXXXXX";

/* stderr goes to a fresh file (each test is its own process). */
static void
log_setup(void)
{
	int	fd;

	ck_assert_int_ne(fd = mkstemp(logpath), -1);
	ck_assert_int_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
}

static void
log_teardown(void)
{
	unlink(logpath);
}

/* What was logged so far (static buffer). */
static const char *
logged(void)
{
	static char	buf[8192];
	FILE		*f;
	size_t		 n;

	ck_assert_ptr_nonnull(f = fopen(logpath, "r"));
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return (buf);
}

static void
match(const char *re, const char *text)
{
	regex_t	r;

	ck_assert_int_eq(regcomp(&r, re, REG_EXTENDED | REG_NOSUB), 0);
	ck_assert_msg(regexec(&r, text, 0, NULL, 0) == 0, "\"%s\" does not "
	    "match %s", text, re);
	regfree(&r);
}

#define STAMP	"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}" \
		"\\.[0-9]{3} "

START_TEST(test_log_timestamp)
{
	const char	*text;
	char		 now[32];
	time_t		 t = time(NULL);
	struct tm	 tm;

	log_init(LOG_LVL_INFO, LOG_PREFIX_TIME);
	log_info("child %s: started", "web");
	errno = ENOENT;
	log_warn("open %s", "/x");
	log_warnx("line\nbreak");
	log_debug("not at info");
	text = logged();
	match("^" STAMP "gtd: child web: started\n"
	    STAMP "gtd: open /x: No such file or directory\n"
	    STAMP "gtd: line\\?break\n$", text);
	/* Local time, to the minute (the test may straddle one). */
	localtime_r(&t, &tm);
	strftime(now, sizeof now, "%Y-%m-%dT%H:%M", &tm);
	t += 60;
	ck_assert_msg(strncmp(text, now, strlen(now)) == 0 ||
	    (localtime_r(&t, &tm) != NULL && strftime(now, sizeof now,
	    "%Y-%m-%dT%H:%M", &tm) > 0 && strncmp(text, now,
	    strlen(now)) == 0), "%s is not local time", text);
}
END_TEST

/* Under journald: the priority, no timestamp (the journal has its own). */
START_TEST(test_log_journal_priority)
{
	log_init(LOG_LVL_DEBUG, LOG_PREFIX_PRIORITY);
	log_info("i");
	log_warnx("w");
	log_debug("d");
	ck_assert_str_eq(logged(), "<6>gtd: i\n<4>gtd: w\n<7>gtd: d\n");
}
END_TEST

/* gtd -n is a command, not a daemon: plain lines. */
START_TEST(test_log_plain)
{
	log_init(LOG_LVL_INFO, LOG_PREFIX_NONE);
	log_warnx("x: y");
	ck_assert_str_eq(logged(), "gtd: x: y\n");
}
END_TEST

Suite *
log_suite(void)
{
	Suite	*s = suite_create("log");
	TCase	*tc;

	tc = tcase_create("format");
	tcase_add_checked_fixture(tc, log_setup, log_teardown);
	tcase_add_test(tc, test_log_timestamp);
	tcase_add_test(tc, test_log_journal_priority);
	tcase_add_test(tc, test_log_plain);
	suite_add_tcase(s, tc);
	return (s);
}
