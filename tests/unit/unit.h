/* unit.h — each tests/unit/test_<module>.c exposes one register function. */
#ifndef HASVR_UNIT_H
#define HASVR_UNIT_H

#include <CUnit/CUnit.h>

void test_cfg_register(void);
void test_log_register(void);
void test_atomicfile_register(void);
void test_record_register(void);
void test_proto_register(void);
void test_store_register(void);
void test_hacfg_register(void);
void test_reptransport_register(void);
void test_repack_register(void);
void test_heartbeat_register(void);
void test_role_register(void);
void test_hactl_register(void);
void test_halink_register(void);
void test_hastatus_register(void);
void test_unixsock_register(void);
void test_be_register(void);
void test_deadline_register(void);
void test_lsn_register(void);
void test_resync_register(void);
void test_statewriter_register(void);

/* A fresh temporary directory for a test (mkdtemp under $TMPDIR or /tmp);
 * unit_rmtree removes it (lib/fsutil.c). */
char *unit_tmpdir(void);
void unit_rmtree(const char *dir);

#endif
