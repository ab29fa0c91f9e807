/* resync.c — guisvr's database moved aside for a resync (see resync.h). */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "guicfg.h"
#include "resync.h"
#include "util.h"

static int
move_entries(const char *from, const char *to, const char *keep,
    char *err, size_t errlen)
{
	char a[PATH_MAX], b[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int rc = 0;

	if ((d = opendir(from)) == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", from, strerror(errno));
		return -1;
	}
	if (util_mkdirs(to, 0750, err, errlen) != 0) {
		closedir(d);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    (keep != NULL && strcmp(de->d_name, keep) == 0))
			continue;
		if (util_path_join(a, sizeof(a), from, de->d_name) == -1 ||
		    util_path_join(b, sizeof(b), to, de->d_name) == -1 ||
		    rename(a, b) == -1) {
			snprintf(err, errlen, "move %s to %s: %s", a, to,
			    strerror(errno));
			rc = -1;
			break;
		}
	}
	closedir(d);
	return rc;
}

int
resync_move_aside(const struct guicfg_paths *gp, time_t when, char *dir,
    size_t dirlen, char *err, size_t errlen)
{
	const struct {
		const char *from, *sub, *keep;
	} parts[] = {
		{ gp->data, "data", "DB_CONFIG" },
		{ gp->log, "log", NULL },
		{ gp->init, "init", NULL },
	};
	char sub[PATH_MAX], stamp[32];
	struct tm tm;
	size_t i;
	int n;

	localtime_r(&when, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	/* a folder of its own, also for a second resync in the same second:
	 * nothing kept aside is ever replaced */
	if (util_mkdirs(gp->xdb, 0750, err, errlen) != 0)
		return -1;
	for (n = 1;; n++) {
		if ((n == 1 ? snprintf(dir, dirlen, "%s/resync-%s", gp->xdb,
		    stamp) : snprintf(dir, dirlen, "%s/resync-%s-%d", gp->xdb,
		    stamp, n)) >= (int)dirlen) {
			snprintf(err, errlen, "%s/resync-%s: path too long",
			    gp->xdb, stamp);
			return -1;
		}
		if (mkdir(dir, 0750) == 0)
			break;
		if (errno != EEXIST || n == 100) {
			snprintf(err, errlen, "mkdir %s: %s", dir, strerror(errno));
			return -1;
		}
	}
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		if (util_path_join(sub, sizeof(sub), dir, parts[i].sub) == -1) {
			snprintf(err, errlen, "%s/%s: path too long", dir,
			    parts[i].sub);
			return -1;
		}
		if (move_entries(parts[i].from, sub, parts[i].keep, err,
		    errlen) != 0)
			return -1;
	}
	return 0;
}
