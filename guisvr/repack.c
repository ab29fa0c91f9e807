/* repack.c — the write -> ack path of guisvr's replication: the Berkeley
 * DB send callback (which remembers the LSN each committer waits for), the
 * acknowledgements from the peers and the primary's view of each peer
 * (acked, dirty, in sync), and the commit wait (rep_commit_wait) that the
 * durability mode asks for (rep.h), with the arbiter's rules: the lease
 * (replease.c) and the synchronous-standby set (repsyncset.c). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <db.h>

#include "deadline.h"
#include "halink.h"
#include "proto.h"
#include "rep_int.h"
#include "util.h"

/* The LSN of the last permanent record this thread sent: the commit that
 * rep_commit_wait is about to wait for. */
static __thread DB_LSN rep_tls_perm;
static __thread int rep_tls_has_perm;

/* With r->mu held: a peer acknowledged up to lsn; only the committers
 * waiting for no more than that can be done. */
static void
rep_wake_acked(struct rep *r, const DB_LSN *lsn)
{
	struct rep_waiter *w;

	for (w = r->waitq; w != NULL; w = w->next)
		if (rep_lsn_cmp(&w->lsn, lsn) <= 0)
			pthread_cond_signal(&w->cv);
}

/* With r->mu held: peers, roles or settings changed; every committer
 * re-examines its wait. */
void
rep_wake(struct rep *r)
{
	struct rep_waiter *w;

	for (w = r->waitq; w != NULL; w = w->next)
		pthread_cond_signal(&w->cv);
	pthread_cond_broadcast(&r->ack_cv);
}

/* With r->mu held: p is not in sync any more. Fills line with the state
 * change to report once r->mu is released (1), or returns 0 if p was
 * dirty already. */
int
rep_peer_dirty(struct rep *r, struct rep_peer *p, const char *reason,
    char *line, size_t linelen)
{
	if (!p->insync)
		return 0;
	p->insync = 0;
	p->target = r->last_perm;
	if (p->was_dirty)
		return 0;           /* never said in sync since */
	p->was_dirty = 1;
	snprintf(line, linelen, "state change in-sync -> dirty for peer %s, "
	    "reason: %s", p->addr, reason);
	return 1;
}

/* With r->mu held: an ack moved p forward. */
static void
rep_peer_acked(struct rep *r, struct rep_peer *p, const DB_LSN *lsn,
    char *change, size_t changelen)
{
	uint64_t oldest;

	oldest = r->commits > REP_RING ? r->commits - REP_RING : 0;
	if (p->reconnected) {
		/* the peer may have been wiped or rolled back meanwhile: its
		 * first ack after a reconnect is the truth, even if lower */
		p->reconnected = 0;
		p->acked = *lsn;
		p->cursor = oldest;
	} else if (rep_lsn_cmp(lsn, &p->acked) > 0)
		p->acked = *lsn;
	if (p->cursor < oldest)
		p->cursor = oldest;
	while (p->cursor < r->commits &&
	    rep_lsn_cmp(&r->ring[p->cursor % REP_RING], lsn) <= 0)
		p->cursor++;
	/* Two steps back: near enough that commits wait for it again, then
	 * in sync once it has every write acknowledged without it (those
	 * stop at the first step, so the second one comes). */
	if (!p->insync && r->role == HA_ROLE_PRIMARY &&
	    rep_lsn_cmp(&p->acked, &p->target) >= 0)
		p->insync = 1;
	if (p->was_dirty && p->insync && rep_lsn_cmp(&p->acked, &p->must) >= 0) {
		p->was_dirty = 0;
		snprintf(change, changelen, "state change dirty -> in-sync for "
		    "peer %s, reason: caught up with the primary at %u/%u",
		    p->addr, p->acked.file, p->acked.offset);
	}
}

/* With r->mu held, on the primary: whether p is in sync. In async mode
 * nothing waits for a peer, so it is in sync only while it has every
 * commit; otherwise it is what the acknowledgements made it. */
int
rep_peer_insync(struct rep *r, const struct rep_peer *p)
{
	if (!p->up || !r->sync_on)
		return 0;
	if (r->dur == HA_ASYNC)
		return p->cursor >= r->commits && !p->reconnected &&
		    rep_lsn_cmp(&p->acked, &p->target) >= 0;
	return p->insync && rep_lsn_cmp(&p->acked, &p->must) >= 0;
}

/* An RT_ACK from eid: the peer has everything up to lsn durable. Wakes the
 * committers it satisfies. I/O thread; no Berkeley DB call. */
void
rep_ack_received(struct rep *r, int eid, const DB_LSN *lsn)
{
	struct rep_peer *p;
	char change[256] = "";

	pthread_mutex_lock(&r->mu);
	if ((p = rep_peer_find(r, eid)) != NULL) {
		rep_peer_acked(r, p, lsn, change, sizeof(change));
		rep_wake_acked(r, &p->acked);
	}
	pthread_mutex_unlock(&r->mu);
	if (change[0] != '\0')
		rep_event(r, LOG_LVL_NOTICE, "%s", change);
}

/* A peer's connection came up or went down (I/O thread). */
void
rep_on_peer(int eid, int up, void *arg)
{
	struct rep *r = arg;
	struct rep_peer *p;
	char addr[64] = "", change[256];
	int changed = 0;

	pthread_mutex_lock(&r->mu);
	if ((p = rep_peer_find(r, eid)) != NULL) {
		p->up = up;
		if (!up)
			p->reconnected = 1;
		util_strlcpy(addr, p->addr, sizeof(addr));
		if (!up && r->role == HA_ROLE_PRIMARY)
			changed = rep_peer_dirty(r, p, "connection lost", change,
			    sizeof(change));
		rep_wake(r);
	}
	pthread_mutex_unlock(&r->mu);
	if (p == NULL)
		return;
	if (changed)
		rep_event(r, LOG_LVL_WARN, "%s", change);
	/* the transport logged it; the ha-link subscribers want it too */
	rep_event(r, LOG_LVL_DEBUG, "replication peer %d %s %s", eid, addr,
	    up ? "connected" : "disconnected");
	if (up)
		rep_enqueue_peer_up(r, eid);
}

/* DB_ENV transport: runs in the thread that logged and must not call back
 * into Berkeley DB. */
int
rep_send(void *arg, const DBT *ctrl, const DBT *rec, const DB_LSN *lsnp,
    int eid, u_int32_t flags)
{
	struct rep *r = arg;
	struct rt_msg m;
	int on;

	if ((flags & DB_REP_PERMANENT) && lsnp != NULL) {
		rep_tls_perm = *lsnp;
		rep_tls_has_perm = 1;
		pthread_mutex_lock(&r->mu);
		if (r->role == HA_ROLE_PRIMARY) {
			r->ring[r->commits % REP_RING] = *lsnp;
			r->commits++;
			if (rep_lsn_cmp(lsnp, &r->last_perm) > 0)
				r->last_perm = *lsnp;
		}
		pthread_mutex_unlock(&r->mu);
	}
	on = __atomic_load_n(&r->sync_on, __ATOMIC_ACQUIRE);
	/* disabled on purpose: the peers catch up when it is enabled again */
	if (!on)
		return 0;
	memset(&m, 0, sizeof(m));
	m.type = RT_MSG;
	m.ctrl = ctrl->data;
	m.ctrl_len = ctrl->size;
	m.rec = rec != NULL ? rec->data : NULL;
	m.rec_len = rec != NULL ? rec->size : 0;
	if (lsnp != NULL) {
		m.lsn.file = lsnp->file;
		m.lsn.offset = lsnp->offset;
	}
	m.flags = flags;
	/* A log record that is neither a commit nor urgent waits in the
	 * transport for the commit that follows it: one wake-up of the I/O
	 * thread and one TLS record per transaction instead of one per
	 * record (a one-put transaction sends three messages). */
	m.lazy = !(flags & (DB_REP_PERMANENT | DB_REP_NOBUFFER));
	/* Nobody waits for an async commit: it leaves within RT_SOON_US,
	 * together with the commits of the other writers meanwhile. */
	if ((flags & DB_REP_PERMANENT) && !(flags & DB_REP_NOBUFFER) &&
	    r->dur == HA_ASYNC) {
		m.lazy = 1;
		m.soon = 1;
	}
	if (eid == DB_EID_BROADCAST) {
		/* Nobody connected is not a failure: a failed permanent send
		 * makes Berkeley DB fsync inside its log lock, one commit at a
		 * time; rep_commit_wait flushes for a whole group instead. */
		(void)r->tops->send(r->tp, RT_EID_BROADCAST, &m);
		return 0;
	}
	if (r->tops->send(r->tp, eid, &m) != 0)
		return DB_REP_UNAVAIL;
	return 0;
}

int
rep_commit_hook(void *arg, char *err, size_t errlen)
{
	return rep_commit_wait(arg, err, errlen);
}

int
rep_commit_wait(struct rep *r, char *err, size_t errlen)
{
	struct rep_waiter me, **wp;
	struct timespec ts;
	struct rep_peer *p;
	DB_LSN lsn;
	uint64_t deadline, deadline2, now;
	int i, ret, rc = 0, waitfor, acked, connected, timedout = 0, has;
	int demoted, hold = 0;
	int listed, lacked, missing, strict_ok, marked = 0, setwait = 0;
	int timedout2 = 0, unlisted = 0;
	char changes[HACFG_MAX_NODES][256], lacking[256] = "";
	int nchanges = 0;

	has = rep_tls_has_perm;
	lsn = rep_tls_perm;
	rep_tls_has_perm = 0;
	/* local durability first, as guiSvr.txnSync asks: the commit ran
	 * DB_TXN_NOSYNC; flushing up to this commit's LSN lets concurrent
	 * committers share one fsync. With txnSync nosync or writenosync the
	 * primary does not fsync (durable on the secondaries only). */
	if (r->s->base_commit_flags == 0 &&
	    (ret = r->env->log_flush(r->env, has ? &lsn : NULL)) != 0) {
		snprintf(err, errlen, "committed, but flushing the log failed: "
		    "%s; check the disk holding xdb/log", db_strerror(ret));
		return XE_DB;
	}
	/* nothing to wait for; but an arbiter lease that ran out
	 * acknowledges nothing (replease.c) */
	if (!has || r->dur == HA_ASYNC)
		return rep_lease_ack(r, err, errlen);

	deadline = util_now_ms() + (uint64_t)r->ack_timeout_ms;
	/* a listed secondary's wait: hasvr's time to drop it from the set */
	deadline2 = deadline + (uint64_t)r->ack_timeout_ms;
	me.lsn = lsn;
	pthread_cond_init(&me.cv, &r->cattr);
	pthread_mutex_lock(&r->mu);
	me.next = r->waitq;
	r->waitq = &me;
	r->waiters++;
	for (;;) {
		if (r->stopping) {
			snprintf(err, errlen, "committed on this node, but it "
			    "stopped before the secondaries acknowledged the "
			    "write; it may be rolled back");
			rc = XE_NOTREPL;
			break;
		}
		/* no ack is worth waiting for: none would be given */
		if (rep_lease_out(r, util_now_ms()))
			break;
		demoted = r->role != HA_ROLE_PRIMARY;
		/* arbiter sync mode: the secondaries etcd's record lists
		 * must have it (repsyncset.c; none listed otherwise) */
		rep_syncset_count(r, &lsn, &listed, &lacked);
		missing = listed - lacked;
		/* replication off: no ack comes, but a new set may drop the
		 * listed secondary that lacks it — wait for that below */
		if (!r->sync_on && (r->dur == HA_STRICT || demoted ||
		    missing == 0)) {
			if (r->dur == HA_STRICT || demoted) {
				snprintf(err, errlen, "committed on %s only: "
				    "database replication is disabled", demoted ?
				    "this node (no longer the primary)" :
				    "the primary");
				rc = XE_NOTREPL;
			}
			break;
		}
		waitfor = acked = connected = 0;
		for (i = 0; i < r->npeers; i++) {
			p = &r->peers[i];
			connected += p->up;
			if (p->up && rep_lsn_cmp(&p->acked, &lsn) >= 0)
				acked++;
			else if (p->up && p->insync)
				waitfor++;
		}
		/* strict: every listed secondary's ack (one that lacks it
		 * could take the leader key), any while none is listed */
		strict_ok = listed > 0 ? missing == 0 && lacked > 0 : acked > 0;
		if (demoted) {
			/* This node stopped being the primary meanwhile (a
			 * switchover, or it lost to another primary): the write
			 * counts only as acknowledged by a secondary, which the
			 * successor of a switchover does before it takes over;
			 * alone here it may be rolled back. */
			if (r->dur == HA_STRICT ? strict_ok : (acked > 0 &&
			    waitfor == 0 && missing == 0))
				break;
			if (timedout || util_now_ms() >= deadline) {
				snprintf(err, errlen, "committed on this node, but "
				    "it stopped being the primary before the "
				    "secondaries acknowledged the write; it may be "
				    "rolled back");
				rc = XE_NOTREPL;
				break;
			}
		} else if (r->dur == HA_SYNC && waitfor == 0 && missing == 0) {
			/* every in-sync peer has it, or none is — but right
			 * after a stall this node may have been deposed: no
			 * ack alone until hasvr could tell (repstall.c) */
			if (acked > 0 || r->npeers == 0 ||
			    rep_may_ack_alone(r, util_now_ms()))
				break;
			hold = 1;
		} else if (r->dur == HA_STRICT && strict_ok)
			break;
		else if (r->dur == HA_STRICT && connected == 0) {
			snprintf(err, errlen, "committed on the primary, but no "
			    "secondary is connected to acknowledge it");
			rc = XE_NOTREPL;
			break;
		}
		now = util_now_ms();
		if (!demoted && !hold && (timedout || now >= deadline)) {
			if (r->dur == HA_STRICT) {
				snprintf(err, errlen, "committed on the primary but "
				    "not acknowledged by a secondary within %lld ms",
				    r->ack_timeout_ms);
				rc = XE_NOTREPL;
				break;
			}
			if (!rep_may_ack_alone(r, now))
				hold = 1;
		}
		if (!demoted && !hold && (timedout || now >= deadline)) {
			/* once: committers waiting on would wake each other */
			for (i = 0; i < r->npeers && !marked; i++) {
				p = &r->peers[i];
				if (p->up && p->insync &&
				    rep_lsn_cmp(&p->acked, &lsn) < 0 &&
				    nchanges < HACFG_MAX_NODES) {
					char reason[64];

					snprintf(reason, sizeof(reason),
					    "no ack within %lldms", r->ack_timeout_ms);
					if (rep_peer_dirty(r, p, reason,
					    changes[nchanges], sizeof(changes[0])))
						nchanges++;
				}
			}
			if (!marked)
				rep_wake(r);
			marked = 1;
			if (missing == 0)
				break;
			/* A listed secondary lacks it: dirty now, so hasvr
			 * rewrites the record without it and sends the new
			 * set, which wakes us; until then, or its ack, it may
			 * still take the leader key. */
			if (timedout2 || now >= deadline2) {
				snprintf(err, errlen, "%s", REP_SYNCSET_NOACK_MSG);
				rc = XE_NOTREPL;
				unlisted = 1;
				if (rep_warn_due(&r->syncset_warn_ms))
					rep_syncset_lacking(r, &lsn, lacking,
					    sizeof(lacking));
				break;
			}
			setwait = 1;
			if (nchanges > 0) {
				/* said now, not when the wait ends; then look
				 * again (nothing is missed meanwhile) */
				pthread_mutex_unlock(&r->mu);
				for (i = 0; i < nchanges; i++)
					rep_event(r, LOG_LVL_WARN, "%s", changes[i]);
				nchanges = 0;
				pthread_mutex_lock(&r->mu);
				continue;
			}
		}
		if (hold) {
			/* until the stall's grace ends (or a role or peer
			 * change wakes us) */
			deadline_in_ms(&ts, CLOCK_MONOTONIC,
			    r->alone_after_ms > now ? r->alone_after_ms - now : 1);
			(void)pthread_cond_timedwait(&me.cv, &r->mu, &ts);
			hold = 0;
			continue;
		}
		if (setwait) {
			deadline_in_ms(&ts, CLOCK_MONOTONIC, deadline2 - now);
			if (pthread_cond_timedwait(&me.cv, &r->mu, &ts) ==
			    ETIMEDOUT)
				timedout2 = 1;
			continue;
		}
		deadline_in_ms(&ts, CLOCK_MONOTONIC, deadline - now);
		if (pthread_cond_timedwait(&me.cv, &r->mu, &ts) == ETIMEDOUT)
			timedout = 1;
	}
	/* Whatever the wait gave, an arbiter lease out by now acknowledges
	 * nothing: another node may hold the role already. Even on a node
	 * demoted meanwhile: the write was committed as primary. And it is
	 * the lease that is said, not the record's update. */
	if ((rc == 0 || unlisted) && rep_lease_out(r, util_now_ms())) {
		snprintf(err, errlen, "%s", REP_LEASE_NOACK_MSG);
		rc = XE_NOTREPL;
		lacking[0] = '\0';
	}
	if (rc == 0)
		/* the writer is told it is safe: a peer that has not got it
		 * is not in sync until it has */
		for (i = 0; i < r->npeers; i++) {
			p = &r->peers[i];
			if ((!p->up || rep_lsn_cmp(&p->acked, &lsn) < 0) &&
			    rep_lsn_cmp(&lsn, &p->must) > 0)
				p->must = lsn;
		}
	for (wp = &r->waitq; *wp != NULL; wp = &(*wp)->next)
		if (*wp == &me) {
			*wp = me.next;
			break;
		}
	pthread_cond_destroy(&me.cv);
	r->waiters--;
	if (r->stopping)
		pthread_cond_broadcast(&r->ack_cv);
	pthread_mutex_unlock(&r->mu);
	for (i = 0; i < nchanges; i++)
		rep_event(r, LOG_LVL_WARN, "%s", changes[i]);
	if (lacking[0] != '\0')
		rep_event(r, LOG_LVL_WARN, "a write committed at %u/%u was not "
		    "acknowledged: the synchronous-standby set still lists %s, "
		    "which did not acknowledge it, %lld ms after the commit "
		    "(hasvr did not update the synchronous-standby record in "
		    "time; is etcd reachable?)", lsn.file, lsn.offset, lacking,
		    2 * r->ack_timeout_ms);
	return rc;
}
