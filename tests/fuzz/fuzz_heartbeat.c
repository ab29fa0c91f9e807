/* fuzz_heartbeat.c — hasvr's heartbeat receiver: heartbeat_decode (length,
 * magic, version, HMAC, then every field) and heartbeat_accept (sender eid,
 * replay, freshness of a new boot) over the datagrams of one peer address,
 * as hasvr's receive loop runs them.
 *
 * Input: records of u8 control, u16 length (big-endian) and that many
 * bytes of datagram; the last record takes what is left. Control bits
 * (fuzz.h): FUZZ_HB_SIGN re-signs a datagram of heartbeat length with the
 * harness key, so that mutations reach the fields behind the HMAC;
 * FUZZ_HB_SENDS(c) heartbeats leave this node before the datagram arrives
 * (the sequence numbers a fresh peer must echo move on); FUZZ_HB_LATE lets
 * 10 s pass instead of 100 ms.
 *
 * Invariants: a rejected datagram leaves the output untouched and is said
 * why in printable words (they reach ha.log); an accepted one encodes back
 * to the very same bytes; a packet accepted once is a replay the next time;
 * within one boot of the peer accepted sequence numbers only grow; a new
 * boot is taken only with an echo of this node's boot id and of a sequence
 * number it sent and that was not echoed before. */
#include <string.h>

#include <openssl/evp.h>

#include "be.h"
#include "fuzz.h"
#include "heartbeat.h"

#define MAX_RECORDS 64

static unsigned char key[HB_KEY_LEN];

static void
init_key(void)
{
	static int done;
	char err[256];

	if (done)
		return;
	if (heartbeat_derive_key(FUZZ_HB_SECRET, strlen(FUZZ_HB_SECRET), key,
	    err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	done = 1;
}

/* What heartbeat_encode signs: everything before the tag. */
static void
sign(unsigned char *pkt)
{
	size_t taglen = 0;

	FUZZ_ASSERT(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key,
	    HB_KEY_LEN, pkt, HB_LEN - HB_TAG_LEN, pkt + HB_LEN - HB_TAG_LEN,
	    HB_TAG_LEN, &taglen) != NULL && taglen == HB_TAG_LEN);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hb_sender self = { FUZZ_HB_SELF_BOOT, 0 };
	struct hb_peer_state peer;
	struct hb_counters cnt;
	struct hb_ratelimit rl;
	struct hb_msg m, before;
	unsigned char pkt[HB_MAX_LEN + 2], again[HB_LEN];
	char why[256], line[512];
	uint64_t now = 1000000, last_boot = 0, last_seq = 0, echo_max = 0;
	size_t off = 0, len;
	int n, rc, rc2, ctl, have = 0;

	init_key();
	heartbeat_peer_init(&peer, FUZZ_HB_PEER_EID, &self);
	memset(&cnt, 0, sizeof(cnt));
	memset(&rl, 0, sizeof(rl));
	for (n = 0; n < MAX_RECORDS && off + 3 <= size; n++) {
		ctl = data[off];
		len = be16_get(data + off + 1);
		off += 3;
		if (len > size - off)
			len = size - off;
		/* a longer datagram is only its length to the decoder */
		if (len > sizeof(pkt))
			len = sizeof(pkt);
		memcpy(pkt, data + off, len);
		off += len;
		if ((ctl & FUZZ_HB_SIGN) && len == HB_LEN)
			sign(pkt);
		self.seq += FUZZ_HB_SENDS(ctl);
		now += (ctl & FUZZ_HB_LATE) ? 10000 : 100;

		memset(&m, 0xa5, sizeof(m));
		before = m;
		why[0] = 'x';
		why[1] = '\0';
		rc = heartbeat_decode(pkt, len, key, &m, why, sizeof(why));
		FUZZ_ASSERT(rc >= HB_OK && rc < HB_REJ_NREASONS);
		FUZZ_ASSERT(rc != HB_REJ_EID && rc != HB_REJ_REPLAY &&
		    rc != HB_REJ_STALE);
		FUZZ_ASSERT(strlen(why) < sizeof(why) && fuzz_no_ctl(why));
		if (rc != HB_OK) {
			FUZZ_ASSERT(memcmp(&m, &before, sizeof(m)) == 0);
			FUZZ_ASSERT(why[0] != '\0');
			goto counted;
		}
		FUZZ_ASSERT(len == HB_LEN && why[0] == '\0');
		/* the wire form is canonical: the decoded message encodes
		 * back to the same bytes */
		FUZZ_ASSERT(heartbeat_encode(&m, key, again, sizeof(again)) ==
		    HB_LEN);
		FUZZ_ASSERT(memcmp(again, pkt, HB_LEN) == 0);
		FUZZ_ASSERT(strlen(m.build) <= HB_BUILD_LEN);
		FUZZ_ASSERT(m.role <= HA_ROLE_SECONDARY &&
		    strcmp(ha_role_word(m.role), "unknown") != 0);
		FUZZ_ASSERT(m.dbstate <= HB_DB_ALONE);

		rc = heartbeat_accept(&peer, &m, now, why, sizeof(why));
		FUZZ_ASSERT(rc == HB_OK || rc == HB_REJ_EID ||
		    rc == HB_REJ_REPLAY || rc == HB_REJ_STALE);
		FUZZ_ASSERT(fuzz_no_ctl(why));
		FUZZ_ASSERT((rc == HB_OK) == (why[0] == '\0'));
		if (rc == HB_OK) {
			FUZZ_ASSERT(m.eid == FUZZ_HB_PEER_EID);
			FUZZ_ASSERT(peer.have && peer.boot_id == m.boot_id &&
			    peer.seq == m.seq && peer.last_ms == now);
			if (have && m.boot_id == last_boot) {
				FUZZ_ASSERT(m.seq > last_seq);
			} else {
				/* a new boot proves it was made after we sent
				 * that seq, which no packet echoed before */
				FUZZ_ASSERT(m.echo_boot_id == self.boot_id);
				FUZZ_ASSERT(m.echo_seq > echo_max &&
				    m.echo_seq <= self.seq);
			}
			if (m.echo_boot_id == self.boot_id &&
			    m.echo_seq > echo_max)
				echo_max = m.echo_seq;
			FUZZ_ASSERT(peer.echo_max == echo_max);
			have = 1;
			last_boot = m.boot_id;
			last_seq = m.seq;
			/* the same packet again is a replay */
			rc2 = heartbeat_accept(&peer, &m, now + 1, line,
			    sizeof(line));
			FUZZ_ASSERT(rc2 == HB_REJ_REPLAY);
			FUZZ_ASSERT(peer.seq == m.seq && peer.last_ms == now);
		}
counted:
		heartbeat_count(&cnt, rc);
		FUZZ_ASSERT(cnt.received == cnt.accepted + cnt.rejected_malformed +
		    cnt.rejected_mac + cnt.rejected_eid + cnt.rejected_replay +
		    cnt.rejected_stale);
		if (rc != HB_OK && heartbeat_reject_line(&rl, "192.0.2.2", rc,
		    why, now, line, sizeof(line)))
			FUZZ_ASSERT(fuzz_no_ctl(line));
	}
	return 0;
}
