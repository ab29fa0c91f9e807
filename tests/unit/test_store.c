/* test_store.c — the records store on a real Berkeley DB environment in a
 * temporary directory: round trips, error paths, batches, snapshot listing,
 * durability, recovery after an unclean stop, checkpoints and log removal. */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "unit.h"
#include "deadline.h"
#include "store.h"
#include "proto.h"
#include "util.h"

struct tdir {
	char *root;
	char data[PATH_MAX], log[PATH_MAX], init[PATH_MAX];
	struct dbenv_opts o;
};

static int panic_calls;

static void
on_panic(void *arg)
{
	(void)arg;
	__atomic_add_fetch(&panic_calls, 1, __ATOMIC_SEQ_CST);
}

static void
tdir_init(struct tdir *t)
{
	memset(t, 0, sizeof(*t));
	t->root = unit_tmpdir();
	snprintf(t->data, sizeof(t->data), "%s/xdb/data", t->root);
	snprintf(t->log, sizeof(t->log), "%s/xdb/log", t->root);
	snprintf(t->init, sizeof(t->init), "%s/xdb/init", t->root);
	t->o.data_dir = t->data;
	t->o.log_dir = t->log;
	t->o.init_dir = t->init;
	t->o.cache_bytes = 4 * 1024 * 1024;
	t->o.sync = DBENV_SYNC;
	t->o.checkpoint_secs = 0;
	t->o.remove_logs = 1;
	t->o.on_panic = on_panic;
}

static void
tdir_free(struct tdir *t)
{
	unit_rmtree(t->root);
	free(t->root);
}

static int
topen(struct store *s, struct tdir *t, size_t max_record)
{
	char err[HASVR_ERRLEN] = "";
	int rc;

	rc = store_open(s, &t->o, max_record, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "store_open: %s\n", err);
	return rc;
}

static void
mkrec(struct record *r, const char *id, const char *name, const char *value)
{
	record_init(r);
	record_set_id(r, id, strlen(id));
	if (name != NULL)
		record_set(r, name, strlen(name), value, strlen(value));
}

static int
put1(struct store *s, const char *id, const char *name, const char *value)
{
	char err[HASVR_ERRLEN];
	struct record r;
	int rc;

	mkrec(&r, id, name, value);
	rc = store_put(s, &r, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "store_put %s: %s\n", id, err);
	record_free(&r);
	return rc;
}

/* Value of attribute name in record id, or NULL (malloc'ed). */
static char *
get1(struct store *s, const char *id, const char *name)
{
	char err[HASVR_ERRLEN];
	const struct xattr *a;
	struct record r;
	char *v = NULL;

	if (store_get(s, id, &r, err, sizeof(err)) == 0 &&
	    (a = record_find(&r, name)) != NULL)
		v = strdup(a->value);
	record_free(&r);
	return v;
}

static int
count_files(const char *dir, const char *prefix)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	CU_ASSERT_FATAL(fp != NULL);
	fputs(text, fp);
	fclose(fp);
}

static char *
read_file(const char *path)
{
	return util_read_file(path, 1 << 20, NULL, (char[HASVR_ERRLEN]){0},
	    HASVR_ERRLEN);
}

/* ---- tests ------------------------------------------------------------- */

static void
test_open_layout(void)
{
	struct store s;
	struct tdir t;
	char path[PATH_MAX], *txt;
	struct stat st;

	tdir_init(&t);
	CU_ASSERT_FATAL(topen(&s, &t, 0) == 0);
	snprintf(path, sizeof(path), "%s/DB_CONFIG", t.data);
	txt = read_file(path);
	CU_ASSERT_FATAL(txt != NULL);
	CU_ASSERT_STRING_EQUAL(txt, dbenv_default_db_config);
	free(txt);
	CU_ASSERT(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640);
	/* the copy installed as var/xdb/data/DB_CONFIG says the same */
	snprintf(path, sizeof(path), "%s/var/xdb/data/DB_CONFIG",
	    getenv("top_srcdir") != NULL ? getenv("top_srcdir") : ".");
	txt = read_file(path);
	CU_ASSERT_PTR_NOT_NULL(txt);
	if (txt != NULL)
		CU_ASSERT_STRING_EQUAL(txt, dbenv_default_db_config);
	free(txt);
	snprintf(path, sizeof(path), "%s/records.db", t.data);
	CU_ASSERT(stat(path, &st) == 0);
	CU_ASSERT(count_files(t.log, "log.") >= 1);
	CU_ASSERT(count_files(t.data, "log.") == 0);
	CU_ASSERT(stat(t.init, &st) == 0 && S_ISDIR(st.st_mode));
	CU_ASSERT(stat(t.log, &st) == 0 && (st.st_mode & 0777) == 0750);
	store_close(&s);
	tdir_free(&t);
}

static void
test_db_config_kept(void)
{
	const char *mine = "# mine\nset_lg_max 2097152\n";
	char path[PATH_MAX], *txt;
	struct store s;
	struct tdir t;
	u_int32_t lgmax = 0;

	tdir_init(&t);
	CU_ASSERT_FATAL(util_mkdirs(t.data, 0750, (char[128]){0}, 128) == 0);
	snprintf(path, sizeof(path), "%s/DB_CONFIG", t.data);
	write_file(path, mine);
	CU_ASSERT_FATAL(topen(&s, &t, 0) == 0);
	txt = read_file(path);
	CU_ASSERT(txt != NULL && strcmp(txt, mine) == 0);
	free(txt);
	/* Berkeley DB really read it. */
	CU_ASSERT(s.env.env->get_lg_max(s.env.env, &lgmax) == 0);
	CU_ASSERT(lgmax == 2097152);
	store_close(&s);
	tdir_free(&t);
}

static void
test_open_error(void)
{
	char err[HASVR_ERRLEN] = "", path[PATH_MAX];
	struct store s;
	struct tdir t;

	tdir_init(&t);
	/* The data directory is a file: nothing can be created there. */
	snprintf(path, sizeof(path), "%s/xdb", t.root);
	write_file(path, "x");
	CU_ASSERT(store_open(&s, &t.o, 0, err, sizeof(err)) == XE_DB);
	CU_ASSERT(strstr(err, "xdb") != NULL);
	unlink(path);

	/* A garbage log file makes recovery fail: the message says what to do. */
	CU_ASSERT_FATAL(util_mkdirs(t.log, 0750, err, sizeof(err)) == 0);
	snprintf(path, sizeof(path), "%s/log.0000000001", t.log);
	write_file(path, "this is not a Berkeley DB log file, not at all........"
	    "................................................................");
	err[0] = '\0';
	CU_ASSERT(store_open(&s, &t.o, 0, err, sizeof(err)) == XE_DB);
	CU_ASSERT(strstr(err, t.root) != NULL);
	CU_ASSERT(strstr(err, "except DB_CONFIG") != NULL);
	tdir_free(&t);
}

static void
test_roundtrip(void)
{
	char err[HASVR_ERRLEN], *v;
	struct record r, g;
	struct store s;
	struct tdir t;

	tdir_init(&t);
	CU_ASSERT_FATAL(topen(&s, &t, 0) == 0);

	mkrec(&r, "0.shadow_server.2", "type", "peerGuiSvr");
	record_set(&r, "bin", 3, "a\0b\n", 4);
	CU_ASSERT(store_put(&s, &r, err, sizeof(err)) == 0);
	record_free(&r);
	CU_ASSERT(store_get(&s, "0.shadow_server.2", &g, err, sizeof(err)) == 0);
	CU_ASSERT_STRING_EQUAL(g.id, "0.shadow_server.2");
	CU_ASSERT(g.nattr == 2);
	CU_ASSERT(record_find(&g, "bin") != NULL && record_find(&g, "bin")->vlen == 4 &&
	    memcmp(record_find(&g, "bin")->value, "a\0b\n", 4) == 0);
	record_free(&g);

	/* PUT replaces the whole record. */
	CU_ASSERT(put1(&s, "0.shadow_server.2", "other", "1") == 0);
	CU_ASSERT(store_get(&s, "0.shadow_server.2", &g, err, sizeof(err)) == 0);
	CU_ASSERT(g.nattr == 1 && record_find(&g, "type") == NULL);
	record_free(&g);

	/* SET merges, and creates an absent record. */
	mkrec(&r, "0.shadow_server.2", "other", "2");
	record_set(&r, "new", 3, "n", 1);
	CU_ASSERT(store_set(&s, &r, err, sizeof(err)) == 0);
	record_free(&r);
	v = get1(&s, "0.shadow_server.2", "other");
	CU_ASSERT(v != NULL && strcmp(v, "2") == 0);
	free(v);
	v = get1(&s, "0.shadow_server.2", "new");
	CU_ASSERT(v != NULL && strcmp(v, "n") == 0);
	free(v);
	mkrec(&r, "0.fresh.1", "a", "b");
	CU_ASSERT(store_set(&s, &r, err, sizeof(err)) == 0);
	record_free(&r);
	v = get1(&s, "0.fresh.1", "a");
	CU_ASSERT(v != NULL && strcmp(v, "b") == 0);
	free(v);

	/* UNSET removes names (absent ones are no error), keeps the record. */
	mkrec(&r, "0.shadow_server.2", "other", "");
	record_set(&r, "nothere", 7, "", 0);
	CU_ASSERT(store_unset(&s, &r, err, sizeof(err)) == 0);
	record_free(&r);
	CU_ASSERT(store_get(&s, "0.shadow_server.2", &g, err, sizeof(err)) == 0);
	CU_ASSERT(g.nattr == 1 && record_find(&g, "new") != NULL);
	record_free(&g);

	/* Not found paths. */
	CU_ASSERT(store_get(&s, "0.none.1", &g, err, sizeof(err)) == XE_NOTFOUND);
	CU_ASSERT_STRING_EQUAL(err, "0.none.1: no such record");
	CU_ASSERT(g.nattr == 0 && g.id == NULL);
	record_free(&g);
	mkrec(&r, "0.none.1", "a", "");
	CU_ASSERT(store_unset(&s, &r, err, sizeof(err)) == XE_NOTFOUND);
	CU_ASSERT_STRING_EQUAL(err, "0.none.1: no such record");
	record_free(&r);
	CU_ASSERT(store_del(&s, "0.none.1", err, sizeof(err)) == XE_NOTFOUND);
	CU_ASSERT_STRING_EQUAL(err, "0.none.1: no such record");
	/* UNSET did not create it. */
	CU_ASSERT(store_get(&s, "0.none.1", &g, err, sizeof(err)) == XE_NOTFOUND);
	record_free(&g);

	CU_ASSERT(store_del(&s, "0.shadow_server.2", err, sizeof(err)) == 0);
	CU_ASSERT(store_get(&s, "0.shadow_server.2", &g, err, sizeof(err)) == XE_NOTFOUND);
	record_free(&g);
	CU_ASSERT(store_del(&s, "0.shadow_server.2", err, sizeof(err)) == XE_NOTFOUND);

	store_close(&s);
	tdir_free(&t);
}

static void
test_bad_input(void)
{
	char err[HASVR_ERRLEN];
	struct record r, g;
	struct store s;
	struct tdir t;
	uint64_t n;

	tdir_init(&t);
	CU_ASSERT_FATAL(topen(&s, &t, 0) == 0);
	mkrec(&r, "0.ok.1", "a", "b");
	free(r.id);
	r.id = strdup("bad id");
	CU_ASSERT(store_put(&s, &r, err, sizeof(err)) == XE_BADID);
	CU_ASSERT(strstr(err, "bad id") != NULL);
	CU_ASSERT(store_set(&s, &r, err, sizeof(err)) == XE_BADID);
	CU_ASSERT(store_unset(&s, &r, err, sizeof(err)) == XE_BADID);
	record_free(&r);
	CU_ASSERT(store_get(&s, "x", &g, err, sizeof(err)) == XE_BADID);
	record_free(&g);
	CU_ASSERT(store_get(&s, "01.a.b", &g, err, sizeof(err)) == XE_BADID);
	record_free(&g);
	CU_ASSERT(store_del(&s, "", err, sizeof(err)) == XE_BADID);
	CU_ASSERT(store_del(&s, NULL, err, sizeof(err)) == XE_BADID);
	CU_ASSERT(store_count(&s, "0.a b", &n, err, sizeof(err)) == XE_BADID);
	CU_ASSERT(store_list(&s, "x.", 0, NULL, NULL, &n, err, sizeof(err)) == XE_BADID);

	/* An attribute name the grammar forbids. */
	mkrec(&r, "0.ok.1", NULL, NULL);
	record_set(&r, "bad name", 8, "v", 1);
	CU_ASSERT(store_put(&s, &r, err, sizeof(err)) == XE_BADID);
	CU_ASSERT(strstr(err, "bad name") != NULL);
	record_free(&r);
	CU_ASSERT(store_count(&s, "", &n, err, sizeof(err)) == 0 && n == 0);
	store_close(&s);
	tdir_free(&t);
}

static void
test_too_big(void)
{
	char err[HASVR_ERRLEN], big[200];
	struct record r, g;
	struct store s;
	struct tdir t;

	tdir_init(&t);
	CU_ASSERT_FATAL(topen(&s, &t, 100) == 0);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	mkrec(&r, "0.big.1", "v", big);
	CU_ASSERT(store_put(&s, &r, err, sizeof(err)) == XE_TOOBIG);
	CU_ASSERT(strstr(err, "record 0.big.1 is") != NULL);
	CU_ASSERT(strstr(err, "guiSvr.maxRecordSize is 100") != NULL);
	CU_ASSERT(store_set(&s, &r, err, sizeof(err)) == XE_TOOBIG);
	record_free(&r);
	CU_ASSERT(store_get(&s, "0.big.1", &g, err, sizeof(err)) == XE_NOTFOUND);
	record_free(&g);

	/* Each SET fits, the merged record does not. */
	big[60] = '\0';
	CU_ASSERT(put1(&s, "0.big.2", "a", big) == 0);
	mkrec(&r, "0.big.2", "b", big);
	CU_ASSERT(store_set(&s, &r, err, sizeof(err)) == XE_TOOBIG);
	CU_ASSERT(strstr(err, "0.big.2 would be") != NULL);
	record_free(&r);
	CU_ASSERT(store_get(&s, "0.big.2", &g, err, sizeof(err)) == 0 && g.nattr == 1);
	record_free(&g);
	store_close(&s);
	tdir_free(&t);
}

static void
test_readonly(void)
{
	const char *msg = "this node is secondary; primary is 10.0.0.1";
	char err[HASVR_ERRLEN];
	struct rec_op op;
	struct record r, g;
	struct store s;
	struct tdir t;

	tdir_init(&t);
	CU_ASSERT_FATAL(topen(&s, &t, 0) == 0);
	CU_ASSERT(put1(&s, "0.ro.1", "a", "1") == 0);
	store_set_readonly(&s, msg);
	mkrec(&r, "0.ro.2", "a", "2");
	CU_ASSERT(store_put(&s, &r, err, sizeof(err)) == XE_READONLY);
	CU_ASSERT_STRING_EQUAL(err, msg);
	CU_ASSERT(store_set(&s, &r, err, sizeof(err)) == XE_READONLY);
	CU_ASSERT(store_unset(&s, &r, err, sizeof(err)) == XE_READONLY);
	CU_ASSERT(store_del(&s, "0.ro.1", err, sizeof(err)) == XE_READONLY);
	op.op = REC_OP_PUT;
	op.rec = r;
	CU_ASSERT(store_batch(&s, &op, 1, err, sizeof(err)) == XE_READONLY);
	/* Reads still work. */
	CU_ASSERT(store_get(&s, "0.ro.1", &g, err, sizeof(err)) == 0);
	record_free(&g);
	store_set_readonly(&s, NULL);
	CU_ASSERT(store_put(&s, &r, err, sizeof(err)) == 0);
	store_set_readonly(&s, msg);
	store_set_readonly(&s, "");
	CU_ASSERT(store_del(&s, "0.ro.1", err, sizeof(err)) == 0);
	record_free(&r);
	store_close(&s);
	tdir_free(&t);
}

static void
test_batch(void)
{
	char err[HASVR_ERRLEN], *v;
	struct rec_op ops[5];
	struct record g;
	struct store s;
	struct tdir t;
	size_t i;

	tdir_init(&t);
	CU_ASSERT_FATAL(topen(&s, &t, 0) == 0);
	CU_ASSERT(put1(&s, "0.b.keep", "a", "old") == 0);

	/* A failing op in the middle leaves the earlier ones unapplied. */
	ops[0].op = REC_OP_PUT; mkrec(&ops[0].rec, "0.b.1", "a", "1");
	ops[1].op = REC_OP_SET; mkrec(&ops[1].rec, "0.b.keep", "a", "new");
	ops[2].op = REC_OP_DEL; mkrec(&ops[2].rec, "0.b.zz", NULL, NULL);
	ops[3].op = REC_OP_PUT; mkrec(&ops[3].rec, "0.b.3", "a", "3");
	CU_ASSERT(store_batch(&s, ops, 4, err, sizeof(err)) == XE_NOTFOUND);
	CU_ASSERT_STRING_EQUAL(err, "op 3 (DEL 0.b.zz): no such record");
	CU_ASSERT(store_get(&s, "0.b.1", &g, err, sizeof(err)) == XE_NOTFOUND);
	record_free(&g);
	v = get1(&s, "0.b.keep", "a");
	CU_ASSERT(v != NULL && strcmp(v, "old") == 0);
	free(v);

	/* Invalid input is refused before anything runs, naming the op. */
	free(ops[1].rec.id);
	ops[1].rec.id = strdup("0.b");
	CU_ASSERT(store_batch(&s, ops, 4, err, sizeof(err)) == XE_BADID);
	CU_ASSERT(strncmp(err, "op 2 (SET 0.b): ", 16) == 0);
	free(ops[1].rec.id);
	ops[1].rec.id = strdup("0.b.keep");
	ops[2].op = 9;
	CU_ASSERT(store_batch(&s, ops, 4, err, sizeof(err)) == XE_BADREQ);
	CU_ASSERT(strncmp(err, "op 3 ", 5) == 0);

	/* All succeed; later ops see earlier ones in the same transaction. */
	ops[2].op = REC_OP_DEL;
	free(ops[2].rec.id);
	ops[2].rec.id = strdup("0.b.1");
	ops[4].op = REC_OP_UNSET; mkrec(&ops[4].rec, "0.b.3", "a", "");
	CU_ASSERT(store_batch(&s, ops, 5, err, sizeof(err)) == 0);
	CU_ASSERT(store_get(&s, "0.b.1", &g, err, sizeof(err)) == XE_NOTFOUND);
	record_free(&g);
	CU_ASSERT(store_get(&s, "0.b.3", &g, err, sizeof(err)) == 0 && g.nattr == 0);
	record_free(&g);
	v = get1(&s, "0.b.keep", "a");
	CU_ASSERT(v != NULL && strcmp(v, "new") == 0);
	free(v);

	s.max_batch_ops = 4;
	CU_ASSERT(store_batch(&s, ops, 5, err, sizeof(err)) == XE_TOOBIG);
	CU_ASSERT(store_batch(&s, ops, 0, err, sizeof(err)) == 0);
	for (i = 0; i < 5; i++)
		record_free(&ops[i].rec);
	store_close(&s);
	tdir_free(&t);
}

struct collect {
	char ids[32][64];
	int n, stop_at;
	int bad_attrs;
};

static int
collect_cb(const char *id, size_t idlen, const void *attrs, size_t alen, void *arg)
{
	struct collect *c = arg;
	char err[HASVR_ERRLEN];
	struct record r;

	if (c->n < 32 && idlen < 64) {
		memcpy(c->ids[c->n], id, idlen);
		c->ids[c->n][idlen] = '\0';
	}
	record_init(&r);
	if (record_decode_attrs(&r, attrs, alen, err, sizeof(err)) != 0 ||
	    record_find(&r, "k") == NULL ||
	    strncmp(record_find(&r, "k")->value, id, idlen) != 0)
		c->bad_attrs++;
	record_free(&r);
	c->n++;
	return c->stop_at != 0 && c->n >= c->stop_at;
}

static void
test_list_count(void)
{
	const char *ids[] = { "0.a.2", "0.a.1", "0.ab.1", "0.a.10", "0.b.1",
	    "1.a.1", "0.a-.1" };
	char err[HASVR_ERRLEN];
	struct collect c;
	struct store s;
	struct tdir t;
	uint64_t n;
	size_t i;

	tdir_init(&t);
	CU_ASSERT_FATAL(topen(&s, &t, 0) == 0);
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		CU_ASSERT(put1(&s, ids[i], "k", ids[i]) == 0);

	memset(&c, 0, sizeof(c));
	CU_ASSERT(store_list(&s, "0.a.", 0, collect_cb, &c, &n, err, sizeof(err)) == 0);
	CU_ASSERT(n == 3 && c.n == 3 && c.bad_attrs == 0);
	CU_ASSERT_STRING_EQUAL(c.ids[0], "0.a.1");
	CU_ASSERT_STRING_EQUAL(c.ids[1], "0.a.10");
	CU_ASSERT_STRING_EQUAL(c.ids[2], "0.a.2");

	memset(&c, 0, sizeof(c));
	CU_ASSERT(store_list(&s, "0.a.", 2, collect_cb, &c, &n, err, sizeof(err)) == 0);
	CU_ASSERT(n == 2 && c.n == 2);

	memset(&c, 0, sizeof(c));
	c.stop_at = 1;
	CU_ASSERT(store_list(&s, "0.", 0, collect_cb, &c, &n, err, sizeof(err)) == 0);
	CU_ASSERT(n == 1 && c.n == 1);
	CU_ASSERT_STRING_EQUAL(c.ids[0], "0.a-.1");

	memset(&c, 0, sizeof(c));
	CU_ASSERT(store_list(&s, "", 0, collect_cb, &c, &n, err, sizeof(err)) == 0);
	CU_ASSERT(n == 7 && c.bad_attrs == 0);
	CU_ASSERT_STRING_EQUAL(c.ids[6], "1.a.1");

	memset(&c, 0, sizeof(c));
	CU_ASSERT(store_list(&s, "0.c.", 0, collect_cb, &c, &n, err, sizeof(err)) == 0);
	CU_ASSERT(n == 0 && c.n == 0);
	/* Past the last key. */
	CU_ASSERT(store_list(&s, "2", 0, collect_cb, &c, &n, err, sizeof(err)) == 0);
	CU_ASSERT(n == 0);

	CU_ASSERT(store_count(&s, "0.a.", &n, err, sizeof(err)) == 0 && n == 3);
	CU_ASSERT(store_count(&s, "0.a", &n, err, sizeof(err)) == 0 && n == 5);
	CU_ASSERT(store_count(&s, "0.", &n, err, sizeof(err)) == 0 && n == 6);
	CU_ASSERT(store_count(&s, "", &n, err, sizeof(err)) == 0 && n == 7);
	CU_ASSERT(store_count(&s, NULL, &n, err, sizeof(err)) == 0 && n == 7);
	CU_ASSERT(store_count(&s, "0.a.1", &n, err, sizeof(err)) == 0 && n == 2);
	CU_ASSERT(store_count(&s, "0.zz.", &n, err, sizeof(err)) == 0 && n == 0);
	store_close(&s);
	tdir_free(&t);
}

/* ---- a slow listing never holds writers back ---------------------------- */

struct snap {
	struct store *s;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int go, writes, writer_err, done;
	int done_during_list;
	int listed;
};

static void *
snap_writer(void *arg)
{
	struct snap *sn = arg;
	char err[HASVR_ERRLEN], id[64];
	struct record r;
	int i, rc;

	pthread_mutex_lock(&sn->mu);
	while (!sn->go)
		pthread_cond_wait(&sn->cv, &sn->mu);
	pthread_mutex_unlock(&sn->mu);
	for (i = 0; i < 50; i++) {
		/* Changes records the listing has not reached yet, adds new ones
		 * and deletes one, while the listing's consumer is stalled. */
		snprintf(id, sizeof(id), "0.s.%04d", 2000 + i);
		mkrec(&r, id, "k", "changed");
		rc = store_put(sn->s, &r, err, sizeof(err));
		record_free(&r);
		snprintf(id, sizeof(id), "0.s.%04dnew", 2000 + i);
		if (rc == 0)
			rc = put1(sn->s, id, "k", "new");
		if (rc != 0) {
			sn->writer_err = rc;
			break;
		}
		pthread_mutex_lock(&sn->mu);
		sn->writes++;
		pthread_cond_broadcast(&sn->cv);
		pthread_mutex_unlock(&sn->mu);
	}
	if (sn->writer_err == 0)
		sn->writer_err = store_del(sn->s, "0.s.2999", err, sizeof(err));
	pthread_mutex_lock(&sn->mu);
	sn->done = 1;
	pthread_cond_broadcast(&sn->cv);
	pthread_mutex_unlock(&sn->mu);
	return NULL;
}

static int
snap_cb(const char *id, size_t idlen, const void *attrs, size_t alen, void *arg)
{
	struct snap *sn = arg;
	char err[HASVR_ERRLEN];
	struct record r;
	struct timespec ts;

	if (sn->listed++ == 0) {
		/* The consumer stalls on the first record: the writer must still
		 * be able to finish everything before the list goes on. */
		pthread_mutex_lock(&sn->mu);
		sn->go = 1;
		pthread_cond_broadcast(&sn->cv);
		deadline_in_ms(&ts, CLOCK_REALTIME, 10000);
		while (!sn->done && pthread_cond_timedwait(&sn->cv, &sn->mu, &ts) == 0)
			;
		sn->done_during_list = sn->done;
		pthread_mutex_unlock(&sn->mu);
	}
	record_init(&r);
	/* each record is seen whole, before or after its change */
	if (record_decode_attrs(&r, attrs, alen, err, sizeof(err)) != 0 ||
	    record_find(&r, "k") == NULL ||
	    (strcmp(record_find(&r, "k")->value, "orig") != 0 &&
	    strcmp(record_find(&r, "k")->value, "changed") != 0 &&
	    strcmp(record_find(&r, "k")->value, "new") != 0))
		sn->listed += 100000;
	record_free(&r);
	(void)id;
	(void)idlen;
	return 0;
}

static void
test_snapshot_list(void)
{
	char err[HASVR_ERRLEN], id[64];
	struct snap sn;
	struct store s;
	struct tdir t;
	pthread_t th;
	uint64_t n;
	int i;

	tdir_init(&t);
	CU_ASSERT_FATAL(topen(&s, &t, 0) == 0);
	for (i = 0; i < 3000; i++) {
		snprintf(id, sizeof(id), "0.s.%04d", i);
		CU_ASSERT_FATAL(put1(&s, id, "k", "orig") == 0);
	}
	memset(&sn, 0, sizeof(sn));
	sn.s = &s;
	pthread_mutex_init(&sn.mu, NULL);
	pthread_cond_init(&sn.cv, NULL);
	CU_ASSERT_FATAL(pthread_create(&th, NULL, snap_writer, &sn) == 0);
	CU_ASSERT(store_list(&s, "0.s.", 0, snap_cb, &sn, &n, err, sizeof(err)) == 0);
	pthread_join(th, NULL);
	CU_ASSERT(sn.done == 1);
	CU_ASSERT(sn.writer_err == 0);
	CU_ASSERT(sn.done_during_list == 1);   /* never blocked by the list */
	CU_ASSERT(sn.writes == 50);
	CU_ASSERT(n >= 2999 && n <= 3050);
	CU_ASSERT(sn.listed == (int)n);    /* every record whole and valid */
	CU_ASSERT(store_count(&s, "0.s.", &n, err, sizeof(err)) == 0 && n == 3049);
	pthread_mutex_destroy(&sn.mu);
	pthread_cond_destroy(&sn.cv);
	store_close(&s);
	tdir_free(&t);
}

/* ---- a long stream of small commits keeps working ---------------------- */

/* Regression: with multiversion databases, Berkeley DB 5.3 kept every
 * committed transaction's detail while its page versions were cached and
 * failed every transaction after some 70k small commits ("unable to
 * allocate memory for mutex"). 100k commits must all succeed. */
static void
test_commit_stream(void)
{
	char id[64];
	struct store s;
	struct tdir t;
	uint64_t n = 0;
	char err[HASVR_ERRLEN];
	int i, failed = 0;

	tdir_init(&t);
	t.o.sync = DBENV_NOSYNC;     /* the regions, not the disk, are tested */
	CU_ASSERT_FATAL(topen(&s, &t, 0) == 0);
	for (i = 0; i < 100000 && !failed; i++) {
		snprintf(id, sizeof(id), "0.stream.%06d", i);
		failed = put1(&s, id, "k", "v") != 0;
	}
	CU_ASSERT(failed == 0);
	CU_ASSERT(i == 100000);
	CU_ASSERT(store_count(&s, "0.stream.", &n, err, sizeof(err)) == 0 && n == (uint64_t)i);
	store_close(&s);
	tdir_free(&t);
}

/* ---- many writers on few records: deadlocks are retried --------------- */

static void *
hammer(void *arg)
{
	struct store *s = arg;
	char err[HASVR_ERRLEN], name[32], id[32];
	struct rec_op ops[2];
	struct record r;
	int i, bad = 0;

	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "n%lx", (unsigned long)pthread_self() % 1000);
		snprintf(id, sizeof(id), "0.h.%d", i % 3);
		mkrec(&r, id, name, "v");
		if (store_set(s, &r, err, sizeof(err)) != 0)
			bad++;
		record_free(&r);
		/* Two records in opposite orders: a classic deadlock. */
		ops[0].op = REC_OP_SET; mkrec(&ops[0].rec, i % 2 ? "0.h.x" : "0.h.y", name, "v");
		ops[1].op = REC_OP_SET; mkrec(&ops[1].rec, i % 2 ? "0.h.y" : "0.h.x", name, "v");
		if (store_batch(s, ops, 2, err, sizeof(err)) != 0) {
			fprintf(stderr, "batch: %s\n", err);
			bad++;
		}
		record_free(&ops[0].rec);
		record_free(&ops[1].rec);
	}
	return (void *)(long)bad;
}

static void
test_concurrent_writers(void)
{
	char err[HASVR_ERRLEN];
	struct store s;
	struct tdir t;
	pthread_t th[8];
	uint64_t n;
	void *res;
	int i, bad = 0;

	tdir_init(&t);
	t.o.sync = DBENV_WRITE_NOSYNC;
	CU_ASSERT_FATAL(topen(&s, &t, 0) == 0);
	CU_ASSERT(s.env.commit_flags == DB_TXN_WRITE_NOSYNC);
	for (i = 0; i < 8; i++)
		CU_ASSERT_FATAL(pthread_create(&th[i], NULL, hammer, &s) == 0);
	for (i = 0; i < 8; i++) {
		pthread_join(th[i], &res);
		bad += (int)(long)res;
	}
	CU_ASSERT(bad == 0);
	CU_ASSERT(store_count(&s, "0.h.", &n, err, sizeof(err)) == 0 && n == 5);
	store_close(&s);
	tdir_free(&t);
}

static void
test_reopen(void)
{
	struct store s;
	struct tdir t;
	char *v;

	tdir_init(&t);
	CU_ASSERT_FATAL(topen(&s, &t, 0) == 0);
	CU_ASSERT(put1(&s, "0.d.1", "a", "kept") == 0);
	store_close(&s);
	CU_ASSERT_FATAL(topen(&s, &t, 0) == 0);
	v = get1(&s, "0.d.1", "a");
	CU_ASSERT(v != NULL && strcmp(v, "kept") == 0);
	free(v);
	store_close(&s);
	tdir_free(&t);
}

/* A child commits N records and dies without closing anything: the
 * parent's open runs recovery and must find every one of them. */
static void
test_crash_recovery(void)
{
	char err[HASVR_ERRLEN], id[32];
	struct store s;
	struct tdir t;
	uint64_t n;
	pid_t pid;
	int i, st;

	tdir_init(&t);
	fflush(NULL);
	pid = fork();
	CU_ASSERT_FATAL(pid != -1);
	if (pid == 0) {
		if (store_open(&s, &t.o, 0, err, sizeof(err)) != 0)
			_exit(2);
		for (i = 0; i < 100; i++) {
			snprintf(id, sizeof(id), "0.crash.%d", i);
			if (put1(&s, id, "a", "v") != 0)
				_exit(3);
		}
		_exit(0);
	}
	CU_ASSERT_FATAL(waitpid(pid, &st, 0) == pid);
	CU_ASSERT_FATAL(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CU_ASSERT_FATAL(topen(&s, &t, 0) == 0);
	CU_ASSERT(store_count(&s, "0.crash.", &n, err, sizeof(err)) == 0);
	CU_ASSERT(n == 100);
	store_close(&s);
	tdir_free(&t);
}

static void
write_lots(struct store *s, const char *tag, int n)
{
	char id[64], val[2048];
	int i;

	memset(val, 'v', sizeof(val) - 1);
	val[sizeof(val) - 1] = '\0';
	for (i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "0.%s.%d", tag, i % 50);
		if (put1(s, id, "a", val) != 0) {
			CU_FAIL("put failed");
			return;
		}
	}
}

static void
test_checkpoint_log_removal(void)
{
	char err[HASVR_ERRLEN], path[PATH_MAX];
	struct store s;
	struct tdir t;
	int before, after;

	tdir_init(&t);
	CU_ASSERT_FATAL(util_mkdirs(t.data, 0750, err, sizeof(err)) == 0);
	snprintf(path, sizeof(path), "%s/DB_CONFIG", t.data);
	write_file(path, "set_lg_bsize 65536\nset_lg_max 262144\n");
	t.o.sync = DBENV_NOSYNC;

	/* Without remove_logs, checkpoints keep every log file. */
	t.o.remove_logs = 0;
	CU_ASSERT_FATAL(topen(&s, &t, 0) == 0);
	CU_ASSERT(s.env.commit_flags == DB_TXN_NOSYNC);
	write_lots(&s, "l", 1000);
	before = count_files(t.log, "log.");
	CU_ASSERT(before >= 5);
	CU_ASSERT(dbenv_checkpoint(&s.env, err, sizeof(err)) == 0);
	CU_ASSERT(count_files(t.log, "log.") == before);
	store_close(&s);

	t.o.remove_logs = 1;
	CU_ASSERT_FATAL(topen(&s, &t, 0) == 0);
	write_lots(&s, "l", 200);
	CU_ASSERT(dbenv_checkpoint(&s.env, err, sizeof(err)) == 0);
	CU_ASSERT(dbenv_checkpoint(&s.env, err, sizeof(err)) == 0);
	after = count_files(t.log, "log.");
	CU_ASSERT(after >= 1 && after <= 2);
	store_close(&s);

	/* Still all there after removal. */
	CU_ASSERT_FATAL(topen(&s, &t, 0) == 0);
	{
		uint64_t n;

		CU_ASSERT(store_count(&s, "0.l.", &n, err, sizeof(err)) == 0 && n == 50);
	}
	store_close(&s);
	tdir_free(&t);
}

static void
test_checkpoint_thread(void)
{
	char err[HASVR_ERRLEN], path[PATH_MAX];
	struct store s;
	struct tdir t;
	uint64_t t0;
	int i, n = 0;

	tdir_init(&t);
	CU_ASSERT_FATAL(util_mkdirs(t.data, 0750, err, sizeof(err)) == 0);
	snprintf(path, sizeof(path), "%s/DB_CONFIG", t.data);
	write_file(path, "set_lg_bsize 65536\nset_lg_max 262144\n");
	t.o.sync = DBENV_NOSYNC;
	t.o.checkpoint_secs = 1;
	CU_ASSERT_FATAL(topen(&s, &t, 0) == 0);
	CU_ASSERT(s.env.ckp_running == 1);
	write_lots(&s, "l", 1000);
	CU_ASSERT(count_files(t.log, "log.") >= 5);
	/* Two periods are enough; allow plenty on a loaded machine. */
	for (i = 0; i < 100; i++) {
		if ((n = count_files(t.log, "log.")) <= 2)
			break;
		usleep(100000);
	}
	CU_ASSERT(n <= 2);
	store_close(&s);

	/* Close does not wait for the period to end. */
	t.o.checkpoint_secs = 3600;
	CU_ASSERT_FATAL(topen(&s, &t, 0) == 0);
	t0 = util_now_ms();
	store_close(&s);
	CU_ASSERT(util_now_ms() - t0 < 2000);
	tdir_free(&t);
}

static void
test_event_names(void)
{
	CU_ASSERT_STRING_EQUAL(dbenv_event_name(DB_EVENT_PANIC), "DB_EVENT_PANIC");
	CU_ASSERT_STRING_EQUAL(dbenv_event_name(DB_EVENT_REP_STARTUPDONE),
	    "DB_EVENT_REP_STARTUPDONE");
	CU_ASSERT_STRING_EQUAL(dbenv_event_name(DB_EVENT_WRITE_FAILED),
	    "DB_EVENT_WRITE_FAILED");
	CU_ASSERT_STRING_EQUAL(dbenv_event_name(DB_EVENT_REP_WOULD_ROLLBACK),
	    "DB_EVENT_REP_WOULD_ROLLBACK");
	CU_ASSERT_STRING_EQUAL(dbenv_event_name(12345), "DB_EVENT_UNKNOWN");
}

/* Runs in a child: after a panic Berkeley DB cannot free its handles, and
 * guisvr exits then anyway. Exit status bits name what went wrong. */
static int
panic_child(struct tdir *t)
{
	char err[HASVR_ERRLEN];
	struct record g;
	struct store s;
	int bad = 0;

	if (topen(&s, t, 0) != 0)
		return 1;
	if (put1(&s, "0.p.1", "a", "v") != 0)
		bad |= 2;
	panic_calls = 0;
	if (s.env.env->set_flags(s.env.env, DB_PANIC_ENVIRONMENT, 1) != 0)
		bad |= 4;
	/* The next Berkeley DB call notices the panic and sends the event. */
	if (store_get(&s, "0.p.1", &g, err, sizeof(err)) != XE_DB)
		bad |= 8;
	record_free(&g);
	if (s.env.panicked != 1 || panic_calls != 1)
		bad |= 16;
	if (put1(&s, "0.p.2", "a", "v") != XE_DB || panic_calls != 1)
		bad |= 32;
	store_close(&s);
	return bad;
}

static void
test_panic(void)
{
	char err[HASVR_ERRLEN];
	struct record g;
	struct store s;
	struct tdir t;
	pid_t pid;
	int st;

	tdir_init(&t);
	fflush(NULL);
	pid = fork();
	CU_ASSERT_FATAL(pid != -1);
	if (pid == 0)
		_exit(panic_child(&t));
	CU_ASSERT_FATAL(waitpid(pid, &st, 0) == pid);
	CU_ASSERT(WIFEXITED(st));
	CU_ASSERT(WEXITSTATUS(st) == 0);
	/* Recovery at the next open brings the environment back. */
	CU_ASSERT_FATAL(topen(&s, &t, 0) == 0);
	CU_ASSERT(store_get(&s, "0.p.1", &g, err, sizeof(err)) == 0);
	record_free(&g);
	CU_ASSERT(s.env.panicked == 0);
	store_close(&s);
	tdir_free(&t);
}

/* A file size limit stands in for a full disk: writes must fail with
 * XE_DB and a message, never crash, and what was committed survives. */
static void
test_disk_full(void)
{
	char err[HASVR_ERRLEN], id[64], val[4096];
	struct store s;
	struct tdir t;
	struct rlimit rl, saved;
	uint64_t n;
	pid_t pid;
	int i, rc = 0, st, pfd[2];
	int ok = 0;

	tdir_init(&t);
	CU_ASSERT_FATAL(pipe(pfd) == 0);
	fflush(NULL);
	pid = fork();
	CU_ASSERT_FATAL(pid != -1);
	if (pid == 0) {
		close(pfd[0]);
		signal(SIGXFSZ, SIG_IGN);
		if (store_open(&s, &t.o, 0, err, sizeof(err)) != 0)
			_exit(2);
		getrlimit(RLIMIT_FSIZE, &rl);
		saved = rl;
		rl.rlim_cur = 512 * 1024;
		setrlimit(RLIMIT_FSIZE, &rl);
		memset(val, 'v', sizeof(val) - 1);
		val[sizeof(val) - 1] = '\0';
		for (i = 0; i < 10000; i++) {
			struct record r;

			snprintf(id, sizeof(id), "0.full.%d", i);
			mkrec(&r, id, "a", val);
			rc = store_put(&s, &r, err, sizeof(err));
			record_free(&r);
			if (rc != 0)
				break;
			ok++;
		}
		/* Space is back: writing works again without a restart. */
		setrlimit(RLIMIT_FSIZE, &saved);
		if (put1(&s, "0.full.after", "a", "v") != 0)
			_exit(4);
		dprintf(pfd[1], "%d %d %s\n", ok, rc, err);
		store_close(&s);
		_exit(0);
	}
	close(pfd[1]);
	{
		char line[HASVR_ERRLEN + 64] = "";
		ssize_t m = util_read_full(pfd[0], line, sizeof(line) - 1);
		int got = -1, code = -1;

		close(pfd[0]);
		CU_ASSERT(m > 0);
		CU_ASSERT(sscanf(line, "%d %d", &got, &code) == 2);
		CU_ASSERT(got > 0 && got < 10000);
		CU_ASSERT(code == XE_DB);
		/* Berkeley DB reports the failed log or page write either as
		 * EFBIG or as EIO; either way the message points at the disk */
		CU_ASSERT(strstr(line, "File too large") != NULL ||
		    strstr(line, "Input/output error") != NULL);
		CU_ASSERT(strstr(line, "disk") != NULL);
		ok = got;
	}
	CU_ASSERT_FATAL(waitpid(pid, &st, 0) == pid);
	CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CU_ASSERT_FATAL(topen(&s, &t, 0) == 0);
	CU_ASSERT(store_count(&s, "0.full.", &n, err, sizeof(err)) == 0);
	CU_ASSERT((int)n == ok + 1);
	store_close(&s);
	tdir_free(&t);
}

/* ---- replication support ----------------------------------------------- */

static int hook_calls;

static int
count_hook(void *arg, char *err, size_t errlen)
{
	(void)arg;
	(void)err;
	(void)errlen;
	hook_calls++;
	return 0;
}

static int
notrepl_hook(void *arg, char *err, size_t errlen)
{
	(void)arg;
	snprintf(err, errlen, "committed on the primary only");
	return XE_NOTREPL;
}

/* Writes go through the commit hook after they commit, reads do not; with
 * nosync the write commits with DB_TXN_NOSYNC (the hook flushes). */
static void
test_commit_hook(void)
{
	char err[HASVR_ERRLEN], *v;
	struct record g;
	struct store s;
	struct tdir t;

	tdir_init(&t);
	CU_ASSERT_FATAL(topen(&s, &t, 0) == 0);
	CU_ASSERT(s.env.commit_flags == 0);
	hook_calls = 0;
	store_set_commit_hook(&s, count_hook, NULL, 1);
	CU_ASSERT(s.env.commit_flags == DB_TXN_NOSYNC);
	CU_ASSERT(put1(&s, "0.h.1", "a", "1") == 0);
	CU_ASSERT(put1(&s, "0.h.2", "a", "2") == 0);
	CU_ASSERT(hook_calls == 2);
	CU_ASSERT(store_get(&s, "0.h.1", &g, err, sizeof(err)) == 0);
	record_free(&g);
	/* a refused write commits nothing and calls nothing */
	CU_ASSERT(store_del(&s, "0.h.none", err, sizeof(err)) == XE_NOTFOUND);
	CU_ASSERT(hook_calls == 2);

	/* the hook's verdict is the writer's, the record is committed */
	store_set_commit_hook(&s, notrepl_hook, NULL, 1);
	CU_ASSERT(put1(&s, "0.h.3", "a", "3") == XE_NOTREPL);
	v = get1(&s, "0.h.3", "a");
	CU_ASSERT(v != NULL && strcmp(v, "3") == 0);
	free(v);

	store_set_commit_hook(&s, NULL, NULL, 0);
	CU_ASSERT(s.env.commit_flags == 0);
	CU_ASSERT(put1(&s, "0.h.4", "a", "4") == 0);
	store_close(&s);

	/* NOSYNC commits flushed by nobody are still recovered after a clean
	 * close (the close checkpoints) */
	CU_ASSERT_FATAL(topen(&s, &t, 0) == 0);
	v = get1(&s, "0.h.4", "a");
	CU_ASSERT(v != NULL && strcmp(v, "4") == 0);
	free(v);
	store_close(&s);
	tdir_free(&t);
}

/* A closed handle is reopened by the next operation. */
static void
test_handle_reopen(void)
{
	struct store s;
	struct tdir t;
	char *v;

	tdir_init(&t);
	CU_ASSERT_FATAL(topen(&s, &t, 0) == 0);
	CU_ASSERT(put1(&s, "0.r.1", "a", "1") == 0);
	dbenv_db_close(&s.env);
	CU_ASSERT(s.env.db == NULL);
	v = get1(&s, "0.r.1", "a");
	CU_ASSERT(v != NULL && strcmp(v, "1") == 0);
	free(v);
	CU_ASSERT(s.env.db != NULL);
	dbenv_db_close(&s.env);
	CU_ASSERT(put1(&s, "0.r.2", "a", "2") == 0);
	store_close(&s);
	tdir_free(&t);
}

/* Under replication records.db is not created until this node is told it
 * is the master; before that an operation answers XE_BUSY. */
static void
test_replicated_lazy_open(void)
{
	char err[HASVR_ERRLEN], path[PATH_MAX];
	struct record g;
	struct store s;
	struct tdir t;
	struct stat st;
	uint64_t n;

	tdir_init(&t);
	t.o.replication = 1;
	CU_ASSERT_FATAL(topen(&s, &t, 0) == 0);
	CU_ASSERT(s.env.db == NULL);
	snprintf(path, sizeof(path), "%s/records.db", t.data);
	CU_ASSERT(stat(path, &st) == -1 && errno == ENOENT);
	CU_ASSERT(store_get(&s, "0.l.1", &g, err, sizeof(err)) == XE_BUSY);
	CU_ASSERT(strstr(err, "primary") != NULL);
	record_free(&g);
	CU_ASSERT(store_count(&s, "", &n, err, sizeof(err)) == XE_BUSY);
	CU_ASSERT(put1(&s, "0.l.1", "a", "1") == XE_BUSY);
	CU_ASSERT(stat(path, &st) == -1 && errno == ENOENT);
	CU_ASSERT(store_db_ready(&s, 1, err, sizeof(err)) == 0);
	CU_ASSERT(stat(path, &st) == 0);
	CU_ASSERT(put1(&s, "0.l.1", "a", "1") == 0);
	CU_ASSERT(store_count(&s, "", &n, err, sizeof(err)) == 0 && n == 1);
	store_close(&s);
	tdir_free(&t);
}

/* Two replicated environments in one process, the messages carried by a
 * queue that the test pumps: enough to drive a real client through sync-up
 * and internal initialization. */
struct tmsg {
	struct tmsg *next;
	int from;
	DBT ctrl, rec;
};

struct tnode {
	struct store s;
	struct tdir t;
	int eid;
	struct tmsg *in, **tail;    /* messages for this node */
	struct tnode *peer;
	int cut;                    /* drop what is sent to this node */
};

static int
tnode_send(void *arg, const DBT *ctrl, const DBT *rec, const DB_LSN *lsnp,
    int eid, u_int32_t flags)
{
	struct tnode *from = arg, *to = from->peer;
	struct tmsg *m;

	(void)lsnp;
	(void)flags;
	(void)eid;
	if (to->cut)
		return 0;
	m = calloc(1, sizeof(*m));
	m->from = from->eid;
	m->ctrl.size = ctrl->size;
	m->ctrl.data = malloc(ctrl->size + 1);
	memcpy(m->ctrl.data, ctrl->data, ctrl->size);
	m->rec.size = rec != NULL ? rec->size : 0;
	m->rec.data = malloc(m->rec.size + 1);
	if (m->rec.size > 0)
		memcpy(m->rec.data, rec->data, m->rec.size);
	*to->tail = m;
	to->tail = &m->next;
	return 0;
}

/* Delivers queued messages both ways until none is left. */
static void
tpump(struct tnode *a, struct tnode *b)
{
	struct tnode *n;
	struct tmsg *m;
	DB_LSN lsn;
	int i, moved;

	do {
		moved = 0;
		for (i = 0; i < 2; i++) {
			n = i == 0 ? a : b;
			while ((m = n->in) != NULL) {
				n->in = m->next;
				if (n->in == NULL)
					n->tail = &n->in;
				(void)n->s.env.env->rep_process_message(n->s.env.env,
				    &m->ctrl, &m->rec, m->from, &lsn);
				free(m->ctrl.data);
				free(m->rec.data);
				free(m);
				moved = 1;
			}
		}
	} while (moved);
}

/* dir: an existing directory (moved into the node), or NULL for a new one. */
static void
tnode_open(struct tnode *n, int eid, struct tnode *peer, const char *dbconfig,
    struct tdir *dir)
{
	char err[HASVR_ERRLEN], path[PATH_MAX];

	memset(n, 0, sizeof(*n));
	if (dir != NULL) {
		n->t = *dir;
		n->t.o.data_dir = n->t.data;
		n->t.o.log_dir = n->t.log;
		n->t.o.init_dir = n->t.init;
	} else
		tdir_init(&n->t);
	n->t.o.replication = 1;
	n->eid = eid;
	n->peer = peer;
	n->tail = &n->in;
	CU_ASSERT_FATAL(util_mkdirs(n->t.data, 0750, err, sizeof(err)) == 0);
	snprintf(path, sizeof(path), "%s/DB_CONFIG", n->t.data);
	write_file(path, dbconfig);
	CU_ASSERT_FATAL(topen(&n->s, &n->t, 0) == 0);
	CU_ASSERT_FATAL(dbenv_set_rep(&n->s.env, eid, tnode_send, NULL, n, err,
	    sizeof(err)) == 0);
}

static void
tnode_close(struct tnode *n)
{
	struct tmsg *m;

	(void)dbenv_set_rep(&n->s.env, 0, NULL, NULL, NULL, (char[8]){0}, 8);
	store_close(&n->s);
	while ((m = n->in) != NULL) {
		n->in = m->next;
		free(m->ctrl.data);
		free(m->rec.data);
		free(m);
	}
	tdir_free(&n->t);
}

static void
test_replicated_rollback(void)
{
	char err[HASVR_ERRLEN];
	struct tnode a, b;
	DB_ENV *ea, *eb;
	struct record g;
	char *v;

	tnode_open(&a, 1, &b, dbenv_default_db_config, NULL);
	tnode_open(&b, 2, &a, dbenv_default_db_config, NULL);
	ea = a.s.env.env;
	eb = b.s.env.env;
	CU_ASSERT_FATAL(ea->rep_start(ea, NULL, DB_REP_MASTER) == 0);
	CU_ASSERT_FATAL(store_db_ready(&a.s, 1, err, sizeof(err)) == 0);
	CU_ASSERT_FATAL(eb->rep_start(eb, NULL, DB_REP_CLIENT) == 0);
	tpump(&a, &b);
	CU_ASSERT(put1(&a.s, "0.rep.1", "a", "first") == 0);
	tpump(&a, &b);

	/* the client opened records.db by itself, and cannot write */
	v = get1(&b.s, "0.rep.1", "a");
	CU_ASSERT(v != NULL && strcmp(v, "first") == 0);
	free(v);
	CU_ASSERT_FATAL(b.s.env.db != NULL);
	CU_ASSERT(put1(&b.s, "0.rep.x", "a", "x") != 0);

	/* split: b becomes the master (a higher generation) and writes; the
	 * old master a writes what b never gets */
	a.cut = b.cut = 1;
	CU_ASSERT_FATAL(eb->rep_start(eb, NULL, DB_REP_MASTER) == 0);
	CU_ASSERT_FATAL(store_db_ready(&b.s, 1, err, sizeof(err)) == 0);
	CU_ASSERT(put1(&b.s, "0.rep.b", "a", "b") == 0);
	CU_ASSERT(put1(&a.s, "0.rep.a", "a", "a") == 0);
	v = get1(&a.s, "0.rep.a", "a");
	CU_ASSERT(v != NULL);
	free(v);

	/* a rejoins as a client: its commit is rolled back, which kills its
	 * records.db handle; the store reopens it */
	a.cut = b.cut = 0;
	CU_ASSERT_FATAL(store_db_ready(&a.s, 0, err, sizeof(err)) == 0);
	CU_ASSERT_FATAL(ea->rep_start(ea, NULL, DB_REP_CLIENT) == 0);
	tpump(&a, &b);
	CU_ASSERT(put1(&b.s, "0.rep.c", "a", "c") == 0);
	tpump(&a, &b);
	v = get1(&a.s, "0.rep.c", "a");
	CU_ASSERT(v != NULL && strcmp(v, "c") == 0);
	free(v);
	CU_ASSERT(store_get(&a.s, "0.rep.a", &g, err, sizeof(err)) == XE_NOTFOUND);
	record_free(&g);
	v = get1(&a.s, "0.rep.b", "a");
	CU_ASSERT(v != NULL && strcmp(v, "b") == 0);
	free(v);

	tnode_close(&b);
	tnode_close(&a);
}

/* A client whose history has nothing in common with the master's is
 * re-initialized from the master's files: its records.db handle dies and
 * the store reopens it. */
static void
test_replicated_handle_dead(void)
{
	char err[HASVR_ERRLEN];
	struct tnode a, b;
	DB_ENV *ea, *eb;
	struct record g;
	unsigned reopens;
	uint64_t n;
	char *v;

	tnode_open(&a, 1, &b, dbenv_default_db_config, NULL);
	tnode_open(&b, 2, &a, dbenv_default_db_config, NULL);
	ea = a.s.env.env;
	eb = b.s.env.env;
	a.cut = b.cut = 1;
	/* b: a history of its own, and an open handle on it */
	CU_ASSERT_FATAL(eb->rep_start(eb, NULL, DB_REP_MASTER) == 0);
	CU_ASSERT_FATAL(store_db_ready(&b.s, 1, err, sizeof(err)) == 0);
	CU_ASSERT(put1(&b.s, "0.b.1", "a", "b") == 0);
	v = get1(&b.s, "0.b.1", "a");
	CU_ASSERT(v != NULL);
	free(v);
	reopens = b.s.db_reopens;
	/* a: the master, a generation ahead */
	CU_ASSERT_FATAL(ea->rep_start(ea, NULL, DB_REP_MASTER) == 0);
	CU_ASSERT_FATAL(ea->rep_start(ea, NULL, DB_REP_CLIENT) == 0);
	CU_ASSERT_FATAL(ea->rep_start(ea, NULL, DB_REP_MASTER) == 0);
	CU_ASSERT_FATAL(store_db_ready(&a.s, 1, err, sizeof(err)) == 0);
	CU_ASSERT(put1(&a.s, "0.a.1", "a", "a") == 0);

	a.cut = b.cut = 0;
	CU_ASSERT_FATAL(store_db_ready(&b.s, 0, err, sizeof(err)) == 0);
	CU_ASSERT_FATAL(eb->rep_start(eb, NULL, DB_REP_CLIENT) == 0);
	tpump(&a, &b);
	CU_ASSERT(put1(&a.s, "0.a.2", "a", "a2") == 0);
	tpump(&a, &b);

	v = get1(&b.s, "0.a.2", "a");
	CU_ASSERT(v != NULL && strcmp(v, "a2") == 0);
	free(v);
	CU_ASSERT(b.s.db_reopens == reopens + 1);
	CU_ASSERT(store_get(&b.s, "0.b.1", &g, err, sizeof(err)) == XE_NOTFOUND);
	record_free(&g);
	CU_ASSERT(store_count(&b.s, "", &n, err, sizeof(err)) == 0 && n == 2);

	tnode_close(&b);
	tnode_close(&a);
}

void
test_store_register(void)
{
	CU_pSuite su = CU_add_suite("store", NULL, NULL);

	CU_add_test(su, "open creates the layout and DB_CONFIG", test_open_layout);
	CU_add_test(su, "an existing DB_CONFIG is kept and used", test_db_config_kept);
	CU_add_test(su, "open errors name the directory", test_open_error);
	CU_add_test(su, "put/get/set/unset/del", test_roundtrip);
	CU_add_test(su, "bad ids and names", test_bad_input);
	CU_add_test(su, "records over maxRecordSize", test_too_big);
	CU_add_test(su, "read-only refusal", test_readonly);
	CU_add_test(su, "batch is all or nothing", test_batch);
	CU_add_test(su, "list and count by prefix", test_list_count);
	CU_add_test(su, "a slow listing never holds writers back", test_snapshot_list);
	CU_add_test(su, "concurrent writers and deadlocks", test_concurrent_writers);
	CU_add_test(su, "close and reopen", test_reopen);
	CU_add_test(su, "recovery after an unclean stop", test_crash_recovery);
	CU_add_test(su, "checkpoint removes old logs", test_checkpoint_log_removal);
	CU_add_test(su, "checkpoint thread", test_checkpoint_thread);
	CU_add_test(su, "event names", test_event_names);
	CU_add_test(su, "panic hook", test_panic);
	CU_add_test(su, "full disk", test_disk_full);
	CU_add_test(su, "100k small commits in a row", test_commit_stream);
	CU_add_test(su, "commit hook and NOSYNC commits", test_commit_hook);
	CU_add_test(su, "a closed handle is reopened on use", test_handle_reopen);
	CU_add_test(su, "replicated: records.db created only by the master",
	    test_replicated_lazy_open);
	CU_add_test(su, "replicated: a client rolled back reads the new history",
	    test_replicated_rollback);
	CU_add_test(su, "replicated: dead handle after an internal init",
	    test_replicated_handle_dead);
}
