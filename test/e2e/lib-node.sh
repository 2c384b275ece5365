# Helpers for end-to-end tests that run whole c-orch nodes: one network
# namespace per node holding its ovs-vswitchd, its "physical" interfaces and
# the daemon itself.  Source it after lib.sh:
#     . "$(dirname "$0")/lib.sh"; . "$(dirname "$0")/lib-node.sh"
# (from test/bench: . "$(dirname "$0")/../e2e/lib-node.sh").
# Why namespaces: two netdev ovs-vswitchd cannot share one (each creates the
# tap "ovs-netdev"), see docs/ovs-recipes.md.
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
    if [ -n "${1:-}" ] && ip netns list | grep -q "^$1-"; then
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
    e2e_on_exit "ip netns pids '$ns' | xargs -r kill -9; ip netns del '$ns'"
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
