/* test_halink.c — the ha-link request codec (lib/halink.c) both ends
 * share: every request encodes and decodes back, and guisvr's refusals
 * keep their codes and words (wrong lengths, unknown roles, a sync value
 * other than 0 or 1, unknown types). */
#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "halink.h"

static char msg[256];

/* Decode the whole frame in b as a request. */
static int
decode_frame(const struct buf *b, struct hl_req *r)
{
	struct frame_hdr h;

	CU_ASSERT_FATAL(b->len >= PROTO_HDR_LEN);
	proto_hdr_decode(b->p, &h);
	CU_ASSERT_EQUAL(h.len, b->len - PROTO_HDR_LEN);
	msg[0] = '\0';
	return halink_decode_request(&h, b->p + PROTO_HDR_LEN, r, msg,
	    sizeof(msg));
}

static int
decode_raw(uint16_t type, const void *p, uint32_t len, struct hl_req *r)
{
	struct frame_hdr h = { len, type, 0, 42 };

	msg[0] = '\0';
	return halink_decode_request(&h, p, r, msg, sizeof(msg));
}

static void
t_roundtrip(void)
{
	const struct hl_req in[] = {
		{ .type = HL_ROLE, .seq = 1, .role = HL_ROLE_PRIMARY, .epoch = 9 },
		{ .type = HL_ROLE, .seq = 2, .role = HL_ROLE_SECONDARY,
		    .epoch = 0xffffffffu, .primary = 3 },
		{ .type = HL_ROLE, .seq = 3, .role = HL_ROLE_SECONDARY,
		    .primary = HL_PRIMARY_ANY },
		{ .type = HL_ROLE, .seq = 4, .role = HL_ROLE_NONE },
		{ .type = HL_STATE, .seq = 5 },
		{ .type = HL_SUBSCRIBE, .seq = 6 },
		{ .type = HL_SYNC, .seq = 7, .enable = 0 },
		{ .type = HL_SYNC, .seq = 0xfffffffeu, .enable = 1 },
	};
	const size_t want_len[] = { 9, 9, 9, 9, 0, 0, 1, 1 };
	struct hl_req r;
	struct buf b;
	size_t i;

	buf_init(&b);
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		halink_encode_request(&b, &in[i]);
		CU_ASSERT_FALSE(b.oom);
		CU_ASSERT_EQUAL(b.len, PROTO_HDR_LEN + want_len[i]);
		CU_ASSERT_EQUAL(decode_frame(&b, &r), 0);
		CU_ASSERT_STRING_EQUAL(msg, "");
		CU_ASSERT_EQUAL(r.type, in[i].type);
		CU_ASSERT_EQUAL(r.seq, in[i].seq);
		CU_ASSERT_EQUAL(r.role, in[i].role);
		CU_ASSERT_EQUAL(r.epoch, in[i].epoch);
		CU_ASSERT_EQUAL(r.primary, in[i].primary);
		CU_ASSERT_EQUAL(r.enable, in[i].enable);
	}
	buf_free(&b);
}

static void
t_refusals(void)
{
	const unsigned char role[9] = { 3, 0, 0, 0, 1, 0, 0, 0, 2 };
	const unsigned char two = 2;
	struct hl_req r;

	CU_ASSERT_EQUAL(decode_raw(HL_ROLE, role, 8, &r), XE_BADREQ);
	CU_ASSERT_STRING_EQUAL(msg, "HL_ROLE payload is 8 bytes, expected 9 "
	    "(u8 role, u32 epoch, u32 primary)");
	CU_ASSERT_EQUAL(decode_raw(HL_ROLE, role, 9, &r), XE_BADREQ);
	CU_ASSERT_STRING_EQUAL(msg, "unknown role 3 (none 0, primary 1, "
	    "secondary 2)");
	CU_ASSERT_EQUAL(decode_raw(HL_STATE, role, 1, &r), XE_BADREQ);
	CU_ASSERT_STRING_EQUAL(msg, "HL_STATE payload is 1 bytes, expected 0 "
	    "(empty)");
	CU_ASSERT_EQUAL(decode_raw(HL_SUBSCRIBE, role, 2, &r), XE_BADREQ);
	CU_ASSERT_STRING_EQUAL(msg, "HL_SUBSCRIBE payload is 2 bytes, expected "
	    "0 (empty)");
	CU_ASSERT_EQUAL(decode_raw(HL_SYNC, role, 0, &r), XE_BADREQ);
	CU_ASSERT_STRING_EQUAL(msg, "HL_SYNC payload is 0 bytes, expected 1 "
	    "(u8 enable)");
	CU_ASSERT_EQUAL(decode_raw(HL_SYNC, &two, 1, &r), XE_BADREQ);
	CU_ASSERT_STRING_EQUAL(msg, "HL_SYNC value 2: expected 0 (off) or 1 "
	    "(on)");
	CU_ASSERT_EQUAL(decode_raw(HL_R_STATE, NULL, 0, &r), XE_UNKNOWN);
	CU_ASSERT_STRING_EQUAL(msg, "unknown ha-link request type 250");
	CU_ASSERT_EQUAL(decode_raw(0, NULL, 0, &r), XE_UNKNOWN);
}

static void
t_names(void)
{
	CU_ASSERT_STRING_EQUAL(halink_typename(HL_ROLE), "HL_ROLE");
	CU_ASSERT_STRING_EQUAL(halink_typename(HL_SYNC), "HL_SYNC");
	CU_ASSERT_STRING_EQUAL(halink_typename(HL_R_EVENT), "?");
	CU_ASSERT_EQUAL(halink_role_parse(halink_role_name(HL_ROLE_SECONDARY)),
	    HL_ROLE_SECONDARY);
	CU_ASSERT_EQUAL(halink_role_parse("master"), -1);
}

void
test_halink_register(void)
{
	CU_pSuite s = CU_add_suite("halink", NULL, NULL);

	CU_add_test(s, "every request round-trips", t_roundtrip);
	CU_add_test(s, "refusals keep their codes and words", t_refusals);
	CU_add_test(s, "names", t_names);
}
