/* statewriter.c — haSvr.state written off the event loop (see
 * statewriter.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomicfile.h"
#include "log.h"
#include "statewriter.h"
#include "util.h"

/* a write slower than this is logged: heartbeats would have waited */
#define STATEWRITER_SLOW_MS 200
#define STATEWRITER_MAX 256         /* "epoch N\nrole R\n" */

struct statewriter {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char path[1024];
	char buf[STATEWRITER_MAX];  /* the newest content not written yet */
	size_t len;
	int queued;                 /* buf holds one */
	int busy;                   /* the thread writes one now */
	int stop;
	int failed;
	char err[256];
};

static void *
run(void *arg)
{
	struct statewriter *w = arg;
	char buf[STATEWRITER_MAX], err[256];
	uint64_t t0, ms;
	size_t len;
	int rc;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->queued && !w->stop)
			pthread_cond_wait(&w->cv, &w->mu);
		if (!w->queued)
			break;          /* stopping, nothing left */
		memcpy(buf, w->buf, w->len);
		len = w->len;
		w->queued = 0;
		w->busy = 1;
		pthread_mutex_unlock(&w->mu);

		t0 = util_now_ms();
		err[0] = '\0';
		rc = atomicfile_write(w->path, buf, len, 0600, err, sizeof(err));
		ms = util_now_ms() - t0;
		if (ms >= STATEWRITER_SLOW_MS)
			log_warnx("writing %s took %llu ms (a slow disk; the "
			    "heartbeats went on meanwhile)", w->path,
			    (unsigned long long)ms);

		pthread_mutex_lock(&w->mu);
		w->busy = 0;
		if (rc == -1 && !w->failed)
			log_errx("%s", err);
		else if (rc == 0 && w->failed)
			log_notice("%s written again", w->path);
		w->failed = rc == -1;
		util_strlcpy(w->err, err, sizeof(w->err));
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct statewriter *
statewriter_new(const char *path, char *err, size_t errlen)
{
	struct statewriter *w;
	int rc;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	util_strlcpy(w->path, path, sizeof(w->path));
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if ((rc = pthread_create(&w->thread, NULL, run, w)) != 0) {
		snprintf(err, errlen, "cannot start the thread writing %s: %s",
		    path, strerror(rc));
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		free(w);
		return NULL;
	}
	return w;
}

void
statewriter_free(struct statewriter *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

int
statewriter_submit(const char *path, const char *buf, size_t len, char *err,
    size_t errlen, void *arg)
{
	struct statewriter *w = arg;

	(void)path;             /* the writer's own, the same file */
	if (len > sizeof(w->buf)) {
		snprintf(err, errlen, "%s: a state of %zu bytes (at most %zu)",
		    w->path, len, sizeof(w->buf));
		return -1;
	}
	pthread_mutex_lock(&w->mu);
	memcpy(w->buf, buf, len);
	w->len = len;
	w->queued = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

int
statewriter_failed(struct statewriter *w, char *err, size_t errlen)
{
	int failed;

	pthread_mutex_lock(&w->mu);
	failed = w->failed;
	if (failed && err != NULL)
		util_strlcpy(err, w->err, errlen);
	pthread_mutex_unlock(&w->mu);
	return failed;
}
