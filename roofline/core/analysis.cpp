#include "roofline/core/analysis.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "hardware/error.hpp"
#include "opmodel/error.hpp"
#include "opmodel/footprint.hpp"
#include "opmodel/step_ops.hpp"
#include "roofline/core/expected_time.hpp"

namespace roofline {

std::string_view to_string(Phase p) { return p == Phase::prefill ? "prefill" : "decode"; }

void analyze_step(const opmodel::ModelConfig& m, const opmodel::Scenario& s, const Roofs& roofs, Phase phase,
                  StepResult& out) {
  opmodel::OpList ops;
  opmodel::step_ops(m, s, ops);
  out.phase = phase;
  out.batch = s.batch;
  out.q_len = s.q_len;
  out.kv_len = s.kv_len;
  out.op_count = ops.size();
  out.flops = out.bytes = out.time_s = out.memory_bound_time_s = 0;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const OpPoint& p = out.ops[i] = classify(ops[i], roofs);
    const double n = double(p.cost.count);
    out.flops += n * p.cost.flops;
    out.bytes += n * p.cost.bytes.total();
    out.time_s += n * p.time_s;
    if (p.bound == Bound::memory) out.memory_bound_time_s += n * p.time_s;
  }
}

namespace {

// Linear ops of one decode step: is the sum of their compute times at least that of their memory times?
bool linears_compute_bound(const opmodel::ModelConfig& m, const opmodel::Scenario& s, const Roofs& roofs) {
  opmodel::OpList ops;
  opmodel::step_ops(m, s, ops);
  double compute_s = 0, memory_s = 0;
  for (const auto& op : ops) {
    if (op.kind != opmodel::OpKind::linear) continue;
    compute_s += double(op.count) * op.flops / roofs.peak(roofs.precision_for(op));
    memory_s += double(op.count) * op.bytes.total() / roofs.bytes_per_s;
  }
  return compute_s >= memory_s;
}

}  // namespace

// Residual stream plus the largest single op's activation inputs and outputs: what must be live at once.
double peak_activation_bytes(const opmodel::ModelConfig& m, const opmodel::Scenario& s, const StepResult& step) {
  double largest = 0;
  for (const OpPoint& p : step) largest = std::max(largest, p.cost.bytes.act_read + p.cost.bytes.act_write);
  return double(s.tokens()) * double(m.hidden_size) * opmodel::bytes_of(s.act_dtype) + largest;
}

std::optional<std::int64_t> decode_compute_bound_batch(const opmodel::ModelConfig& m, opmodel::Scenario s,
                                                       const Roofs& roofs) {
  constexpr std::int64_t kMaxBatch = std::int64_t{1} << 20;
  s.q_len = 1;
  auto bound_at = [&](std::int64_t b) {
    s.batch = b;
    return linears_compute_bound(m, s, roofs);
  };
  // Exponential search for an upper bracket, then bisection (compute-boundness grows with batch).
  std::int64_t hi = 1;
  while (!bound_at(hi)) {
    if (hi == kMaxBatch) return std::nullopt;
    hi = std::min(hi * 2, kMaxBatch);
  }
  std::int64_t lo = hi / 2;  // not bound at lo (or lo == 0)
  while (hi - lo > 1) {
    std::int64_t mid = lo + (hi - lo) / 2;
    (bound_at(mid) ? hi : lo) = mid;
  }
  return hi;
}

std::optional<std::string> context_warning(const opmodel::ModelConfig& m, std::int64_t tokens,
                                           const std::string& what) {
  if (m.max_position_embeddings <= 0 || tokens <= m.max_position_embeddings) return std::nullopt;
  return fmt::format("{} {} exceed {}'s max_position_embeddings of {}: positions the model was not trained for",
                     tokens, what, m.name, m.max_position_embeddings);
}

namespace {

void check_request(const hardware::Profile& hw, const AnalysisRequest& req) {
  if (!hw.peak(hardware::Precision::fp32))
    throw hardware::ProfileError(hw.origin.empty() ? hw.name : hw.origin, "peak_flops_per_s.fp32",
                                 "is required: element-wise ops run on the vector units at fp32");
  if ((req.prefill || req.gen) && !req.prompt)
    throw opmodel::ModelError("scenario", "prompt", "is required for the prefill phase and for --gen");
  if (req.decode && !req.prompt && !req.kv_len)
    throw opmodel::ModelError("scenario", "kv_len", "the decode phase needs --kv-len or --prompt");
  if (!req.prefill && !req.decode && !req.gen)
    throw opmodel::ModelError("scenario", "phase", "no phase selected");
  if (req.gen && *req.gen < 1) throw opmodel::ModelError("scenario", "gen", "must be at least 1");
}

// The whole request: the prefill (the one shown, or analyzed here), then gen decode steps as the cache grows.
RequestResult whole_request(const Analysis& a, const Roofs& roofs) {
  const AnalysisRequest& req = a.request;
  const hardware::Profile& hw = a.hardware;
  opmodel::Scenario s = req.scenario;
  RequestResult r;
  r.gen_tokens = *req.gen;
  StepResult step;
  std::optional<double> expected_ttft;
  if (req.prefill) {
    r.ttft_s = a.steps.front().time_s;  // the prefill shown is the request's first step
    if (hw.expectations()) expected_ttft = a.expected.front().total_s;
  } else {
    s.q_len = *req.prompt;
    s.kv_len = 0;
    opmodel::validate(s);
    analyze_step(a.model, s, roofs, Phase::prefill, step);
    r.ttft_s = step.time_s;
    if (hw.expectations()) expected_ttft = expect_step(step, s, hw, roofs).total_s;
  }
  s.q_len = 1;
  s.kv_len = *req.prompt + *req.gen - 1;
  opmodel::validate(s);  // the last step's context: checks the whole range
  double decode_s = 0;
  std::optional<double> expected_decode_s;
  if (hw.expectations()) expected_decode_s = 0.0;
  for (std::int64_t i = 0; i < *req.gen; ++i) {
    s.kv_len = *req.prompt + i;  // decode step i attends to the prompt and the i tokens before it
    analyze_step(a.model, s, roofs, Phase::decode, step);
    decode_s += step.time_s;
    if (expected_decode_s) {
      const auto e = expect_step(step, s, hw, roofs).total_s;
      expected_decode_s = e ? std::optional(*expected_decode_s + *e) : std::nullopt;
    }
  }
  if (expected_ttft && expected_decode_s) {
    r.expected_ttft_s = expected_ttft;
    r.expected_tpot_s = *expected_decode_s / double(*req.gen);
  }
  r.tpot_s = decode_s / double(*req.gen);
  r.total_time_s = r.ttft_s + decode_s;
  const double batch = double(req.scenario.batch);
  r.output_tokens_per_s = batch * double(*req.gen) / r.total_time_s;
  r.decode_tokens_per_s = batch / r.tpot_s;
  return r;
}

// Memory at the fullest context: weights, KV cache, and the largest step's activations.
MemoryResult memory_of(const Analysis& a, std::int64_t context) {
  const AnalysisRequest& req = a.request;
  MemoryResult mem;
  mem.context_tokens = context;
  mem.weights_bytes = opmodel::weight_bytes(a.model, req.scenario);
  mem.kv_cache_bytes = opmodel::kv_cache_bytes(a.model, req.scenario, context);
  for (const StepResult& st : a.steps) {
    opmodel::Scenario ss = req.scenario;
    ss.q_len = st.q_len;
    mem.activations_bytes = std::max(mem.activations_bytes, peak_activation_bytes(a.model, ss, st));
  }
  mem.capacity_bytes = a.hardware.capacity_bytes();
  return mem;
}

}  // namespace

Analysis analyze(const opmodel::ModelConfig& m, const hardware::Profile& hw, const AnalysisRequest& req) {
  check_request(hw, req);
  Analysis a;
  a.model = m;
  a.hardware = hw;
  a.request = req;
  a.parameters = opmodel::parameter_count(m);
  a.active_parameters = opmodel::active_parameter_count(m);
  const Roofs roofs = Roofs::of(a.hardware);
  opmodel::Scenario s = req.scenario;
  std::int64_t context = 0;
  if (req.prefill) {
    s.q_len = *req.prompt;
    s.kv_len = 0;
    opmodel::validate(s);
    analyze_step(m, s, roofs, Phase::prefill, a.steps.emplace_back());
    if (hw.expectations()) a.expected.push_back(expect_step(a.steps.back(), s, hw, roofs));
    context = std::max(context, s.q_len);
  }
  if (req.decode) {
    s.q_len = 1;
    s.kv_len = req.decode_context();
    opmodel::validate(s);
    analyze_step(m, s, roofs, Phase::decode, a.steps.emplace_back());
    if (hw.expectations()) a.expected.push_back(expect_step(a.steps.back(), s, hw, roofs));
    context = std::max(context, s.kv_len + 1);
  }
  if (req.gen) {
    a.whole_request = whole_request(a, roofs);
    context = std::max(context, *req.prompt + *req.gen);
  }
  a.memory = memory_of(a, context);
  if (auto w = context_warning(m, context, "tokens per sequence")) a.warnings.push_back(*w);

  // The projections' roof: where decode's linear layers sit, and where they cross over.
  a.linear_precision = precision_of(opmodel::Unit::matrix, req.scenario.act_dtype);
  a.ridge_flops_per_byte = roofs.ridge(a.linear_precision);
  for (const StepResult& st : a.steps)
    for (std::size_t i = 0; i < st.op_count; ++i)
      if (st.ops[i].cost.unit == opmodel::Unit::matrix && st.ops[i].precision != a.linear_precision)
        a.mixed_precisions = true;
  opmodel::Scenario d = req.scenario;
  d.kv_len = req.decode_context();
  a.decode_compute_bound_batch = decode_compute_bound_batch(m, d, roofs);
  return a;
}

}  // namespace roofline
