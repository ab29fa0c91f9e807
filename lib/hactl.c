/* hactl.c — hasvr's control socket (see hactl.h): the request codec both
 * sides share, the reply builders hasvr uses, and the blocking client of
 * haStatus, haCtl and the tests.
 *
 * The client has one request in flight. A transport or protocol failure
 * leaves the reply stream at an unknown position, so the connection is then
 * marked broken and every later call fails at once. */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "hacfg.h"
#include "hactl.h"
#include "util.h"

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/opt/hasvr/var"
#endif

struct hcc {
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	uint32_t seq;
	int broken;
	struct buf out;
	struct buf in;
};

/* ---- names ------------------------------------------------------------ */

const char *
hactl_typename(int type)
{
	switch (type) {
	case HC_STATUS: return "HC_STATUS";
	case HC_SWITCHOVER: return "HC_SWITCHOVER";
	case HC_PROMOTE: return "HC_PROMOTE";
	case HC_RESYNC: return "HC_RESYNC";
	case HC_SYNC: return "HC_SYNC";
	case HC_FILESYNC: return "HC_FILESYNC";
	case HC_R_STATUS: return "HC_R_STATUS";
	case XM_R_OK: return "OK";
	case XM_R_ERR: return "ERR";
	}
	return "?";
}

static const char *const what_names[] = {
	[HC_SYNC_HA] = "ha",
	[HC_SYNC_DB] = "db",
	[HC_SYNC_FILES] = "files",
};

const char *
hactl_sync_what_name(int what)
{
	if (what < HC_SYNC_HA || what > HC_SYNC_FILES)
		return NULL;
	return what_names[what];
}

int
hactl_sync_what_parse(const char *s)
{
	int i;

	for (i = HC_SYNC_HA; i <= HC_SYNC_FILES; i++)
		if (strcmp(s, what_names[i]) == 0)
			return i;
	return -1;
}

/* ---- request codec ---------------------------------------------------- */

void
hactl_encode_request(struct buf *b, const struct hc_req *r)
{
	proto_begin(b, r->type, 0, r->seq);
	switch (r->type) {
	case HC_SWITCHOVER:
		buf_put_u32(b, r->target_eid);
		break;
	case HC_PROMOTE:
		buf_put_u8(b, (uint8_t)r->force);
		break;
	case HC_SYNC:
		buf_put_u8(b, (uint8_t)r->what);
		buf_put_u8(b, (uint8_t)r->enable);
		break;
	}
	proto_finish(b);
}

/* Payload length of each request type; -1: not a request. */
static long
request_len(int type)
{
	switch (type) {
	case HC_STATUS:
	case HC_RESYNC:
	case HC_FILESYNC:
		return 0;
	case HC_SWITCHOVER:
		return 4;
	case HC_PROMOTE:
		return 1;
	case HC_SYNC:
		return 2;
	}
	return -1;
}

static int
reject(int code, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
reject(int code, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return code;
}

int
hactl_decode_request(const struct frame_hdr *h, const void *p, size_t len,
    struct hc_req *r, char *err, size_t errlen)
{
	const char *name = hactl_typename(h->type);
	struct rd rd;
	long want;

	memset(r, 0, sizeof(*r));
	if ((want = request_len(h->type)) == -1)
		return reject(XE_UNKNOWN, err, errlen, "unknown request type %u "
		    "(expected %d to %d: are haCtl and hasvr from the same "
		    "build?)", h->type, HC_STATUS, HC_FILESYNC);
	if (len != (size_t)want)
		return reject(XE_BADREQ, err, errlen, "%s: payload is %zu "
		    "byte%s, expected %ld", name, len, len == 1 ? "" : "s", want);
	r->type = h->type;
	r->seq = h->seq;
	rd_init(&rd, p, len);
	switch (h->type) {
	case HC_SWITCHOVER:
		r->target_eid = rd_u32(&rd);
		break;
	case HC_PROMOTE:
		r->force = rd_u8(&rd);
		if (r->force > 1)
			return reject(XE_BADREQ, err, errlen, "%s: force is %d, "
			    "expected 0 or 1", name, r->force);
		break;
	case HC_SYNC:
		r->what = rd_u8(&rd);
		r->enable = rd_u8(&rd);
		if (hactl_sync_what_name(r->what) == NULL)
			return reject(XE_BADREQ, err, errlen, "%s: what is %d, "
			    "expected 1 (ha), 2 (db) or 3 (files)", name,
			    r->what);
		if (r->enable > 1)
			return reject(XE_BADREQ, err, errlen, "%s: enable is %d, "
			    "expected 0 or 1", name, r->enable);
		break;
	}
	return 0;
}

/* ---- reply builders --------------------------------------------------- */

static size_t
str16_len(const char *msg)
{
	size_t n = msg ? strlen(msg) : 0;

	return n > UINT16_MAX ? UINT16_MAX : n;
}

void
hactl_reply_ok(struct buf *b, uint32_t seq, const char *msg)
{
	proto_begin(b, XM_R_OK, 0, seq);
	buf_put_str16(b, msg ? msg : "", str16_len(msg));
	proto_finish(b);
}

void
hactl_reply_err(struct buf *b, uint32_t seq, int code, const char *msg)
{
	proto_begin(b, XM_R_ERR, 0, seq);
	buf_put_u32(b, (uint32_t)code);
	buf_put_str16(b, msg ? msg : "", str16_len(msg));
	proto_finish(b);
}

void
hactl_reply_status(struct buf *b, uint32_t seq, const char *json)
{
	size_t n = strlen(json);
	char msg[128];

	if (n > HACTL_MAX_FRAME - 4) {
		snprintf(msg, sizeof(msg), "status is %zu bytes, over the "
		    "control socket's limit of %d", n, HACTL_MAX_FRAME - 4);
		hactl_reply_err(b, seq, XE_TOOBIG, msg);
		return;
	}
	proto_begin(b, HC_R_STATUS, 0, seq);
	buf_put_str32(b, json, n);
	proto_finish(b);
}

/* ---- where the socket is ---------------------------------------------- */

int
hactl_socket_path(const char *vardir, char *out, size_t outlen)
{
	size_t max = sizeof(((struct sockaddr_un *)0)->sun_path);
	char run[1024];

	if (vardir == NULL)
		vardir = LOCALSTATEDIR;
	if (util_path_join(run, sizeof(run), vardir, "run") == -1 ||
	    util_path_join(out, outlen, run, HACTL_SOCKET_NAME) == -1 ||
	    strlen(out) >= max)
		return -1;
	return 0;
}

int
hactl_cfg_socket(const char *cfgfile, char *out, size_t outlen, char *err,
    size_t errlen)
{
	const char *vardir;
	struct cfg c;
	int rc = -1;

	if (hacfg_load(&c, cfgfile) != 0) {
		snprintf(err, errlen, "%s (%zu error%s in all; fix the file or "
		    "give the socket with -s)", c.nerrors ? c.errors[0] :
		    cfgfile, c.nerrors, c.nerrors == 1 ? "" : "s");
		goto out;
	}
	vardir = cfg_str(&c, "highAvail.varDir");
	if (hactl_socket_path(vardir, out, outlen) == -1) {
		snprintf(err, errlen, "%s: highAvail.varDir %s is too long for "
		    "a UNIX socket path (%s/run/%s must be under %zu "
		    "characters)", cfgfile, vardir, vardir, HACTL_SOCKET_NAME,
		    sizeof(((struct sockaddr_un *)0)->sun_path));
		goto out;
	}
	rc = 0;
out:
	cfg_free(&c);
	return rc;
}

/* ---- blocking client -------------------------------------------------- */

int
hactl_not_running(int errnum)
{
	return errnum == ENOENT || errnum == ECONNREFUSED ||
	    errnum == ENOTDIR || errnum == ENOTSOCK;
}

static int
broken(struct hcc *c, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
broken(struct hcc *c, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	c->broken = 1;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

struct hcc *
hactl_connect(const char *path, char *err, size_t errlen)
{
	struct timeval tv = { HACTL_REPLY_TIMEOUT_SECS, 0 };
	char def[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct sockaddr_un sun;
	struct hcc *c;
	int fd, saved;

	if (path == NULL) {
		if (hactl_socket_path(NULL, def, sizeof(def)) == -1) {
			snprintf(err, errlen, "the default control socket under "
			    "%s is too long a path: give the socket with -s",
			    LOCALSTATEDIR);
			errno = ENAMETOOLONG;
			return NULL;
		}
		path = def;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (util_strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		snprintf(err, errlen, "control socket path %s is too long (at "
		    "most %zu characters)", path, sizeof(sun.sun_path) - 1);
		errno = ENAMETOOLONG;
		return NULL;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		saved = errno;
		snprintf(err, errlen, "cannot create a socket for %s: %s", path,
		    strerror(saved));
		errno = saved;
		return NULL;
	}
	/* a full listen backlog would block connect without this */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		saved = errno;
		close(fd);
		if (saved == EACCES || saved == EPERM)
			snprintf(err, errlen, "cannot connect to %s: %s (run as "
			    "root, hasvr's user or a member of the socket's "
			    "group)", path, strerror(saved));
		else if (saved == EAGAIN || saved == EINPROGRESS)
			snprintf(err, errlen, "cannot connect to %s: hasvr did "
			    "not accept within %d seconds (is it hung? see "
			    "var/errorLog/ha.log)", path, HACTL_REPLY_TIMEOUT_SECS);
		else
			snprintf(err, errlen, "cannot connect to %s: %s (is "
			    "hasvr running?)", path, strerror(saved));
		errno = saved;
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	c->fd = fd;
	util_strlcpy(c->path, path, sizeof(c->path));
	buf_init(&c->out);
	buf_init(&c->in);
	return c;
}

void
hactl_close(struct hcc *c)
{
	if (c == NULL)
		return;
	if (c->fd != -1)
		close(c->fd);
	buf_free(&c->out);
	buf_free(&c->in);
	free(c);
}

/* Read n bytes before the deadline (util_now_ms). */
static int
io_read(struct hcc *c, void *p, size_t n, uint64_t deadline, char *err,
    size_t errlen)
{
	unsigned char *q = p;
	struct pollfd pfd;
	uint64_t now;
	ssize_t r;
	int pr;

	while (n > 0) {
		if ((now = util_now_ms()) >= deadline)
			return broken(c, err, errlen, "no reply from hasvr on %s "
			    "within %d seconds (is it hung? see "
			    "var/errorLog/ha.log)", c->path,
			    HACTL_REPLY_TIMEOUT_SECS);
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		if ((pr = poll(&pfd, 1, (int)(deadline - now))) == -1) {
			if (errno == EINTR)
				continue;
			return broken(c, err, errlen, "poll on %s: %s", c->path,
			    strerror(errno));
		}
		if (pr == 0)
			continue;
		if ((r = read(c->fd, q, n)) == 0)
			return broken(c, err, errlen, "hasvr closed %s before "
			    "answering (did it stop? see var/errorLog/ha.log)",
			    c->path);
		if (r == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			if (errno == ECONNRESET)
				return broken(c, err, errlen, "hasvr closed %s "
				    "before answering", c->path);
			return broken(c, err, errlen, "cannot read from %s: %s",
			    c->path, strerror(errno));
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

/* One whole frame into c->in. */
static int
read_frame(struct hcc *c, struct frame_hdr *fh, uint64_t deadline, char *err,
    size_t errlen)
{
	unsigned char hdr[PROTO_HDR_LEN], *np;

	if (io_read(c, hdr, sizeof(hdr), deadline, err, errlen) == -1)
		return -1;
	proto_hdr_decode(hdr, fh);
	if (fh->len > HACTL_MAX_FRAME)
		return broken(c, err, errlen, "frame from %s announces %u bytes, "
		    "over the limit of %d (is this hasvr's control socket?)",
		    c->path, fh->len, HACTL_MAX_FRAME);
	buf_reset(&c->in);
	if (fh->len > c->in.cap) {
		if ((np = realloc(c->in.p, fh->len)) == NULL)
			return broken(c, err, errlen, "out of memory");
		c->in.p = np;
		c->in.cap = fh->len;
	}
	if (fh->len > 0 &&
	    io_read(c, c->in.p, fh->len, deadline, err, errlen) == -1)
		return -1;
	c->in.len = fh->len;
	return 0;
}

/* Sends r and reads the reply of type want into c->in. 0, an xe_code from
 * an ERR reply (its message in err), or -1. */
static int
roundtrip(struct hcc *c, struct hc_req *r, uint16_t want, char *err,
    size_t errlen)
{
	const char *name = hactl_typename(r->type), *msg;
	struct frame_hdr fh;
	uint64_t deadline;
	struct rd rd;
	uint32_t code;
	size_t mlen;

	if (c->broken)
		return broken(c, err, errlen, "control connection to %s is "
		    "unusable after an earlier error", c->path);
	r->seq = ++c->seq;
	hactl_encode_request(&c->out, r);
	if (c->out.oom)
		return broken(c, err, errlen, "out of memory");
	if (io_write(c->fd, c->out.p, c->out.len) == -1)
		return broken(c, err, errlen, "cannot send %s to %s: %s", name,
		    c->path, errno == EPIPE || errno == ECONNRESET ?
		    "closed by hasvr" : strerror(errno));
	deadline = util_now_ms() + HACTL_REPLY_TIMEOUT_SECS * 1000;
	if (read_frame(c, &fh, deadline, err, errlen) == -1)
		return -1;
	if (fh.seq != c->seq)
		return broken(c, err, errlen, "reply from %s is for request %u, "
		    "sent %u", c->path, fh.seq, c->seq);
	rd_init(&rd, c->in.p, c->in.len);
	if (fh.type == XM_R_ERR) {
		code = rd_u32(&rd);
		msg = rd_str16(&rd, &mlen);
		if (!rd_done(&rd) || code == 0 || code > INT32_MAX)
			return broken(c, err, errlen, "malformed ERR reply to %s "
			    "from %s", name, c->path);
		snprintf(err, errlen, "%.*s", (int)mlen, msg);
		return (int)code;
	}
	if (fh.type != want)
		return broken(c, err, errlen, "unexpected reply %s (%u) to %s "
		    "from %s", hactl_typename(fh.type), fh.type, name, c->path);
	return 0;
}

int
hactl_status(struct hcc *c, char **json, char *err, size_t errlen)
{
	struct hc_req r = { .type = HC_STATUS };
	char msg[HASVR_ERRLEN];
	const char *s;
	struct rd rd;
	size_t n;
	int rc;

	*json = NULL;
	if ((rc = roundtrip(c, &r, HC_R_STATUS, msg, sizeof(msg))) > 0) {
		snprintf(err, errlen, "hasvr refused status (%s): %s",
		    proto_errname(rc), msg);
		return -1;
	}
	if (rc != 0) {
		snprintf(err, errlen, "%s", msg);
		return -1;
	}
	rd_init(&rd, c->in.p, c->in.len);
	s = rd_str32(&rd, &n);
	if (!rd_done(&rd))
		return broken(c, err, errlen, "malformed status reply from %s",
		    c->path);
	if (memchr(s, '\0', n) != NULL)
		return broken(c, err, errlen, "status reply from %s holds a NUL "
		    "byte", c->path);
	if ((*json = strndup(s, n)) == NULL)
		return broken(c, err, errlen, "out of memory");
	return 0;
}

int
hactl_request(struct hcc *c, const struct hc_req *r, char *msg, size_t msglen)
{
	struct hc_req q = *r;
	const char *s;
	struct rd rd;
	size_t n;
	int rc;

	if (request_len(q.type) == -1 || q.type == HC_STATUS) {
		snprintf(msg, msglen, "hactl_request: type %u is not a request "
		    "with an OK reply (status: use hactl_status)", q.type);
		return -1;
	}
	if ((rc = roundtrip(c, &q, XM_R_OK, msg, msglen)) != 0)
		return rc;
	rd_init(&rd, c->in.p, c->in.len);
	s = rd_str16(&rd, &n);
	if (!rd_done(&rd))
		return broken(c, msg, msglen, "malformed OK reply to %s from %s",
		    hactl_typename(q.type), c->path);
	snprintf(msg, msglen, "%.*s", (int)n, s ? s : "");
	return 0;
}
