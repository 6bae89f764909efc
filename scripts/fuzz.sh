#!/usr/bin/env bash
# Fuzzes every parser of outside input (tests/fuzz/: config.json, hardware profiles and --hw-set settings,
# safetensors files and shard indexes, request traces, measured-times CSV and validate JSON, search space files,
# the command line's numbers) with libFuzzer under AddressSanitizer and UndefinedBehaviorSanitizer.
#   scripts/fuzz.sh [SECONDS]      each target for SECONDS (default 20)
#   scripts/fuzz.sh --runs N       each target for N executions
# Builds with clang in build-asan/ (incrementally: scripts/build-asan.sh, the build test.sh --sanitize runs too);
# starts each target from its seed corpus in tests/fuzz/corpus/<target>/ (a copy: what it finds stays in
# build-asan/corpus/). Prints each target's executions; exits non-zero on the first crash, leak or UB report (the
# reproducer is in build-asan/findings/).
set -euo pipefail
cd "$(dirname "$0")/.."
limit=(-max_total_time="${1:-20}")
if [[ "${1:-}" == "--runs" ]]; then limit=(-runs="${2:?--runs needs a count}"); fi
bash scripts/build-asan.sh
mkdir -p build-asan/findings
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
status=0 passed=0 failed=0
for dir in tests/fuzz/corpus/*/; do
  target=$(basename "$dir")
  work=build-asan/corpus/$target
  mkdir -p "$work"
  cp -n "$dir"* "$work"/ 2>/dev/null || true
  log=build-asan/fuzz_$target.log
  if build-asan/tests/fuzz/fuzz_"$target" "${limit[@]}" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix=build-asan/findings/"$target"- -print_final_stats=1 "$work" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    echo "fuzz_$target: ${runs:-?} executions, clean"
    passed=$((passed + 1))
  else
    echo "fuzz_$target: FAILED (log: $log)"
    grep -E "ERROR|runtime error|SUMMARY|Test unit written" "$log" | head -20
    status=1
    failed=$((failed + 1))
  fi
done
echo "fuzz: $passed passed, $failed failed"
exit $status
