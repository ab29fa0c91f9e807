/* client.h — guisvr's client service: a UNIX socket for local tools and,
 * when guiSvr.listenAddr is set, TCP with TLS 1.3 (PSK from
 * guiSvr.clientKeyFile) for remote tools.
 *
 * A pool of worker threads serves the connections (see client.c): one slow
 * commit never stalls other clients, and concurrent commits share log
 * fsyncs (group commit). Requests on one connection run in order; a
 * malformed request gets an ERR reply, an oversized one also closes the
 * connection; the daemon goes on. */
#ifndef GUISVR_CLIENT_H
#define GUISVR_CLIENT_H

#include <stddef.h>
#include "store.h"

struct client_opts {
	const char *sock_path;      /* UNIX socket (mode 0660) */
	const char *listen_addr;    /* NULL/"": no TCP */
	int listen_port;
	const char *secret;         /* client key file content (TLS PSK source) */
	int workers;                /* worker threads */
	size_t max_frame;           /* largest request accepted */
	int max_clients;
	int idle_timeout_secs;      /* close idle connections (0: never) */
	/* "key value\n" lines describing the server for the STATUS reply
	 * (version, pid, role, uptime, …), called from any worker thread;
	 * returns the length like snprintf. NULL: only the client count. */
	int (*status_text)(char *out, size_t outlen);
};

struct clientsvc;

struct clientsvc *client_start(struct store *s, const struct client_opts *o,
    char *err, size_t errlen);
/* Stop listening, finish requests in progress, close connections, join workers. */
void client_stop(struct clientsvc *cs);
/* Number of currently connected clients (for STATUS). */
int client_count(struct clientsvc *cs);

#endif
