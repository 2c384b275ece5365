#!/usr/bin/env bash
# REST benchmark: idle RSS of the daemon and wrk on GET /v1/graphs/{id}.
# Builds nothing: takes the build dir (an optimised, non-sanitizer build is
# what the figures mean).  Prints figures; never fails on a figure.
#   test/bench/bench-rest.sh [BUILD_DIR]
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${1:-${BUILD_DIR:-$TOP/build}}
BIN=$BUILD_DIR/orchestrator/c-orch
[ -x "$BIN" ] || { echo "bench-rest: no $BIN: skipped"; exit 77; }
command -v wrk >/dev/null || { echo "bench-rest: no wrk: skipped"; exit 77; }
if nm -D "$BIN" 2>/dev/null | grep -q __asan_init || ldd "$BIN" | grep -q libasan; then
    echo "bench-rest: warning: $BIN is a sanitizer build; figures are not meaningful"
fi

T=$(mktemp -d /tmp/corch-bench-rest.XXXXXX)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(port)
URL=http://127.0.0.1:$PORT
PW=bench-admin-pw
mkdir -p "$T/state" "$T/repo/templates"
cat >"$T/repo/templates/fw.json" <<'EOT'
{"id": "fw-dummy", "functional-capability": "firewall", "engine": "dummy",
 "ports": [{"name": "eth0"}, {"name": "eth1"}]}
EOT
CORCH_ADMIN_PASSWORD=$PW "$BIN" --foreground --set rest.port="$PORT" --set state.dir="$T/state" \
    --set bus.endpoint="tcp://127.0.0.1:$(port)" --set repository.path="$T/repo" \
    --set vswitch.driver=dummy --set compute.drivers=dummy --set vswitch.interfaces=bnch0 \
    --set log.level=warn >"$T/log" 2>&1 &
PID=$!
for i in $(seq 100); do curl -fsS "$URL/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "$URL/healthz" >/dev/null 2>&1 || { echo "bench-rest: daemon did not start"; tail "$T/log"; exit 1; }

TOKEN=$(curl -sS -X POST -d "{\"username\":\"admin\",\"password\":\"$PW\"}" "$URL/v1/login" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
GRAPH='{"sffg": {"id": "bench", "name": "bench graph",
  "SFs": [{"id": "fw", "name": "firewall", "ports": [{"id": "a"}, {"id": "b"}]}],
  "saps": [{"id": "lan", "type": "interface", "interface": {"if-name": "bnch0"}},
           {"id": "hs", "type": "host-stack", "host-stack": {"configuration": "static", "ipv4": "10.66.0.1/24"}}],
  "flowrules": [
    {"id": "r1", "priority": 10, "match": {"port_in": "service-access-point:lan"}, "actions": {"output_to_port": "sf:fw:a"}},
    {"id": "r2", "priority": 10, "match": {"port_in": "sf:fw:a"}, "actions": {"output_to_port": "service-access-point:lan"}},
    {"id": "r3", "priority": 10, "match": {"port_in": "sf:fw:b"}, "actions": {"output_to_port": "service-access-point:hs"}},
    {"id": "r4", "priority": 10, "match": {"port_in": "service-access-point:hs"}, "actions": {"output_to_port": "sf:fw:b"}}]}}'
code=$(curl -sS -o "$T/put" -w '%{http_code}' -X PUT -H "Authorization: Bearer $TOKEN" \
       --data-binary "$GRAPH" "$URL/v1/graphs/bench")
echo "bench-rest: deploy of the bench graph: HTTP $code"
[ "$code" = 201 ] || { echo "bench-rest: deploy failed: $(head -c 300 "$T/put")"; }

sleep 1
rss() { awk '/^VmRSS/ {print $2}' "/proc/$PID/status"; }
echo "bench-rest: idle RSS of c-orch with one graph: $(rss) kB (target <= 8192 kB)"
# What the RSS is made of: shared library pages count in full in VmRSS.
awk '/^(Pss|Shared_Clean|Private_Dirty):/ {printf "bench-rest:   %s %s kB\n", $1, $2}' \
    "/proc/$PID/smaps_rollup" 2>/dev/null

echo "bench-rest: wrk -t2 -c16 -d5s GET /v1/graphs/bench"
wrk -t2 -c16 -d5s -H "Authorization: Bearer $TOKEN" "$URL/v1/graphs/bench" >"$T/wrk" 2>&1
sed 's/^/    /' "$T/wrk"
echo "bench-rest: GET /v1/graphs/{id}: $(awk '/Requests\/sec/ {print $2}' "$T/wrk") req/s"
non2xx=$(awk '/Non-2xx/ {print $NF}' "$T/wrk")
[ -n "$non2xx" ] && echo "bench-rest: warning: $non2xx non-2xx answers"
wrk -t2 -c16 -d5s "$URL/healthz" >"$T/wrk2" 2>&1
echo "bench-rest: GET /healthz (no auth, no graph): $(awk '/Requests\/sec/ {print $2}' "$T/wrk2") req/s"
echo "bench-rest: RSS after the load: $(rss) kB"
kill -TERM "$PID"; wait "$PID"; echo "bench-rest: daemon exit status after SIGTERM: $?"
PID=
exit 0
