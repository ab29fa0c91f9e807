/* repdiverge.c — a node whose history diverged is not silently rolled
 * back: before an old primary syncs as a client, its environment is copied
 * aside to var/xdb/diverged-<time>/ and its last commits are remembered;
 * after the sync-up they are looked for in the log, and the number of
 * transactions the sync-up rolled back is reported (the copy is removed
 * when nothing was lost). */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <db.h>

#include "atomicfile.h"
#include "fsutil.h"
#include "halink.h"
#include "rep_int.h"
#include "util.h"

/* Commit records of an old primary kept in memory to find, after it synced
 * as a secondary, how many of them the new primary's history lacks. */
#define REP_DIV_MAX_COMMITS 100000
#define REP_DIV_MAX_BYTES (16u * 1024 * 1024)
/* Berkeley DB 5.3 log record layout used by the divergence check: a
 * header of rectype, txnid, prev_lsn, then for __txn_regop the opcode. */
#define REP_LOG_REGOP 10            /* DB___txn_regop */
#define REP_LOG_COMMIT 1            /* TXN_COMMIT */
#define REP_LOG_HDR 16

void
rep_div_free(struct rep_div *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->n; i++)
		free(d->recs[i].data);
	free(d->recs);
	free(d);
}

static int
rep_is_commit(const DBT *rec)
{
	uint32_t type, op;

	if (rec->size < REP_LOG_HDR + 4)
		return 0;
	memcpy(&type, rec->data, 4);
	memcpy(&op, (unsigned char *)rec->data + REP_LOG_HDR, 4);
	return type == REP_LOG_REGOP && op == REP_LOG_COMMIT;
}

/* Collects this node's newest commit records, newest first. */
static int
rep_div_collect(struct rep *r, struct rep_div *d, char *err, size_t errlen)
{
	DB_LOGC *lc = NULL;
	DB_LSN lsn;
	DBT rec;
	size_t cap = 0, bytes = 0;
	u_int32_t flag = DB_LAST;
	int ret;

	if ((ret = r->env->log_cursor(r->env, &lc, 0)) != 0) {
		snprintf(err, errlen, "log cursor: %s", db_strerror(ret));
		return -1;
	}
	memset(&rec, 0, sizeof(rec));
	for (;; flag = DB_PREV) {
		if ((ret = lc->get(lc, &lsn, &rec, flag)) != 0)
			break;
		if (!rep_is_commit(&rec))
			continue;
		if (d->n == REP_DIV_MAX_COMMITS || bytes + rec.size >
		    REP_DIV_MAX_BYTES) {
			d->truncated = 1;
			break;
		}
		if (d->n == cap) {
			struct rep_divrec *n;

			cap = cap ? cap * 2 : 256;
			if ((n = realloc(d->recs, cap * sizeof(*n))) == NULL) {
				ret = ENOMEM;
				break;
			}
			d->recs = n;
		}
		if ((d->recs[d->n].data = malloc(rec.size)) == NULL) {
			ret = ENOMEM;
			break;
		}
		memcpy(d->recs[d->n].data, rec.data, rec.size);
		d->recs[d->n].len = rec.size;
		d->recs[d->n].lsn = lsn;
		d->n++;
		bytes += rec.size;
	}
	lc->close(lc, 0);
	if (ret != 0 && ret != DB_NOTFOUND && !d->truncated) {
		snprintf(err, errlen, "reading the log: %s", db_strerror(ret));
		return -1;
	}
	return 0;
}

/* Before an old primary becomes a client, whose sync-up may roll back what
 * it wrote that the new primary never got: copy the environment aside and
 * remember its last commits. Called with role_mu held, never as a client
 * (a client's checkpoint does not write its pages). */
void
rep_div_prepare(struct rep *r)
{
	char err[HASVR_ERRLEN], name[64], from[PATH_MAX], to[PATH_MAX];
	char info[512];
	const char *home = NULL;
	struct rep_div *d;
	struct tm tm;
	time_t now;
	int ret, i, n;

	pthread_mutex_lock(&r->mu);
	d = r->div;
	pthread_mutex_unlock(&r->mu);
	if (d != NULL)
		return;           /* the copy from before is still unchecked */
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return;
	if ((ret = r->env->txn_checkpoint(r->env, 0, 0, DB_FORCE)) != 0 ||
	    (ret = r->env->log_flush(r->env, NULL)) != 0)
		log_warnx("before preserving the database: %s", db_strerror(ret));
	if (rep_div_collect(r, d, err, sizeof(err)) == -1) {
		log_warnx("cannot read this node's history to check it for "
		    "divergence: %s", err);
		rep_div_free(d);
		return;
	}
	if (d->n == 0) {          /* nothing committed: nothing to lose */
		rep_div_free(d);
		return;
	}
	now = time(NULL);
	localtime_r(&now, &tm);
	strftime(name, sizeof(name), "diverged-%Y%m%d-%H%M%S", &tm);
	for (i = 0; i < 100; i++) {
		if (i == 0)
			snprintf(to, sizeof(to), "%s/%s", r->xdb_dir, name);
		else
			snprintf(to, sizeof(to), "%s/%s-%d", r->xdb_dir, name, i);
		if (mkdir(to, 0750) == 0)
			break;
		if (errno != EEXIST) {
			log_warnx("cannot preserve this node's database in %s: %s; "
			    "what a sync-up rolls back will be lost", to,
			    strerror(errno));
			rep_div_free(d);
			return;
		}
	}
	util_strlcpy(d->dir, to, sizeof(d->dir));
	/* Berkeley DB's hot backup: data files and logs, consistent, into
	 * one directory that db_recover -h can open */
	if ((ret = r->env->backup(r->env, d->dir, DB_CREATE |
	    DB_BACKUP_SINGLE_DIR)) != 0) {
		log_warnx("cannot preserve this node's database in %s: %s; what "
		    "a sync-up rolls back will be lost", d->dir, db_strerror(ret));
		fsutil_rmtree(d->dir);
		rep_div_free(d);
		return;
	}
	if (r->env->get_home(r->env, &home) == 0 && home != NULL &&
	    util_path_join(from, sizeof(from), home, "DB_CONFIG") == 0 &&
	    util_path_join(to, sizeof(to), d->dir, "DB_CONFIG") == 0 &&
	    fsutil_copy_file(from, to, err, sizeof(err)) == -1)
		log_warnx("preserving DB_CONFIG: %s", err);
	n = snprintf(info, sizeof(info), "This is the database of this node as "
	    "it was when it stopped being the primary.\nIts last commit is at "
	    "LSN %u/%u. Open it with: db_recover -h %s\n",
	    d->recs[0].lsn.file, d->recs[0].lsn.offset, d->dir);
	if (util_path_join(to, sizeof(to), d->dir, "README") == 0)
		(void)atomicfile_write(to, info, (size_t)n, 0640, err, sizeof(err));
	pthread_mutex_lock(&r->mu);
	r->div = d;
	pthread_mutex_unlock(&r->mu);
	log_info("preserved this node's database in %s before it syncs with the "
	    "primary (last commit at %u/%u)", d->dir, d->recs[0].lsn.file,
	    d->recs[0].lsn.offset);
}

/* After the sync-up (or at promotion): is this node's last commit still in
 * its log, byte for byte? If not, count the commits the sync-up removed. */
void
rep_div_check(struct rep *r, const char *when)
{
	struct rep_div *d;
	DB_LOGC *lc = NULL;
	DB_LSN lsn;
	DBT rec;
	size_t i, match = (size_t)-1;
	int ret;

	pthread_mutex_lock(&r->mu);
	d = r->div;
	r->div = NULL;
	/* settled: a later demotion without writes needs no new copy */
	if (d != NULL)
		r->was_primary = r->role == HA_ROLE_PRIMARY;
	pthread_mutex_unlock(&r->mu);
	if (d == NULL)
		return;
	if ((ret = r->env->log_cursor(r->env, &lc, 0)) != 0) {
		rep_event(r, LOG_LVL_WARN, "cannot check for diverged history (%s): "
		    "%s; preserved in %s", db_strerror(ret), when, d->dir);
		rep_div_free(d);
		return;
	}
	/* Walk the log backwards beside the saved commits (both newest
	 * first): positioning the cursor on a saved LSN directly would make
	 * Berkeley DB complain when it is past the end or inside a record. */
	memset(&rec, 0, sizeof(rec));
	ret = lc->get(lc, &lsn, &rec, DB_LAST);
	for (i = 0; ret == 0 && i < d->n;) {
		int c = rep_lsn_cmp(&lsn, &d->recs[i].lsn);

		if (c > 0)
			ret = lc->get(lc, &lsn, &rec, DB_PREV);
		else if (c < 0)
			i++;            /* not in the log any more */
		else if (rec.size == d->recs[i].len &&
		    memcmp(rec.data, d->recs[i].data, rec.size) == 0) {
			match = i;
			break;
		} else {
			i++;            /* another record at that place */
			ret = lc->get(lc, &lsn, &rec, DB_PREV);
		}
	}
	lc->close(lc, 0);
	if (match == 0) {
		fsutil_rmtree(d->dir);
		rep_event(r, LOG_LVL_INFO, "no divergence; removed %s", d->dir);
	} else if (match != (size_t)-1)
		rep_event(r, LOG_LVL_WARN, "diverged history: %zu transactions "
		    "rolled back; preserved in %s", match, d->dir);
	else
		rep_event(r, LOG_LVL_WARN, "diverged history: %s%zu transactions "
		    "rolled back (none of this node's last commits is in the "
		    "primary's history, or the primary re-sent the whole "
		    "database); preserved in %s", d->truncated ? "more than " : "",
		    d->n, d->dir);
	rep_div_free(d);
}
