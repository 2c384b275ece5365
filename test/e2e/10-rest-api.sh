#!/usr/bin/env bash
# The REST API v1 end to end, against the real daemon (dummy drivers):
# login, users, graph CRUD, list, status, node, every error code, limits,
# garbage input, and a clean SIGTERM.
. "$(dirname "$0")/lib.sh"
e2e_init rest-api

# A private SF repository: templates for the dummy engine.
mkdir -p "$T/repo/templates"
for cap in firewall nat; do
    cat >"$T/repo/templates/$cap-dummy.json" <<EOF
{"id": "$cap-dummy", "functional-capability": "$cap", "engine": "dummy",
 "ports": [{"name": "eth0"}, {"name": "eth1"}]}
EOF
done

corch_start --set repository.path="$T/repo" --set limits.max_body_bytes=65536 \
    --set limits.max_sfs=4 --set limits.max_json_depth=20 \
    --set vswitch.interfaces=rst-if0,rst-if1 || { fail "daemon start"; e2e_finish; }

# hdr_of METHOD PATH: the response headers of a call with $TOKEN.
hdr_of() { curl -sS -o /dev/null -D - -X "$1" -H "Authorization: Bearer ${TOKEN:-}" "$CORCH_URL$2"; }
# err_is CODE [PATH]: the last body is an error with that code (and path).
err_is() {
    local code path
    code=$(jq_body 'b["error"]["code"]' 2>/dev/null)
    path=$(jq_body 'b["error"]["path"]' 2>/dev/null)
    [ "$code" = "$1" ] || { echo "code $code, expected $1: $BODY"; return 1; }
    [ $# -lt 2 ] || [ "$path" = "$2" ] || { echo "path $path, expected $2"; return 1; }
}

graph() {   # graph ID [SF capability]: an SF-FG with one SF and two SAPs
    local id=$1 cap=${2:-firewall}
    cat <<EOF
{"sffg": {"id": "$id", "name": "e2e graph $id",
  "SFs": [{"id": "fw", "name": "$cap", "ports": [{"id": "in"}, {"id": "out"}]}],
  "saps": [{"id": "lan", "type": "interface", "interface": {"if-name": "rst-if0"}},
           {"id": "wan", "type": "vlan", "vlan": {"vlan-id": "0x0a", "if-name": "rst-if1"}}],
  "flowrules": [
    {"id": "r1", "priority": 10, "match": {"port_in": "service-access-point:lan"},
     "actions": {"output_to_port": "sf:fw:in"}},
    {"id": "r2", "priority": 10, "match": {"port_in": "sf:fw:in"},
     "actions": {"output_to_port": "service-access-point:lan"}},
    {"id": "r3", "priority": 10, "match": {"port_in": "sf:fw:out", "ether_type": "0x0800",
     "protocol": 6, "dest_port": 80}, "actions": {"output_to_port": "service-access-point:wan"}},
    {"id": "r4", "priority": 10, "match": {"port_in": "service-access-point:wan"},
     "actions": {"output_to_port": "sf:fw:out"}}]}}
EOF
}

# ------------------------------------------------------------- health ---
TOKEN=
api GET /healthz; expect_status 200 "healthz without a token"
check "healthz says ok" test "$(jq_body 'b["status"]')" = ok

# -------------------------------------------------------------- login ---
api POST /v1/login '{"username":"admin","password":"wrong"}'
expect_status 401 "login with a bad password"
check "bad login: unauthenticated" err_is unauthenticated
api POST /v1/login '{"username":"admin"'; expect_status 400 "login with bad JSON"
api POST /v1/login '{"username":"admin"}'; expect_status 400 "login without password"
check "missing password: path names it" err_is invalid-request password
corch_login
check "login gives a token" test -n "$TOKEN"
api POST /v1/login "{\"username\":\"admin\",\"password\":\"$CORCH_ADMIN_PW\"}"
check "login gives an expiry in the future" \
    python3 -c "import sys,time; sys.exit(0 if $(jq_body 'b["expires"]') > time.time() else 1)"
ADMIN=$TOKEN

# -------------------------------------------------------------- users ---
api PUT /v1/users/op1 '{"password":"op1-secret-pw","role":"operator"}'; expect_status 201 "create operator op1"
api PUT /v1/users/op2 '{"password":"op2-secret-pw","role":"operator"}'; expect_status 201 "create operator op2"
api PUT /v1/users/view '{"password":"view-secret-pw","role":"viewer"}'; expect_status 201 "create viewer"
api PUT /v1/users/view '{"role":"viewer"}'; expect_status 200 "update viewer"
api PUT /v1/users/bad '{"password":"x-secret-pw","role":"king"}'; expect_status 400 "bad role"
check "bad role: path role" err_is invalid-request role
api GET /v1/users; expect_status 200 "list users"
check "user list has op1 as operator" \
    test "$(jq_body '[u["role"] for u in b["users"] if u["name"]=="op1"][0]')" = operator
api DELETE /v1/users/admin; expect_status 409 "the last admin cannot be deleted"
api DELETE /v1/users/nobody; expect_status 404 "delete an unknown user"
corch_login op1 op1-secret-pw; OP1=$TOKEN
corch_login op2 op2-secret-pw; OP2=$TOKEN
corch_login view view-secret-pw; VIEW=$TOKEN
TOKEN=$OP1; api GET /v1/users; expect_status 403 "operator may not list users"
TOKEN=$VIEW; api PUT /v1/users/x '{"password":"xx-secret-pw","role":"admin"}'; expect_status 403 "viewer may not create users"

# ------------------------------------------------------------- graphs ---
TOKEN=$OP1
api PUT /v1/graphs/g1 "$(graph g1)"; expect_status 201 "operator creates g1"
check "PUT answers the status" test "$(jq_body 'b["id"]')" = g1
check "g1 is running" test "$(jq_body 'b["status"]')" = running
api PUT /v1/graphs/g1 "$(graph g1)"; expect_status 200 "same graph again: update"
api GET /v1/graphs/g1; expect_status 200 "read g1"
check "g1 normalised: vlan id as a number" test "$(jq_body '[s for s in b["sffg"]["saps"] if s["id"]=="wan"][0]["vlan"]["vlan-id"]')" = 10
check "g1 has its 4 rules" test "$(jq_body 'len(b["sffg"]["flowrules"])')" = 4
api GET /v1/graphs/g1/status; expect_status 200 "status of g1"
check "status lists the SF" test "$(jq_body 'b["sfs"][0]["id"]')" = fw
api GET /v1/graphs; expect_status 200 "list"
check "list has g1 with its name and status" \
    test "$(jq_body '[(g["name"],g["status"]) for g in b["graphs"] if g["id"]=="g1"][0]')" = "('e2e graph g1', 'running')"
TOKEN=$OP2
api GET /v1/graphs; check "op2 does not see g1 in its list" test "$(jq_body 'len(b["graphs"])')" = 0
api GET /v1/graphs/g1; expect_status 403 "op2 may not read g1"
api PUT /v1/graphs/g1 "$(graph g1)"; expect_status 403 "op2 may not update g1"
api DELETE /v1/graphs/g1; expect_status 403 "op2 may not delete g1"
TOKEN=$VIEW
api GET /v1/graphs/g1; expect_status 200 "viewer reads g1"
api PUT /v1/graphs/g2 "$(graph g2)"; expect_status 403 "viewer may not create"
api DELETE /v1/graphs/g1; expect_status 403 "viewer may not delete"
TOKEN=$ADMIN
api GET /v1/graphs; check "admin sees g1" test "$(jq_body 'len(b["graphs"])')" = 1
# A user that owns graphs stays (issue 16, point 5): a new "op1" would
# inherit g1.
api DELETE /v1/users/op1; expect_status 409 "op1 owns g1: not deleted"
check "the 409 says how many graphs" grep -q 'owns 1 graph' "$T/body"
TOKEN=$OP1; api GET /v1/graphs/g1; expect_status 200 "op1 and its token still there"
# Two rules with one port_in, match and priority (issue 16, point 9):
# OpenFlow would keep one of them.
graph dup | python3 -c 'import json, sys; g = json.load(sys.stdin)
g["sffg"]["flowrules"][3]["match"]["port_in"] = "service-access-point:lan"
print(json.dumps(g))' >"$T/dup.json"
api PUT /v1/graphs/dup @"$T/dup.json"; expect_status 400 "r4 repeats the port_in, match and priority of r1"
check "the error names the second rule" err_is invalid-graph 'sffg.flowrules[3].match'
TOKEN=$ADMIN
api GET /v1/node; expect_status 200 "node description"
check "node description is an object" test "$(jq_body 'type(b).__name__')" = dict

# ------------------------------------------------------------- errors ---
TOKEN=
api GET /v1/graphs; expect_status 401 "no token"
check "401 names the code" err_is unauthenticated
check "401 carries WWW-Authenticate" sh -c "curl -sSi '$CORCH_URL/v1/graphs' | grep -qi '^WWW-Authenticate: Bearer'"
TOKEN=0123456789abcdef0123456789abcdef
api GET /v1/graphs; expect_status 401 "bad token"
check "X-Auth-Token works" test "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $ADMIN" "$CORCH_URL/v1/graphs")" = 200
TOKEN=$ADMIN
api GET /v1/graphs/none; expect_status 404 "unknown graph"
check "404 code" err_is not-found
api DELETE /v1/graphs/none; expect_status 404 "delete unknown graph"
api GET /v1/nowhere; expect_status 404 "unknown route"
api POST /v1/graphs '{}'; expect_status 405 "POST on the collection"
check "405 code" err_is method-not-allowed
check "405 has Allow" sh -c "curl -sSi -X POST -H 'Authorization: Bearer $ADMIN' '$CORCH_URL/v1/graphs' | grep -qi '^Allow: GET, HEAD'"
api PATCH /v1/graphs/g1 '{}'; expect_status 405 "PATCH"
api PUT /v1/graphs/g9 "$(graph g1)"; expect_status 409 "URL id differs from the body's"
check "409 names sffg.id" err_is conflict sffg.id
api PUT /v1/graphs/.bad "$(graph .bad)"; expect_status 400 "invalid id in the URL"
api PUT /v1/graphs/g3 '{"sffg": {"id": "g3", "saps": [{"id": "x", "type": "vlan", "vlan": {"vlan-id": 5000, "if-name": "rst-if0"}}], "flowrules": []}}'
expect_status 400 "VLAN out of range"
check "400 names the field" err_is invalid-graph 'sffg.saps[0].vlan.vlan-id'
api PUT /v1/graphs/g3 '{"sffg": {"id": "g3", "SFs": [], "saps": [], "flowrules": [{"id": "r", "match": {"port_in": "sf:nope:p"}, "actions": {"drop": true}}]}}'
expect_status 400 "dangling reference"
check "path names port_in" err_is invalid-graph 'sffg.flowrules[0].match.port_in'
api PUT /v1/graphs/g3 '{"sffg": '; expect_status 400 "truncated JSON"
check "bad JSON is invalid-graph" err_is invalid-graph
api PUT /v1/graphs/g4 '{"sffg": {"id": "g4", "SFs": [{"id": "f", "name": "firewall", "template": "teleporter", "ports": []}], "saps": [], "flowrules": []}}'
expect_status 409 "a template that does not exist"
check "unresolvable, path names the template" err_is unresolvable 'sffg.SFs[0].template'
# g1 holds rst-if0 without a distinguishing match: another graph may not.
api PUT /v1/graphs/g6 "$(graph g6)"; expect_status 409 "interface SAP already claimed by g1"
check "SAP conflict: conflict" err_is conflict

# -------------------------------------------------------------- limits ---
head -c 70000 /dev/zero | tr '\0' ' ' >"$T/big.json"
api PUT /v1/graphs/big @"$T/big.json"; expect_status 413 "body over limits.max_body_bytes"
check "413 code" err_is too-large
STATUS=$(curl -sS -o "$T/body" -w '%{http_code}' -X PUT -H "Authorization: Bearer $ADMIN" \
    -H 'Transfer-Encoding: chunked' --data-binary @"$T/big.json" "$CORCH_URL/v1/graphs/big")
expect_status 413 "chunked body over the limit"
python3 - >"$T/sfs.json" <<'EOF'
import json
sfs = [{"id": "f%d" % i, "name": "firewall", "ports": []} for i in range(5)]
print(json.dumps({"sffg": {"id": "many", "SFs": sfs, "saps": [], "flowrules": []}}))
EOF
api PUT /v1/graphs/many @"$T/sfs.json"; expect_status 413 "more SFs than limits.max_sfs"
check "too-large names SFs" sh -c "python3 -c \"import json; print(json.load(open('$T/body'))['error']['path'])\" | grep -q SFs"
python3 -c 'print("{\"sffg\":" + "[" * 50 + "]" * 50 + "}")' >"$T/deep.json"
api PUT /v1/graphs/deep @"$T/deep.json"; expect_status 400 "JSON deeper than limits.max_json_depth"

# ------------------------------------------------------------- garbage ---
head -c 4096 /dev/urandom >"$T/random.bin"
for p in /v1/graphs/junk /NF-FG/junk /v1/users/junk; do
    api PUT "$p" @"$T/random.bin"; check "binary body on PUT $p: 4xx" test "${STATUS:0:1}" = 4
done
api POST /v1/login @"$T/random.bin"; expect_status 400 "binary login"
api POST /NF-FG/ @"$T/random.bin"; expect_status 400 "binary NF-FG"
printf '{"sffg":{"id":"nul\0"}}' >"$T/nul.json"
api PUT /v1/graphs/nul @"$T/nul.json"; expect_status 400 "NUL byte in the body"
# Strings (issue 16, point 8): bad UTF-8 or \u0000 anywhere, member names
# included, on both APIs: 400 naming the string; nothing reaches the node
# description, which stays strict JSON.
printf '{"sffg":{"id":"utf","name":"a\377\376"}}' >"$T/utf1.json"
api PUT /v1/graphs/utf @"$T/utf1.json"; expect_status 400 "graph name with bytes ff fe"
check "ff fe: path sffg.name" err_is invalid-graph sffg.name
printf '{"sffg":{"id":"utf","name\\u0000x":"n"}}' >"$T/utf2.json"
api PUT /v1/graphs/utf @"$T/utf2.json"; expect_status 400 "\\u0000 in a member name"
check "\\u0000 key: path names it" err_is invalid-graph 'sffg.name\u0000x'
printf '{"forwarding-graph":{"id":"utf","name":"a\\u0000"}}' >"$T/utf3.json"
api PUT /NF-FG/utf @"$T/utf3.json"; expect_status 400 "NF-FG: \\u0000 in the name"
check "NF-FG \\u0000: path forwarding-graph.name" err_is invalid-graph forwarding-graph.name
api GET /v1/graphs/utf; expect_status 404 "no graph utf was stored"
api GET /v1/node
check "GET /v1/node is strict UTF-8 JSON" python3 -c "import json; json.loads(open('$T/body','rb').read().decode('utf-8','strict'))"
LONG=$(head -c 20000 /dev/zero | tr '\0' a)
STATUS=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ADMIN" "$CORCH_URL/v1/graphs/$LONG")
check "20 kB URL refused" test "$STATUS" = 414 -o "$STATUS" = 400 -o "$STATUS" = 431
STATUS=$(curl -sS -o /dev/null -w '%{http_code}' -X FOO "$CORCH_URL/v1/graphs")
check "unknown method: 405 or 401" test "$STATUS" = 405 -o "$STATUS" = 401
# Raw junk on the socket, and a connection that goes away mid-body.
python3 - "$CORCH_PORT" <<'EOF'
import socket, sys, os
port = int(sys.argv[1])
for junk in [os.urandom(2000), b"GET / HTTP/9.9\r\n\r\n", b"\r\n\r\n\r\n",
             b"PUT /v1/graphs/x HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n{"]:
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(junk)
    s.settimeout(1)
    try:
        s.recv(1000)
    except OSError:
        pass
    s.close()
EOF
check "daemon alive after the garbage" kill -0 "$CORCH_PID"
api GET /healthz; expect_status 200 "healthz after the garbage"

# ------------------------------------------------------------- delete ---
TOKEN=$OP1
api DELETE /v1/graphs/g1; expect_status 204 "owner deletes g1"
api GET /v1/graphs/g1; expect_status 404 "g1 is gone"
api PUT /v1/graphs/g6 "$(graph g6)"; expect_status 201 "rst-if0 is free again"

# -------------------------------------------------------- access log ---
check "access log has method, path, status, user" grep -q 'PUT /v1/graphs/g6 201 user=op1' "$CORCH_LOG"
check "tokens never logged" sh -c "! grep -qF '$ADMIN' '$CORCH_LOG'"
check "passwords never logged" sh -c "! grep -qF 'op1-secret-pw' '$CORCH_LOG'"

# -------------------------------------------------------------- SIGTERM ---
# A request in flight when SIGTERM arrives still gets its answer: its
# headers and half its body are sent, then SIGTERM, then the rest.
TOKEN=$OP1; api DELETE /v1/graphs/g6; expect_status 204 "delete g6"
graph g7 nat >"$T/g7.json"
python3 - "$CORCH_PORT" "$ADMIN" "$T/g7.json" "$T/sigterm" >"$T/late.status" 2>&1 <<'EOF2' &
import os, socket, sys, time
port, token, path, flag = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
body = open(path, "rb").read()
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"PUT /v1/graphs/g7 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token.encode()
          + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body[:10])
open(flag + ".ready", "w").close()
for _ in range(100):
    if os.path.exists(flag):
        break
    time.sleep(0.05)
time.sleep(0.3)
s.sendall(body[10:])
s.settimeout(20)
print(s.recv(100).split(b"\r\n")[0].decode())
EOF2
LATE=$!
for i in $(seq 50); do [ -e "$T/sigterm.ready" ] && break; sleep 0.1; done
kill -TERM "$CORCH_PID"; touch "$T/sigterm"
rc=0; wait "$CORCH_PID" || rc=$?
check "SIGTERM: exit status 0" test "$rc" = 0
wait "$LATE"
check "the request in flight was answered" grep -q '^HTTP/1.1 201' "$T/late.status"
check "no sanitizer report" sh -c "! grep -q 'Sanitizer' '$CORCH_LOG'"
e2e_finish
