// roofline run: generate with the reference engine (random weights unless --weights), timing every kernel.
#include <omp.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <limits>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "engine/error.hpp"
#include "engine/sampler.hpp"
#include "engine/weights.hpp"
#include "roofline/cli/options.hpp"
#include "roofline/cli/commands.hpp"
#include "roofline/present/run_output.hpp"
#include "roofline/validate/engine_run.hpp"

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
  // getline drops what follows a last ';': "1 2;" names a second prompt with no ids.
  if (const auto last = text.find_last_not_of(" \t"); last != std::string::npos && text[last] == ';')
    throw UsageError("prompt-ids", fmt::format("prompt {} has no token ids", prompts.size() + 1));
  if (prompts.empty()) throw UsageError("prompt-ids", "no token ids");
  return prompts;
}

// A sampler option: any finite number here; the sampler checks its own ranges (and names the option).
double number(const po::variables_map& vm, const char* option) {
  return parse_number(option, vm[option].as<std::string>(), std::numeric_limits<double>::lowest(),
                      std::numeric_limits<double>::max());
}

void add_run_options(po::options_description& desc) {
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
      ("mla", po::value<std::string>()->default_value("auto"),
       "MLA models: auto (absorbed for decode steps, naive for prefill) | naive | absorbed")
      ("fuse", po::value<std::string>()->default_value("none"),
       "none | add_norm: each residual add inside the next RMSNorm (one kernel, as analyze's --fuse add_norm)")
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
      ("strict", po::bool_switch(), "a sequence beyond the model's max_position_embeddings is an error, not a warning")
      ("format", po::value<std::string>()->default_value("table"), "table | json")
      ("output,o", po::value<std::string>()->default_value("-"), "output file (written whole or not at all)")
      ("help,h", "this help");
}

engine::SamplerOptions sampler_options(const po::variables_map& vm, std::int64_t vocab_size) {
  engine::SamplerOptions so;
  so.temperature = number(vm, "temperature");
  so.top_k = parse_integer("top-k", vm["top-k"].as<std::string>(), 0, vocab_size);
  so.top_p = number(vm, "top-p");
  so.repetition_penalty = number(vm, "repetition-penalty");
  so.presence_penalty = number(vm, "presence-penalty");
  so.frequency_penalty = number(vm, "frequency-penalty");
  so.seed = std::uint64_t(parse_integer("sample-seed", vm["sample-seed"].as<std::string>(), 0, INT64_MAX));
  try {
    engine::validate(so);
  } catch (const engine::EngineError& e) {  // a sampler option out of its range: the command line's fault
    std::string option = e.field();
    std::replace(option.begin(), option.end(), '_', '-');
    throw UsageError(option, e.problem());
  }
  return so;
}

// Everything the run needs, read from the options (throws UsageError, or EngineError for a bad config).
EngineRunSetup run_setup(const po::variables_map& vm) {
  const std::string attn = vm["attn"].as<std::string>(), kv = vm["kv"].as<std::string>();
  if (attn != "flash" && attn != "naive") throw UsageError("attn", "expected flash or naive, got '" + attn + "'");
  if (kv != "paged" && kv != "contiguous") throw UsageError("kv", "expected paged or contiguous, got '" + kv + "'");
  const std::string mla = vm["mla"].as<std::string>();
  if (mla != "auto" && mla != "naive" && mla != "absorbed")
    throw UsageError("mla", "expected auto, naive or absorbed, got '" + mla + "'");
  const std::string fuse = vm["fuse"].as<std::string>();
  if (fuse != "none" && fuse != "add_norm")
    throw UsageError("fuse", "the engine fuses add_norm only: expected none or add_norm, got '" + fuse + "'");
  EngineModelSource src{required(vm, "model"), std::nullopt};
  if (vm.count("layers")) src.layers = parse_integer("layers", vm["layers"].as<std::string>(), 1, 1 << 16);
  EngineRunSetup s;
  s.config_text = engine_config_text(src);
  s.config = engine::parse_config(s.config_text.text, s.config_text.origin);
  s.prompts = parse_prompts(required(vm, "prompt-ids"), s.config.vocab_size);
  if (vm.count("batch")) {
    const auto b = parse_integer("batch", vm["batch"].as<std::string>(), 1, 4096);
    if (s.prompts.size() == 1)
      s.prompts.assign(std::size_t(b), s.prompts[0]);
    else if (std::int64_t(s.prompts.size()) != b)
      throw UsageError("batch", fmt::format("{} prompts given for a batch of {}", s.prompts.size(), b));
  }
  s.gen = parse_integer("gen", vm["gen"].as<std::string>(), 1, 1 << 20);
  try {
    s.weights.format = engine::parse_weight_format(vm["weight-format"].as<std::string>());
  } catch (const engine::EngineError& e) {
    throw UsageError("weight-format", e.problem());
  }
  s.weights.group_size = parse_integer("group-size", vm["group-size"].as<std::string>(), 0, 1 << 20);
  s.sampler = sampler_options(vm, s.config.vocab_size);
  s.seed = std::uint64_t(parse_integer("seed", vm["seed"].as<std::string>(), 0, INT64_MAX));
  s.block_size = parse_integer("block-size", vm["block-size"].as<std::string>(), 1, 1 << 20);
  s.checkpoint = vm["weights"].as<std::string>();
  s.flash = attn == "flash";
  s.paged = kv == "paged";
  s.mla = mla == "naive" ? engine::MlaForm::naive : mla == "absorbed" ? engine::MlaForm::absorbed : engine::MlaForm::automatic;
  s.add_norm = fuse == "add_norm" ? engine::AddNorm::fused : engine::AddNorm::separate;
  if (vm.count("save-weights")) {
    s.save_weights = vm["save-weights"].as<std::string>();
    std::error_code ec;
    if (std::filesystem::exists(*s.save_weights, ec) && !std::filesystem::is_directory(*s.save_weights, ec))
      throw UsageError("save-weights", fmt::format("'{}' exists and is not a directory (a checkpoint is written as "
                                                   "a directory)", *s.save_weights));
  }
  return s;
}

}  // namespace

int run(int argc, const char* const* argv) {
  po::options_description desc(
      "roofline run: generate token ids with the reference engine, timing every kernel\n\nOptions");
  add_run_options(desc);
  const po::variables_map vm = parse(argc, argv, desc);
  if (vm.count("help")) {
    std::cout << desc << "\nExample: roofline run --model llama-2-7b --layers 2 --prompt-ids \"1 15043 29892\" --gen 8\n";
    return 0;
  }
  const std::string format = vm["format"].as<std::string>();
  if (format != "table" && format != "json") throw UsageError("format", "expected table or json, got '" + format + "'");
  const EngineRunSetup setup = run_setup(vm);
  handle_warnings(vm, run_warnings(setup), "run");
  if (vm.count("threads")) omp_set_num_threads(int(parse_integer("threads", vm["threads"].as<std::string>(), 1, 1024)));
  const EngineRunReport r = run_engine(setup);
  emit(vm["output"].as<std::string>(), format == "json" ? to_json(r).dump(2) + "\n" : render_table(r));
  return 0;
}

}  // namespace roofline::cli
