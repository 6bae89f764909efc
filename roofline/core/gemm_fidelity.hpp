// GEMM fidelity: measured GEMM kernel times (a GPU library over a grid of shapes, e.g. OpenXLA's
// kDefaultMatmulPTable in docs/fidelity/gemm-kernels.csv) against the expected time the profile's figures give the
// same shape, through expected_op_time, the one path analyze and simulate time a GEMM with. The end-to-end
// fidelity (simulate/fidelity.hpp) judges whole requests; this judges the GEMM model kernel by kernel.
//
// A row: hw (preset), dtype (bf16, fp8 or fp8_block: both operands in it, a bf16 result), b (batch of independent GEMMs), m, n,
// k (b x [m x k] @ [k x n]), flops_per_s = 2 b m n k / measured kernel time. The expected kernel time is the
// expected op time less the eager launch cost (the table times kernels, not launches), with the operands as the
// op's own warm stream (the op repeated on the same buffers).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/input_error.hpp"

namespace roofline {

class GemmTableError : public common::InputError {
 public:
  GemmTableError(const std::string& origin, const std::string& field, const std::string& problem)
      : InputError(origin, field, problem, compose(origin, field, problem)) {}
};

struct GemmMeasurement {
  std::string hw, dtype;
  std::int64_t b = 1, m = 1, n = 1, k = 1;
  double flops_per_s = 0;
  double flops() const { return 2.0 * double(b) * double(m) * double(n) * double(k); }
};

// Parses the CSV (header: hw,dtype,b,m,n,k,flops_per_s). Throws GemmTableError naming the file, line and column.
std::vector<GemmMeasurement> parse_gemm_csv(const std::string& text, const std::string& origin);

struct GemmPoint {
  GemmMeasurement row;
  double measured_s = 0, expected_s = 0;
  double error() const { return expected_s / measured_s - 1; }  // > 0: the model expects a slower kernel
};

// Per (hw, dtype): shapes, the median and 90th-percentile |error|, the mean error (the model's bias) and the shapes
// within +-20%.
struct GemmGroup {
  std::string hw, dtype;
  std::size_t rows = 0, within_20 = 0;
  double median_abs_error = 0, p90_abs_error = 0, mean_error = 0;
};

struct GemmFidelity {
  std::vector<GemmPoint> points;
  std::vector<GemmGroup> groups;
};

// Times every row on its preset (an unknown preset, or one without GEMM figures for the dtype, is an error naming
// the row) and summarizes.
GemmFidelity judge_gemm_kernels(const std::vector<GemmMeasurement>& rows, const std::string& origin);

}  // namespace roofline
