/* statusjson.c — typed lookups and words for hasvr's status JSON (see
 * statusjson.h). */
#include <stdio.h>
#include <string.h>

#include "statusjson.h"

json_t *
sj_get(json_t *o, const char *k)
{
	return json_is_object(o) ? json_object_get(o, k) : NULL;
}

json_t *
sj_obj(json_t *o, const char *k)
{
	json_t *v = sj_get(o, k);

	return json_is_object(v) ? v : NULL;
}

const char *
sj_str(json_t *o, const char *k)
{
	json_t *v = sj_get(o, k);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

int
sj_num(json_t *o, const char *k, long long *v)
{
	json_t *j = sj_get(o, k);
	double d;

	if (json_is_integer(j)) {
		*v = (long long)json_integer_value(j);
		return 1;
	}
	if (json_is_real(j)) {
		d = json_real_value(j);
		if (d != d || d > 9e18 || d < -9e18)
			return 0;
		*v = (long long)d;
		return 1;
	}
	return 0;
}

int
sj_bool(json_t *o, const char *k)
{
	json_t *v = sj_get(o, k);

	if (json_is_true(v))
		return 1;
	if (json_is_false(v))
		return 0;
	return -1;
}

int
sj_is(json_t *o, const char *k, const char *s)
{
	const char *v = sj_str(o, k);

	return v != NULL && strcmp(v, s) == 0;
}

void
sj_clean(char *out, size_t outlen, const char *s)
{
	size_t i;

	if (outlen == 0)
		return;
	if (s == NULL)
		s = "?";
	for (i = 0; s[i] != '\0' && i + 1 < outlen; i++)
		out[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	out[i] = '\0';
}

void
sj_fmt_ms(char *out, size_t n, long long ms)
{
	if (ms < 0)
		snprintf(out, n, "?");
	else if (ms < 1000)
		snprintf(out, n, "%lld ms", ms);
	else if (ms < 10000)
		snprintf(out, n, "%.1f s", (double)ms / 1000);
	else if (ms < 60000)
		snprintf(out, n, "%lld s", ms / 1000);
	else if (ms < 3600000)
		snprintf(out, n, "%lld min %lld s", ms / 60000, ms / 1000 % 60);
	else if (ms < 86400000)
		snprintf(out, n, "%lld h %lld min", ms / 3600000,
		    ms / 60000 % 60);
	else
		snprintf(out, n, "%lld d %lld h", ms / 86400000,
		    ms / 3600000 % 24);
}

void
sj_fmt_secs(char *out, size_t n, long long s)
{
	if (s >= 0 && s < 60)
		snprintf(out, n, "%lld s", s);
	else
		sj_fmt_ms(out, n, s < 0 || s > 9000000000000LL ? -1 : s * 1000);
}

void
sj_fmt_bytes(char *out, size_t n, long long b)
{
	if (b < 0)
		snprintf(out, n, "?");
	else if (b < 1024)
		snprintf(out, n, "%lld B", b);
	else if (b < 1024 * 1024)
		snprintf(out, n, "%.1f KiB", (double)b / 1024);
	else if (b < 1024LL * 1024 * 1024)
		snprintf(out, n, "%.1f MiB", (double)b / (1024 * 1024));
	else
		snprintf(out, n, "%.1f GiB", (double)b / (1024.0 * 1024 * 1024));
}
