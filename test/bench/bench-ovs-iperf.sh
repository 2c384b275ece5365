#!/bin/bash
# Benchmark (issue 3): iperf3 TCP between two namespaces through a deployed
# passthrough graph (two interface SAPs) vs the same path built by hand (one
# bridge, two in_port flows: docs/ovs-recipes.md (d)), in the same OVS, in
# the same run, alternating.  Target: c-orch / hand >= 0.9.  Prints figures,
# never fails on one.  Usage: bench-ovs-iperf.sh [seconds] [rounds]
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/../e2e/lib-node.sh"
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
