/* tlsctx.h — TLS 1.3 contexts authenticated by a pre-shared key.
 *
 * The secret (a key file's content, or highAvail.HMACKey) is never used
 * directly: each purpose derives its own 32-byte PSK with HKDF-SHA256
 * (salt "hasvr", info = the purpose label, e.g. "hasvr client service v1").
 * Only TLS 1.3 is allowed, with psk_dhe_ke (forward secrecy) and the
 * SHA-256 suites TLS_AES_128_GCM_SHA256 / TLS_CHACHA20_POLY1305_SHA256
 * (OpenSSL's PSK callbacks bind the key to a SHA-256 handshake).
 * A peer whose key differs fails the handshake. */
#ifndef HASVR_TLSCTX_H
#define HASVR_TLSCTX_H

#include <stddef.h>
#include <openssl/ssl.h>

#define TLSCTX_PSK_LEN 32
#define TLSCTX_LABEL_CLIENT "hasvr client service v1"
/* PSK identity the records tools send and guisvr's client service expects. */
#define TLSCTX_IDENTITY_CLIENT "xdb"

/* HKDF-SHA256(secret, salt "hasvr", info label) -> out[TLSCTX_PSK_LEN]. 0 or -1. */
int tlsctx_derive(const void *secret, size_t secretlen, const char *label,
    unsigned char out[TLSCTX_PSK_LEN]);

/* Server / client contexts; identity is the PSK identity the client sends
 * and the server expects. NULL with err filled on failure. */
SSL_CTX *tlsctx_server_psk(const unsigned char psk[TLSCTX_PSK_LEN], const char *identity,
    char *err, size_t errlen);
SSL_CTX *tlsctx_client_psk(const unsigned char psk[TLSCTX_PSK_LEN], const char *identity,
    char *err, size_t errlen);

/* Certificate contexts (TLS 1.3 only), for links where a cluster-private CA
 * is preferred to a shared key. Both sides present a certificate from
 * cert_file (a PEM chain, leaf first) with key_file, and both verify the
 * other's chain against ca_file: the server requires a client certificate.
 * No host name is checked, so ca_file must be a CA that signs only this
 * cluster's nodes. NULL with err filled (naming the file at fault). */
SSL_CTX *tlsctx_server_cert(const char *ca_file, const char *cert_file, const char *key_file,
    char *err, size_t errlen);
SSL_CTX *tlsctx_client_cert(const char *ca_file, const char *cert_file, const char *key_file,
    char *err, size_t errlen);

/* The last OpenSSL error(s) as text, for log lines ("peer authentication failed
 * from ADDR: reason"). Clears the error queue. */
void tlsctx_errstr(char *out, size_t outlen);

#endif
