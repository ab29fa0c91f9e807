/* haStatus — the first thing to look at on an HA node: both nodes, their
 * roles and epochs, the services highAvail (hasvr) and highAvailSvr
 * (guisvr) on each, heartbeat age, database in-sync or dirty with the lag,
 * build and config match, rejected heartbeats, pingable IP, file sync, and
 * what is wrong with where to look next. It asks hasvr over its control
 * socket; anyone who can connect to the socket may ask.
 *
 * Exit status: 0 healthy, 1 hasvr runs but something is wrong, 3 hasvr is
 * not running (no socket, nobody listening), 4 bad usage or an answer that
 * cannot be read. */
#include <err.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hactl.h"
#include "hastatus.h"
#include "util.h"

static void usage(FILE *fp) __attribute__((noreturn));

static void
usage(FILE *fp)
{
	char def[256];

	if (hactl_socket_path(NULL, def, sizeof(def)) == -1)
		snprintf(def, sizeof(def), "(too long)");
	fprintf(fp,
	    "usage: haStatus [-s socket | -f haSvr.cfg] [--json] [-w SECONDS]\n"
	    "  -s socket     hasvr's control socket (default %s)\n"
	    "  -f haSvr.cfg  use highAvail.varDir/run/%s of this config\n"
	    "  --json        print hasvr's status JSON instead of the table\n"
	    "  -w SECONDS    wait up to SECONDS for the node to become healthy\n"
	    "Exit status: 0 healthy, 1 not healthy (problems listed), 3 hasvr "
	    "not running,\n4 bad usage or unreadable answer.\n",
	    def, HACTL_SOCKET_NAME);
	exit(fp == stdout ? 0 : HASTATUS_UNKNOWN);
}

static long
seconds(const char *s)
{
	long long v;
	char *end;

	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < 0 || v > 86400)
		errx(HASTATUS_UNKNOWN, "-w '%s': expected a number of seconds "
		    "from 0 to 86400", s);
	return (long)v;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cfgfile = NULL, *sock = NULL;
	char path[256], err[HASVR_ERRLEN];
	long wait_secs = 0;
	int ch, as_json = 0;

	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt_long(argc, argv, "f:s:w:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			cfgfile = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case 'w':
			wait_secs = seconds(optarg);
			break;
		case 'j':
			as_json = 1;
			break;
		case 'h':
			usage(stdout);
		default:
			usage(stderr);
		}
	}
	if (optind != argc)
		errx(HASTATUS_UNKNOWN, "unexpected argument '%s' (see haStatus "
		    "-h)", argv[optind]);
	if (sock != NULL && cfgfile != NULL)
		errx(HASTATUS_UNKNOWN, "give either -f or -s, not both");
	if (cfgfile != NULL) {
		if (hactl_cfg_socket(cfgfile, path, sizeof(path), err,
		    sizeof(err)) == -1)
			errx(HASTATUS_UNKNOWN, "%s", err);
		sock = path;
	}
	return hastatus_run(sock, as_json, wait_secs);
}
