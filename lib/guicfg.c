/* guicfg.c — the keys of guiSvr.cfg, the checks across them and the paths
 * derived from guiSvr.varDir. */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "guicfg.h"
#include "util.h"

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/opt/hasvr/var"
#endif
#ifndef SYSCONFDIR
#define SYSCONFDIR "/opt/hasvr/etc"
#endif

static const char *const txnsync_words[] = {
	"sync", "writenosync", "nosync", NULL
};
static const char *const loglevel_words[] = {
	"err", "warn", "notice", "info", "debug", NULL
};

#define K	1024LL
#define M	(1024LL * 1024)
#define G	(1024LL * 1024 * 1024)

const struct cfg_key guicfg_keys[] = {
	{ "guiSvr.setuid", CFG_STRING, "", 0, 32, NULL, 0,
	  "User the daemon runs as. Empty: keep the user that started it.\n"
	  "When started as root with this set, it drops to that user." },
	{ "guiSvr.varDir", CFG_PATH, LOCALSTATEDIR, 0, 0, NULL, 0,
	  "Runtime root: holds xdb/ (database), errorLog/ (guiDaemon.0) and run/." },
	{ "guiSvr.haConfig", CFG_PATH, SYSCONFDIR "/haSvr.cfg", 0, 0, NULL, 0,
	  "haSvr.cfg of this node (mode 600: it holds highAvail.HMACKey).\n"
	  "guisvr reads the node addresses, the replication port and key and\n"
	  "the durability from it. No such file: guisvr runs standalone." },
	{ "guiSvr.clientSocket", CFG_PATH, NULL, 0, 0, NULL, 0,
	  "UNIX socket for local clients such as xdb (at most 107 characters).\n"
	  "Unset: varDir/run/guiSvr.sock." },
	{ "guiSvr.listenAddr", CFG_ADDR, NULL, 0, 0, NULL, 0,
	  "Address of the TCP+TLS client service. Unset: the service is off.\n"
	  "Needs guiSvr.clientKeyFile." },
	{ "guiSvr.listenPort", CFG_PORT, "7801", 0, 0, NULL, 0,
	  "TCP port of the TLS client service." },
	{ "guiSvr.clientKeyFile", CFG_PATH, NULL, 0, 0, NULL, 0,
	  "File (mode 600) holding the secret that TLS clients must know.\n"
	  "Required when guiSvr.listenAddr is set." },
	{ "guiSvr.workerThreads", CFG_INT, "8", 1, 64, NULL, 0,
	  "Threads that run database requests." },
	{ "guiSvr.maxClients", CFG_INT, "256", 1, 10000, NULL, 0,
	  "Client connections served at once; more are refused." },
	{ "guiSvr.maxRecordSize", CFG_SIZE, "1M", 1 * K, 16 * M, NULL, 0,
	  "Largest record a client may store." },
	{ "guiSvr.maxRequestSize", CFG_SIZE, "4M", 4 * K, 64 * M, NULL, 0,
	  "Largest client request; at least guiSvr.maxRecordSize + 4K." },
	{ "guiSvr.idleTimeout", CFG_DURATION, "0", 0, 86400000, NULL, 0,
	  "Close a client connection idle this long. 0: never." },
	{ "guiSvr.cacheSize", CFG_SIZE, "32M", 1 * M, 4 * G, NULL, 0,
	  "Berkeley DB cache size." },
	{ "guiSvr.txnSync", CFG_ENUM, "sync", 0, 0, txnsync_words, 0,
	  "Local commit durability: sync (fsync each commit), writenosync\n"
	  "(survives a crash of the daemon, not of the machine), nosync." },
	{ "guiSvr.checkpointInterval", CFG_DURATION, "60s", 1000, 3600000, NULL, 0,
	  "Time between database checkpoints." },
	{ "guiSvr.removeLogs", CFG_BOOL, "y", 0, 0, NULL, 0,
	  "Remove transaction logs no longer needed after a checkpoint." },
	{ "guiSvr.logLevel", CFG_ENUM, "info", 0, 0, loglevel_words, 0,
	  "Lowest level written to errorLog/guiDaemon.0." },
	{ "guiSvr.debug", CFG_BOOL, "n", 0, 0, NULL, 0,
	  "Debug mode: log at debug level too (replication peers coming and going, ignored messages)." },
	{ "guiSvr.logMaxSize", CFG_SIZE, "10M", 64 * K, 1 * G, NULL, 0,
	  "Rotate guiDaemon.0 to guiDaemon.1 when it reaches this size." },
	{ "guiSvr.logKeep", CFG_INT, "5", 1, 100, NULL, 0,
	  "Rotated logs kept: guiDaemon.1 ... guiDaemon.N." },
	{ "guiSvr.syslog", CFG_BOOL, "n", 0, 0, NULL, 0,
	  "Also send log lines to syslog (facility daemon)." },
};
const size_t guicfg_nkeys = sizeof(guicfg_keys) / sizeof(guicfg_keys[0]);

/* The line to blame for an error about a key: where it was set, else 0. */

int
guicfg_check(struct cfg *c)
{
	struct guicfg_paths p;
	char err[HASVR_ERRLEN];
	long long rec, req;
	int line;

	if (cfg_isset(c, "guiSvr.listenAddr") &&
	    !cfg_isset(c, "guiSvr.clientKeyFile"))
		cfg_add_error(c, cfg_line(c, "guiSvr.listenAddr"),
		    "guiSvr.listenAddr is set but guiSvr.clientKeyFile is not "
		    "(set it to a private file holding the client secret, or "
		    "remove guiSvr.listenAddr)");

	rec = cfg_num(c, "guiSvr.maxRecordSize");
	req = cfg_num(c, "guiSvr.maxRequestSize");
	if (req < rec + 4 * K) {
		line = cfg_line(c, "guiSvr.maxRequestSize");
		if (line == 0)
			line = cfg_line(c, "guiSvr.maxRecordSize");
		cfg_add_error(c, line, "guiSvr.maxRequestSize (%s) must be at "
		    "least guiSvr.maxRecordSize (%s) + 4K: raise "
		    "guiSvr.maxRequestSize to %lldK or more",
		    cfg_str(c, "guiSvr.maxRequestSize"),
		    cfg_str(c, "guiSvr.maxRecordSize"), (rec + 4 * K + K - 1) / K);
	}

	/* A path that cannot be used must fail here, not at start-up. */
	if (guicfg_paths(c, &p, err, sizeof(err)) == -1) {
		line = cfg_line(c, "guiSvr.clientSocket");
		if (line == 0 || strstr(err, "guiSvr.clientSocket") == NULL)
			line = cfg_line(c, "guiSvr.varDir");
		cfg_add_error(c, line, "%s", err);
	}
	return (int)c->nerrors;
}

int
guicfg_load(struct cfg *c, const char *path)
{
	cfg_init(c, guicfg_keys, guicfg_nkeys);
	cfg_parse_file(c, path);
	/* Cross-key checks run even after parse errors, so one pass shows
	 * everything; a key with a bad value keeps its default meanwhile. */
	return guicfg_check(c);
}

/* out = vardir/name, with an error naming the key when it cannot fit. */
static int
join(char *out, size_t outlen, const char *vardir, const char *name,
    char *err, size_t errlen)
{
	if (util_path_join(out, outlen, vardir, name) == -1) {
		snprintf(err, errlen, "guiSvr.varDir is too long (%zu "
		    "characters): the path of %s under it would exceed %zu "
		    "characters", strlen(vardir), name, outlen - 1);
		return -1;
	}
	return 0;
}

int
guicfg_paths(const struct cfg *c, struct guicfg_paths *p, char *err,
    size_t errlen)
{
	const char *vardir = cfg_str(c, "guiSvr.varDir");
	const char *sock = cfg_str(c, "guiSvr.clientSocket");
	struct sockaddr_un sun;
	size_t len;

	memset(p, 0, sizeof(*p));
	if (vardir[0] != '/') {
		snprintf(err, errlen, "guiSvr.varDir '%s' is not an absolute path",
		    vardir);
		return -1;
	}
	if (util_strlcpy(p->vardir, vardir, sizeof(p->vardir)) >=
	    sizeof(p->vardir)) {
		snprintf(err, errlen, "guiSvr.varDir is too long (%zu "
		    "characters, at most %zu)", strlen(vardir),
		    sizeof(p->vardir) - 1);
		return -1;
	}
	if (join(p->xdb, sizeof(p->xdb), vardir, "xdb", err, errlen) == -1 ||
	    join(p->data, sizeof(p->data), vardir, "xdb/data", err,
	    errlen) == -1 ||
	    join(p->log, sizeof(p->log), vardir, "xdb/log", err, errlen) == -1 ||
	    join(p->init, sizeof(p->init), vardir, "xdb/init", err,
	    errlen) == -1 ||
	    join(p->errlog, sizeof(p->errlog), vardir, "errorLog/guiDaemon.0",
	    err, errlen) == -1 ||
	    join(p->rundir, sizeof(p->rundir), vardir, "run", err,
	    errlen) == -1 ||
	    join(p->pidfile, sizeof(p->pidfile), vardir, "run/guiSvr.pid", err,
	    errlen) == -1 ||
	    join(p->halink, sizeof(p->halink), vardir, "run/guiSvr.halink", err,
	    errlen) == -1)
		return -1;
	if (sock[0] != '\0') {
		if (util_strlcpy(p->sock, sock, sizeof(p->sock)) >=
		    sizeof(p->sock)) {
			snprintf(err, errlen, "guiSvr.clientSocket is too long");
			return -1;
		}
	} else if (join(p->sock, sizeof(p->sock), vardir, "run/guiSvr.sock",
	    err, errlen) == -1)
		return -1;
	/* The kernel limits UNIX socket paths to sun_path, NUL included. */
	if ((len = strlen(p->sock)) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "UNIX socket path '%s' is too long (%zu "
		    "characters, at most %zu): %s", p->sock, len,
		    sizeof(sun.sun_path) - 1, sock[0] != '\0' ?
		    "set guiSvr.clientSocket to a shorter path" :
		    "set guiSvr.clientSocket to a shorter path or use a "
		    "shorter guiSvr.varDir");
		return -1;
	}
	return 0;
}

int
guicfg_make_dirs(const struct guicfg_paths *p, uid_t uid, gid_t gid, char *err,
    size_t errlen)
{
	const char *dirs[] = { p->vardir, p->xdb, p->data, p->log, p->init,
	    p->rundir, NULL, NULL };
	const char *own[] = { p->data, p->log, p->init };
	char errdir[sizeof(p->errlog)], logprefix[64], *slash;
	size_t i, n;

	/* errorLog/ and the names of the rotated logs: "guiDaemon." */
	util_strlcpy(errdir, p->errlog, sizeof(errdir));
	if ((slash = strrchr(errdir, '/')) != NULL)
		*slash = '\0';
	dirs[6] = errdir;
	util_strlcpy(logprefix, slash != NULL ? slash + 1 : p->errlog,
	    sizeof(logprefix));
	n = strlen(logprefix);
	while (n > 0 && logprefix[n - 1] >= '0' && logprefix[n - 1] <= '9')
		logprefix[--n] = '\0';

	for (i = 0; dirs[i] != NULL; i++) {
		if (util_mkdirs(dirs[i], 0750, err, errlen) != 0)
			return -1;
		if (uid != (uid_t)-1 && i > 0 && chown(dirs[i], uid, gid) != 0) {
			snprintf(err, errlen, "chown %s: %s", dirs[i], strerror(errno));
			return -1;
		}
	}
	if (uid == (uid_t)-1)
		return 0;
	for (i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (util_chown_entries(own[i], NULL, uid, gid, err, errlen) != 0)
			return -1;
	return util_chown_entries(errdir, logprefix, uid, gid, err, errlen);
}
