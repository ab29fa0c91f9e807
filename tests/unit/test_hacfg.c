/* test_hacfg.c — the haSvr.cfg key table, its checks across keys and the
 * node view (lib/hacfg.c), and the ha-link role names (lib/halink.c).
 * Error messages are compared whole: they are what an administrator reads. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "cfg.h"
#include "hacfg.h"
#include "halink.h"
#include "util.h"

#define KEY "highAvail.HMACKey 0123456789abcdef\n"
/* a valid enabled group of two */
#define PAIR \
	"highAvail.isHaEnabled y\n" \
	"highAvail.myAddr 10.0.0.1\n" \
	"highAvail.primaryAddr 10.0.0.1\n" \
	"highAvail.secondaryAddr 10.0.0.2\n" \
	KEY

/* Parse text as ha.cfg with every check; returns the error count. */
static int
ha_parse(struct cfg *c, const char *text)
{
	cfg_init(c, hacfg_keys, hacfg_nkeys);
	cfg_parse_string(c, "ha.cfg", text);
	return hacfg_check(c);
}

/* Parse and compare the errors with want[0..n-1], in order. */
static void
expect(const char *text, const char *const *want, size_t n)
{
	struct cfg c;
	size_t i;

	CU_ASSERT_EQUAL(ha_parse(&c, text), (int)n);
	for (i = 0; i < n && i < c.nerrors; i++) {
		CU_ASSERT_STRING_EQUAL(c.errors[i], want[i]);
		if (strcmp(c.errors[i], want[i]) != 0)
			fprintf(stderr, "\n got: %s\nwant: %s\n", c.errors[i],
			    want[i]);
	}
	for (; i < c.nerrors; i++)
		fprintf(stderr, "\nunexpected: %s\n", c.errors[i]);
	cfg_free(&c);
}

static void
expect1(const char *text, const char *want)
{
	expect(text, &want, 1);
}

static void
test_defaults(void)
{
	struct hacfg h;
	struct cfg c;

	/* an empty file: HA off, nothing required */
	CU_ASSERT_EQUAL(ha_parse(&c, ""), 0);
	CU_ASSERT_EQUAL(cfg_bool(&c, "highAvail.isHaEnabled"), 0);
	CU_ASSERT_EQUAL(cfg_num(&c, "highAvail.heartbeatPort"), 7802);
	CU_ASSERT_EQUAL(cfg_num(&c, "highAvail.replicationPort"), 7803);
	CU_ASSERT_EQUAL(cfg_num(&c, "highAvail.ackTimeout"), 2000);
	CU_ASSERT_EQUAL(cfg_num(&c, "highAvail.heartbeatInterval"), 100);
	CU_ASSERT_EQUAL(cfg_num(&c, "highAvail.deadInterval"), 500);
	CU_ASSERT_EQUAL(cfg_num(&c, "highAvail.replicationBandwidth"), 0);
	CU_ASSERT_EQUAL(cfg_bool(&c, "highAvail.writetoLog"), 1);
	CU_ASSERT_EQUAL(cfg_bool(&c, "highAvail.dbSync"), 1);
	CU_ASSERT_EQUAL(cfg_bool(&c, "highAvail.fileSync"), 1);
	CU_ASSERT_STRING_EQUAL(cfg_str(&c, "highAvail.durability"), "sync");
	CU_ASSERT_STRING_EQUAL(cfg_str(&c, "highAvail.rsyncUser"), "");
	CU_ASSERT_EQUAL(cfg_str(&c, "highAvail.varDir")[0], '/');
	hacfg_view(&c, &h);
	CU_ASSERT_EQUAL(h.enabled, 0);
	CU_ASSERT_EQUAL(h.nnodes, 0);
	CU_ASSERT_EQUAL(h.self, -1);
	CU_ASSERT_EQUAL(h.durability, HA_SYNC);
	CU_ASSERT_PTR_NULL(h.tls_ca);
	cfg_free(&c);

	/* off with half a group written: no cross-node checks yet */
	CU_ASSERT_EQUAL(ha_parse(&c, "highAvail.isHaEnabled n\n"
	    "highAvail.primaryAddr 10.0.0.1\n"
	    "highAvail.secondaryAddr 10.0.0.1\n"
	    "highAvail.HMACKey short\n"), 0);
	cfg_free(&c);
	CU_ASSERT_EQUAL(ha_parse(&c, PAIR), 0);
	cfg_free(&c);
}

static void
test_values(void)
{
	expect1("highAvail.durability fast\n", "ha.cfg:1: bad value 'fast' for "
	    "highAvail.durability: expected one of: async, sync, strict");
	expect1("highAvail.ackTimeout 5ms\n", "ha.cfg:1: bad value '5ms' for "
	    "highAvail.ackTimeout: out of range: 5ms (allowed 10ms..1m)");
	expect1("highAvail.replicationBandwidth 11G\n", "ha.cfg:1: bad value "
	    "'11G' for highAvail.replicationBandwidth: out of range: 11G "
	    "(allowed 0..10G)");
	expect1("highAvail.heartbeatInterval 11s\n", "ha.cfg:1: bad value '11s' "
	    "for highAvail.heartbeatInterval: out of range: 11s (allowed "
	    "20ms..10s)");
	expect1("highAvail.myAddr nsm1\n", "ha.cfg:1: bad value 'nsm1' for "
	    "highAvail.myAddr: expected a numeric IPv4 or IPv6 address");
	expect1("highAvail.heartbeatPort 0\n", "ha.cfg:1: bad value '0' for "
	    "highAvail.heartbeatPort: expected a port number between 1 and "
	    "65535");
	expect1("highAvail.hmacKey x\n", "ha.cfg:1: unknown key "
	    "'highAvail.hmacKey' (did you mean 'highAvail.HMACKey'?)");
	expect1("guiSvr.setuid nsm\n", "ha.cfg:1: unknown key 'guiSvr.setuid' "
	    "(did you mean 'highAvail.setuid'?)");
}

static void
test_required(void)
{
	static const char *const want[] = {
		"ha.cfg: highAvail.myAddr is required when highAvail.isHaEnabled "
		"is y: set it to this node's own address, one of "
		"highAvail.primaryAddr, highAvail.secondaryAddr, "
		"highAvail.replicaAddrs",
		"ha.cfg: highAvail.primaryAddr is required when "
		"highAvail.isHaEnabled is y: set it to the address of the node "
		"preferred as primary",
		"ha.cfg: highAvail.secondaryAddr is required when "
		"highAvail.isHaEnabled is y: set it to the address of the "
		"standby node",
		"ha.cfg: highAvail.HMACKey is required when highAvail.isHaEnabled "
		"is y: set it to a random secret of at least 16 characters, the "
		"same on every node",
	};

	expect("highAvail.isHaEnabled y\n", want, 4);
	/* an empty key is as good as none */
	expect1("highAvail.isHaEnabled y\nhighAvail.myAddr 10.0.0.1\n"
	    "highAvail.primaryAddr 10.0.0.1\nhighAvail.secondaryAddr 10.0.0.2\n"
	    "highAvail.HMACKey\n", want[3]);
}

static void
test_cross_checks(void)
{
	static const char *const two[] = {
		"ha.cfg:4: highAvail.secondaryAddr: address 10.0.0.1 is also "
		"given by highAvail.primaryAddr (line 3): each node needs its own "
		"address",
		"ha.cfg:2: highAvail.myAddr 10.0.0.9 is not one of the nodes "
		"(highAvail.primaryAddr, highAvail.secondaryAddr, "
		"highAvail.replicaAddrs): set it to this node's own address",
	};
	char text[2048];

	/* the key, never quoted */
	expect1("highAvail.isHaEnabled y\nhighAvail.myAddr 10.0.0.1\n"
	    "highAvail.primaryAddr 10.0.0.1\nhighAvail.secondaryAddr 10.0.0.2\n"
	    "highAvail.HMACKey tooshort\n", "ha.cfg:5: highAvail.HMACKey is too "
	    "short (8 characters, at least 16): use a random secret, the same "
	    "on every node");
	expect("highAvail.isHaEnabled y\nhighAvail.myAddr 10.0.0.9\n"
	    "highAvail.primaryAddr 10.0.0.1\nhighAvail.secondaryAddr 10.0.0.1\n"
	    KEY, two, 2);
	/* the same address written two ways is still one address */
	expect1(PAIR "highAvail.replicaAddrs 10.0.0.3 ::1 0:0::1\n",
	    "ha.cfg:6: highAvail.replicaAddrs: address ::1 is also given by "
	    "an earlier entry of highAvail.replicaAddrs (line 6): each node "
	    "needs its own address");
	expect1(PAIR "highAvail.replicaAddrs 10.0.0.2\n", "ha.cfg:6: "
	    "highAvail.replicaAddrs: address 10.0.0.2 is also given by "
	    "highAvail.secondaryAddr (line 4): each node needs its own address");
	/* myAddr may be a replica */
	expect(PAIR "highAvail.replicaAddrs 10.0.0.3\n", NULL, 0);
	snprintf(text, sizeof(text), "%s", "highAvail.isHaEnabled y\n"
	    "highAvail.myAddr 10.0.0.3\nhighAvail.primaryAddr 10.0.0.1\n"
	    "highAvail.secondaryAddr 10.0.0.2\n" KEY
	    "highAvail.replicaAddrs 10.0.0.3\n");
	expect(text, NULL, 0);
}

static void
test_replicas(void)
{
	static const char *const two[] = {
		"ha.cfg:2: highAvail.replicaAddrs: 'nsm3' is not a numeric IPv4 "
		"or IPv6 address (list the replicas' addresses separated by "
		"blanks)",
		"ha.cfg:2: highAvail.replicaAddrs: '10.0.0.4,10.0.0.5' is not a "
		"numeric IPv4 or IPv6 address (list the replicas' addresses "
		"separated by blanks)",
	};

	/* the tokens are checked even with HA off */
	expect("\nhighAvail.replicaAddrs  10.0.0.3\tnsm3 10.0.0.4,10.0.0.5 \n",
	    two, 2);
	expect1(PAIR "highAvail.replicaAddrs 10.0.1.1 10.0.1.2 10.0.1.3 "
	    "10.0.1.4 10.0.1.5 10.0.1.6 10.0.1.7 10.0.1.8\n", "ha.cfg:6: "
	    "highAvail.replicaAddrs lists more than 6 addresses: a group has "
	    "at most 8 nodes (primary, secondary and 6 replicas)");
	expect(PAIR "highAvail.replicaAddrs 10.0.1.1 10.0.1.2 10.0.1.3 "
	    "10.0.1.4 10.0.1.5 10.0.1.6\n", NULL, 0);
}

static void
test_intervals(void)
{
	expect1("highAvail.heartbeatInterval 500ms\n", "ha.cfg:1: "
	    "highAvail.deadInterval (500ms) must be more than twice "
	    "highAvail.heartbeatInterval (500ms): raise highAvail.deadInterval "
	    "above 1000ms or lower highAvail.heartbeatInterval");
	expect1("highAvail.heartbeatInterval 300ms\n\nhighAvail.deadInterval "
	    "600ms\n", "ha.cfg:3: highAvail.deadInterval (600ms) must be more "
	    "than twice highAvail.heartbeatInterval (300ms): raise "
	    "highAvail.deadInterval above 600ms or lower "
	    "highAvail.heartbeatInterval");
	expect("highAvail.heartbeatInterval 300ms\nhighAvail.deadInterval "
	    "601ms\n", NULL, 0);
}

static void
test_tls(void)
{
	struct hacfg h;
	struct cfg c;

	expect1("\nhighAvail.tlsCertFile /e/n.pem\n", "ha.cfg:2: "
	    "highAvail.tlsCertFile is set but highAvail.tlsCAFile and "
	    "highAvail.tlsKeyFile are not: set all three TLS files, or none "
	    "(replication then uses a key derived from highAvail.HMACKey)");
	expect1("highAvail.tlsKeyFile /e/n.key\nhighAvail.tlsCAFile /e/ca.pem\n",
	    "ha.cfg:2: highAvail.tlsCAFile and highAvail.tlsKeyFile are set "
	    "but highAvail.tlsCertFile is not: set all three TLS files, or "
	    "none (replication then uses a key derived from "
	    "highAvail.HMACKey)");
	CU_ASSERT_EQUAL(ha_parse(&c, PAIR "highAvail.tlsCAFile /e/ca.pem\n"
	    "highAvail.tlsCertFile /e/n.pem\nhighAvail.tlsKeyFile /e/n.key\n"),
	    0);
	hacfg_view(&c, &h);
	CU_ASSERT_STRING_EQUAL(h.tls_ca, "/e/ca.pem");
	CU_ASSERT_STRING_EQUAL(h.tls_cert, "/e/n.pem");
	CU_ASSERT_STRING_EQUAL(h.tls_key, "/e/n.key");
	cfg_free(&c);
}

/* Every error at once, in the order of the checks. */
static void
test_many(void)
{
	static const char *const want[] = {
		"ha.cfg:3: highAvail.replicaAddrs: 'x' is not a numeric IPv4 or "
		"IPv6 address (list the replicas' addresses separated by blanks)",
		"ha.cfg:4: highAvail.tlsCAFile is set but highAvail.tlsCertFile "
		"and highAvail.tlsKeyFile are not: set all three TLS files, or "
		"none (replication then uses a key derived from "
		"highAvail.HMACKey)",
		"ha.cfg: highAvail.myAddr is required when highAvail.isHaEnabled "
		"is y: set it to this node's own address, one of "
		"highAvail.primaryAddr, highAvail.secondaryAddr, "
		"highAvail.replicaAddrs",
		"ha.cfg: highAvail.secondaryAddr is required when "
		"highAvail.isHaEnabled is y: set it to the address of the "
		"standby node",
		"ha.cfg:5: highAvail.HMACKey is too short (3 characters, at least "
		"16): use a random secret, the same on every node",
	};

	expect("highAvail.isHaEnabled y\nhighAvail.primaryAddr 10.0.0.1\n"
	    "highAvail.replicaAddrs x\nhighAvail.tlsCAFile /ca\n"
	    "highAvail.HMACKey abc\n", want, 5);
}

/* The file sync keys (bin/.haDoDirect, utils/haTrustCheck). */
static void
test_file_sync(void)
{
	static const char *const paths[] = {
		"ha.cfg:1: highAvail.syncPaths: 'etc/shared' is not an absolute "
		"path (list absolute paths separated by blanks)",
		"ha.cfg:1: highAvail.syncPaths: '/' would copy the whole system: "
		"list the folders to copy",
		"ha.cfg:1: highAvail.syncPaths: '/srv/a/../b' has a '.' or '..' "
		"component: write the path plainly",
		"ha.cfg:1: highAvail.syncPaths: '/var/h/xdb/data' is in "
		"/var/h/xdb, which is never copied (it belongs to this node): "
		"list other paths",
		"ha.cfg:1: highAvail.syncPaths: '/var/h/run/' is /var/h/run, "
		"which is never copied (it belongs to this node): list other "
		"paths",
	};
	struct cfg c;

	CU_ASSERT_EQUAL(ha_parse(&c, ""), 0);
	CU_ASSERT_STRING_EQUAL(cfg_str(&c, "highAvail.syncPaths"),
	    SYSCONFDIR "/shared");
	CU_ASSERT_STRING_EQUAL(cfg_str(&c, "highAvail.syncExcludes"), "");
	CU_ASSERT_EQUAL(cfg_num(&c, "highAvail.syncInterval"), 15 * 60000);
	CU_ASSERT_EQUAL(cfg_num(&c, "highAvail.syncTimeout"), 60000);
	CU_ASSERT_EQUAL(cfg_num(&c, "highAvail.syncBandwidth"), 0);
	CU_ASSERT_EQUAL(cfg_num(&c, "highAvail.sshPort"), 22);
	CU_ASSERT_EQUAL(cfg_isset(&c, "highAvail.sshKeyFile"), 0);
	CU_ASSERT_PTR_NULL(cfg_get(&c, "highAvail.sshKeyFile")->str);
	CU_ASSERT_PTR_NULL(cfg_get(&c, "highAvail.knownHostsFile")->str);
	CU_ASSERT_STRING_EQUAL(cfg_str(&c, "highAvail.mailTo"), "root");
	CU_ASSERT_EQUAL(cfg_bool(&c, "highAvail.mailOnSuccess"), 0);
	CU_ASSERT_PTR_NULL(cfg_get(&c, "highAvail.syncHook")->str);
	cfg_free(&c);

	/* a real set: several paths, a folder holding the runtime ones */
	expect(PAIR "highAvail.varDir /var/h\n"
	    "highAvail.syncPaths /opt/hasvr/etc/shared /srv/files/ /var/h\n"
	    "highAvail.syncExcludes *.tmp cache/\nhighAvail.syncInterval 30s\n"
	    "highAvail.syncBandwidth 512K\nhighAvail.sshPort 2222\n"
	    "highAvail.sshKeyFile /home/nsm/.ssh/id_ed25519\n"
	    "highAvail.knownHostsFile /home/nsm/.ssh/known_hosts\n"
	    "highAvail.mailTo root,ops@example.com\n"
	    "highAvail.mailOnSuccess y\n"
	    "highAvail.syncHook /usr/local/bin/hook\n", NULL, 0);

	expect("highAvail.syncPaths etc/shared / /srv/a/../b /var/h/xdb/data "
	    "/var/h/run/ /var/h/xdbx\nhighAvail.varDir /var/h/\n", paths, 5);
	expect1("highAvail.syncPaths /a/.\n", "ha.cfg:1: highAvail.syncPaths: "
	    "'/a/.' has a '.' or '..' component: write the path plainly");
	/* the file itself (its name as given to the parser) */
	cfg_init(&c, hacfg_keys, hacfg_nkeys);
	cfg_parse_string(&c, "/etc/hasvr/haSvr.cfg",
	    "highAvail.syncPaths /etc/hasvr/ /etc/hasvr/haSvr.cfg\n");
	CU_ASSERT_EQUAL_FATAL(hacfg_check(&c), 1);
	CU_ASSERT_STRING_EQUAL(c.errors[0], "/etc/hasvr/haSvr.cfg:1: "
	    "highAvail.syncPaths: '/etc/hasvr/haSvr.cfg' is this file: "
	    "haSvr.cfg is never copied (highAvail.myAddr differs on every "
	    "node)");
	cfg_free(&c);
	expect1("\nhighAvail.syncBandwidth 1000\n", "ha.cfg:2: "
	    "highAvail.syncBandwidth 1000 is less than 1K: rsync limits in K "
	    "per second; use at least 1K, or 0 for no limit");
	expect1("highAvail.syncInterval 500ms\n", "ha.cfg:1: bad value '500ms' "
	    "for highAvail.syncInterval: out of range: 500ms (allowed 1s..24h)");
	expect1("highAvail.sshPort 0\n", "ha.cfg:1: bad value '0' for "
	    "highAvail.sshPort: expected a port number between 1 and 65535");
	expect1("highAvail.sshKeyFile id_rsa\n", "ha.cfg:1: bad value 'id_rsa' "
	    "for highAvail.sshKeyFile: expected an absolute path");
	expect1("highAvail.mailTo root admin\n", "ha.cfg:1: highAvail.mailTo: "
	    "separate the addresses with commas, not blanks");
	expect1("highAvail.mailOnSuccess maybe\n", "ha.cfg:1: bad value 'maybe' "
	    "for highAvail.mailOnSuccess: expected y or n");
}

static void
view_of(const char *me, const char *order, struct hacfg *h, struct cfg *c)
{
	char text[1024];

	snprintf(text, sizeof(text), "highAvail.isHaEnabled y\n"
	    "highAvail.myAddr %s\n%s" KEY "highAvail.durability strict\n"
	    "highAvail.ackTimeout 250ms\nhighAvail.replicationBandwidth 10M\n"
	    "highAvail.replicationPort 9003\nhighAvail.heartbeatPort 9002\n",
	    me, order);
	CU_ASSERT_EQUAL(ha_parse(c, text), 0);
	if (c->nerrors)
		cfg_print_errors(c);
	hacfg_view(c, h);
}

/* Every node derives the same eid for the same address, whatever its own
 * address and however the replica list is ordered or written. */
static void
test_view_eids(void)
{
	static const char *const mine[] = {
		"10.0.0.20", "10.0.0.3", "::1", "10.0.0.100"
	};
	static const char *const lists[] = {
		"highAvail.primaryAddr 10.0.0.20\nhighAvail.secondaryAddr "
		"10.0.0.3\nhighAvail.replicaAddrs ::1 10.0.0.100\n",
		"highAvail.replicaAddrs 10.0.0.100   0:0:0::1\n"
		"highAvail.secondaryAddr 10.0.0.3\nhighAvail.primaryAddr "
		"10.0.0.20\n",
	};
	/* strcmp order of the canonical texts */
	static const char *const sorted[] = {
		"10.0.0.100", "10.0.0.20", "10.0.0.3", "::1"
	};
	static const int preferred[] = { 2, 0, 1, 2 };
	struct hacfg ref, h;
	struct cfg rc, c;
	size_t i, j;
	int k;

	view_of(mine[0], lists[0], &ref, &rc);
	CU_ASSERT_EQUAL_FATAL(ref.nnodes, 4);
	for (k = 0; k < 4; k++) {
		CU_ASSERT_STRING_EQUAL(ref.nodes[k].addr, sorted[k]);
		CU_ASSERT_EQUAL(ref.nodes[k].eid, k + 1);
		CU_ASSERT_EQUAL(ref.nodes[k].preferred, preferred[k]);
	}
	CU_ASSERT_EQUAL(ref.self, 1);
	CU_ASSERT_EQUAL(ref.enabled, 1);
	CU_ASSERT_EQUAL(ref.heartbeat_port, 9002);
	CU_ASSERT_EQUAL(ref.replication_port, 9003);
	CU_ASSERT_STRING_EQUAL(ref.hmac_key, "0123456789abcdef");
	CU_ASSERT_EQUAL(ref.durability, HA_STRICT);
	CU_ASSERT_EQUAL(ref.ack_timeout_ms, 250);
	CU_ASSERT_EQUAL(ref.bandwidth, 10 * 1024 * 1024);
	CU_ASSERT_PTR_NULL(ref.tls_ca);
	CU_ASSERT_PTR_NULL(ref.tls_cert);
	CU_ASSERT_PTR_NULL(ref.tls_key);

	for (i = 0; i < sizeof(mine) / sizeof(mine[0]); i++)
		for (j = 0; j < sizeof(lists) / sizeof(lists[0]); j++) {
			view_of(mine[i], lists[j], &h, &c);
			CU_ASSERT_EQUAL(h.nnodes, ref.nnodes);
			CU_ASSERT_EQUAL(memcmp(h.nodes, ref.nodes,
			    sizeof(h.nodes)), 0);
			CU_ASSERT(h.self >= 0 && h.self < h.nnodes);
			if (h.self >= 0)
				CU_ASSERT_STRING_EQUAL(
				    h.nodes[h.self].addr, sorted[h.self]);
			/* "::1" is how every node writes 0:0:0::1 */
			for (k = 0; k < h.nnodes; k++)
				if (strcmp(mine[i], h.nodes[k].addr) == 0)
					CU_ASSERT_EQUAL(h.self, k);
			cfg_free(&c);
		}
	cfg_free(&rc);
}

static char *
uncomment(const char *sample)
{
	char *out = malloc(strlen(sample) + 1), *o = out;
	const char *p = sample;

	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	while (*p != '\0') {
		if (p[0] == '#' && strncmp(p + 1, "highAvail.", 10) == 0)
			p++;
		while (*p != '\0' && *p != '\n')
			*o++ = *p++;
		if (*p == '\n')
			*o++ = *p++;
	}
	*o = '\0';
	return out;
}

/* The shipped sample, as is and with every key uncommented, is valid. */
static void
test_sample(void)
{
	const char *top = getenv("top_srcdir");
	char path[1024], err[512], *text, *un, *buf = NULL;
	size_t len = 0;
	struct cfg c;
	FILE *fp;

	fp = open_memstream(&buf, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	CU_ASSERT_EQUAL(cfg_write_sample(hacfg_keys, hacfg_nkeys, "haSvr.cfg",
	    fp), 0);
	fclose(fp);
	un = uncomment(buf);
	CU_ASSERT_EQUAL(ha_parse(&c, un), 0);
	CU_ASSERT_EQUAL(cfg_isset(&c, "highAvail.fileSync"), 1);
	cfg_free(&c);
	free(un);
	free(buf);

	snprintf(path, sizeof(path), "%s/etc/haSvr.cfg.sample",
	    top ? top : ".");
	if ((text = util_read_file(path, 1 << 20, NULL, err, sizeof(err))) ==
	    NULL)
		return;  /* run outside the tree: nothing to check */
	CU_ASSERT_EQUAL(ha_parse(&c, text), 0);
	cfg_free(&c);
	un = uncomment(text);
	CU_ASSERT_EQUAL(ha_parse(&c, un), 0);
	if (c.nerrors > 0)
		cfg_print_errors(&c);
	/* every key of the table is in it, with the table's default */
	for (size_t k = 0; k < hacfg_nkeys; k++) {
		char want[256];

		snprintf(want, sizeof(want), "\n#%s%s%s\n", hacfg_keys[k].name,
		    hacfg_keys[k].def != NULL && hacfg_keys[k].def[0] != '\0' ?
		    " " : "", hacfg_keys[k].type == CFG_PATH ||
		    hacfg_keys[k].def == NULL ? "" : hacfg_keys[k].def);
		/* defaults under the prefix depend on configure: name only */
		if (hacfg_keys[k].type == CFG_PATH || hacfg_keys[k].def == NULL ||
		    hacfg_keys[k].def[0] == '/')
			snprintf(want, sizeof(want), "\n#%s", hacfg_keys[k].name);
		if (strstr(text, want) == NULL)
			fprintf(stderr, "\netc/haSvr.cfg.sample lacks '%s'\n",
			    want + 1);
		CU_ASSERT_PTR_NOT_NULL(strstr(text, want));
	}
	CU_ASSERT_EQUAL(cfg_isset(&c, "highAvail.dbSync"), 1);
	CU_ASSERT_EQUAL(cfg_isset(&c, "highAvail.isHaEnabled"), 1);
	CU_ASSERT_EQUAL(cfg_isset(&c, "highAvail.varDir"), 1);
	CU_ASSERT_EQUAL(cfg_isset(&c, "highAvail.syncPaths"), 1);
	CU_ASSERT_EQUAL(cfg_isset(&c, "highAvail.syncHook"), 1);
	cfg_free(&c);
	/* turned on with its example addresses it is a valid group of two */
	CU_ASSERT_EQUAL(ha_parse(&c, "highAvail.isHaEnabled y\n"
	    "highAvail.myAddr 10.0.0.1\nhighAvail.primaryAddr 10.0.0.1\n"
	    "highAvail.secondaryAddr 10.0.0.2\n" KEY), 0);
	cfg_free(&c);
	free(un);
	free(text);
}

/* Each tests/conf/ha/NAME.cfg gives exactly NAME.ok (hacfg_load's errors,
 * or "configuration OK"), the path shown relative to top_srcdir. */
static void
test_conf_cases(void)
{
	const char *top = getenv("top_srcdir");
	char dir[1024], cfgp[1400], okp[1400], err[512], *ok, *got, *p;
	size_t len, i, n = 0, glen;
	struct dirent *de;
	struct cfg c;
	FILE *fp;
	DIR *d;

	if (top == NULL)
		top = ".";
	snprintf(dir, sizeof(dir), "%s/tests/conf/ha", top);
	if ((d = opendir(dir)) == NULL)
		return;  /* run outside the tree: nothing to check */
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 4, ".cfg") != 0)
			continue;
		snprintf(cfgp, sizeof(cfgp), "%s/%s", dir, de->d_name);
		snprintf(okp, sizeof(okp), "%s/%.*s.ok", dir, (int)(len - 4),
		    de->d_name);
		ok = util_read_file(okp, 1 << 20, NULL, err, sizeof(err));
		CU_ASSERT_PTR_NOT_NULL(ok);
		if (ok == NULL) {
			fprintf(stderr, "\n%s\n", err);
			continue;
		}
		got = NULL;
		glen = 0;
		fp = open_memstream(&got, &glen);
		CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
		if (hacfg_load(&c, cfgp) == 0)
			fprintf(fp, "configuration OK\n");
		for (i = 0; i < c.nerrors; i++) {
			p = c.errors[i];
			if (strncmp(p, top, strlen(top)) == 0 &&
			    p[strlen(top)] == '/')
				p += strlen(top) + 1;
			fprintf(fp, "%s\n", p);
		}
		fclose(fp);
		cfg_free(&c);
		CU_ASSERT_STRING_EQUAL(got, ok);
		if (strcmp(got, ok) != 0)
			fprintf(stderr, "\n%s:\n got:\n%swant:\n%s", cfgp, got,
			    ok);
		free(got);
		free(ok);
		n++;
	}
	closedir(d);
	CU_ASSERT(n >= 3);
}

static void
test_role_names(void)
{
	CU_ASSERT_STRING_EQUAL(ha_role_word(HA_ROLE_PRIMARY), "primary");
	CU_ASSERT_STRING_EQUAL(ha_role_word(HA_ROLE_SECONDARY), "secondary");
	CU_ASSERT_STRING_EQUAL(ha_role_word(HA_ROLE_STARTING), "none");
	CU_ASSERT_STRING_EQUAL(ha_role_word(-1), "unknown");
	CU_ASSERT_STRING_EQUAL(ha_role_word(77), "unknown");
	CU_ASSERT_EQUAL(ha_role_parse("primary"), HA_ROLE_PRIMARY);
	CU_ASSERT_EQUAL(ha_role_parse("secondary"), HA_ROLE_SECONDARY);
	CU_ASSERT_EQUAL(ha_role_parse("none"), HA_ROLE_STARTING);
	CU_ASSERT_EQUAL(ha_role_parse("Primary"), -1);
	CU_ASSERT_EQUAL(ha_role_parse(""), -1);
}

void
test_hacfg_register(void)
{
	CU_pSuite s = CU_add_suite("hacfg", NULL, NULL);

	CU_add_test(s, "defaults, HA off", test_defaults);
	CU_add_test(s, "values", test_values);
	CU_add_test(s, "required when enabled", test_required);
	CU_add_test(s, "key, duplicates, myAddr", test_cross_checks);
	CU_add_test(s, "replicaAddrs", test_replicas);
	CU_add_test(s, "deadInterval vs heartbeatInterval", test_intervals);
	CU_add_test(s, "TLS files all or none", test_tls);
	CU_add_test(s, "all errors at once", test_many);
	CU_add_test(s, "file sync keys", test_file_sync);
	CU_add_test(s, "same eids on every node", test_view_eids);
	CU_add_test(s, "sample file", test_sample);
	CU_add_test(s, "tests/conf/ha cases", test_conf_cases);
	CU_add_test(s, "ha-link role names", test_role_names);
}
