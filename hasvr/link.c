/* link.c — the ha-link thread (see link.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "halink.h"
#include "heartbeat.h"
#include "hlstate.h"
#include "link.h"
#include "log.h"
#include "util.h"

#define LINK_RETRY_MS 50         /* reconnect / failed request retry */
#define LINK_FAIL_RETRY_MS 500   /* a role guisvr refused */

struct link {
	pthread_t thr;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char path[108];
	int quit;
	int reset;

	/* wanted by the main thread */
	int want_role;
	uint32_t want_epoch;
	uint32_t want_primary;     /* a secondary's primary eid, 0 none */
	uint64_t want_no;
	int want_sync;             /* -1: never set */

	/* what this connection has applied */
	uint64_t sent_no;
	int sent_sync;

	struct link_state st;
};

static void
wait_ms(struct link *l, int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&l->cv, &l->mu, &ts);
}

int
link_dbstate(const struct link_state *st)
{
	if (!st->valid || st->state[0] == '\0')
		return HB_DB_UNKNOWN;
	if (strcmp(st->state, "in-sync") == 0)
		return HB_DB_INSYNC;
	if (strcmp(st->state, "alone") == 0)
		return HB_DB_ALONE;
	return HB_DB_DIRTY;
}

static struct role_lsn
role_lsn_of(struct hl_lsn l)
{
	struct role_lsn r = { l.file, l.offset };

	return r;
}

void
link_from_state(const struct hl_state *hs, struct link_state *st)
{
	const struct hl_peer *q;
	struct link_peer *p;
	int i;

	st->role = hs->role == HL_ROLE_STANDALONE ? HL_ROLE_NONE : hs->role;
	st->epoch = hs->epoch;
	st->gen = hs->gen;
	st->lsn = role_lsn_of(hs->lsn);
	st->startup_done = hs->startup_done;
	util_strlcpy(st->state, hs->dbstate == HL_DB_UNKNOWN ? "" :
	    hl_dbstate_name(hs->dbstate), sizeof(st->state));
	st->sync_on = hs->sync_on;
	st->follow = hs->follow == HL_PRIMARY_ANY ? -1 : (int)hs->follow;
	st->fault = hs->fault;
	st->fault_first_age_ms = hs->fault_first_age_ms;
	st->fault_last_age_ms = hs->fault_last_age_ms;
	util_strlcpy(st->fault_why, hs->fault_why, sizeof(st->fault_why));
	st->npeers = 0;
	for (i = 0; i < hs->npeers && i < LINK_MAX_PEERS; i++) {
		q = &hs->peers[i];
		p = &st->peers[st->npeers++];
		memset(p, 0, sizeof(*p));
		p->eid = (int)q->eid;
		util_strlcpy(p->addr, q->addr, sizeof(p->addr));
		p->up = q->up;
		p->lsn = role_lsn_of(q->lsn);
		p->acked = role_lsn_of(q->acked);
		p->behind_bytes = q->behind_bytes;
		p->behind_commits = q->behind_commits;
		p->insync = q->insync;
		p->auth_fail_age_ms = q->auth_failed ? (long long)q->auth_age_ms :
		    -1;
		util_strlcpy(p->auth_why, q->auth_why, sizeof(p->auth_why));
	}
}

/* One connection's life: send what is wanted, poll the state. Returns
 * when the connection fails or a reset/quit is asked (mutex held). */
static void
serve(struct link *l, struct hlc *h)
{
	struct link_state tmp;
	struct hl_state hs;
	char err[HASVR_ERRLEN];
	uint64_t no;
	int role, sync, rc;
	uint32_t epoch, primary;

	l->sent_no = 0;
	l->sent_sync = -1;
	while (!l->quit && !l->reset) {
		if (l->want_role != HL_ROLE_NONE && l->sent_no != l->want_no) {
			role = l->want_role;
			epoch = l->want_epoch;
			primary = l->want_primary;
			no = l->want_no;
			pthread_mutex_unlock(&l->mu);
			rc = halink_role(h, role, epoch, primary, err,
			    sizeof(err));
			pthread_mutex_lock(&l->mu);
			if (rc == -1)
				return;
			l->st.done_no = no;
			l->st.done_rc = rc;
			if (rc == 0) {
				l->sent_no = no;
				l->st.done_err[0] = '\0';
			} else {
				util_strlcpy(l->st.done_err, err,
				    sizeof(l->st.done_err));
				/* hasvr.c says it, rate-limited */
				log_debug("highAvailSvr refused role %s: %s",
				    halink_role_name(role), err);
				wait_ms(l, LINK_FAIL_RETRY_MS);
				/* retried while still wanted */
				continue;
			}
		}
		if (l->want_sync != -1 && l->sent_sync != l->want_sync) {
			sync = l->want_sync;
			pthread_mutex_unlock(&l->mu);
			rc = halink_sync(h, sync, err, sizeof(err));
			pthread_mutex_lock(&l->mu);
			if (rc == -1)
				return;
			if (rc != 0)
				log_warnx("highAvailSvr refused database sync %s: %s",
				    sync ? "on" : "off", err);
			l->sent_sync = sync;
		}
		pthread_mutex_unlock(&l->mu);
		rc = halink_state(h, &hs, err, sizeof(err));
		memset(&tmp, 0, sizeof(tmp));
		if (rc == 0)
			link_from_state(&hs, &tmp);
		else if (rc == -1)
			log_warnx("ha-link: cannot read guisvr's state: %s", err);
		pthread_mutex_lock(&l->mu);
		if (rc != 0)
			return;
		tmp.connected = 1;
		tmp.valid = 1;
		tmp.at_ms = util_now_ms();
		tmp.want_no = l->st.want_no;
		tmp.done_no = l->st.done_no;
		tmp.done_rc = l->st.done_rc;
		memcpy(tmp.done_err, l->st.done_err, sizeof(tmp.done_err));
		tmp.connects = l->st.connects;
		l->st = tmp;
		if (l->sent_no == l->want_no && l->sent_sync == l->want_sync)
			wait_ms(l, LINK_POLL_MS);
	}
}

static void *
link_main(void *arg)
{
	struct link *l = arg;
	struct hlc *h;
	char err[HASVR_ERRLEN];
	int logged = 0;

	pthread_mutex_lock(&l->mu);
	while (!l->quit) {
		l->reset = 0;
		pthread_mutex_unlock(&l->mu);
		h = halink_connect(l->path, err, sizeof(err));
		pthread_mutex_lock(&l->mu);
		if (h == NULL) {
			if (!logged)
				log_debug("ha-link: %s (waiting for guisvr)", err);
			logged = 1;
			wait_ms(l, LINK_RETRY_MS);
			continue;
		}
		logged = 0;
		l->st.connects++;
		l->st.connected = 1;
		log_info("connected to highAvailSvr ha-link %s", l->path);
		serve(l, h);
		l->st.connected = 0;
		l->st.valid = 0;
		pthread_mutex_unlock(&l->mu);
		halink_close(h);
		pthread_mutex_lock(&l->mu);
		if (!l->quit && !l->reset)
			log_info("ha-link to highAvailSvr closed");
		if (!l->quit)
			wait_ms(l, LINK_RETRY_MS);
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

struct link *
link_start(const char *path, char *err, size_t errlen)
{
	struct link *l;
	pthread_condattr_t ca;

	if ((l = calloc(1, sizeof(*l))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (strlen(path) >= sizeof(l->path)) {
		snprintf(err, errlen, "ha-link path too long: %s", path);
		free(l);
		return NULL;
	}
	util_strlcpy(l->path, path, sizeof(l->path));
	l->want_sync = -1;
	pthread_mutex_init(&l->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cv, &ca);
	pthread_condattr_destroy(&ca);
	if ((errno = pthread_create(&l->thr, NULL, link_main, l)) != 0) {
		snprintf(err, errlen, "cannot start the ha-link thread: %s",
		    strerror(errno));
		pthread_cond_destroy(&l->cv);
		pthread_mutex_destroy(&l->mu);
		free(l);
		return NULL;
	}
	return l;
}

void
link_stop(struct link *l)
{
	if (l == NULL)
		return;
	pthread_mutex_lock(&l->mu);
	l->quit = 1;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
	pthread_join(l->thr, NULL);
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

uint64_t
link_want_role(struct link *l, int role, uint32_t epoch, int primary_eid)
{
	uint64_t no;

	pthread_mutex_lock(&l->mu);
	l->want_role = role;
	l->want_epoch = epoch;
	l->want_primary = primary_eid > 0 ? (uint32_t)primary_eid :
	    HL_PRIMARY_NONE;
	no = ++l->want_no;
	l->st.want_no = no;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
	return no;
}

void
link_want_sync(struct link *l, int enable)
{
	pthread_mutex_lock(&l->mu);
	l->want_sync = enable != 0;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
}

void
link_reset(struct link *l)
{
	pthread_mutex_lock(&l->mu);
	l->reset = 1;
	l->st.valid = 0;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
}

void
link_snapshot(struct link *l, struct link_state *out)
{
	pthread_mutex_lock(&l->mu);
	*out = l->st;
	pthread_mutex_unlock(&l->mu);
}
