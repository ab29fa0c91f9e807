/* halinkctl — speak hasvr's side of the ha-link by hand: give guisvr a
 * role, read its replication state, turn database sync on or off, give it
 * an arbiter lease or the synchronous-standby set, watch its replication
 * events. It is what hasvr sends, for tests and for troubleshooting a
 * node whose hasvr is not running.
 *
 * Exit status: 0 done, 1 error (the message names the cause), 2 usage. */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "guicfg.h"
#include "halink.h"
#include "hlstate.h"
#include "util.h"

#define EXIT_USAGE 2

static void usage(FILE *fp) __attribute__((noreturn));

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: halinkctl [-f guiSvr.cfg | -s socket] COMMAND ...\n"
	    "  role primary|secondary [-e EPOCH] [-p EID]\n"
	    "                                      give guisvr its role (epoch "
	    "default 0);\n"
	    "                                      a secondary follows only "
	    "node EID\n"
	    "                                      (0 nobody yet; default: any "
	    "master)\n"
	    "  state                               print the replication state\n"
	    "  sync on|off                         database replication on or off\n"
	    "  lease MS                            arbiter lease: primary for MS "
	    "more ms\n"
	    "                                      (0: not any more); the first "
	    "one turns\n"
	    "                                      arbiter mode on until guisvr "
	    "restarts\n"
	    "  syncset MASK                        synchronous-standby set: "
	    "bit EID-1 of\n"
	    "                                      MASK (0..255, or 0x00..0xff) "
	    "= secondary\n"
	    "                                      EID listed; the first one "
	    "turns arbiter\n"
	    "                                      sync mode on until guisvr "
	    "restarts\n"
	    "  events [-t SECONDS] [-n COUNT]      print events as they happen, "
	    "until\n"
	    "                                      COUNT lines or SECONDS passed\n"
	    "The socket comes from -s, else from guiSvr.varDir in the config "
	    "file\n(default %s): varDir/run/guiSvr.halink.\n",
	    GUICFG_DEFAULT_PATH);
	exit(fp == stdout ? 0 : EXIT_USAGE);
}

/* The ha-link socket named by guiSvr.cfg (defaults when the default file
 * does not exist; a file given with -f must). */
static void
socket_path(const char *cfgfile, int must_exist, char *out, size_t outlen)
{
	struct guicfg_paths p;
	struct stat st;
	struct cfg c;
	char why[HASVR_ERRLEN];

	cfg_init(&c, guicfg_keys, guicfg_nkeys);
	if ((stat(cfgfile, &st) == 0 || must_exist) &&
	    cfg_parse_file(&c, cfgfile) != 0) {
		fprintf(stderr, "halinkctl: %s (%zu error%s in all; fix the file "
		    "or give the socket with -s)\n", c.errors[0], c.nerrors,
		    c.nerrors == 1 ? "" : "s");
		cfg_free(&c);
		exit(1);
	}
	if (guicfg_paths(&c, &p, why, sizeof(why)) == -1) {
		cfg_free(&c);
		errx(1, "%s: %s", cfgfile, why);
	}
	cfg_free(&c);
	if (util_strlcpy(out, p.halink, outlen) >= outlen)
		errx(1, "%s: ha-link socket path %s is too long", cfgfile, p.halink);
}

/* A whole number in [lo, hi], or a usage error naming the option. */
static long long
number(const char *s, long long lo, long long hi, const char *what)
{
	long long v;
	char *end;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi)
		errx(EXIT_USAGE, "%s '%s': expected a number from %lld to %lld", what, s,
		    lo, hi);
	return v;
}

/* A mask of eids: decimal, or hexadecimal after 0x. */
static uint8_t
mask(const char *s)
{
	unsigned long v;
	const char *digits = s;
	char *end;
	int base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		digits = s + 2;
		base = 16;
	}
	errno = 0;
	v = strtoul(digits, &end, base);
	if (*digits == '\0' || *end != '\0' || errno != 0 || v > 255 ||
	    digits[0] == '-' || digits[0] == '+' || digits[0] == ' ')
		errx(EXIT_USAGE, "syncset '%s': expected a mask from 0 to 255 (or "
		    "0x00 to 0xff), bit EID-1 set for each listed secondary", s);
	return (uint8_t)v;
}

/* Connect after the arguments are checked, so a usage error is one. */
static struct hlc *
link_open(const char *sock)
{
	char err[HASVR_ERRLEN];
	struct hlc *h;

	if ((h = halink_connect(sock, err, sizeof(err))) == NULL)
		errx(1, "%s", err);
	return h;
}

static int
cmd_role(const char *sock, int argc, char **argv)
{
	struct hlc *h;
	char err[HASVR_ERRLEN];
	uint32_t epoch = 0, primary = HA_PRIMARY_ANY;
	int role, rc, i;

	if (argc < 2)
		errx(EXIT_USAGE, "usage: role primary|secondary [-e EPOCH] "
		    "[-p PRIMARY_EID]");
	role = ha_role_parse(argv[1]);
	if (role != HA_ROLE_PRIMARY && role != HA_ROLE_SECONDARY)
		errx(EXIT_USAGE, "role '%s': expected primary or secondary", argv[1]);
	for (i = 2; i < argc; i += 2) {
		if (i + 1 >= argc)
			errx(EXIT_USAGE, "usage: role primary|secondary "
			    "[-e EPOCH] [-p PRIMARY_EID]");
		if (strcmp(argv[i], "-e") == 0)
			epoch = (uint32_t)number(argv[i + 1], 0, UINT32_MAX,
			    "-e");
		else if (strcmp(argv[i], "-p") == 0 && role ==
		    HA_ROLE_SECONDARY)
			primary = (uint32_t)number(argv[i + 1], 0, 255, "-p");
		else
			errx(EXIT_USAGE, "usage: role primary|secondary "
			    "[-e EPOCH] [-p PRIMARY_EID]");
	}
	h = link_open(sock);
	if ((rc = halink_role(h, role, epoch, role == HA_ROLE_PRIMARY ?
	    HA_PRIMARY_NONE : primary, err, sizeof(err))) != 0)
		errx(1, "%s", err);
	halink_close(h);
	printf("role %s (epoch %u) accepted\n", ha_role_word(role), epoch);
	return 0;
}

static int
cmd_state(const char *sock, int argc, char **argv)
{
	char err[HASVR_ERRLEN], text[8192];
	struct hl_state st;
	struct hlc *h;

	(void)argv;
	if (argc != 1)
		errx(EXIT_USAGE, "usage: state");
	h = link_open(sock);
	if (halink_state(h, &st, err, sizeof(err)) != 0)
		errx(1, "%s", err);
	hl_state_format(&st, text, sizeof(text));
	fputs(text, stdout);
	halink_close(h);
	return 0;
}

static int
cmd_sync(const char *sock, int argc, char **argv)
{
	char err[HASVR_ERRLEN];
	struct hlc *h;
	int on;

	if (argc != 2)
		errx(EXIT_USAGE, "usage: sync on|off");
	if (strcmp(argv[1], "on") == 0)
		on = 1;
	else if (strcmp(argv[1], "off") == 0)
		on = 0;
	else
		errx(EXIT_USAGE, "sync '%s': expected on or off", argv[1]);
	h = link_open(sock);
	if (halink_sync(h, on, err, sizeof(err)) != 0)
		errx(1, "%s", err);
	halink_close(h);
	printf("database sync %s\n", on ? "on" : "off");
	return 0;
}

static int
cmd_lease(const char *sock, int argc, char **argv)
{
	char err[HASVR_ERRLEN];
	struct hlc *h;
	uint32_t ms;

	if (argc != 2)
		errx(EXIT_USAGE, "usage: lease MS");
	ms = (uint32_t)number(argv[1], 0, UINT32_MAX, "lease");
	h = link_open(sock);
	if (halink_lease(h, ms, err, sizeof(err)) != 0)
		errx(1, "%s", err);
	halink_close(h);
	if (ms > 0)
		printf("lease of %u ms accepted\n", ms);
	else
		printf("lease ended\n");
	return 0;
}

static int
cmd_syncset(const char *sock, int argc, char **argv)
{
	char err[HASVR_ERRLEN];
	struct hlc *h;
	uint8_t m;

	if (argc != 2)
		errx(EXIT_USAGE, "usage: syncset MASK");
	m = mask(argv[1]);
	h = link_open(sock);
	if (halink_syncset(h, m, err, sizeof(err)) != 0)
		errx(1, "%s", err);
	halink_close(h);
	printf("synchronous-standby set 0x%02x accepted\n", m);
	return 0;
}

static int
cmd_events(const char *sock, int argc, char **argv)
{
	char err[HASVR_ERRLEN], *text;
	struct hlc *h;
	long long secs = -1, count = -1, got = 0;
	uint64_t deadline = 0, now;
	int i, rc, wait;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-t") == 0 && i + 1 < argc)
			secs = number(argv[++i], 0, 86400 * 365, "-t");
		else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			count = number(argv[++i], 1, LLONG_MAX, "-n");
		else
			errx(EXIT_USAGE, "usage: events [-t SECONDS] [-n COUNT]");
	}
	h = link_open(sock);
	if (halink_subscribe(h, err, sizeof(err)) != 0)
		errx(1, "%s", err);
	if (secs >= 0)
		deadline = util_now_ms() + (uint64_t)secs * 1000;
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (count < 0 || got < count) {
		wait = -1;
		if (secs >= 0) {
			if ((now = util_now_ms()) >= deadline)
				break;
			wait = (int)(deadline - now > INT_MAX ? INT_MAX :
			    deadline - now);
		}
		rc = halink_next_event(h, wait, &text, err, sizeof(err));
		if (rc == 0)
			break;
		if (rc == -1)
			errx(1, "%s", err);
		printf("%s\n", text);
		free(text);
		got++;
	}
	halink_close(h);
	return 0;
}

int
main(int argc, char *argv[])
{
	const char *cfgfile = GUICFG_DEFAULT_PATH, *sock = NULL;
	char path[256];
	int ch, cfg_given = 0;

	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt(argc, argv, "+f:s:h")) != -1) {
		switch (ch) {
		case 'f':
			cfgfile = optarg;
			cfg_given = 1;
			break;
		case 's':
			sock = optarg;
			break;
		case 'h':
			usage(stdout);
		default:
			usage(stderr);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage(stderr);
	if (sock != NULL && cfg_given)
		errx(EXIT_USAGE, "give either -f or -s, not both");
	if (strcmp(argv[0], "role") != 0 && strcmp(argv[0], "state") != 0 &&
	    strcmp(argv[0], "sync") != 0 && strcmp(argv[0], "lease") != 0 &&
	    strcmp(argv[0], "syncset") != 0 && strcmp(argv[0], "events") != 0)
		errx(EXIT_USAGE, "unknown command '%s' (role, state, sync, lease, "
		    "syncset or events)", argv[0]);
	if (sock == NULL) {
		socket_path(cfgfile, cfg_given, path, sizeof(path));
		sock = path;
	}
	if (strcmp(argv[0], "role") == 0)
		return cmd_role(sock, argc, argv);
	if (strcmp(argv[0], "state") == 0)
		return cmd_state(sock, argc, argv);
	if (strcmp(argv[0], "sync") == 0)
		return cmd_sync(sock, argc, argv);
	if (strcmp(argv[0], "lease") == 0)
		return cmd_lease(sock, argc, argv);
	if (strcmp(argv[0], "syncset") == 0)
		return cmd_syncset(sock, argc, argv);
	return cmd_events(sock, argc, argv);
}
