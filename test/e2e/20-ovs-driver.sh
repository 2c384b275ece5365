#!/bin/bash
# The ovs vSwitch driver, hook by hook, against a real private Open vSwitch
# and real packets (test/unit/test-ovs.c: LSI-0 open / adopt, lockdown,
# vlinks, veth and internal ports, gre and host-stack SAPs, atomic rule
# batches, ping through the installed rules, 10,000 rules), then the
# driver benchmark in short form.  Both run in network namespaces of their
# own, so they never collide with another OVS on the host.
. "$(dirname "$0")/lib.sh"
e2e_init ovs-driver
command -v ovs-vswitchd >/dev/null || { echo "no Open vSwitch: skipped"; exit 77; }
TEST_OVS=$BUILD_DIR/test/unit/test-ovs
BENCH_OVS=$BUILD_DIR/test/bench/bench-ovs
[ -x "$TEST_OVS" ] || { echo "$TEST_OVS not built (make check builds it): skipped"; exit 77; }

if "$TEST_OVS" >"$T/test-ovs.log" 2>&1; then
    pass "driver hooks against OVS ($(grep -c '\[       OK \]' "$T/test-ovs.log") cases)"
else
    fail "driver hooks against OVS"; sed 's/^/    /' "$T/test-ovs.log" | tail -30
fi
grep '^#' "$T/test-ovs.log" | sed 's/^/    /'

if [ -x "$BENCH_OVS" ]; then
    if BENCH_OVS=$BENCH_OVS bash "$E2E_TOP/test/bench/bench-ovs.sh" 10 >"$T/bench.log" 2>&1; then
        pass "driver benchmark runs"; sed 's/^/    /' "$T/bench.log" | grep -v '^\s*\[' 
    else
        fail "driver benchmark"; tail -20 "$T/bench.log"
    fi
fi
e2e_finish
