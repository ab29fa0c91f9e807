/* hactl.h — hasvr's control socket: what haStatus and haCtl send and what
 * hasvr answers.
 *
 * hasvr listens on a UNIX socket, varDir/run/haSvr.sock, mode 0660 (owner:
 * the user hasvr runs as; group: its group). Anyone who can connect may ask
 * for status; requests that change something (switchover, promote, resync,
 * sync on/off, file sync now) are accepted only from root or hasvr's own
 * user (checked with SO_PEERCRED), others get ERR XE_AUTH.
 *
 * Frames and header are proto.h's (12-byte header, big-endian, one request
 * in flight per connection, the reply echoes seq). Every request payload
 * has an exact length; anything else is ERR XE_BADREQ.
 *
 *   HC_STATUS      (empty)                        -> HC_R_STATUS str32 JSON
 *   HC_SWITCHOVER  u32 target eid (0: best secondary) -> OK | ERR
 *   HC_PROMOTE     u8 force (0|1)                 -> OK | ERR
 *   HC_RESYNC      (empty)                        -> OK | ERR
 *   HC_SYNC        u8 what (enum hc_sync_what), u8 enable (0|1) -> OK | ERR
 *   HC_FILESYNC    (empty)  run .haDoDirect now   -> OK | ERR
 *
 *   OK   is XM_R_OK with payload str16 message: what hasvr did or will do
 *        ("switchover to 127.0.0.2 started: …").
 *   ERR  is XM_R_ERR: u32 code (enum xe_code), str16 message (why, and
 *        what to do).
 *
 * The status JSON (one object; times in milliseconds unless named *Sec):
 * {
 *   "version": 1,
 *   "healthy": true,              no problem found
 *   "problems": [ { "code": "peer-timeout", "about": "127.0.0.2",
 *                   "text": "peer 127.0.0.2: heartbeat timed out …" }, … ],
 *                                 found in the facts below by
 *                                 lib/haproblem.c: codes in
 *                                 enum ha_problem, "about" a peer's
 *                                 address, "self" or "group"
 *   "node": {
 *     "eid": 1, "addr": "127.0.0.1", "self": true,
 *     "role": "PRIMARY",          STARTING | SECONDARY | PRIMARY
 *     "epoch": 3,
 *     "build": "hasvr 0.3.0 …",
 *     "services": { "highAvail": "running",
 *                   "highAvailSvr": "running" | "starting" | "stopped" },
 *     "db": { "state": "in-sync" | "dirty" | "alone" | "unknown",
 *             "gen": 4, "lsn": "1/28832", "startupDone": true },
 *     "haSync": true, "dbSync": true, "fileSync": true,
 *     "pingable": { "addr": "10.0.0.254" | null, "reachable": true,
 *                   "ageMs": 420 },
 *     "guisvrPid": 1234, "guisvrRestarts": 0, "uptimeSec": 75,
 *     "waitsForAll": ["127.0.0.2"] (STARTING: peers not heard yet, as
 *                    a node that served waits for all) | absent,
 *     "stalePrimary": { "addr": "127.0.0.2", "epoch": 2 } (STARTING: a
 *                    primary of a lower epoch it will not follow) | absent,
 *     "roleChangedAgoMs": 4200 | null (guisvr's role changed behind
 *                    hasvr's back),
 *     "fault": "why its database server cannot serve" | null,
 *     "faultStays": false (a faulty primary with nobody to hand over to),
 *     "stateWriteFailed": "path of haSvr.state" | null
 *   },
 *   "peers": [ {
 *     "eid": 2, "addr": "127.0.0.2", "self": false,
 *     "alive": true,
 *     "heartbeatAgeMs": 80 | null (never heard),
 *     "role": "SECONDARY" | null (never heard), "epoch": 3,
 *     "build": "…", "buildMatch": true, "configMatch": true,
 *     "services": { "highAvail": "running" | "timed-out (error)",
 *                   "highAvailSvr": "running" | "stopped" | "timed-out (error)" },
 *     "db": { "state": "in-sync" | "dirty" | "alone" | "unknown",
 *             "lsn": "1/28832", "acked": "1/28832", "behindBytes": 0,
 *             "behindCommits": 0, "connected": true,
 *             "authFailed": "reason" | null },
 *     "rejected": { "malformed": 0, "mac": 0, "eid": 0, "replay": 0,
 *                   "stale": 0 },
 *     "unauthenticated": false,   its heartbeats arrive but are rejected
 *     "rejectReason": "bad HMAC" | "another heartbeat version" | … | null
 *   }, … ],
 *   "heartbeat": { "intervalMs": 100, "deadMs": 500, "received": 1200,
 *                  "accepted": 1190,
 *                  "rejected": { "malformed": 0, "mac": 10, "eid": 0,
 *                                "replay": 0, "stale": 0,
 *                                "unknownSource": 0 } },
 *   "fileSync": { "result": "SUCCESS" | "FAIL" | null, "time": 1795000000,
 *                 "ageSec": 12, "reason": "…" }
 * }
 * The peer's "db" on a primary is what its guisvr knows of the secondary
 * (acked LSN and lag); elsewhere "state" is what the peer reports of
 * itself in its heartbeat (only the primary judges how far a secondary
 * got). "authFailed": the replication channel to it refuses TLS
 * authentication (another key or certificates). "heartbeatAgeMs" and
 * "services" come from its heartbeats. */
#ifndef HASVR_HACTL_H
#define HASVR_HACTL_H

#include <stddef.h>
#include <stdint.h>
#include "proto.h"

#define HACTL_SOCKET_NAME "haSvr.sock"
#define HACTL_MAX_FRAME (1024 * 1024)

enum hc_type {
	HC_STATUS = 300, HC_SWITCHOVER, HC_PROMOTE, HC_RESYNC, HC_SYNC,
	HC_FILESYNC,
	HC_R_STATUS = 350,
};

enum hc_sync_what {
	HC_SYNC_HA = 1,         /* all HA sync: database and files */
	HC_SYNC_DB = 2,         /* database replication only */
	HC_SYNC_FILES = 3,      /* the rsync job only */
};

/* A decoded request. */
struct hc_req {
	uint16_t type;          /* enum hc_type */
	uint32_t seq;
	uint32_t target_eid;    /* HC_SWITCHOVER */
	int force;              /* HC_PROMOTE */
	int what, enable;       /* HC_SYNC */
};

/* "HC_STATUS", …, "HC_R_STATUS", "OK", "ERR"; "?" if unknown. */
const char *hactl_typename(int type);
/* "ha", "db", "files" (NULL if not an hc_sync_what); parse: -1 if none. */
const char *hactl_sync_what_name(int what);
int hactl_sync_what_parse(const char *s);

/* Request codec (both sides). hactl_encode_request builds a whole frame
 * into b. hactl_decode_request checks one frame (header already decoded,
 * payload p/len): 0 with r filled, or XE_UNKNOWN / XE_BADREQ with err
 * filled ("HC_PROMOTE: payload is 3 bytes, expected 1"). */
void hactl_encode_request(struct buf *b, const struct hc_req *r);
int hactl_decode_request(const struct frame_hdr *h, const void *p, size_t len,
    struct hc_req *r, char *err, size_t errlen);

/* Reply builders (server side): a whole frame into b. A message longer
 * than a str16 is cut at 65535 bytes; a status JSON that would make the
 * frame larger than HACTL_MAX_FRAME (which clients refuse) becomes ERR
 * XE_TOOBIG instead. b->oom is set when memory ran out. */
void hactl_reply_ok(struct buf *b, uint32_t seq, const char *msg);
void hactl_reply_err(struct buf *b, uint32_t seq, int code, const char *msg);
void hactl_reply_status(struct buf *b, uint32_t seq, const char *json);

/* The control socket under a varDir: vardir "/run/" HACTL_SOCKET_NAME;
 * vardir NULL: LOCALSTATEDIR (highAvail.varDir's default). 0, or -1 if it
 * does not fit in out (or in a sockaddr_un). */
int hactl_socket_path(const char *vardir, char *out, size_t outlen);
/* The control socket named by haSvr.cfg's highAvail.varDir (hacfg_load:
 * the file must exist and pass its checks). 0, or -1 with err filled
 * ("haSvr.cfg:12: …  (2 errors in all; fix the file or give the socket
 * with -s)"). */
int hactl_cfg_socket(const char *cfgfile, char *out, size_t outlen,
    char *err, size_t errlen);

/* Blocking client (haStatus, haCtl, tests). path NULL: the default
 * LOCALSTATEDIR "/run/haSvr.sock". A reply must arrive whole within
 * HACTL_REPLY_TIMEOUT_SECS; a frame over HACTL_MAX_FRAME, a reply for
 * another seq or of an unexpected type makes the connection unusable.
 * hactl_connect returns NULL with err filled and errno set to the cause:
 * hactl_not_running(errno) tells "hasvr is not running" (no socket, or
 * nobody listening on it) from other failures (EACCES, …). */
#define HACTL_REPLY_TIMEOUT_SECS 10
struct hcc;
struct hcc *hactl_connect(const char *path, char *err, size_t errlen);
int hactl_not_running(int errnum);
void hactl_close(struct hcc *c);
/* 0 with *json malloc'ed, or -1 with err filled. */
int hactl_status(struct hcc *c, char **json, char *err, size_t errlen);
/* Any other request: 0 with msg (OK's text), an xe_code with msg (ERR's
 * text), or -1 with msg filled (transport). */
int hactl_request(struct hcc *c, const struct hc_req *r, char *msg,
    size_t msglen);

#endif
