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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "hacfg.h"
#include "hactl.h"
#include "uconn.h"
#include "util.h"

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/opt/hasvr/var"
#endif

struct hcc {
	struct uconn u;
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

static const struct uconn_peer hactl_peer = {
	.server = "hasvr",
	.socket = "control connection",
	.access_hint = "run as root, hasvr's user or a member of the socket's "
	    "group",
	.log_hint = "see var/errorLog/ha.log",
	.max_frame = HACTL_MAX_FRAME,
	.timeout_secs = HACTL_REPLY_TIMEOUT_SECS,
	.typename = hactl_typename,
};

struct hcc *
hactl_connect(const char *path, char *err, size_t errlen)
{
	char def[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct hcc *c;
	int saved;

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
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	if (uconn_connect(&c->u, &hactl_peer, path, err, errlen) == -1) {
		saved = errno;
		free(c);
		errno = saved;
		return NULL;
	}
	return c;
}

void
hactl_close(struct hcc *c)
{
	if (c == NULL)
		return;
	uconn_close(&c->u);
	free(c);
}

/* Sends r and reads the reply of type want into c->u.in. 0, an xe_code
 * from an ERR reply (its message in err), or -1. */
static int
roundtrip(struct hcc *c, struct hc_req *r, uint16_t want, char *err,
    size_t errlen)
{
	r->seq = ++c->u.seq;
	hactl_encode_request(&c->u.out, r);
	return uconn_roundtrip(&c->u, hactl_typename(r->type), want, err,
	    errlen);
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
	rd_init(&rd, c->u.in.p, c->u.in.len);
	s = rd_str32(&rd, &n);
	if (!rd_done(&rd))
		return uconn_broken(&c->u, err, errlen, "malformed status reply "
		    "from %s", c->u.path);
	if (memchr(s, '\0', n) != NULL)
		return uconn_broken(&c->u, err, errlen, "status reply from %s "
		    "holds a NUL byte", c->u.path);
	if ((*json = strndup(s, n)) == NULL)
		return uconn_broken(&c->u, err, errlen, "out of memory");
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
	rd_init(&rd, c->u.in.p, c->u.in.len);
	s = rd_str16(&rd, &n);
	if (!rd_done(&rd))
		return uconn_broken(&c->u, msg, msglen, "malformed OK reply to %s "
		    "from %s", hactl_typename(q.type), c->u.path);
	snprintf(msg, msglen, "%.*s", (int)n, s ? s : "");
	return 0;
}
