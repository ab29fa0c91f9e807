/* test_statewriter.c — haSvr.state written by its own thread
 * (hasvr/statewriter.c): the newest content is what lands, nothing
 * submitted is lost at shutdown, and a failed write is reported until one
 * succeeds. */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "statewriter.h"
#include "util.h"

static char *
slurp(const char *path)
{
	char err[256];

	return util_read_file(path, 4096, NULL, err, sizeof(err));
}

static void
t_newest_lands(void)
{
	char *dir = unit_tmpdir(), path[1024], err[256], buf[64], *txt;
	struct statewriter *w;
	int i, n;

	snprintf(path, sizeof(path), "%s/haSvr.state", dir);
	w = statewriter_new(path, err, sizeof(err));
	CU_ASSERT_FATAL(w != NULL);
	for (i = 1; i <= 200; i++) {
		n = snprintf(buf, sizeof(buf), "epoch %d\nrole primary\n", i);
		CU_ASSERT_EQUAL(statewriter_submit(path, buf, (size_t)n, err,
		    sizeof(err), w), 0);
	}
	/* shutdown writes what is still queued */
	statewriter_free(w);
	txt = slurp(path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(txt);
	CU_ASSERT_STRING_EQUAL(txt, "epoch 200\nrole primary\n");
	free(txt);
	unit_rmtree(dir);
	free(dir);
}

static void
t_failure_reported(void)
{
	char *dir = unit_tmpdir(), path[1024], sub[1024], err[256];
	struct statewriter *w;
	int i;

	snprintf(sub, sizeof(sub), "%s/gone", dir);
	snprintf(path, sizeof(path), "%s/haSvr.state", sub);
	w = statewriter_new(path, err, sizeof(err));
	CU_ASSERT_FATAL(w != NULL);
	CU_ASSERT_EQUAL(statewriter_submit(path, "epoch 1\n", 8, err,
	    sizeof(err), w), 0);
	for (i = 0; i < 200 && !statewriter_failed(w, NULL, 0); i++)
		usleep(10000);
	err[0] = '\0';
	CU_ASSERT_EQUAL(statewriter_failed(w, err, sizeof(err)), 1);
	CU_ASSERT(strstr(err, sub) != NULL);
	/* the folder is back: the next write succeeds and clears it */
	CU_ASSERT_FATAL(mkdir(sub, 0700) == 0);
	CU_ASSERT_EQUAL(statewriter_submit(path, "epoch 2\n", 8, err,
	    sizeof(err), w), 0);
	for (i = 0; i < 200 && statewriter_failed(w, NULL, 0); i++)
		usleep(10000);
	CU_ASSERT_EQUAL(statewriter_failed(w, NULL, 0), 0);
	/* a content larger than any state is refused at once */
	CU_ASSERT_EQUAL(statewriter_submit(path, dir, 4096, err, sizeof(err),
	    w), -1);
	statewriter_free(w);
	unit_rmtree(dir);
	free(dir);
}

void
test_statewriter_register(void)
{
	CU_pSuite s = CU_add_suite("statewriter", NULL, NULL);

	CU_add_test(s, "the newest content lands, also at shutdown",
	    t_newest_lands);
	CU_add_test(s, "a failed write is reported until one succeeds",
	    t_failure_reported);
}
