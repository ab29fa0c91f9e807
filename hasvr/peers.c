/* peers.c — heartbeats on the wire (see peers.h): one datagram to each
 * peer every heartbeatInterval, and every datagram received checked
 * (heartbeat.c), counted, and handed to hasvr's hooks. Build and config
 * mismatches and peers coming up or going down are logged here, once per
 * change. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "hacfg.h"
#include "log.h"
#include "peers.h"
#include "util.h"

/* datagrams read at most per wake-up, so that a flood cannot starve the
 * event loop */
#define PEERS_READ_BATCH 64

struct peers {
	struct peers_hooks hooks;
	struct hb_sender sender;
	unsigned char key[HB_KEY_LEN];
	unsigned char cfgsum[HB_SUM_LEN];
	char build[HB_BUILD_LEN + 1];
	int self_eid;
	int port;
	int fd;
	struct event *in_ev, *timer;
	uint64_t interval_ms, dead_ms;
	struct ha_peer peer[HACFG_MAX_NODES];
	int n;
	struct hb_counters cnt;     /* every datagram, every peer */
	uint64_t unknown_source;    /* datagrams from no configured peer */
	struct hb_ratelimit unknown_rl;
};

static const char *
hb_role_word(int r)
{
	return r == HA_ROLE_PRIMARY ? "PRIMARY" : r == HA_ROLE_SECONDARY ?
	    "SECONDARY" : "STARTING";
}

int
peer_alive(const struct peers *ps, const struct ha_peer *p, uint64_t now)
{
	return p->heard && now - p->last_ms < ps->dead_ms;
}

int
peers_count(const struct peers *ps)
{
	return ps->n;
}

const struct ha_peer *
peers_at(const struct peers *ps, int i)
{
	return i >= 0 && i < ps->n ? &ps->peer[i] : NULL;
}

const struct ha_peer *
peers_by_eid(const struct peers *ps, int eid)
{
	int i;

	for (i = 0; i < ps->n; i++)
		if (ps->peer[i].eid == eid)
			return &ps->peer[i];
	return NULL;
}

int
peers_any_alive_with(const struct peers *ps, int hb_role, uint64_t now)
{
	int i;

	for (i = 0; i < ps->n; i++)
		if (peer_alive(ps, &ps->peer[i], now) &&
		    ps->peer[i].last.role == hb_role)
			return 1;
	return 0;
}

const struct hb_counters *
peers_counters(const struct peers *ps)
{
	return &ps->cnt;
}

uint64_t
peers_unknown_source(const struct peers *ps)
{
	return ps->unknown_source;
}

uint64_t
peers_dead_ms(const struct peers *ps)
{
	return ps->dead_ms;
}

uint64_t
peers_interval_ms(const struct peers *ps)
{
	return ps->interval_ms;
}

static struct ha_peer *
peer_by_addr(struct peers *ps, const char *addr)
{
	int i;

	for (i = 0; i < ps->n; i++)
		if (strcmp(ps->peer[i].addr, addr) == 0)
			return &ps->peer[i];
	return NULL;
}

void
peers_send_all(struct peers *ps)
{
	unsigned char pkt[HB_MAX_LEN];
	char err[256];
	struct hb_msg m;
	uint64_t now = util_now_ms();
	int i, n;

	memset(&m, 0, sizeof(m));
	ps->hooks.fill(&m, now, ps->hooks.arg);
	m.eid = (uint32_t)ps->self_eid;
	memcpy(m.cfg_sum, ps->cfgsum, HB_SUM_LEN);
	util_strlcpy(m.build, ps->build, sizeof(m.build));
	for (i = 0; i < ps->n; i++) {
		struct ha_peer *p = &ps->peer[i];

		heartbeat_stamp(&ps->sender, &p->hb, &m);
		if ((n = heartbeat_encode(&m, ps->key, pkt, sizeof(pkt))) < 0) {
			log_errx("heartbeat: cannot encode our own heartbeat "
			    "(build string '%s'?)", ps->build);
			return;
		}
		if (heartbeat_send(ps->fd, p->addr, ps->port, pkt, (size_t)n,
		    err, sizeof(err)) == -1)
			log_debug("heartbeat to %s: %s", p->addr, err);
	}
}

/* Build and config checks, logged once per change. */
static void
check_match(struct peers *ps, struct ha_peer *p)
{
	int bm = strcmp(p->last.build, ps->build) == 0;
	int cm = memcmp(p->last.cfg_sum, ps->cfgsum, HB_SUM_LEN) == 0;

	if (!bm && (p->build_match || !p->build_logged))
		log_warnx("peer %s runs build '%s', this node '%s': database "
		    "sync refused until both run the same build", p->addr,
		    p->last.build, ps->build);
	else if (bm && !p->build_match && p->build_logged)
		log_notice("peer %s now runs the same build '%s'", p->addr,
		    ps->build);
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
heard(struct peers *ps, struct ha_peer *p, const struct hb_msg *m,
    uint64_t now)
{
	int was_alive = peer_alive(ps, p, now);

	p->last = *m;
	p->heard = 1;
	p->last_ms = now;
	check_match(ps, p);
	if (!was_alive) {
		log_notice("heartbeat from peer %s (eid %d) received: peer is "
		    "up, role %s, epoch %" PRIu64, p->addr, p->eid,
		    hb_role_word(m->role), m->epoch);
		p->alive_logged = 1;
	}
	ps->hooks.heard(p, m, now, ps->hooks.arg);
}

void
peers_check(struct peers *ps, uint64_t now)
{
	int i;

	for (i = 0; i < ps->n; i++) {
		struct ha_peer *p = &ps->peer[i];

		if (p->alive_logged && !peer_alive(ps, p, now)) {
			p->alive_logged = 0;
			log_warnx("heartbeat from peer %s (eid %d) timed out: no "
			    "valid heartbeat for %llu ms, peer is down", p->addr,
			    p->eid, (unsigned long long)(now - p->last_ms));
		}
	}
}

static void on_readable(evutil_socket_t fd, short what, void *arg);

void
peers_read_now(struct peers *ps)
{
	on_readable(ps->fd, EV_READ, ps);
}

static void
on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct peers *ps = arg;
	unsigned char buf[HB_MAX_LEN + 1];
	char from[64], why[256];
	struct hb_msg m;
	struct ha_peer *p;
	uint64_t now;
	long n;
	int port, rc, i;

	(void)fd;
	(void)what;
	for (i = 0; i < PEERS_READ_BATCH; i++) {
		n = heartbeat_recv(ps->fd, buf, sizeof(buf), from, sizeof(from),
		    &port);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				log_warn("heartbeat socket");
			return;
		}
		now = util_now_ms();
		if ((p = peer_by_addr(ps, from)) == NULL) {
			ps->cnt.received++;
			ps->unknown_source++;
			heartbeat_log_reject(&ps->unknown_rl, from, HB_REJ_EID,
			    "not from a configured node (highAvail.primaryAddr, "
			    "secondaryAddr, replicaAddrs)", now);
			continue;
		}
		rc = heartbeat_decode(buf, (size_t)n, ps->key, &m, why,
		    sizeof(why));
		if (rc == HB_OK)
			rc = heartbeat_accept(&p->hb, &m, now, why, sizeof(why));
		heartbeat_count(&ps->cnt, rc);
		heartbeat_count(&p->cnt, rc);
		if (rc != HB_OK) {
			heartbeat_log_reject(&p->rl, from, rc, why, now);
			/* a node is there, only not understood (role.h);
			 * replays and not-yet-fresh boots prove nothing */
			if (rc != HB_REJ_REPLAY && rc != HB_REJ_STALE) {
				p->unauth_reason = rc;
				ps->hooks.unauth(p, now, ps->hooks.arg);
			}
			continue;
		}
		heard(ps, p, &m, now);
	}
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	peers_send_all(arg);
}

struct peers *
peers_new(struct event_base *base, const struct hacfg *hc,
    const unsigned char *key, const char *build, const unsigned char *cfgsum,
    uint64_t interval_ms, uint64_t dead_ms, const struct peers_hooks *hooks,
    char *err, size_t errlen)
{
	const struct hacfg_node *self = &hc->nodes[hc->self];
	struct timeval tv;
	struct peers *ps;
	int i;

	if ((ps = calloc(1, sizeof(*ps))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ps->fd = -1;
	ps->hooks = *hooks;
	memcpy(ps->key, key, HB_KEY_LEN);
	memcpy(ps->cfgsum, cfgsum, HB_SUM_LEN);
	util_strlcpy(ps->build, build, sizeof(ps->build));
	ps->self_eid = self->eid;
	ps->port = hc->heartbeat_port;
	ps->interval_ms = interval_ms;
	ps->dead_ms = dead_ms;
	if (heartbeat_sender_init(&ps->sender, err, errlen) == -1)
		goto fail;
	for (i = 0; i < hc->nnodes; i++) {
		struct ha_peer *p;

		if (i == hc->self)
			continue;
		p = &ps->peer[ps->n];
		p->idx = ps->n++;
		p->eid = hc->nodes[i].eid;
		p->pref = hc->nodes[i].preferred;
		util_strlcpy(p->addr, hc->nodes[i].addr, sizeof(p->addr));
		heartbeat_peer_init(&p->hb, (uint32_t)p->eid, &ps->sender);
	}
	if ((ps->fd = heartbeat_socket_open(self->addr, hc->heartbeat_port,
	    err, errlen)) == -1)
		goto fail;
	ps->in_ev = event_new(base, ps->fd, EV_READ | EV_PERSIST, on_readable,
	    ps);
	ps->timer = event_new(base, -1, EV_PERSIST, on_timer, ps);
	if (ps->in_ev == NULL || ps->timer == NULL) {
		snprintf(err, errlen, "out of memory (heartbeat events)");
		goto fail;
	}
	tv.tv_sec = (time_t)(interval_ms / 1000);
	tv.tv_usec = (suseconds_t)(interval_ms % 1000) * 1000;
	event_add(ps->in_ev, NULL);
	event_add(ps->timer, &tv);
	log_info("read highAvail.heartbeatPort; myAddr = %s, port %d, "
	    "%d peer%s", self->addr, hc->heartbeat_port, ps->n,
	    ps->n == 1 ? "" : "s");
	for (i = 0; i < ps->n; i++)
		log_info("read highAvail.heartbeatPort; peerAddr = %s (eid %d)",
		    ps->peer[i].addr, ps->peer[i].eid);
	return ps;
fail:
	peers_free(ps);
	return NULL;
}

void
peers_free(struct peers *ps)
{
	if (ps == NULL)
		return;
	if (ps->in_ev != NULL)
		event_free(ps->in_ev);
	if (ps->timer != NULL)
		event_free(ps->timer);
	if (ps->fd != -1)
		close(ps->fd);
	explicit_bzero(ps->key, sizeof(ps->key));
	free(ps);
}
