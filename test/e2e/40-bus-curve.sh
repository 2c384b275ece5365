#!/usr/bin/env bash
# CURVE on the bus (issue 5): with bus.curve on, a subscriber whose public
# key is listed in bus.curve_clients receives everything; an unlisted key
# and a plain subscriber receive nothing.  The same through c-orch-broker.
. "$(dirname "$0")/lib.sh"
e2e_init bus-curve
SUB=${SUB_BIN:-$BUILD_DIR/bus/c-orch-sub}
BROKER=${BROKER_BIN:-$BUILD_DIR/bus/c-orch-broker}
LIB="python3 $E2E_TOP/test/e2e/40-bus-lib.py"
SCHEMA=$E2E_TOP/schemas/node-description.schema.json

mkdir -p "$T/repo/templates" "$T/clients" "$T/keys"
cat >"$T/repo/templates/firewall-dummy.json" <<JSON
{"id": "firewall-dummy", "functional-capability": "firewall", "engine": "dummy",
 "ports": [{"name": "eth0"}, {"name": "eth1"}]}
JSON
for k in server good bad; do "$SUB" --make-cert "$T/keys/$k.cert"; done
cp "$T/keys/good.cert" "$T/clients/good.cert"     # Public part only.

corch_start --foreground --set repository.path="$T/repo" --set bus.curve=true \
    --set bus.curve_secret_key="$T/keys/server.cert" --set bus.curve_clients="$T/clients" \
    || { fail "daemon start"; e2e_finish; }
corch_login
EP=tcp://127.0.0.1:$CORCH_BUS_PORT
curve() { echo --curve-server-key "$T/keys/server.cert" --curve-client-cert "$T/keys/$1.cert"; }

"$SUB" --endpoint "$EP" --stamp $(curve good) >"$T/good.out" 2>&1 & P1=$!
"$SUB" --endpoint "$EP" $(curve bad) >"$T/bad.out" 2>&1 & P2=$!
"$SUB" --endpoint "$EP" >"$T/plain.out" 2>&1 & P3=$!
e2e_on_exit "kill $P1 $P2 $P3"
sleep 1
cat >"$T/g.json" <<JSON
{"sffg": {"id": "bus-gc", "name": "curve graph",
  "SFs": [{"id": "fw", "name": "firewall", "ports": [{"id": "in"}, {"id": "out"}]}],
  "saps": [], "flowrules": [
    {"id": "r1", "priority": 10, "match": {"port_in": "sf:fw:out"},
     "actions": {"output_to_port": "sf:fw:in"}}]}}
JSON
lat=$($LIB deploy "$CORCH_URL" "$TOKEN" bus-gc "$T/g.json" "$T/good.out" 2)
check "the listed key gets the description after a deploy (${lat:-none} ms)" test -n "$lat"
check "... and the graph event" grep -q '"corch:graph-event"' "$T/good.out"
check "... equal to GET /v1/node" $LIB compare "$CORCH_URL" "$TOKEN" "$T/good.out" "$SCHEMA"
sleep 0.3
check "the unlisted key gets nothing" test ! -s "$T/bad.out"
check "a plain subscriber gets nothing" test ! -s "$T/plain.out"
check_not "an unlisted late joiner gets nothing" "$SUB" --endpoint "$EP" $(curve bad) --count 1 --timeout 1
"$SUB" --endpoint "$EP" $(curve good) --stamp --count 1 --timeout 2 >"$T/late.out"
check "a listed late joiner gets the description at once" $LIB join "$T/late.out"
corch_stop

# ------------------------------------------------------- through a broker ---
cp "$T/keys/server.cert" "$T/clients/node.cert"  # The node, a client of the broker.
"$SUB" --make-cert "$T/keys/broker.cert"
FRONT=$(free_port); BACK=$(free_port)
"$BROKER" --frontend "tcp://127.0.0.1:$FRONT" --backend "tcp://127.0.0.1:$BACK" \
    --curve-secret-key "$T/keys/broker.cert" --curve-clients "$T/clients" >"$T/broker.log" 2>&1 &
BP=$!
e2e_on_exit "kill $BP"
sleep 0.3
unset CORCH_PORT CORCH_BUS_PORT
corch_start --foreground --set repository.path="$T/repo" --set bus.mode=external \
    --set bus.endpoint="tcp://127.0.0.1:$FRONT" --set bus.curve=true \
    --set bus.curve_secret_key="$T/keys/server.cert" \
    --set bus.curve_server_key="$T/keys/broker.cert" \
    || { fail "daemon start (external, CURVE)"; e2e_finish; }
bcurve() { echo --curve-server-key "$T/keys/broker.cert" --curve-client-cert "$T/keys/$1.cert"; }
"$SUB" --endpoint "tcp://127.0.0.1:$BACK" $(bcurve good) --count 1 --timeout 3 >"$T/bgood.out"
check "through the CURVE broker, the listed key gets the description" grep -q domain-description "$T/bgood.out"
check_not "through the CURVE broker, the unlisted key gets nothing" \
    "$SUB" --endpoint "tcp://127.0.0.1:$BACK" $(bcurve bad) --count 1 --timeout 1
check_not "through the CURVE broker, a plain subscriber gets nothing" \
    "$SUB" --endpoint "tcp://127.0.0.1:$BACK" --count 1 --timeout 1
e2e_finish
