/* bench_commit — commits per second, raw Berkeley DB against guisvr's
 * replication engine and its client path, with the same record bytes.
 *
 *   bench_commit raw -d DIR [-t THREADS] [-n COMMITS] [-s SIZE] [-c CACHE]
 *       opens a fresh transactional environment in DIR the way guisvr does
 *       (DB_INIT_TXN|LOCK|LOG|MPOOL|THREAD, recovery, logs in DIR/log, a
 *       btree, default commit = log fsync) and runs
 *       COMMITS single-put transactions split over THREADS threads.
 *       A DB_CONFIG already in DIR (e.g. guisvr's) is honoured.
 *   bench_commit client -S SOCKET [-t THREADS] [-n COMMITS] [-s SIZE] [-p TAG]
 *       THREADS connections to a running guisvr, each doing xdbc_put of
 *       its share of COMMITS records.
 *   bench_commit engine -f guiSvr.cfg [-t THREADS] [-n COMMITS] [-s SIZE] [-p TAG]
 *       this process is the primary: guisvr's store and replication opened
 *       from guiSvr.cfg (and the haSvr.cfg it names) as guisvr opens them;
 *       once every secondary (running guisvr processes) is in sync, THREADS
 *       threads store_put their share of COMMITS records — as bench_repmgr
 *       runs the Replication Manager's master. The line ends with
 *       insync=1, or insync=0 if a secondary fell out of sync (an ack
 *       timed out: the rate is not comparable).
 *
 * The record is id "0.bench_TAG.tT-I" with one attribute "data"; SIZE (default
 * 100) is its encoded attribute size, which is exactly the value stored by
 * both the raw run and guisvr. Output, one line:
 *   raw threads=8 commits=20000 secs=0.710 rate=28169 size=100
 * (engine: "... size=100 insync=1").
 * Exit 0, 1 on any failed commit, 2 usage. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <db.h>

#include "bench_engine.h"
#include "record.h"
#include "util.h"
#include "xdbclient.h"

#define MAX_THREADS 64

enum mode { M_RAW, M_CLIENT, M_ENGINE };
static const char *mode_name[] = { "raw", "client", "engine" };

static struct {
	enum mode mode;
	const char *dir, *sock, *tag, *cfg;
	long threads, commits, size;
	long long cache;
	DB_ENV *env;
	DB *db;
} B = { .threads = 1, .commits = 10000, .size = 100, .cache = 16 * 1024 * 1024,
	.tag = "x" };

struct worker {
	long idx, first, count;
	long done;
	char err[600];
	pthread_t tid;
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: bench_commit raw -d DIR [-t threads] [-n commits] [-s size] [-c cache]\n"
	    "       bench_commit client -S socket [-t threads] [-n commits] [-s size] [-p tag]\n"
	    "       bench_commit engine -f guiSvr.cfg [-t threads] [-n commits] [-s size] [-p tag]\n");
	exit(2);
}

/* Record number i of worker w, with attributes encoding to B.size bytes. */
static int
make_record(struct record *r, long w, long i, char *err, size_t errlen)
{
	/* u32 count + u16 name length + "data" + u32 value length */
	const long overhead = 4 + 2 + 4 + 4;
	char id[RECORD_ID_MAX + 1];
	char *v;
	long vlen = B.size - overhead, k;

	if (vlen < 0) {
		snprintf(err, errlen, "size %ld is below the minimum %ld", B.size, overhead);
		return -1;
	}
	if ((v = malloc((size_t)vlen + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (k = 0; k < vlen; k++)
		v[k] = (char)('a' + (i + k) % 26);
	v[vlen] = '\0';
	snprintf(id, sizeof(id), "0.bench_%s.t%ld-%ld", B.tag, w, i);
	record_init(r);
	if (record_set_id(r, id, strlen(id)) == -1 ||
	    record_set(r, "data", 4, v, (size_t)vlen) == -1) {
		free(v);
		record_free(r);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	free(v);
	return 0;
}

static void *
raw_worker(void *arg)
{
	struct worker *w = arg;
	struct buf b;
	long i;

	buf_init(&b);
	for (i = w->first; i < w->first + w->count; i++) {
		struct record r;
		DBT key, data;
		DB_TXN *txn;
		int ret, tries;

		if (make_record(&r, w->idx, i, w->err, sizeof(w->err)) == -1)
			break;
		buf_reset(&b);
		record_encode_attrs(&r, &b);
		if (b.oom || (long)b.len != B.size) {
			snprintf(w->err, sizeof(w->err), "encoded %zu bytes, wanted %ld", b.len, B.size);
			record_free(&r);
			break;
		}
		memset(&key, 0, sizeof(key));
		memset(&data, 0, sizeof(data));
		key.data = r.id;
		key.size = (u_int32_t)strlen(r.id);
		data.data = b.p;
		data.size = (u_int32_t)b.len;
		/* retry on deadlock, as guisvr's store does */
		for (tries = 0; tries < 100; tries++) {
			if ((ret = B.env->txn_begin(B.env, NULL, &txn, 0)) != 0)
				break;
			if ((ret = B.db->put(B.db, txn, &key, &data, 0)) != 0) {
				txn->abort(txn);
				if (ret == DB_LOCK_DEADLOCK)
					continue;
				break;
			}
			ret = txn->commit(txn, 0);
			break;
		}
		record_free(&r);
		if (ret != 0) {
			snprintf(w->err, sizeof(w->err), "put: %s", db_strerror(ret));
			break;
		}
		w->done++;
	}
	buf_free(&b);
	return NULL;
}

static void *
client_worker(void *arg)
{
	struct worker *w = arg;
	struct xerr e;
	struct xdbc *c;
	long i;

	memset(&e, 0, sizeof(e));
	if ((c = xdbc_connect_unix(B.sock, &e)) == NULL) {
		snprintf(w->err, sizeof(w->err), "%s", e.msg);
		return NULL;
	}
	for (i = w->first; i < w->first + w->count; i++) {
		struct record r;
		int rc;

		if (make_record(&r, w->idx, i, w->err, sizeof(w->err)) == -1)
			break;
		rc = xdbc_put(c, &r, &e);
		record_free(&r);
		if (rc != 0) {
			snprintf(w->err, sizeof(w->err), "put: %s (code %d)", e.msg, e.code);
			break;
		}
		w->done++;
	}
	xdbc_close(c);
	return NULL;
}

static void *
engine_worker(void *arg)
{
	struct worker *w = arg;
	long i;

	for (i = w->first; i < w->first + w->count; i++) {
		struct record r;
		char err[512];
		int rc;

		if (make_record(&r, w->idx, i, w->err, sizeof(w->err)) == -1)
			break;
		rc = engine_put(&r, err, sizeof(err));
		record_free(&r);
		if (rc != 0) {
			snprintf(w->err, sizeof(w->err), "put: %s (code %d)", err, rc);
			break;
		}
		w->done++;
	}
	return NULL;
}

static void
raw_open(void)
{
	char logdir[1024];
	int ret;

	if (util_path_join(logdir, sizeof(logdir), B.dir, "log") == -1 ||
	    (mkdir(B.dir, 0750) == -1 && errno != EEXIST) ||
	    (mkdir(logdir, 0750) == -1 && errno != EEXIST)) {
		fprintf(stderr, "bench_commit: cannot create %s/log: %s\n", B.dir, strerror(errno));
		exit(1);
	}
	if ((ret = db_env_create(&B.env, 0)) != 0 ||
	    (ret = B.env->set_lg_dir(B.env, "log")) != 0 ||
	    (ret = B.env->set_lk_detect(B.env, DB_LOCK_DEFAULT)) != 0 ||
	    (ret = B.env->set_cachesize(B.env, (u_int32_t)(B.cache >> 30),
	    (u_int32_t)(B.cache & ((1 << 30) - 1)), 1)) != 0 ||
	    (ret = B.env->open(B.env, B.dir, DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK |
	    DB_INIT_LOG | DB_INIT_MPOOL | DB_THREAD | DB_RECOVER, 0640)) != 0 ||
	    (ret = db_create(&B.db, B.env, 0)) != 0 ||
	    (ret = B.db->open(B.db, NULL, "records.db", NULL, DB_BTREE,
	    DB_AUTO_COMMIT | DB_CREATE | DB_THREAD, 0640)) != 0) {
		fprintf(stderr, "bench_commit: Berkeley DB environment in %s: %s\n", B.dir,
		    db_strerror(ret));
		exit(1);
	}
}

static void
raw_close(void)
{
	B.db->close(B.db, 0);
	B.env->close(B.env, 0);
}

static long
num(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v <= 0)
		usage();
	return v;
}

int
main(int argc, char **argv)
{
	struct worker *w;
	uint64_t t0, t1;
	long i, done = 0, per;
	int ch, failed = 0, dirty = 0;
	void *(*fn)(void *);
	double secs;

	if (argc < 2)
		usage();
	if (strcmp(argv[1], "raw") == 0)
		B.mode = M_RAW;
	else if (strcmp(argv[1], "client") == 0)
		B.mode = M_CLIENT;
	else if (strcmp(argv[1], "engine") == 0)
		B.mode = M_ENGINE;
	else
		usage();
	argc--;
	argv++;
	while ((ch = getopt(argc, argv, "c:d:f:n:p:s:S:t:")) != -1) {
		switch (ch) {
		case 'c':
			if (util_parse_size(optarg, &B.cache) == -1 || B.cache <= 0)
				usage();
			break;
		case 'd':
			B.dir = optarg;
			break;
		case 'f':
			B.cfg = optarg;
			break;
		case 'n':
			B.commits = num(optarg);
			break;
		case 'p':
			B.tag = optarg;
			break;
		case 's':
			B.size = num(optarg);
			break;
		case 'S':
			B.sock = optarg;
			break;
		case 't':
			B.threads = num(optarg);
			break;
		default:
			usage();
		}
	}
	if (optind != argc || B.threads > MAX_THREADS || B.commits < B.threads ||
	    (B.mode == M_RAW && B.dir == NULL) ||
	    (B.mode == M_CLIENT && B.sock == NULL) ||
	    (B.mode == M_ENGINE && B.cfg == NULL))
		usage();
	if (B.mode == M_RAW)
		raw_open();
	else if (B.mode == M_ENGINE)
		engine_open(B.cfg);
	fn = B.mode == M_RAW ? raw_worker : B.mode == M_CLIENT ? client_worker :
	    engine_worker;
	if ((w = calloc((size_t)B.threads, sizeof(*w))) == NULL) {
		perror("bench_commit");
		return 1;
	}
	per = B.commits / B.threads;
	t0 = util_now_us();
	for (i = 0; i < B.threads; i++) {
		w[i].idx = i;
		w[i].first = 0;
		w[i].count = i == B.threads - 1 ? B.commits - per * i : per;
		if (pthread_create(&w[i].tid, NULL, fn, &w[i]) != 0) {
			fprintf(stderr, "bench_commit: pthread_create failed\n");
			return 1;
		}
	}
	for (i = 0; i < B.threads; i++) {
		pthread_join(w[i].tid, NULL);
		done += w[i].done;
		if (w[i].err[0] != '\0') {
			fprintf(stderr, "bench_commit: thread %ld: %s\n", i, w[i].err);
			failed = 1;
		}
	}
	t1 = util_now_us();
	if (B.mode == M_RAW)
		raw_close();
	else if (B.mode == M_ENGINE)
		dirty = engine_close();
	secs = (double)(t1 - t0) / 1e6;
	printf("%s threads=%ld commits=%ld secs=%.3f rate=%.0f size=%ld%s\n",
	    mode_name[B.mode], B.threads, done, secs, secs > 0 ? (double)done / secs : 0.0,
	    B.size, B.mode != M_ENGINE ? "" : dirty ? " insync=0" : " insync=1");
	free(w);
	return failed;
}
