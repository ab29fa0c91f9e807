/* mkcorpus.c — writes the seed corpora of the fuzz harnesses with hasvr's
 * own encoders (heartbeat_encode, rt_frame_hello and rt_frame_msg_head,
 * the client's request builders, record_encode and record_write_text,
 * hactl_encode_request, halink_encode_request, cfg_write_sample), and the
 * dictionaries of the config harnesses from the key tables, so that the
 * fuzzer starts from what the daemons really send and read.
 *
 *   mkcorpus DIR     writes DIR/corpus/NAME/SEED and DIR/dict/NAME.dict
 *
 * The output is the same on every run: tests/fuzz/corpus and
 * tests/fuzz/dict are this program's output, and replay_all.sh checks
 * that they still are (make fuzz-corpus rewrites them). Every seed is made
 * by hasvr's own encoders but hastatus's: hasvr writes its status from a
 * running daemon, so those are written here in the documented format. */
#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "guicfg.h"
#include "hacfg.h"
#include "hactl.h"
#include "halink.h"
#include "heartbeat.h"
#include "hlstate.h"
#include "proto.h"
#include "util.h"
#include "record.h"
#include "reptransport.h"
#include "xdbclient.h"

static const char *outdir;

static void dict(const char *, const char *, const char *const *);

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "mkcorpus: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static void
mkdir_p(const char *path)
{
	char tmp[4096], *p;

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) == -1 && errno != EEXIST)
			die("mkdir %s: %s", tmp, strerror(errno));
		*p = '/';
	}
	if (mkdir(tmp, 0755) == -1 && errno != EEXIST)
		die("mkdir %s: %s", tmp, strerror(errno));
}

static void
put_file(const char *dir, const char *name, const void *p, size_t n)
{
	char path[4096];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", outdir, dir);
	mkdir_p(path);
	snprintf(path, sizeof(path), "%s/%s/%s", outdir, dir, name);
	if ((fp = fopen(path, "wb")) == NULL)
		die("%s: %s", path, strerror(errno));
	if ((n > 0 && fwrite(p, 1, n, fp) != n) || fclose(fp) != 0)
		die("%s: write failed", path);
}

static void
seed(const char *harness, const char *name, const struct buf *b)
{
	char dir[256];

	if (b->oom)
		die("%s/%s: out of memory", harness, name);
	snprintf(dir, sizeof(dir), "corpus/%s", harness);
	put_file(dir, name, b->p, b->len);
}

static void
seed_text(const char *harness, const char *name, const char *text)
{
	char dir[256];

	snprintf(dir, sizeof(dir), "corpus/%s", harness);
	put_file(dir, name, text, strlen(text));
}

/* ---- heartbeat ---------------------------------------------------------- */

static unsigned char hbkey[HB_KEY_LEN];

static struct hb_msg
hb_msg(uint64_t boot, uint64_t seq, uint64_t echo_seq)
{
	struct hb_msg m;

	memset(&m, 0, sizeof(m));
	m.role = HA_ROLE_PRIMARY;
	m.dbstate = HB_DB_INSYNC;
	m.flags = HB_F_HASYNC | HB_F_DBSYNC | HB_F_STARTUP | HB_F_PINGABLE |
	    HB_F_SVRUP;
	m.eid = FUZZ_HB_PEER_EID;
	m.epoch = 7;
	m.boot_id = boot;
	m.seq = seq;
	m.echo_boot_id = echo_seq ? FUZZ_HB_SELF_BOOT : 0;
	m.echo_seq = echo_seq;
	m.db_gen = 3;
	m.lsn_file = 1;
	m.lsn_offset = 28832;
	m.vote_eid = FUZZ_HB_PEER_EID;
	m.vote_round = 2;
	memset(m.cfg_sum, 0x5c, sizeof(m.cfg_sum));
	snprintf(m.build, sizeof(m.build), "hasvr 0.1.0 fuzz seed");
	return m;
}

/* One input record of fuzz_heartbeat: control, length, datagram. */
static void
hb_put(struct buf *b, int ctl, const struct hb_msg *m)
{
	unsigned char pkt[HB_LEN];

	if (heartbeat_encode(m, hbkey, pkt, sizeof(pkt)) != HB_LEN)
		die("heartbeat_encode refused a seed");
	buf_put_u8(b, (uint8_t)ctl);
	buf_put_u16(b, HB_LEN);
	buf_put(b, pkt, HB_LEN);
}

static void
hb_put_raw(struct buf *b, int ctl, const void *p, size_t n)
{
	buf_put_u8(b, (uint8_t)ctl);
	buf_put_u16(b, (uint16_t)n);
	buf_put(b, p, n);
}

static int
sends(int n)
{
	return (n & 0x0f) << 2;
}

static void
corpus_heartbeat(void)
{
	const uint64_t b1 = 0x1111222233334444ULL, b2 = 0x5555666677778888ULL;
	unsigned char pkt[HB_LEN];
	struct hb_msg m;
	struct buf b;
	char err[256];

	if (heartbeat_derive_key(FUZZ_HB_SECRET, strlen(FUZZ_HB_SECRET), hbkey,
	    err, sizeof(err)) != 0)
		die("%s", err);
	buf_init(&b);

	/* a peer's first heartbeat, echoing the one we sent: accepted */
	m = hb_msg(b1, 1, 1);
	hb_put(&b, sends(1), &m);
	seed("heartbeat", "first", &b);

	/* a steady peer, a replayed packet, a late one */
	m = hb_msg(b1, 2, 2);
	hb_put(&b, sends(1), &m);
	m = hb_msg(b1, 2, 2);
	hb_put(&b, 0, &m);
	m = hb_msg(b1, 3, 3);
	m.role = HA_ROLE_SECONDARY;
	m.dbstate = HB_DB_DIRTY;
	hb_put(&b, sends(1) | FUZZ_HB_LATE, &m);
	seed("heartbeat", "steady_replay", &b);

	/* the peer restarts: a new boot proven by a new echo, then a packet
	 * of the old boot (a replay) */
	m = hb_msg(b2, 1, 5);
	m.role = HA_ROLE_STARTING;
	m.dbstate = HB_DB_UNKNOWN;
	m.flags = HB_F_SVRUP;
	hb_put(&b, sends(2), &m);
	m = hb_msg(b1, 9, 4);
	hb_put(&b, 0, &m);
	seed("heartbeat", "restart", &b);

	/* a new boot without our echo (stale), then another node's eid */
	buf_reset(&b);
	m = hb_msg(b2, 1, 0);
	hb_put(&b, sends(1), &m);
	m = hb_msg(b1, 1, 1);
	m.eid = 3;
	hb_put(&b, 0, &m);
	seed("heartbeat", "stale_eid", &b);

	/* a switchover handoff, a vote, alone */
	buf_reset(&b);
	m = hb_msg(b1, 1, 1);
	m.handoff_eid = 1;
	m.vote_eid = 1;
	m.vote_round = 9;
	m.dbstate = HB_DB_ALONE;
	m.build[0] = '\0';
	hb_put(&b, sends(1), &m);
	seed("heartbeat", "handoff", &b);

	/* what the harness re-signs: fields that only a buggy build sends */
	buf_reset(&b);
	m = hb_msg(b1, 1, 1);
	heartbeat_encode(&m, hbkey, pkt, sizeof(pkt));
	pkt[7] = 1;                     /* reserved byte */
	hb_put_raw(&b, FUZZ_HB_SIGN | sends(1), pkt, sizeof(pkt));
	pkt[7] = 0;
	pkt[5] = 3;                     /* role */
	hb_put_raw(&b, FUZZ_HB_SIGN, pkt, sizeof(pkt));
	pkt[5] = 1;
	pkt[112 + 3] = 0;               /* build not NUL-padded */
	hb_put_raw(&b, FUZZ_HB_SIGN, pkt, sizeof(pkt));
	seed("heartbeat", "resign", &b);

	/* forged, truncated, too long, not a heartbeat, another version */
	buf_reset(&b);
	heartbeat_encode(&m, hbkey, pkt, sizeof(pkt));
	pkt[40] ^= 1;
	hb_put_raw(&b, 0, pkt, sizeof(pkt));
	hb_put_raw(&b, 0, pkt, 100);
	hb_put_raw(&b, 0, pkt, 3);
	pkt[0] = 'X';
	hb_put_raw(&b, 0, pkt, sizeof(pkt));
	pkt[0] = 'H';
	pkt[4] = 1;
	hb_put_raw(&b, 0, pkt, sizeof(pkt));
	seed("heartbeat", "rejects", &b);
	buf_free(&b);
}

/* ---- replication frames ----------------------------------------------- */

static void
rt_hello(struct buf *b, uint32_t eid, uint32_t version, const char *build)
{
	unsigned char h[RT_LEN_WORD + RT_HELLO_HDR + RT_BUILD_MAX];
	size_t n;

	if ((n = rt_frame_hello(h, sizeof(h), eid, version, build,
	    strlen(build))) == 0)
		die("rt_frame_hello refused a seed");
	buf_put(b, h, n);
}

static void
rt_put(struct buf *b, uint8_t type, const char *ctrl, const char *rec,
    uint32_t file, uint32_t offset, uint32_t flags)
{
	unsigned char h[RT_LEN_WORD + RT_MSG_HDR];
	struct rt_msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.ctrl = ctrl;
	m.ctrl_len = ctrl ? (uint32_t)strlen(ctrl) : 0;
	m.rec = rec;
	m.rec_len = rec ? (uint32_t)strlen(rec) : 0;
	m.lsn.file = file;
	m.lsn.offset = offset;
	m.flags = flags;
	buf_put(b, h, rt_frame_msg_head(&m, h));
	if (type == RT_MSG) {
		buf_put(b, ctrl, m.ctrl_len);
		buf_put(b, rec, m.rec_len);
	}
}

static void
rt_ping(struct buf *b)
{
	buf_put_u32(b, 1);
	buf_put_u8(b, RT_PING);
}

static void
corpus_repframe(void)
{
	struct buf b;

	buf_init(&b);
	rt_hello(&b, 1, RT_VERSION, "hasvr 0.1.0 fuzz seed");
	seed("repframe", "hello", &b);
	rt_put(&b, RT_MSG, "ctrl-bytes", "a log record", 1, 28832, 0x2);
	rt_put(&b, RT_ACK, NULL, NULL, 1, 28832, 0);
	rt_ping(&b);
	rt_put(&b, RT_MSG, NULL, NULL, 2, 0, 0);
	rt_put(&b, RT_MSG, "only ctrl", NULL, 2, 64, 1);
	seed("repframe", "session", &b);

	buf_reset(&b);
	rt_put(&b, RT_MSG, "before hello", "x", 1, 1, 0);
	seed("repframe", "msg_before_hello", &b);

	buf_reset(&b);
	rt_hello(&b, 2, RT_VERSION, "");
	rt_hello(&b, 2, RT_VERSION, "again");
	seed("repframe", "second_hello", &b);

	buf_reset(&b);
	rt_hello(&b, 3, 99, "another version");
	rt_ping(&b);
	buf_put_u32(&b, 2);             /* unknown type */
	buf_put_u8(&b, 9);
	buf_put_u8(&b, 0);
	seed("repframe", "unknown_type", &b);

	buf_reset(&b);
	rt_hello(&b, 1, RT_VERSION, "b");
	buf_put_u32(&b, 0);             /* empty frame */
	seed("repframe", "empty_frame", &b);

	buf_reset(&b);
	rt_hello(&b, 1, RT_VERSION, "b");
	buf_put_u32(&b, 0xfffffff0u);   /* over the limit */
	buf_put_u8(&b, RT_MSG);
	seed("repframe", "too_long", &b);
	buf_free(&b);
}

/* ---- client protocol -------------------------------------------------- */

static struct record
rec_make(const char *id, int n)
{
	static const char *const values[] = {
		"peerGuiSvr", "netscreen", "", "with (parens) and a ) inside",
		"tab\there, newline\nthere, back\\slash", "\x01\x7f\xff bytes",
		"10.0.0.1/24",
	};
	struct record r;
	char name[32];
	int i;

	record_init(&r);
	record_set_id(&r, id, strlen(id));
	for (i = 0; i < n; i++) {
		const char *v = values[i % 7];

		if (i == 0)
			snprintf(name, sizeof(name), "type");
		else
			snprintf(name, sizeof(name), "attr_%d.x-%d", i, i);
		record_set(&r, name, strlen(name), v, strlen(v));
	}
	return r;
}

static void
req_id(struct buf *b, uint16_t type, uint16_t flags, uint32_t seq,
    const char *id)
{
	struct buf one;

	buf_init(&one);
	proto_begin(&one, type, flags, seq);
	buf_put_str16(&one, id, strlen(id));
	if (type == XM_LIST)
		buf_put_u32(&one, 100);
	proto_finish(&one);
	buf_put(b, one.p, one.len);
	buf_free(&one);
}

static void
req_record(struct buf *b, uint16_t type, uint32_t seq, const struct record *r)
{
	struct buf one;

	buf_init(&one);
	proto_begin(&one, type, 0, seq);
	record_encode(r, &one);
	proto_finish(&one);
	buf_put(b, one.p, one.len);
	buf_free(&one);
}

static void
req_batch(struct buf *b, uint32_t seq, const struct xdbc_batch *bt)
{
	struct buf one;

	buf_init(&one);
	proto_begin(&one, XM_BATCH, 0, seq);
	buf_put_u32(&one, bt->n);
	buf_put(&one, bt->b.p, bt->b.len);
	proto_finish(&one);
	buf_put(b, one.p, one.len);
	buf_free(&one);
}

static void
corpus_proto(void)
{
	struct record r1 = rec_make("0.shadow_server.2", 3);
	struct record r2 = rec_make("4294967295.zone-1.a:b.c", 7);
	struct record r3 = rec_make("12.policy.9", 0);
	struct xdbc_batch bt;
	struct buf b, all;

	buf_init(&b);
	buf_init(&all);
#define ONE(name, stmt) do { buf_reset(&b); stmt; seed("proto", name, &b); \
	buf_put(&all, b.p, b.len); } while (0)
	ONE("get", req_id(&b, XM_GET, 0, 1, "0.shadow_server.2"));
	ONE("del", req_id(&b, XM_DEL, 0, 2, "12.policy.9"));
	ONE("list", req_id(&b, XM_LIST, 0, 3, "0.shadow_server."));
	ONE("list_ids", req_id(&b, XM_LIST, XF_IDS_ONLY, 4, "0."));
	ONE("count", req_id(&b, XM_COUNT, 0, 5, ""));
	ONE("put", req_record(&b, XM_PUT, 6, &r1));
	ONE("set", req_record(&b, XM_SET, 7, &r2));
	ONE("unset", req_record(&b, XM_UNSET, 8, &r3));
	xdbc_batch_init(&bt);
	xdbc_batch_add(&bt, REC_OP_PUT, &r1);
	xdbc_batch_add(&bt, REC_OP_SET, &r2);
	xdbc_batch_add(&bt, REC_OP_UNSET, &r1);
	xdbc_batch_add(&bt, REC_OP_DEL, &r3);
	ONE("batch", req_batch(&b, 9, &bt));
	xdbc_batch_free(&bt);
	ONE("status", (proto_begin(&b, XM_STATUS, 0, 10), proto_finish(&b)));
	ONE("unknown", (proto_begin(&b, 999, 0, 11), proto_finish(&b)));
	ONE("bad_id", req_id(&b, XM_GET, 0, 12, "0.bad id!.1"));
#undef ONE
	seed("proto", "session", &all);
	buf_free(&all);
	buf_free(&b);
	record_free(&r1);
	record_free(&r2);
	record_free(&r3);
}

/* ---- records: binary and text ----------------------------------------- */

static void
corpus_record(void)
{
	static const char *const ids[] = {
		"0.shadow_server.2", "0.", "4294967295.a_b-c.x.y:z", "01.a.b",
		"0.shadow_server", "0.c.",
	};
	struct record r;
	struct buf b;
	char name[32];
	size_t i;

	buf_init(&b);
	for (i = 0; i < 4; i++) {
		r = rec_make("0.shadow_server.2", (int)i * 3);
		buf_reset(&b);
		record_encode_attrs(&r, &b);
		snprintf(name, sizeof(name), "value_%zu", i);
		seed("record", name, &b);
		buf_reset(&b);
		record_encode(&r, &b);
		snprintf(name, sizeof(name), "wire_%zu", i);
		seed("record", name, &b);
		record_free(&r);
	}
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		snprintf(name, sizeof(name), "id_%zu", i);
		seed_text("record", name, ids[i]);
	}
	buf_free(&b);
}

static void
corpus_xdbload(void)
{
	char *text = NULL;
	struct record r;
	size_t len = 0;
	FILE *fp;
	int i;

	/* what xdb dump writes */
	if ((fp = open_memstream(&text, &len)) == NULL)
		die("open_memstream: %s", strerror(errno));
	fprintf(fp, "# a dump of three records\n\n");
	for (i = 0; i < 3; i++) {
		r = rec_make(i == 0 ? "0.shadow_server.2" : i == 1 ?
		    "3.address.host-1" : "3.zone.trust", i * 4 + 1);
		record_write_text(&r, fp);
		record_free(&r);
	}
	fclose(fp);
	seed_text("xdbload", "dump", text);
	free(text);

	seed_text("xdbload", "crlf_comments",
	    "# written on another system\r\n"
	    "0.admin.root\r\n"
	    ":type (admin)\r\n"
	    ":password (\\x00\\x01secret\\\\)\r\n"
	    "\r\n"
	    "\t \n"
	    "0.admin.op  \n"
	    ":role\t(operator)  \n");
	seed_text("xdbload", "bad_escape",
	    "0.a.b\n:x (ok)\n:y (bad \\q escape)\n\n");
	seed_text("xdbload", "attr_first", ":x (no record)\n");
}

/* ---- control socket and ha-link ---------------------------------------- */

static void
corpus_hactl(void)
{
	static const struct hc_req reqs[] = {
		{ .type = HC_STATUS, .seq = 1 },
		{ .type = HC_SWITCHOVER, .seq = 2, .target_eid = 2 },
		{ .type = HC_PROMOTE, .seq = 3, .force = 1 },
		{ .type = HC_RESYNC, .seq = 4 },
		{ .type = HC_SYNC, .seq = 5, .what = HC_SYNC_DB, .enable = 1 },
		{ .type = HC_FILESYNC, .seq = 6 },
		{ .type = 999, .seq = 7 },
	};
	static const char *const names[] = {
		"status", "switchover", "promote", "resync", "sync", "filesync",
		"unknown",
	};
	struct buf b, all;
	size_t i;

	buf_init(&b);
	buf_init(&all);
	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		hactl_encode_request(&b, &reqs[i]);
		seed("hactl", names[i], &b);
		buf_put(&all, b.p, b.len);
	}
	seed("hactl", "session", &all);
	buf_free(&all);
	buf_free(&b);
}

static void
corpus_halink(void)
{
	static const struct hl_req reqs[] = {
		{ .type = HL_ROLE, .seq = 1, .role = HA_ROLE_PRIMARY, .epoch = 3 },
		{ .type = HL_ROLE, .seq = 2, .role = HA_ROLE_SECONDARY,
		    .epoch = 4, .primary = 2 },
		{ .type = HL_ROLE, .seq = 3, .role = HA_ROLE_SECONDARY,
		    .epoch = 4, .primary = HA_PRIMARY_ANY },
		{ .type = HL_STATE, .seq = 4 },
		{ .type = HL_SUBSCRIBE, .seq = 5 },
		{ .type = HL_SYNC, .seq = 6, .enable = 1 },
		{ .type = HL_LEASE, .seq = 7, .lease_ms = 4000 },
		{ .type = HL_SYNCSET, .seq = 8, .syncset = 0x06 },
		{ .type = 299, .seq = 9 },
	};
	static const char *const names[] = {
		"role_primary", "role_secondary", "role_any", "state",
		"subscribe", "sync", "lease", "syncset", "unknown",
	};
	struct buf b, all;
	size_t i;

	buf_init(&b);
	buf_init(&all);
	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		halink_encode_request(&b, &reqs[i]);
		seed("halink", names[i], &b);
		buf_put(&all, b.p, b.len);
	}
	seed("halink", "session", &all);
	buf_free(&all);
	buf_free(&b);
}

static void
corpus_linkstate(void)
{
	struct hl_state st;
	struct buf b;

	buf_init(&b);
	memset(&st, 0, sizeof(st));
	st.role = HA_ROLE_PRIMARY;
	st.epoch = 7;
	st.gen = 3;
	st.lsn = (struct hl_lsn){ 1, 28832 };
	st.startup_done = 1;
	st.durability = HL_DUR_SYNC;
	st.dbstate = HL_DB_INSYNC;
	st.sync_on = 1;
	st.lease_on = 1;
	st.lease_left_ms = 3200;
	st.syncset_on = 1;
	st.syncset = 0x02;
	st.npeers = 2;
	st.peers[0] = (struct hl_peer){ .eid = 2, .addr = "192.168.10.2",
	    .up = 1, .insync = 1, .lsn = { 1, 28832 }, .acked = { 1, 28832 } };
	st.peers[1] = (struct hl_peer){ .eid = 3, .addr = "192.168.10.3",
	    .lsn = { 1, 100 }, .acked = { 1, 100 }, .behind_bytes = 28732,
	    .behind_commits = 12, .auth_failed = 1, .auth_age_ms = 4200,
	    .auth_why = "tlsv1 alert decrypt error" };
	hl_state_encode(&b, &st);
	seed("linkstate", "primary", &b);

	buf_reset(&b);
	memset(&st, 0, sizeof(st));
	st.role = HA_ROLE_SECONDARY;
	st.epoch = 7;
	st.gen = 3;
	st.lsn = (struct hl_lsn){ 1, 20000 };
	st.durability = HL_DUR_ASYNC;
	st.dbstate = HL_DB_DIRTY;
	st.follow = 1;
	st.fault = 1;
	st.fault_first_age_ms = 1500;
	st.fault_last_age_ms = 20;
	util_strlcpy(st.fault_why, "No space left on device",
	    sizeof(st.fault_why));
	st.npeers = 1;
	st.peers[0] = (struct hl_peer){ .eid = 1, .addr = "192.168.10.1",
	    .up = 1, .lsn = { 1, 28832 }, .acked = { 1, 20000 },
	    .behind_bytes = 8832 };
	hl_state_encode(&b, &st);
	seed("linkstate", "secondary", &b);

	buf_reset(&b);
	memset(&st, 0, sizeof(st));
	st.role = HA_ROLE_STANDALONE;
	hl_state_encode(&b, &st);
	seed("linkstate", "standalone", &b);

	buf_reset(&b);
	memset(&st, 0, sizeof(st));
	st.durability = HL_DUR_STRICT;
	st.dbstate = HL_DB_ALONE;
	st.sync_on = 1;
	st.follow = HA_PRIMARY_ANY;
	st.foreign = 3;
	hl_state_encode(&b, &st);
	seed("linkstate", "none", &b);
	buf_free(&b);
}

/* hasvr writes its status from a running daemon (hasvr/status.c), so these are
 * written here in the format hactl.h documents. */
static void
corpus_hastatus(void)
{
	static const char *const keys[] = {
		"version", "healthy", "problems", "node", "eid", "addr", "self",
		"role", "epoch", "build", "services", "highAvail",
		"highAvailSvr", "db", "state", "gen", "lsn", "startupDone",
		"haSync", "dbSync", "fileSync", "pingable", "reachable",
		"ageMs", "guisvrPid", "guisvrRestarts", "uptimeSec", "peers",
		"alive", "heartbeatAgeMs", "buildMatch", "configMatch",
		"acked", "behindBytes", "behindCommits", "connected",
		"authFailed", "rejected", "malformed", "mac", "replay",
		"stale", "unauthenticated", "rejectReason", "heartbeat",
		"intervalMs", "deadMs", "received", "accepted",
		"unknownSource", "result", "time", "reason", "PRIMARY",
		"SECONDARY", "STARTING", "running", "stopped", "starting",
		"timed-out (error)", "in-sync", "dirty", "alone", "unknown",
		"SUCCESS", "FAIL", "true", "false", "null", "\\\\u001b",
		"code", "about", "text", "waitsForAll", "stalePrimary",
		"roleChangedAgoMs", "fault", "faultStays", "stateWriteFailed",
		"peer-timeout", "self", "group", NULL
	};
	static const char node[] =
	    "\"node\": { \"eid\": 1, \"addr\": \"127.0.0.1\", \"self\": true,\n"
	    "  \"role\": \"%s\", \"epoch\": 3, \"build\": \"hasvr 0.1.0 seed\",\n"
	    "  \"services\": { \"highAvail\": \"running\", "
	    "\"highAvailSvr\": \"running\" },\n"
	    "  \"db\": { \"state\": \"in-sync\", \"gen\": 4, "
	    "\"lsn\": \"1/28832\", \"startupDone\": true },\n"
	    "  \"haSync\": true, \"dbSync\": true, \"fileSync\": true,\n"
	    "  \"pingable\": { \"addr\": \"10.0.0.254\", \"reachable\": true, "
	    "\"ageMs\": 420 },\n"
	    "  \"guisvrPid\": 1234, \"guisvrRestarts\": 0, \"uptimeSec\": 75 }";
	static const char peer[] =
	    "{ \"eid\": %d, \"addr\": \"127.0.0.%d\", \"self\": false,\n"
	    "  \"alive\": %s, \"heartbeatAgeMs\": %s, \"role\": \"%s\", "
	    "\"epoch\": 3,\n"
	    "  \"build\": \"hasvr 0.1.0 seed\", \"buildMatch\": true, "
	    "\"configMatch\": %s,\n"
	    "  \"services\": { \"highAvail\": \"%s\", "
	    "\"highAvailSvr\": \"running\" },\n"
	    "  \"db\": { \"state\": \"%s\", \"lsn\": \"1/28832\", "
	    "\"acked\": \"1/20000\",\n"
	    "    \"behindBytes\": 8832, \"behindCommits\": 2, "
	    "\"connected\": true, \"authFailed\": %s },\n"
	    "  \"rejected\": { \"malformed\": 0, \"mac\": %d, \"eid\": 0, "
	    "\"replay\": 0, \"stale\": 0 },\n"
	    "  \"unauthenticated\": %s, \"rejectReason\": %s }";
	static const char tail[] =
	    "\"heartbeat\": { \"intervalMs\": 100, \"deadMs\": 500, "
	    "\"received\": 1200, \"accepted\": 1190,\n"
	    "  \"rejected\": { \"malformed\": 0, \"mac\": 10, \"eid\": 0, "
	    "\"replay\": 0, \"stale\": 0, \"unknownSource\": 0 } },\n"
	    "\"fileSync\": { \"result\": %s, \"time\": 1795000000, "
	    "\"ageSec\": 12, \"reason\": %s } }\n";
	char *text = NULL;
	size_t len = 0;
	FILE *fp;

	/* a healthy pair */
	if ((fp = open_memstream(&text, &len)) == NULL)
		die("open_memstream: %s", strerror(errno));
	fprintf(fp, "{ \"version\": 1, \"healthy\": true, \"problems\": [],\n");
	fprintf(fp, node, "PRIMARY");
	fprintf(fp, ",\n\"peers\": [ ");
	fprintf(fp, peer, 2, 2, "true", "80", "SECONDARY", "true", "running",
	    "in-sync", "null", 0, "false", "null");
	fprintf(fp, " ],\n");
	fprintf(fp, tail, "\"SUCCESS\"", "null");
	fclose(fp);
	seed_text("hastatus", "healthy_pair", text);
	free(text);

	/* three nodes: one timed out, one with another key */
	if ((fp = open_memstream(&text, &len)) == NULL)
		die("open_memstream: %s", strerror(errno));
	fprintf(fp, "{ \"version\": 1, \"healthy\": false, \"problems\": "
	    "[{ \"code\": \"peer-timeout\", \"about\": \"127.0.0.2\", "
	    "\"text\": \"peer 127.0.0.2: heartbeat timed out\" }],\n");
	fprintf(fp, node, "SECONDARY");
	fprintf(fp, ",\n\"peers\": [ ");
	fprintf(fp, peer, 2, 2, "false", "null", "PRIMARY", "false",
	    "timed-out (error)", "dirty", "\"tlsv1 alert decrypt error\"", 12,
	    "true", "\"bad HMAC\"");
	fprintf(fp, ",\n");
	fprintf(fp, peer, 3, 3, "true", "120", "PRIMARY", "true", "running",
	    "alone", "null", 0, "false", "null");
	fprintf(fp, " ],\n");
	fprintf(fp, tail, "\"FAIL\"", "\"rsync exited with 23\"");
	fclose(fp);
	seed_text("hastatus", "three_problems", text);
	free(text);

	seed_text("hastatus", "not_json", "{ \"version\": 1, ");
	dict("hastatus", "the fields and words of the status JSON", keys);
}

/* ---- configuration files ---------------------------------------------- */

/* line with this build's installation folders (the defaults of the path
 * keys) written as those of the default prefix, so that the seeds do not
 * depend on where a build installs; into fp. */
static void
put_neutral(FILE *fp, const char *line)
{
	static const char *const dirs[][2] = {
		/* SBINDIR before BINDIR: the longer one first */
		{ SBINDIR, "/opt/hasvr/sbin" }, { BINDIR, "/opt/hasvr/bin" },
		{ SYSCONFDIR, "/opt/hasvr/etc" },
		{ LOCALSTATEDIR, "/opt/hasvr/var" },
	};
	size_t i, n;

	while (*line != '\0') {
		for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
			n = strlen(dirs[i][0]);
			if (strncmp(line, dirs[i][0], n) == 0)
				break;
		}
		if (i < sizeof(dirs) / sizeof(dirs[0])) {
			fputs(dirs[i][1], fp);
			line += n;
		} else
			putc(*line++, fp);
	}
	putc('\n', fp);
}

/* The key lines of a key table's sample file (cfg_write_sample), as
 * written there (commented out) and uncommented; without the help text,
 * so that the seeds stay short and the fuzzer fast. */
static void
cfg_samples(const char *harness, const struct cfg_key *keys, size_t nkeys)
{
	char *text = NULL, *line, *save = NULL;
	char *keys_on = NULL, *keys_off = NULL;
	size_t len = 0, lon = 0, loff = 0;
	FILE *fp, *on, *off;

	if ((fp = open_memstream(&text, &len)) == NULL ||
	    (on = open_memstream(&keys_on, &lon)) == NULL ||
	    (off = open_memstream(&keys_off, &loff)) == NULL)
		die("open_memstream: %s", strerror(errno));
	cfg_write_sample(keys, nkeys, "fuzz seed", fp);
	fclose(fp);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		/* "#key value" is a key; "# text" is help */
		if (line[0] != '#' || line[1] == ' ' || line[1] == '\0')
			continue;
		put_neutral(off, line);
		put_neutral(on, line + 1);
	}
	fclose(on);
	fclose(off);
	seed_text(harness, "sample_keys", keys_on);
	seed_text(harness, "sample_commented", keys_off);
	free(keys_on);
	free(keys_off);
	free(text);
}

/* Names, enum words and value shapes of a key table, for libFuzzer's -dict. */
static void
cfg_dict(const char *harness, const struct cfg_key *keys, size_t nkeys)
{
	static const char *const words[] = {
		"y", "n", "yes", "no", "K", "M", "G", "ms", "s", "m", "h",
		"127.0.0.1", "::1", "/", "/var/hasvr", " ", "\\x09", "\\x0d\\x0a",
		"#", "=",
	};
	char *text = NULL, name[64];
	size_t len = 0, i, j;
	FILE *fp;

	if ((fp = open_memstream(&text, &len)) == NULL)
		die("open_memstream: %s", strerror(errno));
	fprintf(fp, "# %s: the keys of its table (written by mkcorpus)\n",
	    harness);
	for (i = 0; i < nkeys; i++) {
		fprintf(fp, "\"%s\"\n", keys[i].name);
		for (j = 0; keys[i].enums != NULL && keys[i].enums[j] != NULL;
		    j++)
			fprintf(fp, "\"%s\"\n", keys[i].enums[j]);
	}
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		fprintf(fp, "\"%s\"\n", words[i]);
	fclose(fp);
	snprintf(name, sizeof(name), "%s.dict", harness);
	put_file("dict", name, text, len);
	free(text);
}

/* A dictionary from a list of words. */
static void
dict(const char *harness, const char *what, const char *const *words)
{
	char *text = NULL, name[64];
	size_t len = 0;
	FILE *fp;

	if ((fp = open_memstream(&text, &len)) == NULL)
		die("open_memstream: %s", strerror(errno));
	fprintf(fp, "# %s: %s (written by mkcorpus)\n", harness, what);
	for (; *words != NULL; words++)
		fprintf(fp, "\"%s\"\n", *words);
	fclose(fp);
	snprintf(name, sizeof(name), "%s.dict", harness);
	put_file("dict", name, text, len);
	free(text);
}

static void
corpus_dicts(void)
{
	/* in dictionary syntax: \\ is a backslash, \xHH a byte */
	static const char *const text_form[] = {
		":", " (", ")", "\\\\\\\\", "\\\\n", "\\\\r", "\\\\t", "\\\\x",
		"\\\\x7f", "#", "\\x0d\\x0a", "0.shadow_server.2", "4294967295.",
		NULL
	};
	dict("xdbload", "the text form of records", text_form);
}

static void
corpus_cfg(void)
{
	cfg_samples("hacfg", hacfg_keys, hacfg_nkeys);
	cfg_dict("hacfg", hacfg_keys, hacfg_nkeys);
	seed_text("hacfg", "pair",
	    "# haSvr.cfg of the primary of a pair\n"
	    "highAvail.isHaEnabled   y\n"
	    "highAvail.myAddr        192.168.10.1\n"
	    "highAvail.primaryAddr   192.168.10.1\n"
	    "highAvail.secondaryAddr 192.168.10.2\n"
	    "highAvail.replicaAddrs  192.168.10.3 fe80::1\n"
	    "highAvail.HMACKey       a-long-shared-secret-0123456789\n"
	    "highAvail.durability    strict\n"
	    "highAvail.heartbeatInterval 50ms\n"
	    "highAvail.deadInterval  2s\n"
	    "highAvail.syncPaths     /etc/shared /opt/data/\n");
	seed_text("hacfg", "off", "highAvail.isHaEnabled n\n");
	cfg_samples("guicfg", guicfg_keys, guicfg_nkeys);
	cfg_dict("guicfg", guicfg_keys, guicfg_nkeys);
	seed_text("guicfg", "tls",
	    "guiSvr.varDir          /var/hasvr\r\n"
	    "guiSvr.listenAddr      ::1\r\n"
	    "guiSvr.clientKeyFile   /etc/hasvr/clientKey\r\n"
	    "guiSvr.maxRecordSize   1M\r\n"
	    "guiSvr.maxRequestSize  2M\r\n");
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: mkcorpus DIR (writes DIR/corpus and "
		    "DIR/dict)\n");
		return 2;
	}
	outdir = argv[1];
	corpus_heartbeat();
	corpus_repframe();
	corpus_proto();
	corpus_record();
	corpus_xdbload();
	corpus_hactl();
	corpus_halink();
	corpus_linkstate();
	corpus_hastatus();
	corpus_cfg();
	corpus_dicts();
	return 0;
}
