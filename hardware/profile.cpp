#include "hardware/profile.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "common/text_file.hpp"
#include "hardware/error.hpp"
#include "hardware/figure_reader.hpp"

namespace hardware {

using nlohmann::json;
using detail::figure_json;
using detail::Reader;

json detail::figure_json(const Figure& f) {
  json j = {{"value", f.value}};
  if (!f.source.empty()) j["source"] = f.source;
  if (!f.note.empty()) j["note"] = f.note;
  if (f.min) j["min"] = *f.min;
  if (f.median) j["median"] = *f.median;
  if (f.max) j["max"] = *f.max;
  if (f.repetitions) j["repetitions"] = *f.repetitions;
  return j;
}

double Profile::require_peak(Precision p) const {
  if (const auto& f = peak(p)) return f->value;
  std::vector<std::string_view> have;
  for (Precision q : precisions()) have.push_back(to_string(q));
  throw ProfileError(origin.empty() ? name : origin, "peak_flops_per_s." + std::string(to_string(p)),
                     fmt::format("'{}' has no peak for {} (it has: {})", name, to_string(p), fmt::join(have, ", ")));
}

std::optional<double> Profile::capacity_bytes() const {
  if (memory.size_bytes) return memory.size_bytes->value;
  return std::nullopt;
}

std::vector<Precision> Profile::precisions() const {
  std::vector<Precision> out;
  for (Precision p : kAllPrecisions)
    if (peak(p)) out.push_back(p);
  return out;
}

Profile parse_profile(const json& j, const std::string& origin) {
  Reader r{origin};
  r.object(j, "");
  static const char* const known[] = {"schema_version", "name",   "description", "kind",
                                      "sources",        "peak_flops_per_s", "sparse_peak_flops_per_s", "memory", "caches",
                                      "interconnect",   "provenance", "calibration", "efficiency"};
  for (const auto& [k, v] : j.items()) {
    bool ok = k.starts_with("_");  // "_comment" and the like
    for (const char* n : known) ok = ok || k == n;
    if (!ok) r.fail(k, "unknown field");
  }
  if (auto it = j.find("schema_version"); it != j.end() && *it != 1)
    r.fail("schema_version", fmt::format("unsupported version {} (this build reads 1)", it->dump()));

  if (auto it = j.find("sources"); it != j.end()) {
    r.object(*it, "sources");
    for (const auto& [k, v] : it->items())
      if (!v.is_string()) r.fail("sources." + k, "must be a string");
    r.sources = &*it;
  }

  Profile p;
  p.origin = origin;
  p.name = r.string(j, "name", "name", true);
  if (p.name.empty()) r.fail("name", "must not be empty");
  p.description = r.string(j, "description", "description", false);
  p.kind = r.string(j, "kind", "kind", false);

  auto peaks = j.find("peak_flops_per_s");
  if (peaks == j.end()) r.fail("peak_flops_per_s", "is required");
  r.object(*peaks, "peak_flops_per_s");
  for (const auto& [k, v] : peaks->items()) {
    auto prec = parse_precision(k);
    if (!prec)
      r.fail("peak_flops_per_s." + k, "unknown precision (known: fp64, fp32, tf32, fp16, bf16, fp8, int8, int4, fp6, fp4)");
    if (v.is_null()) continue;
    p.peak_flops_per_s[static_cast<std::size_t>(*prec)] = r.figure(v, "peak_flops_per_s." + k);
  }
  if (p.precisions().empty()) r.fail("peak_flops_per_s", "needs at least one precision");
  if (auto sparse = j.find("sparse_peak_flops_per_s"); sparse != j.end()) {
    r.object(*sparse, "sparse_peak_flops_per_s");
    for (const auto& [k, v] : sparse->items()) {
      const std::string field = "sparse_peak_flops_per_s." + k;
      auto prec = parse_precision(k);
      if (!prec) r.fail(field, "unknown precision (known: fp64, fp32, tf32, fp16, bf16, fp8, int8, int4, fp6, fp4)");
      if (v.is_null()) continue;
      const Figure f = r.figure(v, field);
      const auto& dense = p.peak(*prec);
      if (!dense) r.fail(field, fmt::format("has no dense peak_flops_per_s.{} beside it", k));
      if (f.value < dense->value)
        r.fail(field, fmt::format("{:g} is below the dense peak {:g}: a sparse figure entered as dense, or the "
                                  "reverse", f.value, dense->value));
      p.sparse_peak_flops_per_s[static_cast<std::size_t>(*prec)] = f;
    }
  }

  auto mem = j.find("memory");
  if (mem == j.end()) r.fail("memory", "is required");
  r.object(*mem, "memory");
  p.memory = r.level(*mem, "memory", false);
  if (auto cap = r.optional_figure(*mem, "capacity_bytes", "memory.capacity_bytes")) {
    if (p.memory.size_bytes) r.fail("memory.capacity_bytes", "give capacity_bytes or size_bytes, not both");
    p.memory.size_bytes = cap;
  }
  if (!p.memory.bytes_per_s) r.fail("memory.bytes_per_s", "is required");

  if (auto it = j.find("caches"); it != j.end()) {
    if (!it->is_array()) r.fail("caches", "must be an array");
    for (std::size_t i = 0; i < it->size(); ++i)
      p.caches.push_back(r.level((*it)[i], fmt::format("caches[{}]", i), true));
  }

  if (auto it = j.find("interconnect"); it != j.end() && !it->is_null()) {
    r.object(*it, "interconnect");
    for (const auto& [k, v] : it->items())
      if (k != "name" && k != "bytes_per_s_per_direction" && k != "latency_s" && k != "note" &&
          k != "allreduce_bus_efficiency" && k != "allreduce_small_s" && k != "alltoall_bus_efficiency" &&
          k != "alltoall_small_s")
        r.fail("interconnect." + k, "unknown field (expected name, bytes_per_s_per_direction, latency_s, "
                                    "allreduce_bus_efficiency, allreduce_small_s, alltoall_bus_efficiency, "
                                    "alltoall_small_s, note)");
    Interconnect ic;
    ic.name = r.string(*it, "name", "interconnect.name", false);
    ic.bytes_per_s_per_direction = r.optional_figure(*it, "bytes_per_s_per_direction",
                                                     "interconnect.bytes_per_s_per_direction");
    ic.latency_s = r.optional_figure(*it, "latency_s", "interconnect.latency_s");
    // A collective's attained fraction of the link, at most `most` (why: the message when it is above).
    auto fraction = [&](const char* key, double most, const char* why) {
      const std::string field = std::string("interconnect.") + key;
      auto f = r.optional_figure(*it, key, field);
      if (f && f->value > most) r.fail(field + ".value", fmt::format("{} is no attained fraction ({})", f->value, why));
      return f;
    };
    ic.allreduce_bus_efficiency =
        fraction("allreduce_bus_efficiency", 1.2, "in-network reduction reaches about 1.1 at most");
    ic.allreduce_small_s = r.optional_figure(*it, "allreduce_small_s", "interconnect.allreduce_small_s");
    ic.alltoall_bus_efficiency = fraction("alltoall_bus_efficiency", 1, "an all-to-all cannot beat the link");
    ic.alltoall_small_s = r.optional_figure(*it, "alltoall_small_s", "interconnect.alltoall_small_s");
    ic.note = r.string(*it, "note", "interconnect.note", false);
    p.interconnect = ic;
  }

  if (auto it = j.find("provenance"); it != j.end() && !it->is_null()) {
    r.object(*it, "provenance");
    p.provenance = std::make_shared<const json>(*it);
  }
  if (auto it = j.find("calibration"); it != j.end() && !it->is_null()) p.calibration = parse_calibration(*it, origin);
  if (auto it = j.find("efficiency"); it != j.end() && !it->is_null()) {
    p.efficiency = parse_efficiency(*it, origin, r.sources);
    p.shipped = shipped_calibration(*p.efficiency, p.name);
  }
  return p;
}

namespace {

struct Range {
  double lo, hi;
  const char* unit;
};
constexpr Range kPeak{1e6, 1e18, "FLOP/s"}, kBandwidth{1e6, 1e15, "B/s"}, kSize{1, 1e15, "B"}, kLatency{1e-10, 10, "s"};

void check_figure(const Profile& p, const std::optional<Figure>& f, const std::string& field, const Range& r) {
  if (!f || (f->value >= r.lo && f->value <= r.hi)) return;
  throw ProfileError(p.origin.empty() ? p.name : p.origin, field + ".value",
                     fmt::format("{:g} {} is outside the plausible range [{:g}, {:g}] {} (--force accepts it)",
                                 f->value, r.unit, r.lo, r.hi, r.unit));
}

}  // namespace

void check_plausible(const Profile& p) {
  for (Precision q : p.precisions())
    check_figure(p, p.peak(q), fmt::format("peak_flops_per_s.{}", to_string(q)), kPeak);
  check_figure(p, p.memory.bytes_per_s, "memory.bytes_per_s", kBandwidth);
  check_figure(p, p.memory.size_bytes, "memory.capacity_bytes", kSize);
  for (std::size_t i = 0; i < p.caches.size(); ++i) {
    check_figure(p, p.caches[i].bytes_per_s, fmt::format("caches[{}].bytes_per_s", i), kBandwidth);
    check_figure(p, p.caches[i].size_bytes, fmt::format("caches[{}].size_bytes", i), kSize);
  }
  if (p.interconnect) {
    check_figure(p, p.interconnect->bytes_per_s_per_direction, "interconnect.bytes_per_s_per_direction", kBandwidth);
    check_figure(p, p.interconnect->latency_s, "interconnect.latency_s", kLatency);
  }
}

Profile parse_profile_text(const std::string& text, const std::string& origin) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number overflow
    throw ProfileError(origin, "", fmt::format("malformed JSON: {}", e.what()));
  }
  return parse_profile(j, origin);
}

Profile load_profile_file(const std::string& path) {
  const auto text = common::read_text_file(path);
  if (!text) throw ProfileError(path, "", common::unreadable_reason(path));
  return parse_profile_text(*text, path);
}

json to_json(const Profile& p) {
  json j;
  j["schema_version"] = 1;
  j["name"] = p.name;
  if (!p.description.empty()) j["description"] = p.description;
  if (!p.kind.empty()) j["kind"] = p.kind;
  json peaks = json::object();
  for (Precision q : p.precisions()) peaks[std::string(to_string(q))] = figure_json(*p.peak(q));
  j["peak_flops_per_s"] = peaks;
  json sparse = json::object();
  for (Precision q : kAllPrecisions)
    if (const auto& f = p.sparse_peak_flops_per_s[static_cast<std::size_t>(q)])
      sparse[std::string(to_string(q))] = figure_json(*f);
  if (!sparse.empty()) j["sparse_peak_flops_per_s"] = sparse;
  auto level_json = [](const MemoryLevel& m, const char* size_key) {
    json l = json::object();
    if (!m.name.empty()) l["name"] = m.name;
    if (m.bytes_per_s) l["bytes_per_s"] = figure_json(*m.bytes_per_s);
    if (m.size_bytes) l[size_key] = figure_json(*m.size_bytes);
    return l;
  };
  j["memory"] = level_json(p.memory, "capacity_bytes");
  if (!p.caches.empty()) {
    json caches = json::array();
    for (const auto& c : p.caches) caches.push_back(level_json(c, "size_bytes"));
    j["caches"] = caches;
  }
  if (p.interconnect) {
    json ic = json::object();
    if (!p.interconnect->name.empty()) ic["name"] = p.interconnect->name;
    if (p.interconnect->bytes_per_s_per_direction)
      ic["bytes_per_s_per_direction"] = figure_json(*p.interconnect->bytes_per_s_per_direction);
    if (p.interconnect->latency_s) ic["latency_s"] = figure_json(*p.interconnect->latency_s);
    if (p.interconnect->allreduce_bus_efficiency)
      ic["allreduce_bus_efficiency"] = figure_json(*p.interconnect->allreduce_bus_efficiency);
    if (p.interconnect->allreduce_small_s) ic["allreduce_small_s"] = figure_json(*p.interconnect->allreduce_small_s);
    if (p.interconnect->alltoall_bus_efficiency)
      ic["alltoall_bus_efficiency"] = figure_json(*p.interconnect->alltoall_bus_efficiency);
    if (p.interconnect->alltoall_small_s) ic["alltoall_small_s"] = figure_json(*p.interconnect->alltoall_small_s);
    if (!p.interconnect->note.empty()) ic["note"] = p.interconnect->note;
    j["interconnect"] = ic;
  }
  if (p.provenance) j["provenance"] = *p.provenance;
  if (p.calibration) j["calibration"] = to_json(*p.calibration);
  if (p.efficiency) j["efficiency"] = to_json(*p.efficiency);
  return j;
}

}  // namespace hardware
