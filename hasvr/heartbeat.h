/* heartbeat.h — the UDP heartbeat between hasvr nodes: packet format,
 * authentication, replay protection, counters and rate-limited logging.
 *
 * Every highAvail.heartbeatInterval each node sends one datagram to each
 * peer. Layout, version 2, all integers big-endian, fixed size HB_LEN:
 *
 *   off len
 *     0   4  magic "HAHB"
 *     4   1  version (1)
 *     5   1  role (enum ha_role)
 *     6   1  database state (enum hb_dbstate)
 *     7   1  in-sync set: a primary's secondaries that hold every write
 *              it acknowledged, bit eid-1 (eids 1..8); 0 from others
 *     8   4  flags (HB_F_*; unknown bits must be 0)
 *    12   4  sender eid (1-based, as in lib/hacfg.h)
 *    16   8  epoch
 *    24   8  boot id (random, chosen at process start, never 0)
 *    32   8  sequence number (1, 2, … per boot id)
 *    40   8  echo boot id: the receiver's boot id, as last seen by the sender
 *    48   8  echo seq: the receiver's seq, as last seen by the sender
 *    56   4  database generation
 *    60   4  LSN file
 *    64   4  LSN offset
 *    68   4  handoff eid: a stepped-down primary's successor, or 0
 *    72   4  vote eid: the node the sender would have as primary, or 0
 *    76   4  vote round: that node's candidacy round, as the sender saw it
 *              (role.h: a candidate counts a vote only for its current
 *              round, so a vote cast before it stood does not count)
 *    80  32  config checksum (heartbeat_cfg_checksum)
 *   112  64  software build, printable ASCII, NUL-padded (no NUL needed at 64)
 *   176  32  HMAC-SHA256 over bytes 0..175
 *   208      end
 *
 * The HMAC key is derived from highAvail.HMACKey with HKDF (label
 * HB_KEY_LABEL), so it differs from the replication key. Magic and version
 * only choose the layout; no other field is read before the tag matches.
 *
 * Freshness. Sequence numbers stop replays within one boot of the peer, and
 * the last HB_OLD_BOOTS boot ids stop replays of earlier boots. That leaves
 * packets of a boot we never saw (captured before we started) or have
 * forgotten: replayed while the real peer is dead they would keep it
 * "alive" and block a failover. So every packet echoes the last (boot id,
 * seq) its sender saw from the receiver, and a peer's new boot id is taken
 * only when its packet echoes our current boot id with an echo seq above
 * any echoed before — proof that it was made after we sent that seq. No
 * clocks are compared. After either side restarts this costs one round
 * trip, during which the peer's packets are HB_REJ_STALE. */
#ifndef HASVR_HEARTBEAT_H
#define HASVR_HEARTBEAT_H

#include <stddef.h>
#include <stdint.h>

#include "harole.h"

struct cfg;

#define HB_MAGIC "HAHB"
#define HB_VERSION 2
#define HB_LEN 208
#define HB_MAX_LEN 512          /* no version may send more */
#define HB_KEY_LEN 32
#define HB_SUM_LEN 32
#define HB_TAG_LEN 32
#define HB_BUILD_LEN 64
#define HB_KEY_LABEL "hasvr heartbeat v1"
#define HB_OLD_BOOTS 16         /* earlier boot ids remembered per peer */
#define HB_LOG_EVERY_MS 10000   /* one log line per reason per peer */

enum hb_dbstate { HB_DB_UNKNOWN = 0, HB_DB_INSYNC = 1, HB_DB_DIRTY = 2, HB_DB_ALONE = 3 };

#define HB_F_HASYNC     0x01    /* HA sync enabled */
#define HB_F_DBSYNC     0x02    /* database sync enabled */
#define HB_F_STARTUP    0x04    /* replication startup done */
#define HB_F_PINGABLE   0x08    /* the pingable IP answers */
#define HB_F_SVRUP      0x10    /* guisvr (highAvailSvr) runs and is linked */
#define HB_F_ARBITER    0x20    /* arbiter mode: etcd answers this node */
#define HB_F_ALL        0x3f

enum hb_reject {
	HB_OK = 0,
	HB_REJ_SHORT,           /* shorter than its version's layout */
	HB_REJ_SIZE,            /* longer than its version's layout */
	HB_REJ_MAGIC,           /* not a heartbeat */
	HB_REJ_VERSION,         /* a version this build does not speak */
	HB_REJ_MAC,             /* forged, corrupted or another key */
	HB_REJ_MALFORMED,       /* authentic, but a field is out of range */
	HB_REJ_EID,             /* sender eid is not the one at that address */
	HB_REJ_REPLAY,          /* (boot id, seq) already seen or older */
	HB_REJ_STALE,           /* new boot id not proven fresh (see above) */
	HB_REJ_NREASONS
};

struct hb_msg {
	uint8_t version;        /* filled by decode; encode writes HB_VERSION */
	uint8_t role;           /* enum ha_role */
	uint8_t dbstate;        /* enum hb_dbstate */
	uint8_t insync_set;     /* a primary's in-sync secondaries, bit eid-1 */
	uint32_t flags;         /* HB_F_* */
	uint32_t eid;
	uint64_t epoch;
	uint64_t boot_id;
	uint64_t seq;
	uint64_t echo_boot_id;
	uint64_t echo_seq;
	uint32_t db_gen;
	uint32_t lsn_file;
	uint32_t lsn_offset;
	uint32_t handoff_eid;
	uint32_t vote_eid;
	uint32_t vote_round;
	unsigned char cfg_sum[HB_SUM_LEN];
	char build[HB_BUILD_LEN + 1];
};

/* This node's sending side: one boot id per process, one seq counter
 * shared by all peers. */
struct hb_sender {
	uint64_t boot_id;
	uint64_t seq;           /* last seq sent */
};

/* What we know of one peer (one source address). */
struct hb_peer_state {
	uint32_t eid;           /* expected sender eid at this address */
	const struct hb_sender *self;
	int have;               /* boot_id/seq hold an accepted packet */
	uint64_t boot_id, seq;  /* last accepted */
	uint64_t last_ms;       /* when it was accepted */
	uint64_t old_boots[HB_OLD_BOOTS];
	int nold, oldpos;
	uint64_t echo_max;      /* highest echo of our seq taken from the peer */
	uint64_t seen_boot_id, seen_seq;  /* echoed back to the peer */
};

struct hb_counters {
	uint64_t received;
	uint64_t accepted;
	uint64_t rejected_malformed;   /* SHORT SIZE MAGIC VERSION MALFORMED */
	uint64_t rejected_mac;
	uint64_t rejected_eid;
	uint64_t rejected_replay;
	uint64_t rejected_stale;
};

/* Per peer address: when each reason was last logged, and how many lines
 * were held back since. */
struct hb_ratelimit {
	uint64_t last_ms[HB_REJ_NREASONS];
	uint64_t suppressed[HB_REJ_NREASONS];
	int logged[HB_REJ_NREASONS];
};

/* "short", "mac", … for counters and status; "unknown" out of range. */
const char *heartbeat_reject_name(int reason);
/* The same for people: "bad HMAC", "another heartbeat version", … */
const char *heartbeat_reject_words(int reason);
const char *heartbeat_dbstate_name(int state);

/* The heartbeat key from highAvail.HMACKey. 0, or -1 with err filled. */
int heartbeat_derive_key(const char *secret, size_t secretlen,
    unsigned char key[HB_KEY_LEN], char *err, size_t errlen);

/* SHA-256 of the settings that must be equal on every node: every
 * highAvail.* key but highAvail.myAddr, by name, in normal form (numbers
 * as parsed, addresses canonical, replicaAddrs sorted, defaults as if
 * written), so comments, spacing, order and units do not matter. The
 * shared key counts through an HKDF-derived fingerprint, never in clear.
 * 0, or -1 with err filled. */
int heartbeat_cfg_checksum(const struct cfg *c, unsigned char sum[HB_SUM_LEN],
    char *err, size_t errlen);

/* Sender: pick a random non-zero boot id. 0, or -1 with err filled. */
int heartbeat_sender_init(struct hb_sender *s, char *err, size_t errlen);
/* Stamp m with our boot id, the next seq and, when peer is not NULL, the
 * echo of what we last saw from that peer. */
void heartbeat_stamp(struct hb_sender *s, const struct hb_peer_state *peer,
    struct hb_msg *m);

/* Serialise and sign m into out. Returns the length (HB_LEN), or -1 if
 * outlen is too small or a field cannot be encoded (build too long or not
 * printable, role/state/flags out of range, zero eid, boot id or seq). */
int heartbeat_encode(const struct hb_msg *m, const unsigned char key[HB_KEY_LEN],
    unsigned char *out, size_t outlen);

/* Check and parse one datagram. Returns HB_OK with *out filled, or an
 * enum hb_reject with why filled ("bad HMAC (forged, corrupted or another
 * highAvail.HMACKey)"). *out is untouched on rejection. */
int heartbeat_decode(const void *pkt, size_t len, const unsigned char key[HB_KEY_LEN],
    struct hb_msg *out, char *why, size_t whylen);

/* Start tracking the peer whose eid is expected at one source address;
 * self is our sender (its boot id and seq prove the peer's freshness) and
 * must outlive p. */
void heartbeat_peer_init(struct hb_peer_state *p, uint32_t expected_eid,
    const struct hb_sender *self);
/* Replay and freshness checks on a decoded packet from that address.
 * HB_OK: the packet is new and fresh, the peer is alive at now_ms.
 * Otherwise HB_REJ_EID, HB_REJ_REPLAY or HB_REJ_STALE with why filled. */
int heartbeat_accept(struct hb_peer_state *p, const struct hb_msg *m,
    uint64_t now_ms, char *why, size_t whylen);

/* Count one received datagram by its outcome (HB_OK or a reason). */
void heartbeat_count(struct hb_counters *c, int reason);

/* Log "heartbeat from ADDR rejected: WHY" as a warning, at most once per
 * HB_LOG_EVERY_MS per reason in rl (one rl per peer address); the next
 * line printed for that reason ends with "(N more suppressed)". Returns 1
 * if a line was logged, 0 if held back. heartbeat_reject_line is the
 * same without logging: it fills line and returns 1, or returns 0. */
int heartbeat_log_reject(struct hb_ratelimit *rl, const char *from_addr,
    int reason, const char *why, uint64_t now_ms);
int heartbeat_reject_line(struct hb_ratelimit *rl, const char *from_addr,
    int reason, const char *why, uint64_t now_ms, char *line, size_t linelen);

/* A non-blocking, close-on-exec UDP socket bound to this node's numeric
 * address addr and port. fd, or -1 with err filled. */
int heartbeat_socket_open(const char *addr, int port, char *err, size_t errlen);
/* Send one packet to a numeric address. 0, or -1 with err filled
 * (EAGAIN included: a heartbeat is never queued, the next one follows). */
int heartbeat_send(int fd, const char *to_addr, int port, const void *pkt,
    size_t len, char *err, size_t errlen);
/* Receive one datagram into buf (at least HB_MAX_LEN + 1 bytes, else -1
 * EINVAL: a longer one is reported with its real length, which
 * heartbeat_decode rejects as HB_REJ_SIZE without reading it). Returns its length
 * with from (numeric address) and *from_port filled; -1 with errno
 * EAGAIN when nothing is waiting, or another errno. */
long heartbeat_recv(int fd, void *buf, size_t buflen, char *from, size_t fromlen,
    int *from_port);

#endif
