#!/bin/bash
# Issue 3: host-stack SAP.  The node namespace is the host: a TCP service
# listens there (0.0.0.0:8035).  The graph joins h1 (interface SAP) and a
# host-stack SAP with 10.203.35.2/24: h1 reaches the service through the
# graph.  h2, on another interface of LSI-0 that the graph does not use,
# does not; nor does anyone once the graph is deleted (the address is gone).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-node.sh"
e2e_init oe35
oe_prereq oe35

oe_node oe35-node
oe_host oe35-h1 oe35-node oe35-v1 10.203.35.1/24
oe_host oe35-h2 oe35-node oe35-v2 10.203.35.3/24
oe_corch oe35-node oe35-v1,oe35-v2
oe_tag_server oe35-node 8035 host-service

check_not "service unreachable before the graph" oe_tcp_ok oe35-h1 10.203.35.2 8035 host-service
check_not "10.203.35.2 is nowhere in the host stack yet" bash -c "ip -n oe35-node -br addr | grep -w 10.203.35.2"
oe_snapshot >"$T/before"
cat >"$T/g.json" <<'JSON'
{"sffg": {"id": "g35", "name": "host-stack",
  "SFs": [],
  "saps": [
    {"id": "lan", "type": "interface", "interface": {"if-name": "oe35-v1"}},
    {"id": "host", "type": "host-stack", "host-stack": {"configuration": "static", "ipv4": "10.203.35.2/24"}}],
  "flowrules": [
    {"id": "to-host", "priority": 10, "match": {"port_in": "service-access-point:lan"},
     "actions": {"output_to_port": "service-access-point:host"}},
    {"id": "from-host", "priority": 10, "match": {"port_in": "service-access-point:host"},
     "actions": {"output_to_port": "service-access-point:lan"}}]}}
JSON
oe_put g35 "$T/g.json"; expect_status 201 "deploy lan <-> host-stack"
HS_IF=$(ip -n oe35-node -br addr | awk '/10\.203\.35\.2\//{print $1}')
check "the host stack has 10.203.35.2 on an interface ($HS_IF)" test -n "$HS_IF"
check "that interface is up" bash -c "ip -n oe35-node link show '$HS_IF' | grep -q 'state UP\|,UP'"
check "it is an OVS port of the graph" bash -c \
    "ovs-vsctl --db=$OVSDB --bare --columns=name find Interface external_ids:corch-graph=g35 | grep -qx '$HS_IF'"
check "ping h1 -> host 10.203.35.2" ping_retry oe35-h1 10.203.35.2
check "TCP service reachable from h1 through the graph" oe_tcp_ok oe35-h1 10.203.35.2 8035 host-service
check "host -> h1 (the reverse path)" in_ns oe35-node ping -c 1 -W 1 10.203.35.1
in_ns oe35-h1 iperf3 -s -1 -D -p 5235 >/dev/null 2>&1; sleep 0.3
check "iperf3 host -> h1 (1 s)" in_ns oe35-node timeout 10 iperf3 -c 10.203.35.1 -p 5235 -t 1
check_not "h2 (LSI-0, not in the graph) cannot reach the service" oe_tcp_ok oe35-h2 10.203.35.2 8035 host-service
check_not "h2 cannot ping the host-stack address" ping_ok oe35-h2 10.203.35.2

api DELETE /v1/graphs/g35; expect_status 204 "delete"
check_not "the address left the host stack" bash -c "ip -n oe35-node -br addr | grep -w 10.203.35.2"
check_not "the port left the host stack" ip -n oe35-node link show "$HS_IF"
check_not "service unreachable after delete" oe_tcp_ok oe35-h1 10.203.35.2 8035 host-service
check "no OVSDB row of g35 left" oe_graph_gone g35
oe_snapshot >"$T/after"
check "OVS bridges, ports, flows as before the graph" oe_same "$T/before" "$T/after"
e2e_finish
