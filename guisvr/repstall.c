/*
 * repstall.c — no write is acknowledged by the primary alone right after
 * guisvr was stalled.
 *
 * A primary whose process was stopped (SIGSTOP, a frozen VM) or starved
 * for longer than deadInterval may have been deposed meanwhile: another
 * node took over and accepts writes. When it runs again, its commits that
 * waited for a secondary see ackTimeout long passed and its connection to
 * that secondary is often gone, so in sync mode it would mark the
 * secondary dirty and acknowledge writes alone — writes the new primary
 * never gets and rolls back when the two meet. hasvr learns within a few
 * milliseconds of resuming that it was deposed (it reads the heartbeats
 * that waited in its socket before it decides anything) and tells guisvr;
 * this module makes sure guisvr gives it that time.
 *
 * A watch thread wakes every REP_STALL_BEAT_MS. When it wakes more than
 * REP_STALL_MS late, or when a committer finds it has not run for that
 * long (the committer may run first after SIGCONT), guisvr was stalled:
 * for the next ackTimeout no commit is acknowledged without a secondary's
 * ack and no secondary is marked dirty for a missing ack. A node that
 * stays primary afterwards goes on as before; one that was deposed
 * reports those commits as not replicated (XE_NOTREPL).
 *
 * The same thread watches the arbiter lease (replease.c): when its
 * deadline passes on a primary, writes are refused from the next beat on,
 * with no request needed. And an arbiter lease read right after a stall
 * may have waited through it: it counts from the stall's start
 * (rep_stall_floor).
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "rep_int.h"
#include "util.h"

#define REP_STALL_BEAT_MS 100
#define REP_STALL_MS 300

/* With r->mu held: notes a stall seen at now; 1 if it is a new one. */
static int
stall_seen(struct rep *r, uint64_t now, uint64_t *gap)
{
	uint64_t beat = r->stall_beat_ms;

	r->stall_beat_ms = now;
	if (beat == 0 || now - beat <= REP_STALL_MS)
		return 0;
	*gap = now - beat;
	r->alone_after_ms = now + (uint64_t)r->ack_timeout_ms;
	r->stall_from_ms = beat;
	r->stall_to_ms = now;
	r->stalls++;
	return 1;
}

static void
stall_report(struct rep *r, uint64_t gap)
{
	rep_event(r, LOG_LVL_WARN, "guisvr was stalled for %llu ms (stopped "
	    "or starved); for the next %lld ms no write is acknowledged "
	    "without a secondary", (unsigned long long)gap, r->ack_timeout_ms);
}

int
rep_may_ack_alone(struct rep *r, uint64_t now)
{
	uint64_t gap = 0;

	if (stall_seen(r, now, &gap))
		r->stall_unreported = gap;
	return now >= r->alone_after_ms;
}

uint64_t
rep_stall_floor(struct rep *r, uint64_t now, uint64_t at_ms)
{
	uint64_t gap = 0;

	if (stall_seen(r, now, &gap))
		r->stall_unreported = gap;
	/* read about when a stall ended (the thread that read it may have
	 * woken a little after the one that saw the stall): it may have been
	 * sent at any time during the stall, or the beat before it */
	if (r->stall_to_ms != 0 && at_ms > r->stall_from_ms &&
	    at_ms <= r->stall_to_ms + REP_STALL_MS)
		return r->stall_from_ms > REP_STALL_BEAT_MS ?
		    r->stall_from_ms - REP_STALL_BEAT_MS : 0;
	return at_ms;
}

static void *
stall_main(void *arg)
{
	struct rep *r = arg;
	struct timespec ts = { 0, REP_STALL_BEAT_MS * 1000000L };
	uint64_t gap, now;
	int stalled, lease;

	for (;;) {
		while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
			;
		ts.tv_sec = 0;
		ts.tv_nsec = REP_STALL_BEAT_MS * 1000000L;
		pthread_mutex_lock(&r->mu);
		if (r->stall_stop) {
			pthread_mutex_unlock(&r->mu);
			break;
		}
		gap = 0;
		now = util_now_ms();
		stalled = stall_seen(r, now, &gap);
		if (!stalled && r->stall_unreported > 0) {
			gap = r->stall_unreported;
			stalled = 1;
		}
		r->stall_unreported = 0;
		if (stalled)
			rep_wake(r);
		/* the arbiter lease's deadline passed: refuse writes */
		lease = rep_lease_due(r, now);
		pthread_mutex_unlock(&r->mu);
		if (stalled)
			stall_report(r, gap);
		if (lease)
			rep_update_readonly(r);
	}
	return NULL;
}

int
rep_stall_start(struct rep *r, char *err, size_t errlen)
{
	int ret;

	r->stall_beat_ms = util_now_ms();
	if ((ret = pthread_create(&r->stall_thr, NULL, stall_main, r)) != 0) {
		snprintf(err, errlen, "cannot start the stall watch thread: %s",
		    strerror(ret));
		return -1;
	}
	r->stall_running = 1;
	return 0;
}

void
rep_stall_stop(struct rep *r)
{
	if (!r->stall_running)
		return;
	pthread_mutex_lock(&r->mu);
	r->stall_stop = 1;
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->stall_thr, NULL);
	r->stall_running = 0;
}
