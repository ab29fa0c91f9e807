/* guicfg.h — the keys of guiSvr.cfg, shared by guisvr and the tools that
 * need to find it (xdb finds the client socket through it). */
#ifndef HASVR_GUICFG_H
#define HASVR_GUICFG_H

#include <sys/types.h>

#include "cfg.h"

extern const struct cfg_key guicfg_keys[];
extern const size_t guicfg_nkeys;

/* Default config path: SYSCONFDIR "/guiSvr.cfg". */
#define GUICFG_DEFAULT_PATH SYSCONFDIR "/guiSvr.cfg"

/* Checks across keys after cfg_parse_file (e.g. guiSvr.listenAddr needs
 * guiSvr.clientKeyFile); adds errors to c. Returns c->nerrors. */
int guicfg_check(struct cfg *c);

/* cfg_init with guicfg_keys, cfg_parse_file(path), then guicfg_check: what
 * `guisvr -n -f path` reports. Returns c->nerrors; c must be cfg_free'd. */
int guicfg_load(struct cfg *c, const char *path);

/* Derived paths under guiSvr.varDir. */
struct guicfg_paths {
	char vardir[1024];
	char xdb[1024];       /* var/xdb */
	char data[1024];      /* var/xdb/data: DB_HOME (databases, DB_CONFIG, region files) */
	char log[1024];       /* var/xdb/log       (transaction logs) */
	char init[1024];      /* var/xdb/init      (replication metadata: set_metadata_dir) */
	char errlog[1024];    /* var/errorLog/guiDaemon.0 */
	char rundir[1024];    /* var/run */
	char pidfile[1024];   /* var/run/guiSvr.pid */
	char sock[1024];      /* guiSvr.clientSocket, default var/run/guiSvr.sock */
	char halink[1024];    /* var/run/guiSvr.halink: the ha-link socket (its
	                       * length against sun_path is checked by guisvr) */
};
int guicfg_paths(const struct cfg *c, struct guicfg_paths *p, char *err, size_t errlen);

/* guisvr's runtime folders (varDir, xdb/{data,log,init}, run, errorLog),
 * created when missing (mode 0750). With uid not (uid_t)-1 (started as root
 * to run as uid) they become uid:gid's, all but varDir itself, and so do
 * what is already in xdb/data, xdb/log and xdb/init and guisvr's logs in
 * errorLog: `make install` leaves those root's (DB_CONFIG among them), a
 * run as root too, and Berkeley DB has to write them all. hasvr does it
 * before it drops to highAvail.setuid, since the guisvr it starts cannot;
 * guisvr when started as root. 0, or -1 with err filled. */
int guicfg_make_dirs(const struct guicfg_paths *p, uid_t uid, gid_t gid, char *err,
    size_t errlen);

#endif
