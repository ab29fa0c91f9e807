/* test_repack.c — the write -> ack path of replication (guisvr/repack.c)
 * on a real Berkeley DB environment in a temporary directory, with the
 * transport replaced by a fake one (struct rep_transport_ops): this node is
 * the primary of two, the test plays the secondary (eid 2) by calling the
 * transport's callbacks as the I/O thread would — a link up or down, an
 * RT_ACK of an LSN — and checks what commits and the replication state do:
 * a sync commit waits for the ack and no longer, strict refuses a write no
 * secondary acknowledged, a secondary that does not ack within ackTimeout
 * turns dirty and catches up to in-sync after a reconnect, and an ack from
 * another thread wakes its committer at once. And the arbiter lease
 * (guisvr/replease.c): a primary whose lease ran out refuses writes and
 * acknowledges none, a renewal ends that at once, a secondary ignores it,
 * and without any lease nothing changes. And the synchronous-standby set
 * (guisvr/repsyncset.c): a commit the listed secondary lacks is not
 * acknowledged at ackTimeout, but once a new set drops it, or it acks,
 * and is refused after a second ackTimeout; without a set nothing
 * changes. */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "unit.h"
#include "halink.h"
#include "hlstate.h"
#include "proto.h"
#include "rep.h"
#include "reptransport.h"
#include "store.h"
#include "util.h"

#define PEER 2                  /* the fake secondary's eid */

/* ---- the fake transport ------------------------------------------------ */

struct fake {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	void (*on_message)(const struct rt_msg *, void *);
	void (*on_peer)(int, int, void *);
	void *arg;
	int up;                     /* PEER's link */
	struct rt_lsn perm;         /* highest DB_REP_PERMANENT LSN sent */
	int nperm;                  /* permanent messages sent */
	int started, stopped;
};

static struct fake fk = {
	.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER,
};

static int
lsn_after(const struct rt_lsn *a, const struct rt_lsn *b)
{
	return a->file != b->file ? a->file > b->file : a->offset > b->offset;
}

static void *
fake_start(const struct rt_opts *o, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	pthread_mutex_lock(&fk.mu);
	fk.on_message = o->on_message;
	fk.on_peer = o->on_peer;
	fk.arg = o->arg;
	fk.up = 0;
	memset(&fk.perm, 0, sizeof(fk.perm));
	fk.nperm = 0;
	fk.started++;
	pthread_mutex_unlock(&fk.mu);
	return &fk;
}

static void
fake_stop(void *t)
{
	struct fake *f = t;

	pthread_mutex_lock(&f->mu);
	f->stopped++;
	pthread_mutex_unlock(&f->mu);
}

static int
fake_send(void *t, int eid, const struct rt_msg *m)
{
	struct fake *f = t;
	int rc;

	pthread_mutex_lock(&f->mu);
	if (m->type == RT_MSG && (m->flags & DB_REP_PERMANENT)) {
		if (lsn_after(&m->lsn, &f->perm))
			f->perm = m->lsn;
		f->nperm++;
		pthread_cond_broadcast(&f->cv);
	}
	rc = eid == RT_EID_BROADCAST || (eid == PEER && f->up) ? 0 : -1;
	pthread_mutex_unlock(&f->mu);
	return rc;
}

static int
fake_peer_up(void *t, int eid)
{
	struct fake *f = t;
	int up;

	pthread_mutex_lock(&f->mu);
	up = eid == PEER && f->up;
	pthread_mutex_unlock(&f->mu);
	return up;
}

static int
fake_peer_stats(void *t, int eid, struct rt_stats *st)
{
	(void)t;
	(void)eid;
	memset(st, 0, sizeof(*st));
	return -1;
}

static const struct rep_transport_ops fake_ops = {
	.start = fake_start,
	.stop = fake_stop,
	.send = fake_send,
	.peer_up = fake_peer_up,
	.peer_stats = fake_peer_stats,
};

/* The secondary's link comes up or goes down. */
static void
peer_link(int up)
{
	pthread_mutex_lock(&fk.mu);
	fk.up = up;
	pthread_mutex_unlock(&fk.mu);
	fk.on_peer(PEER, up, fk.arg);
}

/* The secondary acknowledges lsn, as the I/O thread hands an RT_ACK. */
static void
peer_ack(struct rt_lsn lsn)
{
	struct rt_msg m;

	memset(&m, 0, sizeof(m));
	m.eid = PEER;
	m.type = RT_ACK;
	m.lsn = lsn;
	fk.on_message(&m, fk.arg);
}

static struct rt_lsn
sent_perm(int *n)
{
	struct rt_lsn l;

	pthread_mutex_lock(&fk.mu);
	l = fk.perm;
	if (n != NULL)
		*n = fk.nperm;
	pthread_mutex_unlock(&fk.mu);
	return l;
}

/* Waits until more than n permanent messages were sent: a commit is in
 * its wait. 0, or -1 after 2 s. */
static int
wait_perm(int n)
{
	struct timespec ts;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 2;
	pthread_mutex_lock(&fk.mu);
	while (fk.nperm <= n && rc == 0)
		rc = pthread_cond_timedwait(&fk.cv, &fk.mu, &ts);
	rc = fk.nperm > n ? 0 : -1;
	pthread_mutex_unlock(&fk.mu);
	return rc;
}

/* ---- the primary under test ------------------------------------------- */

struct rig {
	char *root;
	char data[PATH_MAX], log[PATH_MAX], init[PATH_MAX];
	struct store s;
	struct rep *r;
	pthread_mutex_t ev_mu;
	int to_dirty, to_insync;    /* state-change events seen */
	int lease_out, lease_back;  /* "ran out", "renewed" */
	int unlisted;               /* "... was not acknowledged: the
				     * synchronous-standby set still lists" */
	int unknown;                /* "... not a peer of this node" */
};

static void
rig_event(const char *line, void *arg)
{
	struct rig *g = arg;

	pthread_mutex_lock(&g->ev_mu);
	if (strstr(line, "state change in-sync -> dirty for peer 127.0.0.2"))
		g->to_dirty++;
	if (strstr(line, "state change dirty -> in-sync for peer 127.0.0.2"))
		g->to_insync++;
	if (strncmp(line, "arbiter lease ran out", 21) == 0)
		g->lease_out++;
	if (strncmp(line, "arbiter lease renewed after it had run out", 42) == 0)
		g->lease_back++;
	if (strstr(line, "was not acknowledged: the synchronous-standby set "
	    "still lists 2 (127.0.0.2)") != NULL)
		g->unlisted++;
	if (strstr(line, "not a peer of this node") != NULL)
		g->unknown++;
	pthread_mutex_unlock(&g->ev_mu);
}

/* "arbiter lease ran out" (out) or "renewed" events seen. */
static int
rig_lease_events(struct rig *g, int out)
{
	int n;

	pthread_mutex_lock(&g->ev_mu);
	n = out ? g->lease_out : g->lease_back;
	pthread_mutex_unlock(&g->ev_mu);
	return n;
}

static int
rig_events(struct rig *g, int dirty)
{
	int n;

	pthread_mutex_lock(&g->ev_mu);
	n = dirty ? g->to_dirty : g->to_insync;
	pthread_mutex_unlock(&g->ev_mu);
	return n;
}

/* Opens the environment, starts replication over the fake transport
 * (the secondary's link up first if up), and makes this node primary. */
static int
rig_start(struct rig *g, enum ha_durability dur, long long ack_timeout_ms,
    int up)
{
	char err[HASVR_ERRLEN] = "";
	struct dbenv_opts o;
	struct hacfg h;

	memset(g, 0, sizeof(*g));
	pthread_mutex_init(&g->ev_mu, NULL);
	g->root = unit_tmpdir();
	snprintf(g->data, sizeof(g->data), "%s/xdb/data", g->root);
	snprintf(g->log, sizeof(g->log), "%s/xdb/log", g->root);
	snprintf(g->init, sizeof(g->init), "%s/xdb/init", g->root);
	memset(&o, 0, sizeof(o));
	o.data_dir = g->data;
	o.log_dir = g->log;
	o.init_dir = g->init;
	o.cache_bytes = 4 * 1024 * 1024;
	o.sync = DBENV_SYNC;
	o.replication = 1;
	if (store_open(&g->s, &o, 0, err, sizeof(err)) != 0) {
		fprintf(stderr, "store_open: %s\n", err);
		return -1;
	}
	memset(&h, 0, sizeof(h));
	util_strlcpy(h.nodes[0].addr, "127.0.0.1", sizeof(h.nodes[0].addr));
	h.nodes[0].eid = 1;
	util_strlcpy(h.nodes[1].addr, "127.0.0.2", sizeof(h.nodes[1].addr));
	h.nodes[1].eid = PEER;
	h.nnodes = 2;
	h.self = 0;
	h.durability = dur;
	h.ack_timeout_ms = ack_timeout_ms;
	if ((g->r = rep_start_transport(&fake_ops, &g->s, &h, g->root, "unit",
	    err, sizeof(err))) == NULL) {
		fprintf(stderr, "rep_start_transport: %s\n", err);
		store_close(&g->s);
		return -1;
	}
	rep_set_event_sink(g->r, rig_event, g);
	if (up)
		peer_link(1);
	if (rep_set_role(g->r, HA_ROLE_PRIMARY, 1, HA_PRIMARY_NONE, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "rep_set_role: %s\n", err);
		return -1;
	}
	return 0;
}

static void
rig_stop(struct rig *g)
{
	int stopped;

	pthread_mutex_lock(&fk.mu);
	stopped = fk.stopped;
	pthread_mutex_unlock(&fk.mu);
	rep_stop(g->r);
	pthread_mutex_lock(&fk.mu);
	CU_ASSERT_EQUAL(fk.stopped, stopped + 1);
	pthread_mutex_unlock(&fk.mu);
	store_close(&g->s);
	unit_rmtree(g->root);
	free(g->root);
	pthread_mutex_destroy(&g->ev_mu);
}

/* The secondary as the primary reports it. */
static void
rig_peer(struct rig *g, struct hl_state *st, int *insync)
{
	rep_state(g->r, st);
	*insync = st->npeers == 1 && st->peers[0].eid == PEER &&
	    st->peers[0].insync;
}

static int
put1(struct store *s, const char *id, char *err, size_t errlen)
{
	struct record rec;
	int rc;

	record_init(&rec);
	record_set_id(&rec, id, strlen(id));
	record_set(&rec, "a", 1, "1", 1);
	rc = store_put(s, &rec, err, errlen);
	record_free(&rec);
	if (rc != 0)
		fprintf(stderr, "put %s: %d %s\n", id, rc, err);
	return rc;
}

static int
exists(struct store *s, const char *id)
{
	char err[HASVR_ERRLEN];
	struct record rec;
	int rc;

	rc = store_get(s, id, &rec, err, sizeof(err));
	record_free(&rec);
	return rc == 0;
}

/* A write on its own thread: the committer that waits. */
struct writer {
	pthread_t thr;
	struct store *s;
	const char *id;
	int rc;
	int done;
	uint64_t done_ms;
	char err[HASVR_ERRLEN];
};

static void *
writer_main(void *arg)
{
	struct writer *w = arg;

	w->rc = put1(w->s, w->id, w->err, sizeof(w->err));
	__atomic_store_n(&w->done_ms, util_now_ms(), __ATOMIC_RELEASE);
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static int
writer_start(struct writer *w, struct store *s, const char *id)
{
	memset(w, 0, sizeof(*w));
	w->s = s;
	w->id = id;
	return pthread_create(&w->thr, NULL, writer_main, w);
}

static int
writer_done(struct writer *w)
{
	return __atomic_load_n(&w->done, __ATOMIC_ACQUIRE);
}

/* An ack sent from another thread after a pause, as the transport's I/O
 * thread would. */
struct acker {
	pthread_t thr;
	struct rt_lsn lsn;
	int delay_ms;
	uint64_t sent_ms;
};

static void *
acker_main(void *arg)
{
	struct acker *a = arg;

	usleep((useconds_t)a->delay_ms * 1000);
	a->sent_ms = util_now_ms();
	peer_ack(a->lsn);
	return NULL;
}

/* ---- tests ------------------------------------------------------------- */

/* sync: the commit is held until the secondary acknowledges its LSN, then
 * returns ok; the secondary stays in sync. */
static void
test_sync_ack(void)
{
	struct hl_state st;
	struct writer w;
	struct rig g;
	uint64_t t0;
	int n, insync;

	CU_ASSERT_FATAL(rig_start(&g, HA_SYNC, 3000, 1) == 0);
	(void)sent_perm(&n);
	CU_ASSERT_FATAL(writer_start(&w, &g.s, "0.rep.sync1") == 0);
	CU_ASSERT_FATAL(wait_perm(n) == 0);
	usleep(200 * 1000);
	CU_ASSERT(!writer_done(&w));            /* waiting for the ack */
	t0 = util_now_ms();
	peer_ack(sent_perm(NULL));
	pthread_join(w.thr, NULL);
	CU_ASSERT_EQUAL(w.rc, 0);
	CU_ASSERT(w.done_ms - t0 < 1000);       /* the ack, not ackTimeout */
	CU_ASSERT(exists(&g.s, "0.rep.sync1"));
	rig_peer(&g, &st, &insync);
	CU_ASSERT(insync);
	CU_ASSERT_EQUAL(st.dbstate, HL_DB_INSYNC);
	CU_ASSERT_EQUAL(rig_events(&g, 1), 0);
	rig_stop(&g);
}

/* strict: with no secondary connected the write is refused (XE_NOTREPL)
 * at once; with one that never acks, after ackTimeout; with one that acks,
 * it succeeds. */
static void
test_strict_refuses(void)
{
	char err[HASVR_ERRLEN] = "";
	struct writer w;
	struct acker a;
	struct rig g;
	uint64_t t0;
	int n;

	CU_ASSERT_FATAL(rig_start(&g, HA_STRICT, 500, 0) == 0);
	t0 = util_now_ms();
	CU_ASSERT_EQUAL(put1(&g.s, "0.rep.strict1", err, sizeof(err)), XE_NOTREPL);
	CU_ASSERT(util_now_ms() - t0 < 400);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "no secondary is connected"));
	/* committed on the primary only: the writer was told so */
	CU_ASSERT(exists(&g.s, "0.rep.strict1"));

	peer_link(1);
	t0 = util_now_ms();
	err[0] = '\0';
	CU_ASSERT_EQUAL(put1(&g.s, "0.rep.strict2", err, sizeof(err)), XE_NOTREPL);
	CU_ASSERT(util_now_ms() - t0 >= 490);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not acknowledged by a secondary "
	    "within 500 ms"));

	/* an ack in time, from another thread: ok */
	(void)sent_perm(&n);
	CU_ASSERT_FATAL(writer_start(&w, &g.s, "0.rep.strict3") == 0);
	CU_ASSERT_FATAL(wait_perm(n) == 0);
	memset(&a, 0, sizeof(a));
	a.lsn = sent_perm(NULL);
	CU_ASSERT_FATAL(pthread_create(&a.thr, NULL, acker_main, &a) == 0);
	pthread_join(a.thr, NULL);
	pthread_join(w.thr, NULL);
	CU_ASSERT_EQUAL(w.rc, 0);
	CU_ASSERT(w.done_ms - a.sent_ms < 400);
	rig_stop(&g);
}

/* sync: a secondary that never acks holds a commit for ackTimeout, no
 * longer; the commit succeeds, the secondary is dirty and no later commit
 * waits for it. Then its link drops and comes back, it acknowledges
 * everything, and it is in sync again: waited for by the next commit. */
static void
test_timeout_dirty_reconnect(void)
{
	char err[HASVR_ERRLEN] = "";
	struct hl_state st;
	struct writer w;
	struct rig g;
	uint64_t t0, el;
	int n, insync;

	CU_ASSERT_FATAL(rig_start(&g, HA_SYNC, 500, 1) == 0);
	t0 = util_now_ms();
	CU_ASSERT_EQUAL(put1(&g.s, "0.rep.to1", err, sizeof(err)), 0);
	el = util_now_ms() - t0;
	CU_ASSERT(el >= 490);
	CU_ASSERT(el < 2000);
	rig_peer(&g, &st, &insync);
	CU_ASSERT(!insync);
	CU_ASSERT_EQUAL(st.dbstate, HL_DB_DIRTY);
	CU_ASSERT_EQUAL(rig_events(&g, 1), 1);
	/* dirty: not waited for */
	t0 = util_now_ms();
	CU_ASSERT_EQUAL(put1(&g.s, "0.rep.to2", err, sizeof(err)), 0);
	CU_ASSERT(util_now_ms() - t0 < 400);
	CU_ASSERT_EQUAL(rig_events(&g, 1), 1);  /* said once */

	/* reconnect; still dirty until it has caught up */
	peer_link(0);
	peer_link(1);
	rig_peer(&g, &st, &insync);
	CU_ASSERT(!insync);
	CU_ASSERT_EQUAL(rig_events(&g, 0), 0);
	peer_ack(sent_perm(NULL));
	rig_peer(&g, &st, &insync);
	CU_ASSERT(insync);
	CU_ASSERT_EQUAL(st.dbstate, HL_DB_INSYNC);
	CU_ASSERT_EQUAL(rig_events(&g, 0), 1);

	/* in sync again: the next commit waits for it */
	(void)sent_perm(&n);
	CU_ASSERT_FATAL(writer_start(&w, &g.s, "0.rep.to3") == 0);
	CU_ASSERT_FATAL(wait_perm(n) == 0);
	usleep(100 * 1000);
	CU_ASSERT(!writer_done(&w));
	peer_ack(sent_perm(NULL));
	pthread_join(w.thr, NULL);
	CU_ASSERT_EQUAL(w.rc, 0);
	rig_peer(&g, &st, &insync);
	CU_ASSERT(insync);
	CU_ASSERT_EQUAL(rig_events(&g, 1), 1);
	rig_stop(&g);
}

/* An ack of an older LSN leaves the committer waiting; the ack of its LSN,
 * from another thread, wakes it at once (not at ackTimeout). */
static void
test_wakeup(void)
{
	struct rt_lsn before;
	struct acker a;
	struct writer w;
	struct rig g;
	int n;

	CU_ASSERT_FATAL(rig_start(&g, HA_SYNC, 3000, 1) == 0);
	before = sent_perm(&n);
	peer_ack(before);
	CU_ASSERT_FATAL(writer_start(&w, &g.s, "0.rep.wake1") == 0);
	CU_ASSERT_FATAL(wait_perm(n) == 0);
	{
		struct rt_lsn now = sent_perm(NULL);

		CU_ASSERT(lsn_after(&now, &before));
	}
	peer_ack(before);                       /* not this commit's */
	usleep(150 * 1000);
	CU_ASSERT(!writer_done(&w));
	memset(&a, 0, sizeof(a));
	a.lsn = sent_perm(NULL);
	a.delay_ms = 50;
	CU_ASSERT_FATAL(pthread_create(&a.thr, NULL, acker_main, &a) == 0);
	pthread_join(a.thr, NULL);
	pthread_join(w.thr, NULL);
	CU_ASSERT_EQUAL(w.rc, 0);
	CU_ASSERT(w.done_ms >= a.sent_ms);
	CU_ASSERT(w.done_ms - a.sent_ms < 500);
	rig_stop(&g);
}

#define LEASE_NOACK "committed on this node, but its arbiter lease ran out " \
	"before the write was acknowledged (is etcd reachable?); it may be " \
	"rolled back"
#define LEASE_RO "this node's arbiter lease ran out (is etcd reachable?): it " \
	"takes no writes until hasvr renews the lease or steps it down"

/* Writes id until one is refused as read-only (the watch thread noticed
 * the lease ran out), for at most 3 s; its code. */
static int
put_until_refused(struct store *s, const char *id, char *err, size_t errlen)
{
	int rc, n;

	for (n = 0; n < 60; n++) {
		err[0] = '\0';
		if ((rc = put1(s, id, err, errlen)) == XE_READONLY)
			return rc;
		/* meanwhile committed but never acknowledged */
		CU_ASSERT_EQUAL(rc, XE_NOTREPL);
		CU_ASSERT_STRING_EQUAL(err, LEASE_NOACK);
		usleep(50 * 1000);
	}
	return rc;
}

/* async: without a lease a primary takes and acknowledges writes; with
 * one it does while the lease holds; once it ran out every write is
 * refused with the lease's words, said once in the log; a renewal ends
 * that at once, and a lease of 0 ends the lease at once. */
static void
test_lease_async(void)
{
	char err[HASVR_ERRLEN] = "";
	struct hl_state st;
	struct rig g;
	uint64_t t0;

	CU_ASSERT_FATAL(rig_start(&g, HA_ASYNC, 1000, 0) == 0);
	/* pair mode: no lease, nothing changes */
	CU_ASSERT_EQUAL(put1(&g.s, "0.lease.a1", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(rep_commit_wait(g.r, err, sizeof(err)), 0);
	rep_state(g.r, &st);
	CU_ASSERT_EQUAL(st.lease_on, 0);
	CU_ASSERT_EQUAL(st.lease_left_ms, 0);

	t0 = util_now_ms();
	rep_set_lease(g.r, 600, t0);
	rep_state(g.r, &st);
	CU_ASSERT_EQUAL(st.lease_on, 1);
	CU_ASSERT(st.lease_left_ms > 0 && st.lease_left_ms <= 550);
	if (util_now_ms() - t0 < 300)
		CU_ASSERT_EQUAL(put1(&g.s, "0.lease.a2", err, sizeof(err)), 0);
	/* ran out: refused, once the watch thread noticed */
	while (util_now_ms() - t0 < 600)
		usleep(20 * 1000);
	CU_ASSERT_EQUAL(put_until_refused(&g.s, "0.lease.a3", err,
	    sizeof(err)), XE_READONLY);
	CU_ASSERT_STRING_EQUAL(err, LEASE_RO);
	/* and the commit hook acknowledges nothing */
	CU_ASSERT_EQUAL(rep_commit_wait(g.r, err, sizeof(err)), XE_NOTREPL);
	CU_ASSERT_STRING_EQUAL(err, LEASE_NOACK);
	rep_state(g.r, &st);
	CU_ASSERT_EQUAL(st.lease_on, 1);
	CU_ASSERT_EQUAL(st.lease_left_ms, 0);
	usleep(250 * 1000);
	CU_ASSERT_EQUAL(rig_lease_events(&g, 1), 1);    /* said once */
	CU_ASSERT_EQUAL(rig_lease_events(&g, 0), 0);

	/* renewed: writes at once, said once */
	rep_set_lease(g.r, 5000, util_now_ms());
	CU_ASSERT_EQUAL(put1(&g.s, "0.lease.a4", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(rig_lease_events(&g, 0), 1);
	rep_set_lease(g.r, 5000, util_now_ms());
	CU_ASSERT_EQUAL(rig_lease_events(&g, 0), 1);    /* not every renewal */
	rep_state(g.r, &st);
	CU_ASSERT(st.lease_left_ms > 4000 && st.lease_left_ms <= 4950);

	/* a lease sent long ago counts from then: out already */
	rep_set_lease(g.r, 1000, util_now_ms() - 2000);
	err[0] = '\0';
	CU_ASSERT_EQUAL(put1(&g.s, "0.lease.a5", err, sizeof(err)), XE_READONLY);
	CU_ASSERT_STRING_EQUAL(err, LEASE_RO);
	CU_ASSERT_EQUAL(rig_lease_events(&g, 1), 2);

	/* 0: over at once */
	rep_set_lease(g.r, 5000, util_now_ms());
	CU_ASSERT_EQUAL(put1(&g.s, "0.lease.a6", err, sizeof(err)), 0);
	rep_set_lease(g.r, 0, util_now_ms());
	err[0] = '\0';
	CU_ASSERT_EQUAL(put1(&g.s, "0.lease.a7", err, sizeof(err)), XE_READONLY);
	CU_ASSERT_STRING_EQUAL(err, LEASE_RO);
	CU_ASSERT_EQUAL(rig_lease_events(&g, 1), 3);
	rep_state(g.r, &st);
	CU_ASSERT_EQUAL(st.lease_left_ms, 0);
	CU_ASSERT(exists(&g.s, "0.lease.a4"));
	CU_ASSERT(!exists(&g.s, "0.lease.a5"));
	rig_stop(&g);
}

/* sync: a commit waiting for the secondary's ack when the lease runs out
 * is not acknowledged — at once, not after ackTimeout — though committed
 * here. */
static void
test_lease_commit_wait(void)
{
	struct writer w;
	struct rig g;
	uint64_t t0;
	int n;

	CU_ASSERT_FATAL(rig_start(&g, HA_SYNC, 5000, 1) == 0);
	t0 = util_now_ms();
	rep_set_lease(g.r, 400, t0);
	(void)sent_perm(&n);
	CU_ASSERT_FATAL(writer_start(&w, &g.s, "0.lease.w1") == 0);
	CU_ASSERT_FATAL(wait_perm(n) == 0);
	pthread_join(w.thr, NULL);
	CU_ASSERT_EQUAL(w.rc, XE_NOTREPL);
	CU_ASSERT_STRING_EQUAL(w.err, LEASE_NOACK);
	CU_ASSERT(w.done_ms - t0 >= 300);
	CU_ASSERT(w.done_ms - t0 < 3000);       /* the lease, not ackTimeout */
	CU_ASSERT(exists(&g.s, "0.lease.w1"));
	/* an ack that comes now changes nothing */
	peer_ack(sent_perm(NULL));
	rig_stop(&g);
}

/* A secondary ignores the deadline: its refusal names the primary, and
 * a lease running out there is not said. Promoted with the lease out, it
 * refuses writes for the lease. */
static void
test_lease_secondary(void)
{
	char err[HASVR_ERRLEN] = "";
	struct rig g;

	CU_ASSERT_FATAL(rig_start(&g, HA_ASYNC, 1000, 0) == 0);
	CU_ASSERT_EQUAL(rep_set_role(g.r, HA_ROLE_SECONDARY, 2, PEER, err,
	    sizeof(err)), 0);
	rep_set_lease(g.r, 0, util_now_ms());
	usleep(300 * 1000);
	CU_ASSERT_EQUAL(put1(&g.s, "0.lease.s1", err, sizeof(err)), XE_READONLY);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "this node is secondary"));
	CU_ASSERT_EQUAL(rig_lease_events(&g, 1), 0);
	CU_ASSERT_EQUAL(rep_set_role(g.r, HA_ROLE_PRIMARY, 3, HA_PRIMARY_NONE,
	    err, sizeof(err)), 0);
	err[0] = '\0';
	CU_ASSERT_EQUAL(put1(&g.s, "0.lease.s2", err, sizeof(err)), XE_READONLY);
	CU_ASSERT_STRING_EQUAL(err, LEASE_RO);
	rep_set_lease(g.r, 5000, util_now_ms());
	CU_ASSERT_EQUAL(put1(&g.s, "0.lease.s3", err, sizeof(err)), 0);
	rig_stop(&g);
}

#define SYNCSET_NOACK "committed on the primary, but the synchronous-standby " \
	"record could not be updated in time (is etcd reachable?); it may be " \
	"rolled back"
#define LISTED (1u << (PEER - 1))  /* the set that lists the secondary */

/* "... not acknowledged" (unlisted) or "not a peer" events seen. */
static int
rig_syncset_events(struct rig *g, int unlisted)
{
	int n;

	pthread_mutex_lock(&g->ev_mu);
	n = unlisted ? g->unlisted : g->unknown;
	pthread_mutex_unlock(&g->ev_mu);
	return n;
}

/* Waits until ms passed since t0. */
static void
sleep_until(uint64_t t0, uint64_t ms)
{
	while (util_now_ms() - t0 < ms)
		usleep(10 * 1000);
}

/* sync, no set (pair mode): a commit the secondary does not acknowledge
 * is acknowledged at ackTimeout, and the state says nothing of a set. */
static void
test_syncset_pair(void)
{
	char err[HASVR_ERRLEN] = "";
	struct hl_state st;
	struct rig g;
	uint64_t t0, el;

	CU_ASSERT_FATAL(rig_start(&g, HA_SYNC, 500, 1) == 0);
	t0 = util_now_ms();
	CU_ASSERT_EQUAL(put1(&g.s, "0.sset.p1", err, sizeof(err)), 0);
	el = util_now_ms() - t0;
	CU_ASSERT(el >= 490 && el < 2000);
	rep_state(g.r, &st);
	CU_ASSERT_EQUAL(st.syncset_on, 0);
	CU_ASSERT_EQUAL(st.syncset, 0);
	CU_ASSERT_EQUAL(st.dbstate, HL_DB_DIRTY);
	rig_stop(&g);
}

/* sync, the secondary listed: a commit it does not acknowledge is not
 * acknowledged at ackTimeout — the secondary is marked dirty, for hasvr
 * to drop it — and is, at once, when the new set without it comes. The
 * next commit does not wait for it. */
static void
test_syncset_dropped(void)
{
	char err[HASVR_ERRLEN] = "";
	struct hl_state st;
	struct writer w;
	struct rig g;
	uint64_t t0, set_ms;
	int n, insync;

	CU_ASSERT_FATAL(rig_start(&g, HA_SYNC, 1000, 1) == 0);
	rep_set_syncset(g.r, LISTED);
	rep_state(g.r, &st);
	CU_ASSERT_EQUAL(st.syncset_on, 1);
	CU_ASSERT_EQUAL(st.syncset, LISTED);
	(void)sent_perm(&n);
	t0 = util_now_ms();
	CU_ASSERT_FATAL(writer_start(&w, &g.s, "0.sset.d1") == 0);
	CU_ASSERT_FATAL(wait_perm(n) == 0);
	sleep_until(t0, 1300);
	/* past ackTimeout: dirty, but not acknowledged without it */
	CU_ASSERT(!writer_done(&w));
	rig_peer(&g, &st, &insync);
	CU_ASSERT(!insync);
	CU_ASSERT_EQUAL(rig_events(&g, 1), 1);
	set_ms = util_now_ms();
	rep_set_syncset(g.r, 0);
	pthread_join(w.thr, NULL);
	CU_ASSERT_EQUAL(w.rc, 0);
	CU_ASSERT(w.done_ms - set_ms < 500);    /* the set, not the timeout */
	rep_state(g.r, &st);
	CU_ASSERT_EQUAL(st.syncset_on, 1);      /* on until restart */
	CU_ASSERT_EQUAL(st.syncset, 0);
	/* dirty and not listed: not waited for */
	t0 = util_now_ms();
	CU_ASSERT_EQUAL(put1(&g.s, "0.sset.d2", err, sizeof(err)), 0);
	CU_ASSERT(util_now_ms() - t0 < 500);
	CU_ASSERT_EQUAL(rig_syncset_events(&g, 1), 0);
	rig_stop(&g);
}

/* sync, the secondary listed and never dropped: refused (XE_NOTREPL)
 * after a second ackTimeout, with the record's words, said in the log;
 * committed here all the same. Listed and down, the same. */
static void
test_syncset_not_updated(void)
{
	char err[HASVR_ERRLEN] = "";
	struct rig g;
	uint64_t t0, el;

	CU_ASSERT_FATAL(rig_start(&g, HA_SYNC, 500, 1) == 0);
	rep_set_syncset(g.r, LISTED);
	t0 = util_now_ms();
	CU_ASSERT_EQUAL(put1(&g.s, "0.sset.n1", err, sizeof(err)), XE_NOTREPL);
	el = util_now_ms() - t0;
	CU_ASSERT_STRING_EQUAL(err, SYNCSET_NOACK);
	CU_ASSERT(el >= 990);
	CU_ASSERT(el < 3000);
	CU_ASSERT(exists(&g.s, "0.sset.n1"));
	CU_ASSERT_EQUAL(rig_events(&g, 1), 1);
	CU_ASSERT_EQUAL(rig_syncset_events(&g, 1), 1);
	peer_link(0);
	t0 = util_now_ms();
	err[0] = '\0';
	CU_ASSERT_EQUAL(put1(&g.s, "0.sset.n2", err, sizeof(err)), XE_NOTREPL);
	CU_ASSERT_STRING_EQUAL(err, SYNCSET_NOACK);
	CU_ASSERT(util_now_ms() - t0 >= 990);
	rig_stop(&g);
}

/* sync, the secondary listed: its ack acknowledges a commit at once,
 * before ackTimeout and during the second wait alike. */
static void
test_syncset_acked(void)
{
	struct writer w;
	struct acker a;
	struct rig g;
	uint64_t t0;
	int n, insync;
	struct hl_state st;

	CU_ASSERT_FATAL(rig_start(&g, HA_SYNC, 1000, 1) == 0);
	rep_set_syncset(g.r, LISTED);
	(void)sent_perm(&n);
	CU_ASSERT_FATAL(writer_start(&w, &g.s, "0.sset.a1") == 0);
	CU_ASSERT_FATAL(wait_perm(n) == 0);
	memset(&a, 0, sizeof(a));
	a.lsn = sent_perm(NULL);
	a.delay_ms = 50;
	CU_ASSERT_FATAL(pthread_create(&a.thr, NULL, acker_main, &a) == 0);
	pthread_join(a.thr, NULL);
	pthread_join(w.thr, NULL);
	CU_ASSERT_EQUAL(w.rc, 0);
	CU_ASSERT(w.done_ms - a.sent_ms < 500);
	rig_peer(&g, &st, &insync);
	CU_ASSERT(insync);

	/* late: dirty at ackTimeout, then its ack ends the second wait */
	(void)sent_perm(&n);
	t0 = util_now_ms();
	CU_ASSERT_FATAL(writer_start(&w, &g.s, "0.sset.a2") == 0);
	CU_ASSERT_FATAL(wait_perm(n) == 0);
	memset(&a, 0, sizeof(a));
	a.lsn = sent_perm(NULL);
	sleep_until(t0, 1300);
	CU_ASSERT(!writer_done(&w));
	CU_ASSERT_EQUAL(rig_events(&g, 1), 1);
	CU_ASSERT_FATAL(pthread_create(&a.thr, NULL, acker_main, &a) == 0);
	pthread_join(a.thr, NULL);
	pthread_join(w.thr, NULL);
	CU_ASSERT_EQUAL(w.rc, 0);
	CU_ASSERT(w.done_ms - a.sent_ms < 500);
	/* caught up: in sync again, said once */
	rig_peer(&g, &st, &insync);
	CU_ASSERT(insync);
	CU_ASSERT_EQUAL(rig_events(&g, 0), 1);
	rig_stop(&g);
}

/* strict, the secondary listed: its ack counts; no ack, refused at
 * ackTimeout as always. A set naming only an eid that is no peer lists
 * nobody (said in the log): strict keeps its rule. */
static void
test_syncset_strict(void)
{
	char err[HASVR_ERRLEN] = "";
	struct writer w;
	struct acker a;
	struct rig g;
	uint64_t t0;
	int n;

	CU_ASSERT_FATAL(rig_start(&g, HA_STRICT, 500, 1) == 0);
	rep_set_syncset(g.r, LISTED);
	(void)sent_perm(&n);
	CU_ASSERT_FATAL(writer_start(&w, &g.s, "0.sset.s1") == 0);
	CU_ASSERT_FATAL(wait_perm(n) == 0);
	memset(&a, 0, sizeof(a));
	a.lsn = sent_perm(NULL);
	CU_ASSERT_FATAL(pthread_create(&a.thr, NULL, acker_main, &a) == 0);
	pthread_join(a.thr, NULL);
	pthread_join(w.thr, NULL);
	CU_ASSERT_EQUAL(w.rc, 0);
	t0 = util_now_ms();
	CU_ASSERT_EQUAL(put1(&g.s, "0.sset.s2", err, sizeof(err)), XE_NOTREPL);
	CU_ASSERT(util_now_ms() - t0 >= 490);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not acknowledged by a secondary "
	    "within 500 ms"));
	rep_set_syncset(g.r, 1u << 4);          /* eid 5: not a peer */
	CU_ASSERT_EQUAL(rig_syncset_events(&g, 0), 1);
	peer_link(0);
	err[0] = '\0';
	CU_ASSERT_EQUAL(put1(&g.s, "0.sset.s3", err, sizeof(err)), XE_NOTREPL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "no secondary is connected"));
	rig_stop(&g);
}

/* The lease wins: a commit waiting for a listed secondary (past
 * ackTimeout) when the arbiter lease runs out is answered with the
 * lease's words. */
static void
test_syncset_lease(void)
{
	struct writer w;
	struct rig g;
	uint64_t t0;
	int n;

	CU_ASSERT_FATAL(rig_start(&g, HA_SYNC, 300, 1) == 0);
	rep_set_syncset(g.r, LISTED);
	t0 = util_now_ms();
	rep_set_lease(g.r, 500, t0);             /* out at 450 ms */
	(void)sent_perm(&n);
	CU_ASSERT_FATAL(writer_start(&w, &g.s, "0.sset.l1") == 0);
	CU_ASSERT_FATAL(wait_perm(n) == 0);
	pthread_join(w.thr, NULL);
	CU_ASSERT_EQUAL(w.rc, XE_NOTREPL);
	CU_ASSERT_STRING_EQUAL(w.err, LEASE_NOACK);
	CU_ASSERT(w.done_ms - t0 >= 400);
	CU_ASSERT(w.done_ms - t0 < 3000);
	CU_ASSERT_EQUAL(rig_syncset_events(&g, 1), 0);
	rig_stop(&g);
}

void
test_repack_register(void)
{
	CU_pSuite s = CU_add_suite("repack", NULL, NULL);

	CU_add_test(s, "sync: a commit waits for the ack", test_sync_ack);
	CU_add_test(s, "strict: no ack, no write", test_strict_refuses);
	CU_add_test(s, "sync: timeout, dirty, reconnect, in sync",
	    test_timeout_dirty_reconnect);
	CU_add_test(s, "an ack from another thread wakes its committer",
	    test_wakeup);
	CU_add_test(s, "arbiter lease: async writes refused once it ran out",
	    test_lease_async);
	CU_add_test(s, "arbiter lease: a waiting commit is not acknowledged",
	    test_lease_commit_wait);
	CU_add_test(s, "arbiter lease: a secondary ignores it",
	    test_lease_secondary);
	CU_add_test(s, "no synchronous-standby set: acknowledged at ackTimeout",
	    test_syncset_pair);
	CU_add_test(s, "synchronous-standby set: acknowledged once the listed "
	    "secondary is dropped", test_syncset_dropped);
	CU_add_test(s, "synchronous-standby set: refused when never updated",
	    test_syncset_not_updated);
	CU_add_test(s, "synchronous-standby set: the listed secondary's ack",
	    test_syncset_acked);
	CU_add_test(s, "synchronous-standby set: strict",
	    test_syncset_strict);
	CU_add_test(s, "synchronous-standby set: the lease wins",
	    test_syncset_lease);
}
