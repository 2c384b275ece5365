#!/bin/bash
# Issue 3: host-stack SAP.  The node namespace is the host: a TCP service
# listens there (0.0.0.0:8035).  The graph joins h1 (interface SAP) and a
# host-stack SAP with 10.203.35.2/24: h1 reaches the service through the
# graph.  h2, on another interface of LSI-0 that the graph does not use,
# does not; nor does anyone once the graph is deleted (the address is gone).
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
