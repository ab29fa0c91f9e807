/* linkstate.c — guisvr's typed state (lib/hlstate.h) as hasvr keeps it
 * (struct link_state, link.h). Pure conversions, apart from the ha-link
 * connection in link.c, so the fuzz harness drives them alone. */
#include <string.h>

#include "halink.h"
#include "heartbeat.h"
#include "hlstate.h"
#include "link.h"
#include "util.h"

int
link_dbstate(const struct link_state *st)
{
	if (!st->valid || st->state[0] == '\0')
		return HB_DB_UNKNOWN;
	if (strcmp(st->state, "in-sync") == 0)
		return HB_DB_INSYNC;
	if (strcmp(st->state, "alone") == 0)
		return HB_DB_ALONE;
	return HB_DB_DIRTY;
}

static struct role_lsn
role_lsn_of(struct hl_lsn l)
{
	struct role_lsn r = { l.file, l.offset };

	return r;
}

void
link_from_state(const struct hl_state *hs, struct link_state *st)
{
	const struct hl_peer *q;
	struct link_peer *p;
	int i;

	st->role = hs->role == HA_ROLE_STANDALONE ? HA_ROLE_STARTING : hs->role;
	st->epoch = hs->epoch;
	st->gen = hs->gen;
	st->lsn = role_lsn_of(hs->lsn);
	st->startup_done = hs->startup_done;
	util_strlcpy(st->state, hs->dbstate == HL_DB_UNKNOWN ? "" :
	    hl_dbstate_name(hs->dbstate), sizeof(st->state));
	st->sync_on = hs->sync_on;
	st->follow = hs->follow == HA_PRIMARY_ANY ? -1 : (int)hs->follow;
	st->fault = hs->fault;
	st->fault_first_age_ms = hs->fault_first_age_ms;
	st->fault_last_age_ms = hs->fault_last_age_ms;
	util_strlcpy(st->fault_why, hs->fault_why, sizeof(st->fault_why));
	st->lease_on = hs->lease_on;
	st->lease_left_ms = hs->lease_left_ms;
	st->syncset_on = hs->syncset_on;
	st->syncset = hs->syncset;
	st->npeers = 0;
	for (i = 0; i < hs->npeers && i < LINK_MAX_PEERS; i++) {
		q = &hs->peers[i];
		p = &st->peers[st->npeers++];
		memset(p, 0, sizeof(*p));
		p->eid = (int)q->eid;
		util_strlcpy(p->addr, q->addr, sizeof(p->addr));
		p->up = q->up;
		p->lsn = role_lsn_of(q->lsn);
		p->acked = role_lsn_of(q->acked);
		p->behind_bytes = q->behind_bytes;
		p->behind_commits = q->behind_commits;
		p->insync = q->insync;
		p->auth_fail_age_ms = q->auth_failed ? (long long)q->auth_age_ms :
		    -1;
		util_strlcpy(p->auth_why, q->auth_why, sizeof(p->auth_why));
	}
}

const struct link_peer *
link_state_peer(const struct link_state *st, int eid)
{
	int i;

	for (i = 0; st->valid && i < st->npeers; i++)
		if (st->peers[i].eid == eid)
			return &st->peers[i];
	return NULL;
}
