#!/usr/bin/env bash
# The main job (README): install what is missing, build, and analyze Llama-2-7B on an A100-80GB SXM for a
# 1024-token prompt followed by 128 decode steps, at batch 1 and batch 8. Prints the tables and writes to out/
# (OUT_DIR=... to move) the JSON analyses, the roofline charts (PNG, with their gnuplot script and data) and
# the HTML reports (one self-contained page per analysis: its tables and charts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
out=${OUT_DIR:-out}
mkdir -p "$out"
for batch in 1 8; do
  args=(--model llama-2-7b --hw a100-80g-sxm --batch "$batch" --prompt 1024 --gen 128)
  echo "=== roofline analyze ${args[*]}"
  build/roofline/roofline analyze "${args[@]}"
  build/roofline/roofline analyze "${args[@]}" --format json -o "$out/llama-2-7b_a100-80g-sxm_b$batch.json"
  echo "wrote $out/llama-2-7b_a100-80g-sxm_b$batch.json"
  build/roofline/roofline plot "${args[@]}" -o "$out/llama-2-7b_a100-80g-sxm_b$batch.png"
  build/roofline/roofline report "${args[@]}" -o "$out/llama-2-7b_a100-80g-sxm_b$batch.html"
  echo
done
