/* test_lsn.c — log sequence number order (lib/lsn.h) and the ha-link's
 * hl_lsn_cmp built on it. */
#include <stdint.h>

#include "unit.h"
#include "hlstate.h"
#include "lsn.h"

static void
test_lsn_order(void)
{
	/* ascending */
	static const struct lsn v[] = { { 0, 0 }, { 0, 1 }, { 0, UINT32_MAX },
	    { 1, 0 }, { 1, 28 }, { 1, 0x80000000U }, { 2, 5 },
	    { 0x80000000U, 0 }, { UINT32_MAX, UINT32_MAX } };
	size_t n = sizeof(v) / sizeof(v[0]), i, j;
	int want;

	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			want = i < j ? -1 : i > j ? 1 : 0;
			CU_ASSERT_EQUAL(lsn_cmp(v[i], v[j]), want);
		}
}

static void
test_lsn_zero_and_of(void)
{
	struct hl_lsn a = { 3, 100 }, b = { 3, 99 }, c = { 2, 500 }, z = { 0, 0 };
	struct { uint32_t file, offset; } d = { 3, 100 };

	CU_ASSERT(lsn_is_zero((struct lsn){ 0, 0 }));
	CU_ASSERT(!lsn_is_zero((struct lsn){ 0, 1 }));
	CU_ASSERT(!lsn_is_zero((struct lsn){ 1, 0 }));
	CU_ASSERT(lsn_is_zero(LSN_OF(z)));
	CU_ASSERT_EQUAL(lsn_cmp(LSN_OF(a), LSN_OF(d)), 0);
	CU_ASSERT_EQUAL(hl_lsn_cmp(a, b), 1);
	CU_ASSERT_EQUAL(hl_lsn_cmp(b, a), -1);
	CU_ASSERT_EQUAL(hl_lsn_cmp(c, b), -1);
	CU_ASSERT_EQUAL(hl_lsn_cmp(a, a), 0);
}

void
test_lsn_register(void)
{
	CU_pSuite s = CU_add_suite("lsn", NULL, NULL);

	CU_add_test(s, "order", test_lsn_order);
	CU_add_test(s, "zero, LSN_OF and hl_lsn_cmp", test_lsn_zero_and_of);
}
