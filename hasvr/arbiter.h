/* arbiter.h — roles arbitrated by etcd (highAvail.arbiter etcd).
 *
 * A thread of its own talks to etcd (lib/etcd.h) so that a slow or
 * unreachable etcd never delays a heartbeat or a role tick. Keys, under
 * highAvail.etcdPrefix (P):
 *
 *   P/leader        "EID": the node that may be primary, under that node's
 *                   lease. Taken only if absent (a compare-and-swap on
 *                   create revision 0), or re-bound to a new lease of the
 *                   same node after a restart (compare value = "EID").
 *   P/members/EID   what the node says of itself (a JSON object: addr,
 *                   role, epoch, gen, lsn), under its lease, for haStatus
 *                   and for admins reading etcd.
 *   P/sync          the synchronous-standby record, {"leader":E,
 *                   "sync":[EID,...]}: the secondaries that hold every
 *                   write the leader acknowledged. No lease: it outlives
 *                   its writer. Only the leader writes it (sync and strict
 *                   durability), before guisvr may acknowledge without a
 *                   secondary (it drops one) and after guisvr waits for one
 *                   again (it adds one). A node takes a free leader key
 *                   only if the record lists it, names it as leader, or
 *                   does not exist (a new group): a secondary the record
 *                   leaves out may lack acknowledged writes.
 *
 * Every leaderTTL/3 the thread renews its lease (granting a new one when
 * it is gone), writes its member key, reads the leader key and, when the
 * hub wants the primary role, tries to take it; when the hub does not
 * want it, it releases a key it holds. What it learns is published as a
 * struct arbiter_view; each change writes a byte to notify_fd, which the
 * hub's event loop reads to run the role tick at once.
 *
 * The lease's safe end. A keepalive (or grant) sent at time t0 that etcd
 * answers with TTL T means the lease lives on etcd at least until t0 + T
 * by etcd's clock. This node counts it as valid until
 *     t0 + T × (1 - ARBITER_DRIFT) - ARBITER_MARGIN_MS
 * on its CLOCK_MONOTONIC (a margin for clock rate drift and for the
 * ha-link's delay), and only while the renewal that gave it was answered.
 * The hub steps down and tells guisvr to stop writes by that time. */
#ifndef HASVR_ARBITER_H
#define HASVR_ARBITER_H

#include <stdint.h>

#include "hacfg.h"

#define ARBITER_DRIFT 0.05           /* 5% for clock rate differences */
#define ARBITER_MARGIN_MS 100

struct arbiter;

struct arbiter_view {
	int reachable;          /* the last round reached etcd */
	int leader_eid;         /* who holds P/leader: 0 nobody, -1 unknown */
	int held;               /* this node holds it under its own lease */
	uint64_t valid_until;   /* CLOCK_MONOTONIC ms: this node's lease is
				 * certainly alive until then (0: no lease) */
	int ttl_s;              /* the lease's TTL as granted */
	uint64_t at_ms;         /* when this view was made */
	uint64_t rounds;        /* rounds done */
	int sync_on;            /* the record is kept (sync, strict) */
	int rec_present;        /* P/sync exists */
	int rec_leader;         /* its leader */
	unsigned rec_mask;      /* its secondaries, bit eid-1 */
	int eligible;           /* this node may take a free leader key */
	int sync_written;       /* this leader wrote the record this term */
	unsigned sync_mask;     /* ... listing these */
	char endpoint[256];     /* the endpoint that answered last */
	char error[512];        /* the last round's error, "" if none */
};

/* What this node says of itself in P/members/EID. */
struct arbiter_member {
	int role;               /* enum ha_role */
	uint32_t epoch, gen, lsn_file, lsn_offset;
};

/* Starts the thread. notify_fd (non-blocking, the write end of a pipe)
 * gets a byte at each change of the view. NULL with err filled. */
struct arbiter *arbiter_start(const struct hacfg *hc, int notify_fd,
    char *err, size_t errlen);
/* Stops the thread; a leader key this node holds is released (the lease
 * is revoked), so another node may take it at once. */
void arbiter_stop(struct arbiter *a);
/* The hub wants this node to be (or stay) primary: the thread takes the
 * leader key when it is free; 0: it releases it if held. */
void arbiter_want_leader(struct arbiter *a, int want);
void arbiter_publish(struct arbiter *a, const struct arbiter_member *m);
/* The leader's wish for P/sync: the secondaries guisvr waits for (bit
 * eid-1); written by the thread while this node holds the key. */
void arbiter_want_sync(struct arbiter *a, unsigned mask);
void arbiter_snapshot(struct arbiter *a, struct arbiter_view *out);
/* 1 while this node holds the leader key and its lease is certainly
 * alive at now (CLOCK_MONOTONIC ms). */
int arbiter_view_holds(const struct arbiter_view *v, uint64_t now);

#endif
