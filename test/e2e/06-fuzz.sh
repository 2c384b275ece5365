#!/usr/bin/env bash
# Coverage-guided fuzzing of the graph parsers (SF-FG and NF-FG) with
# libFuzzer under ASan + UBSan, seeded with the test corpora and the real
# un-orchestrator graphs.  Bounded: FUZZ_SECONDS (default 60).
. "$(dirname "$0")/lib.sh"
e2e_init fuzz

command -v clang >/dev/null || { echo "clang absent: skipped"; exit 77; }
[ -f "$BUILD_DIR/config.h" ] || { echo "no configured build in $BUILD_DIR: skipped"; exit 77; }

src=$E2E_TOP/orchestrator
flags=$(pkg-config --cflags --libs json-c)
check "harness builds" clang -g -O1 -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=undefined -I"$BUILD_DIR" -I"$src" \
    "$E2E_TOP/test/fuzz/fuzz-graph.c" "$src/graph.c" "$src/graph-parse.c" "$src/graph-json.c" "$src/flow.c" "$src/nffg.c" \
    "$src/util.c" "$src/log.c" $flags -o "$T/fuzz-graph"
[ -x "$T/fuzz-graph" ] || e2e_finish

mkdir -p "$T/corpus"
find "$E2E_TOP/test/data/sffg" "$E2E_TOP/test/data/unorchestrator-nffg" \
    -name '*.json' -exec cp {} "$T/corpus/" \; 2>/dev/null
# Seeds for the string rule (issue 16, point 8): bad UTF-8, NUL and lone
# surrogates in values and member names, on both formats.
printf '{"sffg":{"id":"g","name":"a\377\376"}}' >"$T/corpus/seed-utf8-1.json"
printf '{"sffg":{"id":"g","name\\u0000x":"n","SFs":[{"id":"a","name":"a","ports":[],"config":{"k":"\\ud800"}}]}}' >"$T/corpus/seed-utf8-2.json"
printf '{"forwarding-graph":{"id":"g","name":"\\u0000","VNFs":[{"id":"v","name":"\303\251\355\240\200"}]}}' >"$T/corpus/seed-utf8-3.json"
e2e_log "seed corpus: $(ls "$T/corpus" | wc -l) files; fuzzing ${FUZZ_SECONDS:-60} s"
(cd "$T" && ASAN_OPTIONS=detect_leaks=1 ./fuzz-graph -max_total_time="${FUZZ_SECONDS:-60}" \
    -max_len=8192 -timeout=10 -rss_limit_mb=1024 corpus >"$T/fuzz.log" 2>&1)
rc=$?
tail -3 "$T/fuzz.log"
check "no crash, leak or UB found (exit $rc)" test "$rc" = 0
[ "$rc" = 0 ] || grep -A30 -m1 'ERROR\|runtime error' "$T/fuzz.log"
e2e_finish
