// quantization_config: the weight formats a checkpoint declares, per module.
//   fp8 (DeepSeek-V3, Qwen3-FP8): e4m3 weights, with weight_block_size [128, 128]: fp8_block; else per-tensor fp8.
//   mxfp4 (GPT-OSS): MXFP4, except the modules_to_not_convert.
//   modelopt (NVIDIA ModelOpt): quant_algo NVFP4 or FP8, except the exclude_modules.
//   gptq, awq: int4/int8 (bits) with group_size scales.
// Modules: attention (self_attn, linear attention), routed experts, and the dense/shared MLPs. The embedding,
// norms, routers and lm_head stay unquantized in all of them (their exclusion lists name them, or the method never
// converts them).
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "opmodel/model_families.hpp"

namespace opmodel::family {
namespace {

using nlohmann::json;

std::vector<std::string> string_list(const Reader& r, const json& q, const char* key) {
  std::vector<std::string> out;
  auto it = q.find(key);
  if (it == q.end() || it->is_null()) return out;
  if (!it->is_array()) r.fail(std::string("quantization_config.") + key, fmt::format("must be a list, got {}", it->dump()));
  for (const json& v : *it) {
    if (!v.is_string()) r.fail(std::string("quantization_config.") + key, fmt::format("must list names, got {}", v.dump()));
    out.push_back(v.get<std::string>());
  }
  return out;
}

bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }
bool names_whole_mlp(const std::string& p) {
  return p.ends_with(".mlp") || p.ends_with(".mlp.*") || p.ends_with("mlp");
}

// Sets the three module groups to f, except those the exclusion patterns name.
void convert(ModuleFormats& m, DType f, const std::vector<std::string>& excluded) {
  bool attention = true, experts = true, mlp = true;
  for (const std::string& p : excluded) {
    if (contains(p, "attn") || contains(p, "linear_attn")) attention = false;
    if (contains(p, "experts") && !contains(p, "shared_expert")) experts = false;
    if (contains(p, "shared_expert")) mlp = false;
    if (names_whole_mlp(p)) experts = mlp = false;
  }
  if (attention) m.attention = f;
  if (experts) m.experts = f;
  if (mlp) m.mlp = f;
}

}  // namespace

ModuleFormats read_quantization(const Reader& r) {
  ModuleFormats m;
  const json* q = r.find("quantization_config");
  if (!q) return m;
  if (!q->is_object()) r.fail("quantization_config", fmt::format("must be an object, got {}", q->dump()));
  const Reader qr{*q, r.origin};
  const std::string method = qr.text("quant_method");
  auto fail = [&](const std::string& field, const std::string& problem) {
    r.fail("quantization_config." + field, problem);
  };
  if (method == "fp8") {
    DType f = DType::fp8;
    if (const json* b = qr.find("weight_block_size")) {
      if (*b != json::array({128, 128}))
        fail("weight_block_size", fmt::format("{} is not modelled (128x128 blocks are)", b->dump()));
      f = DType::fp8_block;
    }
    if (const std::string fmt_name = qr.text("fmt"); !fmt_name.empty() && fmt_name != "e4m3" && fmt_name != "e5m2")
      fail("fmt", fmt::format("'{}' is not an fp8 format (e4m3, e5m2)", fmt_name));
    std::vector<std::string> excluded = string_list(r, *q, "modules_to_not_convert");
    for (auto& s : string_list(r, *q, "ignored_layers")) excluded.push_back(s);
    convert(m, f, excluded);
  } else if (method == "mxfp4") {
    convert(m, DType::mxfp4, string_list(r, *q, "modules_to_not_convert"));
  } else if (method == "modelopt") {
    const std::string algo = qr.text("quant_algo");
    if (algo != "NVFP4" && algo != "FP8")
      fail("quant_algo", fmt::format("'{}' is not modelled (NVFP4, FP8 are)", algo));
    convert(m, algo == "NVFP4" ? DType::nvfp4 : DType::fp8, string_list(r, *q, "exclude_modules"));
  } else if (method == "gptq" || method == "awq") {
    const json* bits = qr.find("bits");
    if (!bits) bits = qr.find("w_bit");
    if (!bits || !bits->is_number_integer() || (bits->get<int>() != 4 && bits->get<int>() != 8))
      fail("bits", fmt::format("must be 4 or 8, got {}", bits ? bits->dump() : "nothing"));
    const json* g = qr.find("group_size");
    if (!g) g = qr.find("q_group_size");
    if (g && (!g->is_number_integer() || g->get<std::int64_t>() > kMaxGroupSize ||
              (g->get<std::int64_t>() < 1 && g->get<std::int64_t>() != -1)))
      fail("group_size", fmt::format("must be an integer in [1, {}] or -1, got {}", kMaxGroupSize, g->dump()));
    m.group_size = g ? g->get<std::int64_t>() : 0;
    if (m.group_size == -1) m.group_size = kMaxGroupSize;  // one scale per row
    convert(m, bits->get<int>() == 4 ? DType::int4 : DType::int8, string_list(r, *q, "modules_to_not_convert"));
  } else {
    fail("quant_method", fmt::format("'{}' is not modelled (fp8, mxfp4, modelopt, gptq, awq are; or give the "
                                     "formats with --wdtype / --module-wdtype and drop quantization_config)",
                                     method));
  }
  return m;
}

}  // namespace opmodel::family
