/* fsutil.c — whole-file copy and directory tree removal (see fsutil.h). */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "util.h"

int
fsutil_copy_file(const char *from, const char *to, char *err, size_t errlen)
{
	char buf[65536];
	ssize_t n;
	int in, out;

	if ((in = open(from, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", from, strerror(errno));
		return -1;
	}
	if ((out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640)) == -1) {
		snprintf(err, errlen, "%s: %s", to, strerror(errno));
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (util_write_full(out, buf, (size_t)n) == -1) {
			n = -1;
			break;
		}
	if (n < 0 || fsync(out) == -1) {
		snprintf(err, errlen, "copying %s to %s: %s", from, to,
		    strerror(errno));
		close(in);
		close(out);
		return -1;
	}
	close(in);
	close(out);
	return 0;
}

void
fsutil_rmtree(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d;

	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			if (util_path_join(path, sizeof(path), dir, de->d_name) == -1)
				continue;
			if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
				fsutil_rmtree(path);
			else
				unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
}
