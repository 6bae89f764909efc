#include "roofline/validate/validation_file.hpp"

#include <cmath>

#include <fmt/format.h>

#include "common/text_file.hpp"

namespace roofline {
namespace {

using Json = nlohmann::ordered_json;

// Reads the fields of one object, naming the object's path ("ops[3]") in every error.
struct Fields {
  const Json& object;
  const std::string& origin;
  std::string path;

  [[noreturn]] void fail(const std::string& field, const std::string& problem) const {
    throw ValidationFileError(fmt::format("{}: {}{}{}: {}", origin, path, path.empty() ? "" : ".", field, problem));
  }
  const Json& at(const std::string& field) const {
    const auto it = object.find(field);
    if (it == object.end()) fail(field, "missing");
    return *it;
  }
  std::string text(const std::string& field) const {
    const Json& v = at(field);
    if (!v.is_string()) fail(field, fmt::format("expected a string, got {}", v.dump()));
    return v.get<std::string>();
  }
  // A finite number >= min_value; `positive` excludes 0 (a time a rate is divided by).
  double number(const std::string& field, bool positive = false) const {
    const Json& v = at(field);
    if (!v.is_number()) fail(field, fmt::format("expected a number, got {}", v.dump()));
    const double x = v.get<double>();
    if (!std::isfinite(x) || x < 0 || (positive && x == 0))
      fail(field, fmt::format("expected a {} number, got {}", positive ? "positive" : "non-negative", v.dump()));
    return x;
  }
  std::int64_t integer(const std::string& field) const {
    const Json& v = at(field);
    if (!v.is_number_integer() || v.get<std::int64_t>() < 0)
      fail(field, fmt::format("expected a non-negative integer, got {}", v.dump()));
    return v.get<std::int64_t>();
  }
};

MeasuredOp parse_op(const Json& j, const std::string& origin, std::size_t index) {
  const Fields f{j, origin, fmt::format("ops[{}]", index)};
  if (!j.is_object()) throw ValidationFileError(fmt::format("{}: {}: expected an object", origin, f.path));
  MeasuredOp op;
  op.op = f.text("op");
  op.weight_dtype = f.text("weight_dtype");
  op.kind = f.text("kind");
  op.phase = f.text("phase");
  op.batch = f.integer("batch");
  op.q_len = f.integer("q_len");
  op.kv_len = f.integer("kv_len");
  op.flops = f.number("flops");
  op.bytes = f.number("bytes");
  op.intensity_flops_per_byte = f.number("intensity_flops_per_byte");
  op.precision = f.text("precision");
  op.peak_flops_per_s = f.number("peak_flops_per_s", true);
  op.predicted_s = f.number("predicted_s", true);
  op.predicted_bound = f.text("predicted_bound");
  op.measured_median_s = f.number("measured_median_s", true);
  op.achieved_flops_per_s = f.number("achieved_flops_per_s");
  op.achieved_bytes_per_s = f.number("achieved_bytes_per_s");
  op.roof_fraction = f.number("roof_fraction");
  if (j.contains("expected_s")) op.expected_s = f.number("expected_s", true);
  return op;
}

}  // namespace

ValidationFile parse_validation_file(const std::string& text, const std::string& origin) {
  Json j;
  try {
    j = Json::parse(text);
  } catch (const Json::exception& e) {  // parse_error, or out_of_range for a number overflow
    throw ValidationFileError(fmt::format("{}: not valid JSON: {}", origin, e.what()));
  }
  if (!j.is_object()) throw ValidationFileError(fmt::format("{}: expected a JSON object (roofline validate --format json)", origin));
  const Fields f{j, origin, ""};
  ValidationFile v;
  v.origin = origin;
  v.model = f.text("model");
  v.hardware = f.text("hardware");
  v.scenario = f.text("scenario");
  v.source = f.text("source");
  v.cache_treatment = f.text("cache_treatment");
  if (j.contains("notes")) {
    const Json& notes = j["notes"];
    if (!notes.is_array()) f.fail("notes", "expected an array of strings");
    for (std::size_t i = 0; i < notes.size(); ++i) {
      if (!notes[i].is_string()) f.fail(fmt::format("notes[{}]", i), fmt::format("expected a string, got {}", notes[i].dump()));
      v.notes.push_back(notes[i].get<std::string>());
    }
  }
  const Json& ops = f.at("ops");
  if (!ops.is_array()) f.fail("ops", "expected an array");
  if (ops.empty()) f.fail("ops", "empty: the validation holds no op");
  for (std::size_t i = 0; i < ops.size(); ++i) v.ops.push_back(parse_op(ops[i], origin, i));
  v.statistics = f.at("statistics");
  if (j.contains("held_out_statistics")) v.held_out_statistics = j["held_out_statistics"];
  if (j.contains("calibration")) v.calibration = j["calibration"];
  return v;
}

ValidationFile read_validation_file(const std::string& path) {
  const auto text = common::read_text_file(path);
  if (!text) throw ValidationFileError(fmt::format("{}: cannot read the file", path));
  return parse_validation_file(*text, path);
}

}  // namespace roofline
