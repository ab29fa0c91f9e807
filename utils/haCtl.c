/* haCtl — ask hasvr to do something: switch roles for maintenance, promote
 * this node when the primary is dead, re-sync this node's database, turn
 * HA, database or file sync on or off, run the file sync now, or show the
 * status (as haStatus). Requests that change something are accepted only
 * from root or hasvr's own user; hasvr says what it did, or why not.
 *
 * Exit status: 0 done (hasvr's message on stdout), 1 refused by hasvr (its
 * reason on stderr), 3 hasvr not running, 4 bad usage or no readable
 * answer. status exits as haStatus does. */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hactl.h"
#include "hastatus.h"
#include "util.h"

#define EXIT_REFUSED    1
#define EXIT_NOTRUNNING HASTATUS_NOT_RUNNING
#define EXIT_USAGE      HASTATUS_UNKNOWN

static void usage(FILE *fp) __attribute__((noreturn));

static void
usage(FILE *fp)
{
	char def[256];

	if (hactl_socket_path(NULL, def, sizeof(def)) == -1)
		snprintf(def, sizeof(def), "(too long)");
	fprintf(fp,
	    "usage: haCtl [-s socket | -f haSvr.cfg] COMMAND ...\n"
	    "  switchover [EID|ADDR]   planned role swap: this primary hands "
	    "over to the\n"
	    "                          given secondary (default: the most "
	    "up-to-date one)\n"
	    "  promote [--force]       make this node primary when the primary "
	    "is dead\n"
	    "                          (--force: even though its heartbeat is "
	    "heard)\n"
	    "  resync                  re-copy this secondary's database from "
	    "the primary\n"
	    "  sync ha|db|files on|off HA sync as a whole, database replication "
	    "or file\n"
	    "                          sync only, on or off\n"
	    "  filesync                run the file sync (.haDoDirect) now\n"
	    "  status [--json] [-w SECONDS]   as haStatus\n"
	    "The socket comes from -s, else highAvail.varDir/run/%s of -f, "
	    "else\n%s.\n"
	    "Exit status: 0 done, 1 refused by hasvr, 3 hasvr not running, 4 "
	    "bad usage\nor no readable answer.\n", HACTL_SOCKET_NAME, def);
	exit(fp == stdout ? 0 : EXIT_USAGE);
}

/* A whole number in [lo, hi], or -1. */
static long long
number(const char *s, long long lo, long long hi)
{
	long long v;
	char *end;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi)
		return -1;
	return v;
}

static int
is_addr(const char *s)
{
	unsigned char a[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

static struct hcc *
ctl_open(const char *sock)
{
	char err[HASVR_ERRLEN];
	struct hcc *c;

	if ((c = hactl_connect(sock, err, sizeof(err))) == NULL)
		errx(hactl_not_running(errno) ? EXIT_NOTRUNNING : EXIT_USAGE,
		    "%s", err);
	return c;
}

/* The eid of the peer at addr, from hasvr's own view of its peers. */
static uint32_t
peer_eid(struct hcc *c, const char *addr)
{
	char err[HASVR_ERRLEN], *json;
	uint32_t eid;

	if (hactl_status(c, &json, err, sizeof(err)) != 0)
		errx(EXIT_USAGE, "cannot look up %s: %s", addr, err);
	if (hastatus_peer_eid(json, addr, &eid, err, sizeof(err)) == -1) {
		free(json);
		errx(EXIT_USAGE, "switchover %s: %s", addr, err);
	}
	free(json);
	return eid;
}

/* Sends r, prints hasvr's answer, returns the exit status. */
static int
send_request(struct hcc *c, const struct hc_req *r, const char *what)
{
	char msg[HASVR_ERRLEN];
	int rc;

	rc = hactl_request(c, r, msg, sizeof(msg));
	hactl_close(c);
	if (rc == 0) {
		printf("%s\n", msg[0] ? msg : "done");
		return 0;
	}
	if (rc > 0) {
		/* hasvr's message says why and what to do; most start with
		 * the request ("promote refused: …") */
		if (msg[0] == '\0')
			warnx("%s refused (%s)", what, proto_errname(rc));
		else if (strncmp(msg, what, strlen(what)) == 0)
			warnx("%s", msg);
		else
			warnx("%s: %s", what, msg);
		return EXIT_REFUSED;
	}
	if (r->type == HC_STATUS || r->type == HC_SYNC)
		warnx("%s: %s", what, msg);
	else
		warnx("%s: %s (hasvr may have acted on it: check with haStatus)",
		    what, msg);
	return EXIT_USAGE;
}

static int
cmd_switchover(const char *sock, int argc, char **argv)
{
	struct hc_req r = { .type = HC_SWITCHOVER };
	struct hcc *c;
	long long eid = 0;

	if (argc > 2)
		errx(EXIT_USAGE, "usage: switchover [EID|ADDR]");
	if (argc == 2 && strspn(argv[1], "0123456789") == strlen(argv[1]) &&
	    (eid = number(argv[1], 1, UINT32_MAX)) == -1)
		errx(EXIT_USAGE, "switchover %s: an eid is a number from 1 to "
		    "%u (haStatus shows them)", argv[1], UINT32_MAX);
	if (argc == 2 && eid == 0 && !is_addr(argv[1]))
		errx(EXIT_USAGE, "switchover '%s': expected a peer's eid or its "
		    "numeric IPv4 or IPv6 address (haStatus shows both)",
		    argv[1]);
	c = ctl_open(sock);
	if (argc == 2 && eid == 0)
		eid = peer_eid(c, argv[1]);
	r.target_eid = (uint32_t)eid;
	return send_request(c, &r, "switchover");
}

static int
cmd_promote(const char *sock, int argc, char **argv)
{
	struct hc_req r = { .type = HC_PROMOTE };

	if (argc == 2 && strcmp(argv[1], "--force") == 0)
		r.force = 1;
	else if (argc != 1)
		errx(EXIT_USAGE, "usage: promote [--force]");
	return send_request(ctl_open(sock), &r, "promote");
}

static int
cmd_simple(const char *sock, int argc, char **argv, int type)
{
	struct hc_req r = { .type = (uint16_t)type };

	if (argc != 1)
		errx(EXIT_USAGE, "usage: %s (no arguments)", argv[0]);
	return send_request(ctl_open(sock), &r, argv[0]);
}

static int
cmd_sync(const char *sock, int argc, char **argv)
{
	struct hc_req r = { .type = HC_SYNC };
	char what[64];

	if (argc != 3)
		errx(EXIT_USAGE, "usage: sync ha|db|files on|off");
	if ((r.what = hactl_sync_what_parse(argv[1])) == -1)
		errx(EXIT_USAGE, "sync '%s': expected ha (all HA sync), db "
		    "(database replication) or files (rsync)", argv[1]);
	if (strcmp(argv[2], "on") == 0)
		r.enable = 1;
	else if (strcmp(argv[2], "off") != 0)
		errx(EXIT_USAGE, "sync %s '%s': expected on or off", argv[1],
		    argv[2]);
	snprintf(what, sizeof(what), "sync %s %s", argv[1], argv[2]);
	return send_request(ctl_open(sock), &r, what);
}

static int
cmd_status(const char *sock, int argc, char **argv)
{
	long long w;
	long wait_secs = 0;
	int i, as_json = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			as_json = 1;
		else if (strcmp(argv[i], "-w") == 0 && i + 1 < argc) {
			if ((w = number(argv[++i], 0, 86400)) == -1)
				errx(EXIT_USAGE, "-w '%s': expected a number of "
				    "seconds from 0 to 86400", argv[i]);
			wait_secs = (long)w;
		} else
			errx(EXIT_USAGE, "usage: status [--json] [-w SECONDS]");
	}
	return hastatus_run(sock, as_json, wait_secs);
}

int
main(int argc, char *argv[])
{
	const char *cfgfile = NULL, *sock = NULL;
	char path[256], err[HASVR_ERRLEN];
	int ch;

	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt(argc, argv, "+f:s:h")) != -1) {
		switch (ch) {
		case 'f':
			cfgfile = optarg;
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
	if (sock != NULL && cfgfile != NULL)
		errx(EXIT_USAGE, "give either -f or -s, not both");
	if (strcmp(argv[0], "switchover") != 0 &&
	    strcmp(argv[0], "promote") != 0 && strcmp(argv[0], "resync") != 0 &&
	    strcmp(argv[0], "sync") != 0 && strcmp(argv[0], "filesync") != 0 &&
	    strcmp(argv[0], "status") != 0)
		errx(EXIT_USAGE, "unknown command '%s' (switchover, promote, "
		    "resync, sync, filesync or status; see haCtl -h)", argv[0]);
	if (cfgfile != NULL) {
		if (hactl_cfg_socket(cfgfile, path, sizeof(path), err,
		    sizeof(err)) == -1)
			errx(EXIT_USAGE, "%s", err);
		sock = path;
	}
	if (strcmp(argv[0], "switchover") == 0)
		return cmd_switchover(sock, argc, argv);
	if (strcmp(argv[0], "promote") == 0)
		return cmd_promote(sock, argc, argv);
	if (strcmp(argv[0], "resync") == 0)
		return cmd_simple(sock, argc, argv, HC_RESYNC);
	if (strcmp(argv[0], "filesync") == 0)
		return cmd_simple(sock, argc, argv, HC_FILESYNC);
	if (strcmp(argv[0], "sync") == 0)
		return cmd_sync(sock, argc, argv);
	return cmd_status(sock, argc, argv);
}
