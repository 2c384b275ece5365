#!/usr/bin/env bash
# c-orch quick start on a fresh Debian 12 machine, as root:
#   contrib/quickstart.sh run    install, build, start a private Open
#                                vSwitch and c-orch on 127.0.0.1:8080
#   contrib/quickstart.sh test   install, build, run the whole test suite
#                                (test/run-all.sh: unit + distcheck +
#                                end-to-end + benchmarks)
# Other verbs: deps (install only), build (build only), clean (stop the
# private OVS, remove the two hosts and the quick start's state).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"

# Debian packages c-orch needs to build, run and be tested.
DEPS=(build-essential autoconf automake libtool pkg-config
      libmicrohttpd-dev libjson-c-dev libsqlite3-dev libinih-dev
      libsodium-dev zlib1g-dev libczmq-dev libzmq3-dev libcurl4-openssl-dev
      libnl-3-dev libnl-route-3-dev libcmocka-dev
      openvswitch-switch iproute2 iputils-ping ethtool procps
      nftables iperf3 tcpdump netcat-openbsd curl openssl jq
      python3 python3-jsonschema python3-openflow valgrind wrk
      systemd clang libclang-rt-14-dev)

deps() {
    local missing=()
    for p in "${DEPS[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "quickstart: installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q
        apt-get install -y -q --no-install-recommends "${missing[@]}"
    fi
}

# configure_in DIR ARG...: configures DIR (with ARG... and
# --enable-Werror, as CI builds) unless it is configured with
# --enable-Werror already; a build dir configured without it is
# configured again and cleaned, so that everything builds with -Werror.
configure_in() {
    local dir=$1
    shift
    mkdir -p "$dir"
    local have want ok=1
    if [ -f "$dir/Makefile" ]; then
        have=$(cd "$dir" && ./config.status --config)
        for want in --enable-Werror "$@"; do
            case $want in --enable-*) grep -q -- "$want" <<<"$have" || ok=0 ;; esac
        done
        [ "$ok" = 1 ] && return 0
    fi
    (cd "$dir" && ../configure -q --enable-Werror "$@" && make -s clean)
}

build() {
    [ -x configure ] && [ configure -nt configure.ac ] || autoreconf -fi
    # build/: optimised, for running and benchmarks; build-san/: the same
    # code under AddressSanitizer + UndefinedBehaviorSanitizer, for tests.
    configure_in build CFLAGS="-O2 -g"
    configure_in build-san --enable-sanitizers --enable-debug CFLAGS="-O1 -g"
    (cd build && make -s -j"$(nproc)")
    (cd build-san && make -s -j"$(nproc)")
}

run() {
    local dir=${CORCH_QUICKSTART_DIR:-/tmp/c-orch-quickstart}
    local pw=${CORCH_ADMIN_PASSWORD:-quickstart-admin}
    mkdir -p "$dir/ovs" "$dir/state"
    export OVS_RUNDIR=$dir/ovs OVS_DBDIR=$dir/ovs OVS_LOGDIR=$dir/ovs
    if ! ovs-vsctl --db="unix:$dir/ovs/db.sock" --timeout=2 show >/dev/null 2>&1; then
        rm -f "$dir/ovs/conf.db"
        ovsdb-tool create "$dir/ovs/conf.db" /usr/share/openvswitch/vswitch.ovsschema
        ovsdb-server "$dir/ovs/conf.db" --remote="punix:$dir/ovs/db.sock" \
            --pidfile="$dir/ovs/ovsdb-server.pid" --log-file="$dir/ovs/ovsdb-server.log" \
            --detach --no-chdir 2>/dev/null
        ovs-vsctl --db="unix:$dir/ovs/db.sock" --no-wait init
        ovs-vswitchd "unix:$dir/ovs/db.sock" --pidfile="$dir/ovs/ovs-vswitchd.pid" \
            --log-file="$dir/ovs/ovs-vswitchd.log" --detach --no-chdir 2>/dev/null
    fi
    # Two hosts in network namespaces, wired to the node's "physical"
    # interfaces veth-a and veth-b, so that the example graph carries real
    # packets between them.
    local h
    for h in a:10.0.0.1/24 b:10.0.0.2/24; do
        local n=${h%%:*} ip=${h#*:}
        if ! ip netns list | grep -qw "qs-$n"; then
            ip netns add "qs-$n"
            ip link add "veth-$n" type veth peer name "qs-$n-eth0"
            ip link set "qs-$n-eth0" netns "qs-$n"
            ip -n "qs-$n" link set "qs-$n-eth0" name eth0
            ip -n "qs-$n" addr add "$ip" dev eth0
            ip -n "qs-$n" link set eth0 up
            ip netns exec "qs-$n" ethtool -K eth0 tx off >/dev/null 2>&1 || true
            ip link set "veth-$n" up
        fi
    done
    cat <<EOT
c-orch quick start: vswitch driver "$QS_VSWITCH", engines "$QS_ENGINES"
  private Open vSwitch (userspace datapath): $dir/ovs (db unix:$dir/ovs/db.sock)
  state: $dir/state   SF repository: $TOP/sf-repository   bus: tcp://127.0.0.1:5555
  admin credentials: admin / $pw
Try it (in another terminal):
  TOKEN=\$(curl -s -X POST -d '{"username":"admin","password":"$pw"}' http://127.0.0.1:8080/v1/login | jq -r .token)
  curl -s -X PUT -H "Authorization: Bearer \$TOKEN" --data-binary @$TOP/contrib/examples/passthrough.json http://127.0.0.1:8080/v1/graphs/example
  curl -s -H "Authorization: Bearer \$TOKEN" http://127.0.0.1:8080/v1/graphs/example/status
  curl -s -H "Authorization: Bearer \$TOKEN" http://127.0.0.1:8080/v1/node
  ip netns exec qs-a ping -c 3 10.0.0.2       # host a -> host b through the graph
Stop with Ctrl-C (deployed graphs stay in OVS; the next start finds them);
remove everything with: $0 clean
EOT
    CORCH_ADMIN_PASSWORD=$pw exec "$TOP/build/orchestrator/c-orch" --foreground \
        --set rest.address=127.0.0.1 --set rest.port=8080 \
        --set state.dir="$dir/state" --set repository.path="$TOP/sf-repository" \
        --set vswitch.driver="$QS_VSWITCH" --set vswitch.ovsdb="unix:$dir/ovs/db.sock" \
        --set compute.drivers="$QS_ENGINES" --set bus.endpoint=tcp://127.0.0.1:5555 \
        --set vswitch.interfaces=veth-a,veth-b
}

# Removes what `run` left: the private OVS, the two hosts, the state.
clean() {
    local dir=${CORCH_QUICKSTART_DIR:-/tmp/c-orch-quickstart} f
    for f in "$dir/ovs/ovs-vswitchd.pid" "$dir/ovs/ovsdb-server.pid"; do
        [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
    done
    for n in a b; do
        ip netns del "qs-$n" 2>/dev/null || true
        ip link del "veth-$n" 2>/dev/null || true
    done
    ip netns list 2>/dev/null | awk '{print $1}' | grep '^corch-' | while read -r ns; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -9
        ip netns del "$ns" 2>/dev/null || true
    done
    # The userspace datapath's tap stays after ovs-vswitchd: remove it
    # unless another ovs-vswitchd of this namespace still uses it.
    sleep 0.5
    local self mine=0 p
    self=$(readlink /proc/self/ns/net)
    for p in $(pgrep -x ovs-vswitchd); do
        [ "$(readlink "/proc/$p/ns/net" 2>/dev/null)" = "$self" ] && mine=1
    done
    [ "$mine" = 0 ] && ip link del ovs-netdev 2>/dev/null || true
    rm -rf "$dir"
}

# What the quick start runs with.
QS_VSWITCH=${QS_VSWITCH:-ovs}
QS_ENGINES=${QS_ENGINES:-native}

case "${1:-}" in
deps) deps ;;
build) deps; build ;;
run) deps; build; run ;;
test) deps; build; exec "$TOP/test/run-all.sh" ;;
clean) clean ;;
*) echo "usage: $0 run|test|deps|build|clean" >&2; exit 2 ;;
esac
