#!/usr/bin/env bash
# The whole test suite: unit tests under ASan/UBSan, unit tests under
# valgrind, the distribution (every tracked file ships, make distcheck),
# end-to-end tests (real OVS, namespaces, the real daemon built with the
# sanitizers), then the benchmarks (optimised build; they print figures
# and never fail on a figure).  Run by contrib/quickstart.sh test after
# the build; ends with one "N passed, N failed, N skipped" line.
#   test/run-all.sh [unit|valgrind|dist|e2e|bench]...   (default: all five)
# The build dirs are build-san/ and build/ of the source tree, or
# $SAN_BUILD_DIR and $OPT_BUILD_DIR ("make check-e2e", "make
# check-valgrind" and "make check-bench" point them at their build dir).
# E2E_TESTS / BENCHES: names (shell patterns, without .sh) of the e2e
# tests / benchmarks to run, e.g. E2E_TESTS="11-rest-compat 3*"; default all.
set -uo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
SAN=${SAN_BUILD_DIR:-$TOP/build-san}
OPT=${OPT_BUILD_DIR:-$TOP/build}
# The make runs below choose their own flags, also when make runs this.
unset MAKEFLAGS MFLAGS MAKELEVEL
RESULTS=$(mktemp -d /tmp/corch-results.XXXXXX)
passed=0 failed=0 skipped=0
failures=()

# Sanitizer reports fail the run.  Leaks are valgrind's job for the unit
# tests; the e2e stage runs the daemon with LeakSanitizer on (c-orch
# releases everything it holds at shutdown, and e2e_finish fails a test
# whose daemon reported a leak), with test/lsan.supp naming the few
# allocations third-party libraries keep until exit.  An ASAN_OPTIONS
# from the caller wins in both.
ASAN_OPTIONS_CALLER=${ASAN_OPTIONS-}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0:halt_on_error=1}
E2E_ASAN_OPTIONS=${ASAN_OPTIONS_CALLER:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
E2E_LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$TOP/test/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

record() {    # record NAME RC
    case $2 in
    0) passed=$((passed + 1)); echo "== PASS: $1" ;;
    77) skipped=$((skipped + 1)); echo "== SKIP: $1" ;;
    *) failed=$((failed + 1)); failures+=("$1"); echo "== FAIL: $1 (exit $2)" ;;
    esac
}

# selected NAME PATTERNS: NAME matches one of the space-separated PATTERNS,
# or PATTERNS is empty.
selected() {
    local - p
    set -f
    [ -z "$2" ] && return 0
    for p in $2; do
        # shellcheck disable=SC2254
        case $1 in $p) return 0 ;; esac
    done
    return 1
}

unit_programs() { find "$1/test/unit" "$1/drivers" -maxdepth 4 -type f -name 'test-*' -perm -u+x 2>/dev/null | grep -v '\.\(o\|log\|trs\)$' | sort; }

run_unit() {
    echo "### unit tests (ASan + UBSan build: $SAN)"
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
    echo "### unit tests under valgrind (optimised build: $OPT)"
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

run_dist() {
    echo "### distribution: tracked files, make distcheck (in $OPT)"
    local rc t0
    (cd "$OPT" && make -s check-dist-files >"$RESULTS/dist-files.log" 2>&1)
    rc=$?
    grep -E '^(check-dist-files|    )' "$RESULTS/dist-files.log" | sed 's/^/    /'
    [ $rc != 0 ] && tail -20 "$RESULTS/dist-files.log" | sed 's/^/    /'
    record dist:tracked-files $rc
    t0=$(date +%s)
    (cd "$OPT" && make -j"$(nproc)" distcheck >"$RESULTS/distcheck.log" 2>&1)
    rc=$?
    echo "    distcheck took $(( $(date +%s) - t0 )) s"
    [ $rc != 0 ] && tail -40 "$RESULTS/distcheck.log" | sed 's/^/    /'
    record dist:distcheck $rc
}

run_e2e() {
    echo "### end-to-end tests (real OVS, namespaces, the daemon of $SAN: ASan + UBSan + LSan in CI)"
    local t rc
    for t in test/e2e/[0-9]*.sh; do
        [ -f "$t" ] || continue
        selected "$(basename "$t" .sh)" "${E2E_TESTS:-}" || continue
        BUILD_DIR=$SAN ASAN_OPTIONS=$E2E_ASAN_OPTIONS LSAN_OPTIONS=$E2E_LSAN_OPTIONS \
            timeout 600 bash "$t" >"$RESULTS/$(basename "$t").log" 2>&1
        rc=$?
        sed 's/^/    /' "$RESULTS/$(basename "$t").log" | grep -E 'PASS|FAIL|SKIP|passed|skipped' | tail -60
        [ $rc != 0 ] && [ $rc != 77 ] && tail -30 "$RESULTS/$(basename "$t").log" | sed 's/^/    /'
        record "e2e:$(basename "$t")" $rc
    done
}

run_bench() {
    echo "### benchmarks (optimised build: $OPT; figures only)"
    local b rc
    for b in test/bench/*.sh; do
        [ -f "$b" ] || continue
        selected "$(basename "$b" .sh)" "${BENCHES:-}" || continue
        echo "--- $(basename "$b")"
        BUILD_DIR=$OPT timeout 900 bash "$b" "$OPT" 2>&1 | tee "$RESULTS/$(basename "$b").log" | sed 's/^/    /'
        rc=${PIPESTATUS[0]}
        record "bench:$(basename "$b")" $rc
    done
    # Compiled benchmarks that have no wrapper script of the same name
    # (the wrappers set up OVS and namespaces and run theirs).
    for b in $(find "$OPT/test/bench" -maxdepth 1 -type f -name 'bench-*' -perm -u+x 2>/dev/null | sort); do
        [ -f "test/bench/$(basename "$b").sh" ] && continue
        selected "$(basename "$b")" "${BENCHES:-}" || continue
        echo "--- $(basename "$b")"
        "$b" 2>&1 | sed 's/^/    /'
        record "bench:$(basename "$b")" "${PIPESTATUS[0]}"
    done
}

stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(unit valgrind dist e2e bench)
start=$(date +%s)
for s in "${stages[@]}"; do "run_$s"; done
echo
echo "suite took $(( $(date +%s) - start )) s; logs in $RESULTS"
[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
