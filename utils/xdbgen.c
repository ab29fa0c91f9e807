/* xdbgen — generate a realistic sample management database: the global
 * records (shadow servers, admins, domains) and per-domain devices,
 * policies, address objects, services and zones. The output is a text dump
 * that "xdb -w load" reads, or (-x) it is written straight into guisvr.
 * The same seed always gives the same bytes, so tests and benchmarks can
 * compare runs. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guicfg.h"
#include "record.h"
#include "util.h"
#include "xdbclient.h"

#define BATCH_RECORDS 500
#define MAX_COUNT 100000000L

enum cat { C_DEVICE, C_POLICY, C_ADDRESS, C_SERVICE, C_ZONE, C_NCAT };
static const char *const catname[C_NCAT] = {
	"device", "policy", "address", "service", "zone"
};
/* Share of the per-domain records, in percent. */
static const int catweight[C_NCAT] = { 12, 10, 48, 18, 12 };

static const char *const sites[] = {
	"ams", "atl", "bos", "chi", "dal", "den", "fra", "hkg", "lax", "lon",
	"mad", "mia", "nyc", "par", "sea", "sfo", "sin", "syd", "tok", "yyz",
};
static const char *const platforms[] = {
	"NS5200", "ISG2000", "ISG1000", "SSG550M", "SSG140", "SSG20", "SRX3400",
	"SRX650", "SRX240", "SRX210",
};
static const char *const zones[] = {
	"trust", "untrust", "dmz", "mgmt", "voip", "guest", "backup", "vpn",
};
static const char *const roles[] = {
	"super", "domainAdmin", "readOnly", "auditor", "policyEditor",
};
static const char *const firstnames[] = {
	"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
	"ivan", "judy", "mallory", "oscar", "peggy", "trent", "victor", "wendy",
};
static const char *const words[] = {
	"web", "mail", "db", "app", "dns", "ntp", "vpn", "backup", "crm", "erp",
	"wiki", "git", "build", "ldap", "radius", "syslog", "proxy", "cache",
};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct gen {
	uint64_t s;             /* splitmix64 state */
	long avg;               /* target value bytes per record; 0 = natural */
	uint32_t ndomains, nadmins;
	uint32_t *next;         /* per domain and category: next object number */
};

static uint64_t
rnd64(struct gen *g)
{
	uint64_t z = (g->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t
rnd(struct gen *g, uint32_t n)
{
	return n ? (uint32_t)(rnd64(g) % n) : 0;
}

#define PICK(g, a) ((a)[rnd((g), NELEM(a))])

static void
oom(void)
{
	fprintf(stderr, "xdbgen: out of memory\n");
	exit(1);
}

static void
attr(struct record *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
attr(struct record *r, const char *name, const char *fmt, ...)
{
	char v[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	if (n < 0)
		oom();
	if ((size_t)n >= sizeof(v))
		n = sizeof(v) - 1;
	if (record_set(r, name, strlen(name), v, (size_t)n) == -1)
		oom();
}

static void
setid(struct record *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
setid(struct record *r, const char *fmt, ...)
{
	char id[RECORD_ID_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(id, sizeof(id), fmt, ap);
	va_end(ap);
	if (record_set_id(r, id, strlen(id)) == -1)
		oom();
}

/* Pads the record with a description so value bytes average g->avg. */
static void
pad(struct gen *g, struct record *r)
{
	size_t i, have = 0, want, n;
	char *v;

	/* g->avg is at most 1 MiB (checked in main), so want stays small. */

	if (g->avg <= 0)
		return;
	for (i = 0; i < r->nattr; i++)
		have += r->attr[i].vlen;
	if ((size_t)g->avg <= have)
		return;
	want = (size_t)g->avg - have;
	/* Vary sizes around the target (50%..150%), keeping the mean. */
	want = want / 2 + rnd(g, (uint32_t)want + 1);
	if (want > 2 * 1024 * 1024)
		return;
	if ((v = malloc(want + 1)) == NULL)
		oom();
	for (n = 0; n < want; ) {
		const char *w = PICK(g, words);
		size_t wl = strlen(w);

		if (n + wl + 1 > want) {
			memset(v + n, 'x', want - n);
			n = want;
			break;
		}
		memcpy(v + n, w, wl);
		n += wl;
		v[n++] = ' ';
	}
	if (record_set(r, "description", 11, v, want) == -1)
		oom();
	free(v);
}

static void
gen_shadow(struct gen *g, struct record *r, int which)
{
	setid(r, "0.shadow_server.%d", which);
	if (which == 1) {
		attr(r, "type", "localGuiSvr");
		attr(r, "ip", "127.0.0.1");
	} else {
		attr(r, "type", "peerGuiSvr");
		attr(r, "clientOneTimePassword", "netscreen");
		attr(r, "ip", "127.0.0.2");
	}
	attr(r, "port", "7800");
	attr(r, "haEnabled", "true");
	attr(r, "comment", "%s (managed by hasvr)", which == 1 ? "this server" :
	    "peer server");
}

static void
gen_admin(struct gen *g, struct record *r, uint32_t n)
{
	const char *fn = PICK(g, firstnames);
	uint64_t h1, h2;
	uint32_t salt;

	setid(r, "0.admin.%" PRIu32, n);
	attr(r, "name", "%s%" PRIu32, fn, n);
	attr(r, "role", "%s", n == 1 ? "super" : PICK(g, roles));
	attr(r, "email", "%s%" PRIu32 "@example.net", fn, n);
	salt = rnd(g, UINT32_MAX);
	h1 = rnd64(g);
	h2 = rnd64(g);
	attr(r, "passwordHash", "$6$%08" PRIx32 "$%016" PRIx64 "%016" PRIx64, salt, h1, h2);
	attr(r, "domains", "%s", n == 1 ? "all" : "1");
	pad(g, r);
}

static void
gen_domain(struct gen *g, struct record *r, uint32_t d)
{
	setid(r, "0.domain.%" PRIu32, d);
	attr(r, "name", "%s-%" PRIu32, PICK(g, sites), d);
	attr(r, "parent", "0");
	attr(r, "admin", "0.admin.%" PRIu32, 1 + rnd(g, g->nadmins));
	pad(g, r);
}

static void
gen_object(struct gen *g, struct record *r, uint32_t d, enum cat c, uint32_t n)
{
	/* Random draws go through locals: the order in which a call's arguments
	 * are evaluated is unspecified, and the output must not depend on it. */
	uint32_t i, x, y, z, rules, np = g->next[d * C_NCAT + C_POLICY];
	const char *z1, *z2;
	uint32_t na = g->next[d * C_NCAT + C_ADDRESS], ns = g->next[d * C_NCAT + C_SERVICE];
	char name[32];

	setid(r, "%" PRIu32 ".%s.%" PRIu32, d, catname[c], n);
	switch (c) {
	case C_DEVICE:
		attr(r, "name", "fw-%s-%03" PRIu32, PICK(g, sites), n);
		x = rnd(g, 256);
		y = 1 + rnd(g, 254);
		attr(r, "ip", "10.%" PRIu32 ".%" PRIu32 ".%" PRIu32, d % 256, x, y);
		attr(r, "platform", "%s", PICK(g, platforms));
		if (rnd(g, 2))
			attr(r, "osVersion", "ScreenOS 6.3.0r%" PRIu32, 1 + rnd(g, 27));
		else
			attr(r, "osVersion", "Junos 12.1X46-D%" PRIu32, 10 + 5 * rnd(g, 12));
		x = 1000 + rnd(g, 9000);
		y = rnd(g, 1000000);
		z = rnd(g, 1000000);
		attr(r, "serial", "%04" PRIu32 "%06" PRIu32 "%06" PRIu32, x, y, z);
		attr(r, "managedBy", "0.admin.%" PRIu32, 1 + rnd(g, g->nadmins));
		attr(r, "policyRef", "%" PRIu32 ".policy.%" PRIu32, d, 1 + rnd(g, np ? np : 1));
		break;
	case C_POLICY:
		attr(r, "name", "%s-policy-%" PRIu32, PICK(g, words), n);
		rules = 1 + rnd(g, 6);
		attr(r, "ruleCount", "%" PRIu32, rules);
		for (i = 1; i <= rules; i++) {
			snprintf(name, sizeof(name), "rule.%" PRIu32, i);
			z1 = PICK(g, zones);
			z2 = PICK(g, zones);
			x = 1 + rnd(g, na ? na : 1);
			y = 1 + rnd(g, ns ? ns : 1);
			z = rnd(g, 5);
			attr(r, name, "from %s to %s src %" PRIu32 ".address.%" PRIu32
			    " dst any svc %" PRIu32 ".service.%" PRIu32 " action %s%s",
			    z1, z2, d, x, d, y, z ? "permit" : "deny",
			    rnd(g, 2) ? " log" : "");
		}
		break;
	case C_ADDRESS:
		z1 = PICK(g, words);
		z2 = PICK(g, sites);
		attr(r, "name", "%s-%s-%" PRIu32, z1, z2, n);
		if (rnd(g, 4)) {
			x = rnd(g, 256);
			y = 1 + rnd(g, 254);
			attr(r, "ip", "10.%" PRIu32 ".%" PRIu32 ".%" PRIu32 "/32", d % 256,
			    x, y);
		} else {
			x = 16 + rnd(g, 16);
			y = rnd(g, 256);
			attr(r, "ip", "172.%" PRIu32 ".%" PRIu32 ".0/24", x, y);
		}
		attr(r, "zone", "%s", PICK(g, zones));
		/* Now and then a comment that needs escaping in the text form. */
		if (rnd(g, 40) == 0)
			attr(r, "comment", "imported (legacy) \\ rule set\n\tsee ticket #%"
			    PRIu32, rnd(g, 100000));
		else
			attr(r, "comment", "%s", "");
		break;
	case C_SERVICE:
		attr(r, "name", "%s-%" PRIu32, PICK(g, words), n);
		attr(r, "protocol", "%s", rnd(g, 4) ? "tcp" : "udp");
		i = 1 + rnd(g, 65000);
		attr(r, "dstPort", "%" PRIu32 "-%" PRIu32, i, i + rnd(g, 3));
		attr(r, "timeout", "%" PRIu32, 30 * (1 + rnd(g, 4)));
		break;
	case C_ZONE:
		attr(r, "name", "%s-%" PRIu32, PICK(g, zones), n);
		attr(r, "vr", "%s", rnd(g, 3) ? "trust-vr" : "untrust-vr");
		x = rnd(g, 4);
		y = rnd(g, 8);
		attr(r, "interfaces", "ethernet%" PRIu32 "/%" PRIu32, x, y);
		attr(r, "screening", "%s", rnd(g, 2) ? "on" : "off");
		break;
	default:
		break;
	}
	pad(g, r);
}

static enum cat
pick_cat(struct gen *g)
{
	uint32_t x = rnd(g, 100);
	int c;

	for (c = 0; c < C_NCAT - 1; c++) {
		if (x < (uint32_t)catweight[c])
			return c;
		x -= (uint32_t)catweight[c];
	}
	return C_NCAT - 1;
}

/* Produces record number i (0-based) of the sequence. */
static void
gen_record(struct gen *g, struct record *r, long i)
{
	long fixed = 2 + (long)g->nadmins + (long)g->ndomains;
	uint32_t d;
	enum cat c;

	record_free(r);
	if (i < 2)
		gen_shadow(g, r, (int)i + 1);
	else if (i < 2 + (long)g->nadmins)
		gen_admin(g, r, (uint32_t)(i - 1));
	else if (i < fixed)
		gen_domain(g, r, (uint32_t)(i - 1 - (long)g->nadmins));
	else {
		d = 1 + (uint32_t)((i - fixed) % g->ndomains);
		c = pick_cat(g);
		gen_object(g, r, d, c, ++g->next[d * C_NCAT + c]);
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: xdbgen [-n COUNT] [-s SEED] [-a AVGATTRBYTES] [-o FILE]\n"
	    "       xdbgen [-n COUNT] [-s SEED] [-a AVGATTRBYTES] -x [-f guiSvr.cfg] "
	    "[-S socket]\n");
	exit(2);
}

static long
num_arg(int opt, const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "xdbgen: -%c %s: expected a number from %ld to %ld\n",
		    opt, s, min, max);
		exit(2);
	}
	return v;
}

static int
write_db(struct gen *g, long count, const char *cfgfile, int cfg_given, const char *sock)
{
	char path[1024], err[HASVR_ERRLEN];
	struct xdbc_batch bt;
	struct record r;
	struct xerr e;
	struct xdbc *c;
	uint64_t t0, ms;
	long i;

	if (sock != NULL)
		util_strlcpy(path, sock, sizeof(path));
	else if (xdbc_socket_path(cfgfile, cfg_given, path, sizeof(path), err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "xdbgen: %s\n", err);
		return 1;
	}
	if ((c = xdbc_connect_unix(path, &e)) == NULL) {
		fprintf(stderr, "xdbgen: %s\n", e.msg);
		return 1;
	}
	record_init(&r);
	t0 = util_now_ms();
	for (i = 0; i < count; ) {
		xdbc_batch_init(&bt);
		for (; i < count && bt.n < BATCH_RECORDS; i++) {
			gen_record(g, &r, i);
			xdbc_batch_add(&bt, REC_OP_PUT, &r);
		}
		if (xdbc_batch_commit(c, &bt, &e) != 0) {
			fprintf(stderr, "xdbgen: batch ending at record %ld failed: %s\n",
			    i, e.msg);
			xdbc_batch_free(&bt);
			xdbc_close(c);
			return 1;
		}
		xdbc_batch_free(&bt);
	}
	ms = util_now_ms() - t0;
	record_free(&r);
	xdbc_close(c);
	fprintf(stderr, "xdbgen: wrote %ld records in %.3f s (%.0f records/s)\n", count,
	    ms / 1000.0, ms ? count * 1000.0 / (double)ms : 0.0);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *out = NULL, *sock = NULL, *cfgfile = GUICFG_DEFAULT_PATH;
	long count = 1000, seed = 1;
	struct record r;
	struct gen g;
	int ch, direct = 0, cfg_given = 0;
	long i;
	FILE *fp;

	memset(&g, 0, sizeof(g));
	while ((ch = getopt(argc, argv, "n:s:a:o:xf:S:h")) != -1) {
		switch (ch) {
		case 'n':
			count = num_arg('n', optarg, 0, MAX_COUNT);
			break;
		case 's':
			seed = num_arg('s', optarg, 0, 0x7fffffffL);
			break;
		case 'a':
			g.avg = num_arg('a', optarg, 0, 1024 * 1024);
			break;
		case 'o':
			out = optarg;
			break;
		case 'x':
			direct = 1;
			break;
		case 'f':
			cfgfile = optarg;
			cfg_given = 1;
			break;
		case 'S':
			sock = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || (direct && out != NULL))
		usage();
	g.s = (uint64_t)seed * 0x2545f4914f6cdd1dULL + 1;
	g.nadmins = (uint32_t)(count / 200 < 3 ? 3 : count / 200 > 200 ? 200 : count / 200);
	g.ndomains = (uint32_t)(count / 5000 < 1 ? 1 : count / 5000 > 50 ? 50 : count / 5000);
	if ((g.next = calloc((g.ndomains + 1) * C_NCAT, sizeof(*g.next))) == NULL)
		oom();
	if (direct) {
		signal(SIGPIPE, SIG_IGN);
		ch = write_db(&g, count, cfgfile, cfg_given, sock);
		free(g.next);
		return ch;
	}
	if (out == NULL)
		fp = stdout;
	else if ((fp = fopen(out, "w")) == NULL) {
		fprintf(stderr, "xdbgen: cannot create %s: %s\n", out, strerror(errno));
		return 1;
	}
	/* A fixed date keeps the output identical for identical arguments. */
	fprintf(fp, "# hasvr xdb dump v1 2000-01-01T00:00:00Z %ld records\n"
	    "# generated by xdbgen -n %ld -s %ld -a %ld\n\n", count, count, seed, g.avg);
	record_init(&r);
	for (i = 0; i < count; i++) {
		gen_record(&g, &r, i);
		record_write_text(&r, fp);
	}
	record_free(&r);
	free(g.next);
	if (fflush(fp) == EOF || ferror(fp) || (fp != stdout && fclose(fp) == EOF)) {
		fprintf(stderr, "xdbgen: error writing %s: %s\n", out ? out : "standard output",
		    strerror(errno));
		return 1;
	}
	return 0;
}
