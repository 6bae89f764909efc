// roofline run: generate with the reference engine (random weights unless --weights), timing every kernel.
#include <omp.h>

#include <algorithm>
#include <iostream>
#include <limits>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "engine/error.hpp"
#include "engine/generate.hpp"
#include "engine/kv_cache.hpp"
#include "engine/model.hpp"
#include "engine/op_names.hpp"
#include "reports/table.hpp"
#include "reports/units.hpp"
#include "roofline/cli/options.hpp"
#include "roofline/cli/commands.hpp"
#include "roofline/validate/engine_setup.hpp"

namespace roofline::cli {
namespace {

// "1 2 3" or "1 2 3; 4 5" (one prompt per sequence); ids checked against the vocabulary.
std::vector<std::vector<std::int32_t>> parse_prompts(const std::string& text, std::int64_t vocab) {
  std::vector<std::vector<std::int32_t>> prompts;
  std::stringstream all(text);
  std::string one;
  while (std::getline(all, one, ';')) {
    std::vector<std::int32_t> ids;
    std::stringstream words(one);
    std::string word;
    while (words >> word) ids.push_back(std::int32_t(parse_integer("prompt-ids", word, 0, vocab - 1)));
    if (ids.empty()) throw UsageError("prompt-ids", fmt::format("prompt {} has no token ids", prompts.size() + 1));
    prompts.push_back(std::move(ids));
  }
  if (prompts.empty()) throw UsageError("prompt-ids", "no token ids");
  return prompts;
}

// A sampler option: any finite number here; the sampler checks its own ranges (and names the option).
double number(const po::variables_map& vm, const char* option) {
  return parse_number(option, vm[option].as<std::string>(), std::numeric_limits<double>::lowest(),
                      std::numeric_limits<double>::max());
}

struct KernelTotal {
  std::int64_t calls = 0;
  double seconds = 0;
};

}  // namespace

int run(int argc, const char* const* argv) {
  po::options_description desc(
      "roofline run: generate token ids with the reference engine, timing every kernel\n\nOptions");
  desc.add_options()
      ("model", po::value<std::string>(), "model preset or config.json (llama, mistral, qwen2)")
      ("weights", po::value<std::string>()->default_value(""),
       "safetensors checkpoint: file, directory or model.safetensors.index.json (default: seeded random)")
      ("layers", po::value<std::string>(), "override the config's layer count (fit full-size layers in memory)")
      ("prompt-ids", po::value<std::string>(), "token ids: \"1 2 3\", or \"1 2 3; 4 5\" for one prompt per sequence")
      ("gen", po::value<std::string>()->default_value("16"), "new tokens per sequence (gen - 1 decode steps)")
      ("batch", po::value<std::string>(), "sequences (repeats a single prompt; default: one per prompt)")
      ("weight-format", po::value<std::string>()->default_value("f32"), "f32 | bf16 | int8 (decoder projections)")
      ("group-size", po::value<std::string>()->default_value("128"), "int8: inputs per scale (0 = per output channel)")
      ("attn", po::value<std::string>()->default_value("flash"), "flash (tiled online softmax) | naive")
      ("kv", po::value<std::string>()->default_value("paged"), "paged | contiguous")
      ("block-size", po::value<std::string>()->default_value("16"), "paged KV cache: positions per block")
      ("threads", po::value<std::string>(), "threads (default: every CPU)")
      ("seed", po::value<std::string>()->default_value("0"), "seed of the random weights")
      ("temperature", po::value<std::string>()->default_value("0"), "0 = greedy")
      ("top-k", po::value<std::string>()->default_value("0"), "keep the k most likely tokens (0 = off)")
      ("top-p", po::value<std::string>()->default_value("1"), "nucleus: smallest set reaching p (1 = off)")
      ("repetition-penalty", po::value<std::string>()->default_value("1"), "HF-style, over prompt and output")
      ("presence-penalty", po::value<std::string>()->default_value("0"), "subtracted once per token seen in the output")
      ("frequency-penalty", po::value<std::string>()->default_value("0"), "subtracted per occurrence in the output")
      ("sample-seed", po::value<std::string>()->default_value("0"), "seed of the sampler")
      ("save-weights", po::value<std::string>(), "also write the weights as an HF checkpoint directory")
      ("format", po::value<std::string>()->default_value("table"), "table | json")
      ("output,o", po::value<std::string>()->default_value("-"), "output file (written whole or not at all)")
      ("help,h", "this help");
  const po::variables_map vm = parse(argc, argv, desc);
  if (vm.count("help")) {
    std::cout << desc << "\nExample: roofline run --model llama-2-7b --layers 2 --prompt-ids \"1 15043 29892\" --gen 8\n";
    return 0;
  }
  const std::string format = vm["format"].as<std::string>();
  if (format != "table" && format != "json") throw UsageError("format", "expected table or json, got '" + format + "'");
  const std::string attn = vm["attn"].as<std::string>(), kv = vm["kv"].as<std::string>();
  if (attn != "flash" && attn != "naive") throw UsageError("attn", "expected flash or naive, got '" + attn + "'");
  if (kv != "paged" && kv != "contiguous") throw UsageError("kv", "expected paged or contiguous, got '" + kv + "'");

  EngineModelSource src{required(vm, "model"), std::nullopt};
  if (vm.count("layers")) src.layers = parse_integer("layers", vm["layers"].as<std::string>(), 1, 1 << 16);
  const ConfigText config_text = engine_config_text(src);
  const engine::Config config = engine::parse_config(config_text.text, config_text.origin);

  auto prompts = parse_prompts(required(vm, "prompt-ids"), config.vocab_size);
  if (vm.count("batch")) {
    const auto b = parse_integer("batch", vm["batch"].as<std::string>(), 1, 4096);
    if (prompts.size() == 1)
      prompts.assign(std::size_t(b), prompts[0]);
    else if (std::int64_t(prompts.size()) != b)
      throw UsageError("batch", fmt::format("{} prompts given for a batch of {}", prompts.size(), b));
  }
  const std::int64_t gen = parse_integer("gen", vm["gen"].as<std::string>(), 1, 1 << 20);
  if (vm.count("threads")) omp_set_num_threads(int(parse_integer("threads", vm["threads"].as<std::string>(), 1, 1024)));

  engine::WeightOptions wo;
  wo.format = engine::parse_weight_format(vm["weight-format"].as<std::string>());
  wo.group_size = parse_integer("group-size", vm["group-size"].as<std::string>(), 0, 1 << 20);
  engine::SamplerOptions so;
  so.temperature = number(vm, "temperature");
  so.top_k = parse_integer("top-k", vm["top-k"].as<std::string>(), 0, config.vocab_size);
  so.top_p = number(vm, "top-p");
  so.repetition_penalty = number(vm, "repetition-penalty");
  so.presence_penalty = number(vm, "presence-penalty");
  so.frequency_penalty = number(vm, "frequency-penalty");
  so.seed = std::uint64_t(parse_integer("sample-seed", vm["sample-seed"].as<std::string>(), 0, INT64_MAX));
  engine::validate(so);
  const auto seed = std::uint64_t(parse_integer("seed", vm["seed"].as<std::string>(), 0, INT64_MAX));
  const std::int64_t block = parse_integer("block-size", vm["block-size"].as<std::string>(), 1, 1 << 20);

  const engine::Weights weights = engine_weights(config, vm["weights"].as<std::string>(), seed, wo);
  if (vm.count("save-weights")) engine::save_checkpoint(weights, config_text.text, vm["save-weights"].as<std::string>());

  std::int64_t longest = 0;
  for (const auto& p : prompts) longest = std::max(longest, std::int64_t(p.size()));
  const std::int64_t capacity = longest + gen, B = std::int64_t(prompts.size());
  engine::KvCache cache = kv == "contiguous"
                              ? engine::KvCache::contiguous(config.n_layers, config.kv_dim(), B, capacity)
                              : engine::KvCache(config.n_layers, config.kv_dim(), block, B * ((capacity + block - 1) / block));
  engine::Model model(weights, attn == "flash" ? engine::AttentionKind::tiled : engine::AttentionKind::naive);
  engine::Probe probe;
  const engine::GenerationResult r = engine::generate(model, cache, prompts, gen, so, &probe);

  // Time per kernel: summed over layers and calls, per phase, in execution order.
  std::map<std::pair<int, std::size_t>, KernelTotal> totals;
  for (const auto& rec : probe.records) {
    const auto order = std::size_t(std::find(engine::op::kTimed.begin(), engine::op::kTimed.end(), rec.op) - engine::op::kTimed.begin());
    auto& t = totals[{int(rec.phase), order}];
    ++t.calls;
    t.seconds += double(rec.ns) * 1e-9;
  }
  double decode_s = 0;
  for (double s : r.decode_step_s) decode_s += s;

  std::string text;
  if (format == "json") {
    nlohmann::json j;
    j["schema_version"] = 1;
    j["model"] = config_text.origin;
    j["config"] = {{"layers", config.n_layers}, {"dim", config.dim}, {"heads", config.n_heads},
                   {"kv_heads", config.n_kv_heads}, {"vocab_size", config.vocab_size}};
    j["weights"] = vm["weights"].as<std::string>().empty() ? nlohmann::json(fmt::format("random, seed {}", seed))
                                                           : nlohmann::json(vm["weights"].as<std::string>());
    j["weight_format"] = engine::to_string(wo.format);
    j["attention"] = attn;
    j["kv_cache"] = kv;
    j["threads"] = omp_get_max_threads();
    j["tokens"] = r.tokens;
    j["time_to_first_token_s"] = r.prefill_s;
    j["decode_steps"] = r.decode_step_s.size();
    j["decode_time_s"] = decode_s;
    j["decode_tokens_per_s"] = r.decode_tokens_per_s();
    nlohmann::json kernels = nlohmann::json::array();
    for (const auto& [key, t] : totals)
      kernels.push_back({{"phase", engine::to_string(engine::Phase(key.first))},
                         {"op", engine::op::kTimed[key.second]}, {"calls", t.calls}, {"seconds", t.seconds}});
    j["kernels"] = kernels;
    text = j.dump(2) + "\n";
  } else {
    text += fmt::format("{} ({} layers, dim {}, {} heads / {} KV heads, vocab {}), {} weights, {}, {} attention, "
                        "{} KV cache, {} threads\n\n",
                        config_text.origin, config.n_layers, config.dim, config.n_heads, config.n_kv_heads,
                        config.vocab_size,
                        vm["weights"].as<std::string>().empty() ? fmt::format("random (seed {})", seed)
                                                                : vm["weights"].as<std::string>(),
                        engine::to_string(wo.format), attn, kv, omp_get_max_threads());
    for (std::size_t i = 0; i < r.tokens.size(); ++i)
      text += fmt::format("sequence {}: {}\n", i, fmt::join(r.tokens[i], " "));
    text += fmt::format("\ntime to first token  {}\n", reports::duration(r.prefill_s));
    text += fmt::format("decode               {} steps, {}, {:.1f} tokens/s\n\n", r.decode_step_s.size(),
                        reports::duration(decode_s), r.decode_tokens_per_s());
    reports::Table table({{"phase", reports::Align::left}, {"op", reports::Align::left}, {"calls"}, {"total"},
                          {"per call"}, {"share"}});
    std::map<int, double> phase_total;
    for (const auto& [key, t] : totals) phase_total[key.first] += t.seconds;
    for (const auto& [key, t] : totals)
      table.add_row({std::string(engine::to_string(engine::Phase(key.first))), std::string(engine::op::kTimed[key.second]),
                     std::to_string(t.calls), reports::duration(t.seconds), reports::duration(t.seconds / double(t.calls)),
                     reports::percent(t.seconds / phase_total[key.first])});
    text += "time per kernel (summed over layers)\n" + table.render();
  }
  emit(vm["output"].as<std::string>(), text);
  return 0;
}

}  // namespace roofline::cli
