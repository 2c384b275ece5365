#!/bin/bash
# Benchmark of the ovs vSwitch driver against a private Open vSwitch:
# driver vs ovs-vsctl/ovs-ofctl, an empty graph's rules, 10,000 rules.
# Runs in a network namespace of its own (unshare -n) so that the userspace
# datapath's "ovs-netdev" tap cannot collide with another OVS on the host.
# Usage: BUILD_DIR=build test/bench/bench-ovs.sh [rounds]
if [ -z "${COVS_IN_NETNS:-}" ] && [ "$(id -u)" = 0 ]; then
    exec unshare -n env COVS_IN_NETNS=1 bash "$0" "$@"
fi
. "$(dirname "$0")/../e2e/lib.sh"
e2e_init bench-ovs
ip link set lo up
BENCH=${BENCH_OVS:-$BUILD_DIR/test/bench/bench-ovs}
[ -x "$BENCH" ] || { echo "bench-ovs: $BENCH not built: skipped"; exit 77; }
ovs_start
[ -n "${BENCH_OVS_TUNE:-}" ] && vsctl set Open_vSwitch . $BENCH_OVS_TUNE
ip link add cb-v1 type veth peer name cb-v1p
ip link add cb-v2 type veth peer name cb-v2p
for i in cb-v1 cb-v1p cb-v2 cb-v2p; do ip link set "$i" up; done
# test/run-all.sh passes the build directory as $1: rounds only if numeric.
rounds=${1:-100}
[[ $rounds =~ ^[0-9]+$ ]] || rounds=100
OVS_RUNDIR=$OVS_DIR "$BENCH" "$OVSDB" cb-v1 cb-v2 "$rounds"
