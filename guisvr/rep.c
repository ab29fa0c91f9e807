/* rep.c — Berkeley DB replication for guisvr with the Base Replication API
 * over reptransport (see rep.h for the contract, rep_int.h for the threads
 * and the parts): starting and stopping it, the roles hasvr gives,
 * enabling and disabling database replication, Berkeley DB's events, and
 * the operations of the TLS transport. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <db.h>

#include "atomicfile.h"
#include "halink.h"
#include "log.h"
#include "proto.h"
#include "rep_int.h"
#include "reptransport.h"
#include "util.h"

/* ---- small helpers ---------------------------------------------------- */

static const char *
rep_dur_name(enum ha_durability d)
{
	switch (d) {
	case HA_ASYNC:
		return "async";
	case HA_SYNC:
		return "sync";
	case HA_STRICT:
		return "strict";
	}
	return "?";
}

struct rep_peer *
rep_peer_find(struct rep *r, int eid)
{
	int i;

	for (i = 0; i < r->npeers; i++)
		if (r->peers[i].eid == eid)
			return &r->peers[i];
	return NULL;
}

const char *
rep_peer_addr(struct rep *r, int eid)
{
	struct rep_peer *p = rep_peer_find(r, eid);

	return p != NULL ? p->addr : "unknown";
}

/* Sends a line to guiDaemon.0 (at the given level) and to the ha-link
 * subscribers. Never called with r->mu held. */
void
rep_event(struct rep *r, int level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* a level past debug: already logged by dbenv.c */
	if (level >= LOG_LVL_ERR && level <= LOG_LVL_DEBUG)
		log_at((enum log_level)level, "%s", line);
	pthread_mutex_lock(&r->sink_mu);
	if (r->sink != NULL)
		r->sink(line, r->sink_arg);
	pthread_mutex_unlock(&r->sink_mu);
}

/* Which writes the store refuses, and why: none on a primary whose
 * arbiter lease (if any) holds; the lease's changes are said here too.
 * One call at a time (readonly_mu), so that the message set last is the
 * one computed last. Never called with r->mu held. */
void
rep_update_readonly(struct rep *r)
{
	char msg[256], line[512];
	int role, master, lease, out;
	uint64_t now;

	pthread_mutex_lock(&r->readonly_mu);
	pthread_mutex_lock(&r->mu);
	role = r->role;
	master = r->master_eid;
	now = util_now_ms();
	lease = rep_lease_note(r, now, line, sizeof(line));
	out = rep_lease_out(r, now);
	pthread_mutex_unlock(&r->mu);
	if (role == HA_ROLE_PRIMARY)
		snprintf(msg, sizeof(msg), "%s", out ? REP_LEASE_READONLY_MSG :
		    "");
	else if (role == HA_ROLE_STARTING)
		snprintf(msg, sizeof(msg), "no role yet: waiting for hasvr");
	else if (master != DB_EID_INVALID && master != r->self_eid)
		snprintf(msg, sizeof(msg), "this node is secondary; the primary "
		    "is %s", rep_peer_addr(r, master));
	else
		snprintf(msg, sizeof(msg), "this node is secondary; the primary "
		    "is not known yet");
	store_set_readonly(r->s, msg);
	if (lease != 0)
		rep_event(r, lease > 0 ? LOG_LVL_WARN : LOG_LVL_NOTICE, "%s",
		    line);
	pthread_mutex_unlock(&r->readonly_mu);
}

static int
rep_write_lastrole(struct rep *r, int role, uint32_t epoch)
{
	char buf[64], err[HASVR_ERRLEN];
	int n;

	n = snprintf(buf, sizeof(buf), "%s %u\n", ha_role_word(role), epoch);
	if (atomicfile_write(r->lastrole_path, buf, (size_t)n, 0640, err,
	    sizeof(err)) != 0) {
		log_warnx("cannot record the role in %s: %s", r->lastrole_path, err);
		return -1;
	}
	return 0;
}

/* 1 if the last role recorded on disk is primary. */
static int
rep_read_lastrole(struct rep *r)
{
	char err[HASVR_ERRLEN], *txt;
	int primary;

	if ((txt = util_read_file(r->lastrole_path, 256, NULL, err,
	    sizeof(err))) == NULL)
		return 0;
	primary = strncmp(txt, "primary", 7) == 0;
	free(txt);
	return primary;
}

/* With r->mu held: 1 (and *last_ms set to now) if a warning last given at
 * *last_ms may be given again, at most once per REP_WARN_EVERY_MS. */
int
rep_warn_due(uint64_t *last_ms)
{
	uint64_t now = util_now_ms();

	if (now - *last_ms < REP_WARN_EVERY_MS)
		return 0;
	*last_ms = now;
	return 1;
}

static void
rep_db_event(void *arg, u_int32_t event, void *info)
{
	struct rep *r = arg;
	int master = DB_EID_INVALID;

	pthread_mutex_lock(&r->mu);
	switch (event) {
	case DB_EVENT_REP_NEWMASTER:
		if (info != NULL)
			master = r->master_eid = *(int *)info;
		break;
	case DB_EVENT_REP_MASTER:
		r->master_eid = r->self_eid;
		break;
	case DB_EVENT_REP_STARTUPDONE:
		r->startup_done = 1;
		r->startup_pending = 1;
		pthread_cond_signal(&r->q_cv);
		break;
	}
	pthread_mutex_unlock(&r->mu);

	/* dbenv.c already logged the line */
	rep_event(r, -1, "get BDB event %s", dbenv_event_name(event));
	switch (event) {
	case DB_EVENT_REP_NEWMASTER:
		if (master != r->self_eid)
			rep_event(r, LOG_LVL_INFO, "the primary is peer %d %s",
			    master, rep_peer_addr(r, master));
		rep_update_readonly(r);
		break;
	case DB_EVENT_REP_DUPMASTER:
		rep_event(r, LOG_LVL_ERR, "two primaries: another node also acts "
		    "as primary; hasvr must demote one (the diverged history of "
		    "the demoted one is preserved)");
		break;
	}
}

/* (Re)announces this node to the group in its current role: a client asks
 * the primary for what it misses. Called when a peer's link comes up and
 * when database replication is enabled again. */
void
rep_announce(struct rep *r)
{
	uint32_t follow;
	int role, ret;

	pthread_mutex_lock(&r->role_mu);
	pthread_mutex_lock(&r->mu);
	role = r->role;
	follow = r->follow;
	pthread_mutex_unlock(&r->mu);
	if (role == HA_ROLE_SECONDARY && follow != HA_PRIMARY_NONE &&
	    __atomic_load_n(&r->sync_on, __ATOMIC_ACQUIRE) &&
	    (ret = r->env->rep_start(r->env, NULL, DB_REP_CLIENT)) != 0)
		log_warnx("replication: restarting as a client: %s",
		    db_strerror(ret));
	pthread_mutex_unlock(&r->role_mu);
}

/* ---- the TLS transport (reptransport.c) -------------------------------- */

static void *
rep_tls_start(const struct rt_opts *o, char *err, size_t errlen)
{
	return rt_start(o, err, errlen);
}

static void
rep_tls_stop(void *t)
{
	rt_stop(t);
}

static int
rep_tls_send(void *t, int eid, const struct rt_msg *m)
{
	return rt_send(t, eid, m);
}

static int
rep_tls_peer_up(void *t, int eid)
{
	return rt_peer_up(t, eid);
}

static int
rep_tls_peer_stats(void *t, int eid, struct rt_stats *st)
{
	return rt_peer_stats(t, eid, st);
}

const struct rep_transport_ops rep_transport_tls = {
	.start = rep_tls_start,
	.stop = rep_tls_stop,
	.send = rep_tls_send,
	.peer_up = rep_tls_peer_up,
	.peer_stats = rep_tls_peer_stats,
};

/* ---- the API ---------------------------------------------------------- */

/* The teardown shared by a failed rep_start and rep_stop. */
static void
rep_free(struct rep *r)
{
	rep_div_free(r->div);
	pthread_cond_destroy(&r->ack_cv);
	pthread_condattr_destroy(&r->cattr);
	pthread_cond_destroy(&r->q_cv);
	pthread_cond_destroy(&r->space_cv);
	pthread_mutex_destroy(&r->mu);
	pthread_mutex_destroy(&r->role_mu);
	pthread_mutex_destroy(&r->sink_mu);
	pthread_mutex_destroy(&r->readonly_mu);
	free(r->ring);
	free(r);
}

struct rep *
rep_start_transport(const struct rep_transport_ops *tops, struct store *s,
    const struct hacfg *h, const char *xdb_dir, const char *build, char *err,
    size_t errlen)
{
	struct rt_opts o;
	struct rep *r;
	pthread_condattr_t ca;
	int i, ret;

	if (s->env.env == NULL || !s->env.opts.replication) {
		snprintf(err, errlen, "the database was not opened for replication");
		return NULL;
	}
	if (h->self < 0 || h->self >= h->nnodes) {
		snprintf(err, errlen, "highAvail.myAddr is not one of the nodes");
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->ring = calloc(REP_RING, sizeof(*r->ring))) == NULL) {
		free(r);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->s = s;
	r->env = s->env.env;
	r->tops = tops;
	r->self_eid = h->nodes[h->self].eid;
	util_strlcpy(r->self_addr, h->nodes[h->self].addr, sizeof(r->self_addr));
	r->dur = h->durability;
	r->ack_timeout_ms = h->ack_timeout_ms > 0 ? h->ack_timeout_ms : 1000;
	util_strlcpy(r->xdb_dir, xdb_dir, sizeof(r->xdb_dir));
	/* Not in xdb/init: Berkeley DB owns that directory and would try to
	 * read (and replicate) any file it finds there. */
	snprintf(r->lastrole_path, sizeof(r->lastrole_path), "%s/lastRole",
	    xdb_dir);
	r->role = HA_ROLE_STARTING;
	r->master_eid = DB_EID_INVALID;
	r->follow = HA_PRIMARY_NONE;
	r->sync_on = 1;
	for (i = 0; i < h->nnodes; i++) {
		if (i == h->self)
			continue;
		r->peers[r->npeers].eid = h->nodes[i].eid;
		util_strlcpy(r->peers[r->npeers].addr, h->nodes[i].addr,
		    sizeof(r->peers[0].addr));
		r->npeers++;
	}
	pthread_mutex_init(&r->role_mu, NULL);
	pthread_mutex_init(&r->mu, NULL);
	pthread_mutex_init(&r->sink_mu, NULL);
	pthread_mutex_init(&r->readonly_mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_condattr_init(&r->cattr);
	pthread_condattr_setclock(&r->cattr, CLOCK_MONOTONIC);
	pthread_cond_init(&r->ack_cv, &ca);
	pthread_cond_init(&r->q_cv, &ca);
	pthread_cond_init(&r->space_cv, &ca);
	pthread_condattr_destroy(&ca);

	/* writes wait for a role from hasvr */
	store_set_readonly(s, "no role yet: waiting for hasvr");
	if (dbenv_set_rep(&s->env, r->self_eid, rep_send, rep_db_event, r, err,
	    errlen) == -1)
		goto fail;
	/* Every mode: one fsync per group of commits on each side (rep.h).
	 * A commit made with a sync flush marks its log record so that every
	 * secondary must fsync it alone; committing without and flushing
	 * right after (rep_commit_wait) keeps the primary just as durable and
	 * lets the secondaries flush once per batch. In async mode this took
	 * the secondary from one fsync per commit (falling ever further
	 * behind, and competing for the disk) to one per batch. */
	if ((ret = r->env->set_flags(r->env, DB_TXN_NOSYNC, 1)) != 0) {
		snprintf(err, errlen, "cannot set DB_TXN_NOSYNC: %s",
		    db_strerror(ret));
		goto fail_hooks;
	}
	store_set_commit_hook(s, rep_commit_hook, r, 1);
	(void)store_db_ready(s, 0, err, errlen);

	/* An old primary about to sync as a client may be rolled back: keep
	 * what it has before anything can reach it. */
	r->was_primary = rep_read_lastrole(r);
	if (r->was_primary)
		rep_div_prepare(r);

	memset(&o, 0, sizeof(o));
	o.self_eid = r->self_eid;
	o.self_addr = r->self_addr;
	o.port = h->replication_port;
	for (i = 0; i < r->npeers && i < (int)(sizeof(o.peers) /
	    sizeof(o.peers[0])); i++) {
		o.peers[i].eid = r->peers[i].eid;
		util_strlcpy(o.peers[i].addr, r->peers[i].addr,
		    sizeof(o.peers[i].addr));
	}
	o.npeers = i;
	o.secret = h->hmac_key;
	o.tls_ca = h->tls_ca;
	o.tls_cert = h->tls_cert;
	o.tls_key = h->tls_key;
	o.build = build;
	o.max_frame = RT_DEFAULT_MAX_FRAME;
	o.queue_bytes = 32u * 1024 * 1024;
	o.send_timeout_ms = 5000;
	o.bandwidth = h->bandwidth;
	o.on_message = rep_on_message;
	o.on_peer = rep_on_peer;
	o.on_batch = rep_on_batch;
	o.arg = r;
	if ((r->tp = tops->start(&o, err, errlen)) == NULL)
		goto fail_hooks;

	/* Berkeley DB replication itself starts with the first role from
	 * hasvr (rep_set_role): until then this node neither follows a
	 * primary nor logs DB_EVENT_REP_CLIENT, which an admin would read as
	 * "this node was told to be secondary". */
	if ((ret = pthread_create(&r->apply_thr, NULL, rep_apply_main, r)) != 0) {
		snprintf(err, errlen, "cannot start the replication apply "
		    "thread: %s", strerror(ret));
		goto fail_rt;
	}
	r->apply_running = 1;
	if (rep_stall_start(r, err, errlen) != 0)
		goto fail_apply;
	log_info("replication ready, waiting for a role from hasvr (eid %d, "
	    "%s, port %d, durability %s, ackTimeout %lldms, %d peer%s)",
	    r->self_eid,
	    r->self_addr, h->replication_port, rep_dur_name(r->dur),
	    r->ack_timeout_ms, r->npeers, r->npeers == 1 ? "" : "s");
	return r;

fail_apply:
	pthread_mutex_lock(&r->mu);
	r->stop = 1;
	pthread_cond_broadcast(&r->q_cv);
	pthread_cond_broadcast(&r->space_cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->apply_thr, NULL);
	r->apply_running = 0;
fail_rt:
	/* detach first: nothing may send through a stopped transport */
	(void)dbenv_set_rep(&s->env, 0, NULL, NULL, NULL, (char[8]){0}, 8);
	tops->stop(r->tp);
	r->tp = NULL;
fail_hooks:
	(void)dbenv_set_rep(&s->env, 0, NULL, NULL, NULL, (char[8]){0}, 8);
fail:
	store_set_commit_hook(s, NULL, NULL, 0);
	rep_free(r);
	return NULL;
}

struct rep *
rep_start(struct store *s, const struct hacfg *h, const char *xdb_dir,
    const char *build, char *err, size_t errlen)
{
	return rep_start_transport(&rep_transport_tls, s, h, xdb_dir, build,
	    err, errlen);
}

void
rep_stop(struct rep *r)
{
	if (r == NULL)
		return;
	/* committers waiting for acks return first (the client service is
	 * stopped before, so no new one comes) */
	store_set_commit_hook(r->s, NULL, NULL, 0);
	pthread_mutex_lock(&r->mu);
	r->stopping = 1;
	rep_wake(r);
	while (r->waiters > 0)
		pthread_cond_wait(&r->ack_cv, &r->mu);
	pthread_mutex_unlock(&r->mu);

	pthread_mutex_lock(&r->mu);
	r->stop = 1;
	pthread_cond_broadcast(&r->q_cv);
	pthread_cond_broadcast(&r->space_cv);
	pthread_mutex_unlock(&r->mu);
	if (r->apply_running)
		pthread_join(r->apply_thr, NULL);
	rep_stall_stop(r);
	/* no send may reach the transport once it is stopped */
	(void)dbenv_set_rep(&r->s->env, 0, NULL, NULL, NULL, (char[8]){0}, 8);
	r->tops->stop(r->tp);
	rep_queue_free(r);
	if (r->div != NULL)
		log_info("replication stopped before the divergence check; this "
		    "node's old database stays preserved in %s", r->div->dir);
	rep_free(r);
}

/* "peer 2 127.0.0.2", "any node acting as master", "no node yet". */
static void
rep_follow_name(struct rep *r, uint32_t follow, char *buf, size_t len)
{
	if (follow == HA_PRIMARY_ANY)
		snprintf(buf, len, "any node acting as master");
	else if (follow == HA_PRIMARY_NONE)
		snprintf(buf, len, "no node yet");
	else
		snprintf(buf, len, "peer %u %s", follow,
		    rep_peer_addr(r, (int)follow));
}

int
rep_set_role(struct rep *r, int role, uint32_t epoch, uint32_t primary,
    char *err, size_t errlen)
{
	DB_LOG_STAT *ls = NULL;
	DB_LSN end;
	char who[96], why[48];
	int old, i, ret, rc, presume;
	uint32_t was_follow;

	if (role != HA_ROLE_PRIMARY && role != HA_ROLE_SECONDARY &&
	    role != HA_ROLE_STARTING) {
		snprintf(err, errlen, "unknown role %d", role);
		return XE_BADREQ;
	}
	if (role == HA_ROLE_SECONDARY && primary != HA_PRIMARY_NONE &&
	    primary != HA_PRIMARY_ANY && (primary == (uint32_t)r->self_eid ||
	    rep_peer_find(r, (int)primary) == NULL)) {
		snprintf(err, errlen, "primary eid %u is not a peer of this "
		    "node", primary);
		return XE_BADREQ;
	}
	if (role == HA_ROLE_PRIMARY)
		primary = HA_PRIMARY_NONE;
	pthread_mutex_lock(&r->role_mu);
	pthread_mutex_lock(&r->mu);
	old = r->role;
	was_follow = r->follow;
	pthread_mutex_unlock(&r->mu);
	if (old == role && (role != HA_ROLE_SECONDARY || was_follow == primary)) {
		pthread_mutex_lock(&r->mu);
		r->epoch = epoch;
		pthread_mutex_unlock(&r->mu);
		pthread_mutex_unlock(&r->role_mu);
		return 0;
	}
	if (old == role) {
		/* a secondary told to follow another primary: take only its
		 * messages from now on, and ask it for what is missing */
		pthread_mutex_lock(&r->mu);
		r->epoch = epoch;
		r->follow = primary;
		r->master_eid = DB_EID_INVALID;
		pthread_mutex_unlock(&r->mu);
		rep_update_readonly(r);
		/* the new primary is followed from now on; the announcement
		 * only hurries the sync-up (a full disk can refuse it, then
		 * rep_retry_after_fault announces again) */
		if (primary != HA_PRIMARY_NONE && (ret = r->env->rep_start(r->env,
		    NULL, DB_REP_CLIENT)) != 0)
			log_warnx("replication: cannot announce this node to its "
			    "new primary: %s; it asks again later",
			    db_strerror(ret));
		pthread_mutex_unlock(&r->role_mu);
		rep_follow_name(r, primary, who, sizeof(who));
		rep_event(r, LOG_LVL_INFO, "following %s (epoch %u)", who, epoch);
		return 0;
	}

	if (role == HA_ROLE_PRIMARY) {
		/* a pending divergence check is settled before this node's log
		 * becomes the reference */
		rep_div_check(r, "at promotion");
		if ((ret = r->env->rep_start(r->env, NULL, DB_REP_MASTER)) != 0) {
			snprintf(err, errlen, "cannot become the replication "
			    "master: %s", db_strerror(ret));
			pthread_mutex_unlock(&r->role_mu);
			return XE_DB;
		}
		if ((rc = store_db_ready(r->s, 1, err, errlen)) != 0) {
			pthread_mutex_unlock(&r->role_mu);
			return rc;
		}
		memset(&end, 0, sizeof(end));
		if (r->env->log_stat(r->env, &ls, 0) == 0) {
			end.file = ls->st_cur_file;
			end.offset = ls->st_cur_offset;
			free(ls);
		}
		pthread_mutex_lock(&r->mu);
		r->role = HA_ROLE_PRIMARY;
		r->epoch = epoch;
		r->follow = HA_PRIMARY_NONE;
		r->was_primary = 1;
		r->master_eid = r->self_eid;
		/* Every peer has to show it has all this node's log. In sync
		 * and strict modes a connected peer is waited for from the
		 * first commit on — it was in sync with the old primary, or
		 * ackTimeout marks it dirty — rather than left out until it
		 * catches up: writes acknowledged in between would live on
		 * this node alone. */
		presume = r->dur != HA_ASYNC && r->sync_on;
		for (i = 0; i < r->npeers; i++) {
			r->peers[i].insync = presume && r->peers[i].up;
			r->peers[i].target = end;
			/* in sync once it has all this node's log */
			r->peers[i].must = end;
			r->peers[i].was_dirty = !r->peers[i].insync;
			memset(&r->peers[i].acked, 0, sizeof(r->peers[i].acked));
			r->peers[i].cursor = r->commits;
		}
		if (rep_lsn_cmp(&end, &r->last_perm) > 0)
			r->last_perm = end;
		rep_wake(r);
		pthread_mutex_unlock(&r->mu);
		(void)rep_write_lastrole(r, role, epoch);
		rep_update_readonly(r);
	} else {
		/* stop writes before the role changes under them */
		pthread_mutex_lock(&r->mu);
		r->role = role;
		r->epoch = epoch;
		r->follow = primary;
		/* a client that already synced stays synced; an old primary
		 * has to sync up with the new one */
		if (old == HA_ROLE_PRIMARY) {
			r->startup_done = 0;
			r->master_eid = DB_EID_INVALID;
		}
		rep_wake(r);
		pthread_mutex_unlock(&r->mu);
		rep_update_readonly(r);
		pthread_mutex_lock(&r->mu);
		i = old == HA_ROLE_PRIMARY || r->was_primary;
		pthread_mutex_unlock(&r->mu);
		if (i)
			rep_div_prepare(r);
		if ((role == HA_ROLE_SECONDARY || old == HA_ROLE_PRIMARY) &&
		    (ret = r->env->rep_start(r->env, NULL, DB_REP_CLIENT)) != 0) {
			snprintf(err, errlen, "cannot become a replication client: "
			    "%s", db_strerror(ret));
			pthread_mutex_unlock(&r->role_mu);
			return XE_DB;
		}
		(void)store_db_ready(r->s, 0, err, errlen);
		(void)rep_write_lastrole(r, role, epoch);
	}
	pthread_mutex_unlock(&r->role_mu);
	snprintf(why, sizeof(why), "hasvr (epoch %u)", epoch);
	rep_event(r, LOG_LVL_NOTICE, HA_ROLE_CHANGE_FMT, ha_role_name(old),
	    ha_role_name(role), why);
	if (role == HA_ROLE_SECONDARY) {
		rep_follow_name(r, primary, who, sizeof(who));
		rep_event(r, LOG_LVL_INFO, "following %s (epoch %u)", who, epoch);
	}
	return 0;
}

int
rep_set_sync(struct rep *r, int enable, char *err, size_t errlen)
{
	char changes[HACFG_MAX_NODES][256];
	int was, role, ret, i, n = 0;

	pthread_mutex_lock(&r->role_mu);
	pthread_mutex_lock(&r->mu);
	was = r->sync_on;
	__atomic_store_n(&r->sync_on, enable != 0, __ATOMIC_RELEASE);
	role = r->role;
	/* a peer that stops getting the database is not in sync any more */
	if (!enable && role == HA_ROLE_PRIMARY)
		for (i = 0; i < r->npeers; i++)
			if (rep_peer_dirty(r, &r->peers[i], "database replication "
			    "disabled", changes[n], sizeof(changes[0])))
				n++;
	rep_wake(r);
	pthread_mutex_unlock(&r->mu);
	for (i = 0; i < n; i++)
		rep_event(r, LOG_LVL_WARN, "%s", changes[i]);
	if (was == (enable != 0)) {
		pthread_mutex_unlock(&r->role_mu);
		return 0;
	}
	if (enable && role != HA_ROLE_STARTING) {
		/* Berkeley DB's own catch-up: the master announces itself, a
		 * client asks for what it misses */
		ret = r->env->rep_start(r->env, NULL, role == HA_ROLE_PRIMARY ?
		    DB_REP_MASTER : DB_REP_CLIENT);
		if (ret != 0) {
			snprintf(err, errlen, "database replication enabled, but "
			    "restarting it failed: %s", db_strerror(ret));
			pthread_mutex_unlock(&r->role_mu);
			return XE_DB;
		}
	}
	pthread_mutex_unlock(&r->role_mu);
	rep_event(r, LOG_LVL_NOTICE, "database replication %s", enable ?
	    "enabled" : "disabled");
	return 0;
}

void
rep_set_event_sink(struct rep *r, void (*sink)(const char *line, void *arg),
    void *arg)
{
	pthread_mutex_lock(&r->sink_mu);
	r->sink = sink;
	r->sink_arg = arg;
	pthread_mutex_unlock(&r->sink_mu);
}
