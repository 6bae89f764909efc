#!/usr/bin/env bash
# Configures and builds (incrementally) the sanitized build in build-asan/: clang with AddressSanitizer and
# UndefinedBehaviorSanitizer, the libraries, the tests and the libFuzzer targets in one build, which
# `scripts/test.sh --sanitize` and `scripts/fuzz.sh` share (CI runs both; one build serves them).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --with-reference --with-fuzz
# A build-asan/ configured for another compiler (GCC, before the fuzz targets joined it) is made anew.
if [[ -f build-asan/CMakeCache.txt ]] && ! grep -q '^CMAKE_CXX_COMPILER:[A-Z]*=.*clang++' build-asan/CMakeCache.txt; then
  rm -rf build-asan
fi
# Warnings are the release build's to refuse (scripts/build.sh); the sanitized build only runs the code.
cmake -S . -B build-asan -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Sanitize -DROOFLINE_FUZZ=ON \
      -DROOFLINE_WERROR=OFF >/dev/null
cmake --build build-asan -j"$(nproc 2>/dev/null || echo 2)"
