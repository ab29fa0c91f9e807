/* arbiter.c — the etcd arbiter's thread (see arbiter.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "arbiter.h"
#include "deadline.h"
#include "etcd.h"
#include "harole.h"
#include "log.h"
#include "util.h"

struct arbiter {
	pthread_t thr;
	int running;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_condattr_t cattr;

	/* under mu */
	int stop;
	int want;
	int kick;                   /* a round now */
	unsigned sync_want;         /* arbiter_want_sync */
	struct arbiter_member me;
	struct arbiter_view view;

	/* the thread's own */
	int notify_fd;
	struct etcd *e;
	int self_eid;
	char self_addr[64];
	char leader_key[300], member_key[300], sync_key[300], self_val[16];
	int sync_on;                /* sync or strict durability */
	int rec_present, rec_leader;
	unsigned rec_mask;
	int sync_written;           /* the record this term is ours */
	unsigned sync_mask;
	int ttl_s;
	uint64_t period_ms;
	int64_t lease;
	uint64_t lease_until;
	int leader_eid, held;
	int was_reachable;
};

static uint64_t
safe_end(uint64_t t0, int ttl_s)
{
	uint64_t ms = (uint64_t)((double)ttl_s * 1000.0 * (1.0 - ARBITER_DRIFT));

	return ms > ARBITER_MARGIN_MS ? t0 + ms - ARBITER_MARGIN_MS : t0;
}

/* Renews the lease, or grants a new one; 0, or -1 (etcd unreachable or
 * refusing: error filled). */
static int
renew(struct arbiter *a, char *error, size_t len)
{
	uint64_t t0 = util_now_ms();
	int rc, ttl = 0;

	if (a->lease != 0) {
		rc = etcd_lease_keepalive(a->e, a->lease, &ttl);
		if (rc == ETCD_OK) {
			a->lease_until = safe_end(t0, ttl);
			return 0;
		}
		if (rc != ETCD_NOLEASE) {
			snprintf(error, len, "renewing the lease: %s",
			    etcd_error(a->e));
			return -1;
		}
		log_warnx("arbiter: this node's etcd lease %llx expired; "
		    "taking a new one", (unsigned long long)a->lease);
		a->lease = 0;
		a->lease_until = 0;
		a->held = 0;
	}
	t0 = util_now_ms();
	if ((rc = etcd_lease_grant(a->e, a->ttl_s, &a->lease, &ttl)) != ETCD_OK) {
		snprintf(error, len, "taking a lease: %s", etcd_error(a->e));
		a->lease = 0;
		return -1;
	}
	a->lease_until = safe_end(t0, ttl);
	pthread_mutex_lock(&a->mu);
	a->view.ttl_s = ttl;
	pthread_mutex_unlock(&a->mu);
	return 0;
}

static void
put_member(struct arbiter *a, const struct arbiter_member *m)
{
	char lsn[32], *s;
	json_t *o;

	snprintf(lsn, sizeof(lsn), "%u/%u", m->lsn_file, m->lsn_offset);
	o = json_pack("{s:i,s:s,s:s,s:I,s:I,s:s}", "eid", a->self_eid,
	    "addr", a->self_addr, "role", ha_role_name((enum ha_role)m->role),
	    "epoch", (json_int_t)m->epoch, "gen", (json_int_t)m->gen,
	    "lsn", lsn);
	if (o == NULL)
		return;
	if ((s = json_dumps(o, JSON_COMPACT)) != NULL) {
		(void)etcd_put(a->e, a->member_key, s, strlen(s), a->lease);
		free(s);
	}
	json_decref(o);
}

/* Reads P/sync into rec_*; 0, or -1 (error filled). A record that does
 * not parse counts as listing nobody. */
static int
read_sync(struct arbiter *a, char *error, size_t len)
{
	struct etcd_kv kv;
	json_error_t je;
	json_t *o, *arr, *v;
	size_t i;
	int rc;

	memset(&kv, 0, sizeof(kv));
	rc = etcd_get(a->e, a->sync_key, &kv);
	if (rc == ETCD_NOTFOUND) {
		a->rec_present = 0;
		a->rec_leader = 0;
		a->rec_mask = 0;
		return 0;
	}
	if (rc != ETCD_OK) {
		snprintf(error, len, "reading the sync record: %s",
		    etcd_error(a->e));
		return -1;
	}
	a->rec_present = 1;
	a->rec_leader = 0;
	a->rec_mask = 0;
	if ((o = json_loadb(kv.value, kv.len, 0, &je)) != NULL) {
		json_t *l = json_object_get(o, "leader");

		if (json_is_integer(l))
			a->rec_leader = (int)json_integer_value(l);
		arr = json_object_get(o, "sync");
		json_array_foreach(arr, i, v)
			if (json_is_integer(v))
				a->rec_mask |= ha_eid_bit(json_integer_value(v));
		json_decref(o);
	}
	etcd_kv_clear(&kv);
	return 0;
}

/* As leader: P/sync lists mask; 0, or -1 (error filled). */
static int
write_sync(struct arbiter *a, unsigned mask, char *error, size_t len)
{
	json_t *o, *arr;
	char *s;
	int i, rc;

	arr = json_array();
	for (i = 1; i <= 8; i++)
		if (mask & ha_eid_bit(i))
			json_array_append_new(arr, json_integer(i));
	o = json_pack("{s:i,s:o}", "leader", a->self_eid, "sync", arr);
	if (o == NULL || (s = json_dumps(o, JSON_COMPACT)) == NULL) {
		json_decref(o);
		snprintf(error, len, "writing the sync record: out of memory");
		return -1;
	}
	rc = etcd_put(a->e, a->sync_key, s, strlen(s), 0);
	free(s);
	json_decref(o);
	if (rc != ETCD_OK) {
		snprintf(error, len, "writing the sync record: %s",
		    etcd_error(a->e));
		return -1;
	}
	if (!a->sync_written || a->sync_mask != mask)
		log_notice("arbiter: synchronous-standby record %s lists 0x%02x",
		    a->sync_key, mask);
	a->rec_present = 1;
	a->rec_leader = a->self_eid;
	a->rec_mask = mask;
	a->sync_written = 1;
	a->sync_mask = mask;
	return 0;
}

/* May this node take a free leader key? (arbiter.h, P/sync) */
static int
eligible(const struct arbiter *a)
{
	return !a->sync_on || !a->rec_present ||
	    a->rec_leader == a->self_eid ||
	    (a->rec_mask & ha_eid_bit(a->self_eid)) != 0;
}

static int
eid_of(const struct etcd_kv *kv)
{
	char *end;
	long v = strtol(kv->value, &end, 10);

	return end != kv->value && *end == '\0' && v > 0 && v < 1000 ?
	    (int)v : -1;
}

/* Reads the leader key and takes or releases it as the hub wants; 0, or
 * -1 with error filled. */
static int
leader_round(struct arbiter *a, int want, char *error, size_t len)
{
	struct etcd_kv kv, cur;
	size_t vlen = strlen(a->self_val);
	int rc;

	memset(&kv, 0, sizeof(kv));
	memset(&cur, 0, sizeof(cur));
	rc = etcd_get(a->e, a->leader_key, &kv);
	if (rc == ETCD_NOTFOUND) {
		a->leader_eid = 0;
		a->held = 0;
		if (!want)
			return 0;
		if (!eligible(a)) {
			log_debug("arbiter: the leader key is free, but the sync "
			    "record does not list this node");
			return 0;
		}
		rc = etcd_create(a->e, a->leader_key, a->self_val, vlen,
		    a->lease, &cur);
		if (rc == ETCD_OK) {
			a->leader_eid = a->self_eid;
			a->held = 1;
			log_notice("arbiter: took the leader key %s (lease %llx)",
			    a->leader_key, (unsigned long long)a->lease);
			return 0;
		}
		if (rc == ETCD_FAILED) {
			/* someone was faster — or our own write, retried */
			a->leader_eid = eid_of(&cur);
			a->held = cur.lease == a->lease;
			etcd_kv_clear(&cur);
			return 0;
		}
		snprintf(error, len, "taking the leader key: %s",
		    etcd_error(a->e));
		a->leader_eid = -1;
		return -1;
	}
	if (rc != ETCD_OK) {
		snprintf(error, len, "reading the leader key: %s",
		    etcd_error(a->e));
		a->leader_eid = -1;
		a->held = 0;
		return -1;
	}
	a->leader_eid = eid_of(&kv);
	a->held = a->leader_eid == a->self_eid && kv.lease == a->lease;
	if (a->leader_eid == a->self_eid && !want) {
		rc = etcd_delete_if(a->e, a->leader_key, a->self_val, vlen);
		if (rc == ETCD_OK || rc == ETCD_NOTFOUND) {
			log_notice("arbiter: released the leader key %s",
			    a->leader_key);
			a->leader_eid = 0;
			a->held = 0;
		}
	} else if (a->leader_eid == a->self_eid && !a->held) {
		/* ours from before a restart, under the old lease: bind it to
		 * this one (the same node, so nobody else's) */
		rc = etcd_cas(a->e, a->leader_key, a->self_val, vlen,
		    a->self_val, vlen, a->lease, NULL);
		if (rc == ETCD_OK) {
			a->held = 1;
			log_notice("arbiter: holds the leader key %s again "
			    "(lease %llx)", a->leader_key,
			    (unsigned long long)a->lease);
		}
	}
	etcd_kv_clear(&kv);
	return 0;
}

static void
notify(struct arbiter *a)
{
	char c = 1;

	if (a->notify_fd >= 0 && write(a->notify_fd, &c, 1) == -1 &&
	    errno != EAGAIN)
		log_debug("arbiter: notify: %s", strerror(errno));
}

static void
round_once(struct arbiter *a)
{
	struct arbiter_member me;
	struct arbiter_view v;
	char error[512];
	unsigned sync_want;
	int want, ok, changed, held_before = a->held;

	pthread_mutex_lock(&a->mu);
	want = a->want;
	me = a->me;
	sync_want = a->sync_want;
	pthread_mutex_unlock(&a->mu);

	error[0] = '\0';
	ok = renew(a, error, sizeof(error)) == 0;
	if (ok) {
		put_member(a, &me);
		ok = (!a->sync_on || read_sync(a, error, sizeof(error)) == 0) &&
		    leader_round(a, want, error, sizeof(error)) == 0;
	}
	if (!a->held || !held_before)
		a->sync_written = 0;        /* a new term writes it anew */
	else if (a->sync_written && (a->rec_leader != a->self_eid ||
	    a->rec_mask != a->sync_mask))
		a->sync_written = 0;        /* someone else wrote it: repair */
	if (ok && a->sync_on && a->held && want &&
	    (!a->sync_written || a->sync_mask != sync_want)) {
		/* a term's first record lists only who the last one did
		 * (they hold every write acknowledged so far) */
		unsigned mask = sync_want;

		if (!held_before)
			mask &= a->rec_present ? a->rec_mask : 0;
		/* only while our lease (so the key) is certainly ours */
		if (util_now_ms() < a->lease_until)
			ok = write_sync(a, mask, error, sizeof(error)) == 0;
	}
	if (!ok && a->was_reachable)
		log_warnx("arbiter: etcd: %s", error);
	else if (ok && !a->was_reachable)
		log_notice("arbiter: etcd answers (%s)", etcd_endpoint(a->e));
	a->was_reachable = ok;

	pthread_mutex_lock(&a->mu);
	v = a->view;
	a->view.reachable = ok;
	/* held only ever drops on what this round learned (a lease that
	 * was replaced holds no key), whether or not the round ended well */
	a->view.held = a->held;
	if (ok)
		a->view.leader_eid = a->leader_eid;
	else if (a->leader_eid != a->self_eid)
		a->view.leader_eid = -1;
	/* a lease renewed is good until its safe end; one not renewed only
	 * until the end it had */
	a->view.valid_until = a->lease != 0 ? a->lease_until : 0;
	a->view.at_ms = util_now_ms();
	a->view.rounds++;
	a->view.sync_on = a->sync_on;
	a->view.rec_present = a->rec_present;
	a->view.rec_leader = a->rec_leader;
	a->view.rec_mask = a->rec_mask;
	a->view.eligible = eligible(a);
	a->view.sync_written = a->sync_written && a->held;
	a->view.sync_mask = a->sync_mask;
	util_strlcpy(a->view.endpoint, etcd_endpoint(a->e),
	    sizeof(a->view.endpoint));
	util_strlcpy(a->view.error, error, sizeof(a->view.error));
	/* printable ASCII only: it goes into haStatus's JSON */
	for (char *c = a->view.error; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
			*c = '?';
	changed = v.reachable != a->view.reachable ||
	    v.leader_eid != a->view.leader_eid || v.held != a->view.held ||
	    v.sync_written != a->view.sync_written ||
	    v.sync_mask != a->view.sync_mask ||
	    (a->view.held && v.valid_until != a->view.valid_until);
	pthread_mutex_unlock(&a->mu);
	if (changed)
		notify(a);
}

static void *
run(void *arg)
{
	struct arbiter *a = arg;
	struct timespec ts;
	uint64_t next;

	for (;;) {
		round_once(a);
		next = util_now_ms() + a->period_ms;
		pthread_mutex_lock(&a->mu);
		while (!a->stop && !a->kick && util_now_ms() < next) {
			deadline_in_ms(&ts, CLOCK_MONOTONIC, next - util_now_ms());
			(void)pthread_cond_timedwait(&a->cv, &a->mu, &ts);
		}
		a->kick = 0;
		if (a->stop) {
			pthread_mutex_unlock(&a->mu);
			break;
		}
		pthread_mutex_unlock(&a->mu);
	}
	/* leaving: release what we hold, so nobody waits for the TTL */
	if (a->lease != 0 && etcd_lease_revoke(a->e, a->lease) == ETCD_OK)
		log_info("arbiter: lease revoked (leader and member keys "
		    "released)");
	return NULL;
}

struct arbiter *
arbiter_start(const struct hacfg *hc, int notify_fd, char *err, size_t errlen)
{
	const char *eps[HACFG_MAX_ETCD];
	struct etcd_opts o;
	struct arbiter *a;
	int i, rc;

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (i = 0; i < hc->netcd; i++)
		eps[i] = hc->etcd[i];
	memset(&o, 0, sizeof(o));
	o.endpoints = eps;
	o.n_endpoints = hc->netcd;
	o.cacert = hc->etcd_ca;
	o.cert = hc->etcd_cert;
	o.key = hc->etcd_key;
	o.source = hc->etcd_source;
	a->ttl_s = (int)(hc->leader_ttl_ms / 1000);
	a->period_ms = (uint64_t)hc->leader_ttl_ms / 3;
	/* a round must end well inside a period, whichever endpoint is dead */
	o.timeout_ms = (long)(a->period_ms / 2);
	if ((a->e = etcd_new(&o, err, errlen)) == NULL) {
		free(a);
		return NULL;
	}
	a->notify_fd = notify_fd;
	a->self_eid = hc->nodes[hc->self].eid;
	util_strlcpy(a->self_addr, hc->nodes[hc->self].addr,
	    sizeof(a->self_addr));
	snprintf(a->leader_key, sizeof(a->leader_key), "%s/leader",
	    hc->etcd_prefix);
	snprintf(a->member_key, sizeof(a->member_key), "%s/members/%d",
	    hc->etcd_prefix, a->self_eid);
	snprintf(a->sync_key, sizeof(a->sync_key), "%s/sync", hc->etcd_prefix);
	snprintf(a->self_val, sizeof(a->self_val), "%d", a->self_eid);
	a->sync_on = hc->durability != HA_ASYNC;
	a->view.leader_eid = -1;
	a->was_reachable = 1;       /* the first failure is logged */
	pthread_mutex_init(&a->mu, NULL);
	pthread_condattr_init(&a->cattr);
	pthread_condattr_setclock(&a->cattr, CLOCK_MONOTONIC);
	pthread_cond_init(&a->cv, &a->cattr);
	if ((rc = pthread_create(&a->thr, NULL, run, a)) != 0) {
		snprintf(err, errlen, "cannot start the arbiter thread: %s",
		    strerror(rc));
		etcd_free(a->e);
		pthread_cond_destroy(&a->cv);
		pthread_condattr_destroy(&a->cattr);
		pthread_mutex_destroy(&a->mu);
		free(a);
		return NULL;
	}
	a->running = 1;
	log_info("arbiter: etcd, %d endpoint%s, leader key %s, lease TTL %d s",
	    hc->netcd, hc->netcd == 1 ? "" : "s", a->leader_key, a->ttl_s);
	return a;
}

void
arbiter_stop(struct arbiter *a)
{
	if (a == NULL)
		return;
	pthread_mutex_lock(&a->mu);
	a->stop = 1;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
	if (a->running)
		pthread_join(a->thr, NULL);
	etcd_free(a->e);
	pthread_cond_destroy(&a->cv);
	pthread_condattr_destroy(&a->cattr);
	pthread_mutex_destroy(&a->mu);
	free(a);
}

void
arbiter_want_leader(struct arbiter *a, int want)
{
	pthread_mutex_lock(&a->mu);
	if (a->want != (want != 0)) {
		a->want = want != 0;
		a->kick = 1;
		pthread_cond_broadcast(&a->cv);
	}
	pthread_mutex_unlock(&a->mu);
}

void
arbiter_publish(struct arbiter *a, const struct arbiter_member *m)
{
	pthread_mutex_lock(&a->mu);
	a->me = *m;
	pthread_mutex_unlock(&a->mu);
}

void
arbiter_want_sync(struct arbiter *a, unsigned mask)
{
	pthread_mutex_lock(&a->mu);
	if (a->sync_want != mask) {
		a->sync_want = mask;
		a->kick = 1;
		pthread_cond_broadcast(&a->cv);
	}
	pthread_mutex_unlock(&a->mu);
}

void
arbiter_snapshot(struct arbiter *a, struct arbiter_view *out)
{
	pthread_mutex_lock(&a->mu);
	*out = a->view;
	pthread_mutex_unlock(&a->mu);
}

int
arbiter_view_holds(const struct arbiter_view *v, uint64_t now)
{
	return v->held && v->valid_until != 0 && now < v->valid_until;
}
