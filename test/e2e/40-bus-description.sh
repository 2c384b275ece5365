#!/usr/bin/env bash
# The node description on the embedded bus (issue 5): a subscriber gets it
# within 100 ms of a deploy and of a delete, it equals GET /v1/node and
# validates against the schema; a subscriber joining long after the last
# change gets it within 100 ms; graph events carry node id, seq, timestamp.
. "$(dirname "$0")/lib.sh"
e2e_init bus-desc
SUB=${SUB_BIN:-$BUILD_DIR/bus/c-orch-sub}
LIB="python3 $E2E_TOP/test/e2e/40-bus-lib.py"
SCHEMA=$E2E_TOP/schemas/node-description.schema.json

# A private repository of dummy-engine templates, and a real interface
# (a veth; the dummy netdev module may be absent) so that the endpoint
# shows a MAC and an address.
mkdir -p "$T/repo/templates"
cat >"$T/repo/templates/firewall-dummy.json" <<JSON
{"id": "firewall-dummy", "functional-capability": "firewall", "engine": "dummy",
 "ports": [{"name": "eth0"}, {"name": "eth1"}]}
JSON
ip link add bus-d-if0 type veth peer name bus-d-if0p && e2e_on_exit "ip link del bus-d-if0"
ip addr add 10.77.0.1/24 dev bus-d-if0
ip link set bus-d-if0 up

graph() {
    cat <<JSON
{"sffg": {"id": "$1", "name": "bus graph $1",
  "SFs": [{"id": "fw", "name": "firewall", "ports": [{"id": "in"}, {"id": "out"}]}],
  "saps": [{"id": "wan", "type": "vlan", "vlan": {"vlan-id": $2, "if-name": "bus-d-if0"}}],
  "flowrules": [
    {"id": "r1", "priority": 10, "match": {"port_in": "service-access-point:wan"},
     "actions": {"output_to_port": "sf:fw:in"}},
    {"id": "r2", "priority": 10, "match": {"port_in": "sf:fw:out"},
     "actions": {"output_to_port": "service-access-point:wan"}}]}}
JSON
}

# The second SF start fails: a graph event "failed" with its error.
export CORCH_DUMMY_FAIL=compute.start:2
corch_start --foreground --set repository.path="$T/repo" --set vswitch.interfaces=bus-d-if0 \
    --set node.id=bus-desc-node --set node.neighbours=bus-d-if0=bus-peer-node \
    --set bus.heartbeat=60 --set bus.check_interval=1 || { fail "daemon start"; e2e_finish; }
corch_login
EP=tcp://127.0.0.1:$CORCH_BUS_PORT

"$SUB" --endpoint "$EP" --topic corch: --stamp >"$T/sub.out" 2>"$T/sub.err" &
SUB_PID=$!
e2e_on_exit "kill $SUB_PID"
for i in $(seq 50); do [ -s "$T/sub.out" ] && break; sleep 0.1; done
check "a new subscriber gets the description" test -s "$T/sub.out"
check "it equals GET /v1/node and validates" $LIB compare "$CORCH_URL" "$TOKEN" "$T/sub.out" "$SCHEMA"
check "the endpoint shows MAC, IP, neighbour, free VLANs" python3 - "$T/sub.out" <<'PY'
import json, sys
m = [json.loads(l) for l in open(sys.argv[1])][-1]["message"]["description"]
ep = m["big_switch"]["endpoints"][0]
assert ep["name"] == "bus-d-if0" and ep["present"], ep
assert ep["mac"] and "10.77.0.1/24" in ep["ipv4"], ep
assert ep["neighbour_domain"] == "bus-peer-node", ep
assert ep["vlan"]["free"] == ["1-4094"] or not ep["vlan"]["supported"], ep
fw = [c for c in m["functional_capabilities"] if c["name"] == "firewall"]
assert fw and fw[0]["ready"] and fw[0]["templates"][0] == {"id": "firewall-dummy", "engine": "dummy", "ready": True}, m
infra = m["infrastructure_capabilities"]
assert infra["vswitch"] == "dummy" and infra["cpu_architecture"], infra
assert {"type": "dummy", "usable": True, "why": None} in infra["engines"], infra
r = m["resources"]
assert r["cores_total"] >= 1 and r["memory_mb_total"] > 0 and r["cores_free"] <= r["cores_total"], r
assert m["node_id"] == "bus-desc-node" and m["management"]["url"].startswith("http://127.0.0.1:"), m
PY

# ------------------------------------------------------- deploy / delete ---
graph bus-g1 10 >"$T/g1.json"
lat=$($LIB deploy "$CORCH_URL" "$TOKEN" bus-g1 "$T/g1.json" "$T/sub.out" 2)
check "description after a deploy (${lat:-none} ms)" python3 -c "import sys; sys.exit(0 if float('${lat:-1e9}') <= 100 else 1)"
check "after the deploy it equals GET /v1/node" $LIB compare "$CORCH_URL" "$TOKEN" "$T/sub.out" "$SCHEMA"
check "VLAN 10 is no longer free" python3 - "$T/sub.out" <<'PY'
import json, sys
d = [json.loads(l) for l in open(sys.argv[1]) if "domain-description" in l][-1]["message"]["description"]
ep = d["big_switch"]["endpoints"][0]
assert not ep["vlan"]["supported"] or ep["vlan"]["free"] == ["1-9", "11-4094"], ep
PY
check "a graph event 'deployed' with node id, seq, timestamp" python3 - "$T/sub.out" <<'PY'
import json, sys
ev = [json.loads(l)["message"] for l in open(sys.argv[1]) if "graph-event" in l]
assert any(e["event"]["type"] == "deployed" and e["event"]["graph_id"] == "bus-g1"
           and e["node_id"] == "bus-desc-node" and e["seq"] > 0 and e["timestamp"] for e in ev), ev
PY

lat=$($LIB delete "$CORCH_URL" "$TOKEN" bus-g1 "$T/sub.out" 2)
check "description after a delete (${lat:-none} ms)" python3 -c "import sys; sys.exit(0 if float('${lat:-1e9}') <= 100 else 1)"
check "after the delete it equals GET /v1/node" $LIB compare "$CORCH_URL" "$TOKEN" "$T/sub.out" "$SCHEMA"
check "seq increases on every message" python3 - "$T/sub.out" <<'PY'
import json, sys
s = [json.loads(l)["message"]["seq"] for l in open(sys.argv[1])]
assert all(a < b for a, b in zip(s, s[1:])), s
PY

# A failed deploy (CORCH_DUMMY_FAIL above) is an event with its error.
graph bus-g2 20 >"$T/g2.json"
api PUT /v1/graphs/bus-g2 @"$T/g2.json"
sleep 0.3
check "after a failed deploy the description equals GET /v1/node" $LIB compare "$CORCH_URL" "$TOKEN" "$T/sub.out" "$SCHEMA"
check "a graph event 'failed' with the error" python3 - "$T/sub.out" <<'PY'
import json, sys
ev = [json.loads(l)["message"]["event"] for l in open(sys.argv[1]) if "graph-event" in l]
assert any(e["type"] == "failed" and e["graph_id"] == "bus-g2" and e["error"] for e in ev), ev
PY

# ---------------------------------------------------------- late joiner ---
sleep 2
"$SUB" --endpoint "$EP" --topic corch:domain-description --stamp --count 1 --timeout 2 >"$T/late.out"
lat=$($LIB join "$T/late.out")
check "a late joiner gets the description (${lat:-none} ms after connecting)" python3 -c "import sys; sys.exit(0 if float('${lat:-1e9}') <= 100 else 1)"
check "the late joiner's copy equals GET /v1/node" $LIB compare "$CORCH_URL" "$TOKEN" "$T/late.out" "$SCHEMA"

# Subscribing to graph events only brings no description.
"$SUB" --endpoint "$EP" --topic corch:graph-event --count 1 --timeout 0.5 >"$T/ev.out"
check "an event-only subscriber gets nothing when nothing happens" test ! -s "$T/ev.out"

# ------------------------------------------- changes behind our back ---
# An interface disappearing is noticed by the periodic check (1 s here).
ip link del bus-d-if0
gone() {
    local i
    for i in $(seq 30); do
        python3 - "$T/sub.out" <<'PY' && return 0
import json, sys
d = [json.loads(l)["message"] for l in open(sys.argv[1]) if "domain-description" in l][-1]
ep = d["description"]["big_switch"]["endpoints"][0]
sys.exit(0 if not ep["present"] and d["reason"] == "change" else 1)
PY
        sleep 0.1
    done
    return 1
}
check "an interface disappearing is published within the check interval" gone
check "... and GET /v1/node agrees" $LIB compare "$CORCH_URL" "$TOKEN" "$T/sub.out" "$SCHEMA"

check "the daemon stops cleanly" corch_stop
e2e_finish
