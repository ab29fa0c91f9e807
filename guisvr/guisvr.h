/* guisvr.h — what the daemon's modules share with its main file. */
#ifndef GUISVR_GUISVR_H
#define GUISVR_GUISVR_H

#include <stddef.h>

/* "key value\n" lines describing this server for the STATUS request
 * (version, pid, role, uptime, …). Safe from any thread. Returns the length. */
int guisvr_status_text(char *out, size_t outlen);

#endif
