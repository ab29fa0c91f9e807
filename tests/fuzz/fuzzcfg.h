/* fuzzcfg.h — a configuration file for the config harnesses: the input is
 * written to an anonymous in-memory file (memfd) and parsed through its
 * /proc/self/fd path, so the parser reads it as it reads haSvr.cfg or
 * guiSvr.cfg from disk, NUL bytes included, without touching the disk. */
#ifndef HASVR_FUZZCFG_H
#define HASVR_FUZZCFG_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"

/* The path of a file holding exactly data (the same file every call). */
const char *fuzzcfg_file(const uint8_t *data, size_t size);
/* Every error of c names the file (path:line: or path:), holds no
 * control character, and the file parsed from a string (cfg_parse_string,
 * when it holds no NUL) gives the same errors. check is the program's
 * cross-key check (hacfg_check, guicfg_check). Aborts otherwise. */
void fuzzcfg_check(const struct cfg *c, const char *path,
    const uint8_t *data, size_t size, const struct cfg_key *keys,
    size_t nkeys, int (*check)(struct cfg *));

#endif
