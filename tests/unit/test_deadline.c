/* test_deadline.c — "now + N ms" as a struct timespec (lib/deadline.h). */
#include <stdint.h>
#include <time.h>

#include "unit.h"
#include "deadline.h"

static int
ts_is(const struct timespec *ts, time_t sec, long nsec)
{
	return ts->tv_sec == sec && ts->tv_nsec == nsec;
}

static void
test_deadline_add(void)
{
	struct timespec ts;

	ts = (struct timespec){ 5, 0 };
	deadline_add_ms(&ts, 0);
	CU_ASSERT(ts_is(&ts, 5, 0));
	deadline_add_ms(&ts, 1);
	CU_ASSERT(ts_is(&ts, 5, 1000000));
	deadline_add_ms(&ts, 2500);
	CU_ASSERT(ts_is(&ts, 7, 501000000));
	/* nanoseconds carry into seconds */
	ts = (struct timespec){ 5, 999999999 };
	deadline_add_ms(&ts, 1);
	CU_ASSERT(ts_is(&ts, 6, 999999));
	ts = (struct timespec){ 5, 500000000 };
	deadline_add_ms(&ts, 500);
	CU_ASSERT(ts_is(&ts, 6, 0));
	ts = (struct timespec){ 5, 500000000 };
	deadline_add_ms(&ts, 1999);
	CU_ASSERT(ts_is(&ts, 7, 499000000));
	ts = (struct timespec){ 0, 999000000 };
	deadline_add_ms(&ts, 999);
	CU_ASSERT(ts_is(&ts, 1, 998000000));
	/* a day */
	ts = (struct timespec){ 100, 0 };
	deadline_add_ms(&ts, UINT64_C(86400000));
	CU_ASSERT(ts_is(&ts, 86500, 0));
}

static void
test_deadline_in(void)
{
	struct timespec before, ts, after;
	long long b, t, a;

	clock_gettime(CLOCK_MONOTONIC, &before);
	deadline_in_ms(&ts, CLOCK_MONOTONIC, 1500);
	clock_gettime(CLOCK_MONOTONIC, &after);
	CU_ASSERT(ts.tv_nsec >= 0 && ts.tv_nsec < DEADLINE_NS_PER_SEC);
	b = (long long)before.tv_sec * DEADLINE_NS_PER_SEC + before.tv_nsec;
	a = (long long)after.tv_sec * DEADLINE_NS_PER_SEC + after.tv_nsec;
	t = (long long)ts.tv_sec * DEADLINE_NS_PER_SEC + ts.tv_nsec;
	CU_ASSERT(t >= b + 1500000000LL && t <= a + 1500000000LL);

	clock_gettime(CLOCK_REALTIME, &before);
	deadline_in_ms(&ts, CLOCK_REALTIME, 0);
	CU_ASSERT(ts.tv_sec >= before.tv_sec && ts.tv_sec <= before.tv_sec + 1);
}

void
test_deadline_register(void)
{
	CU_pSuite s = CU_add_suite("deadline", NULL, NULL);

	CU_add_test(s, "add with carry", test_deadline_add);
	CU_add_test(s, "now plus", test_deadline_in);
}
