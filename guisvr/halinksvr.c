/* halinksvr.c — guisvr's end of the ha-link: the local socket through which
 * hasvr gives roles, asks for the replication state and listens to events
 * (protocol in lib/halink.h, contract in halinksvr.h).
 *
 * One thread polls the listening socket, a wake pipe and at most
 * HLS_MAX_CONNS connections. Requests are handled on that thread; replies
 * and events are queued on the connection (under mu, since events arrive
 * from replication threads) and written as the socket accepts them.
 *
 * Who may do what (SO_PEERCRED at connect): anyone who can open the socket
 * (mode 0660: the daemons' group) reads the state and follows events, but
 * only hasvr's user — the user guisvr runs as — and root change the role,
 * the sync switch, the arbiter lease or the synchronous-standby set; a
 * refusal is answered XE_AUTH and logged. The others
 * hold at most HLS_MAX_UNPRIV connections, are closed after HLS_IDLE_MS
 * without a request (unless they follow events), and give way to hasvr's
 * user and root when every slot is taken.
 *
 * An arbiter lease (HL_LEASE) is a time from when hasvr sent it, but a
 * request may wait in the socket while this thread is busy with a slow
 * one (a role change): what is read is dated from when it may have
 * arrived at the earliest (hlconn.in_ms), and the lease counts from
 * then. */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "halink.h"
#include "halinksvr.h"
#include "hlstate.h"
#include "log.h"
#include "rep.h"
#include "unixsock.h"
#include "util.h"

#define HLS_MAX_CONNS	16
#define HLS_MAX_UNPRIV	8               /* of them, for the group's members */
#define HLS_IDLE_MS	30000           /* a member's idle connection */
#define HLS_MAX_REQ	1024            /* request payload; real ones are < 8 */
#define HLS_MAX_QUEUE	(256 * 1024)    /* unsent bytes per connection */
#define HLS_EVENT_MAX	4000            /* one event line */
/* A round of the loop this long may have kept a request waiting: what the
 * next round reads is dated from its start. */
#define HLS_BUSY_MS	10

struct hlconn {
	int fd;                 /* -1: free slot */
	int id;                 /* numbers the connection in log lines */
	long uid;               /* the peer's, from SO_PEERCRED (-1 unknown) */
	int privileged;         /* root or guisvr's own user: may change roles */
	uint64_t last_ms;       /* its last request */
	int subscribed;
	int closing;            /* close once the queue is written */
	int drop;               /* close now: the queue overflowed */
	unsigned char in[PROTO_HDR_LEN + HLS_MAX_REQ];
	size_t inlen;
	uint64_t in_ms;         /* the bytes in in[] (and any that a full
				 * read left in the socket) arrived after */
	int more;               /* the last read filled in[] */
	struct buf out;         /* queued frames; out.p + outoff is unsent */
	size_t outoff;
};

struct halinksvr {
	int lfd;
	int wake[2];
	pthread_t thr;
	int started;
	int stop;               /* under mu */
	pthread_mutex_t mu;     /* conns[].fd, subscribed, drop, out, outoff */
	struct hlconn conns[HLS_MAX_CONNS];
	struct rep *rep;
	int nextid;
	uint64_t read_ms;       /* what this round reads arrived after */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char off_reason[512];
};

static void
wake(struct halinksvr *s)
{
	char ch = 'w';

	/* a full pipe already holds a wake-up */
	while (write(s->wake[1], &ch, 1) == -1 && errno == EINTR)
		;
}

/* Append a finished frame to c's queue (mu held). A peer that leaves
 * HLS_MAX_QUEUE bytes unread is dropped instead of waited for. */
static void
queue_locked(struct hlconn *c, const struct buf *f)
{
	if (c->fd == -1 || c->drop)
		return;
	if (f->oom || c->out.len - c->outoff + f->len > HLS_MAX_QUEUE) {
		c->drop = 1;
		return;
	}
	if (c->outoff > 0 && c->outoff == c->out.len) {
		buf_reset(&c->out);
		c->outoff = 0;
	}
	buf_put(&c->out, f->p, f->len);
	if (c->out.oom)
		c->drop = 1;
}

static void
queue(struct halinksvr *s, struct hlconn *c, const struct buf *f)
{
	pthread_mutex_lock(&s->mu);
	queue_locked(c, f);
	pthread_mutex_unlock(&s->mu);
}

static void
reply_err(struct halinksvr *s, struct hlconn *c, uint32_t seq, int code,
    const char *msg)
{
	struct buf b;

	buf_init(&b);
	proto_begin(&b, XM_R_ERR, 0, seq);
	buf_put_u32(&b, (uint32_t)code);
	buf_put_str16(&b, msg, strnlen(msg, HLS_EVENT_MAX));
	proto_finish(&b);
	queue(s, c, &b);
	buf_free(&b);
}

static void
reply_ok(struct halinksvr *s, struct hlconn *c, uint32_t seq)
{
	struct buf b;

	buf_init(&b);
	proto_begin(&b, XM_R_OK, 0, seq);
	proto_finish(&b);
	queue(s, c, &b);
	buf_free(&b);
}

static int flush_locked(struct hlconn *c);

/* The event sink given to rep: may run on any thread, never blocks. */
static void
halinksvr_event(const char *line, void *arg)
{
	struct halinksvr *s = arg;
	struct buf b;
	int i, any = 0;

	buf_init(&b);
	proto_begin(&b, HL_R_EVENT, 0, 0);
	buf_put_str16(&b, line, strnlen(line, HLS_EVENT_MAX));
	proto_finish(&b);
	pthread_mutex_lock(&s->mu);
	for (i = 0; i < HLS_MAX_CONNS; i++) {
		struct hlconn *c = &s->conns[i];

		if (c->fd != -1 && c->subscribed && !c->closing) {
			queue_locked(c, &b);
			/* deliver now: a request may be keeping the ha-link
			 * thread busy (rep_set_role) while events happen */
			if (!c->drop && flush_locked(c) == -1)
				c->drop = 1;
			any = 1;
		}
	}
	pthread_mutex_unlock(&s->mu);
	buf_free(&b);
	if (any)
		wake(s);
}

/* Role and sync changes: hasvr's user (guisvr's own) and root only. 1 if
 * allowed, else 0 with XE_AUTH answered and the refusal logged. */
static int
may_change(struct halinksvr *s, struct hlconn *c, uint32_t seq,
    const char *what)
{
	static struct log_limit lim;
	unsigned long held = 0;
	char msg[256];

	if (c->privileged)
		return 1;
	snprintf(msg, sizeof(msg), "%s refused: only hasvr's user (uid %ld) "
	    "and root may change it; this connection is uid %ld", what,
	    (long)getuid(), c->uid);
	if (log_limit_due(&lim, 10000, &held))
		log_warnx("ha-link connection %d: %s%s", c->id, msg, held ?
		    " (and more refusals like it)" : "");
	reply_err(s, c, seq, XE_AUTH, msg);
	return 0;
}

static void
do_role(struct halinksvr *s, struct hlconn *c, const struct hl_req *q)
{
	char err[HASVR_ERRLEN];
	int rc;

	if (!may_change(s, c, q->seq, "role change"))
		return;
	if (s->rep == NULL) {
		log_warnx("ha-link: role %s refused: %s", ha_role_word(q->role),
		    s->off_reason);
		reply_err(s, c, q->seq, XE_BADREQ, s->off_reason);
		return;
	}
	log_info("ha-link: role %s requested (epoch %u)", ha_role_word(q->role),
	    q->epoch);
	err[0] = '\0';
	if ((rc = rep_set_role(s->rep, q->role, q->epoch, q->primary, err,
	    sizeof(err))) != 0) {
		if (err[0] == '\0')
			util_strlcpy(err, proto_errname(rc), sizeof(err));
		log_warnx("ha-link: role %s refused: %s", ha_role_word(q->role),
		    err);
		reply_err(s, c, q->seq, rc > 0 ? rc : XE_DB, err);
		return;
	}
	reply_ok(s, c, q->seq);
}

static void
do_sync(struct halinksvr *s, struct hlconn *c, const struct hl_req *q)
{
	char err[HASVR_ERRLEN];
	int rc;

	if (!may_change(s, c, q->seq, "sync switch"))
		return;
	if (s->rep == NULL) {
		log_warnx("ha-link: sync %s refused: %s", q->enable ? "on" : "off",
		    s->off_reason);
		reply_err(s, c, q->seq, XE_BADREQ, s->off_reason);
		return;
	}
	log_info("ha-link: database sync %s requested", q->enable ? "on" : "off");
	err[0] = '\0';
	if ((rc = rep_set_sync(s->rep, q->enable, err, sizeof(err))) != 0) {
		if (err[0] == '\0')
			util_strlcpy(err, proto_errname(rc), sizeof(err));
		log_warnx("ha-link: sync %s refused: %s", q->enable ? "on" : "off",
		    err);
		reply_err(s, c, q->seq, rc > 0 ? rc : XE_DB, err);
		return;
	}
	reply_ok(s, c, q->seq);
}

static void
do_lease(struct halinksvr *s, struct hlconn *c, const struct hl_req *q)
{
	static struct log_limit lim;
	unsigned long held = 0;

	if (!may_change(s, c, q->seq, "arbiter lease"))
		return;
	if (s->rep == NULL) {
		/* renewed often: said at most every 10 s */
		if (log_limit_due(&lim, 10000, &held))
			log_warnx("ha-link: arbiter lease refused: %s%s",
			    s->off_reason, held ? " (and more refusals like it)" :
			    "");
		reply_err(s, c, q->seq, XE_BADREQ, s->off_reason);
		return;
	}
	/* from when it may have arrived, not from now */
	rep_set_lease(s->rep, q->lease_ms, c->in_ms);
	reply_ok(s, c, q->seq);
}

static void
do_syncset(struct halinksvr *s, struct hlconn *c, const struct hl_req *q)
{
	if (!may_change(s, c, q->seq, "synchronous-standby set"))
		return;
	if (s->rep == NULL) {
		log_warnx("ha-link: synchronous-standby set 0x%02x refused: %s",
		    q->syncset, s->off_reason);
		reply_err(s, c, q->seq, XE_BADREQ, s->off_reason);
		return;
	}
	rep_set_syncset(s->rep, q->syncset);
	reply_ok(s, c, q->seq);
}

static void
do_state(struct halinksvr *s, struct hlconn *c, const struct hl_req *q)
{
	struct hl_state st;
	struct buf b;

	if (s->rep == NULL) {
		memset(&st, 0, sizeof(st));
		st.role = HA_ROLE_STANDALONE;
	} else
		rep_state(s->rep, &st);
	buf_init(&b);
	proto_begin(&b, HL_R_STATE, 0, q->seq);
	hl_state_encode(&b, &st);
	proto_finish(&b);
	queue(s, c, &b);
	buf_free(&b);
}

static void
do_subscribe(struct halinksvr *s, struct hlconn *c, const struct hl_req *q)
{
	struct buf b;

	buf_init(&b);
	proto_begin(&b, XM_R_OK, 0, q->seq);
	proto_finish(&b);
	/* OK first, then events: both under one lock */
	pthread_mutex_lock(&s->mu);
	queue_locked(c, &b);
	c->subscribed = 1;
	pthread_mutex_unlock(&s->mu);
	buf_free(&b);
	log_info("ha-link connection %d subscribed to replication events",
	    c->id);
}

static void
handle(struct halinksvr *s, struct hlconn *c, const struct frame_hdr *h,
    const unsigned char *p)
{
	struct hl_req q;
	char msg[256];
	int rc;

	/* a malformed request is answered and logged; the connection stays */
	if ((rc = halink_decode_request(h, p, &q, msg, sizeof(msg))) != 0) {
		log_warnx("ha-link connection %d: %s%s", c->id, msg,
		    rc == XE_UNKNOWN ? "; answered with an error" : "");
		reply_err(s, c, h->seq, rc, msg);
		return;
	}
	switch (q.type) {
	case HL_ROLE:
		do_role(s, c, &q);
		return;
	case HL_STATE:
		do_state(s, c, &q);
		return;
	case HL_SUBSCRIBE:
		do_subscribe(s, c, &q);
		return;
	case HL_SYNC:
		do_sync(s, c, &q);
		return;
	case HL_LEASE:
		do_lease(s, c, &q);
		return;
	case HL_SYNCSET:
		do_syncset(s, c, &q);
		return;
	}
}

/* Handle every whole frame in c->in. */
static void
process(struct halinksvr *s, struct hlconn *c)
{
	struct frame_hdr h;
	size_t used = 0, flen;
	char msg[160];

	while (!c->closing && c->inlen - used >= PROTO_HDR_LEN) {
		proto_hdr_decode(c->in + used, &h);
		if (h.len > HLS_MAX_REQ) {
			snprintf(msg, sizeof(msg), "%s request of %u bytes is over "
			    "the ha-link limit of %d bytes", halink_typename(h.type),
			    h.len, HLS_MAX_REQ);
			log_warnx("ha-link connection %d: %s (type %u); closing",
			    c->id, msg, h.type);
			reply_err(s, c, h.seq, XE_TOOBIG, msg);
			c->closing = 1;
			used = c->inlen;
			break;
		}
		flen = PROTO_HDR_LEN + h.len;
		if (c->inlen - used < flen)
			break;
		c->last_ms = util_now_ms();
		handle(s, c, &h, c->in + used + PROTO_HDR_LEN);
		used += flen;
	}
	if (used > 0) {
		memmove(c->in, c->in + used, c->inlen - used);
		c->inlen -= used;
	}
}

static void
conn_close(struct halinksvr *s, struct hlconn *c, const char *why)
{
	int fd, id = c->id;

	pthread_mutex_lock(&s->mu);
	fd = c->fd;
	c->fd = -1;
	c->subscribed = c->closing = c->drop = c->more = 0;
	buf_free(&c->out);
	c->outoff = c->inlen = 0;
	pthread_mutex_unlock(&s->mu);
	if (fd != -1)
		close(fd);
	log_info("connectionMgr ha-link closed (connection %d%s%s)", id,
	    why ? ": " : "", why ? why : "");
}

/* Write what the socket takes, never waiting (mu held). -1 when the peer
 * is gone. */
static int
flush_locked(struct hlconn *c)
{
	ssize_t w;
	int rc = 0;

	if (c->fd == -1)
		return 0;
	while (c->outoff < c->out.len) {
		w = send(c->fd, c->out.p + c->outoff, c->out.len - c->outoff,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				rc = -1;
			break;
		}
		c->outoff += (size_t)w;
	}
	if (c->outoff == c->out.len) {
		buf_reset(&c->out);
		c->outoff = 0;
	}
	return rc;
}

static int
conn_flush(struct halinksvr *s, struct hlconn *c)
{
	int rc;

	pthread_mutex_lock(&s->mu);
	rc = flush_locked(c);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static void
conn_read(struct halinksvr *s, struct hlconn *c)
{
	ssize_t r;
	size_t room;

	if (c->closing)
		return;
	/* a partial frame, or what a full read left, is older */
	if (c->inlen == 0 && !c->more)
		c->in_ms = s->read_ms;
	room = sizeof(c->in) - c->inlen;
	r = read(c->fd, c->in + c->inlen, room);
	if (r == -1 && (errno == EINTR || errno == EAGAIN ||
	    errno == EWOULDBLOCK))
		return;
	if (r <= 0) {
		conn_close(s, c, r == 0 ? NULL : strerror(errno));
		return;
	}
	c->more = (size_t)r == room;
	c->inlen += (size_t)r;
	process(s, c);
}

/* A free slot for a new connection (privileged or not), or NULL; may
 * close the least recently active member's connection to make room for
 * hasvr's user or root (mu held). */
static struct hlconn *
slot_for(struct halinksvr *s, int privileged, int *evicted)
{
	struct hlconn *c, *free_slot = NULL, *oldest = NULL;
	int i, unpriv = 0;

	*evicted = 0;
	for (i = 0; i < HLS_MAX_CONNS; i++) {
		c = &s->conns[i];
		if (c->fd == -1) {
			if (free_slot == NULL)
				free_slot = c;
			continue;
		}
		if (!c->privileged) {
			unpriv++;
			if (oldest == NULL || c->last_ms < oldest->last_ms)
				oldest = c;
		}
	}
	if (!privileged)
		return unpriv < HLS_MAX_UNPRIV ? free_slot : NULL;
	if (free_slot != NULL || oldest == NULL)
		return free_slot;
	*evicted = oldest->id;
	return oldest;
}

static void
do_accept(struct halinksvr *s)
{
	static struct log_limit lim;
	unsigned long held = 0;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct hlconn *c;
	long uid = -1;
	int fd, privileged, evicted;

	if ((fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("ha-link: accept on %s", s->path);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
		uid = (long)cred.uid;
	else
		cred.pid = 0;
	privileged = uid == 0 || (uid != -1 && (uid_t)uid == getuid());
	pthread_mutex_lock(&s->mu);
	c = slot_for(s, privileged, &evicted);
	pthread_mutex_unlock(&s->mu);
	if (c != NULL && evicted) {
		log_notice("ha-link: connection %d (uid %ld) closed to make room "
		    "for uid %ld", c->id, c->uid, uid);
		conn_close(s, c, "room for hasvr's user or root");
	}
	if (c == NULL) {
		if (log_limit_due(&lim, 10000, &held))
			log_warnx("ha-link: refusing a connection of uid %ld on %s: "
			    "%s%s", uid, s->path, privileged ? "every slot taken" :
			    "the daemons' group already holds its share of "
			    "connections", held ? " (and more refused like it)" :
			    "");
		close(fd);
		return;
	}
	pthread_mutex_lock(&s->mu);
	c->fd = fd;
	c->id = ++s->nextid;
	c->uid = uid;
	c->privileged = privileged;
	c->last_ms = util_now_ms();
	c->subscribed = c->closing = c->drop = c->more = 0;
	c->inlen = c->outoff = 0;
	buf_init(&c->out);
	pthread_mutex_unlock(&s->mu);
	log_info("connectionMgr connected to ha-link (connection %d, pid %ld, "
	    "uid %ld%s)", c->id, (long)cred.pid, uid, privileged ? "" :
	    ", may read only");
}

/* A member's connection idle for HLS_IDLE_MS (not following events) is
 * closed: slots are for hasvr and people looking. */
static void
sweep_idle(struct halinksvr *s)
{
	uint64_t now = util_now_ms();
	struct hlconn *c;
	int i;

	for (i = 0; i < HLS_MAX_CONNS; i++) {
		c = &s->conns[i];
		if (c->fd != -1 && !c->privileged && !c->subscribed &&
		    now - c->last_ms > HLS_IDLE_MS)
			conn_close(s, c, "idle");
	}
}

static void *
run(void *arg)
{
	struct halinksvr *s = arg;
	struct pollfd pfd[2 + HLS_MAX_CONNS];
	struct hlconn *who[2 + HLS_MAX_CONNS];
	char drain[64];
	uint64_t woke = util_now_ms(), busy, now;
	int i, n, stop, drop, pending;

	for (;;) {
		pfd[0].fd = s->wake[0];
		pfd[0].events = POLLIN;
		pfd[1].fd = s->lfd;
		pfd[1].events = POLLIN;
		n = 2;
		pthread_mutex_lock(&s->mu);
		stop = s->stop;
		for (i = 0; i < HLS_MAX_CONNS; i++) {
			struct hlconn *c = &s->conns[i];

			if (c->fd == -1)
				continue;
			pfd[n].fd = c->fd;
			pfd[n].events = c->closing ? 0 : POLLIN;
			if (c->outoff < c->out.len || c->drop)
				pfd[n].events |= POLLOUT;
			who[n++] = c;
		}
		pthread_mutex_unlock(&s->mu);
		if (stop)
			break;
		busy = util_now_ms() - woke;
		if (poll(pfd, (nfds_t)n, 1000) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("ha-link: poll");
			sleep(1);
			continue;
		}
		/* What this round reads came while poll waited — about now —
		 * or, after a busy round, while that round ran (the requests
		 * pending when it began were read in it). */
		now = util_now_ms();
		s->read_ms = busy > HLS_BUSY_MS ? woke : now;
		woke = now;
		if (pfd[0].revents & POLLIN)
			while (read(s->wake[0], drain, sizeof(drain)) > 0)
				;
		for (i = 2; i < n; i++) {
			struct hlconn *c = who[i];

			pthread_mutex_lock(&s->mu);
			drop = c->drop;
			pthread_mutex_unlock(&s->mu);
			if (drop) {
				log_warnx("ha-link connection %d left %dK of "
				    "replies and events unread: dropped so that "
				    "replication never waits for it", c->id,
				    HLS_MAX_QUEUE / 1024);
				conn_close(s, c, "dropped, not reading");
				continue;
			}
			if (pfd[i].revents & (POLLOUT | POLLERR | POLLHUP) &&
			    conn_flush(s, c) == -1) {
				conn_close(s, c, strerror(errno));
				continue;
			}
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
				conn_read(s, c);
			if (c->fd == -1)
				continue;
			/* answer at once, without waiting for POLLOUT */
			if (conn_flush(s, c) == -1) {
				conn_close(s, c, strerror(errno));
				continue;
			}
			pthread_mutex_lock(&s->mu);
			pending = c->outoff < c->out.len;
			pthread_mutex_unlock(&s->mu);
			if (c->closing && !pending)
				conn_close(s, c, "after a bad request");
			else if (c->closing && (pfd[i].revents & (POLLHUP |
			    POLLERR)))
				conn_close(s, c, NULL);
		}
		if (pfd[1].revents & POLLIN)
			do_accept(s);
		sweep_idle(s);
	}
	return NULL;
}

static int
listen_unix(struct halinksvr *s, const char *path, char *err, size_t errlen)
{
	enum unixsock_fail fail;

	/* a socket left by a killed guisvr: removed only if nobody answers */
	if ((s->lfd = unixsock_listen(path, 0660, 8, UNIXSOCK_REFUSE_LIVE,
	    &fail)) == -1) {
		if (fail == UNIXSOCK_TOOLONG)
			snprintf(err, errlen, "ha-link socket path %s is too long "
			    "(%zu characters, at most %zu): use a shorter "
			    "guiSvr.varDir", path, strlen(path), UNIXSOCK_PATH_MAX);
		else if (fail == UNIXSOCK_LIVE)
			snprintf(err, errlen, "another guisvr is already serving "
			    "the ha-link %s", path);
		else if (fail == UNIXSOCK_CHMOD)
			snprintf(err, errlen, "chmod %s: %s", path, strerror(errno));
		else
			snprintf(err, errlen, "cannot listen on the ha-link %s: %s",
			    path, strerror(errno));
		return -1;
	}
	util_strlcpy(s->path, path, sizeof(s->path));
	return 0;
}

static void
cleanup(struct halinksvr *s)
{
	int i;

	for (i = 0; i < HLS_MAX_CONNS; i++) {
		if (s->conns[i].fd != -1) {
			close(s->conns[i].fd);
			log_info("connectionMgr ha-link closed (connection %d: "
			    "guisvr stopping)", s->conns[i].id);
		}
		buf_free(&s->conns[i].out);
	}
	if (s->lfd != -1)
		close(s->lfd);
	if (s->path[0] != '\0')
		unlink(s->path);
	if (s->wake[0] != -1)
		close(s->wake[0]);
	if (s->wake[1] != -1)
		close(s->wake[1]);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

struct halinksvr *
halinksvr_start(const struct halinksvr_opts *o, char *err, size_t errlen)
{
	struct halinksvr *s;
	sigset_t all, old;
	int i, rc;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->lfd = s->wake[0] = s->wake[1] = -1;
	pthread_mutex_init(&s->mu, NULL);
	for (i = 0; i < HLS_MAX_CONNS; i++) {
		s->conns[i].fd = -1;
		buf_init(&s->conns[i].out);
	}
	s->rep = o->rep;
	util_strlcpy(s->off_reason, o->off_reason ? o->off_reason :
	    "high availability is off", sizeof(s->off_reason));
	if (pipe2(s->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		cleanup(s);
		return NULL;
	}
	if (listen_unix(s, o->path, err, errlen) != 0) {
		cleanup(s);
		return NULL;
	}
	/* signals belong to the main loop */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&s->thr, NULL, run, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the ha-link thread: %s",
		    strerror(rc));
		cleanup(s);
		return NULL;
	}
	s->started = 1;
	if (s->rep != NULL)
		rep_set_event_sink(s->rep, halinksvr_event, s);
	return s;
}

void
halinksvr_stop(struct halinksvr *s)
{
	if (s == NULL)
		return;
	if (s->rep != NULL)
		rep_set_event_sink(s->rep, NULL, NULL);
	pthread_mutex_lock(&s->mu);
	s->stop = 1;
	pthread_mutex_unlock(&s->mu);
	wake(s);
	if (s->started)
		pthread_join(s->thr, NULL);
	cleanup(s);
}
