/* fuzz_halink.c — the ha-link as guisvr reads it: frame headers and every
 * request (halink_decode_request: ROLE with its role, epoch and primary,
 * STATE, SUBSCRIBE, SYNC, LEASE, SYNCSET), the bytes hasvr or halinkctl
 * send on guisvr's ha-link socket.
 *
 * Input: the byte stream of one ha-link connection. Frames are taken one
 * after the other, as guisvr's ha-link thread does, until one is over its
 * request limit (guisvr answers TOOBIG and closes) or incomplete.
 *
 * Invariants: a request that decodes is what hasvr's encoder
 * (halink_encode_request) writes for it, byte for byte (flags aside, which
 * no request uses); a role names itself and parses back; a refused one
 * gets UNKNOWN or BADREQ and a message free of control characters (guisvr
 * logs it). */
#include <string.h>

#include "fuzz.h"
#include "halink.h"

/* guisvr's HLS_MAX_REQ (guisvr/halinksvr.c) */
#define MAX_REQUEST 1024

static void
check_request(const struct frame_hdr *h, const unsigned char *p,
    const struct hl_req *r)
{
	unsigned char hdr[PROTO_HDR_LEN];
	struct frame_hdr zero = *h;
	struct buf b;

	FUZZ_ASSERT(r->type == h->type && r->seq == h->seq);
	FUZZ_ASSERT(strcmp(halink_typename(r->type), "?") != 0);
	FUZZ_ASSERT(r->role >= HA_ROLE_STARTING && r->role <= HA_ROLE_SECONDARY);
	FUZZ_ASSERT(ha_role_parse(ha_role_word(r->role)) == r->role);
	FUZZ_ASSERT(r->enable == 0 || r->enable == 1);
	buf_init(&b);
	halink_encode_request(&b, r);
	zero.flags = 0;
	proto_hdr_encode(&zero, hdr);
	FUZZ_ASSERT(!b.oom && b.len == PROTO_HDR_LEN + h->len);
	FUZZ_ASSERT(memcmp(b.p, hdr, PROTO_HDR_LEN) == 0);
	FUZZ_ASSERT(h->len == 0 ||
	    memcmp(b.p + PROTO_HDR_LEN, p, h->len) == 0);
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_hdr h;
	struct hl_req r;
	char msg[256];
	size_t off = 0;
	int rc;

	while (size - off >= PROTO_HDR_LEN) {
		proto_hdr_decode(data + off, &h);
		if (h.len > MAX_REQUEST || size - off - PROTO_HDR_LEN < h.len)
			break;
		msg[0] = '\0';
		rc = halink_decode_request(&h, data + off + PROTO_HDR_LEN, &r,
		    msg, sizeof(msg));
		if (rc == 0)
			check_request(&h, data + off + PROTO_HDR_LEN, &r);
		else {
			FUZZ_ASSERT(rc == XE_UNKNOWN || rc == XE_BADREQ);
			FUZZ_ASSERT(msg[0] != '\0' && fuzz_no_ctl(msg));
		}
		off += PROTO_HDR_LEN + h.len;
	}
	return 0;
}
