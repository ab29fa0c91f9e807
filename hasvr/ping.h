/* ping.h — is highAvail.pingableIp reachable? (see ping.c) */
#ifndef HASVR_PING_H
#define HASVR_PING_H

#include <sys/types.h>

#include <stdint.h>

struct event_base;
struct ping;

/* Check addr every interval_ms on base, the first time now; on_result
 * gets every answer (ok 1 reachable) with the time the ping was sent (what
 * it proves is as of then). addr NULL: nothing to check, always
 * reachable. NULL when out of memory. */
struct ping *ping_new(struct event_base *base, const char *addr,
    uint64_t interval_ms, void (*on_result)(int ok, uint64_t now, void *arg),
    void *arg);
/* Kill a ping that runs and forget everything. */
void ping_free(struct ping *p);
/* Check now, unless a check runs (its result comes soon). */
void ping_now(struct ping *p);
/* A child exited: 1 if it was the ping (its result is taken). */
int ping_reap(struct ping *p, pid_t pid, int status);

const char *ping_addr(const struct ping *p);   /* NULL: none configured */
int ping_ok(const struct ping *p);
uint64_t ping_at_ms(const struct ping *p);     /* the last result, 0 none */

#endif
