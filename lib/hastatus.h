/* hastatus.h — what haStatus shows: hasvr's status JSON (hactl.h) turned
 * into the table an administrator reads first, the list of problems with
 * where to look next, and the exit code scripts test.
 *
 *   hasvr HA status (this node 127.0.0.1, eid 1)
 *   node          role       epoch  highAvail  highAvailSvr  database  heartbeat
 *   127.0.0.1 *   PRIMARY    3      running    running       in-sync   -
 *   127.0.0.2     SECONDARY  3      running    running       in-sync (lag 0 B, 0 commits)  80 ms ago
 *   builds match; config match; rejected heartbeats: 0 (mac 0, replay 0, …)
 *   …
 *   healthy
 *
 * hastatus_format and hastatus_peer_eid only read a string and write to a
 * FILE, so the unit tests drive them directly; hastatus_run is the command
 * (haStatus, haCtl status) around them. */
#ifndef HASVR_HASTATUS_H
#define HASVR_HASTATUS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes of haStatus (LSB "status" style) and of haCtl status. */
enum hastatus_exit {
	HASTATUS_HEALTHY = 0,           /* every check passed */
	HASTATUS_PROBLEMS = 1,          /* hasvr runs, something is wrong */
	HASTATUS_NOT_RUNNING = 3,       /* nobody on the control socket */
	HASTATUS_UNKNOWN = 4,           /* bad usage, refused, invalid reply */
};

/* Check the status JSON and, when fp is not NULL, write the table, the
 * summary lines and the problems to fp. Returns HASTATUS_HEALTHY or
 * HASTATUS_PROBLEMS; HASTATUS_UNKNOWN with err filled (and nothing
 * written) when json is not valid JSON or misses a field the table needs
 * ("status from hasvr: \"node\" is missing or not an object"). The node is
 * healthy when hasvr says so and none of the checks made here (peers'
 * heartbeats and services, database state, builds, config, pingable IP,
 * file sync, exactly one primary) finds a problem. */
int hastatus_format(const char *json, FILE *fp, char *err, size_t errlen);

/* The eid hasvr knows a peer by, from the status JSON's "peers" (addr
 * compared in canonical form: "::0001" is "::1"). 0, or -1 with err
 * ("127.0.0.9 is not a peer of this node (peers: 127.0.0.2 eid 2)"). */
int hastatus_peer_eid(const char *json, const char *addr, uint32_t *eid,
    char *err, size_t errlen);

/* Ask hasvr on sock (NULL: the default socket) for its status and print it
 * on stdout: the table, or with as_json the JSON as received (one line).
 * wait_secs > 0: ask again every quarter second, also while hasvr is not
 * up yet, until the node is healthy or wait_secs have passed; the last
 * answer is printed. Errors go to stderr. Returns an hastatus_exit. */
int hastatus_run(const char *sock, int as_json, long wait_secs);

#endif
