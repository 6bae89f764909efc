// Probe: records every kernel call as {op name, layer, phase, shape, nanoseconds}. When the model has no
// probe, no clock is read: the cost is one pointer test per kernel call.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>
#include <vector>

namespace engine {

enum class Phase { prefill, decode };
inline std::string_view to_string(Phase p) { return p == Phase::prefill ? "prefill" : "decode"; }

struct KernelRecord {
  std::string_view op;   // one of engine::op (op_names.hpp)
  std::int64_t layer = -1;  // -1 for embed, final_norm and lm_head
  Phase phase = Phase::prefill;
  std::int64_t batch = 0;   // sequences in the step
  std::int64_t q_len = 0;   // new tokens per sequence (the longest, for unequal sequences)
  std::int64_t kv_len = 0;  // tokens cached per sequence before the step (the longest)
  std::int64_t tokens = 0;  // rows the kernel processed (sum of new tokens; sequences for lm_head)
  std::int64_t experts = 0;  // MoE expert_* ops: the distinct experts the step routed tokens to (their weights read)
  std::int64_t ns = 0;
};

struct Probe {
  std::vector<KernelRecord> records;
};

// Times f() into the probe, if there is one.
template <class F>
inline void timed(Probe* probe, const KernelRecord& what, F&& f) {
  if (!probe) {
    f();
    return;
  }
  const auto t0 = std::chrono::steady_clock::now();
  f();
  const auto t1 = std::chrono::steady_clock::now();
  KernelRecord r = what;
  r.ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count();
  probe->records.push_back(r);
}

}  // namespace engine
