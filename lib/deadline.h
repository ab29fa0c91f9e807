/* deadline.h — "now + N milliseconds" as an absolute struct timespec, for
 * pthread_cond_timedwait and clock_gettime comparisons. The clock must be
 * the one the condition variable waits on (pthread_condattr_setclock;
 * CLOCK_REALTIME by default). */
#ifndef HASVR_DEADLINE_H
#define HASVR_DEADLINE_H

#include <stdint.h>
#include <time.h>

#define DEADLINE_NS_PER_SEC 1000000000L

/* *ts += ms, tv_nsec kept below one second. */
static inline void
deadline_add_ms(struct timespec *ts, uint64_t ms)
{
	ts->tv_sec += (time_t)(ms / 1000);
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= DEADLINE_NS_PER_SEC) {
		ts->tv_sec++;
		ts->tv_nsec -= DEADLINE_NS_PER_SEC;
	}
}

/* *ts = now on clock + ms. */
static inline void
deadline_in_ms(struct timespec *ts, clockid_t clock, uint64_t ms)
{
	clock_gettime(clock, ts);
	deadline_add_ms(ts, ms);
}

#endif
