/* xdbtorture — a test client for guisvr's client service, used by the
 * integration scripts in tests/integ/. It sends what the records tool never
 * would (malformed frames, half-sent batches, oversized records), writes many
 * records while recording each acknowledged id (crash and concurrency tests)
 * and relays TCP traffic into a capture file (to check that TLS hides record
 * bytes without needing tcpdump).
 *
 * usage: xdbtorture [-s SOCKET | -H HOST -P PORT [-k KEYFILE]] [-T SECS] [-K SECS] CMD ...
 * Raw commands (frame, raw, garbage, batch -p) use the UNIX socket or, with
 * -H/-P, plain TCP (to feed non-TLS bytes to the TLS port); the others use
 * the client library (TLS with -k).
 *   frame TYPE [-f FLAGS] [-l LEN] [-t N] [-c] [HEX ...]
 *                         send a header (length LEN, default the payload's)
 *                         and the HEX payload (arguments concatenated); -t N: send only the first N
 *                         bytes then close; -c: close without reading;
 *                         otherwise print the reply (see print_reply)
 *   raw HEX               send raw bytes, print the reply
 *   garbage N SEED        send N pseudo-random bytes, print the reply
 *   bigput ID SIZE        PUT one record with a SIZE-byte value
 *   puts PREFIX FIRST COUNT ACKFILE [THREADS]
 *                         single-record PUTs PREFIX.FIRST … (THREADS
 *                         connections sharing the range); each acknowledged
 *                         id is appended to ACKFILE as soon as it is acked;
 *                         with -K SECS a failed put is tried again (on a new
 *                         connection, every 20 ms) instead of ending the
 *                         thread, and the run ends after SECS seconds
 *   check ACKFILE         every id in ACKFILE reads back with its content
 *   putuntil ID SECS      PUT ID every 2 ms (reconnecting as needed) until
 *                         it is acknowledged; prints "acked_ms T tries N"
 *                         (T: CLOCK_REALTIME ms of the ack), exit 3 after
 *                         SECS without one (failover measurements)
 *   batch [-p|-q] OP:ID[:n=v,...] ...
 *                         one BATCH (OP put|set|unset|del); -p: send the
 *                         header and half the payload, -q: all but the
 *                         last byte, then disconnect
 *   dupattrs ID N CONNS   on CONNS connections at once, a PUT of ID with N
 *                         attributes all named "a" (what a client library
 *                         never sends); print each reply
 *   flood CONNS SECS [TYPE COUNT]
 *                         open CONNS plain connections (the UNIX socket, or
 *                         TCP to -H/-P: no TLS handshake, half-open for a
 *                         TLS port), on each send COUNT empty requests of
 *                         TYPE (a number: 9 STATUS of the client service,
 *                         300 HC_STATUS of hasvr's control socket) without
 *                         ever reading, hold them SECS seconds, then close;
 *                         prints "opened N refused M"
 *   relay LPORT TPORT CAPFILE [CONNS]
 *                         accept CONNS (default 1) connections on
 *                         127.0.0.1:LPORT in turn, relay each to
 *                         127.0.0.1:TPORT, append both directions to CAPFILE
 * Replies print as one line: "OK", "ERR <code> <message>", the reply type
 * name ("RECORD", "COUNT", …), "closed" (EOF before a reply) or "timeout".
 * Exit: 0 done, 1 failure (connection lost, check mismatch), 2 usage,
 * 3 the -T time limit (default 120 s) ran out. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"
#include "record.h"
#include "util.h"
#include "xdbclient.h"

#define REPLY_TIMEOUT_MS 10000

static const char *opt_sock;
static const char *opt_host, *opt_port, *opt_keyfile;
static uint64_t opt_keep_ms;    /* -K: puts keep trying for this long */
static char *opt_secret;

static void
usage(void)
{
	fprintf(stderr,
	    "usage: xdbtorture [-s socket | -H host -P port -k keyfile] [-T secs] [-K secs] cmd ...\n"
	    "  frame TYPE [-f flags] [-l len] [-t n] [-c] [hex]\n"
	    "  raw HEX | garbage N SEED | bigput ID SIZE\n"
	    "  puts PREFIX FIRST COUNT ACKFILE [THREADS] | check ACKFILE\n"
	    "  batch [-p|-q] op:id[:n=v,...] ...\n"
	    "  dupattrs ID N CONNS | flood CONNS SECS [TYPE COUNT]\n"
	    "  relay LPORT TPORT CAPFILE [CONNS]\n");
	exit(2);
}

static void
on_alarm(int sig)
{
	static const char m[] = "xdbtorture: time limit reached\n";

	(void)sig;
	(void)!write(2, m, sizeof(m) - 1);
	_exit(3);
}

/* ---- raw socket side (for frames the client library would never send) ---- */

static int tcp_socket(int port, int listening);

/* A plain connection: the UNIX socket, or TCP to -H/-P (to send non-TLS
 * bytes to the TLS port). */
static int
raw_connect(void)
{
	struct sockaddr_un sun;
	int fd;

	if (opt_sock == NULL && opt_host != NULL && opt_port != NULL) {
		if ((fd = tcp_socket(atoi(opt_port), 0)) == -1) {
			fprintf(stderr, "xdbtorture: connect 127.0.0.1:%s: %s\n", opt_port,
			    strerror(errno));
			exit(1);
		}
		return fd;
	}
	if (opt_sock == NULL) {
		fprintf(stderr, "xdbtorture: raw commands need -s socket or -H 127.0.0.1 -P port\n");
		exit(2);
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(opt_sock) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "xdbtorture: socket path too long: %s\n", opt_sock);
		exit(2);
	}
	memcpy(sun.sun_path, opt_sock, strlen(opt_sock));
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1) {
		perror("xdbtorture: socket");
		exit(1);
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "xdbtorture: connect %s: %s\n", opt_sock, strerror(errno));
		exit(1);
	}
	return fd;
}

/* Read exactly n bytes within the reply timeout: 1 ok, 0 EOF, -1 timeout,
 * -2 error. */
static int
read_timed(int fd, unsigned char *p, size_t n)
{
	uint64_t deadline = util_now_ms() + REPLY_TIMEOUT_MS;
	size_t off = 0;

	while (off < n) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t now = util_now_ms();
		ssize_t r;
		int pr;

		if (now >= deadline)
			return -1;
		pr = poll(&pfd, 1, (int)(deadline - now));
		if (pr == -1 && errno == EINTR)
			continue;
		if (pr == -1)
			return -2;
		if (pr == 0)
			return -1;
		r = read(fd, p + off, n - off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && errno == ECONNRESET)
			return off == 0 ? 0 : -2;
		if (r == -1)
			return -2;
		if (r == 0)
			return 0;
		off += (size_t)r;
	}
	return 1;
}

static void
print_err_payload(const unsigned char *p, size_t len)
{
	struct rd r;
	uint32_t code;
	const char *msg;
	size_t mlen;

	rd_init(&r, p, len);
	code = rd_u32(&r);
	msg = rd_str16(&r, &mlen);
	if (r.bad) {
		printf("ERR ? (malformed error reply, %zu bytes)\n", len);
		return;
	}
	printf("ERR %u %.*s\n", code, (int)mlen, msg);
}

/* Read one reply frame and print it as one line. Returns the reply type, 0
 * on EOF, -1 on timeout or error. */
static int
print_reply(int fd)
{
	unsigned char hb[PROTO_HDR_LEN], *p;
	struct frame_hdr h;
	int r;

	r = read_timed(fd, hb, sizeof(hb));
	if (r == 0) {
		printf("closed\n");
		return 0;
	}
	if (r == -1) {
		printf("timeout\n");
		return -1;
	}
	if (r < 0) {
		printf("closed (%s)\n", strerror(errno));
		return 0;
	}
	proto_hdr_decode(hb, &h);
	if (h.len > PROTO_DEFAULT_MAX_FRAME) {
		printf("bad reply length %u\n", h.len);
		return -1;
	}
	if ((p = malloc(h.len + 1)) == NULL) {
		perror("xdbtorture: malloc");
		exit(1);
	}
	if (h.len > 0 && read_timed(fd, p, h.len) != 1) {
		printf("truncated reply\n");
		free(p);
		return -1;
	}
	if (h.type == XM_R_ERR)
		print_err_payload(p, h.len);
	else if (h.type == XM_R_OK)
		printf("OK\n");
	else
		printf("%s\n", proto_typename(h.type));
	free(p);
	return h.type;
}

static int
send_all(int fd, const void *p, size_t n)
{
	signal(SIGPIPE, SIG_IGN);
	if (util_write_full(fd, p, n) == -1) {
		printf("send failed: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* Hex digits with optional spaces into b. */
static void
parse_hex(const char *s, struct buf *b)
{
	int hi = -1;

	for (; *s != '\0'; s++) {
		int v;

		if (*s == ' ' || *s == ':' || *s == '\n')
			continue;
		if ((v = util_hexval((unsigned char)*s)) == -1) {
			fprintf(stderr, "xdbtorture: bad hex digit '%c'\n", *s);
			exit(2);
		}
		if (hi == -1)
			hi = v;
		else {
			buf_put_u8(b, (uint8_t)(hi << 4 | v));
			hi = -1;
		}
	}
	if (hi != -1) {
		fprintf(stderr, "xdbtorture: odd number of hex digits\n");
		exit(2);
	}
}

static int
type_from_name(const char *s)
{
	static const struct { const char *n; int t; } names[] = {
		{ "GET", XM_GET }, { "PUT", XM_PUT }, { "SET", XM_SET },
		{ "UNSET", XM_UNSET }, { "DEL", XM_DEL }, { "LIST", XM_LIST },
		{ "COUNT", XM_COUNT }, { "BATCH", XM_BATCH }, { "STATUS", XM_STATUS },
	};
	size_t i;
	char *end;
	long v;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(s, names[i].n) == 0)
			return names[i].t;
	v = strtol(s, &end, 0);
	if (*s == '\0' || *end != '\0' || v < 0 || v > 0xffff) {
		fprintf(stderr, "xdbtorture: bad frame type %s\n", s);
		exit(2);
	}
	return (int)v;
}

static unsigned long long
num_arg(const char *s, const char *what)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (*s == '\0' || *end != '\0' || errno != 0) {
		fprintf(stderr, "xdbtorture: bad %s: %s\n", what, s);
		exit(2);
	}
	return v;
}

/* Send frame (already built in b) or its first trunc bytes. */
static int
send_frame_and_report(struct buf *b, long trunc, int close_only)
{
	int fd = raw_connect(), rc = 0;
	size_t n = b->len;

	if (trunc >= 0 && (size_t)trunc < n)
		n = (size_t)trunc;
	if (send_all(fd, b->p, n) == -1)
		rc = 1;
	else if (trunc >= 0 || close_only)
		printf("sent %zu bytes, closed\n", n);
	else if (print_reply(fd) == -1)
		rc = 1;
	close(fd);
	return rc;
}

static int
cmd_frame(int argc, char **argv)
{
	struct buf payload, b;
	long long len = -1, trunc = -1;
	unsigned flags = 0;
	int type, close_only = 0, ch, rc;
	struct frame_hdr h;
	unsigned char hb[PROTO_HDR_LEN];

	if (argc < 2)
		usage();
	type = type_from_name(argv[1]);
	argc--;
	argv++;
	optind = 1;
	while ((ch = getopt(argc, argv, "cf:l:t:")) != -1) {
		switch (ch) {
		case 'c':
			close_only = 1;
			break;
		case 'f':
			flags = (unsigned)num_arg(optarg, "flags");
			break;
		case 'l':
			len = (long long)num_arg(optarg, "length");
			break;
		case 't':
			trunc = (long long)num_arg(optarg, "byte count");
			break;
		default:
			usage();
		}
	}
	buf_init(&payload);
	buf_init(&b);
	for (; optind < argc; optind++)
		parse_hex(argv[optind], &payload);
	h.len = len >= 0 ? (uint32_t)len : (uint32_t)payload.len;
	h.type = (uint16_t)type;
	h.flags = (uint16_t)flags;
	h.seq = 4242;
	proto_hdr_encode(&h, hb);
	buf_put(&b, hb, sizeof(hb));
	buf_put(&b, payload.p, payload.len);
	rc = send_frame_and_report(&b, (long)trunc, close_only);
	buf_free(&payload);
	buf_free(&b);
	return rc;
}

static int
cmd_raw(int argc, char **argv)
{
	struct buf b;
	int rc;

	if (argc != 2)
		usage();
	buf_init(&b);
	parse_hex(argv[1], &b);
	rc = send_frame_and_report(&b, -1, 0);
	buf_free(&b);
	return rc;
}

static int
cmd_garbage(int argc, char **argv)
{
	unsigned long long n, i;
	unsigned int seed;
	struct buf b;
	int rc;

	if (argc != 3)
		usage();
	n = num_arg(argv[1], "count");
	seed = (unsigned int)num_arg(argv[2], "seed");
	buf_init(&b);
	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		buf_put_u8(&b, (uint8_t)(seed >> 16));
	}
	/* Garbage may decode as a header asking for more bytes than were sent:
	 * then no reply comes, so close after a short wait instead of timing out. */
	{
		int fd = raw_connect();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		rc = send_all(fd, b.p, b.len) == -1 ? 1 : 0;
		if (rc == 0 && poll(&pfd, 1, 1000) == 1)
			(void)print_reply(fd);
		else if (rc == 0)
			printf("no reply, closed\n");
		close(fd);
	}
	buf_free(&b);
	return rc;
}

/* ---- client-library side ---- */

static struct xdbc *
lib_connect(void)
{
	struct xerr e;
	struct xdbc *c;

	memset(&e, 0, sizeof(e));
	if (opt_host != NULL && opt_secret != NULL)
		c = xdbc_connect_tls(opt_host, opt_port, opt_secret, &e);
	else if (opt_sock != NULL)
		c = xdbc_connect_unix(opt_sock, &e);
	else {
		fprintf(stderr, "xdbtorture: need -s socket or -H host -P port -k keyfile\n");
		exit(2);
	}
	if (c == NULL)
		fprintf(stderr, "xdbtorture: %s\n", e.msg);
	return c;
}

/* lib_connect without the message (retries under -K) */
static struct xdbc *
lib_connect_quiet(void)
{
	struct xerr e;

	memset(&e, 0, sizeof(e));
	if (opt_host != NULL && opt_secret != NULL)
		return xdbc_connect_tls(opt_host, opt_port, opt_secret, &e);
	return xdbc_connect_unix(opt_sock, &e);
}

static void
print_result(int rc, const struct xerr *e)
{
	if (rc == 0)
		printf("OK\n");
	else
		printf("ERR %d %s\n", e->code, e->msg);
}

static int
cmd_bigput(int argc, char **argv)
{
	struct record r;
	struct xerr e;
	struct xdbc *c;
	unsigned long long size;
	char *v;
	int rc;

	if (argc != 3)
		usage();
	size = num_arg(argv[2], "size");
	if (size > 64ull * 1024 * 1024)
		usage();
	if ((v = malloc(size + 1)) == NULL) {
		perror("xdbtorture: malloc");
		return 1;
	}
	memset(v, 'x', size);
	v[size] = '\0';
	record_init(&r);
	if (record_set_id(&r, argv[1], strlen(argv[1])) == -1 ||
	    record_set(&r, "blob", 4, v, size) == -1) {
		fprintf(stderr, "xdbtorture: out of memory\n");
		return 1;
	}
	free(v);
	if ((c = lib_connect()) == NULL)
		return 1;
	xdbc_set_max_frame(c, PROTO_DEFAULT_MAX_FRAME);
	memset(&e, 0, sizeof(e));
	rc = xdbc_put(c, &r, &e);
	print_result(rc, &e);
	xdbc_close(c);
	record_free(&r);
	return rc == -1 ? 1 : 0;
}

static uint64_t
realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
cmd_putuntil(int argc, char **argv)
{
	struct record r;
	struct xerr e;
	struct xdbc *c = NULL;
	uint64_t deadline;
	unsigned long tries = 0;
	int rc = -1;

	if (argc != 3)
		usage();
	deadline = util_now_ms() + num_arg(argv[2], "seconds") * 1000;
	record_init(&r);
	if (record_set_id(&r, argv[1], strlen(argv[1])) == -1 ||
	    record_set(&r, "v", 1, "failover", 8) == -1) {
		fprintf(stderr, "xdbtorture: bad id %s\n", argv[1]);
		return 2;
	}
	memset(&e, 0, sizeof(e));
	while (util_now_ms() < deadline) {
		tries++;
		if (c == NULL) {
			memset(&e, 0, sizeof(e));
			c = opt_sock != NULL ? xdbc_connect_unix(opt_sock, &e) :
			    NULL;
		}
		if (c != NULL) {
			memset(&e, 0, sizeof(e));
			if ((rc = xdbc_put(c, &r, &e)) == 0)
				break;
			if (rc == -1) {
				xdbc_close(c);
				c = NULL;
			}
		}
		usleep(2000);
	}
	if (c != NULL)
		xdbc_close(c);
	record_free(&r);
	if (rc != 0) {
		printf("timeout tries %lu last %s\n", tries, e.msg);
		return 3;
	}
	printf("acked_ms %llu tries %lu\n", (unsigned long long)realtime_ms(),
	    tries);
	return 0;
}

/* The content of record number i: checkable after a crash. */
static void
seq_record(struct record *r, const char *prefix, unsigned long long i)
{
	char id[RECORD_ID_MAX + 1], seq[32], data[80];
	unsigned long long h = i * 0x9e3779b97f4a7c15ull;

	snprintf(id, sizeof(id), "%s.%llu", prefix, i);
	snprintf(seq, sizeof(seq), "%llu", i);
	snprintf(data, sizeof(data), "payload-%016llx-%016llx-%llu", h, ~h, i);
	record_set_id(r, id, strlen(id));
	record_set(r, "seq", 3, seq, strlen(seq));
	record_set(r, "data", 4, data, strlen(data));
}

struct puts_job {
	const char *prefix;
	unsigned long long first, count;
	int ackfd;
	unsigned long long acked;
	unsigned long long errors;     /* -K: failed tries */
	uint64_t until;                /* -K: when to stop */
	int failed;
	char msg[600];
};

static void *
puts_thread(void *arg)
{
	struct puts_job *j = arg;
	struct xdbc *c;
	unsigned long long i;

	if ((c = lib_connect()) == NULL) {
		j->failed = 1;
		snprintf(j->msg, sizeof(j->msg), "cannot connect");
		return NULL;
	}
	for (i = j->first; i < j->first + j->count; i++) {
		struct record r;
		struct xerr e;
		char line[RECORD_ID_MAX + 2];
		int rc, n;

		record_init(&r);
		seq_record(&r, j->prefix, i);
		memset(&e, 0, sizeof(e));
		rc = c != NULL ? xdbc_put(c, &r, &e) : -1;
		if (rc != 0 && opt_keep_ms > 0) {
			/* -K: like an application, try the same write again
			 * (on a new connection) until it is acknowledged */
			j->errors++;
			snprintf(j->msg, sizeof(j->msg), "put %s: %s (code %d)",
			    r.id, c != NULL ? e.msg : "not connected", e.code);
			record_free(&r);
			if (util_now_ms() >= j->until)
				break;
			if (c != NULL)
				xdbc_close(c);
			usleep(20000);
			c = lib_connect_quiet();
			i--;
			continue;
		}
		if (rc != 0) {
			j->failed = 1;
			snprintf(j->msg, sizeof(j->msg), "put %s: %s (code %d)", r.id, e.msg, e.code);
			record_free(&r);
			break;
		}
		/* One write(2) per line on an O_APPEND fd: lines from threads never
		 * interleave and each acked id is in the file at once. */
		n = snprintf(line, sizeof(line), "%s\n", r.id);
		if (util_write_full(j->ackfd, line, (size_t)n) == -1) {
			j->failed = 1;
			snprintf(j->msg, sizeof(j->msg), "write ack file: %s", strerror(errno));
			record_free(&r);
			break;
		}
		j->acked++;
		record_free(&r);
		if (opt_keep_ms > 0 && util_now_ms() >= j->until)
			break;
	}
	if (c != NULL)
		xdbc_close(c);
	return NULL;
}

static int
cmd_puts(int argc, char **argv)
{
	unsigned long long first, count, acked = 0, errors = 0;
	unsigned long long threads = 1, t, per;
	struct puts_job *jobs;
	pthread_t *tids;
	int ackfd, failed = 0;
	uint64_t t0;

	if (argc != 5 && argc != 6)
		usage();
	first = num_arg(argv[2], "first");
	count = num_arg(argv[3], "count");
	if (argc == 6)
		threads = num_arg(argv[5], "threads");
	if (threads < 1 || threads > 64 || count < threads)
		usage();
	if ((ackfd = open(argv[4], O_WRONLY | O_CREAT | O_APPEND, 0644)) == -1) {
		fprintf(stderr, "xdbtorture: %s: %s\n", argv[4], strerror(errno));
		return 1;
	}
	jobs = calloc(threads, sizeof(*jobs));
	tids = calloc(threads, sizeof(*tids));
	if (jobs == NULL || tids == NULL) {
		perror("xdbtorture: calloc");
		return 1;
	}
	per = count / threads;
	t0 = util_now_ms();
	for (t = 0; t < threads; t++) {
		jobs[t].prefix = argv[1];
		jobs[t].first = first + t * per;
		jobs[t].count = t == threads - 1 ? count - t * per : per;
		jobs[t].ackfd = ackfd;
		jobs[t].until = t0 + opt_keep_ms;
		if (pthread_create(&tids[t], NULL, puts_thread, &jobs[t]) != 0) {
			fprintf(stderr, "xdbtorture: pthread_create failed\n");
			return 1;
		}
	}
	for (t = 0; t < threads; t++) {
		pthread_join(tids[t], NULL);
		acked += jobs[t].acked;
		errors += jobs[t].errors;
		if (jobs[t].failed) {
			failed = 1;
			fprintf(stderr, "xdbtorture: thread %llu: %s\n", t, jobs[t].msg);
		}
	}
	close(ackfd);
	printf("acked %llu of %llu in %llu ms", acked, count,
	    (unsigned long long)(util_now_ms() - t0));
	if (opt_keep_ms > 0)
		printf(", %llu failed tries", errors);
	printf("\n");
	free(jobs);
	free(tids);
	return failed;
}

static int
cmd_check(int argc, char **argv)
{
	unsigned long long checked = 0, missing = 0, wrong = 0;
	struct xdbc *c;
	char line[512];
	FILE *fp;

	if (argc != 2)
		usage();
	if ((fp = fopen(argv[1], "r")) == NULL) {
		fprintf(stderr, "xdbtorture: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if ((c = lib_connect()) == NULL)
		return 1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		struct record got, want;
		struct xerr e;
		char *dot, prefix[RECORD_ID_MAX + 1];
		const struct xattr *a, *b;
		size_t i;
		int rc;

		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '\0')
			continue;
		if ((dot = strrchr(line, '.')) == NULL) {
			fprintf(stderr, "xdbtorture: bad line in %s: %s\n", argv[1], line);
			wrong++;
			continue;
		}
		snprintf(prefix, sizeof(prefix), "%.*s", (int)(dot - line), line);
		record_init(&want);
		seq_record(&want, prefix, num_arg(dot + 1, "sequence"));
		record_init(&got);
		memset(&e, 0, sizeof(e));
		rc = xdbc_get(c, line, &got, &e);
		checked++;
		if (rc == XE_NOTFOUND) {
			if (missing++ < 10)
				fprintf(stderr, "xdbtorture: acknowledged record %s is missing\n", line);
		} else if (rc != 0) {
			fprintf(stderr, "xdbtorture: get %s: %s\n", line, e.msg);
			record_free(&got);
			record_free(&want);
			xdbc_close(c);
			fclose(fp);
			return 1;
		} else {
			int same = got.nattr == want.nattr;

			for (i = 0; same && i < want.nattr; i++) {
				a = &want.attr[i];
				b = record_find(&got, a->name);
				same = b != NULL && b->vlen == a->vlen &&
				    memcmp(a->value, b->value, a->vlen) == 0;
			}
			if (!same && wrong++ < 10)
				fprintf(stderr, "xdbtorture: record %s has wrong content\n", line);
		}
		record_free(&got);
		record_free(&want);
	}
	fclose(fp);
	xdbc_close(c);
	printf("checked %llu missing %llu wrong %llu\n", checked, missing, wrong);
	return missing == 0 && wrong == 0 ? 0 : 1;
}

/* "op:id[:n=v,n=v]" */
static void
parse_op(const char *spec, struct xdbc_batch *bt)
{
	static const struct { const char *n; enum rec_opcode op; } ops[] = {
		{ "put", REC_OP_PUT }, { "set", REC_OP_SET },
		{ "unset", REC_OP_UNSET }, { "del", REC_OP_DEL },
	};
	char *s, *id, *attrs, *tok, *save = NULL;
	struct record r;
	size_t i;
	char err[256];

	if ((s = strdup(spec)) == NULL)
		exit(1);
	if ((id = strchr(s, ':')) == NULL)
		usage();
	*id++ = '\0';
	if ((attrs = strchr(id, ':')) != NULL)
		*attrs++ = '\0';
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strcmp(s, ops[i].n) == 0)
			break;
	if (i == sizeof(ops) / sizeof(ops[0]))
		usage();
	record_init(&r);
	record_set_id(&r, id, strlen(id));
	for (tok = attrs ? strtok_r(attrs, ",", &save) : NULL; tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (strchr(tok, '=') == NULL) {
			/* unset takes bare names */
			record_set(&r, tok, strlen(tok), "", 0);
		} else if (record_parse_assign(tok, &r, err, sizeof(err)) == -1) {
			fprintf(stderr, "xdbtorture: %s: %s\n", tok, err);
			exit(2);
		}
	}
	xdbc_batch_add(bt, ops[i].op, &r);
	record_free(&r);
	free(s);
}

static int
cmd_batch(int argc, char **argv)
{
	struct xdbc_batch bt;
	int partial = 0, i = 1, rc;

	if (argc > 1 && strcmp(argv[1], "-p") == 0) {
		partial = 1;
		i++;
	} else if (argc > 1 && strcmp(argv[1], "-q") == 0) {
		partial = 2;
		i++;
	}
	if (i >= argc)
		usage();
	xdbc_batch_init(&bt);
	for (; i < argc; i++)
		parse_op(argv[i], &bt);
	if (partial) {
		/* The BATCH payload is u32 n then the ops, as xdbc_batch builds it:
		 * send the header announcing all of it, then only half. */
		struct buf b;
		struct frame_hdr h;
		unsigned char hb[PROTO_HDR_LEN];

		buf_init(&b);
		h.len = (uint32_t)(4 + bt.b.len);
		h.type = XM_BATCH;
		h.flags = 0;
		h.seq = 7;
		proto_hdr_encode(&h, hb);
		buf_put(&b, hb, sizeof(hb));
		buf_put_u32(&b, bt.n);
		buf_put(&b, bt.b.p, bt.b.len);
		rc = send_frame_and_report(&b, partial == 1 ?
		    (long)(PROTO_HDR_LEN + (4 + bt.b.len) / 2) : (long)b.len - 1, 1);
		buf_free(&b);
	} else {
		struct xdbc *c;
		struct xerr e;

		if ((c = lib_connect()) == NULL)
			return 1;
		memset(&e, 0, sizeof(e));
		rc = xdbc_batch_commit(c, &bt, &e);
		print_result(rc, &e);
		rc = rc == -1 ? 1 : 0;
		xdbc_close(c);
	}
	xdbc_batch_free(&bt);
	return rc;
}

/* ---- relay (a man in the middle that only records) ---- */

static int
tcp_socket(int port, int listening)
{
	struct sockaddr_in sin;
	int fd, one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	if (listening) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 || listen(fd, 4) == -1) {
			close(fd);
			return -1;
		}
	} else if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
relay_one(int a, int b, int cap)
{
	struct pollfd p[2] = { { .fd = a, .events = POLLIN }, { .fd = b, .events = POLLIN } };
	unsigned char data[16384];

	for (;;) {
		int i;

		if (poll(p, 2, 30000) <= 0)
			return -1;
		for (i = 0; i < 2; i++) {
			ssize_t n;

			if ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0)
				continue;
			n = read(p[i].fd, data, sizeof(data));
			if (n <= 0)
				return 0;
			if (util_write_full(cap, data, (size_t)n) == -1 ||
			    util_write_full(p[1 - i].fd, data, (size_t)n) == -1)
				return 0;
		}
	}
}

static int
cmd_relay(int argc, char **argv)
{
	int lfd, cap, lport, tport;
	unsigned long long conns = 1, k;

	if (argc != 4 && argc != 5)
		usage();
	lport = (int)num_arg(argv[1], "port");
	tport = (int)num_arg(argv[2], "port");
	if (argc == 5)
		conns = num_arg(argv[4], "connection count");
	signal(SIGPIPE, SIG_IGN);
	if ((cap = open(argv[3], O_WRONLY | O_CREAT | O_APPEND, 0600)) == -1) {
		fprintf(stderr, "xdbtorture: %s: %s\n", argv[3], strerror(errno));
		return 1;
	}
	if ((lfd = tcp_socket(lport, 1)) == -1) {
		fprintf(stderr, "xdbtorture: listen 127.0.0.1:%d: %s\n", lport, strerror(errno));
		return 1;
	}
	printf("relay listening on 127.0.0.1:%d\n", lport);
	fflush(stdout);
	for (k = 0; k < conns; k++) {
		int a, b;

		if ((a = accept(lfd, NULL, NULL)) == -1) {
			perror("xdbtorture: accept");
			return 1;
		}
		if ((b = tcp_socket(tport, 0)) == -1) {
			fprintf(stderr, "xdbtorture: connect 127.0.0.1:%d: %s\n", tport, strerror(errno));
			close(a);
			return 1;
		}
		relay_one(a, b, cap);
		close(a);
		close(b);
	}
	close(lfd);
	close(cap);
	return 0;
}

static int
cmd_dupattrs(int argc, char **argv)
{
	unsigned long long n, conns, i;
	struct frame_hdr h;
	struct buf b;
	int *fds, rc = 0;

	if (argc != 4)
		usage();
	n = num_arg(argv[2], "attributes");
	conns = num_arg(argv[3], "connections");
	if (n > 10000000 || conns < 1 || conns > 64)
		usage();
	buf_init(&b);
	memset(&h, 0, sizeof(h));
	buf_put(&b, &h, PROTO_HDR_LEN);
	buf_put_str16(&b, argv[1], strlen(argv[1]));
	buf_put_u32(&b, (uint32_t)n);
	for (i = 0; i < n; i++) {
		buf_put_str16(&b, "a", 1);
		buf_put_str32(&b, "", 0);
	}
	if (b.oom) {
		fprintf(stderr, "xdbtorture: out of memory\n");
		return 1;
	}
	h.type = XM_PUT;
	h.len = (uint32_t)(b.len - PROTO_HDR_LEN);
	h.seq = 1;
	proto_hdr_encode(&h, b.p);
	if ((fds = calloc(conns, sizeof(*fds))) == NULL)
		return 1;
	for (i = 0; i < conns; i++)
		fds[i] = raw_connect();
	for (i = 0; i < conns; i++)
		if (send_all(fds[i], b.p, b.len) == -1)
			rc = 1;
	for (i = 0; i < conns; i++) {
		(void)print_reply(fds[i]);
		close(fds[i]);
	}
	free(fds);
	buf_free(&b);
	return rc;
}

/* One plain connection for flood: NULL-free, -1 when refused. */
static int
flood_connect(void)
{
	struct sockaddr_un sun;
	struct sockaddr_in sin;
	int fd;

	if (opt_sock == NULL) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)atoi(opt_port));
		if (opt_host == NULL || inet_pton(AF_INET, opt_host,
		    &sin.sin_addr) != 1)
			return -1;
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
			return -1;
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
			close(fd);
			return -1;
		}
		return fd;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(opt_sock) >= sizeof(sun.sun_path))
		return -1;
	memcpy(sun.sun_path, opt_sock, strlen(opt_sock));
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
cmd_flood(int argc, char **argv)
{
	unsigned long long conns, secs, type = 0, count = 0, i, k;
	int *fds, opened = 0, refused = 0;
	struct frame_hdr h;
	unsigned char hdr[PROTO_HDR_LEN];

	if (argc != 3 && argc != 5)
		usage();
	if (opt_sock == NULL && (opt_host == NULL || opt_port == NULL))
		usage();
	conns = num_arg(argv[1], "connections");
	secs = num_arg(argv[2], "seconds");
	if (argc == 5) {
		type = num_arg(argv[3], "type");
		count = num_arg(argv[4], "count");
	}
	if (conns > 4096 || type > 65535)
		usage();
	if ((fds = calloc(conns ? conns : 1, sizeof(*fds))) == NULL)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < conns; i++) {
		if ((fds[i] = flood_connect()) == -1) {
			refused++;
			continue;
		}
		opened++;
		for (k = 0; k < count; k++) {
			memset(&h, 0, sizeof(h));
			h.type = (uint16_t)type;
			h.seq = (uint32_t)k + 1;
			proto_hdr_encode(&h, hdr);
			/* the server may stop reading: do not wait for it */
			if (send(fds[i], hdr, sizeof(hdr), MSG_DONTWAIT) !=
			    (ssize_t)sizeof(hdr))
				break;
		}
	}
	printf("opened %d refused %d\n", opened, refused);
	fflush(stdout);
	sleep((unsigned)secs);
	for (i = 0; i < conns; i++)
		if (fds[i] != -1)
			close(fds[i]);
	free(fds);
	return 0;
}

int
main(int argc, char **argv)
{
	long secs = 120;
	int ch;

	while ((ch = getopt(argc, argv, "+s:H:P:k:T:K:")) != -1) {
		switch (ch) {
		case 's':
			opt_sock = optarg;
			break;
		case 'H':
			opt_host = optarg;
			break;
		case 'P':
			opt_port = optarg;
			break;
		case 'k':
			opt_keyfile = optarg;
			break;
		case 'T':
			secs = (long)num_arg(optarg, "seconds");
			break;
		case 'K':
			opt_keep_ms = num_arg(optarg, "seconds") * 1000;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	if (opt_host != NULL && opt_port == NULL)
		usage();
	if (opt_keyfile != NULL) {
		char err[HASVR_ERRLEN];

		if ((opt_secret = util_read_key(opt_keyfile, 16, err, sizeof(err))) == NULL) {
			fprintf(stderr, "xdbtorture: %s\n", err);
			return 2;
		}
	}
	signal(SIGALRM, on_alarm);
	alarm((unsigned)secs);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (strcmp(argv[0], "frame") == 0)
		return cmd_frame(argc, argv);
	if (strcmp(argv[0], "raw") == 0)
		return cmd_raw(argc, argv);
	if (strcmp(argv[0], "garbage") == 0)
		return cmd_garbage(argc, argv);
	if (strcmp(argv[0], "bigput") == 0)
		return cmd_bigput(argc, argv);
	if (strcmp(argv[0], "puts") == 0)
		return cmd_puts(argc, argv);
	if (strcmp(argv[0], "check") == 0)
		return cmd_check(argc, argv);
	if (strcmp(argv[0], "putuntil") == 0)
		return cmd_putuntil(argc, argv);
	if (strcmp(argv[0], "batch") == 0)
		return cmd_batch(argc, argv);
	if (strcmp(argv[0], "relay") == 0)
		return cmd_relay(argc, argv);
	if (strcmp(argv[0], "flood") == 0)
		return cmd_flood(argc, argv);
	if (strcmp(argv[0], "dupattrs") == 0)
		return cmd_dupattrs(argc, argv);
	usage();
	return 2;
}
