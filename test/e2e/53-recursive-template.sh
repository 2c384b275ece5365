#!/bin/bash
# Issue 4, recursive templates: a graph SAP -> "security" -> SAP, where
# security is sf-repository/templates/security-native.json, a subgraph
# firewall -> nat.  Deployed through the real daemon with OVS and the
# native engine: the status shows the inner SFs (sec.firewall, sec.nat),
# GET returns the graph as posted, allowed traffic crosses and leaves
# translated (tcpdump at the outside host sees the NAT's outside address),
# denied traffic does not cross; a config the security template refuses is
# a 4xx naming the field; changing the inner firewall's config restarts it
# alone (the inner nat keeps its PID); delete leaves nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-node.sh"
e2e_init rp53
oe_prereq
command -v nft >/dev/null || oe_skip "no nft"
command -v tcpdump >/dev/null || oe_skip "no tcpdump"

# h1 inside (behind the NAT), h2 outside with no route back to the inside
# network: a reply reaches h1 only if the NAT translated the request.
oe_node rp53-node
oe_host rp53-h1 rp53-node rp53-v1 192.168.53.2/24
ip -n rp53-h1 route add default via 192.168.53.1
oe_host rp53-h2 rp53-node rp53-v2 10.53.0.1/24
TAG=$(python3 -c '
import sys
h = 2166136261
for b in sys.argv[1].encode():
    h = ((h ^ b) * 16777619) & 0xffffffff
print("%04x" % ((h ^ (h >> 16)) & 0xffff))' "$T/state")
sf_netns() { ip netns list 2>/dev/null | awk '{print $1}' | grep "^corch-$TAG-" || true; }
e2e_on_exit 'for n in $(sf_netns); do ip netns pids $n | xargs -r kill -9; ip netns del $n; done'
oe_corch rp53-node rp53-v1,rp53-v2 --set compute.drivers=native
e2e_on_exit 'api DELETE /v1/graphs/g53'
oe_tag_server rp53-h2 80 web
oe_tag_server rp53-h2 23 telnet

cat >"$T/g.json" <<'JSON'
{"sffg": {"id": "g53", "name": "recursive security",
  "SFs": [
    {"id": "sec", "name": "security",
     "config": {
       "firewall": {"default": "allow", "rules": [
          {"action": "deny", "protocol": "tcp", "dest_port": 23}]},
       "nat": {"inside_ip": "192.168.53.1/24", "outside_ip": "10.53.0.2/24",
               "gateway": "10.53.0.1"}},
     "ports": [{"id": "in", "name": "inside"}, {"id": "out", "name": "outside"}]}],
  "saps": [
    {"id": "lan", "type": "interface", "interface": {"if-name": "rp53-v1"}},
    {"id": "wan", "type": "interface", "interface": {"if-name": "rp53-v2"}}],
  "flowrules": [
    {"id": "r1", "priority": 10, "match": {"port_in": "service-access-point:lan"},
     "actions": {"output_to_port": "sf:sec:in"}},
    {"id": "r2", "priority": 10, "match": {"port_in": "sf:sec:in"},
     "actions": {"output_to_port": "service-access-point:lan"}},
    {"id": "r3", "priority": 10, "match": {"port_in": "sf:sec:out"},
     "actions": {"output_to_port": "service-access-point:wan"}},
    {"id": "r4", "priority": 10, "match": {"port_in": "service-access-point:wan"},
     "actions": {"output_to_port": "sf:sec:out"}}]}}
JSON

# The node description advertises the capability.
api GET /v1/node
check "the node description lists security-native" grep -q '"security-native"' "$T/body"

# A config the security template's config_schema refuses (no "nat").
python3 - "$T/g.json" >"$T/bad.json" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))
del g["sffg"]["SFs"][0]["config"]["nat"]
print(json.dumps(g))
PY
oe_put g53 "$T/bad.json"
case $STATUS in 4*) pass "config without nat refused ($STATUS)";; *) fail "bad config: status $STATUS: $BODY";; esac
check "the error names the field" grep -q 'sffg.SFs\[0\].config.nat' "$T/body"
check "no SF namespace after the refused graph" test -z "$(sf_netns)"
check "no OVS row after the refused graph" oe_graph_gone g53

oe_put g53 "$T/g.json"
case $STATUS in
200|201) pass "deploy SAP -> security (firewall -> nat) -> SAP ($STATUS)";;
*) fail "deploy: status $STATUS: $BODY"; tail -20 "$CORCH_LOG"; e2e_finish;;
esac
api GET /v1/graphs/g53/status
check "status running" test "$(jq_body 'b["status"]')" = running
check "the status shows the inner SFs" \
    test "$(jq_body '" ".join(s["id"] + "=" + s["template"] + "/" + s["state"] for s in b["sfs"])')" \
         = "sec.firewall=firewall-native/running sec.nat=nat-native/running"
check "two SF namespaces" test "$(sf_netns | wc -l)" -eq 2
api GET /v1/graphs/g53
check "GET returns the graph as posted (one SF, security)" \
    test "$(jq_body '[s["name"] for s in b["sffg"]["SFs"]]')" = "['security']"

# Allowed traffic crosses, translated.
ip netns exec rp53-h2 timeout 6 tcpdump -lni eth0 -c 1 'icmp[icmptype] = icmp-echo' \
    >"$T/icmp" 2>/dev/null &
dump=$!
sleep 0.5
check "ping inside -> outside crosses the security function" ping_retry rp53-h1 10.53.0.1
wait $dump
check "tcpdump at h2 shows the outside address 10.53.0.2" grep -q '10.53.0.2 > 10.53.0.1' "$T/icmp"
check_not "tcpdump at h2 shows no inside address" grep -q '192.168.53' "$T/icmp"
check "TCP port 80 allowed" oe_tcp_ok rp53-h1 10.53.0.1 80 web
check_not "TCP port 23 denied by the inner firewall" oe_tcp_ok rp53-h1 10.53.0.1 23 telnet

# Update by diff inside the subgraph: a new firewall config restarts the
# inner firewall only; the inner nat keeps its PID.
pid_of() { python3 -c 'import json,sys; b=json.load(open(sys.argv[1]))
print([s.get("pid") for s in b["sfs"] if s["id"] == sys.argv[2]][0])' "$T/body" "$1"; }
api GET /v1/graphs/g53/status
nat_pid=$(pid_of sec.nat)
sed 's/"dest_port": 23}/"dest_port": 23}, {"action": "deny", "protocol": "tcp", "dest_port": 80}/' \
    "$T/g.json" >"$T/g2.json"
api PUT /v1/graphs/g53 "@$T/g2.json"
case $STATUS in 200|201|204) pass "update: inner firewall config changed ($STATUS)";; *) fail "update: status $STATUS: $BODY";; esac
api GET /v1/graphs/g53/status
check "the inner nat kept its PID ($nat_pid)" test "$(pid_of sec.nat)" = "$nat_pid"
check_not "TCP port 80 now denied" oe_tcp_ok rp53-h1 10.53.0.1 80 web
check "ping still crosses" ping_retry rp53-h1 10.53.0.1

api DELETE /v1/graphs/g53
case $STATUS in 200|204) pass "delete ($STATUS)";; *) fail "delete: status $STATUS: $BODY";; esac
check "no SF namespace left" test -z "$(sf_netns)"
check "no graph rows left in OVSDB" oe_graph_gone g53
e2e_finish
