/* hacfg.h — the keys of haSvr.cfg. hasvr owns the file; guisvr reads it too
 * (its path is guiSvr.haConfig) to learn the node addresses, the
 * replication port, the shared key and the durability mode, and logs
 * "read highAvail.heartbeatPort; myAddr = …" / "peerAddr = …" as it does.
 *
 * Nodes: highAvail.primaryAddr (preferred primary), highAvail.secondaryAddr
 * and optional highAvail.replicaAddrs (read replicas, space separated) are
 * the same list on every node; highAvail.myAddr says which one this node is.
 * Every node listens for replication on its own address and
 * highAvail.replicationPort (heartbeats: highAvail.heartbeatPort, UDP). */
#ifndef HASVR_HACFG_H
#define HASVR_HACFG_H

#include "cfg.h"

#define HACFG_DEFAULT_PATH SYSCONFDIR "/haSvr.cfg"
#define HACFG_MAX_NODES 8
#define HACFG_MIN_KEY 16

extern const struct cfg_key hacfg_keys[];
extern const size_t hacfg_nkeys;

enum ha_durability { HA_ASYNC = 0, HA_SYNC, HA_STRICT };
enum ha_arbiter { HA_ARBITER_NONE = 0, HA_ARBITER_ETCD };

#define HACFG_MAX_ETCD 16       /* etcd endpoints */

struct hacfg_node {
	char addr[64];          /* numeric IPv4/IPv6 */
	int eid;                /* 1-based, same on every node (sorted address list) */
	int preferred;          /* 0 primaryAddr, 1 secondaryAddr, 2 replica */
};

/* The parsed, cross-checked view both daemons use. */
struct hacfg {
	int enabled;                      /* highAvail.isHaEnabled */
	struct hacfg_node nodes[HACFG_MAX_NODES];
	int nnodes;
	int self;                         /* index of myAddr in nodes */
	int heartbeat_port, replication_port;
	char *hmac_key;                   /* highAvail.HMACKey (secret) */
	enum ha_durability durability;
	long long ack_timeout_ms;
	long long bandwidth;              /* replication bytes/s, 0 = unlimited */
	const char *tls_ca, *tls_cert, *tls_key;   /* all three, or none (PSK) */
	enum ha_arbiter arbiter;          /* highAvail.arbiter */
	char etcd[HACFG_MAX_ETCD][256];   /* highAvail.etcdEndpoints */
	int netcd;
	const char *etcd_prefix;
	const char *etcd_ca, *etcd_cert, *etcd_key;  /* NULL when unset */
	const char *etcd_source;          /* NULL when unset */
	long long leader_ttl_ms;
};

/* cfg_init + cfg_parse_file + hacfg_check; always runs the checks.
 * Returns c->nerrors. */
int hacfg_load(struct cfg *c, const char *path);
/* Cross-key checks (myAddr one of the nodes, no duplicate addresses, key
 * length when enabled, TLS files all-or-none, …); adds errors, returns
 * c->nerrors. */
int hacfg_check(struct cfg *c);
/* The private keys haSvr.cfg names (highAvail.tlsKeyFile; with
 * highAvail.fileSync y, highAvail.sshKeyFile when it exists) must not be
 * readable by others, like haSvr.cfg itself; adds errors, returns
 * c->nerrors. Run by the daemons, which read them, not by the tools. */
int hacfg_check_keys(struct cfg *c);
/* Fill h from a checked cfg (strings point into c; h->hmac_key too). */
void hacfg_view(const struct cfg *c, struct hacfg *h);

#endif
