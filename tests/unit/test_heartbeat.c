/* test_heartbeat.c — the heartbeat packet, its authentication, replay and
 * freshness rules, the config checksum, rate-limited logging and a real
 * UDP exchange on 127.0.0.1 (hasvr/heartbeat.c). */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "unit.h"
#include "cfg.h"
#include "hacfg.h"
#include "log.h"
#include "tlsctx.h"
#include "util.h"
#include "heartbeat.h"

#define SECRET "0123456789abcdef-shared"

static unsigned char key[HB_KEY_LEN];

static void
derive(const char *secret, unsigned char k[HB_KEY_LEN])
{
	char err[256];

	CU_ASSERT_EQUAL_FATAL(heartbeat_derive_key(secret, strlen(secret), k,
	    err, sizeof(err)), 0);
}

/* every field set to something distinct and non-trivial */
static void
sample(struct hb_msg *m)
{
	int i;

	memset(m, 0, sizeof(*m));
	m->role = HA_ROLE_SECONDARY;
	m->dbstate = HB_DB_DIRTY;
	m->flags = HB_F_HASYNC | HB_F_STARTUP | HB_F_PINGABLE;
	m->eid = 0x01020304;
	m->epoch = 0x1122334455667788ULL;
	m->boot_id = 0x8877665544332211ULL;
	m->seq = 0xfedcba9876543210ULL;
	m->echo_boot_id = 0x0badc0ffee0ddf00ULL;
	m->echo_seq = 0x7fffffffffffffffULL;
	m->db_gen = 0xa1b2c3d4;
	m->lsn_file = 0xdeadbeef;
	m->lsn_offset = 0x00c0ffee;
	m->handoff_eid = 2;
	m->insync_set = 0x05;
	for (i = 0; i < HB_SUM_LEN; i++)
		m->cfg_sum[i] = (unsigned char)(0xa5 ^ (i * 7));
	snprintf(m->build, sizeof(m->build), "hasvr 1.0.0 (abc123) x86_64");
}

static void
same_msg(const struct hb_msg *a, const struct hb_msg *b)
{
	CU_ASSERT_EQUAL(b->version, HB_VERSION);
	CU_ASSERT_EQUAL(a->role, b->role);
	CU_ASSERT_EQUAL(a->dbstate, b->dbstate);
	CU_ASSERT_EQUAL(a->insync_set, b->insync_set);
	CU_ASSERT_EQUAL(a->flags, b->flags);
	CU_ASSERT_EQUAL(a->eid, b->eid);
	CU_ASSERT_EQUAL(a->epoch, b->epoch);
	CU_ASSERT_EQUAL(a->boot_id, b->boot_id);
	CU_ASSERT_EQUAL(a->seq, b->seq);
	CU_ASSERT_EQUAL(a->echo_boot_id, b->echo_boot_id);
	CU_ASSERT_EQUAL(a->echo_seq, b->echo_seq);
	CU_ASSERT_EQUAL(a->db_gen, b->db_gen);
	CU_ASSERT_EQUAL(a->lsn_file, b->lsn_file);
	CU_ASSERT_EQUAL(a->lsn_offset, b->lsn_offset);
	CU_ASSERT_EQUAL(a->handoff_eid, b->handoff_eid);
	CU_ASSERT_EQUAL(memcmp(a->cfg_sum, b->cfg_sum, HB_SUM_LEN), 0);
	CU_ASSERT_STRING_EQUAL(a->build, b->build);
}

static int
encode(const struct hb_msg *m, unsigned char *pkt)
{
	int n = heartbeat_encode(m, key, pkt, HB_MAX_LEN);

	CU_ASSERT_EQUAL_FATAL(n, HB_LEN);
	return n;
}

/* decode from an exactly sized heap copy, so ASan sees any overread */
static int
decode_copy(const unsigned char *pkt, size_t len, struct hb_msg *out,
    char *why, size_t whylen)
{
	unsigned char *copy = malloc(len ? len : 1);
	int rc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
	memcpy(copy, pkt, len);
	rc = heartbeat_decode(copy, len, key, out, why, whylen);
	free(copy);
	return rc;
}

static void
test_roundtrip(void)
{
	unsigned char pkt[HB_MAX_LEN];
	struct hb_msg m, d;
	char why[256];
	int n;

	sample(&m);
	n = encode(&m, pkt);
	CU_ASSERT_EQUAL(memcmp(pkt, "HAHB", 4), 0);
	CU_ASSERT_EQUAL(pkt[4], HB_VERSION);
	CU_ASSERT_EQUAL(decode_copy(pkt, n, &d, why, sizeof(why)), HB_OK);
	same_msg(&m, &d);

	/* the extremes of each field */
	memset(m.build, 'x', HB_BUILD_LEN);
	m.build[HB_BUILD_LEN] = '\0';
	m.role = HA_ROLE_PRIMARY;
	m.dbstate = HB_DB_ALONE;
	m.insync_set = 0xff;
	m.flags = HB_F_ALL;
	m.eid = 0xffffffff;
	m.epoch = 0;
	m.boot_id = m.seq = UINT64_MAX;
	m.echo_boot_id = m.echo_seq = 0;
	m.db_gen = m.lsn_file = m.lsn_offset = 0;
	n = encode(&m, pkt);
	CU_ASSERT_EQUAL(decode_copy(pkt, n, &d, why, sizeof(why)), HB_OK);
	same_msg(&m, &d);
	CU_ASSERT_EQUAL(strlen(d.build), HB_BUILD_LEN);

	m.build[0] = '\0';
	m.role = HA_ROLE_STARTING;
	m.dbstate = HB_DB_UNKNOWN;
	m.flags = 0;
	m.eid = 1;
	m.boot_id = m.seq = 1;
	n = encode(&m, pkt);
	CU_ASSERT_EQUAL(decode_copy(pkt, n, &d, why, sizeof(why)), HB_OK);
	same_msg(&m, &d);

	CU_ASSERT_STRING_EQUAL(ha_role_word(HA_ROLE_PRIMARY), "primary");
	CU_ASSERT_STRING_EQUAL(heartbeat_dbstate_name(HB_DB_INSYNC), "in-sync");
	CU_ASSERT_STRING_EQUAL(heartbeat_reject_name(HB_REJ_MAC), "mac");
	CU_ASSERT_STRING_EQUAL(heartbeat_reject_name(99), "unknown");
	CU_ASSERT_STRING_EQUAL(ha_role_word(7), "unknown");
}

static void
test_encode_refuses(void)
{
	unsigned char pkt[HB_MAX_LEN];
	struct hb_msg m;

	sample(&m);
	CU_ASSERT_EQUAL(heartbeat_encode(&m, key, pkt, HB_LEN - 1), -1);
	CU_ASSERT_EQUAL(heartbeat_encode(&m, key, pkt, HB_LEN), HB_LEN);
	sample(&m); m.role = 3;
	CU_ASSERT_EQUAL(heartbeat_encode(&m, key, pkt, sizeof(pkt)), -1);
	sample(&m); m.dbstate = 4;
	CU_ASSERT_EQUAL(heartbeat_encode(&m, key, pkt, sizeof(pkt)), -1);
	sample(&m); m.flags = 0x40;
	CU_ASSERT_EQUAL(heartbeat_encode(&m, key, pkt, sizeof(pkt)), -1);
	sample(&m); m.eid = 0;
	CU_ASSERT_EQUAL(heartbeat_encode(&m, key, pkt, sizeof(pkt)), -1);
	sample(&m); m.boot_id = 0;
	CU_ASSERT_EQUAL(heartbeat_encode(&m, key, pkt, sizeof(pkt)), -1);
	sample(&m); m.seq = 0;
	CU_ASSERT_EQUAL(heartbeat_encode(&m, key, pkt, sizeof(pkt)), -1);
	sample(&m); m.echo_seq = 0;
	CU_ASSERT_EQUAL(heartbeat_encode(&m, key, pkt, sizeof(pkt)), -1);
	sample(&m); m.build[3] = '\n';
	CU_ASSERT_EQUAL(heartbeat_encode(&m, key, pkt, sizeof(pkt)), -1);
	sample(&m); memset(m.build, 'y', sizeof(m.build));   /* no NUL */
	CU_ASSERT_EQUAL(heartbeat_encode(&m, key, pkt, sizeof(pkt)), -1);
}

static void
test_wrong_key(void)
{
	unsigned char pkt[HB_MAX_LEN], other[HB_KEY_LEN], repkey[32];
	struct hb_msg m, d;
	char why[256];
	int n;

	sample(&m);
	n = encode(&m, pkt);
	derive("another-shared-key-0123", other);
	memset(&d, 0x5a, sizeof(d));
	CU_ASSERT_EQUAL(heartbeat_decode(pkt, n, other, &d, why, sizeof(why)),
	    HB_REJ_MAC);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "HMAC"));
	CU_ASSERT_EQUAL(d.eid, 0x5a5a5a5a);   /* untouched on rejection */

	/* the heartbeat key is not the replication key of the same secret */
	CU_ASSERT_EQUAL(tlsctx_derive(SECRET, strlen(SECRET),
	    "hasvr replication v1", repkey), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(repkey, key, sizeof(key)), 0);
	CU_ASSERT_EQUAL(heartbeat_decode(pkt, n, repkey, &d, why, sizeof(why)),
	    HB_REJ_MAC);
}

static void
test_bitflips(void)
{
	unsigned char pkt[HB_MAX_LEN], bad[HB_MAX_LEN];
	struct hb_msg m, d;
	char why[256];
	int n, i, b, rc, want;

	sample(&m);
	n = encode(&m, pkt);
	for (i = 0; i < n; i++) {
		want = i < 4 ? HB_REJ_MAGIC : i == 4 ? HB_REJ_VERSION :
		    HB_REJ_MAC;
		for (b = 0; b < 8; b++) {
			memcpy(bad, pkt, n);
			bad[i] ^= 1 << b;
			rc = decode_copy(bad, n, &d, why, sizeof(why));
			CU_ASSERT_EQUAL(rc, want);
			if (rc != want)
				fprintf(stderr, "\nbyte %d bit %d: %d %s\n", i,
				    b, rc, why);
		}
	}
}

static void
test_truncated_and_oversized(void)
{
	unsigned char pkt[4096];
	struct hb_msg m, d;
	char why[256];
	size_t len;
	int n;

	sample(&m);
	n = encode(&m, pkt);
	for (len = 0; len < (size_t)n; len++)
		CU_ASSERT_EQUAL(decode_copy(pkt, len, &d, why, sizeof(why)),
		    HB_REJ_SHORT);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "truncated"));
	memset(pkt + n, 0, sizeof(pkt) - n);
	for (len = n + 1; len <= sizeof(pkt); len += len < 600 ? 1 : 97)
		CU_ASSERT_EQUAL(decode_copy(pkt, len, &d, why, sizeof(why)),
		    HB_REJ_SIZE);
	CU_ASSERT_EQUAL(heartbeat_decode(pkt, (size_t)-1, key, &d, why,
	    sizeof(why)), HB_REJ_SIZE);
	/* a NULL/0 why buffer is allowed */
	CU_ASSERT_EQUAL(heartbeat_decode(pkt, 3, key, &d, NULL, 0),
	    HB_REJ_SHORT);
	CU_ASSERT_EQUAL(decode_copy(pkt, n, &d, why, sizeof(why)), HB_OK);

	memcpy(pkt, "HAHX", 4);
	CU_ASSERT_EQUAL(decode_copy(pkt, n, &d, why, sizeof(why)),
	    HB_REJ_MAGIC);
	memcpy(pkt, "HAHB", 4);
	pkt[4] = HB_VERSION + 1;
	CU_ASSERT_EQUAL(decode_copy(pkt, n, &d, why, sizeof(why)),
	    HB_REJ_VERSION);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "version 3"));
	/* a future version is refused by its version, whatever its size */
	CU_ASSERT_EQUAL(decode_copy(pkt, 300, &d, why, sizeof(why)),
	    HB_REJ_VERSION);
}

/* Change byte off of a valid packet and sign it again: an authentic
 * packet from a buggy sender. */
static int
resign_with(const struct hb_msg *m, int off, unsigned char val, int *rc,
    char *why, size_t whylen)
{
	unsigned char pkt[HB_MAX_LEN];
	struct hb_msg d;
	size_t taglen;

	encode(m, pkt);
	pkt[off] = val;
	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, HB_KEY_LEN,
	    pkt, HB_LEN - HB_TAG_LEN, pkt + HB_LEN - HB_TAG_LEN,
	    HB_TAG_LEN, &taglen) == NULL)
		return -1;
	*rc = decode_copy(pkt, HB_LEN, &d, why, whylen);
	return 0;
}

static void
test_malformed_but_authentic(void)
{
	static const struct { int off; unsigned char val; const char *why; } t[] = {
		{ 5, 3, "unknown role 3" },
		{ 6, 9, "unknown database state 9" },
		{ 11, 0x7f, "unknown flags 0x40" },
		{ 112 + 40, '\0', "NUL-padded" },  /* NUL inside the text */
		{ 112 + 2, 0x7f, "not printable" },
		{ 112 + 63, 'z', "NUL-padded" },
	};
	struct hb_msg m;
	char why[256];
	size_t i;
	int rc;

	sample(&m);
	memset(m.build, 'b', 50);
	m.build[50] = '\0';
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		CU_ASSERT_EQUAL_FATAL(resign_with(&m, t[i].off, t[i].val, &rc,
		    why, sizeof(why)), 0);
		CU_ASSERT_EQUAL(rc, HB_REJ_MALFORMED);
		CU_ASSERT_PTR_NOT_NULL(strstr(why, t[i].why));
		if (strstr(why, t[i].why) == NULL)
			fprintf(stderr, "\ncase %zu: %s\n", i, why);
	}
	/* zero eid, boot id, seq; echo half set */
	sample(&m);
	CU_ASSERT_EQUAL(resign_with(&m, 15, 0, &rc, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(rc, HB_OK);   /* eid 0x01020300 is still non-zero */
	m.eid = 4;
	CU_ASSERT_EQUAL(resign_with(&m, 15, 0, &rc, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(rc, HB_REJ_MALFORMED);
	m.echo_seq = 1;
	m.echo_boot_id = 1;
	CU_ASSERT_EQUAL(resign_with(&m, 47, 0, &rc, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(rc, HB_REJ_MALFORMED);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "echo"));
}

/* ---- replay and freshness ---- */

struct node {
	struct hb_sender tx;
	struct hb_peer_state peer;   /* the other node, as seen from here */
	uint32_t eid;
};

static void
node_init(struct node *n, uint32_t eid, uint32_t peer_eid)
{
	char err[256];

	n->eid = eid;
	CU_ASSERT_EQUAL_FATAL(heartbeat_sender_init(&n->tx, err, sizeof(err)), 0);
	CU_ASSERT_NOT_EQUAL(n->tx.boot_id, 0);
	heartbeat_peer_init(&n->peer, peer_eid, &n->tx);
}

/* a heartbeat from a to its peer, through encode and decode */
static void
node_send(struct node *a, struct hb_msg *m)
{
	unsigned char pkt[HB_MAX_LEN];
	char why[256];

	sample(m);
	m->eid = a->eid;
	heartbeat_stamp(&a->tx, &a->peer, m);
	encode(m, pkt);
	CU_ASSERT_EQUAL_FATAL(heartbeat_decode(pkt, HB_LEN, key, m, why,
	    sizeof(why)), HB_OK);
}

static int
deliver(struct node *to, const struct hb_msg *m, uint64_t now)
{
	char why[256];

	return heartbeat_accept(&to->peer, m, now, why, sizeof(why));
}

static void
test_replay_and_restart(void)
{
	struct node a, b, b2;
	struct hb_msg mb1, mb2, ma, mb3, mold, m;
	char why[256];
	int i;

	node_init(&a, 1, 2);
	node_init(&b, 2, 1);
	CU_ASSERT_NOT_EQUAL(a.tx.boot_id, b.tx.boot_id);

	/* b speaks first: nothing proves it fresh yet */
	node_send(&b, &mb1);
	CU_ASSERT_EQUAL(mb1.seq, 1);
	CU_ASSERT_EQUAL(mb1.echo_boot_id, 0);
	CU_ASSERT_EQUAL(heartbeat_accept(&a.peer, &mb1, 100, why, sizeof(why)),
	    HB_REJ_STALE);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "does not echo"));
	/* a answers, echoing b */
	node_send(&a, &ma);
	CU_ASSERT_EQUAL(ma.echo_boot_id, b.tx.boot_id);
	CU_ASSERT_EQUAL(ma.echo_seq, 1);
	CU_ASSERT_EQUAL(deliver(&b, &ma, 100), HB_OK);
	/* now b echoes a: accepted, and the same packet again is a replay */
	node_send(&b, &mb2);
	CU_ASSERT_EQUAL(mb2.echo_boot_id, a.tx.boot_id);
	CU_ASSERT_EQUAL(deliver(&a, &mb2, 200), HB_OK);
	CU_ASSERT_EQUAL(a.peer.last_ms, 200);
	CU_ASSERT_EQUAL(heartbeat_accept(&a.peer, &mb2, 210, why, sizeof(why)),
	    HB_REJ_REPLAY);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "not above"));
	CU_ASSERT_EQUAL(a.peer.last_ms, 200);
	/* the older packet, and later ones in order */
	CU_ASSERT_EQUAL(deliver(&a, &mb1, 220), HB_REJ_REPLAY);
	for (i = 0; i < 10; i++) {
		node_send(&b, &m);
		CU_ASSERT_EQUAL(deliver(&a, &m, 300 + i), HB_OK);
	}
	mold = m;                     /* b's last packet of this boot */
	/* out of order: seq below the last accepted */
	node_send(&b, &mb3);
	node_send(&b, &m);
	CU_ASSERT_EQUAL(deliver(&a, &m, 400), HB_OK);
	CU_ASSERT_EQUAL(deliver(&a, &mb3, 401), HB_REJ_REPLAY);

	/* wrong eid at b's address */
	node_send(&b, &m);
	m.eid = 3;
	CU_ASSERT_EQUAL(heartbeat_accept(&a.peer, &m, 402, why, sizeof(why)),
	    HB_REJ_EID);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "sender eid 3"));

	/* b restarts: new boot id, seq from 1 */
	b2 = b;
	node_init(&b2, 2, 1);
	node_send(&a, &ma);           /* a keeps sending; b2 is not up yet */
	node_send(&b2, &m);
	CU_ASSERT_EQUAL(m.seq, 1);
	CU_ASSERT_EQUAL(deliver(&a, &m, 500), HB_REJ_STALE);
	node_send(&a, &ma);
	CU_ASSERT_EQUAL(ma.echo_boot_id, b2.tx.boot_id);
	CU_ASSERT_EQUAL(deliver(&b2, &ma, 500), HB_OK);
	node_send(&b2, &m);
	CU_ASSERT_EQUAL(deliver(&a, &m, 510), HB_OK);
	CU_ASSERT_EQUAL(a.peer.boot_id, b2.tx.boot_id);
	/* the old boot replayed, even with a higher seq: rejected */
	CU_ASSERT_EQUAL(heartbeat_accept(&a.peer, &mold, 520, why, sizeof(why)),
	    HB_REJ_REPLAY);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "replaced by a newer"));
	CU_ASSERT_EQUAL(a.peer.boot_id, b2.tx.boot_id);
	node_send(&b2, &m);
	CU_ASSERT_EQUAL(deliver(&a, &m, 530), HB_OK);
}

/* Packets of a boot a never accepted (captured before a started, or
 * forgotten) must not revive a dead peer. */
static void
test_unknown_boot_replay(void)
{
	struct node a, a_old, b, ghost;
	struct hb_msg m, cap_old, cap_fresh;
	int i;

	node_init(&a_old, 1, 2);
	node_init(&ghost, 2, 1);
	/* ghost was a's peer in a's previous life: its packets echo a_old */
	node_send(&ghost, &m);
	CU_ASSERT_EQUAL(deliver(&a_old, &m, 1), HB_REJ_STALE);
	node_send(&a_old, &m);
	CU_ASSERT_EQUAL(deliver(&ghost, &m, 2), HB_OK);
	node_send(&ghost, &cap_old);
	CU_ASSERT_EQUAL(cap_old.echo_boot_id, a_old.tx.boot_id);
	CU_ASSERT_EQUAL(deliver(&a_old, &cap_old, 3), HB_OK);

	/* a restarts; the real peer is dead, the attacker replays ghost */
	node_init(&a, 1, 2);
	CU_ASSERT_EQUAL(deliver(&a, &cap_old, 10), HB_REJ_STALE);
	CU_ASSERT_EQUAL(deliver(&a, &cap_old, 11), HB_REJ_STALE);
	CU_ASSERT_FALSE(a.peer.have);

	/* b comes up; a packet of b that does echo a's current boot is
	 * captured; then b restarts more than HB_OLD_BOOTS times, so its
	 * boot id is forgotten */
	node_init(&b, 2, 1);
	node_send(&a, &m);
	CU_ASSERT_EQUAL(deliver(&b, &m, 12), HB_REJ_STALE);
	node_send(&b, &m);
	CU_ASSERT_EQUAL(deliver(&a, &m, 13), HB_OK);
	node_send(&a, &m);
	CU_ASSERT_EQUAL(deliver(&b, &m, 14), HB_OK);
	node_send(&b, &cap_fresh);
	CU_ASSERT_EQUAL(deliver(&a, &cap_fresh, 15), HB_OK);
	for (i = 0; i < HB_OLD_BOOTS + 2; i++) {
		node_init(&b, 2, 1);
		node_send(&b, &m);
		CU_ASSERT_EQUAL(deliver(&a, &m, 20 + i), HB_REJ_STALE);
		node_send(&a, &m);
		CU_ASSERT_EQUAL(deliver(&b, &m, 20 + i), HB_OK);
		node_send(&b, &m);
		CU_ASSERT_EQUAL(deliver(&a, &m, 20 + i), HB_OK);
	}
	/* forgotten boot id, but its echo of a's seq is older than one
	 * already taken */
	CU_ASSERT_EQUAL(deliver(&a, &cap_fresh, 100), HB_REJ_STALE);
	CU_ASSERT_EQUAL(deliver(&a, &cap_old, 101), HB_REJ_STALE);

	/* an echo of a seq a never sent is a forgery of a buggy peer */
	node_init(&b, 2, 1);
	node_send(&b, &m);
	m.echo_boot_id = a.tx.boot_id;
	m.echo_seq = a.tx.seq + 5;
	CU_ASSERT_EQUAL(deliver(&a, &m, 200), HB_REJ_STALE);
}

static void
test_counters(void)
{
	struct hb_counters c;

	memset(&c, 0, sizeof(c));
	heartbeat_count(&c, HB_OK);
	heartbeat_count(&c, HB_OK);
	heartbeat_count(&c, HB_REJ_MAC);
	heartbeat_count(&c, HB_REJ_REPLAY);
	heartbeat_count(&c, HB_REJ_STALE);
	heartbeat_count(&c, HB_REJ_EID);
	heartbeat_count(&c, HB_REJ_SHORT);
	heartbeat_count(&c, HB_REJ_MAGIC);
	heartbeat_count(&c, HB_REJ_MALFORMED);
	CU_ASSERT_EQUAL(c.received, 9);
	CU_ASSERT_EQUAL(c.accepted, 2);
	CU_ASSERT_EQUAL(c.rejected_mac, 1);
	CU_ASSERT_EQUAL(c.rejected_replay, 1);
	CU_ASSERT_EQUAL(c.rejected_stale, 1);
	CU_ASSERT_EQUAL(c.rejected_eid, 1);
	CU_ASSERT_EQUAL(c.rejected_malformed, 3);
}

/* ---- config checksum ---- */

static int
checksum_of(const char *text, unsigned char sum[HB_SUM_LEN])
{
	struct cfg c;
	char err[256];
	int rc;

	cfg_init(&c, hacfg_keys, hacfg_nkeys);
	CU_ASSERT_EQUAL(cfg_parse_string(&c, "haSvr.cfg", text), 0);
	CU_ASSERT_EQUAL(hacfg_check(&c), 0);
	rc = heartbeat_cfg_checksum(&c, sum, err, sizeof(err));
	CU_ASSERT_EQUAL(rc, 0);
	cfg_free(&c);
	return rc;
}

#define CFG_COMMON \
	"highAvail.isHaEnabled y\n" \
	"highAvail.primaryAddr 10.0.0.1\n" \
	"highAvail.secondaryAddr 10.0.0.2\n"

static void
test_cfg_checksum(void)
{
	unsigned char s1[HB_SUM_LEN], s2[HB_SUM_LEN], s3[HB_SUM_LEN];
	const char *node1 =
	    "# node one\n"
	    CFG_COMMON
	    "highAvail.myAddr 10.0.0.1\n"
	    "highAvail.HMACKey 0123456789abcdef\n"
	    "highAvail.replicaAddrs 10.0.0.3 10.0.0.4\n"
	    "highAvail.deadInterval 2s\n"
	    "highAvail.heartbeatPort 7802\n";
	/* other node: other myAddr, comments, order, spacing and units */
	const char *node2 =
	    "highAvail.HMACKey   0123456789abcdef\n"
	    "# the second node\n"
	    "highAvail.deadInterval 2000ms\n"
	    "\n"
	    CFG_COMMON
	    "highAvail.replicaAddrs  10.0.0.4\t10.0.0.3\n"
	    "highAvail.myAddr 10.0.0.2   \n";
	const char *otherkey =
	    CFG_COMMON
	    "highAvail.myAddr 10.0.0.1\n"
	    "highAvail.HMACKey 0123456789abcdeF\n"
	    "highAvail.replicaAddrs 10.0.0.3 10.0.0.4\n"
	    "highAvail.deadInterval 2s\n";
	const char *strict =
	    "# node one\n"
	    CFG_COMMON
	    "highAvail.myAddr 10.0.0.1\n"
	    "highAvail.HMACKey 0123456789abcdef\n"
	    "highAvail.replicaAddrs 10.0.0.3 10.0.0.4\n"
	    "highAvail.deadInterval 2s\n"
	    "highAvail.durability strict\n";
	const char *slower =
	    CFG_COMMON
	    "highAvail.myAddr 10.0.0.1\n"
	    "highAvail.HMACKey 0123456789abcdef\n"
	    "highAvail.replicaAddrs 10.0.0.3 10.0.0.4\n"
	    "highAvail.deadInterval 3s\n";
	/* node-local places: another varDir and certificate paths */
	const char *elsewhere =
	    "# node one, installed elsewhere\n"
	    CFG_COMMON
	    "highAvail.myAddr 10.0.0.1\n"
	    "highAvail.HMACKey 0123456789abcdef\n"
	    "highAvail.replicaAddrs 10.0.0.3 10.0.0.4\n"
	    "highAvail.deadInterval 2s\n"
	    "highAvail.varDir /srv/hasvr/var\n"
	    "highAvail.tlsCAFile /srv/tls/ca.pem\n"
	    "highAvail.tlsCertFile /srv/tls/node.pem\n"
	    "highAvail.tlsKeyFile /srv/tls/node.key\n";
	struct cfg c;
	char err[256];
	size_t i;
	int zero = 1;

	CU_ASSERT_EQUAL(checksum_of(elsewhere, s3), 0);
	CU_ASSERT_EQUAL(checksum_of(node1, s1), 0);
	CU_ASSERT_EQUAL(memcmp(s1, s3, HB_SUM_LEN), 0);
	CU_ASSERT_EQUAL(checksum_of(node2, s2), 0);
	CU_ASSERT_EQUAL(memcmp(s1, s2, HB_SUM_LEN), 0);
	for (i = 0; i < HB_SUM_LEN; i++)
		zero &= s1[i] == 0;
	CU_ASSERT_FALSE(zero);
	CU_ASSERT_EQUAL(checksum_of(otherkey, s3), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(s1, s3, HB_SUM_LEN), 0);
	CU_ASSERT_EQUAL(checksum_of(strict, s3), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(s1, s3, HB_SUM_LEN), 0);
	CU_ASSERT_EQUAL(checksum_of(slower, s3), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(s1, s3, HB_SUM_LEN), 0);

	/* the same, computed twice */
	CU_ASSERT_EQUAL(checksum_of(node1, s3), 0);
	CU_ASSERT_EQUAL(memcmp(s1, s3, HB_SUM_LEN), 0);

	/* all defaults (HA off, nothing set) is a valid input too */
	cfg_init(&c, hacfg_keys, hacfg_nkeys);
	CU_ASSERT_EQUAL(heartbeat_cfg_checksum(&c, s3, err, sizeof(err)), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(s1, s3, HB_SUM_LEN), 0);
	cfg_free(&c);
}

/* ---- rate-limited logging ---- */

static void
test_ratelimit(void)
{
	struct hb_ratelimit rl;
	char line[512], path[512], *dir, *text;
	struct log_opts o;
	char err[256];
	size_t len;
	int i;

	memset(&rl, 0, sizeof(rl));
	CU_ASSERT_EQUAL(heartbeat_reject_line(&rl, "10.0.0.2", HB_REJ_MAC,
	    "bad HMAC", 1000, line, sizeof(line)), 1);
	CU_ASSERT_STRING_EQUAL(line, "heartbeat from 10.0.0.2 rejected: "
	    "bad HMAC");
	for (i = 0; i < 5; i++)
		CU_ASSERT_EQUAL(heartbeat_reject_line(&rl, "10.0.0.2",
		    HB_REJ_MAC, "bad HMAC", 1000 + i * 1000, line,
		    sizeof(line)), 0);
	/* another reason is not held back by the first */
	CU_ASSERT_EQUAL(heartbeat_reject_line(&rl, "10.0.0.2", HB_REJ_REPLAY,
	    "old", 5000, line, sizeof(line)), 1);
	CU_ASSERT_STRING_EQUAL(line, "heartbeat from 10.0.0.2 rejected: old");
	CU_ASSERT_EQUAL(heartbeat_reject_line(&rl, "10.0.0.2", HB_REJ_MAC,
	    "bad HMAC", 10999, line, sizeof(line)), 0);
	CU_ASSERT_EQUAL(heartbeat_reject_line(&rl, "10.0.0.2", HB_REJ_MAC,
	    "bad HMAC", 11000, line, sizeof(line)), 1);
	CU_ASSERT_STRING_EQUAL(line, "heartbeat from 10.0.0.2 rejected: "
	    "bad HMAC (6 more suppressed)");
	CU_ASSERT_EQUAL(heartbeat_reject_line(&rl, "10.0.0.2", HB_REJ_MAC,
	    "bad HMAC", 30000, line, sizeof(line)), 1);
	CU_ASSERT_STRING_EQUAL(line, "heartbeat from 10.0.0.2 rejected: "
	    "bad HMAC");
	/* no why: the reason's name */
	CU_ASSERT_EQUAL(heartbeat_reject_line(&rl, "::1", HB_REJ_SHORT, NULL,
	    30000, line, sizeof(line)), 1);
	CU_ASSERT_STRING_EQUAL(line, "heartbeat from ::1 rejected: short");

	/* through the log */
	dir = unit_tmpdir();
	snprintf(path, sizeof(path), "%s/ha.log", dir);
	memset(&o, 0, sizeof(o));
	o.path = path;
	o.ident = "unit";
	o.level = LOG_LVL_INFO;
	CU_ASSERT_EQUAL_FATAL(log_open(&o, err, sizeof(err)), 0);
	memset(&rl, 0, sizeof(rl));
	CU_ASSERT_EQUAL(heartbeat_log_reject(&rl, "10.0.0.9", HB_REJ_MAC,
	    "bad HMAC (forged)", 0), 1);
	for (i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(heartbeat_log_reject(&rl, "10.0.0.9",
		    HB_REJ_MAC, "bad HMAC (forged)", 10 + i), 0);
	CU_ASSERT_EQUAL(heartbeat_log_reject(&rl, "10.0.0.9", HB_REJ_MAC,
	    "bad HMAC (forged)", 10000), 1);
	log_close();
	text = util_read_file(path, 1 << 20, &len, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "heartbeat from 10.0.0.9 "
	    "rejected: bad HMAC (forged)\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "heartbeat from 10.0.0.9 "
	    "rejected: bad HMAC (forged) (3 more suppressed)\n"));
	free(text);
	unit_rmtree(dir);
	free(dir);
}

/* ---- UDP on 127.0.0.1 ---- */

static int
open_any(int *port)
{
	char err[256];
	int i, fd;

	/* a port nobody holds, chosen at random to keep parallel runs apart */
	for (i = 0; i < 200; i++) {
		*port = 20000 + (int)(((unsigned)getpid() * 7919u +
		    (unsigned)i * 104729u) % 40000u);
		if ((fd = heartbeat_socket_open("127.0.0.1", *port, err,
		    sizeof(err))) != -1)
			return fd;
	}
	return -1;
}

/* receive one datagram (waiting up to 2 s) and run it through decode,
 * accept and the counters */
static int
udp_receive(int fd, struct node *n, struct hb_counters *cnt, long *lenp)
{
	unsigned char buf[HB_MAX_LEN + 1];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct hb_msg m;
	char from[64], why[256];
	int port, rc;
	long len;

	if (poll(&pfd, 1, 2000) != 1)
		return -100;
	len = heartbeat_recv(fd, buf, sizeof(buf), from, sizeof(from), &port);
	if (lenp != NULL)
		*lenp = len;
	if (len < 0)
		return -101;
	CU_ASSERT_STRING_EQUAL(from, "127.0.0.1");
	rc = heartbeat_decode(buf, (size_t)len, key, &m, why, sizeof(why));
	if (rc == HB_OK)
		rc = heartbeat_accept(&n->peer, &m, util_now_ms(), why,
		    sizeof(why));
	heartbeat_count(cnt, rc);
	return rc;
}

static int
udp_send(int fd, struct node *n, int to_port)
{
	unsigned char pkt[HB_MAX_LEN];
	struct hb_msg m;
	char err[256];

	sample(&m);
	m.eid = n->eid;
	heartbeat_stamp(&n->tx, &n->peer, &m);
	encode(&m, pkt);
	return heartbeat_send(fd, "127.0.0.1", to_port, pkt, HB_LEN, err,
	    sizeof(err));
}

static void
test_udp_exchange(void)
{
	struct node a, b;
	struct hb_counters ca, cb;
	unsigned char big[600], buf[64];
	char err[256], from[64];
	int fa, fb, pa, pb, i, port;
	long len;

	memset(&ca, 0, sizeof(ca));
	memset(&cb, 0, sizeof(cb));
	node_init(&a, 1, 2);
	node_init(&b, 2, 1);
	fa = open_any(&pa);
	fb = open_any(&pb);
	CU_ASSERT_FATAL(fa != -1 && fb != -1);
	/* the port is taken now */
	CU_ASSERT_EQUAL(heartbeat_socket_open("127.0.0.1", pa, err,
	    sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot bind 127.0.0.1"));
	CU_ASSERT_EQUAL(heartbeat_socket_open("not-an-ip", pa, err,
	    sizeof(err)), -1);
	/* nothing waiting: non-blocking */
	CU_ASSERT_EQUAL(heartbeat_recv(fa, big, sizeof(big), from,
	    sizeof(from), &port), -1);
	CU_ASSERT_EQUAL(errno, EAGAIN);
	CU_ASSERT_EQUAL(heartbeat_recv(fa, buf, sizeof(buf), from,
	    sizeof(from), &port), -1);
	CU_ASSERT_EQUAL(errno, EINVAL);

	/* a speaks first, b answers: one round trip to trust each other */
	CU_ASSERT_EQUAL(udp_send(fa, &a, pb), 0);
	CU_ASSERT_EQUAL(udp_receive(fb, &b, &cb, NULL), HB_REJ_STALE);
	CU_ASSERT_EQUAL(udp_send(fb, &b, pa), 0);
	CU_ASSERT_EQUAL(udp_receive(fa, &a, &ca, NULL), HB_OK);
	for (i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL(udp_send(fa, &a, pb), 0);
		CU_ASSERT_EQUAL(udp_receive(fb, &b, &cb, NULL), HB_OK);
		CU_ASSERT_EQUAL(udp_send(fb, &b, pa), 0);
		CU_ASSERT_EQUAL(udp_receive(fa, &a, &ca, NULL), HB_OK);
	}
	CU_ASSERT_EQUAL(a.peer.boot_id, b.tx.boot_id);
	CU_ASSERT_EQUAL(b.peer.boot_id, a.tx.boot_id);
	CU_ASSERT_EQUAL(ca.accepted, 6);
	CU_ASSERT_EQUAL(cb.accepted, 5);
	CU_ASSERT_EQUAL(cb.rejected_stale, 1);

	/* an oversized datagram is seen at its real size */
	memset(big, 'A', sizeof(big));
	memcpy(big, "HAHB\001", 5);
	CU_ASSERT_EQUAL(heartbeat_send(fa, "127.0.0.1", pb, big, sizeof(big),
	    err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(udp_receive(fb, &b, &cb, &len), HB_REJ_SIZE);
	CU_ASSERT_EQUAL(len, (long)sizeof(big));
	/* garbage */
	CU_ASSERT_EQUAL(heartbeat_send(fa, "127.0.0.1", pb, "hello", 5, err,
	    sizeof(err)), 0);
	CU_ASSERT_EQUAL(udp_receive(fb, &b, &cb, NULL), HB_REJ_MAGIC);
	CU_ASSERT_EQUAL(cb.rejected_malformed, 2);
	CU_ASSERT_EQUAL(heartbeat_send(fa, "nowhere", pb, "x", 1, err,
	    sizeof(err)), -1);
	close(fa);
	close(fb);
}

/* ---- fuzz ---- */

static uint64_t
rnd(uint64_t *s)
{
	/* xorshift64*: fixed seed, so a failure reproduces */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static void
test_fuzz_decode(void)
{
	unsigned char pkt[HB_MAX_LEN], other[HB_MAX_LEN], work[700], *copy;
	struct hb_msg m, d;
	char why[256];
	uint64_t s = 0x9e3779b97f4a7c15ULL;
	size_t len, j, k;
	long iter, accepted = 0, wrong = 0, same = 0;
	int n, rc;

	sample(&m);
	n = encode(&m, pkt);
	m.seq++;
	m.role = HA_ROLE_PRIMARY;
	encode(&m, other);
	for (iter = 0; iter < 100000; iter++) {
		memcpy(work, pkt, n);
		len = n;
		switch (rnd(&s) % 6) {
		case 0:         /* flip a few bits */
			for (k = 1 + rnd(&s) % 4; k > 0; k--)
				work[rnd(&s) % len] ^= 1 << (rnd(&s) % 8);
			break;
		case 1:         /* overwrite a few bytes */
			for (k = 1 + rnd(&s) % 8; k > 0; k--)
				work[rnd(&s) % len] = (unsigned char)rnd(&s);
			break;
		case 2:         /* truncate */
			len = rnd(&s) % len;
			break;
		case 3:         /* extend */
			k = 1 + rnd(&s) % (sizeof(work) - len);
			for (j = 0; j < k; j++)
				work[len + j] = (unsigned char)rnd(&s);
			len += k;
			break;
		case 4:         /* splice in a piece of another valid packet */
			j = rnd(&s) % (size_t)n;
			k = rnd(&s) % ((size_t)n - j) + 1;
			memcpy(work + j, other + j, k);
			break;
		default:        /* random bytes behind a valid header */
			for (j = 5; j < len; j++)
				work[j] = (unsigned char)rnd(&s);
			break;
		}
		copy = malloc(len ? len : 1);
		CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
		memcpy(copy, work, len);
		rc = heartbeat_decode(copy, len, key, &d, why, sizeof(why));
		free(copy);
		if (rc == HB_OK) {
			accepted++;
			/* a splice may rebuild the other packet whole */
			if (len != (size_t)n || (memcmp(work, pkt, n) != 0 &&
			    memcmp(work, other, n) != 0))
				wrong++;
			else
				same++;
		}
	}
	CU_ASSERT_EQUAL(wrong, 0);
	CU_ASSERT_EQUAL(accepted, same);
	CU_ASSERT(accepted < 100000 / 6);
}

static void
test_sender(void)
{
	struct hb_sender s1, s2;
	struct hb_msg m;
	char err[256];

	CU_ASSERT_EQUAL(heartbeat_sender_init(&s1, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(heartbeat_sender_init(&s2, err, sizeof(err)), 0);
	CU_ASSERT_NOT_EQUAL(s1.boot_id, s2.boot_id);
	heartbeat_stamp(&s1, NULL, &m);
	CU_ASSERT_EQUAL(m.seq, 1);
	CU_ASSERT_EQUAL(m.boot_id, s1.boot_id);
	CU_ASSERT_EQUAL(m.echo_boot_id, 0);
	heartbeat_stamp(&s1, NULL, &m);
	CU_ASSERT_EQUAL(m.seq, 2);
	CU_ASSERT_EQUAL(heartbeat_derive_key("", 0, key, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "highAvail.HMACKey"));
	derive(SECRET, key);
}

static int
suite_init(void)
{
	char err[256];

	return heartbeat_derive_key(SECRET, strlen(SECRET), key, err,
	    sizeof(err)) == 0 ? 0 : -1;
}

void
test_heartbeat_register(void)
{
	CU_pSuite s = CU_add_suite("heartbeat", suite_init, NULL);

	CU_add_test(s, "round trip of every field", test_roundtrip);
	CU_add_test(s, "encode refuses bad fields", test_encode_refuses);
	CU_add_test(s, "wrong key", test_wrong_key);
	CU_add_test(s, "every flipped bit rejected", test_bitflips);
	CU_add_test(s, "truncated and oversized", test_truncated_and_oversized);
	CU_add_test(s, "malformed but authentic", test_malformed_but_authentic);
	CU_add_test(s, "replay, old seq, peer restart, eid",
	    test_replay_and_restart);
	CU_add_test(s, "replay of an unknown or forgotten boot",
	    test_unknown_boot_replay);
	CU_add_test(s, "counters", test_counters);
	CU_add_test(s, "config checksum", test_cfg_checksum);
	CU_add_test(s, "rate-limited reject log", test_ratelimit);
	CU_add_test(s, "UDP exchange on 127.0.0.1", test_udp_exchange);
	CU_add_test(s, "100k mutations through decode", test_fuzz_decode);
	CU_add_test(s, "sender and key", test_sender);
}
