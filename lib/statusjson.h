/* statusjson.h — reading hasvr's status JSON (lib/hactl.h) safely, and
 * the words its readers print: shared by the problem rules
 * (haproblem.c) and haStatus's table (hastatus.c).
 *
 * The JSON comes from a local daemon but is still input: every lookup
 * checks the type (NULL, 0 or -1 when the field is missing or of another
 * type), and text from it is printed with control characters replaced. */
#ifndef HASVR_STATUSJSON_H
#define HASVR_STATUSJSON_H

#include <stddef.h>

#include <jansson.h>

/* The member k of object o (NULL if o is not an object or has no k). */
json_t *sj_get(json_t *o, const char *k);
json_t *sj_obj(json_t *o, const char *k);          /* NULL: not an object */
const char *sj_str(json_t *o, const char *k);      /* NULL: not a string */
/* 1 with *v if k is a number (a real within ±9e18 is truncated), else 0. */
int sj_num(json_t *o, const char *k, long long *v);
/* 1 true, 0 false, -1 missing, null or not a boolean. */
int sj_bool(json_t *o, const char *k);
/* 1 if k is the string s. */
int sj_is(json_t *o, const char *k, const char *s);

/* s (NULL: "?") with control characters replaced by '?', cut to fit. */
void sj_clean(char *out, size_t outlen, const char *s);
/* "420 ms", "1.5 s", "12 s", "3 min 0 s", "2 h 5 min", "1 d 3 h"; "?"
 * below 0. */
void sj_fmt_ms(char *out, size_t n, long long ms);
void sj_fmt_secs(char *out, size_t n, long long s);
/* "512 B", "4.0 KiB", "1.5 MiB", "2.0 GiB"; "?" below 0. */
void sj_fmt_bytes(char *out, size_t n, long long b);

#endif
