/* hlstate.c — the ha-link's typed replication state (see hlstate.h). */
#include <stdio.h>
#include <string.h>

#include "hlstate.h"
#include "lsn.h"

static const char *const dbstate_names[] = {
	[HL_DB_UNKNOWN] = "unknown", [HL_DB_INSYNC] = "in-sync",
	[HL_DB_DIRTY] = "dirty", [HL_DB_ALONE] = "alone",
};
static const char *const dur_names[] = {
	[HL_DUR_ASYNC] = "async", [HL_DUR_SYNC] = "sync",
	[HL_DUR_STRICT] = "strict",
};

const char *
hl_dbstate_name(int s)
{
	if (s < 0 || s > HL_DB_ALONE)
		return "unknown";
	return dbstate_names[s];
}

const char *
hl_durability_name(int d)
{
	if (d < 0 || d > HL_DUR_STRICT)
		return "?";
	return dur_names[d];
}

int
hl_lsn_cmp(struct hl_lsn a, struct hl_lsn b)
{
	return lsn_cmp(LSN_OF(a), LSN_OF(b));
}

static void
put_lsn(struct buf *b, struct hl_lsn l)
{
	buf_put_u32(b, l.file);
	buf_put_u32(b, l.offset);
}

void
hl_state_encode(struct buf *b, const struct hl_state *st)
{
	const struct hl_peer *p;
	uint8_t i, n = st->npeers > HL_MAX_PEERS ? HL_MAX_PEERS : st->npeers;

	buf_put_u8(b, st->role);
	buf_put_u32(b, st->epoch);
	buf_put_u32(b, st->gen);
	put_lsn(b, st->lsn);
	buf_put_u8(b, st->startup_done);
	buf_put_u8(b, st->durability);
	buf_put_u8(b, st->dbstate);
	buf_put_u8(b, st->sync_on);
	buf_put_u32(b, st->follow);
	buf_put_u64(b, st->foreign);
	buf_put_u8(b, st->fault);
	buf_put_u64(b, st->fault_first_age_ms);
	buf_put_u64(b, st->fault_last_age_ms);
	buf_put_str16(b, st->fault_why, strnlen(st->fault_why,
	    sizeof(st->fault_why) - 1));
	buf_put_u8(b, st->lease_on);
	buf_put_u32(b, st->lease_left_ms);
	buf_put_u8(b, st->syncset_on);
	buf_put_u8(b, st->syncset);
	buf_put_u8(b, n);
	for (i = 0; i < n; i++) {
		p = &st->peers[i];
		buf_put_u32(b, p->eid);
		buf_put_str16(b, p->addr, strnlen(p->addr, sizeof(p->addr) - 1));
		buf_put_u8(b, p->up);
		buf_put_u8(b, p->insync);
		put_lsn(b, p->lsn);
		put_lsn(b, p->acked);
		buf_put_u64(b, p->behind_bytes);
		buf_put_u64(b, p->behind_commits);
		buf_put_u8(b, p->auth_failed);
		buf_put_u64(b, p->auth_age_ms);
		buf_put_str16(b, p->auth_why, strnlen(p->auth_why,
		    sizeof(p->auth_why) - 1));
	}
}

/* A str16 of printable bytes into a char field of size len
 * (NUL-terminated), or -1. */
static int
get_str(struct rd *rd, char *out, size_t len)
{
	const char *s;
	size_t n;

	size_t i;

	s = rd_str16(rd, &n);
	if (rd->bad || n >= len)
		return -1;
	/* printed by halinkctl and logged: no control characters */
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

static struct hl_lsn
get_lsn(struct rd *rd)
{
	struct hl_lsn l;

	l.file = rd_u32(rd);
	l.offset = rd_u32(rd);
	return l;
}

static int
bad(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "malformed replication state: %s", what);
	return -1;
}

int
hl_state_decode(const void *p, size_t len, struct hl_state *out,
    char *err, size_t errlen)
{
	struct hl_state st;
	struct hl_peer *q;
	struct rd rd;
	uint8_t i;

	memset(&st, 0, sizeof(st));
	rd_init(&rd, p, len);
	st.role = rd_u8(&rd);
	st.epoch = rd_u32(&rd);
	st.gen = rd_u32(&rd);
	st.lsn = get_lsn(&rd);
	st.startup_done = rd_u8(&rd);
	st.durability = rd_u8(&rd);
	st.dbstate = rd_u8(&rd);
	st.sync_on = rd_u8(&rd);
	st.follow = rd_u32(&rd);
	st.foreign = rd_u64(&rd);
	st.fault = rd_u8(&rd);
	st.fault_first_age_ms = rd_u64(&rd);
	st.fault_last_age_ms = rd_u64(&rd);
	if (rd.bad)
		return bad(err, errlen, "truncated");
	if (get_str(&rd, st.fault_why, sizeof(st.fault_why)) == -1)
		return bad(err, errlen, "fault reason truncated, too long or "
		    "not printable");
	st.lease_on = rd_u8(&rd);
	st.lease_left_ms = rd_u32(&rd);
	st.syncset_on = rd_u8(&rd);
	st.syncset = rd_u8(&rd);
	st.npeers = rd_u8(&rd);
	if (rd.bad)
		return bad(err, errlen, "truncated before the peers");
	if (st.role > HA_ROLE_STANDALONE)
		return bad(err, errlen, "unknown role");
	if (st.durability > HL_DUR_STRICT)
		return bad(err, errlen, "unknown durability");
	if (st.dbstate > HL_DB_ALONE)
		return bad(err, errlen, "unknown database state");
	if (st.startup_done > 1 || st.sync_on > 1 || st.fault > 1 ||
	    st.lease_on > 1 || st.syncset_on > 1)
		return bad(err, errlen, "a flag is neither 0 nor 1");
	if (!st.lease_on && st.lease_left_ms != 0)
		return bad(err, errlen, "lease time without a lease");
	if (!st.syncset_on && st.syncset != 0)
		return bad(err, errlen, "synchronous-standby set without arbiter "
		    "sync mode");
	if (st.npeers > HL_MAX_PEERS)
		return bad(err, errlen, "too many peers");
	for (i = 0; i < st.npeers; i++) {
		q = &st.peers[i];
		q->eid = rd_u32(&rd);
		if (get_str(&rd, q->addr, sizeof(q->addr)) == -1)
			return bad(err, errlen, "peer address truncated, too "
			    "long or not printable");
		q->up = rd_u8(&rd);
		q->insync = rd_u8(&rd);
		q->lsn = get_lsn(&rd);
		q->acked = get_lsn(&rd);
		q->behind_bytes = rd_u64(&rd);
		q->behind_commits = rd_u64(&rd);
		q->auth_failed = rd_u8(&rd);
		q->auth_age_ms = rd_u64(&rd);
		if (rd.bad)
			return bad(err, errlen, "peer truncated");
		if (get_str(&rd, q->auth_why, sizeof(q->auth_why)) == -1)
			return bad(err, errlen, "peer's authentication reason "
			    "truncated, too long or not printable");
		if (q->up > 1 || q->insync > 1 || q->auth_failed > 1)
			return bad(err, errlen, "a peer's flag is neither 0 nor "
			    "1");
	}
	if (!rd_done(&rd))
		return bad(err, errlen, "trailing bytes");
	*out = st;
	return 0;
}

int
hl_state_format(const struct hl_state *st, char *out, size_t outlen)
{
	const struct hl_peer *p;
	size_t len = 0;
	uint8_t i;

#define APPEND(...) do {						\
	int n_ = snprintf(out + (len < outlen ? len : outlen),		\
	    len < outlen ? outlen - len : 0, __VA_ARGS__);		\
	if (n_ > 0)							\
		len += (size_t)n_;					\
} while (0)

	if (outlen > 0)
		out[0] = '\0';
	if (st->role == HA_ROLE_STANDALONE) {
		APPEND("role standalone\n");
		return (int)len;
	}
	APPEND("role %s\nepoch %u\ngen %u\nlsn %u/%u\nstartupDone %d\n"
	    "durability %s\nstate %s\nsync %s\n", ha_role_word(st->role),
	    st->epoch, st->gen, st->lsn.file, st->lsn.offset,
	    st->startup_done, hl_durability_name(st->durability),
	    hl_dbstate_name(st->dbstate), st->sync_on ? "on" : "off");
	if (st->role == HA_ROLE_SECONDARY) {
		if (st->follow == HA_PRIMARY_ANY)
			APPEND("follow any\n");
		else
			APPEND("follow %u\n", st->follow);
		APPEND("foreignDropped %llu\n", (unsigned long long)st->foreign);
	}
	if (st->lease_on)
		APPEND("leaseLeftMs %u\n", st->lease_left_ms);
	if (st->syncset_on)
		APPEND("syncSet 0x%02x\n", st->syncset);
	for (i = 0; i < st->npeers && i < HL_MAX_PEERS; i++) {
		p = &st->peers[i];
		APPEND("peer %u %s %s lsn %u/%u acked %u/%u behindBytes %llu "
		    "behindCommits %llu %s\n", p->eid, p->addr, p->up ?
		    "connected" : "down", p->lsn.file, p->lsn.offset,
		    p->acked.file, p->acked.offset,
		    (unsigned long long)p->behind_bytes,
		    (unsigned long long)p->behind_commits, p->insync ?
		    "in-sync" : "dirty");
	}
	if (st->fault)
		APPEND("writeFault %llu %llu %s\n",
		    (unsigned long long)st->fault_first_age_ms,
		    (unsigned long long)st->fault_last_age_ms, st->fault_why);
	for (i = 0; i < st->npeers && i < HL_MAX_PEERS; i++) {
		p = &st->peers[i];
		if (p->auth_failed)
			APPEND("peerAuthFailed %u %llu %s\n", p->eid,
			    (unsigned long long)p->auth_age_ms, p->auth_why);
	}
#undef APPEND
	return (int)len;
}
