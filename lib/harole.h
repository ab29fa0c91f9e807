/* harole.h — the roles of a node, one enum for hasvr, guisvr, the
 * heartbeat and ha-link wires and the tools. The numbers are on the wire
 * (heartbeat byte, ha-link u8): never renumber them.
 *
 *   STARTING    no role yet (wire word "none"): no writes, follows nobody
 *   PRIMARY     accepts writes
 *   SECONDARY   refuses writes, follows a primary
 *   STANDALONE  guisvr without HA (no haSvr.cfg): accepts writes alone;
 *               only in guisvr's state, never in a heartbeat or a request
 */
#ifndef HASVR_HAROLE_H
#define HASVR_HAROLE_H

enum ha_role {
	HA_ROLE_STARTING = 0,
	HA_ROLE_PRIMARY = 1,
	HA_ROLE_SECONDARY = 2,
	HA_ROLE_STANDALONE = 3,
};
#define HA_ROLE_COUNT 4

/* The primary a secondary follows: none known yet, or whichever node acts
 * as primary (guisvr without hasvr). Otherwise a node's eid. */
#define HA_PRIMARY_NONE 0u
#define HA_PRIMARY_ANY  0xffffffffu

/* A node's bit in a set of nodes (a heartbeat's in-sync set, the
 * synchronous-standby record, guisvr's sync set): bit eid-1 for eids 1..8,
 * 0 for any other eid. */
static inline unsigned
ha_eid_bit(long long eid)
{
	return eid >= 1 && eid <= 8 ? 1u << (eid - 1) : 0;
}

/* The name people read in logs and haStatus: "STARTING", "PRIMARY",
 * "SECONDARY", "STANDALONE"; "UNKNOWN" for anything else. */
const char *ha_role_name(int role);
/* The word of the wires, files and command lines: "none", "primary",
 * "secondary", "standalone"; "unknown" for anything else. */
const char *ha_role_word(int role);
/* The role of a word (exact, lower case), -1 if none. */
int ha_role_parse(const char *word);

/* The one spelling of the line every role change logs, in hasvr and in
 * guisvr: from, to (ha_role_name) and why. */
#define HA_ROLE_CHANGE_FMT "role change %s -> %s, reason: %s"

#endif
