/* test_resync.c — the resync's move of guisvr's database aside
 * (hasvr/resync.c): everything of data/ but DB_CONFIG, all of log/ and
 * init/ go to xdb/resync-<time>/, nothing is lost, and a failure says
 * what could not be moved. */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "guicfg.h"
#include "resync.h"

static void
put(const char *dir, const char *name, const char *text)
{
	char path[2048];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	CU_ASSERT_FATAL(fp != NULL);
	fputs(text, fp);
	fclose(fp);
}

static int
has(const char *dir, const char *name)
{
	char path[2048];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0;
}

static void
layout(const char *top, struct guicfg_paths *gp)
{
	memset(gp, 0, sizeof(*gp));
	snprintf(gp->xdb, sizeof(gp->xdb), "%s/xdb", top);
	snprintf(gp->data, sizeof(gp->data), "%s/xdb/data", top);
	snprintf(gp->log, sizeof(gp->log), "%s/xdb/log", top);
	snprintf(gp->init, sizeof(gp->init), "%s/xdb/init", top);
	CU_ASSERT_FATAL(mkdir(gp->xdb, 0750) == 0);
	CU_ASSERT_FATAL(mkdir(gp->data, 0750) == 0);
	CU_ASSERT_FATAL(mkdir(gp->log, 0750) == 0);
	CU_ASSERT_FATAL(mkdir(gp->init, 0750) == 0);
}

static void
t_move(void)
{
	char *top = unit_tmpdir(), dir[2048], err[512], sub[2100];
	struct guicfg_paths gp;
	struct tm tm = { .tm_year = 126, .tm_mon = 11, .tm_mday = 7,
	    .tm_hour = 3, .tm_min = 4, .tm_sec = 5, .tm_isdst = -1 };
	time_t when = mktime(&tm);

	layout(top, &gp);
	put(gp.data, "DB_CONFIG", "set_cachesize 0 8388608 1\n");
	put(gp.data, "records.db", "db");
	put(gp.data, "__db.001", "region");
	put(gp.log, "log.0000000001", "log");
	put(gp.init, "__db.rep.gen", "gen");
	CU_ASSERT_EQUAL_FATAL(resync_move_aside(&gp, when, dir, sizeof(dir), err,
	    sizeof(err)), 0);
	CU_ASSERT(strstr(dir, "/xdb/resync-20261207-030405") != NULL);
	/* DB_CONFIG stays: the node keeps its tuning */
	CU_ASSERT(has(gp.data, "DB_CONFIG"));
	CU_ASSERT(!has(gp.data, "records.db"));
	CU_ASSERT(!has(gp.data, "__db.001"));
	CU_ASSERT(!has(gp.log, "log.0000000001"));
	CU_ASSERT(!has(gp.init, "__db.rep.gen"));
	snprintf(sub, sizeof(sub), "%s/data", dir);
	CU_ASSERT(has(sub, "records.db") && has(sub, "__db.001"));
	CU_ASSERT(!has(sub, "DB_CONFIG"));
	snprintf(sub, sizeof(sub), "%s/log", dir);
	CU_ASSERT(has(sub, "log.0000000001"));
	snprintf(sub, sizeof(sub), "%s/init", dir);
	CU_ASSERT(has(sub, "__db.rep.gen"));
	unit_rmtree(top);
	free(top);
}

/* A folder that does not exist has nothing to move; one that cannot be
 * read is an error naming it. */
static void
t_missing_and_errors(void)
{
	char *top = unit_tmpdir(), dir[2048], first[2048], err[512], sub[2100];
	struct guicfg_paths gp;
	time_t when = time(NULL);

	layout(top, &gp);
	rmdir(gp.init);
	put(gp.data, "records.db", "db");
	CU_ASSERT_EQUAL(resync_move_aside(&gp, when, first, sizeof(first),
	    err, sizeof(err)), 0);
	/* the same second again: a folder of its own, the first copy kept */
	put(gp.data, "records.db", "db2");
	CU_ASSERT_EQUAL(resync_move_aside(&gp, when, dir, sizeof(dir), err,
	    sizeof(err)), 0);
	CU_ASSERT(strcmp(first, dir) != 0);
	CU_ASSERT(strlen(dir) > 2 && strcmp(dir + strlen(dir) - 2, "-2") == 0);
	snprintf(sub, sizeof(sub), "%s/data", first);
	CU_ASSERT(has(sub, "records.db"));
	snprintf(sub, sizeof(sub), "%s/data", dir);
	CU_ASSERT(has(sub, "records.db"));
	if (geteuid() != 0) {
		/* root reads any folder: only checked as another user */
		CU_ASSERT_FATAL(chmod(gp.log, 0) == 0);
		CU_ASSERT_EQUAL(resync_move_aside(&gp, time(NULL), dir,
		    sizeof(dir), err, sizeof(err)), -1);
		CU_ASSERT(strstr(err, gp.log) != NULL);
		chmod(gp.log, 0750);
	}
	/* a data folder that is a file: said, with its path */
	unit_rmtree(gp.data);
	put(gp.xdb, "data", "not a folder");
	CU_ASSERT_EQUAL(resync_move_aside(&gp, time(NULL), dir, sizeof(dir),
	    err, sizeof(err)), -1);
	CU_ASSERT(strstr(err, gp.data) != NULL);
	unit_rmtree(top);
	free(top);
}

void
test_resync_register(void)
{
	CU_pSuite s = CU_add_suite("resync", NULL, NULL);

	CU_add_test(s, "database moved aside, DB_CONFIG kept", t_move);
	CU_add_test(s, "missing folders and errors", t_missing_and_errors);
}
