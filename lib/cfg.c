/* cfg.c — parser for the "key value" configuration files.
 *
 * Each program hands in a table of the keys it knows; the parser reads a
 * file against it and collects every error as "file:line: message", so an
 * administrator fixes a file in one pass instead of one error per restart.
 * Nothing here logs or exits on bad input: only a broken key table (a
 * programming error) aborts. */
#include <sys/stat.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cfg.h"
#include "util.h"

#define CFG_LINE_MAX	4095            /* characters, without the newline */
#define CFG_FILE_MAX	(1024 * 1024)   /* a config file is small text */
#define CFG_STRING_MAX	1023            /* default STRING limit (max == 0) */
#define CFG_PATH_MAX	1023            /* fits struct guicfg_paths fields */

/* parse_value() outcome; the message tail is in msg. */
enum parse_res { PARSE_OK = 0, PARSE_BAD, PARSE_RANGE };

struct unit {
	const char *suffix;
	long long mult;
};

static const struct unit size_units[] = {
	{ "G", 1024LL * 1024 * 1024 }, { "M", 1024LL * 1024 }, { "K", 1024 },
	{ "", 1 }, { NULL, 0 }
};
static const struct unit duration_units[] = {
	{ "h", 3600000 }, { "ms", 1 }, { "m", 60000 }, { "s", 1000 },
	{ "", 1 }, { NULL, 0 }
};

static void *
xcalloc(size_t n, size_t sz)
{
	void *p;

	if ((p = calloc(n ? n : 1, sz)) == NULL) {
		fprintf(stderr, "hasvr: config: out of memory\n");
		abort();
	}
	return p;
}

static char *
xstrdup(const char *s)
{
	char *p;

	if ((p = strdup(s)) == NULL) {
		fprintf(stderr, "hasvr: config: out of memory\n");
		abort();
	}
	return p;
}

/* Format a number with the largest unit that divides it exactly, so ranges
 * read as "1K..16M" and "1s..60m" rather than raw bytes or milliseconds. */
static void
fmt_scaled(char *buf, size_t len, long long v, const struct unit *units)
{
	const struct unit *u;

	for (u = units; u->suffix != NULL; u++) {
		if (u->mult > 1 && v != 0 && v % u->mult == 0) {
			snprintf(buf, len, "%lld%s", v / u->mult, u->suffix);
			return;
		}
	}
	/* Durations have no bare unit in writing: show milliseconds plainly. */
	snprintf(buf, len, "%lld%s", v, units == duration_units ? "ms" : "");
}

static void
fmt_num(char *buf, size_t len, enum cfg_type type, long long v)
{
	if (type == CFG_SIZE)
		fmt_scaled(buf, len, v, size_units);
	else if (type == CFG_DURATION)
		fmt_scaled(buf, len, v, duration_units);
	else
		snprintf(buf, len, "%lld", v);
}

static void
fmt_range(char *buf, size_t len, const struct cfg_key *k)
{
	char lo[32], hi[32];

	fmt_num(lo, sizeof(lo), k->type, k->min);
	fmt_num(hi, sizeof(hi), k->type, k->max);
	snprintf(buf, len, "%s..%s", lo, hi);
}

static void
fmt_enums(char *buf, size_t len, const struct cfg_key *k, const char *sep)
{
	size_t i, off = 0;
	int n;

	buf[0] = '\0';
	for (i = 0; k->enums[i] != NULL; i++) {
		n = snprintf(buf + off, len - off, "%s%s", i ? sep : "",
		    k->enums[i]);
		if (n < 0 || (size_t)n >= len - off)
			return;
		off += (size_t)n;
	}
}

/* Decimal digits with an optional unit from the table. */
static enum parse_res
parse_scaled(const char *s, const struct unit *units, long long *out)
{
	const struct unit *u;
	const char *p = s;
	long long v = 0;
	int overflow = 0;

	if (!isdigit((unsigned char)*p))
		return PARSE_BAD;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (LLONG_MAX - (*p - '0')) / 10)
			overflow = 1;
		else
			v = v * 10 + (*p - '0');
	}
	for (u = units; u->suffix != NULL; u++)
		if (strcasecmp(p, u->suffix) == 0)
			break;
	if (u->suffix == NULL)
		return PARSE_BAD;
	if (overflow || v > LLONG_MAX / u->mult)
		return PARSE_RANGE;
	*out = v * u->mult;
	return PARSE_OK;
}

static enum parse_res
parse_int(const char *s, long long *out)
{
	char *end;

	if (!isdigit((unsigned char)*s) && !((*s == '-' || *s == '+') &&
	    isdigit((unsigned char)s[1])))
		return PARSE_BAD;
	errno = 0;
	*out = strtoll(s, &end, 10);
	if (*end != '\0')
		return PARSE_BAD;
	if (errno == ERANGE)
		return PARSE_RANGE;
	return PARSE_OK;
}

/* Parse one value of key k. On failure msg holds the reason, phrased to
 * follow "bad value 'V' for KEY: ". */
static enum parse_res
parse_value(const struct cfg_key *k, const char *v, long long *num,
    char *msg, size_t msglen)
{
	static const char *const yes[] = { "y", "yes", "true", "on", "1", NULL };
	static const char *const no[] = { "n", "no", "false", "off", "0", NULL };
	char range[80], list[512];
	struct in6_addr a6;
	struct in_addr a4;
	enum parse_res r;
	size_t i, len;

	*num = 0;
	switch (k->type) {
	case CFG_BOOL:
		for (i = 0; yes[i] != NULL; i++)
			if (strcasecmp(v, yes[i]) == 0) {
				*num = 1;
				return PARSE_OK;
			}
		for (i = 0; no[i] != NULL; i++)
			if (strcasecmp(v, no[i]) == 0)
				return PARSE_OK;
		snprintf(msg, msglen, "expected y or n");
		return PARSE_BAD;
	case CFG_INT:
	case CFG_SIZE:
	case CFG_DURATION:
	case CFG_PORT:
		if (k->type == CFG_INT)
			r = parse_int(v, num);
		else if (k->type == CFG_SIZE)
			r = parse_scaled(v, size_units, num);
		else if (k->type == CFG_DURATION)
			r = parse_scaled(v, duration_units, num);
		else
			r = parse_scaled(v, size_units + 3, num); /* digits only */
		if (k->type == CFG_PORT) {
			if (r == PARSE_OK && *num >= 1 && *num <= 65535)
				return PARSE_OK;
			snprintf(msg, msglen,
			    "expected a port number between 1 and 65535");
			return PARSE_BAD;
		}
		fmt_range(range, sizeof(range), k);
		if (r == PARSE_BAD) {
			if (k->type == CFG_INT)
				snprintf(msg, msglen, "expected an integer between "
				    "%lld and %lld", k->min, k->max);
			else if (k->type == CFG_SIZE)
				snprintf(msg, msglen, "expected a size in bytes "
				    "with optional K, M or G suffix, within %s",
				    range);
			else
				snprintf(msg, msglen, "expected a duration with "
				    "unit ms, s, m or h, within %s", range);
			return PARSE_BAD;
		}
		if (r == PARSE_RANGE || *num < k->min || *num > k->max) {
			snprintf(msg, msglen, "out of range: %s (allowed %s)", v,
			    range);
			return PARSE_RANGE;
		}
		return PARSE_OK;
	case CFG_STRING:
		len = strlen(v);
		if (len > (size_t)(k->max > 0 ? k->max : CFG_STRING_MAX)) {
			snprintf(msg, msglen, "too long (%zu characters, at most "
			    "%lld)", len, k->max > 0 ? k->max : CFG_STRING_MAX);
			return PARSE_RANGE;
		}
		if (k->min > 0 && len < (size_t)k->min) {
			snprintf(msg, msglen, "too short (%zu characters, at "
			    "least %lld)", len, k->min);
			return PARSE_RANGE;
		}
		return PARSE_OK;
	case CFG_PATH:
		if (v[0] != '/') {
			snprintf(msg, msglen, "expected an absolute path");
			return PARSE_BAD;
		}
		if ((len = strlen(v)) > CFG_PATH_MAX) {
			snprintf(msg, msglen, "path too long (%zu characters, "
			    "at most %d)", len, CFG_PATH_MAX);
			return PARSE_RANGE;
		}
		return PARSE_OK;
	case CFG_ENUM:
		for (i = 0; k->enums[i] != NULL; i++)
			if (strcmp(v, k->enums[i]) == 0) {
				*num = (long long)i;
				return PARSE_OK;
			}
		fmt_enums(list, sizeof(list), k, ", ");
		snprintf(msg, msglen, "expected one of: %s", list);
		return PARSE_BAD;
	case CFG_ADDR:
		if (inet_pton(AF_INET, v, &a4) == 1 ||
		    inet_pton(AF_INET6, v, &a6) == 1)
			return PARSE_OK;
		snprintf(msg, msglen, "expected a numeric IPv4 or IPv6 address");
		return PARSE_BAD;
	}
	snprintf(msg, msglen, "unknown key type %d", (int)k->type);
	return PARSE_BAD;
}

/* Short description of a key's type with its limits, for "needs a value". */
static void
type_desc(char *buf, size_t len, const struct cfg_key *k)
{
	char range[80], list[512];

	switch (k->type) {
	case CFG_BOOL:
		snprintf(buf, len, "y or n");
		return;
	case CFG_INT:
	case CFG_SIZE:
	case CFG_DURATION:
		fmt_range(range, sizeof(range), k);
		snprintf(buf, len, "%s %s", k->type == CFG_INT ? "integer" :
		    k->type == CFG_SIZE ? "size" : "duration", range);
		return;
	case CFG_STRING:
		snprintf(buf, len, "text of at most %lld characters",
		    k->max > 0 ? k->max : CFG_STRING_MAX);
		return;
	case CFG_PATH:
		snprintf(buf, len, "absolute path");
		return;
	case CFG_ENUM:
		fmt_enums(list, sizeof(list), k, ", ");
		snprintf(buf, len, "one of %s", list);
		return;
	case CFG_ADDR:
		snprintf(buf, len, "numeric IPv4 or IPv6 address");
		return;
	case CFG_PORT:
		snprintf(buf, len, "port 1..65535");
		return;
	}
	snprintf(buf, len, "?");
}

/* The type line of the sample file: "type: T, default: D[, range R]". */
static void
sample_type(char *buf, size_t len, const struct cfg_key *k)
{
	char t[600], range[80], list[512];

	range[0] = '\0';
	switch (k->type) {
	case CFG_BOOL:
		snprintf(t, sizeof(t), "boolean (y or n)");
		break;
	case CFG_INT:
		snprintf(t, sizeof(t), "integer");
		break;
	case CFG_SIZE:
		snprintf(t, sizeof(t), "size (bytes, suffix K, M or G)");
		break;
	case CFG_DURATION:
		snprintf(t, sizeof(t), "duration (unit ms, s, m or h)");
		break;
	case CFG_STRING:
		snprintf(t, sizeof(t), "text (at most %lld characters)",
		    k->max > 0 ? k->max : CFG_STRING_MAX);
		break;
	case CFG_ENUM:
		fmt_enums(list, sizeof(list), k, "|");
		snprintf(t, sizeof(t), "one of %s", list);
		break;
	default:
		type_desc(t, sizeof(t), k);
		break;
	}
	if (k->type == CFG_INT || k->type == CFG_SIZE || k->type == CFG_DURATION)
		fmt_range(range, sizeof(range), k);
	snprintf(buf, len, "type: %s, default: %s%s%s%s", t,
	    k->def == NULL ? "none (unset)" : k->def[0] == '\0' ? "empty" : k->def,
	    range[0] ? ", range " : "", range, k->required ? ", required" : "");
}

/* A value that parses, for keys without a default. */
static const char *
type_example(const struct cfg_key *k)
{
	switch (k->type) {
	case CFG_PATH:
		return "/absolute/path";
	case CFG_ADDR:
		return "127.0.0.1";
	case CFG_PORT:
		return "7800";
	case CFG_BOOL:
		return "n";
	case CFG_ENUM:
		return k->enums[0];
	default:
		return NULL;
	}
}

static void
vadd_error(struct cfg *c, int line, const char *fmt, va_list ap)
{
	const char *file = c->file ? c->file : "config";
	char *msg, *full, **n;
	int r;

	if (vasprintf(&msg, fmt, ap) == -1)
		abort();
	if (line > 0)
		r = asprintf(&full, "%s:%d: %s", file, line, msg);
	else
		r = asprintf(&full, "%s: %s", file, msg);
	free(msg);
	if (r == -1)
		abort();
	if ((n = reallocarray(c->errors, c->nerrors + 1, sizeof(*n))) == NULL)
		abort();
	c->errors = n;
	c->errors[c->nerrors++] = full;
}

void
cfg_add_error(struct cfg *c, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vadd_error(c, line, fmt, ap);
	va_end(ap);
}

static void
table_bug(const struct cfg_key *k, const char *what)
{
	fprintf(stderr, "hasvr: internal error: config key table entry '%s': "
	    "%s\n", k && k->name ? k->name : "(null)", what);
	abort();
}

void
cfg_init(struct cfg *c, const struct cfg_key *keys, size_t nkeys)
{
	char msg[512], why[600];
	long long num;
	size_t i, j;

	memset(c, 0, sizeof(*c));
	c->keys = keys;
	c->nkeys = nkeys;
	c->vals = xcalloc(nkeys, sizeof(*c->vals));
	for (i = 0; i < nkeys; i++) {
		const struct cfg_key *k = &keys[i];

		if (k->name == NULL || k->name[0] == '\0')
			table_bug(k, "no name");
		for (j = 0; j < i; j++)
			if (strcmp(keys[j].name, k->name) == 0)
				table_bug(k, "listed twice");
		if ((unsigned)k->type > CFG_PORT)
			table_bug(k, "unknown type");
		if (k->type == CFG_ENUM && (k->enums == NULL || k->enums[0] == NULL))
			table_bug(k, "enum without words");
		if ((k->type == CFG_INT || k->type == CFG_SIZE ||
		    k->type == CFG_DURATION) && k->min > k->max)
			table_bug(k, "min > max");
		if (k->def == NULL)
			continue;
		if (k->def[0] == '\0' && k->type != CFG_STRING)
			table_bug(k, "empty default for a non-string key");
		if (parse_value(k, k->def, &num, msg, sizeof(msg)) != PARSE_OK) {
			snprintf(why, sizeof(why), "bad default '%s': %s", k->def,
			    msg);
			table_bug(k, why);
		}
		c->vals[i].num = num;
		c->vals[i].str = xstrdup(k->def);
	}
}

static int
find_key(const struct cfg *c, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < c->nkeys; i++)
		if (strlen(c->keys[i].name) == len &&
		    strncmp(c->keys[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

/* Edit distance ignoring case, counting a swap of two neighbours as one
 * edit, to suggest the key the administrator meant. */
static size_t
edit_distance(const char *a, size_t la, const char *b)
{
	size_t lb = strlen(b), i, j, *d, best, w;

	if (la > 256 || lb > 256)
		return SIZE_MAX;
	w = lb + 1;
	d = xcalloc((la + 1) * w, sizeof(*d));
#define D(x, y) d[(x) * w + (y)]
	for (i = 0; i <= la; i++)
		D(i, 0) = i;
	for (j = 0; j <= lb; j++)
		D(0, j) = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			int ai = tolower((unsigned char)a[i - 1]);
			int bj = tolower((unsigned char)b[j - 1]);

			best = D(i - 1, j - 1) + (ai != bj);
			if (D(i - 1, j) + 1 < best)
				best = D(i - 1, j) + 1;
			if (D(i, j - 1) + 1 < best)
				best = D(i, j - 1) + 1;
			if (i > 1 && j > 1 &&
			    ai == tolower((unsigned char)b[j - 2]) &&
			    bj == tolower((unsigned char)a[i - 2]) &&
			    D(i - 2, j - 2) + 1 < best)
				best = D(i - 2, j - 2) + 1;
			D(i, j) = best;
		}
	}
	best = D(la, lb);
#undef D
	free(d);
	return best;
}

/* The closest known key: same name in another case, the part after the
 * dot alone ("setuid" for "guiSvr.setuid"), or a small typo. The typo
 * allowance grows with the length of the last part of the name, so that
 * short unrelated words sharing a prefix are not "corrected". */
static const char *
suggest_key(const struct cfg *c, const char *name, size_t len)
{
	const char *best = NULL, *dot;
	size_t i, d, bestd = SIZE_MAX, limit, tail;

	const char *ndot = memrchr(name, '.', len);

	for (i = 0; i < c->nkeys; i++) {
		const char *k = c->keys[i].name;

		if (strlen(k) == len && strncasecmp(k, name, len) == 0)
			return k;
		if ((dot = strrchr(k, '.')) == NULL)
			continue;
		/* "setuid" or "devSvr.setuid" for "guiSvr.setuid" */
		if (strlen(dot + 1) == len && strncasecmp(dot + 1, name, len) == 0)
			return k;
		if (ndot != NULL && strlen(dot) == len - (size_t)(ndot - name) &&
		    strncasecmp(dot, ndot, strlen(dot)) == 0)
			return k;
	}
	for (i = len; i > 0 && name[i - 1] != '.'; i--)
		;
	tail = len - i;
	limit = tail / 3;
	if (limit < 1)
		limit = 1;
	if (limit > 3)
		limit = 3;
	for (i = 0; i < c->nkeys; i++) {
		d = edit_distance(name, len, c->keys[i].name);
		if (d <= limit && d < bestd) {
			bestd = d;
			best = c->keys[i].name;
		}
	}
	return best;
}

/* Length of "prefix." shared by every key of the table, 0 if none: a key
 * from another program's file is then recognisable as such. */
static size_t
common_prefix(const struct cfg *c)
{
	const char *dot;
	size_t i, plen;

	if (c->nkeys == 0 || (dot = strchr(c->keys[0].name, '.')) == NULL)
		return 0;
	plen = (size_t)(dot - c->keys[0].name) + 1;
	for (i = 1; i < c->nkeys; i++)
		if (strncmp(c->keys[i].name, c->keys[0].name, plen) != 0)
			return 0;
	return plen;
}

static void
parse_line(struct cfg *c, int lineno, char *line)
{
	const struct cfg_key *k;
	struct cfg_value *v;
	char msg[1024], desc[600];
	const char *hint, *ex;
	char *key, *val, *end;
	size_t klen, plen;
	long long num;
	int idx;

	while (*line == ' ' || *line == '\t')
		line++;
	if (*line == '\0' || *line == '#')
		return;
	key = line;
	klen = strcspn(key, " \t");
	val = key + klen;
	while (*val == ' ' || *val == '\t')
		val++;
	end = val + strlen(val);
	while (end > val && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';

	if ((idx = find_key(c, key, klen)) == -1) {
		const char *eq = memchr(key, '=', klen);

		if (eq != NULL && eq > key &&
		    find_key(c, key, (size_t)(eq - key)) != -1)
			cfg_add_error(c, lineno, "unknown key '%.*s' (write the "
			    "key, a blank and the value, without '=')", (int)klen,
			    key);
		else if ((hint = suggest_key(c, key, klen)) != NULL)
			cfg_add_error(c, lineno, "unknown key '%.*s' (did you "
			    "mean '%s'?)", (int)klen, key, hint);
		else if ((plen = common_prefix(c)) > 0 && (klen < plen ||
		    strncmp(key, c->keys[0].name, plen) != 0))
			cfg_add_error(c, lineno, "unknown key '%.*s' (keys in "
			    "this file start with '%.*s')", (int)klen, key,
			    (int)plen, c->keys[0].name);
		else
			cfg_add_error(c, lineno, "unknown key '%.*s'", (int)klen,
			    key);
		return;
	}
	k = &c->keys[idx];
	v = &c->vals[idx];
	if (v->set) {
		cfg_add_error(c, lineno, "duplicate key '%s' (first set at line "
		    "%d)", k->name, v->line);
		return;
	}
	if (*val == '\0' && k->type != CFG_STRING) {
		type_desc(desc, sizeof(desc), k);
		ex = k->def != NULL ? k->def : type_example(k);
		if (ex != NULL)
			cfg_add_error(c, lineno, "key '%s' needs a value (%s, "
			    "e.g. %s)", k->name, desc, ex);
		else
			cfg_add_error(c, lineno, "key '%s' needs a value (%s)",
			    k->name, desc);
		return;
	}
	if (parse_value(k, val, &num, msg, sizeof(msg)) != PARSE_OK) {
		cfg_add_error(c, lineno, "bad value '%s' for %s: %s", val,
		    k->name, msg);
		return;
	}
	free(v->str);
	v->str = xstrdup(val);
	v->num = num;
	v->set = 1;
	v->line = lineno;
}

/* Parse len bytes of text (may hold NUL bytes when read from a file). */
static int
parse_buf(struct cfg *c, const char *text, size_t len)
{
	const char *p = text, *nl, *bad;
	char *line;
	size_t ll, i;
	int lineno = 0;

	while (p < text + len) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(text + len - p));
		ll = nl ? (size_t)(nl - p) : (size_t)(text + len - p);
		/* A DOS line ending is harmless: drop the CR before LF. */
		if (ll > 0 && p[ll - 1] == '\r')
			ll--;
		if (ll > CFG_LINE_MAX) {
			cfg_add_error(c, lineno, "line too long (%zu characters, "
			    "at most %d)", ll, CFG_LINE_MAX);
			goto next;
		}
		for (bad = NULL, i = 0; i < ll; i++) {
			unsigned char ch = (unsigned char)p[i];

			if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
				bad = p + i;
				break;
			}
		}
		if (bad != NULL) {
			if (*bad == '\0')
				cfg_add_error(c, lineno, "NUL byte at column %zu: "
				    "this is not a text file", i + 1);
			else
				cfg_add_error(c, lineno, "invalid control "
				    "character 0x%02x at column %zu",
				    (unsigned char)*bad, i + 1);
			goto next;
		}
		line = xcalloc(ll + 1, 1);
		memcpy(line, p, ll);
		parse_line(c, lineno, line);
		free(line);
next:
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return lineno;
}

static void
check_required(struct cfg *c)
{
	size_t i;

	for (i = 0; i < c->nkeys; i++)
		if (c->keys[i].required && !c->vals[i].set)
			cfg_add_error(c, 0, "required key '%s' is missing",
			    c->keys[i].name);
}

static void
set_file(struct cfg *c, const char *name)
{
	free(c->file);
	c->file = xstrdup(name);
}

int
cfg_parse_string(struct cfg *c, const char *name, const char *text)
{
	set_file(c, name);
	parse_buf(c, text, strlen(text));
	check_required(c);
	return (int)c->nerrors;
}

int
cfg_parse_file(struct cfg *c, const char *path)
{
	struct stat st;
	char *buf;
	ssize_t n;
	int fd;

	set_file(c, path);
	/* O_NONBLOCK: a FIFO in place of the file must not hang the daemon. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		cfg_add_error(c, 0, "cannot open: %s", strerror(errno));
		return (int)c->nerrors;
	}
	if (fstat(fd, &st) == -1) {
		cfg_add_error(c, 0, "cannot stat: %s", strerror(errno));
		close(fd);
		return (int)c->nerrors;
	}
	if (!S_ISREG(st.st_mode)) {
		cfg_add_error(c, 0, "not a regular file%s: give the path of the "
		    "configuration file", S_ISDIR(st.st_mode) ?
		    " (it is a directory)" : "");
		close(fd);
		return (int)c->nerrors;
	}
	buf = xcalloc(CFG_FILE_MAX + 1, 1);
	n = util_read_full(fd, buf, CFG_FILE_MAX + 1);
	if (n == -1)
		cfg_add_error(c, 0, "cannot read: %s", strerror(errno));
	else if (n > CFG_FILE_MAX)
		cfg_add_error(c, 0, "file is too large (more than %d bytes): "
		    "is this the configuration file?", CFG_FILE_MAX);
	else {
		parse_buf(c, buf, (size_t)n);
		check_required(c);
	}
	close(fd);
	free(buf);
	return (int)c->nerrors;
}

void
cfg_free(struct cfg *c)
{
	size_t i;

	if (c->vals != NULL)
		for (i = 0; i < c->nkeys; i++)
			free(c->vals[i].str);
	free(c->vals);
	for (i = 0; i < c->nerrors; i++)
		free(c->errors[i]);
	free(c->errors);
	free(c->file);
	memset(c, 0, sizeof(*c));
}

const struct cfg_value *
cfg_get(const struct cfg *c, const char *name)
{
	int idx;

	if ((idx = find_key(c, name, strlen(name))) == -1) {
		fprintf(stderr, "hasvr: internal error: config key '%s' is not "
		    "in the key table\n", name);
		abort();
	}
	return &c->vals[idx];
}

int
cfg_line(const struct cfg *c, const char *name)
{
	return cfg_get(c, name)->line;
}

int
cfg_check_private(struct cfg *c, const char *name, int must_exist)
{
	char err[1200];
	const char *path;
	struct stat st;

	if (!cfg_isset(c, name))
		return 0;
	path = cfg_str(c, name);
	if (!must_exist && stat(path, &st) == -1 && errno == ENOENT)
		return 0;
	if (util_check_private(path, err, sizeof(err)) == 0)
		return 0;
	cfg_add_error(c, cfg_line(c, name), "%s: %s", name, err);
	return -1;
}

long long
cfg_num(const struct cfg *c, const char *name)
{
	return cfg_get(c, name)->num;
}

int
cfg_bool(const struct cfg *c, const char *name)
{
	return cfg_get(c, name)->num != 0;
}

const char *
cfg_str(const struct cfg *c, const char *name)
{
	const struct cfg_value *v = cfg_get(c, name);

	return v->str ? v->str : "";
}

int
cfg_isset(const struct cfg *c, const char *name)
{
	return cfg_get(c, name)->set;
}

void
cfg_print_errors(const struct cfg *c)
{
	size_t i;

	for (i = 0; i < c->nerrors; i++)
		fprintf(stderr, "%s\n", c->errors[i]);
	fflush(stderr);
}

static void
write_comment(FILE *fp, const char *text)
{
	const char *p = text, *nl;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		if (nl == p)
			fprintf(fp, "#\n");
		else
			fprintf(fp, "# %.*s\n", (int)(nl - p), p);
		p = *nl ? nl + 1 : nl;
	}
}

int
cfg_write_sample(const struct cfg_key *keys, size_t nkeys, const char *title,
    FILE *fp)
{
	char desc[1024];
	const char *ex;
	size_t i;

	if (title != NULL && *title != '\0') {
		write_comment(fp, title);
		fprintf(fp, "#\n");
	}
	fprintf(fp,
	    "# One setting per line: the key, blanks, then the value (the rest of\n"
	    "# the line). Lines starting with '#' are comments. Keys are case-\n"
	    "# sensitive and may appear once. Every key is shown below commented\n"
	    "# out with its default: remove the '#' and edit the value to change it.\n"
	    "# Sizes take K, M or G suffixes (powers of 1024); durations take ms,\n"
	    "# s, m or h (a bare number is milliseconds); booleans are y or n.\n\n");
	for (i = 0; i < nkeys; i++) {
		const struct cfg_key *k = &keys[i];

		if (k->help != NULL)
			write_comment(fp, k->help);
		sample_type(desc, sizeof(desc), k);
		fprintf(fp, "# %s\n", desc);
		/* Keys without a default get a value that parses, so the
		 * sample with every line uncommented is a valid file. */
		ex = k->def != NULL ? k->def : type_example(k);
		if (ex == NULL || ex[0] == '\0')
			fprintf(fp, "#%s\n\n", k->name);
		else
			fprintf(fp, "#%s %s\n\n", k->name, ex);
	}
	fflush(fp);
	return ferror(fp) ? -1 : 0;
}
