# Shared helpers of the end-to-end tests.  Source it from test/e2e/NN-*.sh:
#     . "$(dirname "$0")/lib.sh"
#     e2e_init mytest          # scratch dir $T, cleanup on exit
#     ovs_start                # private OVS: $OVSDB (unix:...), ovs-vsctl wrappers
#     ns_host h1 v-h1 10.0.0.1/24   # namespace h1, its eth0 has the IP,
#                                   # v-h1 is the outside ("physical") end
#     corch_start --set vswitch.driver=ovs ...   # the real daemon
#     api GET /v1/graphs; expect_status 200
#     e2e_finish               # prints "N passed, N failed", exits
#
# Everything a test creates is registered for cleanup and removed on exit,
# whatever happens.  Names are prefixed with the test's name so that
# tests never collide.  Exit codes: 0 pass, 77 skip, 1 fail.

set -u
E2E_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$E2E_TOP/build}
CORCH_BIN=${CORCH_BIN:-$BUILD_DIR/orchestrator/c-orch}
E2E_PASSED=0
E2E_FAILED=0
E2E_CLEANUP=()
CORCH_ADMIN_PW=${CORCH_ADMIN_PW:-admin-secret-pw}

e2e_log() { printf '[%s] %s\n' "$E2E_NAME" "$*"; }

e2e_init() {
    E2E_NAME=$1
    [ "$(id -u)" = 0 ] || { echo "$E2E_NAME: needs root: skipped"; exit 77; }
    T=$(mktemp -d "/tmp/corch-e2e-$E2E_NAME.XXXXXX")
    trap e2e_cleanup EXIT
    trap 'exit 1' INT TERM
}

# Registers a command (a string, run with eval) to run at exit, in
# reverse order of registration.
e2e_on_exit() { E2E_CLEANUP+=("$1"); }

e2e_cleanup() {
    local i
    for ((i = ${#E2E_CLEANUP[@]} - 1; i >= 0; i--)); do
        eval "${E2E_CLEANUP[$i]}" >/dev/null 2>&1 || true
    done
    if [ "$E2E_FAILED" -ne 0 ] && [ -d "$T" ]; then
        e2e_log "logs kept in $T"
    elif [ -d "${T:-}" ]; then
        rm -rf "$T"
    fi
}

pass() { E2E_PASSED=$((E2E_PASSED + 1)); e2e_log "PASS: $*"; }
fail() { E2E_FAILED=$((E2E_FAILED + 1)); e2e_log "FAIL: $*"; }

# check "description" command args...: passes if the command succeeds.
check() {
    local desc=$1; shift
    if "$@" >"$T/check.out" 2>&1; then pass "$desc"; else fail "$desc"; sed 's/^/    /' "$T/check.out" | tail -20; fi
}
# check_not "description" command args...: passes if the command fails.
check_not() {
    local desc=$1; shift
    if "$@" >"$T/check.out" 2>&1; then fail "$desc"; sed 's/^/    /' "$T/check.out" | tail -20; else pass "$desc"; fi
}

e2e_finish() {
    e2e_check_daemon_exit
    echo "$E2E_NAME: $E2E_PASSED passed, $E2E_FAILED failed"
    [ "$E2E_FAILED" -eq 0 ] && exit 0 || exit 1
}

# ---------------------------------------------------------------- OVS ---
# Starts a private Open vSwitch (ovsdb-server + ovs-vswitchd) in $T/ovs,
# in the root namespace: only one netdev ovs-vswitchd can run per network
# namespace, so tests that may run beside others use lib-node.sh instead.
# Sets OVS_DIR, OVSDB ("unix:$OVS_DIR/db.sock") and defines vsctl/ofctl
# helpers bound to it.  Usage: ovs_start [subdir]
ovs_start() {
    OVS_DIR=$T/${1:-ovs}
    mkdir -p "$OVS_DIR"
    export OVS_RUNDIR=$OVS_DIR OVS_DBDIR=$OVS_DIR OVS_LOGDIR=$OVS_DIR
    ovsdb-tool create "$OVS_DIR/conf.db" /usr/share/openvswitch/vswitch.ovsschema
    ovsdb-server "$OVS_DIR/conf.db" --remote="punix:$OVS_DIR/db.sock" \
        --pidfile="$OVS_DIR/ovsdb-server.pid" --log-file="$OVS_DIR/ovsdb-server.log" \
        --unixctl="$OVS_DIR/ovsdb-server.ctl" --detach --no-chdir 2>>"$OVS_DIR/start.log"
    e2e_on_exit "kill \$(cat '$OVS_DIR/ovsdb-server.pid')"
    OVSDB=unix:$OVS_DIR/db.sock
    ovs-vsctl --db="$OVSDB" --no-wait init
    ovs-vswitchd "$OVSDB" --pidfile="$OVS_DIR/ovs-vswitchd.pid" \
        --log-file="$OVS_DIR/ovs-vswitchd.log" --unixctl="$OVS_DIR/ovs-vswitchd.ctl" \
        --detach --no-chdir 2>>"$OVS_DIR/start.log"
    e2e_on_exit "kill \$(cat '$OVS_DIR/ovs-vswitchd.pid')"
    local i
    for i in $(seq 50); do
        ovs-vsctl --db="$OVSDB" --timeout=1 show >/dev/null 2>&1 && break
        sleep 0.1
    done
}
vsctl() { ovs-vsctl --db="$OVSDB" --timeout=5 "$@"; }
# ofctl CMD BRIDGE ...: talks to the bridge's management socket in OVS_DIR.
ofctl() { local cmd=$1 br=$2; shift 2; ovs-ofctl -O OpenFlow13 "$cmd" "unix:$OVS_DIR/$br.mgmt" "$@"; }
ovs_stop() {
    [ -n "${OVS_DIR:-}" ] || return 0
    kill "$(cat "$OVS_DIR/ovs-vswitchd.pid")" "$(cat "$OVS_DIR/ovsdb-server.pid")" 2>/dev/null || true
}

# ---------------------------------------------------------- namespaces ---
# ns_host NS OUTSIDE_IF CIDR [MAC]: a host: namespace NS whose eth0 (with
# CIDR, tx checksum offload off so TCP works through the netdev datapath)
# is wired by a veth pair to OUTSIDE_IF in the root namespace.
ns_host() {
    local ns=$1 out=$2 cidr=$3 mac=${4:-}
    ip netns add "$ns"
    e2e_on_exit "ip netns pids '$ns' | xargs -r kill -9; ip netns del '$ns'"
    ip link add "$out" type veth peer name "$out-p"
    e2e_on_exit "ip link del '$out'"
    ip link set "$out-p" netns "$ns"
    ip -n "$ns" link set "$out-p" name eth0
    [ -n "$mac" ] && ip -n "$ns" link set eth0 address "$mac"
    ip -n "$ns" addr add "$cidr" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
    ip netns exec "$ns" ethtool -K eth0 tx off >/dev/null 2>&1 || true
    ip link set "$out" up
    ethtool -K "$out" tx off >/dev/null 2>&1 || true
}
# in_ns NS cmd...: runs a command in a namespace.
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
# ping_ok NS DEST: one ping with a short deadline.
ping_ok() { ip netns exec "$1" ping -c 1 -W 1 "$2"; }
# ping_retry NS DEST: up to 5 s for the path to come up (ARP, learning).
ping_retry() {
    local i
    for i in $(seq 10); do ping_ok "$1" "$2" >/dev/null 2>&1 && return 0; sleep 0.5; done
    ping_ok "$1" "$2"
}

# -------------------------------------------------------------- daemon ---
# Finds a free TCP port on 127.0.0.1.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# corch_start [c-orch args...]: starts the daemon from $BUILD_DIR with its
# state in $T/state (kept across corch_stop/corch_start), admin password
# $CORCH_ADMIN_PW, the dummy drivers unless overridden with --set, and
# waits for /healthz.  Sets CORCH_URL, CORCH_PID, CORCH_LOG.
corch_start() {
    : "${CORCH_PORT:=$(free_port)}"
    : "${CORCH_BUS_PORT:=$(free_port)}"
    mkdir -p "$T/state"
    CORCH_LOG=$T/c-orch.log
    CORCH_URL=http://127.0.0.1:$CORCH_PORT
    CORCH_ADMIN_PASSWORD=$CORCH_ADMIN_PW "$CORCH_BIN" --foreground \
        --set rest.port="$CORCH_PORT" --set state.dir="$T/state" \
        --set bus.endpoint="tcp://127.0.0.1:$CORCH_BUS_PORT" \
        --set repository.path="$E2E_TOP/sf-repository" \
        --set vswitch.driver=dummy --set compute.drivers=dummy \
        "$@" >>"$CORCH_LOG" 2>&1 &
    CORCH_PID=$!
    e2e_on_exit "kill $CORCH_PID; sleep 0.2; kill -9 $CORCH_PID"
    local i
    for i in $(seq 100); do
        curl -fsS "$CORCH_URL/healthz" >/dev/null 2>&1 && return 0
        kill -0 "$CORCH_PID" 2>/dev/null || break
        sleep 0.1
    done
    e2e_log "c-orch did not start; its log:"; tail -30 "$CORCH_LOG"
    return 1
}
# corch_stop: SIGTERM and wait; returns the daemon's exit status.
corch_stop() {
    kill -TERM "$CORCH_PID" 2>/dev/null || return 0
    local rc=0
    wait "$CORCH_PID" || rc=$?
    return $rc
}

# e2e_check_daemon_exit: stops the test's last daemon if it still runs
# (SIGTERM, as an operator would; up to 60 s for the sanitizers' exit
# report, then SIGKILL) and fails the test if its log holds a sanitizer
# report: with ASAN_OPTIONS=detect_leaks=1 (test/run-all.sh), whatever
# c-orch did not free at shutdown.  Called by e2e_finish.
e2e_check_daemon_exit() {
    local i
    if [ -n "${CORCH_PID:-}" ] && kill -0 "$CORCH_PID" 2>/dev/null; then
        kill -TERM "$CORCH_PID" 2>/dev/null
        for i in $(seq 600); do
            kill -0 "$CORCH_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$CORCH_PID" 2>/dev/null
        wait "$CORCH_PID" 2>/dev/null
    fi
    if [ -n "${CORCH_LOG:-}" ] && [ -f "$CORCH_LOG" ] &&
            grep -qE 'ERROR: (Leak|Address|Thread|Memory)Sanitizer|runtime error:' "$CORCH_LOG"; then
        fail "the daemon exits without a sanitizer report"
        grep -E -A30 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$CORCH_LOG" | head -60 | sed 's/^/    /'
    fi
}

# corch_login [user] [password]: sets TOKEN.
corch_login() {
    local user=${1:-admin} pw=${2:-$CORCH_ADMIN_PW}
    TOKEN=$(curl -sS -X POST -H 'Content-Type: application/json' \
        -d "{\"username\":\"$user\",\"password\":\"$pw\"}" "$CORCH_URL/v1/login" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
}

# api METHOD PATH [BODY | @FILE]: calls the REST API with $TOKEN; sets
# STATUS (HTTP status) and writes the response body to $T/body (BODY).
api() {
    local method=$1 path=$2 data=${3:-}
    local args=(-sS -o "$T/body" -w '%{http_code}' -X "$method" -H "Authorization: Bearer ${TOKEN:-}")
    [ -n "$data" ] && args+=(-H 'Content-Type: application/json' --data-binary "$data")
    STATUS=$(curl "${args[@]}" "$CORCH_URL$path")
    BODY=$(cat "$T/body")
}
# expect_status CODE "description": checks the last api call's status.
expect_status() {
    if [ "$STATUS" = "$1" ]; then pass "$2 ($1)"; else fail "$2: status $STATUS, expected $1: $(head -c 400 "$T/body")"; fi
}
# jq_body FILTER: applies a python expression to the last body parsed as
# 'b', e.g. jq_body 'b["status"]'.
jq_body() { python3 -c "import json,sys; b=json.load(open('$T/body')); print($1)"; }
