#!/bin/sh
# ha_filesync — hasvr's schedule of the file sync job: it runs on the
# primary once the secondary is up, then every highAvail.syncInterval and
# on request (haCtl filesync); never on the secondary, not while file sync
# is disabled; haStatus shows the result and a FAIL as a problem. The job
# here is a stand-in script that records each run and writes the result
# file as .haDoDirect does (tests/integ/filesync.sh runs the real one
# against a real sshd).
. "$top_srcdir/tests/integ/lib.sh"
test_init ha_filesync
ha_init

# the stand-in: logs "<node> <args>" to $T/runs, result from $T/<node>.want
mkjob()
{
	mkdir -p "$T/$1/bin"
	cat >"$T/$1/bin/.haDoDirect" <<EOF
#!/bin/sh
echo "$1 \$*" >>"$T/runs"
want=\$(cat "$T/$1.want" 2>/dev/null || echo SUCCESS)
r=
while [ \$# -gt 0 ]; do [ "\$1" = -r ] && r=\$2; shift; done
printf '%s\ntime %s\npeer 127.0.0.x\nreason %s\n' "\$want" "\$(date +%s)" \
    "stand-in says \$want" >"\$r.tmp" && mv "\$r.tmp" "\$r"
[ "\$want" = SUCCESS ]
EOF
	chmod 755 "$T/$1/bin/.haDoDirect"
}
mkjob a; mkjob b
HA_FILESYNC=y
HA_HB_EXTRA="highAvail.syncInterval 2s"
HA_HB_EXTRA="$HA_HB_EXTRA
highAvail.fileSyncProgram $T/a/bin/.haDoDirect"
hasvr_node a 127.0.0.1
HA_HB_EXTRA="highAvail.syncInterval 2s
highAvail.fileSyncProgram $T/b/bin/.haDoDirect"
hasvr_node b 127.0.0.2
on a start_hasvr
sleep 3
[ ! -s "$T/runs" ] || fail "the job ran with no secondary up: $(cat "$T/runs")"
on b start_hasvr
on a wait_role PRIMARY 20
on b wait_role SECONDARY 20

note "first run once the secondary is up, then every 2 s"
n=0
while [ "$(grep -c '^a ' "$T/runs" 2>/dev/null || true)" -lt 3 ] && [ $n -lt 150 ]; do
	sleep 0.1; n=$((n + 1))
done
runs=$(grep -c '^a ' "$T/runs" || true)
[ "$runs" -ge 3 ] || fail "the job ran $runs times on the primary in 15 s, expected >= 3"
assert_grep "^a -f $T/a/haSvr.cfg -r $T/a/bin/.haDoDirect.result" "$T/runs"
assert_no_grep "^b " "$T/runs" "the job ran on the secondary"
on a assert_grep "file sync started \(a secondary is up\)" "$(on a hlog)"
on a assert_grep "file sync SUCCESS" "$(on a hlog)"
assert_eq SUCCESS "$(on a jget .fileSync.result)" "haStatus file sync result"

note "on request; refused on the secondary"
on a expect_rc 0 hactl filesync
on b expect_rc 1 hactl filesync
assert_grep "refused.*primary" "$T/err"

note "a failing job is a problem in haStatus"
echo FAIL >"$T/a.want"
on a hactl filesync >/dev/null 2>&1 || true
n=0
while [ "$(on a jget .fileSync.result)" != FAIL ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
assert_eq FAIL "$(on a jget .fileSync.result)" "failed result shown"
on a expect_rc 1 hastatus
assert_grep "haTrustCheck" "$T/out"
on a assert_grep "file sync FAIL: stand-in says FAIL" "$(on a hlog)"

note "disabled: no more runs"
on a expect_rc 0 hactl sync files off
sleep 0.5
before=$(grep -c '^a ' "$T/runs")
sleep 4
after=$(grep -c '^a ' "$T/runs")
[ "$before" = "$after" ] || fail "the job ran with file sync off ($before -> $after runs)"
on a expect_rc 1 hactl filesync
assert_grep "disabled" "$T/err"
assert_no_grep "^b " "$T/runs" "the job ran on the secondary"
on b stop_hasvr
on a stop_hasvr
echo ok
