#include "opmodel/scenario.hpp"

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
  check("group_size", s.group_size, 1, kMaxTokens);
  if (s.kv_len + s.q_len > kMaxTokens)
    throw ModelError("scenario", "kv_len",
                     fmt::format("context kv_len + q_len = {} exceeds {}", s.kv_len + s.q_len, kMaxTokens));
}

}  // namespace opmodel
