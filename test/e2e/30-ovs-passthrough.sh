#!/bin/bash
# Issue 3: passthrough between two interface SAPs on real OVS, real packets.
# Nothing passes before the graph; ping and TCP pass both ways while it is
# deployed; after DELETE nothing passes and OVS is as it was before.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-node.sh"
e2e_init oe30
oe_prereq oe30

oe_node oe30-node
oe_host oe30-h1 oe30-node oe30-v1 10.203.30.1/24
oe_host oe30-h2 oe30-node oe30-v2 10.203.30.2/24
oe_corch oe30-node oe30-v1,oe30-v2

LSI0=$(oe_lsi0)
check "LSI-0 exists" test -n "$LSI0"
check "LSI-0 has both interfaces" bash -c "[ \"\$(ovs-vsctl --db=$OVSDB list-ports $LSI0 | grep -c '^oe30-v[12]$')\" = 2 ]"
check "LSI-0 is fail_mode=secure" bash -c "[ \"\$(ovs-vsctl --db=$OVSDB get Bridge $LSI0 fail_mode)\" = secure ]"
check_not "no controller on LSI-0" bash -c "ovs-vsctl --db=$OVSDB get-controller $LSI0 | grep ."
check_not "nothing passes before the graph" ping_ok oe30-h1 10.203.30.2
oe_snapshot >"$T/before"

cat >"$T/g.json" <<'JSON'
{"sffg": {"id": "g30", "name": "passthrough",
  "SFs": [],
  "saps": [
    {"id": "s1", "type": "interface", "interface": {"if-name": "oe30-v1"}},
    {"id": "s2", "type": "interface", "interface": {"if-name": "oe30-v2"}}],
  "flowrules": [
    {"id": "r1", "priority": 10, "match": {"port_in": "service-access-point:s1"},
     "actions": {"output_to_port": "service-access-point:s2"}},
    {"id": "r2", "priority": 10, "match": {"port_in": "service-access-point:s2"},
     "actions": {"output_to_port": "service-access-point:s1"}}]}}
JSON
oe_put g30 "$T/g.json"; expect_status 201 "deploy the passthrough graph"
api GET /v1/graphs/g30/status; expect_status 200 "graph status"
e2e_log "status: $BODY"
check "ping h1 -> h2" ping_retry oe30-h1 10.203.30.2
check "ping h2 -> h1" ping_ok oe30-h2 10.203.30.1
oe_tag_server oe30-h2 8030 from-h2
oe_tag_server oe30-h1 8030 from-h1
check "TCP h1 -> h2" oe_tcp_ok oe30-h1 10.203.30.2 8030 from-h2
check "TCP h2 -> h1" oe_tcp_ok oe30-h2 10.203.30.1 8030 from-h1
in_ns oe30-h2 iperf3 -s -1 -D -p 5230 >/dev/null 2>&1; sleep 0.3
check "iperf3 h1 -> h2 (1 s)" in_ns oe30-h1 timeout 10 iperf3 -c 10.203.30.2 -p 5230 -t 1
check "a flow of the graph on LSI-0" bash -c "ovs-ofctl -O OpenFlow13 dump-flows unix:$OVS_DIR/$LSI0.mgmt | grep -q 'n_packets=[1-9]'"

api DELETE /v1/graphs/g30; expect_status 204 "delete the graph"
check_not "nothing passes after delete (h1 -> h2)" ping_ok oe30-h1 10.203.30.2
check_not "nothing passes after delete (h2 -> h1)" ping_ok oe30-h2 10.203.30.1
check "no OVSDB row of g30 left" oe_graph_gone g30
oe_snapshot >"$T/after"
check "OVS bridges, ports, flows as before the graph" oe_same "$T/before" "$T/after"
api GET /v1/graphs/g30; expect_status 404 "graph gone from the API"

# Redeploy: deletion left nothing that blocks the same graph again.
oe_put g30 "$T/g.json"; expect_status 201 "redeploy"
check "ping again after redeploy" ping_retry oe30-h1 10.203.30.2

# Restart: the switch keeps forwarding while c-orch is down; the new
# c-orch adopts LSI-0 (same row) and the graph, and can still delete it.
LSI0_UUID=$(vsctl get Bridge "$LSI0" _uuid)
check "c-orch stops cleanly (SIGTERM)" corch_stop
check "traffic still flows while c-orch is down" ping_ok oe30-h1 10.203.30.2
oe_corch oe30-node oe30-v1,oe30-v2
check "LSI-0 adopted, not recreated" bash -c "[ \"\$(ovs-vsctl --db=$OVSDB get Bridge $LSI0 _uuid)\" = '$LSI0_UUID' ]"
api GET /v1/graphs/g30/status; expect_status 200 "graph known after restart"
check "graph running after restart" grep -q '"running"' "$T/body"
check "ping after restart" ping_ok oe30-h1 10.203.30.2
api DELETE /v1/graphs/g30; expect_status 204 "delete after restart"
check_not "nothing passes after that delete" ping_ok oe30-h1 10.203.30.2
oe_snapshot >"$T/after2"
check "OVS as before the graph, after restart + delete" oe_same "$T/before" "$T/after2"
e2e_finish
