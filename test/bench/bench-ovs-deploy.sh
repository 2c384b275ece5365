#!/bin/bash
# Benchmark (issue 3): an empty graph (two interface SAPs, two rules)
# deployed and deleted through the REST API, N rounds (default 100): p50 /
# p99 of deploy and of delete, timed by a keep-alive HTTP client inside the
# node namespace (no curl start-up in the figure).  In the same run, the
# same OVS work done by a shell script through ovs-vsctl / ovs-ofctl (a
# bridge with two ports, two flows; then del-br), and the ratio.
# Targets: c-orch deploy p50 <= 10 ms; c-orch >= 5x faster than the script.
# Prints figures, never fails on one.  Usage: bench-ovs-deploy.sh [rounds]
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
e2e_init oebd
oe_prereq oebd
ROUNDS=${1:-100}

oe_node oebd-node
# Two veth pairs inside the node: c-orch's LSI-0 takes one end of each, the
# script's bridge the other.
oe_wire oebd-node oebd-v1 oebd-node oebd-s1
oe_wire oebd-node oebd-v2 oebd-node oebd-s2
oe_corch oebd-node oebd-v1,oebd-v2 --set log.level=warn

cat >"$T/g.json" <<'JSON'
{"sffg": {"id": "gbench", "name": "empty",
  "SFs": [],
  "saps": [
    {"id": "s1", "type": "interface", "interface": {"if-name": "oebd-v1"}},
    {"id": "s2", "type": "interface", "interface": {"if-name": "oebd-v2"}}],
  "flowrules": [
    {"id": "r1", "priority": 10, "match": {"port_in": "service-access-point:s1"},
     "actions": {"output_to_port": "service-access-point:s2"}},
    {"id": "r2", "priority": 10, "match": {"port_in": "service-access-point:s2"},
     "actions": {"output_to_port": "service-access-point:s1"}}]}}
JSON
cat >"$T/client.py" <<'PY'
import http.client, json, sys, time
port, token, rounds, body = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), open(sys.argv[4], 'rb').read()
c = http.client.HTTPConnection('127.0.0.1', port)
h = {'Authorization': 'Bearer ' + token, 'Content-Type': 'application/json'}
dep, dele, bad = [], [], 0
def call(method, path, data=None):
    t = time.perf_counter()
    c.request(method, path, body=data, headers=h)
    r = c.getresponse(); r.read()
    return r.status, (time.perf_counter() - t) * 1000
for i in range(rounds + 3):
    s1, d1 = call('PUT', '/v1/graphs/gbench', body)
    s2, d2 = call('DELETE', '/v1/graphs/gbench')
    if s1 != 201 or s2 != 204:
        bad += 1
        if bad == 1: print('unexpected status: PUT %d DELETE %d' % (s1, s2), file=sys.stderr)
    if i >= 3:                       # 3 warm-up rounds
        dep.append(d1); dele.append(d2)
print(json.dumps({'deploy': dep, 'delete': dele, 'bad': bad}))
PY
cat >"$T/script.sh" <<'SH'
# The same OVS operations by hand: one round, timed in ns by the caller.
set -e
db=$1 dir=$2
vs() { ovs-vsctl --db="$db" "$@"; }
of() { ovs-ofctl -O OpenFlow13 "$@"; }
t0=$(date +%s%N)
vs add-br oebd-br -- set bridge oebd-br datapath_type=netdev fail_mode=secure \
   -- add-port oebd-br oebd-s1 -- set interface oebd-s1 ofport_request=1 \
   -- add-port oebd-br oebd-s2 -- set interface oebd-s2 ofport_request=2
of add-flow "unix:$dir/oebd-br.mgmt" priority=10,in_port=1,actions=output:2
of add-flow "unix:$dir/oebd-br.mgmt" priority=10,in_port=2,actions=output:1
t1=$(date +%s%N)
vs del-br oebd-br
t2=$(date +%s%N)
echo "$(( (t1 - t0) / 1000 )) $(( (t2 - t1) / 1000 ))"
SH

e2e_log "c-orch: $ROUNDS rounds of PUT + DELETE"
ip netns exec oebd-node python3 "$T/client.py" "$CORCH_PORT" "$TOKEN" "$ROUNDS" "$T/g.json" >"$T/corch.json"
e2e_log "script: $ROUNDS rounds of ovs-vsctl add-br + 2 x ovs-ofctl add-flow + del-br"
: >"$T/script.txt"
for i in $(seq $((ROUNDS + 3))); do
    out=$(bash "$T/script.sh" "$OVSDB" "$OVS_DIR") || { e2e_log "script round failed"; break; }
    [ "$i" -gt 3 ] && echo "$out" >>"$T/script.txt"
done

python3 - "$T/corch.json" "$T/script.txt" "$ROUNDS" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
s = [tuple(int(x) / 1000 for x in l.split()) for l in open(sys.argv[2]) if l.strip()]
def pct(v, p):
    v = sorted(v); return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))] if v else float('nan')
cd, cx = c['deploy'], c['delete']
sd, sx = [a for a, b in s], [b for a, b in s]
ct = [a + b for a, b in zip(cd, cx)]; st = [a + b for a, b in s]
print('bench-ovs-deploy: empty graph (2 interface SAPs, 2 rules), netdev OVS, %d rounds' % int(sys.argv[3]))
if c['bad']: print('  WARNING: %d rounds with an unexpected HTTP status' % c['bad'])
row = '  %-34s p50 %8.2f ms   p99 %8.2f ms'
print(row % ('c-orch deploy (PUT, 201)', pct(cd, 50), pct(cd, 99)))
print(row % ('c-orch delete (DELETE, 204)', pct(cx, 50), pct(cx, 99)))
print(row % ('c-orch deploy + delete', pct(ct, 50), pct(ct, 99)))
print(row % ('script deploy (vsctl + 2 ofctl)', pct(sd, 50), pct(sd, 99)))
print(row % ('script delete (vsctl del-br)', pct(sx, 50), pct(sx, 99)))
print(row % ('script deploy + delete', pct(st, 50), pct(st, 99)))
print('  target: c-orch deploy p50 <= 10 ms: %.2f ms -> %s' % (pct(cd, 50), 'met' if pct(cd, 50) <= 10 else 'NOT met'))
r_dep = pct(sd, 50) / pct(cd, 50); r_tot = pct(st, 50) / pct(ct, 50)
print('  ratio script / c-orch (p50): deploy %.1fx, deploy + delete %.1fx (target >= 5x: %s)'
      % (r_dep, r_tot, 'met' if r_dep >= 5 else 'NOT met'))
PY
exit 0
