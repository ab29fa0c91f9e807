/* haTrustCheck — can the file sync (bin/.haDoDirect) reach its peers?
 *
 * From this node, for each peer (or the one given with -p) it checks, in
 * the order the sync needs them:
 *   1. rsync and ssh are installed here and the key file is usable;
 *   2. the peer's sshd answers on highAvail.sshPort;
 *   3. the peer's host key is the one known_hosts holds for it;
 *   4. the peer accepts highAvail.rsyncUser's key, without a password or
 *      any prompt (only public-key authentication is tried);
 *   5. `rsync --version` runs on the peer as that user.
 * It prints "OK …" for each step passed and stops a peer's checks at the
 * first "FAIL …" line, which names the cause and the fix.
 *
 * Exit status (the first failure's, when several peers fail):
 *   0  every check passed for every peer
 *   1  internal error (out of memory, libssh2 failed to start)
 *   2  usage, or haSvr.cfg is invalid or names no peer
 *   3  this node cannot sync: rsync or ssh missing here, or the key file
 *      missing, unprotected or unreadable
 *   4  the peer is unreachable (nothing answers on its SSH port)
 *   5  no SSH handshake with what answers there
 *   6  the peer's host key is not in known_hosts
 *   7  the peer's host key differs from the one in known_hosts
 *   8  the peer refused the key
 *   9  rsync cannot be run on the peer
 * Connecting and every SSH exchange are bounded by TRUST_TIMEOUT_SECS. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh2.h>
#include <openssl/evp.h>

#include "cfg.h"
#include "hacfg.h"
#include "util.h"

#define TRUST_TIMEOUT_SECS 10

enum trust_exit {
	TX_OK = 0, TX_INTERNAL, TX_USAGE, TX_LOCAL, TX_UNREACHABLE,
	TX_HANDSHAKE, TX_HOSTKEY_UNKNOWN, TX_HOSTKEY_CHANGED, TX_KEY_REFUSED,
	TX_RSYNC_MISSING
};

struct opts {
	const char *cfgfile, *peer, *user, *key, *knownhosts;
	int port;               /* 0: from the config */
	int verbose;
};

/* What one peer's checks use. */
struct target {
	const char *peer;
	int port;
	const char *user;
	const char *key;        /* private key */
	char pub[1100];         /* key.pub, or "" (derived from the key) */
	const char *knownhosts;
	int verbose;
};

/* One SSH connection. */
struct conn {
	int fd;
	LIBSSH2_SESSION *s;
};

static void usage(FILE *fp) __attribute__((noreturn));

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: haTrustCheck [-f haSvr.cfg] [-p peer] [-u user] [-i key] "
	    "[-P port]\n"
	    "                    [-k known_hosts] [-v]\n"
	    "Checks that this node's file sync can log in to each peer with\n"
	    "highAvail.rsyncUser's SSH key, without a password, and run rsync "
	    "there.\n"
	    "  -f FILE  haSvr.cfg (default %s)\n"
	    "  -p ADDR  check this peer only (default: every node but "
	    "highAvail.myAddr)\n"
	    "  -u USER  user to log in as (default highAvail.rsyncUser, else "
	    "yours)\n"
	    "  -i KEY   private key (default highAvail.sshKeyFile, else\n"
	    "           ~USER/.ssh/id_ed25519, id_ecdsa or id_rsa)\n"
	    "  -P PORT  sshd's port on the peer (default highAvail.sshPort)\n"
	    "  -k FILE  known_hosts (default highAvail.knownHostsFile, else\n"
	    "           ~USER/.ssh/known_hosts)\n"
	    "  -v       also print what is used and negotiated\n"
	    "Exit status: 0 all passed; 1 internal error; 2 usage or config; "
	    "3 rsync, ssh\n"
	    "or the key missing here; 4 peer unreachable; 5 no SSH handshake; "
	    "6 host key\nunknown; 7 host key changed; 8 key refused; 9 rsync "
	    "missing on the peer.\n", HACFG_DEFAULT_PATH);
	exit(fp == stdout ? 0 : TX_USAGE);
}

static void
die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
die_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("haTrustCheck: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (haTrustCheck -h for help)\n", stderr);
	exit(TX_USAGE);
}

static void
say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* "FAIL …" and the exit code that goes with it. */
static int
fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("FAIL ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return code;
}

static const char *
ssh_error(LIBSSH2_SESSION *s)
{
	char *msg = NULL;

	if (libssh2_session_last_error(s, &msg, NULL, 0) == 0 || msg == NULL ||
	    *msg == '\0')
		return "no details";
	return msg;
}

/* ---- this node ---------------------------------------------------------- */

/* The first executable NAME in PATH into out; 0, or -1 if there is none. */
static int
in_path(const char *name, char *out, size_t outlen)
{
	const char *path = getenv("PATH"), *p;
	size_t len;

	if (path == NULL || *path == '\0')
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; *p != '\0'; p += len + (p[len] == ':')) {
		len = strcspn(p, ":");
		if (len == 0)
			continue;
		if (snprintf(out, outlen, "%.*s/%s", (int)len, p, name) >=
		    (int)outlen)
			continue;
		if (access(out, X_OK) == 0)
			return 0;
	}
	return -1;
}

static int
check_tools(void)
{
	static const struct {
		const char *name, *pkg;
	} tools[] = { { "rsync", "rsync" }, { "ssh", "openssh-client" } };
	char found[2][1024];
	size_t i;

	for (i = 0; i < 2; i++)
		if (in_path(tools[i].name, found[i], sizeof(found[i])) == -1)
			return fail(TX_LOCAL, "%s is not installed on this node "
			    "(not in PATH) — the file sync runs it here: apt-get "
			    "install %s", tools[i].name, tools[i].pkg);
	say("OK local tools: %s, %s", found[0], found[1]);
	return TX_OK;
}

/* The key file: present, readable and, as ssh demands, private. */
static int
check_key(struct target *t)
{
	struct stat st;

	if (stat(t->key, &st) == -1)
		return fail(TX_LOCAL, "key file %s: %s — create the key as %s "
		    "(ssh-keygen -t ed25519 -N '' -f %s) and append %s.pub to "
		    "~%s/.ssh/authorized_keys on every peer", t->key,
		    strerror(errno), t->user, t->key, t->key, t->user);
	if ((st.st_mode & 077) != 0)
		return fail(TX_LOCAL, "key file %s is accessible by others "
		    "(mode %04o); ssh refuses such a key — run chmod 600 %s",
		    t->key, (unsigned)(st.st_mode & 07777), t->key);
	if (access(t->key, R_OK) == -1)
		return fail(TX_LOCAL, "key file %s: %s — run the check (and the "
		    "sync) as %s or root", t->key, strerror(errno), t->user);
	snprintf(t->pub, sizeof(t->pub), "%s.pub", t->key);
	if (access(t->pub, R_OK) == -1)
		t->pub[0] = '\0';
	say("OK key: %s", t->key);
	return TX_OK;
}

/* ---- the peer ------------------------------------------------------------ */

/* Connect with a bounded wait; fd or -1 with why filled. */
static int
tcp_connect(const char *host, int port, char *why, size_t whylen)
{
	struct addrinfo hints, *res, *ai;
	struct pollfd pfd;
	char portstr[16];
	socklen_t len;
	int fd = -1, e, r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%d", port);
	if ((r = getaddrinfo(host, portstr, &hints, &res)) != 0) {
		snprintf(why, whylen, "%s", gai_strerror(r));
		return -1;
	}
	snprintf(why, whylen, "no address");
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, ai->ai_protocol);
		if (fd == -1) {
			snprintf(why, whylen, "%s", strerror(errno));
			continue;
		}
		e = 0;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
			e = errno;
			if (e == EINPROGRESS) {
				pfd.fd = fd;
				pfd.events = POLLOUT;
				r = poll(&pfd, 1, TRUST_TIMEOUT_SECS * 1000);
				len = sizeof(e);
				if (r == 0)
					e = ETIMEDOUT;
				else if (r == -1)
					e = errno;
				else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e,
				    &len) == -1)
					e = errno;
			}
		}
		if (e == 0)
			break;
		if (e == ETIMEDOUT)
			snprintf(why, whylen, "no answer within %d s",
			    TRUST_TIMEOUT_SECS);
		else
			snprintf(why, whylen, "%s", strerror(e));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	/* libssh2 waits itself, bounded by the session timeout */
	if (fd != -1 && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) &
	    ~O_NONBLOCK) == -1) {
		snprintf(why, whylen, "%s", strerror(errno));
		close(fd);
		fd = -1;
	}
	return fd;
}

static void
conn_close(struct conn *c)
{
	if (c->s != NULL) {
		libssh2_session_disconnect(c->s, "haTrustCheck done");
		libssh2_session_free(c->s);
	}
	if (c->fd != -1)
		close(c->fd);
	c->s = NULL;
	c->fd = -1;
}

/* TCP connection and SSH handshake, offering only hostkey_algs when not
 * NULL. TX_OK, or the failure (printed unless quiet). */
static int
conn_open(struct conn *c, const struct target *t, const char *hostkey_algs,
    int quiet)
{
	char why[256];

	c->s = NULL;
	if ((c->fd = tcp_connect(t->peer, t->port, why, sizeof(why))) == -1)
		return fail(TX_UNREACHABLE, "unreachable: cannot connect to %s "
		    "port %d: %s — is sshd running on the peer, on that port "
		    "(highAvail.sshPort)? Is a firewall in the way?", t->peer,
		    t->port, why);
	if ((c->s = libssh2_session_init()) == NULL) {
		conn_close(c);
		return fail(TX_INTERNAL, "cannot start an SSH session: out of "
		    "memory");
	}
	libssh2_session_set_blocking(c->s, 1);
	libssh2_session_set_timeout(c->s, TRUST_TIMEOUT_SECS * 1000L);
	if (hostkey_algs != NULL && libssh2_session_method_pref(c->s,
	    LIBSSH2_METHOD_HOSTKEY, hostkey_algs) != 0) {
		conn_close(c);
		return TX_HANDSHAKE;    /* not supported by this libssh2 */
	}
	if (libssh2_session_handshake(c->s, c->fd) != 0) {
		if (!quiet)
			fail(TX_HANDSHAKE, "no SSH handshake with %s port %d: %s — "
			    "is it sshd that listens there (highAvail.sshPort)?",
			    t->peer, t->port, ssh_error(c->s));
		conn_close(c);
		return TX_HANDSHAKE;
	}
	return TX_OK;
}

static const char *
hostkey_name(int type)
{
	switch (type) {
	case LIBSSH2_HOSTKEY_TYPE_RSA:
		return "RSA";
	case LIBSSH2_HOSTKEY_TYPE_DSS:
		return "DSA";
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_256:
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_384:
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_521:
		return "ECDSA";
	case LIBSSH2_HOSTKEY_TYPE_ED25519:
		return "ED25519";
	}
	return "unknown";
}

static int
hostkey_bits(int type)
{
	switch (type) {
	case LIBSSH2_HOSTKEY_TYPE_RSA:
		return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
	case LIBSSH2_HOSTKEY_TYPE_DSS:
		return LIBSSH2_KNOWNHOST_KEY_SSHDSS;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_256:
		return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_384:
		return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_521:
		return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
	case LIBSSH2_HOSTKEY_TYPE_ED25519:
		return LIBSSH2_KNOWNHOST_KEY_ED25519;
	}
	return LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
}

/* The presented host key as ssh-keygen -l shows it: "ED25519 SHA256:…". */
static void
hostkey_print(LIBSSH2_SESSION *s, char *out, size_t outlen)
{
	const unsigned char *h;
	unsigned char b64[64];
	size_t len;
	int type, n;

	if (libssh2_session_hostkey(s, &len, &type) == NULL ||
	    (h = (const unsigned char *)libssh2_hostkey_hash(s,
	    LIBSSH2_HOSTKEY_HASH_SHA256)) == NULL) {
		snprintf(out, outlen, "(no host key)");
		return;
	}
	n = EVP_EncodeBlock(b64, h, 32);
	while (n > 0 && b64[n - 1] == '=')
		n--;            /* ssh-keygen prints it without padding */
	snprintf(out, outlen, "%s SHA256:%.*s", hostkey_name(type), n,
	    (const char *)b64);
}

/* LIBSSH2_KNOWNHOST_CHECK_* of the session's host key; any_type: compare
 * with entries of every key type (NOTFOUND then means the host has none). */
static int
hostkey_check(LIBSSH2_KNOWNHOSTS *kh, const struct target *t,
    LIBSSH2_SESSION *s, int any_type)
{
	const char *key;
	size_t len;
	int type;

	if ((key = libssh2_session_hostkey(s, &len, &type)) == NULL)
		return LIBSSH2_KNOWNHOST_CHECK_FAILURE;
	return libssh2_knownhost_checkp(kh, t->peer, t->port, key, len,
	    LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW |
	    (any_type ? 0 : hostkey_bits(type)), NULL);
}

static void
keyscan_hint(const struct target *t, char *out, size_t outlen)
{
	snprintf(out, outlen, "run, as %s: ssh-keyscan -p %d %s >> %s — after "
	    "comparing the fingerprint with `ssh-keygen -lf "
	    "/etc/ssh/ssh_host_*_key.pub` on the peer", t->user, t->port,
	    t->peer, t->knownhosts);
}

static int
hostkey_changed(const struct target *t, const char *presented)
{
	char host[300];

	if (t->port == 22)
		snprintf(host, sizeof(host), "%s", t->peer);
	else
		snprintf(host, sizeof(host), "[%s]:%d", t->peer, t->port);
	return fail(TX_HOSTKEY_CHANGED, "host key changed: %s presents %s, "
	    "not the key %s holds for it — if the peer was reinstalled or its "
	    "host keys regenerated, run: ssh-keygen -f %s -R '%s', then add "
	    "the new key (ssh-keyscan -p %d %s >> %s); otherwise someone may "
	    "be intercepting the connection", t->peer, presented, t->knownhosts,
	    t->knownhosts, host, t->port, t->peer, t->knownhosts);
}

/* Open a connection whose host key known_hosts vouches for. The server
 * picks its host key type from what the client offers, and known_hosts
 * may hold another of its types: when the host is in the file but not
 * with the key first presented, each other type is asked for in turn (one
 * name per attempt: libssh2 1.10 copies overlapping memory when it drops
 * names from a longer list). */
static int
connect_verified(struct conn *c, const struct target *t)
{
	static const char *const algs[] = {
		"ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
		"ecdsa-sha2-nistp521", "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa",
	};
	LIBSSH2_KNOWNHOSTS *kh;
	char first[128], fp[128], hint[1024];
	struct stat st;
	size_t i;
	int rc, r, n, other_type;

	fp[0] = '\0';
	if ((rc = conn_open(c, t, NULL, 0)) != TX_OK)
		return rc;
	say("OK reachable: sshd answers on %s port %d", t->peer, t->port);
	hostkey_print(c->s, first, sizeof(first));
	if (t->verbose)
		say("   the peer presents %s", first);
	keyscan_hint(t, hint, sizeof(hint));
	if (stat(t->knownhosts, &st) == -1) {
		rc = fail(TX_HOSTKEY_UNKNOWN, "host key unknown: %s: %s, so no "
		    "peer's key is known (%s is presented) — %s", t->knownhosts,
		    strerror(errno), first, hint);
		conn_close(c);
		return rc;
	}
	if ((kh = libssh2_knownhost_init(c->s)) == NULL) {
		conn_close(c);
		return fail(TX_INTERNAL, "known_hosts: out of memory");
	}
	if ((n = libssh2_knownhost_readfile(kh, t->knownhosts,
	    LIBSSH2_KNOWNHOST_FILE_OPENSSH)) < 0) {
		rc = fail(TX_HOSTKEY_UNKNOWN, "host key unknown: cannot read %s: "
		    "%s — check the file (one \"host keytype key\" line per key)",
		    t->knownhosts, ssh_error(c->s));
		libssh2_knownhost_free(kh);
		conn_close(c);
		return rc;
	}
	r = hostkey_check(kh, t, c->s, 0);
	other_type = r == LIBSSH2_KNOWNHOST_CHECK_NOTFOUND &&
	    hostkey_check(kh, t, c->s, 1) != LIBSSH2_KNOWNHOST_CHECK_NOTFOUND;
	if (other_type) {
		/* known, with another key type: ask for the others */
		libssh2_knownhost_free(kh);
		kh = NULL;
		for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
			conn_close(c);
			if (conn_open(c, t, algs[i], 1) != TX_OK)
				continue;       /* the peer has no such key */
			if ((kh = libssh2_knownhost_init(c->s)) == NULL ||
			    libssh2_knownhost_readfile(kh, t->knownhosts,
			    LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0)
				break;
			r = hostkey_check(kh, t, c->s, 0);
			if (r != LIBSSH2_KNOWNHOST_CHECK_NOTFOUND)
				break;
			libssh2_knownhost_free(kh);
			kh = NULL;
		}
		if (c->s == NULL || kh == NULL)
			r = LIBSSH2_KNOWNHOST_CHECK_NOTFOUND;
	}
	if (kh != NULL)
		libssh2_knownhost_free(kh);
	if (c->s != NULL)
		hostkey_print(c->s, fp, sizeof(fp));
	switch (r) {
	case LIBSSH2_KNOWNHOST_CHECK_MATCH:
		say("OK host key: %s presents %s, as %s says", t->peer, fp,
		    t->knownhosts);
		return TX_OK;
	case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
		rc = hostkey_changed(t, fp);
		break;
	case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
		if (other_type)
			rc = fail(TX_HOSTKEY_UNKNOWN, "host key unknown: %s holds "
			    "%s (port %d) only with a key type this check could "
			    "not get from it (an RSA key needs rsa-sha2-256/512, "
			    "which older libssh2 lacks); it presents %s — run, "
			    "as %s: ssh-keyscan "
			    "-t ed25519,ecdsa -p %d %s >> %s — after comparing "
			    "the fingerprint with `ssh-keygen -lf "
			    "/etc/ssh/ssh_host_*_key.pub` on the peer",
			    t->knownhosts, t->peer, t->port, first, t->user,
			    t->port, t->peer, t->knownhosts);
		else
			rc = fail(TX_HOSTKEY_UNKNOWN, "host key unknown: %s (port "
			    "%d) is not in %s (it presents %s) — %s", t->peer,
			    t->port, t->knownhosts, first, hint);
		break;
	default:
		rc = fail(TX_INTERNAL, "cannot check the host key of %s: %s",
		    t->peer, c->s != NULL ? ssh_error(c->s) : "connection lost");
		break;
	}
	conn_close(c);
	return rc;
}

static int
authenticate(struct conn *c, const struct target *t)
{
	const char *methods;
	int r;

	methods = libssh2_userauth_list(c->s, t->user,
	    (unsigned int)strlen(t->user));
	if (methods == NULL) {
		if (libssh2_userauth_authenticated(c->s)) {
			say("OK login: %s lets %s in without any key", t->peer,
			    t->user);
			return TX_OK;
		}
		return fail(TX_KEY_REFUSED, "key refused: %s closed the login of "
		    "%s: %s — check the peer's sshd log", t->peer, t->user,
		    ssh_error(c->s));
	}
	if (t->verbose)
		say("   the peer offers authentication: %s", methods);
	if (strstr(methods, "publickey") == NULL)
		return fail(TX_KEY_REFUSED, "key refused: %s accepts no SSH keys "
		    "for %s (only %s) — set PubkeyAuthentication yes in the "
		    "peer's sshd_config", t->peer, t->user, methods);
	r = libssh2_userauth_publickey_fromfile_ex(c->s, t->user,
	    (unsigned int)strlen(t->user), t->pub[0] ? t->pub : NULL, t->key,
	    NULL);
	if (r == 0) {
		say("OK login: %s accepts the key of %s without a password",
		    t->peer, t->user);
		return TX_OK;
	}
	if (r == LIBSSH2_ERROR_FILE)
		return fail(TX_LOCAL, "cannot use key %s: %s — a key with a "
		    "passphrase cannot be used by the sync; create one without: "
		    "ssh-keygen -t ed25519 -N '' -f %s", t->key, ssh_error(c->s),
		    t->key);
	if (r == LIBSSH2_ERROR_TIMEOUT || r == LIBSSH2_ERROR_SOCKET_RECV ||
	    r == LIBSSH2_ERROR_SOCKET_SEND || r == LIBSSH2_ERROR_SOCKET_DISCONNECT)
		return fail(TX_UNREACHABLE, "unreachable: %s stopped answering "
		    "during the login: %s", t->peer, ssh_error(c->s));
	return fail(TX_KEY_REFUSED, "key refused: %s does not accept %s for "
	    "user %s — append %s.pub to ~%s/.ssh/authorized_keys on the peer "
	    "(ssh-copy-id -i %s.pub -p %d %s@%s), with ~%s/.ssh mode 700 and "
	    "the file mode 600", t->peer, t->key, t->user, t->key, t->user,
	    t->key, t->port, t->user, t->peer, t->user);
}

/* Read a channel stream to its end, keeping the first outlen-1 bytes. */
static int
drain(LIBSSH2_CHANNEL *ch, int stream, char *out, size_t outlen)
{
	char buf[1024];
	size_t have = 0;
	ssize_t n;

	for (;;) {
		n = libssh2_channel_read_ex(ch, stream, buf, sizeof(buf));
		if (n == 0)
			break;
		if (n < 0)
			return (int)n;
		if (have + 1 < outlen) {
			size_t take = (size_t)n;

			if (take > outlen - 1 - have)
				take = outlen - 1 - have;
			memcpy(out + have, buf, take);
			have += take;
		}
	}
	out[have] = '\0';
	return 0;
}

/* Keep one line of s, blanks squeezed: the first that mentions word (a
 * login script's complaints may come before the one that matters), else
 * the first. */
static void
one_line(char *s, const char *word)
{
	char *r, *w, *line;

	for (line = s; *line != '\0'; line += strcspn(line, "\n") +
	    (line[strcspn(line, "\n")] == '\n')) {
		size_t len = strcspn(line, "\n");

		if (memmem(line, len, word, strlen(word)) != NULL) {
			memmove(s, line, strlen(line) + 1);
			break;
		}
	}
	s[strcspn(s, "\r\n")] = '\0';
	for (r = w = s; *r != '\0'; r++)
		if (*r != ' ' || (w > s && w[-1] != ' '))
			*w++ = *r;
	*w = '\0';
}

static int
check_rsync(struct conn *c, const struct target *t)
{
	static const char cmd[] = "rsync --version";
	LIBSSH2_CHANNEL *ch;
	char out[4096], errs[4096];
	int r, status;

	if ((ch = libssh2_channel_open_session(c->s)) == NULL)
		return fail(TX_RSYNC_MISSING, "rsync missing on the peer: %s "
		    "lets %s in but opens no session: %s — check sshd_config "
		    "there (ForceCommand, Match blocks)", t->peer, t->user,
		    ssh_error(c->s));
	if (libssh2_channel_exec(ch, cmd) != 0) {
		r = fail(TX_RSYNC_MISSING, "rsync missing on the peer: %s refuses "
		    "to run commands for %s: %s", t->peer, t->user,
		    ssh_error(c->s));
		libssh2_channel_free(ch);
		return r;
	}
	r = drain(ch, 0, out, sizeof(out));
	if (r == 0)
		r = drain(ch, SSH_EXTENDED_DATA_STDERR, errs, sizeof(errs));
	if (r == 0) {
		libssh2_channel_close(ch);
		libssh2_channel_wait_closed(ch);
	}
	status = libssh2_channel_get_exit_status(ch);
	libssh2_channel_free(ch);
	if (r != 0)
		return fail(TX_UNREACHABLE, "unreachable: %s stopped answering "
		    "while running `%s`: %s", t->peer, cmd, ssh_error(c->s));
	one_line(out, "rsync");
	one_line(errs, "rsync");
	if (status == 0 && strncmp(out, "rsync ", 6) == 0) {
		say("OK rsync on the peer: %s", out);
		return TX_OK;
	}
	if (status == 127 || strstr(errs, "not found") != NULL)
		return fail(TX_RSYNC_MISSING, "rsync missing on the peer: `%s` as "
		    "%s on %s: %s — install it there (apt-get install rsync), in "
		    "a folder of %s's PATH", cmd, t->user, t->peer,
		    errs[0] ? errs : "command not found", t->user);
	return fail(TX_RSYNC_MISSING, "rsync missing on the peer: `%s` as %s on "
	    "%s exited %d%s%s — check rsync there (apt-get install --reinstall "
	    "rsync)", cmd, t->user, t->peer, status, errs[0] ? ": " : "",
	    errs[0] ? errs : out);
}

static int
check_peer(const struct target *t)
{
	struct conn c = { -1, NULL };
	int rc;

	if (t->verbose)
		say("   peer %s port %d, user %s, key %s, known_hosts %s",
		    t->peer, t->port, t->user, t->key, t->knownhosts);
	if ((rc = connect_verified(&c, t)) != TX_OK)
		return rc;
	if ((rc = authenticate(&c, t)) == TX_OK &&
	    (rc = check_rsync(&c, t)) == TX_OK)
		say("OK %s: the file sync can log in as %s and run rsync",
		    t->peer, t->user);
	conn_close(&c);
	return rc;
}

/* ---- settings ------------------------------------------------------------ */

/* ~user/.ssh/NAME into out. */
static void
ssh_file(const char *home, const char *name, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/.ssh/%s", home, name);
}

static int
default_key(const char *home, char *out, size_t outlen)
{
	static const char *const names[] = { "id_ed25519", "id_ecdsa",
	    "id_rsa" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		ssh_file(home, names[i], out, outlen);
		if (access(out, F_OK) == 0)
			return 0;
	}
	ssh_file(home, names[0], out, outlen);
	return -1;
}

int
main(int argc, char **argv)
{
	static char user[64], key[1100], known[1100];
	struct opts o;
	struct target t;
	struct hacfg h;
	struct passwd *pw;
	struct cfg c;
	const char *home = NULL;
	int ch, i, rc = TX_OK, r, npeers = 0;

	memset(&o, 0, sizeof(o));
	o.cfgfile = HACFG_DEFAULT_PATH;
	while ((ch = getopt(argc, argv, "f:p:u:i:P:k:vh")) != -1) {
		switch (ch) {
		case 'f':
			o.cfgfile = optarg;
			break;
		case 'p':
			o.peer = optarg;
			break;
		case 'u':
			o.user = optarg;
			break;
		case 'i':
			o.key = optarg;
			break;
		case 'P':
			o.port = atoi(optarg);
			if (o.port < 1 || o.port > 65535 ||
			    strspn(optarg, "0123456789") != strlen(optarg))
				die_usage("-P %s: expected a port number between "
				    "1 and 65535", optarg);
			break;
		case 'k':
			o.knownhosts = optarg;
			break;
		case 'v':
			o.verbose = 1;
			break;
		case 'h':
			usage(stdout);
		default:
			usage(stderr);
		}
	}
	if (optind != argc)
		die_usage("unexpected argument '%s'", argv[optind]);

	if (hacfg_load(&c, o.cfgfile) != 0) {
		cfg_print_errors(&c);
		fprintf(stderr, "haTrustCheck: fix %s first (%zu error%s)\n",
		    o.cfgfile, c.nerrors, c.nerrors == 1 ? "" : "s");
		cfg_free(&c);
		return TX_USAGE;
	}
	hacfg_view(&c, &h);

	memset(&t, 0, sizeof(t));
	t.verbose = o.verbose;
	t.port = o.port ? o.port : (int)cfg_num(&c, "highAvail.sshPort");
	if (o.user != NULL) {
		if (util_strlcpy(user, o.user, sizeof(user)) >= sizeof(user))
			die_usage("-u %s: a user name is at most %zu characters",
			    o.user, sizeof(user) - 1);
	} else if (cfg_str(&c, "highAvail.rsyncUser")[0] != '\0')
		util_strlcpy(user, cfg_str(&c, "highAvail.rsyncUser"),
		    sizeof(user));
	else if ((pw = getpwuid(geteuid())) != NULL)
		util_strlcpy(user, pw->pw_name, sizeof(user));
	else
		die_usage("who am I? uid %u has no name: give the user with -u",
		    (unsigned)geteuid());
	t.user = user;
	if ((pw = getpwnam(user)) != NULL)
		home = pw->pw_dir;
	if (o.key != NULL)
		t.key = o.key;
	else if (cfg_isset(&c, "highAvail.sshKeyFile"))
		t.key = cfg_str(&c, "highAvail.sshKeyFile");
	else if (home == NULL)
		die_usage("user %s does not exist on this node: give the key "
		    "with -i (or set highAvail.sshKeyFile)", user);
	else {
		default_key(home, key, sizeof(key));
		t.key = key;
	}
	if (o.knownhosts != NULL)
		t.knownhosts = o.knownhosts;
	else if (cfg_isset(&c, "highAvail.knownHostsFile"))
		t.knownhosts = cfg_str(&c, "highAvail.knownHostsFile");
	else if (home == NULL)
		die_usage("user %s does not exist on this node: give known_hosts "
		    "with -k (or set highAvail.knownHostsFile)", user);
	else {
		ssh_file(home, "known_hosts", known, sizeof(known));
		t.knownhosts = known;
	}
	if (o.peer == NULL && h.self == -1)
		die_usage("highAvail.myAddr is not set in %s, so its peers are "
		    "unknown: give the peer with -p", o.cfgfile);

	signal(SIGPIPE, SIG_IGN);
	if ((rc = check_tools()) != TX_OK || (rc = check_key(&t)) != TX_OK) {
		cfg_free(&c);
		return rc;
	}
	if (libssh2_init(0) != 0) {
		cfg_free(&c);
		return fail(TX_INTERNAL, "libssh2 failed to start");
	}
	for (i = 0; i < (o.peer != NULL ? 1 : h.nnodes); i++) {
		if (o.peer != NULL)
			t.peer = o.peer;
		else if (i == h.self)
			continue;
		else
			t.peer = h.nodes[i].addr;
		npeers++;
		r = check_peer(&t);
		if (rc == TX_OK)
			rc = r;
	}
	libssh2_exit();
	cfg_free(&c);
	if (npeers == 0) {
		fprintf(stderr, "haTrustCheck: %s names no peer (set "
		    "highAvail.primaryAddr and highAvail.secondaryAddr), or give "
		    "one with -p\n", o.cfgfile);
		return TX_USAGE;
	}
	return rc;
}
