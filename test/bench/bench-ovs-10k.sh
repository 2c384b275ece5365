#!/bin/bash
# Benchmark (issue 3): one graph with 10,000 flowrules (distinct dest_ip
# matches between two interface SAPs, plus the way back): time from the PUT
# to all rules present in OVS (the PUT's answer, then OVS's own flow count
# checked with dump-aggregate), and the DELETE.  For reference, the same
# 10,000 flows loaded by ovs-ofctl: --bundle replace-flows, --bundle
# add-flows, add-flows.  Target: <= 0.3 s.  Prints figures, never fails on
# one.  Usage: bench-ovs-10k.sh [rules] [rounds]
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/../e2e/lib-node.sh"
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
