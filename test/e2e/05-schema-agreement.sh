#!/bin/bash
# The JSON Schema (schemas/sffg.schema.json) and the daemon's C validator
# must agree on the SF-FG corpus in test/data/sffg/:
#   valid/            both accept;
#   invalid-schema/   both reject (and C names the expected field);
#   invalid-semantic/ the schema accepts (it cannot see the mistake) and
#                     C rejects, naming the field in expected-paths.txt.
# Usage: 05-schema-agreement.sh [BUILD_DIR]  (or env BUILD_DIR).
# Needs no root and no daemon: the C side is test/unit/sffg-validate, built
# by "make".  Exit 0 pass, 77 skip (no python3-jsonschema), 1 fail.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${1:-${BUILD_DIR:-$TOP/build}}
BUILD_DIR=$(cd "$BUILD_DIR" 2>/dev/null && pwd) || { echo "no build dir"; exit 1; }
VALIDATE=$BUILD_DIR/test/unit/sffg-validate
CORPUS=$TOP/test/data/sffg
SCHEMA=$TOP/schemas/sffg.schema.json
PYTHON=/usr/bin/python3

if ! "$PYTHON" -c 'import jsonschema' 2>/dev/null; then
    echo "05-schema-agreement: python3-jsonschema missing: skipped"
    exit 77
fi
if [ ! -x "$VALIDATE" ]; then
    echo "05-schema-agreement: $VALIDATE not built (run make in $BUILD_DIR)"
    exit 1
fi

T=$(mktemp -d /tmp/corch-e2e-schema.XXXXXX)
trap 'rm -rf "$T"' EXIT

# Schema verdicts: "FILE<TAB>accept|reject<TAB>reason".
"$PYTHON" - "$SCHEMA" "$CORPUS" > "$T/schema.txt" <<'PY' || exit 1
import json, sys, glob, os
import jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft7Validator.check_schema(schema)
v = jsonschema.Draft7Validator(schema)
for kind in ("valid", "invalid-schema", "invalid-semantic"):
    for f in sorted(glob.glob(os.path.join(sys.argv[2], kind, "*.json"))):
        rel = os.path.relpath(f, sys.argv[2])
        try:
            doc = json.load(open(f))
        except ValueError as e:
            print(f"{rel}\treject\tnot JSON: {e}")
            continue
        errs = sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path))
        if errs:
            e = errs[0]
            where = ".".join(str(p) for p in e.absolute_path)
            print(f"{rel}\treject\t{where}: {e.message[:100]}")
        else:
            print(f"{rel}\taccept\t")
PY

# C verdicts: "FILE<TAB>ok" or "FILE<TAB>error<TAB>PATH<TAB>MESSAGE".
(cd "$CORPUS" && "$VALIDATE" */*.json) > "$T/c.txt"
rc=$?
if [ $rc -gt 1 ]; then
    echo "05-schema-agreement: sffg-validate failed ($rc)"
    exit 1
fi

passed=0
failed=0
while IFS=$'\t' read -r file sverdict sreason; do
    cline=$(grep -F -m1 "$file"$'\t' "$T/c.txt")
    cverdict=$(cut -f2 <<<"$cline")
    cpath=$(cut -f3 <<<"$cline")
    cmsg=$(cut -f4 <<<"$cline")
    want=$(awk -F'\t' -v f="$file" '$1 == f { print $2; found=1 } END { if (!found) print "<none>" }' "$CORPUS/expected-paths.txt")
    ok=0
    case $file in
    valid/*)
        [ "$sverdict" = accept ] && [ "$cverdict" = ok ] && ok=1
        detail="schema=$sverdict C=$cverdict $cpath $cmsg $sreason" ;;
    invalid-schema/*)
        [ "$sverdict" = reject ] && [ "$cverdict" = error ] && [ "$cpath" = "$want" ] && ok=1
        detail="schema=$sverdict ($sreason) C=$cverdict path='$cpath' want='$want': $cmsg" ;;
    invalid-semantic/*)
        [ "$sverdict" = accept ] && [ "$cverdict" = error ] && [ "$cpath" = "$want" ] && ok=1
        detail="schema=$sverdict $sreason C=$cverdict path='$cpath' want='$want': $cmsg" ;;
    esac
    if [ $ok = 1 ]; then
        passed=$((passed + 1))
        echo "PASS $file: $detail"
    else
        failed=$((failed + 1))
        echo "FAIL $file: $detail"
    fi
done < "$T/schema.txt"

echo "05-schema-agreement: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
