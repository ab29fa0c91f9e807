/* bench_engine.c — `bench_commit engine`: guisvr's replication engine as the
 * primary, in this process, with the writers as threads — the way
 * bench_repmgr runs the Replication Manager's master, so that both engines
 * are measured without a client protocol in front of them.
 *
 * engine_open reads a guiSvr.cfg and the haSvr.cfg it names, opens the store
 * and starts replication exactly as guisvr does (store_open, rep_start), takes
 * the primary role (epoch 1) and waits until every configured peer — real
 * guisvr processes in the secondary role — is connected and in sync. Each
 * commit is then store_put of one record: the transaction, the commit, the
 * log flush and, with durability sync or strict, the wait for the
 * secondary's acknowledgement, all through guisvr's own code. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "bench_engine.h"
#include "guicfg.h"
#include "hacfg.h"
#include "halink.h"
#include "hlstate.h"
#include "log.h"
#include "rep.h"
#include "store.h"
#include "util.h"

#define ENGINE_WAIT_MS 60000
#define ENGINE_CATCHUP_MS 10000

static struct {
	struct cfg cfg, hcfg;
	struct guicfg_paths paths;
	struct hacfg ha;
	struct store store;
	struct rep *rep;
} E;

static void
engine_fail(const char *fmt, const char *arg)
{
	fprintf(stderr, "bench_commit engine: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(1);
}

/* 1 when the state shows a primary whose every peer is in sync. */
static int
engine_insync(const struct hl_state *st, int npeers)
{
	int i;

	if (st->role != HA_ROLE_PRIMARY || st->npeers != npeers)
		return 0;
	for (i = 0; i < st->npeers; i++)
		if (!st->peers[i].insync)
			return 0;
	return 1;
}

void
engine_open(const char *cfgfile)
{
	char err[1024], state[4096];
	struct hl_state st;
	struct dbenv_opts dbo;
	struct log_opts lo;
	uint64_t deadline;

	if (guicfg_load(&E.cfg, cfgfile) != 0 || E.cfg.nerrors != 0) {
		cfg_print_errors(&E.cfg);
		engine_fail("%s: configuration errors", cfgfile);
	}
	if (guicfg_paths(&E.cfg, &E.paths, err, sizeof(err)) != 0)
		engine_fail("%s", err);
	if (hacfg_load(&E.hcfg, cfg_str(&E.cfg, "guiSvr.haConfig")) != 0 ||
	    E.hcfg.nerrors != 0) {
		cfg_print_errors(&E.hcfg);
		engine_fail("%s: configuration errors",
		    cfg_str(&E.cfg, "guiSvr.haConfig"));
	}
	hacfg_view(&E.hcfg, &E.ha);
	if (!E.ha.enabled)
		engine_fail("%s: highAvail.isHaEnabled is n",
		    cfg_str(&E.cfg, "guiSvr.haConfig"));

	util_strlcpy(err, E.paths.errlog, sizeof(err));
	if (strrchr(err, '/') != NULL)
		*strrchr(err, '/') = '\0';
	if (util_mkdirs(err, 0750, state, sizeof(state)) != 0)
		engine_fail("%s", state);
	memset(&lo, 0, sizeof(lo));
	lo.path = E.paths.errlog;
	lo.ident = "bench_engine";
	lo.level = LOG_LVL_INFO;
	if (log_open(&lo, err, sizeof(err)) != 0)
		engine_fail("%s", err);

	dbenv_opts_from_cfg(&dbo, &E.cfg, &E.paths);
	dbo.replication = 1;
	if (store_open(&E.store, &dbo, (size_t)cfg_num(&E.cfg,
	    "guiSvr.maxRecordSize"), err, sizeof(err)) != 0)
		engine_fail("cannot open the database: %s", err);
	if ((E.rep = rep_start(&E.store, &E.ha, E.paths.xdb, PACKAGE_VERSION,
	    err, sizeof(err))) == NULL)
		engine_fail("cannot start replication: %s", err);
	if (rep_set_role(E.rep, HA_ROLE_PRIMARY, 1, HA_PRIMARY_NONE, err,
	    sizeof(err)) != 0)
		engine_fail("cannot become the primary: %s", err);
	deadline = util_now_ms() + ENGINE_WAIT_MS;
	for (;;) {
		rep_state(E.rep, &st);
		if (engine_insync(&st, E.ha.nnodes - 1))
			break;
		if (util_now_ms() >= deadline) {
			hl_state_format(&st, state, sizeof(state));
			engine_fail("the secondaries are not in sync after 60 s:\n%s",
			    state);
		}
		usleep(20000);
	}
}

int
engine_put(const struct record *r, char *err, size_t errlen)
{
	return store_put(&E.store, r, err, errlen);
}

/* 1 if a peer is not in sync at the end: with durability sync, an ack timed
 * out during the run; with async, the secondary did not catch up within
 * ENGINE_CATCHUP_MS after the last commit (not part of the timed run). */
int
engine_close(void)
{
	struct hl_state st;
	int insync;

	uint64_t deadline = util_now_ms() + ENGINE_CATCHUP_MS;

	/* async: the secondaries may still be applying the last commits */
	for (;;) {
		rep_state(E.rep, &st);
		insync = engine_insync(&st, E.ha.nnodes - 1);
		if (insync || util_now_ms() >= deadline)
			break;
		usleep(20000);
	}
	rep_stop(E.rep);
	store_close(&E.store);
	log_close();
	cfg_free(&E.cfg);
	cfg_free(&E.hcfg);
	return !insync;
}
