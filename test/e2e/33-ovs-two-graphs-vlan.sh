#!/bin/bash
# Issue 3: two graphs share one interface (the trunk oe33-trunk), kept apart
# by VLAN id.  Graph A: h1 <-> vlan 100 (h2); graph B: h4 <-> vlan 200 (h3).
# Tagged hosts come from a helper OVS with access ports (docs/ovs-recipes.md).
# Each graph sees only its own traffic; overlapping claims get 409; deleting
# one graph leaves the other working.
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
