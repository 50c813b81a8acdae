/* SPDX-License-Identifier: MIT */
/* clock: epoch time from the loop, monotonic time from the kernel. */
#include "config.h"

#include <time.h>

#include "gt/clock.h"

int64_t
clock_now_ms(struct ev_loop *loop)
{
	return ((int64_t)(ev_now(loop) * 1000.0));
}

int64_t
clock_mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

int64_t
clock_mono_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}
