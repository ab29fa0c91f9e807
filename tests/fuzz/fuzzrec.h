/* fuzzrec.h — record checks shared by the harnesses that decode records
 * (fuzz_proto, fuzz_record, fuzz_xdbload). */
#ifndef HASVR_FUZZREC_H
#define HASVR_FUZZREC_H

#include "record.h"

/* 1 if a and b hold the same id and the same attributes in the same order. */
int fuzzrec_equal(const struct record *a, const struct record *b);
/* A decoded record is well formed (valid id, valid and unique names), and
 * its binary form (record_encode / record_decode_rd) and its text form
 * (record_write_text / record_read_text, what xdb dump and xdb load use)
 * both give it back unchanged. Aborts otherwise. */
void fuzzrec_check(const struct record *r);

#endif
