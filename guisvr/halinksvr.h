/* halinksvr.h — guisvr's end of the ha-link (protocol in lib/halink.h).
 *
 * A UNIX socket (var/run/guiSvr.halink, mode 0660) served by one small
 * thread of its own: requests are tiny, but a role change may block in
 * rep_start, which must never stall the client service. HL_ROLE, HL_STATE
 * and HL_SYNC go to rep.c, HL_LEASE to replease.c, HL_SYNCSET to
 * repsyncset.c; HL_SUBSCRIBE keeps the connection and pushes
 * every replication event to it. A subscriber that stops reading is dropped
 * once its queue is full, so replication never waits for it. */
#ifndef GUISVR_HALINKSVR_H
#define GUISVR_HALINKSVR_H

#include <stddef.h>

struct rep;
struct halinksvr;

struct halinksvr_opts {
	const char *path;       /* socket path (guicfg_paths.halink) */
	struct rep *rep;        /* NULL: HA is off (standalone) */
	/* why HA is off, sent with every refused HL_ROLE / HL_SYNC /
	 * HL_LEASE / HL_SYNCSET, e.g.
	 * "highAvail.isHaEnabled is n in /opt/hasvr/etc/haSvr.cfg" */
	const char *off_reason;
};

/* Listens and starts the thread; with o->rep, installs the event sink
 * (rep_set_event_sink). NULL with err filled on failure. */
struct halinksvr *halinksvr_start(const struct halinksvr_opts *o, char *err,
    size_t errlen);
/* Removes the event sink, closes every connection, joins the thread and
 * removes the socket. Call before rep_stop. */
void halinksvr_stop(struct halinksvr *s);

#endif
