/* unixsock.h — the listening UNIX sockets of hasvr (control socket) and
 * guisvr (client socket, ha-link): one way to replace a stale socket file,
 * bind, set the file's mode and listen. */
#ifndef HASVR_UNIXSOCK_H
#define HASVR_UNIXSOCK_H

#include <sys/types.h>
#include <sys/un.h>

/* The longest path a UNIX socket can have. */
#define UNIXSOCK_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

/* unixsock_listen flags */
#define UNIXSOCK_REFUSE_LIVE 0x1    /* a socket file somebody still answers
				     * on is refused, not replaced */

/* The step that failed, for the caller's message. */
enum unixsock_fail {
	UNIXSOCK_OK = 0,
	UNIXSOCK_TOOLONG,           /* path longer than UNIXSOCK_PATH_MAX */
	UNIXSOCK_LIVE,              /* UNIXSOCK_REFUSE_LIVE: path answers */
	UNIXSOCK_SOCKET,            /* socket(): errno */
	UNIXSOCK_BIND,              /* bind(): errno */
	UNIXSOCK_CHMOD,             /* chmod(): errno */
	UNIXSOCK_LISTEN             /* listen(): errno */
};

/* A non-blocking, close-on-exec stream socket listening on path with the
 * given backlog. Whatever is at path is removed first (unless it answers
 * and flags has UNIXSOCK_REFUSE_LIVE); the new socket file gets mode
 * before it accepts connections. Returns the descriptor, or -1 with *fail
 * set (and errno for the system-call steps); on failure no descriptor is
 * left open and a socket file it created is removed. */
int unixsock_listen(const char *path, mode_t mode, int backlog, int flags,
    enum unixsock_fail *fail);

#endif
