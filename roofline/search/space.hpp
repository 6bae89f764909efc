// What `roofline search` chooses among: deployments (aggregated replicas, or a prefill and a decode pool),
// each with its parallel layout, batch limits and number formats, enumerated from a space of knobs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "opmodel/dtype.hpp"
#include "opmodel/model_config.hpp"
#include "roofline/simulate/error.hpp"

namespace roofline::search {

// A search space file or setting at fault: names the file, the key and the value.
class SearchError : public sim::SimError {
 public:
  using SimError::SimError;
};

// Devices of one kind of server: `instances` replicas of tp x pp devices; MoE models may keep experts whole
// over ep = tp devices and run attention data-parallel.
struct Pool {
  int tp = 1, pp = 1, instances = 1;
  int ep = 1;
  bool dp_attention = false;
  int gpus() const { return tp * pp * instances; }
  bool operator==(const Pool&) const = default;
};

struct Deployment {
  bool disaggregated = false;
  Pool serve;   // aggregated: the replicas; disaggregated: the prefill pool (xP)
  Pool decode;  // disaggregated: the decode pool (yD)
  std::int64_t max_batch = 256;    // sequences per step (each pool)
  std::int64_t max_tokens = 2048;  // tokens per step: the chunked scheduler's budget (each pool)
  std::string weights = "checkpoint";  // a weight format name, or the checkpoint's own formats
  opmodel::DType kv = opmodel::DType::fp16;
  bool speculate = false;  // with the draft the search was given
  int gpus() const { return serve.gpus() + (disaggregated ? decode.gpus() : 0); }
  bool operator==(const Deployment&) const = default;
};
// "4x tp2" / "1x tp8 ep8 dp-attn"; a deployment: "agg 4x tp2 | batch 128 | tokens 2048 | w fp8 | kv fp16" or
// "disagg 2x tp2 + 1x tp4 | ...".
std::string describe(const Pool& p);
std::string describe(const Deployment& d);
// The knobs on which two deployments differ ("layout" (tp, pp, instances), "experts", "batch", "tokens",
// "weights", "kv", "speculation", "mode"; pools prefixed "prefill " and "decode "), for naming neighbours.
std::vector<std::string> differences(const Deployment& a, const Deployment& b);

// The knobs to enumerate. Lists are tried in full; an empty list takes the default shown.
struct Space {
  std::vector<int> tp;                      // {1, 2, 4, 8} up to the devices
  std::vector<int> pp;                      // {1, 2, 4} (aggregated only; pools are pp 1)
  std::vector<std::int64_t> max_batch;      // {16, 32, 64, 128, 256}
  std::vector<std::int64_t> max_tokens;     // {2048, 8192}
  std::vector<std::string> weights;         // {"checkpoint"} and fp8 where the part computes it
  std::vector<opmodel::DType> kv;           // the activations' format, and fp8
  bool aggregated = true, disaggregated = true;
  bool all_replica_counts = false;          // replicas 1 .. N / (tp pp), else only the most that fit (pools:
                                            // splits where neither pool could take another instance)
  bool expert_parallel = true;              // MoE: also ep = tp, and ep = tp with DP attention
  bool speculation = true;                  // with a draft: with and without it
};

// The space a --space JSON file gives (keys as Space's, snake_case; "weights" and "kv" by format name), over
// the defaults. Throws SearchError naming the file, the key and the value.
Space parse_space(const nlohmann::json& j, const std::string& origin);

struct SpaceContext {
  int gpus = 8;
  bool moe = false;
  bool fp8_compute = false;              // the part has an fp8 peak: fp8 weights are tried by default
  opmodel::DType act = opmodel::DType::fp16;
  bool checkpoint_quantized = false;     // the checkpoint's weights are below 16 bits: no fp8 by default
  bool draft = false;
};
// Every deployment of the space on at most ctx.gpus devices, in a fixed order (aggregated first), with each
// run of max_batch values adjacent and ascending (what the search's reuse of identical runs relies on). Throws
// SearchError when there would be more than kMaxCandidates.
inline constexpr std::int64_t kMaxCandidates = 1'000'000;
std::vector<Deployment> enumerate(const Space& space, const SpaceContext& ctx);

}  // namespace roofline::search
