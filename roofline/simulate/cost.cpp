#include "roofline/simulate/cost.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "hardware/error.hpp"
#include "opmodel/footprint.hpp"
#include "opmodel/op_names.hpp"
#include "roofline/core/expected_time.hpp"
#include "roofline/simulate/error.hpp"

namespace roofline::sim {

Layout make_layout(const opmodel::ModelConfig& m, const hardware::Profile& hw, int tp, int pp,
                   std::optional<double> link_latency_s, const ExpertParallel& expert) {
  Layout l;
  l.tp = tp;
  l.pp = pp;
  l.expert = expert;
  l.layers = m.num_layers;
  l.tied_embeddings = m.tie_word_embeddings;
  const bool dp = expert.dp_attention, ep = expert.ep > 1;
  if (ep || dp) {
    const char* option = ep ? "ep" : "dp-attention";
    if (!m.is_moe())
      throw OptionError(option, fmt::format("{} has no experts: expert parallelism and DP attention are for MoE "
                                            "models (use --replicas to serve a dense model data-parallel)",
                                            m.name));
    if (pp > 1) throw OptionError(option, "with --pp > 1 is not modelled");
  }
  if (expert.ep != 1 && expert.ep != tp)
    throw OptionError("ep", fmt::format("must be 1 or --tp ({}): experts are spread whole over a replica's "
                                        "tensor-parallel devices, got {}", tp, expert.ep));
  if (ep && m.num_experts % expert.ep != 0)
    throw OptionError("ep", fmt::format("ep {} does not divide the {} experts of {}", expert.ep, m.num_experts,
                                        m.name));
  if (expert.skew && !(*expert.skew >= 1 && *expert.skew <= double(expert.ep)))
    throw OptionError("ep-skew", fmt::format("must be in [1, ep = {}], got {}", expert.ep, *expert.skew));
  auto divides = [&](std::int64_t n, const char* what) {
    if (n % tp != 0)
      throw OptionError("tp", fmt::format("tp {} does not divide the {} {} of {}", tp, n, what, m.name));
  };
  // DP attention keeps heads, dense MLPs and vocabulary whole; ep > 1 keeps experts whole.
  const int attn_tp = dp ? 1 : tp;
  if (!dp) {
    divides(m.num_heads, "query heads");
    divides(m.num_kv_heads, "KV heads (replicating KV heads is not modelled)");
    if (!m.is_moe() || m.dense_layers() > 0) divides(m.intermediate_size, "MLP intermediate size");
    if (m.shared_expert_intermediate_size > 0) divides(m.shared_expert_intermediate_size, "shared expert size");
    if (m.linear) {
      divides(m.linear->key_heads, "linear-attention key heads");
      divides(m.linear->value_heads, "linear-attention value heads");
    }
  }
  if (m.is_moe() && !ep) divides(m.moe_intermediate_size, "expert intermediate size (each expert is sharded)");
  if (pp > m.num_layers)
    throw OptionError("pp", fmt::format("pp {} exceeds the {} layers of {}", pp, m.num_layers, m.name));

  l.shard = m;
  l.shard.num_heads = m.num_heads / attn_tp;
  l.shard.num_kv_heads = m.num_kv_heads / attn_tp;
  l.shard.intermediate_size = m.intermediate_size / attn_tp;
  l.shard.moe_intermediate_size = m.moe_intermediate_size / (ep ? 1 : tp);
  l.shard.shared_expert_intermediate_size = m.shared_expert_intermediate_size / attn_tp;
  if (m.linear) {  // MLA's latent stays whole on every device: only its heads are sharded
    l.shard.linear->key_heads = m.linear->key_heads / attn_tp;
    l.shard.linear->value_heads = m.linear->value_heads / attn_tp;
  }
  l.shard.vocab_size = (m.vocab_size + attn_tp - 1) / attn_tp;  // vocabulary-parallel embedding and lm_head, padded
  l.max_normal = expected_max_standard_normal(expert.ep);
  for (int s = 0; s < pp; ++s) l.stage_layers.push_back(m.num_layers / pp + (s < m.num_layers % pp ? 1 : 0));
  if (tp > 1 || pp > 1) {
    const std::string origin = "hardware profile " + (hw.origin.empty() ? hw.name : hw.origin);
    if (!hw.interconnect || !hw.interconnect->bytes_per_s_per_direction)
      throw SimError(origin, "field 'interconnect.bytes_per_s_per_direction'",
                     fmt::format("is needed for --tp {} --pp {} (all-reduces and pipeline sends)", tp, pp));
    l.link_name = hw.interconnect->name;
    if (hw.interconnect->allreduce_bus_efficiency)
      l.allreduce_bus_efficiency = hw.interconnect->allreduce_bus_efficiency->value;
    if (hw.interconnect->allreduce_small_s) l.allreduce_small_s = hw.interconnect->allreduce_small_s->value;
    if (hw.interconnect->alltoall_bus_efficiency)
      l.alltoall_bus_efficiency = hw.interconnect->alltoall_bus_efficiency->value;
    if (hw.interconnect->alltoall_small_s) l.alltoall_small_s = hw.interconnect->alltoall_small_s->value;
    l.link_bytes_per_s = hw.interconnect->bytes_per_s_per_direction->value;
    if (link_latency_s) {
      l.link_latency_s = *link_latency_s;
      l.latency_given = true;
    } else if (hw.interconnect->latency_s) {
      l.link_latency_s = hw.interconnect->latency_s->value;
      l.latency_given = true;
    }
  }
  return l;
}

double expected_max_standard_normal(int n) {
  if (n <= 1) return 0;
  // Trapezoid rule on [-9, 9] in steps of 1/512: the integrand is smooth and negligible beyond.
  constexpr double kStep = 1.0 / 512, kPi = 3.14159265358979323846;
  double sum = 0;
  for (double x = -9; x <= 9; x += kStep) {
    const double phi = std::exp(-0.5 * x * x) / std::sqrt(2 * kPi);
    const double Phi = 0.5 * std::erfc(-x / std::sqrt(2.0));
    sum += x * double(n) * phi * std::pow(Phi, n - 1) * kStep;
  }
  return sum;
}

double max_load_factor(const Layout& l, double rows) {
  const double ep = double(l.expert.ep);
  if (l.expert.ep <= 1) return 1;
  if (l.expert.skew) return *l.expert.skew;
  if (rows <= 0) return 1;
  // The busiest device holds at least ceil(rows / ep) rows, which the normal approximation misses for few rows.
  const double mean = rows / ep;
  return std::min(ep, std::max(1 + l.max_normal * std::sqrt((ep - 1) / rows), std::ceil(mean) / mean));
}

double remote_devices_per_token(int ep, double k) {
  if (ep <= 1) return 0;
  return double(ep - 1) * (1 - std::pow(1 - 1.0 / double(ep), k));
}

double ring_allreduce_s(double bytes, int n, double bytes_per_s, double latency_s) {
  if (n <= 1) return 0;
  const double steps = 2.0 * (n - 1);  // n-1 for the reduce-scatter, n-1 for the all-gather
  return steps * (bytes / n) / bytes_per_s + steps * latency_s;
}

std::vector<StageMemory> stage_memory(const Layout& layout, const opmodel::Scenario& s) {
  const opmodel::WeightParts parts = opmodel::weight_bytes_by_part(layout.shard, s);
  const double kv_per_layer = opmodel::kv_bytes_per_token(layout.shard, s.kv_dtype) / double(layout.layers);
  std::vector<StageMemory> out;
  for (int i = 0; i < layout.pp; ++i) {
    const auto L = layout.stage_layers[std::size_t(i)];
    StageMemory m;
    // Layers hold equal weights: the stage's share is layers x L_s / L.
    // Expert parallelism: each device holds E/ep whole experts.
    const double layers = parts.layers - parts.experts + parts.experts / double(layout.expert.ep);
    m.weights_bytes = L == layout.layers ? layers : layers / double(layout.layers) * double(L);
    if (i == 0) m.weights_bytes += parts.embedding;
    if (i == layout.pp - 1) {
      m.weights_bytes += parts.head;
      // A tied lm_head on another stage than the embedding needs its own copy of the table.
      if (layout.tied_embeddings && layout.pp > 1) m.weights_bytes += parts.embedding;
    }
    m.kv_bytes_per_token = kv_per_layer * double(L);  // K and V of each of the stage's layers
    out.push_back(m);
  }
  return out;
}

StepCost::StepCost(const Layout& layout, const opmodel::Scenario& s, const hardware::Profile& hw, bool calibrated)
    : layout_(layout), scenario_(s), hw_(hw), roofs_(Roofs::of(hw_)), calibrated_(calibrated) {
  if (calibrated_ && !hw_.expectations())
    throw SimError("hardware profile " + (hw_.origin.empty() ? hw_.name : hw_.origin), "field 'calibration'",
                   "is required for expected op times, or the preset's 'efficiency' figures (write a calibration with "
                   "roofline validate --sweep --save-profile)");
  if (!hw_.peak(hardware::Precision::fp32))
    throw hardware::ProfileError(hw_.origin.empty() ? hw_.name : hw_.origin, "peak_flops_per_s.fp32",
                                 "is required: element-wise ops run on the vector units at fp32");
  act_bytes_ = opmodel::bytes_of(opmodel::is_integer(s.act_dtype) ? opmodel::DType::fp16 : s.act_dtype);
  // Fail now, not mid-run, if the profile lacks a precision the ops use.
  opmodel::BatchShape one;
  one.add({1, 1, 0, 1}, layout_.shard);
  std::vector<double> ignored(std::size_t(layout_.pp));
  stage_times(one, ignored.data(), nullptr);
}

double StepCost::op_time_s(const opmodel::OpCost& op, const opmodel::BatchShape& b, double stream_bytes,
                           std::size_t index) const {
  if (!calibrated_) return classify(op, roofs_).time_s;
  const OpSetting at{op.name == opmodel::op::lm_head ? b.logit_rows : b.tokens,
                     b.tokens > b.sequences ? Phase::prefill : Phase::decode, stream_bytes};
  const hardware::KernelClass kind = kernel_class(op, at.linear_rows);
  FitSlot& slot = fits_[index % fits_.size()][std::size_t(kind) * 2 + (at.phase == Phase::prefill ? 0 : 1)];
  if (slot.name != op.name.data() || slot.weights != op.weights || !slot.fit) {
    std::string weights;
    slot = {op.name.data(), op.weights, hw_.expectations()->find(fit_query(op, scenario_, at, weights))};
  }
  if (slot.fit) return expected_op_time(*slot.fit, kind, op, at, hw_, roofs_);
  std::string weights;
  const hardware::FitQuery q = fit_query(op, scenario_, at, weights);
  throw SimError("hardware profile " + (hw_.origin.empty() ? hw_.name : hw_.origin), "field 'calibration'",
                 fmt::format("has no fit for {} op '{}' with weights {} in {} (the calibration covers what "
                             "validate --sweep ran: fp32, bf16 and int8 weights)",
                             to_string(q.kind), q.op, q.weights, q.phase));
}

double StepCost::allreduce_per_layer_s(double tokens) const {
  const double bytes = tokens * double(layout_.shard.hidden_size) * act_bytes_;
  // Expected: the measured small-message time plus the ring's bytes at the attained bus bandwidth,
  // t = t_small + 2 (n-1)/n bytes / (link x efficiency); the bound: the ring on the bare link.
  if (calibrated_ && layout_.allreduce_bus_efficiency && layout_.allreduce_small_s) {
    const double n = double(layout_.tp);
    const double ring = 2 * (n - 1) / n * bytes / (layout_.link_bytes_per_s * *layout_.allreduce_bus_efficiency);
    return 2 * (*layout_.allreduce_small_s + ring);
  }
  return 2 * ring_allreduce_s(bytes, layout_.tp, layout_.link_bytes_per_s, layout_.link_latency_s);
}

double StepCost::alltoall_s(double tokens) const {
  const double k = double(layout_.shard.experts_per_token);
  const double bytes = tokens * double(layout_.shard.hidden_size) * act_bytes_ *
                       remote_devices_per_token(layout_.expert.ep, k);
  if (calibrated_ && layout_.alltoall_bus_efficiency && layout_.alltoall_small_s)
    return *layout_.alltoall_small_s + bytes / (layout_.link_bytes_per_s * *layout_.alltoall_bus_efficiency);
  return bytes / layout_.link_bytes_per_s + layout_.link_latency_s;
}

namespace {

bool routed_expert_op(std::string_view name) {
  namespace op = opmodel::op;
  return name == op::expert_gate_proj || name == op::expert_up_proj || name == op::expert_act_mul ||
         name == op::expert_gate_up_act || name == op::expert_down_proj;
}

// A routed-expert op of the whole step as the most loaded of ep devices runs it: its E/ep experts' weights (the
// touched ones, uniform routing), and `load` x rows / ep of the rows, FLOPs and activations.
opmodel::OpCost on_expert_device(opmodel::OpCost op, double ep, double load) {
  const double rows = load / ep;
  op.flops *= rows;
  op.bytes.act_read *= rows;
  op.bytes.act_write *= rows;
  op.bytes.weight_read /= ep;
  op.gemm_groups = std::max(1.0, op.gemm_groups / ep);
  op.gemm_m *= load;  // rows per touched expert on that device
  return op;
}

}  // namespace

double StepCost::split_step_s(std::span<const opmodel::BatchShape> ranks, const opmodel::BatchShape& global,
                              TimeByOp* tally) const {
  const opmodel::ModelConfig& m = layout_.shard;
  const double ep = double(layout_.expert.ep);
  const double framework = calibrated_ ? framework_step_s(hw_) : 0.0;
  opmodel::OpList ops;
  auto stream_of = [&](const opmodel::OpList& list) {
    double stream = 0;  // the step's weight and KV reads: what the calibration's cache levels are chosen by
    if (calibrated_)
      for (const opmodel::OpCost& op : list) stream += double(op.count) * (op.bytes.weight_read + op.bytes.kv_read);
    return stream;
  };
  // The slowest DP rank's attention and dense ops (the same rank is slowest in every layer).
  double dense = -1;
  std::array<double, opmodel::OpList::kCapacity> op_s{}, worst{};
  for (std::size_t r = 0; r < ranks.size(); ++r) {
    if (ranks[r].tokens == 0) continue;
    opmodel::step_ops(m, scenario_, ranks[r], ops);
    const double stream = stream_of(ops);
    double t = 0;
    for (std::size_t i = 0; i < ops.size(); ++i) {
      op_s[i] = routed_expert_op(ops[i].name) ? 0.0 : double(ops[i].count) * op_time_s(ops[i], ranks[r], stream, i);
      t += op_s[i];
    }
    if (t > dense) {
      dense = t;
      worst = op_s;
    }
  }
  // The routed experts of the whole step, on the most loaded device. Without DP attention the one rank is the
  // whole step: its op list is the global one already.
  if (layout_.expert.dp_attention) {
    const std::size_t listed = ops.size();
    opmodel::step_ops(m, scenario_, global, ops);
    if (dense >= 0 && ops.size() != listed) throw std::logic_error("split_step_s: op lists differ between batches");
  }
  const double load = max_load_factor(layout_, global.tokens * double(m.experts_per_token));
  double experts = 0;
  const double stream = stream_of(ops);
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (!routed_expert_op(ops[i].name)) continue;
    const opmodel::OpCost op = on_expert_device(ops[i], ep, load);
    worst[i] = double(op.count) * op_time_s(op, global, stream, i);
    experts += worst[i];
  }
  if (tally)
    for (std::size_t i = 0; i < ops.size(); ++i) tally->op_s[tally->slot(ops[i].name, i)] += worst[i];
  // Communication.
  const double moe_layers = double(m.moe_layers), L = double(layout_.layers);
  double allreduce = 0, alltoall = 0;
  if (!layout_.expert.dp_attention) {
    allreduce = layout_.tp > 1 ? allreduce_per_layer_s(global.tokens) * L : 0.0;
  } else if (layout_.expert.ep > 1) {
    double most = 0;  // the rank with the most tokens sends the most
    for (const opmodel::BatchShape& b : ranks) most = std::max(most, b.tokens);
    alltoall = 2 * alltoall_s(most) * moe_layers;  // dispatch and combine
  } else {
    allreduce = allreduce_per_layer_s(global.tokens) / 2 * moe_layers;  // all-gather + reduce-scatter = 1 all-reduce
  }
  if (tally) {
    tally->allreduce_s += allreduce;
    tally->alltoall_s += alltoall;
  }
  return std::max(dense, 0.0) + experts + allreduce + alltoall + framework;
}

double StepCost::send_s(double tokens) const {
  const double bytes = tokens * double(layout_.shard.hidden_size) * act_bytes_;
  return bytes / layout_.link_bytes_per_s + layout_.link_latency_s;
}

void StepCost::stage_times(const opmodel::BatchShape& b, double* stage_s, TimeByOp* tally) const {
  if (layout_.split()) {  // pp = 1; one rank: the callers that split a batch over DP ranks call split_step_s
    stage_s[0] = split_step_s({&b, 1}, b, tally);
    return;
  }
  opmodel::OpList ops;
  opmodel::step_ops(layout_.shard, scenario_, b, ops);
  double stream = 0;  // the step's weight and KV reads: what the calibration's cache levels are chosen by
  if (calibrated_)
    for (std::size_t i = 0; i < ops.size(); ++i)
      stream += double(ops[i].count) * (ops[i].bytes.weight_read + ops[i].bytes.kv_read);
  const double comm = layout_.tp > 1 ? allreduce_per_layer_s(b.tokens) : 0.0;
  const double framework = calibrated_ ? framework_step_s(hw_) : 0.0;  // scheduling, sampling per step
  const double L = double(layout_.layers);
  // Each op's slot in the tally, by name: steps may list different ops (a model's forms, a pipeline's stages).
  std::array<std::size_t, opmodel::OpList::kCapacity> slot{};
  if (tally)
    for (std::size_t i = 0; i < ops.size(); ++i) slot[i] = tally->slot(ops[i].name, i);
  if (layout_.pp == 1) {
    double t = 0;
    for (std::size_t i = 0; i < ops.size(); ++i) {
      const double op_s = double(ops[i].count) * op_time_s(ops[i], b, stream, i);  // as analyze_step sums a step
      t += op_s;
      if (tally) tally->op_s[slot[i]] += op_s;
    }
    stage_s[0] = t + comm * L + framework;
    if (tally) tally->allreduce_s += comm * L;
    return;
  }
  // Per-layer ops are shared out by layers; embed runs on the first stage, final_norm and lm_head on the last.
  double per_layer = 0, first = 0, last = 0;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const double op_s = double(ops[i].count) * op_time_s(ops[i], b, stream, i);
    if (tally) tally->op_s[slot[i]] += op_s;
    const auto name = ops[i].name;
    if (name == opmodel::op::embed) first += op_s;
    else if (name == opmodel::op::lm_head || name == opmodel::op::final_norm) last += op_s;
    else per_layer += op_s / L;
  }
  for (int s = 0; s < layout_.pp; ++s) {
    const double layers = double(layout_.stage_layers[std::size_t(s)]);
    stage_s[s] = (per_layer + comm) * layers + (s == 0 ? first + framework : 0) + (s == layout_.pp - 1 ? last : 0);
  }
  if (tally) tally->allreduce_s += comm * L;
}

}  // namespace roofline::sim
