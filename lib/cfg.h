/* cfg.h — the "key value" configuration format of haSvr.cfg and guiSvr.cfg.
 *
 *   # comment
 *   highAvail.isHaEnabled y
 *   guiSvr.setuid  nsm
 *
 * One line per key: the key, whitespace, the value (the rest of the line,
 * trailing whitespace trimmed; may be empty for strings). Keys are
 * case-sensitive NSM-style dotted names. Each program describes its keys in
 * one table of struct cfg_key; anything not in the table, a bad or
 * out-of-range value, a duplicate key or a missing required key is an error
 * "file:line: what is wrong". All errors in a file are collected, not just
 * the first. */
#ifndef HASVR_CFG_H
#define HASVR_CFG_H

#include <stddef.h>
#include <stdio.h>

enum cfg_type {
	CFG_BOOL,       /* y/n, yes/no, true/false, on/off, 1/0 */
	CFG_INT,        /* decimal integer within [min, max] */
	CFG_SIZE,       /* bytes, optional K/M/G suffix, within [min, max] */
	CFG_DURATION,   /* milliseconds; suffix ms, s, m (bare number = ms), [min, max] */
	CFG_STRING,     /* any text; max = maximum length (0: 1023), min = minimum length */
	CFG_PATH,       /* absolute path (starts with '/') */
	CFG_ENUM,       /* one of the words in enums[] */
	CFG_ADDR,       /* numeric IPv4 or IPv6 address */
	CFG_PORT,       /* 1..65535 */
};

struct cfg_key {
	const char *name;
	enum cfg_type type;
	const char *def;          /* default as text; NULL: no default (unset) */
	long long min, max;       /* ranges for INT/SIZE/DURATION, lengths for STRING */
	const char *const *enums; /* NULL-terminated, for CFG_ENUM */
	int required;             /* error if absent from the file */
	const char *help;         /* one line, used for the sample file and errors */
};

struct cfg_value {
	int set;                  /* 1 if the file set it, 0 if default / unset */
	int line;                 /* line number where it was set */
	long long num;            /* BOOL (0/1), INT, SIZE, DURATION, PORT, ENUM index */
	char *str;                /* the value text (also for numbers); NULL if unset */
};

struct cfg {
	char *file;
	const struct cfg_key *keys;
	size_t nkeys;
	struct cfg_value *vals;   /* parallel to keys */
	char **errors;            /* "file:line: message" */
	size_t nerrors;
};

/* Initialise with defaults from the table (no file). The table itself is
 * checked: a bad default is a programming error and aborts. */
void cfg_init(struct cfg *c, const struct cfg_key *keys, size_t nkeys);
/* Parse a file into c (after cfg_init). Returns the number of errors
 * (0 = configuration OK); errors are in c->errors. A file that cannot be
 * opened is one error "file: cannot open: strerror". */
int cfg_parse_file(struct cfg *c, const char *path);
/* Same from a string (for tests); name is used in messages. */
int cfg_parse_string(struct cfg *c, const char *name, const char *text);
void cfg_free(struct cfg *c);
/* Add an error "file:line: message" (line 0: "file: message"), for checks
 * across keys done by the program after parsing. */
void cfg_add_error(struct cfg *c, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Accessors by key name; a name not in the table aborts (programming error). */
const struct cfg_value *cfg_get(const struct cfg *c, const char *name);
long long cfg_num(const struct cfg *c, const char *name);
int cfg_bool(const struct cfg *c, const char *name);
const char *cfg_str(const struct cfg *c, const char *name);   /* "" if unset */
int cfg_isset(const struct cfg *c, const char *name);
int cfg_line(const struct cfg *c, const char *name);   /* 0 if from the default */

/* The file named by key name (a path) must be private (util_check_private):
 * else an error "file:line: NAME: FILE is readable by others (mode 0644):
 * run chmod 600 FILE". Unset: nothing to check. A file that does not exist
 * is an error only with must_exist. Returns 0, or -1 when it added an error. */
int cfg_check_private(struct cfg *c, const char *name, int must_exist);

/* Print every error to stderr, one per line. */
void cfg_print_errors(const struct cfg *c);
/* Write a commented sample file for the table (every key, its help, default). */
int cfg_write_sample(const struct cfg_key *keys, size_t nkeys, const char *title, FILE *fp);

#endif
