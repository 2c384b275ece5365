#!/bin/bash
# Benchmark (issue 3): one graph with 10,000 flowrules (distinct dest_ip
# matches between two interface SAPs, plus the way back): time from the PUT
# to all rules present in OVS (the PUT's answer, then OVS's own flow count
# checked with dump-aggregate), and the DELETE.  For reference, the same
# 10,000 flows loaded by ovs-ofctl: --bundle replace-flows, --bundle
# add-flows, add-flows.  Target: <= 0.3 s.  Prints figures, never fails on
# one.  Usage: bench-ovs-10k.sh [rules] [rounds]
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
e2e_init oebk
oe_prereq oebk
NRULES=${1:-10000}
ROUNDS=${2:-3}

oe_node oebk-node
oe_wire oebk-node oebk-v1 oebk-node oebk-s1
oe_wire oebk-node oebk-v2 oebk-node oebk-s2
oe_corch oebk-node oebk-v1,oebk-v2 --set log.level=warn \
    --set limits.max_flowrules=$((NRULES + 10)) --set limits.max_body_bytes=67108864

python3 - "$NRULES" "$T/g.json" "$T/flows.txt" <<'PY'
import json, sys
n = int(sys.argv[1])
ip = lambda i: '10.%d.%d.%d' % (i >> 16, (i >> 8) & 255, i & 255)
rules = [{"id": "r%d" % i, "priority": 100,
          "match": {"port_in": "service-access-point:s1", "ether_type": "0x0800", "dest_ip": ip(i)},
          "actions": {"output_to_port": "service-access-point:s2"}} for i in range(n)]
rules.append({"id": "back", "priority": 10, "match": {"port_in": "service-access-point:s2"},
              "actions": {"output_to_port": "service-access-point:s1"}})
g = {"sffg": {"id": "g10k", "name": "10k", "SFs": [],
      "saps": [{"id": "s1", "type": "interface", "interface": {"if-name": "oebk-v1"}},
               {"id": "s2", "type": "interface", "interface": {"if-name": "oebk-v2"}}],
      "flowrules": rules}}
json.dump(g, open(sys.argv[2], 'w'))
with open(sys.argv[3], 'w') as f:
    for i in range(n):
        f.write('priority=100,ip,in_port=1,nw_dst=%s,actions=output:2\n' % ip(i))
    f.write('priority=10,in_port=2,actions=output:1\n')
PY
cat >"$T/client.py" <<'PY'
# PUT, then OVS's own count of flows on every bridge until the graph's
# rules are all there; then DELETE.  Times in ms.
import http.client, json, subprocess, sys, time
port, token, body, want, ovsdb, rundir, rounds = (int(sys.argv[1]), sys.argv[2],
    open(sys.argv[3], 'rb').read(), int(sys.argv[4]), sys.argv[5], sys.argv[6], int(sys.argv[7]))
h = {'Authorization': 'Bearer ' + token, 'Content-Type': 'application/json'}
def flows():
    n = 0
    for br in subprocess.run(['ovs-vsctl', '--db=' + ovsdb, 'list-br'], capture_output=True,
                             text=True).stdout.split():
        out = subprocess.run(['ovs-ofctl', '-O', 'OpenFlow13', 'dump-aggregate',
                              'unix:%s/%s.mgmt' % (rundir, br)], capture_output=True, text=True).stdout
        n += int(out.split('flow_count=')[1].split()[0]) if 'flow_count=' in out else 0
    return n
res = []
for r in range(rounds):
    base = flows()
    c = http.client.HTTPConnection('127.0.0.1', port, timeout=120)
    t0 = time.perf_counter()
    c.request('PUT', '/v1/graphs/g10k', body=body, headers=h)
    resp = c.getresponse(); resp.read()
    t1 = time.perf_counter()
    n, polls = flows(), 1
    while n - base < want and time.perf_counter() - t0 < 30:
        n = flows(); polls += 1
    t2 = time.perf_counter()
    present = (t1 - t0) * 1000 if polls == 1 and n - base >= want else (t2 - t0) * 1000
    t3 = time.perf_counter()
    c.request('DELETE', '/v1/graphs/g10k', headers=h)
    resp2 = c.getresponse(); resp2.read()
    t4 = time.perf_counter()
    res.append({'status': resp.status, 'put': (t1 - t0) * 1000, 'present': present,
                'in_ovs': n - base, 'polls': polls, 'del_status': resp2.status,
                'delete': (t4 - t3) * 1000, 'after_delete': flows() - base})
    c.close()
print(json.dumps(res))
PY
e2e_log "c-orch: $ROUNDS rounds of PUT / DELETE of a graph with $NRULES rules"
ip netns exec oebk-node python3 "$T/client.py" "$CORCH_PORT" "$TOKEN" "$T/g.json" \
    "$((NRULES + 1))" "$OVSDB" "$OVS_DIR" "$ROUNDS" >"$T/corch.json"

# Reference: ovs-ofctl on a bridge of the same OVS, same flows.
vsctl add-br oebk-br -- set bridge oebk-br datapath_type=netdev fail_mode=secure \
    -- add-port oebk-br oebk-s1 -- set interface oebk-s1 ofport_request=1 \
    -- add-port oebk-br oebk-s2 -- set interface oebk-s2 ofport_request=2
MGMT=unix:$OVS_DIR/oebk-br.mgmt
ref() { # ref LABEL ofctl-args...: ms for one load onto an empty table
    local label=$1 t0 t1 n; shift
    ovs-ofctl -O OpenFlow13 del-flows "$MGMT"
    t0=$(date +%s%N); ovs-ofctl -O OpenFlow13 "$@"; t1=$(date +%s%N)
    n=$(ovs-ofctl -O OpenFlow13 dump-aggregate "$MGMT" | sed -n 's/.*flow_count=\([0-9]*\).*/\1/p')
    echo "$label $(( (t1 - t0) / 1000 )) $n"
}
: >"$T/ref.txt"
for i in $(seq "$ROUNDS"); do
    ref "ovs-ofctl --bundle replace-flows" --bundle replace-flows "$MGMT" "$T/flows.txt" >>"$T/ref.txt"
    ref "ovs-ofctl --bundle add-flows" --bundle add-flows "$MGMT" "$T/flows.txt" >>"$T/ref.txt"
    ref "ovs-ofctl add-flows" add-flows "$MGMT" "$T/flows.txt" >>"$T/ref.txt"
done
vsctl del-br oebk-br

python3 - "$T/corch.json" "$T/ref.txt" "$NRULES" <<'PY'
import json, sys, statistics as st
c = json.load(open(sys.argv[1])); n = int(sys.argv[3])
print('bench-ovs-10k: one graph with %d flowrules (+1 back), 2 interface SAPs, netdev OVS, %d rounds' % (n, len(c)))
for i, r in enumerate(c):
    print('  c-orch round %d: PUT %d in %7.1f ms, all %d rules in OVS at %7.1f ms (%d check%s); '
          'DELETE %d in %7.1f ms, %d left'
          % (i + 1, r['status'], r['put'], r['in_ovs'], r['present'], r['polls'],
             '' if r['polls'] == 1 else 's', r['del_status'], r['delete'], r['after_delete']))
ok = [r for r in c if r['status'] in (200, 201) and r['in_ovs'] >= n + 1]
if ok:
    med = st.median(r['present'] for r in ok)
    print('  c-orch PUT -> all rules in OVS: median %.1f ms  (target <= 300 ms: %s)' % (med, 'met' if med <= 300 else 'NOT met'))
    print('  c-orch DELETE: median %.1f ms' % st.median(r['delete'] for r in ok))
else:
    print('  c-orch: no successful round (see above)')
ref = {}
for l in open(sys.argv[2]):
    *label, ms, cnt = l.split(); ref.setdefault(' '.join(label), []).append((int(ms) / 1000, int(cnt or 0)))
for label, v in ref.items():
    print('  reference %-32s median %7.1f ms (%d flows)' % (label + ':', st.median(x for x, _ in v), v[0][1]))
if ok and 'ovs-ofctl --bundle add-flows' in ref:
    b = st.median(x for x, _ in ref['ovs-ofctl --bundle add-flows'])
    print('  c-orch (REST, parse, store, OVSDB, bundle) / ovs-ofctl --bundle add-flows: %.2fx (same run; '
          'the machine\'s load shows in both)' % (med / b))
PY
exit 0
