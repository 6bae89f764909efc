#!/usr/bin/env bash
# A kernel change measured against the kernels of an earlier commit, side by side in one process (bench/kernel_ab.cpp):
#   scripts/kernel-ab.sh REV [rounds] [gemm] [gemv] [gemv-bf16] [gemv-int8] [decode] [prefill]
# REV's engine/kernels_gemm.cpp, kernels_gemv.cpp and kernels_attention.cpp (build A) against the working tree's (build B), both
# compiled as the engine's kernels are (-O3 -march=native) against today's headers and linked with build/'s engine
# and hardware libraries (run scripts/build.sh first). OpenBLAS runs its best kernels for this host's ISA
# (bench::run_openblas_at_its_best, as in bench_engine).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $# -lt 1 ]]; then
  echo "usage: scripts/kernel-ab.sh REV [rounds] [gemm] [gemv] [gemv-bf16] [gemv-int8] [decode] [prefill]" >&2
  exit 2
fi
rev=$1
shift
if ! git rev-parse --verify -q "$rev^{commit}" >/dev/null; then
  echo "kernel-ab: '$rev' is not a commit" >&2
  exit 2
fi
for lib in build/engine/libroofline_engine.a build/hardware/libroofline_hardware.a build/common/libroofline_common.a; do
  [[ -f $lib ]] || { echo "kernel-ab: $lib is missing: run scripts/build.sh first" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git show "$rev:engine/kernels_gemm.cpp" >"$work/a_gemm.cpp"
git show "$rev:engine/kernels_attention.cpp" >"$work/a_attention.cpp"
git show "$rev:engine/kernels_gemv.cpp" >"$work/a_gemv.cpp"
here=$(pwd)
g++ -std=c++20 -O3 -DNDEBUG -march=native -mtune=native -fopenmp -Wno-psabi -I. $(pkg-config --cflags openblas) \
  -DKERNEL_A_GEMM="\"$work/a_gemm.cpp\"" -DKERNEL_A_ATTENTION="\"$work/a_attention.cpp\"" \
  -DKERNEL_A_GEMV="\"$work/a_gemv.cpp\"" -DKERNEL_B_GEMV="\"$here/engine/kernels_gemv.cpp\"" \
  -DKERNEL_B_GEMM="\"$here/engine/kernels_gemm.cpp\"" -DKERNEL_B_ATTENTION="\"$here/engine/kernels_attention.cpp\"" \
  -DKERNEL_A_NAME="\"$(git rev-parse --short "$rev")\"" -DKERNEL_B_NAME="\"the working tree\"" \
  bench/kernel_ab.cpp build/engine/libroofline_engine.a build/hardware/libroofline_hardware.a \
  build/common/libroofline_common.a \
  $(pkg-config --libs openblas) -lfmt -o "$work/kernel_ab"
"$work/kernel_ab" "$@"
