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

#include "atomicfile.h"
#include "config.h"
#include "ctl.h"
#include "hactl.h"
#include "halink.h"
#include "hasvr.h"
#include "link.h"
#include "log.h"
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



/* ---- roles ---- */

/* Database sync runs when HA sync and database sync are on and every live
 * peer runs our build. */
void
ha_apply_sync(struct ha *h)
{
	uint64_t now = util_now_ms();
	static int last = -1;
	int i, want = h->ha_sync && h->db_sync;

	for (i = 0; i < h->npeers; i++)
		if (peer_alive(h, &h->peers[i], now) && !h->peers[i].build_match)
			want = 0;
	if (want != last) {
		link_want_sync(h->link, want);
		if (last != -1)
			log_notice("database sync %s", want ? "on" : "off");
		last = want;
	}
}

void
ha_kick_heartbeat(struct ha *h)
{
	peers_send_all(h);
}

static void
log_peer_changes(struct ha *h, uint64_t now)
{
	int i;

	for (i = 0; i < h->npeers; i++) {
		struct ha_peer *p = &h->peers[i];

		int unauth = role_peer_unauth_present(h->role, p->eid, now);

		if (p->was_alive && !peer_alive(h, p, now)) {
			p->was_alive = 0;
			log_warnx("heartbeat from peer %s (eid %d) timed out: no "
			    "valid heartbeat for %llu ms, peer is down", p->addr,
			    p->eid, (unsigned long long)(now - p->last_ms));
		}
		if (unauth && !p->unauth_logged)
			log_warnx("peer %s (eid %d) sends heartbeats that fail "
			    "authentication (%s): a node runs there but cannot be "
			    "understood — another highAvail.HMACKey or build, or "
			    "forged packets; this node does not take the primary "
			    "role while they arrive", p->addr, p->eid,
			    heartbeat_reject_words(p->unauth_reason));
		else if (!unauth && p->unauth_logged)
			log_notice("peer %s (eid %d): no more heartbeats that "
			    "fail authentication", p->addr, p->eid);
		p->unauth_logged = unauth;
	}
}

static void
log_db_changes(struct ha *h, const struct link_state *ls)
{
	static char last[16];
	static int last_startup = -1;

	if (!ls->valid)
		return;
	if (strcmp(last, ls->state) != 0) {
		if (last[0] != '\0')
			log_notice("database replication %s -> %s", last,
			    ls->state);
		util_strlcpy(last, ls->state, sizeof(last));
	}
	if (ls->startup_done != last_startup) {
		if (ls->startup_done && last_startup == 0 &&
		    ls->role == HL_ROLE_SECONDARY)
			log_notice("database startup sync done "
			    "(DB_EVENT_REP_STARTUPDONE)");
		last_startup = ls->startup_done;
	}
}

/* A run of refused writes this recent and this long makes this node's
 * database server unable to serve. */
#define FAULT_RECENT_MS 3000
/* After guisvr refused a role, the next decision waits this long. */
#define REFUSED_PAUSE_MS 500
#define FAULT_LASTING_MS 2000

/* Why this node's database server cannot serve now, "" when it can. */
static void
local_fault(struct ha *h, const struct link_state *ls, char *why, size_t len)
{
	why[0] = '\0';
	if (ls->valid) {
		h->svr_disk_fault = 0;  /* it opened the database again */
		if (ls->fault && ls->fault_last_age_ms < FAULT_RECENT_MS &&
		    ls->fault_first_age_ms - ls->fault_last_age_ms >=
		    FAULT_LASTING_MS)
			snprintf(why, len, "the disk holding its database "
			    "refuses writes: %s", ls->fault_why);
		return;
	}
	if (h->svr_disk_fault)
		snprintf(why, len, "highAvailSvr cannot open its database: the "
		    "disk refuses writes");
	else if (svr_unstable(h))
		snprintf(why, len, "highAvailSvr exited %d times within %d s",
		    SVR_UNSTABLE_EXITS, SVR_UNSTABLE_MS / 1000);
}

/* What the database server says about the peers, and whether it can
 * serve, go to the role machine. */
static void
note_local_db(struct ha *h, const struct link_state *ls)
{
	const struct link_peer *lp;
	char why[sizeof(h->fault)];
	int i, j, primary = role_current(h->role) == ROLE_PRIMARY;

	if (ls->valid)
		role_local_db(h->role, ls->gen, ls->lsn, ls->startup_done);
	else
		role_local_db_lost(h->role);
	for (i = 0; i < h->npeers; i++) {
		if (!primary) {
			h->peers[i].view_known = 0;
			continue;
		}
		for (j = 0, lp = NULL; ls->valid && j < ls->npeers; j++)
			if (ls->peers[j].eid == h->peers[i].eid)
				lp = &ls->peers[j];
		if (lp != NULL) {
			h->peers[i].view_known = 1;
			h->peers[i].view_insync = lp->up && lp->insync;
		}
	}
	local_fault(h, ls, why, sizeof(why));
	if (why[0] != '\0' && h->fault[0] == '\0')
		log_warnx("this node's database server cannot serve: %s", why);
	else if (why[0] == '\0' && h->fault[0] != '\0')
		log_notice("this node's database server serves again");
	util_strlcpy(h->fault, why, sizeof(h->fault));
	role_local_fault(h->role, why[0] != '\0' ? why : NULL);
}

static int
hl_role_of(enum role_state r)
{
	return r == ROLE_PRIMARY ? HL_ROLE_PRIMARY : r == ROLE_SECONDARY ?
	    HL_ROLE_SECONDARY : HL_ROLE_NONE;
}

/* guisvr holds the role hasvr gave it, or somebody changed it behind
 * hasvr's back (over the ha-link by hand): then it is told again, and
 * haStatus shows it for a while. Only a state read after the last role
 * was applied counts. */
static void
check_svr_role(struct ha *h, const struct link_state *ls, uint64_t now)
{
	static struct log_limit lim;
	unsigned long held = 0;
	enum role_state r = role_current(h->role);
	int want = hl_role_of(r), primary = role_primary_eid(h->role);

	if (!ls->valid || ls->at_ms <= h->committed_ms)
		return;
	if (ls->role == want && (r != ROLE_SECONDARY || ls->follow == primary) &&
	    (r == ROLE_STARTING || ls->epoch == role_epoch(h->role)))
		return;
	if (log_limit_due(&lim, 10000, &held))
		log_warnx("highAvailSvr has role %s (epoch %u%s), not %s (epoch "
		    "%u) as hasvr told it — changed behind hasvr's back?; "
		    "telling it again%s", halink_role_name(ls->role), ls->epoch,
		    ls->role == HL_ROLE_SECONDARY && ls->follow != primary ?
		    ", another primary" : "", halink_role_name(want),
		    role_epoch(h->role), held ? " (repeated)" : "");
	h->role_mismatch_ms = now;
	h->committed_ms = now;      /* judge the next state after this */
	link_want_role(h->link, want, role_epoch(h->role), primary);
}

/* The role tick: runs only from the event loop (the TICK_MS timer, or
 * ha_tick_schedule's event), never from inside a handler. */
static void
ha_tick(struct ha *h)
{
	struct link_state ls;
	struct role_decision d;
	struct role_peer_info before, after;
	char err[HASVR_ERRLEN];
	uint64_t now = util_now_ms();

	if (h->stopping)
		return;
	link_snapshot(h->link, &ls);
	note_local_db(h, &ls);
	log_peer_changes(h, now);
	log_db_changes(h, &ls);
	ha_apply_sync(h);
	if (h->has_pending) {
		if (ls.done_no < h->pending_no)
			goto out;    /* guisvr has not answered yet */
		if (ls.done_no == h->pending_no && ls.done_rc != 0) {
			/* refused: decide again from what is true now, at a
			 * calm pace, and ask guisvr for the role it had */
			static struct log_limit lim;
			unsigned long held;

			if (log_limit_due(&lim, 10000, &held))
				log_warnx("highAvailSvr did not take role %s (%s); "
				    "deciding again%s", role_name(h->pending.to),
				    ls.done_err, held ? " (repeated)" : "");
			h->has_pending = 0;
			h->refused_ms = now;
			link_want_role(h->link, hl_role_of(role_current(h->role)),
			    role_epoch(h->role), role_primary_eid(h->role));
			goto out;
		}
		if (role_commit(h->role, &h->pending, now, err,
		    sizeof(err)) == -1) {
			if (!h->state_write_failed)
				log_errx("%s", err);
			h->state_write_failed = 1;
		} else
			h->state_write_failed = 0;
		h->has_pending = 0;
		h->committed_ms = now;
		log_debug("highAvailSvr took role %s in %llu ms",
		    role_name(h->pending.to),
		    (unsigned long long)(now - h->pending_ms));
		ha_kick_heartbeat(h);
	}
	/* while a role may change, guisvr's position is read every tick (a
	 * switchover's successor takes over once it has every transaction) */
	if (h->has_pending || !role_settled(h->role, now))
		link_refresh(h->link);
	if (!h->has_pending)
		check_svr_role(h, &ls, now);
	if (h->refused_ms != 0 && now - h->refused_ms < REFUSED_PAUSE_MS)
		goto out;
	role_advertise(h->role, now, &before);
	role_tick(h->role, now, &d);
	role_advertise(h->role, now, &after);
	if (d.action != ROLE_ACT_NONE) {
		h->pending = d;
		h->has_pending = 1;
		h->pending_ms = now;
		log_info("telling highAvailSvr: become %s (epoch %u), reason: %s",
		    role_name(d.to), d.epoch, d.reason);
		h->pending_no = link_want_role(h->link, hl_role_of(d.to),
		    d.epoch, d.to == ROLE_PRIMARY ? 0 : d.primary_eid);
	}
	/* a new vote travels at once: an election waits for it */
	if (before.vote_eid != after.vote_eid ||
	    before.vote_round != after.vote_round)
		ha_kick_heartbeat(h);
out:
	filesync_tick(h);
	ctl_tick(h->ctl);
}

void
ha_tick_schedule(struct ha *h)
{
	/* once per loop iteration, whoever asks how often */
	if (h->tick_ev != NULL && !event_pending(h->tick_ev, EV_TIMEOUT, NULL))
		event_active(h->tick_ev, EV_TIMEOUT, 0);
}

/* ---- resync: the seed's manual procedure, done safely ---- */

static int
move_entries(const char *from, const char *to, const char *keep,
    char *err, size_t errlen)
{
	char a[PATH_MAX], b[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int rc = 0;

	if ((d = opendir(from)) == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", from, strerror(errno));
		return -1;
	}
	if (util_mkdirs(to, 0750, err, errlen) != 0) {
		closedir(d);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    (keep != NULL && strcmp(de->d_name, keep) == 0))
			continue;
		if (util_path_join(a, sizeof(a), from, de->d_name) == -1 ||
		    util_path_join(b, sizeof(b), to, de->d_name) == -1 ||
		    rename(a, b) == -1) {
			snprintf(err, errlen, "move %s to %s: %s", a, to,
			    strerror(errno));
			rc = -1;
			break;
		}
	}
	closedir(d);
	return rc;
}

/* guisvr has stopped: move the database aside, as the manual procedure
 * clears it (every file but DB_CONFIG in data/, all of log/ and init/). */
int
ha_resync_move(struct ha *h)
{
	char dir[1100], sub[1200], err[HASVR_ERRLEN], stamp[32];
	time_t t = time(NULL);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	snprintf(dir, sizeof(dir), "%s/resync-%s", h->gp.xdb, stamp);
	snprintf(sub, sizeof(sub), "%s/data", dir);
	if (move_entries(h->gp.data, sub, "DB_CONFIG", err, sizeof(err)) == 0) {
		snprintf(sub, sizeof(sub), "%s/log", dir);
		if (move_entries(h->gp.log, sub, NULL, err, sizeof(err)) == 0) {
			snprintf(sub, sizeof(sub), "%s/init", dir);
			if (move_entries(h->gp.init, sub, NULL, err,
			    sizeof(err)) == 0) {
				log_notice("resync: the old database is kept in "
				    "%s; highAvailSvr starts empty and copies "
				    "the whole database from the primary", dir);
				/* nothing of this node's history is left to
				 * protect: it follows the primary there is */
				role_history_gone(h->role);
				return 0;
			}
		}
	}
	log_errx("resync failed: %s; the database was not cleared (partly "
	    "moved files are in %s)", err, dir);
	return -1;
}

int
ha_request_resync(struct ha *h, char *msg, size_t msglen)
{
	uint64_t now = util_now_ms();
	int i, primary = 0;

	if (role_current(h->role) == ROLE_PRIMARY) {
		snprintf(msg, msglen, "resync refused: this node is PRIMARY and "
		    "holds the data the others copy; run it on the secondary");
		return -1;
	}
	for (i = 0; i < h->npeers; i++)
		if (peer_alive(h, &h->peers[i], now) &&
		    h->peers[i].last.role == HB_ROLE_PRIMARY)
			primary = 1;
	if (!primary) {
		snprintf(msg, msglen, "resync refused: no live primary to copy "
		    "the database from; start the primary first");
		return -1;
	}
	if (h->resync_pending) {
		snprintf(msg, msglen, "resync already under way");
		return -1;
	}
	h->resync_pending = 1;
	log_notice("resync requested: stopping highAvailSvr, moving its "
	    "database aside to %s/resync-<time>/, then starting it again to "
	    "copy the whole database from the primary", h->gp.xdb);
	if (h->svr_pid > 0)
		kill(h->svr_pid, SIGTERM);
	else {
		h->resync_pending = 0;
		ha_resync_move(h);
		svr_start(h);
	}
	snprintf(msg, msglen, "resync started: highAvailSvr restarts with an "
	    "empty database (the old one is kept under %s/resync-<time>/); "
	    "haStatus shows in-sync when the copy is done", h->gp.xdb);
	return 0;
}

int
ha_request_filesync(struct ha *h, char *msg, size_t msglen)
{
	return filesync_request(h, msg, msglen);
}

/* ---- event loop ---- */

/* guisvr answered or told something: decide with it at once */
static void
on_link(void *arg)
{
	ha_tick_schedule(arg);
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	ha_tick(arg);
}

static void
on_heartbeat_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	peers_send_all(arg);
}

static void
on_heartbeat_in(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	peers_on_readable(arg);
}

static void
on_ping_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	ping_start(arg);
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
			if (!svr_reap(h, pid, status) &&
			    !filesync_reap(h, pid, status))
				ping_reap(h, pid, status);
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
	rc.dead_ms = h->dead_ms;
	rc.start_wait_ms = (uint64_t)cfg_num(&h->cfg, "highAvail.startWait");
	rc.state_path = h->statefile;
	/* candidacy rounds differ across restarts (role.h, Votes) */
	if (RAND_bytes((unsigned char *)&rc.round_seed,
	    sizeof(rc.round_seed)) != 1)
		fatalx("cannot pick a candidacy round: the OpenSSL random "
		    "generator failed");
	if ((h->role = role_new(&rc, util_now_ms(), err, sizeof(err))) == NULL)
		fatalx("%s", err);
	log_info("epoch %u, last role %s (%s)", role_epoch(h->role),
	    role_name(role_current(h->role)), h->statefile);
}

int
main(int argc, char *argv[])
{
	struct ha *h = &ha;
	struct log_opts lo;
	struct event *ev_in, *ev_hb, *ev_tick, *ev_ping, *sigs[5];
	int signos[5] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGQUIT };
	char err[HASVR_ERRLEN];
	int ch, checkonly = 0, verbose = 0, i;

	h->cfgfile = HACFG_DEFAULT_PATH;
	h->hbfd = -1;
	h->svr_errfd = -1;
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
	h->start_time = time(NULL);
	build_string(h);
	log_notice("hasvr %s starting (pid %ld, config %s, build '%s')",
	    PACKAGE_VERSION, (long)getpid(), h->cfgfile, h->build);

	h->hb_interval_ms = (uint64_t)cfg_num(&h->cfg, "highAvail.heartbeatInterval");
	h->dead_ms = (uint64_t)cfg_num(&h->cfg, "highAvail.deadInterval");
	h->ha_sync = 1;
	h->db_sync = cfg_bool(&h->cfg, "highAvail.dbSync");
	h->file_sync = cfg_bool(&h->cfg, "highAvail.fileSync");
	h->ping_configured = cfg_isset(&h->cfg, "highAvail.pingableIp");
	filesync_init(h);
	if (heartbeat_derive_key(h->hc.hmac_key, strlen(h->hc.hmac_key),
	    h->hbkey, err, sizeof(err)) == -1 ||
	    heartbeat_cfg_checksum(&h->cfg, h->cfgsum, err, sizeof(err)) == -1)
		fatalx("%s", err);
	start_roles(h);
	signal(SIGPIPE, SIG_IGN);
	if ((h->base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	if (peers_init(h, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if ((h->link = link_start(h->base, h->gp.halink, on_link, h, err,
	    sizeof(err))) == NULL)
		fatalx("%s", err);
	if ((h->ctl = ctl_start(h, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	for (i = 0; i < 5; i++) {
		sigs[i] = evsignal_new(h->base, signos[i], on_signal, h);
		event_add(sigs[i], NULL);
	}
	ev_in = event_new(h->base, h->hbfd, EV_READ | EV_PERSIST,
	    on_heartbeat_in, h);
	event_add(ev_in, NULL);
	ev_hb = timer(h, h->hb_interval_ms, on_heartbeat_timer);
	ev_tick = timer(h, TICK_MS, on_tick);
	if ((h->tick_ev = event_new(h->base, -1, 0, on_tick, h)) == NULL)
		fatalx("event_new failed");
	ev_ping = timer(h, (uint64_t)cfg_num(&h->cfg, "highAvail.pingInterval"),
	    on_ping_timer);
	ping_start(h);
	svr_start(h);
	peers_send_all(h);
	log_info("control socket %s; heartbeat every %llu ms, peer dead after "
	    "%llu ms", h->ctlpath, (unsigned long long)h->hb_interval_ms,
	    (unsigned long long)h->dead_ms);

	event_base_dispatch(h->base);

	h->stopping = 1;
	log_notice("hasvr stopping");
	event_free(ev_tick);
	event_free(h->tick_ev);
	h->tick_ev = NULL;
	event_free(ev_hb);
	event_free(ev_ping);
	event_free(ev_in);
	ctl_stop(h->ctl);
	filesync_stop(h);
	svr_stop(h);
	ping_stop(h);
	link_stop(h->link);
	for (i = 0; i < 5; i++)
		event_free(sigs[i]);
	if (h->svr_timer != NULL)
		event_free(h->svr_timer);
	if (h->svr_err_ev != NULL) {
		event_free(h->svr_err_ev);
		close(h->svr_errfd);
	}
	close(h->hbfd);
	role_free(h->role);
	event_base_free(h->base);
	unlink(h->pidfile);
	log_notice("hasvr stopped");
	log_close();
	explicit_bzero(h->hbkey, sizeof(h->hbkey));
	cfg_free(&h->cfg);
	cfg_free(&h->gcfg);
	return 0;
}
