/* guisvr.c — the management database server (service "highAvailSvr").
 *
 * Owns the Berkeley DB environment in var/xdb and serves management records
 * to local tools (UNIX socket) and remote tools (TLS). Start order: parse
 * and check the config (and haSvr.cfg, when guiSvr.haConfig exists), refuse
 * unsafe file modes, drop to guiSvr.setuid, open the log, daemonize, open
 * the environment (recovery), start replication as a client, open the
 * ha-link through which hasvr gives the role, serve. */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "atomicfile.h"
#include "cfg.h"
#include "client.h"
#include "guicfg.h"
#include "hacfg.h"
#include "halink.h"
#include "halinksvr.h"
#include "hlstate.h"
#include "log.h"
#include "rep.h"
#include "store.h"
#include "util.h"
#include "config.h"

#define SUN_PATH_LEN sizeof(((struct sockaddr_un *)0)->sun_path)

static struct {
	struct cfg cfg;
	struct guicfg_paths paths;
	struct cfg hacfg;          /* haSvr.cfg, when ha_file */
	int ha_file;               /* guiSvr.haConfig exists */
	struct hacfg ha;           /* its view, when ha.enabled */
	char ha_off[600];          /* why HA is off, for the ha-link */
	struct rep *rep;           /* NULL: standalone */
	struct store store;
	struct event_base *base;
	struct event *panic_ev;
	time_t started;
	const char *sync_name;
	int pidfile_written;
} g;

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: guisvr [-dnSv] [-f guiSvr.cfg]\n"
	    "  -f FILE  configuration file (default %s)\n"
	    "  -n       check the configuration and exit\n"
	    "  -d       stay in the foreground and log to stderr too\n"
	    "  -S       supervised (by hasvr): foreground, log to the log only\n"
	    "  -v       debug logging\n", GUICFG_DEFAULT_PATH);
	exit(2);
}

/* This node's role word for STATUS. */
static const char *
rep_role(void)
{
	struct hl_state st;

	if (g.rep == NULL)
		return "standalone";
	rep_state(g.rep, &st);
	return ha_role_word(st.role);
}

/* The STATUS reply's description of this server (client_opts.status_text);
 * safe from any thread. */
static int
guisvr_status_text(char *out, size_t outlen)
{
	return snprintf(out, outlen,
	    "server guisvr\nversion %s\npid %ld\nrole %s\n"
	    "uptime %lld\ndbHome %s\ntxnSync %s\n",
	    PACKAGE_VERSION, (long)getpid(), rep_role(),
	    (long long)(time(NULL) - g.started), g.paths.data, g.sync_name);
}

/* Read haSvr.cfg when guiSvr.haConfig names an existing file: its errors are
 * added to g.hacfg, reported like those of guiSvr.cfg. No file: standalone. */
static void
ha_config_load(void)
{
	const char *path = cfg_str(&g.cfg, "guiSvr.haConfig");
	char err[HASVR_ERRLEN];
	struct stat st;

	if (stat(path, &st) == -1 && errno == ENOENT) {
		snprintf(g.ha_off, sizeof(g.ha_off), "no %s (guiSvr.haConfig)",
		    path);
		return;
	}
	g.ha_file = 1;
	hacfg_load(&g.hacfg, path);
	/* it holds highAvail.HMACKey */
	if (g.hacfg.nerrors == 0 && util_check_private(path, err, sizeof(err)) != 0)
		cfg_add_error(&g.hacfg, 0, "%s", err);
	if (g.hacfg.nerrors == 0)
		hacfg_check_keys(&g.hacfg);   /* highAvail.tlsKeyFile */
	if (g.hacfg.nerrors != 0)
		return;
	hacfg_view(&g.hacfg, &g.ha);
	if (!g.ha.enabled)
		snprintf(g.ha_off, sizeof(g.ha_off), "highAvail.isHaEnabled is n "
		    "in %s", path);
}

static size_t
config_errors(void)
{
	return g.cfg.nerrors + (g.ha_file ? g.hacfg.nerrors : 0);
}

static void
config_free(void)
{
	cfg_free(&g.cfg);
	if (g.ha_file)
		cfg_free(&g.hacfg);
}

/* Berkeley DB calls this from whichever thread saw the panic. */
static void
on_panic(void *arg)
{
	(void)arg;
	event_active(g.panic_ev, EV_READ, 0);
}

static void
panic_cb(evutil_socket_t fd, short what, void *arg)
{
	uint64_t first, last;
	char why[64];

	(void)fd; (void)what; (void)arg;
	if (dbenv_write_fault(&g.store.env, &first, &last, why, sizeof(why)) &&
	    util_now_ms() - last < DBENV_FAULT_GAP_MS) {
		/* the disk refused a write: nothing is damaged, recovery at
		 * the next start (once there is space) brings it back */
		log_errx("exiting: the Berkeley DB environment in %s stopped "
		    "because the disk refused a write (%s); free space on the "
		    "file systems of %s and %s — recovery runs at the next "
		    "start and nothing committed is lost", g.paths.data, why,
		    g.paths.data, g.paths.log);
		if (g.pidfile_written)
			unlink(g.paths.pidfile);
		_exit(GUISVR_EXIT_DISK);
	}
	log_errx("exiting: the Berkeley DB environment in %s panicked; restart guisvr "
	    "to run recovery, and if that fails follow the resync procedure", g.paths.data);
	if (g.pidfile_written)
		unlink(g.paths.pidfile);
	/* closing a panicked environment can only fail: leave it to recovery */
	_exit(1);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what; (void)arg;
	if (sig == SIGHUP) {
		log_info("received SIGHUP: guiSvr.cfg is read at start only; "
		    "restart guisvr to apply changes");
		return;
	}
	log_info("received signal %d (%s), shutting down", (int)sig, strsignal(sig));
	event_base_loopbreak(g.base);
}

/* Drop to guiSvr.setuid when started as root. */
static int
drop_privileges(const char *user, char *err, size_t errlen)
{
	struct passwd *pw;

	if (user[0] == '\0')
		return guicfg_make_dirs(&g.paths, (uid_t)-1, (gid_t)-1, err,
		    errlen);
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(err, errlen, "guiSvr.setuid: no such user '%s'", user);
		return -1;
	}
	if (geteuid() != 0) {
		if (geteuid() != pw->pw_uid) {
			snprintf(err, errlen, "guiSvr.setuid is '%s' but guisvr runs as uid %ld "
			    "and cannot change user: start it as root or as %s",
			    user, (long)geteuid(), user);
			return -1;
		}
		return guicfg_make_dirs(&g.paths, (uid_t)-1, (gid_t)-1, err,
		    errlen);
	}
	if (guicfg_make_dirs(&g.paths, pw->pw_uid, pw->pw_gid, err, errlen) != 0)
		return -1;
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		snprintf(err, errlen, "cannot switch to user %s: %s", user, strerror(errno));
		return -1;
	}
	if (pw->pw_uid != 0 && setuid(0) == 0) {
		snprintf(err, errlen, "could regain root after switching to %s", user);
		return -1;
	}
	return 0;
}


int
main(int argc, char *argv[])
{
	const char *cfgfile = GUICFG_DEFAULT_PATH;
	int ch, checkonly = 0, foreground = 0, supervised = 0, verbose = 0;
	char err[HASVR_ERRLEN];
	char *secret = NULL;
	struct log_opts lo;
	struct dbenv_opts dbo;
	struct client_opts co;
	struct clientsvc *cs;
	struct halinksvr_opts ho;
	struct halinksvr *hls;
	struct event *sigs[3];
	int signos[3] = { SIGTERM, SIGINT, SIGHUP };
	int i;

	while ((ch = getopt(argc, argv, "df:hnSv")) != -1) {
		switch (ch) {
		case 'd': foreground = 1; break;
		case 'S': foreground = supervised = 1; break;
		case 'f': cfgfile = optarg; break;
		case 'n': checkonly = 1; break;
		case 'v': verbose = 1; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();

	guicfg_load(&g.cfg, cfgfile);
	if (g.cfg.nerrors == 0 &&
	    guicfg_paths(&g.cfg, &g.paths, err, sizeof(err)) != 0)
		cfg_add_error(&g.cfg, 0, "%s", err);
	/* secrets and their config never readable by others; -n says so too,
	 * since the daemon would refuse to start */
	if (g.cfg.nerrors == 0 && util_check_private(cfgfile, err, sizeof(err)) != 0)
		cfg_add_error(&g.cfg, 0, "%s", err);
	if (g.cfg.nerrors == 0 && cfg_isset(&g.cfg, "guiSvr.clientKeyFile") &&
	    (secret = util_read_key(cfg_str(&g.cfg, "guiSvr.clientKeyFile"), 16,
	    err, sizeof(err))) == NULL)
		cfg_add_error(&g.cfg, cfg_line(&g.cfg, "guiSvr.clientKeyFile"),
		    "guiSvr.clientKeyFile: %s", err);
	/* the ha-link socket must fit sun_path, like the client socket */
	if (g.cfg.nerrors == 0 && strlen(g.paths.halink) >= SUN_PATH_LEN)
		cfg_add_error(&g.cfg, cfg_line(&g.cfg, "guiSvr.varDir"),
		    "UNIX socket path '%s' is too long (%zu characters, at most "
		    "%zu): use a shorter guiSvr.varDir", g.paths.halink,
		    strlen(g.paths.halink), SUN_PATH_LEN - 1);
	if (g.cfg.nerrors == 0)
		ha_config_load();
	if (config_errors() || checkonly) {
		if (secret) {
			explicit_bzero(secret, strlen(secret));
			free(secret);
		}
		if (config_errors() == 0) {
			printf("configuration OK\n");
			config_free();
			return 0;
		}
		if (!checkonly)
			fprintf(stderr, "guisvr: refusing to start:\n");
		cfg_print_errors(&g.cfg);
		if (g.ha_file)
			cfg_print_errors(&g.hacfg);
		config_free();
		return 1;
	}
	if (drop_privileges(cfg_str(&g.cfg, "guiSvr.setuid"), err, sizeof(err)) != 0) {
		fprintf(stderr, "guisvr: refusing to start: %s\n", err);
		return 1;
	}

	memset(&lo, 0, sizeof(lo));
	lo.path = g.paths.errlog;
	lo.maxsize = (size_t)cfg_num(&g.cfg, "guiSvr.logMaxSize");
	lo.keep = (int)cfg_num(&g.cfg, "guiSvr.logKeep");
	lo.use_syslog = cfg_bool(&g.cfg, "guiSvr.syslog");
	lo.ident = "guisvr";
	lo.level = (enum log_level)cfg_num(&g.cfg, "guiSvr.logLevel");
	if (verbose || cfg_bool(&g.cfg, "guiSvr.debug"))
		lo.level = LOG_LVL_DEBUG;
	lo.also_stderr = foreground && !supervised;
	if (log_open(&lo, err, sizeof(err)) != 0) {
		fprintf(stderr, "guisvr: cannot open the log: %s\n", err);
		return 1;
	}
	if (!foreground)
		if (util_daemonize() != 0)
			fatal("cannot detach (fork/setsid)");
	g.started = time(NULL);
	log_info("guisvr %s starting (pid %ld, config %s)", PACKAGE_VERSION,
	    (long)getpid(), cfgfile);
	if (g.ha.enabled) {
		log_info("read highAvail.heartbeatPort; myAddr = %s",
		    g.ha.nodes[g.ha.self].addr);
		for (i = 0; i < g.ha.nnodes; i++)
			if (i != g.ha.self)
				log_info("read highAvail.heartbeatPort; peerAddr = %s",
				    g.ha.nodes[i].addr);
	} else
		log_info("%s: running standalone", g.ha_off);
	if (util_pidfile_claim(g.paths.pidfile, "guisvr", err, sizeof(err)) != 0)
		fatalx("%s", err);
	g.pidfile_written = 1;

	signal(SIGPIPE, SIG_IGN);
	if (evthread_use_pthreads() != 0)
		fatalx("libevent without thread support");
	if ((g.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	if ((g.panic_ev = event_new(g.base, -1, 0, panic_cb, NULL)) == NULL)
		fatalx("event_new failed");

	dbenv_opts_from_cfg(&dbo, &g.cfg, &g.paths);
	g.sync_name = cfg_str(&g.cfg, "guiSvr.txnSync");
	dbo.on_panic = on_panic;
	dbo.replication = g.ha.enabled;
	if (store_open(&g.store, &dbo, (size_t)cfg_num(&g.cfg, "guiSvr.maxRecordSize"),
	    err, sizeof(err)) != 0) {
		log_errx("cannot open the database: %s", err);
		unlink(g.paths.pidfile);
		return g.store.env.open_tempfail ? GUISVR_EXIT_DISK : 1;
	}
	g.store.max_batch_ops = 100000;
	log_info("database environment %s open (recovery done, txnSync %s)",
	    g.paths.data, g.sync_name);
	if (g.ha.enabled && (g.rep = rep_start(&g.store, &g.ha, g.paths.xdb,
	    PACKAGE_VERSION, err, sizeof(err))) == NULL) {
		log_errx("cannot start replication: %s", err);
		store_close(&g.store);
		unlink(g.paths.pidfile);
		return 1;
	}
	/* also standalone: hasvr then learns the role is "standalone" */
	memset(&ho, 0, sizeof(ho));
	ho.path = g.paths.halink;
	ho.rep = g.rep;
	ho.off_reason = g.ha_off;
	if ((hls = halinksvr_start(&ho, err, sizeof(err))) == NULL) {
		log_errx("cannot start the ha-link: %s", err);
		if (g.rep != NULL)
			rep_stop(g.rep);
		store_close(&g.store);
		unlink(g.paths.pidfile);
		return 1;
	}

	memset(&co, 0, sizeof(co));
	co.sock_path = g.paths.sock;
	co.listen_addr = cfg_isset(&g.cfg, "guiSvr.listenAddr") ?
	    cfg_str(&g.cfg, "guiSvr.listenAddr") : NULL;
	co.listen_port = (int)cfg_num(&g.cfg, "guiSvr.listenPort");
	co.secret = secret;
	co.workers = (int)cfg_num(&g.cfg, "guiSvr.workerThreads");
	co.max_frame = (size_t)cfg_num(&g.cfg, "guiSvr.maxRequestSize");
	co.max_clients = (int)cfg_num(&g.cfg, "guiSvr.maxClients");
	co.idle_timeout_secs = (int)(cfg_num(&g.cfg, "guiSvr.idleTimeout") / 1000);
	co.status_text = guisvr_status_text;
	if ((cs = client_start(&g.store, &co, err, sizeof(err))) == NULL) {
		log_errx("cannot start the client service: %s", err);
		halinksvr_stop(hls);
		if (g.rep != NULL)
			rep_stop(g.rep);
		store_close(&g.store);
		unlink(g.paths.pidfile);
		return 1;
	}
	for (i = 0; i < 3; i++) {
		sigs[i] = evsignal_new(g.base, signos[i], signal_cb, NULL);
		if (sigs[i] == NULL || evsignal_add(sigs[i], NULL) != 0)
			fatalx("cannot install signal handlers");
	}
	log_info("guisvr ready");
	event_base_dispatch(g.base);

	client_stop(cs);
	halinksvr_stop(hls);
	if (g.rep != NULL)
		rep_stop(g.rep);
	g.rep = NULL;
	store_close(&g.store);
	for (i = 0; i < 3; i++)
		event_free(sigs[i]);
	event_free(g.panic_ev);
	event_base_free(g.base);
	if (secret) {
		explicit_bzero(secret, strlen(secret));
		free(secret);
	}
	unlink(g.paths.pidfile);
	log_info("guisvr stopped");
	log_close();
	config_free();
	return 0;
}
