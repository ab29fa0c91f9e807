/* util.h — small helpers shared by every hasvr program. */
#ifndef HASVR_UTIL_H
#define HASVR_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HASVR_ERRLEN 512

/* Copy with truncation; always NUL-terminates (like strlcpy). */
size_t util_strlcpy(char *dst, const char *src, size_t size);

/* Milliseconds on CLOCK_MONOTONIC. */
uint64_t util_now_ms(void);
/* Microseconds on CLOCK_MONOTONIC. */
uint64_t util_now_us(void);

/* Refuse a file that others can read or write (mode & 007).
 * Returns 0 when safe; -1 and fills err ("FILE is readable by others (mode 0644);
 * run chmod 600 FILE") otherwise, or when it cannot be stat'ed. */
int util_check_private(const char *path, char *err, size_t errlen);

/* Read a whole small file (at most maxlen bytes) into a malloc'ed NUL-terminated
 * buffer. Returns NULL and fills err on failure or when the file is larger. */
char *util_read_file(const char *path, size_t maxlen, size_t *lenp, char *err, size_t errlen);

/* Read a secret key file: must be private (util_check_private), holds one line
 * of at least minlen characters (trailing newline/whitespace stripped).
 * Returns a malloc'ed string or NULL with err filled. */
char *util_read_key(const char *path, size_t minlen, char *err, size_t errlen);

/* mkdir -p with the given mode. 0 or -1 with err filled. */
int util_mkdirs(const char *path, mode_t mode, char *err, size_t errlen);

/* Give uid:gid the files and folders directly in dir (not below them) whose
 * names start with prefix (NULL: all). Symbolic links, other kinds of file
 * and files with more than one hard link are left alone, so that whoever
 * may write in dir cannot point the chown at a file elsewhere. 0, or -1
 * with err filled ("chown DIR/NAME: why"). */
int util_chown_entries(const char *dir, const char *prefix, uid_t uid, gid_t gid,
    char *err, size_t errlen);

/* Write all / read all on a blocking fd, retrying EINTR and short transfers.
 * util_read_full returns bytes read (< n only at EOF) or -1. */
int util_write_full(int fd, const void *buf, size_t n);
ssize_t util_read_full(int fd, void *buf, size_t n);

/* Join dir and name into out ("dir/name"). -1 if it does not fit. */
int util_path_join(char *out, size_t outlen, const char *dir, const char *name);

/* Parse a byte size with optional K/M/G suffix (powers of 1024). 0 or -1. */
int util_parse_size(const char *s, long long *out);

/* Resident set size of a process in KiB (from /proc/PID/status), -1 on error. */
long util_rss_kib(pid_t pid);

/* Value of a hex digit, -1 if c is not one. */
int util_hexval(int c);
/* Canonical text of a numeric IPv4 or IPv6 address ("0:0::1" -> "::1"), so
 * that every node compares and sorts the same strings. 0, or -1 if s is not
 * an address or out is too small. */
int util_addr_canon(const char *s, char *out, size_t outlen);

/* fork twice, setsid, chdir /, stdio to /dev/null; returns in the daemon.
 * 0, or -1 with errno set. */
int util_daemonize(void);

/* Claim a daemon's pid file: an exclusive flock(2) on it, held open for
 * the life of the process; refuse (-1, err "PROGRAM is already running with
 * pid N (pid file PATH is locked)") while another process holds it, else
 * write our pid into it (mode 0644). 0, or -1 with err filled. */
int util_pidfile_claim(const char *path, const char *program, char *err,
    size_t errlen);

#endif
