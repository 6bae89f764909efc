// Reading back the JSON that `roofline validate --format json` writes, for the charts and the HTML report of a
// validation. Only the per-op fields and the context strings are read as typed values; the statistics, the
// held-out statistics and the calibration are kept as JSON (the calibration's shape is still changing) and shown
// generically.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/input_error.hpp"

namespace roofline {

// A file that cannot be read, is not JSON, or lacks a field: the message names the file and the field
// ("v.json: ops[3].measured_median_s: missing").
class ValidationFileError : public common::InputError {
 public:
  // message: the whole text, naming the file or origin, the line or field, and the value at fault.
  explicit ValidationFileError(const std::string& message) : InputError({}, {}, message, message) {}
};

// One element of "ops": one op at one step shape, predicted against measured (seconds per op instance).
struct MeasuredOp {
  std::string op, weight_dtype, kind, phase, precision, predicted_bound;
  std::int64_t batch = 0, q_len = 0, kv_len = 0;
  double flops = 0, bytes = 0, intensity_flops_per_byte = 0, peak_flops_per_s = 0;
  double predicted_s = 0, measured_median_s = 0;
  double achieved_flops_per_s = 0, achieved_bytes_per_s = 0, roof_fraction = 0;
  std::optional<double> expected_s;  // when the validation was calibrated

  // The predicted point's height: the FLOP/s the roofline bound allows (flops / predicted_s).
  double predicted_flops_per_s() const { return flops / predicted_s; }
  // (predicted - measured) / measured, as `validate` reports it.
  double error() const { return (predicted_s - measured_median_s) / measured_median_s; }
};

struct ValidationFile {
  std::string origin;  // the path it was read from: errors and captions name it
  std::string model, hardware, scenario, source, cache_treatment;
  std::vector<std::string> notes;  // what the run left out, and why (optional in the file)
  std::vector<MeasuredOp> ops;
  // Arrays of objects (or whatever the writer put there), in the file's key order.
  nlohmann::ordered_json statistics;
  std::optional<nlohmann::ordered_json> held_out_statistics, calibration;
};

// Parses the text; throws ValidationFileError naming origin and the field at fault.
ValidationFile parse_validation_file(const std::string& text, const std::string& origin);
// Reads and parses the file at path; throws ValidationFileError.
ValidationFile read_validation_file(const std::string& path);

}  // namespace roofline
