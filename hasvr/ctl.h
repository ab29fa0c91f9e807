/* ctl.h — hasvr's control socket (protocol in lib/hactl.h; see ctl.c).
 *
 * The socket knows who may do what and keeps its clients from crowding
 * each other out; what a request does is hasvr's, through ctl_ops. */
#ifndef HASVR_CTL_H
#define HASVR_CTL_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct hc_req;
struct ctlsvr;

/* A request that answers once it happened (switchover, promote). */
struct ctl_wait {
	uint16_t type;              /* HC_SWITCHOVER | HC_PROMOTE */
	int target;                 /* switchover: the successor's eid */
	uint32_t epoch;             /* this node's epoch when asked */
	uint64_t start_ms;
};

enum ctl_answer {
	CTL_OK,                     /* done: reply msg */
	CTL_REFUSED,                /* not done: reply msg as an error */
	CTL_WAIT,                   /* reply once outcome says so */
};

struct ctl_ops {
	/* the status JSON, malloc'ed (NULL: out of memory) */
	char *(*status)(void *arg);
	/* a change asked by root or hasvr's user (uid, pid): fill msg, and
	 * w for CTL_WAIT (start_ms is set here) */
	enum ctl_answer (*request)(void *arg, const struct hc_req *r, uid_t uid,
	    pid_t pid, struct ctl_wait *w, char *msg, size_t msglen);
	/* 1 with msg once the awaited change happened, else 0 */
	int (*outcome)(void *arg, const struct ctl_wait *w, uint64_t now,
	    char *msg, size_t msglen);
	/* what to answer when it did not happen in time */
	void (*timed_out)(void *arg, const struct ctl_wait *w, unsigned secs,
	    char *msg, size_t msglen);
	void *arg;
};

/* Listen on path (mode 0660) on base; owner is the uid hasvr runs as
 * (with root, the only one allowed changes). NULL with err filled. */
struct ctlsvr *ctl_start(struct event_base *base, const char *path,
    uid_t owner, const struct ctl_ops *ops, char *err, size_t errlen);
void ctl_stop(struct ctlsvr *c);
/* Called by every role tick: answer requests waiting for an outcome
 * (switchover, promote) once it happened or timed out. */
void ctl_tick(struct ctlsvr *c);

#endif
