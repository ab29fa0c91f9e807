/* workload — concurrent writers against a cluster of guisvr nodes (remote
 * TLS client service), recording every operation in a history file for the
 * checker (tests/cluster/checker.c).
 *
 * usage: workload -k KEYFILE -P PORT -n NODE[,NODE...] [-c WRITERS] [-d SECS]
 *                 [-p PREFIX] -o HISTORY [-T OP_TIMEOUT_MS] [-R PCT]
 *                 [-r ROLES [-i SAMPLE_MS]] [-v]
 *
 * Each of the WRITERS threads writes records PREFIX.wN.SEQ (N the writer,
 * SEQ from 1 up), one PUT per operation and never the same id twice, with
 * one attribute v = VALUE ("N-SEQ"). PREFIX must make those valid record
 * ids: "DOMAIN.CATEGORY" (default 0.workload). A writer sends to the node
 * it believes is the primary; a node that refuses ("this node is
 * secondary; the primary is ADDR") names the primary, which the writers
 * try next (a node not in the list, or no name given: the next node of
 * the list). Connections are reopened as needed.
 *
 * Every operation is one line of HISTORY (appended, one write(2) per line,
 * so lines never mix):
 *     CLIENT OP ID VALUE INVOKE_MS COMPLETE_MS OUTCOME NODE
 * CLIENT "wN"; OP "write" (or "read"); times in CLOCK_REALTIME
 * milliseconds; NODE the address sent to (or tried); OUTCOME
 *     ok    acknowledged by guisvr;
 *     fail  certainly not applied: the connection could not be made (the
 *           request was never sent) or guisvr refused the request before
 *           touching the database (not the primary, malformed, too big,
 *           bad id, not allowed);
 *     info  unknown: no reply within the time limit, the connection was
 *           lost after sending, or an error that may follow the commit
 *           (XE_NOTREPL "committed on the primary only", XE_DB, XE_BUSY).
 * With -R PCT, PCT percent of the operations are instead a GET of the
 * writer's latest acknowledged id, from the node it believes is the
 * primary: "read" lines whose VALUE is the v read ("-": no such record),
 * OUTCOME ok when answered, info when the answer was lost, fail else.
 * With -r ROLES, one thread per node asks it for its STATUS every
 * SAMPLE_MS (default 20) over a kept connection while the writers run and
 * appends "TIME_MS NODE ROLE -" to ROLES: guisvr's role (PRIMARY,
 * SECONDARY, STARTING), "down" when it does not answer; the epoch is not
 * in STATUS ("-"). That is the checker's -r input.
 * The TCP connect, each send and each reply wait at most OP_TIMEOUT_MS
 * (default 2000); writers start no operation after SECS seconds (default
 * 10), so the run ends within SECS plus a few times that limit (connect,
 * handshake, reply).
 * At the end a summary is printed: "ops N ok N fail N info N" (writes),
 * "reads N ok N fail N info N" with -R, and one "node ADDR ok N" line per
 * node (acknowledged writes). SIGINT/SIGTERM end the run early (the
 * operations under way complete first).
 * Exit 0 (whatever the outcomes), 1 when the history cannot be written,
 * 2 on a usage error. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"
#include "record.h"
#include "util.h"
#include "xdbclient.h"

#define MAX_NODES 16
#define MAX_WRITERS 256
#define ADDR_MAX 64
/* Pauses that keep a writer from spinning on refusals and dead nodes. */
#define RETRY_PAUSE_MS 20
#define HINT_PAUSE_MS 2

enum outcome { OUT_OK, OUT_FAIL, OUT_INFO };
static const char *const outcome_word[] = { "ok", "fail", "info" };

static char nodes[MAX_NODES][ADDR_MAX];
static int nnodes;
static const char *opt_port;
static char *opt_secret;
static const char *opt_prefix = "0.workload";
static unsigned opt_timeout_ms = 2000;
static int opt_verbose;
static unsigned opt_read_pct;

static int hist_fd = -1;
static int roles_fd = -1;
static unsigned opt_sample_ms = 20;
static volatile int writers_done;
static pthread_mutex_t hist_mu = PTHREAD_MUTEX_INITIALIZER;
static int hist_failed;
static int believed_primary;            /* node index, shared by the writers */
static volatile sig_atomic_t stop_requested;
static uint64_t end_ms;                 /* CLOCK_MONOTONIC */

struct writer {
	pthread_t tid;
	int n;
	unsigned long long ops, counts[3];
	unsigned long long reads, read_counts[3];
	unsigned long long node_ok[MAX_NODES];
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: workload -k keyfile -P port -n node[,node...] [-c writers] "
	    "[-d secs]\n"
	    "                [-p prefix] -o history [-T op_timeout_ms] [-R pct]\n"
	    "                [-r roles [-i sample_ms]] [-v]\n");
	exit(2);
}

static uint64_t
realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int
node_index(const char *addr, size_t len)
{
	int i;

	for (i = 0; i < nnodes; i++)
		if (strlen(nodes[i]) == len && memcmp(nodes[i], addr, len) == 0)
			return i;
	return -1;
}

/* The node named by a refusal ("... the primary is ADDR"), or -1. */
static int
primary_hint(const char *msg)
{
	static const char key[] = "the primary is ";
	const char *p, *q;

	if ((p = strstr(msg, key)) == NULL)
		return -1;
	p += sizeof(key) - 1;
	for (q = p; *q != '\0' && *q != ' ' && *q != ';' && *q != ',' &&
	    *q != ')' && *q != '\n'; q++)
		;
	return node_index(p, (size_t)(q - p));
}

/* Whether an ERR code proves the write was not applied: these are given
 * before the store begins a transaction. Everything else (not replicated,
 * database error, busy) may come after the commit. */
static int
definite_refusal(int code)
{
	switch (code) {
	case XE_READONLY:
	case XE_BADREQ:
	case XE_TOOBIG:
	case XE_BADID:
	case XE_AUTH:
	case XE_UNKNOWN:
		return 1;
	}
	return 0;
}

static void
history_line(const struct writer *w, const char *op, const char *id,
    const char *value,
    uint64_t invoke, uint64_t complete, enum outcome o, const char *node)
{
	char line[RECORD_ID_MAX + 256];
	int n;

	n = snprintf(line, sizeof(line), "w%d %s %s %s %llu %llu %s %s\n", w->n,
	    op, id, value, (unsigned long long)invoke, (unsigned long long)complete,
	    outcome_word[o], node);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	pthread_mutex_lock(&hist_mu);
	if (util_write_full(hist_fd, line, (size_t)n) == -1 && !hist_failed) {
		hist_failed = 1;
		fprintf(stderr, "workload: cannot write the history: %s\n",
		    strerror(errno));
	}
	pthread_mutex_unlock(&hist_mu);
}

/* One GET of id: OUT_OK with the value of v ("-": no such record). */
static enum outcome
do_read(struct xdbc *c, const char *id, char *value, size_t vlen, int *rc,
    struct xerr *e)
{
	const struct xattr *a;
	struct record r;

	record_init(&r);
	*rc = xdbc_get(c, id, &r, e);
	if (*rc == 0) {
		a = record_find(&r, "v");
		snprintf(value, vlen, "%s", a == NULL ? "?" : a->vlen == 0 ||
		    strpbrk(a->value, " \t\n") != NULL ? "?" : a->value);
		record_free(&r);
		return OUT_OK;
	}
	record_free(&r);
	if (*rc == XE_NOTFOUND) {
		snprintf(value, vlen, "-");
		return OUT_OK;
	}
	snprintf(value, vlen, "-");
	/* a read changes nothing: only a lost answer is unknown */
	return *rc == -1 ? OUT_INFO : OUT_FAIL;
}

static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	struct xdbc *c = NULL;
	int cnode = -1, node, hint, have_ok = 0;
	unsigned long long seq = 0;
	unsigned seed = (unsigned)(w->n * 2654435761u) ^ (unsigned)realtime_ms();
	char last_id[RECORD_ID_MAX + 1];

	node = __atomic_load_n(&believed_primary, __ATOMIC_RELAXED);
	while (!stop_requested && util_now_ms() < end_ms) {
		char id[RECORD_ID_MAX + 1], value[64];
		struct record r;
		struct xerr e;
		uint64_t invoke, complete;
		enum outcome o;
		unsigned pause = 0;
		int rc, is_read;

		is_read = have_ok && opt_read_pct > 0 &&
		    (unsigned)rand_r(&seed) % 100 < opt_read_pct;
		if (is_read) {
			/* read back this writer's latest acknowledged write */
			memcpy(id, last_id, sizeof(id));
		} else {
			seq++;
			snprintf(id, sizeof(id), "%s.w%d.%llu", opt_prefix, w->n,
			    seq);
			snprintf(value, sizeof(value), "%d-%llu", w->n, seq);
		}
		memset(&e, 0, sizeof(e));
		invoke = realtime_ms();
		if (c != NULL && cnode != node) {
			xdbc_close(c);
			c = NULL;
		}
		if (c == NULL) {
			c = xdbc_connect_tls_timeout(nodes[node], opt_port, opt_secret,
			    opt_timeout_ms, &e);
			cnode = node;
		}
		if (c == NULL) {
			/* nothing was sent */
			complete = realtime_ms();
			o = OUT_FAIL;
			rc = -1;
			if (is_read)
				snprintf(value, sizeof(value), "-");
		} else if (is_read) {
			o = do_read(c, id, value, sizeof(value), &rc, &e);
			complete = realtime_ms();
		} else {
			record_init(&r);
			if (record_set_id(&r, id, strlen(id)) == -1 ||
			    record_set(&r, "v", 1, value, strlen(value)) == -1) {
				fprintf(stderr, "workload: out of memory\n");
				exit(1);
			}
			rc = xdbc_put(c, &r, &e);
			complete = realtime_ms();
			record_free(&r);
			if (rc == 0)
				o = OUT_OK;
			else if (rc > 0 && definite_refusal(rc))
				o = OUT_FAIL;
			else
				o = OUT_INFO;
		}
		history_line(w, is_read ? "read" : "write", id, value, invoke,
		    complete, o, nodes[node]);
		if (is_read) {
			w->reads++;
			w->read_counts[o]++;
		} else {
			w->ops++;
			w->counts[o]++;
		}
		if (o == OUT_OK) {
			if (!is_read) {
				w->node_ok[node]++;
				memcpy(last_id, id, sizeof(last_id));
				have_ok = 1;
			}
			__atomic_store_n(&believed_primary, node, __ATOMIC_RELAXED);
			continue;
		}
		if (opt_verbose)
			fprintf(stderr, "workload: w%d %s %s at %s: %s: %s (code %d)\n",
			    w->n, is_read ? "read" : "write", id, nodes[node],
			    outcome_word[o], e.msg, e.code);
		if (c == NULL) {
			/* this node cannot be reached: the next one */
			node = (node + 1) % nnodes;
			pause = RETRY_PAUSE_MS;
		} else {
			/* a fresh connection after any error: one guisvr closed
			 * after its refusal must not turn the next operation into
			 * an unknown one; after a lost connection the same node
			 * is tried first (if it is gone, the connect fails) */
			xdbc_close(c);
			c = NULL;
			pause = RETRY_PAUSE_MS;
		}
		if (rc == XE_READONLY) {
			hint = primary_hint(e.msg);
			if (hint >= 0 && hint != node) {
				node = hint;
				pause = HINT_PAUSE_MS;
			} else {
				/* no primary known yet, or it names itself
				 * wrongly: look elsewhere, a little later */
				int shared = __atomic_load_n(&believed_primary,
				    __ATOMIC_RELAXED);

				node = shared != node ? shared : (node + 1) % nnodes;
				pause = RETRY_PAUSE_MS;
			}
			__atomic_store_n(&believed_primary, node, __ATOMIC_RELAXED);
		}
		if (pause > 0)
			sleep_ms(pause);
	}
	if (c != NULL)
		xdbc_close(c);
	return NULL;
}

/* Role sampler of one node: every opt_sample_ms, a STATUS request on a
 * kept connection; its "role WORD" line (guisvr's own role, the one that
 * decides whether it takes writes) becomes "TIME_MS NODE ROLE -" in the
 * roles file, ROLE in capitals, "down" when the node does not answer. */
static void *
sampler_main(void *arg)
{
	int node = (int)(intptr_t)arg;
	struct xdbc *c = NULL;
	unsigned limit = opt_sample_ms * 5 < 250 ? 250 : opt_sample_ms * 5;

	while (!__atomic_load_n(&writers_done, __ATOMIC_ACQUIRE)) {
		char line[160], role[32], *text = NULL, *p;
		struct xerr e;
		uint64_t t = realtime_ms(), start = util_now_ms(), spent;
		size_t i;
		int n;

		snprintf(role, sizeof(role), "down");
		if (c == NULL)
			c = xdbc_connect_tls_timeout(nodes[node], opt_port, opt_secret,
			    limit, &e);
		if (c != NULL && xdbc_status(c, &text, &e) == 0) {
			if ((p = strstr(text, "\nrole ")) != NULL)
				p += 6;
			else if (strncmp(text, "role ", 5) == 0)
				p = text + 5;
			if (p != NULL) {
				for (i = 0; i + 1 < sizeof(role) && p[i] != '\0' &&
				    p[i] != '\n' && p[i] != ' '; i++)
					role[i] = (char)(p[i] >= 'a' && p[i] <= 'z' ?
					    p[i] - 'a' + 'A' : p[i]);
				role[i] = '\0';
			}
			free(text);
		} else if (c != NULL) {
			xdbc_close(c);
			c = NULL;
		}
		n = snprintf(line, sizeof(line), "%llu %s %s -\n",
		    (unsigned long long)t, nodes[node], role);
		if (util_write_full(roles_fd, line, (size_t)n) == -1 &&
		    !hist_failed) {
			hist_failed = 1;
			fprintf(stderr, "workload: cannot write the role samples: "
			    "%s\n", strerror(errno));
		}
		spent = util_now_ms() - start;
		if (spent < opt_sample_ms)
			sleep_ms((unsigned)(opt_sample_ms - spent));
	}
	if (c != NULL)
		xdbc_close(c);
	return NULL;
}

static void
parse_nodes(const char *list)
{
	const char *p = list, *q;
	size_t len;

	while (*p != '\0') {
		q = strchr(p, ',');
		len = q != NULL ? (size_t)(q - p) : strlen(p);
		if (len == 0 || len >= ADDR_MAX || nnodes == MAX_NODES) {
			fprintf(stderr, "workload: bad node list %s (at most %d "
			    "addresses, comma separated)\n", list, MAX_NODES);
			exit(2);
		}
		memcpy(nodes[nnodes], p, len);
		nodes[nnodes][len] = '\0';
		if (strchr(nodes[nnodes], ' ') != NULL) {
			fprintf(stderr, "workload: bad node address '%s'\n",
			    nodes[nnodes]);
			exit(2);
		}
		nnodes++;
		p += len;
		if (*p == ',')
			p++;
	}
}

static unsigned long
num_arg(const char *s, const char *what, unsigned long min, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "workload: bad %s '%s' (%lu to %lu)\n", what, s, min,
		    max);
		exit(2);
	}
	return v;
}

int
main(int argc, char **argv)
{
	const char *keyfile = NULL, *histfile = NULL, *nodelist = NULL;
	const char *rolesfile = NULL;
	pthread_t samplers[MAX_NODES];
	unsigned long writers = 4, secs = 10;
	unsigned long long ops = 0, counts[3] = { 0, 0, 0 }, node_ok[MAX_NODES];
	unsigned long long reads = 0, read_counts[3] = { 0, 0, 0 };
	struct writer *ws;
	struct sigaction sa;
	char err[HASVR_ERRLEN], probe[RECORD_ID_MAX + 1];
	unsigned long i;
	int ch, j;

	while ((ch = getopt(argc, argv, "k:P:n:c:d:p:o:T:R:r:i:v")) != -1) {
		switch (ch) {
		case 'k':
			keyfile = optarg;
			break;
		case 'P':
			opt_port = optarg;
			break;
		case 'n':
			nodelist = optarg;
			break;
		case 'c':
			writers = num_arg(optarg, "writer count", 1, MAX_WRITERS);
			break;
		case 'd':
			secs = num_arg(optarg, "duration", 1, 86400);
			break;
		case 'p':
			opt_prefix = optarg;
			break;
		case 'o':
			histfile = optarg;
			break;
		case 'T':
			opt_timeout_ms = (unsigned)num_arg(optarg, "operation timeout",
			    1, 600000);
			break;
		case 'R':
			opt_read_pct = (unsigned)num_arg(optarg, "read percentage",
			    0, 100);
			break;
		case 'r':
			rolesfile = optarg;
			break;
		case 'i':
			opt_sample_ms = (unsigned)num_arg(optarg, "sample interval",
			    1, 10000);
			break;
		case 'v':
			opt_verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || keyfile == NULL || opt_port == NULL ||
	    nodelist == NULL || histfile == NULL)
		usage();
	parse_nodes(nodelist);
	if (nnodes == 0)
		usage();
	/* the longest id this run writes must be valid */
	snprintf(probe, sizeof(probe), "%s.w%lu.%llu", opt_prefix, writers - 1,
	    18446744073709551615ull);
	if (strlen(opt_prefix) + 32 > RECORD_ID_MAX ||
	    record_id_valid(probe, strlen(probe), err, sizeof(err)) == -1) {
		fprintf(stderr, "workload: prefix %s does not make valid ids "
		    "(DOMAIN.CATEGORY, e.g. 0.workload): %s\n", opt_prefix, err);
		return 2;
	}
	if ((opt_secret = util_read_key(keyfile, 16, err, sizeof(err))) == NULL) {
		fprintf(stderr, "workload: %s\n", err);
		return 2;
	}
	if ((hist_fd = open(histfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0644)) == -1) {
		fprintf(stderr, "workload: %s: %s\n", histfile, strerror(errno));
		return 1;
	}

	if (rolesfile != NULL && (roles_fd = open(rolesfile, O_WRONLY | O_CREAT |
	    O_APPEND | O_CLOEXEC, 0644)) == -1) {
		fprintf(stderr, "workload: %s: %s\n", rolesfile, strerror(errno));
		return 1;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if ((ws = calloc(writers, sizeof(*ws))) == NULL) {
		fprintf(stderr, "workload: out of memory\n");
		return 1;
	}
	end_ms = util_now_ms() + secs * 1000;
	for (j = 0; roles_fd != -1 && j < nnodes; j++) {
		if (pthread_create(&samplers[j], NULL, sampler_main,
		    (void *)(intptr_t)j) != 0) {
			fprintf(stderr, "workload: cannot start a role sampler\n");
			return 1;
		}
	}
	for (i = 0; i < writers; i++) {
		ws[i].n = (int)i;
		if (pthread_create(&ws[i].tid, NULL, writer_main, &ws[i]) != 0) {
			fprintf(stderr, "workload: cannot start writer %lu\n", i);
			return 1;
		}
	}
	memset(node_ok, 0, sizeof(node_ok));
	for (i = 0; i < writers; i++) {
		pthread_join(ws[i].tid, NULL);
		ops += ws[i].ops;
		reads += ws[i].reads;
		for (j = 0; j < 3; j++) {
			counts[j] += ws[i].counts[j];
			read_counts[j] += ws[i].read_counts[j];
		}
		for (j = 0; j < nnodes; j++)
			node_ok[j] += ws[i].node_ok[j];
	}
	close(hist_fd);
	__atomic_store_n(&writers_done, 1, __ATOMIC_RELEASE);
	for (j = 0; roles_fd != -1 && j < nnodes; j++)
		pthread_join(samplers[j], NULL);
	if (roles_fd != -1)
		close(roles_fd);
	printf("ops %llu ok %llu fail %llu info %llu\n", ops, counts[OUT_OK],
	    counts[OUT_FAIL], counts[OUT_INFO]);
	if (opt_read_pct > 0)
		printf("reads %llu ok %llu fail %llu info %llu\n", reads,
		    read_counts[OUT_OK], read_counts[OUT_FAIL], read_counts[OUT_INFO]);
	for (j = 0; j < nnodes; j++)
		printf("node %s ok %llu\n", nodes[j], node_ok[j]);
	free(ws);
	explicit_bzero(opt_secret, strlen(opt_secret));
	free(opt_secret);
	return hist_failed ? 1 : 0;
}
