/* fuzz_guicfg.c — guiSvr.cfg as guisvr, hasvr and xdb read it: the "key
 * value" parser (cfg_parse_file) against guiSvr.cfg's key table, the
 * checks across keys (guicfg_check: request and record sizes, the client
 * key with a listen address, the paths under guiSvr.varDir), and for a
 * file without errors the paths guisvr derives (guicfg_paths).
 *
 * Input: the file.
 *
 * Invariants: every error names the file and holds no control character;
 * the file read from a string gives the same errors and values; a file
 * without errors gives paths that fit their buffers, lie under
 * guiSvr.varDir and a client socket path short enough for a UNIX socket. */
#include <sys/un.h>

#include <string.h>

#include "fuzz.h"
#include "fuzzcfg.h"
#include "guicfg.h"

static void
under(const char *path, const char *vardir)
{
	size_t n = strlen(vardir);

	FUZZ_ASSERT(strncmp(path, vardir, n) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_un sun;
	struct guicfg_paths p;
	const char *path;
	struct cfg c;
	char err[1024];
	int n;

	path = fuzzcfg_file(data, size);
	n = guicfg_load(&c, path);
	FUZZ_ASSERT(n >= 0 && (size_t)n == c.nerrors);
	fuzzcfg_check(&c, path, data, size, guicfg_keys, guicfg_nkeys,
	    guicfg_check);
	if (n == 0) {
		err[0] = '\0';
		FUZZ_ASSERT(guicfg_paths(&c, &p, err, sizeof(err)) == 0);
		FUZZ_ASSERT(p.vardir[0] == '/');
		under(p.xdb, p.vardir);
		under(p.data, p.vardir);
		under(p.log, p.vardir);
		under(p.init, p.vardir);
		under(p.errlog, p.vardir);
		under(p.rundir, p.vardir);
		under(p.pidfile, p.vardir);
		under(p.halink, p.vardir);
		FUZZ_ASSERT(strlen(p.sock) < sizeof(sun.sun_path));
		FUZZ_ASSERT(cfg_num(&c, "guiSvr.maxRequestSize") >=
		    cfg_num(&c, "guiSvr.maxRecordSize") + 4 * 1024);
	}
	cfg_free(&c);
	return 0;
}
