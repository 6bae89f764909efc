// Internal to hardware/: strict reading of a profile's JSON, each figure with its source resolved against the
// file's "sources" map; errors are ProfileError(origin, field, problem).
#pragma once

#include <cmath>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "hardware/error.hpp"
#include "hardware/profile.hpp"

namespace hardware::detail {

using nlohmann::json;

// A figure as the schema writes it: {"value", "source", "note", ...}.
json figure_json(const Figure& f);

// Reading context: the origin for errors and the file's "sources" map for citation keys.
struct Reader {
  const std::string& origin;
  const json* sources = nullptr;

  [[noreturn]] void fail(const std::string& field, const std::string& problem) const {
    throw ProfileError(origin, field, problem);
  }

  const json& object(const json& j, const std::string& field) const {
    if (!j.is_object()) fail(field, fmt::format("must be a JSON object, got {}", j.type_name()));
    return j;
  }

  std::string string(const json& parent, const std::string& key, const std::string& field,
                     bool required) const {
    auto it = parent.find(key);
    if (it == parent.end()) {
      if (required) fail(field, "is required");
      return {};
    }
    if (!it->is_string()) fail(field, fmt::format("must be a string, got {}", it->type_name()));
    return it->get<std::string>();
  }

  double positive(const json& j, const std::string& field) const {
    if (!j.is_number()) fail(field, fmt::format("must be a number, got {}", j.type_name()));
    double v = j.get<double>();
    if (!std::isfinite(v)) fail(field, "must be finite");
    if (v <= 0) fail(field, fmt::format("must be positive, got {}", v));
    return v;
  }

  // j's optional "source": a key of the file's "sources" map is resolved to its text.
  std::string source(const json& j, const std::string& field) const {
    std::string s = string(j, "source", field, false);
    if (sources && sources->contains(s)) s = (*sources)[s].get<std::string>();
    return s;
  }

  // A figure is a bare number, or {"value", "source", "note", "min", "median", "max", "repetitions"}.
  Figure figure(const json& j, const std::string& field) const {
    Figure f;
    if (j.is_number()) {
      f.value = positive(j, field);
      return f;
    }
    if (!j.is_object())
      fail(field, fmt::format("must be a number or an object with \"value\", got {}", j.type_name()));
    for (const auto& [k, v] : j.items()) {
      if (k != "value" && k != "source" && k != "note" && k != "min" && k != "median" &&
          k != "max" && k != "repetitions")
        fail(field + "." + k, "unknown field (expected value, source, note, min, median, max, repetitions)");
    }
    auto value = j.find("value");
    if (value == j.end()) fail(field + ".value", "is required");
    f.value = positive(*value, field + ".value");
    f.source = source(j, field + ".source");
    f.note = string(j, "note", field + ".note", false);
    for (auto [key, slot] : {std::pair{"min", &f.min}, {"median", &f.median}, {"max", &f.max}}) {
      if (auto it = j.find(key); it != j.end()) *slot = positive(*it, field + "." + key);
    }
    if (auto it = j.find("repetitions"); it != j.end()) {
      if (!it->is_number_integer() || it->get<long long>() < 1 || it->get<long long>() > 1'000'000'000)
        fail(field + ".repetitions", "must be a positive integer");
      f.repetitions = it->get<int>();
    }
    return f;
  }

  std::optional<Figure> optional_figure(const json& parent, const std::string& key,
                                        const std::string& field) const {
    auto it = parent.find(key);
    if (it == parent.end() || it->is_null()) return std::nullopt;
    return figure(*it, field);
  }

  MemoryLevel level(const json& j, const std::string& field, bool name_required) const {
    object(j, field);
    for (const auto& [k, v] : j.items())
      if (k != "name" && k != "bytes_per_s" && k != "size_bytes" && k != "capacity_bytes")
        fail(field + "." + k, "unknown field (expected name, bytes_per_s, size_bytes)");
    MemoryLevel m;
    m.name = string(j, "name", field + ".name", name_required);
    m.bytes_per_s = optional_figure(j, "bytes_per_s", field + ".bytes_per_s");
    m.size_bytes = optional_figure(j, "size_bytes", field + ".size_bytes");
    return m;
  }
};

}  // namespace hardware::detail
