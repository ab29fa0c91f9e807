/* hacfg.c — the keys of haSvr.cfg, the checks across them, and the node
 * view (addresses, eids, roles preferred at start) both daemons build from
 * it. Every node must derive the same eid for the same address, so the node
 * list is sorted by the canonical address text, never by file order. */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hacfg.h"
#include "util.h"

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/opt/hasvr/var"
#endif

/* replicaAddrs holds what primary and secondary leave of HACFG_MAX_NODES */
#define HACFG_MAX_REPLICAS (HACFG_MAX_NODES - 2)

static const char *const durability_words[] = {
	"async", "sync", "strict", NULL
};

static const char *const arbiter_words[] = { "none", "etcd", NULL };

/* The next token of a list at *p, separated by any of seps: 1 with tok
 * filled (cut to toklen) and *p moved past it, 0 at the end. */
static int
next_token(const char **p, const char *seps, char *tok, size_t toklen)
{
	size_t len;

	*p += strspn(*p, seps);
	if ((len = strcspn(*p, seps)) == 0)
		return 0;
	snprintf(tok, toklen, "%.*s", (int)len, *p);
	*p += len;
	return 1;
}

#define G	(1024LL * 1024 * 1024)

const struct cfg_key hacfg_keys[] = {
	{ "highAvail.isHaEnabled", CFG_BOOL, "n", 0, 0, NULL, 0,
	  "y: this node is part of an HA group (the keys below must be set the\n"
	  "same on every node, except highAvail.myAddr). n: standalone." },
	{ "highAvail.myAddr", CFG_ADDR, NULL, 0, 0, NULL, 0,
	  "This node's own address: one of highAvail.primaryAddr,\n"
	  "highAvail.secondaryAddr or highAvail.replicaAddrs.\n"
	  "Required when highAvail.isHaEnabled is y." },
	{ "highAvail.primaryAddr", CFG_ADDR, NULL, 0, 0, NULL, 0,
	  "Address of the node preferred as primary at first start.\n"
	  "Required when highAvail.isHaEnabled is y." },
	{ "highAvail.secondaryAddr", CFG_ADDR, NULL, 0, 0, NULL, 0,
	  "Address of the secondary (standby) node.\n"
	  "Required when highAvail.isHaEnabled is y." },
	{ "highAvail.replicaAddrs", CFG_STRING, "", 0, 0, NULL, 0,
	  "Read replicas: up to 6 numeric addresses separated by blanks.\n"
	  "Empty: primary and secondary only." },
	{ "highAvail.heartbeatPort", CFG_PORT, "7802", 0, 0, NULL, 0,
	  "UDP port of the heartbeats, the same on every node." },
	{ "highAvail.replicationPort", CFG_PORT, "7803", 0, 0, NULL, 0,
	  "TCP port of database replication (TLS 1.3), the same on every node." },
	/* max: no value can be too long before the line is, so no error
	 * message ever quotes the secret */
	{ "highAvail.HMACKey", CFG_STRING, "", 0, 4095, NULL, 0,
	  "Shared secret of the HA group (at least 16 characters, the same on\n"
	  "every node): authenticates heartbeats and replication. Keep this\n"
	  "file private (chmod 600). Required when highAvail.isHaEnabled is y." },
	{ "highAvail.durability", CFG_ENUM, "sync", 0, 0, durability_words, 0,
	  "async: commits do not wait for secondaries. sync: a commit waits up\n"
	  "to highAvail.ackTimeout for the in-sync secondaries, then marks a\n"
	  "late one dirty and goes on. strict: a commit not acknowledged in\n"
	  "time is reported to the writer as not replicated." },
	{ "highAvail.ackTimeout", CFG_DURATION, "2s", 10, 60000, NULL, 0,
	  "How long a commit waits for a secondary's acknowledgement\n"
	  "(durability sync or strict)." },
	{ "highAvail.replicationBandwidth", CFG_SIZE, "0", 0, 10 * G, NULL, 0,
	  "Replication traffic limit in bytes per second, so that a full\n"
	  "re-sync does not starve other traffic. 0: unlimited." },
	{ "highAvail.tlsCAFile", CFG_PATH, NULL, 0, 0, NULL, 0,
	  "CA certificate (PEM) that signed every node's certificate. Set the\n"
	  "three TLS files or none; none: replication uses TLS 1.3 with a key\n"
	  "derived from highAvail.HMACKey." },
	{ "highAvail.tlsCertFile", CFG_PATH, NULL, 0, 0, NULL, 0,
	  "This node's certificate (PEM), signed by highAvail.tlsCAFile." },
	{ "highAvail.tlsKeyFile", CFG_PATH, NULL, 0, 0, NULL, 0,
	  "Private key (PEM, mode 600) of highAvail.tlsCertFile." },
	{ "highAvail.pingableIp", CFG_ADDR, NULL, 0, 0, NULL, 0,
	  "An address outside the group (e.g. the gateway) that must answer\n"
	  "before a node takes the primary role: an isolated node never\n"
	  "promotes itself. Unset: no such check." },
	{ "highAvail.rsyncUser", CFG_STRING, "", 0, 32, NULL, 0,
	  "User whose SSH keys log in to the peer without a password to copy\n"
	  "the non-database files with rsync. Empty: the user hasvr runs as." },
	{ "highAvail.writetoLog", CFG_BOOL, "y", 0, 0, NULL, 0,
	  "Write hasvr's events to var/errorLog/ha.log." },
	{ "highAvail.heartbeatInterval", CFG_DURATION, "100ms", 20, 10000, NULL,
	  0, "Time between two heartbeats sent to each peer." },
	{ "highAvail.deadInterval", CFG_DURATION, "500ms", 100, 60000, NULL, 0,
	  "A peer is dead after this long without a valid heartbeat; more than\n"
	  "twice highAvail.heartbeatInterval." },
	{ "highAvail.setuid", CFG_STRING, "", 0, 32, NULL, 0,
	  "User hasvr runs as (the same as guiSvr.setuid, on every node).\n"
	  "Empty: keep the user that started it." },
	{ "highAvail.varDir", CFG_PATH, LOCALSTATEDIR, 0, 0, NULL, 0,
	  "Runtime root of hasvr: errorLog/ha.log, run/ (pid, control socket)." },
	{ "highAvail.dbSync", CFG_BOOL, "y", 0, 0, NULL, 0,
	  "Replicate the database. n: HA roles and file sync only (the\n"
	  "secondary's database is not kept up to date)." },
	{ "highAvail.fileSync", CFG_BOOL, "y", 0, 0, NULL, 0,
	  "Copy the non-database files to the peers with rsync over SSH." },
	{ "highAvail.syncPaths", CFG_STRING, SYSCONFDIR "/shared", 0, 0, NULL,
	  0,
	  "Files and folders the primary copies to the peers (bin/.haDoDirect),\n"
	  "absolute paths separated by blanks, each to the same path on the\n"
	  "peer; what is gone here is deleted there. Never copied, even inside\n"
	  "a listed folder: haSvr.cfg, guiSvr.cfg, the database environment\n"
	  "(xdb/), errorLog/, run/, and this node's TLS and SSH keys. Keep other\n"
	  "files that differ between nodes out of these folders." },
	{ "highAvail.syncExcludes", CFG_STRING, "", 0, 0, NULL, 0,
	  "rsync exclude patterns, separated by blanks (e.g. *.tmp cache/):\n"
	  "matching files are neither copied nor deleted on the peer." },
	{ "highAvail.syncInterval", CFG_DURATION, "15m", 1000, 86400000, NULL, 0,
	  "Time between two file syncs run by the primary (it also runs one at\n"
	  "start-up once a peer is up)." },
	{ "highAvail.syncTimeout", CFG_DURATION, "60s", 1000, 3600000, NULL, 0,
	  "A file sync fails when the SSH connection takes longer than this, or\n"
	  "no data moves for this long (rsync --timeout); also the longest run\n"
	  "of the mailer and of highAvail.syncHook." },
	{ "highAvail.syncBandwidth", CFG_SIZE, "0", 0, 10 * G, NULL, 0,
	  "File sync traffic limit in bytes per second, at least 1K (rsync\n"
	  "--bwlimit counts in K). 0: unlimited." },
	{ "highAvail.sshPort", CFG_PORT, "22", 0, 0, NULL, 0,
	  "TCP port of sshd on the peers, the same on every node." },
	{ "highAvail.sshKeyFile", CFG_PATH, NULL, 0, 0, NULL, 0,
	  "Private SSH key (mode 600) of highAvail.rsyncUser; its .pub must be\n"
	  "in ~/.ssh/authorized_keys of that user on every peer. Unset:\n"
	  "~/.ssh/id_ed25519, id_ecdsa or id_rsa of highAvail.rsyncUser." },
	{ "highAvail.knownHostsFile", CFG_PATH, NULL, 0, 0, NULL, 0,
	  "known_hosts file holding the peers' SSH host keys; a peer whose key\n"
	  "is not in it, or differs, is refused. Unset: ~/.ssh/known_hosts of\n"
	  "highAvail.rsyncUser." },
	{ "highAvail.mailTo", CFG_STRING, "root", 0, 255, NULL, 0,
	  "Who gets the e-mail report of a failed file sync (addresses\n"
	  "separated by commas), sent with /usr/sbin/sendmail when installed.\n"
	  "Empty: no e-mail." },
	{ "highAvail.mailOnSuccess", CFG_BOOL, "n", 0, 0, NULL, 0,
	  "y: also report every successful file sync by e-mail." },
	{ "highAvail.syncHook", CFG_PATH, NULL, 0, 0, NULL, 0,
	  "Program run after each file sync, for monitoring, with the\n"
	  "arguments: filesync SUCCESS|FAIL PEER REASON. Unset: none." },
	{ "highAvail.startWait", CFG_DURATION, "5s", 0, 600000, NULL, 0,
	  "At start, the longest wait for the peers' heartbeats before this\n"
	  "node chooses a role on its own." },
	{ "highAvail.pingInterval", CFG_DURATION, "1s", 100, 60000, NULL, 0,
	  "Time between two checks of highAvail.pingableIp." },
	{ "highAvail.guiSvrConfig", CFG_PATH, SYSCONFDIR "/guiSvr.cfg", 0, 0,
	  NULL, 0,
	  "guiSvr.cfg of the guisvr this hasvr starts and supervises\n"
	  "(service highAvailSvr)." },
	{ "highAvail.guiSvrProgram", CFG_PATH, SBINDIR "/guisvr", 0, 0, NULL, 0,
	  "The guisvr program hasvr starts." },
	{ "highAvail.arbiter", CFG_ENUM, "none", 0, 0, arbiter_words, 0,
	  "none: the nodes decide roles among themselves (heartbeats, votes,\n"
	  "the pingable IP). etcd: a node is primary only while it holds the\n"
	  "group's leader key in etcd under a lease (highAvail.leaderTTL);\n"
	  "a primary that cannot renew it stops taking writes before another\n"
	  "node can take the key." },
	{ "highAvail.etcdEndpoints", CFG_STRING, "", 0, 0, NULL, 0,
	  "The etcd cluster's client URLs (every member), separated by blanks\n"
	  "or commas, tried in turn: http://HOST:PORT or https://HOST:PORT.\n"
	  "Required when highAvail.arbiter is etcd." },
	{ "highAvail.etcdPrefix", CFG_STRING, "/hasvr/default", 0, 200, NULL, 0,
	  "Key prefix of this HA group in etcd, the same on every node of the\n"
	  "group and different for each group: /PREFIX/leader, /PREFIX/members/." },
	{ "highAvail.etcdCAFile", CFG_PATH, NULL, 0, 0, NULL, 0,
	  "CA certificate (PEM) that signed the etcd servers' certificates\n"
	  "(https endpoints). Unset: the system's CAs." },
	{ "highAvail.etcdCertFile", CFG_PATH, NULL, 0, 0, NULL, 0,
	  "Client certificate (PEM) for etcd, with highAvail.etcdKeyFile." },
	{ "highAvail.etcdKeyFile", CFG_PATH, NULL, 0, 0, NULL, 0,
	  "Private key (PEM, mode 600) of highAvail.etcdCertFile." },
	{ "highAvail.etcdSourceAddr", CFG_ADDR, NULL, 0, 0, NULL, 0,
	  "The local address connections to etcd leave from (one of this\n"
	  "node's). Unset: the one the routing table picks." },
	{ "highAvail.leaderTTL", CFG_DURATION, "3s", 2000, 60000, NULL, 0,
	  "Lease of the leader key, in whole seconds: a dead primary is\n"
	  "replaced after about this long; it is renewed every third of it." },
	{ "highAvail.fileSyncProgram", CFG_PATH, BINDIR "/.haDoDirect", 0, 0,
	  NULL, 0,
	  "The file sync script hasvr runs on the primary; it writes\n"
	  ".haDoDirect.result beside itself." },
};
const size_t hacfg_nkeys = sizeof(hacfg_keys) / sizeof(hacfg_keys[0]);


/* One address of the node list, as written and where. */
struct slot {
	char addr[64];          /* canonical */
	const char *key;        /* the key that names it */
	int line;
	int preferred;
};

/* The node addresses in file order: primary, secondary, replicas. Invalid
 * replica tokens and those past the limit are reported when c is not NULL
 * (errors go to cw), and left out. Returns the number of slots. */
static int
collect(const struct cfg *c, struct cfg *cw, struct slot *s, int max)
{
	static const char *const fixed[] = {
		"highAvail.primaryAddr", "highAvail.secondaryAddr"
	};
	const char *list, *p;
	char tok[1024];
	int i, n = 0, nrep = 0, line;

	for (i = 0; i < 2; i++) {
		if (!cfg_isset(c, fixed[i]) || n >= max)
			continue;
		if (util_addr_canon(cfg_str(c, fixed[i]), s[n].addr,
		    sizeof(s[n].addr)) == -1)
			continue;
		s[n].key = fixed[i];
		s[n].line = cfg_line(c, fixed[i]);
		s[n].preferred = i;
		n++;
	}
	list = cfg_str(c, "highAvail.replicaAddrs");
	line = cfg_line(c, "highAvail.replicaAddrs");
	for (p = list; next_token(&p, " \t", tok, sizeof(tok));) {
		if (++nrep > HACFG_MAX_REPLICAS) {
			if (cw != NULL && nrep == HACFG_MAX_REPLICAS + 1)
				cfg_add_error(cw, line, "highAvail.replicaAddrs "
				    "lists more than %d addresses: a group has at "
				    "most %d nodes (primary, secondary and %d "
				    "replicas)", HACFG_MAX_REPLICAS,
				    HACFG_MAX_NODES, HACFG_MAX_REPLICAS);
			continue;
		}
		if (n >= max)
			continue;
		if (util_addr_canon(tok, s[n].addr, sizeof(s[n].addr)) == -1) {
			if (cw != NULL)
				cfg_add_error(cw, line, "highAvail.replicaAddrs: "
				    "'%s' is not a numeric IPv4 or IPv6 address "
				    "(list the replicas' addresses separated by "
				    "blanks)", tok);
			continue;
		}
		s[n].key = "highAvail.replicaAddrs";
		s[n].line = line;
		s[n].preferred = 2;
		n++;
	}
	return n;
}

/* Required keys when HA is on, each with what to set it to. */
static const struct {
	const char *key, *hint;
} ha_required[] = {
	{ "highAvail.myAddr", "this node's own address, one of "
	  "highAvail.primaryAddr, highAvail.secondaryAddr, "
	  "highAvail.replicaAddrs" },
	{ "highAvail.primaryAddr", "the address of the node preferred as "
	  "primary" },
	{ "highAvail.secondaryAddr", "the address of the standby node" },
	{ "highAvail.HMACKey", "a random secret of at least 16 characters, "
	  "the same on every node" },
};

static void
check_tls(struct cfg *c)
{
	static const char *const tls[] = {
		"highAvail.tlsCAFile", "highAvail.tlsCertFile",
		"highAvail.tlsKeyFile"
	};
	char set[256], unset[256];
	int i, nset = 0, line = 0;

	set[0] = unset[0] = '\0';
	for (i = 0; i < 3; i++) {
		char *dst = cfg_isset(c, tls[i]) ? set : unset;

		if (cfg_isset(c, tls[i])) {
			nset++;
			if (line == 0)
				line = cfg_line(c, tls[i]);
		}
		snprintf(dst + strlen(dst), 256 - strlen(dst), "%s%s",
		    dst[0] ? " and " : "", tls[i]);
	}
	if (nset == 0 || nset == 3)
		return;
	cfg_add_error(c, line, "%s %s set but %s %s not: set all three TLS "
	    "files, or none (replication then uses a key derived from "
	    "highAvail.HMACKey)", set, nset == 1 ? "is" : "are", unset,
	    nset == 2 ? "is" : "are");
}

/* Is path (len bytes) dir itself or below it? */
static int
path_within(const char *path, size_t len, const char *dir)
{
	size_t dlen = strlen(dir);

	return len >= dlen && strncmp(path, dir, dlen) == 0 &&
	    (len == dlen || path[dlen] == '/');
}

/* One token of highAvail.syncPaths: absolute, not the root, no "." or ".."
 * component (rsync would copy elsewhere than the path says), and not in one
 * of the runtime folders of highAvail.varDir, which belong to this node. */
static void
check_sync_path(struct cfg *c, const char *p, int line)
{
	static const char *const own[] = { "xdb", "errorLog", "run" };
	const char *vardir = cfg_str(c, "highAvail.varDir");
	char dir[1100];
	size_t i, len, vlen;

	len = strlen(p);
	while (len > 1 && p[len - 1] == '/')
		len--;
	if (p[0] != '/') {
		cfg_add_error(c, line, "highAvail.syncPaths: '%s' is not an "
		    "absolute path (list absolute paths separated by blanks)", p);
		return;
	}
	if (len == 1) {
		cfg_add_error(c, line, "highAvail.syncPaths: '/' would copy the "
		    "whole system: list the folders to copy");
		return;
	}
	if (strstr(p, "/./") != NULL || strstr(p, "/../") != NULL ||
	    strncmp(p + len - 2, "/.", 2) == 0 ||
	    (len >= 3 && strncmp(p + len - 3, "/..", 3) == 0)) {
		cfg_add_error(c, line, "highAvail.syncPaths: '%s' has a '.' or "
		    "'..' component: write the path plainly", p);
		return;
	}
	vlen = strlen(vardir);
	while (vlen > 0 && vardir[vlen - 1] == '/')
		vlen--;         /* "/" too: its folders are "/xdb", … */
	for (i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		snprintf(dir, sizeof(dir), "%.*s/%s", (int)vlen, vardir, own[i]);
		if (path_within(p, len, dir)) {
			cfg_add_error(c, line, "highAvail.syncPaths: '%s' is "
			    "%s%s, which is never copied (it belongs to this "
			    "node): list other paths", p,
			    len == strlen(dir) ? "" : "in ", dir);
			return;
		}
	}
	if (c->file != NULL && c->file[0] == '/' && strlen(c->file) == len &&
	    strncmp(p, c->file, len) == 0)
		cfg_add_error(c, line, "highAvail.syncPaths: '%s' is this file: "
		    "haSvr.cfg is never copied (highAvail.myAddr differs on "
		    "every node)", p);
}

/* The file sync keys: the path list, and what rsync and sendmail accept. */
static void
check_sync(struct cfg *c)
{
	const char *list, *p;
	char tok[1100];
	long long bw;
	int line;

	list = cfg_str(c, "highAvail.syncPaths");
	line = cfg_line(c, "highAvail.syncPaths");
	for (p = list; next_token(&p, " \t", tok, sizeof(tok));) {
		check_sync_path(c, tok, line);
	}
	bw = cfg_num(c, "highAvail.syncBandwidth");
	if (bw > 0 && bw < 1024)
		cfg_add_error(c, cfg_line(c, "highAvail.syncBandwidth"),
		    "highAvail.syncBandwidth %s is less than 1K: rsync limits "
		    "in K per second; use at least 1K, or 0 for no limit",
		    cfg_str(c, "highAvail.syncBandwidth"));
	if (strpbrk(cfg_str(c, "highAvail.mailTo"), " \t") != NULL)
		cfg_add_error(c, cfg_line(c, "highAvail.mailTo"),
		    "highAvail.mailTo: separate the addresses with commas, "
		    "not blanks");
}

/* One etcd client URL: http(s)://HOST:PORT[/], HOST a name, an IPv4
 * address or [IPv6]; 0 if it is one. */
static int
etcd_url_ok(const char *u)
{
	const char *h, *colon;
	char *end;
	long port;

	if (strncmp(u, "http://", 7) == 0)
		h = u + 7;
	else if (strncmp(u, "https://", 8) == 0)
		h = u + 8;
	else
		return -1;
	if (*h == '[') {
		if ((colon = strchr(h, ']')) == NULL || colon[1] != ':')
			return -1;
		colon++;
	} else if ((colon = strrchr(h, ':')) == NULL || colon == h)
		return -1;
	if (strcspn(h, " \t/@?#") < (size_t)(colon - h))
		return -1;
	port = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || port < 1 || port > 65535 ||
	    (*end != '\0' && strcmp(end, "/") != 0))
		return -1;
	return 0;
}

/* The arbiter keys, when highAvail.arbiter is etcd. */
static void
check_arbiter(struct cfg *c)
{
	const char *list, *p, *prefix;
	char tok[1024];
	int n = 0, line;

	if (strcmp(cfg_str(c, "highAvail.arbiter"), "etcd") != 0)
		return;
	list = cfg_str(c, "highAvail.etcdEndpoints");
	line = cfg_line(c, "highAvail.etcdEndpoints");
	for (p = list; next_token(&p, " \t,", tok, sizeof(tok));) {
		if (++n > HACFG_MAX_ETCD) {
			cfg_add_error(c, line, "highAvail.etcdEndpoints: more "
			    "than %d endpoints", HACFG_MAX_ETCD);
			break;
		}
		if (etcd_url_ok(tok) != 0)
			cfg_add_error(c, line, "highAvail.etcdEndpoints: '%s' is "
			    "not an etcd client URL (http://HOST:PORT or "
			    "https://HOST:PORT)", tok);
	}
	if (n == 0)
		cfg_add_error(c, cfg_line(c, "highAvail.arbiter"),
		    "highAvail.arbiter is etcd but highAvail.etcdEndpoints is "
		    "empty: list the client URLs of every etcd member");
	prefix = cfg_str(c, "highAvail.etcdPrefix");
	if (prefix[0] != '/' || strlen(prefix) < 2 ||
	    prefix[strlen(prefix) - 1] == '/' ||
	    strspn(prefix, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789/_.-") != strlen(prefix))
		cfg_add_error(c, cfg_line(c, "highAvail.etcdPrefix"),
		    "highAvail.etcdPrefix '%s': a path like /hasvr/site1 (starts "
		    "with /, no / at the end; letters, digits, / _ . -)", prefix);
	if (cfg_isset(c, "highAvail.etcdCertFile") !=
	    cfg_isset(c, "highAvail.etcdKeyFile"))
		cfg_add_error(c, cfg_line(c, cfg_isset(c,
		    "highAvail.etcdCertFile") ? "highAvail.etcdCertFile" :
		    "highAvail.etcdKeyFile"), "set both highAvail.etcdCertFile "
		    "and highAvail.etcdKeyFile, or neither");
	if (cfg_num(c, "highAvail.leaderTTL") % 1000 != 0)
		cfg_add_error(c, cfg_line(c, "highAvail.leaderTTL"),
		    "highAvail.leaderTTL %s: etcd leases count whole seconds; "
		    "use e.g. 3s", cfg_str(c, "highAvail.leaderTTL"));
}

int
hacfg_check(struct cfg *c)
{
	struct slot s[HACFG_MAX_NODES + 2];
	char me[64];
	size_t i, klen;
	long long hb, dead;
	int n, j, k, enabled, line;

	enabled = cfg_bool(c, "highAvail.isHaEnabled");

	/* checks of values that are wrong whether HA is on or not */
	n = collect(c, c, s, HACFG_MAX_NODES);
	check_tls(c);
	check_sync(c);
	check_arbiter(c);
	hb = cfg_num(c, "highAvail.heartbeatInterval");
	dead = cfg_num(c, "highAvail.deadInterval");
	if (dead <= 2 * hb) {
		line = cfg_line(c, "highAvail.deadInterval");
		if (line == 0)
			line = cfg_line(c, "highAvail.heartbeatInterval");
		cfg_add_error(c, line, "highAvail.deadInterval (%s) must be more "
		    "than twice highAvail.heartbeatInterval (%s): raise "
		    "highAvail.deadInterval above %lldms or lower "
		    "highAvail.heartbeatInterval",
		    cfg_str(c, "highAvail.deadInterval"),
		    cfg_str(c, "highAvail.heartbeatInterval"), 2 * hb);
	}
	if (!enabled)
		return (int)c->nerrors;

	for (i = 0; i < sizeof(ha_required) / sizeof(ha_required[0]); i++)
		if (!cfg_isset(c, ha_required[i].key) ||
		    cfg_str(c, ha_required[i].key)[0] == '\0')
			cfg_add_error(c, 0, "%s is required when "
			    "highAvail.isHaEnabled is y: set it to %s",
			    ha_required[i].key, ha_required[i].hint);
	if (cfg_isset(c, "highAvail.HMACKey") &&
	    (klen = strlen(cfg_str(c, "highAvail.HMACKey"))) > 0 &&
	    klen < HACFG_MIN_KEY)
		cfg_add_error(c, cfg_line(c, "highAvail.HMACKey"),
		    "highAvail.HMACKey is too short (%zu characters, at least "
		    "%d): use a random secret, the same on every node", klen,
		    HACFG_MIN_KEY);

	/* each node its own address: the later key is the one to fix */
	for (j = 1; j < n; j++)
		for (k = 0; k < j; k++)
			if (strcmp(s[j].addr, s[k].addr) == 0) {
				cfg_add_error(c, s[j].line, "%s: address %s is "
				    "also given by %s%s (line %d): each node "
				    "needs its own address", s[j].key, s[j].addr,
				    s[k].key == s[j].key ? "an earlier entry of " :
				    "", s[k].key, s[k].line);
				break;
			}

	if (cfg_isset(c, "highAvail.myAddr") &&
	    util_addr_canon(cfg_str(c, "highAvail.myAddr"), me,
	    sizeof(me)) == 0) {
		for (j = 0; j < n; j++)
			if (strcmp(s[j].addr, me) == 0)
				break;
		if (j == n)
			cfg_add_error(c, cfg_line(c, "highAvail.myAddr"),
			    "highAvail.myAddr %s is not one of the nodes "
			    "(highAvail.primaryAddr, highAvail.secondaryAddr, "
			    "highAvail.replicaAddrs): set it to this node's own "
			    "address", cfg_str(c, "highAvail.myAddr"));
	}
	return (int)c->nerrors;
}

int
hacfg_check_keys(struct cfg *c)
{
	cfg_check_private(c, "highAvail.tlsKeyFile", 1);
	if (strcmp(cfg_str(c, "highAvail.arbiter"), "etcd") == 0)
		cfg_check_private(c, "highAvail.etcdKeyFile", 1);
	/* a missing SSH key fails the file sync, which says so; HA runs on */
	if (cfg_bool(c, "highAvail.fileSync"))
		cfg_check_private(c, "highAvail.sshKeyFile", 0);
	return (int)c->nerrors;
}

int
hacfg_load(struct cfg *c, const char *path)
{
	cfg_init(c, hacfg_keys, hacfg_nkeys);
	cfg_parse_file(c, path);
	return hacfg_check(c);
}

static int
node_cmp(const void *a, const void *b)
{
	return strcmp(((const struct hacfg_node *)a)->addr,
	    ((const struct hacfg_node *)b)->addr);
}

static const char *
str_or_null(const struct cfg *c, const char *name)
{
	return cfg_isset(c, name) ? cfg_str(c, name) : NULL;
}

void
hacfg_view(const struct cfg *c, struct hacfg *h)
{
	struct slot s[HACFG_MAX_NODES];
	char me[64];
	const char *list, *p;
	int i, j, n;

	memset(h, 0, sizeof(*h));
	h->self = -1;
	h->enabled = cfg_bool(c, "highAvail.isHaEnabled");
	n = collect(c, NULL, s, HACFG_MAX_NODES);
	for (i = 0; i < n; i++) {
		for (j = 0; j < h->nnodes; j++)
			if (strcmp(h->nodes[j].addr, s[i].addr) == 0)
				break;
		if (j < h->nnodes)
			continue;       /* a duplicate: hacfg_check refused it */
		util_strlcpy(h->nodes[h->nnodes].addr, s[i].addr,
		    sizeof(h->nodes[0].addr));
		h->nodes[h->nnodes].preferred = s[i].preferred;
		h->nnodes++;
	}
	qsort(h->nodes, (size_t)h->nnodes, sizeof(h->nodes[0]), node_cmp);
	if (util_addr_canon(cfg_str(c, "highAvail.myAddr"), me,
	    sizeof(me)) == -1)
		me[0] = '\0';
	for (i = 0; i < h->nnodes; i++) {
		h->nodes[i].eid = i + 1;
		if (me[0] != '\0' && strcmp(h->nodes[i].addr, me) == 0)
			h->self = i;
	}
	h->heartbeat_port = (int)cfg_num(c, "highAvail.heartbeatPort");
	h->replication_port = (int)cfg_num(c, "highAvail.replicationPort");
	h->hmac_key = cfg_get(c, "highAvail.HMACKey")->str;
	h->durability = (enum ha_durability)cfg_num(c, "highAvail.durability");
	h->ack_timeout_ms = cfg_num(c, "highAvail.ackTimeout");
	h->bandwidth = cfg_num(c, "highAvail.replicationBandwidth");
	h->tls_ca = str_or_null(c, "highAvail.tlsCAFile");
	h->tls_cert = str_or_null(c, "highAvail.tlsCertFile");
	h->tls_key = str_or_null(c, "highAvail.tlsKeyFile");
	h->arbiter = strcmp(cfg_str(c, "highAvail.arbiter"), "etcd") == 0 ?
	    HA_ARBITER_ETCD : HA_ARBITER_NONE;
	h->netcd = 0;
	list = cfg_str(c, "highAvail.etcdEndpoints");
	for (p = list; h->netcd < HACFG_MAX_ETCD && next_token(&p, " \t,",
	    h->etcd[h->netcd], sizeof(h->etcd[0]));)
		h->netcd++;
	h->etcd_prefix = cfg_str(c, "highAvail.etcdPrefix");
	h->etcd_ca = str_or_null(c, "highAvail.etcdCAFile");
	h->etcd_cert = str_or_null(c, "highAvail.etcdCertFile");
	h->etcd_key = str_or_null(c, "highAvail.etcdKeyFile");
	h->etcd_source = str_or_null(c, "highAvail.etcdSourceAddr");
	h->leader_ttl_ms = cfg_num(c, "highAvail.leaderTTL");
}
