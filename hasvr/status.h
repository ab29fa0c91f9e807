/* status.h — hasvr's status JSON (lib/hactl.h has the format; the
 * problems in it come from lib/haproblem.c). */
#ifndef HASVR_STATUS_H
#define HASVR_STATUS_H

struct ha;

/* The status JSON, malloc'ed; NULL when out of memory. */
char *status_json(struct ha *h);

#endif
