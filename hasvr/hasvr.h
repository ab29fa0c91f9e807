/* hasvr.h — the HA daemon (service "highAvail"): the hub that wires its
 * modules together.
 *
 * One thread runs a libevent loop. Each module owns its state behind an
 * opaque struct and knows nothing of the others:
 *
 *   peers.c     heartbeats out and in (heartbeat.c checks them)
 *   ping.c      the pingable IP
 *   svr.c       guisvr under supervision, and the resync (resync.c)
 *   link.c      the ha-link to guisvr (non-blocking; linkstate.c)
 *   filesync.c  .haDoDirect on the primary
 *   ctl.c       the control socket: who may do what
 *   role.c      the role decision, a pure state machine
 *
 * The hub (this header) holds them and the state of applying roles:
 * hasvr.c starts and stops everything, tick.c is the role tick — the only
 * place roles are decided and applied, run from one deferred event that
 * every handler schedules (ha_tick_schedule) and returns — hooks.c feeds
 * the modules' news to the role machine, requests.c answers the control
 * socket, status.c writes the status JSON. */
#ifndef HASVR_HASVR_H
#define HASVR_HASVR_H

#include <sys/types.h>

#include <stdint.h>
#include <time.h>

#include "arbiter.h"
#include "cfg.h"
#include "ctl.h"
#include "filesync.h"
#include "guicfg.h"
#include "hacfg.h"
#include "heartbeat.h"
#include "link.h"
#include "log.h"
#include "peers.h"
#include "ping.h"
#include "role.h"
#include "statewriter.h"
#include "svr.h"

struct event_base;
struct event;

/* What the hub keeps of a peer beside its heartbeats (peers.h). */
struct ha_peer_view {
	int known, insync;          /* as primary, guisvr's last word on
				     * whether it has every acknowledged write */
	int unauth_logged;          /* "sends heartbeats that fail …" logged */
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
	int stopping;

	unsigned char hbkey[HB_KEY_LEN];
	unsigned char cfgsum[HB_SUM_LEN];
	char build[HB_BUILD_LEN + 1];

	/* the modules */
	struct peers *peers;
	struct ping *ping;
	struct svr *svr;
	struct link *link;
	struct filesync *fs;
	struct ctlsvr *ctl;
	struct role_ctx *role;
	struct statewriter *sw;    /* haSvr.state, off the event loop */
	struct arbiter *arb;       /* highAvail.arbiter etcd, else NULL */
	int arb_pipe[2];           /* its thread wakes the loop */
	struct event *arb_ev;
	struct arbiter_view arb_view;  /* its view at the last tick */
	uint64_t lease_sent_until; /* the lease end guisvr was told, 0 none */
	int syncset_sent;          /* the sync set guisvr was told, -1 none */
	unsigned sync_wish;        /* the secondaries guisvr holds in sync */

	struct ha_peer_view view[HACFG_MAX_NODES];  /* by ha_peer.idx */

	/* applying roles */
	struct role_decision pending;  /* sent to guisvr, not yet committed */
	int has_pending;
	uint64_t pending_ms;
	uint64_t pending_no;       /* its ha-link request number */
	uint64_t refused_ms;       /* when guisvr last refused a role */
	uint64_t committed_ms;     /* when the last role was applied or told
				    * again */
	uint64_t role_mismatch_ms; /* when guisvr's role was found changed */
	int state_write_failed;
	int sync_sent;             /* the database sync switch guisvr has,
				    * -1 not sent yet */
	struct log_limit lim_refused, lim_mismatch, lim_stall;
	uint64_t last_tick_ms;     /* the last role tick ran */
	char db_state[16];         /* for "database replication a -> b" */
	int db_startup;            /* -1 unknown */

	/* sync switches (config, changed at run time by the control socket) */
	int ha_sync, db_sync, file_sync;

	char fault[192];           /* why this node cannot serve, "" none */
};

/* tick.c */
/* Run the role tick as soon as the event loop gets to it (a heartbeat or
 * a control request changed something); handlers call this and return. */
void ha_tick_schedule(struct ha *h);
/* The role tick itself (the TICK_MS timer and ha_tick_schedule's event). */
void ha_tick(struct ha *h);
void ha_apply_sync(struct ha *h);    /* tell guisvr the database sync switch */
/* Arbiter mode: tell guisvr how long its primary role is certainly valid
 * (when that changed); as primary without the key, that it is not. */
void ha_send_lease(struct ha *h, uint64_t now, int becoming);
/* Arbiter mode, sync and strict: tell guisvr the secondaries the
 * synchronous-standby record lists, once it is written. */
void ha_send_syncset(struct ha *h, int becoming);

/* hooks.c: what the modules tell the hub (arg is the struct ha) */
void ha_peers_hooks(struct ha *h, struct peers_hooks *out);
void ha_svr_hooks(struct ha *h, struct svr_hooks *out);
void ha_on_ping(int ok, uint64_t now, void *arg);
void ha_on_link(void *arg);

/* requests.c: the control socket's requests */
void ha_ctl_ops(struct ha *h, struct ctl_ops *out);
/* What file sync may do now. */
void ha_filesync_gate(struct ha *h, uint64_t now, struct filesync_gate *g);

#endif
