/* filesync.h — .haDoDirect (highAvail.fileSyncProgram) run by the primary
 * (see filesync.c). */
#ifndef HASVR_FILESYNC_H
#define HASVR_FILESYNC_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

struct filesync;

/* What the job may run under, as hasvr sees it now. */
struct filesync_gate {
	int ha_sync, file_sync;      /* the switches */
	int primary;                 /* this node is primary, no role pending */
	const char *role;            /* its role's name, for refusals */
	int secondary_up;            /* a live peer is secondary */
};

/* prog: the job; cfgfile: haSvr.cfg it is given; interval_ms:
 * highAvail.syncInterval. NULL when out of memory. */
struct filesync *filesync_new(const char *prog, const char *cfgfile,
    uint64_t interval_ms);
/* Stop a job that runs (the script and its rsync) and forget everything. */
void filesync_free(struct filesync *fs);
/* Start the job when it is due: a secondary came up since this node
 * became primary, the interval passed, or it was asked for. */
void filesync_tick(struct filesync *fs, const struct filesync_gate *g,
    uint64_t now);
/* haCtl filesync: 0 with msg (started, or already running), -1 with msg
 * (why not). */
int filesync_request(struct filesync *fs, const struct filesync_gate *g,
    char *msg, size_t msglen);
/* A child exited: 1 if it was the job (its outcome is logged). */
int filesync_reap(struct filesync *fs, pid_t pid, int status);
/* .haDoDirect.result: 0 with SUCCESS|FAIL, its time and reason; -1 none. */
int filesync_result(const struct filesync *fs, char *result, size_t rlen,
    long long *t, char *reason, size_t reasonlen);
int filesync_running(const struct filesync *fs);
const char *filesync_program(const struct filesync *fs);

#endif
