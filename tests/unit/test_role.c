/* test_role.c — hasvr's role decisions (hasvr/role.c) on simulated time.
 *
 * A small simulator plays the daemon: every step each running node hears
 * every node it is linked to (role_advertise -> role_peer_heard), gets its
 * database state and ping result, ticks and commits what it is told. Each
 * simulation logs to its own file, so every commit can be matched with
 * exactly one log line. */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "log.h"
#include "util.h"
#include "role.h"

#define DEAD    1000
#define WAIT    2000
#define STEP    100
#define MAXN    4

struct sim {
	int n;
	char *dir;
	char logpath[512];
	struct role_config cfg[MAXN];
	char path[MAXN][512];
	struct role_ctx *ctx[MAXN];
	int up[MAXN];                   /* process running */
	int link[MAXN][MAXN];           /* i hears j */
	int ping[MAXN];
	int build[MAXN];
	uint32_t gen[MAXN];
	struct role_lsn lsn[MAXN];
	int startup[MAXN];
	uint32_t view[MAXN][MAXN];      /* != 0: the LSN offset i believes j
					 * has (a view a heartbeat behind) */
	int unauth[MAXN][MAXN];         /* i gets j's datagrams, but cannot
					 * authenticate them */
	int max_primaries;              /* most primaries at once, so far */
	int dirty[MAXN];                /* its peers see it not in sync */
	uint64_t ping_sent[MAXN];       /* != 0: every check was sent then */
	const char *fault[MAXN];        /* role_local_fault */
	int commits;                    /* decisions applied */
	int refused_seen[MAXN];         /* a decision flagged sync_refused */
	struct role_decision last[MAXN];
	enum log_level saved_lvl;
};

static char *
slurp(const char *path)
{
	char err[512];

	return util_read_file(path, 1 << 20, NULL, err, sizeof(err));
}

static int
count_str(const char *s, const char *needle)
{
	int n = 0;

	if (s == NULL)
		return -1;
	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s += strlen(needle);
	}
	return n;
}

/* n nodes, eid i+1, preference i (node 0 is primaryAddr). */
static struct sim *
sim_new(int n)
{
	struct sim *s;
	struct log_opts o;
	char err[512];
	int i, j;

	s = calloc(1, sizeof(*s));
	CU_ASSERT_FATAL(s != NULL);
	s->n = n;
	s->dir = unit_tmpdir();
	snprintf(s->logpath, sizeof(s->logpath), "%s/ha.log", s->dir);
	s->saved_lvl = log_get_level();
	memset(&o, 0, sizeof(o));
	o.path = s->logpath;
	o.ident = "unit";
	o.level = LOG_LVL_INFO;
	CU_ASSERT_FATAL(log_open(&o, err, sizeof(err)) == 0);
	for (i = 0; i < n; i++) {
		snprintf(s->path[i], sizeof(s->path[i]), "%s/role.%d", s->dir,
		    i + 1);
		for (j = 0; j < n; j++) {
			s->cfg[i].nodes[j].eid = j + 1;
			s->cfg[i].nodes[j].pref = j < 2 ? j : 2;
			s->link[i][j] = i != j;
		}
		s->cfg[i].nnodes = n;
		s->cfg[i].self = i;
		s->cfg[i].dead_ms = DEAD;
		s->cfg[i].start_wait_ms = WAIT;
		s->cfg[i].state_path = s->path[i];
		s->ping[i] = 1;
		s->build[i] = 1;
		s->gen[i] = 1;
		s->lsn[i].file = 1;
		s->lsn[i].offset = 100;
		s->startup[i] = 1;
	}
	return s;
}

static void
sim_start(struct sim *s, int i, uint64_t now)
{
	char err[512];

	s->ctx[i] = role_new(&s->cfg[i], now, err, sizeof(err));
	if (s->ctx[i] == NULL)
		fprintf(stderr, "\n%s\n", err);
	CU_ASSERT_FATAL(s->ctx[i] != NULL);
	s->up[i] = 1;
}

static void
sim_kill(struct sim *s, int i)
{
	role_free(s->ctx[i]);
	s->ctx[i] = NULL;
	s->up[i] = 0;
}

/* Every running node hears its linked peers and learns its own state. */
static void
sim_feed(struct sim *s, uint64_t now)
{
	struct role_peer_info pi;
	char err[512];
	int i, j, k;

	for (i = 0; i < s->n; i++) {
		if (!s->up[i])
			continue;
		role_local_db(s->ctx[i], s->gen[i], s->lsn[i], s->startup[i]);
		role_pingable(s->ctx[i], s->ping[i], s->ping_sent[i] ?
		    s->ping_sent[i] : now);
		role_local_fault(s->ctx[i], s->fault[i]);
	}
	for (i = 0; i < s->n; i++) {
		for (j = 0; j < s->n; j++) {
			if (!s->up[i] || !s->up[j] || !s->link[i][j])
				continue;
			if (s->unauth[i][j]) {
				role_peer_unauth(s->ctx[i], j + 1, now);
				continue;
			}
			role_advertise(s->ctx[j], now, &pi);
			pi.build_match = s->build[i] == s->build[j];
			if (s->view[i][j] != 0)
				pi.lsn.offset = s->view[i][j];
			pi.insync = !s->dirty[j];
			/* a primary's in-sync set: its peers not dirty */
			pi.insync_set = 0;
			for (k = 0; pi.role == HA_ROLE_PRIMARY && k < s->n; k++)
				if (k != j && !s->dirty[k])
					pi.insync_set |= 1u << k;
			CU_ASSERT(role_peer_heard(s->ctx[i], j + 1, now, &pi,
			    err, sizeof(err)) == 0);
		}
	}
}

/* Tick and commit every running node once. */
static void
sim_decide(struct sim *s, uint64_t now)
{
	struct role_decision d, again;
	char err[512];
	int i;

	for (i = 0; i < s->n; i++) {
		if (!s->up[i])
			continue;
		role_tick(s->ctx[i], now, &d);
		/* role_tick changes nothing: the same question, the same answer */
		role_tick(s->ctx[i], now, &again);
		CU_ASSERT(memcmp(&d, &again, sizeof(d)) == 0);
		if (d.sync_refused)
			s->refused_seen[i] = 1;
		if (d.action == ROLE_ACT_NONE)
			continue;
		s->last[i] = d;
		CU_ASSERT(role_commit(s->ctx[i], &d, now, err,
		    sizeof(err)) == 0);
		s->commits++;
	}
}

static int nprimaries(const struct sim *s);

/* Each node's vote (role.h, Votes) as its heartbeat would carry it. */
static void
sim_votes(struct sim *s, uint64_t now, int *eid, uint32_t *round)
{
	struct role_peer_info pi;
	int i;

	for (i = 0; i < s->n; i++) {
		eid[i] = 0;
		round[i] = 0;
		if (!s->up[i])
			continue;
		role_advertise(s->ctx[i], now, &pi);
		eid[i] = pi.vote_eid;
		round[i] = pi.vote_round;
	}
}

/* One step: every node hears the others and decides. As the daemon sends
 * a heartbeat at once when its vote changes and decides again on every
 * heartbeat, a step repeats while votes change (bounded). */
static void
sim_step(struct sim *s, uint64_t t)
{
	int e0[MAXN], e1[MAXN], n;
	uint32_t r0[MAXN], r1[MAXN];

	for (n = 0; n < 5; n++) {
		sim_votes(s, t, e0, r0);
		sim_feed(s, t);
		sim_decide(s, t);
		sim_votes(s, t, e1, r1);
		if (memcmp(e0, e1, sizeof(e0)) == 0 &&
		    memcmp(r0, r1, sizeof(r0)) == 0)
			break;
	}
}

static void
sim_run(struct sim *s, uint64_t from, uint64_t to)
{
	uint64_t t;

	for (t = from; t <= to; t += STEP) {
		sim_step(s, t);
		if (nprimaries(s) > s->max_primaries)
			s->max_primaries = nprimaries(s);
	}
}

static int
nprimaries(const struct sim *s)
{
	int i, n = 0;

	for (i = 0; i < s->n; i++)
		if (s->up[i] && role_current(s->ctx[i]) == HA_ROLE_PRIMARY)
			n++;
	return n;
}

/* Every commit logged exactly one line: a role change or a follow. */
static void
sim_free(struct sim *s)
{
	char *log;
	int i;

	for (i = 0; i < s->n; i++)
		if (s->up[i])
			role_free(s->ctx[i]);
	log_close();
	log_set_level(s->saved_lvl);
	log = slurp(s->logpath);
	CU_ASSERT_PTR_NOT_NULL(log);
	CU_ASSERT_EQUAL(count_str(log, "role change ") +
	    count_str(log, "following primary peer "), s->commits);
	free(log);
	unit_rmtree(s->dir);
	free(s->dir);
	free(s);
}

static int
log_has(const struct sim *s, const char *line)
{
	char *log = slurp(s->logpath);
	int n = count_str(log, line);

	free(log);
	return n;
}

static void
test_names(void)
{
	CU_ASSERT_STRING_EQUAL(ha_role_name(HA_ROLE_STARTING), "STARTING");
	CU_ASSERT_STRING_EQUAL(ha_role_name(HA_ROLE_SECONDARY), "SECONDARY");
	CU_ASSERT_STRING_EQUAL(ha_role_name(HA_ROLE_PRIMARY), "PRIMARY");
	CU_ASSERT_STRING_EQUAL(ha_role_name(HA_ROLE_COUNT), "UNKNOWN");
	CU_ASSERT_STRING_EQUAL(ha_role_name(HA_ROLE_STANDALONE), "STANDALONE");
	/* one table for names and words: each word parses back to its role */
	CU_ASSERT_EQUAL(ha_role_parse(ha_role_word(HA_ROLE_STANDALONE)),
	    HA_ROLE_STANDALONE);
	CU_ASSERT_EQUAL(ha_role_parse(ha_role_word(HA_ROLE_STARTING)),
	    HA_ROLE_STARTING);
	CU_ASSERT_STRING_EQUAL(ha_role_name(-1), "UNKNOWN");
}

static void
test_start_alone(void)
{
	struct sim *s = sim_new(2);
	struct role_decision d;

	sim_start(s, 0, 0);
	sim_run(s, 0, WAIT - STEP);
	CU_ASSERT_EQUAL(role_current(s->ctx[0]), HA_ROLE_STARTING);
	role_tick(s->ctx[0], WAIT - 1, &d);
	CU_ASSERT_EQUAL(d.action, ROLE_ACT_NONE);
	sim_run(s, WAIT, WAIT);
	CU_ASSERT_EQUAL(role_current(s->ctx[0]), HA_ROLE_PRIMARY);
	CU_ASSERT_EQUAL(role_epoch(s->ctx[0]), 1);
	CU_ASSERT_EQUAL(s->commits, 1);
	CU_ASSERT_EQUAL(log_has(s, "role change STARTING -> PRIMARY, reason: "
	    "no peer heard within startWait (2000 ms), pingable IP answers; "
	    "epoch 1\n"), 1);
	/* nothing more to do while alone and reachable */
	sim_run(s, WAIT + STEP, 10000);
	CU_ASSERT_EQUAL(s->commits, 1);
	sim_free(s);
}

static void
test_start_alone_isolated(void)
{
	struct sim *s = sim_new(2);

	s->ping[0] = 0;
	sim_start(s, 0, 0);
	sim_run(s, 0, WAIT);
	CU_ASSERT_EQUAL(role_current(s->ctx[0]), HA_ROLE_SECONDARY);
	CU_ASSERT_PTR_NOT_NULL(strstr(s->last[0].reason,
	    "isolated nodes never promote"));
	/* isolated nodes never promote, however long they wait */
	sim_run(s, WAIT + STEP, 20000);
	CU_ASSERT_EQUAL(role_current(s->ctx[0]), HA_ROLE_SECONDARY);
	CU_ASSERT_EQUAL(role_epoch(s->ctx[0]), 0);
	CU_ASSERT_EQUAL(s->commits, 1);
	/* once the pingable IP answers the lone node takes the role */
	s->ping[0] = 1;
	sim_run(s, 20100, 20100);
	CU_ASSERT_EQUAL(role_current(s->ctx[0]), HA_ROLE_PRIMARY);
	CU_ASSERT_EQUAL(role_epoch(s->ctx[0]), 1);
	sim_free(s);
}

static void
test_two_start(void)
{
	struct sim *s;
	int i;

	/* equal databases: the preferred node (eid 1) */
	s = sim_new(2);
	sim_start(s, 0, 0);
	sim_start(s, 1, 0);
	sim_run(s, 0, 500);
	CU_ASSERT_EQUAL(nprimaries(s), 1);
	CU_ASSERT_EQUAL(role_current(s->ctx[0]), HA_ROLE_PRIMARY);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_SECONDARY);
	CU_ASSERT_EQUAL(role_epoch(s->ctx[0]), 1);
	CU_ASSERT_EQUAL(role_epoch(s->ctx[1]), 1);
	CU_ASSERT_EQUAL(log_has(s, "role change STARTING -> SECONDARY, reason: "
	    "peer 1 is the better candidate"), 1);
	CU_ASSERT_EQUAL(log_has(s, "following primary peer 1 (epoch 1)"), 1);
	sim_run(s, 600, 10000);
	CU_ASSERT_EQUAL(s->commits, 3);
	sim_free(s);

	/* the more up-to-date database wins over preference */
	for (i = 0; i < 2; i++) {
		s = sim_new(2);
		if (i == 0)
			s->lsn[1].offset = 200;
		else
			s->gen[1] = 2;
		sim_start(s, 0, 0);
		sim_start(s, 1, 300);
		sim_run(s, 0, 1000);
		CU_ASSERT_EQUAL(nprimaries(s), 1);
		CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_PRIMARY);
		CU_ASSERT_EQUAL(role_current(s->ctx[0]), HA_ROLE_SECONDARY);
		sim_free(s);
	}

	/* the fresher node has not pinged yet: wait for it within startWait */
	s = sim_new(2);
	s->lsn[1].offset = 200;
	s->ping[1] = 0;
	sim_start(s, 0, 0);
	sim_start(s, 1, 0);
	sim_run(s, 0, 500);
	CU_ASSERT_EQUAL(s->commits, 0);
	s->ping[1] = 1;
	sim_run(s, 600, 1000);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_PRIMARY);
	CU_ASSERT_EQUAL(role_current(s->ctx[0]), HA_ROLE_SECONDARY);
	sim_free(s);
	/* ... but not beyond: it stays isolated, the other one serves */
	s = sim_new(2);
	s->lsn[1].offset = 200;
	s->ping[1] = 0;
	sim_start(s, 0, 0);
	sim_start(s, 1, 0);
	sim_run(s, 0, WAIT - STEP);
	CU_ASSERT_EQUAL(s->commits, 0);
	sim_run(s, WAIT, WAIT + STEP);
	CU_ASSERT_EQUAL(role_current(s->ctx[0]), HA_ROLE_PRIMARY);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_SECONDARY);
	CU_ASSERT_EQUAL(nprimaries(s), 1);
	sim_free(s);

	/* a node that starts beside a primary follows it */
	s = sim_new(2);
	sim_start(s, 0, 0);
	sim_run(s, 0, 3000);
	s->lsn[1].offset = 999;         /* better data does not matter now */
	sim_start(s, 1, 3000);
	sim_run(s, 3000, 3000);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_SECONDARY);
	CU_ASSERT_EQUAL(role_epoch(s->ctx[1]), 1);
	CU_ASSERT_EQUAL(log_has(s, "role change STARTING -> SECONDARY, reason: "
	    "peer 1 is PRIMARY (epoch 1)\n"), 1);
	sim_free(s);
}

/* Node 0 primary, node 1 its secondary, from t=0 to 1000. */
static struct sim *
sim_pair(void)
{
	struct sim *s = sim_new(2);

	sim_start(s, 0, 0);
	sim_start(s, 1, 0);
	sim_run(s, 0, 1000);
	CU_ASSERT_EQUAL_FATAL(role_current(s->ctx[0]), HA_ROLE_PRIMARY);
	CU_ASSERT_EQUAL_FATAL(role_current(s->ctx[1]), HA_ROLE_SECONDARY);
	return s;
}

static void
test_failover(void)
{
	struct sim *s;
	struct role_decision d;

	/* last heartbeat at 1000: dead from 2000 on, not before */
	s = sim_pair();
	sim_kill(s, 0);
	role_tick(s->ctx[1], 1000 + DEAD - 1, &d);
	CU_ASSERT_EQUAL(d.action, ROLE_ACT_NONE);
	sim_run(s, 1100, 1900);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_SECONDARY);
	sim_run(s, 2000, 2000);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_PRIMARY);
	CU_ASSERT_EQUAL(role_epoch(s->ctx[1]), 2);
	CU_ASSERT_EQUAL(log_has(s, "role change SECONDARY -> PRIMARY, reason: "
	    "primary peer 1 silent for 1000 ms (deadInterval 1000 ms), "
	    "database startup done, pingable IP answers, best of 1 live "
	    "node; epoch 2\n"), 1);
	/* the old primary comes back and follows the new term */
	sim_start(s, 0, 5000);
	sim_run(s, 5000, 6000);
	CU_ASSERT_EQUAL(role_current(s->ctx[0]), HA_ROLE_SECONDARY);
	CU_ASSERT_EQUAL(role_epoch(s->ctx[0]), 2);
	CU_ASSERT_EQUAL(nprimaries(s), 1);
	sim_free(s);

	/* startup sync not done: never */
	s = sim_pair();
	s->startup[1] = 0;
	sim_kill(s, 0);
	sim_run(s, 1100, 20000);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_SECONDARY);
	/* ... until it is */
	s->startup[1] = 1;
	sim_run(s, 20100, 20100);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_PRIMARY);
	sim_free(s);

	/* pingable IP down: never */
	s = sim_pair();
	s->ping[1] = 0;
	sim_kill(s, 0);
	sim_run(s, 1100, 20000);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_SECONDARY);
	CU_ASSERT_EQUAL(role_epoch(s->ctx[1]), 1);
	sim_free(s);

	/* the last pingable IP answer was sent before the primary was last
	 * heard (it may predate a cut of this node's own link): a failover
	 * waits for a newer one, and asks for it */
	s = sim_pair();
	s->ping_sent[1] = 950;
	sim_kill(s, 0);
	sim_run(s, 1100, 5000);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_SECONDARY);
	role_tick(s->ctx[1], 5000, &d);
	CU_ASSERT_EQUAL(d.action, ROLE_ACT_NONE);
	CU_ASSERT_EQUAL(d.want_ping, 1);
	s->ping_sent[1] = 0;
	sim_run(s, 5100, 5100);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_PRIMARY);
	sim_free(s);

	/* a link cut is not a death while the heartbeat still arrives late */
	s = sim_pair();
	s->link[1][0] = 0;
	sim_run(s, 1100, 1900);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_SECONDARY);
	s->link[1][0] = 1;
	sim_run(s, 2000, 8000);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_SECONDARY);
	CU_ASSERT_EQUAL(nprimaries(s), 1);
	sim_free(s);
}

static void
test_stepdown(void)
{
	struct sim *s;
	struct role_decision d;

	/* isolated: peer dead since 1000, pingable down from 3000 */
	s = sim_pair();
	sim_kill(s, 1);
	sim_run(s, 1100, 2900);
	CU_ASSERT_EQUAL(role_current(s->ctx[0]), HA_ROLE_PRIMARY);
	s->ping[0] = 0;
	sim_run(s, 3000, 3900);
	CU_ASSERT_EQUAL(role_current(s->ctx[0]), HA_ROLE_PRIMARY);
	role_tick(s->ctx[0], 3000 + DEAD - 1, &d);
	CU_ASSERT_EQUAL(d.action, ROLE_ACT_NONE);
	sim_run(s, 4000, 4000);
	CU_ASSERT_EQUAL(role_current(s->ctx[0]), HA_ROLE_SECONDARY);
	CU_ASSERT_EQUAL(s->last[0].action, ROLE_ACT_STEPDOWN);
	CU_ASSERT_EQUAL(log_has(s, "role change PRIMARY -> SECONDARY, reason: "
	    "isolated: no peer heard for 3000 ms and pingable IP unreachable "
	    "for 1000 ms (deadInterval 1000 ms)\n"), 1);
	/* the file says secondary now; the epoch stays */
	CU_ASSERT_EQUAL(role_epoch(s->ctx[0]), 1);
	sim_free(s);

	/* pingable down but the peer still heard: keep the role */
	s = sim_pair();
	s->ping[0] = 0;
	sim_run(s, 1100, 20000);
	CU_ASSERT_EQUAL(role_current(s->ctx[0]), HA_ROLE_PRIMARY);
	/* peer dead but pingable answers: keep the role too */
	s->ping[0] = 1;
	sim_kill(s, 1);
	sim_run(s, 20100, 40000);
	CU_ASSERT_EQUAL(role_current(s->ctx[0]), HA_ROLE_PRIMARY);
	sim_free(s);
}

static void
test_two_primaries(void)
{
	struct sim *s;
	char msg[512];
	FILE *f;

	/* a partition: the secondary promotes (epoch 2); the old primary
	 * still reaches the pingable IP and stays. Healed: epoch 2 wins. */
	s = sim_pair();
	s->link[0][1] = s->link[1][0] = 0;
	sim_run(s, 1100, 3000);
	CU_ASSERT_EQUAL(nprimaries(s), 2);
	s->link[0][1] = s->link[1][0] = 1;
	sim_run(s, 3100, 3100);
	CU_ASSERT_EQUAL(nprimaries(s), 1);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_PRIMARY);
	CU_ASSERT_EQUAL(role_current(s->ctx[0]), HA_ROLE_SECONDARY);
	CU_ASSERT_EQUAL(role_epoch(s->ctx[0]), 2);
	CU_ASSERT_EQUAL(log_has(s, "role change PRIMARY -> SECONDARY, reason: "
	    "two primaries: peer 2 has epoch 2\n"), 1);
	/* the loser must resync before it may lead again */
	CU_ASSERT_EQUAL(role_db_ready(s->ctx[0]), s->startup[0]);
	sim_run(s, 3200, 6000);
	CU_ASSERT_EQUAL(nprimaries(s), 1);
	sim_free(s);

	/* the other way: node 0 (preferred) remembers epoch 7. It served
	 * before, so alone it waits for its peer; node 1, new, starts as
	 * primary after startWait */
	s = sim_new(2);
	f = fopen(s->path[0], "w");
	CU_ASSERT_FATAL(f != NULL);
	fputs("epoch 7\nrole primary\n", f);
	fclose(f);
	s->link[0][1] = s->link[1][0] = 0;
	sim_start(s, 0, 0);
	sim_start(s, 1, 0);
	sim_run(s, 0, 3000);
	CU_ASSERT_EQUAL(nprimaries(s), 1);
	CU_ASSERT_EQUAL(role_current(s->ctx[0]), HA_ROLE_STARTING);
	CU_ASSERT(role_waits_for_all(s->ctx[0]));
	CU_ASSERT_EQUAL(role_epoch(s->ctx[1]), 1);
	/* healed: node 0 does not follow a primary of a lower epoch (that
	 * would replace its history); the admin decides */
	s->link[0][1] = s->link[1][0] = 1;
	sim_run(s, 3100, 4000);
	CU_ASSERT_EQUAL(role_current(s->ctx[0]), HA_ROLE_STARTING);
	CU_ASSERT_EQUAL(nprimaries(s), 1);
	CU_ASSERT_EQUAL(role_request_promote(s->ctx[0], 1, 4000, msg,
	    sizeof(msg)), 1);
	sim_run(s, 4100, 4100);
	CU_ASSERT_EQUAL(role_epoch(s->ctx[0]), 8);
	sim_run(s, 4200, 5000);
	CU_ASSERT_EQUAL(role_current(s->ctx[0]), HA_ROLE_PRIMARY);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_SECONDARY);
	CU_ASSERT_EQUAL(log_has(s, "two primaries: peer 1 has epoch 8\n"), 1);
	sim_free(s);

	/* equal epochs: the better preference wins */
	s = sim_new(2);
	s->link[0][1] = s->link[1][0] = 0;
	sim_start(s, 0, 0);
	sim_start(s, 1, 0);
	sim_run(s, 0, 3000);
	CU_ASSERT_EQUAL(role_epoch(s->ctx[0]), 1);
	CU_ASSERT_EQUAL(role_epoch(s->ctx[1]), 1);
	s->link[0][1] = s->link[1][0] = 1;
	sim_run(s, 3100, 4000);
	CU_ASSERT_EQUAL(role_current(s->ctx[0]), HA_ROLE_PRIMARY);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_SECONDARY);
	CU_ASSERT_EQUAL(log_has(s, "two primaries: peer 1 has epoch 1 too and "
	    "wins on preference (0 against our 1, then lower eid)"), 1);
	sim_free(s);
}

static void
test_persist(void)
{
	struct sim *s;
	enum ha_role last;
	uint32_t ep;
	char err[512], *text;

	s = sim_pair();
	CU_ASSERT_EQUAL(role_load(s->path[0], &ep, &last, err, sizeof(err)), 1);
	CU_ASSERT_EQUAL(ep, 1);
	CU_ASSERT_EQUAL(last, HA_ROLE_PRIMARY);
	text = slurp(s->path[0]);
	CU_ASSERT_STRING_EQUAL(text, "epoch 1\nrole primary\n");
	free(text);
	CU_ASSERT_EQUAL(role_load(s->path[1], &ep, &last, err, sizeof(err)), 1);
	CU_ASSERT_EQUAL(ep, 1);
	CU_ASSERT_EQUAL(last, HA_ROLE_SECONDARY);

	/* failover: epoch 2 persisted by the new primary */
	sim_kill(s, 0);
	sim_run(s, 1100, 2500);
	CU_ASSERT_EQUAL(role_load(s->path[1], &ep, &last, err, sizeof(err)), 1);
	CU_ASSERT_EQUAL(ep, 2);
	CU_ASSERT_EQUAL(last, HA_ROLE_PRIMARY);

	/* a restart remembers the epoch and the next term is above it; alone
	 * it waits for its peer (which may have taken over meanwhile) until
	 * the admin promotes it */
	sim_kill(s, 1);
	sim_start(s, 1, 10000);
	CU_ASSERT_EQUAL(role_epoch(s->ctx[1]), 2);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_STARTING);
	sim_run(s, 10000, 10000 + 3 * WAIT);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_STARTING);
	CU_ASSERT_EQUAL(role_request_promote(s->ctx[1], 0, 10000 + 3 * WAIT,
	    err, sizeof(err)), 1);
	sim_run(s, 10000 + 3 * WAIT + STEP, 10000 + 3 * WAIT + STEP);
	CU_ASSERT_EQUAL(role_epoch(s->ctx[1]), 3);

	/* missing file: epoch 0, no error */
	CU_ASSERT_EQUAL(role_load("/nonexistent/role", &ep, &last, err,
	    sizeof(err)), 0);
	CU_ASSERT_EQUAL(ep, 0);
	CU_ASSERT_EQUAL(last, HA_ROLE_STARTING);
	sim_free(s);
}

static void
corrupt_case(const char *dir, const char *content, const char *expect)
{
	struct role_config cfg;
	enum ha_role last;
	uint32_t ep;
	char path[512], err[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/role.state", dir);
	f = fopen(path, "w");
	CU_ASSERT_FATAL(f != NULL);
	fputs(content, f);
	fclose(f);
	err[0] = '\0';
	CU_ASSERT_EQUAL(role_load(path, &ep, &last, err, sizeof(err)), -1);
	if (strstr(err, expect) == NULL || strstr(err, path) == NULL)
		fprintf(stderr, "\nunexpected error for %s: %s\n", expect, err);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, expect));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "fix or remove the file"));
	/* the daemon refuses to start on it */
	memset(&cfg, 0, sizeof(cfg));
	cfg.nnodes = 1;
	cfg.nodes[0].eid = 1;
	cfg.dead_ms = DEAD;
	cfg.state_path = path;
	CU_ASSERT_PTR_NULL(role_new(&cfg, 0, err, sizeof(err)));
}

static void
test_corrupt(void)
{
	char *dir = unit_tmpdir();

	corrupt_case(dir, "epoch x\nrole primary\n", "line 1: epoch \"x\"");
	corrupt_case(dir, "epoch 1\nrole boss\n", "line 2: unknown role \"boss\"");
	corrupt_case(dir, "epoch 4294967296\nrole primary\n", "line 1: epoch");
	corrupt_case(dir, "epoch -1\nrole primary\n", "line 1: epoch");
	corrupt_case(dir, "role primary\n", "epoch missing");
	corrupt_case(dir, "epoch 3\n", "role missing");
	corrupt_case(dir, "", "epoch missing");
	corrupt_case(dir, "epoch 1\nepoch 2\nrole primary\n",
	    "line 2: epoch given twice");
	corrupt_case(dir, "epoch 1\ncolour blue\n", "line 2: unknown key");
	corrupt_case(dir, "\n", "line 1: \"\" is not");
	corrupt_case(dir, "garbage\n", "line 1: \"garbage\" is not");
	unit_rmtree(dir);
	free(dir);
}

static void
test_switchover(void)
{
	struct sim *s;
	char msg[512];

	s = sim_pair();
	/* on the secondary: refused, pointing at the primary */
	CU_ASSERT_EQUAL(role_request_switchover(s->ctx[1], 0, 1000, msg,
	    sizeof(msg)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "run it on the primary (peer 1)"));
	/* on the primary */
	CU_ASSERT_EQUAL(role_request_switchover(s->ctx[0], 0, 1000, msg,
	    sizeof(msg)), 1);
	CU_ASSERT_STRING_EQUAL(msg, "switchover accepted: this node stops "
	    "writes and becomes SECONDARY; peer 2 takes over as PRIMARY with "
	    "epoch 2 once it has caught up");
	CU_ASSERT_EQUAL(role_request_switchover(s->ctx[0], 0, 1000, msg,
	    sizeof(msg)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "already under way"));
	/* the secondary lags: it waits until it has caught up */
	s->lsn[0].offset = 500;
	sim_run(s, 1100, 1100);
	CU_ASSERT_EQUAL(role_current(s->ctx[0]), HA_ROLE_SECONDARY);
	CU_ASSERT_EQUAL(log_has(s, "role change PRIMARY -> SECONDARY, reason: "
	    "switchover to peer 2 requested by the administrator\n"), 1);
	sim_run(s, 1200, 1500);
	CU_ASSERT_EQUAL(nprimaries(s), 0);
	s->lsn[1].offset = 500;
	sim_run(s, 1600, 1600);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_PRIMARY);
	CU_ASSERT_EQUAL(role_epoch(s->ctx[1]), 2);
	CU_ASSERT_EQUAL(log_has(s, "role change SECONDARY -> PRIMARY, reason: "
	    "switchover: peer 1 handed over at lsn 1/500; epoch 2\n"), 1);
	sim_run(s, 1700, 1700);
	CU_ASSERT_EQUAL(role_current(s->ctx[0]), HA_ROLE_SECONDARY);
	CU_ASSERT_EQUAL(role_epoch(s->ctx[0]), 2);
	CU_ASSERT_EQUAL(log_has(s, "following primary peer 2 (epoch 2)"), 1);
	sim_run(s, 1800, 8000);
	CU_ASSERT_EQUAL(nprimaries(s), 1);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_PRIMARY);
	CU_ASSERT_EQUAL(s->commits, 6);
	sim_free(s);

	/* the target loses the pingable IP after the handoff: it does not
	 * take over; when the handoff expires the old primary is the best
	 * able node again and resumes with a new epoch */
	s = sim_pair();
	CU_ASSERT_EQUAL(role_request_switchover(s->ctx[0], 2, 1000, msg,
	    sizeof(msg)), 1);
	s->ping[1] = 0;
	sim_run(s, 1100, 1100 + DEAD - STEP);
	CU_ASSERT_EQUAL(nprimaries(s), 0);
	sim_run(s, 1100 + DEAD, 1100 + DEAD);
	CU_ASSERT_EQUAL(role_current(s->ctx[0]), HA_ROLE_PRIMARY);
	/* epoch 2 was promised to the successor: never claimed twice */
	CU_ASSERT_EQUAL(role_epoch(s->ctx[0]), 3);
	sim_run(s, 1100 + DEAD + STEP, 1100 + DEAD + STEP);
	CU_ASSERT_EQUAL(log_has(s, "following primary peer 1 (epoch 3)"), 1);
	sim_free(s);

	/* the successor takes over with epoch 2 but the old primary never
	 * hears it (a stall, a lost link): when the handoff expires the old
	 * primary takes over with epoch 3, not a second epoch 2, and once
	 * they hear each other the later promotion wins on its epoch alone */
	s = sim_pair();
	CU_ASSERT_EQUAL(role_request_switchover(s->ctx[0], 2, 1000, msg,
	    sizeof(msg)), 1);
	sim_run(s, 1100, 1100);
	CU_ASSERT_EQUAL(role_current(s->ctx[0]), HA_ROLE_SECONDARY);
	s->link[0][1] = 0;
	sim_run(s, 1200, 1200);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_PRIMARY);
	CU_ASSERT_EQUAL(role_epoch(s->ctx[1]), 2);
	sim_run(s, 1300, 1300 + DEAD + DEAD);
	CU_ASSERT_EQUAL(role_current(s->ctx[0]), HA_ROLE_PRIMARY);
	CU_ASSERT_EQUAL(role_epoch(s->ctx[0]), 3);
	s->link[0][1] = 1;
	sim_run(s, 1400 + DEAD + DEAD, 1600 + DEAD + DEAD);
	CU_ASSERT_EQUAL(nprimaries(s), 1);
	CU_ASSERT_EQUAL(role_current(s->ctx[0]), HA_ROLE_PRIMARY);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_SECONDARY);
	CU_ASSERT_EQUAL(log_has(s, "two primaries: peer 1 has epoch 3\n"), 1);
	CU_ASSERT_EQUAL(log_has(s, "wins on preference"), 0);
	sim_free(s);

	/* three nodes, from eid 2 to the replica: eid 1, preferred and as
	 * up to date, stands aside while the handoff lasts */
	s = sim_new(3);
	s->lsn[1].offset = 200;
	sim_start(s, 0, 0);
	sim_start(s, 1, 0);
	sim_start(s, 2, 0);
	sim_run(s, 0, 1000);
	CU_ASSERT_EQUAL_FATAL(role_current(s->ctx[1]), HA_ROLE_PRIMARY);
	CU_ASSERT_EQUAL(role_request_switchover(s->ctx[1], 3, 1000, msg,
	    sizeof(msg)), 1);
	s->lsn[0].offset = 400;         /* the replica catches up last */
	s->lsn[1].offset = 400;
	sim_run(s, 1100, 1500);
	CU_ASSERT_EQUAL(nprimaries(s), 0);
	s->lsn[2].offset = 400;
	sim_run(s, 1600, 3000);
	CU_ASSERT_EQUAL(nprimaries(s), 1);
	CU_ASSERT_EQUAL(role_current(s->ctx[2]), HA_ROLE_PRIMARY);
	CU_ASSERT_EQUAL(role_epoch(s->ctx[0]), 2);
	CU_ASSERT_EQUAL(role_epoch(s->ctx[1]), 2);
	sim_free(s);

	/* no secondary able to take over: refused, nothing changes */
	s = sim_pair();
	s->startup[1] = 0;
	sim_run(s, 1100, 1100);
	CU_ASSERT_EQUAL(role_request_switchover(s->ctx[0], 0, 1100, msg,
	    sizeof(msg)), 0);
	CU_ASSERT_STRING_EQUAL(msg, "switchover refused: peer 2 has not "
	    "finished its startup sync; nothing changed, this node stays "
	    "PRIMARY");
	CU_ASSERT_EQUAL(role_request_switchover(s->ctx[0], 5, 1100, msg,
	    sizeof(msg)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "eid 5 is not a configured peer"));
	sim_kill(s, 1);
	CU_ASSERT_EQUAL(role_request_switchover(s->ctx[0], 2, 5000, msg,
	    sizeof(msg)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "peer 2 is not alive"));
	sim_run(s, 1200, 1200);
	CU_ASSERT_EQUAL(role_current(s->ctx[0]), HA_ROLE_PRIMARY);
	sim_free(s);
}

static void
test_promote(void)
{
	struct sim *s;
	char msg[512];

	s = sim_pair();
	CU_ASSERT_EQUAL(role_request_promote(s->ctx[0], 0, 1000, msg,
	    sizeof(msg)), 0);
	CU_ASSERT_STRING_EQUAL(msg, "promote refused: this node is already "
	    "PRIMARY (epoch 1)");
	CU_ASSERT_EQUAL(role_request_promote(s->ctx[1], 0, 1050, msg,
	    sizeof(msg)), 0);
	CU_ASSERT_STRING_EQUAL(msg, "promote refused: peer 1 is PRIMARY and "
	    "its heartbeat is alive (last heard 50 ms ago); promote is for a "
	    "dead primary — use switchover, or force");
	sim_run(s, 1100, 1100);
	CU_ASSERT_EQUAL(nprimaries(s), 1);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_SECONDARY);
	/* forced: this node takes epoch 2, the old primary steps down */
	CU_ASSERT_EQUAL(role_request_promote(s->ctx[1], 1, 1100, msg,
	    sizeof(msg)), 1);
	CU_ASSERT_STRING_EQUAL(msg, "forced promote accepted: this node "
	    "becomes PRIMARY with epoch 2; peer 1, still PRIMARY with epoch 1, "
	    "will step down when it hears us");
	sim_run(s, 1200, 1300);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_PRIMARY);
	CU_ASSERT_EQUAL(role_current(s->ctx[0]), HA_ROLE_SECONDARY);
	CU_ASSERT_EQUAL(log_has(s, "role change SECONDARY -> PRIMARY, reason: "
	    "forced promote requested by the administrator (peer 1 still "
	    "PRIMARY with epoch 1); epoch 2\n"), 1);
	CU_ASSERT_EQUAL(log_has(s, "two primaries: peer 2 has epoch 2"), 1);
	sim_free(s);

	/* primary dead, but the automatic failover cannot run (pingable
	 * down): the admin promotes; unforced it names the reason */
	s = sim_pair();
	s->ping[1] = 0;
	sim_kill(s, 0);
	sim_run(s, 1100, 3000);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_SECONDARY);
	CU_ASSERT_EQUAL(role_request_promote(s->ctx[1], 0, 3000, msg,
	    sizeof(msg)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "pingable IP does not answer"));
	s->startup[1] = 0;
	sim_run(s, 3100, 3100);
	CU_ASSERT_EQUAL(role_request_promote(s->ctx[1], 0, 3100, msg,
	    sizeof(msg)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "has not finished its startup sync"));
	s->startup[1] = 1;
	s->ping[1] = 1;
	sim_feed(s, 3200);
	CU_ASSERT_EQUAL(role_request_promote(s->ctx[1], 0, 3200, msg,
	    sizeof(msg)), 1);
	CU_ASSERT_STRING_EQUAL(msg, "promote accepted: this node becomes "
	    "PRIMARY with epoch 2 (no primary heard for 1000 ms)");
	sim_decide(s, 3200);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_PRIMARY);
	CU_ASSERT_EQUAL(role_epoch(s->ctx[1]), 2);
	CU_ASSERT_EQUAL(log_has(s, "role change SECONDARY -> PRIMARY, reason: "
	    "promote requested by the administrator; epoch 2\n"), 1);
	sim_free(s);
}

/* A pair with sync or strict durability (role_config.keep_acked). */
static struct sim *
sim_pair_keep_acked(void)
{
	struct sim *s = sim_new(2);

	s->cfg[0].keep_acked = s->cfg[1].keep_acked = 1;
	sim_start(s, 0, 0);
	sim_start(s, 1, 0);
	sim_run(s, 0, 1000);
	CU_ASSERT_EQUAL_FATAL(role_current(s->ctx[0]), HA_ROLE_PRIMARY);
	return s;
}

/* sync/strict: a secondary its primary left out of the in-sync set does
 * not take over by itself (role.h, Acknowledged writes). */
static void
test_lacks_acked(void)
{
	struct sim *s;
	char msg[512];

	s = sim_pair_keep_acked();
	CU_ASSERT_EQUAL(role_lacks_acked(s->ctx[1]), 0);
	/* the primary marks it dirty and dies */
	s->dirty[1] = 1;
	sim_run(s, 1100, 1100);
	CU_ASSERT_EQUAL(role_lacks_acked(s->ctx[1]), 1);
	CU_ASSERT_EQUAL(log_has(s, "primary peer 1 acknowledges writes this "
	    "node does not have (it is dirty): this node does not take over "
	    "by itself until it has caught up"), 1);
	sim_kill(s, 0);
	sim_run(s, 1200, 10000);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_SECONDARY);
	CU_ASSERT_EQUAL(log_has(s, "primary peer 1 silent for 1000 ms, but it "
	    "acknowledged writes this node does not have (it was dirty): not "
	    "taking over"), 1);
	CU_ASSERT_EQUAL(role_request_promote(s->ctx[1], 0, 10000, msg,
	    sizeof(msg)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "promote refused: primary peer 1 "
	    "acknowledged writes this node does not have"));
	/* the old primary returns and leads again; once it holds the
	 * secondary in sync, a later death is a failover again */
	sim_start(s, 0, 10000);
	sim_run(s, 10000, 12000);
	CU_ASSERT_EQUAL(role_current(s->ctx[0]), HA_ROLE_PRIMARY);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_SECONDARY);
	CU_ASSERT_EQUAL(s->max_primaries, 1);
	s->dirty[1] = 0;
	sim_run(s, 12100, 12100);
	CU_ASSERT_EQUAL(role_lacks_acked(s->ctx[1]), 0);
	CU_ASSERT_EQUAL(log_has(s, "holds this node in sync again"), 1);
	sim_kill(s, 0);
	sim_run(s, 12200, 14000);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_PRIMARY);
	sim_free(s);

	/* forced promote still works, and clears it */
	s = sim_pair_keep_acked();
	s->dirty[1] = 1;
	sim_run(s, 1100, 1100);
	sim_kill(s, 0);
	sim_run(s, 1200, 3000);
	CU_ASSERT_EQUAL(role_request_promote(s->ctx[1], 1, 3000, msg,
	    sizeof(msg)), 1);
	sim_decide(s, 3000);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_PRIMARY);
	CU_ASSERT_EQUAL(role_lacks_acked(s->ctx[1]), 0);
	sim_free(s);

	/* the node with more of the history cannot stand yet (its pingable
	 * IP does not answer): nobody wins until it can, then it does */
	s = sim_new(2);
	s->cfg[0].keep_acked = s->cfg[1].keep_acked = 1;
	s->lsn[1].offset = 500;
	s->ping[1] = 0;
	sim_start(s, 0, 0);
	sim_start(s, 1, 0);
	sim_run(s, 0, 8000);
	CU_ASSERT_EQUAL(nprimaries(s), 0);
	s->ping[1] = 1;
	sim_run(s, 8100, 10000);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_PRIMARY);
	CU_ASSERT_EQUAL(role_current(s->ctx[0]), HA_ROLE_SECONDARY);
	sim_free(s);

	/* async: no such rule */
	s = sim_pair();
	s->dirty[1] = 1;
	sim_run(s, 1100, 1100);
	CU_ASSERT_EQUAL(role_lacks_acked(s->ctx[1]), 0);
	sim_kill(s, 0);
	sim_run(s, 1200, 3000);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_PRIMARY);
	sim_free(s);
}

/* Arbiter mode: a stand-in for etcd's leader key, its lease renewed by
 * the holder's wish (want_leader) and gone TTL after the last renewal. */
#define ARB_TTL 3000

struct arb_sim {
	int key;                /* holder's eid, 0 none */
	uint64_t key_until;
	int etcd[MAXN];         /* node i reaches etcd */
	int max_primaries;
};

static void
arb_step(struct sim *s, struct arb_sim *a, uint64_t t)
{
	struct role_decision d;
	char err[512];
	int i;

	if (a->key != 0 && t >= a->key_until)
		a->key = 0;
	sim_feed(s, t);
	for (i = 0; i < s->n; i++)
		if (s->up[i])
			role_arbiter(s->ctx[i], 1, a->etcd[i] ? a->key : -1,
			    a->etcd[i] && a->key == i + 1);
	for (i = 0; i < s->n; i++) {
		if (!s->up[i])
			continue;
		role_tick(s->ctx[i], t, &d);
		if (a->etcd[i]) {
			if (d.want_leader && a->key == 0)
				a->key = i + 1;
			if (d.want_leader && a->key == i + 1)
				a->key_until = t + ARB_TTL;
			if (!d.want_leader && a->key == i + 1)
				a->key = 0;
		}
		if (d.action == ROLE_ACT_NONE)
			continue;
		/* a primary always holds the key it was fed */
		if (d.to == HA_ROLE_PRIMARY)
			CU_ASSERT(a->key == i + 1);
		CU_ASSERT(role_commit(s->ctx[i], &d, t, err, sizeof(err)) == 0);
		s->commits++;
	}
	if (nprimaries(s) > a->max_primaries)
		a->max_primaries = nprimaries(s);
}

static void
arb_run(struct sim *s, struct arb_sim *a, uint64_t from, uint64_t to)
{
	uint64_t t;

	for (t = from; t <= to; t += STEP)
		arb_step(s, a, t);
}

static void
test_arbiter(void)
{
	struct arb_sim a;
	struct sim *s;
	int p, o;

	/* start: one primary, the key's holder */
	s = sim_new(2);
	memset(&a, 0, sizeof(a));
	a.etcd[0] = a.etcd[1] = 1;
	sim_start(s, 0, 0);
	sim_start(s, 1, 0);
	arb_run(s, &a, 0, 3000);
	CU_ASSERT_EQUAL(nprimaries(s), 1);
	CU_ASSERT_FATAL(a.key == 1 || a.key == 2);
	p = a.key - 1;
	o = 1 - p;
	CU_ASSERT_EQUAL(role_current(s->ctx[p]), HA_ROLE_PRIMARY);

	/* the nodes cut from each other, both reaching etcd: the holder
	 * stays the only primary */
	s->link[0][1] = s->link[1][0] = 0;
	arb_run(s, &a, 3100, 20000);
	CU_ASSERT_EQUAL(role_current(s->ctx[p]), HA_ROLE_PRIMARY);
	CU_ASSERT_EQUAL(role_current(s->ctx[o]), HA_ROLE_SECONDARY);
	s->link[0][1] = s->link[1][0] = 1;
	arb_run(s, &a, 20100, 22000);

	/* the primary loses etcd: it steps down at once, and the other
	 * takes over only once its lease is gone */
	a.etcd[p] = 0;
	arb_step(s, &a, 22100);
	CU_ASSERT_EQUAL(role_current(s->ctx[p]), HA_ROLE_SECONDARY);
	CU_ASSERT_EQUAL(log_has(s, "this node's lease on the leader key may "
	    "have run out (etcd does not answer)"), 1);
	arb_run(s, &a, 22200, 22000 + ARB_TTL - 100);
	CU_ASSERT_EQUAL(nprimaries(s), 0);
	arb_run(s, &a, 22000 + ARB_TTL, 22000 + ARB_TTL + 2000);
	CU_ASSERT_EQUAL(role_current(s->ctx[o]), HA_ROLE_PRIMARY);
	CU_ASSERT_EQUAL(a.key, o + 1);
	a.etcd[p] = 1;
	arb_run(s, &a, 28000, 30000);
	CU_ASSERT_EQUAL(role_current(s->ctx[p]), HA_ROLE_SECONDARY);

	/* kill -9 of the primary: the key lives until its TTL */
	sim_kill(s, o);
	arb_run(s, &a, 30100, 30000 + ARB_TTL - 100);
	CU_ASSERT_EQUAL(nprimaries(s), 0);
	arb_run(s, &a, 30000 + ARB_TTL, 30000 + ARB_TTL + 2000);
	CU_ASSERT_EQUAL(role_current(s->ctx[p]), HA_ROLE_PRIMARY);
	CU_ASSERT_EQUAL(a.key, p + 1);

	/* etcd gone for everyone: no primary anywhere */
	a.etcd[0] = a.etcd[1] = 0;
	sim_start(s, o, 36000);
	arb_run(s, &a, 36000, 50000);
	CU_ASSERT_EQUAL(nprimaries(s), 0);
	a.etcd[0] = a.etcd[1] = 1;
	arb_run(s, &a, 50100, 56000);
	CU_ASSERT_EQUAL(nprimaries(s), 1);
	CU_ASSERT_EQUAL(a.max_primaries, 1);
	sim_free(s);
}

static void
test_forced_isolated(void)
{
	struct sim *s;
	char msg[512];

	/* primary dead and pingable IP down: the admin forces the promote;
	 * the isolation rule must not undo it at once */
	s = sim_pair();
	s->ping[1] = 0;
	sim_kill(s, 0);
	sim_run(s, 1100, 3000);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_SECONDARY);
	CU_ASSERT_EQUAL(role_request_promote(s->ctx[1], 1, 3000, msg,
	    sizeof(msg)), 1);
	sim_run(s, 3100, 8000);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_PRIMARY);
	/* once the pingable IP answered, losing it again steps down */
	s->ping[1] = 1;
	sim_run(s, 8100, 8500);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_PRIMARY);
	s->ping[1] = 0;
	sim_run(s, 8600, 11000);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_SECONDARY);
	CU_ASSERT_EQUAL(log_has(s, "role change PRIMARY -> SECONDARY, reason: "
	    "isolated"), 1);
	sim_free(s);
}

static void
test_three_nodes(void)
{
	struct sim *s;
	int i;

	for (i = 0; i < 2; i++) {
		s = sim_new(3);
		sim_start(s, 0, 0);
		sim_start(s, 1, 0);
		sim_start(s, 2, 0);
		sim_run(s, 0, 1000);
		CU_ASSERT_EQUAL(nprimaries(s), 1);
		CU_ASSERT_EQUAL(role_current(s->ctx[0]), HA_ROLE_PRIMARY);
		/* node 2 (a replica, worst preference) got further */
		s->lsn[1].offset = 300;
		s->lsn[2].offset = 500;
		if (i == 1)
			s->ping[2] = 0; /* ... but cannot promote */
		sim_kill(s, 0);
		sim_run(s, 1100, 1900);
		CU_ASSERT_EQUAL(nprimaries(s), 0);
		sim_run(s, 2000, 2000);
		CU_ASSERT_EQUAL(nprimaries(s), 1);
		CU_ASSERT_EQUAL(role_current(s->ctx[i == 0 ? 2 : 1]),
		    HA_ROLE_PRIMARY);
		sim_run(s, 2100, 2100);
		CU_ASSERT_EQUAL(role_current(s->ctx[i == 0 ? 1 : 2]),
		    HA_ROLE_SECONDARY);
		CU_ASSERT_EQUAL(role_epoch(s->ctx[1]), 2);
		CU_ASSERT_EQUAL(role_epoch(s->ctx[2]), 2);
		CU_ASSERT_EQUAL(log_has(s, i == 0 ?
		    "following primary peer 3 (epoch 2)" :
		    "following primary peer 2 (epoch 2)"), 1);
		sim_run(s, 2200, 10000);
		CU_ASSERT_EQUAL(nprimaries(s), 1);
		sim_free(s);
	}
}

/* Two secondaries whose views of each other are a heartbeat old both rank
 * themselves best when the primary dies: neither may promote on that; once
 * the views agree exactly one does. (Before votes, both did: two
 * primaries at the same epoch, each acknowledging writes.) */
static void
test_votes_stale_views(void)
{
	struct sim *s;

	s = sim_new(3);
	sim_start(s, 0, 0);
	sim_start(s, 1, 0);
	sim_start(s, 2, 0);
	sim_run(s, 0, 1000);
	CU_ASSERT_EQUAL_FATAL(role_current(s->ctx[0]), HA_ROLE_PRIMARY);
	s->lsn[1].offset = 400;
	s->lsn[2].offset = 500;
	s->view[1][2] = 300;            /* node 2 believes node 3 behind it */
	sim_kill(s, 0);
	sim_run(s, 1100, 4000);
	CU_ASSERT_EQUAL(nprimaries(s), 0);
	CU_ASSERT_EQUAL(s->max_primaries, 1);   /* node 1, before the kill */
	s->view[1][2] = 0;              /* the next heartbeat tells the truth */
	sim_run(s, 4100, 4100);
	CU_ASSERT_EQUAL(nprimaries(s), 1);
	CU_ASSERT_EQUAL(role_current(s->ctx[2]), HA_ROLE_PRIMARY);
	CU_ASSERT_EQUAL(log_has(s, "silent for 3100 ms (deadInterval 1000 "
	    "ms), database startup done, pingable IP answers, best of 2 live "
	    "nodes, every live peer votes for it; epoch 2"), 1);
	sim_run(s, 4200, 8000);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_SECONDARY);
	CU_ASSERT_EQUAL(s->max_primaries, 1);
	sim_free(s);

	/* the same at start: three STARTING nodes, crossed views */
	s = sim_new(3);
	s->lsn[1].offset = 400;
	s->lsn[2].offset = 500;
	s->view[2][0] = 600;            /* node 3 believes node 1 ahead */
	s->view[1][2] = 300;
	s->view[0][1] = 300;
	s->view[0][2] = 300;            /* node 1 believes it is best */
	sim_start(s, 0, 0);
	sim_start(s, 1, 0);
	sim_start(s, 2, 0);
	sim_run(s, 0, 10000);
	CU_ASSERT(s->max_primaries <= 1);
	sim_free(s);
}

/* A vote counts only in the round it was cast for. */
static void
test_votes_rounds(void)
{
	struct role_config c;
	struct role_peer_info pi;
	struct role_decision d;
	struct role_ctx *x;
	char *dir, path[512], err[512];
	enum log_level lvl = log_get_level();
	int i;

	log_set_level(LOG_LVL_ERR);
	dir = unit_tmpdir();
	snprintf(path, sizeof(path), "%s/state", dir);
	memset(&c, 0, sizeof(c));
	for (i = 0; i < 3; i++) {
		c.nodes[i].eid = i + 1;
		c.nodes[i].pref = i;
	}
	c.nnodes = 3;
	c.self = 1;                     /* node 2; node 1 never heard */
	c.dead_ms = DEAD;
	c.start_wait_ms = WAIT;
	c.state_path = path;
	c.round_seed = 41;
	x = role_new(&c, 0, err, sizeof(err));
	CU_ASSERT_FATAL(x != NULL);
	role_local_db(x, 1, (struct role_lsn){ 1, 500 }, 1);
	role_pingable(x, 1, 0);
	memset(&pi, 0, sizeof(pi));
	pi.role = HA_ROLE_SECONDARY;
	pi.gen = 1;
	pi.lsn.file = 1;
	pi.lsn.offset = 100;
	pi.build_match = 1;
	pi.startup_done = 1;
	pi.pingable = 1;
	pi.vote_eid = 2;
	pi.vote_round = 41;             /* cast before node 2 stood */
	CU_ASSERT(role_peer_heard(x, 3, 2500, &pi, err, sizeof(err)) == 0);
	role_tick(x, 2500, &d);
	CU_ASSERT_EQUAL(d.action, ROLE_ACT_NONE);
	role_advertise(x, 2500, &pi);
	CU_ASSERT_EQUAL(pi.vote_eid, 2);
	CU_ASSERT_EQUAL(pi.vote_round, 42);
	/* a vote for another node does not count either */
	memset(&pi, 0, sizeof(pi));
	pi.role = HA_ROLE_SECONDARY;
	pi.gen = 1;
	pi.lsn = (struct role_lsn){ 1, 100 };
	pi.build_match = pi.startup_done = pi.pingable = 1;
	pi.vote_eid = 3;
	pi.vote_round = 42;
	CU_ASSERT(role_peer_heard(x, 3, 2600, &pi, err, sizeof(err)) == 0);
	role_tick(x, 2600, &d);
	CU_ASSERT_EQUAL(d.action, ROLE_ACT_NONE);
	/* the vote for its round */
	pi.vote_eid = 2;
	CU_ASSERT(role_peer_heard(x, 3, 2700, &pi, err, sizeof(err)) == 0);
	role_tick(x, 2700, &d);
	CU_ASSERT_EQUAL(d.action, ROLE_ACT_PRIMARY);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.reason, "every live peer votes"));
	role_free(x);
	log_set_level(lvl);
	unit_rmtree(dir);
	free(dir);
}

/* Heartbeats from a peer's address that fail authentication: a node is
 * there, only not understood (another HMACKey): never promote on it. */
static void
test_unauth_peer(void)
{
	struct sim *s;

	/* at start, alone with a peer of another key: not PRIMARY */
	s = sim_new(2);
	s->unauth[1][0] = s->unauth[0][1] = 1;
	sim_start(s, 0, 0);
	sim_start(s, 1, 0);
	sim_run(s, 0, 3 * WAIT);
	CU_ASSERT_EQUAL(s->max_primaries, 0);
	CU_ASSERT_EQUAL(role_current(s->ctx[0]), HA_ROLE_SECONDARY);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_SECONDARY);
	CU_ASSERT_EQUAL(log_has(s, "sends heartbeats that fail "
	    "authentication"), 2);
	CU_ASSERT(role_peer_unauth_present(s->ctx[0], 2, 3 * WAIT));
	/* the packets stop (that node is gone): after deadInterval, the
	 * remaining node may lead */
	s->unauth[1][0] = s->unauth[0][1] = 0;
	sim_kill(s, 1);
	sim_run(s, 3 * WAIT + STEP, 3 * WAIT + STEP + DEAD);
	CU_ASSERT_EQUAL(role_current(s->ctx[0]), HA_ROLE_PRIMARY);
	sim_free(s);

	/* a running pair: the primary comes back with another key after a
	 * crash; the secondary does not take over while it hears it */
	s = sim_pair();
	sim_kill(s, 0);
	sim_start(s, 0, 1100);
	s->unauth[1][0] = s->unauth[0][1] = 1;
	sim_run(s, 1100, 10000);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_SECONDARY);
	CU_ASSERT_EQUAL(s->max_primaries, 1);   /* node 1 before the kill */
	CU_ASSERT_EQUAL(nprimaries(s), 0);
	sim_free(s);
}

/* A primary whose database server cannot serve (a full disk) hands the
 * role to an in-sync secondary; without one it stays. A faulty node is
 * never elected. */
static void
test_fault(void)
{
	struct sim *s;

	s = sim_pair();
	s->fault[0] = "the disk refuses writes";
	sim_run(s, 1100, 1100);
	CU_ASSERT_EQUAL(role_current(s->ctx[0]), HA_ROLE_SECONDARY);
	CU_ASSERT_EQUAL(log_has(s, "role change PRIMARY -> SECONDARY, reason: "
	    "this node's database server cannot serve (the disk refuses "
	    "writes): handing the primary role to in-sync peer 2\n"), 1);
	sim_run(s, 1200, 1200);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_PRIMARY);
	sim_run(s, 1300, 6000);
	CU_ASSERT_EQUAL(nprimaries(s), 1);
	CU_ASSERT_EQUAL(role_current(s->ctx[0]), HA_ROLE_SECONDARY);
	sim_free(s);

	/* no in-sync secondary: it stays, and says so */
	s = sim_pair();
	s->dirty[1] = 1;
	s->fault[0] = "the disk refuses writes";
	sim_run(s, 1100, 3000);
	CU_ASSERT_EQUAL(role_current(s->ctx[0]), HA_ROLE_PRIMARY);
	CU_ASSERT(role_fault_stays(s->ctx[0], 3000));
	/* the secondary catches up: now it hands over */
	s->dirty[1] = 0;
	sim_run(s, 3100, 3300);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_PRIMARY);
	sim_free(s);

	/* a faulty secondary does not take over when the primary dies */
	s = sim_pair();
	s->fault[1] = "highAvailSvr exited 3 times within 60 s";
	sim_kill(s, 0);
	sim_run(s, 1100, 10000);
	CU_ASSERT_EQUAL(nprimaries(s), 0);
	s->fault[1] = NULL;
	sim_run(s, 10100, 10100);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_PRIMARY);
	sim_free(s);
}

/* A node that never heard from its database server votes for nobody, so
 * a peer with less data cannot be elected past it. */
static void
test_unknown_db(void)
{
	struct sim *s;
	struct role_peer_info pi;

	s = sim_new(3);
	sim_start(s, 0, 0);
	sim_start(s, 1, 0);
	sim_start(s, 2, 0);
	sim_run(s, 0, 1000);
	CU_ASSERT_EQUAL_FATAL(role_current(s->ctx[0]), HA_ROLE_PRIMARY);
	sim_kill(s, 0);
	/* node 3 restarts; its guisvr has not reported yet */
	sim_kill(s, 2);
	s->ctx[2] = NULL;
	sim_start(s, 2, 1100);
	s->startup[2] = 0;
	role_local_db_lost(s->ctx[2]);
	role_advertise(s->ctx[2], 1100, &pi);
	CU_ASSERT_EQUAL(pi.vote_eid, 0);
	CU_ASSERT_EQUAL(pi.startup_done, 0);
	sim_free(s);
}

static void
test_build_mismatch(void)
{
	struct sim *s = sim_new(2);

	s->build[1] = 2;
	s->startup[1] = 0;              /* sync refused: it never catches up */
	sim_start(s, 0, 0);
	sim_run(s, 0, 2500);
	sim_start(s, 1, 2500);
	sim_run(s, 2500, 3000);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_SECONDARY);
	CU_ASSERT(s->refused_seen[0]);
	CU_ASSERT(s->refused_seen[1]);
	CU_ASSERT_EQUAL(s->last[1].mismatch_eid, 1);
	CU_ASSERT_EQUAL(log_has(s, "role change STARTING -> SECONDARY, reason: "
	    "peer 1 is PRIMARY (epoch 1); database sync refused: peer 1 runs a "
	    "different build\n"), 1);
	/* its database never synced: it does not take over */
	sim_kill(s, 0);
	sim_run(s, 3100, 10000);
	CU_ASSERT_EQUAL(role_current(s->ctx[1]), HA_ROLE_SECONDARY);
	sim_free(s);
}

static void
test_bad_input(void)
{
	struct role_config cfg;
	struct role_peer_info pi;
	struct role_ctx *c;
	char *dir = unit_tmpdir(), path[512], err[512];
	enum log_level lvl = log_get_level();

	snprintf(path, sizeof(path), "%s/role", dir);
	memset(&cfg, 0, sizeof(cfg));
	cfg.nnodes = 2;
	cfg.nodes[0].eid = 1;
	cfg.nodes[1].eid = 1;
	cfg.dead_ms = DEAD;
	cfg.state_path = path;
	CU_ASSERT_PTR_NULL(role_new(&cfg, 0, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "eid 1 appears twice"));
	cfg.nodes[1].eid = 2;
	cfg.self = 2;
	CU_ASSERT_PTR_NULL(role_new(&cfg, 0, err, sizeof(err)));
	cfg.self = 0;
	log_set_level(LOG_LVL_NOTICE);  /* keep "role state" off stderr */
	c = role_new(&cfg, 0, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	memset(&pi, 0, sizeof(pi));
	pi.role = HA_ROLE_PRIMARY;
	CU_ASSERT_EQUAL(role_peer_heard(c, 1, 0, &pi, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(role_peer_heard(c, 9, 0, &pi, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "eid 9"));
	pi.role = (enum ha_role)7;
	CU_ASSERT_EQUAL(role_peer_heard(c, 2, 0, &pi, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown role 7"));
	role_free(c);
	log_set_level(lvl);
	unit_rmtree(dir);
	free(dir);
}

void
test_role_register(void)
{
	CU_pSuite s = CU_add_suite("role", NULL, NULL);

	CU_add_test(s, "names", test_names);
	CU_add_test(s, "start alone, pingable", test_start_alone);
	CU_add_test(s, "start alone, isolated", test_start_alone_isolated);
	CU_add_test(s, "two nodes start", test_two_start);
	CU_add_test(s, "failover after deadInterval", test_failover);
	CU_add_test(s, "isolated primary steps down", test_stepdown);
	CU_add_test(s, "two primaries", test_two_primaries);
	CU_add_test(s, "epoch persisted", test_persist);
	CU_add_test(s, "corrupt state file", test_corrupt);
	CU_add_test(s, "switchover", test_switchover);
	CU_add_test(s, "promote", test_promote);
	CU_add_test(s, "forced promote while isolated", test_forced_isolated);
	CU_add_test(s, "a secondary lacking acknowledged writes holds back",
	    test_lacks_acked);
	CU_add_test(s, "arbiter: the leader key decides", test_arbiter);
	CU_add_test(s, "three nodes", test_three_nodes);
	CU_add_test(s, "votes: stale views", test_votes_stale_views);
	CU_add_test(s, "votes: rounds", test_votes_rounds);
	CU_add_test(s, "peer present, not authenticated", test_unauth_peer);
	CU_add_test(s, "a primary that cannot serve hands over", test_fault);
	CU_add_test(s, "own database never reported", test_unknown_db);
	CU_add_test(s, "build mismatch", test_build_mismatch);
	CU_add_test(s, "bad input", test_bad_input);
}
