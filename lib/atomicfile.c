/* atomicfile.c — replace a file so that a crash leaves the old or the new
 * content, never a mix: write a temporary file beside it, fsync, rename over
 * the target, fsync the directory (which makes the rename itself durable). */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "atomicfile.h"
#include "util.h"

/* Distinguishes temporary files of concurrent writers in one process. */
static unsigned long atomicfile_seq;

static int
fsync_dir(const char *path, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, saved;

	if (slash == NULL)
		util_strlcpy(dir, ".", sizeof(dir));
	else if (slash == path)
		util_strlcpy(dir, "/", sizeof(dir));
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "open directory %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	if (fsync(fd) == -1) {
		saved = errno;
		close(fd);
		snprintf(err, errlen, "fsync directory %s: %s", dir,
		    strerror(saved));
		return -1;
	}
	close(fd);
	return 0;
}

int
atomicfile_write(const char *path, const void *data, size_t len, mode_t mode,
    char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	unsigned long seq;
	int fd, n;

	seq = __atomic_add_fetch(&atomicfile_seq, 1, __ATOMIC_RELAXED);
	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld.%lu", path, (long)getpid(),
	    seq);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		snprintf(err, errlen, "path is too long for a temporary file: %s",
		    path);
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    mode)) == -1) {
		snprintf(err, errlen, "create %s: %s", tmp, strerror(errno));
		return -1;
	}
	/* The umask must not weaken or widen the mode the caller asked for. */
	if (fchmod(fd, mode) == -1) {
		snprintf(err, errlen, "chmod %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (util_write_full(fd, data, len) == -1) {
		snprintf(err, errlen, "write %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (fsync(fd) == -1) {
		snprintf(err, errlen, "fsync %s: %s", tmp, strerror(errno));
		goto fail;
	}
	n = close(fd);
	fd = -1;
	if (n == -1) {
		snprintf(err, errlen, "close %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (rename(tmp, path) == -1) {
		snprintf(err, errlen, "rename %s to %s: %s", tmp, path,
		    strerror(errno));
		goto fail;
	}
	return fsync_dir(path, err, errlen);
fail:
	if (fd != -1)
		close(fd);
	unlink(tmp);
	return -1;
}
