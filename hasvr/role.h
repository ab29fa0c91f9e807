/* role.h — hasvr's role decisions: who is primary, when to fail over, when
 * to step down. A pure, deterministic core: no sockets, no timers, no clock.
 * The daemon feeds it what it hears (heartbeats, the local database state,
 * the pingable IP, admin requests) with the current CLOCK_MONOTONIC time in
 * milliseconds, asks role_tick what to do, applies that (tells guisvr over
 * the ha-link) and then calls role_commit, which persists the epoch and the
 * role and logs the transition once:
 *
 *     role change SECONDARY -> PRIMARY, reason: …
 *
 * Terms.
 *   epoch   the number of a primary's term. A node's epoch is the term it is
 *           in: as primary its own, as secondary its primary's. A new primary
 *           always takes max(every epoch this node has seen, its own) + 1.
 *   live    a peer heard within deadInterval (now - last heard < deadInterval).
 *   ready   a node's database is usable as a primary: either it is not
 *           syncing from anyone in this run (it starts from what is on disk,
 *           or was primary), or its startup sync has finished
 *           (DB_EVENT_REP_STARTUPDONE). Heartbeats carry it as startup_done.
 *   able    ready, its database server (guisvr) reporting, and its
 *           pingable IP answering: the only nodes that may become primary
 *           on their own (isolated nodes never promote).
 *
 * Candidate order (who should be primary), best first:
 *   1. higher epoch (it knows the most recent term),
 *   2. more up-to-date database: higher replication generation, then higher
 *      LSN (file, then offset),
 *   3. better configured preference (lower rank: 0 primaryAddr,
 *      1 secondaryAddr, 2 replicas),
 *   4. lower eid.
 *
 * Rules, in the order role_tick applies them.
 *   PRIMARY
 *   - Two primaries: a live peer that also claims PRIMARY wins on higher
 *     epoch; on equal epochs the better preference wins, then the lower eid.
 *     The loser becomes SECONDARY of the winner ("two primaries: peer E has
 *     epoch N"); guisvr preserves its diverged data.
 *   - Fault (role_local_fault): become SECONDARY and hand over, as in a
 *     switchover, to the best live, able, in-sync secondary; none: stay.
 *   - Switchover accepted by role_request_switchover: become SECONDARY and
 *     name the target as successor in the heartbeat (role_advertise's
 *     handoff_eid) for deadInterval; the target promotes once it has caught
 *     up with our LSN.
 *   - Isolated: no peer heard for deadInterval AND the pingable IP
 *     unreachable (or never reported) for deadInterval: step down to
 *     SECONDARY, so an isolated primary never lives on beside a new one.
 *     Except a primary made by a forced promote while the pingable IP was
 *     down (the admin chose it): it stays until the pingable IP answers
 *     once; from then on the rule applies again.
 *   STARTING and SECONDARY
 *   - Promote accepted by role_request_promote: become PRIMARY.
 *   - A live peer claims PRIMARY (the best one if several): follow it
 *     (STARTING -> SECONDARY, or, when already secondary of another primary
 *     or epoch, ROLE_ACT_FOLLOW which is not a role change).
 *   - No live primary, and a live peer handed over to us: become PRIMARY
 *     when able and our (generation, LSN) has reached the peer's; a handoff
 *     to another node makes us wait for it.
 *   - STARTING waits until startWait has passed since role_new or every
 *     configured peer is live, whichever comes first. A node that served
 *     before (its state file holds an epoch above 0) waits instead until it
 *     has heard every configured peer once, however long: alone it cannot
 *     know whether a peer that is down took over meanwhile and holds
 *     acknowledged writes it lacks (corosync's wait_for_all). A live
 *     primary is followed at once; haCtl promote starts it alone.
 *   - A failover (the primary followed went silent) needs a pingable IP
 *     check sent after that primary was last heard: an answer from before
 *     may predate a cut of this node's own link (role_pingable's time is
 *     when the ping was sent); the decision asks for one (want_ping).
 *   - Election: the best of the able nodes among ourselves and the live
 *     non-primary peers becomes PRIMARY — once every live peer votes for
 *     it (below); with several secondaries only the most up-to-date live
 *     one promotes and the others follow it once they hear it. A secondary
 *     that followed a primary therefore promotes only after that primary
 *     was silent for deadInterval, with startup done and the pingable IP
 *     answering. A STARTING node that does not win becomes SECONDARY and
 *     keeps electing.
 *   - A configured peer that is not live but whose heartbeats keep arriving
 *     and fail authentication or decoding (another highAvail.HMACKey,
 *     another build's format, the wrong node at that address) is present,
 *     only not understood: no election promotes this node while such
 *     packets arrived within deadInterval. A misconfigured node must never
 *     lead to two primaries; the price is that a forger able to send from a
 *     dead peer's address can hold a failover back (haCtl promote --force
 *     still works), which the daemon reports.
 *
 * Acknowledged writes (sync and strict durability, role_config.keep_acked).
 *   A primary's heartbeat names the secondaries that hold every write it
 *   acknowledged (its in-sync set). A secondary its primary left out —
 *   dirty, catching up after a restart, cut off for ackTimeout — lacks
 *   writes that primary acknowledged to a writer; were it to take over,
 *   they would be rolled back. So it is not able: it does not promote by
 *   itself when that primary goes silent, and promote needs force. It is
 *   able again once a primary's heartbeat lists it (it caught up), or a
 *   primary that replaced the old one leads it. haStatus says so
 *   (lacks-writes). Gap: a primary that marks a secondary dirty and dies
 *   before its next heartbeat (heartbeatInterval) is not seen doing so.
 *   And no election is won by a node that holds less than a live node
 *   which cannot stand right now (its pingable IP or its database server
 *   not answering yet): that node holds writes the winner lacks, and they
 *   would be rolled back; the election waits until it can stand.
 *
 * Arbiter (highAvail.arbiter etcd, role_arbiter). The rules above still
 * choose whom the nodes want as primary, but the leader key in etcd
 * decides: a node becomes PRIMARY only while it holds the key under a
 * live lease (held); a decision to promote without it asks for the key
 * instead (role_decision.want_leader) and waits; a node that holds it
 * becomes PRIMARY; a PRIMARY that no longer holds it — another node took
 * it, or its lease may have run out while etcd did not answer — steps
 * down at once.
 *
 * Votes. Each heartbeat carries the node its sender would have as primary
 * now (vote_eid): itself as primary, the live primary it follows, a
 * switchover's successor, or the best able node of an election; 0 when no
 * node is able. A node that starts voting for itself begins a new candidacy
 * round (vote_round; its first value comes from role_config.round_seed, so
 * it differs across restarts), and a vote for another node carries that
 * node's round as last heard. An election winner promotes only when every
 * live peer's latest heartbeat votes for it in its current round: each
 * voter saw it stand, and ranks it best. Two candidates cannot both collect
 * the other's vote (each votes for itself), and a vote cast before a
 * candidacy began cannot count, so two nodes deciding on stale views — a
 * peer's generation or LSN a heartbeat old — cannot both promote. A node
 * that decided keeps its vote until its database server took the role.
 *   Builds: a live peer whose software build differs from ours is reported in
 *   every decision (sync_refused, mismatch_eid): the daemon turns database
 *   sync off (HL_SYNC 0) and reports it. Such a peer still takes part in the
 *   election (one primary matters more), but a secondary that cannot sync
 *   never gets startup done and so never promotes itself.
 *
 * The state file (written with lib/atomicfile, mode 0600) holds exactly
 *     epoch N
 *     role primary|secondary
 */
#ifndef HASVR_ROLE_H
#define HASVR_ROLE_H

#include <stddef.h>
#include <stdint.h>

#include "harole.h"

#define ROLE_MAX_NODES  8
#define ROLE_REASONLEN  256

/* A node's role is an enum ha_role (harole.h): HA_ROLE_STARTING while it
 * waits for peers (startWait, no writes), then HA_ROLE_SECONDARY or
 * HA_ROLE_PRIMARY; never HA_ROLE_STANDALONE here. */

struct role_lsn {
	uint32_t file, offset;
};

struct role_node {
	int eid;                /* 1-based, the same on every node */
	int pref;               /* preference rank, lower wins: 0 primaryAddr,
				 * 1 secondaryAddr, 2 replicas */
};

struct role_config {
	struct role_node nodes[ROLE_MAX_NODES];  /* every node, this one too */
	int nnodes;
	int self;               /* index of this node in nodes */
	uint64_t dead_ms;       /* deadInterval: a silent peer is dead */
	uint64_t start_wait_ms; /* startWait: the longest wait for peers */
	uint32_t round_seed;    /* first candidacy round (random per start) */
	int keep_acked;         /* sync and strict: a secondary its primary
				 * left out of the in-sync set never takes
				 * over by itself (see Acknowledged writes) */
	const char *state_path; /* epoch and last role (copied) */
	/* writes the state file's new content; NULL: atomicfile_write here
	 * (0600). 0, or -1 with err. hasvr's writes from a thread of its own
	 * (statewriter.h) so that a slow disk never delays a heartbeat. */
	int (*persist)(const char *path, const char *buf, size_t len,
	    char *err, size_t errlen, void *arg);
	void *persist_arg;
};

/* What a heartbeat says about a node; role_advertise fills it for this one. */
struct role_peer_info {
	enum ha_role role;
	uint32_t epoch;
	uint32_t gen;           /* Berkeley DB replication generation */
	struct role_lsn lsn;    /* end of its log */
	int build_match;        /* same software build as ours (receiver sets it) */
	int startup_done;       /* ready: see above (role_db_ready) */
	int pingable;           /* its pingable IP answers */
	int handoff_eid;        /* a stepped-down primary's successor, or 0 */
	int vote_eid;           /* who it would have as primary, or 0 */
	uint32_t vote_round;    /* that node's candidacy round as it saw it */
	int insync;             /* its database has every acknowledged write
				 * (receiver sets it: the primary's own view,
				 * else what the peer says of itself) */
	int arbiter_ok;         /* arbiter mode: etcd answers it */
	unsigned insync_set;    /* a primary's: the secondaries that have
				 * every write it acknowledged, bit eid-1 */
};

enum role_action {
	ROLE_ACT_NONE = 0,
	ROLE_ACT_PRIMARY,       /* become primary with epoch */
	ROLE_ACT_SECONDARY,     /* become secondary (of primary_eid, if not 0) */
	ROLE_ACT_STEPDOWN,      /* isolated primary: become secondary, no primary */
	ROLE_ACT_FOLLOW,        /* stay secondary, follow a new primary/epoch */
};

struct role_decision {
	enum role_action action;
	enum ha_role from, to;
	uint32_t epoch;         /* PRIMARY: the new epoch; else the term followed */
	int primary_eid;        /* the primary to follow, 0 none (or us) */
	int handoff_eid;        /* switchover: the successor we hand over to */
	int want_leader;        /* arbiter mode: this node is, or would become,
				 * primary, so it wants the leader key */
	int want_ping;          /* a failover waits for a pingable IP check
				 * sent after the primary was last heard */
	int sync_refused;       /* a live peer runs another build: no DB sync */
	int mismatch_eid;       /* the first such peer */
	char reason[ROLE_REASONLEN];
};

struct role_ctx;

/* Reads the state file (missing: epoch 0, never had a role). NULL with err
 * filled on a corrupt state file or a bad config. now starts startWait. */
struct role_ctx *role_new(const struct role_config *cfg, uint64_t now_ms,
    char *err, size_t errlen);
void role_free(struct role_ctx *ctx);

/* 1 loaded, 0 no file (epoch 0, last role STARTING), -1 with err filled when
 * the file cannot be read or is not exactly the two lines above. */
int role_load(const char *path, uint32_t *epoch, enum ha_role *last,
    char *err, size_t errlen);

/* Inputs. role_peer_heard: an authenticated heartbeat from eid; -1 (err
 * filled) for an eid that is not a configured peer or an unknown role.
 * role_local_db: this node's database (from guisvr's HL_R_STATE; call on
 * every poll). role_pingable: the latest ping result. Feed both before the
 * first role_tick: until then gen/LSN are 0 and the pingable IP counts as
 * unreachable. */
int role_peer_heard(struct role_ctx *ctx, int eid, uint64_t now_ms,
    const struct role_peer_info *pi, char *err, size_t errlen);
void role_local_db(struct role_ctx *ctx, uint32_t gen, struct role_lsn lsn,
    int startup_done);
/* guisvr does not report (not running, ha-link down): this node is not
 * able and does not rank itself by a position it cannot see (role.h,
 * Votes): before its first report it votes for nobody; later by its last
 * report, for nobody if that is ahead of the best able node. */
void role_local_db_lost(struct role_ctx *ctx);
/* This node's database server cannot serve (the disk refuses writes, it
 * cannot stay up): why, or NULL when it can. Such a node is not able; a
 * primary hands the role to a live in-sync secondary if there is one
 * (see PRIMARY, Fault), else it stays and the daemon reports it. */
void role_local_fault(struct role_ctx *ctx, const char *why);
/* Arbiter mode: on, who holds the leader key (0 nobody, -1 unknown), and
 * whether this node holds it under a live lease. Feed before role_tick. */
void role_arbiter(struct role_ctx *ctx, int on, int leader_eid, int held);
/* The primary this secondary follows left it out of its in-sync set: the
 * eid of that primary, or 0 (see Acknowledged writes). */
int role_lacks_acked(const struct role_ctx *ctx);
/* 1 while this node is a faulty primary with no secondary to hand over to. */
int role_fault_stays(const struct role_ctx *ctx, uint64_t now_ms);
/* A datagram from eid's address that failed authentication or decoding
 * (see "present, only not understood" above). */
void role_peer_unauth(struct role_ctx *ctx, int eid, uint64_t now_ms);
/* 1 while such datagrams arrived from eid within deadInterval and no valid
 * heartbeat did. */
int role_peer_unauth_present(const struct role_ctx *ctx, int eid,
    uint64_t now_ms);
void role_pingable(struct role_ctx *ctx, int reachable, uint64_t now_ms);

/* Admin requests. Return 1 accepted (acted on by the next role_tick), 0
 * refused; msg says what will happen or why not and what to do.
 * switchover (on the primary, both alive): target_eid 0 picks the best
 * able live secondary. promote (on a secondary, primary dead): refused
 * while a primary's heartbeat is alive, before startup done or with the
 * pingable IP down, unless force. */
int role_request_switchover(struct role_ctx *ctx, int target_eid,
    uint64_t now_ms, char *msg, size_t msglen);
int role_request_promote(struct role_ctx *ctx, int force, uint64_t now_ms,
    char *msg, size_t msglen);

/* Updates this node's vote, then gives the transition to make now
 * (out->action NONE: nothing). Changes nothing else: calling it twice gives
 * the same answer. */
void role_tick(struct role_ctx *ctx, uint64_t now_ms,
    struct role_decision *out);
/* After applying d: update the state, persist epoch and role atomically and
 * log the transition once (log_notice; FOLLOW logs at info). The state is
 * updated even when the file cannot be written (guisvr already has the
 * role); then -1 with err filled, which the daemon must report. */
int role_commit(struct role_ctx *ctx, const struct role_decision *d,
    uint64_t now_ms, char *err, size_t errlen);

/* This node as its heartbeat should describe it (build_match set to 1). */
void role_advertise(const struct role_ctx *ctx, uint64_t now_ms,
    struct role_peer_info *out);
enum ha_role role_current(const struct role_ctx *ctx);
/* 1 when nothing is about to change: a primary, or a secondary with a live
 * primary, and no switchover or promote under way. Otherwise the daemon
 * reads guisvr's position every tick. */
int role_settled(const struct role_ctx *ctx, uint64_t now_ms);
/* 1 while this node is STARTING, served before, and has not heard every
 * configured peer yet (see STARTING above). */
int role_waits_for_all(const struct role_ctx *ctx);
/* A STARTING node that served before does not follow a live primary of a
 * lower epoch: that node started without it (alone, as a new install)
 * and following it would replace this node's history. The eid of such a
 * primary, or 0. The admin decides: haCtl promote --force here, or
 * haCtl resync here (after which role_history_gone lets it follow). */
int role_stale_primary(const struct role_ctx *ctx, uint64_t now_ms);
void role_history_gone(struct role_ctx *ctx);
/* The primary this node follows, 0 none (or this node is primary). */
int role_primary_eid(const struct role_ctx *ctx);
uint32_t role_epoch(const struct role_ctx *ctx);
/* The successor of an accepted switchover (requested or handed off), 0. */
int role_switch_target(const struct role_ctx *ctx);
int role_db_ready(const struct role_ctx *ctx);

#endif
