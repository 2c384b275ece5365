#!/bin/bash
# Issue 3 / paper Fig. 6: one graph split over two c-orch nodes, its halves
# joined by GRE SAPs.  Each node is a namespace with its own OVS and its own
# c-orch; a veth "wire" joins the nodes; each node's underlay IP sits on an
# OVS internal port (bridge oe34-phy, made by the test, not by c-orch) and
# OVS userspace tunnelling resolves the peer with its own route / ARP
# tables (docs/ovs-recipes.md (a)).  Host hA on node A reaches hB on node B.
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
