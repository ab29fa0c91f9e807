/* replay.c — runs one harness's LLVMFuzzerTestOneInput over saved inputs,
 * without libFuzzer: what make check does with the committed corpora, with
 * the normal compiler (no clang needed).
 *
 *   replay_NAME FILE|DIR …    every regular file of a DIR, in name order
 *
 * Exit 0 once every input ran; a broken invariant aborts in the harness
 * and the input at fault is named on stderr. */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

static char current[4096];

/* Name the input that crashed, then die of the same signal. */
static void
on_crash(int sig)
{
	static const char pre[] = "replay: crashed on input ";
	size_t n = strlen(current);

	(void)!write(2, pre, sizeof(pre) - 1);
	(void)!write(2, current, n);
	(void)!write(2, "\n", 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

static int
run_file(const char *path)
{
	unsigned char *data = NULL, *exact;
	size_t len = 0, cap = 0;
	size_t n;
	FILE *fp;

	if ((fp = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "replay: cannot open %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	for (;;) {
		if (len == cap) {
			unsigned char *np;

			cap = cap ? cap * 2 : 4096;
			if ((np = realloc(data, cap)) == NULL) {
				fprintf(stderr, "replay: out of memory\n");
				exit(1);
			}
			data = np;
		}
		if ((n = fread(data + len, 1, cap - len, fp)) == 0)
			break;
		len += n;
	}
	if (ferror(fp)) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		fclose(fp);
		free(data);
		return -1;
	}
	fclose(fp);
	/* exactly len bytes, so that ASan (--enable-asan) sees a read past
	 * the end as libFuzzer would */
	if ((exact = malloc(len ? len : 1)) == NULL) {
		fprintf(stderr, "replay: out of memory\n");
		exit(1);
	}
	if (len > 0)
		memcpy(exact, data, len);
	free(data);
	snprintf(current, sizeof(current), "%s", path);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	return 0;
}

static int
is_regular(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int
main(int argc, char **argv)
{
	struct dirent **ents;
	struct stat st;
	size_t done = 0;
	char path[4096];
	int i, k, n, bad = 0;

	signal(SIGABRT, on_crash);
	signal(SIGSEGV, on_crash);
	signal(SIGBUS, on_crash);
	signal(SIGFPE, on_crash);
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR ...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == -1) {
			fprintf(stderr, "replay: %s: %s\n", argv[i],
			    strerror(errno));
			bad = 1;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (run_file(argv[i]) == -1)
				bad = 1;
			else
				done++;
			continue;
		}
		if ((n = scandir(argv[i], &ents, NULL, alphasort)) == -1) {
			fprintf(stderr, "replay: %s: %s\n", argv[i],
			    strerror(errno));
			bad = 1;
			continue;
		}
		for (k = 0; k < n; k++) {
			snprintf(path, sizeof(path), "%s/%s", argv[i],
			    ents[k]->d_name);
			if (ents[k]->d_name[0] != '.' && is_regular(path)) {
				if (run_file(path) == -1)
					bad = 1;
				else
					done++;
			}
			free(ents[k]);
		}
		free(ents);
	}
	printf("%s: %zu inputs replayed\n", argv[0], done);
	return bad;
}
