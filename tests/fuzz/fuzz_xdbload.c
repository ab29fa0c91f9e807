/* fuzz_xdbload.c — the record text form as `xdb load` reads a dump file:
 * record_read_text record after record (id line, ":name (value)" lines
 * with their escapes, blank line, comments between records), then the
 * records go to guisvr as one batch.
 *
 * Input: the dump file.
 *
 * Invariants: line numbers only grow; every record read is well formed
 * and survives the binary and text forms (fuzzrec_check), so xdb dump
 * then xdb load gives the same records back; the batch xdb load builds
 * from them (xdbc_batch_add) is read by guisvr (proto_parse_batch) as the
 * very same records; an error names its line and holds no control
 * character (xdb prints it). */
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "fuzzrec.h"
#include "proto.h"
#include "record.h"
#include "xdbclient.h"

#define MAX_RECORDS 4096

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct record got[64];
	struct xdbc_batch bt;
	struct rec_op *ops;
	struct buf b;
	struct record r;
	size_t nops, ngot = 0, i;
	char err[512];
	int lineno = 0, prev, rc, n;
	FILE *fp;

	if (size == 0)
		return 0;
	if ((fp = fmemopen((void *)data, size, "r")) == NULL)
		abort();
	record_init(&r);
	xdbc_batch_init(&bt);
	for (n = 0; n < MAX_RECORDS; n++) {
		prev = lineno;
		err[0] = '\0';
		rc = record_read_text(fp, &r, &lineno, err, sizeof(err));
		FUZZ_ASSERT(rc >= -1 && rc <= 1);
		FUZZ_ASSERT(lineno >= prev);
		if (rc == -1) {
			FUZZ_ASSERT(strncmp(err, "line ", 5) == 0);
			FUZZ_ASSERT(fuzz_no_ctl(err));
			FUZZ_ASSERT(r.id == NULL && r.nattr == 0);
			break;
		}
		if (rc == 0) {
			FUZZ_ASSERT(r.id == NULL && r.nattr == 0);
			break;
		}
		FUZZ_ASSERT(lineno > prev);
		fuzzrec_check(&r);
		xdbc_batch_add(&bt, REC_OP_PUT, &r);
		if (ngot < sizeof(got) / sizeof(got[0]))
			got[ngot++] = r;        /* kept: freed below */
		else
			record_free(&r);
		record_init(&r);
	}
	fclose(fp);

	/* what guisvr makes of the batch xdb load sends */
	FUZZ_ASSERT(!bt.b.oom);
	buf_init(&b);
	buf_put_u32(&b, bt.n);
	buf_put(&b, bt.b.p, bt.b.len);
	FUZZ_ASSERT(proto_parse_batch(b.p, b.len, &ops, &nops, (size_t)bt.n,
	    err, sizeof(err)) == 0);
	FUZZ_ASSERT(nops == bt.n);
	for (i = 0; i < nops; i++) {
		FUZZ_ASSERT(ops[i].op == REC_OP_PUT);
		if (i < ngot)
			FUZZ_ASSERT(fuzzrec_equal(&ops[i].rec, &got[i]));
	}
	proto_free_ops(ops, nops);
	buf_free(&b);
	xdbc_batch_free(&bt);
	for (i = 0; i < ngot; i++)
		record_free(&got[i]);
	return 0;
}
