/* record.c — management records: validation, in-memory operations, the
 * binary codec (database values and wire) and the text form (records tool,
 * dump files). Every decoder treats its input as untrusted: lengths and
 * counts are checked against the bytes actually present before anything is
 * allocated or read. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "be.h"
#include "record.h"
#include "util.h"

/* Smallest encoded attribute: u16 name length + 1-byte name + u32 value length. */
#define ATTR_MIN_ENCODED 7

/* ---- byte buffer ------------------------------------------------------- */

void
buf_init(struct buf *b)
{
	b->p = NULL;
	b->len = b->cap = 0;
	b->oom = 0;
}

void
buf_free(struct buf *b)
{
	free(b->p);
	buf_init(b);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->oom = 0;
}

/* Make room for n more bytes; on failure set oom so the caller checks once. */
static int
buf_grow(struct buf *b, size_t n)
{
	size_t ncap;
	unsigned char *np;

	if (b->oom)
		return -1;
	if (n <= b->cap - b->len)
		return 0;
	if (n > SIZE_MAX / 2 - b->len) {
		b->oom = 1;
		return -1;
	}
	ncap = b->cap ? b->cap : 256;
	while (ncap - b->len < n)
		ncap *= 2;
	if ((np = realloc(b->p, ncap)) == NULL) {
		b->oom = 1;
		return -1;
	}
	b->p = np;
	b->cap = ncap;
	return 0;
}

void
buf_put(struct buf *b, const void *d, size_t n)
{
	if (n == 0 || buf_grow(b, n) == -1)
		return;
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

void
buf_put_u8(struct buf *b, uint8_t v)
{
	buf_put(b, &v, 1);
}

void
buf_put_u16(struct buf *b, uint16_t v)
{
	unsigned char x[2];

	be16_put(x, v);
	buf_put(b, x, sizeof(x));
}

void
buf_put_u32(struct buf *b, uint32_t v)
{
	unsigned char x[4];

	be32_put(x, v);
	buf_put(b, x, sizeof(x));
}

void
buf_put_u64(struct buf *b, uint64_t v)
{
	unsigned char x[8];

	be64_put(x, v);
	buf_put(b, x, sizeof(x));
}

/* A string too long for its length field is a caller bug; it is flagged as
 * oom so the message is never sent truncated. */
void
buf_put_str16(struct buf *b, const char *s, size_t n)
{
	if (n > UINT16_MAX) {
		b->oom = 1;
		return;
	}
	buf_put_u16(b, (uint16_t)n);
	buf_put(b, s, n);
}

void
buf_put_str32(struct buf *b, const char *s, size_t n)
{
	if (n > UINT32_MAX) {
		b->oom = 1;
		return;
	}
	buf_put_u32(b, (uint32_t)n);
	buf_put(b, s, n);
}

/* ---- bounds-checked reader --------------------------------------------- */

void
rd_init(struct rd *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->bad = 0;
}

/* Returns a pointer to n bytes, or NULL (and marks the reader bad). */
static const unsigned char *
rd_take(struct rd *r, size_t n)
{
	const unsigned char *q;

	if (r->bad || n > r->len - r->off) {
		r->bad = 1;
		return NULL;
	}
	q = r->p + r->off;
	r->off += n;
	return q;
}

uint8_t
rd_u8(struct rd *r)
{
	const unsigned char *q = rd_take(r, 1);

	return q ? q[0] : 0;
}

uint16_t
rd_u16(struct rd *r)
{
	const unsigned char *q = rd_take(r, 2);

	return q ? be16_get(q) : 0;
}

uint32_t
rd_u32(struct rd *r)
{
	const unsigned char *q = rd_take(r, 4);

	return q ? be32_get(q) : 0;
}

uint64_t
rd_u64(struct rd *r)
{
	uint64_t hi = rd_u32(r);
	uint64_t lo = rd_u32(r);

	return r->bad ? 0 : (hi << 32) | lo;
}

const char *
rd_str16(struct rd *r, size_t *n)
{
	size_t l = rd_u16(r);
	const unsigned char *q;

	*n = 0;
	if (r->bad || (q = rd_take(r, l)) == NULL)
		return NULL;
	*n = l;
	return (const char *)q;
}

const char *
rd_str32(struct rd *r, size_t *n)
{
	size_t l = rd_u32(r);
	const unsigned char *q;

	*n = 0;
	if (r->bad || (q = rd_take(r, l)) == NULL)
		return NULL;
	*n = l;
	return (const char *)q;
}

int
rd_done(const struct rd *r)
{
	return !r->bad && r->off == r->len;
}

/* ---- validation -------------------------------------------------------- */

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* A printable, bounded copy of untrusted bytes for error messages. */
static const char *
quote(char *out, size_t outlen, const char *s, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 8 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f)
			o += snprintf(out + o, outlen - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	if (i < n && o + 4 <= outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

static int
is_cat_char(int c)
{
	return isascii(c) && (isalnum(c) || c == '_' || c == '-');
}

static int
is_idpart_char(int c)
{
	return isascii(c) && (isalnum(c) || c == '_' || c == '.' || c == ':' || c == '-');
}

static int
is_name_char(int c)
{
	return isascii(c) && (isalnum(c) || c == '_' || c == '.' || c == '-');
}

/* Checks a domain (whole or, when partial, a prefix of one). */
static const char *
check_domain(const char *s, size_t n, int partial)
{
	unsigned long long v = 0;
	size_t i;

	if (n == 0)
		return partial ? NULL : "domain is empty (expected a number such as 0)";
	for (i = 0; i < n; i++) {
		if (!isascii((unsigned char)s[i]) || !isdigit((unsigned char)s[i]))
			return "domain must be a decimal number";
		v = v * 10 + (unsigned)(s[i] - '0');
		if (v > 4294967295ULL)
			return "domain is larger than 4294967295";
	}
	if (n > 1 && s[0] == '0')
		return "domain has a leading zero";
	return NULL;
}

static const char *
check_category(const char *s, size_t n, int partial)
{
	size_t i;

	if (n == 0 && !partial)
		return "category is empty";
	if (n > 64)
		return "category is longer than 64 characters";
	for (i = 0; i < n; i++)
		if (!is_cat_char((unsigned char)s[i]))
			return "category may only contain letters, digits, '_' and '-'";
	return NULL;
}

static const char *
check_idpart(const char *s, size_t n, int partial)
{
	size_t i;

	if (n == 0 && !partial)
		return "id after the category is empty";
	if (n > 128)
		return "id after the category is longer than 128 characters";
	for (i = 0; i < n; i++)
		if (!is_idpart_char((unsigned char)s[i]))
			return "id may only contain letters, digits, '_', '.', ':' and '-'";
	return NULL;
}

/* Shared by id and prefix validation: partial accepts any beginning of a valid id. */
static const char *
check_id(const char *id, size_t len, int partial)
{
	const char *d1, *d2, *why;
	size_t dl, cl;

	if (len == 0)
		return partial ? NULL : "empty (expected DOMAIN.CATEGORY.ID, e.g. 0.shadow_server.2)";
	if (len > RECORD_ID_MAX)
		return "longer than 255 bytes";
	if (memchr(id, '\0', len) != NULL)
		return "contains a NUL byte";
	d1 = memchr(id, '.', len);
	dl = d1 ? (size_t)(d1 - id) : len;
	/* Only the last, unfinished part of a prefix may be empty. */
	if ((why = check_domain(id, dl, partial && d1 == NULL)) != NULL)
		return why;
	if (d1 == NULL)
		return partial ? NULL : "expected DOMAIN.CATEGORY.ID (e.g. 0.shadow_server.2)";
	d1++;
	d2 = memchr(d1, '.', len - (size_t)(d1 - id));
	cl = d2 ? (size_t)(d2 - d1) : len - (size_t)(d1 - id);
	if ((why = check_category(d1, cl, partial && d2 == NULL)) != NULL)
		return why;
	if (d2 == NULL)
		return partial ? NULL : "expected DOMAIN.CATEGORY.ID (e.g. 0.shadow_server.2)";
	d2++;
	return check_idpart(d2, len - (size_t)(d2 - id), partial);
}

int
record_id_valid(const char *id, size_t len, char *err, size_t errlen)
{
	const char *why;
	char q[300];

	if ((why = check_id(id, len, 0)) == NULL)
		return 0;
	seterr(err, errlen, "bad record id '%s': %s", quote(q, sizeof(q), id, len), why);
	return -1;
}

int
record_prefix_valid(const char *prefix, size_t len, char *err, size_t errlen)
{
	const char *why;
	char q[300];

	if ((why = check_id(prefix, len, 1)) == NULL)
		return 1;
	seterr(err, errlen, "bad record id prefix '%s': %s",
	    quote(q, sizeof(q), prefix, len), why);
	return 0;
}

int
record_name_valid(const char *name, size_t len, char *err, size_t errlen)
{
	char q[300];
	size_t i;

	if (len == 0) {
		seterr(err, errlen, "empty attribute name");
		return -1;
	}
	if (len > RECORD_NAME_MAX) {
		seterr(err, errlen, "attribute name '%s' is longer than %d characters",
		    quote(q, sizeof(q), name, len), RECORD_NAME_MAX);
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (!is_name_char((unsigned char)name[i])) {
			seterr(err, errlen, "bad attribute name '%s': may only contain "
			    "letters, digits, '_', '.' and '-'", quote(q, sizeof(q), name, len));
			return -1;
		}
	}
	return 0;
}

/* ---- records in memory ------------------------------------------------- */

void
record_init(struct record *r)
{
	memset(r, 0, sizeof(*r));
}

void
record_free(struct record *r)
{
	size_t i;

	for (i = 0; i < r->nattr; i++) {
		free(r->attr[i].name);
		free(r->attr[i].value);
	}
	free(r->attr);
	free(r->id);
	record_init(r);
}

/* Attributes only; the id stays. */
static void
record_clear_attrs(struct record *r)
{
	size_t i;

	for (i = 0; i < r->nattr; i++) {
		free(r->attr[i].name);
		free(r->attr[i].value);
	}
	r->nattr = 0;
}

int
record_set_id(struct record *r, const char *id, size_t len)
{
	char *n;

	if ((n = strndup(id, len)) == NULL)
		return -1;
	free(r->id);
	r->id = n;
	return 0;
}

static char *
memdup0(const char *p, size_t n)
{
	char *q;

	if (n == SIZE_MAX || (q = malloc(n + 1)) == NULL)
		return NULL;
	if (n)
		memcpy(q, p, n);
	q[n] = '\0';
	return q;
}

static int
record_reserve(struct record *r, size_t n)
{
	struct xattr *na;
	size_t ncap;

	if (n <= r->cap)
		return 0;
	ncap = r->cap ? r->cap * 2 : 8;
	if (ncap < n)
		ncap = n;
	if (ncap > SIZE_MAX / sizeof(*na))
		return -1;
	if ((na = realloc(r->attr, ncap * sizeof(*na))) == NULL)
		return -1;
	r->attr = na;
	r->cap = ncap;
	return 0;
}

/* Appends without looking for an existing name (callers guarantee uniqueness). */
static int
record_append(struct record *r, const char *name, size_t nlen, const char *value, size_t vlen)
{
	struct xattr *a;

	if (vlen > UINT32_MAX || record_reserve(r, r->nattr + 1) == -1)
		return -1;
	a = &r->attr[r->nattr];
	if ((a->name = memdup0(name, nlen)) == NULL)
		return -1;
	if ((a->value = memdup0(value, vlen)) == NULL) {
		free(a->name);
		return -1;
	}
	a->vlen = (uint32_t)vlen;
	r->nattr++;
	return 0;
}

static struct xattr *
record_findn(const struct record *r, const char *name, size_t nlen)
{
	size_t i;

	for (i = 0; i < r->nattr; i++)
		if (strncmp(r->attr[i].name, name, nlen) == 0 &&
		    r->attr[i].name[nlen] == '\0')
			return &r->attr[i];
	return NULL;
}

int
record_set(struct record *r, const char *name, size_t nlen, const char *value, size_t vlen)
{
	struct xattr *a;
	char *v;

	if (vlen > UINT32_MAX)
		return -1;
	if ((a = record_findn(r, name, nlen)) == NULL)
		return record_append(r, name, nlen, value, vlen);
	if ((v = memdup0(value, vlen)) == NULL)
		return -1;
	free(a->value);
	a->value = v;
	a->vlen = (uint32_t)vlen;
	return 0;
}

int
record_unset(struct record *r, const char *name)
{
	struct xattr *a;
	size_t i;

	if ((a = record_findn(r, name, strlen(name))) == NULL)
		return 0;
	i = (size_t)(a - r->attr);
	free(a->name);
	free(a->value);
	memmove(&r->attr[i], &r->attr[i + 1], (r->nattr - i - 1) * sizeof(*a));
	r->nattr--;
	return 1;
}

const struct xattr *
record_find(const struct record *r, const char *name)
{
	return record_findn(r, name, strlen(name));
}

int
record_merge(struct record *dst, const struct record *src)
{
	size_t i;

	for (i = 0; i < src->nattr; i++)
		if (record_set(dst, src->attr[i].name, strlen(src->attr[i].name),
		    src->attr[i].value, src->attr[i].vlen) == -1)
			return -1;
	return 0;
}

/* ---- binary form ------------------------------------------------------- */

size_t
record_attrs_size(const struct record *r)
{
	size_t i, n = 4;

	for (i = 0; i < r->nattr; i++)
		n += 2 + strlen(r->attr[i].name) + 4 + r->attr[i].vlen;
	return n;
}

void
record_encode_attrs(const struct record *r, struct buf *b)
{
	size_t i;

	if (r->nattr > UINT32_MAX) {
		b->oom = 1;
		return;
	}
	buf_put_u32(b, (uint32_t)r->nattr);
	for (i = 0; i < r->nattr; i++) {
		buf_put_str16(b, r->attr[i].name, strlen(r->attr[i].name));
		buf_put_str32(b, r->attr[i].value, r->attr[i].vlen);
	}
}

void
record_encode(const struct record *r, struct buf *b)
{
	const char *id = r->id ? r->id : "";

	buf_put_str16(b, id, strlen(id));
	record_encode_attrs(r, b);
}

static int
cmp_attr_name(const void *a, const void *b)
{
	const struct xattr *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

/* Duplicate check that stays O(n log n) for records with many attributes,
 * so a hostile request cannot make the server spin. */
static const char *
find_duplicate(const struct record *r)
{
	const struct xattr **v;
	const char *dup = NULL;
	size_t i, j;

	if (r->nattr < 2)
		return NULL;
	if (r->nattr <= 16) {
		for (i = 0; i < r->nattr; i++)
			for (j = i + 1; j < r->nattr; j++)
				if (strcmp(r->attr[i].name, r->attr[j].name) == 0)
					return r->attr[i].name;
		return NULL;
	}
	if ((v = malloc(r->nattr * sizeof(*v))) == NULL)
		return "";	/* treated as a failure by the caller */
	for (i = 0; i < r->nattr; i++)
		v[i] = &r->attr[i];
	qsort(v, r->nattr, sizeof(*v), cmp_attr_name);
	for (i = 1; i < r->nattr && dup == NULL; i++)
		if (strcmp(v[i - 1]->name, v[i]->name) == 0)
			dup = v[i]->name;
	free(v);
	return dup;
}

/* Reads the attribute part from rd into r (replacing r's attributes). */
static int
decode_attrs(struct record *r, struct rd *rd, char *err, size_t errlen)
{
	uint32_t n, i;
	const char *name, *value, *dup;
	size_t nlen, vlen;

	record_clear_attrs(r);
	n = rd_u32(rd);
	if (rd->bad) {
		seterr(err, errlen, "truncated record: no attribute count");
		return -1;
	}
	if (n > (rd->len - rd->off) / ATTR_MIN_ENCODED) {
		seterr(err, errlen, "bad record: %u attributes cannot fit in the %zu "
		    "bytes that follow", n, rd->len - rd->off);
		return -1;
	}
	if (n > RECORD_MAX_ATTRS) {
		seterr(err, errlen, "bad record: %u attributes, more than the %d "
		    "a record may have", n, RECORD_MAX_ATTRS);
		return -1;
	}
	if (record_reserve(r, n) == -1) {
		seterr(err, errlen, "out of memory decoding %u attributes", n);
		return -1;
	}
	for (i = 0; i < n; i++) {
		name = rd_str16(rd, &nlen);
		value = rd_str32(rd, &vlen);
		if (rd->bad) {
			seterr(err, errlen, "truncated record: attribute %u of %u "
			    "runs past the end", i + 1, n);
			goto fail;
		}
		if (record_name_valid(name, nlen, err, errlen) == -1)
			goto fail;
		if (record_append(r, name, nlen, value, vlen) == -1) {
			seterr(err, errlen, "out of memory decoding a record");
			goto fail;
		}
	}
	if ((dup = find_duplicate(r)) != NULL) {
		if (*dup == '\0')
			seterr(err, errlen, "out of memory decoding a record");
		else
			seterr(err, errlen, "bad record: duplicate attribute '%s'", dup);
		goto fail;
	}
	return 0;
fail:
	record_clear_attrs(r);
	return -1;
}

int
record_decode_attrs(struct record *r, const void *p, size_t len, char *err, size_t errlen)
{
	struct rd rd;

	rd_init(&rd, p, len);
	if (decode_attrs(r, &rd, err, errlen) == -1)
		return -1;
	if (!rd_done(&rd)) {
		seterr(err, errlen, "bad record: %zu trailing bytes after the attributes",
		    rd.len - rd.off);
		record_clear_attrs(r);
		return -1;
	}
	return 0;
}

int
record_decode_rd(struct record *r, struct rd *rd, char *err, size_t errlen)
{
	const char *id;
	size_t idlen;

	id = rd_str16(rd, &idlen);
	if (rd->bad) {
		seterr(err, errlen, "truncated record: id runs past the end");
		return -1;
	}
	if (record_id_valid(id, idlen, err, errlen) == -1)
		return -1;
	if (record_set_id(r, id, idlen) == -1) {
		seterr(err, errlen, "out of memory decoding a record");
		return -1;
	}
	return decode_attrs(r, rd, err, errlen);
}

/* ---- text form --------------------------------------------------------- */

static void
print_value(const char *v, size_t n, FILE *fp)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		switch (c) {
		case '\\':
			fputs("\\\\", fp);
			break;
		case '\n':
			fputs("\\n", fp);
			break;
		case '\r':
			fputs("\\r", fp);
			break;
		case '\t':
			fputs("\\t", fp);
			break;
		default:
			if (c < 0x20 || c == 0x7f)
				fprintf(fp, "\\x%02x", c);
			else
				putc(c, fp);
		}
	}
}

void
record_print(const struct record *r, FILE *fp)
{
	size_t i;

	for (i = 0; i < r->nattr; i++) {
		fprintf(fp, ":%s (", r->attr[i].name);
		print_value(r->attr[i].value, r->attr[i].vlen, fp);
		fputs(")\n", fp);
	}
}

void
record_write_text(const struct record *r, FILE *fp)
{
	fprintf(fp, "%s\n", r->id ? r->id : "");
	record_print(r, fp);
	putc('\n', fp);
}

/* The names of the record being read, so that each attribute line finds a
 * duplicate in constant time: a dump may hold a record with tens of
 * thousands of attributes, and a scan of the earlier ones per line made
 * reading it quadratic. Open addressing over indices into r->attr (slot 0:
 * empty, else index + 1), at most half full. */
struct nameset {
	size_t *slot;
	size_t cap;             /* a power of two, or 0 */
	size_t n;
};

static size_t
name_hash(const char *name, size_t nlen)
{
	size_t h = 14695981039346656037ULL & SIZE_MAX;     /* FNV-1a */
	size_t i;

	for (i = 0; i < nlen; i++) {
		h ^= (unsigned char)name[i];
		h *= (size_t)1099511628211ULL;
	}
	return h;
}

static void
nameset_free(struct nameset *ns)
{
	free(ns->slot);
	ns->slot = NULL;
	ns->cap = ns->n = 0;
}

/* The slot holding name, or the empty slot where it would go. */
static size_t *
nameset_slot(const struct nameset *ns, const struct record *r, const char *name,
    size_t nlen)
{
	size_t i = name_hash(name, nlen) & (ns->cap - 1);
	const char *s;

	for (;; i = (i + 1) & (ns->cap - 1)) {
		if (ns->slot[i] == 0)
			return &ns->slot[i];
		s = r->attr[ns->slot[i] - 1].name;
		if (strncmp(s, name, nlen) == 0 && s[nlen] == '\0')
			return &ns->slot[i];
	}
}

static int
nameset_has(const struct nameset *ns, const struct record *r, const char *name,
    size_t nlen)
{
	return ns->cap > 0 && *nameset_slot(ns, r, name, nlen) != 0;
}

/* Adds attribute idx of r (not yet in the set). 0 or -1 (ENOMEM). */
static int
nameset_add(struct nameset *ns, const struct record *r, size_t idx)
{
	struct nameset big;
	const char *name;
	size_t i;

	if (ns->n + 1 > ns->cap / 2) {
		big.cap = ns->cap ? ns->cap * 2 : 64;
		if (big.cap > SIZE_MAX / sizeof(*big.slot) / 2 ||
		    (big.slot = calloc(big.cap, sizeof(*big.slot))) == NULL)
			return -1;
		big.n = 0;
		for (i = 0; i < ns->cap; i++) {
			if (ns->slot[i] == 0)
				continue;
			name = r->attr[ns->slot[i] - 1].name;
			*nameset_slot(&big, r, name, strlen(name)) = ns->slot[i];
			big.n++;
		}
		free(ns->slot);
		*ns = big;
	}
	name = r->attr[idx].name;
	*nameset_slot(ns, r, name, strlen(name)) = idx + 1;
	ns->n++;
	return 0;
}

/* One ":name (value)" line appended to r. With ns (the names of r so far,
 * kept up to date here) the duplicate check is a look-up, else a scan. */
static int
parse_attr_line(const char *line, struct record *r, struct nameset *ns, char *err,
    size_t errlen)
{
	const char *name, *sp, *val, *close, *p;
	size_t nlen, len, vlen = 0;
	char q[300], *out;
	int rc = -1, hi, lo;

	len = strlen(line);
	if (line[0] != ':') {
		seterr(err, errlen, "bad attribute line '%s': expected ':name (value)'",
		    quote(q, sizeof(q), line, len));
		return -1;
	}
	name = line + 1;
	nlen = strcspn(name, " \t(");
	sp = name + nlen;
	while (*sp == ' ' || *sp == '\t')
		sp++;
	if (nlen == 0 || *sp != '(' || sp == name + nlen) {
		seterr(err, errlen, "bad attribute line '%s': expected ':name (value)'",
		    quote(q, sizeof(q), line, len));
		return -1;
	}
	if (record_name_valid(name, nlen, err, errlen) == -1)
		return -1;
	val = sp + 1;
	if ((close = strrchr(val, ')')) == NULL) {
		seterr(err, errlen, "missing ')' at the end of the value of '%.*s'",
		    (int)nlen, name);
		return -1;
	}
	for (p = close + 1; *p != '\0'; p++) {
		if (*p != ' ' && *p != '\t') {
			seterr(err, errlen, "text after the closing ')' of '%.*s': '%s'",
			    (int)nlen, name, quote(q, sizeof(q), close + 1, strlen(close + 1)));
			return -1;
		}
	}
	if (ns != NULL ? nameset_has(ns, r, name, nlen) :
	    record_findn(r, name, nlen) != NULL) {
		seterr(err, errlen, "duplicate attribute '%.*s'", (int)nlen, name);
		return -1;
	}
	/* The unescaped value is never longer than the escaped one. */
	if ((out = malloc((size_t)(close - val) + 1)) == NULL) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	for (p = val; p < close; p++) {
		unsigned char c = (unsigned char)*p;

		if (c != '\\') {
			if ((c < 0x20 && c != '\t') || c == 0x7f) {
				seterr(err, errlen, "raw control byte 0x%02x in the value of "
				    "'%.*s' (write it as \\x%02x)", c, (int)nlen, name, c);
				goto done;
			}
			out[vlen++] = (char)c;
			continue;
		}
		if (++p >= close) {
			seterr(err, errlen, "bad escape: lone '\\' at the end of the value "
			    "of '%.*s' (write a backslash as \\\\)", (int)nlen, name);
			goto done;
		}
		switch (*p) {
		case '\\': out[vlen++] = '\\'; break;
		case 'n': out[vlen++] = '\n'; break;
		case 'r': out[vlen++] = '\r'; break;
		case 't': out[vlen++] = '\t'; break;
		case 'x':
			if (close - p < 3 || (hi = util_hexval((unsigned char)p[1])) < 0 ||
			    (lo = util_hexval((unsigned char)p[2])) < 0) {
				seterr(err, errlen, "bad escape in the value of '%.*s': "
				    "\\x needs two hex digits", (int)nlen, name);
				goto done;
			}
			out[vlen++] = (char)(hi * 16 + lo);
			p += 2;
			break;
		default:
			seterr(err, errlen, "bad escape '\\%s' in the value of '%.*s' "
			    "(known: \\\\ \\n \\r \\t \\xHH)",
			    quote(q, sizeof(q), p, 1), (int)nlen, name);
			goto done;
		}
	}
	if (record_append(r, name, nlen, out, vlen) == -1) {
		seterr(err, errlen, "out of memory");
		goto done;
	}
	if (ns != NULL && nameset_add(ns, r, r->nattr - 1) == -1) {
		seterr(err, errlen, "out of memory");
		goto done;
	}
	rc = 0;
done:
	free(out);
	return rc;
}

int
record_parse_attr_line(const char *line, struct record *r, char *err, size_t errlen)
{
	return parse_attr_line(line, r, NULL, err, errlen);
}

static int
is_blank(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s != ' ' && *s != '\t')
			return 0;
	return 1;
}

int
record_read_text(FILE *fp, struct record *r, int *lineno, char *err, size_t errlen)
{
	char *line = NULL, e[512], q[300];
	struct nameset names = { NULL, 0, 0 };
	size_t cap = 0, n;
	ssize_t got;
	int inrec = 0, rc = -1;

	record_free(r);
	for (;;) {
		errno = 0;
		if ((got = getline(&line, &cap, fp)) == -1) {
			if (ferror(fp)) {
				seterr(err, errlen, "line %d: read error: %s", *lineno + 1,
				    strerror(errno ? errno : EIO));
				goto out;
			}
			rc = inrec;
			goto out;
		}
		(*lineno)++;
		n = (size_t)got;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		if (strlen(line) != n) {
			seterr(err, errlen, "line %d: NUL byte in the line", *lineno);
			goto out;
		}
		if (is_blank(line)) {
			if (inrec) {
				rc = 1;
				goto out;
			}
			continue;
		}
		if (!inrec) {
			if (line[0] == '#')
				continue;
			if (line[0] == ':') {
				seterr(err, errlen, "line %d: attribute line before a record id "
				    "(a record starts with its id, e.g. 0.shadow_server.2)", *lineno);
				goto out;
			}
			while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
				line[--n] = '\0';
			if (record_id_valid(line, n, e, sizeof(e)) == -1) {
				seterr(err, errlen, "line %d: %s", *lineno, e);
				goto out;
			}
			if (record_set_id(r, line, n) == -1) {
				seterr(err, errlen, "line %d: out of memory", *lineno);
				goto out;
			}
			inrec = 1;
			continue;
		}
		if (line[0] != ':') {
			seterr(err, errlen, "line %d: bad attribute line '%s' in record %s: "
			    "expected ':name (value)' or a blank line ending the record",
			    *lineno, quote(q, sizeof(q), line, n), r->id);
			goto out;
		}
		if (parse_attr_line(line, r, &names, e, sizeof(e)) == -1) {
			seterr(err, errlen, "line %d: %s (record %s)", *lineno, e, r->id);
			goto out;
		}
	}
out:
	free(line);
	nameset_free(&names);
	if (rc == -1)
		record_free(r);
	return rc;
}

int
record_parse_assign(const char *arg, struct record *r, char *err, size_t errlen)
{
	const char *eq;
	char q[300];

	if ((eq = strchr(arg, '=')) == NULL) {
		seterr(err, errlen, "'%s': expected name=value",
		    quote(q, sizeof(q), arg, strlen(arg)));
		return -1;
	}
	if (record_name_valid(arg, (size_t)(eq - arg), err, errlen) == -1)
		return -1;
	if (record_findn(r, arg, (size_t)(eq - arg)) != NULL) {
		seterr(err, errlen, "attribute '%.*s' given twice", (int)(eq - arg), arg);
		return -1;
	}
	if (record_append(r, arg, (size_t)(eq - arg), eq + 1, strlen(eq + 1)) == -1) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}
