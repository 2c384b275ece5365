#!/bin/bash
# Issue 3: failure injection with real OVS refusals.  A deploy that OVS
# refuses midway must leave nothing of the graph: no bridge, port, flow,
# OVSDB row or host-stack address, and the same graph deploys fine once
# the cause is gone.
#  1. LSI-0's flow table is capped (Flow_Table flow_limit, overflow_policy
#     =refuse): the graph-LSI, its ports and vlinks exist by then, and OVS
#     answers the LSI-0 rules with OFPFMFC_TABLE_FULL.
#  2. A rule OVS cannot take (set_dest_ip without an IPv4 match: OVS would
#     answer OFPBAC_MATCH_INCONSISTENT) among good ones; c-orch's validator
#     refuses it first (400), which must leave nothing either.
#  3. ovs-vswitchd frozen (SIGSTOP): OVSDB commits, but the switch never
#     applies the configuration; c-orch must give up (CORCH_OVS_TIMEOUT_MS)
#     and undo.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-node.sh"
e2e_init oe36
oe_prereq oe36

oe_node oe36-node
oe_host oe36-h1 oe36-node oe36-v1 10.203.36.1/24
oe_host oe36-h2 oe36-node oe36-v2 10.203.36.3/24
export CORCH_OVS_TIMEOUT_MS=3000
oe_corch oe36-node oe36-v1,oe36-v2
LSI0=$(oe_lsi0)
check "LSI-0 exists" test -n "$LSI0"

graph() { # graph ID [EXTRA_RULE_JSON]
    cat <<JSON
{"sffg": {"id": "$1", "name": "$1",
  "SFs": [],
  "saps": [
    {"id": "a", "type": "interface", "interface": {"if-name": "oe36-v1"}},
    {"id": "b", "type": "interface", "interface": {"if-name": "oe36-v2"}},
    {"id": "hs", "type": "host-stack", "host-stack": {"configuration": "static", "ipv4": "10.203.36.2/24"}}],
  "flowrules": [
    {"id": "ab", "priority": 10, "match": {"port_in": "service-access-point:a"},
     "actions": {"output_to_port": "service-access-point:b"}},
    {"id": "ba", "priority": 10, "match": {"port_in": "service-access-point:b"},
     "actions": {"output_to_port": "service-access-point:a"}},
    {"id": "a-hs", "priority": 20,
     "match": {"port_in": "service-access-point:a", "ether_type": "0x0800", "dest_ip": "10.203.36.2"},
     "actions": {"output_to_port": "service-access-point:hs"}},
    {"id": "a-hs-arp", "priority": 20,
     "match": {"port_in": "service-access-point:a", "ether_type": "0x0806"},
     "actions": {"output_to_port": ["service-access-point:hs", "service-access-point:b"]}},
    {"id": "hs-a", "priority": 10, "match": {"port_in": "service-access-point:hs"},
     "actions": {"output_to_port": "service-access-point:a"}}${2:+,
    $2}]}}
JSON
}
# left_nothing ID: the checks every failed deploy must pass.
left_nothing() {
    local id=$1 what=$2
    check "$what: no OVSDB row of $id" oe_graph_gone "$id"
    oe_snapshot >"$T/after-$id"
    check "$what: OVS bridges, ports, flows as before" oe_same "$T/before" "$T/after-$id"
    check_not "$what: no host-stack address left" bash -c "ip -n oe36-node -br addr | grep -w 10.203.36.2"
    check_not "$what: nothing passes h1 -> h2" ping_ok oe36-h1 10.203.36.3
    api GET "/v1/graphs/$id/status"
    if [ "$STATUS" = 404 ] || ! grep -q '"running"' "$T/body"; then
        pass "$what: the API does not call it running ($STATUS $(head -c 200 "$T/body"))"
    else
        fail "$what: the API says running: $BODY"
    fi
}
failed_deploy() { # failed_deploy ID FILE WHAT
    local t0 t1
    t0=$(date +%s.%N)
    api PUT "/v1/graphs/$1" "@$2"
    t1=$(date +%s.%N)
    [ "$STATUS" = 501 ] && oe_skip "PUT /v1/graphs answers 501"
    case $STATUS in
        2??) fail "$3: deploy refused (got $STATUS)";;
        *) pass "$3: deploy refused: $STATUS in $(python3 -c "print('%.2f' % ($t1 - $t0))") s: $(head -c 300 "$T/body")";;
    esac
}

oe_snapshot >"$T/before"

# 1. LSI-0 table full.
N0=$(ofctl dump-flows "$LSI0" | grep -c 'actions=')
vsctl -- --id=@ft create Flow_Table flow_limit=$((N0 + 1)) overflow_policy=refuse \
      -- set Bridge "$LSI0" flow_tables:0=@ft >/dev/null
graph g36a >"$T/ga.json"
failed_deploy g36a "$T/ga.json" "table full on LSI-0"
grep -q 'TABLE_FULL\|table full\|table_full' "$CORCH_LOG" && e2e_log "c-orch logged OVS's TABLE_FULL"
vsctl clear Bridge "$LSI0" flow_tables
left_nothing g36a "table full"
oe_put g36a "$T/ga.json"
# 201 when the failed deploy left no record, 200 when it was kept (failed).
case $STATUS in 200|201) pass "table full: same graph deploys once the cap is gone ($STATUS)";;
    *) fail "table full: redeploy: status $STATUS: $BODY";; esac
check "table full: then h1 -> h2 passes" ping_retry oe36-h1 10.203.36.3
check "table full: then the host stack answers" ping_ok oe36-h1 10.203.36.2
api DELETE /v1/graphs/g36a; expect_status 204 "table full: delete"
oe_snapshot >"$T/after-del"
check "table full: after delete OVS as before" oe_same "$T/before" "$T/after-del"

# 2. One rule OVS cannot take, in a batch of good ones.
graph g36b '{"id": "bad", "priority": 30, "match": {"port_in": "service-access-point:b"},
     "actions": {"set_dest_ip": "10.203.36.9", "output_to_port": "service-access-point:a"}}' >"$T/gb.json"
failed_deploy g36b "$T/gb.json" "set_dest_ip without an IPv4 match"
left_nothing g36b "bad rule"

# 3. ovs-vswitchd frozen mid-deploy.
VSW_PID=$(cat "$OVS_DIR/ovs-vswitchd.pid")
kill -STOP "$VSW_PID"; e2e_on_exit "kill -CONT $VSW_PID"
graph g36c >"$T/gc.json"
failed_deploy g36c "$T/gc.json" "ovs-vswitchd frozen"
kill -CONT "$VSW_PID"
sleep 1
# The undo reached OVSDB while the switch slept: once awake it applies it.
for i in $(seq 30); do oe_graph_gone g36c >/dev/null 2>&1 && break; sleep 0.2; done
left_nothing g36c "vswitchd frozen"
oe_put g36c "$T/gc.json"
case $STATUS in 200|201) pass "vswitchd frozen: same graph deploys once it is back ($STATUS)";;
    *) fail "vswitchd frozen: redeploy: status $STATUS: $BODY";; esac
check "vswitchd frozen: then h1 -> h2 passes" ping_retry oe36-h1 10.203.36.3
api DELETE /v1/graphs/g36c; expect_status 204 "vswitchd frozen: delete"
check "c-orch still alive" kill -0 "$CORCH_PID"
e2e_finish
