// HardwareProfile: a device's roofs (peak FLOP/s per precision, bandwidth and size of each memory level,
// capacity, interconnect), every number with its source. Parsed from JSON (presets or user files).
//
// Units: FLOP/s counts dense (not 2:4 sparse) peaks, 1 multiply-add = 2 FLOP; bytes and bytes/s are SI
// (1 GB = 1e9 B). A figure nobody gave is absent (std::optional), never zero.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "hardware/calibration.hpp"
#include "hardware/efficiency.hpp"
#include "hardware/figure.hpp"
#include "hardware/precision.hpp"

namespace hardware {

struct MemoryLevel {
  std::string name;                   // "HBM3", "DDR5", "L2", ...
  std::optional<Figure> bytes_per_s;  // sustained or peak bandwidth, as the source gives it
  std::optional<Figure> size_bytes;   // capacity of this level
};

struct Interconnect {
  std::string name;
  std::optional<Figure> bytes_per_s_per_direction;  // per device; datasheets often quote both directions summed
  std::optional<Figure> latency_s;
  // Collectives as measured (nccl-tests on 8 devices): the fraction of the per-direction bandwidth a large ring
  // all-reduce attains (bus bandwidth / link), and the time of one small-message all-reduce (its latency floor).
  std::optional<Figure> allreduce_bus_efficiency;
  std::optional<Figure> allreduce_small_s;
  // Expected all-to-all (MoE dispatch and combine): the attained fraction of the link for the bytes leaving a
  // device (nccl-tests' bus bandwidth convention), and the time of a near-empty call.
  std::optional<Figure> alltoall_bus_efficiency;
  std::optional<Figure> alltoall_small_s;
  std::string note;
};

struct Profile {
  std::string name;         // preset key or user-chosen name
  std::string description;  // "NVIDIA A100 80GB SXM4"
  std::string kind;         // "gpu" | "cpu" | ...
  std::array<std::optional<Figure>, kAllPrecisions.size()> peak_flops_per_s{};  // indexed by Precision
  // 2:4 structured-sparsity peaks as datasheets headline them, kept apart: shown, never used for a time (dense
  // GEMMs cannot use them), and each at least its dense peak.
  std::array<std::optional<Figure>, kAllPrecisions.size()> sparse_peak_flops_per_s{};
  MemoryLevel memory;               // main memory (HBM/DRAM): bytes_per_s is required
  std::vector<MemoryLevel> caches;  // on-chip levels, innermost first, last-level cache last
  std::optional<Interconnect> interconnect;
  std::string origin;  // where it was loaded from ("preset a100-80g-sxm" or a file path)
  // The layers applied over the origin (hardware/layers.hpp): "patch FILE", "KEY=VALUE"; empty when none.
  // Not written by to_json: a saved profile holds the overridden figures themselves.
  std::vector<std::string> overrides;
  // How a measured profile was made (roofline measure-host: CPU, ISA, threads, date, 1-thread figures,
  // the sweep); a JSON object kept as written. Null when absent. Held through a pointer so this header
  // needs only json_fwd.hpp; it is immutable, so copies of the profile may share it.
  std::shared_ptr<const nlohmann::json> provenance;
  // Achievable efficiencies fitted by `roofline validate --sweep`; absent until calibrated.
  std::optional<Calibration> calibration;
  // A preset's published kernel-level efficiencies (efficiency.hpp), and the fits they give (derived at parse
  // time, not written back: to_json writes the figures).
  std::optional<Efficiency> efficiency;
  std::optional<Calibration> shipped;
  // Where expected times come from: the user's calibration, else the shipped figures' fits; null when neither.
  const Calibration* expectations() const {
    return calibration ? &*calibration : shipped ? &*shipped : nullptr;
  }

  const std::optional<Figure>& peak(Precision p) const {
    return peak_flops_per_s[static_cast<std::size_t>(p)];
  }
  // Peak of precision p; throws ProfileError naming the precisions the profile does have.
  double require_peak(Precision p) const;
  double memory_bytes_per_s() const { return memory.bytes_per_s->value; }
  std::optional<double> capacity_bytes() const;
  std::vector<Precision> precisions() const;  // those with a peak, in kAllPrecisions order
};

// Parses and validates a profile (schema: "Hardware profiles" in the top-level README). origin names it in errors.
Profile parse_profile(const nlohmann::json& j, const std::string& origin);
// Parses JSON text; malformed JSON is a ProfileError with the parser's position.
Profile parse_profile_text(const std::string& text, const std::string& origin);
// Reads a profile file. Throws ProfileError (unreadable, malformed, invalid field).
Profile load_profile_file(const std::string& path);
// Physical plausibility, beyond the schema's "positive and finite": peaks in [1e6, 1e18] FLOP/s, bandwidths
// (memory, caches, interconnect) in [1e6, 1e15] B/s, sizes in [1, 1e15] B, latency in [1e-10, 10] s. A figure
// outside (1.7e308 B/s, 1e-300 FLOP/s: a typo or a unit slip) is a ProfileError naming the field and value;
// the command line's --force accepts it.
void check_plausible(const Profile& p);
// Serialises back to the same schema (sources inlined); parse_profile(to_json(p)) == p.
nlohmann::json to_json(const Profile& p);

}  // namespace hardware
