#!/usr/bin/env bash
# Many nodes on one bus (issue 5): two c-orch nodes publish through
# c-orch-broker, one subscriber sees both (told apart by node id), a late
# subscriber gets both descriptions at once, and after a broker restart
# everyone reconnects and descriptions flow again.
. "$(dirname "$0")/lib.sh"
e2e_init bus-broker
SUB=${SUB_BIN:-$BUILD_DIR/bus/c-orch-sub}
BROKER=${BROKER_BIN:-$BUILD_DIR/bus/c-orch-broker}
LIB="python3 $E2E_TOP/test/e2e/40-bus-lib.py"
SCHEMA=$E2E_TOP/schemas/node-description.schema.json

mkdir -p "$T/repo/templates"
cat >"$T/repo/templates/firewall-dummy.json" <<JSON
{"id": "firewall-dummy", "functional-capability": "firewall", "engine": "dummy",
 "ports": [{"name": "eth0"}, {"name": "eth1"}]}
JSON
graph() {
    cat <<JSON
{"sffg": {"id": "$1", "name": "bus graph $1",
  "SFs": [{"id": "fw", "name": "firewall", "ports": [{"id": "in"}, {"id": "out"}]}],
  "saps": [], "flowrules": [
    {"id": "r1", "priority": 10, "match": {"port_in": "sf:fw:out"},
     "actions": {"output_to_port": "sf:fw:in"}}]}}
JSON
}

FRONT=$(free_port); BACK=$(free_port)
broker_start() {
    "$BROKER" --frontend "tcp://127.0.0.1:$FRONT" --backend "tcp://127.0.0.1:$BACK" \
        >>"$T/broker.log" 2>&1 &
    BROKER_PID=$!
    e2e_on_exit "kill $BROKER_PID; sleep 0.3; kill -9 $BROKER_PID"
    local i
    for i in $(seq 50); do grep -q "subscribers ->" "$T/broker.log" 2>/dev/null && break; sleep 0.05; done
}
broker_start
check "the broker runs" kill -0 "$BROKER_PID"

ext=(--set bus.mode=external --set bus.endpoint="tcp://127.0.0.1:$FRONT"
     --set repository.path="$T/repo" --set bus.heartbeat=60)
corch_start --foreground "${ext[@]}" --set node.id=bus-node-a || { fail "node a start"; e2e_finish; }
URL_A=$CORCH_URL; corch_login; TOKEN_A=$TOKEN
unset CORCH_PORT CORCH_BUS_PORT
corch_start --foreground "${ext[@]}" --set node.id=bus-node-b --set state.dir="$T/state-b" \
    || { fail "node b start"; e2e_finish; }
URL_B=$CORCH_URL; corch_login; TOKEN_B=$TOKEN

"$SUB" --endpoint "tcp://127.0.0.1:$BACK" --topic corch: --stamp >"$T/sub.out" 2>&1 &
SUB_PID=$!
e2e_on_exit "kill $SUB_PID"
seen_both() {   # seen_both FILE [SINCE]: both node ids within 3 s
    local i
    for i in $(seq 60); do
        [ "$($LIB nodes "$@")" = "bus-node-a bus-node-b" ] && return 0
        sleep 0.05
    done
    echo "seen: $($LIB nodes "$@")"; return 1
}
check "one subscriber sees both nodes" seen_both "$T/sub.out"
check "node a's description equals its GET /v1/node" $LIB compare "$URL_A" "$TOKEN_A" "$T/sub.out" "$SCHEMA"
check "node b's description equals its GET /v1/node" $LIB compare "$URL_B" "$TOKEN_B" "$T/sub.out" "$SCHEMA"

graph bus-ga >"$T/ga.json"
lat=$($LIB deploy "$URL_A" "$TOKEN_A" bus-ga "$T/ga.json" "$T/sub.out" 2)
check "node a's deploy reaches the subscriber through the broker (${lat:-none} ms)" \
    python3 -c "import sys; sys.exit(0 if float('${lat:-1e9}') <= 100 else 1)"
check "node b's description does not show node a's graph" $LIB compare "$URL_B" "$TOKEN_B" "$T/sub.out" "$SCHEMA"

sleep 1
"$SUB" --endpoint "tcp://127.0.0.1:$BACK" --topic corch:domain-description --stamp \
    --count 2 --timeout 2 >"$T/late.out"
check "a late subscriber through the broker gets both nodes at once" seen_both "$T/late.out"
lat=$($LIB join "$T/late.out")
check "... the first within 100 ms (${lat:-none} ms)" python3 -c "import sys; sys.exit(0 if float('${lat:-1e9}') <= 100 else 1)"

# -------------------------------------------------------- broker restart ---
kill "$BROKER_PID"; wait "$BROKER_PID" 2>/dev/null
sleep 0.5
restart=$(date +%s.%N)
broker_start
check "the broker restarts" kill -0 "$BROKER_PID"
check "descriptions of both nodes flow again to the old subscriber" seen_both "$T/sub.out" "$restart"
graph bus-gb >"$T/gb.json"
lat=$($LIB deploy "$URL_B" "$TOKEN_B" bus-gb "$T/gb.json" "$T/sub.out" 3)
check "a deploy after the restart reaches the old subscriber (${lat:-none} ms)" test -n "$lat"
"$SUB" --endpoint "tcp://127.0.0.1:$BACK" --topic corch:domain-description --stamp \
    --count 2 --timeout 2 >"$T/late2.out"
check "a new subscriber after the restart gets both nodes" seen_both "$T/late2.out"

check "node b stops cleanly" corch_stop
e2e_finish
