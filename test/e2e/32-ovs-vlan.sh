#!/bin/bash
# Issue 3: vlan SAP on real OVS.  Tagged hosts come from a helper OVS (its
# own namespace, not c-orch's) with access ports: h2 is vlan 100, h3 vlan
# 200 on the trunk wired to the node's interface oe32-trunk.  The graph
# joins h1 (untagged interface SAP) and vlan 100 on oe32-trunk.  Checked:
# h1 <-> h2 (ping, TCP), nothing with h3; frames leaving the node carry
# tag 100; hand-made tagged frames (python raw socket) with id 100 reach
# h1 untagged, id 200 and untagged ones do not.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-node.sh"
e2e_init oe32
oe_prereq oe32

oe_node oe32-tag; TAG_DB=$OVSDB
oe_node oe32-node
oe_host oe32-h1 oe32-node oe32-v1 10.203.32.1/24
oe_host oe32-h2 oe32-tag oe32-v2 10.203.32.2/24
oe_host oe32-h3 oe32-tag oe32-v3 10.203.32.3/24
oe_wire oe32-node oe32-trunk oe32-tag oe32-trunk-p
ovs-vsctl --db="$TAG_DB" add-br oe32-tagbr \
    -- set bridge oe32-tagbr datapath_type=netdev fail_mode=standalone \
    -- add-port oe32-tagbr oe32-trunk-p \
    -- add-port oe32-tagbr oe32-v2 tag=100 -- add-port oe32-tagbr oe32-v3 tag=200
oe_corch oe32-node oe32-v1,oe32-trunk

cat >"$T/raw.py" <<'PY'
# raw.py IFNAME VID DST_MAC MARKER: one UDP frame 10.203.32.9 -> .1:4001,
# 802.1Q-tagged with VID unless VID is 0.
import socket, struct, sys
ifname, vid, dst, marker = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def csum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
payload = marker.encode().ljust(40, b'.')
ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 28 + len(payload), 1, 0, 64, 17, 0,
                 socket.inet_aton('10.203.32.9'), socket.inet_aton('10.203.32.1'))
ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
udp = struct.pack('!HHHH', 4000, 4001, 8 + len(payload), 0)
tag = struct.pack('!HH', 0x8100, vid) if vid else b''
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
s.send(bytes.fromhex(dst.replace(':', '')) + bytes.fromhex('02aabbccdd09')
       + tag + b'\x08\x00' + ip + udp + payload)
PY

check_not "nothing passes before the graph" ping_ok oe32-h1 10.203.32.2
oe_snapshot >"$T/before"
cat >"$T/g.json" <<'JSON'
{"sffg": {"id": "g32", "name": "vlan",
  "SFs": [],
  "saps": [
    {"id": "lan", "type": "interface", "interface": {"if-name": "oe32-v1"}},
    {"id": "v100", "type": "vlan", "vlan": {"vlan-id": 100, "if-name": "oe32-trunk"}}],
  "flowrules": [
    {"id": "out", "priority": 10, "match": {"port_in": "service-access-point:lan"},
     "actions": {"output_to_port": "service-access-point:v100"}},
    {"id": "in", "priority": 10, "match": {"port_in": "service-access-point:v100"},
     "actions": {"output_to_port": "service-access-point:lan"}}]}}
JSON
oe_put g32 "$T/g.json"; expect_status 201 "deploy lan <-> vlan 100"
check "ping h1 -> h2 (vlan 100)" ping_retry oe32-h1 10.203.32.2
check "ping h2 (vlan 100) -> h1" ping_ok oe32-h2 10.203.32.1
oe_tag_server oe32-h2 8032 h2
check "TCP h1 -> h2 (vlan 100)" oe_tcp_ok oe32-h1 10.203.32.2 8032 h2
check_not "ping h1 -> h3 (vlan 200)" ping_ok oe32-h1 10.203.32.3
check_not "ping h3 (vlan 200) -> h1" ping_ok oe32-h3 10.203.32.1

# Frames leaving the node on the trunk carry tag 100 (seen on the far end).
in_ns oe32-tag timeout 4 tcpdump -lnei oe32-trunk-p -c 6 >"$T/trunk" 2>/dev/null & CAP=$!
sleep 0.5
in_ns oe32-h1 ping -c 3 -i 0.2 -W 1 10.203.32.2 >/dev/null 2>&1
wait $CAP
check "outgoing ICMP on the trunk is tagged 100" grep -qE 'vlan 100.*10\.203\.32\.1 > 10\.203\.32\.2: ICMP echo request' "$T/trunk"
check_not "no untagged or other-tag ICMP from h1 on the trunk" \
    bash -c "grep '10.203.32.1 > 10.203.32.2: ICMP' '$T/trunk' | grep -v 'vlan 100'"

# Hand-made frames onto the trunk: only vid 100 reaches h1, untagged.
H1_MAC=$(ip -n oe32-h1 -br link show eth0 | awk '{print $3}')
in_ns oe32-h1 timeout 4 tcpdump -lnei eth0 -A -c 10 'udp port 4001' >"$T/h1udp" 2>/dev/null & CAP=$!
sleep 0.5
for vid in 100 200 0; do
    in_ns oe32-tag python3 "$T/raw.py" oe32-trunk-p $vid "$H1_MAC" "OEVID$vid"
done
wait $CAP
check "raw frame with vid 100 reaches h1" grep -q 'OEVID100' "$T/h1udp"
check_not "it reaches h1 untagged" grep -q '802.1Q' "$T/h1udp"
check_not "raw frame with vid 200 does not" grep -q 'OEVID200' "$T/h1udp"
check_not "untagged raw frame does not" grep -q 'OEVID0' "$T/h1udp"

api DELETE /v1/graphs/g32; expect_status 204 "delete"
check_not "nothing passes after delete" ping_ok oe32-h1 10.203.32.2
check "no OVSDB row of g32 left" oe_graph_gone g32
oe_snapshot >"$T/after"
check "OVS bridges, ports, flows as before the graph" oe_same "$T/before" "$T/after"
e2e_finish
