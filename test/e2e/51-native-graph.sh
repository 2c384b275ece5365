#!/bin/bash
# Issue 4, native engine through the REST API on real OVS: a graph
# SAP -> firewall -> nat -> SAP of native NSFs.  Allowed traffic crosses
# and leaves translated (tcpdump at the outside host sees the NAT's
# address), blocked traffic does not cross; a bad config is refused naming
# the field, leaving nothing; adding a second firewall to the running
# chain keeps the other SFs' PIDs and a running ping; delete leaves no
# namespace, veth or OVS row.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-node.sh"
e2e_init nv51
oe_prereq
command -v nft >/dev/null || oe_skip "no nft"

# Node nv51-node: h1 inside (behind the NAT), h2 outside (the NAT's
# gateway, with no route back to the inside network: a reply reaches h1
# only if the NAT translated the request).
oe_node nv51-node
oe_host nv51-h1 nv51-node nv51-v1 192.168.51.2/24
ip -n nv51-h1 route add default via 192.168.51.1
oe_host nv51-h2 nv51-node nv51-v2 10.51.0.1/24
# The engine names SF namespaces corch-<tag>-<instance>, the tag from the
# state directory (drivers/compute/native): ours are found by it.
TAG=$(python3 -c '
import sys
h = 2166136261
for b in sys.argv[1].encode():
    h = ((h ^ b) * 16777619) & 0xffffffff
print("%04x" % ((h ^ (h >> 16)) & 0xffff))' "$T/state")
sf_netns() { ip netns list 2>/dev/null | awk '{print $1}' | grep "^corch-$TAG-" || true; }
# Whatever happens, no SF namespace or process of ours stays (runs after
# the daemon is stopped: cleanups run in reverse order).
e2e_on_exit 'for n in $(sf_netns); do ip netns pids $n | xargs -r kill -9; ip netns del $n; done'
oe_corch nv51-node nv51-v1,nv51-v2 --set compute.drivers=native
e2e_on_exit 'api DELETE /v1/graphs/g51'
oe_tag_server nv51-h2 80 web
oe_tag_server nv51-h2 23 telnet

graph() { # graph EXTRA_SF_JSON EXTRA_RULES: SAP -> firewall -> nat -> SAP
cat <<JSON
{"sffg": {"id": "g51", "name": "native chain",
  "SFs": [
    {"id": "fw", "name": "firewall",
     "config": {"default": "allow", "rules": [
        {"action": "deny", "protocol": "tcp", "dest_port": 23}]},
     "ports": [{"id": "a", "name": "lan"}, {"id": "b", "name": "wan"}]},
    {"id": "nat", "name": "nat",
     "config": {"inside_ip": "192.168.51.1/24", "outside_ip": "10.51.0.2/24",
                "gateway": "10.51.0.1"},
     "ports": [{"id": "in", "name": "inside"}, {"id": "out", "name": "outside"}]}],
  "saps": [
    {"id": "lan", "type": "interface", "interface": {"if-name": "nv51-v1"}},
    {"id": "wan", "type": "interface", "interface": {"if-name": "nv51-v2"}}],
  "flowrules": [
    {"id": "r1", "priority": 10, "match": {"port_in": "service-access-point:lan"},
     "actions": {"output_to_port": "sf:fw:a"}},
    {"id": "r2", "priority": 10, "match": {"port_in": "sf:fw:a"},
     "actions": {"output_to_port": "service-access-point:lan"}},
    {"id": "r3", "priority": 10, "match": {"port_in": "sf:fw:b"},
     "actions": {"output_to_port": "sf:nat:in"}},
    {"id": "r4", "priority": 10, "match": {"port_in": "sf:nat:in"},
     "actions": {"output_to_port": "sf:fw:b"}},
    {"id": "r5", "priority": 10, "match": {"port_in": "sf:nat:out"},
     "actions": {"output_to_port": "service-access-point:wan"}},
    {"id": "r6", "priority": 10, "match": {"port_in": "service-access-point:wan"},
     "actions": {"output_to_port": "sf:nat:out"}}]}}
JSON
}

graph >"$T/g.json"
# A bad config is refused naming the field, and nothing is left of it.
sed 's/"default": "allow"/"default": "maybe"/' "$T/g.json" >"$T/bad.json"
oe_put g51 "$T/bad.json"
# The core checks config against the template's config_schema (400); if
# it lets a bad one through, the NSF's own check refuses it at start, and
# the deploy fails naming the field all the same.
case $STATUS in
4*) pass "bad firewall config refused by the core ($STATUS)";;
500) if grep -q 'config.default' "$T/body"; then
         pass "bad firewall config refused by the NSF at start (500; the core does not check config_schema)"
     else fail "bad config: status 500: $BODY"; fi;;
*) fail "bad config: status $STATUS: $BODY";;
esac
check "the error names the config field" grep -q 'default' "$T/body"
cp "$T/body" "$T/bad-body"
check "no SF namespace after the refused graph" test -z "$(sf_netns)"
check "no OVS port or bridge after the refused graph" oe_graph_gone g51

oe_put g51 "$T/g.json"
case $STATUS in
200|201) pass "deploy SAP -> firewall -> nat -> SAP (native NSFs) ($STATUS)";;
*) fail "deploy: status $STATUS: $BODY"; tail -20 "$CORCH_LOG"; e2e_finish;;
esac
check "two SF namespaces exist" test "$(sf_netns | wc -l)" -eq 2
# Each runs a process (the placeholder) whose pid the status shows.

# Allowed traffic crosses, translated: h2 sees the NAT's outside address.
ip netns exec nv51-h2 timeout 6 tcpdump -lni eth0 -c 1 'icmp[icmptype] = icmp-echo' \
    >"$T/icmp" 2>/dev/null &
dump=$!
sleep 0.5
check "ping inside -> outside crosses firewall and nat" ping_retry nv51-h1 10.51.0.1
wait $dump
check "tcpdump at h2 shows the outside address 10.51.0.2" grep -q '10.51.0.2 > 10.51.0.1' "$T/icmp"
check_not "tcpdump at h2 shows no inside address" grep -q '192.168.51' "$T/icmp"
check "TCP port 80 allowed" oe_tcp_ok nv51-h1 10.51.0.1 80 web
check_not "TCP port 23 blocked by the firewall" oe_tcp_ok nv51-h1 10.51.0.1 23 telnet

# The status shows the SFs running.
api GET /v1/graphs/g51/status
check "status lists the SFs" grep -q '"fw"' "$T/body"

# Update by diff: a second firewall between the first and the nat.  The
# SFs already there keep their PIDs; a ping running across the update
# loses at most one packet.
pids() { python3 -c 'import json,sys; b=json.load(open(sys.argv[1]))
print(" ".join("%s=%s" % (s["id"], s.get("pid")) for s in b["sfs"] if s["id"] in ("fw", "nat")))' "$T/body"; }
pids_before=$(pids)
python3 - "$T/g.json" >"$T/g2.json" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))
s = g["sffg"]
s["SFs"].append({"id": "fw2", "name": "firewall",
                 "config": {"default": "allow", "rules": []},
                 "ports": [{"id": "a", "name": "lan"}, {"id": "b", "name": "wan"}]})
for r in s["flowrules"]:
    if r["id"] == "r3":     # fw:b -> nat:in becomes fw:b -> fw2:a
        r["actions"]["output_to_port"] = "sf:fw2:a"
    if r["id"] == "r4":     # nat:in -> fw:b becomes nat:in -> fw2:b
        r["actions"]["output_to_port"] = "sf:fw2:b"
s["flowrules"] += [
    {"id": "r7", "priority": 10, "match": {"port_in": "sf:fw2:a"},
     "actions": {"output_to_port": "sf:fw:b"}},
    {"id": "r8", "priority": 10, "match": {"port_in": "sf:fw2:b"},
     "actions": {"output_to_port": "sf:nat:in"}}]
print(json.dumps(g))
PY
ip netns exec nv51-h1 ping -n -i 0.1 -c 60 -W 1 10.51.0.1 >"$T/ping-update" 2>&1 &
pinger=$!
sleep 1
api PUT /v1/graphs/g51 "@$T/g2.json"
case $STATUS in 200|201|204) pass "update: second firewall added ($STATUS)";; *) fail "update: status $STATUS: $BODY";; esac
wait $pinger
got=$(grep -c "bytes from" "$T/ping-update")
check "ping across the update lost at most one packet ($((60 - got)) lost)" test "$got" -ge 59
check "three SF namespaces" test "$(sf_netns | wc -l)" -eq 3
check "traffic still crosses both firewalls and the nat" ping_retry nv51-h1 10.51.0.1
api GET /v1/graphs/g51/status
check "fw and nat kept their PIDs ($pids_before)" test "$(pids)" = "$pids_before"
check_not "TCP port 23 still blocked" oe_tcp_ok nv51-h1 10.51.0.1 23 telnet

# Delete: namespaces, veths, processes gone.
api DELETE /v1/graphs/g51
case $STATUS in 200|204) pass "delete ($STATUS)";; *) fail "delete: status $STATUS: $BODY";; esac
check "no SF namespace left" test -z "$(sf_netns)"
check "no graph rows left in OVSDB" oe_graph_gone g51
check_not "no veth of the graph left on the node" sh -c "ip -n nv51-node -o link | grep -v -e nv51-v -e ': lo' -e ovs-netdev -e ': cg' | grep veth"
e2e_finish
