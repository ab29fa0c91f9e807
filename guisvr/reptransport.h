/* reptransport.h — the replication channel between guisvr nodes: one TLS 1.3
 * connection per pair of nodes, mutually authenticated by a PSK derived
 * from highAvail.HMACKey (HKDF label REPTRANSPORT_LABEL, distinct from the
 * heartbeat key) or, when configured, by certificates. Nothing of the
 * database crosses the network in clear.
 *
 * Who connects: the node with the smaller eid dials the larger one, so a
 * pair has exactly one connection; the dialer reconnects with backoff
 * (100 ms doubling to 1 s, so a restarted peer is back within a second).
 * TCP_NODELAY and TCP keepalive on every socket; a PING frame every second
 * and a peer silent for 5 s is dropped.
 *
 * Threads: one I/O thread (its own libevent loop) owns every socket and SSL
 * object. rt_send may be called from any thread: it queues the frame on the
 * peer's bounded send queue and, when the queue is full, waits (back-pressure,
 * never a silent drop) up to a timeout. Received messages are handed to the
 * on_message callback on the I/O thread, which must only queue them (the
 * caller's apply thread calls rep_process_message, which may block on disk).
 *
 * Frame (big-endian): u32 length of what follows, u8 type, then per type:
 *   RT_MSG   u32 ctrl_len, u32 rec_len, u32 lsn_file, u32 lsn_offset,
 *            u32 flags, ctrl bytes, rec bytes      (a Berkeley DB message)
 *   RT_ACK   u32 lsn_file, u32 lsn_offset           (durable up to this LSN)
 *   RT_HELLO u32 eid, u32 version, str16 build      (first frame each way)
 *   RT_PING  (empty)
 * A frame over max_frame, an unknown type or a length that does not match
 * closes that connection with a log line; the daemon goes on. A HELLO whose
 * eid is not the expected peer's, or whose build differs, closes it too. */
#ifndef GUISVR_REPTRANSPORT_H
#define GUISVR_REPTRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#define REPTRANSPORT_LABEL "hasvr replication v1"
#define RT_EID_BROADCAST (-1)
#define RT_DEFAULT_MAX_FRAME (64u * 1024 * 1024)

enum rt_type { RT_MSG = 1, RT_ACK = 2, RT_HELLO = 3, RT_PING = 4 };

struct rt_lsn {
	uint32_t file, offset;
};

/* A message as it crosses the wire; ctrl/rec point to their bytes. */
struct rt_msg {
	int eid;                  /* sender (on receive) */
	uint8_t type;             /* RT_MSG or RT_ACK */
	const void *ctrl;
	uint32_t ctrl_len;
	const void *rec;
	uint32_t rec_len;
	struct rt_lsn lsn;
	uint32_t flags;
	/* rt_send only: the message may wait in the queue until a later
	 * non-lazy one (or the next tick, at most RT_TICK_MS) wakes the I/O
	 * thread, so that the messages of one transaction leave together. */
	int lazy;
	/* With lazy: leave at the latest RT_SOON_US after the first such
	 * message waiting (a flush timer), so that the commits of many
	 * writers that nobody waits for (async durability) share one wake-up
	 * of both nodes' threads, one TLS record and one apply batch. */
	int soon;
};

/* The longest a "soon" message waits in the send queue. */
#define RT_SOON_US 1000

/* ---- the frame codec ------------------------------------------------------
 * Pure: no connection, no I/O. The I/O thread reads and writes every frame
 * through these, and tests/fuzz feeds them hostile bytes. */
#define RT_VERSION      1
#define RT_LEN_WORD     4       /* the u32 length in front of every frame */
#define RT_MSG_HDR      21      /* type + 5 u32 */
#define RT_ACK_LEN      9       /* type + 2 u32 */
#define RT_HELLO_HDR    11      /* type + eid + version + u16 build length */
#define RT_BUILD_MAX    255

/* One frame as parsed; every pointer points into the frame's bytes. */
struct rt_frame {
	uint8_t type;                   /* enum rt_type */
	struct rt_msg msg;              /* RT_MSG, RT_ACK (msg.eid is left 0) */
	uint32_t hello_eid;             /* RT_HELLO */
	uint32_t hello_version;
	const unsigned char *build;     /* RT_HELLO: build_len bytes, as sent */
	uint16_t build_len;
};

/* The length word of the next frame; avail bytes are buffered, the word
 * included. 1: the whole frame is there, *len bytes after the word; 0: wait
 * for more; -1: the length is bad (zero, or over max_frame), why filled,
 * and the connection must close. Judged before the body is buffered, so a
 * bogus length costs nothing. */
int rt_frame_len(const unsigned char *word, size_t avail, size_t max_frame,
    uint32_t *len, char *why, size_t whylen);
/* Parse one whole frame f[0..len) (after its length word). up: this
 * connection's HELLO was taken already; before it only a HELLO may come,
 * after it never another. 0 with fr filled, or -1 with why filled ("ACK of
 * 3 bytes, expected 9"). Only the layout is checked: whether a HELLO's eid,
 * version and build are acceptable is the caller's to judge. */
int rt_frame_parse(const unsigned char *f, uint32_t len, int up,
    struct rt_frame *fr, char *why, size_t whylen);
/* The length word and header of m (RT_MSG or RT_ACK) into out; returns
 * their length. An RT_MSG frame continues with ctrl then rec. */
size_t rt_frame_msg_head(const struct rt_msg *m,
    unsigned char out[RT_LEN_WORD + RT_MSG_HDR]);
/* A whole HELLO frame into out; its length, or 0 if it does not fit in
 * outlen or blen is over RT_BUILD_MAX. */
size_t rt_frame_hello(unsigned char *out, size_t outlen, uint32_t eid,
    uint32_t version, const char *build, size_t blen);

struct rt_peer_cfg {
	int eid;
	char addr[64];
};

struct rt_opts {
	int self_eid;
	const char *self_addr;
	int port;                           /* same port on every node */
	struct rt_peer_cfg peers[8];
	int npeers;
	const char *secret;                 /* highAvail.HMACKey */
	const char *tls_ca, *tls_cert, *tls_key;   /* certificates instead of PSK */
	const char *build;                  /* software build string for HELLO */
	size_t max_frame;
	size_t queue_bytes;                 /* per-peer send queue limit */
	int send_timeout_ms;                /* back-pressure wait before rt_send fails */
	long long bandwidth;                /* bytes/s for all replication traffic, 0 = off */
	/* Called on the I/O thread. The message's bytes are valid only during
	 * the call: copy what you keep. */
	void (*on_message)(const struct rt_msg *m, void *arg);
	/* A peer's connection came up (1) or went down (0). I/O thread. */
	void (*on_peer)(int eid, int up, void *arg);
	/* Optional, I/O thread: every whole frame read so far from a peer
	 * has been passed to on_message (lets the receiver wake its consumer
	 * once per batch rather than once per message). */
	void (*on_batch)(void *arg);
	void *arg;
};

struct reptransport;

struct reptransport *rt_start(const struct rt_opts *o, char *err, size_t errlen);
void rt_stop(struct reptransport *rt);
/* Queue m for eid (or RT_EID_BROADCAST: every connected peer). 0 queued;
 * -1 peer not connected or queue still full after send_timeout_ms. */
int rt_send(struct reptransport *rt, int eid, const struct rt_msg *m);
int rt_peer_up(struct reptransport *rt, int eid);
/* Per-peer counters for the state report. */
struct rt_stats {
	uint64_t bytes_sent, bytes_received, frames_bad, auth_failures, reconnects;
	size_t queued_bytes;
	uint64_t auth_fail_ms;      /* CLOCK_MONOTONIC ms of the last, 0 none */
	char auth_why[160];         /* its reason */
};
int rt_peer_stats(struct reptransport *rt, int eid, struct rt_stats *st);

#endif
