/* log.c — timestamped log lines, size rotation, optional syslog.
 *
 * Every line is built whole in memory and written with one write(2) on an
 * O_APPEND descriptor, so lines from several threads never interleave.
 * One mutex guards the descriptor, the size counter and the rotation.
 * A log that cannot be written (disk full, file removed by hand) must never
 * stop the daemon: the problem is reported once on stderr and lines are
 * dropped until writing works again. */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define LOG_LINE_MAX	8192	/* longer messages are cut, marked "..." */

static pthread_mutex_t log_mtx = PTHREAD_MUTEX_INITIALIZER;
static int log_fd = -1;
static char *log_path;
static size_t log_maxsize;
static int log_keep;
static size_t log_size;          /* bytes in the current file */
static int log_syslog;
static char *log_ident;
static enum log_level log_lvl = LOG_LVL_INFO;
static int log_stderr;
static int log_failing;          /* a write failure was reported on stderr */

static const char *const level_words[] = {
	"err", "warn", "notice", "info", "debug"
};
static const char *const level_labels[] = {
	"ERROR", "WARN", "NOTICE", "INFO", "DEBUG"
};
static const int level_syslog[] = {
	LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG
};

/* Name of rotated file n (n >= 1): "x.0" becomes "x.n", anything else "x.n"
 * appended. n == 0 is the live file itself. */
static int
rotated_name(char *out, size_t outlen, const char *path, int n)
{
	size_t len = strlen(path);
	int r;

	if (n == 0)
		r = snprintf(out, outlen, "%s", path);
	else if (len >= 2 && strcmp(path + len - 2, ".0") == 0)
		r = snprintf(out, outlen, "%.*s%d", (int)(len - 1), path, n);
	else
		r = snprintf(out, outlen, "%s.%d", path, n);
	return (r < 0 || (size_t)r >= outlen) ? -1 : 0;
}

/* Complain on stderr once per failure episode; caller holds the mutex. */
static void
report_failure(const char *what, const char *file, int error)
{
	char buf[1024];
	int n;

	if (log_failing)
		return;
	log_failing = 1;
	n = snprintf(buf, sizeof(buf), "%s: log: cannot %s %s: %s; log lines "
	    "are lost until this is fixed (check free space on its disk)\n",
	    log_ident ? log_ident : "hasvr", what, file, strerror(error));
	if (n > 0)
		(void)!write(STDERR_FILENO, buf,
		    (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static int
open_file(void)
{
	struct stat st;
	int fd;

	fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == 0)
		log_size = (size_t)st.st_size;
	else
		log_size = 0;
	log_fd = fd;
	return 0;
}

/* Shift path.(keep-1) -> path.keep ... path.0 -> path.1 and open a fresh
 * file; the oldest beyond keep is removed. Caller holds the mutex. */
static void
rotate(void)
{
	char from[4096], to[4096];
	int i;

	if (log_fd != -1) {
		close(log_fd);
		log_fd = -1;
	}
	if (log_keep < 1) {
		/* No history wanted: start the file over. */
		if (unlink(log_path) == -1 && errno != ENOENT)
			report_failure("remove", log_path, errno);
	} else {
		if (rotated_name(to, sizeof(to), log_path, log_keep) == 0)
			unlink(to);
		for (i = log_keep - 1; i >= 0; i--) {
			if (rotated_name(from, sizeof(from), log_path, i) == -1 ||
			    rotated_name(to, sizeof(to), log_path, i + 1) == -1)
				continue;
			if (rename(from, to) == -1 && errno != ENOENT)
				report_failure("rotate", from, errno);
		}
	}
	if (open_file() == -1)
		report_failure("open", log_path, errno);
}

/* Caller holds the mutex. */
static void
write_file(const char *line, size_t len)
{
	if (log_path == NULL)
		return;
	if (log_maxsize > 0 && log_size > 0 && log_size + len > log_maxsize)
		rotate();
	if (log_fd == -1 && open_file() == -1) {
		report_failure("open", log_path, errno);
		return;
	}
	if (util_write_full(log_fd, line, len) == -1) {
		report_failure("write", log_path, errno);
		return;
	}
	log_size += len;
	if (log_failing) {
		log_failing = 0;
		(void)!write(STDERR_FILENO, "log: writing works again\n", 25);
	}
}

/* Append msg to buf with control characters made visible, so a peer's or a
 * file's bytes cannot forge extra log lines. Returns the new length. */
static size_t
append_clean(char *buf, size_t len, size_t cap, const char *msg)
{
	const unsigned char *p;

	for (p = (const unsigned char *)msg; *p != '\0'; p++) {
		if (len + 5 >= cap) {
			memcpy(buf + cap - 5, "...", 3);
			return cap - 2;
		}
		if (*p == '\n') {
			buf[len++] = '\\';
			buf[len++] = 'n';
		} else if (*p < 0x20 && *p != '\t') {
			len += (size_t)snprintf(buf + len, cap - len, "\\x%02x", *p);
		} else if (*p == 0x7f) {
			len += (size_t)snprintf(buf + len, cap - len, "\\x7f");
		} else
			buf[len++] = (char)*p;
	}
	return len;
}

static void
vlog(enum log_level lvl, int force, int to_stderr, const char *suffix,
    const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX], line[LOG_LINE_MAX + 128];
	struct timespec ts;
	struct tm tm;
	size_t len;
	int saved = errno, n;

	pthread_mutex_lock(&log_mtx);
	if (!force && lvl > log_lvl) {
		pthread_mutex_unlock(&log_mtx);
		errno = saved;
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line),
	    "%04d-%02d-%02d %02d:%02d:%02d.%03ld [%ld] %s ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, (long)getpid(),
	    level_labels[lvl]);
	len = n > 0 ? (size_t)n : 0;
	len = append_clean(line, len, sizeof(line) - 1, msg);
	if (suffix != NULL)
		len = append_clean(line, len, sizeof(line) - 1, suffix);
	line[len++] = '\n';

	write_file(line, len);
	if (log_path == NULL || log_stderr || to_stderr)
		(void)!write(STDERR_FILENO, line, len);
	if (log_syslog)
		syslog(level_syslog[lvl], "%s%s", msg, suffix ? suffix : "");
	pthread_mutex_unlock(&log_mtx);
	errno = saved;
}

int
log_open(const struct log_opts *o, char *err, size_t errlen)
{
	char *path = NULL, *ident = NULL;
	int ret = 0;

	if ((o->path != NULL && (path = strdup(o->path)) == NULL) ||
	    (ident = strdup(o->ident ? o->ident : "hasvr")) == NULL) {
		free(path);
		snprintf(err, errlen, "log: out of memory");
		return -1;
	}
	pthread_mutex_lock(&log_mtx);
	if (log_fd != -1)
		close(log_fd);
	log_fd = -1;
	free(log_path);
	log_path = path;
	if (log_syslog)
		closelog();
	free(log_ident);
	log_ident = ident;
	log_maxsize = o->maxsize;
	log_keep = o->keep;
	log_syslog = o->use_syslog;
	log_lvl = o->level > LOG_LVL_DEBUG ? LOG_LVL_DEBUG : o->level;
	log_stderr = o->also_stderr;
	log_failing = 0;
	if (log_syslog)
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	if (log_path != NULL && open_file() == -1) {
		snprintf(err, errlen, "cannot open log file %s: %s", log_path,
		    strerror(errno));
		free(log_path);
		log_path = NULL;
		ret = -1;
	}
	pthread_mutex_unlock(&log_mtx);
	return ret;
}

void
log_close(void)
{
	pthread_mutex_lock(&log_mtx);
	if (log_fd != -1)
		close(log_fd);
	log_fd = -1;
	free(log_path);
	log_path = NULL;
	if (log_syslog)
		closelog();
	log_syslog = 0;
	free(log_ident);
	log_ident = NULL;
	log_stderr = 0;
	log_failing = 0;
	pthread_mutex_unlock(&log_mtx);
}

void
log_set_level(enum log_level l)
{
	pthread_mutex_lock(&log_mtx);
	log_lvl = l > LOG_LVL_DEBUG ? LOG_LVL_DEBUG : l;
	pthread_mutex_unlock(&log_mtx);
}

enum log_level
log_get_level(void)
{
	enum log_level l;

	pthread_mutex_lock(&log_mtx);
	l = log_lvl;
	pthread_mutex_unlock(&log_mtx);
	return l;
}

int
log_level_parse(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(level_words) / sizeof(level_words[0]); i++)
		if (strcmp(s, level_words[i]) == 0)
			return (int)i;
	return -1;
}

const char *
log_level_name(enum log_level l)
{
	if ((unsigned)l >= sizeof(level_words) / sizeof(level_words[0]))
		return "unknown";
	return level_words[l];
}

#define LOG_FN(name, lvl)					\
void								\
name(const char *fmt, ...)					\
{								\
	va_list ap;						\
								\
	va_start(ap, fmt);					\
	vlog(lvl, 0, 0, NULL, fmt, ap);				\
	va_end(ap);						\
}

LOG_FN(log_debug, LOG_LVL_DEBUG)
LOG_FN(log_info, LOG_LVL_INFO)
LOG_FN(log_notice, LOG_LVL_NOTICE)
LOG_FN(log_warnx, LOG_LVL_WARN)
LOG_FN(log_errx, LOG_LVL_ERR)

void
log_at(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	if (lvl > LOG_LVL_DEBUG)
		return;
	va_start(ap, fmt);
	vlog(lvl, 0, 0, NULL, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	char suffix[256];
	va_list ap;
	int saved = errno;

	snprintf(suffix, sizeof(suffix), ": %s", strerror(saved));
	va_start(ap, fmt);
	vlog(LOG_LVL_WARN, 0, 0, suffix, fmt, ap);
	va_end(ap);
	errno = saved;
}

/* The reason a daemon stops must reach the administrator even when the log
 * file is the problem: fatal lines also go to stderr. */
void
fatal(const char *fmt, ...)
{
	char suffix[256];
	va_list ap;
	int saved = errno;

	snprintf(suffix, sizeof(suffix), ": %s", strerror(saved));
	va_start(ap, fmt);
	vlog(LOG_LVL_ERR, 1, 1, suffix, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_ERR, 1, 1, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}

static pthread_mutex_t limit_mtx = PTHREAD_MUTEX_INITIALIZER;

int
log_limit_due(struct log_limit *lim, unsigned long long every_ms,
    unsigned long *held)
{
	struct timespec ts;
	unsigned long long now;
	int due;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (unsigned long long)ts.tv_sec * 1000 +
	    (unsigned long long)ts.tv_nsec / 1000000;
	pthread_mutex_lock(&limit_mtx);
	due = lim->last_ms == 0 || now - lim->last_ms >= every_ms;
	if (due) {
		*held = lim->held;
		lim->held = 0;
		lim->last_ms = now ? now : 1;
	} else
		lim->held++;
	pthread_mutex_unlock(&limit_mtx);
	return due;
}
