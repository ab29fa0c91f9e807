/* hastatus.c — hasvr's status JSON as haStatus shows it (see hastatus.h).
 *
 * The JSON comes from a local daemon but is still input: every field is
 * looked up with its type checked, a missing or null optional field shows
 * as "?" (or "-" where null has a meaning, e.g. a peer never heard), and a
 * missing required one makes the answer HASTATUS_UNKNOWN with its name.
 * Text from the JSON is printed with control characters replaced. */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hactl.h"
#include "hastatus.h"
#include "util.h"

#define STATUS_VERSION  1
#define MAX_PROBLEMS    64
#define PROBLEM_LEN     640
#define NCOLS           7
#define CELL_LEN        192
#define HALOG           "var/errorLog/ha.log"
#define POLL_MS         250
#define SELF            "this node"

/* A problem found here, and the topic hasvr's own problem lines are
 * matched against: who it is about (a peer's address, "this node", or ""
 * for the group) and words of which any one marks the same subject
 * ("highAvailSvr|guisvr"). */
struct report {
	char problems[MAX_PROBLEMS][PROBLEM_LEN];
	char who[MAX_PROBLEMS][INET6_ADDRSTRLEN + 16];
	const char *words[MAX_PROBLEMS];
	size_t nproblems;
	size_t dropped;                 /* problems past MAX_PROBLEMS */
};

struct row {
	char cell[NCOLS][CELL_LEN];
};

static const char *const col_names[NCOLS] = {
	"node", "role", "epoch", "highAvail", "highAvailSvr", "database",
	"heartbeat"
};

/* ---- typed lookups ---------------------------------------------------- */

static json_t *
jget(json_t *o, const char *k)
{
	return json_is_object(o) ? json_object_get(o, k) : NULL;
}

static json_t *
jobj(json_t *o, const char *k)
{
	json_t *v = jget(o, k);

	return json_is_object(v) ? v : NULL;
}

static const char *
jstr(json_t *o, const char *k)
{
	json_t *v = jget(o, k);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* 1 with *v if k is a number, 0 otherwise. */
static int
jnum(json_t *o, const char *k, long long *v)
{
	json_t *j = jget(o, k);
	double d;

	if (json_is_integer(j)) {
		*v = (long long)json_integer_value(j);
		return 1;
	}
	if (json_is_real(j)) {
		d = json_real_value(j);
		if (d != d || d > 9e18 || d < -9e18)
			return 0;
		*v = (long long)d;
		return 1;
	}
	return 0;
}

/* 1 true, 0 false, -1 missing, null or not a boolean. */
static int
jbool(json_t *o, const char *k)
{
	json_t *v = jget(o, k);

	if (json_is_true(v))
		return 1;
	if (json_is_false(v))
		return 0;
	return -1;
}

/* ---- text ------------------------------------------------------------- */

/* s (NULL: "?") with control characters replaced, cut to fit. */
static void
clean(char *out, size_t outlen, const char *s)
{
	size_t i;

	if (outlen == 0)
		return;
	if (s == NULL)
		s = "?";
	for (i = 0; s[i] != '\0' && i + 1 < outlen; i++)
		out[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	out[i] = '\0';
}

/* jansson's reason for refusing a text quotes the bytes it stopped at,
 * control characters included: cleaned for the terminal. */
static const char *
json_why(const json_error_t *je, char *out, size_t outlen)
{
	clean(out, outlen, je->text);
	return out;
}

static void
fmt_ms(char *out, size_t n, long long ms)
{
	if (ms < 0)
		snprintf(out, n, "?");
	else if (ms < 1000)
		snprintf(out, n, "%lld ms", ms);
	else if (ms < 10000)
		snprintf(out, n, "%.1f s", (double)ms / 1000);
	else if (ms < 60000)
		snprintf(out, n, "%lld s", ms / 1000);
	else if (ms < 3600000)
		snprintf(out, n, "%lld min %lld s", ms / 60000, ms / 1000 % 60);
	else if (ms < 86400000)
		snprintf(out, n, "%lld h %lld min", ms / 3600000,
		    ms / 60000 % 60);
	else
		snprintf(out, n, "%lld d %lld h", ms / 86400000,
		    ms / 3600000 % 24);
}

static void
fmt_secs(char *out, size_t n, long long s)
{
	if (s >= 0 && s < 60)
		snprintf(out, n, "%lld s", s);
	else
		fmt_ms(out, n, s < 0 || s > 9000000000000LL ? -1 : s * 1000);
}

static void
fmt_bytes(char *out, size_t n, long long b)
{
	if (b < 0)
		snprintf(out, n, "?");
	else if (b < 1024)
		snprintf(out, n, "%lld B", b);
	else if (b < 1024 * 1024)
		snprintf(out, n, "%.1f KiB", (double)b / 1024);
	else if (b < 1024LL * 1024 * 1024)
		snprintf(out, n, "%.1f MiB", (double)b / (1024 * 1024));
	else
		snprintf(out, n, "%.1f GiB", (double)b / (1024.0 * 1024 * 1024));
}

/* Adds a problem about who (NULL: the group) with topic words (NULL:
 * matches nothing of hasvr's). */
static void
problem(struct report *r, const char *who, const char *words,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
problem(struct report *r, const char *who, const char *words,
    const char *fmt, ...)
{
	va_list ap;

	if (r->nproblems == MAX_PROBLEMS) {
		r->dropped++;
		return;
	}
	clean(r->who[r->nproblems], sizeof(r->who[0]), who ? who : "");
	r->words[r->nproblems] = words;
	va_start(ap, fmt);
	vsnprintf(r->problems[r->nproblems++], PROBLEM_LEN, fmt, ap);
	va_end(ap);
}

/* ---- checks ----------------------------------------------------------- */

static int
bad(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(err, errlen, "status from hasvr: ");
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return HASTATUS_UNKNOWN;
}

/* The fields the table cannot do without. HASTATUS_HEALTHY or UNKNOWN. */
static int
validate(json_t *root, char *err, size_t errlen)
{
	json_t *node, *peers, *p, *probs;
	long long version;
	size_t i;

	if (!json_is_object(root))
		return bad(err, errlen, "not a JSON object");
	if (!jnum(root, "version", &version))
		return bad(err, errlen, "\"version\" is missing or not a number");
	if (version != STATUS_VERSION)
		return bad(err, errlen, "version %lld, this tool reads version "
		    "%d: use the haStatus of the same build as hasvr", version,
		    STATUS_VERSION);
	if (jbool(root, "healthy") == -1)
		return bad(err, errlen, "\"healthy\" is missing or not true/false");
	if ((node = jobj(root, "node")) == NULL)
		return bad(err, errlen, "\"node\" is missing or not an object");
	if (jstr(node, "addr") == NULL)
		return bad(err, errlen, "\"node.addr\" is missing or not a string");
	if (jstr(node, "role") == NULL)
		return bad(err, errlen, "\"node.role\" is missing or not a string");
	peers = jget(root, "peers");
	if (!json_is_array(peers))
		return bad(err, errlen, "\"peers\" is missing or not an array");
	json_array_foreach(peers, i, p) {
		if (!json_is_object(p))
			return bad(err, errlen, "peers[%zu] is not an object", i);
		if (jstr(p, "addr") == NULL)
			return bad(err, errlen, "\"peers[%zu].addr\" is missing or "
			    "not a string", i);
	}
	probs = jget(root, "problems");
	if (probs != NULL && !json_is_null(probs) && !json_is_array(probs))
		return bad(err, errlen, "\"problems\" is not an array");
	return HASTATUS_HEALTHY;
}

static int
is_running(const char *svc)
{
	return svc != NULL && strcmp(svc, "running") == 0;
}

static void
check_self(struct report *r, json_t *node)
{
	json_t *svc = jobj(node, "services"), *db = jobj(node, "db");
	json_t *ping = jobj(node, "pingable");
	const char *role = jstr(node, "role"), *s;
	char a[CELL_LEN], b[CELL_LEN];
	long long age;

	if (strcmp(role, "STARTING") == 0)
		problem(r, NULL, "starting", "this node is still starting (role "
		    "STARTING): it waits up to highAvail.startWait for its "
		    "peers before choosing a role");
	else if (strcmp(role, "PRIMARY") != 0 &&
	    strcmp(role, "SECONDARY") != 0) {
		clean(a, sizeof(a), role);
		problem(r, NULL, "unknown role", "this node reports an unknown "
		    "role '%s' — see " HALOG, a);
	}
	s = jstr(svc, "highAvailSvr");
	if (!is_running(s)) {
		clean(a, sizeof(a), s);
		problem(r, SELF, "highAvailSvr|guisvr", "this node: "
		    "highAvailSvr (guisvr) is %s — hasvr restarts it; see "
		    HALOG " and guiDaemon.0", a);
	} else if ((s = jstr(db, "state")) != NULL) {
		if (strcmp(s, "dirty") == 0)
			problem(r, SELF, "dirty", "this node: database is dirty "
			    "(not in sync) — it catches up by itself; if it "
			    "stays dirty see " HALOG " and the resync "
			    "procedure");
		else if (strcmp(s, "unknown") == 0 &&
		    jbool(node, "dbSync") != 0)
			problem(r, SELF, "database state", "this node: database "
			    "state unknown — is guisvr connected to the "
			    "ha-link? see guiDaemon.0");
	}
	if (jstr(ping, "addr") != NULL && jbool(ping, "reachable") == 0) {
		clean(a, sizeof(a), jstr(ping, "addr"));
		if (jnum(ping, "ageMs", &age))
			fmt_ms(b, sizeof(b), age);
		else
			snprintf(b, sizeof(b), "?");
		problem(r, NULL, "pingable", "pingable IP %s does not answer "
		    "(checked %s ago): this node will not take the primary "
		    "role, and steps down if it also loses its peers — check "
		    "its network", a, b);
	}
}

static void
check_peer_dead(struct report *r, json_t *p, const char *addr)
{
	char a[CELL_LEN];
	long long age;

	if (jbool(p, "unauthenticated") == 1) {
		clean(a, sizeof(a), jstr(p, "rejectReason") ?
		    jstr(p, "rejectReason") : "?");
		problem(r, addr, "heartbeat", "peer %s: its heartbeats arrive "
		    "but are rejected (%s): a node runs there with another "
		    "highAvail.HMACKey or build, or they are forged; this node "
		    "does not take the primary role while they arrive — fix the "
		    "key or build; see " HALOG " on both nodes", addr, a);
		return;
	}
	if (!jnum(p, "heartbeatAgeMs", &age)) {
		problem(r, addr, "heartbeat", "peer %s: heartbeat timed out, "
		    "never heard — is hasvr running there, UDP port "
		    "highAvail.heartbeatPort open between the nodes, "
		    "highAvail.HMACKey the same on both? see " HALOG " on both "
		    "nodes", addr);
		return;
	}
	fmt_ms(a, sizeof(a), age);
	problem(r, addr, "heartbeat", "peer %s: heartbeat timed out (last "
	    "heard %s ago) — is hasvr running there? see " HALOG " on both "
	    "nodes", addr, a);
}

static void
check_peer(struct report *r, json_t *p, int self_primary)
{
	json_t *svc = jobj(p, "services"), *db = jobj(p, "db");
	char addr[CELL_LEN], a[CELL_LEN], b[CELL_LEN], c[CELL_LEN];
	long long bytes, commits;
	const char *s;

	clean(addr, sizeof(addr), jstr(p, "addr"));
	if (jbool(p, "alive") != 1) {
		check_peer_dead(r, p, addr);
		return;
	}
	s = jstr(svc, "highAvail");
	if (s != NULL && !is_running(s)) {
		clean(a, sizeof(a), s);
		problem(r, addr, "highAvail is", "peer %s: highAvail is %s — "
		    "see " HALOG " there", addr, a);
	}
	s = jstr(svc, "highAvailSvr");
	if (!is_running(s)) {
		clean(a, sizeof(a), s);
		problem(r, addr, "highAvailSvr|guisvr", "peer %s: highAvailSvr "
		    "(guisvr) is %s — see " HALOG " and guiDaemon.0 there",
		    addr, a);
	}
	if (jbool(p, "buildMatch") == 0) {
		clean(a, sizeof(a), jstr(p, "build"));
		problem(r, addr, "build", "peer %s runs another build (%s): "
		    "database sync is refused until every node runs the same "
		    "build", addr, a);
	}
	if (jbool(p, "configMatch") == 0)
		problem(r, addr, "haSvr.cfg|config", "peer %s: haSvr.cfg "
		    "differs in keys that must be the same on every node — "
		    "compare both files (see " HALOG ")", addr);
	if ((s = jstr(db, "authFailed")) != NULL) {
		clean(a, sizeof(a), s);
		problem(r, addr, "replication channel", "peer %s: the "
		    "replication channel refuses it: TLS authentication failed "
		    "(%s) — highAvail.HMACKey or the certificates differ between "
		    "the nodes; the database cannot sync (see guiDaemon.0 on "
		    "both nodes)", addr, a);
	}
	/* how far a peer got is the primary's to judge */
	if (!self_primary || (s = jstr(db, "state")) == NULL ||
	    strcmp(s, "dirty") != 0)
		return;
	c[0] = '\0';
	if (jnum(db, "behindBytes", &bytes) &&
	    jnum(db, "behindCommits", &commits)) {
		fmt_bytes(b, sizeof(b), bytes);
		snprintf(c, sizeof(c), ", %s and %lld commit%s behind", b,
		    commits, commits == 1 ? "" : "s");
	}
	problem(r, addr, "dirty|behind", "peer %s: database dirty%s — it "
	    "catches up by itself; if it stays dirty see " HALOG " and the "
	    "resync procedure", addr, c);
}

/* Exactly one primary among this node and the peers it hears. */
static void
check_primaries(struct report *r, json_t *node, json_t *peers)
{
	char list[PROBLEM_LEN], a[CELL_LEN];
	long long epoch;
	size_t i, n = 0, off = 0;
	json_t *p;
	int w;

	list[0] = '\0';
	if (strcmp(jstr(node, "role"), "STARTING") == 0)
		return;
	for (i = 0; i <= json_array_size(peers); i++) {
		p = i == 0 ? node : json_array_get(peers, i - 1);
		if (p != node && jbool(p, "alive") != 1)
			continue;
		if (jstr(p, "role") == NULL || strcmp(jstr(p, "role"),
		    "PRIMARY") != 0)
			continue;
		clean(a, sizeof(a), jstr(p, "addr"));
		if (!jnum(p, "epoch", &epoch))
			epoch = -1;
		w = snprintf(list + off, sizeof(list) - off, "%s%s (epoch %lld)",
		    n ? " and " : "", a, epoch);
		if (w > 0 && (size_t)w < sizeof(list) - off)
			off += (size_t)w;
		n++;
	}
	if (n == 0)
		problem(r, NULL, "no primary|no node is PRIMARY", "no node is "
		    "PRIMARY: writes are refused until one takes the role — "
		    "see " HALOG);
	else if (n > 1)
		problem(r, NULL, "primaries|claim PRIMARY", "%zu primaries: %s "
		    "— the one with the lower epoch steps down by itself; see "
		    HALOG, n, list);
}

static void
check_filesync(struct report *r, json_t *root)
{
	json_t *fs = jobj(root, "fileSync");
	const char *res = jstr(fs, "result");
	char a[CELL_LEN], why[PROBLEM_LEN / 2];
	long long age;

	if (res == NULL || strcmp(res, "FAIL") != 0)
		return;
	if (jnum(fs, "ageSec", &age))
		fmt_secs(a, sizeof(a), age);
	else
		snprintf(a, sizeof(a), "?");
	clean(why, sizeof(why), jstr(fs, "reason") ? jstr(fs, "reason") :
	    "no reason given");
	problem(r, NULL, "file sync|rsync|haDoDirect", "file sync FAILED %s "
	    "ago: %s — check the SSH trust and rsync with haTrustCheck; see "
	    HALOG, a, why);
}

static int
addr_char(int c)
{
	return isxdigit(c) || c == '.';
}

/* 1 if text names who (empty: anyone) as a word of its own: 127.0.0.1
 * is not named by "peer 127.0.0.10", ::1 not by "fe80::1". */
static int
names(const char *text, const char *who)
{
	size_t n = strlen(who);
	const char *p, *q;

	if (n == 0)
		return 1;
	for (p = text; (p = strstr(p, who)) != NULL; p++) {
		q = p + n;
		if (p > text && (addr_char((unsigned char)p[-1]) || p[-1] == ':'))
			continue;
		if (addr_char((unsigned char)*q) ||
		    (*q == ':' && isxdigit((unsigned char)q[1])))
			continue;
		return 1;
	}
	return 0;
}

/* 1 if hasvr's problem line text is about problem i found here. */
static int
covers(const struct report *r, size_t i, const char *text)
{
	const char *w, *bar;
	char word[64];
	size_t n;

	if (r->words[i] == NULL || !names(text, r->who[i]))
		return 0;
	for (w = r->words[i]; *w != '\0'; w = *bar ? bar + 1 : bar) {
		bar = strchr(w, '|');
		if (bar == NULL)
			bar = w + strlen(w);
		n = (size_t)(bar - w) < sizeof(word) ? (size_t)(bar - w) :
		    sizeof(word) - 1;
		memcpy(word, w, n);
		word[n] = '\0';
		if (strcasestr(text, word) != NULL)
			return 1;
	}
	return 0;
}

/* hasvr's own problems, except those about what a check here already
 * reports (same subject and topic: the line here says where to look
 * next, in the same words whichever hasvr answered). */
static void
merge_daemon_problems(struct report *r, json_t *root)
{
	json_t *probs = jget(root, "problems"), *v;
	char a[PROBLEM_LEN];
	size_t i, j, own = r->nproblems;

	if (!json_is_array(probs))
		return;
	json_array_foreach(probs, i, v) {
		if (!json_is_string(v)) {
			problem(r, NULL, NULL, "hasvr reported a problem that "
			    "is not text (problems[%zu]) — see " HALOG, i);
			continue;
		}
		clean(a, sizeof(a), json_string_value(v));
		if (a[0] == '\0')
			continue;
		for (j = 0; j < own; j++)
			if (covers(r, j, a))
				break;
		if (j == own)
			problem(r, NULL, NULL, "%s", a);
	}
}

/* ---- table ------------------------------------------------------------ */

static void
cell_num(char *out, json_t *o, const char *k, const char *none)
{
	long long v;

	if (jnum(o, k, &v))
		snprintf(out, CELL_LEN, "%lld", v);
	else
		snprintf(out, CELL_LEN, "%s", none);
}

static void
row_self(struct row *w, json_t *node)
{
	json_t *svc = jobj(node, "services"), *db = jobj(node, "db");
	char a[CELL_LEN];

	clean(a, sizeof(a) - 2, jstr(node, "addr"));
	snprintf(w->cell[0], CELL_LEN, "%s *", a);
	clean(w->cell[1], CELL_LEN, jstr(node, "role"));
	cell_num(w->cell[2], node, "epoch", "?");
	clean(w->cell[3], CELL_LEN, jstr(svc, "highAvail"));
	clean(w->cell[4], CELL_LEN, jstr(svc, "highAvailSvr"));
	clean(w->cell[5], CELL_LEN, jstr(db, "state"));
	snprintf(w->cell[6], CELL_LEN, "-");
}

static void
row_peer(struct row *w, json_t *p)
{
	json_t *svc = jobj(p, "services"), *db = jobj(p, "db");
	char st[CELL_LEN / 2], by[32], age[32];
	long long bytes, commits, ms;

	clean(w->cell[0], CELL_LEN, jstr(p, "addr"));
	/* null role: never heard */
	clean(w->cell[1], CELL_LEN, jstr(p, "role") ? jstr(p, "role") : "-");
	cell_num(w->cell[2], p, "epoch", "-");
	clean(w->cell[3], CELL_LEN, jstr(svc, "highAvail"));
	clean(w->cell[4], CELL_LEN, jstr(svc, "highAvailSvr"));
	clean(st, sizeof(st), jstr(db, "state"));
	if (jnum(db, "behindBytes", &bytes) &&
	    jnum(db, "behindCommits", &commits)) {
		fmt_bytes(by, sizeof(by), bytes);
		snprintf(w->cell[5], CELL_LEN, "%s (lag %s, %lld commit%s)", st,
		    by, commits, commits == 1 ? "" : "s");
	} else
		snprintf(w->cell[5], CELL_LEN, "%s", st);
	if (jnum(p, "heartbeatAgeMs", &ms)) {
		fmt_ms(age, sizeof(age), ms);
		snprintf(w->cell[6], CELL_LEN, "%s ago", age);
	} else
		snprintf(w->cell[6], CELL_LEN, "never");
}

static void
print_table(FILE *fp, struct row *rows, size_t nrows)
{
	size_t width[NCOLS], i, c, n;

	for (c = 0; c < NCOLS; c++)
		width[c] = strlen(col_names[c]);
	for (i = 0; i < nrows; i++)
		for (c = 0; c < NCOLS; c++)
			if ((n = strlen(rows[i].cell[c])) > width[c])
				width[c] = n;
	for (c = 0; c < NCOLS; c++)
		fprintf(fp, "%-*s%s", c + 1 < NCOLS ? (int)width[c] : 0,
		    col_names[c], c + 1 < NCOLS ? "  " : "\n");
	for (i = 0; i < nrows; i++)
		for (c = 0; c < NCOLS; c++)
			fprintf(fp, "%-*s%s", c + 1 < NCOLS ? (int)width[c] : 0,
			    rows[i].cell[c], c + 1 < NCOLS ? "  " : "\n");
}

/* ---- summary lines ---------------------------------------------------- */

/* "builds match" / "BUILD MISMATCH with 127.0.0.2" / "builds: no peer heard" */
static void
print_match(FILE *fp, json_t *peers, const char *key, const char *what)
{
	char a[CELL_LEN];
	size_t i, known = 0, bad_n = 0;
	json_t *p;

	json_array_foreach(peers, i, p)
		if (jbool(p, key) == 0)
			bad_n++;
	json_array_foreach(peers, i, p)
		if (jbool(p, key) != -1)
			known++;
	if (bad_n == 0) {
		fprintf(fp, "%ss %s", what, known ? "match" : "unknown (no peer "
		    "heard)");
		return;
	}
	fprintf(fp, "%s MISMATCH with", what);
	json_array_foreach(peers, i, p)
		if (jbool(p, key) == 0) {
			clean(a, sizeof(a), jstr(p, "addr"));
			fprintf(fp, " %s", a);
		}
}

static long long
sum_counters(json_t *o)
{
	const char *k;
	long long sum = 0, v;
	json_t *j;

	json_object_foreach(o, k, j)
		if (jnum(o, k, &v) && v > 0 && v < (1LL << 53))
			sum += v;
	return sum;
}

static void
print_rejected(FILE *fp, json_t *root, json_t *peers)
{
	static const char *const fixed[] = { "mac", "replay", "stale",
	    "malformed" };
	json_t *rej = jobj(jobj(root, "heartbeat"), "rejected"), *j, *p;
	char a[CELL_LEN], k2[64];
	const char *k;
	long long v;
	size_t i;

	if (rej == NULL) {
		fprintf(fp, "rejected heartbeats: ?");
		return;
	}
	fprintf(fp, "rejected heartbeats: %lld (", sum_counters(rej));
	for (i = 0; i < 4; i++)
		fprintf(fp, "%s%s %lld", i ? ", " : "", fixed[i],
		    jnum(rej, fixed[i], &v) ? v : 0);
	/* eid, unknownSource and whatever a later hasvr adds: when not 0 */
	json_object_foreach(rej, k, j) {
		for (i = 0; i < 4; i++)
			if (strcmp(k, fixed[i]) == 0)
				break;
		if (i < 4 || !jnum(rej, k, &v) || v == 0)
			continue;
		clean(k2, sizeof(k2), k);
		fprintf(fp, ", %s %lld", k2, v);
	}
	fprintf(fp, ")");
	json_array_foreach(peers, i, p)
		if ((v = sum_counters(jobj(p, "rejected"))) > 0) {
			clean(a, sizeof(a), jstr(p, "addr"));
			fprintf(fp, "; %lld from %s", v, a);
		}
}

static void
print_heartbeat(FILE *fp, json_t *root)
{
	json_t *hb = jobj(root, "heartbeat");
	long long iv, dead, rx, ok;
	char a[32], b[32];

	if (hb == NULL)
		return;
	if (jnum(hb, "intervalMs", &iv) && jnum(hb, "deadMs", &dead)) {
		fmt_ms(a, sizeof(a), iv);
		fmt_ms(b, sizeof(b), dead);
		fprintf(fp, "heartbeat every %s, peer dead after %s", a, b);
	} else
		fprintf(fp, "heartbeat");
	if (jnum(hb, "received", &rx) && jnum(hb, "accepted", &ok))
		fprintf(fp, "; received %lld, accepted %lld", rx, ok);
	fprintf(fp, "\n");
}

static const char *
onoff(json_t *o, const char *k)
{
	switch (jbool(o, k)) {
	case 1: return "on";
	case 0: return "OFF";
	}
	return "?";
}

static void
print_node_lines(FILE *fp, json_t *node)
{
	json_t *ping = jobj(node, "pingable");
	long long pid, restarts, up, age;
	char a[CELL_LEN], b[32];

	fprintf(fp, "sync: HA %s, database %s, files %s\n",
	    onoff(node, "haSync"), onoff(node, "dbSync"),
	    onoff(node, "fileSync"));
	if (ping != NULL) {
		if (jstr(ping, "addr") == NULL)
			fprintf(fp, "pingable IP: none configured "
			    "(highAvail.pingableIp)\n");
		else {
			clean(a, sizeof(a), jstr(ping, "addr"));
			if (jnum(ping, "ageMs", &age))
				fmt_ms(b, sizeof(b), age);
			else
				snprintf(b, sizeof(b), "?");
			fprintf(fp, "pingable IP %s: %s (checked %s ago)\n", a,
			    jbool(ping, "reachable") == 1 ? "reachable" :
			    jbool(ping, "reachable") == 0 ? "NOT REACHABLE" :
			    "not checked yet", b);
		}
	}
	if (jnum(node, "guisvrPid", &pid) && pid > 0)
		fprintf(fp, "guisvr pid %lld", pid);
	else
		fprintf(fp, "guisvr not running");
	if (jnum(node, "guisvrRestarts", &restarts))
		fprintf(fp, ", restarted %lld time%s", restarts,
		    restarts == 1 ? "" : "s");
	if (jnum(node, "uptimeSec", &up)) {
		fmt_secs(b, sizeof(b), up);
		fprintf(fp, "; hasvr up %s", b);
	}
	fprintf(fp, "\n");
}

static void
print_filesync(FILE *fp, json_t *root, json_t *node)
{
	json_t *fs = jobj(root, "fileSync");
	char res[32], a[32], why[PROBLEM_LEN / 2];
	long long age;

	if (jbool(node, "fileSync") == 0 && jstr(fs, "result") == NULL) {
		fprintf(fp, "file sync: off\n");
		return;
	}
	if (jstr(fs, "result") == NULL) {
		fprintf(fp, "file sync: not run yet\n");
		return;
	}
	clean(res, sizeof(res), jstr(fs, "result"));
	if (jnum(fs, "ageSec", &age))
		fmt_secs(a, sizeof(a), age);
	else
		snprintf(a, sizeof(a), "?");
	fprintf(fp, "file sync: %s %s ago", res, a);
	if (strcmp(res, "SUCCESS") != 0 && jstr(fs, "reason") != NULL) {
		clean(why, sizeof(why), jstr(fs, "reason"));
		fprintf(fp, ": %s", why);
	}
	fprintf(fp, "\n");
}

static void
print_report(FILE *fp, json_t *root, struct row *rows, size_t nrows,
    const struct report *r, int healthy)
{
	json_t *node = jobj(root, "node"), *peers = jget(root, "peers");
	char a[CELL_LEN];
	long long eid;
	size_t i;

	clean(a, sizeof(a), jstr(node, "addr"));
	fprintf(fp, "hasvr HA status (this node %s", a);
	if (jnum(node, "eid", &eid))
		fprintf(fp, ", eid %lld", eid);
	fprintf(fp, ")\n");
	print_table(fp, rows, nrows);
	print_match(fp, peers, "buildMatch", "build");
	fprintf(fp, "; ");
	print_match(fp, peers, "configMatch", "config");
	fprintf(fp, "; ");
	print_rejected(fp, root, peers);
	fprintf(fp, "\n");
	print_heartbeat(fp, root);
	print_node_lines(fp, node);
	print_filesync(fp, root, node);
	if (healthy) {
		fprintf(fp, "healthy\n");
		return;
	}
	fprintf(fp, "NOT HEALTHY: %zu problem%s\n", r->nproblems + r->dropped,
	    r->nproblems + r->dropped == 1 ? "" : "s");
	for (i = 0; i < r->nproblems; i++)
		fprintf(fp, "  - %s\n", r->problems[i]);
	if (r->dropped)
		fprintf(fp, "  (and %zu more)\n", r->dropped);
}

int
hastatus_format(const char *json, FILE *fp, char *err, size_t errlen)
{
	json_t *root, *node, *peers, *p;
	struct report *r = NULL;
	struct row *rows = NULL;
	char why[JSON_ERROR_TEXT_LENGTH];
	json_error_t je;
	size_t i, nrows;
	int rc, healthy;

	if ((root = json_loads(json, JSON_REJECT_DUPLICATES, &je)) == NULL)
		return bad(err, errlen, "not valid JSON: line %d column %d: %s",
		    je.line, je.column, json_why(&je, why, sizeof(why)));
	if ((rc = validate(root, err, errlen)) != HASTATUS_HEALTHY)
		goto out;
	node = jobj(root, "node");
	peers = jget(root, "peers");
	nrows = 1 + json_array_size(peers);
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (rows = calloc(nrows, sizeof(*rows))) == NULL) {
		rc = bad(err, errlen, "out of memory for %zu nodes", nrows);
		goto out;
	}
	row_self(&rows[0], node);
	check_self(r, node);
	json_array_foreach(peers, i, p) {
		row_peer(&rows[i + 1], p);
		check_peer(r, p, jstr(node, "role") != NULL &&
		    strcmp(jstr(node, "role"), "PRIMARY") == 0);
	}
	check_primaries(r, node, peers);
	check_filesync(r, root);
	merge_daemon_problems(r, root);
	healthy = jbool(root, "healthy") == 1 && r->nproblems == 0;
	if (!healthy && r->nproblems == 0)
		problem(r, NULL, NULL, "hasvr reports this node as not "
		    "healthy without naming a problem — see " HALOG);
	if (fp != NULL)
		print_report(fp, root, rows, nrows, r, healthy);
	rc = healthy ? HASTATUS_HEALTHY : HASTATUS_PROBLEMS;
out:
	free(rows);
	free(r);
	json_decref(root);
	return rc;
}

/* ---- peer lookup ------------------------------------------------------ */

int
hastatus_peer_eid(const char *json, const char *addr, uint32_t *eid,
    char *err, size_t errlen)
{
	char want[INET6_ADDRSTRLEN], have[INET6_ADDRSTRLEN], list[256], a[64];
	char why[JSON_ERROR_TEXT_LENGTH];
	json_t *root, *p;
	json_error_t je;
	long long v;
	size_t i, off = 0;
	int rc = -1, w;

	if (util_addr_canon(addr, want, sizeof(want)) == -1) {
		snprintf(err, errlen, "'%s' is not a numeric IPv4 or IPv6 address "
		    "nor an eid", addr);
		return -1;
	}
	if ((root = json_loads(json, JSON_REJECT_DUPLICATES, &je)) == NULL) {
		snprintf(err, errlen, "status from hasvr: not valid JSON: line %d "
		    "column %d: %s", je.line, je.column,
		    json_why(&je, why, sizeof(why)));
		return -1;
	}
	if (validate(root, err, errlen) != HASTATUS_HEALTHY)
		goto out;
	if (util_addr_canon(jstr(jobj(root, "node"), "addr"), have,
	    sizeof(have)) == 0 &&
	    strcmp(have, want) == 0) {
		snprintf(err, errlen, "%s is this node: give a peer's address",
		    want);
		goto out;
	}
	list[0] = '\0';
	json_array_foreach(jget(root, "peers"), i, p) {
		if (util_addr_canon(jstr(p, "addr"), have, sizeof(have)) == -1)
			continue;
		if (!jnum(p, "eid", &v) || v <= 0 || v > UINT32_MAX)
			continue;
		if (strcmp(have, want) == 0) {
			*eid = (uint32_t)v;
			rc = 0;
			goto out;
		}
		clean(a, sizeof(a), have);
		w = snprintf(list + off, sizeof(list) - off, "%s%s eid %lld",
		    off ? ", " : "", a, v);
		if (w > 0 && (size_t)w < sizeof(list) - off)
			off += (size_t)w;
	}
	snprintf(err, errlen, "%s is not a peer of this node (peers: %s)", want,
	    off ? list : "none");
out:
	json_decref(root);
	return rc;
}

/* ---- the command ------------------------------------------------------ */

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* One question to hasvr: HASTATUS_* with *json (malloc'ed) when it
 * answered, err filled when not. */
static int
ask(const char *sock, char **json, char *err, size_t errlen)
{
	struct hcc *c;
	int rc;

	*json = NULL;
	if ((c = hactl_connect(sock, err, errlen)) == NULL)
		return hactl_not_running(errno) ? HASTATUS_NOT_RUNNING :
		    HASTATUS_UNKNOWN;
	rc = hactl_status(c, json, err, errlen);
	hactl_close(c);
	if (rc != 0)
		return HASTATUS_UNKNOWN;
	return hastatus_format(*json, NULL, err, errlen);
}

int
hastatus_run(const char *sock, int as_json, long wait_secs)
{
	char err[HASVR_ERRLEN], ferr[HASVR_ERRLEN];
	uint64_t deadline;
	char *json = NULL;
	size_t n;
	int rc;

	deadline = util_now_ms() + (uint64_t)(wait_secs > 0 ? wait_secs : 0) *
	    1000;
	for (;;) {
		rc = ask(sock, &json, err, sizeof(err));
		if (rc == HASTATUS_HEALTHY || util_now_ms() >= deadline)
			break;
		free(json);
		json = NULL;
		sleep_ms(POLL_MS);
	}
	if (json == NULL) {
		warnx("%s", err);
		return rc;
	}
	if (as_json) {
		n = strlen(json);
		fputs(json, stdout);
		if (n == 0 || json[n - 1] != '\n')
			putchar('\n');
		if (rc == HASTATUS_UNKNOWN)
			warnx("%s", err);
	} else if (hastatus_format(json, stdout, ferr, sizeof(ferr)) ==
	    HASTATUS_UNKNOWN)
		warnx("%s", ferr);
	if (wait_secs > 0 && rc != HASTATUS_HEALTHY)
		warnx("not healthy after waiting %ld second%s", wait_secs,
		    wait_secs == 1 ? "" : "s");
	free(json);
	fflush(stdout);
	return rc;
}
