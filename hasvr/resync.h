/* resync.h — the manual resync procedure's file step, done safely: move
 * guisvr's database aside so that it starts empty and copies the whole
 * database from the primary. No daemon state: hasvr calls it once guisvr
 * stopped (svr.c), the tests call it on a folder. */
#ifndef HASVR_RESYNC_H
#define HASVR_RESYNC_H

#include <stddef.h>
#include <time.h>

struct guicfg_paths;

/* Move every file of gp->data but DB_CONFIG, and all of gp->log and
 * gp->init, into gp->xdb/resync-YYYYmmdd-HHMMSS/{data,log,init} (local
 * time of when; -2, -3, … appended when that folder exists). 0 with dir set to that folder; -1 with err (what could
 * not be moved, and why) and dir set: partly moved files are there. */
int resync_move_aside(const struct guicfg_paths *gp, time_t when,
    char *dir, size_t dirlen, char *err, size_t errlen);

#endif
