/* hbinject — sends bad heartbeats at a hasvr for the integration tests:
 * replays of captured ones, forged ones, ones signed with another key.
 * Every datagram leaves from SRC (a loopback address, any port) to
 * DST:PORT, so hasvr takes it for its peer at SRC.
 *
 * usage:
 *   hbinject replay PCAP SRC DST PORT
 *       resend the UDP payload of every SRC -> DST:PORT packet in PCAP
 *       (tcpdump -w on lo: Ethernet or Linux cooked frames, IPv4)
 *   hbinject forge SRC DST PORT N
 *       N datagrams with a heartbeat's magic, version and size, random
 *       bytes and a random tag
 *   hbinject wrongkey SRC DST PORT N EID KEY
 *       N well-formed heartbeats from eid EID signed under KEY (not the
 *       group's highAvail.HMACKey)
 * Prints "sent N". Exit 0, 1 on error, 2 usage. */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "heartbeat.h"

static void
usage(void)
{
	fprintf(stderr, "usage: hbinject replay PCAP SRC DST PORT\n"
	    "       hbinject forge SRC DST PORT N\n"
	    "       hbinject wrongkey SRC DST PORT N EID KEY\n");
	exit(2);
}

static int
open_from(const char *src)
{
	struct sockaddr_in sa;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	if (inet_pton(AF_INET, src, &sa.sin_addr) != 1)
		usage();
	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		fprintf(stderr, "hbinject: bind %s: %s\n", src, strerror(errno));
		exit(1);
	}
	return fd;
}

static void
send_to(int fd, const char *dst, int port, const void *p, size_t n)
{
	struct sockaddr_in sa;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, dst, &sa.sin_addr) != 1)
		usage();
	if (sendto(fd, p, n, 0, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		fprintf(stderr, "hbinject: sendto %s:%d: %s\n", dst, port,
		    strerror(errno));
		exit(1);
	}
	usleep(1000);
}

static uint32_t
rd32(const unsigned char *p, int swap)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return swap ? __builtin_bswap32(v) : v;
}

static int
replay(const char *file, const char *src, const char *dst, int port)
{
	unsigned char gh[24], rh[16], pkt[65536];
	struct in_addr s, d;
	uint32_t magic, link, caplen;
	size_t off, ihl;
	int fd, swap, n = 0;
	FILE *fp;

	if ((fp = fopen(file, "rb")) == NULL) {
		fprintf(stderr, "hbinject: %s: %s\n", file, strerror(errno));
		return 1;
	}
	if (fread(gh, 1, sizeof(gh), fp) != sizeof(gh))
		goto bad;
	memcpy(&magic, gh, 4);
	if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d)
		swap = 0;
	else if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1)
		swap = 1;
	else
		goto bad;
	link = rd32(gh + 20, swap);
	inet_pton(AF_INET, src, &s);
	inet_pton(AF_INET, dst, &d);
	fd = open_from(src);
	while (fread(rh, 1, sizeof(rh), fp) == sizeof(rh)) {
		caplen = rd32(rh + 8, swap);
		if (caplen > sizeof(pkt) || fread(pkt, 1, caplen, fp) != caplen)
			goto bad;
		off = link == 1 ? 14 : link == 113 ? 16 : 0;
		if (link != 1 && link != 113)
			goto bad;
		if (caplen < off + 20 || (pkt[off] >> 4) != 4 || pkt[off + 9] != 17)
			continue;
		ihl = (size_t)(pkt[off] & 0x0f) * 4;
		if (caplen < off + ihl + 8 ||
		    memcmp(pkt + off + 12, &s, 4) != 0 ||
		    memcmp(pkt + off + 16, &d, 4) != 0 ||
		    ((pkt[off + ihl + 2] << 8) | pkt[off + ihl + 3]) != port)
			continue;
		off += ihl + 8;
		send_to(fd, dst, port, pkt + off, caplen - off);
		n++;
	}
	fclose(fp);
	printf("sent %d\n", n);
	return n > 0 ? 0 : 1;
bad:
	fprintf(stderr, "hbinject: %s: not a pcap file this tool reads\n", file);
	fclose(fp);
	return 1;
}

static int
forge(const char *src, const char *dst, int port, int n)
{
	unsigned char pkt[HB_LEN];
	int fd, i;
	size_t j;

	fd = open_from(src);
	srandom((unsigned)getpid());
	for (i = 0; i < n; i++) {
		for (j = 0; j < sizeof(pkt); j++)
			pkt[j] = (unsigned char)random();
		memcpy(pkt, HB_MAGIC, 4);
		pkt[4] = HB_VERSION;
		send_to(fd, dst, port, pkt, sizeof(pkt));
	}
	printf("sent %d\n", n);
	return 0;
}

static int
wrongkey(const char *src, const char *dst, int port, int n, int eid,
    const char *secret)
{
	unsigned char key[HB_KEY_LEN], pkt[HB_MAX_LEN];
	struct hb_sender s;
	struct hb_msg m;
	char err[256];
	int fd, i, len;

	if (heartbeat_derive_key(secret, strlen(secret), key, err,
	    sizeof(err)) == -1 || heartbeat_sender_init(&s, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "hbinject: %s\n", err);
		return 1;
	}
	fd = open_from(src);
	for (i = 0; i < n; i++) {
		memset(&m, 0, sizeof(m));
		m.role = HA_ROLE_PRIMARY;
		m.dbstate = HB_DB_INSYNC;
		m.flags = HB_F_HASYNC | HB_F_DBSYNC | HB_F_STARTUP;
		m.eid = (uint32_t)eid;
		m.epoch = 1000000;
		snprintf(m.build, sizeof(m.build), "hbinject");
		heartbeat_stamp(&s, NULL, &m);
		if ((len = heartbeat_encode(&m, key, pkt, sizeof(pkt))) < 0) {
			fprintf(stderr, "hbinject: cannot encode\n");
			return 1;
		}
		send_to(fd, dst, port, pkt, (size_t)len);
	}
	printf("sent %d\n", n);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "replay") == 0)
		return replay(argv[2], argv[3], argv[4], atoi(argv[5]));
	if (argc == 6 && strcmp(argv[1], "forge") == 0)
		return forge(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]));
	if (argc == 8 && strcmp(argv[1], "wrongkey") == 0)
		return wrongkey(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]),
		    atoi(argv[6]), argv[7]);
	usage();
	return 2;
}
