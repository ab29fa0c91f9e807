/* proto.c — frames of the client service protocol (see proto.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "be.h"
#include "proto.h"

/* Smallest encoded batch op: opcode + u16 id length + u32 attribute count. */
#define BATCH_OP_MIN 7

static const char *const errnames[] = {
	[XE_OK] = "ok",
	[XE_NOTFOUND] = "not found",
	[XE_BADREQ] = "bad request",
	[XE_TOOBIG] = "too big",
	[XE_BADID] = "bad id or name",
	[XE_READONLY] = "read-only (not the primary)",
	[XE_DB] = "database error",
	[XE_BUSY] = "busy",
	[XE_AUTH] = "not allowed",
	[XE_UNKNOWN] = "unknown request type",
	[XE_NOTREPL] = "not replicated",
};

const char *
proto_errname(int code)
{
	if (code == -1)
		return "transport error";
	if (code < 0 || (size_t)code >= sizeof(errnames) / sizeof(errnames[0]))
		return "unknown error";
	return errnames[code];
}

const char *
proto_typename(int type)
{
	switch (type) {
	case XM_GET: return "GET";
	case XM_PUT: return "PUT";
	case XM_SET: return "SET";
	case XM_UNSET: return "UNSET";
	case XM_DEL: return "DEL";
	case XM_LIST: return "LIST";
	case XM_COUNT: return "COUNT";
	case XM_BATCH: return "BATCH";
	case XM_STATUS: return "STATUS";
	case XM_R_OK: return "OK";
	case XM_R_ERR: return "ERR";
	case XM_R_RECORD: return "RECORD";
	case XM_R_ID: return "ID";
	case XM_R_END: return "END";
	case XM_R_COUNT: return "COUNT-REPLY";
	case XM_R_STATUS: return "STATUS-REPLY";
	}
	return "?";
}

void
proto_hdr_encode(const struct frame_hdr *h, unsigned char out[PROTO_HDR_LEN])
{
	be32_put(out, h->len);
	be16_put(out + 4, h->type);
	be16_put(out + 6, h->flags);
	be32_put(out + 8, h->seq);
}

void
proto_hdr_decode(const unsigned char in[PROTO_HDR_LEN], struct frame_hdr *h)
{
	h->len = be32_get(in);
	h->type = be16_get(in + 4);
	h->flags = be16_get(in + 6);
	h->seq = be32_get(in + 8);
}

void
proto_begin(struct buf *b, uint16_t type, uint16_t flags, uint32_t seq)
{
	struct frame_hdr h = { 0, type, flags, seq };
	unsigned char hdr[PROTO_HDR_LEN];

	buf_reset(b);
	proto_hdr_encode(&h, hdr);
	buf_put(b, hdr, sizeof(hdr));
}

void
proto_finish(struct buf *b)
{
	size_t len;

	if (b->oom || b->len < PROTO_HDR_LEN)
		return;
	len = b->len - PROTO_HDR_LEN;
	if (len > UINT32_MAX) {
		b->oom = 1;
		return;
	}
	be32_put(b->p, (uint32_t)len);
}

void
proto_frame(struct buf *b, uint16_t type, uint16_t flags, uint32_t seq,
    const void *payload, size_t len)
{
	proto_begin(b, type, flags, seq);
	buf_put(b, payload, len);
	proto_finish(b);
}

void
proto_free_ops(struct rec_op *ops, size_t nops)
{
	size_t i;

	if (ops == NULL)
		return;
	for (i = 0; i < nops; i++)
		record_free(&ops[i].rec);
	free(ops);
}

int
proto_parse_batch(const void *p, size_t len, struct rec_op **opsp, size_t *nopsp,
    size_t max_ops, char *err, size_t errlen)
{
	struct rec_op *ops = NULL;
	struct rd rd;
	uint32_t n, i;
	char e[512];

	*opsp = NULL;
	*nopsp = 0;
	rd_init(&rd, p, len);
	n = rd_u32(&rd);
	if (rd.bad) {
		snprintf(err, errlen, "bad batch: payload of %zu bytes has no operation count", len);
		return -1;
	}
	if (n > max_ops) {
		snprintf(err, errlen, "batch of %u operations is over the limit of %zu; "
		    "split it into smaller batches", n, max_ops);
		return -1;
	}
	if (n > (len - rd.off) / BATCH_OP_MIN) {
		snprintf(err, errlen, "bad batch: %u operations cannot fit in %zu bytes",
		    n, len - rd.off);
		return -1;
	}
	if (n > 0 && (ops = calloc(n, sizeof(*ops))) == NULL) {
		snprintf(err, errlen, "out of memory for a batch of %u operations", n);
		return -1;
	}
	for (i = 0; i < n; i++) {
		record_init(&ops[i].rec);
		ops[i].op = rd_u8(&rd);
		if (rd.bad) {
			snprintf(err, errlen, "bad batch: truncated at operation %u of %u",
			    i + 1, n);
			goto fail;
		}
		if (ops[i].op < REC_OP_PUT || ops[i].op > REC_OP_DEL) {
			snprintf(err, errlen, "bad batch: operation %u of %u has unknown "
			    "opcode %u (expected 1..4)", i + 1, n, ops[i].op);
			goto fail;
		}
		if (record_decode_rd(&ops[i].rec, &rd, e, sizeof(e)) == -1) {
			snprintf(err, errlen, "bad batch: operation %u of %u: %s", i + 1, n, e);
			goto fail;
		}
	}
	if (!rd_done(&rd)) {
		snprintf(err, errlen, "bad batch: %zu trailing bytes after %u operations",
		    rd.len - rd.off, n);
		goto fail;
	}
	*opsp = ops;
	*nopsp = n;
	return 0;
fail:
	proto_free_ops(ops, n);
	return -1;
}

void
proto_req_init(struct proto_req *q)
{
	memset(q, 0, sizeof(*q));
	record_init(&q->rec);
}

void
proto_req_free(struct proto_req *q)
{
	record_free(&q->rec);
	proto_free_ops(q->ops, q->nops);
	proto_req_init(q);
}

int
proto_decode_request(const struct frame_hdr *h, const void *p,
    size_t max_ops, struct proto_req *q, char *err, size_t errlen)
{
	struct rd rd, peek;
	const char *s;
	char e[512];
	size_t n;

	proto_req_free(q);
	q->type = h->type;
	q->flags = h->flags;
	q->seq = h->seq;
	if (errlen > 0)
		err[0] = '\0';
	rd_init(&rd, p, h->len);
	switch (h->type) {
	case XM_GET:
	case XM_DEL:
		s = rd_str16(&rd, &n);
		if (!rd_done(&rd) || n > RECORD_ID_MAX) {
			snprintf(err, errlen, "malformed %s request",
			    proto_typename(h->type));
			return XE_BADREQ;
		}
		memcpy(q->id, s, n);
		q->id[n] = '\0';
		if (strlen(q->id) != n) {
			snprintf(err, errlen, "record id contains a NUL byte");
			return XE_BADID;
		}
		return XE_OK;
	case XM_PUT:
	case XM_SET:
	case XM_UNSET:
		/* a bad id is the caller's naming mistake, not a broken frame */
		peek = rd;
		s = rd_str16(&peek, &n);
		if (!peek.bad && record_id_valid(s, n, err, errlen) != 0)
			return XE_BADID;
		e[0] = '\0';
		if (record_decode_rd(&q->rec, &rd, e, sizeof(e)) != 0 ||
		    !rd_done(&rd)) {
			snprintf(err, errlen, "malformed %s request: %s",
			    proto_typename(h->type), e[0] ? e : "trailing bytes");
			record_free(&q->rec);
			return XE_BADREQ;
		}
		return XE_OK;
	case XM_LIST:
	case XM_COUNT:
		s = rd_str16(&rd, &n);
		if (h->type == XM_LIST)
			q->limit = rd_u32(&rd);
		if (!rd_done(&rd) || n > RECORD_ID_MAX) {
			snprintf(err, errlen, "malformed %s request",
			    proto_typename(h->type));
			return XE_BADREQ;
		}
		memcpy(q->id, s, n);
		q->id[n] = '\0';
		if (strlen(q->id) != n ||
		    !record_prefix_valid(q->id, n, err, errlen)) {
			if (errlen > 0 && err[0] == '\0')
				snprintf(err, errlen, "bad id prefix");
			return XE_BADID;
		}
		return XE_OK;
	case XM_BATCH:
		if (proto_parse_batch(p, h->len, &q->ops, &q->nops, max_ops, e,
		    sizeof(e)) != 0) {
			snprintf(err, errlen, "malformed BATCH request: %s", e);
			return XE_BADREQ;
		}
		return XE_OK;
	case XM_STATUS:
		return XE_OK;
	}
	snprintf(err, errlen, "unknown request type %u", h->type);
	return XE_UNKNOWN;
}
