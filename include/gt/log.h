/* SPDX-License-Identifier: MIT */
/*
 * log: the daemon's diagnostics on stderr (the OpenBSD log API).  When
 * stderr is the journal (sd_journal_stream) each line carries a <N>
 * priority prefix, written with the line in one write(2); otherwise it
 * starts with the local time, "2026-12-06T09:51:12.345 gtd: ...".
 * The log settings are gtd's only mutable globals.
 */
#ifndef GT_LOG_H
#define GT_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/*
 * How a line starts before "gtd: ": the local time (the default), the
 * journal's "<N>" priority, or nothing (gtd -n, which is no daemon).
 */
enum log_prefix { LOG_PREFIX_TIME, LOG_PREFIX_PRIORITY, LOG_PREFIX_NONE };

void	log_init(enum log_level, enum log_prefix);
void	log_set_level(enum log_level);
/* "warn" appends ": strerror(errno)"; "warnx" does not. */
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Log and exit(1); only before ev_run, in xmalloc, or for impossible states. */
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif /* GT_LOG_H */
