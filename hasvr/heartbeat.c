/* heartbeat.c — encode, authenticate, check and log hasvr heartbeats.
 * The format and the freshness rules are described in heartbeat.h. These
 * helpers never exit and never log, except heartbeat_log_reject. */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "be.h"
#include "cfg.h"
#include "hacfg.h"
#include "log.h"
#include "tlsctx.h"
#include "util.h"
#include "heartbeat.h"

/* field offsets of version 1 */
#define OFF_MAGIC	0
#define OFF_VERSION	4
#define OFF_ROLE	5
#define OFF_DBSTATE	6
#define OFF_INSYNC	7
#define OFF_FLAGS	8
#define OFF_EID		12
#define OFF_EPOCH	16
#define OFF_BOOT	24
#define OFF_SEQ		32
#define OFF_ECHOBOOT	40
#define OFF_ECHOSEQ	48
#define OFF_DBGEN	56
#define OFF_LSNFILE	60
#define OFF_LSNOFF	64
#define OFF_HANDOFF	68
#define OFF_VOTE	72
#define OFF_VOTEROUND	76
#define OFF_SUM		80
#define OFF_BUILD	112
#define OFF_TAG		176

#if OFF_BUILD + HB_BUILD_LEN != OFF_TAG || OFF_TAG + HB_TAG_LEN != HB_LEN
#error "heartbeat v1 layout does not add up"
#endif

/* a fingerprint of the shared key for the config checksum: equal keys give
 * equal fingerprints, and the checksum on the wire reveals no more about
 * the key than the HMAC tag beside it already does */
#define HB_CFGKEY_LABEL "hasvr config checksum v1"

static const char *const reject_names[HB_REJ_NREASONS] = {
	"ok", "short", "size", "magic", "version", "mac", "malformed", "eid",
	"replay", "stale"
};
static const char *const dbstate_names[] = {
	"unknown", "in-sync", "dirty", "alone"
};

const char *
heartbeat_reject_name(int reason)
{
	if (reason < 0 || reason >= HB_REJ_NREASONS)
		return "unknown";
	return reject_names[reason];
}

const char *
heartbeat_reject_words(int reason)
{
	switch (reason) {
	case HB_REJ_MAC: return "bad HMAC";
	case HB_REJ_VERSION: return "another heartbeat version";
	case HB_REJ_EID: return "another node's eid";
	case HB_REJ_REPLAY: return "replayed";
	case HB_REJ_STALE: return "not proven fresh";
	case HB_REJ_MALFORMED: return "malformed fields";
	case HB_REJ_SHORT: case HB_REJ_SIZE: return "wrong length";
	case HB_REJ_MAGIC: return "not a heartbeat";
	default: return "unknown";
	}
}

const char *
heartbeat_dbstate_name(int state)
{
	if (state < 0 || state > HB_DB_ALONE)
		return "unknown";
	return dbstate_names[state];
}

static int
hmac(const unsigned char key[HB_KEY_LEN], const unsigned char *data,
    size_t len, unsigned char tag[HB_TAG_LEN])
{
	size_t taglen = 0;

	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, HB_KEY_LEN,
	    data, len, tag, HB_TAG_LEN, &taglen) == NULL || taglen != HB_TAG_LEN)
		return -1;
	return 0;
}

int
heartbeat_derive_key(const char *secret, size_t secretlen,
    unsigned char key[HB_KEY_LEN], char *err, size_t errlen)
{
	if (secret == NULL || secretlen == 0) {
		snprintf(err, errlen, "highAvail.HMACKey is empty: set the "
		    "shared key of the HA group");
		return -1;
	}
	if (tlsctx_derive(secret, secretlen, HB_KEY_LABEL, key) != 0) {
		snprintf(err, errlen, "cannot derive the heartbeat key from "
		    "highAvail.HMACKey (HKDF failed)");
		return -1;
	}
	return 0;
}

/* ---- config checksum ---- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
cmp_key(const void *a, const void *b)
{
	const struct cfg_key *ka = *(const struct cfg_key *const *)a;
	const struct cfg_key *kb = *(const struct cfg_key *const *)b;

	return strcmp(ka->name, kb->name);
}

/* replicaAddrs as a set: canonical addresses, sorted, one blank apart.
 * Tokens that are not addresses are kept as written (the config check
 * reports them). Returns a malloc'ed string or NULL. */
static char *
norm_addr_list(const char *list)
{
	char *copy, *tok, *save = NULL, **v, *out;
	size_t n = 0, i, len = 1;

	if ((copy = strdup(list)) == NULL)
		return NULL;
	if ((v = calloc(strlen(list) / 2 + 1, sizeof(*v))) == NULL) {
		free(copy);
		return NULL;
	}
	for (tok = strtok_r(copy, " \t", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t", &save)) {
		char canon[INET6_ADDRSTRLEN];

		if (util_addr_canon(tok, canon, sizeof(canon)) == 0)
			v[n] = strdup(canon);
		else
			v[n] = strdup(tok);
		if (v[n] == NULL)
			goto fail;
		len += strlen(v[n]) + 1;
		n++;
	}
	qsort(v, n, sizeof(*v), cmp_str);
	if ((out = malloc(len)) == NULL)
		goto fail;
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			strcat(out, " ");
		strcat(out, v[i]);
		free(v[i]);
	}
	free(v);
	free(copy);
	return out;
fail:
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
	free(copy);
	return NULL;
}

/* Feed one length-prefixed string, so that no two key lists hash alike. */
static int
feed(EVP_MD_CTX *md, const char *s)
{
	unsigned char len[4];

	be32_put(len, (uint32_t)strlen(s));
	return EVP_DigestUpdate(md, len, 4) == 1 &&
	    EVP_DigestUpdate(md, s, strlen(s)) == 1 ? 0 : -1;
}

/* The normal form of one key's value into buf (or *heap for long ones). */
static int
norm_value(const struct cfg_key *k, const struct cfg_value *v, char *buf,
    size_t buflen, char **heap)
{
	unsigned char fp[TLSCTX_PSK_LEN];
	size_t i;

	*heap = NULL;
	if (v->str == NULL) {
		/* unset differs from every value, the empty string included */
		snprintf(buf, buflen, "unset");
		return 0;
	}
	switch (k->type) {
	case CFG_BOOL:
	case CFG_INT:
	case CFG_SIZE:
	case CFG_DURATION:
	case CFG_PORT:
		snprintf(buf, buflen, "=%lld", v->num);
		return 0;
	case CFG_ENUM:
		snprintf(buf, buflen, "=%s", k->enums[v->num]);
		return 0;
	case CFG_ADDR:
		buf[0] = '=';
		if (util_addr_canon(v->str, buf + 1, buflen - 1) == -1)
			snprintf(buf, buflen, "=%s", v->str);
		return 0;
	default:
		break;
	}
	if (strcmp(k->name, "highAvail.HMACKey") == 0) {
		if (v->str[0] == '\0') {
			snprintf(buf, buflen, "=");
			return 0;
		}
		if (tlsctx_derive(v->str, strlen(v->str), HB_CFGKEY_LABEL,
		    fp) != 0)
			return -1;
		buf[0] = '=';
		for (i = 0; i < sizeof(fp) && 2 * i + 3 <= buflen; i++)
			snprintf(buf + 1 + 2 * i, 3, "%02x", fp[i]);
		OPENSSL_cleanse(fp, sizeof(fp));
		return 0;
	}
	if (strcmp(k->name, "highAvail.replicaAddrs") == 0) {
		char *list = norm_addr_list(v->str);

		if (list == NULL)
			return -1;
		if (asprintf(heap, "=%s", list) == -1) {
			*heap = NULL;
			free(list);
			return -1;
		}
		free(list);
		return 0;
	}
	if (asprintf(heap, "=%s", v->str) == -1) {
		*heap = NULL;
		return -1;
	}
	return 0;
}

static int
hb_node_local(const char *name)
{
	static const char *const local[] = { "highAvail.myAddr",
	    "highAvail.varDir", "highAvail.tlsCAFile", "highAvail.tlsCertFile",
	    "highAvail.tlsKeyFile", "highAvail.guiSvrConfig",
	    "highAvail.guiSvrProgram", "highAvail.fileSyncProgram",
	    "highAvail.sshKeyFile",
	    "highAvail.knownHostsFile", "highAvail.syncHook",
	    "highAvail.mailTo", "highAvail.mailOnSuccess",
	    "highAvail.etcdCAFile", "highAvail.etcdCertFile",
	    "highAvail.etcdKeyFile", "highAvail.etcdSourceAddr", NULL };
	int i;

	for (i = 0; local[i]; i++)
		if (strcmp(name, local[i]) == 0)
			return 1;
	return 0;
}

int
heartbeat_cfg_checksum(const struct cfg *c, unsigned char sum[HB_SUM_LEN],
    char *err, size_t errlen)
{
	static const char prefix[] = "highAvail.";
	const struct cfg_key **keys;
	EVP_MD_CTX *md;
	char buf[128], *heap;
	unsigned int sumlen = 0;
	size_t i, j, n = 0;
	int rc = -1;

	if ((keys = calloc(c->nkeys + 1, sizeof(*keys))) == NULL ||
	    (md = EVP_MD_CTX_new()) == NULL) {
		free(keys);
		snprintf(err, errlen, "config checksum: out of memory");
		return -1;
	}
	for (i = 0; i < c->nkeys; i++) {
		const char *name = c->keys[i].name;

		/* myAddr differs on every node, and where a node keeps its own
		 * files (varDir, its TLS certificate and key) is its own
		 * business: the same group may install them in other places */
		if (strncmp(name, prefix, sizeof(prefix) - 1) != 0 ||
		    hb_node_local(name))
			continue;
		keys[n++] = &c->keys[i];
	}
	/* by name: the table's order is not part of the configuration */
	qsort(keys, n, sizeof(*keys), cmp_key);
	snprintf(err, errlen, "config checksum: SHA-256 failed");
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
	    feed(md, "hasvr config v1") == -1)
		goto out;
	for (i = 0; i < n; i++) {
		j = (size_t)(keys[i] - c->keys);
		if (norm_value(keys[i], &c->vals[j], buf, sizeof(buf),
		    &heap) == -1) {
			snprintf(err, errlen, "config checksum: cannot "
			    "normalise %s", keys[i]->name);
			goto out;
		}
		if (feed(md, keys[i]->name) == -1 ||
		    feed(md, heap != NULL ? heap : buf) == -1) {
			snprintf(err, errlen, "config checksum: SHA-256 failed");
			free(heap);
			goto out;
		}
		free(heap);
	}
	if (EVP_DigestFinal_ex(md, sum, &sumlen) != 1 || sumlen != HB_SUM_LEN)
		goto out;
	if (errlen > 0)
		err[0] = '\0';
	rc = 0;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	EVP_MD_CTX_free(md);
	free(keys);
	return rc;
}

/* ---- sender ---- */

int
heartbeat_sender_init(struct hb_sender *s, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	/* 0 means "none" in echoes, so it is never a boot id */
	while (s->boot_id == 0) {
		if (RAND_bytes((unsigned char *)&s->boot_id,
		    sizeof(s->boot_id)) != 1) {
			snprintf(err, errlen, "cannot pick a heartbeat boot "
			    "id: the OpenSSL random generator failed");
			return -1;
		}
	}
	return 0;
}

void
heartbeat_stamp(struct hb_sender *s, const struct hb_peer_state *peer,
    struct hb_msg *m)
{
	m->boot_id = s->boot_id;
	m->seq = ++s->seq;
	m->echo_boot_id = peer != NULL ? peer->seen_boot_id : 0;
	m->echo_seq = peer != NULL ? peer->seen_seq : 0;
}

/* ---- encode / decode ---- */

static int
build_ok(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

int
heartbeat_encode(const struct hb_msg *m, const unsigned char key[HB_KEY_LEN],
    unsigned char *out, size_t outlen)
{
	size_t blen = strnlen(m->build, sizeof(m->build));

	if (outlen < HB_LEN || blen > HB_BUILD_LEN ||
	    !build_ok(m->build, blen) || m->role > HA_ROLE_SECONDARY ||
	    m->dbstate > HB_DB_ALONE || (m->flags & ~HB_F_ALL) != 0 ||
	    m->eid == 0 || m->boot_id == 0 || m->seq == 0 ||
	    (m->echo_boot_id == 0) != (m->echo_seq == 0))
		return -1;
	memset(out, 0, HB_LEN);
	memcpy(out + OFF_MAGIC, HB_MAGIC, 4);
	out[OFF_VERSION] = HB_VERSION;
	out[OFF_ROLE] = m->role;
	out[OFF_DBSTATE] = m->dbstate;
	out[OFF_INSYNC] = m->insync_set;
	be32_put(out + OFF_FLAGS, m->flags);
	be32_put(out + OFF_EID, m->eid);
	be64_put(out + OFF_EPOCH, m->epoch);
	be64_put(out + OFF_BOOT, m->boot_id);
	be64_put(out + OFF_SEQ, m->seq);
	be64_put(out + OFF_ECHOBOOT, m->echo_boot_id);
	be64_put(out + OFF_ECHOSEQ, m->echo_seq);
	be32_put(out + OFF_DBGEN, m->db_gen);
	be32_put(out + OFF_LSNFILE, m->lsn_file);
	be32_put(out + OFF_LSNOFF, m->lsn_offset);
	be32_put(out + OFF_HANDOFF, m->handoff_eid);
	be32_put(out + OFF_VOTE, m->vote_eid);
	be32_put(out + OFF_VOTEROUND, m->vote_round);
	memcpy(out + OFF_SUM, m->cfg_sum, HB_SUM_LEN);
	memcpy(out + OFF_BUILD, m->build, blen);
	if (hmac(key, out, OFF_TAG, out + OFF_TAG) == -1)
		return -1;
	return HB_LEN;
}

static int
reject(int reason, char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
reject(int reason, char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return reason;
}

int
heartbeat_decode(const void *pkt, size_t len, const unsigned char key[HB_KEY_LEN],
    struct hb_msg *out, char *why, size_t whylen)
{
	const unsigned char *p = pkt;
	unsigned char tag[HB_TAG_LEN];
	struct hb_msg m;
	size_t blen, i;

	if (len > HB_MAX_LEN)
		return reject(HB_REJ_SIZE, why, whylen, "%zu bytes, more than "
		    "any heartbeat (%d)", len, HB_MAX_LEN);
	if (len < OFF_VERSION + 1)
		return reject(HB_REJ_SHORT, why, whylen, "%zu bytes, too "
		    "short for a heartbeat header", len);
	if (memcmp(p + OFF_MAGIC, HB_MAGIC, 4) != 0)
		return reject(HB_REJ_MAGIC, why, whylen, "not a heartbeat "
		    "(bad magic)");
	/* the version only picks the layout; it is authenticated with the
	 * rest below */
	if (p[OFF_VERSION] != HB_VERSION)
		return reject(HB_REJ_VERSION, why, whylen, "heartbeat version "
		    "%u, this build speaks %d (run the same hasvr build on "
		    "every node)", p[OFF_VERSION], HB_VERSION);
	if (len < HB_LEN)
		return reject(HB_REJ_SHORT, why, whylen, "%zu bytes, a "
		    "version %d heartbeat has %d (truncated)", len, HB_VERSION,
		    HB_LEN);
	if (len > HB_LEN)
		return reject(HB_REJ_SIZE, why, whylen, "%zu bytes, a "
		    "version %d heartbeat has %d", len, HB_VERSION, HB_LEN);
	if (hmac(key, p, OFF_TAG, tag) == -1)
		return reject(HB_REJ_MAC, why, whylen, "cannot compute the "
		    "HMAC (OpenSSL failed)");
	if (CRYPTO_memcmp(tag, p + OFF_TAG, HB_TAG_LEN) != 0)
		return reject(HB_REJ_MAC, why, whylen, "bad HMAC (forged, "
		    "corrupted, or the peer has another highAvail.HMACKey)");

	/* authentic from here on; the sender may still be a buggy build */
	memset(&m, 0, sizeof(m));
	m.version = p[OFF_VERSION];
	m.role = p[OFF_ROLE];
	m.dbstate = p[OFF_DBSTATE];
	m.insync_set = p[OFF_INSYNC];
	m.flags = be32_get(p + OFF_FLAGS);
	m.eid = be32_get(p + OFF_EID);
	m.epoch = be64_get(p + OFF_EPOCH);
	m.boot_id = be64_get(p + OFF_BOOT);
	m.seq = be64_get(p + OFF_SEQ);
	m.echo_boot_id = be64_get(p + OFF_ECHOBOOT);
	m.echo_seq = be64_get(p + OFF_ECHOSEQ);
	m.db_gen = be32_get(p + OFF_DBGEN);
	m.lsn_file = be32_get(p + OFF_LSNFILE);
	m.lsn_offset = be32_get(p + OFF_LSNOFF);
	m.handoff_eid = be32_get(p + OFF_HANDOFF);
	m.vote_eid = be32_get(p + OFF_VOTE);
	m.vote_round = be32_get(p + OFF_VOTEROUND);
	memcpy(m.cfg_sum, p + OFF_SUM, HB_SUM_LEN);
	if (m.role > HA_ROLE_SECONDARY)
		return reject(HB_REJ_MALFORMED, why, whylen, "unknown role %u",
		    m.role);
	if (m.dbstate > HB_DB_ALONE)
		return reject(HB_REJ_MALFORMED, why, whylen, "unknown database "
		    "state %u", m.dbstate);
	if ((m.flags & ~HB_F_ALL) != 0)
		return reject(HB_REJ_MALFORMED, why, whylen, "unknown flags "
		    "0x%x", m.flags & ~HB_F_ALL);
	if (m.eid == 0 || m.boot_id == 0 || m.seq == 0)
		return reject(HB_REJ_MALFORMED, why, whylen, "zero eid, boot "
		    "id or sequence number");
	if ((m.echo_boot_id == 0) != (m.echo_seq == 0))
		return reject(HB_REJ_MALFORMED, why, whylen, "echo boot id and "
		    "sequence number disagree");
	blen = strnlen((const char *)p + OFF_BUILD, HB_BUILD_LEN);
	for (i = blen; i < HB_BUILD_LEN; i++)
		if (p[OFF_BUILD + i] != 0)
			return reject(HB_REJ_MALFORMED, why, whylen, "build "
			    "string is not NUL-padded");
	if (!build_ok((const char *)p + OFF_BUILD, blen))
		return reject(HB_REJ_MALFORMED, why, whylen, "build string is "
		    "not printable");
	memcpy(m.build, p + OFF_BUILD, blen);
	m.build[blen] = '\0';
	*out = m;
	if (whylen > 0)
		why[0] = '\0';
	return HB_OK;
}

/* ---- replay and freshness ---- */

void
heartbeat_peer_init(struct hb_peer_state *p, uint32_t expected_eid,
    const struct hb_sender *self)
{
	memset(p, 0, sizeof(*p));
	p->eid = expected_eid;
	p->self = self;
}

static int
old_boot(const struct hb_peer_state *p, uint64_t boot)
{
	int i;

	for (i = 0; i < p->nold; i++)
		if (p->old_boots[i] == boot)
			return 1;
	return 0;
}

static void
remember_boot(struct hb_peer_state *p, uint64_t boot)
{
	p->old_boots[p->oldpos] = boot;
	p->oldpos = (p->oldpos + 1) % HB_OLD_BOOTS;
	if (p->nold < HB_OLD_BOOTS)
		p->nold++;
}

int
heartbeat_accept(struct hb_peer_state *p, const struct hb_msg *m,
    uint64_t now_ms, char *why, size_t whylen)
{
	int ours;

	if (m->eid != p->eid)
		return reject(HB_REJ_EID, why, whylen, "sender eid %" PRIu32
		    ", the node at this address is eid %" PRIu32 " (check "
		    "the node addresses in haSvr.cfg on both nodes)", m->eid,
		    p->eid);
	if (old_boot(p, m->boot_id))
		return reject(HB_REJ_REPLAY, why, whylen, "boot id %016" PRIx64
		    " was replaced by a newer one (replayed packet)",
		    m->boot_id);
	if (p->have && m->boot_id == p->boot_id) {
		if (m->seq <= p->seq)
			return reject(HB_REJ_REPLAY, why, whylen, "sequence "
			    "%" PRIu64 " not above %" PRIu64 " (replayed or "
			    "reordered packet)", m->seq, p->seq);
		goto take;
	}

	/* A boot id we have not accepted yet. Echo it back whatever
	 * happens, so that a restarted peer can prove itself fresh one
	 * round trip later; a replay of a packet already seen from this
	 * boot does not move the echo back. */
	if (m->boot_id != p->seen_boot_id || m->seq > p->seen_seq) {
		p->seen_boot_id = m->boot_id;
		p->seen_seq = m->seq;
	}
	ours = p->self != NULL && m->echo_boot_id == p->self->boot_id;
	if (!ours)
		return reject(HB_REJ_STALE, why, whylen, "new boot id %016"
		    PRIx64 " does not echo this node's boot yet (normal for "
		    "one round trip after a restart; if it lasts, a replay)",
		    m->boot_id);
	if (m->echo_seq <= p->echo_max || m->echo_seq > p->self->seq)
		return reject(HB_REJ_STALE, why, whylen, "new boot id %016"
		    PRIx64 " echoes sequence %" PRIu64 ", not between %"
		    PRIu64 " and %" PRIu64 " (replayed packet)", m->boot_id,
		    m->echo_seq, p->echo_max + 1, p->self->seq);
	if (p->have)
		remember_boot(p, p->boot_id);
	p->have = 1;
	p->boot_id = m->boot_id;
take:
	p->seq = m->seq;
	p->last_ms = now_ms;
	p->seen_boot_id = m->boot_id;
	p->seen_seq = m->seq;
	if (p->self != NULL && m->echo_boot_id == p->self->boot_id &&
	    m->echo_seq > p->echo_max)
		p->echo_max = m->echo_seq;
	if (whylen > 0)
		why[0] = '\0';
	return HB_OK;
}

void
heartbeat_count(struct hb_counters *c, int reason)
{
	c->received++;
	switch (reason) {
	case HB_OK:
		c->accepted++;
		break;
	case HB_REJ_MAC:
		c->rejected_mac++;
		break;
	case HB_REJ_EID:
		c->rejected_eid++;
		break;
	case HB_REJ_REPLAY:
		c->rejected_replay++;
		break;
	case HB_REJ_STALE:
		c->rejected_stale++;
		break;
	default:
		c->rejected_malformed++;
		break;
	}
}

/* ---- rate-limited logging ---- */

int
heartbeat_reject_line(struct hb_ratelimit *rl, const char *from_addr,
    int reason, const char *why, uint64_t now_ms, char *line, size_t linelen)
{
	char more[64] = "";

	if (reason < 0 || reason >= HB_REJ_NREASONS)
		reason = HB_REJ_MALFORMED;
	if (rl->logged[reason] && now_ms - rl->last_ms[reason] < HB_LOG_EVERY_MS) {
		rl->suppressed[reason]++;
		return 0;
	}
	if (rl->suppressed[reason] > 0)
		snprintf(more, sizeof(more), " (%" PRIu64 " more suppressed)",
		    rl->suppressed[reason]);
	snprintf(line, linelen, "heartbeat from %s rejected: %s%s", from_addr,
	    why != NULL && why[0] != '\0' ? why : heartbeat_reject_name(reason),
	    more);
	rl->logged[reason] = 1;
	rl->last_ms[reason] = now_ms;
	rl->suppressed[reason] = 0;
	return 1;
}

int
heartbeat_log_reject(struct hb_ratelimit *rl, const char *from_addr,
    int reason, const char *why, uint64_t now_ms)
{
	char line[HASVR_ERRLEN + 128];

	if (!heartbeat_reject_line(rl, from_addr, reason, why, now_ms, line,
	    sizeof(line)))
		return 0;
	log_warnx("%s", line);
	return 1;
}

/* ---- UDP ---- */

static int
sockaddr_fill(const char *addr, int port, struct sockaddr_storage *ss,
    socklen_t *sslen)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (port < 1 || port > 65535)
		return -1;
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*sslen = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*sslen = sizeof(*sin6);
		return 0;
	}
	return -1;
}

int
heartbeat_socket_open(const char *addr, int port, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int fd, on = 1;

	if (sockaddr_fill(addr, port, &ss, &sslen) == -1) {
		snprintf(err, errlen, "heartbeat socket: '%s' port %d is not a "
		    "numeric address and port", addr, port);
		return -1;
	}
	if ((fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "heartbeat socket: %s", strerror(errno));
		return -1;
	}
	/* an IPv6 socket hears only IPv6: peers are named by one family */
	if (ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1) {
		snprintf(err, errlen, "heartbeat socket: IPV6_V6ONLY: %s",
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&ss, sslen) == -1) {
		snprintf(err, errlen, "heartbeat socket: cannot bind %s port "
		    "%d (highAvail.myAddr, highAvail.heartbeatPort): %s", addr,
		    port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int
heartbeat_send(int fd, const char *to_addr, int port, const void *pkt,
    size_t len, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	ssize_t n;

	if (sockaddr_fill(to_addr, port, &ss, &sslen) == -1) {
		snprintf(err, errlen, "heartbeat to '%s' port %d: not a numeric "
		    "address and port", to_addr, port);
		return -1;
	}
	do
		n = sendto(fd, pkt, len, 0, (struct sockaddr *)&ss, sslen);
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		snprintf(err, errlen, "heartbeat to %s port %d: %s", to_addr,
		    port, strerror(errno));
		return -1;
	}
	if ((size_t)n != len) {
		snprintf(err, errlen, "heartbeat to %s port %d: sent %zd of "
		    "%zu bytes", to_addr, port, n, len);
		return -1;
	}
	return 0;
}

long
heartbeat_recv(int fd, void *buf, size_t buflen, char *from, size_t fromlen,
    int *from_port)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	ssize_t n;

	/* a datagram longer than buf is then longer than any heartbeat,
	 * and heartbeat_decode rejects it by its length alone */
	if (buflen <= HB_MAX_LEN) {
		errno = EINVAL;
		return -1;
	}
	do {
		sslen = sizeof(ss);
		/* MSG_TRUNC: the real length, so oversize is seen as such */
		n = recvfrom(fd, buf, buflen, MSG_TRUNC,
		    (struct sockaddr *)&ss, &sslen);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	if (fromlen > 0)
		from[0] = '\0';
	*from_port = 0;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &sin->sin_addr, from, fromlen);
		*from_port = ntohs(sin->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, from, fromlen);
		*from_port = ntohs(sin6->sin6_port);
	}
	return (long)n;
}
