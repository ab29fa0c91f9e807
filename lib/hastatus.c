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
#include "statusjson.h"
#include "util.h"

#define STATUS_VERSION  1
#define MAX_PROBLEMS    64
#define PROBLEM_LEN     640
#define NCOLS           7
#define CELL_LEN        192
#define HALOG           "var/errorLog/ha.log"
#define POLL_MS         250

/* The problems hasvr named (lib/haproblem.h), as they are printed. */
struct report {
	char problems[MAX_PROBLEMS][PROBLEM_LEN];
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

/* ---- text ------------------------------------------------------------- */

/* jansson's reason for refusing a text quotes the bytes it stopped at,
 * control characters included: cleaned for the terminal. */
static const char *
json_why(const json_error_t *je, char *out, size_t outlen)
{
	sj_clean(out, outlen, je->text);
	return out;
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
	if (!sj_num(root, "version", &version))
		return bad(err, errlen, "\"version\" is missing or not a number");
	if (version != STATUS_VERSION)
		return bad(err, errlen, "version %lld, this tool reads version "
		    "%d: use the haStatus of the same build as hasvr", version,
		    STATUS_VERSION);
	if (sj_bool(root, "healthy") == -1)
		return bad(err, errlen, "\"healthy\" is missing or not true/false");
	if ((node = sj_obj(root, "node")) == NULL)
		return bad(err, errlen, "\"node\" is missing or not an object");
	if (sj_str(node, "addr") == NULL)
		return bad(err, errlen, "\"node.addr\" is missing or not a string");
	if (sj_str(node, "role") == NULL)
		return bad(err, errlen, "\"node.role\" is missing or not a string");
	peers = sj_get(root, "peers");
	if (!json_is_array(peers))
		return bad(err, errlen, "\"peers\" is missing or not an array");
	json_array_foreach(peers, i, p) {
		if (!json_is_object(p))
			return bad(err, errlen, "peers[%zu] is not an object", i);
		if (sj_str(p, "addr") == NULL)
			return bad(err, errlen, "\"peers[%zu].addr\" is missing or "
			    "not a string", i);
	}
	probs = sj_get(root, "problems");
	if (probs != NULL && !json_is_null(probs) && !json_is_array(probs))
		return bad(err, errlen, "\"problems\" is not an array");
	return HASTATUS_HEALTHY;
}


/* ---- problems --------------------------------------------------------- */

static void
problem(struct report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
problem(struct report *r, const char *fmt, ...)
{
	char text[PROBLEM_LEN];
	va_list ap;

	if (r->nproblems == MAX_PROBLEMS) {
		r->dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	sj_clean(r->problems[r->nproblems++], PROBLEM_LEN, text);
}

/* The problems as hasvr typed them (haproblem.h): each one's text, in
 * hasvr's order. A plain string is taken as a text too. */
static void
read_problems(struct report *r, json_t *root)
{
	json_t *probs = sj_get(root, "problems"), *v;
	const char *text;
	size_t i;

	if (!json_is_array(probs))
		return;
	json_array_foreach(probs, i, v) {
		text = json_is_string(v) ? json_string_value(v) :
		    sj_str(v, "text");
		if (text == NULL) {
			problem(r, "hasvr reported a problem that is not text "
			    "(problems[%zu]) — see " HALOG, i);
			continue;
		}
		if (text[0] != '\0')
			problem(r, "%s", text);
	}
}

/* ---- table ------------------------------------------------------------ */

static void
cell_num(char *out, json_t *o, const char *k, const char *none)
{
	long long v;

	if (sj_num(o, k, &v))
		snprintf(out, CELL_LEN, "%lld", v);
	else
		snprintf(out, CELL_LEN, "%s", none);
}

static void
row_self(struct row *w, json_t *node)
{
	json_t *svc = sj_obj(node, "services"), *db = sj_obj(node, "db");
	char a[CELL_LEN];

	sj_clean(a, sizeof(a) - 2, sj_str(node, "addr"));
	snprintf(w->cell[0], CELL_LEN, "%s *", a);
	sj_clean(w->cell[1], CELL_LEN, sj_str(node, "role"));
	cell_num(w->cell[2], node, "epoch", "?");
	sj_clean(w->cell[3], CELL_LEN, sj_str(svc, "highAvail"));
	sj_clean(w->cell[4], CELL_LEN, sj_str(svc, "highAvailSvr"));
	sj_clean(w->cell[5], CELL_LEN, sj_str(db, "state"));
	snprintf(w->cell[6], CELL_LEN, "-");
}

static void
row_peer(struct row *w, json_t *p)
{
	json_t *svc = sj_obj(p, "services"), *db = sj_obj(p, "db");
	char st[CELL_LEN / 2], by[32], age[32];
	long long bytes, commits, ms;

	sj_clean(w->cell[0], CELL_LEN, sj_str(p, "addr"));
	/* null role: never heard */
	sj_clean(w->cell[1], CELL_LEN, sj_str(p, "role") ? sj_str(p, "role") : "-");
	cell_num(w->cell[2], p, "epoch", "-");
	sj_clean(w->cell[3], CELL_LEN, sj_str(svc, "highAvail"));
	sj_clean(w->cell[4], CELL_LEN, sj_str(svc, "highAvailSvr"));
	sj_clean(st, sizeof(st), sj_str(db, "state"));
	if (sj_num(db, "behindBytes", &bytes) &&
	    sj_num(db, "behindCommits", &commits)) {
		sj_fmt_bytes(by, sizeof(by), bytes);
		snprintf(w->cell[5], CELL_LEN, "%s (lag %s, %lld commit%s)", st,
		    by, commits, commits == 1 ? "" : "s");
	} else
		snprintf(w->cell[5], CELL_LEN, "%s", st);
	if (sj_num(p, "heartbeatAgeMs", &ms)) {
		sj_fmt_ms(age, sizeof(age), ms);
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
		if (sj_bool(p, key) == 0)
			bad_n++;
	json_array_foreach(peers, i, p)
		if (sj_bool(p, key) != -1)
			known++;
	if (bad_n == 0) {
		fprintf(fp, "%ss %s", what, known ? "match" : "unknown (no peer "
		    "heard)");
		return;
	}
	fprintf(fp, "%s MISMATCH with", what);
	json_array_foreach(peers, i, p)
		if (sj_bool(p, key) == 0) {
			sj_clean(a, sizeof(a), sj_str(p, "addr"));
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
		if (sj_num(o, k, &v) && v > 0 && v < (1LL << 53))
			sum += v;
	return sum;
}

static void
print_rejected(FILE *fp, json_t *root, json_t *peers)
{
	static const char *const fixed[] = { "mac", "replay", "stale",
	    "malformed" };
	json_t *rej = sj_obj(sj_obj(root, "heartbeat"), "rejected"), *j, *p;
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
		    sj_num(rej, fixed[i], &v) ? v : 0);
	/* eid, unknownSource and whatever a later hasvr adds: when not 0 */
	json_object_foreach(rej, k, j) {
		for (i = 0; i < 4; i++)
			if (strcmp(k, fixed[i]) == 0)
				break;
		if (i < 4 || !sj_num(rej, k, &v) || v == 0)
			continue;
		sj_clean(k2, sizeof(k2), k);
		fprintf(fp, ", %s %lld", k2, v);
	}
	fprintf(fp, ")");
	json_array_foreach(peers, i, p)
		if ((v = sum_counters(sj_obj(p, "rejected"))) > 0) {
			sj_clean(a, sizeof(a), sj_str(p, "addr"));
			fprintf(fp, "; %lld from %s", v, a);
		}
}

static void
print_heartbeat(FILE *fp, json_t *root)
{
	json_t *hb = sj_obj(root, "heartbeat");
	long long iv, dead, rx, ok;
	char a[32], b[32];

	if (hb == NULL)
		return;
	if (sj_num(hb, "intervalMs", &iv) && sj_num(hb, "deadMs", &dead)) {
		sj_fmt_ms(a, sizeof(a), iv);
		sj_fmt_ms(b, sizeof(b), dead);
		fprintf(fp, "heartbeat every %s, peer dead after %s", a, b);
	} else
		fprintf(fp, "heartbeat");
	if (sj_num(hb, "received", &rx) && sj_num(hb, "accepted", &ok))
		fprintf(fp, "; received %lld, accepted %lld", rx, ok);
	fprintf(fp, "\n");
}

static const char *
onoff(json_t *o, const char *k)
{
	switch (sj_bool(o, k)) {
	case 1: return "on";
	case 0: return "OFF";
	}
	return "?";
}

static void
print_node_lines(FILE *fp, json_t *node)
{
	json_t *ping = sj_obj(node, "pingable");
	long long pid, restarts, up, age;
	char a[CELL_LEN], b[32];

	fprintf(fp, "sync: HA %s, database %s, files %s\n",
	    onoff(node, "haSync"), onoff(node, "dbSync"),
	    onoff(node, "fileSync"));
	if (ping != NULL) {
		if (sj_str(ping, "addr") == NULL)
			fprintf(fp, "pingable IP: none configured "
			    "(highAvail.pingableIp)\n");
		else {
			sj_clean(a, sizeof(a), sj_str(ping, "addr"));
			if (sj_num(ping, "ageMs", &age))
				sj_fmt_ms(b, sizeof(b), age);
			else
				snprintf(b, sizeof(b), "?");
			fprintf(fp, "pingable IP %s: %s (checked %s ago)\n", a,
			    sj_bool(ping, "reachable") == 1 ? "reachable" :
			    sj_bool(ping, "reachable") == 0 ? "NOT REACHABLE" :
			    "not checked yet", b);
		}
	}
	if (sj_num(node, "guisvrPid", &pid) && pid > 0)
		fprintf(fp, "guisvr pid %lld", pid);
	else
		fprintf(fp, "guisvr not running");
	if (sj_num(node, "guisvrRestarts", &restarts))
		fprintf(fp, ", restarted %lld time%s", restarts,
		    restarts == 1 ? "" : "s");
	if (sj_num(node, "uptimeSec", &up)) {
		sj_fmt_secs(b, sizeof(b), up);
		fprintf(fp, "; hasvr up %s", b);
	}
	fprintf(fp, "\n");
}

/* arbiter etcd: leader key held by node 1 (this node), lease 2.7s left;
 * sync record: leader 1, sync [2] */
static void
print_arbiter(FILE *fp, json_t *root)
{
	json_t *arb = sj_obj(root, "arbiter"), *rec, *sync, *v;
	long long leader, left, rl;
	char b[32];
	size_t i;

	if (arb == NULL)
		return;
	fprintf(fp, "arbiter etcd: ");
	if (sj_bool(arb, "reachable") != 1)
		fprintf(fp, "NOT REACHABLE, ");
	if (sj_num(arb, "leader", &leader))
		fprintf(fp, "leader key held by node %lld%s", leader,
		    sj_bool(arb, "held") == 1 ? " (this node)" : "");
	else
		fprintf(fp, "leader key free or unknown");
	if (sj_num(arb, "leaseLeftMs", &left) && sj_bool(arb, "held") == 1) {
		sj_fmt_ms(b, sizeof(b), left);
		fprintf(fp, ", lease %s left", b);
	}
	if ((rec = sj_obj(arb, "syncRecord")) != NULL &&
	    sj_num(rec, "leader", &rl)) {
		fprintf(fp, "; sync record: leader %lld, sync [", rl);
		sync = sj_get(rec, "sync");
		if (json_is_array(sync))
			json_array_foreach(sync, i, v)
				fprintf(fp, "%s%lld", i ? " " : "",
				    (long long)json_integer_value(v));
		fprintf(fp, "]");
	}
	fprintf(fp, "\n");
}

static void
print_filesync(FILE *fp, json_t *root, json_t *node)
{
	json_t *fs = sj_obj(root, "fileSync");
	char res[32], a[32], why[PROBLEM_LEN / 2];
	long long age;

	if (sj_bool(node, "fileSync") == 0 && sj_str(fs, "result") == NULL) {
		fprintf(fp, "file sync: off\n");
		return;
	}
	if (sj_str(fs, "result") == NULL) {
		fprintf(fp, "file sync: not run yet\n");
		return;
	}
	sj_clean(res, sizeof(res), sj_str(fs, "result"));
	if (sj_num(fs, "ageSec", &age))
		sj_fmt_secs(a, sizeof(a), age);
	else
		snprintf(a, sizeof(a), "?");
	fprintf(fp, "file sync: %s %s ago", res, a);
	if (strcmp(res, "SUCCESS") != 0 && sj_str(fs, "reason") != NULL) {
		sj_clean(why, sizeof(why), sj_str(fs, "reason"));
		fprintf(fp, ": %s", why);
	}
	fprintf(fp, "\n");
}

static void
print_report(FILE *fp, json_t *root, struct row *rows, size_t nrows,
    const struct report *r, int healthy)
{
	json_t *node = sj_obj(root, "node"), *peers = sj_get(root, "peers");
	char a[CELL_LEN];
	long long eid;
	size_t i;

	sj_clean(a, sizeof(a), sj_str(node, "addr"));
	fprintf(fp, "hasvr HA status (this node %s", a);
	if (sj_num(node, "eid", &eid))
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
	print_arbiter(fp, root);
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
	node = sj_obj(root, "node");
	peers = sj_get(root, "peers");
	nrows = 1 + json_array_size(peers);
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (rows = calloc(nrows, sizeof(*rows))) == NULL) {
		rc = bad(err, errlen, "out of memory for %zu nodes", nrows);
		goto out;
	}
	row_self(&rows[0], node);
	json_array_foreach(peers, i, p)
		row_peer(&rows[i + 1], p);
	read_problems(r, root);
	healthy = sj_bool(root, "healthy") == 1 && r->nproblems == 0;
	if (!healthy && r->nproblems == 0)
		problem(r, "hasvr reports this node as not healthy without "
		    "naming a problem — see " HALOG);
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
	if (util_addr_canon(sj_str(sj_obj(root, "node"), "addr"), have,
	    sizeof(have)) == 0 &&
	    strcmp(have, want) == 0) {
		snprintf(err, errlen, "%s is this node: give a peer's address",
		    want);
		goto out;
	}
	list[0] = '\0';
	json_array_foreach(sj_get(root, "peers"), i, p) {
		if (util_addr_canon(sj_str(p, "addr"), have, sizeof(have)) == -1)
			continue;
		if (!sj_num(p, "eid", &v) || v <= 0 || v > UINT32_MAX)
			continue;
		if (strcmp(have, want) == 0) {
			*eid = (uint32_t)v;
			rc = 0;
			goto out;
		}
		sj_clean(a, sizeof(a), have);
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
