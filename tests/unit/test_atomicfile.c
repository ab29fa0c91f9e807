/* test_atomicfile.c — crash-safe file replacement (lib/atomicfile.c) and
 * the file helpers of lib/util.c it relies on. */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "atomicfile.h"
#include "util.h"

/* Files in dir other than the ones named: leftover temporary files. */
static int
count_entries(const char *dir)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
test_write_replace(void)
{
	char *dir = unit_tmpdir(), path[512], err[HASVR_ERRLEN], *s;
	struct stat st;
	size_t len;
	mode_t old;

	snprintf(path, sizeof(path), "%s/state", dir);
	/* the mode is exact whatever the umask */
	old = umask(077);
	CU_ASSERT_EQUAL(atomicfile_write(path, "epoch 1\n", 8, 0644, err,
	    sizeof(err)), 0);
	umask(old);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0644);
	s = util_read_file(path, 100, &len, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(len, 8);
	CU_ASSERT_STRING_EQUAL(s, "epoch 1\n");
	free(s);

	/* replaces the old content and mode */
	CU_ASSERT_EQUAL(atomicfile_write(path, "epoch 22\n", 9, 0600, err,
	    sizeof(err)), 0);
	s = util_read_file(path, 100, &len, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_STRING_EQUAL(s, "epoch 22\n");
	free(s);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);

	/* an empty file is fine */
	CU_ASSERT_EQUAL(atomicfile_write(path, "", 0, 0600, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_size, 0);
	CU_ASSERT_EQUAL(count_entries(dir), 1);
	unit_rmtree(dir);
	free(dir);
}

static void
test_write_errors(void)
{
	char *dir = unit_tmpdir(), path[512], want[1024], err[HASVR_ERRLEN];
	char sub[512], longp[5000];

	/* the directory does not exist */
	snprintf(path, sizeof(path), "%s/nodir/state", dir);
	CU_ASSERT_EQUAL(atomicfile_write(path, "x", 1, 0600, err, sizeof(err)),
	    -1);
	snprintf(want, sizeof(want), "create %s.tmp.%ld.", path, (long)getpid());
	CU_ASSERT_EQUAL(strncmp(err, want, strlen(want)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, ": No such file or directory"));

	/* the target is a directory: rename fails, no temporary file left */
	snprintf(sub, sizeof(sub), "%s/adir", dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(sub, 0700), 0);
	CU_ASSERT_EQUAL(atomicfile_write(sub, "x", 1, 0600, err, sizeof(err)),
	    -1);
	snprintf(want, sizeof(want), "rename %s.tmp.%ld.", sub, (long)getpid());
	CU_ASSERT_EQUAL(strncmp(err, want, strlen(want)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, ": Is a directory"));
	CU_ASSERT_EQUAL(count_entries(dir), 1);

	/* a path too long for a temporary name */
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	CU_ASSERT_EQUAL(atomicfile_write(longp, "x", 1, 0600, err, sizeof(err)),
	    -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "path is too long"));
	unit_rmtree(dir);
	free(dir);
}

/* ---- util ------------------------------------------------------------ */

static char *
make_file(const char *dir, const char *name, const char *data, mode_t mode)
{
	char *path;
	int fd;

	if (asprintf(&path, "%s/%s", dir, name) == -1)
		abort();
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CU_ASSERT_FATAL(fd != -1);
	CU_ASSERT_EQUAL(util_write_full(fd, data, strlen(data)), 0);
	fchmod(fd, mode);
	close(fd);
	return path;
}

static void
test_util_private_and_key(void)
{
	char *dir = unit_tmpdir(), err[HASVR_ERRLEN], want[1024], *p, *k;

	p = make_file(dir, "key", "0123456789abcdef  \n\n", 0600);
	CU_ASSERT_EQUAL(util_check_private(p, err, sizeof(err)), 0);
	k = util_read_key(p, 16, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL(k);
	if (k != NULL)
		CU_ASSERT_STRING_EQUAL(k, "0123456789abcdef");
	free(k);
	/* too short */
	CU_ASSERT_PTR_NULL(util_read_key(p, 32, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s: key is too short (16 chars, at least "
	    "32 needed)", p);
	CU_ASSERT_STRING_EQUAL(err, want);

	/* readable by others */
	chmod(p, 0644);
	CU_ASSERT_EQUAL(util_check_private(p, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s is readable by others (mode 0644): run "
	    "chmod 600 %s", p, p);
	CU_ASSERT_STRING_EQUAL(err, want);
	CU_ASSERT_PTR_NULL(util_read_key(p, 1, err, sizeof(err)));
	CU_ASSERT_STRING_EQUAL(err, want);
	/* writable by the group */
	chmod(p, 0660);
	CU_ASSERT_EQUAL(util_check_private(p, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s is writable by its group (mode 0660): "
	    "run chmod 600 %s", p, p);
	CU_ASSERT_STRING_EQUAL(err, want);
	chmod(p, 0602);
	CU_ASSERT_EQUAL(util_check_private(p, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "is writable by others (mode 0602)"));
	/* group-readable is allowed (a service group may share the key) */
	chmod(p, 0640);
	CU_ASSERT_EQUAL(util_check_private(p, err, sizeof(err)), 0);
	free(p);

	/* two lines are not a key */
	p = make_file(dir, "two", "0123456789abcdef\nsecond\n", 0600);
	CU_ASSERT_PTR_NULL(util_read_key(p, 4, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "single line"));
	free(p);

	/* missing */
	snprintf(want, sizeof(want), "%s/none", dir);
	CU_ASSERT_EQUAL(util_check_private(want, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot stat: No such file"));
	CU_ASSERT_PTR_NULL(util_read_key(want, 4, err, sizeof(err)));
	unit_rmtree(dir);
	free(dir);
}

static uid_t
owner(const char *dir, const char *name)
{
	char path[1024];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return lstat(path, &st) == 0 ? st.st_uid : (uid_t)-1;
}

/* As root: files and folders in the folder change owner, links (symbolic
 * or hard) and what is below a subfolder do not; the prefix selects. */
static void
test_util_chown_entries(void)
{
	char *dir, *out, err[HASVR_ERRLEN], path[1024], name[1024];
	const uid_t to = 65534;         /* nobody's, whether it exists or not */

	if (geteuid() != 0)
		return;         /* only root gives files away */
	dir = unit_tmpdir();
	out = unit_tmpdir();
	free(make_file(dir, "DB_CONFIG", "x", 0644));
	free(make_file(dir, "guiDaemon.0", "x", 0640));
	free(make_file(dir, "ha.log", "x", 0640));
	snprintf(path, sizeof(path), "%s/sub", dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(path, 0750), 0);
	free(make_file(path, "below", "x", 0600));
	free(make_file(out, "target", "x", 0600));
	snprintf(path, sizeof(path), "%s/target", out);
	snprintf(name, sizeof(name), "%s/symlink", dir);
	CU_ASSERT_EQUAL(symlink(path, name), 0);
	snprintf(name, sizeof(name), "%s/hardlink", dir);
	CU_ASSERT_EQUAL(link(path, name), 0);

	CU_ASSERT_EQUAL(util_chown_entries(dir, "guiDaemon.", to, to, err,
	    sizeof(err)), 0);
	CU_ASSERT_EQUAL(owner(dir, "guiDaemon.0"), to);
	CU_ASSERT_EQUAL(owner(dir, "ha.log"), 0);
	CU_ASSERT_EQUAL(owner(dir, "DB_CONFIG"), 0);

	CU_ASSERT_EQUAL(util_chown_entries(dir, NULL, to, to, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(owner(dir, "DB_CONFIG"), to);
	CU_ASSERT_EQUAL(owner(dir, "ha.log"), to);
	CU_ASSERT_EQUAL(owner(dir, "sub"), to);
	CU_ASSERT_EQUAL(owner(dir, "sub/below"), 0);
	CU_ASSERT_EQUAL(owner(dir, "symlink"), 0);
	CU_ASSERT_EQUAL(owner(dir, "hardlink"), 0);
	CU_ASSERT_EQUAL(owner(out, "target"), 0);

	snprintf(path, sizeof(path), "%s/none", dir);
	CU_ASSERT_EQUAL(util_chown_entries(path, NULL, to, to, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot open: No such file"));
	unit_rmtree(dir);
	unit_rmtree(out);
	free(dir);
	free(out);
}

static void
test_util_read_file(void)
{
	char *dir = unit_tmpdir(), err[HASVR_ERRLEN], *p, *s;
	size_t len;

	p = make_file(dir, "f", "12345", 0600);
	s = util_read_file(p, 5, &len, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL(s);
	CU_ASSERT_EQUAL(len, 5);
	free(s);
	CU_ASSERT_PTR_NULL(util_read_file(p, 4, &len, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "too large (more than 4 bytes)"));
	CU_ASSERT_PTR_NULL(util_read_file(dir, 4, &len, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a regular file (it is a "
	    "directory)"));
	free(p);
	unit_rmtree(dir);
	free(dir);
}

static void
test_util_misc(void)
{
	char *dir = unit_tmpdir(), err[HASVR_ERRLEN], path[512], out[16];
	long long v;
	struct stat st;
	uint64_t a, b;

	CU_ASSERT_EQUAL(util_parse_size("0", &v), 0);
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_EQUAL(util_parse_size("10", &v), 0);
	CU_ASSERT_EQUAL(v, 10);
	CU_ASSERT_EQUAL(util_parse_size("4k", &v), 0);
	CU_ASSERT_EQUAL(v, 4096);
	CU_ASSERT_EQUAL(util_parse_size("2M", &v), 0);
	CU_ASSERT_EQUAL(v, 2 << 20);
	CU_ASSERT_EQUAL(util_parse_size("3G", &v), 0);
	CU_ASSERT_EQUAL(v, 3LL << 30);
	CU_ASSERT_EQUAL(util_parse_size("", &v), -1);
	CU_ASSERT_EQUAL(util_parse_size("K", &v), -1);
	CU_ASSERT_EQUAL(util_parse_size("-1", &v), -1);
	CU_ASSERT_EQUAL(util_parse_size("1KB", &v), -1);
	CU_ASSERT_EQUAL(util_parse_size(" 1", &v), -1);
	CU_ASSERT_EQUAL(util_parse_size("99999999999999999999", &v), -1);
	CU_ASSERT_EQUAL(util_parse_size("9999999999999G", &v), -1);

	CU_ASSERT_EQUAL(util_path_join(path, sizeof(path), "/a/b", "c"), 0);
	CU_ASSERT_STRING_EQUAL(path, "/a/b/c");
	CU_ASSERT_EQUAL(util_path_join(path, sizeof(path), "/a/b//", "c"), 0);
	CU_ASSERT_STRING_EQUAL(path, "/a/b/c");
	CU_ASSERT_EQUAL(util_path_join(path, sizeof(path), "/", "c"), 0);
	CU_ASSERT_STRING_EQUAL(path, "/c");
	/* 15 characters fit in 16 bytes, 16 do not */
	CU_ASSERT_EQUAL(util_path_join(out, sizeof(out), "/0123456789", "abc"),
	    0);
	CU_ASSERT_STRING_EQUAL(out, "/0123456789/abc");
	CU_ASSERT_EQUAL(util_path_join(out, sizeof(out), "/0123456789", "abcd"),
	    -1);

	CU_ASSERT_EQUAL(util_strlcpy(out, "0123456789abcdefghij", sizeof(out)),
	    20);
	CU_ASSERT_STRING_EQUAL(out, "0123456789abcde");
	CU_ASSERT_EQUAL(util_strlcpy(out, "ab", sizeof(out)), 2);
	CU_ASSERT_STRING_EQUAL(out, "ab");

	snprintf(path, sizeof(path), "%s/x/y/z", dir);
	CU_ASSERT_EQUAL(util_mkdirs(path, 0750, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT(S_ISDIR(st.st_mode));
	CU_ASSERT_EQUAL(util_mkdirs(path, 0750, err, sizeof(err)), 0);
	/* a file in the way */
	snprintf(path, sizeof(path), "%s/x/y/z/f", dir);
	close(open(path, O_WRONLY | O_CREAT, 0600));
	snprintf(path, sizeof(path), "%s/x/y/z/f/g", dir);
	CU_ASSERT_EQUAL(util_mkdirs(path, 0750, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/x/y/z/f: exists and is not a "
	    "directory"));
	CU_ASSERT_EQUAL(util_mkdirs("", 0750, err, sizeof(err)), -1);

	a = util_now_ms();
	b = util_now_us();
	CU_ASSERT(a > 0 && b / 1000 >= a);
	CU_ASSERT(util_rss_kib(getpid()) > 0);
	CU_ASSERT_EQUAL(util_rss_kib(-5), -1);
	unit_rmtree(dir);
	free(dir);
}

static void
test_util_full_io(void)
{
	char buf[70000], back[70001];
	int fds[2];
	ssize_t n;

	memset(buf, 'q', sizeof(buf));
	CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
	/* larger than a pipe buffer: needs a reader, so use a child */
	if (fork() == 0) {
		close(fds[0]);
		_exit(util_write_full(fds[1], buf, sizeof(buf)) == 0 ? 0 : 1);
	}
	close(fds[1]);
	n = util_read_full(fds[0], back, sizeof(back));
	CU_ASSERT_EQUAL(n, (ssize_t)sizeof(buf));
	CU_ASSERT_EQUAL(memcmp(buf, back, sizeof(buf)), 0);
	close(fds[0]);
	CU_ASSERT_EQUAL(util_write_full(-1, buf, 1), -1);
	CU_ASSERT_EQUAL(errno, EBADF);
	CU_ASSERT_EQUAL(util_read_full(-1, back, 1), -1);
}

void
test_atomicfile_register(void)
{
	CU_pSuite s = CU_add_suite("atomicfile", NULL, NULL);

	CU_add_test(s, "write and replace", test_write_replace);
	CU_add_test(s, "errors leave no temporary file", test_write_errors);

	s = CU_add_suite("util", NULL, NULL);
	CU_add_test(s, "check_private and read_key", test_util_private_and_key);
	CU_add_test(s, "read_file", test_util_read_file);
	CU_add_test(s, "chown_entries", test_util_chown_entries);
	CU_add_test(s, "parse_size, path_join, mkdirs, clocks", test_util_misc);
	CU_add_test(s, "write_full and read_full", test_util_full_io);
}
