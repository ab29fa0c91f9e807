/* etcd.c — synchronous etcd v3 client over the JSON gateway (see etcd.h for
 * the contract).
 *
 * What the gateway of etcd 3.4 does, and this file relies on:
 *   - every int64 of the protobuf messages (revisions, lease IDs, TTLs,
 *     counts) is a JSON string; bytes (keys, values) are padded base64;
 *   - fields holding their zero value are left out: no "succeeded" means
 *     false, no "kvs" means no key, no "value" means an empty value, no
 *     "lease" means none;
 *   - a refused request answers HTTP 4xx/5xx with
 *     {"error": TEXT, "message": TEXT, "code": GRPC_CODE};
 *   - /v3/lease/keepalive is a stream: one request gives one
 *     {"result": {...}} with HTTP 200, or {"error": {"grpc_code": N,
 *     "http_code": N, "message": TEXT, ...}} (with that HTTP status when
 *     nothing was sent before); an unknown or expired lease is not an
 *     error there but a result without "TTL";
 *   - /v3/lease/revoke and the older /v3/kv/lease/revoke both work in 3.4;
 *     the first is the one kept in 3.5.
 *   - gRPC metadata travels as "Grpc-Metadata-*" headers: "hasleader: true"
 *     makes a member without a leader refuse at once ("etcdserver: no
 *     leader", code 14, HTTP 503); without it a write waits for etcd's
 *     request timeout (7 s with a 1 s election timeout) and fails with
 *     "context deadline exceeded" (code 2, HTTP 500).
 *   - a plain-HTTP request to a TLS client port gets no answer ("Empty
 *     reply from server"), a wrong path a non-JSON 404 "Not Found". */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "etcd.h"

#define ETCD_MAX_URL 512

struct etcd_ep {
	char *url;             /* base URL, no trailing slash */
	CURL *h;               /* its own handle: its connection stays open */
};

struct etcd {
	struct etcd_ep ep[ETCD_MAX_ENDPOINTS];
	int n;
	int cur;               /* the endpoint that answered last */
	long timeout_ms;
	struct curl_slist *hdrs;
	char curlerr[CURL_ERROR_SIZE];
	char *body;            /* the answer being received */
	size_t len, cap;
	int toobig;
	char err[4096];
};

/* How one endpoint's attempt ended. */
enum etcd_try {
	TRY_ANSWER,            /* it answered; the call's result is known */
	TRY_NEXT,              /* no usable answer: try the next endpoint */
	TRY_FATAL              /* no point in trying another endpoint */
};

static const char *const rc_names[] = {
	"OK", "FAILED", "NOTFOUND", "NOLEASE", "UNREACHABLE", "ERROR"
};

const char *
etcd_rc_name(int rc)
{
	if (rc < 0 || rc >= (int)(sizeof(rc_names) / sizeof(rc_names[0])))
		return "?";
	return rc_names[rc];
}

int
etcd_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void
etcd_global_cleanup(void)
{
	curl_global_cleanup();
}

static int
seterr(struct etcd *e, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fill the error text; returns rc so that callers can return seterr(…). */
static int
seterr(struct etcd *e, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->err, sizeof(e->err), fmt, ap);
	va_end(ap);
	return rc;
}

static void
adderr(struct etcd *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
adderr(struct etcd *e, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	n = strlen(e->err);
	if (n + 1 >= sizeof(e->err))
		return;
	va_start(ap, fmt);
	vsnprintf(e->err + n, sizeof(e->err) - n, fmt, ap);
	va_end(ap);
}

const char *
etcd_error(const struct etcd *e)
{
	return e->err;
}

const char *
etcd_endpoint(const struct etcd *e)
{
	return e->ep[e->cur].url;
}

/* ---- base64 and JSON numbers ------------------------------------------- */

/* malloc'ed padded base64 of p[0..n), or NULL (out of memory). */
static char *
b64_encode(const void *p, size_t n)
{
	char *out;

	if ((out = malloc(4 * ((n + 2) / 3) + 1)) == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

/* Decode padded base64 s into a malloc'ed buffer with a NUL after the
 * *outlen bytes. EVP_DecodeBlock counts the bytes the padding stands for,
 * so those are taken off. 0, or -1 if s is not base64 (or no memory). */
static int
b64_decode(const char *s, char **out, size_t *outlen)
{
	size_t n, pad;
	unsigned char *buf;
	int r;

	n = strlen(s);
	if (n % 4 != 0 || n > ETCD_MAX_ANSWER)
		return -1;
	if ((buf = malloc(n / 4 * 3 + 1)) == NULL)
		return -1;
	r = 0;
	if (n > 0) {
		r = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)n);
		pad = (s[n - 1] == '=') + (s[n - 2] == '=');
		if (r < 0 || (size_t)r < pad) {
			free(buf);
			return -1;
		}
		r -= (int)pad;
	}
	buf[r] = '\0';
	*out = (char *)buf;
	*outlen = (size_t)r;
	return 0;
}

/* o[k] as an int64: a decimal string (the gateway's form) or a JSON
 * integer; 0 when absent. 0, or -1 when present but not a number. */
static int
j_i64(json_t *o, const char *k, int64_t *v)
{
	json_t *j;
	const char *s;
	char *end;
	long long x;

	*v = 0;
	j = json_is_object(o) ? json_object_get(o, k) : NULL;
	if (j == NULL)
		return 0;
	if (json_is_integer(j)) {
		*v = (int64_t)json_integer_value(j);
		return 0;
	}
	if (!json_is_string(j))
		return -1;
	s = json_string_value(j);
	errno = 0;
	x = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return -1;
	*v = (int64_t)x;
	return 0;
}

static json_t *
j_i64str(int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return json_string(buf);
}

/* One key-value of an answer into kv (and its key into *keyp, malloc'ed,
 * unless keyp is NULL). 0, or -1 with the error text set. */
static int
kv_parse(struct etcd *e, json_t *o, struct etcd_kv *kv, char **keyp)
{
	const char *v, *k;
	size_t klen;

	memset(kv, 0, sizeof(*kv));
	if (!json_is_object(o))
		goto bad;
	if (j_i64(o, "create_revision", &kv->create_rev) == -1 ||
	    j_i64(o, "mod_revision", &kv->mod_rev) == -1 ||
	    j_i64(o, "version", &kv->version) == -1 ||
	    j_i64(o, "lease", &kv->lease) == -1)
		goto bad;
	v = json_string_value(json_object_get(o, "value"));
	if (b64_decode(v != NULL ? v : "", &kv->value, &kv->len) == -1)
		goto bad;
	if (keyp != NULL) {
		k = json_string_value(json_object_get(o, "key"));
		if (k == NULL || b64_decode(k, keyp, &klen) == -1) {
			etcd_kv_clear(kv);
			goto bad;
		}
	}
	return 0;
bad:
	seterr(e, ETCD_ERROR, "etcd %s: a key-value in the answer is malformed",
	    e->ep[e->cur].url);
	return -1;
}

void
etcd_kv_clear(struct etcd_kv *kv)
{
	if (kv == NULL)
		return;
	free(kv->value);
	memset(kv, 0, sizeof(*kv));
}

/* ---- endpoints ---------------------------------------------------------- */

static size_t
write_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct etcd *e = arg;
	size_t n = size * nmemb;
	size_t ncap;
	char *nb;

	if (e->len + n > ETCD_MAX_ANSWER) {
		e->toobig = 1;
		return 0;
	}
	if (e->len + n + 1 > e->cap) {
		ncap = e->cap ? e->cap : 4096;
		while (ncap < e->len + n + 1)
			ncap *= 2;
		if ((nb = realloc(e->body, ncap)) == NULL)
			return 0;
		e->body = nb;
		e->cap = ncap;
	}
	memcpy(e->body + e->len, p, n);
	e->len += n;
	e->body[e->len] = '\0';
	return n;
}

static int
readable(const char *what, const char *path, char *err, size_t errlen)
{
	if (access(path, R_OK) == 0)
		return 0;
	snprintf(err, errlen, "etcd: cannot read the TLS %s %s: %s", what, path,
	    strerror(errno));
	return -1;
}

static int
ep_setup(struct etcd *e, struct etcd_ep *ep, const struct etcd_opts *o)
{
	CURL *h = ep->h;
	int bad = 0;

	bad |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	/* no proxy from the environment between us and the cluster */
	bad |= curl_easy_setopt(h, CURLOPT_PROXY, "");
	bad |= curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	bad |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, e->timeout_ms);
	bad |= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, e->timeout_ms);
	bad |= curl_easy_setopt(h, CURLOPT_POST, 1L);
	bad |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, e->hdrs);
	bad |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	bad |= curl_easy_setopt(h, CURLOPT_WRITEDATA, e);
	bad |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, e->curlerr);
	if (o->source != NULL) {
		char src[80];

		snprintf(src, sizeof(src), "host!%s", o->source);
		bad |= curl_easy_setopt(h, CURLOPT_INTERFACE, src);
	}
	if (o->cacert != NULL)
		bad |= curl_easy_setopt(h, CURLOPT_CAINFO, o->cacert);
	if (o->cert != NULL) {
		bad |= curl_easy_setopt(h, CURLOPT_SSLCERT, o->cert);
		bad |= curl_easy_setopt(h, CURLOPT_SSLKEY, o->key);
	}
	return bad ? -1 : 0;
}

struct etcd *
etcd_new(const struct etcd_opts *o, char *err, size_t errlen)
{
	struct etcd *e;
	const char *u;
	size_t n;
	int i;

	if (o->n_endpoints < 1 || o->n_endpoints > ETCD_MAX_ENDPOINTS) {
		snprintf(err, errlen, "etcd: %d endpoints (1 to %d allowed)",
		    o->n_endpoints, ETCD_MAX_ENDPOINTS);
		return NULL;
	}
	for (i = 0; i < o->n_endpoints; i++) {
		u = o->endpoints[i];
		if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) {
			snprintf(err, errlen, "etcd endpoint %d '%s' is not an http:// "
			    "or https:// URL", i + 1, u);
			return NULL;
		}
		if (strlen(u) > ETCD_MAX_URL) {
			snprintf(err, errlen, "etcd endpoint %d is longer than %d "
			    "characters", i + 1, ETCD_MAX_URL);
			return NULL;
		}
	}
	if ((o->cert == NULL) != (o->key == NULL)) {
		snprintf(err, errlen, "etcd: a TLS client certificate needs its key "
		    "and a key its certificate");
		return NULL;
	}
	if ((o->cacert != NULL && readable("CA file", o->cacert, err, errlen) == -1) ||
	    (o->cert != NULL && readable("certificate", o->cert, err, errlen) == -1) ||
	    (o->key != NULL && readable("key", o->key, err, errlen) == -1))
		return NULL;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		goto nomem;
	e->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : ETCD_DEFAULT_TIMEOUT_MS;
	/* JSON body; no "Expect: 100-continue" round trip for larger bodies;
	 * a member that lost its leader says so at once */
	e->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	if (e->hdrs != NULL)
		e->hdrs = curl_slist_append(e->hdrs, "Expect:");
	if (e->hdrs != NULL)
		e->hdrs = curl_slist_append(e->hdrs, "Grpc-Metadata-hasleader: true");
	if (e->hdrs == NULL)
		goto nomem;
	for (i = 0; i < o->n_endpoints; i++) {
		if ((e->ep[i].url = strdup(o->endpoints[i])) == NULL)
			goto nomem;
		e->n++;
		n = strlen(e->ep[i].url);
		while (n > 0 && e->ep[i].url[n - 1] == '/')
			e->ep[i].url[--n] = '\0';
		if ((e->ep[i].h = curl_easy_init()) == NULL) {
			snprintf(err, errlen, "etcd: cannot create a libcurl handle");
			etcd_free(e);
			return NULL;
		}
		if (ep_setup(e, &e->ep[i], o) == -1) {
			snprintf(err, errlen, "etcd: libcurl refused an option "
			    "(is it built with HTTP and TLS?)");
			etcd_free(e);
			return NULL;
		}
	}
	return e;
nomem:
	snprintf(err, errlen, "etcd: out of memory");
	etcd_free(e);
	return NULL;
}

void
etcd_free(struct etcd *e)
{
	int i;

	if (e == NULL)
		return;
	for (i = 0; i < e->n; i++) {
		if (e->ep[i].h != NULL)
			curl_easy_cleanup(e->ep[i].h);
		free(e->ep[i].url);
	}
	curl_slist_free_all(e->hdrs);
	free(e->body);
	free(e);
}

/* The text and gRPC code of the gateway's refusal: {"error"|"message":
 * TEXT, "code": N}, or on a stream {"error": {"message": TEXT,
 * "grpc_code": N}}. */
static const char *
refusal(json_t *j, int64_t *code)
{
	json_t *er;
	const char *msg;

	er = json_object_get(j, "error");
	if (json_is_object(er)) {
		msg = json_string_value(json_object_get(er, "message"));
		if (j_i64(er, "grpc_code", code) == -1)
			*code = -1;
	} else {
		msg = json_string_value(er);
		if (msg == NULL || *msg == '\0')
			msg = json_string_value(json_object_get(j, "message"));
		if (j_i64(j, "code", code) == -1)
			*code = -1;
	}
	return msg != NULL ? msg : "(no message)";
}

/* One attempt at endpoint k. On TRY_ANSWER, *rc is the result and *ans
 * the answer (ETCD_OK) or NULL; on TRY_NEXT, cause says why. */
static enum etcd_try
try_ep(struct etcd *e, int k, const char *path, const char *req,
    json_t **ans, int *rc, char *cause, size_t causelen)
{
	struct etcd_ep *ep = &e->ep[k];
	char url[1024];
	json_t *j, *er;
	json_error_t jerr;
	const char *msg;
	int64_t code;
	CURLcode cr;
	long http;

	*ans = NULL;
	e->len = 0;
	e->toobig = 0;
	e->curlerr[0] = '\0';
	snprintf(url, sizeof(url), "%s%s", ep->url, path);
	curl_easy_setopt(ep->h, CURLOPT_URL, url);
	curl_easy_setopt(ep->h, CURLOPT_POSTFIELDS, req);
	curl_easy_setopt(ep->h, CURLOPT_POSTFIELDSIZE, (long)strlen(req));
	cr = curl_easy_perform(ep->h);
	if (cr != CURLE_OK) {
		if (e->toobig) {
			*rc = seterr(e, ETCD_ERROR, "etcd %s%s: the answer is larger "
			    "than %d bytes; refused", ep->url, path, ETCD_MAX_ANSWER);
			return TRY_FATAL;
		}
		if (cr == CURLE_OPERATION_TIMEDOUT)
			snprintf(cause, causelen, "no answer within %ld ms (%s)",
			    e->timeout_ms, e->curlerr);
		else
			snprintf(cause, causelen, "%s", e->curlerr[0] != '\0' ?
			    e->curlerr : curl_easy_strerror(cr));
		return TRY_NEXT;
	}
	http = 0;
	curl_easy_getinfo(ep->h, CURLINFO_RESPONSE_CODE, &http);
	/* a stream's answer may be followed by more: take the first value */
	j = e->len > 0 ? json_loadb(e->body, e->len, JSON_DISABLE_EOF_CHECK,
	    &jerr) : NULL;
	if (!json_is_object(j)) {
		snprintf(cause, causelen, "HTTP %ld with no JSON answer%s%.80s%s",
		    http, e->len > 0 ? " ('" : "", e->len > 0 ? e->body : "",
		    e->len > 0 ? "')" : "");
		if (http == 404)
			strncat(cause, " (not etcd's v3 JSON gateway: etcd 3.4 or "
			    "later?)", causelen - strlen(cause) - 1);
		json_decref(j);
		return TRY_NEXT;
	}
	/* a stream that fails after its headers says 200 and puts the
	 * status in the error */
	er = json_object_get(j, "error");
	if (http == 200 && json_is_object(er) &&
	    j_i64(er, "http_code", &code) == 0 && code >= 500)
		http = (long)code;
	if (http >= 500) {
		/* no leader, timed out, shutting down: another member may do */
		msg = refusal(j, &code);
		snprintf(cause, causelen, "%s (code %" PRId64 ", HTTP %ld)", msg,
		    code, http);
		json_decref(j);
		return TRY_NEXT;
	}
	if (http != 200 || json_is_object(er)) {
		msg = refusal(j, &code);
		*rc = strstr(msg, "lease not found") != NULL ? ETCD_NOLEASE :
		    ETCD_ERROR;
		seterr(e, *rc, "etcd %s%s: %s (code %" PRId64 ", HTTP %ld)",
		    ep->url, path, msg, code, http);
		json_decref(j);
		return TRY_ANSWER;
	}
	*ans = j;
	*rc = ETCD_OK;
	return TRY_ANSWER;
}

/* POST req (consumed) to path at the endpoint that answered last, then the
 * others in turn. ETCD_OK with *ans (to json_decref) or another result with
 * the error text set. */
static int
call(struct etcd *e, const char *path, json_t *req, json_t **ans)
{
	char *body, *p, cause[512];
	int i, k, rc;

	*ans = NULL;
	e->err[0] = '\0';
	body = req != NULL ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (body == NULL)
		return seterr(e, ETCD_ERROR, "etcd %s: out of memory", path);
	for (i = 0; i < e->n; i++) {
		k = (e->cur + i) % e->n;
		cause[0] = '\0';
		switch (try_ep(e, k, path, body, ans, &rc, cause, sizeof(cause))) {
		case TRY_ANSWER:
			e->cur = k;
			if (rc == ETCD_OK)
				e->err[0] = '\0';
			free(body);
			return rc;
		case TRY_FATAL:
			free(body);
			return rc;
		case TRY_NEXT:
			break;
		}
		/* one line, whatever the endpoint sent */
		for (p = cause; *p != '\0'; p++)
			if ((unsigned char)*p < ' ')
				*p = ' ';
		if (i == 0)
			seterr(e, 0, "no etcd endpoint answered %s: ", path);
		else
			adderr(e, "; ");
		adderr(e, "%s: %s", e->ep[k].url, cause);
	}
	free(body);
	return ETCD_UNREACHABLE;
}

/* ---- leases ------------------------------------------------------------- */

int
etcd_lease_grant(struct etcd *e, int ttl_s, int64_t *lease, int *ttl_granted)
{
	json_t *ans;
	const char *er;
	int64_t id, ttl;
	int rc;

	*lease = 0;
	if ((rc = call(e, "/v3/lease/grant", json_pack("{s:i}", "TTL", ttl_s),
	    &ans)) != ETCD_OK)
		return rc;
	er = json_string_value(json_object_get(ans, "error"));
	if (er != NULL && *er != '\0')
		rc = seterr(e, ETCD_ERROR, "etcd %s: lease grant: %s",
		    etcd_endpoint(e), er);
	else if (j_i64(ans, "ID", &id) == -1 || j_i64(ans, "TTL", &ttl) == -1 ||
	    id == 0 || ttl <= 0)
		rc = seterr(e, ETCD_ERROR, "etcd %s: lease grant: no lease ID or "
		    "TTL in the answer", etcd_endpoint(e));
	else {
		*lease = id;
		if (ttl_granted != NULL)
			*ttl_granted = (int)ttl;
	}
	json_decref(ans);
	return rc;
}

int
etcd_lease_keepalive(struct etcd *e, int64_t lease, int *ttl_left)
{
	json_t *ans, *res;
	int64_t ttl;
	int rc;

	if (ttl_left != NULL)
		*ttl_left = 0;
	if ((rc = call(e, "/v3/lease/keepalive",
	    json_pack("{s:o}", "ID", j_i64str(lease)), &ans)) != ETCD_OK)
		return rc;
	res = json_object_get(ans, "result");
	if (!json_is_object(res) || j_i64(res, "TTL", &ttl) == -1)
		rc = seterr(e, ETCD_ERROR, "etcd %s: lease keepalive: no result in "
		    "the answer", etcd_endpoint(e));
	else if (ttl <= 0)
		/* what the stream says of an expired or unknown lease */
		rc = seterr(e, ETCD_NOLEASE, "etcd %s: lease %" PRId64 " (%" PRIx64
		    ") expired or unknown", etcd_endpoint(e), lease, (uint64_t)lease);
	else if (ttl_left != NULL)
		*ttl_left = (int)ttl;
	json_decref(ans);
	return rc;
}

int
etcd_lease_revoke(struct etcd *e, int64_t lease)
{
	json_t *ans;
	int rc;

	rc = call(e, "/v3/lease/revoke", json_pack("{s:o}", "ID",
	    j_i64str(lease)), &ans);
	json_decref(ans);
	return rc;
}

/* ---- keys --------------------------------------------------------------- */

/* {"key": base64(key)} plus more fields by the caller; NULL: no memory. */
static json_t *
keyreq(const char *key)
{
	char *k;
	json_t *o;

	if ((k = b64_encode(key, strlen(key))) == NULL)
		return NULL;
	o = json_pack("{s:s}", "key", k);
	free(k);
	return o;
}

/* Add field name = base64(p[0..n)) to o; -1 when out of memory. */
static int
set_b64(json_t *o, const char *name, const char *p, size_t n)
{
	char *s;
	int r;

	if (o == NULL || (s = b64_encode(p, n)) == NULL)
		return -1;
	r = json_object_set_new(o, name, json_string(s));
	free(s);
	return r;
}

int
etcd_get(struct etcd *e, const char *key, struct etcd_kv *out)
{
	json_t *ans, *kvs;
	struct etcd_kv kv;
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if ((rc = call(e, "/v3/kv/range", keyreq(key), &ans)) != ETCD_OK)
		return rc;
	kvs = json_object_get(ans, "kvs");
	if (json_array_size(kvs) == 0)
		rc = seterr(e, ETCD_NOTFOUND, "etcd: no key %s", key);
	else if (kv_parse(e, json_array_get(kvs, 0), &kv, NULL) == -1)
		rc = ETCD_ERROR;
	else if (out != NULL)
		*out = kv;
	else
		etcd_kv_clear(&kv);
	json_decref(ans);
	return rc;
}

int
etcd_list(struct etcd *e, const char *prefix,
    int (*cb)(void *arg, const char *key, const struct etcd_kv *kv), void *arg)
{
	json_t *req, *ans, *kvs;
	struct etcd_kv kv;
	char *end, *key;
	size_t n, i;
	int rc, stop;

	/* keys in [prefix, end): end is prefix with its last byte below 0xff
	 * raised by one and what follows cut off; "\0" stands for no bound
	 * (no such byte) and, as the start, for the first key */
	n = strlen(prefix);
	if ((end = strdup(prefix)) == NULL)
		return seterr(e, ETCD_ERROR, "etcd: out of memory");
	while (n > 0 && (unsigned char)end[n - 1] == 0xff)
		n--;
	if (n > 0)
		end[n - 1] = (char)((unsigned char)end[n - 1] + 1);
	req = json_object();
	if (set_b64(req, "key", prefix, *prefix != '\0' ? strlen(prefix) : 1) == -1 ||
	    set_b64(req, "range_end", n > 0 ? end : "", n > 0 ? n : 1) == -1) {
		free(end);
		json_decref(req);
		return seterr(e, ETCD_ERROR, "etcd: out of memory");
	}
	free(end);
	if ((rc = call(e, "/v3/kv/range", req, &ans)) != ETCD_OK)
		return rc;
	kvs = json_object_get(ans, "kvs");
	for (i = 0; i < json_array_size(kvs); i++) {
		if (kv_parse(e, json_array_get(kvs, i), &kv, &key) == -1) {
			rc = ETCD_ERROR;
			break;
		}
		stop = cb(arg, key, &kv);
		free(key);
		etcd_kv_clear(&kv);
		if (stop)
			break;
	}
	json_decref(ans);
	return rc;
}

int
etcd_put(struct etcd *e, const char *key, const char *val, size_t len,
    int64_t lease)
{
	json_t *req, *ans;
	int rc;

	if (len > ETCD_MAX_VALUE)
		return seterr(e, ETCD_ERROR, "etcd: value for %s too large (%zu "
		    "bytes, at most %d)", key, len, ETCD_MAX_VALUE);
	req = keyreq(key);
	if (set_b64(req, "value", val, len) == -1 ||
	    (lease != 0 && json_object_set_new(req, "lease", j_i64str(lease)) == -1)) {
		json_decref(req);
		return seterr(e, ETCD_ERROR, "etcd: out of memory");
	}
	rc = call(e, "/v3/kv/put", req, &ans);
	json_decref(ans);
	return rc;
}

/* A transaction on one key: if cmp (consumed) holds, do op (consumed),
 * else read the key. ETCD_OK when op was done; ETCD_FAILED with *cur
 * filled (unless NULL) when cmp did not hold; ETCD_NOTFOUND when it did
 * not and there is no key. */
static int
txn1(struct etcd *e, const char *what, const char *key, json_t *cmp,
    json_t *op, struct etcd_kv *cur)
{
	json_t *req, *ans, *rr, *kvs;
	struct etcd_kv kv;
	int rc;

	if (cur != NULL)
		memset(cur, 0, sizeof(*cur));
	rr = keyreq(key);
	req = json_pack("{s:[o], s:[o], s:[{s:o}]}", "compare", cmp,
	    "success", op, "failure", "request_range", rr);
	if (req == NULL)
		return seterr(e, ETCD_ERROR, "etcd: out of memory");
	if ((rc = call(e, "/v3/kv/txn", req, &ans)) != ETCD_OK)
		return rc;
	if (json_is_true(json_object_get(ans, "succeeded"))) {
		json_decref(ans);
		return ETCD_OK;
	}
	rr = json_object_get(json_array_get(json_object_get(ans, "responses"), 0),
	    "response_range");
	kvs = json_object_get(rr, "kvs");
	if (!json_is_object(rr))
		rc = seterr(e, ETCD_ERROR, "etcd %s: %s %s: no read of the key in "
		    "the answer", etcd_endpoint(e), what, key);
	else if (json_array_size(kvs) == 0)
		rc = seterr(e, ETCD_NOTFOUND, "etcd: %s %s: no such key", what, key);
	else if (kv_parse(e, json_array_get(kvs, 0), &kv, NULL) == -1)
		rc = ETCD_ERROR;
	else {
		rc = seterr(e, ETCD_FAILED, "etcd: %s %s: compare failed (created "
		    "at revision %" PRId64 ", lease %" PRId64 ")", what, key,
		    kv.create_rev, kv.lease);
		if (cur != NULL)
			*cur = kv;
		else
			etcd_kv_clear(&kv);
	}
	json_decref(ans);
	return rc;
}

/* {"request_put": {key, value, lease}}, NULL when out of memory */
static json_t *
put_op(const char *key, const char *val, size_t len, int64_t lease)
{
	json_t *p;

	p = keyreq(key);
	if (set_b64(p, "value", val, len) == -1 ||
	    (lease != 0 && json_object_set_new(p, "lease", j_i64str(lease)) == -1)) {
		json_decref(p);
		return NULL;
	}
	return json_pack("{s:o}", "request_put", p);
}

/* {"key", "target": "VALUE", "result": "EQUAL", "value"}: etcd holds such
 * a compare false when the key does not exist */
static json_t *
value_cmp(const char *key, const char *expect, size_t elen)
{
	json_t *c;

	c = keyreq(key);
	if (c == NULL || json_object_set_new(c, "target", json_string("VALUE")) == -1 ||
	    json_object_set_new(c, "result", json_string("EQUAL")) == -1 ||
	    set_b64(c, "value", expect, elen) == -1) {
		json_decref(c);
		return NULL;
	}
	return c;
}

int
etcd_create(struct etcd *e, const char *key, const char *val, size_t len,
    int64_t lease, struct etcd_kv *cur)
{
	json_t *cmp, *op;

	if (len > ETCD_MAX_VALUE)
		return seterr(e, ETCD_ERROR, "etcd: value for %s too large (%zu "
		    "bytes, at most %d)", key, len, ETCD_MAX_VALUE);
	/* absent: create_revision 0 */
	cmp = keyreq(key);
	if (cmp != NULL && (json_object_set_new(cmp, "target", json_string("CREATE")) == -1 ||
	    json_object_set_new(cmp, "result", json_string("EQUAL")) == -1 ||
	    json_object_set_new(cmp, "create_revision", json_string("0")) == -1)) {
		json_decref(cmp);
		cmp = NULL;
	}
	op = put_op(key, val, len, lease);
	if (cmp == NULL || op == NULL) {
		json_decref(cmp);
		json_decref(op);
		return seterr(e, ETCD_ERROR, "etcd: out of memory");
	}
	return txn1(e, "create", key, cmp, op, cur);
}

int
etcd_cas(struct etcd *e, const char *key, const char *expect, size_t elen,
    const char *val, size_t len, int64_t lease, struct etcd_kv *cur)
{
	json_t *cmp, *op;

	if (len > ETCD_MAX_VALUE || elen > ETCD_MAX_VALUE)
		return seterr(e, ETCD_ERROR, "etcd: value for %s too large (%zu "
		    "bytes, at most %d)", key, len > elen ? len : elen, ETCD_MAX_VALUE);
	cmp = value_cmp(key, expect, elen);
	op = put_op(key, val, len, lease);
	if (cmp == NULL || op == NULL) {
		json_decref(cmp);
		json_decref(op);
		return seterr(e, ETCD_ERROR, "etcd: out of memory");
	}
	return txn1(e, "compare-and-swap", key, cmp, op, cur);
}

int
etcd_delete_if(struct etcd *e, const char *key, const char *expect, size_t elen)
{
	json_t *cmp, *op;

	if (elen > ETCD_MAX_VALUE)
		return seterr(e, ETCD_ERROR, "etcd: value for %s too large (%zu "
		    "bytes, at most %d)", key, elen, ETCD_MAX_VALUE);
	cmp = value_cmp(key, expect, elen);
	op = json_pack("{s:o}", "request_delete_range", keyreq(key));
	if (cmp == NULL || op == NULL) {
		json_decref(cmp);
		json_decref(op);
		return seterr(e, ETCD_ERROR, "etcd: out of memory");
	}
	return txn1(e, "delete-if", key, cmp, op, NULL);
}

int
etcd_delete(struct etcd *e, const char *key)
{
	json_t *ans;
	int64_t n;
	int rc;

	if ((rc = call(e, "/v3/kv/deleterange", keyreq(key), &ans)) != ETCD_OK)
		return rc;
	if (j_i64(ans, "deleted", &n) == -1)
		rc = seterr(e, ETCD_ERROR, "etcd %s: delete %s: bad answer",
		    etcd_endpoint(e), key);
	else if (n == 0)
		rc = seterr(e, ETCD_NOTFOUND, "etcd: no key %s", key);
	json_decref(ans);
	return rc;
}
