/* dbenv.h — guisvr's Berkeley DB transactional environment.
 *
 * Layout (mirrors the seed's GuiSvr/xdb): DB_HOME = var/xdb/data (database
 * files, DB_CONFIG, region files), transaction logs in var/xdb/log, Berkeley
 * DB persistent metadata (replication files) in var/xdb/init.
 * dbenv_open runs normal recovery (DB_RECOVER) every time, so a kill -9 loses
 * nothing that was committed. A background thread checkpoints every
 * checkpoint_secs and removes log files no longer needed.
 * Berkeley DB events are logged as "get BDB event DB_EVENT_…"; on
 * DB_EVENT_PANIC the on_panic hook is called (from a Berkeley DB thread). */
#ifndef GUISVR_DBENV_H
#define GUISVR_DBENV_H

#include <stddef.h>
#include <pthread.h>
#include <db.h>

enum dbenv_sync {
	DBENV_SYNC = 0,        /* fsync the log at every commit (default) */
	DBENV_WRITE_NOSYNC,    /* write the log at commit, no fsync */
	DBENV_NOSYNC,          /* neither */
};

struct dbenv_opts {
	const char *data_dir;      /* var/xdb/data (DB_HOME) */
	const char *log_dir;       /* var/xdb/log */
	const char *init_dir;      /* var/xdb/init */
	size_t cache_bytes;        /* Berkeley DB cache */
	enum dbenv_sync sync;
	int checkpoint_secs;       /* 0: no background checkpoints */
	int remove_logs;           /* remove logs no longer needed after each checkpoint */
	void (*on_panic)(void *arg);
	void *panic_arg;
};

struct dbenv {
	DB_ENV *env;
	DB *db;                    /* "records.db", btree, DB_MULTIVERSION */
	u_int32_t commit_flags;    /* flags for DB_TXN->commit from the sync setting */
	volatile int panicked;
	pthread_t ckp_thread;
	int ckp_running;
	pthread_mutex_t ckp_mu;
	pthread_cond_t ckp_cv;
	int ckp_stop;
	struct dbenv_opts opts;
};

/* Creates missing directories and a default DB_CONFIG, runs recovery, opens
 * the records database, starts the checkpoint thread. 0 or -1 with err. */
int dbenv_open(struct dbenv *e, const struct dbenv_opts *o, char *err, size_t errlen);
/* Stops the checkpoint thread, checkpoints once, closes everything. */
void dbenv_close(struct dbenv *e);
/* Checkpoint now and (if remove_logs) remove unneeded logs. 0 or -1 with err. */
int dbenv_checkpoint(struct dbenv *e, char *err, size_t errlen);
/* Name of a Berkeley DB event ("DB_EVENT_PANIC", …). */
const char *dbenv_event_name(u_int32_t event);
/* Default DB_CONFIG content written when the file is missing. */
extern const char dbenv_default_db_config[];

#endif
