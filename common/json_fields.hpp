// Strict reading of a JSON object's fields (a Hugging Face config.json, a nested object of one): each getter
// checks the type and range and throws Error(origin, field, problem) naming the field and the value found.
// A null field counts as absent, as transformers reads it. Error is the reader's own typed error
// (opmodel::ModelError, engine::EngineError): opmodel and the engine share these rules, not their fields.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace common {

// Largest accepted dimension: keeps every product of a few sizes well inside int64 and double's exact range.
inline constexpr std::int64_t kMaxDim = std::int64_t{1} << 31;

template <class Error>
struct JsonFields {
  const nlohmann::json& j;
  const std::string& origin;

  [[noreturn]] void fail(const std::string& field, const std::string& problem) const {
    throw Error(origin, field, problem);
  }
  const nlohmann::json* find(const nlohmann::json& obj, const char* key) const {
    auto it = obj.find(key);
    return (it == obj.end() || it->is_null()) ? nullptr : &*it;
  }
  const nlohmann::json* find(const char* key) const { return find(j, key); }
  // A dimension: an integer in [1, kMaxDim].
  std::int64_t dim(const char* key, const nlohmann::json& v) const {
    if (!v.is_number_integer()) fail(key, fmt::format("must be a positive integer, got {}", v.dump()));
    if (v.is_number_unsigned() ? (v.get<std::uint64_t>() < 1 || v.get<std::uint64_t>() > std::uint64_t(kMaxDim))
                               : (v.get<std::int64_t>() < 1 || v.get<std::int64_t>() > kMaxDim))
      fail(key, fmt::format("must be in [1, {}], got {}", kMaxDim, v.dump()));
    return v.get<std::int64_t>();
  }
  std::optional<std::int64_t> optional_dim(const nlohmann::json& obj, const char* key) const {
    const nlohmann::json* v = find(obj, key);
    return v ? std::optional(dim(key, *v)) : std::nullopt;
  }
  std::optional<std::int64_t> optional_dim(const char* key) const { return optional_dim(j, key); }
  std::int64_t required_dim(const char* key) const {
    const auto v = optional_dim(key);
    if (!v) fail(key, "is required");
    return *v;
  }
  // A count: an integer in [0, kMaxDim] (a number of layers or experts that may be none).
  std::int64_t count(const nlohmann::json& obj, const char* key, std::int64_t fallback) const {
    const nlohmann::json* v = find(obj, key);
    if (!v) return fallback;
    if (!v->is_number_integer() || (v->is_number_unsigned() ? v->get<std::uint64_t>() > std::uint64_t(kMaxDim)
                                                            : v->get<std::int64_t>() < 0 || v->get<std::int64_t>() > kMaxDim))
      fail(key, fmt::format("must be an integer in [0, {}], got {}", kMaxDim, v->dump()));
    return v->get<std::int64_t>();
  }
  // A finite number >= 0.
  double non_negative(const nlohmann::json& obj, const char* key, double fallback) const {
    const nlohmann::json* v = find(obj, key);
    if (!v) return fallback;
    if (!v->is_number() || !(v->get<double>() >= 0) || !std::isfinite(v->get<double>()))
      fail(key, fmt::format("must be a number >= 0, got {}", v->dump()));
    return v->get<double>();
  }
  bool flag(const char* key, bool fallback) const {
    const nlohmann::json* v = find(key);
    if (!v) return fallback;
    if (!v->is_boolean()) fail(key, fmt::format("must be true or false, got {}", v->dump()));
    return v->get<bool>();
  }
  // A finite number > 0.
  double positive(const nlohmann::json& obj, const char* key, double fallback) const {
    const nlohmann::json* v = find(obj, key);
    if (!v) return fallback;
    if (!v->is_number() || !(v->get<double>() > 0) || !std::isfinite(v->get<double>()))
      fail(key, fmt::format("must be a positive number, got {}", v->dump()));
    return v->get<double>();
  }
  double positive(const char* key, double fallback) const { return positive(j, key, fallback); }
  std::string text(const nlohmann::json& obj, const char* key) const {
    const nlohmann::json* v = find(obj, key);
    if (!v) return {};
    if (!v->is_string()) fail(key, fmt::format("must be a string, got {}", v->dump()));
    return v->get<std::string>();
  }
  std::string text(const char* key) const { return text(j, key); }
};

}  // namespace common
