#!/bin/sh
# NSF launch overhead of the native engine (issue 4): p50 over 50 runs of a
# bridge NSF, target <= 30 ms; then the per-SF cost of 100 firewalls side
# by side.  Usage: bench-native.sh [BUILD_DIR] [RUNS] [MANY]
# Needs root (exit 77 otherwise); never fails on a figure.
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${1:-${BUILD_DIR:-$TOP/build}}
BIN=$BUILD_DIR/test/bench/bench-native
[ "$(id -u)" = 0 ] || { echo "bench-native: needs root: skipped"; exit 77; }
[ -x "$BIN" ] || { echo "bench-native: $BIN not built (make in $BUILD_DIR)"; exit 1; }
exec "$BIN" "$TOP/sf-repository" "${2:-50}" "${3:-100}"
