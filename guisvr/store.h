/* store.h — management records in Berkeley DB: one btree keyed by record id
 * (no NUL), value = record_encode_attrs. Every operation is one transaction,
 * retried on deadlock. Reads are read-committed (degree 2), not snapshots:
 * they see only committed records, each one whole. A scan (list, count)
 * reads in chunks, each in its own short transaction, so it never holds a
 * lock a writer waits for, but it is not one point-in-time state: a record
 * written meanwhile is seen either before or after the write.
 * Each call returns 0 (XE_OK) or an enum xe_code with err filled.
 *
 * Under replication (dbenv_opts.replication) records.db is opened on first
 * use, created only once store_db_ready(s, 1) said this node is the master,
 * and reopened when Berkeley DB declares the handle dead (a client whose
 * database was re-sent by the master); an operation that meets
 * DB_REP_LOCKOUT (a client syncing up) is retried for a few seconds, then
 * answered XE_BUSY. */
#ifndef GUISVR_STORE_H
#define GUISVR_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "dbenv.h"
#include "record.h"

struct store {
	struct dbenv env;
	size_t max_record;       /* encoded attributes size limit */
	size_t max_batch_ops;
	/* Writes are refused with XE_READONLY when readonly_msg[0] != 0
	 * (set by replication: "this node is secondary; primary is ADDR"). */
	char readonly_msg[256];
	pthread_mutex_t ro_mu;
	/* Held for reading while an operation uses env.db, for writing to open
	 * or replace it. */
	pthread_rwlock_t db_lk;
	int db_create;           /* records.db may be created here (master) */
	unsigned db_reopens;     /* dead handles replaced (replication) */
	/* Called after each write transaction commits (rep_commit_wait). */
	int (*commit_hook)(void *arg, char *err, size_t errlen);
	void *commit_arg;
	u_int32_t base_commit_flags;   /* env.commit_flags from the config */
};

int store_open(struct store *s, const struct dbenv_opts *o, size_t max_record,
    char *err, size_t errlen);
void store_close(struct store *s);
void store_set_readonly(struct store *s, const char *msg);   /* NULL/"" = writable */
/* may_create 1: this node is the master; open records.db now, creating it
 * if needed. 0: it must come from the master (opened when it exists).
 * 0 or an xe_code with err. */
int store_db_ready(struct store *s, int may_create, char *err, size_t errlen);
/* Installs (hook != NULL) or removes the post-commit hook. nosync: write
 * transactions commit with DB_TXN_NOSYNC (the hook flushes the log itself,
 * so that a group of commits shares one fsync and the secondary is not
 * told to flush each one); 0 restores the configured guiSvr.txnSync.
 * Call while writes are refused (store_set_readonly). */
void store_set_commit_hook(struct store *s, int (*hook)(void *, char *, size_t),
    void *arg, int nosync);

int store_get(struct store *s, const char *id, struct record *out, char *err, size_t errlen);
int store_put(struct store *s, const struct record *r, char *err, size_t errlen);
int store_set(struct store *s, const struct record *r, char *err, size_t errlen);
int store_unset(struct store *s, const struct record *r, char *err, size_t errlen);
int store_del(struct store *s, const char *id, char *err, size_t errlen);
/* All ops in one transaction: all applied or none. */
int store_batch(struct store *s, const struct rec_op *ops, size_t n, char *err, size_t errlen);
int store_count(struct store *s, const char *prefix, uint64_t *count, char *err, size_t errlen);
/* Calls cb(id, idlen, attrs, attrslen, arg) for each record whose id starts
 * with prefix, in key order, at most limit (0 = all), read in chunks of
 * committed records (not one snapshot: see above).
 * A non-zero cb return stops the scan (store_list then returns 0).
 * *count gets the number of records passed to cb. */
typedef int (*store_list_cb)(const char *id, size_t idlen, const void *attrs, size_t alen,
    void *arg);
int store_list(struct store *s, const char *prefix, uint32_t limit, store_list_cb cb,
    void *arg, uint64_t *count, char *err, size_t errlen);

#endif
