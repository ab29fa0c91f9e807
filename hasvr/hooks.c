/* hooks.c — what hasvr's modules tell the hub, fed to the role machine:
 * heartbeats heard and sent (peers.c), the pingable IP (ping.c), guisvr
 * news on the ha-link (link.c) and from its supervision (svr.c). Each
 * hook records what it learned and schedules the role tick; none decides
 * anything. */
#include <stdint.h>
#include <string.h>

#include "hasvr.h"

/* This node as its heartbeat describes it (peers.c adds who sends it). */
static void
fill(struct hb_msg *m, uint64_t now, void *arg)
{
	struct ha *h = arg;
	struct role_peer_info me;
	struct link_state ls;
	const struct ha_peer *p;
	int i;

	role_advertise(h->role, now, &me);
	link_snapshot(h->link, &ls);
	m->role = (uint8_t)me.role;
	m->dbstate = (uint8_t)link_dbstate(&ls);
	/* as primary: the secondaries that have every write acknowledged;
	 * a secondary left out never takes over by itself (role.h) */
	m->insync_set = 0;
	for (i = 0; me.role == HA_ROLE_PRIMARY &&
	    (p = peers_at(h->peers, i)) != NULL; i++)
		if (h->view[p->idx].known && h->view[p->idx].insync)
			m->insync_set |= (uint8_t)ha_eid_bit(p->eid);
	m->flags = (h->ha_sync ? HB_F_HASYNC : 0) |
	    (h->ha_sync && h->db_sync ? HB_F_DBSYNC : 0) |
	    (me.startup_done ? HB_F_STARTUP : 0) |
	    (me.pingable ? HB_F_PINGABLE : 0) |
	    (ls.valid ? HB_F_SVRUP : 0) |
	    (me.arbiter_ok ? HB_F_ARBITER : 0);
	m->epoch = me.epoch;
	m->db_gen = me.gen;
	m->lsn_file = me.lsn.file;
	m->lsn_offset = me.lsn.offset;
	m->handoff_eid = (uint32_t)me.handoff_eid;
	m->vote_eid = (uint32_t)me.vote_eid;
	m->vote_round = me.vote_round;
	/* the next heartbeat carries a fresh position */
	link_refresh(h->link);
}

static void
heard(const struct ha_peer *p, const struct hb_msg *m, uint64_t now,
    void *arg)
{
	struct ha *h = arg;
	const struct ha_peer_view *v = &h->view[p->idx];
	struct role_peer_info pi;
	char err[256];

	memset(&pi, 0, sizeof(pi));
	pi.role = (enum ha_role)m->role;   /* role.c checks it */
	pi.epoch = (uint32_t)m->epoch;
	pi.gen = m->db_gen;
	pi.lsn.file = m->lsn_file;
	pi.lsn.offset = m->lsn_offset;
	pi.build_match = p->build_match;
	pi.startup_done = (m->flags & HB_F_STARTUP) != 0;
	pi.pingable = (m->flags & HB_F_PINGABLE) != 0;
	pi.arbiter_ok = (m->flags & HB_F_ARBITER) != 0;
	pi.handoff_eid = (int)m->handoff_eid;
	pi.vote_eid = m->vote_eid <= INT32_MAX ? (int)m->vote_eid : 0;
	pi.vote_round = m->vote_round;
	pi.insync_set = m->insync_set;
	/* whether it has every acknowledged write: as primary our guisvr
	 * knows (acks); otherwise the peer says it of itself */
	pi.insync = role_current(h->role) == HA_ROLE_PRIMARY && v->known ?
	    v->insync : m->dbstate == HB_DB_INSYNC;
	if (role_peer_heard(h->role, p->eid, now, &pi, err, sizeof(err)) == -1)
		log_warnx("heartbeat from %s: %s", p->addr, err);
	/* a role change heard is acted on now, not at the next tick */
	ha_tick_schedule(h);
}

static void
unauth(const struct ha_peer *p, uint64_t now, void *arg)
{
	struct ha *h = arg;

	role_peer_unauth(h->role, p->eid, now);
}

void
ha_peers_hooks(struct ha *h, struct peers_hooks *out)
{
	out->fill = fill;
	out->heard = heard;
	out->unauth = unauth;
	out->arg = h;
}

void
ha_on_ping(int ok, uint64_t sent, void *arg)
{
	struct ha *h = arg;

	role_pingable(h->role, ok, sent);
	/* a failover may wait for this answer */
	ha_tick_schedule(h);
}

/* guisvr answered or told something: decide with it at once */
void
ha_on_link(void *arg)
{
	/* every reply and event: decide with it at once (the link itself
	 * tells a new guisvr the lease and the set before its role) */
	ha_tick_schedule(arg);
}

static void
svr_exited(void *arg)
{
	struct ha *h = arg;

	link_reset(h->link);
	ha_tick_schedule(h);
}

/* nothing of this node's history is left to protect: it follows the
 * primary there is */
static void
svr_resynced(void *arg)
{
	struct ha *h = arg;

	role_history_gone(h->role);
}

void
ha_svr_hooks(struct ha *h, struct svr_hooks *out)
{
	out->exited = svr_exited;
	out->resynced = svr_resynced;
	out->arg = h;
}
