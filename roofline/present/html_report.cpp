#include "roofline/present/html_report.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "opmodel/footprint.hpp"
#include "reports/units.hpp"
#include "roofline/present/analysis_output.hpp"

namespace roofline {

std::vector<std::pair<std::string, std::string>> roof_terms(const hardware::Profile& hw) {
  std::vector<std::pair<std::string, std::string>> t;
  std::string peaks;
  for (hardware::Precision p : hw.precisions()) {
    if (!peaks.empty()) peaks += ", ";
    peaks += fmt::format("{} {}", to_string(p), reports::si(hw.peak(p)->value, "FLOP/s"));
  }
  t.push_back({"Peaks", peaks});
  std::string memory = fmt::format("{} {}", hw.memory.name.empty() ? "memory" : hw.memory.name,
                                   reports::si(hw.memory_bytes_per_s(), "B/s"));
  memory += hw.capacity_bytes() ? fmt::format(", {}", reports::si(*hw.capacity_bytes(), "B")) : ", capacity not given";
  t.push_back({"Memory", memory});
  return t;
}

namespace {

using Terms = std::vector<std::pair<std::string, std::string>>;

std::string model_text(const opmodel::ModelConfig& m, double parameters, double active) {
  std::string t = fmt::format("{} ({}): {} parameters, {} layers, hidden {}, {} heads, {} KV heads of {}, FFN {}, "
                              "vocabulary {}",
                              m.name, m.model_type, reports::si(parameters, ""), m.num_layers,
                              m.hidden_size, m.num_heads, m.num_kv_heads, m.head_dim, m.intermediate_size,
                              m.vocab_size);
  if (m.is_moe())
    t += fmt::format(", {} experts of {} ({} per token, {} active parameters) in {} of {} layers", m.num_experts,
                     m.moe_intermediate_size, m.experts_per_token, reports::si(active, ""), m.moe_layers, m.num_layers);
  if (m.shared_expert_intermediate_size > 0) t += fmt::format(", a shared expert of {}", m.shared_expert_intermediate_size);
  if (m.sliding_window) t += fmt::format(", sliding window {}", *m.sliding_window);
  return t;
}

Terms hardware_terms(const hardware::Profile& hw) {
  Terms t{{"Hardware", hw.description.empty() ? hw.name : fmt::format("{}: {}", hw.name, hw.description)},
          {"Profile", hw.origin}};
  if (!hw.overrides.empty()) t.push_back({"Overrides", fmt::format("{}", fmt::join(hw.overrides, "; "))});
  for (auto& term : roof_terms(hw)) t.push_back(std::move(term));
  return t;
}

reports::HtmlSection context_section(const Analysis& a, const ReportInfo& info) {
  const AnalysisRequest& r = a.request;
  const opmodel::Scenario& s = r.scenario;
  Terms t{{"Model", model_text(a.model, a.parameters, a.active_parameters)}};
  for (auto& term : hardware_terms(a.hardware)) t.push_back(std::move(term));
  std::string scenario = fmt::format("batch {}", s.batch);
  if (r.prompt) scenario += fmt::format(", prompt {} tokens", *r.prompt);
  if (r.decode) scenario += fmt::format(", decode step at {} cached tokens", r.decode_context());
  if (r.gen) scenario += fmt::format(", {} output tokens", *r.gen);
  t.push_back({"Scenario", scenario});
  for (const auto& w : a.warnings) t.push_back({"Warning", w});
  t.push_back({"Phases", r.prefill && r.decode ? "prefill and decode" : r.prefill ? "prefill" : "decode"});
  std::string dtypes = fmt::format("weights {}, activations {}, KV cache {}", opmodel::describe_weights(s),
                                   to_string(s.act_dtype), to_string(s.kv_dtype));
  if (s.weight_dtype == opmodel::DType::int8 || s.weight_dtype == opmodel::DType::int4)
    dtypes += fmt::format(" (an fp16 scale per {} inputs)", s.group_size);
  t.push_back({"Data types", dtypes});
  t.push_back({"Kernels", fmt::format("attention {}, fusion {}, lm_head on {}", to_string(s.attention),
                                      to_string(s.fusion), s.all_logits ? "every prompt token" : "the last token")});
  t.push_back({"Made by", fmt::format("roofline {}, {}", info.version, info.generated_at)});
  t.push_back({"Command", info.command});
  return {"context", "Context", reports::html_terms(t)};
}

reports::HtmlSection summary_section(const Analysis& a) {
  std::string body;
  Terms t;
  if (a.whole_request) {
    const RequestResult& r = *a.whole_request;
    t.push_back({"Time to first token", reports::duration(r.ttft_s)});
    t.push_back({"Time per output token", fmt::format("{} (mean of {} decode steps)", reports::duration(r.tpot_s),
                                                      r.gen_tokens)});
    t.push_back({"Whole request", reports::duration(r.total_time_s)});
    t.push_back({"Throughput", fmt::format("{:.1f} output tokens/s ({:.1f} in decode)", r.output_tokens_per_s,
                                           r.decode_tokens_per_s)});
    if (r.expected_ttft_s)
      t.push_back({"Expected (calibrated)",
                   fmt::format("TTFT {}, TPOT {}: the profile's calibration ({})", reports::duration(*r.expected_ttft_s),
                               reports::duration(*r.expected_tpot_s), a.hardware.expectations()->source)});
  } else {
    body += reports::html_paragraph("No whole request was asked for (--gen N gives TTFT, TPOT and throughput).");
  }
  for (const StepResult& st : a.steps)
    t.push_back({fmt::format("{} step", st.phase == Phase::prefill ? "Prefill" : "Decode"),
                 fmt::format("{}, {} of it in memory-bound ops", reports::duration(st.time_s),
                             reports::percent(st.memory_bound_time_s / st.time_s))});
  const MemoryResult& m = a.memory;
  t.push_back({"Memory", fmt::format("weights {}, KV cache {}, activations {}, total {} at {} tokens per sequence",
                                     reports::si(m.weights_bytes, "B"), reports::si(m.kv_cache_bytes, "B"),
                                     reports::si(m.activations_bytes, "B"), reports::si(m.total_bytes(), "B"),
                                     m.context_tokens)});
  t.push_back({"Fits", m.capacity_bytes ? fmt::format("{} of {}", *m.fits() ? "yes" : "NO, it does not fit",
                                                      reports::si(*m.capacity_bytes, "B"))
                                        : "unknown: the profile gives no capacity"});
  t.push_back({"Roof", fmt::format("{} {} peak, {} memory", reports::si(a.hardware.require_peak(a.linear_precision), "FLOP/s"),
                                   to_string(a.linear_precision), reports::si(a.hardware.memory_bytes_per_s(), "B/s"))});
  t.push_back({"Ridge point", fmt::format("{:.1f} FLOP/B", a.ridge_flops_per_byte)});
  t.push_back({"Compute-bound batch",
               a.decode_compute_bound_batch
                   ? fmt::format("decode linear layers turn compute-bound at batch {}", *a.decode_compute_bound_batch)
                   : std::string("decode linear layers stay memory-bound at every batch up to 2^20")});
  return {"summary", "Summary", body + reports::html_terms(t)};
}

reports::HtmlSection phase_section(const StepResult& st, const StepExpectation* expected, bool precision) {
  const bool prefill = st.phase == Phase::prefill;
  return {std::string(to_string(st.phase)), prefill ? "Prefill step" : "Decode step",
          reports::html_table(step_table(st, expected, precision), step_heading(st))};
}

std::string figure(const std::string& svg, const std::string& id, const std::string& title, const std::string& caption) {
  return reports::html_figure(reports::inline_svg(svg, id + "-", title), caption);
}

reports::HtmlSection charts_section(const Analysis& a, const Exploration& e) {
  const auto roof = roofline_chart(a, e);
  const auto bars = breakdown_chart(a);
  const auto batch = batch_chart(a, e);
  const auto context = context_chart(a, e);
  const auto memory = memory_chart(a, e);
  std::string body;
  body += figure(reports::render_svg(roof), "chart-roofline", roof.title,
                 "Roofline: each op of each step at its arithmetic intensity and attainable FLOP/s, under the roofs "
                 "of each precision and the slope of each memory level; circles mark the ridge points. Ops at one "
                 "point share a label; a label with no room is a number, its ops listed in the key.");
  body += figure(reports::render_svg(bars), "chart-breakdown", bars.title,
                 "Where each step's time goes: each op's share, stacked.");
  body += figure(reports::render_svg(batch), "chart-batch", batch.title,
                 "The decode step's time and tokens/s against batch.");
  body += figure(reports::render_svg(context), "chart-context", context.title,
                 "The decode step's time and tokens/s against the tokens cached per sequence.");
  body += figure(reports::render_svg(memory), "chart-memory", memory.title,
                 "Weights, KV cache and activations against batch, with the device's capacity.");
  return {"charts", "Charts", body};
}

}  // namespace

std::string analysis_title(const Analysis& a) { return fmt::format("{} on {}", a.model.name, a.hardware.name); }

std::vector<reports::HtmlSection> analysis_sections(const Analysis& a, const Exploration& e,
                                                    const ReportInfo& info) {
  std::vector<reports::HtmlSection> s{context_section(a, info), summary_section(a)};
  for (std::size_t i = 0; i < a.steps.size(); ++i)
    s.push_back(phase_section(a.steps[i], a.expected.empty() ? nullptr : &a.expected[i], a.mixed_precisions));
  s.push_back(charts_section(a, e));
  return s;
}

}  // namespace roofline
