/* hasvr.c — the HA daemon (service "highAvail"): start-up, the role tick
 * and shutdown. See hasvr.h for how the modules fit together.
 *
 *   hasvr [-d] [-n] [-v] [-f haSvr.cfg]
 *     -d  stay in the foreground, log to stderr too
 *     -n  check haSvr.cfg and the guiSvr.cfg it names, print
 *         "configuration OK" or every error as file:line: message
 *     -v  log at debug level
 *
 * Files (under highAvail.varDir): errorLog/ha.log, run/haSvr.pid,
 * run/haSvr.sock (control socket), haSvr.state (epoch and last role). */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/rand.h>

#include "config.h"
#include "etcd.h"
#include "hactl.h"
#include "hasvr.h"
#include "util.h"

#define TICK_MS 20
#define STATE_NAME "haSvr.state"
#define PID_NAME "haSvr.pid"
#define LOG_NAME "ha.log"

struct ha ha;

static void
usage(void)
{
	fprintf(stderr, "usage: hasvr [-d] [-n] [-v] [-f haSvr.cfg]\n"
	    "  -d  foreground (log to stderr too)   -n  check the configuration\n"
	    "  -v  debug logging                    -f  config (default %s)\n",
	    HACFG_DEFAULT_PATH);
	exit(2);
}

/* ---- configuration ---- */

static int
same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (stat(a, &sa) == -1 || stat(b, &sb) == -1)
		return strcmp(a, b) == 0;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Load haSvr.cfg and the guiSvr.cfg it names; every problem becomes an
 * error in h->cfg (or h->gcfg). Returns the number of errors. */
static int
load_config(struct ha *h)
{
	char err[HASVR_ERRLEN];
	const char *gu, *hu;
	int n;

	hacfg_load(&h->cfg, h->cfgfile);
	if (h->cfg.nerrors == 0 && util_check_private(h->cfgfile, err,
	    sizeof(err)) != 0)
		cfg_add_error(&h->cfg, 0, "%s", err);
	if (h->cfg.nerrors == 0)
		hacfg_check_keys(&h->cfg);
	if (h->cfg.nerrors > 0)
		return (int)h->cfg.nerrors;
	hacfg_view(&h->cfg, &h->hc);
	if (!h->hc.enabled) {
		cfg_add_error(&h->cfg, cfg_get(&h->cfg,
		    "highAvail.isHaEnabled")->line, "highAvail.isHaEnabled is n: "
		    "hasvr has nothing to do (set it to y on every node, or run "
		    "guisvr on its own)");
		return (int)h->cfg.nerrors;
	}
	util_strlcpy(h->guisvr_cfg, cfg_str(&h->cfg, "highAvail.guiSvrConfig"),
	    sizeof(h->guisvr_cfg));
	util_strlcpy(h->guisvr_prog, cfg_str(&h->cfg,
	    "highAvail.guiSvrProgram"), sizeof(h->guisvr_prog));
	if (access(h->guisvr_prog, X_OK) != 0)
		cfg_add_error(&h->cfg, cfg_get(&h->cfg,
		    "highAvail.guiSvrProgram")->line, "highAvail.guiSvrProgram "
		    "%s: %s", h->guisvr_prog, strerror(errno));
	if (cfg_bool(&h->cfg, "highAvail.fileSync") &&
	    access(cfg_str(&h->cfg, "highAvail.fileSyncProgram"), X_OK) != 0)
		cfg_add_error(&h->cfg, cfg_get(&h->cfg,
		    "highAvail.fileSyncProgram")->line, "highAvail.fileSyncProgram "
		    "%s: %s (install it, or set highAvail.fileSync n)",
		    cfg_str(&h->cfg, "highAvail.fileSyncProgram"), strerror(errno));
	n = guicfg_load(&h->gcfg, h->guisvr_cfg);
	if (n == 0 && guicfg_paths(&h->gcfg, &h->gp, err, sizeof(err)) != 0) {
		cfg_add_error(&h->gcfg, 0, "%s", err);
		n++;
	}
	/* guisvr refuses these at start: say so here, where -n is run */
	if (n == 0 && util_check_private(h->guisvr_cfg, err, sizeof(err)) != 0) {
		cfg_add_error(&h->gcfg, 0, "%s", err);
		n++;
	}
	if (n == 0 && cfg_check_private(&h->gcfg, "guiSvr.clientKeyFile", 1) != 0)
		n++;
	if (n > 0)
		return (int)h->cfg.nerrors + n;
	if (!same_file(cfg_str(&h->gcfg, "guiSvr.haConfig"), h->cfgfile))
		cfg_add_error(&h->gcfg, cfg_line(&h->gcfg, "guiSvr.haConfig"),
		    "guiSvr.haConfig is %s, but hasvr runs with %s: guisvr must "
		    "read the same haSvr.cfg", cfg_str(&h->gcfg, "guiSvr.haConfig"),
		    h->cfgfile);
	gu = cfg_str(&h->gcfg, "guiSvr.setuid");
	hu = cfg_str(&h->cfg, "highAvail.setuid");
	if (strcmp(gu, hu) != 0 && gu[0] != '\0')
		cfg_add_error(&h->cfg, cfg_line(&h->cfg, "highAvail.setuid"),
		    "highAvail.setuid is '%s' but guiSvr.setuid in %s is '%s': "
		    "both daemons run as the same user", hu, h->guisvr_cfg, gu);
	return (int)(h->cfg.nerrors + h->gcfg.nerrors);
}

static void
make_paths(struct ha *h)
{
	util_strlcpy(h->vardir, cfg_str(&h->cfg, "highAvail.varDir"),
	    sizeof(h->vardir));
	util_path_join(h->rundir, sizeof(h->rundir), h->vardir, "run");
	snprintf(h->logpath, sizeof(h->logpath), "%s/errorLog/%s", h->vardir,
	    LOG_NAME);
	util_path_join(h->ctlpath, sizeof(h->ctlpath), h->rundir,
	    HACTL_SOCKET_NAME);
	util_path_join(h->pidfile, sizeof(h->pidfile), h->rundir, PID_NAME);
	util_path_join(h->statefile, sizeof(h->statefile), h->vardir,
	    STATE_NAME);
}

/* Create varDir, run/ and errorLog/ (owned by the daemon's user) and drop
 * to highAvail.setuid when started as root. */
static int
setup_user(struct ha *h, char *err, size_t errlen)
{
	char errdir[1100];
	const char *dirs[] = { h->vardir, h->rundir, errdir, NULL };
	struct passwd *pw = NULL;
	int i;

	snprintf(errdir, sizeof(errdir), "%s/errorLog", h->vardir);
	if (h->user[0] != '\0' && (pw = getpwnam(h->user)) == NULL) {
		snprintf(err, errlen, "highAvail.setuid: no such user '%s'",
		    h->user);
		return -1;
	}
	if (pw != NULL && geteuid() != 0 && geteuid() != pw->pw_uid) {
		snprintf(err, errlen, "highAvail.setuid is '%s' but hasvr runs as "
		    "uid %ld and cannot change user: start it as root or as %s",
		    h->user, (long)geteuid(), h->user);
		return -1;
	}
	for (i = 0; dirs[i] != NULL; i++) {
		if (util_mkdirs(dirs[i], 0750, err, errlen) != 0)
			return -1;
		if (pw != NULL && geteuid() == 0 &&
		    chown(dirs[i], pw->pw_uid, pw->pw_gid) != 0) {
			snprintf(err, errlen, "chown %s: %s", dirs[i],
			    strerror(errno));
			return -1;
		}
	}
	/* the guisvr started below runs as the user too and cannot take
	 * its folders over from root (make install, a run as root) */
	if (pw != NULL && geteuid() == 0 &&
	    guicfg_make_dirs(&h->gp, pw->pw_uid, pw->pw_gid, err, errlen) != 0)
		return -1;
	if (pw != NULL && geteuid() == 0 && pw->pw_uid != 0) {
		if (initgroups(pw->pw_name, pw->pw_gid) != 0 ||
		    setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
			snprintf(err, errlen, "cannot switch to user %s: %s",
			    h->user, strerror(errno));
			return -1;
		}
		if (setuid(0) == 0) {
			snprintf(err, errlen, "could regain root after switching "
			    "to %s", h->user);
			return -1;
		}
	}
	h->uid = geteuid();
	return 0;
}



/* ---- event loop ---- */

/* The arbiter's thread learned something: decide now. */
static void
on_arbiter(evutil_socket_t fd, short what, void *arg)
{
	char buf[64];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	ha_tick_schedule(arg);
}

static void
start_arbiter(struct ha *h)
{
	char err[HASVR_ERRLEN];

	h->arb_pipe[0] = h->arb_pipe[1] = -1;
	h->syncset_sent = -1;
	if (h->hc.arbiter != HA_ARBITER_ETCD)
		return;
	if (etcd_global_init() != 0)
		fatalx("arbiter: libcurl cannot start");
	if (pipe2(h->arb_pipe, O_NONBLOCK | O_CLOEXEC) == -1)
		fatal("arbiter: pipe");
	if ((h->arb_ev = event_new(h->base, h->arb_pipe[0], EV_READ |
	    EV_PERSIST, on_arbiter, h)) == NULL || event_add(h->arb_ev,
	    NULL) != 0)
		fatalx("event_new failed");
	if ((h->arb = arbiter_start(&h->hc, h->arb_pipe[1], err,
	    sizeof(err))) == NULL)
		fatalx("arbiter: %s", err);
}

static void
stop_arbiter(struct ha *h)
{
	if (h->arb == NULL)
		return;
	arbiter_stop(h->arb);       /* releases the leader key */
	h->arb = NULL;
	event_free(h->arb_ev);
	close(h->arb_pipe[0]);
	close(h->arb_pipe[1]);
	etcd_global_cleanup();
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	ha_tick(arg);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct ha *h = arg;
	int status;
	pid_t pid;

	(void)what;
	switch (sig) {
	case SIGCHLD:
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			if (!svr_reap(h->svr, pid, status) &&
			    !filesync_reap(h->fs, pid, status))
				ping_reap(h->ping, pid, status);
		}
		return;
	case SIGHUP:
		log_info("SIGHUP: nothing to reload (restart hasvr to read "
		    "haSvr.cfg again)");
		return;
	default:
		log_notice("signal %d: stopping", (int)sig);
		event_base_loopbreak(h->base);
	}
}

static struct event *
timer(struct ha *h, uint64_t ms, event_callback_fn fn)
{
	struct timeval tv;
	struct event *ev;

	if ((ev = event_new(h->base, -1, EV_PERSIST, fn, h)) == NULL)
		fatalx("event_new failed");
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	event_add(ev, &tv);
	return ev;
}

static void
build_string(struct ha *h)
{
	const char *tag = getenv("HASVR_BUILD_TAG");

	snprintf(h->build, sizeof(h->build), "hasvr %s%s%s", PACKAGE_VERSION,
	    tag != NULL && tag[0] != '\0' ? "+" : "", tag != NULL ? tag : "");
}

static void
start_roles(struct ha *h)
{
	struct role_config rc;
	char err[HASVR_ERRLEN];
	int i;

	memset(&rc, 0, sizeof(rc));
	for (i = 0; i < h->hc.nnodes && i < ROLE_MAX_NODES; i++) {
		rc.nodes[i].eid = h->hc.nodes[i].eid;
		rc.nodes[i].pref = h->hc.nodes[i].preferred;
	}
	rc.nnodes = h->hc.nnodes;
	rc.self = h->hc.self;
	rc.dead_ms = (uint64_t)cfg_num(&h->cfg, "highAvail.deadInterval");
	rc.start_wait_ms = (uint64_t)cfg_num(&h->cfg, "highAvail.startWait");
	rc.keep_acked = h->hc.durability != HA_ASYNC;
	rc.state_path = h->statefile;
	if ((h->sw = statewriter_new(h->statefile, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	rc.persist = statewriter_submit;
	rc.persist_arg = h->sw;
	/* candidacy rounds differ across restarts (role.h, Votes) */
	if (RAND_bytes((unsigned char *)&rc.round_seed,
	    sizeof(rc.round_seed)) != 1)
		fatalx("cannot pick a candidacy round: the OpenSSL random "
		    "generator failed");
	if ((h->role = role_new(&rc, util_now_ms(), err, sizeof(err))) == NULL)
		fatalx("%s", err);
	log_info("epoch %u, last role %s (%s)", role_epoch(h->role),
	    ha_role_name(role_current(h->role)), h->statefile);
}

int
main(int argc, char *argv[])
{
	struct ha *h = &ha;
	struct log_opts lo;
	struct event *ev_tick, *sigs[5];
	struct peers_hooks ph;
	struct svr_hooks sh;
	struct ctl_ops co;
	int signos[5] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGQUIT };
	char err[HASVR_ERRLEN];
	int ch, checkonly = 0, verbose = 0, i;

	h->cfgfile = HACFG_DEFAULT_PATH;
	h->sync_sent = -1;
	h->db_startup = -1;
	while ((ch = getopt(argc, argv, "df:hnv")) != -1) {
		switch (ch) {
		case 'd': h->foreground = 1; break;
		case 'f': h->cfgfile = optarg; break;
		case 'n': checkonly = 1; break;
		case 'v': verbose = 1; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();

	if (load_config(h) > 0 || checkonly) {
		if (h->cfg.nerrors + h->gcfg.nerrors == 0) {
			printf("configuration OK\n");
			return 0;
		}
		if (!checkonly)
			fprintf(stderr, "hasvr: refusing to start:\n");
		cfg_print_errors(&h->cfg);
		cfg_print_errors(&h->gcfg);
		return 1;
	}
	make_paths(h);
	h->user = cfg_str(&h->cfg, "highAvail.setuid");
	if (setup_user(h, err, sizeof(err)) != 0) {
		fprintf(stderr, "hasvr: refusing to start: %s\n", err);
		return 1;
	}
	memset(&lo, 0, sizeof(lo));
	lo.path = cfg_bool(&h->cfg, "highAvail.writetoLog") ? h->logpath : NULL;
	lo.maxsize = 10 * 1024 * 1024;
	lo.keep = 5;
	lo.use_syslog = !cfg_bool(&h->cfg, "highAvail.writetoLog");
	lo.ident = "hasvr";
	lo.level = verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO;
	lo.also_stderr = h->foreground;
	if (log_open(&lo, err, sizeof(err)) != 0) {
		fprintf(stderr, "hasvr: cannot open the log: %s\n", err);
		return 1;
	}
	if (!h->foreground)
		if (util_daemonize() != 0)
			fatal("cannot detach (fork/setsid)");
	if (util_pidfile_claim(h->pidfile, "hasvr", err, sizeof(err)) != 0) {
		fprintf(stderr, "hasvr: %s\n", err);
		fatalx("%s", err);
	}
	h->start_ms = util_now_ms();
	build_string(h);
	log_notice("hasvr %s starting (pid %ld, config %s, build '%s')",
	    PACKAGE_VERSION, (long)getpid(), h->cfgfile, h->build);

	h->ha_sync = 1;
	h->db_sync = cfg_bool(&h->cfg, "highAvail.dbSync");
	h->file_sync = cfg_bool(&h->cfg, "highAvail.fileSync");
	if (heartbeat_derive_key(h->hc.hmac_key, strlen(h->hc.hmac_key),
	    h->hbkey, err, sizeof(err)) == -1 ||
	    heartbeat_cfg_checksum(&h->cfg, h->cfgsum, err, sizeof(err)) == -1)
		fatalx("%s", err);
	start_roles(h);
	signal(SIGPIPE, SIG_IGN);
	if ((h->base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	ha_peers_hooks(h, &ph);
	if ((h->peers = peers_new(h->base, &h->hc, h->hbkey, h->build,
	    h->cfgsum, (uint64_t)cfg_num(&h->cfg, "highAvail.heartbeatInterval"),
	    (uint64_t)cfg_num(&h->cfg, "highAvail.deadInterval"), &ph, err,
	    sizeof(err))) == NULL)
		fatalx("%s", err);
	if ((h->link = link_start(h->base, h->gp.halink, ha_on_link, h, err,
	    sizeof(err))) == NULL)
		fatalx("%s", err);
	start_arbiter(h);
	ha_ctl_ops(h, &co);
	if ((h->ctl = ctl_start(h->base, h->ctlpath, h->uid, &co, err,
	    sizeof(err))) == NULL)
		fatalx("%s", err);
	ha_svr_hooks(h, &sh);
	if ((h->svr = svr_new(h->base, h->guisvr_prog, h->guisvr_cfg, &h->gp,
	    &sh)) == NULL ||
	    (h->fs = filesync_new(cfg_str(&h->cfg, "highAvail.fileSyncProgram"),
	    h->cfgfile, (uint64_t)cfg_num(&h->cfg, "highAvail.syncInterval"))) ==
	    NULL)
		fatalx("out of memory");
	for (i = 0; i < 5; i++) {
		sigs[i] = evsignal_new(h->base, signos[i], on_signal, h);
		event_add(sigs[i], NULL);
	}
	ev_tick = timer(h, TICK_MS, on_tick);
	if ((h->tick_ev = event_new(h->base, -1, 0, on_tick, h)) == NULL)
		fatalx("event_new failed");
	if ((h->ping = ping_new(h->base, cfg_isset(&h->cfg,
	    "highAvail.pingableIp") ? cfg_str(&h->cfg, "highAvail.pingableIp") :
	    NULL, (uint64_t)cfg_num(&h->cfg, "highAvail.pingInterval"),
	    ha_on_ping, h)) == NULL)
		fatalx("out of memory");
	svr_start(h->svr);
	peers_send_all(h->peers);
	log_info("control socket %s; heartbeat every %llu ms, peer dead after "
	    "%llu ms", h->ctlpath, (unsigned long long)
	    peers_interval_ms(h->peers), (unsigned long long)
	    peers_dead_ms(h->peers));

	event_base_dispatch(h->base);

	h->stopping = 1;
	log_notice("hasvr stopping");
	event_free(ev_tick);
	event_free(h->tick_ev);
	h->tick_ev = NULL;
	ctl_stop(h->ctl);
	filesync_free(h->fs);
	svr_stop(h->svr);
	stop_arbiter(h);            /* guisvr takes no writes any more */
	ping_free(h->ping);
	link_stop(h->link);
	for (i = 0; i < 5; i++)
		event_free(sigs[i]);
	svr_free(h->svr);
	peers_free(h->peers);
	role_free(h->role);
	statewriter_free(h->sw);    /* what is left to write, written */
	event_base_free(h->base);
	unlink(h->pidfile);
	log_notice("hasvr stopped");
	log_close();
	explicit_bzero(h->hbkey, sizeof(h->hbkey));
	cfg_free(&h->cfg);
	cfg_free(&h->gcfg);
	return 0;
}
