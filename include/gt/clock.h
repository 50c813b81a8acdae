/* SPDX-License-Identifier: MIT */
/*
 * clock: the two clocks gtd reads.  Wall time (epoch milliseconds) is the
 * loop's cached time, so every timestamp of one loop iteration agrees;
 * monotonic time measures durations and deadlines.  Owns nothing; never
 * fails, never logs.
 */
#ifndef GT_CLOCK_H
#define GT_CLOCK_H

#include <stdint.h>

#include <ev.h>

/* Epoch milliseconds of the loop's current time (ev_now). */
int64_t	clock_now_ms(struct ev_loop *);
/* Monotonic milliseconds and microseconds (CLOCK_MONOTONIC). */
int64_t	clock_mono_ms(void);
int64_t	clock_mono_us(void);

#endif /* GT_CLOCK_H */
