#!/bin/bash
# Issue 3: passthrough between two interface SAPs on real OVS, real packets.
# Nothing passes before the graph; ping and TCP pass both ways while it is
# deployed; after DELETE nothing passes and OVS is as it was before.
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
e2e_init oe30
oe_prereq oe30

oe_node oe30-node
oe_host oe30-h1 oe30-node oe30-v1 10.203.30.1/24
oe_host oe30-h2 oe30-node oe30-v2 10.203.30.2/24
oe_corch oe30-node oe30-v1,oe30-v2

LSI0=$(oe_lsi0)
check "LSI-0 exists" test -n "$LSI0"
check "LSI-0 has both interfaces" bash -c "[ \"\$(ovs-vsctl --db=$OVSDB list-ports $LSI0 | grep -c '^oe30-v[12]$')\" = 2 ]"
check "LSI-0 is fail_mode=secure" bash -c "[ \"\$(ovs-vsctl --db=$OVSDB get Bridge $LSI0 fail_mode)\" = secure ]"
check_not "no controller on LSI-0" bash -c "ovs-vsctl --db=$OVSDB get-controller $LSI0 | grep ."
check_not "nothing passes before the graph" ping_ok oe30-h1 10.203.30.2
oe_snapshot >"$T/before"

cat >"$T/g.json" <<'JSON'
{"sffg": {"id": "g30", "name": "passthrough",
  "SFs": [],
  "saps": [
    {"id": "s1", "type": "interface", "interface": {"if-name": "oe30-v1"}},
    {"id": "s2", "type": "interface", "interface": {"if-name": "oe30-v2"}}],
  "flowrules": [
    {"id": "r1", "priority": 10, "match": {"port_in": "service-access-point:s1"},
     "actions": {"output_to_port": "service-access-point:s2"}},
    {"id": "r2", "priority": 10, "match": {"port_in": "service-access-point:s2"},
     "actions": {"output_to_port": "service-access-point:s1"}}]}}
JSON
oe_put g30 "$T/g.json"; expect_status 201 "deploy the passthrough graph"
api GET /v1/graphs/g30/status; expect_status 200 "graph status"
e2e_log "status: $BODY"
check "ping h1 -> h2" ping_retry oe30-h1 10.203.30.2
check "ping h2 -> h1" ping_ok oe30-h2 10.203.30.1
oe_tag_server oe30-h2 8030 from-h2
oe_tag_server oe30-h1 8030 from-h1
check "TCP h1 -> h2" oe_tcp_ok oe30-h1 10.203.30.2 8030 from-h2
check "TCP h2 -> h1" oe_tcp_ok oe30-h2 10.203.30.1 8030 from-h1
in_ns oe30-h2 iperf3 -s -1 -D -p 5230 >/dev/null 2>&1; sleep 0.3
check "iperf3 h1 -> h2 (1 s)" in_ns oe30-h1 timeout 10 iperf3 -c 10.203.30.2 -p 5230 -t 1
check "a flow of the graph on LSI-0" bash -c "ovs-ofctl -O OpenFlow13 dump-flows unix:$OVS_DIR/$LSI0.mgmt | grep -q 'n_packets=[1-9]'"

api DELETE /v1/graphs/g30; expect_status 204 "delete the graph"
check_not "nothing passes after delete (h1 -> h2)" ping_ok oe30-h1 10.203.30.2
check_not "nothing passes after delete (h2 -> h1)" ping_ok oe30-h2 10.203.30.1
check "no OVSDB row of g30 left" oe_graph_gone g30
oe_snapshot >"$T/after"
check "OVS bridges, ports, flows as before the graph" oe_same "$T/before" "$T/after"
api GET /v1/graphs/g30; expect_status 404 "graph gone from the API"

# Redeploy: deletion left nothing that blocks the same graph again.
oe_put g30 "$T/g.json"; expect_status 201 "redeploy"
check "ping again after redeploy" ping_retry oe30-h1 10.203.30.2

# Restart: the switch keeps forwarding while c-orch is down; the new
# c-orch adopts LSI-0 (same row) and the graph, and can still delete it.
LSI0_UUID=$(vsctl get Bridge "$LSI0" _uuid)
check "c-orch stops cleanly (SIGTERM)" corch_stop
check "traffic still flows while c-orch is down" ping_ok oe30-h1 10.203.30.2
oe_corch oe30-node oe30-v1,oe30-v2
check "LSI-0 adopted, not recreated" bash -c "[ \"\$(ovs-vsctl --db=$OVSDB get Bridge $LSI0 _uuid)\" = '$LSI0_UUID' ]"
api GET /v1/graphs/g30/status; expect_status 200 "graph known after restart"
check "graph running after restart" grep -q '"running"' "$T/body"
check "ping after restart" ping_ok oe30-h1 10.203.30.2
api DELETE /v1/graphs/g30; expect_status 204 "delete after restart"
check_not "nothing passes after that delete" ping_ok oe30-h1 10.203.30.2
oe_snapshot >"$T/after2"
check "OVS as before the graph, after restart + delete" oe_same "$T/before" "$T/after2"
e2e_finish
