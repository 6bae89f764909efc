// Efficiency: what a device's kernels attain of its roofs, shipped in a preset from public kernel-level
// measurements (microbenchmarks, kernel papers), every figure with its source. It gives expected times where the
// user has not calibrated the profile (a profile's "calibration" always wins):
//   expected = overhead + max(compute time / compute efficiency, memory time / memory efficiency)
// per kernel class, the overhead being one kernel launch (eager in prefill, in a CUDA graph in decode, as serving
// frameworks run them) and, for GEMMs and decode attention, their fixed time beyond the work (the intercept of a
// size sweep: what small calls lose). GEMMs are further lowered by wave and tile quantization over the SMs, for the
// best of the output tiles a GEMM library picks from (Mt x Nt from 256x128 down to 64x64), K split s ways when the
// tiles are fewer than the SMs:
//   tiles = groups x ceil(M/Mt) x ceil(N/Nt); s = max(1, floor(SMs / tiles)); waves = ceil(tiles s / SMs);
//   quantization = max over tiles of (M N groups / (tiles Mt Nt)) x (tiles s / (waves SMs))
#pragma once

#include <optional>
#include <vector>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "hardware/calibration.hpp"
#include "hardware/figure.hpp"

namespace hardware {

struct Efficiency {
  // Attained fractions (0, 1] of the compute and bandwidth roofs, per kernel class; absent: not published.
  struct Fractions {
    std::optional<Figure> compute, memory;
  };
  Fractions gemm;               // large GEMMs at 16-bit (cuBLAS-class, best shapes)
  Fractions gemm_fp8;           // the same at fp8 (block-float weights included)
  Fractions gemv;               // a few rows: weights streamed once (decode projections)
  Fractions attention_prefill;  // FlashAttention-class fused attention over a prompt
  Fractions attention_decode;   // paged decode attention: the KV cache streamed
  Fractions attention_decode_fp8;  // the same over an fp8 KV cache (dequantized on the CUDA cores)
  Fractions elementwise;        // norms, activations, adds: read and write streams
  std::optional<Figure> gemm_fixed_s;     // a GEMM's fixed time beyond its work (pipeline fill and drain), from a
                                          // size sweep: t(1024^3) - FLOPs / (peak x the large-size fraction)
  std::optional<Figure> gemm_fp8_fixed_s;  // the same for fp8 GEMMs where their library path differs (gemm_fixed_s
                                           // where absent)
  std::optional<Figure> attention_decode_fixed_s;  // a decode attention call's fixed time beyond its stream (fill,
                                                   // drain, the split-K merge), from a size sweep's intercept
  std::optional<Figure> kernel_launch_s;  // per kernel launched on a stream
  std::optional<Figure> graph_launch_s;   // per kernel node of a CUDA graph (decode steps)
  std::optional<Figure> step_overhead_s;  // the serving framework's scheduling and sampling per step
  std::optional<Figure> sm_count;         // SMs (CUs): the wave size of a GEMM
  std::optional<Figure> gemm_split_k_max;  // the most parts a GEMM library splits K into when its output tiles leave
                                           // SMs idle (absent: 1, no split: cuBLAS at most shapes)
  // A causal prefill attention kernel's tile (query rows x key columns) and how many of its CTAs an SM holds: what
  // its tile and wave quantization depend on. These three serve every head dim that attention_tiles leaves out.
  std::optional<Figure> attention_tile_rows, attention_tile_cols, attention_ctas_per_sm;
  // The tile by head dim: each entry serves head dims up to its own and above the entry before (FlashAttention
  // compiles a kernel per head dim and rounds a model's up to the next); ascending.
  struct AttentionTile {
    double head_dim = 0, rows = 0, cols = 0, ctas_per_sm = 1;
    std::string source, note;
  };
  std::vector<AttentionTile> attention_tiles;
};

// The prefill attention tile for a head dim: the first attention_tiles entry that covers it, else the single
// figures; nullopt when the profile has neither. (No strings: the analysis asks once per prompt attention op.)
struct TileShape {
  double rows = 0, cols = 0, ctas_per_sm = 1;
};
std::optional<TileShape> attention_tile_for(const Efficiency& e, double head_dim);

// Parses the profile's "efficiency" object (figures as elsewhere: numbers or {value, source, note}); sources
// resolve against the file's "sources" map. Errors are ProfileError(origin, "efficiency.<field>", ...).
Efficiency parse_efficiency(const nlohmann::json& j, const std::string& origin, const nlohmann::json* sources);
nlohmann::json to_json(const Efficiency& e);

// The expectation the figures give, as calibration fits (per class and phase), its source naming the preset.
// Classes with no published figure get no fit: their expected time stays unknown rather than invented.
Calibration shipped_calibration(const Efficiency& e, const std::string& profile_name);

// Wave and tile quantization of a GEMM writing `groups` outputs of m x n (grouped expert GEMMs: groups > 1)
// over `sms` SMs, K split into at most `max_split` parts where tiles leave SMs idle: the fraction of the SMs' tile
// slots doing useful work under the best tile, in (0, 1].
double gemm_quantization(double m, double n, double groups, double sms, double max_split = 1);

// The K-split limit a profile gives gemm_quantization: its gemm_split_k_max, else 1.
double gemm_split_k_max(const Efficiency& e);

// The same for causal prefill attention, FlashAttention's grid: one CTA per (sequence, head, block of `rows` query
// rows), each over the blocks of `cols` keys up to its last query. For `heads` (sequences x query heads) alike of q
// new tokens after `cached` ones, on `slots` CTA slots (SMs x CTAs per SM):
//   CTA j's work w_j = rows x cols x ceil((cached + min((j+1) rows, q)) / cols) pairs, j < ceil(q / rows) (summed
//   in closed form, rows and cols whole numbers);
//   makespan = max(w_last, mean w x ceil(CTAs / slots)) (the longest CTA, or the waves of mean ones);
//   quantization = causal pairs (q cached + q (q+1)/2 per head) / (slots x makespan), in (0, 1].
double attention_quantization(double heads, double q, double cached, double rows, double cols, double slots);

}  // namespace hardware
