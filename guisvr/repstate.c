/* repstate.c — guisvr's replication state as hasvr reads it over the
 * ha-link (rep_state, struct hl_state): role, history, whether the
 * database is in sync, the arbiter lease, the synchronous-standby set,
 * and each peer's position. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <db.h>

#include "halink.h"
#include "hlstate.h"
#include "rep_int.h"
#include "util.h"

/* Approximate bytes of log between a and b (b >= a). */
static uint64_t
rep_lsn_bytes(const DB_LSN *a, const DB_LSN *b, uint32_t lg_max)
{
	if (rep_lsn_cmp(a, b) >= 0)
		return 0;
	if (a->file == b->file)
		return b->offset - a->offset;
	return (uint64_t)(b->file - a->file - 1) * lg_max +
	    (a->offset < lg_max ? lg_max - a->offset : 0) + b->offset;
}

static struct hl_lsn
rep_hl_lsn(DB_LSN l)
{
	struct hl_lsn h = { l.file, l.offset };

	return h;
}

void
rep_state(struct rep *r, struct hl_state *out)
{
	DB_REP_STAT *rs = NULL;
	DB_LOG_STAT *ls = NULL;
	DB_LSN cur, mine;
	struct rep_peer *p;
	struct hl_peer *q;
	u_int32_t lg_max = 10 * 1024 * 1024;
	uint32_t gen = 0;
	uint64_t now, ffirst, flast;
	char fwhy[64];
	int startup = 0, i, role, connected = 0, insync = 0, master, fault;

	memset(out, 0, sizeof(*out));
	memset(&cur, 0, sizeof(cur));
	memset(&mine, 0, sizeof(mine));
	if (r->env->rep_stat(r->env, &rs, 0) == 0) {
		gen = rs->st_gen;
		startup = rs->st_startup_complete != 0;
		mine = rs->st_next_lsn;
		free(rs);
	}
	/* The generation of this node's history, for hasvr's elections: a
	 * private environment's client starts over at 0 until it hears its
	 * master, but its log is still of the generation it had. */
	pthread_mutex_lock(&r->mu);
	if (gen > r->gen_max)
		r->gen_max = gen;
	gen = r->gen_max;
	pthread_mutex_unlock(&r->mu);
	if (r->env->log_stat(r->env, &ls, 0) == 0) {
		cur.file = ls->st_cur_file;
		cur.offset = ls->st_cur_offset;
		free(ls);
	}
	(void)r->env->get_lg_max(r->env, &lg_max);
	now = util_now_ms();
	fault = dbenv_write_fault(&r->s->env, &ffirst, &flast, fwhy,
	    sizeof(fwhy)) && now - flast < DBENV_FAULT_GAP_MS;

	pthread_mutex_lock(&r->mu);
	role = r->role;
	master = r->master_eid;
	if (role == HA_ROLE_PRIMARY)
		startup = 1;
	for (i = 0; i < r->npeers; i++) {
		connected += r->peers[i].up;
		insync += r->peers[i].up && rep_peer_insync(r, &r->peers[i]);
	}
	if (connected == 0)
		out->dbstate = HL_DB_ALONE;
	else if (!r->sync_on)
		out->dbstate = HL_DB_DIRTY;
	else if (role == HA_ROLE_PRIMARY)
		out->dbstate = insync == r->npeers ? HL_DB_INSYNC : HL_DB_DIRTY;
	else
		out->dbstate = startup && r->sync_on &&
		    master != DB_EID_INVALID && rep_peer_find(r, master) != NULL &&
		    rep_peer_find(r, master)->up ? HL_DB_INSYNC : HL_DB_DIRTY;
	/* a secondary whose disk refuses writes does not keep up */
	if (fault && role != HA_ROLE_PRIMARY && out->dbstate != HL_DB_ALONE)
		out->dbstate = HL_DB_DIRTY;
	out->role = (uint8_t)role;
	out->epoch = r->epoch;
	out->gen = gen;
	out->lsn = rep_hl_lsn(cur);
	out->startup_done = startup != 0;
	out->durability = r->dur == HA_ASYNC ? HL_DUR_ASYNC : r->dur == HA_SYNC ?
	    HL_DUR_SYNC : HL_DUR_STRICT;
	out->sync_on = r->sync_on != 0;
	out->follow = role == HA_ROLE_SECONDARY ? r->follow : HA_PRIMARY_NONE;
	out->foreign = r->foreign;
	out->lease_on = r->lease_on != 0;
	out->lease_left_ms = rep_lease_left(r, now);
	out->syncset_on = r->syncset_on != 0;
	out->syncset = r->syncset_on ? r->syncset : 0;
	for (i = 0; i < r->npeers && i < HL_MAX_PEERS; i++) {
		p = &r->peers[i];
		q = &out->peers[i];
		q->eid = (uint32_t)p->eid;
		util_strlcpy(q->addr, p->addr, sizeof(q->addr));
		q->up = p->up != 0;
		if (role == HA_ROLE_PRIMARY) {
			q->lsn = q->acked = rep_hl_lsn(p->acked);
			if (r->commits > p->cursor) {
				q->behind_bytes = rep_lsn_bytes(&p->acked, &cur,
				    lg_max);
				q->behind_commits = r->commits - p->cursor;
			}
			q->insync = rep_peer_insync(r, p) != 0;
		} else {
			/* a client sees its primary: how far this node is
			 * behind what the primary sent */
			int is_master = p->eid == master;

			q->lsn = rep_hl_lsn(p->seen);
			if (is_master) {
				q->acked = rep_hl_lsn(r->ack_sent);
				q->behind_bytes = rep_lsn_bytes(&mine, &p->seen,
				    lg_max);
			}
			q->insync = is_master && startup && p->up;
		}
	}
	out->npeers = (uint8_t)i;
	pthread_mutex_unlock(&r->mu);
	if (fault) {
		out->fault = 1;
		out->fault_first_age_ms = now - ffirst;
		out->fault_last_age_ms = now - flast;
		util_strlcpy(out->fault_why, fwhy, sizeof(out->fault_why));
	}
	/* a peer the replication channel refuses: hasvr reports it */
	for (i = 0; i < out->npeers; i++) {
		struct rt_stats st;

		q = &out->peers[i];
		if (r->tops->peer_up(r->tp, (int)q->eid) ||
		    r->tops->peer_stats(r->tp, (int)q->eid, &st) != 0 ||
		    st.auth_fail_ms == 0)
			continue;
		q->auth_failed = 1;
		q->auth_age_ms = now - st.auth_fail_ms;
		util_strlcpy(q->auth_why, st.auth_why, sizeof(q->auth_why));
	}
}
