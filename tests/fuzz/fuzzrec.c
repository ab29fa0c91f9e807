/* fuzzrec.c — record checks shared by the harnesses (see fuzzrec.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "fuzzrec.h"

int
fuzzrec_equal(const struct record *a, const struct record *b)
{
	size_t i;

	if ((a->id == NULL) != (b->id == NULL) ||
	    (a->id != NULL && strcmp(a->id, b->id) != 0) ||
	    a->nattr != b->nattr)
		return 0;
	for (i = 0; i < a->nattr; i++)
		if (strcmp(a->attr[i].name, b->attr[i].name) != 0 ||
		    a->attr[i].vlen != b->attr[i].vlen ||
		    memcmp(a->attr[i].value, b->attr[i].value,
		    a->attr[i].vlen) != 0 ||
		    a->attr[i].value[a->attr[i].vlen] != '\0')
			return 0;
	return 1;
}

static void
check_binary(const struct record *r)
{
	struct record back;
	struct buf b;
	struct rd rd;
	char err[512];
	size_t idlen = strlen(r->id);

	buf_init(&b);
	record_encode(r, &b);
	FUZZ_ASSERT(!b.oom);
	/* str16 id, then exactly record_attrs_size bytes of attributes */
	FUZZ_ASSERT(b.len == 2 + idlen + record_attrs_size(r));
	record_init(&back);
	rd_init(&rd, b.p, b.len);
	FUZZ_ASSERT(record_decode_rd(&back, &rd, err, sizeof(err)) == 0);
	FUZZ_ASSERT(rd_done(&rd));
	FUZZ_ASSERT(fuzzrec_equal(r, &back));
	record_free(&back);
	buf_free(&b);
}

static void
check_text(const struct record *r)
{
	struct record back;
	char *text = NULL, err[512];
	size_t len = 0;
	int lineno = 0;
	FILE *fp;

	FUZZ_ASSERT((fp = open_memstream(&text, &len)) != NULL);
	record_write_text(r, fp);
	FUZZ_ASSERT(fclose(fp) == 0);
	/* one line per attribute, the id line and the blank line */
	FUZZ_ASSERT(memchr(text, '\0', len) == NULL);
	FUZZ_ASSERT((fp = fmemopen(text, len, "r")) != NULL);
	record_init(&back);
	err[0] = '\0';
	if (record_read_text(fp, &back, &lineno, err, sizeof(err)) != 1) {
		fprintf(stderr, "text form does not read back: %s\n%s", err,
		    text);
		FUZZ_ASSERT(!"text form reads back");
	}
	FUZZ_ASSERT(lineno == (int)r->nattr + 2);
	FUZZ_ASSERT(fuzzrec_equal(r, &back));
	/* nothing after the record */
	record_free(&back);
	FUZZ_ASSERT(record_read_text(fp, &back, &lineno, err, sizeof(err)) == 0);
	fclose(fp);
	free(text);
}

void
fuzzrec_check(const struct record *r)
{
	size_t i;

	FUZZ_ASSERT(r->id != NULL);
	FUZZ_ASSERT(record_id_valid(r->id, strlen(r->id), NULL, 0) == 0);
	for (i = 0; i < r->nattr; i++) {
		FUZZ_ASSERT(record_name_valid(r->attr[i].name,
		    strlen(r->attr[i].name), NULL, 0) == 0);
		/* unique: the first attribute of that name is this one */
		FUZZ_ASSERT(record_find(r, r->attr[i].name) == &r->attr[i]);
	}
	check_binary(r);
	check_text(r);
}
