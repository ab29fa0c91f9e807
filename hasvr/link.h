/* link.h — hasvr's side of the ha-link to guisvr, on hasvr's event loop.
 *
 * One non-blocking connection to guisvr's ha-link socket. Whenever it
 * (re)connects — guisvr was started or restarted — it subscribes to
 * guisvr's events and sends the role and the database sync switch hasvr
 * wants, so one mechanism covers a first start and a restart. It asks for
 * guisvr's state after each event, on link_refresh and at least once a
 * second; each reply or event calls notify (hasvr schedules its tick).
 * Nothing here waits for guisvr. */
#ifndef HASVR_LINK_H
#define HASVR_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "role.h"

#define LINK_MAX_PEERS 8

struct link_peer {
	int eid;
	char addr[64];
	int up;                   /* replication connection up */
	struct role_lsn lsn, acked;
	unsigned long long behind_bytes, behind_commits;
	int insync;
	long long auth_fail_age_ms;   /* replication TLS refused, -1 never */
	char auth_why[160];
};

struct link_state {
	int connected;            /* the ha-link is up */
	int valid;                /* the fields below are from guisvr */
	uint64_t at_ms;           /* when they were read */
	uint64_t state_seq;       /* the reply they came in (replies are
				   * counted; guisvr answers in order) */
	int role;                 /* enum ha_role guisvr has */
	uint32_t epoch, gen;
	struct role_lsn lsn;
	int startup_done;
	char state[16];           /* in-sync | dirty | alone */
	int follow;               /* a secondary's primary eid, 0 none, -1 any */
	int fault;                /* the disk refused writes lately */
	unsigned long long fault_first_age_ms, fault_last_age_ms;
	char fault_why[64];
	int sync_on;
	int lease_on;             /* arbiter mode: guisvr got an HL_LEASE */
	uint32_t lease_left_ms;   /* its lease, as guisvr times it; 0 ran out */
	int syncset_on;           /* arbiter sync mode: guisvr got an
				   * HL_SYNCSET */
	uint8_t syncset;          /* the set it holds: bit eid - 1 = listed */
	struct link_peer peers[LINK_MAX_PEERS];
	int npeers;
	/* the last role request */
	uint64_t want_no, done_no;/* done_no == want_no: applied (or failed) */
	int done_rc;              /* 0 applied, else failed (done_err) */
	uint64_t done_seq;        /* the reply done_no came in: a state with
				   * a higher state_seq was read after it */
	char done_err[256];
	uint64_t connects;        /* connections made so far */
};

struct link;

/* Start on base; path is guisvr's ha-link socket; notify(arg) runs after
 * every reply or event that came in. NULL with err. */
struct event_base;
struct link *link_start(struct event_base *base, const char *path,
    void (*notify)(void *), void *arg, char *err, size_t errlen);
void link_stop(struct link *l);
/* Ask for a role (enum ha_role) and epoch, and for a secondary the eid of
 * the primary it follows (0 none yet); returns the request number that
 * done_no reaches once guisvr answered. */
uint64_t link_want_role(struct link *l, int role, uint32_t epoch,
    int primary_eid);
void link_want_sync(struct link *l, int enable);
/* Tell guisvr the primary role is certainly this node's for ms more
 * milliseconds (0: not any more); it stops taking and acknowledging writes
 * once that ran out (HL_LEASE). Sent at once, behind nothing but what is
 * already on its way; never kept for later: with the ha-link down, or
 * guisvr owing too many replies, nothing is sent (a later value would be
 * stale; the next renewal sends a fresh one). */
void link_want_lease(struct link *l, uint32_t ms);
/* Tell guisvr the synchronous-standby set: bit eid - 1 of mask = eid is
 * listed in etcd's synchronous-standby record (HL_SYNCSET). From the first
 * one on, a primary's guisvr acknowledges no write that a listed
 * secondary lacks. Call it once the record is written. Sent through the
 * same FIFO as the others, at once if it can be; it is state, like the
 * role: kept, and sent again (before the role) to a new guisvr. */
void link_want_syncset(struct link *l, uint8_t mask);
/* Ask guisvr for its state now (its answer arrives through notify). */
void link_refresh(struct link *l);
/* Drop the connection (guisvr died): reconnect and resend. */
void link_reset(struct link *l);
void link_snapshot(struct link *l, struct link_state *out);

/* guisvr's replication state as an enum hb_dbstate (heartbeat.h):
 * UNKNOWN while the ha-link has no state, else INSYNC, ALONE or DIRTY.
 * heartbeat_dbstate_name gives its word for people. */
int link_dbstate(const struct link_state *st);

/* guisvr's typed state (lib/hlstate.h) as hasvr keeps it. */
struct hl_state;
void link_from_state(const struct hl_state *hs, struct link_state *st);
/* What guisvr said of peer eid, NULL if nothing (or no valid state). */
const struct link_peer *link_state_peer(const struct link_state *st, int eid);

#endif
