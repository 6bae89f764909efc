#include "roofline/core/gemm_fidelity.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "common/csv_line.hpp"
#include "common/quantile.hpp"
#include "common/strict_number.hpp"
#include "hardware/presets.hpp"
#include "roofline/core/expected_time.hpp"

namespace roofline {
namespace {

constexpr const char* kHeader = "hw,dtype,b,m,n,k,flops_per_s";

// The table's dtypes: bf16, fp8 (per-tensor scales) and fp8_block (e4m3 with 128x128 weight blocks and 1x128
// activation groups, DeepSeek-V3's, as DeepGEMM runs them: their scales are under 0.1% of the bytes, not counted).
opmodel::DType dtype_of(const std::string& s) {
  if (s == "fp8") return opmodel::DType::fp8;
  if (s == "fp8_block") return opmodel::DType::fp8_block;
  return opmodel::DType::bf16;
}

// One GEMM of the table as the op model writes a linear: b groups of m x n outputs over k inputs, the [k x n]
// operand counted as the weights, the result in bf16.
opmodel::OpCost gemm_op(const GemmMeasurement& r) {
  const double in = r.dtype == "bf16" ? 2 : 1, b = double(r.b), m = double(r.m), n = double(r.n), k = double(r.k);
  opmodel::OpCost op;
  op.name = "matmul";
  op.kind = opmodel::OpKind::linear;
  op.unit = opmodel::Unit::matrix;
  op.compute = op.weights = dtype_of(r.dtype);
  op.flops = r.flops();
  op.bytes.weight_read = b * k * n * in;
  op.bytes.act_read = b * m * k * in;
  op.bytes.act_write = b * m * n * 2;
  op.gemm_m = m;
  op.gemm_n = n;
  op.gemm_groups = b;
  return op;
}

}  // namespace

std::vector<GemmMeasurement> parse_gemm_csv(const std::string& text, const std::string& origin) {
  std::vector<GemmMeasurement> rows;
  const bool headed = common::for_each_csv_row(text, kHeader, [&](int n, const std::vector<std::string_view>& cells) {
    const std::string where = fmt::format("{}:{}", origin, n);
    if (cells.size() != 7) throw GemmTableError(where, "", fmt::format("expected 7 columns, got {}", cells.size()));
    GemmMeasurement r;
    r.hw = std::string(cells[0]);
    r.dtype = std::string(cells[1]);
    if (r.dtype != "bf16" && r.dtype != "fp8" && r.dtype != "fp8_block")
      throw GemmTableError(where, "column 'dtype'", fmt::format("expected bf16, fp8 or fp8_block, got '{}'", r.dtype));
    const char* names[] = {"b", "m", "n", "k"};
    std::int64_t* slots[] = {&r.b, &r.m, &r.n, &r.k};
    for (int i = 0; i < 4; ++i)
      if (const std::string problem = common::integer_in_range(cells[2 + i], 1, std::int64_t{1} << 20, *slots[i]);
          !problem.empty())
        throw GemmTableError(where, fmt::format("column '{}'", names[i]), problem);
    const auto flops = common::parse_real(cells[6]);
    if (!flops.ok() || !(flops.value > 0) || !std::isfinite(flops.value))
      throw GemmTableError(where, "column 'flops_per_s'",
                           fmt::format("expected a positive number, got '{}'", std::string(cells[6])));
    r.flops_per_s = flops.value;
    rows.push_back(r);
  });
  if (!headed) throw GemmTableError(origin, "header", fmt::format("must be '{}'", kHeader));
  if (rows.empty()) throw GemmTableError(origin, "", "has no rows");
  return rows;
}

GemmFidelity judge_gemm_kernels(const std::vector<GemmMeasurement>& rows, const std::string& origin) {
  const std::vector<std::string> known = hardware::preset_names();
  GemmFidelity f;
  std::map<std::pair<std::string, std::string>, std::vector<double>> errors;  // per (hw, dtype), in table order
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const GemmMeasurement& r = rows[i];
    const std::string where = fmt::format("{} row {}", origin, i + 1);
    if (std::find(known.begin(), known.end(), r.hw) == known.end())
      throw GemmTableError(where, "column 'hw'", fmt::format("unknown hardware preset '{}'", r.hw));
    const hardware::Profile& hw = hardware::preset(r.hw);
    const opmodel::OpCost op = gemm_op(r);
    opmodel::Scenario s;
    s.weight_dtype = dtype_of(r.dtype);
    s.act_dtype = r.dtype == "bf16" ? opmodel::DType::bf16 : opmodel::DType::fp8;
    const auto expected = expected_op_time(op, s, {double(r.m), Phase::prefill, op.bytes.total()}, hw, Roofs::of(hw));
    if (!expected)
      throw GemmTableError(where, "column 'hw'",
                           fmt::format("preset '{}' has no GEMM figures to expect a {} GEMM with", r.hw, r.dtype));
    const double launch = hw.efficiency && hw.efficiency->kernel_launch_s ? hw.efficiency->kernel_launch_s->value : 0;
    GemmPoint p{r, r.flops() / r.flops_per_s, *expected - launch};
    f.points.push_back(p);
    errors[{r.hw, r.dtype}].push_back(p.error());
  }
  for (const auto& [key, e] : errors) {
    GemmGroup g{key.first, key.second};
    g.rows = e.size();
    std::vector<double> abs_errors;
    double sum = 0;
    for (double x : e) {
      abs_errors.push_back(std::abs(x));
      sum += x;
    }
    g.median_abs_error = common::quantile(abs_errors, 0.5);
    g.p90_abs_error = common::quantile(abs_errors, 0.9);
    g.mean_error = sum / double(e.size());
    g.within_20 = std::size_t(std::count_if(abs_errors.begin(), abs_errors.end(), [](double x) { return x <= 0.2; }));
    f.groups.push_back(g);
  }
  return f;
}

}  // namespace roofline
