/* peers.c — heartbeats on the wire: one datagram to each peer every
 * heartbeatInterval, and every datagram received checked (heartbeat.c),
 * counted, and handed to the role machine. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "hasvr.h"
#include "link.h"
#include "log.h"
#include "util.h"

static enum role_state
role_from_hb(int r)
{
	switch (r) {
	case HB_ROLE_PRIMARY: return ROLE_PRIMARY;
	case HB_ROLE_SECONDARY: return ROLE_SECONDARY;
	default: return ROLE_STARTING;
	}
}

static int
hb_from_role(enum role_state r)
{
	switch (r) {
	case ROLE_PRIMARY: return HB_ROLE_PRIMARY;
	case ROLE_SECONDARY: return HB_ROLE_SECONDARY;
	default: return HB_ROLE_NONE;
	}
}

int
peer_alive(const struct ha *h, const struct ha_peer *p, uint64_t now)
{
	return p->heard && now - p->last_ms < h->dead_ms;
}

struct ha_peer *
peer_by_eid(struct ha *h, int eid)
{
	int i;

	for (i = 0; i < h->npeers; i++)
		if (h->peers[i].eid == eid)
			return &h->peers[i];
	return NULL;
}

static struct ha_peer *
peer_by_addr(struct ha *h, const char *addr)
{
	int i;

	for (i = 0; i < h->npeers; i++)
		if (strcmp(h->peers[i].addr, addr) == 0)
			return &h->peers[i];
	return NULL;
}

int
peers_init(struct ha *h, char *err, size_t errlen)
{
	const struct hacfg_node *self = &h->hc.nodes[h->hc.self];
	int i;

	if (heartbeat_sender_init(&h->sender, err, errlen) == -1)
		return -1;
	h->npeers = 0;
	for (i = 0; i < h->hc.nnodes; i++) {
		struct ha_peer *p;

		if (i == h->hc.self)
			continue;
		p = &h->peers[h->npeers++];
		memset(p, 0, sizeof(*p));
		p->eid = h->hc.nodes[i].eid;
		p->pref = h->hc.nodes[i].preferred;
		util_strlcpy(p->addr, h->hc.nodes[i].addr, sizeof(p->addr));
		heartbeat_peer_init(&p->hb, (uint32_t)p->eid, &h->sender);
	}
	if ((h->hbfd = heartbeat_socket_open(self->addr, h->hc.heartbeat_port,
	    err, errlen)) == -1)
		return -1;
	log_info("read highAvail.heartbeatPort; myAddr = %s, port %d, "
	    "%d peer%s", self->addr, h->hc.heartbeat_port, h->npeers,
	    h->npeers == 1 ? "" : "s");
	for (i = 0; i < h->npeers; i++)
		log_info("read highAvail.heartbeatPort; peerAddr = %s (eid %d)",
		    h->peers[i].addr, h->peers[i].eid);
	return 0;
}

/* This node as its heartbeat describes it. */
static void
fill_msg(struct ha *h, struct hb_msg *m, uint64_t now)
{
	struct role_peer_info me;
	struct link_state ls;

	role_advertise(h->role, now, &me);
	link_snapshot(h->link, &ls);
	memset(m, 0, sizeof(*m));
	m->role = (uint8_t)hb_from_role(me.role);
	m->dbstate = (uint8_t)link_dbstate(&ls);
	m->flags = (h->ha_sync ? HB_F_HASYNC : 0) |
	    (h->ha_sync && h->db_sync ? HB_F_DBSYNC : 0) |
	    (me.startup_done ? HB_F_STARTUP : 0) |
	    (me.pingable ? HB_F_PINGABLE : 0) |
	    (ls.valid ? HB_F_SVRUP : 0);
	m->eid = (uint32_t)h->hc.nodes[h->hc.self].eid;
	m->epoch = me.epoch;
	m->db_gen = me.gen;
	m->lsn_file = me.lsn.file;
	m->lsn_offset = me.lsn.offset;
	m->handoff_eid = (uint32_t)me.handoff_eid;
	m->vote_eid = (uint32_t)me.vote_eid;
	m->vote_round = me.vote_round;
	memcpy(m->cfg_sum, h->cfgsum, HB_SUM_LEN);
	util_strlcpy(m->build, h->build, sizeof(m->build));
}

void
peers_send_all(struct ha *h)
{
	unsigned char pkt[HB_MAX_LEN];
	char err[HASVR_ERRLEN];
	struct hb_msg m;
	uint64_t now = util_now_ms();
	int i, n;

	fill_msg(h, &m, now);
	/* the next heartbeat carries a fresh position */
	link_refresh(h->link);
	for (i = 0; i < h->npeers; i++) {
		struct ha_peer *p = &h->peers[i];

		heartbeat_stamp(&h->sender, &p->hb, &m);
		if ((n = heartbeat_encode(&m, h->hbkey, pkt, sizeof(pkt))) < 0) {
			log_errx("heartbeat: cannot encode our own heartbeat "
			    "(build string '%s'?)", h->build);
			return;
		}
		if (heartbeat_send(h->hbfd, p->addr, h->hc.heartbeat_port, pkt,
		    (size_t)n, err, sizeof(err)) == -1)
			log_debug("heartbeat to %s: %s", p->addr, err);
	}
}

/* Build and config checks, logged once per change. */
static void
check_match(struct ha *h, struct ha_peer *p)
{
	int bm = strcmp(p->last.build, h->build) == 0;
	int cm = memcmp(p->last.cfg_sum, h->cfgsum, HB_SUM_LEN) == 0;

	if (!bm && (p->build_match || !p->build_logged))
		log_warnx("peer %s runs build '%s', this node '%s': database "
		    "sync refused until both run the same build", p->addr,
		    p->last.build, h->build);
	else if (bm && !p->build_match && p->build_logged)
		log_notice("peer %s now runs the same build '%s'", p->addr,
		    h->build);
	if (!cm && (p->cfg_match || !p->cfg_logged))
		log_warnx("peer %s has a different haSvr.cfg (config checksum "
		    "differs): compare the highAvail.* settings on both nodes "
		    "(only highAvail.myAddr and local paths may differ)",
		    p->addr);
	else if (cm && !p->cfg_match && p->cfg_logged)
		log_notice("peer %s: haSvr.cfg settings match again", p->addr);
	p->build_match = bm;
	p->cfg_match = cm;
	p->build_logged = p->cfg_logged = 1;
}

static void
heard(struct ha *h, struct ha_peer *p, const struct hb_msg *m, uint64_t now)
{
	struct role_peer_info pi;
	char err[HASVR_ERRLEN];
	int was_alive = peer_alive(h, p, now);

	p->last = *m;
	p->heard = 1;
	p->last_ms = now;
	check_match(h, p);
	memset(&pi, 0, sizeof(pi));
	pi.role = role_from_hb(m->role);
	pi.epoch = (uint32_t)m->epoch;
	pi.gen = m->db_gen;
	pi.lsn.file = m->lsn_file;
	pi.lsn.offset = m->lsn_offset;
	pi.build_match = p->build_match;
	pi.startup_done = (m->flags & HB_F_STARTUP) != 0;
	pi.pingable = (m->flags & HB_F_PINGABLE) != 0;
	pi.handoff_eid = (int)m->handoff_eid;
	pi.vote_eid = m->vote_eid <= INT32_MAX ? (int)m->vote_eid : 0;
	pi.vote_round = m->vote_round;
	/* whether it has every acknowledged write: as primary our guisvr
	 * knows (acks); otherwise the peer says it of itself */
	pi.insync = role_current(h->role) == ROLE_PRIMARY && p->view_known ?
	    p->view_insync : m->dbstate == HB_DB_INSYNC;
	if (role_peer_heard(h->role, p->eid, now, &pi, err, sizeof(err)) == -1)
		log_warnx("heartbeat from %s: %s", p->addr, err);
	if (!was_alive) {
		log_notice("heartbeat from peer %s (eid %d) received: peer is "
		    "up, role %s, epoch %" PRIu64, p->addr, p->eid,
		    role_name(pi.role), m->epoch);
		p->was_alive = 1;
	}
	/* a role change heard is acted on now, not at the next tick */
	ha_tick_schedule(h);
}

void
peers_on_readable(struct ha *h)
{
	unsigned char buf[HB_MAX_LEN + 1];
	char from[64], why[256];
	struct hb_msg m;
	struct ha_peer *p;
	uint64_t now;
	long n;
	int port, rc, i;

	for (i = 0; i < 64; i++) {
		n = heartbeat_recv(h->hbfd, buf, sizeof(buf), from, sizeof(from),
		    &port);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				log_warn("heartbeat socket");
			return;
		}
		now = util_now_ms();
		if ((p = peer_by_addr(h, from)) == NULL) {
			h->hbcnt.received++;
			h->unknown_source++;
			heartbeat_log_reject(&h->unknown_rl, from, HB_REJ_EID,
			    "not from a configured node (highAvail.primaryAddr, "
			    "secondaryAddr, replicaAddrs)", now);
			continue;
		}
		rc = heartbeat_decode(buf, (size_t)n, h->hbkey, &m, why,
		    sizeof(why));
		if (rc == HB_OK)
			rc = heartbeat_accept(&p->hb, &m, now, why, sizeof(why));
		heartbeat_count(&h->hbcnt, rc);
		heartbeat_count(&p->cnt, rc);
		if (rc != HB_OK) {
			heartbeat_log_reject(&p->rl, from, rc, why, now);
			/* a node is there, only not understood (role.h);
			 * replays and not-yet-fresh boots prove nothing */
			if (rc != HB_REJ_REPLAY && rc != HB_REJ_STALE) {
				role_peer_unauth(h->role, p->eid, now);
				p->unauth_reason = rc;
			}
			continue;
		}
		heard(h, p, &m, now);
	}
}
