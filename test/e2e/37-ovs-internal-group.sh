#!/bin/bash
# Issue 3: the `internal` SAP (the un-orchestrator's internal end-point) on
# real OVS, real packets.  Graphs naming the same internal group are joined
# through one shared internal-group LSI (a learning bridge, OVSDB
# external_ids corch-role=group, one NORMAL rule) created by the first
# graph that names the group and destroyed with the last one.
#   gA: interface ig37-v1 <-> internal "g1"
#   gB: interface ig37-v2 <-> internal "g1"
#   gC: interface ig37-v3 <-> internal "other"
# Nothing passes before the graphs; gA alone does not join h1 to h2; gA+gB
# do (ping, TCP, both ways); h3 (group "other") reaches neither; exactly
# one bridge carries g1; deleting gA keeps the group LSI (gB still uses it)
# and cuts h1 off; deleting gB removes it; after all deletes nothing of any
# graph is left and OVS is as before.  Then the group is made again (same
# bridge name) and still forwards, and survives a c-orch restart; after the
# restart every rule of the previous run must be gone from LSI-0 (this
# fails today: see the "Known bug" note in the restart section).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-node.sh"
e2e_init ig37
oe_prereq ig37

oe_node ig37-node
oe_host ig37-h1 ig37-node ig37-v1 10.37.0.1/24
oe_host ig37-h2 ig37-node ig37-v2 10.37.0.2/24
oe_host ig37-h3 ig37-node ig37-v3 10.37.0.3/24
oe_corch ig37-node ig37-v1,ig37-v2,ig37-v3

# ping_none NS DEST: nothing comes back (two tries, 1 s deadline each).
ping_none() { ! ip netns exec "$1" ping -c 2 -i 0.3 -W 1 "$2"; }
# group_brs: the internal-group LSIs in OVSDB, sorted.
group_brs() { vsctl --bare --columns=name find Bridge external_ids:corch-role=group | sed '/^$/d' | sort; }
n_group_brs() { group_brs | grep -c . ; }
# group_of GRAPH: the group LSI(s) holding an end of GRAPH's vlinks.
group_of() {
    local p br
    for p in $(vsctl --bare --columns=name find Port external_ids:corch-graph="$1"); do
        br=$(vsctl port-to-br "$p") || continue
        [ "$(vsctl get Bridge "$br" external_ids:corch-role 2>/dev/null | tr -d '"')" = group ] && echo "$br"
    done | sort -u
}
# graphs_on BR: the graphs whose ports are on bridge BR, sorted, one line.
graphs_on() {
    local p
    for p in $(vsctl list-ports "$1"); do
        vsctl get Port "$p" external_ids:corch-graph 2>/dev/null | tr -d '"'
    done | sort | tr '\n' ' ' | sed 's/ $//'
}
eq() { [ "$1" = "$2" ] || { echo "got '$1', expected '$2'"; return 1; }; }
# graph_json ID IFNAME GROUP: interface IFNAME <-> internal GROUP.
graph_json() {
    cat <<JSON
{"sffg": {"id": "$1", "name": "internal group $3",
  "SFs": [],
  "saps": [
    {"id": "s", "type": "interface", "interface": {"if-name": "$2"}},
    {"id": "i", "type": "internal", "internal": {"internal-group": "$3"}}],
  "flowrules": [
    {"id": "r1", "priority": 10, "match": {"port_in": "service-access-point:s"},
     "actions": {"output_to_port": "service-access-point:i"}},
    {"id": "r2", "priority": 10, "match": {"port_in": "service-access-point:i"},
     "actions": {"output_to_port": "service-access-point:s"}}]}}
JSON
}
graph_json gA ig37-v1 g1 >"$T/gA.json"
graph_json gB ig37-v2 g1 >"$T/gB.json"
graph_json gC ig37-v3 other >"$T/gC.json"

# ------------------------------------------------------ before any graph ---
check "LSI-0 exists" test -n "$(oe_lsi0)"
check "no group LSI before any graph" eq "$(n_group_brs)" 0
check "nothing passes before the graphs (h1 -> h2)" ping_none ig37-h1 10.37.0.2
check "nothing passes before the graphs (h2 -> h3)" ping_none ig37-h2 10.37.0.3
oe_snapshot >"$T/before"

# ------------------------------------------------------------- gA alone ---
oe_put gA "$T/gA.json"; expect_status 201 "deploy gA (ig37-v1 <-> internal g1)"
api GET /v1/graphs/gA/status; expect_status 200 "gA status"
check "gA running" grep -q '"running"' "$T/body"
check "one group LSI with gA" eq "$(n_group_brs)" 1
G1=$(group_brs | head -1)
e2e_log "group LSI of g1: ${G1:-none}"
G1_UUID=$(vsctl get Bridge "${G1:-none}" _uuid 2>/dev/null)
check "gA's internal SAP is linked to that LSI" eq "$(group_of gA)" "$G1"
check "the group LSI holds gA's link only" eq "$(graphs_on "$G1")" "gA"
check "group LSI is fail_mode=secure" eq "$(vsctl get Bridge "$G1" fail_mode)" secure
check_not "no controller on the group LSI" bash -c "ovs-vsctl --db=$OVSDB get-controller $G1 | grep ."
check "group LSI learns: one NORMAL rule" bash -c \
    "[ \"\$(ovs-ofctl -O OpenFlow13 dump-flows unix:$OVS_DIR/$G1.mgmt --no-stats | grep -v reply | grep -c .)\" = 1 ] &&
     ovs-ofctl -O OpenFlow13 dump-flows unix:$OVS_DIR/$G1.mgmt | grep -q 'actions=NORMAL'"
check "with gA alone h1 cannot reach h2" ping_none ig37-h1 10.37.0.2
check "with gA alone h2 cannot reach h1" ping_none ig37-h2 10.37.0.1

# -------------------------------------------------------------- gA + gB ---
oe_put gB "$T/gB.json"; expect_status 201 "deploy gB (ig37-v2 <-> internal g1)"
check "still one group LSI with gA + gB" eq "$(n_group_brs)" 1
check "gB joins the same group LSI (not a new one)" eq "$(group_of gB)" "$G1"
check "same OVSDB row as before gB" eq "$(vsctl get Bridge "$G1" _uuid 2>/dev/null)" "$G1_UUID"
check "the group LSI holds the links of gA and gB" eq "$(graphs_on "$G1")" "gA gB"
check "ping h1 -> h2 through group g1" ping_retry ig37-h1 10.37.0.2
check "ping h2 -> h1 through group g1" ping_ok ig37-h2 10.37.0.1
oe_tag_server ig37-h2 8037 from-h2
oe_tag_server ig37-h1 8037 from-h1
oe_tag_server ig37-h3 8037 from-h3
check "TCP h1 -> h2" oe_tcp_ok ig37-h1 10.37.0.2 8037 from-h2
check "TCP h2 -> h1" oe_tcp_ok ig37-h2 10.37.0.1 8037 from-h1
check "the group LSI's NORMAL rule carried the packets" bash -c \
    "ovs-ofctl -O OpenFlow13 dump-flows unix:$OVS_DIR/$G1.mgmt | grep -q 'n_packets=[1-9]'"
check "the group LSI learned both hosts' MACs" bash -c \
    "[ \"\$(ovs-appctl -t $OVS_DIR/ovs-vswitchd.ctl fdb/show $G1 | tail -n +2 | grep -c .)\" -ge 2 ]"

# --------------------------------------------------- gC in another group ---
oe_put gC "$T/gC.json"; expect_status 201 "deploy gC (ig37-v3 <-> internal other)"
check "two group LSIs with group 'other'" eq "$(n_group_brs)" 2
GO=$(group_of gC)
check "gC has a group LSI of its own" bash -c "[ -n '$GO' ] && [ '$GO' != '$G1' ]"
check "the 'other' LSI holds gC's link only" eq "$(graphs_on "${GO:-none}")" "gC"
check "exactly one bridge carries g1 (gA, gB)" eq \
    "$(for b in $(group_brs); do [ "$(graphs_on "$b")" = "gA gB" ] && echo "$b"; done)" "$G1"
check "h3 cannot reach h1" ping_none ig37-h3 10.37.0.1
check "h3 cannot reach h2" ping_none ig37-h3 10.37.0.2
check "h1 cannot reach h3" ping_none ig37-h1 10.37.0.3
check_not "TCP h3 -> h1 gets nothing" bash -c \
    "ip netns exec ig37-h3 timeout 4 nc -w 2 10.37.0.1 8037 </dev/null | grep -q from-h1"
check_not "h3 never resolved h1's MAC (no broadcast crossed groups)" bash -c \
    "ip -n ig37-h3 neigh show 10.37.0.1 | grep -qE 'REACHABLE|STALE|DELAY|PROBE|PERMANENT'"
check "h1 <-> h2 still pass beside gC" ping_ok ig37-h1 10.37.0.2

# ----------------------------------------------------------- delete gA ---
api DELETE /v1/graphs/gA; expect_status 204 "delete gA"
check "group LSI kept while gB uses it" eq "$(vsctl get Bridge "$G1" _uuid 2>/dev/null)" "$G1_UUID"
check "the group LSI holds gB's link only" eq "$(graphs_on "$G1")" "gB"
check "no OVSDB row of gA left" oe_graph_gone gA
check "h1 is cut off (h1 -> h2)" ping_none ig37-h1 10.37.0.2
check "h1 is cut off (h2 -> h1)" ping_none ig37-h2 10.37.0.1
api GET /v1/graphs/gA; expect_status 404 "gA gone from the API"
# gB's link still works: gA back, on the same group LSI, traffic again.
oe_put gA "$T/gA.json"; expect_status 201 "redeploy gA while gB holds the group"
check "gA back on the same group LSI" eq "$(group_of gA)" "$G1"
check "same OVSDB row (group LSI not recreated)" eq "$(vsctl get Bridge "$G1" _uuid 2>/dev/null)" "$G1_UUID"
check "ping h1 -> h2 again" ping_retry ig37-h1 10.37.0.2
api DELETE /v1/graphs/gA; expect_status 204 "delete gA again"
check "h1 cut off again" ping_none ig37-h1 10.37.0.2

# ----------------------------------------------------------- delete gB ---
api DELETE /v1/graphs/gB; expect_status 204 "delete gB"
check_not "group LSI of g1 removed with its last graph" vsctl br-exists "$G1"
check "only the 'other' group LSI left" eq "$(group_brs)" "$GO"
check "no OVSDB row of gB left" oe_graph_gone gB
check "no OVSDB row of gA left" oe_graph_gone gA
check "nothing passes h2 -> h1" ping_none ig37-h2 10.37.0.1

# ----------------------------------------------------------- delete gC ---
api DELETE /v1/graphs/gC; expect_status 204 "delete gC"
check "no group LSI left" eq "$(n_group_brs)" 0
for g in gA gB gC; do check "no OVSDB row of $g left" oe_graph_gone $g; done
oe_snapshot >"$T/after"
check "OVS bridges, ports, flows as before the graphs" oe_same "$T/before" "$T/after"
check "nothing passes after the deletes (h1 -> h2)" ping_none ig37-h1 10.37.0.2
check "c-orch logged g1 created and destroyed once each" bash -c \
    "[ \"\$(grep -c 'internal group g1: LSI .* created' '$CORCH_LOG')\" = 1 ] &&
     [ \"\$(grep -c 'internal group g1: LSI .* destroyed' '$CORCH_LOG')\" = 1 ]"

# ------------------------ the group again: same bridge name, made anew ---
oe_put gB "$T/gB.json"; expect_status 201 "deploy gB again (g1 made anew)"
oe_put gA "$T/gA.json"; expect_status 201 "deploy gA again"
check "g1's LSI has its name again" eq "$(group_of gA)" "$G1"
check "a new OVSDB row" bash -c "[ \"\$(ovs-vsctl --db=$OVSDB get Bridge $G1 _uuid)\" != '$G1_UUID' ]"
check "ping h1 -> h2 through the new group LSI" ping_retry ig37-h1 10.37.0.2
check "ping h2 -> h1 through the new group LSI" ping_ok ig37-h2 10.37.0.1

# ---------------------------------- restart with the groups in use ---
# The switch keeps forwarding while c-orch is down; the new c-orch finds
# the graphs and their groups again: g1 still joins h1 and h2, "other"
# still keeps h3 out, and deleting still removes every trace.
oe_put gC "$T/gC.json"; expect_status 201 "deploy gC again"
L0=$(oe_lsi0)
n_lsi0_rules() { ofctl dump-flows "$L0" --no-stats | grep -v reply | grep -c .; }
# lsi0_stale_rules: LSI-0 rules whose in_port is no port of LSI-0 (left
# by an earlier run for a port that came back with another number).
lsi0_stale_rules() {
    local ofports p bad
    ofports=" $(for p in $(vsctl list-ports "$L0"); do vsctl get Interface "$p" ofport; done | tr '\n' ' ') "
    bad=$(ofctl dump-flows "$L0" --no-stats | grep -o 'in_port=[0-9]*' | cut -d= -f2 |
          while read -r p; do case $ofports in *" $p "*) ;; *) echo "$p";; esac; done)
    [ -z "$bad" ] || { echo "rules on LSI-0 with in_port of no port: $bad"; ofctl dump-flows "$L0" --no-stats; return 1; }
}
N_LSI0=$(n_lsi0_rules)
check "c-orch stops cleanly (SIGTERM)" corch_stop
check "g1 still forwards while c-orch is down" ping_ok ig37-h1 10.37.0.2
oe_corch ig37-node ig37-v1,ig37-v2,ig37-v3
for g in gA gB gC; do
    api GET /v1/graphs/$g/status; expect_status 200 "$g known after restart"
    check "$g running after restart" grep -q '"running"' "$T/body"
done
check "two group LSIs after restart" eq "$(n_group_brs)" 2
# Known bug (seen here in most runs): a graph's vlink end on LSI-0 can come
# back with another OpenFlow port number; the previous run's LSI-0 rule for
# the old number is never removed (the redeploy adds, nothing deletes by
# cookie), and it outlives the graph's DELETE.
check "as many LSI-0 rules as before the restart" eq "$(n_lsi0_rules)" "$N_LSI0"
check "no LSI-0 rule of the previous run left (stale in_port)" lsi0_stale_rules
check "gA and gB share g1's LSI after restart" eq "$(group_of gA) $(group_of gB)" "$G1 $G1"
check "g1's LSI holds the links of gA and gB" eq "$(graphs_on "$G1")" "gA gB"
check "the 'other' LSI holds gC's link only" eq "$(graphs_on "$(group_of gC)")" "gC"
check "ping h1 -> h2 after restart" ping_retry ig37-h1 10.37.0.2
check "ping h2 -> h1 after restart" ping_ok ig37-h2 10.37.0.1
check "h3 cannot reach h1 after restart" ping_none ig37-h3 10.37.0.1
api DELETE /v1/graphs/gC; expect_status 204 "delete gC after restart"
api DELETE /v1/graphs/gB; expect_status 204 "delete gB (gA holds the group)"
check "group LSI kept for gA" vsctl br-exists "$G1"
api DELETE /v1/graphs/gA; expect_status 204 "delete gA (last of g1)"
check "no group LSI left at the end" eq "$(n_group_brs)" 0
for g in gA gB gC; do check "no OVSDB row of $g left at the end" oe_graph_gone $g; done
oe_snapshot >"$T/after2"
check "OVS as before the graphs, at the end" oe_same "$T/before" "$T/after2"
e2e_finish
