/* SPDX-License-Identifier: MIT */
/*
 * log: write the daemon's messages to stderr, one line each, after a
 * local timestamp ("2026-12-06T09:51:12.345 gtd: ..."), or after a "<N>"
 * priority when stderr is the journal, which keeps its own time.  Never
 * allocates (tzset is done once, in log_init), so it is safe on every
 * error path.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gt/log.h"

static enum log_level	log_level = LOG_LVL_INFO;
static enum log_prefix	log_prefix = LOG_PREFIX_TIME;

static void	log_vwrite(int, const char *, const char *, va_list)
	    __attribute__((format(printf, 3, 0)));

void
log_init(enum log_level level, enum log_prefix prefix)
{
	log_level = level;
	log_prefix = prefix;
	tzset();		/* localtime_r reads the zone only once */
}

/* "2026-12-06T09:51:12.345 " in local time into buf, or "". */
static void
log_stamp(char *buf, size_t size)
{
	struct timespec	ts;
	struct tm	tm;
	size_t		n;

	buf[0] = '\0';
	if (clock_gettime(CLOCK_REALTIME, &ts) == -1 ||
	    localtime_r(&ts.tv_sec, &tm) == NULL ||
	    (n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm)) == 0)
		return;
	snprintf(buf + n, size - n, ".%03d ", (int)(ts.tv_nsec / 1000000));
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

static void
log_vwrite(int prio, const char *err, const char *fmt, va_list ap)
{
	char	buf[1024], pre[32] = "", *p;

	vsnprintf(buf, sizeof buf, fmt, ap);
	/* One message, one line: a name with a newline cannot forge lines. */
	for (p = buf; *p != '\0'; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
			*p = '?';
	if (log_prefix == LOG_PREFIX_PRIORITY)
		snprintf(pre, sizeof pre, "<%d>", prio);
	else if (log_prefix == LOG_PREFIX_TIME)
		log_stamp(pre, sizeof pre);
	/*
	 * One fprintf, so one write(2) on unbuffered stderr: the "<N>" must
	 * not be split from its line by a child writing to the same pipe.
	 */
	if (err != NULL)
		fprintf(stderr, "%sgtd: %s: %s\n", pre, buf, err);
	else
		fprintf(stderr, "%sgtd: %s\n", pre, buf);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_vwrite(4, strerror(saved), fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(4, NULL, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	if (log_level < LOG_LVL_INFO)
		return;
	va_start(ap, fmt);
	log_vwrite(6, NULL, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (log_level < LOG_LVL_DEBUG)
		return;
	va_start(ap, fmt);
	log_vwrite(7, NULL, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_vwrite(2, strerror(saved), fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(2, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
