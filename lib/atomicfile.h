/* atomicfile.h — crash-safe file replacement: write a temporary file in the
 * same directory, fsync it, rename it over the target, fsync the directory.
 * After a crash the target holds either the old or the new content, never a mix. */
#ifndef HASVR_ATOMICFILE_H
#define HASVR_ATOMICFILE_H

#include <stddef.h>
#include <sys/types.h>

int atomicfile_write(const char *path, const void *data, size_t len, mode_t mode,
    char *err, size_t errlen);

#endif
