/* fuzz_hacfg.c — haSvr.cfg as hasvr and guisvr read it: the "key value"
 * parser (cfg_parse_file) against haSvr.cfg's key table, the checks across
 * keys (hacfg_check: node addresses, the key, TLS files, sync paths,
 * intervals), then, for a file without errors, the node view both daemons
 * build (hacfg_view) and the config checksum every heartbeat carries.
 *
 * Input: the file.
 *
 * Invariants: every error names the file and holds no control character;
 * the file read from a string gives the same errors and values; a file
 * without errors gives a node view with distinct addresses, eids 1..N in
 * address order and this node among them when HA is on; its checksum does
 * not depend on highAvail.myAddr (the one key that differs per node) nor
 * on a comment added at the end. */
#include <string.h>

#include "fuzz.h"
#include "fuzzcfg.h"
#include "hacfg.h"
#include "heartbeat.h"

static void
check_view(const struct cfg *c, const struct hacfg *h)
{
	int i;

	FUZZ_ASSERT(h->nnodes >= 0 && h->nnodes <= HACFG_MAX_NODES);
	for (i = 0; i < h->nnodes; i++) {
		FUZZ_ASSERT(h->nodes[i].eid == i + 1);
		FUZZ_ASSERT(h->nodes[i].preferred >= 0 &&
		    h->nodes[i].preferred <= 2);
		if (i > 0)
			FUZZ_ASSERT(strcmp(h->nodes[i - 1].addr,
			    h->nodes[i].addr) < 0);
	}
	FUZZ_ASSERT(h->self >= -1 && h->self < h->nnodes);
	if (h->enabled) {
		FUZZ_ASSERT(h->nnodes >= 2 && h->self >= 0);
		FUZZ_ASSERT(h->hmac_key != NULL &&
		    strlen(h->hmac_key) >= HACFG_MIN_KEY);
	}
	FUZZ_ASSERT(h->heartbeat_port >= 1 && h->heartbeat_port <= 65535);
	FUZZ_ASSERT(h->replication_port >= 1 && h->replication_port <= 65535);
	FUZZ_ASSERT(h->durability >= HA_ASYNC && h->durability <= HA_STRICT);
	FUZZ_ASSERT((h->tls_ca == NULL) == (h->tls_cert == NULL) &&
	    (h->tls_ca == NULL) == (h->tls_key == NULL));
	(void)c;
}

/* The checksum with myAddr set to another node's address. */
static void
check_sum_without_myaddr(struct cfg *c, const struct hacfg *h,
    const unsigned char sum[HB_SUM_LEN])
{
	struct cfg_value *v = (struct cfg_value *)cfg_get(c,
	    "highAvail.myAddr");
	unsigned char other[HB_SUM_LEN];
	char err[256], addr[64], *saved;

	if (h->nnodes < 2)
		return;
	snprintf(addr, sizeof(addr), "%s", h->nodes[h->self == 0 ? 1 : 0].addr);
	saved = v->str;
	v->str = addr;
	FUZZ_ASSERT(heartbeat_cfg_checksum(c, other, err, sizeof(err)) == 0);
	v->str = saved;
	FUZZ_ASSERT(memcmp(sum, other, HB_SUM_LEN) == 0);
}

static void
check_sum_with_comment(const uint8_t *data, size_t size,
    const unsigned char sum[HB_SUM_LEN])
{
	static const char tail[] = "\n# a comment changes nothing\n";
	unsigned char other[HB_SUM_LEN], *text;
	const char *path;
	char err[256];
	struct cfg c;

	if ((text = malloc(size + sizeof(tail))) == NULL)
		abort();
	memcpy(text, data, size);
	memcpy(text + size, tail, sizeof(tail) - 1);
	path = fuzzcfg_file(text, size + sizeof(tail) - 1);
	FUZZ_ASSERT(hacfg_load(&c, path) == 0);
	FUZZ_ASSERT(heartbeat_cfg_checksum(&c, other, err, sizeof(err)) == 0);
	FUZZ_ASSERT(memcmp(sum, other, HB_SUM_LEN) == 0);
	cfg_free(&c);
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char sum[HB_SUM_LEN];
	const char *path;
	struct hacfg h;
	struct cfg c;
	char err[256];
	int n;

	path = fuzzcfg_file(data, size);
	n = hacfg_load(&c, path);
	FUZZ_ASSERT(n >= 0 && (size_t)n == c.nerrors);
	fuzzcfg_check(&c, path, data, size, hacfg_keys, hacfg_nkeys,
	    hacfg_check);
	if (n == 0) {
		hacfg_view(&c, &h);
		check_view(&c, &h);
		FUZZ_ASSERT(heartbeat_cfg_checksum(&c, sum, err,
		    sizeof(err)) == 0);
		if (h.enabled)
			check_sum_without_myaddr(&c, &h, sum);
		check_sum_with_comment(data, size, sum);
	}
	cfg_free(&c);
	return 0;
}
