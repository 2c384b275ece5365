#!/usr/bin/env bash
# Restart persistence: graphs deployed through both APIs, users and
# tokens survive a stop (SIGTERM) and a start on the same state dir.
. "$(dirname "$0")/lib.sh"
e2e_init rest-restart

mkdir -p "$T/repo/templates"
cat >"$T/repo/templates/fw-dummy.json" <<'EOT'
{"id": "fw-dummy", "functional-capability": "firewall", "engine": "dummy",
 "ports": [{"name": "eth0"}, {"name": "eth1"}]}
EOT
ARGS=(--set repository.path="$T/repo" --set vswitch.interfaces=rrs-if0,rrs-if1)
graph() {   # graph ID VLAN
    cat <<EOT
{"sffg": {"id": "$1", "name": "restart $1",
  "SFs": [{"id": "fw", "name": "firewall", "ports": [{"id": "a"}, {"id": "b"}]}],
  "saps": [{"id": "v", "type": "vlan", "vlan": {"vlan-id": $2, "if-name": "rrs-if0"}},
           {"id": "h", "type": "host-stack", "host-stack": {"configuration": "static", "ipv4": "10.77.$2.1/24"}}],
  "flowrules": [
    {"id": "in", "priority": 5, "match": {"port_in": "service-access-point:v"}, "actions": {"output_to_port": "sf:fw:a"}},
    {"id": "mid", "priority": 5, "match": {"port_in": "sf:fw:b", "ether_type": 2048, "protocol": 17, "dest_port": 53},
     "actions": {"output_to_port": "service-access-point:h"}},
    {"id": "back", "priority": 5, "match": {"port_in": "service-access-point:h"}, "actions": {"output_to_port": "sf:fw:b"}},
    {"id": "out", "priority": 5, "match": {"port_in": "sf:fw:a"}, "actions": {"output_to_port": "service-access-point:v"}}]}}
EOT
}

corch_start "${ARGS[@]}" || { fail "first start"; e2e_finish; }
corch_login
ADMIN=$TOKEN
api PUT /v1/users/op '{"password":"op-secret-pw","role":"operator"}'; expect_status 201 "create operator"
corch_login op op-secret-pw
OP=$TOKEN
api PUT /v1/graphs/r1 "$(graph r1 101)"; expect_status 201 "deploy r1 (operator)"
TOKEN=$ADMIN
api PUT /v1/graphs/r2 "$(graph r2 102)"; expect_status 201 "deploy r2 (admin)"
api PUT /NF-FG/r3 '{"forwarding-graph": {"name": "compat", "end-points": [
  {"id": "1", "type": "vlan", "vlan": {"vlan-id": "103", "if-name": "rrs-if1"}},
  {"id": "2", "type": "vlan", "vlan": {"vlan-id": "104", "if-name": "rrs-if1"}}],
  "big-switch": {"flow-rules": [
  {"id": "1", "priority": 1, "match": {"port_in": "endpoint:1"}, "actions": [{"output_to_port": "endpoint:2"}]}]}}}'
expect_status 202 "deploy r3 (NF-FG)"
api GET /v1/graphs; expect_status 200 "list before"
cp "$T/body" "$T/list.before"
for g in r1 r2 r3; do api GET /v1/graphs/$g; cp "$T/body" "$T/$g.before"; done
api GET /NF-FG/r3; cp "$T/body" "$T/r3.nffg.before"

corch_stop; check "SIGTERM: exit 0" test $? = 0
check "the stop was logged" grep -q 'rest.*stopped' "$CORCH_LOG"

corch_start "${ARGS[@]}" || { fail "second start"; e2e_finish; }
TOKEN=$ADMIN
api GET /v1/graphs; expect_status 200 "list after the restart, with the old admin token"
check "same graphs, names and status" python3 -c "
import json
a = json.load(open('$T/list.before'))['graphs']; b = json.load(open('$T/body'))['graphs']
key = lambda g: g['id']
assert sorted(a, key=key) == sorted(b, key=key), (a, b)
assert sorted(g['id'] for g in b) == ['r1', 'r2', 'r3'], b
assert all(g['status'] == 'running' for g in b), b"
for g in r1 r2 r3; do
    api GET /v1/graphs/$g; expect_status 200 "$g after the restart"
    check "$g is the same graph" python3 -c "
import json; assert json.load(open('$T/$g.before')) == json.load(open('$T/body'))"
done
api GET /NF-FG/r3; expect_status 200 "r3 in NF-FG format"
check "r3 NF-FG unchanged" python3 -c "
import json; assert json.load(open('$T/r3.nffg.before')) == json.load(open('$T/body'))"

TOKEN=$OP
api GET /v1/graphs; expect_status 200 "operator token still valid"
check "operator still owns r1 (and only r1)" test "$(jq_body '[g["id"] for g in b["graphs"]]')" = "['r1']"
api DELETE /v1/graphs/r2; expect_status 403 "operator still may not delete r2"
api DELETE /v1/graphs/r1; expect_status 204 "operator deletes r1 after the restart"
api PUT /v1/graphs/r1 "$(graph r1 101)"; expect_status 201 "and deploys it again"
TOKEN=$ADMIN
api DELETE /v1/graphs/r2; expect_status 204 "admin deletes r2"

corch_stop; check "second SIGTERM: exit 0" test $? = 0
corch_start "${ARGS[@]}" || { fail "third start"; e2e_finish; }
TOKEN=$ADMIN
api GET /v1/graphs
check "deletions persisted too" test "$(jq_body 'sorted(g["id"] for g in b["graphs"])')" = "['r1', 'r3']"
corch_stop; check "third SIGTERM: exit 0" test $? = 0
check "no sanitizer report" sh -c "! grep -q 'Sanitizer' '$CORCH_LOG'"
e2e_finish
