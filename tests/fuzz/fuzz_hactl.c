/* fuzz_hactl.c — hasvr's control socket as hasvr reads it: frame headers
 * and every request (hactl_decode_request: STATUS, SWITCHOVER, PROMOTE,
 * RESYNC, SYNC, FILESYNC), the bytes any member of the socket's group can
 * send.
 *
 * Input: the byte stream of one control connection. Frames are taken one
 * after the other, as hasvr's control loop does, until one is over its
 * request limit (hasvr answers TOOBIG and closes) or incomplete.
 *
 * Invariants: a request that decodes is what haCtl's encoder
 * (hactl_encode_request) writes for it, byte for byte (flags aside, which
 * no request uses); its fields are in range and name themselves (type and
 * sync names); a refused one gets UNKNOWN or BADREQ and a message free of
 * control characters (hasvr logs it and haCtl prints it). */
#include <string.h>

#include "fuzz.h"
#include "hactl.h"

/* hasvr's CTL_MAX_REQUEST (hasvr/ctl.c) */
#define MAX_REQUEST 64

static void
check_request(const struct frame_hdr *h, const unsigned char *p,
    const struct hc_req *r)
{
	unsigned char hdr[PROTO_HDR_LEN];
	struct frame_hdr zero = *h;
	struct buf b;
	const char *what;

	FUZZ_ASSERT(r->type == h->type && r->seq == h->seq);
	FUZZ_ASSERT(r->type >= HC_STATUS && r->type <= HC_FILESYNC);
	FUZZ_ASSERT(strcmp(hactl_typename(r->type), "?") != 0);
	FUZZ_ASSERT(r->force == 0 || r->force == 1);
	FUZZ_ASSERT(r->enable == 0 || r->enable == 1);
	if (r->type == HC_SYNC) {
		FUZZ_ASSERT((what = hactl_sync_what_name(r->what)) != NULL);
		FUZZ_ASSERT(hactl_sync_what_parse(what) == r->what);
	}
	buf_init(&b);
	hactl_encode_request(&b, r);
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
	struct hc_req r;
	char err[512];
	size_t off = 0;
	int rc;

	while (size - off >= PROTO_HDR_LEN) {
		proto_hdr_decode(data + off, &h);
		if (h.len > MAX_REQUEST || size - off - PROTO_HDR_LEN < h.len)
			break;
		err[0] = '\0';
		rc = hactl_decode_request(&h, h.len > 0 ?
		    data + off + PROTO_HDR_LEN : NULL, h.len, &r, err,
		    sizeof(err));
		if (rc == 0)
			check_request(&h, data + off + PROTO_HDR_LEN, &r);
		else {
			FUZZ_ASSERT(rc == XE_UNKNOWN || rc == XE_BADREQ);
			FUZZ_ASSERT(err[0] != '\0' && fuzz_no_ctl(err));
		}
		off += PROTO_HDR_LEN + h.len;
	}
	return 0;
}
