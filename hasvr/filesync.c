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

#include "filesync.h"
#include "log.h"
#include "util.h"

struct filesync {
	char prog[1024], cfgfile[1024], result[1100];
	uint64_t interval_ms, next_ms, started_ms;
	pid_t pid;
	int requested, runs;
};

struct filesync *
filesync_new(const char *prog, const char *cfgfile, uint64_t interval_ms)
{
	struct filesync *fs;
	char dir[1024], *slash;

	if ((fs = calloc(1, sizeof(*fs))) == NULL)
		return NULL;
	util_strlcpy(fs->prog, prog, sizeof(fs->prog));
	util_strlcpy(fs->cfgfile, cfgfile, sizeof(fs->cfgfile));
	util_strlcpy(dir, fs->prog, sizeof(dir));
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	snprintf(fs->result, sizeof(fs->result), "%s/.haDoDirect.result", dir);
	fs->interval_ms = interval_ms;
	return fs;
}

static int
may_run(const struct filesync_gate *g, char *why, size_t whylen)
{
	if (!g->ha_sync || !g->file_sync) {
		snprintf(why, whylen, "%s is disabled (haCtl sync %s on)",
		    !g->ha_sync ? "HA sync" : "file sync",
		    !g->ha_sync ? "ha" : "files");
		return 0;
	}
	if (!g->primary) {
		snprintf(why, whylen, "this node is %s: files are copied from "
		    "the primary only", g->role);
		return 0;
	}
	return 1;
}

static void
spawn(struct filesync *fs, const char *why)
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
		execl(fs->prog, ".haDoDirect", "-f", fs->cfgfile, "-r",
		    fs->result, (char *)NULL);
		_exit(126);
	}
	fs->pid = pid;
	fs->started_ms = util_now_ms();
	fs->runs++;
	log_info("file sync started (%s): %s -f %s (pid %ld)", why, fs->prog,
	    fs->cfgfile, (long)pid);
}

void
filesync_tick(struct filesync *fs, const struct filesync_gate *g,
    uint64_t now)
{
	char why[128];

	if (fs->pid > 0)
		return;
	if (!may_run(g, why, sizeof(why))) {
		/* the next time this node is primary, copy once a peer is up */
		fs->next_ms = 0;
		fs->requested = 0;
		return;
	}
	if (!g->secondary_up)
		return;
	if (fs->requested)
		spawn(fs, "requested");
	else if (fs->next_ms == 0)
		spawn(fs, "a secondary is up");
	else if (now >= fs->next_ms)
		spawn(fs, "highAvail.syncInterval");
	else
		return;
	fs->requested = 0;
	fs->next_ms = now + fs->interval_ms;
}

int
filesync_request(struct filesync *fs, const struct filesync_gate *g,
    char *msg, size_t msglen)
{
	char why[128];

	if (!may_run(g, why, sizeof(why))) {
		snprintf(msg, msglen, "file sync refused: %s", why);
		return -1;
	}
	if (!g->secondary_up) {
		snprintf(msg, msglen, "file sync refused: no secondary is up to "
		    "copy to");
		return -1;
	}
	if (fs->pid > 0) {
		snprintf(msg, msglen, "file sync already running (pid %ld); "
		    "haStatus shows its result when it ends", (long)fs->pid);
		return 0;
	}
	fs->requested = 1;
	filesync_tick(fs, g, util_now_ms());
	snprintf(msg, msglen, "file sync started: %s (result in %s; haStatus "
	    "shows it)", fs->prog, fs->result);
	return 0;
}

/* Read .haDoDirect.result: "SUCCESS|FAIL\ntime N\npeer …\nreason …".
 * 0 with the fields filled, -1 if there is none (or it is not one). */
int
filesync_result(const struct filesync *fs, char *result, size_t rlen, long long *t,
    char *reason, size_t reasonlen)
{
	char err[256], *txt, *line, *save = NULL;

	if ((txt = util_read_file(fs->result, 64 * 1024, NULL, err,
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
filesync_reap(struct filesync *fs, pid_t pid, int status)
{
	char result[16], reason[512];
	long long t;

	if (pid != fs->pid || pid <= 0)
		return 0;
	fs->pid = 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 126) {
		log_errx("file sync: cannot run %s (highAvail.fileSyncProgram)",
		    fs->prog);
		return 1;
	}
	if (filesync_result(fs, result, sizeof(result), &t, reason,
	    sizeof(reason)) == -1) {
		log_warnx("file sync: %s exited with status %d and left no "
		    "result in %s", fs->prog, WIFEXITED(status) ?
		    WEXITSTATUS(status) : -1, fs->result);
		return 1;
	}
	if (strcmp(result, "SUCCESS") == 0)
		log_info("file sync SUCCESS in %llu ms", (unsigned long long)
		    (util_now_ms() - fs->started_ms));
	else
		log_warnx("file sync FAIL: %s (details above in ha.log; check "
		    "the SSH trust with utils/haTrustCheck)", reason);
	return 1;
}

void
filesync_free(struct filesync *fs)
{
	if (fs == NULL)
		return;
	if (fs->pid > 0) {
		kill(-fs->pid, SIGTERM);
		waitpid(fs->pid, NULL, 0);
	}
	free(fs);
}

int
filesync_running(const struct filesync *fs)
{
	return fs->pid > 0;
}

const char *
filesync_program(const struct filesync *fs)
{
	return fs->prog;
}
