#!/usr/bin/env bash
# Long fuzz run of the protocol codec: ten million mutated frames by default.
#   Tests/fuzz.sh [FRAMES] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
export STRAIT_FUZZ_FRAMES="${1:-10000000}"
export STRAIT_FUZZ_SEED="${2:-$(date +%s)}"
swift build --build-tests
swift test --skip-build --filter FuzzTests
