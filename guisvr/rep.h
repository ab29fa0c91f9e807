/* rep.h — Berkeley DB replication for guisvr, with the Base Replication API
 * (rep_set_transport, rep_start, rep_process_message) over reptransport.
 *
 * Roles come from hasvr over the ha-link: rep_start(DB_REP_MASTER) on the
 * primary, DB_REP_CLIENT elsewhere; Berkeley DB elections are never used.
 * Until a role arrives replication is not started: the node refuses
 * writes and applies no replication message.
 *
 * Durability (highAvail.durability):
 *   async   commits do not wait for secondaries;
 *   sync    a commit waits up to highAvail.ackTimeout for every in-sync
 *           secondary to acknowledge it durable; a secondary that does not
 *           is marked dirty and writes go on;
 *   strict  a commit not acknowledged by a secondary in time is reported
 *           to the writer as XE_NOTREPL (committed on the primary only).
 * In every mode the primary commits with DB_TXN_NOSYNC and then flushes its
 * log (when guiSvr.txnSync is sync), then, in sync/strict, waits for the
 * ack; secondaries apply with DB_TXN_NOSYNC, flush once per batch of
 * applied messages and acknowledge the highest DB_REP_ISPERM LSN — so a
 * group of commits costs one fsync on each side.
 *
 * Arbiter mode (replease.c): once hasvr sends an arbiter lease, a primary
 * whose lease ran out refuses writes and reports every commit as not
 * replicated until the lease is renewed; without one nothing changes.
 * Arbiter sync mode (repsyncset.c): once hasvr sends the
 * synchronous-standby set, no commit is acknowledged that a listed
 * secondary lacks (sync), or without a listed secondary's ack (strict).
 *
 * A node whose history diverged (it wrote as primary what the new primary
 * never got) is not silently rolled back: its environment is copied aside to
 * var/xdb/diverged-<time>/ first, the number of transactions lost to the
 * rollback is logged, and it then re-syncs from the primary. */
#ifndef GUISVR_REP_H
#define GUISVR_REP_H

#include <stddef.h>
#include <stdint.h>
#include "hacfg.h"
#include "store.h"

struct rep;

/* Sets up replication on an environment that dbenv_open opened with
 * DB_INIT_REP (see dbenv_opts.replication), starts the transport and the
 * apply thread, and starts as a client. xdb_dir is var/xdb (for diverged-*
 * copies). */
struct rep *rep_start(struct store *s, const struct hacfg *h, const char *xdb_dir,
    const char *build, char *err, size_t errlen);
void rep_stop(struct rep *r);

/* What replication needs of the channel to its peers. rep_start uses
 * rep_transport_tls (reptransport.h); rep_start_transport takes another
 * one, a test's fake say, and is otherwise the same. */
struct rt_opts;
struct rt_msg;
struct rt_stats;
struct rep_transport_ops {
	/* Starts the channel to o's peers; what arrives is handed to o's
	 * callbacks (on_message, on_peer, on_batch, with o->arg). The
	 * channel, or NULL with err filled. */
	void *(*start)(const struct rt_opts *o, char *err, size_t errlen);
	/* No callback runs once it returns. */
	void (*stop)(void *t);
	/* rt_send, rt_peer_up and rt_peer_stats. */
	int (*send)(void *t, int eid, const struct rt_msg *m);
	int (*peer_up)(void *t, int eid);
	int (*peer_stats)(void *t, int eid, struct rt_stats *st);
};
extern const struct rep_transport_ops rep_transport_tls;
struct rep *rep_start_transport(const struct rep_transport_ops *tops,
    struct store *s, const struct hacfg *h, const char *xdb_dir,
    const char *build, char *err, size_t errlen);
/* Role change from the ha-link: role and epoch, and for a secondary the
 * eid of the only peer whose replication messages it applies
 * (HA_PRIMARY_NONE: nobody yet, HA_PRIMARY_ANY: whoever acts as master).
 * Replication starts with the first role. 0 or an xe_code with err. */
int rep_set_role(struct rep *r, int role, uint32_t epoch, uint32_t primary,
    char *err, size_t errlen);
/* Enable/disable database replication (MISSION row 22). */
int rep_set_sync(struct rep *r, int enable, char *err, size_t errlen);
/* The arbiter lease (HL_LEASE, replease.c): the primary role is certainly
 * this node's for ms milliseconds from sent_ms (util_now_ms's clock: the
 * earliest hasvr may have sent it; now or before), 0: not any more. The
 * first one turns arbiter mode on until guisvr stops; from then on a
 * primary whose lease ran out refuses writes and acknowledges none.
 * Called by the ha-link thread only. */
void rep_set_lease(struct rep *r, uint32_t ms, uint64_t sent_ms);
/* The synchronous-standby set (HL_SYNCSET, repsyncset.c): bit eid - 1 of
 * mask set = eid is listed in etcd's synchronous-standby record. The
 * first one turns arbiter sync mode on until guisvr stops; from then on
 * a primary acknowledges no commit a listed secondary lacks, and a
 * commit that waits for one is woken by a new set. Called by the ha-link
 * thread only. */
void rep_set_syncset(struct rep *r, uint8_t mask);
/* The replication state for the ha-link (HL_R_STATE, lib/hlstate.h). */
struct hl_state;
void rep_state(struct rep *r, struct hl_state *out);
/* Called by the store after each write transaction commits (worker
 * thread): waits for acknowledgements per the durability mode. Returns 0,
 * or XE_NOTREPL (strict; or the arbiter lease is out; or a secondary the
 * synchronous-standby set lists lacks it) with err filled. */
int rep_commit_wait(struct rep *r, char *err, size_t errlen);
/* Event sink: every line goes to guiDaemon.0 and to ha-link subscribers. */
void rep_set_event_sink(struct rep *r, void (*sink)(const char *line, void *arg), void *arg);

#endif
