/* test_hactl.c — hasvr's control socket (lib/hactl.c): the request codec
 * (every type, every wrong length, unknown types, bad values), the reply
 * builders, the socket path helpers, the blocking client against a small
 * scripted stand-in for hasvr, and random bytes through the decoder. */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "hactl.h"
#include "util.h"

static char err[512];

/* Decode the whole frame in b as a request. */
static int
decode_frame(const struct buf *b, struct hc_req *r)
{
	struct frame_hdr h;

	CU_ASSERT_FATAL(b->len >= PROTO_HDR_LEN);
	proto_hdr_decode(b->p, &h);
	CU_ASSERT_EQUAL(h.len, b->len - PROTO_HDR_LEN);
	return hactl_decode_request(&h, b->p + PROTO_HDR_LEN,
	    b->len - PROTO_HDR_LEN, r, err, sizeof(err));
}

/* A frame header of type with payload p/len, through the decoder. */
static int
decode_raw(uint16_t type, const void *p, size_t len, struct hc_req *r)
{
	struct frame_hdr h = { (uint32_t)len, type, 0, 42 };

	err[0] = '\0';
	return hactl_decode_request(&h, p, len, r, err, sizeof(err));
}

/* ---- codec ------------------------------------------------------------ */

static void
t_roundtrip(void)
{
	struct hc_req in[] = {
		{ .type = HC_STATUS, .seq = 1 },
		{ .type = HC_SWITCHOVER, .seq = 2, .target_eid = 0 },
		{ .type = HC_SWITCHOVER, .seq = 3, .target_eid = 7 },
		{ .type = HC_SWITCHOVER, .seq = 4, .target_eid = 0xffffffffu },
		{ .type = HC_PROMOTE, .seq = 5, .force = 0 },
		{ .type = HC_PROMOTE, .seq = 6, .force = 1 },
		{ .type = HC_RESYNC, .seq = 0xfffffffeu },
		{ .type = HC_FILESYNC, .seq = 8 },
	};
	const size_t want_len[] = { 0, 4, 4, 4, 1, 1, 0, 0 };
	struct hc_req r, s;
	struct buf b;
	size_t i;
	int what, en;

	buf_init(&b);
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		hactl_encode_request(&b, &in[i]);
		CU_ASSERT_FALSE(b.oom);
		CU_ASSERT_EQUAL(b.len, PROTO_HDR_LEN + want_len[i]);
		CU_ASSERT_EQUAL(decode_frame(&b, &r), 0);
		CU_ASSERT_EQUAL(r.type, in[i].type);
		CU_ASSERT_EQUAL(r.seq, in[i].seq);
		CU_ASSERT_EQUAL(r.target_eid, in[i].target_eid);
		CU_ASSERT_EQUAL(r.force, in[i].force);
		CU_ASSERT_EQUAL(r.what, 0);
		CU_ASSERT_EQUAL(r.enable, 0);
	}
	for (what = HC_SYNC_HA; what <= HC_SYNC_FILES; what++)
		for (en = 0; en <= 1; en++) {
			memset(&s, 0, sizeof(s));
			s.type = HC_SYNC;
			s.seq = 100 + what;
			s.what = what;
			s.enable = en;
			hactl_encode_request(&b, &s);
			CU_ASSERT_EQUAL(b.len, PROTO_HDR_LEN + 2);
			CU_ASSERT_EQUAL(b.p[PROTO_HDR_LEN], what);
			CU_ASSERT_EQUAL(b.p[PROTO_HDR_LEN + 1], en);
			CU_ASSERT_EQUAL(decode_frame(&b, &r), 0);
			CU_ASSERT(r.type == HC_SYNC && r.seq == s.seq &&
			    r.what == what && r.enable == en);
		}
	/* the eid is big-endian on the wire */
	in[0].type = HC_SWITCHOVER;
	in[0].target_eid = 0x01020304;
	hactl_encode_request(&b, &in[0]);
	CU_ASSERT(memcmp(b.p + PROTO_HDR_LEN, "\x01\x02\x03\x04", 4) == 0);
	buf_free(&b);
}

static void
t_wrong_length(void)
{
	static const struct {
		uint16_t type;
		size_t len;
	} good[] = {
		{ HC_STATUS, 0 }, { HC_SWITCHOVER, 4 }, { HC_PROMOTE, 1 },
		{ HC_RESYNC, 0 }, { HC_SYNC, 2 }, { HC_FILESYNC, 0 },
	};
	unsigned char zero[16] = { 0 };
	char want[128];
	struct hc_req r;
	size_t i, len;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		for (len = 0; len <= 9; len++) {
			if (len == good[i].len) {
				/* zero bytes are valid values except for what */
				if (good[i].type != HC_SYNC)
					CU_ASSERT_EQUAL(decode_raw(good[i].type,
					    zero, len, &r), 0);
				continue;
			}
			CU_ASSERT_EQUAL(decode_raw(good[i].type, zero, len, &r),
			    XE_BADREQ);
			snprintf(want, sizeof(want), "%s: payload is %zu byte%s, "
			    "expected %zu", hactl_typename(good[i].type), len,
			    len == 1 ? "" : "s", good[i].len);
			CU_ASSERT_STRING_EQUAL(err, want);
		}
	CU_ASSERT_EQUAL(decode_raw(HC_PROMOTE, "\x01\x00\x00", 3, &r), XE_BADREQ);
	CU_ASSERT_STRING_EQUAL(err, "HC_PROMOTE: payload is 3 bytes, expected 1");
}

static void
t_unknown_type(void)
{
	const uint16_t types[] = { 0, XM_GET, XM_STATUS, XM_R_OK, XM_R_ERR,
	    HC_STATUS - 1, HC_FILESYNC + 1, HC_R_STATUS, 200, 0xffff };
	struct hc_req r;
	char want[64];
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		CU_ASSERT_EQUAL(decode_raw(types[i], NULL, 0, &r), XE_UNKNOWN);
		snprintf(want, sizeof(want), "unknown request type %u ",
		    types[i]);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "same build"));
	}
}

static void
t_bad_values(void)
{
	struct hc_req r;

	CU_ASSERT_EQUAL(decode_raw(HC_PROMOTE, "\x02", 1, &r), XE_BADREQ);
	CU_ASSERT_STRING_EQUAL(err, "HC_PROMOTE: force is 2, expected 0 or 1");
	CU_ASSERT_EQUAL(decode_raw(HC_PROMOTE, "\xff", 1, &r), XE_BADREQ);
	CU_ASSERT_STRING_EQUAL(err, "HC_PROMOTE: force is 255, expected 0 or 1");
	CU_ASSERT_EQUAL(decode_raw(HC_SYNC, "\x00\x01", 2, &r), XE_BADREQ);
	CU_ASSERT_STRING_EQUAL(err, "HC_SYNC: what is 0, expected 1 (ha), 2 "
	    "(db) or 3 (files)");
	CU_ASSERT_EQUAL(decode_raw(HC_SYNC, "\x04\x01", 2, &r), XE_BADREQ);
	CU_ASSERT_STRING_EQUAL(err, "HC_SYNC: what is 4, expected 1 (ha), 2 "
	    "(db) or 3 (files)");
	CU_ASSERT_EQUAL(decode_raw(HC_SYNC, "\x02\x02", 2, &r), XE_BADREQ);
	CU_ASSERT_STRING_EQUAL(err, "HC_SYNC: enable is 2, expected 0 or 1");
	CU_ASSERT_EQUAL(decode_raw(HC_SYNC, "\x03\x01", 2, &r), 0);
	CU_ASSERT(r.what == HC_SYNC_FILES && r.enable == 1 && r.seq == 42);
	/* any eid decodes: hasvr checks it against its node list */
	CU_ASSERT_EQUAL(decode_raw(HC_SWITCHOVER, "\x00\x00\x00\x63", 4, &r), 0);
	CU_ASSERT_EQUAL(r.target_eid, 99);
}

static void
t_names(void)
{
	CU_ASSERT_STRING_EQUAL(hactl_typename(HC_STATUS), "HC_STATUS");
	CU_ASSERT_STRING_EQUAL(hactl_typename(HC_FILESYNC), "HC_FILESYNC");
	CU_ASSERT_STRING_EQUAL(hactl_typename(HC_R_STATUS), "HC_R_STATUS");
	CU_ASSERT_STRING_EQUAL(hactl_typename(XM_R_ERR), "ERR");
	CU_ASSERT_STRING_EQUAL(hactl_typename(1234), "?");
	CU_ASSERT_STRING_EQUAL(hactl_sync_what_name(HC_SYNC_HA), "ha");
	CU_ASSERT_STRING_EQUAL(hactl_sync_what_name(HC_SYNC_DB), "db");
	CU_ASSERT_STRING_EQUAL(hactl_sync_what_name(HC_SYNC_FILES), "files");
	CU_ASSERT_PTR_NULL(hactl_sync_what_name(0));
	CU_ASSERT_PTR_NULL(hactl_sync_what_name(4));
	CU_ASSERT_EQUAL(hactl_sync_what_parse("db"), HC_SYNC_DB);
	CU_ASSERT_EQUAL(hactl_sync_what_parse("files"), HC_SYNC_FILES);
	CU_ASSERT_EQUAL(hactl_sync_what_parse("DB"), -1);
	CU_ASSERT_EQUAL(hactl_sync_what_parse(""), -1);
}

/* ---- reply builders --------------------------------------------------- */

static void
t_replies(void)
{
	struct frame_hdr h;
	const char *s;
	struct buf b;
	struct rd rd;
	size_t n;
	char *big;

	buf_init(&b);
	hactl_reply_ok(&b, 9, "switchover to 127.0.0.2 started");
	proto_hdr_decode(b.p, &h);
	CU_ASSERT(h.type == XM_R_OK && h.seq == 9 &&
	    h.len == b.len - PROTO_HDR_LEN);
	rd_init(&rd, b.p + PROTO_HDR_LEN, h.len);
	s = rd_str16(&rd, &n);
	CU_ASSERT(rd_done(&rd));
	CU_ASSERT(n == 31 && memcmp(s, "switchover to 127.0.0.2 started", n) == 0);

	hactl_reply_ok(&b, 10, NULL);
	proto_hdr_decode(b.p, &h);
	CU_ASSERT(h.type == XM_R_OK && h.len == 2);

	hactl_reply_err(&b, 11, XE_AUTH, "run haCtl as root");
	proto_hdr_decode(b.p, &h);
	CU_ASSERT(h.type == XM_R_ERR && h.seq == 11);
	rd_init(&rd, b.p + PROTO_HDR_LEN, h.len);
	CU_ASSERT_EQUAL(rd_u32(&rd), XE_AUTH);
	s = rd_str16(&rd, &n);
	CU_ASSERT(rd_done(&rd) && n == 17 && memcmp(s, "run haCtl as root", n) == 0);

	hactl_reply_status(&b, 12, "{\"version\":1}");
	proto_hdr_decode(b.p, &h);
	CU_ASSERT(h.type == HC_R_STATUS && h.seq == 12);
	rd_init(&rd, b.p + PROTO_HDR_LEN, h.len);
	s = rd_str32(&rd, &n);
	CU_ASSERT(rd_done(&rd) && n == 13 && memcmp(s, "{\"version\":1}", n) == 0);

	/* a message over a str16 is cut; a status over the limit is an ERR */
	big = malloc(HACTL_MAX_FRAME + 10);
	CU_ASSERT_FATAL(big != NULL);
	memset(big, 'x', HACTL_MAX_FRAME + 9);
	big[HACTL_MAX_FRAME + 9] = '\0';
	hactl_reply_err(&b, 13, XE_DB, big);
	CU_ASSERT_FALSE(b.oom);
	proto_hdr_decode(b.p, &h);
	CU_ASSERT_EQUAL(h.len, 4 + 2 + UINT16_MAX);
	hactl_reply_status(&b, 14, big);
	proto_hdr_decode(b.p, &h);
	CU_ASSERT(h.type == XM_R_ERR && h.seq == 14);
	rd_init(&rd, b.p + PROTO_HDR_LEN, h.len);
	CU_ASSERT_EQUAL(rd_u32(&rd), XE_TOOBIG);
	big[HACTL_MAX_FRAME - 4] = '\0';        /* exactly at the limit */
	hactl_reply_status(&b, 15, big);
	proto_hdr_decode(b.p, &h);
	CU_ASSERT(h.type == HC_R_STATUS && h.len == HACTL_MAX_FRAME);
	free(big);
	buf_free(&b);
}

/* ---- socket paths ----------------------------------------------------- */

static void
t_paths(void)
{
	char out[256], long_dir[200], cfg[512], want[512];
	char *dir = unit_tmpdir();
	FILE *fp;

	CU_ASSERT_EQUAL(hactl_socket_path("/opt/x/var", out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "/opt/x/var/run/haSvr.sock");
	CU_ASSERT_EQUAL(hactl_socket_path(NULL, out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, LOCALSTATEDIR "/run/haSvr.sock");
	memset(long_dir, 'd', sizeof(long_dir) - 1);
	long_dir[0] = '/';
	long_dir[sizeof(long_dir) - 1] = '\0';
	CU_ASSERT_EQUAL(hactl_socket_path(long_dir, out, sizeof(out)), -1);
	CU_ASSERT_EQUAL(hactl_socket_path("/v", out, 8), -1);

	snprintf(cfg, sizeof(cfg), "%s/haSvr.cfg", dir);
	CU_ASSERT_EQUAL(hactl_cfg_socket(cfg, out, sizeof(out), err,
	    sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, cfg));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "give the socket with -s"));
	fp = fopen(cfg, "w");
	CU_ASSERT_FATAL(fp != NULL);
	fprintf(fp, "highAvail.varDir %s/var\n", dir);
	fclose(fp);
	CU_ASSERT_EQUAL(hactl_cfg_socket(cfg, out, sizeof(out), err,
	    sizeof(err)), 0);
	snprintf(want, sizeof(want), "%s/var/run/haSvr.sock", dir);
	CU_ASSERT_STRING_EQUAL(out, want);
	fp = fopen(cfg, "w");
	fprintf(fp, "highAvail.varDir %s\n", long_dir);
	fclose(fp);
	CU_ASSERT_EQUAL(hactl_cfg_socket(cfg, out, sizeof(out), err,
	    sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "too long"));
	fp = fopen(cfg, "w");
	fprintf(fp, "highAvail.heartbeatPort 99999\n");
	fclose(fp);
	CU_ASSERT_EQUAL(hactl_cfg_socket(cfg, out, sizeof(out), err,
	    sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, ":1:"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "1 error in all"));
	unit_rmtree(dir);
	free(dir);
}

/* ---- client against a scripted hasvr ---------------------------------- */

enum script {
	S_STATUS,       /* answer HC_R_STATUS with the JSON */
	S_OK,           /* answer OK "done: <type>" */
	S_ERR,          /* answer ERR XE_AUTH */
	S_WRONG_SEQ,    /* answer OK with seq + 1 */
	S_HUGE,         /* announce a frame over HACTL_MAX_FRAME */
	S_CLOSE,        /* close without answering */
	S_BAD_ERR,      /* ERR with a truncated payload */
	S_WRONG_TYPE,   /* HC_R_STATUS to a non-status request */
};

struct fake {
	int lfd;
	enum script script;
	struct hc_req got;      /* what the client sent */
	int decoded;            /* hactl_decode_request's result */
};

static int
read_all(int fd, void *p, size_t n)
{
	return util_read_full(fd, p, n) == (ssize_t)n ? 0 : -1;
}

static void *
fake_hasvr(void *arg)
{
	struct fake *f = arg;
	unsigned char hdr[PROTO_HDR_LEN], payload[64];
	struct frame_hdr h;
	char e[256], msg[64];
	struct buf b;
	int fd;

	if ((fd = accept(f->lfd, NULL, NULL)) == -1)
		return NULL;
	buf_init(&b);
	if (read_all(fd, hdr, sizeof(hdr)) == -1)
		goto out;
	proto_hdr_decode(hdr, &h);
	if (h.len > sizeof(payload) || read_all(fd, payload, h.len) == -1)
		goto out;
	f->decoded = hactl_decode_request(&h, payload, h.len, &f->got, e,
	    sizeof(e));
	snprintf(msg, sizeof(msg), "done: %s", hactl_typename(h.type));
	switch (f->script) {
	case S_STATUS:
		hactl_reply_status(&b, h.seq, "{\"version\":1}");
		break;
	case S_OK:
		hactl_reply_ok(&b, h.seq, msg);
		break;
	case S_ERR:
		hactl_reply_err(&b, h.seq, XE_AUTH, "not allowed: run as root");
		break;
	case S_WRONG_SEQ:
		hactl_reply_ok(&b, h.seq + 1, msg);
		break;
	case S_HUGE:
		proto_begin(&b, XM_R_OK, 0, h.seq);
		buf_put_u32(&b, 0);
		proto_finish(&b);
		b.p[0] = 0x7f;          /* length 2 GB */
		break;
	case S_CLOSE:
		goto out;
	case S_BAD_ERR:
		proto_frame(&b, XM_R_ERR, 0, h.seq, "\x00\x00", 2);
		break;
	case S_WRONG_TYPE:
		hactl_reply_status(&b, h.seq, "{}");
		break;
	}
	(void)util_write_full(fd, b.p, b.len);
	/* let the client read before the close */
	(void)util_read_full(fd, hdr, 1);
out:
	buf_free(&b);
	close(fd);
	return NULL;
}

/* A listening socket in dir; its path in path. */
static int
listen_at(const char *dir, char *path, size_t pathlen)
{
	struct sockaddr_un sun;
	int fd;

	snprintf(path, pathlen, "%s/haSvr.sock", dir);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	util_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CU_ASSERT_FATAL(fd != -1);
	CU_ASSERT_FATAL(bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	CU_ASSERT_FATAL(listen(fd, 4) == 0);
	return fd;
}

/* One connection to a fake hasvr playing script: rc of the request. */
static int
play(const char *dir, enum script script, const struct hc_req *req,
    char **json, struct hc_req *got)
{
	struct fake f;
	pthread_t t;
	struct hcc *c;
	char path[256];
	int rc;

	memset(&f, 0, sizeof(f));
	f.script = script;
	f.decoded = -100;
	f.lfd = listen_at(dir, path, sizeof(path));
	CU_ASSERT_FATAL(pthread_create(&t, NULL, fake_hasvr, &f) == 0);
	c = hactl_connect(path, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	if (req->type == HC_STATUS)
		rc = hactl_status(c, json, err, sizeof(err));
	else
		rc = hactl_request(c, req, err, sizeof(err));
	/* a broken connection refuses the next request at once (an ERR
	 * reply, even to status, leaves it usable) */
	if (rc == -1 && script != S_ERR) {
		char e2[256];
		char *j2 = NULL;

		CU_ASSERT_EQUAL(hactl_status(c, &j2, e2, sizeof(e2)), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(e2, "unusable"));
		CU_ASSERT_PTR_NULL(j2);
	}
	hactl_close(c);
	pthread_join(t, NULL);
	close(f.lfd);
	unlink(path);
	if (got != NULL) {
		CU_ASSERT_EQUAL(f.decoded, 0);
		*got = f.got;
	}
	return rc;
}

static void
t_client(void)
{
	struct hc_req status = { .type = HC_STATUS };
	struct hc_req promote = { .type = HC_PROMOTE, .force = 1 };
	struct hc_req sync = { .type = HC_SYNC, .what = HC_SYNC_DB, .enable = 0 };
	struct hc_req got;
	char *dir = unit_tmpdir(), *json = NULL;

	CU_ASSERT_EQUAL(play(dir, S_STATUS, &status, &json, &got), 0);
	CU_ASSERT_STRING_EQUAL(json, "{\"version\":1}");
	CU_ASSERT_EQUAL(got.type, HC_STATUS);
	free(json);
	json = NULL;

	CU_ASSERT_EQUAL(play(dir, S_OK, &promote, NULL, &got), 0);
	CU_ASSERT_STRING_EQUAL(err, "done: HC_PROMOTE");
	CU_ASSERT(got.type == HC_PROMOTE && got.force == 1 && got.seq == 1);

	CU_ASSERT_EQUAL(play(dir, S_OK, &sync, NULL, &got), 0);
	CU_ASSERT(got.type == HC_SYNC && got.what == HC_SYNC_DB &&
	    got.enable == 0);

	CU_ASSERT_EQUAL(play(dir, S_ERR, &promote, NULL, NULL), XE_AUTH);
	CU_ASSERT_STRING_EQUAL(err, "not allowed: run as root");
	CU_ASSERT_EQUAL(play(dir, S_ERR, &status, &json, NULL), -1);
	CU_ASSERT_PTR_NULL(json);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not allowed: run as root"));

	CU_ASSERT_EQUAL(play(dir, S_WRONG_SEQ, &promote, NULL, NULL), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "is for request 2, sent 1"));
	CU_ASSERT_EQUAL(play(dir, S_HUGE, &promote, NULL, NULL), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "over the limit"));
	CU_ASSERT_EQUAL(play(dir, S_CLOSE, &promote, NULL, NULL), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "closed"));
	CU_ASSERT_EQUAL(play(dir, S_BAD_ERR, &promote, NULL, NULL), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "malformed ERR reply"));
	CU_ASSERT_EQUAL(play(dir, S_WRONG_TYPE, &promote, NULL, NULL), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unexpected reply HC_R_STATUS"));
	CU_ASSERT_EQUAL(play(dir, S_OK, &status, &json, NULL), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unexpected reply OK"));
	CU_ASSERT_PTR_NULL(json);
	unit_rmtree(dir);
	free(dir);
}

static void
t_connect_errors(void)
{
	char *dir = unit_tmpdir(), path[256], want[512];
	struct hcc *c;
	int fd;

	snprintf(path, sizeof(path), "%s/haSvr.sock", dir);
	c = hactl_connect(path, err, sizeof(err));
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_EQUAL(errno, ENOENT);
	CU_ASSERT_TRUE(hactl_not_running(errno));
	snprintf(want, sizeof(want), "cannot connect to %s: No such file or "
	    "directory (is hasvr running?)", path);
	CU_ASSERT_STRING_EQUAL(err, want);

	/* a socket file left behind, nobody listening */
	fd = listen_at(dir, path, sizeof(path));
	close(fd);
	CU_ASSERT_PTR_NULL(hactl_connect(path, err, sizeof(err)));
	CU_ASSERT_EQUAL(errno, ECONNREFUSED);
	CU_ASSERT_TRUE(hactl_not_running(errno));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "is hasvr running?"));
	unlink(path);

	CU_ASSERT_FALSE(hactl_not_running(EACCES));
	memset(want, 'p', 200);
	want[0] = '/';
	want[200] = '\0';
	CU_ASSERT_PTR_NULL(hactl_connect(want, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "too long"));
	CU_ASSERT_FALSE(hactl_not_running(errno));
	unit_rmtree(dir);
	free(dir);
}

/* ---- fuzz ------------------------------------------------------------- */

/* Random types near the request range and random payloads: the decoder
 * answers 0, XE_UNKNOWN or XE_BADREQ with a message, and whatever it
 * accepts encodes back to the same bytes. */
static void
t_fuzz_decode(void)
{
	unsigned char p[16];
	struct frame_hdr h;
	struct hc_req r;
	struct buf b;
	size_t len, j;
	int i, rc, ok = 0;

	srandom(4242);
	buf_init(&b);
	for (i = 0; i < 200000; i++) {
		h.type = (uint16_t)(random() % 8 == 0 ? random() :
		    HC_STATUS - 2 + random() % 10);
		h.seq = (uint32_t)random();
		h.flags = 0;
		len = (size_t)(random() % 4 == 0 ? random() % 17 :
		    random() % 3);
		for (j = 0; j < len; j++)
			p[j] = (unsigned char)(random() % 3 == 0 ? random() :
			    random() % 4);
		h.len = (uint32_t)len;
		err[0] = '\0';
		rc = hactl_decode_request(&h, p, len, &r, err, sizeof(err));
		if (rc != 0) {
			CU_ASSERT(rc == XE_UNKNOWN || rc == XE_BADREQ);
			CU_ASSERT(err[0] != '\0' && strlen(err) < sizeof(err));
			continue;
		}
		ok++;
		hactl_encode_request(&b, &r);
		if (b.len != PROTO_HDR_LEN + len ||
		    memcmp(b.p + PROTO_HDR_LEN, p, len) != 0) {
			CU_FAIL("accepted request does not encode back");
			break;
		}
	}
	CU_ASSERT(ok > 1000);
	buf_free(&b);
}

void
test_hactl_register(void)
{
	CU_pSuite s = CU_add_suite("hactl", NULL, NULL);

	CU_add_test(s, "every request round-trips", t_roundtrip);
	CU_add_test(s, "every wrong length rejected", t_wrong_length);
	CU_add_test(s, "unknown types rejected", t_unknown_type);
	CU_add_test(s, "bad values rejected", t_bad_values);
	CU_add_test(s, "names", t_names);
	CU_add_test(s, "reply builders parse back", t_replies);
	CU_add_test(s, "socket paths", t_paths);
	CU_add_test(s, "client against a scripted hasvr", t_client);
	CU_add_test(s, "connect errors", t_connect_errors);
	CU_add_test(s, "200k random requests through decode", t_fuzz_decode);
}
