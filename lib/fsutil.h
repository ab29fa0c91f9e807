/* fsutil.h — whole-file copy and directory tree removal. */
#ifndef HASVR_FSUTIL_H
#define HASVR_FSUTIL_H

#include <stddef.h>

/* Copies from to the new file to (created 0640, never overwritten) and
 * fsyncs it. A missing from is not an error: nothing is copied. 0, or -1
 * with err filled. */
int fsutil_copy_file(const char *from, const char *to, char *err,
    size_t errlen);
/* Removes dir and everything under it, as far as it can; symbolic links
 * are removed, never followed. */
void fsutil_rmtree(const char *dir);

#endif
