// Scenario: what one forward step processes, and how (dtypes, attention implementation, fusions).
// Prefill is q_len = prompt, kv_len = 0; a decode step is q_len = 1, kv_len = tokens cached so far.
#pragma once

#include <cstdint>
#include <string>

#include "opmodel/dtype.hpp"

namespace opmodel {

enum class AttentionImpl {
  naive,  // QK^T scores written to memory, softmax reads and writes them, SV reads them back
  flash,  // one fused kernel: scores stay on chip; Q, K, V read once, O written once
};

struct Fusion {
  bool qkv = false;       // one QKV GEMM: x read once instead of three times
  bool add_norm = false;  // residual add fused into the following RMSNorm: the sum is not re-read
  bool swiglu = false;    // gate, up and SiLU*up in one pass: gate/up outputs never reach memory
};

struct Scenario {
  std::int64_t batch = 1;   // B: sequences
  std::int64_t q_len = 1;   // q: new tokens per sequence this step
  std::int64_t kv_len = 0;  // k: tokens per sequence already in the KV cache before this step
  DType weight_dtype = DType::fp16;
  DType act_dtype = DType::fp16;
  DType kv_dtype = DType::fp16;
  std::int64_t group_size = 128;  // input elements per fp16 scale, for int8/int4 weights
  AttentionImpl attention = AttentionImpl::flash;
  Fusion fusion;
  bool all_logits = false;  // lm_head on every token (else only each sequence's last one)

  std::int64_t tokens() const { return batch * q_len; }  // T = B * q
};

std::string to_string(AttentionImpl a);
std::string to_string(const Fusion& f);  // "qkv,add_norm,swiglu", "none" when empty
// Parses a comma-separated list of qkv, add_norm, swiglu (or "none"); throws ModelError.
Fusion parse_fusion(const std::string& list);

// Checks sizes and limits; throws ModelError("scenario", field, ...).
void validate(const Scenario& s);

}  // namespace opmodel
