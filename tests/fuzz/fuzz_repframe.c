/* fuzz_repframe.c — the replication channel's frames as guisvr's I/O
 * thread reads them once TLS is up: the length word (rt_frame_len), then
 * each frame (rt_frame_parse): a HELLO first, then MSG, ACK and PING.
 *
 * Input: the decrypted byte stream of one connection from a peer. Frames
 * are taken one after the other until one is incomplete or bad (the
 * connection closes there).
 *
 * Invariants: a frame is taken only when it is all there and within the
 * limit; a HELLO comes first and only once; every parsed frame encodes
 * back to the very same bytes (rt_frame_msg_head, rt_frame_hello, the
 * encoders rt_send and the HELLO use); a MSG's two parts fill its frame
 * exactly; a bad frame is said why in printable words (they reach
 * guiDaemon.0). */
#include <string.h>

#include "fuzz.h"
#include "reptransport.h"

/* guisvr's limit (rep.c), and a small one so that the check is reached */
static const size_t limits[] = { RT_DEFAULT_MAX_FRAME, 64 };

static void
check_frame(const unsigned char *word, const struct rt_frame *fr,
    uint32_t len)
{
	const unsigned char *f = word + RT_LEN_WORD;
	unsigned char h[RT_LEN_WORD + RT_MSG_HDR];
	unsigned char hello[RT_LEN_WORD + RT_HELLO_HDR + RT_BUILD_MAX];
	size_t n;

	FUZZ_ASSERT(fr->type == f[0] && fr->msg.type == f[0]);
	switch (fr->type) {
	case RT_HELLO:
		FUZZ_ASSERT(fr->build == f + RT_HELLO_HDR);
		FUZZ_ASSERT(RT_HELLO_HDR + (size_t)fr->build_len == len);
		n = rt_frame_hello(hello, sizeof(hello), fr->hello_eid,
		    fr->hello_version, (const char *)fr->build, fr->build_len);
		if (fr->build_len > RT_BUILD_MAX) {
			/* longer than any build this side would send */
			FUZZ_ASSERT(n == 0);
			break;
		}
		FUZZ_ASSERT(n == RT_LEN_WORD + len);
		FUZZ_ASSERT(memcmp(hello, word, n) == 0);
		break;
	case RT_PING:
		FUZZ_ASSERT(len == 1);
		break;
	case RT_ACK:
		FUZZ_ASSERT(len == RT_ACK_LEN);
		FUZZ_ASSERT(rt_frame_msg_head(&fr->msg, h) ==
		    RT_LEN_WORD + RT_ACK_LEN);
		FUZZ_ASSERT(memcmp(h, word, RT_LEN_WORD + RT_ACK_LEN) == 0);
		break;
	case RT_MSG:
		FUZZ_ASSERT((uint64_t)RT_MSG_HDR + fr->msg.ctrl_len +
		    fr->msg.rec_len == len);
		FUZZ_ASSERT((fr->msg.ctrl == NULL) == (fr->msg.ctrl_len == 0));
		FUZZ_ASSERT((fr->msg.rec == NULL) == (fr->msg.rec_len == 0));
		if (fr->msg.ctrl != NULL)
			FUZZ_ASSERT(fr->msg.ctrl == f + RT_MSG_HDR);
		if (fr->msg.rec != NULL)
			FUZZ_ASSERT(fr->msg.rec ==
			    f + RT_MSG_HDR + fr->msg.ctrl_len);
		FUZZ_ASSERT(rt_frame_msg_head(&fr->msg, h) ==
		    RT_LEN_WORD + RT_MSG_HDR);
		FUZZ_ASSERT(memcmp(h, word, RT_LEN_WORD + RT_MSG_HDR) == 0);
		break;
	default:
		FUZZ_ASSERT(!"a frame of an unknown type was taken");
	}
}

static void
run(const uint8_t *data, size_t size, size_t max_frame)
{
	struct rt_frame fr;
	char why[256];
	size_t off = 0;
	uint32_t len;
	int r, up = 0;

	for (;;) {
		why[0] = '\0';
		r = rt_frame_len(data + off, size - off, max_frame, &len, why,
		    sizeof(why));
		if (r == -1) {
			FUZZ_ASSERT(why[0] != '\0' && fuzz_no_ctl(why));
			FUZZ_ASSERT(len == 0 || len > max_frame);
			return;
		}
		FUZZ_ASSERT(r == 0 || r == 1);
		if (r == 0) {
			/* waits only for bytes that are not there yet */
			FUZZ_ASSERT(size - off < RT_LEN_WORD ||
			    size - off - RT_LEN_WORD < len);
			return;
		}
		FUZZ_ASSERT(len > 0 && len <= max_frame &&
		    len <= size - off - RT_LEN_WORD);
		if (rt_frame_parse(data + off + RT_LEN_WORD, len, up, &fr, why,
		    sizeof(why)) == -1) {
			FUZZ_ASSERT(why[0] != '\0' && fuzz_no_ctl(why));
			return;
		}
		/* before the HELLO nothing else, after it no second one */
		FUZZ_ASSERT((fr.type == RT_HELLO) == !up);
		check_frame(data + off, &fr, len);
		/* the I/O thread closes a HELLO from the wrong peer or build;
		 * the layout is what is fuzzed here, so every HELLO opens */
		up = 1;
		off += RT_LEN_WORD + len;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t i;

	for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
		run(data, size, limits[i]);
	return 0;
}
