/* link.c — hasvr's ha-link client on hasvr's own event loop (see link.h).
 *
 * One non-blocking connection to guisvr's ha-link socket. On every
 * (re)connection it subscribes to guisvr's events and sends the role and
 * the sync switch hasvr wants, so one mechanism covers a first start and a
 * restart. It asks for guisvr's state after every event, whenever hasvr
 * asks for it (link_refresh: each heartbeat, and every tick while a role
 * is being decided), and at LINK_IDLE_MS otherwise. guisvr answers
 * requests in order, so replies are matched to a FIFO of what was sent;
 * events come with sequence number 0. Nothing here ever waits.
 *
 * The role, the sync switch and the synchronous-standby set are state:
 * kept, and sent again to a new guisvr (the set before the role, so that
 * a new primary never acknowledges a write without a listed secondary).
 * An arbiter lease is a time from now: sent at once or not at all, never
 * kept for a later connection (it would be stale by then). */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "halink.h"
#include "heartbeat.h"
#include "hlstate.h"
#include "link.h"
#include "log.h"
#include "util.h"

#define LINK_RETRY_MS 50          /* reconnect after guisvr went */
#define LINK_IDLE_MS 1000         /* state asked at least this often */
#define LINK_MAX_FRAME (1024 * 1024)
#define LINK_INFLIGHT 16          /* requests sent, replies not yet read */

struct inflight {
	uint16_t type;
	uint64_t role_no;         /* HL_ROLE: the want_no it carries */
	int sync;                 /* HL_SYNC: the switch it carries */
	uint32_t lease_ms;        /* HL_LEASE: what it carries */
	uint8_t syncset;          /* HL_SYNCSET: what it carries */
};

struct link {
	struct event_base *base;
	char path[108];
	void (*notify)(void *);   /* guisvr's state or a reply came */
	void *arg;
	struct bufferevent *bev;  /* NULL: not connected */
	struct event *timer;      /* reconnect, or the idle state request */
	int logged;               /* "waiting for guisvr" said */
	uint32_t seq;
	struct inflight fifo[LINK_INFLIGHT];
	int nfifo;
	int state_asked;          /* an HL_STATE in the FIFO */
	uint64_t replies;         /* replies read (link_state's *_seq) */
	/* wanted by hasvr */
	int want_role;
	uint32_t want_epoch, want_primary;
	uint64_t want_no, sent_no;
	int want_sync, sent_sync; /* -1: never set / not sent */
	int want_syncset, sent_syncset;   /* a mask; -1: never set / not sent */
	uint64_t lease_until;     /* the lease's end (CLOCK_MONOTONIC ms), 0
				   * none; 1: ended */
	int lease_sent;           /* guisvr of this connection has it */
	struct log_limit lease_lim;   /* "refused the arbiter lease" */
	struct link_state st;
};

static void link_connect(struct link *l);

static void
arm(struct link *l, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(l->timer, &tv);
}

/* Send one request; the reply is matched by the FIFO. 0 sent, -1 not
 * (not connected, or too many replies owed: the connection is stuck). */
static int
send_req(struct link *l, struct hl_req *r, uint64_t role_no, int sync)
{
	struct buf b;
	int rc = -1;

	if (l->bev == NULL || l->nfifo == LINK_INFLIGHT)
		return -1;
	r->seq = ++l->seq ? l->seq : ++l->seq;
	buf_init(&b);
	halink_encode_request(&b, r);
	if (!b.oom && bufferevent_write(l->bev, b.p, b.len) == 0) {
		l->fifo[l->nfifo].type = r->type;
		l->fifo[l->nfifo].role_no = role_no;
		l->fifo[l->nfifo].sync = sync;
		l->fifo[l->nfifo].lease_ms = r->lease_ms;
		l->fifo[l->nfifo].syncset = r->syncset;
		l->nfifo++;
		if (r->type == HL_STATE)
			l->state_asked = 1;
		rc = 0;
	}
	buf_free(&b);
	return rc;
}

/* What hasvr wants and guisvr has not been told yet. */
static void
send_wanted(struct link *l)
{
	struct hl_req r;

	/* first: a role to become primary then finds the lease and the set
	 * in force (a guisvr restarted under a primary gets both before its
	 * role) */
	if (l->lease_until != 0 && !l->lease_sent) {
		uint64_t now = util_now_ms();

		memset(&r, 0, sizeof(r));
		r.type = HL_LEASE;
		r.lease_ms = l->lease_until > now ?
		    (uint32_t)(l->lease_until - now) : 0;
		if (send_req(l, &r, 0, 0) == 0)
			l->lease_sent = 1;
	}
	if (l->want_syncset != -1 && l->sent_syncset != l->want_syncset) {
		memset(&r, 0, sizeof(r));
		r.type = HL_SYNCSET;
		r.syncset = (uint8_t)l->want_syncset;
		if (send_req(l, &r, 0, 0) == 0)
			l->sent_syncset = l->want_syncset;
	}
	if (l->want_role != HA_ROLE_STARTING && l->sent_no != l->want_no) {
		memset(&r, 0, sizeof(r));
		r.type = HL_ROLE;
		r.role = l->want_role;
		r.epoch = l->want_epoch;
		r.primary = l->want_primary;
		if (send_req(l, &r, l->want_no, 0) == 0)
			l->sent_no = l->want_no;
	}
	if (l->want_sync != -1 && l->sent_sync != l->want_sync) {
		memset(&r, 0, sizeof(r));
		r.type = HL_SYNC;
		r.enable = l->want_sync;
		if (send_req(l, &r, 0, l->want_sync) == 0)
			l->sent_sync = l->want_sync;
	}
}

static void
ask_state(struct link *l)
{
	struct hl_req r;

	if (l->bev == NULL || l->state_asked)
		return;
	memset(&r, 0, sizeof(r));
	r.type = HL_STATE;
	send_req(l, &r, 0, 0);
}

static void
drop(struct link *l, const char *why)
{
	if (l->bev != NULL) {
		bufferevent_free(l->bev);
		l->bev = NULL;
		if (why != NULL)
			log_info("ha-link to highAvailSvr closed (%s)", why);
	}
	l->nfifo = 0;
	l->state_asked = 0;
	l->st.connected = 0;
	l->st.valid = 0;
	/* a new guisvr knows nothing: all are sent again on the next one */
	l->sent_no = 0;
	l->sent_sync = -1;
	l->sent_syncset = -1;
	l->lease_sent = 0;
	arm(l, LINK_RETRY_MS);
}

/* One reply to the oldest request sent. */
static void
on_reply(struct link *l, const struct frame_hdr *h, const unsigned char *p)
{
	struct inflight q;
	struct hl_state hs;
	struct rd rd;
	char why[256];
	const char *msg;
	size_t mlen;
	unsigned long held = 0;
	uint32_t code = 0;

	if (l->nfifo == 0) {
		drop(l, "a reply nobody asked for");
		return;
	}
	q = l->fifo[0];
	memmove(l->fifo, l->fifo + 1, (size_t)(l->nfifo - 1) * sizeof(l->fifo[0]));
	l->nfifo--;
	why[0] = '\0';
	if (h->type == XM_R_ERR) {
		rd_init(&rd, p, h->len);
		code = rd_u32(&rd);
		msg = rd_str16(&rd, &mlen);
		if (!rd_done(&rd) || code == 0) {
			drop(l, "a malformed ERR reply");
			return;
		}
		snprintf(why, sizeof(why), "%.*s", (int)mlen, msg);
	}
	switch (q.type) {
	case HL_ROLE:
		if (h->type != XM_R_OK && h->type != XM_R_ERR)
			break;
		l->st.done_no = q.role_no;
		l->st.done_rc = (int)code;
		l->st.done_seq = ++l->replies;
		util_strlcpy(l->st.done_err, why, sizeof(l->st.done_err));
		if (code != 0)
			log_debug("highAvailSvr refused the role: %s", why);
		return;
	case HL_SYNC:
		if (code != 0)
			log_warnx("highAvailSvr refused database sync %s: %s",
			    q.sync ? "on" : "off", why);
		return;
	case HL_SUBSCRIBE:
		if (code != 0)
			log_warnx("highAvailSvr refused the event subscription: "
			    "%s", why);
		return;
	case HL_LEASE:
		/* renewed every few hundred ms: said at most every 10 s */
		if (code != 0 && log_limit_due(&l->lease_lim, 10000, &held))
			log_warnx("highAvailSvr refused the arbiter lease of %u "
			    "ms: %s%s", q.lease_ms, why, held ? " (and more "
			    "refusals since)" : "");
		return;
	case HL_SYNCSET:
		if (code != 0)
			log_warnx("highAvailSvr refused the synchronous-standby "
			    "set 0x%02x: %s", q.syncset, why);
		return;
	case HL_STATE:
		l->state_asked = 0;
		if (h->type != HL_R_STATE)
			break;
		if (hl_state_decode(p, h->len, &hs, why, sizeof(why)) == -1) {
			log_warnx("ha-link: cannot read guisvr's state: %s", why);
			drop(l, "a malformed state");
			return;
		}
		link_from_state(&hs, &l->st);
		l->st.valid = 1;
		l->st.at_ms = util_now_ms();
		l->st.state_seq = ++l->replies;
		return;
	}
	drop(l, "a reply of the wrong type");
}

static void
on_read(struct bufferevent *bev, void *arg)
{
	struct link *l = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	unsigned char hdr[PROTO_HDR_LEN], *p;
	struct frame_hdr h;
	int changed = 0;

	while (l->bev != NULL && evbuffer_get_length(in) >= PROTO_HDR_LEN) {
		evbuffer_copyout(in, hdr, PROTO_HDR_LEN);
		proto_hdr_decode(hdr, &h);
		if (h.len > LINK_MAX_FRAME) {
			drop(l, "a frame over the size limit");
			return;
		}
		if (evbuffer_get_length(in) < PROTO_HDR_LEN + (size_t)h.len)
			break;
		evbuffer_drain(in, PROTO_HDR_LEN);
		p = h.len > 0 ? evbuffer_pullup(in, h.len) : NULL;
		if (h.type == HL_R_EVENT && h.seq == 0)
			ask_state(l);       /* something happened: look */
		else
			on_reply(l, &h, p);
		if (l->bev != NULL)
			evbuffer_drain(in, h.len);
		changed = 1;
	}
	if (changed && l->notify != NULL)
		l->notify(l->arg);
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	struct link *l = arg;

	(void)bev;
	if (what & BEV_EVENT_EOF)
		drop(l, "guisvr closed it");
	else if (what & BEV_EVENT_ERROR)
		drop(l, strerror(EVUTIL_SOCKET_ERROR()));
	if (l->notify != NULL)
		l->notify(l->arg);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct link *l = arg;

	(void)fd;
	(void)what;
	if (l->bev == NULL)
		link_connect(l);
	else {
		ask_state(l);
		arm(l, LINK_IDLE_MS);
	}
}

static void
link_connect(struct link *l)
{
	struct sockaddr_un sun;
	struct hl_req r;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	util_strlcpy(sun.sun_path, l->path, sizeof(sun.sun_path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1 || connect(fd, (struct sockaddr *)&sun,
	    sizeof(sun)) == -1) {
		if (!l->logged)
			log_debug("ha-link: %s: %s (waiting for guisvr)", l->path,
			    strerror(errno));
		l->logged = 1;
		if (fd != -1)
			close(fd);
		arm(l, LINK_RETRY_MS);
		return;
	}
	if ((l->bev = bufferevent_socket_new(l->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		close(fd);
		arm(l, LINK_RETRY_MS);
		return;
	}
	l->logged = 0;
	bufferevent_setcb(l->bev, on_read, NULL, on_event, l);
	bufferevent_enable(l->bev, EV_READ | EV_WRITE);
	l->st.connects++;
	l->st.connected = 1;
	log_info("connected to highAvailSvr ha-link %s", l->path);
	memset(&r, 0, sizeof(r));
	r.type = HL_SUBSCRIBE;
	send_req(l, &r, 0, 0);
	send_wanted(l);
	ask_state(l);
	arm(l, LINK_IDLE_MS);
}

struct link *
link_start(struct event_base *base, const char *path,
    void (*notify)(void *), void *arg, char *err, size_t errlen)
{
	struct link *l;

	if ((l = calloc(1, sizeof(*l))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (strlen(path) >= sizeof(l->path)) {
		snprintf(err, errlen, "ha-link path too long: %s", path);
		free(l);
		return NULL;
	}
	util_strlcpy(l->path, path, sizeof(l->path));
	l->base = base;
	l->notify = notify;
	l->arg = arg;
	l->want_sync = l->sent_sync = -1;
	l->want_syncset = l->sent_syncset = -1;
	if ((l->timer = evtimer_new(base, on_timer, l)) == NULL) {
		snprintf(err, errlen, "cannot create the ha-link timer");
		free(l);
		return NULL;
	}
	arm(l, 0);
	return l;
}

void
link_stop(struct link *l)
{
	if (l == NULL)
		return;
	if (l->bev != NULL)
		bufferevent_free(l->bev);
	event_free(l->timer);
	free(l);
}

uint64_t
link_want_role(struct link *l, int role, uint32_t epoch, int primary_eid)
{
	l->want_role = role;
	l->want_epoch = epoch;
	l->want_primary = primary_eid > 0 ? (uint32_t)primary_eid :
	    HA_PRIMARY_NONE;
	l->st.want_no = ++l->want_no;
	send_wanted(l);
	/* its outcome shows in the state read after the reply */
	ask_state(l);
	return l->want_no;
}

void
link_want_sync(struct link *l, int enable)
{
	l->want_sync = enable != 0;
	send_wanted(l);
}

void
link_want_lease(struct link *l, uint32_t ms)
{
	/* kept, and its time left computed when it is written: a guisvr
	 * (re)connected later gets it before its role */
	l->lease_until = ms > 0 ? util_now_ms() + ms : 1;
	l->lease_sent = 0;
	send_wanted(l);
	if (!l->lease_sent && l->bev != NULL)
		log_debug("ha-link: arbiter lease of %u ms not sent: %d replies "
		    "owed", ms, l->nfifo);
}

void
link_want_syncset(struct link *l, uint8_t mask)
{
	l->want_syncset = mask;
	send_wanted(l);
	if (l->sent_syncset != l->want_syncset && l->bev != NULL)
		log_debug("ha-link: synchronous-standby set 0x%02x not sent yet: "
		    "%d replies owed", mask, l->nfifo);
}

void
link_refresh(struct link *l)
{
	ask_state(l);
}

void
link_reset(struct link *l)
{
	if (l->bev != NULL)
		drop(l, NULL);
	l->st.valid = 0;
}

void
link_snapshot(struct link *l, struct link_state *out)
{
	*out = l->st;
}
