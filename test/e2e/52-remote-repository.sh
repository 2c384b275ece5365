#!/bin/bash
# Issue 4, remote SF repository: a copy of sf-repository/ served by a real
# HTTP server on loopback (python3 -m http.server), the daemon started with
# repository.path empty and repository.url pointing at it, native engine
# on real OVS.  The node description lists the remote templates; a graph
# SAP -> bridge -> SAP deploys with the image downloaded, cached in
# <state.dir>/images/<sha256> and verified, and carries pings; a second
# deploy reuses the cached image (no second download); a tampered image
# (its bytes are not what the template's sha256 says) is refused naming the
# template and both digests, with nothing deployed and nothing cached; the
# same repository behind a self-signed HTTPS certificate is refused.  Images
# with an escaping symlink are refused naming the image and the entry;
# setuid bits never reach the unpacked package.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-node.sh"
e2e_init rp52
oe_prereq
command -v python3 >/dev/null || oe_skip "no python3"

oe_node rp52-node
oe_host rp52-h1 rp52-node rp52-v1 10.52.0.1/24
oe_host rp52-h2 rp52-node rp52-v2 10.52.0.2/24
TAG=$(python3 -c '
import sys
h = 2166136261
for b in sys.argv[1].encode():
    h = ((h ^ b) * 16777619) & 0xffffffff
print("%04x" % ((h ^ (h >> 16)) & 0xffff))' "$T/state")
sf_netns() { ip netns list 2>/dev/null | awk '{print $1}' | grep "^corch-$TAG-" || true; }
e2e_on_exit 'for n in $(sf_netns); do ip netns pids $n | xargs -r kill -9; ip netns del $n; done'

# The served copy, with one more template: "bridge-tampered", whose image
# on the server is not the one its publisher hashed.
WWW=$T/www
cp -r "$E2E_TOP/sf-repository" "$WWW"
rm -f "$WWW"/*.py "$WWW"/*.sh
{ cat "$WWW/images/bridge.tgz"; echo "# genuine v2"; } >"$T/genuine.tgz"
{ cat "$WWW/images/bridge.tgz"; echo "# tampered"; } >"$WWW/images/bridge-v2.tgz"
GENUINE=$(sha256sum "$T/genuine.tgz" | cut -d' ' -f1)
TAMPERED=$(sha256sum "$WWW/images/bridge-v2.tgz" | cut -d' ' -f1)
python3 - "$WWW" "$GENUINE" <<'PY'
import json, sys
www, sha = sys.argv[1], sys.argv[2]
t = json.load(open(f"{www}/templates/bridge-native.json"))
t.update(id="bridge-tampered", uri="images/bridge-v2.tgz", sha256=sha)
json.dump(t, open(f"{www}/templates/bridge-tampered.json", "w"), indent=2)
PY
# Two hostile images (issue 16, point 11), published with their true
# digests: "bridge-escape" adds a symlink out of the package directory,
# "bridge-suid" a setuid file.
python3 - "$WWW" <<'PY'
import hashlib, io, json, sys, tarfile
www = sys.argv[1]
def build(name, extra):
    out = f"{www}/images/{name}.tgz"
    with tarfile.open(f"{www}/images/bridge.tgz") as src, \
         tarfile.open(out, "w:gz") as t:
        for m in src.getmembers():
            t.addfile(m, src.extractfile(m) if m.isfile() else None)
        for ti, data in extra:
            t.addfile(ti, data)
    sha = hashlib.sha256(open(out, "rb").read()).hexdigest()
    tm = json.load(open(f"{www}/templates/bridge-native.json"))
    tm.update(id=f"bridge-{name}", uri=f"images/{name}.tgz", sha256=sha)
    json.dump(tm, open(f"{www}/templates/bridge-{name}.json", "w"), indent=2)
link = tarfile.TarInfo("escape")
link.type, link.linkname = tarfile.SYMTYPE, "../../../../etc"
build("escape", [(link, None)])
suid = tarfile.TarInfo("suid-helper")
suid.mode, suid.size = 0o6755, 10
build("suid", [(suid, io.BytesIO(b"#!/bin/sh\n"))])
PY
python3 "$E2E_TOP/sf-repository/mkindex.py" "$WWW"
check "the index lists the added template" grep -q '"bridge-tampered.json"' "$WWW/index.json"

# The server runs in the node's namespace, where the daemon runs: its
# loopback is the daemon's loopback.
PORT=8052
ip netns exec rp52-node python3 -m http.server --bind 127.0.0.1 --directory "$WWW" \
    "$PORT" >"$T/http.log" 2>&1 &
e2e_on_exit "kill $!"
for i in $(seq 50); do
    ip netns exec rp52-node ss -Hltn "sport = :$PORT" | grep -q . && break
    sleep 0.1
done

oe_corch rp52-node rp52-v1,rp52-v2 --set compute.drivers=native \
    --set repository.path= --set repository.url="http://127.0.0.1:$PORT/"
e2e_on_exit 'api DELETE /v1/graphs/g52'
check "the daemon fetched the index" grep -q 'GET /index.json' "$T/http.log"
check "and the templates" grep -q 'GET /templates/bridge-native.json' "$T/http.log"

# The node description lists the remote templates.
api GET /v1/node
expect_status 200 "GET /v1/node"
for id in bridge-native firewall-native nat-native router-native security-native bridge-tampered; do
    check "the node description lists remote template $id" grep -q "\"$id\"" "$T/body"
done

graph() { # graph ID TEMPLATE
cat <<JSON
{"sffg": {"id": "$1", "name": "remote bridge",
  "SFs": [{"id": "br", "name": "bridge", "template": "$2",
           "ports": [{"id": "a"}, {"id": "b"}]}],
  "saps": [
    {"id": "s1", "type": "interface", "interface": {"if-name": "rp52-v1"}},
    {"id": "s2", "type": "interface", "interface": {"if-name": "rp52-v2"}}],
  "flowrules": [
    {"id": "r1", "match": {"port_in": "service-access-point:s1"},
     "actions": {"output_to_port": "sf:br:a"}},
    {"id": "r2", "match": {"port_in": "sf:br:a"},
     "actions": {"output_to_port": "service-access-point:s1"}},
    {"id": "r3", "match": {"port_in": "sf:br:b"},
     "actions": {"output_to_port": "service-access-point:s2"}},
    {"id": "r4", "match": {"port_in": "service-access-point:s2"},
     "actions": {"output_to_port": "sf:br:b"}}]}}
JSON
}

# A tampered image first (nothing cached yet): refused, nothing left.
graph g52t bridge-tampered >"$T/gt.json"
oe_put g52t "$T/gt.json"
case $STATUS in
4*|5*) pass "a graph using a tampered image is refused ($STATUS)";;
*) fail "tampered image: status $STATUS: $BODY";;
esac
check "the error names the template" grep -q 'bridge-tampered' "$T/body"
check "the error gives the template's digest" grep -q "$GENUINE" "$T/body"
check "the error gives the downloaded digest" grep -q "$TAMPERED" "$T/body"
e2e_log "error: $(head -c 400 "$T/body")"
check "no SF namespace after the refused graph" test -z "$(sf_netns)"
check "no OVS row after the refused graph" oe_graph_gone g52t
check_not "the tampered image is not in the cache" sh -c "ls -A '$T/state/images' | grep ."
api DELETE /v1/graphs/g52t

# The real one: downloaded, verified, cached by digest, deployed.
graph g52 bridge-native >"$T/g.json"
oe_put g52 "$T/g.json"
case $STATUS in
200|201) pass "deploy SAP -> bridge (remote template) -> SAP ($STATUS)";;
*) fail "deploy: status $STATUS: $BODY"; tail -20 "$CORCH_LOG"; e2e_finish;;
esac
api GET /v1/graphs/g52/status
check "status running" test "$(jq_body 'b["status"]')" = running
check "the SF is running" test "$(jq_body 'b["sfs"][0]["state"]')" = running
check "one SF namespace" test "$(sf_netns | wc -l)" -eq 1
check "ping h1 -> h2 across the bridge" ping_retry rp52-h1 10.52.0.2
SHA=$(sha256sum "$WWW/images/bridge.tgz" | cut -d' ' -f1)
check "the image is cached as images/<sha256>" test -f "$T/state/images/$SHA"
check "the cached file has that digest" test "$(sha256sum "$T/state/images/$SHA" | cut -d' ' -f1)" = "$SHA"
check "only that file in the cache (no temporary file)" test "$(ls -A "$T/state/images")" = "$SHA"
check "downloaded once" test "$(grep -c 'GET /images/bridge.tgz' "$T/http.log")" -eq 1

# A second graph with the same template reuses the cached image.
api DELETE /v1/graphs/g52
case $STATUS in 200|204) pass "delete ($STATUS)";; *) fail "delete: status $STATUS: $BODY";; esac
check "no SF namespace left" test -z "$(sf_netns)"
oe_put g52 "$T/g.json"
case $STATUS in 200|201) pass "deploy again ($STATUS)";; *) fail "deploy again: status $STATUS: $BODY";; esac
check "ping h1 -> h2 again" ping_retry rp52-h1 10.52.0.2
check "the image was not downloaded again" test "$(grep -c 'GET /images/bridge.tgz' "$T/http.log")" -eq 1

api DELETE /v1/graphs/g52
check "no SF namespace left at the end" test -z "$(sf_netns)"
check "no graph rows left in OVSDB" oe_graph_gone g52

# Hostile images (issue 16, point 11).  A symlink out of the package
# directory: refused by our check before tar runs, naming the image and
# the entry; nothing unpacked, nothing deployed.
graph g52e bridge-escape >"$T/ge.json"
oe_put g52e "$T/ge.json"
case $STATUS in
4*|5*) pass "a graph using an image with an escaping symlink is refused ($STATUS)";;
*) fail "escaping symlink: status $STATUS: $BODY";;
esac
check "the error names the image" grep -q 'NSF image bridge-escape' "$T/body"
check "and the entry" grep -q 'entry \\"escape\\": is a symlink' "$T/body"
e2e_log "error: $(head -c 400 "$T/body")"
ESC=$(sha256sum "$WWW/images/escape.tgz" | cut -d' ' -f1)
check_not "nothing unpacked for it" test -e "$T/state/nsf/$ESC"
check_not "no half-unpacked directory" sh -c "ls -A '$T/state/nsf' | grep '^\.unpack'"
check "no SF namespace after the refused graph" test -z "$(sf_netns)"
api DELETE /v1/graphs/g52e
# A setuid file: deployed, unpacked without the setuid / setgid bits.
graph g52s bridge-suid >"$T/gs.json"
oe_put g52s "$T/gs.json"
case $STATUS in 200|201) pass "deploy with an image holding a setuid file ($STATUS)";;
*) fail "setuid image: status $STATUS: $BODY";; esac
SUID=$(sha256sum "$WWW/images/suid.tgz" | cut -d' ' -f1)
check "its file is unpacked" test -f "$T/state/nsf/$SUID/suid-helper"
check "without setuid / setgid bits" test "$(stat -c %a "$T/state/nsf/$SUID/suid-helper")" = 755
check "no setuid / setgid file in any package" test -z "$(find "$T/state/nsf" -perm /6000)"
check "the strip is logged" grep -q 'cleared the setuid/setgid bits of ./suid-helper' "$CORCH_LOG"
api DELETE /v1/graphs/g52s
check "no SF namespace left" test -z "$(sf_netns)"

# HTTPS is verified: the same repository behind a self-signed certificate
# is refused (the daemon starts, with no template from it).
if command -v openssl >/dev/null; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
        -keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1
    SPORT=8453
    ip netns exec rp52-node python3 - "$WWW" "$SPORT" "$T/cert.pem" "$T/key.pem" \
        >"$T/https.log" 2>&1 <<'PY' &
import functools, http.server, ssl, sys
www, port, cert, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=www)
s = http.server.HTTPServer(("127.0.0.1", port), h)
c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
c.load_cert_chain(cert, key)
s.socket = c.wrap_socket(s.socket, server_side=True)
s.serve_forever()
PY
    e2e_on_exit "kill $!"
    for i in $(seq 50); do
        ip netns exec rp52-node ss -Hltn "sport = :$SPORT" | grep -q . && break
        sleep 0.1
    done
    corch_stop
    oe_corch rp52-node rp52-v1,rp52-v2 --set compute.drivers=native \
        --set repository.path= --set repository.url="https://127.0.0.1:$SPORT/"
    check "a self-signed HTTPS repository is refused (certificate not verified)" \
        grep -qiE 'index.json: .*(certificate|SSL)' "$CORCH_LOG"
    api GET /v1/node
    check_not "and none of its templates is listed" grep -q '"bridge-native"' "$T/body"
else
    e2e_log "no openssl: HTTPS verification not checked"
fi
e2e_finish
