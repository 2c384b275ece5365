#!/usr/bin/env bash
# TLS: a self-signed certificate made with openssl; the API over https with
# curl --cacert; plain HTTP and an unknown CA refused; start-up errors name
# the key that is wrong.
. "$(dirname "$0")/lib.sh"
e2e_init rest-tls
command -v openssl >/dev/null || { echo "no openssl: skipped"; exit 77; }

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$T/key.pem" -out "$T/cert.pem" >"$T/openssl.log" 2>&1 \
    || { fail "openssl req"; e2e_finish; }
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=other \
    -keyout "$T/other-key.pem" -out "$T/other.pem" >>"$T/openssl.log" 2>&1
chmod 600 "$T/key.pem"

# tls_start [args]: corch_start for https (lib.sh's polls plain http).
tls_start() {
    CORCH_PORT=$(free_port)
    CORCH_BUS_PORT=$(free_port)
    mkdir -p "$T/state"
    CORCH_LOG=$T/c-orch.log
    CORCH_URL=https://127.0.0.1:$CORCH_PORT
    CORCH_ADMIN_PASSWORD=$CORCH_ADMIN_PW "$CORCH_BIN" --foreground \
        --set rest.port="$CORCH_PORT" --set state.dir="$T/state" \
        --set bus.endpoint="tcp://127.0.0.1:$CORCH_BUS_PORT" \
        --set repository.path="$E2E_TOP/sf-repository" \
        --set vswitch.driver=dummy --set compute.drivers=dummy "$@" >>"$CORCH_LOG" 2>&1 &
    CORCH_PID=$!
    e2e_on_exit "kill $CORCH_PID; sleep 0.2; kill -9 $CORCH_PID"
    local i
    for i in $(seq 100); do
        curl -fsS --cacert "$T/cert.pem" "$CORCH_URL/healthz" >/dev/null 2>&1 && return 0
        kill -0 "$CORCH_PID" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}
# The api helper of lib.sh, with the CA.
tapi() {
    local method=$1 path=$2 data=${3:-}
    local args=(-sS --cacert "$T/cert.pem" -o "$T/body" -w '%{http_code}' -X "$method"
                -H "Authorization: Bearer ${TOKEN:-}")
    [ -n "$data" ] && args+=(-H 'Content-Type: application/json' --data-binary "$data")
    STATUS=$(curl "${args[@]}" "$CORCH_URL$path")
    BODY=$(cat "$T/body")
}

tls_start --set rest.tls_cert="$T/cert.pem" --set rest.tls_key="$T/key.pem" \
    || { fail "daemon start with TLS"; tail -20 "$CORCH_LOG"; e2e_finish; }
pass "daemon starts with TLS"
check "log says https" grep -q 'https' "$CORCH_LOG"

TOKEN=
tapi GET /healthz; expect_status 200 "healthz over https"
tapi POST /v1/login "{\"username\":\"admin\",\"password\":\"$CORCH_ADMIN_PW\"}"
expect_status 200 "login over https"
TOKEN=$(jq_body 'b["token"]')
tapi GET /v1/graphs; expect_status 200 "list over https"
tapi GET /v1/node; expect_status 200 "node over https"
TOKEN=
tapi GET /v1/graphs; expect_status 401 "no token over https"

check_not "plain http on the TLS port" curl -fsS -m 5 "http://127.0.0.1:$CORCH_PORT/healthz"
check_not "an unknown CA is refused" curl -fsS -m 5 --cacert "$T/other.pem" "$CORCH_URL/healthz"
check "TLS 1.2 or later" sh -c "curl -sS -m 5 -v --cacert '$T/cert.pem' '$CORCH_URL/healthz' 2>&1 | grep -qE 'TLSv1\.[23]'"
check_not "TLS 1.0 refused" curl -fsS -m 5 --tlsv1.0 --tls-max 1.0 --cacert "$T/cert.pem" "$CORCH_URL/healthz"
check "the daemon survives TLS junk" sh -c "head -c 3000 /dev/urandom | timeout 3 openssl s_client -quiet -connect 127.0.0.1:$CORCH_PORT >/dev/null 2>&1; kill -0 $CORCH_PID"
tapi GET /healthz; expect_status 200 "healthz after the junk"

corch_stop; check "clean stop" test $? = 0

# Start-up errors name the key at fault.
: >"$CORCH_LOG"
check_not "missing certificate file: does not start" tls_start \
    --set rest.tls_cert="$T/nope.pem" --set rest.tls_key="$T/key.pem"
check "the error names rest.tls_cert" grep -q 'rest.tls_cert' "$CORCH_LOG"
: >"$CORCH_LOG"
check_not "a certificate as the key: does not start" tls_start \
    --set rest.tls_cert="$T/cert.pem" --set rest.tls_key="$T/cert.pem"
check "the error names rest.tls_key" grep -q 'rest.tls_key' "$CORCH_LOG"
: >"$CORCH_LOG"
check_not "key of another certificate: does not start" tls_start \
    --set rest.tls_cert="$T/cert.pem" --set rest.tls_key="$T/other-key.pem"
check "the error names rest.tls_key" grep -q 'rest.tls_key' "$CORCH_LOG"
e2e_finish
