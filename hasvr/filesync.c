/* filesync.c — hasvr runs .haDoDirect (highAvail.fileSyncProgram), the
 * rsync-over-SSH copy of the non-database files, on the primary only:
 * once a secondary is up after this node became primary, then every
 * highAvail.syncInterval, and on request (haCtl filesync). Never on a
 * secondary, never while HA sync or file sync is off, one run at a time.
 * The script writes .haDoDirect.result beside itself and logs its own
 * failures (command and stderr) to ha.log; hasvr logs the outcome and
 * shows the result in haStatus. */
#include <sys/types.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hasvr.h"
#include "log.h"
#include "util.h"

void
filesync_init(struct ha *h)
{
	char dir[1024], *slash;

	util_strlcpy(h->fs_prog, cfg_str(&h->cfg, "highAvail.fileSyncProgram"),
	    sizeof(h->fs_prog));
	util_strlcpy(dir, h->fs_prog, sizeof(dir));
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	snprintf(h->fs_result, sizeof(h->fs_result), "%s/.haDoDirect.result",
	    dir);
	h->fs_interval_ms = (uint64_t)cfg_num(&h->cfg, "highAvail.syncInterval");
}

static int
secondary_up(struct ha *h, uint64_t now)
{
	int i;

	for (i = 0; i < h->npeers; i++)
		if (peer_alive(h, &h->peers[i], now) &&
		    h->peers[i].last.role == HB_ROLE_SECONDARY)
			return 1;
	return 0;
}

static int
may_run(struct ha *h, char *why, size_t whylen)
{
	if (!h->ha_sync || !h->file_sync) {
		snprintf(why, whylen, "%s is disabled (haCtl sync %s on)",
		    !h->ha_sync ? "HA sync" : "file sync",
		    !h->ha_sync ? "ha" : "files");
		return 0;
	}
	if (role_current(h->role) != ROLE_PRIMARY || h->has_pending) {
		snprintf(why, whylen, "this node is %s: files are copied from "
		    "the primary only", role_name(role_current(h->role)));
		return 0;
	}
	return 1;
}

static void
spawn(struct ha *h, const char *why)
{
	pid_t pid;
	int fd;

	if ((pid = fork()) == -1) {
		log_warn("file sync: fork");
		return;
	}
	if (pid == 0) {
		setpgid(0, 0);  /* stopped as a group: the script and its rsync */
		if ((fd = open("/dev/null", O_RDWR)) >= 0) {
			dup2(fd, STDIN_FILENO);
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execl(h->fs_prog, ".haDoDirect", "-f", h->cfgfile, "-r",
		    h->fs_result, (char *)NULL);
		_exit(126);
	}
	h->fs_pid = pid;
	h->fs_started_ms = util_now_ms();
	h->fs_runs++;
	log_info("file sync started (%s): %s -f %s (pid %ld)", why, h->fs_prog,
	    h->cfgfile, (long)pid);
}

void
filesync_tick(struct ha *h)
{
	uint64_t now = util_now_ms();
	char why[128];

	if (h->fs_pid > 0)
		return;
	if (!may_run(h, why, sizeof(why))) {
		/* the next time this node is primary, copy once a peer is up */
		h->fs_next_ms = 0;
		h->fs_requested = 0;
		return;
	}
	if (!secondary_up(h, now))
		return;
	if (h->fs_requested)
		spawn(h, "requested");
	else if (h->fs_next_ms == 0)
		spawn(h, "a secondary is up");
	else if (now >= h->fs_next_ms)
		spawn(h, "highAvail.syncInterval");
	else
		return;
	h->fs_requested = 0;
	h->fs_next_ms = now + h->fs_interval_ms;
}

int
filesync_request(struct ha *h, char *msg, size_t msglen)
{
	char why[128];

	if (!may_run(h, why, sizeof(why))) {
		snprintf(msg, msglen, "file sync refused: %s", why);
		return -1;
	}
	if (!secondary_up(h, util_now_ms())) {
		snprintf(msg, msglen, "file sync refused: no secondary is up to "
		    "copy to");
		return -1;
	}
	if (h->fs_pid > 0) {
		snprintf(msg, msglen, "file sync already running (pid %ld); "
		    "haStatus shows its result when it ends", (long)h->fs_pid);
		return 0;
	}
	h->fs_requested = 1;
	filesync_tick(h);
	snprintf(msg, msglen, "file sync started: %s (result in %s; haStatus "
	    "shows it)", h->fs_prog, h->fs_result);
	return 0;
}

/* Read .haDoDirect.result: "SUCCESS|FAIL\ntime N\npeer …\nreason …".
 * 0 with the fields filled, -1 if there is none (or it is not one). */
int
filesync_result(const struct ha *h, char *result, size_t rlen, long long *t,
    char *reason, size_t reasonlen)
{
	char err[256], *txt, *line, *save = NULL;

	if ((txt = util_read_file(h->fs_result, 64 * 1024, NULL, err,
	    sizeof(err))) == NULL)
		return -1;
	*t = 0;
	result[0] = reason[0] = '\0';
	for (line = strtok_r(txt, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (result[0] == '\0')
			util_strlcpy(result, line, rlen);
		else if (strncmp(line, "time ", 5) == 0)
			*t = strtoll(line + 5, NULL, 10);
		else if (strncmp(line, "reason ", 7) == 0)
			util_strlcpy(reason, line + 7, reasonlen);
	}
	free(txt);
	return strcmp(result, "SUCCESS") == 0 || strcmp(result, "FAIL") == 0 ?
	    0 : -1;
}

int
filesync_reap(struct ha *h, pid_t pid, int status)
{
	char result[16], reason[512];
	long long t;

	if (pid != h->fs_pid || pid <= 0)
		return 0;
	h->fs_pid = 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 126) {
		log_errx("file sync: cannot run %s (highAvail.fileSyncProgram)",
		    h->fs_prog);
		return 1;
	}
	if (filesync_result(h, result, sizeof(result), &t, reason,
	    sizeof(reason)) == -1) {
		log_warnx("file sync: %s exited with status %d and left no "
		    "result in %s", h->fs_prog, WIFEXITED(status) ?
		    WEXITSTATUS(status) : -1, h->fs_result);
		return 1;
	}
	if (strcmp(result, "SUCCESS") == 0)
		log_info("file sync SUCCESS in %llu ms", (unsigned long long)
		    (util_now_ms() - h->fs_started_ms));
	else
		log_warnx("file sync FAIL: %s (details above in ha.log; check "
		    "the SSH trust with utils/haTrustCheck)", reason);
	return 1;
}

void
filesync_stop(struct ha *h)
{
	if (h->fs_pid > 0) {
		kill(-h->fs_pid, SIGTERM);
		waitpid(h->fs_pid, NULL, 0);
		h->fs_pid = 0;
	}
}
