/* hasvr.h — the HA daemon (service "highAvail"): what its modules share.
 *
 * One thread runs a libevent loop: heartbeats in and out (peers.c), the
 * pingable IP check (ping.c), guisvr's supervision (svr.c), the control
 * socket (ctl.c), the ha-link to guisvr (link.c, non-blocking: a slow role
 * change in guisvr never delays a heartbeat) and the role tick (hasvr.c),
 * which feeds role.c and applies its decisions. Handlers schedule the
 * tick (ha_tick_schedule) and return. */
#ifndef HASVR_HASVR_H
#define HASVR_HASVR_H

#include <sys/types.h>

#include <stdint.h>
#include <time.h>

#include "cfg.h"
#include "guicfg.h"
#include "hacfg.h"
#include "heartbeat.h"
#include "role.h"

/* guisvr exited this often within SVR_UNSTABLE_MS: it cannot stay up */
#define SVR_UNSTABLE_EXITS 3
#define SVR_UNSTABLE_MS 60000

struct event_base;
struct event;
struct link;
struct ctlsvr;

/* What this node knows of one peer from its heartbeats. */
struct ha_peer {
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
	int was_alive;             /* for "peer … up/down" log lines */
	int unauth_reason;         /* enum hb_reject of the last datagram
				    * from its address that was not understood */
	int unauth_logged;         /* "sends heartbeats that fail …" logged */
	int view_known, view_insync;  /* as primary, guisvr's last word on
				    * whether it has every acknowledged write */
	int build_logged, cfg_logged;
};

struct ha {
	const char *cfgfile;
	struct cfg cfg;            /* haSvr.cfg */
	struct cfg gcfg;           /* the supervised guisvr's guiSvr.cfg */
	struct hacfg hc;
	struct guicfg_paths gp;
	char vardir[1024], rundir[1024], logpath[1024], ctlpath[1024];
	char pidfile[1024], statefile[1024];
	char guisvr_prog[1024], guisvr_cfg[1024];
	const char *user;          /* highAvail.setuid, "" none */
	uid_t uid;                 /* the user hasvr runs as (after setuid) */
	int foreground;

	struct event_base *base;
	struct event *tick_ev;     /* ha_tick_schedule */
	uint64_t start_ms;
	time_t start_time;
	int stopping;

	/* heartbeat */
	unsigned char hbkey[HB_KEY_LEN];
	unsigned char cfgsum[HB_SUM_LEN];
	char build[HB_BUILD_LEN + 1];
	struct hb_sender sender;
	int hbfd;
	uint64_t hb_interval_ms, dead_ms;
	struct ha_peer peers[HACFG_MAX_NODES];
	int npeers;
	struct hb_counters hbcnt;  /* every datagram, every peer */
	uint64_t unknown_source;   /* datagrams from no configured peer */
	struct hb_ratelimit unknown_rl;

	/* roles */
	struct role_ctx *role;
	struct role_decision pending;  /* sent to guisvr, not yet committed */
	int has_pending;
	uint64_t pending_ms;
	uint64_t pending_no;       /* its ha-link request number */
	uint64_t refused_ms;       /* when guisvr last refused a role */
	uint64_t committed_ms;     /* when the last role was applied or told
				    * again */
	uint64_t role_mismatch_ms; /* when guisvr's role was found changed */
	int state_write_failed;

	/* sync switches (config, changed at run time by the control socket) */
	int ha_sync, db_sync, file_sync;

	/* pingable IP */
	int ping_configured;
	int ping_ok;
	uint64_t ping_ms;          /* when the last result came */
	pid_t ping_pid;
	uint64_t ping_started_ms;

	/* guisvr supervision */
	pid_t svr_pid;
	int svr_restarts;
	uint64_t svr_started_ms;
	int svr_backoff_ms;
	int svr_errfd;
	struct event *svr_err_ev, *svr_timer;
	int resync_pending;        /* guisvr stopping for a resync */
	uint64_t svr_exits[SVR_UNSTABLE_EXITS];  /* its last exits */
	unsigned svr_nexit;
	int svr_disk_fault;        /* it stopped: its disk refuses writes;
				    * cleared when it runs again */
	char fault[192];           /* why this node cannot serve, "" none */

	/* file sync (.haDoDirect) */
	char fs_prog[1024], fs_result[1100];
	uint64_t fs_interval_ms, fs_next_ms, fs_started_ms;
	pid_t fs_pid;
	int fs_requested, fs_runs;

	struct link *link;
	struct ctlsvr *ctl;
};

extern struct ha ha;

/* peers.c */
int peers_init(struct ha *h, char *err, size_t errlen);
void peers_send_all(struct ha *h);
void peers_on_readable(struct ha *h);
int peer_alive(const struct ha *h, const struct ha_peer *p, uint64_t now);
struct ha_peer *peer_by_eid(struct ha *h, int eid);

/* ping.c */
void ping_start(struct ha *h);
void ping_reap(struct ha *h, pid_t pid, int status);
void ping_stop(struct ha *h);

/* svr.c: guisvr ("highAvailSvr") under supervision */
int svr_start(struct ha *h);
int svr_reap(struct ha *h, pid_t pid, int status);   /* 1 if it was guisvr */
void svr_stop(struct ha *h);
const char *svr_service_state(const struct ha *h);  /* running|starting|stopped */
/* 1 when guisvr exited SVR_UNSTABLE_EXITS times within SVR_UNSTABLE_MS. */
int svr_unstable(const struct ha *h);

/* filesync.c: .haDoDirect on the primary */
void filesync_init(struct ha *h);
void filesync_tick(struct ha *h);
int filesync_request(struct ha *h, char *msg, size_t msglen);
int filesync_reap(struct ha *h, pid_t pid, int status);  /* 1 if ours */
void filesync_stop(struct ha *h);
int filesync_result(const struct ha *h, char *result, size_t rlen,
    long long *t, char *reason, size_t reasonlen);

/* hasvr.c */
/* Run the role tick as soon as the event loop gets to it (a heartbeat or
 * a control request changed something); handlers call this and return. */
void ha_tick_schedule(struct ha *h);
void ha_kick_heartbeat(struct ha *h);/* send a heartbeat now (role change) */
void ha_apply_sync(struct ha *h);    /* tell guisvr the database sync switch */
/* Control socket requests: 0 with msg (what happens now), -1 with msg
 * (why not). */
int ha_request_resync(struct ha *h, char *msg, size_t msglen);
int ha_request_filesync(struct ha *h, char *msg, size_t msglen);
/* guisvr stopped for a resync: move its database aside. 0 or -1 (logged). */
int ha_resync_move(struct ha *h);

#endif
