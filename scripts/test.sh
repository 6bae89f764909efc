#!/usr/bin/env bash
# The test command (README, .ci/run): install what is missing, build, run every test.
#   scripts/test.sh              the release build in build/
#   scripts/test.sh --sanitize   the whole suite again under AddressSanitizer and UndefinedBehaviorSanitizer, in
#                                build-asan/ (clang; scripts/build-asan.sh: any report fails its test, no
#                                recovery, leaks checked)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --with-reference
jobs=$(nproc 2>/dev/null || echo 2)
if [[ "${1:-}" == "--sanitize" ]]; then
  bash scripts/build-asan.sh
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  ctest --test-dir build-asan --output-on-failure --timeout 600 -j"$jobs"
  exit 0
fi
bash scripts/build.sh
ctest --test-dir build --output-on-failure --timeout 300 -j"$jobs"
