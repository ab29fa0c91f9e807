/* ctl.c — the control socket: status for anyone who can connect, changes
 * for root and hasvr's own user (see lib/hactl.h).
 *
 * Its users cannot crowd each other out: the group's members hold at most
 * CTL_MAX_UNPRIV of the CTL_MAX_CONNS connections (root and hasvr's user
 * take a member's idle one when all are used) and are closed after
 * CTL_IDLE_MS without a request; a connection whose unread replies pass
 * CTL_OUT_MAX is not read until they drain, and one that takes nothing for
 * CTL_DRAIN_MS is closed.
 *
 * Switchover and promote answer once they happened (or failed): the
 * request waits in ctl->waits and every role tick checks it. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "ctl.h"
#include "hactl.h"
#include "hasvr.h"
#include "link.h"
#include "status.h"
#include "log.h"
#include "util.h"

#define CTL_MAX_REQUEST 64          /* every request is a few bytes */
#define CTL_MAX_CONNS 64
#define CTL_MAX_UNPRIV 48           /* of them, for the group's members */
#define CTL_IDLE_MS 30000           /* a member's idle connection */
#define CTL_OUT_MAX (256 * 1024)    /* unread replies before reading stops */
#define CTL_DRAIN_MS 10000          /* a client that takes no reply */
#define CTL_WAIT_MS 15000           /* switchover/promote outcome */

struct ctlconn {
	struct ctlsvr *svr;
	struct bufferevent *bev;
	uid_t uid;
	pid_t pid;
	int privileged;             /* root or hasvr's user */
	int closing;                /* goes once its reply is out */
	int paused;                 /* not read: replies wait unread */
	uint64_t last_ms;           /* its last request */
	int waiting;                /* a request waits for its outcome */
	uint16_t wtype;
	uint32_t wseq;
	int wtarget;                /* switchover: the successor */
	uint32_t wepoch;            /* epoch when it was asked */
	uint64_t wstart, wdeadline;
	struct ctlconn *next;
};

struct ctlsvr {
	struct ha *h;
	struct evconnlistener *lis;
	struct ctlconn *conns;
	int nconns, nunpriv;
};

static void
conn_free(struct ctlconn *c)
{
	struct ctlconn **pp;

	for (pp = &c->svr->conns; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	c->svr->nconns--;
	if (!c->privileged)
		c->svr->nunpriv--;
	bufferevent_free(c->bev);
	free(c);
}

static void
send_buf(struct ctlconn *c, struct buf *b)
{
	if (!b->oom)
		bufferevent_write(c->bev, b->p, b->len);
	buf_free(b);
}

static void
reply_ok(struct ctlconn *c, uint32_t seq, const char *msg)
{
	struct buf b;

	buf_init(&b);
	hactl_reply_ok(&b, seq, msg);
	send_buf(c, &b);
}

static void
reply_err(struct ctlconn *c, uint32_t seq, int code, const char *msg)
{
	struct buf b;

	buf_init(&b);
	hactl_reply_err(&b, seq, code, msg);
	send_buf(c, &b);
}

/* ---- requests ---- */

static int
may_change(const struct ctlconn *c)
{
	return c->privileged;
}

static void
do_sync(struct ctlconn *c, const struct hc_req *r)
{
	struct ha *h = c->svr->h;
	static const char *const names[] = { "", "HA sync", "database sync",
	    "file sync" };
	char msg[256];

	switch (r->what) {
	case HC_SYNC_HA: h->ha_sync = r->enable; break;
	case HC_SYNC_DB: h->db_sync = r->enable; break;
	default: h->file_sync = r->enable; break;
	}
	log_notice("%s %s by the control socket (uid %ld, pid %ld)",
	    names[r->what], r->enable ? "enabled" : "disabled", (long)c->uid,
	    (long)c->pid);
	ha_apply_sync(h);
	ha_kick_heartbeat(h);
	snprintf(msg, sizeof(msg), "%s %s on this node (until hasvr restarts; "
	    "set it in haSvr.cfg to keep it)", names[r->what],
	    r->enable ? "enabled" : "disabled");
	reply_ok(c, r->seq, msg);
}

static void
start_wait(struct ctlconn *c, const struct hc_req *r, int target)
{
	struct ha *h = c->svr->h;

	c->waiting = 1;
	c->wtype = r->type;
	c->wseq = r->seq;
	c->wtarget = target;
	c->wepoch = role_epoch(h->role);
	c->wstart = util_now_ms();
	c->wdeadline = c->wstart + CTL_WAIT_MS;
	ha_tick_schedule(h);
}

static void
handle(struct ctlconn *c, const struct frame_hdr *fh, const void *p,
    size_t len)
{
	struct ha *h = c->svr->h;
	struct hc_req r;
	char err[512], msg[512];
	char *json;
	int rc;

	if ((rc = hactl_decode_request(fh, p, len, &r, err, sizeof(err))) != 0) {
		reply_err(c, fh->seq, rc, err);
		return;
	}
	if (r.type == HC_STATUS) {
		struct buf b;

		if ((json = status_json(h)) == NULL) {
			reply_err(c, r.seq, XE_BUSY, "out of memory");
			return;
		}
		buf_init(&b);
		hactl_reply_status(&b, r.seq, json);
		free(json);
		send_buf(c, &b);
		return;
	}
	if (!may_change(c)) {
		snprintf(msg, sizeof(msg), "not allowed: only root or the user "
		    "hasvr runs as (uid %ld) may change roles or sync; status "
		    "is open to the socket's group", (long)h->uid);
		reply_err(c, r.seq, XE_AUTH, msg);
		return;
	}
	switch (r.type) {
	case HC_SWITCHOVER:
		if (!role_request_switchover(h->role, (int)r.target_eid,
		    util_now_ms(), msg, sizeof(msg))) {
			reply_err(c, r.seq, XE_BUSY, msg);
			return;
		}
		log_notice("%s (asked by uid %ld)", msg, (long)c->uid);
		start_wait(c, &r, role_switch_target(h->role));
		return;
	case HC_PROMOTE:
		if (role_current(h->role) == ROLE_PRIMARY) {
			snprintf(msg, sizeof(msg), "this node is already PRIMARY "
			    "(epoch %u); nothing done", role_epoch(h->role));
			reply_ok(c, r.seq, msg);
			return;
		}
		if (!role_request_promote(h->role, r.force, util_now_ms(), msg,
		    sizeof(msg))) {
			reply_err(c, r.seq, XE_BUSY, msg);
			return;
		}
		log_notice("%s (asked by uid %ld)", msg, (long)c->uid);
		start_wait(c, &r, 0);
		return;
	case HC_SYNC:
		do_sync(c, &r);
		return;
	case HC_RESYNC:
		if (ha_request_resync(h, msg, sizeof(msg)) != 0) {
			reply_err(c, r.seq, XE_BUSY, msg);
			return;
		}
		reply_ok(c, r.seq, msg);
		return;
	case HC_FILESYNC:
		if (ha_request_filesync(h, msg, sizeof(msg)) != 0) {
			reply_err(c, r.seq, XE_BUSY, msg);
			return;
		}
		reply_ok(c, r.seq, msg);
		return;
	default:
		reply_err(c, r.seq, XE_UNKNOWN, "unknown request");
	}
}

static void
on_read(struct bufferevent *bev, void *arg)
{
	struct ctlconn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	unsigned char hdr[PROTO_HDR_LEN], *body;
	struct frame_hdr fh;
	char msg[128];

	while (!c->waiting && !c->closing &&
	    evbuffer_get_length(in) >= PROTO_HDR_LEN) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) >
		    CTL_OUT_MAX) {
			/* replies unread: the rest waits until they go */
			c->paused = 1;
			bufferevent_disable(bev, EV_READ);
			return;
		}
		c->last_ms = util_now_ms();
		evbuffer_copyout(in, hdr, PROTO_HDR_LEN);
		proto_hdr_decode(hdr, &fh);
		if (fh.len > CTL_MAX_REQUEST) {
			snprintf(msg, sizeof(msg), "request of %u bytes: no "
			    "control request is over %d", fh.len,
			    CTL_MAX_REQUEST);
			reply_err(c, fh.seq, XE_TOOBIG, msg);
			log_warnx("control socket: %s (uid %ld); connection "
			    "closed", msg, (long)c->uid);
			c->closing = 1;
			bufferevent_disable(bev, EV_READ);
			evbuffer_drain(in, evbuffer_get_length(in));
			return;
		}
		if (evbuffer_get_length(in) < PROTO_HDR_LEN + (size_t)fh.len)
			return;
		evbuffer_drain(in, PROTO_HDR_LEN);
		body = fh.len > 0 ? evbuffer_pullup(in, fh.len) : NULL;
		handle(c, &fh, body, fh.len);
		evbuffer_drain(in, fh.len);
	}
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	struct ctlconn *c = arg;

	(void)bev;
	if (what & BEV_EVENT_TIMEOUT)
		log_info("control socket: a connection of uid %ld %s; closed",
		    (long)c->uid, (what & BEV_EVENT_WRITING) ? "takes no reply" :
		    "is idle");
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		conn_free(c);
}

static void
on_write(struct bufferevent *bev, void *arg)
{
	struct ctlconn *c = arg;

	/* a connection closed for a bad request goes once its reply is out */
	if (c->closing) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			conn_free(c);
		return;
	}
	/* its replies went (below the low-water mark): read on */
	if (c->paused) {
		c->paused = 0;
		bufferevent_enable(bev, EV_READ);
		on_read(bev, c);
	}
}

/* A member's connection that waits the longest, to make room (NULL). */
static struct ctlconn *
oldest_unpriv(struct ctlsvr *s)
{
	struct ctlconn *c, *old = NULL;

	for (c = s->conns; c != NULL; c = c->next)
		if (!c->privileged && !c->waiting &&
		    (old == NULL || c->last_ms < old->last_ms))
			old = c;
	return old;
}

static void
on_accept(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct ctlsvr *s = arg;
	struct ctlconn *c;
	struct ucred cr;
	socklen_t crlen = sizeof(cr);

	static struct log_limit lim;
	unsigned long held = 0;
	struct timeval idle = { CTL_IDLE_MS / 1000, 0 };
	struct timeval drain = { CTL_DRAIN_MS / 1000, 0 };
	struct ctlconn *old;
	int privileged;

	(void)lis;
	(void)sa;
	(void)salen;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) == -1) {
		close(fd);
		return;
	}
	privileged = cr.uid == 0 || cr.uid == s->h->uid;
	if (privileged && s->nconns >= CTL_MAX_CONNS &&
	    (old = oldest_unpriv(s)) != NULL) {
		log_info("control socket: a connection of uid %ld closed to make "
		    "room for uid %ld", (long)old->uid, (long)cr.uid);
		conn_free(old);
	}
	if (s->nconns >= CTL_MAX_CONNS ||
	    (!privileged && s->nunpriv >= CTL_MAX_UNPRIV)) {
		if (log_limit_due(&lim, 10000, &held))
			log_warnx("control socket: refusing a connection of uid "
			    "%ld: %d connections open%s", (long)cr.uid, s->nconns,
			    held ? " (more refused like it)" : "");
		close(fd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	c->svr = s;
	c->uid = cr.uid;
	c->pid = cr.pid;
	c->privileged = privileged;
	c->last_ms = util_now_ms();
	c->bev = bufferevent_socket_new(s->h->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		close(fd);
		free(c);
		return;
	}
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	/* on_write runs once the replies are down to a quarter */
	bufferevent_setwatermark(c->bev, EV_WRITE, CTL_OUT_MAX / 4, 0);
	bufferevent_set_timeouts(c->bev, privileged ? NULL : &idle, &drain);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->next = s->conns;
	s->conns = c;
	s->nconns++;
	if (!privileged)
		s->nunpriv++;
}

struct ctlsvr *
ctl_start(struct ha *h, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct ctlsvr *s;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(h->ctlpath) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "control socket path too long (%zu "
		    "characters, at most %zu): %s", strlen(h->ctlpath),
		    sizeof(sun.sun_path) - 1, h->ctlpath);
		return NULL;
	}
	util_strlcpy(sun.sun_path, h->ctlpath, sizeof(sun.sun_path));
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->h = h;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		snprintf(err, errlen, "control socket: %s", strerror(errno));
		free(s);
		return NULL;
	}
	unlink(h->ctlpath);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(h->ctlpath, 0660) == -1 || listen(fd, 16) == -1) {
		snprintf(err, errlen, "control socket %s: %s", h->ctlpath,
		    strerror(errno));
		close(fd);
		free(s);
		return NULL;
	}
	s->lis = evconnlistener_new(h->base, on_accept, s,
	    LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (s->lis == NULL) {
		snprintf(err, errlen, "control socket: cannot listen");
		close(fd);
		free(s);
		return NULL;
	}
	return s;
}

void
ctl_stop(struct ctlsvr *s)
{
	if (s == NULL)
		return;
	while (s->conns != NULL)
		conn_free(s->conns);
	evconnlistener_free(s->lis);
	unlink(s->h->ctlpath);
	free(s);
}

/* Has the switchover or promote a connection waits for happened? */
static int
outcome(struct ha *h, struct ctlconn *c, uint64_t now, char *msg,
    size_t msglen)
{
	struct ha_peer *p;

	if (c->wtype == HC_PROMOTE) {
		if (role_current(h->role) != ROLE_PRIMARY || h->has_pending)
			return 0;
		snprintf(msg, msglen, "promoted: this node %s is PRIMARY with "
		    "epoch %u and accepts writes (%llu ms)",
		    h->hc.nodes[h->hc.self].addr, role_epoch(h->role),
		    (unsigned long long)(now - c->wstart));
		return 1;
	}
	p = peer_by_eid(h, c->wtarget);
	if (p == NULL || !peer_alive(h, p, now) ||
	    p->last.role != HB_ROLE_PRIMARY || p->last.epoch <= c->wepoch)
		return 0;
	snprintf(msg, msglen, "switchover done: %s is PRIMARY with epoch "
	    "%" PRIu64 ", this node %s is SECONDARY (%llu ms)", p->addr,
	    p->last.epoch, h->hc.nodes[h->hc.self].addr,
	    (unsigned long long)(now - c->wstart));
	return 1;
}

void
ctl_tick(struct ctlsvr *s)
{
	struct ha *h;
	struct ctlconn *c;
	uint64_t now = util_now_ms();
	char msg[512];

	if (s == NULL)
		return;
	h = s->h;
	for (c = s->conns; c != NULL; c = c->next) {
		if (!c->waiting)
			continue;
		if (outcome(h, c, now, msg, sizeof(msg))) {
			log_notice("%s", msg);
			reply_ok(c, c->wseq, msg);
		} else if (now >= c->wdeadline) {
			snprintf(msg, sizeof(msg), "%s not finished within %d s: "
			    "this node is %s (epoch %u); see ha.log on both "
			    "nodes", c->wtype == HC_PROMOTE ? "promote" :
			    "switchover", CTL_WAIT_MS / 1000,
			    role_name(role_current(h->role)),
			    role_epoch(h->role));
			log_warnx("%s", msg);
			reply_err(c, c->wseq, XE_BUSY, msg);
		} else
			continue;
		c->waiting = 0;
		on_read(c->bev, c);
	}
}
