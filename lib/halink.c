/* halink.c — the client side of the ha-link (see halink.h): one blocking
 * connection to guisvr's ha-link socket, one request in flight.
 *
 * A transport or protocol failure leaves the reply stream at an unknown
 * position, so the connection is then marked broken and every later call
 * fails at once. After halink_subscribe the connection carries events only. */
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

#include "halink.h"
#include "util.h"

/* A role change starts replication (rep_start), which may take a while. */
#define HALINK_REPLY_TIMEOUT_SECS 120
/* Replies are a state text at most; anything larger is a wrong peer. */
#define HALINK_MAX_FRAME (1024 * 1024)

struct hlc {
	int fd;
	char path[108];
	uint32_t seq;
	int broken;
	int subscribed;
	struct buf out;
	struct buf in;
};

static const char *const role_names[] = {
	[HL_ROLE_NONE] = "none",
	[HL_ROLE_PRIMARY] = "primary",
	[HL_ROLE_SECONDARY] = "secondary",
};

const char *
halink_role_name(int role)
{
	if (role < 0 || (size_t)role >= sizeof(role_names) / sizeof(role_names[0]))
		return "none";
	return role_names[role];
}

int
halink_role_parse(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++)
		if (strcmp(s, role_names[i]) == 0)
			return (int)i;
	return -1;
}

static int
broken(struct hlc *h, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
broken(struct hlc *h, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	h->broken = 1;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

struct hlc *
halink_connect(const char *path, char *err, size_t errlen)
{
	struct timeval tv = { HALINK_REPLY_TIMEOUT_SECS, 0 };
	struct sockaddr_un sun;
	struct hlc *h;
	int fd, saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (util_strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		snprintf(err, errlen, "ha-link socket path %s is too long (at "
		    "most %zu characters)", path, sizeof(sun.sun_path) - 1);
		return NULL;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "cannot create a socket for %s: %s", path,
		    strerror(errno));
		return NULL;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		saved = errno;
		close(fd);
		if (saved == EACCES)
			snprintf(err, errlen, "cannot connect to %s: %s (run as "
			    "the daemons' user or a member of the socket's group)",
			    path, strerror(saved));
		else
			snprintf(err, errlen, "cannot connect to %s: %s (is guisvr "
			    "running?)", path, strerror(saved));
		return NULL;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	h->fd = fd;
	util_strlcpy(h->path, path, sizeof(h->path));
	buf_init(&h->out);
	buf_init(&h->in);
	return h;
}

void
halink_close(struct hlc *h)
{
	if (h == NULL)
		return;
	if (h->fd != -1)
		close(h->fd);
	buf_free(&h->out);
	buf_free(&h->in);
	free(h);
}

static int
io_read(struct hlc *h, void *p, size_t n, char *err, size_t errlen)
{
	unsigned char *q = p;
	ssize_t r;

	while (n > 0) {
		if ((r = read(h->fd, q, n)) == 0)
			return broken(h, err, errlen, "ha-link %s closed by guisvr",
			    h->path);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return broken(h, err, errlen, "no reply from guisvr "
				    "on %s within %d seconds", h->path,
				    HALINK_REPLY_TIMEOUT_SECS);
			if (errno == ECONNRESET)
				return broken(h, err, errlen, "ha-link %s closed by "
				    "guisvr", h->path);
			return broken(h, err, errlen, "cannot read from %s: %s",
			    h->path, strerror(errno));
		}
		q += r;
		n -= (size_t)r;
	}
	return 0;
}

/* MSG_NOSIGNAL: a library must not kill its caller with SIGPIPE. */
static int
io_write(int fd, const void *p, size_t n)
{
	const unsigned char *q = p;
	ssize_t w;

	while (n > 0) {
		if ((w = send(fd, q, n, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		q += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One whole frame into h->in. */
static int
read_frame(struct hlc *h, struct frame_hdr *fh, char *err, size_t errlen)
{
	unsigned char hdr[PROTO_HDR_LEN], *np;

	if (io_read(h, hdr, sizeof(hdr), err, errlen) == -1)
		return -1;
	proto_hdr_decode(hdr, fh);
	if (fh->len > HALINK_MAX_FRAME)
		return broken(h, err, errlen, "frame from %s announces %u bytes, "
		    "over the limit of %d (is this an ha-link socket?)", h->path,
		    fh->len, HALINK_MAX_FRAME);
	buf_reset(&h->in);
	if (fh->len > h->in.cap) {
		if ((np = realloc(h->in.p, fh->len)) == NULL)
			return broken(h, err, errlen, "out of memory");
		h->in.p = np;
		h->in.cap = fh->len;
	}
	if (fh->len > 0 && io_read(h, h->in.p, fh->len, err, errlen) == -1)
		return -1;
	h->in.len = fh->len;
	return 0;
}

/* Sends h->out (begun with begin()) and reads the reply of type want into
 * h->in. 0, an xe_code from an ERR reply (err filled), or -1. */
static int
request(struct hlc *h, const char *what, uint16_t want, char *err,
    size_t errlen)
{
	struct frame_hdr fh;
	const char *msg;
	struct rd rd;
	uint32_t code;
	size_t mlen;

	if (h->broken)
		return broken(h, err, errlen, "ha-link %s is unusable after an "
		    "earlier error", h->path);
	if (h->subscribed)
		return broken(h, err, errlen, "ha-link connection to %s carries "
		    "events only after subscribe: open another one for %s",
		    h->path, what);
	proto_finish(&h->out);
	if (h->out.oom)
		return broken(h, err, errlen, "out of memory");
	if (io_write(h->fd, h->out.p, h->out.len) == -1)
		return broken(h, err, errlen, "cannot send %s to %s: %s", what,
		    h->path, errno == EPIPE || errno == ECONNRESET ? "closed by guisvr" :
		    strerror(errno));
	if (read_frame(h, &fh, err, errlen) == -1)
		return -1;
	if (fh.seq != h->seq)
		return broken(h, err, errlen, "reply from %s is for request %u, "
		    "sent %u", h->path, fh.seq, h->seq);
	rd_init(&rd, h->in.p, h->in.len);
	if (fh.type == XM_R_ERR) {
		code = rd_u32(&rd);
		msg = rd_str16(&rd, &mlen);
		if (!rd_done(&rd) || code == 0)
			return broken(h, err, errlen, "malformed ERR reply from %s",
			    h->path);
		snprintf(err, errlen, "%s: %.*s", what, (int)mlen, msg);
		return (int)code > 0 ? (int)code : XE_BADREQ;
	}
	if (fh.type != want)
		return broken(h, err, errlen, "unexpected reply %u to %s from %s",
		    fh.type, what, h->path);
	return 0;
}

static void
begin(struct hlc *h, uint16_t type)
{
	proto_begin(&h->out, type, 0, ++h->seq);
}

int
halink_role(struct hlc *h, int role, uint32_t epoch, char *err, size_t errlen)
{
	char what[64];

	snprintf(what, sizeof(what), "role %s", halink_role_name(role));
	begin(h, HL_ROLE);
	buf_put_u8(&h->out, (uint8_t)role);
	buf_put_u32(&h->out, epoch);
	return request(h, what, XM_R_OK, err, errlen);
}

int
halink_state(struct hlc *h, char **text, char *err, size_t errlen)
{
	const char *s;
	struct rd rd;
	size_t n;
	int rc;

	*text = NULL;
	begin(h, HL_STATE);
	if ((rc = request(h, "state", HL_R_STATE, err, errlen)) != 0)
		return rc;
	rd_init(&rd, h->in.p, h->in.len);
	s = rd_str32(&rd, &n);
	if (!rd_done(&rd))
		return broken(h, err, errlen, "malformed state reply from %s",
		    h->path);
	if ((*text = strndup(s ? s : "", n)) == NULL)
		return broken(h, err, errlen, "out of memory");
	return 0;
}

int
halink_sync(struct hlc *h, int enable, char *err, size_t errlen)
{
	begin(h, HL_SYNC);
	buf_put_u8(&h->out, enable ? 1 : 0);
	return request(h, enable ? "sync on" : "sync off", XM_R_OK, err, errlen);
}

int
halink_subscribe(struct hlc *h, char *err, size_t errlen)
{
	int rc;

	begin(h, HL_SUBSCRIBE);
	if ((rc = request(h, "subscribe", XM_R_OK, err, errlen)) == 0)
		h->subscribed = 1;
	return rc;
}

int
halink_next_event(struct hlc *h, int timeout_ms, char **text, char *err,
    size_t errlen)
{
	struct frame_hdr fh;
	struct pollfd pfd;
	const char *s;
	struct rd rd;
	size_t n;
	int r;

	*text = NULL;
	if (h->broken)
		return broken(h, err, errlen, "ha-link %s is unusable after an "
		    "earlier error", h->path);
	if (!h->subscribed)
		return broken(h, err, errlen, "no events on %s before subscribe",
		    h->path);
	pfd.fd = h->fd;
	pfd.events = POLLIN;
	while ((r = poll(&pfd, 1, timeout_ms)) == -1 && errno == EINTR)
		;
	if (r == -1)
		return broken(h, err, errlen, "poll: %s", strerror(errno));
	if (r == 0)
		return 0;
	/* a frame that started arrives whole soon: read it blocking */
	if (read_frame(h, &fh, err, errlen) == -1)
		return -1;
	if (fh.type != HL_R_EVENT)
		return broken(h, err, errlen, "unexpected frame %u from %s while "
		    "waiting for events", fh.type, h->path);
	rd_init(&rd, h->in.p, h->in.len);
	s = rd_str16(&rd, &n);
	if (!rd_done(&rd))
		return broken(h, err, errlen, "malformed event from %s", h->path);
	if ((*text = strndup(s ? s : "", n)) == NULL)
		return broken(h, err, errlen, "out of memory");
	return 1;
}
