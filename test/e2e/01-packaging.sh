#!/usr/bin/env bash
# The shipped systemd unit passes systemd-analyze verify (pointed at the
# binary just built), and the sample configuration is accepted by the
# daemon's own checker; bad configurations are refused naming the key.
. "$(dirname "$0")/lib.sh"
e2e_init packaging

[ -x "$CORCH_BIN" ] || { echo "no daemon binary at $CORCH_BIN: skipped"; exit 77; }

sed "s|/usr/local/sbin/c-orch|$CORCH_BIN|" "$E2E_TOP/contrib/c-orch.service" >"$T/c-orch.service"
if command -v systemd-analyze >/dev/null; then
    check "systemd unit verifies" systemd-analyze verify "$T/c-orch.service"
else
    e2e_log "systemd-analyze absent: unit not verified"
fi

check "sample config accepted" "$CORCH_BIN" --check-config --config "$E2E_TOP/contrib/c-orch.conf.sample"

printf '[rest]\nprot = 1\n' >"$T/bad1.conf"
"$CORCH_BIN" --check-config --config "$T/bad1.conf" >"$T/out" 2>&1
check "unknown key refused (exit 2)" test $? = 2
check "unknown key named" grep -q 'rest.prot' "$T/out"

"$CORCH_BIN" --check-config --set rest.port=99999 >"$T/out" 2>&1
check "bad value refused (exit 2)" test $? = 2
check "bad value named" grep -q 'rest.port' "$T/out"

"$CORCH_BIN" --check-config --set vswitch.interfaces='eth0,a b' >"$T/out" 2>&1
check_not "bad interface name refused" test $? = 0
check "bad interface named" grep -q 'vswitch.interfaces' "$T/out"

check "--version" "$CORCH_BIN" --version
e2e_finish
