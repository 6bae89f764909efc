// Validation: measured kernel times placed against opmodel's roofline predictions, op by op.
//
// Join key: (op name, phase, batch, q_len, kv_len). Every step shape that was measured is analyzed with
// opmodel; an op measured but not predicted, or predicted but not measured, is a ValidationError (a
// silent drop would hide a drift between the engine and the cost model).
//
// Counting: a measurement is one sample per op instance (one layer's call, or the call of a per-step op),
// so the median over layers x repetitions is compared with opmodel's per-instance time (OpPoint.time_s),
// not with count x time_s.
//
// Caches: each row's roof times are the warm hierarchical ones of core/expected_time.hpp (weights and KV from
// the level holding the step's stream, activations from the level holding the op's own traffic).
#pragma once

#include <compare>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/input_error.hpp"
#include "engine/probe.hpp"
#include "hardware/profile.hpp"
#include "opmodel/model_config.hpp"
#include "opmodel/scenario.hpp"
#include "roofline/core/analysis.hpp"
#include "roofline/core/classify.hpp"
#include "roofline/core/expected_time.hpp"

namespace roofline {

class ValidationError : public common::InputError {
 public:
  // message: the whole text, naming the file or origin, the line or field, and the value at fault.
  explicit ValidationError(const std::string& message) : InputError({}, {}, message, message) {}
};

// The kernel classes an efficiency is fitted for (hardware/calibration.hpp; core/expected_time.hpp decides
// which class an op falls in).
using ValidationKind = hardware::KernelClass;

struct StepKey {
  Phase phase = Phase::prefill;
  std::int64_t batch = 1, q_len = 1, kv_len = 0;
  auto operator<=>(const StepKey&) const = default;
};

// Every timing of one op at one step shape, in seconds per instance.
struct Measurement {
  std::string op;
  StepKey step;
  std::vector<double> seconds;
};

// Groups probe records by (op, step shape); each record is one sample.
std::vector<Measurement> measurements_from_records(std::span<const engine::KernelRecord> records);
// CSV with the header op,phase,batch,q_len,kv_len,seconds: seconds of one instance; rows with the same key
// are repetitions. Throws ValidationError naming origin and line.
std::vector<Measurement> parse_measured_csv(const std::string& text, const std::string& origin);

struct Spread {
  double median = 0, min = 0, max = 0;
  std::int64_t samples = 0;
};
Spread spread_of(std::vector<double> v);  // v non-empty

using Calibration = hardware::Calibration;

struct ValidationRow {
  std::string op;
  std::string weights;         // weight dtype of the scenario
  std::string kernel_weights;  // the calibration's key (kernel_weights())
  ValidationKind kind = ValidationKind::elementwise;
  StepKey step;
  double flops = 0, bytes = 0;  // one instance
  hardware::Precision precision = hardware::Precision::fp32;
  double peak_flops_per_s = 0;
  std::string stream_level, act_level;  // where weights/KV and activations are served from
  double bytes_per_s = 0;               // effective: bytes / memory time
  double compute_s = 0;                 // flops / peak
  double memory_s = 0;                  // bytes at their levels' bandwidths
  double predicted_s = 0;               // max(compute_s, memory_s): the bound
  Bound predicted_bound = Bound::memory;
  double main_memory_predicted_s = 0;   // the same with every byte from main memory (`roofline analyze`)
  Bound main_memory_bound = Bound::memory;  // `roofline analyze`'s label
  Spread measured_s;
  double achieved_flops_per_s = 0, achieved_bytes_per_s = 0;  // at the median
  double roof_fraction = 0;  // predicted / measured: share of the attainable performance reached
  // The higher of achieved/peak and achieved/bandwidth (the hierarchical one). With the modeled FLOPs and
  // bytes this equals predicted_bound by construction, so agreement is counted against main_memory_bound:
  // does `roofline analyze`'s label survive once the caches are accounted for?
  Bound binding = Bound::memory;
  std::optional<double> expected_s;  // the calibrated expectation (core/expected_time.hpp), when calibrated
  std::string half;                  // --sweep: "fit" or "held-out"; empty otherwise
  double error() const { return (predicted_s - measured_s.median) / measured_s.median; }
  std::optional<double> expected_error() const {
    if (!expected_s) return std::nullopt;
    return (*expected_s - measured_s.median) / measured_s.median;
  }
};

// Joins measurements to opmodel's ops on the profile (base supplies dtypes, attention, fusion; each step
// shape its batch, q_len, kv_len). Throws ValidationError on a mismatch, opmodel::ModelError on a bad
// scenario, hardware::ProfileError for a missing peak.
std::vector<ValidationRow> validate_ops(const opmodel::ModelConfig& m, const opmodel::Scenario& base,
                                        const hardware::Profile& hw, std::span<const Measurement> measured);

// The fusions of a report's scenario in words: "unfused", or "fused: add_norm".
std::string fusion_text(const opmodel::Fusion& f);

// Accuracy of one group of rows (an op kind in a phase, or "all").
struct GroupStats {
  std::string kind, phase;  // "all" for the union
  std::int64_t ops = 0;
  double median_abs_error = 0, p90_abs_error = 0;  // |predicted - measured| / measured
  double bound_agreement = 0;  // share of rows whose main-memory (`analyze`) bound is the binding resource
  double median_roof_fraction = 0;
  std::optional<double> expected_median_abs_error, expected_p90_abs_error;  // when calibrated
};
std::vector<GroupStats> statistics(std::span<const ValidationRow> rows);

}  // namespace roofline
