#include "opmodel/scenario.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "opmodel/error.hpp"

namespace opmodel {

std::string to_string(AttentionImpl a) { return a == AttentionImpl::flash ? "flash" : "naive"; }

std::string to_string(const Fusion& f) {
  std::string s;
  auto add = [&](bool on, const char* name) {
    if (!on) return;
    if (!s.empty()) s += ',';
    s += name;
  };
  add(f.qkv, "qkv");
  add(f.add_norm, "add_norm");
  add(f.swiglu, "swiglu");
  return s.empty() ? "none" : s;
}

Fusion parse_fusion(const std::string& list) {
  Fusion f;
  if (list.empty() || list == "none") return f;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t comma = list.find(',', start);
    std::string item = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item == "qkv") f.qkv = true;
    else if (item == "add_norm") f.add_norm = true;
    else if (item == "swiglu") f.swiglu = true;
    else if (item == "all") f.qkv = f.add_norm = f.swiglu = true;
    else
      throw ModelError("scenario", "fuse",
                       fmt::format("unknown fusion '{}' (known: qkv, add_norm, swiglu, all, none)", item));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return f;
}

std::string to_string(MlaForm f) {
  return f == MlaForm::naive ? "naive" : f == MlaForm::absorbed ? "absorbed" : "auto";
}

ModuleWeights parse_module_weights(const std::string& list) {
  ModuleWeights m;
  std::size_t start = 0;
  while (start < list.size()) {
    const std::size_t comma = std::min(list.find(',', start), list.size());
    const std::string item = list.substr(start, comma - start);
    const std::size_t eq = item.find('=');
    const std::string group = item.substr(0, eq);
    const auto dtype = eq == std::string::npos ? std::nullopt : parse_dtype(item.substr(eq + 1));
    if (!dtype)
      throw ModelError("scenario", "module-wdtype",
                       fmt::format("'{}' is not GROUP=DTYPE (groups: attention, mlp, experts; dtypes: {})", item,
                                   kDTypeNames));
    if (group == "attention") m.attention = dtype;
    else if (group == "mlp") m.mlp = dtype;
    else if (group == "experts") m.experts = dtype;
    else throw ModelError("scenario", "module-wdtype", fmt::format("unknown group '{}' (attention, mlp, experts)", group));
    start = comma + 1;
  }
  if (list.empty() || list.back() == ',')
    throw ModelError("scenario", "module-wdtype", fmt::format("'{}' has an empty item", list));
  return m;
}

std::string describe_weights(const Scenario& s) {
  const DType a = s.attention_weights(), m = s.mlp_weights(), e = s.expert_weights();
  if (a == m && m == e) return std::string(to_string(a));
  return fmt::format("attention {}, mlp {}, experts {}", to_string(a), to_string(m), to_string(e));
}

Scenario with_stored_weights(const ModelConfig& m, Scenario s, bool group_from_checkpoint) {
  if (!s.modules.attention) s.modules.attention = m.stored.attention;
  if (!s.modules.mlp) s.modules.mlp = m.stored.mlp;
  if (!s.modules.experts) s.modules.experts = m.stored.experts;
  if (group_from_checkpoint && m.stored.group_size > 0) s.group_size = m.stored.group_size;
  return s;
}

void validate(const Scenario& s) {
  // Limits keep every count below 2^53, where doubles are exact integers, for any preset model.
  constexpr std::int64_t kMaxBatch = std::int64_t{1} << 20, kMaxTokens = std::int64_t{1} << 24;
  auto check = [](const char* field, std::int64_t v, std::int64_t lo, std::int64_t hi) {
    if (v < lo || v > hi)
      throw ModelError("scenario", field, fmt::format("must be in [{}, {}], got {}", lo, hi, v));
  };
  check("batch", s.batch, 1, kMaxBatch);
  check("q_len", s.q_len, 1, kMaxTokens);
  check("kv_len", s.kv_len, 0, kMaxTokens);
  check("group_size", s.group_size, 1, kMaxGroupSize);
  for (auto [field, t] : {std::pair{"act_dtype", s.act_dtype}, std::pair{"kv_dtype", s.kv_dtype}})
    if (is_weight_only(t))
      throw ModelError("scenario", field, fmt::format("{} is a weight format (activations and the KV cache take "
                                                      "fp32, fp16, bf16, fp8, int8, int4)", to_string(t)));
  if (s.attention_dtype && (is_integer(*s.attention_dtype) || is_weight_only(*s.attention_dtype) ||
                            is_block_float(*s.attention_dtype)))
    throw ModelError("scenario", "attention_dtype",
                     fmt::format("{} is not a float dtype attention computes in (fp32, fp16, bf16, fp8)",
                                 to_string(*s.attention_dtype)));
  if (s.gemm_input_dtype && is_weight_only(*s.gemm_input_dtype))
    throw ModelError("scenario", "gemm_input_dtype",
                     fmt::format("{} is a weight format (GEMM inputs take fp32, fp16, bf16, fp8, int8, int4)",
                                 to_string(*s.gemm_input_dtype)));
  if (s.kv_len + s.q_len > kMaxTokens)
    throw ModelError("scenario", "kv_len",
                     fmt::format("context kv_len + q_len = {} exceeds {}", s.kv_len + s.q_len, kMaxTokens));
}

}  // namespace opmodel
