/*
 * repsyncset.c — the synchronous-standby set: in arbiter mode a primary
 * acknowledges no write that a secondary listed in etcd's
 * synchronous-standby record lacks.
 *
 * In arbiter mode only a secondary the record lists may take the leader
 * key, so the record has to name secondaries that hold every acknowledged
 * write. hasvr writes it and then tells guisvr the set (HL_SYNCSET, a
 * mask of eids). The first one turns arbiter sync mode on until guisvr
 * stops; a guisvr that never got one (pair mode) behaves as if this file
 * did not exist.
 *
 * In durability sync, rep_commit_wait (repack.c) then acknowledges a
 * commit only once every listed secondary acknowledged it, besides the
 * usual rule. A listed secondary that does not within ackTimeout is
 * marked dirty as always — which is what hasvr reads to rewrite the
 * record without it — but the commit is not acknowledged without it: it
 * waits for its ack or for a new set that drops it, up to a second
 * ackTimeout, and is then answered XE_NOTREPL (REP_SYNCSET_NOACK_MSG).
 * Otherwise a primary cut off from etcd and from its secondary would
 * acknowledge writes alone while the record still names the secondary,
 * which may then take the key without them. In strict mode every listed
 * secondary must have acknowledged (any secondary while none is listed).
 *
 * The set names eids; this node's own eid and eids that are not peers of
 * this node are ignored (the latter said in the log).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "harole.h"
#include "rep_int.h"
#include "util.h"

/* Whether eid is in mask. */
static int
listed(uint8_t mask, int eid)
{
	return (mask & ha_eid_bit(eid)) != 0;
}

void
rep_syncset_count(struct rep *r, const DB_LSN *lsn, int *nlisted,
    int *nacked)
{
	struct rep_peer *p;
	int i;

	*nlisted = *nacked = 0;
	if (!r->syncset_on)
		return;
	for (i = 0; i < r->npeers; i++) {
		p = &r->peers[i];
		if (!listed(r->syncset, p->eid))
			continue;
		(*nlisted)++;
		if (rep_lsn_cmp(&p->acked, lsn) >= 0)
			(*nacked)++;
	}
}

void
rep_syncset_lacking(struct rep *r, const DB_LSN *lsn, char *out,
    size_t outlen)
{
	struct rep_peer *p;
	size_t len = 0;
	int i, n;

	if (outlen > 0)
		out[0] = '\0';
	for (i = 0; i < r->npeers && len < outlen; i++) {
		p = &r->peers[i];
		if (!r->syncset_on || !listed(r->syncset, p->eid) ||
		    rep_lsn_cmp(&p->acked, lsn) >= 0)
			continue;
		n = snprintf(out + len, outlen - len, "%s%d (%s)", len > 0 ?
		    ", " : "", p->eid, p->addr);
		if (n > 0)
			len += (size_t)n;
	}
}

/* With r->mu held: the eids of mask that are not peers of this node,
 * as "3, 7" into out ("" if none). */
static void
unknown_eids(struct rep *r, uint8_t mask, char *out, size_t outlen)
{
	size_t len = 0;
	int eid, n;

	out[0] = '\0';
	for (eid = 1; eid <= 8 && len < outlen; eid++) {
		if (!listed(mask, eid) || eid == r->self_eid ||
		    rep_peer_find(r, eid) != NULL)
			continue;
		n = snprintf(out + len, outlen - len, "%s%d", len > 0 ? ", " : "",
		    eid);
		if (n > 0)
			len += (size_t)n;
	}
}

void
rep_set_syncset(struct rep *r, uint8_t mask)
{
	char unknown[64];
	uint8_t old;
	int first;

	/* only this thread changes it: said before anything it causes */
	pthread_mutex_lock(&r->mu);
	first = !r->syncset_on;
	old = r->syncset;
	unknown_eids(r, mask, unknown, sizeof(unknown));
	pthread_mutex_unlock(&r->mu);
	if (first)
		rep_event(r, LOG_LVL_NOTICE, "arbiter sync mode: a commit is "
		    "acknowledged only once every secondary in the "
		    "synchronous-standby set has it (set 0x%02x)", mask);
	else if (old != mask)
		rep_event(r, LOG_LVL_NOTICE, "synchronous-standby set 0x%02x -> "
		    "0x%02x", old, mask);
	if (unknown[0] != '\0' && (first || old != mask))
		rep_event(r, LOG_LVL_WARN, "synchronous-standby set 0x%02x lists "
		    "eid %s, not a peer of this node (highAvail.nodes): ignored",
		    mask, unknown);
	pthread_mutex_lock(&r->mu);
	r->syncset_on = 1;
	r->syncset = mask;
	/* a commit waiting for a secondary dropped now is done */
	rep_wake(r);
	pthread_mutex_unlock(&r->mu);
}
