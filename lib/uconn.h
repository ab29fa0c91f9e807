/* uconn.h — a blocking client of a request/reply protocol in proto.h frames
 * over a local (UNIX) stream socket, with one request in flight: what
 * hactl (hasvr's control socket) and halink (guisvr's ha-link) are built on.
 *
 * A transport or protocol failure leaves the reply stream at an unknown
 * position, so the connection is then marked broken and every later call
 * fails at once. Every error names the socket path and, where it helps, the
 * server and where to look (struct uconn_peer). */
#ifndef HASVR_UCONN_H
#define HASVR_UCONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>

#include "proto.h"

/* Who answers on the socket, for the messages, and the limits. */
struct uconn_peer {
	const char *server;       /* "hasvr": "... (is hasvr running?)" */
	const char *socket;       /* "control connection": "... to PATH is unusable" */
	const char *access_hint;  /* after EACCES/EPERM, e.g. "run as root, ..." */
	const char *log_hint;     /* "see var/errorLog/ha.log", or NULL */
	size_t max_frame;         /* a longer frame means the wrong socket */
	int timeout_secs;         /* connect (full backlog) and each reply */
	const char *(*typename)(int type);   /* frame types in errors, or NULL */
};

struct uconn {
	const struct uconn_peer *peer;
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	uint32_t seq;              /* of the last request */
	int broken;
	struct buf out;            /* the request being built */
	struct buf in;             /* the last frame read */
};

/* 0, or -1 with err and errno set (ENAMETOOLONG for a too long path, the
 * connect error otherwise). */
int uconn_connect(struct uconn *c, const struct uconn_peer *peer,
    const char *path, char *err, size_t errlen);
void uconn_close(struct uconn *c);

/* Marks c broken, formats err; returns -1. */
int uconn_broken(struct uconn *c, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Starts a request of type in c->out with the next sequence number. */
void uconn_begin(struct uconn *c, uint16_t type);

/* Sends the request in c->out (named what in errors) and reads the reply
 * of type want into c->in. 0; an xe_code from an ERR reply, its text in
 * err; or -1 with err filled. */
int uconn_roundtrip(struct uconn *c, const char *what, uint16_t want,
    char *err, size_t errlen);

/* Waits up to timeout_ms (< 0: forever) for a frame the server sends on its
 * own, then reads it whole into c->in. 1 read, 0 timeout, -1 error. */
int uconn_wait_frame(struct uconn *c, int timeout_ms, struct frame_hdr *fh,
    char *err, size_t errlen);

#endif
