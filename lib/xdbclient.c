/* xdbclient.c — blocking client for guisvr's client service (see proto.h for
 * the protocol and xdbclient.h for the contract).
 *
 * Any transport or protocol failure leaves the connection in an unknown
 * position in the reply stream, so the connection is marked broken and every
 * later call fails at once with the same kind of message. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "cfg.h"
#include "guicfg.h"
#include "tlsctx.h"
#include "xdbclient.h"

/* How long to wait for guisvr's reply before giving up; generous because a
 * batch commit may wait for a secondary's acknowledgement. */
#define XDBC_REPLY_TIMEOUT_SECS 300

struct xdbc {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	char peer[300];        /* socket path or host:port, for messages */
	size_t max_frame;
	uint32_t seq;
	int broken;
	int peer_closed;       /* a send failed because guisvr closed */
	unsigned timeout_ms;   /* per send / reply wait */
	struct buf out;
	struct buf in;
};

static void
xerr_set(struct xerr *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
xerr_set(struct xerr *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

static void
xerr_clear(struct xerr *e)
{
	if (e != NULL) {
		e->code = 0;
		e->msg[0] = '\0';
	}
}

/* Transport failure: the connection cannot be used any more. */
static int
broken(struct xdbc *c, struct xerr *e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
broken(struct xdbc *c, struct xerr *e, const char *fmt, ...)
{
	va_list ap;

	c->broken = 1;
	if (e != NULL) {
		e->code = -1;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return -1;
}

static struct xdbc *
xdbc_new(const char *peer)
{
	struct xdbc *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->fd = -1;
	c->max_frame = PROTO_DEFAULT_MAX_FRAME;
	c->timeout_ms = XDBC_REPLY_TIMEOUT_SECS * 1000u;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	buf_init(&c->out);
	buf_init(&c->in);
	return c;
}

void
xdbc_close(struct xdbc *c)
{
	if (c == NULL)
		return;
	if (c->ssl != NULL) {
		if (!c->broken)
			SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	SSL_CTX_free(c->ctx);
	if (c->fd != -1)
		close(c->fd);
	buf_free(&c->out);
	buf_free(&c->in);
	free(c);
}

void
xdbc_set_max_frame(struct xdbc *c, size_t max)
{
	c->max_frame = max;
}

static void
set_timeout(int fd, unsigned ms)
{
	struct timeval tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* "300 seconds" or "1500 ms", for the timeout messages. */
static const char *
timeout_str(const struct xdbc *c, char *out, size_t outlen)
{
	if (c->timeout_ms % 1000 == 0)
		snprintf(out, outlen, "%u seconds", c->timeout_ms / 1000);
	else
		snprintf(out, outlen, "%u ms", c->timeout_ms);
	return out;
}

void
xdbc_set_timeout(struct xdbc *c, unsigned ms)
{
	c->timeout_ms = ms > 0 ? ms : XDBC_REPLY_TIMEOUT_SECS * 1000u;
	if (c->fd != -1)
		set_timeout(c->fd, c->timeout_ms);
}

struct xdbc *
xdbc_connect_unix(const char *path, struct xerr *e)
{
	struct sockaddr_un sun;
	struct xdbc *c;
	int fd, saved;

	xerr_clear(e);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		xerr_set(e, -1, "socket path %s is too long (at most %zu bytes)", path,
		    sizeof(sun.sun_path) - 1);
		return NULL;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		xerr_set(e, -1, "cannot create a socket for %s: %s", path, strerror(errno));
		return NULL;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		saved = errno;
		close(fd);
		if (saved == EACCES)
			xerr_set(e, -1, "cannot connect to %s: %s (run as root or as a "
			    "member of the socket's group)", path, strerror(saved));
		else
			xerr_set(e, -1, "cannot connect to %s: %s (is guisvr running?)",
			    path, strerror(saved));
		return NULL;
	}
	if ((c = xdbc_new(path)) == NULL) {
		close(fd);
		xerr_set(e, -1, "out of memory");
		return NULL;
	}
	c->fd = fd;
	set_timeout(fd, c->timeout_ms);
	return c;
}

/* connect(2) that gives up after timeout_ms (0: the system's own limit).
 * 0, or -1 with errno set. */
static int
connect_timed(int fd, const struct sockaddr *sa, socklen_t len, unsigned timeout_ms)
{
	struct pollfd pfd;
	socklen_t elen = sizeof(int);
	int flags, rc, err = 0;

	if (timeout_ms == 0)
		return connect(fd, sa, len);
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
		return -1;
	rc = connect(fd, sa, len);
	if (rc == -1 && errno == EINPROGRESS) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		do
			rc = poll(&pfd, 1, (int)timeout_ms);
		while (rc == -1 && errno == EINTR);
		if (rc == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (rc == -1)
			return -1;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1)
			return -1;
		if (err != 0) {
			errno = err;
			return -1;
		}
		rc = 0;
	}
	if (rc == 0 && fcntl(fd, F_SETFL, flags) == -1)
		return -1;
	return rc;
}

static int
tcp_connect(const char *host, const char *port, const char *peer,
    unsigned timeout_ms, struct xerr *e)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1, rc, saved = 0, one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		xerr_set(e, -1, "cannot resolve %s: %s", peer, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd == -1) {
			saved = errno;
			continue;
		}
		if (connect_timed(fd, ai->ai_addr, ai->ai_addrlen, timeout_ms) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1) {
		xerr_set(e, -1, "cannot connect to %s: %s (is guisvr listening there? "
		    "see guiSvr.listenAddr)", peer, strerror(saved));
		return -1;
	}
	/* Requests and replies are small and strictly alternating. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

struct xdbc *
xdbc_connect_tls(const char *host, const char *port, const char *secret, struct xerr *e)
{
	return xdbc_connect_tls_timeout(host, port, secret, 0, e);
}

struct xdbc *
xdbc_connect_tls_timeout(const char *host, const char *port, const char *secret,
    unsigned timeout_ms, struct xerr *e)
{
	unsigned char psk[TLSCTX_PSK_LEN];
	char peer[300], err[512], why[256], tmo[32];
	struct xdbc *c;
	int fd, rc;

	xerr_clear(e);
	snprintf(peer, sizeof(peer), strchr(host, ':') ? "[%s]:%s" : "%s:%s", host, port);
	if (tlsctx_derive(secret, strlen(secret), TLSCTX_LABEL_CLIENT, psk) == -1) {
		tlsctx_errstr(why, sizeof(why));
		xerr_set(e, -1, "cannot derive the client key: %s", why);
		return NULL;
	}
	if ((c = xdbc_new(peer)) == NULL) {
		OPENSSL_cleanse(psk, sizeof(psk));
		xerr_set(e, -1, "out of memory");
		return NULL;
	}
	c->ctx = tlsctx_client_psk(psk, TLSCTX_IDENTITY_CLIENT, err, sizeof(err));
	OPENSSL_cleanse(psk, sizeof(psk));
	if (c->ctx == NULL) {
		xerr_set(e, -1, "%s", err);
		goto fail;
	}
	/* This client blocks: let OpenSSL retry after post-handshake messages,
	 * and treat a close without close_notify as an ordinary EOF. */
	SSL_CTX_set_mode(c->ctx, SSL_MODE_AUTO_RETRY);
	SSL_CTX_set_options(c->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (timeout_ms > 0)
		c->timeout_ms = timeout_ms;
	if ((fd = tcp_connect(host, port, peer, timeout_ms, e)) == -1)
		goto fail;
	c->fd = fd;
	set_timeout(fd, c->timeout_ms);
	if ((c->ssl = SSL_new(c->ctx)) == NULL || SSL_set_fd(c->ssl, fd) != 1) {
		tlsctx_errstr(why, sizeof(why));
		xerr_set(e, -1, "cannot set up TLS to %s: %s", peer, why);
		goto fail;
	}
	ERR_clear_error();
	if ((rc = SSL_connect(c->ssl)) != 1) {
		int se = SSL_get_error(c->ssl, rc), saved = errno;

		if ((se == SSL_ERROR_WANT_READ || se == SSL_ERROR_WANT_WRITE) &&
		    (saved == EAGAIN || saved == EWOULDBLOCK)) {
			xerr_set(e, -1, "TLS handshake with %s failed: no answer within "
			    "%s (guisvr stopped or overloaded?)", peer,
			    timeout_str(c, tmo, sizeof(tmo)));
			c->broken = 1;
			goto fail;
		}
		if (se == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
			snprintf(why, sizeof(why), "%s", saved ? strerror(saved) :
			    "connection closed by guisvr");
		else
			tlsctx_errstr(why, sizeof(why));
		xerr_set(e, -1, "TLS handshake with %s failed: %s (check the client key)",
		    peer, why);
		c->broken = 1;
		goto fail;
	}
	return c;
fail:
	c->broken = 1;
	xdbc_close(c);
	return NULL;
}

/* ---- byte transport ---------------------------------------------------- */

static int
io_write(struct xdbc *c, const void *p, size_t n, struct xerr *e)
{
	const unsigned char *q = p;
	char why[256], tmo[32];
	ssize_t w;
	int rc;

	while (n > 0) {
		if (c->ssl != NULL) {
			ERR_clear_error();
			rc = SSL_write(c->ssl, q, n > INT32_MAX ? INT32_MAX : (int)n);
			if (rc <= 0) {
				int se = SSL_get_error(c->ssl, rc);

				if (se == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
					c->peer_closed = 1;
					return broken(c, e, "connection to %s closed by "
					    "guisvr while sending", c->peer);
				}
				tlsctx_errstr(why, sizeof(why));
				return broken(c, e, "TLS error sending to %s: %s", c->peer, why);
			}
			w = rc;
		} else if ((w = send(c->fd, q, n, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE || errno == ECONNRESET) {
				c->peer_closed = 1;
				return broken(c, e, "connection to %s closed by guisvr",
				    c->peer);
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return broken(c, e, "guisvr at %s accepted no data for %s",
				    c->peer, timeout_str(c, tmo, sizeof(tmo)));
			return broken(c, e, "cannot send to %s: %s", c->peer, strerror(errno));
		}
		q += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads exactly n bytes. */
static int
io_read(struct xdbc *c, void *p, size_t n, struct xerr *e)
{
	unsigned char *q = p;
	char why[256], tmo[32];
	ssize_t r;
	int rc;

	while (n > 0) {
		if (c->ssl != NULL) {
			ERR_clear_error();
			errno = 0;
			rc = SSL_read(c->ssl, q, n > INT32_MAX ? INT32_MAX : (int)n);
			if (rc <= 0) {
				int se = SSL_get_error(c->ssl, rc);

				if (se == SSL_ERROR_ZERO_RETURN ||
				    (se == SSL_ERROR_SYSCALL && errno == 0 &&
				    ERR_peek_error() == 0))
					return broken(c, e, "connection to %s closed by "
					    "guisvr", c->peer);
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					return broken(c, e, "no reply from guisvr at %s "
					    "within %s", c->peer,
					    timeout_str(c, tmo, sizeof(tmo)));
				if (se == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
					return broken(c, e, "cannot read from %s: %s",
					    c->peer, strerror(errno));
				tlsctx_errstr(why, sizeof(why));
				return broken(c, e, "TLS error reading from %s: %s",
				    c->peer, why);
			}
			r = rc;
		} else if ((r = read(c->fd, q, n)) <= 0) {
			if (r == 0)
				return broken(c, e, "connection to %s closed by guisvr",
				    c->peer);
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return broken(c, e, "no reply from guisvr at %s within %s",
				    c->peer, timeout_str(c, tmo, sizeof(tmo)));
			if (errno == ECONNRESET)
				return broken(c, e, "connection to %s closed by guisvr",
				    c->peer);
			return broken(c, e, "cannot read from %s: %s", c->peer,
			    strerror(errno));
		}
		q += r;
		n -= (size_t)r;
	}
	return 0;
}

/* ---- frames ------------------------------------------------------------ */

int
xdbc_send_raw(struct xdbc *c, const void *p, size_t n, struct xerr *e)
{
	xerr_clear(e);
	if (c->broken)
		return broken(c, e, "connection to %s is unusable after an earlier error",
		    c->peer);
	return io_write(c, p, n, e);
}

int
xdbc_read_frame(struct xdbc *c, struct frame_hdr *h, struct buf *payload, struct xerr *e)
{
	unsigned char hdr[PROTO_HDR_LEN];
	unsigned char *np;

	xerr_clear(e);
	if (c->broken)
		return broken(c, e, "connection to %s is unusable after an earlier error",
		    c->peer);
	if (io_read(c, hdr, sizeof(hdr), e) == -1)
		return -1;
	proto_hdr_decode(hdr, h);
	if (h->len > c->max_frame)
		return broken(c, e, "reply from %s announces %u bytes, over the limit of "
		    "%zu bytes (protocol mismatch?)", c->peer, h->len, c->max_frame);
	buf_reset(payload);
	if (h->len > payload->cap) {
		if ((np = realloc(payload->p, h->len)) == NULL)
			return broken(c, e, "out of memory for a reply of %u bytes", h->len);
		payload->p = np;
		payload->cap = h->len;
	}
	if (h->len > 0 && io_read(c, payload->p, h->len, e) == -1)
		return -1;
	payload->len = h->len;
	return 0;
}

/* Reads one reply to request seq. Returns 0 with the frame in h / c->in,
 * an xe_code for an ERR reply, or -1. */
static int
read_reply(struct xdbc *c, uint32_t seq, struct frame_hdr *h, struct xerr *e)
{
	struct rd rd;
	const char *msg;
	size_t mlen;
	uint32_t code;

	if (xdbc_read_frame(c, h, &c->in, e) == -1)
		return -1;
	if (h->seq != seq)
		return broken(c, e, "reply from %s is for request %u, expected %u "
		    "(protocol mismatch?)", c->peer, h->seq, seq);
	if (h->type != XM_R_ERR)
		return 0;
	rd_init(&rd, c->in.p, c->in.len);
	code = rd_u32(&rd);
	msg = rd_str16(&rd, &mlen);
	if (!rd_done(&rd) || code == 0 || code > INT32_MAX)
		return broken(c, e, "malformed ERR reply from %s", c->peer);
	xerr_set(e, (int)code, "%.*s", (int)mlen, msg);
	if (mlen == 0)
		xerr_set(e, (int)code, "%s", proto_errname((int)code));
	return (int)code;
}

/* Sends c->out (a finished frame): 0, -1, or the xe_code of the ERR reply
 * guisvr sent before it closed the connection in the middle of the
 * request (one over guiSvr.maxRequestSize is refused that way: its reason
 * is only in that reply). */
static int
send_request(struct xdbc *c, struct xerr *e)
{
	struct frame_hdr h;
	struct xerr why;
	int rc;

	if (c->out.oom)
		return broken(c, e, "request to %s could not be built (out of memory or "
		    "a field over its size limit)", c->peer);
	if (xdbc_send_raw(c, c->out.p, c->out.len, e) == 0)
		return 0;
	if (!c->peer_closed)
		return -1;
	/* what guisvr wrote before closing is still there to read */
	c->broken = 0;
	rc = read_reply(c, c->seq, &h, &why);
	c->broken = 1;
	if (rc <= 0)
		return -1;      /* no reason sent: keep "closed by guisvr" */
	if (e != NULL)
		*e = why;
	return rc;
}

static int
unexpected(struct xdbc *c, const struct frame_hdr *h, int req, struct xerr *e)
{
	return broken(c, e, "unexpected %s reply (type %u) from %s to %s",
	    proto_typename(h->type), h->type, c->peer, proto_typename(req));
}

/* One request with a single final reply of type want (payload in c->in). */
static int
simple_request(struct xdbc *c, int req, uint16_t want, struct xerr *e)
{
	struct frame_hdr h;
	int rc;

	proto_finish(&c->out);
	if ((rc = send_request(c, e)) != 0)
		return rc;
	if ((rc = read_reply(c, c->seq, &h, e)) != 0)
		return rc;
	if (h.type != want)
		return unexpected(c, &h, req, e);
	return 0;
}

static void
begin(struct xdbc *c, uint16_t type, uint16_t flags)
{
	proto_begin(&c->out, type, flags, ++c->seq);
}

int
xdbc_get(struct xdbc *c, const char *id, struct record *out, struct xerr *e)
{
	char err[512];
	struct rd rd;
	int rc;

	xerr_clear(e);
	begin(c, XM_GET, 0);
	buf_put_str16(&c->out, id, strlen(id));
	if ((rc = simple_request(c, XM_GET, XM_R_RECORD, e)) != 0)
		return rc;
	record_free(out);
	rd_init(&rd, c->in.p, c->in.len);
	if (record_decode_rd(out, &rd, err, sizeof(err)) == -1 || !rd_done(&rd)) {
		record_free(out);
		return broken(c, e, "malformed RECORD reply from %s: %s", c->peer,
		    rd_done(&rd) ? err : "bad length");
	}
	if (strcmp(out->id, id) != 0) {
		broken(c, e, "RECORD reply from %s is for %s, asked for %s", c->peer,
		    out->id, id);
		record_free(out);
		return -1;
	}
	return 0;
}

static int
record_request(struct xdbc *c, int type, const struct record *r, struct xerr *e)
{
	xerr_clear(e);
	begin(c, type, 0);
	record_encode(r, &c->out);
	return simple_request(c, type, XM_R_OK, e);
}

int
xdbc_put(struct xdbc *c, const struct record *r, struct xerr *e)
{
	return record_request(c, XM_PUT, r, e);
}

int
xdbc_set(struct xdbc *c, const struct record *r, struct xerr *e)
{
	return record_request(c, XM_SET, r, e);
}

int
xdbc_unset(struct xdbc *c, const struct record *r, struct xerr *e)
{
	return record_request(c, XM_UNSET, r, e);
}

int
xdbc_del(struct xdbc *c, const char *id, struct xerr *e)
{
	xerr_clear(e);
	begin(c, XM_DEL, 0);
	buf_put_str16(&c->out, id, strlen(id));
	return simple_request(c, XM_DEL, XM_R_OK, e);
}

int
xdbc_count(struct xdbc *c, const char *prefix, uint64_t *n, struct xerr *e)
{
	struct rd rd;
	int rc;

	xerr_clear(e);
	begin(c, XM_COUNT, 0);
	buf_put_str16(&c->out, prefix, strlen(prefix));
	if ((rc = simple_request(c, XM_COUNT, XM_R_COUNT, e)) != 0)
		return rc;
	rd_init(&rd, c->in.p, c->in.len);
	*n = rd_u64(&rd);
	if (!rd_done(&rd))
		return broken(c, e, "malformed COUNT reply from %s", c->peer);
	return 0;
}

int
xdbc_list(struct xdbc *c, const char *prefix, int ids_only, uint32_t limit,
    int (*cb)(const struct record *r, void *arg), void *arg, struct xerr *e)
{
	struct frame_hdr h;
	struct record r;
	struct rd rd;
	const char *id;
	size_t idlen;
	char err[512];
	int rc, stop = 0;

	xerr_clear(e);
	begin(c, XM_LIST, ids_only ? XF_IDS_ONLY : 0);
	buf_put_str16(&c->out, prefix, strlen(prefix));
	buf_put_u32(&c->out, limit);
	proto_finish(&c->out);
	if ((rc = send_request(c, e)) != 0)
		return rc;
	record_init(&r);
	for (;;) {
		if ((rc = read_reply(c, c->seq, &h, e)) != 0)
			return rc;
		rd_init(&rd, c->in.p, c->in.len);
		switch (h.type) {
		case XM_R_END:
			(void)rd_u64(&rd);
			if (!rd_done(&rd))
				return broken(c, e, "malformed END reply from %s", c->peer);
			return stop;
		case XM_R_RECORD:
			if (record_decode_rd(&r, &rd, err, sizeof(err)) == -1 ||
			    !rd_done(&rd)) {
				record_free(&r);
				return broken(c, e, "malformed RECORD reply from %s: %s",
				    c->peer, rd_done(&rd) ? err : "bad length");
			}
			break;
		case XM_R_ID:
			id = rd_str16(&rd, &idlen);
			if (!rd_done(&rd) || record_id_valid(id, idlen, err, sizeof(err)) == -1)
				return broken(c, e, "malformed ID reply from %s: %s",
				    c->peer, rd_done(&rd) ? err : "bad length");
			if (record_set_id(&r, id, idlen) == -1)
				return broken(c, e, "out of memory");
			break;
		default:
			return unexpected(c, &h, XM_LIST, e);
		}
		/* After the callback stops, the rest of the reply is read and dropped
		 * so the connection stays usable. */
		if (!stop)
			stop = cb(&r, arg);
		record_free(&r);
	}
}

int
xdbc_status(struct xdbc *c, char **text, struct xerr *e)
{
	struct rd rd;
	const char *s;
	size_t n;
	int rc;

	xerr_clear(e);
	*text = NULL;
	begin(c, XM_STATUS, 0);
	if ((rc = simple_request(c, XM_STATUS, XM_R_STATUS, e)) != 0)
		return rc;
	rd_init(&rd, c->in.p, c->in.len);
	s = rd_str32(&rd, &n);
	if (!rd_done(&rd))
		return broken(c, e, "malformed STATUS reply from %s", c->peer);
	if ((*text = strndup(s ? s : "", n)) == NULL)
		return broken(c, e, "out of memory");
	return 0;
}

/* ---- batches ----------------------------------------------------------- */

void
xdbc_batch_init(struct xdbc_batch *bt)
{
	buf_init(&bt->b);
	bt->n = 0;
}

void
xdbc_batch_add(struct xdbc_batch *bt, enum rec_opcode op, const struct record *r)
{
	buf_put_u8(&bt->b, (uint8_t)op);
	record_encode(r, &bt->b);
	bt->n++;
}

/* The batch is left as it is: the caller frees it or keeps it for a retry. */
int
xdbc_batch_commit(struct xdbc *c, struct xdbc_batch *bt, struct xerr *e)
{
	xerr_clear(e);
	if (bt->b.oom) {
		xerr_set(e, XE_TOOBIG, "batch could not be built (out of memory or a "
		    "field over its size limit)");
		return XE_TOOBIG;
	}
	begin(c, XM_BATCH, 0);
	buf_put_u32(&c->out, bt->n);
	buf_put(&c->out, bt->b.p, bt->b.len);
	return simple_request(c, XM_BATCH, XM_R_OK, e);
}

void
xdbc_batch_free(struct xdbc_batch *bt)
{
	buf_free(&bt->b);
	bt->n = 0;
}

/* ---- finding the socket ------------------------------------------------ */

int
xdbc_socket_path(const char *cfgfile, int must_exist, char *out, size_t outlen,
    char *err, size_t errlen)
{
	struct guicfg_paths p;
	struct stat st;
	struct cfg c;
	char why[512];
	int rc = -1;

	cfg_init(&c, guicfg_keys, guicfg_nkeys);
	if (stat(cfgfile, &st) == 0 || must_exist) {
		if (cfg_parse_file(&c, cfgfile) != 0) {
			snprintf(err, errlen, "%s (%zu error%s in all; fix the file or "
			    "give the socket with -s)", c.nerrors ? c.errors[0] : cfgfile, c.nerrors,
			    c.nerrors == 1 ? "" : "s");
			goto out;
		}
	}
	if (guicfg_paths(&c, &p, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: %s", cfgfile, why);
		goto out;
	}
	if (strlen(p.sock) >= outlen) {
		snprintf(err, errlen, "%s: socket path %s is too long", cfgfile, p.sock);
		goto out;
	}
	memcpy(out, p.sock, strlen(p.sock) + 1);
	rc = 0;
out:
	cfg_free(&c);
	return rc;
}
