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
. "$(dirname "$0")/../e2e/lib-node.sh"
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
