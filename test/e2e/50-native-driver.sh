#!/bin/bash
# Issue 4, the native engine's hooks against real namespaces, veths and
# packets, without the daemon: runs test/unit/test-native (also part of
# make check) and the proc tests.  bridge / firewall / nat / router NSFs
# pass or block real traffic between host namespaces; a start script that
# fails or hangs past its timeout returns its stderr and leaves no
# namespace, veth or process; destroy leaves nothing.
. "$(dirname "$0")/lib.sh"
e2e_init nv50
for t in test-proc test-native; do
    bin=$BUILD_DIR/test/unit/$t
    [ -x "$bin" ] || { echo "$E2E_NAME: $bin not built (make check in $BUILD_DIR): skipped"; exit 77; }
    if "$bin" >"$T/$t.log" 2>&1; then pass "$t"; else fail "$t"; grep -E 'FAILED|ERROR|LINE' "$T/$t.log" | head -20; fi
done
# Under the tests' lock: another make check's test-native may be running.
check "no namespace of these tests left" flock /run/lock/corch-test-native.lock \
    sh -c "! ip netns list 2>/dev/null | grep -qE '^(nv-h|corch-[0-9a-f]{4}-nv-)'"
e2e_finish
