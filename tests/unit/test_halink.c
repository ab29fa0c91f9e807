/* test_halink.c — the ha-link request codec (lib/halink.c) both ends
 * share: every request encodes and decodes back, and guisvr's refusals
 * keep their codes and words (wrong lengths, unknown roles, a sync value
 * other than 0 or 1, unknown types); and the typed state (lib/hlstate.c),
 * the arbiter lease's and the synchronous-standby set's fields included. */
#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "halink.h"
#include "hlstate.h"

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
		{ .type = HL_ROLE, .seq = 1, .role = HA_ROLE_PRIMARY, .epoch = 9 },
		{ .type = HL_ROLE, .seq = 2, .role = HA_ROLE_SECONDARY,
		    .epoch = 0xffffffffu, .primary = 3 },
		{ .type = HL_ROLE, .seq = 3, .role = HA_ROLE_SECONDARY,
		    .primary = HA_PRIMARY_ANY },
		{ .type = HL_ROLE, .seq = 4, .role = HA_ROLE_STARTING },
		{ .type = HL_STATE, .seq = 5 },
		{ .type = HL_SUBSCRIBE, .seq = 6 },
		{ .type = HL_SYNC, .seq = 7, .enable = 0 },
		{ .type = HL_SYNC, .seq = 0xfffffffeu, .enable = 1 },
		{ .type = HL_LEASE, .seq = 9, .lease_ms = 1500 },
		{ .type = HL_LEASE, .seq = 10, .lease_ms = 0 },
		{ .type = HL_LEASE, .seq = 11, .lease_ms = 0xffffffffu },
		{ .type = HL_SYNCSET, .seq = 12, .syncset = 0x02 },
		{ .type = HL_SYNCSET, .seq = 13, .syncset = 0 },
		{ .type = HL_SYNCSET, .seq = 14, .syncset = 0xff },
	};
	const size_t want_len[] = { 9, 9, 9, 9, 0, 0, 1, 1, 4, 4, 4, 1, 1, 1 };
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
		CU_ASSERT_EQUAL(r.lease_ms, in[i].lease_ms);
		CU_ASSERT_EQUAL(r.syncset, in[i].syncset);
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
	CU_ASSERT_EQUAL(decode_raw(HL_LEASE, role, 3, &r), XE_BADREQ);
	CU_ASSERT_STRING_EQUAL(msg, "HL_LEASE payload is 3 bytes, expected 4 "
	    "(u32 ms)");
	CU_ASSERT_EQUAL(decode_raw(HL_LEASE, role, 5, &r), XE_BADREQ);
	CU_ASSERT_STRING_EQUAL(msg, "HL_LEASE payload is 5 bytes, expected 4 "
	    "(u32 ms)");
	CU_ASSERT_EQUAL(decode_raw(HL_LEASE, NULL, 0, &r), XE_BADREQ);
	CU_ASSERT_STRING_EQUAL(msg, "HL_LEASE payload is 0 bytes, expected 4 "
	    "(u32 ms)");
	/* big-endian, like every other field */
	CU_ASSERT_EQUAL(decode_raw(HL_LEASE, role + 4, 4, &r), 0);
	CU_ASSERT_EQUAL(r.lease_ms, 0x01000000u);
	CU_ASSERT_EQUAL(decode_raw(HL_SYNCSET, NULL, 0, &r), XE_BADREQ);
	CU_ASSERT_STRING_EQUAL(msg, "HL_SYNCSET payload is 0 bytes, expected 1 "
	    "(u8 mask)");
	CU_ASSERT_EQUAL(decode_raw(HL_SYNCSET, role, 2, &r), XE_BADREQ);
	CU_ASSERT_STRING_EQUAL(msg, "HL_SYNCSET payload is 2 bytes, expected 1 "
	    "(u8 mask)");
	/* every byte is a set of eids 1..8 */
	CU_ASSERT_EQUAL(decode_raw(HL_SYNCSET, &two, 1, &r), 0);
	CU_ASSERT_EQUAL(r.syncset, 2);
	CU_ASSERT_EQUAL(decode_raw(HL_R_STATE, NULL, 0, &r), XE_UNKNOWN);
	CU_ASSERT_STRING_EQUAL(msg, "unknown ha-link request type 250");
	CU_ASSERT_EQUAL(decode_raw(0, NULL, 0, &r), XE_UNKNOWN);
}

static void
t_names(void)
{
	CU_ASSERT_STRING_EQUAL(halink_typename(HL_ROLE), "HL_ROLE");
	CU_ASSERT_STRING_EQUAL(halink_typename(HL_SYNC), "HL_SYNC");
	CU_ASSERT_STRING_EQUAL(halink_typename(HL_LEASE), "HL_LEASE");
	CU_ASSERT_STRING_EQUAL(halink_typename(HL_SYNCSET), "HL_SYNCSET");
	CU_ASSERT_STRING_EQUAL(halink_typename(HL_R_EVENT), "?");
	CU_ASSERT_EQUAL(ha_role_parse(ha_role_word(HA_ROLE_SECONDARY)),
	    HA_ROLE_SECONDARY);
	CU_ASSERT_EQUAL(ha_role_parse("master"), -1);
}

/* A state with every field set, two peers. */
static void
sample_state(struct hl_state *st)
{
	memset(st, 0, sizeof(*st));
	st->role = HA_ROLE_SECONDARY;
	st->epoch = 9;
	st->gen = 4;
	st->lsn = (struct hl_lsn){ 2, 3000 };
	st->startup_done = 1;
	st->durability = HL_DUR_STRICT;
	st->dbstate = HL_DB_DIRTY;
	st->sync_on = 1;
	st->follow = 1;
	st->foreign = 12;
	st->fault = 1;
	st->fault_first_age_ms = 4000;
	st->fault_last_age_ms = 30;
	strcpy(st->fault_why, "No space left on device");
	st->lease_on = 1;
	st->lease_left_ms = 2500;
	st->syncset_on = 1;
	st->syncset = 0x06;
	st->npeers = 2;
	st->peers[0] = (struct hl_peer){ .eid = 1, .addr = "10.0.0.1",
	    .up = 1, .insync = 1, .lsn = { 2, 3100 }, .acked = { 2, 2900 },
	    .behind_bytes = 100 };
	st->peers[1] = (struct hl_peer){ .eid = 3, .addr = "10.0.0.3",
	    .lsn = { 1, 10 }, .behind_commits = 7, .auth_failed = 1,
	    .auth_age_ms = 1200, .auth_why = "tlsv1 alert decrypt error" };
}

/* The typed state: exact round trip, every truncation and trailing byte
 * refused, enum values and flags out of range refused, and the text. */
static void
t_state(void)
{
	struct hl_state st, d;
	struct buf b;
	char err[256], text[4096];
	size_t i;
	static const struct { size_t off; uint8_t val; const char *why; } bad[] = {
		/* offsets from the layout in hlstate.h */
		{ 0, 4, "unknown role" },
		{ 17, 2, "flag" },                /* startupDone */
		{ 18, 3, "unknown durability" },
		{ 19, 4, "unknown database state" },
		{ 20, 2, "flag" },                /* sync */
		{ 33, 2, "flag" },                /* fault */
		{ 75, 2, "flag" },                /* leaseOn */
		{ 75, 0, "lease time without a lease" },
		{ 80, 2, "flag" },                /* syncSetOn */
		{ 80, 0, "synchronous-standby set without arbiter sync mode" },
	};

	sample_state(&st);
	buf_init(&b);
	hl_state_encode(&b, &st);
	CU_ASSERT_FATAL(!b.oom);
	CU_ASSERT_EQUAL(hl_state_decode(b.p, b.len, &d, err, sizeof(err)), 0);
	CU_ASSERT(memcmp(&st, &d, sizeof(st)) == 0);
	for (i = 0; i < b.len; i++) {
		err[0] = '\0';
		CU_ASSERT_EQUAL(hl_state_decode(b.p, i, &d, err, sizeof(err)), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "malformed replication state"));
	}
	buf_put_u8(&b, 0);
	CU_ASSERT_EQUAL(hl_state_decode(b.p, b.len, &d, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "trailing bytes"));
	b.len--;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t keep = b.p[bad[i].off];

		b.p[bad[i].off] = bad[i].val;
		CU_ASSERT_EQUAL(hl_state_decode(b.p, b.len, &d, err,
		    sizeof(err)), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, bad[i].why));
		b.p[bad[i].off] = keep;
	}
	/* more peers than there is room for, a control character */
	buf_reset(&b);
	st.npeers = 1;
	strcpy(st.peers[0].addr, "10.0.0.1\n");
	hl_state_encode(&b, &st);
	CU_ASSERT_EQUAL(hl_state_decode(b.p, b.len, &d, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not printable"));
	buf_free(&b);

	sample_state(&st);
	CU_ASSERT(hl_state_format(&st, text, sizeof(text)) > 0);
	CU_ASSERT_STRING_EQUAL(text,
	    "role secondary\nepoch 9\ngen 4\nlsn 2/3000\nstartupDone 1\n"
	    "durability strict\nstate dirty\nsync on\nfollow 1\n"
	    "foreignDropped 12\n"
	    "leaseLeftMs 2500\n"
	    "syncSet 0x06\n"
	    "peer 1 10.0.0.1 connected lsn 2/3100 acked 2/2900 behindBytes 100 "
	    "behindCommits 0 in-sync\n"
	    "peer 3 10.0.0.3 down lsn 1/10 acked 0/0 behindBytes 0 "
	    "behindCommits 7 dirty\n"
	    "writeFault 4000 30 No space left on device\n"
	    "peerAuthFailed 3 1200 tlsv1 alert decrypt error\n");
	/* a lease that ran out shows as 0; without one, no line */
	st.lease_left_ms = 0;
	hl_state_format(&st, text, sizeof(text));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nleaseLeftMs 0\n"));
	st.lease_on = 0;
	hl_state_format(&st, text, sizeof(text));
	CU_ASSERT_PTR_NULL(strstr(text, "lease"));
	/* an empty set is said while on; off, no line */
	st.syncset = 0;
	hl_state_format(&st, text, sizeof(text));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nsyncSet 0x00\n"));
	st.syncset_on = 0;
	hl_state_format(&st, text, sizeof(text));
	CU_ASSERT_PTR_NULL(strstr(text, "syncSet"));
	st.role = HA_ROLE_STANDALONE;
	hl_state_format(&st, text, sizeof(text));
	CU_ASSERT_STRING_EQUAL(text, "role standalone\n");
	/* a small buffer is cut, never overrun */
	sample_state(&st);
	CU_ASSERT(hl_state_format(&st, text, 10) > 10);
	CU_ASSERT_EQUAL(strlen(text), 9);
}

void
test_halink_register(void)
{
	CU_pSuite s = CU_add_suite("halink", NULL, NULL);

	CU_add_test(s, "every request round-trips", t_roundtrip);
	CU_add_test(s, "refusals keep their codes and words", t_refusals);
	CU_add_test(s, "names", t_names);
	CU_add_test(s, "the typed state", t_state);
}
