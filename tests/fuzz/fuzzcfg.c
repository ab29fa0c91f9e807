/* fuzzcfg.c — the in-memory config file of the config harnesses (see
 * fuzzcfg.h). */
#include <sys/mman.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "fuzzcfg.h"

const char *
fuzzcfg_file(const uint8_t *data, size_t size)
{
	static char path[64];
	static int fd = -1;

	if (fd == -1) {
		if ((fd = memfd_create("fuzz.cfg", MFD_CLOEXEC)) == -1) {
			perror("memfd_create");
			abort();
		}
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) == -1 ||
	    (size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size)) {
		perror("fuzz config file");
		abort();
	}
	return path;
}

void
fuzzcfg_check(const struct cfg *c, const char *path, const uint8_t *data,
    size_t size, const struct cfg_key *keys, size_t nkeys,
    int (*check)(struct cfg *))
{
	struct cfg s;
	size_t i, plen = strlen(path);
	char *text;

	for (i = 0; i < c->nerrors; i++) {
		FUZZ_ASSERT(strncmp(c->errors[i], path, plen) == 0 &&
		    c->errors[i][plen] == ':');
		FUZZ_ASSERT(fuzz_no_ctl(c->errors[i]));
	}
	if (memchr(data, '\0', size) != NULL)
		return;
	/* the string entry point (tests) must read a text file alike */
	if ((text = malloc(size + 1)) == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	cfg_init(&s, keys, nkeys);
	cfg_parse_string(&s, path, text);
	check(&s);
	FUZZ_ASSERT(s.nerrors == c->nerrors);
	for (i = 0; i < c->nerrors; i++)
		FUZZ_ASSERT(strcmp(s.errors[i], c->errors[i]) == 0);
	for (i = 0; i < nkeys; i++) {
		FUZZ_ASSERT(s.vals[i].set == c->vals[i].set);
		FUZZ_ASSERT(s.vals[i].num == c->vals[i].num);
		FUZZ_ASSERT((s.vals[i].str == NULL) == (c->vals[i].str == NULL));
		FUZZ_ASSERT(s.vals[i].str == NULL ||
		    strcmp(s.vals[i].str, c->vals[i].str) == 0);
	}
	cfg_free(&s);
	free(text);
}
