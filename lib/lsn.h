/* lsn.h — a Berkeley DB log sequence number (log file, offset in it) and
 * its order, for every copy of one: DB_LSN, struct hl_lsn (ha-link),
 * struct role_lsn (hasvr's role logic), struct rt_lsn (replication
 * frames). LSN_OF() takes any of them. */
#ifndef HASVR_LSN_H
#define HASVR_LSN_H

#include <stdint.h>

struct lsn {
	uint32_t file;
	uint32_t offset;
};

/* Any struct with file and offset members as a struct lsn. */
#define LSN_OF(l) ((struct lsn){ (uint32_t)(l).file, (uint32_t)(l).offset })

/* -1 a before b, 0 equal, 1 after: file first, then offset. */
static inline int
lsn_cmp(struct lsn a, struct lsn b)
{
	if (a.file != b.file)
		return a.file < b.file ? -1 : 1;
	if (a.offset != b.offset)
		return a.offset < b.offset ? -1 : 1;
	return 0;
}

/* 1 for 0/0, the LSN of nothing written yet. */
static inline int
lsn_is_zero(struct lsn l)
{
	return l.file == 0 && l.offset == 0;
}

#endif
