#!/bin/bash
# A daemon restart with native SFs deployed (issues 2 and 4): SIGTERM
# leaves the graph running (pings still cross with the daemon down); the
# next start finds the graph in the store and deploys it again over what
# the previous run left (the leftover SF namespace is reclaimed, not an
# error); the graph is running, traffic crosses, and DELETE then leaves no
# namespace, veth or OVS row.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-node.sh"
e2e_init nr54
oe_prereq nr54

oe_node nr54-node
oe_host nr54-h1 nr54-node nr54-v1 10.54.0.1/24
oe_host nr54-h2 nr54-node nr54-v2 10.54.0.2/24
sf_netns() { ip netns list 2>/dev/null | awk '{print $1}' | grep '^corch-' | while read -r n; do
    ip netns exec "$n" ip -br link 2>/dev/null | grep -q . && echo "$n"; done; }
before=$(ip netns list | awk '{print $1}' | grep '^corch-' | sort)

cat >"$T/g.json" <<'JSON'
{"sffg": {"id": "g54", "name": "bridge chain",
  "SFs": [{"id": "br", "name": "bridge", "ports": [{"id": "a"}, {"id": "b"}]}],
  "saps": [
    {"id": "s1", "type": "interface", "interface": {"if-name": "nr54-v1"}},
    {"id": "s2", "type": "interface", "interface": {"if-name": "nr54-v2"}}],
  "flowrules": [
    {"id": "1", "match": {"port_in": "service-access-point:s1"}, "actions": {"output_to_port": "sf:br:a"}},
    {"id": "2", "match": {"port_in": "sf:br:a"}, "actions": {"output_to_port": "service-access-point:s1"}},
    {"id": "3", "match": {"port_in": "service-access-point:s2"}, "actions": {"output_to_port": "sf:br:b"}},
    {"id": "4", "match": {"port_in": "sf:br:b"}, "actions": {"output_to_port": "service-access-point:s2"}}]}}
JSON

oe_corch nr54-node nr54-v1,nr54-v2 --set compute.drivers=native
oe_put g54 "$T/g.json"
expect_status 201 "deploy SAP -> bridge NSF -> SAP"
check "ping crosses the bridge NSF" ping_retry nr54-h1 10.54.0.2
after=$(ip netns list | awk '{print $1}' | grep '^corch-' | sort)
ns=$(comm -13 <(echo "$before") <(echo "$after") | head -1)
check "the SF has its namespace" test -n "$ns"

check "SIGTERM stops the daemon cleanly" corch_stop
check "the graph keeps forwarding with the daemon down" ping_retry nr54-h1 10.54.0.2
# (The namespace's bind mount is not checked here: the daemon runs under
# `ip netns exec`, whose private mount namespace dies with it.)

unset CORCH_PORT
oe_corch nr54-node nr54-v1,nr54-v2 --set compute.drivers=native
api GET /v1/graphs/g54/status
expect_status 200 "the restarted daemon knows the graph"
check "it is running again" test "$(jq_body 'b["status"]')" = running
check "traffic crosses after the restart" ping_retry nr54-h1 10.54.0.2
check "the leftover namespace was reclaimed (one SF namespace)" \
    test "$(comm -13 <(echo "$before") <(ip netns list | awk '{print $1}' | grep '^corch-' | sort) | wc -l)" = 1

api DELETE /v1/graphs/g54
expect_status 204 "delete"
check_not "nothing crosses after delete" ping_ok nr54-h1 10.54.0.2
check "no SF namespace left" test -z "$(comm -13 <(echo "$before") <(ip netns list | awk '{print $1}' | grep '^corch-' | sort))"
check "no OVS row of the graph left" oe_graph_gone g54
e2e_finish
