/* xdb — view and edit management records by id through guisvr's client
 * service. Read-only unless -w is given, so looking at a record (as in "open
 * in read only mode, enter 0.shadow_server.2") can never change it. */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "guicfg.h"
#include "record.h"
#include "util.h"
#include "xdbclient.h"

#define EXIT_USAGE 2
#define LOAD_BATCH_DEFAULT 500
#define LOAD_BATCH_MAX 100000

struct opts {
	const char *cfgfile;
	int cfg_given;
	const char *sock;
	const char *host, *port, *keyfile;
	int write;
};

static struct opts o;

static void usage(FILE *fp) __attribute__((noreturn));
static void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: xdb [-f guiSvr.cfg] [-s socket] [-H host -P port -k keyfile] [-w] "
	    "COMMAND ...\n"
	    "  get ID                  print a record's attributes\n"
	    "  list [PREFIX] [-l]      ids starting with PREFIX (-l: whole records)\n"
	    "  count [PREFIX]          number of records starting with PREFIX\n"
	    "  put ID name=value ...   replace a whole record          (needs -w)\n"
	    "  set ID name=value ...   set attributes                  (needs -w)\n"
	    "  unset ID name ...       remove attributes               (needs -w)\n"
	    "  del ID                  delete a record                 (needs -w)\n"
	    "  dump [FILE]             all records in text form\n"
	    "  load [-b N] FILE|-      load a dump, N records per batch (needs -w)\n"
	    "  status                  guisvr's status\n"
	    "The socket comes from -s, else from guiSvr.clientSocket in the config\n"
	    "file (default %s). -H/-P/-k use TLS to a remote guisvr.\n",
	    GUICFG_DEFAULT_PATH);
	exit(fp == stdout ? 0 : EXIT_USAGE);
}

static void
die_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("xdb: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (xdb -h for help)\n", stderr);
	exit(EXIT_USAGE);
}

static struct xdbc *
db_connect(void)
{
	char path[1024], err[HASVR_ERRLEN];
	struct xerr e;
	struct xdbc *c;
	char *secret;

	if (o.host != NULL) {
		if ((secret = util_read_key(o.keyfile, 16, err, sizeof(err))) == NULL)
			errx(1, "%s", err);
		/* A peer closing the TLS connection must give an error, not kill us. */
		signal(SIGPIPE, SIG_IGN);
		c = xdbc_connect_tls(o.host, o.port, secret, &e);
		explicit_bzero(secret, strlen(secret));
		free(secret);
	} else {
		if (o.sock != NULL)
			util_strlcpy(path, o.sock, sizeof(path));
		else if (xdbc_socket_path(o.cfgfile, o.cfg_given, path, sizeof(path),
		    err, sizeof(err)) == -1)
			errx(1, "%s", err);
		c = xdbc_connect_unix(path, &e);
	}
	if (c == NULL)
		errx(1, "%s", e.msg);
	return c;
}

static void
check_id(const char *id)
{
	char err[HASVR_ERRLEN];

	if (record_id_valid(id, strlen(id), err, sizeof(err)) == -1)
		errx(1, "%s", err);
}

static void
need_write(const char *cmd)
{
	if (!o.write)
		errx(1, "'%s' changes the database; add -w to allow writes", cmd);
}

/* Server errors: "no such record" is worded for the id asked about. */
static void
die_xerr(const char *id, const struct xerr *e)
{
	if (e->code == XE_NOTFOUND && id != NULL)
		errx(1, "%s: no such record", id);
	errx(1, "%s", e->msg);
}

static void
finish_stdout(void)
{
	if (fflush(stdout) == EOF || ferror(stdout))
		errx(1, "error writing standard output: %s", strerror(errno));
}

static int
cmd_get(int argc, char **argv)
{
	struct record r;
	struct xerr e;
	struct xdbc *c;

	if (argc != 2)
		die_usage("usage: get ID");
	check_id(argv[1]);
	c = db_connect();
	record_init(&r);
	if (xdbc_get(c, argv[1], &r, &e) != 0)
		die_xerr(argv[1], &e);
	record_print(&r, stdout);
	record_free(&r);
	xdbc_close(c);
	return 0;
}

static int
print_id(const struct record *r, void *arg)
{
	printf("%s\n", r->id);
	return ferror(stdout) ? 1 : 0;
}

static int
print_record(const struct record *r, void *arg)
{
	record_write_text(r, arg);
	return ferror((FILE *)arg) ? 1 : 0;
}

static const char *
get_prefix(const char *p)
{
	char err[HASVR_ERRLEN];

	if (p == NULL)
		return "";
	if (!record_prefix_valid(p, strlen(p), err, sizeof(err)))
		errx(1, "%s", err);
	return p;
}

static int
cmd_list(int argc, char **argv)
{
	const char *prefix = NULL;
	struct xerr e;
	struct xdbc *c;
	int i, longform = 0, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-l") == 0)
			longform = 1;
		else if (prefix == NULL && argv[i][0] != '-')
			prefix = argv[i];
		else
			die_usage("usage: list [PREFIX] [-l]");
	}
	prefix = get_prefix(prefix);
	c = db_connect();
	rc = xdbc_list(c, prefix, !longform, 0, longform ? print_record : print_id,
	    stdout, &e);
	if (rc != 0 && e.code != 0)
		die_xerr(NULL, &e);
	xdbc_close(c);
	finish_stdout();
	return 0;
}

static int
cmd_count(int argc, char **argv)
{
	const char *prefix;
	struct xerr e;
	struct xdbc *c;
	uint64_t n;

	if (argc > 2)
		die_usage("usage: count [PREFIX]");
	prefix = get_prefix(argc == 2 ? argv[1] : NULL);
	c = db_connect();
	if (xdbc_count(c, prefix, &n, &e) != 0)
		die_xerr(NULL, &e);
	printf("%" PRIu64 "\n", n);
	xdbc_close(c);
	return 0;
}

/* put and set: ID name=value ... */
static int
cmd_assign(int argc, char **argv)
{
	char err[HASVR_ERRLEN];
	struct record r;
	struct xerr e;
	struct xdbc *c;
	int i, rc, put = strcmp(argv[0], "put") == 0;

	if (argc < 2 || (!put && argc < 3))
		die_usage("usage: %s ID name=value ...", argv[0]);
	need_write(argv[0]);
	check_id(argv[1]);
	record_init(&r);
	if (record_set_id(&r, argv[1], strlen(argv[1])) == -1)
		errx(1, "out of memory");
	for (i = 2; i < argc; i++)
		if (record_parse_assign(argv[i], &r, err, sizeof(err)) == -1)
			errx(1, "%s", err);
	c = db_connect();
	rc = put ? xdbc_put(c, &r, &e) : xdbc_set(c, &r, &e);
	if (rc != 0)
		die_xerr(NULL, &e);
	record_free(&r);
	xdbc_close(c);
	return 0;
}

static int
cmd_unset(int argc, char **argv)
{
	char err[HASVR_ERRLEN];
	struct record r;
	struct xerr e;
	struct xdbc *c;
	int i;

	if (argc < 3)
		die_usage("usage: unset ID name ...");
	need_write(argv[0]);
	check_id(argv[1]);
	record_init(&r);
	if (record_set_id(&r, argv[1], strlen(argv[1])) == -1)
		errx(1, "out of memory");
	for (i = 2; i < argc; i++) {
		if (record_name_valid(argv[i], strlen(argv[i]), err, sizeof(err)) == -1)
			errx(1, "%s", err);
		if (record_set(&r, argv[i], strlen(argv[i]), "", 0) == -1)
			errx(1, "out of memory");
	}
	c = db_connect();
	if (xdbc_unset(c, &r, &e) != 0)
		die_xerr(argv[1], &e);
	record_free(&r);
	xdbc_close(c);
	return 0;
}

static int
cmd_del(int argc, char **argv)
{
	struct xerr e;
	struct xdbc *c;

	if (argc != 2)
		die_usage("usage: del ID");
	need_write(argv[0]);
	check_id(argv[1]);
	c = db_connect();
	if (xdbc_del(c, argv[1], &e) != 0)
		die_xerr(argv[1], &e);
	xdbc_close(c);
	return 0;
}

struct dumpctx {
	FILE *fp;
	uint64_t n;
};

static int
dump_one(const struct record *r, void *arg)
{
	struct dumpctx *d = arg;

	record_write_text(r, d->fp);
	d->n++;
	return ferror(d->fp) ? 1 : 0;
}

/* The whole dump is collected first: the header carries the record count,
 * and a file is replaced only once the dump is complete. */
static int
cmd_dump(int argc, char **argv)
{
	char err[HASVR_ERRLEN], when[64], *body = NULL, *all = NULL;
	size_t blen = 0, hlen;
	struct dumpctx d = { NULL, 0 };
	struct xerr e;
	struct xdbc *c;
	struct tm tm;
	time_t now;
	int rc, alen;

	if (argc > 2)
		die_usage("usage: dump [FILE]");
	if ((d.fp = open_memstream(&body, &blen)) == NULL)
		errx(1, "out of memory");
	c = db_connect();
	rc = xdbc_list(c, "", 0, 0, dump_one, &d, &e);
	if (rc != 0 && e.code != 0)
		die_xerr(NULL, &e);
	if (fclose(d.fp) != 0 || rc != 0)
		errx(1, "out of memory collecting the dump");
	xdbc_close(c);
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	alen = asprintf(&all, "# hasvr xdb dump v1 %s %" PRIu64 " records\n\n%s",
	    when, d.n, body);
	free(body);
	if (alen < 0)
		errx(1, "out of memory");
	hlen = (size_t)alen;
	if (argc == 2 && strcmp(argv[1], "-") != 0) {
		/* Dumps hold secrets such as clientOneTimePassword: owner only. */
		if (atomicfile_write(argv[1], all, hlen, 0600, err, sizeof(err)) == -1)
			errx(1, "%s", err);
		fprintf(stderr, "dumped %" PRIu64 " records to %s\n", d.n, argv[1]);
	} else {
		fwrite(all, 1, hlen, stdout);
		finish_stdout();
	}
	free(all);
	return 0;
}

static int
cmd_load(int argc, char **argv)
{
	struct xdbc_batch bt;
	struct record r;
	struct xerr e;
	struct xdbc *c;
	const char *file = NULL, *name;
	char err[HASVR_ERRLEN], *end;
	long bsize = LOAD_BATCH_DEFAULT;
	uint64_t loaded = 0;
	int i, lineno = 0, first, rc, eof = 0;
	FILE *fp;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-b") == 0) {
			if (++i >= argc)
				die_usage("-b needs a number of records");
			errno = 0;
			bsize = strtol(argv[i], &end, 10);
			if (errno || *end != '\0' || bsize < 1 || bsize > LOAD_BATCH_MAX)
				die_usage("-b %s: expected a number of records from 1 to %d",
				    argv[i], LOAD_BATCH_MAX);
		} else if (file == NULL) {
			file = argv[i];
		} else
			die_usage("usage: load [-b N] FILE|-");
	}
	if (file == NULL)
		die_usage("usage: load [-b N] FILE|-");
	need_write(argv[0]);
	if (strcmp(file, "-") == 0) {
		fp = stdin;
		name = "stdin";
	} else if ((fp = fopen(file, "r")) == NULL) {
		errx(1, "cannot open %s: %s", file, strerror(errno));
	} else
		name = file;
	c = db_connect();
	record_init(&r);
	while (!eof) {
		xdbc_batch_init(&bt);
		first = lineno + 1;
		/* A whole batch is parsed before any of it is sent. */
		while (bt.n < (uint32_t)bsize) {
			rc = record_read_text(fp, &r, &lineno, err, sizeof(err));
			if (rc == -1)
				errx(1, "%s:%s; %" PRIu64 " records loaded before this batch",
				    name, err, loaded);
			if (rc == 0) {
				eof = 1;
				break;
			}
			xdbc_batch_add(&bt, REC_OP_PUT, &r);
			record_free(&r);
		}
		if (bt.n > 0 && xdbc_batch_commit(c, &bt, &e) != 0)
			errx(1, "%s: batch of %u records from lines %d-%d not loaded: %s%s; "
			    "%" PRIu64 " records loaded before it", name, bt.n, first, lineno,
			    e.msg, e.code == XE_TOOBIG && bt.n > 1 ?
			    " (try a smaller -b)" : "", loaded);
		loaded += bt.n;
		xdbc_batch_free(&bt);
	}
	if (fp != stdin)
		fclose(fp);
	xdbc_close(c);
	printf("loaded %" PRIu64 " records\n", loaded);
	finish_stdout();
	return 0;
}

static int
cmd_status(int argc, char **argv)
{
	struct xerr e;
	struct xdbc *c;
	char *text;

	if (argc != 1)
		die_usage("usage: status");
	c = db_connect();
	if (xdbc_status(c, &text, &e) != 0)
		die_xerr(NULL, &e);
	fputs(text, stdout);
	if (*text != '\0' && text[strlen(text) - 1] != '\n')
		putchar('\n');
	free(text);
	xdbc_close(c);
	finish_stdout();
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(int, char **);
} cmds[] = {
	{ "get", cmd_get },
	{ "list", cmd_list },
	{ "count", cmd_count },
	{ "put", cmd_assign },
	{ "set", cmd_assign },
	{ "unset", cmd_unset },
	{ "del", cmd_del },
	{ "dump", cmd_dump },
	{ "load", cmd_load },
	{ "status", cmd_status },
};

int
main(int argc, char **argv)
{
	size_t i;
	int ch;

	o.cfgfile = GUICFG_DEFAULT_PATH;
	while ((ch = getopt(argc, argv, "+f:s:H:P:k:wh")) != -1) {
		switch (ch) {
		case 'f':
			o.cfgfile = optarg;
			o.cfg_given = 1;
			break;
		case 's':
			o.sock = optarg;
			break;
		case 'H':
			o.host = optarg;
			break;
		case 'P':
			o.port = optarg;
			break;
		case 'k':
			o.keyfile = optarg;
			break;
		case 'w':
			o.write = 1;
			break;
		case 'h':
			usage(stdout);
		default:
			usage(stderr);
		}
	}
	argc -= optind;
	argv += optind;
	if ((o.host || o.port || o.keyfile) && !(o.host && o.port && o.keyfile))
		die_usage("TLS needs all of -H host, -P port and -k keyfile");
	if (o.host && o.sock)
		die_usage("-s and -H are exclusive: use a local socket or TLS, not both");
	if (argc < 1)
		usage(stderr);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[0], cmds[i].name) == 0)
			return cmds[i].fn(argc, argv);
	die_usage("unknown command '%s'", argv[0]);
}
