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
#include <unistd.h>

#include <event2/event.h>

#include "halink.h"
#include "hasvr.h"
#include "link.h"
#include "log.h"
#include "util.h"

#define SVR_BACKOFF_MIN_MS 200
#define SVR_BACKOFF_MAX_MS 10000
#define SVR_STABLE_MS 30000
#define SVR_STOP_WAIT_MS 15000
/* guisvr stopped because its disk refuses writes (GUISVR_EXIT_DISK): it is
 * started again this often, and said once per run of such exits */
#define SVR_DISK_RETRY_MS 10000


static char errbuf[1024];
static size_t errlen;

static void
flush_err(int all)
{
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
}

static void
on_stderr(evutil_socket_t fd, short what, void *arg)
{
	struct ha *h = arg;
	ssize_t n;

	(void)what;
	if (errlen == sizeof(errbuf))
		flush_err(1);
	n = read(fd, errbuf + errlen, sizeof(errbuf) - errlen);
	if (n > 0) {
		errlen += (size_t)n;
		flush_err(0);
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	flush_err(1);
	event_free(h->svr_err_ev);
	h->svr_err_ev = NULL;
	close(h->svr_errfd);
	h->svr_errfd = -1;
}

static void
on_restart_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	svr_start(arg);
}

int
svr_start(struct ha *h)
{
	int pfd[2];
	pid_t pid;
	int fd;

	if (h->stopping || h->svr_pid > 0)
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
		execl(h->guisvr_prog, "guisvr", "-S", "-f", h->guisvr_cfg,
		    (char *)NULL);
		dprintf(STDERR_FILENO, "cannot run %s: %s\n", h->guisvr_prog,
		    strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	if (h->svr_err_ev != NULL) {
		event_free(h->svr_err_ev);
		close(h->svr_errfd);
	}
	errlen = 0;
	h->svr_errfd = pfd[0];
	evutil_make_socket_nonblocking(pfd[0]);
	h->svr_err_ev = event_new(h->base, pfd[0], EV_READ | EV_PERSIST,
	    on_stderr, h);
	event_add(h->svr_err_ev, NULL);
	h->svr_pid = pid;
	h->svr_started_ms = util_now_ms();
	log_notice("highAvailSvr started: %s -S -f %s (pid %ld)",
	    h->guisvr_prog, h->guisvr_cfg, (long)pid);
	return 0;
}

int
svr_reap(struct ha *h, pid_t pid, int status)
{
	struct timeval tv;
	uint64_t ran;
	char how[64];

	if (pid != h->svr_pid || pid <= 0)
		return 0;
	h->svr_pid = 0;
	link_reset(h->link);
	if (WIFEXITED(status))
		snprintf(how, sizeof(how), "exited with status %d",
		    WEXITSTATUS(status));
	else
		snprintf(how, sizeof(how), "was killed by signal %d",
		    WTERMSIG(status));
	if (h->stopping) {
		log_notice("highAvailSvr (pid %ld) %s", (long)pid, how);
		return 1;
	}
	if (h->resync_pending) {
		log_notice("highAvailSvr (pid %ld) %s for the resync", (long)pid,
		    how);
		h->resync_pending = 0;
		ha_resync_move(h);
		svr_start(h);
		return 1;
	}
	ran = util_now_ms() - h->svr_started_ms;
	h->svr_exits[h->svr_nexit++ % SVR_UNSTABLE_EXITS] = util_now_ms();
	h->svr_restarts++;
	if (WIFEXITED(status) && WEXITSTATUS(status) == GUISVR_EXIT_DISK) {
		/* nothing to gain from a faster pace; guiDaemon.0 says why */
		h->svr_backoff_ms = SVR_DISK_RETRY_MS;
		if (!h->svr_disk_fault)
			log_warnx("highAvailSvr (pid %ld) stopped: the disk holding "
			    "its database refuses writes (see guiDaemon.0); "
			    "starting it again every %d s until there is space",
			    (long)pid, SVR_DISK_RETRY_MS / 1000);
		else
			log_debug("highAvailSvr (pid %ld) stopped again: the disk "
			    "still refuses writes", (long)pid);
		h->svr_disk_fault = 1;
	} else {
		if (ran >= SVR_STABLE_MS || h->svr_backoff_ms == 0 ||
		    h->svr_backoff_ms == SVR_DISK_RETRY_MS)
			h->svr_backoff_ms = SVR_BACKOFF_MIN_MS;
		else if ((h->svr_backoff_ms *= 2) > SVR_BACKOFF_MAX_MS)
			h->svr_backoff_ms = SVR_BACKOFF_MAX_MS;
		log_warnx("highAvailSvr (pid %ld) %s after %llu ms; restarting "
		    "it in %d ms (restart %d; see guiDaemon.0)", (long)pid, how,
		    (unsigned long long)ran, h->svr_backoff_ms, h->svr_restarts);
	}
	if (h->svr_timer == NULL)
		h->svr_timer = evtimer_new(h->base, on_restart_timer, h);
	tv.tv_sec = h->svr_backoff_ms / 1000;
	tv.tv_usec = (h->svr_backoff_ms % 1000) * 1000;
	evtimer_add(h->svr_timer, &tv);
	return 1;
}

void
svr_stop(struct ha *h)
{
	uint64_t deadline;
	int status;
	pid_t pid;

	if (h->svr_timer != NULL)
		evtimer_del(h->svr_timer);
	if (h->svr_pid <= 0)
		return;
	pid = h->svr_pid;
	log_notice("stopping highAvailSvr (pid %ld)", (long)pid);
	kill(pid, SIGTERM);
	deadline = util_now_ms() + SVR_STOP_WAIT_MS;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid) {
			svr_reap(h, pid, status);
			break;
		}
		if (r == -1 && errno != EINTR)
			break;
		if (util_now_ms() >= deadline) {
			log_warnx("highAvailSvr (pid %ld) did not stop within "
			    "%d s: killing it", (long)pid, SVR_STOP_WAIT_MS / 1000);
			kill(pid, SIGKILL);
			if (waitpid(pid, &status, 0) == pid)
				svr_reap(h, pid, status);
			break;
		}
		usleep(20000);
	}
	h->svr_pid = 0;
	if (h->svr_err_ev != NULL) {
		/* what it said on the way out */
		on_stderr(h->svr_errfd, EV_READ, h);
	}
}

int
svr_unstable(const struct ha *h)
{
	uint64_t now = util_now_ms(), oldest;

	if (h->svr_nexit < SVR_UNSTABLE_EXITS)
		return 0;
	/* the oldest of the last SVR_UNSTABLE_EXITS exits */
	oldest = h->svr_exits[h->svr_nexit % SVR_UNSTABLE_EXITS];
	return now - oldest < SVR_UNSTABLE_MS;
}

const char *
svr_service_state(const struct ha *h)
{
	struct link_state ls;

	if (h->svr_pid <= 0)
		return "stopped";
	link_snapshot(h->link, &ls);
	return ls.valid ? "running" : "starting";
}
