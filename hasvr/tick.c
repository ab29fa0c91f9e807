/* tick.c — the role tick: the only place hasvr decides and applies roles.
 *
 * It runs from the event loop only — every TICK_MS, and at once when a
 * handler scheduled it (ha_tick_schedule) — never inside a handler. Each
 * run reads guisvr's state (link.c) and what the peers said (recorded by
 * hooks.c into role.c), lets role.c decide, tells guisvr a new role, and
 * commits it once guisvr took it. */
#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "halink.h"
#include "hasvr.h"
#include "util.h"

/* a gap this long between two role ticks is logged */
#define TICK_STALL_MS 250


/* Database sync runs when HA sync and database sync are on and every live
 * peer runs our build. */
void
ha_apply_sync(struct ha *h)
{
	uint64_t now = util_now_ms();
	const struct ha_peer *p;
	int i, want = h->ha_sync && h->db_sync;

	for (i = 0; (p = peers_at(h->peers, i)) != NULL; i++)
		if (peer_alive(h->peers, p, now) && !p->build_match)
			want = 0;
	if (want != h->sync_sent) {
		link_want_sync(h->link, want);
		if (h->sync_sent != -1)
			log_notice("database sync %s", want ? "on" : "off");
		h->sync_sent = want;
	}
}

static void
log_peer_changes(struct ha *h, uint64_t now)
{
	const struct ha_peer *p;
	int i;

	peers_check(h->peers, now);
	for (i = 0; (p = peers_at(h->peers, i)) != NULL; i++) {
		struct ha_peer_view *v = &h->view[p->idx];
		int unauth = role_peer_unauth_present(h->role, p->eid, now);

		if (unauth && !v->unauth_logged)
			log_warnx("peer %s (eid %d) sends heartbeats that fail "
			    "authentication (%s): a node runs there but cannot be "
			    "understood — another highAvail.HMACKey or build, or "
			    "forged packets; this node does not take the primary "
			    "role while they arrive", p->addr, p->eid,
			    heartbeat_reject_words(p->unauth_reason));
		else if (!unauth && v->unauth_logged)
			log_notice("peer %s (eid %d): no more heartbeats that "
			    "fail authentication", p->addr, p->eid);
		v->unauth_logged = unauth;
	}
}

static void
log_db_changes(struct ha *h, const struct link_state *ls)
{
	if (!ls->valid)
		return;
	if (strcmp(h->db_state, ls->state) != 0) {
		if (h->db_state[0] != '\0')
			log_notice("database replication %s -> %s", h->db_state,
			    ls->state);
		util_strlcpy(h->db_state, ls->state, sizeof(h->db_state));
	}
	if (ls->startup_done != h->db_startup) {
		if (ls->startup_done && h->db_startup == 0 &&
		    ls->role == HA_ROLE_SECONDARY)
			log_notice("database startup sync done "
			    "(DB_EVENT_REP_STARTUPDONE)");
		h->db_startup = ls->startup_done;
	}
}

/* A run of refused writes this recent and this long makes this node's
 * database server unable to serve. */
#define FAULT_RECENT_MS 3000
/* After guisvr refused a role, the next decision waits this long. */
#define REFUSED_PAUSE_MS 500
#define FAULT_LASTING_MS 2000

/* Why this node's database server cannot serve now, "" when it can. */
static void
local_fault(struct ha *h, const struct link_state *ls, char *why, size_t len)
{
	why[0] = '\0';
	if (ls->valid) {
		svr_disk_fault_clear(h->svr);  /* it opened the database again */
		if (ls->fault && ls->fault_last_age_ms < FAULT_RECENT_MS &&
		    ls->fault_first_age_ms - ls->fault_last_age_ms >=
		    FAULT_LASTING_MS)
			snprintf(why, len, "the disk holding its database "
			    "refuses writes: %s", ls->fault_why);
		return;
	}
	if (svr_disk_fault(h->svr))
		snprintf(why, len, "highAvailSvr cannot open its database: the "
		    "disk refuses writes");
	else if (svr_unstable(h->svr, util_now_ms()))
		snprintf(why, len, "highAvailSvr exited %d times within %d s",
		    SVR_UNSTABLE_EXITS, SVR_UNSTABLE_MS / 1000);
}

/* What the database server says about the peers, and whether it can
 * serve, go to the role machine. */
static void
note_local_db(struct ha *h, const struct link_state *ls)
{
	const struct link_peer *lp;
	const struct ha_peer *p;
	char why[sizeof(h->fault)];
	int i, primary = role_current(h->role) == HA_ROLE_PRIMARY;

	if (ls->valid)
		role_local_db(h->role, ls->gen, ls->lsn, ls->startup_done);
	else
		role_local_db_lost(h->role);
	for (i = 0; (p = peers_at(h->peers, i)) != NULL; i++) {
		struct ha_peer_view *v = &h->view[p->idx];

		if (!primary) {
			v->known = 0;
			continue;
		}
		if ((lp = link_state_peer(ls, p->eid)) != NULL) {
			v->known = 1;
			v->insync = lp->up && lp->insync;
		}
	}
	local_fault(h, ls, why, sizeof(why));
	if (why[0] != '\0' && h->fault[0] == '\0')
		log_warnx("this node's database server cannot serve: %s", why);
	else if (why[0] == '\0' && h->fault[0] != '\0')
		log_notice("this node's database server serves again");
	util_strlcpy(h->fault, why, sizeof(h->fault));
	role_local_fault(h->role, why[0] != '\0' ? why : NULL);
}

/* What the synchronous-standby record should list (arbiter.h, P/sync): as
 * primary, the secondaries guisvr holds in sync; before, those the last
 * record listed (they hold every write acknowledged so far), less us. */
static unsigned
sync_wish(struct ha *h, const struct link_state *ls)
{
	int i, self = h->hc.nodes[h->hc.self].eid;
	unsigned mask = 0;

	if (role_current(h->role) == HA_ROLE_PRIMARY) {
		if (!ls->valid)
			return h->arb_view.sync_mask;   /* nothing new known */
		for (i = 0; i < ls->npeers; i++)
			if (ls->peers[i].up && ls->peers[i].insync)
				mask |= ha_eid_bit(ls->peers[i].eid);
		return mask;
	}
	if (h->arb_view.rec_present)
		mask = h->arb_view.rec_mask;
	return mask & ~ha_eid_bit(self);
}

/* Arbiter mode: what the arbiter's thread learned goes to the role
 * machine, and what this node is goes to its member key. */
static void
note_arbiter(struct ha *h, const struct link_state *ls, uint64_t now)
{
	struct arbiter_member m;

	if (h->arb == NULL)
		return;
	arbiter_snapshot(h->arb, &h->arb_view);
	role_arbiter(h->role, 1, h->arb_view.leader_eid,
	    arbiter_view_holds(&h->arb_view, now));
	memset(&m, 0, sizeof(m));
	m.role = (int)role_current(h->role);
	m.epoch = role_epoch(h->role);
	if (ls->valid) {
		m.gen = ls->gen;
		m.lsn_file = ls->lsn.file;
		m.lsn_offset = ls->lsn.offset;
	}
	arbiter_publish(h->arb, &m);
	/* a secondary joins guisvr's set first (guisvr then waits for it)
	 * and the record only once guisvr holds it; one that leaves, the
	 * record first (ha_send_syncset sends guisvr record | wish) */
	h->sync_wish = sync_wish(h, ls);
	arbiter_want_sync(h->arb, h->sync_wish & ((ls->valid &&
	    ls->syncset_on ? ls->syncset : 0) | (h->arb_view.sync_written ?
	    h->arb_view.sync_mask : 0)));
	ha_send_lease(h, now, 0);
	ha_send_syncset(h, 0);
}

/* primary, about to be (becoming), or told so and not yet answered */
static int
lease_matters(struct ha *h, int becoming)
{
	return becoming || role_current(h->role) == HA_ROLE_PRIMARY ||
	    (h->has_pending && h->pending.to == HA_ROLE_PRIMARY);
}

void
ha_send_syncset(struct ha *h, int becoming)
{
	unsigned mask;

	if (h->arb == NULL || !h->arb_view.sync_on)
		return;
	if (!lease_matters(h, becoming)) {
		h->syncset_sent = -1;   /* a new term starts from its record */
		return;
	}
	if (!h->arb_view.sync_written)
		return;
	mask = h->arb_view.sync_mask;
	if (role_current(h->role) == HA_ROLE_PRIMARY)
		mask |= h->sync_wish;   /* joining: guisvr before the record */
	if ((int)mask == h->syncset_sent)
		return;
	link_want_syncset(h->link, (uint8_t)mask);
	h->syncset_sent = (int)mask;
}

void
ha_send_lease(struct ha *h, uint64_t now, int becoming)
{
	uint64_t until;

	if (h->arb == NULL)
		return;
	if (!lease_matters(h, becoming) && h->lease_sent_until == 0)
		return;             /* guisvr refuses writes anyway */
	until = arbiter_view_holds(&h->arb_view, now) ?
	    h->arb_view.valid_until : 1;
	if (until == h->lease_sent_until)
		return;
	link_want_lease(h->link, until > now ? (uint32_t)(until - now) : 0);
	h->lease_sent_until = until;
}

/* guisvr holds the role hasvr gave it, or somebody changed it behind
 * hasvr's back (over the ha-link by hand): then it is told again, and
 * haStatus shows it for a while. Only a state read after the last role
 * was applied counts. */
static void
check_svr_role(struct ha *h, const struct link_state *ls, uint64_t now)
{
	unsigned long held = 0;
	enum ha_role r = role_current(h->role);
	int want = (int)r, primary = role_primary_eid(h->role);

	if (!ls->valid || ls->at_ms <= h->committed_ms)
		return;
	if (ls->role == want && (r != HA_ROLE_SECONDARY || ls->follow == primary) &&
	    (r == HA_ROLE_STARTING || ls->epoch == role_epoch(h->role)))
		return;
	if (log_limit_due(&h->lim_mismatch, 10000, &held))
		log_warnx("highAvailSvr has role %s (epoch %u%s), not %s (epoch "
		    "%u) as hasvr told it — changed behind hasvr's back?; "
		    "telling it again%s", ha_role_word(ls->role), ls->epoch,
		    ls->role == HA_ROLE_SECONDARY && ls->follow != primary ?
		    ", another primary" : "", ha_role_word(want),
		    role_epoch(h->role), held ? " (repeated)" : "");
	h->role_mismatch_ms = now;
	h->committed_ms = now;      /* judge the next state after this */
	link_want_role(h->link, want, role_epoch(h->role), primary);
}

/* The role tick: runs only from the event loop (the TICK_MS timer, or
 * ha_tick_schedule's event), never from inside a handler. */
void
ha_tick(struct ha *h)
{
	struct filesync_gate g;
	struct link_state ls;
	struct role_decision d;
	struct role_peer_info before, after;
	char err[HASVR_ERRLEN];
	uint64_t now = util_now_ms();

	if (h->stopping)
		return;
	/* the loop runs every TICK_MS: a long gap delayed the heartbeats
	 * too, and the peers may have taken this node for dead */
	if (h->last_tick_ms != 0 && now - h->last_tick_ms >= TICK_STALL_MS) {
		unsigned long held;

		if (log_limit_due(&h->lim_stall, 10000, &held))
			log_warnx("hasvr's event loop stalled for %llu ms (the "
			    "machine is overloaded, or hasvr was stopped): "
			    "heartbeats were late%s", (unsigned long long)(now -
			    h->last_tick_ms), held ? " (more stalls)" : "");
		/* decide nothing on what was known before the stall: the
		 * heartbeats that arrived meanwhile wait in the socket, and
		 * without them every peer looks dead. Read them now — another
		 * event (a ping's answer) may run the next tick before the
		 * loop gets to the socket. */
		h->last_tick_ms = now;
		peers_read_now(h->peers);
		return;
	}
	h->last_tick_ms = now;
	link_snapshot(h->link, &ls);
	note_local_db(h, &ls);
	note_arbiter(h, &ls, now);
	log_peer_changes(h, now);
	log_db_changes(h, &ls);
	ha_apply_sync(h);
	if (h->has_pending) {
		if (ls.done_no < h->pending_no)
			goto out;    /* guisvr has not answered yet */
		if (ls.done_no == h->pending_no && ls.done_rc != 0 &&
		    h->pending.to == HA_ROLE_SECONDARY &&
		    role_current(h->role) == HA_ROLE_PRIMARY) {
			/* a step-down guisvr could not finish (its disk
			 * refuses writes, say): it stands once guisvr is seen
			 * no longer acting as primary, as writes are what the
			 * role is about; it becomes a secondary when it can */
			if (ls.state_seq < ls.done_seq)
				goto out;    /* its state after the answer */
			if (ls.role != HA_ROLE_PRIMARY) {
				log_warnx("highAvailSvr could not fully take role "
				    "SECONDARY (%s) but no longer accepts writes: "
				    "the step-down stands", ls.done_err);
				ls.done_rc = 0;
			}
		}
		if (ls.done_no == h->pending_no && ls.done_rc != 0) {
			/* refused: decide again from what is true now, at a
			 * calm pace, and ask guisvr for the role it had */
			unsigned long held;

			if (log_limit_due(&h->lim_refused, 10000, &held))
				log_warnx("highAvailSvr did not take role %s (%s); "
				    "deciding again%s", ha_role_name(h->pending.to),
				    ls.done_err, held ? " (repeated)" : "");
			h->has_pending = 0;
			h->refused_ms = now;
			link_want_role(h->link, (int)role_current(h->role),
			    role_epoch(h->role), role_primary_eid(h->role));
			goto out;
		}
		if (role_commit(h->role, &h->pending, now, err,
		    sizeof(err)) == -1) {
			if (!h->state_write_failed)
				log_errx("%s", err);
			h->state_write_failed = 1;
		} else
			h->state_write_failed = 0;
		h->has_pending = 0;
		h->committed_ms = now;
		log_debug("highAvailSvr took role %s in %llu ms",
		    ha_role_name(h->pending.to),
		    (unsigned long long)(now - h->pending_ms));
		peers_send_all(h->peers);
	}
	/* while a role may change, guisvr's position is read every tick (a
	 * switchover's successor takes over once it has every transaction) */
	if (h->has_pending || !role_settled(h->role, now))
		link_refresh(h->link);
	if (!h->has_pending)
		check_svr_role(h, &ls, now);
	if (h->refused_ms != 0 && now - h->refused_ms < REFUSED_PAUSE_MS)
		goto out;
	role_advertise(h->role, now, &before);
	role_tick(h->role, now, &d);
	role_advertise(h->role, now, &after);
	if (h->arb != NULL)
		arbiter_want_leader(h->arb, d.want_leader);
	if (d.action == ROLE_ACT_PRIMARY && h->arb != NULL &&
	    h->arb_view.sync_on && !h->arb_view.sync_written)
		d.action = ROLE_ACT_NONE;   /* the term's record first */
	if (d.action == ROLE_ACT_PRIMARY) {
		/* the lease and the sync set before the role */
		ha_send_lease(h, now, 1);
		ha_send_syncset(h, 1);
	}
	if (d.want_ping)
		ping_now(h->ping);
	if (d.action != ROLE_ACT_NONE) {
		h->pending = d;
		h->has_pending = 1;
		h->pending_ms = now;
		log_info("telling highAvailSvr: become %s (epoch %u), reason: %s",
		    ha_role_name(d.to), d.epoch, d.reason);
		h->pending_no = link_want_role(h->link, (int)d.to,
		    d.epoch, d.to == HA_ROLE_PRIMARY ? 0 : d.primary_eid);
	}
	/* a new vote travels at once: an election waits for it */
	if (before.vote_eid != after.vote_eid ||
	    before.vote_round != after.vote_round)
		peers_send_all(h->peers);
out:
	ha_filesync_gate(h, now, &g);
	filesync_tick(h->fs, &g, now);
	ctl_tick(h->ctl);
}

void
ha_tick_schedule(struct ha *h)
{
	/* once per loop iteration, whoever asks how often */
	if (h->tick_ev != NULL && !event_pending(h->tick_ev, EV_TIMEOUT, NULL))
		event_active(h->tick_ev, EV_TIMEOUT, 0);
}

