/* test_unixsock.c — the listening UNIX sockets (lib/unixsock.c). */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "unixsock.h"
#include "util.h"

static int
connect_to(const char *path)
{
	struct sockaddr_un sun;
	int fd, rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	util_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return -1;
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	return rc;
}

/* A socket file nobody listens on any more, as a killed server leaves it. */
static void
make_stale(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	util_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
}

static void
test_listen_mode_flags(void)
{
	char *dir = unit_tmpdir(), path[512];
	enum unixsock_fail fail;
	struct stat st;
	int fd, fl;

	snprintf(path, sizeof(path), "%s/s.sock", dir);
	fd = unixsock_listen(path, 0660, 4, 0, &fail);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(fail, UNIXSOCK_OK);
	CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
	CU_ASSERT(S_ISSOCK(st.st_mode));
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0660);
	fl = fcntl(fd, F_GETFL);
	CU_ASSERT(fl != -1 && (fl & O_NONBLOCK));
	fl = fcntl(fd, F_GETFD);
	CU_ASSERT(fl != -1 && (fl & FD_CLOEXEC));
	/* listening: a client gets in; nothing waiting: accept does not block */
	CU_ASSERT_EQUAL(connect_to(path), 0);
	CU_ASSERT(accept(fd, NULL, NULL) >= 0 || errno == EAGAIN);
	close(fd);
	unlink(path);

	fd = unixsock_listen(path, 0600, 4, 0, &fail);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
	CU_ASSERT_EQUAL(accept(fd, NULL, NULL), -1);
	CU_ASSERT_EQUAL(errno, EAGAIN);
	close(fd);
	unit_rmtree(dir);
	free(dir);
}

static void
test_listen_stale(void)
{
	char *dir = unit_tmpdir(), path[512];
	enum unixsock_fail fail;
	int fd;

	snprintf(path, sizeof(path), "%s/s.sock", dir);
	make_stale(path);
	CU_ASSERT_NOT_EQUAL(connect_to(path), 0);
	/* nobody answers: replaced, with or without UNIXSOCK_REFUSE_LIVE */
	fd = unixsock_listen(path, 0660, 4, UNIXSOCK_REFUSE_LIVE, &fail);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(connect_to(path), 0);
	close(fd);
	unit_rmtree(dir);
	free(dir);
}

static void
test_listen_live(void)
{
	char *dir = unit_tmpdir(), path[512];
	enum unixsock_fail fail;
	struct stat st1, st2;
	int fd, fd2;

	snprintf(path, sizeof(path), "%s/s.sock", dir);
	fd = unixsock_listen(path, 0660, 4, 0, &fail);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(stat(path, &st1), 0);
	/* guisvr's sockets: a live one is refused and left alone */
	CU_ASSERT_EQUAL(unixsock_listen(path, 0660, 4, UNIXSOCK_REFUSE_LIVE,
	    &fail), -1);
	CU_ASSERT_EQUAL(fail, UNIXSOCK_LIVE);
	CU_ASSERT_EQUAL_FATAL(stat(path, &st2), 0);
	CU_ASSERT_EQUAL(st1.st_ino, st2.st_ino);
	CU_ASSERT_EQUAL(connect_to(path), 0);
	/* hasvr's control socket: replaced whatever is there */
	fd2 = unixsock_listen(path, 0660, 4, 0, &fail);
	CU_ASSERT_FATAL(fd2 >= 0);
	CU_ASSERT_EQUAL_FATAL(stat(path, &st2), 0);
	CU_ASSERT_NOT_EQUAL(st1.st_ino, st2.st_ino);
	close(fd);
	close(fd2);
	unit_rmtree(dir);
	free(dir);
}

static void
test_listen_fail(void)
{
	char *dir = unit_tmpdir(), path[512], longp[UNIXSOCK_PATH_MAX + 2];
	enum unixsock_fail fail;

	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	CU_ASSERT_EQUAL(unixsock_listen(longp, 0660, 4, 0, &fail), -1);
	CU_ASSERT_EQUAL(fail, UNIXSOCK_TOOLONG);
	longp[UNIXSOCK_PATH_MAX] = '\0';
	CU_ASSERT_EQUAL(strlen(longp), UNIXSOCK_PATH_MAX);

	snprintf(path, sizeof(path), "%s/no/such/dir/s.sock", dir);
	CU_ASSERT_EQUAL(unixsock_listen(path, 0660, 4, UNIXSOCK_REFUSE_LIVE,
	    &fail), -1);
	CU_ASSERT_EQUAL(fail, UNIXSOCK_BIND);
	CU_ASSERT_EQUAL(errno, ENOENT);
	unit_rmtree(dir);
	free(dir);
}

void
test_unixsock_register(void)
{
	CU_pSuite s = CU_add_suite("unixsock", NULL, NULL);

	CU_add_test(s, "mode and flags", test_listen_mode_flags);
	CU_add_test(s, "stale socket replaced", test_listen_stale);
	CU_add_test(s, "live socket", test_listen_live);
	CU_add_test(s, "failures", test_listen_fail);
}
