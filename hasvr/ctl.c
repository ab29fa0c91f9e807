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
#include "log.h"
#include "unixsock.h"
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
	uint32_t wseq;
	struct ctl_wait w;
	uint64_t wdeadline;
	struct ctlconn *next;
};

struct ctlsvr {
	struct event_base *base;
	char path[108];
	uid_t owner;
	struct ctl_ops ops;
	struct evconnlistener *lis;
	struct ctlconn *conns;
	int nconns, nunpriv;
	struct log_limit refused_lim;   /* "refusing a connection" */
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
handle(struct ctlconn *c, const struct frame_hdr *fh, const void *p,
    size_t len)
{
	struct ctlsvr *s = c->svr;
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

		if ((json = s->ops.status(s->ops.arg)) == NULL) {
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
		    "is open to the socket's group", (long)s->owner);
		reply_err(c, r.seq, XE_AUTH, msg);
		return;
	}
	if (r.type != HC_SWITCHOVER && r.type != HC_PROMOTE &&
	    r.type != HC_SYNC && r.type != HC_RESYNC && r.type != HC_FILESYNC) {
		reply_err(c, r.seq, XE_UNKNOWN, "unknown request");
		return;
	}
	memset(&c->w, 0, sizeof(c->w));
	c->w.start_ms = util_now_ms();
	switch (s->ops.request(s->ops.arg, &r, c->uid, c->pid, &c->w, msg,
	    sizeof(msg))) {
	case CTL_OK:
		reply_ok(c, r.seq, msg);
		return;
	case CTL_REFUSED:
		reply_err(c, r.seq, XE_BUSY, msg);
		return;
	case CTL_WAIT:
		c->waiting = 1;
		c->wseq = r.seq;
		c->wdeadline = c->w.start_ms + CTL_WAIT_MS;
		return;
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
	privileged = cr.uid == 0 || cr.uid == s->owner;
	if (privileged && s->nconns >= CTL_MAX_CONNS &&
	    (old = oldest_unpriv(s)) != NULL) {
		log_info("control socket: a connection of uid %ld closed to make "
		    "room for uid %ld", (long)old->uid, (long)cr.uid);
		conn_free(old);
	}
	if (s->nconns >= CTL_MAX_CONNS ||
	    (!privileged && s->nunpriv >= CTL_MAX_UNPRIV)) {
		if (log_limit_due(&s->refused_lim, 10000, &held))
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
	c->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
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
ctl_start(struct event_base *base, const char *path, uid_t owner,
    const struct ctl_ops *ops, char *err, size_t errlen)
{
	enum unixsock_fail fail;
	struct ctlsvr *s;
	int fd;

	if ((fd = unixsock_listen(path, 0660, 16, 0, &fail)) == -1) {
		if (fail == UNIXSOCK_TOOLONG)
			snprintf(err, errlen, "control socket path too long (%zu "
			    "characters, at most %zu): %s", strlen(path),
			    UNIXSOCK_PATH_MAX, path);
		else if (fail == UNIXSOCK_SOCKET)
			snprintf(err, errlen, "control socket: %s", strerror(errno));
		else
			snprintf(err, errlen, "control socket %s: %s", path,
			    strerror(errno));
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		close(fd);
		unlink(path);
		return NULL;
	}
	s->base = base;
	util_strlcpy(s->path, path, sizeof(s->path));
	s->owner = owner;
	s->ops = *ops;
	s->lis = evconnlistener_new(base, on_accept, s,
	    LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (s->lis == NULL) {
		snprintf(err, errlen, "control socket: cannot listen");
		close(fd);
		unlink(path);
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
	unlink(s->path);
	free(s);
}

void
ctl_tick(struct ctlsvr *s)
{
	struct ctlconn *c;
	uint64_t now = util_now_ms();
	char msg[512];

	if (s == NULL)
		return;
	for (c = s->conns; c != NULL; c = c->next) {
		if (!c->waiting)
			continue;
		if (s->ops.outcome(s->ops.arg, &c->w, now, msg, sizeof(msg))) {
			log_notice("%s", msg);
			reply_ok(c, c->wseq, msg);
		} else if (now >= c->wdeadline) {
			s->ops.timed_out(s->ops.arg, &c->w, CTL_WAIT_MS / 1000,
			    msg, sizeof(msg));
			log_warnx("%s", msg);
			reply_err(c, c->wseq, XE_BUSY, msg);
		} else
			continue;
		c->waiting = 0;
		on_read(c->bev, c);
	}
}
