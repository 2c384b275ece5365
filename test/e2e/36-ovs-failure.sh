#!/bin/bash
# Issue 3: failure injection with real OVS refusals.  A deploy that OVS
# refuses midway must leave nothing of the graph: no bridge, port, flow,
# OVSDB row or host-stack address, and the same graph deploys fine once
# the cause is gone.
#  1. LSI-0's flow table is capped (Flow_Table flow_limit, overflow_policy
#     =refuse): the graph-LSI, its ports and vlinks exist by then, and OVS
#     answers the LSI-0 rules with OFPFMFC_TABLE_FULL.
#  2. A rule OVS cannot take (set_dest_ip without an IPv4 match: OVS would
#     answer OFPBAC_MATCH_INCONSISTENT) among good ones; c-orch's validator
#     refuses it first (400), which must leave nothing either.
#  3. ovs-vswitchd frozen (SIGSTOP): OVSDB commits, but the switch never
#     applies the configuration; c-orch must give up (CORCH_OVS_TIMEOUT_MS)
#     and undo.
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
e2e_init oe36
oe_prereq oe36

oe_node oe36-node
oe_host oe36-h1 oe36-node oe36-v1 10.203.36.1/24
oe_host oe36-h2 oe36-node oe36-v2 10.203.36.3/24
export CORCH_OVS_TIMEOUT_MS=3000
oe_corch oe36-node oe36-v1,oe36-v2
LSI0=$(oe_lsi0)
check "LSI-0 exists" test -n "$LSI0"

graph() { # graph ID [EXTRA_RULE_JSON]
    cat <<JSON
{"sffg": {"id": "$1", "name": "$1",
  "SFs": [],
  "saps": [
    {"id": "a", "type": "interface", "interface": {"if-name": "oe36-v1"}},
    {"id": "b", "type": "interface", "interface": {"if-name": "oe36-v2"}},
    {"id": "hs", "type": "host-stack", "host-stack": {"configuration": "static", "ipv4": "10.203.36.2/24"}}],
  "flowrules": [
    {"id": "ab", "priority": 10, "match": {"port_in": "service-access-point:a"},
     "actions": {"output_to_port": "service-access-point:b"}},
    {"id": "ba", "priority": 10, "match": {"port_in": "service-access-point:b"},
     "actions": {"output_to_port": "service-access-point:a"}},
    {"id": "a-hs", "priority": 20,
     "match": {"port_in": "service-access-point:a", "ether_type": "0x0800", "dest_ip": "10.203.36.2"},
     "actions": {"output_to_port": "service-access-point:hs"}},
    {"id": "a-hs-arp", "priority": 20,
     "match": {"port_in": "service-access-point:a", "ether_type": "0x0806"},
     "actions": {"output_to_port": ["service-access-point:hs", "service-access-point:b"]}},
    {"id": "hs-a", "priority": 10, "match": {"port_in": "service-access-point:hs"},
     "actions": {"output_to_port": "service-access-point:a"}}${2:+,
    $2}]}}
JSON
}
# left_nothing ID: the checks every failed deploy must pass.
left_nothing() {
    local id=$1 what=$2
    check "$what: no OVSDB row of $id" oe_graph_gone "$id"
    oe_snapshot >"$T/after-$id"
    check "$what: OVS bridges, ports, flows as before" oe_same "$T/before" "$T/after-$id"
    check_not "$what: no host-stack address left" bash -c "ip -n oe36-node -br addr | grep -w 10.203.36.2"
    check_not "$what: nothing passes h1 -> h2" ping_ok oe36-h1 10.203.36.3
    api GET "/v1/graphs/$id/status"
    if [ "$STATUS" = 404 ] || ! grep -q '"running"' "$T/body"; then
        pass "$what: the API does not call it running ($STATUS $(head -c 200 "$T/body"))"
    else
        fail "$what: the API says running: $BODY"
    fi
}
failed_deploy() { # failed_deploy ID FILE WHAT
    local t0 t1
    t0=$(date +%s.%N)
    api PUT "/v1/graphs/$1" "@$2"
    t1=$(date +%s.%N)
    [ "$STATUS" = 501 ] && oe_skip "PUT /v1/graphs answers 501"
    case $STATUS in
        2??) fail "$3: deploy refused (got $STATUS)";;
        *) pass "$3: deploy refused: $STATUS in $(python3 -c "print('%.2f' % ($t1 - $t0))") s: $(head -c 300 "$T/body")";;
    esac
}

oe_snapshot >"$T/before"

# 1. LSI-0 table full.
N0=$(ofctl dump-flows "$LSI0" | grep -c 'actions=')
vsctl -- --id=@ft create Flow_Table flow_limit=$((N0 + 1)) overflow_policy=refuse \
      -- set Bridge "$LSI0" flow_tables:0=@ft >/dev/null
graph g36a >"$T/ga.json"
failed_deploy g36a "$T/ga.json" "table full on LSI-0"
grep -q 'TABLE_FULL\|table full\|table_full' "$CORCH_LOG" && e2e_log "c-orch logged OVS's TABLE_FULL"
vsctl clear Bridge "$LSI0" flow_tables
left_nothing g36a "table full"
oe_put g36a "$T/ga.json"
# 201 when the failed deploy left no record, 200 when it was kept (failed).
case $STATUS in 200|201) pass "table full: same graph deploys once the cap is gone ($STATUS)";;
    *) fail "table full: redeploy: status $STATUS: $BODY";; esac
check "table full: then h1 -> h2 passes" ping_retry oe36-h1 10.203.36.3
check "table full: then the host stack answers" ping_ok oe36-h1 10.203.36.2
api DELETE /v1/graphs/g36a; expect_status 204 "table full: delete"
oe_snapshot >"$T/after-del"
check "table full: after delete OVS as before" oe_same "$T/before" "$T/after-del"

# 2. One rule OVS cannot take, in a batch of good ones.
graph g36b '{"id": "bad", "priority": 30, "match": {"port_in": "service-access-point:b"},
     "actions": {"set_dest_ip": "10.203.36.9", "output_to_port": "service-access-point:a"}}' >"$T/gb.json"
failed_deploy g36b "$T/gb.json" "set_dest_ip without an IPv4 match"
left_nothing g36b "bad rule"

# 3. ovs-vswitchd frozen mid-deploy.
VSW_PID=$(cat "$OVS_DIR/ovs-vswitchd.pid")
kill -STOP "$VSW_PID"; e2e_on_exit "kill -CONT $VSW_PID"
graph g36c >"$T/gc.json"
failed_deploy g36c "$T/gc.json" "ovs-vswitchd frozen"
kill -CONT "$VSW_PID"
sleep 1
# The undo reached OVSDB while the switch slept: once awake it applies it.
for i in $(seq 30); do oe_graph_gone g36c >/dev/null 2>&1 && break; sleep 0.2; done
left_nothing g36c "vswitchd frozen"
oe_put g36c "$T/gc.json"
case $STATUS in 200|201) pass "vswitchd frozen: same graph deploys once it is back ($STATUS)";;
    *) fail "vswitchd frozen: redeploy: status $STATUS: $BODY";; esac
check "vswitchd frozen: then h1 -> h2 passes" ping_retry oe36-h1 10.203.36.3
api DELETE /v1/graphs/g36c; expect_status 204 "vswitchd frozen: delete"
check "c-orch still alive" kill -0 "$CORCH_PID"
e2e_finish
