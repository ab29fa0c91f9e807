/* test_reptransport.c — the replication transport (guisvr/reptransport.c)
 * over real TLS connections on loopback: two or three transports in this
 * process, on 127.0.0.1/2/3 and a port derived from our pid. */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "unit.h"
#include "be.h"
#include "log.h"
#include "tlsctx.h"
#include "util.h"
#include "reptransport.h"

#define SECRET "unit-test replication secret 0123456789"
#define BUILD "test-build 1.0"

struct rxmsg {
	int eid;
	uint8_t type;
	unsigned char *ctrl, *rec;
	uint32_t ctrl_len, rec_len;
	struct rt_lsn lsn;
	uint32_t flags;
};

/* What one transport's callbacks saw. */
struct rx {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	struct rxmsg msgs[64];
	size_t n;               /* messages seen (only the first 64 kept) */
	int nostore;            /* count + check the pattern only (big transfers) */
	uint32_t next_seq;      /* nostore: expected lsn.offset */
	int out_of_order;
	int gate;               /* on_message blocks while set */
	int ups[8], downs[8];
};

static int port_base;

static void
rx_init(struct rx *r)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cond, NULL);
}

static void
rx_free(struct rx *r)
{
	size_t i;

	for (i = 0; i < r->n && i < 64; i++) {
		free(r->msgs[i].ctrl);
		free(r->msgs[i].rec);
	}
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cond);
}

static void *
dup_bytes(const void *p, size_t n)
{
	void *q = malloc(n ? n : 1);

	if (n)
		memcpy(q, p, n);
	return q;
}

static void
on_message(const struct rt_msg *m, void *arg)
{
	struct rx *r = arg;
	struct rxmsg *s;

	pthread_mutex_lock(&r->mu);
	while (r->gate)
		pthread_cond_wait(&r->cond, &r->mu);
	if (r->nostore) {
		const unsigned char *rec = m->rec;
		uint32_t i;

		if (m->lsn.offset != r->next_seq)
			r->out_of_order++;
		for (i = 0; i < m->rec_len; i++)
			if (rec[i] != (unsigned char)(m->lsn.offset + i))
				r->out_of_order++;
		r->next_seq = m->lsn.offset + 1;
	} else if (r->n < 64) {
		s = &r->msgs[r->n];
		s->eid = m->eid;
		s->type = m->type;
		s->ctrl = dup_bytes(m->ctrl, m->ctrl_len);
		s->ctrl_len = m->ctrl_len;
		s->rec = dup_bytes(m->rec, m->rec_len);
		s->rec_len = m->rec_len;
		s->lsn = m->lsn;
		s->flags = m->flags;
	}
	r->n++;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->mu);
}

static void
on_peer(int eid, int up, void *arg)
{
	struct rx *r = arg;

	pthread_mutex_lock(&r->mu);
	if (eid >= 0 && eid < 8) {
		if (up)
			r->ups[eid]++;
		else
			r->downs[eid]++;
	}
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->mu);
}

/* Wait until r has seen n messages; 0 or -1 on timeout. */
static int
rx_wait(struct rx *r, size_t n, int ms)
{
	uint64_t end = util_now_ms() + (uint64_t)ms;
	int ok;

	for (;;) {
		pthread_mutex_lock(&r->mu);
		ok = r->n >= n;
		pthread_mutex_unlock(&r->mu);
		if (ok)
			return 0;
		if (util_now_ms() >= end)
			return -1;
		usleep(5000);
	}
}

static int
rx_count(struct rx *r, const int *field)
{
	int v;

	pthread_mutex_lock(&r->mu);
	v = *field;
	pthread_mutex_unlock(&r->mu);
	return v;
}

/* Options for node eid on 127.0.0.eid, peers the other eids of nodes[]. */
static void
node_opts(struct rt_opts *o, int eid, const int *nodes, int nnodes, int port,
    struct rx *r)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->self_eid = eid;
	o->self_addr = eid == 1 ? "127.0.0.1" : eid == 2 ? "127.0.0.2" : "127.0.0.3";
	o->port = port;
	for (i = 0; i < nnodes; i++) {
		if (nodes[i] == eid)
			continue;
		o->peers[o->npeers].eid = nodes[i];
		snprintf(o->peers[o->npeers].addr, sizeof(o->peers[0].addr), "127.0.0.%d",
		    nodes[i]);
		o->npeers++;
	}
	o->secret = SECRET;
	o->build = BUILD;
	o->send_timeout_ms = 2000;
	o->on_message = on_message;
	o->on_peer = on_peer;
	o->arg = r;
}

static struct reptransport *
start(const struct rt_opts *o)
{
	char err[512];
	struct reptransport *rt = rt_start(o, err, sizeof(err));

	if (rt == NULL)
		fprintf(stderr, "\nrt_start: %s\n", err);
	return rt;
}

static int
wait_up(struct reptransport *rt, int eid, int ms)
{
	uint64_t end = util_now_ms() + (uint64_t)ms;

	while (!rt_peer_up(rt, eid)) {
		if (util_now_ms() >= end)
			return -1;
		usleep(5000);
	}
	return 0;
}

/* The suite logs to one file; a test counts lines written since its mark. */
static char *logdir;
static char logpath[512];
static void (*old_sigpipe)(int);

static int
suite_init(void)
{
	struct log_opts o;
	char err[512];

	/* our raw test clients write to sockets the transport may close */
	old_sigpipe = signal(SIGPIPE, SIG_IGN);
	logdir = unit_tmpdir();
	snprintf(logpath, sizeof(logpath), "%s/rep.log", logdir);
	memset(&o, 0, sizeof(o));
	o.path = logpath;
	o.ident = "unit";
	o.level = LOG_LVL_DEBUG;
	if (log_open(&o, err, sizeof(err)) != 0) {
		fprintf(stderr, "\n%s\n", err);
		return -1;
	}
	return 0;
}

static int
suite_cleanup(void)
{
	char cmd[600];

	log_close();
	signal(SIGPIPE, old_sigpipe);
	if (getenv("RT_SHOWLOG") != NULL) {
		snprintf(cmd, sizeof(cmd), "cat '%s' >&2", logpath);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot show %s\n", logpath);
	}
	unit_rmtree(logdir);
	free(logdir);
	return 0;
}

static size_t
log_mark(void)
{
	size_t len = 0;
	char err[512], *s;

	if ((s = util_read_file(logpath, 1 << 24, &len, err, sizeof(err))) == NULL)
		return 0;
	free(s);
	return len;
}

/* Lines containing needle written after mark. */
static int
log_count(size_t mark, const char *needle)
{
	char err[512], *s, *p;
	size_t len = 0;
	int n = 0;

	if ((s = util_read_file(logpath, 1 << 24, &len, err, sizeof(err))) == NULL)
		return -1;
	for (p = s + (mark < len ? mark : len); (p = strstr(p, needle)) != NULL;
	    p += strlen(needle))
		n++;
	free(s);
	return n;
}

static void
fill(unsigned char *p, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (unsigned char)(seed >> 16);
	}
}

static int
same_msg(const struct rxmsg *got, const struct rt_msg *want, int from)
{
	return got->eid == from && got->type == want->type &&
	    got->ctrl_len == want->ctrl_len && got->rec_len == want->rec_len &&
	    (want->ctrl_len == 0 || memcmp(got->ctrl, want->ctrl, want->ctrl_len) == 0) &&
	    (want->rec_len == 0 || memcmp(got->rec, want->rec, want->rec_len) == 0) &&
	    got->lsn.file == want->lsn.file && got->lsn.offset == want->lsn.offset &&
	    got->flags == want->flags;
}

static int
sh(const char *dir, const char *cmd)
{
	char buf[2048];

	snprintf(buf, sizeof(buf), "cd '%s' && (%s) >/dev/null 2>&1", dir, cmd);
	return system(buf);
}

static const int pair[] = { 1, 2 };

/* Messages and acks both ways, byte-exact; broadcast; bad arguments. */
static void
test_exchange(void)
{
	struct rt_opts oa, ob;
	struct reptransport *a, *b;
	struct rx ra, rb;
	struct rt_msg m1, m2, m3, ack, bc;
	struct rt_stats st;
	unsigned char ctrl[100], *rec = malloc(5000), *big = malloc(1 << 20);
	int port = port_base + 0;

	rx_init(&ra);
	rx_init(&rb);
	node_opts(&oa, 1, pair, 2, port, &ra);
	node_opts(&ob, 2, pair, 2, port, &rb);
	a = start(&oa);
	b = start(&ob);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(wait_up(a, 2, 3000), 0);
	CU_ASSERT_EQUAL(wait_up(b, 1, 3000), 0);
	usleep(20000);
	CU_ASSERT_EQUAL(rx_count(&ra, &ra.ups[2]), 1);
	CU_ASSERT_EQUAL(rx_count(&rb, &rb.ups[1]), 1);

	fill(ctrl, sizeof(ctrl), 1);
	fill(rec, 5000, 2);
	fill(big, 1 << 20, 3);
	memset(&m1, 0, sizeof(m1));
	m1.type = RT_MSG;
	m1.ctrl = ctrl;
	m1.ctrl_len = sizeof(ctrl);
	m1.rec = rec;
	m1.rec_len = 5000;
	m1.lsn.file = 7;
	m1.lsn.offset = 123456;
	m1.flags = 0xdeadbeef;
	memset(&m2, 0, sizeof(m2));
	m2.type = RT_MSG;
	m2.lsn.file = 0xffffffff;
	m2.flags = 1;
	memset(&m3, 0, sizeof(m3));
	m3.type = RT_MSG;
	m3.ctrl = ctrl;
	m3.ctrl_len = 1;
	m3.rec = big;
	m3.rec_len = 1 << 20;
	m3.lsn.file = 3;
	m3.lsn.offset = 4;
	memset(&ack, 0, sizeof(ack));
	ack.type = RT_ACK;
	ack.lsn.file = 9;
	ack.lsn.offset = 42;

	CU_ASSERT_EQUAL(rt_send(a, 2, &m1), 0);
	CU_ASSERT_EQUAL(rt_send(a, 2, &m2), 0);
	CU_ASSERT_EQUAL(rt_send(a, 2, &ack), 0);
	CU_ASSERT_EQUAL(rt_send(b, 1, &ack), 0);
	CU_ASSERT_EQUAL(rt_send(b, 1, &m3), 0);
	CU_ASSERT_EQUAL(rt_send(b, 1, &m1), 0);
	CU_ASSERT_EQUAL_FATAL(rx_wait(&rb, 3, 3000), 0);
	CU_ASSERT_EQUAL_FATAL(rx_wait(&ra, 3, 3000), 0);
	CU_ASSERT(same_msg(&rb.msgs[0], &m1, 1));
	CU_ASSERT(same_msg(&rb.msgs[1], &m2, 1));
	CU_ASSERT(same_msg(&rb.msgs[2], &ack, 1));
	CU_ASSERT(same_msg(&ra.msgs[0], &ack, 2));
	CU_ASSERT(same_msg(&ra.msgs[1], &m3, 2));
	CU_ASSERT(same_msg(&ra.msgs[2], &m1, 2));

	/* broadcast reaches the (only) peer */
	memset(&bc, 0, sizeof(bc));
	bc.type = RT_MSG;
	bc.ctrl = "bcast";
	bc.ctrl_len = 5;
	bc.lsn.offset = 77;
	CU_ASSERT_EQUAL(rt_send(a, RT_EID_BROADCAST, &bc), 0);
	CU_ASSERT_EQUAL_FATAL(rx_wait(&rb, 4, 3000), 0);
	CU_ASSERT(same_msg(&rb.msgs[3], &bc, 1));

	/* unknown peer, bad type, NULL bytes with a length */
	CU_ASSERT_EQUAL(rt_send(a, 5, &m1), -1);
	bc.type = RT_PING;
	CU_ASSERT_EQUAL(rt_send(a, 2, &bc), -1);
	bc.type = RT_MSG;
	bc.ctrl = NULL;
	CU_ASSERT_EQUAL(rt_send(a, 2, &bc), -1);

	CU_ASSERT_EQUAL(rt_peer_stats(a, 2, &st), 0);
	CU_ASSERT(st.bytes_sent >= 5000 + 100);
	CU_ASSERT(st.bytes_received >= (1 << 20));
	CU_ASSERT_EQUAL(st.frames_bad, 0);
	CU_ASSERT_EQUAL(st.auth_failures, 0);
	CU_ASSERT_EQUAL(rt_peer_stats(a, 5, &st), -1);
	CU_ASSERT_EQUAL(rt_peer_up(a, 5), 0);

	rt_stop(a);
	rt_stop(b);
	rx_free(&ra);
	rx_free(&rb);
	free(rec);
	free(big);
}

/* Messages nobody waits for: a lazy one waits for a later message, a "soon"
 * one leaves by itself within RT_SOON_US (not at the next 250 ms tick), and
 * everything arrives in order. */
static void
test_soon(void)
{
	struct rt_opts oa, ob;
	struct reptransport *a, *b;
	struct rx ra, rb;
	struct rt_msg m;
	uint64_t t0;
	uint32_t i;
	int port = port_base + 9, quick = 0, trial;

	rx_init(&ra);
	rx_init(&rb);
	node_opts(&oa, 1, pair, 2, port, &ra);
	node_opts(&ob, 2, pair, 2, port, &rb);
	a = start(&oa);
	b = start(&ob);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL_FATAL(wait_up(a, 2, 3000), 0);

	/* a transaction's records (lazy), then its commit (soon), 20 times */
	memset(&m, 0, sizeof(m));
	m.type = RT_MSG;
	m.ctrl = "c";
	m.ctrl_len = 1;
	m.lazy = 1;
	for (i = 0; i < 40; i++) {
		m.lsn.offset = i;
		m.soon = i % 2;
		CU_ASSERT_EQUAL(rt_send(a, 2, &m), 0);
	}
	CU_ASSERT_EQUAL_FATAL(rx_wait(&rb, 40, 3000), 0);
	for (i = 0; i < 40; i++)
		CU_ASSERT_EQUAL(rb.msgs[i].lsn.offset, i);

	/* one soon message at a time: delivered well before the tick would
	 * (tick-only delivery within 100 ms is a 40% chance per trial) */
	m.soon = 1;
	for (trial = 0; trial < 10; trial++) {
		usleep(30000);
		m.lsn.offset = 100 + (uint32_t)trial;
		t0 = util_now_ms();
		CU_ASSERT_EQUAL(rt_send(a, 2, &m), 0);
		CU_ASSERT_EQUAL_FATAL(rx_wait(&rb, 41 + (size_t)trial, 3000), 0);
		if (util_now_ms() - t0 < 100)
			quick++;
	}
	CU_ASSERT(quick >= 8);

	rt_stop(a);
	rt_stop(b);
	rx_free(&ra);
	rx_free(&rb);
}

/* Different keys: no connection, counted and logged once per 10 s. */
static void
test_wrong_secret(void)
{
	struct rt_opts oa, ob;
	struct reptransport *a, *b;
	struct rx ra, rb;
	struct rt_stats sa, sb;
	size_t mark = log_mark();
	int port = port_base + 1;

	rx_init(&ra);
	rx_init(&rb);
	node_opts(&oa, 1, pair, 2, port, &ra);
	node_opts(&ob, 2, pair, 2, port, &rb);
	ob.secret = "a different secret entirely";
	a = start(&oa);
	b = start(&ob);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	usleep(1600 * 1000);
	CU_ASSERT(!rt_peer_up(a, 2));
	CU_ASSERT(!rt_peer_up(b, 1));
	CU_ASSERT_EQUAL(rt_peer_stats(a, 2, &sa), 0);
	CU_ASSERT_EQUAL(rt_peer_stats(b, 1, &sb), 0);
	/* the dialer retried (100, 200, 400, 800 ms), each one failed */
	CU_ASSERT(sb.auth_failures >= 2);
	CU_ASSERT(sa.auth_failures >= 2);
	CU_ASSERT_EQUAL(rx_count(&ra, &ra.ups[2]), 0);
	rt_stop(a);
	rt_stop(b);
	CU_ASSERT_EQUAL(log_count(mark, "peer authentication failed from 127.0.0.1: "), 1);
	CU_ASSERT_EQUAL(log_count(mark, "peer authentication failed from 127.0.0.2: "), 1);
	rx_free(&ra);
	rx_free(&rb);
}

/* A TCP socket from src to dst:port; -1 on failure. */
static int
tcp_from(const char *src, const char *dst, int port)
{
	struct sockaddr_in s, d;
	struct timeval tv = { 3, 0 };
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	inet_pton(AF_INET, src, &s.sin_addr);
	memset(&d, 0, sizeof(d));
	d.sin_family = AF_INET;
	d.sin_port = htons(port);
	inet_pton(AF_INET, dst, &d.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(fd, (struct sockaddr *)&s, sizeof(s)) == -1 ||
	    connect(fd, (struct sockaddr *)&d, sizeof(d)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* 1 if the server closed fd (EOF or reset) within the receive timeout. */
static int
tcp_closed(int fd)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	return n == 0 || (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK);
}

/* A TLS client that knows the key, as a malicious or broken peer would:
 * sends data after the handshake; 1 if the server then closed. */
static int
tls_peer_send(SSL_CTX *ctx, const char *src, const char *dst, int port,
    const void *data, size_t len)
{
	char buf[4096];
	SSL *ssl;
	int fd, n, closed = 0;

	if ((fd = tcp_from(src, dst, port)) == -1)
		return -1;
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1 || SSL_write(ssl, data, (int)len) != (int)len) {
		SSL_free(ssl);
		close(fd);
		return -1;
	}
	for (;;) {
		n = SSL_read(ssl, buf, sizeof(buf));
		if (n > 0)
			continue;
		closed = !(SSL_get_error(ssl, n) == SSL_ERROR_SYSCALL &&
		    (errno == EAGAIN || errno == EWOULDBLOCK));
		break;
	}
	SSL_free(ssl);
	close(fd);
	return closed;
}

static size_t
hello(unsigned char *p, uint32_t eid, const char *build)
{
	size_t blen = strlen(build), len = 11 + blen;

	be32_put(p, (uint32_t)len);
	p[4] = RT_HELLO;
	be32_put(p + 5, eid);
	be32_put(p + 9, 1);
	be16_put(p + 13, (uint16_t)blen);
	memcpy(p + 15, build, blen);
	return 4 + len;
}

/* Garbage, strangers, oversized and inconsistent frames: each connection is
 * closed and counted, and the real peers still talk afterwards. */
static void
test_malformed(void)
{
	struct rt_opts oa, ob;
	struct reptransport *a, *b;
	struct rx ra, rb;
	struct rt_stats st;
	struct rt_msg m;
	unsigned char psk[TLSCTX_PSK_LEN], f[256];
	char err[512];
	SSL_CTX *ctx;
	size_t n, mark = log_mark();
	int port = port_base + 2, fd;

	rx_init(&ra);
	rx_init(&rb);
	node_opts(&oa, 1, pair, 2, port, &ra);
	node_opts(&ob, 2, pair, 2, port, &rb);
	a = start(&oa);
	b = start(&ob);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(wait_up(a, 2, 3000), 0);

	/* plain garbage from a peer's address: the TLS handshake fails */
	fd = tcp_from("127.0.0.1", "127.0.0.2", port);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, "GET / HTTP/1.0\r\n\r\n\x01\x02\x03garbage", 28), 28);
	CU_ASSERT(tcp_closed(fd));
	close(fd);
	/* a stranger's address: closed at once */
	fd = tcp_from("127.0.0.9", "127.0.0.2", port);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(tcp_closed(fd));
	close(fd);

	CU_ASSERT_EQUAL_FATAL(tlsctx_derive(SECRET, strlen(SECRET), REPTRANSPORT_LABEL, psk), 0);
	ctx = tlsctx_client_psk(psk, "hasvr-rep", err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
	/* an oversized length, before any HELLO */
	memcpy(f, "\x7f\xff\xff\xff\x01", 5);
	CU_ASSERT_EQUAL(tls_peer_send(ctx, "127.0.0.1", "127.0.0.2", port, f, 5), 1);
	/* a valid HELLO, then an unknown type */
	n = hello(f, 1, BUILD);
	memcpy(f + n, "\x00\x00\x00\x01\x09", 5);
	CU_ASSERT_EQUAL(tls_peer_send(ctx, "127.0.0.1", "127.0.0.2", port, f, n + 5), 1);
	/* a HELLO, then a MSG whose inner lengths exceed its frame */
	n = hello(f, 1, BUILD);
	memcpy(f + n, "\x00\x00\x00\x17\x01" "\x00\x00\x00\x01" "\x00\x00\x00\x02"
	    "\x00\x00\x00\x00" "\x00\x00\x00\x00" "\x00\x00\x00\x00" "ab", 27);
	CU_ASSERT_EQUAL(tls_peer_send(ctx, "127.0.0.1", "127.0.0.2", port, f, n + 27), 1);
	/* a HELLO from another build, and one claiming the wrong eid */
	n = hello(f, 1, "other-build");
	CU_ASSERT_EQUAL(tls_peer_send(ctx, "127.0.0.1", "127.0.0.2", port, f, n), 1);
	SSL_CTX_free(ctx);

	CU_ASSERT_EQUAL(rt_peer_stats(b, 1, &st), 0);
	CU_ASSERT_EQUAL(st.frames_bad, 3);
	CU_ASSERT(st.auth_failures >= 1);

	/* the real pair reconnects and works */
	CU_ASSERT_EQUAL(wait_up(a, 2, 4000), 0);
	CU_ASSERT_EQUAL(wait_up(b, 1, 4000), 0);
	memset(&m, 0, sizeof(m));
	m.type = RT_ACK;
	m.lsn.file = 5;
	CU_ASSERT_EQUAL(rt_send(a, 2, &m), 0);
	CU_ASSERT_EQUAL(rx_wait(&rb, 1, 3000), 0);

	rt_stop(a);
	rt_stop(b);
	CU_ASSERT_EQUAL(log_count(mark, "replication peer 127.0.0.1: malformed frame (length "
	    "2147483647 over the limit of 67108864 bytes); closing the connection"), 1);
	CU_ASSERT_EQUAL(log_count(mark, "replication peer 127.0.0.1: build other-build "
	    "differs from ours (" BUILD "); database sync refused until they match"), 1);
	CU_ASSERT_EQUAL(log_count(mark, "replication connection from 127.0.0.9 refused"), 1);
	CU_ASSERT_EQUAL(log_count(mark, "peer authentication failed from 127.0.0.1: "), 1);
	rx_free(&ra);
	rx_free(&rb);
}

/* The accepting node restarts: the dialer is back within about a second. */
static void
test_restart(void)
{
	struct rt_opts oa, ob;
	struct reptransport *a, *b;
	struct rx ra, rb;
	struct rt_stats st;
	struct rt_msg m;
	uint64_t t0;
	int port = port_base + 3;

	rx_init(&ra);
	rx_init(&rb);
	node_opts(&oa, 1, pair, 2, port, &ra);
	node_opts(&ob, 2, pair, 2, port, &rb);
	a = start(&oa);
	b = start(&ob);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL_FATAL(wait_up(a, 2, 3000), 0);
	rt_stop(b);
	t0 = util_now_ms();
	while (rx_count(&ra, &ra.downs[2]) == 0 && util_now_ms() - t0 < 3000)
		usleep(5000);
	CU_ASSERT_EQUAL(rx_count(&ra, &ra.downs[2]), 1);
	CU_ASSERT(!rt_peer_up(a, 2));
	memset(&m, 0, sizeof(m));
	m.type = RT_ACK;
	CU_ASSERT_EQUAL(rt_send(a, 2, &m), -1);     /* not connected */

	b = start(&ob);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	t0 = util_now_ms();
	CU_ASSERT_EQUAL(wait_up(a, 2, 3000), 0);
	CU_ASSERT(util_now_ms() - t0 < 1500);
	CU_ASSERT_EQUAL(wait_up(b, 1, 3000), 0);
	CU_ASSERT_EQUAL(rt_send(a, 2, &m), 0);
	CU_ASSERT_EQUAL(rx_wait(&rb, 1, 3000), 0);
	CU_ASSERT_EQUAL(rt_peer_stats(a, 2, &st), 0);
	CU_ASSERT_EQUAL(st.reconnects, 1);
	rt_stop(a);
	rt_stop(b);
	rx_free(&ra);
	rx_free(&rb);
}

/* A stalled receiver: rt_send waits, then fails after send_timeout_ms with a
 * bounded queue; everything accepted before arrives, in order. */
static void
test_backpressure(void)
{
	struct rt_opts oa, ob;
	struct reptransport *a, *b;
	struct rx ra, rb;
	struct rt_stats st;
	struct rt_msg m;
	unsigned char *rec = malloc(65536);
	uint32_t seq, i;
	uint64_t t, waited = 0;
	size_t maxq = 0;
	int rc = 0, port = port_base + 4;

	rx_init(&ra);
	rx_init(&rb);
	rb.nostore = 1;
	rb.gate = 1;
	node_opts(&oa, 1, pair, 2, port, &ra);
	node_opts(&ob, 2, pair, 2, port, &rb);
	oa.queue_bytes = 256 * 1024;
	oa.send_timeout_ms = 300;
	a = start(&oa);
	b = start(&ob);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL_FATAL(wait_up(a, 2, 3000), 0);
	memset(&m, 0, sizeof(m));
	m.type = RT_MSG;
	m.rec = rec;
	m.rec_len = 65536;
	for (seq = 0; seq < 1000; seq++) {
		for (i = 0; i < 65536; i++)
			rec[i] = (unsigned char)(seq + i);
		m.lsn.offset = seq;
		t = util_now_ms();
		rc = rt_send(a, 2, &m);
		if (rt_peer_stats(a, 2, &st) == 0 && st.queued_bytes > maxq)
			maxq = st.queued_bytes;
		if (rc != 0) {
			waited = util_now_ms() - t;
			break;
		}
	}
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT(waited >= 250);
	CU_ASSERT(seq > 0);
	CU_ASSERT(maxq <= 256 * 1024 + 65536 + 64);
	CU_ASSERT(rt_peer_up(a, 2));

	pthread_mutex_lock(&rb.mu);
	rb.gate = 0;
	pthread_cond_broadcast(&rb.cond);
	pthread_mutex_unlock(&rb.mu);
	CU_ASSERT_EQUAL(rx_wait(&rb, seq, 8000), 0);
	usleep(50000);
	CU_ASSERT_EQUAL(rx_count(&rb, &rb.out_of_order), 0);
	pthread_mutex_lock(&rb.mu);
	CU_ASSERT_EQUAL(rb.n, seq);
	pthread_mutex_unlock(&rb.mu);
	rt_stop(a);
	rt_stop(b);
	rx_free(&ra);
	rx_free(&rb);
	free(rec);
}

/* Three nodes: every pair connects; a broadcast reaches both others. */
static void
test_mesh(void)
{
	static const int three[] = { 1, 2, 3 };
	struct rt_opts o[3];
	struct reptransport *t[3];
	struct rx r[3];
	struct rt_msg m;
	int i, j, port = port_base + 5;

	for (i = 0; i < 3; i++) {
		rx_init(&r[i]);
		node_opts(&o[i], i + 1, three, 3, port, &r[i]);
		t[i] = start(&o[i]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(t[i]);
	}
	for (i = 0; i < 3; i++)
		for (j = 0; j < 3; j++)
			if (i != j)
				CU_ASSERT_EQUAL(wait_up(t[i], j + 1, 3000), 0);
	memset(&m, 0, sizeof(m));
	m.type = RT_MSG;
	m.ctrl = "hi";
	m.ctrl_len = 2;
	m.lsn.file = 2;
	CU_ASSERT_EQUAL(rt_send(t[1], RT_EID_BROADCAST, &m), 0);
	CU_ASSERT_EQUAL(rx_wait(&r[0], 1, 3000), 0);
	CU_ASSERT_EQUAL(rx_wait(&r[2], 1, 3000), 0);
	CU_ASSERT(same_msg(&r[0].msgs[0], &m, 2));
	CU_ASSERT(same_msg(&r[2].msgs[0], &m, 2));
	m.lsn.file = 3;
	CU_ASSERT_EQUAL(rt_send(t[2], 1, &m), 0);
	CU_ASSERT_EQUAL(rx_wait(&r[0], 2, 3000), 0);
	CU_ASSERT(same_msg(&r[0].msgs[1], &m, 3));
	CU_ASSERT_EQUAL(r[1].n, 0);
	for (i = 0; i < 3; i++) {
		rt_stop(t[i]);
		rx_free(&r[i]);
	}
}

/* 2 MB at 1 MB/s takes well over a second. */
static void
test_bandwidth(void)
{
	struct rt_opts oa, ob;
	struct reptransport *a, *b;
	struct rx ra, rb;
	struct rt_msg m;
	unsigned char *rec = malloc(65536);
	uint64_t t0, took;
	uint32_t seq, i;
	int port = port_base + 6;

	rx_init(&ra);
	rx_init(&rb);
	rb.nostore = 1;
	node_opts(&oa, 1, pair, 2, port, &ra);
	node_opts(&ob, 2, pair, 2, port, &rb);
	oa.bandwidth = 1024 * 1024;
	a = start(&oa);
	b = start(&ob);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL_FATAL(wait_up(a, 2, 3000), 0);
	memset(&m, 0, sizeof(m));
	m.type = RT_MSG;
	m.rec = rec;
	m.rec_len = 65536;
	t0 = util_now_ms();
	for (seq = 0; seq < 32; seq++) {
		for (i = 0; i < 65536; i++)
			rec[i] = (unsigned char)(seq + i);
		m.lsn.offset = seq;
		CU_ASSERT_EQUAL(rt_send(a, 2, &m), 0);
	}
	CU_ASSERT_EQUAL(rx_wait(&rb, 32, 8000), 0);
	took = util_now_ms() - t0;
	CU_ASSERT(took >= 1500);
	CU_ASSERT_EQUAL(rx_count(&rb, &rb.out_of_order), 0);
	rt_stop(a);
	rt_stop(b);
	rx_free(&ra);
	rx_free(&rb);
	free(rec);
}

/* A CA and a certificate for name signed by it (files name.pem/name.key). */
static int
make_cert(const char *dir, const char *ca, const char *name)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd),
	    "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
	    "-keyout %s.key -out %s.csr -subj /CN=%s && "
	    "openssl x509 -req -in %s.csr -CA %s.pem -CAkey %s.key -CAcreateserial "
	    "-out %s.pem -days 2", name, name, name, name, ca, ca, name);
	return sh(dir, cmd);
}

static int
make_ca(const char *dir, const char *ca)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd),
	    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
	    "-keyout %s.key -out %s.pem -days 2 -subj /CN=%s", ca, ca, ca);
	return sh(dir, cmd);
}

/* Certificates instead of the shared key; a node whose certificate another
 * CA signed is refused. */
static void
test_certs(void)
{
	struct rt_opts oa, ob;
	struct reptransport *a, *b;
	struct rx ra, rb;
	struct rt_stats st;
	struct rt_msg m;
	char *dir = unit_tmpdir(), ca[512], c1[512], k1[512], c2[512], k2[512],
	    rca[512], rc2[512], rk2[512];
	int port = port_base + 7;

	if (system("openssl version >/dev/null 2>&1") != 0 ||
	    make_ca(dir, "ca") != 0 || make_ca(dir, "rogue") != 0 ||
	    make_cert(dir, "ca", "node1") != 0 || make_cert(dir, "ca", "node2") != 0 ||
	    make_cert(dir, "rogue", "evil2") != 0) {
		fprintf(stderr, "(openssl command missing or failed: certificate test skipped) ");
		unit_rmtree(dir);
		free(dir);
		return;
	}
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	snprintf(c1, sizeof(c1), "%s/node1.pem", dir);
	snprintf(k1, sizeof(k1), "%s/node1.key", dir);
	snprintf(c2, sizeof(c2), "%s/node2.pem", dir);
	snprintf(k2, sizeof(k2), "%s/node2.key", dir);
	snprintf(rca, sizeof(rca), "%s/rogue.pem", dir);
	snprintf(rc2, sizeof(rc2), "%s/evil2.pem", dir);
	snprintf(rk2, sizeof(rk2), "%s/evil2.key", dir);

	rx_init(&ra);
	rx_init(&rb);
	node_opts(&oa, 1, pair, 2, port, &ra);
	node_opts(&ob, 2, pair, 2, port, &rb);
	oa.secret = ob.secret = NULL;
	oa.tls_ca = ob.tls_ca = ca;
	oa.tls_cert = c1;
	oa.tls_key = k1;
	ob.tls_cert = c2;
	ob.tls_key = k2;
	a = start(&oa);
	b = start(&ob);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(wait_up(a, 2, 3000), 0);
	memset(&m, 0, sizeof(m));
	m.type = RT_ACK;
	m.lsn.offset = 11;
	CU_ASSERT_EQUAL(rt_send(a, 2, &m), 0);
	CU_ASSERT_EQUAL(rx_wait(&rb, 1, 3000), 0);
	rt_stop(b);

	/* node 2 with a certificate from another CA (trusting it too) */
	ob.tls_ca = rca;
	ob.tls_cert = rc2;
	ob.tls_key = rk2;
	b = start(&ob);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	usleep(800 * 1000);
	CU_ASSERT(!rt_peer_up(a, 2));
	CU_ASSERT_EQUAL(rt_peer_stats(a, 2, &st), 0);
	CU_ASSERT(st.auth_failures >= 1);
	rt_stop(a);
	rt_stop(b);

	/* a key that does not match the certificate is refused at start */
	{
		char err[512];

		oa.tls_key = k2;
		CU_ASSERT_PTR_NULL(rt_start(&oa, err, sizeof(err)));
		CU_ASSERT(strstr(err, "node2.key") != NULL);
	}
	rx_free(&ra);
	rx_free(&rb);
	unit_rmtree(dir);
	free(dir);
}

/* The frame codec alone: what each frame parses to, each refusal's words
 * (they end up in "malformed frame (...)" log lines), and the encoders. */
static void
test_frame_codec(void)
{
	unsigned char f[64], h[RT_LEN_WORD + RT_MSG_HDR];
	struct rt_frame fr;
	struct rt_msg m;
	char why[160];
	uint32_t len;
	size_t n;

	/* the length word */
	memcpy(f, "\0\0\0\x05", 4);
	CU_ASSERT_EQUAL(rt_frame_len(f, 3, 100, &len, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(rt_frame_len(f, 8, 100, &len, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(rt_frame_len(f, 9, 100, &len, why, sizeof(why)), 1);
	CU_ASSERT_EQUAL(len, 5);
	CU_ASSERT_EQUAL(rt_frame_len(f, 9, 4, &len, why, sizeof(why)), -1);
	CU_ASSERT_STRING_EQUAL(why, "length 5 over the limit of 4 bytes");
	memset(f, 0, 4);
	CU_ASSERT_EQUAL(rt_frame_len(f, 9, 100, &len, why, sizeof(why)), -1);
	CU_ASSERT_STRING_EQUAL(why, "empty frame");

	/* HELLO: first and once */
	n = rt_frame_hello(f, sizeof(f), 2, RT_VERSION, "b-1", 3);
	CU_ASSERT_EQUAL(n, RT_LEN_WORD + RT_HELLO_HDR + 3);
	CU_ASSERT_EQUAL(rt_frame_parse(f + 4, (uint32_t)n - 4, 0, &fr, why,
	    sizeof(why)), 0);
	CU_ASSERT_EQUAL(fr.type, RT_HELLO);
	CU_ASSERT_EQUAL(fr.hello_eid, 2);
	CU_ASSERT_EQUAL(fr.hello_version, RT_VERSION);
	CU_ASSERT_EQUAL(fr.build_len, 3);
	CU_ASSERT(memcmp(fr.build, "b-1", 3) == 0);
	CU_ASSERT_EQUAL(rt_frame_parse(f + 4, (uint32_t)n - 4, 1, &fr, why,
	    sizeof(why)), -1);
	CU_ASSERT_STRING_EQUAL(why, "a second HELLO");
	CU_ASSERT_EQUAL(rt_frame_parse(f + 4, (uint32_t)n - 5, 0, &fr, why,
	    sizeof(why)), -1);
	CU_ASSERT_STRING_EQUAL(why, "HELLO build length 3 does not match frame "
	    "length 13");
	CU_ASSERT_EQUAL(rt_frame_parse(f + 4, 10, 0, &fr, why, sizeof(why)), -1);
	CU_ASSERT_STRING_EQUAL(why, "HELLO of 10 bytes is shorter than its "
	    "header");
	CU_ASSERT_EQUAL(rt_frame_hello(f, sizeof(f), 2, RT_VERSION, "b", 256), 0);

	/* MSG: header, then ctrl and rec */
	memset(&m, 0, sizeof(m));
	m.type = RT_MSG;
	m.ctrl_len = 2;
	m.rec_len = 3;
	m.lsn.file = 7;
	m.lsn.offset = 99;
	m.flags = 1;
	CU_ASSERT_EQUAL(rt_frame_msg_head(&m, h), RT_LEN_WORD + RT_MSG_HDR);
	memcpy(f, h, sizeof(h));
	memcpy(f + sizeof(h), "ccrrr", 5);
	CU_ASSERT_EQUAL(rt_frame_parse(f + 4, RT_MSG_HDR + 5, 0, &fr, why,
	    sizeof(why)), -1);
	CU_ASSERT_STRING_EQUAL(why, "type 1 before HELLO");
	CU_ASSERT_EQUAL(rt_frame_parse(f + 4, RT_MSG_HDR + 5, 1, &fr, why,
	    sizeof(why)), 0);
	CU_ASSERT_EQUAL(fr.msg.type, RT_MSG);
	CU_ASSERT_EQUAL(fr.msg.lsn.file, 7);
	CU_ASSERT_EQUAL(fr.msg.lsn.offset, 99);
	CU_ASSERT_EQUAL(fr.msg.flags, 1);
	CU_ASSERT(memcmp(fr.msg.ctrl, "cc", 2) == 0);
	CU_ASSERT(memcmp(fr.msg.rec, "rrr", 3) == 0);
	CU_ASSERT_EQUAL(rt_frame_parse(f + 4, RT_MSG_HDR + 4, 1, &fr, why,
	    sizeof(why)), -1);
	CU_ASSERT_STRING_EQUAL(why, "MSG lengths 2 + 3 do not match frame "
	    "length 25");
	CU_ASSERT_EQUAL(rt_frame_parse(f + 4, 20, 1, &fr, why, sizeof(why)), -1);
	CU_ASSERT_STRING_EQUAL(why, "MSG of 20 bytes is shorter than its header");

	/* ACK, PING, unknown */
	m.type = RT_ACK;
	CU_ASSERT_EQUAL(rt_frame_msg_head(&m, h), RT_LEN_WORD + RT_ACK_LEN);
	CU_ASSERT_EQUAL(rt_frame_parse(h + 4, RT_ACK_LEN, 1, &fr, why,
	    sizeof(why)), 0);
	CU_ASSERT_EQUAL(fr.msg.lsn.offset, 99);
	CU_ASSERT_EQUAL(rt_frame_parse(h + 4, RT_ACK_LEN - 1, 1, &fr, why,
	    sizeof(why)), -1);
	CU_ASSERT_STRING_EQUAL(why, "ACK of 8 bytes, expected 9");
	f[0] = RT_PING;
	CU_ASSERT_EQUAL(rt_frame_parse(f, 1, 1, &fr, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(rt_frame_parse(f, 2, 1, &fr, why, sizeof(why)), -1);
	CU_ASSERT_STRING_EQUAL(why, "PING of 2 bytes, expected 1");
	f[0] = 9;
	CU_ASSERT_EQUAL(rt_frame_parse(f, 1, 1, &fr, why, sizeof(why)), -1);
	CU_ASSERT_STRING_EQUAL(why, "unknown type 9");
}

/* Option checks fail with a message and no thread. */
static void
test_bad_opts(void)
{
	struct rt_opts o;
	struct rx r;
	char err[512];

	rx_init(&r);
	node_opts(&o, 1, pair, 2, port_base + 8, &r);
	o.peers[0].eid = 1;
	CU_ASSERT_PTR_NULL(rt_start(&o, err, sizeof(err)));
	CU_ASSERT(strstr(err, "our own eid 1") != NULL);
	node_opts(&o, 1, pair, 2, 0, &r);
	CU_ASSERT_PTR_NULL(rt_start(&o, err, sizeof(err)));
	node_opts(&o, 1, pair, 2, port_base + 8, &r);
	o.secret = NULL;
	CU_ASSERT_PTR_NULL(rt_start(&o, err, sizeof(err)));
	node_opts(&o, 1, pair, 2, port_base + 8, &r);
	o.self_addr = "192.0.2.55";         /* not ours: cannot listen */
	CU_ASSERT_PTR_NULL(rt_start(&o, err, sizeof(err)));
	CU_ASSERT(strstr(err, "cannot listen on 192.0.2.55") != NULL);
	rx_free(&r);
}

void
test_reptransport_register(void)
{
	CU_pSuite s = CU_add_suite("reptransport", suite_init, suite_cleanup);

	/* below the ephemeral range (32768-60999): no outgoing connection of
	 * a test running beside this one can be holding these ports */
	port_base = 20000 + (int)(getpid() % 1270) * 10;
	CU_add_test(s, "messages and acks both ways, byte-exact", test_exchange);
	CU_add_test(s, "wrong secret: no connection, counted, logged", test_wrong_secret);
	CU_add_test(s, "garbage and malformed frames close the connection", test_malformed);
	CU_add_test(s, "peer restart: the dialer reconnects", test_restart);
	CU_add_test(s, "back-pressure: bounded queue, send times out", test_backpressure);
	CU_add_test(s, "three-node mesh", test_mesh);
	CU_add_test(s, "bandwidth limit", test_bandwidth);
	CU_add_test(s, "certificates instead of the shared key", test_certs);
	CU_add_test(s, "bad options", test_bad_opts);
	CU_add_test(s, "frame codec", test_frame_codec);
	CU_add_test(s, "lazy and soon messages: flushed in order, soon by a timer", test_soon);
}
