/* test_be.c — big-endian integers in byte buffers (lib/be.h). */
#include <stdint.h>
#include <string.h>

#include "unit.h"
#include "be.h"

static void
test_be_layout(void)
{
	unsigned char b[8];

	memset(b, 0xee, sizeof(b));
	be16_put(b, 0x1234);
	CU_ASSERT(b[0] == 0x12 && b[1] == 0x34 && b[2] == 0xee);
	be32_put(b, 0x89abcdefU);
	CU_ASSERT(b[0] == 0x89 && b[1] == 0xab && b[2] == 0xcd && b[3] == 0xef);
	CU_ASSERT_EQUAL(b[4], 0xee);
	be64_put(b, 0x0102030405060708ULL);
	CU_ASSERT(memcmp(b, "\x01\x02\x03\x04\x05\x06\x07\x08", 8) == 0);
	CU_ASSERT_EQUAL(be16_get((const unsigned char *)"\xff\x01"), 0xff01);
	CU_ASSERT_EQUAL(be32_get((const unsigned char *)"\x80\x00\x00\x01"),
	    0x80000001U);
	CU_ASSERT_EQUAL(be64_get((const unsigned char *)
	    "\xf0\x00\x00\x00\x00\x00\x00\x0f"), 0xf00000000000000fULL);
}

static void
test_be_roundtrip(void)
{
	static const uint64_t v64[] = { 0, 1, 0xff, 0x100, 0x7fffffffffffffffULL,
	    0x8000000000000000ULL, 0xffffffffffffffffULL, 0x0123456789abcdefULL };
	unsigned char b[8];
	size_t i;
	uint32_t v;

	for (i = 0; i < sizeof(v64) / sizeof(v64[0]); i++) {
		be64_put(b, v64[i]);
		CU_ASSERT_EQUAL(be64_get(b), v64[i]);
		be32_put(b, (uint32_t)v64[i]);
		CU_ASSERT_EQUAL(be32_get(b), (uint32_t)v64[i]);
		be16_put(b, (uint16_t)v64[i]);
		CU_ASSERT_EQUAL(be16_get(b), (uint16_t)v64[i]);
	}
	for (v = 0; v <= 0xffff; v++) {
		be16_put(b, (uint16_t)v);
		CU_ASSERT_EQUAL_FATAL(be16_get(b), v);
	}
	for (v = 1; v != 0; v <<= 1) {
		be32_put(b, v | 0x80000001U);
		CU_ASSERT_EQUAL(be32_get(b), v | 0x80000001U);
	}
}

void
test_be_register(void)
{
	CU_pSuite s = CU_add_suite("be", NULL, NULL);

	CU_add_test(s, "byte layout", test_be_layout);
	CU_add_test(s, "round trip", test_be_roundtrip);
}
