/* test_log.c — log lines, level filter, rotation (lib/log.c). */
#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <fcntl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "log.h"
#include "util.h"

static char *
slurp(const char *path)
{
	char err[512], *s;

	s = util_read_file(path, 1 << 22, NULL, err, sizeof(err));
	if (s == NULL)
		fprintf(stderr, "\n%s\n", err);
	return s;
}

static int
exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static size_t
count_lines(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (*s == '\n')
			n++;
	return n;
}

/* "YYYY-MM-DD HH:MM:SS.mmm [pid] LEVEL message" */
static int
line_ok(const char *line, const char *level, const char *msg)
{
	static const char shape[] = "dddd-dd-dd dd:dd:dd.ddd [";
	char want[256];
	const char *p;
	size_t i;

	for (i = 0; i < sizeof(shape) - 1; i++) {
		if (shape[i] == 'd' ? !isdigit((unsigned char)line[i]) :
		    line[i] != shape[i])
			return 0;
	}
	snprintf(want, sizeof(want), "%ld] %s %s\n", (long)getpid(), level, msg);
	p = line + sizeof(shape) - 1;
	return strncmp(p, want, strlen(want)) == 0;
}

static void
open_log(const char *path, size_t maxsize, int keep, enum log_level lvl)
{
	struct log_opts o;
	char err[512];

	memset(&o, 0, sizeof(o));
	o.path = path;
	o.maxsize = maxsize;
	o.keep = keep;
	o.ident = "unit";
	o.level = lvl;
	CU_ASSERT_EQUAL_FATAL(log_open(&o, err, sizeof(err)), 0);
}

static void
test_format_and_levels(void)
{
	char *dir = unit_tmpdir(), path[512], *s, *l;
	struct stat st;

	snprintf(path, sizeof(path), "%s/guiDaemon.0", dir);
	open_log(path, 0, 3, LOG_LVL_INFO);
	CU_ASSERT_EQUAL(log_get_level(), LOG_LVL_INFO);
	log_debug("dropped %d", 1);
	log_info("hello %s", "world");
	log_notice("notice");
	log_warnx("warned");
	log_errx("failed");
	log_set_level(LOG_LVL_WARN);
	CU_ASSERT_EQUAL(log_get_level(), LOG_LVL_WARN);
	log_info("dropped too");
	log_notice("dropped three");
	log_warnx("still here");
	log_set_level(LOG_LVL_DEBUG);
	log_debug("now debug");
	log_info("two\nlines");
	log_close();

	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0640);
	s = slurp(path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(count_lines(s), 7);
	CU_ASSERT_PTR_NULL(strstr(s, "dropped"));
	l = s;
	CU_ASSERT(line_ok(l, "INFO", "hello world"));
	l = strchr(l, '\n') + 1;
	CU_ASSERT(line_ok(l, "NOTICE", "notice"));
	l = strchr(l, '\n') + 1;
	CU_ASSERT(line_ok(l, "WARN", "warned"));
	l = strchr(l, '\n') + 1;
	CU_ASSERT(line_ok(l, "ERROR", "failed"));
	l = strchr(l, '\n') + 1;
	CU_ASSERT(line_ok(l, "WARN", "still here"));
	l = strchr(l, '\n') + 1;
	CU_ASSERT(line_ok(l, "DEBUG", "now debug"));
	l = strchr(l, '\n') + 1;
	/* a newline inside a message cannot forge a second line */
	CU_ASSERT(line_ok(l, "INFO", "two\\nlines"));
	free(s);

	/* reopening appends */
	open_log(path, 0, 3, LOG_LVL_INFO);
	log_info("appended");
	log_close();
	s = slurp(path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(count_lines(s), 8);
	free(s);

	unit_rmtree(dir);
	free(dir);
}

static void
test_warn_strerror(void)
{
	char *dir = unit_tmpdir(), path[512], *s;

	snprintf(path, sizeof(path), "%s/w.log", dir);
	open_log(path, 0, 1, LOG_LVL_INFO);
	errno = ENOENT;
	log_warn("open %s", "/x/y");
	/* errno survives logging, for a caller that reports it again */
	CU_ASSERT_EQUAL(errno, ENOENT);
	errno = ENOSPC;
	log_warnx("no errno here");
	log_close();
	s = slurp(path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT(line_ok(s, "WARN", "open /x/y: No such file or directory"));
	CU_ASSERT(line_ok(strchr(s, '\n') + 1, "WARN", "no errno here"));
	free(s);
	unit_rmtree(dir);
	free(dir);
}

static void
test_level_names(void)
{
	CU_ASSERT_EQUAL(log_level_parse("err"), LOG_LVL_ERR);
	CU_ASSERT_EQUAL(log_level_parse("warn"), LOG_LVL_WARN);
	CU_ASSERT_EQUAL(log_level_parse("notice"), LOG_LVL_NOTICE);
	CU_ASSERT_EQUAL(log_level_parse("info"), LOG_LVL_INFO);
	CU_ASSERT_EQUAL(log_level_parse("debug"), LOG_LVL_DEBUG);
	CU_ASSERT_EQUAL(log_level_parse("verbose"), -1);
	CU_ASSERT_EQUAL(log_level_parse(""), -1);
	CU_ASSERT_STRING_EQUAL(log_level_name(LOG_LVL_ERR), "err");
	CU_ASSERT_STRING_EQUAL(log_level_name(LOG_LVL_DEBUG), "debug");
	CU_ASSERT_STRING_EQUAL(log_level_name((enum log_level)42), "unknown");
}

static void
test_rotation(void)
{
	char *dir = unit_tmpdir(), p0[512], p1[512], p2[512], p3[512], *s;
	struct stat st;
	int i;

	snprintf(p0, sizeof(p0), "%s/guiDaemon.0", dir);
	snprintf(p1, sizeof(p1), "%s/guiDaemon.1", dir);
	snprintf(p2, sizeof(p2), "%s/guiDaemon.2", dir);
	snprintf(p3, sizeof(p3), "%s/guiDaemon.3", dir);
	/* Each line is about 50 bytes: 4 fit in 256. */
	open_log(p0, 256, 2, LOG_LVL_INFO);
	for (i = 0; i < 4; i++)
		log_info("first %02d xxxxxxxxx", i);
	CU_ASSERT_FALSE(exists(p1));
	log_info("second 00 xxxxxxxxx");
	CU_ASSERT_TRUE(exists(p1));
	CU_ASSERT_FALSE(exists(p2));
	s = slurp(p1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(count_lines(s), 4);
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "first 00"));
	free(s);
	CU_ASSERT_EQUAL(stat(p0, &st), 0);
	CU_ASSERT(st.st_size > 0 && st.st_size <= 256);

	for (i = 1; i < 4; i++)
		log_info("second %02d xxxxxxxxx", i);
	log_info("third 00 xxxxxxxxx");       /* .1 -> .2, .0 -> .1 */
	CU_ASSERT_TRUE(exists(p2));
	s = slurp(p2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "first 00"));
	free(s);
	s = slurp(p1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "second 00"));
	free(s);

	/* keep = 2: the oldest (the "first" lines) is deleted, no .3 */
	for (i = 1; i < 4; i++)
		log_info("third %02d xxxxxxxxxx", i);
	log_info("fourth 00 xxxxxxxxx");
	CU_ASSERT_FALSE(exists(p3));
	s = slurp(p2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_PTR_NULL(strstr(s, "first"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "second 00"));
	free(s);
	s = slurp(p0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT(line_ok(s, "INFO", "fourth 00 xxxxxxxxx"));
	free(s);
	log_close();
	unit_rmtree(dir);
	free(dir);
}

/* A name without ".0" gets ".N" appended; an existing file's size counts. */
static void
test_rotation_plain_name(void)
{
	char *dir = unit_tmpdir(), p0[512], p1[512];
	FILE *fp;

	snprintf(p0, sizeof(p0), "%s/ha.log", dir);
	snprintf(p1, sizeof(p1), "%s/ha.log.1", dir);
	fp = fopen(p0, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	fprintf(fp, "%0200d\n", 0);
	fclose(fp);
	open_log(p0, 256, 1, LOG_LVL_INFO);
	log_info("this line does not fit after 201 bytes");
	log_close();
	CU_ASSERT_TRUE(exists(p1));
	unit_rmtree(dir);
	free(dir);
}

struct thr_arg {
	int id;
};

static void *
thr_main(void *a)
{
	struct thr_arg *t = a;
	int i;

	for (i = 0; i < 200; i++)
		log_info("thread %d line %03d %s", t->id, i,
		    "......................................................");
	return NULL;
}

/* Lines of concurrent threads never interleave, even across rotations. */
static void
test_threads(void)
{
	char *dir = unit_tmpdir(), path[512], *s, *p, name[512];
	struct thr_arg args[4];
	pthread_t th[4];
	size_t total = 0;
	int i;

	snprintf(path, sizeof(path), "%s/t.0", dir);
	open_log(path, 16384, 100, LOG_LVL_INFO);
	for (i = 0; i < 4; i++) {
		args[i].id = i;
		pthread_create(&th[i], NULL, thr_main, &args[i]);
	}
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	log_close();
	for (i = 0; i <= 100; i++) {
		snprintf(name, sizeof(name), "%s/t.%d", dir, i);
		if (!exists(name))
			break;
		s = slurp(name);
		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		total += count_lines(s);
		for (p = s; *p != '\0'; p = strchr(p, '\n') + 1)
			CU_ASSERT(strncmp(strchr(p, ']') + 1, " INFO thread ", 13)
			    == 0);
		free(s);
	}
	CU_ASSERT(i > 1);
	CU_ASSERT_EQUAL(total, 800);
	unit_rmtree(dir);
	free(dir);
}

static void
test_open_errors(void)
{
	struct log_opts o;
	char err[512];

	memset(&o, 0, sizeof(o));
	o.path = "/nonexistent-hasvr-dir/guiDaemon.0";
	o.level = LOG_LVL_INFO;
	CU_ASSERT_EQUAL(log_open(&o, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "cannot open log file "
	    "/nonexistent-hasvr-dir/guiDaemon.0: No such file or directory");
	/* still usable: lines go to stderr */
	log_debug("not shown");
	log_close();
}

/* A log on a full disk: the daemon keeps running, lines are dropped. */
static void
test_disk_full(void)
{
	struct log_opts o;
	char err[512];
	int fd, saved;

	if (access("/dev/full", W_OK) != 0)
		return;
	memset(&o, 0, sizeof(o));
	o.path = "/dev/full";
	o.level = LOG_LVL_INFO;
	CU_ASSERT_EQUAL_FATAL(log_open(&o, err, sizeof(err)), 0);
	/* the one complaint goes to stderr: silence it for the test run */
	saved = dup(2);
	fd = open("/dev/null", O_WRONLY);
	dup2(fd, 2);
	log_info("lost 1");
	log_info("lost 2");
	dup2(saved, 2);
	close(saved);
	close(fd);
	log_close();
	CU_PASS("still running");
}

void
test_log_register(void)
{
	CU_pSuite s = CU_add_suite("log", NULL, NULL);

	CU_add_test(s, "format and level filter", test_format_and_levels);
	CU_add_test(s, "log_warn appends strerror", test_warn_strerror);
	CU_add_test(s, "level names", test_level_names);
	CU_add_test(s, "rotation .0 -> .1 -> .2", test_rotation);
	CU_add_test(s, "rotation of a plain name", test_rotation_plain_name);
	CU_add_test(s, "threads", test_threads);
	CU_add_test(s, "open errors", test_open_errors);
	CU_add_test(s, "disk full", test_disk_full);
}
