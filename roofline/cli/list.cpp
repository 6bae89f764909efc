// roofline list models|hardware|ops: what the presets and the op vocabulary hold.
#include <iostream>

#include <fmt/format.h>

#include "hardware/presets.hpp"
#include "opmodel/footprint.hpp"
#include "opmodel/model_config.hpp"
#include "opmodel/op_names.hpp"
#include "reports/table.hpp"
#include "reports/units.hpp"
#include "roofline/cli/options.hpp"
#include "roofline/cli/commands.hpp"

namespace roofline::cli {

namespace {

// The MoE part of a model in a few words: "128 x 768 top-8", "+ shared 5632", "(3 dense layers)".
std::string experts_text(const opmodel::ModelConfig& m) {
  if (!m.is_moe()) return "-";
  std::string t = fmt::format("{} x {} top-{}", m.num_experts, m.moe_intermediate_size, m.experts_per_token);
  if (m.shared_expert_intermediate_size > 0) t += fmt::format(" + shared {}", m.shared_expert_intermediate_size);
  if (m.dense_layers() > 0) t += fmt::format(" ({} dense layers)", m.dense_layers());
  return t;
}

std::string list_models() {
  using reports::Align;
  reports::Table t({{"model", Align::left}, {"type", Align::left}, {"params"}, {"active"}, {"layers"}, {"hidden"},
                    {"heads/kv"}, {"head_dim"}, {"ffn"}, {"vocab"}, {"experts", Align::left}, {"KV/token fp16"}});
  for (const auto& name : opmodel::model_preset_names()) {
    const auto m = opmodel::resolve_model(name);
    const bool dense_ffn = !m.is_moe() || m.dense_layers() > 0;
    t.add_row({name, m.model_type, reports::si(opmodel::parameter_count(m), ""),
               reports::si(opmodel::active_parameter_count(m), ""), std::to_string(m.num_layers),
               std::to_string(m.hidden_size), fmt::format("{}/{}", m.num_heads, m.num_kv_heads),
               std::to_string(m.head_dim), dense_ffn ? std::to_string(m.intermediate_size) : "-",
               std::to_string(m.vocab_size), experts_text(m),
               reports::si(opmodel::kv_bytes_per_token(m, opmodel::DType::fp16), "B")});
  }
  return t.render();
}

std::string list_hardware() {
  using reports::Align;
  std::vector<reports::Table::Column> cols = {{"hardware", Align::left}, {"description", Align::left}};
  for (auto p : hardware::kAllPrecisions) cols.push_back({std::string(to_string(p))});
  cols.insert(cols.end(), {{"memory B/s"}, {"capacity"}, {"LLC"}});
  reports::Table t(cols);
  for (const auto& name : hardware::preset_names()) {
    const auto& p = hardware::preset(name);
    std::vector<std::string> row = {name, p.description};
    for (auto q : hardware::kAllPrecisions) row.push_back(p.peak(q) ? reports::si(p.peak(q)->value, "") : "-");
    row.push_back(reports::si(p.memory_bytes_per_s(), "B/s"));
    row.push_back(p.capacity_bytes() ? reports::si(*p.capacity_bytes(), "B") : "-");
    const auto* llc = p.caches.empty() ? nullptr : &p.caches.back();
    row.push_back(llc && llc->size_bytes ? llc->name + " " + reports::si(llc->size_bytes->value, "B") : "-");
    t.add_row(row);
  }
  return "peak FLOP/s per precision (dense), main-memory bandwidth, capacity, last-level cache\n" + t.render();
}

std::string list_ops() {
  reports::Table t({{"op", reports::Align::left}, {"what it does", reports::Align::left}});
  for (const auto& d : opmodel::op::kVocabulary) t.add_row({std::string(d.name), std::string(d.what)});
  return t.render();
}

}  // namespace

int list(int argc, const char* const* argv) {
  po::options_description desc("roofline list models|hardware|ops\n\nOptions");
  desc.add_options()("what", po::value<std::string>(), "models | hardware | ops")("help,h", "this help");
  po::positional_options_description pos;
  pos.add("what", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(desc).positional(pos).run(), vm);
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }
  const std::string what = vm.count("what") ? vm["what"].as<std::string>() : "";
  if (what == "models") std::cout << list_models();
  else if (what == "hardware") std::cout << list_hardware();
  else if (what == "ops") std::cout << list_ops();
  else throw UsageError("expected 'roofline list models', 'roofline list hardware' or 'roofline list ops'");
  return 0;
}

}  // namespace roofline::cli
