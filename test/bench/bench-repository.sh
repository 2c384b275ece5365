#!/bin/bash
# SF repository and recursive templates (issue 4), with the dummy drivers so
# that only the core is measured:
#   1. daemon start to /healthz with the shipped repository local, then
#      remote (python3 http.server on loopback: index + templates fetched),
#      and the time the remote load itself took (from the daemon's log);
#   2. deploy of N "security" SFs (each expanded to firewall -> nat: 2N
#      SFs) against the same graph written flat by hand (2N SFs), median of
#      ROUNDS PUTs each: the cost of the expansion.
# Usage: bench-repository.sh [BUILD_DIR] [N] [ROUNDS].  Needs root (the
# e2e library); never fails on a figure.
BUILD_DIR=${1:-${BUILD_DIR:-}}
N=${2:-100}
ROUNDS=${3:-5}
. "$(dirname "$0")/../e2e/lib.sh"
[ -n "$BUILD_DIR" ] || BUILD_DIR=$E2E_TOP/build
CORCH_BIN=$BUILD_DIR/orchestrator/c-orch
[ -x "$CORCH_BIN" ] || { echo "bench-repository: $CORCH_BIN not built"; exit 1; }
e2e_init rp-bench-repo
ms() { date +%s%3N; }

# 1. Start-up, local then remote.
t0=$(ms); corch_start >/dev/null || exit 1; t1=$(ms); corch_stop
echo "start-up, local repository:  $((t1 - t0)) ms to /healthz"
HPORT=$(free_port)
python3 -m http.server --bind 127.0.0.1 --directory "$E2E_TOP/sf-repository" \
    "$HPORT" >"$T/http.log" 2>&1 &
e2e_on_exit "kill $!"
for i in $(seq 50); do
    ss -Hltn "sport = :$HPORT" | grep -q . && break
    sleep 0.1
done
unset CORCH_PORT CORCH_BUS_PORT
t0=$(ms)
corch_start --set repository.path= --set repository.url="http://127.0.0.1:$HPORT/" \
    >/dev/null || exit 1
t1=$(ms)
echo "start-up, remote repository: $((t1 - t0)) ms to /healthz" \
     "($(grep -c 'GET /' "$T/http.log") HTTP requests)"
echo "  of which the remote load: $(grep -o 'new templates in [0-9]* ms' "$CORCH_LOG" | tail -1)"
corch_login

# 2. N security SFs, expanded, against the same 2N SFs flat.
python3 - "$N" "$T" <<'PY'
import json, sys
n, t = int(sys.argv[1]), sys.argv[2]
nat = {"inside_ip": "192.168.1.1/24", "outside_ip": "10.0.0.2/24"}
fw = {"default": "allow", "rules": []}
ports = [{"id": "a"}, {"id": "b"}]
def outer(sfs, rules, gid):
    return {"sffg": {"id": gid, "SFs": sfs, "saps": [], "flowrules": rules}}
def r(rid, a, b):
    return {"id": rid, "match": {"port_in": a}, "actions": {"output_to_port": b}}
# Recursive: s0 - s1 - ... chained by their ports.
sfs = [{"id": f"s{i}", "name": "security", "config": {"firewall": fw, "nat": nat},
        "ports": ports} for i in range(n)]
rules = []
for i in range(n - 1):
    rules += [r(f"c{i}", f"sf:s{i}:b", f"sf:s{i+1}:a"),
              r(f"d{i}", f"sf:s{i+1}:a", f"sf:s{i}:b")]
json.dump(outer(sfs, rules, "rec"), open(f"{t}/rec.json", "w"))
# Flat, by hand: what the expansion produces.
sfs, rules = [], []
for i in range(n):
    sfs += [{"id": f"s{i}.firewall", "name": "firewall", "config": fw,
             "ports": [{"id": "lan"}, {"id": "wan"}]},
            {"id": f"s{i}.nat", "name": "nat", "config": nat,
             "ports": [{"id": "inside"}, {"id": "outside"}]}]
    rules += [r(f"s{i}.fw-nat", f"sf:s{i}.firewall:wan", f"sf:s{i}.nat:inside"),
              r(f"s{i}.nat-fw", f"sf:s{i}.nat:inside", f"sf:s{i}.firewall:wan")]
for i in range(n - 1):
    rules += [r(f"c{i}", f"sf:s{i}.nat:outside", f"sf:s{i+1}.firewall:lan"),
              r(f"d{i}", f"sf:s{i+1}.firewall:lan", f"sf:s{i}.nat:outside")]
json.dump(outer(sfs, rules, "flat"), open(f"{t}/flat.json", "w"))
PY
put_ms() { # put_ms ID FILE: ms of one PUT (then DELETE)
    local a b
    a=$(ms); api PUT "/v1/graphs/$1" "@$2"; b=$(ms)
    case $STATUS in 200|201) ;; *) echo "PUT $1: $STATUS $(head -c 300 "$T/body")" >&2;; esac
    api DELETE "/v1/graphs/$1"
    echo $((b - a))
}
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
for k in $(seq "$ROUNDS"); do put_ms rec "$T/rec.json"; done >"$T/rec.ms"
for k in $(seq "$ROUNDS"); do put_ms flat "$T/flat.json"; done >"$T/flat.ms"
rec=$(median <"$T/rec.ms"); flat=$(median <"$T/flat.ms")
echo "deploy $N security SFs (expanded to $((2 * N))): median $rec ms of $ROUNDS (dummy drivers)"
echo "deploy the same $((2 * N)) SFs written flat:     median $flat ms of $ROUNDS"
echo "expansion overhead: $((rec - flat)) ms for $N subgraph SFs" \
     "($(awk -v a="$rec" -v b="$flat" -v n="$N" 'BEGIN {printf "%.3f", (a - b) / n}') ms each)"
e2e_cleanup
trap - EXIT
exit 0
