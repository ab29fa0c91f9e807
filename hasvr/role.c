/* role.c — hasvr's role decisions (see role.h for the rules and terms).
 * Nothing here reads a clock or touches the network: every input arrives
 * with its time, so the unit tests replay any history deterministically. */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomicfile.h"
#include "log.h"
#include "lsn.h"
#include "util.h"
#include "role.h"

#define ROLE_FILE_MAX   4096

struct role_peer {
	int eid, pref;
	int heard;                      /* a heartbeat arrived since start */
	uint64_t last_ms;               /* when the latest one arrived */
	struct role_peer_info info;
	int unauth;                     /* a datagram failed authentication */
	uint64_t unauth_ms;             /* when the latest such one came */
};

struct role_ctx {
	int self_eid, self_pref;
	uint64_t dead_ms, start_wait_ms;
	char path[PATH_MAX];
	uint64_t start_ms;

	enum ha_role role;
	enum ha_role last_role;      /* from the state file, for the record */
	int served;                     /* the state file has a term (epoch > 0):
					 * at start, wait for every peer */
	uint32_t epoch;                 /* the term we are in */
	uint32_t max_epoch;             /* the highest epoch seen anywhere */
	int (*persist)(const char *, const char *, size_t, char *, size_t,
	    void *);                    /* role_config's, NULL: here */
	void *persist_arg;
	int primary_eid;                /* the primary we follow, 0 none */
	int following;                  /* syncing from a primary in this run */
	int keep_acked;                 /* role_config's */
	int lacks_acked;                /* the primary that left us out of its
					 * in-sync set (role.h), 0 none */
	int lacks_told;                 /* "will not take over" logged */
	int arb_on, arb_leader, arb_held;  /* role_arbiter */

	uint32_t gen;
	struct role_lsn lsn;
	int startup_done;
	int db_known;                   /* guisvr reported in this run */
	int db_live;                    /* ... and its reports are current */
	int fault;                      /* role_local_fault */
	char fault_why[160];

	int ping_ok;
	uint64_t ping_since;            /* last change of ping_ok */
	uint64_t ping_at;               /* when the last check was sent */

	int handoff_eid;                /* switchover successor, 0 none */
	uint64_t handoff_ms;

	int req_switch_eid;             /* accepted requests, for the next tick */
	int req_promote, req_force;
	int forced;                     /* primary by a forced promote: not
					 * stepped down as isolated until
					 * the pingable IP answers again */

	int vote_eid;                   /* our vote (role.h, Votes) */
	uint32_t vote_round;
	uint32_t cand_round;            /* our own candidacy round */

	struct role_peer peers[ROLE_MAX_NODES];
	int npeers;
};

/* Who should be primary: the key of the candidate order in role.h. */
struct role_cand {
	int eid, pref;
	uint32_t epoch, gen;
	struct role_lsn lsn;
};

/* The state file's spelling, also halink's. */
static const char *
role_file_name(enum ha_role r)
{
	return r == HA_ROLE_PRIMARY ? "primary" : "secondary";
}

static uint64_t
elapsed(uint64_t now, uint64_t since)
{
	/* a clock that goes back must not make a silent peer look dead */
	return now > since ? now - since : 0;
}

static int
peer_live(const struct role_ctx *ctx, const struct role_peer *p, uint64_t now)
{
	return p->heard && elapsed(now, p->last_ms) < ctx->dead_ms;
}

static struct role_peer *
peer_find(const struct role_ctx *ctx, int eid)
{
	int i;

	for (i = 0; i < ctx->npeers; i++)
		if (ctx->peers[i].eid == eid)
			return (struct role_peer *)&ctx->peers[i];
	return NULL;
}

/* (generation, LSN): how far a database has got. */
static int
db_cmp(uint32_t ga, struct role_lsn la, uint32_t gb, struct role_lsn lb)
{
	if (ga != gb)
		return ga < gb ? -1 : 1;
	return lsn_cmp(LSN_OF(la), LSN_OF(lb));
}

static int
cand_better(const struct role_cand *a, const struct role_cand *b)
{
	int c;

	if (a->epoch != b->epoch)
		return a->epoch > b->epoch;
	if ((c = db_cmp(a->gen, a->lsn, b->gen, b->lsn)) != 0)
		return c > 0;
	if (a->pref != b->pref)
		return a->pref < b->pref;
	return a->eid < b->eid;
}

/* a holds more of the history than b: a later term, or more of it */
static int
db_ahead(const struct role_cand *a, const struct role_cand *b)
{
	if (a->epoch != b->epoch)
		return a->epoch > b->epoch;
	return db_cmp(a->gen, a->lsn, b->gen, b->lsn) > 0;
}

static void
cand_self(const struct role_ctx *ctx, struct role_cand *c)
{
	c->eid = ctx->self_eid;
	c->pref = ctx->self_pref;
	c->epoch = ctx->epoch;
	c->gen = ctx->gen;
	c->lsn = ctx->lsn;
}

static void
cand_peer(const struct role_peer *p, struct role_cand *c)
{
	c->eid = p->eid;
	c->pref = p->pref;
	c->epoch = p->info.epoch;
	c->gen = p->info.gen;
	c->lsn = p->info.lsn;
}

static void
cand_fmt(const struct role_cand *c, char *buf, size_t len)
{
	snprintf(buf, len, "epoch %u, gen %u, lsn %u/%u, preference %d",
	    c->epoch, c->gen, c->lsn.file, c->lsn.offset, c->pref);
}

int
role_db_ready(const struct role_ctx *ctx)
{
	/* a node that syncs from a primary holds a usable copy only once
	 * its startup sync is done; otherwise it has what recovery gave */
	return !ctx->following || ctx->startup_done;
}

static int
self_able(const struct role_ctx *ctx)
{
	return ctx->db_live && !ctx->fault && role_db_ready(ctx) &&
	    ctx->ping_ok;
}

/* able, and holding every write a primary acknowledged (role.h,
 * Acknowledged writes): may win an election */
static int
self_electable(const struct role_ctx *ctx)
{
	return self_able(ctx) && ctx->lacks_acked == 0 &&
	    (!ctx->arb_on || ctx->arb_leader != -1);
}

/* What a peer's heartbeat says makes it a candidate (role.h, able; in
 * arbiter mode it must reach etcd too). */
static int
peer_able(const struct role_ctx *ctx, const struct role_peer *p)
{
	return p->info.startup_done && p->info.pingable &&
	    (!ctx->arb_on || p->info.arbiter_ok);
}

static uint32_t
next_epoch(const struct role_ctx *ctx)
{
	uint32_t m = ctx->max_epoch > ctx->epoch ? ctx->max_epoch : ctx->epoch;

	return m + 1;
}

/* The live peer claiming PRIMARY that wins among several: higher epoch,
 * then better preference, then lower eid (the two-primaries order). */
static const struct role_peer *
live_primary(const struct role_ctx *ctx, uint64_t now)
{
	const struct role_peer *p, *best = NULL;
	int i;

	for (i = 0; i < ctx->npeers; i++) {
		p = &ctx->peers[i];
		if (!peer_live(ctx, p, now) || p->info.role != HA_ROLE_PRIMARY)
			continue;
		if (best == NULL || p->info.epoch > best->info.epoch ||
		    (p->info.epoch == best->info.epoch &&
		    (p->pref < best->pref ||
		    (p->pref == best->pref && p->eid < best->eid))))
			best = p;
	}
	return best;
}

static int
handoff_active(const struct role_ctx *ctx, uint64_t now)
{
	return ctx->handoff_eid != 0 &&
	    elapsed(now, ctx->handoff_ms) < ctx->dead_ms;
}

struct role_ctx *
role_new(const struct role_config *cfg, uint64_t now_ms, char *err,
    size_t errlen)
{
	struct role_ctx *ctx;
	const struct role_node *n;
	int i, j, rc;

	if (cfg->nnodes < 1 || cfg->nnodes > ROLE_MAX_NODES ||
	    cfg->self < 0 || cfg->self >= cfg->nnodes) {
		snprintf(err, errlen, "role: bad node list (%d nodes, self %d)",
		    cfg->nnodes, cfg->self);
		return NULL;
	}
	if (cfg->dead_ms == 0) {
		snprintf(err, errlen, "role: deadInterval must be positive");
		return NULL;
	}
	if (cfg->state_path == NULL ||
	    strlen(cfg->state_path) >= sizeof(ctx->path)) {
		snprintf(err, errlen, "role: state file path missing or too long");
		return NULL;
	}
	for (i = 0; i < cfg->nnodes; i++)
		for (j = i + 1; j < cfg->nnodes; j++)
			if (cfg->nodes[i].eid == cfg->nodes[j].eid) {
				snprintf(err, errlen, "role: eid %d appears twice "
				    "in the node list", cfg->nodes[i].eid);
				return NULL;
			}
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL) {
		snprintf(err, errlen, "role: out of memory");
		return NULL;
	}
	ctx->self_eid = cfg->nodes[cfg->self].eid;
	ctx->self_pref = cfg->nodes[cfg->self].pref;
	ctx->dead_ms = cfg->dead_ms;
	ctx->start_wait_ms = cfg->start_wait_ms;
	util_strlcpy(ctx->path, cfg->state_path, sizeof(ctx->path));
	ctx->persist = cfg->persist;
	ctx->persist_arg = cfg->persist_arg;
	ctx->start_ms = now_ms;
	ctx->ping_since = now_ms;
	ctx->role = HA_ROLE_STARTING;
	ctx->cand_round = cfg->round_seed;
	ctx->keep_acked = cfg->keep_acked != 0;
	for (i = 0; i < cfg->nnodes; i++) {
		if (i == cfg->self)
			continue;
		n = &cfg->nodes[i];
		ctx->peers[ctx->npeers].eid = n->eid;
		ctx->peers[ctx->npeers].pref = n->pref;
		ctx->npeers++;
	}
	rc = role_load(ctx->path, &ctx->epoch, &ctx->last_role, err, errlen);
	if (rc == -1) {
		free(ctx);
		return NULL;
	}
	ctx->max_epoch = ctx->epoch;
	ctx->served = rc == 1 && ctx->epoch > 0;
	if (rc == 1)
		log_info("role state %s: epoch %u, last role %s", ctx->path,
		    ctx->epoch, ha_role_name(ctx->last_role));
	else
		log_info("role state %s: none yet, starting at epoch 0",
		    ctx->path);
	return ctx;
}

void
role_free(struct role_ctx *ctx)
{
	free(ctx);
}

static int
load_fail(char *err, size_t errlen, const char *path, int line,
    const char *what)
{
	snprintf(err, errlen, "role state %s line %d: %s; expected the two "
	    "lines \"epoch N\" and \"role primary|secondary\" — fix or remove "
	    "the file (the node then starts at epoch 0 and learns the epoch "
	    "from its peers)", path, line, what);
	return -1;
}

int
role_load(const char *path, uint32_t *epoch, enum ha_role *last,
    char *err, size_t errlen)
{
	struct stat st;
	char *buf, *line, *next, *val, *end, what[128];
	size_t len;
	unsigned long long v;
	int lineno = 0, have_epoch = 0, have_role = 0;

	*epoch = 0;
	*last = HA_ROLE_STARTING;
	if (stat(path, &st) == -1) {
		if (errno == ENOENT)
			return 0;       /* first start: nothing to remember */
		snprintf(err, errlen, "role state %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if ((buf = util_read_file(path, ROLE_FILE_MAX, &len, err,
	    errlen)) == NULL)
		return -1;
	if (strlen(buf) != len) {
		free(buf);
		return load_fail(err, errlen, path, 1, "NUL byte in the file");
	}
	for (line = buf; *line != '\0'; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if ((val = strchr(line, ' ')) == NULL) {
			snprintf(what, sizeof(what), "\"%.40s\" is not \"key "
			    "value\"", line);
			goto bad;
		}
		*val++ = '\0';
		if (strcmp(line, "epoch") == 0) {
			if (have_epoch++) {
				util_strlcpy(what, "epoch given twice",
				    sizeof(what));
				goto bad;
			}
			errno = 0;
			v = strtoull(val, &end, 10);
			if (*val < '0' || *val > '9' || *end != '\0' ||
			    errno != 0 || v > UINT32_MAX) {
				snprintf(what, sizeof(what), "epoch \"%.40s\" is "
				    "not a number from 0 to %u", val,
				    UINT32_MAX);
				goto bad;
			}
			*epoch = (uint32_t)v;
		} else if (strcmp(line, "role") == 0) {
			if (have_role++) {
				util_strlcpy(what, "role given twice",
				    sizeof(what));
				goto bad;
			}
			if (strcmp(val, "primary") == 0)
				*last = HA_ROLE_PRIMARY;
			else if (strcmp(val, "secondary") == 0)
				*last = HA_ROLE_SECONDARY;
			else {
				snprintf(what, sizeof(what), "unknown role "
				    "\"%.40s\"", val);
				goto bad;
			}
		} else {
			snprintf(what, sizeof(what), "unknown key \"%.40s\"",
			    line);
			goto bad;
		}
	}
	free(buf);
	if (!have_epoch || !have_role)
		return load_fail(err, errlen, path, lineno + 1,
		    have_epoch ? "role missing" : "epoch missing");
	return 1;
bad:
	free(buf);
	*epoch = 0;
	*last = HA_ROLE_STARTING;
	return load_fail(err, errlen, path, lineno, what);
}

int
role_peer_heard(struct role_ctx *ctx, int eid, uint64_t now_ms,
    const struct role_peer_info *pi, char *err, size_t errlen)
{
	struct role_peer *p;

	if ((p = peer_find(ctx, eid)) == NULL) {
		snprintf(err, errlen, "heartbeat from eid %d, which is not a "
		    "configured peer of node %d", eid, ctx->self_eid);
		return -1;
	}
	if ((int)pi->role < 0 || pi->role > HA_ROLE_SECONDARY) {
		snprintf(err, errlen, "heartbeat from peer %d: unknown role %d",
		    eid, (int)pi->role);
		return -1;
	}
	p->heard = 1;
	p->last_ms = now_ms;
	p->info = *pi;
	if (ctx->keep_acked && pi->role == HA_ROLE_PRIMARY &&
	    ctx->role != HA_ROLE_PRIMARY && eid == ctx->primary_eid &&
	    ha_eid_bit(ctx->self_eid) != 0) {
		int out = (pi->insync_set & ha_eid_bit(ctx->self_eid)) == 0;

		if (out && ctx->lacks_acked != eid)
			log_notice("primary peer %d acknowledges writes this node "
			    "does not have (it is dirty): this node does not "
			    "take over by itself until it has caught up", eid);
		else if (!out && ctx->lacks_acked != 0)
			log_notice("primary peer %d holds this node in sync "
			    "again: it may take over", eid);
		ctx->lacks_acked = out ? eid : 0;
		if (!out)
			ctx->lacks_told = 0;
	}
	/* every epoch seen counts: a new term must be above all of them */
	if (pi->epoch > ctx->max_epoch)
		ctx->max_epoch = pi->epoch;
	return 0;
}

void
role_local_db(struct role_ctx *ctx, uint32_t gen, struct role_lsn lsn,
    int startup_done)
{
	ctx->gen = gen;
	ctx->lsn = lsn;
	ctx->startup_done = startup_done != 0;
	ctx->db_known = ctx->db_live = 1;
}

void
role_local_db_lost(struct role_ctx *ctx)
{
	ctx->db_live = 0;
}

void
role_local_fault(struct role_ctx *ctx, const char *why)
{
	ctx->fault = why != NULL;
	util_strlcpy(ctx->fault_why, why != NULL ? why : "",
	    sizeof(ctx->fault_why));
}

void
role_pingable(struct role_ctx *ctx, int reachable, uint64_t now_ms)
{
	reachable = reachable != 0;
	ctx->ping_at = now_ms;
	if (reachable)
		ctx->forced = 0;
	if (reachable != ctx->ping_ok) {
		ctx->ping_ok = reachable;
		ctx->ping_since = now_ms;
	}
}

void
role_peer_unauth(struct role_ctx *ctx, int eid, uint64_t now_ms)
{
	struct role_peer *p;

	if ((p = peer_find(ctx, eid)) == NULL)
		return;
	p->unauth = 1;
	p->unauth_ms = now_ms;
}

static int
peer_unauth_present(const struct role_ctx *ctx, const struct role_peer *p,
    uint64_t now)
{
	return p->unauth && elapsed(now, p->unauth_ms) < ctx->dead_ms &&
	    !peer_live(ctx, p, now);
}

int
role_peer_unauth_present(const struct role_ctx *ctx, int eid,
    uint64_t now_ms)
{
	const struct role_peer *p = peer_find(ctx, eid);

	return p != NULL && peer_unauth_present(ctx, p, now_ms);
}

/* The first configured peer that is present but not understood, or NULL. */
static const struct role_peer *
unauth_peer(const struct role_ctx *ctx, uint64_t now)
{
	int i;

	for (i = 0; i < ctx->npeers; i++)
		if (peer_unauth_present(ctx, &ctx->peers[i], now))
			return &ctx->peers[i];
	return NULL;
}

/* The best able live secondary, or the one named; NULL and why not. */
static const struct role_peer *
switch_target(const struct role_ctx *ctx, int eid, uint64_t now, char *why,
    size_t whylen)
{
	const struct role_peer *p, *best = NULL;
	struct role_cand a, b;
	int i;

	snprintf(why, whylen, "no peer heard for %llu ms",
	    (unsigned long long)ctx->dead_ms);
	for (i = 0; i < ctx->npeers; i++) {
		p = &ctx->peers[i];
		if (eid != 0 && p->eid != eid)
			continue;
		if (!peer_live(ctx, p, now)) {
			if (eid != 0)
				snprintf(why, whylen, "peer %d is not alive "
				    "(no heartbeat for %llu ms)", p->eid,
				    (unsigned long long)ctx->dead_ms);
			continue;
		}
		if (p->info.role != HA_ROLE_SECONDARY)
			snprintf(why, whylen, "peer %d is %s, not SECONDARY",
			    p->eid, ha_role_name(p->info.role));
		else if (!p->info.build_match)
			snprintf(why, whylen, "peer %d runs a different "
			    "software build", p->eid);
		else if (!p->info.startup_done)
			snprintf(why, whylen, "peer %d has not finished its "
			    "startup sync", p->eid);
		else if (!p->info.pingable)
			snprintf(why, whylen, "peer %d cannot reach the "
			    "pingable IP", p->eid);
		else {
			cand_peer(p, &a);
			if (best != NULL)
				cand_peer(best, &b);
			if (best == NULL || cand_better(&a, &b))
				best = p;
		}
	}
	if (eid != 0 && peer_find(ctx, eid) == NULL)
		snprintf(why, whylen, "eid %d is not a configured peer", eid);
	return best;
}

int
role_request_switchover(struct role_ctx *ctx, int target_eid,
    uint64_t now_ms, char *msg, size_t msglen)
{
	const struct role_peer *p;
	char why[160];

	if (ctx->role != HA_ROLE_PRIMARY) {
		if (ctx->primary_eid != 0)
			snprintf(msg, msglen, "switchover refused: this node "
			    "is %s; run it on the primary (peer %d)",
			    ha_role_name(ctx->role), ctx->primary_eid);
		else
			snprintf(msg, msglen, "switchover refused: this node "
			    "is %s and no primary is known; use promote if "
			    "the primary is dead", ha_role_name(ctx->role));
		return 0;
	}
	if (ctx->req_switch_eid != 0) {
		snprintf(msg, msglen, "switchover refused: a switchover to "
		    "peer %d is already under way", ctx->req_switch_eid);
		return 0;
	}
	if ((p = switch_target(ctx, target_eid, now_ms, why,
	    sizeof(why))) == NULL) {
		snprintf(msg, msglen, "switchover refused: %s; nothing "
		    "changed, this node stays PRIMARY", why);
		return 0;
	}
	ctx->req_switch_eid = p->eid;
	snprintf(msg, msglen, "switchover accepted: this node stops writes "
	    "and becomes SECONDARY; peer %d takes over as PRIMARY with epoch "
	    "%u once it has caught up", p->eid, next_epoch(ctx));
	return 1;
}

int
role_request_promote(struct role_ctx *ctx, int force, uint64_t now_ms,
    char *msg, size_t msglen)
{
	const struct role_peer *pp;

	if (ctx->role == HA_ROLE_PRIMARY) {
		snprintf(msg, msglen, "promote refused: this node is already "
		    "PRIMARY (epoch %u)", ctx->epoch);
		return 0;
	}
	pp = live_primary(ctx, now_ms);
	if (!force) {
		if (pp != NULL) {
			snprintf(msg, msglen, "promote refused: peer %d is "
			    "PRIMARY and its heartbeat is alive (last heard "
			    "%llu ms ago); promote is for a dead primary — use "
			    "switchover, or force", pp->eid,
			    (unsigned long long)elapsed(now_ms, pp->last_ms));
			return 0;
		}
		if (!role_db_ready(ctx)) {
			snprintf(msg, msglen, "promote refused: the database "
			    "has not finished its startup sync from the "
			    "primary, so it may be incomplete; force promotes "
			    "anyway");
			return 0;
		}
		if (ctx->lacks_acked != 0) {
			snprintf(msg, msglen, "promote refused: primary peer %d "
			    "acknowledged writes this node does not have (it "
			    "was dirty); force promotes anyway, and those "
			    "writes are kept aside, not in the database, when "
			    "peer %d returns", ctx->lacks_acked,
			    ctx->lacks_acked);
			return 0;
		}
		if (!ctx->ping_ok) {
			snprintf(msg, msglen, "promote refused: the pingable "
			    "IP does not answer, this node may be isolated; "
			    "force promotes anyway");
			return 0;
		}
	}
	ctx->req_promote = 1;
	ctx->req_force = force != 0;
	if (pp != NULL)
		snprintf(msg, msglen, "forced promote accepted: this node "
		    "becomes PRIMARY with epoch %u; peer %d, still PRIMARY with "
		    "epoch %u, will step down when it hears us",
		    next_epoch(ctx), pp->eid, pp->info.epoch);
	else
		snprintf(msg, msglen, "%spromote accepted: this node becomes "
		    "PRIMARY with epoch %u (no primary heard for %llu ms)",
		    force ? "forced " : "", next_epoch(ctx),
		    (unsigned long long)ctx->dead_ms);
	return 1;
}

static void
decide(struct role_decision *out, enum role_action act, enum ha_role to,
    uint32_t epoch, int primary_eid, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void
decide(struct role_decision *out, enum role_action act, enum ha_role to,
    uint32_t epoch, int primary_eid, const char *fmt, ...)
{
	va_list ap;

	out->action = act;
	out->to = to;
	out->epoch = epoch;
	out->primary_eid = primary_eid;
	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
}

/* A faulty primary's successor: the best live secondary that is able and
 * has every acknowledged write; NULL if none. */
static const struct role_peer *
fault_successor(const struct role_ctx *ctx, uint64_t now)
{
	const struct role_peer *p, *best = NULL;
	struct role_cand a, b;
	int i;

	for (i = 0; i < ctx->npeers; i++) {
		p = &ctx->peers[i];
		if (!peer_live(ctx, p, now) || p->info.role != HA_ROLE_SECONDARY ||
		    !p->info.build_match || !p->info.startup_done ||
		    !p->info.pingable || !p->info.insync)
			continue;
		cand_peer(p, &a);
		if (best != NULL)
			cand_peer(best, &b);
		if (best == NULL || cand_better(&a, &b))
			best = p;
	}
	return best;
}

void
role_arbiter(struct role_ctx *ctx, int on, int leader_eid, int held)
{
	ctx->arb_on = on != 0;
	ctx->arb_leader = leader_eid;
	ctx->arb_held = held != 0;
}

/* Arbiter mode: the leader key has the last word (role.h, Arbiter). */
static void
tick_arbiter(const struct role_ctx *ctx, struct role_decision *out)
{
	if (ctx->role == HA_ROLE_PRIMARY) {
		if (out->action != ROLE_ACT_NONE)
			return;         /* stepping down anyway */
		if (ctx->arb_held) {
			out->want_leader = 1;
			return;
		}
		if (ctx->arb_leader > 0 && ctx->arb_leader != ctx->self_eid)
			decide(out, ROLE_ACT_STEPDOWN, HA_ROLE_SECONDARY,
			    ctx->epoch, 0, "the leader key is held by peer %d",
			    ctx->arb_leader);
		else
			decide(out, ROLE_ACT_STEPDOWN, HA_ROLE_SECONDARY,
			    ctx->epoch, 0, "this node's lease on the leader key "
			    "may have run out (%s): a primary without it takes no "
			    "writes", ctx->arb_leader == -1 ? "etcd does not "
			    "answer" : "the key is gone");
		return;
	}
	if (out->action == ROLE_ACT_PRIMARY) {
		out->want_leader = 1;
		if (!ctx->arb_held) {
			/* not without the key: ask for it, decide later */
			out->action = ROLE_ACT_NONE;
			out->reason[0] = '\0';
		}
		return;
	}
	if (out->action == ROLE_ACT_NONE && ctx->arb_held && self_able(ctx)) {
		out->want_leader = 1;
		decide(out, ROLE_ACT_PRIMARY, HA_ROLE_PRIMARY, next_epoch(ctx), 0,
		    "this node holds the leader key; epoch %u", next_epoch(ctx));
	}
}

int
role_lacks_acked(const struct role_ctx *ctx)
{
	return ctx->role == HA_ROLE_PRIMARY ? 0 : ctx->lacks_acked;
}

int
role_fault_stays(const struct role_ctx *ctx, uint64_t now_ms)
{
	return ctx->role == HA_ROLE_PRIMARY && ctx->fault &&
	    fault_successor(ctx, now_ms) == NULL;
}

static void
tick_primary(const struct role_ctx *ctx, uint64_t now,
    struct role_decision *out)
{
	const struct role_peer *pp, *p;
	int i, any_live = 0;

	if ((pp = live_primary(ctx, now)) != NULL) {
		/* two primaries: the higher epoch wins, then preference */
		if (pp->info.epoch > ctx->epoch) {
			decide(out, ROLE_ACT_SECONDARY, HA_ROLE_SECONDARY,
			    pp->info.epoch, pp->eid, "two primaries: peer %d "
			    "has epoch %u", pp->eid, pp->info.epoch);
			return;
		}
		if (pp->info.epoch == ctx->epoch && (pp->pref < ctx->self_pref ||
		    (pp->pref == ctx->self_pref && pp->eid < ctx->self_eid))) {
			decide(out, ROLE_ACT_SECONDARY, HA_ROLE_SECONDARY,
			    pp->info.epoch, pp->eid, "two primaries: peer %d "
			    "has epoch %u too and wins on preference (%d "
			    "against our %d, then lower eid)", pp->eid,
			    pp->info.epoch, pp->pref, ctx->self_pref);
			return;
		}
		/* we win: the peer steps down when it hears us */
	}
	if (ctx->fault && (p = fault_successor(ctx, now)) != NULL) {
		decide(out, ROLE_ACT_SECONDARY, HA_ROLE_SECONDARY, ctx->epoch, 0,
		    "this node's database server cannot serve (%s): handing "
		    "the primary role to in-sync peer %d", ctx->fault_why,
		    p->eid);
		out->handoff_eid = p->eid;
		return;
	}
	if (ctx->req_switch_eid != 0) {
		decide(out, ROLE_ACT_SECONDARY, HA_ROLE_SECONDARY, ctx->epoch, 0,
		    "switchover to peer %d requested by the administrator",
		    ctx->req_switch_eid);
		out->handoff_eid = ctx->req_switch_eid;
		return;
	}
	for (i = 0; i < ctx->npeers; i++) {
		p = &ctx->peers[i];
		if (peer_live(ctx, p, now))
			any_live = 1;
	}
	/* a primary that reaches nobody may be the one cut off: step down
	 * rather than risk living on beside a new primary */
	if (!any_live && !ctx->ping_ok && !ctx->forced &&
	    elapsed(now, ctx->ping_since) >= ctx->dead_ms) {
		uint64_t last = 0;
		int heard = 0;

		for (i = 0; i < ctx->npeers; i++) {
			p = &ctx->peers[i];
			if (p->heard && (!heard || p->last_ms > last)) {
				last = p->last_ms;
				heard = 1;
			}
		}
		if (!heard)
			last = ctx->start_ms;
		decide(out, ROLE_ACT_STEPDOWN, HA_ROLE_SECONDARY, ctx->epoch, 0,
		    "isolated: no peer heard for %llu ms and pingable IP "
		    "unreachable for %llu ms (deadInterval %llu ms)",
		    (unsigned long long)elapsed(now, last),
		    (unsigned long long)elapsed(now, ctx->ping_since),
		    (unsigned long long)ctx->dead_ms);
	}
}

/* Early at start, before startWait: is the best of all live nodes, able
 * or not, able? If not, deciding now could pass over the freshest data
 * only because its first ping has not answered yet. */
static int
best_is_able(const struct role_ctx *ctx, uint64_t now,
    const struct role_cand *self)
{
	const struct role_peer *p, *bestp = NULL;
	struct role_cand best = *self, c;
	int i;

	for (i = 0; i < ctx->npeers; i++) {
		p = &ctx->peers[i];
		if (!peer_live(ctx, p, now))
			continue;
		cand_peer(p, &c);
		if (cand_better(&c, &best)) {
			best = c;
			bestp = p;
		}
	}
	if (bestp == NULL)
		return self_electable(ctx);
	return peer_able(ctx, bestp);
}

/* The best able node of an election among this node and the live peers
 * (candidate order); 0 if none is able, else 1 with *best set and *bestp
 * the peer (NULL: this node). Only nodes that would promote count, or an
 * election could wait forever. */
static int
election_best(const struct role_ctx *ctx, uint64_t now, struct role_cand *best,
    const struct role_peer **bestp)
{
	const struct role_peer *p;
	struct role_cand c;
	int i, have = 0;

	*bestp = NULL;
	if (self_electable(ctx)) {
		cand_self(ctx, best);
		have = 1;
	}
	for (i = 0; i < ctx->npeers; i++) {
		p = &ctx->peers[i];
		if (!peer_live(ctx, p, now) || !peer_able(ctx, p))
			continue;
		cand_peer(p, &c);
		if (!have || cand_better(&c, best)) {
			*best = c;
			*bestp = p;
			have = 1;
		}
	}
	if (!have || !ctx->keep_acked)
		return have;
	/* sync and strict: never a winner with less than a live node has,
	 * able or not (a pingable IP that answers a second later must not
	 * cost the writes only that node holds); wait for it instead */
	cand_self(ctx, &c);
	if (ctx->db_live && db_ahead(&c, best))
		return 0;
	for (i = 0; i < ctx->npeers; i++) {
		p = &ctx->peers[i];
		if (!peer_live(ctx, p, now))
			continue;
		cand_peer(p, &c);
		if (db_ahead(&c, best))
			return 0;
	}
	return have;
}

/* The round a peer stands in as a candidate, 0 if it does not stand. */
static uint32_t
peer_round(const struct role_peer *p)
{
	return p->info.vote_eid == p->eid ? p->info.vote_round : 0;
}

/* This node's vote (role.h, Votes): as primary itself, else the live
 * primary, else a switchover's successor, else the election's best. */
static void
vote_update(struct role_ctx *ctx, uint64_t now)
{
	const struct role_peer *p, *bestp;
	struct role_cand best, me;
	int want = 0, i;
	uint32_t round = 0;

	if (ctx->role == HA_ROLE_PRIMARY)
		want = ctx->self_eid;
	else if ((p = live_primary(ctx, now)) != NULL)
		want = p->eid;
	else if (handoff_active(ctx, now))
		want = ctx->handoff_eid;
	else {
		for (i = 0; i < ctx->npeers && want == 0; i++) {
			p = &ctx->peers[i];
			if (peer_live(ctx, p, now) && p->info.handoff_eid != 0)
				want = p->info.handoff_eid;
		}
		if (want == 0 && ctx->db_known &&
		    election_best(ctx, now, &best, &bestp)) {
			want = bestp != NULL ? bestp->eid : ctx->self_eid;
			/* our database server is down, but its last position
			 * may be ahead of the best: that one must not lead */
			cand_self(ctx, &me);
			if (!ctx->db_live && !ctx->fault && bestp != NULL &&
			    cand_better(&me, &best))
				want = 0;
		}
		/* never heard from our database server: we cannot rank
		 * ourselves, so we vote for nobody (an election waits) */
	}
	if (want == ctx->self_eid) {
		/* a new candidacy: votes cast before it do not count */
		if (ctx->vote_eid != ctx->self_eid && ++ctx->cand_round == 0)
			ctx->cand_round = 1;
		if (ctx->cand_round == 0)
			ctx->cand_round = 1;
		round = ctx->cand_round;
	} else if (want != 0 && (p = peer_find(ctx, want)) != NULL)
		round = peer_round(p);
	ctx->vote_eid = want;
	ctx->vote_round = round;
}

/* The first live peer that does not vote for this node in its current
 * round, or NULL when they all do. */
static const struct role_peer *
vote_missing(const struct role_ctx *ctx, uint64_t now)
{
	const struct role_peer *p;
	int i;

	for (i = 0; i < ctx->npeers; i++) {
		p = &ctx->peers[i];
		if (peer_live(ctx, p, now) &&
		    (p->info.vote_eid != ctx->self_eid ||
		    p->info.vote_round != ctx->cand_round))
			return p;
	}
	return NULL;
}

static void
tick_standby(const struct role_ctx *ctx, uint64_t now,
    struct role_decision *out)
{
	const struct role_peer *pp, *p, *bestp = NULL, *old, *u;
	struct role_cand self, best;
	char cbuf[96], sbuf[96];
	int i, nlive = 0, have_best;
	uint32_t ep = next_epoch(ctx);

	pp = live_primary(ctx, now);
	if (ctx->req_promote) {
		if (pp != NULL)
			decide(out, ROLE_ACT_PRIMARY, HA_ROLE_PRIMARY, ep, 0,
			    "forced promote requested by the administrator "
			    "(peer %d still PRIMARY with epoch %u); epoch %u",
			    pp->eid, pp->info.epoch, ep);
		else
			decide(out, ROLE_ACT_PRIMARY, HA_ROLE_PRIMARY, ep, 0,
			    "%spromote requested by the administrator; epoch %u",
			    ctx->req_force ? "forced " : "", ep);
		return;
	}
	if (pp != NULL) {
		if (ctx->role == HA_ROLE_STARTING && ctx->served &&
		    pp->info.epoch < ctx->epoch)
			return;         /* role_stale_primary: the admin decides */
		if (ctx->role == HA_ROLE_STARTING)
			decide(out, ROLE_ACT_SECONDARY, HA_ROLE_SECONDARY,
			    pp->info.epoch, pp->eid, "peer %d is PRIMARY "
			    "(epoch %u)", pp->eid, pp->info.epoch);
		else if (pp->eid != ctx->primary_eid ||
		    pp->info.epoch != ctx->epoch)
			decide(out, ROLE_ACT_FOLLOW, HA_ROLE_SECONDARY,
			    pp->info.epoch, pp->eid, "peer %d is PRIMARY "
			    "(epoch %u)", pp->eid, pp->info.epoch);
		return;
	}

	/* no live primary: nothing to decide before guisvr told us what our
	 * database holds */
	if (!ctx->db_known)
		return;
	for (i = 0; i < ctx->npeers; i++) {
		p = &ctx->peers[i];
		if (!peer_live(ctx, p, now))
			continue;
		nlive++;
		if (p->info.handoff_eid == ctx->self_eid) {
			/* planned switchover: take over once nothing the old
			 * primary wrote is missing here */
			if (!self_able(ctx) || db_cmp(ctx->gen, ctx->lsn,
			    p->info.gen, p->info.lsn) < 0)
				return;
			decide(out, ROLE_ACT_PRIMARY, HA_ROLE_PRIMARY, ep, 0,
			    "switchover: peer %d handed over at lsn %u/%u; "
			    "epoch %u", p->eid, p->info.lsn.file,
			    p->info.lsn.offset, ep);
			return;
		}
		if (p->info.handoff_eid != 0)
			return;         /* a switchover to another node */
	}
	if (handoff_active(ctx, now))
		return;                 /* our successor is taking over */
	if (ctx->role == HA_ROLE_STARTING && role_waits_for_all(ctx))
		return;                 /* a peer may hold newer data */
	if (ctx->role == HA_ROLE_STARTING && nlive < ctx->npeers &&
	    elapsed(now, ctx->start_ms) < ctx->start_wait_ms)
		return;                 /* give the peers startWait to appear */

	cand_self(ctx, &self);
	if (ctx->role == HA_ROLE_STARTING &&
	    elapsed(now, ctx->start_ms) < ctx->start_wait_ms &&
	    !best_is_able(ctx, now, &self))
		return;                 /* the best node may not have pinged yet */
	have_best = election_best(ctx, now, &best, &bestp);
	cand_fmt(&self, sbuf, sizeof(sbuf));
	if (have_best && bestp == NULL) {
		if ((u = unauth_peer(ctx, now)) != NULL) {
			/* it may be a primary we cannot hear */
			if (ctx->role == HA_ROLE_STARTING)
				decide(out, ROLE_ACT_SECONDARY, HA_ROLE_SECONDARY,
				    ctx->epoch, 0, "peer %d sends heartbeats that "
				    "fail authentication: it runs but cannot be "
				    "understood, so this node does not take the "
				    "primary role (check highAvail.HMACKey and the "
				    "build on both nodes)", u->eid);
			return;
		}
		if ((p = vote_missing(ctx, now)) != NULL)
			return;         /* next heartbeat: votes for our round */
		old = ctx->primary_eid ? peer_find(ctx, ctx->primary_eid) : NULL;
		if (ctx->role == HA_ROLE_STARTING && nlive == 0)
			decide(out, ROLE_ACT_PRIMARY, HA_ROLE_PRIMARY, ep, 0,
			    "no peer heard within startWait (%llu ms), pingable "
			    "IP answers; epoch %u",
			    (unsigned long long)ctx->start_wait_ms, ep);
		else if (old != NULL && !peer_live(ctx, old, now) &&
		    ctx->ping_at <= old->last_ms)
			out->want_ping = 1;   /* the answer may predate a cut */
		else if (old != NULL && !peer_live(ctx, old, now))
			decide(out, ROLE_ACT_PRIMARY, HA_ROLE_PRIMARY, ep, 0,
			    "primary peer %d silent for %llu ms (deadInterval "
			    "%llu ms), database startup done, pingable IP "
			    "answers, best of %d live node%s%s; epoch %u",
			    old->eid,
			    (unsigned long long)elapsed(now, old->last_ms),
			    (unsigned long long)ctx->dead_ms, nlive + 1,
			    nlive ? "s" : "", nlive ? ", every live peer votes "
			    "for it" : "", ep);
		else
			decide(out, ROLE_ACT_PRIMARY, HA_ROLE_PRIMARY, ep, 0,
			    "no live primary; best candidate of %d live node%s "
			    "(%s), pingable IP answers%s; epoch %u", nlive + 1,
			    nlive ? "s" : "", sbuf, nlive ? ", every live peer "
			    "votes for it" : "", ep);
		return;
	}
	if (ctx->role != HA_ROLE_STARTING)
		return;                 /* a secondary keeps waiting */
	if (have_best) {
		cand_fmt(&best, cbuf, sizeof(cbuf));
		decide(out, ROLE_ACT_SECONDARY, HA_ROLE_SECONDARY, ctx->epoch, 0,
		    "peer %d is the better candidate (%s; ours %s)",
		    bestp->eid, cbuf, sbuf);
	} else if (!ctx->ping_ok)
		decide(out, ROLE_ACT_SECONDARY, HA_ROLE_SECONDARY, ctx->epoch, 0,
		    "pingable IP does not answer and no other node can take "
		    "over; isolated nodes never promote");
	else
		decide(out, ROLE_ACT_SECONDARY, HA_ROLE_SECONDARY, ctx->epoch, 0,
		    "database not ready and no other node can take over");
}

void
role_tick(struct role_ctx *ctx, uint64_t now_ms, struct role_decision *out)
{
	const struct role_peer *p;
	int i;

	vote_update(ctx, now_ms);
	memset(out, 0, sizeof(*out));
	out->action = ROLE_ACT_NONE;
	out->from = out->to = ctx->role;
	out->epoch = ctx->epoch;
	out->primary_eid = ctx->primary_eid;
	for (i = 0; i < ctx->npeers; i++) {
		p = &ctx->peers[i];
		if (peer_live(ctx, p, now_ms) && !p->info.build_match) {
			out->sync_refused = 1;
			out->mismatch_eid = p->eid;
			break;
		}
	}
	if (ctx->role == HA_ROLE_PRIMARY)
		tick_primary(ctx, now_ms, out);
	else
		tick_standby(ctx, now_ms, out);
	if (ctx->arb_on)
		tick_arbiter(ctx, out);
	if (out->action == ROLE_ACT_NONE && ctx->lacks_acked != 0 &&
	    !ctx->lacks_told && (p = peer_find(ctx, ctx->lacks_acked)) != NULL &&
	    !peer_live(ctx, p, now_ms) && self_able(ctx)) {
		/* the one case where a secondary holds back on purpose */
		ctx->lacks_told = 1;
		log_warnx("primary peer %d silent for %llu ms, but it "
		    "acknowledged writes this node does not have (it was "
		    "dirty): not taking over; start peer %d again, or run "
		    "haCtl promote --force here (those writes are then kept "
		    "aside, not in the database, when peer %d returns)",
		    p->eid, (unsigned long long)elapsed(now_ms, p->last_ms),
		    p->eid, p->eid);
	}
	if (out->action == ROLE_ACT_NONE) {
		out->to = ctx->role;
		out->epoch = ctx->epoch;
		out->primary_eid = ctx->primary_eid;
	} else if (out->sync_refused) {
		size_t n = strlen(out->reason);

		snprintf(out->reason + n, sizeof(out->reason) - n,
		    "; database sync refused: peer %d runs a different build",
		    out->mismatch_eid);
	}
}

int
role_commit(struct role_ctx *ctx, const struct role_decision *d,
    uint64_t now_ms, char *err, size_t errlen)
{
	enum ha_role from = ctx->role;
	char buf[64];
	int n;

	if (d->action != ROLE_ACT_NONE && d->action != ROLE_ACT_PRIMARY)
		ctx->forced = 0;
	switch (d->action) {
	case ROLE_ACT_NONE:
		return 0;
	case ROLE_ACT_PRIMARY:
		/* the admin forced it knowing the pingable IP was down */
		ctx->forced = ctx->req_promote && ctx->req_force && !ctx->ping_ok;
		ctx->role = HA_ROLE_PRIMARY;
		ctx->lacks_acked = ctx->lacks_told = 0;
		ctx->primary_eid = 0;
		ctx->following = 0;
		ctx->handoff_eid = 0;
		break;
	case ROLE_ACT_SECONDARY:
		ctx->role = HA_ROLE_SECONDARY;
		ctx->primary_eid = d->primary_eid;
		/* a loser of two primaries must resync before it may lead */
		ctx->following = d->primary_eid != 0;
		ctx->handoff_eid = d->handoff_eid;
		ctx->handoff_ms = now_ms;
		break;
	case ROLE_ACT_STEPDOWN:
		ctx->role = HA_ROLE_SECONDARY;
		ctx->primary_eid = 0;
		ctx->following = 0;
		ctx->handoff_eid = 0;
		break;
	case ROLE_ACT_FOLLOW:
		ctx->role = HA_ROLE_SECONDARY;
		ctx->primary_eid = d->primary_eid;
		ctx->following = 1;
		ctx->handoff_eid = 0;
		break;
	default:
		snprintf(err, errlen, "role: unknown action %d", (int)d->action);
		return -1;
	}
	ctx->epoch = d->epoch;
	if (d->epoch > ctx->max_epoch)
		ctx->max_epoch = d->epoch;
	/* a handoff promises the successor the next epoch: should this node
	 * have to take over again before it hears the successor (a lost
	 * link, a stalled successor), it must not claim the same epoch */
	if (d->action == ROLE_ACT_SECONDARY && d->handoff_eid != 0 &&
	    d->epoch + 1 > ctx->max_epoch)
		ctx->max_epoch = d->epoch + 1;
	ctx->req_switch_eid = 0;
	ctx->req_promote = ctx->req_force = 0;
	ctx->last_role = ctx->role;

	if (d->action == ROLE_ACT_FOLLOW)
		log_info("following primary peer %d (epoch %u), reason: %s",
		    d->primary_eid, d->epoch, d->reason);
	else
		log_notice(HA_ROLE_CHANGE_FMT, ha_role_name(from),
		    ha_role_name(ctx->role), d->reason);

	n = snprintf(buf, sizeof(buf), "epoch %u\nrole %s\n", ctx->epoch,
	    role_file_name(ctx->role));
	if (ctx->persist != NULL)
		return ctx->persist(ctx->path, buf, (size_t)n, err, errlen,
		    ctx->persist_arg);
	if (atomicfile_write(ctx->path, buf, (size_t)n, 0600, err,
	    errlen) == -1)
		return -1;
	return 0;
}

void
role_advertise(const struct role_ctx *ctx, uint64_t now_ms,
    struct role_peer_info *out)
{
	memset(out, 0, sizeof(*out));
	out->role = ctx->role;
	out->epoch = ctx->epoch;
	out->gen = ctx->gen;
	out->lsn = ctx->lsn;
	out->build_match = 1;
	out->startup_done = ctx->db_live && !ctx->fault && role_db_ready(ctx);
	out->pingable = ctx->ping_ok;
	out->arbiter_ok = !ctx->arb_on || ctx->arb_leader != -1;
	out->vote_eid = ctx->vote_eid;
	out->vote_round = ctx->vote_round;
	if (ctx->role != HA_ROLE_PRIMARY && handoff_active(ctx, now_ms))
		out->handoff_eid = ctx->handoff_eid;
}

enum ha_role
role_current(const struct role_ctx *ctx)
{
	return ctx->role;
}

int
role_stale_primary(const struct role_ctx *ctx, uint64_t now_ms)
{
	const struct role_peer *pp;

	if (ctx->role != HA_ROLE_STARTING || !ctx->served ||
	    (pp = live_primary(ctx, now_ms)) == NULL ||
	    pp->info.epoch >= ctx->epoch)
		return 0;
	return pp->eid;
}

void
role_history_gone(struct role_ctx *ctx)
{
	ctx->served = 0;
}

int
role_settled(const struct role_ctx *ctx, uint64_t now_ms)
{
	const struct role_peer *p;
	int i;

	if (ctx->req_switch_eid != 0 || ctx->req_promote ||
	    handoff_active(ctx, now_ms))
		return 0;
	for (i = 0; i < ctx->npeers; i++) {
		p = &ctx->peers[i];
		if (peer_live(ctx, p, now_ms) && p->info.handoff_eid != 0)
			return 0;
	}
	if (ctx->role == HA_ROLE_PRIMARY)
		return 1;
	return ctx->role == HA_ROLE_SECONDARY && live_primary(ctx, now_ms) != NULL;
}

int
role_waits_for_all(const struct role_ctx *ctx)
{
	int i;

	if (ctx->role != HA_ROLE_STARTING || !ctx->served)
		return 0;
	for (i = 0; i < ctx->npeers; i++)
		if (!ctx->peers[i].heard)
			return 1;
	return 0;
}

int
role_primary_eid(const struct role_ctx *ctx)
{
	return ctx->role == HA_ROLE_PRIMARY ? 0 : ctx->primary_eid;
}

int
role_switch_target(const struct role_ctx *ctx)
{
	return ctx->req_switch_eid != 0 ? ctx->req_switch_eid :
	    ctx->handoff_eid;
}

uint32_t
role_epoch(const struct role_ctx *ctx)
{
	return ctx->epoch;
}
