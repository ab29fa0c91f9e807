/* proto.h — the client service protocol of guisvr (UNIX socket and TLS).
 *
 * Every message is a frame: a 12-byte header then the payload.
 *   u32 length   payload bytes (big-endian), at most the receiver's limit
 *   u16 type     enum xm_type
 *   u16 flags    per type
 *   u32 seq      chosen by the client, echoed in every reply frame
 * A client sends one request and reads replies until a final one (OK, ERR,
 * RECORD for GET, COUNT, END, STATUS). LIST answers with RECORD (or ID)
 * frames followed by END. One request is in flight per connection.
 *
 * Payloads (str16 = u16 length + bytes; see record.h for records):
 *   GET    str16 id                      -> RECORD | ERR
 *   PUT    record                        -> OK | ERR      (replace whole record)
 *   SET    record (attributes to set)    -> OK | ERR      (creates if absent)
 *   UNSET  record (names; values ignored)-> OK | ERR
 *   DEL    str16 id                      -> OK | ERR
 *   LIST   str16 prefix, u32 limit (0=all); flag XF_IDS_ONLY
 *                                        -> RECORD*|ID* then END(u64 count)
 *   COUNT  str16 prefix                  -> COUNT(u64)
 *   BATCH  u32 n, n x (u8 opcode, record) -> OK | ERR   (all or nothing)
 *   STATUS (empty)                       -> STATUS(str32 "key value\n" lines)
 *   ERR    u32 code, str16 message
 */
#ifndef HASVR_PROTO_H
#define HASVR_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include "record.h"

#define PROTO_HDR_LEN 12
#define PROTO_DEFAULT_MAX_FRAME (4u * 1024 * 1024)

enum xm_type {
	XM_GET = 1, XM_PUT, XM_SET, XM_UNSET, XM_DEL, XM_LIST, XM_COUNT,
	XM_BATCH, XM_STATUS,
	XM_R_OK = 100, XM_R_ERR, XM_R_RECORD, XM_R_ID, XM_R_END, XM_R_COUNT,
	XM_R_STATUS,
};

#define XF_IDS_ONLY 0x0001

/* Error codes carried in ERR replies (and returned by the store). */
enum xe_code {
	XE_OK = 0,
	XE_NOTFOUND = 1,   /* no such record */
	XE_BADREQ = 2,     /* malformed request */
	XE_TOOBIG = 3,     /* record or request over the configured limit */
	XE_BADID = 4,      /* invalid record id or attribute name */
	XE_READONLY = 5,   /* this node is not the primary (message names it) */
	XE_DB = 6,         /* Berkeley DB error (message has db_strerror) */
	XE_BUSY = 7,       /* server overloaded / shutting down; retry */
	XE_AUTH = 8,       /* not allowed */
	XE_UNKNOWN = 9,    /* unknown request type */
	XE_NOTREPL = 10,   /* committed locally but not acknowledged by a secondary */
};
const char *proto_errname(int code);     /* "not found", … */
const char *proto_typename(int type);    /* "GET", … ("?" if unknown) */

struct frame_hdr {
	uint32_t len;
	uint16_t type;
	uint16_t flags;
	uint32_t seq;
};
void proto_hdr_encode(const struct frame_hdr *h, unsigned char out[PROTO_HDR_LEN]);
void proto_hdr_decode(const unsigned char in[PROTO_HDR_LEN], struct frame_hdr *h);

/* Build a whole frame (header + payload) into b (b is reset first). */
void proto_frame(struct buf *b, uint16_t type, uint16_t flags, uint32_t seq,
    const void *payload, size_t len);
/* Convenience builders that append payloads (after buf_reset and before
 * proto_finish, which writes the header in front). */
void proto_begin(struct buf *b, uint16_t type, uint16_t flags, uint32_t seq);
void proto_finish(struct buf *b);   /* patches the length in the header */

/* Batch payload parsing: fills ops (malloc'ed array, *nops). Each op's
 * record id is validated. 0 or -1 with err. Free with proto_free_ops. */
int proto_parse_batch(const void *p, size_t len, struct rec_op **ops, size_t *nops,
    size_t max_ops, char *err, size_t errlen);
void proto_free_ops(struct rec_op *ops, size_t nops);

/* A client request as guisvr reads it. */
struct proto_req {
	uint16_t type;                  /* enum xm_type, a request */
	uint16_t flags;
	uint32_t seq;
	char id[RECORD_ID_MAX + 1];     /* GET, DEL: the id; LIST, COUNT: the prefix */
	uint32_t limit;                 /* LIST: at most this many, 0 all */
	struct record rec;              /* PUT, SET, UNSET */
	struct rec_op *ops;             /* BATCH */
	size_t nops;
};
void proto_req_init(struct proto_req *q);
void proto_req_free(struct proto_req *q);   /* leaves q initialised */
/* Check and decode one request frame: header h, payload p of h->len bytes.
 * XE_OK with q filled; else XE_BADREQ (malformed), XE_BADID (a bad id or
 * prefix: the caller's naming mistake, not a broken frame) or XE_UNKNOWN
 * (not a request), with err filled in the words guisvr answers with. A GET
 * or DEL id is checked for NUL bytes only (the store judges the rest);
 * STATUS ignores its payload; a batch holds at most max_ops operations. q
 * is proto_req_init'ed by the caller and emptied first. */
int proto_decode_request(const struct frame_hdr *h, const void *p,
    size_t max_ops, struct proto_req *q, char *err, size_t errlen);

#endif
