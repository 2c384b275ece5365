#!/usr/bin/env bash
# Bus latency (issue 5): from a deploy's completion (the PUT response) to
# the new node description arriving at a subscriber of the embedded bus,
# p50 / p99 over 100 deploys (each followed by a delete).  Target: p50 <=
# 50 ms.  Prints figures; never fails on a figure.
#   test/bench/bench-bus.sh [BUILD_DIR]    (default: build/)
E2E_LIB=$(cd "$(dirname "$0")/../e2e" && pwd)/lib.sh
[ $# -ge 1 ] && BUILD_DIR=$1
. "$E2E_LIB"
e2e_init bench-bus
N=${BENCH_BUS_DEPLOYS:-100}
SUB=$BUILD_DIR/bus/c-orch-sub
[ -x "$SUB" ] && [ -x "$CORCH_BIN" ] || { echo "bench-bus: build $BUILD_DIR first: skipped"; exit 77; }

mkdir -p "$T/repo/templates"
cat >"$T/repo/templates/firewall-dummy.json" <<JSON
{"id": "firewall-dummy", "functional-capability": "firewall", "engine": "dummy",
 "ports": [{"name": "eth0"}, {"name": "eth1"}]}
JSON
cat >"$T/graph.json" <<'JSON'
{"sffg": {"id": "@ID@", "name": "bench graph",
  "SFs": [{"id": "fw", "name": "firewall", "ports": [{"id": "in"}, {"id": "out"}]}],
  "saps": [], "flowrules": [
    {"id": "r1", "priority": 10, "match": {"port_in": "sf:fw:out"},
     "actions": {"output_to_port": "sf:fw:in"}}]}}
JSON
corch_start --foreground --set repository.path="$T/repo" --set log.level=warn \
    || { echo "bench-bus: the daemon did not start"; exit 1; }
corch_login
"$SUB" --endpoint "tcp://127.0.0.1:$CORCH_BUS_PORT" --topic corch:domain-description \
    --stamp >"$T/sub.out" 2>&1 &
SUB_PID=$!
e2e_on_exit "kill $SUB_PID"
for i in $(seq 50); do [ -s "$T/sub.out" ] && break; sleep 0.1; done
echo "bench-bus: $N deploys on $(nproc) cores, build $BUILD_DIR"
python3 "$E2E_TOP/test/e2e/40-bus-lib.py" bench "$CORCH_URL" "$TOKEN" "$T/graph.json" "$T/sub.out" "$N"
rc=$?
corch_stop
exit $rc
