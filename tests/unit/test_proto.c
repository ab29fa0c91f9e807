/* test_proto.c — frames, batch parsing, TLS PSK contexts, and the client
 * library against a small scripted stand-in for guisvr. */
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>

#include "unit.h"
#include "proto.h"
#include "tlsctx.h"
#include "util.h"
#include "xdbclient.h"

static char err[512];

/* ---- frames ------------------------------------------------------------ */

static void
t_header(void)
{
	struct frame_hdr h = { 0x01020304, XM_R_RECORD, XF_IDS_ONLY, 0xa0b0c0d0 }, d;
	unsigned char out[PROTO_HDR_LEN];
	const unsigned char want[PROTO_HDR_LEN] = { 1, 2, 3, 4, 0, 102, 0, 1,
	    0xa0, 0xb0, 0xc0, 0xd0 };

	proto_hdr_encode(&h, out);
	CU_ASSERT(memcmp(out, want, sizeof(want)) == 0);
	proto_hdr_decode(out, &d);
	CU_ASSERT_EQUAL(d.len, h.len);
	CU_ASSERT_EQUAL(d.type, h.type);
	CU_ASSERT_EQUAL(d.flags, h.flags);
	CU_ASSERT_EQUAL(d.seq, h.seq);
}

static void
t_frame(void)
{
	struct frame_hdr h;
	struct buf b;

	buf_init(&b);
	buf_put(&b, "junk", 4);
	proto_frame(&b, XM_GET, 0, 7, "\x00\x03" "0.a", 5);
	CU_ASSERT_EQUAL(b.len, PROTO_HDR_LEN + 5);
	proto_hdr_decode(b.p, &h);
	CU_ASSERT(h.len == 5 && h.type == XM_GET && h.seq == 7 && h.flags == 0);
	CU_ASSERT(memcmp(b.p + PROTO_HDR_LEN, "\x00\x03" "0.a", 5) == 0);

	proto_begin(&b, XM_LIST, XF_IDS_ONLY, 9);
	buf_put_str16(&b, "0.", 2);
	buf_put_u32(&b, 100);
	proto_finish(&b);
	proto_hdr_decode(b.p, &h);
	CU_ASSERT(h.len == 8 && h.type == XM_LIST && h.flags == XF_IDS_ONLY && h.seq == 9);
	CU_ASSERT_EQUAL(b.len, PROTO_HDR_LEN + 8);

	proto_frame(&b, XM_STATUS, 0, 1, NULL, 0);
	proto_hdr_decode(b.p, &h);
	CU_ASSERT(h.len == 0 && b.len == PROTO_HDR_LEN);
	buf_free(&b);
}

static void
t_names(void)
{
	CU_ASSERT_STRING_EQUAL(proto_errname(XE_NOTFOUND), "not found");
	CU_ASSERT_STRING_EQUAL(proto_errname(XE_NOTREPL), "not replicated");
	CU_ASSERT_STRING_EQUAL(proto_errname(-1), "transport error");
	CU_ASSERT_STRING_EQUAL(proto_errname(999), "unknown error");
	CU_ASSERT_STRING_EQUAL(proto_typename(XM_GET), "GET");
	CU_ASSERT_STRING_EQUAL(proto_typename(XM_BATCH), "BATCH");
	CU_ASSERT_STRING_EQUAL(proto_typename(XM_R_END), "END");
	CU_ASSERT_STRING_EQUAL(proto_typename(0), "?");
	CU_ASSERT_STRING_EQUAL(proto_typename(50), "?");
}

/* ---- batches ----------------------------------------------------------- */

static void
add_op(struct buf *b, uint8_t op, const char *id, const char *name, const char *val)
{
	buf_put_u8(b, op);
	buf_put_str16(b, id, strlen(id));
	if (name == NULL) {
		buf_put_u32(b, 0);
		return;
	}
	buf_put_u32(b, 1);
	buf_put_str16(b, name, strlen(name));
	buf_put_str32(b, val, strlen(val));
}

static int
parse(struct buf *b, size_t max, struct rec_op **ops, size_t *n)
{
	err[0] = '\0';
	return proto_parse_batch(b->p, b->len, ops, n, max, err, sizeof(err));
}

static void
t_batch(void)
{
	struct rec_op *ops;
	struct buf b;
	size_t n;

	buf_init(&b);
	buf_put_u32(&b, 3);
	add_op(&b, REC_OP_PUT, "0.shadow_server.2", "type", "peerGuiSvr");
	add_op(&b, REC_OP_UNSET, "1.device.7", "ip", "");
	add_op(&b, REC_OP_DEL, "1.device.8", NULL, NULL);
	CU_ASSERT_EQUAL(parse(&b, 10, &ops, &n), 0);
	CU_ASSERT_EQUAL(n, 3);
	if (n == 3) {
		CU_ASSERT_EQUAL(ops[0].op, REC_OP_PUT);
		CU_ASSERT_STRING_EQUAL(ops[0].rec.id, "0.shadow_server.2");
		CU_ASSERT_STRING_EQUAL(record_find(&ops[0].rec, "type")->value, "peerGuiSvr");
		CU_ASSERT_EQUAL(ops[1].op, REC_OP_UNSET);
		CU_ASSERT_EQUAL(ops[2].op, REC_OP_DEL);
		CU_ASSERT_EQUAL(ops[2].rec.nattr, 0);
	}
	proto_free_ops(ops, n);

	/* Too many operations for the limit. */
	CU_ASSERT_EQUAL(parse(&b, 2, &ops, &n), -1);
	CU_ASSERT_STRING_EQUAL(err, "batch of 3 operations is over the limit of 2; split "
	    "it into smaller batches");
	CU_ASSERT_PTR_NULL(ops);
	CU_ASSERT_EQUAL(n, 0);

	/* Trailing byte. */
	buf_put_u8(&b, 0);
	CU_ASSERT_EQUAL(parse(&b, 10, &ops, &n), -1);
	CU_ASSERT_STRING_EQUAL(err, "bad batch: 1 trailing bytes after 3 operations");
	CU_ASSERT_PTR_NULL(ops);

	/* Truncated at every length. */
	b.len--;
	for (size_t cut = 0; cut < b.len; cut++) {
		CU_ASSERT_EQUAL(proto_parse_batch(b.p, cut, &ops, &n, 10, err,
		    sizeof(err)), -1);
		CU_ASSERT_PTR_NULL(ops);
	}
	CU_ASSERT_EQUAL(proto_parse_batch(b.p, 3, &ops, &n, 10, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "bad batch: payload of 3 bytes has no operation count");
	CU_ASSERT_EQUAL(proto_parse_batch(b.p, b.len - 1, &ops, &n, 10, err,
	    sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "bad batch: operation 3 of 3: truncated record: no "
	    "attribute count");

	/* Bad opcodes. */
	buf_reset(&b);
	buf_put_u32(&b, 2);
	add_op(&b, REC_OP_PUT, "0.a.1", NULL, NULL);
	add_op(&b, 5, "0.a.2", NULL, NULL);
	CU_ASSERT_EQUAL(parse(&b, 10, &ops, &n), -1);
	CU_ASSERT_STRING_EQUAL(err, "bad batch: operation 2 of 2 has unknown opcode 5 "
	    "(expected 1..4)");
	b.p[4] = 0;
	CU_ASSERT_EQUAL(parse(&b, 10, &ops, &n), -1);
	CU_ASSERT_STRING_EQUAL(err, "bad batch: operation 1 of 2 has unknown opcode 0 "
	    "(expected 1..4)");

	/* Bad record id and bad attribute name. */
	buf_reset(&b);
	buf_put_u32(&b, 1);
	add_op(&b, REC_OP_SET, "0.shadow server.2", NULL, NULL);
	CU_ASSERT_EQUAL(parse(&b, 10, &ops, &n), -1);
	CU_ASSERT_STRING_EQUAL(err, "bad batch: operation 1 of 1: bad record id "
	    "'0.shadow server.2': category may only contain letters, digits, '_' and '-'");
	buf_reset(&b);
	buf_put_u32(&b, 1);
	add_op(&b, REC_OP_SET, "0.a.1", "bad name", "v");
	CU_ASSERT_EQUAL(parse(&b, 10, &ops, &n), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "operation 1 of 1: bad attribute name 'bad name'"));

	/* A count the payload cannot hold is refused before allocating. */
	buf_reset(&b);
	buf_put_u32(&b, 4000000000u);
	add_op(&b, REC_OP_DEL, "0.a.1", NULL, NULL);
	CU_ASSERT_EQUAL(parse(&b, (size_t)-1, &ops, &n), -1);
	CU_ASSERT_STRING_EQUAL(err, "bad batch: 4000000000 operations cannot fit in 12 "
	    "bytes");

	/* An empty batch is valid. */
	buf_reset(&b);
	buf_put_u32(&b, 0);
	CU_ASSERT_EQUAL(parse(&b, 10, &ops, &n), 0);
	CU_ASSERT_EQUAL(n, 0);
	proto_free_ops(ops, n);
	buf_free(&b);
}

/* ---- requests as guisvr reads them ------------------------------------ */

/* Decode one request of type with payload b; the code, err filled. */
static int
decode(uint16_t type, uint16_t flags, const struct buf *b, struct proto_req *q)
{
	struct frame_hdr h = { (uint32_t)b->len, type, flags, 77 };

	err[0] = '\0';
	return proto_decode_request(&h, b->len ? b->p : (const void *)"", 10, q,
	    err, sizeof(err));
}

static void
t_decode_request(void)
{
	struct proto_req q;
	struct buf b;

	proto_req_init(&q);
	buf_init(&b);

	/* GET and DEL: the id, checked for NUL bytes only */
	buf_put_str16(&b, "0.shadow_server.2", 17);
	CU_ASSERT_EQUAL(decode(XM_GET, 0, &b, &q), XE_OK);
	CU_ASSERT_STRING_EQUAL(q.id, "0.shadow_server.2");
	CU_ASSERT_EQUAL(q.seq, 77);
	CU_ASSERT_STRING_EQUAL(err, "");
	buf_reset(&b);
	buf_put_str16(&b, "0.a\0b", 5);
	CU_ASSERT_EQUAL(decode(XM_DEL, 0, &b, &q), XE_BADID);
	CU_ASSERT_STRING_EQUAL(err, "record id contains a NUL byte");
	b.len--;
	CU_ASSERT_EQUAL(decode(XM_GET, 0, &b, &q), XE_BADREQ);
	CU_ASSERT_STRING_EQUAL(err, "malformed GET request");

	/* PUT, SET, UNSET: a bad id before a broken frame */
	buf_reset(&b);
	buf_put_str16(&b, "0.bad id.1", 10);
	CU_ASSERT_EQUAL(decode(XM_SET, 0, &b, &q), XE_BADID);
	CU_ASSERT(strncmp(err, "bad record id '0.bad id.1'", 26) == 0);
	buf_reset(&b);
	add_op(&b, REC_OP_PUT, "0.a.1", "type", "x");
	memmove(b.p, b.p + 1, --b.len);         /* the record without opcode */
	CU_ASSERT_EQUAL(decode(XM_PUT, 0, &b, &q), XE_OK);
	CU_ASSERT_STRING_EQUAL(q.rec.id, "0.a.1");
	CU_ASSERT_STRING_EQUAL(record_find(&q.rec, "type")->value, "x");
	buf_put_u8(&b, 0);
	CU_ASSERT_EQUAL(decode(XM_PUT, 0, &b, &q), XE_BADREQ);
	CU_ASSERT_STRING_EQUAL(err, "malformed PUT request: trailing bytes");
	CU_ASSERT_EQUAL(q.rec.nattr, 0);
	b.len -= 3;
	CU_ASSERT_EQUAL(decode(XM_UNSET, 0, &b, &q), XE_BADREQ);
	CU_ASSERT_STRING_EQUAL(err, "malformed UNSET request: truncated record: "
	    "attribute 1 of 1 runs past the end");

	/* LIST and COUNT: prefix, and LIST's limit */
	buf_reset(&b);
	buf_put_str16(&b, "0.shadow_server.", 16);
	buf_put_u32(&b, 5);
	CU_ASSERT_EQUAL(decode(XM_LIST, XF_IDS_ONLY, &b, &q), XE_OK);
	CU_ASSERT_STRING_EQUAL(q.id, "0.shadow_server.");
	CU_ASSERT_EQUAL(q.limit, 5);
	CU_ASSERT_EQUAL(q.flags, XF_IDS_ONLY);
	CU_ASSERT_EQUAL(decode(XM_COUNT, 0, &b, &q), XE_BADREQ);
	CU_ASSERT_STRING_EQUAL(err, "malformed COUNT request");
	buf_reset(&b);
	buf_put_str16(&b, "!!", 2);
	buf_put_u32(&b, 0);
	CU_ASSERT_EQUAL(decode(XM_LIST, 0, &b, &q), XE_BADID);
	CU_ASSERT(strncmp(err, "bad record id prefix '!!'", 25) == 0);

	/* BATCH, STATUS (payload ignored), unknown */
	buf_reset(&b);
	buf_put_u32(&b, 1);
	add_op(&b, 9, "0.a.1", NULL, NULL);
	CU_ASSERT_EQUAL(decode(XM_BATCH, 0, &b, &q), XE_BADREQ);
	CU_ASSERT_STRING_EQUAL(err, "malformed BATCH request: bad batch: operation "
	    "1 of 1 has unknown opcode 9 (expected 1..4)");
	CU_ASSERT_PTR_NULL(q.ops);
	b.p[4] = REC_OP_DEL;
	CU_ASSERT_EQUAL(decode(XM_BATCH, 0, &b, &q), XE_OK);
	CU_ASSERT_EQUAL(q.nops, 1);
	CU_ASSERT_EQUAL(decode(XM_STATUS, 0, &b, &q), XE_OK);
	CU_ASSERT_EQUAL(q.nops, 0);             /* emptied first */
	CU_ASSERT_EQUAL(decode(999, 0, &b, &q), XE_UNKNOWN);
	CU_ASSERT_STRING_EQUAL(err, "unknown request type 999");
	CU_ASSERT_EQUAL(decode(XM_R_OK, 0, &b, &q), XE_UNKNOWN);

	proto_req_free(&q);
	buf_free(&b);
}

/* ---- TLS --------------------------------------------------------------- */

static void
t_derive(void)
{
	unsigned char a[TLSCTX_PSK_LEN], b[TLSCTX_PSK_LEN];
	const unsigned char want[TLSCTX_PSK_LEN] = {
		0x2b, 0x79, 0x33, 0xd6, 0x7b, 0xd7, 0x37, 0x58, 0x1c, 0x2d, 0xdb, 0x88,
		0x47, 0x91, 0x56, 0xf2, 0x25, 0xe3, 0xa4, 0xce, 0xa8, 0x96, 0x9f, 0x64,
		0xc0, 0xb7, 0xbc, 0xde, 0x2a, 0x20, 0x61, 0x92,
	};

	/* RFC 5869 HKDF-SHA256, computed independently. */
	CU_ASSERT_EQUAL(tlsctx_derive("0123456789abcdef", 16, TLSCTX_LABEL_CLIENT, a), 0);
	CU_ASSERT(memcmp(a, want, sizeof(want)) == 0);
	CU_ASSERT_EQUAL(tlsctx_derive("0123456789abcdef", 16, "other purpose", b), 0);
	CU_ASSERT(memcmp(a, b, sizeof(a)) != 0);
}

struct tls_side {
	SSL_CTX *ctx;
	int fd;
	int server;
	int ok;               /* handshake result */
	char got[16];
};

static void *
tls_run(void *arg)
{
	struct tls_side *s = arg;
	SSL *ssl = SSL_new(s->ctx);

	SSL_set_fd(ssl, s->fd);
	s->ok = (s->server ? SSL_accept(ssl) : SSL_connect(ssl)) == 1;
	if (s->ok) {
		if (s->server) {
			if (SSL_read(ssl, s->got, 5) != 5 || SSL_write(ssl, "world", 5) != 5)
				s->ok = 0;
		} else if (SSL_write(ssl, "hello", 5) != 5 || SSL_read(ssl, s->got, 5) != 5)
			s->ok = 0;
		SSL_shutdown(ssl);
	}
	SSL_free(ssl);
	ERR_clear_error();
	shutdown(s->fd, SHUT_RDWR);
	return NULL;
}

/* Handshake over a socketpair with a server thread; returns 1 if both ends
 * completed it and exchanged data. */
static int
tls_pair(const char *skey, const char *sid, const char *ckey, const char *cid)
{
	unsigned char sp[TLSCTX_PSK_LEN], cp[TLSCTX_PSK_LEN];
	struct tls_side s = { 0 }, c = { 0 };
	pthread_t th;
	int sv[2];

	CU_ASSERT_EQUAL(tlsctx_derive(skey, strlen(skey), TLSCTX_LABEL_CLIENT, sp), 0);
	CU_ASSERT_EQUAL(tlsctx_derive(ckey, strlen(ckey), TLSCTX_LABEL_CLIENT, cp), 0);
	s.ctx = tlsctx_server_psk(sp, sid, err, sizeof(err));
	c.ctx = tlsctx_client_psk(cp, cid, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(s.ctx);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c.ctx);
	SSL_CTX_set_mode(s.ctx, SSL_MODE_AUTO_RETRY);
	SSL_CTX_set_mode(c.ctx, SSL_MODE_AUTO_RETRY);
	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	s.fd = sv[0];
	s.server = 1;
	c.fd = sv[1];
	pthread_create(&th, NULL, tls_run, &s);
	tls_run(&c);
	pthread_join(th, NULL);
	close(sv[0]);
	close(sv[1]);
	SSL_CTX_free(s.ctx);
	SSL_CTX_free(c.ctx);
	if (s.ok && c.ok) {
		CU_ASSERT(memcmp(s.got, "hello", 5) == 0);
		CU_ASSERT(memcmp(c.got, "world", 5) == 0);
	}
	return s.ok && c.ok;
}

static void
t_tls_psk(void)
{
	unsigned char k[TLSCTX_PSK_LEN] = { 0 };
	char e[256];

	/* A side whose handshake failed may still write to a closed socket. */
	signal(SIGPIPE, SIG_IGN);
	CU_ASSERT_TRUE(tls_pair("the same secret key", "id", "the same secret key", "id"));
	CU_ASSERT_FALSE(tls_pair("the server's secret", "id", "another secret key", "id"));
	CU_ASSERT_FALSE(tls_pair("the same secret key", "id", "the same secret key", "x"));
	/* Contexts refuse an empty identity. */
	CU_ASSERT_PTR_NULL(tlsctx_server_psk(k, "", err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "PSK identity must be"));
	tlsctx_errstr(e, sizeof(e));
	CU_ASSERT_PTR_NOT_NULL(strstr(e, "no OpenSSL error"));
}

/* ---- client library against a scripted guisvr -------------------------- */

struct fake {
	int lfd;
	SSL_CTX *ctx;          /* TLS when set */
	pthread_t th;
	int conns, handshakes_failed;
	int batches, puts;
	char last_put[64];
};

struct fconn {
	int fd;
	SSL *ssl;
};

static int
f_read(struct fconn *fc, void *p, size_t n)
{
	unsigned char *q = p;
	ssize_t r;

	while (n > 0) {
		r = fc->ssl ? SSL_read(fc->ssl, q, (int)n) : read(fc->fd, q, n);
		if (r <= 0)
			return -1;
		q += r;
		n -= (size_t)r;
	}
	return 0;
}

static void
f_send(struct fconn *fc, struct buf *b)
{
	if (fc->ssl)
		SSL_write(fc->ssl, b->p, (int)b->len);
	else
		(void)!write(fc->fd, b->p, b->len);
}

static void
f_err(struct fconn *fc, struct buf *o, uint32_t seq, uint32_t code, const char *msg)
{
	proto_begin(o, XM_R_ERR, 0, seq);
	buf_put_u32(o, code);
	buf_put_str16(o, msg, strlen(msg));
	proto_finish(o);
	f_send(fc, o);
}

static void
f_record(struct buf *o, uint32_t seq, uint16_t type, const char *id)
{
	struct record r;

	record_init(&r);
	record_set_id(&r, id, strlen(id));
	if (type == XM_R_RECORD) {
		record_set(&r, "type", 4, "peerGuiSvr", 10);
		record_set(&r, "clientOneTimePassword", 21, "netscreen", 9);
	}
	proto_begin(o, type, 0, seq);
	if (type == XM_R_RECORD)
		record_encode(&r, o);
	else
		buf_put_str16(o, id, strlen(id));
	proto_finish(o);
	record_free(&r);
}

/* Serves one connection; returns when the client closes or a scripted
 * misbehaviour ends it. */
static void
fake_serve(struct fake *f, struct fconn *fc)
{
	unsigned char hdr[PROTO_HDR_LEN];
	struct frame_hdr h;
	struct buf in, o;
	struct record r;
	struct rec_op *ops;
	struct rd rd;
	const char *s;
	char id[300], e[512];
	size_t n, i;

	buf_init(&in);
	buf_init(&o);
	record_init(&r);
	while (f_read(fc, hdr, sizeof(hdr)) == 0) {
		proto_hdr_decode(hdr, &h);
		buf_reset(&in);
		if (h.len > 1 << 20)
			break;
		for (i = 0; i < h.len; i++)
			buf_put_u8(&in, 0);
		if (h.len && f_read(fc, in.p, h.len) == -1)
			break;
		rd_init(&rd, in.p, in.len);
		switch (h.type) {
		case XM_GET:
			s = rd_str16(&rd, &n);
			snprintf(id, sizeof(id), "%.*s", (int)n, s ? s : "");
			if (strcmp(id, "0.bad.close") == 0)
				goto out;
			if (strcmp(id, "0.bad.slow") == 0)
				usleep(600000);     /* past the client's limit */
			if (strcmp(id, "0.bad.seq") == 0) {
				f_record(&o, h.seq + 1, XM_R_RECORD, id);
			} else if (strcmp(id, "0.bad.big") == 0) {
				proto_frame(&o, XM_R_RECORD, 0, h.seq, NULL, 0);
				o.p[0] = 0x7f;     /* announce ~2 GB */
			} else if (strcmp(id, "0.bad.other") == 0) {
				f_record(&o, h.seq, XM_R_RECORD, "0.shadow_server.1");
			} else if (strcmp(id, "0.shadow_server.2") == 0) {
				f_record(&o, h.seq, XM_R_RECORD, id);
			} else {
				snprintf(e, sizeof(e), "%s: no such record", id);
				f_err(fc, &o, h.seq, XE_NOTFOUND, e);
				continue;
			}
			f_send(fc, &o);
			break;
		case XM_PUT:
		case XM_SET:
		case XM_UNSET:
			if (record_decode_rd(&r, &rd, e, sizeof(e)) == -1 || !rd_done(&rd)) {
				f_err(fc, &o, h.seq, XE_BADREQ, e);
				continue;
			}
			f->puts++;
			snprintf(f->last_put, sizeof(f->last_put), "%s %s %zu", proto_typename(h.type),
			    r.id, r.nattr);
			proto_frame(&o, XM_R_OK, 0, h.seq, NULL, 0);
			f_send(fc, &o);
			break;
		case XM_DEL:
			proto_frame(&o, XM_R_OK, 0, h.seq, NULL, 0);
			f_send(fc, &o);
			break;
		case XM_LIST:
			s = rd_str16(&rd, &n);
			for (i = 1; i <= 3; i++) {
				if (n == 0)
					snprintf(id, sizeof(id), "0.all.%zu", i);
				else
					snprintf(id, sizeof(id), "%.*s%zu", (int)n, s, i);
				f_record(&o, h.seq, (h.flags & XF_IDS_ONLY) ? XM_R_ID :
				    XM_R_RECORD, id);
				f_send(fc, &o);
			}
			proto_begin(&o, XM_R_END, 0, h.seq);
			buf_put_u64(&o, 3);
			proto_finish(&o);
			f_send(fc, &o);
			break;
		case XM_COUNT:
			proto_begin(&o, XM_R_COUNT, 0, h.seq);
			buf_put_u64(&o, 42);
			proto_finish(&o);
			f_send(fc, &o);
			break;
		case XM_STATUS:
			proto_begin(&o, XM_R_STATUS, 0, h.seq);
			buf_put_str32(&o, "role primary\nrecords 42\n", 24);
			proto_finish(&o);
			f_send(fc, &o);
			break;
		case XM_BATCH:
			if (proto_parse_batch(in.p, in.len, &ops, &n, 500, e, sizeof(e)) == -1) {
				f_err(fc, &o, h.seq, XE_BADREQ, e);
				continue;
			}
			f->batches++;
			proto_free_ops(ops, n);
			proto_frame(&o, XM_R_OK, 0, h.seq, NULL, 0);
			f_send(fc, &o);
			break;
		default:
			f_err(fc, &o, h.seq, XE_UNKNOWN, "unknown request type");
			break;
		}
	}
out:
	record_free(&r);
	buf_free(&in);
	buf_free(&o);
}

static void *
fake_main(void *arg)
{
	struct fake *f = arg;
	struct fconn fc;
	int fd;

	while ((fd = accept(f->lfd, NULL, NULL)) != -1) {
		fc.fd = fd;
		fc.ssl = NULL;
		f->conns++;
		if (f->ctx != NULL) {
			fc.ssl = SSL_new(f->ctx);
			SSL_set_fd(fc.ssl, fd);
			if (SSL_accept(fc.ssl) != 1) {
				f->handshakes_failed++;
				SSL_free(fc.ssl);
				ERR_clear_error();
				close(fd);
				continue;
			}
		}
		fake_serve(f, &fc);
		if (fc.ssl) {
			SSL_shutdown(fc.ssl);
			SSL_free(fc.ssl);
		}
		ERR_clear_error();
		close(fd);
	}
	return NULL;
}

static void
fake_stop(struct fake *f)
{
	shutdown(f->lfd, SHUT_RDWR);     /* wakes accept() */
	pthread_join(f->th, NULL);
	close(f->lfd);
	SSL_CTX_free(f->ctx);
}

static int
count_cb(const struct record *r, void *arg)
{
	int *n = arg;

	(*n)++;
	return 0;
}

static int
stop_cb(const struct record *r, void *arg)
{
	int *n = arg;

	(*n)++;
	return 77;
}

static int
check_cb(const struct record *r, void *arg)
{
	char *ids = arg;

	strcat(ids, r->id);
	strcat(ids, r->nattr ? "+ " : " ");
	return 0;
}

static void
t_client_unix(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char *dir = unit_tmpdir(), path[512], ids[256] = "", *text;
	struct fake f = { 0 };
	struct xdbc_batch bt;
	struct record r;
	struct xerr e;
	struct xdbc *c;
	uint64_t n;
	int cnt = 0;

	snprintf(path, sizeof(path), "%s/guiSvr.sock", dir);
	/* Nothing listening yet. */
	CU_ASSERT_PTR_NULL(xdbc_connect_unix(path, &e));
	CU_ASSERT_EQUAL(e.code, -1);
	{
		char want[700];

		snprintf(want, sizeof(want), "cannot connect to %s: No such file or "
		    "directory (is guisvr running?)", path);
		CU_ASSERT_STRING_EQUAL(e.msg, want);
	}

	CU_ASSERT_FATAL(strlen(path) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, strlen(path) + 1);
	f.lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	CU_ASSERT_EQUAL_FATAL(bind(f.lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	CU_ASSERT_EQUAL_FATAL(listen(f.lfd, 8), 0);
	pthread_create(&f.th, NULL, fake_main, &f);

	c = xdbc_connect_unix(path, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	record_init(&r);
	CU_ASSERT_EQUAL(xdbc_get(c, "0.shadow_server.2", &r, &e), 0);
	CU_ASSERT_STRING_EQUAL(r.id, "0.shadow_server.2");
	CU_ASSERT_EQUAL(r.nattr, 2);
	CU_ASSERT_STRING_EQUAL(record_find(&r, "clientOneTimePassword")->value, "netscreen");

	CU_ASSERT_EQUAL(xdbc_get(c, "0.shadow_server.9", &r, &e), XE_NOTFOUND);
	CU_ASSERT_EQUAL(e.code, XE_NOTFOUND);
	CU_ASSERT_STRING_EQUAL(e.msg, "0.shadow_server.9: no such record");

	CU_ASSERT_EQUAL(xdbc_list(c, "1.device.", 1, 0, check_cb, ids, &e), 0);
	CU_ASSERT_STRING_EQUAL(ids, "1.device.1 1.device.2 1.device.3 ");
	ids[0] = '\0';
	CU_ASSERT_EQUAL(xdbc_list(c, "0.x.", 0, 0, check_cb, ids, &e), 0);
	CU_ASSERT_STRING_EQUAL(ids, "0.x.1+ 0.x.2+ 0.x.3+ ");
	/* A callback that stops: its value comes back and the rest is drained. */
	CU_ASSERT_EQUAL(xdbc_list(c, "0.x.", 1, 0, stop_cb, &cnt, &e), 77);
	CU_ASSERT_EQUAL(cnt, 1);
	cnt = 0;
	CU_ASSERT_EQUAL(xdbc_list(c, "", 1, 0, count_cb, &cnt, &e), 0);
	CU_ASSERT_EQUAL(cnt, 3);

	CU_ASSERT_EQUAL(xdbc_count(c, "0.", &n, &e), 0);
	CU_ASSERT_EQUAL(n, 42);
	CU_ASSERT_EQUAL(xdbc_status(c, &text, &e), 0);
	CU_ASSERT_STRING_EQUAL(text ? text : "", "role primary\nrecords 42\n");
	free(text);

	CU_ASSERT_EQUAL(xdbc_put(c, &r, &e), 0);
	CU_ASSERT_STRING_EQUAL(f.last_put, "PUT 0.shadow_server.2 2");
	CU_ASSERT_EQUAL(xdbc_unset(c, &r, &e), 0);
	CU_ASSERT_STRING_EQUAL(f.last_put, "UNSET 0.shadow_server.2 2");
	CU_ASSERT_EQUAL(xdbc_set(c, &r, &e), 0);
	CU_ASSERT_EQUAL(xdbc_del(c, "0.shadow_server.2", &e), 0);

	xdbc_batch_init(&bt);
	xdbc_batch_add(&bt, REC_OP_PUT, &r);
	xdbc_batch_add(&bt, REC_OP_DEL, &r);
	CU_ASSERT_EQUAL(xdbc_batch_commit(c, &bt, &e), 0);
	CU_ASSERT_EQUAL(f.batches, 1);
	xdbc_batch_free(&bt);
	/* A batch over the server's limit comes back as its ERR. */
	xdbc_batch_init(&bt);
	for (int i = 0; i < 501; i++)
		xdbc_batch_add(&bt, REC_OP_DEL, &r);
	CU_ASSERT_EQUAL(xdbc_batch_commit(c, &bt, &e), XE_BADREQ);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "batch of 501 operations is over the limit"));
	xdbc_batch_free(&bt);

	/* Wrong id in the reply, wrong sequence number: protocol errors that
	 * make the connection unusable. */
	CU_ASSERT_EQUAL(xdbc_get(c, "0.bad.other", &r, &e), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "is for 0.shadow_server.1, asked for 0.bad.other"));
	CU_ASSERT_EQUAL(xdbc_count(c, "", &n, &e), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "unusable after an earlier error"));
	xdbc_close(c);

	c = xdbc_connect_unix(path, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(xdbc_get(c, "0.bad.seq", &r, &e), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "is for request 2, expected 1"));
	xdbc_close(c);

	c = xdbc_connect_unix(path, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	xdbc_set_max_frame(c, 1 << 20);
	CU_ASSERT_EQUAL(xdbc_get(c, "0.bad.big", &r, &e), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "over the limit of 1048576 bytes"));
	xdbc_close(c);

	c = xdbc_connect_unix(path, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(xdbc_get(c, "0.bad.close", &r, &e), -1);
	{
		char want[700];

		snprintf(want, sizeof(want), "connection to %s closed by guisvr", path);
		CU_ASSERT_STRING_EQUAL(e.msg, want);
	}
	xdbc_close(c);

	/* Raw frames for tests of the server: an unknown type gets ERR. */
	c = xdbc_connect_unix(path, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	{
		struct buf b, p;
		struct frame_hdr h;

		buf_init(&b);
		buf_init(&p);
		proto_frame(&b, 77, 0, 5, NULL, 0);
		CU_ASSERT_EQUAL(xdbc_send_raw(c, b.p, b.len, &e), 0);
		CU_ASSERT_EQUAL(xdbc_read_frame(c, &h, &p, &e), 0);
		CU_ASSERT(h.type == XM_R_ERR && h.seq == 5);
		buf_free(&b);
		buf_free(&p);
	}
	xdbc_close(c);

	record_free(&r);
	fake_stop(&f);
	CU_ASSERT_EQUAL(f.conns, 5);
	unit_rmtree(dir);
	free(dir);
}

static void
t_client_tls(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	unsigned char psk[TLSCTX_PSK_LEN];
	const char *secret = "a shared secret of enough length";
	struct fake f = { 0 };
	socklen_t sl = sizeof(sin);
	char port[16], port2[16], want[256], *text;
	struct record r;
	struct xerr e;
	struct xdbc *c;
	uint64_t t0;
	int lfd;

	signal(SIGPIPE, SIG_IGN);
	record_init(&r);
	CU_ASSERT_EQUAL(tlsctx_derive(secret, strlen(secret), TLSCTX_LABEL_CLIENT, psk), 0);
	f.ctx = tlsctx_server_psk(psk, TLSCTX_IDENTITY_CLIENT, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(f.ctx);
	SSL_CTX_set_mode(f.ctx, SSL_MODE_AUTO_RETRY);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f.lfd = socket(AF_INET, SOCK_STREAM, 0);
	CU_ASSERT_EQUAL_FATAL(bind(f.lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	CU_ASSERT_EQUAL_FATAL(listen(f.lfd, 8), 0);
	getsockname(f.lfd, (struct sockaddr *)&sin, &sl);
	snprintf(port, sizeof(port), "%u", ntohs(sin.sin_port));
	pthread_create(&f.th, NULL, fake_main, &f);

	c = xdbc_connect_tls("127.0.0.1", port, secret, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(xdbc_status(c, &text, &e), 0);
	CU_ASSERT_STRING_EQUAL(text, "role primary\nrecords 42\n");
	free(text);
	xdbc_close(c);

	/* With a time limit, a reply that does not come in time breaks the
	 * connection (the fake answers 0.bad.slow after 600 ms). */
	c = xdbc_connect_tls_timeout("127.0.0.1", port, secret, 200, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	t0 = util_now_ms();
	CU_ASSERT_EQUAL(xdbc_get(c, "0.bad.slow", &r, &e), -1);
	CU_ASSERT(util_now_ms() - t0 < 550);
	snprintf(want, sizeof(want), "no reply from guisvr at 127.0.0.1:%s within 200 ms",
	    port);
	CU_ASSERT_STRING_EQUAL(e.msg, want);
	xdbc_close(c);
	record_free(&r);

	CU_ASSERT_PTR_NULL(xdbc_connect_tls("127.0.0.1", port, "a wrong secret, also long", &e));
	CU_ASSERT_EQUAL(e.code, -1);
	snprintf(want, sizeof(want), "TLS handshake with 127.0.0.1:%s failed: ", port);
	CU_ASSERT(strncmp(e.msg, want, strlen(want)) == 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "(check the client key)"));

	fake_stop(&f);
	CU_ASSERT_EQUAL(f.conns, 3);
	CU_ASSERT_EQUAL(f.handshakes_failed, 1);

	/* A listener that never accepts: the handshake gets no answer and
	 * gives up after the limit. */
	sin.sin_port = 0;
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	CU_ASSERT_EQUAL_FATAL(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	CU_ASSERT_EQUAL_FATAL(listen(lfd, 8), 0);
	sl = sizeof(sin);
	getsockname(lfd, (struct sockaddr *)&sin, &sl);
	snprintf(port2, sizeof(port2), "%u", ntohs(sin.sin_port));
	t0 = util_now_ms();
	CU_ASSERT_PTR_NULL(xdbc_connect_tls_timeout("127.0.0.1", port2, secret, 200, &e));
	CU_ASSERT(util_now_ms() - t0 < 2000);
	snprintf(want, sizeof(want), "TLS handshake with 127.0.0.1:%s failed: no answer "
	    "within 200 ms (guisvr stopped or overloaded?)", port2);
	CU_ASSERT_STRING_EQUAL(e.msg, want);
	close(lfd);

	/* Nobody listening on that port any more. */
	CU_ASSERT_PTR_NULL(xdbc_connect_tls("127.0.0.1", port, secret, &e));
	snprintf(want, sizeof(want), "cannot connect to 127.0.0.1:%s: Connection refused",
	    port);
	CU_ASSERT(strncmp(e.msg, want, strlen(want)) == 0);
	CU_ASSERT_PTR_NULL(xdbc_connect_tls("::1", "bad port", secret, &e));
	CU_ASSERT(strncmp(e.msg, "cannot resolve [::1]:bad port: ", 31) == 0);
}

void
test_proto_register(void)
{
	CU_pSuite s = CU_add_suite("proto", NULL, NULL);

	CU_add_test(s, "header round trip", t_header);
	CU_add_test(s, "frame builders", t_frame);
	CU_add_test(s, "error and type names", t_names);
	CU_add_test(s, "batch parsing", t_batch);
	CU_add_test(s, "requests as guisvr reads them", t_decode_request);
	CU_add_test(s, "HKDF key derivation", t_derive);
	CU_add_test(s, "TLS 1.3 PSK handshake", t_tls_psk);
	CU_add_test(s, "client over a UNIX socket", t_client_unix);
	CU_add_test(s, "client over TLS", t_client_tls);
}
