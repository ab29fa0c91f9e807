/* requests.c — what hasvr does for the control socket's requests (ctl.c
 * checked who asks): switchover, promote, the sync switches, resync and
 * file sync, and whether an awaited switchover or promote happened. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "hactl.h"
#include "hasvr.h"
#include "status.h"
#include "util.h"

void
ha_filesync_gate(struct ha *h, uint64_t now, struct filesync_gate *g)
{
	g->ha_sync = h->ha_sync;
	g->file_sync = h->file_sync;
	g->primary = role_current(h->role) == HA_ROLE_PRIMARY && !h->has_pending;
	g->role = ha_role_name(role_current(h->role));
	g->secondary_up = peers_any_alive_with(h->peers, HA_ROLE_SECONDARY, now);
}

static enum ctl_answer
do_sync(struct ha *h, const struct hc_req *r, uid_t uid, pid_t pid,
    char *msg, size_t msglen)
{
	static const char *const names[] = { "", "HA sync", "database sync",
	    "file sync" };

	switch (r->what) {
	case HC_SYNC_HA: h->ha_sync = r->enable; break;
	case HC_SYNC_DB: h->db_sync = r->enable; break;
	default: h->file_sync = r->enable; break;
	}
	log_notice("%s %s by the control socket (uid %ld, pid %ld)",
	    names[r->what], r->enable ? "enabled" : "disabled", (long)uid,
	    (long)pid);
	ha_apply_sync(h);
	peers_send_all(h->peers);
	snprintf(msg, msglen, "%s %s on this node (until hasvr restarts; "
	    "set it in haSvr.cfg to keep it)", names[r->what],
	    r->enable ? "enabled" : "disabled");
	return CTL_OK;
}

static enum ctl_answer
do_resync(struct ha *h, char *msg, size_t msglen)
{
	if (role_current(h->role) == HA_ROLE_PRIMARY) {
		snprintf(msg, msglen, "resync refused: this node is PRIMARY and "
		    "holds the data the others copy; run it on the secondary");
		return CTL_REFUSED;
	}
	if (!peers_any_alive_with(h->peers, HA_ROLE_PRIMARY, util_now_ms())) {
		snprintf(msg, msglen, "resync refused: no live primary to copy "
		    "the database from; start the primary first");
		return CTL_REFUSED;
	}
	return svr_resync(h->svr, msg, msglen) == 0 ? CTL_OK : CTL_REFUSED;
}

static enum ctl_answer
request(void *arg, const struct hc_req *r, uid_t uid, pid_t pid,
    struct ctl_wait *w, char *msg, size_t msglen)
{
	struct ha *h = arg;
	struct filesync_gate g;

	switch (r->type) {
	case HC_SWITCHOVER:
		if (!role_request_switchover(h->role, (int)r->target_eid,
		    w->start_ms, msg, msglen))
			return CTL_REFUSED;
		log_notice("%s (asked by uid %ld)", msg, (long)uid);
		break;
	case HC_PROMOTE:
		if (role_current(h->role) == HA_ROLE_PRIMARY) {
			snprintf(msg, msglen, "this node is already PRIMARY "
			    "(epoch %u); nothing done", role_epoch(h->role));
			return CTL_OK;
		}
		if (!role_request_promote(h->role, r->force, w->start_ms, msg,
		    msglen))
			return CTL_REFUSED;
		log_notice("%s (asked by uid %ld)", msg, (long)uid);
		break;
	case HC_SYNC:
		return do_sync(h, r, uid, pid, msg, msglen);
	case HC_RESYNC:
		return do_resync(h, msg, msglen);
	default:        /* HC_FILESYNC */
		ha_filesync_gate(h, util_now_ms(), &g);
		return filesync_request(h->fs, &g, msg, msglen) == 0 ? CTL_OK :
		    CTL_REFUSED;
	}
	w->type = r->type;
	w->target = r->type == HC_SWITCHOVER ? role_switch_target(h->role) : 0;
	w->epoch = role_epoch(h->role);
	ha_tick_schedule(h);
	return CTL_WAIT;
}

/* Has the switchover or promote a connection waits for happened? */
static int
outcome(void *arg, const struct ctl_wait *w, uint64_t now, char *msg,
    size_t msglen)
{
	struct ha *h = arg;
	const struct ha_peer *p;

	if (w->type == HC_PROMOTE) {
		if (role_current(h->role) != HA_ROLE_PRIMARY || h->has_pending)
			return 0;
		snprintf(msg, msglen, "promoted: this node %s is PRIMARY with "
		    "epoch %u and accepts writes (%llu ms)",
		    h->hc.nodes[h->hc.self].addr, role_epoch(h->role),
		    (unsigned long long)(now - w->start_ms));
		return 1;
	}
	p = peers_by_eid(h->peers, w->target);
	if (p == NULL || !peer_alive(h->peers, p, now) ||
	    p->last.role != HA_ROLE_PRIMARY || p->last.epoch <= w->epoch)
		return 0;
	snprintf(msg, msglen, "switchover done: %s is PRIMARY with epoch "
	    "%" PRIu64 ", this node %s is SECONDARY (%llu ms)", p->addr,
	    p->last.epoch, h->hc.nodes[h->hc.self].addr,
	    (unsigned long long)(now - w->start_ms));
	return 1;
}

static void
timed_out(void *arg, const struct ctl_wait *w, unsigned secs, char *msg,
    size_t msglen)
{
	struct ha *h = arg;

	snprintf(msg, msglen, "%s not finished within %u s: this node is %s "
	    "(epoch %u); see ha.log on both nodes", w->type == HC_PROMOTE ?
	    "promote" : "switchover", secs, ha_role_name(role_current(h->role)),
	    role_epoch(h->role));
}

static char *
status(void *arg)
{
	return status_json(arg);
}

void
ha_ctl_ops(struct ha *h, struct ctl_ops *out)
{
	out->status = status;
	out->request = request;
	out->outcome = outcome;
	out->timed_out = timed_out;
	out->arg = h;
}
