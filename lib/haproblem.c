/* haproblem.c — the rules that say what is wrong with an HA group (see
 * haproblem.h). Each rule reads facts from hasvr's status JSON, so the
 * same facts always give the same problems, in the same words, whoever
 * asks: hasvr's control socket, haStatus, a monitoring script. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "haproblem.h"
#include "statusjson.h"

#define HALOG "var/errorLog/ha.log"
#define SELF "self"
#define GROUP "group"
#define TEXT_LEN 640
#define WORD_LEN 192
/* guisvr's role changed behind hasvr's back this recently is shown */
#define ROLE_CHANGED_SHOWN_MS 30000

static const char *const names[HP_COUNT] = {
	[HP_STARTING] = "starting",
	[HP_WAITS_FOR_ALL] = "waits-for-all-peers",
	[HP_STALE_PRIMARY] = "stale-primary",
	[HP_UNKNOWN_ROLE] = "unknown-role",
	[HP_SVR_DOWN] = "guisvr-down",
	[HP_DB_DIRTY] = "db-dirty",
	[HP_DB_UNKNOWN] = "db-unknown",
	[HP_PINGABLE] = "pingable-ip",
	[HP_PEER_UNAUTH] = "peer-unauthenticated",
	[HP_PEER_TIMEOUT] = "peer-timeout",
	[HP_PEER_HASVR] = "peer-hasvr",
	[HP_PEER_SVR_DOWN] = "peer-guisvr-down",
	[HP_PEER_BUILD] = "peer-build",
	[HP_PEER_CONFIG] = "peer-config",
	[HP_PEER_TLS] = "peer-tls",
	[HP_PEER_DIRTY] = "peer-dirty",
	[HP_NO_PRIMARY] = "no-primary",
	[HP_PRIMARIES] = "primaries",
	[HP_FILESYNC_FAIL] = "filesync-fail",
	[HP_SYNC_OFF] = "sync-off",
	[HP_STARTUP_SYNC] = "startup-sync",
	[HP_ROLE_CHANGED] = "role-changed",
	[HP_FAULT] = "fault",
	[HP_STATE_FILE] = "state-file",
	[HP_LACKS_WRITES] = "lacks-writes",
	[HP_ARBITER] = "arbiter-unreachable",
};

const char *
haproblem_name(enum ha_problem code)
{
	return code > 0 && code < HP_COUNT ? names[code] : NULL;
}

enum ha_problem
haproblem_code(const char *name)
{
	int i;

	for (i = 1; name != NULL && i < HP_COUNT; i++)
		if (strcmp(names[i], name) == 0)
			return (enum ha_problem)i;
	return 0;
}

static void
add(json_t *probs, enum ha_problem code, const char *about,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
add(json_t *probs, enum ha_problem code, const char *about,
    const char *fmt, ...)
{
	char text[TEXT_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	json_array_append_new(probs, json_pack("{s:s,s:s,s:s}", "code",
	    names[code], "about", about, "text", text));
}

static int
is_running(const char *svc)
{
	return svc != NULL && strcmp(svc, "running") == 0;
}

/* ---- this node ---- */

static void
starting(json_t *probs, json_t *node)
{
	json_t *wait = sj_get(node, "waitsForAll");
	json_t *stale = sj_obj(node, "stalePrimary"), *v;
	char who[WORD_LEN * 2], a[WORD_LEN];
	long long epoch = -1, sepoch = -1;
	size_t i, off = 0;
	int w;

	sj_num(node, "epoch", &epoch);
	if (json_is_array(wait)) {
		who[0] = '\0';
		json_array_foreach(wait, i, v) {
			sj_clean(a, sizeof(a), json_string_value(v));
			w = snprintf(who + off, sizeof(who) - off, "%s%s",
			    off ? ", " : "", a);
			if (w > 0 && (size_t)w < sizeof(who) - off)
				off += (size_t)w;
		}
		add(probs, HP_WAITS_FOR_ALL, SELF, "this node is still "
		    "starting: it served before (epoch %lld) and waits until it "
		    "has heard every peer, as a peer that is down may hold newer "
		    "data; not heard yet: %s — start hasvr there, or run haCtl "
		    "promote here to go on with this node's data", epoch, who);
		return;
	}
	if (stale != NULL) {
		sj_clean(a, sizeof(a), sj_str(stale, "addr"));
		sj_num(stale, "epoch", &sepoch);
		add(probs, HP_STALE_PRIMARY, SELF, "peer %s is PRIMARY at epoch "
		    "%lld, below this node's epoch %lld: it started without this "
		    "node, and following it would replace this node's data — "
		    "keep one history: haCtl promote --force here (the peer's "
		    "writes are kept aside when it steps down), or haCtl resync "
		    "here (this node's database is kept aside)", a, sepoch,
		    epoch);
		return;
	}
	add(probs, HP_STARTING, SELF, "this node is still starting (role "
	    "STARTING): it waits up to highAvail.startWait for its peers "
	    "before choosing a role");
}

static void
check_self(json_t *probs, json_t *node)
{
	json_t *svc = sj_obj(node, "services"), *db = sj_obj(node, "db");
	json_t *ping = sj_obj(node, "pingable");
	const char *role = sj_str(node, "role"), *s;
	char a[WORD_LEN], b[WORD_LEN];
	long long age, n;

	if (role != NULL && strcmp(role, "STARTING") == 0)
		starting(probs, node);
	else if (role == NULL || (strcmp(role, "PRIMARY") != 0 &&
	    strcmp(role, "SECONDARY") != 0)) {
		sj_clean(a, sizeof(a), role);
		add(probs, HP_UNKNOWN_ROLE, SELF, "this node reports an unknown "
		    "role '%s' — see " HALOG, a);
	}
	s = sj_str(svc, "highAvailSvr");
	if (!is_running(s)) {
		sj_clean(a, sizeof(a), s);
		if (sj_num(node, "guisvrRestarts", &n))
			snprintf(b, sizeof(b), " (restarts: %lld)", n);
		else
			b[0] = '\0';
		add(probs, HP_SVR_DOWN, SELF, "this node: highAvailSvr (guisvr) "
		    "is %s%s — hasvr restarts it; see " HALOG " and "
		    "guiDaemon.0", a, b);
	} else if ((s = sj_str(db, "state")) != NULL) {
		if (strcmp(s, "dirty") == 0)
			add(probs, HP_DB_DIRTY, SELF, "this node: database is "
			    "dirty (not in sync) — it catches up by itself; if it "
			    "stays dirty see " HALOG " and the resync procedure");
		else if (strcmp(s, "unknown") == 0 &&
		    sj_bool(node, "dbSync") != 0)
			add(probs, HP_DB_UNKNOWN, SELF, "this node: database "
			    "state unknown — is guisvr connected to the ha-link? "
			    "see guiDaemon.0");
	}
	if (sj_str(ping, "addr") != NULL && sj_bool(ping, "reachable") == 0) {
		sj_clean(a, sizeof(a), sj_str(ping, "addr"));
		if (sj_num(ping, "ageMs", &age))
			sj_fmt_ms(b, sizeof(b), age);
		else
			snprintf(b, sizeof(b), "?");
		add(probs, HP_PINGABLE, SELF, "pingable IP %s does not answer "
		    "(checked %s ago): this node will not take the primary "
		    "role, and steps down if it also loses its peers — check "
		    "its network", a, b);
	}
}

/* ---- peers ---- */

static void
check_peer_dead(json_t *probs, json_t *p, const char *addr)
{
	char a[WORD_LEN];
	long long age;

	if (sj_bool(p, "unauthenticated") == 1) {
		sj_clean(a, sizeof(a), sj_str(p, "rejectReason") ?
		    sj_str(p, "rejectReason") : "?");
		add(probs, HP_PEER_UNAUTH, addr, "peer %s: its heartbeats arrive "
		    "but are rejected (%s): a node runs there with another "
		    "highAvail.HMACKey or build, or they are forged; this node "
		    "does not take the primary role while they arrive — fix the "
		    "key or build; see " HALOG " on both nodes", addr, a);
		return;
	}
	if (!sj_num(p, "heartbeatAgeMs", &age)) {
		add(probs, HP_PEER_TIMEOUT, addr, "peer %s: heartbeat timed out, "
		    "never heard — is hasvr running there, UDP port "
		    "highAvail.heartbeatPort open between the nodes, "
		    "highAvail.HMACKey the same on both? see " HALOG " on both "
		    "nodes", addr);
		return;
	}
	sj_fmt_ms(a, sizeof(a), age);
	add(probs, HP_PEER_TIMEOUT, addr, "peer %s: heartbeat timed out (last "
	    "heard %s ago) — is hasvr running there? see " HALOG " on both "
	    "nodes", addr, a);
}

static void
check_peer_tls(json_t *probs, json_t *db, const char *addr)
{
	char a[WORD_LEN];
	const char *s;

	if ((s = sj_str(db, "authFailed")) == NULL)
		return;
	sj_clean(a, sizeof(a), s);
	add(probs, HP_PEER_TLS, addr, "peer %s: the replication channel "
	    "refuses it: TLS authentication failed (%s) — highAvail.HMACKey or "
	    "the certificates differ between the nodes; the database cannot "
	    "sync (see guiDaemon.0 on both nodes)", addr, a);
}

static void
check_peer(json_t *probs, json_t *p, int self_primary)
{
	json_t *svc = sj_obj(p, "services"), *db = sj_obj(p, "db");
	char addr[WORD_LEN], a[WORD_LEN], b[WORD_LEN], c[WORD_LEN];
	long long bytes, commits;
	const char *s;

	sj_clean(addr, sizeof(addr), sj_str(p, "addr"));
	if (sj_bool(p, "alive") != 1) {
		check_peer_dead(probs, p, addr);
		check_peer_tls(probs, db, addr);
		return;
	}
	s = sj_str(svc, "highAvail");
	if (s != NULL && !is_running(s)) {
		sj_clean(a, sizeof(a), s);
		add(probs, HP_PEER_HASVR, addr, "peer %s: highAvail is %s — see "
		    HALOG " there", addr, a);
	}
	s = sj_str(svc, "highAvailSvr");
	if (!is_running(s)) {
		sj_clean(a, sizeof(a), s);
		add(probs, HP_PEER_SVR_DOWN, addr, "peer %s: highAvailSvr "
		    "(guisvr) is %s — see " HALOG " and guiDaemon.0 there",
		    addr, a);
	}
	if (sj_bool(p, "buildMatch") == 0) {
		sj_clean(a, sizeof(a), sj_str(p, "build"));
		add(probs, HP_PEER_BUILD, addr, "peer %s runs another build "
		    "(%s): database sync is refused until every node runs the "
		    "same build", addr, a);
	}
	if (sj_bool(p, "configMatch") == 0)
		add(probs, HP_PEER_CONFIG, addr, "peer %s: haSvr.cfg differs in "
		    "keys that must be the same on every node — compare both "
		    "files (see " HALOG ")", addr);
	check_peer_tls(probs, db, addr);
	/* how far a peer got is the primary's to judge */
	if (!self_primary || !sj_is(db, "state", "dirty"))
		return;
	c[0] = '\0';
	if (sj_num(db, "behindBytes", &bytes) &&
	    sj_num(db, "behindCommits", &commits)) {
		sj_fmt_bytes(b, sizeof(b), bytes);
		snprintf(c, sizeof(c), ", %s and %lld commit%s behind", b,
		    commits, commits == 1 ? "" : "s");
	}
	add(probs, HP_PEER_DIRTY, addr, "peer %s: database dirty%s — it "
	    "catches up by itself; if it stays dirty see " HALOG " and the "
	    "resync procedure", addr, c);
}

/* ---- the group ---- */

/* Exactly one primary among this node and the peers it hears. */
static void
check_primaries(json_t *probs, json_t *node, json_t *peers)
{
	char list[TEXT_LEN / 2], a[WORD_LEN];
	long long epoch;
	size_t i, n = 0, off = 0;
	json_t *p;
	int w;

	list[0] = '\0';
	if (sj_is(node, "role", "STARTING"))
		return;
	for (i = 0; i <= json_array_size(peers); i++) {
		p = i == 0 ? node : json_array_get(peers, i - 1);
		if (p != node && sj_bool(p, "alive") != 1)
			continue;
		if (!sj_is(p, "role", "PRIMARY"))
			continue;
		sj_clean(a, sizeof(a), sj_str(p, "addr"));
		if (!sj_num(p, "epoch", &epoch))
			epoch = -1;
		w = snprintf(list + off, sizeof(list) - off, "%s%s (epoch %lld)",
		    n ? " and " : "", a, epoch);
		if (w > 0 && (size_t)w < sizeof(list) - off)
			off += (size_t)w;
		n++;
	}
	if (n == 0)
		add(probs, HP_NO_PRIMARY, GROUP, "no node is PRIMARY: writes are "
		    "refused until one takes the role — see " HALOG);
	else if (n > 1)
		add(probs, HP_PRIMARIES, GROUP, "%zu primaries: %s — the one "
		    "with the lower epoch steps down by itself; see " HALOG, n,
		    list);
}

static void
check_filesync(json_t *probs, json_t *root)
{
	json_t *fs = sj_obj(root, "fileSync");
	char a[WORD_LEN], why[TEXT_LEN / 2];
	long long age;

	if (!sj_is(fs, "result", "FAIL"))
		return;
	if (sj_num(fs, "ageSec", &age))
		sj_fmt_secs(a, sizeof(a), age);
	else
		snprintf(a, sizeof(a), "?");
	sj_clean(why, sizeof(why), sj_str(fs, "reason") ? sj_str(fs, "reason") :
	    "no reason given");
	add(probs, HP_FILESYNC_FAIL, GROUP, "file sync FAILED %s ago: %s — check "
	    "the SSH trust and rsync with haTrustCheck; see " HALOG, a, why);
}

/* What hasvr itself knows: switches, guisvr's state, its own files. */
static void
check_daemon(json_t *probs, json_t *node)
{
	json_t *db = sj_obj(node, "db");
	const char *s;
	char a[WORD_LEN];
	long long ms;
	int ha_sync = sj_bool(node, "haSync"), db_sync = sj_bool(node, "dbSync");

	if (ha_sync == 0 || db_sync == 0)
		add(probs, HP_SYNC_OFF, SELF, "%s is disabled (haCtl sync %s on)",
		    ha_sync == 0 ? "HA sync" : "database sync",
		    ha_sync == 0 ? "ha" : "db");
	if (sj_is(node, "role", "SECONDARY") && sj_bool(db, "startupDone") == 0)
		add(probs, HP_STARTUP_SYNC, SELF, "database startup sync not done "
		    "yet (waiting for DB_EVENT_REP_STARTUPDONE)");
	if (sj_num(node, "roleChangedAgoMs", &ms) && ms >= 0 &&
	    ms < ROLE_CHANGED_SHOWN_MS)
		add(probs, HP_ROLE_CHANGED, SELF, "highAvailSvr's role was changed "
		    "behind hasvr's back %lld s ago (over the ha-link, by hand?); "
		    "hasvr told it its role again — see ha.log and guiDaemon.0",
		    ms / 1000);
	if ((s = sj_str(node, "fault")) != NULL) {
		sj_clean(a, sizeof(a), s);
		add(probs, HP_FAULT, SELF, "this node's database server cannot "
		    "serve: %s — %s; it recovers by itself once the disk is "
		    "fixed (see guiDaemon.0)", a,
		    sj_bool(node, "faultStays") == 1 ? "this primary has no "
		    "in-sync secondary to hand over to, writes fail until then" :
		    sj_is(node, "role", "PRIMARY") ? "the primary role goes to "
		    "an in-sync secondary" : "this node will not take the "
		    "primary role");
	}
	if (sj_num(node, "lacksWritesOf", &ms) && ms > 0)
		add(probs, HP_LACKS_WRITES, SELF, "primary peer %lld "
		    "acknowledged writes this node does not have yet (dirty): "
		    "it does not take over by itself until it has caught up — "
		    "should peer %lld die now, start it again (haCtl promote "
		    "--force here loses those writes)", ms, ms);
	if ((s = sj_str(node, "stateWriteFailed")) != NULL) {
		sj_clean(a, sizeof(a), s);
		add(probs, HP_STATE_FILE, SELF, "cannot write %s (epoch and role): "
		    "see ha.log", a);
	}
}

/* Arbiter mode: etcd must answer; a primary that cannot renew its lease
 * stops taking writes when it runs out. */
static void
check_arbiter(json_t *probs, json_t *node, json_t *arb)
{
	char a[WORD_LEN];
	long long left;

	if (arb == NULL)
		return;
	if (sj_bool(arb, "eligible") == 0 && !sj_is(node, "role", "PRIMARY"))
		add(probs, HP_LACKS_WRITES, SELF, "etcd's synchronous-standby "
		    "record does not list this node: it may lack writes the "
		    "primary acknowledged, so it does not take the primary role "
		    "until it has caught up and the primary lists it");
	if (sj_bool(arb, "reachable") != 0)
		return;
	sj_clean(a, sizeof(a), sj_str(arb, "error") != NULL ?
	    sj_str(arb, "error") : "no answer yet");
	if (sj_is(node, "role", "PRIMARY") && sj_num(arb, "leaseLeftMs", &left))
		add(probs, HP_ARBITER, SELF, "etcd does not answer (%s): this "
		    "primary stops taking writes when its lease on the leader "
		    "key runs out, in %lld ms, unless etcd answers again", a,
		    left);
	else
		add(probs, HP_ARBITER, SELF, "etcd does not answer (%s): this "
		    "node cannot become primary until it does", a);
}

json_t *
haproblems_derive(json_t *status)
{
	json_t *probs = json_array(), *node = sj_obj(status, "node");
	json_t *peers = sj_get(status, "peers"), *p;
	size_t i;

	if (probs == NULL)
		return NULL;
	if (node == NULL) {
		add(probs, HP_UNKNOWN_ROLE, SELF, "the status names no node");
		return probs;
	}
	check_self(probs, node);
	if (json_is_array(peers))
		json_array_foreach(peers, i, p)
			check_peer(probs, p, sj_is(node, "role", "PRIMARY"));
	check_primaries(probs, node, json_is_array(peers) ? peers : NULL);
	check_filesync(probs, status);
	check_daemon(probs, node);
	check_arbiter(probs, node, sj_obj(status, "arbiter"));
	return probs;
}

int
haproblems_attach(json_t *status)
{
	json_t *probs = haproblems_derive(status);

	if (probs == NULL)
		return -1;
	if (json_object_set_new(status, "healthy",
	    json_boolean(json_array_size(probs) == 0)) == -1 ||
	    json_object_set_new(status, "problems", probs) == -1)
		return -1;
	return 0;
}
