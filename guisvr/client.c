/* client.c — guisvr's client service.
 *
 * Leader/followers over one epoll set: every worker thread waits in
 * epoll_wait; the one that wakes for a connection reads its request, runs it
 * against the store, writes the reply and re-arms the connection. Each
 * connection is registered EPOLLONESHOT, so exactly one thread owns it (and
 * its SSL object) at a time, requests on a connection are handled in order,
 * and a slow commit holds only its own connection while the other workers
 * serve everyone else. Concurrent commits on different workers share log
 * flushes (group commit).
 *
 * Why not an event loop handing requests to a pool: each hand-off between
 * threads is a wake-up and a context switch, and on a 2-core machine those
 * dominate a small commit. Here a request costs one wake-up (the worker's).
 * Measured with make bench at 8 clients: 0.60x raw Berkeley DB with the
 * loop-plus-pool design, 0.7-0.8x with this one.
 *
 * A request cut short by a disconnect is never executed, so an interrupted
 * batch applies nothing.
 *
 * Clients that misbehave cannot take the service from the others:
 * - local (UNIX socket) clients have their own budget, guiSvr.maxClients;
 *   remote ones at most CLIENT_MAX_REMOTE, CLIENT_MAX_PER_ADDR from one
 *   address, and must finish the TLS handshake within CLIENT_HANDSHAKE_MS;
 * - replies are written without blocking: what the socket does not take
 *   waits in the connection's output buffer; past CLIENT_OUT_MAX of unread
 *   replies the connection is not read any further (its requests wait in
 *   the kernel), and one that takes nothing for CLIENT_DRAIN_MS is closed.
 *   Only a listing, which cannot pause mid-scan, waits for its reader,
 *   at most CLIENT_DRAIN_MS;
 * - the requests remote clients are still sending hold at most
 *   CLIENT_REMOTE_IN_MAX in all: past it a remote connection with a request
 *   under way is not read until the sweeper sees room again;
 * - refusals and failed handshakes are logged once per kind every 10 s
 *   with a count. */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "client.h"
#include "log.h"
#include "proto.h"
#include "record.h"
#include "tlsctx.h"
#include "unixsock.h"
#include "util.h"

#define LIST_FLUSH (64 * 1024)       /* list replies are written in chunks */
#define READ_CHUNK (64 * 1024)
#define CLIENT_DRAIN_MS 10000        /* a client taking no reply is dropped */
#define CLIENT_OUT_MAX (1024 * 1024) /* unread replies before reading stops */
#define CLIENT_HANDSHAKE_MS 5000     /* TLS handshake deadline */
#define CLIENT_MAX_REMOTE 64         /* TLS connections at once */
#define CLIENT_MAX_PER_ADDR 16       /* ... from one address */
#define CLIENT_LOG_EVERY_MS 10000
#define CLIENT_REMOTE_IN_MAX (64u * 1024 * 1024)
#define MAX_BATCH_OPS 100000

enum tag { TAG_CONN = 0, TAG_UNIX, TAG_TCP, TAG_STOP };

struct conn {
	enum tag tag;                /* first: epoll data points here */
	struct clientsvc *cs;
	int fd;
	SSL *ssl;                    /* TLS connections only */
	int established;             /* TLS handshake done (always 1 for UNIX) */
	int want_write;              /* handshake or replies wait for POLLOUT */
	int remote;                  /* TLS (counts against the remote budget) */
	uint64_t born_ms;            /* accepted at */
	struct buf out;              /* replies not yet taken by the socket */
	size_t outoff;               /* out.p + outoff is unsent */
	uint64_t drain_ms;           /* output last moved (or was queued) */
	int starved;                 /* not read: remote input over its cap;
				      * the sweeper arms it again (atomic) */
	char addr[INET6_ADDRSTRLEN]; /* remote address, for per-address limits */
	int closing;
	int timed_out;               /* the sweeper ended its handshake */
	int busy;                    /* a worker owns it (atomic) */
	uint64_t last_active_ms;     /* atomic */
	char peer[80];
	struct buf in;               /* bytes read, not yet a whole frame */
	struct conn *next, *prev;
};

struct clientsvc {
	struct store *store;
	struct client_opts opts;
	int epfd, stopfd;
	int unix_fd, tcp_fd;
	enum tag unix_tag, tcp_tag, stop_tag;
	SSL_CTX *ssl_ctx;
	pthread_mutex_t mu;          /* conns list, nconns, nremote */
	struct conn *conns;
	int nconns, nremote;
	size_t remote_in;            /* bytes in remote connections' c->in
				      * (atomic) */
	pthread_mutex_t sweep_mu;
	uint64_t last_sweep_ms;
	int stopping;
	pthread_t *workers;
	int nworkers;
	char sock_path[108];
};

/* ---- connections ---------------------------------------------------------- */

static size_t conn_pending(const struct conn *);

/* Wait for what the connection can do next: the handshake's direction;
 * then reading (unless CLIENT_OUT_MAX of replies wait unread) and writing
 * (while replies wait). */
static int
conn_arm(struct conn *c, int add)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	if (!c->established)
		ev.events = c->want_write ? EPOLLOUT : EPOLLIN;
	else {
		if (conn_pending(c) <= CLIENT_OUT_MAX)
			ev.events |= EPOLLIN;
		if (conn_pending(c) > 0 || c->want_write)
			ev.events |= EPOLLOUT;
	}
	ev.events |= EPOLLONESHOT | EPOLLRDHUP;
	ev.data.ptr = c;
	return epoll_ctl(c->cs->epfd, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_in_account(struct conn *, ssize_t);

static void
conn_free(struct conn *c)
{
	struct clientsvc *cs = c->cs;

	pthread_mutex_lock(&cs->mu);
	if (c->prev)
		c->prev->next = c->next;
	else
		cs->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	cs->nconns--;
	if (c->remote)
		cs->nremote--;
	pthread_mutex_unlock(&cs->mu);
	log_debug("client %s disconnected", c->peer);
	epoll_ctl(cs->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	if (c->ssl) {
		if (c->established && !c->closing)
			SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	close(c->fd);
	conn_in_account(c, -(ssize_t)c->in.len);
	buf_free(&c->in);
	buf_free(&c->out);
	free(c);
}

/* Wait until fd is ready for events, at most ms. 1 ready, 0 timeout, -1 error. */
static int
wait_fd(int fd, short events, int ms)
{
	struct pollfd p = { fd, events, 0 };
	int rc;

	do
		rc = poll(&p, 1, ms);
	while (rc < 0 && errno == EINTR);
	if (rc > 0 && (p.revents & (POLLERR | POLLNVAL)))
		return -1;
	return rc;
}

/* Unsent reply bytes. */
static size_t
conn_pending(const struct conn *c)
{
	return c->out.len - c->outoff;
}

/* Write what the socket takes now, without waiting. 0 ok (maybe some left
 * in c->out), -1 the connection is broken (marked closing). */
static int
conn_flush(struct conn *c)
{
	while (conn_pending(c) > 0 && !c->closing) {
		const unsigned char *p = c->out.p + c->outoff;
		size_t n = conn_pending(c);
		ssize_t w;

		if (c->ssl) {
			int r = SSL_write(c->ssl, p, n > INT32_MAX ? INT32_MAX :
			    (int)n);

			if (r <= 0) {
				int e = SSL_get_error(c->ssl, r);

				ERR_clear_error();
				if (e == SSL_ERROR_WANT_WRITE ||
				    e == SSL_ERROR_WANT_READ)
					return 0;
				c->closing = 1;
				return -1;
			}
			w = r;
		} else {
			w = send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					return 0;
				c->closing = 1;
				return -1;
			}
		}
		c->outoff += (size_t)w;
		__atomic_store_n(&c->drain_ms, util_now_ms(), __ATOMIC_RELAXED);
	}
	if (conn_pending(c) == 0) {
		buf_reset(&c->out);
		c->outoff = 0;
	}
	return 0;
}

/* Queue reply bytes and send what the socket takes; never waits. */
static void
conn_write(struct conn *c, const unsigned char *p, size_t n)
{
	if (c->closing)
		return;
	if (conn_pending(c) == 0)
		__atomic_store_n(&c->drain_ms, util_now_ms(), __ATOMIC_RELAXED);
	buf_put(&c->out, p, n);
	if (c->out.oom) {
		log_warnx("client %s: out of memory for a reply; closing",
		    c->peer);
		c->closing = 1;
		return;
	}
	(void)conn_flush(c);
}

/* A listing is one scan (store_list) and cannot pause: past CLIENT_OUT_MAX
 * of unread replies it waits for its reader, and gives up on one that
 * takes nothing for CLIENT_DRAIN_MS. */
static void
conn_wait_drain(struct conn *c)
{
	uint64_t last = util_now_ms(), now;

	while (!c->closing && conn_pending(c) > CLIENT_OUT_MAX) {
		size_t before = conn_pending(c);

		now = util_now_ms();
		if (now - last >= CLIENT_DRAIN_MS ||
		    wait_fd(c->fd, POLLOUT, (int)(CLIENT_DRAIN_MS -
		    (now - last))) <= 0) {
			log_info("client %s: takes no reply for %d s; closing",
			    c->peer, CLIENT_DRAIN_MS / 1000);
			c->closing = 1;
			return;
		}
		if (conn_flush(c) == -1)
			return;
		if (conn_pending(c) < before)
			last = util_now_ms();
	}
}

/* Queue an error reply built outside a request. */
static void
conn_reply_err(struct conn *c, uint32_t seq, int code, const char *msg)
{
	struct buf b;

	buf_init(&b);
	proto_begin(&b, XM_R_ERR, 0, seq);
	buf_put_u32(&b, (uint32_t)code);
	buf_put_str16(&b, msg, strnlen(msg, 4000));
	proto_finish(&b);
	if (!b.oom)
		conn_write(c, b.p, b.len);
	buf_free(&b);
}

/* ---- requests --------------------------------------------------------------- */

struct reply {
	struct conn *c;
	uint32_t seq;
	struct buf b;
	int dead;
};

static void
reply_flush(struct reply *r, int wait)
{
	if (r->b.len > 0 && !r->c->closing)
		conn_write(r->c, r->b.p, r->b.len);
	buf_reset(&r->b);
	if (wait)
		conn_wait_drain(r->c);
	r->dead = r->c->closing;
}

static void
reply_err(struct reply *r, int code, const char *msg)
{
	proto_begin(&r->b, XM_R_ERR, 0, r->seq);
	buf_put_u32(&r->b, (uint32_t)code);
	buf_put_str16(&r->b, msg, strnlen(msg, 4000));
	proto_finish(&r->b);
}

static void
reply_simple(struct reply *r, uint16_t type)
{
	proto_begin(&r->b, type, 0, r->seq);
	proto_finish(&r->b);
}

static void
reply_u64(struct reply *r, uint16_t type, uint64_t v)
{
	proto_begin(&r->b, type, 0, r->seq);
	buf_put_u64(&r->b, v);
	proto_finish(&r->b);
}

struct job {
	struct conn *conn;
	struct frame_hdr hdr;
	unsigned char *payload;
};

struct list_ctx {
	struct reply *r;
	int ids_only;
};

static int
list_cb(const char *id, size_t idlen, const void *attrs, size_t alen, void *arg)
{
	struct list_ctx *lc = arg;
	struct reply *r = lc->r;

	/* proto_begin resets the buffer, so frames are appended by hand here */
	size_t start = r->b.len;
	unsigned char hdr[PROTO_HDR_LEN];
	struct frame_hdr h;

	memset(hdr, 0, sizeof(hdr));
	buf_put(&r->b, hdr, sizeof(hdr));
	buf_put_str16(&r->b, id, idlen);
	if (!lc->ids_only)
		buf_put(&r->b, attrs, alen);
	if (r->b.oom)
		return 1;
	h.len = (uint32_t)(r->b.len - start - PROTO_HDR_LEN);
	h.type = lc->ids_only ? XM_R_ID : XM_R_RECORD;
	h.flags = 0;
	h.seq = r->seq;
	proto_hdr_encode(&h, r->b.p + start);
	if (r->b.len >= LIST_FLUSH)
		reply_flush(r, 1);
	return r->dead;
}

static void
status_reply(struct clientsvc *cs, struct reply *r)
{
	char text[2048];
	int n;

	text[0] = '\0';
	n = cs->opts.status_text != NULL ?
	    cs->opts.status_text(text, sizeof(text)) : 0;
	if (n < 0 || (size_t)n >= sizeof(text))
		n = (int)strlen(text);
	n += snprintf(text + n, sizeof(text) - n, "clients %d\n", client_count(cs));
	if ((size_t)n >= sizeof(text))
		n = sizeof(text) - 1;
	proto_begin(&r->b, XM_R_STATUS, 0, r->seq);
	buf_put_str32(&r->b, text, (size_t)n);
	proto_finish(&r->b);
}


/* Refusals of one kind (request type and message, numbers aside) are
 * logged at most once per REFUSAL_EVERY_MS; a table of the latest kinds. */
#define REFUSAL_KINDS 16
#define REFUSAL_EVERY_MS 10000

static int
refusal_due(unsigned type, const char *msg, unsigned long *held)
{
	static struct {
		uint32_t key;
		uint64_t used;
		struct log_limit lim;
	} kinds[REFUSAL_KINDS];
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	static uint64_t clock;
	uint32_t key = 2166136261u ^ type;
	const char *c;
	int i, pick = 0;

	for (c = msg; *c != '\0'; c++)
		if (*c < '0' || *c > '9')
			key = (key ^ (unsigned char)*c) * 16777619u;
	pthread_mutex_lock(&mu);
	for (i = 0; i < REFUSAL_KINDS; i++) {
		if (kinds[i].used != 0 && kinds[i].key == key)
			break;
		if (kinds[i].used < kinds[pick].used)
			pick = i;
	}
	if (i == REFUSAL_KINDS) {
		i = pick;
		memset(&kinds[i], 0, sizeof(kinds[i]));
		kinds[i].key = key;
	}
	kinds[i].used = ++clock;
	pthread_mutex_unlock(&mu);
	return log_limit_due(&kinds[i].lim, REFUSAL_EVERY_MS, held);
}

static void
job_run(struct clientsvc *cs, struct job *j)
{
	struct store *s = cs->store;
	struct proto_req q;
	struct reply r;
	struct record rec;
	char err[512];
	int rc;
	uint64_t count = 0;

	memset(&r, 0, sizeof(r));
	r.c = j->conn;
	r.seq = j->hdr.seq;
	buf_init(&r.b);
	record_init(&rec);
	proto_req_init(&q);

	rc = proto_decode_request(&j->hdr, j->payload, MAX_BATCH_OPS, &q, err,
	    sizeof(err));
	/* a request that does not decode goes straight to the error reply */
	switch (rc == XE_OK ? q.type : 0) {
	case XM_GET:
		if ((rc = store_get(s, q.id, &rec, err, sizeof(err))) == XE_OK) {
			proto_begin(&r.b, XM_R_RECORD, 0, r.seq);
			record_encode(&rec, &r.b);
			proto_finish(&r.b);
		}
		break;
	case XM_DEL:
		if ((rc = store_del(s, q.id, err, sizeof(err))) == XE_OK)
			reply_simple(&r, XM_R_OK);
		break;
	case XM_PUT:
	case XM_SET:
	case XM_UNSET:
		if (q.type == XM_PUT)
			rc = store_put(s, &q.rec, err, sizeof(err));
		else if (q.type == XM_SET)
			rc = store_set(s, &q.rec, err, sizeof(err));
		else
			rc = store_unset(s, &q.rec, err, sizeof(err));
		if (rc == XE_OK)
			reply_simple(&r, XM_R_OK);
		break;
	case XM_COUNT:
		if ((rc = store_count(s, q.id, &count, err, sizeof(err))) == XE_OK)
			reply_u64(&r, XM_R_COUNT, count);
		break;
	case XM_LIST: {
		struct list_ctx lc = { &r, (q.flags & XF_IDS_ONLY) != 0 };

		rc = store_list(s, q.id, q.limit, list_cb, &lc, &count, err,
		    sizeof(err));
		if (rc == XE_OK) {
			struct buf tail;

			/* append END after the records still buffered */
			buf_init(&tail);
			proto_begin(&tail, XM_R_END, 0, r.seq);
			buf_put_u64(&tail, count);
			proto_finish(&tail);
			buf_put(&r.b, tail.p, tail.len);
			buf_free(&tail);
		} else {
			/* drop partial records; the ERR ends the reply */
			buf_reset(&r.b);
		}
		break;
	}
	case XM_BATCH:
		if ((rc = store_batch(s, q.ops, q.nops, err, sizeof(err))) == XE_OK)
			reply_simple(&r, XM_R_OK);
		break;
	case XM_STATUS:
		status_reply(cs, &r);
		break;
	}
	if (rc != XE_OK) {
		if (!err[0])
			util_strlcpy(err, proto_errname(rc), sizeof(err));
		if (rc == XE_BADREQ || rc == XE_UNKNOWN || rc == XE_DB) {
			unsigned long held = 0;

			/* a full disk or a hostile client can cause many a
			 * second: each kind of refusal once per 10 s */
			if (refusal_due(j->hdr.type, err, &held) && held == 0)
				log_warnx("client %s: %s request refused: %s",
				    j->conn->peer, proto_typename(j->hdr.type),
				    err);
			else if (held > 0)
				log_warnx("client %s: %s request refused: %s (and "
				    "%lu more like it in the last %d s)",
				    j->conn->peer, proto_typename(j->hdr.type),
				    err, held, REFUSAL_EVERY_MS / 1000);
		} else
			log_debug("client %s: %s: %s", j->conn->peer,
			    proto_typename(j->hdr.type), err);
		reply_err(&r, rc, err);
	}
	if (r.b.oom) {
		buf_reset(&r.b);
		r.b.oom = 0;
		reply_err(&r, XE_BUSY, "server out of memory building the reply");
	}
	reply_flush(&r, 0);
	buf_free(&r.b);
	record_free(&rec);
	proto_req_free(&q);
}


/* ---- reading ---------------------------------------------------------------- */

/* TLS handshake step. 1 done, 0 wants more I/O, -1 failed (logged). */
static int
conn_handshake(struct conn *c)
{
	char reason[256];
	unsigned long e;
	int rc, err;

	ERR_clear_error();
	if ((rc = SSL_accept(c->ssl)) == 1) {
		c->established = 1;
		c->want_write = 0;
		log_debug("client %s: TLS established", c->peer);
		return 1;
	}
	err = SSL_get_error(c->ssl, rc);
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
		c->want_write = (err == SSL_ERROR_WANT_WRITE);
		return 0;
	}
	if (c->timed_out)
		snprintf(reason, sizeof(reason), "no TLS handshake within %d s",
		    CLIENT_HANDSHAKE_MS / 1000);
	else if ((e = ERR_peek_last_error()) != 0)
		ERR_error_string_n(e, reason, sizeof(reason));
	else if (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL && rc == 0))
		util_strlcpy(reason, "connection closed during the TLS handshake",
		    sizeof(reason));
	else
		util_strlcpy(reason, "TLS handshake failed (wrong client key?)", sizeof(reason));
	ERR_clear_error();
	{
		static struct log_limit lim;
		unsigned long held = 0;

		if (log_limit_due(&lim, CLIENT_LOG_EVERY_MS, &held))
			log_warnx("client authentication failed from %s: %s%s",
			    c->peer, reason, held ? " (and failures of other "
			    "connections held back, see the next line)" : "");
		if (held)
			log_warnx("%lu more client authentications failed in the "
			    "last %d s", held, CLIENT_LOG_EVERY_MS / 1000);
	}
	c->closing = 1;
	return -1;
}

/* c->in grew or shrank by delta: a remote connection's bytes count
 * against CLIENT_REMOTE_IN_MAX. */
static void
conn_in_account(struct conn *c, ssize_t delta)
{
	if (!c->remote || delta == 0)
		return;
	if (delta > 0)
		__atomic_add_fetch(&c->cs->remote_in, (size_t)delta,
		    __ATOMIC_RELAXED);
	else
		__atomic_sub_fetch(&c->cs->remote_in, (size_t)-delta,
		    __ATOMIC_RELAXED);
}

/* Read what the socket has. 1 got bytes or nothing yet, 0 EOF, -1 error. */
static int
conn_fill(struct conn *c)
{
	unsigned char tmp[READ_CHUNK];

	for (;;) {
		ssize_t n;

		/* a request under way waits while remote input is at its cap */
		if (c->remote && c->in.len > 0 && __atomic_load_n(
		    &c->cs->remote_in, __ATOMIC_RELAXED) > CLIENT_REMOTE_IN_MAX) {
			__atomic_store_n(&c->starved, 1, __ATOMIC_RELAXED);
			return 1;
		}

		if (c->ssl) {
			int r;

			ERR_clear_error();
			r = SSL_read(c->ssl, tmp, sizeof(tmp));
			if (r > 0) {
				n = r;
			} else {
				int err = SSL_get_error(c->ssl, r);

				if (err == SSL_ERROR_WANT_READ)
					return 1;
				if (err == SSL_ERROR_WANT_WRITE) {
					c->want_write = 1;
					return 1;
				}
				ERR_clear_error();
				return err == SSL_ERROR_ZERO_RETURN ||
				    (err == SSL_ERROR_SYSCALL && r == 0) ? 0 : -1;
			}
		} else {
			n = recv(c->fd, tmp, sizeof(tmp), MSG_DONTWAIT);
			if (n == 0)
				return 0;
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					return 1;
				return -1;
			}
		}
		buf_put(&c->in, tmp, (size_t)n);
		if (c->in.oom)
			return -1;
		conn_in_account(c, n);
		/* enough for one whole frame: handle it before reading further */
		if (c->in.len >= PROTO_HDR_LEN) {
			struct frame_hdr h;

			proto_hdr_decode(c->in.p, &h);
			if (h.len > c->cs->opts.max_frame ||
			    c->in.len >= PROTO_HDR_LEN + (size_t)h.len)
				return 1;
		}
	}
}

static void conn_last_flush(struct conn *);

static int
type_is_request(uint16_t t)
{
	return t >= XM_GET && t <= XM_STATUS;
}

/* Run every complete request in the input. */
static void
conn_run_frames(struct conn *c)
{
	struct clientsvc *cs = c->cs;
	struct frame_hdr h;
	struct job j;
	size_t off = 0, total;
	char msg[256];

	/* a client that does not read its replies is not served further
	 * until it does: its requests wait in c->in and the kernel */
	while (!c->closing && c->in.len - off >= PROTO_HDR_LEN &&
	    conn_pending(c) <= CLIENT_OUT_MAX) {
		proto_hdr_decode(c->in.p + off, &h);
		if (h.len > cs->opts.max_frame) {
			snprintf(msg, sizeof(msg), "request of %u bytes exceeds "
			    "guiSvr.maxRequestSize (%zu bytes)", h.len, cs->opts.max_frame);
			log_warnx("client %s: %s %s; closing the connection", c->peer,
			    proto_typename(h.type), msg);
			conn_reply_err(c, h.seq, XE_TOOBIG, msg);
			/* let the client read the error before it sees the close */
			conn_last_flush(c);
			shutdown(c->fd, SHUT_WR);
			c->closing = 1;
			break;
		}
		total = PROTO_HDR_LEN + (size_t)h.len;
		if (c->in.len - off < total)
			break;
		if (!type_is_request(h.type)) {
			snprintf(msg, sizeof(msg), "unknown request type %u", h.type);
			log_warnx("client %s: %s", c->peer, msg);
			conn_reply_err(c, h.seq, XE_UNKNOWN, msg);
		} else {
			j.conn = c;
			j.hdr = h;
			j.payload = c->in.p + off + PROTO_HDR_LEN;
			job_run(cs, &j);
		}
		off += total;
	}
	if (off > 0) {
		memmove(c->in.p, c->in.p + off, c->in.len - off);
		c->in.len -= off;
		conn_in_account(c, -(ssize_t)off);
	}
}

/* Before a connection goes: let a short last reply (an error) out,
 * waiting a little for a client that reads. */
static void
conn_last_flush(struct conn *c)
{
	uint64_t until = util_now_ms() + 1000;

	c->closing = 0;
	while (conn_pending(c) > 0 && conn_pending(c) <= 64 * 1024 &&
	    util_now_ms() < until && conn_flush(c) == 0 &&
	    conn_pending(c) > 0 && wait_fd(c->fd, POLLOUT, 200) > 0)
		;
	c->closing = 1;
}

/* A worker owns c until it re-arms or frees it. */
static void
conn_service(struct conn *c)
{
	int rc = 1;

	__atomic_store_n(&c->busy, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&c->last_active_ms, util_now_ms(), __ATOMIC_RELAXED);
	if (!c->established) {
		if (conn_handshake(c) < 0) {
			conn_free(c);
			return;
		}
	}
	if (c->established) {
		c->want_write = 0;
		if (conn_flush(c) == -1) {
			conn_free(c);
			return;
		}
		for (;;) {
			/* requests read before, held back while replies
			 * waited, come first */
			conn_run_frames(c);
			if (c->closing || conn_pending(c) > CLIENT_OUT_MAX)
				break;
			rc = conn_fill(c);
			conn_run_frames(c);
			if (rc <= 0 || c->closing)
				break;
			/* TLS may hold decrypted bytes the socket no longer signals */
			if (!(c->ssl && SSL_pending(c->ssl) > 0))
				break;
		}
		if (rc <= 0 || c->closing) {
			if (rc < 0 && !c->closing)
				log_debug("client %s: connection error", c->peer);
			if (rc == 0 || c->closing)
				conn_last_flush(c);
			conn_free(c);
			return;
		}
	}
	__atomic_store_n(&c->busy, 0, __ATOMIC_RELAXED);
	if (__atomic_load_n(&c->starved, __ATOMIC_RELAXED))
		return;             /* sweep_idle arms it when there is room */
	if (conn_arm(c, 0) != 0) {
		log_warn("client %s: epoll_ctl", c->peer);
		conn_free(c);
	}
}

/* ---- accepting -------------------------------------------------------------- */

/* Whether one more connection fits its budget (cs->mu held): local ones
 * guiSvr.maxClients; remote ones CLIENT_MAX_REMOTE, CLIENT_MAX_PER_ADDR per
 * address. NULL, or why not. */
static const char *
conn_budget(struct clientsvc *cs, int remote, const char *addr)
{
	static char why[160];
	struct conn *c;
	int same = 0;

	if (!remote) {
		if (cs->nconns - cs->nremote >= cs->opts.max_clients) {
			snprintf(why, sizeof(why), "guiSvr.maxClients (%d) local "
			    "clients connected", cs->opts.max_clients);
			return why;
		}
		return NULL;
	}
	if (cs->nremote >= CLIENT_MAX_REMOTE) {
		snprintf(why, sizeof(why), "%d remote clients connected",
		    CLIENT_MAX_REMOTE);
		return why;
	}
	for (c = cs->conns; c != NULL; c = c->next)
		if (c->remote && strcmp(c->addr, addr) == 0)
			same++;
	if (same >= CLIENT_MAX_PER_ADDR) {
		snprintf(why, sizeof(why), "%d connections from %s already",
		    CLIENT_MAX_PER_ADDR, addr);
		return why;
	}
	return NULL;
}

static void
conn_new(struct clientsvc *cs, int fd, struct sockaddr *sa, int tls)
{
	static struct log_limit lim;
	char host[INET6_ADDRSTRLEN] = "?";
	const char *why;
	unsigned long held = 0;
	struct conn *c;
	int port = 0;

	if (tls && sa->sa_family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		port = ntohs(s4->sin_port);
	} else if (tls && sa->sa_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		port = ntohs(s6->sin6_port);
	}
	pthread_mutex_lock(&cs->mu);
	if ((why = conn_budget(cs, tls, host)) != NULL) {
		pthread_mutex_unlock(&cs->mu);
		if (log_limit_due(&lim, CLIENT_LOG_EVERY_MS, &held))
			log_warnx("refusing a %s client%s%s: %s%s", tls ? "remote" :
			    "local", tls ? " from " : "", tls ? host : "", why,
			    held ? " (more refused like it)" : "");
		close(fd);
		return;
	}
	cs->nconns++;
	if (tls)
		cs->nremote++;
	pthread_mutex_unlock(&cs->mu);
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warnx("out of memory accepting a client");
		goto fail;
	}
	c->tag = TAG_CONN;
	c->cs = cs;
	c->fd = fd;
	c->remote = tls;
	buf_init(&c->in);
	buf_init(&c->out);
	c->born_ms = c->last_active_ms = c->drain_ms = util_now_ms();
	if (tls) {
		int one = 1;

		util_strlcpy(c->addr, host, sizeof(c->addr));
		snprintf(c->peer, sizeof(c->peer), "%s:%d", host, port);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if ((c->ssl = SSL_new(cs->ssl_ctx)) == NULL || SSL_set_fd(c->ssl, fd) != 1) {
			log_warnx("client %s: cannot set up TLS", c->peer);
			goto fail;
		}
		SSL_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
		    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	} else {
		util_strlcpy(c->peer, "unix", sizeof(c->peer));
		c->established = 1;
	}
	pthread_mutex_lock(&cs->mu);
	c->next = cs->conns;
	if (cs->conns)
		cs->conns->prev = c;
	cs->conns = c;
	pthread_mutex_unlock(&cs->mu);
	log_debug("client %s connected", c->peer);
	if (conn_arm(c, 1) != 0) {
		log_warn("client %s: epoll_ctl", c->peer);
		conn_free(c);
	}
	return;
fail:
	if (c) {
		if (c->ssl)
			SSL_free(c->ssl);
		buf_free(&c->in);
		buf_free(&c->out);
		free(c);
	}
	close(fd);
	pthread_mutex_lock(&cs->mu);
	cs->nconns--;
	if (tls)
		cs->nremote--;
	pthread_mutex_unlock(&cs->mu);
}

static void
accept_all(struct clientsvc *cs, int lfd, enum tag *tag)
{
	struct sockaddr_storage ss;
	struct epoll_event ev;
	socklen_t sl;
	int fd;

	for (;;) {
		sl = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				/* EMFILE and friends: keep serving existing clients */
				log_warn("accepting a client failed");
			break;
		}
		conn_new(cs, fd, (struct sockaddr *)&ss, *tag == TAG_TCP);
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLONESHOT;
	ev.data.ptr = tag;
	epoll_ctl(cs->epfd, EPOLL_CTL_MOD, lfd, &ev);
}

/* Once a second: end handshakes past CLIENT_HANDSHAKE_MS, connections
 * whose replies have not moved for CLIENT_DRAIN_MS, and (guiSvr.idleTimeout)
 * idle ones. The owner of a connection is whichever worker serves it, so
 * the sweeper only shuts the socket down; the next wake-up frees it. */
static void
sweep_idle(struct clientsvc *cs)
{
	uint64_t now = util_now_ms(), limit;
	struct conn *c;

	if (pthread_mutex_trylock(&cs->sweep_mu) != 0)
		return;
	if (now - cs->last_sweep_ms >= 1000) {
		cs->last_sweep_ms = now;
		limit = (uint64_t)cs->opts.idle_timeout_secs * 1000;
		pthread_mutex_lock(&cs->mu);
		for (c = cs->conns; c; c = c->next) {
			if (__atomic_load_n(&c->starved, __ATOMIC_RELAXED) &&
			    !__atomic_load_n(&c->busy, __ATOMIC_RELAXED) &&
			    __atomic_load_n(&cs->remote_in, __ATOMIC_RELAXED) <=
			    CLIENT_REMOTE_IN_MAX) {
				__atomic_store_n(&c->starved, 0,
				    __ATOMIC_RELAXED);
				if (conn_arm(c, 0) != 0)
					shutdown(c->fd, SHUT_RDWR);
				continue;
			}
			if (__atomic_load_n(&c->busy, __ATOMIC_RELAXED) ||
			    c->timed_out)
				continue;
			if (!c->established &&
			    now - c->born_ms > CLIENT_HANDSHAKE_MS) {
				c->timed_out = 1;
				shutdown(c->fd, SHUT_RDWR);
			} else if (c->established && c->outoff < c->out.len &&
			    now - __atomic_load_n(&c->drain_ms,
			    __ATOMIC_RELAXED) > CLIENT_DRAIN_MS) {
				log_info("client %s takes no reply for %d s; "
				    "closing", c->peer, CLIENT_DRAIN_MS / 1000);
				c->timed_out = 1;
				shutdown(c->fd, SHUT_RDWR);
			} else if (limit > 0 && now - __atomic_load_n(
			    &c->last_active_ms, __ATOMIC_RELAXED) > limit) {
				log_info("client %s idle for guiSvr.idleTimeout; "
				    "closing", c->peer);
				c->timed_out = 1;
				shutdown(c->fd, SHUT_RDWR);
			}
		}
		pthread_mutex_unlock(&cs->mu);
	}
	pthread_mutex_unlock(&cs->sweep_mu);
}

static void *
worker_main(void *arg)
{
	struct clientsvc *cs = arg;
	struct epoll_event ev;
	int n;

	for (;;) {
		n = epoll_wait(cs->epfd, &ev, 1, 1000);
		if (__atomic_load_n(&cs->stopping, __ATOMIC_ACQUIRE))
			return NULL;
		if (n < 0 && errno != EINTR) {
			log_warn("epoll_wait");
			return NULL;
		}
		if (n <= 0) {
			sweep_idle(cs);
			continue;
		}
		switch (*(enum tag *)ev.data.ptr) {
		case TAG_UNIX:
			accept_all(cs, cs->unix_fd, &cs->unix_tag);
			break;
		case TAG_TCP:
			accept_all(cs, cs->tcp_fd, &cs->tcp_tag);
			break;
		case TAG_STOP:
			return NULL;
		case TAG_CONN:
			conn_service(ev.data.ptr);
			break;
		}
		sweep_idle(cs);
	}
}

/* ---- listeners -------------------------------------------------------------- */

static int
watch(struct clientsvc *cs, int fd, enum tag *tag, int oneshot)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | (oneshot ? EPOLLONESHOT : 0);
	ev.data.ptr = tag;
	return epoll_ctl(cs->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int
listen_unix(struct clientsvc *cs, const char *path, char *err, size_t errlen)
{
	enum unixsock_fail fail;

	/* a socket file left by a killed guisvr: only removed if nobody answers */
	if ((cs->unix_fd = unixsock_listen(path, 0660, 128, UNIXSOCK_REFUSE_LIVE,
	    &fail)) == -1) {
		if (fail == UNIXSOCK_TOOLONG)
			snprintf(err, errlen, "socket path %s is too long", path);
		else if (fail == UNIXSOCK_LIVE)
			snprintf(err, errlen, "another guisvr is already serving %s", path);
		else if (fail == UNIXSOCK_CHMOD)
			snprintf(err, errlen, "chmod %s: %s", path, strerror(errno));
		else
			snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
		return -1;
	}
	util_strlcpy(cs->sock_path, path, sizeof(cs->sock_path));
	if (watch(cs, cs->unix_fd, &cs->unix_tag, 1) != 0) {
		snprintf(err, errlen, "epoll_ctl: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int
listen_tcp(struct clientsvc *cs, const char *addr, int port, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	unsigned char psk[TLSCTX_PSK_LEN];
	int one = 1;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
		sl = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
		sl = sizeof(struct sockaddr_in6);
	} else {
		snprintf(err, errlen, "guiSvr.listenAddr %s is not a numeric address", addr);
		return -1;
	}
	if (cs->opts.secret == NULL || tlsctx_derive(cs->opts.secret,
	    strlen(cs->opts.secret), TLSCTX_LABEL_CLIENT, psk) != 0) {
		snprintf(err, errlen, "cannot derive the client service key");
		return -1;
	}
	cs->ssl_ctx = tlsctx_server_psk(psk, TLSCTX_IDENTITY_CLIENT, err, errlen);
	OPENSSL_cleanse(psk, sizeof(psk));
	if (cs->ssl_ctx == NULL)
		return -1;
	if ((cs->tcp_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) < 0 ||
	    setsockopt(cs->tcp_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(cs->tcp_fd, (struct sockaddr *)&ss, sl) != 0 ||
	    listen(cs->tcp_fd, 128) != 0) {
		snprintf(err, errlen, "cannot listen on %s port %d: %s", addr, port,
		    strerror(errno));
		return -1;
	}
	if (watch(cs, cs->tcp_fd, &cs->tcp_tag, 1) != 0) {
		snprintf(err, errlen, "epoll_ctl: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- service ---------------------------------------------------------------- */

struct clientsvc *
client_start(struct store *s, const struct client_opts *o, char *err, size_t errlen)
{
	struct clientsvc *cs;
	int i;

	if ((cs = calloc(1, sizeof(*cs))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	cs->store = s;
	cs->opts = *o;
	cs->unix_fd = cs->tcp_fd = cs->stopfd = -1;
	cs->unix_tag = TAG_UNIX;
	cs->tcp_tag = TAG_TCP;
	cs->stop_tag = TAG_STOP;
	pthread_mutex_init(&cs->mu, NULL);
	pthread_mutex_init(&cs->sweep_mu, NULL);
	if ((cs->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (cs->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0 ||
	    watch(cs, cs->stopfd, &cs->stop_tag, 0) != 0) {
		snprintf(err, errlen, "cannot set up epoll: %s", strerror(errno));
		goto fail;
	}
	if (listen_unix(cs, o->sock_path, err, errlen) != 0)
		goto fail;
	if (o->listen_addr && o->listen_addr[0] &&
	    listen_tcp(cs, o->listen_addr, o->listen_port, err, errlen) != 0)
		goto fail;
	if ((cs->workers = calloc(o->workers, sizeof(pthread_t))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (i = 0; i < o->workers; i++) {
		if ((errno = pthread_create(&cs->workers[i], NULL, worker_main, cs)) != 0) {
			snprintf(err, errlen, "cannot start worker thread: %s", strerror(errno));
			goto fail;
		}
		cs->nworkers++;
	}
	log_info("client service listening on %s", o->sock_path);
	if (cs->tcp_fd >= 0)
		log_info("client service listening on %s port %d (TLS 1.3, PSK)",
		    o->listen_addr, o->listen_port);
	return cs;
fail:
	client_stop(cs);
	return NULL;
}

void
client_stop(struct clientsvc *cs)
{
	uint64_t one = 1;
	int i;

	if (cs == NULL)
		return;
	/* workers finish the request in hand: its client was promised an answer */
	__atomic_store_n(&cs->stopping, 1, __ATOMIC_RELEASE);
	if (cs->stopfd >= 0 && write(cs->stopfd, &one, sizeof(one)) < 0)
		log_warn("waking the client workers");
	for (i = 0; i < cs->nworkers; i++)
		pthread_join(cs->workers[i], NULL);
	free(cs->workers);
	while (cs->conns)
		conn_free(cs->conns);
	if (cs->unix_fd >= 0) {
		close(cs->unix_fd);
		if (cs->sock_path[0])
			unlink(cs->sock_path);
	}
	if (cs->tcp_fd >= 0)
		close(cs->tcp_fd);
	if (cs->stopfd >= 0)
		close(cs->stopfd);
	if (cs->epfd >= 0)
		close(cs->epfd);
	if (cs->ssl_ctx)
		SSL_CTX_free(cs->ssl_ctx);
	pthread_mutex_destroy(&cs->mu);
	pthread_mutex_destroy(&cs->sweep_mu);
	free(cs);
}

int
client_count(struct clientsvc *cs)
{
	int n;

	pthread_mutex_lock(&cs->mu);
	n = cs->nconns;
	pthread_mutex_unlock(&cs->mu);
	return n;
}
