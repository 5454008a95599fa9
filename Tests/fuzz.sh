#!/usr/bin/env bash
# Coverage-guided fuzzing with libFuzzer (docs/fuzzing.md): each target runs from the checked-in
# seed corpus (Tests/Fuzz/corpus/<target>) plus what earlier runs on this machine found.
#   Tests/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]    defaults: 3600, requests records
# STRAIT_FUZZ_SEED fixes libFuzzer's seed (CI's runs repeat); otherwise each run draws its own.
# A crashing, leaking or hanging input is saved as .build/fuzz/findings/<target>/<kind>-<hash>;
# copy it to Tests/Fuzz/regressions/<target>/ with the fix so the Swift suite replays it.
# Exits non-zero when any target found something.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-3600}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(requests records)

STRAIT_FUZZ=1 swift build --product strait-fuzz
binary=.build/debug/strait-fuzz
status=0
for target in "${targets[@]}"; do
    corpus=.build/fuzz/corpus/$target
    findings=.build/fuzz/findings/$target
    mkdir -p "$corpus" "$findings"
    echo "== fuzz $target for ${seconds}s"
    # Swift's own backtracer is off so that libFuzzer's handler sees a trap and saves the input.
    set +e
    SWIFT_BACKTRACE=enable=no STRAIT_FUZZ_TARGET=$target "$binary" "$corpus" "Tests/Fuzz/corpus/$target" \
        -max_total_time="$seconds" -timeout=30 -rss_limit_mb=3072 -max_len=65536 \
        -artifact_prefix="$findings/" -print_final_stats=1 ${STRAIT_FUZZ_SEED:+-seed=$STRAIT_FUZZ_SEED} > ".build/fuzz/$target.log" 2>&1
    result=$?
    set -e
    grep -E "^#[0-9]+[[:space:]]+(INITED|DONE)|ERROR|SUMMARY|Fatal error|runtime failure|stat::" ".build/fuzz/$target.log" || true
    if [ "$result" -ne 0 ]; then
        echo "fuzz $target: libFuzzer exited with $result; inputs in $findings, log in .build/fuzz/$target.log" >&2
        status=1
    fi
done
exit $status
