/* fuzz_linkstate.c — guisvr's replication state as hasvr reads it from the
 * ha-link (link_parse_state): the "key value" lines of HL_R_STATE, the
 * peer lines with their LSNs and lags, peerAuthFailed and writeFault.
 *
 * Input: the state text (up to its first NUL, as the ha-link client hands
 * it over).
 *
 * Invariants: what is parsed stays within its fields (every string ends
 * inside its array, at most LINK_MAX_PEERS peers, a known role); a
 * refusal is said; parsing the same text again gives the same state. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "halink.h"
#include "heartbeat.h"
#include "link.h"

static void
check_state(const struct link_state *st)
{
	int i, db;

	FUZZ_ASSERT(st->role >= HL_ROLE_NONE && st->role <= HL_ROLE_SECONDARY);
	FUZZ_ASSERT(memchr(st->state, '\0', sizeof(st->state)) != NULL);
	FUZZ_ASSERT(memchr(st->fault_why, '\0', sizeof(st->fault_why)) != NULL);
	FUZZ_ASSERT(st->npeers >= 0 && st->npeers <= LINK_MAX_PEERS);
	for (i = 0; i < st->npeers; i++) {
		const struct link_peer *p = &st->peers[i];

		FUZZ_ASSERT(memchr(p->addr, '\0', sizeof(p->addr)) != NULL);
		FUZZ_ASSERT(memchr(p->auth_why, '\0',
		    sizeof(p->auth_why)) != NULL);
		FUZZ_ASSERT(p->up == 0 || p->up == 1);
		FUZZ_ASSERT(p->insync == 0 || p->insync == 1);
	}
	db = link_dbstate(st);
	FUZZ_ASSERT(db >= HB_DB_UNKNOWN && db <= HB_DB_ALONE);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct link_state st, again;
	char err[512], err2[512], *text;
	int rc, rc2;

	if ((text = malloc(size + 1)) == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	/* as hasvr's ha-link thread starts each read */
	memset(&st, 0, sizeof(st));
	err[0] = '\0';
	rc = link_parse_state(text, &st, err, sizeof(err));
	FUZZ_ASSERT(rc == 0 || rc == -1);
	if (rc == -1)
		FUZZ_ASSERT(err[0] != '\0' && strlen(err) < sizeof(err));
	else {
		st.valid = 1;
		check_state(&st);
	}
	memset(&again, 0, sizeof(again));
	err2[0] = '\0';
	rc2 = link_parse_state(text, &again, err2, sizeof(err2));
	FUZZ_ASSERT(rc2 == rc && strcmp(err, err2) == 0);
	if (rc == 0) {
		again.valid = 1;
		FUZZ_ASSERT(memcmp(&st, &again, sizeof(st)) == 0);
	}
	free(text);
	return 0;
}
