/* statewriter.h — haSvr.state written by a thread of its own, so that a
 * slow disk (an fsync that waits for a busy journal) never holds up the
 * event loop and with it the heartbeats: a stalled loop for longer than
 * deadInterval would make the peers take over from a healthy node.
 *
 * role.c hands every new content over (statewriter_submit, its persist
 * hook); the thread writes the latest one atomically (lib/atomicfile.h:
 * write, fsync, rename, fsync the folder). Contents submitted while a
 * write runs are coalesced: only the newest is written next. A crash of
 * hasvr loses nothing (the page cache survives a kill -9); a power loss
 * within the few milliseconds of a write loses that role change, as it
 * would have without the thread. */
#ifndef HASVR_STATEWRITER_H
#define HASVR_STATEWRITER_H

#include <stddef.h>
#include <stdint.h>

struct statewriter;

/* A writer for path (mode 0600). NULL with err. */
struct statewriter *statewriter_new(const char *path, char *err,
    size_t errlen);
/* Write everything submitted, then stop the thread and free. */
void statewriter_free(struct statewriter *w);
/* The persist hook of role.h: queue buf for writing; always 0. */
int statewriter_submit(const char *path, const char *buf, size_t len,
    char *err, size_t errlen, void *arg);
/* 1 while the last write failed (err: why), 0 once one succeeded. */
int statewriter_failed(struct statewriter *w, char *err, size_t errlen);

#endif
