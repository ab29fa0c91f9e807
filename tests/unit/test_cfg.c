/* test_cfg.c — the configuration parser (lib/cfg.c) and the guiSvr.cfg
 * key table (lib/guicfg.c). Error messages are compared whole: they are
 * what an administrator reads. */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "cfg.h"
#include "guicfg.h"
#include "util.h"

static const char *const colors[] = { "red", "green", "blue", NULL };

static const struct cfg_key tkeys[] = {
	{ "t.flag", CFG_BOOL, "n", 0, 0, NULL, 0, "a flag" },
	{ "t.count", CFG_INT, "8", 1, 64, NULL, 0, "a count" },
	{ "t.neg", CFG_INT, "0", -10, 10, NULL, 0, "a signed number" },
	{ "t.size", CFG_SIZE, "1M", 1024, 16 * 1024 * 1024, NULL, 0, "a size" },
	{ "t.wait", CFG_DURATION, "60s", 1000, 3600000, NULL, 0, "a wait" },
	{ "t.name", CFG_STRING, "", 0, 8, NULL, 0, "a name" },
	{ "t.path", CFG_PATH, "/var/tmp", 0, 0, NULL, 0, "a path" },
	{ "t.color", CFG_ENUM, "red", 0, 0, colors, 0, "a color" },
	{ "t.addr", CFG_ADDR, NULL, 0, 0, NULL, 0, "an address" },
	{ "t.port", CFG_PORT, "7801", 0, 0, NULL, 0, "a port" },
	{ "t.long", CFG_STRING, NULL, 0, 0, NULL, 0, "a long text\nover two lines" },
};
#define NTKEYS (sizeof(tkeys) / sizeof(tkeys[0]))

/* Parse text against tkeys and compare the errors with want[0..n-1]. */
static void
expect(const char *text, const char *const *want, size_t n)
{
	struct cfg c;
	size_t i;

	cfg_init(&c, tkeys, NTKEYS);
	CU_ASSERT_EQUAL(cfg_parse_string(&c, "t.cfg", text), (int)n);
	CU_ASSERT_EQUAL(c.nerrors, n);
	for (i = 0; i < n && i < c.nerrors; i++) {
		CU_ASSERT_STRING_EQUAL(c.errors[i], want[i]);
		if (strcmp(c.errors[i], want[i]) != 0)
			fprintf(stderr, "\n got: %s\nwant: %s\n", c.errors[i],
			    want[i]);
	}
	for (; i < c.nerrors; i++)
		fprintf(stderr, "\nunexpected: %s\n", c.errors[i]);
	cfg_free(&c);
}

static void
expect1(const char *text, const char *want)
{
	expect(text, &want, 1);
}

static void
test_defaults(void)
{
	struct cfg c;

	cfg_init(&c, tkeys, NTKEYS);
	CU_ASSERT_EQUAL(c.nerrors, 0);
	CU_ASSERT_EQUAL(cfg_bool(&c, "t.flag"), 0);
	CU_ASSERT_EQUAL(cfg_num(&c, "t.count"), 8);
	CU_ASSERT_EQUAL(cfg_num(&c, "t.size"), 1024 * 1024);
	CU_ASSERT_EQUAL(cfg_num(&c, "t.wait"), 60000);
	CU_ASSERT_STRING_EQUAL(cfg_str(&c, "t.wait"), "60s");
	CU_ASSERT_STRING_EQUAL(cfg_str(&c, "t.name"), "");
	CU_ASSERT_STRING_EQUAL(cfg_str(&c, "t.path"), "/var/tmp");
	CU_ASSERT_EQUAL(cfg_num(&c, "t.color"), 0);
	CU_ASSERT_EQUAL(cfg_num(&c, "t.port"), 7801);
	/* no default: unset, "" through cfg_str */
	CU_ASSERT_PTR_NULL(cfg_get(&c, "t.addr")->str);
	CU_ASSERT_STRING_EQUAL(cfg_str(&c, "t.addr"), "");
	CU_ASSERT_EQUAL(cfg_isset(&c, "t.addr"), 0);
	CU_ASSERT_EQUAL(cfg_isset(&c, "t.count"), 0);
	CU_ASSERT_EQUAL(cfg_get(&c, "t.count")->line, 0);
	/* an empty file changes nothing */
	CU_ASSERT_EQUAL(cfg_parse_string(&c, "empty.cfg", ""), 0);
	CU_ASSERT_EQUAL(cfg_num(&c, "t.count"), 8);
	CU_ASSERT_STRING_EQUAL(c.file, "empty.cfg");
	cfg_free(&c);
}

static void
test_good_values(void)
{
	struct cfg c;

	cfg_init(&c, tkeys, NTKEYS);
	CU_ASSERT_EQUAL(cfg_parse_string(&c, "t.cfg",
	    "# a comment\n"
	    "\n"
	    "   \t\n"
	    "  t.flag\tyes   \n"
	    "t.count 64\n"
	    "\t# indented comment\n"
	    "t.neg -10\n"
	    "t.size 16M\n"
	    "t.wait 1500ms\n"
	    "t.name  a b#c \n"
	    "t.path /opt/x y\n"
	    "t.color blue\n"
	    "t.addr fe80::1\n"
	    "t.port 65535\r\n"
	    "t.long"), 0);
	CU_ASSERT_EQUAL(cfg_bool(&c, "t.flag"), 1);
	CU_ASSERT_EQUAL(cfg_num(&c, "t.count"), 64);
	CU_ASSERT_EQUAL(cfg_get(&c, "t.count")->line, 5);
	CU_ASSERT_EQUAL(cfg_isset(&c, "t.count"), 1);
	CU_ASSERT_EQUAL(cfg_num(&c, "t.neg"), -10);
	CU_ASSERT_EQUAL(cfg_num(&c, "t.size"), 16 * 1024 * 1024);
	CU_ASSERT_STRING_EQUAL(cfg_str(&c, "t.size"), "16M");
	CU_ASSERT_EQUAL(cfg_num(&c, "t.wait"), 1500);
	/* values may hold blanks and '#': only whole-line comments exist */
	CU_ASSERT_STRING_EQUAL(cfg_str(&c, "t.name"), "a b#c");
	CU_ASSERT_STRING_EQUAL(cfg_str(&c, "t.path"), "/opt/x y");
	CU_ASSERT_EQUAL(cfg_num(&c, "t.color"), 2);
	CU_ASSERT_STRING_EQUAL(cfg_str(&c, "t.addr"), "fe80::1");
	CU_ASSERT_EQUAL(cfg_num(&c, "t.port"), 65535);
	CU_ASSERT_EQUAL(cfg_get(&c, "t.port")->line, 14);
	/* an empty string value is allowed and counts as set */
	CU_ASSERT_EQUAL(cfg_isset(&c, "t.long"), 1);
	CU_ASSERT_STRING_EQUAL(cfg_str(&c, "t.long"), "");
	cfg_free(&c);
}

static void
check_one(const char *key, const char *val, long long want)
{
	char text[256];
	struct cfg c;

	snprintf(text, sizeof(text), "%s %s\n", key, val);
	cfg_init(&c, tkeys, NTKEYS);
	CU_ASSERT_EQUAL(cfg_parse_string(&c, "t.cfg", text), 0);
	CU_ASSERT_EQUAL(cfg_num(&c, key), want);
	if (c.nerrors == 0 && cfg_num(&c, key) != want)
		fprintf(stderr, "\n%s %s: got %lld want %lld\n", key, val,
		    cfg_num(&c, key), want);
	cfg_free(&c);
}

static void
test_type_values(void)
{
	const char *yes[] = { "y", "Y", "yes", "true", "on", "1", "TRUE" };
	const char *no[] = { "n", "no", "false", "off", "0", "No" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		check_one("t.flag", yes[i], 1);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		check_one("t.flag", no[i], 0);
	check_one("t.count", "1", 1);
	check_one("t.count", "+7", 7);
	check_one("t.neg", "10", 10);
	check_one("t.size", "1024", 1024);
	check_one("t.size", "1K", 1024);
	check_one("t.size", "2k", 2048);
	check_one("t.size", "3m", 3 * 1024 * 1024);
	check_one("t.size", "16384K", 16 * 1024 * 1024);
	check_one("t.wait", "1000", 1000);
	check_one("t.wait", "2s", 2000);
	check_one("t.wait", "3m", 180000);
	check_one("t.wait", "1h", 3600000);
	check_one("t.wait", "59999ms", 59999);
	check_one("t.color", "green", 1);
	check_one("t.port", "1", 1);
	check_one("t.addr", "192.0.2.1", 0);
	check_one("t.addr", "::1", 0);
	check_one("t.addr", "2001:db8::17", 0);
	check_one("t.addr", "::ffff:10.0.0.1", 0);
}

static void
test_unknown_key(void)
{
	expect1("t.zzzz 1\n", "t.cfg:1: unknown key 't.zzzz'");
	/* too far from any key to guess */
	expect1("t.nope 1\n", "t.cfg:1: unknown key 't.nope'");
	/* a key of another program's file */
	expect1("zzz.qqq 1\n", "t.cfg:1: unknown key 'zzz.qqq' (keys in this "
	    "file start with 't.')");
	expect1("tt 1\n", "t.cfg:1: unknown key 'tt' (keys in this file start "
	    "with 't.')");
	/* the right name under another prefix */
	expect1("x.count 3\n",
	    "t.cfg:1: unknown key 'x.count' (did you mean 't.count'?)");
	/* keys are case-sensitive, with a hint */
	expect1("\n\nT.Count 3\n",
	    "t.cfg:3: unknown key 'T.Count' (did you mean 't.count'?)");
	/* a small typo */
	expect1("t.cuont 3\n",
	    "t.cfg:1: unknown key 't.cuont' (did you mean 't.count'?)");
	expect1("t.colour red\n",
	    "t.cfg:1: unknown key 't.colour' (did you mean 't.color'?)");
	/* the name without its prefix */
	expect1("count 3\n",
	    "t.cfg:1: unknown key 'count' (did you mean 't.count'?)");
	/* "key=value" */
	expect1("t.count=3\n", "t.cfg:1: unknown key 't.count=3' (write the "
	    "key, a blank and the value, without '=')");
}

static void
test_missing_value(void)
{
	expect1("t.count\n", "t.cfg:1: key 't.count' needs a value "
	    "(integer 1..64, e.g. 8)");
	expect1("t.flag   \n", "t.cfg:1: key 't.flag' needs a value "
	    "(y or n, e.g. n)");
	expect1("t.size\n", "t.cfg:1: key 't.size' needs a value "
	    "(size 1K..16M, e.g. 1M)");
	expect1("t.wait\n", "t.cfg:1: key 't.wait' needs a value "
	    "(duration 1s..1h, e.g. 60s)");
	expect1("t.color\n", "t.cfg:1: key 't.color' needs a value "
	    "(one of red, green, blue, e.g. red)");
	expect1("t.addr\n", "t.cfg:1: key 't.addr' needs a value "
	    "(numeric IPv4 or IPv6 address, e.g. 127.0.0.1)");
	expect1("t.path\n", "t.cfg:1: key 't.path' needs a value "
	    "(absolute path, e.g. /var/tmp)");
	expect1("t.port\n", "t.cfg:1: key 't.port' needs a value "
	    "(port 1..65535, e.g. 7801)");
}

static void
test_bad_values(void)
{
	expect1("t.flag maybe\n",
	    "t.cfg:1: bad value 'maybe' for t.flag: expected y or n");
	expect1("t.count ten\n", "t.cfg:1: bad value 'ten' for t.count: "
	    "expected an integer between 1 and 64");
	expect1("t.count 8x\n", "t.cfg:1: bad value '8x' for t.count: "
	    "expected an integer between 1 and 64");
	expect1("t.count 0x10\n", "t.cfg:1: bad value '0x10' for t.count: "
	    "expected an integer between 1 and 64");
	expect1("t.size 1T\n", "t.cfg:1: bad value '1T' for t.size: expected "
	    "a size in bytes with optional K, M or G suffix, within 1K..16M");
	expect1("t.size -1\n", "t.cfg:1: bad value '-1' for t.size: expected "
	    "a size in bytes with optional K, M or G suffix, within 1K..16M");
	expect1("t.wait 1.5s\n", "t.cfg:1: bad value '1.5s' for t.wait: "
	    "expected a duration with unit ms, s, m or h, within 1s..1h");
	expect1("t.wait 5d\n", "t.cfg:1: bad value '5d' for t.wait: "
	    "expected a duration with unit ms, s, m or h, within 1s..1h");
	expect1("t.name abcdefghi\n", "t.cfg:1: bad value 'abcdefghi' for "
	    "t.name: too long (9 characters, at most 8)");
	expect1("t.path var/tmp\n", "t.cfg:1: bad value 'var/tmp' for t.path: "
	    "expected an absolute path");
	expect1("t.color purple\n", "t.cfg:1: bad value 'purple' for t.color: "
	    "expected one of: red, green, blue");
	expect1("t.color Red\n", "t.cfg:1: bad value 'Red' for t.color: "
	    "expected one of: red, green, blue");
	expect1("t.addr localhost\n", "t.cfg:1: bad value 'localhost' for "
	    "t.addr: expected a numeric IPv4 or IPv6 address");
	expect1("t.addr 10.0.0.256\n", "t.cfg:1: bad value '10.0.0.256' for "
	    "t.addr: expected a numeric IPv4 or IPv6 address");
	expect1("t.addr [::1]\n", "t.cfg:1: bad value '[::1]' for "
	    "t.addr: expected a numeric IPv4 or IPv6 address");
	expect1("t.port 0\n", "t.cfg:1: bad value '0' for t.port: expected a "
	    "port number between 1 and 65535");
	expect1("t.port 65536\n", "t.cfg:1: bad value '65536' for t.port: "
	    "expected a port number between 1 and 65535");
	expect1("t.port http\n", "t.cfg:1: bad value 'http' for t.port: "
	    "expected a port number between 1 and 65535");
}

static void
test_out_of_range(void)
{
	expect1("t.count 0\n", "t.cfg:1: bad value '0' for t.count: "
	    "out of range: 0 (allowed 1..64)");
	expect1("t.count 65\n", "t.cfg:1: bad value '65' for t.count: "
	    "out of range: 65 (allowed 1..64)");
	expect1("t.neg -11\n", "t.cfg:1: bad value '-11' for t.neg: "
	    "out of range: -11 (allowed -10..10)");
	expect1("t.count 99999999999999999999\n", "t.cfg:1: bad value "
	    "'99999999999999999999' for t.count: out of range: "
	    "99999999999999999999 (allowed 1..64)");
	expect1("t.size 17M\n", "t.cfg:1: bad value '17M' for t.size: "
	    "out of range: 17M (allowed 1K..16M)");
	expect1("t.size 1023\n", "t.cfg:1: bad value '1023' for t.size: "
	    "out of range: 1023 (allowed 1K..16M)");
	expect1("t.size 99999999999999999G\n", "t.cfg:1: bad value "
	    "'99999999999999999G' for t.size: out of range: "
	    "99999999999999999G (allowed 1K..16M)");
	expect1("t.wait 999ms\n", "t.cfg:1: bad value '999ms' for t.wait: "
	    "out of range: 999ms (allowed 1s..1h)");
	expect1("t.wait 61m\n", "t.cfg:1: bad value '61m' for t.wait: "
	    "out of range: 61m (allowed 1s..1h)");
}

static void
test_duplicate(void)
{
	struct cfg c;

	expect1("t.count 3\n# x\nt.count 4\n",
	    "t.cfg:3: duplicate key 't.count' (first set at line 1)");
	/* the first value stays */
	cfg_init(&c, tkeys, NTKEYS);
	CU_ASSERT_EQUAL(cfg_parse_string(&c, "t.cfg", "t.count 3\nt.count 4\n"),
	    1);
	CU_ASSERT_EQUAL(cfg_num(&c, "t.count"), 3);
	cfg_free(&c);
}

static void
test_required(void)
{
	static const struct cfg_key rkeys[] = {
		{ "r.key", CFG_STRING, NULL, 2, 0, NULL, 1, "must be there" },
		{ "r.other", CFG_INT, "1", 0, 9, NULL, 1, "also required" },
	};
	struct cfg c;

	cfg_init(&c, rkeys, 2);
	CU_ASSERT_EQUAL(cfg_parse_string(&c, "r.cfg", "# nothing\n"), 2);
	CU_ASSERT_EQUAL(c.nerrors, 2);
	if (c.nerrors == 2) {
		CU_ASSERT_STRING_EQUAL(c.errors[0],
		    "r.cfg: required key 'r.key' is missing");
		CU_ASSERT_STRING_EQUAL(c.errors[1],
		    "r.cfg: required key 'r.other' is missing");
	}
	cfg_free(&c);

	cfg_init(&c, rkeys, 2);
	CU_ASSERT_EQUAL(cfg_parse_string(&c, "r.cfg", "r.key ab\nr.other 2\n"), 0);
	cfg_free(&c);

	/* min length of a string */
	cfg_init(&c, rkeys, 2);
	CU_ASSERT_EQUAL(cfg_parse_string(&c, "r.cfg", "r.key a\nr.other 2\n"), 2);
	if (c.nerrors == 2) {
		CU_ASSERT_STRING_EQUAL(c.errors[0], "r.cfg:1: bad value 'a' for "
		    "r.key: too short (1 characters, at least 2)");
		CU_ASSERT_STRING_EQUAL(c.errors[1],
		    "r.cfg: required key 'r.key' is missing");
	}
	cfg_free(&c);
}

static void
test_line_checks(void)
{
	char *big;
	const char *want[2];

	/* 4095 characters is still fine, 4096 is not */
	big = malloc(5000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	memset(big, 'x', 4096);
	big[0] = '#';
	big[4095] = '\0';
	expect(big, NULL, 0);
	big[4095] = 'x';
	strcpy(big + 4096, "\nt.nope 1\n");
	want[0] = "t.cfg:1: line too long (4096 characters, at most 4095)";
	want[1] = "t.cfg:2: unknown key 't.nope'";
	expect(big, want, 2);
	free(big);

	expect1("t.name a\001b\n",
	    "t.cfg:1: invalid control character 0x01 at column 9");
	expect1("t.count 1\nt.name \033[2J\n",
	    "t.cfg:2: invalid control character 0x1b at column 8");
	expect1("t.name a\rb\n",
	    "t.cfg:1: invalid control character 0x0d at column 9");
	expect1("t.name a\177\n",
	    "t.cfg:1: invalid control character 0x7f at column 9");
}

static void
test_multiple_errors(void)
{
	static const char *const want[] = {
		"t.cfg:2: unknown key 't.cont' (did you mean 't.count'?)",
		"t.cfg:4: bad value 'maybe' for t.neg: expected an integer "
		    "between -10 and 10",
		"t.cfg:5: bad value '100' for t.count: out of range: 100 "
		    "(allowed 1..64)",
		"t.cfg:7: duplicate key 't.flag' (first set at line 3)",
		"t.cfg:8: key 't.port' needs a value (port 1..65535, e.g. 7801)",
	};
	struct cfg c;

	expect("# errors on lines 2, 4, 5, 7 and 8\n"
	    "t.cont 1\n"
	    "t.flag y\n"
	    "t.neg maybe\n"
	    "t.count 100\n"
	    "t.color green\n"
	    "t.flag n\n"
	    "t.port\n", want, 5);
	/* good lines among bad ones still take effect */
	cfg_init(&c, tkeys, NTKEYS);
	cfg_parse_string(&c, "t.cfg", "t.count 100\nt.color green\n");
	CU_ASSERT_EQUAL(cfg_num(&c, "t.color"), 1);
	CU_ASSERT_EQUAL(cfg_num(&c, "t.count"), 8);
	CU_ASSERT_EQUAL(cfg_isset(&c, "t.count"), 0);
	cfg_free(&c);
}

static void
test_add_error(void)
{
	struct cfg c;

	cfg_init(&c, tkeys, NTKEYS);
	cfg_parse_string(&c, "x.cfg", "t.count 3\n");
	cfg_add_error(&c, 1, "t.count %d is odd", 3);
	cfg_add_error(&c, 0, "general %s", "trouble");
	CU_ASSERT_EQUAL(c.nerrors, 2);
	CU_ASSERT_STRING_EQUAL(c.errors[0], "x.cfg:1: t.count 3 is odd");
	CU_ASSERT_STRING_EQUAL(c.errors[1], "x.cfg: general trouble");
	cfg_free(&c);
	CU_ASSERT_EQUAL(c.nerrors, 0);
	CU_ASSERT_PTR_NULL(c.errors);
}

static char *
write_tmp(const char *dir, const char *name, const char *data, size_t len)
{
	char *path;
	FILE *fp;

	if (asprintf(&path, "%s/%s", dir, name) == -1)
		abort();
	fp = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	fwrite(data, 1, len, fp);
	fclose(fp);
	return path;
}

static void
test_files(void)
{
	char *dir = unit_tmpdir(), *path, want[1200];
	struct cfg c;

	/* a file that does not exist */
	snprintf(want, sizeof(want), "%s/none.cfg", dir);
	cfg_init(&c, tkeys, NTKEYS);
	CU_ASSERT_EQUAL(cfg_parse_file(&c, want), 1);
	snprintf(want, sizeof(want), "%s/none.cfg: cannot open: No such file "
	    "or directory", dir);
	CU_ASSERT_STRING_EQUAL(c.errors[0], want);
	cfg_free(&c);

	/* a directory */
	cfg_init(&c, tkeys, NTKEYS);
	CU_ASSERT_EQUAL(cfg_parse_file(&c, dir), 1);
	snprintf(want, sizeof(want), "%s: not a regular file (it is a "
	    "directory): give the path of the configuration file", dir);
	CU_ASSERT_STRING_EQUAL(c.errors[0], want);
	cfg_free(&c);

	/* a character device */
	cfg_init(&c, tkeys, NTKEYS);
	CU_ASSERT_EQUAL(cfg_parse_file(&c, "/dev/null"), 1);
	CU_ASSERT_STRING_EQUAL(c.errors[0], "/dev/null: not a regular file: "
	    "give the path of the configuration file");
	cfg_free(&c);

	/* a good file */
	path = write_tmp(dir, "good.cfg", "t.count 5\nt.addr ::1\n", 21);
	cfg_init(&c, tkeys, NTKEYS);
	CU_ASSERT_EQUAL(cfg_parse_file(&c, path), 0);
	CU_ASSERT_EQUAL(cfg_num(&c, "t.count"), 5);
	CU_ASSERT_STRING_EQUAL(cfg_str(&c, "t.addr"), "::1");
	CU_ASSERT_STRING_EQUAL(c.file, path);
	cfg_free(&c);
	free(path);

	/* a NUL byte: not a text file; the next line is still read */
	path = write_tmp(dir, "nul.cfg", "t.count 5\nt.na\0me x\nt.neg 99\n", 29);
	cfg_init(&c, tkeys, NTKEYS);
	CU_ASSERT_EQUAL(cfg_parse_file(&c, path), 2);
	snprintf(want, sizeof(want), "%s:2: NUL byte at column 5: this is not "
	    "a text file", path);
	CU_ASSERT_STRING_EQUAL(c.errors[0], want);
	snprintf(want, sizeof(want), "%s:3: bad value '99' for t.neg: out of "
	    "range: 99 (allowed -10..10)", path);
	CU_ASSERT_STRING_EQUAL(c.errors[1], want);
	CU_ASSERT_EQUAL(cfg_num(&c, "t.count"), 5);
	cfg_free(&c);
	free(path);

	/* no newline at the end of the last line */
	path = write_tmp(dir, "nonl.cfg", "t.count 5", 9);
	cfg_init(&c, tkeys, NTKEYS);
	CU_ASSERT_EQUAL(cfg_parse_file(&c, path), 0);
	CU_ASSERT_EQUAL(cfg_num(&c, "t.count"), 5);
	cfg_free(&c);
	free(path);

	unit_rmtree(dir);
	free(dir);
}

/* Remove the '#' in front of every "#key value" line of a sample. */
static char *
uncomment(const char *sample)
{
	char *out = malloc(strlen(sample) + 1), *o = out;
	const char *p = sample;

	if (out == NULL)
		abort();
	while (*p != '\0') {
		if (*p == '#' && p[1] != ' ' && p[1] != '\n' && p[1] != '\0')
			p++;
		while (*p != '\0' && *p != '\n')
			*o++ = *p++;
		if (*p == '\n')
			*o++ = *p++;
	}
	*o = '\0';
	return out;
}

static void
test_sample(void)
{
	struct cfg c;
	char *buf = NULL, *text;
	size_t len = 0, i;
	FILE *fp;

	fp = open_memstream(&buf, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	CU_ASSERT_EQUAL(cfg_write_sample(tkeys, NTKEYS, "Test file\nsecond line",
	    fp), 0);
	fclose(fp);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "# Test file\n# second line\n#\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "# a count\n# type: integer, "
	    "default: 8, range 1..64\n#t.count 8\n\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "# a size\n# type: size (bytes, "
	    "suffix K, M or G), default: 1M, range 1K..16M\n#t.size 1M\n\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "# type: one of red|green|blue, "
	    "default: red\n#t.color red\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "# a long text\n# over two lines\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "default: empty\n#t.name\n\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "default: none (unset)\n"
	    "#t.addr 127.0.0.1\n"));

	/* as written: everything commented, nothing set */
	cfg_init(&c, tkeys, NTKEYS);
	CU_ASSERT_EQUAL(cfg_parse_string(&c, "sample", buf), 0);
	for (i = 0; i < NTKEYS; i++)
		CU_ASSERT_EQUAL(c.vals[i].set, 0);
	cfg_free(&c);

	/* every key uncommented: still valid, every key set to its default */
	text = uncomment(buf);
	cfg_init(&c, tkeys, NTKEYS);
	CU_ASSERT_EQUAL(cfg_parse_string(&c, "sample", text), 0);
	for (i = 0; i < NTKEYS; i++)
		CU_ASSERT_EQUAL(c.vals[i].set, 1);
	CU_ASSERT_EQUAL(cfg_num(&c, "t.wait"), 60000);
	cfg_free(&c);
	free(text);
	free(buf);
}

/* Run f in a child; it must die of abort(). */
static void
expect_abort(void (*f)(void))
{
	pid_t pid;
	int st, fd;

	fflush(NULL);
	pid = fork();
	CU_ASSERT_FATAL(pid != -1);
	if (pid == 0) {
		if ((fd = open("/dev/null", O_WRONLY)) != -1)
			dup2(fd, 2);
		f();
		_exit(0);
	}
	CU_ASSERT_EQUAL(waitpid(pid, &st, 0), pid);
	CU_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
}

static void
bad_default(void)
{
	static const struct cfg_key k[] = {
		{ "b.n", CFG_INT, "100", 1, 10, NULL, 0, "bad default" },
	};
	struct cfg c;

	cfg_init(&c, k, 1);
}

static void
dup_key(void)
{
	static const struct cfg_key k[] = {
		{ "b.n", CFG_INT, "1", 1, 10, NULL, 0, "one" },
		{ "b.n", CFG_INT, "1", 1, 10, NULL, 0, "twice" },
	};
	struct cfg c;

	cfg_init(&c, k, 2);
}

static void
unknown_get(void)
{
	struct cfg c;

	cfg_init(&c, tkeys, NTKEYS);
	cfg_num(&c, "t.nosuch");
}

static void
test_table_bugs(void)
{
	expect_abort(bad_default);
	expect_abort(dup_key);
	expect_abort(unknown_get);
}

/* ---- guiSvr.cfg ---------------------------------------------------- */

static int
gui_parse(struct cfg *c, const char *text)
{
	cfg_init(c, guicfg_keys, guicfg_nkeys);
	cfg_parse_string(c, "g.cfg", text);
	return guicfg_check(c);
}

static void
test_guicfg_defaults(void)
{
	struct guicfg_paths p;
	char err[512];
	struct cfg c;

	CU_ASSERT_EQUAL(gui_parse(&c, ""), 0);
	CU_ASSERT_STRING_EQUAL(cfg_str(&c, "guiSvr.varDir"), LOCALSTATEDIR);
	CU_ASSERT_STRING_EQUAL(cfg_str(&c, "guiSvr.setuid"), "");
	CU_ASSERT_EQUAL(cfg_num(&c, "guiSvr.listenPort"), 7801);
	CU_ASSERT_EQUAL(cfg_num(&c, "guiSvr.workerThreads"), 8);
	CU_ASSERT_EQUAL(cfg_num(&c, "guiSvr.maxClients"), 256);
	CU_ASSERT_EQUAL(cfg_num(&c, "guiSvr.maxRecordSize"), 1 << 20);
	CU_ASSERT_EQUAL(cfg_num(&c, "guiSvr.maxRequestSize"), 4 << 20);
	CU_ASSERT_EQUAL(cfg_num(&c, "guiSvr.idleTimeout"), 0);
	CU_ASSERT_EQUAL(cfg_num(&c, "guiSvr.cacheSize"), 32 << 20);
	CU_ASSERT_STRING_EQUAL(cfg_str(&c, "guiSvr.txnSync"), "sync");
	CU_ASSERT_EQUAL(cfg_num(&c, "guiSvr.checkpointInterval"), 60000);
	CU_ASSERT_EQUAL(cfg_bool(&c, "guiSvr.removeLogs"), 1);
	CU_ASSERT_STRING_EQUAL(cfg_str(&c, "guiSvr.logLevel"), "info");
	CU_ASSERT_EQUAL(cfg_bool(&c, "guiSvr.debug"), 0);
	CU_ASSERT_EQUAL(cfg_num(&c, "guiSvr.logMaxSize"), 10 << 20);
	CU_ASSERT_EQUAL(cfg_num(&c, "guiSvr.logKeep"), 5);
	CU_ASSERT_EQUAL(cfg_bool(&c, "guiSvr.syslog"), 0);
	CU_ASSERT_EQUAL(cfg_isset(&c, "guiSvr.listenAddr"), 0);
	CU_ASSERT_EQUAL(cfg_isset(&c, "guiSvr.clientSocket"), 0);
	CU_ASSERT_EQUAL(guicfg_paths(&c, &p, err, sizeof(err)), 0);
	cfg_free(&c);

	CU_ASSERT_EQUAL(gui_parse(&c, "guiSvr.cacheSize 4G\n"
	    "guiSvr.idleTimeout 24h\nguiSvr.setuid nsm\n"), 0);
	CU_ASSERT_EQUAL(cfg_num(&c, "guiSvr.cacheSize"), 4LL << 30);
	CU_ASSERT_EQUAL(cfg_num(&c, "guiSvr.idleTimeout"), 86400000);
	CU_ASSERT_STRING_EQUAL(cfg_str(&c, "guiSvr.setuid"), "nsm");
	cfg_free(&c);
}

static void
test_guicfg_check(void)
{
	char dir[128], text[512], want[1024];
	struct cfg c;

	/* listenAddr needs clientKeyFile: blamed on the listenAddr line */
	CU_ASSERT_EQUAL(gui_parse(&c, "# x\nguiSvr.listenAddr 127.0.0.1\n"), 1);
	CU_ASSERT_STRING_EQUAL(c.errors[0], "g.cfg:2: guiSvr.listenAddr is set "
	    "but guiSvr.clientKeyFile is not (set it to a private file holding "
	    "the client secret, or remove guiSvr.listenAddr)");
	cfg_free(&c);
	CU_ASSERT_EQUAL(gui_parse(&c, "guiSvr.listenAddr ::1\n"
	    "guiSvr.clientKeyFile /etc/k\n"), 0);
	cfg_free(&c);

	/* maxRequestSize must leave room for a whole record */
	CU_ASSERT_EQUAL(gui_parse(&c, "guiSvr.maxRecordSize 4M\n"), 1);
	CU_ASSERT_STRING_EQUAL(c.errors[0], "g.cfg:1: guiSvr.maxRequestSize "
	    "(4M) must be at least guiSvr.maxRecordSize (4M) + 4K: raise "
	    "guiSvr.maxRequestSize to 4100K or more");
	cfg_free(&c);
	CU_ASSERT_EQUAL(gui_parse(&c, "guiSvr.maxRecordSize 16M\n\n"
	    "guiSvr.maxRequestSize 16M\n"), 1);
	CU_ASSERT_STRING_EQUAL(c.errors[0], "g.cfg:3: guiSvr.maxRequestSize "
	    "(16M) must be at least guiSvr.maxRecordSize (16M) + 4K: raise "
	    "guiSvr.maxRequestSize to 16388K or more");
	cfg_free(&c);
	CU_ASSERT_EQUAL(gui_parse(&c, "guiSvr.maxRecordSize 4M\n"
	    "guiSvr.maxRequestSize 4100K\n"), 0);
	cfg_free(&c);

	/* a derived socket path that is too long: 100 + 16 characters */
	memset(dir, 'a', 100);
	dir[0] = '/';
	dir[100] = '\0';
	snprintf(text, sizeof(text), "\nguiSvr.varDir %s\n", dir);
	CU_ASSERT_EQUAL(gui_parse(&c, text), 1);
	snprintf(want, sizeof(want), "g.cfg:2: UNIX socket path "
	    "'%s/run/guiSvr.sock' is too long (116 characters, at most 107): "
	    "set guiSvr.clientSocket to a shorter path or use a shorter "
	    "guiSvr.varDir", dir);
	CU_ASSERT_STRING_EQUAL(c.errors[0], want);
	cfg_free(&c);
	/* ... which a short clientSocket fixes */
	snprintf(text, sizeof(text), "\nguiSvr.varDir %s\n"
	    "guiSvr.clientSocket /run/g.sock\n", dir);
	CU_ASSERT_EQUAL(gui_parse(&c, text), 0);
	cfg_free(&c);
	/* a clientSocket set too long is blamed on its own line */
	snprintf(text, sizeof(text), "guiSvr.varDir /v\n"
	    "guiSvr.clientSocket %s/run/guiSvr.sock\n", dir);
	CU_ASSERT_EQUAL(gui_parse(&c, text), 1);
	snprintf(want, sizeof(want), "g.cfg:2: UNIX socket path "
	    "'%s/run/guiSvr.sock' is too long (116 characters, at most 107): "
	    "set guiSvr.clientSocket to a shorter path", dir);
	CU_ASSERT_STRING_EQUAL(c.errors[0], want);
	cfg_free(&c);
}

static void
test_guicfg_paths(void)
{
	struct guicfg_paths p;
	char err[512], big[1100];
	struct cfg_value *v;
	struct cfg c;

	CU_ASSERT_EQUAL(gui_parse(&c, "guiSvr.varDir /srv/hasvr/var/\n"), 0);
	CU_ASSERT_EQUAL(guicfg_paths(&c, &p, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(p.vardir, "/srv/hasvr/var/");
	CU_ASSERT_STRING_EQUAL(p.xdb, "/srv/hasvr/var/xdb");
	CU_ASSERT_STRING_EQUAL(p.data, "/srv/hasvr/var/xdb/data");
	CU_ASSERT_STRING_EQUAL(p.log, "/srv/hasvr/var/xdb/log");
	CU_ASSERT_STRING_EQUAL(p.init, "/srv/hasvr/var/xdb/init");
	CU_ASSERT_STRING_EQUAL(p.errlog, "/srv/hasvr/var/errorLog/guiDaemon.0");
	CU_ASSERT_STRING_EQUAL(p.rundir, "/srv/hasvr/var/run");
	CU_ASSERT_STRING_EQUAL(p.pidfile, "/srv/hasvr/var/run/guiSvr.pid");
	CU_ASSERT_STRING_EQUAL(p.sock, "/srv/hasvr/var/run/guiSvr.sock");
	cfg_free(&c);

	CU_ASSERT_EQUAL(gui_parse(&c, "guiSvr.varDir /v\n"
	    "guiSvr.clientSocket /tmp/x.sock\n"), 0);
	CU_ASSERT_EQUAL(guicfg_paths(&c, &p, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(p.sock, "/tmp/x.sock");
	CU_ASSERT_STRING_EQUAL(p.pidfile, "/v/run/guiSvr.pid");
	cfg_free(&c);

	/* a clientSocket over the kernel's limit */
	memset(big, 'b', 108);
	big[0] = '/';
	big[108] = '\0';
	cfg_init(&c, guicfg_keys, guicfg_nkeys);
	v = (struct cfg_value *)cfg_get(&c, "guiSvr.clientSocket");
	v->str = strdup(big);
	CU_ASSERT_EQUAL(guicfg_paths(&c, &p, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "is too long (108 characters, at "
	    "most 107): set guiSvr.clientSocket to a shorter path"));
	cfg_free(&c);

	/* a varDir whose derived paths cannot fit */
	memset(big, 'v', 1019);
	big[0] = '/';
	big[1019] = '\0';
	cfg_init(&c, guicfg_keys, guicfg_nkeys);
	v = (struct cfg_value *)cfg_get(&c, "guiSvr.varDir");
	free(v->str);
	v->str = strdup(big);
	CU_ASSERT_EQUAL(guicfg_paths(&c, &p, err, sizeof(err)), -1);
	/* "xdb" (1023 characters) fits, "xdb/data" does not */
	CU_ASSERT_STRING_EQUAL(err, "guiSvr.varDir is too long (1019 "
	    "characters): the path of xdb/data under it would exceed 1023 "
	    "characters");
	/* guicfg_check reports it too (no file parsed: no name, no line) */
	CU_ASSERT_EQUAL(guicfg_check(&c), 1);
	CU_ASSERT_STRING_EQUAL(c.errors[0], "config: guiSvr.varDir is too long "
	    "(1019 characters): the path of xdb/data under it would exceed 1023 "
	    "characters");
	cfg_free(&c);
}

/* The shipped sample, all keys uncommented, is a valid guiSvr.cfg. */
static void
test_guicfg_sample(void)
{
	const char *top = getenv("top_srcdir");
	char path[1024], err[512], *text, *un;
	struct cfg c;
	FILE *fp;
	char *buf = NULL;
	size_t len = 0;

	fp = open_memstream(&buf, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	CU_ASSERT_EQUAL(cfg_write_sample(guicfg_keys, guicfg_nkeys, "guiSvr.cfg",
	    fp), 0);
	fclose(fp);
	un = uncomment(buf);
	CU_ASSERT_EQUAL(gui_parse(&c, un), 0);
	CU_ASSERT_EQUAL(cfg_isset(&c, "guiSvr.syslog"), 1);
	cfg_free(&c);
	free(un);
	free(buf);

	if (top == NULL)
		top = ".";
	snprintf(path, sizeof(path), "%s/etc/guiSvr.cfg.sample", top);
	if ((text = util_read_file(path, 1 << 20, NULL, err, sizeof(err))) ==
	    NULL)
		return;  /* run outside the tree: nothing to check */
	CU_ASSERT_EQUAL(gui_parse(&c, text), 0);
	cfg_free(&c);
	un = uncomment(text);
	CU_ASSERT_EQUAL(gui_parse(&c, un), 0);
	if (c.nerrors > 0)
		cfg_print_errors(&c);
	CU_ASSERT_EQUAL(cfg_isset(&c, "guiSvr.logKeep"), 1);
	cfg_free(&c);
	free(un);
	free(text);
}

/* Each tests/conf/NAME.cfg gives exactly NAME.ok (the output of
 * `guisvr -n -f tests/conf/NAME.cfg`); here the file is named by its full
 * path, so "tests/conf/" in NAME.ok is read as "$top_srcdir/tests/conf/". */
static void
test_conf_cases(void)
{
	const char *top = getenv("top_srcdir");
	char dir[1024], cfgp[1400], okp[1400], err[512], *ok, *got, *p;
	size_t len, i, n = 0, glen;
	struct dirent *de;
	struct cfg c;
	FILE *fp;
	DIR *d;

	if (top == NULL)
		top = ".";
	snprintf(dir, sizeof(dir), "%s/tests/conf", top);
	if ((d = opendir(dir)) == NULL)
		return;  /* run outside the tree: nothing to check */
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 4, ".cfg") != 0)
			continue;
		snprintf(cfgp, sizeof(cfgp), "%s/%s", dir, de->d_name);
		snprintf(okp, sizeof(okp), "%s/%.*s.ok", dir, (int)(len - 4),
		    de->d_name);
		ok = util_read_file(okp, 1 << 20, NULL, err, sizeof(err));
		CU_ASSERT_PTR_NOT_NULL(ok);
		if (ok == NULL) {
			fprintf(stderr, "\n%s\n", err);
			continue;
		}
		got = NULL;
		glen = 0;
		fp = open_memstream(&got, &glen);
		CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
		if (guicfg_load(&c, cfgp) == 0)
			fprintf(fp, "configuration OK\n");
		for (i = 0; i < c.nerrors; i++) {
			p = c.errors[i];
			if (strncmp(p, top, strlen(top)) == 0 &&
			    p[strlen(top)] == '/')
				p += strlen(top) + 1;
			fprintf(fp, "%s\n", p);
		}
		fclose(fp);
		cfg_free(&c);
		CU_ASSERT_STRING_EQUAL(got, ok);
		if (strcmp(got, ok) != 0)
			fprintf(stderr, "\n%s:\n got:\n%swant:\n%s", cfgp, got,
			    ok);
		free(got);
		free(ok);
		n++;
	}
	closedir(d);
	CU_ASSERT(n >= 8);
}

void
test_cfg_register(void)
{
	CU_pSuite s = CU_add_suite("cfg", NULL, NULL);

	CU_add_test(s, "defaults", test_defaults);
	CU_add_test(s, "good values", test_good_values);
	CU_add_test(s, "values of each type", test_type_values);
	CU_add_test(s, "unknown key, did you mean", test_unknown_key);
	CU_add_test(s, "missing value", test_missing_value);
	CU_add_test(s, "bad values", test_bad_values);
	CU_add_test(s, "out of range", test_out_of_range);
	CU_add_test(s, "duplicate key", test_duplicate);
	CU_add_test(s, "required key", test_required);
	CU_add_test(s, "line length and control characters", test_line_checks);
	CU_add_test(s, "several errors, line numbers", test_multiple_errors);
	CU_add_test(s, "cfg_add_error", test_add_error);
	CU_add_test(s, "files", test_files);
	CU_add_test(s, "sample parses back", test_sample);
	CU_add_test(s, "broken key tables abort", test_table_bugs);

	s = CU_add_suite("guicfg", NULL, NULL);
	CU_add_test(s, "defaults", test_guicfg_defaults);
	CU_add_test(s, "cross-key checks", test_guicfg_check);
	CU_add_test(s, "derived paths", test_guicfg_paths);
	CU_add_test(s, "sample file", test_guicfg_sample);
	CU_add_test(s, "tests/conf cases", test_conf_cases);
}
