/* main.c — CUnit runner for every module's unit tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <CUnit/Basic.h>
#include "fsutil.h"
#include "unit.h"

char *
unit_tmpdir(void)
{
	const char *t = getenv("TMPDIR");
	char *p;

	if (asprintf(&p, "%s/hasvr-unit-XXXXXX", t && *t ? t : "/tmp") < 0)
		abort();
	if (mkdtemp(p) == NULL)
		abort();
	return p;
}

void
unit_rmtree(const char *dir)
{
	fsutil_rmtree(dir);
}

int
main(void)
{
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return CU_get_error();
	test_cfg_register();
	test_log_register();
	test_atomicfile_register();
	test_record_register();
	test_proto_register();
	test_store_register();
	test_hacfg_register();
	test_reptransport_register();
	test_repack_register();
	test_heartbeat_register();
	test_role_register();
	test_hactl_register();
	test_halink_register();
	test_hastatus_register();
	test_unixsock_register();
	test_be_register();
	test_deadline_register();
	test_lsn_register();
	test_resync_register();
	test_statewriter_register();
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
