// One generation with the reference engine, every kernel timed (`roofline run`): the set-up the command line
// gives, and the result as plain data (the tokens, the times, the time per kernel), which present/run_output
// renders without knowing the engine.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/config.hpp"
#include "engine/model.hpp"
#include "engine/sampler.hpp"
#include "engine/weights.hpp"
#include "roofline/validate/engine_setup.hpp"

namespace roofline {

struct EngineRunSetup {
  ConfigText config_text;
  engine::Config config;
  std::string checkpoint;  // empty: seeded random weights
  std::uint64_t seed = 0;  // of the random weights
  engine::WeightOptions weights;
  bool flash = true;                  // tiled online-softmax attention; false: naive (scores in memory)
  bool paged = true;                  // paged KV cache; false: one contiguous region per sequence
  engine::MlaForm mla = engine::MlaForm::automatic;  // MLA models: which form each step runs
  engine::AddNorm add_norm = engine::AddNorm::separate;  // fused: residual adds inside the next RMSNorm
  std::int64_t block_size = 16;       // paged: positions per block
  std::vector<std::vector<std::int32_t>> prompts;  // one per sequence
  std::int64_t gen = 16;              // new tokens per sequence
  engine::SamplerOptions sampler;
  std::optional<std::string> save_weights;  // also write the weights as an HF checkpoint directory
};

// A kernel's time in one phase, summed over layers and calls.
struct KernelTime {
  std::string phase, op;
  std::int64_t calls = 0;
  double seconds = 0;
  double phase_share = 0;  // of the phase's kernel time
};

struct EngineRunReport {
  std::string model;  // where the config came from ("preset tiny", a path)
  std::int64_t layers = 0, dim = 0, heads = 0, kv_heads = 0, vocab_size = 0;
  std::string checkpoint;  // empty: random weights with `seed`
  std::uint64_t seed = 0;
  std::string weight_format, attention, kv_cache;
  int threads = 0;
  std::vector<std::vector<std::int32_t>> tokens;  // [sequence][new token]
  double prefill_s = 0;                           // time to first token
  std::vector<double> decode_step_s;
  double decode_s = 0, decode_tokens_per_s = 0;
  std::vector<KernelTime> kernels;  // per phase, in the order the engine runs them
  std::vector<std::string> warnings;  // a sequence longer than the config's max_position_embeddings
};

// The warnings of a run before it runs: prompts plus generation past the config's max_position_embeddings.
std::vector<std::string> run_warnings(const EngineRunSetup& setup);

// Builds the weights (and saves them when asked), the KV cache and the model, generates, and collects the
// probe's records. Throws engine::EngineError.
EngineRunReport run_engine(const EngineRunSetup& setup);

}  // namespace roofline
