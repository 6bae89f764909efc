#include "roofline/simulate/fidelity.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "common/csv_line.hpp"
#include "common/quantile.hpp"
#include "common/strict_number.hpp"
#include "hardware/layers.hpp"
#include "opmodel/model_config.hpp"
#include "roofline/core/analysis.hpp"
#include "roofline/simulate/error.hpp"
#include "roofline/simulate/simulator.hpp"
#include "roofline/simulate/summary.hpp"
#include "roofline/simulate/workload.hpp"

namespace roofline {
namespace {

constexpr const char* kHeader = "id,model,hw,tp,precision,batch,isl,osl,metric,measured,set,source";
constexpr std::int64_t kMaxTokens = std::int64_t{1} << 20;

// The figure in the metric's unit from a request's prefill and decode times.
double metric_value(const FidelityRow& r, double ttft_s, double tpot_s) {
  if (r.metric == "ttft_ms") return ttft_s * 1e3;
  return double(r.batch * r.osl) / (ttft_s + double(r.osl - 1) * tpot_s);  // out_tok_s_per_gpu
}

}  // namespace

std::optional<double> FidelityPoint::error() const {
  if (!expected) return std::nullopt;
  return *expected / row.measured - 1;
}

std::vector<FidelityRow> parse_fidelity_csv(const std::string& text, const std::string& origin) {
  std::vector<FidelityRow> rows;
  const bool headed = common::for_each_csv_row(text, kHeader, [&](int n, const std::vector<std::string_view>& fields) {
    const std::string where = fmt::format("{}:{}", origin, n);
    const std::vector<std::string> cells(fields.begin(), fields.end());
    if (cells.size() != 12)
      throw FidelityError(where, "", fmt::format("expected 12 columns, got {} (fields may not hold commas)", cells.size()));
    auto integer = [&](const char* column, const std::string& s) {
      std::int64_t v = 0;
      if (const std::string problem = common::integer_in_range(s, 1, kMaxTokens, v); !problem.empty())
        throw FidelityError(where, std::string("column '") + column + "'", problem);
      return v;
    };
    FidelityRow r;
    r.id = cells[0];
    r.model = cells[1];
    r.hw = cells[2];
    std::int64_t tp = 0;
    if (const std::string problem = common::integer_in_range(cells[3], 1, 64, tp); !problem.empty())
      throw FidelityError(where, "column 'tp'", problem);
    r.tp = int(tp);
    r.precision = cells[4];
    r.batch = integer("batch", cells[5]);
    r.isl = integer("isl", cells[6]);
    r.osl = integer("osl", cells[7]);
    r.metric = cells[8];
    const auto measured = common::parse_real(cells[9]);
    if (!measured.ok() || !(measured.value > 0))
      throw FidelityError(where, "column 'measured'", fmt::format("expected a positive number, got '{}'", cells[9]));
    r.measured = measured.value;
    r.set = cells[10];
    r.source = cells[11];
    if (r.precision != "fp16" && r.precision != "fp8")
      throw FidelityError(where, "column 'precision'", fmt::format("expected fp16 or fp8, got '{}'", r.precision));
    if (r.metric != "ttft_ms" && r.metric != "out_tok_s_per_gpu")
      throw FidelityError(where, "column 'metric'", fmt::format("expected ttft_ms or out_tok_s_per_gpu, got '{}'",
                                                                r.metric));
    if (r.set != "primary" && r.set != "held_out")
      throw FidelityError(where, "column 'set'", fmt::format("expected primary or held_out, got '{}'", r.set));
    if (r.id.empty() || r.source.empty()) throw FidelityError(where, "", "id and source must not be empty");
    rows.push_back(r);
  });
  if (!headed) throw FidelityError(origin, "header", fmt::format("must be '{}'", kHeader));
  if (rows.empty()) throw FidelityError(origin, "", "has no rows");
  return rows;
}

namespace {

opmodel::Scenario scenario_of(const FidelityRow& r) {
  opmodel::Scenario s;
  const opmodel::DType d = r.precision == "fp8" ? opmodel::DType::fp8 : opmodel::DType::fp16;
  s.batch = r.batch;
  s.weight_dtype = s.kv_dtype = d;
  // The tables' fp8 engines (TensorRT-LLM v0.9 performance.md) are "dtype": "float16" checkpoints with quant_algo FP8:
  // fp16 activations (residual stream, norms, attention: --gpt_attention_plugin float16, no fp8 context FMHA)
  // beside fp8 weights, GEMM inputs and KV cache.
  s.act_dtype = opmodel::DType::fp16;
  if (d == opmodel::DType::fp8) s.gemm_input_dtype = d;
  return s;
}

// One device: analyze's request, its bound and (where the profile has fits) expected times.
FidelityPoint on_one_device(const FidelityRow& r, const opmodel::ModelConfig& model, const hardware::Profile& hw) {
  AnalysisRequest req;
  req.scenario = scenario_of(r);
  req.prompt = r.isl;
  if (r.metric == "out_tok_s_per_gpu" && r.osl > 1) req.gen = r.osl - 1;
  else req.decode = false;
  const Analysis a = analyze(model, hw, req);
  FidelityPoint p;
  p.row = r;
  const double tpot = a.whole_request ? a.whole_request->tpot_s : 0;
  p.bound = metric_value(r, a.steps.front().time_s, tpot);
  const std::optional<double> e_ttft = a.expected.empty() ? std::nullopt : a.expected.front().total_s;
  const std::optional<double> e_tpot = a.whole_request ? a.whole_request->expected_tpot_s : std::optional(0.0);
  if (e_ttft && e_tpot) p.expected = metric_value(r, *e_ttft, *e_tpot);
  return p;
}

// tp devices: the static batch through the simulator (the whole prompt in one prefill step, as TensorRT-LLM's
// static-batching benchmark runs it), once at the bound and once at the expected times.
FidelityPoint on_tensor_parallel(const FidelityRow& r, const opmodel::ModelConfig& model,
                                 const hardware::Profile& hw) {
  sim::SimConfig c;
  c.scenario = scenario_of(r);
  c.scheduler = sim::Scheduler::static_batch;
  c.tp = r.tp;
  c.max_batch = r.batch;
  c.max_tokens = r.batch * r.isl;
  c.prefix_caching = false;
  c.keep_steps = false;
  const sim::Workload w = sim::fixed_batch(r.batch, r.isl, r.osl);
  auto figure = [&](bool expected) {
    c.calibrated = expected;
    const sim::Summary s = sim::summarize(sim::simulate(model, hw, w, c));
    return r.metric == "ttft_ms" ? s.ttft_s.mean * 1e3 : s.output_tokens_per_s / double(r.tp);
  };
  FidelityPoint p;
  p.row = r;
  p.bound = figure(false);
  if (hw.expectations()) {
    try {
      p.expected = figure(true);
    } catch (const sim::SimError&) {  // a class the profile has no fit for: no expectation
    }
  }
  return p;
}

}  // namespace

Fidelity judge_fidelity(const std::vector<FidelityRow>& rows) {
  Fidelity f;
  for (const FidelityRow& r : rows) {
    const auto model = opmodel::resolve_model(r.model);
    const auto hw = hardware::build_profile({r.hw, std::nullopt, {}, false});
    FidelityPoint p = r.tp == 1 ? on_one_device(r, model, hw) : on_tensor_parallel(r, model, hw);
    if (const hardware::Calibration* c = hw.expectations()) p.expectation_source = c->source;
    f.points.push_back(p);
  }
  // Groups: each set per hardware, then each set over all of it.
  std::map<std::pair<std::string, std::string>, std::vector<const FidelityPoint*>> by;
  for (const FidelityPoint& p : f.points) {
    by[{p.row.set, p.row.hw}].push_back(&p);
    by[{p.row.set, "all"}].push_back(&p);
  }
  for (const auto& [key, points] : by) {
    FidelityGroup g;
    g.set = key.first;
    g.hw = key.second;
    g.rows = points.size();
    std::vector<double> errors;
    for (const FidelityPoint* p : points)
      if (const auto e = p->error()) errors.push_back(std::abs(*e));
    g.judged = errors.size();
    if (!errors.empty()) {
      g.median_abs_error = common::quantile(errors, 0.5);
      g.max_abs_error = *std::max_element(errors.begin(), errors.end());
      g.within_20 = std::size_t(std::count_if(errors.begin(), errors.end(), [](double e) { return e <= 0.2; }));
    }
    f.groups.push_back(g);
  }
  return f;
}

}  // namespace roofline
