/* repapply.c — the apply side of guisvr's replication: the transport's
 * I/O thread queues each Berkeley DB message it receives, and the apply
 * thread hands them to rep_process_message in batches, makes each batch
 * durable with one log flush and acknowledges it with one RT_ACK; an
 * up-to-date client acknowledges its position now and then, and a client
 * whose disk refused writes asks again for what it missed. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <db.h>

#include "deadline.h"
#include "halink.h"
#include "rep_int.h"
#include "util.h"

/* The apply queue: enough for a catching-up client to keep the link busy,
 * small enough that a stalled disk cannot take all memory. */
#define REP_QUEUE_BYTES (64u * 1024 * 1024)
#define REP_QUEUE_ITEMS 100000
/* How long the I/O thread waits for room before it drops a message; the
 * client notices the gap and Berkeley DB asks for the message again. */
#define REP_QUEUE_WAIT_MS 2000
/* Messages taken from the queue at once, and how many such takes (of what
 * arrived meanwhile) may share one log flush and ack. */
#define REP_BATCH 512
#define REP_ROUNDS 8
/* The apply thread's idle period: acks an up-to-date client's position
 * so the primary sees it in sync, and runs pending checks. */
#define REP_TICK_MS 1000
/* A client that applied messages without an ack of its own (a sync-up, log
 * records that are not commits) acknowledges its position this long after
 * the queue ran dry, so that the primary sees it in sync soon after. */
#define REP_SETTLE_MS 20
/* After the disk refused a write, how often a secondary asks again. */
#define REP_RETRY_MS 5000

/* A message from a peer (I/O thread): an ack is recorded at once, a
 * Berkeley DB message is copied into the apply queue. */
void
rep_on_message(const struct rt_msg *m, void *arg)
{
	struct rep *r = arg;
	struct rep_item *it;
	struct rep_peer *p;
	struct timespec ts;
	DB_LSN lsn;
	size_t need;
	int full, warn = 0;

	lsn.file = m->lsn.file;
	lsn.offset = m->lsn.offset;
	if (m->type == RT_ACK) {
		rep_ack_received(r, m->eid, &lsn);
		return;
	}
	if (m->type != RT_MSG)
		return;

	need = sizeof(*it) + m->ctrl_len + m->rec_len;
	if ((it = malloc(need)) == NULL) {
		log_warnx("replication: out of memory for a %zu-byte message from "
		    "peer %s; Berkeley DB will ask for it again", need,
		    rep_peer_addr(r, m->eid));
		return;
	}
	it->next = NULL;
	it->kind = REP_IT_MSG;
	it->eid = m->eid;
	it->clen = m->ctrl_len;
	it->rlen = m->rec_len;
	if (m->ctrl_len > 0)
		memcpy(it->data, m->ctrl, m->ctrl_len);
	if (m->rec_len > 0)
		memcpy(it->data + m->ctrl_len, m->rec, m->rec_len);

	deadline_in_ms(&ts, CLOCK_MONOTONIC, REP_QUEUE_WAIT_MS);
	pthread_mutex_lock(&r->mu);
	if ((p = rep_peer_find(r, m->eid)) != NULL &&
	    rep_lsn_cmp(&lsn, &p->seen) > 0)
		p->seen = lsn;
	/* back-pressure: the transport stops reading this peer meanwhile */
	while (!r->stop && r->qitems > 0 && (r->qitems >= REP_QUEUE_ITEMS ||
	    r->qbytes + need > REP_QUEUE_BYTES)) {
		pthread_cond_signal(&r->q_cv);   /* see rep_on_batch */
		if (pthread_cond_timedwait(&r->space_cv, &r->mu, &ts) == ETIMEDOUT)
			break;
	}
	full = r->qitems > 0 && (r->qitems >= REP_QUEUE_ITEMS ||
	    r->qbytes + need > REP_QUEUE_BYTES);
	if (!full && !r->stop) {
		if (r->qtail != NULL)
			r->qtail->next = it;
		else
			r->qhead = it;
		r->qtail = it;
		r->qitems++;
		r->qbytes += need;
		it = NULL;          /* rep_on_batch wakes the apply thread */
	} else if (full)
		warn = rep_warn_due(&r->qfull_ms);
	pthread_mutex_unlock(&r->mu);
	if (warn)
		log_warnx("replication apply queue full (%d messages): dropped a "
		    "message from peer %s; Berkeley DB will ask for it again "
		    "(is the disk of xdb/log slow?)", REP_QUEUE_ITEMS,
		    rep_peer_addr(r, m->eid));
	free(it);
}

/* The transport passed every whole message it read: wake the apply thread
 * once for them all, so that it applies a transaction's messages in one
 * batch (one flush, one ack) rather than waking for the first. */
void
rep_on_batch(void *arg)
{
	struct rep *r = arg;

	pthread_mutex_lock(&r->mu);
	if (r->qhead != NULL)
		pthread_cond_signal(&r->q_cv);
	pthread_mutex_unlock(&r->mu);
}

/* The link to eid came up: the apply thread re-announces this node. */
void
rep_enqueue_peer_up(struct rep *r, int eid)
{
	struct rep_item *it;

	if ((it = calloc(1, sizeof(*it))) == NULL)
		return;
	it->kind = REP_IT_PEER_UP;
	it->eid = eid;
	pthread_mutex_lock(&r->mu);
	if (r->qtail != NULL)
		r->qtail->next = it;
	else
		r->qhead = it;
	r->qtail = it;
	r->qitems++;
	pthread_cond_signal(&r->q_cv);
	pthread_mutex_unlock(&r->mu);
}

static void
rep_apply_one(struct rep *r, struct rep_item *it, DB_LSN *perm, int *perm_eid)
{
	DBT control, rec;
	DB_LSN ret_lsn;
	int ret, warn = 0;

	memset(&control, 0, sizeof(control));
	memset(&rec, 0, sizeof(rec));
	control.data = it->data;
	control.size = it->clen;
	rec.data = it->data + it->clen;
	rec.size = it->rlen;
	memset(&ret_lsn, 0, sizeof(ret_lsn));
	ret = r->env->rep_process_message(r->env, &control, &rec, it->eid,
	    &ret_lsn);
	switch (ret) {
	case 0:
	case DB_REP_IGNORE:
	case DB_REP_NOTPERM:     /* written, durable once a gap fills */
		break;
	case DB_REP_ISPERM:
		if (rep_lsn_cmp(&ret_lsn, perm) > 0) {
			*perm = ret_lsn;
			*perm_eid = it->eid;
		}
		break;
	case DB_REP_NEWSITE:
		rep_event(r, LOG_LVL_INFO, "replication peer %d %s joined",
		    it->eid, rep_peer_addr(r, it->eid));
		break;
	case DB_REP_HOLDELECTION:
		/* roles come from hasvr, never from an election */
		log_debug("replication: peer %d asks for an election; ignored",
		    it->eid);
		break;
	case DB_REP_DUPMASTER:
		pthread_mutex_lock(&r->mu);
		warn = rep_warn_due(&r->dupmaster_ms);
		pthread_mutex_unlock(&r->mu);
		if (warn)
			rep_event(r, LOG_LVL_ERR, "two primaries: peer %d %s also "
			    "acts as primary; hasvr must demote one (the demoted "
			    "one's diverged history is preserved)", it->eid,
			    rep_peer_addr(r, it->eid));
		break;
	case DB_REP_JOIN_FAILURE:
		rep_event(r, LOG_LVL_ERR, "replication join failure: this node "
		    "cannot sync with peer %d %s without a full re-sync; run the "
		    "resync procedure on this node", it->eid,
		    rep_peer_addr(r, it->eid));
		break;
	case DB_REP_LEASE_EXPIRED:
		log_warnx("replication: master lease expired (message from peer "
		    "%d %s)", it->eid, rep_peer_addr(r, it->eid));
		break;
	default:
		pthread_mutex_lock(&r->mu);
		warn = rep_warn_due(&r->badmsg_ms);
		pthread_mutex_unlock(&r->mu);
		if (warn)
			log_warnx("replication: message from peer %d %s: %s",
			    it->eid, rep_peer_addr(r, it->eid), db_strerror(ret));
		break;
	}
}

static void
rep_send_ack(struct rep *r, int eid, const DB_LSN *lsn)
{
	struct rt_msg m;

	memset(&m, 0, sizeof(m));
	m.type = RT_ACK;
	m.lsn.file = lsn->file;
	m.lsn.offset = lsn->offset;
	if (r->tops->send(r->tp, eid, &m) == 0) {
		pthread_mutex_lock(&r->mu);
		if (rep_lsn_cmp(lsn, &r->ack_sent) > 0)
			r->ack_sent = *lsn;
		r->ack_sent_ms = util_now_ms();
		pthread_mutex_unlock(&r->mu);
	}
}

/* The log could not be made durable (a full disk): nothing is acked, the
 * primary sees this node fall behind; said once per run of failures. */
static void
rep_flush_failed(struct rep *r, int ret)
{
	unsigned long held;

	if (!log_limit_due(&r->flush_lim, REP_WARN_EVERY_MS, &held))
		return;
	log_warnx("replication: cannot write the transaction log: %s; this "
	    "node acknowledges nothing and falls behind until the disk holding "
	    "xdb/log has space again, then it catches up by itself%s",
	    db_strerror(ret), held ? " (repeated)" : "");
}

/* A client that is up to date acknowledges its position now and then, so
 * that an idle primary sees it in sync: REP_TICK_MS after its last ack, or
 * REP_SETTLE_MS after it when it applied something unacknowledged. 0 if it
 * is too early for that ack, 1 otherwise (acked, or nothing to ack). */
static int
rep_idle_ack(struct rep *r, int unacked)
{
	DB_REP_STAT *st = NULL;
	DB_LSN next;
	int master, role, done, on, ret;
	uint64_t last_ms;

	pthread_mutex_lock(&r->mu);
	role = r->role;
	master = r->master_eid;
	done = r->startup_done;
	on = r->sync_on;
	last_ms = r->ack_sent_ms;
	pthread_mutex_unlock(&r->mu);
	if (role == HA_ROLE_PRIMARY || !done || !on || master == DB_EID_INVALID ||
	    master == r->self_eid || !r->tops->peer_up(r->tp, master))
		return 1;
	if (util_now_ms() - last_ms < (unacked ? REP_SETTLE_MS : REP_TICK_MS))
		return 0;
	if ((ret = r->env->rep_stat(r->env, &st, 0)) != 0)
		return 1;
	next = st->st_next_lsn;
	free(st);
	if (rep_lsn_zero(&next))
		return 1;
	/* everything before next_lsn is in the log; make it durable first */
	if ((ret = r->env->log_flush(r->env, NULL)) != 0) {
		rep_flush_failed(r, ret);
		return 1;
	}
	rep_send_ack(r, master, &next);
	return 1;
}

/* A secondary whose disk refused writes misses what it could not write,
 * and Berkeley DB asks the primary again only when more arrives: every
 * REP_RETRY_MS after the last refusal it asks itself, which retries the
 * writes and, once there is space, catches up without waiting for the
 * next commit on the primary. */
static void
rep_retry_after_fault(struct rep *r)
{
	uint64_t first, last, now = util_now_ms();
	char why[64];
	int role;

	pthread_mutex_lock(&r->mu);
	role = r->role;
	pthread_mutex_unlock(&r->mu);
	if (role != HA_ROLE_SECONDARY ||
	    !dbenv_write_fault(&r->s->env, &first, &last, why, sizeof(why)) ||
	    last <= r->fault_retried_ms || now - last < REP_RETRY_MS ||
	    now - r->fault_retry_ms < REP_RETRY_MS)
		return;
	r->fault_retry_ms = now;
	/* once caught up, refusals older than this one need no retry */
	if (now - last >= 4 * REP_RETRY_MS)
		r->fault_retried_ms = last;
	log_info("replication: asking the primary again for what the disk "
	    "refused (%s) %llu s ago", why,
	    (unsigned long long)((now - last) / 1000));
	rep_announce(r);
}

/* Whether a node in this role applies Berkeley DB messages from eid: a
 * primary from every peer (requests, acks of its clients), a secondary
 * only from the primary hasvr named — never from another node that also
 * acts as master — and a node without a role from nobody. */
static int
rep_takes_from(int role, uint32_t follow, int eid)
{
	if (role == HA_ROLE_PRIMARY)
		return 1;
	if (role != HA_ROLE_SECONDARY || follow == HA_PRIMARY_NONE)
		return 0;
	return follow == HA_PRIMARY_ANY || (uint32_t)eid == follow;
}

/* With r->mu held: moves up to REP_BATCH queued items to the caller. */
static struct rep_item *
rep_take(struct rep *r)
{
	struct rep_item *batch = NULL, *tail = NULL, *it;
	int n;

	for (n = 0; r->qhead != NULL && n < REP_BATCH; n++) {
		it = r->qhead;
		r->qhead = it->next;
		it->next = NULL;
		if (tail != NULL)
			tail->next = it;
		else
			batch = it;
		tail = it;
		r->qitems--;
		if (it->kind == REP_IT_MSG)
			r->qbytes -= sizeof(*it) + it->clen + it->rlen;
	}
	if (r->qhead == NULL)
		r->qtail = NULL;
	if (n > 0)
		pthread_cond_broadcast(&r->space_cv);
	return batch;
}

void *
rep_apply_main(void *arg)
{
	struct rep *r = arg;
	struct rep_item *batch, *it;
	struct timespec ts;
	DB_LSN perm;
	uint64_t foreign = 0;
	uint32_t follow;
	int perm_eid, rounds, announce, startup, on, ret, unacked = 0, applied;
	int role;

	pthread_mutex_lock(&r->mu);
	while (!r->stop) {
		if (r->qhead == NULL && !r->startup_pending) {
			deadline_in_ms(&ts, CLOCK_MONOTONIC, unacked ?
			    REP_SETTLE_MS : REP_TICK_MS);
			(void)pthread_cond_timedwait(&r->q_cv, &r->mu, &ts);
			if (r->stop)
				break;
		}
		startup = r->startup_pending;
		r->startup_pending = 0;
		memset(&perm, 0, sizeof(perm));
		perm_eid = DB_EID_INVALID;
		announce = 0;
		applied = 0;
		/* What arrives while a batch is applied joins it before the
		 * flush: one fsync and one ack for all of it (bounded, so that
		 * a catching-up client still acks now and then). */
		for (rounds = 0; rounds < REP_ROUNDS &&
		    (batch = rep_take(r)) != NULL; rounds++) {
			on = r->sync_on;
			role = r->role;
			follow = r->follow;
			pthread_mutex_unlock(&r->mu);
			while ((it = batch) != NULL) {
				batch = it->next;
				if (it->kind == REP_IT_PEER_UP)
					announce = 1;
				else if (on && rep_takes_from(role, follow,
				    it->eid)) {
					rep_apply_one(r, it, &perm, &perm_eid);
					applied = 1;
				} else if (on)
					foreign++;
				free(it);
			}
			pthread_mutex_lock(&r->mu);
			r->foreign += foreign;
			foreign = 0;
		}
		pthread_mutex_unlock(&r->mu);

		if (!rep_lsn_zero(&perm)) {
			/* one fsync for the whole batch, then the ack: the
			 * environment runs DB_TXN_NOSYNC in every mode */
			if ((ret = r->env->log_flush(r->env, NULL)) != 0)
				rep_flush_failed(r, ret);
			else
				rep_send_ack(r, perm_eid, &perm);
			unacked = 0;
		} else if (applied || startup)
			unacked = 1;
		if (announce)
			rep_announce(r);
		if (startup)
			rep_div_check(r, "after the sync-up");
		if (rep_idle_ack(r, unacked))
			unacked = 0;
		rep_retry_after_fault(r);
		pthread_mutex_lock(&r->mu);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

void
rep_queue_free(struct rep *r)
{
	struct rep_item *it;

	while ((it = r->qhead) != NULL) {
		r->qhead = it->next;
		free(it);
	}
	r->qtail = NULL;
	r->qitems = 0;
	r->qbytes = 0;
}
