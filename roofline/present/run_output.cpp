#include "roofline/present/run_output.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "reports/table.hpp"
#include "reports/units.hpp"

namespace roofline {

nlohmann::json to_json(const EngineRunReport& r) {
  nlohmann::json j;
  j["schema_version"] = 1;
  j["model"] = r.model;
  j["config"] = {{"layers", r.layers}, {"dim", r.dim}, {"heads", r.heads}, {"kv_heads", r.kv_heads},
                 {"vocab_size", r.vocab_size}};
  j["weights"] = r.checkpoint.empty() ? nlohmann::json(fmt::format("random, seed {}", r.seed))
                                      : nlohmann::json(r.checkpoint);
  j["weight_format"] = r.weight_format;
  j["attention"] = r.attention;
  j["kv_cache"] = r.kv_cache;
  j["threads"] = r.threads;
  j["tokens"] = r.tokens;
  j["time_to_first_token_s"] = r.prefill_s;
  j["decode_steps"] = r.decode_step_s.size();
  j["decode_time_s"] = r.decode_s;
  j["decode_tokens_per_s"] = r.decode_tokens_per_s;
  nlohmann::json kernels = nlohmann::json::array();
  for (const KernelTime& t : r.kernels)
    kernels.push_back({{"phase", t.phase}, {"op", t.op}, {"calls", t.calls}, {"seconds", t.seconds}});
  j["kernels"] = kernels;
  if (!r.warnings.empty()) j["warnings"] = r.warnings;
  return j;
}

std::string render_table(const EngineRunReport& r) {
  std::string text = fmt::format(
      "{} ({} layers, dim {}, {} heads / {} KV heads, vocab {}), {} weights, {}, {} attention, {} KV cache, {} "
      "threads\n\n",
      r.model, r.layers, r.dim, r.heads, r.kv_heads, r.vocab_size,
      r.checkpoint.empty() ? fmt::format("random (seed {})", r.seed) : r.checkpoint, r.weight_format, r.attention,
      r.kv_cache, r.threads);
  for (const auto& w : r.warnings) text += fmt::format("warning: {}\n", w);
  if (!r.warnings.empty()) text += "\n";
  for (std::size_t i = 0; i < r.tokens.size(); ++i)
    text += fmt::format("sequence {}: {}\n", i, fmt::join(r.tokens[i], " "));
  text += fmt::format("\ntime to first token  {}\n", reports::duration(r.prefill_s));
  text += fmt::format("decode               {} steps, {}, {:.1f} tokens/s\n\n", r.decode_step_s.size(),
                      reports::duration(r.decode_s), r.decode_tokens_per_s);
  reports::Table table({{"phase", reports::Align::left}, {"op", reports::Align::left}, {"calls"}, {"total"},
                        {"per call"}, {"share"}});
  for (const KernelTime& t : r.kernels)
    table.add_row({t.phase, t.op, std::to_string(t.calls), reports::duration(t.seconds),
                   reports::duration(t.seconds / double(t.calls)), reports::percent(t.phase_share)});
  return text + "time per kernel (summed over layers)\n" + table.render();
}

}  // namespace roofline
