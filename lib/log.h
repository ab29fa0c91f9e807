/* log.h — timestamped log files with size rotation and optional syslog.
 *
 * One log per process, e.g. var/errorLog/guiDaemon.0. When the file reaches
 * maxsize it is renamed to .1 (older ones shift up to .keep) and a fresh .0
 * is opened. Safe to call from any thread. Before log_open, lines go to stderr.
 *
 * log_warn appends ": strerror(errno)", log_warnx does not; fatal/fatalx log
 * and exit(1). Only main paths may call fatal. */
#ifndef HASVR_LOG_H
#define HASVR_LOG_H

#include <stddef.h>

enum log_level { LOG_LVL_ERR = 0, LOG_LVL_WARN, LOG_LVL_NOTICE, LOG_LVL_INFO, LOG_LVL_DEBUG };

struct log_opts {
	const char *path;       /* NULL: stderr only */
	size_t maxsize;         /* rotate when the file reaches this size (0: never) */
	int keep;               /* rotated files kept: .1 … .keep */
	int use_syslog;         /* also send to syslog */
	const char *ident;      /* syslog ident and line tag, e.g. "guisvr" */
	enum log_level level;   /* lines above this level are dropped */
	int also_stderr;        /* copy lines to stderr (foreground mode) */
};

int log_open(const struct log_opts *o, char *err, size_t errlen);
void log_close(void);
void log_set_level(enum log_level l);
enum log_level log_get_level(void);
/* "err" "warn" "notice" "info" "debug" -> level; -1 if unknown. */
int log_level_parse(const char *s);
const char *log_level_name(enum log_level l);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_errx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* At a level chosen at run time (a level past debug logs nothing). */
void log_at(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A line that can repeat fast (a full disk fails every write): logged at
 * most once per every_ms; log_limit_due says whether it may go now and
 * sets *held to how many were held back since the last one. Zeroed
 * storage is a fresh limit; safe from any thread. */
struct log_limit {
	unsigned long long last_ms;
	unsigned long held;
};
int log_limit_due(struct log_limit *lim, unsigned long long every_ms,
    unsigned long *held);
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
