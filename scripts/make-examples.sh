#!/usr/bin/env bash
# Regenerates the example charts of the README in docs/examples/ (PNG, each with its gnuplot script .gp and
# data .dat beside it): Llama-2-7B on an A100-80GB SXM with a 1024-token prompt, its prefill and its decode at
# batch 1, 8 and 64 on one roofline; the same request on three profiles; and where each step's time goes.
# Same gnuplot, cairo and DejaVu fonts, same bytes. Then the host example: this machine's roofs measured, the
# reference engine's kernels timed on the tiny model and plotted against them; measured, so it differs from
# host to host and run to run (--no-host skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
out=docs/examples
mkdir -p "$out"
roofline=build/roofline/roofline
llama=(--model llama-2-7b --hw a100-80g-sxm --prompt 1024)
# Batch 1: prefill and decode points for every op; --batch-sweep adds decode at batch 8 and 64 (linear and
# attention ops), joined per op.
"$roofline" plot "${llama[@]}" --batch 1 --batch-sweep 1,8,64 -o "$out/llama-2-7b_a100_prefill-decode.png"
"$roofline" plot "${llama[@]}" --batch 8 --compare h100-sxm,mi300x -o "$out/llama-2-7b_a100-h100-mi300x.png"
"$roofline" plot "${llama[@]}" --batch 8 --chart breakdown -o "$out/llama-2-7b_a100_breakdown.png"

if [[ "${1:-}" == "--no-host" ]]; then exit 0; fi
# The profile and the validation are kept beside the chart: the inputs of `plot --measured` and `report
# --validation`, and a real example of each format.
"$roofline" measure-host -o "$out/host_profile.json"
"$roofline" validate --model tiny --prompt 64 --kv-len 256 --hw "$out/host_profile.json" --format json \
    -o "$out/host_tiny_validate.json"
"$roofline" plot --measured "$out/host_tiny_validate.json" --hw "$out/host_profile.json" \
    -o "$out/host_tiny_measured.png"
# Llama-2-7B's layer shapes (one layer: 0.8 GB of fp32 weights, plus embedding and lm_head): a 512-token
# prefill and a decode step at 1024 cached tokens, as a chart and as the HTML validation report.
"$roofline" validate --model llama-2-7b --layers 1 --prompt 512 --kv-len 1024 --hw "$out/host_profile.json" \
    --format json -o "$out/host_llama-2-7b_validate.json"
"$roofline" plot --measured "$out/host_llama-2-7b_validate.json" --hw "$out/host_profile.json" \
    -o "$out/host_llama-2-7b_measured.png"
"$roofline" report --validation "$out/host_llama-2-7b_validate.json" --hw "$out/host_profile.json" \
    -o "$out/host_llama-2-7b_validation.html"
