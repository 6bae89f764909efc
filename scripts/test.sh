#!/usr/bin/env bash
# The test command (README, .ci/run): install what is missing, build, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --with-reference
bash scripts/build.sh
ctest --test-dir build --output-on-failure --timeout 300 -j"$(nproc 2>/dev/null || echo 2)"
