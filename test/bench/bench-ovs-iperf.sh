#!/bin/bash
# Benchmark (issue 3): iperf3 TCP between two namespaces through a deployed
# passthrough graph (two interface SAPs) vs the same path built by hand (one
# bridge, two in_port flows: docs/ovs-recipes.md (d)), in the same OVS, in
# the same run, alternating.  Target: c-orch / hand >= 0.9.  Prints figures,
# never fails on one.  Usage: bench-ovs-iperf.sh [seconds] [rounds]
. "$(dirname "$0")/../e2e/lib.sh"
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
# test/run-all.sh passes the build directory first: skip it.
[ -d "${1:-}" ] && shift
e2e_init oebi
oe_prereq oebi
SECS=${1:-3}
ROUNDS=${2:-6}

oe_node oebi-node
oe_host oebi-h1 oebi-node oebi-v1 10.203.37.1/24     # through c-orch
oe_host oebi-h2 oebi-node oebi-v2 10.203.37.2/24
oe_host oebi-h3 oebi-node oebi-v3 10.203.37.1/24     # through the hand-made bridge
oe_host oebi-h4 oebi-node oebi-v4 10.203.37.2/24
oe_corch oebi-node oebi-v1,oebi-v2 --set log.level=warn

cat >"$T/g.json" <<'JSON'
{"sffg": {"id": "giperf", "name": "passthrough",
  "SFs": [],
  "saps": [
    {"id": "s1", "type": "interface", "interface": {"if-name": "oebi-v1"}},
    {"id": "s2", "type": "interface", "interface": {"if-name": "oebi-v2"}}],
  "flowrules": [
    {"id": "r1", "priority": 10, "match": {"port_in": "service-access-point:s1"},
     "actions": {"output_to_port": "service-access-point:s2"}},
    {"id": "r2", "priority": 10, "match": {"port_in": "service-access-point:s2"},
     "actions": {"output_to_port": "service-access-point:s1"}}]}}
JSON
oe_put giperf "$T/g.json"
[ "$STATUS" = 201 ] || { e2e_log "deploy failed: $STATUS $BODY"; exit 0; }
vsctl add-br oebi-man -- set bridge oebi-man datapath_type=netdev fail_mode=secure \
    -- add-port oebi-man oebi-v3 -- set interface oebi-v3 ofport_request=1 \
    -- add-port oebi-man oebi-v4 -- set interface oebi-v4 ofport_request=2
ofctl add-flow oebi-man in_port=1,actions=output:2
ofctl add-flow oebi-man in_port=2,actions=output:1
ping_retry oebi-h1 10.203.37.2 >/dev/null || e2e_log "no ping through c-orch"
ping_retry oebi-h3 10.203.37.2 >/dev/null || e2e_log "no ping through the hand-made bridge"

run() { # run CLIENT_NS SERVER_NS: prints Gbit/s received
    in_ns "$2" iperf3 -s -1 -D -p 5237 >/dev/null 2>&1; sleep 0.3
    in_ns "$1" timeout $((SECS + 15)) iperf3 -c 10.203.37.2 -p 5237 -t "$SECS" -J 2>/dev/null |
        python3 -c 'import json,sys; print("%.3f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))' \
        2>/dev/null || echo 0
}
: >"$T/res"
for i in $(seq "$ROUNDS"); do
    # Alternate which path goes first: the machine's load drifts.
    if [ $((i % 2)) = 1 ]; then a=$(run oebi-h1 oebi-h2); b=$(run oebi-h3 oebi-h4)
    else b=$(run oebi-h3 oebi-h4); a=$(run oebi-h1 oebi-h2); fi
    e2e_log "round $i: c-orch $a Gbit/s, by hand $b Gbit/s"
    echo "$a $b" >>"$T/res"
done
api DELETE /v1/graphs/giperf
python3 - "$T/res" "$SECS" <<'PY'
import sys, statistics as st
r = [tuple(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
a = st.median(x for x, _ in r); b = st.median(y for _, y in r)
print('bench-ovs-iperf: iperf3 TCP %s s x %d rounds, netdev OVS, same node' % (sys.argv[2], len(r)))
print('  through a c-orch passthrough graph: median %.3f Gbit/s' % a)
ratios = sorted(x / y for x, y in r if y > 0)
if ratios: print('  per-round ratios: %s' % ' '.join('%.2f' % q for q in ratios))
print('  through a hand-made bridge (2 in_port flows): median %.3f Gbit/s' % b)
if b > 0:
    print('  ratio c-orch / hand: %.3f (target >= 0.9: %s)' % (a / b, 'met' if a / b >= 0.9 else 'NOT met'))
PY
exit 0
