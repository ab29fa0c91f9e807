/* fuzz_record.c — the binary record codec: record_decode_attrs (a record's
 * value as Berkeley DB stores it in the database file, read back by the
 * store) and record_decode_rd (a whole record as the wire carries it), and
 * the id and prefix grammar (record_id_valid, record_prefix_valid).
 *
 * Input: the same bytes three ways: as a stored value, as a wire record,
 * and (when short enough) as an id and as a prefix.
 *
 * Invariants: the binary form is canonical, so what decodes encodes back
 * to the very same bytes; a decoded record is well formed and survives the
 * text form (fuzzrec_check); a failed decode leaves no attribute behind;
 * every beginning of a valid id is a valid prefix; error messages hold no
 * control character (they reach the logs and the tools). */
#include <string.h>

#include "fuzz.h"
#include "fuzzrec.h"
#include "record.h"

static void
as_value(const uint8_t *data, size_t size)
{
	struct record r;
	struct buf b;
	char err[512];

	record_init(&r);
	err[0] = '\0';
	if (record_decode_attrs(&r, data, size, err, sizeof(err)) != 0) {
		FUZZ_ASSERT(r.nattr == 0);
		FUZZ_ASSERT(err[0] != '\0' && fuzz_no_ctl(err));
		record_free(&r);
		return;
	}
	FUZZ_ASSERT(record_attrs_size(&r) == size);
	buf_init(&b);
	record_encode_attrs(&r, &b);
	FUZZ_ASSERT(!b.oom && b.len == size);
	FUZZ_ASSERT(size == 0 || memcmp(b.p, data, size) == 0);
	buf_free(&b);
	/* the store gives it its key as the id */
	FUZZ_ASSERT(record_set_id(&r, "0.fuzz.1", 8) == 0);
	fuzzrec_check(&r);
	record_free(&r);
}

static void
as_wire(const uint8_t *data, size_t size)
{
	struct record r;
	struct buf b;
	struct rd rd;
	char err[512];

	record_init(&r);
	rd_init(&rd, data, size);
	err[0] = '\0';
	if (record_decode_rd(&r, &rd, err, sizeof(err)) != 0) {
		FUZZ_ASSERT(r.nattr == 0);
		FUZZ_ASSERT(err[0] != '\0' && fuzz_no_ctl(err));
		record_free(&r);
		return;
	}
	/* trailing bytes are the caller's business (rd_done) */
	FUZZ_ASSERT(!rd.bad && rd.off <= size);
	buf_init(&b);
	record_encode(&r, &b);
	FUZZ_ASSERT(!b.oom && b.len == rd.off);
	FUZZ_ASSERT(memcmp(b.p, data, rd.off) == 0);
	buf_free(&b);
	fuzzrec_check(&r);
	record_free(&r);
}

static void
as_id(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	char err[512];
	size_t k;

	err[0] = '\0';
	if (record_id_valid(s, size, err, sizeof(err)) != 0) {
		FUZZ_ASSERT(err[0] != '\0' && fuzz_no_ctl(err));
	} else {
		FUZZ_ASSERT(size > 0 && size <= RECORD_ID_MAX);
		for (k = 0; k <= size; k++)
			FUZZ_ASSERT(record_prefix_valid(s, k, NULL, 0));
	}
	err[0] = '\0';
	if (!record_prefix_valid(s, size, err, sizeof(err))) {
		FUZZ_ASSERT(err[0] != '\0' && fuzz_no_ctl(err));
		/* nothing that starts with a bad prefix is a valid id */
		FUZZ_ASSERT(record_id_valid(s, size, NULL, 0) != 0);
	}
	err[0] = '\0';
	if (record_name_valid(s, size, err, sizeof(err)) != 0)
		FUZZ_ASSERT(err[0] != '\0' && fuzz_no_ctl(err));
	else
		FUZZ_ASSERT(size > 0 && size <= RECORD_NAME_MAX &&
		    memchr(s, '\0', size) == NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	as_value(data, size);
	as_wire(data, size);
	if (size <= RECORD_ID_MAX + 8)
		as_id(data, size);
	return 0;
}
