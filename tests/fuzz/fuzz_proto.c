/* fuzz_proto.c — guisvr's client protocol as the server reads it: frame
 * headers (proto_hdr_decode) and every request (proto_decode_request: GET,
 * PUT, SET, UNSET, DEL, LIST, COUNT, STATUS and BATCH with its operations
 * and records), the bytes a local or remote tool sends.
 *
 * Input: the byte stream of one client connection (after TLS for remote
 * tools). Frames are taken one after the other, as guisvr's workers do,
 * until one is over the frame limit or incomplete.
 *
 * Invariants: a header encodes back to its bytes; a request that decodes
 * encodes back to its payload with the client's encoders (record_encode,
 * the batch of xdbc_batch_add), so nothing a client sends is read
 * differently from what it meant; every record in it is well formed and
 * survives the binary and text forms (fuzzrec_check); a refused request
 * gets an error code from the protocol and a message free of control
 * characters (guisvr logs it). */
#include <string.h>

#include "fuzz.h"
#include "fuzzrec.h"
#include "proto.h"
#include "xdbclient.h"

/* guisvr's defaults: guiSvr.maxRequestSize and MAX_BATCH_OPS (client.c) */
#define MAX_FRAME (4u * 1024 * 1024)
#define MAX_OPS 100000

static void
expect_payload(const struct buf *b, const unsigned char *p, uint32_t len)
{
	FUZZ_ASSERT(!b->oom);
	FUZZ_ASSERT(b->len == len);
	FUZZ_ASSERT(len == 0 || memcmp(b->p, p, len) == 0);
}

static void
check_request(const struct frame_hdr *h, const unsigned char *p,
    const struct proto_req *q)
{
	struct xdbc_batch bt;
	struct buf b;
	size_t i;

	FUZZ_ASSERT(q->type == h->type && q->flags == h->flags &&
	    q->seq == h->seq);
	buf_init(&b);
	switch (q->type) {
	case XM_GET:
	case XM_DEL:
		buf_put_str16(&b, q->id, strlen(q->id));
		expect_payload(&b, p, h->len);
		break;
	case XM_LIST:
	case XM_COUNT:
		FUZZ_ASSERT(record_prefix_valid(q->id, strlen(q->id), NULL, 0));
		buf_put_str16(&b, q->id, strlen(q->id));
		if (q->type == XM_LIST)
			buf_put_u32(&b, q->limit);
		else
			FUZZ_ASSERT(q->limit == 0);
		expect_payload(&b, p, h->len);
		break;
	case XM_PUT:
	case XM_SET:
	case XM_UNSET:
		fuzzrec_check(&q->rec);
		record_encode(&q->rec, &b);
		expect_payload(&b, p, h->len);
		break;
	case XM_BATCH:
		FUZZ_ASSERT(q->nops <= MAX_OPS);
		xdbc_batch_init(&bt);
		for (i = 0; i < q->nops; i++) {
			FUZZ_ASSERT(q->ops[i].op >= REC_OP_PUT &&
			    q->ops[i].op <= REC_OP_DEL);
			fuzzrec_check(&q->ops[i].rec);
			xdbc_batch_add(&bt, q->ops[i].op, &q->ops[i].rec);
		}
		FUZZ_ASSERT(bt.n == q->nops);
		buf_put_u32(&b, bt.n);
		buf_put(&b, bt.b.p, bt.b.len);
		expect_payload(&b, p, h->len);
		xdbc_batch_free(&bt);
		break;
	case XM_STATUS:
		break;
	default:
		FUZZ_ASSERT(!"a request of an unknown type decoded");
	}
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char again[PROTO_HDR_LEN];
	struct proto_req q;
	struct frame_hdr h;
	char err[512];
	size_t off = 0;
	int rc;

	proto_req_init(&q);
	while (size - off >= PROTO_HDR_LEN) {
		proto_hdr_decode(data + off, &h);
		proto_hdr_encode(&h, again);
		FUZZ_ASSERT(memcmp(again, data + off, PROTO_HDR_LEN) == 0);
		/* guisvr answers TOOBIG and closes; an incomplete frame
		 * waits for more */
		if (h.len > MAX_FRAME || size - off - PROTO_HDR_LEN < h.len)
			break;
		rc = proto_decode_request(&h, data + off + PROTO_HDR_LEN, MAX_OPS,
		    &q, err, sizeof(err));
		if (rc == XE_OK) {
			FUZZ_ASSERT(err[0] == '\0');
			check_request(&h, data + off + PROTO_HDR_LEN, &q);
		} else {
			FUZZ_ASSERT(rc == XE_BADREQ || rc == XE_BADID ||
			    rc == XE_UNKNOWN);
			FUZZ_ASSERT(err[0] != '\0' && fuzz_no_ctl(err));
			FUZZ_ASSERT((rc == XE_UNKNOWN) ==
			    (h.type < XM_GET || h.type > XM_STATUS));
			/* nothing half-decoded is left behind */
			FUZZ_ASSERT(q.rec.nattr == 0 && q.ops == NULL);
		}
		off += PROTO_HDR_LEN + h.len;
	}
	proto_req_free(&q);
	return 0;
}
