/* nodelay.so — an LD_PRELOAD shim for the replication benchmark: sets
 * TCP_NODELAY on every AF_INET/AF_INET6 stream socket a program creates,
 * connects or accepts.
 *
 * Berkeley DB 5.3's Replication Manager never sets TCP_NODELAY, so with
 * ACKS_ALL each commit waits on Nagle and delayed ACKs (tens of commits per
 * second on loopback). bench_rep.sh measures it both stock and with this shim
 * to compare hasvr against the best the Replication Manager can do:
 *
 *     LD_PRELOAD=tests/bench/nodelay.so tests/bench/bench_repmgr …
 *
 * Built by a plain Makefile rule ($(CC) -shared -fPIC … -ldl). Failures to set
 * the option are ignored: the shim must never change a call's result. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1	/* RTLD_NEXT; the Makefile rule passes no CPPFLAGS */
#endif
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <sys/socket.h>

typedef int (*socket_fn)(int, int, int);
typedef int (*connect_fn)(int, const struct sockaddr *, socklen_t);
typedef int (*accept_fn)(int, struct sockaddr *, socklen_t *);
typedef int (*accept4_fn)(int, struct sockaddr *, socklen_t *, int);

int socket(int domain, int type, int protocol);
int connect(int fd, const struct sockaddr *addr, socklen_t len);
int accept(int fd, struct sockaddr *addr, socklen_t *len);
int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);

/* The next definition of NAME (libc's), looked up once. */
static void *
next_sym(void **cache, const char *name)
{
	if (*cache == NULL)
		*cache = dlsym(RTLD_NEXT, name);
	return *cache;
}

/* Sets TCP_NODELAY on fd if it is a TCP (IPv4/IPv6 stream) socket; keeps errno. */
static void
set_nodelay(int fd)
{
	int saved = errno, dom = 0, type = 0, on = 1;
	socklen_t l;

	if (fd < 0)
		return;
	l = sizeof(dom);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &l) == 0 &&
	    (dom == AF_INET || dom == AF_INET6)) {
		l = sizeof(type);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l) == 0 && type == SOCK_STREAM)
			(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	}
	errno = saved;
}

int
socket(int domain, int type, int protocol)
{
	static void *real;
	socket_fn f = (socket_fn)next_sym(&real, "socket");
	int fd;

	if (f == NULL) {
		errno = ENOSYS;
		return -1;
	}
	fd = f(domain, type, protocol);
	if (fd >= 0 && (domain == AF_INET || domain == AF_INET6) &&
	    (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) == SOCK_STREAM)
		set_nodelay(fd);
	return fd;
}

int
connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	static void *real;
	connect_fn f = (connect_fn)next_sym(&real, "connect");
	int ret;

	if (f == NULL) {
		errno = ENOSYS;
		return -1;
	}
	ret = f(fd, addr, len);
	/* also for a non-blocking connect still in progress */
	if (ret == 0 || errno == EINPROGRESS)
		set_nodelay(fd);
	return ret;
}

int
accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	static void *real;
	accept_fn f = (accept_fn)next_sym(&real, "accept");
	int nfd;

	if (f == NULL) {
		errno = ENOSYS;
		return -1;
	}
	nfd = f(fd, addr, len);
	set_nodelay(nfd);
	return nfd;
}

int
accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	static void *real;
	accept4_fn f = (accept4_fn)next_sym(&real, "accept4");
	int nfd;

	if (f == NULL) {
		errno = ENOSYS;
		return -1;
	}
	nfd = f(fd, addr, len, flags);
	set_nodelay(nfd);
	return nfd;
}
