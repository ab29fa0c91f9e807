/* bench_repmgr — the reference for hasvr's replication benchmark: Berkeley DB
 * 5.3's own Replication Manager between two sites on loopback, with the same
 * record bytes and commit durability as guisvr.
 *
 *   bench_repmgr commit [-a all|none] [-t THREADS] [-n COMMITS] [-s SIZE]
 *                       [common options]
 *       a master and a client site; once the client reports
 *       DB_EVENT_REP_STARTUPDONE, THREADS threads on the master run COMMITS
 *       single-put transactions (default commit = log fsync on the master;
 *       the client flushes every applied commit by itself). Ack policy
 *       DB_REPMGR_ACKS_ALL (default) or DB_REPMGR_ACKS_NONE. Prints:
 *         repmgr acks=all threads=8 commits=20000 secs=3.6 rate=5500 size=100
 *             permfail=0 nodelay=1
 *       permfail counts DB_EVENT_REP_PERM_FAILED (acks not received in time);
 *       nodelay=1 when LD_PRELOAD holds the nodelay.so shim.
 *   bench_repmgr init [-n RECORDS [-s SIZE] | -i DUMPFILE] [common options]
 *       a master holding RECORDS generated records (or the records of an
 *       `xdb dump` file such as xdbgen's output), loaded in transactions of
 *       1000 and checkpointed, with the logs no longer needed removed (as
 *       guisvr does with guiSvr.removeLogs); then a fresh client joins. The
 *       time runs from the client's environment creation until it reports
 *       DB_EVENT_REP_STARTUPDONE and its database holds every record:
 *         repmgr init records=100000 secs=1.9 pages=812 logrecs=4 nodelay=0
 *       (pages > 0: internal init copied database pages; logrecs: log
 *       records replayed).
 *
 * Common options: -p PORT (master on 127.0.0.1:PORT, client on PORT+1;
 * default from the PID), -d DIR (parent of the temporary environments,
 * default $TMPDIR or /tmp), -c CACHE (default 16M), -w SECS (bound of every
 * wait and of the whole run, default 120), -k (keep the environments).
 *
 * Both sites get guisvr's DB_CONFIG settings (lock table, tx_max, 1 MB log
 * buffer, 10 MB log files), logs in log/, recovery at open, elections off,
 * three message threads each. The client runs in a forked process, which
 * dies with the parent (PR_SET_PDEATHSIG). Exit 0; 1 on any error or
 * timeout; 2 usage. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <db.h>

#include "record.h"
#include "util.h"

#define MAX_THREADS 64
#define LOAD_BATCH 1000
#define MSG_THREADS 3

static struct {
	int init, acks_all, keep;
	long threads, commits, size, wait_secs;
	int port;
	long long cache;
	const char *parent, *dump;
	char dir[900];
	pid_t child;
	DB_ENV *env;
	DB *db;
} B = { .acks_all = 1, .threads = 1, .commits = 10000, .size = 100, .wait_secs = 120,
	.cache = 16 * 1024 * 1024 };

/* Replication events of this process's environment. */
static pthread_mutex_t ev_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ev_cv = PTHREAD_COND_INITIALIZER;
static int ev_startupdone, ev_master, ev_panic;
static long ev_permfail;

struct worker {
	long idx, count, done;
	char err[300];
	pthread_t tid;
};

static void remove_dir(void);

static void
usage(void)
{
	fprintf(stderr,
	    "usage: bench_repmgr commit [-a all|none] [-t threads] [-n commits] [-s size]\n"
	    "                           [-p port] [-d dir] [-c cache] [-w secs] [-k]\n"
	    "       bench_repmgr init [-n records] [-s size] [-i dumpfile]\n"
	    "                         [-p port] [-d dir] [-c cache] [-w secs] [-k]\n");
	exit(2);
}

/* Exits 1; the master first stops the client and removes the environments. */
static void
bail(void)
{
	if (B.child == 0)
		_exit(1);
	kill(B.child, SIGKILL);
	waitpid(B.child, NULL, 0);
	B.child = 0;
	remove_dir();
	exit(1);
}

static void
die(const char *what, int ret)
{
	fprintf(stderr, "bench_repmgr[%s]: %s: %s\n", B.child == 0 ? "client" : "master",
	    what, ret > 0 ? strerror(ret) : db_strerror(ret));
	bail();
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void
remove_dir(void)
{
	if (!B.keep && B.dir[0] != '\0')
		nftw(B.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The watchdog (the whole run is bounded) and SIGINT/SIGTERM/SIGHUP: stop
 * the client, remove the environments. Async-signal-safe only. */
static void
on_alarm(int sig)
{
	static const char tmsg[] = "bench_repmgr: timed out; stopping\n";
	static const char imsg[] = "bench_repmgr: interrupted; stopping\n";
	const char *msg = sig == SIGALRM ? tmsg : imsg;
	size_t len = sig == SIGALRM ? sizeof(tmsg) - 1 : sizeof(imsg) - 1;
	pid_t p;

	if (write(2, msg, len) < 0) {
		/* nothing more to do */
	}
	if (B.child > 0) {
		kill(B.child, SIGKILL);
		waitpid(B.child, NULL, 0);
	}
	if (B.child > 0 && !B.keep && B.dir[0] != '\0') {
		if ((p = fork()) == 0) {
			execl("/bin/rm", "rm", "-rf", B.dir, (char *)NULL);
			_exit(127);
		}
		if (p > 0)
			waitpid(p, NULL, 0);
	}
	_exit(1);
}

static void
on_event(DB_ENV *env, u_int32_t event, void *info)
{
	(void)env;
	(void)info;
	pthread_mutex_lock(&ev_mu);
	switch (event) {
	case DB_EVENT_REP_STARTUPDONE:
		ev_startupdone = 1;
		break;
	case DB_EVENT_REP_MASTER:
		ev_master = 1;
		break;
	case DB_EVENT_REP_PERM_FAILED:
		ev_permfail++;
		break;
	case DB_EVENT_PANIC:
		ev_panic = 1;
		break;
	default:
		break;
	}
	pthread_cond_broadcast(&ev_cv);
	pthread_mutex_unlock(&ev_mu);
}

/* Waits (bounded by -w) until *flag is set; 0 or -1 on timeout or panic. */
static int
wait_event(int *flag)
{
	uint64_t end = util_now_us() + (uint64_t)B.wait_secs * 1000000;
	int ok;

	pthread_mutex_lock(&ev_mu);
	while (!*flag && !ev_panic && util_now_us() < end) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&ev_cv, &ev_mu, &ts);
	}
	ok = *flag && !ev_panic;
	pthread_mutex_unlock(&ev_mu);
	return ok ? 0 : -1;
}

/* Opens the environment DIR/NAME as a replication site on 127.0.0.1:PORT;
 * a client also names the master's address as its bootstrap helper. */
static void
site_open(const char *name, int master)
{
	char home[1024], logdir[1100];
	DB_SITE *site;
	int ret;

	snprintf(home, sizeof(home), "%s/%s", B.dir, name);
	snprintf(logdir, sizeof(logdir), "%s/log", home);
	if ((mkdir(home, 0750) == -1 && errno != EEXIST) ||
	    (mkdir(logdir, 0750) == -1 && errno != EEXIST))
		die(logdir, errno);
	if ((ret = db_env_create(&B.env, 0)) != 0)
		die("db_env_create", ret);
	B.env->set_errpfx(B.env, master ? "bench_repmgr[master]" : "bench_repmgr[client]");
	B.env->set_errfile(B.env, stderr);
	if ((ret = B.env->set_lg_dir(B.env, "log")) != 0 ||
	    (ret = B.env->set_lk_detect(B.env, DB_LOCK_DEFAULT)) != 0 ||
	    (ret = B.env->set_cachesize(B.env, (u_int32_t)(B.cache >> 30),
	    (u_int32_t)(B.cache & ((1 << 30) - 1)), 1)) != 0 ||
	    /* guisvr's DB_CONFIG */
	    (ret = B.env->set_lk_max_lockers(B.env, 4000)) != 0 ||
	    (ret = B.env->set_lk_max_locks(B.env, 20000)) != 0 ||
	    (ret = B.env->set_lk_max_objects(B.env, 20000)) != 0 ||
	    (ret = B.env->set_tx_max(B.env, 1024)) != 0 ||
	    (ret = B.env->set_lg_bsize(B.env, 1024 * 1024)) != 0 ||
	    (ret = B.env->set_lg_max(B.env, 10 * 1024 * 1024)) != 0 ||
	    (ret = B.env->set_event_notify(B.env, on_event)) != 0 ||
	    (ret = B.env->rep_set_config(B.env, DB_REPMGR_CONF_ELECTIONS, 0)) != 0 ||
	    (ret = B.env->repmgr_set_ack_policy(B.env,
	    B.acks_all ? DB_REPMGR_ACKS_ALL : DB_REPMGR_ACKS_NONE)) != 0 ||
	    (ret = B.env->rep_set_timeout(B.env, DB_REP_ACK_TIMEOUT, 1000000)) != 0 ||
	    (ret = B.env->rep_set_timeout(B.env, DB_REP_CONNECTION_RETRY, 200000)) != 0 ||
	    /* a master's checkpoint otherwise sleeps 30 s for its clients */
	    (ret = B.env->rep_set_timeout(B.env, DB_REP_CHECKPOINT_DELAY, 0)) != 0)
		die("environment settings", ret);
	if ((ret = B.env->repmgr_site(B.env, "127.0.0.1", (u_int)(master ? B.port : B.port + 1),
	    &site, 0)) != 0 ||
	    (ret = site->set_config(site, DB_LOCAL_SITE, 1)) != 0 ||
	    (master && (ret = site->set_config(site, DB_GROUP_CREATOR, 1)) != 0) ||
	    (ret = site->close(site)) != 0)
		die("local site", ret);
	if (!master && ((ret = B.env->repmgr_site(B.env, "127.0.0.1", (u_int)B.port, &site, 0)) != 0 ||
	    (ret = site->set_config(site, DB_BOOTSTRAP_HELPER, 1)) != 0 ||
	    (ret = site->close(site)) != 0))
		die("remote site", ret);
	if ((ret = B.env->open(B.env, home, DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK |
	    DB_INIT_LOG | DB_INIT_MPOOL | DB_INIT_REP | DB_THREAD | DB_RECOVER, 0640)) != 0)
		die(home, ret);
	if ((ret = B.env->repmgr_start(B.env, MSG_THREADS,
	    master ? DB_REP_MASTER : DB_REP_CLIENT)) != 0)
		die("repmgr_start", ret);
}

static void
site_close(void)
{
	if (B.db != NULL)
		B.db->close(B.db, 0);
	B.db = NULL;
	if (B.env != NULL)
		B.env->close(B.env, 0);
	B.env = NULL;
}

static void
db_open_master(void)
{
	int ret;

	if ((ret = db_create(&B.db, B.env, 0)) != 0 ||
	    (ret = B.db->open(B.db, NULL, "records.db", NULL, DB_BTREE,
	    DB_AUTO_COMMIT | DB_CREATE | DB_THREAD, 0640)) != 0)
		die("records.db", ret);
}

/* Record number i of worker w with attributes encoding to B.size bytes
 * (the same bytes as bench_commit's). */
static int
make_record(struct record *r, long w, long i)
{
	const long overhead = 4 + 2 + 4 + 4;
	char id[RECORD_ID_MAX + 1];
	char *v;
	long vlen = B.size - overhead, k;

	if (vlen < 0 || (v = malloc((size_t)vlen + 1)) == NULL)
		return -1;
	for (k = 0; k < vlen; k++)
		v[k] = (char)('a' + (i + k) % 26);
	v[vlen] = '\0';
	snprintf(id, sizeof(id), "0.bench_r.t%ld-%ld", w, i);
	record_init(r);
	if (record_set_id(r, id, strlen(id)) == -1 ||
	    record_set(r, "data", 4, v, (size_t)vlen) == -1) {
		free(v);
		record_free(r);
		return -1;
	}
	free(v);
	return 0;
}

/* Puts r in txn (or its own transaction when txn is NULL, retrying on
 * deadlock as guisvr's store does). */
static int
put_record(DB_TXN *txn, const struct record *r, struct buf *b)
{
	DBT key, data;
	DB_TXN *t;
	int ret = 0, tries;

	buf_reset(b);
	record_encode_attrs(r, b);
	if (b->oom)
		return ENOMEM;
	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	key.data = r->id;
	key.size = (u_int32_t)strlen(r->id);
	data.data = b->p;
	data.size = (u_int32_t)b->len;
	if (txn != NULL)
		return B.db->put(B.db, txn, &key, &data, 0);
	for (tries = 0; tries < 100; tries++) {
		if ((ret = B.env->txn_begin(B.env, NULL, &t, 0)) != 0)
			return ret;
		if ((ret = B.db->put(B.db, t, &key, &data, 0)) != 0) {
			t->abort(t);
			if (ret == DB_LOCK_DEADLOCK)
				continue;
			return ret;
		}
		return t->commit(t, 0);
	}
	return ret;
}

static void *
writer(void *arg)
{
	struct worker *w = arg;
	struct buf b;
	long i;

	buf_init(&b);
	for (i = 0; i < w->count; i++) {
		struct record r;
		int ret;

		if (make_record(&r, w->idx, i) == -1) {
			snprintf(w->err, sizeof(w->err), "cannot make a %ld-byte record", B.size);
			break;
		}
		ret = put_record(NULL, &r, &b);
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

/* Loads the init records into the master in transactions of LOAD_BATCH;
 * returns the number loaded. */
static long
load_records(void)
{
	struct buf b;
	DB_TXN *txn = NULL;
	FILE *fp = NULL;
	long n = 0;
	int ret, lineno = 0;
	char err[300];

	if (B.dump != NULL && (fp = fopen(B.dump, "r")) == NULL)
		die(B.dump, errno);
	buf_init(&b);
	for (;;) {
		struct record r;

		if (fp != NULL) {
			record_init(&r);
			ret = record_read_text(fp, &r, &lineno, err, sizeof(err));
			if (ret == -1) {
				fprintf(stderr, "bench_repmgr: %s: %s\n", B.dump, err);
				bail();
			}
			if (ret == 0) {
				record_free(&r);
				break;
			}
		} else {
			if (n == B.commits)
				break;
			if (make_record(&r, 0, n) == -1)
				die("record", ENOMEM);
		}
		if (txn == NULL && (ret = B.env->txn_begin(B.env, NULL, &txn, 0)) != 0)
			die("txn_begin", ret);
		if ((ret = put_record(txn, &r, &b)) != 0)
			die("load put", ret);
		record_free(&r);
		n++;
		if (n % LOAD_BATCH == 0) {
			if ((ret = txn->commit(txn, 0)) != 0)
				die("load commit", ret);
			txn = NULL;
		}
	}
	if (txn != NULL && (ret = txn->commit(txn, 0)) != 0)
		die("load commit", ret);
	buf_free(&b);
	if (fp != NULL)
		fclose(fp);
	/* as guisvr's checkpoint thread with removeLogs */
	if ((ret = B.env->txn_checkpoint(B.env, 0, 0, DB_FORCE)) != 0 ||
	    (ret = B.env->txn_checkpoint(B.env, 0, 0, DB_FORCE)) != 0 ||
	    (ret = B.env->log_archive(B.env, NULL, DB_ARCH_REMOVE)) != 0)
		die("checkpoint", ret);
	return n;
}

/* The number of records in the client's database, or -1 while it cannot be
 * opened yet (the client is still being initialized). */
static long
client_count(void)
{
	DB_BTREE_STAT *st;
	long n;
	int ret;

	if (B.db == NULL) {
		if ((ret = db_create(&B.db, B.env, 0)) != 0)
			die("db_create", ret);
		if ((ret = B.db->open(B.db, NULL, "records.db", NULL, DB_BTREE,
		    DB_AUTO_COMMIT | DB_THREAD | DB_RDONLY, 0)) != 0) {
			B.db->close(B.db, 0);
			B.db = NULL;
			return -1;
		}
	}
	if ((ret = B.db->stat(B.db, NULL, &st, 0)) != 0) {
		if (ret == DB_REP_HANDLE_DEAD) {
			B.db->close(B.db, 0);
			B.db = NULL;
		}
		return -1;
	}
	n = (long)st->bt_nkeys;
	free(st);
	return n;
}

static void
write_all(int fd, const char *s)
{
	size_t len = strlen(s);

	while (len > 0) {
		ssize_t w = write(fd, s, len);

		if (w <= 0) {
			if (w < 0 && errno == EINTR)
				continue;
			bail();
		}
		s += w;
		len -= (size_t)w;
	}
}

/* Reads one line from fd into buf within SECS; 0, or -1 on EOF/timeout. */
static int
read_line(int fd, char *buf, size_t len, long secs)
{
	uint64_t end = util_now_us() + (uint64_t)secs * 1000000;
	size_t off = 0;

	while (off + 1 < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t now = util_now_us();
		ssize_t r;

		if (now >= end)
			return -1;
		if (poll(&p, 1, (int)((end - now) / 1000) + 1) <= 0)
			continue;
		if ((r = read(fd, buf + off, 1)) <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			return -1;
		}
		if (buf[off] == '\n') {
			buf[off] = '\0';
			return 0;
		}
		off++;
	}
	buf[off] = '\0';
	return 0;
}

/* The client site, in the forked process: waits for "go" on in_fd, starts,
 * reports "ready" (commit) or "done SECS PAGES LOGRECS" (init) on out_fd,
 * then runs until in_fd closes. In init mode the line after "go" is the
 * number of records to wait for. */
static void
client_main(int in_fd, int out_fd, long records)
{
	DB_REP_STAT *rs;
	char line[200];
	uint64_t t0, end;
	long n = -1;
	int ret;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		_exit(1);
	alarm((unsigned)(B.wait_secs * 3 + 30));
	if (read_line(in_fd, line, sizeof(line), B.wait_secs * 2) == -1 || strcmp(line, "go") != 0)
		_exit(1);
	if (B.init && (read_line(in_fd, line, sizeof(line), 5) == -1 ||
	    (records = strtol(line, NULL, 10)) <= 0))
		_exit(1);
	t0 = util_now_us();
	site_open("client", 0);
	if (wait_event(&ev_startupdone) == -1) {
		fprintf(stderr, "bench_repmgr[client]: no DB_EVENT_REP_STARTUPDONE after %ld s\n",
		    B.wait_secs);
		_exit(1);
	}
	if (!B.init)
		write_all(out_fd, "ready\n");
	else {
		end = t0 + (uint64_t)B.wait_secs * 1000000;
		while ((n = client_count()) != records && util_now_us() < end)
			usleep(2000);
		if (n != records) {
			fprintf(stderr, "bench_repmgr[client]: %ld records of %ld after %ld s\n",
			    n, records, B.wait_secs);
			_exit(1);
		}
		snprintf(line, sizeof(line), "done %.3f", (double)(util_now_us() - t0) / 1e6);
		if ((ret = B.env->rep_stat(B.env, &rs, 0)) == 0) {
			snprintf(line + strlen(line), sizeof(line) - strlen(line), " %ju %ju",
			    rs->st_pg_records, rs->st_log_records);
			free(rs);
		} else
			snprintf(line + strlen(line), sizeof(line) - strlen(line), " ? ?");
		strcat(line, "\n");
		write_all(out_fd, line);
	}
	/* run until the master is done */
	while (read(in_fd, line, sizeof(line)) > 0)
		;
	site_close();
	_exit(0);
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
	int to_child[2], from_child[2], ch, st, failed = 0, nodelay;
	struct worker *w = NULL;
	char line[200];
	const char *tmp, *pre;
	long records = 0, i, done = 0, per, n;
	uint64_t t0, t1;
	double secs;

	if (argc < 2)
		usage();
	if (strcmp(argv[1], "init") == 0) {
		B.init = 1;
		B.commits = 100000;
	} else if (strcmp(argv[1], "commit") != 0)
		usage();
	argc--;
	argv++;
	B.port = 20000 + (int)(getpid() % 20000);
	while ((ch = getopt(argc, argv, "a:c:d:i:kn:p:s:t:w:")) != -1) {
		switch (ch) {
		case 'a':
			if (strcmp(optarg, "all") == 0)
				B.acks_all = 1;
			else if (strcmp(optarg, "none") == 0)
				B.acks_all = 0;
			else
				usage();
			break;
		case 'c':
			if (util_parse_size(optarg, &B.cache) == -1 || B.cache <= 0)
				usage();
			break;
		case 'd':
			B.parent = optarg;
			break;
		case 'i':
			B.dump = optarg;
			break;
		case 'k':
			B.keep = 1;
			break;
		case 'n':
			B.commits = num(optarg);
			break;
		case 'p':
			B.port = (int)num(optarg);
			if (B.port > 65534)
				usage();
			break;
		case 's':
			B.size = num(optarg);
			break;
		case 't':
			B.threads = num(optarg);
			break;
		case 'w':
			B.wait_secs = num(optarg);
			break;
		default:
			usage();
		}
	}
	if (optind != argc || B.threads > MAX_THREADS || B.commits < B.threads ||
	    B.size < 14 || (B.init && B.threads != 1) || (!B.init && B.dump != NULL))
		usage();
	pre = getenv("LD_PRELOAD");
	nodelay = pre != NULL && strstr(pre, "nodelay") != NULL;

	tmp = B.parent != NULL ? B.parent : getenv("TMPDIR");
	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	snprintf(B.dir, sizeof(B.dir), "%s/bench_repmgr.XXXXXX", tmp);
	if (mkdtemp(B.dir) == NULL) {
		fprintf(stderr, "bench_repmgr: mkdtemp %s: %s\n", B.dir, strerror(errno));
		return 1;
	}
	/* fork the client before any thread or environment exists here */
	if (pipe(to_child) == -1 || pipe(from_child) == -1) {
		perror("bench_repmgr: pipe");
		remove_dir();
		return 1;
	}
	fflush(NULL);
	if ((B.child = fork()) == -1) {
		perror("bench_repmgr: fork");
		remove_dir();
		return 1;
	}
	if (B.child == 0) {
		close(to_child[1]);
		close(from_child[0]);
		/* in init mode the record count follows "go" */
		client_main(to_child[0], from_child[1], -1);
	}
	close(to_child[0]);
	close(from_child[1]);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, on_alarm);
	signal(SIGINT, on_alarm);
	signal(SIGTERM, on_alarm);
	signal(SIGHUP, on_alarm);
	alarm((unsigned)(B.wait_secs * 3 + 30));

	site_open("master", 1);
	if (wait_event(&ev_master) == -1) {
		fprintf(stderr, "bench_repmgr[master]: no DB_EVENT_REP_MASTER\n");
		failed = 1;
		goto out;
	}
	db_open_master();
	if (B.init)
		records = load_records();
	write_all(to_child[1], "go\n");
	if (B.init) {
		snprintf(line, sizeof(line), "%ld\n", records);
		write_all(to_child[1], line);
	}
	if (read_line(from_child[0], line, sizeof(line), B.wait_secs + 5) == -1) {
		fprintf(stderr, "bench_repmgr: the client did not %s within %ld s\n",
		    B.init ? "finish its initialization" : "start", B.wait_secs);
		failed = 1;
		goto out;
	}
	if (B.init) {
		char s[64], pg[32], lr[32];

		if (sscanf(line, "done %63s %31s %31s", s, pg, lr) != 3) {
			fprintf(stderr, "bench_repmgr: client said '%s'\n", line);
			failed = 1;
			goto out;
		}
		printf("repmgr init records=%ld secs=%s pages=%s logrecs=%s nodelay=%d\n",
		    records, s, pg, lr, nodelay);
		goto out;
	}
	if ((w = calloc((size_t)B.threads, sizeof(*w))) == NULL) {
		perror("bench_repmgr");
		failed = 1;
		goto out;
	}
	pthread_mutex_lock(&ev_mu);
	ev_permfail = 0;
	pthread_mutex_unlock(&ev_mu);
	per = B.commits / B.threads;
	t0 = util_now_us();
	for (i = 0; i < B.threads; i++) {
		w[i].idx = i;
		w[i].count = i == B.threads - 1 ? B.commits - per * i : per;
		if (pthread_create(&w[i].tid, NULL, writer, &w[i]) != 0) {
			fprintf(stderr, "bench_repmgr: pthread_create failed\n");
			bail();
		}
	}
	for (i = 0; i < B.threads; i++) {
		pthread_join(w[i].tid, NULL);
		done += w[i].done;
		if (w[i].err[0] != '\0') {
			fprintf(stderr, "bench_repmgr: writer %ld: %s\n", i, w[i].err);
			failed = 1;
		}
	}
	t1 = util_now_us();
	secs = (double)(t1 - t0) / 1e6;
	pthread_mutex_lock(&ev_mu);
	n = ev_permfail;
	pthread_mutex_unlock(&ev_mu);
	printf("repmgr acks=%s threads=%ld commits=%ld secs=%.3f rate=%.0f size=%ld permfail=%ld nodelay=%d\n",
	    B.acks_all ? "all" : "none", B.threads, done, secs, secs > 0 ? (double)done / secs : 0.0,
	    B.size, n, nodelay);
	free(w);
out:
	fflush(stdout);
	/* the client first (it would otherwise retry its connection), then us */
	close(to_child[1]);
	close(from_child[0]);
	for (i = 0; i < 200; i++) {
		if (waitpid(B.child, &st, WNOHANG) == B.child)
			break;
		usleep(50000);
	}
	if (i == 200) {
		kill(B.child, SIGKILL);
		waitpid(B.child, &st, 0);
		fprintf(stderr, "bench_repmgr: the client did not stop within 10 s\n");
	} else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "bench_repmgr: the client failed\n");
		failed = 1;
	}
	B.child = 0;
	alarm(0);
	site_close();
	remove_dir();
	return failed;
}
