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

#include <event2/event.h>

#include "log.h"
#include "ping.h"
#include "util.h"

#define PING_PROGRAM "ping"

struct ping {
	char *addr;                 /* NULL: nothing to check */
	uint64_t interval_ms;
	void (*on_result)(int, uint64_t, void *);
	void *arg;
	struct event *timer;
	int ok;
	uint64_t at_ms;             /* when the last result came */
	pid_t pid;                  /* the ping running, 0 none */
	uint64_t started_ms;
};

/* sent_ms: when the ping that gave this result left (what it proves is
 * as of then) */
static void
ping_result(struct ping *p, int ok, const char *why, uint64_t sent_ms)
{
	uint64_t now = util_now_ms();

	if (ok != p->ok || p->at_ms == 0) {
		if (ok)
			log_notice("pingable IP %s answers", p->addr);
		else
			log_warnx("pingable IP %s does not answer (%s): this "
			    "node will not take the primary role", p->addr, why);
	}
	p->ok = ok;
	p->at_ms = now;
	p->on_result(ok, sent_ms, p->arg);
}

static void
ping_start(struct ping *p)
{
	uint64_t now = util_now_ms();
	pid_t pid;
	int fd;

	if (p->addr == NULL) {
		/* nothing to check: count as reachable */
		p->ok = 1;
		p->at_ms = now;
		p->on_result(1, now, p->arg);
		return;
	}
	if (p->pid > 0) {
		if (now - p->started_ms < 2 * p->interval_ms + 1000)
			return;
		kill(p->pid, SIGKILL);
		/* reaped by the SIGCHLD handler, result below */
		ping_result(p, 0, "no answer in time", p->started_ms);
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
		    "1", p->addr, (char *)NULL);
		_exit(127);
	}
	p->pid = pid;
	p->started_ms = now;
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	ping_start(arg);
}

struct ping *
ping_new(struct event_base *base, const char *addr, uint64_t interval_ms,
    void (*on_result)(int, uint64_t, void *), void *arg)
{
	struct ping *p;
	struct timeval tv;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	if ((addr != NULL && (p->addr = strdup(addr)) == NULL) ||
	    (p->timer = event_new(base, -1, EV_PERSIST, on_timer, p)) == NULL) {
		free(p->addr);
		free(p);
		return NULL;
	}
	p->interval_ms = interval_ms;
	p->on_result = on_result;
	p->arg = arg;
	tv.tv_sec = (time_t)(interval_ms / 1000);
	tv.tv_usec = (suseconds_t)(interval_ms % 1000) * 1000;
	event_add(p->timer, &tv);
	ping_start(p);
	return p;
}

int
ping_reap(struct ping *p, pid_t pid, int status)
{
	char why[64];

	if (p == NULL || pid != p->pid || pid <= 0)
		return 0;
	p->pid = 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		ping_result(p, 1, "", p->started_ms);
		return 1;
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
	ping_result(p, 0, why, p->started_ms);
	return 1;
}

void
ping_now(struct ping *p)
{
	if (p->pid <= 0)
		ping_start(p);
}

void
ping_free(struct ping *p)
{
	if (p == NULL)
		return;
	if (p->pid > 0) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
	}
	event_free(p->timer);
	free(p->addr);
	free(p);
}

const char *
ping_addr(const struct ping *p)
{
	return p->addr;
}

int
ping_ok(const struct ping *p)
{
	return p->ok;
}

uint64_t
ping_at_ms(const struct ping *p)
{
	return p->at_ms;
}
