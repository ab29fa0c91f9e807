/* fuzz_hastatus.c — hasvr's status reply as haStatus and haCtl read it
 * from the control socket: the status JSON (hactl.h) checked and turned
 * into the table, the problems and the exit code (hastatus_format), and a
 * peer looked up by address (hastatus_peer_eid, for haCtl switchover).
 *
 * Input: the JSON text (up to its first NUL, as the control client hands
 * it over).
 *
 * Invariants: the exit code is one of haStatus's; a refusal writes
 * nothing and says why; a report ends in "healthy" exactly when the code
 * says healthy; no line written for the terminal holds a control
 * character but tabs (whatever the peers put in their heartbeats); the
 * code does not depend on whether the table is printed. The problem rules
 * (haproblems_derive, lib/haproblem.h) run on any JSON object: each
 * problem has a known code, whom it is about, and a text without control
 * characters; healthy is set exactly when none is found. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "haproblem.h"
#include "hastatus.h"

static void
check_problems(const char *json)
{
	json_t *root, *probs, *p;
	json_error_t je;
	size_t i;

	if ((root = json_loads(json, 0, &je)) == NULL)
		return;
	if (!json_is_object(root) || haproblems_attach(root) != 0) {
		json_decref(root);
		return;
	}
	probs = json_object_get(root, "problems");
	FUZZ_ASSERT(json_is_array(probs));
	FUZZ_ASSERT(json_is_boolean(json_object_get(root, "healthy")));
	FUZZ_ASSERT(json_is_true(json_object_get(root, "healthy")) ==
	    (json_array_size(probs) == 0));
	json_array_foreach(probs, i, p) {
		const char *code = json_string_value(json_object_get(p, "code"));
		const char *text = json_string_value(json_object_get(p, "text"));

		FUZZ_ASSERT(haproblem_code(code) != 0);
		FUZZ_ASSERT(json_is_string(json_object_get(p, "about")));
		FUZZ_ASSERT(text != NULL && text[0] != '\0' &&
		    fuzz_no_ctl(text));
	}
	json_decref(root);
}

static void
check_report(const char *out, int rc)
{
	char *copy, *line, *save = NULL;
	const char *last = NULL;

	if ((copy = strdup(out)) == NULL)
		abort();
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		FUZZ_ASSERT(fuzz_no_ctl(line));
		last = line;
	}
	FUZZ_ASSERT(last != NULL);
	if (rc == HASTATUS_HEALTHY)
		FUZZ_ASSERT(strcmp(last, "healthy") == 0);
	else
		FUZZ_ASSERT(strstr(out, "\nNOT HEALTHY: ") != NULL);
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512], *json, *out = NULL;
	size_t outlen = 0;
	uint32_t eid;
	FILE *fp;
	int rc, rc2;

	if ((json = malloc(size + 1)) == NULL)
		abort();
	memcpy(json, data, size);
	json[size] = '\0';

	if ((fp = open_memstream(&out, &outlen)) == NULL)
		abort();
	err[0] = '\0';
	rc = hastatus_format(json, fp, err, sizeof(err));
	fclose(fp);
	FUZZ_ASSERT(rc == HASTATUS_HEALTHY || rc == HASTATUS_PROBLEMS ||
	    rc == HASTATUS_UNKNOWN);
	if (rc == HASTATUS_UNKNOWN) {
		FUZZ_ASSERT(outlen == 0);
		FUZZ_ASSERT(err[0] != '\0' && fuzz_no_ctl(err));
	} else
		check_report(out, rc);
	free(out);
	rc2 = hastatus_format(json, NULL, err, sizeof(err));
	FUZZ_ASSERT(rc2 == rc);

	check_problems(json);
	err[0] = '\0';
	if (hastatus_peer_eid(json, "127.0.0.2", &eid, err, sizeof(err)) != 0)
		FUZZ_ASSERT(err[0] != '\0' && fuzz_no_ctl(err));
	free(json);
	return 0;
}
