#include "roofline/cli/options.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <iostream>
#include <limits>
#include <sstream>

#include <fmt/format.h>

#include "common/strict_number.hpp"
#include "common/utc_time.hpp"
#include "hardware/layers.hpp"
#include "hardware/presets.hpp"
#include "opmodel/error.hpp"
#include "reports/output_file.hpp"
#include "roofline/simulate/error.hpp"

namespace roofline::cli {

std::string utc_now() { return common::utc_now("%Y-%m-%d %H:%M UTC"); }

std::int64_t parse_integer(const std::string& option, const std::string& text, std::int64_t min, std::int64_t max) {
  std::int64_t v = 0;
  if (const std::string problem = common::integer_in_range(text, min, max, v); !problem.empty())
    throw UsageError(option, problem);
  return v;
}

double parse_number(const std::string& option, const std::string& text, double min, double max) {
  const auto [v, status] = common::parse_real(text);
  if (status == common::NumberStatus::out_of_range) throw UsageError(option, fmt::format("'{}' is out of range", text));
  if (status != common::NumberStatus::ok) throw UsageError(option, fmt::format("expected a number, got '{}'", text));
  if (v < min || v > max) throw UsageError(option, fmt::format("must be in [{:g}, {:g}], got {}", min, max, text));
  return v;
}

void add_hardware_options(po::options_description& desc, const char* hw_help) {
  desc.add_options()
      ("hw", po::value<std::string>(), hw_help)
      ("hw-patch", po::value<std::string>(), "a JSON merge patch over --hw's profile (RFC 7386)")
      ("hw-set", po::value<std::vector<std::string>>()->composing(),
       "KEY=VALUE over --hw's profile, after --hw-patch (repeatable): memory.bytes_per_s=3.0e12")
      ("force", po::bool_switch(), "accept profile figures outside physical plausibility (bandwidth > 1e15 B/s, ...)");
}

hardware::Profile hardware_profile(const po::variables_map& vm) {
  hardware::ProfileLayers layers;
  layers.base = required(vm, "hw");
  if (vm.count("hw-patch")) layers.patch_file = vm["hw-patch"].as<std::string>();
  if (vm.count("hw-set")) layers.settings = vm["hw-set"].as<std::vector<std::string>>();
  layers.force = vm["force"].as<bool>();
  try {
    return hardware::build_profile(layers);
  } catch (const hardware::OverrideError& e) {
    throw UsageError("hw-set", e.problem());
  }
}

std::optional<hardware::Profile> optional_hardware_profile(const po::variables_map& vm) {
  if (vm.count("hw")) return hardware_profile(vm);
  reject_given(vm, {"hw-patch", "hw-set", "force"}, "applies to --hw's profile: give --hw too");
  return std::nullopt;
}

void add_analysis_options(po::options_description& desc) {
  desc.add_options()
      ("model", po::value<std::string>(), "model preset (roofline list models) or a Hugging Face config.json");
  add_hardware_options(desc, "hardware preset (roofline list hardware) or a profile JSON file");
  desc.add_options()
      ("batch", po::value<std::string>()->default_value("1"), "sequences per step")
      ("prompt", po::value<std::string>(), "prompt tokens per sequence (the prefill step)")
      ("kv-len", po::value<std::string>(), "tokens already cached for the decode step shown (default: --prompt)")
      ("gen", po::value<std::string>(), "output tokens: the whole request, prefill then this many decode steps")
      ("phase", po::value<std::string>()->default_value("both"), "prefill | decode | both");
  add_precision_options(desc);
  desc.add_options()
      ("all-logits", po::bool_switch(), "lm_head on every prompt token, not only the last")
      ("strict", po::bool_switch(), "a context beyond the model's max_position_embeddings is an error, not a warning");
}

void handle_warnings(const po::variables_map& vm, const std::vector<std::string>& warnings, const std::string& command) {
  if (warnings.empty()) return;
  if (vm.count("strict") && vm["strict"].as<bool>()) throw UsageError("strict", warnings.front());
  for (const auto& w : warnings) std::cerr << "roofline " << command << ": warning: " << w << "\n";
}

void add_precision_options(po::options_description& desc) {
  desc.add_options()
      ("wdtype", po::value<std::string>()->default_value("fp16"),
       "weight format of every projection: fp32 fp16 bf16 fp8 int8 int4 fp8_block mxfp4 nvfp4 (default: the\n"
       "formats the config's quantization_config declares, fp16 where it declares none)")
      ("module-wdtype", po::value<std::string>(),
       "per-module weight formats over --wdtype and the checkpoint's: attention=bf16,mlp=fp8,experts=mxfp4")
      ("mla", po::value<std::string>()->default_value("auto"),
       "MLA form (DeepSeek): naive (K, V decompressed) | absorbed (attention over the latent) | auto (in\n"
       "each step: decodes and speculative verification absorbed, prompt tokens naive)")
      ("adtype", po::value<std::string>()->default_value("fp16"), "activation dtype")
      ("kvdtype", po::value<std::string>()->default_value("fp16"), "KV cache dtype")
      ("attn-dtype", po::value<std::string>(),
       "dtype attention computes in, where not the activations' (fp8 GEMMs beside fp16 attention, as\n"
       "TensorRT-LLM's gpt_attention_plugin float16 runs them): fp32 fp16 bf16 fp8")
      ("gemm-input-dtype", po::value<std::string>(),
       "dtype projections' inputs are quantized to, where the activations stay wider (W8A8 with fp16\n"
       "activations, as TensorRT-LLM's fp8 recipe runs): fp8 int8 ...")
      ("group-size", po::value<std::string>()->default_value("128"), "inputs per fp16 scale for int8/int4 weights")
      ("attn", po::value<std::string>()->default_value("flash"), "attention: naive (scores in memory) | flash (fused)")
      ("fuse", po::value<std::string>()->default_value("none"), "fusions: qkv,add_norm,swiglu | all | none");
}

std::string required(const po::variables_map& vm, const char* option) {
  if (!vm.count(option)) throw UsageError(option, "is required");
  return vm[option].as<std::string>();
}

opmodel::DType dtype_option(const po::variables_map& vm, const char* option) {
  const std::string text = vm[option].as<std::string>();
  auto t = opmodel::parse_dtype(text);
  if (!t) throw UsageError(option, fmt::format("unknown dtype '{}' (known: {})", text, opmodel::kDTypeNames));
  return *t;
}

AnalysisRequest analysis_request(const po::variables_map& vm) {
  constexpr std::int64_t kMax = std::int64_t{1} << 24;
  AnalysisRequest r;
  auto& s = r.scenario;
  s.batch = parse_integer("batch", vm["batch"].as<std::string>(), 1, std::int64_t{1} << 20);
  if (vm.count("prompt")) r.prompt = parse_integer("prompt", vm["prompt"].as<std::string>(), 1, kMax);
  if (vm.count("kv-len")) r.kv_len = parse_integer("kv-len", vm["kv-len"].as<std::string>(), 0, kMax);
  if (vm.count("gen")) r.gen = parse_integer("gen", vm["gen"].as<std::string>(), 1, kMax);
  read_precision_options(vm, s);
  s.all_logits = vm["all-logits"].as<bool>();

  const std::string phase = vm["phase"].as<std::string>();
  if (phase == "prefill") r.decode = false;
  else if (phase == "decode") r.prefill = false;
  else if (phase != "both") throw UsageError("phase", fmt::format("expected prefill, decode or both, got '{}'", phase));
  if (r.prefill && !r.prompt) throw UsageError("prompt", "is required for the prefill phase");
  if (r.decode && !r.prompt && !r.kv_len) throw UsageError("kv-len", "the decode phase needs --kv-len or --prompt");
  if (r.gen && !r.prompt) throw UsageError("prompt", "is required with --gen");
  return r;
}

void read_precision_options(const po::variables_map& vm, opmodel::Scenario& s) {
  s.group_size = parse_integer("group-size", vm["group-size"].as<std::string>(), 1, opmodel::kMaxGroupSize);
  s.weight_dtype = dtype_option(vm, "wdtype");
  s.act_dtype = dtype_option(vm, "adtype");
  s.kv_dtype = dtype_option(vm, "kvdtype");
  if (vm.count("gemm-input-dtype")) {
    s.gemm_input_dtype = dtype_option(vm, "gemm-input-dtype");
    if (opmodel::is_weight_only(*s.gemm_input_dtype))
      throw UsageError("gemm-input-dtype", fmt::format("{} is a weight format (GEMM inputs take fp32, fp16, bf16, fp8, "
                                                       "int8, int4)", opmodel::to_string(*s.gemm_input_dtype)));
  }
  if (vm.count("attn-dtype")) {
    s.attention_dtype = dtype_option(vm, "attn-dtype");
    const opmodel::DType t = *s.attention_dtype;
    if (opmodel::is_integer(t) || opmodel::is_block_float(t))
      throw UsageError("attn-dtype", fmt::format("{} is not a float dtype attention computes in (fp32, fp16, bf16, "
                                                 "fp8)", opmodel::to_string(t)));
  }

  const std::string attn = vm["attn"].as<std::string>();
  if (attn == "flash") s.attention = opmodel::AttentionImpl::flash;
  else if (attn == "naive") s.attention = opmodel::AttentionImpl::naive;
  else throw UsageError("attn", fmt::format("expected naive or flash, got '{}'", attn));

  try {
    s.fusion = opmodel::parse_fusion(vm["fuse"].as<std::string>());
  } catch (const std::exception& e) {
    throw UsageError("fuse", e.what());
  }
  if (vm.count("module-wdtype")) {
    try {
      s.modules = opmodel::parse_module_weights(vm["module-wdtype"].as<std::string>());
    } catch (const opmodel::ModelError& e) {
      throw UsageError("module-wdtype", e.problem());
    }
  }
  const std::string mla = vm["mla"].as<std::string>();
  if (mla == "naive") s.mla = opmodel::MlaForm::naive;
  else if (mla == "absorbed") s.mla = opmodel::MlaForm::absorbed;
  else if (mla != "auto") throw UsageError("mla", fmt::format("expected naive, absorbed or auto, got '{}'", mla));
  for (auto [option, t] : {std::pair{"adtype", s.act_dtype}, std::pair{"kvdtype", s.kv_dtype}})
    if (opmodel::is_weight_only(t))
      throw UsageError(option, fmt::format("{} is a weight format (activations and the KV cache take fp32, fp16, "
                                           "bf16, fp8, int8, int4)", opmodel::to_string(t)));
}

opmodel::Scenario with_checkpoint_formats(const po::variables_map& vm, const opmodel::ModelConfig& m,
                                          opmodel::Scenario s) {
  if (!vm["wdtype"].defaulted()) return s;  // --wdtype names the format of every projection
  return opmodel::with_stored_weights(m, s, vm["group-size"].defaulted());
}

void add_chart_options(po::options_description& desc) {
  desc.add_options()
      ("compare", po::value<std::string>(), "roofline chart: overlay further profiles: h100-sxm,mi300x,...")
      ("batch-sweep", po::value<std::string>(),
       "roofline chart: add decode points for batch 1, 2, 4 ... N (--batch-sweep N) or\n"
       "for the batches listed (--batch-sweep 1,8,64);\nbatch, memory charts: the largest batch shown (default 256)")
      ("max-context", po::value<std::string>()->default_value("32768"), "context chart: the largest context shown");
}

ExploreSettings chart_settings(const po::variables_map& vm) {
  constexpr std::int64_t kMaxBatch = std::int64_t{1} << 16;
  ExploreSettings c;
  if (vm.count("batch-sweep")) {
    const std::string text = vm["batch-sweep"].as<std::string>();
    if (text.find(',') == std::string::npos) {
      c.sweep_batches = powers_of_two(1, parse_integer("batch-sweep", text, 1, kMaxBatch));
    } else {
      std::stringstream list(text);
      for (std::string item; std::getline(list, item, ',');)
        c.sweep_batches.push_back(parse_integer("batch-sweep", item, 1, kMaxBatch));
      if (text.back() == ',') throw UsageError("batch-sweep", "the list ends with a comma");
      std::sort(c.sweep_batches.begin(), c.sweep_batches.end());
      c.sweep_batches.erase(std::unique(c.sweep_batches.begin(), c.sweep_batches.end()), c.sweep_batches.end());
    }
    c.max_batch = c.sweep_batches.back();
  }
  c.max_context = parse_integer("max-context", vm["max-context"].as<std::string>(), 128, std::int64_t{1} << 24);
  if (vm.count("compare")) {
    std::stringstream list(vm["compare"].as<std::string>());
    for (std::string item; std::getline(list, item, ',');) {
      if (item.empty()) throw UsageError("compare", "empty profile name in the list");
      c.compare.push_back(hardware::build_profile({item, std::nullopt, {}, vm["force"].as<bool>()}));
    }
  }
  return c;
}

void add_measured_options(po::options_description& desc) {
  desc.add_options()
      ("measured-filter", po::value<std::string>(),
       "measured chart: only the rows with these values: phase=decode,batch=1,weight_dtype=fp32 "
       "(keys: op weight_dtype kind phase precision batch q_len kv_len; a repeated key: either value)")
      ("measured-points", po::value<std::string>()->default_value("representative"),
       "measured chart: representative (one step shape per phase: the first weight dtype, the median "
       "batch, the median length at that batch) | all (every row that passes the filter)");
}

MeasuredSelection measured_selection(const po::variables_map& vm, const ValidationFile& v) {
  MeasuredSelection s;
  const std::string points = vm["measured-points"].as<std::string>();
  if (points == "all") s.all = true;
  else if (points != "representative")
    throw UsageError("measured-points", fmt::format("expected representative or all, got '{}'", points));
  if (vm.count("measured-filter")) {
    const std::string text = vm["measured-filter"].as<std::string>();
    try {
      s.filter = parse_measured_filter(text);
    } catch (const std::invalid_argument& e) {
      throw UsageError("measured-filter", e.what());
    }
    if (select_ops(v, s).empty())
      throw UsageError("measured-filter", fmt::format("no op of {} has {}", v.origin, text));
  }
  return s;
}

const std::vector<std::string>& analysis_option_names() {
  static const std::vector<std::string> names = {
      "model", "batch", "prompt", "kv-len", "gen", "phase", "wdtype", "adtype", "kvdtype", "attn-dtype", "gemm-input-dtype", "group-size", "attn",
      "fuse", "all-logits", "strict", "compare", "batch-sweep", "max-context"};
  return names;
}

void reject_given(const po::variables_map& vm, const std::vector<std::string>& options, const std::string& why) {
  for (const auto& o : options)
    if (vm.count(o) && !vm[o].defaulted()) throw UsageError(o, why);
}

po::variables_map parse(int argc, const char* const* argv, const po::options_description& desc) {
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
  return vm;
}

void emit(const std::string& path, const std::string& content) {
  if (path.empty() || path == "-") {
    std::cout << content << std::flush;
    return;
  }
  reports::write_file_atomically(path, content);
}

}  // namespace roofline::cli

namespace roofline::cli {

namespace {

sim::Distribution distribution(const po::variables_map& vm, const char* option) {
  try {
    return sim::parse_distribution(vm[option].as<std::string>(), option);
  } catch (const sim::OptionError& e) {
    throw UsageError(e.option(), e.problem());
  }
}

}  // namespace

sim::Workload generated_workload(const po::variables_map& vm, const char* prompt_option, const char* output_option) {
  constexpr std::int64_t kMaxTokens = sim::kMaxTokens;
  sim::Generator g;
  const std::string rate = vm.count("rate") ? vm["rate"].as<std::string>() : std::string("inf");
  g.rate_per_s = rate == "inf" ? std::numeric_limits<double>::infinity() : parse_number("rate", rate, 1e-9, 1e9);
  if (g.rate_per_s <= 0) throw UsageError("rate", "must be positive");
  g.requests = parse_integer("requests", vm["requests"].as<std::string>(), 1, sim::kMaxRequests);
  g.prompt = distribution(vm, prompt_option);
  g.output = distribution(vm, output_option);
  if (vm.count("prefix-tokens"))
    g.prefix_tokens = parse_integer("prefix-tokens", vm["prefix-tokens"].as<std::string>(), 0, kMaxTokens / 2);
  if (vm.count("prefixes")) g.prefixes = parse_integer("prefixes", vm["prefixes"].as<std::string>(), 1, 1 << 20);
  g.seed = std::uint64_t(
      parse_integer("seed", vm["seed"].as<std::string>(), 0, std::numeric_limits<std::int64_t>::max()));
  return sim::generate(g);
}

bool calibrated_time_model(const po::variables_map& vm) {
  const std::string time_model = vm["time-model"].as<std::string>();
  if (time_model != "bound" && time_model != "calibrated")
    throw UsageError("time-model", fmt::format("expected bound or calibrated, got '{}'", time_model));
  return time_model == "calibrated";
}

void check_draft_options(const po::variables_map& vm) {
  if (!vm.count("draft-model"))
    for (const char* option : {"spec-tokens", "accept-rate"})
      if (!vm[option].defaulted()) throw UsageError(option, "needs --draft-model");
}

sim::KvLink kv_link(const po::variables_map& vm, const hardware::Profile& hw) {
  const std::string text = vm["kv-link"].as<std::string>();
  const auto colon = text.find(':');
  const std::string rate = text.substr(0, colon);
  sim::KvLink link;
  // Line rates per direction: InfiniBand NDR 4x and 400GbE carry 400 Gb/s, HDR 4x and 200GbE 200 Gb/s, 100GbE
  // 100 Gb/s (IBTA and IEEE 802.3 signalling rates; NVIDIA ConnectX-7 datasheet).
  static const std::pair<const char*, double> kNamed[] = {
      {"ib-ndr", 50e9}, {"ib-hdr", 25e9}, {"eth-400g", 50e9}, {"eth-200g", 25e9}, {"eth-100g", 12.5e9}};
  if (rate == "interconnect") {
    if (!hw.interconnect || !hw.interconnect->bytes_per_s_per_direction)
      throw UsageError("kv-link", fmt::format("interconnect: profile {} has no interconnect bandwidth; give a rate "
                                              "in GB/s or a named link (ib-ndr, ib-hdr, eth-400g, eth-200g, eth-100g)",
                                              hw.name));
    link.name = hw.interconnect->name;
    link.bytes_per_s = hw.interconnect->bytes_per_s_per_direction->value;
    if (hw.interconnect->latency_s) link.latency_s = hw.interconnect->latency_s->value;
  } else {
    for (const auto& [name, bytes_per_s] : kNamed)
      if (rate == name) {
        link.name = name;
        link.bytes_per_s = bytes_per_s;
      }
    if (link.name.empty()) {
      link.bytes_per_s = parse_number("kv-link", rate, 1e-3, 1e6) * 1e9;
      link.name = rate + " GB/s";
    }
  }
  if (colon != std::string::npos) link.latency_s = parse_number("kv-link", text.substr(colon + 1), 0, 1);
  return link;
}

}  // namespace roofline::cli
