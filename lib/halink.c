/* halink.c — the client side of the ha-link (see halink.h): one blocking
 * connection to guisvr's ha-link socket, one request in flight.
 *
 * A transport or protocol failure leaves the reply stream at an unknown
 * position, so the connection is then marked broken and every later call
 * fails at once. After halink_subscribe the connection carries events only. */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "halink.h"
#include "hlstate.h"
#include "uconn.h"
#include "util.h"

/* A role change starts replication (rep_start), which may take a while. */
#define HALINK_REPLY_TIMEOUT_SECS 120
/* Replies are a state text at most; anything larger is a wrong peer. */
#define HALINK_MAX_FRAME (1024 * 1024)

struct hlc {
	struct uconn u;
	int subscribed;
};

const char *
halink_typename(int type)
{
	switch (type) {
	case HL_ROLE: return "HL_ROLE";
	case HL_STATE: return "HL_STATE";
	case HL_SUBSCRIBE: return "HL_SUBSCRIBE";
	case HL_SYNC: return "HL_SYNC";
	case HL_LEASE: return "HL_LEASE";
	case HL_SYNCSET: return "HL_SYNCSET";
	}
	return "?";
}

/* ---- request codec ---------------------------------------------------- */

void
halink_encode_request(struct buf *b, const struct hl_req *r)
{
	proto_begin(b, r->type, 0, r->seq);
	switch (r->type) {
	case HL_ROLE:
		buf_put_u8(b, (uint8_t)r->role);
		buf_put_u32(b, r->epoch);
		buf_put_u32(b, r->primary);
		break;
	case HL_SYNC:
		buf_put_u8(b, r->enable ? 1 : 0);
		break;
	case HL_LEASE:
		buf_put_u32(b, r->lease_ms);
		break;
	case HL_SYNCSET:
		buf_put_u8(b, r->syncset);
		break;
	}
	proto_finish(b);
}

/* The payload layout of each request, for the length check. */
static int
request_layout(int type, uint32_t *len, const char **layout)
{
	switch (type) {
	case HL_ROLE:
		*len = 9;
		*layout = "u8 role, u32 epoch, u32 primary";
		return 0;
	case HL_STATE:
	case HL_SUBSCRIBE:
		*len = 0;
		*layout = "empty";
		return 0;
	case HL_SYNC:
		*len = 1;
		*layout = "u8 enable";
		return 0;
	case HL_LEASE:
		*len = 4;
		*layout = "u32 ms";
		return 0;
	case HL_SYNCSET:
		*len = 1;
		*layout = "u8 mask";
		return 0;
	}
	return -1;
}

int
halink_decode_request(const struct frame_hdr *h, const void *p,
    struct hl_req *r, char *msg, size_t msglen)
{
	const char *layout;
	struct rd rd;
	uint32_t want;

	memset(r, 0, sizeof(*r));
	if (request_layout(h->type, &want, &layout) == -1) {
		snprintf(msg, msglen, "unknown ha-link request type %u", h->type);
		return XE_UNKNOWN;
	}
	if (h->len != want) {
		snprintf(msg, msglen, "%s payload is %u bytes, expected %u (%s)",
		    halink_typename(h->type), h->len, want, layout);
		return XE_BADREQ;
	}
	r->type = h->type;
	r->seq = h->seq;
	rd_init(&rd, p, h->len);
	switch (h->type) {
	case HL_ROLE:
		r->role = rd_u8(&rd);
		r->epoch = rd_u32(&rd);
		r->primary = rd_u32(&rd);
		if (r->role != HA_ROLE_PRIMARY && r->role != HA_ROLE_SECONDARY &&
		    r->role != HA_ROLE_STARTING) {
			snprintf(msg, msglen, "unknown role %d (none 0, primary 1, "
			    "secondary 2)", r->role);
			return XE_BADREQ;
		}
		break;
	case HL_SYNC:
		r->enable = rd_u8(&rd);
		if (r->enable > 1) {
			snprintf(msg, msglen, "HL_SYNC value %u: expected 0 (off) "
			    "or 1 (on)", (unsigned)r->enable);
			return XE_BADREQ;
		}
		break;
	case HL_LEASE:
		r->lease_ms = rd_u32(&rd);
		break;
	case HL_SYNCSET:
		/* every value is a set of eids 1..8 */
		r->syncset = rd_u8(&rd);
		break;
	}
	return 0;
}

/* ---- blocking client -------------------------------------------------- */

static const struct uconn_peer halink_peer = {
	.server = "guisvr",
	.socket = "ha-link connection",
	.access_hint = "run as the daemons' user or a member of the socket's "
	    "group",
	.log_hint = NULL,
	.max_frame = HALINK_MAX_FRAME,
	.timeout_secs = HALINK_REPLY_TIMEOUT_SECS,
};

struct hlc *
halink_connect(const char *path, char *err, size_t errlen)
{
	struct hlc *h;

	if ((h = calloc(1, sizeof(*h))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (uconn_connect(&h->u, &halink_peer, path, err, errlen) == -1) {
		free(h);
		return NULL;
	}
	return h;
}

void
halink_close(struct hlc *h)
{
	if (h == NULL)
		return;
	uconn_close(&h->u);
	free(h);
}

/* Sends h->u.out (begun with uconn_begin) and reads the reply of type want
 * into h->u.in. 0, an xe_code from an ERR reply ("what: text" in err), or
 * -1. */
static int
request(struct hlc *h, const char *what, uint16_t want, char *err,
    size_t errlen)
{
	char msg[512];
	int rc;

	if (h->subscribed)
		return uconn_broken(&h->u, err, errlen, "ha-link connection to %s "
		    "carries events only after subscribe: open another one for "
		    "%s", h->u.path, what);
	if ((rc = uconn_roundtrip(&h->u, what, want, msg, sizeof(msg))) > 0)
		snprintf(err, errlen, "%s: %s", what, msg);
	else if (rc != 0)
		snprintf(err, errlen, "%s", msg);
	return rc;
}

int
halink_role(struct hlc *h, int role, uint32_t epoch, uint32_t primary,
    char *err, size_t errlen)
{
	struct hl_req r = { .type = HL_ROLE, .role = role, .epoch = epoch,
	    .primary = primary };
	char what[64];

	snprintf(what, sizeof(what), "role %s", ha_role_word(role));
	r.seq = ++h->u.seq;
	halink_encode_request(&h->u.out, &r);
	return request(h, what, XM_R_OK, err, errlen);
}

int
halink_state(struct hlc *h, struct hl_state *st, char *err, size_t errlen)
{
	char why[128];
	int rc;

	uconn_begin(&h->u, HL_STATE);
	if ((rc = request(h, "state", HL_R_STATE, err, errlen)) != 0)
		return rc;
	if (hl_state_decode(h->u.in.p, h->u.in.len, st, why, sizeof(why)) == -1)
		return uconn_broken(&h->u, err, errlen, "%s from %s", why,
		    h->u.path);
	return 0;
}

int
halink_sync(struct hlc *h, int enable, char *err, size_t errlen)
{
	struct hl_req r = { .type = HL_SYNC, .enable = enable };

	r.seq = ++h->u.seq;
	halink_encode_request(&h->u.out, &r);
	return request(h, enable ? "sync on" : "sync off", XM_R_OK, err, errlen);
}

int
halink_lease(struct hlc *h, uint32_t ms, char *err, size_t errlen)
{
	struct hl_req r = { .type = HL_LEASE, .lease_ms = ms };

	r.seq = ++h->u.seq;
	halink_encode_request(&h->u.out, &r);
	return request(h, ms > 0 ? "lease" : "lease end", XM_R_OK, err, errlen);
}

int
halink_syncset(struct hlc *h, uint8_t mask, char *err, size_t errlen)
{
	struct hl_req r = { .type = HL_SYNCSET, .syncset = mask };

	r.seq = ++h->u.seq;
	halink_encode_request(&h->u.out, &r);
	return request(h, "synchronous-standby set", XM_R_OK, err, errlen);
}

int
halink_subscribe(struct hlc *h, char *err, size_t errlen)
{
	int rc;

	uconn_begin(&h->u, HL_SUBSCRIBE);
	if ((rc = request(h, "subscribe", XM_R_OK, err, errlen)) == 0)
		h->subscribed = 1;
	return rc;
}

int
halink_next_event(struct hlc *h, int timeout_ms, char **text, char *err,
    size_t errlen)
{
	struct frame_hdr fh;
	const char *s;
	struct rd rd;
	size_t n;
	int r;

	*text = NULL;
	if (!h->subscribed)
		return uconn_broken(&h->u, err, errlen, "no events on %s before "
		    "subscribe", h->u.path);
	if ((r = uconn_wait_frame(&h->u, timeout_ms, &fh, err, errlen)) <= 0)
		return r;
	if (fh.type != HL_R_EVENT)
		return uconn_broken(&h->u, err, errlen, "unexpected frame %u from "
		    "%s while waiting for events", fh.type, h->u.path);
	rd_init(&rd, h->u.in.p, h->u.in.len);
	s = rd_str16(&rd, &n);
	if (!rd_done(&rd))
		return uconn_broken(&h->u, err, errlen, "malformed event from %s",
		    h->u.path);
	if ((*text = strndup(s ? s : "", n)) == NULL)
		return uconn_broken(&h->u, err, errlen, "out of memory");
	return 1;
}
