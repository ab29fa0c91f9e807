/* store.c — management records in the Berkeley DB btree "records.db".
 *
 * Every call is one transaction. Writers take write locks (DB_RMW on the
 * read of a read-modify-write) so two SETs on one record cannot both read
 * the old value; a deadlock aborts and reruns the whole transaction. Readers
 * use read-committed (degree 2) transactions: they see only committed data,
 * each record whole, and hold a lock only on the page under the cursor, so
 * a long listing never holds writers back. A listing is therefore not one
 * point-in-time snapshot: a record changed while it runs is seen either
 * before or after the change. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store.h"
#include "proto.h"
#include "log.h"
#include "util.h"

/* Deadlocks are resolved by aborting one victim; with up to a few dozen
 * writers on one record a rerun nearly always succeeds within a few tries. */
#define STORE_MAX_TRIES 100
/* Internal results of a transaction body: abort and run it again; abort,
 * reopen the dead records.db handle and run it again; abort, wait for a
 * replication sync-up to end and run it again. */
#define STORE_RETRY (-1)
#define STORE_DEAD (-2)
#define STORE_LOCKOUT (-3)
/* How long an operation waits out a client's sync-up before XE_BUSY. */
#define STORE_LOCKOUT_MS 5000
#define STORE_LOCKOUT_STEP_MS 20

typedef int (*store_body)(struct store *, DB_TXN *, void *, char *, size_t);

static const char *
store_opname(uint8_t op)
{
	switch (op) {
	case REC_OP_PUT:
		return "PUT";
	case REC_OP_SET:
		return "SET";
	case REC_OP_UNSET:
		return "UNSET";
	case REC_OP_DEL:
		return "DEL";
	}
	return "?";
}

/* What an admin can do about an error that is not a database bug. */
static const char *
store_hint(int ret)
{
	switch (ret) {
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
		return "; free space on the disk holding xdb/data and xdb/log";
	case EIO:
		return "; check the disk holding xdb/data and xdb/log";
	case DB_RUNRECOVERY:
		return "; guisvr must be restarted (recovery runs at start)";
	}
	return "";
}

/* Maps a Berkeley DB error: deadlocks are retried, the rest is XE_DB. */
static int
store_dberr(int ret, const char *what, const char *id, char *err, size_t errlen)
{
	if (ret == DB_LOCK_DEADLOCK || ret == DB_LOCK_NOTGRANTED)
		return STORE_RETRY;
	if (ret == DB_REP_HANDLE_DEAD)
		return STORE_DEAD;
	if (ret == DB_REP_LOCKOUT)
		return STORE_LOCKOUT;
	if (id != NULL)
		snprintf(err, errlen, "%s %s: %s%s", what, id, db_strerror(ret),
		    store_hint(ret));
	else
		snprintf(err, errlen, "%s: %s%s", what, db_strerror(ret),
		    store_hint(ret));
	return XE_DB;
}

static void
store_backoff(int try)
{
	struct timespec ts;

	/* Staggered so that two victims of one deadlock do not meet again. */
	ts.tv_sec = 0;
	ts.tv_nsec = (long)(50 + (try % 20) * 50 + (rand() % 50)) * 1000;
	nanosleep(&ts, NULL);
}

static int
store_check_env(struct store *s, char *err, size_t errlen)
{
	if (s->env.panicked) {
		snprintf(err, errlen, "the Berkeley DB environment has panicked; "
		    "guisvr must be restarted (recovery runs at start)");
		return XE_DB;
	}
	return 0;
}

/* Takes db_lk for reading with env.db open, opening it first if needed.
 * 0 (locked), STORE_LOCKOUT or an xe_code (not locked). */
static int
store_db_acquire(struct store *s, char *err, size_t errlen)
{
	int ret, i;

	for (i = 0; i < 3; i++) {
		pthread_rwlock_rdlock(&s->db_lk);
		if (s->env.db != NULL && !__atomic_load_n(&s->env.db_stale,
		    __ATOMIC_ACQUIRE))
			return 0;
		pthread_rwlock_unlock(&s->db_lk);
		pthread_rwlock_wrlock(&s->db_lk);
		if (s->env.db != NULL && __atomic_load_n(&s->env.db_stale,
		    __ATOMIC_ACQUIRE)) {
			log_info("records.db was replaced by replication; "
			    "reopening it");
			s->db_reopens++;
		}
		/* dbenv_db_open closes a stale handle first */
		ret = dbenv_db_open(&s->env, __atomic_load_n(&s->db_create,
		    __ATOMIC_ACQUIRE), err, errlen);
		pthread_rwlock_unlock(&s->db_lk);
		if (ret == ENOENT) {
			snprintf(err, errlen, "this node has not received the "
			    "database from the primary yet; retry later");
			return XE_BUSY;
		}
		if (ret == DB_REP_LOCKOUT || ret == DB_LOCK_DEADLOCK)
			return STORE_LOCKOUT;
		if (ret != 0 && ret != DB_REP_HANDLE_DEAD)
			return XE_DB;
	}
	snprintf(err, errlen, "cannot open the records database: the handle "
	    "keeps dying (replication sync-up in progress?); retry later");
	return XE_BUSY;
}

/* Replaces a handle Berkeley DB declared dead, unless another thread
 * already did. */
static void
store_db_dead(struct store *s, DB *dead)
{
	pthread_rwlock_wrlock(&s->db_lk);
	if (s->env.db == dead) {
		log_info("records.db was replaced by replication; reopening it");
		dbenv_db_close(&s->env);
		s->db_reopens++;
	}
	pthread_rwlock_unlock(&s->db_lk);
}

/* Waits one step of a sync-up lockout. 0, or XE_BUSY once it lasted too
 * long. */
static int
store_lockout_wait(int *waited_ms, char *err, size_t errlen)
{
	struct timespec ts;

	if (*waited_ms >= STORE_LOCKOUT_MS) {
		snprintf(err, errlen, "this node is synchronizing its database "
		    "from the primary; retry in a moment");
		return XE_BUSY;
	}
	ts.tv_sec = 0;
	ts.tv_nsec = STORE_LOCKOUT_STEP_MS * 1000000L;
	nanosleep(&ts, NULL);
	*waited_ms += STORE_LOCKOUT_STEP_MS;
	return 0;
}

/* Runs body in one transaction, committing on success and rerunning after
 * a deadlock, a dead handle or a sync-up lockout. A write that committed
 * then goes through the commit hook (replication acknowledgements). */
static int
store_run(struct store *s, u_int32_t beginflags, int readonly, store_body body,
    void *arg, char *err, size_t errlen)
{
	DB_ENV *env = s->env.env;
	DB_TXN *txn;
	DB *db;
	int ret, rc, try = 0, waited = 0, (*hook)(void *, char *, size_t);

	if ((rc = store_check_env(s, err, errlen)) != 0)
		return rc;
	while (try < STORE_MAX_TRIES) {
		if ((rc = store_db_acquire(s, err, errlen)) == STORE_LOCKOUT) {
			if ((rc = store_lockout_wait(&waited, err, errlen)) != 0)
				return rc;
			continue;
		}
		if (rc != 0)
			return rc;
		db = s->env.db;
		if ((ret = env->txn_begin(env, NULL, &txn, beginflags)) != 0) {
			pthread_rwlock_unlock(&s->db_lk);
			rc = store_dberr(ret, "cannot begin a transaction", NULL,
			    err, errlen);
		} else {
			rc = body(s, txn, arg, err, errlen);
			if (rc == 0) {
				/* A read-only commit writes no log: no reason to
				 * flush. */
				ret = txn->commit(txn, readonly ? DB_TXN_NOSYNC :
				    __atomic_load_n(&s->env.commit_flags,
				    __ATOMIC_ACQUIRE));
				pthread_rwlock_unlock(&s->db_lk);
				if (ret != 0) {
					snprintf(err, errlen, "commit failed: %s%s",
					    db_strerror(ret), store_hint(ret));
					return XE_DB;
				}
				hook = __atomic_load_n(&s->commit_hook,
				    __ATOMIC_ACQUIRE);
				if (!readonly && hook != NULL)
					return hook(__atomic_load_n(&s->commit_arg,
					    __ATOMIC_ACQUIRE), err, errlen);
				return 0;
			}
			ret = txn->abort(txn);
			pthread_rwlock_unlock(&s->db_lk);
			if (ret != 0 && rc != XE_DB) {
				snprintf(err, errlen, "abort failed: %s",
				    db_strerror(ret));
				return XE_DB;
			}
		}
		switch (rc) {
		case STORE_RETRY:
			store_backoff(++try);
			continue;
		case STORE_DEAD:
			store_db_dead(s, db);
			try++;
			continue;
		case STORE_LOCKOUT:
			if ((rc = store_lockout_wait(&waited, err, errlen)) != 0)
				return rc;
			continue;
		}
		return rc;
	}
	snprintf(err, errlen, "gave up after %d deadlocks in a row; retry later",
	    STORE_MAX_TRIES);
	return XE_BUSY;
}

static int
store_check_id(const char *id, char *err, size_t errlen)
{
	if (id == NULL) {
		snprintf(err, errlen, "missing record id");
		return XE_BADID;
	}
	if (record_id_valid(id, strlen(id), err, errlen) != 0)
		return XE_BADID;
	return 0;
}

static int
store_check_writable(struct store *s, char *err, size_t errlen)
{
	int rc = 0;

	pthread_mutex_lock(&s->ro_mu);
	if (s->readonly_msg[0] != '\0') {
		snprintf(err, errlen, "%s", s->readonly_msg);
		rc = XE_READONLY;
	}
	pthread_mutex_unlock(&s->ro_mu);
	return rc;
}

static int
store_check_size(struct store *s, const struct record *r, const char *verb,
    char *err, size_t errlen)
{
	size_t n;

	if (s->max_record == 0)
		return 0;
	if ((n = record_attrs_size(r)) > s->max_record) {
		snprintf(err, errlen, "record %s %s %zu bytes; "
		    "guiSvr.maxRecordSize is %zu", r->id, verb, n, s->max_record);
		return XE_TOOBIG;
	}
	return 0;
}

/* Checks what can be checked before touching the database. */
static int
store_check_op(struct store *s, uint8_t op, const struct record *r, char *err,
    size_t errlen)
{
	size_t i;
	int rc;

	if (op < REC_OP_PUT || op > REC_OP_DEL) {
		snprintf(err, errlen, "unknown operation code %u", op);
		return XE_BADREQ;
	}
	if ((rc = store_check_id(r->id, err, errlen)) != 0)
		return rc;
	if (op == REC_OP_DEL)
		return 0;
	for (i = 0; i < r->nattr; i++) {
		const char *name = r->attr[i].name;

		if (name == NULL || record_name_valid(name, strlen(name), err,
		    errlen) != 0) {
			if (name == NULL)
				snprintf(err, errlen, "attribute %zu has no name", i + 1);
			return XE_BADID;
		}
	}
	if (op == REC_OP_PUT || op == REC_OP_SET)
		return store_check_size(s, r, "is", err, errlen);
	return 0;
}

/* Reads id into out (initialized and empty). *found tells whether it exists. */
static int
store_read(struct store *s, DB_TXN *txn, const char *id, u_int32_t flags,
    struct record *out, int *found, char *err, size_t errlen)
{
	char derr[HASVR_ERRLEN];
	DBT key, data;
	int ret;

	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	key.data = (void *)id;
	key.size = (u_int32_t)strlen(id);
	data.flags = DB_DBT_MALLOC;
	*found = 0;
	ret = s->env.db->get(s->env.db, txn, &key, &data, flags);
	if (ret == DB_NOTFOUND)
		return 0;
	if (ret != 0)
		return store_dberr(ret, "cannot read", id, err, errlen);
	*found = 1;
	if (record_set_id(out, id, strlen(id)) != 0) {
		free(data.data);
		snprintf(err, errlen, "reading %s: out of memory", id);
		return XE_DB;
	}
	if (record_decode_attrs(out, data.data, data.size, derr, sizeof(derr)) != 0) {
		free(data.data);
		snprintf(err, errlen, "record %s is corrupt in the database (%s); "
		    "delete it or restore it from a dump", id, derr);
		return XE_DB;
	}
	free(data.data);
	return 0;
}

static int
store_write(struct store *s, DB_TXN *txn, const struct record *r, char *err,
    size_t errlen)
{
	struct buf b;
	DBT key, data;
	int ret;

	buf_init(&b);
	record_encode_attrs(r, &b);
	if (b.oom) {
		buf_free(&b);
		snprintf(err, errlen, "writing %s: out of memory", r->id);
		return XE_DB;
	}
	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	key.data = r->id;
	key.size = (u_int32_t)strlen(r->id);
	data.data = b.p;
	data.size = (u_int32_t)b.len;
	ret = s->env.db->put(s->env.db, txn, &key, &data, 0);
	buf_free(&b);
	if (ret != 0)
		return store_dberr(ret, "cannot write", r->id, err, errlen);
	return 0;
}

/* Applies one checked operation inside txn. */
static int
store_apply(struct store *s, DB_TXN *txn, uint8_t op, const struct record *r,
    char *err, size_t errlen)
{
	struct record cur;
	DBT key;
	size_t i;
	int found, rc, ret;

	switch (op) {
	case REC_OP_PUT:
		return store_write(s, txn, r, err, errlen);
	case REC_OP_DEL:
		memset(&key, 0, sizeof(key));
		key.data = r->id;
		key.size = (u_int32_t)strlen(r->id);
		ret = s->env.db->del(s->env.db, txn, &key, 0);
		if (ret == DB_NOTFOUND) {
			snprintf(err, errlen, "%s: no such record", r->id);
			return XE_NOTFOUND;
		}
		if (ret != 0)
			return store_dberr(ret, "cannot delete", r->id, err, errlen);
		return 0;
	case REC_OP_SET:
	case REC_OP_UNSET:
		break;
	default:
		snprintf(err, errlen, "unknown operation code %u", op);
		return XE_BADREQ;
	}

	record_init(&cur);
	/* DB_RMW: take the write lock now, so concurrent updates of one record
	 * serialize instead of deadlocking on the lock upgrade. */
	rc = store_read(s, txn, r->id, DB_RMW, &cur, &found, err, errlen);
	if (rc != 0)
		goto out;
	if (!found) {
		if (op == REC_OP_UNSET) {
			snprintf(err, errlen, "%s: no such record", r->id);
			rc = XE_NOTFOUND;
			goto out;
		}
		if (record_set_id(&cur, r->id, strlen(r->id)) != 0) {
			snprintf(err, errlen, "%s: out of memory", r->id);
			rc = XE_DB;
			goto out;
		}
	}
	if (op == REC_OP_SET) {
		if (record_merge(&cur, r) != 0) {
			snprintf(err, errlen, "%s: out of memory", r->id);
			rc = XE_DB;
			goto out;
		}
		if ((rc = store_check_size(s, &cur, "would be", err, errlen)) != 0)
			goto out;
	} else {
		for (i = 0; i < r->nattr; i++)
			record_unset(&cur, r->attr[i].name);
	}
	rc = store_write(s, txn, &cur, err, errlen);
out:
	record_free(&cur);
	return rc;
}

int
store_open(struct store *s, const struct dbenv_opts *o, size_t max_record,
    char *err, size_t errlen)
{
	s->max_record = max_record;
	s->max_batch_ops = 0;
	s->readonly_msg[0] = '\0';
	s->commit_hook = NULL;
	s->commit_arg = NULL;
	s->db_reopens = 0;
	/* without replication this node is its own master */
	s->db_create = !o->replication;
	pthread_mutex_init(&s->ro_mu, NULL);
	pthread_rwlock_init(&s->db_lk, NULL);
	if (dbenv_open(&s->env, o, err, errlen) == -1) {
		pthread_rwlock_destroy(&s->db_lk);
		pthread_mutex_destroy(&s->ro_mu);
		return XE_DB;
	}
	s->base_commit_flags = s->env.commit_flags;
	return 0;
}

void
store_close(struct store *s)
{
	dbenv_close(&s->env);
	pthread_rwlock_destroy(&s->db_lk);
	pthread_mutex_destroy(&s->ro_mu);
}

int
store_db_ready(struct store *s, int may_create, char *err, size_t errlen)
{
	int ret;

	__atomic_store_n(&s->db_create, may_create, __ATOMIC_RELEASE);
	if (!may_create)
		return 0;
	pthread_rwlock_wrlock(&s->db_lk);
	ret = dbenv_db_open(&s->env, 1, err, errlen);
	pthread_rwlock_unlock(&s->db_lk);
	return ret == 0 ? 0 : XE_DB;
}

void
store_set_commit_hook(struct store *s, int (*hook)(void *, char *, size_t),
    void *arg, int nosync)
{
	__atomic_store_n(&s->commit_arg, arg, __ATOMIC_RELEASE);
	__atomic_store_n(&s->commit_hook, hook, __ATOMIC_RELEASE);
	__atomic_store_n(&s->env.commit_flags, hook != NULL && nosync ?
	    DB_TXN_NOSYNC : s->base_commit_flags, __ATOMIC_RELEASE);
}

void
store_set_readonly(struct store *s, const char *msg)
{
	pthread_mutex_lock(&s->ro_mu);
	util_strlcpy(s->readonly_msg, msg != NULL ? msg : "",
	    sizeof(s->readonly_msg));
	pthread_mutex_unlock(&s->ro_mu);
}

struct store_get_arg {
	const char *id;
	struct record *out;
};

static int
store_get_body(struct store *s, DB_TXN *txn, void *arg, char *err, size_t errlen)
{
	struct store_get_arg *a = arg;
	int found, rc;

	record_free(a->out);
	if ((rc = store_read(s, txn, a->id, 0, a->out, &found, err, errlen)) != 0)
		return rc;
	if (!found) {
		snprintf(err, errlen, "%s: no such record", a->id);
		return XE_NOTFOUND;
	}
	return 0;
}

/* out is overwritten (it need not be initialized); on error it is left
 * empty, so record_free is always safe. */
int
store_get(struct store *s, const char *id, struct record *out, char *err,
    size_t errlen)
{
	struct store_get_arg a = { id, out };
	int rc;

	record_init(out);
	if ((rc = store_check_id(id, err, errlen)) != 0)
		return rc;
	rc = store_run(s, DB_READ_COMMITTED, 1, store_get_body, &a, err, errlen);
	if (rc != 0)
		record_free(out);
	return rc;
}

struct store_op_arg {
	uint8_t op;
	const struct record *r;
};

static int
store_op_body(struct store *s, DB_TXN *txn, void *arg, char *err, size_t errlen)
{
	struct store_op_arg *a = arg;

	return store_apply(s, txn, a->op, a->r, err, errlen);
}

static int
store_one(struct store *s, uint8_t op, const struct record *r, char *err,
    size_t errlen)
{
	struct store_op_arg a = { op, r };
	int rc;

	if ((rc = store_check_writable(s, err, errlen)) != 0 ||
	    (rc = store_check_op(s, op, r, err, errlen)) != 0)
		return rc;
	return store_run(s, 0, 0, store_op_body, &a, err, errlen);
}

int
store_put(struct store *s, const struct record *r, char *err, size_t errlen)
{
	return store_one(s, REC_OP_PUT, r, err, errlen);
}

int
store_set(struct store *s, const struct record *r, char *err, size_t errlen)
{
	return store_one(s, REC_OP_SET, r, err, errlen);
}

int
store_unset(struct store *s, const struct record *r, char *err, size_t errlen)
{
	return store_one(s, REC_OP_UNSET, r, err, errlen);
}

int
store_del(struct store *s, const char *id, char *err, size_t errlen)
{
	struct record r;

	record_init(&r);
	r.id = (char *)id;     /* only read; never freed here */
	return store_one(s, REC_OP_DEL, &r, err, errlen);
}

struct store_batch_arg {
	const struct rec_op *ops;
	size_t n;
};

static void
store_op_err(size_t i, const struct rec_op *o, const char *why, char *err,
    size_t errlen)
{
	const char *id = o->rec.id != NULL ? o->rec.id : "?";
	size_t n = strlen(id);

	/* The op already names the record: "op 3 (DEL 0.a.b): no such record". */
	if (strncmp(why, id, n) == 0 && strncmp(why + n, ": ", 2) == 0)
		why += n + 2;
	snprintf(err, errlen, "op %zu (%s %s): %s", i + 1, store_opname(o->op),
	    id, why);
}

static int
store_batch_body(struct store *s, DB_TXN *txn, void *arg, char *err,
    size_t errlen)
{
	struct store_batch_arg *a = arg;
	char oerr[HASVR_ERRLEN];
	size_t i;
	int rc;

	for (i = 0; i < a->n; i++) {
		rc = store_apply(s, txn, a->ops[i].op, &a->ops[i].rec, oerr,
		    sizeof(oerr));
		if (rc < 0)     /* retry, dead handle or lockout */
			return rc;
		if (rc != 0) {
			store_op_err(i, &a->ops[i], oerr, err, errlen);
			return rc;
		}
	}
	return 0;
}

int
store_batch(struct store *s, const struct rec_op *ops, size_t n, char *err,
    size_t errlen)
{
	struct store_batch_arg a = { ops, n };
	char oerr[HASVR_ERRLEN];
	size_t i;
	int rc;

	if ((rc = store_check_writable(s, err, errlen)) != 0)
		return rc;
	if (s->max_batch_ops != 0 && n > s->max_batch_ops) {
		snprintf(err, errlen, "batch has %zu operations; the limit is %zu",
		    n, s->max_batch_ops);
		return XE_TOOBIG;
	}
	for (i = 0; i < n; i++) {
		if ((rc = store_check_op(s, ops[i].op, &ops[i].rec, oerr,
		    sizeof(oerr))) != 0) {
			store_op_err(i, &ops[i], oerr, err, errlen);
			return rc;
		}
	}
	if (n == 0)
		return 0;
	return store_run(s, 0, 0, store_batch_body, &a, err, errlen);
}

/* Listings are read in chunks, each in its own short read-committed
 * transaction, and handed to the callback only after that transaction has
 * ended: a client that reads slowly never holds a lock that a writer waits
 * for, and memory stays bounded by one chunk. */
#define SCAN_CHUNK_BYTES (256 * 1024)
#define SCAN_CHUNK_RECORDS 1024

struct store_scan_arg {
	const char *prefix;
	size_t plen;
	uint32_t limit;
	int keys_only;
	store_list_cb cb;
	void *cbarg;
	uint64_t count;          /* records delivered (or counted) so far */
	struct buf chunk;        /* u16 idlen, id, u32 alen, attrs ... */
	size_t nchunk;
	char last[RECORD_ID_MAX + 1];
	size_t lastlen;          /* 0: start at the prefix */
	int done;
};

/* Walks keys starting with prefix in key order from where the previous
 * chunk ended. DB_SET_RANGE on the prefix finds the first match: every
 * matching key sorts at or after it, and the first key that does not match
 * ends the range. */
static int
store_scan_body(struct store *s, DB_TXN *txn, void *arg, char *err,
    size_t errlen)
{
	struct store_scan_arg *a = arg;
	DBC *c = NULL;
	DBT key, data;
	u_int32_t flag;
	uint64_t counted = 0;
	int ret, rc = 0;

	buf_reset(&a->chunk);
	a->nchunk = 0;
	if ((ret = s->env.db->cursor(s->env.db, txn, &c, 0)) != 0)
		return store_dberr(ret, "cannot open a cursor", NULL, err, errlen);
	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	key.flags = DB_DBT_REALLOC;
	data.flags = DB_DBT_REALLOC;
	if (a->keys_only) {
		/* Count needs no values: fetch none of their bytes. */
		data.flags |= DB_DBT_PARTIAL;
		data.dlen = 0;
		data.doff = 0;
	}
	flag = DB_FIRST;
	if (a->lastlen > 0 || a->plen > 0) {
		const char *from = a->lastlen > 0 ? a->last : a->prefix;
		size_t flen = a->lastlen > 0 ? a->lastlen : a->plen;

		if ((key.data = malloc(flen)) == NULL) {
			snprintf(err, errlen, "listing %s: out of memory", a->prefix);
			c->close(c);
			return XE_DB;
		}
		memcpy(key.data, from, flen);
		key.size = (u_int32_t)flen;
		flag = DB_SET_RANGE;
	}
	for (;;) {
		ret = c->get(c, &key, &data, flag);
		flag = DB_NEXT;
		if (ret == DB_NOTFOUND) {
			a->done = 1;
			break;
		}
		if (ret != 0) {
			rc = store_dberr(ret, "listing", a->prefix[0] ? a->prefix :
			    "all records", err, errlen);
			break;
		}
		/* resuming: the last key of the previous chunk was delivered */
		if (a->lastlen > 0 && key.size == a->lastlen &&
		    memcmp(key.data, a->last, a->lastlen) == 0)
			continue;
		if (key.size < a->plen || memcmp(key.data, a->prefix, a->plen) != 0 ||
		    key.size > RECORD_ID_MAX) {
			a->done = 1;
			break;
		}
		if (a->cb == NULL) {
			counted++;
			continue;
		}
		buf_put_u16(&a->chunk, (uint16_t)key.size);
		buf_put(&a->chunk, key.data, key.size);
		buf_put_u32(&a->chunk, data.size);
		buf_put(&a->chunk, data.data, data.size);
		if (a->chunk.oom) {
			snprintf(err, errlen, "listing %s: out of memory", a->prefix);
			rc = XE_DB;
			break;
		}
		a->nchunk++;
		if (a->limit != 0 && a->count + a->nchunk >= a->limit) {
			a->done = 1;
			break;
		}
		if (a->chunk.len >= SCAN_CHUNK_BYTES || a->nchunk >= SCAN_CHUNK_RECORDS) {
			memcpy(a->last, key.data, key.size);
			a->lastlen = key.size;
			break;
		}
	}
	free(key.data);
	free(data.data);
	if ((ret = c->close(c)) != 0 && rc == 0)
		rc = store_dberr(ret, "closing a cursor", NULL, err, errlen);
	if (rc == 0 && a->cb == NULL)
		a->count = counted;
	return rc;
}

/* Hands a chunk to the callback. 1 if the callback asked to stop. */
static int
store_scan_deliver(struct store_scan_arg *a)
{
	struct rd r;
	const char *id, *attrs;
	size_t idlen, alen;

	rd_init(&r, a->chunk.p, a->chunk.len);
	while (r.off < r.len) {
		id = rd_str16(&r, &idlen);
		attrs = rd_str32(&r, &alen);
		if (r.bad)
			break;
		a->count++;
		if (a->cb(id, idlen, attrs, alen, a->cbarg) != 0)
			return 1;
	}
	return 0;
}

static int
store_scan(struct store *s, struct store_scan_arg *a, char *err, size_t errlen)
{
	int rc;

	if (a->prefix == NULL)
		a->prefix = "";
	a->plen = strlen(a->prefix);
	if (record_prefix_valid(a->prefix, a->plen, err, errlen) != 1) {
		if (err[0] == '\0')
			snprintf(err, errlen, "%s: no record id can start with "
			    "this prefix", a->prefix);
		return XE_BADID;
	}
	buf_init(&a->chunk);
	a->count = 0;
	a->lastlen = 0;
	a->done = 0;
	do {
		if ((rc = store_run(s, DB_READ_COMMITTED, 1, store_scan_body, a, err,
		    errlen)) != 0)
			break;
		if (a->cb != NULL && store_scan_deliver(a))
			break;
	} while (!a->done);
	buf_free(&a->chunk);
	return rc;
}

int
store_count(struct store *s, const char *prefix, uint64_t *count, char *err,
    size_t errlen)
{
	struct store_scan_arg a;
	int rc;

	memset(&a, 0, sizeof(a));
	a.prefix = prefix;
	a.keys_only = 1;
	err[0] = '\0';
	rc = store_scan(s, &a, err, errlen);
	*count = rc == 0 ? a.count : 0;
	return rc;
}

int
store_list(struct store *s, const char *prefix, uint32_t limit, store_list_cb cb,
    void *arg, uint64_t *count, char *err, size_t errlen)
{
	struct store_scan_arg a;
	int rc;

	memset(&a, 0, sizeof(a));
	a.prefix = prefix;
	a.limit = limit;
	a.cb = cb;
	a.cbarg = arg;
	err[0] = '\0';
	rc = store_scan(s, &a, err, errlen);
	if (count != NULL)
		*count = a.count;
	return rc;
}
