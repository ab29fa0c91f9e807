/* ctl.h — hasvr's control socket (protocol in lib/hactl.h). */
#ifndef HASVR_CTL_H
#define HASVR_CTL_H

#include <stddef.h>

struct ha;
struct ctlsvr;

/* Listen on h->ctlpath (mode 0660). NULL with err filled. */
struct ctlsvr *ctl_start(struct ha *h, char *err, size_t errlen);
void ctl_stop(struct ctlsvr *c);
/* Called by every role tick: answer requests waiting for an outcome
 * (switchover, promote) once it happened or timed out. */
void ctl_tick(struct ctlsvr *c);

#endif
