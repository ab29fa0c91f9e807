/* peers.h — heartbeats on the wire: this node's sent to every peer each
 * heartbeatInterval, every datagram received checked (heartbeat.c),
 * counted and handed to hasvr through hooks (see peers.c). */
#ifndef HASVR_PEERS_H
#define HASVR_PEERS_H

#include <stddef.h>
#include <stdint.h>

#include "heartbeat.h"

struct event_base;
struct hacfg;
struct peers;

/* What this node knows of one peer from its heartbeats. */
struct ha_peer {
	int idx;                   /* its place in the peers, 0.. */
	int eid;
	int pref;
	char addr[64];
	struct hb_peer_state hb;
	struct hb_ratelimit rl;
	struct hb_counters cnt;
	int heard;                 /* a heartbeat was accepted in this run */
	uint64_t last_ms;          /* when the last one was accepted */
	struct hb_msg last;        /* the last accepted heartbeat */
	int build_match, cfg_match;
	int alive_logged;          /* for "peer … up/down" log lines */
	int unauth_reason;         /* enum hb_reject of the last datagram
				    * from its address that was not understood */
	int build_logged, cfg_logged;
};

struct peers_hooks {
	/* this node's heartbeat as it is now (sent to every peer) */
	void (*fill)(struct hb_msg *m, uint64_t now, void *arg);
	/* a peer's heartbeat was accepted */
	void (*heard)(const struct ha_peer *p, const struct hb_msg *m,
	    uint64_t now, void *arg);
	/* a datagram from a peer's address was not understood (not a
	 * replay): a node runs there that cannot be authenticated */
	void (*unauth)(const struct ha_peer *p, uint64_t now, void *arg);
	void *arg;
};

/* The heartbeat socket on this node's address (hc), the peers of hc, a
 * heartbeat every interval_ms, a peer dead after dead_ms of silence.
 * key, build and cfgsum are this node's (HB_KEY_LEN, HB_BUILD_LEN,
 * HB_SUM_LEN). NULL with err. */
struct peers *peers_new(struct event_base *base, const struct hacfg *hc,
    const unsigned char *key, const char *build, const unsigned char *cfgsum,
    uint64_t interval_ms, uint64_t dead_ms, const struct peers_hooks *hooks,
    char *err, size_t errlen);
void peers_free(struct peers *ps);
/* Send this node's heartbeat to every peer now (a role changed). */
void peers_send_all(struct peers *ps);
/* Log peers whose heartbeats stopped ("… timed out: … peer is down"). */
void peers_check(struct peers *ps, uint64_t now);

int peers_count(const struct peers *ps);
const struct ha_peer *peers_at(const struct peers *ps, int i);
/* Read the heartbeats waiting in the socket now, as the event loop would
 * (after a stall, before anything is decided). */
void peers_read_now(struct peers *ps);
const struct ha_peer *peers_by_eid(const struct peers *ps, int eid);
int peer_alive(const struct peers *ps, const struct ha_peer *p, uint64_t now);
/* A live peer has this heartbeat role (HB_ROLE_*). */
int peers_any_alive_with(const struct peers *ps, int hb_role, uint64_t now);
/* Every datagram, every peer; and those from no configured peer. */
const struct hb_counters *peers_counters(const struct peers *ps);
uint64_t peers_unknown_source(const struct peers *ps);
uint64_t peers_dead_ms(const struct peers *ps);
uint64_t peers_interval_ms(const struct peers *ps);

#endif
