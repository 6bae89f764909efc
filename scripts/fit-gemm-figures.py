#!/usr/bin/env python3
"""Fits a GPU preset's GEMM figures (efficiency.gemm[_fp8].compute and gemm[_fp8]_fixed_s) to measured GEMM kernel
times: docs/fidelity/gemm-kernels.csv, OpenXLA's kDefaultMatmulPTable (see the presets' `openxla_table` source).

The model is the one hardware/efficiency.cpp ships (restated here, standard library only):
  time = fixed + max(FLOPs / (peak x efficiency x quantization), bytes / (bandwidth x memory fraction))
with quantization the best of six library tiles over the SMs, K split when the tiles are too few (up to the preset's
efficiency.gemm_split_k_max parts; 1, no split, where it gives none). The table times
kernels, so no launch cost is added. Least squares in log time, over the shapes whose compute term is at least
1.6x the memory term: the table's runs repeat on the same buffers, so its memory-bound shapes ran warm in L2, and
those are left to judge the fit (`roofline fidelity --kernels` judges every row with the C++ model).

Usage: python3 scripts/fit-gemm-figures.py [hw dtype ...]   (default: every OpenXLA grid in the table)
       python3 scripts/fit-gemm-figures.py --check   exit 1 unless every preset figure sourced to this fit (source
       openxla_table) is what the fit gives (the test `fit_gemm_figures` runs it)
"""
import csv
import json
import math
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
TILES = [(256, 128), (128, 256), (128, 128), (128, 64), (64, 128), (64, 64)]
BYTES_IN = {"bf16": 2, "fp8": 1}
PEAK_KEY = {"bf16": "bf16", "fp8": "fp8"}


def value(figure):
    return figure["value"] if isinstance(figure, dict) else figure


def quantization(m, n, groups, sms, max_split):
    best = 0.0
    for tm, tn in TILES:
        tiles = groups * math.ceil(m / tm) * math.ceil(n / tn)
        split = min(max(1, math.floor(sms / tiles)), max_split)
        units = tiles * split
        waves = math.ceil(units / sms)
        best = max(best, (m * n * groups) / (tiles * tm * tn) * units / (waves * sms))
    return min(1.0, best)


def terms(row, part, dtype):
    b, m, n, k = row
    compute = 2 * b * m * n * k / part["peak"][dtype] / quantization(m, n, b, part["sms"], part["split"])
    memory = (b * (m * k + n * k) * BYTES_IN[dtype] + b * m * n * 2) / part["bandwidth"] / part["memory"][dtype]
    return compute, memory


def log_errors(rows, efficiency, fixed):
    """rows: ((compute, memory), measured) per shape, its terms computed once (the tile search is most of the cost)."""
    return [math.log((fixed + max(compute / efficiency, memory)) / measured) for (compute, memory), measured in rows]


def summary(errors):
    a = sorted(abs(e) for e in errors)
    return "median |error| {:.1f}%, p90 {:.1f}%".format(100 * (math.exp(a[len(a) // 2]) - 1),
                                                       100 * (math.exp(a[int(0.9 * len(a))]) - 1))


def part_of(hw):
    p = json.load(open(os.path.join(ROOT, "hardware", "presets", hw + ".json")))
    e = p["efficiency"]
    gemm_memory = value(e.get("gemm", {}).get("memory", e["gemv"]["memory"]))
    return {
        "peak": {d: value(p["peak_flops_per_s"][PEAK_KEY[d]]) for d in BYTES_IN if PEAK_KEY[d] in p["peak_flops_per_s"]},
        "bandwidth": value(p["memory"]["bytes_per_s"]),
        "sms": value(e["sm_count"]),
        "split": value(e.get("gemm_split_k_max", 1)),
        "memory": {"bf16": gemm_memory, "fp8": value(e.get("gemm_fp8", {}).get("memory", gemm_memory))},
        "fitted_here": {"bf16": e["gemm"]["compute"].get("source") == "openxla_table",
                        "fp8": e.get("gemm_fp8", {}).get("compute", {}).get("source") == "openxla_table"},
        "shipped": {"bf16": (value(e["gemm"]["compute"]), value(e.get("gemm_fixed_s", 0))),
                    "fp8": (value(e.get("gemm_fp8", {}).get("compute", 0) or 0),
                            value(e.get("gemm_fp8_fixed_s", e.get("gemm_fixed_s", 0))))},
    }


def main():
    check = sys.argv[1:] == ["--check"]
    args = [] if check else sys.argv[1:]
    mismatches = 0
    table = {}
    with open(os.path.join(ROOT, "docs", "fidelity", "gemm-kernels.csv")) as f:
        for r in csv.DictReader(f):
            shape = tuple(int(r[c]) for c in ("b", "m", "n", "k"))
            table.setdefault((r["hw"], r["dtype"]), []).append((shape, 2 * math.prod(shape) / float(r["flops_per_s"])))
    # By default the OpenXLA grids (375 shapes each); the other rows are too few to fit and judge only.
    wanted = list(zip(args[0::2], args[1::2])) or sorted(
        key for key, rows in table.items() if key[1] in BYTES_IN and len(rows) >= 100)
    for hw, dtype in wanted:
        rows, part = table[(hw, dtype)], part_of(hw)
        if check and not part["fitted_here"][dtype]:
            continue  # figures from other sources (the H100's) are judged by `roofline fidelity --kernels`
        rows = [(terms(s, part, dtype), t) for s, t in rows]
        fitted = [(ct, t) for ct, t in rows if ct[0] >= 1.6 * ct[1]]
        best = None
        for e in range(300, 1001, 5):
            for f in range(0, 121):
                score = sum(x * x for x in log_errors(fitted, e / 1000, f * 0.25e-6))
                if best is None or score < best[0]:
                    best = (score, e / 1000, f * 0.25e-6)
        _, efficiency, fixed = best
        shipped_e, shipped_f = part["shipped"][dtype]
        print(f"{hw} {dtype}: fit efficiency {efficiency:.3f}, fixed {fixed * 1e6:.2f} us on {len(fitted)} of "
              f"{len(rows)} shapes ({summary(log_errors(fitted, efficiency, fixed))}; all shapes: "
              f"{summary(log_errors(rows, efficiency, fixed))})")
        if shipped_e:
            print(f"  shipped {shipped_e:.3f}, {shipped_f * 1e6:.2f} us: all shapes "
                  f"{summary(log_errors(rows, shipped_e, shipped_f))}")
        # The grid's steps are 0.005 and 0.25 us: a shipped figure sourced to this fit must be the fit's.
        if check and (abs(shipped_e - efficiency) > 1e-9 or abs(shipped_f - fixed) > 1e-12):
            print(f"  MISMATCH: hardware/presets/{hw}.json ships {shipped_e}, {shipped_f} s, cited to this fit")
            mismatches += 1
    if check:
        print(f"fit-gemm-figures: {mismatches} shipped figure pair(s) differ from the fit")
        sys.exit(1 if mismatches else 0)


if __name__ == "__main__":
    main()
