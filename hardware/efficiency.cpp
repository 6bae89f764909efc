#include "hardware/efficiency.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cmath>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "hardware/figure_reader.hpp"

namespace hardware {
namespace {

using nlohmann::json;
using detail::Reader;

struct ClassKey {
  const char* key;
  Efficiency::Fractions Efficiency::*slot;
};
constexpr std::array<ClassKey, 7> kClasses = {{{"gemm", &Efficiency::gemm},
                                               {"gemm_fp8", &Efficiency::gemm_fp8},
                                               {"gemv", &Efficiency::gemv},
                                               {"attention_prefill", &Efficiency::attention_prefill},
                                               {"attention_decode", &Efficiency::attention_decode},
                                               {"attention_decode_fp8", &Efficiency::attention_decode_fp8},
                                               {"elementwise", &Efficiency::elementwise}}};
struct FigureKey {
  const char* key;
  std::optional<Figure> Efficiency::*slot;
};
constexpr std::array<FigureKey, 11> kFigures = {{{"gemm_fixed_s", &Efficiency::gemm_fixed_s},
                                                {"gemm_fp8_fixed_s", &Efficiency::gemm_fp8_fixed_s},
                                                {"attention_decode_fixed_s", &Efficiency::attention_decode_fixed_s},
                                                {"kernel_launch_s", &Efficiency::kernel_launch_s},
                                                {"graph_launch_s", &Efficiency::graph_launch_s},
                                                {"step_overhead_s", &Efficiency::step_overhead_s},
                                                {"sm_count", &Efficiency::sm_count},
                                                {"gemm_split_k_max", &Efficiency::gemm_split_k_max},
                                                {"attention_tile_rows", &Efficiency::attention_tile_rows},
                                                {"attention_tile_cols", &Efficiency::attention_tile_cols},
                                                {"attention_ctas_per_sm", &Efficiency::attention_ctas_per_sm}}};

// The fields an "efficiency" object may hold, in table order, for the error that names them.
std::string known_fields() {
  std::string names;
  for (const ClassKey& c : kClasses) names += std::string(c.key) + ", ";
  for (const FigureKey& f : kFigures) names += std::string(f.key) + ", ";
  return names + "attention_tiles";
}

// An attained fraction: in (0, 1].
std::optional<Figure> fraction(const Reader& r, const json& parent, const char* key, const std::string& field) {
  auto f = r.optional_figure(parent, key, field);
  if (f && f->value > 1) r.fail(field + ".value", fmt::format("an attained fraction must be in (0, 1], got {}", f->value));
  return f;
}

// A tile side or a CTA count: a whole number in [1, 4096] (v already positive).
void check_whole(const Reader& r, double v, const std::string& field) {
  if (v != std::floor(v) || v > 4096) r.fail(field, fmt::format("must be a whole number up to 4096, got {}", v));
}
double whole(const Reader& r, const json& j, const std::string& field) {
  const double v = r.positive(j, field);
  check_whole(r, v, field);
  return v;
}

// "attention_tiles": [{"head_dim", "rows", "cols", "ctas_per_sm", "source", "note"}, ...], head dims ascending.
std::vector<Efficiency::AttentionTile> attention_tiles(const Reader& r, const json& j, const std::string& field) {
  if (!j.is_array()) r.fail(field, fmt::format("must be a JSON array, got {}", j.type_name()));
  std::vector<Efficiency::AttentionTile> tiles;
  for (std::size_t i = 0; i < j.size(); ++i) {
    const std::string at = fmt::format("{}[{}]", field, i);
    r.object(j[i], at);
    for (const auto& [k, v] : j[i].items())
      if (k != "head_dim" && k != "rows" && k != "cols" && k != "ctas_per_sm" && k != "source" && k != "note")
        r.fail(at + "." + k, "unknown field (expected head_dim, rows, cols, ctas_per_sm, source, note)");
    Efficiency::AttentionTile t;
    for (auto [key, slot] : {std::pair{"head_dim", &t.head_dim}, {"rows", &t.rows}, {"cols", &t.cols}}) {
      if (!j[i].contains(key)) r.fail(at + "." + key, "is required");
      *slot = whole(r, j[i][key], at + "." + key);
    }
    if (j[i].contains("ctas_per_sm")) t.ctas_per_sm = whole(r, j[i]["ctas_per_sm"], at + ".ctas_per_sm");
    t.source = r.source(j[i], at + ".source");
    t.note = r.string(j[i], "note", at + ".note", false);
    if (!tiles.empty() && t.head_dim <= tiles.back().head_dim)
      r.fail(at + ".head_dim", fmt::format("head dims must ascend: {} after {}", t.head_dim, tiles.back().head_dim));
    tiles.push_back(t);
  }
  return tiles;
}

}  // namespace

std::optional<TileShape> attention_tile_for(const Efficiency& e, double head_dim) {
  for (const Efficiency::AttentionTile& t : e.attention_tiles)
    if (head_dim <= t.head_dim) return TileShape{t.rows, t.cols, t.ctas_per_sm};
  if (!e.attention_tile_rows) return std::nullopt;
  return TileShape{e.attention_tile_rows->value, e.attention_tile_cols->value,
                   e.attention_ctas_per_sm ? e.attention_ctas_per_sm->value : 1};
}

Efficiency parse_efficiency(const json& j, const std::string& origin, const json* sources) {
  Reader r{origin, sources};
  r.object(j, "efficiency");
  Efficiency e;
  for (const auto& [k, v] : j.items()) {
    const std::string field = "efficiency." + k;
    bool known = false;
    for (const ClassKey& c : kClasses) {
      if (k != c.key) continue;
      known = true;
      r.object(v, field);
      for (const auto& [part, ignored] : v.items())
        if (part != "compute" && part != "memory") r.fail(field + "." + part, "unknown field (expected compute, memory)");
      e.*c.slot = {fraction(r, v, "compute", field + ".compute"), fraction(r, v, "memory", field + ".memory")};
    }
    for (const FigureKey& f : kFigures) {
      if (k != f.key) continue;
      known = true;
      e.*f.slot = r.figure(v, field);
    }
    if (k == "attention_tiles") {
      known = true;
      e.attention_tiles = attention_tiles(r, v, field);
    }
    if (!known) r.fail(field, fmt::format("unknown field (expected {})", known_fields()));
  }
  if (e.sm_count && (e.sm_count->value != std::floor(e.sm_count->value) || e.sm_count->value > 1e6))
    r.fail("efficiency.sm_count.value", fmt::format("must be a whole number of SMs, got {}", e.sm_count->value));
  for (auto [key, f] : {std::pair{"gemm_split_k_max", &e.gemm_split_k_max},
                        std::pair{"attention_tile_rows", &e.attention_tile_rows},
                        std::pair{"attention_tile_cols", &e.attention_tile_cols},
                        std::pair{"attention_ctas_per_sm", &e.attention_ctas_per_sm}})
    if (*f) check_whole(r, (*f)->value, fmt::format("efficiency.{}.value", key));
  if (e.attention_tile_rows.has_value() != e.attention_tile_cols.has_value())
    r.fail("efficiency.attention_tile_rows", "attention_tile_rows and attention_tile_cols come together");
  return e;
}

json to_json(const Efficiency& e) {
  json j = json::object();
  for (const ClassKey& c : kClasses) {
    const Efficiency::Fractions& f = e.*c.slot;
    if (!f.compute && !f.memory) continue;
    json o = json::object();
    if (f.compute) o["compute"] = detail::figure_json(*f.compute);
    if (f.memory) o["memory"] = detail::figure_json(*f.memory);
    j[c.key] = o;
  }
  for (const FigureKey& f : kFigures)
    if (e.*f.slot) j[f.key] = detail::figure_json(*(e.*f.slot));
  if (!e.attention_tiles.empty()) {
    json tiles = json::array();
    for (const Efficiency::AttentionTile& t : e.attention_tiles) {
      json o = {{"head_dim", t.head_dim}, {"rows", t.rows}, {"cols", t.cols}, {"ctas_per_sm", t.ctas_per_sm}};
      if (!t.source.empty()) o["source"] = t.source;
      if (!t.note.empty()) o["note"] = t.note;
      tiles.push_back(o);
    }
    j["attention_tiles"] = tiles;
  }
  return j;
}

Calibration shipped_calibration(const Efficiency& e, const std::string& profile_name) {
  Calibration c;
  c.source = fmt::format("{}'s published kernel-level efficiencies (the preset's efficiency figures and sources)",
                         profile_name);
  const double eager = e.kernel_launch_s ? e.kernel_launch_s->value : 0;
  const double graph = e.graph_launch_s ? e.graph_launch_s->value : eager;
  auto value = [](const std::optional<Figure>& f) { return f ? f->value : 1.0; };
  auto seconds = [](const std::optional<Figure>& f) { return f ? f->value : 0.0; };
  // A class is fitted where its binding roof has a figure: GEMMs need a compute fraction, the streaming classes a
  // memory one. The other roof defaults to 1 (the bound itself) when unpublished. fixed_s: the class's own time per
  // call beyond its launch (a GEMM's, a decode attention call's).
  auto fit = [&](KernelClass kind, const std::string& weights, const char* phase, const Efficiency::Fractions& f,
                 double fixed_s) {
    EfficiencyFit x;
    x.kind = kind;
    x.weights = weights;
    x.phase = phase;
    x.compute_efficiency = value(f.compute);
    x.memory_efficiency = value(f.memory);
    x.overhead_s = (std::string(phase) == "decode" ? graph : eager) + fixed_s;
    c.fits.push_back(x);
  };
  auto add = [&](KernelClass kind, const std::string& weights, const Efficiency::Fractions& f, bool needs_compute,
                 double fixed_s) {
    if (needs_compute ? !f.compute : !f.memory) return;
    for (const char* phase : {"prefill", "decode"}) fit(kind, weights, phase, f, fixed_s);
  };
  Efficiency::Fractions gemm = e.gemm;
  if (!gemm.memory) gemm.memory = e.gemv.memory;  // a GEMM that streams its weights reads as a GEMV does
  add(KernelClass::gemm, "", gemm, true, seconds(e.gemm_fixed_s));
  for (const char* w : {"fp8", "fp8_block"}) {
    Efficiency::Fractions fp8 = e.gemm_fp8;
    if (!fp8.memory) fp8.memory = gemm.memory;
    add(KernelClass::gemm, w, fp8, true, seconds(e.gemm_fp8_fixed_s ? e.gemm_fp8_fixed_s : e.gemm_fixed_s));
  }
  Efficiency::Fractions gemv = e.gemv;
  if (!gemv.compute) gemv.compute = e.gemm.compute;
  add(KernelClass::gemv, "", gemv, false, 0);
  // Attention: a prompt's runs at the prefill compute fraction; a decode step streams the KV cache, at its own
  // figure or, where none is published, at the stream-read fraction (both read a large array once), and pays the
  // decode call's fixed time.
  const std::optional<Figure> kv_stream = e.attention_decode.memory ? e.attention_decode.memory : e.gemv.memory;
  const double decode_fixed = seconds(e.attention_decode_fixed_s);
  if (e.attention_prefill.compute)
    fit(KernelClass::attention, "", "prefill", {e.attention_prefill.compute, kv_stream}, 0);
  if (kv_stream) fit(KernelClass::attention, "", "decode", {e.attention_prefill.compute, kv_stream}, decode_fixed);
  // An fp8 cache is dequantized on the way in: where that was measured, its decode streams at its own fraction.
  if (e.attention_decode_fp8.memory)
    fit(KernelClass::attention, "fp8", "decode", {e.attention_prefill.compute, e.attention_decode_fp8.memory},
        decode_fixed);
  add(KernelClass::elementwise, "", e.elementwise, false, 0);
  return c;
}

namespace {

double tile_quantization(double m, double n, double groups, double sms, double max_split) {
  // cuBLAS-class libraries pick among output tiles (the guide's 256x128 and 128x256 down to 64x64) and, some of
  // them, split K when the tiles are too few to fill the SMs; the best choice wastes the least: padding of the last
  // tile row and column, and idle SMs in the last wave.
  constexpr std::array<std::pair<double, double>, 6> kTiles = {
      {{256, 128}, {128, 256}, {128, 128}, {128, 64}, {64, 128}, {64, 64}}};
  double best = 0;
  for (const auto& [tm, tn] : kTiles) {
    const double tiles = groups * std::ceil(m / tm) * std::ceil(n / tn);
    const double split = std::clamp(std::floor(sms / tiles), 1.0, max_split);  // K split into this many parts
    const double units = tiles * split, waves = std::ceil(units / sms);
    const double padding = (m * n * groups) / (tiles * tm * tn);
    best = std::max(best, padding * units / (waves * sms));
  }
  return std::min(1.0, best);
}

}  // namespace

double gemm_split_k_max(const Efficiency& e) { return e.gemm_split_k_max ? e.gemm_split_k_max->value : 1.0; }

double gemm_quantization(double m, double n, double groups, double sms, double max_split) {
  if (m <= 0 || n <= 0 || groups <= 0 || sms <= 0) return 1;
  max_split = std::max(1.0, max_split);
  // A simulation asks for the same few shapes step after step: a small per-thread memo, direct-mapped on the
  // shape's bits, saves the tile search (a few dozen divisions).
  struct Entry {
    double m = -1, n = 0, groups = 0, sms = 0, max_split = 0, value = 0;
  };
  thread_local std::array<Entry, 256> memo;
  const auto bits = [](double v) { return std::bit_cast<std::uint64_t>(v); };
  const std::uint64_t h = (bits(m) * 0x9E3779B97F4A7C15ull) ^ (bits(n) * 0xC2B2AE3D27D4EB4Full) ^
                          (bits(groups) * 0x165667B19E3779F9ull) ^ bits(sms) ^ (bits(max_split) * 0x27D4EB2F165667C5ull);
  Entry& e = memo[(h >> 32) % memo.size()];
  if (e.m == m && e.n == n && e.groups == groups && e.sms == sms && e.max_split == max_split) return e.value;
  e = {m, n, groups, sms, max_split, tile_quantization(m, n, groups, sms, max_split)};
  return e.value;
}

namespace {

// sum over i < n of floor((a i + b) / m), n, m > 0 and a, b >= 0: the Euclid-like reduction (a and b below m, then
// the roles of a and m swap), O(log m) steps.
std::int64_t floor_sum(std::int64_t n, std::int64_t m, std::int64_t a, std::int64_t b) {
  std::int64_t sum = 0;
  while (true) {
    if (a >= m) {
      sum += n * (n - 1) / 2 * (a / m);
      a %= m;
    }
    if (b >= m) {
      sum += n * (b / m);
      b %= m;
    }
    const std::int64_t top = a * n + b;
    if (top < m) return sum;
    n = top / m;
    b = top % m;
    std::swap(m, a);
  }
}

// Key blocks over query blocks j = 0 .. n-1 ending at cached + (j+1) rows: sum of ceil((cached + (j+1) rows) / cols).
// With cached = c + f (c whole, 0 <= f < 1) and rows, cols whole: ceil((N + f) / cols) = floor(N / cols) + 1 for
// f > 0, and floor((N + cols - 1) / cols) for f = 0, N = c + (j+1) rows whole.
double key_blocks(double n, double cached, double rows, double cols) {
  if (n <= 0) return 0;
  const double c = std::floor(cached), f = cached - c;
  if (n > double(1 << 22) || c > 0x1p40) return n * ((cached + rows * (n + 1) / 2) / cols + 0.5);  // beyond any prompt
  const auto in = std::int64_t(n), ir = std::int64_t(rows), ik = std::int64_t(cols), ic = std::int64_t(c);
  if (f > 0) return double(floor_sum(in, ik, ir, ic + ir)) + n;
  return double(floor_sum(in, ik, ir, ic + ir + ik - 1));
}

}  // namespace

double attention_quantization(double heads, double q, double cached, double rows, double cols, double slots) {
  if (heads <= 0 || q <= 0 || rows <= 0 || cols <= 0 || slots <= 0) return 1;
  // Whole query blocks j = 0 .. full-1 end at cached + (j+1) rows; a partial last block ends at cached + q.
  const double full = std::floor(q / rows);
  double blocks = key_blocks(full, cached, rows, cols);  // key blocks over the whole query blocks
  const double partial = q - full * rows > 0 ? 1 : 0;
  blocks += partial * std::ceil((cached + q) / cols);
  const double ctas_per_head = full + partial;
  const double work = rows * cols * blocks;                              // pairs computed, one head
  const double last = rows * cols * std::ceil((cached + q) / cols);      // the longest CTA's pairs
  const double makespan = std::max(last, work / ctas_per_head * std::ceil(heads * ctas_per_head / slots));
  const double useful = heads * (q * cached + q * (q + 1) / 2);
  return std::min(1.0, useful / (slots * makespan));
}

}  // namespace hardware
