#!/usr/bin/env bash
# Regenerates docs/fidelity/fidelity.md: the published end-to-end measurements of docs/fidelity/measurements.csv
# against roofline's bound and expected figures (`roofline fidelity`), then the measured GEMM kernels of
# docs/fidelity/gemm-kernels.csv against the presets' GEMM figures. Builds first if needed.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -x build/roofline/roofline ]] || bash scripts/build.sh
{
  echo "# Fidelity: published end-to-end measurements against the bound and the expected figures"
  echo
  echo "Made by \`bash scripts/fidelity.sh\` (\`roofline fidelity --format markdown\`) from"
  echo "[measurements.csv](measurements.csv). error = expected / measured - 1. Nothing is fitted to these rows: the"
  echo "expected figures come from the presets' kernel-level efficiency figures. primary: the rows the targets are"
  echo "judged on; held_out: further measurements that check the model independently."
  echo
  build/roofline/roofline fidelity --table docs/fidelity/measurements.csv --format markdown
  echo
  echo "## GEMM kernels: measured kernel times against the presets' GEMM figures"
  echo
  echo "\`roofline fidelity --kernels docs/fidelity/gemm-kernels.csv\`: OpenXLA's measured matmul table"
  echo "(kDefaultMatmulPTable: b in {1,2,4} x m, n, k in {256, ..., 4096}, median kernel time of 5 runs) against the"
  echo "expected kernel time of each shape. The B200 and MI300X figures are fitted to these rows"
  echo "(scripts/fit-gemm-figures.py, on the compute-dominated shapes); the H100's come from other sources and are"
  echo "checked here. The H800 fp8_block rows are DeepGEMM's published table (deepseek-ai/DeepGEMM README, 2025-03-25:"
  echo "H800 SXM5, block-scaled fp8, kernel time with L2 flushed between calls; normal GEMMs at m = 64, 128, 4096 and"
  echo "contiguous grouped ones), judging the H100's figures, which the H800 preset carries, where weights stream"
  echo "cold at 64 and 128 rows. The H200 bf16 rows are cuBLAS (torch-cublas, the baseline column) in TileOPs' nightly"
  echo "report of 2026-08-29 (tile-ai/TileOPs-nightly README.md; TileOPs d9a3e5e, NVIDIA H200; CUPTI device-busy time,"
  echo "L2 zeroed before every call, benchmarks/benchmark_base.py; shapes from tileops/manifest/gemm.yaml, weights [n, k])."
  echo "error = expected / measured - 1."
  echo
  build/roofline/roofline fidelity --kernels docs/fidelity/gemm-kernels.csv --format markdown
} > docs/fidelity/fidelity.md.tmp
mv docs/fidelity/fidelity.md.tmp docs/fidelity/fidelity.md
echo "wrote docs/fidelity/fidelity.md"
