/* ping.c — is highAvail.pingableIp reachable? Every pingInterval hasvr
 * runs the system's ping (iputils: one echo request, 1 s to answer) as a
 * child process; its exit status is the answer. ping carries the
 * privilege to send ICMP itself, so hasvr needs none. A ping that has not
 * finished after two intervals is killed and counts as unreachable. */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hasvr.h"
#include "log.h"
#include "util.h"

#define PING_PROGRAM "ping"

static void
ping_result(struct ha *h, int ok, const char *why)
{
	uint64_t now = util_now_ms();

	if (ok != h->ping_ok || h->ping_ms == 0) {
		if (ok)
			log_notice("pingable IP %s answers",
			    cfg_str(&h->cfg, "highAvail.pingableIp"));
		else
			log_warnx("pingable IP %s does not answer (%s): this "
			    "node will not take the primary role", cfg_str(&h->cfg,
			    "highAvail.pingableIp"), why);
	}
	h->ping_ok = ok;
	h->ping_ms = now;
	role_pingable(h->role, ok, now);
}

void
ping_start(struct ha *h)
{
	const char *addr = cfg_str(&h->cfg, "highAvail.pingableIp");
	uint64_t now = util_now_ms();
	pid_t pid;
	int fd;

	if (!h->ping_configured) {
		/* nothing to check: count as reachable */
		h->ping_ok = 1;
		h->ping_ms = now;
		role_pingable(h->role, 1, now);
		return;
	}
	if (h->ping_pid > 0) {
		if (now - h->ping_started_ms < 2 * (uint64_t)cfg_num(&h->cfg,
		    "highAvail.pingInterval") + 1000)
			return;
		kill(h->ping_pid, SIGKILL);
		/* reaped by the SIGCHLD handler, result below */
		ping_result(h, 0, "no answer in time");
		return;
	}
	if ((pid = fork()) == -1) {
		log_warn("pingable IP check: fork");
		return;
	}
	if (pid == 0) {
		if ((fd = open("/dev/null", O_RDWR)) >= 0) {
			dup2(fd, STDIN_FILENO);
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execlp(PING_PROGRAM, PING_PROGRAM, "-n", "-q", "-c", "1", "-W",
		    "1", addr, (char *)NULL);
		_exit(127);
	}
	h->ping_pid = pid;
	h->ping_started_ms = now;
}

void
ping_reap(struct ha *h, pid_t pid, int status)
{
	char why[64];

	if (pid != h->ping_pid)
		return;
	h->ping_pid = 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		ping_result(h, 1, "");
		return;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		snprintf(why, sizeof(why), "cannot run %s: install iputils-ping",
		    PING_PROGRAM);
	else if (WIFEXITED(status))
		snprintf(why, sizeof(why), "ping exit status %d",
		    WEXITSTATUS(status));
	else
		snprintf(why, sizeof(why), "ping killed by signal %d",
		    WTERMSIG(status));
	ping_result(h, 0, why);
}

void
ping_stop(struct ha *h)
{
	if (h->ping_pid > 0) {
		kill(h->ping_pid, SIGKILL);
		waitpid(h->ping_pid, NULL, 0);
		h->ping_pid = 0;
	}
}
