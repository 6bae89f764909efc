// Fidelity: published end-to-end measurements (vendor performance tables, framework benchmarks) set against what
// `analyze` bounds and expects for the same model, part, precision, batch and lengths. Nothing is fitted to them:
// the expected times come from the profiles' kernel-level efficiency figures, and these rows only judge them.
//
// A row: id, model (preset), hw (preset), tp (devices of the tensor-parallel group), precision (fp16: weights,
// activations and KV in fp16; fp8: weights, GEMM inputs and KV in fp8 beside fp16 activations and attention, as
// TensorRT-LLM's FP8 tables run them), batch, isl, osl (input and output tokens per request, every request of the
// static batch alike), metric, measured value, set (primary:
// the rows the targets are judged on; held_out: further measurements that check the model independently), source.
// Metrics:
//   ttft_ms            time to the first token: the prefill of batch x isl tokens
//   out_tok_s_per_gpu  batch x osl / (prefill + (osl - 1) decode steps as the cache grows), per GPU
// A one-device row is analyze's request (prefill step, then the decode steps); a tensor-parallel row is a static
// batch through the simulator on tp devices (all-reduces included), bound and expected alike.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/input_error.hpp"

namespace roofline {

class FidelityError : public common::InputError {
 public:
  FidelityError(const std::string& origin, const std::string& field, const std::string& problem)
      : InputError(origin, field, problem, compose(origin, field, problem)) {}
};

struct FidelityRow {
  std::string id, model, hw, precision, metric, set, source;
  int tp = 1;
  std::int64_t batch = 1, isl = 1, osl = 1;
  double measured = 0;
};

// Parses the CSV (header: id,model,hw,tp,precision,batch,isl,osl,metric,measured,set,source; no quoted fields).
// Throws FidelityError naming the file, line and column.
std::vector<FidelityRow> parse_fidelity_csv(const std::string& text, const std::string& origin);

struct FidelityPoint {
  FidelityRow row;
  double bound = 0;               // the roofline bound's figure, in the metric's unit
  std::optional<double> expected;  // the expected figure; absent where a profile has no fit for some op
  std::string expectation_source;  // where the expected times came from (the profile's calibration or figures)
  // expected / measured - 1: > 0 predicts more (a longer TTFT, a higher throughput) than was measured.
  std::optional<double> error() const;
};

// Per (set, hardware) and per set over all hardware: rows, rows with an expectation, the median and largest
// |error|, and the rows within +-20%.
struct FidelityGroup {
  std::string set, hw;  // hw "all" for the set's summary
  std::size_t rows = 0, judged = 0, within_20 = 0;
  double median_abs_error = 0, max_abs_error = 0;
};

struct Fidelity {
  std::vector<FidelityPoint> points;
  std::vector<FidelityGroup> groups;
};

// Analyzes every row (presets resolved by name; an unknown one is an error naming the row) and summarizes.
Fidelity judge_fidelity(const std::vector<FidelityRow>& rows);

}  // namespace roofline
