#!/bin/bash
# Issue 3: vlan SAP on real OVS.  Tagged hosts come from a helper OVS (its
# own namespace, not c-orch's) with access ports: h2 is vlan 100, h3 vlan
# 200 on the trunk wired to the node's interface oe32-trunk.  The graph
# joins h1 (untagged interface SAP) and vlan 100 on oe32-trunk.  Checked:
# h1 <-> h2 (ping, TCP), nothing with h3; frames leaving the node carry
# tag 100; hand-made tagged frames (python raw socket) with id 100 reach
# h1 untagged, id 200 and untagged ones do not.
. "$(dirname "$0")/lib.sh"
# ---- ovse2e helpers: the same block in test/e2e/3[0-6]-ovs-*.sh ---------
# One network namespace per c-orch node: its ovs-vswitchd, its "physical"
# interfaces and the daemon itself run inside (docs/ovs-recipes.md, gotcha
# 1: two netdev ovs-vswitchd cannot share a namespace).  curl is wrapped so
# that lib.sh's api / corch_login reach the daemon of node $OE_NS.
OE_REAL_BIN=$CORCH_BIN
OE_NS=
oe_skip() { echo "$E2E_NAME: $*: skipped"; exit 77; }
# oe_prereq PREFIX: skips without a daemon or OVS; refuses to run (exit 1,
# touching nothing) while namespaces PREFIX-* exist, e.g. another run of
# the same test: its cleanup would otherwise delete them.
oe_prereq() {
    [ -x "$OE_REAL_BIN" ] || oe_skip "$OE_REAL_BIN not built"
    command -v ovs-vswitchd >/dev/null || oe_skip "no Open vSwitch"
    if ip netns list | grep -q "^$1-"; then
        echo "$E2E_NAME: namespaces $1-* exist (another run of this test?): not touching them"
        exit 1
    fi
}
curl() { if [ -n "$OE_NS" ]; then ip netns exec "$OE_NS" curl "$@"; else command curl "$@"; fi; }
oe_corch_exec() { exec ip netns exec "$OE_NS" "$OE_REAL_BIN" "$@"; }
# oe_node NS: namespace NS with a private ovsdb-server + ovs-vswitchd (in
# NS) in $T/NS; sets OVS_DIR and OVSDB like ovs_start.
oe_node() {
    local ns=$1 i
    ip netns add "$ns" || { fail "create namespace $ns"; e2e_finish; }
    e2e_on_exit "ip netns del '$ns'"
    ip -n "$ns" link set lo up
    OVS_DIR=$T/$ns; mkdir -p "$OVS_DIR"
    export OVS_RUNDIR=$OVS_DIR OVS_DBDIR=$OVS_DIR OVS_LOGDIR=$OVS_DIR
    ovsdb-tool create "$OVS_DIR/conf.db" /usr/share/openvswitch/vswitch.ovsschema
    ovsdb-server "$OVS_DIR/conf.db" --remote="punix:$OVS_DIR/db.sock" \
        --pidfile="$OVS_DIR/ovsdb-server.pid" --log-file="$OVS_DIR/ovsdb-server.log" \
        --unixctl="$OVS_DIR/ovsdb-server.ctl" --detach --no-chdir 2>>"$OVS_DIR/start.log"
    e2e_on_exit "kill \$(cat '$OVS_DIR/ovsdb-server.pid')"
    OVSDB=unix:$OVS_DIR/db.sock
    ovs-vsctl --db="$OVSDB" --no-wait init
    ip netns exec "$ns" ovs-vswitchd "$OVSDB" --pidfile="$OVS_DIR/ovs-vswitchd.pid" \
        --log-file="$OVS_DIR/ovs-vswitchd.log" --unixctl="$OVS_DIR/ovs-vswitchd.ctl" \
        --detach --no-chdir 2>>"$OVS_DIR/start.log"
    e2e_on_exit "kill \$(cat '$OVS_DIR/ovs-vswitchd.pid')"
    for i in $(seq 50); do
        ovs-appctl -t "$OVS_DIR/ovs-vswitchd.ctl" version >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}
# oe_host HOST_NS NODE_NS IF CIDR [MAC]: a host namespace whose eth0 is
# wired to interface IF of node NODE_NS.
oe_host() {
    ns_host "$1" "$3" "$4" "${5:-}"
    ip link set "$3" netns "$2"
    ip -n "$2" link set "$3" up
    ip netns exec "$2" ethtool -K "$3" tx off >/dev/null 2>&1 || true
}
# oe_wire NS1 IF1 NS2 IF2 [MTU]: a veth cable between two namespaces.
oe_wire() {
    ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" || return 1
    ip -n "$1" link set "$2" mtu "${5:-1500}" up
    ip -n "$3" link set "$4" mtu "${5:-1500}" up
    ip netns exec "$1" ethtool -K "$2" tx off >/dev/null 2>&1 || true
    ip netns exec "$3" ethtool -K "$4" tx off >/dev/null 2>&1 || true
}
# oe_corch NODE_NS IFACES [c-orch args]: the daemon on that node, logged in.
# Skips (77) when this build has no ovs driver.
oe_corch() {
    local ns=$1 ifs=$2; shift 2
    OE_NS=$ns
    if ! CORCH_BIN=oe_corch_exec corch_start --set vswitch.driver=ovs \
            --set vswitch.ovsdb="$OVSDB" --set vswitch.datapath_type=netdev \
            --set vswitch.interfaces="$ifs" --set compute.drivers=dummy "$@"; then
        grep -qiE 'unknown.*driver|no .*driver|not (yet )?implemented|not supported|ENOSYS' \
            "$CORCH_LOG" && oe_skip "this c-orch has no usable ovs driver"
        fail "c-orch starts on $ns"; e2e_finish
    fi
    corch_login
    [ -n "${TOKEN:-}" ] || { fail "login on $ns"; e2e_finish; }
}
# oe_put ID FILE: deploys; skips if the API says 501 (not implemented).
oe_put() {
    api PUT "/v1/graphs/$1" "@$2"
    [ "$STATUS" = 501 ] && oe_skip "PUT /v1/graphs answers 501"
    return 0
}
# oe_lsi0: name of c-orch's LSI-0 in the current OVS.
oe_lsi0() { vsctl --bare --columns=name find Bridge external_ids:corch-role=lsi0; }
# oe_snapshot: bridges, ports and flows (without counters) of this OVS.
oe_snapshot() {
    local br
    for br in $(vsctl list-br | sort); do
        echo "bridge $br: $(vsctl list-ports "$br" | sort | tr '\n' ' ')"
        ofctl dump-flows "$br" --no-stats 2>&1 | grep -v 'reply' | sort
    done
}
# oe_graph_gone ID: nothing in OVSDB carries the graph's identity.
oe_graph_gone() {
    local t out
    for t in Bridge Port Interface; do
        out=$(vsctl --bare --columns=name find "$t" "external_ids:corch-graph=$1")
        [ -z "$out" ] || { echo "$t rows of graph $1 left: $out"; return 1; }
    done
}
# oe_same FILE1 FILE2: equal snapshots (shows the diff otherwise).
oe_same() { diff -u "$1" "$2"; }
# oe_tcp_ok NS IP PORT EXPECT: a TCP connection whose first line is EXPECT.
oe_tcp_ok() {
    local got i
    for i in 1 2 3; do
        got=$(ip netns exec "$1" timeout 5 nc -w 2 "$2" "$3" </dev/null 2>&1 | head -1)
        [ "$got" = "$4" ] && return 0
        sleep 0.3
    done
    echo "got '$got' from $2:$3, expected '$4'"; return 1
}
# oe_tag_server NS PORT TEXT: a TCP server in NS that answers TEXT and closes.
oe_tag_server() {
    ip netns exec "$1" python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(16)
while True:
    c, _ = s.accept(); c.sendall(sys.argv[2].encode() + b"\n"); c.close()
' "$2" "$3" >/dev/null 2>&1 &
    e2e_on_exit "kill $!"
    local i
    for i in $(seq 50); do
        ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q . && return 0
        sleep 0.1
    done
}
# ---- end of ovse2e helpers ----------------------------------------------
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
