/*
 * replease.c — the arbiter lease: a primary whose lease ran out takes no
 * writes and acknowledges none.
 *
 * In arbiter mode hasvr holds the leader key in etcd under a lease it
 * renews. If it cannot (etcd unreachable, hasvr frozen), another node may
 * take the key once the lease's TTL ran out, so this node has to stop
 * first: with every renewal hasvr says how long the primary role is
 * certainly still this node's (HL_LEASE), and guisvr keeps that deadline
 * on its own clock, so that it holds however stuck hasvr is. The first
 * HL_LEASE turns arbiter mode on until guisvr stops; a guisvr that never
 * got one (pair mode) behaves as if this file did not exist.
 *
 * While a primary's lease is out, rep_commit_wait reports every commit as
 * not replicated (XE_NOTREPL: it may be rolled back) — it looks at the
 * clock itself — and writes are refused as on a secondary
 * (rep_update_readonly): the stall watch thread (repstall.c) notices the
 * deadline passing within a beat, with no request needed, and a renewal
 * ends it at once. A non-primary ignores the deadline: it refuses writes
 * anyway.
 *
 * The deadline counts from when hasvr may have sent the lease, not from
 * when guisvr got around to it: the ha-link thread dates what it reads
 * from the start of a slow request it was busy with (halinksvr.c), and a
 * stall of guisvr itself counts from its start (rep_stall_floor).
 */
#include <pthread.h>
#include <stdio.h>

#include "halink.h"
#include "proto.h"
#include "rep_int.h"
#include "util.h"

int
rep_lease_out(struct rep *r, uint64_t now)
{
	return r->lease_on && now >= r->lease_until;
}

int
rep_lease_ack(struct rep *r, char *err, size_t errlen)
{
	int out;

	/* pair mode: not even the lock */
	if (!__atomic_load_n(&r->lease_on, __ATOMIC_ACQUIRE))
		return 0;
	pthread_mutex_lock(&r->mu);
	out = rep_lease_out(r, util_now_ms());
	pthread_mutex_unlock(&r->mu);
	if (!out)
		return 0;
	snprintf(err, errlen, "%s", REP_LEASE_NOACK_MSG);
	return XE_NOTREPL;
}

int
rep_lease_due(struct rep *r, uint64_t now)
{
	if (!r->lease_on)
		return 0;
	if (now < r->lease_until)
		return r->lease_out;
	return !r->lease_out && r->role == HA_ROLE_PRIMARY;
}

int
rep_lease_note(struct rep *r, uint64_t now, char *line, size_t linelen)
{
	if (!rep_lease_due(r, now))
		return 0;
	if (now < r->lease_until) {
		r->lease_out = 0;
		snprintf(line, linelen, "arbiter lease renewed after it had run "
		    "out: %llu ms left", (unsigned long long)(r->lease_until -
		    now));
		return -1;
	}
	r->lease_out = 1;
	/* committers waiting for acks give up now */
	rep_wake(r);
	if (r->lease_ms <= REP_LEASE_SLACK_MS)
		snprintf(line, linelen, "arbiter lease ran out: hasvr ended it "
		    "(a lease of %u ms); this node takes no writes and "
		    "acknowledges none until hasvr renews the lease or steps it "
		    "down", r->lease_ms);
	else if (r->lease_until <= r->lease_got_ms)
		snprintf(line, linelen, "arbiter lease ran out: the last lease, "
		    "of %u ms, was over when guisvr got to it (it waited %llu ms: "
		    "guisvr was stalled or busy); this node takes no writes and "
		    "acknowledges none until hasvr renews the lease or steps it "
		    "down", r->lease_ms, (unsigned long long)(r->lease_got_ms -
		    r->lease_from_ms));
	else
		snprintf(line, linelen, "arbiter lease ran out: not renewed in "
		    "time (the last lease, of %u ms, came %llu ms ago; is etcd "
		    "reachable?); this node takes no writes and acknowledges "
		    "none until hasvr renews the lease or steps it down",
		    r->lease_ms, (unsigned long long)(now - r->lease_got_ms));
	return 1;
}

uint32_t
rep_lease_left(struct rep *r, uint64_t now)
{
	uint64_t left;

	if (!r->lease_on || now >= r->lease_until)
		return 0;
	left = r->lease_until - now;
	return left > UINT32_MAX ? UINT32_MAX : (uint32_t)left;
}

void
rep_set_lease(struct rep *r, uint32_t ms, uint64_t sent_ms)
{
	uint64_t now, from;
	int first;

	/* only this thread turns it on: said before anything it causes */
	pthread_mutex_lock(&r->mu);
	first = !r->lease_on;
	pthread_mutex_unlock(&r->mu);
	if (first)
		rep_event(r, LOG_LVL_NOTICE, "arbiter mode: hasvr holds this "
		    "node's role under a lease (%u ms); a primary whose lease "
		    "runs out takes no writes", ms);
	pthread_mutex_lock(&r->mu);
	now = util_now_ms();
	from = rep_stall_floor(r, now, sent_ms < now ? sent_ms : now);
	__atomic_store_n(&r->lease_on, 1, __ATOMIC_RELEASE);
	r->lease_ms = ms;
	r->lease_got_ms = now;
	r->lease_from_ms = from;
	r->lease_until = ms > REP_LEASE_SLACK_MS ? from + ms -
	    REP_LEASE_SLACK_MS : 0;
	pthread_mutex_unlock(&r->mu);
	/* a renewal takes effect at once, and an end too */
	rep_update_readonly(r);
}
