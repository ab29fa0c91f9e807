/* reptransport.c — the replication channel between guisvr nodes (see
 * reptransport.h for the contract and the frame format).
 *
 * One I/O thread runs a libevent loop that owns every socket, SSL object and
 * bufferevent. Other threads only touch a peer's "pending" evbuffer and the
 * counters, under rt->mu: rt_send appends a whole frame there and wakes the
 * loop (event_active), which moves pending frames into the connection's
 * bufferevent. A peer's queued bytes are its pending bytes plus what still
 * sits in the bufferevent's output; rt_send waits on rt->cond while that is
 * over queue_bytes, and the output buffer's drain callback signals it.
 *
 * Connection life: the smaller eid dials (TCP connect, then TLS, then HELLO
 * both ways); the larger one accepts connections only from a configured
 * peer's address. A peer is "up" once its valid HELLO arrived; a new valid
 * connection from a peer replaces an old one (the old one is probably dead
 * after a restart we have not noticed yet). A per-connection tick sends a
 * PING after a second without traffic and drops a peer silent for 5 s. */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "be.h"
#include "deadline.h"
#include "log.h"
#include "tlsctx.h"
#include "util.h"
#include "reptransport.h"

#define RT_IDENTITY             "hasvr-rep"
#define RT_BACKOFF_MIN_MS       100
#define RT_BACKOFF_MAX_MS       1000    /* a rejoining peer waits at most this */
#define RT_PING_MS              1000
#define RT_SILENT_MS            5000
#define RT_HANDSHAKE_MS         5000    /* TCP connect, TLS and HELLO each */
#define RT_STABLE_MS            5000    /* up this long: retry quickly after a drop */
#define RT_TICK_MS              250
#define RT_RATELIMIT_MS         10000
#define RT_DEFAULT_QUEUE        (8u * 1024 * 1024)
#define RT_DEFAULT_TIMEOUT_MS   5000
#define RT_MAXPEERS             8
#define RT_COALESCE_MAX         16384   /* one TLS record's worth */

/* One log line per kind and peer per RT_RATELIMIT_MS; the rest are counted
 * and reported with the next line (or by the tick once the period ends), so
 * a peer retrying every 100 ms cannot flood the log. */
struct ratelim {
	uint64_t last_ms;
	unsigned suppressed;
	int level;
	char msg[384];
};

enum conn_state { CS_CONNECTING, CS_TLS, CS_HELLO, CS_UP };

struct rt_peer;

struct rt_conn {
	TAILQ_ENTRY(rt_conn) entry;
	struct reptransport *rt;
	struct rt_peer *peer;
	enum conn_state state;
	int dialed;
	int fd;                         /* owned by bev once it exists */
	struct event *conn_ev;          /* TCP connect in progress */
	struct bufferevent *bev;
	struct evbuffer_cb_entry *outcb;
	uint64_t started_ms, up_ms, last_rx_ms, last_tx_ms;
	size_t out_len;                 /* bytes in bev's output (rt->mu) */
};
TAILQ_HEAD(conn_list, rt_conn);

struct rt_peer {
	struct reptransport *rt;
	int eid;
	char addr[64];
	struct sockaddr_storage ss;
	socklen_t sslen;
	int we_dial;
	struct rt_conn *dconn;          /* our outgoing connection, any state */
	struct event *dial_ev;
	int backoff_ms;
	int ever_up;
	/* Under rt->mu: */
	struct rt_conn *up;
	struct evbuffer *pending;
	size_t pend_len;
	struct rt_stats st;
	struct ratelim rl_full;
	/* I/O thread only: */
	struct ratelim rl_auth, rl_hello, rl_bad, rl_conn;
};

struct reptransport {
	int self_eid;
	char self_addr[64];
	struct sockaddr_storage self_ss;
	socklen_t self_sslen;
	int port;
	char *build;
	size_t max_frame, queue_bytes;
	int send_timeout_ms;
	void (*on_message)(const struct rt_msg *, void *);
	void (*on_peer)(int, int, void *);
	void (*on_batch)(void *);
	void *arg;

	struct rt_peer peers[RT_MAXPEERS];
	int npeers;

	SSL_CTX *sctx, *cctx;
	struct event_base *base;
	struct evconnlistener *listener;
	struct event *wake_ev, *tick_ev, *soon_ev;
	struct ev_token_bucket_cfg *bucket_cfg;
	struct bufferevent_rate_limit_group *group;
	struct evbuffer *scratch;       /* I/O thread: pending -> output */
	struct conn_list conns;
	struct ratelim rl_stranger, rl_listen;
	pthread_t io_thread;
	int io_started;

	pthread_mutex_t mu;
	pthread_cond_t cond;            /* a queue drained, a peer went down, stop */
	int nwaiters;
	int stopping;
	int wake_pending;               /* wake_ev activated, not yet run */
	int soon_armed;                 /* soon_ev added, not yet run */
};

static pthread_once_t evthread_once = PTHREAD_ONCE_INIT;
static int evthread_rc;

static void conn_close(struct rt_conn *, const char *);
static void conn_free(struct rt_conn *);
static void peer_schedule_dial(struct rt_peer *, int);

/* ---- small helpers ------------------------------------------------------ */

/* ---- the frame codec (pure; see reptransport.h) ------------------------- */

static int frame_bad(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static int
frame_bad(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int
rt_frame_len(const unsigned char *word, size_t avail, size_t max_frame,
    uint32_t *len, char *why, size_t whylen)
{
	*len = 0;
	if (avail < RT_LEN_WORD)
		return 0;
	*len = be32_get(word);
	if (*len == 0)
		return frame_bad(why, whylen, "empty frame");
	if (*len > max_frame)
		return frame_bad(why, whylen, "length %u over the limit of %zu bytes",
		    *len, max_frame);
	return avail - RT_LEN_WORD >= *len;
}

int
rt_frame_parse(const unsigned char *f, uint32_t len, int up,
    struct rt_frame *fr, char *why, size_t whylen)
{
	struct rt_msg *m = &fr->msg;
	uint32_t blen;

	memset(fr, 0, sizeof(*fr));
	if (len == 0)
		return frame_bad(why, whylen, "empty frame");
	fr->type = m->type = f[0];
	if (f[0] == RT_HELLO) {
		if (up)
			return frame_bad(why, whylen, "a second HELLO");
		if (len < RT_HELLO_HDR)
			return frame_bad(why, whylen, "HELLO of %u bytes is shorter "
			    "than its header", len);
		fr->hello_eid = be32_get(f + 1);
		fr->hello_version = be32_get(f + 5);
		blen = be16_get(f + 9);
		if (RT_HELLO_HDR + blen != len)
			return frame_bad(why, whylen, "HELLO build length %u does "
			    "not match frame length %u", blen, len);
		fr->build = f + RT_HELLO_HDR;
		fr->build_len = (uint16_t)blen;
		return 0;
	}
	if (f[0] != RT_MSG && f[0] != RT_ACK && f[0] != RT_PING)
		return frame_bad(why, whylen, "unknown type %u", f[0]);
	if (!up)
		return frame_bad(why, whylen, "type %u before HELLO", f[0]);
	switch (f[0]) {
	case RT_PING:
		if (len != 1)
			return frame_bad(why, whylen, "PING of %u bytes, expected 1",
			    len);
		break;
	case RT_ACK:
		if (len != RT_ACK_LEN)
			return frame_bad(why, whylen, "ACK of %u bytes, expected %d",
			    len, RT_ACK_LEN);
		m->lsn.file = be32_get(f + 1);
		m->lsn.offset = be32_get(f + 5);
		break;
	case RT_MSG:
		if (len < RT_MSG_HDR)
			return frame_bad(why, whylen, "MSG of %u bytes is shorter "
			    "than its header", len);
		m->ctrl_len = be32_get(f + 1);
		m->rec_len = be32_get(f + 5);
		if ((uint64_t)m->ctrl_len + m->rec_len != len - RT_MSG_HDR)
			return frame_bad(why, whylen, "MSG lengths %u + %u do not "
			    "match frame length %u", m->ctrl_len, m->rec_len, len);
		m->lsn.file = be32_get(f + 9);
		m->lsn.offset = be32_get(f + 13);
		m->flags = be32_get(f + 17);
		m->ctrl = m->ctrl_len > 0 ? f + RT_MSG_HDR : NULL;
		m->rec = m->rec_len > 0 ? f + RT_MSG_HDR + m->ctrl_len : NULL;
		break;
	}
	return 0;
}

size_t
rt_frame_msg_head(const struct rt_msg *m,
    unsigned char out[RT_LEN_WORD + RT_MSG_HDR])
{
	if (m->type == RT_ACK) {
		be32_put(out, RT_ACK_LEN);
		out[4] = RT_ACK;
		be32_put(out + 5, m->lsn.file);
		be32_put(out + 9, m->lsn.offset);
		return RT_LEN_WORD + RT_ACK_LEN;
	}
	be32_put(out, RT_MSG_HDR + m->ctrl_len + m->rec_len);
	out[4] = RT_MSG;
	be32_put(out + 5, m->ctrl_len);
	be32_put(out + 9, m->rec_len);
	be32_put(out + 13, m->lsn.file);
	be32_put(out + 17, m->lsn.offset);
	be32_put(out + 21, m->flags);
	return RT_LEN_WORD + RT_MSG_HDR;
}

size_t
rt_frame_hello(unsigned char *out, size_t outlen, uint32_t eid,
    uint32_t version, const char *build, size_t blen)
{
	if (blen > RT_BUILD_MAX || outlen < RT_LEN_WORD + RT_HELLO_HDR + blen)
		return 0;
	be32_put(out, (uint32_t)(RT_HELLO_HDR + blen));
	out[4] = RT_HELLO;
	be32_put(out + 5, eid);
	be32_put(out + 9, version);
	be16_put(out + 13, (uint16_t)blen);
	memcpy(out + 15, build, blen);
	return RT_LEN_WORD + RT_HELLO_HDR + blen;
}

/* ---- log rate limit ----------------------------------------------------- */

static void
rl_emit(int level, const char *msg, unsigned n, int flush)
{
	char tail[96] = "";

	if (n > 0)
		snprintf(tail, sizeof(tail), flush ?
		    " (repeated %u more times in the last 10 s)" :
		    " (%u similar lines suppressed in the last 10 s)", n);
	if (level == LOG_LVL_INFO)
		log_info("%s%s", msg, tail);
	else if (level == LOG_LVL_NOTICE)
		log_notice("%s%s", msg, tail);
	else
		log_warnx("%s%s", msg, tail);
}

static void rl_log(struct ratelim *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
rl_log(struct ratelim *rl, int level, const char *fmt, ...)
{
	uint64_t now = util_now_ms();
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rl->msg, sizeof(rl->msg), fmt, ap);
	va_end(ap);
	rl->level = level;
	if (rl->last_ms != 0 && now - rl->last_ms < RT_RATELIMIT_MS) {
		rl->suppressed++;
		return;
	}
	rl_emit(level, rl->msg, rl->suppressed, 0);
	rl->suppressed = 0;
	rl->last_ms = now;
}

static void
rl_flush(struct ratelim *rl, uint64_t now)
{
	if (rl->suppressed > 0 && now - rl->last_ms >= RT_RATELIMIT_MS) {
		rl_emit(rl->level, rl->msg, rl->suppressed, 1);
		rl->suppressed = 0;
		rl->last_ms = now;
	}
}

static int
addr_resolve(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len,
    char *err, size_t errlen)
{
	struct addrinfo hints, *res;
	char pstr[16];
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(pstr, sizeof(pstr), "%d", port);
	if ((rc = getaddrinfo(host, pstr, &hints, &res)) != 0) {
		snprintf(err, errlen, "cannot resolve replication address %s: %s",
		    host, gai_strerror(rc));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* Same host address (the port of an outgoing connection is arbitrary). */
static int
addr_same(const struct sockaddr *a, const struct sockaddr_storage *b)
{
	if (a->sa_family != b->ss_family)
		return 0;
	if (a->sa_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
		    &((const struct sockaddr_in *)b)->sin_addr, sizeof(struct in_addr)) == 0;
	if (a->sa_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		    &((const struct sockaddr_in6 *)b)->sin6_addr,
		    sizeof(struct in6_addr)) == 0;
	return 0;
}

static void
addr_str(const struct sockaddr *sa, socklen_t len, char *out, size_t outlen)
{
	if (getnameinfo(sa, len, out, outlen, NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(out, outlen, "(unknown address)");
}

/* Latency matters more than segment count (Berkeley DB waits for acks), and
 * keepalive catches a peer that vanished while we had nothing to say. */
static void
sock_tune(int fd)
{
	int on = 1, idle = 10, intvl = 3, cnt = 3;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) == -1)
		log_warn("replication socket: cannot set TCP_NODELAY");
	if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) == -1)
		log_warn("replication socket: cannot set SO_KEEPALIVE");
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

/* Peer text (a build string) goes into log lines: keep it printable. */
static void
sanitize(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

static struct rt_peer *
peer_find(struct reptransport *rt, int eid)
{
	int i;

	for (i = 0; i < rt->npeers; i++)
		if (rt->peers[i].eid == eid)
			return &rt->peers[i];
	return NULL;
}

static int
on_io_thread(struct reptransport *rt)
{
	return rt->io_started && pthread_equal(pthread_self(), rt->io_thread);
}

/* ---- frames ------------------------------------------------------------- */

/* I/O thread: queue bytes on a connection directly (HELLO, PING). */
static void
conn_write(struct rt_conn *c, const void *p, size_t len)
{
	struct reptransport *rt = c->rt;

	pthread_mutex_lock(&rt->mu);
	c->out_len += len;
	pthread_mutex_unlock(&rt->mu);
	if (bufferevent_write(c->bev, p, len) != 0)
		log_warnx("replication peer %s: cannot queue %zu bytes (out of memory?)",
		    c->peer->addr, len);
	c->last_tx_ms = util_now_ms();
}

static void
conn_send_hello(struct rt_conn *c)
{
	struct reptransport *rt = c->rt;
	unsigned char h[RT_LEN_WORD + RT_HELLO_HDR + RT_BUILD_MAX];
	size_t n;

	/* rt_start refused a build longer than RT_BUILD_MAX */
	n = rt_frame_hello(h, sizeof(h), (uint32_t)rt->self_eid, RT_VERSION,
	    rt->build, strlen(rt->build));
	conn_write(c, h, n);
}

static void
conn_send_ping(struct rt_conn *c)
{
	static const unsigned char ping[5] = { 0, 0, 0, 1, RT_PING };

	conn_write(c, ping, sizeof(ping));
}

/* Count, log (rate-limited) and close. Always returns -1: c is gone. */
static int conn_bad(struct rt_conn *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static int
conn_bad(struct rt_conn *c, const char *fmt, ...)
{
	struct reptransport *rt = c->rt;
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&rt->mu);
	c->peer->st.frames_bad++;
	pthread_mutex_unlock(&rt->mu);
	rl_log(&c->peer->rl_bad, LOG_LVL_WARN,
	    "replication peer %s: malformed frame (%s); closing the connection",
	    c->peer->addr, why);
	conn_close(c, "malformed frame");
	return -1;
}

static void
conn_up(struct rt_conn *c)
{
	struct reptransport *rt = c->rt;
	struct rt_peer *p = c->peer;

	if (p->up != NULL)
		conn_close(p->up, "replaced by a new connection from the peer");
	pthread_mutex_lock(&rt->mu);
	p->up = c;
	c->state = CS_UP;
	if (p->ever_up)
		p->st.reconnects++;
	p->ever_up = 1;
	if (rt->nwaiters > 0)
		pthread_cond_broadcast(&rt->cond);
	pthread_mutex_unlock(&rt->mu);
	c->up_ms = util_now_ms();
	log_notice("replication peer %d (%s) connected", p->eid, p->addr);
	if (rt->on_peer != NULL)
		rt->on_peer(p->eid, 1, rt->arg);
}

/* The HELLO's layout is checked (rt_frame_parse); here: is it the peer we
 * expect, speaking our protocol and build? */
static int
frame_hello(struct rt_conn *c, const struct rt_frame *fr)
{
	struct reptransport *rt = c->rt;
	struct rt_peer *p = c->peer;
	char build[RT_BUILD_MAX + 1];
	uint32_t blen = fr->build_len;

	if (blen > RT_BUILD_MAX)
		blen = RT_BUILD_MAX;
	memcpy(build, fr->build, blen);
	build[blen] = '\0';
	sanitize(build);
	if (fr->hello_version != RT_VERSION) {
		rl_log(&p->rl_hello, LOG_LVL_WARN, "replication peer %s: protocol version %u "
		    "differs from ours (%u); database sync refused until they match",
		    p->addr, fr->hello_version, RT_VERSION);
		conn_close(c, NULL);
		return -1;
	}
	if (fr->hello_eid != (uint32_t)p->eid) {
		rl_log(&p->rl_hello, LOG_LVL_WARN, "replication peer %s: says it is eid %u "
		    "but %s is configured as eid %d; database sync refused until the peers' "
		    "configurations agree", p->addr, fr->hello_eid, p->addr, p->eid);
		conn_close(c, NULL);
		return -1;
	}
	if (fr->build_len != strlen(rt->build) ||
	    memcmp(fr->build, rt->build, strlen(rt->build)) != 0) {
		rl_log(&p->rl_hello, LOG_LVL_WARN, "replication peer %s: build %s differs "
		    "from ours (%s); database sync refused until they match",
		    p->addr, build, rt->build);
		conn_close(c, NULL);
		return -1;
	}
	conn_up(c);
	return 0;
}

/* One whole frame f[0..len) (after the length word). 0, or -1 if c is gone. */
static int
frame_handle(struct rt_conn *c, const unsigned char *f, uint32_t len)
{
	struct reptransport *rt = c->rt;
	struct rt_frame fr;
	char why[160];

	/* frames are read once the TLS handshake is done: the connection
	 * waits for the peer's HELLO (CS_HELLO) or is up (CS_UP) */
	if (rt_frame_parse(f, len, c->state == CS_UP, &fr, why,
	    sizeof(why)) == -1)
		return conn_bad(c, "%s", why);
	if (fr.type == RT_HELLO)
		return frame_hello(c, &fr);
	if (fr.type == RT_PING)
		return 0;
	fr.msg.eid = c->peer->eid;
	if (rt->on_message != NULL)
		rt->on_message(&fr.msg, rt->arg);
	return 0;
}

/* ---- connection events -------------------------------------------------- */

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct rt_conn *c = arg;
	struct reptransport *rt = c->rt;
	struct evbuffer *in = bufferevent_get_input(bev);
	unsigned char hdr[RT_LEN_WORD], *f;
	char why[160];
	uint32_t len;
	size_t avail;
	int n = 0, r;

	for (;;) {
		avail = evbuffer_get_length(in);
		if (avail < RT_LEN_WORD)
			break;
		evbuffer_copyout(in, hdr, RT_LEN_WORD);
		r = rt_frame_len(hdr, avail, rt->max_frame, &len, why, sizeof(why));
		if (r == -1) {
			conn_bad(c, "%s", why);
			break;
		}
		if (r == 0)
			break;
		if ((f = evbuffer_pullup(in, (ev_ssize_t)len + 4)) == NULL) {
			conn_close(c, "out of memory for a frame");
			break;
		}
		c->last_rx_ms = util_now_ms();
		pthread_mutex_lock(&rt->mu);
		c->peer->st.bytes_received += 4 + (uint64_t)len;
		pthread_mutex_unlock(&rt->mu);
		n++;
		if (frame_handle(c, f + 4, len) != 0)
			break;
		evbuffer_drain(in, (size_t)len + 4);
	}
	/* c may be gone here; rt is not */
	if (n > 0 && rt->on_batch != NULL)
		rt->on_batch(rt->arg);
}

/* The output buffer drained: wake senders waiting for room. */
static void
conn_out_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct rt_conn *c = arg;
	struct reptransport *rt = c->rt;

	(void)buf;
	if (info->n_deleted == 0)
		return;
	pthread_mutex_lock(&rt->mu);
	c->out_len -= info->n_deleted < c->out_len ? info->n_deleted : c->out_len;
	c->peer->st.bytes_sent += info->n_deleted;
	if (rt->nwaiters > 0)
		pthread_cond_broadcast(&rt->cond);
	pthread_mutex_unlock(&rt->mu);
}

/* OpenSSL's reasons for a failed connection, most recent last; "" if none. */
static void
conn_ssl_errors(struct rt_conn *c, char *out, size_t outlen)
{
	unsigned long e;
	size_t off = 0;
	const char *r;
	char one[256];

	out[0] = '\0';
	while ((e = bufferevent_get_openssl_error(c->bev)) != 0) {
		/* libevent also records SSL_get_error()'s code (library 0): that
		 * says "an error happened", not which. */
		if (ERR_GET_LIB(e) == 0)
			continue;
		if ((r = ERR_reason_error_string(e)) == NULL) {
			ERR_error_string_n(e, one, sizeof(one));
			r = one;
		}
		if (off < outlen)
			off += (size_t)snprintf(out + off, outlen - off, "%s%s",
			    off ? "; " : "", r);
	}
	/* libevent leaves OpenSSL's own queue alone; keep this thread's empty. */
	ERR_clear_error();
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct rt_conn *c = arg;
	struct rt_peer *p = c->peer;
	struct reptransport *rt = c->rt;
	int saved = errno;
	char why[384], reason[512];

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		c->state = CS_HELLO;
		c->started_ms = c->last_rx_ms = util_now_ms();
		conn_send_hello(c);
		return;
	}
	conn_ssl_errors(c, why, sizeof(why));
	if (c->state == CS_TLS) {
		if (why[0] != '\0') {
			pthread_mutex_lock(&rt->mu);
			p->st.auth_failures++;
			p->st.auth_fail_ms = util_now_ms();
			util_strlcpy(p->st.auth_why, why, sizeof(p->st.auth_why));
			pthread_mutex_unlock(&rt->mu);
			rl_log(&p->rl_auth, LOG_LVL_WARN,
			    "peer authentication failed from %s: %s", p->addr, why);
		} else
			rl_log(&p->rl_conn, LOG_LVL_INFO, "replication peer %s: connection "
			    "closed during the TLS handshake (%s); is the peer configured "
			    "with us as a peer?", p->addr, (what & BEV_EVENT_EOF) ?
			    "end of file" : saved != 0 ? strerror(saved) : "connection lost");
		conn_close(c, NULL);
		return;
	}
	if (why[0] != '\0')
		snprintf(reason, sizeof(reason), "TLS error: %s", why);
	else if (what & BEV_EVENT_EOF)
		snprintf(reason, sizeof(reason), "connection closed by the peer");
	else
		snprintf(reason, sizeof(reason), "%s",
		    saved != 0 ? strerror(saved) : "connection lost");
	conn_close(c, reason);
}

/* fd is a connected TCP socket; c takes it over. -1 (c freed) on failure. */
static int
conn_start_tls(struct rt_conn *c, int fd)
{
	struct reptransport *rt = c->rt;
	SSL *ssl;

	c->fd = fd;
	c->state = CS_TLS;
	c->started_ms = util_now_ms();
	if ((ssl = SSL_new(c->dialed ? rt->cctx : rt->sctx)) == NULL) {
		log_warnx("replication peer %s: cannot create a TLS session (out of memory?)",
		    c->peer->addr);
		conn_close(c, NULL);
		return -1;
	}
	/* A peer that just closes the socket is a closed connection, not a TLS
	 * error: frames carry their own lengths, so truncation is detected. */
	SSL_set_options(ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
	c->bev = bufferevent_openssl_socket_new(rt->base, fd, ssl,
	    c->dialed ? BUFFEREVENT_SSL_CONNECTING : BUFFEREVENT_SSL_ACCEPTING,
	    BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		SSL_free(ssl);
		log_warnx("replication peer %s: cannot create a TLS connection (out of memory?)",
		    c->peer->addr);
		conn_close(c, NULL);
		return -1;
	}
	c->fd = -1;
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	c->outcb = evbuffer_add_cb(bufferevent_get_output(c->bev), conn_out_cb, c);
	if (rt->group != NULL)
		bufferevent_add_to_rate_limit_group(c->bev, rt->group);
	bufferevent_setcb(c->bev, conn_read_cb, NULL, conn_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	return 0;
}

static struct rt_conn *
conn_new(struct reptransport *rt, struct rt_peer *p, int dialed)
{
	struct rt_conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warnx("replication peer %s: out of memory for a connection", p->addr);
		return NULL;
	}
	c->rt = rt;
	c->peer = p;
	c->dialed = dialed;
	c->fd = -1;
	c->started_ms = c->last_rx_ms = c->last_tx_ms = util_now_ms();
	TAILQ_INSERT_TAIL(&rt->conns, c, entry);
	return c;
}

/* Release c's resources without callbacks (also used by rt_stop). */
static void
conn_free(struct rt_conn *c)
{
	struct reptransport *rt = c->rt;

	TAILQ_REMOVE(&rt->conns, c, entry);
	if (c->bev != NULL) {
		bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
		if (c->outcb != NULL)
			evbuffer_remove_cb_entry(bufferevent_get_output(c->bev), c->outcb);
		if (rt->group != NULL)
			bufferevent_remove_from_rate_limit_group(c->bev);
		bufferevent_free(c->bev);
	}
	if (c->conn_ev != NULL)
		event_free(c->conn_ev);
	if (c->fd != -1)
		close(c->fd);
	free(c);
}

/* Close c; reason non-NULL logs the loss of an up peer. A dialed connection
 * is retried with backoff. */
static void
conn_close(struct rt_conn *c, const char *reason)
{
	struct reptransport *rt = c->rt;
	struct rt_peer *p = c->peer;
	int was_up = (p->up == c), stable = 0;
	size_t dropped = 0;

	if (was_up) {
		pthread_mutex_lock(&rt->mu);
		p->up = NULL;
		dropped = p->pend_len + c->out_len;
		evbuffer_drain(p->pending, evbuffer_get_length(p->pending));
		p->pend_len = 0;
		if (rt->nwaiters > 0)
			pthread_cond_broadcast(&rt->cond);
		pthread_mutex_unlock(&rt->mu);
		stable = util_now_ms() - c->up_ms >= RT_STABLE_MS;
		log_notice("replication peer %d (%s) disconnected: %s%s", p->eid, p->addr,
		    reason != NULL ? reason : "closed by us",
		    dropped > 0 ? "; unsent messages dropped" : "");
	}
	if (p->dconn == c)
		p->dconn = NULL;
	conn_free(c);
	if (was_up && rt->on_peer != NULL)
		rt->on_peer(p->eid, 0, rt->arg);
	if (p->we_dial && p->dconn == NULL) {
		if (stable)
			p->backoff_ms = RT_BACKOFF_MIN_MS;
		peer_schedule_dial(p, p->backoff_ms);
		p->backoff_ms = p->backoff_ms * 2 > RT_BACKOFF_MAX_MS ?
		    RT_BACKOFF_MAX_MS : p->backoff_ms * 2;
	}
}

/* ---- dialing and accepting ---------------------------------------------- */

static void
dial_fail(struct rt_conn *c, const char *why)
{
	rl_log(&c->peer->rl_conn, LOG_LVL_INFO,
	    "replication peer %d (%s): cannot connect to port %d: %s; retrying",
	    c->peer->eid, c->peer->addr, c->rt->port, why);
	conn_close(c, NULL);
}

static void
dial_connected_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rt_conn *c = arg;
	socklen_t len = sizeof(int);
	int e = 0;

	if (what & EV_TIMEOUT) {
		dial_fail(c, "timed out");
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) == -1)
		e = errno;
	if (e != 0) {
		dial_fail(c, strerror(e));
		return;
	}
	event_free(c->conn_ev);
	c->conn_ev = NULL;
	c->fd = -1;
	(void)conn_start_tls(c, fd);
}

static void
peer_dial(evutil_socket_t unused, short what, void *arg)
{
	struct rt_peer *p = arg;
	struct reptransport *rt = p->rt;
	struct timeval tv = { RT_HANDSHAKE_MS / 1000, 0 };
	struct sockaddr_storage src;
	struct rt_conn *c;
	int fd;

	(void)unused; (void)what;
	if (p->dconn != NULL)
		return;
	if ((c = conn_new(rt, p, 1)) == NULL) {
		peer_schedule_dial(p, RT_BACKOFF_MAX_MS);
		return;
	}
	p->dconn = c;
	c->state = CS_CONNECTING;
	fd = socket(p->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		dial_fail(c, strerror(errno));
		return;
	}
	c->fd = fd;
	sock_tune(fd);
	/* Leave from our configured address: the peer admits only that. */
	memcpy(&src, &rt->self_ss, sizeof(src));
	if (src.ss_family == AF_INET)
		((struct sockaddr_in *)&src)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&src)->sin6_port = 0;
	if (src.ss_family == p->ss.ss_family &&
	    bind(fd, (struct sockaddr *)&src, rt->self_sslen) == -1) {
		dial_fail(c, strerror(errno));
		return;
	}
	if (connect(fd, (struct sockaddr *)&p->ss, p->sslen) == -1 && errno != EINPROGRESS) {
		dial_fail(c, strerror(errno));
		return;
	}
	if ((c->conn_ev = event_new(rt->base, fd, EV_WRITE, dial_connected_cb, c)) == NULL ||
	    event_add(c->conn_ev, &tv) != 0) {
		dial_fail(c, "out of memory");
		return;
	}
}

static void
peer_schedule_dial(struct rt_peer *p, int ms)
{
	struct timeval tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(p->dial_ev, &tv);
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
    void *arg)
{
	struct reptransport *rt = arg;
	struct rt_peer *p = NULL;
	struct rt_conn *c;
	char who[64];
	int i;

	(void)l;
	for (i = 0; i < rt->npeers; i++)
		if (addr_same(sa, &rt->peers[i].ss)) {
			p = &rt->peers[i];
			break;
		}
	if (p == NULL) {
		addr_str(sa, (socklen_t)salen, who, sizeof(who));
		rl_log(&rt->rl_stranger, LOG_LVL_WARN, "replication connection from %s "
		    "refused: not a configured peer's address", who);
		close(fd);
		return;
	}
	if (p->we_dial) {
		rl_log(&p->rl_hello, LOG_LVL_WARN, "replication peer %s (eid %d) dialed us, "
		    "but the node with the smaller eid (%d, us) dials; refused; check the "
		    "eids in both nodes' configurations", p->addr, p->eid, rt->self_eid);
		close(fd);
		return;
	}
	sock_tune(fd);
	if ((c = conn_new(rt, p, 0)) == NULL) {
		close(fd);
		return;
	}
	(void)conn_start_tls(c, fd);
}

static void
accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct reptransport *rt = arg;
	int e = errno;

	(void)l;
	rl_log(&rt->rl_listen, LOG_LVL_WARN, "replication listener on %s port %d: "
	    "accept failed: %s", rt->self_addr, rt->port, strerror(e));
}

/* ---- the loop's own events ---------------------------------------------- */

/* Move what rt_send queued into the connections.
 *
 * Everything a peer has pending goes into its bufferevent as one contiguous
 * piece when small: libevent's TLS bufferevent makes one SSL_write, and so
 * one TLS record and one write(2), per contiguous piece of its output, and
 * the receiver pays two read(2)s per record. A transaction's log records
 * (three messages for a one-put commit) then cost one record, not three.
 * With lazy messages (rt_send) and repapply.c's one wake-up per read batch this
 * measured sync/sync 5.5k -> 6.7k commits/s at 8 writers, 1.64k -> 1.79k
 * at 1 writer (2 cores, both nodes on one host). */
static void
wake_cb(evutil_socket_t unused, short what, void *arg)
{
	struct reptransport *rt = arg;
	struct rt_conn *c;
	unsigned char *data;
	size_t n;
	int i, rc;

	(void)unused; (void)what;
	pthread_mutex_lock(&rt->mu);
	rt->wake_pending = 0;
	pthread_mutex_unlock(&rt->mu);
	for (i = 0; i < rt->npeers; i++) {
		struct rt_peer *p = &rt->peers[i];

		pthread_mutex_lock(&rt->mu);
		if ((c = p->up) == NULL || p->pend_len == 0) {
			pthread_mutex_unlock(&rt->mu);
			continue;
		}
		n = p->pend_len;
		evbuffer_add_buffer(rt->scratch, p->pending);
		p->pend_len = 0;
		c->out_len += n;
		pthread_mutex_unlock(&rt->mu);
		/* copied into the output's last chunk when it has room, so
		 * frames queued while a write waits join the same record */
		if (n <= RT_COALESCE_MAX &&
		    (data = evbuffer_pullup(rt->scratch, -1)) != NULL) {
			rc = bufferevent_write(c->bev, data, n);
			evbuffer_drain(rt->scratch, n);
		} else
			rc = bufferevent_write_buffer(c->bev, rt->scratch);
		if (rc != 0) {
			evbuffer_drain(rt->scratch, evbuffer_get_length(rt->scratch));
			conn_close(c, "out of memory for the send queue");
			continue;
		}
		c->last_tx_ms = util_now_ms();
	}
}

/* The flush timer of "soon" messages expired. */
static void
soon_cb(evutil_socket_t unused, short what, void *arg)
{
	struct reptransport *rt = arg;

	pthread_mutex_lock(&rt->mu);
	rt->soon_armed = 0;
	pthread_mutex_unlock(&rt->mu);
	wake_cb(unused, what, arg);
}

static void
tick_cb(evutil_socket_t unused, short what, void *arg)
{
	struct reptransport *rt = arg;
	struct rt_conn *c, *next;
	uint64_t now = util_now_ms();
	int i;

	(void)unused; (void)what;
	/* lazy messages nobody followed up (an aborted transaction) */
	wake_cb(-1, 0, rt);
	for (c = TAILQ_FIRST(&rt->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->state == CS_TLS || c->state == CS_HELLO) {
			if (now - c->started_ms >= RT_HANDSHAKE_MS) {
				rl_log(&c->peer->rl_conn, LOG_LVL_WARN, "replication peer %s: "
				    "%s not finished within %d s; closing the connection",
				    c->peer->addr, c->state == CS_TLS ? "TLS handshake" :
				    "HELLO exchange", RT_HANDSHAKE_MS / 1000);
				conn_close(c, NULL);
			}
		} else if (c->state == CS_UP) {
			if (now - c->last_rx_ms >= RT_SILENT_MS) {
				log_warnx("replication peer %d (%s) silent for %d s; dropping "
				    "the connection", c->peer->eid, c->peer->addr,
				    RT_SILENT_MS / 1000);
				conn_close(c, "silent peer");
			} else if (now - c->last_tx_ms >= RT_PING_MS)
				conn_send_ping(c);
		}
	}
	for (i = 0; i < rt->npeers; i++) {
		struct rt_peer *p = &rt->peers[i];

		rl_flush(&p->rl_auth, now);
		rl_flush(&p->rl_hello, now);
		rl_flush(&p->rl_bad, now);
		rl_flush(&p->rl_conn, now);
		pthread_mutex_lock(&rt->mu);
		rl_flush(&p->rl_full, now);
		pthread_mutex_unlock(&rt->mu);
	}
	rl_flush(&rt->rl_stranger, now);
	rl_flush(&rt->rl_listen, now);
}

static void *
io_main(void *arg)
{
	struct reptransport *rt = arg;

	event_base_dispatch(rt->base);
	return NULL;
}

/* ---- public interface --------------------------------------------------- */

static void
evthread_init(void)
{
	evthread_rc = evthread_use_pthreads();
}

static void
rt_free(struct reptransport *rt)
{
	int i;

	while (!TAILQ_EMPTY(&rt->conns))
		conn_free(TAILQ_FIRST(&rt->conns));
	for (i = 0; i < rt->npeers; i++) {
		if (rt->peers[i].dial_ev != NULL)
			event_free(rt->peers[i].dial_ev);
		if (rt->peers[i].pending != NULL)
			evbuffer_free(rt->peers[i].pending);
	}
	if (rt->wake_ev != NULL)
		event_free(rt->wake_ev);
	if (rt->tick_ev != NULL)
		event_free(rt->tick_ev);
	if (rt->soon_ev != NULL)
		event_free(rt->soon_ev);
	if (rt->listener != NULL)
		evconnlistener_free(rt->listener);
	if (rt->group != NULL)
		bufferevent_rate_limit_group_free(rt->group);
	if (rt->bucket_cfg != NULL)
		ev_token_bucket_cfg_free(rt->bucket_cfg);
	if (rt->scratch != NULL)
		evbuffer_free(rt->scratch);
	if (rt->base != NULL)
		event_base_free(rt->base);
	SSL_CTX_free(rt->sctx);
	SSL_CTX_free(rt->cctx);
	free(rt->build);
	pthread_cond_destroy(&rt->cond);
	pthread_mutex_destroy(&rt->mu);
	free(rt);
}

static int
rt_check_opts(const struct rt_opts *o, char *err, size_t errlen)
{
	int i, j;

	if (o->self_addr == NULL || o->self_addr[0] == '\0') {
		snprintf(err, errlen, "replication: no address for this node");
		return -1;
	}
	if (o->port <= 0 || o->port > 65535) {
		snprintf(err, errlen, "replication: port %d is not in 1..65535", o->port);
		return -1;
	}
	if (o->npeers < 0 || o->npeers > RT_MAXPEERS) {
		snprintf(err, errlen, "replication: %d peers, at most %d are supported",
		    o->npeers, RT_MAXPEERS);
		return -1;
	}
	for (i = 0; i < o->npeers; i++) {
		if (o->peers[i].eid == o->self_eid) {
			snprintf(err, errlen, "replication peer %s has our own eid %d; "
			    "give every node a distinct eid", o->peers[i].addr, o->self_eid);
			return -1;
		}
		for (j = 0; j < i; j++)
			if (o->peers[j].eid == o->peers[i].eid) {
				snprintf(err, errlen, "replication peers %s and %s share eid %d; "
				    "give every node a distinct eid", o->peers[j].addr,
				    o->peers[i].addr, o->peers[i].eid);
				return -1;
			}
	}
	if (o->build != NULL && strlen(o->build) > RT_BUILD_MAX) {
		snprintf(err, errlen, "replication: build string longer than %d bytes",
		    RT_BUILD_MAX);
		return -1;
	}
	if (o->tls_cert == NULL && (o->secret == NULL || o->secret[0] == '\0')) {
		snprintf(err, errlen, "replication: neither a shared key (highAvail.HMACKey) "
		    "nor certificates are configured");
		return -1;
	}
	return 0;
}

static int
rt_tls_setup(struct reptransport *rt, const struct rt_opts *o, char *err, size_t errlen)
{
	unsigned char psk[TLSCTX_PSK_LEN];

	if (o->tls_cert != NULL || o->tls_key != NULL || o->tls_ca != NULL) {
		if ((rt->sctx = tlsctx_server_cert(o->tls_ca, o->tls_cert, o->tls_key,
		    err, errlen)) == NULL ||
		    (rt->cctx = tlsctx_client_cert(o->tls_ca, o->tls_cert, o->tls_key,
		    err, errlen)) == NULL)
			return -1;
		return 0;
	}
	if (tlsctx_derive(o->secret, strlen(o->secret), REPTRANSPORT_LABEL, psk) != 0) {
		snprintf(err, errlen, "replication: cannot derive the TLS key (HKDF failed)");
		return -1;
	}
	rt->sctx = tlsctx_server_psk(psk, RT_IDENTITY, err, errlen);
	if (rt->sctx != NULL)
		rt->cctx = tlsctx_client_psk(psk, RT_IDENTITY, err, errlen);
	OPENSSL_cleanse(psk, sizeof(psk));
	return rt->cctx != NULL ? 0 : -1;
}

/* Write-only limit, shared by all peers: our sending is what fills the link.
 * A 100 ms tick keeps bursts to a tenth of the per-second budget. */
static int
rt_bandwidth_setup(struct reptransport *rt, long long bw, char *err, size_t errlen)
{
	struct timeval tick = { 0, 100000 };
	long long per_tick = bw / 10;

	if (per_tick < 1)
		per_tick = 1;
	if (per_tick > EV_RATE_LIMIT_MAX)
		per_tick = EV_RATE_LIMIT_MAX;
	rt->bucket_cfg = ev_token_bucket_cfg_new(EV_RATE_LIMIT_MAX, EV_RATE_LIMIT_MAX,
	    (size_t)per_tick, (size_t)per_tick, &tick);
	if (rt->bucket_cfg == NULL ||
	    (rt->group = bufferevent_rate_limit_group_new(rt->base, rt->bucket_cfg)) == NULL) {
		snprintf(err, errlen, "replication: cannot set the bandwidth limit "
		    "of %lld bytes/s", bw);
		return -1;
	}
	return 0;
}

struct reptransport *
rt_start(const struct rt_opts *o, char *err, size_t errlen)
{
	struct reptransport *rt;
	pthread_condattr_t ca;
	struct timeval tick = { 0, RT_TICK_MS * 1000 };
	sigset_t all, old;
	int i;

	if (rt_check_opts(o, err, errlen) != 0)
		return NULL;
	if (pthread_once(&evthread_once, evthread_init) != 0 || evthread_rc != 0) {
		snprintf(err, errlen, "replication: libevent has no thread support");
		return NULL;
	}
	if ((rt = calloc(1, sizeof(*rt))) == NULL) {
		snprintf(err, errlen, "replication: out of memory");
		return NULL;
	}
	pthread_mutex_init(&rt->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&rt->cond, &ca);
	pthread_condattr_destroy(&ca);
	TAILQ_INIT(&rt->conns);
	rt->self_eid = o->self_eid;
	util_strlcpy(rt->self_addr, o->self_addr, sizeof(rt->self_addr));
	rt->port = o->port;
	rt->max_frame = o->max_frame > 0 ? o->max_frame : RT_DEFAULT_MAX_FRAME;
	if (rt->max_frame > UINT32_MAX)         /* the length word is 32 bits */
		rt->max_frame = UINT32_MAX;
	rt->queue_bytes = o->queue_bytes > 0 ? o->queue_bytes : RT_DEFAULT_QUEUE;
	rt->send_timeout_ms = o->send_timeout_ms > 0 ? o->send_timeout_ms :
	    RT_DEFAULT_TIMEOUT_MS;
	rt->on_message = o->on_message;
	rt->on_peer = o->on_peer;
	rt->on_batch = o->on_batch;
	rt->arg = o->arg;
	if ((rt->build = strdup(o->build != NULL ? o->build : "")) == NULL) {
		snprintf(err, errlen, "replication: out of memory");
		goto fail;
	}
	if (addr_resolve(o->self_addr, o->port, &rt->self_ss, &rt->self_sslen,
	    err, errlen) != 0)
		goto fail;
	if (rt_tls_setup(rt, o, err, errlen) != 0)
		goto fail;
	if ((rt->base = event_base_new()) == NULL ||
	    (rt->scratch = evbuffer_new()) == NULL) {
		snprintf(err, errlen, "replication: cannot create an event loop");
		goto fail;
	}
	rt->npeers = o->npeers;
	for (i = 0; i < o->npeers; i++) {
		struct rt_peer *p = &rt->peers[i];

		p->rt = rt;
		p->eid = o->peers[i].eid;
		util_strlcpy(p->addr, o->peers[i].addr, sizeof(p->addr));
		p->we_dial = rt->self_eid < p->eid;
		p->backoff_ms = RT_BACKOFF_MIN_MS;
		if (addr_resolve(p->addr, o->port, &p->ss, &p->sslen, err, errlen) != 0)
			goto fail;
		if ((p->pending = evbuffer_new()) == NULL ||
		    (p->dial_ev = evtimer_new(rt->base, peer_dial, p)) == NULL) {
			snprintf(err, errlen, "replication: out of memory");
			goto fail;
		}
	}
	if (o->bandwidth > 0 && rt_bandwidth_setup(rt, o->bandwidth, err, errlen) != 0)
		goto fail;
	rt->listener = evconnlistener_new_bind(rt->base, accept_cb, rt,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 16,
	    (struct sockaddr *)&rt->self_ss, (int)rt->self_sslen);
	if (rt->listener == NULL) {
		snprintf(err, errlen, "replication: cannot listen on %s port %d: %s; "
		    "is another guisvr running, or the address not on this host?",
		    rt->self_addr, rt->port, strerror(errno));
		goto fail;
	}
	evconnlistener_set_error_cb(rt->listener, accept_error_cb);
	if ((rt->wake_ev = event_new(rt->base, -1, 0, wake_cb, rt)) == NULL ||
	    (rt->tick_ev = event_new(rt->base, -1, EV_PERSIST, tick_cb, rt)) == NULL ||
	    (rt->soon_ev = event_new(rt->base, -1, 0, soon_cb, rt)) == NULL ||
	    event_add(rt->tick_ev, &tick) != 0) {
		snprintf(err, errlen, "replication: out of memory");
		goto fail;
	}
	for (i = 0; i < rt->npeers; i++)
		if (rt->peers[i].we_dial)
			peer_schedule_dial(&rt->peers[i], 0);
	/* Signals belong to the daemon's main loop, not to this thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	i = pthread_create(&rt->io_thread, NULL, io_main, rt);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (i != 0) {
		snprintf(err, errlen, "replication: cannot start the I/O thread: %s",
		    strerror(i));
		goto fail;
	}
	rt->io_started = 1;
	log_info("replication transport: eid %d listening on %s port %d, %d peer(s), %s",
	    rt->self_eid, rt->self_addr, rt->port, rt->npeers,
	    o->tls_cert != NULL ? "certificates" : "shared key");
	return rt;
fail:
	rt_free(rt);
	return NULL;
}

void
rt_stop(struct reptransport *rt)
{
	if (rt == NULL)
		return;
	pthread_mutex_lock(&rt->mu);
	rt->stopping = 1;
	pthread_cond_broadcast(&rt->cond);
	pthread_mutex_unlock(&rt->mu);
	if (rt->io_started) {
		event_base_loopbreak(rt->base);
		pthread_join(rt->io_thread, NULL);
		rt->io_started = 0;
	}
	rt_free(rt);
}

/* Appends m's frame to p's pending queue, waiting until deadline for room.
 * Called with rt->mu held. The frame goes straight into the queue (no
 * buffer of its own per message): a commit's messages end up side by side
 * in one chunk, which wake_cb hands to TLS as one record. */
static int
peer_enqueue(struct reptransport *rt, struct rt_peer *p, const struct rt_msg *m,
    const struct timespec *deadline, int may_wait)
{
	unsigned char h[RT_LEN_WORD + RT_MSG_HDR];
	struct evbuffer_iovec v;
	size_t q, len, hlen;
	int rc;

	hlen = rt_frame_msg_head(m, h);
	len = m->type == RT_ACK ? hlen : hlen + m->ctrl_len + m->rec_len;
	for (;;) {
		if (rt->stopping || p->up == NULL)
			return -1;
		q = p->pend_len + p->up->out_len;
		/* One frame may exceed the limit on its own, never pile on top. */
		if (q == 0 || q + len <= rt->queue_bytes)
			break;
		if (!may_wait) {
			rc = ETIMEDOUT;
		} else {
			rt->nwaiters++;
			rc = pthread_cond_timedwait(&rt->cond, &rt->mu, deadline);
			rt->nwaiters--;
		}
		if (rc == ETIMEDOUT) {
			if (rt->stopping || p->up == NULL)
				return -1;
			q = p->pend_len + p->up->out_len;
			if (q == 0 || q + len <= rt->queue_bytes)
				break;
			rl_log(&p->rl_full, LOG_LVL_WARN, "replication peer %d (%s): send "
			    "queue still full (%zu bytes) after %d ms; message not sent",
			    p->eid, p->addr, q, rt->send_timeout_ms);
			return -1;
		}
	}
	/* the whole frame or nothing: a half-queued frame would desynchronise
	 * the stream */
	if (evbuffer_reserve_space(p->pending, (ev_ssize_t)len, &v, 1) != 1 ||
	    v.iov_len < len)
		return -1;
	memcpy(v.iov_base, h, hlen);
	if (m->type == RT_MSG) {
		if (m->ctrl_len > 0)
			memcpy((unsigned char *)v.iov_base + hlen, m->ctrl, m->ctrl_len);
		if (m->rec_len > 0)
			memcpy((unsigned char *)v.iov_base + hlen + m->ctrl_len, m->rec,
			    m->rec_len);
	}
	v.iov_len = len;
	if (evbuffer_commit_space(p->pending, &v, 1) != 0)
		return -1;
	p->pend_len += len;
	return 0;
}

int
rt_send(struct reptransport *rt, int eid, const struct rt_msg *m)
{
	struct timespec deadline;
	uint64_t flen;
	int i, rc = -1, sent = 0, failed = 0, may_wait, wake = 0, arm = 0;

	if (rt == NULL || m == NULL || (m->type != RT_MSG && m->type != RT_ACK))
		return -1;
	if (m->type == RT_MSG) {
		if ((m->ctrl_len > 0 && m->ctrl == NULL) || (m->rec_len > 0 && m->rec == NULL))
			return -1;
		flen = (uint64_t)RT_MSG_HDR + m->ctrl_len + m->rec_len;
		if (flen > rt->max_frame) {
			log_warnx("replication: message of %llu bytes exceeds the frame "
			    "limit of %zu bytes; not sent", (unsigned long long)flen,
			    rt->max_frame);
			return -1;
		}
	}
	/* The loop thread cannot wait for itself to drain a queue. */
	may_wait = !on_io_thread(rt);
	deadline_in_ms(&deadline, CLOCK_MONOTONIC, (uint64_t)rt->send_timeout_ms);
	pthread_mutex_lock(&rt->mu);
	for (i = 0; i < rt->npeers; i++) {
		struct rt_peer *p = &rt->peers[i];

		if (eid != RT_EID_BROADCAST && p->eid != eid)
			continue;
		if (eid == RT_EID_BROADCAST && p->up == NULL)
			continue;
		if (peer_enqueue(rt, p, m, &deadline, may_wait) == 0)
			sent++;
		else
			failed++;
	}
	/* One wake-up per batch: the loop takes everything pending when it
	 * runs. A lazy message waits for the next one that is not (or the
	 * tick). The loop thread queues from its own callbacks and is
	 * woken the same way. */
	if (sent > 0 && !m->lazy && !rt->wake_pending) {
		rt->wake_pending = 1;
		wake = 1;
	} else if (sent > 0 && m->lazy && m->soon && !rt->soon_armed &&
	    !rt->wake_pending) {
		rt->soon_armed = 1;
		arm = 1;
	}
	pthread_mutex_unlock(&rt->mu);
	if (wake)
		event_active(rt->wake_ev, EV_TIMEOUT, 0);
	if (arm) {
		struct timeval tv = { 0, RT_SOON_US };

		if (event_add(rt->soon_ev, &tv) != 0) {
			pthread_mutex_lock(&rt->mu);
			rt->soon_armed = 0;
			pthread_mutex_unlock(&rt->mu);
			event_active(rt->wake_ev, EV_TIMEOUT, 0);
		}
	}
	/* Broadcast: every connected peer got it, and there was at least one. */
	if (sent > 0 && failed == 0)
		rc = 0;
	return rc;
}

int
rt_peer_up(struct reptransport *rt, int eid)
{
	struct rt_peer *p;
	int up;

	if (rt == NULL || (p = peer_find(rt, eid)) == NULL)
		return 0;
	pthread_mutex_lock(&rt->mu);
	up = p->up != NULL;
	pthread_mutex_unlock(&rt->mu);
	return up;
}

int
rt_peer_stats(struct reptransport *rt, int eid, struct rt_stats *st)
{
	struct rt_peer *p;

	if (rt == NULL || (p = peer_find(rt, eid)) == NULL)
		return -1;
	pthread_mutex_lock(&rt->mu);
	*st = p->st;
	st->queued_bytes = p->pend_len + (p->up != NULL ? p->up->out_len : 0);
	pthread_mutex_unlock(&rt->mu);
	return 0;
}
