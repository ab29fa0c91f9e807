/* fuzz.h — what the harnesses in tests/fuzz share.
 *
 * Each fuzz_NAME.c defines LLVMFuzzerTestOneInput for one parser of bytes
 * that come from the network, a socket or a file. Built with clang and
 * -fsanitize=fuzzer (make fuzz) it is a libFuzzer target; built with the
 * normal compiler and replay.c (make check) it replays the committed
 * corpora. A harness checks more than "does not crash": each states the
 * invariants of its parser with FUZZ_ASSERT (a decoder and its encoder
 * agree, a rejected input leaves the output untouched, a message meant for
 * a log holds no control character, …). */
#ifndef HASVR_FUZZ_H
#define HASVR_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The heartbeat key of the harness and of its seeds (mkcorpus), so that
 * seeds pass authentication and the fuzzer reaches the fields behind it. */
#define FUZZ_HB_SECRET "hasvr fuzzing heartbeat secret 0123456789"
/* The receiving node of fuzz_heartbeat: its boot id and the eid it
 * expects at the sender's address. */
#define FUZZ_HB_SELF_BOOT 0x5eedb007c0ffee01ULL
#define FUZZ_HB_PEER_EID 2

/* Control bytes of fuzz_heartbeat's input records (see fuzz_heartbeat.c). */
#define FUZZ_HB_SIGN     0x01   /* re-sign the packet with the key */
#define FUZZ_HB_LATE     0x02   /* 10 s pass before it arrives, not 100 ms */
#define FUZZ_HB_SENDS(c) (((c) >> 2) & 0x0f)   /* heartbeats we send first */

static void fuzz_fail(const char *, int, const char *)
    __attribute__((noreturn, unused));

/* An invariant broke: say which and abort, so that libFuzzer keeps the
 * input as a crash and the replay of make check fails. */
static void
fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
	abort();
}

#define FUZZ_ASSERT(cond) do { \
	if (!(cond)) \
		fuzz_fail(__FILE__, __LINE__, #cond); \
} while (0)

/* 1 if s, up to its NUL, holds no control character but tabs: a line for
 * a log or a person, in which the sender of the bytes must not be able to
 * start a line of its own or move the cursor. */
static int fuzz_no_ctl(const char *s) __attribute__((unused));

static int
fuzz_no_ctl(const char *s)
{
	for (; *s != '\0'; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') ||
		    (unsigned char)*s == 0x7f)
			return 0;
	return 1;
}

#endif
