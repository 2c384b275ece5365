#!/bin/bash
# Issue 8: the core names every vlink end, unique by construction.  One
# graph whose interface SAP reaches 2, 13, 21, 22, 3, 31, 12, then 2 GRE
# SAPs on its graph-LSI (one vlink per target, Algorithm 1): with names made
# of a prefix plus a link number, the fourth PUT hit an existing live vlink
# end ("...v2" + link 10 = "...v21" + link 0), removed it as a leftover and
# answered 500.  Every PUT must answer 200 with the graph running, every
# path must carry traffic at the end, and DELETE must leave nothing.
#
# Topology: node namespace oe38-n (OVS, c-orch); host oe38-h on its
# interface oe38-v; a wire to namespace oe38-r, the GRE remote, where the
# encapsulated packets are captured.  Target k is GRE SAP "t<k>" with key
# 3800+k, reached by UDP to port 5000+k.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-node.sh"
e2e_init oe38
oe_prereq oe38
command -v tcpdump >/dev/null || oe_skip "no tcpdump"

oe_node oe38-n
ip netns add oe38-r || { fail "create namespace oe38-r"; e2e_finish; }
e2e_on_exit "ip netns pids oe38-r | xargs -r kill -9; ip netns del oe38-r"
ip -n oe38-r link set lo up
oe_wire oe38-n oe38-wn oe38-r oe38-wr 1600
ovs-vsctl --db="$OVSDB" add-br oe38-phy \
    -- set bridge oe38-phy datapath_type=netdev fail_mode=standalone \
    -- add-port oe38-phy oe38-wn
ip -n oe38-n addr add 192.168.38.1/24 dev oe38-phy
ip -n oe38-n link set oe38-phy up
ip -n oe38-r addr add 192.168.38.2/24 dev oe38-wr
oe_host oe38-h oe38-n oe38-v 10.38.0.1/24
# The packets' destination is nobody: a static neighbour, no ARP.
ip -n oe38-h neigh replace 10.38.0.2 lladdr 02:00:00:00:38:02 dev eth0
check "underlay: node pings the GRE remote" in_ns oe38-n ping -c 1 -W 2 192.168.38.2
oe_corch oe38-n oe38-v
oe_snapshot >"$T/before"
ip -n oe38-n -o link show | awk -F': ' '{print $2}' | sort >"$T/links-before"
ip netns list | awk '{print $1}' | sort >"$T/netns-before"

# graph N: the interface SAP reaches targets 1..N.
graph() {
    local n=$1 k sep
    printf '{"sffg": {"id": "g38", "name": "vlink-churn", "SFs": [],\n  "saps": [\n'
    printf '    {"id": "lan", "type": "interface", "interface": {"if-name": "oe38-v"}}'
    for k in $(seq "$n"); do
        printf ',\n    {"id": "t%d", "type": "gre", "gre": {"local-ip": "192.168.38.1", "remote-ip": "192.168.38.2", "gre-key": %d}}' \
            "$k" $((3800 + k))
    done
    printf '],\n  "flowrules": [\n'
    sep=
    for k in $(seq "$n"); do
        printf '%s    {"id": "r%d", "priority": 10, "match": {"port_in": "service-access-point:lan", "ether_type": 2048, "protocol": 17, "dest_port": %d},\n     "actions": {"output_to_port": "service-access-point:t%d"}}' \
            "$sep" "$k" $((5000 + k)) "$k"
        sep=$',\n'
    done
    printf ']}}\n'
}

# paths_ok N: a UDP packet to port 5000+k leaves as GRE with key 3800+k,
# for every k in 1..N.
paths_ok() {
    local n=$1 k key miss=0
    in_ns oe38-r timeout 8 tcpdump -lnvi oe38-wr ip proto 47 >"$T/wire" 2>/dev/null & local cap=$!
    sleep 0.7
    for k in $(seq "$n"); do
        in_ns oe38-h bash -c "echo x >/dev/udp/10.38.0.2/$((5000 + k))"
        in_ns oe38-h bash -c "echo x >/dev/udp/10.38.0.2/$((5000 + k))"
    done
    sleep 1; kill "$cap" 2>/dev/null; wait "$cap" 2>/dev/null
    for k in $(seq "$n"); do
        key=$(printf '0x%x' $((3800 + k)))
        grep -qiE "key=$key([^0-9a-f]|\$)" "$T/wire" || { echo "no GRE key $key (target t$k)"; miss=1; }
    done
    return $miss
}

first=1
for n in 2 13 21 22 3 31 12 2; do
    graph "$n" >"$T/g$n.json"
    oe_put g38 "$T/g$n.json"
    if [ $first = 1 ]; then expect_status 201 "deploy with $n targets"; first=0
    else expect_status 200 "update to $n targets"; fi
    [ "$STATUS" = 200 ] || [ "$STATUS" = 201 ] || e2e_log "body: $BODY"
    api GET /v1/graphs/g38/status
    check "graph running with $n targets" grep -q '"running"' "$T/body"
    check "$n GRE ports on the graph" bash -c \
        "[ \"\$(ovs-vsctl --db=$OVSDB --bare --columns=name find Interface type=gre | grep -c .)\" = $n ]"
    [ "$n" = 31 ] && check "traffic on each of the 31 paths" paths_ok 31
done
check "traffic on each of the 2 paths at the end" paths_ok 2

api DELETE /v1/graphs/g38; expect_status 204 "delete the graph"
check "no OVSDB row of g38 left" oe_graph_gone g38
oe_snapshot >"$T/after"
check "OVS bridges, ports, flows as before the graph" oe_same "$T/before" "$T/after"
ip -n oe38-n -o link show | awk -F': ' '{print $2}' | sort >"$T/links-after"
check "no device left on the node" diff -u "$T/links-before" "$T/links-after"
ip netns list | awk '{print $1}' | sort >"$T/netns-after"
# (Only new ones count: other tests on the host may remove theirs.)
check "no namespace left" test -z "$(comm -13 "$T/netns-before" "$T/netns-after")"
e2e_finish
