/* unixsock.c — the listening UNIX sockets of hasvr and guisvr (see unixsock.h). */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "unixsock.h"
#include "util.h"

/* 1 when something accepts connections on sun. */
static int
answers(const struct sockaddr_un *sun)
{
	int fd, up;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	up = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return up;
}

int
unixsock_listen(const char *path, mode_t mode, int backlog, int flags,
    enum unixsock_fail *fail)
{
	struct sockaddr_un sun;
	int fd, e;

	*fail = UNIXSOCK_OK;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (util_strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		*fail = UNIXSOCK_TOOLONG;
		return -1;
	}
	/* a socket file left by a killed server: with UNIXSOCK_REFUSE_LIVE
	 * it is only removed when nobody answers */
	if ((flags & UNIXSOCK_REFUSE_LIVE) && answers(&sun)) {
		*fail = UNIXSOCK_LIVE;
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		*fail = UNIXSOCK_SOCKET;
		return -1;
	}
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		*fail = UNIXSOCK_BIND;
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (chmod(path, mode) == -1)
		*fail = UNIXSOCK_CHMOD;
	else if (listen(fd, backlog) == -1)
		*fail = UNIXSOCK_LISTEN;
	if (*fail != UNIXSOCK_OK) {
		e = errno;
		close(fd);
		unlink(path);
		errno = e;
		return -1;
	}
	return fd;
}
