#include "roofline/validate/engine_validation.hpp"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "engine/config.hpp"
#include "engine/model.hpp"
#include "engine/probe.hpp"
#include "engine/weights.hpp"
#include "roofline/validate/calibration_fit.hpp"
#include "roofline/validate/sweep.hpp"

namespace roofline {

std::vector<ValidationRow> EngineValidation::rows(const opmodel::Scenario& base,
                                                  const std::vector<EnginePoint>& points) const {
  engine::WeightOptions wo;
  switch (base.weight_dtype) {
    case opmodel::DType::fp32: wo.format = engine::WeightFormat::f32; break;
    case opmodel::DType::bf16: wo.format = engine::WeightFormat::bf16; break;
    case opmodel::DType::int8: wo.format = engine::WeightFormat::int8; break;
    default:
      throw ValidationError(fmt::format("weights {}: the engine stores weights as fp32, bf16 or int8",
                                        to_string(base.weight_dtype)));
  }
  wo.group_size = base.group_size;
  const engine::Config config = engine::parse_config(text.text, text.origin);
  const engine::Weights weights = engine_weights(config, checkpoint, seed, wo);
  const engine::MlaForm mla = base.mla == opmodel::MlaForm::naive      ? engine::MlaForm::naive
                              : base.mla == opmodel::MlaForm::absorbed ? engine::MlaForm::absorbed
                                                                       : engine::MlaForm::automatic;
  engine::Model engine_model(weights, tiled ? engine::AttentionKind::tiled : engine::AttentionKind::naive, mla,
                             base.fusion.add_norm ? engine::AddNorm::fused : engine::AddNorm::separate);
  engine::Probe probe;
  time_engine(engine_model, points, timing, probe);
  const std::vector<Measurement> measured = measurements_from_records(probe.records);
  return validate_ops(model, base, hw, measured);
}

void calibrate_halves(std::vector<ValidationRow>& rows, const std::function<bool(const StepKey&)>& held_out,
                      const std::string& fitted_by, ValidationReport& report) {
  std::vector<ValidationRow> fit, held;
  for (auto& r : rows) {
    r.half = held_out(r.step) ? "held-out" : "fit";
    if (r.half == "fit") fit.push_back(r);
  }
  report.calibration = fit_calibration(fit, fmt::format("{}: {} of {} measured ops (the fit half), {}", fitted_by,
                                                        fit.size(), rows.size(), report.source));
  apply_calibration(*report.calibration, rows);
  for (const auto& r : rows)
    if (r.half == "held-out") held.push_back(r);
  report.held_out = statistics(held);
  const auto unfitted = std::count_if(held.begin(), held.end(), [](const ValidationRow& r) { return !r.expected_s; });
  if (unfitted > 0)
    report.notes.push_back(fmt::format("{} held-out ops have no fit: no op of their kernel, weights and phase was in "
                                       "the fit half",
                                       unfitted));
}

void sweep_formats(const EngineValidation& ev, opmodel::Scenario base, double kv_budget_gib,
                   const std::string& fitted_by, const std::function<void(const std::string&)>& progress,
                   ValidationReport& report) {
  const engine::Config config = engine::parse_config(ev.text.text, ev.text.origin);
  // K and V rows (MLA: the latent row) of every layer, fp32 (the engine's KV cache).
  const double kv_bytes_per_token = double(config.n_layers) * double(config.cache_k_dim() + config.cache_v_dim()) * 4;
  const SweepPlan plan = sweep_plan(kv_bytes_per_token, kv_budget_gib * double(1ull << 30));
  std::vector<ValidationRow> rows;
  const auto start = std::chrono::steady_clock::now();
  for (opmodel::DType w : {opmodel::DType::fp32, opmodel::DType::bf16, opmodel::DType::int8}) {
    base.weight_dtype = w;
    progress(fmt::format("validate --sweep: {} weights, {} shapes...", to_string(w), plan.points.size()));
    for (auto& r : ev.rows(base, plan.points)) rows.push_back(std::move(r));
    progress(fmt::format(" done ({:.0f} s elapsed)\n",
                         std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()));
  }
  calibrate_halves(rows, [&](const StepKey& k) { return plan.is_held_out(k); }, fitted_by, report);
  report.scenario = fmt::format("weights fp32, bf16 and int8 (group {}), activations and KV fp32, {} attention, {}",
                                base.group_size, ev.tiled ? "flash" : "naive", fusion_text(base.fusion));
  for (const EnginePoint& p : plan.skipped)
    report.notes.push_back(fmt::format("skipped decode batch {} context {}: its KV cache exceeds {:g} GiB (--sweep-kv-gib)",
                                       p.batch, p.length, kv_budget_gib));
  report.rows = std::move(rows);
  report.stats = statistics(report.rows);
}

std::vector<StepKey> distinct_shapes(const std::vector<Measurement>& measured) {
  std::vector<StepKey> shapes;
  for (const auto& m : measured) shapes.push_back(m.step);
  std::sort(shapes.begin(), shapes.end());
  shapes.erase(std::unique(shapes.begin(), shapes.end()), shapes.end());
  return shapes;
}

}  // namespace roofline
