// Helpers the engine's test files share: seeded random vectors, a float comparison with relative and absolute
// tolerances, and the op names the engine times against those opmodel counts for the same config.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/config.hpp"
#include "engine/error.hpp"
#include "engine/generate.hpp"
#include "engine/model.hpp"
#include "engine/weights.hpp"
#include "opmodel/model_config.hpp"
#include "opmodel/scenario.hpp"
#include "opmodel/step_ops.hpp"

// n values uniform in [-scale, scale), from `seed`.
inline std::vector<float> random_vector(std::size_t n, unsigned seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-scale, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

// Largest |a - b| / (tol_abs + tol_rel * |b|) must stay <= 1.
inline void expect_close(const std::vector<float>& got, const std::vector<float>& want, double rel, double abs_tol,
                         const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i)
    ASSERT_LE(std::fabs(double(got[i]) - double(want[i])), abs_tol + rel * std::fabs(double(want[i])))
        << what << " at " << i << ": got " << got[i] << ", want " << want[i];
}

// What engine::parse_config says of json_text read as `origin`: the EngineError's message, or "no error".
inline std::string config_error(const std::string& json_text, const std::string& origin) {
  try {
    engine::parse_config(json_text, origin);
  } catch (const engine::EngineError& e) {
    return e.what();
  }
  return "no error";
}
// The same for the config `base` with the JSON merge patch `edit` applied.
inline std::string patched_config_error(const std::string& base, const std::string& edit, const std::string& origin) {
  nlohmann::json j = nlohmann::json::parse(base);
  j.merge_patch(nlohmann::json::parse(edit));
  return config_error(j.dump(), origin);
}

// The op names the engine times generating `gen` tokens after a 3-token prompt (a prefill and gen - 1 decode
// steps), and the names opmodel lists for one step of the same model under `s` (the engine fuses its residual adds
// where s does).
struct TimedAndCounted {
  std::set<std::string> timed, counted;
  std::vector<engine::KernelRecord> records;
};
inline TimedAndCounted timed_and_counted(const engine::Weights& w, const opmodel::ModelConfig& m,
                                         engine::AttentionKind kind, const opmodel::Scenario& s, std::int64_t gen) {
  const engine::Config& c = w.config;
  engine::Model model(w, kind, engine::MlaForm::automatic,
                      s.fusion.add_norm ? engine::AddNorm::fused : engine::AddNorm::separate);
  engine::KvCache cache(c.n_layers, engine::KvRowDims{c.cache_k_dim(), c.cache_v_dim()}, 16, 64);
  engine::Probe probe;
  engine::generate(model, cache, {{1, 2, 3}}, gen, {}, &probe);
  TimedAndCounted r;
  for (const auto& rec : probe.records) r.timed.insert(std::string(rec.op));
  r.records = probe.records;
  opmodel::OpList ops;
  opmodel::step_ops(m, s, ops);
  for (const auto& op : ops) r.counted.insert(std::string(op.name));
  return r;
}
