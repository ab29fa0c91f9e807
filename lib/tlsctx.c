/* tlsctx.c — TLS 1.3 contexts authenticated by a pre-shared key (see tlsctx.h).
 *
 * The PSK callbacks used here hand OpenSSL a key for a SHA-256 handshake, so
 * only the SHA-256 TLS 1.3 suites are offered. Key exchange stays
 * psk_dhe_ke (OpenSSL refuses psk_ke unless SSL_OP_ALLOW_NO_DHE_KEX is set),
 * so a stolen key file does not decrypt recorded sessions. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "tlsctx.h"

#define TLSCTX_SUITES "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256"
#define TLSCTX_IDENTITY_MAX 128

struct psk_info {
	unsigned char psk[TLSCTX_PSK_LEN];
	char identity[TLSCTX_IDENTITY_MAX + 1];
};

static int psk_index = -1;
static pthread_once_t psk_once = PTHREAD_ONCE_INIT;

static void
psk_info_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	struct psk_info *pi = ptr;

	if (pi != NULL) {
		OPENSSL_cleanse(pi, sizeof(*pi));
		free(pi);
	}
}

static void
psk_index_init(void)
{
	psk_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, psk_info_free);
}

int
tlsctx_derive(const void *secret, size_t secretlen, const char *label,
    unsigned char out[TLSCTX_PSK_LEN])
{
	EVP_KDF *kdf;
	EVP_KDF_CTX *kctx;
	OSSL_PARAM params[5], *p = params;
	int rc = -1;

	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL)
		return -1;
	kctx = EVP_KDF_CTX_new(kdf);
	EVP_KDF_free(kdf);
	if (kctx == NULL)
		return -1;
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, secretlen);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)"hasvr", 5);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)label,
	    strlen(label));
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, out, TLSCTX_PSK_LEN, params) == 1)
		rc = 0;
	EVP_KDF_CTX_free(kctx);
	return rc;
}

void
tlsctx_errstr(char *out, size_t outlen)
{
	unsigned long e;
	size_t off = 0;
	char one[256];

	if (outlen == 0)
		return;
	out[0] = '\0';
	while ((e = ERR_get_error()) != 0) {
		const char *r = ERR_reason_error_string(e);

		if (r == NULL) {
			ERR_error_string_n(e, one, sizeof(one));
			r = one;
		}
		if (off < outlen)
			off += (size_t)snprintf(out + off, outlen - off, "%s%s",
			    off ? "; " : "", r);
	}
	if (out[0] == '\0')
		snprintf(out, outlen, "no OpenSSL error reported (peer closed the connection?)");
}

static const struct psk_info *
psk_get(SSL *ssl)
{
	return SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), psk_index);
}

/* Unknown identities get no key, so the handshake fails at the binder check. */
static unsigned int
psk_server_cb(SSL *ssl, const char *identity, unsigned char *psk, unsigned int max_psk_len)
{
	const struct psk_info *pi = psk_get(ssl);

	if (pi == NULL || identity == NULL || max_psk_len < TLSCTX_PSK_LEN ||
	    strcmp(identity, pi->identity) != 0)
		return 0;
	memcpy(psk, pi->psk, TLSCTX_PSK_LEN);
	return TLSCTX_PSK_LEN;
}

static unsigned int
psk_client_cb(SSL *ssl, const char *hint, char *identity, unsigned int max_identity_len,
    unsigned char *psk, unsigned int max_psk_len)
{
	const struct psk_info *pi = psk_get(ssl);
	size_t ilen;

	if (pi == NULL || max_psk_len < TLSCTX_PSK_LEN)
		return 0;
	ilen = strlen(pi->identity);
	if (ilen + 1 > max_identity_len)
		return 0;
	memcpy(identity, pi->identity, ilen + 1);
	memcpy(psk, pi->psk, TLSCTX_PSK_LEN);
	return TLSCTX_PSK_LEN;
}

static SSL_CTX *
ctx_new(int server, const unsigned char psk[TLSCTX_PSK_LEN], const char *identity,
    char *err, size_t errlen)
{
	struct psk_info *pi;
	SSL_CTX *ctx;
	char why[256];

	if (pthread_once(&psk_once, psk_index_init) != 0 || psk_index < 0) {
		snprintf(err, errlen, "cannot set up TLS: no SSL_CTX ex_data index");
		return NULL;
	}
	if (identity == NULL || strlen(identity) == 0 ||
	    strlen(identity) > TLSCTX_IDENTITY_MAX) {
		snprintf(err, errlen, "cannot set up TLS: PSK identity must be 1..%d bytes",
		    TLSCTX_IDENTITY_MAX);
		return NULL;
	}
	if ((ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method())) == NULL)
		goto sslfail;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, TLSCTX_SUITES) != 1)
		goto sslfail;
	/* No resumption: every connection proves knowledge of the key afresh. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	if (server && SSL_CTX_set_num_tickets(ctx, 0) != 1)
		goto sslfail;
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	/* Nonblocking users (the daemons' event loops) handle WANT_READ themselves. */
	SSL_CTX_clear_mode(ctx, SSL_MODE_AUTO_RETRY);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if ((pi = calloc(1, sizeof(*pi))) == NULL) {
		snprintf(err, errlen, "cannot set up TLS: out of memory");
		SSL_CTX_free(ctx);
		return NULL;
	}
	memcpy(pi->psk, psk, TLSCTX_PSK_LEN);
	memcpy(pi->identity, identity, strlen(identity) + 1);
	if (SSL_CTX_set_ex_data(ctx, psk_index, pi) != 1) {
		OPENSSL_cleanse(pi, sizeof(*pi));
		free(pi);
		goto sslfail;
	}
	if (server)
		SSL_CTX_set_psk_server_callback(ctx, psk_server_cb);
	else
		SSL_CTX_set_psk_client_callback(ctx, psk_client_cb);
	return ctx;
sslfail:
	tlsctx_errstr(why, sizeof(why));
	snprintf(err, errlen, "cannot set up a TLS 1.3 %s context: %s",
	    server ? "server" : "client", why);
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *
tlsctx_server_psk(const unsigned char psk[TLSCTX_PSK_LEN], const char *identity,
    char *err, size_t errlen)
{
	return ctx_new(1, psk, identity, err, errlen);
}

SSL_CTX *
tlsctx_client_psk(const unsigned char psk[TLSCTX_PSK_LEN], const char *identity,
    char *err, size_t errlen)
{
	return ctx_new(0, psk, identity, err, errlen);
}

/* Certificates: any TLS 1.3 suite is fine (no PSK binds the hash). */
static SSL_CTX *
cert_ctx_new(int server, const char *ca_file, const char *cert_file, const char *key_file,
    char *err, size_t errlen)
{
	SSL_CTX *ctx;
	char why[256];
	const char *what = NULL;

	if (ca_file == NULL || cert_file == NULL || key_file == NULL) {
		snprintf(err, errlen, "cannot set up TLS: the CA, certificate and key "
		    "files must all be configured");
		return NULL;
	}
	if ((ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method())) == NULL)
		goto sslfail;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1)
		goto sslfail;
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	if (server && SSL_CTX_set_num_tickets(ctx, 0) != 1)
		goto sslfail;
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_clear_mode(ctx, SSL_MODE_AUTO_RETRY);
	what = ca_file;
	if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1)
		goto sslfail;
	what = cert_file;
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1)
		goto sslfail;
	what = key_file;
	if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1)
		goto sslfail;
	/* Mutual: a server without a client certificate would trust anyone. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
	    (server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), NULL);
	return ctx;
sslfail:
	tlsctx_errstr(why, sizeof(why));
	if (what != NULL)
		snprintf(err, errlen, "cannot load %s for a TLS 1.3 %s context: %s; "
		    "check the file's path, format (PEM) and that key and certificate match",
		    what, server ? "server" : "client", why);
	else
		snprintf(err, errlen, "cannot set up a TLS 1.3 %s context: %s",
		    server ? "server" : "client", why);
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *
tlsctx_server_cert(const char *ca_file, const char *cert_file, const char *key_file,
    char *err, size_t errlen)
{
	return cert_ctx_new(1, ca_file, cert_file, key_file, err, errlen);
}

SSL_CTX *
tlsctx_client_cert(const char *ca_file, const char *cert_file, const char *key_file,
    char *err, size_t errlen)
{
	return cert_ctx_new(0, ca_file, cert_file, key_file, err, errlen);
}
