/* halink.h — the ha-link: hasvr's local control channel to guisvr.
 *
 * guisvr listens on a UNIX socket (var/run/guiSvr.halink, mode 0660, same
 * user as the daemons). hasvr — or, until it runs, the halinkctl tool or a
 * test — connects and sends requests; frames and header are those of
 * proto.h (12-byte header, big-endian), with these types:
 *
 *   HL_ROLE      u8 role (enum ha_role), u32 epoch, u32 primary
 *                                                          -> OK | ERR
 *                primary: rep_start as master, accept writes;
 *                secondary: rep_start as client, refuse writes, and take
 *                replication messages only from the node whose eid is
 *                primary (HA_PRIMARY_NONE: from nobody yet; HA_PRIMARY_ANY:
 *                from whichever node acts as master, for halinkctl by hand).
 *                guisvr starts replication only once it gets a role.
 *   HL_STATE     (empty)                                  -> HL_R_STATE
 *   HL_SUBSCRIBE (empty) -> OK, then HL_R_EVENT frames on this connection
 *                as things happen, until it closes.
 *   HL_SYNC      u8 enable (database replication on/off)  -> OK | ERR
 *   HL_LEASE     u32 ms                                   -> OK | ERR
 *                the arbiter's lease: the primary role is certainly this
 *                node's for ms milliseconds from now (0: not any more).
 *                The first one turns arbiter mode on until guisvr
 *                restarts: from then on a primary whose lease ran out
 *                (50 ms early, for the ha-link's delay; timed on guisvr's
 *                own CLOCK_MONOTONIC, so it holds even if hasvr is stuck)
 *                refuses writes and acknowledges none (XE_NOTREPL) until
 *                the next HL_LEASE renews it or a role change steps it
 *                down. A guisvr that never got one behaves as before
 *                (pair mode).
 *   HL_SYNCSET   u8 mask                                  -> OK | ERR
 *                the synchronous-standby set: bit (eid - 1) set = that
 *                secondary (eids 1..8) is listed in the synchronous-standby
 *                record hasvr keeps in etcd, the only secondaries that may
 *                take the leader key. The first one turns arbiter sync mode
 *                on until guisvr restarts: from then on, in durability
 *                sync, a primary acknowledges a commit only once every
 *                listed secondary acknowledged it; one that does not
 *                within ackTimeout is marked dirty (for hasvr to drop it
 *                from the record and send a new set) and the commit keeps
 *                waiting, for the ack or the new set, up to a second
 *                ackTimeout: then XE_NOTREPL. In strict, a listed
 *                secondary's ack is the one that counts (any if none is
 *                listed). A guisvr that never got one behaves as before.
 *
 *   HL_R_STATE   struct hl_state, typed and length-checked (hlstate.h):
 *                  role, epoch, generation, LSN, startup done, durability,
 *                  database state, sync switch, the primary a secondary
 *                  follows, refused writes, the arbiter lease (on, ms
 *                  left), the synchronous-standby set (on, mask), and
 *                  per peer its connection,
 *                  in-sync, LSNs, lag and refused TLS authentication;
 *                  halinkctl prints it as "key value" lines
 *   HL_R_EVENT   str16 text, e.g. "get BDB event DB_EVENT_REP_MASTER",
 *                  "state dirty peer 127.0.0.2: ack timeout", "diverged …"
 *   OK / ERR are proto.h's XM_R_OK / XM_R_ERR.
 * guisvr logs "connectionMgr connected to ha-link" when hasvr connects. */
#ifndef HASVR_HALINK_H
#define HASVR_HALINK_H

#include <stddef.h>
#include <stdint.h>
#include "harole.h"
#include "proto.h"

enum hl_type {
	HL_ROLE = 200, HL_STATE, HL_SUBSCRIBE, HL_SYNC, HL_LEASE, HL_SYNCSET,
	HL_R_STATE = 250, HL_R_EVENT,
};


/* guisvr's exit status when the disk refused its writes (full, quota, I/O
 * error): nothing is damaged, and hasvr starts it again at a calm pace
 * (EX_TEMPFAIL from sysexits.h). */
#define GUISVR_EXIT_DISK 75

/* "HL_ROLE", "HL_STATE", "HL_SUBSCRIBE", "HL_SYNC", "HL_LEASE",
 * "HL_SYNCSET"; "?" if not a request. */
const char *halink_typename(int type);

/* A request as guisvr reads it. */
struct hl_req {
	uint16_t type;          /* enum hl_type, a request */
	uint32_t seq;
	int role;               /* HL_ROLE: enum ha_role */
	uint32_t epoch;         /* HL_ROLE */
	uint32_t primary;       /* HL_ROLE: eid, HA_PRIMARY_NONE or _ANY */
	int enable;             /* HL_SYNC: 0 or 1 */
	uint32_t lease_ms;      /* HL_LEASE: valid this long from now, 0 over */
	uint8_t syncset;        /* HL_SYNCSET: bit eid - 1 = eid listed */
};

/* Request codec (both ends). halink_encode_request builds a whole frame
 * into b. halink_decode_request checks one frame (header decoded, payload p
 * of h->len bytes): 0 with r filled, or XE_UNKNOWN / XE_BADREQ with msg
 * filled in the words guisvr logs and answers ("HL_ROLE payload is 3
 * bytes, expected 9 (u8 role, u32 epoch, u32 primary)"). */
void halink_encode_request(struct buf *b, const struct hl_req *r);
int halink_decode_request(const struct frame_hdr *h, const void *p,
    struct hl_req *r, char *msg, size_t msglen);

/* Blocking client side (hasvr, halinkctl, tests). Each returns 0, an
 * xe_code from an ERR reply, or -1 with err filled (transport). */
struct hlc;
struct hlc *halink_connect(const char *path, char *err, size_t errlen);
void halink_close(struct hlc *h);
int halink_role(struct hlc *h, int role, uint32_t epoch, uint32_t primary,
    char *err, size_t errlen);
struct hl_state;
/* guisvr's replication state (lib/hlstate.h). */
int halink_state(struct hlc *h, struct hl_state *st, char *err,
    size_t errlen);
int halink_sync(struct hlc *h, int enable, char *err, size_t errlen);
/* The arbiter lease: primary for ms more milliseconds (0: not any more). */
int halink_lease(struct hlc *h, uint32_t ms, char *err, size_t errlen);
/* The synchronous-standby set: bit eid - 1 of mask = eid is listed. */
int halink_syncset(struct hlc *h, uint8_t mask, char *err, size_t errlen);
int halink_subscribe(struct hlc *h, char *err, size_t errlen);
/* Next event line (after subscribe); timeout_ms < 0 waits forever.
 * 1 got one (malloc'ed *text), 0 timeout, -1 closed/error. */
int halink_next_event(struct hlc *h, int timeout_ms, char **text, char *err, size_t errlen);

#endif
