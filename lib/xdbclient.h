/* xdbclient.h — client library for guisvr's client service, used by the
 * records tool, the sample generator, tests and benchmarks.
 * One connection = one struct xdbc; not shared between threads.
 * Every call returns 0 on success or an enum xe_code (> 0) with e filled;
 * transport failures return XE_BUSY-like code -1 with e->msg naming the cause
 * ("cannot connect to /opt/hasvr/var/run/guiSvr.sock: No such file or directory
 * (is guisvr running?)"). */
#ifndef HASVR_XDBCLIENT_H
#define HASVR_XDBCLIENT_H

#include <stddef.h>
#include <stdint.h>
#include "record.h"
#include "proto.h"

struct xerr {
	int code;          /* enum xe_code, or -1 for transport errors */
	char msg[512];
};

struct xdbc;

struct xdbc *xdbc_connect_unix(const char *path, struct xerr *e);
/* TLS over TCP, authenticated with the PSK derived from secret
 * (TLSCTX_LABEL_CLIENT). host may be an IPv4/IPv6 literal or name. */
struct xdbc *xdbc_connect_tls(const char *host, const char *port, const char *secret,
    struct xerr *e);
/* The same with a time limit: the TCP connect, the handshake and later each
 * send and each reply read wait at most timeout_ms (0: no connect limit and
 * the default 300 s for the rest). A limit that runs out breaks the
 * connection (-1, "no reply from … within …"). */
struct xdbc *xdbc_connect_tls_timeout(const char *host, const char *port,
    const char *secret, unsigned timeout_ms, struct xerr *e);
void xdbc_close(struct xdbc *c);
/* Changes that limit for later sends and replies (0: the default). */
void xdbc_set_timeout(struct xdbc *c, unsigned ms);
/* Receive limit for reply frames (default PROTO_DEFAULT_MAX_FRAME). */
void xdbc_set_max_frame(struct xdbc *c, size_t max);

int xdbc_get(struct xdbc *c, const char *id, struct record *out, struct xerr *e);
int xdbc_put(struct xdbc *c, const struct record *r, struct xerr *e);
int xdbc_set(struct xdbc *c, const struct record *r, struct xerr *e);
int xdbc_unset(struct xdbc *c, const struct record *r, struct xerr *e);
int xdbc_del(struct xdbc *c, const char *id, struct xerr *e);
int xdbc_count(struct xdbc *c, const char *prefix, uint64_t *n, struct xerr *e);
/* Calls cb for every record (ids_only: records carry only the id) until it
 * returns non-zero (then the rest of the reply is drained and that value
 * returned). */
int xdbc_list(struct xdbc *c, const char *prefix, int ids_only, uint32_t limit,
    int (*cb)(const struct record *r, void *arg), void *arg, struct xerr *e);
/* Status lines ("key value\n"), malloc'ed into *text. */
int xdbc_status(struct xdbc *c, char **text, struct xerr *e);

/* Batches: build, then commit in one request (all or nothing). */
struct xdbc_batch {
	struct buf b;
	uint32_t n;
};
void xdbc_batch_init(struct xdbc_batch *bt);
void xdbc_batch_add(struct xdbc_batch *bt, enum rec_opcode op, const struct record *r);
int xdbc_batch_commit(struct xdbc *c, struct xdbc_batch *bt, struct xerr *e);
void xdbc_batch_free(struct xdbc_batch *bt);

/* Low level, for tests: send raw bytes / a frame and read one reply frame. */
int xdbc_send_raw(struct xdbc *c, const void *p, size_t n, struct xerr *e);
int xdbc_read_frame(struct xdbc *c, struct frame_hdr *h, struct buf *payload, struct xerr *e);

/* The client socket named by a guiSvr.cfg (guiSvr.clientSocket, default
 * varDir/run/guiSvr.sock). When the file does not exist and must_exist is 0,
 * the built-in defaults are used. 0, or -1 with err naming the file and line. */
int xdbc_socket_path(const char *cfgfile, int must_exist, char *out, size_t outlen,
    char *err, size_t errlen);

#endif
