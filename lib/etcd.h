/* etcd.h — a small synchronous client for etcd v3 (3.4 and later), for the
 * arbiter: a leader key under a lease, a synchronous-standby record and one
 * key per member, as Patroni keeps them.
 *
 * It speaks etcd's JSON gateway (POST /v3/kv/..., /v3/lease/...) over
 * libcurl; keys and values travel base64-encoded and 64-bit numbers as
 * JSON strings, which this module hides.
 *
 * One struct etcd per thread: it is not thread-safe. Call
 * etcd_global_init() once from main before starting threads (it
 * initialises libcurl, which is not thread-safe to initialise).
 *
 * Endpoints: each call starts with the endpoint that answered last and
 * moves to the next one when an endpoint cannot be reached, does not
 * answer within timeout_ms (connect and transfer together), answers with
 * an HTTP 5xx (no leader, request timed out) or with something that is not
 * the gateway's JSON. A call therefore takes at most n_endpoints ×
 * timeout_ms. Requests carry "hasleader" metadata, so a member cut off
 * from its leader refuses at once (once it has noticed) instead of
 * holding the request until the timeout. Each endpoint keeps its own
 * connection open between calls.
 *
 * Every call returns an enum etcd_rc. After anything but ETCD_OK,
 * etcd_error() says what happened, naming the endpoint(s) and the cause.
 *
 * Writes and uncertainty: a write that timed out or met a 5xx may still
 * have been applied by the cluster. So:
 *   - ETCD_UNREACHABLE after a write means "unknown": re-read the key
 *     before deciding anything.
 *   - Because a call moves on to the next endpoint after such a failure,
 *     the same write may be applied by the first endpoint and then tried
 *     again through the second. A repeated etcd_create() then fails
 *     (ETCD_FAILED) and *cur shows the caller's own value and lease; a
 *     repeated etcd_cas() fails with *cur holding the new value. Compare
 *     cur->lease (lease IDs are unique) or cur->value with what was
 *     written before concluding that someone else holds the key.
 *
 * Keys are NUL-terminated strings; values are byte strings of any content
 * (NULs included). Answers larger than ETCD_MAX_ANSWER are refused. */
#ifndef HASVR_ETCD_H
#define HASVR_ETCD_H

#include <stddef.h>
#include <stdint.h>

#define ETCD_MAX_ENDPOINTS 16
#define ETCD_MAX_ANSWER (1024 * 1024)
/* larger values are refused: one must fit in an answer once base64'd */
#define ETCD_MAX_VALUE (512 * 1024)
#define ETCD_DEFAULT_TIMEOUT_MS 1000

struct etcd;

struct etcd_opts {
	/* client URLs, "http://127.0.0.1:2379" or "https://host:2379", tried
	 * in turn; 1 to ETCD_MAX_ENDPOINTS of them */
	const char *const *endpoints;
	int n_endpoints;
	/* TLS, all optional: the CA that signed the servers' certificates
	 * (NULL: the system's CAs), a client certificate and its key (both
	 * or neither); PEM files. The servers' names are verified. */
	const char *cacert;
	const char *cert;
	const char *key;
	/* the local address connections leave from (NULL: the kernel's
	 * choice) */
	const char *source;
	/* per request and endpoint, connect included (0: the default) */
	long timeout_ms;
};

enum etcd_rc {
	ETCD_OK = 0,
	ETCD_FAILED,       /* a compare of a txn was false */
	ETCD_NOTFOUND,     /* no such key */
	ETCD_NOLEASE,      /* the lease expired, was revoked or never was */
	ETCD_UNREACHABLE,  /* no endpoint gave a usable answer (see above
	                    * for writes) */
	ETCD_ERROR         /* etcd refused the request (4xx), its answer
	                    * lacked what it must hold, or the answer was
	                    * too large */
};

/* A key's value and metadata. value is malloc'ed: len bytes and a NUL
 * after them (so text values can be used as strings), "" for an empty
 * value. lease is 0 when the key has none. */
struct etcd_kv {
	char *value;
	size_t len;
	int64_t create_rev;
	int64_t mod_rev;
	int64_t version;
	int64_t lease;
};

/* Once per process, before any thread: 0, or -1 if libcurl fails. */
int etcd_global_init(void);
void etcd_global_cleanup(void);

/* NULL with err filled when the options are invalid ("etcd endpoint 2
 * 'localhost:2379' is not an http:// or https:// URL") or libcurl fails.
 * The options' strings are copied. */
struct etcd *etcd_new(const struct etcd_opts *opts, char *err, size_t errlen);
void etcd_free(struct etcd *e);

/* The last call's error text ("" after ETCD_OK); valid until the next call. */
const char *etcd_error(const struct etcd *e);
/* The endpoint that answered last (the one the next call starts with). */
const char *etcd_endpoint(const struct etcd *e);
/* "OK", "FAILED", "NOTFOUND", "NOLEASE", "UNREACHABLE", "ERROR" */
const char *etcd_rc_name(int rc);

/* A lease of ttl_s seconds; etcd may grant more (its minimum TTL is 1.5
 * election timeouts, rounded up). *ttl_granted may be NULL. */
int etcd_lease_grant(struct etcd *e, int ttl_s, int64_t *lease, int *ttl_granted);
/* Renew: *ttl_left (may be NULL) is the TTL the lease has again.
 * ETCD_NOLEASE when it expired or is unknown. */
int etcd_lease_keepalive(struct etcd *e, int64_t lease, int *ttl_left);
/* Revoke, deleting the keys attached to it. ETCD_NOLEASE when it was
 * already gone. */
int etcd_lease_revoke(struct etcd *e, int64_t lease);

/* The key's value (out may be NULL to test existence). ETCD_NOTFOUND. */
int etcd_get(struct etcd *e, const char *key, struct etcd_kv *out);
/* Every key starting with prefix ("" for all), in key order, from one
 * consistent read: cb(arg, key, kv) for each until it returns non-zero
 * (ETCD_OK either way). kv and key are valid during the call only; cb may
 * use e. The whole answer must fit in ETCD_MAX_ANSWER (else ETCD_ERROR):
 * meant for a handful of member keys, not for bulk data. */
int etcd_list(struct etcd *e, const char *prefix,
    int (*cb)(void *arg, const char *key, const struct etcd_kv *kv), void *arg);

/* Writes. lease 0 puts the key without a lease (detaching it from one it
 * had). ETCD_NOLEASE when lease is not a live lease; ETCD_ERROR for a
 * value over ETCD_MAX_VALUE. */
int etcd_put(struct etcd *e, const char *key, const char *val, size_t len,
    int64_t lease);
/* Create key only if it does not exist. ETCD_FAILED when it does: *cur
 * (unless NULL) is then filled with the holder's value. */
int etcd_create(struct etcd *e, const char *key, const char *val, size_t len,
    int64_t lease, struct etcd_kv *cur);
/* Put only if the key's value equals expect. ETCD_FAILED when it differs,
 * *cur (unless NULL) filled with the current value; ETCD_NOTFOUND when the
 * key is gone. */
int etcd_cas(struct etcd *e, const char *key, const char *expect, size_t elen,
    const char *val, size_t len, int64_t lease, struct etcd_kv *cur);
/* Delete only if the key's value equals expect: ETCD_OK, ETCD_FAILED
 * (another value), ETCD_NOTFOUND (no key). */
int etcd_delete_if(struct etcd *e, const char *key, const char *expect,
    size_t elen);
/* Delete unconditionally: ETCD_OK, or ETCD_NOTFOUND when there was none. */
int etcd_delete(struct etcd *e, const char *key);

/* Frees kv->value and zeroes kv; safe on a zeroed or cleared kv. */
void etcd_kv_clear(struct etcd_kv *kv);

#endif
