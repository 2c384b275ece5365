#!/bin/bash
# Issue 3 / paper Fig. 6: one graph split over two c-orch nodes, its halves
# joined by GRE SAPs.  Each node is a namespace with its own OVS and its own
# c-orch; a veth "wire" joins the nodes; each node's underlay IP sits on an
# OVS internal port (bridge oe34-phy, made by the test, not by c-orch) and
# OVS userspace tunnelling resolves the peer with its own route / ARP
# tables (docs/ovs-recipes.md (a)).  Host hA on node A reaches hB on node B.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-node.sh"
e2e_init oe34
oe_prereq oe34

declare -A DB DIR TOK LOG
for n in A B; do
    oe_node oe34-n$n; DB[$n]=$OVSDB; DIR[$n]=$OVS_DIR
done
# The wire; MTU 1600 leaves room for the 42 bytes of Ethernet + IP + GRE-with-key.
oe_wire oe34-nA oe34-wA oe34-nB oe34-wB 1600
i=1
for n in A B; do
    ovs-vsctl --db="${DB[$n]}" add-br oe34-phy \
        -- set bridge oe34-phy datapath_type=netdev fail_mode=standalone \
        -- add-port oe34-phy oe34-w$n
    ip -n oe34-n$n addr add 192.168.34.$i/24 dev oe34-phy
    ip -n oe34-n$n link set oe34-phy up
    oe_host oe34-h$n oe34-n$n oe34-v$n 10.203.34.$i/24
    i=$((i + 1))
done
check "underlay: node A pings node B" in_ns oe34-nA ping -c 1 -W 2 192.168.34.2

# on_node N: api / vsctl / ofctl now talk to node N.
on_node() { OE_NS=oe34-n$1; OVSDB=${DB[$1]}; OVS_DIR=${DIR[$1]}; TOKEN=${TOK[$1]}; CORCH_LOG=${LOG[$1]}; }
for n in A B; do
    OVSDB=${DB[$n]}; OVS_DIR=${DIR[$n]}
    mkdir -p "$T/corch-$n"
    T=$T/corch-$n oe_corch oe34-n$n oe34-v$n
    TOK[$n]=$TOKEN; LOG[$n]=$CORCH_LOG
done

half() { # half LOCAL_IP REMOTE_IP LAN_IF
    cat <<JSON
{"sffg": {"id": "g34", "name": "gre-half",
  "SFs": [],
  "saps": [
    {"id": "lan", "type": "interface", "interface": {"if-name": "$3"}},
    {"id": "tun", "type": "gre", "gre": {"local-ip": "$1", "remote-ip": "$2", "gre-key": 34}}],
  "flowrules": [
    {"id": "out", "priority": 10, "match": {"port_in": "service-access-point:lan"},
     "actions": {"output_to_port": "service-access-point:tun"}},
    {"id": "in", "priority": 10, "match": {"port_in": "service-access-point:tun"},
     "actions": {"output_to_port": "service-access-point:lan"}}]}}
JSON
}
half 192.168.34.1 192.168.34.2 oe34-vA >"$T/gA.json"
half 192.168.34.2 192.168.34.1 oe34-vB >"$T/gB.json"

check_not "nothing passes before the graphs" ping_ok oe34-hA 10.203.34.2
on_node A; oe_snapshot >"$T/beforeA"
on_node B; oe_snapshot >"$T/beforeB"
on_node A; oe_put g34 "$T/gA.json"; expect_status 201 "node A: deploy its half (interface + gre SAP)"
on_node B; oe_put g34 "$T/gB.json"; expect_status 201 "node B: deploy its half"
check "node B has a gre port to 192.168.34.1" bash -c \
    "ovs-vsctl --db=${DB[B]} --bare --columns=options find Interface type=gre | grep -q 'remote_ip=\"\\?192.168.34.1'"

in_ns oe34-nA timeout 6 tcpdump -lnei oe34-wA -c 4 ip proto 47 >"$T/wire" 2>/dev/null & CAP=$!
sleep 0.5
check "ping hA (node A) -> hB (node B) over GRE" ping_retry oe34-hA 10.203.34.2
check "ping hB -> hA" ping_ok oe34-hB 10.203.34.1
wait $CAP
check "the wire carries GRE with key 34" grep -qiE 'GRE.*key=0x22' "$T/wire"
oe_tag_server oe34-hB 8034 hB
check "TCP hA -> hB over GRE" oe_tcp_ok oe34-hA 10.203.34.2 8034 hB
in_ns oe34-hB iperf3 -s -1 -D -p 5234 >/dev/null 2>&1; sleep 0.3
check "iperf3 hA -> hB over GRE (1 s)" in_ns oe34-hA timeout 10 iperf3 -c 10.203.34.2 -p 5234 -t 1

on_node A; api DELETE /v1/graphs/g34; expect_status 204 "node A: delete its half"
check_not "nothing passes once node A's half is gone" ping_ok oe34-hA 10.203.34.2
check "node A: no OVSDB row of g34 left" oe_graph_gone g34
oe_snapshot >"$T/afterA"
check "node A: OVS as before" oe_same "$T/beforeA" "$T/afterA"
on_node B; api DELETE /v1/graphs/g34; expect_status 204 "node B: delete its half"
check "node B: no OVSDB row of g34 left" oe_graph_gone g34
oe_snapshot >"$T/afterB"
check "node B: OVS as before" oe_same "$T/beforeB" "$T/afterB"
e2e_finish
