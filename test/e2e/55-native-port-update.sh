#!/bin/bash
# Issue 4, ports of a running SF: an update that only adds (or removes) a
# port of a native bridge NSF updates it in place (compute port_add /
# port_remove) instead of recreating it.  h1 and h2 bridged; a third port
# and SAP (h3) added: h1 reaches h3, the bridge keeps its PID; the port
# removed again: h3 unreachable, same PID; delete leaves nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-node.sh"
e2e_init pu55
oe_prereq pu55

oe_node pu55-node
oe_host pu55-h1 pu55-node pu55-v1 10.55.0.1/24
oe_host pu55-h2 pu55-node pu55-v2 10.55.0.2/24
oe_host pu55-h3 pu55-node pu55-v3 10.55.0.3/24
before=$(ip netns list | awk '{print $1}' | grep '^corch-' | sort)
new_netns() { comm -13 <(echo "$before") <(ip netns list | awk '{print $1}' | grep '^corch-' | sort); }
e2e_on_exit 'for n in $(new_netns); do ip netns pids $n | xargs -r kill -9; ip netns del $n; done'

graph() { # graph N: the bridge with N ports (2 or 3), one SAP/host each
python3 - "$1" <<'PY'
import json, sys
n = int(sys.argv[1])
ports = "abc"[:n]
g = {"id": "g55", "name": "bridge, ports updated in place",
     "SFs": [{"id": "br", "name": "bridge",
              "ports": [{"id": p} for p in ports]}],
     "saps": [{"id": "s%d" % (i + 1), "type": "interface",
               "interface": {"if-name": "pu55-v%d" % (i + 1)}}
              for i in range(n)],
     "flowrules": []}
for i, p in enumerate(ports):
    g["flowrules"] += [
        {"id": "in-%s" % p, "match": {"port_in": "service-access-point:s%d" % (i + 1)},
         "actions": {"output_to_port": "sf:br:%s" % p}},
        {"id": "out-%s" % p, "match": {"port_in": "sf:br:%s" % p},
         "actions": {"output_to_port": "service-access-point:s%d" % (i + 1)}}]
print(json.dumps({"sffg": g}))
PY
}
graph 2 >"$T/g2.json"
graph 3 >"$T/g3.json"
br_pid() { api GET /v1/graphs/g55/status >/dev/null
    python3 -c 'import json,sys; b=json.load(open(sys.argv[1]))
print([s.get("pid") for s in b["sfs"] if s["id"] == "br"][0])' "$T/body"; }

oe_corch pu55-node pu55-v1,pu55-v2,pu55-v3 --set compute.drivers=native
e2e_on_exit 'api DELETE /v1/graphs/g55'
oe_put g55 "$T/g2.json"
expect_status 201 "deploy h1 - bridge NSF (2 ports) - h2"
check "ping h1 -> h2 crosses the bridge" ping_retry pu55-h1 10.55.0.2
ns=$(new_netns | head -1)
check "the bridge SF has its namespace" test -n "$ns"
pid=$(br_pid)
check "the status shows the bridge's PID ($pid)" test "$pid" -gt 0
check_not "h3 is not reachable yet" ping_ok pu55-h1 10.55.0.3

# A third port and SAP: the SF is updated in place.
oe_put g55 "$T/g3.json"
case $STATUS in 200|201|204) pass "update: third port + SAP h3 ($STATUS)";;
*) fail "update (add a port): status $STATUS: $BODY"; tail -20 "$CORCH_LOG";; esac
check "ping h1 -> h3 crosses the bridge" ping_retry pu55-h1 10.55.0.3
check "ping h1 -> h2 still crosses" ping_retry pu55-h1 10.55.0.2
check "the bridge kept its PID" test "$(br_pid)" = "$pid"
check "still one SF namespace, the same" test "$(new_netns)" = "$ns"
check "the SF has three ports on its bridge" \
    test "$(nsenter -t "$pid" -n ip -o link show master br0 | wc -l)" -eq 3
check "the switch has the new port" \
    test "$(vsctl --bare --columns=name find Interface external_ids:corch-port=c | wc -w)" -eq 1

# And removed again.
oe_put g55 "$T/g2.json"
case $STATUS in 200|201|204) pass "update: third port removed ($STATUS)";;
*) fail "update (remove a port): status $STATUS: $BODY"; tail -20 "$CORCH_LOG";; esac
check_not "h3 is no longer reachable" ping_ok pu55-h1 10.55.0.3
check "ping h1 -> h2 still crosses" ping_retry pu55-h1 10.55.0.2
check "the bridge kept its PID" test "$(br_pid)" = "$pid"
check "the SF has two ports on its bridge" \
    test "$(nsenter -t "$pid" -n ip -o link show master br0 | wc -l)" -eq 2
check "the switch port of the removed one is gone" \
    test "$(vsctl --bare --columns=name find Interface external_ids:corch-sf-port=c | wc -w)" -eq 0

api DELETE /v1/graphs/g55
expect_status 204 "delete"
check_not "nothing crosses after delete" ping_ok pu55-h1 10.55.0.2
check "no SF namespace left" test -z "$(new_netns)"
check "no OVS row of the graph left" oe_graph_gone g55
e2e_finish
