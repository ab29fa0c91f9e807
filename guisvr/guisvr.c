/* guisvr.c — the management database server (service "highAvailSvr").
 *
 * Owns the Berkeley DB environment in var/xdb and serves management records
 * to local tools (UNIX socket) and remote tools (TLS). Start order: parse
 * and check the config, refuse unsafe file modes, drop to guiSvr.setuid,
 * open the log, daemonize, open the environment (recovery), serve. */
#include <sys/types.h>
#include <sys/stat.h>
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
#include "guisvr.h"
#include "log.h"
#include "store.h"
#include "util.h"
#include "config.h"

static struct {
	struct cfg cfg;
	struct guicfg_paths paths;
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
	fprintf(stderr, "usage: guisvr [-dnv] [-f guiSvr.cfg]\n"
	    "  -f FILE  configuration file (default %s)\n"
	    "  -n       check the configuration and exit\n"
	    "  -d       stay in the foreground and log to stderr too\n"
	    "  -v       debug logging\n", GUICFG_DEFAULT_PATH);
	exit(2);
}

int
guisvr_status_text(char *out, size_t outlen)
{
	return snprintf(out, outlen,
	    "server guisvr\nversion %s\npid %ld\nrole standalone\n"
	    "uptime %lld\ndbHome %s\ntxnSync %s\n",
	    PACKAGE_VERSION, (long)getpid(), (long long)(time(NULL) - g.started),
	    g.paths.data, g.sync_name);
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
	(void)fd; (void)what; (void)arg;
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

/* Refuse to start twice on one var directory. */
static int
pidfile_claim(char *err, size_t errlen)
{
	char buf[32];
	size_t len;
	char *txt;
	long pid;

	if ((txt = util_read_file(g.paths.pidfile, 64, &len, buf, sizeof(buf))) != NULL) {
		pid = strtol(txt, NULL, 10);
		free(txt);
		if (pid > 0 && pid != getpid() && (kill(pid, 0) == 0 || errno == EPERM)) {
			snprintf(err, errlen, "guisvr is already running with pid %ld "
			    "(pid file %s)", pid, g.paths.pidfile);
			return -1;
		}
	}
	len = (size_t)snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (atomicfile_write(g.paths.pidfile, buf, len, 0644, err, errlen) != 0)
		return -1;
	g.pidfile_written = 1;
	return 0;
}

/* Create the runtime folders, owned by the daemon's user. */
static int
make_dirs(uid_t uid, gid_t gid, char *err, size_t errlen)
{
	const char *dirs[] = { g.paths.vardir, g.paths.xdb, g.paths.data, g.paths.log,
	    g.paths.init, g.paths.rundir, NULL };
	char errdir[1024];
	char *slash;
	int i;

	util_strlcpy(errdir, g.paths.errlog, sizeof(errdir));
	if ((slash = strrchr(errdir, '/')) != NULL)
		*slash = '\0';
	for (i = 0; dirs[i]; i++) {
		if (util_mkdirs(dirs[i], 0750, err, errlen) != 0)
			return -1;
		if (uid != (uid_t)-1 && i > 0 && chown(dirs[i], uid, gid) != 0) {
			snprintf(err, errlen, "chown %s: %s", dirs[i], strerror(errno));
			return -1;
		}
	}
	if (util_mkdirs(errdir, 0750, err, errlen) != 0)
		return -1;
	if (uid != (uid_t)-1 && chown(errdir, uid, gid) != 0) {
		snprintf(err, errlen, "chown %s: %s", errdir, strerror(errno));
		return -1;
	}
	return 0;
}

/* Drop to guiSvr.setuid when started as root. */
static int
drop_privileges(const char *user, char *err, size_t errlen)
{
	struct passwd *pw;

	if (user[0] == '\0') {
		if (make_dirs((uid_t)-1, (gid_t)-1, err, errlen) != 0)
			return -1;
		return 0;
	}
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
		return make_dirs((uid_t)-1, (gid_t)-1, err, errlen);
	}
	if (make_dirs(pw->pw_uid, pw->pw_gid, err, errlen) != 0)
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

static void
daemonize(void)
{
	pid_t pid;
	int fd;

	if ((pid = fork()) < 0)
		fatal("fork");
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		fatal("setsid");
	if ((pid = fork()) < 0)
		fatal("fork");
	if (pid > 0)
		_exit(0);
	if (chdir("/") != 0)
		fatal("chdir /");
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
}

int
main(int argc, char *argv[])
{
	const char *cfgfile = GUICFG_DEFAULT_PATH;
	int ch, checkonly = 0, foreground = 0, verbose = 0;
	char err[HASVR_ERRLEN];
	char *secret = NULL;
	struct log_opts lo;
	struct dbenv_opts dbo;
	struct client_opts co;
	struct clientsvc *cs;
	struct event *sigs[3];
	int signos[3] = { SIGTERM, SIGINT, SIGHUP };
	int i;

	while ((ch = getopt(argc, argv, "df:hnv")) != -1) {
		switch (ch) {
		case 'd': foreground = 1; break;
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
		cfg_add_error(&g.cfg, cfg_get(&g.cfg, "guiSvr.clientKeyFile")->line,
		    "guiSvr.clientKeyFile: %s", err);
	if (g.cfg.nerrors || checkonly) {
		if (secret) {
			explicit_bzero(secret, strlen(secret));
			free(secret);
		}
		if (g.cfg.nerrors == 0) {
			printf("configuration OK\n");
			cfg_free(&g.cfg);
			return 0;
		}
		if (!checkonly)
			fprintf(stderr, "guisvr: refusing to start:\n");
		cfg_print_errors(&g.cfg);
		cfg_free(&g.cfg);
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
	lo.also_stderr = foreground;
	if (log_open(&lo, err, sizeof(err)) != 0) {
		fprintf(stderr, "guisvr: cannot open the log: %s\n", err);
		return 1;
	}
	if (!foreground)
		daemonize();
	g.started = time(NULL);
	log_info("guisvr %s starting (pid %ld, config %s)", PACKAGE_VERSION,
	    (long)getpid(), cfgfile);
	if (pidfile_claim(err, sizeof(err)) != 0)
		fatalx("%s", err);

	signal(SIGPIPE, SIG_IGN);
	if (evthread_use_pthreads() != 0)
		fatalx("libevent without thread support");
	if ((g.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	if ((g.panic_ev = event_new(g.base, -1, 0, panic_cb, NULL)) == NULL)
		fatalx("event_new failed");

	memset(&dbo, 0, sizeof(dbo));
	dbo.data_dir = g.paths.data;
	dbo.log_dir = g.paths.log;
	dbo.init_dir = g.paths.init;
	dbo.cache_bytes = (size_t)cfg_num(&g.cfg, "guiSvr.cacheSize");
	dbo.sync = (enum dbenv_sync)cfg_num(&g.cfg, "guiSvr.txnSync");
	g.sync_name = cfg_str(&g.cfg, "guiSvr.txnSync");
	dbo.checkpoint_secs = (int)((cfg_num(&g.cfg, "guiSvr.checkpointInterval") + 999) / 1000);
	dbo.remove_logs = cfg_bool(&g.cfg, "guiSvr.removeLogs");
	dbo.on_panic = on_panic;
	if (store_open(&g.store, &dbo, (size_t)cfg_num(&g.cfg, "guiSvr.maxRecordSize"),
	    err, sizeof(err)) != 0) {
		log_errx("cannot open the database: %s", err);
		unlink(g.paths.pidfile);
		return 1;
	}
	g.store.max_batch_ops = 100000;
	log_info("database environment %s open (recovery done, txnSync %s)",
	    g.paths.data, g.sync_name);

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
	if ((cs = client_start(&g.store, &co, err, sizeof(err))) == NULL) {
		log_errx("cannot start the client service: %s", err);
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
	cfg_free(&g.cfg);
	return 0;
}
