/* status.c — the status JSON hasvr's control socket answers (format in
 * lib/hactl.h): what this node and each peer are, as facts. What is wrong
 * is decided from these facts by lib/haproblem.c, which adds "problems"
 * (typed codes with their text) and "healthy". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "haproblem.h"
#include "hasvr.h"
#include "link.h"
#include "status.h"
#include "util.h"

/* A replication authentication failure this recent is reported. */
#define AUTH_RECENT_MS 30000

static json_t *
lsn_json(struct role_lsn l)
{
	char s[32];

	snprintf(s, sizeof(s), "%u/%u", l.file, l.offset);
	return json_string(s);
}

static json_t *
rejected_json(const struct hb_counters *c)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I}",
	    "malformed", (json_int_t)c->rejected_malformed,
	    "mac", (json_int_t)c->rejected_mac,
	    "eid", (json_int_t)c->rejected_eid,
	    "replay", (json_int_t)c->rejected_replay,
	    "stale", (json_int_t)c->rejected_stale);
}


/* The database as the primary's guisvr sees a peer; elsewhere as the
 * peer says it itself in its heartbeat. */
static json_t *
peer_db_json(struct ha *h, const struct ha_peer *p, int alive,
    const struct link_peer *lp, uint64_t now)
{
	json_t *db = json_object();
	int auth_failed;

	if (lp != NULL && role_current(h->role) != HA_ROLE_PRIMARY) {
		json_object_set_new(db, "state", json_string(!alive ?
		    "unknown" : heartbeat_dbstate_name(p->last.dbstate)));
		json_object_set_new(db, "connected", json_boolean(lp->up));
	} else if (lp != NULL) {
		json_object_set_new(db, "state", json_string(lp->up &&
		    lp->insync ? "in-sync" : "dirty"));
		json_object_set_new(db, "lsn", lsn_json(lp->lsn));
		json_object_set_new(db, "acked", lsn_json(lp->acked));
		json_object_set_new(db, "behindBytes",
		    json_integer((json_int_t)lp->behind_bytes));
		json_object_set_new(db, "behindCommits",
		    json_integer((json_int_t)lp->behind_commits));
		json_object_set_new(db, "connected", json_boolean(lp->up));
	} else
		json_object_set_new(db, "state", json_string("unknown"));
	(void)now;
	auth_failed = lp != NULL && !lp->up && lp->auth_fail_age_ms >= 0 &&
	    lp->auth_fail_age_ms < AUTH_RECENT_MS;
	json_object_set_new(db, "authFailed", auth_failed ?
	    json_string(lp->auth_why) : json_null());
	return db;
}

static json_t *
peer_json(struct ha *h, const struct ha_peer *p, const struct link_state *ls,
    uint64_t now)
{
	int alive = peer_alive(h->peers, p, now);
	int svrup = alive && (p->last.flags & HB_F_SVRUP) != 0;
	int unauth = role_peer_unauth_present(h->role, p->eid, now);
	const char *role = NULL;
	json_t *o;

	if (p->heard)
		role = p->last.role == HA_ROLE_PRIMARY ? "PRIMARY" :
		    p->last.role == HA_ROLE_SECONDARY ? "SECONDARY" : "STARTING";
	o = json_pack("{s:i,s:s,s:b,s:b,s:o,s:o,s:o,s:o,s:o,s:o,"
	    "s:{s:s,s:s},s:o,s:o}",
	    "eid", p->eid, "addr", p->addr, "self", 0, "alive", alive,
	    "heartbeatAgeMs", p->heard ? json_integer((json_int_t)(now -
	    p->last_ms)) : json_null(),
	    "role", role != NULL ? json_string(role) : json_null(),
	    "epoch", p->heard ? json_integer((json_int_t)p->last.epoch) :
	    json_null(),
	    "build", p->heard ? json_string(p->last.build) : json_null(),
	    "buildMatch", p->heard ? json_boolean(p->build_match) : json_null(),
	    "configMatch", p->heard ? json_boolean(p->cfg_match) : json_null(),
	    "services", "highAvail", alive ? "running" : "timed-out (error)",
	    "highAvailSvr", !alive ? "timed-out (error)" : svrup ? "running" :
	    "stopped",
	    "db", peer_db_json(h, p, alive, link_state_peer(ls, p->eid), now),
	    "rejected", rejected_json(&p->cnt));
	json_object_set_new(o, "unauthenticated", json_boolean(unauth));
	json_object_set_new(o, "rejectReason", unauth ? json_string(
	    heartbeat_reject_words(p->unauth_reason)) : json_null());
	return o;
}

static json_t *
filesync_json(struct ha *h)
{
	char result[16], reason[512];
	long long t;
	time_t wall = time(NULL);

	if (filesync_result(h->fs, result, sizeof(result), &t, reason,
	    sizeof(reason)) == -1)
		return json_pack("{s:n,s:b,s:s}", "result", "running",
		    filesync_running(h->fs), "program",
		    filesync_program(h->fs));
	return json_pack("{s:s,s:I,s:I,s:s,s:b,s:s}", "result", result,
	    "time", (json_int_t)t, "ageSec", (json_int_t)(wall - t),
	    "reason", reason, "running", filesync_running(h->fs),
	    "program", filesync_program(h->fs));
}

/* Why this node has no role yet, when it is more than the start wait:
 * the peers it waits for, or the primary of a lower epoch it will not
 * follow. */
static void
starting_json(struct ha *h, json_t *node, uint64_t now)
{
	const struct ha_peer *sp, *p;
	json_t *who;
	int i, eid;

	if (role_current(h->role) != HA_ROLE_STARTING)
		return;
	if (role_waits_for_all(h->role)) {
		who = json_array();
		for (i = 0; (p = peers_at(h->peers, i)) != NULL; i++)
			if (!p->heard)
				json_array_append_new(who, json_string(p->addr));
		json_object_set_new(node, "waitsForAll", who);
	} else if ((eid = role_stale_primary(h->role, now)) != 0 &&
	    (sp = peers_by_eid(h->peers, eid)) != NULL)
		json_object_set_new(node, "stalePrimary", json_pack("{s:s,s:I}",
		    "addr", sp->addr, "epoch", (json_int_t)sp->last.epoch));
}

/* What hasvr itself knows that the group's view does not show. */
static void
daemon_json(struct ha *h, json_t *node, uint64_t now)
{
	json_object_set_new(node, "roleChangedAgoMs", h->role_mismatch_ms != 0 ?
	    json_integer((json_int_t)(now - h->role_mismatch_ms)) :
	    json_null());
	json_object_set_new(node, "fault", h->fault[0] != '\0' ?
	    json_string(h->fault) : json_null());
	json_object_set_new(node, "lacksWritesOf", role_lacks_acked(h->role) ?
	    json_integer(role_lacks_acked(h->role)) : json_null());
	json_object_set_new(node, "faultStays", json_boolean(h->fault[0] !=
	    '\0' && role_fault_stays(h->role, now)));
	json_object_set_new(node, "stateWriteFailed", h->state_write_failed ||
	    statewriter_failed(h->sw, NULL, 0) ? json_string(h->statefile) :
	    json_null());
}

static json_t *
node_json(struct ha *h, const struct link_state *ls, uint64_t now)
{
	enum ha_role role = role_current(h->role);
	json_t *node, *db, *ping;

	db = json_object();
	json_object_set_new(db, "state",
	    json_string(heartbeat_dbstate_name(link_dbstate(ls))));
	if (ls->valid) {
		json_object_set_new(db, "gen", json_integer(ls->gen));
		json_object_set_new(db, "lsn", lsn_json(ls->lsn));
		json_object_set_new(db, "startupDone",
		    json_boolean(ls->startup_done));
		json_object_set_new(db, "sync", json_boolean(ls->sync_on));
	}
	ping = json_pack("{s:o,s:b,s:o}",
	    "addr", ping_addr(h->ping) != NULL ? json_string(ping_addr(h->ping)) :
	    json_null(),
	    "reachable", ping_ok(h->ping),
	    "ageMs", ping_at_ms(h->ping) ? json_integer((json_int_t)(now -
	    ping_at_ms(h->ping))) : json_null());
	node = json_pack("{s:i,s:s,s:b,s:s,s:I,s:s,s:{s:s,s:s},s:o,s:b,s:b,"
	    "s:b,s:o,s:o,s:i,s:I}",
	    "eid", h->hc.nodes[h->hc.self].eid,
	    "addr", h->hc.nodes[h->hc.self].addr, "self", 1,
	    "role", ha_role_name(role), "epoch", (json_int_t)role_epoch(h->role),
	    "build", h->build,
	    "services", "highAvail", "running", "highAvailSvr",
	    svr_pid(h->svr) <= 0 ? "stopped" : ls->valid ? "running" :
	    "starting",
	    "db", db, "haSync", h->ha_sync, "dbSync", h->db_sync,
	    "fileSync", h->file_sync, "pingable", ping,
	    "guisvrPid", svr_pid(h->svr) > 0 ? json_integer(svr_pid(h->svr)) :
	    json_null(), "guisvrRestarts", svr_restarts(h->svr),
	    "uptimeSec", (json_int_t)((now - h->start_ms) / 1000));
	if (node == NULL)
		return NULL;
	starting_json(h, node, now);
	daemon_json(h, node, now);
	return node;
}

/* Arbiter mode: what the arbiter's thread saw last. */
static json_t *
arbiter_json(struct ha *h, uint64_t now)
{
	const struct arbiter_view *v = &h->arb_view;
	json_t *o, *rec = json_null(), *arr;
	int i;

	if (v->sync_on && v->rec_present) {
		arr = json_array();
		for (i = 1; i <= 8; i++)
			if (v->rec_mask & ha_eid_bit(i))
				json_array_append_new(arr, json_integer(i));
		rec = json_pack("{s:i,s:o}", "leader", v->rec_leader, "sync", arr);
	}
	o = json_pack("{s:s,s:s,s:b,s:o,s:b,s:o,s:i,s:s,s:o}",
	    "kind", "etcd", "prefix", h->hc.etcd_prefix,
	    "reachable", v->reachable,
	    "leader", v->leader_eid > 0 ? json_integer(v->leader_eid) :
	    json_null(),
	    "held", arbiter_view_holds(v, now),
	    "leaseLeftMs", v->valid_until > now ?
	    json_integer((json_int_t)(v->valid_until - now)) : json_null(),
	    "ttlSec", v->ttl_s, "endpoint", v->endpoint,
	    "error", v->error[0] != '\0' ? json_string(v->error) :
	    json_null());
	if (o != NULL) {
		json_object_set_new(o, "syncRecord", rec);
		json_object_set_new(o, "eligible", json_boolean(v->eligible));
	} else
		json_decref(rec);
	return o;
}

char *
status_json(struct ha *h)
{
	struct link_state ls;
	uint64_t now = util_now_ms();
	const struct hb_counters *cnt = peers_counters(h->peers);
	const struct ha_peer *p;
	json_t *root, *peers, *rej;
	char *out;
	int i;

	link_snapshot(h->link, &ls);
	peers = json_array();
	for (i = 0; (p = peers_at(h->peers, i)) != NULL; i++)
		json_array_append_new(peers, peer_json(h, p, &ls, now));
	rej = rejected_json(cnt);
	json_object_set_new(rej, "unknownSource",
	    json_integer((json_int_t)peers_unknown_source(h->peers)));
	root = json_pack("{s:i,s:o,s:o,s:{s:I,s:I,s:I,s:I,s:o},s:o}",
	    "version", 1, "node", node_json(h, &ls, now), "peers", peers,
	    "heartbeat", "intervalMs", (json_int_t)peers_interval_ms(h->peers),
	    "deadMs", (json_int_t)peers_dead_ms(h->peers),
	    "received", (json_int_t)cnt->received,
	    "accepted", (json_int_t)cnt->accepted,
	    "rejected", rej, "fileSync", filesync_json(h));
	if (root == NULL)
		return NULL;
	if (h->arb != NULL)
		json_object_set_new(root, "arbiter", arbiter_json(h, now));
	if (haproblems_attach(root) == -1) {
		json_decref(root);
		return NULL;
	}
	out = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	return out;
}
