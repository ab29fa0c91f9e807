/* bench_engine.h — `bench_commit engine`: guisvr's replication engine as an
 * in-process primary (see bench_engine.c). */
#ifndef HASVR_BENCH_ENGINE_H
#define HASVR_BENCH_ENGINE_H

#include <stddef.h>
#include "record.h"

/* Opens the store and replication from guiSvr.cfg, becomes the primary and
 * waits until every peer is in sync; exits 1 with a message on failure. */
void engine_open(const char *cfgfile);
/* One commit of r through guisvr's store (and replication); 0 or an XE_*
 * code with err. Any thread. */
int engine_put(const struct record *r, char *err, size_t errlen);
/* Stops everything; 1 if a peer was no longer in sync at the end. */
int engine_close(void);

#endif
