/* rep_int.h — what the parts of guisvr's replication share (private to
 * guisvr/rep*.c; the contract is rep.h):
 *   rep.c        start and stop, roles, enabling database replication,
 *                Berkeley DB events, the TLS transport's operations;
 *   repack.c     the write -> ack path: the Berkeley DB send callback,
 *                acknowledgements and each peer's acked/dirty/in-sync
 *                state, the commit wait;
 *   repapply.c   the apply side: the queue, the apply thread, a client's
 *                acks;
 *   repdiverge.c an old primary's history preserved and checked;
 *   repstate.c   the replication state reported to hasvr;
 *   repstall.c   the watch thread: stalls of guisvr, and the arbiter
 *                lease's deadline passing;
 *   replease.c   the arbiter lease (HL_LEASE);
 *   repsyncset.c the synchronous-standby set (HL_SYNCSET).
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
 *   - the ha-link thread: rep_set_role / rep_set_sync / rep_set_lease /
 *     rep_set_syncset / rep_state.
 * r->mu guards the state below and is never held across a Berkeley DB call
 * or a transport send; r->role_mu serializes the calls to DB_ENV->rep_start.
 */
#ifndef GUISVR_REP_INT_H
#define GUISVR_REP_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>

#include <db.h>

#include "hacfg.h"
#include "log.h"
#include "lsn.h"
#include "rep.h"
#include "reptransport.h"
#include "store.h"

/* Commits remembered on the primary to count each peer's behindCommits. */
#define REP_RING 65536
/* A repeated warning (duplicate master, bad message) at most this often. */
#define REP_WARN_EVERY_MS 10000
/* An arbiter lease ends this much before hasvr said: the ha-link's delay
 * (replease.c). */
#define REP_LEASE_SLACK_MS 50
/* What a write is told while a primary's arbiter lease is out. */
#define REP_LEASE_NOACK_MSG "committed on this node, but its arbiter lease " \
	"ran out before the write was acknowledged (is etcd reachable?); it " \
	"may be rolled back"
#define REP_LEASE_READONLY_MSG "this node's arbiter lease ran out (is etcd " \
	"reachable?): it takes no writes until hasvr renews the lease or " \
	"steps it down"
/* What a write is told when a secondary the synchronous-standby set lists
 * did not acknowledge it and no new set dropped it within two
 * ackTimeouts (repsyncset.c). */
#define REP_SYNCSET_NOACK_MSG "committed on the primary, but the " \
	"synchronous-standby record could not be updated in time (is etcd " \
	"reachable?); it may be rolled back"

enum rep_item_kind { REP_IT_MSG, REP_IT_PEER_UP };

/* An entry of the apply queue. */
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
	const struct rep_transport_ops *tops;   /* set by rep_start */
	void *tp;                   /* the transport, for tops */

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
	int role;                   /* enum ha_role */
	uint32_t epoch;
	int was_primary;            /* wrote as primary since the last check */
	int master_eid;             /* from NEWMASTER; DB_EID_INVALID if none */
	uint32_t follow;            /* secondary: the only peer whose messages
				     * it takes (HA_PRIMARY_NONE nobody yet,
				     * HA_PRIMARY_ANY whoever acts as master) */
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

	/* repstall.c, under mu */
	pthread_t stall_thr;
	int stall_running, stall_stop;
	uint64_t stall_beat_ms;     /* the watch thread's last wake */
	uint64_t alone_after_ms;    /* no ack by the primary alone before */
	uint64_t stall_unreported;  /* a stall a committer saw, ms */
	uint64_t stalls;
	uint64_t stall_from_ms;     /* the last stall: the beat before it */
	uint64_t stall_to_ms;       /* and when it was seen */

	/* replease.c, under mu (lease_on also read atomically without) */
	int lease_on;               /* arbiter mode: an HL_LEASE came */
	uint64_t lease_until;       /* util_now_ms: the lease is out from then */
	uint32_t lease_ms;          /* the last HL_LEASE's value */
	uint64_t lease_got_ms;      /* when it came */
	uint64_t lease_from_ms;     /* when it may have been sent: it counts
				     * from then */
	int lease_out;              /* "ran out" said, "renewed" not since */

	/* repsyncset.c, under mu */
	int syncset_on;             /* arbiter sync mode: an HL_SYNCSET came */
	uint8_t syncset;            /* the listed eids: bit eid - 1 */
	uint64_t syncset_warn_ms;   /* "not acknowledged" last said */
	pthread_mutex_t readonly_mu;    /* one rep_update_readonly at a time */
};

static inline int
rep_lsn_cmp(const DB_LSN *a, const DB_LSN *b)
{
	return lsn_cmp(LSN_OF(*a), LSN_OF(*b));
}

static inline int
rep_lsn_zero(const DB_LSN *a)
{
	return lsn_is_zero(LSN_OF(*a));
}

/* ---- rep.c ---------------------------------------------------------------- */
struct rep_peer *rep_peer_find(struct rep *r, int eid);
const char *rep_peer_addr(struct rep *r, int eid);
/* Sends a line to guiDaemon.0 (at the given level) and to the ha-link
 * subscribers. Never called with r->mu held. */
void rep_event(struct rep *r, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* With r->mu held: 1 (and *last_ms set to now) if a warning last given at
 * *last_ms may be given again, at most once per REP_WARN_EVERY_MS. */
int rep_warn_due(uint64_t *last_ms);
/* (Re)announces this node to the group in its current role. */
void rep_announce(struct rep *r);
/* Which writes the store refuses, and why: none on a primary (unless its
 * arbiter lease is out), all elsewhere. Also says the lease's changes
 * (rep_lease_note). Never called with r->mu held. */
void rep_update_readonly(struct rep *r);

/* ---- repstall.c ---------------------------------------------------------- */
/* The watch thread that notices guisvr was stalled (see repstall.c). */
int rep_stall_start(struct rep *r, char *err, size_t errlen);
void rep_stall_stop(struct rep *r);
/* With r->mu held: 0 while a commit may not be acknowledged without a
 * secondary's ack because guisvr was stalled less than ackTimeout ago
 * (r->alone_after_ms); notices a stall the watch thread has not seen. */
int rep_may_ack_alone(struct rep *r, uint64_t now);
/* With r->mu held: the earliest a request guisvr read at at_ms (<= now)
 * may have been sent: at_ms, or when guisvr was last seen running before
 * a stall that ended about then (the request may have waited through
 * it). Notices a stall the watch thread has not seen. */
uint64_t rep_stall_floor(struct rep *r, uint64_t now, uint64_t at_ms);

/* ---- replease.c ---------------------------------------------------------- */
/* With r->mu held: whether the arbiter lease is out (arbiter mode and its
 * deadline passed), whatever the role: no commit is acknowledged then. */
int rep_lease_out(struct rep *r, uint64_t now);
/* Not with r->mu held: 0 if a commit may be acknowledged as far as the
 * lease goes, else XE_NOTREPL with err filled. */
int rep_lease_ack(struct rep *r, char *err, size_t errlen);
/* With r->mu held: 1 if rep_update_readonly has a change of the lease to
 * apply (the watch thread asks at every beat). */
int rep_lease_due(struct rep *r, uint64_t now);
/* With r->mu held, for rep_update_readonly: notes the lease's change since
 * the last call. 1: it ran out on this primary (committers woken), -1: it
 * was renewed after that; line says it (to log once r->mu is released).
 * 0: no change. */
int rep_lease_note(struct rep *r, uint64_t now, char *line, size_t linelen);
/* With r->mu held: ms until the lease runs out, 0 if it did (or none). */
uint32_t rep_lease_left(struct rep *r, uint64_t now);

/* ---- repsyncset.c -------------------------------------------------------- */
/* With r->mu held: of this node's peers, how many the synchronous-standby
 * set lists (*nlisted; 0 outside arbiter sync mode) and how many of those
 * acknowledged lsn (*nacked). */
void rep_syncset_count(struct rep *r, const DB_LSN *lsn, int *nlisted,
    int *nacked);
/* With r->mu held: the listed peers that have not acknowledged lsn, as
 * "2 (10.0.0.2), 3 (10.0.0.3)" into out, for the log. */
void rep_syncset_lacking(struct rep *r, const DB_LSN *lsn, char *out,
    size_t outlen);

/* ---- repack.c ------------------------------------------------------------- */
/* With r->mu held: peers, roles or settings changed; every committer
 * re-examines its wait. */
void rep_wake(struct rep *r);
/* With r->mu held: p is not in sync any more; 1 with line filled to report
 * once r->mu is released, 0 if p was dirty already. */
int rep_peer_dirty(struct rep *r, struct rep_peer *p, const char *reason,
    char *line, size_t linelen);
/* With r->mu held, on the primary: whether p is in sync. */
int rep_peer_insync(struct rep *r, const struct rep_peer *p);
/* An RT_ACK from eid (I/O thread). */
void rep_ack_received(struct rep *r, int eid, const DB_LSN *lsn);
/* The transport's on_peer callback (I/O thread). */
void rep_on_peer(int eid, int up, void *arg);
/* The DB_ENV transport callback (dbenv_set_rep). */
int rep_send(void *arg, const DBT *ctrl, const DBT *rec, const DB_LSN *lsnp,
    int eid, u_int32_t flags);
/* The store's commit hook: rep_commit_wait. */
int rep_commit_hook(void *arg, char *err, size_t errlen);

/* ---- repapply.c ----------------------------------------------------------- */
/* The transport's on_message and on_batch callbacks (I/O thread). */
void rep_on_message(const struct rt_msg *m, void *arg);
void rep_on_batch(void *arg);
/* Queues a "peer eid's link came up" for the apply thread. */
void rep_enqueue_peer_up(struct rep *r, int eid);
void *rep_apply_main(void *arg);
/* Frees what is left in the queue (the apply thread has stopped). */
void rep_queue_free(struct rep *r);

/* ---- repdiverge.c --------------------------------------------------------- */
void rep_div_free(struct rep_div *d);
/* Before an old primary becomes a client: copy its environment aside and
 * remember its last commits. Called with role_mu held. */
void rep_div_prepare(struct rep *r);
/* After the sync-up (or at promotion): count the commits the sync-up
 * removed, if any. */
void rep_div_check(struct rep *r, const char *when);

#endif
