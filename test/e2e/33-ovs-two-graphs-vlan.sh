#!/bin/bash
# Issue 3: two graphs share one interface (the trunk oe33-trunk), kept apart
# by VLAN id.  Graph A: h1 <-> vlan 100 (h2); graph B: h4 <-> vlan 200 (h3).
# Tagged hosts come from a helper OVS with access ports (docs/ovs-recipes.md).
# Each graph sees only its own traffic; overlapping claims get 409; deleting
# one graph leaves the other working.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-node.sh"
e2e_init oe33
oe_prereq oe33

oe_node oe33-tag; TAG_DB=$OVSDB
oe_node oe33-node
oe_host oe33-h1 oe33-node oe33-v1 10.203.33.1/24
oe_host oe33-h4 oe33-node oe33-v4 10.203.33.4/24
oe_host oe33-h2 oe33-tag oe33-v2 10.203.33.2/24
oe_host oe33-h3 oe33-tag oe33-v3 10.203.33.3/24
oe_wire oe33-node oe33-trunk oe33-tag oe33-trunk-p
ovs-vsctl --db="$TAG_DB" add-br oe33-tagbr \
    -- set bridge oe33-tagbr datapath_type=netdev fail_mode=standalone \
    -- add-port oe33-tagbr oe33-trunk-p \
    -- add-port oe33-tagbr oe33-v2 tag=100 -- add-port oe33-tagbr oe33-v3 tag=200
oe_corch oe33-node oe33-v1,oe33-v4,oe33-trunk

graph() { # graph ID LAN_IF VLAN_ID [TRUNK_SAP_JSON]
    local trunk=${4:-"{\"id\": \"trunk\", \"type\": \"vlan\", \"vlan\": {\"vlan-id\": $3, \"if-name\": \"oe33-trunk\"}}"}
    cat <<JSON
{"sffg": {"id": "$1", "name": "$1",
  "SFs": [],
  "saps": [
    {"id": "lan", "type": "interface", "interface": {"if-name": "$2"}},
    $trunk],
  "flowrules": [
    {"id": "out", "priority": 10, "match": {"port_in": "service-access-point:lan"},
     "actions": {"output_to_port": "service-access-point:trunk"}},
    {"id": "in", "priority": 10, "match": {"port_in": "service-access-point:trunk"},
     "actions": {"output_to_port": "service-access-point:lan"}}]}}
JSON
}
# silent NS SRC_IP: a 3 s capture in NS, then checks nothing came from SRC_IP.
capture() { in_ns "$1" timeout 3 tcpdump -lnei eth0 -c 20 >"$T/cap-$1" 2>/dev/null & CAP=$!; sleep 0.5; }
nothing_from() { ! grep -E "$2" "$T/cap-$1"; }

oe_snapshot >"$T/before"
graph gA oe33-v1 100 >"$T/gA.json"
graph gB oe33-v4 200 >"$T/gB.json"
oe_put gA "$T/gA.json"; expect_status 201 "deploy graph A: h1 <-> vlan 100"
oe_put gB "$T/gB.json"; expect_status 201 "deploy graph B: h4 <-> vlan 200 on the same interface"

check "A: h1 -> h2 (vlan 100)" ping_retry oe33-h1 10.203.33.2
check "A: h2 -> h1" ping_ok oe33-h2 10.203.33.1
check "B: h4 -> h3 (vlan 200)" ping_retry oe33-h4 10.203.33.3
check "B: h3 -> h4" ping_ok oe33-h3 10.203.33.4
capture oe33-h3
check_not "A cannot reach B's host: h1 -> h3" ping_ok oe33-h1 10.203.33.3
wait $CAP
check "h3 saw nothing of h1 (no ARP, no ICMP)" nothing_from oe33-h3 '10\.203\.33\.1\b'
capture oe33-h2
check_not "B cannot reach A's host: h4 -> h2" ping_ok oe33-h4 10.203.33.2
wait $CAP
check "h2 saw nothing of h4" nothing_from oe33-h2 '10\.203\.33\.4\b'
check_not "A's lan host cannot reach B's lan host: h1 -> h4" ping_ok oe33-h1 10.203.33.4

# Overlapping claims.
graph gC oe33-v1 100 >"$T/gC.json"
sed -i 's/"oe33-v1"/"oe33-v4"/' "$T/gC.json"
api PUT /v1/graphs/gC "@$T/gC.json"; expect_status 409 "a third graph claiming vlan 100 again"
graph gD oe33-v1 0 '{"id": "trunk", "type": "interface", "interface": {"if-name": "oe33-trunk"}}' >"$T/gD.json"
api PUT /v1/graphs/gD "@$T/gD.json"; expect_status 409 "a graph claiming the whole trunk"
check "after the refusals A still works" ping_ok oe33-h1 10.203.33.2
check "after the refusals B still works" ping_ok oe33-h4 10.203.33.3

api DELETE /v1/graphs/gA; expect_status 204 "delete graph A"
check_not "A's path is gone" ping_ok oe33-h1 10.203.33.2
check "B still works" ping_ok oe33-h4 10.203.33.3
check "no OVSDB row of gA left" oe_graph_gone gA
api DELETE /v1/graphs/gB; expect_status 204 "delete graph B"
check_not "B's path is gone" ping_ok oe33-h4 10.203.33.3
check "no OVSDB row of gB left" oe_graph_gone gB
oe_snapshot >"$T/after"
check "OVS bridges, ports, flows as before the graphs" oe_same "$T/before" "$T/after"
e2e_finish
