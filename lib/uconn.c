/* uconn.c — the blocking framed client of hactl and halink (see uconn.h). */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "uconn.h"
#include "util.h"

int
uconn_broken(struct uconn *c, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	c->broken = 1;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* " see var/errorLog/ha.log"-style tail, "" without a log hint. */
static const char *
log_tail(const struct uconn *c, char *out, size_t outlen)
{
	if (c->peer->log_hint == NULL)
		return "";
	snprintf(out, outlen, " %s", c->peer->log_hint);
	return out;
}

int
uconn_connect(struct uconn *c, const struct uconn_peer *peer, const char *path,
    char *err, size_t errlen)
{
	struct timeval tv = { peer->timeout_secs, 0 };
	struct sockaddr_un sun;
	char tail[128];
	int fd, saved;

	memset(c, 0, sizeof(*c));
	c->peer = peer;
	c->fd = -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (util_strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		snprintf(err, errlen, "socket path %s is too long (at most %zu "
		    "characters)", path, sizeof(sun.sun_path) - 1);
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		saved = errno;
		snprintf(err, errlen, "cannot create a socket for %s: %s", path,
		    strerror(saved));
		errno = saved;
		return -1;
	}
	/* a full listen backlog would block connect without this */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		saved = errno;
		close(fd);
		if (saved == EACCES || saved == EPERM)
			snprintf(err, errlen, "cannot connect to %s: %s (%s)", path,
			    strerror(saved), peer->access_hint);
		else if (saved == EAGAIN || saved == EINPROGRESS)
			snprintf(err, errlen, "cannot connect to %s: %s did not "
			    "accept within %d seconds (is it hung?%s)", path,
			    peer->server, peer->timeout_secs,
			    log_tail(c, tail, sizeof(tail)));
		else
			snprintf(err, errlen, "cannot connect to %s: %s (is %s "
			    "running?)", path, strerror(saved), peer->server);
		errno = saved;
		return -1;
	}
	c->fd = fd;
	util_strlcpy(c->path, path, sizeof(c->path));
	buf_init(&c->out);
	buf_init(&c->in);
	return 0;
}

void
uconn_close(struct uconn *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	buf_free(&c->out);
	buf_free(&c->in);
}

/* Reads n bytes before the deadline (util_now_ms). */
static int
io_read(struct uconn *c, void *p, size_t n, uint64_t deadline, char *err,
    size_t errlen)
{
	unsigned char *q = p;
	struct pollfd pfd;
	char tail[128];
	uint64_t now;
	ssize_t r;
	int pr;

	while (n > 0) {
		if ((now = util_now_ms()) >= deadline)
			return uconn_broken(c, err, errlen, "no reply from %s on %s "
			    "within %d seconds (is it hung?%s)", c->peer->server,
			    c->path, c->peer->timeout_secs,
			    log_tail(c, tail, sizeof(tail)));
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		if ((pr = poll(&pfd, 1, (int)(deadline - now))) == -1) {
			if (errno == EINTR)
				continue;
			return uconn_broken(c, err, errlen, "poll on %s: %s",
			    c->path, strerror(errno));
		}
		if (pr == 0)
			continue;
		if ((r = read(c->fd, q, n)) == -1 && (errno == EINTR ||
		    errno == EAGAIN))
			continue;
		if (r == 0 || (r == -1 && errno == ECONNRESET))
			return uconn_broken(c, err, errlen, "%s closed %s before "
			    "answering (did it stop?%s)", c->peer->server, c->path,
			    log_tail(c, tail, sizeof(tail)));
		if (r == -1)
			return uconn_broken(c, err, errlen, "cannot read from %s: %s",
			    c->path, strerror(errno));
		q += r;
		n -= (size_t)r;
	}
	return 0;
}

/* One whole frame into c->in. */
static int
read_frame(struct uconn *c, struct frame_hdr *fh, uint64_t deadline, char *err,
    size_t errlen)
{
	unsigned char hdr[PROTO_HDR_LEN], *np;

	if (io_read(c, hdr, sizeof(hdr), deadline, err, errlen) == -1)
		return -1;
	proto_hdr_decode(hdr, fh);
	if (fh->len > c->peer->max_frame)
		return uconn_broken(c, err, errlen, "frame from %s announces %u "
		    "bytes, over the limit of %zu (is this %s's socket?)", c->path,
		    fh->len, c->peer->max_frame, c->peer->server);
	buf_reset(&c->in);
	if (fh->len > c->in.cap) {
		if ((np = realloc(c->in.p, fh->len)) == NULL)
			return uconn_broken(c, err, errlen, "out of memory");
		c->in.p = np;
		c->in.cap = fh->len;
	}
	if (fh->len > 0 &&
	    io_read(c, c->in.p, fh->len, deadline, err, errlen) == -1)
		return -1;
	c->in.len = fh->len;
	return 0;
}

void
uconn_begin(struct uconn *c, uint16_t type)
{
	proto_begin(&c->out, type, 0, ++c->seq);
}

int
uconn_roundtrip(struct uconn *c, const char *what, uint16_t want, char *err,
    size_t errlen)
{
	const unsigned char *q;
	struct frame_hdr fh;
	const char *msg;
	struct rd rd;
	uint32_t code;
	size_t mlen, n;
	ssize_t w;

	if (c->broken)
		return uconn_broken(c, err, errlen, "%s to %s is unusable after "
		    "an earlier error", c->peer->socket, c->path);
	proto_finish(&c->out);
	if (c->out.oom)
		return uconn_broken(c, err, errlen, "out of memory");
	/* MSG_NOSIGNAL: a library must not kill its caller with SIGPIPE */
	for (q = c->out.p, n = c->out.len; n > 0; q += w, n -= (size_t)w)
		if ((w = send(c->fd, q, n, MSG_NOSIGNAL)) == -1) {
			int e = errno;

			if (e == EINTR) {
				w = 0;
				continue;
			}
			return uconn_broken(c, err, errlen, "cannot send %s to %s: "
			    "%s%s", what, c->path, e == EPIPE || e == ECONNRESET ?
			    "closed by " : strerror(e), e == EPIPE ||
			    e == ECONNRESET ? c->peer->server : "");
		}
	if (read_frame(c, &fh, util_now_ms() +
	    (uint64_t)c->peer->timeout_secs * 1000, err, errlen) == -1)
		return -1;
	if (fh.seq != c->seq)
		return uconn_broken(c, err, errlen, "reply from %s is for request "
		    "%u, sent %u", c->path, fh.seq, c->seq);
	rd_init(&rd, c->in.p, c->in.len);
	if (fh.type == XM_R_ERR) {
		code = rd_u32(&rd);
		msg = rd_str16(&rd, &mlen);
		if (!rd_done(&rd) || code == 0 || code > INT32_MAX)
			return uconn_broken(c, err, errlen, "malformed ERR reply to "
			    "%s from %s", what, c->path);
		snprintf(err, errlen, "%.*s", (int)mlen, msg);
		return (int)code;
	}
	if (fh.type != want && c->peer->typename != NULL)
		return uconn_broken(c, err, errlen, "unexpected reply %s (%u) to "
		    "%s from %s", c->peer->typename(fh.type), fh.type, what,
		    c->path);
	if (fh.type != want)
		return uconn_broken(c, err, errlen, "unexpected reply %u to %s "
		    "from %s", fh.type, what, c->path);
	return 0;
}

int
uconn_wait_frame(struct uconn *c, int timeout_ms, struct frame_hdr *fh,
    char *err, size_t errlen)
{
	struct pollfd pfd;
	int r;

	if (c->broken)
		return uconn_broken(c, err, errlen, "%s to %s is unusable after "
		    "an earlier error", c->peer->socket, c->path);
	pfd.fd = c->fd;
	pfd.events = POLLIN;
	while ((r = poll(&pfd, 1, timeout_ms)) == -1 && errno == EINTR)
		;
	if (r == -1)
		return uconn_broken(c, err, errlen, "poll on %s: %s", c->path,
		    strerror(errno));
	if (r == 0)
		return 0;
	/* a frame that started arrives whole soon */
	if (read_frame(c, fh, util_now_ms() +
	    (uint64_t)c->peer->timeout_secs * 1000, err, errlen) == -1)
		return -1;
	return 1;
}
