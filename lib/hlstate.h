/* hlstate.h — guisvr's replication state as it travels on the ha-link
 * (HL_R_STATE): one typed struct, a length-checked codec both ends use,
 * and the text halinkctl prints.
 *
 * Payload, all integers big-endian (proto.h's buf/rd), strings str16:
 *   u8 role (enum ha_role, or HA_ROLE_STANDALONE), u32 epoch, u32 gen,
 *   u32 lsn file, u32 lsn offset, u8 startupDone, u8 durability,
 *   u8 dbstate, u8 sync, u32 follow, u64 foreignDropped,
 *   u8 fault, u64 fault first age ms, u64 fault last age ms, str16 why,
 *   u8 leaseOn, u32 lease left ms, u8 syncSetOn, u8 syncSet, u8 npeers,
 *   then per peer: u32 eid, str16 addr, u8 up, u8 insync, u32 lsn file,
 *   u32 lsn offset, u32 acked file, u32 acked offset, u64 behindBytes,
 *   u64 behindCommits, u8 authFailed, u64 auth age ms, str16 auth why.
 * Decoding refuses a truncated payload, trailing bytes, an enum value or a
 * flag out of range, lease time without a lease, a synchronous-standby
 * set without arbiter sync mode, more than HL_MAX_PEERS peers and a
 * string longer than its field or holding a control character. The encoder sends strings as they are: guisvr's are
 * addresses and error texts. */
#ifndef HASVR_HLSTATE_H
#define HASVR_HLSTATE_H

#include <stddef.h>
#include <stdint.h>
#include "harole.h"
#include "record.h"

#define HL_MAX_PEERS 8

enum hl_dbstate { HL_DB_UNKNOWN = 0, HL_DB_INSYNC, HL_DB_DIRTY, HL_DB_ALONE };
enum hl_durability { HL_DUR_ASYNC = 0, HL_DUR_SYNC, HL_DUR_STRICT };

struct hl_lsn {
	uint32_t file, offset;
};

struct hl_peer {
	uint32_t eid;
	char addr[64];
	uint8_t up;                 /* replication connection up */
	uint8_t insync;             /* primary: has every acknowledged write;
				     * secondary: its primary, caught up */
	struct hl_lsn lsn, acked;
	uint64_t behind_bytes, behind_commits;
	uint8_t auth_failed;        /* not connected, its TLS refused */
	uint64_t auth_age_ms;       /* how long ago */
	char auth_why[160];
};

struct hl_state {
	uint8_t role;               /* enum ha_role or HA_ROLE_STANDALONE */
	uint32_t epoch, gen;        /* gen: of this node's history */
	struct hl_lsn lsn;          /* end of the log */
	uint8_t startup_done;
	uint8_t durability;         /* enum hl_durability */
	uint8_t dbstate;            /* enum hl_dbstate */
	uint8_t sync_on;
	uint32_t follow;            /* a secondary's primary: an eid,
				     * HA_PRIMARY_NONE or HA_PRIMARY_ANY */
	uint64_t foreign;           /* messages dropped: not from follow */
	uint8_t fault;              /* the disk refused writes lately */
	uint64_t fault_first_age_ms, fault_last_age_ms;
	char fault_why[64];
	uint8_t lease_on;           /* arbiter mode: an HL_LEASE came */
	uint32_t lease_left_ms;     /* until the lease runs out; 0 ran out */
	uint8_t syncset_on;         /* arbiter sync mode: an HL_SYNCSET came */
	uint8_t syncset;            /* the last one: bit eid - 1 = listed */
	uint8_t npeers;
	struct hl_peer peers[HL_MAX_PEERS];
};

/* "in-sync" "dirty" "alone" "unknown"; "async" "sync" "strict". */
const char *hl_dbstate_name(int s);
const char *hl_durability_name(int d);
/* -1 a before b, 0 equal, 1 after. */
int hl_lsn_cmp(struct hl_lsn a, struct hl_lsn b);

/* The payload (without the frame header) into b. */
void hl_state_encode(struct buf *b, const struct hl_state *st);
/* 0 with *st filled, or -1 with err naming what is wrong. */
int hl_state_decode(const void *p, size_t len, struct hl_state *st,
    char *err, size_t errlen);
/* The "key value" lines halinkctl prints (and tests read), into out; the
 * length, as snprintf counts it. */
int hl_state_format(const struct hl_state *st, char *out, size_t outlen);

#endif
