/* util.c — small helpers shared by every hasvr program.
 *
 * None of these log or exit: they return an error code and, where the
 * caller needs to tell the administrator something, fill err. */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

size_t
util_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size > 0) {
		size_t n = len >= size ? size - 1 : len;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

uint64_t
util_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
util_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int
util_check_private(const char *path, char *err, size_t errlen)
{
	struct stat st;
	const char *what;

	if (stat(path, &st) == -1) {
		snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
		return -1;
	}
	/* A secret that a group member may rewrite is as bad as one others read. */
	if (st.st_mode & S_IROTH)
		what = "readable by others";
	else if (st.st_mode & S_IWOTH)
		what = "writable by others";
	else if (st.st_mode & S_IWGRP)
		what = "writable by its group";
	else if (st.st_mode & S_IXOTH)
		what = "accessible by others";
	else
		return 0;
	snprintf(err, errlen, "%s is %s (mode %04o): run chmod 600 %s",
	    path, what, (unsigned)(st.st_mode & 07777), path);
	return -1;
}

char *
util_read_file(const char *path, size_t maxlen, size_t *lenp, char *err, size_t errlen)
{
	struct stat st;
	char *buf;
	ssize_t n;
	int fd, saved;

	/* O_NONBLOCK: a FIFO put in place of a file must not hang us in open. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		saved = errno;
		close(fd);
		snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(saved));
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(err, errlen, "%s: not a regular file%s", path,
		    S_ISDIR(st.st_mode) ? " (it is a directory)" : "");
		return NULL;
	}
	if (maxlen == SIZE_MAX || (buf = malloc(maxlen + 1)) == NULL) {
		close(fd);
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	/* Read one byte more than allowed to tell "exactly maxlen" from "larger". */
	n = util_read_full(fd, buf, maxlen + 1);
	saved = errno;
	close(fd);
	if (n < 0) {
		free(buf);
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(saved));
		return NULL;
	}
	if ((size_t)n > maxlen) {
		free(buf);
		snprintf(err, errlen, "%s: file is too large (more than %zu bytes)",
		    path, maxlen);
		return NULL;
	}
	buf[n] = '\0';
	if (lenp != NULL)
		*lenp = (size_t)n;
	return buf;
}

char *
util_read_key(const char *path, size_t minlen, char *err, size_t errlen)
{
	char *key;
	size_t len;

	if (util_check_private(path, err, errlen) == -1)
		return NULL;
	if ((key = util_read_file(path, 4096, &len, err, errlen)) == NULL)
		return NULL;
	while (len > 0 && (key[len - 1] == '\n' || key[len - 1] == '\r' ||
	    key[len - 1] == ' ' || key[len - 1] == '\t'))
		key[--len] = '\0';
	if (memchr(key, '\0', len) != NULL || strpbrk(key, "\r\n") != NULL) {
		snprintf(err, errlen, "%s: the key must be a single line of text",
		    path);
		goto fail;
	}
	if (len < minlen) {
		snprintf(err, errlen,
		    "%s: key is too short (%zu chars, at least %zu needed)",
		    path, len, minlen);
		goto fail;
	}
	return key;
fail:
	explicit_bzero(key, len);
	free(key);
	return NULL;
}

int
util_chown_entries(const char *dir, const char *prefix, uid_t uid, gid_t gid,
    char *err, size_t errlen)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd, rc = 0;

	if ((d = opendir(dir)) == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", dir, strerror(errno));
		return -1;
	}
	while (rc == 0 && (errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    (prefix != NULL && strncmp(de->d_name, prefix,
		    strlen(prefix)) != 0))
			continue;
		/* the checks and the chown on one open file: no name swapped
		 * in between */
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW |
		    O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (fd == -1)
			continue;       /* a link, a socket, gone: not ours to fix */
		if (fstat(fd, &st) == 0 && (S_ISDIR(st.st_mode) ||
		    (S_ISREG(st.st_mode) && st.st_nlink == 1)) &&
		    (st.st_uid != uid || st.st_gid != gid) &&
		    fchown(fd, uid, gid) == -1) {
			snprintf(err, errlen, "chown %s/%s: %s", dir, de->d_name,
			    strerror(errno));
			rc = -1;
		}
		close(fd);
	}
	if (rc == 0 && errno != 0) {
		snprintf(err, errlen, "%s: cannot read: %s", dir, strerror(errno));
		rc = -1;
	}
	closedir(d);
	return rc;
}

int
util_mkdirs(const char *path, mode_t mode, char *err, size_t errlen)
{
	char buf[PATH_MAX];
	struct stat st;
	char *p;

	if (*path == '\0') {
		snprintf(err, errlen, "mkdir: empty directory name");
		return -1;
	}
	if (util_strlcpy(buf, path, sizeof(buf)) >= sizeof(buf)) {
		snprintf(err, errlen, "%s: path is too long", path);
		return -1;
	}
	/* Create each ancestor in turn; an existing directory is fine. */
	for (p = buf + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		if (p[-1] != '/') {
			char c = *p;

			*p = '\0';
			if (mkdir(buf, mode) == -1) {
				int saved = errno;

				if (saved != EEXIST) {
					snprintf(err, errlen, "mkdir %s: %s", buf,
					    strerror(saved));
					return -1;
				}
				if (stat(buf, &st) == -1 || !S_ISDIR(st.st_mode)) {
					snprintf(err, errlen,
					    "mkdir %s: exists and is not a directory",
					    buf);
					return -1;
				}
			}
			*p = c;
		}
		if (*p == '\0')
			break;
	}
	return 0;
}

int
util_write_full(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

ssize_t
util_read_full(int fd, void *buf, size_t n)
{
	char *p = buf;
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		if ((r = read(fd, p + got, n - got)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int
util_path_join(char *out, size_t outlen, const char *dir, const char *name)
{
	size_t dl = strlen(dir);
	int n;

	/* "/" + "x" is "/x", not "//x"; a trailing slash in dir is not doubled. */
	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	if (dl == 1 && dir[0] == '/')
		dl = 0;
	if (dl > INT_MAX)
		return -1;
	n = snprintf(out, outlen, "%.*s/%s", (int)dl, dir, name);
	if (n < 0 || (size_t)n >= outlen)
		return -1;
	return 0;
}

int
util_parse_size(const char *s, long long *out)
{
	long long v = 0, mult = 1;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (LLONG_MAX - (*p - '0')) / 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	switch (*p) {
	case '\0':
		break;
	case 'k': case 'K':
		mult = 1024LL;
		p++;
		break;
	case 'm': case 'M':
		mult = 1024LL * 1024;
		p++;
		break;
	case 'g': case 'G':
		mult = 1024LL * 1024 * 1024;
		p++;
		break;
	default:
		return -1;
	}
	if (*p != '\0' || v > LLONG_MAX / mult)
		return -1;
	*out = v * mult;
	return 0;
}

long
util_rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((fp = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0) {
			char *end;

			kib = strtol(line + 6, &end, 10);
			if (end == line + 6 || kib < 0)
				kib = -1;
			break;
		}
	}
	fclose(fp);
	return kib;
}

int
util_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Detach from the terminal: fork, setsid, fork again, chdir /, stdio on
 * /dev/null. Returns in the grandchild only; 0, or -1 with errno set
 * (the caller reports it). */
int
util_daemonize(void)
{
	pid_t pid;
	int fd;

	if ((pid = fork()) < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -1;
	if ((pid = fork()) < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (chdir("/") != 0)
		return -1;
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	return 0;
}

int
util_pidfile_claim(const char *path, const char *program, char *err,
    size_t errlen)
{
	static int held = -1;
	char buf[64];
	ssize_t n;
	long pid;
	int fd;

	/* The lock, not the pid in the file, says who runs: it goes with
	 * the process (also a killed one, before it is reaped), and a stale
	 * pid reused by an unrelated process does not count. */
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1) {
		snprintf(err, errlen, "pid file %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		int e = errno;

		n = pread(fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		pid = strtol(buf, NULL, 10);
		close(fd);
		if (e == EWOULDBLOCK)
			snprintf(err, errlen, "%s is already running with pid "
			    "%ld (pid file %s is locked)", program, pid, path);
		else
			snprintf(err, errlen, "pid file %s: cannot lock it: %s",
			    path, strerror(e));
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, (size_t)n, 0) != n) {
		snprintf(err, errlen, "pid file %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	/* held for the life of the process (close-on-exec: not by children) */
	if (held != -1)
		close(held);
	held = fd;
	return 0;
}

int
util_addr_canon(const char *s, char *out, size_t outlen)
{
	unsigned char a[sizeof(struct in6_addr)];
	char tmp[INET6_ADDRSTRLEN];
	int af;

	if (inet_pton(AF_INET, s, a) == 1)
		af = AF_INET;
	else if (inet_pton(AF_INET6, s, a) == 1)
		af = AF_INET6;
	else
		return -1;
	if (inet_ntop(af, a, tmp, sizeof(tmp)) == NULL)
		return -1;
	return util_strlcpy(out, tmp, outlen) >= outlen ? -1 : 0;
}
