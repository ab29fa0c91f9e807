/* fuzz_linkstate.c — guisvr's replication state as hasvr reads it from the
 * ha-link: the typed HL_R_STATE payload (hl_state_decode, lib/hlstate.h)
 * and what hasvr keeps of it (link_from_state), and the text halinkctl
 * prints (hl_state_format).
 *
 * Input: an HL_R_STATE payload.
 *
 * Invariants: a refusal is said; what is decoded is within its ranges
 * (a known role, durability and database state, flags 0 or 1, no lease
 * time without a lease, no synchronous-standby set without its mode, at
 * most HL_MAX_PEERS peers, every string ending inside its array) and
 * encodes back to exactly the input bytes; hasvr's copy keeps the same
 * values; the text never overflows its buffer and holds no control
 * character but newlines. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "halink.h"
#include "heartbeat.h"
#include "hlstate.h"
#include "link.h"

static void
check_state(const struct hl_state *st)
{
	int i;

	FUZZ_ASSERT(st->role <= HA_ROLE_STANDALONE);
	FUZZ_ASSERT(st->durability <= HL_DUR_STRICT);
	FUZZ_ASSERT(st->dbstate <= HL_DB_ALONE);
	FUZZ_ASSERT(st->startup_done <= 1 && st->sync_on <= 1 &&
	    st->fault <= 1 && st->lease_on <= 1);
	FUZZ_ASSERT(st->lease_on || st->lease_left_ms == 0);
	FUZZ_ASSERT(st->syncset_on <= 1);
	FUZZ_ASSERT(st->syncset_on || st->syncset == 0);
	FUZZ_ASSERT(memchr(st->fault_why, '\0', sizeof(st->fault_why)) != NULL);
	FUZZ_ASSERT(st->npeers <= HL_MAX_PEERS);
	for (i = 0; i < st->npeers; i++) {
		const struct hl_peer *p = &st->peers[i];

		FUZZ_ASSERT(memchr(p->addr, '\0', sizeof(p->addr)) != NULL);
		FUZZ_ASSERT(memchr(p->auth_why, '\0',
		    sizeof(p->auth_why)) != NULL);
		FUZZ_ASSERT(p->up <= 1 && p->insync <= 1 &&
		    p->auth_failed <= 1);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hl_state st;
	struct link_state ls;
	struct buf b;
	char err[512], text[16384];
	int rc, i, n;

	err[0] = '\0';
	rc = hl_state_decode(data, size, &st, err, sizeof(err));
	FUZZ_ASSERT(rc == 0 || rc == -1);
	if (rc == -1) {
		FUZZ_ASSERT(err[0] != '\0' && strlen(err) < sizeof(err));
		return 0;
	}
	check_state(&st);
	/* the codec is exact: the same bytes back */
	buf_init(&b);
	hl_state_encode(&b, &st);
	FUZZ_ASSERT(!b.oom && b.len == size && memcmp(b.p, data, size) == 0);
	buf_free(&b);
	/* hasvr's copy */
	memset(&ls, 0, sizeof(ls));
	link_from_state(&st, &ls);
	ls.valid = 1;
	FUZZ_ASSERT(ls.npeers == st.npeers);
	FUZZ_ASSERT(ls.gen == st.gen && ls.epoch == st.epoch);
	FUZZ_ASSERT(ls.lease_on == st.lease_on &&
	    ls.lease_left_ms == st.lease_left_ms);
	FUZZ_ASSERT(ls.syncset_on == st.syncset_on &&
	    ls.syncset == st.syncset);
	n = link_dbstate(&ls);
	FUZZ_ASSERT(n >= HB_DB_UNKNOWN && n <= HB_DB_ALONE);
	/* the text, cut to any size */
	n = hl_state_format(&st, text, sizeof(text));
	FUZZ_ASSERT(n >= 0);
	if ((size_t)n < sizeof(text))
		FUZZ_ASSERT(strlen(text) == (size_t)n);
	for (i = 0; text[i] != '\0'; i++)
		FUZZ_ASSERT(((unsigned char)text[i] >= 0x20 &&
		    (unsigned char)text[i] != 0x7f) || text[i] == '\n');
	(void)hl_state_format(&st, text, (size_t)(size % 64));
	return 0;
}
