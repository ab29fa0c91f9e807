/* rep.c — Berkeley DB replication for guisvr with the Base Replication API
 * over reptransport (see rep.h for the contract).
 *
 * Threads and who may do what:
 *   - committing workers: Berkeley DB calls rep_send from inside their
 *     commit; it frames the message for the transport and remembers, per
 *     thread, the LSN of the last DB_REP_PERMANENT message, which is the LSN
 *     rep_commit_wait then needs acknowledged. It never calls Berkeley DB.
 *   - the transport's I/O thread: rep_on_message copies a Berkeley DB
 *     message into the apply queue and returns; an RT_ACK is recorded at
 *     once (no Berkeley DB call) and wakes the waiting committers.
 *   - the apply thread: rep_process_message for each queued message, then
 *     one log flush for the whole batch and one RT_ACK of the highest
 *     DB_REP_ISPERM LSN; it also re-announces a client when its primary's
 *     connection comes up, and runs the divergence check.
 *   - the ha-link thread: rep_set_role / rep_set_sync / rep_state.
 * r->mu guards the state below and is never held across a Berkeley DB call
 * or a transport send; r->role_mu serializes the calls to DB_ENV->rep_start.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <db.h>

#include "atomicfile.h"
#include "fsutil.h"
#include "halink.h"
#include "hlstate.h"
#include "log.h"
#include "proto.h"
#include "rep.h"
#include "reptransport.h"
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
/* Commits remembered on the primary to count each peer's behindCommits. */
#define REP_RING 65536
/* Commit records of an old primary kept in memory to find, after it synced
 * as a secondary, how many of them the new primary's history lacks. */
#define REP_DIV_MAX_COMMITS 100000
#define REP_DIV_MAX_BYTES (16u * 1024 * 1024)
/* Berkeley DB 5.3 log record layout used by the divergence check: a
 * header of rectype, txnid, prev_lsn, then for __txn_regop the opcode. */
#define REP_LOG_REGOP 10            /* DB___txn_regop */
#define REP_LOG_COMMIT 1            /* TXN_COMMIT */
#define REP_LOG_HDR 16
/* A repeated warning (duplicate master, bad message) at most this often. */
#define REP_WARN_EVERY_MS 10000

enum rep_item_kind { REP_IT_MSG, REP_IT_PEER_UP };

struct rep_item {
	struct rep_item *next;
	int kind;
	int eid;
	uint32_t clen, rlen;
	unsigned char data[];      /* control bytes, then rec bytes */
};

/* A committer in rep_commit_wait, with its own condition variable: an ack
 * wakes only the committers it can satisfy. A broadcast woke every waiting
 * writer for every ack and most went back to sleep; targeted wake-ups
 * measured sync/sync 8 writers 6.7k -> 8.1k commits/s (2 cores). */
struct rep_waiter {
	struct rep_waiter *next;
	DB_LSN lsn;
	pthread_cond_t cv;
};

struct rep_peer {
	int eid;
	char addr[64];
	int up;
	int insync;                /* primary: waited for by sync commits */
	DB_LSN acked;              /* primary: durable on the peer up to here */
	DB_LSN target;             /* primary: not waited for until acked
				    * reaches it */
	DB_LSN must;               /* primary: the newest commit acknowledged
				    * to its writer without this peer's ack: the
				    * peer has every acknowledged write (is in
				    * sync) only once acked reaches it */
	int was_dirty;             /* "in-sync -> dirty" was said last */
	uint64_t cursor;           /* primary: commits (ring seq) acked */
	DB_LSN seen;               /* highest LSN in a message from the peer */
	int reconnected;           /* primary: acked is from before a reconnect */
};

/* An old primary's last commits, to compare with the history it gets. */
struct rep_divrec {
	DB_LSN lsn;
	uint32_t len;
	unsigned char *data;
};

struct rep_div {
	char dir[PATH_MAX];
	struct rep_divrec *recs;    /* newest first */
	size_t n;
	int truncated;              /* more commits than kept */
};

struct rep {
	struct store *s;
	DB_ENV *env;
	int self_eid;
	char self_addr[64];
	enum ha_durability dur;
	long long ack_timeout_ms;
	char xdb_dir[PATH_MAX];
	char lastrole_path[PATH_MAX];
	struct reptransport *rt;

	pthread_mutex_t role_mu;
	pthread_mutex_t mu;
	pthread_cond_t ack_cv;      /* rep_stop: the last waiter left */
	pthread_condattr_t cattr;   /* CLOCK_MONOTONIC, for waiters' cvs */
	struct rep_waiter *waitq;   /* committers in rep_commit_wait */
	pthread_cond_t q_cv;        /* work for the apply thread */
	pthread_cond_t space_cv;    /* room in the queue */

	/* apply queue */
	struct rep_item *qhead, *qtail;
	size_t qbytes, qitems;
	int stop;
	pthread_t apply_thr;
	int apply_running;

	/* state */
	int role;                   /* enum hl_role */
	uint32_t epoch;
	int was_primary;            /* wrote as primary since the last check */
	int master_eid;             /* from NEWMASTER; DB_EID_INVALID if none */
	uint32_t follow;            /* secondary: the only peer whose messages
				     * it takes (HL_PRIMARY_NONE nobody yet,
				     * HL_PRIMARY_ANY whoever acts as master) */
	uint64_t foreign;           /* messages dropped: not from follow */
	uint32_t gen_max;           /* the highest generation seen (state) */
	int startup_done;           /* STARTUPDONE seen in this client role */
	int startup_pending;        /* the apply thread has to react to it */
	int sync_on;                /* database replication enabled */
	int stopping;
	int waiters;                /* committers inside rep_commit_wait */
	struct rep_peer peers[HACFG_MAX_NODES];
	int npeers;
	DB_LSN ack_sent;            /* client: last acked to the primary */
	uint64_t ack_sent_ms;

	/* primary: permanent records sent, for acks and behindCommits */
	DB_LSN last_perm;
	uint64_t commits;
	DB_LSN *ring;

	struct rep_div *div;        /* pending divergence check */
	uint64_t dupmaster_ms, badmsg_ms, qfull_ms;
	struct log_limit flush_lim;
	uint64_t fault_retry_ms;    /* apply thread: last rep_retry_after_fault */
	uint64_t fault_retried_ms;  /* the refusal no retry is owed for */

	void (*sink)(const char *line, void *arg);
	void *sink_arg;
	pthread_mutex_t sink_mu;
};

/* The LSN of the last permanent record this thread sent: the commit that
 * rep_commit_wait is about to wait for. */
static __thread DB_LSN rep_tls_perm;
static __thread int rep_tls_has_perm;

static void rep_enqueue_peer_up(struct rep *, int);

/* With r->mu held: peers, roles or settings changed; every committer
 * re-examines its wait. */
static void
rep_wake(struct rep *r)
{
	struct rep_waiter *w;

	for (w = r->waitq; w != NULL; w = w->next)
		pthread_cond_signal(&w->cv);
	pthread_cond_broadcast(&r->ack_cv);
}

static int rep_lsn_cmp(const DB_LSN *, const DB_LSN *);

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

/* ---- small helpers ---------------------------------------------------- */

static int
rep_lsn_cmp(const DB_LSN *a, const DB_LSN *b)
{
	if (a->file != b->file)
		return a->file < b->file ? -1 : 1;
	if (a->offset != b->offset)
		return a->offset < b->offset ? -1 : 1;
	return 0;
}

static int
rep_lsn_zero(const DB_LSN *a)
{
	return a->file == 0 && a->offset == 0;
}

static const char *
rep_role_name(int role)
{
	return halink_role_name(role);
}

static const char *
rep_dur_name(enum ha_durability d)
{
	switch (d) {
	case HA_ASYNC:
		return "async";
	case HA_SYNC:
		return "sync";
	case HA_STRICT:
		return "strict";
	}
	return "?";
}

static struct rep_peer *
rep_peer_find(struct rep *r, int eid)
{
	int i;

	for (i = 0; i < r->npeers; i++)
		if (r->peers[i].eid == eid)
			return &r->peers[i];
	return NULL;
}

static const char *
rep_peer_addr(struct rep *r, int eid)
{
	struct rep_peer *p = rep_peer_find(r, eid);

	return p != NULL ? p->addr : "unknown";
}

/* Approximate bytes of log between a and b (b >= a). */
static uint64_t
rep_lsn_bytes(const DB_LSN *a, const DB_LSN *b, uint32_t lg_max)
{
	if (rep_lsn_cmp(a, b) >= 0)
		return 0;
	if (a->file == b->file)
		return b->offset - a->offset;
	return (uint64_t)(b->file - a->file - 1) * lg_max +
	    (a->offset < lg_max ? lg_max - a->offset : 0) + b->offset;
}

/* Sends a line to guiDaemon.0 (at the given level) and to the ha-link
 * subscribers. Never called with r->mu held. */
static void __attribute__((format(printf, 3, 4)))
rep_event(struct rep *r, int level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* a level past debug: already logged by dbenv.c */
	if (level >= LOG_LVL_ERR && level <= LOG_LVL_DEBUG)
		log_at((enum log_level)level, "%s", line);
	pthread_mutex_lock(&r->sink_mu);
	if (r->sink != NULL)
		r->sink(line, r->sink_arg);
	pthread_mutex_unlock(&r->sink_mu);
}

/* What a refused write says on a node that is not the primary. */
static void
rep_update_readonly(struct rep *r)
{
	char msg[256];
	int role, master;

	pthread_mutex_lock(&r->mu);
	role = r->role;
	master = r->master_eid;
	pthread_mutex_unlock(&r->mu);
	if (role == HL_ROLE_PRIMARY)
		msg[0] = '\0';
	else if (role == HL_ROLE_NONE)
		snprintf(msg, sizeof(msg), "no role yet: waiting for hasvr");
	else if (master != DB_EID_INVALID && master != r->self_eid)
		snprintf(msg, sizeof(msg), "this node is secondary; the primary "
		    "is %s", rep_peer_addr(r, master));
	else
		snprintf(msg, sizeof(msg), "this node is secondary; the primary "
		    "is not known yet");
	store_set_readonly(r->s, msg);
}

static int
rep_write_lastrole(struct rep *r, int role, uint32_t epoch)
{
	char buf[64], err[HASVR_ERRLEN];
	int n;

	n = snprintf(buf, sizeof(buf), "%s %u\n", rep_role_name(role), epoch);
	if (atomicfile_write(r->lastrole_path, buf, (size_t)n, 0640, err,
	    sizeof(err)) != 0) {
		log_warnx("cannot record the role in %s: %s", r->lastrole_path, err);
		return -1;
	}
	return 0;
}

/* 1 if the last role recorded on disk is primary. */
static int
rep_read_lastrole(struct rep *r)
{
	char err[HASVR_ERRLEN], *txt;
	int primary;

	if ((txt = util_read_file(r->lastrole_path, 256, NULL, err,
	    sizeof(err))) == NULL)
		return 0;
	primary = strncmp(txt, "primary", 7) == 0;
	free(txt);
	return primary;
}

/* ---- the primary's view of its peers ---------------------------------- */

/* With r->mu held: p is not in sync any more. Fills line with the state
 * change to report once r->mu is released (1), or returns 0 if p was
 * dirty already. */
static int
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
	if (!p->insync && r->role == HL_ROLE_PRIMARY &&
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
static int
rep_peer_insync(struct rep *r, const struct rep_peer *p)
{
	if (!p->up || !r->sync_on)
		return 0;
	if (r->dur == HA_ASYNC)
		return p->cursor >= r->commits && !p->reconnected &&
		    rep_lsn_cmp(&p->acked, &p->target) >= 0;
	return p->insync && rep_lsn_cmp(&p->acked, &p->must) >= 0;
}

/* With r->mu held: 1 (and *last_ms set to now) if a warning last given at
 * *last_ms may be given again, at most once per REP_WARN_EVERY_MS. */
static int
rep_warn_due(uint64_t *last_ms)
{
	uint64_t now = util_now_ms();

	if (now - *last_ms < REP_WARN_EVERY_MS)
		return 0;
	*last_ms = now;
	return 1;
}

/* ---- transport callbacks (I/O thread) --------------------------------- */

static void
rep_on_message(const struct rt_msg *m, void *arg)
{
	struct rep *r = arg;
	struct rep_item *it;
	struct rep_peer *p;
	struct timespec ts;
	char change[256] = "";
	DB_LSN lsn;
	size_t need;
	int full, warn = 0;

	lsn.file = m->lsn.file;
	lsn.offset = m->lsn.offset;
	if (m->type == RT_ACK) {
		pthread_mutex_lock(&r->mu);
		if ((p = rep_peer_find(r, m->eid)) != NULL) {
			rep_peer_acked(r, p, &lsn, change, sizeof(change));
			rep_wake_acked(r, &p->acked);
		}
		pthread_mutex_unlock(&r->mu);
		if (change[0] != '\0')
			rep_event(r, LOG_LVL_NOTICE, "%s", change);
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

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += REP_QUEUE_WAIT_MS / 1000;
	ts.tv_nsec += (REP_QUEUE_WAIT_MS % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
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
static void
rep_on_batch(void *arg)
{
	struct rep *r = arg;

	pthread_mutex_lock(&r->mu);
	if (r->qhead != NULL)
		pthread_cond_signal(&r->q_cv);
	pthread_mutex_unlock(&r->mu);
}

static void
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
		if (!up && r->role == HL_ROLE_PRIMARY)
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

static void
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

/* ---- Berkeley DB callbacks -------------------------------------------- */

/* DB_ENV transport: runs in the thread that logged and must not call back
 * into Berkeley DB. */
static int
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
		if (r->role == HL_ROLE_PRIMARY) {
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
		(void)rt_send(r->rt, RT_EID_BROADCAST, &m);
		return 0;
	}
	if (rt_send(r->rt, eid, &m) != 0)
		return DB_REP_UNAVAIL;
	return 0;
}

static void
rep_db_event(void *arg, u_int32_t event, void *info)
{
	struct rep *r = arg;
	int master = DB_EID_INVALID;

	pthread_mutex_lock(&r->mu);
	switch (event) {
	case DB_EVENT_REP_NEWMASTER:
		if (info != NULL)
			master = r->master_eid = *(int *)info;
		break;
	case DB_EVENT_REP_MASTER:
		r->master_eid = r->self_eid;
		break;
	case DB_EVENT_REP_STARTUPDONE:
		r->startup_done = 1;
		r->startup_pending = 1;
		pthread_cond_signal(&r->q_cv);
		break;
	}
	pthread_mutex_unlock(&r->mu);

	/* dbenv.c already logged the line */
	rep_event(r, -1, "get BDB event %s", dbenv_event_name(event));
	switch (event) {
	case DB_EVENT_REP_NEWMASTER:
		if (master != r->self_eid)
			rep_event(r, LOG_LVL_INFO, "the primary is peer %d %s",
			    master, rep_peer_addr(r, master));
		rep_update_readonly(r);
		break;
	case DB_EVENT_REP_DUPMASTER:
		rep_event(r, LOG_LVL_ERR, "two primaries: another node also acts "
		    "as primary; hasvr must demote one (the diverged history of "
		    "the demoted one is preserved)");
		break;
	}
}

/* ---- divergence ------------------------------------------------------- */

static void
rep_div_free(struct rep_div *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->n; i++)
		free(d->recs[i].data);
	free(d->recs);
	free(d);
}

static int
rep_is_commit(const DBT *rec)
{
	uint32_t type, op;

	if (rec->size < REP_LOG_HDR + 4)
		return 0;
	memcpy(&type, rec->data, 4);
	memcpy(&op, (unsigned char *)rec->data + REP_LOG_HDR, 4);
	return type == REP_LOG_REGOP && op == REP_LOG_COMMIT;
}

/* Collects this node's newest commit records, newest first. */
static int
rep_div_collect(struct rep *r, struct rep_div *d, char *err, size_t errlen)
{
	DB_LOGC *lc = NULL;
	DB_LSN lsn;
	DBT rec;
	size_t cap = 0, bytes = 0;
	u_int32_t flag = DB_LAST;
	int ret;

	if ((ret = r->env->log_cursor(r->env, &lc, 0)) != 0) {
		snprintf(err, errlen, "log cursor: %s", db_strerror(ret));
		return -1;
	}
	memset(&rec, 0, sizeof(rec));
	for (;; flag = DB_PREV) {
		if ((ret = lc->get(lc, &lsn, &rec, flag)) != 0)
			break;
		if (!rep_is_commit(&rec))
			continue;
		if (d->n == REP_DIV_MAX_COMMITS || bytes + rec.size >
		    REP_DIV_MAX_BYTES) {
			d->truncated = 1;
			break;
		}
		if (d->n == cap) {
			struct rep_divrec *n;

			cap = cap ? cap * 2 : 256;
			if ((n = realloc(d->recs, cap * sizeof(*n))) == NULL) {
				ret = ENOMEM;
				break;
			}
			d->recs = n;
		}
		if ((d->recs[d->n].data = malloc(rec.size)) == NULL) {
			ret = ENOMEM;
			break;
		}
		memcpy(d->recs[d->n].data, rec.data, rec.size);
		d->recs[d->n].len = rec.size;
		d->recs[d->n].lsn = lsn;
		d->n++;
		bytes += rec.size;
	}
	lc->close(lc, 0);
	if (ret != 0 && ret != DB_NOTFOUND && !d->truncated) {
		snprintf(err, errlen, "reading the log: %s", db_strerror(ret));
		return -1;
	}
	return 0;
}

/* Before an old primary becomes a client, whose sync-up may roll back what
 * it wrote that the new primary never got: copy the environment aside and
 * remember its last commits. Called with role_mu held, never as a client
 * (a client's checkpoint does not write its pages). */
static void
rep_div_prepare(struct rep *r)
{
	char err[HASVR_ERRLEN], name[64], from[PATH_MAX], to[PATH_MAX];
	char info[512];
	const char *home = NULL;
	struct rep_div *d;
	struct tm tm;
	time_t now;
	int ret, i, n;

	pthread_mutex_lock(&r->mu);
	d = r->div;
	pthread_mutex_unlock(&r->mu);
	if (d != NULL)
		return;           /* the copy from before is still unchecked */
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return;
	if ((ret = r->env->txn_checkpoint(r->env, 0, 0, DB_FORCE)) != 0 ||
	    (ret = r->env->log_flush(r->env, NULL)) != 0)
		log_warnx("before preserving the database: %s", db_strerror(ret));
	if (rep_div_collect(r, d, err, sizeof(err)) == -1) {
		log_warnx("cannot read this node's history to check it for "
		    "divergence: %s", err);
		rep_div_free(d);
		return;
	}
	if (d->n == 0) {          /* nothing committed: nothing to lose */
		rep_div_free(d);
		return;
	}
	now = time(NULL);
	localtime_r(&now, &tm);
	strftime(name, sizeof(name), "diverged-%Y%m%d-%H%M%S", &tm);
	for (i = 0; i < 100; i++) {
		if (i == 0)
			snprintf(to, sizeof(to), "%s/%s", r->xdb_dir, name);
		else
			snprintf(to, sizeof(to), "%s/%s-%d", r->xdb_dir, name, i);
		if (mkdir(to, 0750) == 0)
			break;
		if (errno != EEXIST) {
			log_warnx("cannot preserve this node's database in %s: %s; "
			    "what a sync-up rolls back will be lost", to,
			    strerror(errno));
			rep_div_free(d);
			return;
		}
	}
	util_strlcpy(d->dir, to, sizeof(d->dir));
	/* Berkeley DB's hot backup: data files and logs, consistent, into
	 * one directory that db_recover -h can open */
	if ((ret = r->env->backup(r->env, d->dir, DB_CREATE |
	    DB_BACKUP_SINGLE_DIR)) != 0) {
		log_warnx("cannot preserve this node's database in %s: %s; what "
		    "a sync-up rolls back will be lost", d->dir, db_strerror(ret));
		fsutil_rmtree(d->dir);
		rep_div_free(d);
		return;
	}
	if (r->env->get_home(r->env, &home) == 0 && home != NULL &&
	    util_path_join(from, sizeof(from), home, "DB_CONFIG") == 0 &&
	    util_path_join(to, sizeof(to), d->dir, "DB_CONFIG") == 0 &&
	    fsutil_copy_file(from, to, err, sizeof(err)) == -1)
		log_warnx("preserving DB_CONFIG: %s", err);
	n = snprintf(info, sizeof(info), "This is the database of this node as "
	    "it was when it stopped being the primary.\nIts last commit is at "
	    "LSN %u/%u. Open it with: db_recover -h %s\n",
	    d->recs[0].lsn.file, d->recs[0].lsn.offset, d->dir);
	if (util_path_join(to, sizeof(to), d->dir, "README") == 0)
		(void)atomicfile_write(to, info, (size_t)n, 0640, err, sizeof(err));
	pthread_mutex_lock(&r->mu);
	r->div = d;
	pthread_mutex_unlock(&r->mu);
	log_info("preserved this node's database in %s before it syncs with the "
	    "primary (last commit at %u/%u)", d->dir, d->recs[0].lsn.file,
	    d->recs[0].lsn.offset);
}

/* After the sync-up (or at promotion): is this node's last commit still in
 * its log, byte for byte? If not, count the commits the sync-up removed. */
static void
rep_div_check(struct rep *r, const char *when)
{
	struct rep_div *d;
	DB_LOGC *lc = NULL;
	DB_LSN lsn;
	DBT rec;
	size_t i, match = (size_t)-1;
	int ret;

	pthread_mutex_lock(&r->mu);
	d = r->div;
	r->div = NULL;
	/* settled: a later demotion without writes needs no new copy */
	if (d != NULL)
		r->was_primary = r->role == HL_ROLE_PRIMARY;
	pthread_mutex_unlock(&r->mu);
	if (d == NULL)
		return;
	if ((ret = r->env->log_cursor(r->env, &lc, 0)) != 0) {
		rep_event(r, LOG_LVL_WARN, "cannot check for diverged history (%s): "
		    "%s; preserved in %s", db_strerror(ret), when, d->dir);
		rep_div_free(d);
		return;
	}
	/* Walk the log backwards beside the saved commits (both newest
	 * first): positioning the cursor on a saved LSN directly would make
	 * Berkeley DB complain when it is past the end or inside a record. */
	memset(&rec, 0, sizeof(rec));
	ret = lc->get(lc, &lsn, &rec, DB_LAST);
	for (i = 0; ret == 0 && i < d->n;) {
		int c = rep_lsn_cmp(&lsn, &d->recs[i].lsn);

		if (c > 0)
			ret = lc->get(lc, &lsn, &rec, DB_PREV);
		else if (c < 0)
			i++;            /* not in the log any more */
		else if (rec.size == d->recs[i].len &&
		    memcmp(rec.data, d->recs[i].data, rec.size) == 0) {
			match = i;
			break;
		} else {
			i++;            /* another record at that place */
			ret = lc->get(lc, &lsn, &rec, DB_PREV);
		}
	}
	lc->close(lc, 0);
	if (match == 0) {
		fsutil_rmtree(d->dir);
		rep_event(r, LOG_LVL_INFO, "no divergence; removed %s", d->dir);
	} else if (match != (size_t)-1)
		rep_event(r, LOG_LVL_WARN, "diverged history: %zu transactions "
		    "rolled back; preserved in %s", match, d->dir);
	else
		rep_event(r, LOG_LVL_WARN, "diverged history: %s%zu transactions "
		    "rolled back (none of this node's last commits is in the "
		    "primary's history, or the primary re-sent the whole "
		    "database); preserved in %s", d->truncated ? "more than " : "",
		    d->n, d->dir);
	rep_div_free(d);
}

/* ---- the apply thread ------------------------------------------------- */

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
	if (rt_send(r->rt, eid, &m) == 0) {
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
	if (role == HL_ROLE_PRIMARY || !done || !on || master == DB_EID_INVALID ||
	    master == r->self_eid || !rt_peer_up(r->rt, master))
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

static void rep_announce(struct rep *);

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
	if (role != HL_ROLE_SECONDARY ||
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

/* (Re)announces this node to the group in its current role: a client asks
 * the primary for what it misses. Called when a peer's link comes up and
 * when database replication is enabled again. */
static void
rep_announce(struct rep *r)
{
	uint32_t follow;
	int role, ret;

	pthread_mutex_lock(&r->role_mu);
	pthread_mutex_lock(&r->mu);
	role = r->role;
	follow = r->follow;
	pthread_mutex_unlock(&r->mu);
	if (role == HL_ROLE_SECONDARY && follow != HL_PRIMARY_NONE &&
	    __atomic_load_n(&r->sync_on, __ATOMIC_ACQUIRE) &&
	    (ret = r->env->rep_start(r->env, NULL, DB_REP_CLIENT)) != 0)
		log_warnx("replication: restarting as a client: %s",
		    db_strerror(ret));
	pthread_mutex_unlock(&r->role_mu);
}

/* Whether a node in this role applies Berkeley DB messages from eid: a
 * primary from every peer (requests, acks of its clients), a secondary
 * only from the primary hasvr named — never from another node that also
 * acts as master — and a node without a role from nobody. */
static int
rep_takes_from(int role, uint32_t follow, int eid)
{
	if (role == HL_ROLE_PRIMARY)
		return 1;
	if (role != HL_ROLE_SECONDARY || follow == HL_PRIMARY_NONE)
		return 0;
	return follow == HL_PRIMARY_ANY || (uint32_t)eid == follow;
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

static void *
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
			clock_gettime(CLOCK_MONOTONIC, &ts);
			if (unacked) {
				ts.tv_nsec += REP_SETTLE_MS * 1000000L;
				if (ts.tv_nsec >= 1000000000L) {
					ts.tv_sec++;
					ts.tv_nsec -= 1000000000L;
				}
			} else
				ts.tv_sec += REP_TICK_MS / 1000;
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

/* ---- commits on the primary ------------------------------------------- */

static int
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
	uint64_t deadline, now;
	int i, ret, rc = 0, waitfor, acked, connected, timedout = 0, has;
	int demoted;
	char changes[HACFG_MAX_NODES][256];
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
	if (!has || r->dur == HA_ASYNC)
		return 0;

	deadline = util_now_ms() + (uint64_t)r->ack_timeout_ms;
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
		demoted = r->role != HL_ROLE_PRIMARY;
		if (!r->sync_on) {
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
		if (demoted) {
			/* This node stopped being the primary meanwhile (a
			 * switchover, or it lost to another primary): the write
			 * counts only as acknowledged by a secondary, which the
			 * successor of a switchover does before it takes over;
			 * alone here it may be rolled back. */
			if (acked > 0 && (r->dur == HA_STRICT || waitfor == 0))
				break;
			if (timedout || util_now_ms() >= deadline) {
				snprintf(err, errlen, "committed on this node, but "
				    "it stopped being the primary before the "
				    "secondaries acknowledged the write; it may be "
				    "rolled back");
				rc = XE_NOTREPL;
				break;
			}
		} else if (r->dur == HA_SYNC && waitfor == 0)
			break;       /* every in-sync peer has it, or none is */
		else if (r->dur == HA_STRICT && acked > 0)
			break;
		else if (r->dur == HA_STRICT && connected == 0) {
			snprintf(err, errlen, "committed on the primary, but no "
			    "secondary is connected to acknowledge it");
			rc = XE_NOTREPL;
			break;
		}
		now = util_now_ms();
		if (!demoted && (timedout || now >= deadline)) {
			if (r->dur == HA_STRICT) {
				snprintf(err, errlen, "committed on the primary but "
				    "not acknowledged by a secondary within %lld ms",
				    r->ack_timeout_ms);
				rc = XE_NOTREPL;
				break;
			}
			for (i = 0; i < r->npeers; i++) {
				p = &r->peers[i];
				if (p->up && p->insync &&
				    rep_lsn_cmp(&p->acked, &lsn) < 0) {
					char reason[64];

					snprintf(reason, sizeof(reason),
					    "no ack within %lldms", r->ack_timeout_ms);
					if (rep_peer_dirty(r, p, reason,
					    changes[nchanges], sizeof(changes[0])))
						nchanges++;
				}
			}
			rep_wake(r);
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t)((deadline - now) / 1000);
		ts.tv_nsec += (long)((deadline - now) % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (pthread_cond_timedwait(&me.cv, &r->mu, &ts) == ETIMEDOUT)
			timedout = 1;
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
	return rc;
}

/* ---- the API ---------------------------------------------------------- */

/* The teardown shared by a failed rep_start and rep_stop. */
static void
rep_free(struct rep *r)
{
	rep_div_free(r->div);
	pthread_cond_destroy(&r->ack_cv);
	pthread_condattr_destroy(&r->cattr);
	pthread_cond_destroy(&r->q_cv);
	pthread_cond_destroy(&r->space_cv);
	pthread_mutex_destroy(&r->mu);
	pthread_mutex_destroy(&r->role_mu);
	pthread_mutex_destroy(&r->sink_mu);
	free(r->ring);
	free(r);
}

struct rep *
rep_start(struct store *s, const struct hacfg *h, const char *xdb_dir,
    const char *build, char *err, size_t errlen)
{
	struct rt_opts o;
	struct rep *r;
	pthread_condattr_t ca;
	int i, ret;

	if (s->env.env == NULL || !s->env.opts.replication) {
		snprintf(err, errlen, "the database was not opened for replication");
		return NULL;
	}
	if (h->self < 0 || h->self >= h->nnodes) {
		snprintf(err, errlen, "highAvail.myAddr is not one of the nodes");
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->ring = calloc(REP_RING, sizeof(*r->ring))) == NULL) {
		free(r);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->s = s;
	r->env = s->env.env;
	r->self_eid = h->nodes[h->self].eid;
	util_strlcpy(r->self_addr, h->nodes[h->self].addr, sizeof(r->self_addr));
	r->dur = h->durability;
	r->ack_timeout_ms = h->ack_timeout_ms > 0 ? h->ack_timeout_ms : 1000;
	util_strlcpy(r->xdb_dir, xdb_dir, sizeof(r->xdb_dir));
	/* Not in xdb/init: Berkeley DB owns that directory and would try to
	 * read (and replicate) any file it finds there. */
	snprintf(r->lastrole_path, sizeof(r->lastrole_path), "%s/lastRole",
	    xdb_dir);
	r->role = HL_ROLE_NONE;
	r->master_eid = DB_EID_INVALID;
	r->follow = HL_PRIMARY_NONE;
	r->sync_on = 1;
	for (i = 0; i < h->nnodes; i++) {
		if (i == h->self)
			continue;
		r->peers[r->npeers].eid = h->nodes[i].eid;
		util_strlcpy(r->peers[r->npeers].addr, h->nodes[i].addr,
		    sizeof(r->peers[0].addr));
		r->npeers++;
	}
	pthread_mutex_init(&r->role_mu, NULL);
	pthread_mutex_init(&r->mu, NULL);
	pthread_mutex_init(&r->sink_mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_condattr_init(&r->cattr);
	pthread_condattr_setclock(&r->cattr, CLOCK_MONOTONIC);
	pthread_cond_init(&r->ack_cv, &ca);
	pthread_cond_init(&r->q_cv, &ca);
	pthread_cond_init(&r->space_cv, &ca);
	pthread_condattr_destroy(&ca);

	/* writes wait for a role from hasvr */
	store_set_readonly(s, "no role yet: waiting for hasvr");
	if (dbenv_set_rep(&s->env, r->self_eid, rep_send, rep_db_event, r, err,
	    errlen) == -1)
		goto fail;
	/* Every mode: one fsync per group of commits on each side (rep.h).
	 * A commit made with a sync flush marks its log record so that every
	 * secondary must fsync it alone; committing without and flushing
	 * right after (rep_commit_wait) keeps the primary just as durable and
	 * lets the secondaries flush once per batch. In async mode this took
	 * the secondary from one fsync per commit (falling ever further
	 * behind, and competing for the disk) to one per batch. */
	if ((ret = r->env->set_flags(r->env, DB_TXN_NOSYNC, 1)) != 0) {
		snprintf(err, errlen, "cannot set DB_TXN_NOSYNC: %s",
		    db_strerror(ret));
		goto fail_hooks;
	}
	store_set_commit_hook(s, rep_commit_hook, r, 1);
	(void)store_db_ready(s, 0, err, errlen);

	/* An old primary about to sync as a client may be rolled back: keep
	 * what it has before anything can reach it. */
	r->was_primary = rep_read_lastrole(r);
	if (r->was_primary)
		rep_div_prepare(r);

	memset(&o, 0, sizeof(o));
	o.self_eid = r->self_eid;
	o.self_addr = r->self_addr;
	o.port = h->replication_port;
	for (i = 0; i < r->npeers && i < (int)(sizeof(o.peers) /
	    sizeof(o.peers[0])); i++) {
		o.peers[i].eid = r->peers[i].eid;
		util_strlcpy(o.peers[i].addr, r->peers[i].addr,
		    sizeof(o.peers[i].addr));
	}
	o.npeers = i;
	o.secret = h->hmac_key;
	o.tls_ca = h->tls_ca;
	o.tls_cert = h->tls_cert;
	o.tls_key = h->tls_key;
	o.build = build;
	o.max_frame = RT_DEFAULT_MAX_FRAME;
	o.queue_bytes = 32u * 1024 * 1024;
	o.send_timeout_ms = 5000;
	o.bandwidth = h->bandwidth;
	o.on_message = rep_on_message;
	o.on_peer = rep_on_peer;
	o.on_batch = rep_on_batch;
	o.arg = r;
	if ((r->rt = rt_start(&o, err, errlen)) == NULL)
		goto fail_hooks;

	/* Berkeley DB replication itself starts with the first role from
	 * hasvr (rep_set_role): until then this node neither follows a
	 * primary nor logs DB_EVENT_REP_CLIENT, which an admin would read as
	 * "this node was told to be secondary". */
	if ((ret = pthread_create(&r->apply_thr, NULL, rep_apply_main, r)) != 0) {
		snprintf(err, errlen, "cannot start the replication apply "
		    "thread: %s", strerror(ret));
		goto fail_rt;
	}
	r->apply_running = 1;
	log_info("replication ready, waiting for a role from hasvr (eid %d, "
	    "%s, port %d, durability %s, ackTimeout %lldms, %d peer%s)",
	    r->self_eid,
	    r->self_addr, h->replication_port, rep_dur_name(r->dur),
	    r->ack_timeout_ms, r->npeers, r->npeers == 1 ? "" : "s");
	return r;

fail_rt:
	/* detach first: nothing may send through a stopped transport */
	(void)dbenv_set_rep(&s->env, 0, NULL, NULL, NULL, (char[8]){0}, 8);
	rt_stop(r->rt);
	r->rt = NULL;
fail_hooks:
	(void)dbenv_set_rep(&s->env, 0, NULL, NULL, NULL, (char[8]){0}, 8);
fail:
	store_set_commit_hook(s, NULL, NULL, 0);
	rep_free(r);
	return NULL;
}

void
rep_stop(struct rep *r)
{
	struct rep_item *it;

	if (r == NULL)
		return;
	/* committers waiting for acks return first (the client service is
	 * stopped before, so no new one comes) */
	store_set_commit_hook(r->s, NULL, NULL, 0);
	pthread_mutex_lock(&r->mu);
	r->stopping = 1;
	rep_wake(r);
	while (r->waiters > 0)
		pthread_cond_wait(&r->ack_cv, &r->mu);
	pthread_mutex_unlock(&r->mu);

	pthread_mutex_lock(&r->mu);
	r->stop = 1;
	pthread_cond_broadcast(&r->q_cv);
	pthread_cond_broadcast(&r->space_cv);
	pthread_mutex_unlock(&r->mu);
	if (r->apply_running)
		pthread_join(r->apply_thr, NULL);
	/* no send may reach the transport once it is stopped */
	(void)dbenv_set_rep(&r->s->env, 0, NULL, NULL, NULL, (char[8]){0}, 8);
	rt_stop(r->rt);
	while ((it = r->qhead) != NULL) {
		r->qhead = it->next;
		free(it);
	}
	if (r->div != NULL)
		log_info("replication stopped before the divergence check; this "
		    "node's old database stays preserved in %s", r->div->dir);
	rep_free(r);
}

/* "peer 2 127.0.0.2", "any node acting as master", "no node yet". */
static void
rep_follow_name(struct rep *r, uint32_t follow, char *buf, size_t len)
{
	if (follow == HL_PRIMARY_ANY)
		snprintf(buf, len, "any node acting as master");
	else if (follow == HL_PRIMARY_NONE)
		snprintf(buf, len, "no node yet");
	else
		snprintf(buf, len, "peer %u %s", follow,
		    rep_peer_addr(r, (int)follow));
}

int
rep_set_role(struct rep *r, int role, uint32_t epoch, uint32_t primary,
    char *err, size_t errlen)
{
	DB_LOG_STAT *ls = NULL;
	DB_LSN end;
	char who[96];
	int old, i, ret, rc, presume;
	uint32_t was_follow;

	if (role != HL_ROLE_PRIMARY && role != HL_ROLE_SECONDARY &&
	    role != HL_ROLE_NONE) {
		snprintf(err, errlen, "unknown role %d", role);
		return XE_BADREQ;
	}
	if (role == HL_ROLE_SECONDARY && primary != HL_PRIMARY_NONE &&
	    primary != HL_PRIMARY_ANY && (primary == (uint32_t)r->self_eid ||
	    rep_peer_find(r, (int)primary) == NULL)) {
		snprintf(err, errlen, "primary eid %u is not a peer of this "
		    "node", primary);
		return XE_BADREQ;
	}
	if (role == HL_ROLE_PRIMARY)
		primary = HL_PRIMARY_NONE;
	pthread_mutex_lock(&r->role_mu);
	pthread_mutex_lock(&r->mu);
	old = r->role;
	was_follow = r->follow;
	pthread_mutex_unlock(&r->mu);
	if (old == role && (role != HL_ROLE_SECONDARY || was_follow == primary)) {
		pthread_mutex_lock(&r->mu);
		r->epoch = epoch;
		pthread_mutex_unlock(&r->mu);
		pthread_mutex_unlock(&r->role_mu);
		return 0;
	}
	if (old == role) {
		/* a secondary told to follow another primary: take only its
		 * messages from now on, and ask it for what is missing */
		pthread_mutex_lock(&r->mu);
		r->epoch = epoch;
		r->follow = primary;
		r->master_eid = DB_EID_INVALID;
		pthread_mutex_unlock(&r->mu);
		rep_update_readonly(r);
		/* the new primary is followed from now on; the announcement
		 * only hurries the sync-up (a full disk can refuse it, then
		 * rep_retry_after_fault announces again) */
		if (primary != HL_PRIMARY_NONE && (ret = r->env->rep_start(r->env,
		    NULL, DB_REP_CLIENT)) != 0)
			log_warnx("replication: cannot announce this node to its "
			    "new primary: %s; it asks again later",
			    db_strerror(ret));
		pthread_mutex_unlock(&r->role_mu);
		rep_follow_name(r, primary, who, sizeof(who));
		rep_event(r, LOG_LVL_INFO, "following %s (epoch %u)", who, epoch);
		return 0;
	}

	if (role == HL_ROLE_PRIMARY) {
		/* a pending divergence check is settled before this node's log
		 * becomes the reference */
		rep_div_check(r, "at promotion");
		if ((ret = r->env->rep_start(r->env, NULL, DB_REP_MASTER)) != 0) {
			snprintf(err, errlen, "cannot become the replication "
			    "master: %s", db_strerror(ret));
			pthread_mutex_unlock(&r->role_mu);
			return XE_DB;
		}
		if ((rc = store_db_ready(r->s, 1, err, errlen)) != 0) {
			pthread_mutex_unlock(&r->role_mu);
			return rc;
		}
		memset(&end, 0, sizeof(end));
		if (r->env->log_stat(r->env, &ls, 0) == 0) {
			end.file = ls->st_cur_file;
			end.offset = ls->st_cur_offset;
			free(ls);
		}
		pthread_mutex_lock(&r->mu);
		r->role = HL_ROLE_PRIMARY;
		r->epoch = epoch;
		r->follow = HL_PRIMARY_NONE;
		r->was_primary = 1;
		r->master_eid = r->self_eid;
		/* Every peer has to show it has all this node's log. In sync
		 * and strict modes a connected peer is waited for from the
		 * first commit on — it was in sync with the old primary, or
		 * ackTimeout marks it dirty — rather than left out until it
		 * catches up: writes acknowledged in between would live on
		 * this node alone. */
		presume = r->dur != HA_ASYNC && r->sync_on;
		for (i = 0; i < r->npeers; i++) {
			r->peers[i].insync = presume && r->peers[i].up;
			r->peers[i].target = end;
			/* in sync once it has all this node's log */
			r->peers[i].must = end;
			r->peers[i].was_dirty = !r->peers[i].insync;
			memset(&r->peers[i].acked, 0, sizeof(r->peers[i].acked));
			r->peers[i].cursor = r->commits;
		}
		if (rep_lsn_cmp(&end, &r->last_perm) > 0)
			r->last_perm = end;
		rep_wake(r);
		pthread_mutex_unlock(&r->mu);
		(void)rep_write_lastrole(r, role, epoch);
		rep_update_readonly(r);
	} else {
		/* stop writes before the role changes under them */
		pthread_mutex_lock(&r->mu);
		r->role = role;
		r->epoch = epoch;
		r->follow = primary;
		/* a client that already synced stays synced; an old primary
		 * has to sync up with the new one */
		if (old == HL_ROLE_PRIMARY) {
			r->startup_done = 0;
			r->master_eid = DB_EID_INVALID;
		}
		rep_wake(r);
		pthread_mutex_unlock(&r->mu);
		rep_update_readonly(r);
		pthread_mutex_lock(&r->mu);
		i = old == HL_ROLE_PRIMARY || r->was_primary;
		pthread_mutex_unlock(&r->mu);
		if (i)
			rep_div_prepare(r);
		if ((role == HL_ROLE_SECONDARY || old == HL_ROLE_PRIMARY) &&
		    (ret = r->env->rep_start(r->env, NULL, DB_REP_CLIENT)) != 0) {
			snprintf(err, errlen, "cannot become a replication client: "
			    "%s", db_strerror(ret));
			pthread_mutex_unlock(&r->role_mu);
			return XE_DB;
		}
		(void)store_db_ready(r->s, 0, err, errlen);
		(void)rep_write_lastrole(r, role, epoch);
	}
	pthread_mutex_unlock(&r->role_mu);
	rep_event(r, LOG_LVL_NOTICE, "role change %s -> %s, reason: hasvr "
	    "(epoch %u)", rep_role_name(old), rep_role_name(role), epoch);
	if (role == HL_ROLE_SECONDARY) {
		rep_follow_name(r, primary, who, sizeof(who));
		rep_event(r, LOG_LVL_INFO, "following %s (epoch %u)", who, epoch);
	}
	return 0;
}

int
rep_set_sync(struct rep *r, int enable, char *err, size_t errlen)
{
	char changes[HACFG_MAX_NODES][256];
	int was, role, ret, i, n = 0;

	pthread_mutex_lock(&r->role_mu);
	pthread_mutex_lock(&r->mu);
	was = r->sync_on;
	__atomic_store_n(&r->sync_on, enable != 0, __ATOMIC_RELEASE);
	role = r->role;
	/* a peer that stops getting the database is not in sync any more */
	if (!enable && role == HL_ROLE_PRIMARY)
		for (i = 0; i < r->npeers; i++)
			if (rep_peer_dirty(r, &r->peers[i], "database replication "
			    "disabled", changes[n], sizeof(changes[0])))
				n++;
	rep_wake(r);
	pthread_mutex_unlock(&r->mu);
	for (i = 0; i < n; i++)
		rep_event(r, LOG_LVL_WARN, "%s", changes[i]);
	if (was == (enable != 0)) {
		pthread_mutex_unlock(&r->role_mu);
		return 0;
	}
	if (enable && role != HL_ROLE_NONE) {
		/* Berkeley DB's own catch-up: the master announces itself, a
		 * client asks for what it misses */
		ret = r->env->rep_start(r->env, NULL, role == HL_ROLE_PRIMARY ?
		    DB_REP_MASTER : DB_REP_CLIENT);
		if (ret != 0) {
			snprintf(err, errlen, "database replication enabled, but "
			    "restarting it failed: %s", db_strerror(ret));
			pthread_mutex_unlock(&r->role_mu);
			return XE_DB;
		}
	}
	pthread_mutex_unlock(&r->role_mu);
	rep_event(r, LOG_LVL_NOTICE, "database replication %s", enable ?
	    "enabled" : "disabled");
	return 0;
}

static struct hl_lsn
rep_hl_lsn(DB_LSN l)
{
	struct hl_lsn h = { l.file, l.offset };

	return h;
}

void
rep_state(struct rep *r, struct hl_state *out)
{
	DB_REP_STAT *rs = NULL;
	DB_LOG_STAT *ls = NULL;
	DB_LSN cur, mine;
	struct rep_peer *p;
	struct hl_peer *q;
	u_int32_t lg_max = 10 * 1024 * 1024;
	uint32_t gen = 0;
	uint64_t now, ffirst, flast;
	char fwhy[64];
	int startup = 0, i, role, connected = 0, insync = 0, master, fault;

	memset(out, 0, sizeof(*out));
	memset(&cur, 0, sizeof(cur));
	memset(&mine, 0, sizeof(mine));
	if (r->env->rep_stat(r->env, &rs, 0) == 0) {
		gen = rs->st_gen;
		startup = rs->st_startup_complete != 0;
		mine = rs->st_next_lsn;
		free(rs);
	}
	/* The generation of this node's history, for hasvr's elections: a
	 * private environment's client starts over at 0 until it hears its
	 * master, but its log is still of the generation it had. */
	pthread_mutex_lock(&r->mu);
	if (gen > r->gen_max)
		r->gen_max = gen;
	gen = r->gen_max;
	pthread_mutex_unlock(&r->mu);
	if (r->env->log_stat(r->env, &ls, 0) == 0) {
		cur.file = ls->st_cur_file;
		cur.offset = ls->st_cur_offset;
		free(ls);
	}
	(void)r->env->get_lg_max(r->env, &lg_max);
	now = util_now_ms();
	fault = dbenv_write_fault(&r->s->env, &ffirst, &flast, fwhy,
	    sizeof(fwhy)) && now - flast < DBENV_FAULT_GAP_MS;

	pthread_mutex_lock(&r->mu);
	role = r->role;
	master = r->master_eid;
	if (role == HL_ROLE_PRIMARY)
		startup = 1;
	for (i = 0; i < r->npeers; i++) {
		connected += r->peers[i].up;
		insync += r->peers[i].up && rep_peer_insync(r, &r->peers[i]);
	}
	if (connected == 0)
		out->dbstate = HL_DB_ALONE;
	else if (!r->sync_on)
		out->dbstate = HL_DB_DIRTY;
	else if (role == HL_ROLE_PRIMARY)
		out->dbstate = insync == r->npeers ? HL_DB_INSYNC : HL_DB_DIRTY;
	else
		out->dbstate = startup && r->sync_on &&
		    master != DB_EID_INVALID && rep_peer_find(r, master) != NULL &&
		    rep_peer_find(r, master)->up ? HL_DB_INSYNC : HL_DB_DIRTY;
	/* a secondary whose disk refuses writes does not keep up */
	if (fault && role != HL_ROLE_PRIMARY && out->dbstate != HL_DB_ALONE)
		out->dbstate = HL_DB_DIRTY;
	out->role = (uint8_t)role;
	out->epoch = r->epoch;
	out->gen = gen;
	out->lsn = rep_hl_lsn(cur);
	out->startup_done = startup != 0;
	out->durability = r->dur == HA_ASYNC ? HL_DUR_ASYNC : r->dur == HA_SYNC ?
	    HL_DUR_SYNC : HL_DUR_STRICT;
	out->sync_on = r->sync_on != 0;
	out->follow = role == HL_ROLE_SECONDARY ? r->follow : HL_PRIMARY_NONE;
	out->foreign = r->foreign;
	for (i = 0; i < r->npeers && i < HL_MAX_PEERS; i++) {
		p = &r->peers[i];
		q = &out->peers[i];
		q->eid = (uint32_t)p->eid;
		util_strlcpy(q->addr, p->addr, sizeof(q->addr));
		q->up = p->up != 0;
		if (role == HL_ROLE_PRIMARY) {
			q->lsn = q->acked = rep_hl_lsn(p->acked);
			if (r->commits > p->cursor) {
				q->behind_bytes = rep_lsn_bytes(&p->acked, &cur,
				    lg_max);
				q->behind_commits = r->commits - p->cursor;
			}
			q->insync = rep_peer_insync(r, p) != 0;
		} else {
			/* a client sees its primary: how far this node is
			 * behind what the primary sent */
			int is_master = p->eid == master;

			q->lsn = rep_hl_lsn(p->seen);
			if (is_master) {
				q->acked = rep_hl_lsn(r->ack_sent);
				q->behind_bytes = rep_lsn_bytes(&mine, &p->seen,
				    lg_max);
			}
			q->insync = is_master && startup && p->up;
		}
	}
	out->npeers = (uint8_t)i;
	pthread_mutex_unlock(&r->mu);
	if (fault) {
		out->fault = 1;
		out->fault_first_age_ms = now - ffirst;
		out->fault_last_age_ms = now - flast;
		util_strlcpy(out->fault_why, fwhy, sizeof(out->fault_why));
	}
	/* a peer the replication channel refuses: hasvr reports it */
	for (i = 0; i < out->npeers; i++) {
		struct rt_stats st;

		q = &out->peers[i];
		if (rt_peer_up(r->rt, (int)q->eid) ||
		    rt_peer_stats(r->rt, (int)q->eid, &st) != 0 ||
		    st.auth_fail_ms == 0)
			continue;
		q->auth_failed = 1;
		q->auth_age_ms = now - st.auth_fail_ms;
		util_strlcpy(q->auth_why, st.auth_why, sizeof(q->auth_why));
	}
}

void
rep_set_event_sink(struct rep *r, void (*sink)(const char *line, void *arg),
    void *arg)
{
	pthread_mutex_lock(&r->sink_mu);
	r->sink = sink;
	r->sink_arg = arg;
	pthread_mutex_unlock(&r->sink_mu);
}
