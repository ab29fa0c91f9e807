/* etcd_client_test — lib/etcd.c against a real etcd cluster (started by
 * tests/etcd/etcd.sh; tests/etcd/etcd_client.sh drives it).
 *
 * usage:
 *   etcd_client_test [-t TIMEOUT_MS] [-c CACERT] [-C CERT -K KEY]
 *       ENDPOINTS checks
 *     the numbered checks (leases, keys, transactions, binary values,
 *     endpoint failover); prints "ok N - what" or "FAIL N - what: why"
 *     for each and "checks N failed N"; exit 1 if any failed.
 *   etcd_client_test [...] ENDPOINTS cmd
 *     one long-lived client: reads commands from stdin, one a line, and
 *     answers each with one line
 *         RC ms=MS ep=ENDPOINT [FIELD=VALUE...] [err=TEXT]
 *     (RC as etcd_rc_name; MS the call's time; ENDPOINT the one that
 *     answered last; err, the rest of the line, after anything but OK).
 *     Commands (values are text without spaces; LEASE a decimal ID):
 *         put KEY VALUE [LEASE]        get KEY          delete KEY
 *         create KEY VALUE [LEASE]     cas KEY EXPECT VALUE [LEASE]
 *         delete_if KEY EXPECT         list PREFIX
 *         grant TTL                    keepalive LEASE  revoke LEASE
 *     get answers value= lease= create_rev= mod_rev=; grant lease= ttl=;
 *     keepalive ttl=; list n= keys=K1,K2,...; create/cas on FAILED
 *     value= lease= (the holder).
 * ENDPOINTS is a comma-separated list of client URLs. Exit 2: usage. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "etcd.h"
#include "util.h"

static int nchecks, nfailed;
static char prefix[64];

static void usage(void) __attribute__((noreturn));

static void
usage(void)
{
	fprintf(stderr, "usage: etcd_client_test [-t TIMEOUT_MS] [-c CACERT] "
	    "[-C CERT -K KEY] ENDPOINTS checks|cmd\n");
	exit(2);
}

static void
check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One numbered check: "ok N - what" or "FAIL N - what". */
static void
check(int ok, const char *fmt, ...)
{
	va_list ap;

	nchecks++;
	if (!ok)
		nfailed++;
	printf("%s %d - ", ok ? "ok" : "FAIL", nchecks);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* A call's result must be want; the check names both and etcd's error. */
static int
expect(struct etcd *e, int got, int want, const char *what)
{
	if (got == want)
		check(1, "%s: %s", what, etcd_rc_name(got));
	else
		check(0, "%s: %s, expected %s (%s)", what, etcd_rc_name(got),
		    etcd_rc_name(want), etcd_error(e));
	return got == want;
}

/* The test's key NAME under this run's prefix (four in use at a time). */
static const char *
K(const char *name)
{
	static char buf[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s%s", prefix, name);
	return buf[i];
}

static int
kv_is(const struct etcd_kv *kv, const char *v, size_t len)
{
	return kv->value != NULL && kv->len == len &&
	    memcmp(kv->value, v, len) == 0 && kv->value[len] == '\0';
}

struct listed {
	int n;
	int stop_after;
	char keys[8][256];
	size_t lens[8];
};

static int
list_cb(void *arg, const char *key, const struct etcd_kv *kv)
{
	struct listed *l = arg;

	if (l->n < 8) {
		util_strlcpy(l->keys[l->n], key, sizeof(l->keys[0]));
		l->lens[l->n] = kv->len;
	}
	l->n++;
	return l->stop_after > 0 && l->n >= l->stop_after;
}

/* ---- the numbered checks ------------------------------------------------ */

static void
checks_lease(struct etcd *e)
{
	struct etcd_kv kv = { 0 };
	int64_t lease, l1;
	int ttl, left, rc, ttl1;
	uint64_t t0, t;

	rc = etcd_lease_grant(e, 5, &lease, &ttl);
	if (!expect(e, rc, ETCD_OK, "lease grant (TTL 5)"))
		return;
	check(lease != 0 && ttl >= 5, "lease %" PRId64 " granted for %d s", lease, ttl);
	rc = etcd_lease_keepalive(e, lease, &left);
	expect(e, rc, ETCD_OK, "lease keepalive");
	check(left >= 1 && left <= ttl, "keepalive: ttl_left %d (of %d)", left, ttl);
	rc = etcd_put(e, K("leased"), "x", 1, lease);
	expect(e, rc, ETCD_OK, "put under the lease");
	rc = etcd_get(e, K("leased"), &kv);
	expect(e, rc, ETCD_OK, "get the leased key");
	check(kv.lease == lease, "the key carries lease %" PRId64 " (got %" PRId64 ")",
	    lease, kv.lease);
	etcd_kv_clear(&kv);
	rc = etcd_lease_revoke(e, lease);
	expect(e, rc, ETCD_OK, "lease revoke");
	rc = etcd_get(e, K("leased"), NULL);
	expect(e, rc, ETCD_NOTFOUND, "revoking deleted the leased key");
	rc = etcd_lease_keepalive(e, lease, &left);
	expect(e, rc, ETCD_NOLEASE, "keepalive of the revoked lease");
	check(strstr(etcd_error(e), "expired or unknown") != NULL,
	    "its error says so: %s", etcd_error(e));
	rc = etcd_lease_revoke(e, lease);
	expect(e, rc, ETCD_NOLEASE, "revoke it again");
	rc = etcd_put(e, K("leased"), "x", 1, lease);
	expect(e, rc, ETCD_NOLEASE, "put under the revoked lease");
	check(strstr(etcd_error(e), "lease not found") != NULL,
	    "its error names the cause: %s", etcd_error(e));
	rc = etcd_create(e, K("leased"), "x", 1, lease, NULL);
	expect(e, rc, ETCD_NOLEASE, "create under the revoked lease");

	/* a key under a lease nobody keeps alive goes when the TTL runs out
	 * (etcd rounds a TTL up to 1.5 election timeouts) */
	t0 = util_now_ms();
	rc = etcd_lease_grant(e, 1, &l1, &ttl1);
	if (!expect(e, rc, ETCD_OK, "lease grant (TTL 1)"))
		return;
	check(ttl1 >= 1 && ttl1 <= 5, "granted TTL %d s", ttl1);
	rc = etcd_put(e, K("expiring"), "x", 1, l1);
	expect(e, rc, ETCD_OK, "put under the 1 s lease");
	expect(e, etcd_get(e, K("expiring"), NULL), ETCD_OK, "the key is there");
	t = 0;
	while (util_now_ms() - t0 < (uint64_t)ttl1 * 1000 + 5000) {
		if ((rc = etcd_get(e, K("expiring"), NULL)) != ETCD_OK)
			break;
		usleep(50 * 1000);
	}
	t = util_now_ms() - t0;
	expect(e, rc, ETCD_NOTFOUND, "the key under the lease not kept alive");
	check(rc == ETCD_NOTFOUND && t + 100 >= (uint64_t)ttl1 * 1000,
	    "it went %" PRIu64 " ms after the grant (TTL %d s)", t, ttl1);
	rc = etcd_lease_keepalive(e, l1, &left);
	expect(e, rc, ETCD_NOLEASE, "keepalive of the expired lease");
}

static void
checks_kv(struct etcd *e)
{
	struct etcd_kv kv = { 0 }, kv2 = { 0 };
	struct listed l;
	int rc;

	rc = etcd_put(e, K("k/a"), "va", 2, 0);
	expect(e, rc, ETCD_OK, "put k/a");
	rc = etcd_get(e, K("k/a"), &kv);
	expect(e, rc, ETCD_OK, "get k/a");
	check(kv_is(&kv, "va", 2) && kv.lease == 0 && kv.create_rev > 0 &&
	    kv.mod_rev == kv.create_rev && kv.version == 1,
	    "k/a = 'va' (len %zu) create_rev %" PRId64 " mod_rev %" PRId64
	    " version %" PRId64 " lease %" PRId64, kv.len, kv.create_rev,
	    kv.mod_rev, kv.version, kv.lease);
	rc = etcd_put(e, K("k/a"), "va2", 3, 0);
	expect(e, rc, ETCD_OK, "put k/a again");
	rc = etcd_get(e, K("k/a"), &kv2);
	check(rc == ETCD_OK && kv_is(&kv2, "va2", 3) &&
	    kv2.create_rev == kv.create_rev && kv2.mod_rev > kv.mod_rev &&
	    kv2.version == 2, "k/a = 'va2': same create_rev, mod_rev %" PRId64
	    " > %" PRId64 ", version %" PRId64, kv2.mod_rev, kv.mod_rev, kv2.version);
	etcd_kv_clear(&kv);
	etcd_kv_clear(&kv2);

	expect(e, etcd_put(e, K("k/b"), "vb", 2, 0), ETCD_OK, "put k/b");
	expect(e, etcd_put(e, K("k/c"), "", 0, 0), ETCD_OK, "put k/c (empty)");
	/* just past the prefix's end ("k0" follows "k/") and just before */
	expect(e, etcd_put(e, K("k0"), "out", 3, 0), ETCD_OK, "put k0");
	expect(e, etcd_put(e, K("k."), "out", 3, 0), ETCD_OK, "put k.");
	memset(&l, 0, sizeof(l));
	rc = etcd_list(e, K("k/"), list_cb, &l);
	expect(e, rc, ETCD_OK, "list k/");
	check(l.n == 3 && strcmp(l.keys[0], K("k/a")) == 0 &&
	    strcmp(l.keys[1], K("k/b")) == 0 && strcmp(l.keys[2], K("k/c")) == 0 &&
	    l.lens[0] == 3 && l.lens[2] == 0,
	    "list k/: %d keys, k/a k/b k/c in order (not k0, k.)", l.n);
	memset(&l, 0, sizeof(l));
	l.stop_after = 2;
	rc = etcd_list(e, K("k/"), list_cb, &l);
	check(rc == ETCD_OK && l.n == 2, "list stops when the callback says so "
	    "(%d keys)", l.n);
	memset(&l, 0, sizeof(l));
	rc = etcd_list(e, K("none/"), list_cb, &l);
	check(rc == ETCD_OK && l.n == 0, "list of an empty prefix: %s, %d keys",
	    etcd_rc_name(rc), l.n);
	memset(&l, 0, sizeof(l));
	rc = etcd_list(e, "", list_cb, &l);
	check(rc == ETCD_OK && l.n >= 5, "list of every key: %d", l.n);
	/* a prefix ending in 0xff: the bound moves to the byte before */
	expect(e, etcd_put(e, K("f\xff"), "1", 1, 0), ETCD_OK, "put f\\xff");
	expect(e, etcd_put(e, K("f\xff\xff"), "2", 1, 0), ETCD_OK, "put f\\xff\\xff");
	expect(e, etcd_put(e, K("g"), "3", 1, 0), ETCD_OK, "put g");
	memset(&l, 0, sizeof(l));
	rc = etcd_list(e, K("f\xff"), list_cb, &l);
	check(rc == ETCD_OK && l.n == 2, "list f\\xff: %d keys (f\\xff, "
	    "f\\xff\\xff; not g)", l.n);

	expect(e, etcd_get(e, K("missing"), &kv), ETCD_NOTFOUND, "get a missing key");
	check(kv.value == NULL && kv.len == 0, "nothing returned for it");
	expect(e, etcd_delete(e, K("missing")), ETCD_NOTFOUND, "delete a missing key");
	expect(e, etcd_delete(e, K("k/b")), ETCD_OK, "delete k/b");
	expect(e, etcd_get(e, K("k/b"), NULL), ETCD_NOTFOUND, "k/b is gone");
}

static void
checks_txn(struct etcd *e)
{
	struct etcd_kv cur = { 0 }, kv = { 0 };
	int64_t lease;
	int rc;

	rc = etcd_lease_grant(e, 10, &lease, NULL);
	expect(e, rc, ETCD_OK, "lease for the leader key");
	rc = etcd_create(e, K("leader"), "node1", 5, lease, &cur);
	expect(e, rc, ETCD_OK, "create the leader key when absent");
	check(cur.value == NULL, "no holder returned on success");
	rc = etcd_create(e, K("leader"), "node2", 5, 0, &cur);
	expect(e, rc, ETCD_FAILED, "second create");
	check(kv_is(&cur, "node1", 5) && cur.lease == lease && cur.create_rev > 0,
	    "it returns the holder: '%s' lease %" PRId64 " create_rev %" PRId64,
	    cur.value ? cur.value : "(null)", cur.lease, cur.create_rev);
	etcd_kv_clear(&cur);
	expect(e, etcd_create(e, K("leader"), "node2", 5, 0, NULL), ETCD_FAILED,
	    "second create without cur");

	rc = etcd_cas(e, K("leader"), "node1", 5, "node1", 5, lease, &cur);
	expect(e, rc, ETCD_OK, "cas with the right value (renew)");
	rc = etcd_cas(e, K("leader"), "node2", 5, "node2", 5, 0, &cur);
	expect(e, rc, ETCD_FAILED, "cas with a wrong value");
	check(kv_is(&cur, "node1", 5) && cur.lease == lease,
	    "it returns the current value '%s'", cur.value ? cur.value : "(null)");
	etcd_kv_clear(&cur);
	rc = etcd_cas(e, K("leader"), "node1", 5, "node3", 5, 0, NULL);
	expect(e, rc, ETCD_OK, "cas node1 -> node3 (no lease)");
	rc = etcd_get(e, K("leader"), &kv);
	check(rc == ETCD_OK && kv_is(&kv, "node3", 5) && kv.lease == 0,
	    "leader = node3, detached from the lease");
	etcd_kv_clear(&kv);
	rc = etcd_cas(e, K("nokey"), "x", 1, "y", 1, 0, &cur);
	expect(e, rc, ETCD_NOTFOUND, "cas on a missing key");
	rc = etcd_cas(e, K("nokey"), "", 0, "y", 1, 0, &cur);
	expect(e, rc, ETCD_NOTFOUND, "cas expecting '' on a missing key");
	expect(e, etcd_put(e, K("empty"), "", 0, 0), ETCD_OK, "put an empty value");
	rc = etcd_cas(e, K("empty"), "", 0, "z", 1, 0, &cur);
	expect(e, rc, ETCD_OK, "cas expecting '' on the empty value");

	rc = etcd_delete_if(e, K("leader"), "node1", 5);
	expect(e, rc, ETCD_FAILED, "delete_if with a wrong value");
	expect(e, etcd_get(e, K("leader"), NULL), ETCD_OK, "the key stays");
	rc = etcd_delete_if(e, K("leader"), "node3", 5);
	expect(e, rc, ETCD_OK, "delete_if with the right value");
	expect(e, etcd_get(e, K("leader"), NULL), ETCD_NOTFOUND, "the key is gone");
	rc = etcd_delete_if(e, K("leader"), "node3", 5);
	expect(e, rc, ETCD_NOTFOUND, "delete_if on a missing key");
	etcd_lease_revoke(e, lease);
}

static void
checks_binary(struct etcd *e)
{
	static const char *const names[] = { "b0", "b1", "b2", "b3", "b4", "b5" };
	struct etcd_kv kv = { 0 }, cur = { 0 };
	char *big, *big2;
	size_t i, n;
	int rc, ok;

	/* 4 KiB of every byte value, NULs included */
	n = 4096;
	big = malloc(n);
	big2 = malloc(n);
	for (i = 0; i < n; i++) {
		big[i] = (char)(i * 7 % 256);
		big2[i] = (char)(255 - i % 256);
	}
	big[0] = big[100] = '\0';
	expect(e, etcd_put(e, K("bin"), big, n, 0), ETCD_OK, "put 4 KiB with NULs");
	rc = etcd_get(e, K("bin"), &kv);
	check(rc == ETCD_OK && kv_is(&kv, big, n), "get it back: %zu bytes, equal",
	    kv.len);
	etcd_kv_clear(&kv);
	rc = etcd_cas(e, K("bin"), big2, n, "x", 1, 0, &cur);
	check(rc == ETCD_FAILED && kv_is(&cur, big, n), "cas with other binary "
	    "bytes fails and returns the 4 KiB");
	etcd_kv_clear(&cur);
	rc = etcd_cas(e, K("bin"), big, n, big2, n, 0, &cur);
	expect(e, rc, ETCD_OK, "cas with the binary value");
	rc = etcd_get(e, K("bin"), &kv);
	check(rc == ETCD_OK && kv_is(&kv, big2, n), "the new binary value is there");
	etcd_kv_clear(&kv);
	free(big);
	free(big2);

	/* base64 lengths: no padding, "=", "==" */
	ok = 1;
	for (i = 0; i < 6; i++) {
		if (etcd_put(e, K(names[i]), "\0\377\001\200\177", i, 0) != ETCD_OK ||
		    etcd_get(e, K(names[i]), &kv) != ETCD_OK ||
		    !kv_is(&kv, "\0\377\001\200\177", i)) {
			check(0, "value of %zu bytes: %s", i, etcd_error(e));
			ok = 0;
		}
		etcd_kv_clear(&kv);
	}
	check(ok, "values of 0, 1, 2, 3, 4, 5 bytes round-trip");
	ok = 1;
	for (i = 1; i <= 4; i++) {
		/* keys of every length mod 3 (the prefix has some length) */
		char k[8] = "xxxx";

		k[i] = '\0';
		if (etcd_put(e, K(k), k, i, 0) != ETCD_OK ||
		    etcd_get(e, K(k), &kv) != ETCD_OK || !kv_is(&kv, k, i))
			ok = 0;
		etcd_kv_clear(&kv);
	}
	check(ok, "keys of 4 consecutive lengths round-trip");
	big = calloc(1, ETCD_MAX_VALUE + 1);
	rc = etcd_put(e, K("huge"), big, ETCD_MAX_VALUE + 1, 0);
	check(rc == ETCD_ERROR && strstr(etcd_error(e), "too large") != NULL,
	    "a value over %d bytes is refused: %s", ETCD_MAX_VALUE, etcd_error(e));
	/* three of the largest values: a list of them is over the answer
	 * limit once base64'd */
	ok = 1;
	for (i = 0; i < 3; i++)
		if (etcd_put(e, K(names[i]), big, ETCD_MAX_VALUE, 0) != ETCD_OK)
			ok = 0;
	check(ok, "three values of %d bytes stored", ETCD_MAX_VALUE);
	rc = etcd_get(e, K("b0"), &kv);
	check(rc == ETCD_OK && kv.len == ETCD_MAX_VALUE, "one of them read back "
	    "(%zu bytes)", kv.len);
	etcd_kv_clear(&kv);
	rc = etcd_list(e, prefix, list_cb, &(struct listed){ 0 });
	check(rc == ETCD_ERROR && strstr(etcd_error(e), "larger than") != NULL,
	    "a list of them is refused: %s", etcd_error(e));
	for (i = 0; i < 3; i++)
		etcd_delete(e, K(names[i]));
	free(big);
}

static int
del_cb(void *arg, const char *key, const struct etcd_kv *kv)
{
	return etcd_delete(arg, key) == ETCD_OK ? 0 : 1;
}

static void
checks_endpoints(const struct etcd_opts *base, const char *const *eps, int n)
{
	const char *list[ETCD_MAX_ENDPOINTS + 1];
	struct etcd_opts o;
	struct etcd *e;
	char err[512];
	uint64_t t0;
	int i, rc;

	/* nothing listens on port 1 of loopback: refused at once */
	list[0] = "http://127.0.0.1:1";
	for (i = 0; i < n && i < ETCD_MAX_ENDPOINTS - 1; i++)
		list[i + 1] = eps[i];
	o = *base;
	o.endpoints = list;
	o.n_endpoints = i + 1;
	e = etcd_new(&o, err, sizeof(err));
	check(e != NULL, "client with a dead endpoint first");
	if (e == NULL)
		return;
	t0 = util_now_ms();
	rc = etcd_put(e, K("via-next"), "1", 1, 0);
	expect(e, rc, ETCD_OK, "a put goes through the next endpoint");
	check(strcmp(etcd_endpoint(e), eps[0]) == 0 && etcd_error(e)[0] == '\0',
	    "answered by %s in %" PRIu64 " ms", etcd_endpoint(e), util_now_ms() - t0);
	etcd_free(e);

	list[0] = "http://127.0.0.1:1";
	list[1] = "http://127.0.0.1:2";
	o.n_endpoints = 2;
	o.cacert = o.cert = o.key = NULL;
	e = etcd_new(&o, err, sizeof(err));
	rc = etcd_get(e, K("x"), NULL);
	expect(e, rc, ETCD_UNREACHABLE, "no endpoint answers");
	check(strstr(etcd_error(e), "127.0.0.1:1:") != NULL &&
	    strstr(etcd_error(e), "127.0.0.1:2:") != NULL,
	    "the error names each endpoint and cause: %s", etcd_error(e));
	etcd_free(e);

	list[0] = "127.0.0.1:2379";
	o.n_endpoints = 1;
	e = etcd_new(&o, err, sizeof(err));
	check(e == NULL && strstr(err, "not an http") != NULL,
	    "an endpoint without a scheme is refused: %s", err);
	etcd_free(e);
	list[0] = "http://127.0.0.1:2379";
	o.cert = "/nonexistent/client.pem";
	o.key = NULL;
	e = etcd_new(&o, err, sizeof(err));
	check(e == NULL && strstr(err, "key") != NULL,
	    "a certificate without a key is refused: %s", err);
	etcd_free(e);
	o.key = "/nonexistent/client.key";
	e = etcd_new(&o, err, sizeof(err));
	check(e == NULL && strstr(err, "/nonexistent/client.pem") != NULL,
	    "an unreadable certificate is refused: %s", err);
	etcd_free(e);
}

static int
run_checks(const struct etcd_opts *o)
{
	struct etcd *e;
	char err[512];

	snprintf(prefix, sizeof(prefix), "hasvr-test/%ld-%ld/", (long)getpid(),
	    (long)time(NULL));
	if ((e = etcd_new(o, err, sizeof(err))) == NULL) {
		fprintf(stderr, "etcd_client_test: %s\n", err);
		return 1;
	}
	checks_lease(e);
	checks_kv(e);
	checks_txn(e);
	checks_binary(e);
	checks_endpoints(o, o->endpoints, o->n_endpoints);
	/* leave the cluster as found */
	if (etcd_list(e, prefix, del_cb, e) != ETCD_OK)
		check(0, "delete this run's keys: %s", etcd_error(e));
	etcd_free(e);
	printf("checks %d failed %d\n", nchecks, nfailed);
	return nfailed ? 1 : 0;
}

/* ---- commands ----------------------------------------------------------- */

struct keys {
	int n;
	char text[2048];
};

static int
keys_cb(void *arg, const char *key, const struct etcd_kv *kv)
{
	struct keys *k = arg;
	size_t n = strlen(k->text);

	snprintf(k->text + n, sizeof(k->text) - n, "%s%s", k->n ? "," : "", key);
	k->n++;
	return 0;
}

static int64_t
num(const char *s)
{
	return s != NULL ? strtoll(s, NULL, 10) : 0;
}

/* One command line: one answer line. */
static void
command(struct etcd *e, char *line)
{
	char *av[6], *p, extra[2200];
	struct etcd_kv kv = { 0 };
	struct keys ks;
	int64_t lease;
	uint64_t t0;
	int ac, rc, ttl;

	ac = 0;
	for (p = strtok(line, " \t\n"); p != NULL && ac < 6; p = strtok(NULL, " \t\n"))
		av[ac++] = p;
	if (ac == 0)
		return;
	for (rc = ac; rc < 6; rc++)
		av[rc] = NULL;
	extra[0] = '\0';
	t0 = util_now_ms();
	if (strcmp(av[0], "put") == 0 && ac >= 3)
		rc = etcd_put(e, av[1], av[2], strlen(av[2]), num(av[3]));
	else if (strcmp(av[0], "get") == 0 && ac == 2) {
		rc = etcd_get(e, av[1], &kv);
		if (rc == ETCD_OK)
			snprintf(extra, sizeof(extra), " value=%s lease=%" PRId64
			    " create_rev=%" PRId64 " mod_rev=%" PRId64, kv.value,
			    kv.lease, kv.create_rev, kv.mod_rev);
	} else if (strcmp(av[0], "delete") == 0 && ac == 2)
		rc = etcd_delete(e, av[1]);
	else if (strcmp(av[0], "create") == 0 && ac >= 3)
		rc = etcd_create(e, av[1], av[2], strlen(av[2]), num(av[3]), &kv);
	else if (strcmp(av[0], "cas") == 0 && ac >= 4)
		rc = etcd_cas(e, av[1], av[2], strlen(av[2]), av[3], strlen(av[3]),
		    num(av[4]), &kv);
	else if (strcmp(av[0], "delete_if") == 0 && ac == 3)
		rc = etcd_delete_if(e, av[1], av[2], strlen(av[2]));
	else if (strcmp(av[0], "list") == 0 && ac == 2) {
		memset(&ks, 0, sizeof(ks));
		rc = etcd_list(e, av[1], keys_cb, &ks);
		snprintf(extra, sizeof(extra), " n=%d keys=%s", ks.n, ks.text);
	} else if (strcmp(av[0], "grant") == 0 && ac == 2) {
		rc = etcd_lease_grant(e, (int)num(av[1]), &lease, &ttl);
		snprintf(extra, sizeof(extra), " lease=%" PRId64 " ttl=%d", lease, ttl);
	} else if (strcmp(av[0], "keepalive") == 0 && ac == 2) {
		rc = etcd_lease_keepalive(e, num(av[1]), &ttl);
		snprintf(extra, sizeof(extra), " ttl=%d", ttl);
	} else if (strcmp(av[0], "revoke") == 0 && ac == 2)
		rc = etcd_lease_revoke(e, num(av[1]));
	else {
		printf("USAGE bad command '%s'\n", av[0]);
		fflush(stdout);
		return;
	}
	if (rc == ETCD_FAILED && kv.value != NULL)
		snprintf(extra, sizeof(extra), " value=%s lease=%" PRId64, kv.value,
		    kv.lease);
	printf("%s ms=%" PRIu64 " ep=%s%s", etcd_rc_name(rc), util_now_ms() - t0,
	    etcd_endpoint(e), extra);
	if (rc != ETCD_OK)
		printf(" err=%s", etcd_error(e));
	printf("\n");
	fflush(stdout);
	etcd_kv_clear(&kv);
}

static int
run_commands(const struct etcd_opts *o)
{
	struct etcd *e;
	char err[512], line[1024];

	if ((e = etcd_new(o, err, sizeof(err))) == NULL) {
		printf("USAGE %s\n", err);
		return 1;
	}
	while (fgets(line, sizeof(line), stdin) != NULL)
		command(e, line);
	etcd_free(e);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *eps[ETCD_MAX_ENDPOINTS];
	struct etcd_opts o;
	char *list, *p;
	int ch, n, rc;

	memset(&o, 0, sizeof(o));
	while ((ch = getopt(argc, argv, "t:c:C:K:")) != -1) {
		switch (ch) {
		case 't':
			o.timeout_ms = atol(optarg);
			break;
		case 'c':
			o.cacert = optarg;
			break;
		case 'C':
			o.cert = optarg;
			break;
		case 'K':
			o.key = optarg;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2)
		usage();
	list = argv[optind];
	n = 0;
	for (p = strtok(list, ","); p != NULL; p = strtok(NULL, ",")) {
		if (n == ETCD_MAX_ENDPOINTS)
			usage();
		eps[n++] = p;
	}
	o.endpoints = eps;
	o.n_endpoints = n;
	if (etcd_global_init() == -1) {
		fprintf(stderr, "etcd_client_test: libcurl initialisation failed\n");
		return 1;
	}
	if (strcmp(argv[optind + 1], "checks") == 0)
		rc = run_checks(&o);
	else if (strcmp(argv[optind + 1], "cmd") == 0)
		rc = run_commands(&o);
	else
		usage();
	etcd_global_cleanup();
	return rc;
}
