/* dbenv.c — guisvr's Berkeley DB transactional environment: directories,
 * DB_CONFIG, recovery at every open, the records database, event logging and
 * the background checkpoint thread. */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "dbenv.h"
#include "deadline.h"
#include "guicfg.h"
#include "log.h"
#include "util.h"

#define DBENV_DIR_MODE 0750
#define DBENV_FILE_MODE 0640
#define DBENV_DB_NAME "records.db"
/* Bytes Berkeley DB sends in one answer to a client's request. */
#define DBENV_REP_LIMIT (4u * 1024 * 1024)

/* Shipped as var/xdb/data/DB_CONFIG too; keep both texts identical. */
const char dbenv_default_db_config[] =
"# DB_CONFIG - Berkeley DB settings for the guisvr database environment.\n"
"#\n"
"# Berkeley DB reads this file from xdb/data (the environment home) each\n"
"# time guisvr opens the database. A setting here overrides the value guisvr\n"
"# would set itself from guiSvr.cfg. guisvr runs recovery at every start,\n"
"# which rebuilds the shared regions, so a change takes effect at the next\n"
"# start of guisvr.\n"
"#\n"
"# Keep this file when resynchronizing a node: the procedure deletes every\n"
"# other file in xdb/data and every file in xdb/log and xdb/init.\n"
"#\n"
"# Locks: enough for about 64 concurrent transactions, each possibly a large\n"
"# batch; readers hold a lock only on the page they are reading.\n"
"set_lk_max_lockers 4000\n"
"set_lk_max_locks 20000\n"
"set_lk_max_objects 20000\n"
"#\n"
"# Transactions: at most this many active at once.\n"
"set_tx_max 1024\n"
"#\n"
"# Log: 1 MB in-memory buffer, 10 MB log files (a file must be at least four\n"
"# times the buffer). Old files are removed after checkpoints when\n"
"# guiSvr.cfg asks for it.\n"
"set_lg_bsize 1048576\n"
"set_lg_max 10485760\n"
"#\n"
"# Left to guiSvr.cfg on purpose: the cache size, commit durability and the\n"
"# log and metadata directories. A set_cachesize, set_flags or set_lg_dir\n"
"# line added here would silently win over guiSvr.cfg.\n";

static const char *const dbenv_event_names[] = {
	[DB_EVENT_PANIC] = "DB_EVENT_PANIC",
	[DB_EVENT_REG_ALIVE] = "DB_EVENT_REG_ALIVE",
	[DB_EVENT_REG_PANIC] = "DB_EVENT_REG_PANIC",
	[DB_EVENT_REP_CLIENT] = "DB_EVENT_REP_CLIENT",
	[DB_EVENT_REP_CONNECT_BROKEN] = "DB_EVENT_REP_CONNECT_BROKEN",
	[DB_EVENT_REP_CONNECT_ESTD] = "DB_EVENT_REP_CONNECT_ESTD",
	[DB_EVENT_REP_CONNECT_TRY_FAILED] = "DB_EVENT_REP_CONNECT_TRY_FAILED",
	[DB_EVENT_REP_DUPMASTER] = "DB_EVENT_REP_DUPMASTER",
	[DB_EVENT_REP_ELECTED] = "DB_EVENT_REP_ELECTED",
	[DB_EVENT_REP_ELECTION_FAILED] = "DB_EVENT_REP_ELECTION_FAILED",
	[DB_EVENT_REP_INIT_DONE] = "DB_EVENT_REP_INIT_DONE",
	[DB_EVENT_REP_JOIN_FAILURE] = "DB_EVENT_REP_JOIN_FAILURE",
	[DB_EVENT_REP_LOCAL_SITE_REMOVED] = "DB_EVENT_REP_LOCAL_SITE_REMOVED",
	[DB_EVENT_REP_MASTER] = "DB_EVENT_REP_MASTER",
	[DB_EVENT_REP_MASTER_FAILURE] = "DB_EVENT_REP_MASTER_FAILURE",
	[DB_EVENT_REP_NEWMASTER] = "DB_EVENT_REP_NEWMASTER",
	[DB_EVENT_REP_PERM_FAILED] = "DB_EVENT_REP_PERM_FAILED",
	[DB_EVENT_REP_SITE_ADDED] = "DB_EVENT_REP_SITE_ADDED",
	[DB_EVENT_REP_SITE_REMOVED] = "DB_EVENT_REP_SITE_REMOVED",
	[DB_EVENT_REP_STARTUPDONE] = "DB_EVENT_REP_STARTUPDONE",
	[DB_EVENT_REP_WOULD_ROLLBACK] = "DB_EVENT_REP_WOULD_ROLLBACK",
	[DB_EVENT_WRITE_FAILED] = "DB_EVENT_WRITE_FAILED",
};

const char *
dbenv_event_name(u_int32_t event)
{
	if (event == DB_EVENT_NO_SUCH_EVENT)
		return "DB_EVENT_NO_SUCH_EVENT";
	if (event >= sizeof(dbenv_event_names) / sizeof(dbenv_event_names[0]) ||
	    dbenv_event_names[event] == NULL)
		return "DB_EVENT_UNKNOWN";
	return dbenv_event_names[event];
}

static u_int32_t
dbenv_open_flags(const struct dbenv *e)
{
	return DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK | DB_INIT_LOG |
	    DB_INIT_MPOOL | DB_THREAD | DB_RECOVER | DB_PRIVATE |
	    (e->opts.replication ? DB_INIT_REP : 0);
}

/* A refused write, from Berkeley DB's message or event. */
static void
dbenv_note_fault(struct dbenv *e, const char *why)
{
	uint64_t now = util_now_ms();

	if (e == NULL)
		return;
	pthread_mutex_lock(&e->fault_mu);
	if (e->fault_last_ms == 0 || now - e->fault_last_ms >= DBENV_FAULT_GAP_MS)
		e->fault_first_ms = now;
	e->fault_last_ms = now;
	if (why != NULL || e->fault_why[0] == '\0')
		util_strlcpy(e->fault_why, why != NULL ? why : "a write failed",
		    sizeof(e->fault_why));
	pthread_mutex_unlock(&e->fault_mu);
}

int
dbenv_write_fault(struct dbenv *e, uint64_t *first_ms, uint64_t *last_ms,
    char *why, size_t whylen)
{
	int seen;

	pthread_mutex_lock(&e->fault_mu);
	seen = e->fault_last_ms != 0;
	*first_ms = e->fault_first_ms;
	*last_ms = e->fault_last_ms;
	util_strlcpy(why, e->fault_why, whylen);
	pthread_mutex_unlock(&e->fault_mu);
	return seen;
}

/* The errno words a write refused by the disk ends with. */
static const char *
dbenv_fault_word(const char *msg)
{
	static const int errs[] = { ENOSPC, EDQUOT, EFBIG, EIO, EROFS };
	size_t i;

	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
		if (strstr(msg, strerror(errs[i])) != NULL)
			return strerror(errs[i]);
	return NULL;
}

static int dbenv_rep_config(DB_ENV *, char *, size_t);

/* Berkeley DB's messages by their code ("BDB0137"): a full disk makes the
 * same few repeat for every write, thousands a second. */
#define DBENV_MSG_KINDS 32
#define DBENV_MSG_EVERY_MS 10000

static void
dbenv_errcall(const DB_ENV *env, const char *pfx, const char *msg)
{
	static struct {
		char code[8];
		struct log_limit lim;
	} kinds[DBENV_MSG_KINDS];
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	const char *word;
	unsigned long held = 0;
	int i, due = 1;

	(void)pfx;
	if ((word = dbenv_fault_word(msg)) != NULL)
		dbenv_note_fault(env->app_private, word);
	if (strncmp(msg, "BDB", 3) == 0 && strspn(msg + 3, "0123456789") == 4) {
		pthread_mutex_lock(&mu);
		for (i = 0; i < DBENV_MSG_KINDS && kinds[i].code[0] != '\0' &&
		    strncmp(kinds[i].code, msg, 7) != 0; i++)
			;
		if (i < DBENV_MSG_KINDS && kinds[i].code[0] == '\0')
			memcpy(kinds[i].code, msg, 7);
		pthread_mutex_unlock(&mu);
		if (i < DBENV_MSG_KINDS)
			due = log_limit_due(&kinds[i].lim, DBENV_MSG_EVERY_MS,
			    &held);
	}
	if (!due)
		return;
	if (held > 0)
		log_warnx("Berkeley DB: %s (and %lu more like it in the last "
		    "%d s)", msg, held, DBENV_MSG_EVERY_MS / 1000);
	else
		log_warnx("Berkeley DB: %s", msg);
}

/* Informational messages (replication sync-up progress, …): without this
 * Berkeley DB prints them on stdout, which a daemon does not have. */
static void
dbenv_msgcall(const DB_ENV *env, const char *msg)
{
	(void)env;
	log_info("Berkeley DB: %s", msg);
}

/* The transport callback Berkeley DB calls; forwards to repack.c's hook. A
 * message sent while no hook is installed (before rep_start, after
 * rep_stop) is reported as not sent. */
static int
dbenv_rep_send(DB_ENV *env, const DBT *ctrl, const DBT *rec,
    const DB_LSN *lsnp, int eid, u_int32_t flags)
{
	struct dbenv *e = env->app_private;
	int ret = DB_REP_UNAVAIL;

	if (e == NULL)
		return ret;
	pthread_rwlock_rdlock(&e->rep_lk);
	if (e->rep_send != NULL)
		ret = e->rep_send(e->rep_arg, ctrl, rec, lsnp, eid, flags);
	pthread_rwlock_unlock(&e->rep_lk);
	return ret;
}

static void
dbenv_rep_forward(struct dbenv *e, u_int32_t event, void *info)
{
	if (e == NULL)
		return;
	pthread_rwlock_rdlock(&e->rep_lk);
	if (e->rep_event != NULL)
		e->rep_event(e->rep_arg, event, info);
	pthread_rwlock_unlock(&e->rep_lk);
}

static void
dbenv_event(DB_ENV *env, u_int32_t event, void *info)
{
	struct dbenv *e = env->app_private;

	if (event == DB_EVENT_PANIC) {
		/* Every call after a panic reports it again: act once. */
		if (e == NULL || __atomic_exchange_n(&e->panicked, 1,
		    __ATOMIC_SEQ_CST) == 0) {
			log_errx("get BDB event DB_EVENT_PANIC");
			dbenv_rep_forward(e, event, info);
			if (e != NULL && e->opts.on_panic != NULL)
				e->opts.on_panic(e->opts.panic_arg);
		} else
			log_debug("get BDB event DB_EVENT_PANIC (again)");
		return;
	}
	if (event == DB_EVENT_WRITE_FAILED) {
		/* a full or failing disk fires this for every write attempt:
		 * log the first, then at most one summary line a minute */
		static struct log_limit lim;
		unsigned long n = 0;

		dbenv_note_fault(e, NULL);
		if (!log_limit_due(&lim, 60000, &n))
			return;
		if (n > 0)
			log_warnx("get BDB event DB_EVENT_WRITE_FAILED (and %lu more in the "
			    "last minute; check the disk holding %s)", n, e ? e->opts.data_dir : "xdb");
		else
			log_warnx("get BDB event DB_EVENT_WRITE_FAILED (check the disk holding %s)",
			    e ? e->opts.data_dir : "xdb");
		return;
	}
	log_info("get BDB event %s", dbenv_event_name(event));
	if (event == DB_EVENT_REP_INIT_DONE && e != NULL)
		__atomic_store_n(&e->db_stale, 1, __ATOMIC_RELEASE);
	dbenv_rep_forward(e, event, info);
}

/* Creates dir if missing and stores its absolute path in abs. */
static int
dbenv_dir(const char *what, const char *dir, char *abs, char *err, size_t errlen)
{
	if (dir == NULL || *dir == '\0') {
		snprintf(err, errlen, "no %s directory given", what);
		return -1;
	}
	if (util_mkdirs(dir, DBENV_DIR_MODE, err, errlen) == -1)
		return -1;
	if (realpath(dir, abs) == NULL) {
		snprintf(err, errlen, "%s directory %s: %s", what, dir,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* Writes DB_CONFIG only when absent: an admin's edits always win. Written
 * to a temporary name and renamed so a crash never leaves half a file. */
static int
dbenv_write_db_config(const char *home, char *err, size_t errlen)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	struct stat st;
	int fd;

	if (util_path_join(path, sizeof(path), home, "DB_CONFIG") == -1 ||
	    util_path_join(tmp, sizeof(tmp), home, "DB_CONFIG.tmp") == -1) {
		snprintf(err, errlen, "%s/DB_CONFIG: path too long", home);
		return -1;
	}
	if (stat(path, &st) == 0)
		return 0;
	if (errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, DBENV_FILE_MODE);
	if (fd == -1) {
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		return -1;
	}
	if (util_write_full(fd, dbenv_default_db_config,
	    strlen(dbenv_default_db_config)) == -1 || fsync(fd) == -1) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) == -1) {
		snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path,
		    strerror(errno));
		unlink(tmp);
		return -1;
	}
	log_info("wrote default %s", path);
	return 0;
}

/* Tells the admin what to do about an environment that will not open. */
static void
dbenv_open_error(const char *home, const char *logdir, const char *initdir,
    int ret, char *err, size_t errlen)
{
	if (ret == EACCES || ret == EPERM)
		snprintf(err, errlen, "cannot open the Berkeley DB environment in "
		    "%s: %s; the files in %s, %s and %s must belong to the user "
		    "running guisvr", home, db_strerror(ret), home, logdir, initdir);
	else if (ret == ENOSPC || ret == EDQUOT)
		snprintf(err, errlen, "cannot open the Berkeley DB environment in "
		    "%s: %s; free space on the file systems of %s and %s and "
		    "start again", home, db_strerror(ret), home, logdir);
	else
		snprintf(err, errlen, "cannot open the Berkeley DB environment in "
		    "%s (logs in %s): %s; normal recovery failed, so the database "
		    "needs catastrophic recovery or a resync: stop guisvr, delete "
		    "every file except DB_CONFIG in %s and every file in %s and %s, "
		    "then start again to get the database from the primary, or "
		    "restore it from a dump", home, logdir, db_strerror(ret), home,
		    logdir, initdir);
}

static void *
dbenv_ckp_main(void *arg)
{
	struct dbenv *e = arg;
	char err[HASVR_ERRLEN];
	struct timespec ts;

	pthread_mutex_lock(&e->ckp_mu);
	while (!e->ckp_stop) {
		deadline_in_ms(&ts, CLOCK_MONOTONIC,
		    (uint64_t)e->opts.checkpoint_secs * 1000);
		while (!e->ckp_stop &&
		    pthread_cond_timedwait(&e->ckp_cv, &e->ckp_mu, &ts) != ETIMEDOUT)
			;
		if (e->ckp_stop)
			break;
		pthread_mutex_unlock(&e->ckp_mu);
		/* After a panic every call fails; logging that each period helps
		 * nobody. */
		if (!e->panicked && dbenv_checkpoint(e, err, sizeof(err)) == -1)
			log_warnx("%s", err);
		pthread_mutex_lock(&e->ckp_mu);
	}
	pthread_mutex_unlock(&e->ckp_mu);
	return NULL;
}

static int
dbenv_ckp_start(struct dbenv *e, char *err, size_t errlen)
{
	pthread_condattr_t ca;
	int r;

	e->ckp_stop = 0;
	e->ckp_running = 0;
	pthread_mutex_init(&e->ckp_mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->ckp_cv, &ca);
	pthread_condattr_destroy(&ca);
	if (e->opts.checkpoint_secs <= 0)
		return 0;
	if ((r = pthread_create(&e->ckp_thread, NULL, dbenv_ckp_main, e)) != 0) {
		snprintf(err, errlen, "cannot start the checkpoint thread: %s",
		    strerror(r));
		return -1;
	}
	e->ckp_running = 1;
	return 0;
}

static void
dbenv_ckp_stop(struct dbenv *e)
{
	pthread_mutex_lock(&e->ckp_mu);
	e->ckp_stop = 1;
	pthread_cond_broadcast(&e->ckp_cv);
	pthread_mutex_unlock(&e->ckp_mu);
	if (e->ckp_running) {
		pthread_join(e->ckp_thread, NULL);
		e->ckp_running = 0;
	}
	pthread_cond_destroy(&e->ckp_cv);
	pthread_mutex_destroy(&e->ckp_mu);
}

int
dbenv_open(struct dbenv *e, const struct dbenv_opts *o, char *err, size_t errlen)
{
	char home[PATH_MAX], logdir[PATH_MAX], initdir[PATH_MAX];
	DB_ENV *env = NULL;
	DB *db = NULL;
	int ret;

	memset(e, 0, sizeof(*e));
	e->opts = *o;
	pthread_rwlock_init(&e->rep_lk, NULL);
	pthread_mutex_init(&e->fault_mu, NULL);
	if (dbenv_dir("data", o->data_dir, home, err, errlen) == -1 ||
	    dbenv_dir("log", o->log_dir, logdir, err, errlen) == -1 ||
	    dbenv_dir("init", o->init_dir, initdir, err, errlen) == -1)
		return -1;
	if (dbenv_write_db_config(home, err, errlen) == -1)
		return -1;

	if ((ret = db_env_create(&env, 0)) != 0) {
		snprintf(err, errlen, "db_env_create: %s", db_strerror(ret));
		return -1;
	}
	env->app_private = e;
	env->set_errcall(env, dbenv_errcall);
	env->set_msgcall(env, dbenv_msgcall);
	if ((ret = env->set_event_notify(env, dbenv_event)) != 0 ||
	    (ret = env->set_lg_dir(env, logdir)) != 0 ||
	    (ret = env->set_metadata_dir(env, initdir)) != 0 ||
	    (ret = env->set_lk_detect(env, DB_LOCK_DEFAULT)) != 0) {
		snprintf(err, errlen, "cannot configure the Berkeley DB "
		    "environment in %s: %s", home, db_strerror(ret));
		goto fail;
	}
	if (o->cache_bytes > 0 && (ret = env->set_cachesize(env,
	    (u_int32_t)(o->cache_bytes / (1024UL * 1024 * 1024)),
	    (u_int32_t)(o->cache_bytes % (1024UL * 1024 * 1024)), 1)) != 0) {
		snprintf(err, errlen, "cannot set a Berkeley DB cache of %zu "
		    "bytes: %s", o->cache_bytes, db_strerror(ret));
		goto fail;
	}
	switch (o->sync) {
	case DBENV_SYNC:
		e->commit_flags = 0;
		break;
	case DBENV_WRITE_NOSYNC:
		e->commit_flags = DB_TXN_WRITE_NOSYNC;
		break;
	case DBENV_NOSYNC:
		e->commit_flags = DB_TXN_NOSYNC;
		break;
	}
	if (e->commit_flags != 0 &&
	    (ret = env->set_flags(env, e->commit_flags, 1)) != 0) {
		snprintf(err, errlen, "cannot set the commit durability: %s",
		    db_strerror(ret));
		goto fail;
	}

	log_info("opening the Berkeley DB environment in %s (normal recovery)",
	    home);
	if ((ret = env->open(env, home, dbenv_open_flags(e),
	    DBENV_FILE_MODE)) != 0) {
		char why[64];
		uint64_t first, last;

		/* recovery that cannot write panics: a full disk, not a
		 * damaged database */
		if (dbenv_write_fault(e, &first, &last, why, sizeof(why))) {
			e->open_tempfail = 1;
			snprintf(err, errlen, "cannot open the Berkeley DB "
			    "environment in %s: recovery cannot write (%s): free "
			    "space on the file systems of %s and %s (or fix the "
			    "disk); nothing is lost, recovery runs again at the "
			    "next start", home, why, home, logdir);
		} else
			dbenv_open_error(home, logdir, initdir, ret, err, errlen);
		goto fail;
	}
	e->env = env;
	if (o->replication) {
		if (dbenv_rep_config(env, err, errlen) == -1)
			goto fail;
	} else if ((ret = dbenv_db_open(e, 1, err, errlen)) != 0)
		goto fail;
	db = e->db;
	if (dbenv_ckp_start(e, err, errlen) == -1) {
		dbenv_ckp_stop(e);
		goto fail;
	}
	return 0;

fail:
	if (db != NULL)
		db->close(db, 0);
	env->close(env, 0);
	e->env = NULL;
	e->db = NULL;
	pthread_rwlock_destroy(&e->rep_lk);
	return -1;
}

/* Replication settings that do not depend on the role. */
static int
dbenv_rep_config(DB_ENV *env, char *err, size_t errlen)
{
	int ret;

	/* roles come from hasvr, never from an election: priority 0 keeps
	 * Berkeley DB from ever electing this site by itself */
	if ((ret = env->rep_set_priority(env, 0)) != 0 ||
	    /* a fresh or wiped client gets the whole database from the master */
	    (ret = env->rep_set_config(env, DB_REP_CONF_AUTOINIT, 1)) != 0 ||
	    /* a worker must not sit for seconds inside Berkeley DB while a
	     * client syncs up: it gets DB_REP_LOCKOUT and the store retries */
	    (ret = env->rep_set_config(env, DB_REP_CONF_NOWAIT, 1)) != 0 ||
	    /* the default delays every master checkpoint (and so guisvr's
	     * shutdown) by 30 s */
	    (ret = env->rep_set_timeout(env, DB_REP_CHECKPOINT_DELAY, 0)) != 0 ||
	    /* one answer to a client's request is at most this many bytes, so
	     * a catching-up client cannot fill the transport's queues at once;
	     * it asks again for the rest */
	    (ret = env->rep_set_limit(env, 0, DBENV_REP_LIMIT)) != 0) {
		snprintf(err, errlen, "cannot configure Berkeley DB replication: %s",
		    db_strerror(ret));
		return -1;
	}
	return 0;
}

int
dbenv_db_open(struct dbenv *e, int create, char *err, size_t errlen)
{
	const char *home = NULL;
	DB *db = NULL;
	int ret;

	if (e->db != NULL && __atomic_load_n(&e->db_stale, __ATOMIC_ACQUIRE))
		dbenv_db_close(e);
	if (e->db != NULL)
		return 0;
	if (e->env == NULL) {
		snprintf(err, errlen, "the database environment is not open");
		return EINVAL;
	}
	(void)e->env->get_home(e->env, &home);
	if ((ret = db_create(&db, e->env, 0)) != 0) {
		snprintf(err, errlen, "db_create: %s", db_strerror(ret));
		return ret;
	}
	/* No DB_MULTIVERSION: under a steady stream of small commits Berkeley
	 * DB 5.3 keeps the detail (and a mutex) of every committed transaction
	 * whose page versions are still cached, until the mutex region runs out
	 * ("unable to allocate memory for mutex") and every later transaction
	 * fails. Readers use read-committed cursors instead (store.c). */
	if ((ret = db->open(db, NULL, DBENV_DB_NAME, NULL, DB_BTREE,
	    DB_AUTO_COMMIT | DB_THREAD | (create ? DB_CREATE : 0),
	    DBENV_FILE_MODE)) != 0) {
		if (ret == ENOENT && !create)
			snprintf(err, errlen, "%s/%s does not exist yet: it comes "
			    "from the primary", home ? home : "xdb/data", DBENV_DB_NAME);
		else
			snprintf(err, errlen, "cannot open %s/%s: %s; if the file "
			    "is damaged, stop guisvr and resync this node or restore "
			    "from a dump", home ? home : "xdb/data", DBENV_DB_NAME,
			    db_strerror(ret));
		db->close(db, DB_NOSYNC);
		return ret;
	}
	e->db = db;
	return 0;
}

void
dbenv_db_close(struct dbenv *e)
{
	int ret;

	if (e->db == NULL)
		return;
	__atomic_store_n(&e->db_stale, 0, __ATOMIC_RELEASE);
	/* DB_NOSYNC: the handle may be dead; the log has what matters */
	if ((ret = e->db->close(e->db, DB_NOSYNC)) != 0 && !e->panicked &&
	    ret != DB_REP_HANDLE_DEAD)
		log_warnx("closing %s: %s", DBENV_DB_NAME, db_strerror(ret));
	e->db = NULL;
}

int
dbenv_set_rep(struct dbenv *e, int self_eid, dbenv_rep_send_fn send,
    dbenv_rep_event_fn event, void *arg, char *err, size_t errlen)
{
	int ret;

	if (e->env == NULL || !e->opts.replication) {
		snprintf(err, errlen, "the database environment was not opened "
		    "for replication");
		return -1;
	}
	if (send != NULL && (ret = e->env->rep_set_transport(e->env, self_eid,
	    dbenv_rep_send)) != 0) {
		snprintf(err, errlen, "cannot set the replication transport: %s",
		    db_strerror(ret));
		return -1;
	}
	pthread_rwlock_wrlock(&e->rep_lk);
	e->rep_send = send;
	e->rep_event = send != NULL ? event : NULL;
	e->rep_arg = send != NULL ? arg : NULL;
	pthread_rwlock_unlock(&e->rep_lk);
	return 0;
}

int
dbenv_checkpoint(struct dbenv *e, char *err, size_t errlen)
{
	char **list = NULL, **p;
	const char *logdir = NULL;
	int ret, n = 0;

	if (e->env == NULL) {
		snprintf(err, errlen, "checkpoint: the database is not open");
		return -1;
	}
	if ((ret = e->env->txn_checkpoint(e->env, 0, 0, 0)) != 0) {
		/* a client syncing up from the master: the next period will do */
		if (ret == DB_REP_LOCKOUT) {
			log_debug("checkpoint skipped: replication sync-up in progress");
			return 0;
		}
		snprintf(err, errlen, "checkpoint failed: %s", db_strerror(ret));
		return -1;
	}
	if (!e->opts.remove_logs) {
		log_debug("checkpoint done");
		return 0;
	}
	/* The list is only for the debug line; removal asks again itself. */
	if (e->env->log_archive(e->env, &list, 0) == 0 && list != NULL) {
		for (p = list; *p != NULL; p++)
			n++;
		free(list);
	}
	if ((ret = e->env->log_archive(e->env, NULL, DB_ARCH_REMOVE)) != 0 &&
	    ret != DB_REP_LOCKOUT) {
		e->env->get_lg_dir(e->env, &logdir);
		snprintf(err, errlen, "checkpoint done, but removing old log "
		    "files in %s failed: %s", logdir ? logdir : "the log directory",
		    db_strerror(ret));
		return -1;
	}
	log_debug("checkpoint done, %d old log file%s removed", n,
	    n == 1 ? "" : "s");
	return 0;
}

void
dbenv_close(struct dbenv *e)
{
	char err[HASVR_ERRLEN];
	char home[PATH_MAX] = "";
	const char *h = NULL;
	int ret;

	if (e->env == NULL)
		return;
	dbenv_ckp_stop(e);
	/* A final checkpoint makes the next start's recovery short. */
	if (!e->panicked && dbenv_checkpoint(e, err, sizeof(err)) == -1)
		log_warnx("%s", err);
	if (e->db != NULL && (ret = e->db->close(e->db, 0)) != 0 && !e->panicked &&
	    ret != DB_REP_HANDLE_DEAD)
		log_warnx("closing %s: %s", DBENV_DB_NAME, db_strerror(ret));
	if (e->env->get_home(e->env, &h) == 0 && h != NULL)
		util_strlcpy(home, h, sizeof(home));
	if ((ret = e->env->close(e->env, 0)) != 0 && !e->panicked)
		log_warnx("closing the Berkeley DB environment in %s: %s", home,
		    db_strerror(ret));
	e->db = NULL;
	e->env = NULL;
	pthread_rwlock_destroy(&e->rep_lk);
	pthread_mutex_destroy(&e->fault_mu);
}

void
dbenv_opts_from_cfg(struct dbenv_opts *o, const struct cfg *c,
    const struct guicfg_paths *p)
{
	memset(o, 0, sizeof(*o));
	o->data_dir = p->data;
	o->log_dir = p->log;
	o->init_dir = p->init;
	o->cache_bytes = (size_t)cfg_num(c, "guiSvr.cacheSize");
	o->sync = (enum dbenv_sync)cfg_num(c, "guiSvr.txnSync");
	o->checkpoint_secs = (int)((cfg_num(c, "guiSvr.checkpointInterval") +
	    999) / 1000);
	o->remove_logs = cfg_bool(c, "guiSvr.removeLogs");
}
