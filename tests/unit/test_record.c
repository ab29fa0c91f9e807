/* test_record.c — records: validation, operations, binary codec, text form. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "record.h"

static char err[512];

/* ---- buf / rd ---------------------------------------------------------- */

static void
t_buf_rd(void)
{
	struct buf b;
	struct rd r;
	const char *s;
	size_t n;
	char big[70000];

	buf_init(&b);
	buf_put_u8(&b, 0xab);
	buf_put_u16(&b, 0x1234);
	buf_put_u32(&b, 0xdeadbeef);
	buf_put_u64(&b, 0x0102030405060708ULL);
	buf_put_str16(&b, "hi", 2);
	buf_put_str32(&b, "there", 5);
	CU_ASSERT_EQUAL(b.len, 1 + 2 + 4 + 8 + 4 + 9);
	CU_ASSERT_EQUAL(b.p[1], 0x12);          /* big-endian */
	CU_ASSERT_EQUAL(b.p[3], 0xde);
	CU_ASSERT_FALSE(b.oom);

	rd_init(&r, b.p, b.len);
	CU_ASSERT_EQUAL(rd_u8(&r), 0xab);
	CU_ASSERT_EQUAL(rd_u16(&r), 0x1234);
	CU_ASSERT_EQUAL(rd_u32(&r), 0xdeadbeef);
	CU_ASSERT_EQUAL(rd_u64(&r), 0x0102030405060708ULL);
	s = rd_str16(&r, &n);
	CU_ASSERT(n == 2 && memcmp(s, "hi", 2) == 0);
	CU_ASSERT_FALSE(rd_done(&r));
	s = rd_str32(&r, &n);
	CU_ASSERT(n == 5 && memcmp(s, "there", 5) == 0);
	CU_ASSERT_TRUE(rd_done(&r));

	/* Underflow marks the reader bad and later reads return 0 / NULL. */
	CU_ASSERT_EQUAL(rd_u8(&r), 0);
	CU_ASSERT_TRUE(r.bad);
	CU_ASSERT_FALSE(rd_done(&r));
	CU_ASSERT_PTR_NULL(rd_str16(&r, &n));
	CU_ASSERT_EQUAL(n, 0);

	/* A string length past the end. */
	rd_init(&r, "\x00\x05" "abc", 5);
	CU_ASSERT_PTR_NULL(rd_str16(&r, &n));
	CU_ASSERT_TRUE(r.bad);
	rd_init(&r, "\x00\x00\x00\x09" "abc", 7);
	CU_ASSERT_PTR_NULL(rd_str32(&r, &n));
	CU_ASSERT_TRUE(r.bad);
	rd_init(&r, "\x01\x02\x03", 3);
	CU_ASSERT_EQUAL(rd_u32(&r), 0);
	CU_ASSERT_TRUE(r.bad);
	rd_init(&r, "\x01\x02\x03\x04\x05\x06\x07", 7);
	CU_ASSERT_EQUAL(rd_u64(&r), 0);
	CU_ASSERT_TRUE(r.bad);

	/* A string over its length field is flagged, never truncated. */
	memset(big, 'a', sizeof(big));
	buf_reset(&b);
	CU_ASSERT_EQUAL(b.len, 0);
	buf_put_str16(&b, big, sizeof(big));
	CU_ASSERT_TRUE(b.oom);
	CU_ASSERT_EQUAL(b.len, 0);
	buf_reset(&b);
	CU_ASSERT_FALSE(b.oom);

	/* Growth across many puts keeps the content. */
	for (n = 0; n < 10000; n++)
		buf_put_u32(&b, (uint32_t)n);
	CU_ASSERT_EQUAL(b.len, 40000);
	rd_init(&r, b.p, b.len);
	for (n = 0; n < 10000; n++)
		if (rd_u32(&r) != n)
			break;
	CU_ASSERT_EQUAL(n, 10000);
	CU_ASSERT_TRUE(rd_done(&r));
	buf_free(&b);
	CU_ASSERT_PTR_NULL(b.p);
}

/* ---- validation -------------------------------------------------------- */

static void
bad_id(const char *id, size_t len, const char *want)
{
	err[0] = '\0';
	CU_ASSERT_EQUAL(record_id_valid(id, len, err, sizeof(err)), -1);
	if (strcmp(err, want) != 0) {
		fprintf(stderr, "\n  id: got  '%s'\n      want '%s'\n", err, want);
		CU_FAIL("id error message");
	}
}

static void
t_id_valid(void)
{
	char longid[300], cat[70];
	const char *good[] = {
		"0.shadow_server.2", "4294967295.a.b", "12.x-y_Z.a:b.c-d_e",
		"1.device.1", "0.a.b", NULL
	};
	int i;

	for (i = 0; good[i] != NULL; i++)
		CU_ASSERT_EQUAL(record_id_valid(good[i], strlen(good[i]), err, sizeof(err)), 0);

	bad_id("0.shadow server.2", 17, "bad record id '0.shadow server.2': category "
	    "may only contain letters, digits, '_' and '-'");
	bad_id("", 0, "bad record id '': empty (expected DOMAIN.CATEGORY.ID, e.g. "
	    "0.shadow_server.2)");
	bad_id("01.a.b", 6, "bad record id '01.a.b': domain has a leading zero");
	bad_id("4294967296.a.b", 14, "bad record id '4294967296.a.b': domain is larger "
	    "than 4294967295");
	bad_id("99999999999999999999.a.b", 24, "bad record id '99999999999999999999.a.b': "
	    "domain is larger than 4294967295");
	bad_id("x.a.b", 5, "bad record id 'x.a.b': domain must be a decimal number");
	bad_id("-1.a.b", 6, "bad record id '-1.a.b': domain must be a decimal number");
	bad_id(".a.b", 4, "bad record id '.a.b': domain is empty (expected a number "
	    "such as 0)");
	bad_id("0", 1, "bad record id '0': expected DOMAIN.CATEGORY.ID (e.g. "
	    "0.shadow_server.2)");
	bad_id("0.shadow_server", 15, "bad record id '0.shadow_server': expected "
	    "DOMAIN.CATEGORY.ID (e.g. 0.shadow_server.2)");
	bad_id("0..2", 4, "bad record id '0..2': category is empty");
	bad_id("0.a.", 4, "bad record id '0.a.': id after the category is empty");
	bad_id("0.a.b c", 7, "bad record id '0.a.b c': id may only contain letters, "
	    "digits, '_', '.', ':' and '-'");
	bad_id("0.a.b/c", 7, "bad record id '0.a.b/c': id may only contain letters, "
	    "digits, '_', '.', ':' and '-'");
	bad_id("0.a.b\n", 6, "bad record id '0.a.b\\x0a': id may only contain letters, "
	    "digits, '_', '.', ':' and '-'");
	bad_id("0.a\0.b", 6, "bad record id '0.a\\x00.b': contains a NUL byte");
	bad_id("0.caf\xc3\xa9.1", 9, "bad record id '0.caf\\xc3\\xa9.1': category may "
	    "only contain letters, digits, '_' and '-'");

	memset(cat, 'c', 65);
	snprintf(longid, sizeof(longid), "0.%.65s.1", cat);
	CU_ASSERT_EQUAL(record_id_valid(longid, strlen(longid), err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "category is longer than 64 characters"));
	snprintf(longid, sizeof(longid), "0.%.64s.1", cat);
	CU_ASSERT_EQUAL(record_id_valid(longid, strlen(longid), err, sizeof(err)), 0);

	memset(longid, 'i', sizeof(longid));
	memcpy(longid, "0.a.", 4);
	CU_ASSERT_EQUAL(record_id_valid(longid, 4 + 128, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(record_id_valid(longid, 4 + 129, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "id after the category is longer than 128"));
	CU_ASSERT_EQUAL(record_id_valid(longid, 256, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "longer than 255 bytes"));
	CU_ASSERT(strlen(err) < sizeof(err) - 1);     /* not cut off */
	CU_ASSERT(strcmp(err + strlen(err) - 21, "longer than 255 bytes") == 0);
}

static void
t_name_valid(void)
{
	char n[200];

	CU_ASSERT_EQUAL(record_name_valid("type", 4, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(record_name_valid("rule.1_a-b", 10, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(record_name_valid("", 0, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "empty attribute name");
	CU_ASSERT_EQUAL(record_name_valid("x y", 3, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "bad attribute name 'x y': may only contain letters, "
	    "digits, '_', '.' and '-'");
	CU_ASSERT_EQUAL(record_name_valid("a:b", 3, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(record_name_valid("a\0b", 3, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "bad attribute name 'a\\x00b': may only contain "
	    "letters, digits, '_', '.' and '-'");
	memset(n, 'n', sizeof(n));
	CU_ASSERT_EQUAL(record_name_valid(n, RECORD_NAME_MAX, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(record_name_valid(n, RECORD_NAME_MAX + 1, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "is longer than 128 characters"));
}

static void
t_prefix_valid(void)
{
	const char *good[] = { "", "0", "12", "0.", "0.shadow", "0.shadow_server.",
	    "0.shadow_server.2", "0.a.b.c", NULL };
	int i;

	for (i = 0; good[i] != NULL; i++)
		CU_ASSERT_EQUAL(record_prefix_valid(good[i], strlen(good[i]), err,
		    sizeof(err)), 1);
	CU_ASSERT_EQUAL(record_prefix_valid("01", 2, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(err, "bad record id prefix '01': domain has a leading zero");
	CU_ASSERT_EQUAL(record_prefix_valid("x", 1, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(err, "bad record id prefix 'x': domain must be a decimal "
	    "number");
	CU_ASSERT_EQUAL(record_prefix_valid(".", 1, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "domain is empty"));
	CU_ASSERT_EQUAL(record_prefix_valid("0..", 3, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "category is empty"));
	CU_ASSERT_EQUAL(record_prefix_valid("0.a b", 5, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "category may only contain"));
	CU_ASSERT_EQUAL(record_prefix_valid("0.a.b c", 7, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "id may only contain"));
	CU_ASSERT_EQUAL(record_prefix_valid("5000000000", 10, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "larger than 4294967295"));
}

/* ---- operations -------------------------------------------------------- */

static void
t_ops(void)
{
	struct record r, s;
	const struct xattr *a;

	record_init(&r);
	record_init(&s);
	CU_ASSERT_EQUAL(record_set_id(&r, "0.shadow_server.2xyz", 17), 0);
	CU_ASSERT_STRING_EQUAL(r.id, "0.shadow_server.2");
	CU_ASSERT_EQUAL(record_set(&r, "type", 4, "peerGuiSvr", 10), 0);
	CU_ASSERT_EQUAL(record_set(&r, "ip", 2, "127.0.0.2", 9), 0);
	CU_ASSERT_EQUAL(record_set(&r, "type", 4, "x", 1), 0);    /* replace in place */
	CU_ASSERT_EQUAL(r.nattr, 2);
	CU_ASSERT_STRING_EQUAL(r.attr[0].name, "type");
	CU_ASSERT_STRING_EQUAL(r.attr[0].value, "x");
	CU_ASSERT_EQUAL(r.attr[0].vlen, 1);
	CU_ASSERT_EQUAL(record_set(&r, "bin", 3, "a\0b", 3), 0);
	a = record_find(&r, "bin");
	CU_ASSERT(a != NULL && a->vlen == 3 && memcmp(a->value, "a\0b", 4) == 0);
	CU_ASSERT_PTR_NULL(record_find(&r, "bi"));
	CU_ASSERT_PTR_NULL(record_find(&r, "binx"));

	CU_ASSERT_EQUAL(record_unset(&r, "ip"), 1);
	CU_ASSERT_EQUAL(record_unset(&r, "ip"), 0);
	CU_ASSERT_EQUAL(r.nattr, 2);
	CU_ASSERT_STRING_EQUAL(r.attr[1].name, "bin");     /* order kept */

	/* merge: set semantics, new names appended in src order */
	record_set(&s, "bin", 3, "new", 3);
	record_set(&s, "z", 1, "", 0);
	record_set(&s, "a", 1, "1", 1);
	CU_ASSERT_EQUAL(record_merge(&r, &s), 0);
	CU_ASSERT_EQUAL(r.nattr, 4);
	CU_ASSERT_STRING_EQUAL(r.attr[0].name, "type");
	CU_ASSERT_STRING_EQUAL(r.attr[1].name, "bin");
	CU_ASSERT_STRING_EQUAL(r.attr[1].value, "new");
	CU_ASSERT_STRING_EQUAL(r.attr[2].name, "z");
	CU_ASSERT_EQUAL(r.attr[2].vlen, 0);
	CU_ASSERT_STRING_EQUAL(r.attr[3].name, "a");

	record_free(&r);
	CU_ASSERT_PTR_NULL(r.id);
	CU_ASSERT_EQUAL(r.nattr, 0);
	record_free(&r);    /* twice is harmless */
	record_free(&s);
}

/* ---- binary codec ------------------------------------------------------ */

static void
t_codec(void)
{
	struct record r, d;
	struct buf b;
	struct rd rd;

	record_init(&r);
	record_init(&d);
	buf_init(&b);
	record_set_id(&r, "0.shadow_server.2", 17);
	record_set(&r, "type", 4, "peerGuiSvr", 10);
	record_set(&r, "empty", 5, "", 0);
	record_set(&r, "bin", 3, "\0\xff\n)", 4);
	record_encode_attrs(&r, &b);
	CU_ASSERT_EQUAL(b.len, record_attrs_size(&r));
	CU_ASSERT_EQUAL(record_decode_attrs(&d, b.p, b.len, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(d.nattr, 3);
	CU_ASSERT_STRING_EQUAL(d.attr[0].value, "peerGuiSvr");
	CU_ASSERT_EQUAL(d.attr[1].vlen, 0);
	CU_ASSERT(d.attr[2].vlen == 4 && memcmp(d.attr[2].value, "\0\xff\n)", 4) == 0);
	CU_ASSERT_PTR_NULL(d.id);

	/* Trailing bytes. */
	buf_put_u8(&b, 0);
	CU_ASSERT_EQUAL(record_decode_attrs(&d, b.p, b.len, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "bad record: 1 trailing bytes after the attributes");
	CU_ASSERT_EQUAL(d.nattr, 0);
	/* Truncated at every length short of the whole. */
	b.len--;
	for (size_t cut = 0; cut < b.len; cut++) {
		CU_ASSERT_EQUAL(record_decode_attrs(&d, b.p, cut, err, sizeof(err)), -1);
		CU_ASSERT_EQUAL(d.nattr, 0);
	}
	CU_ASSERT_EQUAL(record_decode_attrs(&d, b.p, 2, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "truncated record: no attribute count");
	CU_ASSERT_EQUAL(record_decode_attrs(&d, b.p, b.len - 1, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "truncated record: attribute 3 of 3 runs past the end");

	/* Whole record with id. */
	buf_reset(&b);
	record_encode(&r, &b);
	rd_init(&rd, b.p, b.len);
	CU_ASSERT_EQUAL(record_decode_rd(&d, &rd, err, sizeof(err)), 0);
	CU_ASSERT_TRUE(rd_done(&rd));
	CU_ASSERT_STRING_EQUAL(d.id, "0.shadow_server.2");
	CU_ASSERT_EQUAL(d.nattr, 3);
	rd_init(&rd, b.p, 10);
	CU_ASSERT_EQUAL(record_decode_rd(&d, &rd, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "truncated record: id runs past the end");

	buf_reset(&b);
	buf_put_str16(&b, "0.bad id.1", 10);
	buf_put_u32(&b, 0);
	rd_init(&rd, b.p, b.len);
	CU_ASSERT_EQUAL(record_decode_rd(&d, &rd, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "bad record id '0.bad id.1'"));

	/* A count that the remaining bytes cannot hold is refused before any
	 * allocation. */
	buf_reset(&b);
	buf_put_u32(&b, 0xffffffff);
	buf_put_u32(&b, 0);
	CU_ASSERT_EQUAL(record_decode_attrs(&d, b.p, b.len, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "bad record: 4294967295 attributes cannot fit in the "
	    "4 bytes that follow");

	/* Invalid and empty names. */
	buf_reset(&b);
	buf_put_u32(&b, 1);
	buf_put_str16(&b, "a b", 3);
	buf_put_str32(&b, "v", 1);
	CU_ASSERT_EQUAL(record_decode_attrs(&d, b.p, b.len, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "bad attribute name 'a b'"));
	buf_reset(&b);
	buf_put_u32(&b, 1);
	buf_put_str16(&b, "", 0);
	buf_put_str32(&b, "v", 1);
	CU_ASSERT_EQUAL(record_decode_attrs(&d, b.p, b.len, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "empty attribute name");

	/* Value length past the end. */
	buf_reset(&b);
	buf_put_u32(&b, 1);
	buf_put_str16(&b, "a", 1);
	buf_put_u32(&b, 1000);
	buf_put(&b, "xyz", 3);
	CU_ASSERT_EQUAL(record_decode_attrs(&d, b.p, b.len, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "truncated record: attribute 1 of 1 runs past the end");

	/* Duplicates: few attributes (pairwise) and many (sorted check). */
	buf_reset(&b);
	buf_put_u32(&b, 2);
	buf_put_str16(&b, "a", 1);
	buf_put_str32(&b, "1", 1);
	buf_put_str16(&b, "a", 1);
	buf_put_str32(&b, "2", 1);
	CU_ASSERT_EQUAL(record_decode_attrs(&d, b.p, b.len, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "bad record: duplicate attribute 'a'");
	buf_reset(&b);
	buf_put_u32(&b, 100);
	for (int i = 0; i < 100; i++) {
		char nm[16];

		snprintf(nm, sizeof(nm), "n%d", i == 77 ? 3 : i);
		buf_put_str16(&b, nm, strlen(nm));
		buf_put_str32(&b, "", 0);
	}
	CU_ASSERT_EQUAL(record_decode_attrs(&d, b.p, b.len, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "bad record: duplicate attribute 'n3'");
	/* ... and the same without the duplicate decodes. */
	buf_reset(&b);
	buf_put_u32(&b, 100);
	for (int i = 0; i < 100; i++) {
		char nm[16];

		snprintf(nm, sizeof(nm), "n%d", i);
		buf_put_str16(&b, nm, strlen(nm));
		buf_put_str32(&b, "", 0);
	}
	CU_ASSERT_EQUAL(record_decode_attrs(&d, b.p, b.len, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(d.nattr, 100);

	/* More attributes than a record may have: refused from the count,
	 * before any is decoded (600,000 duplicates in 4 MB once cost guisvr
	 * 60 MB per request). */
	buf_reset(&b);
	buf_put_u32(&b, RECORD_MAX_ATTRS + 1);
	for (int i = 0; i <= RECORD_MAX_ATTRS; i++) {
		buf_put_str16(&b, "a", 1);
		buf_put_str32(&b, "", 0);
	}
	CU_ASSERT_EQUAL(record_decode_attrs(&d, b.p, b.len, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "more than the 100000 a record may "
	    "have"));
	CU_ASSERT_EQUAL(d.nattr, 0);

	/* Zero attributes. */
	CU_ASSERT_EQUAL(record_decode_attrs(&d, "\0\0\0\0", 4, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(d.nattr, 0);

	record_free(&r);
	record_free(&d);
	buf_free(&b);
}

/* ---- text form --------------------------------------------------------- */

static char *
to_text(const struct record *r, int whole)
{
	char *p = NULL;
	size_t n = 0;
	FILE *fp = open_memstream(&p, &n);

	if (whole)
		record_write_text(r, fp);
	else
		record_print(r, fp);
	fclose(fp);
	return p;
}

static void
t_text_roundtrip(void)
{
	struct record r, d;
	char *t, bin[256];
	FILE *fp;
	int line = 0, i;

	record_init(&r);
	record_init(&d);
	record_set_id(&r, "0.shadow_server.2", 17);
	record_set(&r, "type", 4, "peerGuiSvr", 10);
	record_set(&r, "clientOneTimePassword", 21, "netscreen", 9);
	t = to_text(&r, 0);
	CU_ASSERT_STRING_EQUAL(t, ":type (peerGuiSvr)\n:clientOneTimePassword (netscreen)\n");
	free(t);

	record_set(&r, "paren", 5, "a) (b (c)", 9);
	record_set(&r, "esc", 3, "x\\y\nz\r\t\x01\x7f", 9);
	record_set(&r, "empty", 5, "", 0);
	record_set(&r, "close", 5, ")", 1);
	for (i = 0; i < 256; i++)
		bin[i] = (char)i;
	record_set(&r, "bin", 3, bin, 256);
	t = to_text(&r, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "0.shadow_server.2\n:type (peerGuiSvr)\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\n:paren (a) (b (c))\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\n:esc (x\\\\y\\nz\\r\\t\\x01\\x7f)\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\n:empty ()\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\n:close ())\n"));
	CU_ASSERT(strlen(t) > 2 && strcmp(t + strlen(t) - 2, ")\n") != 0);  /* blank end */

	fp = fmemopen(t, strlen(t), "r");
	CU_ASSERT_EQUAL(record_read_text(fp, &d, &line, err, sizeof(err)), 1);
	CU_ASSERT_EQUAL(line, 9);
	CU_ASSERT_STRING_EQUAL(d.id, r.id);
	CU_ASSERT_EQUAL(d.nattr, r.nattr);
	for (i = 0; i < (int)r.nattr && i < (int)d.nattr; i++) {
		CU_ASSERT_STRING_EQUAL(d.attr[i].name, r.attr[i].name);
		CU_ASSERT_EQUAL(d.attr[i].vlen, r.attr[i].vlen);
		CU_ASSERT(memcmp(d.attr[i].value, r.attr[i].value, r.attr[i].vlen) == 0);
	}
	CU_ASSERT_EQUAL(record_read_text(fp, &d, &line, err, sizeof(err)), 0);
	fclose(fp);
	free(t);
	record_free(&r);
	record_free(&d);
}

static void
t_text_read(void)
{
	const char *in =
	    "# hasvr xdb dump v1 2024-01-01T00:00:00Z 3 records\n"
	    "\n"
	    "\n"
	    "0.a.1\n"
	    ":x (1)\n"
	    "\n"
	    "# between records\n"
	    "0.a.2  \r\n"
	    ":y  (two words) \r\n"
	    ":hex (\\x41\\x6a)\n"
	    ":tab (a\tb)\n"
	    "\n"
	    "   \n"
	    "0.a.3\n";   /* no attributes, no blank line at EOF */
	struct record r;
	FILE *fp = fmemopen((void *)in, strlen(in), "r");
	int line = 0;

	record_init(&r);
	CU_ASSERT_EQUAL(record_read_text(fp, &r, &line, err, sizeof(err)), 1);
	CU_ASSERT_STRING_EQUAL(r.id, "0.a.1");
	CU_ASSERT_EQUAL(r.nattr, 1);
	CU_ASSERT_EQUAL(line, 6);
	CU_ASSERT_EQUAL(record_read_text(fp, &r, &line, err, sizeof(err)), 1);
	CU_ASSERT_STRING_EQUAL(r.id, "0.a.2");
	CU_ASSERT_EQUAL(r.nattr, 3);
	CU_ASSERT_STRING_EQUAL(record_find(&r, "y")->value, "two words");
	CU_ASSERT_STRING_EQUAL(record_find(&r, "hex")->value, "Aj");
	CU_ASSERT_STRING_EQUAL(record_find(&r, "tab")->value, "a\tb");
	CU_ASSERT_EQUAL(record_read_text(fp, &r, &line, err, sizeof(err)), 1);
	CU_ASSERT_STRING_EQUAL(r.id, "0.a.3");
	CU_ASSERT_EQUAL(r.nattr, 0);
	CU_ASSERT_EQUAL(record_read_text(fp, &r, &line, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(line, 14);
	fclose(fp);
	record_free(&r);

	/* Empty input and comments only. */
	fp = fmemopen((void *)"# only\n\n", 8, "r");
	line = 0;
	CU_ASSERT_EQUAL(record_read_text(fp, &r, &line, err, sizeof(err)), 0);
	fclose(fp);
}

static void
bad_text(const char *in, size_t len, const char *want)
{
	struct record r;
	FILE *fp = fmemopen((void *)in, len, "r");
	int line = 0, rc;

	record_init(&r);
	err[0] = '\0';
	do
		rc = record_read_text(fp, &r, &line, err, sizeof(err));
	while (rc == 1);
	CU_ASSERT_EQUAL(rc, -1);
	if (strcmp(err, want) != 0) {
		fprintf(stderr, "\n  text: got  '%s'\n        want '%s'\n", err, want);
		CU_FAIL("text error message");
	}
	CU_ASSERT_PTR_NULL(r.id);    /* nothing half-read is left */
	fclose(fp);
}

static void
t_text_errors(void)
{
	bad_text(":type (x)\n", 10, "line 1: attribute line before a record id (a record "
	    "starts with its id, e.g. 0.shadow_server.2)");
	bad_text("# c\n\n0.shadow server.2\n", 23, "line 3: bad record id "
	    "'0.shadow server.2': category may only contain letters, digits, '_' and '-'");
	bad_text("0.a.1\n:x (1)\n\n0.a.2\nfoo\n", 24, "line 5: bad attribute line 'foo' "
	    "in record 0.a.2: expected ':name (value)' or a blank line ending the record");
	bad_text("0.a.1\n# not a comment here\n", 27, "line 2: bad attribute line "
	    "'# not a comment here' in record 0.a.1: expected ':name (value)' or a blank "
	    "line ending the record");
	bad_text("0.a.1\n:x (1\n", 12, "line 2: missing ')' at the end of the value of "
	    "'x' (record 0.a.1)");
	bad_text("0.a.1\n:x 1)\n", 12, "line 2: bad attribute line ':x 1)': expected "
	    "':name (value)' (record 0.a.1)");
	bad_text("0.a.1\n:x(1)\n", 12, "line 2: bad attribute line ':x(1)': expected "
	    "':name (value)' (record 0.a.1)");
	bad_text("0.a.1\n:x\n", 9, "line 2: bad attribute line ':x': expected "
	    "':name (value)' (record 0.a.1)");
	bad_text("0.a.1\n:x y (1)\n", 15, "line 2: bad attribute line ':x y (1)': "
	    "expected ':name (value)' (record 0.a.1)");
	bad_text("0.a.1\n: (1)\n", 12, "line 2: bad attribute line ': (1)': expected "
	    "':name (value)' (record 0.a.1)");
	bad_text("0.a.1\n:a/b (1)\n", 15, "line 2: bad attribute name 'a/b': may only "
	    "contain letters, digits, '_', '.' and '-' (record 0.a.1)");
	bad_text("0.a.1\n:x (1) y\n", 14, "line 2: text after the closing ')' of 'x': ' y' "
	    "(record 0.a.1)");
	bad_text("0.a.1\n:x (a\\qb)\n", 16, "line 2: bad escape '\\q' in the value of 'x' "
	    "(known: \\\\ \\n \\r \\t \\xHH) (record 0.a.1)");
	bad_text("0.a.1\n:x (a\\)\n", 14, "line 2: bad escape: lone '\\' at the end of the "
	    "value of 'x' (write a backslash as \\\\) (record 0.a.1)");
	bad_text("0.a.1\n:x (\\x4)\n", 15, "line 2: bad escape in the value of 'x': \\x "
	    "needs two hex digits (record 0.a.1)");
	bad_text("0.a.1\n:x (\\xg0)\n", 16, "line 2: bad escape in the value of 'x': \\x "
	    "needs two hex digits (record 0.a.1)");
	bad_text("0.a.1\n:x (a\x01)\n", 13, "line 2: raw control byte 0x01 in the value "
	    "of 'x' (write it as \\x01) (record 0.a.1)");
	bad_text("0.a.1\n:x (1)\n:y (2)\n:x (3)\n", 27, "line 4: duplicate attribute 'x' "
	    "(record 0.a.1)");
	bad_text("0.a.1\n:x (a\0b)\n", 15, "line 2: NUL byte in the line");
}

/* A record of n attributes "attr000000" … in text, one per line after the
 * id line, with extra appended before the blank line (malloc'd). */
static char *
many_attrs(int n, const char *extra)
{
	size_t cap = (size_t)n * 24 + strlen(extra) + 32, len;
	char *t = malloc(cap);
	int i;

	if (t == NULL)
		return NULL;
	len = (size_t)snprintf(t, cap, "0.big.1\n");
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(t + len, cap - len, ":attr%06d (v%d)\n", i, i);
	snprintf(t + len, cap - len, "%s\n", extra);
	return t;
}

/* Many attributes: every name found again however many came before, each
 * duplicate named with its line, names that only share a prefix or live in
 * another record never taken for duplicates. */
static void
t_text_many_attrs(void)
{
	struct record r;
	char *t;
	FILE *fp;
	int line = 0;

	record_init(&r);
	t = many_attrs(20000, ":attr0 (prefix of every name)\n"
	    ":attr0000001 (one digit more)\n"
	    "\n0.big.2\n:attr000007 (another record)");
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	fp = fmemopen(t, strlen(t), "r");
	CU_ASSERT_EQUAL(record_read_text(fp, &r, &line, err, sizeof(err)), 1);
	CU_ASSERT_EQUAL(r.nattr, 20002);
	CU_ASSERT_STRING_EQUAL(record_find(&r, "attr000000")->value, "v0");
	CU_ASSERT_STRING_EQUAL(record_find(&r, "attr019999")->value, "v19999");
	CU_ASSERT_STRING_EQUAL(record_find(&r, "attr0")->value, "prefix of every name");
	CU_ASSERT_EQUAL(record_read_text(fp, &r, &line, err, sizeof(err)), 1);
	CU_ASSERT_STRING_EQUAL(r.id, "0.big.2");
	CU_ASSERT_EQUAL(r.nattr, 1);
	CU_ASSERT_EQUAL(record_read_text(fp, &r, &line, err, sizeof(err)), 0);
	fclose(fp);
	free(t);
	record_free(&r);

	/* the first, a middle and the last name again, at the end: line 20002
	 * is the first line after the 20000 attributes */
	t = many_attrs(20000, ":attr000000 (again)");
	bad_text(t, strlen(t), "line 20002: duplicate attribute 'attr000000' "
	    "(record 0.big.1)");
	free(t);
	t = many_attrs(20000, ":x (1)\n:attr012345 (again)\n:attr000001 (again)");
	bad_text(t, strlen(t), "line 20003: duplicate attribute 'attr012345' "
	    "(record 0.big.1)");
	free(t);
	t = many_attrs(20000, ":attr019999 (again)");
	bad_text(t, strlen(t), "line 20002: duplicate attribute 'attr019999' "
	    "(record 0.big.1)");
	free(t);
	/* the earlier line's error wins, as it does in a short record */
	t = many_attrs(20000, ":bad name (1)\n:attr000003 (again)");
	bad_text(t, strlen(t), "line 20002: bad attribute line ':bad name (1)': "
	    "expected ':name (value)' (record 0.big.1)");
	free(t);
}

static void
t_parse_assign(void)
{
	struct record r;

	record_init(&r);
	CU_ASSERT_EQUAL(record_parse_assign("type=peerGuiSvr", &r, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(record_parse_assign("expr=a=b (c)\\n", &r, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(record_parse_assign("empty=", &r, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(r.nattr, 3);
	CU_ASSERT_STRING_EQUAL(record_find(&r, "expr")->value, "a=b (c)\\n");  /* literal */
	CU_ASSERT_EQUAL(record_find(&r, "empty")->vlen, 0);

	CU_ASSERT_EQUAL(record_parse_assign("noequals", &r, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "'noequals': expected name=value");
	CU_ASSERT_EQUAL(record_parse_assign("=x", &r, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "empty attribute name");
	CU_ASSERT_EQUAL(record_parse_assign("a b=x", &r, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "bad attribute name 'a b'"));
	CU_ASSERT_EQUAL(record_parse_assign("type=again", &r, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "attribute 'type' given twice");
	CU_ASSERT_EQUAL(r.nattr, 3);
	record_free(&r);
}

void
test_record_register(void)
{
	CU_pSuite s = CU_add_suite("record", NULL, NULL);

	CU_add_test(s, "buf and rd", t_buf_rd);
	CU_add_test(s, "id validation", t_id_valid);
	CU_add_test(s, "name validation", t_name_valid);
	CU_add_test(s, "prefix validation", t_prefix_valid);
	CU_add_test(s, "set unset find merge", t_ops);
	CU_add_test(s, "binary codec", t_codec);
	CU_add_test(s, "text round trip", t_text_roundtrip);
	CU_add_test(s, "text read", t_text_read);
	CU_add_test(s, "text errors", t_text_errors);
	CU_add_test(s, "text with many attributes", t_text_many_attrs);
	CU_add_test(s, "parse assign", t_parse_assign);
}
