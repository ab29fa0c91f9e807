/* ctl.c — the control socket: status for anyone who can connect, changes
 * for root and hasvr's own user (see lib/hactl.h).
 *
 * Its users cannot crowd each other out: the group's members hold at most
 * CTL_MAX_UNPRIV of the CTL_MAX_CONNS connections (root and hasvr's user
 * take a member's idle one when all are used) and are closed after
 * CTL_IDLE_MS without a request; a connection whose unread replies pass
 * CTL_OUT_MAX is not read until they drain, and one that takes nothing for
 * CTL_DRAIN_MS is closed.
 *
 * Switchover and promote answer once they happened (or failed): the
 * request waits in ctl->waits and every role tick checks it. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <jansson.h>

#include "ctl.h"
#include "hactl.h"
#include "hasvr.h"
#include "link.h"
#include "log.h"
#include "unixsock.h"
#include "util.h"

#define CTL_MAX_REQUEST 64          /* every request is a few bytes */
#define CTL_MAX_CONNS 64
#define CTL_MAX_UNPRIV 48           /* of them, for the group's members */
#define CTL_IDLE_MS 30000           /* a member's idle connection */
#define CTL_OUT_MAX (256 * 1024)    /* unread replies before reading stops */
#define CTL_DRAIN_MS 10000          /* a client that takes no reply */
#define CTL_WAIT_MS 15000           /* switchover/promote outcome */

struct ctlconn {
	struct ctlsvr *svr;
	struct bufferevent *bev;
	uid_t uid;
	pid_t pid;
	int privileged;             /* root or hasvr's user */
	int closing;                /* goes once its reply is out */
	int paused;                 /* not read: replies wait unread */
	uint64_t last_ms;           /* its last request */
	int waiting;                /* a request waits for its outcome */
	uint16_t wtype;
	uint32_t wseq;
	int wtarget;                /* switchover: the successor */
	uint32_t wepoch;            /* epoch when it was asked */
	uint64_t wstart, wdeadline;
	struct ctlconn *next;
};

struct ctlsvr {
	struct ha *h;
	struct evconnlistener *lis;
	struct ctlconn *conns;
	int nconns, nunpriv;
};

static void
conn_free(struct ctlconn *c)
{
	struct ctlconn **pp;

	for (pp = &c->svr->conns; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	c->svr->nconns--;
	if (!c->privileged)
		c->svr->nunpriv--;
	bufferevent_free(c->bev);
	free(c);
}

static void
send_buf(struct ctlconn *c, struct buf *b)
{
	if (!b->oom)
		bufferevent_write(c->bev, b->p, b->len);
	buf_free(b);
}

static void
reply_ok(struct ctlconn *c, uint32_t seq, const char *msg)
{
	struct buf b;

	buf_init(&b);
	hactl_reply_ok(&b, seq, msg);
	send_buf(c, &b);
}

static void
reply_err(struct ctlconn *c, uint32_t seq, int code, const char *msg)
{
	struct buf b;

	buf_init(&b);
	hactl_reply_err(&b, seq, code, msg);
	send_buf(c, &b);
}

/* ---- status ---- */

/* A replication authentication failure this recent is reported. */
#define CTL_AUTH_RECENT_MS 30000

static json_t *
lsn_json(struct role_lsn l)
{
	char s[32];

	snprintf(s, sizeof(s), "%u/%u", l.file, l.offset);
	return json_string(s);
}

static void
problem(json_t *probs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
problem(json_t *probs, const char *fmt, ...)
{
	char s[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s, sizeof(s), fmt, ap);
	va_end(ap);
	json_array_append_new(probs, json_string(s));
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

static const struct link_peer *
link_peer(const struct link_state *ls, int eid)
{
	int i;

	for (i = 0; i < ls->npeers; i++)
		if (ls->peers[i].eid == eid)
			return &ls->peers[i];
	return NULL;
}

static json_t *
peer_json(struct ha *h, struct ha_peer *p, const struct link_state *ls,
    uint64_t now, json_t *probs, int *nprimaries)
{
	const struct link_peer *lp = ls->valid ? link_peer(ls, p->eid) : NULL;
	int alive = peer_alive(h, p, now);
	int svrup = alive && (p->last.flags & HB_F_SVRUP) != 0;
	const char *role = NULL;
	json_t *o, *db;
	int auth_failed, unauth;

	if (p->heard)
		role = p->last.role == HB_ROLE_PRIMARY ? "PRIMARY" :
		    p->last.role == HB_ROLE_SECONDARY ? "SECONDARY" : "STARTING";
	if (alive && p->last.role == HB_ROLE_PRIMARY)
		(*nprimaries)++;
	db = json_object();
	if (lp != NULL && role_current(h->role) != ROLE_PRIMARY) {
		/* only the primary knows how far a peer got; elsewhere a peer
		 * says it itself, in its heartbeat */
		json_object_set_new(db, "state", json_string(!alive ?
		    "unknown" : heartbeat_dbstate_name(p->last.dbstate)));
		json_object_set_new(db, "connected", json_boolean(lp->up));
	} else if (lp != NULL) {
		json_object_set_new(db, "state", json_string(!lp->up ? "dirty" :
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
	auth_failed = lp != NULL && !lp->up && lp->auth_fail_age_ms >= 0 &&
	    lp->auth_fail_age_ms < CTL_AUTH_RECENT_MS;
	json_object_set_new(db, "authFailed", auth_failed ?
	    json_string(lp->auth_why) : json_null());
	unauth = role_peer_unauth_present(h->role, p->eid, now);
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
	    "db", db, "rejected", rejected_json(&p->cnt));
	json_object_set_new(o, "unauthenticated", json_boolean(unauth));
	json_object_set_new(o, "rejectReason", unauth ? json_string(
	    heartbeat_reject_words(p->unauth_reason)) : json_null());
	if (unauth)
		problem(probs, "peer %s: its heartbeats arrive but are rejected "
		    "(%s): a node runs there with another highAvail.HMACKey or "
		    "another build, or they are forged; this node does not take "
		    "the primary role while they arrive — fix the key or build "
		    "(see ha.log on both nodes)", p->addr,
		    heartbeat_reject_words(p->unauth_reason));
	else if (!alive)
		problem(probs, "peer %s: heartbeat %s: is hasvr running there, "
		    "UDP port %d open between the nodes and highAvail.HMACKey "
		    "the same on both? (see ha.log on both nodes)", p->addr,
		    p->heard ? "timed out" : "never received",
		    h->hc.heartbeat_port);
	if (auth_failed)
		problem(probs, "peer %s: the replication channel refuses it: "
		    "TLS authentication failed (%s) — highAvail.HMACKey or the "
		    "certificates (highAvail.tlsCAFile, tlsCertFile, tlsKeyFile) "
		    "differ between the nodes; the database cannot sync (see "
		    "guiDaemon.0 on both nodes)", p->addr, lp->auth_why);
	else if (!svrup)
		problem(probs, "peer %s: highAvailSvr (guisvr) is not running "
		    "there (see its guiDaemon.0 and ha.log)", p->addr);
	if (alive && !p->build_match)
		problem(probs, "peer %s runs build '%s', this node '%s': "
		    "database sync refused until the builds match", p->addr,
		    p->last.build, h->build);
	if (alive && !p->cfg_match)
		problem(probs, "peer %s: haSvr.cfg differs from this node's "
		    "(config checksum)", p->addr);
	if (lp != NULL && role_current(h->role) == ROLE_PRIMARY && alive &&
	    (!lp->up || !lp->insync))
		problem(probs, "peer %s: database replication dirty (%s, "
		    "behind %llu bytes, %llu commits)", p->addr,
		    lp->up ? "catching up" : "not connected", lp->behind_bytes,
		    lp->behind_commits);
	return o;
}

static json_t *
filesync_json(struct ha *h, uint64_t now, json_t *probs)
{
	char result[16], reason[512];
	long long t;
	time_t wall = time(NULL);
	json_t *o;

	(void)now;
	if (filesync_result(h, result, sizeof(result), &t, reason,
	    sizeof(reason)) == -1)
		return json_pack("{s:n,s:b,s:s}", "result", "running",
		    h->fs_pid > 0, "program", h->fs_prog);
	o = json_pack("{s:s,s:I,s:I,s:s,s:b,s:s}", "result", result,
	    "time", (json_int_t)t, "ageSec", (json_int_t)(wall - t),
	    "reason", reason, "running", h->fs_pid > 0, "program", h->fs_prog);
	if (strcmp(result, "FAIL") == 0 && h->ha_sync && h->file_sync)
		problem(probs, "file sync FAIL %lld s ago: %s (see ha.log; check "
		    "the SSH trust with haTrustCheck)", (long long)(wall - t),
		    reason);
	return o;
}

char *
ctl_status_json(struct ha *h)
{
	struct link_state ls;
	uint64_t now = util_now_ms();
	json_t *root, *probs, *peers, *node, *db, *ping;
	enum role_state role = role_current(h->role);
	const char *svr = svr_service_state(h);
	int i, nprim = role == ROLE_PRIMARY;
	char *out;

	link_snapshot(h->link, &ls);
	probs = json_array();
	peers = json_array();
	for (i = 0; i < h->npeers; i++)
		json_array_append_new(peers, peer_json(h, &h->peers[i], &ls, now,
		    probs, &nprim));

	db = json_object();
	json_object_set_new(db, "state",
	    json_string(heartbeat_dbstate_name(link_dbstate(&ls))));
	if (ls.valid) {
		json_object_set_new(db, "gen", json_integer(ls.gen));
		json_object_set_new(db, "lsn", lsn_json(ls.lsn));
		json_object_set_new(db, "startupDone",
		    json_boolean(ls.startup_done));
		json_object_set_new(db, "sync", json_boolean(ls.sync_on));
	}
	ping = json_pack("{s:o,s:b,s:o}",
	    "addr", h->ping_configured ? json_string(cfg_str(&h->cfg,
	    "highAvail.pingableIp")) : json_null(),
	    "reachable", h->ping_ok,
	    "ageMs", h->ping_ms ? json_integer((json_int_t)(now - h->ping_ms)) :
	    json_null());
	node = json_pack("{s:i,s:s,s:b,s:s,s:I,s:s,s:{s:s,s:s},s:o,s:b,s:b,"
	    "s:b,s:o,s:o,s:i,s:I}",
	    "eid", h->hc.nodes[h->hc.self].eid,
	    "addr", h->hc.nodes[h->hc.self].addr, "self", 1,
	    "role", role_name(role), "epoch", (json_int_t)role_epoch(h->role),
	    "build", h->build,
	    "services", "highAvail", "running", "highAvailSvr", svr,
	    "db", db, "haSync", h->ha_sync, "dbSync", h->db_sync,
	    "fileSync", h->file_sync, "pingable", ping,
	    "guisvrPid", h->svr_pid > 0 ? json_integer(h->svr_pid) :
	    json_null(), "guisvrRestarts", h->svr_restarts,
	    "uptimeSec", (json_int_t)((now - h->start_ms) / 1000));

	if (strcmp(svr, "running") != 0)
		problem(probs, "highAvailSvr (guisvr) is %s on this node "
		    "(restarts: %d; see guiDaemon.0 and ha.log)", svr,
		    h->svr_restarts);
	if (role == ROLE_STARTING && role_waits_for_all(h->role)) {
		char who[256];
		size_t off = 0;

		who[0] = '\0';
		for (i = 0; i < h->npeers; i++)
			if (!h->peers[i].heard && off < sizeof(who))
				off += (size_t)snprintf(who + off, sizeof(who) -
				    off, "%s%s", off ? ", " : "", h->peers[i].addr);
		problem(probs, "this node is still starting: it served before "
		    "(epoch %u) and waits until it has heard every peer, as a "
		    "peer that is down may hold newer data; not heard yet: %s "
		    "— start hasvr there, or run haCtl promote here to go on "
		    "with this node's data", role_epoch(h->role), who);
	} else if (role == ROLE_STARTING && (i = role_stale_primary(h->role,
	    now)) != 0) {
		struct ha_peer *sp = peer_by_eid(h, i);

		problem(probs, "peer %s is PRIMARY at epoch %llu, below this "
		    "node's epoch %u: it started without this node, and "
		    "following it would replace this node's data — keep one "
		    "history: haCtl promote --force here (the peer's writes "
		    "are kept aside when it steps down), or haCtl resync here "
		    "(this node's database is kept aside)", sp != NULL ?
		    sp->addr : "?", sp != NULL ? (unsigned long long)
		    sp->last.epoch : 0ULL, role_epoch(h->role));
	} else if (role == ROLE_STARTING)
		problem(probs, "this node is still starting: waiting up to "
		    "highAvail.startWait for its peers");
	if (h->ping_configured && !h->ping_ok)
		problem(probs, "pingable IP %s does not answer: this node will "
		    "not take the primary role", cfg_str(&h->cfg,
		    "highAvail.pingableIp"));
	if (!h->ha_sync || !h->db_sync)
		problem(probs, "%s is disabled (haCtl sync %s on)",
		    !h->ha_sync ? "HA sync" : "database sync",
		    !h->ha_sync ? "ha" : "db");
	if (nprim == 0 && role != ROLE_STARTING)
		problem(probs, "no primary: no node accepts writes");
	else if (nprim > 1)
		problem(probs, "%d nodes claim PRIMARY: the one with the "
		    "higher epoch wins within a heartbeat", nprim);
	if (role == ROLE_SECONDARY && ls.valid && !ls.startup_done)
		problem(probs, "database startup sync not done yet (waiting "
		    "for DB_EVENT_REP_STARTUPDONE)");
	if (h->role_mismatch_ms != 0 && now - h->role_mismatch_ms < 30000)
		problem(probs, "highAvailSvr's role was changed behind hasvr's "
		    "back %llu s ago (over the ha-link, by hand?); hasvr told it "
		    "its role again — see ha.log and guiDaemon.0",
		    (unsigned long long)((now - h->role_mismatch_ms) / 1000));
	if (h->fault[0] != '\0')
		problem(probs, "this node's database server cannot serve: %s — "
		    "%s; it recovers by itself once the disk is fixed (see "
		    "guiDaemon.0)", h->fault, role_fault_stays(h->role, now) ?
		    "this primary has no in-sync secondary to hand over to, "
		    "writes fail until then" : role == ROLE_PRIMARY ?
		    "the primary role goes to an in-sync secondary" :
		    "this node will not take the primary role");
	if (h->state_write_failed)
		problem(probs, "cannot write %s (epoch and role): see ha.log",
		    h->statefile);

	root = json_pack("{s:i,s:b,s:o,s:o,s:o,s:{s:I,s:I,s:I,s:I,s:o},s:o}",
	    "version", 1, "healthy", json_array_size(probs) == 0,
	    "problems", probs, "node", node, "peers", peers,
	    "heartbeat", "intervalMs", (json_int_t)h->hb_interval_ms,
	    "deadMs", (json_int_t)h->dead_ms,
	    "received", (json_int_t)h->hbcnt.received,
	    "accepted", (json_int_t)h->hbcnt.accepted,
	    "rejected", rejected_json(&h->hbcnt),
	    "fileSync", filesync_json(h, now, probs));
	json_object_set_new(json_object_get(json_object_get(root, "heartbeat"),
	    "rejected"), "unknownSource", json_integer((json_int_t)
	    h->unknown_source));
	if (root == NULL)
		return NULL;
	out = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	return out;
}

/* ---- requests ---- */

static int
may_change(const struct ctlconn *c)
{
	return c->privileged;
}

static void
do_sync(struct ctlconn *c, const struct hc_req *r)
{
	struct ha *h = c->svr->h;
	static const char *const names[] = { "", "HA sync", "database sync",
	    "file sync" };
	char msg[256];

	switch (r->what) {
	case HC_SYNC_HA: h->ha_sync = r->enable; break;
	case HC_SYNC_DB: h->db_sync = r->enable; break;
	default: h->file_sync = r->enable; break;
	}
	log_notice("%s %s by the control socket (uid %ld, pid %ld)",
	    names[r->what], r->enable ? "enabled" : "disabled", (long)c->uid,
	    (long)c->pid);
	ha_apply_sync(h);
	ha_kick_heartbeat(h);
	snprintf(msg, sizeof(msg), "%s %s on this node (until hasvr restarts; "
	    "set it in haSvr.cfg to keep it)", names[r->what],
	    r->enable ? "enabled" : "disabled");
	reply_ok(c, r->seq, msg);
}

static void
start_wait(struct ctlconn *c, const struct hc_req *r, int target)
{
	struct ha *h = c->svr->h;

	c->waiting = 1;
	c->wtype = r->type;
	c->wseq = r->seq;
	c->wtarget = target;
	c->wepoch = role_epoch(h->role);
	c->wstart = util_now_ms();
	c->wdeadline = c->wstart + CTL_WAIT_MS;
	ha_tick_schedule(h);
}

static void
handle(struct ctlconn *c, const struct frame_hdr *fh, const void *p,
    size_t len)
{
	struct ha *h = c->svr->h;
	struct hc_req r;
	char err[512], msg[512];
	char *json;
	int rc;

	if ((rc = hactl_decode_request(fh, p, len, &r, err, sizeof(err))) != 0) {
		reply_err(c, fh->seq, rc, err);
		return;
	}
	if (r.type == HC_STATUS) {
		struct buf b;

		if ((json = ctl_status_json(h)) == NULL) {
			reply_err(c, r.seq, XE_BUSY, "out of memory");
			return;
		}
		buf_init(&b);
		hactl_reply_status(&b, r.seq, json);
		free(json);
		send_buf(c, &b);
		return;
	}
	if (!may_change(c)) {
		snprintf(msg, sizeof(msg), "not allowed: only root or the user "
		    "hasvr runs as (uid %ld) may change roles or sync; status "
		    "is open to the socket's group", (long)h->uid);
		reply_err(c, r.seq, XE_AUTH, msg);
		return;
	}
	switch (r.type) {
	case HC_SWITCHOVER:
		if (!role_request_switchover(h->role, (int)r.target_eid,
		    util_now_ms(), msg, sizeof(msg))) {
			reply_err(c, r.seq, XE_BUSY, msg);
			return;
		}
		log_notice("%s (asked by uid %ld)", msg, (long)c->uid);
		start_wait(c, &r, role_switch_target(h->role));
		return;
	case HC_PROMOTE:
		if (role_current(h->role) == ROLE_PRIMARY) {
			snprintf(msg, sizeof(msg), "this node is already PRIMARY "
			    "(epoch %u); nothing done", role_epoch(h->role));
			reply_ok(c, r.seq, msg);
			return;
		}
		if (!role_request_promote(h->role, r.force, util_now_ms(), msg,
		    sizeof(msg))) {
			reply_err(c, r.seq, XE_BUSY, msg);
			return;
		}
		log_notice("%s (asked by uid %ld)", msg, (long)c->uid);
		start_wait(c, &r, 0);
		return;
	case HC_SYNC:
		do_sync(c, &r);
		return;
	case HC_RESYNC:
		if (ha_request_resync(h, msg, sizeof(msg)) != 0) {
			reply_err(c, r.seq, XE_BUSY, msg);
			return;
		}
		reply_ok(c, r.seq, msg);
		return;
	case HC_FILESYNC:
		if (ha_request_filesync(h, msg, sizeof(msg)) != 0) {
			reply_err(c, r.seq, XE_BUSY, msg);
			return;
		}
		reply_ok(c, r.seq, msg);
		return;
	default:
		reply_err(c, r.seq, XE_UNKNOWN, "unknown request");
	}
}

static void
on_read(struct bufferevent *bev, void *arg)
{
	struct ctlconn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	unsigned char hdr[PROTO_HDR_LEN], *body;
	struct frame_hdr fh;
	char msg[128];

	while (!c->waiting && !c->closing &&
	    evbuffer_get_length(in) >= PROTO_HDR_LEN) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) >
		    CTL_OUT_MAX) {
			/* replies unread: the rest waits until they go */
			c->paused = 1;
			bufferevent_disable(bev, EV_READ);
			return;
		}
		c->last_ms = util_now_ms();
		evbuffer_copyout(in, hdr, PROTO_HDR_LEN);
		proto_hdr_decode(hdr, &fh);
		if (fh.len > CTL_MAX_REQUEST) {
			snprintf(msg, sizeof(msg), "request of %u bytes: no "
			    "control request is over %d", fh.len,
			    CTL_MAX_REQUEST);
			reply_err(c, fh.seq, XE_TOOBIG, msg);
			log_warnx("control socket: %s (uid %ld); connection "
			    "closed", msg, (long)c->uid);
			c->closing = 1;
			bufferevent_disable(bev, EV_READ);
			evbuffer_drain(in, evbuffer_get_length(in));
			return;
		}
		if (evbuffer_get_length(in) < PROTO_HDR_LEN + (size_t)fh.len)
			return;
		evbuffer_drain(in, PROTO_HDR_LEN);
		body = fh.len > 0 ? evbuffer_pullup(in, fh.len) : NULL;
		handle(c, &fh, body, fh.len);
		evbuffer_drain(in, fh.len);
	}
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	struct ctlconn *c = arg;

	(void)bev;
	if (what & BEV_EVENT_TIMEOUT)
		log_info("control socket: a connection of uid %ld %s; closed",
		    (long)c->uid, (what & BEV_EVENT_WRITING) ? "takes no reply" :
		    "is idle");
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		conn_free(c);
}

static void
on_write(struct bufferevent *bev, void *arg)
{
	struct ctlconn *c = arg;

	/* a connection closed for a bad request goes once its reply is out */
	if (c->closing) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			conn_free(c);
		return;
	}
	/* its replies went (below the low-water mark): read on */
	if (c->paused) {
		c->paused = 0;
		bufferevent_enable(bev, EV_READ);
		on_read(bev, c);
	}
}

/* A member's connection that waits the longest, to make room (NULL). */
static struct ctlconn *
oldest_unpriv(struct ctlsvr *s)
{
	struct ctlconn *c, *old = NULL;

	for (c = s->conns; c != NULL; c = c->next)
		if (!c->privileged && !c->waiting &&
		    (old == NULL || c->last_ms < old->last_ms))
			old = c;
	return old;
}

static void
on_accept(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct ctlsvr *s = arg;
	struct ctlconn *c;
	struct ucred cr;
	socklen_t crlen = sizeof(cr);

	static struct log_limit lim;
	unsigned long held = 0;
	struct timeval idle = { CTL_IDLE_MS / 1000, 0 };
	struct timeval drain = { CTL_DRAIN_MS / 1000, 0 };
	struct ctlconn *old;
	int privileged;

	(void)lis;
	(void)sa;
	(void)salen;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) == -1) {
		close(fd);
		return;
	}
	privileged = cr.uid == 0 || cr.uid == s->h->uid;
	if (privileged && s->nconns >= CTL_MAX_CONNS &&
	    (old = oldest_unpriv(s)) != NULL) {
		log_info("control socket: a connection of uid %ld closed to make "
		    "room for uid %ld", (long)old->uid, (long)cr.uid);
		conn_free(old);
	}
	if (s->nconns >= CTL_MAX_CONNS ||
	    (!privileged && s->nunpriv >= CTL_MAX_UNPRIV)) {
		if (log_limit_due(&lim, 10000, &held))
			log_warnx("control socket: refusing a connection of uid "
			    "%ld: %d connections open%s", (long)cr.uid, s->nconns,
			    held ? " (more refused like it)" : "");
		close(fd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	c->svr = s;
	c->uid = cr.uid;
	c->pid = cr.pid;
	c->privileged = privileged;
	c->last_ms = util_now_ms();
	c->bev = bufferevent_socket_new(s->h->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		close(fd);
		free(c);
		return;
	}
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	/* on_write runs once the replies are down to a quarter */
	bufferevent_setwatermark(c->bev, EV_WRITE, CTL_OUT_MAX / 4, 0);
	bufferevent_set_timeouts(c->bev, privileged ? NULL : &idle, &drain);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->next = s->conns;
	s->conns = c;
	s->nconns++;
	if (!privileged)
		s->nunpriv++;
}

struct ctlsvr *
ctl_start(struct ha *h, char *err, size_t errlen)
{
	enum unixsock_fail fail;
	struct ctlsvr *s;
	int fd;

	if ((fd = unixsock_listen(h->ctlpath, 0660, 16, 0, &fail)) == -1) {
		if (fail == UNIXSOCK_TOOLONG)
			snprintf(err, errlen, "control socket path too long (%zu "
			    "characters, at most %zu): %s", strlen(h->ctlpath),
			    UNIXSOCK_PATH_MAX, h->ctlpath);
		else if (fail == UNIXSOCK_SOCKET)
			snprintf(err, errlen, "control socket: %s", strerror(errno));
		else
			snprintf(err, errlen, "control socket %s: %s", h->ctlpath,
			    strerror(errno));
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		close(fd);
		unlink(h->ctlpath);
		return NULL;
	}
	s->h = h;
	s->lis = evconnlistener_new(h->base, on_accept, s,
	    LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (s->lis == NULL) {
		snprintf(err, errlen, "control socket: cannot listen");
		close(fd);
		free(s);
		return NULL;
	}
	return s;
}

void
ctl_stop(struct ctlsvr *s)
{
	if (s == NULL)
		return;
	while (s->conns != NULL)
		conn_free(s->conns);
	evconnlistener_free(s->lis);
	unlink(s->h->ctlpath);
	free(s);
}

/* Has the switchover or promote a connection waits for happened? */
static int
outcome(struct ha *h, struct ctlconn *c, uint64_t now, char *msg,
    size_t msglen)
{
	struct ha_peer *p;

	if (c->wtype == HC_PROMOTE) {
		if (role_current(h->role) != ROLE_PRIMARY || h->has_pending)
			return 0;
		snprintf(msg, msglen, "promoted: this node %s is PRIMARY with "
		    "epoch %u and accepts writes (%llu ms)",
		    h->hc.nodes[h->hc.self].addr, role_epoch(h->role),
		    (unsigned long long)(now - c->wstart));
		return 1;
	}
	p = peer_by_eid(h, c->wtarget);
	if (p == NULL || !peer_alive(h, p, now) ||
	    p->last.role != HB_ROLE_PRIMARY || p->last.epoch <= c->wepoch)
		return 0;
	snprintf(msg, msglen, "switchover done: %s is PRIMARY with epoch "
	    "%" PRIu64 ", this node %s is SECONDARY (%llu ms)", p->addr,
	    p->last.epoch, h->hc.nodes[h->hc.self].addr,
	    (unsigned long long)(now - c->wstart));
	return 1;
}

void
ctl_tick(struct ctlsvr *s)
{
	struct ha *h;
	struct ctlconn *c;
	uint64_t now = util_now_ms();
	char msg[512];

	if (s == NULL)
		return;
	h = s->h;
	for (c = s->conns; c != NULL; c = c->next) {
		if (!c->waiting)
			continue;
		if (outcome(h, c, now, msg, sizeof(msg))) {
			log_notice("%s", msg);
			reply_ok(c, c->wseq, msg);
		} else if (now >= c->wdeadline) {
			snprintf(msg, sizeof(msg), "%s not finished within %d s: "
			    "this node is %s (epoch %u); see ha.log on both "
			    "nodes", c->wtype == HC_PROMOTE ? "promote" :
			    "switchover", CTL_WAIT_MS / 1000,
			    role_name(role_current(h->role)),
			    role_epoch(h->role));
			log_warnx("%s", msg);
			reply_err(c, c->wseq, XE_BUSY, msg);
		} else
			continue;
		c->waiting = 0;
		on_read(c->bev, c);
	}
}
