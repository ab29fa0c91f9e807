/* dbenv.h — guisvr's Berkeley DB transactional environment.
 *
 * Layout (mirrors the seed's GuiSvr/xdb): DB_HOME = var/xdb/data (database
 * files, DB_CONFIG), transaction logs in var/xdb/log, Berkeley DB persistent
 * metadata (replication files) in var/xdb/init. The shared regions (cache,
 * locks, log buffer, replication state) live in guisvr's own memory
 * (DB_PRIVATE), not in __db.* files: a full disk cannot fault a write into
 * a sparse memory-mapped region (SIGBUS), and a crash leaves no region to
 * recover; guisvr is the only process that opens the environment (tools
 * go through it). A disk that refuses writes is logged once per run of
 * refusals, and dbenv_write_fault tells the rest of guisvr.
 * dbenv_open runs normal recovery (DB_RECOVER) every time, so a kill -9 loses
 * nothing that was committed. A background thread checkpoints every
 * checkpoint_secs and removes log files no longer needed.
 * Berkeley DB events are logged as "get BDB event DB_EVENT_…"; on
 * DB_EVENT_PANIC the on_panic hook is called (from a Berkeley DB thread).
 *
 * With opts.replication the environment is opened with DB_INIT_REP for the
 * Base Replication API (rep.c drives it): elections are never used, a fresh
 * or wiped client is initialized from the master (DB_REP_CONF_AUTOINIT),
 * and API calls made during a client's sync-up return DB_REP_LOCKOUT at
 * once instead of blocking a worker (DB_REP_CONF_NOWAIT). The records
 * database is then not opened here: only a master may create it, and a
 * client's handle dies when the master re-sends the database, so the store
 * opens it on first use (dbenv_db_open) and reopens it after
 * DB_REP_HANDLE_DEAD. */
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
	int replication;           /* DB_INIT_REP; records.db opened lazily */
};

/* Replication hooks (rep.c, repack.c). send runs in the thread that logs (a
 * committing worker, the apply thread, the checkpoint thread) and must not
 * call back into Berkeley DB; event runs in a Berkeley DB thread. */
typedef int (*dbenv_rep_send_fn)(void *arg, const DBT *ctrl, const DBT *rec,
    const DB_LSN *lsnp, int eid, u_int32_t flags);
typedef void (*dbenv_rep_event_fn)(void *arg, u_int32_t event, void *info);

struct dbenv {
	DB_ENV *env;
	DB *db;                    /* "records.db", btree */
	/* Set when replication replaced the database files under db (internal
	 * init): the next user must reopen it. Berkeley DB marks such handles
	 * dead only by a timestamp in seconds, so a handle opened in the same
	 * second as the init would go on reading the old pages. */
	volatile int db_stale;
	u_int32_t commit_flags;    /* flags for DB_TXN->commit from the sync setting */
	volatile int panicked;
	pthread_t ckp_thread;
	int ckp_running;
	pthread_mutex_t ckp_mu;
	pthread_cond_t ckp_cv;
	int ckp_stop;
	struct dbenv_opts opts;
	/* Writes the disk refused (full, quota, I/O error): when the first
	 * and the last of the current run of them happened (CLOCK_MONOTONIC
	 * ms, 0 none) and why; under fault_mu. */
	pthread_mutex_t fault_mu;
	uint64_t fault_first_ms, fault_last_ms;
	char fault_why[64];
	int open_tempfail;         /* dbenv_open failed on a full disk */
	/* Set and cleared by dbenv_set_rep; the lock lets dbenv_set_rep(NULL)
	 * wait for a send or event in progress before its owner goes away. */
	pthread_rwlock_t rep_lk;
	dbenv_rep_send_fn rep_send;
	dbenv_rep_event_fn rep_event;
	void *rep_arg;
};

/* Creates missing directories and a default DB_CONFIG, runs recovery, opens
 * the records database, starts the checkpoint thread. 0 or -1 with err. */
int dbenv_open(struct dbenv *e, const struct dbenv_opts *o, char *err, size_t errlen);
/* The options guiSvr.cfg (already checked) and its paths give; on_panic
 * and replication are left to the caller. */
struct cfg;
struct guicfg_paths;
void dbenv_opts_from_cfg(struct dbenv_opts *o, const struct cfg *c,
    const struct guicfg_paths *p);
/* Stops the checkpoint thread, checkpoints once, closes everything. */
void dbenv_close(struct dbenv *e);
/* Checkpoint now and (if remove_logs) remove unneeded logs. 0 or -1 with err. */
int dbenv_checkpoint(struct dbenv *e, char *err, size_t errlen);
/* Opens the records database into e->db if it is not open: create says
 * whether it may be created (only a master may). Returns 0, ENOENT when it
 * does not exist and create is 0, or another Berkeley DB error; err filled.
 * The caller serializes calls and uses of e->db (store.c's db lock). */
int dbenv_db_open(struct dbenv *e, int create, char *err, size_t errlen);
/* Closes e->db (after DB_REP_HANDLE_DEAD, say); the next use reopens it. */
void dbenv_db_close(struct dbenv *e);
/* Installs the replication hooks and the transport (rep_set_transport with
 * self_eid), or removes them when send is NULL, waiting for calls in
 * progress. 0 or -1 with err. */
int dbenv_set_rep(struct dbenv *e, int self_eid, dbenv_rep_send_fn send,
    dbenv_rep_event_fn event, void *arg, char *err, size_t errlen);
/* The disk refused writes (ENOSPC, EDQUOT, EFBIG, EIO, EROFS): 1 with the
 * times (CLOCK_MONOTONIC ms) of the first and the last refusal of the
 * current run of them (a pause of DBENV_FAULT_GAP_MS starts a new run) and
 * the reason, 0 if never. */
#define DBENV_FAULT_GAP_MS 10000
int dbenv_write_fault(struct dbenv *e, uint64_t *first_ms, uint64_t *last_ms,
    char *why, size_t whylen);
/* Name of a Berkeley DB event ("DB_EVENT_PANIC", …). */
const char *dbenv_event_name(u_int32_t event);
/* Default DB_CONFIG content written when the file is missing. */
extern const char dbenv_default_db_config[];

#endif
