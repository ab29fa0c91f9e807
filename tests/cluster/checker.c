/* checker — judges a workload history (tests/cluster/workload.c) against
 * what the cluster holds at the end.
 *
 * usage: checker -h HISTORY -f FINAL [-r ROLES] [-a ASIDE]... [-D DIGESTS]
 *                [--max-lost N] [--no-dual-write] [--no-unexpected]
 *                [--require-converged] [--no-stale-reads]
 *
 * Inputs (blank lines and lines starting with '#' are skipped):
 *   HISTORY  CLIENT OP ID VALUE INVOKE_MS COMPLETE_MS OUTCOME NODE
 *            (OP write or read, OUTCOME ok, fail or info; a read's VALUE
 *            is the value it saw, "-" for none)
 *   FINAL    the ids the final primary holds, one a line; e.g.
 *            xdb -H ADDR -P PORT -k KEYFILE list PREFIX > FINAL
 *   ROLES    TIME_MS NODE ROLE EPOCH samples (ROLE PRIMARY, SECONDARY,
 *            STARTING or down), in any order; NODE spelled as in HISTORY
 *   ASIDE    ids found in preserved folders (diverged or resync copies),
 *            one a line; -a may be given several times
 *   DIGESTS  NODE DIGEST lines (e.g. the SHA-256 of each node's dump)
 *
 * Findings:
 *   lost                  acknowledged (ok) writes absent from FINAL, of
 *                         them lost_preserved are in an ASIDE listing
 *   unexpected_present    writes that failed for certain (fail) yet are in
 *                         FINAL (unexpected_preserved: in an ASIDE listing)
 *   dual_primary_windows  maximal intervals in which, taking each node's
 *                         latest sample at every instant, two or more nodes
 *                         are PRIMARY; dual_write_windows counts those in
 *                         which ok writes completed on two different nodes
 *   converged             yes when every digest is the same (n/a without -D)
 *   stale_reads           answered reads of an id acknowledged (ok) before
 *                         the read began that found no record;
 *                         wrong_reads: that found another value
 * The output is "key value" lines, per-window and per-id detail lines
 * ("window START END MS acked_by N", "lost_id ID NODE [preserved]",
 * "unexpected_id ...", "stale_read_id ID NODE VALUE", at most 20 each) and a
 * last "verdict PASS|FAIL: sentence" line.
 *
 * Exit 1 when lost > --max-lost (default 0), with --no-dual-write when a
 * window had acknowledged writes on two nodes, with --no-unexpected when
 * unexpected_present > 0, with --require-converged when the digests differ,
 * with --no-stale-reads when a read missed an acknowledged write;
 * 2 on a usage or input error; else 0. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NODES 64
#define MAX_ASIDE 64
#define DETAIL_MAX 20

enum { OUT_NONE, OUT_OK, OUT_FAIL, OUT_INFO };

/* Flags of an id. */
#define F_HIST   0x01
#define F_FINAL  0x02
#define F_ASIDE  0x04

struct entry {
	char *id;               /* NULL: empty slot */
	char *value;            /* the value written */
	uint8_t flags;
	uint8_t outcome;
	int16_t node;
	uint64_t complete;
};

struct table {
	struct entry *e;
	size_t cap, n;
};

struct ack {
	uint64_t t;
	int node;
};

struct readop {
	char *id, *value;
	uint64_t invoke;
	int node;
};

struct sample {
	uint64_t t;
	int node;
	int primary;
};

static const char *node_names[MAX_NODES];
static int nnodes;

static void
die(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "checker: ");
	fprintf(stderr, fmt, a, b);
	fprintf(stderr, "\n");
	exit(2);
}

static void *
xmalloc(size_t n)
{
	void *p;

	if ((p = malloc(n)) == NULL) {
		fprintf(stderr, "checker: out of memory\n");
		exit(2);
	}
	return p;
}

static void *
xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n)) == NULL) {
		fprintf(stderr, "checker: out of memory\n");
		exit(2);
	}
	return p;
}

static char *
xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xmalloc(n), s, n);
}

/* ---- id table (open addressing, FNV-1a) ---------------------------------- */

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

static struct entry *
table_slot(struct entry *e, size_t cap, const char *id)
{
	size_t i = (size_t)hash_str(id) & (cap - 1);

	while (e[i].id != NULL && strcmp(e[i].id, id) != 0)
		i = (i + 1) & (cap - 1);
	return &e[i];
}

static void
table_grow(struct table *t)
{
	struct entry *old = t->e, *s;
	size_t oldcap = t->cap, i;

	t->cap = oldcap == 0 ? 1024 : oldcap * 2;
	t->e = xmalloc(t->cap * sizeof(*t->e));
	memset(t->e, 0, t->cap * sizeof(*t->e));
	for (i = 0; i < oldcap; i++) {
		if (old[i].id == NULL)
			continue;
		s = table_slot(t->e, t->cap, old[i].id);
		*s = old[i];
	}
	free(old);
}

/* The entry of id, added (empty) if new. */
static struct entry *
table_get(struct table *t, const char *id)
{
	struct entry *s;

	if ((t->n + 1) * 2 > t->cap)
		table_grow(t);
	s = table_slot(t->e, t->cap, id);
	if (s->id == NULL) {
		s->id = xstrdup(id);
		s->node = -1;
		t->n++;
	}
	return s;
}

static int
node_index(const char *name)
{
	int i;

	for (i = 0; i < nnodes; i++)
		if (strcmp(node_names[i], name) == 0)
			return i;
	if (nnodes == MAX_NODES)
		die("more than %s node names%s", "64", "");
	node_names[nnodes] = xstrdup(name);
	return nnodes++;
}

/* ---- input --------------------------------------------------------------- */

/* Splits line into at most max whitespace-separated fields; the count. */
static int
split(char *line, char **f, int max)
{
	int n = 0;
	char *p = line;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (*p == '\0')
			return n;
		if (n == max)
			return max + 1;
		f[n++] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n' &&
		    *p != '\r')
			p++;
		if (*p != '\0')
			*p++ = '\0';
	}
}

static int
parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' && s[0] != '-' ? 0 : -1;
}

static FILE *
open_input(const char *path)
{
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL)
		die("%s: %s", path, strerror(errno));
	return fp;
}

struct history_counts {
	unsigned long long ops, ok, fail, info, reads, reads_ok;
	struct readop *rd;      /* answered reads */
	size_t nrd, rdcap;
};

static void
read_history(const char *path, struct table *t, struct ack **acks, size_t *nacks,
    struct history_counts *hc)
{
	char *line = NULL, *f[9], where[64];
	size_t cap = 0, acap = 0;
	unsigned long lineno = 0;
	FILE *fp = open_input(path);
	struct entry *e;
	uint64_t invoke, complete;
	int n, outcome;

	while (getline(&line, &cap, fp) != -1) {
		lineno++;
		snprintf(where, sizeof(where), "%lu", lineno);
		n = split(line, f, 8);
		if (n == 0 || f[0][0] == '#')
			continue;
		if (n != 8)
			die("%s line %s: not CLIENT OP ID VALUE INVOKE_MS "
			    "COMPLETE_MS OUTCOME NODE", path, where);
		if (parse_u64(f[4], &invoke) == -1 ||
		    parse_u64(f[5], &complete) == -1)
			die("%s line %s: bad time", path, where);
		if (strcmp(f[6], "ok") == 0)
			outcome = OUT_OK;
		else if (strcmp(f[6], "fail") == 0)
			outcome = OUT_FAIL;
		else if (strcmp(f[6], "info") == 0)
			outcome = OUT_INFO;
		else
			die("%s line %s: outcome is not ok, fail or info", path,
			    where);
		if (strcmp(f[1], "read") == 0) {
			hc->reads++;
			if (outcome != OUT_OK)
				continue;
			hc->reads_ok++;
			if (hc->nrd == hc->rdcap) {
				hc->rdcap = hc->rdcap == 0 ? 1024 : hc->rdcap * 2;
				hc->rd = xrealloc(hc->rd, hc->rdcap * sizeof(*hc->rd));
			}
			hc->rd[hc->nrd].id = xstrdup(f[2]);
			hc->rd[hc->nrd].value = xstrdup(f[3]);
			hc->rd[hc->nrd].invoke = invoke;
			hc->rd[hc->nrd].node = node_index(f[7]);
			hc->nrd++;
			continue;
		}
		if (strcmp(f[1], "write") != 0)
			die("%s line %s: operation is not write or read", path,
			    where);
		hc->ops++;
		if (outcome == OUT_OK)
			hc->ok++;
		else if (outcome == OUT_FAIL)
			hc->fail++;
		else
			hc->info++;
		e = table_get(t, f[2]);
		/* an id written twice: the strongest outcome counts
		 * (ok over info over fail) */
		if ((e->flags & F_HIST) == 0 || outcome == OUT_OK ||
		    (outcome == OUT_INFO && e->outcome == OUT_FAIL)) {
			e->outcome = (uint8_t)outcome;
			e->node = (int16_t)node_index(f[7]);
			e->complete = complete;
			free(e->value);
			e->value = xstrdup(f[3]);
		}
		e->flags |= F_HIST;
		if (outcome == OUT_OK) {
			if (*nacks == acap) {
				acap = acap == 0 ? 4096 : acap * 2;
				*acks = xrealloc(*acks, acap * sizeof(**acks));
			}
			(*acks)[*nacks].t = complete;
			(*acks)[*nacks].node = node_index(f[7]);
			(*nacks)++;
		}
	}
	if (ferror(fp))
		die("%s: %s", path, strerror(errno));
	free(line);
	fclose(fp);
}

/* Reads a listing of ids (first field of each line); the number read. */
static unsigned long long
read_ids(const char *path, struct table *t, uint8_t flag)
{
	char *line = NULL, *f[2];
	size_t cap = 0;
	unsigned long long n = 0;
	FILE *fp = open_input(path);

	while (getline(&line, &cap, fp) != -1) {
		if (split(line, f, 1) == 0 || f[0][0] == '#')
			continue;
		table_get(t, f[0])->flags |= flag;
		n++;
	}
	if (ferror(fp))
		die("%s: %s", path, strerror(errno));
	free(line);
	fclose(fp);
	return n;
}

static void
read_roles(const char *path, struct sample **out, size_t *nout)
{
	char *line = NULL, *f[5], where[64];
	size_t cap = 0, scap = 0;
	unsigned long lineno = 0;
	FILE *fp = open_input(path);
	uint64_t t;
	int n;

	while (getline(&line, &cap, fp) != -1) {
		lineno++;
		snprintf(where, sizeof(where), "%lu", lineno);
		n = split(line, f, 4);
		if (n == 0 || f[0][0] == '#')
			continue;
		if (n != 4 && n != 3)
			die("%s line %s: not TIME_MS NODE ROLE EPOCH", path, where);
		if (parse_u64(f[0], &t) == -1)
			die("%s line %s: bad time", path, where);
		if (*nout == scap) {
			scap = scap == 0 ? 4096 : scap * 2;
			*out = xrealloc(*out, scap * sizeof(**out));
		}
		(*out)[*nout].t = t;
		(*out)[*nout].node = node_index(f[1]);
		(*out)[*nout].primary = strcmp(f[2], "PRIMARY") == 0;
		(*nout)++;
	}
	if (ferror(fp))
		die("%s: %s", path, strerror(errno));
	free(line);
	fclose(fp);
}

/* 1 if every digest is the same, 0 if not, -1 if there is none. */
static int
read_digests(const char *path)
{
	char *line = NULL, *f[3], *first = NULL;
	size_t cap = 0;
	FILE *fp = open_input(path);
	int same = -1;

	while (getline(&line, &cap, fp) != -1) {
		int n = split(line, f, 2);

		if (n == 0 || f[0][0] == '#')
			continue;
		if (n != 2)
			die("%s: a line is not NODE DIGEST%s", path, "");
		if (first == NULL) {
			first = xstrdup(f[1]);
			same = 1;
		} else if (strcmp(first, f[1]) != 0)
			same = 0;
	}
	free(first);
	free(line);
	fclose(fp);
	return same;
}

/* ---- dual-primary windows ------------------------------------------------- */

static int
cmp_sample(const void *a, const void *b)
{
	const struct sample *x = a, *y = b;

	return x->t < y->t ? -1 : x->t > y->t;
}

static int
cmp_ack(const void *a, const void *b)
{
	const struct ack *x = a, *y = b;

	return x->t < y->t ? -1 : x->t > y->t;
}

struct windows {
	unsigned long long n, ms, both, both_ms;
	int details;
};

/* Nodes that acknowledged writes completing in [from, to]. */
static int
acked_by(const struct ack *acks, size_t nacks, uint64_t from, uint64_t to)
{
	size_t lo = 0, hi = nacks, i;
	int seen[MAX_NODES], count = 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (acks[mid].t < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	memset(seen, 0, sizeof(seen));
	for (i = lo; i < nacks && acks[i].t <= to; i++) {
		if (!seen[acks[i].node]) {
			seen[acks[i].node] = 1;
			count++;
		}
	}
	return count;
}

static void
window_done(struct windows *w, const struct ack *acks, size_t nacks,
    uint64_t from, uint64_t to, char *detail, size_t detlen)
{
	int by = acked_by(acks, nacks, from, to);
	size_t used = strlen(detail);

	w->n++;
	w->ms += to - from;
	if (by >= 2) {
		w->both++;
		w->both_ms += to - from;
	}
	if (w->details++ < DETAIL_MAX && used < detlen)
		snprintf(detail + used, detlen - used,
		    "window %llu %llu %llu acked_by %d\n", (unsigned long long)from,
		    (unsigned long long)to, (unsigned long long)(to - from), by);
}

static void
dual_primary(struct sample *s, size_t ns, const struct ack *acks, size_t nacks,
    struct windows *w, char *detail, size_t detlen)
{
	int primary[MAX_NODES], nprim = 0, open = 0;
	uint64_t start = 0;
	size_t i = 0, j;

	memset(primary, 0, sizeof(primary));
	qsort(s, ns, sizeof(*s), cmp_sample);
	while (i < ns) {
		/* all samples of one instant first, then judge it */
		for (j = i; j < ns && s[j].t == s[i].t; j++) {
			nprim += s[j].primary - primary[s[j].node];
			primary[s[j].node] = s[j].primary;
		}
		if (nprim >= 2 && !open) {
			open = 1;
			start = s[i].t;
		} else if (nprim < 2 && open) {
			open = 0;
			window_done(w, acks, nacks, start, s[i].t, detail, detlen);
		}
		i = j;
	}
	/* still two primaries at the last sample: the window ends there */
	if (open)
		window_done(w, acks, nacks, start, s[ns - 1].t, detail, detlen);
}

/* ---- main ---------------------------------------------------------------- */

static void
usage(void)
{
	fprintf(stderr,
	    "usage: checker -h history -f final [-r roles] [-a aside]... "
	    "[-D digests]\n"
	    "               [--max-lost N] [--no-dual-write] [--no-unexpected] "
	    "[--require-converged]\n"
	    "               [--no-stale-reads]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *hist = NULL, *final = NULL, *roles = NULL, *digests = NULL;
	const char *aside[MAX_ASIDE];
	int naside = 0, no_dual = 0, no_unexpected = 0, need_converged = 0;
	int no_stale = 0;
	unsigned long long stale = 0, wrong = 0;
	unsigned long long max_lost = 0, final_ids = 0, aside_ids = 0;
	unsigned long long lost = 0, lost_pres = 0, unexp = 0, unexp_pres = 0;
	unsigned long long info_present = 0, info_absent = 0, final_unknown = 0;
	struct history_counts hc;
	struct windows w = { 0, 0, 0, 0, 0 };
	struct table t = { NULL, 0, 0 };
	struct ack *acks = NULL;
	struct sample *samples = NULL;
	size_t nacks = 0, nsamples = 0, i;
	char detail[8192], ids[16384], why[512];
	int converged = -1, a, fails = 0, nlost_shown = 0, nunexp_shown = 0;
	uint64_t v;

	memset(&hc, 0, sizeof(hc));
	for (a = 1; a < argc; a++) {
		const char *o = argv[a];

		if (strcmp(o, "--no-dual-write") == 0)
			no_dual = 1;
		else if (strcmp(o, "--no-unexpected") == 0)
			no_unexpected = 1;
		else if (strcmp(o, "--require-converged") == 0)
			need_converged = 1;
		else if (strcmp(o, "--no-stale-reads") == 0)
			no_stale = 1;
		else if (a + 1 >= argc)
			usage();
		else if (strcmp(o, "--max-lost") == 0) {
			if (parse_u64(argv[++a], &v) == -1)
				die("bad --max-lost %s%s", argv[a], "");
			max_lost = v;
		} else if (strcmp(o, "-h") == 0)
			hist = argv[++a];
		else if (strcmp(o, "-f") == 0)
			final = argv[++a];
		else if (strcmp(o, "-r") == 0)
			roles = argv[++a];
		else if (strcmp(o, "-D") == 0)
			digests = argv[++a];
		else if (strcmp(o, "-a") == 0) {
			if (naside == MAX_ASIDE)
				die("at most %s -a listings%s", "64", "");
			aside[naside++] = argv[++a];
		} else
			usage();
	}
	if (hist == NULL || final == NULL)
		usage();

	read_history(hist, &t, &acks, &nacks, &hc);
	final_ids = read_ids(final, &t, F_FINAL);
	for (a = 0; a < naside; a++)
		aside_ids += read_ids(aside[a], &t, F_ASIDE);
	if (roles != NULL)
		read_roles(roles, &samples, &nsamples);
	if (digests != NULL)
		converged = read_digests(digests);

	ids[0] = '\0';
	for (i = 0; i < t.cap; i++) {
		struct entry *e = &t.e[i];
		size_t used = strlen(ids);

		if (e->id == NULL)
			continue;
		if (!(e->flags & F_HIST)) {
			final_unknown += (e->flags & F_FINAL) != 0;
			continue;
		}
		if (e->outcome == OUT_OK && !(e->flags & F_FINAL)) {
			lost++;
			lost_pres += (e->flags & F_ASIDE) != 0;
			if (nlost_shown++ < DETAIL_MAX && used < sizeof(ids))
				snprintf(ids + used, sizeof(ids) - used,
				    "lost_id %s %s%s\n", e->id, node_names[e->node],
				    e->flags & F_ASIDE ? " preserved" : "");
		} else if (e->outcome == OUT_FAIL &&
		    (e->flags & (F_FINAL | F_ASIDE))) {
			unexp += (e->flags & F_FINAL) != 0;
			unexp_pres += (e->flags & F_ASIDE) != 0;
			if (nunexp_shown++ < DETAIL_MAX && used < sizeof(ids))
				snprintf(ids + used, sizeof(ids) - used,
				    "unexpected_id %s %s%s\n", e->id,
				    node_names[e->node], e->flags & F_FINAL ?
				    "" : " preserved");
		} else if (e->outcome == OUT_INFO) {
			if (e->flags & F_FINAL)
				info_present++;
			else
				info_absent++;
		}
	}

	/* a read of an id acknowledged before the read began must see it */
	for (i = 0; i < hc.nrd; i++) {
		struct readop *r = &hc.rd[i];
		struct entry *e = table_get(&t, r->id);
		size_t used = strlen(ids);
		const char *what;

		if (!(e->flags & F_HIST) || e->outcome != OUT_OK ||
		    e->complete >= r->invoke || strcmp(r->value, e->value) == 0)
			continue;
		if (strcmp(r->value, "-") == 0) {
			stale++;
			what = "stale_read_id";
		} else {
			wrong++;
			what = "wrong_read_id";
		}
		if (stale + wrong <= DETAIL_MAX && used < sizeof(ids))
			snprintf(ids + used, sizeof(ids) - used, "%s %s %s %s\n",
			    what, r->id, node_names[r->node], r->value);
	}

	detail[0] = '\0';
	qsort(acks, nacks, sizeof(*acks), cmp_ack);
	if (nsamples > 0)
		dual_primary(samples, nsamples, acks, nacks, &w, detail,
		    sizeof(detail));

	printf("ops %llu\n", hc.ops);
	printf("ops_ok %llu\n", hc.ok);
	printf("ops_fail %llu\n", hc.fail);
	printf("ops_info %llu\n", hc.info);
	printf("reads %llu\n", hc.reads);
	printf("reads_ok %llu\n", hc.reads_ok);
	printf("stale_reads %llu\n", stale);
	printf("wrong_reads %llu\n", wrong);
	printf("final_ids %llu\n", final_ids);
	printf("final_unknown %llu\n", final_unknown);
	printf("aside_ids %llu\n", aside_ids);
	printf("lost %llu\n", lost);
	printf("lost_preserved %llu\n", lost_pres);
	printf("unexpected_present %llu\n", unexp);
	printf("unexpected_preserved %llu\n", unexp_pres);
	printf("info_present %llu\n", info_present);
	printf("info_absent %llu\n", info_absent);
	printf("role_samples %zu\n", nsamples);
	printf("dual_primary_windows %llu\n", w.n);
	printf("dual_primary_ms %llu\n", w.ms);
	printf("dual_write_windows %llu\n", w.both);
	printf("dual_write_ms %llu\n", w.both_ms);
	printf("converged %s\n", converged < 0 ? "n/a" : converged ? "yes" : "no");
	fputs(detail, stdout);
	fputs(ids, stdout);

	why[0] = '\0';
	if (lost > max_lost) {
		fails++;
		snprintf(why + strlen(why), sizeof(why) - strlen(why),
		    "%s%llu acknowledged write%s lost (%llu preserved aside, at most "
		    "%llu allowed)", why[0] ? "; " : "", lost, lost == 1 ? "" : "s",
		    lost_pres, max_lost);
	}
	if (no_dual && w.both > 0) {
		fails++;
		snprintf(why + strlen(why), sizeof(why) - strlen(why),
		    "%s%llu dual-primary window%s with writes acknowledged by two "
		    "nodes (%llu ms)", why[0] ? "; " : "", w.both,
		    w.both == 1 ? "" : "s", w.both_ms);
	}
	if (no_unexpected && unexp > 0) {
		fails++;
		snprintf(why + strlen(why), sizeof(why) - strlen(why),
		    "%s%llu write%s reported as failed %s present", why[0] ? "; " : "",
		    unexp, unexp == 1 ? "" : "s", unexp == 1 ? "is" : "are");
	}
	if (no_stale && stale + wrong > 0) {
		fails++;
		snprintf(why + strlen(why), sizeof(why) - strlen(why),
		    "%s%llu read%s missed an acknowledged write", why[0] ? "; " : "",
		    stale + wrong, stale + wrong == 1 ? "" : "s");
	}
	if (need_converged && converged != 1) {
		fails++;
		snprintf(why + strlen(why), sizeof(why) - strlen(why),
		    "%sthe nodes did not converge%s", why[0] ? "; " : "",
		    converged < 0 ? " (no digests)" : "");
	}
	if (fails > 0)
		printf("verdict FAIL: %s.\n", why);
	else
		printf("verdict PASS: %llu acknowledged write%s, %llu lost (at most "
		    "%llu allowed); %llu dual-primary window%s (%llu ms), %llu with "
		    "writes acknowledged by two nodes; %llu failed write%s present.\n",
		    hc.ok, hc.ok == 1 ? "" : "s", lost, max_lost, w.n,
		    w.n == 1 ? "" : "s", w.ms, w.both, unexp, unexp == 1 ? "" : "s");
	/* everything freed, so a leak checker sees none */
	for (i = 0; i < t.cap; i++) {
		free(t.e[i].id);
		free(t.e[i].value);
	}
	free(t.e);
	for (i = 0; i < hc.nrd; i++) {
		free(hc.rd[i].id);
		free(hc.rd[i].value);
	}
	free(hc.rd);
	free(acks);
	free(samples);
	for (a = 0; a < nnodes; a++)
		free((char *)node_names[a]);
	return fails > 0 ? 1 : 0;
}
