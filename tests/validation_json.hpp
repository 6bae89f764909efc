// A small synthetic validate JSON (the shape `roofline validate --format json` writes) for the chart and report
// tests: values with every digit a double holds, so a test can see they reach the outputs exactly.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

// One element of "ops" with the fields the charts read (and one they ignore).
inline nlohmann::ordered_json validation_op(const std::string& op, const std::string& phase, std::int64_t batch,
                                            std::int64_t q_len, std::int64_t kv_len, double flops, double bytes,
                                            double predicted_s, double measured_s,
                                            const std::string& weight_dtype = "fp16") {
  return {{"op", op},
          {"weight_dtype", weight_dtype},
          {"kind", op == "attention" ? "attention" : flops / bytes > 8 ? "gemm" : "elementwise"},
          {"phase", phase},
          {"batch", batch},
          {"q_len", q_len},
          {"kv_len", kv_len},
          {"flops", flops},
          {"bytes", bytes},
          {"intensity_flops_per_byte", bytes > 0 ? flops / bytes : 0.0},
          {"precision", "fp16"},
          {"peak_flops_per_s", 312e12},
          {"predicted_s", predicted_s},
          {"predicted_bound", "memory"},
          {"measured_median_s", measured_s},
          {"achieved_flops_per_s", flops / measured_s},
          {"achieved_bytes_per_s", bytes / measured_s},
          {"roof_fraction", predicted_s / measured_s},
          {"stream_level", "HBM2e"}};
}

// Two phases of three ops each (embed has no FLOPs: no point on a log axis), with statistics.
inline nlohmann::ordered_json small_validation() {
  nlohmann::ordered_json ops = nlohmann::ordered_json::array();
  ops.push_back(validation_op("embed", "prefill", 1, 128, 0, 0, 1048576, 1.2345678901234567e-06, 3.3e-06));
  ops.push_back(validation_op("q_proj", "prefill", 1, 128, 0, 4294967296, 41943040, 1.3766765096087106e-05,
                              2.7182818284590452e-05));
  ops.push_back(validation_op("attention", "prefill", 1, 128, 0, 201326592, 3145728, 6.4527e-07, 1.6180339887498949e-06));
  ops.push_back(validation_op("embed", "decode", 1, 1, 128, 0, 8192, 4.0170e-09, 9.9e-07));
  ops.push_back(validation_op("q_proj", "decode", 1, 1, 128, 33554432, 33562624, 1.6460335458558117e-05,
                              2.3025850929940457e-05));
  ops.push_back(validation_op("attention", "decode", 1, 1, 128, 1048576, 1048576, 5.1426e-07, 3.1415926535897931e-06));
  nlohmann::ordered_json stats = nlohmann::ordered_json::array();
  stats.push_back({{"kind", "all"}, {"phase", "all"}, {"ops", 6}, {"median_abs_error", 0.4321}, {"p90_abs_error", 0.8771},
                   {"bound_agreement", 1.0}, {"median_roof_fraction", 0.5678}});
  return {{"schema_version", 1},
          {"model", "llama-2-7b (32 layers)"},
          {"hardware", "a100-80g-sxm"},
          {"scenario", "weights fp16, activations fp16, KV fp16, flash attention, unfused"},
          {"source", "measured: times.csv"},
          {"cache_treatment", "hierarchical roofline, warm caches"},
          {"ops", ops},
          {"statistics", stats}};
}
