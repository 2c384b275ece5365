#!/bin/bash
# Issue 3: steering by match on real OVS.  h1 talks to 10.203.31.2, which
# two "twin" hosts own (same IP, same MAC): h2 (web) and h3 (rest).  The
# graph sends TCP port 80 to h2 and everything else to h3; the servers
# answer with their own name, so the client sees which path it took.  A
# second version of the graph swaps the priorities: all goes to h3.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-node.sh"
e2e_init oe31
oe_prereq oe31

TWIN_MAC=02:00:0a:cb:1f:02
oe_node oe31-node
oe_host oe31-h1 oe31-node oe31-v1 10.203.31.1/24
oe_host oe31-h2 oe31-node oe31-v2 10.203.31.2/24 $TWIN_MAC
oe_host oe31-h3 oe31-node oe31-v3 10.203.31.2/24 $TWIN_MAC
oe_corch oe31-node oe31-v1,oe31-v2,oe31-v3
# ARP from the twins would reach only one of them: static neighbours.
H1_MAC=$(ip -n oe31-h1 -br link show eth0 | awk '{print $3}')
ip -n oe31-h2 neigh replace 10.203.31.1 lladdr "$H1_MAC" dev eth0 nud permanent
ip -n oe31-h3 neigh replace 10.203.31.1 lladdr "$H1_MAC" dev eth0 nud permanent
ip -n oe31-h1 neigh replace 10.203.31.2 lladdr "$TWIN_MAC" dev eth0 nud permanent

for h in h2 h3; do
    oe_tag_server oe31-$h 80 "$h"
    oe_tag_server oe31-$h 8080 "$h"
done

graph() { # graph PRIO_WEB PRIO_DEFAULT
cat <<JSON
{"sffg": {"id": "g31", "name": "steering",
  "SFs": [],
  "saps": [
    {"id": "client", "type": "interface", "interface": {"if-name": "oe31-v1"}},
    {"id": "web", "type": "interface", "interface": {"if-name": "oe31-v2"}},
    {"id": "rest", "type": "interface", "interface": {"if-name": "oe31-v3"}}],
  "flowrules": [
    {"id": "to-web", "priority": $1,
     "match": {"port_in": "service-access-point:client", "ether_type": "0x0800",
               "protocol": 6, "dest_port": 80},
     "actions": {"output_to_port": "service-access-point:web"}},
    {"id": "to-rest", "priority": $2,
     "match": {"port_in": "service-access-point:client"},
     "actions": {"output_to_port": "service-access-point:rest"}},
    {"id": "web-back", "priority": 10, "match": {"port_in": "service-access-point:web"},
     "actions": {"output_to_port": "service-access-point:client"}},
    {"id": "rest-back", "priority": 10, "match": {"port_in": "service-access-point:rest"},
     "actions": {"output_to_port": "service-access-point:client"}}]}}
JSON
}
# capture NS NAME FILTER: a 4 s tcpdump on NS's eth0 into $T/NAME; adds
# its pid to CAPS (wait for those, not for the servers).
CAPS=()
capture() {
    ip netns exec "$1" timeout 4 tcpdump -lni eth0 -c 20 "$3" >"$T/$2" 2>/dev/null &
    CAPS+=($!)
}

check_not "nothing passes before the graph" ping_ok oe31-h1 10.203.31.2
graph 20 10 >"$T/g1.json"
oe_put g31 "$T/g1.json"; expect_status 201 "deploy: TCP 80 -> web (prio 20), rest -> rest (prio 10)"
check "ping reaches a twin" ping_retry oe31-h1 10.203.31.2
CAPS=(); capture oe31-h2 icmp2 icmp; capture oe31-h3 icmp3 icmp; sleep 0.5
in_ns oe31-h1 ping -c 3 -i 0.2 -W 1 10.203.31.2 >/dev/null 2>&1; wait "${CAPS[@]}"
check "ICMP went to rest (h3)" grep -q 'ICMP echo request' "$T/icmp3"
check_not "no ICMP at web (h2)" grep -q 'ICMP echo request' "$T/icmp2"
check "TCP port 80 answered by web (h2)" oe_tcp_ok oe31-h1 10.203.31.2 80 h2
check "TCP port 8080 answered by rest (h3)" oe_tcp_ok oe31-h1 10.203.31.2 8080 h3
# UDP to port 80 is not TCP: must take the default path (tcpdump at h3).
CAPS=(); capture oe31-h2 udp2 'udp port 80'; capture oe31-h3 udp3 'udp port 80'; sleep 0.5
for i in 1 2 3; do in_ns oe31-h1 bash -c 'echo x >/dev/udp/10.203.31.2/80'; sleep 0.2; done
wait "${CAPS[@]}"
check "UDP port 80 went to rest (h3)" grep -q 'UDP' "$T/udp3"
check_not "no UDP at web (h2)" grep -q 'UDP' "$T/udp2"

# Priorities: the catch-all above the port-80 rule takes everything.
# The update must touch only the two changed rules: the way-back rules keep
# their OpenFlow counters (a re-added flow would start again from 0).
LSI0=$(oe_lsi0)
WEB_OFP=$(vsctl get Interface oe31-v2 ofport)
back_packets() { ofctl dump-flows "$LSI0" | grep "priority=10,in_port=$WEB_OFP " |
                 sed -n 's/.*n_packets=\([0-9]*\).*/\1/p'; }
N_BACK=$(back_packets)
graph 10 20 >"$T/g2.json"
api PUT /v1/graphs/g31 "@$T/g2.json"
case $STATUS in 200|201|204) pass "update: priorities swapped ($STATUS)";; *) fail "update: status $STATUS: $BODY";; esac
N_BACK2=$(back_packets)
check "update kept the unchanged web-back rule (n_packets $N_BACK -> $N_BACK2)" \
    test -n "$N_BACK" -a "${N_BACK:-0}" -gt 0 -a "${N_BACK2:-0}" -ge "${N_BACK:-1}"
check "TCP port 80 now answered by rest (h3)" oe_tcp_ok oe31-h1 10.203.31.2 80 h3
check "TCP port 8080 still answered by rest (h3)" oe_tcp_ok oe31-h1 10.203.31.2 8080 h3

# Replication and drop: UDP goes to both twins, TCP 8080 is dropped.
cat >"$T/g3.json" <<'JSON'
{"sffg": {"id": "g31", "name": "steering",
  "SFs": [],
  "saps": [
    {"id": "client", "type": "interface", "interface": {"if-name": "oe31-v1"}},
    {"id": "web", "type": "interface", "interface": {"if-name": "oe31-v2"}},
    {"id": "rest", "type": "interface", "interface": {"if-name": "oe31-v3"}}],
  "flowrules": [
    {"id": "udp-both", "priority": 30,
     "match": {"port_in": "service-access-point:client", "ether_type": "0x0800", "protocol": 17},
     "actions": {"output_to_port": ["service-access-point:web", "service-access-point:rest"]}},
    {"id": "no-8080", "priority": 30,
     "match": {"port_in": "service-access-point:client", "ether_type": "0x0800",
               "protocol": 6, "dest_port": 8080},
     "actions": {"drop": true}},
    {"id": "to-web", "priority": 20,
     "match": {"port_in": "service-access-point:client", "ether_type": "0x0800",
               "protocol": 6, "dest_port": 80},
     "actions": {"output_to_port": "service-access-point:web"}},
    {"id": "to-rest", "priority": 10,
     "match": {"port_in": "service-access-point:client"},
     "actions": {"output_to_port": "service-access-point:rest"}},
    {"id": "web-back", "priority": 10, "match": {"port_in": "service-access-point:web"},
     "actions": {"output_to_port": "service-access-point:client"}},
    {"id": "rest-back", "priority": 10, "match": {"port_in": "service-access-point:rest"},
     "actions": {"output_to_port": "service-access-point:client"}}]}}
JSON
api PUT /v1/graphs/g31 "@$T/g3.json"
case $STATUS in 200|201|204) pass "update: replication + drop ($STATUS)";; *) fail "update 3: status $STATUS: $BODY";; esac
CAPS=(); capture oe31-h2 rep2 'udp port 9'; capture oe31-h3 rep3 'udp port 9'; sleep 0.5
for i in 1 2 3; do in_ns oe31-h1 bash -c 'echo x >/dev/udp/10.203.31.2/9'; sleep 0.2; done
wait "${CAPS[@]}"
check "UDP replicated: web (h2) got it" grep -q 'UDP' "$T/rep2"
check "UDP replicated: rest (h3) got it" grep -q 'UDP' "$T/rep3"
check_not "TCP 8080 dropped" oe_tcp_ok oe31-h1 10.203.31.2 8080 h3
check "TCP 80 still answered by web (h2)" oe_tcp_ok oe31-h1 10.203.31.2 80 h2

api DELETE /v1/graphs/g31; expect_status 204 "delete"
check_not "nothing passes after delete" ping_ok oe31-h1 10.203.31.2
check_not "no TCP after delete" oe_tcp_ok oe31-h1 10.203.31.2 80 h2
check "no OVSDB row of g31 left" oe_graph_gone g31
e2e_finish
