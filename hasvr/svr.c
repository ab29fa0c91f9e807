/* svr.c — guisvr under hasvr (service "highAvailSvr").
 *
 * hasvr starts guisvr in the foreground (-S: supervised) with highAvail.guiSvrConfig,
 * as the user hasvr runs as, and tells it its role over the ha-link
 * (link.c). guisvr's stderr (configuration errors, a refused start) is
 * copied into ha.log line by line. When guisvr dies it is restarted after
 * a backoff that doubles from SVR_BACKOFF_MIN_MS to SVR_BACKOFF_MAX_MS and
 * starts again from the minimum once guisvr ran SVR_STABLE_MS. guisvr gets
 * SIGTERM if hasvr dies (PR_SET_PDEATHSIG): a guisvr never goes on as
 * primary without the hasvr that watches over it. */
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "guicfg.h"
#include "halink.h"
#include "log.h"
#include "resync.h"
#include "svr.h"
#include "util.h"

#define SVR_BACKOFF_MIN_MS 200
#define SVR_BACKOFF_MAX_MS 10000
#define SVR_STABLE_MS 30000
#define SVR_STOP_WAIT_MS 15000
/* guisvr stopped because its disk refuses writes (GUISVR_EXIT_DISK): it is
 * started again this often, and said once per run of such exits */
#define SVR_DISK_RETRY_MS 10000

struct svr {
	struct event_base *base;
	char prog[1024], cfg[1024];
	struct guicfg_paths gp;
	struct svr_hooks hooks;
	pid_t pid;
	int restarts;
	uint64_t started_ms;
	int backoff_ms;
	int errfd;                  /* its stderr */
	struct event *err_ev, *timer;
	char errbuf[1024];          /* a line of its stderr being read */
	size_t errlen;
	uint64_t exits[SVR_UNSTABLE_EXITS];  /* its last exits */
	unsigned nexit;
	int disk_fault;             /* it stopped: its disk refuses writes */
	int resync_pending;         /* stopping for a resync */
	int stopping;               /* for good */
};

static void
flush_err(struct svr *s, int all)
{
	char *errbuf = s->errbuf;
	size_t errlen = s->errlen;

	char *nl;

	while ((nl = memchr(errbuf, '\n', errlen)) != NULL ||
	    (all && errlen > 0)) {
		size_t n = nl != NULL ? (size_t)(nl - errbuf) : errlen;

		log_warnx("highAvailSvr: %.*s", (int)n, errbuf);
		if (nl != NULL)
			n++;
		memmove(errbuf, errbuf + n, errlen - n);
		errlen -= n;
	}
	s->errlen = errlen;
}

static void
on_stderr(evutil_socket_t fd, short what, void *arg)
{
	struct svr *s = arg;
	ssize_t n;

	(void)what;
	if (s->errlen == sizeof(s->errbuf))
		flush_err(s, 1);
	n = read(fd, s->errbuf + s->errlen, sizeof(s->errbuf) - s->errlen);
	if (n > 0) {
		s->errlen += (size_t)n;
		flush_err(s, 0);
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	flush_err(s, 1);
	event_free(s->err_ev);
	s->err_ev = NULL;
	close(s->errfd);
	s->errfd = -1;
}

static void
on_restart_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	svr_start(arg);
}

struct svr *
svr_new(struct event_base *base, const char *prog, const char *cfg,
    const struct guicfg_paths *gp, const struct svr_hooks *hooks)
{
	struct svr *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->base = base;
	util_strlcpy(s->prog, prog, sizeof(s->prog));
	util_strlcpy(s->cfg, cfg, sizeof(s->cfg));
	s->gp = *gp;
	s->hooks = *hooks;
	s->errfd = -1;
	return s;
}

int
svr_start(struct svr *s)
{
	int pfd[2];
	pid_t pid;
	int fd;

	if (s->stopping || s->pid > 0)
		return 0;
	if (pipe2(pfd, O_CLOEXEC) == -1) {
		log_warn("cannot start highAvailSvr: pipe");
		return -1;
	}
	if ((pid = fork()) == -1) {
		log_warn("cannot start highAvailSvr: fork");
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() == 1)
			_exit(1);
		if ((fd = open("/dev/null", O_RDWR)) >= 0) {
			dup2(fd, STDIN_FILENO);
			dup2(fd, STDOUT_FILENO);
		}
		dup2(pfd[1], STDERR_FILENO);
		execl(s->prog, "guisvr", "-S", "-f", s->cfg, (char *)NULL);
		dprintf(STDERR_FILENO, "cannot run %s: %s\n", s->prog,
		    strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	if (s->err_ev != NULL) {
		event_free(s->err_ev);
		close(s->errfd);
	}
	s->errlen = 0;
	s->errfd = pfd[0];
	evutil_make_socket_nonblocking(pfd[0]);
	s->err_ev = event_new(s->base, pfd[0], EV_READ | EV_PERSIST,
	    on_stderr, s);
	event_add(s->err_ev, NULL);
	s->pid = pid;
	s->started_ms = util_now_ms();
	log_notice("highAvailSvr started: %s -S -f %s (pid %ld)", s->prog,
	    s->cfg, (long)pid);
	return 0;
}

/* guisvr has stopped for a resync: move its database aside (logged). */
static void
resync_move(struct svr *s)
{
	char dir[1100], err[512];

	if (resync_move_aside(&s->gp, time(NULL), dir, sizeof(dir), err,
	    sizeof(err)) == 0) {
		log_notice("resync: the old database is kept in %s; "
		    "highAvailSvr starts empty and copies the whole database "
		    "from the primary", dir);
		s->hooks.resynced(s->hooks.arg);
	} else
		log_errx("resync failed: %s; the database was not cleared "
		    "(partly moved files are in %s)", err, dir);
}

int
svr_reap(struct svr *s, pid_t pid, int status)
{
	struct timeval tv;
	uint64_t ran;
	char how[64];

	if (s == NULL || pid != s->pid || pid <= 0)
		return 0;
	s->pid = 0;
	s->hooks.exited(s->hooks.arg);
	if (WIFEXITED(status))
		snprintf(how, sizeof(how), "exited with status %d",
		    WEXITSTATUS(status));
	else
		snprintf(how, sizeof(how), "was killed by signal %d",
		    WTERMSIG(status));
	if (s->stopping) {
		log_notice("highAvailSvr (pid %ld) %s", (long)pid, how);
		return 1;
	}
	if (s->resync_pending) {
		log_notice("highAvailSvr (pid %ld) %s for the resync", (long)pid,
		    how);
		s->resync_pending = 0;
		resync_move(s);
		svr_start(s);
		return 1;
	}
	ran = util_now_ms() - s->started_ms;
	s->exits[s->nexit++ % SVR_UNSTABLE_EXITS] = util_now_ms();
	s->restarts++;
	if (WIFEXITED(status) && WEXITSTATUS(status) == GUISVR_EXIT_DISK) {
		/* nothing to gain from a faster pace; guiDaemon.0 says why */
		s->backoff_ms = SVR_DISK_RETRY_MS;
		if (!s->disk_fault)
			log_warnx("highAvailSvr (pid %ld) stopped: the disk holding "
			    "its database refuses writes (see guiDaemon.0); "
			    "starting it again every %d s until there is space",
			    (long)pid, SVR_DISK_RETRY_MS / 1000);
		else
			log_debug("highAvailSvr (pid %ld) stopped again: the disk "
			    "still refuses writes", (long)pid);
		s->disk_fault = 1;
	} else {
		if (ran >= SVR_STABLE_MS || s->backoff_ms == 0 ||
		    s->backoff_ms == SVR_DISK_RETRY_MS)
			s->backoff_ms = SVR_BACKOFF_MIN_MS;
		else if ((s->backoff_ms *= 2) > SVR_BACKOFF_MAX_MS)
			s->backoff_ms = SVR_BACKOFF_MAX_MS;
		log_warnx("highAvailSvr (pid %ld) %s after %llu ms; restarting "
		    "it in %d ms (restart %d; see guiDaemon.0)", (long)pid, how,
		    (unsigned long long)ran, s->backoff_ms, s->restarts);
	}
	if (s->timer == NULL)
		s->timer = evtimer_new(s->base, on_restart_timer, s);
	tv.tv_sec = s->backoff_ms / 1000;
	tv.tv_usec = (s->backoff_ms % 1000) * 1000;
	evtimer_add(s->timer, &tv);
	return 1;
}

void
svr_stop(struct svr *s)
{
	uint64_t deadline;
	int status;
	pid_t pid;

	s->stopping = 1;
	if (s->timer != NULL)
		evtimer_del(s->timer);
	if (s->pid <= 0)
		return;
	pid = s->pid;
	log_notice("stopping highAvailSvr (pid %ld)", (long)pid);
	kill(pid, SIGTERM);
	deadline = util_now_ms() + SVR_STOP_WAIT_MS;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid) {
			svr_reap(s, pid, status);
			break;
		}
		if (r == -1 && errno != EINTR)
			break;
		if (util_now_ms() >= deadline) {
			log_warnx("highAvailSvr (pid %ld) did not stop within "
			    "%d s: killing it", (long)pid, SVR_STOP_WAIT_MS / 1000);
			kill(pid, SIGKILL);
			if (waitpid(pid, &status, 0) == pid)
				svr_reap(s, pid, status);
			break;
		}
		usleep(20000);
	}
	s->pid = 0;
	if (s->err_ev != NULL) {
		/* what it said on the way out */
		on_stderr(s->errfd, EV_READ, s);
	}
}

void
svr_free(struct svr *s)
{
	if (s == NULL)
		return;
	if (s->timer != NULL)
		event_free(s->timer);
	if (s->err_ev != NULL) {
		event_free(s->err_ev);
		close(s->errfd);
	}
	free(s);
}

int
svr_unstable(const struct svr *s, uint64_t now)
{
	uint64_t oldest;

	if (s->nexit < SVR_UNSTABLE_EXITS)
		return 0;
	/* the oldest of the last SVR_UNSTABLE_EXITS exits */
	oldest = s->exits[s->nexit % SVR_UNSTABLE_EXITS];
	return now - oldest < SVR_UNSTABLE_MS;
}

pid_t
svr_pid(const struct svr *s)
{
	return s->pid;
}

int
svr_restarts(const struct svr *s)
{
	return s->restarts;
}

int
svr_disk_fault(const struct svr *s)
{
	return s->disk_fault;
}

void
svr_disk_fault_clear(struct svr *s)
{
	s->disk_fault = 0;
}

int
svr_resync(struct svr *s, char *msg, size_t msglen)
{
	if (s->resync_pending) {
		snprintf(msg, msglen, "resync already under way");
		return -1;
	}
	log_notice("resync requested: stopping highAvailSvr, moving its "
	    "database aside to %s/resync-<time>/, then starting it again to "
	    "copy the whole database from the primary", s->gp.xdb);
	if (s->pid > 0) {
		s->resync_pending = 1;
		kill(s->pid, SIGTERM);
	} else {
		resync_move(s);
		svr_start(s);
	}
	snprintf(msg, msglen, "resync started: highAvailSvr restarts with an "
	    "empty database (the old one is kept under %s/resync-<time>/); "
	    "haStatus shows in-sync when the copy is done", s->gp.xdb);
	return 0;
}
