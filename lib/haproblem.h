/* haproblem.h — what is wrong with an HA group, decided in one place.
 *
 * hasvr puts the facts in its status JSON (lib/hactl.h: this node, each
 * peer as its heartbeats and guisvr describe it, the file sync result);
 * haproblems_attach reads them and adds "problems", each one typed:
 *
 *   { "code": "peer-timeout", "about": "127.0.0.2",
 *     "text": "peer 127.0.0.2: heartbeat timed out (last heard 12 s ago) — …" }
 *
 * and "healthy" (no problem). haStatus prints the texts as they are;
 * monitoring scripts test the codes. "about" is a peer's address, "self"
 * for this node, or "group". */
#ifndef HASVR_HAPROBLEM_H
#define HASVR_HAPROBLEM_H

#include <jansson.h>

enum ha_problem {
	HP_STARTING = 1,        /* this node has not chosen a role yet */
	HP_WAITS_FOR_ALL,       /* … and waits to hear every peer */
	HP_STALE_PRIMARY,       /* … and a lower epoch's primary runs */
	HP_UNKNOWN_ROLE,        /* a role word this build does not know */
	HP_SVR_DOWN,            /* this node's guisvr is not running */
	HP_DB_DIRTY,            /* this node's database is not in sync */
	HP_DB_UNKNOWN,          /* guisvr said nothing about it */
	HP_PINGABLE,            /* highAvail.pingableIp does not answer */
	HP_PEER_UNAUTH,         /* a peer's heartbeats fail authentication */
	HP_PEER_TIMEOUT,        /* a peer's heartbeats stopped or never came */
	HP_PEER_HASVR,          /* a peer's hasvr reports itself not running */
	HP_PEER_SVR_DOWN,       /* a peer's guisvr is not running */
	HP_PEER_BUILD,          /* a peer runs another build */
	HP_PEER_CONFIG,         /* a peer's haSvr.cfg differs */
	HP_PEER_TLS,            /* the replication channel refuses a peer */
	HP_PEER_DIRTY,          /* the primary: a peer lacks writes */
	HP_NO_PRIMARY,
	HP_PRIMARIES,           /* more than one primary */
	HP_FILESYNC_FAIL,
	HP_SYNC_OFF,            /* HA sync or database sync switched off */
	HP_STARTUP_SYNC,        /* a secondary's first sync is not done */
	HP_ROLE_CHANGED,        /* guisvr's role was changed behind hasvr */
	HP_FAULT,               /* this node's database server cannot serve */
	HP_STATE_FILE,          /* haSvr.state cannot be written */
	HP_LACKS_WRITES,        /* a secondary lacks acknowledged writes */
	HP_ARBITER,             /* etcd does not answer this node */
	HP_COUNT
};

/* The code's name in the JSON ("peer-timeout"); NULL for no code. */
const char *haproblem_name(enum ha_problem code);
/* The code of a name, 0 if none. */
enum ha_problem haproblem_code(const char *name);

/* Every problem the facts in status show, in the order people read them
 * (this node, each peer, the group), as a new JSON array. */
json_t *haproblems_derive(json_t *status);
/* Set status's "problems" (haproblems_derive) and "healthy". 0, or -1
 * when out of memory. */
int haproblems_attach(json_t *status);

#endif
