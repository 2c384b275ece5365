#!/usr/bin/env bash
# The un-orchestrator compatibility API with the five real NF-FG graphs of
# test/data/unorchestrator-nffg/: each is POSTed to /NF-FG/ (and
# PUT to /NF-FG/{id}), read back in both formats, and the SF-FG that
# GET /v1/graphs/{id} returns must mean the same as the NF-FG posted.
# "Same meaning" is checked by an independent reference translation
# (meaning() below), not by the daemon's own code.
. "$(dirname "$0")/lib.sh"
e2e_init rest-compat

DATA=${NFFG_DATA:-$E2E_TOP/test/data/unorchestrator-nffg}
GRAPHS=("$DATA"/*.json)
[ ${#GRAPHS[@]} -eq 5 ] || { fail "expected 5 graphs in $DATA, found ${#GRAPHS[@]}"; }

# A private repository with a dummy template for every VNF name used, with
# as many ports as the largest VNF of that name, and the interfaces named
# by the graphs for LSI-0.
mkdir -p "$T/repo/templates"
IFACES=$(python3 - "$T/repo/templates" "${GRAPHS[@]}" <<'EOF'
import json, sys
out, files = sys.argv[1], sys.argv[2:]
caps, named, ifs = {}, {}, set()
for f in files:
    fg = json.load(open(f))["forwarding-graph"]
    for v in fg.get("VNFs", []):
        n = len(v.get("ports", []))
        caps[v["name"]] = max(caps.get(v["name"], 0), n)
        if "vnf_template" in v:     # the un-orchestrator's template names
            named[v["vnf_template"]] = (v["name"], max(named.get(v["vnf_template"], ("", 0))[1], n))
    for e in fg.get("end-points", []):
        for k in ("interface", "vlan"):
            if k in e and "if-name" in e[k]:
                ifs.add(e[k]["if-name"])
for i, (cap, n) in enumerate(sorted(caps.items())):
    t = {"id": "compat-%d" % i, "functional-capability": cap, "engine": "dummy",
         "ports": [{"name": "eth%d" % p} for p in range(max(n, 1))]}
    json.dump(t, open("%s/compat-%d.json" % (out, i), "w"))
for i, (tid, (cap, n)) in enumerate(sorted(named.items())):
    t = {"id": tid, "functional-capability": cap, "engine": "dummy",
         "ports": [{"name": "eth%d" % p} for p in range(max(n, 1))]}
    json.dump(t, open("%s/named-%d.json" % (out, i), "w"))
print(",".join(sorted(ifs)))
EOF
)
corch_start --set repository.path="$T/repo" ${IFACES:+--set vswitch.interfaces="$IFACES"} \
    || { fail "daemon start"; e2e_finish; }
corch_login

# meaning.py NFFG SFFG: exits 0 if the SF-FG means what the NF-FG means.
cat >"$T/meaning.py" <<'EOF'
import ipaddress, json, sys

def num(v):
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return v
    if isinstance(v, str):
        try:
            return int(v, 0)
        except ValueError:
            pass
        try:
            return str(ipaddress.ip_interface(v))
        except ValueError:
            return v.lower()
    return v

def ref(s, nffg):
    # "endpoint:X" / "vnf:V:P" and "service-access-point:X" / "sf:V:P".
    kind, _, rest = s.partition(":")
    if kind in ("endpoint", "service-access-point"):
        return ("sap", rest)
    if kind in ("vnf", "sf"):
        v, _, p = rest.partition(":")
        return ("sf", v, p)
    raise ValueError("bad port reference " + s)

RENAME = {"icmpv4_type": "icmp_type", "icmpv4_code": "icmp_code",
          "icmpv6_type": "icmp_type", "icmpv6_code": "icmp_code",
          "set_ethernet_src_address": "set_source_mac",
          "set_ethernet_dst_address": "set_dest_mac",
          "set_ip_src_address": "set_source_ip", "set_ip_dst_address": "set_dest_ip"}
SAP_FIELDS = {"interface": ["if-name"], "vlan": ["vlan-id", "if-name"],
              "gre": ["local-ip", "remote-ip", "gre-key"],
              "host-stack": ["configuration", "ipv4"], "internal": ["internal-group"]}

def sap(e, nffg):
    t = e["type"]
    if t == "gre-tunnel":
        t = "gre"
    body = e.get(t) or e.get(e["type"]) or {}
    if "IPv4" in body:
        body = dict(body, ipv4=body["IPv4"])
    return (t,) + tuple(num(body.get(k)) for k in SAP_FIELDS.get(t, []))

def rule(r, nffg):
    m = {RENAME.get(k, k): num(v) for k, v in r.get("match", {}).items() if k != "port_in"}
    acts = r.get("actions", [])
    if isinstance(acts, dict):
        acts = [{k: v} for k, v in acts.items()]
    outs, mods = [], {}
    for a in acts:
        for k, v in a.items():
            k = RENAME.get(k, k)
            if k == "output_to_port":
                for o in (v if isinstance(v, list) else [v]):
                    outs.append(ref(o, nffg))
            elif k == "drop" and v in (False, None):
                pass
            else:
                mods[k] = num(v) if not isinstance(v, (dict, list)) else json.dumps(v, sort_keys=True)
    return (r.get("priority", 1), ref(r["match"]["port_in"], nffg), tuple(sorted(m.items())),
            tuple(outs), tuple(sorted(mods.items())))

def meaning(doc):
    if "forwarding-graph" in doc:
        g, nffg = doc["forwarding-graph"], True
        sfs, saps, rules = g.get("VNFs", []), g.get("end-points", []), g.get("big-switch", {}).get("flow-rules", [])
    else:
        g, nffg = doc["sffg"], False
        sfs, saps, rules = g.get("SFs", []), g.get("saps", []), g.get("flowrules", [])
    return {
        "sfs": {s["id"]: (s["name"], tuple(sorted(p["id"] for p in s.get("ports", []))))
                for s in sfs},
        "saps": {e["id"]: sap(e, nffg) for e in saps},
        "rules": {r["id"]: rule(r, nffg) for r in rules},
    }

a, b = meaning(json.load(open(sys.argv[1]))), meaning(json.load(open(sys.argv[2])))
ok = True
for part in ("sfs", "saps", "rules"):
    for k in sorted(set(a[part]) | set(b[part])):
        if a[part].get(k) != b[part].get(k):
            print("%s %s: NF-FG %r, SF-FG %r" % (part, k, a[part].get(k), b[part].get(k)))
            ok = False
sys.exit(0 if ok else 1)
EOF

n=0
for f in "${GRAPHS[@]}"; do
    name=$(basename "$f" .json)
    n=$((n + 1))
    api POST /NF-FG/ @"$f"; expect_status 201 "$name: POST /NF-FG/"
    id=$(jq_body 'b["nffg-uuid"]' 2>/dev/null)
    check "$name: nffg-uuid is a UUID" python3 -c "import uuid,sys; uuid.UUID('$id')"
    api GET "/NF-FG/status/$id"; expect_status 200 "$name: status"
    check "$name: status complete, 100%" \
        test "$(jq_body 'b["status"], b["percentage_completed"]')" = "complete 100"
    api GET "/NF-FG/$id"; expect_status 200 "$name: GET /NF-FG/{id}"
    cp "$T/body" "$T/$name.back.json"
    check "$name: read back as NF-FG means the same" python3 "$T/meaning.py" "$f" "$T/$name.back.json"
    api GET "/v1/graphs/$id"; expect_status 200 "$name: GET /v1/graphs/{id}"
    cp "$T/body" "$T/$name.sffg.json"
    check "$name: the SF-FG means the same as the NF-FG" python3 "$T/meaning.py" "$f" "$T/$name.sffg.json"
    check "$name: the SF-FG carries the URL id" test "$(jq_body 'b["sffg"]["id"]')" = "$id"
    api GET /NF-FG; expect_status 200 "$name: GET /NF-FG"
    check "$name: listed in NF-FG format" test "$(jq_body 'len(b["NF-FG"])')" = 1
    api DELETE "/NF-FG/$id"; expect_status 204 "$name: DELETE /NF-FG/{id}"
    api GET "/NF-FG/$id"; expect_status 404 "$name: gone"

    # PUT with a chosen id: created, then the same again (an update), 202 both.
    api PUT "/NF-FG/compat-$n" @"$f"; expect_status 202 "$name: PUT /NF-FG/compat-$n"
    api PUT "/NF-FG/compat-$n" @"$f"; expect_status 202 "$name: PUT again (update)"
    api GET "/v1/graphs/compat-$n"
    check "$name: PUT graph means the same" python3 "$T/meaning.py" "$f" "$T/body"
    api GET "/v1/graphs/compat-$n/status"
    check "$name: v1 status running" test "$(jq_body 'b["status"]')" = running
    api DELETE "/NF-FG/compat-$n"; expect_status 204 "$name: DELETE"
done

# Errors through the compatibility API use the same codes, with NF-FG paths.
api POST /NF-FG/ '{"forwarding-graph": {"end-points": [], "big-switch": {"flow-rules": [{"id": "1", "match": {"port_in": "endpoint:nope"}, "actions": [{"output_to_port": "endpoint:nope"}]}]}}}'
expect_status 400 "dangling end-point"
check "error path is an NF-FG path" sh -c "python3 -c \"import json; print(json.load(open('$T/body'))['error']['path'])\" | grep -q '^forwarding-graph'"
api POST /NF-FG/ 'not json'; expect_status 400 "bad JSON"
api GET /NF-FG/status/none; expect_status 404 "status of an unknown graph"
api DELETE /NF-FG/none; expect_status 404 "delete an unknown graph"
api GET /NF-FG/.bad; expect_status 400 "invalid id"
TOKEN=
api GET /NF-FG; expect_status 401 "no token"
api POST /login "{\"username\":\"admin\",\"password\":\"$CORCH_ADMIN_PW\"}"; expect_status 200 "POST /login (un-orchestrator)"
check "/login gives a token" test -n "$(jq_body 'b["token"]')"
corch_stop; check "clean stop" test $? = 0
e2e_finish
