#!/usr/bin/env bash
# The whole test suite: unit tests under ASan/UBSan, unit tests under
# valgrind, end-to-end tests (real OVS, namespaces, the real daemon built
# with the sanitizers), then the benchmarks (optimised build; they print
# figures and never fail on a figure).  Run by contrib/quickstart.sh test
# after the build; ends with one "N passed, N failed, N skipped" line.
#   test/run-all.sh [unit|valgrind|e2e|bench]...   (default: all four)
set -uo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
SAN=$TOP/build-san
OPT=$TOP/build
RESULTS=$(mktemp -d /tmp/corch-results.XXXXXX)
passed=0 failed=0 skipped=0
failures=()

# Sanitizer reports fail the run; leaks are valgrind's job for the unit
# tests, and the daemon's libraries keep a few allocations until exit.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

record() {    # record NAME RC
    case $2 in
    0) passed=$((passed + 1)); echo "== PASS: $1" ;;
    77) skipped=$((skipped + 1)); echo "== SKIP: $1" ;;
    *) failed=$((failed + 1)); failures+=("$1"); echo "== FAIL: $1 (exit $2)" ;;
    esac
}

unit_programs() { find "$1/test/unit" "$1/drivers" -maxdepth 4 -type f -name 'test-*' -perm -u+x 2>/dev/null | grep -v '\.\(o\|log\|trs\)$' | sort; }

run_unit() {
    echo "### unit tests (ASan + UBSan)"
    (cd "$SAN" && make -s -j"$(nproc)" check >"$RESULTS/make-check.log" 2>&1)
    local t rc
    for t in $(unit_programs "$SAN"); do
        local name=unit:$(basename "$t")
        if [ -f "$t.trs" ]; then
            rc=0
            grep -q '^:test-result: FAIL\|^:test-result: ERROR' "$t.trs" && rc=1
            grep -q '^:test-result: SKIP' "$t.trs" && rc=77
            [ $rc = 1 ] && sed 's/^/    /' "$t.log" | tail -40
            record "$name" $rc
        fi
    done
}

run_valgrind() {
    echo "### unit tests under valgrind (optimised build)"
    (cd "$OPT" && make -s -j"$(nproc)" check TESTS= >"$RESULTS/make-check-opt.log" 2>&1)
    local t rc
    for t in $(unit_programs "$OPT"); do
        local name=valgrind:$(basename "$t")
        (cd "$OPT" && valgrind -q --leak-check=full --show-leak-kinds=definite \
            --errors-for-leak-kinds=definite --error-exitcode=99 \
            --suppressions="$TOP/test/valgrind.supp" "$t" >"$RESULTS/$(basename "$t").vg" 2>&1)
        rc=$?
        [ $rc != 0 ] && [ $rc != 77 ] && tail -40 "$RESULTS/$(basename "$t").vg" | sed 's/^/    /'
        record "$name" $rc
    done
}

run_e2e() {
    echo "### end-to-end tests (real OVS, namespaces, daemon under ASan + UBSan)"
    local t rc
    for t in test/e2e/[0-9]*.sh; do
        [ -f "$t" ] || continue
        BUILD_DIR=$SAN timeout 600 bash "$t" >"$RESULTS/$(basename "$t").log" 2>&1
        rc=$?
        sed 's/^/    /' "$RESULTS/$(basename "$t").log" | grep -E 'PASS|FAIL|SKIP|passed|skipped' | tail -60
        [ $rc != 0 ] && [ $rc != 77 ] && tail -30 "$RESULTS/$(basename "$t").log" | sed 's/^/    /'
        record "e2e:$(basename "$t")" $rc
    done
}

run_bench() {
    echo "### benchmarks (optimised build; figures only)"
    local b rc
    for b in test/bench/*.sh; do
        [ -f "$b" ] || continue
        echo "--- $(basename "$b")"
        BUILD_DIR=$OPT timeout 900 bash "$b" "$OPT" 2>&1 | tee "$RESULTS/$(basename "$b").log" | sed 's/^/    /'
        rc=${PIPESTATUS[0]}
        record "bench:$(basename "$b")" $rc
    done
    # Compiled benchmarks that have no wrapper script of the same name
    # (the wrappers set up OVS and namespaces and run theirs).
    for b in $(find "$OPT/test/bench" -maxdepth 1 -type f -name 'bench-*' -perm -u+x 2>/dev/null | sort); do
        [ -f "test/bench/$(basename "$b").sh" ] && continue
        echo "--- $(basename "$b")"
        "$b" 2>&1 | sed 's/^/    /'
        record "bench:$(basename "$b")" "${PIPESTATUS[0]}"
    done
}

stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(unit valgrind e2e bench)
start=$(date +%s)
for s in "${stages[@]}"; do "run_$s"; done
echo
echo "suite took $(( $(date +%s) - start )) s; logs in $RESULTS"
[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
