/* svr.h — guisvr ("highAvailSvr") under hasvr's supervision, and the
 * resync that restarts it empty (see svr.c). */
#ifndef HASVR_SVR_H
#define HASVR_SVR_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

/* guisvr exited this often within SVR_UNSTABLE_MS: it cannot stay up */
#define SVR_UNSTABLE_EXITS 3
#define SVR_UNSTABLE_MS 60000

struct event_base;
struct guicfg_paths;
struct svr;

struct svr_hooks {
	void (*exited)(void *arg);     /* guisvr went (its ha-link with it) */
	void (*resynced)(void *arg);   /* its database was moved aside */
	void *arg;
};

/* Supervise prog (-S -f cfg) on base; gp: its folders (for a resync).
 * Nothing runs before svr_start. NULL when out of memory. */
struct svr *svr_new(struct event_base *base, const char *prog,
    const char *cfg, const struct guicfg_paths *gp,
    const struct svr_hooks *hooks);
int svr_start(struct svr *s);
/* A child exited: 1 if it was guisvr (restarted after a backoff, or
 * after its database was moved aside when a resync stopped it). */
int svr_reap(struct svr *s, pid_t pid, int status);
/* Stop guisvr (SIGTERM, SIGKILL after SVR_STOP_WAIT_MS) for good. */
void svr_stop(struct svr *s);
void svr_free(struct svr *s);

pid_t svr_pid(const struct svr *s);                  /* 0: not running */
int svr_restarts(const struct svr *s);
/* 1 when guisvr exited SVR_UNSTABLE_EXITS times within SVR_UNSTABLE_MS. */
int svr_unstable(const struct svr *s, uint64_t now);
/* It stopped because its disk refuses writes (cleared by
 * svr_disk_fault_clear once it opened its database again). */
int svr_disk_fault(const struct svr *s);
void svr_disk_fault_clear(struct svr *s);
/* Resync: stop guisvr, move its database aside (resync.h), start it
 * again. 0 with msg (started), -1 with msg (already under way). */
int svr_resync(struct svr *s, char *msg, size_t msglen);

#endif
